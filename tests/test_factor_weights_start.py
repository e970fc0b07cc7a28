"""Factor score weights (``score_weights_``) and the starting communalities of the iterative methods."""

import numpy as np
import pytest

import lvm

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
