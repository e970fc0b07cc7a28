"""Probabilistic PCA (Tipping & Bishop 1999): closed form, EM, missing data."""

import functools
import numbers

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _lowrank
from .._base import LatentModel, LatentNamesMixin, Posterior, StreamingMixin, rowwise
from .._em import EMMixin
from .._linalg import eigh_top, flip_signs
from .._source import SummarySource, chunk_rows
from .._stats import SummaryLoglik, imputed_scatter, observed_columns
from .._summary import Summary
from .._validation import (
    CALLABLE,
    NAMES,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    check_data,
    check_latent,
    check_n_samples,
    check_variance,
    read_data,
)
from . import _ppca_kernels as kernels
from ._checks import is_wide

# Noise variance, relative to the mean variance per feature, under which the
# model C = W W^T + s2 I is taken as singular: the data then lie in a subspace
# of dimension <= n_components.
_SINGULAR_RTOL = 1e-10


class PPCA(EMMixin, StreamingMixin, LatentNamesMixin, TransformerMixin, LatentModel):
    """Probabilistic principal component analysis, fitted by maximum likelihood.

    The generative model (Tipping & Bishop 1999):

    .. math:: z \\sim N(0, I_k), \\qquad x = W z + \\mu + \\varepsilon,
              \\qquad \\varepsilon \\sim N(0, \\sigma^2 I_p),

    so that :math:`x \\sim N(\\mu, C)` with :math:`C = W W^T + \\sigma^2 I`.
    The maximum-likelihood fit uses the sample covariance with divisor ``n``:
    :math:`\\sigma^2` is the mean of the discarded eigenvalues and
    :math:`W = U_k (\\Lambda_k - \\sigma^2 I)^{1/2}`.

    Parameters
    ----------
    n_components : int, "mle" or None, default=None
        Latent dimension ``k``. ``"mle"`` chooses it by Minka's (2000) Laplace
        approximation to the evidence, computed as scikit-learn's
        ``PCA(n_components="mle")`` computes it, among the ``k`` below the rank
        of the centred data: on exactly rank-deficient data the evidence is
        largest at the rank, where the noise variance is zero and PPCA has no
        density (``lvm.PCA("mle")`` keeps that ``k``). ``None`` takes
        ``min(n, p) - 1``, the largest ``k`` that leaves a noise variance to
        estimate.
    method : {"closed_form", "em"}, default="closed_form"
        ``"closed_form"`` takes the eigendecomposition of the sample
        covariance; ``"em"`` iterates Tipping & Bishop's EM on a square root
        ``A`` of the covariance (``S = A A^T``; each step ``O(p r k)`` with ``r``
        the columns of ``A``, at most ``min(n, p)``), the view to watch when
        teaching. With fewer rows than columns neither forms the ``p x p``
        covariance: both work from the ``n x n`` Gram matrix and the centred rows.
    missing : {"error", "em"}, default="error"
        ``"em"`` accepts NaN as a missing entry and fits the exact
        maximum-likelihood model of the observed entries by EM, treating the
        missing entries as latent.
    tol : float, default=1e-6
        EM stops when the mean log-likelihood per sample changes by less.
    max_iter : int, default=1000
        Most EM iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the EM starting loadings.
    callback : callable or None, default=None
        ``callback(iteration, params)`` after every EM iteration, with
        ``params`` a dict of ``mean``, ``loadings`` and ``noise_variance``.
    verbose : int, default=0
        Show a progress bar during EM.
    latent_names : list of str or None, default=None
        Names of the latent variables, used by ``get_feature_names_out``,
        pandas output and ``summary()``. None: ``Z1, Z2, ...``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``W^T``: the loadings, columns of ``W`` orthogonal with decreasing norm,
        the largest entry of each row positive.
    noise_variance_ : float
        :math:`\\sigma^2`.
    mean_ : ndarray of shape (n_features,)
        :math:`\\mu`.
    explained_variance_ : ndarray of shape (n_components,)
        The ``k`` largest eigenvalues of the model covariance ``C``
        (``||w_j||^2 + sigma2``); the largest eigenvalues of the sample
        covariance with divisor ``n`` for a complete-data fit.
    n_components_ : int
        ``k``.
    log_likelihood_ : float
        Maximised log-likelihood of the training data (sum over rows; observed
        entries only when some are missing).
    history_ : ndarray of shape (n_iter_ + 1,)
        Mean log-likelihood per sample at the start and after every EM
        iteration (one value for the closed form).
    n_iter_ : int
        EM iterations taken (1 for the closed form).
    converged_ : bool
        Whether EM met ``tol`` (always True for the closed form).
    evidence_ : ndarray of shape (n_features - 1,)
        Minka's log-evidence for ``k = 1 .. p - 1``; only with ``n_components="mle"``.
    n_samples_ : int
        Rows seen in fitting.
    n_parameters_ : int
        ``p k - k (k - 1) / 2 + 1 + p``.
    n_features_in_ : int
        Number of features seen in fitting.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.
    scatter_ : ndarray of shape (n_features, n_features)
        Scatter matrix about the mean, kept by ``partial_fit`` only.
    n_samples_seen_ : int
        Rows merged so far by ``partial_fit`` (``partial_fit`` only).

    See Also
    --------
    lvm.PCA : The zero-noise limit, with solvers for large data.

    Notes
    -----
    ``transform`` returns the posterior mean
    :math:`E[z \\mid x] = M^{-1} W^T (x - \\mu)` with :math:`M = W^T W + \\sigma^2 I`,
    which shrinks the PCA projection towards zero; ``posterior`` adds the
    covariance :math:`\\sigma^2 M^{-1}`. ``W`` is identified up to a rotation;
    the one reported has orthogonal columns.

    EM is slow when the noise is small: near the optimum the scale of
    :math:`w_j` contracts by about :math:`1 - \\sigma^2 / \\lambda_j` per step,
    so with :math:`\\sigma^2 / \\lambda_1 = 10^{-3}` thousands of iterations are
    needed. That is why the closed form is the default; EM is there to watch,
    and to handle missing values.

    References
    ----------
    Tipping, M. E. and Bishop, C. M. (1999). Probabilistic principal component
    analysis. JRSS B 61(3), 611-622. doi:10.1111/1467-9868.00196

    Minka, T. P. (2000). Automatic choice of dimensionality for PCA. NIPS 13.

    Examples
    --------
    >>> import numpy as np
    >>> from lvm import PPCA
    >>> X = np.random.default_rng(0).normal(size=(200, 4)) @ np.diag([3.0, 1.0, 1.0, 1.0])
    >>> ppca = PPCA(n_components=1).fit(X)
    >>> ppca.components_.shape
    (1, 4)
    >>> bool(ppca.noise_variance_ < ppca.explained_variance_[0])
    True
    """

    _latent_prefix = "Z"

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None), Options("mle"), NONE],
        "latent_names": [NAMES, NONE],
        "method": [Options("closed_form", "em")],
        "missing": [Options("error", "em")],
        "tol": [Interval(numbers.Real, 0, None)],
        "max_iter": [Interval(numbers.Integral, 0, None)],
        "random_state": [RANDOM_STATE],
        "callback": [CALLABLE, NONE],
        "verbose": [Interval(numbers.Integral, 0, None), Options(False, True)],
    }

    def __init__(self, n_components=None, *, method="closed_form", missing="error", tol=1e-6,
                 max_iter=1000, random_state=None, callback=None, verbose=0, latent_names=None):
        self.n_components = n_components
        self.latent_names = latent_names
        self.method = method
        self.missing = missing
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.callback = callback
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "em"
        return tags

    # ------------------------------------------------------------------ fit
    def _check_k(self, k, n, p):
        upper = min(n, p) - 1
        if upper < 1:
            raise ValueError(
                f"PPCA needs at least 2 samples and 2 features to leave a noise variance; got "
                f"{n} sample(s) and {p} feature(s)."
            )
        if k > upper:
            raise ValueError(
                f"PPCA: n_components={k} is too large; it must be at most min(n_samples, "
                f"n_features) - 1 = {upper} so that a noise variance remains. Choose a "
                "smaller n_components."
            )

    def _check_not_singular(self, noise_variance, trace, p, k, spectrum):
        if noise_variance > _SINGULAR_RTOL * trace / p:
            return
        values = spectrum.eigenvalues()
        rank = int(np.sum(values > _SINGULAR_RTOL * values.max()))
        raise ValueError(
            f"PPCA: n_components={k} is not below the rank {rank} of the centred data, so the "
            f"noise variance is zero and the model is singular. Choose n_components < {rank}."
        )

    def fit(self, X, y=None):
        """Fit the model to ``X`` by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, an array, a memmap or a dask array (read block by
            block, never gathered); NaN marks a missing entry when
            ``missing="em"``.
        y : None
            Ignored.

        Returns
        -------
        self : PPCA
            The fitted model.
        """
        self._check_params()
        self._forget_stream()
        self.__dict__.pop("evidence_", None)
        wide = is_wide(X)
        data = read_data(self, X, allow_nan=self.missing == "em", columns=wide, scatter=not wide)
        if not data.complete:
            self._fit_missing(data)
        elif wide:
            self._fit_wide(data)
        else:
            self._fit_scatter(data.scatter, data.described)
        return self

    def _can_fit(self, n, p):
        k = self.n_components
        return min(n, p) - 1 >= (k if isinstance(k, numbers.Integral) else 1)

    def _n_components_for(self, n, p):
        k = min(n, p) - 1 if self.n_components is None else self.n_components
        self._check_k(k, n, p)
        return k

    def _fit_scatter(self, stats, X):
        """Fit from count, mean and scatter: the closed form, or EM on the covariance."""
        self._fit_complete(stats.n_samples, stats.mean, kernels.ScatterSpectrum(stats.covariance()), X)

    def _fit_wide(self, data):
        """Fit data with fewer rows than columns through the ``n x n`` Gram matrix, never ``p x p``."""
        X = data.source.X
        mean = data.columns.mean
        self._fit_complete(X.shape[0], mean, kernels.GramSpectrum(X, mean), data.described)

    def _fit_complete(self, n, mean, spectrum, described):
        """The closed form, or EM, from the spectrum of the covariance ``S`` (divisor ``n``).

        ``spectrum`` is a :class:`~lvm.decomposition._ppca_kernels.ScatterSpectrum`
        or :class:`~lvm.decomposition._ppca_kernels.GramSpectrum`.
        """
        trace = spectrum.trace
        p = len(mean)
        check_variance(trace, described)
        if self.n_components == "mle":
            if p < 2 or n <= p:
                raise ValueError(
                    f"PPCA: n_components='mle' compares 1 <= k < n_features components and needs more "
                    f"samples than features; got {n} samples and {p} feature(s). Give an integer "
                    "n_components" + (" or more features." if p < 2 else " or more samples.")
                )
            # k = rank would leave no noise variance: PPCA takes the best k below it.
            k, self.evidence_, rank = kernels.infer_dimension(spectrum.eigenvalues(), n, below_rank=True)
            if k < 1:
                raise ValueError(
                    f"PPCA: n_components='mle' found the centred data of rank {rank}: every row lies on "
                    f"{'one point' if rank == 0 else 'a line'} through the mean, so no n_components leaves PPCA a "
                    "noise variance. Use lvm.PCA(n_components='mle'), or add the columns that vary independently."
                )
            self._check_k(k, n, p)
        else:
            k = self._n_components_for(n, p)
        values, vectors = spectrum.top(k)
        loadings, noise = kernels.closed_form(values, vectors, trace, p)
        self._check_not_singular(noise, trace, p, k, spectrum)
        if self.method == "em":
            # The likelihood of complete data depends on the rows only through
            # their covariance: EM runs on a square root of it, O(p r k) per step.
            self._em_components = k
            summary = kernels.FactoredCovariance(n, mean, trace, spectrum.factor())
            result = self._fit_em(SummarySource(summary), check_random_state(self.random_state), name="PPCA")
            loadings = kernels.canonical_loadings(result.params["loadings"])
            noise = result.params["noise_variance"]
            history, n_iter, converged = result.history, result.n_iter, result.converged
        else:
            flip_signs(loadings.T)
            history = np.array([kernels.loglik_at_optimum(values, noise, p)])
            n_iter, converged = 1, True
        self._set_fitted(mean, loadings, noise, n, history, n_iter, converged)

    def _fit_missing(self, data):
        if self.n_components == "mle":
            raise ValueError("PPCA: n_components='mle' is not available with missing values; give an integer.")
        source = data.source
        self._em_components = self._n_components_for(source.n_samples, source.n_features)
        result = self._fit_em(source, check_random_state(self.random_state), name="PPCA")
        loadings = kernels.canonical_loadings(result.params["loadings"])
        self._set_fitted(result.params["mean"], loadings, result.params["noise_variance"], source.n_samples,
                         result.history, result.n_iter, result.converged)

    # ------------------------------------------------------- EM contract
    def _init_params(self, source, rng):
        k = self._em_components
        if isinstance(source, SummarySource):
            summary = source.summary
            p = len(summary.mean)
            return {"mean": summary.mean, "loadings": rng.standard_normal((p, k)) * np.sqrt(summary.trace / p),
                    "noise_variance": summary.trace / p}
        # Missing entries: start from the closed form of the mean-imputed data.
        p = source.n_features
        columns = observed_columns(source)
        stats = source.remember("imputed scatter", functools.partial(imputed_scatter, fill=columns.mean),
                                rows=chunk_rows(p))
        S = stats.covariance()
        trace = float(np.trace(S))
        check_variance(trace, columns)
        values, vectors = eigh_top(S, k)
        loadings, noise = kernels.closed_form(values, vectors, trace, p)
        self._check_not_singular(noise, trace, p, k, kernels.ScatterSpectrum(S))
        # The sums are taken about the observed column means, fixed through EM;
        # the mean moves as a small offset from them (see _lowrank.missing_e_step).
        centre = columns.mean
        return {"mean": centre, "loadings": loadings, "noise_variance": noise, "centre": centre,
                "offset": np.zeros(p), "singular_below": _SINGULAR_RTOL * trace / p}

    def _e_step(self, chunk, params):
        if isinstance(chunk, kernels.FactoredCovariance):
            loglik = kernels.loglik_from_factor(chunk.factor, params["loadings"], params["noise_variance"])
            return SummaryLoglik(chunk.n_samples, chunk.n_samples * loglik, chunk)
        return _lowrank.missing_e_step(chunk, params["offset"], params["loadings"], params["noise_variance"],
                                       centre=params["centre"])

    def _m_step(self, stats, params):
        if isinstance(stats, SummaryLoglik):
            loadings, noise = kernels.em_step_factor(stats.summary.factor, params["loadings"],
                                                     params["noise_variance"])
            return {"mean": params["mean"], "loadings": loadings, "noise_variance": noise}
        offset, loadings, residual = _lowrank.missing_m_step(stats, offset=True)
        noise = float(residual.mean())
        if not noise > params["singular_below"]:
            # The likelihood grows without bound as s2 -> 0; past this point
            # EM only chases round-off, so the fit stops with the reason.
            raise ValueError(
                f"PPCA: the noise variance fell to {noise:.3g}, below {_SINGULAR_RTOL:g} of the mean variance "
                f"per feature: the observed entries lie in a subspace of dimension <= n_components="
                f"{loadings.shape[1]}, so the likelihood has no maximum. Choose a smaller n_components."
            )
        return {"mean": stats.centre + offset, "loadings": loadings, "noise_variance": noise,
                "centre": stats.centre, "offset": offset, "singular_below": params["singular_below"]}

    def _set_fitted(self, mean, loadings, noise, n, history, n_iter, converged):
        p, k = loadings.shape
        self.mean_ = mean
        self.components_ = np.ascontiguousarray(loadings.T)
        self.noise_variance_ = float(noise)
        self.explained_variance_ = np.sum(loadings**2, axis=0) + noise
        self.n_components_ = k
        self.n_samples_ = n
        self.history_ = np.asarray(history, dtype=np.float64)
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        self.log_likelihood_ = float(self.history_[-1] * n)
        self.n_parameters_ = p * k - k * (k - 1) // 2 + 1 + p

    # ---------------------------------------------------------- inference
    def _loadings(self):
        return self.components_.T

    def _data(self, X):
        check_is_fitted(self)
        X = check_data(self, X, reset=False, allow_nan=self.missing == "em")
        observed = ~np.isnan(X)
        return X, (None if observed.all() else observed)

    def posterior(self, X):
        """Posterior of the latent variables given each row.

        .. math:: z \\mid x \\sim N\\big(M^{-1} W^T (x - \\mu),\\; \\sigma^2 M^{-1}\\big),
                  \\qquad M = W^T W + \\sigma^2 I

        (Tipping & Bishop 1999, eqs. 6-7); with missing entries, ``W`` and
        ``x - mu`` are restricted to the observed coordinates of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Posterior
            ``mean`` of shape (n_samples, n_components); ``covariance`` of shape
            (n_components, n_components), or (n_samples, n_components,
            n_components) when rows have missing entries.
        """
        X, observed = self._data(X)
        if observed is None:
            return Posterior(*_lowrank.posterior(X - self.mean_, self._loadings(), self.noise_variance_))
        centered = np.where(observed, X - self.mean_, 0.0)
        mean, cov, _ = _lowrank.masked_posterior(centered, observed, self._loadings(), self.noise_variance_)
        return Posterior(mean, cov)

    @rowwise("n_components_")
    def transform(self, X):
        """Posterior mean of the latent variables, ``E[z | x] = M^{-1} W^T (x - mu)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data (NaN allowed when ``missing="em"``).

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Posterior mean of the latent variables of each row.
        """
        return self.posterior(X).mean

    def inverse_transform(self, X):
        """Map latent values back to data space: ``x = W z + mu``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Points in data space.
        """
        check_is_fitted(self)
        return check_latent(self, X) @ self.components_ + self.mean_

    @rowwise()
    def score_samples(self, X):
        """Log-likelihood of each row, ``log N(x | mu, W W^T + s2 I)``.

        Computed in the ``k``-dimensional space by Woodbury's identity and the
        matrix determinant lemma; with missing entries, the marginal density of
        the observed coordinates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-density of each row.
        """
        X, observed = self._data(X)
        if observed is None:
            return _lowrank.logpdf(X - self.mean_, self._loadings(), self.noise_variance_)
        centered = np.where(observed, X - self.mean_, 0.0)
        return _lowrank.masked_posterior(centered, observed, self._loadings(), self.noise_variance_)[2]

    def get_covariance(self):
        """Model covariance ``C = W W^T + s2 I``.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            The covariance matrix of the fitted Gaussian.
        """
        check_is_fitted(self)
        covariance = self.components_.T @ self.components_
        covariance[np.diag_indices_from(covariance)] += self.noise_variance_
        return covariance

    def sample(self, n_samples=1, random_state=None):
        """Draw ``(x, z)`` pairs from the fitted generative model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The observed draws.
        Z : ndarray of shape (n_samples, n_components)
            The latent values behind them.
        """
        check_is_fitted(self)
        n_samples = check_n_samples(n_samples)
        rng = check_random_state(random_state)
        latent = rng.standard_normal((n_samples, self.n_components_))
        noise = rng.standard_normal((n_samples, self.n_features_in_)) * np.sqrt(self.noise_variance_)
        return latent @ self.components_ + self.mean_ + noise, latent

    @property
    def _n_features_out(self):
        return self.n_components_

    def summary(self):
        """Fit statistics, variance per component and loadings.

        Returns
        -------
        Summary
            Tables ``"variance"`` and ``"loadings"`` (``W``, one row per feature).
        """
        check_is_fitted(self)
        names = self._latent_names()
        total = self.explained_variance_.sum() + (self.n_features_in_ - self.n_components_) * self.noise_variance_
        share = self.explained_variance_ / total
        variance = pd.DataFrame(
            {"variance": self.explained_variance_, "proportion": share, "cumulative": np.cumsum(share)},
            index=pd.Index(names, name="component"),
        )
        features = self._names()
        loadings = pd.DataFrame(self.components_.T, index=pd.Index(features, name="feature"), columns=names)
        info = {
            "samples": self.n_samples_,
            "features": self.n_features_in_,
            "components": self.n_components_,
            "method": self.method,
            "log-likelihood": self.log_likelihood_,
            "noise variance": self.noise_variance_,
            "iterations": self.n_iter_,
            "converged": self.converged_,
        }
        return Summary("Probabilistic PCA", info, {"variance": variance, "loadings": loadings})
