"""Factor analysis as users meet it: missing-data options, identification, the likelihood of a
published matrix, the shared latent-dimension name, constant columns, convergence reports,
latent names and the printed report."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import lvm
from lvm.exceptions import ConvergenceWarning

GOLDEN = json.loads((Path(__file__).parent / "reference" / "factor_reference.json").read_text())


def factor_data(rng, n, p, k):
    """Rows from a k-factor model with simple structure, on unequal scales and means."""
    W = np.zeros((p, k))
    W[np.arange(p), np.arange(p) % k] = rng.uniform(0.6, 0.9, size=p)
    psi = rng.uniform(0.2, 0.6, size=p)
    standardised = rng.standard_normal((n, k)) @ W.T + rng.standard_normal((n, p)) * np.sqrt(psi)
    return standardised * rng.uniform(0.5, 5.0, size=p) + 10 * rng.normal(size=p)


def with_holes(rng, X, fraction=0.1):
    return np.where(rng.random(X.shape) < fraction, np.nan, X)


def assert_same_loadings(A, B, atol):
    """Equal loadings up to the sign of each factor."""
    signs = np.sign(np.sum(A * B, axis=0))
    np.testing.assert_allclose(A * signs, B, atol=atol)


# ---------------------------------------------------------------- missing data and the method
@pytest.mark.parametrize("method", ["minres", "principal", "ml"])
def test_pairwise_option_fits_the_method_to_pairwise_complete_correlations(method):
    # The reference matrix is pandas' pairwise-complete correlation (psych's use="pairwise").
    rng = np.random.default_rng(0)
    X = with_holes(rng, factor_data(rng, 400, 7, 2))
    fa = lvm.FactorAnalysis(2, method=method, missing="pairwise", tol=1e-12).fit(X)
    R = pd.DataFrame(X).corr(min_periods=2).to_numpy()
    reference = lvm.FactorAnalysis(2, method=method, tol=1e-12).fit_covariance(R, len(X))
    assert_same_loadings(fa.loadings_array(), reference.loadings_array(), atol=1e-4)
    assert fa.correlation_source_ == "pairwise"
    np.testing.assert_allclose(fa.fit_statistics_["chi2"], reference.fit_statistics_["chi2"], rtol=1e-6)


@pytest.mark.parametrize("method", ["minres", "principal"])
def test_em_option_fits_least_squares_methods_to_the_em_covariance(method):
    # The EM (full-information ML) estimate of the unrestricted covariance comes from
    # lvm's one-component Gaussian mixture with missing='em' and no covariance floor,
    # a separate implementation of the same estimator.
    rng = np.random.default_rng(1)
    X = with_holes(rng, factor_data(rng, 300, 6, 2))
    fa = lvm.FactorAnalysis(2, method=method, missing="em", tol=1e-12).fit(X)
    gmm = lvm.GaussianMixture(1, covariance_type="full", missing="em", reg_covar=0.0, tol=1e-13,
                              max_iter=1000).fit(X)
    reference = lvm.FactorAnalysis(2, method=method, tol=1e-12).fit_covariance(gmm.covariances_[0], len(X))
    assert_same_loadings(fa.loadings_array(), reference.loadings_array(), atol=1e-4)
    np.testing.assert_allclose(fa.mean_, gmm.means_[0], atol=1e-6)
    assert fa.correlation_source_ == "em"


def test_pairwise_option_on_bfi_analyses_psychs_pairwise_correlations():
    """R, in tests/reference/factor_reference.R: ``cor(bfi25, use = "pairwise")``, the matrix
    ``psych::fa`` analyses by default for raw data with missing answers (2800 rows, 508 NA)."""
    R = np.array(GOLDEN["adequacy"]["bfi"]["pairwise_correlation"]["data"], dtype=float)
    items = lvm.datasets.load_bfi(items_only=True)
    fa = lvm.FactorAnalysis(5, method="minres", missing="pairwise", tol=1e-12).fit(items)
    # Both are sums of the same products; only their order differs.
    np.testing.assert_allclose(fa.correlation_, R, atol=1e-12)
    reference = lvm.FactorAnalysis(5, method="minres", tol=1e-12).fit_covariance(R, len(items))
    assert_same_loadings(fa.loadings_array(), reference.loadings_array(), atol=1e-4)


def test_em_option_on_bfi_analyses_lavaans_em_covariance():
    """R, in tests/reference/factor_reference.R: ``lavaan::efa(bfi25, nfactors = 5, missing = "ml")``;
    ``h1_mean`` and ``h1_cov`` are the saturated model's mean and covariance that lavaan
    estimates by EM from the observed entries (87 missingness patterns)."""
    golden = GOLDEN["lavaan_bfi"]["none"]
    covariance = np.array(golden["h1_cov"]["data"], dtype=float)
    mean = np.ravel(np.array(golden["h1_mean"].get("values", golden["h1_mean"].get("data")), dtype=float))
    sd = np.sqrt(np.diag(covariance))
    items = lvm.datasets.load_bfi(items_only=True)
    fa = lvm.FactorAnalysis(5, method="minres", missing="em", tol=1e-12).fit(items)
    # lavaan's EM stops at its own tolerance; 5e-8 apart was measured.
    np.testing.assert_allclose(fa.mean_, mean, atol=1e-6)
    np.testing.assert_allclose(fa.correlation_, covariance / np.outer(sd, sd), atol=1e-6)
    reference = lvm.FactorAnalysis(5, method="minres", tol=1e-12).fit_covariance(covariance, len(items))
    assert_same_loadings(fa.loadings_array(), reference.loadings_array(), atol=1e-4)


@pytest.mark.parametrize("missing", ["em", "pairwise"])
def test_least_squares_methods_with_missing_data_are_not_the_ml_fit(missing):
    rng = np.random.default_rng(2)
    X = with_holes(rng, factor_data(rng, 300, 6, 2), fraction=0.15)
    ml = lvm.FactorAnalysis(2, missing="em").fit(X)
    minres = lvm.FactorAnalysis(2, method="minres", missing=missing).fit(X)
    assert np.abs(np.abs(minres.loadings_array()) - np.abs(ml.loadings_array())).max() > 1e-3
    assert list(minres.get_feature_names_out()) == ["MR1", "MR2"]
    # The likelihood reported is that of the observed entries under the fitted model.
    assert minres.log_likelihood_ == pytest.approx(minres.score_samples(X).sum(), rel=1e-12)
    assert minres.log_likelihood_ < ml.log_likelihood_
    text = str(minres.summary())
    assert {"em": "EM estimate", "pairwise": "pairwise-complete"}[missing] in text


# ---------------------------------------------------------------- identification
def _dof(p, k):
    """factanal's degrees of freedom, 0.5 * ((p - k)^2 - p - k)."""
    return 0.5 * ((p - k) ** 2 - p - k)


def test_too_many_factors_are_refused_naming_the_largest_allowed():
    X = factor_data(np.random.default_rng(3), 300, 9, 3)
    largest = max(k for k in range(1, 9) if _dof(9, k) >= 0)
    assert largest == 5
    with pytest.raises(ValueError, match=r"n_components=6 factors are too many for 9 variables.*"
                                         r"-3 degrees of freedom.*largest n_components for 9 variables is 5"):
        lvm.FactorAnalysis(6).fit(X)
    with pytest.raises(ValueError, match="too many"):
        lvm.FactorAnalysis(6, method="minres").fit(X)


def test_zero_degrees_of_freedom_warns_that_fit_statistics_are_undefined():
    X = factor_data(np.random.default_rng(4), 300, 6, 3)
    assert _dof(6, 3) == 0
    with pytest.warns(UserWarning, match="0 degrees of freedom"):
        fa = lvm.FactorAnalysis(3).fit(X)
    assert fa.fit_statistics_["dof"] == 0


# ---------------------------------------------------------------- likelihood of a published matrix
def test_fit_covariance_gives_the_log_likelihood_of_data_with_that_covariance():
    S, n_obs = lvm.datasets.load_matrix("ability_cov")
    S = np.asarray(S, dtype=np.float64)
    # Rows whose sample covariance (divisor n - 1) is exactly S.
    Z = np.random.default_rng(5).standard_normal((n_obs, len(S)))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False))).T
    X = Z @ np.linalg.cholesky(S).T + 3.0
    np.testing.assert_allclose(np.cov(X, rowvar=False), S, rtol=1e-12)
    from_matrix = lvm.FactorAnalysis(2).fit_covariance(S, n_obs)
    from_data = lvm.FactorAnalysis(2).fit(X)
    assert np.isfinite(from_matrix.log_likelihood_)
    assert from_matrix.log_likelihood_ == pytest.approx(from_data.log_likelihood_, rel=1e-10)
    np.testing.assert_allclose(from_matrix.components_, from_data.components_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(from_matrix.noise_variance_, from_data.noise_variance_, rtol=1e-6)


# ---------------------------------------------------------------- one name for the latent dimension
def test_n_components_is_the_latent_dimension_of_every_model():
    assert lvm.FactorAnalysis(4).n_components == 4
    assert "n_factors" not in lvm.FactorAnalysis().get_params()


def test_grid_search_over_models_and_n_components_on_digits():
    X, y = lvm.datasets.load_digits(return_X_y=True)
    X, y = np.asarray(X, dtype=np.float64)[:450], np.asarray(y)[:450]
    X = X[:, X.std(axis=0) > 0]  # a pixel constant within one fold is left out of that fold's FA
    # Scaled scores keep the classifier's own iterations short.
    pipe = Pipeline([("lat", lvm.PCA()), ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    grid = {"lat": [lvm.PCA(), lvm.PPCA(), lvm.FactorAnalysis()], "lat__n_components": [2, 5]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lvm.exceptions.HeywoodCaseWarning)
        search = GridSearchCV(pipe, grid, cv=3, error_score="raise").fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 6 and np.all(np.isfinite(scores))
    dims = [params["lat__n_components"] for params in search.cv_results_["params"]]
    assert sorted(dims) == [2, 2, 2, 5, 5, 5]


# ---------------------------------------------------------------- constant columns
def test_constant_columns_are_left_out_and_the_rest_is_the_fit_without_them():
    X, _ = lvm.datasets.load_digits(return_X_y=True)
    X = np.asarray(X, dtype=np.float64)
    constant = np.flatnonzero(X.std(axis=0) == 0)
    assert constant.size == 3
    with pytest.warns(UserWarning, match=r"column\(s\) \['x0', 'x32', 'x39'\] are constant"):
        fa = lvm.FactorAnalysis(10).fit(X)
    varying = np.setdiff1d(np.arange(X.shape[1]), constant)
    alone = lvm.FactorAnalysis(10).fit(X[:, varying])
    assert fa.log_likelihood_ == pytest.approx(alone.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(fa.loadings_array()[varying], alone.loadings_array(), atol=1e-12)
    assert np.all(fa.loadings_array()[constant] == 0) and np.all(fa.uniquenesses_[constant] == 0)
    assert fa.fit_statistics_ == alone.fit_statistics_
    np.testing.assert_allclose(fa.score_samples(X), alone.score_samples(X[:, varying]), rtol=1e-12)
    np.testing.assert_allclose(fa.transform(X), alone.transform(X[:, varying]), rtol=1e-10, atol=1e-12)
    assert fa.n_parameters_ == alone.n_parameters_
    assert fa.bic(X) == pytest.approx(alone.bic(X[:, varying]), rel=1e-12)
    np.testing.assert_allclose(fa.posterior(X[:50]).mean, alone.posterior(X[:50, varying]).mean, atol=1e-10)
    np.testing.assert_allclose(fa.reconstruct(X[:50])[:, constant], X[:50, constant])


# ---------------------------------------------------------------- convergence reports
@pytest.mark.parametrize("kwargs", [{"method": "ml"}, {"method": "ml", "solver": "em"}, {"method": "minres"},
                                    {"method": "principal"}])
def test_every_solver_warns_when_it_stops_at_max_iter(kwargs):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    with pytest.warns(ConvergenceWarning, match="max_iter|iterations"):
        fa = lvm.FactorAnalysis(3, max_iter=2, **kwargs).fit(X)
    assert not fa.converged_ and fa.n_iter_ == 2


@pytest.mark.parametrize("kwargs", [{"method": "ml"}, {"method": "ml", "solver": "em"}, {"method": "minres"},
                                    {"method": "principal"}])
def test_history_holds_the_objective_after_every_iteration(kwargs):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    fa = lvm.FactorAnalysis(3, **kwargs).fit(X)
    history = fa.history_
    assert history.shape == (fa.n_iter_ + 1,) and fa.n_iter_ > 1
    if kwargs["method"] == "ml":
        # Mean log-likelihood per sample, increasing, ending at the fitted one.
        assert np.diff(history).min() >= -1e-12
        assert history[-1] == pytest.approx(fa.log_likelihood_ / fa.n_samples_, rel=1e-10)
    else:
        # Least-squares discrepancy, falling, ending at half the squared off-diagonal residuals.
        L = fa.loadings_array()
        residual = fa.correlation_ - L @ np.asarray(fa.factor_correlation_) @ L.T
        np.fill_diagonal(residual, 0.0)
        assert np.diff(history).max() <= 1e-12
        assert history[-1] == pytest.approx(0.5 * np.sum(residual**2), rel=1e-6)


# ---------------------------------------------------------------- latent names
@pytest.mark.parametrize("names, expected", [(None, ["PA1", "PA2", "PA3"]),
                                             (["visual", "verbal", "speed"], ["visual", "verbal", "speed"])])
def test_latent_names_are_the_same_in_every_view(names, expected):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    fa = lvm.FactorAnalysis(3, method="principal", rotation="promax", latent_names=names).fit(X)
    assert list(fa.get_feature_names_out()) == expected
    assert list(fa.loadings_.columns) == expected
    report = fa.summary()
    assert list(report["loadings"].columns[:3]) == expected
    assert list(report["variance"].columns) == expected
    assert list(report["factor correlations"].index) == expected
    assert list(report["factor correlations"].columns) == expected
    scores = fa.set_output(transform="pandas").transform(X)
    assert list(scores.columns) == expected
    pipe = Pipeline([("fa", lvm.FactorAnalysis(3, latent_names=names))]).fit(X)
    default = ["ML1", "ML2", "ML3"] if names is None else expected
    assert list(pipe.get_feature_names_out()) == default


def test_latent_names_must_match_the_number_of_factors():
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    with pytest.raises(ValueError, match=r"latent_names=\['a', 'b'\] must be 3 distinct names"):
        lvm.FactorAnalysis(3, latent_names=["a", "b"]).fit(X)
    with pytest.raises(ValueError, match="distinct"):
        lvm.FactorAnalysis(2, latent_names=["a", "a"]).fit(X)


# ---------------------------------------------------------------- random_state and verbose
def test_random_state_and_verbose_are_accepted_and_the_fit_is_deterministic(capsys):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    first = lvm.FactorAnalysis(3, solver="em", random_state=0, verbose=True).fit(X)
    second = lvm.FactorAnalysis(3, solver="em", random_state=np.random.RandomState(7), verbose=0).fit(X)
    np.testing.assert_array_equal(first.loadings_array(), second.loadings_array())
    with pytest.raises(ValueError, match="random_state='seed' is invalid"):
        lvm.FactorAnalysis(random_state="seed").fit(X)
    with pytest.raises(ValueError, match="verbose=-1 is invalid"):
        lvm.FactorAnalysis(verbose=-1).fit(X)


# ---------------------------------------------------------------- the printed report
def test_summary_prints_like_factanal():
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    fa = lvm.FactorAnalysis(3, rotation="promax").fit(X)
    L = fa.loadings_array()
    # x3 loads -0.0016 on the third factor: rounded to two decimals it is zero, never "-0.00".
    assert -0.005 < L[2, 2] < 0
    full = fa.summary(cut=None)["loadings"]
    assert full.iloc[2, 2] == "0.00"
    assert "-0.00" not in str(fa.summary(cut=None)) and "-0.0 " not in str(fa.summary(cut=None))
    shown = fa.summary()["loadings"]
    for (i, j), value in np.ndenumerate(L):
        cell = shown.iloc[i, j]
        if abs(value) < 0.1:
            assert cell == ""
        else:
            assert cell == f"{value:.2f}"
    assert fa.summary(cut=0.3, digits=3)["loadings"].iloc[3, 0] == f"{L[3, 0]:.3f}"
    widths = {len(cell) for cell in shown.to_numpy()[:, :3].ravel() if cell}
    assert widths <= {4, 5}  # "0.62" or "-0.12": every number has two decimals


def test_zero_degrees_of_freedom_report_says_undefined():
    X = factor_data(np.random.default_rng(4), 300, 6, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa = lvm.FactorAnalysis(3).fit(X)
    assert "undefined (0 degrees of freedom)" in str(fa.summary())


# ---------------------------------------------------------------- eigenvalues and the scree plot
def test_eigenvalues_are_those_of_the_correlation_matrix_and_scree_draws_them():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    fa = lvm.FactorAnalysis(3).fit(X)
    expected = np.sort(np.linalg.eigvalsh(np.corrcoef(np.asarray(X, dtype=np.float64), rowvar=False)))[::-1]
    np.testing.assert_allclose(fa.eigenvalues_, expected, rtol=1e-10)
    ax = lvm.plot.scree(fa)
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights, expected / expected.sum(), rtol=1e-10)


def test_two_variables_are_fitted_with_a_warning_that_nothing_is_identified():
    X = factor_data(np.random.default_rng(6), 200, 2, 1)
    with pytest.warns(UserWarning, match="-1 degrees of freedom.*at least 3 variables"):
        lvm.FactorAnalysis(1).fit(X)


@pytest.mark.parametrize("missing", ["pairwise", "em"])
def test_saved_fits_with_missing_data_or_a_constant_column_load_back(tmp_path, missing):
    rng = np.random.default_rng(7)
    X = with_holes(rng, factor_data(rng, 200, 6, 2))
    fa = lvm.FactorAnalysis(2, method="minres", missing=missing, latent_names=["a", "b"]).fit(X)
    loaded = lvm.load(fa.save(tmp_path / "fa.npz"))
    np.testing.assert_array_equal(loaded.transform(X), fa.transform(X))
    assert loaded.correlation_source_ == missing
    assert list(loaded.get_feature_names_out()) == ["a", "b"]
    complete = np.c_[factor_data(rng, 200, 5, 2), np.full(200, 4.0)]
    with pytest.warns(UserWarning, match=r"\['x5'\] are constant"):
        fa = lvm.FactorAnalysis(2).fit(complete)
    loaded = lvm.load(fa.save(tmp_path / "constant.npz"))
    np.testing.assert_array_equal(loaded.score_samples(complete), fa.score_samples(complete))
