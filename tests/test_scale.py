"""Fits beyond memory: a dask array (threads or a real 2-worker cluster) and a memmap equal the in-memory fit.

Every EM model reads its rows only through the driver's reduction of
statistics over chunks (lvm._em), so the same start must give the same fit,
whatever holds the rows: log-likelihoods to 1e-10 relative and every fitted
parameter to 1e-8. The chunks of the dask arrays are uneven, and their columns
are split, to catch a reduction that assumes otherwise.
"""

import ast
import inspect
import warnings
from dataclasses import dataclass

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream
from scipy.special import gammaln, logsumexp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

import lvm
from lvm._em import EMMixin
from lvm._stats import Stats
from lvm.mixture import _start

LOGLIK_RTOL = 1e-10
PARAM_RTOL = 1e-8
ROW_CHUNKS = (700, 1300, 37, 963)


def _data(seed, missing=False, clusters=True):
    """Three clusters in a 2-factor space, or (clusters=False) a plain 2-factor model."""
    rng = np.random.default_rng(seed)
    n, p = sum(ROW_CHUNKS), 6
    centres = rng.normal(scale=4.0, size=(3, p)) if clusters else np.zeros((3, p))
    loadings = rng.uniform(0.4, 0.9, size=(p, 2)) * rng.choice([-1, 1], size=(p, 2))
    X = centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 2)) @ loadings.T
    X += rng.normal(size=(n, p)) * rng.uniform(0.5, 1.0, size=p)
    X += 100.0  # away from the origin, so that a missing centring would show
    if missing:
        X[rng.random(X.shape) < 0.08] = np.nan
    return X


def _as_dask(X):
    return da.from_array(X, chunks=(ROW_CHUNKS, (2, 4)))


# Fixed iteration counts (tol=0) make the two fits take the same steps; the
# closed forms and L-BFGS-B run to their own tolerances from the same start.
MODELS = {
    "pca": lambda: lvm.PCA(3),
    "ppca": lambda: lvm.PPCA(3),
    "ppca_mle": lambda: lvm.PPCA("mle"),
    "ppca_em": lambda: lvm.PPCA(3, method="em", tol=0.0, max_iter=15, random_state=0),
    "ppca_missing": lambda: lvm.PPCA(3, missing="em", tol=0.0, max_iter=10),
    "fa_ml": lambda: lvm.FactorAnalysis(2, rotation="varimax", tol=1e-12),
    "fa_minres": lambda: lvm.FactorAnalysis(2, method="minres", tol=1e-12),
    "fa_principal": lambda: lvm.FactorAnalysis(2, method="principal", rotation="oblimin"),
    "fa_em": lambda: lvm.FactorAnalysis(2, solver="em", tol=0.0, max_iter=15),
    "fa_missing": lambda: lvm.FactorAnalysis(2, missing="em", tol=0.0, max_iter=10),
    **{f"gmm_{kind}": (lambda kind=kind: lvm.GaussianMixture(3, covariance_type=kind, tol=0.0, max_iter=10,
                                                            n_init=2, random_state=0))
       for kind in ("full", "tied", "diag", "spherical", "EVE")},
    **{f"gmm_{kind}_missing": (lambda kind=kind: lvm.GaussianMixture(
        3, covariance_type=kind, missing="em", tol=0.0, max_iter=8, random_state=0))
       for kind in ("full", "tied", "diag", "spherical")},
    "gmm_kmeans_init": lambda: lvm.GaussianMixture(3, init="kmeans", tol=0.0, max_iter=5, random_state=0),
    "gmm_mfa": lambda: lvm.MixtureOfFactorAnalyzers(3, 2, tol=0.0, max_iter=6, n_init=2, random_state=0),
    "gmm_mfa_shared_em": lambda: lvm.MixtureOfFactorAnalyzers(3, 1, shared_uniquenesses=True, algorithm="em",
                                                              tol=0.0, max_iter=6, random_state=0),
    "gmm_mppca": lambda: lvm.MixtureOfPPCA(3, 2, init="kmeans++", tol=0.0, max_iter=6, random_state=0),
    "gmm_mfa_missing": lambda: lvm.MixtureOfFactorAnalyzers(3, 2, missing="em", tol=0.0, max_iter=5, random_state=0),
    "gmm_mppca_missing": lambda: lvm.MixtureOfPPCA(3, 1, missing="em", algorithm="em", tol=0.0, max_iter=5,
                                                   random_state=0),
    "gmm_random_init": lambda: lvm.GaussianMixture(3, init="random", tol=0.0, max_iter=5, random_state=0),
}


def _fit(name, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", lvm.exceptions.HeywoodCaseWarning)
        return MODELS[name]().fit(X)


def _loglik(model):
    for name in ("log_likelihood_", "lower_bound_"):
        if hasattr(model, name):
            return getattr(model, name)
    return model.history_[-1] if hasattr(model, "history_") else None


def _assert_same_value(name, other, value):
    if isinstance(value, dict):
        assert set(other) == set(value), name
        for key in value:
            _assert_same_value(f"{name}[{key!r}]", other[key], value[key])
    elif isinstance(value, (np.ndarray, pd.DataFrame, float, np.floating)) and np.asarray(value).dtype.kind == "f":
        value, other = np.asarray(value, dtype=float), np.asarray(other, dtype=float)
        scale = np.nanmax(np.abs(value)) if value.size else 0.0
        np.testing.assert_allclose(other, value, rtol=PARAM_RTOL, atol=PARAM_RTOL * scale, err_msg=name)
    elif not isinstance(value, pd.DataFrame):
        assert np.all(np.asarray(other) == np.asarray(value)), name


def _assert_same_fit(actual, desired):
    fitted = {k: v for k, v in vars(desired).items() if k.endswith("_") and not k.startswith("_")}
    assert set(fitted) == {k for k in vars(actual) if k.endswith("_") and not k.startswith("_")}
    for name, value in fitted.items():
        _assert_same_value(name, getattr(actual, name), value)
    if _loglik(desired) is not None:
        assert _loglik(actual) == pytest.approx(_loglik(desired), rel=LOGLIK_RTOL)


@pytest.fixture(scope="module")
def cluster_client():
    """A real two-process cluster on the loopback interface, closed after the module."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="1GiB") as cluster, Client(cluster) as client:
        yield client


@pytest.mark.parametrize("name", MODELS)
def test_dask_threads_fit_equals_in_memory_fit(name, seed):
    X = _data(seed, missing=name.endswith("missing"), clusters=name.startswith("gmm"))
    with dask.config.set(scheduler="threads"):
        _assert_same_fit(_fit(name, _as_dask(X)), _fit(name, X))


@pytest.mark.parametrize("name", MODELS)
def test_distributed_fit_equals_in_memory_fit(name, seed, cluster_client):
    X = _data(seed, missing=name.endswith("missing"), clusters=name.startswith("gmm"))
    with get_task_stream(cluster_client) as tasks:
        remote = _fit(name, _as_dask(X))
    # The statistics were computed by the cluster's workers, not in this process.
    assert {task["worker"] for task in tasks.data} <= set(cluster_client.scheduler_info()["workers"])
    assert len(tasks.data) >= len(ROW_CHUNKS)
    _assert_same_fit(remote, _fit(name, X))


@pytest.mark.parametrize("name", ["pca", "ppca_missing", "fa_missing", "gmm_full", "gmm_diag_missing"])
def test_memmap_fit_equals_in_memory_fit_and_leaves_the_file_alone(name, seed, tmp_path):
    X = _data(seed, missing=name.endswith("missing"), clusters=name.startswith("gmm"))
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mapped[:] = X
    mapped.flush()
    readonly = np.load(tmp_path / "X.npy", mmap_mode="r")
    _assert_same_fit(_fit(name, readonly), _fit(name, X))
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)


@pytest.mark.parametrize("name", ["pca", "ppca", "ppca_missing", "fa_ml", "fa_missing", "gmm_full",
                                  "gmm_tied_missing"])
def test_row_methods_of_a_dask_array_return_lazy_dask_arrays(name, seed):
    X = _data(seed, missing=name.endswith("missing"), clusters=name.startswith("gmm"))
    model = _fit(name, X)
    lazy = _as_dask(X)
    methods = ["transform", "score_samples"] + (["predict", "predict_proba"] if name.startswith("gmm") else [])
    for method in methods:
        out = getattr(model, method)(lazy)
        assert isinstance(out, da.Array), method
        assert out.chunks[0] == ROW_CHUNKS
        np.testing.assert_allclose(out.compute(), getattr(model, method)(X), rtol=1e-12, atol=1e-12,
                                   err_msg=method)


def test_dask_input_gets_the_errors_of_arrays():
    X = _data(0)
    X[5, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        lvm.PCA(2).fit(_as_dask(X))
    X[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN .*missing='em'"):
        lvm.FactorAnalysis(2).fit(_as_dask(X))
    model = lvm.PCA(2).fit(_data(0))
    with pytest.raises(ValueError, match="6 features"):
        model.transform(da.zeros((10, 4), chunks=5))
    with pytest.raises(ValueError, match="constant"):
        lvm.GaussianMixture(2).fit(da.ones((100, 3), chunks=30))


def test_gaussian_mixture_start_on_a_sample_is_the_same_for_numpy_and_dask(seed, monkeypatch):
    # Past the sample size the start is k-means++ on a uniform sample of rows
    # and nearest-centre statistics over all rows, in chunked passes.
    monkeypatch.setattr(_start, "INIT_SAMPLE_ROWS", 500)
    X = _data(seed)
    for init in ("kmeans++", "kmeans", "random"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _assert_same_fit(lvm.GaussianMixture(3, init=init, max_iter=0, random_state=seed).fit(_as_dask(X)),
                             lvm.GaussianMixture(3, init=init, max_iter=0, random_state=seed).fit(X))


def test_no_function_is_defined_inside_an_em_model_fit():
    """The contract is the only way in: fits call methods, they do not wire closures."""
    for cls in (lvm.PCA, lvm.PPCA, lvm.FactorAnalysis, lvm.GaussianMixture, lvm.MixtureOfFactorAnalyzers,
                lvm.MixtureOfPPCA):
        tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
        (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
        for method in (m for m in node.body if isinstance(m, ast.FunctionDef)):
            nested = [n for n in ast.walk(method) if n is not method
                      and isinstance(n, (ast.FunctionDef, ast.Lambda, ast.AsyncFunctionDef))]
            assert not nested, f"{cls.__name__}.{method.name} defines a function at line {nested[0].lineno}"


# ------------------------------------------------- a new model on the contract
@dataclass
class PoissonStats(Stats):
    n_samples: int
    loglik: float
    nk: np.ndarray
    sums: np.ndarray


class PoissonMixture(EMMixin, BaseEstimator):
    """A mixture of two Poissons: the contract's three methods and a fit that calls the driver."""

    def __init__(self, *, n_init=1, tol=1e-10, max_iter=200, random_state=None, callback=None):
        self.n_init, self.tol, self.max_iter, self.random_state, self.callback = (
            n_init, tol, max_iter, random_state, callback)

    def fit(self, X):
        result = self._fit_em(X, check_random_state(self.random_state))
        self.weights_, self.rates_ = result.params["weights"], result.params["rates"]
        return self

    def _init_params(self, source, rng):
        return {"weights": np.full(2, 0.5), "rates": rng.uniform(0.5, 20.0, size=2)}

    def _e_step(self, chunk, params):
        counts = chunk[:, 0]
        log_p = (np.log(params["weights"]) + counts[:, None] * np.log(params["rates"]) - params["rates"]
                 - gammaln(counts + 1)[:, None])
        norm = logsumexp(log_p, axis=1)
        resp = np.exp(log_p - norm[:, None])
        return PoissonStats(len(counts), norm.sum(), resp.sum(axis=0), resp.T @ counts)

    def _m_step(self, stats, params):
        return {"weights": stats.nk / stats.n_samples, "rates": stats.sums / stats.nk}


def _counts(seed, n=5000):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.3, rng.poisson(2.0, n), rng.poisson(12.0, n)).astype(float)[:, None]


def test_a_new_em_model_gets_history_restarts_chunking_and_dask_from_the_driver(seed, monkeypatch):
    X = _counts(seed)
    steps = []
    model = PoissonMixture(n_init=3, random_state=seed, callback=lambda it, params: steps.append(it)).fit(X)
    # history: one entry per iteration, never falling; the callback saw each
    assert len(model.history_) == model.n_iter_ + 1 and model.converged_
    assert np.diff(model.history_).min() >= -1e-12 * abs(model.history_[-1])
    assert steps.count(0) == 3
    order = np.argsort(model.rates_)
    np.testing.assert_allclose(model.rates_[order], [2.0, 12.0], rtol=0.1)
    np.testing.assert_allclose(model.weights_[order], [0.3, 0.7], atol=0.03)
    # restarts: the best of three starts is at least as good as each start alone
    singles = [PoissonMixture(random_state=check_random_state(seed)).fit(X).history_[-1]]
    assert model.history_[-1] >= max(singles) - 1e-9
    # chunking: many small chunks of an array, and a dask array, give the same fit
    monkeypatch.setattr(lvm._source, "_CHUNK_BYTES", 8)
    chunked = PoissonMixture(n_init=3, random_state=seed).fit(X)
    lazy = PoissonMixture(n_init=3, random_state=seed).fit(da.from_array(X, chunks=((1000, 3000, 1000), (1,))))
    for other in (chunked, lazy):
        np.testing.assert_allclose(other.rates_, model.rates_, rtol=PARAM_RTOL)
        assert other.history_[-1] == pytest.approx(model.history_[-1], rel=LOGLIK_RTOL)
