"""Bad input gets a clear error naming the problem, and the caller's data is never modified."""

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm._validation import check_params


def _rng():
    return np.random.default_rng(0)


def _normal(n=40, p=5):
    return _rng().normal(size=(n, p))


def _with(X, rows, cols, value):
    X = X.astype(np.result_type(X, value), copy=True)
    X[rows, cols] = value
    return X


def _constant_columns():
    X = _normal()
    X[:, 2] = 7.0
    return X


def _duplicated_columns():
    X = _normal()
    X[:, 3] = X[:, 1]
    return X


def _mixed_frame():
    frame = pd.DataFrame(_normal(), columns=list("abcde"))
    frame["group"] = ["x", "y"] * 20
    return frame


# (case id, estimator, data, expected error or None for "fits, finite results", message pattern)
CASES = [
    ("nan", lvm.PCA(2), _with(_normal(), 3, 1, np.nan), ValueError, r"contains NaN .*row 3, column 1.*missing='em'"),
    ("nan-ppca", lvm.PPCA(2), _with(_normal(), 0, 0, np.nan), ValueError, "contains NaN"),
    ("inf", lvm.PCA(2), _with(_normal(), 5, 4, np.inf), ValueError, r"contains infinity .*row 5, column 4"),
    ("inf-with-missing-em", lvm.PPCA(2, missing="em"), _with(_normal(), 5, 4, -np.inf), ValueError, "infinity"),
    ("empty", lvm.PCA(2), np.empty((0, 5)), ValueError, "0 sample"),
    ("one-row", lvm.PPCA(1), _normal(1, 5), ValueError, "1 sample"),
    ("k-above-min", lvm.PCA(6), _normal(), ValueError,
     r"n_components=6 is too large.*min\(n_samples, n_features\) = 5"),
    ("k-at-rank-ppca", lvm.PPCA(3), _normal(40, 2) @ _rng().normal(size=(2, 5)), ValueError, r"rank 2"),
    ("k-above-rank-whiten", lvm.PCA(4, whiten=True), _normal(40, 2) @ _rng().normal(size=(2, 5)), ValueError, "rank 2"),
    ("non-numeric-column", lvm.PPCA(2), _mixed_frame(), TypeError, r"non-numeric column\(s\) \['group'\]"),
    ("text-array", lvm.PCA(2), np.array([["a", "b"], ["c", "d"], ["e", "f"]]), TypeError, "text"),
    ("3d", lvm.PCA(2), _rng().normal(size=(10, 4, 4)), ValueError, r"3 dimensions .*reshape"),
    ("complex", lvm.PPCA(2), _normal() + 1j, ValueError, "complex"),
    ("ragged", lvm.PCA(1), [[1.0, 2.0], [3.0]], ValueError, "ragged"),
    ("all-constant", lvm.PPCA(1), np.ones((20, 4)), ValueError, "every column of X is constant"),
    ("constant-column-pca", lvm.PCA(2), _constant_columns(), None, None),
    ("constant-column-ppca", lvm.PPCA(2), _constant_columns(), None, None),
    ("fa-constant", lvm.FactorAnalysis(1), _constant_columns(), None, None),
    ("duplicated-column-pca", lvm.PCA(3), _duplicated_columns(), None, None),
    ("duplicated-column-ppca", lvm.PPCA(3), _duplicated_columns(), None, None),
    ("huge", lvm.PCA(2), _normal() * 1e200, ValueError, r"as large as .* Rescale"),
    ("huge-ppca", lvm.PPCA(2), _normal() * 1e200, ValueError, "Rescale"),
    ("huge-svd", lvm.PCA(2, solver="svd"), _normal() * 1e200, ValueError, "Rescale"),
    ("tiny", lvm.PPCA(2), _normal() * 1e-200, ValueError, "underflow"),
    ("tiny-svd", lvm.PCA(2, solver="svd"), _normal() * 1e-200, ValueError, "underflow"),
    ("large-but-fine", lvm.PPCA(2), _normal() * 1e100 + 1e101, None, None),
    ("fa-nan", lvm.FactorAnalysis(2), _with(_normal(), 1, 1, np.nan), ValueError, "contains NaN"),
    ("fa-duplicated", lvm.FactorAnalysis(1), _duplicated_columns(), None, None),
    ("fa-k-too-large", lvm.FactorAnalysis(5), _normal(), ValueError, "n_components=5 must be below n_features=5"),
    ("fa-one-feature", lvm.FactorAnalysis(1), _normal(20, 1), ValueError, "1 feature"),
    ("fa-huge", lvm.FactorAnalysis(1), _normal() * 1e200, ValueError, "Rescale"),
    ("fa-non-numeric", lvm.FactorAnalysis(1), _mixed_frame(), TypeError, "non-numeric"),
    ("gmm-nan", lvm.GaussianMixture(2), _with(_normal(), 0, 3, np.nan), ValueError, "missing='em'"),
    ("gmm-too-many-components", lvm.GaussianMixture(50), _normal(), ValueError, "needs at least 50 samples"),
    ("gmm-bad-means-init", lvm.GaussianMixture(2, means_init=np.zeros((3, 5))), _normal(), ValueError,
     r"means_init must have shape \(2, 5\)"),
    ("gmm-bad-weights-init", lvm.GaussianMixture(2, weights_init=[0.9, 0.3]), _normal(), ValueError, "summing to 1"),
    ("gmm-huge", lvm.GaussianMixture(2), _normal() * 1e200, ValueError, "Rescale"),
    ("gmm-constant", lvm.GaussianMixture(2, covariance_type="diag"), _constant_columns(), None, None),
    ("gmm-duplicated", lvm.GaussianMixture(2), _duplicated_columns(), None, None),
    ("ae-nan", lvm.Autoencoder(2, epochs=2), _with(_normal(), 2, 2, np.nan), ValueError, "contains NaN"),
    ("ae-3d", lvm.Autoencoder(2, epochs=2), _rng().normal(size=(10, 4, 4)), ValueError, "3 dimensions"),
    ("ae-huge", lvm.Autoencoder(2, epochs=2), _normal() * 1e200, ValueError, "Rescale"),
    ("ae-all-constant", lvm.Autoencoder(1, epochs=2), np.ones((20, 4)), ValueError, "every column of X is constant"),
    ("ae-non-numeric", lvm.Autoencoder(2, epochs=2), _mixed_frame(), TypeError, "non-numeric"),
    ("ae-constant-column", lvm.Autoencoder(2, epochs=2, standardize="feature"), _constant_columns(), None, None),
    ("bad-parameter", lvm.PCA(solver="qr"), _normal(), ValueError,
     r"parameter solver='qr' is invalid; expected one of"),
    ("bad-k-type", lvm.PPCA(2.5), _normal(), ValueError, r"n_components=2.5 is invalid"),
]


@pytest.mark.parametrize("case, estimator, X, error, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error_and_data_is_untouched(case, estimator, X, error, match):
    before = X.copy() if hasattr(X, "copy") else [list(row) for row in X]
    if error is None:
        estimator.fit(X)
        for name, value in vars(estimator).items():
            if name.endswith("_") and isinstance(value, (float, np.ndarray)) and np.asarray(value).dtype.kind == "f":
                assert np.all(np.isfinite(value)), name
        assert np.all(np.isfinite(estimator.transform(X)))
        if hasattr(estimator, "score_samples"):
            assert np.all(np.isfinite(estimator.score_samples(X)))
        else:
            assert np.isfinite(estimator.score(X))
    else:
        with pytest.raises(error, match=match):
            estimator.fit(X)
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(X, before)
    elif isinstance(before, np.ndarray):
        np.testing.assert_array_equal(X, before)
    else:
        assert X == before


@pytest.mark.parametrize("method", ["transform", "score_samples", "inverse_transform", "score"])
def test_fitted_methods_do_not_modify_input(method):
    X = _normal()
    models = (lvm.PCA(2, whiten=True).fit(X), lvm.PPCA(2).fit(X), lvm.Autoencoder(2, epochs=2).fit(X))
    for model in models:
        if not hasattr(model, method):
            continue
        data = model.transform(X) if method == "inverse_transform" else X.copy()
        before = data.copy()
        getattr(model, method)(data)
        np.testing.assert_array_equal(data, before)


def test_missing_em_leaves_nan_in_place():
    X = _with(_normal(), 2, 2, np.nan)
    before = X.copy()
    lvm.PPCA(2, missing="em", tol=1e-3).fit(X).transform(X)
    np.testing.assert_array_equal(X, before)


def test_wrong_feature_count_is_named():
    model = lvm.PPCA(2).fit(_normal())
    with pytest.raises(ValueError, match="X has 3 features, but PPCA is expecting 5"):
        model.transform(_normal(10, 3))


def test_check_params_lists_accepted_values():
    with pytest.raises(ValueError, match=r"PPCA: parameter missing='drop' is invalid; expected one of 'error', 'em'"):
        check_params(lvm.PPCA(missing="drop"))
