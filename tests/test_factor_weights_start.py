"""Factor score weights (``score_weights_``) and the starting communalities of the iterative methods."""

import numpy as np
import pytest

import lvm
from lvm.exceptions import ConvergenceWarning

HS = lvm.datasets.load_holzinger_swineford(tests_only=True)[[f"x{j}" for j in range(1, 10)]]
X = HS.to_numpy()
# Standardised as factanal and psych::fa score data: training means, n - 1 standard deviations.
Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)


@pytest.mark.parametrize("rotation", [None, "varimax", "oblimin", "promax"])
@pytest.mark.parametrize("scores", ["regression", "bartlett"])
def test_transform_is_the_standardised_data_times_the_score_weights(scores, rotation):
    fa = lvm.FactorAnalysis(3, method="minres", rotation=rotation, scores=scores).fit(HS)
    assert fa.score_weights_.shape == (9, 3)
    np.testing.assert_allclose(fa.transform(HS), Z @ fa.score_weights_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rotation", ["varimax", "oblimin", "promax"])
def test_regression_weights_are_thurstones_inverse_correlation_times_structure(rotation):
    fa = lvm.FactorAnalysis(3, rotation=rotation).fit(HS)
    R = np.corrcoef(X, rowvar=False)
    L, phi = fa.loadings_array(), fa.factor_correlation_
    expected = np.linalg.solve(R, L @ phi)
    np.testing.assert_allclose(fa.score_weights_, expected, rtol=1e-10, atol=1e-13)


def test_bartlett_weights_are_the_weighted_least_squares_solution():
    fa = lvm.FactorAnalysis(3, rotation="oblimin", scores="bartlett").fit(HS)
    L, psi = fa.loadings_array(), fa.uniquenesses_
    # Bartlett's estimate of f from z = L f + e: generalised least squares with weight Psi^{-1}.
    expected = np.linalg.lstsq(L / np.sqrt(psi)[:, None], np.diag(1 / np.sqrt(psi)), rcond=None)[0].T
    np.testing.assert_allclose(fa.score_weights_, expected, rtol=1e-10, atol=1e-13)
    # Unbiased: the weights reproduce each factor from its own loadings.
    np.testing.assert_allclose(L.T @ fa.score_weights_, np.eye(3), atol=1e-12)


def test_a_constant_column_gets_a_zero_row_of_weights():
    data = HS.assign(constant=1.0)
    with pytest.warns(UserWarning, match="constant"):
        fa = lvm.FactorAnalysis(3, rotation="varimax").fit(data)
    np.testing.assert_array_equal(fa.score_weights_[-1], 0.0)
    np.testing.assert_allclose(fa.transform(data), Z @ fa.score_weights_[:-1], rtol=0, atol=1e-12)


def leading_eigenpairs(R, k):
    values, vectors = np.linalg.eigh(R)
    return vectors[:, ::-1][:, :k] * np.sqrt(values[::-1][:k])


def assert_equal_up_to_column_signs(A, B, atol):
    signs = np.sign(np.sum(A * B, axis=0))
    np.testing.assert_allclose(A * signs, B, rtol=0, atol=atol)


def test_principal_axis_from_ones_takes_its_first_step_from_the_correlation_matrix_itself():
    # psych::fa(SMC=FALSE) uses "1 as initial communality estimate": the first
    # principal axis step is then the principal components of R.
    with pytest.warns(ConvergenceWarning):
        fa = lvm.FactorAnalysis(3, method="principal", start="ones", max_iter=1).fit(HS)
    expected = leading_eigenpairs(np.corrcoef(X, rowvar=False), 3)
    assert_equal_up_to_column_signs(fa.unrotated_loadings_, expected, atol=1e-12)
    np.testing.assert_allclose(fa.communalities_, np.sum(expected**2, axis=1), rtol=1e-12)


def test_principal_axis_from_given_communalities_puts_them_on_the_diagonal():
    h = np.linspace(0.3, 0.7, 9)
    with pytest.warns(ConvergenceWarning):
        fa = lvm.FactorAnalysis(3, method="principal", start=h, max_iter=1).fit(HS)
    reduced = np.corrcoef(X, rowvar=False)
    np.fill_diagonal(reduced, h)
    assert_equal_up_to_column_signs(fa.unrotated_loadings_, leading_eigenpairs(reduced, 3), atol=1e-12)


@pytest.mark.parametrize(("method", "solver"), [("ml", "lbfgs"), ("ml", "em"), ("minres", "lbfgs")])
@pytest.mark.parametrize("start", ["ones", np.linspace(0.9, 0.1, 9)], ids=["ones", "array"])
def test_converged_ml_and_minres_do_not_depend_on_the_start(method, solver, start):
    reference = lvm.FactorAnalysis(3, method=method, solver=solver).fit(HS)
    fa = lvm.FactorAnalysis(3, method=method, solver=solver, start=start).fit(HS)
    np.testing.assert_allclose(fa.uniquenesses_, reference.uniquenesses_, rtol=0, atol=1e-6)
    assert_equal_up_to_column_signs(fa.unrotated_loadings_, reference.unrotated_loadings_, atol=1e-6)


@pytest.mark.parametrize(("start", "message"), [
    (np.full(8, 0.5), r"start must be 'smc', 'ones' or 9 starting communalities"),
    ([[0.5] * 9], r"start must be 'smc', 'ones' or 9 starting communalities"),
    (np.r_[0.0, np.full(8, 0.5)], r"must lie in \(0, 1\]; start has \[0.0\] at feature\(s\) \[0\]"),
    (np.r_[np.full(8, 0.5), 1.2], r"must lie in \(0, 1\]; start has \[1.2\] at feature\(s\) \[8\]"),
    (np.r_[np.nan, np.full(8, 0.5)], r"must lie in \(0, 1\]"),
    ("squared", r"parameter start='squared' is invalid"),
])
def test_an_invalid_start_is_refused_naming_it(start, message):
    with pytest.raises(ValueError, match=message):
        lvm.FactorAnalysis(3, method="principal", start=start).fit(HS)


def test_an_array_start_is_saved_and_loaded(tmp_path):
    start = np.linspace(0.2, 0.8, 9)
    fa = lvm.FactorAnalysis(3, method="principal", start=start).fit(HS)
    loaded = lvm.load(fa.save(tmp_path / "fa.npz"))
    np.testing.assert_array_equal(loaded.start, start)
    np.testing.assert_array_equal(loaded.transform(HS), fa.transform(HS))
    refit = lvm.FactorAnalysis(**loaded.get_params()).fit(HS)
    np.testing.assert_array_equal(refit.uniquenesses_, fa.uniquenesses_)
