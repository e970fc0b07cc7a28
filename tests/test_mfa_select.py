"""select_mixture over the number of components and of factors of mixtures of factor analyzers and of PPCA."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import lvm
from lvm.exceptions import DegenerateComponentWarning, HeywoodCaseWarning
from lvm.mixture.selection import _STRUCTURES


def _planes(n_per_cluster=1000, n_features=20, seed=0):
    """Three clusters, each near its own plane: ``x = mu_j + B_j diag(3, 1.5) z + e``, ``e ~ N(0, 0.3^2 I)``.

    ``B_j`` a random orthonormal (n_features, 2) basis and ``mu_j`` a random
    direction at distance 8 from the origin, so that the clusters sit about
    11 apart, over three times the largest spread of any of them.
    """
    rng = np.random.RandomState(seed)
    parts, labels = [], []
    for j in range(3):
        basis = np.linalg.qr(rng.normal(size=(n_features, 2)))[0]
        mean = rng.normal(size=n_features)
        mean *= 8.0 / np.linalg.norm(mean)
        z = rng.normal(size=(n_per_cluster, 2)) * [3.0, 1.5]
        parts.append(mean + z @ basis.T + 0.3 * rng.normal(size=(n_per_cluster, n_features)))
        labels.append(np.full(n_per_cluster, j))
    return np.vstack(parts), np.concatenate(labels)


PLANES, PLANE_LABELS = _planes()


@pytest.mark.parametrize("model, name, estimator", [
    ("mfa", "UUU", lvm.MixtureOfFactorAnalyzers),
    ("mppca", "UUC", lvm.MixtureOfPPCA),
])
def test_bic_picks_three_planes(model, name, estimator):
    """Three clusters, each on its own plane in R^20: BIC picks 3 components of 2 factors.

    Every rival is worse by over 300 units of BIC (the nearest: 3 components
    of 3 factors, one more factor fitted to the noise), so stopping EM at a
    change of 1e-5 per row (0.03 in the total log-likelihood) rather than
    select_mixture's 1e-6 cannot change the choice; it at least halves the run time.
    """
    table, best = lvm.select_mixture(PLANES, model=model, n_components=[2, 3, 4], n_factors=[1, 2, 3],
                                     random_state=0, tol=1e-5)
    assert type(best) is estimator
    assert (best.n_components, best.n_factors) == (3, 2)
    assert (table.loc[0, "n_components"], table.loc[0, "n_factors"]) == (3, 2)
    assert table.loc[0, "bic"] == pytest.approx(best.bic(PLANES), rel=1e-10)
    assert table.loc[1, "bic"] - table.loc[0, "bic"] > 300
    assert set(table["covariance_type"]) == {model} and set(table["mclust"]) == {name}
    grid = sorted(zip(table["n_components"], table["n_factors"], strict=True))
    assert grid == [(k, q) for k in (2, 3, 4) for q in (1, 2, 3)]
    assert set(table["start"]) <= {"hierarchical", "kmeans"}
    assert adjusted_rand_score(PLANE_LABELS, best.predict(PLANES)) == 1.0


def _small(seed=0):
    X, _ = _planes(n_per_cluster=60, n_features=6, seed=seed)
    return X


def test_table_columns_of_the_low_rank_mixtures():
    table, best = lvm.select_mixture(_small(), model="mfa", covariance_types=["mfa", "mfa shared"],
                                     n_components=[1, 2], n_factors=[0, 1], random_state=0, verbose=False, tol=1e-4)
    assert list(table.columns) == ["covariance_type", "mclust", "n_components", "n_factors", "log_likelihood",
                                   "n_parameters", "bic", "icl", "aic", "converged", "n_iter", "start"]
    assert len(table) == 8
    assert dict(zip(table["covariance_type"], table["mclust"], strict=True)) == {"mfa": "UUU", "mfa shared": "UCU"}
    # The row's criteria are the model's own.
    row = table.loc[0]
    assert (row["n_components"], row["n_factors"]) == (best.n_components, best.n_factors)
    assert best.shared_uniquenesses == (row["covariance_type"] == "mfa shared")
    assert row["n_parameters"] == best.n_parameters_
    assert row["icl"] == pytest.approx(best.icl(_small()), rel=1e-10)
    assert row["aic"] == pytest.approx(best.aic(_small()), rel=1e-10)


def test_default_factors_stay_below_the_number_of_features():
    X = _small()[:, :3]
    table, _ = lvm.select_mixture(X, model="mppca", n_components=[1], random_state=0, verbose=False)
    assert sorted(table["n_factors"]) == [1, 2]


def test_a_gaussian_table_has_no_factors_column():
    table, _ = lvm.select_mixture(_small(), n_components=[1, 2], covariance_types="diag", random_state=0,
                                  verbose=False)
    assert "n_factors" not in table.columns


def test_the_fits_run_to_select_mixtures_tolerance_unless_given():
    table, best = lvm.select_mixture(_small(), model="mppca", n_components=[2], n_factors=[1], random_state=0,
                                     verbose=False)
    assert best.tol == 1e-6 and best.max_iter == 2000
    assert set(table["start"]) <= {"hierarchical", "kmeans"}
    table, looser = lvm.select_mixture(_small(), model="mppca", n_components=[2], n_factors=[1], random_state=0,
                                       verbose=False, tol=1e-3, init="random")
    assert looser.tol == 1e-3
    assert set(table["start"]) <= {"hierarchical", "random"}


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_factors": [1]}, ValueError, "n_factors applies to model='mfa' or model='mppca'"),
    ({"model": "fa"}, ValueError, "model='fa' must be one of 'gaussian', 'mfa', 'mppca'"),
    ({"model": "mfa", "n_factors": []}, ValueError, "n_factors is empty: give at least one number of factors"),
    ({"model": "mfa", "n_factors": [-1, 2]}, ValueError, "n_factors must hold non-negative integers; got -1"),
    ({"model": "mfa", "n_factors": 2}, TypeError, "n_factors must be an iterable of non-negative integers"),
    ({"model": "mfa", "n_factors": [6]}, ValueError, "n_factors=6 must be below n_features=6"),
    ({"model": "mfa", "covariance_types": ["diag"]}, ValueError,
     "'diag' is not one of 'mfa', 'mfa shared' for model='mfa' \\(it is a structure of model='gaussian'\\)"),
    ({"model": "mppca", "covariance_types": ["mfa shared"]}, ValueError, "it is a structure of model='mfa'"),
    ({"model": "mfa", "shared_uniquenesses": True}, ValueError,
     "sets shared_uniquenesses itself; choose it with covariance_types"),
    ({"covariance_type": "full"}, ValueError, "sets covariance_type itself; choose it with covariance_types"),
])
def test_select_mixture_refuses_what_does_not_apply(kwargs, error, message):
    with pytest.raises(error, match=message):
        lvm.select_mixture(_small(), n_components=[1], verbose=False, **kwargs)


def test_a_noise_variance_on_its_floor_marks_a_spurious_fit():
    """Two proportional columns: one factor explains both, and their noise goes to the floor (a Heywood case)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    structure = _STRUCTURES["mfa"]["mfa"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DegenerateComponentWarning, HeywoodCaseWarning))
        proper = lvm.MixtureOfFactorAnalyzers(1, 1, random_state=0).fit(X)
        X[:, 1] = 2.0 * X[:, 0]
        floored = lvm.MixtureOfFactorAnalyzers(1, 1, random_state=0).fit(X)
    assert not structure.spurious(proper)
    assert structure.spurious(floored)


def test_select_mixture_on_low_rank_mixtures_with_missing_entries():
    X = _small()
    X[::7, 2] = np.nan
    table, best = lvm.select_mixture(X, model="mfa", n_components=[2, 3], n_factors=[1, 2], missing="em",
                                     random_state=0, verbose=False, tol=1e-4)
    assert best.missing == "em" and np.isfinite(table["bic"]).all()
    assert (best.n_components, best.n_factors) == (3, 2)
