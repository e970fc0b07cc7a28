"""What users see: three first-hour notebooks run top to bottom in a Jupyter kernel, and the figures and messages.

The notebooks are the first hour of a psychologist with questionnaire data, a
data scientist comparing latent spaces of digits, and a teacher showing EM on
Old Faithful. Each runs in a fresh kernel of this Python (nbclient); every
warning a cell prints is collected, and only the ones the story expects are
allowed.
"""

import json
import re
import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import nbclient
import nbformat
import numpy as np
import pytest

import lvm

ROOT = Path(lvm.__file__).resolve().parents[1]
KERNEL = "lvm-test-python"
# A warning as Python prints it: "path/file.py:12: SomeWarning: message".
WARNING_LINE = re.compile(r":\d+: (\w+Warning): (.*)$")

PSYCHOLOGIST = [
    'import pandas as pd, lvm\nitems = pd.read_csv("bfi.csv").filter(regex="^[ACENO][1-5]$")',
    "lvm.factor.parallel_analysis(items)",
    'fa = lvm.FactorAnalysis(5, rotation="oblimin", missing="em").fit(items)',
    "print(fa.summary(cut=0.3))",
    'scores = fa.set_output(transform="pandas").transform(items)',
]

DATA_SCIENTIST = [
    "import lvm\nfrom sklearn.model_selection import train_test_split",
    "X, y = lvm.datasets.load_digits(return_X_y=True)\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
    'models = {"PCA": lvm.PCA(10), "PPCA": lvm.PPCA(10), "FA": lvm.FactorAnalysis(10),\n'
    '          "AE": lvm.Autoencoder(10, hidden=(64,), random_state=0)}',
    "table = lvm.compare(models, X_train, y=y_train, X_test=X_test, y_test=y_test)",
    "table",
    "lvm.plot.compression_curve(models, X, ks=range(1, 33))",
    'lvm.plot.latent_scatter(models["PPCA"], X, labels=y, method="tsne")',
]

TEACHER = [
    "import lvm",
    "X = lvm.datasets.load_old_faithful()\n"
    "steps = []\n"
    'gm = lvm.GaussianMixture(2, covariance_type="full", init="random", random_state=4,\n'
    "                         callback=lambda it, params: steps.append(params))\n"
    "gm.fit(X)",
    "lvm.plot.em_steps(steps, X)",
    "table, best = lvm.select_mixture(X, n_components=range(1, 7))",
]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec that starts this interpreter, importing lvm from this source tree."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "lvm tests", "language": "python",
        "env": {"PYTHONPATH": str(ROOT)},
    }))
    return folder


def _run(cells, cwd, kernel, monkeypatch, timeout=900):
    """Execute ``cells`` as one notebook in ``cwd``; return the warnings printed, as (category, message) pairs."""
    monkeypatch.setenv("JUPYTER_PATH", str(kernel))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=timeout,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    printed = []
    for cell in notebook.cells:
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                printed.extend(match.groups() for match in map(WARNING_LINE.search, output.text.splitlines())
                               if match)
    return notebook, printed


def test_psychologist_script(tmp_path, kernel, monkeypatch):
    lvm.datasets.load_bfi().to_csv(tmp_path / "bfi.csv", index=False)
    notebook, printed = _run(PSYCHOLOGIST, tmp_path, kernel, monkeypatch)
    # An item's uniqueness on its floor is a warning she reads, not a traceback.
    unexpected = [(category, message) for category, message in printed if category != "HeywoodCaseWarning"]
    assert unexpected == []
    summary = "".join(output.get("text", "") for output in notebook.cells[3].outputs)
    assert "RMSEA" in summary and "A1" in summary


def test_data_scientist_notebook(tmp_path, kernel, monkeypatch):
    notebook, printed = _run(DATA_SCIENTIST, tmp_path, kernel, monkeypatch)
    # Raw digits have three blank pixels and, at large k, pixels their
    # neighbours determine: factor analysis says so (the story's own data),
    # and nothing else may warn.
    expected = [(category, message) for category, message in printed
                if (category == "UserWarning" and "FactorAnalysis: column(s) ['x0', 'x32', 'x39'] are constant"
                    in message) or category == "HeywoodCaseWarning"]
    assert printed == expected
    assert any("are constant" in message for _, message in printed)
    # The table renders as HTML, one row per model, and both figures are drawn.
    html = notebook.cells[4].outputs[0]["data"]["text/html"]
    assert all(f">{name}<" in html for name in ("PCA", "PPCA", "FA", "AE"))
    for index in (5, 6):
        assert any("image/png" in output.get("data", {}) for output in notebook.cells[index].outputs), index


def test_teacher_lecture(tmp_path, kernel, monkeypatch):
    notebook, printed = _run(TEACHER + ["import numpy as np\nprint(np.diff(gm.history_).min())"],
                             tmp_path, kernel, monkeypatch)
    assert printed == []
    assert any("image/png" in output.get("data", {}) for output in notebook.cells[2].outputs)
    # The log-likelihood rises at every step she shows.
    smallest_step = float(notebook.cells[-1].outputs[0]["text"])
    assert smallest_step >= 0.0


# The figures a user reads without styling them.


def _overlap(boxes):
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_comparison_labels_do_not_overlap_and_the_title_is_in_words():
    names = ["GaussianMixture", "Autoencoder (64 hidden)", "FactorAnalysis", "PPCA by EM", "PCA randomized"]
    X = np.random.default_rng(0).normal(size=(200, 6))
    table = lvm.compare({name: lvm.PCA(2) for name in names}, X, verbose=False)
    ax = lvm.plot.comparison(table, "mse_train")
    ax.figure.canvas.draw()
    labels = [label for label in ax.get_yticklabels() if label.get_text()]
    assert [label.get_text() for label in labels] == names
    assert not _overlap([label.get_window_extent() for label in labels])
    assert ax.get_title() == "Training reconstruction error (MSE)"
    # One bar per model, as long as its value, the first model on top.
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], table["mse_train"])
    assert ax.patches[0].get_y() < ax.patches[-1].get_y() and ax.yaxis_inverted()
    plt.close(ax.figure)


@pytest.mark.parametrize("metric, title", [("mse_test", "Test reconstruction error (MSE)"),
                                           ("knn_accuracy", "kNN accuracy in the latent space"),
                                           ("loglik_test", "Test log-likelihood per sample")])
def test_comparison_titles_name_the_measure(metric, title):
    X, y = lvm.datasets.load_digits(return_X_y=True)
    table = lvm.compare({"PCA": lvm.PCA(2), "AE": lvm.Autoencoder(2, epochs=5, random_state=0)}, X[:300],
                        y=y[:300], X_test=X[300:400], y_test=y[300:400], verbose=False)
    ax = lvm.plot.comparison(table, metric)
    assert ax.get_title() == title
    # The autoencoder has no likelihood: its bar says so instead of showing a zero.
    texts = [text.get_text() for text in ax.texts]
    assert ("n/a" in texts) == (metric == "loglik_test")
    plt.close(ax.figure)


def _visible_ticks(axis, limits):
    low, high = sorted(limits)
    return [tick for tick in axis.get_majorticklocs() if low <= tick <= high]


def test_counted_axes_have_whole_number_ticks():
    X = lvm.datasets.load_old_faithful()
    history = np.array([-3.0, -2.5, -2.4, -2.39])
    ax = lvm.plot.em_convergence({"EM": history})
    ticks = _visible_ticks(ax.xaxis, ax.get_xlim())
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    plt.close(ax.figure)

    curve = lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1, 2], verbose=False)
    ax = lvm.plot.compression_curve(curve)
    ticks = _visible_ticks(ax.xaxis, ax.get_xlim())
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    assert ax.get_title() == "Training reconstruction error (MSE) against latent dimension"
    plt.close(ax.figure)

    hs = lvm.datasets.load_holzinger_swineford(tests_only=True)
    ax = lvm.plot.parallel_analysis(lvm.factor.parallel_analysis(hs.iloc[:, :3], random_state=0))
    ticks = _visible_ticks(ax.xaxis, ax.get_xlim())
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    plt.close(ax.figure)


def test_ellipse_plots_say_what_the_ellipses_are():
    X = lvm.datasets.load_old_faithful()
    steps = []
    gm = lvm.GaussianMixture(2, init="random", random_state=4, callback=lambda it, params: steps.append(params)).fit(X)
    ax = lvm.plot.mixture_ellipses(gm, X)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["1 sd ellipse", "2 sd ellipse",
                                                                         "component mean"]
    plt.close(ax.figure)
    axes = lvm.plot.em_steps(steps, X, iterations=(0, 1, 2))
    # One key for the row of panels.
    assert axes[0].get_legend() is not None
    assert all(ax.get_legend() is None for ax in axes[1:])
    plt.close(axes[0].figure)


# Messages when a model cannot be fitted.


def test_compression_table_gives_the_models_own_reason():
    X, _ = lvm.datasets.load_digits(return_X_y=True)
    X = X.copy()
    X[0, 5] = np.nan
    with pytest.warns(UserWarning, match=r"PCA cannot be fitted with k in \[1, 2\].*The reason: X contains NaN"):
        curve = lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1, 2], verbose=False)
    assert curve.empty
    small = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.warns(UserWarning, match=r"k in \[4, 9\]") as caught:
        lvm.compression_table({"PPCA": lvm.PPCA()}, small, ks=[1, 2, 4, 9], verbose=False)
    # Each k's own message, once, pointing at the user's line.
    message = str(caught[0].message)
    assert "(k in [4]) PPCA: n_components=4 is too large" in message
    assert "(k in [9]) PPCA: n_components=9 is too large" in message
    assert caught[0].filename == __file__
    with pytest.warns(UserWarning, match=r"k in \[4, 9\]") as caught:
        ax = lvm.plot.compression_curve({"PPCA": lvm.PPCA()}, small, ks=[1, 2, 4, 9], verbose=False)
    assert caught[0].filename == __file__
    plt.close(ax.figure)


def test_compare_keeps_the_other_models_when_one_cannot_be_fitted():
    X, y = lvm.datasets.load_digits(return_X_y=True)
    with pytest.warns(UserWarning, match=r"compare: PPCA could not be fitted .* PPCA: n_components=70 is too large"):
        table = lvm.compare({"PCA": lvm.PCA(2), "PPCA": lvm.PPCA(70)}, X, y=y, verbose=False)
    assert list(table.index) == ["PCA", "PPCA"]
    assert table.loc["PPCA"].isna().all() and table.loc["PCA"].notna().any()
    # One model that cannot be fitted: its own error, as if fitted alone.
    with pytest.raises(ValueError, match="^PPCA: n_components=70 is too large"):
        lvm.compare({"PPCA": lvm.PPCA(70)}, X, verbose=False)
    with pytest.raises(ValueError, match="no model could be fitted.*PPCA: PPCA: n_components=70.*FA: "):
        lvm.compare({"PPCA": lvm.PPCA(70), "FA": lvm.FactorAnalysis(70)}, X, verbose=False)


class _Noisy(lvm.PCA):
    """PCA that warns at every fit, as factor analysis does on data with a Heywood case."""

    def fit(self, X, y=None):
        warnings.warn(f"noisy at k={self.n_components}", RuntimeWarning, stacklevel=2)
        warnings.warn("the same at every k", UserWarning, stacklevel=2)
        return super().fit(X, y)


def test_compression_table_tells_a_repeated_warning_once_per_kind():
    X = np.random.default_rng(0).normal(size=(50, 6))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = lvm.compression_table({"Noisy": _Noisy()}, X, ks=[1, 2, 3], verbose=False)
    assert len(curve) == 3
    messages = {warning.category: str(warning.message) for warning in caught}
    assert len(caught) == 2 and set(messages) == {RuntimeWarning, UserWarning}
    assert messages[RuntimeWarning] == ("compression_table: Noisy at k in [1, 2, 3]: noisy at k=1 "
                                        "(the first of 3 such warnings)")
    assert messages[UserWarning] == "compression_table: Noisy at k in [1, 2, 3]: the same at every k"
    assert all(warning.filename == __file__ for warning in caught)
    # A filter the user set still applies.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", RuntimeWarning)
        lvm.compression_table({"Noisy": _Noisy()}, X, ks=[1, 2], verbose=False)
    assert [warning.category for warning in caught] == [UserWarning]
