"""Synthetic data drawn from the models lvm fits, returned with the truth that generated them.

Each generator returns ``Synthetic(X, Z, params)``: the observed data, the
latent variables behind them and a dict of the true parameters, so that a fit
can be checked against what it should recover.
"""

import numbers
from collections import namedtuple

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._linalg import random_orthogonal
from ..mixture._covariance import COVARIANCE_TYPES, MCLUST_ALIASES, structure_of

Synthetic = namedtuple("Synthetic", ["X", "Z", "params"])
Synthetic.__doc__ = """Synthetic data with the truth that generated them: ``(X, Z, params)``.

Unpacks as ``X, Z, truth = make_factor_data(...)``.
"""
Synthetic.X.__doc__ = "Observed data, ndarray or DataFrame of shape (n_samples, n_features)."
Synthetic.Z.__doc__ = "Latent variables: factor scores or component labels, one row per sample."
Synthetic.params.__doc__ = "Dict of the true parameters of the generating model."

# Main loadings of the default simple structure: strong enough for every factor
# to be well determined, below 0.9 so that each variable keeps noise of its own.
_MAIN_LOADING = (0.5, 0.9)
_CROSS_LOADING = 0.1

# Smallest default uniqueness. Near zero, maximum likelihood runs into Heywood
# cases and the covariance is close to singular; 0.1 keeps well clear of both.
_MIN_UNIQUENESS = 0.1

# Eigenvalues of the mixture components' covariances: spreads of the same
# order, so that ``separation`` means about the same for every component.
_EIGENVALUE_RANGE = (0.5, 1.5)

# Tolerance on the sum of the mixing weights: room for weights typed
# as decimals, such as three times 0.333.
_WEIGHTS_ATOL = 1e-3


# ----------------------------------------------------------------- checks
def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return int(value)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}.")
    return float(value)


def _check_array(name, value, shape):
    array = np.array(value, dtype=float)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values.")
    return array


def _check_weights(weights, k):
    if weights is None:
        return np.full(k, 1.0 / k)
    pi = _check_array("weights", weights, (k,))
    if np.any(pi < 0):
        raise ValueError(f"weights must be non-negative; got {pi.tolist()}.")
    if not np.isclose(pi.sum(), 1.0, rtol=0.0, atol=_WEIGHTS_ATOL):
        raise ValueError(f"weights must sum to 1; they sum to {pi.sum():g}.")
    return pi / pi.sum()


def _frame(array, prefix):
    return pd.DataFrame(array, columns=[f"{prefix}{j}" for j in range(1, array.shape[1] + 1)])


# ------------------------------------------------------------ factor model
def _simple_structure_loadings(rng, p, k):
    loadings = rng.uniform(-_CROSS_LOADING, _CROSS_LOADING, size=(p, k))
    # Contiguous blocks of variables, as many per factor as p allows.
    owner = np.arange(p) * k // p
    rows = np.arange(p)
    loadings[rows, owner] = rng.uniform(*_MAIN_LOADING, size=p)
    # With many factors the cross-loadings add up; shrink them, not the main
    # loading, so that the structure stays simple and psi stays above the floor.
    main = loadings[rows, owner] ** 2
    cross = np.sum(loadings**2, axis=1) - main
    budget = 1.0 - _MIN_UNIQUENESS - main
    shrink = np.sqrt(np.minimum(1.0, budget / np.maximum(cross, np.finfo(float).tiny)))
    loadings *= shrink[:, None]
    loadings[rows, owner] = np.sqrt(main)
    return loadings


def make_factor_data(n_samples=500, n_features=19, n_factors=9, *, loadings=None, uniquenesses=None, mean=None,
                     simple_structure=True, random_state=None, as_frame=False):
    r"""Draw data from the common factor model with known loadings and uniquenesses.

    The model (Lawley & Maxwell 1971):

    .. math:: x = \mu + L z + \varepsilon, \qquad z \sim N(0, I_k),
              \qquad \varepsilon \sim N(0, \Psi), \ \Psi = \mathrm{diag}(\psi),

    so that :math:`\mathrm{Cov}(x) = L L^T + \Psi`. By default ``L`` has simple
    structure: the variables are split into contiguous blocks, one per factor,
    each variable loads between 0.5 and 0.9 on its own factor and at most 0.1
    (in absolute value) on the others, and :math:`\psi_j = 1 - \sum_k L_{jk}^2`,
    so that every variable has unit variance and ``L`` is also the standardised
    loading matrix that :class:`lvm.FactorAnalysis` estimates. Cross-loadings
    are shrunk where needed so that every default uniqueness is at least 0.1.

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows ``n``.
    n_features : int, default=19
        Number of observed variables ``p``.
    n_factors : int, default=9
        Number of factors ``k``, below ``n_features``.
    loadings : array-like of shape (n_features, n_factors) or None, default=None
        The loading matrix ``L``; None draws one as ``simple_structure`` says.
    uniquenesses : array-like of shape (n_features,) or None, default=None
        The positive noise variances ``psi``. None takes ``1 - rowsum(L**2)``
        (unit variances) when ``simple_structure`` is True, which requires
        every row of given loadings to have a sum of squares below 1, and draws
        them uniformly in [0.2, 0.6] otherwise.
    mean : array-like of shape (n_features,) or None, default=None
        The mean ``mu``; None is zero.
    simple_structure : bool, default=True
        Draw the loadings and uniquenesses not given as described above; if
        False, the loadings are independent ``N(0, 1 / k)`` and the
        uniquenesses uniform in [0.2, 0.6].
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw: the same seed gives the same output.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame with columns ``x1 .. xp`` and ``Z`` with
        columns ``F1 .. Fk``.

    Returns
    -------
    X : ndarray or pandas.DataFrame of shape (n_samples, n_features)
        The observations.
    Z : ndarray or pandas.DataFrame of shape (n_samples, n_factors)
        The factor scores ``z`` of every row.
    params : dict
        The truth: ``loadings`` (p, k), ``uniquenesses`` (p,), ``mean`` (p,)
        and the model ``covariance`` ``L L^T + diag(psi)`` (p, p). The three
        are returned as a :class:`Synthetic` named tuple.

    See Also
    --------
    make_ppca_data : The model with one noise variance for all variables.

    References
    ----------
    Lawley, D. N. and Maxwell, A. E. (1971). Factor Analysis as a Statistical
    Method, 2nd ed. Butterworths.

    Examples
    --------
    >>> import numpy as np
    >>> import lvm
    >>> X, Z, truth = lvm.datasets.make_factor_data(100, random_state=0)
    >>> X.shape, Z.shape
    ((100, 19), (100, 9))
    >>> bool(np.allclose(np.diag(truth["covariance"]), 1.0))
    True
    """
    n = _check_count("n_samples", n_samples, 1)
    p = _check_count("n_features", n_features, 2)
    k = _check_count("n_factors", n_factors, 1)
    if k >= p:
        raise ValueError(f"n_factors must be below n_features; got n_factors={k} and n_features={p}.")
    rng = check_random_state(random_state)

    if loadings is None:
        L = _simple_structure_loadings(rng, p, k) if simple_structure else rng.standard_normal((p, k)) / np.sqrt(k)
    else:
        L = _check_array("loadings", loadings, (p, k))

    if uniquenesses is not None:
        psi = _check_array("uniquenesses", uniquenesses, (p,))
        if np.any(psi <= 0):
            bad = np.flatnonzero(psi <= 0).tolist()
            raise ValueError(f"uniquenesses must be positive; variables {bad} have uniquenesses <= 0.")
    elif simple_structure:
        psi = 1.0 - np.sum(L**2, axis=1)
        if np.any(psi <= 0):
            bad = np.flatnonzero(psi <= 0).tolist()
            raise ValueError(
                f"loadings: the squared loadings of variables {bad} sum to 1 or more, so no positive "
                "uniqueness gives them unit variance. Pass uniquenesses, or scale those rows down."
            )
    else:
        psi = rng.uniform(0.2, 0.6, size=p)

    mu = np.zeros(p) if mean is None else _check_array("mean", mean, (p,))

    Z = rng.standard_normal((n, k))
    X = mu + Z @ L.T + rng.standard_normal((n, p)) * np.sqrt(psi)
    params = {"loadings": L, "uniquenesses": psi, "mean": mu, "covariance": L @ L.T + np.diag(psi)}
    if as_frame:
        return Synthetic(_frame(X, "x"), _frame(Z, "F"), params)
    return Synthetic(X, Z, params)


# ------------------------------------------------------------------- PPCA
def _principal_loadings(rng, p, k):
    """``(p, k)`` loadings: orthogonal columns along random directions, norms evenly from 3 down to 1.

    Distinct norms make the leading eigenvalues of ``W W^T + Psi`` distinct,
    so the principal axes, not only their span, are identified.
    """
    directions = random_orthogonal(rng, p, k)
    # The sign lvm.PPCA reports, so that the truth compares with a fit entry by entry.
    largest = directions[np.argmax(np.abs(directions), axis=0), np.arange(k)]
    directions *= np.where(largest < 0, -1.0, 1.0)
    return directions * np.linspace(3.0, 1.0, k)


def make_ppca_data(n_samples=500, n_features=20, n_components=3, *, noise_variance=0.1, random_state=None,
                   as_frame=False):
    r"""Draw data from probabilistic PCA with a known principal subspace and noise variance.

    The model (Tipping & Bishop 1999):

    .. math:: x = \mu + W z + \varepsilon, \qquad z \sim N(0, I_k),
              \qquad \varepsilon \sim N(0, \sigma^2 I_p),

    so that :math:`\mathrm{Cov}(x) = W W^T + \sigma^2 I`. The columns of ``W``
    are orthogonal, along directions drawn uniformly at random, with norms
    decreasing evenly from 3 to 1: the leading eigenvalues
    :math:`\|w_j\|^2 + \sigma^2` are distinct, so the principal axes, not only
    their span, are identified. The mean is zero.

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows ``n``.
    n_features : int, default=20
        Number of observed variables ``p``.
    n_components : int, default=3
        Latent dimension ``k``, below ``n_features`` so that a noise variance remains.
    noise_variance : float, default=0.1
        :math:`\sigma^2`, positive.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw: the same seed gives the same output.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame with columns ``x1 .. xp`` and ``Z`` with
        columns ``Z1 .. Zk``.

    Returns
    -------
    X : ndarray or pandas.DataFrame of shape (n_samples, n_features)
        The observations.
    Z : ndarray or pandas.DataFrame of shape (n_samples, n_components)
        The latent variables ``z`` of every row.
    params : dict
        The truth: ``components`` (k, p), which is ``W^T`` in the convention of
        :attr:`lvm.PPCA.components_` (orthogonal rows of decreasing norm, the
        largest entry of each positive), ``noise_variance``, ``mean`` (p,) and
        the model ``covariance`` ``W W^T + sigma^2 I`` (p, p). The three are
        returned as a :class:`Synthetic` named tuple.

    See Also
    --------
    make_factor_data : The model with a noise variance per variable.

    References
    ----------
    Tipping, M. E. and Bishop, C. M. (1999). Probabilistic principal component
    analysis. JRSS B 61(3), 611-622. doi:10.1111/1467-9868.00196

    Examples
    --------
    >>> import lvm
    >>> X, Z, truth = lvm.datasets.make_ppca_data(100, random_state=0)
    >>> X.shape, Z.shape, truth["components"].shape
    ((100, 20), (100, 3), (3, 20))
    >>> truth["noise_variance"]
    0.1
    """
    n = _check_count("n_samples", n_samples, 1)
    p = _check_count("n_features", n_features, 2)
    k = _check_count("n_components", n_components, 1)
    if k >= p:
        raise ValueError(
            f"n_components must be below n_features so that a noise variance remains; got "
            f"n_components={k} and n_features={p}."
        )
    sigma2 = _check_positive("noise_variance", noise_variance)
    rng = check_random_state(random_state)

    W = _principal_loadings(rng, p, k)
    mu = np.zeros(p)

    Z = rng.standard_normal((n, k))
    X = mu + Z @ W.T + rng.standard_normal((n, p)) * np.sqrt(sigma2)
    params = {"components": W.T.copy(), "noise_variance": sigma2, "mean": mu,
              "covariance": W @ W.T + sigma2 * np.eye(p)}
    if as_frame:
        return Synthetic(_frame(X, "x"), _frame(Z, "Z"), params)
    return Synthetic(X, Z, params)


# ---------------------------------------------------------------- mixture
def _place_means(rng, k, p, distance):
    """``k`` random points in ``R^p`` whose closest pair is exactly ``distance`` apart."""
    if k == 1:
        return np.zeros((1, p))
    # Rejection sampling in a ball that grows until the points fit: the means
    # spread out without any pair much closer than the rest.
    radius = distance * max(1.0, k ** (1.0 / p)) / 2.0
    means = [rng.standard_normal(p) * radius]
    rejected = 0
    while len(means) < k:
        candidate = rng.standard_normal(p) * radius
        if min(np.linalg.norm(candidate - m) for m in means) >= distance:
            means.append(candidate)
        else:
            rejected += 1
            if rejected % 50 == 0:
                radius *= 1.2
    means = np.array(means)
    gaps = np.linalg.norm(means[:, None, :] - means[None, :, :], axis=-1)
    return means * (distance / gaps[np.triu_indices(k, 1)].min())


def make_mixture_data(n_samples=500, n_features=2, n_components=3, *, covariance_type="full", separation=3.0,
                      weights=None, random_state=None, as_frame=False):
    r"""Draw data from a Gaussian mixture with known labels, weights, means and covariances.

    The model (McLachlan & Peel 2000):

    .. math:: z \sim \mathrm{Categorical}(\pi_1, \dots, \pi_K), \qquad
              x \mid z = k \sim N(\mu_k, \Sigma_k).

    The number of rows of each component is multinomial with probabilities
    ``weights``, and the rows are shuffled. Covariance eigenvalues lie in
    [0.5, 1.5]: ``"full"`` gives each component its own covariance with random
    axes, ``"tied"`` one such covariance shared by all, ``"diag"`` random
    variances along the coordinate axes, ``"spherical"`` a random multiple of
    the identity; mclust's names (``"VEV"``, ``"EVE"``, ...) draw volumes,
    shapes and orientations as the structure lets them vary (shapes from
    eigenvalues in the same range). The means are placed at random, then scaled so that the
    closest two are ``separation`` times the largest component standard
    deviation (square root of the largest covariance eigenvalue) apart; a
    single component has mean zero.

    Parameters
    ----------
    n_samples : int, default=500
        Number of rows ``n``.
    n_features : int, default=2
        Number of observed variables ``p``.
    n_components : int, default=3
        Number of components ``K``.
    covariance_type : str, default="full"
        Structure of the covariances, any name :class:`lvm.GaussianMixture` takes.
    separation : float, default=3.0
        Distance between the two closest means, in largest standard
        deviations. Around 2 the components overlap; from about 5 on they
        are well apart.
    weights : array-like of shape (n_components,) or None, default=None
        Mixing proportions, non-negative and summing to 1; None is equal weights.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw: the same seed gives the same output.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame with columns ``x1 .. xp`` and ``Z`` as a
        Series named ``component``.

    Returns
    -------
    X : ndarray or pandas.DataFrame of shape (n_samples, n_features)
        The observations.
    Z : ndarray or pandas.Series of shape (n_samples,)
        The component (0 .. K - 1) that drew each row.
    params : dict
        The truth: ``weights`` (K,), ``means`` (K, p), ``covariances`` in the
        storage of :attr:`lvm.GaussianMixture.covariances_` ((K, p, p) full,
        (p, p) tied, (K, p) diag, (K,) spherical) and ``covariance_type``. The
        three are returned as a :class:`Synthetic` named tuple.

    See Also
    --------
    lvm.GaussianMixture : The model fitted by EM.
    make_mfa_data : Clusters near low-dimensional subspaces of their own.

    References
    ----------
    McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models. Wiley.
    doi:10.1002/0471721182

    Examples
    --------
    >>> import numpy as np
    >>> import lvm
    >>> X, Z, truth = lvm.datasets.make_mixture_data(100, random_state=0)
    >>> X.shape, Z.shape, truth["covariances"].shape
    ((100, 2), (100,), (3, 2, 2))
    >>> np.unique(Z).tolist()
    [0, 1, 2]
    """
    n = _check_count("n_samples", n_samples, 1)
    p = _check_count("n_features", n_features, 1)
    k = _check_count("n_components", n_components, 1)
    if covariance_type not in COVARIANCE_TYPES and covariance_type not in MCLUST_ALIASES:
        names = ", ".join(map(repr, [*COVARIANCE_TYPES, *MCLUST_ALIASES]))
        raise ValueError(f"covariance_type must be one of {names}; got {covariance_type!r}.")
    separation = _check_positive("separation", separation)
    pi = _check_weights(weights, k)
    rng = check_random_state(random_state)

    covariances, full = structure_of(covariance_type).draw(rng, k, p, _EIGENVALUE_RANGE)
    largest = np.linalg.eigvalsh(full)[:, -1].max()
    means = _place_means(rng, k, p, separation * np.sqrt(largest))

    labels = rng.permutation(np.repeat(np.arange(k), rng.multinomial(n, pi)))
    X = np.empty((n, p))
    for c in range(k):
        rows = labels == c
        X[rows] = means[c] + rng.standard_normal((int(rows.sum()), p)) @ np.linalg.cholesky(full[c]).T
    params = {"weights": pi, "means": means, "covariances": covariances, "covariance_type": covariance_type}
    if as_frame:
        return Synthetic(_frame(X, "x"), pd.Series(labels, name="component"), params)
    return Synthetic(X, labels, params)


# ------------------------------------------------ mixture of factor analyzers
def _check_noise_variances(value, k, p):
    """``noise_variance`` as a (k, p) array: one number, one per component, or one per component and feature."""
    try:
        variances = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"noise_variance must be a number or an array of numbers; got {value!r}.") from None
    if variances.ndim == 0:
        return np.full((k, p), _check_positive("noise_variance", value))
    if variances.shape == (k,):
        variances = np.repeat(variances[:, None], p, axis=1)
    elif variances.shape != (k, p):
        raise ValueError(f"noise_variance must be a number or an array of shape ({k},) or ({k}, {p}); "
                         f"got shape {variances.shape}.")
    bad = ~(np.isfinite(variances) & (variances > 0))
    if bad.any():
        raise ValueError(f"noise_variance must be positive and finite; components "
                         f"{np.flatnonzero(bad.any(axis=1)).tolist()} have variances that are not.")
    return variances


def make_mfa_data(n_samples=1000, n_features=20, n_components=3, n_factors=2, *, noise_variance=0.05,
                  separation=4.0, weights=None, random_state=None, as_frame=False):
    r"""Draw data from a mixture of factor analyzers: clusters near subspaces of their own.

    The model (Ghahramani & Hinton 1996; Tipping & Bishop 1999):

    .. math:: z \sim \mathrm{Categorical}(\pi_1, \dots, \pi_K), \qquad
              x = \mu_z + W_z y + \varepsilon, \qquad
              y \sim N(0, I_q), \qquad \varepsilon \sim N(0, \Psi_z),

    so that :math:`x \mid z = k \sim N(\mu_k, W_k W_k^T + \Psi_k)`: each
    component is a factor model, and its points lie near the
    ``q``-dimensional affine subspace :math:`\mu_k + \mathrm{span}(W_k)` of
    :math:`\mathbb{R}^p`. The columns of every :math:`W_k` are orthogonal,
    along directions drawn uniformly at random and independently for each
    component, with norms decreasing evenly from 3 to 1 as in
    :func:`make_ppca_data`. :math:`\Psi_k` is diagonal: one
    ``noise_variance`` for all gives isotropic noise of the same size in
    every component, one per component a mixture of probabilistic PCA models
    (Tipping & Bishop 1999), and one per component and feature a diagonal
    noise per component.

    The number of rows of each component is multinomial with probabilities
    ``weights``, and the rows are shuffled. The means are placed at random,
    then scaled so that the closest two are ``separation`` times the largest
    component standard deviation (square root of the largest eigenvalue of
    any :math:`W_k W_k^T + \Psi_k`, just above the largest loading norm 3
    when ``n_factors >= 1`` and the noise is small) apart; a single component
    has mean zero.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows ``n``.
    n_features : int, default=20
        Number of observed variables ``p``.
    n_components : int, default=3
        Number of components ``K``.
    n_factors : int, default=2
        Dimension ``q`` of each component's subspace, from 0 (a mixture of
        diagonal Gaussians) to ``n_features - 1``.
    noise_variance : float or array-like of shape (n_components,) or (n_components, n_features), default=0.05
        The diagonal of :math:`\Psi_k`, positive: one variance for all, one
        per component, or one per component and feature. The noise shared by
        all components of Ghahramani & Hinton is an array with equal rows.
    separation : float, default=4.0
        Distance between the two closest means, in largest standard
        deviations. The subspaces are drawn independently, so clusters that
        overlap at their means can still be told apart by their orientation.
    weights : array-like of shape (n_components,) or None, default=None
        Mixing proportions, non-negative and summing to 1; None is equal weights.
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw: the same seed gives the same output.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame with columns ``x1 .. xp`` and ``Z`` as a
        Series named ``component``.

    Returns
    -------
    X : ndarray or pandas.DataFrame of shape (n_samples, n_features)
        The observations.
    Z : ndarray or pandas.Series of shape (n_samples,)
        The component (0 .. K - 1) that drew each row.
    params : dict
        The truth: ``weights`` (K,), ``means`` (K, p), ``loadings`` (K, p, q)
        (the :math:`W_k`, the largest entry of each column positive),
        ``noise_variance`` (K, p) (the diagonals of :math:`\Psi_k`, the given
        values broadcast) and ``covariances`` (K, p, p)
        (:math:`W_k W_k^T + \Psi_k`, in the storage of a ``"full"``
        :attr:`lvm.GaussianMixture.covariances_`). The three are returned as
        a :class:`Synthetic` named tuple.

    See Also
    --------
    make_mixture_data : Gaussian clusters with covariances of full rank.
    make_ppca_data : A single component with isotropic noise, and its factors.

    Notes
    -----
    The factors ``y`` are not returned; ``Z`` holds the component labels. A
    component's loadings are identified only up to a rotation of its factors
    (and, here, up to sign and order where norms tie): what a fit can recover
    is :math:`W_k W_k^T`, whose column space is the component's subspace.

    References
    ----------
    Ghahramani, Z. and Hinton, G. E. (1996). The EM algorithm for mixtures of
    factor analyzers. Technical Report CRG-TR-96-1, Department of Computer
    Science, University of Toronto.

    Tipping, M. E. and Bishop, C. M. (1999). Mixtures of probabilistic
    principal component analyzers. Neural Computation 11(2), 443-482.
    doi:10.1162/089976699300016728

    Examples
    --------
    >>> import numpy as np
    >>> import lvm
    >>> X, Z, truth = lvm.datasets.make_mfa_data(300, random_state=0)
    >>> X.shape, Z.shape, truth["loadings"].shape
    ((300, 20), (300,), (3, 20, 2))
    >>> W, psi = truth["loadings"][0], truth["noise_variance"][0]
    >>> bool(np.allclose(truth["covariances"][0], W @ W.T + np.diag(psi)))
    True
    """
    n = _check_count("n_samples", n_samples, 1)
    p = _check_count("n_features", n_features, 1)
    k = _check_count("n_components", n_components, 1)
    q = _check_count("n_factors", n_factors, 0)
    if q >= p:
        raise ValueError(
            f"n_factors must be below n_features, so that each component lies near a proper subspace; got "
            f"n_factors={q} and n_features={p}."
        )
    psi = _check_noise_variances(noise_variance, k, p)
    separation = _check_positive("separation", separation)
    pi = _check_weights(weights, k)
    rng = check_random_state(random_state)

    loadings = np.array([_principal_loadings(rng, p, q) for _ in range(k)])
    covariances = loadings @ loadings.transpose(0, 2, 1)
    covariances[:, np.arange(p), np.arange(p)] += psi
    largest = np.linalg.eigvalsh(covariances)[:, -1].max()
    means = _place_means(rng, k, p, separation * np.sqrt(largest))

    labels = rng.permutation(np.repeat(np.arange(k), rng.multinomial(n, pi)))
    X = np.empty((n, p))
    for c in range(k):
        rows = labels == c
        count = int(rows.sum())
        factors = rng.standard_normal((count, q))
        X[rows] = means[c] + factors @ loadings[c].T + rng.standard_normal((count, p)) * np.sqrt(psi[c])
    params = {"weights": pi, "means": means, "loadings": loadings, "noise_variance": psi, "covariances": covariances}
    if as_frame:
        return Synthetic(_frame(X, "x"), pd.Series(labels, name="component"), params)
    return Synthetic(X, labels, params)
