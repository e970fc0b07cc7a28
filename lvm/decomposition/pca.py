"""Principal component analysis with four solvers and an exact streaming fit."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _lowrank
from .._base import LatentModel, LatentNamesMixin, Posterior, StreamingMixin, rowwise
from .._linalg import _LOG_2PI, flip_signs
from .._source import is_dask_array
from .._stats import scatter_stats
from .._summary import Summary
from .._validation import (
    BOOLEAN,
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
from ._pca_kernels import (
    lanczos_budget,
    pca_from_scatter,
    pca_gram,
    pca_lanczos,
    pca_randomized,
    pca_svd,
    total_variance,
)
from ._ppca_kernels import infer_dimension

# Above this many rows/columns on the short side, the Gram or covariance matrix
# (min(n, p)^2 doubles) stops being cheap and the randomized solver takes over.
_COVARIANCE_MAX_SIDE = 4096
# Relative size (against the mean variance per feature) under which the
# discarded variance is round-off, as in lvm.PPCA.
_SINGULAR_RTOL = 1e-10


def _is_fraction(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (numbers.Integral, bool)) and 0 < value < 1


class PCA(StreamingMixin, LatentNamesMixin, TransformerMixin, LatentModel):
    """Principal component analysis.

    Finds the ``k`` orthonormal directions of largest variance of the centred
    data: the leading eigenvectors of the sample covariance,

    .. math:: \\frac{1}{n-1} \\sum_i (x_i - \\bar x)(x_i - \\bar x)^T = V \\Lambda V^T,
              \\qquad z = V_k^T (x - \\bar x).

    ``score_samples`` reads PCA as the probabilistic model
    :math:`x \\sim N(\\bar x, V_k (\\Lambda_k - \\sigma^2 I) V_k^T + \\sigma^2 I)`
    with :math:`\\sigma^2` the mean discarded variance, as scikit-learn does;
    that model uses the unbiased ``n - 1`` variances, so it is close to but not
    the maximum-likelihood fit: use :class:`lvm.PPCA` for that.

    Parameters
    ----------
    n_components : int, float in (0, 1), "mle" or None, default=None
        Number of components ``k``; ``None`` keeps ``min(n_samples, n_features)``;
        ``"mle"`` chooses ``k`` by Minka's (2000) Laplace approximation to the
        evidence of probabilistic PCA, as scikit-learn's ``PCA(n_components="mle")``
        does (it needs ``n_samples >= n_features``). A float ``0 < x < 1`` keeps
        the fewest components whose cumulative ``explained_variance_ratio_`` is
        strictly above ``x`` (so ``x`` equal to a cumulative ratio takes one
        component more), scikit-learn's rule for ``PCA(x, svd_solver="full")``.
        ``"mle"`` and fractions read all ``min(n_samples, n_features)``
        variances, so they are refused by the randomized solver; ``partial_fit``
        chooses ``k`` again after each chunk.
    solver : {"auto", "covariance", "svd", "randomized"}, default="auto"
        For a dask array the ``covariance`` solver is always used, with the
        scatter matrix reduced over the blocks.
        ``"covariance"`` is exact through the covariance: when ``min(n, p)``
        is large against ``k`` (at least ``20 (3 k + 20)``) it runs Lanczos
        (ARPACK, to machine precision) on the covariance operator without
        forming it, and otherwise, or when a flat spectrum would need more than
        ``min(n, p) / 20`` products, it forms the ``p x p`` scatter matrix in
        one pass without a centred copy of ``X`` (for wide data the ``n x n``
        Gram matrix) and takes its top eigenvectors; ``"svd"`` is the thin SVD
        of the centred data; ``"randomized"`` is a randomized range finder.
        ``"auto"`` uses ``"covariance"`` while ``min(n, p) <= 4096``, and
        otherwise ``"randomized"`` when ``k`` is under a quarter of
        ``min(n, p)``, else ``"svd"``.
    whiten : bool, default=False
        Scale the scores to unit variance.
    n_oversamples : int, default=10
        Extra random directions for the randomized solver.
    n_power_iter : int or "auto", default="auto"
        Power iterations of the randomized solver; ``"auto"`` is 7 when ``k`` is
        under a tenth of ``min(n, p)``, else 4 (scikit-learn's rule).
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized solver.
    latent_names : list of str or None, default=None
        Names of the latent variables, used by ``get_feature_names_out``,
        pandas output and ``summary()``. None: ``PC1, PC2, ...``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Principal axes, sorted by decreasing variance; the largest entry of
        each is positive.
    explained_variance_ : ndarray of shape (n_components,)
        Variance along each axis (divisor ``n - 1``).
    explained_variance_ratio_ : ndarray of shape (n_components,)
        ``explained_variance_`` divided by the total variance.
    singular_values_ : ndarray of shape (n_components,)
        Singular values of the centred data.
    mean_ : ndarray of shape (n_features,)
        Column means.
    noise_variance_ : float
        Mean variance of the discarded directions,
        ``(total - sum(explained_variance_)) / (min(n, p) - k)``.
    n_components_ : int
        Number of components kept.
    n_samples_ : int
        Rows seen in fitting.
    solver_ : str
        The solver used.
    n_parameters_ : int
        Free parameters of the probabilistic model, ``p k - k (k - 1) / 2 + 1 + p``.
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
    lvm.PPCA : The maximum-likelihood probabilistic model.

    Notes
    -----
    The ``covariance`` solver costs ``O(n p^2)`` for one product and ``O(p^3)``
    for the eigensolver; ``partial_fit`` merges the scatter of each chunk
    (Chan, Golub & LeVeque 1979) and gives the fit of all rows at once.
    Signs follow scikit-learn's ``svd_flip`` rule. For float32 data ``fit``
    computes in float64 and stores ``mean_``, ``components_``,
    ``explained_variance_``, ``explained_variance_ratio_`` and
    ``singular_values_`` in float32, and ``transform`` of float32 data returns
    float32, as scikit-learn's PCA does; ``partial_fit`` keeps float64, as its
    merged mean and scatter must stay exact.

    References
    ----------
    Pearson, K. (1901). On lines and planes of closest fit to systems of points
    in space. Philosophical Magazine 2(11), 559-572. doi:10.1080/14786440109462720

    Minka, T. P. (2000). Automatic choice of dimensionality for PCA. NIPS 13.

    Halko, N., Martinsson, P.-G. and Tropp, J. A. (2011). Finding structure with
    randomness. SIAM Review 53(2), 217-288. doi:10.1137/090771806

    Examples
    --------
    >>> import numpy as np
    >>> from lvm import PCA
    >>> X = np.array([[2.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, -1.0]])
    >>> pca = PCA(n_components=1).fit(X)
    >>> pca.components_
    array([[1., 0.]])
    >>> pca.explained_variance_
    array([2.66666667])
    """

    _latent_prefix = "PC"

    _parameter_constraints = {
        "n_components": [
            Interval(numbers.Integral, 1, None),
            Interval(numbers.Real, 0, 1, closed="neither"),
            Options("mle"),
            NONE,
        ],
        "latent_names": [NAMES, NONE],
        "solver": [Options("auto", "covariance", "svd", "randomized")],
        "whiten": [BOOLEAN],
        "n_oversamples": [Interval(numbers.Integral, 0, None)],
        "n_power_iter": [Interval(numbers.Integral, 0, None), Options("auto")],
        "random_state": [RANDOM_STATE],
    }

    def __init__(self, n_components=None, *, solver="auto", whiten=False, n_oversamples=10,
                 n_power_iter="auto", random_state=None, latent_names=None):
        self.n_components = n_components
        self.latent_names = latent_names
        self.solver = solver
        self.whiten = whiten
        self.n_oversamples = n_oversamples
        self.n_power_iter = n_power_iter
        self.random_state = random_state

    def _check_mle(self, n, p):
        if p < 2 or n < p:
            raise ValueError(
                f"PCA: n_components='mle' compares 1 <= k < n_features components and needs at least as "
                f"many samples as features; got {n} samples and {p} feature(s). Give an integer "
                "n_components" + (" or more features." if p < 2 else " or more samples.")
            )
        if self.solver == "randomized":
            raise ValueError(
                "PCA: n_components='mle' needs every eigenvalue of the covariance, which the randomized "
                "solver does not compute; use solver='auto', 'covariance' or 'svd'."
            )

    def _chooses_k(self):
        """Whether ``k`` is read off the whole spectrum: ``"mle"`` or a fraction of the variance."""
        return self.n_components == "mle" or _is_fraction(self.n_components)

    def _check_fraction(self):
        if self.solver == "randomized":
            raise ValueError(
                f"PCA: n_components={self.n_components!r} keeps the components that explain that fraction "
                "of the variance, which needs every eigenvalue of the covariance; the randomized solver "
                "computes only the leading ones (scikit-learn refuses the same). Give an integer "
                "n_components or use solver='auto', 'covariance' or 'svd'."
            )

    def _n_components_for(self, n, p):
        upper = min(n, p)
        k = upper if self.n_components is None else self.n_components
        if k > upper:
            raise ValueError(
                f"PCA: n_components={k} is too large; it must be at most min(n_samples, "
                f"n_features) = {upper}. Choose a smaller n_components."
            )
        return k

    def _solver_for(self, n, p, k):
        if self.solver != "auto":
            return self.solver
        if min(n, p) <= _COVARIANCE_MAX_SIDE:
            return "covariance"
        return "randomized" if 4 * k < min(n, p) else "svd"

    def fit(self, X, y=None):
        """Fit the principal axes to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: an array, a memmap or a dask array (reduced block
            by block to its count, mean and scatter, never gathered).
        y : None
            Ignored.

        Returns
        -------
        self : PCA
            The fitted model.
        """
        self._check_params()
        self._forget_stream()
        self._fit(X)
        if getattr(X, "dtype", None) == np.float32:
            self._store_as_float32()
        return self

    def _fit(self, X):
        if is_dask_array(X):
            data = read_data(self, X, scatter=True)
            self._fit_scatter(data.scatter, data.columns)
            return
        X, sums = check_data(self, X, reset=True, return_sums=True)
        n, p = X.shape
        if self._chooses_k():
            self._fit_spectrum(X, sums)
            return
        k = self._n_components_for(n, p)
        solver = self._solver_for(n, p, k)
        result = None
        side = min(n, p)
        budget = lanczos_budget(n, p, k) if solver == "covariance" else 0
        if budget:
            # A big matrix and few components: try Lanczos on the unformed operator.
            mean = sums / n
            result = pca_lanczos(X, mean, k, budget)
        if result is None and solver == "covariance" and n >= p:
            stats = scatter_stats(X, sums)
            check_variance(np.trace(stats.scatter), X)
            mean = stats.mean
            result = pca_from_scatter(stats, k)
        elif result is None:
            mean = sums / n
            if solver == "covariance":
                result = pca_gram(X, mean, k)
            elif solver == "randomized":
                n_iter = self.n_power_iter
                if n_iter == "auto":
                    n_iter = 7 if 10 * k < side else 4
                rng = check_random_state(self.random_state)
                # Data whose squares overflow are refused before the power iterations meet them.
                total, cancels = total_variance(X, mean, with_cancellation=True)
                check_variance(total, X)
                result = pca_randomized(X, mean, k, self.n_oversamples, n_iter, rng, total=total,
                                        cancels=cancels)
        if result is None:
            result = pca_svd(X, mean, k)
        self._set_fitted(X, n, mean, *result, solver=solver)

    def _store_as_float32(self):
        """Keep the fitted arrays in the input's float32, as scikit-learn's PCA does.

        The fit itself runs in float64 (the scatter matrix of float32 data
        would lose half its digits to cancellation); only its result is rounded.
        """
        for name in ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_"):
            setattr(self, name, getattr(self, name).astype(np.float32))

    def _fit_spectrum(self, X, sums):
        """``k`` read off all ``min(n, p)`` variances: Minka's evidence (``"mle"``) or a fraction.

        The covariance solver takes the spectrum of the scatter matrix; the
        thin SVD of the centred data serves ``solver="svd"``, and wide data
        (``n < p``), where the ``p x p`` scatter would be the larger matrix.
        """
        n, p = X.shape
        if self.n_components == "mle":
            self._check_mle(n, p)
        else:
            self._check_fraction()
        large = self.solver == "auto" and min(n, p) > _COVARIANCE_MAX_SIDE and self.n_components != "mle"
        if self.solver == "svd" or n < p or large:
            mean = sums / n
            variances, components, total = pca_svd(X, mean, min(n, p))
            check_variance(total, X)
            k = self._k_from_spectrum(variances, total, n)
            self._set_fitted(X, n, mean, variances[:k], components[:k], total, solver="svd")
        else:
            self._fit_scatter(scatter_stats(X, sums), X)

    def _k_from_spectrum(self, variances, total, n):
        """The ``k`` that ``n_components`` (``"mle"`` or a fraction) asks for, given every variance."""
        if self.n_components == "mle":
            return infer_dimension(variances, n)[0]
        # scikit-learn's rule (PCA with svd_solver="full"): the fewest components
        # whose cumulative ratio is strictly above the fraction, so that a
        # fraction equal to a cumulative ratio takes one component more. The
        # cumulative sum of all ratios can miss 1 by round-off, hence the cap.
        cumulative = np.cumsum(variances / total)
        k = int(np.searchsorted(cumulative, self.n_components, side="right")) + 1
        return min(k, len(variances))

    def _can_fit(self, n, p):
        return n >= max(2, p) if self.n_components == "mle" else n >= 2

    def _fit_scatter(self, stats, X):
        """Fit from count, mean and scatter (the ``covariance`` solver); ``X`` only names the data in errors."""
        check_variance(np.trace(stats.scatter), X)
        n, p = stats.n_samples, len(stats.mean)
        if self._chooses_k():
            if self.n_components == "mle":
                self._check_mle(n, p)
            else:
                self._check_fraction()
            variances, components, total = pca_from_scatter(stats, p)
            # Past the rank min(n - 1, p) the eigenvalues of the scatter are round-off.
            variances, components = variances[: min(n, p)], components[: min(n, p)]
            k = self._k_from_spectrum(variances, total, n)
            self._set_fitted(X, n, stats.mean, variances[:k], components[:k], total, solver="covariance")
            return
        k = self._n_components_for(n, p)
        self._set_fitted(X, n, stats.mean, *pca_from_scatter(stats, k), solver="covariance")

    def _set_fitted(self, X, n, mean, variances, components, total_variance, *, solver):
        check_variance(total_variance, X)
        k, p = components.shape
        flip_signs(components)
        if self.whiten and variances[-1] <= 1e-12 * variances[0]:
            rank = int(np.sum(variances > 1e-12 * variances[0]))
            raise ValueError(
                f"PCA: n_components={k} exceeds the rank {rank} of the centred data, and "
                "whitening would divide by a zero variance. Choose n_components <= "
                f"{rank} or whiten=False."
            )
        self.mean_ = mean
        self.components_ = components
        self.explained_variance_ = variances
        self.explained_variance_ratio_ = variances / total_variance
        self.singular_values_ = np.sqrt(variances * (n - 1))
        rest = min(n, p) - k
        noise = max(total_variance - variances.sum(), 0.0) / rest if rest else 0.0
        # When k reaches the rank of the data, total minus kept variance is
        # round-off; calling it a noise variance would give a spurious density.
        self.noise_variance_ = float(noise) if noise > _SINGULAR_RTOL * total_variance / p else 0.0
        self.n_components_ = k
        self.n_samples_ = n
        self.solver_ = solver
        self.n_parameters_ = p * k - k * (k - 1) // 2 + 1 + p

    @property
    def _n_features_out(self):
        return self.n_components_

    @rowwise("n_components_")
    def transform(self, X):
        """Project ``X`` on the principal axes: ``z = V_k^T (x - mean)``, divided by
        ``sqrt(explained_variance_)`` when ``whiten``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            The scores.
        """
        check_is_fitted(self)
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = check_data(self, X, reset=False)
        scores = (X - self.mean_) @ self.components_.T
        if self.whiten:
            scores /= np.sqrt(self.explained_variance_)
        return scores.astype(dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def inverse_transform(self, X):
        """Map scores back to data space: ``x = V_k z + mean``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Scores, as ``transform`` returns them.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Points in data space.
        """
        check_is_fitted(self)
        scores = check_latent(self, X)
        if self.whiten:
            scores = scores * np.sqrt(self.explained_variance_)
        return scores @ self.components_ + self.mean_

    def posterior(self, X):
        """Posterior of the scores: PCA is the zero-noise limit of probabilistic PCA.

        As the noise variance goes to zero, the PPCA posterior of ``z`` given
        ``x`` collapses onto the orthogonal projection (Tipping & Bishop 1999,
        section 3.2), so the mean is ``transform(X)`` and the covariance is zero.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Posterior
            ``mean`` of shape (n_samples, n_components) and ``covariance`` of
            shape (n_components, n_components), all zeros.
        """
        mean = self.transform(X)
        return Posterior(mean, np.zeros((self.n_components_, self.n_components_)))

    def _model_loadings(self):
        """Loadings ``W = V_k (Lambda_k - s2 I)^{1/2}`` of the probabilistic reading."""
        spread = np.sqrt(np.maximum(self.explained_variance_ - self.noise_variance_, 0.0))
        return self.components_.T * spread

    def get_covariance(self):
        """Model covariance ``V_k (Lambda_k - s2 I) V_k^T + s2 I``.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            The covariance matrix of the fitted Gaussian.
        """
        check_is_fitted(self)
        spread = np.maximum(self.explained_variance_ - self.noise_variance_, 0.0)
        covariance = (self.components_.T * spread) @ self.components_
        covariance[np.diag_indices_from(covariance)] += self.noise_variance_
        return covariance

    def get_precision(self):
        """Model precision, the inverse of :meth:`get_covariance`, without inverting a matrix.

        With orthonormal axes ``V_k`` and ``C = V_k (Lambda_k - s2 I) V_k^T + s2 I``
        the inverse is exact in closed form (the Woodbury identity with
        ``V_k^T V_k = I``):

        .. math:: C^{-1} = \\frac{1}{\\sigma^2} I
                  + V_k \\left(\\Lambda_k^{-1} - \\frac{1}{\\sigma^2} I\\right) V_k^T .

        With no discarded variance (``noise_variance_ == 0``) it is
        ``V_k Lambda_k^{-1} V_k^T``, which is the inverse only when the ``k``
        axes span the feature space. Equal to scikit-learn's
        ``PCA.get_precision`` without whitening; like :meth:`get_covariance`
        it does not depend on ``whiten``, which rescales the scores, not the
        model (scikit-learn's does, scikit-learn/scikit-learn#13898).

        Returns
        -------
        ndarray of shape (n_features, n_features)
            The precision matrix of the fitted Gaussian.

        Raises
        ------
        ValueError
            When the model covariance is singular (no discarded variance and
            fewer components than features, or a zero kept variance).
        """
        check_is_fitted(self)
        self._check_density()
        components = self.components_
        noise = self.noise_variance_
        if noise == 0:
            return (components.T / self.explained_variance_) @ components
        # Lambda_k as the model has it: the loadings are clipped at zero
        # where a kept variance falls below the noise variance.
        variances = np.maximum(self.explained_variance_ - noise, 0.0) + noise
        precision = (components.T * (1.0 / variances - 1.0 / noise)) @ components
        precision[np.diag_indices_from(precision)] += 1.0 / noise
        return precision

    def _check_density(self):
        """Refuse a model covariance that is singular: no discarded variance and axes short of the space."""
        if self.noise_variance_ > 0:
            return
        # No discarded variance: the model covariance is V_k Lambda_k V_k^T,
        # which has a density only when the k components span the feature space.
        variances = self.explained_variance_
        if self.n_components_ < self.n_features_in_ or variances[-1] <= _SINGULAR_RTOL * variances[0]:
            raise ValueError(
                f"PCA: the fitted model covariance is singular ({self.n_components_} components "
                f"reach the rank of the data in {self.n_features_in_} features, leaving no "
                "discarded variance), so it has no density. Fit fewer components than the "
                "rank of the data, or use lvm.PPCA."
            )

    @rowwise()
    def score_samples(self, X):
        """Log-likelihood of each row under the probabilistic reading of PCA.

        .. math:: \\log N(x \\mid \\bar x, W W^T + \\sigma^2 I), \\quad
                  W = V_k (\\Lambda_k - \\sigma^2 I)^{1/2}

        computed in the ``k``-dimensional space by Woodbury's identity; equal to
        scikit-learn's ``PCA.score_samples``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-density of each row.
        """
        check_is_fitted(self)
        X = check_data(self, X, reset=False)
        if self.noise_variance_ > 0:
            return _lowrank.logpdf(X - self.mean_, self._model_loadings(), self.noise_variance_)
        self._check_density()
        # The k = n_features axes span the space: in their basis the model is
        # a product of independent normals.
        variances = self.explained_variance_
        scores = (X - self.mean_) @ self.components_.T
        return -0.5 * (self.n_features_in_ * _LOG_2PI + np.log(variances).sum()
                       + np.sum(scores**2 / variances, axis=1))

    def sample(self, n_samples=1, random_state=None):
        """Draw rows from the probabilistic reading of PCA.

        ``z_j ~ N(0, lambda_j - s2)`` along each axis, ``x = mean + V_k z + e``
        with ``e ~ N(0, s2 I)``; the scores are returned whitened when ``whiten``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
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
        spread = np.sqrt(np.maximum(self.explained_variance_ - self.noise_variance_, 0.0))
        latent = rng.standard_normal((n_samples, self.n_components_)) * spread
        noise = rng.standard_normal((n_samples, self.components_.shape[1])) * np.sqrt(self.noise_variance_)
        X = self.mean_ + latent @ self.components_ + noise
        if self.whiten:
            latent = latent / np.sqrt(self.explained_variance_)
        return X, latent

    def summary(self):
        """Variance explained by each component, and the loadings.

        Returns
        -------
        Summary
            Tables ``"variance"`` (variance, proportion, cumulative) and
            ``"components"`` (axes as columns, one row per feature).
        """
        check_is_fitted(self)
        names = self._latent_names()
        variance = pd.DataFrame(
            {
                "variance": self.explained_variance_,
                "proportion": self.explained_variance_ratio_,
                "cumulative": np.cumsum(self.explained_variance_ratio_),
            },
            index=pd.Index(names, name="component"),
        )
        features = self._names()
        components = pd.DataFrame(self.components_.T, index=pd.Index(features, name="feature"), columns=names)
        info = {
            "samples": self.n_samples_,
            "features": self.n_features_in_,
            "components": self.n_components_,
            "solver": self.solver_,
            "noise variance": self.noise_variance_,
        }
        return Summary("PCA", info, {"variance": variance, "components": components})
