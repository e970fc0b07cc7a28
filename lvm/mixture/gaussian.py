"""Gaussian mixture models fitted by EM: the latent-class model."""

import functools
import numbers
import warnings
from collections import namedtuple

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._linalg import small_problem_threads
from .._source import chunk_rows
from .._stats import observed_columns
from .._summary import Summary
from .._validation import (
    ARRAY_OR_NONE,
    BOOLEAN,
    Interval,
    Options,
)
from ..exceptions import DegenerateComponentWarning
from . import _base, _em_steps, _start
from ._base import SHARED_CONSTRAINTS, MixtureModel
from ._covariance import COVARIANCE_TYPES, MCLUST_ALIASES, sample_components, structure_of

MixturePosterior = namedtuple("MixturePosterior", ["responsibilities", "log_responsibilities"])



class GaussianMixture(MixtureModel):
    """Gaussian mixture model fitted by expectation-maximisation.

    The latent variable is the class ``z`` of each point:

    .. math:: z \\sim \\mathrm{Categorical}(\\pi_1, \\dots, \\pi_K), \\qquad
              x \\mid z = k \\sim N(\\mu_k, \\Sigma_k),

    and its posterior, the responsibilities
    :math:`r_{nk} = \\pi_k N(x_n \\mid \\mu_k, \\Sigma_k) / \\sum_j \\pi_j N(x_n \\mid \\mu_j, \\Sigma_j)`,
    is the inference. EM alternates computing them (E-step, in log space) and
    re-estimating the parameters from them (M-step) (Dempster, Laird & Rubin 1977).

    Parameters
    ----------
    n_components : int, default=1
        Number of components ``K``.
    covariance_type : str, default="full"
        A free covariance per component (mclust's VVV), one shared by all
        (EEE), a diagonal one per component (VVI), or one variance per
        component (VII); or any of mclust's fourteen names (Celeux & Govaert
        1995), which constrain the volume, shape and orientation of
        :math:`\\Sigma_k = \\lambda_k D_k A_k D_k^T` to be equal (E), varying
        (V) or the coordinate axes (I): ``"EII"``, ``"VII"``, ``"EEI"``,
        ``"VEI"``, ``"EVI"``, ``"VVI"``, ``"EEE"``, ``"VEE"``, ``"EVE"``,
        ``"VVE"``, ``"EEV"``, ``"VEV"``, ``"EVV"``, ``"VVV"``. mclust's
        names of the four structures above are the same structures. See Notes.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per sample changes by less.
    reg_covar : float, default=1e-6
        Floor of every covariance eigenvalue, so that a component that
        collapses onto a point keeps a bounded density. The M-step maximises
        the likelihood subject to the floor, so EM stays monotone (scikit-learn
        adds ``reg_covar`` to the diagonal instead; see Notes). It is in the
        units of the data's variance: a component that collapses while the
        floor is below round-off at the data's scale is refused (see Notes).
    max_iter : int, default=100
        Most EM iterations per start.
    n_init : int, default=1
        Number of starts; the one with the highest likelihood is kept.
    init : {"kmeans++", "kmeans", "random", "hierarchical"}, default="kmeans++"
        Starting responsibilities: hard assignment to the nearest of
        k-means++ seeds (Arthur & Vassilvitskii 2007), to a k-means clustering,
        or to the nearest of k distinct rows drawn at random (a poor start,
        good for watching EM work); or ``"hierarchical"``, mclust's
        deterministic start: the ``K`` clusters of model-based agglomerative
        hierarchical clustering (Fraley 1998) of at most 2000 rows (a random
        subset when there are more), see Notes. Ignored for what ``weights_init``,
        ``means_init`` and ``precisions_init`` give.
    weights_init, means_init, precisions_init : array-like or None, default=None
        User starting values (precisions in the storage of ``covariance_type``).
    warm_start : bool, default=False
        As scikit-learn's ``warm_start``: a ``fit`` after the first starts EM
        from the parameters of the previous fit (one start, whatever
        ``n_init``, ``init`` and the ``*_init`` arrays say), e.g. to continue
        iterating with more ``max_iter``. ``history_``, ``n_iter_`` and
        ``converged_`` then describe that fit alone: its history begins with
        the log-likelihood at the previous solution. The data must have as
        many features as before.
    missing : {"error", "em"}, default="error"
        ``"em"`` accepts NaN: the E-step marginalises the missing coordinates
        and the M-step uses their conditional expectations.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation.
    callback : callable or None, default=None
        ``callback(iteration, params)`` after every EM iteration; ``params``
        holds ``weights``, ``means``, ``covariances`` (centred data: add
        ``center`` to the means) and ``precisions_cholesky``.
    verbose : int, default=0
        Progress bar during EM.
    latent_names : list of str or None, default=None
        Names of the components, used by ``get_feature_names_out`` (the
        columns of ``transform``/``predict_proba`` as pandas output) and
        ``summary()``. None: ``component 0, component 1, ...``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing proportions.
    means_ : ndarray of shape (n_components, n_features)
        Component means.
    covariances_ : ndarray
        In the storage of ``covariance_type``: (k, p, p) full (and VEE, EVE,
        VVE, EEV, VEV, EVV), (p, p) tied, (k, p) diag (and EEI, VEI, EVI) or
        (k,) spherical (and EII).
    precisions_cholesky_ : ndarray
        Cholesky factors of the precisions, same storage.
    precisions_ : ndarray
        Precision matrices, same storage.
    converged_ : bool
        Whether the best start met ``tol``.
    n_iter_ : int
        EM iterations of the best start.
    history_ : ndarray of shape (n_iter_ + 1,)
        Mean log-likelihood per sample of the starting values and after every iteration.
    lower_bound_ : float
        Final mean log-likelihood per sample.
    n_parameters_ : int
        ``K - 1`` weights, ``K p`` means and the covariance parameters.
    n_features_in_ : int
        Number of features seen in fitting.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    lvm.select_mixture : Choose ``K`` and the covariance type by BIC, ICL or AIC.

    Notes
    -----
    The E-step for all components is one matrix product per chunk of rows,
    and the M-step's sufficient statistics are accumulated in the same pass;
    the data are centred once. Regularisation by an eigenvalue floor, not
    an added ridge, keeps each M-step a true maximisation (Hathaway 1985): the
    log-likelihood never falls, even after a component collapses. With
    ``reg_covar=0`` the iterations equal scikit-learn's. A component whose responsibilities vanish keeps
    its last mean and covariance and is reported in a
    :class:`~lvm.exceptions.DegenerateComponentWarning`, as is one that holds
    fewer points than dimensions (its covariance is then set by ``reg_covar``).
    A component whose variance in some direction falls to round-off (about
    1e3 eps of the second moment it is computed from, or 16 ulp of the data's
    magnitude; with ``reg_covar=0``, a component on a duplicated point) has a
    density bounded only by rounding; the fit then stops with a ValueError
    that names the component and the ``reg_covar`` that would hold it.

    Far from the origin, densities are computed from the differences
    ``x - mu_k`` wherever the expanded square would cancel, and the second
    moments of a component far from the data's centre are taken about its
    previous mean, so that two tight clusters 1e7 apart are fitted and
    scored as if they were near.

    mclust's parsimonious structures (Celeux & Govaert 1995; Fraley &
    Raftery 2002) minimise, in the M-step,
    :math:`\\sum_k n_k \\log|\\Sigma_k| + \\mathrm{tr}(W_k \\Sigma_k^{-1})`
    (``W_k`` the weighted scatter of component ``k``) over the covariances
    of the structure. EII, EEI, EVI, EEV and EVV have closed forms; VEI, VEE
    and VEV alternate exact updates of the volumes and of the shape and
    orientations, and EVE and VVE those of the volumes and shapes with a
    majorise-minimise step for the common orientation (Browne & McNicholas
    2014). Each starts from the previous covariances and never raises the
    criterion, so EM stays monotone; the inner iterations stop at a relative
    change of ``sqrt(eps)`` (mclust's ``tol[2]``) or after 100. Their
    ``reg_covar`` floor keeps the structure: covariances below it have their
    volumes raised to meet it, or keep their previous values when those are
    better.

    ``init="hierarchical"`` starts as R's mclust does: the rows are
    standardised and rotated onto their principal axes, each scaled by
    ``1 / sqrt(singular value)`` (mclust's ``hcUse = "SVD"``); clusters are
    merged, from single rows up, two at a time, always the pair whose merge
    costs least in the classification likelihood of unconstrained Gaussian
    clusters (mclust's ``hc(modelName = "VVV")``, with its trace
    regularisation for clusters too small for a covariance); the tree is cut
    at ``K`` clusters, and the start is the M-step of that partition. With at
    most 2000 rows nothing is random, so the start does not depend on
    ``random_state`` (and ``n_init > 1`` repeats it); with more,
    ``random_state`` draws the subset, a new one for each of ``n_init`` starts.
    It costs ``O(m^2 + m p^2)`` memory and about ``O(m^2 p^2)`` time for
    ``m`` rows (more for merges of clusters larger than ``p``); beyond 256 MiB
    of scatter matrices (2000 rows in 129 dimensions) it raises a ValueError.

    References
    ----------
    Browne, R. P. and McNicholas, P. D. (2014). Estimating common principal
    components in high dimensions. *Advances in Data Analysis and
    Classification* 8, 217-226.

    Celeux, G. and Govaert, G. (1995). Gaussian parsimonious clustering
    models. *Pattern Recognition* 28, 781-793.

    Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). Maximum likelihood
    from incomplete data via the EM algorithm. JRSS B 39, 1-38.
    doi:10.1111/j.2517-6161.1977.tb01600.x

    Fraley, C. (1998). Algorithms for model-based Gaussian hierarchical
    clustering. SIAM J. Sci. Comput. 20, 270-281. doi:10.1137/S1064827596311451

    Fraley, C. and Raftery, A. E. (2002). Model-based clustering, discriminant
    analysis and density estimation. JASA 97, 611-631. doi:10.1198/016214502760047131

    Examples
    --------
    >>> import lvm
    >>> X = lvm.datasets.load_old_faithful()
    >>> gm = lvm.GaussianMixture(2, random_state=0).fit(X)
    >>> gm.means_.round(1)
    array([[ 2. , 54.5],
           [ 4.3, 80. ]])
    """

    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "covariance_type": [Options(*COVARIANCE_TYPES, *MCLUST_ALIASES)],
        "reg_covar": [Interval(numbers.Real, 0, None)],
        "weights_init": [ARRAY_OR_NONE],
        "means_init": [ARRAY_OR_NONE],
        "precisions_init": [ARRAY_OR_NONE],
        "warm_start": [BOOLEAN],
    }
    # The components, numbered from 0 as predict numbers them.
    _latent_prefix = "component "
    _latent_first = 0

    def _n_latent(self):
        return self.n_components

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100,
                 n_init=1, init="kmeans++", weights_init=None, means_init=None, precisions_init=None,
                 warm_start=False, missing="error", random_state=None, callback=None, verbose=0,
                 latent_names=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init = init
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.warm_start = warm_start
        self.missing = missing
        self.random_state = random_state
        self.callback = callback
        self.verbose = verbose
        self.latent_names = latent_names

    @property
    def _structure(self):
        return structure_of(self.covariance_type)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Fit the mixture by EM, keeping the best of ``n_init`` starts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; NaN marks a missing entry when ``missing="em"``.
        y : None
            Ignored.

        Returns
        -------
        self : GaussianMixture
            The fitted model.
        """
        warm = self.warm_start and hasattr(self, "means_")
        if warm:
            self._check_params()
            previous = self.n_features_in_
            if np.ndim(X) == 2 and np.shape(X)[1] != previous:
                raise ValueError(
                    f"GaussianMixture: warm_start=True continues the previous fit, on {previous} features, "
                    f"but X has {np.shape(X)[1]}. Fit data with {previous} features, or set "
                    "warm_start=False to start afresh."
                )
            if (len(self.weights_) != self.n_components
                    or self.covariances_.shape != self._structure.shape(self.n_components, previous)):
                raise ValueError(
                    "GaussianMixture: warm_start=True continues the previous fit, which had "
                    f"{len(self.weights_)} components of another shape than n_components={self.n_components}, "
                    f"covariance_type={self.covariance_type!r} ask for; set warm_start=False to start afresh."
                )
            start = {"weights": self.weights_, "means": self.means_, "covariances": self.covariances_}
        source, columns = self._read_training(X)
        p = source.n_features
        # Every chunk is centred on the column means before use: the
        # second-moment form of the M-step is then accurate far from the origin.
        center = columns.mean
        if warm:
            self._user_start = dict(start, means=start["means"] - center)
        else:
            self._user_start = self._user_init(center, p)
        structure = self._structure
        self._constant_second = None
        if structure.constant_second:
            self._constant_second = source.remember(
                "complete scatter", functools.partial(_complete_scatter, center=center), rows=chunk_rows(p))
        result = self._fit_em(source, check_random_state(self.random_state), name="GaussianMixture",
                              n_init=1 if warm else self.n_init)
        self._set_fitted(result, center, p)
        self._warn_degenerate(result.stats.nk, p)
        return self

    # ------------------------------------------------------- EM contract
    def _e_step(self, chunk, params):
        structure = self._structure
        centred = _em_steps.centred(chunk, params["center"])
        incomplete = np.isnan(centred).any(axis=1) if self.missing == "em" else None
        if incomplete is None or not incomplete.any():
            return _em_steps.e_step(centred, params, structure)
        rows = centred[incomplete]
        # One small factorisation and solve per pattern of missing entries and
        # component: a second BLAS thread only waits, and stalls on a busy machine.
        with small_problem_threads(chunk.shape[1]):
            stats = _em_steps.e_step_missing(np.nan_to_num(rows, nan=0.0), ~np.isnan(rows), params, structure)
        if incomplete.all():
            return stats
        return _em_steps.e_step(centred[~incomplete], params, structure) + stats

    def _m_step(self, stats, params):
        new = _em_steps.m_step(stats, params, self._structure, self.reg_covar, self._constant_second)
        new["center"] = params["center"]
        return new

    def _init_params(self, source, rng):
        k, p = self.n_components, source.n_features
        structure = self._structure
        center = observed_columns(source).mean
        user = self._user_start
        if {"weights", "means", "covariances"} <= set(user):
            params = dict(user, center=center)
            params["precisions_cholesky"] = structure.precision_cholesky(params["covariances"])
            return params
        if self.init == "hierarchical":
            return self._hierarchical_start(source, rng, center, user)
        centres, _ = _start.start_centres(source, rng, center, k, self.init, self._em_chunk_rows(p))
        stats = source.reduce(functools.partial(_start.nearest_stats, centres=centres, center=center,
                                                structure=structure), rows=self._em_chunk_rows(p))
        previous = {"means": np.zeros((k, p)), "covariances": structure.unit(k, p)}
        params = _em_steps.m_step(stats, previous, structure, self.reg_covar, self._constant_second)
        if user:
            params.update(user)
            params["precisions_cholesky"] = structure.precision_cholesky(params["covariances"])
        params["center"] = center
        return params

    def _hierarchical_start(self, source, rng, center, user):
        """The M-step of the hierarchical clustering's partition of (a sample of) the rows."""
        k, p = self.n_components, source.n_features
        structure = self._structure
        sample, labels = _start.hierarchical_sample(source, rng, center, k, "GaussianMixture")
        stats = _em_steps.resp_stats(sample, _start.one_hot(labels, k), structure)
        # The M-step's constant part must come from the same rows as the statistics.
        constant = sample.T @ sample if structure.constant_second else None
        previous = {"means": np.zeros((k, p)), "covariances": structure.unit(k, p)}
        params = _em_steps.m_step(stats, previous, structure, self.reg_covar, constant)
        if user:
            params.update(user)
            params["precisions_cholesky"] = structure.precision_cholesky(params["covariances"])
        params["center"] = center
        return params

    def _user_init(self, center, p):
        k = self.n_components
        user = {}
        for name in ("weights_init", "means_init", "precisions_init"):
            value = getattr(self, name)
            if value is not None and not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
                raise ValueError(f"{name} must hold finite numbers; got NaN or infinity in {np.asarray(value)}.")
        if self.weights_init is not None:
            weights = np.asarray(self.weights_init, dtype=np.float64)
            if weights.shape != (k,) or np.any(weights < 0) or not np.isclose(weights.sum(), 1.0):
                raise ValueError(f"weights_init must be {k} non-negative numbers summing to 1; got {weights}.")
            user["weights"] = weights
        if self.means_init is not None:
            means = np.asarray(self.means_init, dtype=np.float64)
            if means.shape != (k, p):
                raise ValueError(f"means_init must have shape ({k}, {p}); got {means.shape}.")
            user["means"] = means - center
        if self.precisions_init is not None:
            precisions = np.asarray(self.precisions_init, dtype=np.float64)
            structure = self._structure
            expected = structure.shape(k, p)
            if precisions.shape != expected:
                raise ValueError(f"precisions_init for covariance_type={structure.name!r} must have shape "
                                 f"{expected}; got {precisions.shape}.")
            if structure.stores_matrices:
                blocks = precisions.reshape(-1, p, p)
                if not all(np.allclose(b, b.T) and np.linalg.eigvalsh(b).min() > 0 for b in blocks):
                    raise ValueError("precisions_init must hold symmetric positive-definite matrices.")
            elif np.any(precisions <= 0):
                raise ValueError("precisions_init must be positive.")
            covariances = structure.precision_cholesky_to_covariance(structure.precision_to_cholesky(precisions), k, p)
            user["covariances"] = covariances
        return user

    def _set_fitted(self, result, center, p):
        structure = self._structure
        params = result.params
        self.weights_ = params["weights"]
        self.means_ = params["means"] + center
        self.covariances_ = params["covariances"]
        self.precisions_cholesky_ = params["precisions_cholesky"]
        self.precisions_ = structure.precisions(self.precisions_cholesky_)
        self.lower_bound_ = float(result.history[-1])
        k = self.n_components
        self.n_parameters_ = int(k - 1 + k * p + structure.n_parameters(k, p))

    def _warn_degenerate(self, nk, p):
        thin = np.flatnonzero(nk < p + 1)
        if thin.size:
            warnings.warn(
                f"GaussianMixture: component(s) {thin.tolist()} hold fewer than n_features + 1 = {p + 1} "
                f"points (effective sizes {np.round(nk[thin], 2).tolist()}); their covariances are set "
                "by reg_covar, not by the data. Use fewer components, or check for duplicated points.",
                DegenerateComponentWarning, stacklevel=3,
            )

    # ---------------------------------------------------------- inference
    def posterior(self, X):
        """Compute the posterior of the latent class of each row: the responsibilities.

        .. math:: r_{nk} = p(z_n = k \\mid x_n)

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        MixturePosterior
            ``responsibilities`` and ``log_responsibilities``, both (n_samples, n_components).
        """
        log_r, _ = self._scores(X)
        with np.errstate(under="ignore"):
            return MixturePosterior(np.exp(log_r), log_r)

    def _component_log_prob(self, X, observed):
        # The diag, spherical and tied densities expand the square, which loses
        # digits far from the origin; shifting data and means alike cancels exactly.
        shift = self.means_.mean(axis=0)
        if observed.all():
            return self._structure.log_prob(X - shift, self.means_ - shift, self.precisions_cholesky_)
        return _em_steps.log_prob_missing(X - shift, observed, self.means_ - shift, self.covariances_,
                                          self._structure)

    # The latent variable of a Gaussian mixture is the class: its posterior is the responsibilities.
    transform = MixtureModel.predict_proba

    def inverse_transform(self, X):
        """Map responsibilities to the expected point ``sum_k r_k mu_k``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Responsibilities (or any weights over components).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The mixture of component means they weight.
        """
        check_is_fitted(self)
        return np.asarray(X, dtype=np.float64) @ self.means_

    def _draw(self, rng, counts):
        """``counts[k]`` draws from each component ``N(mu_k, Sigma_k)``, and their labels."""
        k, p = self.means_.shape
        full = self._structure.to_full(self.covariances_, k, p)
        return sample_components(rng, self.means_, full, counts)

    @property
    def _n_features_out(self):
        return self.n_components

    def summary(self):
        """Report the weights, means and covariances of the components as tables.

        Returns
        -------
        Summary
            Tables ``"components"`` (weight and mean of each) and
            ``"covariances"`` (one block per component).
        """
        check_is_fitted(self)
        k, p = self.means_.shape
        names = self._names()
        labels = self._latent_names()
        components = pd.DataFrame(self.means_, index=labels, columns=names)
        components.insert(0, _base.weight_column(names), self.weights_)
        full = self._structure.to_full(self.covariances_, k, p)
        covariances = pd.concat(
            {label: pd.DataFrame(full[j], index=names, columns=names) for j, label in enumerate(labels)})
        info = {"covariance type": self.covariance_type, "components": k,
                "mean log-likelihood": self.lower_bound_, "iterations": self.n_iter_,
                "converged": self.converged_, "parameters": self.n_parameters_}
        return Summary("Gaussian mixture", info, {"components": components, "covariances": covariances})


def _complete_scatter(chunk, center):
    """``sum (x - center)(x - center)^T`` over the rows of ``chunk`` without a missing entry."""
    centred = chunk - center
    complete = centred[~np.isnan(centred).any(axis=1)]
    return complete.T @ complete
