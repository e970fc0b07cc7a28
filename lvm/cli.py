"""The ``lvm`` command. It parses arguments, loads data, calls the public API
and writes results; every number it reports comes from lvm's models."""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ._summary import dataframe_to_markdown


def _demo(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.model_selection import train_test_split

    import lvm
    from lvm import plot

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    k = args.k
    print(f"lvm demo: digits, {X_train.shape[0]} training and {X_test.shape[0]} test images of 8x8 pixels")

    full = lvm.PCA().fit(X_train)
    models = {"PCA": lvm.PCA(k), "PPCA": lvm.PPCA(k)}
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - start
        rows.append({
            "model": name,
            "k": k,
            "compression (p/k)": X.shape[1] / k,
            "fit seconds": seconds,
            "train MSE": float(np.mean((model.reconstruct(X_train) - X_train) ** 2)),
            "test MSE": float(np.mean((model.reconstruct(X_test) - X_test) ** 2)),
            "test log-likelihood": model.score(X_test),
            "BIC (train)": model.bic(X_train),
        })
    table = pd.DataFrame(rows).set_index("model")
    variance = full.summary()["variance"].head(20)
    ks = [1, 2, 4, 8, 12, 16, 24, 32, 48]
    curve = pd.DataFrame({
        "k": ks,
        "test MSE": [float(np.mean((lvm.PCA(j).fit(X_train).reconstruct(X_test) - X_test) ** 2)) for j in ks],
    })

    figures = {}
    ax = plot.scree(full)
    ax.set_xlim(0, 21)
    figures["scree.png"] = ax.figure
    ax = plot.latent_scatter(models["PPCA"].transform(X_test), y_test,
                             title="PPCA posterior means, first two latents")
    figures["latent_scatter.png"] = ax.figure
    ax = plot.reconstruction_grid(X_test, models["PCA"].reconstruct(X_test), (8, 8))
    ax.set_title(f"PCA with k={k}: {X.shape[1]} pixels stored as {k} numbers")
    figures["reconstructions.png"] = ax.figure
    ax = plot.compression_curve(curve["k"], curve["test MSE"], label="PCA")
    figures["compression_curve.png"] = ax.figure
    for name, figure in figures.items():
        figure.tight_layout()
        figure.savefig(out / name, dpi=110)
        plt.close(figure)

    tables = {"models": table, "variance": variance, "compression_curve": curve.set_index("k")}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv")
        (out / f"{name}.md").write_text(dataframe_to_markdown(frame) + "\n")
    report = [
        "# lvm demo: latent variables of handwritten digits",
        "",
        f"Scikit-learn's 1797 digits (8x8 pixels, 64 features), split into {len(X_train)} "
        f"training and {len(X_test)} test images. Each model compresses an image to k = {k} "
        "latent values and reconstructs it from them.",
        "",
        "## Models",
        "",
        dataframe_to_markdown(table),
        "",
        "PPCA is the maximum-likelihood Gaussian model behind PCA; its reconstruction goes "
        "through the posterior mean of the latents, which shrinks towards the mean, so its "
        "squared error is a little higher while its likelihood is the highest possible.",
        "",
        "## Variance explained by each principal component",
        "",
        dataframe_to_markdown(variance),
        "",
        "![scree](scree.png)",
        "",
        "## Compression curve (PCA, test images)",
        "",
        dataframe_to_markdown(curve.set_index("k")),
        "",
        "![compression curve](compression_curve.png)",
        "",
        "## Latent space",
        "",
        "![latent scatter](latent_scatter.png)",
        "",
        "## Reconstructions",
        "",
        "![reconstructions](reconstructions.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(report))
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"report written to {out.resolve() / 'report.md'}")
    return 0


def build_parser():
    """The argument parser of the ``lvm`` command."""
    parser = argparse.ArgumentParser(prog="lvm", description="Classical latent variable models.")
    parser.add_argument("--version", action="version", version=f"lvm {__import__('lvm').__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="fit the models on handwritten digits and write a report",
        description="Fit PCA and probabilistic PCA on scikit-learn's digits and write a report "
        "(Markdown and CSV tables, PNG figures) into a folder.",
    )
    demo.add_argument("--out", default="lvm-demo", help="folder for the report (default: lvm-demo)")
    demo.add_argument("-k", type=int, default=10, help="latent dimension (default: 10)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None):
    """Entry point of the ``lvm`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        print(f"lvm: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
