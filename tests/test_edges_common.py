"""What every model owes its user at the edges: parameters, magnitudes, threads.

The models are discovered from ``lvm.__all__`` as in ``test_common.py``, so a
new model is held to the same promises without being listed here.
"""

import inspect
import math
import threading

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import lvm
from lvm._linalg import blas_threads, single_blas_thread

MODELS = [
    obj
    for name in lvm.__all__
    if inspect.isclass(obj := getattr(lvm, name)) and issubclass(obj, BaseEstimator) and hasattr(obj, "fit")
]

# Methods of a fitted model that take rows of data.
DATA_METHODS = ("transform", "score_samples", "score", "predict", "predict_proba", "posterior", "bic", "aic")


def _real_parameters(cls):
    """Names of the constructor parameters constrained to real intervals."""
    constraints = getattr(cls, "_parameter_constraints", {})
    names = []
    for name, allowed in constraints.items():
        for constraint in allowed:
            if getattr(constraint, "kind", None) is not None and constraint.kind.__name__ == "Real":
                names.append(name)
                break
    return names


def _factor_data(n, p=5, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, k)) @ rng.standard_normal((k, p)) + 0.5 * rng.standard_normal((n, p))


def _fitted(cls):
    X = _factor_data(200)
    kwargs = {"random_state": 0} if "random_state" in inspect.signature(cls).parameters else {}
    if cls is lvm.Autoencoder:
        kwargs["epochs"] = 2
    return cls(2, **kwargs).fit(X), X


def test_every_model_has_a_real_parameter_to_check():
    # Guards the parametrisation below against an empty list.
    assert all(_real_parameters(cls) for cls in MODELS if cls is not lvm.PCA)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_real_parameters_are_refused_by_name(cls, value):
    # An interval test against NaN is always false, so a NaN passed every
    # bound and reached the numerics.
    X = np.random.default_rng(0).standard_normal((30, 4))
    for name in _real_parameters(cls):
        model = cls(**{name: value})
        with pytest.raises(ValueError, match=f"parameter {name}=(nan|inf|-inf)"):
            model.fit(X)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_data_method_refuses_values_whose_squares_overflow(cls):
    model, X = _fitted(cls)
    huge = X * 1e200
    called = 0
    for name in DATA_METHODS:
        method = getattr(model, name, None)
        if method is None:
            continue
        called += 1
        with pytest.raises(ValueError, match="overflow double precision"):
            method(huge)
    assert called >= 2


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_data_methods_accept_large_but_representable_values(cls):
    # The bound is on values whose squares overflow, not on large values.
    model, X = _fitted(cls)
    scale = 1e100
    rescaled = type(model)(**model.get_params()).fit(X * scale)
    out = rescaled.transform(X * scale)
    assert np.all(np.isfinite(out))


def test_overlapping_single_thread_sections_restore_the_callers_setting():
    # Two sections opened and closed out of order, as two threads fitting at
    # once do: the caller's thread count must come back.
    before = blas_threads()
    first, second = single_blas_thread(), single_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert blas_threads() == before


def test_fits_in_two_threads_leave_blas_as_they_found_it():
    from threadpoolctl import threadpool_info, threadpool_limits

    X = _factor_data(4000, p=8, seed=1)
    with threadpool_limits(limits=2, user_api="blas"):
        before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        reference = lvm.GaussianMixture(3, random_state=0).fit(X).score(X)
        errors = []

        def fit_many():
            try:
                for _ in range(4):
                    lvm.GaussianMixture(3, random_state=0).fit(X)
                    lvm.FactorAnalysis(2).fit(X)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=fit_many) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        assert not errors
        assert after == before
        assert lvm.GaussianMixture(3, random_state=0).fit(X).score(X) == reference


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", ["inf", "nan"])
def test_every_data_method_refuses_non_finite_input_with_its_own_message(cls, bad):
    model, X = _fitted(cls)
    broken = X.copy()
    broken[3, 1] = np.inf if bad == "inf" else np.nan
    message = "contains infinity" if bad == "inf" else "contains NaN"
    for name in DATA_METHODS:
        method = getattr(model, name, None)
        if method is not None:
            with pytest.raises(ValueError, match=message):
                method(broken)


def _equivariance_cases():
    # reg_covar is a variance in the data's units, so it is scaled with them.
    cases = [
        ("PCA", lambda scale: lvm.PCA(2)),
        ("PPCA", lambda scale: lvm.PPCA(2)),
        ("FA", lambda scale: lvm.FactorAnalysis(2)),
        ("PPCA-missing", lambda scale: lvm.PPCA(2, missing="em")),
        ("FA-missing", lambda scale: lvm.FactorAnalysis(2, missing="em")),
    ]
    for kind in ("full", "tied", "diag", "spherical", "VEI", "EVE", "VEV"):
        for missing in ("error", "em"):
            cases.append((
                f"GMM-{kind}" + ("-missing" if missing == "em" else ""),
                lambda scale, kind=kind, missing=missing: lvm.GaussianMixture(
                    2, covariance_type=kind, missing=missing, reg_covar=1e-6 * scale**2, random_state=0),
            ))
    # reg is a fraction of each column's variance: nothing to scale.
    for label, make in (("MFA", lambda: lvm.MixtureOfFactorAnalyzers(2, 1, random_state=0)),
                        ("MFA-shared-em", lambda: lvm.MixtureOfFactorAnalyzers(
                            2, 2, shared_uniquenesses=True, algorithm="em", random_state=0)),
                        ("MPPCA", lambda: lvm.MixtureOfPPCA(2, 2, random_state=0))):
        for missing in ("error", "em"):
            cases.append((label + ("-missing" if missing == "em" else ""),
                          lambda scale, make=make, missing=missing: make().set_params(missing=missing)))
    return cases


def _equivariance_data(name):
    rng = np.random.default_rng(7)
    X = _factor_data(300, p=6, seed=8)
    if name.startswith(("GMM", "MFA", "MPPCA")):
        X[:150] += 6.0
    if "missing" in name:
        X[rng.random(X.shape) < 0.05] = np.nan
    return X


@pytest.mark.parametrize("case", _equivariance_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("scale, shift", [(1.0, 1e8), (1e6, 0.0), (1e-6, 0.0), (1e-6, 1e3)])
def test_fits_are_equivariant_under_shift_and_scale(case, scale, shift):
    # Units and origin are the user's choice: a fit to a*X + b is the fit to
    # X carried over, and its log-likelihood differs by -log a per observed
    # entry only (the density of a row is over its observed entries).
    import warnings

    name, make = case
    X = _equivariance_data(name)
    Y = X * scale + shift
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        base = make(1.0).fit(X)
        moved = make(scale).fit(Y)
    observed_per_row = np.isfinite(X).sum(axis=1).mean()
    expected = base.score(X) - observed_per_row * np.log(scale)
    assert moved.score(Y) == pytest.approx(expected, rel=1e-6, abs=1e-6)
    if hasattr(base, "predict"):
        assert np.array_equal(base.predict(X), moved.predict(Y))


def test_factor_analysis_refuses_wide_data_before_forming_its_correlation_matrix():
    # 100 rows for 12,000 columns: the scatter matrix alone would be 1.1 GB.
    import resource

    X = np.random.default_rng(0).standard_normal((100, 12_000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match="singular: 100 rows for 12000 variables"):
        lvm.FactorAnalysis(2).fit(X)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 200_000


def test_factor_analysis_files_saved_with_n_factors_still_load(tmp_path, monkeypatch):
    # Files written before the latent dimension was called n_components on
    # every model name it n_factors: write one as that version did.
    X = _factor_data(200, p=6, seed=8)
    fa = lvm.FactorAnalysis(2).fit(X)
    current = lvm.FactorAnalysis.get_params

    def old_params(self, deep=True):
        params = current(self, deep=deep)
        params["n_factors"] = params.pop("n_components")
        return params

    monkeypatch.setattr(lvm.FactorAnalysis, "get_params", old_params)
    path = fa.save(tmp_path / "old.npz")
    monkeypatch.undo()
    loaded = lvm.load(path)
    assert loaded.n_components == 2
    np.testing.assert_array_equal(loaded.transform(X), fa.transform(X))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_one_set_of_latent_names_in_every_view_and_the_user_can_rename_them(cls):
    import pandas as pd

    X = pd.DataFrame(_factor_data(200), columns=[f"item{j}" for j in range(5)])
    model, _ = _fitted(cls)
    default = list(model.get_feature_names_out())
    assert len(default) == len(set(default)) == model.transform(X.to_numpy()).shape[1]
    renamed = type(model)(**{**model.get_params(), "latent_names": [f"f{j}" for j in range(len(default))]})
    renamed.set_output(transform="pandas").fit(X)
    assert list(renamed.get_feature_names_out()) == [f"f{j}" for j in range(len(default))]
    assert list(renamed.transform(X).columns) == [f"f{j}" for j in range(len(default))]
    text = str(renamed.summary())
    if cls is not lvm.Autoencoder:  # its summary describes layers, not latent variables
        assert all(f"f{j}" in text for j in range(len(default)))
    with pytest.raises(ValueError, match="latent_names"):
        type(model)(**{**model.get_params(), "latent_names": ["only one", "two", "three", "four"]}).fit(X)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_sample_refuses_fewer_than_one_row(cls):
    model, _ = _fitted(cls)
    if not hasattr(model, "sample"):
        pytest.skip(f"{cls.__name__} is not generative")
    for bad in (-1, 0):
        with pytest.raises(ValueError, match="n_samples must be at least 1"):
            model.sample(bad)
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        model.sample(2.5)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_inverse_transform_refuses_bad_latent_values_with_a_clear_message(cls):
    model, X = _fitted(cls)
    if cls is lvm.GaussianMixture:
        pytest.skip("a mixture's inverse_transform takes responsibilities")
    k = model.transform(X[:3]).shape[1]
    cases = [
        (np.full((3, k), np.nan), "contains NaN or infinity"),
        (np.zeros((3, k + 1)), f"{k} latent dimensions"),
        (np.zeros((3, k, 1)), "3 dimensions"),
    ]
    for Z, message in cases:
        with pytest.raises(ValueError, match=message):
            model.inverse_transform(Z)
