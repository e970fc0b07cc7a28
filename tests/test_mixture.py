"""Gaussian mixtures: scikit-learn step by step, EM invariants, recovery, missing data, degenerate input."""

import pathlib
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGM

import lvm
from lvm.exceptions import DegenerateComponentWarning
from lvm.mixture._covariance import COVARIANCE_TYPES, MCLUST_ALIASES, MCLUST_ORDER

TYPES = ["full", "tied", "diag", "spherical"]
# With mclust's other ten structures (the four under their mclust names are the same ones).
ALL_TYPES = TYPES + [name for name in MCLUST_ORDER if name not in MCLUST_ALIASES]


def blobs(rng, n=600, k=3, p=2, spread=6.0):
    means = rng.normal(scale=spread, size=(k, p))
    labels = rng.integers(k, size=n)
    scales = rng.uniform(0.5, 1.5, size=(k, p, p))
    X = means[labels] + np.einsum("nij,nj->ni", scales[labels], rng.normal(size=(n, p)))
    return X, labels, means


DATASETS = {
    "faithful": lambda rng: lvm.datasets.load_old_faithful().to_numpy(),
    "blobs2d": lambda rng: blobs(rng)[0],
    "blobs5d": lambda rng: blobs(rng, n=800, k=4, p=5)[0],
}


def _user_start(X, k, covariance_type, rng):
    """Identical starting values for both libraries, in scikit-learn's storage."""
    means = X[rng.choice(len(X), k, replace=False)] + 0.1
    variances = X.var(axis=0)
    precisions = {
        "full": np.array([np.diag(1 / variances)] * k),
        "tied": np.diag(1 / variances),
        "diag": np.tile(1 / variances, (k, 1)),
        "spherical": np.full(k, 1 / variances.mean()),
    }[covariance_type]
    return {"weights_init": np.full(k, 1 / k), "means_init": means, "precisions_init": precisions}


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("covariance_type", TYPES)
def test_every_iteration_equals_scikit_learn(data, covariance_type, seed):
    rng = np.random.default_rng(seed)
    X = DATASETS[data](rng)
    start = _user_start(X, 3, covariance_type, rng)
    n_iter = 8
    # scikit-learn adds reg_covar to the diagonal; lvm floors the eigenvalues at it (an exact
    # M-step). Without regularisation the two are the same algorithm.
    start["reg_covar"] = 0.0
    ours = lvm.GaussianMixture(3, covariance_type=covariance_type, tol=0.0, max_iter=n_iter, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X)
        # scikit-learn's lower_bound_ after max_iter = i is the log-likelihood of the
        # parameters before its i-th M-step, i.e. lvm's history_[i - 1].
        theirs = [SklearnGM(3, covariance_type=covariance_type, tol=0.0, max_iter=i, **start).fit(X).lower_bound_
                  for i in range(1, n_iter + 1)]
    np.testing.assert_allclose(ours.history_[:n_iter], theirs, rtol=1e-8)
    final = SklearnGM(3, covariance_type=covariance_type, tol=0.0, max_iter=n_iter, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        final.fit(X)
    np.testing.assert_allclose(ours.means_, final.means_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, final.covariances_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.score_samples(X), final.score_samples(X), rtol=1e-8)


@settings(max_examples=60)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 5), covariance_type=st.sampled_from(ALL_TYPES),
       p=st.integers(1, 4), n=st.integers(30, 200))
def test_loglik_never_decreases(seed, k, covariance_type, p, n):
    rng = np.random.default_rng(seed)
    X, _, _ = blobs(rng, n=n, k=3, p=p, spread=3.0)
    model = lvm.GaussianMixture(k, covariance_type=covariance_type, tol=0.0, max_iter=30, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        model.fit(X)
    drops = np.diff(model.history_)
    assert drops.min() >= -1e-10 * np.abs(model.history_).max()
    resp = model.predict_proba(X)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_prob_kernels_match_scipy(covariance_type, seed):
    rng = np.random.default_rng(seed)
    X, _, _ = blobs(rng, n=50, k=3, p=3)
    model = lvm.GaussianMixture(3, covariance_type=covariance_type, random_state=seed).fit(X)
    structure = COVARIANCE_TYPES[covariance_type]
    full = structure.to_full(model.covariances_, 3, 3)
    dense = np.column_stack([stats.multivariate_normal(m, c).logpdf(X) for m, c in zip(model.means_, full,
                                                                                        strict=True)])
    np.testing.assert_allclose(structure.log_prob(X, model.means_, model.precisions_cholesky_), dense, rtol=1e-10)
    np.testing.assert_allclose(model.score_samples(X), np.log(np.exp(dense) @ model.weights_), rtol=1e-10)
    if covariance_type in ("full", "tied"):
        identity = np.broadcast_to(np.eye(3), model.covariances_.shape)
        np.testing.assert_allclose(model.covariances_ @ model.precisions_, identity, atol=1e-8)


def test_well_separated_mixture_is_recovered_and_k_chosen(seed):
    rng = np.random.default_rng(seed)
    # Three components whose means are at least 12 standard deviations apart.
    centres = np.array([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]])
    labels = rng.integers(3, size=900)
    shapes = np.array([[[1.0, 0.3], [0.0, 0.8]], [[0.7, 0.0], [0.4, 1.2]], [[1.1, -0.2], [0.0, 0.6]]])
    X = centres[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(900, 2)))
    table, best = lvm.select_mixture(X, n_components=range(1, 7), covariance_types=TYPES + ["VEV", "EEI"],
                                     random_state=seed, n_init=2)
    assert best.n_components == 3
    assert adjusted_rand_score(labels, best.predict(X)) >= 0.95
    assert set(table.columns) >= {"covariance_type", "n_components", "log_likelihood", "bic", "icl", "aic"}
    assert len(table) == 6 * 6 and table["bic"].is_monotonic_increasing


def test_fit_predict_equals_fit_then_predict(seed):
    X, _, _ = blobs(np.random.default_rng(seed))
    a = lvm.GaussianMixture(3, random_state=seed).fit_predict(X)
    b = lvm.GaussianMixture(3, random_state=seed).fit(X).predict(X)
    np.testing.assert_array_equal(a, b)


def _mean_error(means, true_means):
    from scipy.optimize import linear_sum_assignment

    cost = ((means[:, None, :] - true_means[None]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    return np.sqrt(cost[rows, cols].mean())


def test_missing_data_recovers_means_better_than_dropping_rows(seed):
    # With 20% of entries missing in 4 columns only 41% of the rows are complete;
    # the error of a single fit is dominated by sampling noise, so it is averaged
    # over five data sets.
    em_errors, dropped_errors = [], []
    for offset in range(5):
        rng = np.random.default_rng(seed + offset)
        X, _, true_means = blobs(rng, n=1500, k=3, p=4, spread=5.0)
        holes = rng.random(X.shape) < 0.2
        X_missing = np.where(holes, np.nan, X)
        em = lvm.GaussianMixture(3, missing="em", random_state=seed, n_init=3, tol=1e-6).fit(X_missing)
        dropped = lvm.GaussianMixture(3, random_state=seed, n_init=3, tol=1e-6).fit(X[~holes.any(axis=1)])
        em_errors.append(_mean_error(em.means_, true_means))
        dropped_errors.append(_mean_error(dropped.means_, true_means))
        drops = np.diff(em.history_)
        assert drops.min() >= -1e-10 * np.abs(em.history_).max()
    assert np.mean(em_errors) < np.mean(dropped_errors), (em_errors, dropped_errors)
    # The likelihood of an incomplete row is that of its observed coordinates.
    full = COVARIANCE_TYPES["full"].to_full(em.covariances_, 3, 4)
    row = X_missing[np.isnan(X_missing).any(axis=1)][0]
    seen = ~np.isnan(row)
    dense = np.log(sum(w * stats.multivariate_normal(m[seen], c[np.ix_(seen, seen)]).pdf(row[seen])
                       for w, m, c in zip(em.weights_, em.means_, full, strict=True)))
    assert em.score_samples(row[None])[0] == pytest.approx(dense, rel=1e-10)


@pytest.mark.parametrize("case", ["duplicated points", "cluster of one point", "more components than points"])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_degenerate_input_gives_a_model_and_a_warning(case, covariance_type, seed):
    rng = np.random.default_rng(seed)
    if case == "duplicated points":
        X = np.repeat(rng.normal(size=(5, 2)), 20, axis=0)
        k = 6
    elif case == "cluster of one point":
        X = np.vstack([rng.normal(size=(100, 2)), [[50.0, 50.0]]])
        k = 2
    else:
        X = np.repeat(rng.normal(size=(3, 2)), 4, axis=0)
        k = 5
    with pytest.warns(DegenerateComponentWarning):
        model = lvm.GaussianMixture(k, covariance_type=covariance_type, random_state=seed).fit(X)
    assert np.all(np.isfinite(model.score_samples(X)))
    assert np.all(np.isfinite(model.means_)) and np.all(np.isfinite(model.weights_))


def test_sample_and_summary(seed):
    X = lvm.datasets.load_old_faithful()
    model = lvm.GaussianMixture(2, random_state=seed).fit(X)
    draws, labels = model.sample(20000, random_state=seed)
    assert draws.shape == (20000, 2) and set(np.unique(labels)) == {0, 1}
    np.testing.assert_allclose(np.bincount(labels) / 20000, model.weights_, atol=0.02)
    text = str(model.summary())
    assert "weight" in text and "eruptions" in text


def test_callback_and_verbose(seed):
    steps = []
    X = lvm.datasets.load_old_faithful()
    lvm.GaussianMixture(2, random_state=1, callback=lambda it, params: steps.append(params)).fit(X)
    assert len(steps) >= 2 and set(steps[0]) >= {"weights", "means", "covariances"}


@pytest.mark.parametrize("covariance_type", TYPES)
def test_scores_do_not_depend_on_where_the_data_sit(covariance_type, seed):
    # The diag/spherical/tied densities expand a square; far from the origin
    # that would lose every digit without the shift lvm applies.
    X, _, _ = blobs(np.random.default_rng(seed), n=300)
    near = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(X)
    far = lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=seed).fit(X + 1e8)
    np.testing.assert_allclose(far.score_samples(X + 1e8), near.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(far.predict(X + 1e8), near.predict(X))



@pytest.mark.parametrize("covariance_type", TYPES)
def test_draw_gives_the_storage_and_its_full_matrices(covariance_type, seed):
    structure = COVARIANCE_TYPES[covariance_type]
    covariances, full = structure.draw(np.random.RandomState(seed), 3, 4, (0.5, 1.5))
    assert covariances.shape == structure.shape(3, 4) and full.shape == (3, 4, 4)
    np.testing.assert_array_equal(full, structure.to_full(covariances, 3, 4))
    eigenvalues = np.linalg.eigvalsh(full)
    assert eigenvalues.min() >= 0.5 - 1e-12 and eigenvalues.max() <= 1.5 + 1e-12


def test_only_the_covariance_module_tells_the_structures_apart():
    root = pathlib.Path(lvm.__file__).parent
    comparison = re.compile(r"\b(covariance_type|structure\.name)\s*[!=]=")
    offenders = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
                 if path.name != "_covariance.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1) if comparison.search(line)]
    assert not offenders

@pytest.mark.parametrize("covariance_type, shape", [("full", (3, 3)), ("tied", (2, 3, 3)), ("diag", (2,)),
                                                    ("spherical", (3,))])
def test_precisions_init_shape_is_checked(covariance_type, shape):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="precisions_init for covariance_type"):
        lvm.GaussianMixture(2, covariance_type=covariance_type, precisions_init=np.ones(shape)).fit(X)


# ------------------------------------------------------------- warm start
def _warm_start_case(covariance_type):
    """Old Faithful (standardised) and a fixed start, for lvm and scikit-learn alike."""
    X = lvm.datasets.load_old_faithful().to_numpy()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    labels = (X[:, 0] > 0).astype(int)
    means = np.array([X[labels == j].mean(axis=0) for j in range(2)])
    start = {"weights_init": np.array([0.5, 0.5]), "means_init": means + 0.3,
             "precisions_init": {"full": np.array([np.eye(2)] * 2), "tied": np.eye(2),
                                 "diag": np.ones((2, 2)), "spherical": np.ones(2)}[covariance_type]}
    return X, start


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_warm_start_continues_the_previous_fit(covariance_type):
    """Five iterations, then five more from there, are ten iterations; as scikit-learn's warm_start."""
    from sklearn.mixture import GaussianMixture as SklearnGM

    X, start = _warm_start_case(covariance_type)
    options = dict(covariance_type=covariance_type, reg_covar=0.0, tol=0.0, **start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = lvm.GaussianMixture(2, max_iter=10, **options).fit(X)
        warm = lvm.GaussianMixture(2, max_iter=5, warm_start=True, n_init=3, **options).fit(X)
        first = warm.history_
        warm.fit(X)
        reference = SklearnGM(2, max_iter=5, warm_start=True, **options).fit(X)
        reference.fit(X)
    np.testing.assert_allclose(np.concatenate([first, warm.history_[1:]]), once.history_, rtol=1e-12)
    assert warm.n_iter_ == reference.n_iter_ == 5 and not warm.converged_
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(warm, name), getattr(once, name), rtol=1e-12, atol=1e-14)
        # The two EMs agree step by step with reg_covar=0 from the same start.
        np.testing.assert_allclose(getattr(warm, name), getattr(reference, name), rtol=1e-9, atol=1e-12)
    # scikit-learn's lower_bound_ is the log-likelihood of the parameters
    # before its last M-step; lvm's history_ has it one entry from the end.
    assert warm.history_[-2] == pytest.approx(reference.lower_bound_, rel=1e-12)


def test_warm_start_refuses_data_with_other_features():
    X, start = _warm_start_case("full")
    model = lvm.GaussianMixture(2, warm_start=True, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"warm_start=True continues the previous fit, on 2 features, but X has 3"):
        model.fit(np.column_stack([X, X[:, 0]]))
    assert model.n_features_in_ == 2
