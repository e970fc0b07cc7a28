"""E- and M-steps of mixtures of low-rank-plus-diagonal Gaussians (MFA, MPPCA), and their noise structures.

Component ``k`` is ``x = mu_k + W_k z + e``, ``z ~ N(0, I_q)``,
``e ~ N(0, Psi_k)``. Every density and posterior goes through the Woodbury
identity and the determinant lemma in the ``q``-dimensional latent space
(:mod:`lvm._lowrank`), so one E-step costs ``O(n K p q)`` and no ``p x p``
matrix is formed.

The statistics of one component are those of factor analysis with missing
data, weighted by the responsibilities: with ``z~ = (z, 1)`` and
``y = x - f_k`` (``f_k`` the component's mean in the parameters they were
computed under, so that nothing cancels for clusters far from the origin),
``gram_k = sum_n r_nk E[z~ z~^T]``, ``cross_k = sum_n r_nk E[y z~^T]`` and
``second_k = sum_n r_nk E[y^2]``. Their last entries are the counts and sums
of a Gaussian mixture: ``gram_k[q, q] = n_k`` and ``cross_k[:, q] = sum_n r_nk y_n``.
"""

import functools
import threading
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from .. import _lowrank
from .._linalg import _LOG_2PI
from .._stats import Stats
from ._em_steps import logsumexp_rows


class Uniquenesses:
    """A diagonal noise covariance per component: mixtures of factor analyzers (Ghahramani & Hinton 1996)."""

    attribute = "uniquenesses_"

    @staticmethod
    def floor_scale(variance):
        """What the noise floor is a fraction of: each column's variance."""
        return variance

    @staticmethod
    def pool(residual, nk):
        return residual

    @staticmethod
    def n_parameters(k, p):
        return k * p

    @staticmethod
    def public(noise):
        return noise


class SharedUniquenesses(Uniquenesses):
    """One diagonal noise covariance shared by all components (McLachlan & Peel 2000, section 8.2)."""

    @staticmethod
    def pool(residual, nk):
        # The M-step of a shared Psi pools the components' residuals by their counts.
        return np.broadcast_to(nk @ residual / nk.sum(), residual.shape).copy()

    @staticmethod
    def n_parameters(k, p):
        return p


class Isotropic:
    """An isotropic noise variance per component: mixtures of probabilistic PCA (Tipping & Bishop 1999)."""

    attribute = "noise_variance_"

    @staticmethod
    def floor_scale(variance):
        # One floor for every column, so that a floored noise is still isotropic.
        return np.full_like(variance, variance.mean())

    @staticmethod
    def pool(residual, nk):
        # sigma_k^2 is the mean of the residual variances (Tipping & Bishop 1999, eq. C.2).
        return np.repeat(residual.mean(axis=1, keepdims=True), residual.shape[1], axis=1)

    @staticmethod
    def n_parameters(k, p):
        return k

    @staticmethod
    def public(noise):
        return noise[:, 0].copy()


@dataclass
class LowRankMixtureStats(Stats):
    """Responsibility-weighted moments of every component, summed over rows.

    ``gram`` (K, q+1, q+1), ``cross`` (K, p, q+1), ``second`` (K, p) as in
    the module's docstring, about the frames ``frames`` (K, p); with
    ``factors=False`` (the first cycle of AECM) only the counts
    ``gram[:, q, q]`` and sums ``cross[:, :, q]`` are filled.
    """

    n_samples: int
    loglik: float
    gram: np.ndarray
    cross: np.ndarray
    second: np.ndarray
    frames: np.ndarray

    def __add__(self, other):
        if not np.array_equal(self.frames, other.frames):
            raise ValueError("mixture statistics taken about different frames do not add")
        return LowRankMixtureStats(self.n_samples + other.n_samples, self.loglik + other.loglik,
                                   self.gram + other.gram, self.cross + other.cross, self.second + other.second,
                                   self.frames)

    @property
    def nk(self):
        return self.gram[:, -1, -1]


def _inner(loadings, noise):
    """``V = Psi^{-1/2} W``, ``M^{-1}`` (``M = I + V^T V``) and ``log|W W^T + Psi|`` of one component."""
    scale = 1.0 / np.sqrt(noise)
    whitened = loadings * scale[:, None]
    q = loadings.shape[1]
    if q == 0:
        return whitened, scale, np.zeros((0, 0)), np.log(noise).sum()
    chol, logdet = _lowrank.inner_factor(loadings, noise)
    inverse = linalg.cho_solve((chol, True), np.eye(q))
    return whitened, scale, inverse, logdet


def component_terms(d, loadings, noise):
    """Log-density of ``N(0, W W^T + Psi)`` at each row of ``d`` and the posterior mean and covariance of ``z``.

    Returns ``(logpdf (n,), E[z | x] (n, q), Cov[z | x] (q, q))``.
    """
    term = _inner(loadings, noise)
    n, p = d.shape
    latent = np.empty((n, loadings.shape[1]))
    logpdf = _density(d, term, np.empty((n, p)), np.empty((n, p)), latent)
    return logpdf, latent, term[2]


def _density(d, term, data, residual, latent):
    """Log-density of each row of ``d`` under one component's ``_inner`` terms; ``E[z | x]`` into ``latent``.

    ``data`` and ``residual`` are (n, p) work arrays, overwritten. The
    quadratic form is the sum of squares of the residual, as in
    :func:`lvm._lowrank._quadratic`.
    """
    whitened, scale, inverse, logdet = term
    np.multiply(d, scale, out=data)
    np.matmul(data @ whitened, inverse, out=latent)
    np.matmul(latent, whitened.T, out=residual)
    np.subtract(data, residual, out=residual)
    quad = np.einsum("ij,ij->i", residual, residual) + np.einsum("ij,ij->i", latent, latent)
    return -0.5 * (d.shape[1] * _LOG_2PI + logdet + quad)


def log_prob(X, means, loadings, noise):
    """``log N(x_n | mu_k, W_k W_k^T + Psi_k)`` of every complete row under every component: (n, K)."""
    return np.stack([component_terms(X - means[j], loadings[j], noise[j])[0] for j in range(len(means))], axis=1)


def log_prob_missing(X, observed, means, loadings, noise):
    """As :func:`log_prob` for rows with missing entries (NaN): the density of the observed ones."""
    out = np.empty((len(X), len(means)))
    for j in range(len(means)):
        centered = np.where(observed, X - means[j], 0.0)
        out[:, j] = _lowrank.masked_posterior(centered, observed, loadings[j], noise[j])[2]
    return out


def _responsibilities(log_prob, weights):
    weighted = log_prob + np.log(weights)
    norm = logsumexp_rows(weighted)
    with np.errstate(under="ignore"):
        return np.exp(weighted - norm[:, None]), float(norm.sum())


@functools.lru_cache(maxsize=4)
def _inner_terms(loadings_bytes, noise_bytes, shape):
    """:func:`_inner` of every component, the loadings (K, p, q) and noise (K, p) given by their bytes.

    The driver runs the E-step once per chunk of rows under the same
    parameters, and the K factorisations, with scipy's checks around them,
    cost about a tenth of the E-step of a few thousand rows when redone for
    each chunk. Keyed by value, so that equal parameters give the same terms
    bit for bit; an AECM iteration's second E-step reuses the first's (its
    CM-step changed only the weights and means).
    """
    k, p, q = shape
    loadings = np.frombuffer(loadings_bytes, dtype=np.float64).reshape(shape)
    noise = np.frombuffer(noise_bytes, dtype=np.float64).reshape(k, p)
    terms = tuple(_inner(loadings[j], noise[j]) for j in range(k))
    for term in terms:
        for value in term[:3]:
            value.flags.writeable = False
    return terms


_work = threading.local()


def _work_arrays(k, n, p):
    """Differences of ``n`` rows from ``k`` means (k, n, p) and two (n, p) scratch arrays, kept per thread.

    New arrays of these sizes for every chunk and component cost an
    allocation and its page faults each time, about a tenth of the E-step.
    They are overwritten by the thread's next call; the statistics returned
    are new arrays and refer to none of them.
    """
    arrays = getattr(_work, "arrays", None)
    if arrays is None or arrays[0].shape[0] != k or arrays[0].shape[1] < n or arrays[0].shape[2] != p:
        arrays = _work.arrays = (np.empty((k, n, p)), np.empty((n, p)), np.empty((n, p)))
    return arrays[0][:, :n], arrays[1][:n], arrays[2][:n]


def e_step(X, params, factors=True):
    """E-step on complete rows (centred on ``params["center"]``): :class:`LowRankMixtureStats`.

    Each component's terms cost ``O(n p q)``. ``factors=False`` fills only
    counts and sums (the first AECM cycle needs no more). The log-densities
    are those of :func:`component_terms`, by the same kernel in the work
    arrays of the calling thread.
    """
    means, loadings, noise = params["means"], params["loadings"], params["noise"]
    k, p, q = loadings.shape
    n = len(X)
    terms = _inner_terms(np.ascontiguousarray(loadings, dtype=np.float64).tobytes(),
                         np.ascontiguousarray(noise, dtype=np.float64).tobytes(), (k, p, q))
    diffs, data, residual = _work_arrays(k, n, p)
    latents, log_prob = np.empty((k, n, q)), np.empty((n, k))
    for j, term in enumerate(terms):
        np.subtract(X, means[j], out=diffs[j])
        log_prob[:, j] = _density(diffs[j], term, data, residual, latents[j])
    resp, loglik = _responsibilities(log_prob, params["weights"])
    gram, cross, second = np.zeros((k, q + 1, q + 1)), np.zeros((k, p, q + 1)), np.zeros((k, p))
    weighted = np.empty((n, q + 1))
    for j in range(k):
        r, d = resp[:, j], diffs[j]
        gram[j, q, q] = r.sum()
        if not factors:
            cross[j, :, q] = r @ d
            continue
        # (r z, r) in one array, so that one product gives the cross moments and the sums.
        np.multiply(latents[j], r[:, None], out=weighted[:, :q])
        weighted[:, q] = r
        gram[j, :q, :q] = gram[j, q, q] * terms[j][2] + weighted[:, :q].T @ latents[j]
        gram[j, :q, q] = gram[j, q, :q] = weighted[:, :q].sum(axis=0)
        cross[j] = d.T @ weighted
        second[j] = r @ np.multiply(d, d, out=d)
    return LowRankMixtureStats(n, loglik, gram, cross, second, means.copy())


def e_step_missing(X, observed, params, factors=True):
    """E-step on centred rows with missing entries (NaN), which are marginalised (Ghahramani & Jordan 1994)."""
    means, loadings, noise = params["means"], params["loadings"], params["noise"]
    k, p, q = loadings.shape
    missing = ~observed
    terms, log_prob = [], np.empty((len(X), k))
    for j in range(k):
        centered = np.where(observed, X - means[j], 0.0)
        post_mean, post_cov, log_prob[:, j] = _lowrank.masked_posterior(centered, observed, loadings[j], noise[j])
        terms.append((np.where(observed, centered, post_mean @ loadings[j].T), post_mean, post_cov))
    resp, loglik = _responsibilities(log_prob, params["weights"])
    gram, cross, second = np.zeros((k, q + 1, q + 1)), np.zeros((k, p, q + 1)), np.zeros((k, p))
    for j, (filled, post_mean, post_cov) in enumerate(terms):
        if factors:
            gram[j], cross[j], second[j] = _lowrank.expected_moments(filled, missing, loadings[j], noise[j],
                                                                     post_mean, post_cov, resp[:, j])
        else:
            gram[j, q, q] = resp[:, j].sum()
            cross[j, :, q] = resp[:, j] @ filled
    return LowRankMixtureStats(len(X), loglik, gram, cross, second, means.copy())


def _empty(stats):
    """Components whose responsibilities sum to (numerically) nothing: they keep their parameters."""
    return stats.nk < 1e-10 * stats.n_samples


def weights_and_means(stats, previous):
    """``pi_k = n_k / n`` and ``mu_k = f_k + sum_n r_nk y_n / n_k``: the first AECM cycle's CM-step."""
    nk = stats.nk + 10 * np.finfo(np.float64).eps
    means = stats.frames + stats.cross[:, :, -1] / nk[:, None]
    empty = _empty(stats)
    means[empty] = previous["means"][empty]
    return nk / nk.sum(), means


def _finish(new, previous, stats, residual, structure, floor):
    empty = _empty(stats)
    residual[empty] = previous["noise"][empty]
    new["loadings"][empty] = previous["loadings"][empty]
    new["noise"] = np.maximum(structure.pool(residual, stats.nk), floor)
    return new


def m_step(stats, previous, structure, floor):
    """Joint M-step of weights, means, loadings and noise (Ghahramani & Hinton 1996, eqs. 11-15).

    Per component, ``[W_k, b_k] = cross_k gram_k^{-1}``, ``mu_k = f_k + b_k``
    and the residual variances
    ``psi_kj = (second_kj - [W_k, b_k]_j cross_kj^T) / n_k``, pooled as the
    noise ``structure`` requires and floored at ``floor`` (p,).
    """
    weights, _ = weights_and_means(stats, previous)
    k, p, q1 = stats.cross.shape
    means, loadings, residual = previous["means"].copy(), previous["loadings"].copy(), np.empty((k, p))
    for j in np.flatnonzero(~_empty(stats)):
        solution = linalg.solve(stats.gram[j], stats.cross[j].T, assume_a="pos")
        loadings[j] = solution[: q1 - 1].T
        means[j] = stats.frames[j] + solution[-1]
        residual[j] = (stats.second[j] - np.einsum("kj,jk->j", solution, stats.cross[j])) / stats.nk[j]
    new = {"weights": weights, "means": means, "loadings": loadings}
    return _finish(new, previous, stats, residual, structure, floor)


def loadings_and_noise(stats, previous, structure, floor):
    """The second AECM cycle's CM-step: ``W_k`` and ``Psi_k`` with ``mu_k`` fixed at the frames.

    ``W_k = S_k beta_k^T (I - beta_k W_k + beta_k S_k beta_k^T)^{-1}`` and
    ``Psi_k = diag(S_k - W_k^new beta_k S_k)`` (McLachlan & Peel 2000, section
    8.5; Tipping & Bishop 1999, appendix C, for isotropic noise), with
    ``S_k`` the scatter about ``mu_k`` weighted by the responsibilities of this
    cycle's E-step; in the statistics, ``W_k = cross_k gram_k^{-1}`` over the
    factor block.
    """
    k, p, q1 = stats.cross.shape
    q = q1 - 1
    loadings, residual = previous["loadings"].copy(), np.empty((k, p))
    for j in np.flatnonzero(~_empty(stats)):
        cross = stats.cross[j, :, :q]
        if q:
            loadings[j] = linalg.solve(stats.gram[j, :q, :q], cross.T, assume_a="pos").T
        residual[j] = (stats.second[j] - np.einsum("jk,jk->j", loadings[j], cross)) / stats.nk[j]
    new = dict(previous, loadings=loadings)
    return _finish(new, previous, stats, residual, structure, floor)
