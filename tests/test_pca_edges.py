"""PCA and probabilistic PCA at the edges: offsets, scales, rank deficiency, wide data, bad input."""

import warnings

import numpy as np
import pytest

import lvm


def _planted(seed, n=200, p=6, k=2, noise=0.3, fraction=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, k)) @ rng.standard_normal((k, p)) + noise * rng.standard_normal((n, p))
    X[rng.random((n, p)) < fraction] = np.nan
    return X


def _fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return model.fit(X)


def _implied_covariance(model):
    return model.get_covariance()


# ------------------------------------------------- missing-data EM is equivariant
@pytest.mark.parametrize("make", [lambda: lvm.PPCA(2, missing="em"), lambda: lvm.FactorAnalysis(2, missing="em")],
                         ids=["PPCA", "FactorAnalysis"])
@pytest.mark.parametrize("shift", [1e6, 1e8, 1e12])
def test_missing_em_is_shift_equivariant(make, shift, seed):
    """Data + c fit as the data: the mean moves by c, nothing else changes, and no warning.

    The reference fit is on ``(X + c) - c``, which float64 holds exactly
    (Sterbenz), so it sees the same rounded data as the shifted fit; any
    difference is the algorithm's, not the data's. Both runs take the same EM
    path from the same start, so they agree to the round-off of the centred
    arithmetic.
    """
    X = _planted(seed)
    shifted = X + shift
    near_origin = shifted - shift
    reference = _fit_quietly(make(), near_origin)
    moved = _fit_quietly(make(), shifted)
    # mean_ itself holds c + mu only to half a unit in the last place of c.
    np.testing.assert_allclose(moved.mean_ - shift, reference.mean_, rtol=0,
                               atol=1e-8 * np.nanstd(X) + np.spacing(shift))
    np.testing.assert_allclose(_implied_covariance(moved), _implied_covariance(reference), rtol=1e-8,
                               atol=1e-8 * np.nanvar(X))
    np.testing.assert_allclose(moved.log_likelihood_, reference.log_likelihood_, rtol=1e-8)
    assert moved.n_iter_ == pytest.approx(reference.n_iter_, abs=2)


@pytest.mark.parametrize("make", [lambda: lvm.PPCA(2, missing="em"), lambda: lvm.FactorAnalysis(2, missing="em")],
                         ids=["PPCA", "FactorAnalysis"])
@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_missing_em_is_scale_equivariant(make, scale, seed):
    """Data x a: means and loadings scale by a, variances by a^2, log-likelihood drops by n_obs log a.

    The density of the observed entries picks up the Jacobian ``a^-1`` per
    observed entry, so the log-likelihood changes by ``-n_observed log a``
    (``-n p log a`` without missing entries) and by nothing else.
    """
    X = _planted(seed)
    reference = _fit_quietly(make(), X)
    scaled = _fit_quietly(make(), X * scale)
    n_observed = np.count_nonzero(~np.isnan(X))
    np.testing.assert_allclose(scaled.mean_ / scale, reference.mean_, rtol=1e-8, atol=1e-8 * np.nanstd(X))
    np.testing.assert_allclose(_implied_covariance(scaled) / scale**2, _implied_covariance(reference), rtol=1e-8,
                               atol=1e-8 * np.nanvar(X))
    np.testing.assert_allclose(scaled.log_likelihood_, reference.log_likelihood_ - n_observed * np.log(scale),
                               rtol=1e-8)
