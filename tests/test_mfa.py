"""Mixtures of factor analyzers and of probabilistic PCA, checked against the models they generalise.

The references are lvm's own FactorAnalysis (itself checked against R's
factanal and psych), PPCA (against scikit-learn's PCA log-likelihood) and
GaussianMixture (against scikit-learn step by step), and densities computed
here from the full covariance matrices with scipy.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.metrics import adjusted_rand_score

import lvm
from lvm.exceptions import ConvergenceWarning, DegenerateComponentWarning, LikelihoodDecreaseWarning

MODELS = (lvm.MixtureOfFactorAnalyzers, lvm.MixtureOfPPCA)


def _subspace_clusters(seed, n=1000, p=20, q=2, k=3, noise=0.3):
    """``k`` clusters of ``n`` rows, each near its own ``q``-dimensional subspace of ``R^p``."""
    rng = np.random.default_rng(seed)
    X, labels, bases = [], [], []
    for j in range(k):
        basis = np.linalg.qr(rng.standard_normal((p, q)))[0]
        mean = rng.standard_normal(p) * 5.0
        X.append(mean + rng.standard_normal((n, q)) * np.linspace(3.0, 1.5, q) @ basis.T
                 + noise * rng.standard_normal((n, p)))
        labels += [j] * n
        bases.append(basis)
    return np.vstack(X), np.array(labels), bases


def _quiet(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


# ------------------------------------------------------------ limits
@pytest.mark.parametrize("algorithm", ["aecm", "em"])
@pytest.mark.parametrize("q", [1, 2, 3])
def test_one_component_reaches_factor_analysis_maximum(q, algorithm):
    X = lvm.datasets.load_holzinger_swineford()[[f"x{i}" for i in range(1, 10)]].to_numpy(dtype=float)
    fa = lvm.FactorAnalysis(q).fit(X)
    mfa = _quiet(lvm.MixtureOfFactorAnalyzers(1, q, algorithm=algorithm, tol=1e-12, max_iter=50_000), X)
    assert mfa.score(X) == pytest.approx(fa.score(X), abs=1e-6)
    # The same fitted model, not only the same likelihood: ML is scale-equivariant,
    # so the implied covariance, standardised, is factor analysis' implied correlation.
    loadings = fa.loadings_array()
    implied = mfa.covariances()[0]
    sd = np.sqrt(np.diag(implied))
    np.testing.assert_allclose(implied / np.outer(sd, sd), loadings @ loadings.T + np.diag(fa.uniquenesses_),
                               atol=1e-5)


@pytest.mark.parametrize("algorithm", ["aecm", "em"])
@pytest.mark.parametrize("q", [1, 3])
def test_one_component_reaches_probabilistic_pca_maximum(q, algorithm):
    X = _subspace_clusters(1, n=400, p=8, q=3, k=1)[0]
    ppca = lvm.PPCA(q).fit(X)
    mppca = _quiet(lvm.MixtureOfPPCA(1, q, algorithm=algorithm, tol=1e-13, max_iter=50_000), X)
    assert mppca.score(X) == pytest.approx(ppca.score(X), abs=1e-6)
    assert mppca.noise_variance_[0] == pytest.approx(ppca.noise_variance_, rel=1e-5)


@pytest.mark.parametrize("cls, covariance_type", [(lvm.MixtureOfFactorAnalyzers, "diag"),
                                                  (lvm.MixtureOfPPCA, "spherical")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_factors_is_the_gaussian_mixture_step_by_step(cls, covariance_type, seed):
    X = lvm.datasets.make_mixture_data(300, 4, 3, covariance_type=covariance_type, separation=1.5,
                                       random_state=seed).X
    start = _quiet(cls(3, 0, algorithm="em", max_iter=0, reg=0.0, random_state=seed), X)
    noise = start.uniquenesses_ if cls is lvm.MixtureOfFactorAnalyzers else start.noise_variance_
    steps = []
    mixture = cls(3, 0, algorithm="em", max_iter=40, tol=0.0, reg=0.0, random_state=seed,
                  callback=lambda i, params: steps.append(params["means"] + params["center"]))
    gmm_steps = []
    gmm = lvm.GaussianMixture(3, covariance_type=covariance_type, weights_init=start.weights_,
                              means_init=start.means_, precisions_init=1.0 / noise, max_iter=40, tol=0.0,
                              reg_covar=0.0, callback=lambda i, params: gmm_steps.append(
                                  params["means"] + params.get("center", 0.0)))
    _quiet(mixture, X)
    _quiet(gmm, X)
    assert len(mixture.history_) == len(gmm.history_) == 41
    np.testing.assert_allclose(mixture.history_, gmm.history_, rtol=0, atol=1e-10)
    scale = np.abs(X).max()
    for ours, theirs in zip(steps, gmm_steps, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10 * scale)


# ------------------------------------------------------- the densities
@pytest.mark.parametrize("cls", MODELS)
def test_densities_and_posteriors_equal_the_full_covariance_formulas(cls):
    X, _, _ = _subspace_clusters(3, n=150, p=6, q=2)
    model = _quiet(cls(3, 2, random_state=0, max_iter=20), X)
    full = model.covariances()
    per_component = np.stack([multivariate_normal(model.means_[j], full[j]).logpdf(X) for j in range(3)], axis=1)
    expected = logsumexp(per_component + np.log(model.weights_), axis=1)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-12, atol=1e-10)
    post = model.posterior(X)
    np.testing.assert_allclose(post.responsibilities, np.exp(per_component + np.log(model.weights_)
                                                             - expected[:, None]), atol=1e-12)
    for j in range(3):
        W = model.loadings_[j]
        gain = linalg.solve(full[j], W, assume_a="pos")
        np.testing.assert_allclose(post.means[:, j], (X - model.means_[j]) @ gain, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(post.covariances[j], np.eye(2) - W.T @ gain, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.transform(X), np.einsum("nk,nkq->nq", post.responsibilities, post.means))


@pytest.mark.parametrize("cls", MODELS)
def test_missing_entries_are_marginalised(cls):
    X, _, _ = _subspace_clusters(4, n=120, p=6, q=2)
    rng = np.random.default_rng(4)
    holes = rng.random(X.shape) < 0.15
    holes[:, 0] = False
    X_missing = np.where(holes, np.nan, X)
    model = _quiet(cls(3, 2, missing="em", random_state=0, max_iter=30), X_missing)
    assert np.all(np.diff(model.history_) >= -1e-10 * np.abs(model.history_[1:]))
    full = model.covariances()
    expected = []
    for row in X_missing:
        seen = ~np.isnan(row)
        terms = [np.log(model.weights_[j]) + multivariate_normal(model.means_[j][seen],
                                                                 full[j][np.ix_(seen, seen)]).logpdf(row[seen])
                 for j in range(3)]
        expected.append(logsumexp(terms))
    np.testing.assert_allclose(model.score_samples(X_missing), expected, rtol=1e-12, atol=1e-10)
    # Without holes the missing-data path is the complete-data one.
    complete = _quiet(cls(3, 2, random_state=0, max_iter=30), X)
    with_flag = _quiet(cls(3, 2, missing="em", random_state=0, max_iter=30), X)
    np.testing.assert_allclose(with_flag.history_, complete.history_, rtol=1e-12)


# ------------------------------------------------------- monotone EM
_REFUSALS = r"n_factors|n_components|constant|[Rr]escale|no observed value|variance"


@settings(max_examples=60)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 3), q=st.integers(0, 3), p=st.integers(2, 7),
       extra=st.integers(2, 60), kind=st.sampled_from(["mfa", "mfa shared", "mppca"]),
       algorithm=st.sampled_from(["aecm", "em"]),
       init=st.sampled_from(["kmeans", "kmeans++", "random", "hierarchical"]),
       missing=st.booleans(), separation=st.floats(0, 6), magnitude=st.floats(-6, 6),
       column_scales=st.floats(0, 8), duplicates=st.booleans())
def test_the_likelihood_never_decreases(seed, k, q, p, extra, kind, algorithm, init, missing, separation,
                                        magnitude, column_scales, duplicates):
    # Near-duplicate rows and column scales spread over up to 1e-8 .. 1e8 put
    # noise variances on their floor.
    rng = np.random.default_rng(seed)
    n = k + extra
    X = rng.normal(size=(n, p)) + separation * rng.normal(size=(k, p))[rng.integers(0, k, n)]
    if duplicates:
        X = X[rng.integers(0, n, size=n)] + rng.normal(size=(n, p)) * 1e-9
    X *= 10.0 ** (magnitude + rng.uniform(-column_scales, column_scales, size=p))
    if missing:
        holes = rng.random(X.shape) < 0.2
        holes[:, rng.integers(p)] = False
        X = np.where(holes, np.nan, X)
    options = {"algorithm": algorithm, "init": init, "tol": 0.0, "max_iter": 25, "random_state": seed,
               "missing": "em" if missing else "error"}
    if kind == "mppca":
        model = lvm.MixtureOfPPCA(k, q, **options)
    else:
        model = lvm.MixtureOfFactorAnalyzers(k, q, shared_uniquenesses=kind == "mfa shared", **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        warnings.simplefilter("error", LikelihoodDecreaseWarning)
        try:
            model.fit(X)
        except ValueError as error:
            assert re.search(_REFUSALS, str(error)), str(error)
            return
    history = model.history_
    assert np.all(np.isfinite(history))
    assert np.all(np.diff(history) >= -1e-10 * np.maximum(1.0, np.abs(history[1:])))


# ------------------------------------------------------- what it finds
@pytest.mark.parametrize("cls", MODELS)
def test_three_clusters_in_their_own_planes_are_found(cls):
    X, labels, bases = _subspace_clusters(0)
    model = _quiet(cls(3, 2, random_state=0), X)
    predicted = model.predict(X)
    assert adjusted_rand_score(labels, predicted) >= 0.95
    for j, basis in enumerate(bases):
        component = np.bincount(predicted[labels == j]).argmax()
        angles = np.degrees(linalg.subspace_angles(model.loadings_[component], basis))
        assert angles.max() < 5.0, (j, angles)


def test_aecm_and_em_reach_the_same_maximum():
    X, _, _ = _subspace_clusters(2, n=300)
    aecm = _quiet(lvm.MixtureOfFactorAnalyzers(3, 2, tol=1e-10, random_state=0), X)
    em = _quiet(lvm.MixtureOfFactorAnalyzers(3, 2, algorithm="em", tol=1e-10, random_state=0), X)
    assert aecm.lower_bound_ == pytest.approx(em.lower_bound_, abs=1e-6)
    assert adjusted_rand_score(aecm.predict(X), em.predict(X)) == 1.0


def test_shared_uniquenesses_are_one_diagonal():
    X, _, _ = _subspace_clusters(5, n=200)
    shared = _quiet(lvm.MixtureOfFactorAnalyzers(3, 2, shared_uniquenesses=True, random_state=0), X)
    free = _quiet(lvm.MixtureOfFactorAnalyzers(3, 2, random_state=0), X)
    assert np.ptp(shared.uniquenesses_, axis=0).max() == 0.0
    p = X.shape[1]
    assert free.n_parameters_ - shared.n_parameters_ == 2 * p
    assert free.n_parameters_ == 2 + 3 * p + 3 * (2 * p - 1) + 3 * p


# ------------------------------------------------------- the user's view
def test_summary_names_the_features_and_the_model_round_trips(tmp_path):
    frame = lvm.datasets.make_mixture_data(200, 5, 2, random_state=0, as_frame=True).X
    model = _quiet(lvm.MixtureOfFactorAnalyzers(2, 2, random_state=0, latent_names=["a", "b"]), frame)
    summary = model.summary()
    assert list(summary.tables["loadings"].columns) == ["a", "b"]
    assert list(summary.tables["loadings"].loc["component 0"].index) == list(frame.columns)
    assert "Mixture of factor analyzers" in str(summary)
    model.set_output(transform="pandas")
    assert list(model.transform(frame).columns) == ["a", "b"]
    loaded = lvm.load(model.save(tmp_path / "mfa.npz"))
    np.testing.assert_array_equal(loaded.score_samples(frame), model.score_samples(frame))


def test_samples_come_from_the_fitted_model():
    X, _, _ = _subspace_clusters(6, n=300, p=5)
    model = _quiet(lvm.MixtureOfPPCA(3, 2, random_state=0), X)
    draws, labels = model.sample(60_000, random_state=1)
    assert np.bincount(labels, minlength=3) / 60_000 == pytest.approx(model.weights_, abs=0.01)
    for j in range(3):
        rows = draws[labels == j]
        np.testing.assert_allclose(np.cov(rows.T), model.covariances()[j], atol=0.1 * np.abs(
            model.covariances()[j]).max())
    np.testing.assert_array_equal(model.sample(5, random_state=2)[0], model.sample(5, random_state=2)[0])


def test_inverse_transform_and_reconstruct():
    X, _, _ = _subspace_clusters(7, n=200, p=5)
    model = _quiet(lvm.MixtureOfFactorAnalyzers(3, 2, random_state=0), X)
    Z = np.random.default_rng(0).standard_normal((4, 2))
    np.testing.assert_allclose(model.inverse_transform(Z, component=1), model.means_[1] + Z @ model.loadings_[1].T)
    np.testing.assert_allclose(model.inverse_transform(Z), sum(
        w * model.inverse_transform(Z, component=j) for j, w in enumerate(model.weights_)))
    with pytest.raises(ValueError, match="component must be an integer"):
        model.inverse_transform(Z, component=3)
    post = model.posterior(X[:10])
    expected = sum(post.responsibilities[:, [j]] * (model.means_[j] + post.means[:, j] @ model.loadings_[j].T)
                   for j in range(3))
    np.testing.assert_allclose(model.reconstruct(X[:10]), expected)


@pytest.mark.parametrize("cls", MODELS)
def test_bad_input_is_refused_by_name(cls):
    X = np.random.default_rng(0).normal(size=(50, 4))
    with pytest.raises(ValueError, match="n_factors=4 must be below n_features=4"):
        cls(2, 4).fit(X)
    with pytest.raises(ValueError, match="n_components=60 needs at least 60 samples"):
        cls(60, 1).fit(X)
    with pytest.raises(ValueError, match="algorithm"):
        cls(2, 1, algorithm="gibbs").fit(X)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="missing='em'"):
        cls(2, 1).fit(X)
