"""Save/load round trips every fitted attribute exactly; damaged files are refused."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm.exceptions import ModelFileError, NotFittedError


def _data(seed, n=200, p=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)) @ rng.normal(size=(2, p)) + 0.5 * rng.normal(size=(n, p))


def _missing(seed):
    X = _data(seed)
    X[np.random.default_rng(seed + 1).random(X.shape) < 0.1] = np.nan
    return X


FITS = {
    "pca": lambda s: lvm.PCA(3).fit(_data(s)),
    "pca_randomized_whiten": lambda s: lvm.PCA(2, solver="randomized", whiten=True, random_state=4).fit(_data(s)),
    "pca_partial": lambda s: lvm.PCA(2).partial_fit(_data(s)[:50]).partial_fit(_data(s)[50:]),
    "ppca": lambda s: lvm.PPCA(2).fit(_data(s)),
    "ppca_em": lambda s: lvm.PPCA(2, method="em", tol=1e-4, random_state=1).fit(_data(s)),
    "ppca_mle": lambda s: lvm.PPCA("mle").fit(_data(s)),
    "ppca_missing": lambda s: lvm.PPCA(2, missing="em", tol=1e-4).fit(_missing(s)),
    "ppca_dataframe": lambda s: lvm.PPCA(2).fit(pd.DataFrame(_data(s), columns=list("abcdef"))),
    "fa": lambda s: lvm.FactorAnalysis(2).fit(_data(s)),
    "fa_oblimin_dataframe": lambda s: lvm.FactorAnalysis(2, rotation="oblimin").fit(
        pd.DataFrame(_data(s), columns=list("abcdef"))),
    "fa_principal_start_array": lambda s: lvm.FactorAnalysis(2, method="principal",
                                                             start=np.linspace(0.3, 0.6, 6)).fit(_data(s)),
    "fa_em_missing": lambda s: lvm.FactorAnalysis(2, missing="em", rotation="varimax").fit(_missing(s)),
    "gmm_full": lambda s: lvm.GaussianMixture(2, random_state=s).fit(_data(s)),
    "gmm_tied_user_init": lambda s: lvm.GaussianMixture(
        2, covariance_type="tied", means_init=np.zeros((2, 6)) + [[0], [1]], random_state=s).fit(_data(s)),
    "gmm_spherical_missing": lambda s: lvm.GaussianMixture(2, covariance_type="spherical", missing="em",
                                                           random_state=s).fit(_missing(s)),
    "autoencoder": lambda s: lvm.Autoencoder(2, hidden=(4,), epochs=5, random_state=s).fit(_data(s)),
    "autoencoder_float32_early_stopping": lambda s: lvm.Autoencoder(
        2, activation="relu", dtype=np.float32, early_stopping=True, n_iter_no_change=2, epochs=30,
        standardize="feature", random_state=s).fit(pd.DataFrame(_data(s), columns=list("abcdef"))),
    "fa_partial": lambda s: lvm.FactorAnalysis(1, method="minres")
    .partial_fit(_data(s)[:90]).partial_fit(_data(s)[90:]),
}


def _fitted_attributes(model):
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


def _assert_identical(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_identical(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_identical(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("name", sorted(FITS))
def test_round_trip_is_exact(name, tmp_path, seed):
    model = FITS[name](seed)
    path = model.save(tmp_path / "model")
    assert path.suffix == ".npz"
    loaded = lvm.load(path)
    assert type(loaded) is type(model)
    before_params, after_params = model.get_params(), loaded.get_params()
    assert before_params.keys() == after_params.keys()
    for key, value in before_params.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after_params[key], value)
        else:
            assert after_params[key] == value
    before, after = _fitted_attributes(model), _fitted_attributes(loaded)
    assert before.keys() == after.keys()
    for key in before:
        _assert_identical(before[key], after[key])
    X = _data(seed)
    if hasattr(model, "feature_names_in_"):
        X = pd.DataFrame(X, columns=model.feature_names_in_)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    assert loaded.score(X) == model.score(X)
    if hasattr(model, "score_samples"):
        np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))


def test_loaded_model_continues_partial_fit(tmp_path, seed):
    X = _data(seed)
    model = lvm.PCA(2).partial_fit(X[:100])
    resumed = lvm.load(model.save(tmp_path / "m.npz")).partial_fit(X[100:])
    np.testing.assert_allclose(resumed.components_, lvm.PCA(2).fit(X).components_, rtol=1e-10, atol=1e-12)


def test_callback_is_not_saved_but_named(tmp_path, seed):
    model = lvm.PPCA(2, method="em", tol=1e-3, callback=print).fit(_data(seed))
    path = model.save(tmp_path / "m.npz")
    with np.load(path) as archive:
        header = json.loads(archive["__header__"].tobytes())
    assert header["params"]["callback"]["kind"] == "unsaved"
    assert "print" in header["params"]["callback"]["repr"]
    assert lvm.load(path).callback is None


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        lvm.PCA(2).save(tmp_path / "m.npz")


@pytest.fixture
def saved(tmp_path, seed):
    return lvm.PPCA(2).fit(_data(seed)).save(tmp_path / "model.npz")


def _rewrite(path, change):
    with np.load(path) as archive:
        members = {k: archive[k] for k in archive.files}
    change(members)
    with open(path, "wb") as handle:
        np.savez(handle, **members)


def test_truncated_file_is_refused(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        lvm.load(saved)


def test_altered_array_is_refused(saved):
    def change(members):
        key = next(k for k in members if k != "__header__" and members[k].dtype == np.float64 and members[k].size > 1)
        members[key] = members[key] + 1e-12

    _rewrite(saved, change)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        lvm.load(saved)


def _edit_header(path, edit):
    def change(members):
        header = json.loads(members["__header__"].tobytes())
        edit(header)
        members["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

    _rewrite(path, change)


def test_altered_header_is_refused(saved):
    _edit_header(saved, lambda h: h["attributes"]["noise_variance_"].update(value=1.0))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        lvm.load(saved)


def test_newer_format_is_refused(saved):
    _edit_header(saved, lambda h: h.update(format_version=99))
    with pytest.raises(ModelFileError, match="Upgrade lvm"):
        lvm.load(saved)


def test_foreign_class_is_refused(saved):
    def edit(header):
        header["class"] = "load"
        from lvm.io import _checksum

        body = {k: v for k, v in header.items() if k != "checksum"}
        with np.load(saved) as archive:
            arrays = {k: archive[k] for k in archive.files if k != "__header__"}
        header["checksum"] = _checksum(body, arrays)

    _edit_header(saved, edit)
    with pytest.raises(ModelFileError, match="not an lvm model class"):
        lvm.load(saved)


def test_garbage_and_other_archives_are_refused(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelFileError, match="not a readable lvm model file"):
        lvm.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(ModelFileError, match="no header"):
        lvm.load(other)
    with pytest.raises(ModelFileError, match="no model file"):
        lvm.load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(other)
