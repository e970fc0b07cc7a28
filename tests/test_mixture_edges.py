"""Gaussian mixtures at the numerical edges: far from the origin, tiny or badly scaled data, collapse, bad starts."""

import copy
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGM

import lvm
from lvm.exceptions import DegenerateComponentWarning, LikelihoodDecreaseWarning
from lvm.mixture._covariance import COVARIANCE_TYPES, MCLUST_ALIASES, MCLUST_ORDER

TYPES = ["full", "tied", "diag", "spherical"]
ALL_TYPES = TYPES + [name for name in MCLUST_ORDER if name not in MCLUST_ALIASES]


def two_tight_clusters(rng, offset, n=200, p=3):
    """Two clusters of ``n`` rows with spreads 1e-2 .. 1 per coordinate, the second moved by ``offset``."""
    scales = np.logspace(-2, 0, p)
    first = rng.normal(size=(n, p)) * scales
    second = rng.normal(size=(n, p)) * scales[::-1] + offset
    return np.vstack([first, second])


def _dense_log_density(model, X):
    """``log sum_k pi_k N(x | mu_k, Sigma_k)`` by scipy, each density evaluated at ``x - mu_k``."""
    k, p = model.means_.shape
    full = COVARIANCE_TYPES[model.covariance_type].to_full(model.covariances_, k, p)
    terms = [np.log(w) + stats.multivariate_normal(np.zeros(p), c).logpdf(X - m)
             for w, m, c in zip(model.weights_, model.means_, full, strict=True)]
    return logsumexp(np.column_stack(terms), axis=1)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_clusters_far_apart_score_as_computed_from_differences(covariance_type, seed):
    X = two_tight_clusters(np.random.default_rng(seed), 1e7)
    model = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(X)
    # Near 1e7 a row and a mean are known to spacing(1e7) = 1.9e-9, 1.9e-7 standard
    # deviations of the tightest coordinate; either way of rounding x - mu then moves
    # z^2 / 2 by up to about 1e-6 at z = 3, so both densities are defined to 1e-6 nats.
    np.testing.assert_allclose(model.score_samples(X), _dense_log_density(model, X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X).max(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_clusters_far_apart_fit_as_clusters_near(covariance_type, seed):
    # Separated by 50 (at least 50 standard deviations in every coordinate) or
    # by 1e7, the clusters get the same responsibilities, so the same weights
    # and covariances, and means moved by the difference.
    rng = np.random.default_rng(seed)
    near_X = two_tight_clusters(rng, 50.0)
    far_X = near_X.copy()
    far_X[200:] += 1e7 - 50.0
    near = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(near_X)
    far = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(far_X)
    order_near, order_far = np.argsort(near.means_[:, 0]), np.argsort(far.means_[:, 0])
    np.testing.assert_allclose(far.lower_bound_, near.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(far.weights_[order_far], near.weights_[order_near], rtol=1e-6)
    shift = np.array([[0.0], [1e7 - 50.0]])
    np.testing.assert_allclose(far.means_[order_far] - shift, near.means_[order_near], rtol=1e-6, atol=1e-7)
    covariances_far, covariances_near = far.covariances_, near.covariances_
    if covariance_type != "tied":
        covariances_far, covariances_near = covariances_far[order_far], covariances_near[order_near]
    np.testing.assert_allclose(covariances_far, covariances_near, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(np.argsort(order_far)[far.predict(far_X)],
                                  np.argsort(order_near)[near.predict(near_X)])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_translated_data_score_and_fit_as_the_original(covariance_type, seed):
    X = two_tight_clusters(np.random.default_rng(seed), 5.0)
    # Rounded to the grid of numbers near 1e7, so that X + 1e7 is exactly X moved.
    X = (X + 1e7) - 1e7
    model = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(X)
    # The means too go on that grid, so that both models are exactly one moved.
    model.means_ = (model.means_ + 1e7) - 1e7
    moved = copy.deepcopy(model)
    moved.means_ = model.means_ + 1e7
    np.testing.assert_allclose(moved.score_samples(X + 1e7), model.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(moved.predict_proba(X + 1e7), model.predict_proba(X), rtol=1e-6, atol=1e-12)
    refit = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(X + 1e7)
    np.testing.assert_allclose(refit.score_samples(X + 1e7), model.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(refit.lower_bound_, model.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(refit.means_ - 1e7, model.means_, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(refit.predict(X + 1e7), model.predict(X))


# Messages of lvm's refusals of data EM cannot fit in double precision: each says what to change.
_REFUSALS = r"reg_covar|[Rr]escale|scale the|no observed value|n_components|constant"


@settings(max_examples=120)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 3), p=st.integers(1, 3), extra=st.integers(1, 40),
       covariance_type=st.sampled_from(ALL_TYPES), init=st.sampled_from(["kmeans++", "kmeans", "random"]),
       reg_covar=st.sampled_from([0.0, 1e-6, 1e-3]), magnitude=st.floats(-150, 150),
       column_scales=st.floats(0, 20), duplicates=st.booleans(), offset=st.floats(0, 10),
       missing=st.booleans())
def test_em_never_lowers_the_likelihood_at_the_edges(seed, k, p, extra, covariance_type, init, reg_covar,
                                                      magnitude, column_scales, duplicates, offset, missing):
    # Tiny samples (n = k + 1 upwards), near-duplicate rows, magnitudes 1e-150 .. 1e150,
    # column scales spread over up to 1e-20 .. 1e20, data far from the origin, missing entries.
    rng = np.random.default_rng(seed)
    n = k + extra
    X = rng.normal(size=(n, p))
    if duplicates:
        X = X[rng.integers(0, n, size=n)] + rng.normal(size=(n, p)) * 10.0 ** rng.uniform(-15, -6)
    X *= 10.0 ** (magnitude + rng.uniform(-column_scales, column_scales, size=p))
    X += rng.normal(size=p) * 10.0**offset * np.abs(X).max()
    if missing:
        holes = rng.random(X.shape) < 0.2
        holes[:, rng.integers(p)] = False
        X = np.where(holes, np.nan, X)
    model = lvm.GaussianMixture(k, covariance_type=covariance_type, init=init, reg_covar=reg_covar, tol=0.0,
                                max_iter=30, missing="em" if missing else "error", random_state=seed)
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


@pytest.mark.parametrize("covariance_type, init, random_state",
                         [("full", "kmeans++", 3), ("full", "random", 2), ("diag", "kmeans++", 0),
                          ("spherical", "kmeans++", 1), ("spherical", "random", 2)])
def test_component_collapsed_to_round_off_is_refused(covariance_type, init, random_state):
    # Ten copies of one point beside 40 others, reg_covar=0: from these starts EM puts a
    # component on the copies, and its variance falls to round-off (1e-31 .. 9e-16),
    # which would be reported as 2 to 7 nats per sample above the honest fits.
    # scikit-learn's EM does the same (variance 1e-16 for spherical).
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(40, 2)), np.tile([[2.5, -1.3]], (10, 1))])
    if covariance_type == "spherical":
        reference = SklearnGM(2, covariance_type="spherical", reg_covar=0.0, random_state=0).fit(X)
        assert reference.covariances_.min() < 1e-15
    with pytest.raises(ValueError, match=r"component \d .*collapsed.* reg_covar"):
        lvm.GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0, init=init,
                            random_state=random_state).fit(X)
    # With a floor the component keeps a variance the data resolve, and the fit stands.
    model = lvm.GaussianMixture(2, covariance_type=covariance_type, reg_covar=1e-6, init=init,
                                random_state=random_state).fit(X)
    assert np.all(np.isfinite(model.score_samples(X)))
    full = COVARIANCE_TYPES[covariance_type].to_full(model.covariances_, 2, 2)
    assert np.linalg.eigvalsh(full).min() >= 1e-6 * (1 - 1e-9)


@pytest.mark.parametrize("name", ["weights_init", "means_init", "precisions_init"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_starting_values_are_refused_by_name(name, bad):
    X = np.random.default_rng(0).normal(size=(50, 2))
    start = {"weights_init": np.array([0.5, 0.5]), "means_init": np.array([[0.0, 0.0], [1.0, 1.0]]),
             "precisions_init": np.array([[1.0, 1.0], [1.0, 1.0]])}
    start[name] = start[name].copy()
    start[name].flat[0] = bad
    with pytest.raises(ValueError, match=f"{name} must hold finite numbers"):
        lvm.GaussianMixture(2, covariance_type="diag", **start).fit(X)


@pytest.mark.parametrize("n_samples, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_sample_refuses_fewer_than_one_draw(n_samples, error):
    X = np.random.default_rng(0).normal(size=(50, 2))
    model = lvm.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(error, match="n_samples must be"):
        model.sample(n_samples)
    assert model.sample(1, random_state=0)[0].shape == (1, 2)
