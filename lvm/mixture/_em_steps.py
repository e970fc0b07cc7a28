"""E- and M-step kernels of the Gaussian mixture, for complete and incomplete data.

The E-step of a chunk of rows returns the summed log-likelihood of the current
parameters and the sufficient statistics of the responsibilities,
:class:`MixtureStats`, which add over chunks: the EM driver runs it over row
chunks, so the responsibilities of all rows never exist at once and each
chunk's products stay in cache.
"""

import threading
from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg

from .._stats import Stats
from ._covariance import _LOG_2PI
from ._roundoff import check_not_degenerate, far_components

# Rows per chunk: about this many bytes of (rows x components x features) work arrays.
_CHUNK_BYTES = 8 * 2**20


def chunk_rows(k, p):
    """Rows per chunk for ``k`` components and ``p`` features."""
    return max(256, _CHUNK_BYTES // (8 * max(k, 1) * max(p, 1)))


_buffers = threading.local()


def centred(chunk, center):
    """``chunk - center`` written into a buffer kept by the calling thread.

    Every E-step centres every chunk (the second-moment M-step loses digits
    on uncentred data); a fresh array per chunk and iteration would cost an
    allocation and its page faults each time. The result is overwritten by the
    thread's next call, so callers keep nothing that refers to it.
    """
    buffer = getattr(_buffers, "array", None)
    if buffer is None or buffer.shape[0] < len(chunk) or buffer.shape[1] != chunk.shape[1]:
        buffer = _buffers.array = np.empty(chunk.shape)
    out = buffer[: len(chunk)]
    np.subtract(chunk, center, out=out)
    return out


def logsumexp_rows(a):
    """``log sum_k exp(a_nk)`` per row, stably: the row maximum is factored out first."""
    top = a.max(axis=1)
    top[~np.isfinite(top)] = 0.0
    # exp of entries far below the row maximum underflows to 0 harmlessly.
    with np.errstate(under="ignore"):
        shifted = np.exp(a - top[:, None])
    return np.log(shifted.sum(axis=1)) + top


def log_resp(X, weights, means, precisions_cholesky, structure):
    """Log responsibilities and per-row log-likelihood: ((n, k), (n,))."""
    weighted = structure.log_prob(X, means, precisions_cholesky)
    weighted += np.log(weights)
    norm = logsumexp_rows(weighted)
    weighted -= norm[:, None]
    return weighted, norm


@dataclass
class MixtureStats(Stats):
    """Expected sufficient statistics of a Gaussian mixture, summed over rows.

    ``nk = sum_n r_nk`` (k,), ``sums = sum_n r_nk (x_n - f_k)`` (k, p) and the
    second moment about ``f_k`` the covariance structure needs (None where it
    is a constant the M-step adds: the tied structure's scatter of the complete
    rows), with the row count and the summed log-likelihood of the parameters
    they were computed under. The frames ``f_k`` are ``origins`` (k, p), or
    all at the origin when ``origins`` is None: for a component far from the
    origin, the mean it had in those parameters (:func:`frames`), for a
    hard assignment its centre.
    """

    n_samples: int
    loglik: float
    nk: np.ndarray
    sums: np.ndarray
    second: np.ndarray = None
    origins: np.ndarray = None

    def __add__(self, other):
        origins = self.origins
        if (origins is None) != (other.origins is None) or (
                origins is not None and not np.array_equal(origins, other.origins)):
            raise ValueError("mixture statistics taken about different frames do not add")
        total = Stats.__add__(replace(self, origins=None), replace(other, origins=None))
        total.origins = origins
        return total


def frames(params, structure):
    """The frames of the statistics of ``params``: ((k, p) origins, (k,) bool far).

    A component whose mean lies farther than :data:`~lvm.mixture._roundoff.CANCELLATION_LIMIT`
    (squared, in its own metric) from the origin gets its mean as origin, so
    that its second moment does not cancel; the others keep the origin, where
    the statistics of all components come from one product.
    """
    means = params["means"]
    if "precisions_cholesky" not in params:
        return np.zeros_like(means), np.zeros(len(means), dtype=bool)
    far = far_components(means, params["precisions_cholesky"], structure)
    return np.where(far[:, None], means, 0.0), far


def resp_stats(X, resp, structure, loglik=0.0, origins=None, far=None):
    """:class:`MixtureStats` of complete, centred rows ``X`` with responsibilities ``resp``.

    ``origins`` and ``far`` are the frames (:func:`frames`); by default all at
    the origin. ``structure=None`` leaves out the second moment (k-means needs
    counts and sums only).
    """
    k = resp.shape[1]
    if far is None or not far.any():
        origins, far = np.zeros((k, X.shape[1])), np.zeros(k, dtype=bool)
    sums = resp.T @ X
    for j in np.flatnonzero(far):
        sums[j] = resp[:, j] @ (X - origins[j])
    second = None
    if structure is not None and not (structure.constant_second and not far.any()):
        second = structure.second_moment(X, resp, origins, far)
    return MixtureStats(len(X), loglik, resp.sum(axis=0), sums, second, origins if far.any() else None)


def e_step(X, params, structure):
    """E-step on complete, centred rows: the statistics of their responsibilities.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Rows minus ``params["center"]``.
    params : dict
        ``weights``, ``means``, ``precisions_cholesky`` (of centred data).
    structure : covariance structure class

    Returns
    -------
    MixtureStats
    """
    log_r, norm = log_resp(X, params["weights"], params["means"], params["precisions_cholesky"], structure)
    with np.errstate(under="ignore"):
        resp = np.exp(log_r)
    return resp_stats(X, resp, structure, float(norm.sum()), *frames(params, structure))


def m_step(stats, previous, structure, reg_covar, constant_second=None):
    """Weights, means and covariances that maximise the expected complete-data log-likelihood.

    A component whose responsibilities sum to (numerically) nothing keeps its
    previous mean and covariance: they do not enter the expected likelihood,
    so this is still an M-step, and nothing is divided by zero.

    Parameters
    ----------
    stats : MixtureStats
    previous : dict
        The parameters the statistics were computed under.
    structure : covariance structure class
    reg_covar : float
    constant_second : ndarray, optional
        The part of the second moment that does not depend on the
        responsibilities (tied: the scatter of the complete rows).

    Returns
    -------
    params : dict
        ``weights``, ``means``, ``covariances``, ``precisions_cholesky``.

    Raises
    ------
    ValueError
        If a covariance is singular, or its variance in some direction is
        round-off at the scale of the data (a component collapsed onto
        identical points with ``reg_covar`` too small to hold it).
    """
    # scikit-learn adds the same 10 eps, which keeps the two fits comparable step by step.
    nk = stats.nk + 10 * np.finfo(np.float64).eps
    offsets = stats.sums / nk[:, None]
    means = offsets if stats.origins is None else stats.origins + offsets
    empty = stats.nk < 1e-10 * stats.n_samples
    if empty.any():
        means[empty] = previous["means"][empty]
    second = stats.second
    # The constant is the scatter about the origin; statistics in other frames hold all of theirs.
    if constant_second is not None and stats.origins is None:
        second = constant_second if second is None else constant_second + second
    covariances = structure.estimate(nk, offsets, second, reg_covar, skip=empty, previous=previous.get("covariances"))
    if empty.any():
        covariances = structure.keep_previous(covariances, previous["covariances"], empty)
    precisions_cholesky = structure.precision_cholesky(covariances)
    check_not_degenerate(structure, nk, second, means, previous.get("center"), precisions_cholesky, reg_covar,
                         empty)
    weights = nk / nk.sum()
    return {"weights": weights, "means": means, "covariances": covariances,
            "precisions_cholesky": precisions_cholesky}


def _pattern_groups(observed):
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    return patterns, inverse.ravel()


def e_step_missing(X0, observed, params, structure):
    """E-step that marginalises the missing coordinates (Ghahramani & Jordan 1994).

    Rows are grouped by their pattern of observed coordinates ``O``. For each
    group and component the density is ``N(x_O | mu_O, Sigma_OO)``; the missing
    coordinates get their conditional mean
    ``mu_M + Sigma_MO Sigma_OO^{-1} (x_O - mu_O)`` and add the conditional
    covariance ``Sigma_MM - Sigma_MO Sigma_OO^{-1} Sigma_OM`` to the second
    moment. The statistics are full second moments, reduced to what the
    covariance structure needs (for tied, the whole second moment of these rows).

    Parameters
    ----------
    X0 : ndarray of shape (n, p)
        Centred rows with missing entries set to 0.
    observed : ndarray of shape (n, p), bool
    params : dict
        With ``covariances`` in the structure's storage.
    structure : covariance structure class

    Returns
    -------
    MixtureStats
    """
    n, p = X0.shape
    means = params["means"]
    k = means.shape[0]
    full = structure.to_full(params["covariances"], k, p)
    log_weights = np.log(params["weights"])
    origins, far = frames(params, structure)
    patterns, group = _pattern_groups(observed)
    nk = np.zeros(k)
    sums = np.zeros((k, p))
    second = np.zeros((k, p, p))
    total = 0.0
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(group == g)
        log_prob, filled, conditional = _pattern_terms(X0[rows], pattern, means, full)
        weighted = log_prob + log_weights
        norm = logsumexp_rows(weighted)
        with np.errstate(under="ignore"):
            resp = np.exp(weighted - norm[:, None])
        total += norm.sum()
        mass = resp.sum(axis=0)
        nk += mass
        for j in range(k):
            moved = filled[j] - origins[j]
            weighted_rows = moved * resp[:, j : j + 1]
            sums[j] += weighted_rows.sum(axis=0)
            second[j] += moved.T @ weighted_rows + mass[j] * conditional[j]
    return MixtureStats(n, float(total), nk, sums, structure.from_full(second), origins if far.any() else None)


def _pattern_terms(rows, pattern, means, full):
    """For rows sharing one pattern of observed coordinates, per component:
    ``log N(x_O | mu_O, Sigma_OO)``, the rows with their missing coordinates
    replaced by the conditional means, and the conditional covariance of the
    missing block (zero elsewhere)."""
    k, p = means.shape
    seen = np.flatnonzero(pattern)
    hidden = np.flatnonzero(~pattern)
    block = rows[:, seen]
    log_prob = np.zeros((len(rows), k))
    filled = np.empty((k, len(rows), p))
    conditional = np.zeros((k, p, p))
    for j in range(k):
        diff = block - means[j, seen]
        filled[j][:, seen] = block
        if seen.size:
            chol = linalg.cholesky(full[j][np.ix_(seen, seen)], lower=True)
            half = linalg.solve_triangular(chol, diff.T, lower=True)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            log_prob[:, j] = -0.5 * (seen.size * _LOG_2PI + logdet + np.sum(half**2, axis=0))
        if hidden.size:
            cov_mo = full[j][np.ix_(hidden, seen)]
            cond = full[j][np.ix_(hidden, hidden)]
            filled[j][:, hidden] = means[j, hidden]
            if seen.size:
                gain = linalg.cho_solve((chol, True), cov_mo.T).T
                filled[j][:, hidden] += diff @ gain.T
                cond = cond - gain @ cov_mo.T
            conditional[j][np.ix_(hidden, hidden)] = cond
    return log_prob, filled, conditional


def log_prob_missing(X, observed, means, covariances, structure):
    """``log N(x_O | mu_kO, Sigma_kOO)`` of every row (its observed entries ``O``) under every component: (n, k)."""
    n, p = X.shape
    k = means.shape[0]
    full = structure.to_full(covariances, k, p)
    patterns, group = _pattern_groups(observed)
    log_prob = np.empty((n, k))
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(group == g)
        log_prob[rows] = _pattern_terms(np.where(observed[rows], X[rows], 0.0), pattern, means, full)[0]
    return log_prob
