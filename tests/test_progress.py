"""Progress bars: where they go, when they show, and what a log file gets."""

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import lvm
from lvm import _progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


# pytest puts its own sys.stderr back when a test starts, so a fixture cannot
# replace it: the tests call these first.
def _terminal(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def _log(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setattr(_progress, "DELAY_SECONDS", 0.0)


def test_notebook_without_ipywidgets_gets_the_text_bar_without_a_warning():
    # A Jupyter kernel as tqdm recognises one, with ipywidgets not installed.
    script = textwrap.dedent("""
        import sys, types, warnings
        import IPython
        class ZMQInteractiveShell:
            pass
        IPython.get_ipython = lambda: ZMQInteractiveShell()
        sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
        sys.modules["ipywidgets"] = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import lvm
            from lvm._progress import progress
            X = lvm.datasets.load_old_faithful()
            lvm.GaussianMixture(2, random_state=0, verbose=1).fit(X)
            lvm.Autoencoder(1, epochs=2, verbose=1).fit(X)
            bar = progress(total=2)
            bar.close()
        import tqdm.notebook, tqdm.std
        assert isinstance(bar, tqdm.std.tqdm) and not isinstance(bar, tqdm.notebook.tqdm), type(bar).__mro__
        print([f"{w.category.__name__}: {w.message}" for w in caught])
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


def test_a_fit_under_a_second_shows_no_bar(monkeypatch):
    terminal = _terminal(monkeypatch)
    X = lvm.datasets.load_old_faithful()
    start = time.perf_counter()
    lvm.GaussianMixture(2, random_state=0, verbose=1).fit(X)
    assert time.perf_counter() - start < _progress.DELAY_SECONDS, "the fit should be quick on these data"
    assert terminal.getvalue() == ""


def test_a_model_bar_shows_in_a_terminal_once_its_delay_is_over(monkeypatch, no_delay):
    terminal = _terminal(monkeypatch)
    X = lvm.datasets.load_old_faithful()
    lvm.GaussianMixture(2, random_state=0, verbose=1).fit(X)
    shown = terminal.getvalue()
    assert "GaussianMixture" in shown and "\r" in shown


def test_a_log_file_gets_a_few_plain_lines(monkeypatch, no_delay):
    log = _log(monkeypatch)
    monkeypatch.setattr(_progress, "LOG_INTERVAL_SECONDS", 0.2)
    start = time.perf_counter()
    for _ in _progress.progress(range(200), desc="steps", unit="step"):
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert all(line.startswith("steps:") for line in lines), lines
    # One line at the start, at most one per interval, and the finished bar.
    assert 2 <= len(lines) <= elapsed / 0.2 + 2, lines
    assert "200/200" in lines[-1]


def test_a_log_keeps_the_finished_line_of_a_call_longer_than_the_delay(monkeypatch):
    log = _log(monkeypatch)
    monkeypatch.setattr(_progress, "DELAY_SECONDS", 0.1)
    for _ in _progress.progress(range(30), desc="short"):
        time.sleep(0.01)
    for _ in _progress.progress(range(3), desc="quick"):
        pass
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("short:") and "30/30" in lines[0], lines


def test_a_long_step_keeps_its_elapsed_time_moving(monkeypatch, no_delay):
    log = _log(monkeypatch)
    monkeypatch.setattr(_progress, "LOG_INTERVAL_SECONDS", 0.05)
    monkeypatch.setattr(_progress, "HEARTBEAT_SECONDS", 0.05)
    with _progress.progress(total=1, desc="long", heartbeat=True) as bar:
        time.sleep(0.6)
        during = log.getvalue().splitlines()
        bar.update()
    # Lines written while no step ended: the time moves, the count does not.
    assert len(during) >= 3, during
    assert all("0/1" in line for line in during)


def test_verbose_false_and_zero_show_nothing(monkeypatch, no_delay):
    terminal = _terminal(monkeypatch)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    for verbose in (False, 0):
        lvm.compare({"PCA": lvm.PCA(2)}, X, y=y, verbose=verbose)
        lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1, 2], verbose=verbose)
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("verbose", [True, 1, 2])
def test_slow_calls_show_a_bar_with_their_steps(monkeypatch, no_delay, verbose):
    terminal = _terminal(monkeypatch)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    lvm.compare({"PCA": lvm.PCA(2), "PPCA": lvm.PPCA(2)}, X, y=y, verbose=verbose)
    shown = terminal.getvalue()
    assert "compare" in shown and "2/2" in shown and "PPCA" in shown
    lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1, 2, 3], verbose=verbose)
    assert "compression_table" in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_tsne_shows_its_time(monkeypatch, no_delay):
    terminal = _terminal(monkeypatch)
    Z = np.random.default_rng(0).normal(size=(60, 3))
    ax = lvm.plot.latent_scatter(Z, method="tsne")
    assert "t-SNE of 60 points" in terminal.getvalue()
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


@pytest.mark.parametrize("verbose", [-1, 1.5, "yes", None])
def test_verbose_must_be_a_bool_or_a_count(verbose):
    X = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="verbose=.* is invalid"):
        lvm.compare({"PCA": lvm.PCA(2)}, X, verbose=verbose)
    with pytest.raises(ValueError, match="verbose=.* is invalid"):
        lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1], verbose=verbose)
    with pytest.raises(ValueError, match="verbose=.* is invalid"):
        lvm.plot.latent_scatter(X, method="tsne", verbose=verbose)


def test_lvm_compare_into_a_log_file_writes_a_few_lines(tmp_path):
    X, y = lvm.datasets.load_digits(return_X_y=True)
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"p{j}" for j in range(X.shape[1])]).assign(digit=y)
    frame.to_csv(tmp_path / "digits.csv", index=False)
    command = [sys.executable, "-m", "lvm.cli", "compare", str(tmp_path / "digits.csv"), "-k", "2",
               "--labels", "digit", "--out", str(tmp_path / "out")]
    root = Path(lvm.__file__).resolve().parents[1]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(root)}
    start = time.perf_counter()
    with open(tmp_path / "log.txt", "w") as log:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=log, env=env, cwd=tmp_path, timeout=600)
    elapsed = time.perf_counter() - start
    text = (tmp_path / "log.txt").read_text()
    assert result.returncode == 0, text
    assert "\r" not in text and "\x1b" not in text
    bars = [line for line in text.splitlines() if "%|" in line]
    # The autoencoder trains for 200 epochs: a line per epoch would be 200.
    # Each bar writes at most one line per interval and its last one.
    n_bars = len({line.split(":")[0] for line in bars})
    assert len(bars) <= n_bars * (elapsed / _progress.LOG_INTERVAL_SECONDS + 2), text
    assert len(bars) < 20, text
