"""Factor rotations, through statsmodels' gradient projection algorithm.

Every rotation returns loadings ``L = A T`` for the unrotated ``A``, the
rotation matrix ``T`` and the factor correlations ``Phi = (T^T T)^{-1}``
(the identity for orthogonal rotations). This is R's convention: the
``rotmat`` of ``factanal`` and ``psych::fa``.

Which rotations normalise rows first (Kaiser 1958) follows R: ``stats::varimax``
and ``stats::promax`` do; GPArotation's functions (quartimax, oblimin,
geomin, ...), which ``psych::fa`` calls, do not, unless asked.
"""

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from statsmodels.multivariate.factor_rotation import rotate_factors

# statsmodels' rotate_factors has no geomin criterion; its public GPA routine
# takes any criterion with its gradient, which is all geomin needs.
from statsmodels.multivariate.factor_rotation._gpa_rotation import GPA

# Gradient norm at which the GPA iterations stop: ten times tighter than
# GPArotation's 1e-5. Much lower is out of reach: near the optimum the
# criterion's changes fall below round-off and the line search stalls at a
# gradient norm of about 1e-7.
_GPA_TOL = 1e-6
_GPA_MAX_ITER = 2000

ORTHOGONAL = ("varimax", "quartimax", "equamax")
OBLIQUE = ("promax", "oblimin", "quartimin", "geomin")
# Kaiser normalisation by default exactly where R applies it.
_R_NORMALIZES = {"varimax": True, "promax": False, "quartimax": False, "equamax": False,
                 "oblimin": False, "quartimin": False, "geomin": False}


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
    """

    loadings: np.ndarray
    rotation_matrix: np.ndarray
    factor_correlation: np.ndarray


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


def _gpa(A, method, gamma, delta):
    kwargs = {"algorithm": "gpa", "tol": _GPA_TOL, "max_tries": _GPA_MAX_ITER}
    if method == "varimax":
        return rotate_factors(A, "varimax", **kwargs)
    if method == "quartimax":
        return rotate_factors(A, "quartimax", **kwargs)
    if method == "equamax":
        # Saunders' (1962) equamax is orthomax with gamma = k / 2, which for
        # orthogonal rotations is the Crawford-Ferguson criterion with
        # kappa = k / (2 p), as GPArotation and psych define it; statsmodels'
        # own "equamax" uses gamma = 1 / p, a different criterion.
        p, k = A.shape
        return rotate_factors(A, "CF", k / (2.0 * p), "orthogonal", **kwargs)
    if method in ("oblimin", "quartimin"):
        return rotate_factors(A, "oblimin", gamma if method == "oblimin" else 0.0, "oblique", **kwargs)
    if method == "geomin":
        rotated, _, T, _ = GPA(A, vgQ=lambda L: geomin_criterion(L, delta), rotation_method="oblique",
                               tol=_GPA_TOL, max_tries=_GPA_MAX_ITER)
        return rotated, T
    raise ValueError(f"unknown rotation {method!r}")


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


def rotate(A, method, *, normalize=None, gamma=0.0, delta=0.01, power=4):
    """Rotate a loading matrix.

    Parameters
    ----------
    A : ndarray of shape (p, k)
        Unrotated loadings.
    method : {"varimax", "quartimax", "equamax", "promax", "oblimin", "quartimin", "geomin"}
        Orthogonal: varimax (orthomax, gamma = 1; Kaiser 1958), quartimax
        (gamma = 0), equamax (gamma = k / 2). Oblique: promax (R's definition,
        :func:`promax`), oblimin (Jennrich 2002, with ``gamma``; 0 is
        quartimin), geomin (Yates 1987, with ``delta``).
    normalize : bool or None, default=None
        Kaiser normalisation: rotate the rows of ``A`` scaled to unit length,
        then scale back. None does what R does for ``method``: on for varimax
        (``stats::varimax``), off for the GPArotation criteria, and for promax
        ``stats::promax`` (whose varimax step normalises); True for promax is
        ``psych::fa``'s variant, see :func:`promax`.
    gamma : float, default=0.0
        Oblimin parameter.
    delta : float, default=0.01
        Geomin parameter.
    power : int, default=4
        Promax power.

    Returns
    -------
    Rotation
    """
    A = np.asarray(A, dtype=np.float64)
    k = A.shape[1]
    if method == "promax":
        return promax(A, power, normalize=bool(normalize))
    if k < 2:
        return Rotation(A.copy(), np.eye(k), np.eye(k))
    if normalize is None:
        normalize = _R_NORMALIZES[method]
    norms = _row_norms(A) if normalize else np.ones(len(A))
    # statsmodels logs log10 of the gradient norm each step; loadings that
    # start at the optimum (a zero gradient) make that a harmless -inf.
    with np.errstate(divide="ignore"):
        rotated, T = _gpa(A / norms[:, None], method, gamma, delta)
    phi = np.eye(k) if method in ORTHOGONAL else T.T @ T
    # statsmodels returns Th with L = A (Th^T)^{-1} for oblique rotations.
    matrix = T if method in ORTHOGONAL else linalg.inv(T.T)
    return Rotation(rotated * norms[:, None], matrix, phi)


def sort_factors(rotation):
    """Order factors by decreasing sum of squared loadings and make each column sum positive.

    The convention of R's ``factanal`` (``sortLoadings``); the rotation matrix
    and factor correlations are permuted and signed to match.

    Parameters
    ----------
    rotation : Rotation

    Returns
    -------
    Rotation
    """
    L = rotation.loadings
    order = np.argsort(-np.sum(L**2, axis=0), kind="stable")
    L = L[:, order]
    signs = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    phi = rotation.factor_correlation[np.ix_(order, order)] * np.outer(signs, signs)
    return Rotation(L * signs, rotation.rotation_matrix[:, order] * signs, phi)
