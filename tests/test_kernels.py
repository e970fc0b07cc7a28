"""Numerical kernels against slow, obvious references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, stats

from lvm._linalg import eigh_top, flip_signs
from lvm._lowrank import logpdf as lowrank_gaussian_logpdf
from lvm._lowrank import masked_posterior
from lvm._lowrank import posterior as lowrank_posterior
from lvm._stats import ScatterStats, centred_scatter, masked_mean, scatter_stats
from lvm.decomposition._ppca_kernels import minka_log_evidence


def _two_pass(X):
    mean = X.mean(axis=0)
    centred = X - mean
    return mean, centred.T @ centred


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e8])
def test_scatter_matches_two_pass(seed, offset):
    X = np.random.default_rng(seed).normal(size=(5000, 7)) + offset
    stats_ = scatter_stats(X)
    mean, scatter = _two_pass(X)
    np.testing.assert_allclose(stats_.mean, mean, rtol=1e-14)
    np.testing.assert_allclose(stats_.scatter, scatter, rtol=1e-11, atol=1e-9 * np.abs(scatter).max())


def test_large_offset_takes_the_centred_path(seed):
    X = np.random.default_rng(seed).normal(size=(3000, 4)) + 1e8
    naive = X.T @ X - len(X) * np.outer(X.mean(0), X.mean(0))
    _, exact = _two_pass(X)
    # The one-pass formula loses every digit at this offset; ours does not.
    assert np.abs(naive - exact).max() > 1e-3 * np.abs(exact).max()
    np.testing.assert_allclose(scatter_stats(X).scatter, exact, rtol=1e-10)


def test_centred_scatter_chunks_cover_all_rows(seed):
    X = np.random.default_rng(seed).normal(size=(100_003, 3))
    mean, scatter = _two_pass(X)
    np.testing.assert_allclose(centred_scatter(X, mean), scatter, rtol=1e-12)


@settings(max_examples=30)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6), seed=st.integers(0, 2**31 - 1))
def test_merge_equals_one_pass(sizes, seed):
    rng = np.random.default_rng(seed)
    chunks = [rng.normal(size=(m, 3)) * 10 + 50 for m in sizes]
    merged = ScatterStats(0, np.zeros(3), np.zeros((3, 3)))
    for chunk in chunks:
        merged = merged.merge(scatter_stats(chunk))
    X = np.vstack(chunks)
    mean, scatter = _two_pass(X)
    assert merged.n_samples == len(X)
    np.testing.assert_allclose(merged.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(merged.scatter, scatter, rtol=1e-9, atol=1e-9)


def test_masked_mean_ignores_nan():
    X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])
    np.testing.assert_allclose(masked_mean(X), [2.0, 6.0])


@pytest.mark.parametrize("m, k", [(50, 3), (50, 50), (900, 5), (900, 400)])
def test_eigh_top_matches_full_eigh(seed, m, k):
    A = np.random.default_rng(seed).normal(size=(m, m + 10))
    S = A @ A.T / m + np.diag(np.linspace(50, 1, m))
    values, vectors = eigh_top(S, k)
    full_values, full_vectors = linalg.eigh(S)
    np.testing.assert_allclose(values, full_values[::-1][:k], rtol=1e-11)
    overlap = np.abs(np.sum(vectors * full_vectors[:, ::-1][:, :k], axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)


def test_flip_signs_makes_largest_entry_positive():
    rows = np.array([[0.1, -0.9, 0.2], [0.5, 0.1, -0.3]])
    signs = flip_signs(rows)
    np.testing.assert_array_equal(signs, [-1.0, 1.0])
    assert rows[0, 1] == 0.9 and rows[1, 0] == 0.5


def _lowrank_case(seed, n=30, p=6, k=2, diagonal=False):
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0.2, 2.0, size=p) if diagonal else 0.7
    return rng.normal(size=(n, p)), rng.normal(size=(p, k)), noise


@pytest.mark.parametrize("diagonal", [False, True])
def test_lowrank_logpdf_matches_dense_gaussian(seed, diagonal):
    X, W, s2 = _lowrank_case(seed, diagonal=diagonal)
    dense = stats.multivariate_normal(np.zeros(6), W @ W.T + np.diag(np.broadcast_to(s2, 6))).logpdf(X)
    np.testing.assert_allclose(lowrank_gaussian_logpdf(X, W, s2), dense, rtol=1e-12)


@pytest.mark.parametrize("diagonal", [False, True])
def test_lowrank_posterior_matches_conditional_gaussian(seed, diagonal):
    X, W, noise = _lowrank_case(seed, diagonal=diagonal)
    C = W @ W.T + np.diag(np.broadcast_to(noise, 6))
    gain = np.linalg.solve(C, W).T
    mean, cov = lowrank_posterior(X, W, noise)
    np.testing.assert_allclose(mean, X @ gain.T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(cov, np.eye(2) - gain @ W, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("diagonal", [False, True])
def test_masked_posterior_matches_per_row_loop(seed, diagonal):
    X, W, noise = _lowrank_case(seed, diagonal=diagonal)
    observed = np.random.default_rng(seed + 1).random(X.shape) > 0.3
    observed[0] = False  # a row with nothing observed keeps the prior
    centered = np.where(observed, X, 0.0)
    mean, cov, logpdf = masked_posterior(centered, observed, W, noise)
    psi = np.broadcast_to(noise, 6)
    for i in range(len(X)):
        seen = observed[i]
        Wo = W[seen]
        C = Wo @ Wo.T + np.diag(psi[seen])
        gain = np.linalg.solve(C, Wo).T if seen.any() else np.zeros((2, 0))
        np.testing.assert_allclose(mean[i], gain @ X[i, seen], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(cov[i], np.eye(2) - gain @ Wo, rtol=1e-10, atol=1e-13)
        expected = 0.0 if not seen.any() else stats.multivariate_normal(np.zeros(seen.sum()), C).logpdf(X[i, seen])
        assert logpdf[i] == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_minka_evidence_is_scale_free_and_peaks_at_true_rank(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2000, 3)) @ rng.normal(size=(3, 10)) * 3 + rng.normal(size=(2000, 10))
    values = np.linalg.eigvalsh(np.cov(X, rowvar=False))[::-1]
    evidence = minka_log_evidence(values, len(X))
    assert np.argmax(evidence) + 1 == 3
    # Rescaling the data shifts every k's evidence by the same constant.
    shift = minka_log_evidence(values * 1e6, len(X)) - evidence
    np.testing.assert_allclose(shift, -len(X) * 10 / 2 * np.log(1e6), rtol=1e-9)
