"""Factor rotations, through the gradient projection algorithm (Bernaards & Jennrich 2005).

Every rotation returns loadings ``L = A T`` for the unrotated ``A``, the
rotation matrix ``T`` and the factor correlations ``Phi = (T^T T)^{-1}``
(the identity for orthogonal rotations). This is R's convention: the
``rotmat`` of ``factanal`` and ``psych::fa``.

The criteria are those of R's GPArotation, under snake-case names with
GPArotation's own spellings accepted too (``"geominT"`` is ``"geomin_t"``).
Each criterion below returns its value and its gradient with respect to the
loadings; statsmodels' ``GPA`` minimises it over orthogonal ``T`` or, for the
oblique criteria, over ``T`` with unit-length columns and ``L = A (T^T)^{-1}``.

Which rotations normalise rows first (Kaiser 1958) follows R: ``stats::varimax``
and ``stats::promax`` do; GPArotation's functions (quartimax, oblimin,
geomin, ...), which ``psych::fa`` calls, do not, unless asked.

References
----------
Bernaards, C. A. & Jennrich, R. I. (2005). Gradient projection algorithms and
software for arbitrary rotation criteria in factor analysis. Educational and
Psychological Measurement, 65, 676-696.

Browne, M. W. (2001). An overview of analytic rotation in exploratory factor
analysis. Multivariate Behavioral Research, 36, 111-150.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg
from statsmodels.multivariate.factor_rotation._gpa_rotation import (
    GPA,
    oblimin_objective,
    orthomax_objective,
)

# Gradient norm at which the GPA iterations stop: ten times tighter than
# GPArotation's 1e-5. Much lower is often out of reach: near the optimum the
# criterion's changes fall below round-off and the line search stalls.
_GPA_TOL = 1e-6
_GPA_MAX_ITER = 2000


@dataclass
class Rotation:
    """Result of a rotation.

    Attributes
    ----------
    loadings : ndarray of shape (p, k)
        Rotated loadings ``A T``.
    rotation_matrix : ndarray of shape (k, k)
        ``T``.
    factor_correlation : ndarray of shape (k, k)
        ``Phi = (T^T T)^{-1}``; the identity for orthogonal rotations.
    table : pandas.DataFrame or None
        The gradient projection iterations, as GPArotation's ``Table``:
        ``iteration``, ``criterion`` (its value), ``log10_gradient`` (log10 of
        the Frobenius norm of the gradient projected onto the tangent space,
        the convergence measure) and ``step``. None for the rotations that do
        not iterate (promax, an orthogonal full target, a single factor).
    converged : bool
        Whether the projected gradient fell below ``tol``; always True for the
        rotations without iterations.
    """

    loadings: np.ndarray
    rotation_matrix: np.ndarray
    factor_correlation: np.ndarray
    table: pd.DataFrame = field(default=None, repr=False)
    converged: bool = True


# ---------------------------------------------------------------- criteria
# Each returns (value, gradient d value / d L).

def geomin_criterion(L, delta=0.01):
    """Geomin criterion (Yates 1987) and its gradient.

    ``f(L) = sum_i (prod_j (l_ij^2 + delta))^{1/k}``, so
    ``df / dl_ij = (2 / k) l_ij / (l_ij^2 + delta) (prod_j (l_ij^2 + delta))^{1/k}``.

    Parameters
    ----------
    L : ndarray of shape (p, k)
    delta : float, default=0.01
        Small constant that keeps the product away from zero (Browne 2001).

    Returns
    -------
    value : float
    gradient : ndarray of shape (p, k)
    """
    k = L.shape[1]
    shifted = L**2 + delta
    geometric = np.exp(np.log(shifted).sum(axis=1) / k)
    return geometric.sum(), (2.0 / k) * L / shifted * geometric[:, None]


def crawford_ferguson_criterion(L, kappa=0.0):
    """Crawford-Ferguson criterion (Crawford & Ferguson 1970) and its gradient.

    With ``S = L * L`` (elementwise), ``N = 1 1^T - I`` (k x k) and
    ``M = 1 1^T - I`` (p x p),
    ``f = (1 - kappa) / 4 sum(S * (S N)) + kappa / 4 sum(S * (M S))``:
    row complexity weighted by ``1 - kappa``, column complexity by ``kappa``.
    ``df / dL = L * ((1 - kappa) S N + kappa M S)``. Orthogonal, ``kappa = 0``
    is quartimax, ``1 / p`` varimax, ``k / (2 p)`` equamax, ``(k - 1) / (p + k - 2)``
    parsimax; oblique, ``kappa = 0`` is quartimin.

    Crawford, C. B. & Ferguson, G. A. (1970). A general rotation criterion and
    its use in orthogonal rotation. Psychometrika, 35, 321-332.
    """
    S = L**2
    row_others = S.sum(axis=1, keepdims=True) - S  # S N
    column_others = S.sum(axis=0, keepdims=True) - S  # M S
    X = (1.0 - kappa) * row_others + kappa * column_others
    return float(np.sum(S * X)) / 4.0, L * X


def target_criterion(L, target, weights=None):
    """Distance to a (partially specified) target (Browne 1972) and its gradient.

    ``f = sum_ij w_ij^2 (l_ij - h_ij)^2`` and ``df / dL = 2 W^2 * (L - H)``,
    with ``w_ij = 1`` when no weights are given. A NaN in the target is an
    entry left free (weight 0), as an ``NA`` in GPArotation's ``Target``. With
    weights of 0 and 1 this is GPArotation's ``pst`` criterion; for other
    weights GPArotation (and statsmodels) pair the value with the gradient
    ``2 W * (L - H)``, which is not its derivative, and this one is.

    Browne, M. W. (1972). Orthogonal rotation to a partially specified target.
    British Journal of Mathematical and Statistical Psychology, 25, 115-120.
    """
    free = np.isnan(target)
    W2 = np.ones_like(L) if weights is None else np.asarray(weights, dtype=np.float64) ** 2
    W2 = np.where(free, 0.0, W2)
    D = np.where(free, 0.0, L - np.where(free, 0.0, target))
    return float(np.sum(W2 * D**2)), 2.0 * W2 * D


def bentler_criterion(L):
    """Bentler's invariant pattern simplicity criterion and its gradient.

    With ``S = L * L``, ``M = S^T S`` and ``D = diag(M)``,
    ``f = -(log det M - log det D) / 4`` and
    ``df / dL = -L * (S (M^{-1} - D^{-1}))``.

    Bentler, P. M. (1977). Factor simplicity index and transformations.
    Psychometrika, 42, 277-295.
    """
    S = L**2
    M = S.T @ S
    d = np.diag(M)
    logdet = np.linalg.slogdet(M)[1]
    gradient = -L * (S @ (linalg.inv(M) - np.diag(1.0 / d)))
    return -(logdet - np.sum(np.log(d))) / 4.0, gradient


def _entropy_and_gradient(x):
    """``H(x / s) = -sum (x / s) log(x / s)`` for ``s = sum x`` and ``dH / dx``.

    ``dH / dx_i = h_i / s - sum_j x_j h_j / s^2`` with ``h = -(log(x / s) + 1)``;
    a zero entry contributes nothing (``0 log 0 = 0``).
    """
    s = x.sum()
    e = x / s
    log_e = np.log(np.where(e > 0, e, 1.0))
    h = -(log_e + 1.0)
    return -np.sum(e * log_e), h / s - np.sum(x * h) / s**2


def infomax_criterion(L):
    """Infomax criterion (McKeon 1968, in Browne 2001) and its gradient.

    With ``S = L * L`` read as a joint distribution of variables and factors,
    ``f = log k + H(S) - H(row sums) - H(column sums)``: minus the mutual
    information between variable and factor, ``H`` the entropy of the
    normalised entries. The gradient is that of each entropy with respect to
    ``S`` (see ``_entropy_and_gradient``) times ``dS / dL = 2 L``.

    McKeon, J. J. (1968). Rotation for maximum association between factors and
    tests. Unpublished manuscript, Biometric Laboratory, George Washington
    University.
    """
    k = L.shape[1]
    S = L**2
    H0, G0 = _entropy_and_gradient(S)
    H1, g1 = _entropy_and_gradient(S.sum(axis=1))
    H2, g2 = _entropy_and_gradient(S.sum(axis=0))
    return np.log(k) + H0 - H1 - H2, 2.0 * L * (G0 - g1[:, None] - g2[None, :])


def oblimax_criterion(L):
    """Oblimax criterion (Saunders 1961) and its gradient.

    ``f = -(log sum l^4 - 2 log sum l^2)`` (minus the log kurtosis of the
    loadings), ``df / dL = -(4 L^3 / sum l^4 - 4 L / sum l^2)``.

    Saunders, D. R. (1961). The rationale for an "oblimax" method of
    transformation in factor analysis. Psychometrika, 26, 317-324.
    """
    s2, s4 = np.sum(L**2), np.sum(L**4)
    return -(np.log(s4) - 2.0 * np.log(s2)), -(4.0 * L**3 / s4 - 4.0 * L / s2)


def entropy_criterion(L):
    """Minimum entropy criterion (Jennrich 2004) and its gradient.

    ``f = -1/2 sum l^2 log l^2`` (``0 log 0 = 0``), ``df / dL = -(L log L^2 + L)``.

    Jennrich, R. I. (2004). Rotation to simple loadings using component loss
    functions: the orthogonal case. Psychometrika, 69, 257-273.
    """
    S = L**2
    log_s = np.log(np.where(S > 0, S, 1.0))
    return -np.sum(S * log_s) / 2.0, -(L * log_s + L)


def simplimax_criterion(L, k=None):
    """Simplimax criterion (Kiers 1994) and its gradient.

    ``f = sum`` of the ``k`` smallest squared loadings (those at most the
    ``k``-th smallest, ties included), ``df / dL = 2 I * L`` with ``I`` the
    indicator of those entries; ``k`` defaults to the number of variables.
    Piecewise smooth: the gradient is the derivative wherever the set of
    smallest entries does not change.

    Kiers, H. A. L. (1994). Simplimax: oblique rotation to an optimal target
    with simple structure. Psychometrika, 59, 567-579.
    """
    S = L**2
    k = L.shape[0] if k is None else int(k)
    small = S <= np.sort(S, axis=None)[k - 1]
    return float(np.sum(S[small])), 2.0 * small * L


def bifactor_criterion(L):
    """Bifactor (biquartimin) criterion (Jennrich & Bentler 2011) and its gradient.

    The first factor is general and left free; the others are group factors
    rotated by quartimin: with ``S = L[:, 1:] ** 2``,
    ``f = sum(S * (S N))``, ``N = 1 1^T - I``, and the gradient is
    ``4 L[:, 1:] * (S N)`` with a zero first column.

    Jennrich, R. I. & Bentler, P. M. (2011). Exploratory bi-factor analysis.
    Psychometrika, 76, 537-549.
    """
    group = L[:, 1:]
    S = group**2
    others = S.sum(axis=1, keepdims=True) - S
    gradient = np.zeros_like(L)
    gradient[:, 1:] = 4.0 * group * others
    return float(np.sum(S * others)), gradient


def varimin_criterion(L):
    """Varimin criterion (Ertel 2011) and its gradient: minus varimax.

    With ``Q = L^2 -`` its column means, ``f = sum Q^2 / 4`` and ``df / dL = L * Q``.

    Ertel, S. (2011). Exploratory factor analysis revealing complex structure.
    Personality and Individual Differences, 50, 196-200.
    """
    S = L**2
    Q = S - S.mean(axis=0)
    return float(np.sum(Q**2)) / 4.0, L * Q


# ---------------------------------------------------------------- registry
# name: (orthogonal or oblique, parameters with their defaults). A default of
# None is filled in from the shape of the loadings, or is required.
_METHODS = {
    "varimax": ("orthogonal", {}),
    "quartimax": ("orthogonal", {}),
    "equamax": ("orthogonal", {"kappa": None}),
    "parsimax": ("orthogonal", {"kappa": None}),
    "cf_t": ("orthogonal", {"kappa": 0.0}),
    "cf_q": ("oblique", {"kappa": 0.0}),
    "promax": ("oblique", {"power": 4}),
    "oblimin": ("oblique", {"gamma": 0.0}),
    "quartimin": ("oblique", {}),
    "geomin": ("oblique", {"delta": 0.01}),
    "geomin_t": ("orthogonal", {"delta": 0.01}),
    "target": ("orthogonal", {"target": None}),
    "target_q": ("oblique", {"target": None}),
    "partial_target": ("orthogonal", {"target": None, "weights": None}),
    "partial_target_q": ("oblique", {"target": None, "weights": None}),
    "bentler_t": ("orthogonal", {}),
    "bentler_q": ("oblique", {}),
    "infomax_t": ("orthogonal", {}),
    "infomax_q": ("oblique", {}),
    "oblimax": ("oblique", {}),
    "entropy": ("orthogonal", {}),
    "simplimax": ("oblique", {"k": None}),
    "bifactor_t": ("orthogonal", {}),
    "bifactor_q": ("oblique", {}),
    "varimin": ("orthogonal", {}),
}
ORTHOGONAL = tuple(name for name, (kind, _) in _METHODS.items() if kind == "orthogonal")
OBLIQUE = tuple(name for name, (kind, _) in _METHODS.items() if kind == "oblique")
# GPArotation's names for the same rotations.
ALIASES = {
    "targetT": "target", "target_t": "target", "targetQ": "target_q",
    "pstT": "partial_target", "partial_target_t": "partial_target", "pstQ": "partial_target_q",
    "geominT": "geomin_t", "geominQ": "geomin", "geomin_q": "geomin",
    "cfT": "cf_t", "cfQ": "cf_q",
    "bentlerT": "bentler_t", "bentlerQ": "bentler_q",
    "infomaxT": "infomax_t", "infomaxQ": "infomax_q",
    "bifactorT": "bifactor_t", "bifactorQ": "bifactor_q",
}
# Parameters' GPArotation (and R) spellings.
_PARAM_ALIASES = {"gam": "gamma", "Target": "target", "W": "weights", "m": "power", "eps": "tol",
                  "maxit": "max_iter"}
# Rotations whose factor order (and signs) mean something: a target's columns,
# the general factor first.
STRUCTURED = ("target", "target_q", "partial_target", "partial_target_q", "bifactor_t", "bifactor_q")
# Kaiser normalisation by default exactly where R applies it.
_R_NORMALIZES = {"varimax": True}


def method_name(method):
    """The canonical (snake-case) name of a rotation, from it or its GPArotation alias.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(method, str):
        name = ALIASES.get(method, method)
        if name in _METHODS:
            return name
    known = ", ".join(sorted(_METHODS)) + "; or GPArotation's " + ", ".join(sorted(ALIASES))
    raise ValueError(f"unknown rotation {method!r}; expected one of {known}")


def method_parameters(method, kwargs):
    """The rotation's parameters from ``kwargs`` (aliases resolved), checked.

    Returns
    -------
    name : str
        Canonical name of the rotation.
    params : dict
        Criterion parameters, with ``tol`` and ``max_iter``.

    Raises
    ------
    ValueError
        For a parameter the rotation does not take, or one given twice.
    """
    name = method_name(method)
    allowed = dict(_METHODS[name][1], tol=_GPA_TOL, max_iter=_GPA_MAX_ITER)
    params = {}
    for key, value in (kwargs or {}).items():
        canonical = _PARAM_ALIASES.get(key, key)
        if canonical not in allowed:
            raise ValueError(f"rotation {name!r} takes no parameter {key!r}; it takes "
                             f"{', '.join(sorted(allowed))}")
        if canonical in params:
            raise ValueError(f"rotation parameter {canonical!r} given twice (as {key!r} and its alias)")
        params[canonical] = value
    for key in ("target",) if "target" in allowed else ():
        if params.get(key) is None:
            raise ValueError(f"rotation {name!r} needs a target= matrix of the loadings' shape")
    if "weights" in allowed and params.get("weights") is None:
        raise ValueError(f"rotation {name!r} needs weights= (a matrix of the loadings' shape; "
                         "1 where the target is specified, 0 where it is free)")
    return name, {**allowed, **params}


def _criterion(name, params, p, k):
    """The function ``L -> (value, gradient)`` that GPA minimises."""
    if name == "varimax":
        return lambda L: orthomax_objective(L=L, gamma=1.0, return_gradient=True)
    if name == "quartimax":
        return lambda L: orthomax_objective(L=L, gamma=0.0, return_gradient=True)
    if name in ("oblimin", "quartimin"):
        gamma = float(params["gamma"]) if name == "oblimin" else 0.0
        return lambda L: oblimin_objective(L=L, gamma=gamma, return_gradient=True)
    if name in ("equamax", "parsimax", "cf_t", "cf_q"):
        # Saunders' (1962) equamax is orthomax with gamma = k / 2, which for
        # orthogonal rotations is the Crawford-Ferguson criterion with
        # kappa = k / (2 p), as GPArotation and psych define it; statsmodels'
        # own "equamax" uses gamma = 1 / p, a different criterion.
        defaults = {"equamax": k / (2.0 * p), "parsimax": (k - 1.0) / (p + k - 2.0)}
        kappa = params["kappa"]
        kappa = float(defaults[name] if kappa is None else kappa)
        return lambda L: crawford_ferguson_criterion(L, kappa)
    if name in ("geomin", "geomin_t"):
        delta = float(params["delta"])
        return lambda L: geomin_criterion(L, delta)
    if name in STRUCTURED[:4]:
        target = _matrix(params["target"], "target", p, k)
        weights = None if params.get("weights") is None else _matrix(params["weights"], "weights", p, k)
        return lambda L: target_criterion(L, target, weights)
    if name == "simplimax":
        n_small = p if params["k"] is None else params["k"]
        if not (isinstance(n_small, (int, np.integer)) and 1 <= n_small <= p * k):
            raise ValueError(f"simplimax: k={n_small!r} must be an integer in [1, {p * k}]")
        return lambda L: simplimax_criterion(L, n_small)
    return {"bentler_t": bentler_criterion, "bentler_q": bentler_criterion,
            "infomax_t": infomax_criterion, "infomax_q": infomax_criterion,
            "oblimax": oblimax_criterion, "entropy": entropy_criterion,
            "bifactor_t": bifactor_criterion, "bifactor_q": bifactor_criterion,
            "varimin": varimin_criterion}[name]


def _matrix(value, what, p, k):
    M = np.asarray(value, dtype=np.float64)
    if M.shape != (p, k):
        raise ValueError(f"rotation {what} has shape {M.shape}; the loadings have shape {(p, k)}")
    if what == "weights" and not np.all(np.isfinite(M)):
        raise ValueError("rotation weights must be finite")
    return M


def _table(rows):
    # One float array, so that a saved model's table reads back identical.
    return pd.DataFrame(np.asarray(rows, dtype=np.float64),
                        columns=["iteration", "criterion", "log10_gradient", "step"])


def _procrustes(A, target):
    """Orthogonal ``T`` minimising ``||A T - H||``: ``U V^T`` from the SVD ``A^T H = U S V^T`` (Schoenemann 1966)."""
    U, _, Vt = linalg.svd(A.T @ target)
    return U @ Vt


def _row_norms(A):
    """Row lengths for Kaiser normalisation, 1 for a row of zeros.

    A variable no factor explains has no direction to normalise; dividing by
    its zero length would fill the loadings with NaN. It stays a zero row and
    still counts among the ``p`` rows of the criterion, as in GPArotation
    since 2023 (``NormalizingWeight``).
    """
    norms = np.sqrt(np.sum(A**2, axis=1))
    return np.where(norms > 0, norms, 1.0)


def promax(A, power=4, normalize=False):
    """Promax rotation exactly as R's ``stats::promax`` defines it (Hendrickson & White 1964).

    1. ``V = varimax(A)`` with Kaiser normalisation;
    2. target ``Q = V |V|^{power - 1}`` (elementwise);
    3. least squares ``U = argmin ||V U - Q||``, columns rescaled by
       ``sqrt(diag((U^T U)^{-1}))``;
    4. loadings ``V U``, rotation matrix ``T_varimax U``.

    With ``normalize=True`` the rows of ``A`` are scaled to unit length before
    all four steps and back after, which is what ``psych::fa(rotate="promax")``
    does (``kaiser(f, rotate = "Promax")``). statsmodels' ``promax`` is a third
    variant; these are R's.

    Parameters
    ----------
    A : ndarray of shape (p, k)
        Unrotated loadings.
    power : int, default=4
        Power of the target (R's ``m``).
    normalize : bool, default=False
        Kaiser normalisation around the whole rotation (psych's variant).

    Returns
    -------
    Rotation
    """
    norms = _row_norms(A) if normalize else np.ones(len(A))
    varimax = rotate(A / norms[:, None], "varimax", normalize=True)
    V = varimax.loadings
    target = V * np.abs(V) ** (power - 1)
    # A factor with no loadings has an empty target column and would make the
    # least-squares fit singular (R's promax stops there); it is left as it is
    # and the others are fitted among themselves.
    loaded = np.sum(V**2, axis=0) > 0
    U = np.eye(V.shape[1])
    U[np.ix_(loaded, loaded)] = linalg.lstsq(V[:, loaded], target[:, loaded])[0]
    U = U * np.sqrt(np.diag(linalg.inv(U.T @ U)))
    T = varimax.rotation_matrix @ U
    return Rotation((V @ U) * norms[:, None], T, linalg.inv(T.T @ T))


def rotate(A, method, *, normalize=None, **kwargs):
    """Rotate a loading matrix.

    Parameters
    ----------
    A : ndarray of shape (p, k)
        Unrotated loadings.
    method : str
        The criterion, by its name here or GPArotation's (``"geominQ"``,
        ``"cfT"``, ...); see the table in ``docs/factor_analysis.md``.
        Orthogonal: varimax (orthomax, gamma = 1; Kaiser 1958), quartimax
        (gamma = 0), equamax, parsimax, cf_t, geomin_t, target,
        partial_target, bentler_t, infomax_t, entropy, bifactor_t, varimin.
        Oblique: promax (R's definition, :func:`promax`), oblimin, quartimin,
        geomin, cf_q, target_q, partial_target_q, bentler_q, infomax_q,
        oblimax, simplimax, bifactor_q.
    normalize : bool or None, default=None
        Kaiser normalisation: rotate the rows of ``A`` scaled to unit length,
        then scale back. None does what R does for ``method``: on for varimax
        (``stats::varimax``), off for the GPArotation criteria, and for promax
        ``stats::promax`` (whose varimax step normalises); True for promax is
        ``psych::fa``'s variant, see :func:`promax`.
    **kwargs
        The criterion's parameters, each under its name or GPArotation's:
        ``gamma`` (``gam``; oblimin, default 0), ``kappa`` (cf_t, cf_q,
        default 0; equamax ``k / (2 p)``, parsimax ``(k - 1) / (p + k - 2)``),
        ``delta`` (geomin, geomin_t; 0.01), ``target`` (``Target``; the target
        rotations, a ``(p, k)`` matrix, NaN for a free entry), ``weights``
        (``W``; partial targets, a ``(p, k)`` matrix of 1 for a specified
        entry and 0 for a free one), ``k`` (simplimax: how many loadings are
        near zero, default ``p``), ``power`` (``m``; promax, 4). For the
        iterative rotations, ``tol`` (``eps``; default 1e-6): stop when the
        Frobenius norm of the projected gradient falls below it, and
        ``max_iter`` (``maxit``; 2000).

    Returns
    -------
    Rotation
        With the iteration table and whether the iterations converged.

    Raises
    ------
    ValueError
        For an unknown rotation, or a parameter the rotation does not take.
    """
    A = np.asarray(A, dtype=np.float64)
    p, k = A.shape
    name, params = method_parameters(method, kwargs)
    if name == "promax":
        return promax(A, params["power"], normalize=bool(normalize))
    tol, max_iter = params["tol"], params["max_iter"]
    if not (isinstance(tol, (int, float, np.floating)) and tol > 0):
        raise ValueError(f"rotation tol={tol!r} must be a positive number")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"rotation max_iter={max_iter!r} must be a positive integer")
    vgQ = _criterion(name, params, p, k)
    if k < 2:
        return Rotation(A.copy(), np.eye(k), np.eye(k))
    if normalize is None:
        normalize = _R_NORMALIZES.get(name, False)
    norms = _row_norms(A) if normalize else np.ones(p)
    scaled = A / norms[:, None]
    kind = _METHODS[name][0]
    if name == "target" and not np.isnan(np.asarray(params["target"], dtype=np.float64)).any():
        T = _procrustes(scaled, np.asarray(params["target"], dtype=np.float64))
        return Rotation(A @ T, T, np.eye(k))
    # statsmodels logs log10 of the gradient norm each step; loadings that
    # start at the optimum (a zero gradient) make that a harmless -inf.
    # Orthogonal GPA moves continuously from its start and so stays among the
    # proper rotations (det T = 1). A criterion of the squared loadings does
    # not tell a reflection from a rotation, a target does: the best fit to a
    # target may need one, so the target rotations start from both.
    starts = [np.eye(k)]
    if kind == "orthogonal" and name in STRUCTURED[:4]:
        starts.append(np.diag(np.r_[np.ones(k - 1), -1.0]))
    best = None
    with np.errstate(divide="ignore"):
        for start in starts:
            fit = GPA(scaled, vgQ=lambda L: vgQ(L), T=start, rotation_method=kind, tol=tol, max_tries=max_iter)
            if best is None or fit[3][-1][1] < best[3][-1][1]:
                best = fit
    rotated, _, T, rows = best
    table = _table(rows)
    converged = bool(10.0 ** table["log10_gradient"].iloc[-1] < tol)
    if kind == "orthogonal":
        return Rotation(rotated * norms[:, None], T, np.eye(k), table, converged)
    # statsmodels returns Th with L = A (Th^T)^{-1} for oblique rotations.
    return Rotation(rotated * norms[:, None], linalg.inv(T.T), T.T @ T, table, converged)


def sort_factors(rotation, order=True):
    """Order factors by decreasing sum of squared loadings and make each column sum positive.

    The convention of R's ``factanal`` (``sortLoadings``); the rotation matrix
    and factor correlations are permuted and signed to match.

    Parameters
    ----------
    rotation : Rotation
    order : bool, default=True
        False keeps the factors' order and only sets their signs (bifactor:
        the general factor stays first).

    Returns
    -------
    Rotation
    """
    L = rotation.loadings
    order = np.argsort(-np.sum(L**2, axis=0), kind="stable") if order else np.arange(L.shape[1])
    L = L[:, order]
    signs = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    phi = rotation.factor_correlation[np.ix_(order, order)] * np.outer(signs, signs)
    return Rotation(L * signs, rotation.rotation_matrix[:, order] * signs, phi, rotation.table, rotation.converged)
