"""The ``lvm`` command: the demo report, fit/compare/select on CSV files, help, and one-line errors."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hs_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "hs.csv"
    lvm.datasets.load_holzinger_swineford(tests_only=True).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "digits.csv"
    frame = lvm.datasets.load_digits(as_frame=True).frame
    frame.rename(columns={"target": "digit"}).to_csv(path, index=False)
    return path


def _one_line_error(capsys, argv, expected):
    assert main(argv) == 1
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert error.count("\n") == 0, error
    assert error.startswith("lvm: error:") and expected in error, error


def test_demo_writes_report_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out)]) == 0
    assert "report written to" in capsys.readouterr().out
    for name in ("report.md", "report.html", "models.csv", "models.md", "variance.csv", "compression_curve.csv"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    figures = [line.rsplit("](", 1)[1][:-1] for line in report.splitlines() if line.startswith("![")]
    assert len(figures) >= 7
    for name in figures:
        assert (out / name).read_bytes()[:8] == PNG, name
        assert f"src='{name}'" in html
    models = pd.read_csv(out / "models.csv", index_col="model")
    assert list(models.index) == ["PCA", "PPCA", "FA", "GaussianMixture", "Autoencoder"]
    # PCA minimises squared error among rank-k linear codes; the table must say so.
    assert models.loc["PCA", "mse_train"] <= models.loc[["PPCA", "FA"], "mse_train"].min()
    assert (models.loc[["PCA", "PPCA", "FA", "Autoencoder"], "knn_accuracy"] > 0.9).all()
    assert np.isnan(models.loc["Autoencoder", "loglik_test"])
    curve = pd.read_csv(out / "compression_curve.csv", index_col="k")
    assert curve["PCA"].is_monotonic_decreasing and curve["FA"].is_monotonic_decreasing
    assert "| PCA |" in report and "<table" in html and html.count("<img") == len(figures)


def test_fit_writes_summary_scores_and_a_loadable_model(tmp_path, hs_csv, capsys):
    out = tmp_path / "fa"
    assert main(["fit", "fa", str(hs_csv), "-k", "3", "--rotation", "varimax", "--out", str(out)]) == 0
    assert "RMSEA" in capsys.readouterr().out
    scores = pd.read_csv(out / "scores.csv", index_col="row")
    model = lvm.load(out / "model.npz")
    data = pd.read_csv(hs_csv)
    np.testing.assert_allclose(scores.to_numpy(), model.transform(data), rtol=1e-9)
    assert list(scores.columns) == [str(c) for c in model.loadings_.columns]
    assert (out / "summary.md").read_text().startswith("###")
    assert (out / "loadings.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize("name", ["pca", "ppca", "gmm", "ae"])
def test_fit_every_model(tmp_path, hs_csv, name):
    assert main(["fit", name, str(hs_csv), "-k", "2", "--out", str(tmp_path)]) == 0
    scores = pd.read_csv(tmp_path / "scores.csv", index_col="row")
    assert len(scores) == 301
    assert type(lvm.load(tmp_path / "model.npz")).__name__ == {"pca": "PCA", "ppca": "PPCA", "gmm": "GaussianMixture",
                                                               "ae": "Autoencoder"}[name]
    if name == "gmm":
        assert set(scores["component"]) <= {0, 1}


def test_compare_with_labels(tmp_path, digits_csv, capsys):
    assert main(["compare", str(digits_csv), "-k", "5", "--labels", "digit", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dropped constant column(s)" in out
    table = pd.read_csv(tmp_path / "compare.csv", index_col="model")
    assert list(table.index) == ["PCA", "PPCA", "FA", "Autoencoder"]
    assert table["knn_accuracy"].notna().all() and (table["k"] == 5).all()
    assert (tmp_path / "compare.png").read_bytes()[:8] == PNG


def test_compare_skips_a_model_the_data_do_not_suit(tmp_path, capsys):
    # Fewer rows than columns: the sample correlation matrix is singular and
    # factor analysis cannot be fitted; the other models can.
    X = np.random.default_rng(0).normal(size=(24, 30))
    path = tmp_path / "wide.csv"
    pd.DataFrame(X).to_csv(path, index=False)
    assert main(["compare", str(path), "-k", "2", "--out", str(tmp_path)]) == 0
    assert "skipped FA: FactorAnalysis: the correlation matrix is singular" in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / "compare.csv", index_col="model").index) == ["PCA", "PPCA", "Autoencoder"]


def test_select_suggests_numbers(tmp_path, hs_csv, capsys):
    assert main(["select", str(hs_csv), "--mixtures", "--max-clusters", "3", "--out", str(tmp_path)]) == 0
    choices = pd.read_csv(tmp_path / "choices.csv", index_col="what")
    result = lvm.factor.parallel_analysis(pd.read_csv(hs_csv), random_state=0)
    assert choices.loc["factors", "suggested"] == result.n_factors
    assert choices.loc["components", "suggested"] == result.n_components
    assert "clusters" in choices.index
    assert (tmp_path / "parallel_analysis.png").read_bytes()[:8] == PNG


def test_help_everywhere_and_version():
    for argv in (["--help"], ["demo", "--help"], ["fit", "--help"], ["compare", "--help"], ["select", "--help"],
                 ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0


def test_no_command_prints_usage(capsys):
    assert main([]) == 2
    assert "usage: lvm" in capsys.readouterr().out


def test_missing_file(tmp_path, capsys):
    _one_line_error(capsys, ["fit", "pca", str(tmp_path / "nope.csv"), "-k", "2"], "no such file")
    _one_line_error(capsys, ["compare", str(tmp_path / "nope.csv"), "-k", "2"], "no such file")
    _one_line_error(capsys, ["select", str(tmp_path / "nope.csv")], "no such file")


def test_non_numeric_column(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0], "who": list("wxyz")}).to_csv(path, index=False)
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--out", str(tmp_path)],
                    "column(s) ['who'] are not numeric")
    _one_line_error(capsys, ["compare", str(path), "-k", "1", "--out", str(tmp_path)], "not numeric")


def test_k_too_large(tmp_path, hs_csv, capsys):
    _one_line_error(capsys, ["fit", "pca", str(hs_csv), "-k", "50", "--out", str(tmp_path)], "n_components=50")
    _one_line_error(capsys, ["fit", "fa", str(hs_csv), "-k", "9", "--out", str(tmp_path)], "n_components=9")
    _one_line_error(capsys, ["compare", str(hs_csv), "-k", "9", "--out", str(tmp_path)], "-k 9 is too large")
    _one_line_error(capsys, ["demo", "--out", str(tmp_path), "-k", "100"], "n_components=100")


def test_other_bad_input(tmp_path, hs_csv, capsys):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe binary \x00\n\x81\x82")
    _one_line_error(capsys, ["fit", "pca", str(garbage), "-k", "1"], "garbage.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _one_line_error(capsys, ["fit", "pca", str(empty), "-k", "1"], "not a readable CSV file")
    _one_line_error(capsys, ["fit", "pca", str(hs_csv), "-k", "2", "--rotation", "varimax", "--out",
                             str(tmp_path / "never")], "--rotation applies to factor analysis")
    assert not (tmp_path / "never").exists()  # a failed command leaves no folder behind
    _one_line_error(capsys, ["compare", str(hs_csv), "-k", "2", "--labels", "grade"], "no column 'grade'")
    _one_line_error(capsys, ["fit", "fa", str(hs_csv), "-k", "2", "--rotation", "spin", "--out", str(tmp_path)],
                    "rotation='spin'")


def test_installed_command_exits_non_zero_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lvm.cli", "fit", "pca", str(tmp_path / "none.csv"), "-k", "2"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("lvm: error: no such file")


def test_more_bad_input_one_line_each(tmp_path, hs_csv, capsys):
    data = pd.read_csv(hs_csv)
    holes = data.copy()
    holes.iloc[3, 2] = np.nan
    path = tmp_path / "holes.csv"
    holes.to_csv(path, index=False)
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--out", str(tmp_path)], "1 missing entries")
    _one_line_error(capsys, ["select", str(hs_csv), "--mixtures", "--max-clusters", "0", "--out", str(tmp_path)],
                    "--max-clusters 0 must be at least 1")
    labelled = data.assign(group=1)
    path = tmp_path / "one_class.csv"
    labelled.to_csv(path, index=False)
    _one_line_error(capsys, ["compare", str(path), "-k", "2", "--labels", "group"], "a single value")
    wide = tmp_path / "wide.csv"
    pd.DataFrame(np.random.default_rng(0).normal(size=(5, 8))).to_csv(wide, index=False)
    _one_line_error(capsys, ["select", str(wide), "--out", str(tmp_path)], "singular")


def test_a_pandas_row_index_is_not_fitted_as_data(tmp_path, hs_csv):
    path = tmp_path / "indexed.csv"
    pd.read_csv(hs_csv).to_csv(path)  # writes the row index as an unnamed first column
    assert main(["fit", "pca", str(path), "-k", "2", "--out", str(tmp_path)]) == 0
    assert lvm.load(tmp_path / "model.npz").n_features_in_ == 9
