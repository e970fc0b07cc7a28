"""The ``lvm`` command on files as people keep them: delimiters, identifiers, chosen columns, missing answers;
and a command that fails cleanly (one-line warnings and errors, no half-written folder, Ctrl-C)."""

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lvm
import lvm.cli
from lvm.cli import main

ITEMS = [f"x{i}" for i in range(1, 10)]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def survey():
    """The nine Holzinger-Swineford tests with an id column and 3% of the answers left empty."""
    frame = lvm.datasets.load_holzinger_swineford(tests_only=True).copy()
    frame = frame.mask(np.random.default_rng(0).random(frame.shape) < 0.03)
    frame.insert(0, "id", np.arange(1001, 1001 + len(frame)))
    return frame


@pytest.fixture(scope="module")
def complete():
    """The same file without gaps, its id column first."""
    frame = lvm.datasets.load_holzinger_swineford(tests_only=True).copy()
    frame.insert(0, "id", np.arange(1001, 1001 + len(frame)))
    return frame


def _write(frame, path, sep=","):
    frame.to_csv(path, sep=sep, index=False)
    return path


def _one_line_error(capsys, argv, expected):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("lvm: error:") and expected in err, err
    return err


def _run(*argv, cwd=None):
    """The command as a user types it, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "lvm", *argv], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_psychologists_semicolon_file_with_an_id_and_missing_answers(tmp_path, survey, capsys):
    assert 0.02 < survey[ITEMS].isna().to_numpy().mean() < 0.04
    path = _write(survey, tmp_path / "survey.csv", sep=";")
    original = path.read_bytes()
    out = tmp_path / "out"
    assert main(["fit", "fa", str(path), "-k", "3", "--id", "id", "--sep", ";", "--missing", "em",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "warning" not in printed.err
    model = lvm.load(out / "model.npz")
    assert list(model.feature_names_in_) == ITEMS
    reference = lvm.FactorAnalysis(3, missing="em").fit(survey[ITEMS])
    chi2 = reference.fit_statistics_["chi2"]
    assert reference.fit_statistics_["dof"] == 12
    np.testing.assert_allclose(model.fit_statistics_["chi2"], chi2, rtol=1e-10)
    assert f"{chi2:.2f} on 12 degrees of freedom" in printed.out
    scores = pd.read_csv(out / "scores.csv", index_col="id")
    np.testing.assert_array_equal(scores.index, survey["id"])
    np.testing.assert_allclose(scores.to_numpy(), reference.transform(survey[ITEMS]), rtol=1e-8, atol=1e-10)
    assert path.read_bytes() == original and original.startswith(b"id;x1;x2")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_the_delimiter_is_sniffed(tmp_path, complete, sep):
    path = _write(complete, tmp_path / "data.txt", sep=sep)
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(tmp_path / "out")]) == 0
    model = lvm.load(tmp_path / "out" / "model.npz")
    assert list(model.feature_names_in_) == ITEMS
    np.testing.assert_allclose(model.components_, lvm.PCA(2).fit(complete[ITEMS]).components_, rtol=1e-10)


def test_a_file_read_as_one_wide_column_names_the_delimiter(tmp_path, complete, capsys):
    semicolons = _write(complete, tmp_path / "semicolons.csv", sep=";")
    _one_line_error(capsys, ["fit", "pca", str(semicolons), "-k", "2", "--sep", ",", "--out", str(tmp_path / "o")],
                    "pass --sep ';'")
    tabs = _write(complete, tmp_path / "tabs.tsv", sep="\t")
    _one_line_error(capsys, ["select", str(tabs), "--sep", ";", "--out", str(tmp_path / "o")], "pass --sep tab")
    assert not (tmp_path / "o").exists()
    assert main(["fit", "pca", str(tabs), "-k", "2", "--sep", "tab", "--id", "id",
                 "--out", str(tmp_path / "out")]) == 0


def test_columns_by_name_and_by_range(tmp_path):
    path = _write(lvm.datasets.load_holzinger_swineford(), tmp_path / "hs.csv")
    chosen = {"x1-x9": ITEMS, "x1:x9": ITEMS, "x1:x3,x7": ["x1", "x2", "x3", "x7"],
              "x9, x4 - x6": ["x9", "x4", "x5", "x6"]}
    for number, (spec, names) in enumerate(chosen.items()):
        out = tmp_path / f"out{number}"
        assert main(["fit", "pca", str(path), "-k", "1", "--columns", spec, "--out", str(out)]) == 0, spec
        assert list(lvm.load(out / "model.npz").feature_names_in_) == names, spec


def test_bad_column_lists_are_one_line_errors(tmp_path, complete, capsys):
    path = _write(complete, tmp_path / "data.csv")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--columns", "x1-x99"], "no column 'x1-x99'")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--columns", "x9:x1"], "runs backwards")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--drop", "age"], "--drop: no column 'age'")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--id", "who"], "no column 'who' for --id")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--id", "id", "--columns", "id"], "no column is left")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "1", "--sep", ";;"], "--sep ';;' must be one character")


def test_a_repeated_identifier_is_kept_and_warned_about(tmp_path, complete, capsys):
    frame = complete.copy()
    frame.loc[7, "id"] = frame.loc[6, "id"]
    path = _write(frame, tmp_path / "data.csv")
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(tmp_path / "out")]) == 0
    assert "warning: identifier column 'id' has 1 repeated values" in capsys.readouterr().err
    scores = pd.read_csv(tmp_path / "out" / "scores.csv", index_col="id")
    np.testing.assert_array_equal(scores.index, frame["id"])


def test_help_says_how_to_write_columns(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "FIRST:LAST" in text and "x1-x9" in text and "--sep" in text and "--missing {em,drop}" in text


def test_drop_and_missing_drop_on_the_big_five(tmp_path, capsys):
    bfi = lvm.datasets.load_bfi()
    path = _write(bfi, tmp_path / "bfi.csv")
    out = tmp_path / "out"
    assert main(["fit", "pca", str(path), "-k", "5", "--drop", "gender,education,age", "--missing", "drop",
                 "--out", str(out)]) == 0
    items = bfi.drop(columns=["gender", "education", "age"])
    complete = items.dropna()
    dropped = len(items) - len(complete)
    assert dropped > 0
    assert f"dropped {dropped} of {len(items)} rows with missing entries ({len(complete)} complete rows remain)" \
        in capsys.readouterr().out
    model = lvm.load(out / "model.npz")
    assert list(model.feature_names_in_) == list(items.columns)
    np.testing.assert_allclose(model.explained_variance_, lvm.PCA(5).fit(complete).explained_variance_, rtol=1e-10)
    scores = pd.read_csv(out / "scores.csv", index_col="row")
    np.testing.assert_array_equal(scores.index, complete.index)


def test_select_takes_missing_answers(tmp_path, survey, capsys):
    path = _write(survey, tmp_path / "survey.csv")
    assert main(["select", str(path), "--id", "id", "--missing", "em", "--out", str(tmp_path / "em")]) == 0
    choices = pd.read_csv(tmp_path / "em" / "choices.csv", index_col="what")
    # Parallel analysis on pairwise-complete correlations, as psych::fa.parallel does with gaps.
    expected = lvm.factor.parallel_analysis(survey[ITEMS], random_state=0)
    assert choices.loc["factors", "suggested"] == expected.n_factors
    assert "pairwise-complete" in choices.loc["factors", "method"]
    assert main(["select", str(path), "--id", "id", "--missing", "drop", "--out", str(tmp_path / "drop")]) == 0
    choices = pd.read_csv(tmp_path / "drop" / "choices.csv", index_col="what")
    assert choices.loc["PPCA dimension", "suggested"] == lvm.PPCA("mle").fit(survey[ITEMS].dropna()).n_components_
    n_dropped = int(survey[ITEMS].isna().any(axis=1).sum())
    assert f"dropped {n_dropped} of {len(survey)} rows" in capsys.readouterr().out
    # Two structures keep this short: EM with missing entries in 25 dimensions costs a pass per pattern.
    assert main(["select", str(path), "--id", "id", "--missing", "em", "--mixtures", "--max-clusters", "2",
                 "--structures", "full, EEI", "--out", str(tmp_path / "mix")]) == 0
    choices = pd.read_csv(tmp_path / "mix" / "choices.csv", index_col="what")
    table, best = lvm.select_mixture(survey[ITEMS], n_components=range(1, 3), covariance_types=["full", "EEI"],
                                     random_state=0, missing="em")
    assert sorted(set(table["mclust"])) == ["EEI", "VVV"]
    assert choices.loc["clusters", "suggested"] == best.n_components
    assert choices.loc["clusters", "method"] == f"Gaussian mixture, BIC ({best.covariance_type})"


def test_missing_answers_without_missing_option_and_with_a_model_that_cannot(tmp_path, survey, capsys):
    path = _write(survey, tmp_path / "survey.csv")
    _one_line_error(capsys, ["fit", "fa", str(path), "-k", "2", "--id", "id"], "use --missing em or --missing drop")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--id", "id"], "use --missing drop")
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--id", "id", "--missing", "em"],
                    "pca cannot use --missing em")
    # A column nobody answered cannot be fitted, whichever way gaps are handled.
    path = _write(survey.assign(x10=np.nan), tmp_path / "unanswered.csv")
    for missing in ("em", "drop"):
        _one_line_error(capsys, ["fit", "fa", str(path), "-k", "2", "--id", "id", "--missing", missing],
                        "column(s) ['x10'] have no values at all; leave them out with --drop x10")


@pytest.mark.parametrize("method", ["minres", "principal"])
def test_method_reaches_factor_analysis(tmp_path, complete, method, capsys):
    path = _write(complete, tmp_path / "data.csv")
    out = tmp_path / "out"
    assert main(["fit", "fa", str(path), "-k", "3", "--id", "id", "--method", method, "--out", str(out)]) == 0
    model = lvm.load(out / "model.npz")
    reference = lvm.FactorAnalysis(3, method=method).fit(complete[ITEMS])
    assert model.method == method
    np.testing.assert_allclose(model.uniquenesses_, reference.uniquenesses_, rtol=1e-8)
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--method", method], "--method applies to")


def test_an_identifier_that_is_fitted_is_named_in_a_one_line_warning(tmp_path, complete):
    path = _write(complete, tmp_path / "data.csv")
    result = _run("fit", "pca", str(path), "-k", "2", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warned == ["warning: column 'id' looks like a row identifier but is fitted as an item; "
                      "pass --id id to key the scores by it instead"]
    assert "UserWarning" not in result.stderr and "warnings.warn" not in result.stderr
    result = _run("fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(tmp_path / "out2"))
    assert result.returncode == 0 and "warning" not in result.stderr


@pytest.mark.parametrize("column, values", [
    ("respondent", np.random.default_rng(0).permutation(301)),   # by its name
    ("n", np.arange(7, 7 + 301)),                                # unique increasing integers
])
def test_identifier_looking_columns(tmp_path, capsys, column, values):
    frame = lvm.datasets.load_holzinger_swineford(tests_only=True).assign(**{column: values})
    path = _write(frame, tmp_path / "data.csv")
    assert main(["fit", "pca", str(path), "-k", "2", "--out", str(tmp_path / "out")]) == 0
    assert f"warning: column '{column}' looks like a row identifier" in capsys.readouterr().err
    assert main(["fit", "pca", str(path), "-k", "2", "--id", column, "--out", str(tmp_path / "out2")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_model_warnings_print_as_one_line_and_the_handler_is_restored(tmp_path, capsys):
    # Twelve rows of eight columns, two components: each holds fewer points than
    # n_features + 1, so its covariance rests on reg_covar and the model warns.
    X = np.random.default_rng(0).normal(size=(12, 8))
    path = _write(pd.DataFrame(X).add_prefix("v"), tmp_path / "small.csv")
    before = warnings.showwarning
    assert main(["fit", "gmm", str(path), "-k", "2", "--out", str(tmp_path / "out")]) == 0
    assert warnings.showwarning is before
    err = capsys.readouterr().err
    assert any("warning: GaussianMixture" in line and "reg_covar" in line for line in err.splitlines()), err
    assert "Warning:" not in err and "warnings.warn" not in err


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_a_failure_while_writing_leaves_no_folder(tmp_path, complete, capsys, monkeypatch):
    path = _write(complete, tmp_path / "data.csv")

    def disk_full(out, name, figure):
        # The loadings figure is written last, after the summary, scores and model.
        assert (out / "scores.csv").exists() and (out / "model.npz").exists()
        raise OSError("No space left on device")

    monkeypatch.setattr(lvm.cli, "save_figure", disk_full)
    out = tmp_path / "results" / "fa"
    _one_line_error(capsys, ["fit", "fa", str(path), "-k", "2", "--id", "id", "--out", str(out)],
                    "No space left on device")
    assert not (tmp_path / "results").exists() and _leftovers(tmp_path) == []
    # An existing folder keeps what it had, and gets nothing half-written.
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    _one_line_error(capsys, ["fit", "fa", str(path), "-k", "2", "--id", "id", "--out", str(existing)], "No space")
    assert [p.name for p in existing.iterdir()] == ["notes.txt"] and _leftovers(tmp_path) == []


def test_an_existing_folder_gets_the_new_files_and_keeps_its_own(tmp_path, complete, monkeypatch):
    path = _write(complete, tmp_path / "data.csv")
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(existing)]) == 0
    names = {p.name for p in existing.iterdir()}
    assert {"notes.txt", "scores.csv", "model.npz", "loadings.png"} <= names
    assert (existing / "notes.txt").read_text() == "mine" and _leftovers(tmp_path) == []
    # "--out ." is the current folder, staged inside it.
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", "."]) == 0
    assert {p.name for p in here.iterdir()} == names - {"notes.txt"}


def test_ctrl_c_exits_130_with_one_line_and_no_folder(tmp_path, complete, capsys, monkeypatch):
    path = _write(complete, tmp_path / "data.csv")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lvm.cli, "write_table", interrupted)
    out = tmp_path / "out"
    assert main(["fit", "fa", str(path), "-k", "2", "--id", "id", "--out", str(out)]) == 130
    assert capsys.readouterr().err == "lvm: interrupted\n"
    assert not out.exists() and _leftovers(tmp_path) == []
    monkeypatch.setattr(lvm.FactorAnalysis, "fit", interrupted)
    assert main(["fit", "fa", str(path), "-k", "2", "--id", "id", "--out", str(out)]) == 130
    assert capsys.readouterr().err == "lvm: interrupted\n" and not out.exists()


def test_gmm_on_a_wide_file_prints_and_writes_in_proportion(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(60, 2000))
    path = _write(pd.DataFrame(X).add_prefix("v"), tmp_path / "wide.csv")
    out = tmp_path / "out"
    # One component keeps the fit short (its M-step factorises a 2000 x 2000
    # matrix); what is printed and written scales the same way with more.
    assert main(["fit", "gmm", str(path), "-k", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    data_size = path.stat().st_size
    # The mean is one row the width of the data; the covariance table would
    # be 2000 x 2000 numbers, a hundred times the data.
    assert len(printed) < data_size
    assert "--covariances" in printed
    tables = {p.name: p.stat().st_size for p in out.iterdir() if p.name != "model.npz"}
    assert not any("covariances" in name for name in tables)
    assert sum(tables.values()) < data_size


def test_covariances_on_request(tmp_path, complete):
    path = _write(complete, tmp_path / "data.csv")
    out = tmp_path / "out"
    assert main(["fit", "gmm", str(path), "-k", "2", "--id", "id", "--covariances", "--out", str(out)]) == 0
    table = pd.read_csv(out / "summary_covariances.csv", index_col=[0, 1])
    model = lvm.load(out / "model.npz")
    np.testing.assert_allclose(table.loc["component 1"].to_numpy(), model.covariances_[1], rtol=1e-12)


@pytest.mark.parametrize("structure", ["VEV", "tied", "EII"])
def test_structure_chooses_the_covariance_structure(tmp_path, complete, structure):
    path = _write(complete, tmp_path / "data.csv")
    out = tmp_path / "out"
    assert main(["fit", "gmm", str(path), "-k", "2", "--id", "id", "--structure", structure, "--out", str(out)]) == 0
    model = lvm.load(out / "model.npz")
    direct = lvm.GaussianMixture(2, covariance_type=structure, random_state=0).fit(complete.drop(columns="id"))
    assert model.covariance_type == structure
    np.testing.assert_allclose(model.covariances_, direct.covariances_, rtol=1e-10)


def test_structure_is_refused_for_other_models(tmp_path, complete, capsys):
    path = _write(complete, tmp_path / "data.csv")
    _one_line_error(capsys, ["fit", "fa", str(path), "-k", "2", "--id", "id", "--structure", "VEV"],
                    "--structure applies to gmm")


def test_select_structures_are_checked(tmp_path, complete, capsys):
    path = _write(complete, tmp_path / "data.csv")
    _one_line_error(capsys, ["select", str(path), "--id", "id", "--structures", "VEV", "--out", str(tmp_path / "o")],
                    "add --mixtures")
    _one_line_error(capsys, ["select", str(path), "--id", "id", "--mixtures", "--structures", "VEV,XYZ",
                             "--out", str(tmp_path / "o")], "'XYZ' is not one of")


def test_empty_out_is_refused_and_nothing_is_written(tmp_path, complete, capsys, monkeypatch):
    path = _write(complete, tmp_path / "data.csv")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", ""], "--out is empty")
    _one_line_error(capsys, ["select", str(path), "--id", "id", "--out", ""], "--out is empty")
    _one_line_error(capsys, ["demo", "--out", ""], "--out is empty")
    assert list(work.iterdir()) == []
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--out", str(path)], "is an existing file")


@pytest.mark.parametrize("k", ["0", "-3", "61"])
def test_demo_refuses_k_before_creating_anything(tmp_path, capsys, k):
    out = tmp_path / "demo"
    _one_line_error(capsys, ["demo", "-k", k, "--out", str(out)], f"n_components={k} is out of range")
    assert list(tmp_path.iterdir()) == []


def test_infinite_and_huge_values_name_the_problem_before_any_numerical_warning(tmp_path, complete, capsys):
    frame = complete.astype({"x3": object})
    frame.loc[5, "x3"] = "inf"
    path = _write(frame, tmp_path / "inf.csv")
    for command in (["fit", "gmm", str(path), "-k", "2"], ["select", str(path)], ["compare", str(path), "-k", "2"]):
        err = _one_line_error(capsys, command + ["--id", "id", "--out", str(tmp_path / "out")],
                              "column(s) ['x3'] hold infinite values")
        assert "RuntimeWarning" not in err
    huge = complete.assign(x4=complete["x4"] * 1e307)
    path = _write(huge, tmp_path / "huge.csv")
    err = _one_line_error(capsys, ["select", str(path), "--id", "id", "--out", str(tmp_path / "out")],
                          "column(s) ['x4'] have values as large as")
    assert f"{huge['x4'].abs().max():.3g}" in err
    assert not (tmp_path / "out").exists()


def test_compare_names_the_test_size(tmp_path, complete, capsys):
    path = _write(complete.head(50), tmp_path / "data.csv")
    _one_line_error(capsys, ["compare", str(path), "-k", "2", "--id", "id", "--test-size", "0.99"],
                    "--test-size 0.99 leaves 0 training row(s) of 50")
    _one_line_error(capsys, ["compare", str(path), "-k", "2", "--id", "id", "--test-size", "0.96"],
                    "--test-size 0.96 leaves 2 training row(s) of 50; -k 2 needs at least 3")
    _one_line_error(capsys, ["compare", str(path), "-k", "2", "--id", "id", "--test-size", "1.5"],
                    "must be a share between 0 and 1")


def test_compare_and_select_choose_columns_too(tmp_path, capsys):
    hs = lvm.datasets.load_holzinger_swineford()
    path = _write(hs, tmp_path / "hs.csv")
    assert main(["compare", str(path), "-k", "2", "--columns", "x1-x9", "--out", str(tmp_path / "cmp")]) == 0
    table = pd.read_csv(tmp_path / "cmp" / "compare.csv", index_col="model")
    assert list(table.index) == ["PCA", "PPCA", "FA", "Autoencoder"]
    assert main(["select", str(path), "--id", "id", "--drop", "sex:grade", "--out", str(tmp_path / "sel")]) == 0
    choices = pd.read_csv(tmp_path / "sel" / "choices.csv", index_col="what")
    assert choices.loc["factors", "suggested"] == lvm.factor.parallel_analysis(hs[ITEMS], random_state=0).n_factors
    assert "warning" not in capsys.readouterr().err


def test_decimal_commas(tmp_path, complete, capsys):
    path = tmp_path / "excel.csv"
    complete.to_csv(path, sep=";", decimal=",", index=False)
    assert "3,3333333" in path.read_text()
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(tmp_path / "o")],
                    "hold numbers written with decimal commas; pass --decimal ','")
    out = tmp_path / "out"
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--decimal", ",", "--out", str(out)]) == 0
    model = lvm.load(out / "model.npz")
    assert list(model.feature_names_in_) == ITEMS
    np.testing.assert_allclose(model.components_, lvm.PCA(2).fit(complete[ITEMS]).components_, rtol=1e-10)
    _one_line_error(capsys, ["fit", "pca", str(path), "-k", "2", "--sep", ",", "--decimal", ","], "must differ")


class _ClosedPipe:
    """Standard output whose reader has gone, as in ``lvm fit ... | head -1``."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_early_does_not_cost_the_results(tmp_path, complete, monkeypatch):
    path = _write(complete, tmp_path / "data.csv")
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["fit", "pca", str(path), "-k", "2", "--id", "id", "--out", str(out)]) == 1
    monkeypatch.undo()
    scores = pd.read_csv(out / "scores.csv", index_col="id")
    np.testing.assert_allclose(scores.to_numpy(), lvm.load(out / "model.npz").transform(complete[ITEMS]), rtol=1e-10)


def test_a_malformed_command_line_is_one_line():
    result = _run("fit", "fa", "survey.csv", "-k", "3", "--missing", "maybe")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("lvm fit: error: argument --missing: invalid choice: 'maybe'")
    assert "see lvm fit --help" in result.stderr


def test_row_names_written_by_r_key_the_scores(tmp_path, complete):
    # R's write.csv(df) puts the row names first under an empty header.
    frame = complete[ITEMS].set_axis([str(i) for i in range(1, len(complete) + 1)])
    path = tmp_path / "from_r.csv"
    frame.to_csv(path, quoting=1)
    assert path.read_text().startswith('"","x1","x2"')
    out = tmp_path / "out"
    assert main(["fit", "pca", str(path), "-k", "2", "--out", str(out)]) == 0
    assert lvm.load(out / "model.npz").n_features_in_ == 9
    scores = pd.read_csv(out / "scores.csv", index_col="row")
    np.testing.assert_array_equal(scores.index, np.arange(1, len(complete) + 1))


def test_a_real_ctrl_c_during_a_fit(tmp_path):
    X = np.random.default_rng(0).normal(size=(5000, 40))
    frame = pd.DataFrame(X).add_prefix("v")
    frame.insert(0, "id", np.arange(len(frame)))
    path = _write(frame, tmp_path / "data.csv")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # The fitted id column draws a warning just before the fit starts: the
    # moment to press Ctrl-C.
    # A runner started in the background by a shell ignores SIGINT, and a child
    # would inherit that; a user's terminal does not.
    process = subprocess.Popen([sys.executable, "-m", "lvm", "fit", "ae", str(path), "-k", "2", "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = b""
    while b"looks like a row identifier" not in seen:
        chunk = process.stderr.read1(4096)
        assert chunk, seen.decode()
        seen += chunk
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=300)[1]
    assert process.returncode == 130, (seen + rest).decode()
    lines = (seen + rest).decode().replace("\r", "\n").splitlines()
    assert lines[-1] == "lvm: interrupted" and "Traceback" not in (seen + rest).decode()
    assert not out.exists() and _leftovers(tmp_path) == []
