"""The ``lvm`` command with mixtures of factor analyzers and of PPCA: ``fit mfa``/``fit mppca`` and ``select --mfa``."""

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
ITEMS = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "hs.csv"
    lvm.datasets.load_holzinger_swineford(tests_only=True).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def survey():
    """The nine Holzinger-Swineford tests with an id column and 3% of the answers left empty."""
    frame = lvm.datasets.load_holzinger_swineford(tests_only=True).copy()
    frame = frame.mask(np.random.default_rng(0).random(frame.shape) < 0.03)
    frame.insert(0, "id", np.arange(1001, 1001 + len(frame)))
    return frame


def _one_line_error(capsys, argv, expected):
    assert main(argv) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0, error
    assert error.startswith("lvm: error:") and expected in error, error


@pytest.mark.parametrize("name, estimator", [("mfa", lvm.MixtureOfFactorAnalyzers), ("mppca", lvm.MixtureOfPPCA)])
def test_fit_writes_scores_components_responsibilities_and_loadings(tmp_path, hs_csv, capsys, name, estimator):
    out = tmp_path / name
    assert main(["fit", name, str(hs_csv), "-k", "2", "--factors", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "loadings" in printed and "fitted in" in printed
    data = pd.read_csv(hs_csv)
    model = lvm.load(out / "model.npz")
    assert type(model) is estimator and (model.n_components, model.n_factors) == (2, 2)
    reference = estimator(2, 2, random_state=0).fit(data)
    np.testing.assert_allclose(model.means_, reference.means_, rtol=1e-10)
    scores = pd.read_csv(out / "scores.csv", index_col="row")
    assert list(scores.columns) == ["Z1", "Z2", "component"]
    np.testing.assert_allclose(scores[["Z1", "Z2"]].to_numpy(), model.transform(data), rtol=1e-9)
    np.testing.assert_array_equal(scores["component"], model.predict(data))
    responsibilities = pd.read_csv(out / "responsibilities.csv", index_col="row")
    assert list(responsibilities.columns) == ["component 0", "component 1"]
    np.testing.assert_allclose(responsibilities.to_numpy(), model.predict_proba(data), rtol=1e-9)
    loadings = pd.read_csv(out / "summary_loadings.csv", index_col=[0, 1])
    for j in range(2):
        np.testing.assert_allclose(loadings.loc[f"component {j}"].loc[ITEMS].to_numpy(), model.loadings_[j],
                                   rtol=1e-9)
    assert (out / "summary_components.csv").stat().st_size > 0
    assert (out / "summary.md").read_text().startswith("###")
    assert (out / "loadings.png").read_bytes()[:8] == PNG


def test_fit_mppca_with_missing_answers_and_an_id(tmp_path, survey):
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["fit", "mppca", str(path), "-k", "2", "--factors", "1", "--id", "id", "--missing", "em",
                 "--out", str(out)]) == 0
    model = lvm.load(out / "model.npz")
    assert model.missing == "em" and list(model.feature_names_in_) == ITEMS
    reference = lvm.MixtureOfPPCA(2, 1, random_state=0, missing="em").fit(survey[ITEMS])
    np.testing.assert_allclose(model.noise_variance_, reference.noise_variance_, rtol=1e-10)
    responsibilities = pd.read_csv(out / "responsibilities.csv", index_col="id")
    np.testing.assert_array_equal(responsibilities.index, survey["id"])
    np.testing.assert_allclose(responsibilities.to_numpy(), reference.predict_proba(survey[ITEMS]), rtol=1e-8,
                               atol=1e-12)


def test_fit_options_that_do_not_apply(tmp_path, hs_csv, capsys):
    _one_line_error(capsys, ["fit", "mfa", str(hs_csv), "-k", "2", "--out", str(tmp_path / "a")],
                    "mfa needs --factors Q, the number of factors of each component")
    _one_line_error(capsys, ["fit", "gmm", str(hs_csv), "-k", "2", "--factors", "2", "--out", str(tmp_path / "b")],
                    "--factors applies to mfa and mppca, not to gmm")
    _one_line_error(capsys, ["fit", "mppca", str(hs_csv), "-k", "2", "--factors", "2", "--rotation", "varimax",
                             "--out", str(tmp_path / "c")], "--rotation applies to factor analysis (fa), not to mppca")
    _one_line_error(capsys, ["fit", "mfa", str(hs_csv), "-k", "2", "--factors", "9", "--out", str(tmp_path / "d")],
                    "n_factors=9 must be below n_features=9")
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_select_mfa_writes_the_bic_table_and_suggests_clusters_and_factors(tmp_path, hs_csv, capsys):
    out = tmp_path / "select"
    assert main(["select", str(hs_csv), "--mfa", "--max-clusters", "2", "--max-factors", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MFA clusters" in printed and "MFA factors" in printed
    table = pd.read_csv(out / "mfa.csv", index_col=0)
    expected, best = lvm.select_mixture(pd.read_csv(hs_csv), model="mfa", n_components=[1, 2], n_factors=[1, 2],
                                        random_state=0, verbose=False)
    assert list(table.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(table[["covariance_type", "mclust", "n_components", "n_factors"]],
                                  expected[["covariance_type", "mclust", "n_components", "n_factors"]])
    np.testing.assert_allclose(table["bic"], expected["bic"], rtol=1e-10)
    choices = pd.read_csv(out / "choices.csv", index_col="what")
    assert choices.loc["MFA clusters", "suggested"] == best.n_components
    assert choices.loc["MFA factors", "suggested"] == best.n_factors
    # Parallel analysis is still there, its numbers unchanged by the extra rows.
    assert choices.loc["factors", "suggested"] == lvm.factor.parallel_analysis(pd.read_csv(hs_csv),
                                                                              random_state=0).n_factors
    assert not (out / "mixtures.csv").exists()


def test_select_mfa_with_missing_answers(tmp_path, survey):
    path = tmp_path / "survey.csv"
    survey.to_csv(path, index=False)
    out = tmp_path / "select"
    assert main(["select", str(path), "--id", "id", "--missing", "em", "--mfa", "--max-clusters", "2",
                 "--max-factors", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "mfa.csv", index_col=0)
    assert sorted(table["n_components"]) == [1, 2] and set(table["n_factors"]) == {1}
    assert np.isfinite(table["bic"]).all()


def test_select_refuses_max_factors_below_one(tmp_path, hs_csv, capsys):
    _one_line_error(capsys, ["select", str(hs_csv), "--mfa", "--max-factors", "0", "--out", str(tmp_path / "x")],
                    "--max-factors 0 must be at least 1")
    assert not (tmp_path / "x").exists()


def test_help_names_the_low_rank_mixtures(capsys):
    for argv, words in ((["fit", "--help"], ("mfa (mixture of factor analyzers)", "mppca", "--factors Q",
                                             "responsibilities.csv")),
                        (["select", "--help"], ("--mfa", "--max-factors", "mfa.csv"))):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        for word in words:
            assert word in text, (argv, word)
