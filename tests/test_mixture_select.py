"""The hierarchical start of Gaussian mixtures and the model choice built on it.

References are R's mclust 6.0.0 on Old Faithful (tests/reference/mixture_reference.R,
kept as tests/reference/mixture_reference.json): the partitions mclust starts EM
from, ``hclass(hc(X, modelName = "VVV", use = "SVD"), G)``, and its BIC table.
"""

import json
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

import lvm
from lvm.exceptions import DegenerateComponentWarning
from lvm.mixture import _hierarchical
from lvm.mixture.selection import _grown_start

GOLDEN = json.loads((Path(__file__).parent / "reference" / "mixture_reference.json").read_text())
FAITHFUL = lvm.datasets.load_old_faithful()
X = FAITHFUL.to_numpy()
MCLUST = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}


def _fit(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        return model.fit(data)


# ---------------------------------------------------------------- the start
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_hierarchical_start_is_mclust_partition(k):
    """The start is the M-step of mclust's partition: its weights and means, in mclust's order.

    R: ``hclass(hc(X, modelName = "VVV", use = "SVD"), G)`` (initial_partitions in the JSON).
    """
    labels = np.array(GOLDEN["initial_partitions"][str(k)]) - 1
    model = _fit(lvm.GaussianMixture(k, init="hierarchical", max_iter=0), X)
    np.testing.assert_allclose(model.weights_, np.bincount(labels) / len(X), rtol=1e-12)
    expected = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    np.testing.assert_allclose(model.means_, expected, rtol=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_hierarchical_labels_equal_mclust(k):
    labels = _hierarchical.hierarchical_labels(X, k)
    np.testing.assert_array_equal(labels, np.array(GOLDEN["initial_partitions"][str(k)]) - 1)


def _naive_cost(rows, alpha):
    """Fraley's (1998) VVV cost with mclust's trace regularisation, from the rows themselves."""
    n, q = rows.shape
    centred = rows - rows.mean(axis=0)
    scatter = centred.T @ centred
    det = np.linalg.det(scatter / n) if n > q else 0.0
    return n * np.log(det + (np.trace(scatter) + alpha) / n)


def test_merge_sequence_is_greedy_on_the_documented_criterion():
    """Every merge is the cheapest one available, checked by recomputing all costs from the rows."""
    rng = np.random.RandomState(0)
    Z = np.vstack([rng.normal(size=(15, 2)), rng.normal(size=(15, 2)) * 0.5 + 3, rng.normal(size=(10, 2)) - 4])
    alpha = ((Z - Z.mean(axis=0)) ** 2).sum() / Z.size
    clusters = {i: [i] for i in range(len(Z))}
    for a, b in _hierarchical.merge_sequence(Z):
        def cost(u, v):
            return (_naive_cost(Z[clusters[u] + clusters[v]], alpha) - _naive_cost(Z[clusters[u]], alpha)
                    - _naive_cost(Z[clusters[v]], alpha))
        cheapest = min(cost(u, v) for u, v in combinations(clusters, 2))
        assert cost(a, b) == pytest.approx(cheapest, rel=1e-9, abs=1e-9)
        clusters[a] = clusters[a] + clusters.pop(b)
    assert len(clusters) == 1


def test_hierarchical_start_does_not_depend_on_random_state():
    """Below the subset size nothing is drawn: two seeds give the same fit, bit for bit."""
    first = _fit(lvm.GaussianMixture(3, covariance_type="tied", init="hierarchical", random_state=0), X)
    second = _fit(lvm.GaussianMixture(3, covariance_type="tied", init="hierarchical", random_state=12345), X)
    np.testing.assert_array_equal(first.means_, second.means_)
    np.testing.assert_array_equal(first.covariances_, second.covariances_)
    np.testing.assert_array_equal(first.history_, second.history_)


def _three_blobs(n, seed=0):
    rng = np.random.RandomState(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return centres[rng.randint(0, 3, size=n)] + rng.normal(size=(n, 2))


def test_hierarchical_start_above_subset_size_is_reproducible_and_bounded(monkeypatch):
    data = _three_blobs(5000)
    seen = []
    original = lvm.mixture._start.hierarchical_labels

    def recording(rows, n_clusters):
        seen.append(rows.shape)
        return original(rows, n_clusters)

    monkeypatch.setattr(lvm.mixture._start, "hierarchical_labels", recording)
    first = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0, random_state=7), data)
    second = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0, random_state=7), data)
    np.testing.assert_array_equal(first.means_, second.means_)
    np.testing.assert_array_equal(first.covariances_, second.covariances_)
    # The agglomeration only ever sees the subset, never all 5000 rows.
    assert all(500 < rows <= 2000 for rows, _ in seen)
    # EM from it finds the three blobs: centres within 4 standard errors (1 / sqrt(5000 / 3)).
    fitted = _fit(lvm.GaussianMixture(3, init="hierarchical", random_state=7), data)
    order = np.argsort(fitted.means_[:, 0] + 10 * fitted.means_[:, 1])
    np.testing.assert_allclose(fitted.means_[order], [[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]], atol=4 / np.sqrt(5000 / 3))


def test_hierarchical_start_refuses_what_would_not_fit_in_memory():
    wide = np.random.RandomState(0).normal(size=(2000, 200))
    with pytest.raises(ValueError, match="init='hierarchical' on 2000 rows in 200 dimensions"):
        lvm.GaussianMixture(2, init="hierarchical").fit(wide)


def test_select_mixture_leaves_out_the_hierarchical_start_when_too_wide():
    wide = np.random.RandomState(0).normal(size=(400, 400))
    table, _ = lvm.select_mixture(wide, n_components=[1, 2], covariance_types=["spherical"], random_state=0)
    assert set(table["start"]) <= {"kmeans++", "split", "duplicate"}


def test_hierarchical_start_leaves_input_unchanged():
    data = X.copy()
    _fit(lvm.GaussianMixture(3, init="hierarchical"), data)
    np.testing.assert_array_equal(data, X)


def test_hierarchical_start_with_dask_equals_numpy():
    da = pytest.importorskip("dask.array")
    dense = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0), X)
    chunked = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0), da.from_array(X, chunks=(100, 2)))
    np.testing.assert_allclose(chunked.means_, dense.means_, rtol=1e-12)


def test_hierarchical_start_above_subset_size_with_dask_equals_numpy():
    """The subset is drawn from random_state and the row count alone, so a dask array gives the same start."""
    da = pytest.importorskip("dask.array")
    data = _three_blobs(5000)
    dense = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0, random_state=3), data)
    chunked = _fit(lvm.GaussianMixture(3, init="hierarchical", max_iter=0, random_state=3),
                   da.from_array(data, chunks=(1000, 2)))
    np.testing.assert_allclose(chunked.means_, dense.means_, rtol=1e-12)


def test_hierarchical_start_with_missing_values():
    data = X.copy()
    data[::17, 1] = np.nan
    model = _fit(lvm.GaussianMixture(2, init="hierarchical", missing="em"), data)
    assert np.all(np.isfinite(model.means_))
    assert np.all(np.diff(model.history_) >= -1e-10)


# ---------------------------------------------------------------- the choice
def _mclust_loglik(model_name, k):
    """The largest log-likelihood mclust reports for ``model_name`` with at most ``k`` components."""
    table = GOLDEN["bic_table"]["loglik"]
    column = table["colnames"].index(model_name)
    return max(table["data"][row][column] for row in range(k))


@pytest.mark.parametrize("random_state", range(8))
def test_select_mixture_picks_mclust_answer_for_every_seed(random_state):
    """mclust's pick, EEE with 3 components, whatever the seed; no row below mclust's fit.

    R: ``mclustBIC(X, G = 1:5, modelNames = c("VII", "VVI", "EEE", "VVV"))``. A fit
    with k components can always reach the likelihood of any fit of the same
    structure with fewer, so each row is compared with mclust's best at k or fewer;
    0.05 allows for where each EM stops (mclust at a relative change of 1e-5,
    0.011 here; lvm at 1e-6 per row).
    """
    # The four structures of this golden file (all fourteen: test_mixture_mclust_models.py).
    table, best = lvm.select_mixture(FAITHFUL, n_components=range(1, 6), covariance_types=list(MCLUST),
                                     random_state=random_state)
    assert (best.covariance_type, best.n_components) == ("tied", 3)
    assert (table.loc[0, "mclust"], table.loc[0, "n_components"]) == (GOLDEN["best"]["modelName"], GOLDEN["best"]["G"])
    for row in table.itertuples():
        assert row.log_likelihood >= _mclust_loglik(row.mclust, row.n_components) - 0.05, row
    # The chosen fit is the same for every seed: mclust's EEE,3 EM run to its limit.
    # Tolerances: 0.02 as in test_mixture_reference; EM stops at a change of 1e-6 per row
    # (3e-4 in total) on a flat ridge, 5e-4 below the limit, its means 6e-4 (relative) away.
    limit = GOLDEN["fits"]["EEE"]["3"]["em_limit"]
    assert best.score_samples(FAITHFUL).sum() == pytest.approx(limit["loglik"], abs=0.02)
    order = np.argsort(best.means_[:, 0])
    mclust_means = np.array(limit["mean"]["data"]).T
    np.testing.assert_allclose(best.means_[order], mclust_means[np.argsort(mclust_means[:, 0])], rtol=1e-3)


def test_select_mixture_table_is_monotone_in_k():
    """Even from poor starts (random rows, one EM step) no fit lies below one with fewer components."""
    table, _ = lvm.select_mixture(FAITHFUL, n_components=range(1, 6), random_state=0, init="random", max_iter=1)
    for _, rows in table.sort_values("n_components").groupby("covariance_type"):
        loglik = rows["log_likelihood"].to_numpy()
        assert np.all(np.diff(loglik) >= -1e-9 * np.abs(loglik[1:]))
    # The repair was needed here, so the test exercises it.
    assert set(table["start"]) & {"split", "duplicate"}


def test_select_mixture_table_columns():
    table, _ = lvm.select_mixture(FAITHFUL, n_components=[1, 2], covariance_types=["tied"], random_state=0)
    assert list(table.columns) == ["covariance_type", "mclust", "n_components", "log_likelihood", "n_parameters",
                                   "bic", "icl", "aic", "converged", "n_iter", "start"]
    assert set(table["start"]) <= {"hierarchical", "kmeans++", "split", "duplicate"}


def test_select_mixture_with_hierarchical_init_only():
    """init="hierarchical" alone: no random start, so two seeds give the same table."""
    first, _ = lvm.select_mixture(FAITHFUL, n_components=[1, 2, 3], covariance_types=["tied", "diag"],
                                  init="hierarchical", random_state=0)
    second, _ = lvm.select_mixture(FAITHFUL, n_components=[1, 2, 3], covariance_types=["tied", "diag"],
                                   init="hierarchical", random_state=99)
    assert set(first["start"]) <= {"hierarchical", "split", "duplicate"}
    assert first.equals(second)


@pytest.mark.parametrize("n_components, message", [
    ([], "n_components is empty"),
    ([0, 2], "positive integers; got 0"),
    ([2.5], "positive integers; got 2.5"),
    (["3"], "positive integers; got '3'"),
])
def test_select_mixture_rejects_bad_n_components(n_components, message):
    with pytest.raises(ValueError, match=message):
        lvm.select_mixture(X, n_components=n_components)


@pytest.mark.parametrize("covariance_types, message", [
    ([], "covariance_types is empty"),
        (["full", "VVX"], "'VVX' is not one of"),
])
def test_select_mixture_rejects_bad_covariance_types(covariance_types, message):
    with pytest.raises(ValueError, match=message):
        lvm.select_mixture(X, n_components=[1], covariance_types=covariance_types)


def test_select_mixture_rejects_starting_values():
    with pytest.raises(ValueError, match="starting values .*means_init"):
        lvm.select_mixture(X, n_components=[1, 2], means_init=X[:2])


def test_select_mixture_leaves_input_unchanged():
    data = X.copy()
    lvm.select_mixture(data, n_components=[1, 2], covariance_types=["diag"], random_state=0)
    np.testing.assert_array_equal(data, X)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_grown_starts(covariance_type):
    """A duplicated component leaves the density unchanged; a split keeps the component's weight and mean."""
    smaller = _fit(lvm.GaussianMixture(2, covariance_type=covariance_type, random_state=0), X)
    duplicate = _fit(lvm.GaussianMixture(3, covariance_type=covariance_type, max_iter=0,
                                         **_grown_start(smaller, 3, "duplicate")), X)
    np.testing.assert_allclose(duplicate.score_samples(X), smaller.score_samples(X), rtol=1e-10)
    split = _grown_start(smaller, 3, "split")
    weights, means = split["weights_init"], split["means_init"]
    (j,) = np.flatnonzero(~np.isclose(weights[:2], smaller.weights_, rtol=1e-12))
    assert weights[j] + weights[2] == pytest.approx(smaller.weights_[j], rel=1e-12)
    np.testing.assert_allclose((weights[j] * means[j] + weights[2] * means[2]) / smaller.weights_[j],
                               smaller.means_[j], rtol=1e-12)
    np.testing.assert_array_equal(means[1 - j], smaller.means_[1 - j])
    assert not np.allclose(means[j], means[2])
