"""Factor analysis: R's printed factanal values, scikit-learn's likelihood, EM invariants,
recovery of a planted model, Heywood cases, streaming and the fitted-model contract."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, stats
from sklearn.decomposition import FactorAnalysis as SklearnFA

import lvm
from lvm.exceptions import ConvergenceWarning, HeywoodCaseWarning
from lvm.factor import _fitting


def factor_data(rng, n, p, k, uniqueness=(0.2, 0.7)):
    """Rows from x = mu + W f + e with a simple-structure W and known parameters."""
    W = np.zeros((p, k))
    for j in range(p):
        W[j, j % k] = rng.uniform(0.6, 0.9)
        if k > 1:
            W[j, (j + 1) % k] = rng.uniform(-0.2, 0.2)
    psi = rng.uniform(*uniqueness, size=p)
    scale = rng.uniform(0.5, 5.0, size=p)
    standardised = rng.standard_normal((n, k)) @ W.T + rng.standard_normal((n, p)) * np.sqrt(psi)
    X = standardised * scale + 10 * rng.normal(size=p)
    return X, W * scale[:, None]


def congruence(A, B):
    """Tucker's congruence of matching columns."""
    return np.sum(A * B, axis=0) / np.sqrt(np.sum(A**2, axis=0) * np.sum(B**2, axis=0))


def procrustes_align(source, target):
    """Rotate ``source`` onto ``target`` by the orthogonal Procrustes solution."""
    rotation, _ = linalg.orthogonal_procrustes(source, target)
    return source @ rotation


# ---------------------------------------------------------------- R's factanal documentation
def test_ability_cov_one_factor_matches_factanal_printout():
    """``example(factanal)`` in R prints, for ``factanal(factors = 1, covmat = ability.cov)``:
    uniquenesses 0.535 0.853 0.748 0.910 0.232 0.280 and "The chi square statistic is
    75.18 on 9 degrees of freedom. The p-value is 1.46e-12" (tests/reference/factanal_ability_cov.txt)."""
    S, n_obs = lvm.datasets.load_matrix("ability_cov")
    fa = lvm.FactorAnalysis(1).fit_covariance(S, n_obs)
    np.testing.assert_array_equal(np.round(fa.uniquenesses_, 3), [0.535, 0.853, 0.748, 0.910, 0.232, 0.280])
    assert round(fa.fit_statistics_["chi2"], 2) == 75.18
    assert fa.fit_statistics_["dof"] == 9
    assert float(f"{fa.fit_statistics_['p_value']:.3g}") == 1.46e-12
    printed = [0.682, 0.384, 0.502, 0.300, 0.877, 0.849]
    np.testing.assert_array_equal(np.round(fa.loadings_["ML1"].to_numpy(), 3), printed)


def test_ability_cov_two_factors_matches_factanal_printout():
    """``factanal(factors = 2, covmat = ability.cov)`` prints uniquenesses 0.455 0.589 0.218
    0.769 0.052 0.334, varimax loadings (general 0.499 0.543, ..., vocab 0.785 0.225) and
    "The chi square statistic is 6.11 on 4 degrees of freedom. The p-value is 0.191"; with
    rotation = "promax" the factor correlation is 0.557."""
    S, n_obs = lvm.datasets.load_matrix("ability_cov")
    fa = lvm.FactorAnalysis(2, rotation="varimax").fit_covariance(S, n_obs)
    np.testing.assert_array_equal(np.round(fa.uniquenesses_, 3), [0.455, 0.589, 0.218, 0.769, 0.052, 0.334])
    assert round(fa.fit_statistics_["chi2"], 2) == 6.11 and fa.fit_statistics_["dof"] == 4
    assert round(fa.fit_statistics_["p_value"], 3) == 0.191
    # R's stats::varimax stops once the criterion changes by less than eps = 1e-5
    # (relative), about 2e-3 short of the optimum here; lvm iterates to a gradient
    # norm of 1e-9. With varimax(L, eps = 1e-14), R prints lvm's values:
    # 0.5011 0.5419 / 0.1580 0.6210 / 0.2085 0.8593 / 0.1100 0.4674 / 0.9568 0.1791 / 0.7855 0.2224.
    printed = [[0.499, 0.543], [0.156, 0.622], [0.206, 0.860], [0.109, 0.468], [0.956, 0.182], [0.785, 0.225]]
    converged = [[0.5011, 0.5419], [0.1580, 0.6210], [0.2085, 0.8593], [0.1100, 0.4674], [0.9568, 0.1791],
                 [0.7855, 0.2224]]
    np.testing.assert_allclose(fa.loadings_array(), converged, atol=6e-5)
    np.testing.assert_allclose(fa.loadings_array(), printed, atol=3.5e-3)
    # Communalities do not depend on the rotation, so R's SS loadings total is exact.
    assert round(fa.variance_.loc["SS loadings"].sum(), 3) == round(1.858 + 1.724, 3)
    # Promax on the converged varimax: R's promax(varimax(L, eps = 1e-14)) gives these loadings
    # and the factor correlation 0.5571; factanal prints 0.557 and 0.364 / 1.023 / 0.811.
    promax = lvm.FactorAnalysis(2, rotation="promax").fit_covariance(S, n_obs)
    assert round(promax.factor_correlation_[0, 1], 3) == 0.557
    np.testing.assert_allclose(promax.loadings_array()[[0, 4, 5], 0], [0.3645, 1.0237, 0.8115], atol=6e-5)


# ---------------------------------------------------------------- scikit-learn
DATASETS = [(400, 8, 2), (1000, 12, 3), (250, 6, 1), (3000, 20, 4), (600, 15, 5), (150, 10, 2)]


@pytest.mark.parametrize("n, p, k", DATASETS)
def test_likelihood_at_least_scikit_learn_and_same_loadings(n, p, k, seed):
    X, _ = factor_data(np.random.default_rng(seed + n), n, p, k)
    ours = lvm.FactorAnalysis(k).fit(X)
    theirs = SklearnFA(k, tol=1e-8, max_iter=10000).fit(X)
    assert ours.score(X) >= theirs.score(X) - 1e-6
    assert ours.log_likelihood_ == pytest.approx(ours.score_samples(X).sum(), rel=1e-10)
    aligned = procrustes_align(ours.components_.T, theirs.components_.T)
    assert congruence(aligned, theirs.components_.T).min() >= 0.999


def test_ml_solvers_reach_the_same_maximum(seed):
    X, _ = factor_data(np.random.default_rng(seed), 800, 10, 3)
    quasi_newton = lvm.FactorAnalysis(3).fit(X)
    em = lvm.FactorAnalysis(3, solver="em", tol=1e-12).fit(X)
    assert em.converged_
    assert em.log_likelihood_ == pytest.approx(quasi_newton.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(em.uniquenesses_, quasi_newton.uniquenesses_, atol=1e-4)


# ---------------------------------------------------------------- EM invariants
@settings(max_examples=20)
@given(n=st.integers(60, 300), p=st.integers(4, 10), k_frac=st.floats(0, 1), seed=st.integers(0, 2**31 - 1))
def test_em_loglik_never_decreases(n, p, k_frac, seed):
    k = 1 + int(k_frac * (p // 2 - 1))
    X, _ = factor_data(np.random.default_rng(seed), n, p, k)
    model = lvm.FactorAnalysis(k, solver="em", tol=0.0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HeywoodCaseWarning))
        model.fit(X)
    drops = np.diff(model.history_)
    assert drops.min() >= -1e-10 * np.abs(model.history_).max()


@settings(max_examples=10)
@given(n=st.integers(80, 200), p=st.integers(5, 8), seed=st.integers(0, 2**31 - 1), fraction=st.floats(0.05, 0.3))
def test_missing_em_loglik_never_decreases(n, p, seed, fraction):
    rng = np.random.default_rng(seed)
    X, _ = factor_data(rng, n, p, 2)
    X[rng.random(X.shape) < fraction] = np.nan
    X[:, np.isnan(X).all(axis=0)] = 1.0
    model = lvm.FactorAnalysis(2, missing="em", tol=0.0, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HeywoodCaseWarning))
        model.fit(X)
    drops = np.diff(model.history_)
    assert drops.min() >= -1e-10 * np.abs(model.history_).max()


def test_planted_loadings_are_recovered(seed):
    X, W = factor_data(np.random.default_rng(seed), 5000, 12, 3)
    fa = lvm.FactorAnalysis(3).fit(X)
    aligned = procrustes_align(fa.components_.T, W)
    assert congruence(aligned, W).min() >= 0.98


def test_missing_em_is_close_to_complete_fit_and_its_likelihood_is_observed_data(seed):
    rng = np.random.default_rng(seed)
    X, _ = factor_data(rng, 1500, 8, 2)
    holes = rng.random(X.shape) < 0.1
    X_missing = np.where(holes, np.nan, X)
    fa = lvm.FactorAnalysis(2, missing="em", tol=1e-10).fit(X_missing)
    complete = lvm.FactorAnalysis(2).fit(X)
    assert congruence(procrustes_align(fa.loadings_array(), complete.loadings_array()),
                      complete.loadings_array()).min() > 0.995
    C = fa.get_covariance()
    dense = sum(stats.multivariate_normal(fa.mean_[~np.isnan(r)], C[np.ix_(~np.isnan(r), ~np.isnan(r))])
                .logpdf(r[~np.isnan(r)]) for r in X_missing[:200])
    assert fa.score_samples(X_missing[:200]).sum() == pytest.approx(dense, rel=1e-10)


# ---------------------------------------------------------------- Heywood
def test_heywood_case_names_the_variable_and_fit_is_finite(seed):
    rng = np.random.default_rng(seed)
    X, _ = factor_data(rng, 500, 6, 1)
    frame = pd.DataFrame(X, columns=[f"item{j}" for j in range(6)])
    frame["copy"] = frame["item0"] + 1e-3 * rng.standard_normal(500)
    with pytest.warns(HeywoodCaseWarning, match="item0|copy"):
        fa = lvm.FactorAnalysis(1).fit(frame)
    assert set(fa.heywood_) & {"item0", "copy"}
    assert np.all(np.isfinite(fa.loadings_array())) and np.all(np.isfinite(fa.transform(frame)))
    assert np.isfinite(fa.score(frame))


# ---------------------------------------------------------------- contract
def test_posterior_mean_equals_regression_scores_at_the_ml_solution(seed):
    X, _ = factor_data(np.random.default_rng(seed), 2000, 9, 3)
    fa = lvm.FactorAnalysis(3, rotation="oblimin").fit(X)
    # R standardises with the n - 1 standard deviation, the ML model with the n one.
    n = len(X)
    np.testing.assert_allclose(fa.transform(X) * np.sqrt(n / (n - 1)), fa.posterior(X).mean, rtol=1e-6, atol=1e-6)


def test_posterior_matches_conditional_gaussian(seed):
    X, _ = factor_data(np.random.default_rng(seed), 300, 7, 2)
    fa = lvm.FactorAnalysis(2, rotation="promax").fit(X)
    W, phi, psi = fa.components_.T, fa.factor_correlation_, fa.noise_variance_
    C = W @ phi @ W.T + np.diag(psi)
    gain = phi @ W.T @ np.linalg.inv(C)
    post = fa.posterior(X)
    np.testing.assert_allclose(post.mean, (X - fa.mean_) @ gain.T, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(post.covariance, phi - gain @ W @ phi, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fa.get_covariance(), C, rtol=1e-12)


def test_rotation_leaves_the_model_unchanged(seed):
    X, _ = factor_data(np.random.default_rng(seed), 400, 9, 3)
    base = lvm.FactorAnalysis(3).fit(X)
    for rotation in ("varimax", "quartimax", "equamax", "promax", "oblimin", "geomin"):
        fa = lvm.FactorAnalysis(3, rotation=rotation).fit(X)
        np.testing.assert_allclose(fa.get_covariance(), base.get_covariance(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fa.unrotated_loadings_ @ fa.rotation_matrix_, fa.loadings_array(), atol=1e-12)
        np.testing.assert_allclose(np.diag(fa.factor_correlation_), 1.0, atol=1e-10)


def test_partial_fit_equals_fit(seed):
    X, _ = factor_data(np.random.default_rng(seed), 3000, 10, 2)
    whole = lvm.FactorAnalysis(2, rotation="varimax").fit(X)
    stream = lvm.FactorAnalysis(2, rotation="varimax")
    for chunk in np.array_split(X, 7):
        stream.partial_fit(chunk)
    # The merged statistics equal one pass to round-off ...
    np.testing.assert_allclose(stream.correlation_, whole.correlation_, atol=1e-12)
    np.testing.assert_allclose(stream.mean_, whole.mean_, rtol=1e-12)
    # ... and L-BFGS-B, stopping at a relative objective change of 1e-10 (tol), fixes the
    # loadings to about sqrt(1e-10) = 1e-5 of the optimum from either copy of them.
    np.testing.assert_allclose(stream.loadings_array(), whole.loadings_array(), atol=1e-5)
    assert stream.log_likelihood_ == pytest.approx(whole.log_likelihood_, rel=1e-10)


def test_dataframe_names_flow_through(seed):
    X, _ = factor_data(np.random.default_rng(seed), 300, 6, 2)
    frame = pd.DataFrame(X, columns=list("abcdef"))
    fa = lvm.FactorAnalysis(2, rotation="varimax").fit(frame)
    assert list(fa.loadings_.index) == list("abcdef") and list(fa.loadings_.columns) == ["ML1", "ML2"]
    text = str(fa.summary(cut=0.3))
    assert "RMSEA" in text and "h2" in text and "Tucker-Lewis" in text
    assert "<table" in fa.summary()._repr_html_()


def test_matrix_fit_cannot_score_data():
    S, n_obs = lvm.datasets.load_matrix("harman23")
    fa = lvm.FactorAnalysis(2).fit_covariance(S, n_obs)
    with pytest.raises(ValueError, match="fitted from a covariance matrix"):
        fa.transform(np.ones((2, 8)))


@pytest.mark.parametrize("method", ["minres", "principal"])
def test_least_squares_methods_leave_small_residuals(method):
    S, n_obs = lvm.datasets.load_matrix("harman74")
    fa = lvm.FactorAnalysis(4, method=method).fit_covariance(S, n_obs)
    R = S.to_numpy()
    L = fa.loadings_array()
    residual = R - L @ L.T
    off = ~np.eye(len(R), dtype=bool)
    assert np.sqrt(np.mean(residual[off] ** 2)) < 0.05
    np.testing.assert_allclose(fa.communalities_, np.sum(L**2, axis=1), atol=1e-8)


def test_minres_gradient_matches_finite_differences(seed):
    S, _ = lvm.datasets.load_matrix("harman23")
    R = S.to_numpy()
    psi = np.random.default_rng(seed).uniform(0.2, 0.6, size=len(R))
    for objective, gradient in ((_fitting.uls_objective, _fitting.uls_gradient),
                                (_fitting.ml_objective, _fitting.ml_gradient)):
        numeric = [(objective(psi + h, R, 2) - objective(psi - h, R, 2)) / 2e-6 for h in np.eye(len(R)) * 1e-6]
        np.testing.assert_allclose(gradient(psi, R, 2), numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({"n_components": 6}, np.random.default_rng(0).normal(size=(50, 6)), "must be below n_features=6"),
        ({"rotation": "spin"}, np.random.default_rng(0).normal(size=(50, 6)), "rotation='spin' is invalid"),
    ],
)
def test_invalid_input_is_named(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        lvm.FactorAnalysis(**kwargs).fit(X)


def test_parallel_analysis_finds_the_planted_factors(seed):
    X, _ = factor_data(np.random.default_rng(seed), 600, 12, 3)
    result = lvm.factor.parallel_analysis(X, random_state=seed)
    assert result.n_factors == 3 and result.n_components == 3
    assert list(result.table.columns) == ["pc_observed", "pc_random", "fa_observed", "fa_random"]
    noise = lvm.factor.parallel_analysis(np.random.default_rng(seed).normal(size=(600, 12)), random_state=seed)
    assert noise.n_factors <= 1 and noise.n_components <= 1
    again = lvm.factor.parallel_analysis(X, random_state=seed)
    pd.testing.assert_frame_equal(again.table, result.table)


def test_parallel_analysis_on_holzinger_swineford_suggests_three():
    result = lvm.factor.parallel_analysis(lvm.datasets.load_holzinger_swineford(tests_only=True),
                                          n_iter=50, quantile=0.95, random_state=0)
    assert result.n_factors == 3
    assert "suggests 3 factor(s)" in str(result)


def test_parallel_analysis_on_bfi_matches_psych():
    """``psych::fa.parallel(bfi[1:25])`` prints "Parallel analysis suggests that the number
    of factors = 6 and the number of components = 6" (psych 2.2.9)."""
    result = lvm.factor.parallel_analysis(lvm.datasets.load_bfi(items_only=True), random_state=0)
    assert (result.n_factors, result.n_components) == (6, 6)


def test_missing_rows_are_scored_without_warnings(recwarn):
    items = lvm.datasets.load_bfi(items_only=True).iloc[:600]
    fa = lvm.FactorAnalysis(2, missing="em").fit(items)
    scores = fa.transform(items)
    assert np.all(np.isfinite(scores)) and scores.shape == (600, 2)
    assert not [w for w in recwarn if "feature names" in str(w.message)]


def test_sample_reproduces_model_covariance(seed):
    X, _ = factor_data(np.random.default_rng(seed), 500, 6, 2)
    fa = lvm.FactorAnalysis(2, rotation="promax").fit(X)
    draws, factors = fa.sample(100_000, random_state=seed)
    covariance = fa.get_covariance()
    np.testing.assert_allclose(np.cov(draws, rowvar=False), covariance, atol=0.03 * np.abs(covariance).max())
    np.testing.assert_allclose(np.corrcoef(factors, rowvar=False), fa.factor_correlation_, atol=0.02)


def test_principal_axis_heywood_case_is_floored_and_named(seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=200)
    X = np.column_stack([f + rng.normal(size=200) * 0.01, f + rng.normal(size=200) * 0.8,
                         f + rng.normal(size=200) * 0.8, rng.normal(size=200) + 0.3 * f])
    with pytest.warns(HeywoodCaseWarning, match="x0"):
        fa = lvm.FactorAnalysis(1, method="principal").fit(X)
    assert fa.uniquenesses_.min() >= _fitting.UNIQUENESS_FLOOR
    assert np.all(np.isfinite(fa.score_samples(X))) and np.all(np.isfinite(fa.transform(X)))


def test_partial_fit_row_by_row_waits_for_enough_rows(seed):
    X, _ = factor_data(np.random.default_rng(seed), 120, 6, 1)
    stream = lvm.FactorAnalysis(1)
    for i in range(len(X)):
        stream.partial_fit(X[i : i + 1])
    whole = lvm.FactorAnalysis(1).fit(X)
    assert stream.n_samples_ == 120
    np.testing.assert_allclose(stream.loadings_array(), whole.loadings_array(), atol=1e-5)
    early = lvm.FactorAnalysis(1).partial_fit(X[:3])
    with pytest.raises(lvm.exceptions.NotFittedError):
        early.transform(X)


def test_missing_columns_never_seen_together_are_named(seed):
    X, _ = factor_data(np.random.default_rng(seed), 100, 5, 1)
    X[:50, 0] = np.nan
    X[50:, 1] = np.nan
    with pytest.raises(ValueError, match=r"\(x0, x1\) are observed together in fewer than 2 rows"):
        lvm.FactorAnalysis(1, missing="em").fit(X)


def test_exactly_duplicated_column_gives_infinite_misfit_not_a_crash():
    # The sample correlation is singular, so the ML discrepancy and chi-square
    # are infinite; the fit itself (a Heywood case) and its scores are fine.
    # (Whether the singular correlation is caught by its Cholesky factor or
    # fitted as a Heywood case depends on round-off; these data are fitted.)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 6)) + rng.normal(size=(200, 6))
    X[:, 5] = X[:, 4]
    X = X[:150]
    with pytest.warns(HeywoodCaseWarning):
        fa = lvm.FactorAnalysis(2).fit(X)
    stats = fa.fit_statistics_
    assert stats["chi2"] == np.inf and stats["p_value"] == 0.0 and stats["rmsea_lower"] == np.inf
    assert np.isfinite(fa.score(X)) and np.all(np.isfinite(fa.transform(X)))
