"""Asymptotic standard errors of the ML factor solution: ``FactorAnalysis.standard_errors``.

The references: the inverse expected information of the normal covariance
structure model, written out here from its analytic derivatives (Lawley &
Maxwell 1971), and the coverage of Wald intervals over simulated data sets.
lavaan, the usual external reference for these standard errors, needs R,
which is not installed here.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import lvm

LOADINGS = np.array([[0.8, 0.0], [0.7, 0.0], [0.6, 0.2], [0.0, 0.7], [0.1, 0.6], [0.0, 0.5]])
UNIQUENESSES = 1.0 - (LOADINGS**2).sum(axis=1)
SIGMA = LOADINGS @ LOADINGS.T + np.diag(UNIQUENESSES)
N = 600


def _information(loadings, psi, n):
    """Inverse expected information of ``Sigma = L L^T + Psi`` (normal model) and ``Delta = d vec Sigma / d theta``.

    ``I = (n / 2) Delta^T (Sigma^-1 (x) Sigma^-1) Delta``, ``theta = (vec L row by row, psi)``; ``I`` is
    singular along the rotations, which leave the functions compared here (standardised uniquenesses,
    implied correlations) unchanged, so any generalised inverse gives their covariance.
    """
    p, k = loadings.shape
    sigma = loadings @ loadings.T + np.diag(psi)
    delta = np.zeros((p * p, p * k + p))
    for i in range(p):
        for f in range(k):
            d = np.zeros((p, p))
            d[i, :] += loadings[:, f]
            d[:, i] += loadings[:, f]
            delta[:, i * k + f] = d.ravel()
        e = np.zeros((p, p))
        e[i, i] = 1.0
        delta[:, p * k + i] = e.ravel()
    inverse = np.linalg.inv(sigma)
    information = n / 2 * delta.T @ np.kron(inverse, inverse) @ delta
    return sigma, delta, np.linalg.pinv(information, rcond=1e-10)


def _fit_exact(n_obs=N):
    # At an exact fit (S = Sigma) the delta method through the estimator and
    # the inverse information are the same asymptotic covariance; the
    # variables' scales are unequal so that the standardisation is exercised.
    scale = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 0.7])
    fa = lvm.FactorAnalysis(2).fit_covariance(SIGMA * np.outer(scale, scale), n_obs)
    return fa, _information(LOADINGS * scale[:, None], UNIQUENESSES * scale**2, n_obs)


def test_uniqueness_se_equal_inverse_expected_information():
    fa, (sigma, delta, covariance) = _fit_exact()
    p, k = LOADINGS.shape
    reference = []
    for i in range(p):
        # u_i = psi_i / Sigma_ii, psi_i the raw uniqueness.
        g = -sigma[i, i] * UNIQUENESSES[i] / sigma[i, i] ** 2 * delta[i * p + i]
        g[p * k + i] += 1 / sigma[i, i]
        reference.append(np.sqrt(g @ covariance @ g))
    np.testing.assert_allclose(fa.standard_errors().uniquenesses, reference, rtol=1e-3)


def test_implied_correlation_se_equal_inverse_expected_information():
    fa, (sigma, delta, covariance) = _fit_exact()
    p, k = LOADINGS.shape
    se = fa.standard_errors()
    L = fa.loadings_array()
    ours, reference = [], []
    for i in range(p):
        for j in range(i + 1, p):
            # The implied correlation L_i . L_j, by the delta method on the reported covariance ...
            g = np.zeros(se.covariance.shape[0])
            g[i * k: i * k + k] += L[j]
            g[j * k: j * k + k] += L[i]
            ours.append(np.sqrt(g @ se.covariance @ g))
            # ... and Sigma_ij / sqrt(Sigma_ii Sigma_jj) by the information.
            r = sigma[i, j] / np.sqrt(sigma[i, i] * sigma[j, j])
            h = (delta[i * p + j] / np.sqrt(sigma[i, i] * sigma[j, j])
                 - r / 2 * (delta[i * p + i] / sigma[i, i] + delta[j * p + j] / sigma[j, j]))
            reference.append(np.sqrt(h @ covariance @ h))
    np.testing.assert_allclose(ours, reference, rtol=1e-3)


def _coverage(rotation, n_sets, seed):
    population = lvm.FactorAnalysis(2, rotation=rotation).fit_covariance(SIGMA, N)
    true_loadings, true_psi = population.loadings_array(), population.uniquenesses_
    rng = np.random.default_rng(seed)
    hits_loadings = hits_psi = 0
    for _ in range(n_sets):
        X = rng.multivariate_normal(np.zeros(6), SIGMA, size=N)
        fa = lvm.FactorAnalysis(2, rotation=rotation).fit(X)
        hits_loadings += np.sum(np.abs(fa.loadings_array() - true_loadings) <= 1.96 * fa.loadings_se_)
        hits_psi += np.sum(np.abs(fa.uniquenesses_ - true_psi) <= 1.96 * fa.uniquenesses_se_)
    return hits_loadings / (12 * n_sets), hits_psi / (6 * n_sets)


# 50 data sets per rotation keep each test near 7 s; over 120 data sets each
# the coverages are 94.8% and 94.1% (loadings) and 94.4% and 94.0% (uniquenesses).
@pytest.mark.parametrize("rotation, seed", [("varimax", 1), ("oblimin", 2)])
def test_wald_intervals_cover_population_solution(rotation, seed):
    loadings, psi = _coverage(rotation, 50, seed)
    assert 0.90 <= loadings <= 0.98
    assert 0.91 <= psi <= 0.98


def test_oblique_factor_correlation_se_and_labels():
    X = pd.DataFrame(np.random.default_rng(2).multivariate_normal(np.zeros(6), SIGMA, size=N),
                     columns=list("abcdef"))
    fa = lvm.FactorAnalysis(2, rotation="oblimin").fit(X)
    se = fa.standard_errors()
    assert list(se.loadings.index) == list("abcdef") and list(se.uniquenesses.index) == list("abcdef")
    # The diagonal is fixed at 1; the correlation between the factors is estimated.
    assert np.allclose(np.diag(se.factor_correlation), 0.0, atol=1e-8)
    assert 0.01 < se.factor_correlation.iloc[0, 1] < 0.2
    assert se.covariance.shape == (12 + 6 + 4, 12 + 6 + 4)


def test_refuses_other_methods():
    fa = lvm.FactorAnalysis(2, method="minres").fit_covariance(SIGMA, N)
    with pytest.raises(ValueError, match="method='ml'"):
        fa.standard_errors()


def test_se_attributes_are_the_method_computed_once_per_fit(tmp_path):
    X = np.random.default_rng(4).multivariate_normal(np.zeros(6), SIGMA, size=N)
    fa = lvm.FactorAnalysis(2, rotation="oblimin")
    with pytest.raises(NotFittedError):
        fa.loadings_se_  # noqa: B018
    fa.fit(X)
    se = fa.standard_errors()
    np.testing.assert_array_equal(fa.loadings_se_, se.loadings)
    np.testing.assert_array_equal(fa.uniquenesses_se_, se.uniquenesses)
    np.testing.assert_array_equal(fa.factor_correlation_se_, se.factor_correlation)
    assert fa.loadings_se_ is fa.loadings_se_
    # A new fit, new standard errors.
    fa.fit(X[: N // 2])
    np.testing.assert_array_equal(fa.loadings_se_, fa.standard_errors().loadings)
    assert not np.allclose(fa.loadings_se_, se.loadings)
    # Saved and loaded, the model computes them again from its fit.
    fa.save(tmp_path / "fa.npz")
    loaded = lvm.load(tmp_path / "fa.npz")
    np.testing.assert_allclose(loaded.loadings_se_, fa.loadings_se_, rtol=1e-8)
    with pytest.raises(ValueError, match="method='ml'"):
        lvm.FactorAnalysis(2, method="minres").fit(X).loadings_se_  # noqa: B018
