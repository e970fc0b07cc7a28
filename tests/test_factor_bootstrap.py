"""Bootstrap intervals of a factor analysis: reproducible, aligned, and as wide as the normal theory says."""

import numpy as np
import pandas as pd
import pytest

from lvm import FactorAnalysis
from lvm.datasets import load_holzinger_swineford
from lvm.factor import bootstrap
from lvm.metrics import tucker_congruence


@pytest.fixture(scope="module")
def holzinger():
    return load_holzinger_swineford(tests_only=True)


def _one_factor_data(n, loadings, seed):
    rng = np.random.default_rng(seed)
    loadings = np.asarray(loadings)
    f = rng.standard_normal(n)
    noise = rng.standard_normal((n, len(loadings))) * np.sqrt(1 - loadings**2)
    return pd.DataFrame(np.outer(f, loadings) + noise, columns=[f"v{j}" for j in range(len(loadings))])


def _intervals(boot):
    return [boot.loadings, boot.uniquenesses, boot.factor_correlation, boot.fit]


def test_same_seed_same_intervals_other_seed_other_intervals(holzinger):
    model = FactorAnalysis(3, rotation="oblimin")
    first = bootstrap(model, holzinger, n_iter=30, random_state=7, verbose=False)
    again = bootstrap(model, holzinger, n_iter=30, random_state=7, verbose=False)
    other = bootstrap(model, holzinger, n_iter=30, random_state=8, verbose=False)
    for a, b in zip(_intervals(first), _intervals(again), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    np.testing.assert_array_equal(first.replicates["loadings"], again.replicates["loadings"])
    assert not np.array_equal(first.loadings[["lower", "upper"]], other.loadings[["lower", "upper"]])
    # The full-sample estimate does not depend on the seed.
    np.testing.assert_array_equal(first.loadings["estimate"], other.loadings["estimate"])


def test_a_generator_is_accepted_and_reproducible(holzinger):
    model = FactorAnalysis(1)
    first = bootstrap(model, holzinger.iloc[:, :4], n_iter=10, random_state=np.random.default_rng(3), verbose=False)
    again = bootstrap(model, holzinger.iloc[:, :4], n_iter=10, random_state=np.random.default_rng(3), verbose=False)
    np.testing.assert_array_equal(first.replicates["indices"], again.replicates["indices"])


def test_five_hundred_replicates_are_reproducible():
    # 500 refits of the 3-factor Holzinger-Swineford model take about 10 s on
    # this machine; a 4-variable one-factor model keeps the count and the
    # test fast.
    X = _one_factor_data(120, [0.8, 0.7, 0.6, 0.5], seed=0)
    first = bootstrap(FactorAnalysis(1), X, n_iter=500, random_state=2024, verbose=False)
    again = bootstrap(FactorAnalysis(1), X, n_iter=500, random_state=2024, verbose=False)
    assert first.replicates["loadings"].shape == (500, 4, 1)
    assert first.n_iter == 500
    for a, b in zip(_intervals(first)[:2] + [first.fit], _intervals(again)[:2] + [again.fit], strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def _three_factor_data(n, seed):
    rng = np.random.default_rng(seed)
    L = np.kron(np.eye(3), np.array([[0.8], [0.7], [0.6]]))
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.25], [0.2, 0.25, 1.0]])
    f = rng.standard_normal((n, 3)) @ np.linalg.cholesky(phi).T
    noise = rng.standard_normal((n, 9)) * np.sqrt(1 - (L**2).sum(axis=1))
    return pd.DataFrame(f @ L.T + noise, columns=[f"x{j + 1}" for j in range(9)])


def test_replicates_are_aligned_to_the_full_sample_factors():
    X = _three_factor_data(400, seed=3)
    model = FactorAnalysis(3, rotation="oblimin")
    boot = bootstrap(model, X, n_iter=40, random_state=1, verbose=False)
    full = model.fit(X).loadings_array()
    for replicate in boot.replicates["loadings"]:
        congruence = tucker_congruence(replicate, full, match=False)
        assert (congruence["sign"] == 1).all()
        assert (congruence["congruence"] > 0.9).all()
    for table in _intervals(boot):
        assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()
    assert list(boot.factor_correlation.index) == [("ML1", "ML2"), ("ML1", "ML3"), ("ML2", "ML3")]
    assert list(boot.fit.index) == ["chi2", "rmsea", "tli", "cfi"]


def test_intervals_contain_the_estimate_on_holzinger_swineford(holzinger):
    boot = bootstrap(FactorAnalysis(3, rotation="oblimin"), holzinger, n_iter=40, random_state=1, verbose=False)
    for table in (boot.loadings, boot.uniquenesses, boot.factor_correlation):
        assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()
    # The weakest factor (x7-x9) still matches its full-sample self.
    assert boot.replicates["congruence"].min() > 0.8


def test_order_of_each_replicate_is_undone():
    # Two clear factors of equal strength: unaligned, the replicates come out
    # in either order (9 of these 30 swap them).
    rng = np.random.default_rng(5)
    n = 400
    f = rng.standard_normal((n, 2))
    L = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.8], [0, 0.7], [0, 0.6]])
    X = f @ L.T + rng.standard_normal((n, 6)) * np.sqrt(1 - (L**2).sum(axis=1))
    boot = bootstrap(FactorAnalysis(2, rotation="varimax"), X, n_iter=30, random_state=0, verbose=False)
    full = boot.model.loadings_array()
    mean = boot.replicates["loadings"].mean(axis=0)
    # Averaging unaligned replicates would cancel the loadings towards zero.
    np.testing.assert_allclose(mean, full, atol=0.05)
    assert boot.factor_correlation is None


def _loadings(S, n):
    loadings = FactorAnalysis(1).fit_covariance(S, n).loadings_array()[:, 0]
    return loadings * np.sign(loadings.sum())


def test_bootstrap_std_matches_the_delta_method_standard_error():
    # Independent reference: the normal-theory delta method. With
    # s = vech(S), Cov(s) = (2 / n) D+ (S kron S) D+^T (the Wishart
    # covariance; D+ the Moore-Penrose inverse of the duplication matrix),
    # and the Jacobian of the ML loadings in s by central differences of
    # fit_covariance, Cov(L) = J Cov(s) J^T.
    n, p = 600, 5
    X = _one_factor_data(n, [0.8, 0.75, 0.7, 0.6, 0.5], seed=11)
    S = np.cov(X.to_numpy(), rowvar=False, bias=True)
    rows, cols = np.tril_indices(p)
    duplication = np.zeros((p * p, len(rows)))
    for m, (i, j) in enumerate(zip(rows, cols, strict=True)):
        duplication[i * p + j, m] = duplication[j * p + i, m] = 1.0
    d_plus = np.linalg.pinv(duplication)
    gamma = 2.0 / n * d_plus @ np.kron(S, S) @ d_plus.T
    step = 1e-5
    jacobian = np.empty((p, len(rows)))
    for m, (i, j) in enumerate(zip(rows, cols, strict=True)):
        E = np.zeros((p, p))
        E[i, j] = E[j, i] = step
        jacobian[:, m] = (_loadings(S + E, n) - _loadings(S - E, n)) / (2 * step)
    delta_se = np.sqrt(np.diag(jacobian @ gamma @ jacobian.T))

    boot = bootstrap(FactorAnalysis(1), X, n_iter=200, random_state=0, verbose=False)
    boot_sd = boot.loadings["std"].to_numpy()
    np.testing.assert_allclose(boot_sd, delta_se, rtol=0.25)
    # The replicate spread is computed from the aligned replicates.
    np.testing.assert_allclose(boot_sd, boot.replicates["loadings"][:, :, 0].std(axis=0, ddof=1))


def test_percentile_interval_is_the_quantiles_of_the_replicates(holzinger):
    boot = bootstrap(FactorAnalysis(2, rotation="promax"), holzinger, n_iter=30, level=0.8, random_state=4,
                     verbose=False)
    reps = boot.replicates["uniquenesses"]
    np.testing.assert_allclose(boot.uniquenesses["lower"], [np.percentile(r, 10) for r in reps.T])
    np.testing.assert_allclose(boot.uniquenesses["upper"], [np.percentile(r, 90) for r in reps.T])


@pytest.mark.parametrize("kwargs", [{"n_iter": 1}, {"n_iter": 2.5}, {"level": 1.0}, {"level": 0}, {"verbose": -1}])
def test_invalid_arguments_are_refused(holzinger, kwargs):
    with pytest.raises(ValueError):
        bootstrap(FactorAnalysis(1), holzinger, **{"n_iter": 5, **kwargs})


def test_summary_shows_the_intervals_of_its_own_bootstrap(holzinger):
    fa = FactorAnalysis(3, rotation="oblimin").fit(holzinger)
    boot = bootstrap(fa, holzinger, n_iter=20, level=0.9, random_state=0, verbose=False)
    report = fa.summary(ci=boot)
    cell = report["loadings 90% CI"].loc["x7", "ML3"]
    row = boot.loadings.loc[("x7", "ML3")]
    assert cell == f"[{row['lower']:.2f}, {row['upper']:.2f}]"
    assert report["loadings 90% CI"].loc["x7", "u2"] == (f"[{boot.uniquenesses.loc['x7', 'lower']:.2f}, "
                                                         f"{boot.uniquenesses.loc['x7', 'upper']:.2f}]")
    assert "factor correlations 90% CI" in report.tables
    assert report.info["rmsea bootstrap 90% CI"] == f"[{boot.fit.loc['rmsea', 'lower']:.3f}, " \
                                                    f"{boot.fit.loc['rmsea', 'upper']:.3f}]"
    assert "loadings 90% CI" not in fa.summary().tables
    with pytest.raises(ValueError, match="another solution"):
        FactorAnalysis(3, rotation="varimax").fit(holzinger).summary(ci=boot)
