"""lvm.PCA against scikit-learn's PCA with ``svd_solver="full"`` (LAPACK SVD) as the reference.

The data have a decaying spectrum with a clear gap after the components asked
for, so the axes are well identified: variance ``0.7**j`` for the first five
directions, then a drop by a factor of 30 and a tail decaying by ``0.8`` per
direction (cut at the rank for the rank-deficient data).
"""

import functools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import PCA as SklearnPCA

from lvm import PCA

SOLVERS = ["covariance", "svd", "randomized", "auto"]

# Data sets: name -> (n_samples, n_features, rank, offset of the mean).
DATA = {
    "tall": (20000, 50, None, 0.0),
    "wide": (50, 500, None, 0.0),
    "rank8": (300, 40, 8, 3.0),
    # Mean 1e6, leading sd 1: X^T X - n m m^T would cancel all sixteen digits.
    "offset": (5000, 20, None, 1e6),
}
# Cases compared with scikit-learn: name -> (data set, n_components).
CASES = {
    "tall": ("tall", 5),
    "wide": ("wide", 5),
    "rank_deficient": ("rank8", 5),
    "rank_deficient_k_eq_rank": ("rank8", 8),
}
# Cases where k < rank, so the discarded variance is positive and the
# probabilistic reading of PCA has a density.
DENSITY_CASES = ["tall", "wide", "rank_deficient"]

# The exact solvers ("covariance", "svd", "auto") differ from LAPACK's SVD only
# by round-off; the worst observed gap is ~5e-12 (the noise variance of the
# rank-deficient data through the scatter matrix, which loses about two digits
# to X^T X - n m m^T with this offset), so 1e-10 holds with margin.
EXACT_RTOL = 1e-10

# Randomized subspace iteration with q power iterations and a sketch of width
# w = k + n_oversamples finds the j-th axis to within an angle of about
# C (sigma_{w+1} / sigma_j)^(2q + 1) (Halko, Martinsson & Tropp 2011, sec. 10;
# Saibaba 2019, SIMAX 40(1), thm 1), with C growing like sqrt(k w) and below
# ~1e2 with overwhelming probability; the Rayleigh-Ritz variances are then off
# by a relative error of the order of the squared angle. Here w = 15 and the
# gap gives sigma_16 / sigma_5 <= sqrt(0.8**10 / 30) ~ 0.06, so with the
# default q = 4 the angle is below 1e2 * 0.06**9 ~ 1e-9 and the variances are
# exact to round-off. 1e-6 on variances and on axis entries (bounded by the
# angle) leaves three orders of margin over the bound. The observed errors are
# below 1e-12, and below 1e-10 on the 1e6-offset data, where the implicit
# centring X Q - 1 (mean^T Q) cancels digits.
RANDOMIZED_RTOL = 1e-6

# The noise variance sigma2 = (total - sum(kept)) / (min(n, p) - k) is a
# difference: round-off of order eps * total survives even when sigma2 is 0
# (k = rank), so it is compared with this absolute tolerance on top.
TOTAL_ATOL = 1e-12


def _rtol(solver):
    return RANDOMIZED_RTOL if solver == "randomized" else EXACT_RTOL


@functools.lru_cache(maxsize=None)
def _make_data(name, seed):
    """Read-only data with the spectrum described in the module docstring."""
    n_samples, n_features, rank, offset = DATA[name]
    rank = min(n_samples, n_features) if rank is None else rank
    head = 0.7 ** np.arange(5)
    variances = np.concatenate([head, head[-1] / 30 * 0.8 ** np.arange(rank - 5)])[:rank]
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n_features, rank)))[0]
    mean = offset + rng.standard_normal(n_features)
    X = (rng.standard_normal((n_samples, rank)) * np.sqrt(variances)) @ basis.T + mean
    X.flags.writeable = False  # lvm promises not to write into its input
    return X


@functools.lru_cache(maxsize=None)
def _reference(case, seed, whiten=False):
    name, k = CASES[case]
    return SklearnPCA(n_components=k, svd_solver="full", whiten=whiten).fit(_make_data(name, seed))


@functools.lru_cache(maxsize=None)
def _lvm(case, solver, seed, whiten=False):
    name, k = CASES[case]
    return PCA(n_components=k, solver=solver, whiten=whiten, random_state=seed).fit(_make_data(name, seed))


def _signs(model, reference):
    """Per-component signs (+1/-1) that turn ``model``'s axes into ``reference``'s."""
    return np.sign(np.sum(model.components_ * reference.components_, axis=1))


def _total_variance(reference):
    return reference.explained_variance_.sum() / reference.explained_variance_ratio_.sum()


def _noise_tolerance(solver, reference):
    """``(rtol, atol)`` for sigma2."""
    atol = TOTAL_ATOL * _total_variance(reference)
    if solver != "randomized":
        return EXACT_RTOL, atol
    # The error of sum(kept), at most RANDOMIZED_RTOL * sum(kept), is shared
    # by the min(n, p) - k discarded directions.
    rest = min(reference.n_samples_, reference.n_features_in_) - reference.n_components_
    return 0.0, atol + RANDOMIZED_RTOL * reference.explained_variance_.sum() / rest


def _score_rtol(solver, reference):
    """Relative tolerance on log-likelihoods: that of sigma2 (see the likelihood section)."""
    if solver != "randomized":
        return EXACT_RTOL
    return _noise_tolerance(solver, reference)[1] / reference.noise_variance_


def _assert_scaled_close(actual, desired, rtol):
    """``|actual - desired| <= rtol * max|desired|``: relative to the array's scale,
    since single entries (scores, log-likelihoods) can be close to zero."""
    assert_allclose(actual, desired, rtol=0, atol=rtol * np.max(np.abs(desired)))


# ----------------------------------------------------------- fit vs sklearn
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_components_match_sklearn(case, solver, seed):
    model, reference = _lvm(case, solver, seed), _reference(case, seed)
    aligned = model.components_ * _signs(model, reference)[:, None]
    assert_allclose(aligned, reference.components_, rtol=0, atol=_rtol(solver))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_variances_match_sklearn(case, solver, seed):
    model, reference = _lvm(case, solver, seed), _reference(case, seed)
    rtol = _rtol(solver)
    assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=rtol)
    assert_allclose(model.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=rtol)
    assert_allclose(model.singular_values_, reference.singular_values_, rtol=rtol)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_mean_and_noise_variance_match_sklearn(case, solver, seed):
    model, reference = _lvm(case, solver, seed), _reference(case, seed)
    _assert_scaled_close(model.mean_, reference.mean_, EXACT_RTOL)
    rtol, atol = _noise_tolerance(solver, reference)
    assert_allclose(model.noise_variance_, reference.noise_variance_, rtol=rtol, atol=atol)


@pytest.mark.parametrize("solver", SOLVERS)
def test_large_offset_matches_sklearn(solver, seed):
    X = _make_data("offset", seed)
    reference = SklearnPCA(n_components=5, svd_solver="full").fit(X)
    model = PCA(n_components=5, solver=solver, random_state=seed).fit(X)
    rtol = _rtol(solver)
    assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=rtol)
    assert_allclose(model.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=rtol)
    aligned = model.components_ * _signs(model, reference)[:, None]
    assert_allclose(aligned, reference.components_, rtol=0, atol=rtol)
    noise_rtol, noise_atol = _noise_tolerance(solver, reference)
    assert_allclose(model.noise_variance_, reference.noise_variance_, rtol=noise_rtol, atol=noise_atol)


def test_large_offset_uses_centred_scatter(seed, monkeypatch):
    # Guards the test above: the covariance solver must reach its chunked,
    # two-pass centring on this data, not the one-pass X^T X formula.
    import lvm._stats

    calls = []
    original = lvm._stats.centred_scatter

    def spy(X, mean):
        calls.append(X.shape)
        return original(X, mean)

    monkeypatch.setattr(lvm._stats, "centred_scatter", spy)
    X = _make_data("offset", seed)
    PCA(n_components=5, solver="covariance").fit(X)
    assert calls == [(5000, 20)]


# ------------------------------------------------------------ likelihood
# The score tolerance is that of sigma2: log p depends on log sigma2 with weight
# about (p - k) / 2, the largest sensitivity, and log p itself is of order p.
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", DENSITY_CASES)
def test_score_samples_match_sklearn(case, solver, seed):
    model, reference = _lvm(case, solver, seed), _reference(case, seed)
    X = _make_data(CASES[case][0], seed)
    expected = reference.score_samples(X)
    rtol = _score_rtol(solver, reference)
    _assert_scaled_close(model.score_samples(X), expected, rtol)
    assert abs(model.score(X) - reference.score(X)) <= rtol * np.max(np.abs(expected))


@pytest.mark.parametrize("case", DENSITY_CASES)
def test_score_does_not_depend_on_whiten(case, seed):
    # Whitening rescales the scores, not the model. (scikit-learn's score does
    # change with whiten=True, scikit-learn/scikit-learn#13898, so it is not
    # the reference here.)
    X = _make_data(CASES[case][0], seed)
    plain = _lvm(case, "auto", seed).score_samples(X)
    whitened = _lvm(case, "auto", seed, whiten=True).score_samples(X)
    _assert_scaled_close(whitened, plain, EXACT_RTOL)


@pytest.mark.parametrize("solver", SOLVERS)
def test_score_samples_full_rank_tall_match_sklearn(solver, seed):
    # With k = p < n nothing is discarded and the model covariance is the
    # sample covariance (divisor n - 1), which is non-singular: the density
    # exists, and scikit-learn computes it.
    X = _make_data("tall", seed)[:500, :10]
    reference = SklearnPCA(svd_solver="full").fit(X)
    model = PCA(solver=solver, random_state=seed).fit(X)
    _assert_scaled_close(model.score_samples(X), reference.score_samples(X), _rtol(solver))


def test_score_samples_full_rank_wide_raises(seed):
    # With k = n <= p the model covariance has rank n - 1 < p: no density.
    X = _make_data("wide", seed)
    model = PCA(solver="svd").fit(X)
    with pytest.raises(ValueError, match="singular"):
        model.score_samples(X)


@pytest.mark.parametrize("solver", SOLVERS)
def test_score_samples_k_equal_to_rank_raises(solver, seed):
    # k = rank < min(n, p): the discarded variance is zero up to round-off, so
    # the model covariance has rank k < p and there is no density, whichever
    # sign the round-off in sigma2 = (total - sum(kept)) / (min(n, p) - k) takes.
    X = _make_data("rank8", seed)
    model = PCA(n_components=8, solver=solver, random_state=seed).fit(X)
    with pytest.raises(ValueError, match="singular"):
        model.score_samples(X)


# ------------------------------------------------------------ precision
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", DENSITY_CASES)
def test_get_precision_matches_sklearn(case, solver, seed):
    # Its scale is 1 / sigma2, so it carries the relative error of sigma2.
    model, reference = _lvm(case, solver, seed), _reference(case, seed)
    _assert_scaled_close(model.get_precision(), reference.get_precision(), _score_rtol(solver, reference))


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("case", DENSITY_CASES)
def test_get_precision_is_the_inverse_of_get_covariance(case, whiten, seed):
    # LAPACK's inverse loses about log10(cond) digits, cond = lambda_1 / sigma2 < 1e4 here.
    model = _lvm(case, "auto", seed, whiten)
    _assert_scaled_close(model.get_precision(), np.linalg.inv(model.get_covariance()), EXACT_RTOL)


@pytest.mark.parametrize("case", DENSITY_CASES)
def test_get_precision_does_not_depend_on_whiten(case, seed):
    # scikit-learn's get_precision does change with whiten=True
    # (scikit-learn/scikit-learn#13898); its unwhitened model is the reference.
    whitened, reference = _lvm(case, "auto", seed, whiten=True), _reference(case, seed)
    _assert_scaled_close(whitened.get_precision(), reference.get_precision(), EXACT_RTOL)


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_get_precision_full_rank_tall_matches_sklearn(solver, whiten, seed):
    # k = p: no discarded variance (sigma2 = 0), and the sample covariance is
    # non-singular; scikit-learn inverts get_covariance() in this case.
    X = _make_data("tall", seed)[:500, :10]
    reference = SklearnPCA(svd_solver="full").fit(X)
    model = PCA(solver=solver, whiten=whiten, random_state=seed).fit(X)
    assert model.noise_variance_ == 0.0
    expected = reference.get_precision()
    _assert_scaled_close(model.get_precision(), expected, _rtol(solver))
    _assert_scaled_close(np.linalg.inv(model.get_covariance()), expected, _rtol(solver))


@pytest.mark.parametrize("solver", SOLVERS)
def test_get_precision_k_equal_to_rank_raises(solver, seed):
    model = PCA(n_components=8, solver=solver, random_state=seed).fit(_make_data("rank8", seed))
    with pytest.raises(ValueError, match="covariance is singular"):
        model.get_precision()


# ------------------------------------------------------------ transforms
@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_transform_matches_sklearn(case, solver, whiten, seed):
    model, reference = _lvm(case, solver, seed, whiten), _reference(case, seed, whiten)
    X = _make_data(CASES[case][0], seed)
    scores = model.transform(X) * _signs(model, reference)
    _assert_scaled_close(scores, reference.transform(X), _rtol(solver))


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", CASES)
def test_inverse_transform_matches_sklearn(case, solver, whiten, seed):
    model, reference = _lvm(case, solver, seed, whiten), _reference(case, seed, whiten)
    X = _make_data(CASES[case][0], seed)
    # Scikit-learn's scores, mapped onto lvm's signs, must come back to the
    # same rows through both models.
    scores = reference.transform(X)
    rebuilt = model.inverse_transform(scores * _signs(model, reference))
    _assert_scaled_close(rebuilt, reference.inverse_transform(scores), _rtol(solver))


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("solver", SOLVERS)
def test_reconstruct_is_identity_at_full_rank_tall(solver, whiten, seed):
    X = _make_data("tall", seed)[:500, :30]
    model = PCA(solver=solver, whiten=whiten, random_state=seed).fit(X)
    _assert_scaled_close(model.reconstruct(X), X, EXACT_RTOL)


@pytest.mark.parametrize("solver", SOLVERS)
def test_reconstruct_is_identity_at_full_rank_wide(solver, seed):
    # k = n: the centred rows span n - 1 dimensions, all of them kept.
    X = _make_data("wide", seed)
    model = PCA(solver=solver, random_state=seed).fit(X)
    _assert_scaled_close(model.reconstruct(X), X, EXACT_RTOL)


# ------------------------------------------------------------ partial_fit
SPLITS = [1000, 1013, 7000]


def _assert_same_fit(actual, desired):
    assert actual.n_samples_ == desired.n_samples_
    assert_allclose(actual.components_, desired.components_, rtol=0, atol=EXACT_RTOL)
    assert_allclose(actual.explained_variance_, desired.explained_variance_, rtol=EXACT_RTOL)
    assert_allclose(actual.explained_variance_ratio_, desired.explained_variance_ratio_, rtol=EXACT_RTOL)
    _assert_scaled_close(actual.mean_, desired.mean_, EXACT_RTOL)
    assert_allclose(actual.noise_variance_, desired.noise_variance_, rtol=EXACT_RTOL)


def test_partial_fit_equals_fit(seed):
    X = _make_data("tall", seed)
    streamed = PCA(n_components=5)
    for chunk in np.split(X, SPLITS):
        streamed.partial_fit(chunk)
    _assert_same_fit(streamed, PCA(n_components=5).fit(X))


def test_partial_fit_accepts_dataframes(seed):
    X = _make_data("tall", seed)
    columns = [f"f{j}" for j in range(X.shape[1])]
    streamed = PCA(n_components=5)
    for chunk in np.split(X, SPLITS):
        streamed.partial_fit(pd.DataFrame(chunk, columns=columns))
    assert_array_equal(streamed.feature_names_in_, columns)
    _assert_same_fit(streamed, PCA(n_components=5).fit(X))


# --------------------------------------------------------- feature names
def test_get_feature_names_out(seed):
    model = _lvm("tall", "auto", seed)
    # The names summary() uses too: one set of latent names per model.
    assert_array_equal(model.get_feature_names_out(), ["PC1", "PC2", "PC3", "PC4", "PC5"])


def test_dataframe_keeps_feature_names(seed):
    X = _make_data("rank8", seed)
    columns = [f"gene_{j}" for j in range(X.shape[1])]
    model = PCA(n_components=3).fit(pd.DataFrame(X, columns=columns))
    assert_array_equal(model.feature_names_in_, columns)
    assert_array_equal(model.get_feature_names_out(), ["PC1", "PC2", "PC3"])


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", ["tall", "wide"])
def test_too_many_components_raises(name, solver, seed):
    X = _make_data(name, seed)
    too_many = min(X.shape) + 1
    with pytest.raises(ValueError, match=f"n_components={too_many}"):
        PCA(n_components=too_many, solver=solver).fit(X)


@pytest.mark.parametrize("solver", SOLVERS)
def test_whiten_beyond_rank_raises(solver, seed):
    X = _make_data("rank8", seed)
    with pytest.raises(ValueError, match="rank 8"):
        PCA(n_components=10, solver=solver, whiten=True, random_state=seed).fit(X)


# ---------------------------------------------------------- determinism
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", ["tall", "wide"])
def test_fit_is_deterministic(case, solver, seed):
    name, k = CASES[case]
    first = _lvm(case, solver, seed)
    second = PCA(n_components=k, solver=solver, random_state=seed).fit(_make_data(name, seed))
    for attribute in ("components_", "explained_variance_", "singular_values_", "mean_", "noise_variance_"):
        assert_array_equal(getattr(second, attribute), getattr(first, attribute))
