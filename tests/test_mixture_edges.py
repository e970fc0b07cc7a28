"""Gaussian mixtures at the numerical edges: far from the origin, tiny or badly scaled data, collapse, bad starts."""

import copy

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import lvm
from lvm.mixture._covariance import COVARIANCE_TYPES

TYPES = ["full", "tied", "diag", "spherical"]


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
