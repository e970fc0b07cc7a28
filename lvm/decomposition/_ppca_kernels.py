"""Numerical kernels of probabilistic PCA (Tipping & Bishop 1999).

Notation of the paper: ``x = W z + mu + e`` with ``z ~ N(0, I_k)`` and
``e ~ N(0, s2 I_p)``; ``W`` is ``loadings`` (p, k), ``s2`` is
``noise_variance``, ``C = W W^T + s2 I`` and ``M = W^T W + s2 I``.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import gammaln

from .._linalg import _LOG_2PI, eigh_top, flip_signs
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


@dataclass
class FactoredCovariance:
    """Complete data summarised for EM: count, mean, ``tr S`` and a square root of ``S``.

    ``S`` is the covariance with divisor ``n`` and ``factor`` (p, r) any ``A``
    with ``A A^T = S``: the Cholesky factor of ``S``, or for wide data the
    centred rows over ``sqrt(n)``, transposed.
    """

    n_samples: int
    mean: np.ndarray
    trace: float
    factor: np.ndarray


class ScatterSpectrum:
    """The covariance ``S`` (p, p) and what the fits ask of it, each computed when asked.

    ``top(k)``: the top ``k`` eigenpairs; ``eigenvalues()``: all of them,
    decreasing; ``factor()``: a square root ``A`` with ``S = A A^T``.
    """

    def __init__(self, S):
        self.S = S
        self.trace = float(np.trace(S))

    def top(self, k):
        return eigh_top(self.S, k)

    def eigenvalues(self):
        return linalg.eigvalsh(self.S)[::-1]

    def factor(self):
        return covariance_factor(self.S)


class GramSpectrum:
    """The covariance of wide data (n < p) through the ``n x n`` Gram matrix, never ``p x p``.

    The nonzero eigenvalues of ``S = Xc^T Xc / n`` are those of ``G = Xc
    Xc^T / n``, and an eigenvector ``v`` of ``G`` gives the unit axis ``Xc^T
    v / sqrt(n lambda)``; the square root of ``S`` is ``Xc^T / sqrt(n)``.
    Memory ``O(n p)``, time ``O(n^2 p)``. Same interface as
    :class:`ScatterSpectrum`.
    """

    def __init__(self, X, mean):
        self.n, self.p = X.shape
        self.centred = X - mean
        # Overflow for data near the float64 limit is reported by the caller's variance check.
        with np.errstate(over="ignore", invalid="ignore"):
            gram = self.centred @ self.centred.T / self.n
        self.trace = float(np.trace(gram))
        self._gram = gram

    def _decomposed(self):
        if not hasattr(self, "_values"):
            values, vectors = linalg.eigh(self._gram)
            self._values, self._vectors = np.maximum(values[::-1], 0.0), vectors[:, ::-1]
        return self._values, self._vectors

    def top(self, k):
        values, vectors = self._decomposed()
        # A zero eigenvalue has no axis; the caller's singular-model check then stops the fit.
        norms = np.sqrt(np.maximum(self.n * values[:k], np.finfo(np.float64).tiny))
        return values[:k], self.centred.T @ vectors[:, :k] / norms

    def eigenvalues(self):
        return np.concatenate([self._decomposed()[0], np.zeros(self.p - self.n)])

    def factor(self):
        return self.centred.T / np.sqrt(self.n)


def covariance_factor(S):
    """A square root ``A`` of the covariance, ``S = A A^T``, for the EM kernels below.

    The Cholesky factor when ``S`` is positive definite (accurate for graded
    matrices, whose columns differ in scale by many orders); otherwise the
    eigenvectors scaled by the square roots of the positive eigenvalues.

    Parameters
    ----------
    S : ndarray of shape (p, p)

    Returns
    -------
    ndarray of shape (p, r)
    """
    try:
        return linalg.cholesky(S, lower=True)
    except linalg.LinAlgError:
        values, vectors = linalg.eigh(S)
        keep = values > 0
        return vectors[:, keep] * np.sqrt(values[keep])


def _in_units(factor, loadings, noise_variance):
    """Everything divided by the mean variance ``tr(S) / p``, and that unit's log.

    The kernels are equivariant under a change of units, and in units of the
    mean variance no product of data of magnitude 1e-150 or 1e150 under- or
    overflows. The largest entry is divided out first so that the sum of
    squares giving the unit cannot overflow either.
    """
    p = factor.shape[0]
    largest = np.abs(factor).max()
    if not largest > 0:
        return factor, loadings, noise_variance, 0.0
    unit = np.sqrt(np.sum((factor / largest) ** 2) / p)
    root = largest * unit
    return factor / root, loadings / root, noise_variance / root**2, 2.0 * np.log(root)


def _latent_moments(factor, loadings, noise_variance):
    """Posterior means of ``z`` for the columns of the factor, with the pieces that made them.

    Returns ``chol`` (Cholesky factor of ``I + W^T W / s2``), ``logdet``
    (``log|C|``), the whitened factor ``Y = A / s`` and loadings ``V = W / s``
    (``s = sqrt(s2)``), and ``Z = (I + V^T V)^{-1} V^T Y``, the posterior
    means ``M^{-1} W^T a`` of the columns ``a`` of ``A``.
    """
    chol, logdet = inner_factor(loadings, noise_variance)
    root = np.sqrt(noise_variance)
    data, whitened = factor / root, loadings / root
    latent = linalg.cho_solve((chol, True), whitened.T @ data)
    return chol, logdet, data, whitened, latent


def loglik_from_factor(factor, loadings, noise_variance):
    """Mean log-likelihood per sample of data whose ML covariance is ``S = A A^T``.

    ``L / n = -(p log 2 pi + log|C| + tr(C^{-1} S)) / 2`` (Tipping & Bishop
    1999, eq. 4). The trace is summed as squares, ``tr(C^{-1} S) = (||A - W
    Z||^2 + s2 ||Z||^2) / s2`` with ``Z = M^{-1} W^T A``, the form that does not
    cancel: Woodbury's ``(tr S - tr(M^{-1} W^T S W)) / s2`` loses every digit
    by which ``s2`` is smaller than ``tr S``, enough for EM to seem to lower the
    likelihood on data whose columns differ in scale by 1e20. Costs
    ``O(p r k)``.

    Parameters
    ----------
    factor : ndarray of shape (p, r)
        ``A`` with ``A A^T = S``; the centred data over ``sqrt(n)``, transposed,
        serve for wide data.
    loadings : ndarray of shape (p, k)
    noise_variance : float

    Returns
    -------
    float
    """
    p = factor.shape[0]
    factor, loadings, noise_variance, log_unit = _in_units(factor, loadings, noise_variance)
    _, logdet, data, whitened, latent = _latent_moments(factor, loadings, noise_variance)
    residual = data - whitened @ latent
    trace_term = np.sum(residual**2) + np.sum(latent**2)
    return -0.5 * (p * _LOG_2PI + logdet + p * log_unit + trace_term)


def em_step_factor(factor, loadings, noise_variance):
    """One EM update of ``W`` and ``s2`` from a square root ``A`` of the covariance (complete data).

    With ``Z = M^{-1} W^T A`` and ``Ezz = Z Z^T + s2 M^{-1}``:
    ``W' = A Z^T Ezz^{-1}``, which is Tipping & Bishop's (1999, eq. 29)
    ``S W (s2 I + M^{-1} W^T S W)^{-1}``, and ``s2' = (||A - W' Z||^2 + s2
    tr(W' M^{-1} W'^T)) / p``, their eq. 30 written as the expected squared
    residual, a sum of non-negative terms that keeps its digits however small
    ``s2`` is against ``tr S``. Costs ``O(p r k)``.

    Parameters
    ----------
    factor : ndarray of shape (p, r)
    loadings : ndarray of shape (p, k)
    noise_variance : float

    Returns
    -------
    loadings : ndarray of shape (p, k)
    noise_variance : float
    """
    p, k = loadings.shape
    factor, loadings, noise_variance, log_unit = _in_units(factor, loadings, noise_variance)
    chol, _, _, _, latent = _latent_moments(factor, loadings, noise_variance)
    # s2 M^{-1} = (I + W^T W / s2)^{-1}, the posterior covariance of z
    posterior_cov = linalg.cho_solve((chol, True), np.eye(k))
    second = latent @ latent.T + posterior_cov
    new_loadings = linalg.solve(second, latent @ factor.T, assume_a="pos").T
    residual = factor - new_loadings @ latent
    spread = np.einsum("ij,jk,ik->", new_loadings, posterior_cov, new_loadings)
    new_noise = (np.sum(residual**2) + spread) / p
    unit = np.exp(log_unit)
    return new_loadings * np.sqrt(unit), float(new_noise * unit)


def loglik_at_optimum(values, noise_variance, p):
    """Mean log-likelihood per sample at the closed-form ML solution.

    There ``C`` has the eigenvalues ``lambda_1..lambda_k`` and ``s2``
    (``p - k`` times) and ``tr(C^{-1} S) = p``, so ``L / n = -(p log 2 pi +
    sum_j log lambda_j + (p - k) log s2 + p) / 2`` (Tipping & Bishop 1999, eq. 19
    with eq. 8 substituted). Exact in every digit, whatever the spread of
    the eigenvalues.

    Parameters
    ----------
    values : ndarray of shape (k,)
        Top eigenvalues of ``S``.
    noise_variance : float
    p : int

    Returns
    -------
    float
    """
    k = len(values)
    return -0.5 * (p * _LOG_2PI + np.sum(np.log(values)) + (p - k) * np.log(noise_variance) + p)


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


# Eigenvalues at or below this fraction of the largest are round-off of an
# exactly rank-deficient covariance, and are set to zero before the evidence.
_ROUNDOFF_RTOL = 1e-10
# Floor of the eigenvalues in the evidence, relative to the mean eigenvalue:
# scikit-learn's absolute 1e-15 (PR #16730), made independent of the units.
_EVIDENCE_RTOL = 1e-15


def minka_log_evidence(eigenvalues, n_samples):
    """Laplace approximation to the evidence ``log p(D | k)`` for every ``k``.

    Minka (2000), section 3 (the Laplace approximation):

    .. math::
        p(D \\mid k) \\approx p(U) \\prod_{j \\le k} \\lambda_j^{-n/2}\\,
        \\hat\\sigma^{-n(d-k)} (2\\pi)^{(m+k)/2} |A_Z|^{-1/2} n^{-k/2}

    with ``m = d k - k (k + 1) / 2``,
    ``p(U) = 2^{-k} prod_i Gamma((d - i + 1)/2) pi^{-(d - i + 1)/2}`` and
    ``|A_Z| = prod_{i<=k} prod_{j>i} n (1/lh_j - 1/lh_i)(l_i - l_j)`` where
    ``lh_j`` is ``l_j`` for ``j <= k`` and ``s2`` beyond.

    As in scikit-learn (``_assess_dimension`` after PR #16730), a ``k`` whose
    ``l_k`` is below a floor gets ``-inf`` (its evidence would be the log of
    round-off), and ``s2`` is at least that floor, so exactly rank-``r`` data
    (``s2 = 0`` at ``k = r``) choose ``k = r`` instead of losing it to a
    ``log 0``. The floor is ``1e-15`` times the mean eigenvalue, so the
    result does not depend on the units of the data: changing them adds the
    same constant to every ``k``.

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
    floor = _EVIDENCE_RTOL * max(np.mean(eigenvalues), 0.0)
    out = np.full(max(d - 1, 0), -np.inf)
    for k in range(1, d):
        if not eigenvalues[k - 1] > floor:
            continue
        sigma2 = max(floor, eigenvalues[k:].sum() / (d - k))
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


def infer_dimension(eigenvalues, n_samples, below_rank=False):
    """The ``k`` of largest evidence (Minka 2000), the evidence of every ``k``, and the rank.

    Parameters
    ----------
    eigenvalues : ndarray of shape (d,)
        All eigenvalues of the sample covariance, decreasing; any positive
        multiple (divisor ``n`` or ``n - 1``) gives the same ``k``.
    n_samples : int
    below_rank : bool, default=False
        Consider only ``k`` below the numerical rank ``r`` of the covariance,
        the models with a noise variance. On exactly rank-deficient data the
        evidence is largest at ``k = r`` (``s2 = 0``), which PCA can fit and
        PPCA cannot.

    Returns
    -------
    k : int
        In ``1 .. d - 1`` (``1 .. r - 1`` with ``below_rank``); 0 when no
        ``k`` qualifies (``below_rank`` and ``r <= 1``).
    evidence : ndarray of shape (d - 1,)
        As :func:`minka_log_evidence`, for every ``k``.
    rank : int
        Eigenvalues above round-off (``1e-10`` of the largest).
    """
    values = np.array(eigenvalues, dtype=np.float64)
    values[values <= _ROUNDOFF_RTOL * values[0]] = 0.0
    rank = int(np.count_nonzero(values))
    evidence = minka_log_evidence(values, n_samples)
    candidates = evidence[: rank - 1] if below_rank else evidence
    k = int(np.argmax(candidates)) + 1 if len(candidates) else 0
    return k, evidence, rank
