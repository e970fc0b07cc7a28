"""The ``lvm`` command. It parses arguments, loads data, calls the public API
and writes results; every number it reports comes from lvm's models.

Subcommands: ``demo`` (the whole story on digits), ``fit`` (one model on a CSV
file), ``compare`` (several models on a CSV file) and ``select`` (how many
factors, components or clusters). Each prints a short summary and writes
tables (CSV and Markdown) and figures (PNG) to ``--out``; a bad file or
argument gives one line on standard error and exit status 1.
"""

import argparse
import html
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._summary import dataframe_to_markdown

MODELS = {
    "pca": "PCA",
    "ppca": "PPCA",
    "fa": "FactorAnalysis",
    "gmm": "GaussianMixture",
    "ae": "Autoencoder",
}


class CommandError(Exception):
    """A problem with the command's input, reported as one line."""


# --------------------------------------------------------------------- output


class Report:
    """A report written as Markdown and HTML from the same blocks."""

    def __init__(self, title):
        self.title = title
        self.blocks = []

    def heading(self, text):
        self.blocks.append(("h2", text))

    def text(self, text):
        self.blocks.append(("p", text))

    def table(self, frame):
        self.blocks.append(("table", frame))

    def figure(self, filename, caption):
        self.blocks.append(("img", (filename, caption)))

    def markdown(self):
        lines = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "h2":
                lines += [f"## {value}", ""]
            elif kind == "p":
                lines += [value, ""]
            elif kind == "table":
                lines += [dataframe_to_markdown(value), ""]
            else:
                lines += [f"![{value[1]}]({value[0]})", ""]
        return "\n".join(lines)

    def html(self):
        parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
                 f"<title>{html.escape(self.title)}</title>",
                 "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
                 "img{max-width:100%}</style></head><body>", f"<h1>{html.escape(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "h2":
                parts.append(f"<h2>{html.escape(value)}</h2>")
            elif kind == "p":
                parts.append(f"<p>{html.escape(value)}</p>")
            elif kind == "table":
                parts.append(value.to_html(float_format=lambda v: f"{v:.4g}"))
            else:
                parts.append(f"<figure><img src='{html.escape(value[0])}' alt='{html.escape(value[1])}'>"
                             f"<figcaption>{html.escape(value[1])}</figcaption></figure>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, out):
        (out / "report.md").write_text(self.markdown())
        (out / "report.html").write_text(self.html())


def _output_folder(path):
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _write_table(out, name, frame):
    frame.to_csv(out / f"{name}.csv")
    (out / f"{name}.md").write_text(dataframe_to_markdown(frame) + "\n")


def _save_figure(out, name, ax_or_figure):
    import matplotlib.pyplot as plt

    figure = getattr(ax_or_figure, "figure", ax_or_figure)
    figure.tight_layout()
    figure.savefig(out / name, dpi=110)
    plt.close(figure)


def _use_agg():
    import matplotlib

    matplotlib.use("Agg")


# ----------------------------------------------------------------------- data


def _read_csv(path, labels=None, allow_labels=False):
    """Numeric data (DataFrame) and the label column, with one-line errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(f"{path} is not a readable CSV file ({first})") from None
    if frame.empty:
        raise CommandError(f"{path} has no data rows")
    first = str(frame.columns[0])
    if (first == "" or first.startswith("Unnamed: 0")) and np.array_equal(frame.iloc[:, 0], np.arange(len(frame))):
        # A row index written by pandas' to_csv: row labels, not data.
        frame = frame.set_index(frame.columns[0]).rename_axis(None)
    y = None
    if labels is not None:
        if labels not in frame.columns:
            raise CommandError(f"{path} has no column {labels!r}; its columns are {list(frame.columns)}")
        y = frame.pop(labels)
        if y.isna().any():
            raise CommandError(f"label column {labels!r} has {int(y.isna().sum())} missing entries")
        y = y.to_numpy()
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        hint = "name a label column with --labels, or remove them" if allow_labels else "remove them"
        raise CommandError(f"{path}: column(s) {bad} are not numeric; lvm models need numbers ({hint})")
    if frame.isna().to_numpy().any():
        raise CommandError(f"{path} has {int(frame.isna().to_numpy().sum())} missing entries; fill or drop them "
                           "(in Python, PPCA, FactorAnalysis and GaussianMixture take missing='em')")
    return frame, y


def _drop_constant(frame):
    constant = [c for c in frame.columns if frame[c].nunique(dropna=True) <= 1]
    if constant:
        print(f"dropped constant column(s) {constant}: they carry no information")
    return frame.drop(columns=constant)


def _model(name, k, rotation=None, random_state=0, verbose=0):
    import lvm

    if rotation is not None and name != "fa":
        raise CommandError(f"--rotation applies to factor analysis (fa), not to {name}")
    if name == "fa":
        return lvm.FactorAnalysis(k, rotation=rotation)
    if name == "gmm":
        return lvm.GaussianMixture(k, random_state=random_state, verbose=verbose)
    if name == "ae":
        return lvm.Autoencoder(k, random_state=random_state, verbose=verbose)
    return getattr(lvm, MODELS[name])(k)


# ------------------------------------------------------------------- commands


def _fit(args):
    _use_agg()
    frame, _ = _read_csv(args.data)
    model = _model(args.model, args.k, args.rotation, verbose=1)
    start = time.perf_counter()
    model.fit(frame)
    seconds = time.perf_counter() - start
    # Created only once the fit has succeeded: a failed command leaves no folder behind.
    out = _output_folder(args.out)
    summary = model.summary()
    print(summary)
    print(f"fitted in {seconds:.2f} s")
    (out / "summary.md").write_text(summary.to_markdown())
    for name, table in summary.tables.items():
        _write_table(out, f"summary_{name.replace(' ', '_')}", pd.DataFrame(table))
    scores = model.transform(frame)
    columns = [f"Z{j + 1}" for j in range(np.shape(scores)[1])]
    if args.model == "fa" and hasattr(model, "loadings_") and hasattr(model.loadings_, "columns"):
        columns = [str(c) for c in model.loadings_.columns]
    scores = pd.DataFrame(np.asarray(scores), index=frame.index, columns=columns)
    if args.model == "gmm":
        scores["component"] = model.predict(frame)
    scores.to_csv(out / "scores.csv", index_label="row")
    path = model.save(out / "model.npz")
    if args.model in ("pca", "ppca", "fa"):
        from . import plot

        _save_figure(out, "loadings.png", plot.loadings(model))
    print(f"summary, scores and model written to {out.resolve()} ({path.name})")
    return 0


def _compare(args):
    _use_agg()
    from sklearn.model_selection import train_test_split

    import lvm
    from lvm import plot

    frame, y = _read_csv(args.data, args.labels, allow_labels=True)
    k = args.k
    if y is not None and len(np.unique(y)) < 2:
        raise CommandError(f"label column {args.labels!r} has a single value; kNN accuracy needs two classes or more")
    split = train_test_split(frame, *([y] if y is not None else []), test_size=args.test_size, random_state=0)
    # Columns constant on the training rows are dropped from both parts.
    X_train = _drop_constant(split[0])
    X_test = split[1][X_train.columns]
    if k >= X_train.shape[1]:
        raise CommandError(f"-k {k} is too large: the data have {X_train.shape[1]} usable columns; "
                           "the latent dimension must be below that")
    y_train, y_test = (split[2], split[3]) if y is not None else (None, None)
    models = {"PCA": lvm.PCA(k), "PPCA": lvm.PPCA(k), "FA": lvm.FactorAnalysis(k),
              "Autoencoder": lvm.Autoencoder(k, random_state=0, verbose=1)}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lvm.exceptions.HeywoodCaseWarning)
        for name, model in models.items():
            # One model the data do not suit (factor analysis on a singular
            # correlation matrix, say) should not cost the user the others.
            try:
                rows.append(lvm.compare({name: model}, X_train, y=y_train, X_test=X_test, y_test=y_test))
            except ValueError as exc:
                print(f"skipped {name}: {' '.join(str(exc).split())}")
    if not rows:
        raise CommandError("no model could be fitted to these data (see the lines above)")
    table = pd.concat(rows)
    out = _output_folder(args.out)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    _write_table(out, "compare", table)
    _save_figure(out, "compare.png", plot.comparison(table))
    print(f"tables and figure written to {out.resolve()}")
    return 0


def _select(args):
    _use_agg()
    import lvm
    from lvm import plot

    if args.max_clusters < 1:
        raise CommandError(f"--max-clusters {args.max_clusters} must be at least 1")
    frame, _ = _read_csv(args.data)
    frame = _drop_constant(frame)
    if frame.shape[1] < 2:
        raise CommandError(f"{args.data} has {frame.shape[1]} varying column(s); choosing a number of factors "
                           "needs at least two")
    try:
        result = lvm.factor.parallel_analysis(frame, random_state=0)
    except np.linalg.LinAlgError:
        raise CommandError(f"{args.data}: the correlation matrix is singular (duplicated columns, or fewer rows "
                           "than columns); drop the redundant columns") from None
    ppca = lvm.PPCA("mle").fit(frame)
    choices = pd.DataFrame(
        {"suggested": [result.n_factors, result.n_components, ppca.n_components_],
         "method": ["parallel analysis (Horn 1965), reduced correlation matrix",
                    "parallel analysis (Horn 1965), correlation matrix",
                    "probabilistic PCA evidence (Minka 2000)"]},
        index=pd.Index(["factors", "components", "PPCA dimension"], name="what"),
    )
    if args.mixtures:
        mixtures, best = lvm.select_mixture(frame, n_components=range(1, args.max_clusters + 1), random_state=0)
        choices.loc["clusters"] = [best.n_components, f"Gaussian mixture, BIC ({best.covariance_type})"]
    print(choices.to_string())
    out = _output_folder(args.out)
    if args.mixtures:
        _write_table(out, "mixtures", mixtures)
    _write_table(out, "choices", choices)
    _write_table(out, "parallel_analysis", result.table)
    _save_figure(out, "parallel_analysis.png", plot.parallel_analysis(result))
    print(f"tables and figure written to {out.resolve()}")
    return 0


def _demo(args):
    from .demo import run_demo

    _use_agg()
    return run_demo(args.out, args.k)


# --------------------------------------------------------------------- parser


def build_parser():
    """The argument parser of the ``lvm`` command."""
    parser = argparse.ArgumentParser(prog="lvm", description="Classical latent variable models.")
    parser.add_argument("--version", action="version", version=f"lvm {__import__('lvm').__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="fit every model on handwritten digits and write a report",
        description="Fit PCA, probabilistic PCA, factor analysis, a Gaussian mixture and an autoencoder "
        "on scikit-learn's digits and write a report (Markdown, HTML, CSV tables, PNG figures).",
    )
    demo.add_argument("--out", default="lvm-demo", help="folder for the report (default: lvm-demo)")
    demo.add_argument("-k", type=int, default=10, help="latent dimension (default: 10)")
    demo.set_defaults(run=_demo)

    fit = commands.add_parser(
        "fit", help="fit one model to a CSV file",
        description="Fit one model to the numeric columns of a CSV file; write its summary, the latent "
        "scores (scores.csv) and the fitted model (model.npz, read back with lvm.load).",
    )
    fit.add_argument("model", choices=sorted(MODELS), help="pca, ppca, fa (factor analysis), gmm, ae")
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("-k", type=int, required=True, help="latent dimension (factors, components, clusters)")
    fit.add_argument("--rotation", help="factor rotation (fa only): varimax, promax, oblimin, quartimax, ...")
    fit.add_argument("--out", default="lvm-fit", help="output folder (default: lvm-fit)")
    fit.set_defaults(run=_fit)

    compare = commands.add_parser(
        "compare", help="compare PCA, PPCA, factor analysis and an autoencoder on a CSV file",
        description="Fit PCA, PPCA, factor analysis and an autoencoder with latent dimension k on a "
        "training split and report reconstruction error, held-out log-likelihood, BIC, kNN accuracy "
        "and trustworthiness (lvm.compare).",
    )
    compare.add_argument("data", help="CSV file with a header row")
    compare.add_argument("-k", type=int, required=True, help="latent dimension")
    compare.add_argument("--labels", help="column holding class labels (used for kNN accuracy, not fitted)")
    compare.add_argument("--test-size", type=float, default=0.25, help="share of rows held out (default: 0.25)")
    compare.add_argument("--out", default="lvm-compare", help="output folder (default: lvm-compare)")
    compare.set_defaults(run=_compare)

    select = commands.add_parser(
        "select", help="suggest the number of factors, components (and clusters)",
        description="Parallel analysis for the number of factors and components, Minka's evidence for "
        "the PPCA dimension and, with --mixtures, a BIC table of Gaussian mixtures.",
    )
    select.add_argument("data", help="CSV file with a header row")
    select.add_argument("--mixtures", action="store_true", help="also choose a Gaussian mixture by BIC")
    select.add_argument("--max-clusters", type=int, default=6, help="largest mixture tried (default: 6)")
    select.add_argument("--out", default="lvm-select", help="output folder (default: lvm-select)")
    select.set_defaults(run=_select)
    return parser


def main(argv=None):
    """Entry point of the ``lvm`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on an error (printed as one line), 2
        without a command.
    """
    from .exceptions import ModelFileError

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (CommandError, ValueError, TypeError, OSError, ModelFileError) as exc:
        message = " ".join(str(exc).split())
        print(f"lvm: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
