"""The ``lvm`` command. It parses arguments, loads data, calls the public API
and writes results; every number it reports comes from lvm's models.

Subcommands: ``demo`` (the whole story on digits), ``fit`` (one model on a CSV
file), ``compare`` (several models on a CSV file) and ``select`` (how many
factors, components or clusters). Each prints a short summary and writes
tables (CSV and Markdown) and figures (PNG) to ``--out``, once the command has
succeeded. A bad file or value gives one line on standard error and exit
status 1; a malformed command line, one line and status 2; Ctrl-C, 130.
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._cli_input import CommandError, read_table
from ._summary import Summary
from .report import check_output_folder, save_figure, staged_output, write_table

MODELS = {
    "pca": "PCA",
    "ppca": "PPCA",
    "fa": "FactorAnalysis",
    "gmm": "GaussianMixture",
    "mfa": "MixtureOfFactorAnalyzers",
    "mppca": "MixtureOfPPCA",
    "ae": "Autoencoder",
}


# Options shared by the commands that read a CSV file.
_COLUMNS_HELP = ("columns to fit: comma-separated names and ranges FIRST:LAST or FIRST-LAST, a range being every "
                 "column from FIRST to LAST in file order (e.g. x1-x9, or A1:O5,age); default: all columns")


def _add_data_options(parser, missing, missing_help, id_help):
    parser.add_argument("data", help="CSV file with a header row")
    parser.add_argument("--columns", metavar="LIST", help=_COLUMNS_HELP)
    parser.add_argument("--drop", metavar="LIST", help="columns to leave out (same syntax as --columns)")
    parser.add_argument("--id", metavar="COL", dest="id_column", help=id_help)
    parser.add_argument("--sep", metavar="CHAR", help="field delimiter: ',', ';', '|' or tab "
                        "(default: guessed from the first lines of the file)")
    parser.add_argument("--decimal", metavar="CHAR", default=".",
                        help="decimal mark: '.' (default) or ',' as in files from a German or French spreadsheet")
    parser.add_argument("--missing", choices=missing, help=missing_help)


def _read(args, labels=None, missing_choices=("em", "drop")):
    return read_table(args.data, sep=args.sep, decimal=args.decimal, columns=args.columns, drop=args.drop,
                      id_column=args.id_column, labels=labels, missing=args.missing, missing_choices=missing_choices,
                      allow_labels=hasattr(args, "labels"))


def _use_agg():
    import matplotlib

    matplotlib.use("Agg")


def _drop_constant(frame):
    constant = [c for c in frame.columns if frame[c].nunique(dropna=True) <= 1]
    if constant:
        print(f"dropped constant column(s) {constant}: they carry no information")
    return frame.drop(columns=constant)


# Models that marginalise missing entries (missing="em").
_MISSING_EM = ("ppca", "fa", "gmm", "mfa", "mppca")
# Mixtures: their scores come with each row's component; the low-rank ones have loadings per component.
_MIXTURES = ("gmm", "mfa", "mppca")
_LOW_RANK_MIXTURES = ("mfa", "mppca")
# Gaussian mixtures' covariance structures: lvm's names, then mclust's.
_STRUCTURES = ("full", "tied", "diag", "spherical", "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE",
               "VVE", "EEV", "VEV", "EVV", "VVV")
# Options of some models only: the option, its attribute, the models and how a message names them.
_MODEL_OPTIONS = (("--rotation", "rotation", ("fa",), "factor analysis (fa)"),
                  ("--method", "method", ("fa",), "factor analysis (fa)"),
                  ("--covariances", "covariances", ("gmm",), "gmm"),
                  ("--structure", "structure", ("gmm",), "gmm"),
                  ("--factors", "factors", _LOW_RANK_MIXTURES, "mfa and mppca"))


def _model(args):
    import lvm

    name, k = args.model, args.k
    for option, attribute, owners, who in _MODEL_OPTIONS:
        if getattr(args, attribute) not in (None, False) and name not in owners:
            raise CommandError(f"{option} applies to {who}, not to {name}")
    if name in _LOW_RANK_MIXTURES and args.factors is None:
        raise CommandError(f"{name} needs --factors Q, the number of factors of each component (-k is the number "
                           "of components)")
    if args.missing == "em" and name not in _MISSING_EM:
        raise CommandError(f"{name} cannot use --missing em (only ppca, fa, gmm, mfa and mppca marginalise missing "
                           "entries); use --missing drop")
    missing = {"missing": "em"} if args.missing == "em" else {}
    # k goes first and by position: the models name it differently.
    if name == "fa":
        return lvm.FactorAnalysis(k, rotation=args.rotation, method=args.method or "ml", **missing)
    if name == "gmm":
        return lvm.GaussianMixture(k, covariance_type=args.structure or "full", random_state=0, verbose=1,
                                   **missing)
    if name == "mfa":
        return lvm.MixtureOfFactorAnalyzers(k, args.factors, random_state=0, verbose=1, **missing)
    if name == "mppca":
        return lvm.MixtureOfPPCA(k, args.factors, random_state=0, verbose=1, **missing)
    if name == "ppca":
        return lvm.PPCA(k, **missing)
    if name == "ae":
        return lvm.Autoencoder(k, random_state=0, verbose=1)
    return lvm.PCA(k)


def _component_loadings(blocks):
    """Each component's loadings (the blocks of the summary's ``loadings`` table) as heatmaps side by side."""
    import matplotlib.pyplot as plt

    from . import plot

    labels = list(dict.fromkeys(blocks.index.get_level_values(0)))
    rows, factors = len(blocks) // len(labels), blocks.shape[1]
    figure, axes = plt.subplots(1, len(labels), squeeze=False,
                                figsize=(min(2.0 + 1.2 * factors, 6.0) * len(labels), 1.5 + 0.35 * rows))
    for ax, label in zip(axes[0], labels, strict=True):
        plot.loadings(blocks.loc[label], ax=ax)
        ax.set_title(label)
    return figure


def _proportionate(summary, args):
    """The summary without tables that grow with the square of the columns, unless asked for."""
    if "covariances" not in summary.tables or args.covariances:
        return summary
    tables = {name: table for name, table in summary.tables.items() if name != "covariances"}
    notes = summary.notes + ["Per-component covariances are in model.npz; add --covariances to print and "
                             "write them as tables."]
    return Summary(summary.title, summary.info, tables, notes)


# ------------------------------------------------------------------- commands


def _fit(args):
    _use_agg()
    check_output_folder(args.out)
    model = _model(args)
    frame, _ = _read(args, missing_choices=("em", "drop") if args.model in _MISSING_EM else ("drop",))
    start = time.perf_counter()
    model.fit(frame)
    seconds = time.perf_counter() - start
    summary = _proportionate(model.summary(), args)
    scores = model.transform(frame)
    columns = [f"Z{j + 1}" for j in range(np.shape(scores)[1])]
    if args.model == "fa" and hasattr(model, "loadings_") and hasattr(model.loadings_, "columns"):
        columns = [str(c) for c in model.loadings_.columns]
    if args.model in _LOW_RANK_MIXTURES:
        columns = [str(c) for c in model.get_feature_names_out()]
    scores = pd.DataFrame(np.asarray(scores), index=frame.index, columns=columns)
    responsibilities = None
    if args.model in _MIXTURES:
        scores["component"] = model.predict(frame)
    if args.model in _LOW_RANK_MIXTURES:
        # A Gaussian mixture's scores are its responsibilities already.
        responsibilities = pd.DataFrame(model.predict_proba(frame), index=frame.index,
                                        columns=[f"component {j}" for j in range(model.n_components)])
    index_label = frame.index.name or "row"
    with staged_output(args.out) as out:
        (out / "summary.md").write_text(summary.to_markdown(), encoding="utf-8")
        for name, table in summary.tables.items():
            write_table(out, f"summary_{name.replace(' ', '_')}", pd.DataFrame(table))
        scores.to_csv(out / "scores.csv", index_label=index_label)
        if responsibilities is not None:
            responsibilities.to_csv(out / "responsibilities.csv", index_label=index_label)
        model.save(out / "model.npz")
        if args.model in ("pca", "ppca", "fa"):
            from . import plot

            save_figure(out, "loadings.png", plot.loadings(model))
        if args.model in _LOW_RANK_MIXTURES:
            save_figure(out, "loadings.png", _component_loadings(summary.tables["loadings"]))
    # Printed once the results are safe: a reader that stops early (``| head``) cannot cost them.
    print(summary)
    print(f"fitted in {seconds:.2f} s")
    print(f"summary, scores and model written to {Path(args.out).resolve()} (model.npz)")
    return 0


def _split(frame, y, args):
    from sklearn.model_selection import train_test_split

    if not 0 < args.test_size < 1:
        raise CommandError(f"--test-size {args.test_size} must be a share between 0 and 1")
    n_train = len(frame) - int(np.ceil(args.test_size * len(frame)))
    if n_train < max(2, args.k + 1):
        raise CommandError(f"--test-size {args.test_size} leaves {n_train} training row(s) of {len(frame)}; "
                           f"-k {args.k} needs at least {max(2, args.k + 1)}: lower --test-size")
    if y is not None and len(np.unique(y)) < 2:
        raise CommandError(f"label column {args.labels!r} has a single value; kNN accuracy needs two classes or more")
    split = train_test_split(frame, *([y] if y is not None else []), test_size=args.test_size, random_state=0)
    # Columns constant on the training rows are dropped from both parts.
    X_train = _drop_constant(split[0])
    X_test = split[1][X_train.columns]
    if args.k >= X_train.shape[1]:
        raise CommandError(f"-k {args.k} is too large: the data have {X_train.shape[1]} usable columns; "
                           "the latent dimension must be below that")
    y_train, y_test = (split[2], split[3]) if y is not None else (None, None)
    return X_train, X_test, y_train, y_test


def _compare(args):
    _use_agg()
    import lvm
    from lvm import plot

    check_output_folder(args.out)
    frame, y = _read(args, labels=args.labels, missing_choices=("drop",))
    X_train, X_test, y_train, y_test = _split(frame, y, args)
    k = args.k
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
    with staged_output(args.out) as out:
        write_table(out, "compare", table)
        save_figure(out, "compare.png", plot.comparison(table))
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"tables and figure written to {Path(args.out).resolve()}")
    return 0


def _choices(frame, args):
    """What each method suggests, and the tables behind it."""
    import lvm

    gaps = bool(frame.isna().to_numpy().any())
    try:
        result = lvm.factor.parallel_analysis(frame, random_state=0)
    except np.linalg.LinAlgError:
        raise CommandError(f"{args.data}: the correlation matrix is singular (duplicated columns, or fewer rows "
                           "than columns); drop the redundant columns") from None
    correlations = "pairwise-complete correlation matrix" if gaps else "correlation matrix"
    rows = {"factors": [result.n_factors, f"parallel analysis (Horn 1965), reduced {correlations}"],
            "components": [result.n_components, f"parallel analysis (Horn 1965), {correlations}"]}
    if gaps:
        print("PPCA dimension not suggested: Minka's evidence needs complete rows (try --missing drop)")
    else:
        rows["PPCA dimension"] = [lvm.PPCA("mle").fit(frame).n_components_, "probabilistic PCA evidence (Minka 2000)"]
    tables = {}
    missing = {"missing": "em"} if gaps else {}
    clusters = range(1, args.max_clusters + 1)
    if args.mixtures:
        structures = [name.strip() for name in args.structures.split(",")] if args.structures else None
        tables["mixtures"], best = lvm.select_mixture(frame, n_components=clusters, covariance_types=structures,
                                                      random_state=0, **missing)
        rows["clusters"] = [best.n_components, f"Gaussian mixture, BIC ({best.covariance_type})"]
    if args.mfa:
        factors = range(1, min(args.max_factors, frame.shape[1] - 1) + 1)
        tables["mfa"], best = lvm.select_mixture(frame, model="mfa", n_components=clusters, n_factors=factors,
                                                 random_state=0, **missing)
        rows["MFA clusters"] = [best.n_components, "mixture of factor analyzers, BIC"]
        rows["MFA factors"] = [best.n_factors, "mixture of factor analyzers, BIC (factors per cluster)"]
    choices = pd.DataFrame.from_dict(rows, orient="index", columns=["suggested", "method"])
    return choices.rename_axis("what"), result, tables


def _select(args):
    _use_agg()
    from lvm import plot

    if args.structures is not None and not args.mixtures:
        raise CommandError("--structures chooses the structures of --mixtures; add --mixtures")
    if args.max_clusters < 1:
        raise CommandError(f"--max-clusters {args.max_clusters} must be at least 1")
    if args.max_factors < 1:
        raise CommandError(f"--max-factors {args.max_factors} must be at least 1")
    check_output_folder(args.out)
    frame, _ = _read(args)
    frame = _drop_constant(frame)
    if frame.shape[1] < 2:
        raise CommandError(f"{args.data} has {frame.shape[1]} varying column(s); choosing a number of factors "
                           "needs at least two")
    choices, result, tables = _choices(frame, args)
    with staged_output(args.out) as out:
        for name, table in tables.items():
            write_table(out, name, table)
        write_table(out, "choices", choices)
        write_table(out, "parallel_analysis", result.table)
        save_figure(out, "parallel_analysis.png", plot.parallel_analysis(result))
    print(choices.to_string())
    print(f"tables and figure written to {Path(args.out).resolve()}")
    return 0


def _demo(args):
    from .demo import run_demo

    _use_agg()
    return run_demo(args.out, args.k)


# --------------------------------------------------------------------- parser


def _add_fit(commands):
    fit = commands.add_parser(
        "fit", help="fit one model to a CSV file",
        description="Fit one model to the numeric columns of a CSV file (or those chosen with --columns "
        "and --drop); write its summary, the latent scores (scores.csv, keyed by --id or the row number) "
        "and the fitted model (model.npz, read back with lvm.load). A mixture's scores.csv adds each row's "
        "most probable component; mfa and mppca also write each row's responsibilities "
        "(responsibilities.csv) and each component's loadings (summary_loadings.csv, loadings.png).",
    )
    fit.add_argument("model", choices=sorted(MODELS),
                     help="pca, ppca, fa (factor analysis), gmm (Gaussian mixture), mfa (mixture of factor "
                     "analyzers), mppca (mixture of probabilistic PCA), ae (autoencoder)")
    _add_data_options(fit, ["em", "drop"],
                      "rows with missing entries: em fits the observed entries by EM (ppca, fa, gmm, mfa, mppca), "
                      "drop keeps complete rows only (default: missing entries are an error)",
                      "identifier column: the key of scores.csv, not fitted")
    fit.add_argument("-k", type=int, required=True,
                     help="latent dimension: factors (fa), components (pca, ppca, ae), clusters (gmm, mfa, mppca)")
    fit.add_argument("--factors", type=int, metavar="Q",
                     help="mfa and mppca (required there): the number of factors of each cluster")
    fit.add_argument("--rotation", help="factor rotation (fa only): varimax, promax, oblimin, quartimax, ...")
    fit.add_argument("--method", choices=["ml", "minres", "principal"],
                     help="factor extraction (fa only): maximum likelihood (default), minimum residual, principal axis")
    fit.add_argument("--structure", choices=_STRUCTURES, metavar="NAME",
                     help="gmm only: the covariance structure, full (default), tied, diag, spherical or one of "
                          "mclust's names EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV")
    fit.add_argument("--covariances", action="store_true",
                     help="gmm only: also print and write the covariance matrix of every component")
    fit.add_argument("--out", default="lvm-fit", help="output folder (default: lvm-fit)")
    fit.set_defaults(run=_fit)


def _add_compare(commands):
    compare = commands.add_parser(
        "compare", help="compare PCA, PPCA, factor analysis and an autoencoder on a CSV file",
        description="Fit PCA, PPCA, factor analysis and an autoencoder with latent dimension k on a "
        "training split and report reconstruction error, held-out log-likelihood, BIC, kNN accuracy "
        "and trustworthiness (lvm.compare).",
    )
    _add_data_options(compare, ["drop"],
                      "drop: keep complete rows only (PCA and the autoencoder need them; default: missing "
                      "entries are an error)", "identifier column, not fitted")
    compare.add_argument("-k", type=int, required=True, help="latent dimension")
    compare.add_argument("--labels", help="column holding class labels (used for kNN accuracy, not fitted)")
    compare.add_argument("--test-size", type=float, default=0.25, help="share of rows held out (default: 0.25)")
    compare.add_argument("--out", default="lvm-compare", help="output folder (default: lvm-compare)")
    compare.set_defaults(run=_compare)


def _add_select(commands):
    select = commands.add_parser(
        "select", help="suggest the number of factors, components (and clusters)",
        description="Parallel analysis for the number of factors and components, Minka's evidence for "
        "the PPCA dimension and, with --mixtures, a BIC table of Gaussian mixtures (mixtures.csv); with "
        "--mfa, a BIC table of mixtures of factor analyzers over the number of clusters and of factors "
        "per cluster (mfa.csv).",
    )
    _add_data_options(select, ["em", "drop"],
                      "rows with missing entries: em uses them (pairwise-complete correlations for parallel "
                      "analysis, EM for mixtures), drop keeps complete rows only (default: an error)",
                      "identifier column, not used")
    select.add_argument("--mixtures", action="store_true", help="also choose a Gaussian mixture by BIC")
    select.add_argument("--mfa", action="store_true",
                        help="also choose a mixture of factor analyzers (clusters and factors per cluster) by BIC")
    select.add_argument("--structures", metavar="NAMES",
                        help="with --mixtures: covariance structures to try, comma-separated (full, tied, diag, "
                             "spherical or mclust's EII ... VVV; default: all fourteen of mclust's)")
    select.add_argument("--max-clusters", type=int, default=6, help="largest mixture tried (default: 6)")
    select.add_argument("--max-factors", type=int, default=3,
                        help="most factors per cluster tried with --mfa (default: 3; always fewer than the columns)")
    select.add_argument("--out", default="lvm-select", help="output folder (default: lvm-select)")
    select.set_defaults(run=_select)


def build_parser():
    """The argument parser of the ``lvm`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, with the subcommands demo, fit, compare and select.
    """
    parser = _Parser(prog="lvm", description="Classical latent variable models.")
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
    _add_fit(commands)
    _add_compare(commands)
    _add_select(commands)
    return parser


def _warning_line(message, category, filename, lineno, file=None, line=None):
    """Show a warning as one line, as the command's other messages are."""
    # One write, newline included: a Ctrl-C between two writes would glue the
    # next message to this one.
    (sys.stderr if file is None else file).write(f"warning: {' '.join(str(message).split())}\n")


def _silence_stdout():
    """Point standard output at the null device once its reader has gone (``lvm ... | head``).

    Python would otherwise report the broken pipe again when it flushes
    standard output on exit.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, as the command's other errors are."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


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
        without a command or on a malformed command line (argparse's
        convention), 130 when interrupted (Ctrl-C).
    """
    from .exceptions import ModelFileError

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    # catch_warnings puts back the caller's filters and showwarning on the way out.
    with warnings.catch_warnings():
        warnings.showwarning = _warning_line
        try:
            return args.run(args)
        except KeyboardInterrupt:
            print("lvm: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            _silence_stdout()
            return 1
        except (CommandError, ValueError, TypeError, OSError, ModelFileError) as exc:
            message = " ".join(str(exc).split())
            print(f"lvm: error: {message}", file=sys.stderr)
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
