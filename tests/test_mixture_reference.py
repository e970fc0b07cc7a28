"""Gaussian mixtures on Old Faithful against R's mclust (tests/reference/mixture_reference.R,
kept as tests/reference/mixture_reference.json so that the suite needs no R).

mclust stops EM once the log-likelihood changes by less than 1e-5 relative,
which on these data leaves it up to 16.5 below the maximum its own start
leads to, and some of its starts end in local maxima. So lvm is started from
mclust's own initial partition (hierarchical clustering, ``hc(X, "VVV")``) and
both are run to convergence: ``em_limit`` is mclust's EM from that start,
iterated until no parameter changes by more than 1e-15.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import lvm
from lvm.exceptions import DegenerateComponentWarning

GOLDEN = json.loads((Path(__file__).parent / "reference" / "mixture_reference.json").read_text())
X = lvm.datasets.load_old_faithful().to_numpy()
N = len(X)
MCLUST = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}


def _start_from_partition(labels, covariance_type):
    """Weights, means and precisions of mclust's initial partition (an M-step from hard labels)."""
    k = labels.max() + 1
    weights = np.bincount(labels) / N
    means = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    scatters = np.array([np.cov(X[labels == j], rowvar=False, bias=True) for j in range(k)])
    if covariance_type == "full":
        precisions = np.linalg.inv(scatters)
    elif covariance_type == "tied":
        precisions = np.linalg.inv(np.tensordot(weights, scatters, axes=1))
    elif covariance_type == "diag":
        precisions = 1.0 / np.diagonal(scatters, axis1=1, axis2=2)
    else:
        precisions = 1.0 / np.diagonal(scatters, axis1=1, axis2=2).mean(axis=1)
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "tied", "full"])
def test_loglik_and_bic_equal_mclust(covariance_type, k):
    table = GOLDEN["bic_table"]
    row = table["loglik_em_limit"]["rownames"].index(str(k))
    col = table["loglik_em_limit"]["colnames"].index(MCLUST[covariance_type])
    converged = table["loglik_em_limit"]["data"][row][col]
    reported = table["loglik"]["data"][row][col]
    kwargs = {}
    if k > 1:
        labels = np.array(GOLDEN["initial_partitions"][str(k)]) - 1
        kwargs = _start_from_partition(labels, covariance_type)
    model = lvm.GaussianMixture(k, covariance_type=covariance_type, tol=1e-10, max_iter=20000, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        model.fit(X)
    loglik = model.score_samples(X).sum()
    assert loglik == pytest.approx(converged, abs=0.02)
    # mclust's BIC is 2 loglik - m log n (larger is better); lvm's is its negative.
    assert model.n_parameters_ == table["df"]["data"][row][col]
    assert -model.bic(X) == pytest.approx(table["bic_em_limit"]["data"][row][col], abs=0.04)
    # mclust's own, earlier-stopped value lies on the same EM path, below the limit.
    assert loglik >= reported - 0.02


def test_select_mixture_picks_what_mclust_picks():
    best = GOLDEN["best"]
    # The four structures of this reference (all fourteen: test_mixture_mclust_models.py).
    table, model = lvm.select_mixture(X, n_components=range(1, 6), covariance_types=list(MCLUST), random_state=0,
                                      n_init=5, tol=1e-8, max_iter=5000)
    assert (MCLUST[model.covariance_type], model.n_components) == (best["modelName"], best["G"])
    top = table.iloc[0]
    assert top["mclust"] == best["modelName"] and top["n_components"] == best["G"]
    limit = GOLDEN["bic_table"]["bic_em_limit"]
    converged_bic = limit["data"][limit["rownames"].index(str(best["G"]))][limit["colnames"].index(best["modelName"])]
    assert -top["bic"] == pytest.approx(converged_bic, abs=0.04)
    # With its default tolerance (1e-3 per sample) the pick is the same.
    _, default = lvm.select_mixture(X, n_components=range(1, 6), covariance_types=list(MCLUST), random_state=0)
    assert (MCLUST[default.covariance_type], default.n_components) == (best["modelName"], best["G"])
