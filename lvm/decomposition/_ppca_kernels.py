"""Numerical kernels of probabilistic PCA (Tipping & Bishop 1999).

Notation of the paper: ``x = W z + mu + e`` with ``z ~ N(0, I_k)`` and
``e ~ N(0, s2 I_p)``; ``W`` is ``loadings`` (p, k), ``s2`` is
``noise_variance``, ``C = W W^T + s2 I`` and ``M = W^T W + s2 I``.
"""

import numpy as np
from scipy import linalg
from scipy.special import gammaln

from .._linalg import _LOG_2PI, flip_signs
from .._lowrank import inner_factor


def closed_form(values, vectors, trace, p):
    """Maximum-likelihood ``W`` and ``s2`` from the top eigenpairs of the covariance.

    ``s2 = (trace(S) - sum_{j<=k} lambda_j) / (p - k)`` and
    ``W = U_k (Lambda_k - s2 I)^{1/2}`` (Tipping & Bishop 1999, eqs. 7-8, with
    the arbitrary rotation ``R = I``).

    Parameters
    ----------
    values : ndarray of shape (k,)
        Largest eigenvalues of ``S`` (divisor ``n``), decreasing.
    vectors : ndarray of shape (p, k)
        Their eigenvectors.
    trace : float
        ``trace(S)``.
    p : int
        Number of features.

    Returns
    -------
    loadings : ndarray of shape (p, k)
    noise_variance : float
    """
    k = len(values)
    noise_variance = max(trace - values.sum(), 0.0) / (p - k)
    loadings = vectors * np.sqrt(np.maximum(values - noise_variance, 0.0))
    return loadings, noise_variance


def loglik_from_covariance(S, loadings, noise_variance):
    """Mean log-likelihood per sample of data with ML covariance ``S``.

    ``L / n = -(p log 2 pi + log|C| + tr(C^{-1} S)) / 2`` (Tipping & Bishop
    1999, eq. 4), with ``tr(C^{-1} S) = (tr S - tr(M^{-1} W^T S W)) / s2`` by Woodbury.

    Parameters
    ----------
    S : ndarray of shape (p, p)
    loadings : ndarray of shape (p, k)
    noise_variance : float

    Returns
    -------
    float
    """
    p = S.shape[0]
    # W^T S W scales as the fourth power of the data; working in units of the
    # mean variance keeps it representable for data of any magnitude.
    scale = np.trace(S) / p
    S, loadings, noise_variance = S / scale, loadings / np.sqrt(scale), noise_variance / scale
    chol, logdet = inner_factor(loadings, noise_variance)
    SW = S @ loadings
    # cho_solve with M = I + W^T W / s2 gives s2 (W^T W + s2 I)^{-1}
    inner = linalg.cho_solve((chol, True), loadings.T @ SW) / noise_variance
    trace_term = (np.trace(S) - np.trace(inner)) / noise_variance
    return -0.5 * (p * _LOG_2PI + logdet + p * np.log(scale) + trace_term)


def em_step_covariance(S, loadings, noise_variance):
    """One EM update of ``W`` and ``s2`` from the covariance ``S`` (complete data).

    ``W' = S W (s2 I + M^{-1} W^T S W)^{-1}`` and
    ``s2' = tr(S - S W M^{-1} W'^T) / p`` (Tipping & Bishop 1999, eqs. 29-30);
    each step costs ``O(p^2 k)`` whatever the number of rows.

    Returns
    -------
    loadings : ndarray of shape (p, k)
    noise_variance : float
    """
    p, k = loadings.shape
    # The update is scale-equivariant; see loglik_from_covariance for why we rescale.
    scale = np.trace(S) / p
    S, loadings, noise_variance = S / scale, loadings / np.sqrt(scale), noise_variance / scale
    chol, _ = inner_factor(loadings, noise_variance)
    SW = S @ loadings
    # M^{-1} of the paper, M = W^T W + s2 I, is s2^{-1} times the inverse of chol's matrix
    minv_wt_sw = linalg.cho_solve((chol, True), loadings.T @ SW) / noise_variance
    inner = minv_wt_sw.copy()
    inner[np.diag_indices(k)] += noise_variance
    new_loadings = linalg.solve(inner.T, SW.T, assume_a="gen").T
    minv_new_wt = linalg.cho_solve((chol, True), new_loadings.T) / noise_variance
    new_noise = (np.trace(S) - np.einsum("ij,ji->", SW, minv_new_wt)) / p
    return new_loadings * np.sqrt(scale), float(new_noise * scale)


def canonical_loadings(loadings):
    """Rotate ``W`` to orthogonal columns of decreasing norm, signs fixed.

    ``W`` is identified only up to a rotation ``W R``; the SVD ``W = U D R^T``
    gives the representative ``U D``, which for the ML solution equals
    ``U_k (Lambda_k - s2 I)^{1/2}``.
    """
    left, singular, _ = linalg.svd(loadings, full_matrices=False)
    canonical = left * singular
    flip_signs(canonical.T)
    return canonical


def minka_log_evidence(eigenvalues, n_samples):
    """Laplace approximation to the evidence ``log p(D | k)`` for every ``k``.

    Minka (2000), section 3 (the Laplace approximation):

    .. math::
        p(D \\mid k) \\approx p(U) \\prod_{j \\le k} \\lambda_j^{-n/2}\\,
        \\hat\\sigma^{-n(d-k)} (2\\pi)^{(m+k)/2} |A_Z|^{-1/2} n^{-k/2}

    with ``m = d k - k (k + 1) / 2``,
    ``p(U) = 2^{-k} prod_i Gamma((d - i + 1)/2) pi^{-(d - i + 1)/2}`` and
    ``|A_Z| = prod_{i<=k} prod_{j>i} n (1/lh_j - 1/lh_i)(l_i - l_j)`` where
    ``lh_j`` is ``l_j`` for ``j <= k`` and ``s2`` beyond. The result does not
    depend on the scale of the eigenvalues.

    Parameters
    ----------
    eigenvalues : ndarray of shape (d,)
        All eigenvalues of the sample covariance, decreasing.
    n_samples : int

    Returns
    -------
    ndarray of shape (d - 1,)
        Log-evidence for ``k = 1, ..., d - 1``; ``-inf`` where undefined.
    """
    d = len(eigenvalues)
    n = n_samples
    out = np.full(d - 1, -np.inf)
    for k in range(1, d):
        rest = eigenvalues[k:]
        sigma2 = rest.sum() / (d - k)
        if sigma2 <= 0 or eigenvalues[k - 1] <= sigma2:
            continue
        i = np.arange(1, k + 1)
        log_pu = -k * np.log(2.0) + np.sum(gammaln((d - i + 1) / 2.0) - (d - i + 1) / 2.0 * np.log(np.pi))
        m = d * k - k * (k + 1) / 2.0
        hat = np.concatenate([eigenvalues[:k], np.full(d - k, sigma2)])
        log_az = 0.0
        for a in range(k):
            diff_inv = 1.0 / hat[a + 1 :] - 1.0 / hat[a]
            diff = eigenvalues[a] - eigenvalues[a + 1 :]
            with np.errstate(divide="ignore", invalid="ignore"):
                log_az += np.sum(np.log(diff_inv) + np.log(diff) + np.log(n))
        out[k - 1] = (
            log_pu
            - n / 2.0 * np.sum(np.log(eigenvalues[:k]))
            - n * (d - k) / 2.0 * np.log(sigma2)
            + (m + k) / 2.0 * _LOG_2PI
            - 0.5 * log_az
            - k / 2.0 * np.log(n)
        )
    out[~np.isfinite(out)] = -np.inf
    return out
