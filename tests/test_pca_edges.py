"""PCA and probabilistic PCA at the edges: offsets, scales, rank deficiency, wide data, bad input."""

import warnings

import numpy as np
import pytest

import lvm
from lvm.exceptions import ConvergenceWarning, LikelihoodDecreaseWarning


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
@pytest.mark.parametrize("make", [lambda: lvm.PPCA(2, missing="em", tol=1e-11, max_iter=100_000),
                                  lambda: lvm.FactorAnalysis(2, missing="em", tol=1e-11, max_iter=100_000)],
                         ids=["PPCA", "FactorAnalysis"])
@pytest.mark.parametrize("shift", [1e6, 1e8, 1e12])
def test_missing_em_is_shift_equivariant(make, shift, seed):
    """Data + c fit as the data: the mean moves by c, nothing else changes, and no warning.

    The reference fit is on ``(X + c) - c``, which float64 holds exactly
    (Sterbenz), so it sees the same rounded data as the shifted fit; any
    difference is the algorithm's, not the data's. The two starts differ by
    the rounding of the column means (half a unit in the last place of c), and
    EM removes that slowly along the loadings, so both runs are taken to
    convergence (tol=1e-11) to reach the one optimum.
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


# ------------------------------------------------------------ EM never decreases
def _awkward(kind, rng):
    """Small or badly scaled data of the kinds that used to make PPCA's EM lose likelihood."""
    n = int(rng.choice([3, 4, 5, 8, 20, 100]))
    p = int(rng.choice([2, 3, 5, 10]))
    X = rng.standard_normal((n, p))
    if kind == "magnitude":
        X *= 10.0 ** rng.uniform(-150, 150)
    elif kind == "column scales":
        X *= 10.0 ** rng.uniform(-20, 20, size=p)
    elif kind == "near-duplicate rows":
        jitter = rng.choice([1e-9, 1e-6, 1e-4, 1e-3])
        X = np.repeat(X[:2], n // 2 + 1, axis=0)[:n] + jitter * rng.standard_normal((n, p))
    return X


@pytest.mark.parametrize("kind", ["tiny", "magnitude", "column scales", "near-duplicate rows"])
@pytest.mark.parametrize("how", ["em", "missing"])
def test_ppca_em_never_loses_likelihood(kind, how, seed):
    """Every EM step keeps or raises the log-likelihood, or the fit refuses the data with a reason.

    The driver's own tolerance: a fall larger than 1e-10 of the log-likelihood's size.
    """
    rng = np.random.default_rng(seed)
    outcomes = {"fitted": 0, "refused": 0}
    for _ in range(25):
        X = _awkward(kind, rng)
        if how == "missing":
            X[rng.random(X.shape) < 0.15] = np.nan
        n, p = X.shape
        k = int(rng.integers(1, max(2, min(n, p) - 1)))
        options = {"method": "em"} if how == "em" else {"missing": "em"}
        model = lvm.PPCA(k, random_state=0, max_iter=300, **options)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", LikelihoodDecreaseWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X)
        except ValueError as error:
            # lvm's own reasons: the model's, or the data check's (which names X)
            assert str(error).startswith(("PPCA", "X ")), str(error)
            outcomes["refused"] += 1
            continue
        steps = np.diff(model.history_)
        assert np.all(steps >= -1e-10 * np.maximum(1.0, np.abs(model.history_[1:])))
        outcomes["fitted"] += 1
    assert outcomes["fitted"] > 0


# ------------------------------------------------------------------- wide data
def test_ppca_wide_data_equals_the_closed_form_from_sklearn(seed):
    """PPCA on 50 x 5000 (never forming 5000 x 5000) equals Tipping & Bishop's closed form.

    From scikit-learn's full-SVD PCA: the ML eigenvalues are its
    ``explained_variance_ * (n - 1) / n``; ``s2`` is the mean of the discarded
    eigenvalues of the covariance (divisor ``n``) over the ``p - k`` discarded
    directions, and the log-density of ``C = U_k (L_k - s2 I) U_k^T + s2 I`` is
    ``-(p log 2 pi + sum log l_j + (p - k) log s2 + |y|^2 / s2 -
    sum_j (u_j^T y)^2 (1 / s2 - 1 / l_j)) / 2`` with ``y = x - mean``.
    """
    from sklearn.decomposition import PCA as SklearnPCA

    rng = np.random.default_rng(seed)
    n, p, k = 50, 5000, 3
    X = rng.standard_normal((n, k)) @ (3.0 * rng.standard_normal((k, p))) + rng.standard_normal((n, p))
    model = lvm.PPCA(k).fit(X)
    reference = SklearnPCA(k, svd_solver="full").fit(X)
    values = reference.explained_variance_ * (n - 1) / n
    noise = (X.var(axis=0).sum() - values.sum()) / (p - k)
    np.testing.assert_allclose(model.noise_variance_, noise, rtol=1e-10)
    np.testing.assert_allclose(model.explained_variance_, values, rtol=1e-10)
    # W lies in the span of the top axes, with W^T W = L_k - s2 I
    W = model.components_.T
    axes = reference.components_.T
    np.testing.assert_allclose(W - axes @ (axes.T @ W), 0.0, atol=1e-10 * np.abs(W).max())
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False) ** 2, values - noise, rtol=1e-10)
    Y = X[:5] - X.mean(axis=0)
    projections = Y @ axes
    expected = -0.5 * (p * np.log(2 * np.pi) + np.log(values).sum() + (p - k) * np.log(noise)
                       + np.sum(Y**2, axis=1) / noise - projections**2 @ (1 / noise - 1 / values))
    np.testing.assert_allclose(model.score_samples(X[:5]), expected, rtol=1e-10)


def test_ppca_em_on_wide_data_reaches_the_closed_form(seed):
    """EM on wide data runs on the n x p square root of the covariance and ends at the closed form."""
    rng = np.random.default_rng(seed)
    n, p, k = 30, 400, 2
    # Signal only a few times the noise: EM contracts by about s2 / lambda per step.
    X = rng.standard_normal((n, k)) @ (0.1 * rng.standard_normal((k, p))) + rng.standard_normal((n, p))
    closed = lvm.PPCA(k).fit(X)
    em = _fit_quietly(lvm.PPCA(k, method="em", tol=1e-12, max_iter=5000, random_state=0), X)
    # The likelihood converges to ~tol; the parameters, at a flat optimum, only
    # to about its square root.
    np.testing.assert_allclose(em.log_likelihood_, closed.log_likelihood_, rtol=1e-10)
    np.testing.assert_allclose(em.noise_variance_, closed.noise_variance_, rtol=1e-6)
    covariance = closed.get_covariance()
    np.testing.assert_allclose(em.get_covariance(), covariance, rtol=0, atol=1e-5 * np.abs(covariance).max())


# ------------------------------------------------------- choosing k by evidence
def _rank_deficient(seed, rank, n=200, p=10, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * (rng.standard_normal((n, rank)) @ rng.standard_normal((rank, p)))


def _ordinary(seed, n=300, p=10, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)) @ (2.0 * rng.standard_normal((k, p))) + rng.standard_normal((n, p))


@pytest.mark.parametrize("solver", ["auto", "covariance", "svd"])
@pytest.mark.parametrize("case", ["rank 9", "rank 1", "rank 9, units of 1e6", "rank 9, units of 1e-6", "ordinary"])
def test_pca_mle_chooses_as_sklearn(case, solver, seed):
    """``PCA("mle")`` keeps the number of components scikit-learn's full-SVD PCA keeps, and the same axes."""
    from sklearn.decomposition import PCA as SklearnPCA

    X = {"rank 9": lambda: _rank_deficient(seed, 9), "rank 1": lambda: _rank_deficient(seed, 1),
         "rank 9, units of 1e6": lambda: _rank_deficient(seed, 9, scale=1e6),
         "rank 9, units of 1e-6": lambda: _rank_deficient(seed, 9, scale=1e-6),
         "ordinary": lambda: _ordinary(seed)}[case]()
    reference = SklearnPCA(n_components="mle", svd_solver="full").fit(X)
    model = lvm.PCA(n_components="mle", solver=solver).fit(X)
    assert model.n_components_ == reference.n_components_
    np.testing.assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(model.components_ @ reference.components_.T), np.eye(model.n_components_),
                               atol=1e-8)


def test_pca_mle_streams_to_the_same_answer(seed):
    """``partial_fit`` with ``"mle"`` waits for enough rows, then equals ``fit`` on all of them."""
    X = _ordinary(seed)
    model = lvm.PCA("mle")
    for chunk in np.array_split(X, 30):
        model.partial_fit(chunk)
    whole = lvm.PCA("mle").fit(X)
    assert model.n_components_ == whole.n_components_
    np.testing.assert_allclose(model.explained_variance_, whole.explained_variance_, rtol=1e-10)


def test_ppca_mle_on_ordinary_data_matches_sklearn(seed):
    X = _ordinary(seed)
    from sklearn.decomposition import PCA as SklearnPCA

    assert lvm.PPCA("mle").fit(X).n_components_ == SklearnPCA("mle", svd_solver="full").fit(X).n_components_


def test_ppca_mle_on_exactly_rank_deficient_data_takes_the_best_k_with_noise(seed):
    """Rank-9 data in 10 columns: the evidence (scikit-learn's) peaks at k = 9, where s2 = 0.

    PPCA has no density there, so it takes the k of largest evidence below the
    rank, and reports the whole evidence with its finite maximum at the rank.
    """
    from sklearn.decomposition import PCA as SklearnPCA

    X = _rank_deficient(seed, 9)
    model = lvm.PPCA("mle").fit(X)
    assert SklearnPCA("mle", svd_solver="full").fit(X).n_components_ == 9
    assert np.argmax(model.evidence_) + 1 == 9
    assert np.isfinite(model.evidence_[8])
    assert model.n_components_ == np.argmax(model.evidence_[:8]) + 1
    assert model.noise_variance_ > 0


def test_ppca_mle_on_rank_one_data_says_why_it_cannot_fit(seed):
    with pytest.raises(ValueError, match=r"rank 1: every row lies on a line.*lvm.PCA\(n_components='mle'\)"):
        lvm.PPCA("mle").fit(_rank_deficient(seed, 1))


@pytest.mark.parametrize("model", [lvm.PPCA("mle"), lvm.PCA("mle")], ids=["PPCA", "PCA"])
def test_mle_with_one_column_is_a_clear_error(model, seed):
    X = np.random.default_rng(seed).standard_normal((20, 1))
    with pytest.raises(ValueError, match="n_components='mle' compares 1 <= k < n_features.*more features"):
        model.fit(X)


def test_pca_mle_with_the_randomized_solver_is_a_clear_error(seed):
    with pytest.raises(ValueError, match="randomized solver"):
        lvm.PCA("mle", solver="randomized").fit(_ordinary(seed))


# ------------------------------------------------- choosing k by a fraction of the variance
def _wide(seed, n=40, p=120):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)) @ (3.0 * rng.standard_normal((6, p))) + rng.standard_normal((n, p))


_FRACTION_DATA = {
    "ordinary": _ordinary,
    "rank 9": lambda seed: _rank_deficient(seed, 9),
    "wide": _wide,
    "offset 1e6": lambda seed: _ordinary(seed) + 1e6,
}


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8, 0.95, 0.999999])
@pytest.mark.parametrize("solver", ["auto", "covariance", "svd"])
@pytest.mark.parametrize("case", _FRACTION_DATA)
def test_pca_fraction_chooses_as_sklearn(case, solver, fraction, seed):
    """``PCA(0 < x < 1)`` keeps the components scikit-learn's full-SVD PCA keeps for that fraction."""
    from sklearn.decomposition import PCA as SklearnPCA

    X = _FRACTION_DATA[case](seed)
    reference = SklearnPCA(n_components=fraction, svd_solver="full").fit(X)
    model = lvm.PCA(n_components=fraction, solver=solver).fit(X)
    assert model.n_components_ == reference.n_components_
    np.testing.assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(model.components_ @ reference.components_.T), np.eye(model.n_components_),
                               atol=1e-8)
    np.testing.assert_allclose(model.noise_variance_, reference.noise_variance_, rtol=1e-8,
                               atol=1e-12 * reference.explained_variance_[0])


def _exact_spectrum():
    """Orthogonal integer columns of a Hadamard matrix, centred, n - 1 = 8: variances 25, 16, 9, 4, 1.

    ``X^T X`` is formed exactly, so the covariance solvers see the same
    numbers and their cumulative ratios agree to the last bit.
    """
    from scipy.linalg import hadamard

    return np.vstack([hadamard(8)[:, 1:6] * np.array([5.0, 4.0, 3.0, 2.0, 1.0]), np.zeros(5)])


@pytest.mark.parametrize("solver, reference_solver", [("covariance", "covariance_eigh"), ("auto", "covariance_eigh"),
                                                      ("svd", "full")])
def test_pca_fraction_on_a_cumulative_ratio_takes_one_more_component_as_sklearn(solver, reference_solver):
    """A fraction equal to a cumulative ratio is not "above" it: one more component (``side="right"``)."""
    from sklearn.decomposition import PCA as SklearnPCA

    X = _exact_spectrum()
    cumulative = np.cumsum(SklearnPCA(svd_solver=reference_solver).fit(X).explained_variance_ratio_)
    for j, ratio in enumerate(cumulative[:-1]):
        for fraction, expected in [(ratio, j + 2), (np.nextafter(ratio, 0.0), j + 1)]:
            reference = SklearnPCA(n_components=fraction, svd_solver=reference_solver).fit(X)
            assert reference.n_components_ == expected
            assert lvm.PCA(n_components=fraction, solver=solver).fit(X).n_components_ == expected


@pytest.mark.parametrize("solver", ["covariance", "svd"])
def test_pca_fraction_on_its_own_cumulative_ratio_takes_one_more_component(solver, seed):
    X = _ordinary(seed)
    cumulative = np.cumsum(lvm.PCA(solver=solver).fit(X).explained_variance_ratio_)
    for j in range(5):
        assert lvm.PCA(float(cumulative[j]), solver=solver).fit(X).n_components_ == j + 2
        assert lvm.PCA(np.nextafter(cumulative[j], 0.0), solver=solver).fit(X).n_components_ == j + 1


def test_pca_fraction_streams_to_the_same_answer_as_sklearn(seed):
    """``partial_fit`` with a fraction chooses ``k`` again after each chunk; at the end it equals ``fit``."""
    from sklearn.decomposition import PCA as SklearnPCA

    X = _ordinary(seed)
    model = lvm.PCA(0.9)
    for chunk in np.array_split(X, 30):
        model.partial_fit(chunk)
    whole = lvm.PCA(0.9).fit(X)
    reference = SklearnPCA(0.9, svd_solver="full").fit(X)
    assert model.n_components_ == whole.n_components_ == reference.n_components_
    np.testing.assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(model.components_ @ reference.components_.T), np.eye(model.n_components_),
                               atol=1e-8)


def test_pca_fraction_with_the_randomized_solver_is_a_clear_error(seed):
    from sklearn.decomposition import PCA as SklearnPCA

    X = _ordinary(seed)
    with pytest.raises(ValueError, match="must be between 1 and"):
        SklearnPCA(0.5, svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match=r"n_components=0.5 .*randomized solver"):
        lvm.PCA(0.5, solver="randomized").fit(X)


@pytest.mark.parametrize("value", [0.0, 1.0, 1.5, -0.1, float("nan"), float("inf"), True])
def test_pca_refuses_a_fraction_outside_the_open_unit_interval(value, seed):
    with pytest.raises(ValueError, match=r"PCA: parameter n_components=.* is invalid; expected .*\(0, 1\)"):
        lvm.PCA(value).fit(_ordinary(seed))


# --------------------------------------------------------------- clear errors
@pytest.mark.parametrize("solver", ["randomized", "svd", "covariance"])
def test_pca_refuses_data_whose_squares_overflow(solver, seed):
    X = np.random.default_rng(seed).standard_normal((50, 5)) * 1e160
    with pytest.raises(ValueError, match="squares overflow double precision. Rescale"):
        lvm.PCA(2, solver=solver, random_state=0).fit(X)


def test_randomized_pca_keeps_its_digits_far_from_the_origin(seed):
    """Implicit centring of data + 1e9 would cancel nine digits; the solver centres a copy instead."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 20)) @ rng.standard_normal((20, 20)) + 1e9
    randomized = lvm.PCA(3, solver="randomized", random_state=0).fit(X)
    exact = lvm.PCA(3, solver="svd").fit(X)
    # what the randomized solver reaches on the same data near the origin
    np.testing.assert_allclose(randomized.explained_variance_, exact.explained_variance_, rtol=1e-9)


@pytest.mark.parametrize("make", [lambda: lvm.PCA(2), lambda: lvm.PCA(2, whiten=True), lambda: lvm.PPCA(2)],
                         ids=["PCA", "PCA-whiten", "PPCA"])
@pytest.mark.parametrize("codes, message", [
    (np.array([[np.nan, 1.0]]), "Z contains NaN or infinity"),
    (np.array([[np.inf, 1.0]]), "Z contains NaN or infinity"),
    (np.zeros((2, 2, 2)), "Z has 3 dimensions"),
    (np.zeros((2, 3)), "Z has 3 column.*2 latent dimensions"),
    (np.zeros(2), "Z must be 2-D"),
], ids=["nan", "inf", "3-D", "width", "1-D"])
def test_inverse_transform_refuses_bad_latent_values(make, codes, message, seed):
    X = np.random.default_rng(seed).standard_normal((30, 5))
    model = make().fit(X)
    before = codes.copy()
    with pytest.raises(ValueError, match=message):
        model.inverse_transform(codes)
    np.testing.assert_array_equal(codes, before)


@pytest.mark.parametrize("make", [lambda: lvm.PCA(1), lambda: lvm.PPCA(1)], ids=["PCA", "PPCA"])
def test_partial_fit_accepts_a_one_row_chunk(make, seed):
    """The variance is judged on the merged statistics, not the chunk: a valid one-row chunk is accepted."""
    X = np.random.default_rng(seed).standard_normal((21, 4))
    streamed = make().partial_fit(X[:20]).partial_fit(X[20:21])
    whole = make().fit(X)
    assert streamed.n_samples_seen_ == 21
    np.testing.assert_allclose(streamed.explained_variance_, whole.explained_variance_, rtol=1e-12)
    np.testing.assert_allclose(streamed.components_, whole.components_, rtol=1e-10)


# ------------------------------------------------------ kernels against naive formulas
def test_factor_kernels_equal_the_textbook_formulas(seed):
    """The sums-of-squares forms equal Tipping & Bishop's eqs. 4, 29-30 written with explicit inverses."""
    from scipy.stats import multivariate_normal

    from lvm.decomposition._ppca_kernels import covariance_factor, em_step_factor, loglik_from_factor

    rng = np.random.default_rng(seed)
    n, p, k = 40, 6, 2
    X = rng.standard_normal((n, p)) @ rng.standard_normal((p, p))
    S = np.cov(X, rowvar=False, ddof=0)
    W, s2 = rng.standard_normal((p, k)), 0.7
    C = W @ W.T + s2 * np.eye(p)
    expected = multivariate_normal(X.mean(axis=0), C).logpdf(X).mean()
    for factor in (covariance_factor(S), (X - X.mean(axis=0)).T / np.sqrt(n)):
        np.testing.assert_allclose(loglik_from_factor(factor, W, s2), expected, rtol=1e-12)
        M = W.T @ W + s2 * np.eye(k)
        W_new = S @ W @ np.linalg.inv(s2 * np.eye(k) + np.linalg.inv(M) @ W.T @ S @ W)
        s2_new = np.trace(S - S @ W @ np.linalg.inv(M) @ W_new.T) / p
        loadings, noise = em_step_factor(factor, W, s2)
        np.testing.assert_allclose(loadings, W_new, rtol=1e-10)
        np.testing.assert_allclose(noise, s2_new, rtol=1e-10)


# ------------------------------------------------------------------- float32
_FLOAT32_ATTRIBUTES = ["mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_"]


def _float32_data(seed):
    return (_ordinary(seed, n=500, p=12) + 5.0).astype(np.float32)


@pytest.mark.parametrize("solver", ["auto", "covariance", "svd", "randomized"])
def test_pca_keeps_float32_as_sklearn(solver, seed):
    """float32 in: float32 fitted arrays and scores, as scikit-learn's PCA gives."""
    from sklearn.decomposition import PCA as SklearnPCA

    X = _float32_data(seed)
    reference = SklearnPCA(4, svd_solver="full").fit(X)
    model = lvm.PCA(4, solver=solver, random_state=0).fit(X)
    for name in _FLOAT32_ATTRIBUTES:
        assert getattr(model, name).dtype == getattr(reference, name).dtype == np.float32, name
    assert model.transform(X).dtype == reference.transform(X).dtype == np.float32
    # A float64 X through a float32 model: float64 out, in both.
    assert model.transform(X.astype(np.float64)).dtype == reference.transform(X.astype(np.float64)).dtype


@pytest.mark.parametrize("solver", ["auto", "covariance", "svd", "randomized"])
def test_pca_float32_values_match_sklearn(solver, seed):
    """Values to float32 precision: scikit-learn's float32 fit, and its float64 fit rounded to float32.

    scikit-learn computes in float32 (errors of a few 1e-6 here); lvm computes
    in float64 and rounds, so it is within a couple of float32 units of the
    rounded float64 reference.
    """
    from sklearn.decomposition import PCA as SklearnPCA

    X = _float32_data(seed)
    model = lvm.PCA(4, solver=solver, random_state=0).fit(X)
    single = SklearnPCA(4, svd_solver="full").fit(X)
    double = SklearnPCA(4, svd_solver="full").fit(X.astype(np.float64))
    eps = np.finfo(np.float32).eps
    for reference, rtol in [(single, 1e-4), (double, 4 * eps)]:
        signs = np.sign(np.sum(model.components_ * reference.components_, axis=1))
        np.testing.assert_allclose(model.components_ * signs[:, None], reference.components_, rtol=0, atol=rtol)
        np.testing.assert_allclose(model.explained_variance_, reference.explained_variance_, rtol=rtol)
        np.testing.assert_allclose(model.mean_, reference.mean_, rtol=rtol)
        scores = reference.transform(X)
        np.testing.assert_allclose(model.transform(X) * signs, scores, rtol=0, atol=rtol * np.abs(scores).max())
