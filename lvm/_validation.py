"""Input checks that turn bad data and bad parameters into clear errors.

Every estimator calls :func:`check_data` at the top of ``fit``/``transform``
and :func:`check_params` at the top of ``fit``. The messages name the problem,
the offending value and what to do about it.
"""

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import validate_data

from ._source import ArraySource, DaskSource, is_dask_array
from ._stats import ColumnStats, ScatterStats, Stats, column_stats, observed_columns, scatter_stats

# Squaring values beyond this overflows float64 once summed over many rows;
# below its reciprocal the squares underflow to zero.
_MAX_MAGNITUDE = 1e150


class Interval:
    """A numeric parameter constraint ``left (<|<=) value (<|<=) right``."""

    def __init__(self, kind, left, right, closed="both"):
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def accepts(self, value):
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        # NaN fails every comparison below, so it would pass them all; no
        # parameter of an lvm model has a meaning at infinity either.
        try:
            if not math.isfinite(value):
                return False
        except OverflowError:  # an integer too large for a float is not a sensible value either
            return False
        if self.left is not None:
            if value < self.left or (self.closed in ("right", "neither") and value == self.left):
                return False
        if self.right is not None:
            if value > self.right or (self.closed in ("left", "neither") and value == self.right):
                return False
        return True

    def __str__(self):
        name = "an integer" if self.kind is numbers.Integral else "a finite number"
        lo = "(-inf" if self.left is None else ("[" if self.closed in ("both", "left") else "(") + f"{self.left}"
        hi = "inf)" if self.right is None else f"{self.right}" + ("]" if self.closed in ("both", "right") else ")")
        return f"{name} in {lo}, {hi}"


class Options:
    """A parameter constraint: one of a fixed set of values."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value):
        return isinstance(value, (str, type(None), bool)) and value in self.values

    def __str__(self):
        return "one of " + ", ".join(repr(v) for v in self.values)


class _Kind:
    def __init__(self, name, test):
        self.name = name
        self.test = test

    def accepts(self, value):
        return self.test(value)

    def __str__(self):
        return self.name


NONE = _Kind("None", lambda v: v is None)
BOOLEAN = _Kind("a bool", lambda v: isinstance(v, (bool, np.bool_)))
CALLABLE = _Kind("a callable", callable)
ARRAY_OR_NONE = _Kind("None or an array", lambda v: v is None or hasattr(v, "__len__"))
ARRAY = _Kind("an array", lambda v: hasattr(v, "__len__") and not isinstance(v, (str, bytes, dict)))
NAMES = _Kind(
    "a list of distinct str",
    lambda v: isinstance(v, (list, tuple, np.ndarray))
    and all(isinstance(name, str) for name in v)
    and len(set(v)) == len(v),
)
RANDOM_STATE = _Kind(
    "None, an int or a numpy.random.RandomState",
    lambda v: v is None
    or (isinstance(v, numbers.Integral) and not isinstance(v, bool))
    or isinstance(v, np.random.RandomState),
)


def check_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``.

    Parameters
    ----------
    estimator : BaseEstimator
        Its class holds ``_parameter_constraints``, a dict mapping each
        parameter name to a list of accepted constraints.

    Raises
    ------
    ValueError
        Naming the parameter, the value received and what is accepted.
    """
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    for name, value in estimator.get_params(deep=False).items():
        allowed = constraints.get(name)
        if allowed is None:
            continue
        if not any(c.accepts(value) for c in allowed):
            accepted = " or ".join(str(c) for c in allowed)
            raise ValueError(
                f"{type(estimator).__name__}: parameter {name}={value!r} is invalid; "
                f"expected {accepted}."
            )


def _check_raw_structure(X, name):
    """Errors that scikit-learn would report less clearly: text, 3-D, complex."""
    if hasattr(X, "dtypes") and hasattr(X, "columns"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        bad = [str(c) for c, dt in X.dtypes.items() if not (is_numeric_dtype(dt) or is_bool_dtype(dt))]
        if bad:
            raise TypeError(
                f"{name} has non-numeric column(s) {bad}; lvm models need numbers. "
                "Drop these columns or encode them numerically first."
            )
        return
    if hasattr(X, "shape") and hasattr(X, "dtype"):
        arr = X
    elif isinstance(X, (list, tuple)):
        try:
            arr = np.asarray(X)
        except ValueError as exc:
            raise ValueError(f"{name} is ragged: its rows differ in length ({exc}).") from None
    else:
        return
    if getattr(arr, "ndim", 2) > 2:
        raise ValueError(
            f"{name} has {arr.ndim} dimensions (shape {arr.shape}); lvm expects a 2-D array "
            "(n_samples, n_features). Reshape it, e.g. X.reshape(len(X), -1) for images."
        )
    if np.iscomplexobj(arr):
        raise ValueError(
            f"Complex data not supported: {name} holds complex numbers; lvm models are for real data. "
            "Split real and imaginary parts into separate columns if both matter."
        )
    if arr.dtype.kind in "US":
        raise TypeError(f"{name} holds text (dtype {arr.dtype}); lvm models need numbers.")


def _describe_nonfinite(X, name, allow_nan):
    bad = ~np.isfinite(X)
    if allow_nan:
        bad &= ~np.isnan(X)
    rows, cols = np.nonzero(bad)
    kind = "infinity" if allow_nan or not np.isnan(X[rows[0], cols[0]]) else "NaN"
    fix = (
        "Infinite values cannot be modelled; remove or clip them."
        if kind == "infinity"
        else "Drop or impute the missing entries, or use a model with missing='em' "
        "(PPCA, FactorAnalysis, GaussianMixture) to marginalise them."
    )
    return (
        f"{name} contains {kind} ({bad.sum()} non-finite entries, the first at row {rows[0]}, "
        f"column {cols[0]}). {fix}"
    )


def check_data(estimator, X, *, reset, allow_nan=False, min_samples=2, name="X", return_sums=False,
               dtype=np.float64):
    """Validate data for ``fit`` (``reset=True``) or a fitted method.

    Returns a float64 ndarray that may share memory with the input; callers
    never write into it. On ``reset`` the feature count and names (from a
    DataFrame) are recorded, otherwise they are checked against the fit.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator whose ``n_features_in_``/``feature_names_in_`` to set or check.
    X : array-like of shape (n_samples, n_features)
        The data.
    reset : bool
        True in ``fit``; False in methods of a fitted estimator.
    allow_nan : bool, default=False
        Whether NaN (a missing entry) is accepted; infinity never is.
    min_samples : int, default=2
        Fewest rows accepted.
    name : str, default="X"
        How the data is named in messages.
    return_sums : bool, default=False
        Also return the column sums, which the finiteness check computes
        anyway, so that the caller need not read ``X`` again for the mean.
    dtype : numpy dtype, default=numpy.float64
        Floating type of the returned array.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), of type ``dtype``
    sums : ndarray of shape (n_features,)
        Column sums (NaN in a column with a missing entry); only if ``return_sums``.
    """
    _check_raw_structure(X, name)
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=dtype,
        ensure_all_finite=False,
        ensure_min_samples=min_samples if reset else 1,
    )
    # Column sums are one cheap pass (and give the mean); only when they are
    # not finite do we look closer.
    sums = X.sum(axis=0)
    total = sums.sum()
    if not np.isfinite(total):
        finite = np.isfinite(X)
        if not finite.all():
            if np.isinf(X).any() or not allow_nan:
                raise ValueError(_describe_nonfinite(X, name, allow_nan))
            total = X[finite].sum()
        if not np.isfinite(total):
            raise ValueError(_magnitude_message(X, name))
    if not reset and X.size:
        # A fit checks magnitude through its variance; methods of a fitted
        # model square distances or project without that check, so values
        # whose squares overflow would come back as NaN.
        largest = float(max(X.max(), -X.min()))
        if np.isnan(largest):
            largest = float(max(np.nanmax(X), -np.nanmin(X))) if not np.isnan(X).all() else 0.0
        if largest > _MAX_MAGNITUDE:
            raise ValueError(_magnitude_message(X, name))
    return (X, sums) if return_sums else X


def _magnitude_message(X, name):
    if hasattr(X, "spread"):
        amax = float(np.nanmax(np.maximum(np.abs(X.minimum), np.abs(X.maximum))))
    else:
        amax = np.nanmax(np.abs(X))
    return (
        f"{name} has values as large as {amax:.3g} in magnitude; their squares overflow "
        f"double precision. Rescale the data (e.g. divide by {amax:.0e}) before fitting."
    )


def check_variance(total_variance, X, name="X"):
    """Raise a clear error when the data's variance cannot be represented.

    Parameters
    ----------
    total_variance : float
        Sum of the per-column variances computed from ``X``.
    X : ndarray of shape (n_samples, n_features)
        The data, read only when the variance is degenerate.
    name : str, default="X"
        How the data is named in messages.

    Raises
    ------
    ValueError
        If the variance overflowed, underflowed to zero while the data vary,
        or is zero because every column is constant.
    """
    if not np.isfinite(total_variance):
        raise ValueError(_magnitude_message(X, name))
    if total_variance > np.finfo(np.float64).tiny * 1e4:
        return
    spread = X.spread() if hasattr(X, "spread") else np.nanmax(X, axis=0) - np.nanmin(X, axis=0)
    if np.any(spread > 0):
        raise ValueError(
            f"{name} varies by at most {spread.max():.3g}; the squares of such small "
            "differences underflow double precision. Rescale the data (e.g. standardise "
            "each column) before fitting."
        )
    raise ValueError(
        f"every column of {name} is constant; there is no variance for a latent variable "
        "model to explain."
    )


def check_dask_data(estimator, X, *, reset, min_samples=2, name="X"):
    """Validate a dask array without computing it: shape, type and feature count.

    The values are checked by the first pass over the data, which every fit
    makes anyway (:func:`check_column_stats`).

    Parameters
    ----------
    estimator : BaseEstimator
        Whose ``n_features_in_`` to set (``reset``) or check.
    X : dask.array.Array
        The data.
    reset : bool
        True in ``fit``; False in methods of a fitted estimator.
    min_samples : int, default=2
        Fewest rows accepted in ``fit``.
    name : str, default="X"
        How the data is named in messages.

    Returns
    -------
    dask.array.Array of float64, columns in one chunk
    """
    if X.ndim != 2:
        raise ValueError(
            f"{name} has {X.ndim} dimension(s) (shape {X.shape}); lvm expects a 2-D array "
            "(n_samples, n_features)."
        )
    kind = np.dtype(X.dtype).kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} holds complex numbers; lvm models are for real data.")
    if kind not in "fiub":
        raise TypeError(f"{name} holds values of type {X.dtype}; lvm models need numbers.")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    n, p = (int(s) for s in X.shape)
    if reset:
        if n < min_samples:
            raise ValueError(f"Found array with {n} sample(s) (shape=({n}, {p})) while a minimum of "
                             f"{min_samples} is required.")
        if p < 1:
            raise ValueError(f"{name} has no features (shape ({n}, {p})).")
        estimator.n_features_in_ = p
        estimator.__dict__.pop("feature_names_in_", None)
    elif p != estimator.n_features_in_:
        raise ValueError(f"{name} has {p} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    return X.rechunk({1: -1}) if X.numblocks[1] > 1 else X


def check_column_stats(stats, *, allow_nan, name="X"):
    """Raise the errors of :func:`check_data` from a first pass's :class:`~lvm._stats.ColumnStats`.

    Parameters
    ----------
    stats : ColumnStats
        Of all rows.
    allow_nan : bool
        Whether NaN (a missing entry) is accepted.
    name : str, default="X"
        How the data is named in messages.
    """
    if stats.n_infinite:
        raise ValueError(f"{name} contains infinity ({stats.n_infinite} infinite entries). "
                         "Infinite values cannot be modelled; remove or clip them.")
    if stats.n_missing and not allow_nan:
        raise ValueError(
            f"{name} contains NaN ({stats.n_missing} missing entries). Drop or impute the missing "
            "entries, or use a model with missing='em' (PPCA, FactorAnalysis, GaussianMixture) to "
            "marginalise them."
        )
    empty = np.flatnonzero(stats.count == 0)
    if empty.size:
        raise ValueError(f"{name} has no observed value in column(s) {empty.tolist()}; drop them.")


@dataclass
class _FirstPass(Stats):
    columns: ColumnStats
    scatter: ScatterStats = None


def _first_pass(chunk, scatter):
    return _FirstPass(column_stats(chunk), scatter_stats(chunk) if scatter else None)


@dataclass
class Data:
    """Validated training data and what one pass over it told.

    Attributes
    ----------
    source : ArraySource or DaskSource
        The rows, to read chunk by chunk.
    columns : ColumnStats or None
        Per-column count, mean and variance (when asked for).
    scatter : ScatterStats or None
        Count, mean and scatter (when asked for and no entry is missing).
    """

    source: object
    columns: ColumnStats = None
    scatter: ScatterStats = None

    @property
    def complete(self):
        return self.columns is None or self.columns.n_missing == 0

    @property
    def described(self):
        """What a variance error reads to describe the data: the column statistics, else the array."""
        return self.columns if self.columns is not None else self.source.X


def read_data(estimator, X, *, allow_nan=False, columns=True, scatter=False, min_samples=2, name="X"):
    """Validate training data of any source and summarise it in one pass.

    An array (or memmap) is checked by :func:`check_data`; a dask array by
    :func:`check_dask_data` and then, in the same pass that computes the
    summaries, by :func:`check_column_stats`. The data are never copied.

    Parameters
    ----------
    estimator : BaseEstimator
        Whose ``n_features_in_`` (and ``feature_names_in_``) to set.
    X : array-like, memmap or dask.array.Array of shape (n_samples, n_features)
        The data.
    allow_nan : bool, default=False
        Whether NaN marks a missing entry.
    columns : bool, default=True
        Compute :class:`~lvm._stats.ColumnStats`.
    scatter : bool, default=False
        Compute :class:`~lvm._stats.ScatterStats` (left None when entries are missing).
    min_samples : int, default=2
        Fewest rows accepted.
    name : str, default="X"
        How the data is named in messages.

    Returns
    -------
    Data
    """
    if is_dask_array(X):
        X = check_dask_data(estimator, X, reset=True, min_samples=min_samples, name=name)
        source = DaskSource(X)
        summary = source.reduce(functools.partial(_first_pass, scatter=scatter))
        check_column_stats(summary.columns, allow_nan=allow_nan, name=name)
        source.note("columns", summary.columns)
        complete = summary.columns.n_missing == 0
        return Data(source, summary.columns, summary.scatter if complete else None)
    X, sums = check_data(estimator, X, reset=True, allow_nan=allow_nan, min_samples=min_samples, name=name,
                         return_sums=True)
    source = ArraySource(X)
    stats = observed_columns(source) if columns or not np.isfinite(sums).all() else None
    if stats is not None:
        check_column_stats(stats, allow_nan=allow_nan, name=name)
    complete = stats is None or stats.n_missing == 0
    return Data(source, stats, scatter_stats(X, sums) if scatter and complete else None)


def check_n_samples(n_samples):
    """The number of rows to draw in ``sample``: an integer of at least 1, as scikit-learn requires.

    Parameters
    ----------
    n_samples : object

    Returns
    -------
    int
    """
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an integer; got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1; got {n_samples}.")
    return int(n_samples)


def check_latent(model, Z, name="Z"):
    """Latent values for ``inverse_transform``: a finite 2-D float array as wide as the model's latent space.

    Parameters
    ----------
    model : fitted lvm model
        Its ``_n_latent()`` is the width of its latent space.
    Z : array-like of shape (n_samples, n_components)
    name : str, default="Z"
        How the values are named in messages.

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    label = type(model).__name__
    width = model._n_latent()
    _check_raw_structure(Z, name)
    Z = np.asarray(Z)
    if Z.dtype.kind not in "biuf":
        raise TypeError(f"{label}.inverse_transform: {name} must hold numbers; got dtype {Z.dtype}.")
    if Z.ndim != 2:
        raise ValueError(
            f"{label}.inverse_transform: {name} must be 2-D, (n_samples, n_components={width}); "
            f"got shape {Z.shape}. Reshape a single point with Z.reshape(1, -1)."
        )
    if Z.shape[1] != width:
        raise ValueError(
            f"{label}.inverse_transform: {name} has {Z.shape[1]} column(s) but the model has "
            f"{width} latent dimensions."
        )
    Z = Z.astype(np.float64, copy=False)
    if not np.isfinite(Z).all():
        raise ValueError(
            f"{label}.inverse_transform: {name} contains NaN or infinity "
            f"({np.count_nonzero(~np.isfinite(Z))} entries); latent values must be finite."
        )
    return Z
