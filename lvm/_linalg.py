"""Small numerical kernels shared by the models.

Pure functions of arrays: no estimator state, no input validation. Shapes are
documented on each function. Gaussians are handled through Cholesky factors and,
for low-rank-plus-diagonal covariances, through the Woodbury identity and the
matrix determinant lemma, so that no ``p x p`` matrix is ever inverted.
"""

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import eigsh

_LOG_2PI = np.log(2.0 * np.pi)

# Below this size a dense symmetric eigensolver beats Lanczos iterations.
_DENSE_EIGH_MAX = 600


def flip_signs(components):
    """Make the largest-magnitude entry of each row positive.

    Eigenvectors and singular vectors are defined up to sign; fixing it makes
    results reproducible (scikit-learn's ``svd_flip`` with
    ``u_based_decision=False`` uses the same rule).

    Parameters
    ----------
    components : ndarray of shape (k, p)

    Returns
    -------
    signs : ndarray of shape (k,)
        The factors (+1 or -1) that were applied, so that callers can flip
        the matching scores or left singular vectors too.
    """
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), idx])
    signs[signs == 0] = 1.0
    components *= signs[:, None]
    return signs


def eigh_top(matrix, k):
    """Top ``k`` eigenpairs of a symmetric positive semi-definite matrix.

    Uses a dense LAPACK solver (``syevr`` on the wanted index range) for small
    matrices or large ``k``, and implicitly restarted Lanczos (ARPACK, run to
    machine precision from a fixed start vector, so the result is
    deterministic) when few eigenpairs of a large matrix are wanted.

    Parameters
    ----------
    matrix : ndarray of shape (m, m)
        Symmetric; only its values are read.
    k : int
        Number of eigenpairs, ``1 <= k <= m``.

    Returns
    -------
    values : ndarray of shape (k,)
        Eigenvalues in decreasing order.
    vectors : ndarray of shape (m, k)
        Matching orthonormal eigenvectors.
    """
    m = matrix.shape[0]
    if m <= _DENSE_EIGH_MAX or 4 * k >= m:
        values, vectors = linalg.eigh(matrix, subset_by_index=[m - k, m - 1], driver="evr")
    else:
        start = np.random.default_rng(0).standard_normal(m)
        values, vectors = eigsh(matrix, k=k, which="LA", tol=0.0, v0=start)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]


def lowrank_logdet_and_factor(loadings, noise_variance):
    """Cholesky factor of ``M = W^T W + s2 I`` and ``log|W W^T + s2 I|``.

    The matrix determinant lemma gives
    ``log|W W^T + s2 I_p| = (p - k) log s2 + log|M|``.

    Parameters
    ----------
    loadings : ndarray of shape (p, k)
        ``W``.
    noise_variance : float
        ``s2 > 0``.

    Returns
    -------
    chol : ndarray of shape (k, k)
        Lower Cholesky factor of ``M``.
    logdet : float
        ``log|W W^T + s2 I_p|``.
    """
    p, k = loadings.shape
    inner = loadings.T @ loadings
    inner[np.diag_indices(k)] += noise_variance
    chol = linalg.cholesky(inner, lower=True)
    logdet = (p - k) * np.log(noise_variance) + 2.0 * np.log(np.diag(chol)).sum()
    return chol, logdet


def lowrank_gaussian_logpdf(centered, loadings, noise_variance):
    """Log-density of ``N(0, W W^T + s2 I)`` at each row of ``centered``.

    By Woodbury, ``(W W^T + s2 I)^{-1} = (I - W M^{-1} W^T) / s2`` with
    ``M = W^T W + s2 I``, so the quadratic form costs ``O(p k)`` per row.

    Parameters
    ----------
    centered : ndarray of shape (n, p)
        Data minus the mean.
    loadings : ndarray of shape (p, k)
        ``W``.
    noise_variance : float
        ``s2 > 0``.

    Returns
    -------
    logpdf : ndarray of shape (n,)
    """
    p = centered.shape[1]
    chol, logdet = lowrank_logdet_and_factor(loadings, noise_variance)
    projected = linalg.solve_triangular(chol, (centered @ loadings).T, lower=True)
    quad = (np.einsum("ij,ij->i", centered, centered) - np.einsum("ij,ij->j", projected, projected))
    quad /= noise_variance
    return -0.5 * (p * _LOG_2PI + logdet + quad)


def lowrank_posterior(centered, loadings, noise_variance):
    """Posterior of ``z`` given ``x`` when ``x = W z + mu + e``.

    With ``z ~ N(0, I)`` and ``e ~ N(0, s2 I)``: ``E[z | x] = M^{-1} W^T (x - mu)``
    and ``Cov[z | x] = s2 M^{-1}``, where ``M = W^T W + s2 I`` (Tipping & Bishop
    1999, eqs. 6-7).

    Parameters
    ----------
    centered : ndarray of shape (n, p)
    loadings : ndarray of shape (p, k)
    noise_variance : float

    Returns
    -------
    mean : ndarray of shape (n, k)
    covariance : ndarray of shape (k, k)
    """
    k = loadings.shape[1]
    chol, _ = lowrank_logdet_and_factor(loadings, noise_variance)
    mean = linalg.cho_solve((chol, True), (centered @ loadings).T).T
    covariance = noise_variance * linalg.cho_solve((chol, True), np.eye(k))
    return mean, covariance

