"""Factor analysis at its edges: saddle points of the ML discrepancy, EM's stopping
rule and monotonicity at the uniqueness floor, rows of zeros under Kaiser
normalisation, and inputs that used to fail deep inside numpy or scipy."""

import warnings

import numpy as np
import pytest
from statsmodels.multivariate.factor import Factor
from statsmodels.multivariate.factor_rotation import rotate_factors

import lvm

# The criteria with no dependence on the number of rows: a zero row adds
# nothing to them, so it cannot change the rotation of the other rows.
ROW_FREE = ["quartimax", "oblimin", "quartimin", "geomin"]
# statsmodels' GPA stops at a gradient norm of 1e-6 (lvm's _GPA_TOL) or 1e-8
# (the reference calls below); the loadings agree to a few times that.
ROTATION_ATOL = 1e-5


@pytest.fixture
def loadings_with_zero_row():
    rng = np.random.default_rng(1)
    A = rng.uniform(-0.8, 0.9, (7, 3))
    return A, np.insert(A, 3, 0.0, axis=0)


def _kaiser(A):
    norms = np.sqrt(np.sum(A**2, axis=1))
    return A / norms[:, None], norms


@pytest.mark.parametrize("method", ROW_FREE)
def test_kaiser_normalised_rotation_of_a_zero_row_leaves_the_other_rows_alone(loadings_with_zero_row, method):
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, method, normalize=True)
    alone = lvm.factor.rotate(A, method, normalize=True)
    assert np.all(np.isfinite(rotated.loadings))
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0), alone.loadings, atol=ROTATION_ATOL)
    np.testing.assert_allclose(rotated.factor_correlation, alone.factor_correlation, atol=ROTATION_ATOL)


def _orthomax_reference(A, p_total, method):
    """Varimax and equamax over ``p_total`` rows, of which only the rows of ``A`` are non-zero.

    Varimax subtracts ``(1 / p) (sum_i l_ij^2)^2``: over the rows of ``A`` alone
    that is orthomax with ``gamma = p / p_total``. Equamax is Crawford-Ferguson
    with ``kappa = k / (2 p_total)``, whose terms are sums over rows.
    """
    normalised, norms = _kaiser(A)
    p, k = A.shape
    if method == "varimax":
        L, _ = rotate_factors(normalised, "orthomax", p / p_total, algorithm="gpa", tol=1e-8, max_tries=5000)
    else:
        L, _ = rotate_factors(normalised, "CF", k / (2.0 * p_total), "orthogonal", algorithm="gpa", tol=1e-8,
                              max_tries=5000)
    return L * norms[:, None]


@pytest.mark.parametrize("method", ["varimax", "equamax"])
def test_kaiser_normalised_orthomax_with_a_zero_row_counts_it_among_the_rows(loadings_with_zero_row, method):
    # As GPArotation (2023) does: the zero row is not normalised but still one of the p rows.
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, method, normalize=True)
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0),
                               _orthomax_reference(A, len(with_zero), "varimax" if method == "varimax" else "cf"),
                               atol=ROTATION_ATOL)


@pytest.mark.parametrize("normalize", [False, True])
def test_promax_with_a_zero_row_matches_r_definition_on_the_other_rows(loadings_with_zero_row, normalize):
    """R's ``stats::promax``: varimax (Kaiser), target ``V |V|^3``, least squares, column rescaling."""
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, "promax", normalize=normalize)
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    if normalize:
        scaled, outer = _kaiser(A)
    else:
        scaled, outer = A, np.ones(len(A))
    V = _orthomax_reference(scaled, len(with_zero), "varimax")
    U = np.linalg.lstsq(V, V * np.abs(V) ** 3, rcond=None)[0]
    U = U * np.sqrt(np.diag(np.linalg.inv(U.T @ U)))
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0), (V @ U) * outer[:, None], atol=ROTATION_ATOL)


# ------------------------------------------------------------------ ML: minima, not saddle points
def _discrepancy(psi, R, k):
    """ML discrepancy at the best loadings for ``psi``, from the eigenvalues of ``Psi^-1/2 R Psi^-1/2``.

    Joreskog (1967, eq. 12): ``F = sum over the p - k smallest eigenvalues e of (e - log e - 1)``.
    """
    scale = 1.0 / np.sqrt(psi)
    e = np.linalg.eigvalsh(R * np.outer(scale, scale))[: len(R) - k]
    return np.sum(e - np.log(e) - 1.0)


def _smallest_free_curvature(psi, R, k, floor=0.005):
    """Smallest eigenvalue of a central-difference Hessian of the discrepancy over the
    uniquenesses off their bounds, relative to the largest."""
    free = np.flatnonzero((psi > floor * (1 + 1e-6)) & (psi < 1 - 1e-6))
    # Second differences with h = 1e-4 are exact to about h^2 + eps / h^2, 1e-8.
    h = 1e-4
    H = np.empty((free.size, free.size))
    for a, i in enumerate(free):
        for b, j in enumerate(free):
            values = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                step = np.zeros_like(psi)
                step[i] += si * h
                step[j] += sj * h
                values.append(si * sj * _discrepancy(psi + step, R, k))
            H[a, b] = sum(values) / (4 * h * h)
    eigenvalues = np.linalg.eigvalsh(H)
    return eigenvalues[0] / np.abs(eigenvalues).max()


def test_ml_fit_leaves_the_symmetric_saddle_point_for_the_minimum():
    # R = 0.4^|i - j| is symmetric under reversing the variables; the
    # symmetric point (F = 0.12668369, where factanal stops) is a saddle point.
    R = 0.4 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    fa = lvm.FactorAnalysis(1).fit_covariance(R, 200)
    reference = Factor(corr=R, n_factor=1, method="ml", nobs=200).fit()
    assert fa.converged_
    assert fa.fit_statistics_["objective"] == pytest.approx(0.12668163404, abs=1e-11)
    assert fa.fit_statistics_["objective"] <= _discrepancy(reference.uniqueness, R, 1) + 1e-12
    # Two mirror-image minima: compare with statsmodels' in the same orientation.
    ours = fa.uniquenesses_ if fa.uniquenesses_[0] > fa.uniquenesses_[3] else fa.uniquenesses_[::-1]
    theirs = reference.uniqueness if reference.uniqueness[0] > reference.uniqueness[3] else reference.uniqueness[::-1]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert _smallest_free_curvature(fa.uniquenesses_, R, 1) > 0


def _matrix_cases():
    cases = []
    for name, ks in (("ability_cov", (1, 2)), ("harman23", (1, 2, 3, 4)), ("harman74", (2, 4, 5))):
        S, n_obs = lvm.datasets.load_matrix(name)
        cases += [(name, S, n_obs, k) for k in ks]
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    S = np.cov(np.asarray(X, dtype=float), rowvar=False)
    cases += [("holzinger_swineford", S, len(X), k) for k in (1, 2, 3)]
    return cases


@pytest.mark.parametrize("name, S, n_obs, k", _matrix_cases(), ids=lambda v: str(v) if np.isscalar(v) else "")
def test_ml_fit_ends_where_the_discrepancy_curves_upwards(name, S, n_obs, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lvm.exceptions.HeywoodCaseWarning)
        fa = lvm.FactorAnalysis(k).fit_covariance(S, n_obs)
    sd = np.sqrt(np.diag(S))
    R = S / np.outer(sd, sd)
    # Round-off in the finite differences is about 1e-8 of the largest eigenvalue.
    assert _smallest_free_curvature(fa.uniquenesses_, R, k) > -1e-6


@pytest.mark.parametrize("p, k", [(4, 1), (7, 2), (9, 3)])
def test_ml_hessian_matches_second_differences_of_the_discrepancy(p, k):
    from lvm.factor._fitting import ml_hessian

    rng = np.random.default_rng(p)
    R = np.corrcoef(rng.standard_normal((60, p)) + rng.standard_normal((60, 1)), rowvar=False)
    psi = rng.uniform(0.3, 0.9, p)

    def second_differences(h):
        numeric = np.empty((p, p))
        for i in range(p):
            for j in range(p):
                total = 0.0
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    step = np.zeros(p)
                    step[i] += si * h
                    step[j] += sj * h
                    total += si * sj * _discrepancy(psi + step, R, k)
                numeric[i, j] = total / (4 * h * h)
        return numeric

    # Richardson extrapolation cancels the h^2 term of the truncation error.
    numeric = (4 * second_differences(5e-4) - second_differences(1e-3)) / 3
    analytic = ml_hessian(psi, R, k)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6 * np.abs(numeric).max())


# ------------------------------------------------------------------ EM at the uniqueness floor
def _assert_never_decreases(history):
    steps = np.diff(history) / np.maximum(1.0, np.abs(history[1:]))
    assert steps.min() >= -1e-10


def test_em_likelihood_never_decreases_on_nearly_collinear_columns():
    # Four copies of one variable up to noise of 1e-3 to 1e-1: a Heywood case,
    # where the usual start 1 / diag(R^-1) lies below the uniqueness floor.
    rng = np.random.default_rng(0)
    z = rng.standard_normal((50, 1))
    X = z + 1e-3 * rng.standard_normal((50, 4)) * np.array([1, 1, 10, 100])
    with pytest.warns(lvm.exceptions.HeywoodCaseWarning):
        fa = lvm.FactorAnalysis(1, solver="em").fit(X)
    assert fa.converged_
    _assert_never_decreases(fa.history_)


@pytest.mark.parametrize("seed", range(12))
def test_em_likelihood_never_decreases_on_small_ill_conditioned_data(seed):
    # Few rows, near-collinear columns, scales from 1e-4 to 1e4.
    rng = np.random.default_rng(seed)
    n, p = rng.integers(6, 30), rng.integers(3, 6)
    common = rng.standard_normal((n, 1))
    X = (common + 10.0 ** rng.uniform(-6, -1) * rng.standard_normal((n, p))) * 10.0 ** rng.uniform(-4, 4, p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lvm.exceptions.HeywoodCaseWarning)
        fa = lvm.FactorAnalysis(1, solver="em").fit(X)
    _assert_never_decreases(fa.history_)


# ------------------------------------------------------------------ EM stops when the parameters have settled
def test_em_on_an_exact_two_factor_matrix_reproduces_it():
    loadings = np.array([[0.8, 0.1], [0.7, 0.2], [0.6, 0.0], [0.1, 0.7], [0.2, 0.6], [0.0, 0.5]])
    R = loadings @ loadings.T
    np.fill_diagonal(R, 1.0)
    fa = lvm.FactorAnalysis(2, solver="em").fit_covariance(R, 500)
    assert fa.converged_
    L = fa.loadings_array()
    implied = L @ fa.factor_correlation_ @ L.T + np.diag(fa.uniquenesses_)
    np.testing.assert_allclose(implied, R, atol=1e-6)
    np.testing.assert_allclose(fa.uniquenesses_, 1.0 - np.sum(loadings**2, axis=1), atol=1e-6)


def test_em_and_lbfgs_reach_the_same_uniquenesses_on_ability_cov():
    S, n_obs = lvm.datasets.load_matrix("ability_cov")
    em = lvm.FactorAnalysis(2, solver="em").fit_covariance(S, n_obs)
    quasi_newton = lvm.FactorAnalysis(2).fit_covariance(S, n_obs)
    np.testing.assert_allclose(em.uniquenesses_, quasi_newton.uniquenesses_, atol=1e-6)


def test_gradient_at_any_loadings_matches_central_differences():
    from lvm.factor._fitting import ml_gradient_at

    rng = np.random.default_rng(0)
    p, k = 7, 2
    R = np.corrcoef(rng.standard_normal((60, p)) + rng.standard_normal((60, 1)), rowvar=False)
    loadings, psi = rng.uniform(-0.5, 0.8, (p, k)), rng.uniform(0.2, 0.8, p)

    def discrepancy(L, u):
        C = L @ L.T + np.diag(u)
        return np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, R))

    h = 1e-6
    numeric_loadings = np.zeros((p, k))
    for i in range(p):
        for j in range(k):
            step = np.zeros((p, k))
            step[i, j] = h
            numeric_loadings[i, j] = (discrepancy(loadings + step, psi) - discrepancy(loadings - step, psi)) / (2 * h)
    numeric_psi = np.array([(discrepancy(loadings, psi + h * e) - discrepancy(loadings, psi - h * e)) / (2 * h)
                            for e in np.eye(p)])
    gradient_loadings, gradient_psi = ml_gradient_at(R, loadings, psi)
    np.testing.assert_allclose(gradient_loadings, numeric_loadings, atol=1e-8)
    np.testing.assert_allclose(gradient_psi, numeric_psi, atol=1e-8)


# ------------------------------------------------------------------ inputs that failed deep inside numpy/scipy
def _rmsea_interval_delta_method(stats, z=1.6448536269514722):
    """The 90% RMSEA interval of a huge sample by the normal limit of the non-central chi-square.

    ``chi2 ~ N(dof + ncp, 2 (dof + 2 ncp))`` and ``RMSEA = sqrt(ncp / ((n - 1) dof))``,
    so the interval's half-width in RMSEA is ``z sqrt(2 (dof + 2 ncp)) / (2 RMSEA (n - 1) dof)``.
    """
    n, dof, chi2 = stats["n_obs"], stats["dof"], stats["chi2"]
    ncp = chi2 - dof
    centre = np.sqrt(ncp / ((n - 1) * dof))
    half = z * np.sqrt(2 * (dof + 2 * ncp)) / (2 * centre * (n - 1) * dof)
    return centre - half, centre + half


@pytest.mark.parametrize("n_obs", [10**9, 10**12, 10**15])
def test_fit_statistics_of_a_huge_sample(n_obs):
    S, _ = lvm.datasets.load_matrix("ability_cov")
    stats = lvm.FactorAnalysis(2).fit_covariance(S, n_obs).fit_statistics_
    assert all(np.isfinite(stats[key]) for key in ("chi2", "rmsea", "rmsea_lower", "rmsea_upper", "tli", "cfi", "bic"))
    assert stats["rmsea_lower"] < stats["rmsea"] < stats["rmsea_upper"]
    lower, upper = _rmsea_interval_delta_method(stats)
    # The neglected skewness and curvature are of order 1 / sqrt(chi2) <= 1.5e-4 of the half-width.
    half = (upper - lower) / 2
    assert stats["rmsea_lower"] == pytest.approx(lower, abs=1e-3 * half)
    assert stats["rmsea_upper"] == pytest.approx(upper, abs=1e-3 * half)


@pytest.mark.parametrize("rotation", [None, "varimax", "promax", "oblimin", "geomin"])
def test_identity_matrix_has_no_common_factors(rotation):
    with pytest.raises(ValueError, match="identity.*no common factors"):
        lvm.FactorAnalysis(2, rotation=rotation).fit_covariance(np.eye(5), 100)


@pytest.mark.parametrize("method", ["principal", "minres", "ml"])
@pytest.mark.parametrize("p", [6, 8])
def test_no_more_rows_than_variables_is_a_clear_error(method, p):
    # Six rows of six variables pass a Cholesky factorisation by round-off
    # (smallest eigenvalue about -3e-16) and used to give nonsense uniquenesses.
    X = np.random.default_rng(0).standard_normal((6, p))
    with pytest.raises(ValueError, match=f"singular: 6 rows for {p} variables.*at least {p + 1}"):
        lvm.FactorAnalysis(2, method=method).fit(X)


def test_parallel_analysis_with_fewer_rows_than_variables_is_a_clear_error():
    X = np.random.default_rng(0).standard_normal((3, 5))
    with pytest.raises(ValueError, match="parallel_analysis: .* singular: 3 rows for 5 variables"):
        lvm.factor.parallel_analysis(X, random_state=0)


def test_parallel_analysis_with_a_duplicated_column_names_it():
    X = np.random.default_rng(0).standard_normal((100, 4))
    X = np.column_stack([X, X[:, 1]])
    with pytest.raises(ValueError, match=r"parallel_analysis: .*singular.*\['x1', 'x4'\]"):
        lvm.factor.parallel_analysis(X, random_state=0)


def test_kmo_with_a_duplicated_column_names_it():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((100, 4)), columns=["a", "b", "c", "d"])
    X["a_again"] = X["a"]
    before = X.copy()
    with pytest.raises(ValueError, match=r"kmo: .*singular.*\['a', 'a_again'\]"):
        lvm.factor.kmo(X)
    pd.testing.assert_frame_equal(X, before)


@pytest.mark.parametrize("method", ["varimax", "quartimax", "oblimin", "geomin"])
def test_rotating_loadings_already_at_the_optimum_is_silent(method):
    # One non-zero loading per row: a perfect simple structure, where the GPA
    # gradient vanishes at the start.
    A = np.array([[0.8, 0.0], [0.7, 0.0], [0.0, 0.6], [0.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rotated = lvm.factor.rotate(A, method, normalize=True)
    np.testing.assert_allclose(np.abs(rotated.loadings), np.abs(A), atol=ROTATION_ATOL)


def test_em_also_leaves_the_symmetric_saddle_point():
    R = 0.4 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    fa = lvm.FactorAnalysis(1, solver="em").fit_covariance(R, 200)
    assert fa.converged_
    assert fa.fit_statistics_["objective"] == pytest.approx(0.12668163404, abs=1e-10)
    _assert_never_decreases(fa.history_)
    assert _smallest_free_curvature(fa.uniquenesses_, R, 1) > 0


@pytest.mark.parametrize("normalize", [False, True])
def test_promax_leaves_a_factor_without_loadings_alone(normalize):
    # R's promax stops with a singular least-squares fit here; the empty factor
    # has nothing to rotate, so the others get their own promax rotation.
    A = np.random.default_rng(1).uniform(-0.8, 0.9, (7, 2))
    with_empty = lvm.factor.rotate(np.column_stack([A, np.zeros(7)]), "promax", normalize=normalize)
    alone = lvm.factor.rotate(A, "promax", normalize=normalize)
    np.testing.assert_allclose(with_empty.loadings[:, :2], alone.loadings, atol=1e-12)
    np.testing.assert_array_equal(with_empty.loadings[:, 2], 0.0)
    np.testing.assert_allclose(with_empty.factor_correlation[:2, :2], alone.factor_correlation, atol=1e-12)
    np.testing.assert_allclose(with_empty.factor_correlation[2], [0.0, 0.0, 1.0], atol=1e-12)


def test_bartlett_scores_of_a_factor_without_loadings_are_a_clear_error():
    from lvm.factor.scores import bartlett_weights

    loadings = np.array([[0.8, 0.0], [0.7, 0.0], [0.6, 0.0], [0.5, 0.0]])
    with pytest.raises(ValueError, match=r"factor\(s\) \[2\], whose loadings are all zero"):
        bartlett_weights(loadings, np.full(4, 0.5))


def test_em_warning_says_the_parameters_had_not_settled():
    # An exact one-factor matrix fitted with three factors: the likelihood is
    # flat at once, while the spare factors' loadings shrink only like 1 / t.
    R = np.full((6, 6), 0.5)
    np.fill_diagonal(R, 1.0)
    with pytest.warns(lvm.exceptions.ConvergenceWarning, match="below tol=1e-09, but the parameters had not settled"):
        fa = lvm.FactorAnalysis(3, solver="em", max_iter=300).fit_covariance(R, 100)
    assert not fa.converged_
