"""What a model read from a file may be: one of lvm's public classes, with the fitted attributes a fit makes.

Nothing here lists attributes per class. The names a class may carry are the
ones its docstring documents (a test keeps them equal to what its fits set)
and the ones a fit sets; their types and how their shapes relate to the
model's dimensions come from reference fits of the same class, with the
saved parameters, on small synthetic data. A shape axis is tied to a
dimension (``n_features_in_``, a parameter such as ``n_components``, a
fitted count) only when the tie holds in every reference fit *and* that
dimension takes different values across them, so that a coincidence between
constants never becomes a rule.
"""

import inspect
import numbers
import threading
import warnings

import numpy as np
import pandas as pd

from ._linalg import single_blas_thread
from .exceptions import ModelFileError

# Parameters that set the latent dimension: the reference fits vary them so
# that an axis of that length is recognised as tied to them.
_DIMENSION_PARAMETERS = ("n_components", "n_factors")
# The reference fits need shapes, not converged numbers: their iteration
# budgets are capped, so that a load takes milliseconds and every count of
# iterations (a history's length) is the same in all of them, never a
# coincidence that looks like a tie to a dimension.
_BUDGET_PARAMETERS = {"max_iter": 2, "epochs": 2, "n_init": 1}
# Narrowest reference widths: wider than any count the capped budgets produce.
_WIDTHS = (12, 15)
# Scalars any list or undocumented-by-fit attribute may hold.
_PLAIN = frozenset({("none",), ("bool",), ("int",), ("float",), ("str",)})
_CACHE = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 32


def model_classes():
    """lvm's public estimator classes by name: the only classes a model file may name."""
    import lvm

    from ._base import _Estimator

    classes = {}
    for name in lvm.__all__:
        obj = getattr(lvm, name, None)
        if (isinstance(obj, type) and issubclass(obj, _Estimator) and callable(getattr(obj, "fit", None))
                and not inspect.isabstract(obj)):
            classes[name] = obj
    return classes


def documented_attributes(cls):
    """Names in the Attributes section of ``cls``'s numpydoc docstring."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    names, inside = set(), False
    for i, line in enumerate(lines):
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"}:
            inside = line.strip() == "Attributes"
            continue
        if inside and line and not line[0].isspace() and set(line.strip()) != {"-"}:
            names.add(line.split(":")[0].strip())
    return names


def _signature(value):
    """A coarse type: what must agree between a loaded attribute and a fitted one."""
    if value is None:
        return ("none",)
    if isinstance(value, (bool, np.bool_)):
        return ("bool",)
    if isinstance(value, numbers.Integral):
        return ("int",)
    if isinstance(value, numbers.Real):
        return ("float",)
    if isinstance(value, str):
        return ("str",)
    if isinstance(value, np.ndarray):
        kind = {"i": "integer", "u": "integer", "O": "text", "U": "text", "b": "bool", "f": "float",
                "c": "complex"}.get(value.dtype.kind, value.dtype.kind)
        return ("ndarray", kind, value.ndim)
    if isinstance(value, pd.DataFrame):
        return ("DataFrame",)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,)
    if isinstance(value, dict):
        return ("dict",)
    return (type(value).__name__,)


def _describe(signature):
    if signature[0] == "ndarray":
        return f"a {signature[2]}-d {signature[1]} array"
    return {"none": "None", "int": "an integer", "float": "a number", "bool": "a bool", "str": "a string",
            "dict": "a dict", "list": "a list", "tuple": "a tuple", "DataFrame": "a DataFrame"}.get(
        signature[0], signature[0])


def _slots(name, value, out):
    """Every axis length inside ``value``, keyed by how a user would write it."""
    if isinstance(value, (np.ndarray, pd.DataFrame)):
        for axis, length in enumerate(value.shape):
            out[f"{name}.shape[{axis}]"] = length
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _slots(f"{name}[{i}]", item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _slots(f"{name}[{key!r}]", item, out)
    return out


def _dimensions(params, attributes):
    """The integers an axis may be tied to: integer parameters (and tuple entries) and fitted counts."""
    dims = {}
    for key, value in params.items():
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            dims[f"the parameter {key}"] = int(value)
        elif isinstance(value, tuple) and all(isinstance(v, numbers.Integral) for v in value):
            for i, v in enumerate(value):
                dims[f"the parameter {key}[{i}]"] = int(v)
    for key, value in attributes.items():
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            dims[key] = int(value)
    return dims


def _fitted(model):
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


def _synthetic(p, k, seed):
    # Three latent factors plus noise: structure for every model to find; at
    # least a few rows per component.
    rng = np.random.default_rng(seed)
    n = 4 * p + 3 * k + 20
    return rng.normal(size=(n, 3)) @ rng.normal(size=(3, p)) + 0.5 * rng.normal(size=(n, p))


def _reference_fit(cls, base, mode, width, k, bump):
    """``(params, fitted attributes)`` of one reference fit, or None when it cannot be fitted."""
    X = _synthetic(width, k, width)
    data = pd.DataFrame(X, columns=[f"c{j}" for j in range(width)]) if mode == "frame" else X
    for step in sorted({bump, 0}, reverse=True):
        params = {key: (v + step if key in _DIMENSION_PARAMETERS and isinstance(v, numbers.Integral)
                        and not isinstance(v, bool) else v) for key, v in base.items()}
        try:
            model = cls(**params)
            if mode == "stream":
                half = len(X) // 2
                model.partial_fit(data[:half]).partial_fit(data[half:])
            else:
                model.fit(data)
        except Exception:  # noqa: BLE001 - a reference that cannot be fitted only weakens the checks
            continue
        return params, _fitted(model)
    return None


def _reference_fits(cls, params):
    """Fits of ``cls`` with ``params`` on synthetic data of two widths, as arrays, data frames and streams."""
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    base = dict(params)
    for key, value in params.items():
        # Starting values given as arrays are tied to the saved data's width.
        if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and not all(
                isinstance(v, numbers.Integral) for v in value)):
            base[key] = defaults.get(key)
    for key, value in (("verbose", 0), ("random_state", 0)):
        if key in base:
            base[key] = value
    for key, cap in _BUDGET_PARAMETERS.items():
        if isinstance(base.get(key), numbers.Integral) and base[key] > cap:
            base[key] = cap
    k = max([v for key in _DIMENSION_PARAMETERS
             if isinstance(v := base.get(key), numbers.Integral) and not isinstance(v, bool)] + [1])
    modes = ["array", "frame"] + (["stream"] if callable(getattr(cls, "partial_fit", None)) else [])
    fits = []
    # Single-threaded BLAS: on matrices this small a second thread only waits.
    with warnings.catch_warnings(), np.errstate(all="ignore"), single_blas_thread():
        warnings.simplefilter("ignore")
        for mode in modes:
            # Two widths, one even and one odd so that they always differ: a
            # narrow one first (cheap, and enough for mixtures of many
            # components), then one wide enough for k factors or components.
            for candidates, bump in (((_WIDTHS[0], 2 * k + 4), 0), ((_WIDTHS[1], 2 * k + 7), 1)):
                fitted = None
                for width in candidates:
                    fitted = fitted or _reference_fit(cls, base, mode, width, k, bump)
                if fitted is not None:
                    fits.append(fitted)
    return fits


class _Template:
    """Names, types and shape ties of the fitted attributes of one class under one set of parameters."""

    def __init__(self, cls, params):
        fits = _reference_fits(cls, params)
        self.fitted = bool(fits)
        self.names = documented_attributes(cls)
        self.signatures, self.items = {}, {}
        for _, attributes in fits:
            self.names |= set(attributes)
            for name, value in attributes.items():
                self.signatures.setdefault(name, set()).add(_signature(value))
                if isinstance(value, (list, tuple)):
                    self.items.setdefault(name, set()).update(_signature(v) for v in value)
        self.ties = self._ties([(_slots_of(attributes), _dimensions(p, attributes)) for p, attributes in fits])

    @staticmethod
    def _ties(fits):
        ties = {}
        for slot in set().union(*(slots for slots, _ in fits)) if fits else ():
            seen = [(slots[slot], dims) for slots, dims in fits if slot in slots]
            common = set.intersection(*({d for d, v in dims.items() if v == length} for length, dims in seen))
            # Only a dimension that changed between the reference fits, the axis
            # following it, makes a tie; equal constants may be a coincidence.
            ties[slot] = {d for d in common if len({dims[d] for _, dims in seen}) > 1}
        return ties


def _slots_of(attributes):
    out = {}
    for name, value in attributes.items():
        _slots(name, value, out)
    return out


def _template(cls, params):
    key = (cls, repr(sorted((k, repr(v)) for k, v in params.items() if not isinstance(v, np.ndarray))))
    # One lock: loads from several threads share the cache and never fit the same references twice.
    with _CACHE_LOCK:
        if key not in _CACHE:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = _Template(cls, params)
        return _CACHE[key]


def check_attributes(cls, params, attributes, written_by=""):
    """Refuse fitted attributes that a fit of ``cls`` with ``params`` could not have made.

    ``written_by`` is added to the message about an unknown attribute (a file
    from another lvm version may hold one).

    Raises
    ------
    ModelFileError
        Naming the attribute and what was expected of it.
    """
    name_of = cls.__name__
    template = _template(cls, params)
    for name, value in attributes.items():
        if not (isinstance(name, str) and name.isidentifier() and name.endswith("_") and not name.startswith("_")):
            raise ModelFileError(f"{name!r} is not the name of a fitted attribute (letters, digits, a final '_')")
        if hasattr(cls, name):
            raise ModelFileError(f"the attribute {name!r} would hide {name_of}.{name}")
        if name not in template.names:
            raise ModelFileError(f"{name_of} has no fitted attribute {name!r}{written_by}")
        signature, expected = _signature(value), template.signatures.get(name)
        if expected is not None and signature not in expected:
            allowed = " or ".join(sorted(_describe(s) for s in expected))
            raise ModelFileError(f"the attribute {name!r} is {_describe(signature)}; {name_of} makes it {allowed}")
        # Without any reference fit (parameters the synthetic data do not
        # suit) types go unchecked, and exercise() is the remaining check.
        if expected is None and template.fitted and signature not in _PLAIN and signature[0] != "ndarray":
            raise ModelFileError(f"the attribute {name!r} is {_describe(signature)}, which {name_of} never makes")
        if isinstance(value, (list, tuple)) and name in template.items:
            # How many items a list holds may depend on the data (the variables
            # in a Heywood case); what kind of items it holds does not, though
            # a list of labels may hold numbers or names.
            items = template.items[name] | _PLAIN
            for item in value:
                if _signature(item) not in items:
                    raise ModelFileError(f"the attribute {name!r} holds {_describe(_signature(item))}, "
                                         f"which {name_of} never puts there")
    if "n_features_in_" not in attributes or _signature(attributes["n_features_in_"]) != ("int",):
        raise ModelFileError("the model has no integer n_features_in_, which every fit sets")
    dims = _dimensions(params, attributes)
    for slot, length in _slots_of(attributes).items():
        tied = [d for d in template.ties.get(slot, ()) if d in dims]
        if tied and length not in {dims[d] for d in tied}:
            expected = " or ".join(sorted({f"{d} ({dims[d]})" for d in tied}))
            raise ModelFileError(f"{slot} is {length}, but {name_of} makes it equal to {expected}")


def exercise(model, n_numbers):
    """Run ``transform`` and ``inverse_transform`` on two rows: the loaded attributes must work together.

    ``n_numbers`` (the count of numbers in the file) bounds ``n_features_in_``
    before any row is allocated.
    """
    p = model.n_features_in_
    if not 1 <= p <= max(n_numbers, 1):
        raise ModelFileError(f"n_features_in_ is {p}, but the file holds only {n_numbers} numbers")
    X = np.zeros((2, p))
    if hasattr(model, "feature_names_in_"):
        X = pd.DataFrame(X, columns=model.feature_names_in_)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            codes = model.transform(X)
            if callable(getattr(model, "inverse_transform", None)):
                model.inverse_transform(codes)
    except Exception as exc:  # noqa: BLE001 - any failure means the attributes do not fit together
        raise ModelFileError(
            f"its fitted attributes do not work together: transform fails with {type(exc).__name__}: {exc}"
        ) from None
