"""The README's commands are the ones CI runs, and its tour runs."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert len(commands) == 2
    demo, tests = commands
    assert "lvm demo" in demo and "pytest" in tests
    ci = subprocess.run(["bash", "-c", f"grep -m1 -E '^python3 -m venv \\.venv && .*pytest' {ROOT / 'README.md'}"],
                        capture_output=True, text=True, check=True)
    assert ci.stdout.strip() == tests
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_tour_runs(tmp_path, monkeypatch):
    tour = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(tour, "README tour", "exec"), {})
    assert (tmp_path / "ppca.npz").exists()
