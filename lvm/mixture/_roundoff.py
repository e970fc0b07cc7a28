"""Round-off guards of the Gaussian mixture: where an expanded square cancels,
which components need their own frame, and when a covariance is noise.

Kernels of :mod:`lvm.mixture._covariance` and :mod:`lvm.mixture._em_steps`;
each takes the covariance structure as an argument, so nothing here knows
the four types.
"""

import numpy as np
from scipy import linalg

# Ratio of the terms of an expanded square (or a second moment about the
# origin) to their difference beyond which the difference is computed
# directly: losing up to three of sixteen digits is harmless, more is not.
CANCELLATION_LIMIT = 1e3


def refine_squares(X, means, precisions_cholesky, squares, magnitude, bound, exact):
    """``squares`` with the rows whose expansion cancelled recomputed by ``exact`` from differences; (n, k).

    ``magnitude`` (n, k), or a function that computes it, holds the size of
    the terms that were added; ``bound`` is an upper bound of it, so that on
    ordinary data (nothing near the limit) one comparison is all it costs.
    """
    p = X.shape[1]
    if bound <= CANCELLATION_LIMIT * p:
        return squares
    if callable(magnitude):
        magnitude = magnitude()
    bad = (magnitude > CANCELLATION_LIMIT * np.maximum(squares, p)).any(axis=1)
    if bad.any():
        squares[bad] = exact(X[bad], means, precisions_cholesky)
    return squares


def far_components(means, precisions_cholesky, structure):
    """Which components sit so far from the origin, in their own metric, that
    second moments about the origin would cancel: (k,) bool."""
    distances = structure.exact_squares(np.zeros((1, means.shape[1])), means, precisions_cholesky)[0]
    return ~(distances <= CANCELLATION_LIMIT)


# A variance is round-off, not a measurement, below this fraction of the
# second moment it was computed from (the sum cancels to about a thousand eps)
# or below (16 ulp)^2 of the data's magnitude, the finest difference the
# data themselves resolve.
_CANCELLATION_NOISE = 1e3 * np.finfo(np.float64).eps
_RESOLUTION_NOISE = (16 * np.finfo(np.float64).eps) ** 2


def check_not_degenerate(structure, nk, second, means, center, precisions_cholesky, reg_covar, skip):
    """Raise a clear error for a component whose covariance is round-off.

    The variance of every coordinate (and, through the diagonal of the
    precision, of every direction) is compared with its noise level: the
    cancellation of the second moment about the frame it came from and the
    resolution of data of that magnitude. A component that collapsed onto
    identical points then has a density that only round-off bounds (with
    ``reg_covar=0``, say 86 nats per sample at a variance of 8e-17), and the
    likelihood, its history and every comparison made with it would be noise.

    Parameters
    ----------
    structure : covariance structure class
    nk : ndarray of shape (k,)
    second : ndarray
        Second moments about the frames, in the structure's storage.
    means : ndarray of shape (k, p)
        Means of the centred data.
    center : ndarray of shape (p,) or None
        What was subtracted from the data.
    precisions_cholesky : ndarray
    reg_covar : float
    skip : ndarray of shape (k,), bool
        Components to leave out (emptied ones keep their previous values).
    """
    moments = structure.moment_diagonal(nk, second)
    magnitude = np.abs(means) + (0.0 if center is None else np.abs(center))
    if moments.shape[0] == 1:
        magnitude = magnitude.max(axis=0, keepdims=True)
        skip = np.zeros(1, dtype=bool)
    noise = _CANCELLATION_NOISE * moments + _RESOLUTION_NOISE * (magnitude**2 + moments)
    ratio = np.sum(structure.precision_diagonal(precisions_cholesky, moments.shape[1]) * noise, axis=1)
    collapsed = np.flatnonzero((ratio > 1.0) & ~skip)
    if collapsed.size:
        j = int(collapsed[0])
        which = "the shared covariance" if moments.shape[0] == 1 and len(nk) > 1 else f"component {j}"
        raise collapse_error(which, noise[j].max(), reg_covar)


def collapse_error(which, noise, reg_covar):
    return ValueError(
        f"{which} has collapsed onto (nearly) identical points: its variance is at the level of "
        f"round-off ({noise:.3g} at this scale of the data) and reg_covar={reg_covar:g} does not hold "
        f"it above that, so its density would be bounded by rounding alone. Use "
        f"reg_covar >= {10 * noise:.3g}, fewer components, or remove duplicated points."
    )


def floor_eigenvalues(covariance, reg_covar, which):
    """The covariance with its eigenvalues raised to at least ``reg_covar`` (Hathaway 1985).

    This maximises ``-log|S| - tr(S^{-1} C)`` over ``S`` with eigenvalues
    ``>= reg_covar``. When no eigenvalue is below the floor (a Cholesky factor
    proves it) nothing changes; otherwise only the clipped directions are
    corrected, ``C + V_c (reg_covar - L_c) V_c^T``, so that the rest of ``C``
    keeps every digit (a rebuilt ``V max(L, reg) V^T`` carries an error of
    eps times the largest eigenvalue into every entry, which wipes out the
    columns of a badly scaled covariance). The eigenvalues themselves are only
    known to about eps times the largest: a floor below that cannot be applied
    and means the component is singular at round-off.
    """
    p = len(covariance)
    try:
        linalg.cholesky(covariance - reg_covar * np.eye(p), lower=True)
        return covariance
    except linalg.LinAlgError:
        pass
    values, vectors = linalg.eigh(covariance)
    noise = _CANCELLATION_NOISE * np.max(np.abs(values))
    if not reg_covar > noise:
        raise collapse_error(which, noise, reg_covar)
    low = values < reg_covar
    clipped = vectors[:, low]
    floored = covariance + (clipped * (reg_covar - values[low])) @ clipped.T
    return 0.5 * (floored + floored.T)
