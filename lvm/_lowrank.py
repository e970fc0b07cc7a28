"""Kernels of the low-rank-plus-diagonal Gaussian shared by PPCA and factor analysis.

The model is ``x = W z + mu + e`` with ``z ~ N(0, I_k)`` and
``e ~ N(0, Psi)``, ``Psi`` diagonal: ``Psi = s2 I`` for probabilistic PCA,
free for factor analysis. So ``x ~ N(mu, C)`` with ``C = W W^T + Psi``.

Everything is computed in the ``k``-dimensional latent space: with the
whitened loadings ``V = Psi^{-1/2} W`` and ``M = I + V^T V``,

* Woodbury: ``C^{-1} = Psi^{-1/2} (I - V M^{-1} V^T) Psi^{-1/2}``;
* determinant lemma: ``log|C| = log|Psi| + log|M|``;
* posterior: ``z | x ~ N(M^{-1} V^T Psi^{-1/2} (x - mu), M^{-1})``.

``noise`` is a scalar or a vector of shape (p,) throughout.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ._linalg import _LOG_2PI
from ._stats import Stats


def _whiten(loadings, noise):
    noise = np.broadcast_to(np.asarray(noise, dtype=np.float64), (loadings.shape[0],))
    scale = 1.0 / np.sqrt(noise)
    return loadings * scale[:, None], scale, noise


def inner_factor(loadings, noise):
    """Cholesky factor of ``M = I + W^T Psi^{-1} W`` and ``log|C|``.

    Parameters
    ----------
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)

    Returns
    -------
    chol : ndarray of shape (k, k)
        Lower Cholesky factor of ``M``.
    logdet : float
        ``log|W W^T + Psi|``.
    """
    whitened, _, noise = _whiten(loadings, noise)
    inner = whitened.T @ whitened
    inner[np.diag_indices_from(inner)] += 1.0
    chol = linalg.cholesky(inner, lower=True)
    return chol, np.log(noise).sum() + 2.0 * np.log(np.diag(chol)).sum()


def logpdf(centered, loadings, noise):
    """Log-density of ``N(0, W W^T + Psi)`` at each row, in ``O(p k)`` per row.

    Parameters
    ----------
    centered : ndarray of shape (n, p)
        Data minus the mean.
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)

    Returns
    -------
    ndarray of shape (n,)
    """
    whitened, scale, _ = _whiten(loadings, noise)
    chol, logdet = inner_factor(loadings, noise)
    data = centered * scale
    latent = linalg.cho_solve((chol, True), (data @ whitened).T).T
    return -0.5 * (centered.shape[1] * _LOG_2PI + logdet + _quadratic(data, whitened, latent))


def _quadratic(data, whitened, latent, weights=None):
    """``y^T (I + V V^T)^{-1} y`` per row, as the sum of squares ``||y - V z||^2 + ||z||^2``.

    With ``z = M^{-1} V^T y`` (``M = I + V^T V``) this is Woodbury's
    ``y^T y - y^T V M^{-1} V^T y``; written as a difference it cancels every
    digit that the noise is smaller than the signal (a row fitted to 1e-8 of
    its size keeps nothing), while the sum of squares of the residual keeps
    them. ``z`` minimises ``||y - V z||^2 + ||z||^2``, so its own round-off
    changes the value only to second order. Rows with missing entries sum
    over their observed coordinates only.

    Parameters
    ----------
    data : ndarray of shape (n, p)
        Whitened residuals ``Psi^{-1/2} (x - mu)``.
    whitened : ndarray of shape (p, k)
        ``V = Psi^{-1/2} W``.
    latent : ndarray of shape (n, k)
    weights : ndarray of shape (n, p), optional
        1.0 where an entry is observed, 0.0 where missing (``data`` is 0 there).

    Returns
    -------
    ndarray of shape (n,)
    """
    fitted = latent @ whitened.T
    residual = data - (fitted if weights is None else fitted * weights)
    return np.einsum("ij,ij->i", residual, residual) + np.einsum("ij,ij->i", latent, latent)


def posterior(centered, loadings, noise):
    """Posterior mean and covariance of ``z`` given each row.

    ``E[z | x] = M^{-1} W^T Psi^{-1} (x - mu)`` and ``Cov[z | x] = M^{-1}``
    (Tipping & Bishop 1999, eqs. 6-7, for ``Psi = s2 I``; Rubin & Thayer 1982
    for diagonal ``Psi``).

    Parameters
    ----------
    centered : ndarray of shape (n, p)
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)

    Returns
    -------
    mean : ndarray of shape (n, k)
    covariance : ndarray of shape (k, k)
    """
    whitened, scale, _ = _whiten(loadings, noise)
    chol, _ = inner_factor(loadings, noise)
    mean = linalg.cho_solve((chol, True), ((centered * scale) @ whitened).T).T
    covariance = linalg.cho_solve((chol, True), np.eye(loadings.shape[1]))
    return mean, covariance


def masked_posterior(centered, observed, loadings, noise):
    """Posterior of ``z`` and log-density of the observed entries, row by row.

    For row ``n`` with observed coordinates ``O``: ``M_n = I + W_O^T Psi_O^{-1} W_O``,
    ``E[z] = M_n^{-1} W_O^T Psi_O^{-1} (x_O - mu_O)``, ``Cov[z] = M_n^{-1}``, and
    ``log N(x_O | mu_O, W_O W_O^T + Psi_O)``. All rows go through batched
    ``k x k`` linear algebra; no loop over rows.

    Parameters
    ----------
    centered : ndarray of shape (n, p)
        ``x - mu`` with missing entries set to 0.
    observed : ndarray of shape (n, p), bool
        True where the entry is observed.
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)

    Returns
    -------
    mean : ndarray of shape (n, k)
    covariance : ndarray of shape (n, k, k)
    logpdf : ndarray of shape (n,)
    """
    whitened, scale, noise = _whiten(loadings, noise)
    k = loadings.shape[1]
    weights = observed.astype(np.float64)
    inner = np.einsum("ni,ij,ik->njk", weights, whitened, whitened)
    inner[:, np.arange(k), np.arange(k)] += 1.0
    chol = np.linalg.cholesky(inner)
    data = centered * scale
    projected = data @ whitened
    inverse_chol = np.linalg.inv(chol)
    # The M-step needs every row's full posterior covariance, so the small
    # k x k inverses are formed explicitly.
    covariance = np.einsum("nji,njk->nik", inverse_chol, inverse_chol)
    mean = np.einsum("nij,nj->ni", covariance, projected)
    logdet = weights @ np.log(noise) + 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    quad = _quadratic(data, whitened, mean, weights)
    logpdf = -0.5 * (weights.sum(axis=1) * _LOG_2PI + logdet + quad)
    return mean, covariance, logpdf


@dataclass
class MissingDataStats(Stats):
    """Expected sufficient statistics of the low-rank Gaussian with missing entries, summed over rows.

    With ``z~ = (z, 1)``, ``y = x - centre`` and every missing entry filled by
    its conditional expectation: ``gram = sum_n E[z~ z~^T]`` (k+1, k+1),
    ``cross = sum_n E[y_n z~_n^T]`` (p, k+1) and ``second = sum_n E[y_nj^2]``
    (p,), plus the row count and the summed log-likelihood of the observed
    entries. ``centre`` (p,) is the reference point the sums are taken about;
    sums of raw ``x`` and ``x^2`` would cancel every digit of the spread when
    the data sit far from the origin (data + 1e8, say), and the M-step's
    residual variances with them. Statistics add only about the same centre.
    """

    n_samples: int
    loglik: float
    gram: np.ndarray
    cross: np.ndarray
    second: np.ndarray
    centre: np.ndarray

    def __add__(self, other):
        if not np.array_equal(self.centre, other.centre):
            raise ValueError("MissingDataStats about different centres cannot be added.")
        return MissingDataStats(self.n_samples + other.n_samples, self.loglik + other.loglik, self.gram + other.gram,
                                self.cross + other.cross, self.second + other.second, self.centre)


def missing_e_step(X, mean, loadings, noise, centre=None):
    """E-step of the low-rank Gaussian on rows with missing entries (NaN).

    Both ``z`` and the missing entries are latent. Under the current
    parameters each row has the posterior ``z | x_O`` of
    :func:`masked_posterior`; a missing ``x_nj = w_j^T z_n + mu_j + e_nj``
    then has ``E[x_nj] = w_j^T E[z_n] + mu_j``, ``E[x_nj z_n] = w_j^T
    (Cov_n + E[z_n] E[z_n]^T)`` and ``E[x_nj^2] = E[x_nj]^2 + w_j^T Cov_n w_j
    + psi_j`` (Ilin & Raiko 2010, section 3; Tipping & Bishop 1999, appendix).
    The sums are taken about a centre (see :class:`MissingDataStats`), so they
    carry the spread of the data, not its offset.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Rows, NaN where missing.
    mean : ndarray of shape (p,)
        ``mu``; measured from ``centre`` when one is given.
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)
    centre : ndarray of shape (p,), optional
        A fixed point near the data (the observed column means, say), about
        which the sums are taken; the model mean is then ``centre + mean``.
        Without it the sums are taken about ``mean``. A caller that keeps
        the centre fixed over the iterations and ``mean`` as the small offset
        (with :func:`missing_m_step` ``(stats, offset=True)``) keeps every digit
        of the mean of data far from zero: a mean of order 1e12 rounded to
        float64 at every iteration would drift by many units in its last place,
        because EM corrects the mean along the loadings only as slowly as the
        loadings converge.

    Returns
    -------
    MissingDataStats
        About ``centre``, or about ``mean`` when no centre is given.
    """
    n, p = X.shape
    observed = ~np.isnan(X)
    missing = ~observed
    if centre is None:
        centre, offset = np.asarray(mean, dtype=np.float64), np.zeros(p)
    else:
        centre, offset = np.asarray(centre, dtype=np.float64), np.asarray(mean, dtype=np.float64)
    # x - centre is exact for data near the centre (Sterbenz); the offset is small.
    relative = np.where(observed, X - centre, 0.0)
    centered = np.where(observed, relative - offset, 0.0)
    post_mean, post_cov, logpdf = masked_posterior(centered, observed, loadings, noise)
    filled = np.where(observed, relative, offset + post_mean @ loadings.T)
    gram, cross, second = expected_moments(filled, missing, loadings, noise, post_mean, post_cov)
    return MissingDataStats(n, float(logpdf.sum()), gram, cross, second, centre)


def expected_moments(filled, missing, loadings, noise, post_mean, post_cov, weights=None):
    """Weighted sums of ``E[z~ z~^T]``, ``E[y z~^T]`` and ``E[y_j^2]`` over rows with missing entries.

    ``z~ = (z, 1)``; ``y`` is a row about some frame with every missing entry
    ``j`` filled by its conditional mean (``filled``); given the posterior
    ``z | x_O ~ N(m_n, C_n)``, a missing ``y_nj = w_j^T z_n + e_nj`` adds
    ``w_j^T C_n`` to ``E[y_nj z_n^T]`` and ``w_j^T C_n w_j + psi_j`` to
    ``E[y_nj^2]`` beyond its filled value (Ghahramani & Jordan 1994).

    Parameters
    ----------
    filled : ndarray of shape (n, p)
    missing : ndarray of shape (n, p), bool
    loadings : ndarray of shape (p, k)
    noise : float or ndarray of shape (p,)
    post_mean : ndarray of shape (n, k)
    post_cov : ndarray of shape (n, k, k)
    weights : ndarray of shape (n,), optional
        Each row's weight (a mixture's responsibilities); 1 by default.

    Returns
    -------
    gram : ndarray of shape (k + 1, k + 1)
    cross : ndarray of shape (p, k + 1)
    second : ndarray of shape (p,)
    """
    n, p = filled.shape
    k = loadings.shape[1]
    weights = np.ones(n) if weights is None else weights
    noise = np.broadcast_to(np.asarray(noise, dtype=np.float64), (p,))
    weighted_mean = post_mean * weights[:, None]
    # sum over the rows where x_j is missing of r_n C_n: (p, k, k)
    missing_cov = np.einsum("nj,nkl->jkl", missing * weights[:, None], post_cov)
    gram = np.empty((k + 1, k + 1))
    gram[:k, :k] = np.einsum("n,nkl->kl", weights, post_cov) + weighted_mean.T @ post_mean
    gram[:k, k] = gram[k, :k] = weighted_mean.sum(axis=0)
    gram[k, k] = weights.sum()
    cross = np.empty((p, k + 1))
    cross[:, :k] = filled.T @ weighted_mean + np.einsum("jkl,jl->jk", missing_cov, loadings)
    cross[:, k] = weights @ filled
    second = weights @ (filled * filled)
    second += np.einsum("jkl,jk,jl->j", missing_cov, loadings, loadings)
    second += (weights @ missing) * noise
    return gram, cross, second


def missing_m_step(stats, offset=False):
    """M-step of the low-rank Gaussian with missing entries: ``mu``, ``W`` and the residual variances.

    Each coordinate is a regression of ``y_j = x_j - c_j`` (``c`` the centre
    of the statistics) on ``z~ = (z, 1)``:
    ``[w_j; b_j] = (sum_n E[z~ z~^T])^{-1} sum_n E[y_nj z~_n]``, ``mu_j = c_j + b_j``,
    and its expected squared residual is ``(sum_n E[y_nj^2] - [w_j; b_j]^T
    sum_n E[y_nj z~_n]) / n``; the shift by ``c`` changes neither ``W`` nor
    the residuals. PPCA averages the residuals into ``s2``; factor analysis
    keeps them as ``Psi``. The observed-data likelihood never decreases.

    Parameters
    ----------
    stats : MissingDataStats
    offset : bool, default=False
        Return ``b = mu - c``, the mean measured from the centre of the
        statistics (see :func:`missing_e_step`), instead of ``mu``.

    Returns
    -------
    mean : ndarray of shape (p,)
    loadings : ndarray of shape (p, k)
    residual_variance : ndarray of shape (p,)
    """
    k = stats.gram.shape[0] - 1
    solution = linalg.solve(stats.gram, stats.cross.T, assume_a="pos")
    residual = stats.second - np.einsum("kj,jk->j", solution, stats.cross)
    mean = solution[k] if offset else stats.centre + solution[k]
    return mean, solution[:k].T, residual / stats.n_samples
