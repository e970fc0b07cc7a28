"""lvm.compare and lvm.compression_table: the teaching results on digits, and the table's contract."""

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import lvm
from lvm.exceptions import DegenerateComponentWarning, HeywoodCaseWarning


@pytest.fixture(scope="module")
def digits():
    X, y = lvm.datasets.load_digits(return_X_y=True)
    # Factor analysis needs every column to vary; three border pixels never do.
    X = X[:, X.std(axis=0) > 0]
    return train_test_split(X, y, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def table(digits):
    X_train, X_test, y_train, y_test = digits
    models = {"PCA": lvm.PCA(10), "PPCA": lvm.PPCA(10), "FA": lvm.FactorAnalysis(10),
              "AE": lvm.Autoencoder(10, random_state=0),
              "GMM": lvm.GaussianMixture(10, reg_covar=0.1, random_state=0)}
    with _quiet():
        return lvm.compare(models, X_train, y=y_train, X_test=X_test, y_test=y_test), models


@contextlib.contextmanager
def _quiet():
    # Pixels nearly determined by their neighbours give Heywood cases, and
    # small mixture components sit on the covariance floor: expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeywoodCaseWarning)
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        yield


def test_table_has_one_row_per_model_and_the_columns(table, digits):
    frame, models = table
    X_train, X_test, _, _ = digits
    assert list(frame.index) == ["PCA", "PPCA", "FA", "AE", "GMM"] and frame.index.name == "model"
    assert list(frame.columns) == ["k", "compression", "fit_seconds", "mse_train", "mse_test", "loglik_test", "bic",
                                   "knn_accuracy", "trustworthiness", "n_iter"]
    assert (frame["k"] == 10).all()
    np.testing.assert_allclose(frame["compression"], 61 / 10)
    # The models were fitted in place, and the numbers are theirs.
    pca = models["PCA"]
    assert frame.loc["PCA", "mse_test"] == pytest.approx(np.mean((pca.reconstruct(X_test) - X_test) ** 2), rel=1e-12)
    assert frame.loc["PPCA", "loglik_test"] == pytest.approx(models["PPCA"].score(X_test), rel=1e-12)
    assert frame.loc["PPCA", "bic"] == pytest.approx(models["PPCA"].bic(X_train), rel=1e-12)
    assert frame.loc["AE", "n_iter"] == 200
    # No likelihood for the autoencoder: NaN, not a made-up number.
    assert np.isnan(frame.loc["AE", "loglik_test"]) and np.isnan(frame.loc["AE", "bic"])
    assert ((frame["trustworthiness"] > 0.5) & (frame["trustworthiness"] <= 1)).all()


def test_teaching_results_on_digits(table, digits):
    frame, _ = table
    # kNN in a 10-D latent space recognises digits.
    assert (frame.loc[["PCA", "PPCA", "FA", "AE"], "knn_accuracy"] > 0.9).all(), frame["knn_accuracy"]
    # PCA is the best rank-10 linear reconstruction of the training data.
    assert frame.loc["PCA", "mse_train"] <= frame.loc[["PPCA", "FA"], "mse_train"].min()

    X_train, X_test, y_train, y_test = digits
    two = lvm.compare({"PCA": lvm.PCA(2), "AE": lvm.Autoencoder(2, random_state=0)}, X_train, X_test=X_test)
    # The nonlinear code beats the linear one at k = 2 on held-out digits.
    assert two.loc["AE", "mse_test"] < 0.85 * two.loc["PCA", "mse_test"], two


def test_linear_models_test_error_decreases_with_k(digits):
    X_train, X_test, _, _ = digits
    with _quiet():
        curve = lvm.compression_table({"PCA": lvm.PCA(), "PPCA": lvm.PPCA(), "FA": lvm.FactorAnalysis()},
                                      X_train, ks=[1, 2, 5, 10, 20, 40], X_test=X_test)
    assert set(curve["model"]) == {"PCA", "PPCA", "FA"}
    for name, rows in curve.groupby("model"):
        assert list(rows["k"]) == [1, 2, 5, 10, 20, 40]
        assert rows["mse_test"].is_monotonic_decreasing, (name, rows)
        assert rows["mse_train"].is_monotonic_decreasing, (name, rows)


def test_knn_by_cross_validation_without_test_set(digits):
    X_train, _, y_train, _ = digits
    frame = lvm.compare([lvm.PCA(5)], X_train, y=y_train)
    assert list(frame.index) == ["PCA"]
    assert 0.8 < frame.loc["PCA", "knn_accuracy"] <= 1.0
    assert np.isnan(frame.loc["PCA", "mse_test"]) and np.isnan(frame.loc["PCA", "loglik_test"])


def test_compare_checks_its_arguments_and_keeps_input(digits):
    X_train, X_test, y_train, y_test = digits
    before = X_train.copy()
    with pytest.raises(ValueError, match="y_test was given without X_test"):
        lvm.compare({"PCA": lvm.PCA(2)}, X_train, y=y_train, y_test=y_test)
    with pytest.raises(ValueError, match="at least one model"):
        lvm.compare({}, X_train)
    lvm.compare({"PCA": lvm.PCA(2)}, pd.DataFrame(X_train), X_test=pd.DataFrame(X_test))
    np.testing.assert_array_equal(X_train, before)


def test_compression_table_leaves_out_impossible_k_and_says_so():
    X = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.warns(UserWarning, match=r"k in \[4, 9\]"):
        curve = lvm.compression_table({"PPCA": lvm.PPCA()}, X, ks=[1, 2, 4, 9])
    assert list(curve["k"]) == [1, 2]
    assert curve["mse_test"].isna().all()


def test_trustworthiness_uses_the_same_rows_for_every_model(digits):
    X_train = digits[0][:900]
    frame = lvm.compare([lvm.PCA(2), lvm.PCA(2), lvm.PCA(2)], X_train, trust_samples=300)
    assert frame["trustworthiness"].nunique() == 1
    single = lvm.compare(lvm.PCA(2), X_train)
    assert list(single.index) == ["PCA"]


def _planes():
    """Three clusters of about 150 rows, each near its own plane in R^8."""
    X, y, _ = lvm.datasets.make_mfa_data(450, 8, 3, 2, noise_variance=0.09, random_state=0)
    return X, y


def test_mixtures_of_factor_analyzers_and_ppca_fill_their_rows():
    X, y = _planes()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    models = [lvm.MixtureOfFactorAnalyzers(3, 2, random_state=0), lvm.MixtureOfPPCA(3, 2, random_state=0),
              lvm.GaussianMixture(3, random_state=0)]
    frame = lvm.compare(models, X_train, y=y_train, X_test=X_test, y_test=y_test, verbose=False)
    assert list(frame.index) == ["MixtureOfFactorAnalyzers", "MixtureOfPPCA", "GaussianMixture"]
    assert frame.notna().all().all(), frame
    # The latent space of a low-rank mixture is its factors; of a Gaussian mixture, its responsibilities.
    assert list(frame["k"]) == [2, 2, 3]
    np.testing.assert_allclose(frame["compression"], [4.0, 4.0, 8 / 3])
    for name, model in zip(frame.index, models, strict=True):
        row = frame.loc[name]
        assert row["loglik_test"] == pytest.approx(model.score(X_test), rel=1e-12)
        assert row["bic"] == pytest.approx(model.bic(X_train), rel=1e-12)
        assert row["mse_test"] == pytest.approx(np.mean((model.reconstruct(X_test) - X_test) ** 2), rel=1e-12)
        assert row["n_iter"] == model.n_iter_
    # Each cluster is a plane: one factor per cluster leaves its second axis (sd 1.5) to the
    # uniquenesses (sd 0.3 along the other axes), at a cost of the order of log(1.5 / 0.3) = 1.6 per row.
    one = lvm.MixtureOfFactorAnalyzers(3, 1, random_state=0).fit(X_train)
    assert one.score(X_test) < frame.loc["MixtureOfFactorAnalyzers", "loglik_test"] - 1.0
    # The responsibilities of the Gaussian mixture separate the clusters.
    assert frame.loc["GaussianMixture", "knn_accuracy"] == 1.0


def test_compression_table_varies_the_factors_of_a_low_rank_mixture():
    X, _ = _planes()
    curve = lvm.compression_table({"MFA": lvm.MixtureOfFactorAnalyzers(3, random_state=0)}, X, ks=[1, 2, 3],
                                  verbose=False)
    assert list(curve["k"]) == [1, 2, 3]
    # k is the number of factors; the three clusters stay three components.
    two = lvm.MixtureOfFactorAnalyzers(3, 2, random_state=0).fit(X)
    assert curve.loc[curve["k"] == 2, "mse_train"].item() == pytest.approx(np.mean((two.reconstruct(X) - X) ** 2),
                                                                          rel=1e-12)
    assert curve["mse_train"].is_monotonic_decreasing
