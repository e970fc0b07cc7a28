"""Synthetic generators draw from the model they claim, and lvm's fits recover the truth they return."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import subspace_angles
from sklearn.metrics import adjusted_rand_score

import lvm
from lvm.datasets import make_factor_data, make_mfa_data, make_mixture_data, make_ppca_data

GENERATORS = [make_factor_data, make_ppca_data, make_mixture_data, make_mfa_data]


def _assert_covariance_close(X, covariance, n_sd=5.0):
    """Every entry of the sample covariance within ``n_sd`` of its sampling standard deviation.

    For Gaussian data ``Var(S_ij) = (C_ii C_jj + C_ij^2) / n``, so the bound
    shrinks as ``1 / sqrt(n)``; 5 standard deviations leave a chance of about
    1e-4 that one of a few hundred entries exceeds it by sampling alone, while
    a wrong model (a factor of 2 in a variance, a missing loading) misses by
    far more.
    """
    n = X.shape[0]
    sample = np.cov(X, rowvar=False)
    sd = np.sqrt((np.outer(np.diag(covariance), np.diag(covariance)) + covariance**2) / n)
    excess = np.abs(sample - covariance) / sd
    assert excess.max() < n_sd, (excess.max(), np.unravel_index(excess.argmax(), excess.shape))


# ------------------------------------------------------------ all generators
@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(make):
    first, second, other = make(50, random_state=3), make(50, random_state=3), make(50, random_state=4)
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.Z, second.Z)
    for key, value in first.params.items():
        np.testing.assert_array_equal(value, second.params[key])
    assert not np.allclose(first.X, other.X)


@pytest.mark.parametrize("make", GENERATORS)
def test_random_state_instance_is_used(make):
    rng = np.random.RandomState(7)
    assert not np.allclose(make(30, random_state=rng).X, make(30, random_state=rng).X)
    np.testing.assert_array_equal(make(30, random_state=np.random.RandomState(7)).X, make(30, random_state=7).X)


@pytest.mark.parametrize("make, z_shape, keys", [
    (make_factor_data, (40, 9), {"loadings", "uniquenesses", "mean", "covariance"}),
    (make_ppca_data, (40, 3), {"components", "noise_variance", "mean", "covariance"}),
    (make_mixture_data, (40,), {"weights", "means", "covariances", "covariance_type"}),
    (make_mfa_data, (40,), {"weights", "means", "loadings", "noise_variance", "covariances"}),
])
def test_shapes_and_named_tuple(make, z_shape, keys):
    result = make(40, random_state=0)
    X, Z, truth = result
    assert isinstance(result, lvm.datasets.Synthetic)
    assert result.X is X and result.Z is Z and result.params is truth
    assert X.shape == (40, {make_factor_data: 19, make_ppca_data: 20, make_mixture_data: 2, make_mfa_data: 20}[make])
    assert Z.shape == z_shape
    assert set(truth) == keys
    assert X.dtype == np.float64 and np.all(np.isfinite(X))


def test_shapes_follow_the_arguments():
    X, Z, truth = make_factor_data(30, 8, 2, random_state=0)
    assert X.shape == (30, 8) and Z.shape == (30, 2)
    assert truth["loadings"].shape == (8, 2) and truth["uniquenesses"].shape == (8,)
    assert truth["mean"].shape == (8,) and truth["covariance"].shape == (8, 8)
    X, Z, truth = make_ppca_data(30, 6, 2, random_state=0)
    assert X.shape == (30, 6) and Z.shape == (30, 2) and truth["components"].shape == (2, 6)
    assert truth["covariance"].shape == (6, 6)
    X, Z, truth = make_mixture_data(30, 4, 5, random_state=0)
    assert X.shape == (30, 4) and Z.shape == (30,) and truth["means"].shape == (5, 4)
    assert Z.dtype.kind == "i" and Z.min() >= 0 and Z.max() <= 4
    X, Z, truth = make_mfa_data(30, 6, 4, 3, random_state=0)
    assert X.shape == (30, 6) and Z.shape == (30,) and truth["means"].shape == (4, 6)
    assert truth["loadings"].shape == (4, 6, 3) and truth["noise_variance"].shape == (4, 6)
    assert truth["covariances"].shape == (4, 6, 6) and truth["weights"].shape == (4,)
    assert Z.dtype.kind == "i" and Z.min() >= 0 and Z.max() <= 3


# ----------------------------------------------------------------- factor
def test_default_factor_truth_has_simple_structure_and_unit_variances():
    _, _, truth = make_factor_data(random_state=0)
    L, psi = truth["loadings"], truth["uniquenesses"]
    np.testing.assert_allclose(np.diag(truth["covariance"]), 1.0, atol=1e-12)
    np.testing.assert_allclose(truth["covariance"], L @ L.T + np.diag(psi))
    np.testing.assert_array_equal(truth["mean"], np.zeros(19))
    assert psi.min() > 0.05
    main = np.abs(L).argmax(axis=1)
    np.testing.assert_array_equal(main, np.arange(19) * 9 // 19)
    assert np.all((L.max(axis=1) >= 0.5) & (L.max(axis=1) <= 0.9))
    off = np.ones_like(L, dtype=bool)
    off[np.arange(19), main] = False
    assert np.abs(L[off]).max() <= 0.1
    assert np.bincount(main, minlength=9).min() >= 2


def test_many_factors_still_leave_uniquenesses_above_the_floor():
    # 60 factors: 59 cross-loadings up to 0.1 would sum to more than the whole variance.
    _, _, truth = make_factor_data(100, 61, 60, random_state=0)
    L, psi = truth["loadings"], truth["uniquenesses"]
    assert psi.min() > 0.05
    np.testing.assert_allclose(np.diag(truth["covariance"]), 1.0, atol=1e-12)
    main = np.abs(L).max(axis=1)
    assert np.all((main >= 0.5) & (main <= 0.9))


def test_without_simple_structure():
    _, _, truth = make_factor_data(20, 30, 4, simple_structure=False, random_state=0)
    psi, L = truth["uniquenesses"], truth["loadings"]
    assert np.all((psi >= 0.2) & (psi <= 0.6))
    # N(0, 1/k) loadings: the sum of squares per row averages 1.
    assert 0.6 < np.mean(np.sum(L**2, axis=1)) < 1.4
    assert np.abs(L).max() > 0.9


def test_given_loadings_uniquenesses_and_mean_are_used():
    L = np.array([[0.8, 0.0], [0.7, 0.1], [0.6, 0.0], [0.0, 0.9], [0.1, 0.5]])
    _, _, truth = make_factor_data(10, 5, 2, loadings=L, random_state=0)
    np.testing.assert_array_equal(truth["loadings"], L)
    np.testing.assert_allclose(truth["uniquenesses"], 1 - np.sum(L**2, axis=1))
    psi, mu = np.full(5, 0.3), np.arange(5.0)
    X, _, truth = make_factor_data(200000, 5, 2, loadings=L, uniquenesses=psi, mean=mu, random_state=0)
    np.testing.assert_array_equal(truth["uniquenesses"], psi)
    np.testing.assert_allclose(truth["covariance"], L @ L.T + np.diag(psi))
    # Standard error of a mean is at most sqrt(1.1 / n) = 0.0023.
    np.testing.assert_allclose(X.mean(axis=0), mu, atol=0.012)
    _assert_covariance_close(X, truth["covariance"])


@pytest.mark.parametrize("make", [
    lambda n: make_factor_data(n, random_state=1),
    lambda n: make_factor_data(n, 12, 4, simple_structure=False, random_state=1),
    lambda n: make_ppca_data(n, random_state=1),
])
def test_sample_covariance_approaches_the_model_covariance(make):
    X, _, truth = make(100000)
    _assert_covariance_close(X, truth["covariance"])
    # The same check tells a wrong covariance apart at this n.
    wrong = truth["covariance"].copy()
    wrong[0, 0] *= 1.05
    with pytest.raises(AssertionError):
        _assert_covariance_close(X, wrong)


@pytest.mark.parametrize("make", [make_factor_data, make_ppca_data])
def test_latent_variables_are_standard_normal(make):
    _, Z, _ = make(100000, random_state=2)
    n, k = Z.shape
    # Standard errors: 1/sqrt(n) for a mean, sqrt(2/n) for a variance, 1/sqrt(n) for a covariance.
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=5 / np.sqrt(n))
    np.testing.assert_allclose(np.cov(Z, rowvar=False), np.eye(k), atol=5 * np.sqrt(2 / n))


def test_factor_analysis_recovers_the_loadings():
    X, _, truth = make_factor_data(20000, 12, 3, random_state=0)
    fa = lvm.FactorAnalysis(3, rotation="varimax").fit(X)
    estimated, true = np.asarray(fa.loadings_), truth["loadings"]
    congruence = (true.T @ estimated) / np.sqrt(np.outer(np.sum(true**2, axis=0), np.sum(estimated**2, axis=0)))
    # Factors are identified up to order and sign: take the best matching.
    best = max(itertools.permutations(range(3)), key=lambda perm: np.abs(congruence[range(3), perm]).sum())
    matched = np.abs(congruence[range(3), best])
    assert matched.min() >= 0.98, matched
    signs = np.sign(congruence[range(3), best])
    np.testing.assert_allclose(estimated[:, best] * signs, true, atol=0.05)
    np.testing.assert_allclose(fa.uniquenesses_, truth["uniquenesses"], atol=0.03)


# ------------------------------------------------------------------- PPCA
def test_ppca_truth_is_in_the_convention_of_lvm_ppca():
    _, _, truth = make_ppca_data(10, 8, 4, noise_variance=0.5, random_state=0)
    W = truth["components"].T
    gram = W.T @ W
    np.testing.assert_allclose(gram, np.diag(np.diag(gram)), atol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(gram)), [3.0, 7 / 3, 5 / 3, 1.0])
    rows = truth["components"]
    assert np.all(rows[np.arange(4), np.abs(rows).argmax(axis=1)] > 0)
    np.testing.assert_allclose(truth["covariance"], W @ W.T + 0.5 * np.eye(8))
    assert truth["noise_variance"] == 0.5
    np.testing.assert_array_equal(truth["mean"], np.zeros(8))


def test_ppca_recovers_noise_variance_and_subspace():
    X, _, truth = make_ppca_data(20000, 20, 3, noise_variance=0.1, random_state=0)
    ppca = lvm.PPCA(3).fit(X)
    assert ppca.noise_variance_ == pytest.approx(truth["noise_variance"], rel=0.05)
    angles = np.degrees(subspace_angles(ppca.components_.T, truth["components"].T))
    assert angles.max() < 2.0, angles
    # Distinct norms identify each axis, and the sign conventions agree.
    np.testing.assert_allclose(ppca.components_, truth["components"], atol=0.05)


# ---------------------------------------------------------------- mixture
@pytest.mark.parametrize("covariance_type, shape", [
    ("full", (3, 4, 4)), ("tied", (4, 4)), ("diag", (3, 4)), ("spherical", (3,)),
])
def test_mixture_covariances_in_the_storage_of_their_type(covariance_type, shape):
    X, Z, truth = make_mixture_data(90000, 4, 3, covariance_type=covariance_type, random_state=0)
    covariances = truth["covariances"]
    assert covariances.shape == shape and truth["covariance_type"] == covariance_type
    full = {
        "full": lambda c: c,
        "tied": lambda c: np.broadcast_to(c, (3, 4, 4)),
        "diag": lambda c: np.array([np.diag(v) for v in c]),
        "spherical": lambda c: c[:, None, None] * np.eye(4),
    }[covariance_type](covariances)
    for c in range(3):
        eigenvalues = np.linalg.eigvalsh(full[c])
        assert eigenvalues.min() >= 0.5 - 1e-12 and eigenvalues.max() <= 1.5 + 1e-12
        rows = X[Z == c]
        # Standard error of a component mean is at most sqrt(1.5 / 30000) = 0.007.
        np.testing.assert_allclose(rows.mean(axis=0), truth["means"][c], atol=0.035)
        _assert_covariance_close(rows, full[c])


def test_mixture_means_are_separation_largest_deviations_apart():
    _, _, truth = make_mixture_data(10, 3, 6, covariance_type="diag", separation=4.0, random_state=0)
    means = truth["means"]
    gaps = np.linalg.norm(means[:, None] - means[None, :], axis=-1)[np.triu_indices(6, 1)]
    assert gaps.min() == pytest.approx(4.0 * np.sqrt(truth["covariances"].max()))


def test_gaussian_mixture_recovers_well_separated_labels():
    X, Z, truth = make_mixture_data(3000, 2, 3, separation=6.0, random_state=0)
    gm = lvm.GaussianMixture(3, random_state=0).fit(X)
    assert adjusted_rand_score(Z, gm.predict(X)) >= 0.95


def test_component_sizes_follow_the_weights():
    weights = [0.5, 0.3, 0.15, 0.05]
    n = 100000
    _, Z, truth = make_mixture_data(n, 2, 4, weights=weights, random_state=0)
    np.testing.assert_allclose(truth["weights"], weights)
    observed = np.bincount(Z, minlength=4) / n
    # Multinomial proportions: standard error sqrt(w (1 - w) / n).
    w = np.array(weights)
    assert np.all(np.abs(observed - w) < 5 * np.sqrt(w * (1 - w) / n)), observed
    _, Z, _ = make_mixture_data(100, 2, 3, random_state=0)
    assert not np.all(np.diff(Z) >= 0), "rows should be shuffled, not sorted by component"


def test_single_component_and_one_feature():
    X, Z, truth = make_mixture_data(50, 1, 1, random_state=0)
    assert X.shape == (50, 1) and np.all(Z == 0) and truth["weights"].tolist() == [1.0]


# ------------------------------------------------ mixture of factor analyzers
def test_mfa_truth_is_a_factor_model_per_component():
    _, _, truth = make_mfa_data(10, 8, 3, 3, noise_variance=[0.1, 0.2, 0.3], random_state=0)
    loadings = truth["loadings"]
    for W, psi, covariance in zip(loadings, truth["noise_variance"], truth["covariances"], strict=True):
        np.testing.assert_allclose(W.T @ W, np.diag([9.0, 4.0, 1.0]), atol=1e-12)
        assert np.all(W[np.abs(W).argmax(axis=0), np.arange(3)] > 0)
        np.testing.assert_allclose(covariance, W @ W.T + np.diag(psi))
    # The subspaces are drawn independently: no two components share one.
    for a, b in itertools.combinations(range(3), 2):
        assert np.degrees(subspace_angles(loadings[a], loadings[b])).max() > 10


@pytest.mark.parametrize("noise_variance, expected", [
    (0.3, np.full((2, 4), 0.3)),
    ([0.1, 0.2], [[0.1] * 4, [0.2] * 4]),
    ([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]], [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]]),
])
def test_mfa_noise_variance_is_broadcast_to_components_and_features(noise_variance, expected):
    _, _, truth = make_mfa_data(10, 4, 2, 1, noise_variance=noise_variance, random_state=0)
    np.testing.assert_array_equal(truth["noise_variance"], expected)
    W = truth["loadings"]
    np.testing.assert_allclose(truth["covariances"] - W @ W.transpose(0, 2, 1),
                               [np.diag(row) for row in np.asarray(expected)], atol=1e-12)


def test_mfa_cluster_covariances_approach_their_factor_models():
    psi = np.random.default_rng(0).uniform(0.05, 0.5, size=(3, 10))
    X, Z, truth = make_mfa_data(150000, 10, 3, 2, noise_variance=psi, random_state=1)
    for c in range(3):
        rows = X[Z == c]
        # Standard error of a component mean is at most sqrt(9.5 / 50000) = 0.014.
        np.testing.assert_allclose(rows.mean(axis=0), truth["means"][c], atol=0.07)
        _assert_covariance_close(rows, truth["covariances"][c])
    wrong = truth["covariances"][0].copy()
    wrong[np.diag_indices(10)] -= truth["noise_variance"][0]
    with pytest.raises(AssertionError):
        _assert_covariance_close(X[Z == 0], wrong)


def test_mfa_clusters_lie_near_their_subspaces():
    X, Z, truth = make_mfa_data(30000, 20, 3, 2, random_state=2)
    for c in range(3):
        _, vectors = np.linalg.eigh(np.cov(X[Z == c], rowvar=False))
        # Sampling error of the top eigenvectors is about sqrt(1.05 * 0.05 / 10000)
        # radians per noise direction, 0.5 degrees over 18 of them.
        angles = np.degrees(subspace_angles(vectors[:, -2:], truth["loadings"][c]))
        assert angles.max() < 2.0, angles


def test_mfa_means_are_separation_largest_deviations_apart():
    _, _, truth = make_mfa_data(10, 6, 5, 2, separation=3.0, random_state=0)
    largest = np.linalg.eigvalsh(truth["covariances"]).max()
    # The largest loading norm squared plus the isotropic noise: the spread along the leading axis.
    assert largest == pytest.approx(3.0**2 + 0.05)
    means = truth["means"]
    gaps = np.linalg.norm(means[:, None] - means[None, :], axis=-1)[np.triu_indices(5, 1)]
    assert gaps.min() == pytest.approx(3.0 * np.sqrt(largest))


def test_mfa_without_factors_is_a_diagonal_mixture():
    X, Z, truth = make_mfa_data(60000, 3, 2, 0, noise_variance=[0.5, 2.0], random_state=0)
    assert truth["loadings"].shape == (2, 3, 0)
    np.testing.assert_array_equal(truth["covariances"], [np.diag([0.5] * 3), np.diag([2.0] * 3)])
    for c in range(2):
        _assert_covariance_close(X[Z == c], truth["covariances"][c])


def test_mfa_component_sizes_follow_the_weights():
    weights = [0.6, 0.3, 0.1]
    n = 100000
    _, Z, truth = make_mfa_data(n, 5, 3, 1, weights=weights, random_state=0)
    np.testing.assert_allclose(truth["weights"], weights)
    observed = np.bincount(Z, minlength=3) / n
    # Multinomial proportions: standard error sqrt(w (1 - w) / n).
    w = np.array(weights)
    assert np.all(np.abs(observed - w) < 5 * np.sqrt(w * (1 - w) / n)), observed
    _, Z, _ = make_mfa_data(100, random_state=0)
    assert not np.all(np.diff(Z) >= 0), "rows should be shuffled, not sorted by component"


def test_gaussian_mixture_recovers_mfa_labels():
    X, Z, _ = make_mfa_data(3000, random_state=0)
    gm = lvm.GaussianMixture(3, random_state=0).fit(X)
    assert adjusted_rand_score(Z, gm.predict(X)) >= 0.95


# ------------------------------------------------------------------ checks
@pytest.mark.parametrize("call, match", [
    (lambda: make_factor_data(100, 5, 5), "n_factors must be below n_features"),
    (lambda: make_factor_data(100, 5, 2, loadings=np.ones((5, 3))), r"loadings must have shape \(5, 2\)"),
    (lambda: make_factor_data(100, 5, 2, uniquenesses=np.ones(4)), r"uniquenesses must have shape \(5,\)"),
    (lambda: make_factor_data(100, 3, 1, uniquenesses=[0.5, 0.0, 0.2]), r"uniquenesses must be positive.*\[1\]"),
    (lambda: make_factor_data(100, 3, 1, loadings=[[0.5], [1.0], [0.2]]), r"variables \[1\] sum to 1 or more"),
    (lambda: make_factor_data(100, 3, 1, mean=np.zeros(2)), r"mean must have shape \(3,\)"),
    (lambda: make_factor_data(100, 3, 1, loadings=[[0.5], [np.nan], [0.2]]), "loadings must be finite"),
    (lambda: make_factor_data(0), "n_samples must be at least 1"),
    (lambda: make_factor_data(10.5), "n_samples must be an integer"),
    (lambda: make_ppca_data(100, 4, 4), "n_components must be below n_features"),
    (lambda: make_ppca_data(100, noise_variance=0.0), "noise_variance must be a positive"),
    (lambda: make_ppca_data(100, noise_variance=-1), "noise_variance must be a positive"),
    (lambda: make_mixture_data(100, covariance_type="general"), "covariance_type must be one of"),
    (lambda: make_mixture_data(100, separation=0), "separation must be a positive"),
    (lambda: make_mixture_data(100, n_components=0), "n_components must be at least 1"),
    (lambda: make_mixture_data(100, weights=[0.5, 0.5]), r"weights must have shape \(3,\)"),
    (lambda: make_mixture_data(100, weights=[0.5, 0.6, -0.1]), "weights must be non-negative"),
    (lambda: make_mixture_data(100, weights=[0.5, 0.3, 0.3]), "weights must sum to 1; they sum to 1.1"),
    (lambda: make_mfa_data(100, 5, 2, 5), "n_factors must be below n_features"),
    (lambda: make_mfa_data(100, n_factors=-1), "n_factors must be at least 0"),
    (lambda: make_mfa_data(100, n_factors=1.5), "n_factors must be an integer"),
    (lambda: make_mfa_data(100, n_features=0), "n_features must be at least 1"),
    (lambda: make_mfa_data(100, noise_variance=0.0), "noise_variance must be a positive"),
    (lambda: make_mfa_data(100, noise_variance="big"), "noise_variance must be a number or an array of numbers"),
    (lambda: make_mfa_data(100, noise_variance=None), "noise_variance must be a positive"),
    (lambda: make_mfa_data(100, noise_variance=True), "noise_variance must be a positive"),
    (lambda: make_mfa_data(100, noise_variance=[[0.1, 0.2], [0.3]]), "noise_variance must be a number or an array"),
    (lambda: make_mfa_data(100, noise_variance=np.ones(4)),
     r"noise_variance must be a number or an array of shape \(3,\) or \(3, 20\); got shape \(4,\)"),
    (lambda: make_mfa_data(100, noise_variance=[0.1, -0.1, 0.2]),
     r"noise_variance must be positive and finite; components \[1\]"),
    (lambda: make_mfa_data(100, 3, noise_variance=[[0.1] * 3, [0.1] * 3, [0.1, np.nan, 0.1]]), r"components \[2\]"),
    (lambda: make_mfa_data(100, noise_variance=["a", "b", "c"]), "noise_variance must be a number or an array of"),
    (lambda: make_mfa_data(100, separation=0), "separation must be a positive"),
    (lambda: make_mfa_data(100, weights=[0.5, 0.5]), r"weights must have shape \(3,\)"),
    (lambda: make_mfa_data(100, weights=[0.5, 0.3, 0.3]), "weights must sum to 1"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_weights_typed_as_decimals_are_accepted():
    _, _, truth = make_mixture_data(10, weights=[0.333, 0.333, 0.333], random_state=0)
    np.testing.assert_allclose(truth["weights"], 1 / 3)


# ---------------------------------------------------------------- as_frame
def test_as_frame():
    X, Z, _ = make_factor_data(20, 5, 2, random_state=0, as_frame=True)
    assert isinstance(X, pd.DataFrame) and list(X.columns) == ["x1", "x2", "x3", "x4", "x5"]
    assert isinstance(Z, pd.DataFrame) and list(Z.columns) == ["F1", "F2"]
    np.testing.assert_array_equal(X.to_numpy(), make_factor_data(20, 5, 2, random_state=0).X)
    X, Z, _ = make_ppca_data(20, 4, 3, random_state=0, as_frame=True)
    assert list(X.columns) == ["x1", "x2", "x3", "x4"] and list(Z.columns) == ["Z1", "Z2", "Z3"]
    X, Z, _ = make_mixture_data(20, 3, random_state=0, as_frame=True)
    assert list(X.columns) == ["x1", "x2", "x3"]
    assert isinstance(Z, pd.Series) and Z.name == "component"
    np.testing.assert_array_equal(Z.to_numpy(), make_mixture_data(20, 3, random_state=0).Z)
    X, Z, _ = make_mfa_data(20, 4, 2, 1, random_state=0, as_frame=True)
    assert list(X.columns) == ["x1", "x2", "x3", "x4"]
    assert isinstance(Z, pd.Series) and Z.name == "component"
    plain = make_mfa_data(20, 4, 2, 1, random_state=0)
    np.testing.assert_array_equal(X.to_numpy(), plain.X)
    np.testing.assert_array_equal(Z.to_numpy(), plain.Z)
