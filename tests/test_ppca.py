"""Probabilistic PCA against the Tipping & Bishop (1999) closed form, the
conditional Gaussian, scikit-learn's Minka dimension choice, and EM invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, stats
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA as SklearnPCA

import lvm
from lvm.exceptions import ConvergenceWarning


def low_rank_data(rng, n=400, p=12, k=3, noise=0.3, offset=5.0):
    """x = W z + mu + e with a clear gap between signal and noise eigenvalues."""
    W = rng.normal(size=(p, k)) * np.linspace(3.0, 1.5, k)
    Z = rng.normal(size=(n, k))
    return Z @ W.T + offset * rng.normal(size=p) + noise * rng.normal(size=(n, p))


def tipping_bishop_loglik(X, k):
    """Total log-likelihood at the ML solution, written from the paper (eqs. 4, 7, 8)."""
    n, p = X.shape
    S = np.cov(X, rowvar=False, bias=True)
    values, vectors = linalg.eigh(S)
    values, vectors = values[::-1], vectors[:, ::-1]
    sigma2 = values[k:].mean()
    W = vectors[:, :k] * np.sqrt(values[:k] - sigma2)
    C = W @ W.T + sigma2 * np.eye(p)
    _, logdet = np.linalg.slogdet(C)
    return -n / 2 * (p * np.log(2 * np.pi) + logdet + np.trace(np.linalg.solve(C, S)))


def test_iris_loglik_is_exact_maximum_likelihood():
    X = load_iris().data
    model = lvm.PPCA(2).fit(X)
    expected = tipping_bishop_loglik(X, 2)
    assert model.log_likelihood_ == pytest.approx(expected, rel=1e-12)
    assert model.log_likelihood_ == pytest.approx(-404.9628, abs=5e-5)
    assert model.score_samples(X).sum() == pytest.approx(expected, rel=1e-12)
    # scikit-learn's PCA.score uses the n - 1 covariance, so it is not the maximum.
    sklearn_total = SklearnPCA(2).fit(X).score(X) * len(X)
    assert sklearn_total == pytest.approx(-404.9695, abs=5e-5)
    assert model.log_likelihood_ > sklearn_total


def test_score_samples_equals_dense_gaussian(seed):
    X = low_rank_data(np.random.default_rng(seed))
    model = lvm.PPCA(3).fit(X)
    dense = stats.multivariate_normal(model.mean_, model.get_covariance()).logpdf(X)
    np.testing.assert_allclose(model.score_samples(X), dense, rtol=1e-12)


def test_transform_is_posterior_mean_of_joint_gaussian(seed):
    rng = np.random.default_rng(seed)
    X = low_rank_data(rng)
    model = lvm.PPCA(3).fit(X)
    W, mu, s2 = model.components_.T, model.mean_, model.noise_variance_
    # Joint Gaussian of (x, z): Cov[x] = W W^T + s2 I, Cov[z, x] = W^T, Cov[z] = I.
    cov_xx = W @ W.T + s2 * np.eye(len(mu))
    gain = np.linalg.solve(cov_xx, W).T  # Cov[z,x] Cov[x]^-1
    expected_mean = (X - mu) @ gain.T
    expected_cov = np.eye(3) - gain @ W
    post = model.posterior(X)
    np.testing.assert_allclose(post.mean, expected_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(post.covariance, expected_cov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(model.transform(X), expected_mean, rtol=1e-10, atol=1e-12)
    # It is not scikit-learn's projection: the posterior mean is shrunk.
    projection = SklearnPCA(3).fit(X).transform(X)
    assert not np.allclose(np.abs(model.transform(X)), np.abs(projection), rtol=1e-3)


def test_em_converges_to_closed_form(seed):
    # EM's rate on the scale of w_j is about 1 - s2 / lambda_j, so a noise level
    # comparable to the signal keeps the iteration count in the hundreds.
    X = low_rank_data(np.random.default_rng(seed), p=8, noise=1.0)
    closed = lvm.PPCA(3).fit(X)
    em = lvm.PPCA(3, method="em", tol=1e-11, max_iter=5000, random_state=seed).fit(X)
    assert em.converged_
    assert abs(em.history_[-1] - closed.history_[-1]) < 1e-6
    np.testing.assert_allclose(em.noise_variance_, closed.noise_variance_, rtol=1e-5)
    np.testing.assert_allclose(em.components_, closed.components_, rtol=1e-4, atol=1e-4)


def _assert_never_decreases(history):
    drops = np.diff(history)
    assert drops.min() >= -1e-10 * max(1.0, np.abs(history).max()), drops.min()


@settings(max_examples=25)
@given(
    n=st.integers(15, 120),
    p=st.integers(3, 9),
    k_frac=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
    noise=st.floats(0.05, 2.0),
)
def test_em_loglik_never_decreases(n, p, k_frac, seed, noise):
    rng = np.random.default_rng(seed)
    k = 1 + int(k_frac * (p - 2))
    X = low_rank_data(rng, n=n, p=p, k=max(1, k - 1), noise=noise)
    model = lvm.PPCA(k, method="em", tol=0.0, max_iter=60, random_state=seed)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    _assert_never_decreases(model.history_)


@settings(max_examples=20)
@given(
    n=st.integers(20, 100),
    p=st.integers(4, 9),
    seed=st.integers(0, 2**31 - 1),
    fraction=st.floats(0.05, 0.35),
)
def test_missing_em_loglik_never_decreases(n, p, seed, fraction):
    rng = np.random.default_rng(seed)
    X = low_rank_data(rng, n=n, p=p, k=2, noise=0.5)
    X[rng.random(X.shape) < fraction] = np.nan
    X[:, np.isnan(X).all(axis=0)] = 0.0
    model = lvm.PPCA(2, missing="em", tol=0.0, max_iter=40)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    _assert_never_decreases(model.history_)


MLE_DATASETS = {
    "iris": lambda rng: load_iris().data,
    "rank2_p6": lambda rng: low_rank_data(rng, n=500, p=6, k=2, noise=0.2),
    "rank4_p15": lambda rng: low_rank_data(rng, n=800, p=15, k=4, noise=0.5),
    "rank1_p5": lambda rng: low_rank_data(rng, n=300, p=5, k=1, noise=0.3),
    "rank6_p20": lambda rng: low_rank_data(rng, n=2000, p=20, k=6, noise=1.0),
    "isotropic_p8": lambda rng: rng.normal(size=(400, 8)) @ np.diag([4, 3, 1, 1, 1, 1, 1, 1.0]),
    "digits": lambda rng: lvm.datasets.load_digits().data[:, [2, 3, 4, 5, 10, 11, 12, 13, 18, 19, 20, 21]],
}


@pytest.mark.parametrize("name", sorted(MLE_DATASETS))
def test_mle_dimension_matches_scikit_learn(name):
    X = MLE_DATASETS[name](np.random.default_rng(0))
    expected = SklearnPCA(n_components="mle", svd_solver="full").fit(X).n_components_
    model = lvm.PPCA("mle").fit(X)
    assert model.n_components_ == expected
    assert model.evidence_.shape == (X.shape[1] - 1,)


def test_missing_em_beats_mean_imputation(seed):
    rng = np.random.default_rng(seed)
    X = low_rank_data(rng, n=500, p=20, k=3, noise=0.6)
    holes = rng.random(X.shape) < 0.2
    X_missing = np.where(holes, np.nan, X)
    em = lvm.PPCA(3, missing="em", tol=1e-9, max_iter=2000).fit(X_missing)
    em_fill = em.reconstruct(X_missing)
    imputed = np.where(holes, np.nanmean(X_missing, axis=0), X_missing)
    baseline = lvm.PPCA(3).fit(imputed)
    base_fill = baseline.reconstruct(imputed)
    em_error = np.sqrt(np.mean((em_fill[holes] - X[holes]) ** 2))
    base_error = np.sqrt(np.mean((base_fill[holes] - X[holes]) ** 2))
    assert em_error < 0.7 * base_error, (em_error, base_error)
    _assert_never_decreases(em.history_)
    # The fit is of the observed entries only: its likelihood is the sum of the
    # marginal densities of each row's observed coordinates.
    dense = 0.0
    C = em.get_covariance()
    for row in X_missing:
        seen = ~np.isnan(row)
        dense += stats.multivariate_normal(em.mean_[seen], C[np.ix_(seen, seen)]).logpdf(row[seen])
    assert em.log_likelihood_ == pytest.approx(dense, rel=1e-10)


def test_missing_posterior_conditions_on_observed_entries(seed):
    rng = np.random.default_rng(seed)
    X = low_rank_data(rng, n=60, p=8, k=2)
    model = lvm.PPCA(2).fit(X)
    row = X[:1].copy()
    row[0, [1, 4, 5]] = np.nan
    W, mu, s2 = model.components_.T, model.mean_, model.noise_variance_
    seen = ~np.isnan(row[0])
    cov = W[seen] @ W[seen].T + s2 * np.eye(seen.sum())
    gain = np.linalg.solve(cov, W[seen]).T
    nan_model = lvm.PPCA(2, missing="em").fit(X)
    post = nan_model.posterior(row)
    np.testing.assert_allclose(post.mean[0], gain @ (row[0, seen] - mu[seen]), rtol=1e-10)
    np.testing.assert_allclose(post.covariance[0], np.eye(2) - gain @ W[seen], rtol=1e-10, atol=1e-14)


def test_partial_fit_equals_fit(seed):
    X = low_rank_data(np.random.default_rng(seed), n=3000, p=15, k=4)
    whole = lvm.PPCA(4).fit(X)
    stream = lvm.PPCA(4)
    for chunk in np.split(X, [7, 500, 1999]):
        stream.partial_fit(chunk)
    for name in ("components_", "mean_", "noise_variance_", "explained_variance_"):
        np.testing.assert_allclose(getattr(stream, name), getattr(whole, name), rtol=1e-10, atol=1e-12)
    assert stream.n_samples_ == 3000
    assert stream.log_likelihood_ == pytest.approx(whole.log_likelihood_, rel=1e-12)


def test_sample_reproduces_model_covariance(seed):
    X = low_rank_data(np.random.default_rng(seed), n=300, p=6, k=2)
    model = lvm.PPCA(2).fit(X)
    draws, latents = model.sample(200_000, random_state=seed)
    assert latents.shape == (200_000, 2)
    covariance = model.get_covariance()
    np.testing.assert_allclose(np.cov(draws, rowvar=False), covariance, atol=0.05 * np.abs(covariance).max())
    again, _ = model.sample(10, random_state=seed)
    np.testing.assert_array_equal(again, model.sample(10, random_state=seed)[0])


def test_information_criteria_use_textbook_parameter_count():
    X = load_iris().data
    model = lvm.PPCA(2).fit(X)
    n, p, k = 150, 4, 2
    m = p * k - k * (k - 1) // 2 + 1 + p
    assert model.n_parameters_ == m
    ll = tipping_bishop_loglik(X, 2)
    assert model.bic(X) == pytest.approx(-2 * ll + m * np.log(n), rel=1e-12)
    assert model.aic(X) == pytest.approx(-2 * ll + 2 * m, rel=1e-12)


def test_canonical_loadings_are_orthogonal_and_sorted(seed):
    X = low_rank_data(np.random.default_rng(seed), p=8, noise=1.0)
    W = lvm.PPCA(3, method="em", tol=1e-8, random_state=seed).fit(X).components_.T
    gram = W.T @ W
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-8 * gram.max())
    assert np.all(np.diff(np.diag(gram)) < 0)


def test_callback_sees_every_iteration(seed):
    X = low_rank_data(np.random.default_rng(seed))
    seen = []
    model = lvm.PPCA(3, method="em", max_iter=5, tol=0.0, random_state=seed,
                     callback=lambda it, params: seen.append((it, params["noise_variance"])))
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        model.fit(X)
    assert [it for it, _ in seen] == list(range(6))
    assert model.history_.shape == (6,)


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({"n_components": 6}, np.random.default_rng(0).normal(size=(50, 6)), "at most min"),
        ({"n_components": 2}, np.random.default_rng(0).normal(size=(50, 1)) @ np.ones((1, 5)), "rank 1"),
        ({"n_components": "mle"}, np.random.default_rng(0).normal(size=(5, 8)), "more samples than features"),
        ({"method": "newton"}, np.ones((5, 3)), "method='newton'"),
    ],
)
def test_invalid_settings_are_named(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        lvm.PPCA(**kwargs).fit(X)
