"""Sufficient statistics of a Gaussian: count, mean and scatter matrix.

Computed over row chunks and merged with the pairwise update of Chan, Golub &
LeVeque (1979), so that ``partial_fit`` over any split of the rows gives the
same statistics as one pass over all of them, to round-off.
"""

from dataclasses import dataclass

import numpy as np

# If a column's raw sum of squares exceeds its centred sum of squares by more
# than this factor, forming X^T X and subtracting n m m^T would lose more than
# four of the sixteen significant digits; the data is then centred chunk by
# chunk instead.
_CANCELLATION_LIMIT = 1e4
_CHUNK_BYTES = 4 * 2**20


@dataclass
class ScatterStats:
    """Count, mean and scatter ``sum_i (x_i - mean)(x_i - mean)^T`` of some rows.

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
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n_samples / n)
        scatter = self.scatter + other.scatter
        scatter += np.outer(delta, delta) * (self.n_samples * other.n_samples / n)
        return ScatterStats(n, mean, scatter)


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


def masked_mean(X):
    """Column means ignoring NaN entries; a column with no value gets NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(X, axis=0) / np.sum(~np.isnan(X), axis=0)
