"""Mixtures of factor analyzers and of probabilistic PCA: clusters, each with its own low-dimensional latent space."""

from .._validation import BOOLEAN
from . import _mfa_steps
from ._lowrank_mixture import LowRankMixture

_COMMON_PARAMETERS = """
    n_components : int, default=1
        Number of components ``K``.
    n_factors : int, default=1
        Latent dimension ``q`` of every component (0: a Gaussian mixture
        with the noise structure as covariance)."""

_FIT_PARAMETERS = """
    algorithm : {"aecm", "em"}, default="aecm"
        ``"aecm"``: two cycles per iteration (McLachlan & Peel 2000, section
        8.5): weights and means from the responsibilities, then loadings and
        noise from responsibilities recomputed under the new means (two passes
        over the data). ``"em"``: one pass, all parameters at once from the
        expected moments of ``(z, 1)`` (Ghahramani & Hinton 1996).
    init : {"kmeans", "kmeans++", "random", "hierarchical"}, default="kmeans"
        The starting partition (as :class:`~lvm.GaussianMixture`'s ``init``);
        each part then starts as its probabilistic PCA in closed form.
    n_init : int, default=1
        Number of starts; the one with the highest likelihood is kept.
    max_iter : int, default=1000
        Most iterations per start.
    tol : float, default=1e-5
        Stop when the mean log-likelihood per sample changes by less.
    reg : float, default=1e-6
        Floor of every noise variance, as a fraction of its column's
        variance (of the mean column variance for isotropic noise, so that
        the floor is isotropic too): the likelihood is unbounded as a noise variance goes to 0
        (a component on a subspace holding few points), and the M-step then
        maximises subject to the floor, which keeps EM monotone.
    missing : {"error", "em"}, default="error"
        ``"em"`` accepts NaN: the E-step marginalises the missing entries.
    random_state : int, RandomState instance or None, default=None
        Seeds the start.
    callback : callable or None, default=None
        ``callback(iteration, params)`` after every iteration; ``params``
        holds ``weights``, ``means`` (of centred data: add ``center``),
        ``loadings`` (K, p, q) and ``noise`` (K, p).
    verbose : bool or int, default=0
        Progress bar during the fit.
    latent_names : list of str or None, default=None
        Names of the ``n_factors`` factors (``Z1, Z2, ...``)."""

_COMMON_NOTES = """
    Every density goes through the Woodbury identity and the determinant
    lemma in the ``q``-dimensional latent space (``lvm._lowrank``):
    ``log|C_k| = log|Psi_k| + log|M_k|`` and
    ``(x - mu_k)^T C_k^{-1} (x - mu_k) = ||y - V_k m||^2 + ||m||^2`` with
    ``y = Psi_k^{-1/2} (x - mu_k)``, ``V_k = Psi_k^{-1/2} W_k`` and ``m`` the
    posterior mean, so an iteration costs ``O(n K p q)`` and no ``p x p``
    matrix is formed. The E-step's statistics (per component: the weighted
    sums of ``E[z~ z~^T]``, ``E[(x - mu_k) z~^T]``, ``E[(x - mu_k)^2]``, with
    ``z~ = (z, 1)``) add over chunks of rows, so the fit runs on memmaps and
    dask arrays through lvm's EM driver. With ``n_factors=0`` the model is a
    Gaussian mixture with the noise as covariance, and ``algorithm="em"``
    then takes the same steps as :class:`~lvm.GaussianMixture`.

    The loadings of each component are defined up to an orthogonal rotation
    of its factors; ``transform`` averages factors whose axes differ between
    components, and is a summary for plots.

    References
    ----------
    Ghahramani, Z. and Hinton, G. E. (1996). The EM algorithm for mixtures of
    factor analyzers. Tech. Rep. CRG-TR-96-1, University of Toronto.

    Tipping, M. E. and Bishop, C. M. (1999). Mixtures of probabilistic
    principal component analyzers. Neural Computation 11, 443-482.
    doi:10.1162/089976699300016728

    McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models, chapter 8.
    Wiley. doi:10.1002/0471721182

    Meng, X.-L. and van Dyk, D. (1997). The EM algorithm -- an old folk-song
    sung to a fast new tune. JRSS B 59, 511-567. doi:10.1111/1467-9868.00082
"""

_COMMON_ATTRIBUTES = """
    weights_ : ndarray of shape (n_components,)
        Mixing proportions.
    means_ : ndarray of shape (n_components, n_features)
        Component means.
    loadings_ : ndarray of shape (n_components, n_features, n_factors)
        Each component's loadings ``W_k``.
    converged_ : bool
        Whether the best start met ``tol``.
    n_iter_ : int
        Iterations of the best start.
    history_ : ndarray of shape (n_iter_ + 1,)
        Mean log-likelihood per sample of the start and after every iteration.
    lower_bound_ : float
        Final mean log-likelihood per sample.
    n_parameters_ : int
        ``K - 1`` weights, ``K p`` means, ``K (p q - q (q - 1) / 2)``
        loadings (a rotation per component is not identified) and the noise
        parameters.
    n_features_in_ : int
        Number of features seen in fitting.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names."""


class MixtureOfFactorAnalyzers(LowRankMixture):
    __doc__ = f"""Mixture of factor analyzers fitted by AECM: clusters, each a factor model.

    .. math:: k \\sim \\mathrm{{Categorical}}(\\pi), \\qquad z \\sim N(0, I_q), \\qquad
              x \\mid k, z \\sim N(\\mu_k + W_k z, \\Psi_k),

    with ``Psi_k`` diagonal (the uniquenesses), so
    ``x | k ~ N(mu_k, W_k W_k^T + Psi_k)``: each cluster lies near its own
    ``q``-dimensional subspace (Ghahramani & Hinton 1996; McLachlan & Peel
    2000, chapter 8). One component is factor analysis; no factors, a
    Gaussian mixture with diagonal covariances.

    Parameters
    ----------{_COMMON_PARAMETERS}
    shared_uniquenesses : bool, default=False
        One ``Psi`` for all components (McLachlan & Peel's ``Psi_k = Psi``).{_FIT_PARAMETERS}

    Attributes
    ----------{_COMMON_ATTRIBUTES}
    uniquenesses_ : ndarray of shape (n_components, n_features)
        Each component's noise variances (equal rows when shared).

    See Also
    --------
    MixtureOfPPCA : Isotropic noise per component.
    lvm.select_mixture : Choose ``K`` and ``q`` by BIC.

    Notes
    -----{_COMMON_NOTES}
    Examples
    --------
    >>> import lvm
    >>> data = lvm.datasets.make_mfa_data(600, 10, 3, 2, random_state=0)
    >>> mfa = lvm.MixtureOfFactorAnalyzers(3, 2, random_state=0).fit(data.X)
    >>> mfa.loadings_.shape
    (3, 10, 2)
    """

    _title = "Mixture of factor analyzers"

    def __init__(self, n_components=1, n_factors=1, *, shared_uniquenesses=False, algorithm="aecm", init="kmeans",
                 n_init=1, max_iter=1000, tol=1e-5, reg=1e-6, missing="error", random_state=None, callback=None,
                 verbose=0, latent_names=None):
        super().__init__(n_components, n_factors, algorithm=algorithm, init=init, n_init=n_init, max_iter=max_iter,
                         tol=tol, reg=reg, missing=missing, random_state=random_state, callback=callback,
                         verbose=verbose, latent_names=latent_names)
        self.shared_uniquenesses = shared_uniquenesses

    _parameter_constraints = {**LowRankMixture._parameter_constraints, "shared_uniquenesses": [BOOLEAN]}

    @property
    def _noise(self):
        return _mfa_steps.SharedUniquenesses if self.shared_uniquenesses else _mfa_steps.Uniquenesses


class MixtureOfPPCA(LowRankMixture):
    __doc__ = f"""Mixture of probabilistic principal component analyzers (Tipping & Bishop 1999).

    .. math:: k \\sim \\mathrm{{Categorical}}(\\pi), \\qquad z \\sim N(0, I_q), \\qquad
              x \\mid k, z \\sim N(\\mu_k + W_k z, \\sigma_k^2 I),

    a mixture of factor analyzers with isotropic noise per component; at the
    maximum, each ``W_k`` spans the leading principal subspace of its
    component's responsibility-weighted scatter. One component is
    :class:`~lvm.PPCA`; no factors, a Gaussian mixture with spherical covariances.

    Parameters
    ----------{_COMMON_PARAMETERS}{_FIT_PARAMETERS}

    Attributes
    ----------{_COMMON_ATTRIBUTES}
    noise_variance_ : ndarray of shape (n_components,)
        Each component's ``sigma_k^2``.

    See Also
    --------
    MixtureOfFactorAnalyzers : Diagonal noise per component.

    Notes
    -----{_COMMON_NOTES}
    The second AECM cycle is Tipping & Bishop's (1999, appendix C) update,
    ``W~ = S W (sigma^2 I + M^{{-1}} W^T S W)^{{-1}}``,
    ``sigma~^2 = tr(S - S W M^{{-1}} W~^T) / p``, written in the E-step's
    statistics: it needs ``S W``, never ``S``.

    Examples
    --------
    >>> import lvm
    >>> data = lvm.datasets.make_mfa_data(600, 10, 3, 2, random_state=0)
    >>> mppca = lvm.MixtureOfPPCA(3, 2, random_state=0).fit(data.X)
    >>> mppca.noise_variance_.shape
    (3,)
    """

    _noise = _mfa_steps.Isotropic
    _title = "Mixture of probabilistic PCA"
