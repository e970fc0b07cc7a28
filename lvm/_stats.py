"""Sufficient statistics that add: the currency of every fit over chunks of rows.

A statistic is a small dataclass computed from one chunk of rows; two chunks'
statistics combine with ``a + b`` into those of the union of the rows. That is
what lets one fit run on an in-memory array, a memmap or a dask array alike:
only statistics travel, never the rows (see :mod:`lvm._em`).

:class:`Stats` adds field by field (sums of counts, sums of vectors and
matrices). Statistics about a centre (mean and scatter) cannot simply be
added; :class:`ScatterStats` and :class:`ColumnStats` merge with the pairwise
update of Chan, Golub & LeVeque (1979), so that any split of the rows gives the
same statistics as one pass over all of them, to round-off.
"""

from dataclasses import dataclass, fields

import numpy as np

from ._source import chunk_rows

# If a column's raw sum of squares exceeds its centred sum of squares by more
# than this factor, forming X^T X and subtracting n m m^T would lose more than
# four of the sixteen significant digits; the data is then centred chunk by
# chunk instead.
_CANCELLATION_LIMIT = 1e4
_CHUNK_BYTES = 4 * 2**20


def _add(a, b):
    if a is None or b is None:
        return None if a is None and b is None else (a if b is None else b)
    return a + b


@dataclass
class Stats:
    """Sufficient statistics of some rows that add field by field.

    Subclasses declare their fields (counts, sums, sums of products, and the
    summed log-likelihood when they come from an E-step); ``a + b`` gives the
    statistics of the union of the two sets of rows. A field that is ``None``
    in one operand takes the other's value, so that a statistic one chunk
    does not need (a constant second moment, say) can be left out.
    """

    def __add__(self, other):
        return type(self)(**{f.name: _add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)})


@dataclass
class ScatterStats:
    """Count, mean and scatter ``sum_i (x_i - mean)(x_i - mean)^T`` of some rows.

    ``a + b`` (or ``a.merge(b)``) merges with Chan, Golub & LeVeque (1979).

    Attributes
    ----------
    n_samples : int
    mean : ndarray of shape (p,)
    scatter : ndarray of shape (p, p)
    """

    n_samples: int
    mean: np.ndarray
    scatter: np.ndarray

    def covariance(self, ddof=0):
        """Sample covariance ``scatter / (n - ddof)``."""
        return self.scatter / (self.n_samples - ddof)

    def merge(self, other):
        """Statistics of the union of two disjoint sets of rows (Chan et al. 1979)."""
        if self.n_samples == 0:
            return other
        n = self.n_samples + other.n_samples
        # Non-finite statistics (of data with NaN or infinity) are reported by
        # the caller's checks of the data, with a message that says what to do.
        with np.errstate(over="ignore", invalid="ignore"):
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.n_samples / n)
            scatter = self.scatter + other.scatter
            scatter += np.outer(delta, delta) * (self.n_samples * other.n_samples / n)
        return ScatterStats(n, mean, scatter)

    __add__ = merge


def scatter_stats(X, sums=None):
    """Count, mean and scatter of the rows of ``X``, without a centred copy of ``X``.

    The fast path forms ``X^T X`` (numpy calls BLAS ``syrk`` for a product of a
    matrix with its own transpose) and subtracts ``n m m^T``. When the mean is
    large against the spread that subtraction cancels digits, and the rows are
    centred in chunks of a few megabytes instead: the two-pass algorithm, which
    is accurate whatever the offset.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    sums : ndarray of shape (p,), optional
        Column sums of ``X`` when the caller already has them.

    Returns
    -------
    ScatterStats
    """
    n, p = X.shape
    mean = (X.sum(axis=0) if sums is None else sums) / n
    # Overflow for data near the float64 limit is reported by the caller's
    # check of the variance, with a message that says what to do.
    with np.errstate(over="ignore", invalid="ignore"):
        scatter = X.T @ X
        raw_diag = np.diag(scatter).copy()
        scatter -= n * np.outer(mean, mean)
    centred_diag = np.diag(scatter)
    if np.any(raw_diag > _CANCELLATION_LIMIT * np.maximum(centred_diag, 0.0)):
        scatter = centred_scatter(X, mean)
    # X^T X is symmetric in exact arithmetic; make it so in floating point.
    scatter = 0.5 * (scatter + scatter.T)
    return ScatterStats(n, mean, scatter)


def centred_scatter(X, mean):
    """``(X - mean)^T (X - mean)`` accumulated over row chunks of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    mean : ndarray of shape (p,)

    Returns
    -------
    scatter : ndarray of shape (p, p)
    """
    n, p = X.shape
    rows = max(1, _CHUNK_BYTES // (8 * p))
    scatter = np.zeros((p, p))
    buffer = np.empty((min(rows, n), p))
    for start in range(0, n, rows):
        chunk = buffer[: min(rows, n - start)]
        np.subtract(X[start : start + rows], mean, out=chunk)
        scatter += chunk.T @ chunk
    return scatter


@dataclass
class ColumnStats:
    """Per column: observed count, mean, sum of squared deviations, smallest and largest value.

    The statistics a first pass over the data gathers to check it and to
    centre it, with NaN read as a missing entry: NaN and infinite entries are
    counted, the rest are summarised. ``a + b`` merges column by column with
    Chan, Golub & LeVeque (1979).

    Attributes
    ----------
    n_samples : int
        Rows.
    count : ndarray of shape (p,)
        Non-NaN entries per column.
    mean, m2 : ndarray of shape (p,)
        Mean and sum of squared deviations of the finite entries.
    minimum, maximum : ndarray of shape (p,)
        Extremes of the finite entries (NaN for a column without any).
    n_missing, n_infinite : int
        NaN and infinite entries.
    """

    n_samples: int
    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    n_missing: int
    n_infinite: int

    def __add__(self, other):
        count = self.count + other.count
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(count > 0, other.count / np.maximum(count, 1), 0.0)
            delta = np.where(other.count > 0, other.mean, 0.0) - np.where(self.count > 0, self.mean, 0.0)
            mean = np.where(self.count > 0, self.mean, 0.0) + delta * share
            m2 = (np.where(self.count > 0, self.m2, 0.0) + np.where(other.count > 0, other.m2, 0.0)
                  + delta**2 * self.count * share)
        mean[count == 0] = np.nan
        return ColumnStats(self.n_samples + other.n_samples, count, mean, m2, np.fmin(self.minimum, other.minimum),
                           np.fmax(self.maximum, other.maximum), self.n_missing + other.n_missing,
                           self.n_infinite + other.n_infinite)

    def variance(self):
        """Per-column variance of the observed entries (divisor: their count)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.m2 / self.count

    def spread(self):
        """Largest minus smallest value of each column."""
        return self.maximum - self.minimum


def _corrected(mean, m2, residual_sum, count):
    """Mean and squared deviations after the correction step of the two-pass algorithm.

    The first-pass mean of values far from zero (data + 1e12, say) is off by
    a few units in the last place of the sum; the deviations from it still
    sum to ``n`` times that error, which the correction removes (Chan, Golub &
    LeVeque 1983, the corrected two-pass algorithm). EM starting from this
    mean cannot be relied on to remove the error itself: along the principal
    subspace it contracts the mean's error as slowly as the loadings converge.
    """
    shift = residual_sum / count
    return mean + shift, m2 - shift * residual_sum


def column_stats(X):
    """:class:`ColumnStats` of the rows of ``X``; reads ``X`` a few times, copies one chunk.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        May hold NaN (missing) and infinite entries.

    Returns
    -------
    ColumnStats
    """
    n, p = X.shape
    with np.errstate(over="ignore", invalid="ignore"):
        sums = X.sum(axis=0)
    if n and np.isfinite(sums).all():
        # No missing or infinite entry (their sum would not be finite): one
        # centred copy of the chunk, no masks.
        mean = sums / n
        deviation = X - mean
        with np.errstate(over="ignore", invalid="ignore"):
            m2 = np.einsum("ij,ij->j", deviation, deviation)
            mean, m2 = _corrected(mean, m2, deviation.sum(axis=0), n)
        return ColumnStats(n, np.full(p, float(n)), mean, m2, X.min(axis=0), X.max(axis=0), 0, 0)
    finite = np.isfinite(X)
    missing = np.isnan(X)
    n_infinite = int(np.count_nonzero(~finite & ~missing))
    clean = np.where(finite, X, 0.0)
    count = finite.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = clean.sum(axis=0) / count
    deviation = np.where(finite, clean - np.nan_to_num(mean), 0.0)
    # Overflow for data near the float64 limit is reported by the variance check.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        m2 = np.einsum("ij,ij->j", deviation, deviation)
        mean, m2 = _corrected(mean, m2, deviation.sum(axis=0), count)
    minimum = np.fmin.reduce(np.where(finite, X, np.nan), axis=0) if n else np.full(p, np.nan)
    maximum = np.fmax.reduce(np.where(finite, X, np.nan), axis=0) if n else np.full(p, np.nan)
    return ColumnStats(n, count.astype(np.float64), mean, m2, minimum, maximum, int(missing.sum()), n_infinite)


@dataclass
class PairwiseStats(Stats):
    """Sums over the rows where both of two columns are observed, for pairwise-complete correlations.

    With ``O`` the 0/1 matrix of observed entries and ``Y`` the data minus a
    fixed per-column shift ``c`` (missing entries 0): ``count = O^T O``,
    ``first = Y^T O`` (sum of column ``i`` over the rows where ``j`` is
    observed), ``second = (Y * Y)^T O`` and ``cross = Y^T Y``. The shift only
    keeps the sums of squares from cancelling digits; the correlations do not
    depend on it.
    """

    count: np.ndarray
    first: np.ndarray
    second: np.ndarray
    cross: np.ndarray

    def correlation(self):
        """Pearson correlation of every pair over the rows where both are observed (NaN if < 2)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            n = np.where(self.count >= 2, self.count, np.nan)
            covariance = self.cross - self.first * self.first.T / n
            var_i = self.second - self.first**2 / n
            var_j = var_i.T
            return covariance / np.sqrt(var_i * var_j)


def pairwise_stats(X, shift):
    """:class:`PairwiseStats` of the rows of ``X`` (NaN is missing) about ``shift``."""
    observed = ~np.isnan(X)
    weights = observed.astype(np.float64)
    shifted = np.where(observed, X - shift, 0.0)
    return PairwiseStats(weights.T @ weights, shifted.T @ weights, (shifted * shifted).T @ weights,
                         shifted.T @ shifted)


@dataclass
class SummaryLoglik(Stats):
    """An E-step's output when the rows are summarised by a sufficient statistic: the
    log-likelihood of the current parameters, summed over the rows, beside that statistic."""

    n_samples: int
    loglik: float
    summary: object


def imputed_scatter(X, fill):
    """:class:`ScatterStats` of ``X`` with each NaN replaced by ``fill`` of its column."""
    return scatter_stats(np.where(np.isnan(X), fill, X))


def observed_columns(source):
    """The :class:`ColumnStats` of a source's rows, from its first pass when it made one."""
    return source.remember("columns", column_stats, rows=chunk_rows(source.n_features))


def masked_mean(X):
    """Column means ignoring NaN entries; a column with no value gets NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(X, axis=0) / np.sum(~np.isnan(X), axis=0)
