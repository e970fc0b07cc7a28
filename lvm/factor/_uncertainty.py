"""Asymptotic standard errors of a maximum-likelihood factor solution, by the delta method through the estimator.

The reported solution (standardised loadings after rotation, sorting and
sign conventions; uniquenesses; factor correlations) is a smooth function
``theta(S)`` of the sample covariance matrix ``S``. Under multivariate
normality ``sqrt(n) (vech S - vech Sigma)`` is asymptotically normal with
covariance ``Gamma = 2 D+ (Sigma (x) Sigma) D+^T`` (Browne 1984), that is
``Cov(s_ij, s_kl) = (sigma_ik sigma_jl + sigma_il sigma_jk) / n``, so

    Cov(theta) = J Gamma J^T / n,    J = d theta / d vech S,

with ``Sigma`` the model-implied matrix, where ``J`` is taken too. ``J`` is
taken by central finite differences: each of the ``p (p + 1) / 2`` distinct
entries of ``Sigma`` is moved both ways, the model refitted from the fitted solution, rotated as the fit
was, and its factors matched to the fitted ones in order and sign. The
estimates are invariant to the scale of the variables, so ``S`` is taken on
the correlation scale, and the standardisation of each perturbed matrix
carries the sampling error of the standard deviations into the standardised
loadings and uniquenesses.

With both at the model this is the inverse expected information at the
estimate, the standard errors of Lawley & Maxwell (1971, ch. 5) and of
lavaan's ``efa()`` (``information = "expected"``); unlike the information route it
needs no identification constraints and no derivative of the rotation
criterion, whose implicit differentiation Jennrich (1973, 1974) worked out
for the rotated and oblique cases, and it gives the same asymptotic
covariance.

References
----------
Browne, M. W. (1984). Asymptotically distribution-free methods for the
analysis of covariance structures. British Journal of Mathematical and
Statistical Psychology, 37, 62-83.

Jennrich, R. I. (1973). Standard errors for obliquely rotated factor
loadings. Psychometrika, 38, 593-604.

Jennrich, R. I. (1974). Simplified formulae for standard errors in
maximum-likelihood factor analysis. British Journal of Mathematical and
Statistical Psychology, 27, 122-131.

Lawley, D. N. & Maxwell, A. E. (1971). Factor Analysis as a Statistical
Method (2nd ed.). London: Butterworths.
"""

import warnings
from collections import namedtuple

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..exceptions import ConvergenceWarning
from . import _fitting
from .rotation import method_name, method_parameters

StandardErrors = namedtuple("StandardErrors", ["loadings", "uniquenesses", "factor_correlation", "covariance"])
StandardErrors.__doc__ = """Asymptotic standard errors of a factor solution, each shaped as the estimate it belongs to.

``covariance`` is the asymptotic covariance matrix of the stacked estimates
``(vec(loadings) row by row, uniquenesses, factor correlations row by row)``.
"""

# Central differences on the correlation scale: truncation error ~ h^2 and
# refit error ~ (rotation tolerance) / h. At h = 1e-3 halving the step moves
# the standard errors by under 1e-4 relative (4e-5 for varimax, 5e-6 for
# oblimin and 1.5e-5 unrotated on 6 variables and 2 factors).
_STEP = 1e-3
_NEWTON_STEPS = 4
# The refitted rotations must reach their optimum closely, or the differences
# measure where the iteration stopped: geomin's gradient projection creeps, and
# stopped at 60 iterations its standard errors changed 14-fold with the step.
# Up to 1000 iterations to 1e-7 (not tighter: at 1e-8 GPA's step search fails at
# round-off and each refit crawls) make the step immaterial on HS: 1e-3 against
# 2e-3 moves them 2.3e-4 relative at most (geomin), 4e-5 (varimax, oblimin).
_ROTATION_TOL = 1e-7
_ROTATION_MAX_ITER = 1000


def _tight_rotation(fa):
    """``fa`` with its rotation stopped ten times tighter than the fit's: differences need a precise optimum."""
    if fa.rotation in (None, "none"):
        return fa
    kwargs = {key: value for key, value in (fa.rotation_kwargs or {}).items()
              if key not in ("tol", "eps", "max_iter", "maxit")}
    tight = dict(kwargs, tol=_ROTATION_TOL, max_iter=_ROTATION_MAX_ITER)
    try:
        method_parameters(fa.rotation, tight)
    except ValueError:
        # Promax and the full orthogonal target do not iterate: closed form.
        tight = kwargs
    return clone(fa).set_params(rotation_kwargs=tight)


def _solution(fa, R, k, start, pre_rotation):
    """Rotated standardised loadings, uniquenesses and factor correlations of the ML fit to ``R``.

    ``R`` is within a small step of the fitted matrix, so Newton's method on
    the free uniquenesses from the fitted ones converges in a few steps, to
    machine precision (L-BFGS-B stops at an objective change near round-off).
    """
    psi = start.copy()
    free = psi > _fitting.UNIQUENESS_FLOOR * (1 + 1e-6)
    for _ in range(_NEWTON_STEPS):
        gradient = _fitting.ml_gradient(psi, R, k)[free]
        hessian = _fitting.ml_hessian(psi, R, k)[np.ix_(free, free)]
        psi[free] -= np.linalg.solve(hessian, gradient)
    psi = np.maximum(psi, _fitting.UNIQUENESS_FLOOR)
    with warnings.catch_warnings():
        # The tight tolerance is near what the gradient projection can reach.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # An orthogonal criterion depends on the loadings only: starting from
        # the fitted rotation leaves the gradient projection a few steps.
        rotation = fa._rotate(_fitting.ml_loadings(psi, R, k) @ pre_rotation)
    return rotation.loadings, psi, rotation.factor_correlation


def _align(loadings, phi, base):
    """Permute and sign the factors of ``loadings`` to match ``base``; ``phi`` follows."""
    cross = base.T @ loadings
    rows, cols = linear_sum_assignment(-np.abs(cross))
    order = cols[np.argsort(rows)]
    signs = np.sign(cross[np.arange(len(order)), order])
    signs[signs == 0] = 1.0
    return loadings[:, order] * signs, phi[np.ix_(order, order)] * np.outer(signs, signs)


def _pack(loadings, psi, phi):
    return np.concatenate([loadings.ravel(), psi, phi.ravel()])


def standard_errors(fa, step=_STEP):
    """Asymptotic standard errors of a fitted ML :class:`~lvm.factor.FactorAnalysis` solution.

    Parameters
    ----------
    fa : FactorAnalysis
        Fitted with ``method="ml"`` on complete data or a covariance matrix.
    step : float
        Central-difference step on the correlation scale.

    Returns
    -------
    StandardErrors
    """
    check_is_fitted(fa)
    if fa.method != "ml":
        raise ValueError(f"FactorAnalysis: standard errors are those of maximum likelihood (method='ml'); this "
                         f"model was fitted with method={fa.method!r}.")
    if fa.correlation_source_ not in ("sample", "matrix"):
        raise ValueError("FactorAnalysis: standard errors assume a complete-data sample covariance; this model "
                         f"was fitted from a {fa.correlation_source_!r} correlation matrix (missing data).")
    varying = fa.noise_variance_ > 0
    base_loadings = fa.loadings_array()[varying]
    base_psi = fa.uniquenesses_[varying]
    base_phi = np.asarray(fa.factor_correlation_, dtype=np.float64)
    q, k = base_loadings.shape
    tight = _tight_rotation(fa)
    oblique = fa.rotation not in (None, "none") and method_name(fa.rotation) in _oblique_names()
    pre_rotation = np.eye(k) if oblique else np.asarray(fa.rotation_matrix_, dtype=np.float64)

    # The model-implied correlation matrix: Gamma is evaluated at the model.
    sigma = base_loadings @ base_phi @ base_loadings.T + np.diag(base_psi)
    pairs = [(i, j) for i in range(q) for j in range(i, q)]
    n = fa.n_samples_
    gamma = np.array([[(sigma[i, a] * sigma[j, b] + sigma[i, b] * sigma[j, a]) / n for a, b in pairs]
                      for i, j in pairs])

    base = _pack(base_loadings, base_psi, base_phi)
    jacobian = np.empty((base.size, len(pairs)))
    # The derivative is taken at the model, as Gamma is: that is the inverse
    # expected information at the estimate (Lawley & Maxwell 1971; lavaan's
    # information = "expected"). At the sample matrix instead it differs by as
    # much as the model misfits (up to 39% on Holzinger-Swineford, 3 factors).
    for col, (i, j) in enumerate(pairs):
        sides = []
        for sign in (1.0, -1.0):
            S = sigma.copy()
            S[i, j] += sign * step
            if i != j:
                S[j, i] += sign * step
            sd = np.sqrt(np.diag(S))
            loadings, psi, phi = _solution(tight, S / np.outer(sd, sd), k, base_psi, pre_rotation)
            loadings, phi = _align(loadings, phi, base_loadings)
            sides.append(_pack(loadings, psi, phi))
        jacobian[:, col] = (sides[0] - sides[1]) / (2 * step)
    covariance = jacobian @ gamma @ jacobian.T
    se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))

    loadings_se = np.zeros((len(varying), k))
    loadings_se[varying] = se[: q * k].reshape(q, k)
    psi_se = np.zeros(len(varying))
    psi_se[varying] = se[q * k: q * k + q]
    # A uniqueness held at the floor (Heywood case) sits on the boundary, where
    # the normal approximation does not hold.
    heywood = np.zeros(len(varying), dtype=bool)
    heywood[np.flatnonzero(varying)[base_psi <= _fitting.UNIQUENESS_FLOOR * (1 + 1e-6)]] = True
    psi_se[heywood] = np.nan
    phi_se = se[q * k + q:].reshape(k, k)
    if not oblique:
        phi_se = np.zeros((k, k))
    if hasattr(fa, "feature_names_in_"):
        names, factors = list(fa.loadings_.index), list(fa.loadings_.columns)
        loadings_se = pd.DataFrame(loadings_se, index=names, columns=factors)
        psi_se = pd.Series(psi_se, index=names)
        phi_se = pd.DataFrame(phi_se, index=factors, columns=factors)
    return StandardErrors(loadings_se, psi_se, phi_se, covariance)


def _oblique_names():
    from .rotation import _METHODS

    return {name for name, spec in _METHODS.items() if spec[0] == "oblique"}
