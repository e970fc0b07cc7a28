"""Squared multiple correlations, against their definition: the R^2 of each variable regressed on the others."""

import numpy as np
import pandas as pd
import pytest

import lvm

HS = lvm.datasets.load_holzinger_swineford(tests_only=True)[[f"x{j}" for j in range(1, 10)]]


def regression_r2(X):
    """R^2 of the least-squares regression (with intercept) of each column on all the others."""
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    out = np.empty(p)
    for j in range(p):
        design = np.column_stack([np.ones(n), np.delete(X, j, axis=1)])
        coef, *_ = np.linalg.lstsq(design, X[:, j], rcond=None)
        residual = X[:, j] - design @ coef
        centred = X[:, j] - X[:, j].mean()
        out[j] = 1.0 - residual @ residual / (centred @ centred)
    return out


def test_smc_of_holzinger_swineford_is_the_r2_of_each_regression():
    result = lvm.factor.smc(HS)
    assert isinstance(result, pd.Series) and list(result.index) == list(HS.columns)
    np.testing.assert_allclose(result.to_numpy(), regression_r2(HS), rtol=1e-12, atol=1e-13)


def test_smc_of_a_covariance_or_correlation_matrix_equals_that_of_the_data():
    expected = regression_r2(HS)
    covariance = np.cov(HS.to_numpy(), rowvar=False)
    np.testing.assert_allclose(lvm.factor.smc(covariance).to_numpy(), expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(lvm.factor.smc(HS.corr(), is_correlation=True).to_numpy(), expected,
                               rtol=1e-12, atol=1e-13)


def test_is_correlation_false_reads_square_symmetric_data_as_rows():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    X = A + A.T  # square and symmetric, but six observations of six variables
    with pytest.raises(ValueError, match=r"smc: .*singular: 6 rows for 6 variables"):
        lvm.factor.smc(X, is_correlation=False)
    tall = rng.normal(size=(40, 6))
    np.testing.assert_allclose(lvm.factor.smc(tall, is_correlation=False).to_numpy(), regression_r2(tall),
                               rtol=1e-12, atol=1e-13)


def test_smc_with_missing_entries_uses_pairwise_complete_correlations():
    rng = np.random.default_rng(1)
    X = HS.to_numpy().copy()
    X[rng.random(X.shape) < 0.05] = np.nan
    expected = np.asarray(lvm.factor.smc(pd.DataFrame(X).corr(), is_correlation=True))
    np.testing.assert_allclose(lvm.factor.smc(X).to_numpy(), expected, rtol=1e-13)


def test_a_linear_dependence_is_an_error_naming_the_variables():
    X = HS.assign(total=HS["x1"] + HS["x2"])
    with pytest.raises(ValueError, match=r"smc: .*singular.*\['x1', 'x2', 'total'\]"):
        lvm.factor.smc(X)


def test_a_matrix_that_is_not_square_or_not_symmetric_is_refused_when_declared_one():
    with pytest.raises(ValueError, match="square matrix"):
        lvm.factor.smc(HS.to_numpy()[:5], is_correlation=True)
    R = HS.corr().to_numpy().copy()
    R[0, 1] += 0.1
    with pytest.raises(ValueError, match="not symmetric"):
        lvm.factor.smc(R, is_correlation=True)
