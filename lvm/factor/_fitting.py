"""Estimation kernels of the factor model on a correlation matrix.

The model for standardised variables is ``R = L L^T + Psi`` with ``L`` the
``p x k`` loadings and ``Psi`` the diagonal uniquenesses. Maximum likelihood is
scale invariant, so the fit is made on the correlation matrix once, whatever
the number of rows; each iteration then costs ``O(p^2 k)`` or one ``p x p``
eigendecomposition. Notation follows Joreskog (1967) and Lawley & Maxwell (1971).
"""

import dataclasses
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
# A uniqueness this close (relatively) to a bound is held by it.
_BOUND_RTOL = 1e-6
# A Hessian eigenvalue below -1e-6 times the largest one is a direction of
# descent, not round-off: the Hessian is exact to about 1e-9 relative.
_CURVATURE_RTOL = 1e-6
# Length of the step off a saddle point, on the scale of the uniquenesses
# (0 to 1): large enough for L-BFGS-B to see a gradient far above its
# tolerance, small enough to stay in the saddle's basin of descent.
_ESCAPE_STEP = 0.01
# Saddle points left, one after the other, before giving up.
_MAX_ESCAPES = 5


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


def ml_start(R, k, lower=UNIQUENESS_FLOOR):
    """Starting uniquenesses ``(1 - k / (2 p)) / diag(R^{-1})`` (Joreskog 1967; R's ``factanal``), within bounds.

    With nearly collinear variables ``1 / diag(R^{-1})`` falls below the
    floor; such a start lies outside the model every later step keeps to,
    and its likelihood is higher than any feasible one, so EM would appear to
    lose likelihood on its first step. The start is clipped to ``[lower, 1]``,
    as ``factanal`` clips it for L-BFGS-B.
    """
    p = len(R)
    return np.clip((1.0 - 0.5 * k / p) * (1.0 - smc(R)), lower, 1.0)


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


def ml_hessian(psi, R, k):
    """Hessian of the ML discrepancy :func:`ml_objective` in the uniquenesses.

    With ``M = Psi^{-1/2} R Psi^{-1/2} = U E U^T`` (eigenvalues ``e``, the
    ``k`` largest kept, the set ``D`` of the others discarded) and
    ``F = sum_{m in D} (e_m - log e_m - 1)``, a step ``t`` in ``psi`` moves
    ``M`` by ``-(A M + M A)`` with ``A = diag(t / (2 psi))``, and to second
    order by ``3 A^2 M + 2 A M A + 3 M A^2``. Second-order perturbation of the
    eigenvalues (Magnus & Neudecker 1999, ch. 8) then gives, with
    ``S_f = U_D f(E_D) U_D^T`` and ``P_l = u_l u_l^T``,

    ``4 psi_i psi_j H_ij = 2 (S_E o S_{1/E} + S_1 o S_1 + M o S_{1 - 1/E})_ij
    + 2 sum_{l not in D} (P_l o S_{h_l})_ij + 6 delta_ij (S_{E - 1})_ii``,

    where ``o`` is the elementwise product and
    ``h_l(e) = (1 - 1/e) (e_l + e)^2 / (e - e_l)``; the pairs of discarded
    eigenvalues collapse to the first three products because
    ``(f'(e_l) - f'(e_m)) / (e_l - e_m) = 1 / (e_l e_m)`` for
    ``f(e) = e - log e``. The cost is ``O(k p^3)``.

    Parameters
    ----------
    psi : ndarray of shape (p,)
    R : ndarray of shape (p, p)
    k : int

    Returns
    -------
    ndarray of shape (p, p)
    """
    p = len(R)
    values, vectors = _scaled_eigen(psi, R, k)
    kept_values, kept_vectors = values[p - k:], vectors[:, p - k:]
    dropped, U = values[: p - k], vectors[:, : p - k]

    def spectral(weights):
        return (U * weights) @ U.T

    M = (vectors * values) @ vectors.T
    curvature = 2.0 * (spectral(dropped) * spectral(1.0 / dropped) + spectral(np.ones_like(dropped)) ** 2
                       + M * spectral(1.0 - 1.0 / dropped))
    for value, vector in zip(kept_values, kept_vectors.T, strict=True):
        mixed = (1.0 - 1.0 / dropped) * (value + dropped) ** 2 / (dropped - value)
        curvature += 2.0 * np.outer(vector, vector) * spectral(mixed)
    curvature[np.diag_indices(p)] += 6.0 * np.diag(spectral(dropped - 1.0))
    return curvature / (4.0 * np.outer(psi, psi))


def _minimise_ml(start, R, k, tol, max_iter, lower, callback=None):
    p = len(R)
    return optimize.minimize(
        ml_objective_and_gradient, np.clip(start, lower, 1.0), args=(R, k), jac=True, method="L-BFGS-B",
        bounds=[(lower, 1.0)] * p,
        # The objective sums p logarithms of numbers near 1: below a relative change
        # of about 100 p eps its decrease is rounding, not progress.
        options={"ftol": _FTOL * 10 * p, "gtol": tol, "maxiter": max_iter, "maxcor": 20},
        callback=_objective_callback(callback),
    )


def _minimise_ml_path(start, R, k, tol, max_iter, lower):
    """:func:`_minimise_ml` and the objective after each of its iterations."""
    path = []
    return _minimise_ml(start, R, k, tol, max_iter, lower, path.append), path


def free_curvature(psi, R, k, lower=UNIQUENESS_FLOOR):
    """Smallest eigenvalue of the Hessian of :func:`ml_objective` over the uniquenesses inside their bounds.

    A uniqueness held at the floor or at 1 is fixed by its bound, so only
    the others can move: the second-order condition for a minimum is that
    this eigenvalue is not negative.

    Parameters
    ----------
    psi : ndarray of shape (p,)
    R : ndarray of shape (p, p)
    k : int
    lower : float
        Uniqueness floor.

    Returns
    -------
    value : float
        Smallest eigenvalue; ``inf`` when every uniqueness is at a bound.
    direction : ndarray of shape (p,)
        Its unit eigenvector, zero at the bounds, signed so that its largest
        entry is positive.
    scale : float
        Largest absolute eigenvalue, for judging round-off.
    """
    free = (psi > lower * (1 + _BOUND_RTOL)) & (psi < 1.0 - _BOUND_RTOL)
    direction = np.zeros(len(psi))
    if not free.any():
        return np.inf, direction, 0.0
    values, vectors = linalg.eigh(ml_hessian(psi, R, k)[np.ix_(free, free)])
    vector = vectors[:, 0]
    direction[free] = vector if vector[np.argmax(np.abs(vector))] > 0 else -vector
    return float(values[0]), direction, float(np.max(np.abs(values)))


def fit_ml_quasi_newton(R, k, *, start=None, tol=1e-9, max_iter=1000, lower=UNIQUENESS_FLOOR, callback=None):
    """Maximum likelihood by L-BFGS-B on the uniquenesses, as R's ``factanal`` does, then the second-order check.

    L-BFGS-B stops wherever the projected gradient vanishes, which on a
    symmetric problem can be a saddle point of the discrepancy (``factanal``
    stops there too). At the end the Hessian (:func:`ml_hessian`) over the
    uniquenesses not held by a bound is checked; while its smallest eigenvalue
    is negative, the fit restarts from the point moved a short step along the
    eigenvector, each way, and keeps the lower discrepancy (a step along a
    direction of negative curvature; More & Sorensen 1979, Math. Programming
    16, 1-20, doi:10.1007/BF01582091). The point returned is then a local
    minimum.

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
    start = ml_start(R, k) if start is None else start
    result, path = _minimise_ml_path(start, R, k, tol, max_iter, lower)
    n_iter = int(result.nit)
    for _ in range(_MAX_ESCAPES):
        curvature, direction, scale = free_curvature(result.x, R, k, lower)
        if curvature >= -_CURVATURE_RTOL * max(scale, 1.0):
            break
        trials = [_minimise_ml_path(result.x + sign * _ESCAPE_STEP * direction, R, k, tol, max_iter, lower)
                  for sign in (1.0, -1.0)]
        n_iter += sum(int(trial.nit) for trial, _ in trials)
        best, best_path = min(trials, key=lambda trial: trial[0].fun)
        if not best.fun < result.fun - _FTOL * 10 * len(R) * max(abs(result.fun), 1.0):
            break
        result = best
        path += best_path
    if callback is not None:
        # Reported after the fact, so that the history follows the path kept,
        # not the trial that lost.
        for value in path:
            callback(value)
    psi = result.x
    return {
        "uniquenesses": psi,
        "loadings": ml_loadings(psi, R, k),
        "objective": float(result.fun),
        "n_iter": n_iter,
        "converged": bool(result.success),
        "message": str(result.message),
    }


def em_leave_saddles(run, R, k, resume):
    """Continue an EM run of the factor model from beside the saddle point where it stopped, if it did.

    EM keeps the symmetries of its start, so on a symmetric problem it can
    converge to a saddle point of the discrepancy, as L-BFGS-B can. The same
    second-order check as :func:`fit_ml_quasi_newton` applies (see
    :func:`free_curvature`): while the Hessian has a negative eigenvalue, EM
    resumes from the uniquenesses moved a short step along its eigenvector,
    each way, with their best loadings (:func:`ml_loadings`), which raises the
    likelihood; the better run continues the history.

    Parameters
    ----------
    run : EMResult
        The finished run, with ``params`` ``loadings`` and ``uniquenesses``.
    R : ndarray of shape (p, p)
    k : int
    resume : callable
        ``resume(params) -> EMResult``, EM from ``params``.

    Returns
    -------
    EMResult
    """
    for _ in range(_MAX_ESCAPES):
        psi = run.params["uniquenesses"]
        curvature, direction, scale = free_curvature(psi, R, k)
        if curvature >= -_CURVATURE_RTOL * max(scale, 1.0):
            break
        trials = []
        for sign in (1.0, -1.0):
            start = np.clip(psi + sign * _ESCAPE_STEP * direction, UNIQUENESS_FLOOR, 1.0)
            trials.append(resume({"loadings": ml_loadings(start, R, k), "uniquenesses": start}))
        best = max(trials, key=lambda trial: trial.loglik)
        if not best.loglik > run.loglik + _FTOL * 10 * len(R) * max(abs(run.loglik), 1.0):
            break
        run = dataclasses.replace(best, history=np.concatenate([run.history, best.history]),
                                  n_iter=run.n_iter + sum(trial.n_iter for trial in trials))
    return run


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


def em_settled(previous, params, R, tol, lower=UNIQUENESS_FLOOR):
    """Whether an EM iterate of the factor model is stationary to within ``tol``.

    On a correlation matrix ``R``: the largest entry of the gradient of the
    discrepancy (:func:`ml_gradient_at`), projected on the floor of the
    uniquenesses, below ``tol``, the test L-BFGS-B applies. EM's rate of
    convergence can be close to 1, so a small step alone does not mean
    that the limit is near. With missing entries (``R`` None) the gradient
    needs a pass over the data; the largest change of an implied
    correlation (:func:`implied_change`) must fall below ``tol`` instead.

    Parameters
    ----------
    previous, params : dict
        Two successive EM iterates.
    R : ndarray of shape (p, p) or None
    tol : float
    lower : float
        Uniqueness floor.

    Returns
    -------
    bool
    """
    if R is None:
        return implied_change(previous, params) < tol
    psi = params["uniquenesses"]
    gradient_loadings, gradient_psi = ml_gradient_at(R, params["loadings"], psi)
    # At the floor only a move upwards is allowed: a positive gradient there is no fault.
    gradient_psi = np.where(psi <= lower * (1 + _BOUND_RTOL), np.minimum(gradient_psi, 0.0), gradient_psi)
    return max(np.max(np.abs(gradient_loadings)), np.max(np.abs(gradient_psi))) < tol


def implied_change(previous, params):
    """Largest change of the implied correlations ``(L L^T + Psi)_ij / sqrt(C_ii C_jj)`` between two EM iterates.

    Invariant to the rotation of the loadings and to the units of the data;
    ``params`` hold ``loadings`` and either ``uniquenesses`` (correlation
    scale) or ``noise_variance`` (data scale).

    Parameters
    ----------
    previous, params : dict

    Returns
    -------
    float
    """
    def implied(values):
        loadings = values["loadings"]
        noise = values["uniquenesses"] if "uniquenesses" in values else values["noise_variance"]
        return loadings @ loadings.T + np.diag(noise)

    before, after = implied(previous), implied(params)
    scale = np.sqrt(np.diag(after))
    return float(np.max(np.abs(after - before) / np.outer(scale, scale)))


def ml_gradient_at(R, loadings, psi):
    """Gradient of ``F(L, Psi) = log|C| + tr(C^{-1} R)`` at any loadings, ``C = L L^T + Psi``.

    ``dF/dPsi = diag(G)`` and ``dF/dL = 2 G L`` with
    ``G = C^{-1} (C - R) C^{-1}`` (Lawley & Maxwell 1971, ch. 4), formed in
    ``O(p^2 k)`` through the Woodbury identity
    ``C^{-1} = Psi^{-1} - W M^{-1} W^T``, ``W = Psi^{-1} L``,
    ``M = I + L^T Psi^{-1} L``. EM does not keep ``L`` at its best value for
    ``Psi``, so this, not the profile gradient :func:`ml_gradient`, tells how
    far an EM iterate is from a stationary point.

    Parameters
    ----------
    R : ndarray of shape (p, p)
    loadings : ndarray of shape (p, k)
    psi : ndarray of shape (p,)

    Returns
    -------
    gradient_loadings : ndarray of shape (p, k)
    gradient_psi : ndarray of shape (p,)
    """
    k = loadings.shape[1]
    W = loadings / psi[:, None]
    chol = linalg.cho_factor(np.eye(k) + loadings.T @ W, lower=True)
    WM = linalg.cho_solve(chol, W.T).T  # W M^{-1}
    RW = R @ W
    RWM = linalg.cho_solve(chol, RW.T).T  # R W M^{-1}
    WMinner = WM @ (W.T @ RW)
    # C^{-1} R C^{-1} L = (R W / psi - W M^{-1} W^T R W) M^{-1}
    sandwich_loadings = linalg.cho_solve(chol, (RW / psi[:, None] - WMinner).T).T
    sandwich_diag = (np.diag(R) / psi**2 - 2.0 * np.sum(RWM * W, axis=1) / psi
                     + np.sum(linalg.cho_solve(chol, WMinner.T).T * W, axis=1))
    inverse_diag = 1.0 / psi - np.sum(WM * W, axis=1)
    return 2.0 * (WM - sandwich_loadings), inverse_diag - sandwich_diag


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


def minres_start(R, lower=UNIQUENESS_FLOOR):
    """Starting uniquenesses of minres: ``1 - SMC``, within ``[lower, 1]`` (``psych::fa``'s start)."""
    return np.clip(np.diag(R) - smc(R), lower, 1.0)


def start_uniquenesses(method, R, k, communality=None, lower=UNIQUENESS_FLOOR):
    """Starting uniquenesses of ML (``method="ml"``) or minres (``"minres"``) on a correlation matrix.

    Without ``communality``, each method's established start: :func:`ml_start`
    (``factanal``'s) for ML, :func:`minres_start` (``psych::fa``'s) for
    minres. Given starting communalities ``h``, ``1 - h`` within ``[lower, 1]``.

    Parameters
    ----------
    method : {"ml", "minres"}
    R : ndarray of shape (p, p)
    k : int
    communality : ndarray of shape (p,) or None
    lower : float
        Uniqueness floor.

    Returns
    -------
    ndarray of shape (p,)
    """
    if communality is not None:
        return np.clip(1.0 - communality, lower, 1.0)
    return ml_start(R, k, lower) if method == "ml" else minres_start(R, lower)


def fit_minres(R, k, *, start=None, tol=1e-9, max_iter=1000, lower=UNIQUENESS_FLOOR, callback=None):
    """Minimum residual (unweighted least squares) fit, as ``psych::fa(fm="minres")``.

    Minimises :func:`uls_objective` by L-BFGS-B from ``Psi = 1 - smc``;
    ``callback(objective)``, if given, runs after every iteration.

    Returns
    -------
    dict
        ``uniquenesses``, ``loadings``, ``objective``, ``n_iter``, ``converged``, ``message``.
    """
    p = len(R)
    start = minres_start(R, lower) if start is None else start
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


def fit_principal_axis(R, k, *, start=None, tol=1e-9, max_iter=1000, callback=None):
    """Iterated principal axis factoring (Thurstone 1931; ``psych::fa(fm="pa")``).

    Starting from ``start`` (the squared multiple correlations by default), the communalities are
    put on the diagonal of ``R``, its top ``k`` eigenpairs give the loadings,
    and their row sums of squares the next communalities, until the largest
    change is below ``tol``. ``callback(objective)``, if given, runs after
    every iteration with half the sum of squared off-diagonal residuals.

    Returns
    -------
    dict
        ``uniquenesses``, ``loadings``, ``objective``, ``n_iter``, ``converged``.
    """
    communality = smc(R) if start is None else np.array(start, dtype=np.float64)
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
