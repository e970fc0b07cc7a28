"""The ``lvm`` command: the demo report, help, and errors."""

import subprocess
import sys

import pandas as pd
import pytest

from lvm.cli import main


def test_demo_writes_report_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--out", str(out)]) == 0
    assert "report written to" in capsys.readouterr().out
    for name in ("report.md", "models.csv", "models.md", "variance.csv", "compression_curve.csv"):
        assert (out / name).stat().st_size > 0, name
    for name in ("scree.png", "latent_scatter.png", "reconstructions.png", "compression_curve.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    models = pd.read_csv(out / "models.csv", index_col="model")
    assert list(models.index) == ["PCA", "PPCA"]
    # PCA minimises squared error among rank-k linear maps; PPCA maximises likelihood.
    assert models.loc["PCA", "train MSE"] < models.loc["PPCA", "train MSE"]
    curve = pd.read_csv(out / "compression_curve.csv")
    assert curve["test MSE"].is_monotonic_decreasing
    report = (out / "report.md").read_text()
    assert "![scree](scree.png)" in report and "| PCA |" in report


def test_help_and_version():
    for argv in (["--help"], ["demo", "--help"], ["--version"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0


def test_no_command_prints_usage(capsys):
    assert main([]) == 2
    assert "usage: lvm" in capsys.readouterr().out


def test_bad_k_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lvm.cli", "demo", "--out", str(tmp_path), "-k", "100"],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("lvm: error:") and "n_components=100" in result.stderr
