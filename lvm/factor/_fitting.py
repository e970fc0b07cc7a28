"""Estimation kernels of the factor model on a correlation matrix.

The model for standardised variables is ``R = L L^T + Psi`` with ``L`` the
``p x k`` loadings and ``Psi`` the diagonal uniquenesses. Maximum likelihood is
scale invariant, so the fit is made on the correlation matrix once, whatever
the number of rows; each iteration then costs ``O(p^2 k)`` or one ``p x p``
eigendecomposition. Notation follows Joreskog (1967) and Lawley & Maxwell (1971).
"""

import warnings

import numpy as np
from scipy import linalg, optimize

from .._lowrank import inner_factor
from ..exceptions import ConvergenceWarning

_LOG_2PI = np.log(2.0 * np.pi)

# Lower bound of a uniqueness on the correlation scale, as R's factanal and
# psych::fa use: a smaller one is a Heywood case, reported to the user.
UNIQUENESS_FLOOR = 0.005
# L-BFGS-B stops on the gradient (tol); this relative change of the objective,
# a few ulps, only ends runs whose gradient round-off will not let it reach tol.
_FTOL = 10 * np.finfo(np.float64).eps


def smc(R):
    """Squared multiple correlation of each variable with all the others: ``1 - 1 / diag(R^{-1})``.

    Parameters
    ----------
    R : ndarray of shape (p, p)
        Correlation matrix, positive definite.

    Returns
    -------
    ndarray of shape (p,)
    """
    chol = linalg.cho_factor(R, lower=True)
    inverse_diag = np.diag(linalg.cho_solve(chol, np.eye(len(R))))
    return 1.0 - 1.0 / inverse_diag


def ml_start(R, k):
    """Starting uniquenesses ``(1 - k / (2 p)) / diag(R^{-1})`` (Joreskog 1967; R's ``factanal``)."""
    p = len(R)
    return (1.0 - 0.5 * k / p) * (1.0 - smc(R))


def _scaled_eigen(psi, R, k, vectors=True):
    scale = 1.0 / np.sqrt(psi)
    scaled = R * scale[:, None] * scale[None, :]
    if not vectors:
        return linalg.eigh(scaled, eigvals_only=True)
    values, vecs = linalg.eigh(scaled)
    return values, vecs


def _loadings_from_eigen(psi, values, vectors, k):
    """``Psi^{1/2} U_k (E_k - I)^{1/2}`` from the ascending eigenpairs of ``Psi^{-1/2} R Psi^{-1/2}``."""
    top = vectors[:, ::-1][:, :k]
    return np.sqrt(psi)[:, None] * top * np.sqrt(np.maximum(values[::-1][:k] - 1.0, 0.0))


def ml_objective_and_gradient(psi, R, k):
    """ML discrepancy for given uniquenesses and its gradient, from one eigendecomposition.

    With ``e_j`` the eigenvalues of ``Psi^{-1/2} R Psi^{-1/2}``,
    ``F(Psi) = -sum_{j > k} (log e_j - e_j) + k - p``, which equals
    ``log|C| - log|R| + tr(C^{-1} R) - p`` at the best ``L`` for this ``Psi``
    (Joreskog 1967, eq. 12); its gradient is ``diag(L L^T + Psi - R) / psi^2``.

    Parameters
    ----------
    psi : ndarray of shape (p,)
    R : ndarray of shape (p, p)
    k : int

    Returns
    -------
    objective : float
    gradient : ndarray of shape (p,)
    """
    p = len(R)
    values, vectors = _scaled_eigen(psi, R, k)
    discarded = values[: p - k]
    objective = -np.sum(np.log(discarded) - discarded) + k - p
    loadings = _loadings_from_eigen(psi, values, vectors, k)
    return objective, (np.sum(loadings**2, axis=1) + psi - np.diag(R)) / psi**2


def ml_objective(psi, R, k):
    """ML discrepancy ``F(Psi)``; see :func:`ml_objective_and_gradient`."""
    p = len(R)
    discarded = _scaled_eigen(psi, R, k, vectors=False)[: p - k]
    return -np.sum(np.log(discarded) - discarded) + k - p


def ml_loadings(psi, R, k):
    """Best loadings for given uniquenesses: ``Psi^{1/2} U_k (E_k - I)^{1/2}``.

    ``U_k, E_k`` are the top eigenpairs of ``Psi^{-1/2} R Psi^{-1/2}``; the
    columns are orthogonal in the metric ``Psi^{-1}`` (``L^T Psi^{-1} L``
    diagonal), the usual ML identification.
    """
    values, vectors = _scaled_eigen(psi, R, k)
    return _loadings_from_eigen(psi, values, vectors, k)


def ml_gradient(psi, R, k):
    """Gradient of :func:`ml_objective`; see :func:`ml_objective_and_gradient`."""
    return ml_objective_and_gradient(psi, R, k)[1]


def fit_ml_quasi_newton(R, k, *, start=None, tol=1e-9, max_iter=1000, lower=UNIQUENESS_FLOOR, callback=None):
    """Maximum likelihood by L-BFGS-B on the uniquenesses, as R's ``factanal`` does.

    Parameters
    ----------
    R : ndarray of shape (p, p)
        Correlation matrix.
    k : int
        Number of factors.
    start : ndarray of shape (p,), optional
        Starting uniquenesses; :func:`ml_start` by default.
    tol : float
        Norm of the projected gradient at which L-BFGS-B stops.
    max_iter : int
        Most iterations.
    lower : float
        Uniqueness floor.
    callback : callable or None
        ``callback(objective)`` after every iteration.

    Returns
    -------
    dict
        ``uniquenesses``, ``loadings``, ``objective``, ``n_iter``, ``converged``, ``message``.
    """
    p = len(R)
    start = ml_start(R, k) if start is None else start
    result = optimize.minimize(
        ml_objective_and_gradient, np.clip(start, lower, 1.0), args=(R, k), jac=True, method="L-BFGS-B",
        bounds=[(lower, 1.0)] * p,
        # The objective sums p logarithms of numbers near 1: below a relative change
        # of about 100 p eps its decrease is rounding, not progress.
        options={"ftol": _FTOL * 10 * p, "gtol": tol, "maxiter": max_iter, "maxcor": 20},
        callback=_objective_callback(callback),
    )
    psi = result.x
    return {
        "uniquenesses": psi,
        "loadings": ml_loadings(psi, R, k),
        "objective": float(result.fun),
        "n_iter": int(result.nit),
        "converged": bool(result.success),
        "message": str(result.message),
    }


def loglik_standardised(R, loadings, psi):
    """Mean log-likelihood per sample of standardised data with correlation ``R``.

    ``-(p log 2 pi + log|C| + tr(C^{-1} R)) / 2`` with ``C = L L^T + Psi``,
    through the Woodbury identity.
    """
    p = len(R)
    chol, logdet = inner_factor(loadings, psi)
    weighted = loadings / psi[:, None]
    RW = R @ weighted
    inner = linalg.cho_solve((chol, True), weighted.T @ RW)
    trace = np.sum(np.diag(R) / psi) - np.trace(inner)
    return -0.5 * (p * _LOG_2PI + logdet + trace)


def em_step(R, loadings, psi, lower=UNIQUENESS_FLOOR):
    """One EM step for the factor model on the correlation matrix (Rubin & Thayer 1982).

    With ``B = (I + L^T Psi^{-1} L)^{-1} L^T Psi^{-1}`` (so that
    ``E[z | x] = B x``) and ``A = I - B L + B R B^T`` (the average
    ``E[z z^T]``): ``L' = R B^T A^{-1}`` and ``Psi' = diag(R - L' B R)``,
    floored at ``lower``; the floor keeps every step an ascent step because
    each ``psi_j`` maximises a unimodal function.

    Returns
    -------
    loadings : ndarray of shape (p, k)
    psi : ndarray of shape (p,)
    """
    k = loadings.shape[1]
    chol, _ = inner_factor(loadings, psi)
    B = linalg.cho_solve((chol, True), (loadings / psi[:, None]).T)
    RBt = R @ B.T
    second = np.eye(k) - B @ loadings + B @ RBt
    new_loadings = linalg.solve(second, RBt.T, assume_a="pos").T
    new_psi = np.diag(R) - np.sum(new_loadings * RBt, axis=1)
    return new_loadings, np.maximum(new_psi, lower)


def uls_objective(psi, R, k):
    """Unweighted least squares (minres) discrepancy for given uniquenesses.

    ``F(Psi) = 1/2 ||R - Psi - L L^T||_F^2`` at the best ``L``, i.e. half the
    sum of squares of the eigenvalues of ``R - Psi`` beyond the ``k`` largest
    (and of the negative ones among them) (Harman & Jones 1966).
    """
    values = linalg.eigh(R - np.diag(psi), eigvals_only=True)[::-1]
    kept = values[:k]
    return 0.5 * (np.sum(values[k:] ** 2) + np.sum(np.minimum(kept, 0.0) ** 2))


def uls_loadings(psi, R, k):
    """Best loadings for given uniquenesses under ULS: ``U_k diag(max(l, 0))^{1/2}`` of ``R - Psi``."""
    values, vectors = linalg.eigh(R - np.diag(psi))
    values, vectors = values[::-1][:k], vectors[:, ::-1][:, :k]
    return vectors * np.sqrt(np.maximum(values, 0.0))


def uls_gradient(psi, R, k):
    """Gradient of :func:`uls_objective`: ``diag(L L^T + Psi - R)``."""
    loadings = uls_loadings(psi, R, k)
    return np.sum(loadings**2, axis=1) + psi - np.diag(R)


def fit_minres(R, k, *, tol=1e-9, max_iter=1000, lower=UNIQUENESS_FLOOR, callback=None):
    """Minimum residual (unweighted least squares) fit, as ``psych::fa(fm="minres")``.

    Minimises :func:`uls_objective` by L-BFGS-B from ``Psi = 1 - smc``;
    ``callback(objective)``, if given, runs after every iteration.

    Returns
    -------
    dict
        ``uniquenesses``, ``loadings``, ``objective``, ``n_iter``, ``converged``, ``message``.
    """
    p = len(R)
    start = np.clip(np.diag(R) - smc(R), lower, 1.0)
    result = optimize.minimize(
        uls_objective, start, args=(R, k), jac=uls_gradient, method="L-BFGS-B",
        bounds=[(lower, 1.0)] * p, options={"ftol": _FTOL, "gtol": tol, "maxiter": max_iter},
        callback=_objective_callback(callback),
    )
    loadings = uls_loadings(result.x, R, k)
    return {
        "uniquenesses": np.diag(R) - np.sum(loadings**2, axis=1),
        "loadings": loadings,
        "objective": float(result.fun),
        "n_iter": int(result.nit),
        "converged": bool(result.success),
        "message": str(result.message),
    }


def fit_principal_axis(R, k, *, tol=1e-9, max_iter=1000, callback=None):
    """Iterated principal axis factoring (Thurstone 1931; ``psych::fa(fm="pa")``).

    Starting from the squared multiple correlations, the communalities are
    put on the diagonal of ``R``, its top ``k`` eigenpairs give the loadings,
    and their row sums of squares the next communalities, until the largest
    change is below ``tol``. ``callback(objective)``, if given, runs after
    every iteration with half the sum of squared off-diagonal residuals.

    Returns
    -------
    dict
        ``uniquenesses``, ``loadings``, ``objective``, ``n_iter``, ``converged``.
    """
    communality = smc(R)
    reduced = R.copy()
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        reduced[np.diag_indices_from(reduced)] = communality
        values, vectors = linalg.eigh(reduced)
        loadings = vectors[:, ::-1][:, :k] * np.sqrt(np.maximum(values[::-1][:k], 0.0))
        updated = np.sum(loadings**2, axis=1)
        change = np.max(np.abs(updated - communality))
        communality = updated
        if callback is not None:
            callback(_off_diagonal_misfit(R, loadings))
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"principal axis factoring did not converge in max_iter={max_iter} iterations "
            f"(last change in communality {change:.3g}); increase max_iter or use method='minres'.",
            ConvergenceWarning, stacklevel=3,
        )
    return {
        "uniquenesses": np.diag(R) - communality,
        "loadings": loadings,
        "objective": _off_diagonal_misfit(R, loadings),
        "n_iter": n_iter,
        "converged": converged,
    }


def _off_diagonal_misfit(R, loadings):
    """Half the sum of squared off-diagonal residuals of ``R - L L^T``."""
    residual = R - loadings @ loadings.T
    np.fill_diagonal(residual, 0.0)
    return 0.5 * float(np.sum(residual**2))


def _objective_callback(callback):
    """scipy's per-iteration callback, reduced to ``callback(objective)``."""
    if callback is None:
        return None

    def report(intermediate_result):
        callback(float(intermediate_result.fun))

    return report
