"""Correlation matrices of data with missing entries, for the factor model.

Three ways to let rows with missing entries into a factor analysis:

* ``missing="pairwise"``: the correlation of every pair over the rows where both
  are observed (pairwise deletion; ``psych::fa``'s default ``use="pairwise"``);
* ``missing="em"`` with minres or principal axis: the full-information ML
  estimate of the unrestricted covariance, by EM on the multivariate normal
  (Dempster, Laird & Rubin 1977; Little & Rubin 2002, section 11.2;
  ``psych::corFiml``), then the named method fitted to its correlations;
* ``missing="em"`` with ML: the factor model itself fitted by EM to the
  observed entries (full-information ML of the factor model), whose result is
  put on the correlation scale by :func:`fiml_standardised`.

:class:`FactorEMMixin` holds the estimator's side of these fits and its
contract with the EM driver (:mod:`lvm._em`), which also serves
``solver="em"`` on complete data.
"""

import functools
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .. import _lowrank
from .._em import as_source, fit_em
from .._linalg import floor_eigenvalues
from .._source import chunk_rows
from .._stats import ScatterStats, Stats, SummaryLoglik, observed_columns, pairwise_stats
from . import _fitting
from ._estimate import Estimate
from ._input import covariance_to_correlation

_LOG_2PI = np.log(2.0 * np.pi)

# Pairwise deletion can give an indefinite matrix: its eigenvalues are raised
# to this floor (and the diagonal reset to 1) so that it is a correlation
# matrix the factor methods can fit; a positive definite one is left as it is.
_PAIRWISE_EIGEN_FLOOR = 1e-6


def pairwise_correlation(source, names):
    """Pairwise-complete correlations of a source's rows, from one remembered pass.

    Parameters
    ----------
    source : ArraySource or DaskSource
        Rows, NaN where missing.
    names : list of str
        Variable names, for the error message.

    Returns
    -------
    ndarray of shape (p, p)
        The correlation matrix, eigenvalues floored at ``1e-6`` if it was not
        positive definite.

    Raises
    ------
    ValueError
        Naming the pairs of columns observed together in fewer than 2 rows.
    """
    shift = observed_columns(source).mean
    stats = source.remember("pairwise", functools.partial(pairwise_stats, shift=shift),
                            rows=chunk_rows(source.n_features, 16 * source.n_features))
    never = [(int(i), int(j)) for i, j in zip(*np.nonzero(stats.count < 2), strict=True) if i < j]
    if never:
        pairs = ", ".join(f"({names[i]}, {names[j]})" for i, j in never[:5])
        raise ValueError(f"FactorAnalysis: the column pairs {pairs} are observed together in fewer than "
                         "2 rows, so nothing links them; drop one column of each pair.")
    return covariance_to_correlation(floor_eigenvalues(stats.correlation(), _PAIRWISE_EIGEN_FLOOR))


@dataclass
class SaturatedStats(Stats):
    """Expected sufficient statistics of the unrestricted normal with missing entries, about the current mean.

    ``first = sum_n E[x_n - mu]`` (p,) and ``second = sum_n E[(x_n - mu)(x_n - mu)^T]``
    (p, p) given the observed entries, with the row count and the summed
    log-likelihood of the observed entries.
    """

    n_samples: int
    loglik: float
    first: np.ndarray
    second: np.ndarray


def saturated_e_step(X, mean, covariance):
    """E-step of the multivariate normal ``N(mean, covariance)`` on rows with NaN entries.

    Rows are grouped by their pattern of observed entries ``o`` (missing
    ``m``); for each pattern ``E[x_m | x_o] = mu_m + S_mo S_oo^{-1} (x_o - mu_o)``
    and ``Cov[x_m | x_o] = S_mm - S_mo S_oo^{-1} S_om`` (Little & Rubin 2002,
    section 11.2.1), through one Cholesky factor of ``S_oo``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Rows, NaN where missing.
    mean : ndarray of shape (p,)
    covariance : ndarray of shape (p, p)
        Positive definite.

    Returns
    -------
    SaturatedStats
    """
    n, p = X.shape
    observed = ~np.isnan(X)
    centered = np.where(observed, X - mean, 0.0)
    first = np.zeros(p)
    second = np.zeros((p, p))
    loglik = 0.0
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    for index, seen in enumerate(patterns):
        rows = centered[inverse.ravel() == index]
        count = len(rows)
        unseen = ~seen
        filled = np.zeros_like(rows)
        if seen.any():
            chol = linalg.cholesky(covariance[np.ix_(seen, seen)], lower=True)
            whitened = linalg.solve_triangular(chol, rows[:, seen].T, lower=True)
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            loglik -= 0.5 * (count * (seen.sum() * _LOG_2PI + logdet) + np.sum(whitened**2))
            filled[:, seen] = rows[:, seen]
        if unseen.any():
            cross = covariance[np.ix_(seen, unseen)]
            regression = linalg.cho_solve((chol, True), cross).T if seen.any() else np.zeros((unseen.sum(), 0))
            filled[:, unseen] = rows[:, seen] @ regression.T
            second[np.ix_(unseen, unseen)] += count * (covariance[np.ix_(unseen, unseen)] - regression @ cross)
        first += filled.sum(axis=0)
        second += filled.T @ filled
    return SaturatedStats(n, float(loglik), first, second)


class SaturatedNormal(BaseEstimator):
    """The unrestricted multivariate normal, fitted by the EM driver to rows with missing entries.

    Parameters
    ----------
    start : dict
        Starting ``mean`` (p,) and ``covariance`` (p, p).
    tol : float
        Convergence threshold on the mean log-likelihood per row.
    max_iter : int
        Most EM iterations.
    """

    def __init__(self, start=None, tol=1e-9, max_iter=10000):
        self.start = start
        self.tol = tol
        self.max_iter = max_iter

    def _init_params(self, source, rng):
        return dict(self.start)

    def _e_step(self, chunk, params):
        return saturated_e_step(chunk, params["mean"], params["covariance"])

    def _m_step(self, stats, params):
        shift = stats.first / stats.n_samples
        covariance = stats.second / stats.n_samples - np.outer(shift, shift)
        return {"mean": params["mean"] + shift, "covariance": 0.5 * (covariance + covariance.T)}


def saturated_covariance(source, names, *, tol, max_iter):
    """Full-information ML estimate of the mean and covariance of rows with missing entries.

    EM on the unrestricted normal from the observed means and the
    pairwise-complete correlations; its maximum is the estimate of
    ``psych::corFiml`` and of lavaan's saturated (``h1``) model.

    Parameters
    ----------
    source : ArraySource or DaskSource
        Rows, NaN where missing.
    names : list of str
        Variable names, for error messages.
    tol, max_iter
        Of the EM run.

    Returns
    -------
    EMResult
        ``params["mean"]``, ``params["covariance"]`` (divisor ``n``), the
        history of the mean log-likelihood and the convergence record.
    """
    columns = observed_columns(source)
    sd = np.sqrt(columns.variance())
    start = {"mean": columns.mean, "covariance": pairwise_correlation(source, names) * np.outer(sd, sd)}
    return fit_em(SaturatedNormal(start, tol, max_iter), source, rng=None, tol=tol, max_iter=max_iter,
                  name="FactorAnalysis (EM estimate of the covariance)")


def fiml_standardised(mean, loadings, noise_variance):
    """Put a factor model fitted in the data's units on the correlation scale.

    The model-implied variances ``diag(W W^T + Psi)`` standardise it, the
    full-information analogue of the sample variances; the loadings are then
    rotated to the ML identification (``L^T Psi^{-1} L`` diagonal, decreasing).

    Parameters
    ----------
    mean : ndarray of shape (p,)
    loadings : ndarray of shape (p, k)
    noise_variance : ndarray of shape (p,)

    Returns
    -------
    loadings : ndarray of shape (p, k)
        Standardised, canonical.
    uniquenesses : ndarray of shape (p,)
    sd : ndarray of shape (p,)
        Model-implied standard deviations.
    """
    implied = np.sum(loadings**2, axis=1) + noise_variance
    sd = np.sqrt(implied)
    psi = noise_variance / implied
    standardised = loadings / sd[:, None]
    scaled = standardised / np.sqrt(psi)[:, None]
    _, _, vt = linalg.svd(scaled, full_matrices=False)
    return standardised @ vt.T, psi, sd


def _observed_loglik(X, mean, loadings, noise):
    """Summed log-density of the observed entries of rows ``X`` under ``N(mean, W W^T + Psi)``."""
    varying = noise > 0
    X = X[:, varying]
    observed = ~np.isnan(X)
    centered = np.where(observed, X - mean[varying], 0.0)
    return float(_lowrank.masked_posterior(centered, observed, loadings[varying], noise[varying])[2].sum())


class FactorEMMixin:
    """The factor model's fits by EM (complete data through their correlation, or rows with NaN).

    Keeps the contract of :mod:`lvm._em`: ``_init_params``, ``_e_step`` and
    ``_m_step`` for two kinds of source, a :class:`~lvm._source.SummarySource`
    of the correlation matrix (Rubin & Thayer 1982) and rows with missing
    entries (the low-rank Gaussian of :mod:`lvm._lowrank`).
    """

    def _run_em(self, X):
        """The EM driver on ``X`` with the estimator's settings; fitted attributes are left to the caller."""
        return fit_em(self, as_source(X), rng=check_random_state(self.random_state), tol=self.tol,
                      max_iter=self.max_iter, callback=self.callback, verbose=self.verbose,
                      name=type(self).__name__)

    def _fit_missing(self, source):
        n, p = source.n_samples, source.n_features
        names = self._names()
        columns = observed_columns(source)
        constant = np.flatnonzero(~(columns.variance() > 0))
        if constant.size:
            raise ValueError(f"FactorAnalysis: column(s) {[names[j] for j in constant]} are constant over their "
                             "observed entries; their correlations are undefined. Drop them.")
        if self.missing == "em" and self.method == "ml":
            self._check_k(p, n)
            run = self._run_em(source)
            params = run.params
            unrotated, psi, sd = fiml_standardised(params["mean"], params["loadings"], params["noise_variance"])
            # The fit statistics describe the pairwise-complete correlations, as psych::fa does.
            self._set_fitted(Estimate(pairwise_correlation(source, names), n, unrotated, psi, run.n_iter,
                                      run.converged, mean=params["mean"], scale=sd, ml_scale=sd,
                                      history=run.history, source="pairwise", loglik=run.loglik * n))
            return
        if self.missing == "pairwise":
            sd = np.sqrt(columns.variance())
            R, mean, source_name = pairwise_correlation(source, names), columns.mean, "pairwise"
        else:
            run = saturated_covariance(source, names, tol=self.tol, max_iter=self.max_iter)
            sd = np.sqrt(np.diag(run.params["covariance"]))
            R = covariance_to_correlation(run.params["covariance"], "the EM covariance estimate")
            mean, source_name = run.params["mean"], "em"
        self._fit_correlation(R, n, mean=mean, scale=sd * np.sqrt(n / (n - 1)), ml_scale=sd, source=source_name)
        # These fits do not maximise the likelihood of the observed entries, but
        # the fitted model still gives them one.
        loadings = self.components_.T @ linalg.cholesky(np.asarray(self.factor_correlation_), lower=True)
        self.log_likelihood_ = float(source.reduce(
            functools.partial(_observed_loglik, mean=self.mean_, loadings=loadings, noise=self.noise_variance_),
            rows=chunk_rows(p)))

    def _init_params(self, source, rng):
        k = self.n_components
        # Rows with missing entries (complete data reach EM through their
        # correlation matrix, with the start made in _estimate): the ML fit
        # of the pairwise-complete correlations, in the data's units.
        R = pairwise_correlation(source, self._names())
        psi = _fitting.start_uniquenesses("ml", R, k, self._start_communality(len(R)))
        start = _fitting.fit_ml_quasi_newton(R, k, start=psi)
        columns = observed_columns(source)
        sd = np.sqrt(columns.variance())
        # Sums about the fixed observed means, the mean a small offset from them (see _lowrank.missing_e_step).
        return {"mean": columns.mean, "centre": columns.mean, "offset": np.zeros_like(columns.mean),
                "loadings": start["loadings"] * sd[:, None],
                "noise_variance": start["uniquenesses"] * sd**2,
                "noise_floor": _fitting.UNIQUENESS_FLOOR * sd**2}

    def _e_step(self, chunk, params):
        if isinstance(chunk, ScatterStats):
            R = chunk.covariance()
            loglik = _fitting.loglik_standardised(R, params["loadings"], params["uniquenesses"])
            return SummaryLoglik(chunk.n_samples, chunk.n_samples * loglik, chunk)
        return _lowrank.missing_e_step(chunk, params["offset"], params["loadings"], params["noise_variance"],
                                       centre=params["centre"])

    def _m_step(self, stats, params):
        if isinstance(stats, SummaryLoglik):
            loadings, psi = _fitting.em_step(stats.summary.covariance(), params["loadings"], params["uniquenesses"])
            return {"loadings": loadings, "uniquenesses": psi}
        offset, loadings, residual = _lowrank.missing_m_step(stats, offset=True)
        return {"mean": stats.centre + offset, "centre": stats.centre, "offset": offset, "loadings": loadings,
                "noise_variance": np.maximum(residual, params["noise_floor"]),
                "noise_floor": params["noise_floor"]}

    def _em_converged(self, previous, params, stats, change, tol):
        # Where the likelihood is flat EM changes it by about the square of its
        # step: the gradient (with missing entries, the step) must vanish too.
        R = stats.summary.covariance() if isinstance(stats, SummaryLoglik) else None
        return abs(change) < tol and _fitting.em_settled(previous, params, R, tol)
