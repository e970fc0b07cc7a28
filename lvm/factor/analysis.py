"""Exploratory factor analysis: ML, minres and principal axis, rotations, scores, fit."""

import functools
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.utils.validation import check_is_fitted

from .._base import LatentModel, LatentNamesMixin, StreamingMixin
from .._em import run_em
from .._linalg import small_problem_threads
from .._source import SummarySource
from .._stats import ScatterStats
from .._validation import (
    ARRAY,
    BOOLEAN,
    CALLABLE,
    NAMES,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    _Kind,
    check_variance,
    read_data,
)
from ..exceptions import ConvergenceWarning, HeywoodCaseWarning
from . import _fitting, _uncertainty
from ._estimate import Estimate, variance_table
from ._inference import FactorInferenceMixin
from ._input import check_factorable, covariance_to_correlation
from ._missing import FactorEMMixin
from ._report import build_summary
from .fit import fit_statistics
from .rotation import (
    ALIASES,
    OBLIQUE,
    ORTHOGONAL,
    STRUCTURED,
    Rotation,
    method_name,
    method_parameters,
    rotate,
    sort_factors,
)

# A uniqueness this close to the floor counts as having hit it.
_FLOOR_RTOL = 1e-6

# A column whose standard deviation is this small relative to its mean varies
# only in its last few digits: round-off of a constant, not data.
_CONSTANT_RTOL = 1e-12

_LOG_2PI = np.log(2.0 * np.pi)

_PREFIX = {"ml": "ML", "minres": "MR", "principal": "PA"}

class FactorAnalysis(FactorInferenceMixin, FactorEMMixin, StreamingMixin, LatentNamesMixin, LatentModel):
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
    n_components : int, default=1
        Number of factors ``k``. The model must not have more parameters than
        the correlation matrix has entries: ``(p - k)^2 >= p + k`` (R's
        ``factanal`` rule); at equality it has 0 degrees of freedom and the
        fit statistics are undefined.
    method : {"ml", "minres", "principal"}, default="ml"
        Maximum likelihood (Joreskog 1967), minimum residual / unweighted least
        squares (Harman & Jones 1966; ``psych::fa`` default), or iterated
        principal axis.
    rotation : str or None, default=None
        ``"varimax"``, ``"quartimax"``, ``"equamax"`` (orthogonal) or
        ``"promax"``, ``"oblimin"``, ``"quartimin"``, ``"geomin"`` (oblique),
        or any other criterion of :func:`lvm.factor.rotate` (target, partial
        target, Crawford-Ferguson, bentler, infomax, bifactor, ...), under its
        name or GPArotation's (``"geominT"``, ``"cfQ"``, ...).
    rotation_kwargs : dict or None, default=None
        The criterion's parameters, passed to :func:`lvm.factor.rotate`:
        ``{"gamma": 0.5}`` for oblimin, ``{"kappa": ...}`` for cf_t/cf_q,
        ``{"delta": ...}`` for geomin, ``{"target": H}`` (and ``"weights"``)
        for the target rotations, ``{"tol": 1e-8}`` for the convergence of the
        gradient projection iterations. Target and bifactor rotations keep
        their factor order (the target's columns, the general factor first),
        and targets their signs; the others are sorted as R's ``factanal`` does.
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
    missing : {"error", "em", "pairwise"}, default="error"
        What NaN entries mean. ``"error"`` refuses them. ``"pairwise"`` fits
        the method to the pairwise-complete correlations (``psych::fa``'s
        default ``use="pairwise"``). ``"em"`` uses full information: with
        ``method="ml"`` the factor model itself is fitted by EM to the
        observed entries (exact ML); with minres or principal axis the method
        is fitted to the EM (full-information ML) estimate of the
        correlation matrix (``psych::corFiml``; lavaan's saturated ``h1``
        model). ``summary()`` names the correlations used.
    start : {"smc", "ones"} or array-like of shape (n_features,), default="smc"
        Starting communalities of the iterative methods, as ``psych::fa``'s
        ``SMC`` argument (``SMC=TRUE``, ``FALSE``, or a vector, which psych
        reads as communalities too). ``"smc"``: each method's established
        start from the squared multiple correlations (:func:`lvm.factor.smc`):
        communalities ``smc`` for principal axis, uniquenesses ``1 - smc``
        for minres (``psych::fa``), and Joreskog's (1967)
        ``(1 - k / (2 p)) (1 - smc)`` for ML (R's ``factanal``). ``"ones"``:
        communalities 1, so that principal axis starts from the
        eigendecomposition of ``R`` itself (its first step is principal
        components); an array: those communalities, each in ``(0, 1]``
        (constant columns' entries are ignored). ML and minres start from
        uniquenesses ``1 - h`` raised to the floor 0.005. Their optimum does
        not depend on the start unless the objective has several local
        minima; principal axis, which stops where the communalities settle,
        may.
    latent_names : list of str or None, default=None
        Names of the factors, used by ``get_feature_names_out``, the labelled
        ``loadings_``, pandas output and ``summary()`` (its loadings, variance
        and factor correlation tables). None: the method's prefix and a number from 1, as
        ``psych::fa`` labels them (``ML1``, ``MR1``, ``PA1``, ...).
    tol : float, default=1e-9
        Convergence tolerance: norm of the projected gradient of the objective
        for L-BFGS-B (ML and minres), change of the mean log-likelihood per
        sample for EM together with the largest entry of the gradient (on a
        complete matrix) or the largest change of an implied correlation
        (with missing entries), largest change of a communality for
        principal axis.
    max_iter : int, default=10000
        Most iterations; a solver that stops there warns with
        :class:`~sklearn.exceptions.ConvergenceWarning`.
    callback : callable or None, default=None
        ``callback(iteration, params)`` after every EM iteration.
    random_state : int, RandomState instance or None, default=None
        Passed to the EM driver. Every solver starts from deterministic values
        (``start``), so results do not depend on it; it is here so that lvm's
        models share one signature.
    verbose : bool or int, default=0
        Progress bar during EM when true or positive.

    Attributes
    ----------
    loadings_ : ndarray or pandas.DataFrame of shape (n_features, n_components)
        Rotated standardised loadings ``L``, sorted by decreasing sum of
        squares and with positive column sums (R's convention); a DataFrame
        labelled by the variable and latent names when the data had names.
    unrotated_loadings_ : ndarray of shape (n_features, n_components)
        Loadings before rotation.
    uniquenesses_ : ndarray of shape (n_features,)
        ``1 - communalities_`` on the correlation scale (0 for a constant column).
    communalities_ : ndarray of shape (n_features,)
        ``h2``: the share of each variable's variance the factors explain.
    rotation_matrix_ : ndarray of shape (n_components, n_components)
        ``T`` with ``loadings_ = unrotated_loadings_ @ T``.
    rotation_info_ : dict
        ``"converged"`` (bool), ``"n_iter"`` (int) and ``"table"``, the
        iterations of the gradient projection algorithm as a DataFrame
        (``iteration``, ``criterion``, ``log10_gradient``, ``step``; GPArotation's
        ``Table``), None for the rotations without iterations.
    factor_correlation_ : ndarray of shape (n_components, n_components)
        ``Phi = (T^T T)^{-1}``; the identity for orthogonal rotations (labelled
        by the latent names in ``summary()``).
    components_ : ndarray of shape (n_components, n_features)
        ``W^T``: rotated loadings in the units of the data.
    noise_variance_ : ndarray of shape (n_features,)
        ``Psi`` in the units of the data; 0 marks a column that was constant,
        which the model leaves out.
    mean_ : ndarray of shape (n_features,)
        Column means (NaN when fitted from a matrix).
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (divisor ``n - 1``) used to standardise for scores.
    correlation_ : ndarray of shape (n_features, n_features)
        The correlation matrix analysed; a constant column, left out of the
        analysis, has 0 off the diagonal.
    correlation_source_ : str
        How ``correlation_`` was obtained: ``"sample"`` (complete data),
        ``"matrix"`` (``fit_covariance``), ``"pairwise"`` (pairwise-complete
        correlations) or ``"em"`` (EM estimate from incomplete data).
    score_weights_ : ndarray of shape (n_features, n_components)
        ``B`` with ``transform(X) = z B`` for complete rows, where
        ``z = (X - mean_) / scale_`` (``psych::fa``'s ``weights``): for
        ``scores="regression"`` Thurstone's ``R^{-1} L Phi`` with ``R`` the
        ``correlation_`` analysed, for ``"bartlett"``
        ``Psi^{-1} L (L^T Psi^{-1} L)^{-1}``, ``L`` the rotated loadings and
        ``Phi`` the factor correlations. A constant column has a row of
        zeros (leave it out of ``z``); NaN when Bartlett's scores are
        undefined (a factor without loadings).
    eigenvalues_ : ndarray of shape (n_features_in_,)
        Eigenvalues of the correlation matrix of the non-constant variables,
        in decreasing order, then a zero per constant column:
        ``psych::fa``'s ``e.values``, for scree plots.
    variance_ : pandas.DataFrame
        SS loadings, proportion and cumulative proportion of variance per factor.
    fit_statistics_ : dict
        ``objective``, ``chi2``, ``dof``, ``p_value``, ``rmsea`` (with
        ``rmsea_lower``, ``rmsea_upper``), ``tli``, ``cfi``, ``bic``,
        ``null_chi2``, ``null_dof``, ``n_obs``; see :func:`lvm.factor.fit_statistics`.
    log_likelihood_ : float
        Log-likelihood of the training data under the fitted model (sum over
        rows; of the observed entries when some are missing). From
        ``fit_covariance(S, n_obs)``, that of ``n_obs`` rows whose sample
        covariance (divisor ``n_obs - 1``) is ``S``.
    heywood_ : list of str
        Variables whose uniqueness reached the floor.
    history_ : ndarray of shape (n_iter_ + 1,)
        The objective at the start and after every iteration: the mean
        log-likelihood per sample for ML (both solvers, and EM with missing
        data), the least-squares discrepancy ``1/2 ||R - L L^T - Psi||^2``
        (minres) or the sum of squared off-diagonal residuals over two
        (principal axis).
    n_iter_ : int
        Iterations taken.
    converged_ : bool
        Whether the optimiser met ``tol``.
    n_samples_ : int
        Observations behind the fit.
    n_parameters_ : int
        ``p k - k (k - 1) / 2 + 2 p``: loadings up to rotation, uniquenesses,
        means, over the ``p`` non-constant variables.
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
    A constant column has no correlation with anything: it is named in a
    warning, gets zero loadings and uniqueness, and is left out of the
    likelihood and the fit statistics (the fit is that of the other columns).

    References
    ----------
    Joreskog, K. G. (1967). Some contributions to maximum likelihood factor
    analysis. Psychometrika 32, 443-482. doi:10.1007/BF02289658

    Rubin, D. B. and Thayer, D. T. (1982). EM algorithms for ML factor
    analysis. Psychometrika 47, 69-76. doi:10.1007/BF02293851

    Lawley, D. N. and Maxwell, A. E. (1971). Factor Analysis as a Statistical
    Method, 2nd ed. Butterworths.

    Little, R. J. A. and Rubin, D. B. (2002). Statistical Analysis with
    Missing Data, 2nd ed. Wiley. doi:10.1002/9781119013563

    Examples
    --------
    >>> import lvm
    >>> X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    >>> fa = lvm.FactorAnalysis(3, rotation="varimax").fit(X)
    >>> round(fa.fit_statistics_["chi2"], 2), fa.fit_statistics_["dof"]
    (22.38, 12.0)
    """

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None)],
        "method": [Options("ml", "minres", "principal")],
        "rotation": [Options(None, "none", *ORTHOGONAL, *OBLIQUE, *ALIASES)],
        "rotation_kwargs": [_Kind("a dict of rotation parameters", lambda v: isinstance(v, dict)), NONE],
        "normalize": [BOOLEAN, NONE],
        "solver": [Options("lbfgs", "em")],
        "scores": [Options("regression", "bartlett")],
        "missing": [Options("error", "em", "pairwise")],
        "start": [Options("smc", "ones"), ARRAY],
        "latent_names": [NAMES, NONE],
        "tol": [Interval(numbers.Real, 0, None)],
        "max_iter": [Interval(numbers.Integral, 1, None)],
        "callback": [CALLABLE, NONE],
        "random_state": [RANDOM_STATE],
        "verbose": [Interval(numbers.Integral, 0, None), BOOLEAN],
    }

    def __init__(self, n_components=1, *, method="ml", rotation=None, rotation_kwargs=None, normalize=None,
                 solver="lbfgs", scores="regression", missing="error", start="smc", latent_names=None, tol=1e-9,
                 max_iter=10000, callback=None, random_state=None, verbose=0):
        self.n_components = n_components
        self.method = method
        self.rotation = rotation
        self.rotation_kwargs = rotation_kwargs
        self.normalize = normalize
        self.solver = solver
        self.scores = scores
        self.missing = missing
        self.start = start
        self.latent_names = latent_names
        self.tol = tol
        self.max_iter = max_iter
        self.callback = callback
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        super()._check_params()
        # An unknown rotation or parameter is refused before the (possibly long) estimation.
        if self.rotation not in (None, "none"):
            method_parameters(self.rotation, self.rotation_kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing != "error"
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the factor model to data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data: an array, a memmap or a dask array (read block by block,
            never gathered); NaN marks a missing entry unless ``missing="error"``.
        y : None
            Ignored.

        Returns
        -------
        self : FactorAnalysis
            The fitted model.
        """
        self._check_params()
        self._forget_stream()
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2 and 1 < shape[0] <= shape[1]:
            # Said before the p x p scatter is formed: for wide data that
            # matrix alone can exceed memory.
            raise ValueError(
                f"FactorAnalysis: the correlation matrix is singular: {shape[0]} rows for {shape[1]} variables, "
                "and the correlations of n rows have rank at most n - 1. Use more rows than variables "
                f"(at least {shape[1] + 1}), or PPCA/PCA, which fit wide data."
            )
        data = read_data(self, X, allow_nan=self.missing != "error", columns=False, scatter=True)
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

        ``S`` is read as the sample covariance with divisor ``n_obs - 1`` (R's
        ``cov``): the fit, its ``components_``, ``noise_variance_`` and
        ``log_likelihood_`` are those of ``fit`` on any ``n_obs`` rows whose
        sample covariance is ``S``.

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
        R = covariance_to_correlation(S, "S")
        sd = np.sqrt(np.diag(S))
        self._fit_correlation(R, int(n_obs), mean=np.full(len(R), np.nan), scale=sd,
                              ml_scale=sd * np.sqrt((n_obs - 1) / n_obs), source="matrix")
        self._warn_heywood()
        return self

    def _fit_scatter(self, stats, X):
        n = stats.n_samples
        check_variance(np.trace(stats.scatter), X)
        variances = np.diag(stats.scatter) / n
        varying = (variances > 0) & (variances > (_CONSTANT_RTOL * stats.mean) ** 2)
        if not varying.all():
            names = self._names()
            warnings.warn(f"FactorAnalysis: column(s) {[names[j] for j in np.flatnonzero(~varying)]} are "
                          "constant; they get zero loadings and uniqueness and are left out of the "
                          "likelihood and the fit statistics.", UserWarning, stacklevel=3)
        inner = np.ix_(varying, varying)
        R = covariance_to_correlation(stats.scatter[inner], "the scatter matrix")
        sd_ml = np.sqrt(variances[varying])
        self._fit_correlation(R, n, mean=stats.mean, scale=sd_ml * np.sqrt(n / max(n - 1, 1)), ml_scale=sd_ml,
                              source="sample", varying=None if varying.all() else varying)

    def _check_k(self, p, n):
        """Refuse a number of factors the data cannot identify; warn when no degrees of freedom are left."""
        k = self.n_components
        if p < 2:
            raise ValueError(f"FactorAnalysis needs at least 2 (non-constant) features; got {p} feature(s).")
        if k >= p:
            raise ValueError(f"FactorAnalysis: n_components={k} must be below n_features={p}.")
        if n is not None and k >= n:
            raise ValueError(f"FactorAnalysis: n_components={k} must be below n_samples={n}.")
        dof = ((p - k) ** 2 - (p + k)) // 2
        allowed = [j for j in range(1, p) if (p - j) ** 2 >= p + j]
        if dof < 0 and allowed:
            raise ValueError(
                f"FactorAnalysis: n_components={k} factors are too many for {p} variables: the model would "
                f"have {dof} degrees of freedom (more parameters than correlations). The largest "
                f"n_components for {p} variables is {allowed[-1]}."
            )
        if dof < 0:
            # Two variables: no number of factors is identified. R's factanal
            # refuses; the fit is kept (one of many equally good solutions) so
            # that the estimator still works on any two-column data.
            warnings.warn(
                f"FactorAnalysis: {k} factor(s) for {p} variables leave {dof} degrees of freedom; the "
                "loadings are one of infinitely many equally good solutions and the fit statistics are "
                "undefined. Factor analysis needs at least 3 variables.", UserWarning, stacklevel=4,
            )
        elif dof == 0:
            warnings.warn(
                f"FactorAnalysis: n_components={k} with {p} variables leaves 0 degrees of freedom; the model "
                "reproduces any correlation matrix it can, and the fit statistics (chi-square, p-value, "
                "RMSEA, TLI) are undefined.", UserWarning, stacklevel=4,
            )
        return k

    def _fit_correlation(self, R, n, *, mean, scale, ml_scale, source, varying=None):
        k = self._check_k(len(R), n)
        check_factorable(R, n, self._names() if varying is None else list(np.asarray(self._names())[varying]))
        communality = self._start_communality(len(R), varying)
        with small_problem_threads(len(R)):
            result, history = self._estimate(R, k, n, communality)
        if self.method == "ml":
            # From standardised variables to the data's units (the Jacobian of the scaling).
            history = history - np.log(ml_scale).sum()
        self._set_fitted(Estimate(
            R, n, result["loadings"], result["uniquenesses"], result["n_iter"], result["converged"],
            mean=mean, scale=scale, ml_scale=ml_scale, history=history, source=source, varying=varying,
        ))

    def _start_communality(self, q, varying=None):
        """Starting communalities of the ``q`` modelled variables from ``start``; None: each method's SMC start."""
        if isinstance(self.start, str):
            return None if self.start == "smc" else np.ones(q)
        p = self.n_features_in_
        try:
            values = np.asarray(self.start, dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if values is None or values.shape != (p,):
            raise ValueError(f"FactorAnalysis: start must be 'smc', 'ones' or {p} starting communalities, one "
                             f"per feature; got {self.start!r}.")
        bad = np.flatnonzero(~((values > 0) & (values <= 1)))
        if bad.size:
            raise ValueError(f"FactorAnalysis: starting communalities must lie in (0, 1]; start has "
                             f"{values[bad].tolist()} at feature(s) {bad.tolist()}.")
        return values if varying is None else values[varying]

    def _estimate(self, R, k, n, communality=None):
        """Fit the named method to ``R``: the estimate and the history of its objective (standardised scale)."""
        history = []
        if self.method == "minres":
            start = _fitting.start_uniquenesses("minres", R, k, communality)
            history.append(_fitting.uls_objective(start, R, k))
            result = _fitting.fit_minres(R, k, start=start, tol=self.tol, max_iter=self.max_iter,
                                         callback=history.append)
        elif self.method == "principal":
            # The start is the model without factors: every correlation is a residual.
            history.append(_fitting._off_diagonal_misfit(R, np.zeros((len(R), 0))))
            result = _fitting.fit_principal_axis(R, k, start=communality, tol=max(self.tol, 1e-12),
                                                 max_iter=self.max_iter, callback=history.append)
        elif self.solver == "lbfgs":
            # At the best loadings for Psi, the mean log-likelihood of standardised
            # data is -(p log 2 pi + log|R| + p + F(Psi)) / 2 (Joreskog 1967, eq. 12).
            offset = -0.5 * (len(R) * (_LOG_2PI + 1.0) + np.linalg.slogdet(R)[1])
            start = _fitting.start_uniquenesses("ml", R, k, communality)
            with np.errstate(invalid="ignore"):  # a singular R has no finite objective: NaN is its value
                history.append(_fitting.ml_objective(start, R, k))
            result = _fitting.fit_ml_quasi_newton(R, k, start=start, tol=self.tol, max_iter=self.max_iter,
                                                  callback=history.append)
            history = [offset - 0.5 * value for value in history]
        else:
            # EM reads the data only through their correlation matrix, a summary of n rows.
            source = SummarySource(ScatterStats(n, np.zeros(len(R)), R * n))
            start = _fitting.start_uniquenesses("ml", R, k, communality)
            run = run_em(self, source, {"loadings": _fitting.ml_loadings(start, R, k), "uniquenesses": start},
                         tol=self.tol, max_iter=self.max_iter, callback=self.callback, verbose=self.verbose,
                         name=type(self).__name__)
            run = _fitting.em_leave_saddles(run, R, k, functools.partial(
                run_em, self, source, tol=self.tol, max_iter=self.max_iter, name=type(self).__name__))
            psi = run.params["uniquenesses"]
            loadings = _fitting.ml_loadings(psi, R, k)  # the canonical rotation of the EM loadings
            return ({"uniquenesses": psi, "loadings": loadings, "n_iter": run.n_iter,
                     "converged": run.converged}, run.history)
        # L-BFGS-B also stops "abnormally" when round-off defeats its line search
        # at the optimum; only running out of iterations is non-convergence.
        # Principal axis warns from its own loop.
        if self.method != "principal" and "LIMIT" in result["message"].upper():
            warnings.warn(
                f"FactorAnalysis ({self.method}): L-BFGS-B stopped after {result['n_iter']} iterations "
                f"without meeting tol={self.tol:g} ({result['message']}). Increase max_iter or loosen tol.",
                ConvergenceWarning, stacklevel=5,
            )
        return result, np.asarray(history, dtype=np.float64)

    def _set_fitted(self, est):
        """Write every fitted attribute from one estimate: the single place fitted state is set."""
        p = self.n_features_in_
        varying = np.ones(p, dtype=bool) if est.varying is None else est.varying
        inner = np.ix_(varying, varying)
        # Principal axis and minres do not bound the uniquenesses; the floor that
        # ML uses keeps the model's density defined and flags the Heywood case.
        psi = np.maximum(est.uniquenesses, _fitting.UNIQUENESS_FLOOR)
        rotation = self._rotate(est.loadings)
        names, factors = self._names(), self._latent_names()
        labelled = hasattr(self, "feature_names_in_")
        full = functools.partial(_widen, varying=varying)
        kept = [names[j] for j in np.flatnonzero(varying)]
        self.heywood_ = [kept[j] for j in np.flatnonzero(psi <= _fitting.UNIQUENESS_FLOOR * (1 + _FLOOR_RTOL))]
        self.unrotated_loadings_ = full(est.loadings)
        loadings = full(rotation.loadings)
        self.loadings_ = pd.DataFrame(loadings, index=names, columns=factors) if labelled else loadings
        self.rotation_matrix_ = rotation.rotation_matrix
        self.rotation_info_ = {"converged": bool(rotation.converged),
                               "n_iter": 0 if rotation.table is None else int(rotation.table["iteration"].iloc[-1]),
                               "table": rotation.table}
        phi = rotation.factor_correlation
        self.factor_correlation_ = phi
        self.uniquenesses_ = full(psi)
        self.communalities_ = full(1.0 - psi)
        self.correlation_ = np.eye(p)
        self.correlation_[inner] = est.correlation
        self.correlation_source_ = est.source
        # A constant column has no variance to share: its eigenvalue is 0, so
        # there is one eigenvalue per column as in every other fit.
        self.eigenvalues_ = np.zeros(p)
        self.eigenvalues_[: varying.sum()] = linalg.eigvalsh(est.correlation)[::-1]
        self.mean_ = est.mean
        self.scale_ = full(est.scale)
        self.components_ = (loadings * full(est.ml_scale)[:, None]).T.copy()
        self.noise_variance_ = full(psi * est.ml_scale**2)
        self.n_samples_ = int(est.n_samples)
        self.n_iter_ = int(est.n_iter)
        self.converged_ = bool(est.converged)
        q, k = est.loadings.shape
        self.n_parameters_ = q * k - k * (k - 1) // 2 + 2 * q
        log_scale = np.log(est.ml_scale).sum()
        if est.loglik is None:
            standardised = _fitting.loglik_standardised(est.correlation, est.loadings, psi)
            self.log_likelihood_ = float((standardised - log_scale) * est.n_samples)
        else:
            self.log_likelihood_ = float(est.loglik)
        self.history_ = est.history
        self.fit_statistics_ = fit_statistics(est.correlation, rotation.loadings, est.n_samples, phi).to_dict()
        self.variance_ = variance_table(rotation.loadings, phi, factors)
        self.score_weights_ = full(self._score_weights(est.correlation, rotation.loadings, psi, phi))

    def _rotate(self, unrotated):
        k = unrotated.shape[1]
        if self.rotation in (None, "none"):
            rotation = Rotation(unrotated.copy(), np.eye(k), np.eye(k))
        else:
            rotation = rotate(unrotated, self.rotation, normalize=self.normalize, **(self.rotation_kwargs or {}))
            if not rotation.converged:
                warnings.warn(
                    f"FactorAnalysis: the {self.rotation} rotation did not converge in "
                    f"{len(rotation.table) - 1} iterations (gradient norm "
                    f"{10 ** rotation.table['log10_gradient'].iloc[-1]:.2g}); raise max_iter or tol in "
                    "rotation_kwargs, see rotation_info_['table'].", ConvergenceWarning, stacklevel=3)
            name = method_name(self.rotation)
            if name in STRUCTURED[:4]:
                return rotation
            if name in STRUCTURED:
                return sort_factors(rotation, order=False)
        return sort_factors(rotation)

    # ----------------------------------------------------------- helpers
    def _warn_heywood(self):
        if self.heywood_:
            warnings.warn(
                f"Heywood case: the uniqueness of {', '.join(self.heywood_)} reached the floor "
                f"{_fitting.UNIQUENESS_FLOOR}; these variables are almost entirely explained by the "
                "factors. Try fewer factors, or check for near-duplicate variables.",
                HeywoodCaseWarning, stacklevel=3,
            )

    @property
    def _latent_prefix(self):
        return _PREFIX[self.method]

    def _n_latent(self):
        return self.n_components

    def loadings_array(self):
        """Return the rotated standardised loadings as an ndarray of shape (n_features, n_components).

        Returns
        -------
        ndarray of shape (n_features, n_components)
            ``loadings_`` without its labels.
        """
        check_is_fitted(self)
        return np.asarray(self.loadings_, dtype=np.float64)

    def standard_errors(self):
        """Asymptotic standard errors of the solution shown: ``loadings_``, ``uniquenesses_``, ``factor_correlation_``.

        Computed when asked, never during ``fit``: the delta method through the
        ML estimator, ``Cov = J Gamma J^T`` with ``Gamma`` the normal-theory
        covariance of the sample covariances (Browne 1984) at the fitted model
        and ``J`` the derivative of the rotated, sorted and signed solution by
        central differences (Lawley & Maxwell 1971; Jennrich 1973, 1974); see
        ``lvm/factor/_uncertainty.py``. Nothing is stored on the model.

        Returns
        -------
        StandardErrors
            Named tuple ``(loadings, uniquenesses, factor_correlation,
            covariance)``, each shaped and labelled as the estimate; zeros for the
            fixed factor correlations of an orthogonal solution, NaN for a
            uniqueness at its floor (Heywood case).
        """
        return _uncertainty.standard_errors(self)

    def _cached_standard_errors(self):
        # Computed on first access and kept while the fit is the same one
        # (a refit makes new arrays, which the identity check notices).
        check_is_fitted(self)
        cached = self.__dict__.get("_standard_errors_cache")
        if cached is None or cached[0] is not self.uniquenesses_:
            cached = (self.uniquenesses_, self.standard_errors())
            self.__dict__["_standard_errors_cache"] = cached
        return cached[1]

    @property
    def loadings_se_(self):
        """Standard errors of ``loadings_``: ``standard_errors().loadings``, computed on first access.

        The first access costs about ``p (p + 1)`` refits (the Jacobian of the
        estimator, see :meth:`standard_errors`); later ones are free until the
        next ``fit``. ML fits of complete data only.
        """
        return self._cached_standard_errors().loadings

    @property
    def uniquenesses_se_(self):
        """Standard errors of ``uniquenesses_``: ``standard_errors().uniquenesses`` (NaN for a Heywood case)."""
        return self._cached_standard_errors().uniquenesses

    @property
    def factor_correlation_se_(self):
        """Standard errors of ``factor_correlation_``: ``standard_errors().factor_correlation``.

        Zero for an orthogonal solution, whose factor correlations are fixed.
        """
        return self._cached_standard_errors().factor_correlation

    def summary(self, cut=0.1, digits=2, ci=None):
        """Report loadings with h2, u2 and complexity, variance accounted for, factor correlations, fit.

        Laid out like ``print.psych`` and R's ``print.factanal``: loadings with
        absolute value below ``cut`` are blanked, every number in a column
        has the same decimals, and the fit statistics follow the tables.

        Parameters
        ----------
        cut : float or None, default=0.1
            Blank loadings smaller than this in absolute value (``factanal``'s
            ``cutoff = 0.1``); None shows them all.
        digits : int, default=2
            Decimals shown in the loadings table.
        ci : FactorBootstrap, optional
            The result of :func:`lvm.factor.bootstrap` for this model and
            its data: adds tables of intervals of the loadings and
            uniquenesses (``"loadings 95% CI"``), of the factor correlations,
            and the intervals of the fit indices.

        Returns
        -------
        Summary
            Tables ``"loadings"``, ``"variance"`` and, for oblique rotations,
            ``"factor correlations"``.
        """
        check_is_fitted(self)
        return build_summary(self, cut=cut, digits=digits, ci=ci)


def _widen(values, varying):
    """Rows of ``values`` for the varying columns, zeros for the constant ones."""
    out = np.zeros((len(varying),) + values.shape[1:])
    out[varying] = values
    return out
