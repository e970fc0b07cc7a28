"""The mixture of low-rank-plus-diagonal Gaussians behind MixtureOfFactorAnalyzers and MixtureOfPPCA."""

import numbers
import warnings
from collections import namedtuple

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _lowrank
from .._base import rowwise
from .._stats import observed_columns
from .._summary import Summary
from .._validation import (
    Interval,
    Options,
    check_data,
    check_latent,
)
from ..exceptions import DegenerateComponentWarning
from . import _base, _mfa_steps, _start
from ._base import SHARED_CONSTRAINTS, MixtureModel

MixtureOfFactorsPosterior = namedtuple(
    "MixtureOfFactorsPosterior", ["responsibilities", "log_responsibilities", "means", "covariances"])

# Bytes of one (rows x features) work array of the E-step.
_CHUNK_BYTES = 2**19
# Rows labelled at a time when the start assigns its sample to the nearest centres.
_LABEL_ROWS = 8192


class LowRankMixture(MixtureModel):
    """Base class of the mixtures of low-rank-plus-diagonal Gaussians (not for direct use).

    Component ``k`` is ``x = mu_k + W_k z + e`` with ``z ~ N(0, I_q)`` and
    ``e ~ N(0, Psi_k)``; a subclass names the noise structure of ``Psi_k``
    (:mod:`lvm.mixture._mfa_steps`).
    """

    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "n_factors": [Interval(numbers.Integral, 0, None)],
        "algorithm": [Options("aecm", "em")],
        "reg": [Interval(numbers.Real, 0, None)],
    }
    _latent_count = "n_factors"

    def __init__(self, n_components=1, n_factors=1, *, algorithm="aecm", init="kmeans", n_init=1, max_iter=1000,
                 tol=1e-5, reg=1e-6, missing="error", random_state=None, callback=None, verbose=0,
                 latent_names=None):
        self.n_components = n_components
        self.n_factors = n_factors
        self.algorithm = algorithm
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.reg = reg
        self.missing = missing
        self.random_state = random_state
        self.callback = callback
        self.verbose = verbose
        self.latent_names = latent_names

    def _n_latent(self):
        return self.n_factors

    def _em_chunk_rows(self, p):
        # Each of the E-step's (rows x p) work arrays within a core's cache
        # (half a MiB): the low-rank E-step is bound by memory, not by flops.
        return max(256, _CHUNK_BYTES // (8 * max(p, 1)))

    @property
    def _em_cycles(self):
        return 2 if self.algorithm == "aecm" else 1

    @property
    def _n_features_out(self):
        return self.n_factors

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the mixture by AECM (or EM), keeping the best of ``n_init`` starts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (an array, a memmap or a dask array); NaN marks a missing
            entry when ``missing="em"``.
        y : None
            Ignored.

        Returns
        -------
        self
            The fitted model.
        """
        source, _ = self._read_training(X)
        p = source.n_features
        if self.n_factors >= p:
            raise ValueError(f"{type(self).__name__}: n_factors={self.n_factors} must be below "
                             f"n_features={p}; a component with as many factors as variables has no noise.")
        result = self._fit_em(source, check_random_state(self.random_state))
        self._set_fitted(result, p)
        return self

    def _floor(self, source):
        """The least noise variance of each column: ``reg`` times its variance (MPPCA: the mean variance), never 0."""
        variance = observed_columns(source).variance()
        least = 16 * np.finfo(np.float64).eps * np.mean(variance)
        return np.maximum(self.reg * self._noise.floor_scale(variance), least)

    # ------------------------------------------------------- EM contract
    def _e_step(self, chunk, params, cycle=0):
        # AECM's first cycle needs counts and sums only; its second, and EM, the factor moments.
        factors = self.algorithm == "em" or cycle == 1
        centred = chunk - params["center"]
        incomplete = np.isnan(centred).any(axis=1) if self.missing == "em" else None
        if incomplete is None or not incomplete.any():
            return _mfa_steps.e_step(centred, params, factors)
        rows = centred[incomplete]
        stats = _mfa_steps.e_step_missing(rows, ~np.isnan(rows), params, factors)
        if incomplete.all():
            return stats
        return _mfa_steps.e_step(centred[~incomplete], params, factors) + stats

    def _m_step(self, stats, params, cycle=0):
        structure, floor = self._noise, params["floor"]
        if self.algorithm == "em":
            return dict(params, **_mfa_steps.m_step(stats, params, structure, floor))
        if cycle == 0:
            weights, means = _mfa_steps.weights_and_means(stats, params)
            return dict(params, weights=weights, means=means)
        return _mfa_steps.loadings_and_noise(stats, params, structure, floor)

    def _init_params(self, source, rng):
        """A partition of (a sample of) the rows, and each part's probabilistic PCA in closed form.

        Tipping & Bishop (1999, eqs. 7-8) for each part ``k`` with scatter
        ``S_k``: ``W_k = U_q (Lambda_q - sigma^2 I)^{1/2}``, ``sigma^2`` the
        mean of the other eigenvalues; the noise is then the diagonal of
        ``S_k - W_k W_k^T``, pooled as the noise structure requires.
        """
        k, p, q = self.n_components, source.n_features, self.n_factors
        center = observed_columns(source).mean
        floor = self._floor(source)
        name = type(self).__name__
        if self.init == "hierarchical":
            sample, labels = _start.hierarchical_sample(source, rng, center, k, name)
        else:
            centres, sample = _start.start_centres(source, rng, center, k, self.init, self._em_chunk_rows(p))
            labels = np.concatenate([_start.nearest(sample[i : i + _LABEL_ROWS], centres)
                                     for i in range(0, len(sample), _LABEL_ROWS)])
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        means, loadings, noise = np.empty((k, p)), np.zeros((k, p, q)), np.empty((k, p))
        for j in range(k):
            # A part too small for its factors starts from the scatter of all rows about its centre.
            rows = sample[labels == j] if counts[j] > q + 1 else sample
            means[j] = rows.mean(axis=0)
            loadings[j], noise[j] = _closed_form_start(rows - means[j], q)
        counts = np.maximum(counts, 1.0)
        noise = np.maximum(self._noise.pool(noise, counts), floor)
        return {"weights": counts / counts.sum(), "means": means, "loadings": loadings, "noise": noise,
                "center": center, "floor": floor}

    def _set_fitted(self, result, p):
        params = result.params
        k, q = self.n_components, self.n_factors
        self.weights_ = params["weights"]
        self.means_ = params["means"] + params["center"]
        self.loadings_ = params["loadings"]
        setattr(self, self._noise.attribute, self._noise.public(params["noise"]))
        self.lower_bound_ = float(result.history[-1])
        # Kept for select_mixture, which sets aside a fit whose noise sits on
        # this floor (a spurious maximum); not saved with the model.
        self._noise_floor = params["floor"]
        self.n_parameters_ = int(k - 1 + k * p + k * (p * q - q * (q - 1) // 2) + self._noise.n_parameters(k, p))
        thin = np.flatnonzero(result.stats.nk < q + 2)
        if thin.size:
            warnings.warn(
                f"{type(self).__name__}: component(s) {thin.tolist()} hold fewer than n_factors + 2 = {q + 2} "
                f"points (effective sizes {np.round(result.stats.nk[thin], 2).tolist()}); their loadings are "
                "not determined by the data. Use fewer components or factors.",
                DegenerateComponentWarning, stacklevel=3)

    def _noise_per_column(self):
        """``Psi_k`` as (K, p) variances."""
        noise = getattr(self, self._noise.attribute)
        return np.broadcast_to(noise[:, None] if noise.ndim == 1 else noise, self.means_.shape)

    # ---------------------------------------------------------- inference
    def _component_log_prob(self, X, observed):
        noise = self._noise_per_column()
        if observed.all():
            return _mfa_steps.log_prob(X, self.means_, self.loadings_, noise)
        return _mfa_steps.log_prob_missing(X, observed, self.means_, self.loadings_, noise)

    def posterior(self, X):
        """Posterior of the component and of its factors, given each row.

        .. math:: r_{nk} = p(k \\mid x_n), \\qquad
                  z \\mid x_n, k \\sim N\\big(M_k^{-1} W_k^T \\Psi_k^{-1} (x_n - \\mu_k),\\; M_k^{-1}\\big),
                  \\qquad M_k = I + W_k^T \\Psi_k^{-1} W_k

        (Ghahramani & Hinton 1996; with missing entries, ``W_k``, ``Psi_k``
        and ``x - mu_k`` restricted to each row's observed coordinates).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; with ``missing="em"``, NaN marks an entry the posterior
            does not condition on.

        Returns
        -------
        MixtureOfFactorsPosterior
            ``responsibilities`` and ``log_responsibilities`` (n_samples,
            n_components); ``means`` (n_samples, n_components, n_factors), the
            factors' posterior mean under each component; ``covariances``
            (n_components, n_factors, n_factors), or (n_samples,
            n_components, n_factors, n_factors) when rows have missing entries.
        """
        check_is_fitted(self)
        X = check_data(self, X, reset=False, allow_nan=self.missing == "em")
        log_r, _ = self._log_resp(X)
        observed = ~np.isnan(X)
        noise = self._noise_per_column()
        means, covariances = [], []
        for j in range(self.n_components):
            if observed.all():
                _, mean, cov = _mfa_steps.component_terms(X - self.means_[j], self.loadings_[j], noise[j])
            else:
                centered = np.where(observed, X - self.means_[j], 0.0)
                mean, cov, _ = _lowrank.masked_posterior(centered, observed, self.loadings_[j], noise[j])
            means.append(mean)
            covariances.append(cov)
        with np.errstate(under="ignore"):
            resp = np.exp(log_r)
        return MixtureOfFactorsPosterior(resp, log_r, np.stack(means, axis=1), np.stack(covariances, axis=-3))

    @rowwise("n_factors")
    def transform(self, X):
        """Responsibility-weighted posterior mean of the factors, ``sum_k r_nk E[z | x_n, k]``.

        Each component's factors have their own axes (loadings are defined up
        to a rotation per component), so this average is a summary for plots;
        :meth:`posterior` gives each component's posterior and :meth:`predict`
        the component.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map into the latent space.

        Returns
        -------
        ndarray of shape (n_samples, n_factors)
        """
        post = self.posterior(X)
        return np.einsum("nk,nkq->nq", post.responsibilities, post.means)

    def inverse_transform(self, Z, component=None):
        """Map factor values to data space: ``E[x | z] = sum_k pi_k (mu_k + W_k z)``, or ``mu_k + W_k z``.

        In the generative model ``z`` is drawn independently of the
        component, so given ``z`` alone the expected point averages the
        components by their weights; given the component too, it is that
        component's ``mu_k + W_k z``.

        Parameters
        ----------
        Z : array-like of shape (n_samples, n_factors)
            Factor values.
        component : int or None, default=None
            The component to map through; None averages them by ``weights_``.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_latent(self, Z)
        if component is None:
            return self.weights_ @ self.means_ + Z @ np.einsum("k,kpq->pq", self.weights_, self.loadings_).T
        if isinstance(component, (bool, np.bool_)) or not isinstance(component, numbers.Integral) or not (
                0 <= component < self.n_components):
            raise ValueError(f"component must be an integer in [0, {self.n_components}); got {component!r}.")
        return self.means_[component] + Z @ self.loadings_[component].T

    def reconstruct(self, X):
        """Each row's expected reconstruction, ``sum_k r_nk (mu_k + W_k E[z | x_n, k])``.

        The lossy round trip through each component's latent space, averaged
        over the components by the responsibilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        post = self.posterior(X)
        through = self.means_[None] + np.einsum("kpq,nkq->nkp", self.loadings_, post.means)
        return np.einsum("nk,nkp->np", post.responsibilities, through)

    def _draw(self, rng, counts):
        """``counts[k]`` draws ``x = mu_k + W_k z + e``, ``z ~ N(0, I)``, ``e ~ N(0, Psi_k)``, and their labels."""
        labels = np.repeat(np.arange(self.n_components), counts)
        noise = self._noise_per_column()
        z = rng.standard_normal((len(labels), self.n_factors))
        e = rng.standard_normal((len(labels), self.means_.shape[1])) * np.sqrt(noise[labels])
        X = self.means_[labels] + np.einsum("npq,nq->np", self.loadings_[labels], z) + e
        return X, labels

    def covariances(self):
        """Each component's covariance ``W_k W_k^T + Psi_k`` as a full matrix, shape (K, p, p).

        The fit never forms them; they are here for plots and comparison.

        Returns
        -------
        ndarray of shape (n_components, n_features, n_features)
        """
        check_is_fitted(self)
        full = np.einsum("kpq,krq->kpr", self.loadings_, self.loadings_)
        noise = self._noise_per_column()
        idx = np.arange(full.shape[1])
        full[:, idx, idx] += noise
        return full

    def summary(self):
        """Report the weights, means, loadings and noise of the components as tables.

        Returns
        -------
        Summary
            Tables ``"components"`` (weight, mean and noise of each) and
            ``"loadings"`` (one block of ``n_features x n_factors`` per component).
        """
        check_is_fitted(self)
        names, labels = self._names(), [f"component {j}" for j in range(self.n_components)]
        factors = self._latent_names()
        components = pd.DataFrame(self.means_, index=labels, columns=names)
        components.insert(0, _base.weight_column(names), self.weights_)
        noise = pd.DataFrame(self._noise_per_column(), index=labels, columns=[f"noise {c}" for c in names])
        loadings = pd.concat({label: pd.DataFrame(self.loadings_[j], index=names, columns=factors)
                              for j, label in enumerate(labels)})
        info = {"components": self.n_components, "factors": self.n_factors, "algorithm": self.algorithm,
                "mean log-likelihood": self.lower_bound_, "iterations": self.n_iter_,
                "converged": self.converged_, "parameters": self.n_parameters_}
        return Summary(self._title, info, {"components": pd.concat([components, noise], axis=1),
                                           "loadings": loadings})


def _closed_form_start(rows, q):
    """Probabilistic PCA of centred ``rows`` in closed form: loadings (p, q) and per-column noise (p,)."""
    n, p = rows.shape
    variances = np.einsum("ij,ij->j", rows, rows) / n
    if q == 0:
        return np.zeros((p, 0)), variances
    _, values, axes = linalg.svd(rows, full_matrices=False)
    eigen = np.zeros(p)
    eigen[: len(values)] = values**2 / n
    sigma2 = max(variances.sum() - eigen[:q].sum(), 0.0) / (p - q)
    loadings = axes[:q].T * np.sqrt(np.maximum(eigen[:q] - sigma2, 0.0))
    return loadings, variances - np.einsum("jk,jk->j", loadings, loadings)


