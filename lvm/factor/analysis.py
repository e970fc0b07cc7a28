"""Exploratory factor analysis: ML, minres and principal axis, rotations, scores, fit."""

import functools
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _lowrank
from .._base import LatentModel, Posterior, StreamingMixin, rowwise
from .._em import EMMixin
from .._linalg import floor_eigenvalues, single_blas_thread
from .._source import SummarySource, chunk_rows
from .._stats import ScatterStats, SummaryLoglik, observed_columns, pairwise_stats
from .._validation import BOOLEAN, CALLABLE, NONE, Interval, Options, check_data, check_variance, read_data
from ..exceptions import HeywoodCaseWarning
from . import _fitting
from ._input import covariance_to_correlation
from ._report import build_summary
from .fit import fit_statistics
from .rotation import OBLIQUE, ORTHOGONAL, Rotation, rotate, sort_factors
from .scores import bartlett_weights, regression_weights

# Up to this many variables the iterations' p x p products are too small for
# a second BLAS thread to help.
_SINGLE_THREAD_MAX_P = 256

# A uniqueness this close to the floor counts as having hit it.
_FLOOR_RTOL = 1e-6


class FactorAnalysis(EMMixin, StreamingMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, LatentModel):
    """Exploratory factor analysis, as R's ``factanal`` and ``psych::fa`` fit it.

    The common factor model (Spearman 1904; Thurstone 1947; Lawley & Maxwell 1971):

    .. math:: x = \\mu + W f + \\varepsilon, \\qquad f \\sim N(0, \\Phi),
              \\qquad \\varepsilon \\sim N(0, \\Psi), \\ \\Psi \\text{ diagonal},

    so that :math:`\\mathrm{Cov}(x) = W \\Phi W^T + \\Psi`. The fit is made on the
    correlation matrix: standardised loadings ``L`` with
    ``R = L Phi L^T + diag(uniquenesses)``; maximum likelihood is scale
    invariant, so ``W = D^{1/2} L`` is also the ML fit to the raw data.

    Parameters
    ----------
    n_factors : int, default=1
        Number of factors ``k``.
    method : {"ml", "minres", "principal"}, default="ml"
        Maximum likelihood (Joreskog 1967), minimum residual / unweighted least
        squares (Harman & Jones 1966; ``psych::fa`` default), or iterated
        principal axis.
    rotation : str or None, default=None
        ``"varimax"``, ``"quartimax"``, ``"equamax"`` (orthogonal) or
        ``"promax"``, ``"oblimin"``, ``"quartimin"``, ``"geomin"`` (oblique);
        see :func:`lvm.factor.rotation.rotate`.
    normalize : bool or None, default=None
        Kaiser normalisation before rotating; None does what R does for the
        rotation (on for varimax and promax, off for the GPArotation criteria).
    solver : {"lbfgs", "em"}, default="lbfgs"
        For ``method="ml"``: L-BFGS-B on the uniquenesses as ``factanal`` does
        (the faster), or EM on the correlation matrix (Rubin & Thayer 1982),
        the view to watch when teaching. Both reach the same maximum.
    scores : {"regression", "bartlett"}, default="regression"
        Factor scores returned by ``transform``: Thomson's regression scores or
        Bartlett's weighted least-squares scores, as ``factanal`` computes them.
    missing : {"error", "em"}, default="error"
        ``"em"`` accepts NaN and fits the exact maximum-likelihood model of the
        observed entries (full-information ML) by EM.
    tol : float, default=1e-9
        Convergence tolerance: norm of the projected gradient of the objective
        for L-BFGS-B (ML and minres), change of the mean log-likelihood per
        sample for EM, largest change of a communality for principal axis.
    max_iter : int, default=10000
        Most iterations.
    callback : callable or None, default=None
        ``callback(iteration, params)`` after every EM iteration.
    verbose : int, default=0
        Progress bar during EM.

    Attributes
    ----------
    loadings_ : ndarray or pandas.DataFrame of shape (n_features, n_factors)
        Rotated standardised loadings ``L``, sorted by decreasing sum of
        squares and with positive column sums (R's convention); a DataFrame
        with the variable names when the data had them.
    unrotated_loadings_ : ndarray of shape (n_features, n_factors)
        Loadings before rotation.
    uniquenesses_ : ndarray of shape (n_features,)
        ``1 - communalities_`` on the correlation scale.
    communalities_ : ndarray of shape (n_features,)
        ``h2``: the share of each variable's variance the factors explain.
    rotation_matrix_ : ndarray of shape (n_factors, n_factors)
        ``T`` with ``loadings_ = unrotated_loadings_ @ T``.
    factor_correlation_ : ndarray of shape (n_factors, n_factors)
        ``Phi = (T^T T)^{-1}``; the identity for orthogonal rotations.
    components_ : ndarray of shape (n_factors, n_features)
        ``W^T``: rotated loadings in the units of the data.
    noise_variance_ : ndarray of shape (n_features,)
        ``Psi`` in the units of the data.
    mean_ : ndarray of shape (n_features,)
        Column means (NaN when fitted from a matrix).
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (divisor ``n - 1``) used to standardise for scores.
    correlation_ : ndarray of shape (n_features, n_features)
        The correlation matrix analysed.
    variance_ : pandas.DataFrame
        SS loadings, proportion and cumulative proportion of variance per factor.
    fit_statistics_ : dict
        ``objective``, ``chi2``, ``dof``, ``p_value``, ``rmsea`` (with
        ``rmsea_lower``, ``rmsea_upper``), ``tli``, ``cfi``, ``bic``,
        ``null_chi2``, ``null_dof``, ``n_obs``; see :func:`lvm.factor.fit_statistics`.
    log_likelihood_ : float
        Log-likelihood of the training data under the ML model (sum over rows);
        NaN when fitted from a matrix.
    heywood_ : list of str
        Variables whose uniqueness reached the floor.
    history_ : ndarray of shape (n_iter_ + 1,)
        Mean log-likelihood per sample (EM) or minus the objective (L-BFGS-B)
        at the start and after every iteration recorded.
    n_iter_ : int
        Iterations taken.
    converged_ : bool
        Whether the optimiser met ``tol``.
    n_samples_ : int
        Observations behind the fit.
    n_parameters_ : int
        ``p k - k (k - 1) / 2 + 2 p``: loadings up to rotation, uniquenesses, means.
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
    lvm.PPCA : The model with one noise variance for all features.

    Notes
    -----
    The sample covariance is formed once (``O(n p^2)``); every iteration then
    works on the ``p x p`` correlation matrix, whatever the number of rows.
    Uniquenesses are floored at 0.005 as in R; a variable that reaches the
    floor (a Heywood case) is named in a :class:`~lvm.exceptions.HeywoodCaseWarning`.

    References
    ----------
    Joreskog, K. G. (1967). Some contributions to maximum likelihood factor
    analysis. Psychometrika 32, 443-482. doi:10.1007/BF02289658

    Rubin, D. B. and Thayer, D. T. (1982). EM algorithms for ML factor
    analysis. Psychometrika 47, 69-76. doi:10.1007/BF02293851

    Lawley, D. N. and Maxwell, A. E. (1971). Factor Analysis as a Statistical
    Method, 2nd ed. Butterworths.

    Examples
    --------
    >>> import lvm
    >>> X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    >>> fa = lvm.FactorAnalysis(3, rotation="varimax").fit(X)
    >>> round(fa.fit_statistics_["chi2"], 2), fa.fit_statistics_["dof"]
    (22.38, 12.0)
    """

    _parameter_constraints = {
        "n_factors": [Interval(numbers.Integral, 1, None)],
        "method": [Options("ml", "minres", "principal")],
        "rotation": [Options(None, "none", *ORTHOGONAL, *OBLIQUE)],
        "normalize": [BOOLEAN, NONE],
        "solver": [Options("lbfgs", "em")],
        "scores": [Options("regression", "bartlett")],
        "missing": [Options("error", "em")],
        "tol": [Interval(numbers.Real, 0, None)],
        "max_iter": [Interval(numbers.Integral, 1, None)],
        "callback": [CALLABLE, NONE],
        "verbose": [Interval(numbers.Integral, 0, None), BOOLEAN],
    }

    def __init__(self, n_factors=1, *, method="ml", rotation=None, normalize=None, solver="lbfgs",
                 scores="regression", missing="error", tol=1e-9, max_iter=10000, callback=None, verbose=0):
        self.n_factors = n_factors
        self.method = method
        self.rotation = rotation
        self.normalize = normalize
        self.solver = solver
        self.scores = scores
        self.missing = missing
        self.tol = tol
        self.max_iter = max_iter
        self.callback = callback
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "em"
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the factor model to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data: an array, a memmap or a dask array (read block by block,
            never gathered); NaN marks a missing entry when ``missing="em"``.
        y : None
            Ignored.

        Returns
        -------
        self : FactorAnalysis
            The fitted model.
        """
        self._check_params()
        self._forget_stream()
        data = read_data(self, X, allow_nan=self.missing == "em", columns=False, scatter=True)
        if data.complete:
            self._fit_scatter(data.scatter, data.described)
        else:
            self._fit_missing(data.source)
        self._warn_heywood()
        return self

    def _can_fit(self, n, p):
        # Until there are more rows than variables the correlation matrix is singular.
        return n > p

    def _warnings_after_fit(self):
        self._warn_heywood()

    def fit_covariance(self, S, n_obs):
        """Fit the factor model to a published covariance or correlation matrix.

        Parameters
        ----------
        S : array-like of shape (n_features, n_features)
            Covariance or correlation matrix (a DataFrame keeps its names).
        n_obs : int
            Number of observations it was computed from, for the fit statistics.

        Returns
        -------
        self : FactorAnalysis
            The fitted model; ``transform`` needs data and raises, since the
            means are unknown.
        """
        self._check_params()
        names = [str(c) for c in S.columns] if hasattr(S, "columns") else None
        S = np.asarray(S, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != S.shape[1] or not np.allclose(S, S.T):
            raise ValueError(f"S must be a symmetric square matrix; got shape {S.shape}.")
        if not isinstance(n_obs, numbers.Integral) or n_obs < 2:
            raise ValueError(f"n_obs={n_obs!r} must be an integer >= 2, the sample size behind S.")
        self._forget_stream()
        self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = S.shape[0]
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        sd = np.sqrt(np.diag(S))
        R = covariance_to_correlation(S, "S")
        self._fit_correlation(R, n_obs, mean=np.full(len(R), np.nan), scale=sd, ml_scale=sd)
        self._warn_heywood()
        return self

    def _fit_scatter(self, stats, X):
        n = stats.n_samples
        check_variance(np.trace(stats.scatter), X)
        variances = np.diag(stats.scatter) / n
        constant = np.flatnonzero(variances <= 1e-300)
        if constant.size:
            names = self._names()
            raise ValueError(f"FactorAnalysis: column(s) {[names[j] for j in constant]} are constant; "
                             "their correlations are undefined. Drop them.")
        R = covariance_to_correlation(stats.scatter, "the scatter matrix")
        sd_ml = np.sqrt(variances)
        self._fit_correlation(R, n, mean=stats.mean, scale=sd_ml * np.sqrt(n / max(n - 1, 1)), ml_scale=sd_ml)

    def _check_k(self, p, n):
        k = self.n_factors
        if p < 2:
            raise ValueError(f"FactorAnalysis needs at least 2 features; got {p} feature(s).")
        if k >= p:
            raise ValueError(f"FactorAnalysis: n_factors={k} must be below n_features={p}.")
        if n is not None and k >= n:
            raise ValueError(f"FactorAnalysis: n_factors={k} must be below n_samples={n}.")
        return k

    def _fit_correlation(self, R, n, *, mean, scale, ml_scale):
        p = len(R)
        k = self._check_k(p, n)
        try:
            linalg.cholesky(R, lower=True)
        except linalg.LinAlgError:
            raise ValueError(
                "FactorAnalysis: the correlation matrix is singular (some variables are exact linear "
                "combinations of others, e.g. duplicated columns, or there are fewer rows than "
                "variables); drop the redundant variables."
            ) from None
        if p <= _SINGLE_THREAD_MAX_P:
            with single_blas_thread():
                result, history = self._estimate(R, k, n)
                self._finish(R, n, result, history, mean=mean, scale=scale, ml_scale=ml_scale)
        else:
            result, history = self._estimate(R, k, n)
            self._finish(R, n, result, history, mean=mean, scale=scale, ml_scale=ml_scale)

    def _estimate(self, R, k, n):
        if self.method == "minres":
            result = _fitting.fit_minres(R, k, tol=self.tol, max_iter=self.max_iter)
        elif self.method == "principal":
            result = _fitting.fit_principal_axis(R, k, tol=max(self.tol, 1e-12), max_iter=self.max_iter)
        elif self.solver == "lbfgs":
            result = _fitting.fit_ml_quasi_newton(R, k, tol=self.tol, max_iter=self.max_iter)
        else:
            # EM reads the data only through their correlation matrix, a summary of n rows.
            run = self._fit_em(SummarySource(ScatterStats(n, np.zeros(len(R)), R * n)), check_random_state(0))
            psi = run.params["uniquenesses"]
            # Rotate EM's loadings to the ML identification (L^T Psi^-1 L diagonal).
            result = {"uniquenesses": psi, "loadings": _canonical(run.params["loadings"], psi),
                      "n_iter": run.n_iter, "converged": run.converged}
            return result, run.history
        return result, None

    def _finish(self, R, n, result, history, *, mean, scale, ml_scale):
        # Principal axis and minres do not bound the uniquenesses; the floor that
        # ML uses keeps the model's density defined and flags the Heywood case.
        psi = np.maximum(result["uniquenesses"], _fitting.UNIQUENESS_FLOOR)
        unrotated = result["loadings"]
        rotation = self._rotate(unrotated)
        loadings = rotation.loadings
        names = self._names()
        self.heywood_ = [names[j] for j in np.flatnonzero(psi <= _fitting.UNIQUENESS_FLOOR * (1 + _FLOOR_RTOL))]
        self.unrotated_loadings_ = unrotated
        self.loadings_ = pd.DataFrame(loadings, index=names, columns=self._factor_names()) \
            if hasattr(self, "feature_names_in_") else loadings
        self.rotation_matrix_ = rotation.rotation_matrix
        self.factor_correlation_ = rotation.factor_correlation
        self.uniquenesses_ = psi
        self.communalities_ = 1.0 - psi
        self.correlation_ = R
        self.mean_ = mean
        self.scale_ = scale
        self.components_ = (loadings * ml_scale[:, None]).T.copy()
        self.noise_variance_ = psi * ml_scale**2
        self.n_samples_ = int(n)
        self.n_iter_ = int(result["n_iter"])
        self.converged_ = bool(result["converged"])
        p, k = loadings.shape
        self.n_parameters_ = p * k - k * (k - 1) // 2 + 2 * p
        standardised = _fitting.loglik_standardised(R, unrotated, np.maximum(psi, 1e-300))
        mean_loglik = standardised - np.log(ml_scale).sum()
        self.log_likelihood_ = float(mean_loglik * n) if np.all(np.isfinite(mean)) else np.nan
        if history is None:
            history = np.array([mean_loglik])
        else:
            history = np.asarray(history) - np.log(ml_scale).sum()
        self.history_ = history
        self.fit_statistics_ = fit_statistics(R, loadings, n, self.factor_correlation_).to_dict()
        self.variance_ = _variance_table(loadings, self.factor_correlation_, self._factor_names())

    def _rotate(self, unrotated):
        k = unrotated.shape[1]
        if self.rotation in (None, "none"):
            rotation = Rotation(unrotated.copy(), np.eye(k), np.eye(k))
        else:
            rotation = rotate(unrotated, self.rotation, normalize=self.normalize)
        return sort_factors(rotation)

    def _fit_missing(self, source):
        n, p = source.n_samples, source.n_features
        self._check_k(p, n)
        run = self._fit_em(source, check_random_state(0))
        params = run.params
        # Standardise by the model-implied variances, the FIML analogue of the sample ones.
        implied = np.sum(params["loadings"] ** 2, axis=1) + params["noise_variance"]
        sd = np.sqrt(implied)
        psi = params["noise_variance"] / implied
        unrotated = _canonical(params["loadings"] / sd[:, None], psi)
        R_model = unrotated @ unrotated.T + np.diag(psi)
        result = {"uniquenesses": psi, "loadings": unrotated, "n_iter": run.n_iter, "converged": run.converged}
        self._finish(R_model, n, result, None, mean=params["mean"], scale=sd, ml_scale=sd)
        # The fit statistics describe the pairwise-complete correlations, as psych::fa does.
        R_pairwise = self._pairwise_correlation(source)
        self.correlation_ = R_pairwise
        self.fit_statistics_ = fit_statistics(R_pairwise, self.loadings_array(), n,
                                              self.factor_correlation_).to_dict()
        self.history_ = run.history
        self.log_likelihood_ = float(run.loglik * n)

    def _pairwise_correlation(self, source):
        """Pairwise-complete correlations, from one remembered pass; an error names unlinked pairs."""
        shift = observed_columns(source).mean
        stats = source.remember("pairwise", functools.partial(pairwise_stats, shift=shift),
                                rows=chunk_rows(source.n_features, 16 * source.n_features))
        never = [(int(i), int(j)) for i, j in zip(*np.nonzero(stats.count < 2), strict=True) if i < j]
        if never:
            names = self._names()
            pairs = ", ".join(f"({names[i]}, {names[j]})" for i, j in never[:5])
            raise ValueError(f"FactorAnalysis: the column pairs {pairs} are observed together in fewer than "
                             "2 rows, so nothing links them; drop one column of each pair.")
        # Pairwise deletion can give an indefinite matrix; it only seeds EM and
        # describes the fit, so its eigenvalues are floored and the diagonal reset.
        return covariance_to_correlation(floor_eigenvalues(stats.correlation(), 1e-6))

    # ------------------------------------------------------- EM contract
    def _init_params(self, source, rng):
        k = self.n_factors
        if isinstance(source, SummarySource):
            R = source.summary.covariance()
            start = _fitting.ml_start(R, k)
            return {"loadings": _fitting.ml_loadings(start, R, k), "uniquenesses": start}
        # Missing entries: the ML fit of the pairwise-complete correlations, in the data's units.
        start = _fitting.fit_ml_quasi_newton(self._pairwise_correlation(source), k)
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

    # ----------------------------------------------------------- helpers
    def _warn_heywood(self):
        if self.heywood_:
            warnings.warn(
                f"Heywood case: the uniqueness of {', '.join(self.heywood_)} reached the floor "
                f"{_fitting.UNIQUENESS_FLOOR}; these variables are almost entirely explained by the "
                "factors. Try fewer factors, or check for near-duplicate variables.",
                HeywoodCaseWarning, stacklevel=3,
            )

    def _factor_names(self):
        prefix = {"ml": "ML", "minres": "MR", "principal": "PA"}[self.method]
        return [f"{prefix}{i + 1}" for i in range(self.n_factors)]

    def loadings_array(self):
        """Return the rotated standardised loadings as an ndarray of shape (n_features, n_factors).

        Returns
        -------
        ndarray of shape (n_features, n_factors)
            ``loadings_`` without its labels.
        """
        check_is_fitted(self)
        return np.asarray(self.loadings_, dtype=np.float64)

    # ---------------------------------------------------------- inference
    def _standardised(self, X):
        check_is_fitted(self)
        if not np.all(np.isfinite(self.mean_)):
            raise ValueError("FactorAnalysis was fitted from a covariance matrix: without the means, "
                             "data cannot be scored. Fit on the data instead.")
        X = check_data(self, X, reset=False, allow_nan=self.missing == "em")
        return X, (X - self.mean_) / self.scale_

    @rowwise("n_factors")
    def transform(self, X):
        """Factor scores of each row, by the method named in ``scores``.

        Regression (Thomson): ``z R^{-1} L Phi``; Bartlett:
        ``z Psi^{-1} L (L^T Psi^{-1} L)^{-1}``, with ``z`` the data
        standardised by the training means and standard deviations, as R's
        ``factanal(scores=...)``. Rows with missing entries get the posterior
        mean given their observed entries.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_factors)
            Factor scores.
        """
        X, z = self._standardised(X)
        loadings = self.loadings_array()
        if self.scores == "regression":
            weights = regression_weights(self.correlation_, loadings, self.factor_correlation_)
        else:
            weights = bartlett_weights(loadings, np.maximum(self.uniquenesses_, 1e-12))
        rows = np.isnan(z).any(axis=1)
        scores = np.where(rows[:, None], 0.0, np.nan_to_num(z)) @ weights
        if rows.any():
            scores[rows] = self._posterior_of(X[rows]).mean
        return scores

    def _latent_loadings(self):
        """Raw-scale loadings of uncorrelated latents ``z``, with ``f = chol(Phi) z``."""
        chol = linalg.cholesky(self.factor_correlation_, lower=True)
        return self.components_.T @ chol, chol

    def posterior(self, X):
        """Posterior mean and covariance of the factors given each row, under the fitted model.

        .. math:: f \\mid x \\sim N\\big(\\Phi W^T C^{-1} (x - \\mu),\\; \\Phi - \\Phi W^T C^{-1} W \\Phi\\big),
                  \\qquad C = W \\Phi W^T + \\Psi

        computed in the factor space (Woodbury); with missing entries, on the
        observed coordinates of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Posterior
            ``mean`` (n_samples, n_factors) and ``covariance`` (n_factors,
            n_factors), or (n_samples, n_factors, n_factors) with missing entries.
        """
        return self._posterior_of(self._standardised(X)[0])

    def _posterior_of(self, X):
        loadings, chol = self._latent_loadings()
        observed = ~np.isnan(X)
        if observed.all():
            mean, cov = _lowrank.posterior(X - self.mean_, loadings, self.noise_variance_)
            return Posterior(mean @ chol.T, chol @ cov @ chol.T)
        centered = np.where(observed, X - self.mean_, 0.0)
        mean, cov, _ = _lowrank.masked_posterior(centered, observed, loadings, self.noise_variance_)
        return Posterior(mean @ chol.T, np.einsum("ij,njk,lk->nil", chol, cov, chol))

    def inverse_transform(self, X):
        """Map factor values back to data space: ``x = mu + W f``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_factors)
            Factor values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The part of the data the factors explain.
        """
        check_is_fitted(self)
        return np.asarray(X, dtype=np.float64) @ self.components_ + self.mean_

    @rowwise()
    def score_samples(self, X):
        """Log-likelihood of each row, ``log N(x | mu, W Phi W^T + Psi)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; with missing entries, the density of the observed ones.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-density of each row.
        """
        X, _ = self._standardised(X)
        loadings, _ = self._latent_loadings()
        observed = ~np.isnan(X)
        if observed.all():
            return _lowrank.logpdf(X - self.mean_, loadings, self.noise_variance_)
        centered = np.where(observed, X - self.mean_, 0.0)
        return _lowrank.masked_posterior(centered, observed, loadings, self.noise_variance_)[2]

    def get_covariance(self):
        """Model covariance ``W Phi W^T + Psi`` in the units of the data.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            The covariance matrix of the fitted Gaussian.
        """
        check_is_fitted(self)
        loadings, _ = self._latent_loadings()
        return loadings @ loadings.T + np.diag(self.noise_variance_)

    def sample(self, n_samples=1, random_state=None):
        """Draw ``(x, f)`` pairs from the fitted model.

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
        F : ndarray of shape (n_samples, n_factors)
            The factor values behind them (correlation ``factor_correlation_``).
        """
        check_is_fitted(self)
        rng = check_random_state(random_state)
        chol = linalg.cholesky(self.factor_correlation_, lower=True)
        factors = rng.standard_normal((n_samples, self.n_factors)) @ chol.T
        noise = rng.standard_normal((n_samples, self.n_features_in_)) * np.sqrt(self.noise_variance_)
        mean = np.nan_to_num(self.mean_)
        return factors @ self.components_ + mean + noise, factors

    @property
    def _n_features_out(self):
        return self.n_factors

    def summary(self, cut=None, digits=2):
        """Report loadings with h2, u2 and complexity, variance accounted for, factor correlations, fit.

        Laid out like ``print.psych``: loadings with absolute value below
        ``cut`` are blanked, and the fit statistics follow the tables.

        Parameters
        ----------
        cut : float or None, default=None
            Blank loadings smaller than this in absolute value (e.g. 0.3).
        digits : int, default=2
            Decimals shown in the loadings table.

        Returns
        -------
        Summary
            Tables ``"loadings"``, ``"variance"`` and, for oblique rotations,
            ``"factor correlations"``.
        """
        check_is_fitted(self)
        return build_summary(self, cut=cut, digits=digits)


def _canonical(loadings, psi):
    """Rotate loadings to the ML identification: ``L^T Psi^{-1} L`` diagonal and decreasing."""
    scaled = loadings / np.sqrt(psi)[:, None]
    _, _, vt = linalg.svd(scaled, full_matrices=False)
    return loadings @ vt.T


def _variance_table(loadings, phi, names):
    ss = np.diag(phi @ loadings.T @ loadings)
    p = loadings.shape[0]
    return pd.DataFrame(
        {"SS loadings": ss, "Proportion Var": ss / p, "Cumulative Var": np.cumsum(ss) / p,
         "Proportion Explained": ss / ss.sum(), "Cumulative Proportion": np.cumsum(ss) / ss.sum()},
        index=names,
    ).T
