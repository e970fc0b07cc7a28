"""mclust's fourteen models on Old Faithful, iris and diabetes, against mclust itself.

The reference is tests/reference/mclust_models.R (R's mclust 6.0.0), kept as
tests/reference/mclust_models.json, and rerun here when ``Rscript`` is
installed. Every (model, G = 1..9) is started from mclust's own partition
(``hclass(hc(X, "VVV", use = "SVD"), G)``) and run to convergence, then
compared with

* ``loglik``: what mclust reports (it stops at a relative change of 1e-5, so
  lvm, run further, must reach at least that, less 0.05);
* ``em_limit``: mclust's EM from the same partition iterated until no
  parameter moves, the same maximum lvm must find (to 1e-4) except where the
  two start their iterations (the first M-step of an iterative structure) in
  different basins: iris EVE with 5 and 9 components, where lvm ends higher,
  and mclust's limits are fixed points of lvm's EM as well;
* ``df``: mclust's parameter count (``nMclustParams``).

mclust's VVE is not maximum likelihood (its orientation step leaves out the
varying volumes; tests/reference/README.md), so VVE is compared only with the
first of these. Cells where mclust fails with a singular covariance (at its
stopping rule, or on the way to its limit) are checked to be singular for
lvm too.
"""

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm.exceptions import ConvergenceWarning, DegenerateComponentWarning
from lvm.mixture._covariance import MCLUST_ORDER, structure_of

REFERENCE = Path(__file__).parent / "reference"
GOLDEN = json.loads((REFERENCE / "mclust_models.json").read_text())
DATA = {
    "faithful": lvm.datasets.load_old_faithful(),
    "iris": pd.read_csv(REFERENCE / "iris.csv").iloc[:, :4],
    "diabetes": pd.read_csv(REFERENCE / "diabetes.csv")[["fpg", "glucose", "insulin"]],
}
# Different local maxima from the same partition (module docstring).
OTHER_BASIN = {("iris", "EVE", 5), ("iris", "EVE", 9)}


def _partition_start(X, labels, k):
    """mclust's start: weights and means of the partition (its covariances come from lvm's first M-step)."""
    weights = np.bincount(labels, minlength=k) / len(X)
    means = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    return weights, means


def _fit_from_partition(name, X, k, labels):
    """lvm's EM from mclust's partition: one M-step of the hard labels, then EM to convergence."""
    model = lvm.GaussianMixture(k, covariance_type=name, tol=1e-10, max_iter=20000, reg_covar=0.0,
                                init="hierarchical")
    if k > 1:
        # The hierarchical start is this partition (test_mixture_select.py checks it row for row for
        # Old Faithful); here the partition is given, so that the comparison does not depend on it.
        weights, means = _partition_start(X, labels, k)
        scatter = [np.cov(X[labels == j], rowvar=False, bias=True) for j in range(k)]
        model.set_params(weights_init=weights, means_init=means,
                         precisions_init=_in_storage(name, np.array(scatter), weights, k, X.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        model.fit(X)
    return model


def _in_storage(name, scatter, weights, k, p):
    """Precisions of the partition's covariances after one M-step of the structure, in its storage."""
    structure = structure_of(name)
    nk = weights * 1.0
    covariances = structure.estimate(nk, np.zeros((k, p)), structure.from_full(nk[:, None, None] * scatter), 0.0,
                                     previous=structure.unit(k, p))
    return structure.precisions(structure.precision_cholesky(covariances))


def _cells():
    for data in DATA:
        for name in MCLUST_ORDER:
            yield data, name


@pytest.mark.parametrize("data, name", list(_cells()))
def test_each_model_reaches_mclust_from_its_partition(data, name):
    X = DATA[data].to_numpy()
    reference = GOLDEN["data"][data]
    n, p = X.shape
    for k in range(1, 10):
        cell = reference["fits"][name][str(k)]
        labels = np.array(reference["initial_partitions"][str(k)]) - 1 if k > 1 else np.zeros(n, dtype=int)
        assert lvm.GaussianMixture(k, covariance_type=name)._structure.n_parameters(k, p) + k - 1 + k * p \
            == cell["df"], (data, name, k)
        if cell["loglik"] is None:
            # mclust stops with "singular covariance": so does lvm, or its covariance is singular.
            try:
                model = _fit_from_partition(name, X, k, labels)
            except ValueError as error:
                assert "collapsed" in str(error) or "singular" in str(error), str(error)
                continue
            full = structure_of(name).to_full(model.covariances_, k, p)
            assert np.linalg.eigvalsh(full).min() < 1e-10 * np.abs(X).max() ** 2, (data, name, k)
            continue
        limit = cell["em_limit"]
        if limit is None or limit.get("failed"):
            # mclust's own EM, run on past its stopping rule, ends in a singular covariance
            # (iris EVV 7): lvm's follows it there and says so.
            with pytest.raises(ValueError, match="collapsed|singular"):
                _fit_from_partition(name, X, k, labels)
            continue
        model = _fit_from_partition(name, X, k, labels)
        loglik = model.score_samples(X).sum()
        assert model.n_parameters_ == cell["df"]
        assert loglik >= cell["loglik"] - 0.05, (data, name, k, loglik, cell["loglik"])
        if name == "VVE":
            continue
        if (data, name, k) in OTHER_BASIN:
            assert loglik > limit["loglik"] + 1.0
            _assert_fixed_point(name, X, k, limit)
            continue
        assert loglik == pytest.approx(limit["loglik"], abs=1e-4), (data, name, k)
        # The parameters too, with components matched by their means.
        order = np.argsort(np.array(limit["mean"]["data"])[0])
        ours = np.argsort(model.means_[:, 0])
        np.testing.assert_allclose(model.means_[ours], np.array(limit["mean"]["data"]).T[order],
                                   rtol=1e-3, atol=1e-3 * np.abs(X).max())


def _assert_fixed_point(name, X, k, limit):
    """lvm's EM started at mclust's converged parameters stays there: another maximum, not a failure."""
    sigma = np.array([np.array(s["data"]) for s in limit["sigma"]])
    pro = np.array(limit["pro"] if isinstance(limit["pro"], list) else limit["pro"]["values"])
    model = lvm.GaussianMixture(k, covariance_type=name, tol=0.0, max_iter=30, reg_covar=0.0,
                                weights_init=pro / pro.sum(), means_init=np.array(limit["mean"]["data"]).T,
                                precisions_init=np.linalg.inv(sigma))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert model.score_samples(X).sum() == pytest.approx(limit["loglik"], abs=1e-6)


@pytest.mark.parametrize("data, pick", [("faithful", ("tied", "EEE", 3)), ("iris", ("VEV", "VEV", 2)),
                                        ("diabetes", ("full", "VVV", 3))])
def test_select_mixture_picks_what_mclust_picks(data, pick):
    """select_mixture over all fourteen structures and G = 1..9, as mclustBIC's defaults."""
    best = GOLDEN["data"][data]["best"]
    assert (pick[1], pick[2]) == (best["modelName"], best["G"])
    table, model = lvm.select_mixture(DATA[data], random_state=0, verbose=False)
    assert len(table) == 14 * 9
    assert (model.covariance_type, model.n_components) == (pick[0], pick[2])
    top = table.iloc[0]
    assert (top["mclust"], top["n_components"]) == (best["modelName"], best["G"])
    # mclust's BIC is 2 loglik - df log n, larger is better; lvm's is its negative.
    limit = GOLDEN["data"][data]["fits"][best["modelName"]][str(best["G"])]["em_limit"]
    assert -top["bic"] == pytest.approx(limit["bic"], abs=0.05)
    assert top["n_parameters"] == best["df"]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_reference_script_reproduces_golden_file(tmp_path):
    """The script, rerun on Old Faithful (about 20 s), gives the committed numbers."""
    # It writes its data files next to itself: run a copy, so that nothing in the tree changes.
    (tmp_path / "tests" / "reference").mkdir(parents=True)
    (tmp_path / "lvm" / "datasets" / "data").mkdir(parents=True)
    shutil.copy(REFERENCE / "mclust_models.R", tmp_path / "tests" / "reference")
    shutil.copy(Path(lvm.__file__).parent / "datasets" / "data" / "faithful.csv",
                tmp_path / "lvm" / "datasets" / "data")
    out = tmp_path / "out.json"
    subprocess.run(["Rscript", "tests/reference/mclust_models.R", str(out), "faithful"], check=True,
                   capture_output=True, cwd=tmp_path, timeout=600)
    fresh = json.loads(out.read_text())["data"]["faithful"]
    golden = GOLDEN["data"]["faithful"]
    assert fresh["bic"] == golden["bic"]
    assert fresh["initial_partitions"] == golden["initial_partitions"]
    for name in MCLUST_ORDER:
        for k in map(str, range(1, 10)):
            assert fresh["fits"][name][k]["em_limit"]["loglik"] == pytest.approx(
                golden["fits"][name][k]["em_limit"]["loglik"], rel=1e-12)
