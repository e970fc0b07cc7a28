"""Save and load fitted models without pickle.

A model file is a NumPy ``.npz`` archive: every array of the model is one
member, and the member ``__header__`` holds a JSON document with the class
name, the constructor parameters, how to rebuild each fitted attribute, the
file format version and a SHA-256 checksum over the header and all arrays.
Loading uses ``allow_pickle=False`` and only instantiates lvm's own classes,
so a model file can be opened safely; a truncated or altered file is refused
with :class:`~lvm.exceptions.ModelFileError`.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import ModelFileError

FORMAT = "lvm-model"
FORMAT_VERSION = 1
_HEADER = "__header__"


class _Encoder:
    """Turns Python/NumPy/pandas values into JSON specs plus named arrays."""

    def __init__(self):
        self.arrays = {}

    def _array(self, value):
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return key

    def encode(self, value):
        import pandas as pd

        if value is None:
            return {"kind": "none"}
        if isinstance(value, (bool, int, float, str)):
            return {"kind": "json", "value": value}
        if isinstance(value, np.generic):
            return {"kind": "scalar", "key": self._array(np.asarray(value))}
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                if not all(isinstance(v, str) for v in value.ravel()):
                    raise TypeError("cannot save an object array holding non-strings")
                return {"kind": "strings", "key": self._array(value.astype(str))}
            return {"kind": "array", "key": self._array(value)}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {"kind": kind, "items": [self.encode(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"kind": "dict", "items": {k: self.encode(v) for k, v in value.items()}}
        if isinstance(value, pd.DataFrame):
            return {
                "kind": "dataframe",
                "values": self.encode(value.to_numpy()),
                # A numeric index (an epoch number) stays numeric; any other is kept as text.
                "index": self.encode(
                    value.index.to_numpy() if pd.api.types.is_numeric_dtype(value.index)
                    else list(map(str, value.index))
                ),
                "columns": self.encode(list(map(str, value.columns))),
                "index_name": value.index.name,
            }
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"kind": "dtype", "value": np.dtype(value).name}
        if isinstance(value, np.dtype):
            return {"kind": "dtype_instance", "value": value.name}
        # Callables (callbacks) and generator objects cannot be stored without
        # pickle; they are recorded by their text so the loss is visible.
        return {"kind": "unsaved", "repr": repr(value)}


def _decode(spec, arrays):
    import pandas as pd

    kind = spec["kind"]
    if kind == "none" or kind == "unsaved":
        return None
    if kind == "json":
        return spec["value"]
    if kind == "scalar":
        return arrays[spec["key"]][()]
    if kind == "array":
        return arrays[spec["key"]]
    if kind == "strings":
        return arrays[spec["key"]].astype(object)
    if kind == "list":
        return [_decode(s, arrays) for s in spec["items"]]
    if kind == "tuple":
        return tuple(_decode(s, arrays) for s in spec["items"])
    if kind == "dict":
        return {k: _decode(s, arrays) for k, s in spec["items"].items()}
    if kind == "dataframe":
        frame = pd.DataFrame(
            _decode(spec["values"], arrays),
            index=_decode(spec["index"], arrays),
            columns=_decode(spec["columns"], arrays),
        )
        frame.index.name = spec["index_name"]
        return frame
    if kind == "dtype":
        return np.dtype(spec["value"]).type
    if kind == "dtype_instance":
        return np.dtype(spec["value"])
    raise ModelFileError(f"unknown value kind {kind!r} in model file")


def _checksum(header, arrays):
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(key.encode())
        digest.update(str(array.dtype).encode())
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save(model, path):
    """Write a fitted lvm model to ``path``.

    Parameters
    ----------
    model : LatentModel
        A fitted lvm estimator.
    path : str or os.PathLike
        Destination; ``.npz`` is appended when missing.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    encoder = _Encoder()
    params = {k: encoder.encode(v) for k, v in model.get_params(deep=False).items()}
    attributes = {
        k: encoder.encode(v)
        for k, v in vars(model).items()
        if k.endswith("_") and not k.startswith("_")
    }
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lvm_version": __version__,
        "class": type(model).__name__,
        "params": params,
        "attributes": attributes,
    }
    header["checksum"] = _checksum(header, encoder.arrays)
    payload = dict(encoder.arrays)
    payload[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **payload)
    return path


def load(path):
    """Read a model written by ``model.save(path)``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    LatentModel
        The fitted model, with every fitted attribute as it was saved.

    Raises
    ------
    ModelFileError
        When the file is missing, truncated, altered, not an lvm model, or
        written by a newer format version.
    """
    import lvm

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ModelFileError(
            f"{path} is not a readable lvm model file (truncated or corrupted: {exc})"
        ) from None
    if _HEADER not in arrays:
        raise ModelFileError(f"{path} is an .npz archive but not an lvm model file (no header)")
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
        stored = header.pop("checksum")
    except (ValueError, KeyError, UnicodeDecodeError, AttributeError):
        raise ModelFileError(f"{path}: the model header is damaged") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an lvm model file")
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format {header['format_version']} by lvm "
            f"{header.get('lvm_version')}; this lvm ({__version__}) reads format "
            f"{FORMAT_VERSION} or older. Upgrade lvm."
        )
    if _checksum(header, arrays) != stored:
        raise ModelFileError(
            f"{path}: checksum mismatch, the file was altered or damaged after it was saved"
        )
    cls = getattr(lvm, header["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, lvm._base._Estimator)):
        raise ModelFileError(f"{path}: {header['class']!r} is not an lvm model class")
    model = cls(**{k: _decode(v, arrays) for k, v in header["params"].items()})
    for name, spec in header["attributes"].items():
        setattr(model, name, _decode(spec, arrays))
    return model
