"""Run every teaching script in examples/ and check that it writes valid PNG figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9]*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_all_examples_found():
    assert len(SCRIPTS) == 8, [script.name for script in SCRIPTS]


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_example_runs_and_writes_png(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(script), str(tmp_path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    figures = sorted(tmp_path.rglob("*.png"))
    assert figures, f"{script.name} wrote no PNG file"
    for figure in figures:
        with figure.open("rb") as handle:
            assert handle.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE, f"{figure.name} is not a PNG file"
