"""Save and load fitted models without pickle.

A model file is a NumPy ``.npz`` archive: every array of the model is one
member, and the member ``__header__`` holds a JSON document with the class
name, the constructor parameters, how to rebuild each fitted attribute, the
file format version and a SHA-256 checksum over the header and all arrays.
Loading never unpickles and only instantiates lvm's public model classes; a
truncated, damaged or malformed file is refused with
:class:`~lvm.exceptions.ModelFileError`. The checksum detects damage, not
forgery; what a crafted file can and cannot do is in :func:`load`.
"""

import hashlib
import json
import math
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import ModelFileError

FORMAT = "lvm-model"
FORMAT_VERSION = 1
_HEADER = "__header__"
# save() nests a few levels (a list of arrays inside a dict); a deeper header
# is refused before anything recurses into it.
_MAX_DEPTH = 64


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


# Parameters renamed since files were first written: files saved under the
# old name still load.
_RENAMED_PARAMS = {"FactorAnalysis": {"n_factors": "n_components"}}


def _member_key(spec, arrays):
    key = spec.get("key")
    if not isinstance(key, str) or key not in arrays:
        raise ModelFileError(f"a value refers to the array {key!r}, which the file does not hold")
    return arrays[key]


def _decode(spec, arrays):
    """The value described by ``spec``; anything but the kinds :class:`_Encoder` writes is refused."""
    import pandas as pd

    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        raise ModelFileError("a value description in the header is not an object with a 'kind'")
    kind = spec["kind"]
    if kind == "none" or kind == "unsaved":
        return None
    if kind == "json":
        value = spec.get("value")
        if not isinstance(value, (type(None), bool, int, float, str)):
            raise ModelFileError(f"a JSON value in the header is a {type(value).__name__}, not a number or text")
        return value
    if kind in ("scalar", "array", "strings"):
        array = _member_key(spec, arrays)
        if kind == "scalar":
            if array.ndim != 0:
                raise ModelFileError(f"the scalar {spec['key']!r} has shape {array.shape}")
            return array[()]
        if kind == "strings":
            if array.dtype.kind != "U":
                raise ModelFileError(f"the text array {spec['key']!r} holds {array.dtype}")
            return array.astype(object)
        if array.dtype.kind not in "biufc":
            raise ModelFileError(f"the numeric array {spec['key']!r} holds {array.dtype}")
        return array
    if kind in ("list", "tuple"):
        items = spec.get("items")
        if not isinstance(items, list):
            raise ModelFileError(f"a {kind} in the header has no list of items")
        values = [_decode(s, arrays) for s in items]
        return values if kind == "list" else tuple(values)
    if kind == "dict":
        items = spec.get("items")
        if not isinstance(items, dict):
            raise ModelFileError("a dict in the header has no object of items")
        return {k: _decode(s, arrays) for k, s in items.items()}
    if kind == "dataframe":
        values, index, columns = (_decode(spec.get(part), arrays) for part in ("values", "index", "columns"))
        if not (isinstance(values, np.ndarray) and values.ndim == 2):
            raise ModelFileError("a data frame in the header has no 2-d array of values")
        index_name = spec.get("index_name")
        if not isinstance(index_name, (type(None), str, int)):
            raise ModelFileError("a data frame in the header has an index name that is not text")
        frame = pd.DataFrame(values, index=index, columns=columns)
        frame.index.name = index_name
        return frame
    if kind in ("dtype", "dtype_instance"):
        name = spec.get("value")
        dtype = np.dtype(name) if isinstance(name, str) and name in _DTYPE_NAMES else None
        if dtype is None:
            raise ModelFileError(f"the header names the type {name!r}, not a numeric type")
        return dtype.type if kind == "dtype" else dtype
    raise ModelFileError(f"unknown value kind {kind!r} in model file")


# Numeric types a parameter such as ``dtype`` may name.
_DTYPE_NAMES = frozenset(np.dtype(t).name for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.longdouble, np.complex64, np.complex128,
))


def _array_keys(spec, out):
    """The array members a value description refers to (depth already bounded)."""
    if isinstance(spec, dict):
        if isinstance(spec.get("key"), str):
            out.add(spec["key"])
        for value in spec.values():
            _array_keys(value, out)
    elif isinstance(spec, list):
        for value in spec:
            _array_keys(value, out)
    return out


def _depth(document):
    """Nesting depth of a parsed JSON document, found without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > _MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


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


def _open_regular(path):
    """An open binary handle on ``path`` and its size, refusing anything but a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ModelFileError(f"no model file at {path}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{path} is not a regular file (it is a {_file_kind(info.st_mode)}); "
                             "a model file is the .npz file that save() writes")
    # Opened without blocking and checked again: the path may have become a
    # FIFO since the check, and opening a FIFO would wait for a writer.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    handle = os.fdopen(fd, "rb")
    info = os.fstat(handle.fileno())
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise ModelFileError(f"{path} is not a regular file (it is a {_file_kind(info.st_mode)})")
    return handle, info.st_size


def _file_kind(mode):
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _read_member(archive, info):
    """One ``.npy`` member, its declared size checked against the archive's before anything is read."""
    name = info.filename[:-4]
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ModelFileError(f"the member {name!r} is in .npy format {version}, which save() never writes")
        if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufcU":
            raise ModelFileError(f"the member {name!r} holds {dtype}, not plain numbers or text")
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - stream.tell()
        if nbytes != held:
            raise ModelFileError(f"the member {name!r} declares shape {shape} of {dtype} ({nbytes} bytes) "
                                 f"but holds {held} bytes")
        buffer = np.empty(nbytes, dtype=np.uint8)
        view, filled = memoryview(buffer), 0
        while filled < nbytes:
            count = stream.readinto(view[filled:])
            if not count:
                raise ModelFileError(f"the member {name!r} ends early")
            filled += count
        # Reading past the end makes zipfile compare the member's CRC-32.
        stream.read(1)
    return buffer.view(dtype).reshape(shape, order="F" if fortran else "C")


def _read_header(raw):
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("the model header is damaged (not a byte string)")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (ValueError, RecursionError):
        raise ModelFileError("the model header is damaged (not valid JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"the model header is a JSON {type(header).__name__}, not an object")
    if _depth(header) > _MAX_DEPTH:
        raise ModelFileError(f"the model header nests deeper than {_MAX_DEPTH} levels; save() never writes that")
    if header.get("format") != FORMAT:
        raise ModelFileError("this is not an lvm model file")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"the header's format_version is {version!r}, not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"it was written in model format {version} by lvm {header.get('lvm_version')}; this lvm "
            f"({__version__}) reads format {FORMAT_VERSION} or older. Upgrade lvm."
        )
    for field, kind in (("class", str), ("params", dict), ("attributes", dict), ("checksum", str),
                        ("lvm_version", str)):
        if not isinstance(header.get(field), kind):
            raise ModelFileError(f"the header's {field!r} is missing or not a {_JSON_NAMES[kind]}")
    return header


_JSON_NAMES = {str: "string", dict: "JSON object"}


def _read_archive(handle, size):
    """The checked header (checksum removed) and the arrays of a model archive."""
    with zipfile.ZipFile(handle) as archive:
        members = {}
        for info in archive.infolist():
            key = info.filename[:-4]
            if not info.filename.endswith(".npy") or key in members:
                raise ModelFileError(f"the archive holds a member {info.filename!r} that save() never writes")
            members[key] = info
        if _HEADER not in members:
            raise ModelFileError("it is an .npz archive but not an lvm model file (no header)")
        # save() stores members uncompressed, so together they cannot exceed
        # the file; a larger claim is damage or a decompression bomb.
        claimed = sum(info.file_size for info in members.values())
        if claimed > size:
            raise ModelFileError(f"its members claim {claimed} bytes once unpacked, more than the file's {size}; "
                                 "save() stores them uncompressed, so the archive is damaged or crafted")
        header = _read_header(_read_member(archive, members.pop(_HEADER)))
        wanted = _array_keys([header["params"], header["attributes"]], set())
        if wanted != set(members):
            missing, extra = sorted(wanted - set(members)), sorted(set(members) - wanted)
            raise ModelFileError(f"its arrays do not match its header (missing: {missing}, undescribed: {extra})")
        arrays = {key: _read_member(archive, info) for key, info in members.items()}
    return header, arrays


def load(path):
    """Read a model written by ``model.save(path)``.

    The file is checked before anything in it is used: it must be a regular
    file; every member's size, as the archive and the ``.npy`` header
    declare it, must fit in the file before it is read (so memory stays
    bounded by the file's size); the JSON header must have the fields and
    types :func:`save` writes; the SHA-256 checksum must match; the class
    must be one of lvm's public models; the parameters must pass the class's
    own checks; and every fitted attribute must be one the class documents
    or a fit sets, of the type a fit gives, with each axis that a fit ties
    to ``n_features_in_`` or to the number of components of that length.
    Finally ``transform`` (and ``inverse_transform``) run on two rows.

    The checksum detects damage (truncation, flipped bits, an edited
    member), not forgery: anyone can recompute it. A crafted file that
    passes every check is therefore a well-formed model whose numbers may
    be anything (NaN, huge or misleading values): it cannot run code (no
    pickle; only lvm's classes are built, through their constructors), make
    lvm allocate much more than the file's size, hang on a special file, or
    give an object whose methods are replaced or whose arrays disagree in
    shape. Load files you would trust to hold the numbers they claim.

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
        When the file is missing, not a regular file, truncated, altered,
        not an lvm model, inconsistent with its class, or written by a newer
        format version; the message says which.
    """
    from ._io_check import check_attributes, exercise, model_classes

    path = Path(path)
    handle, size = _open_regular(path)
    try:
        with handle:
            header, arrays = _read_archive(handle, size)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - zipfile and numpy raise many kinds on a damaged file
        raise ModelFileError(
            f"{path} is not a readable lvm model file (truncated or corrupted: {type(exc).__name__}: {exc})"
        ) from None
    stored = header.pop("checksum")
    if _checksum(header, arrays) != stored:
        raise ModelFileError(
            f"{path}: checksum mismatch, the file was altered or damaged after it was saved"
        )
    try:
        classes = model_classes()
        cls = classes.get(header["class"])
        if cls is None:
            raise ModelFileError(f"{header['class']!r} is not an lvm model class "
                                 f"(expected one of {', '.join(sorted(classes))})")
        params = {k: _decode(v, arrays) for k, v in header["params"].items()}
        for old, new in _RENAMED_PARAMS.get(cls.__name__, {}).items():
            if old in params and new not in params:
                params[new] = params.pop(old)
        unknown = sorted(set(params) - set(cls._get_param_names()))
        if unknown:
            raise ModelFileError(f"{cls.__name__} has no parameter(s) {unknown}")
        model = cls(**params)
        try:
            model._check_params()
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"its parameters are invalid: {exc}") from None
        attributes = {k: _decode(v, arrays) for k, v in header["attributes"].items()}
        written_by = "" if header["lvm_version"] == __version__ else (
            f" (the file was written by lvm {header['lvm_version']}; this is lvm {__version__})")
        check_attributes(cls, model.get_params(deep=False), attributes, written_by)
        for name, value in attributes.items():
            setattr(model, name, value)
        exercise(model, sum(a.size for a in arrays.values()))
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a value the checks above let through but the class cannot use
        raise ModelFileError(f"{path}: the model cannot be rebuilt ({type(exc).__name__}: {exc})") from None
    return model
