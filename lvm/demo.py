"""``lvm demo``: every model on handwritten digits, written up as a report.

The report tells the story of latent variables as compression: each model
stores an 8x8 image as ``k`` numbers and decompresses it, more or less
lossily; similar digits lie close together in the latent space; a mixture
finds classes without labels; EM raises the likelihood at every step.
"""

import numbers
import time
import warnings
from pathlib import Path

import numpy as np

from .report import Report, check_output_folder, save_figure, staged_output, write_table


def _expand(rows, keep, fill):
    """Images with the constant pixels put back (they were left out of the fits)."""
    full = np.tile(fill, (len(rows), 1))
    full[:, keep] = rows
    return full


def _digits(k):
    """Training and test splits of the informative pixels; refuses a ``k`` out of range first."""
    from sklearn.model_selection import train_test_split

    import lvm

    X_all, y = lvm.datasets.load_digits(return_X_y=True)
    # Three border pixels are blank in every image: no model can learn from a
    # constant, and factor analysis (which works on correlations) needs variance.
    keep = X_all.std(axis=0) > 0
    p = int(keep.sum())
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k < p:
        raise ValueError(f"n_components={k} is out of range for the demo: choose k from 1 to {p - 1}")
    X = X_all[:, keep]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    return {"X_all": X_all, "keep": keep, "X_train": X_train, "X_test": X_test, "y_train": y_train,
            "y_test": y_test, "p": p}


def _fit_models(data, k):
    """The five models compared at latent dimension ``k``, and the compression curve."""
    import lvm

    from .exceptions import DegenerateComponentWarning, HeywoodCaseWarning

    models = {
        "PCA": lvm.PCA(k),
        "PPCA": lvm.PPCA(k),
        "FA": lvm.FactorAnalysis(k),
        # An eigenvalue floor of 0.1 (pixels are integers 0-16) keeps a component
        # from shrinking onto a pixel that is nearly constant within its class,
        # which would make the training likelihood soar and the test one collapse.
        "GaussianMixture": lvm.GaussianMixture(k, covariance_type="full", reg_covar=0.1, random_state=0),
        "Autoencoder": lvm.Autoencoder(k, hidden=(64,), random_state=0),
    }
    X_train, X_test = data["X_train"], data["X_test"]
    with warnings.catch_warnings():
        # Several pixels are almost determined by their neighbours: Heywood
        # cases are expected here and reported in the FA summary instead.
        warnings.simplefilter("ignore", HeywoodCaseWarning)
        # Likewise a mixture component with fewer images than pixels: its
        # covariance rests on the floor, as the report says.
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        table = lvm.compare(models, X_train, y=data["y_train"], X_test=X_test, y_test=data["y_test"])
        curve_models = {"PCA": lvm.PCA(), "FA": lvm.FactorAnalysis(),
                        "Autoencoder": lvm.Autoencoder(hidden=(64,), epochs=150, random_state=0)}
        curve = lvm.compression_table(curve_models, X_train, [1, 2, 4, 8, 16, 32], X_test=X_test)
    return models, table, curve


def _figures(data, models, table, curve, k):
    """The report's figures by file name."""
    import matplotlib.pyplot as plt

    import lvm
    from lvm import plot

    X_train, X_test, y_test, keep = data["X_train"], data["X_test"], data["y_test"], data["keep"]
    figures = {}
    ax = plot.scree(lvm.PCA().fit(X_train))
    ax.set_xlim(0, 21)
    figures["scree.png"] = ax
    figures["latent_scatter.png"] = plot.latent_scatter(
        lvm.PCA(2).fit(X_train).transform(X_test), labels=y_test, title="PCA, first two components")
    figures["latent_tsne.png"] = plot.latent_scatter(
        models["Autoencoder"], X_test, labels=y_test, method="tsne",
        title=f"Autoencoder's {k}-D codes, by t-SNE")
    fill = data["X_all"].mean(axis=0)
    figure, axes = plt.subplots(2, 1, figsize=(9, 5.2))
    for ax, name in zip(axes, ("PCA", "Autoencoder"), strict=True):
        plot.reconstruction_grid(_expand(X_test, keep, fill), _expand(models[name].reconstruct(X_test), keep, fill),
                                 (8, 8), ax=ax)
        ax.set_title(f"{name}, k = {k}: the {data['p']} varying pixels of {data['X_all'].shape[1]} "
                     f"stored as {k} numbers")
    figures["reconstructions.png"] = figure
    figures["compression_curve.png"] = plot.compression_curve(curve)
    figures["comparison.png"] = plot.comparison(table, "mse_test")
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    plot.em_convergence({"GaussianMixture": models["GaussianMixture"]}, ax=axes[0])
    plot.em_convergence({"PPCA by EM": lvm.PPCA(k, method="em", random_state=0).fit(X_train)}, ax=axes[1])
    figures["em_convergence.png"] = figure
    return figures


def _report(data, tables, k, seconds):
    """The report's text around the tables and figures."""
    import lvm

    table, variance, pivot = tables["models"], tables["variance"], tables["compression_curve"]
    report = Report("lvm demo: latent variables of handwritten digits")
    report.text(f"Scikit-learn's 1797 handwritten digits, 8x8 pixels, split into {len(data['X_train'])} training "
                f"and {len(data['X_test'])} test images; the {int((~data['keep']).sum())} pixels that are blank in "
                f"every image are left out, so each image has {data['p']} values. Each model stores an image as "
                f"k = {k} latent numbers and reconstructs it from them: compression, and lossy decompression.")
    report.heading("Five models, one table")
    report.table(table)
    report.text("mse: mean squared reconstruction error per pixel (pixel values 0-16); loglik_test: held-out "
                "mean log-likelihood (models with a likelihood); knn_accuracy: a 5-nearest-neighbour "
                f"classifier of the digit in the latent space (best here: {table['knn_accuracy'].idxmax()}); "
                "trustworthiness: how far the latent neighbours are true neighbours. PCA has the least squared "
                "error of any linear k-dimensional code, and PPCA is the same subspace with a likelihood; the "
                "autoencoder's code is nonlinear; the mixture compresses each image to one of k classes (full "
                f"covariances with eigenvalues floored at 0.1). Here the lowest test error is "
                f"{table['mse_test'].idxmin()}'s and the highest held-out log-likelihood is "
                f"{table['loglik_test'].idxmax()}'s.")
    report.figure("comparison.png", "Test reconstruction error by model")
    report.heading("Variance explained by each principal component")
    report.table(variance)
    report.figure("scree.png", "Scree plot")
    report.heading("Compression curve")
    report.text("Test reconstruction error against the latent dimension k: more numbers per image, less loss.")
    report.table(pivot)
    report.figure("compression_curve.png", "Reconstruction error against k")
    report.heading("The latent space")
    report.text("Similar digits lie close together: test images in PCA's first two dimensions, and the "
                f"autoencoder's {k}-dimensional codes mapped to two by t-SNE.")
    report.figure("latent_scatter.png", "PCA latent space")
    report.figure("latent_tsne.png", "Autoencoder latent space (t-SNE)")
    report.heading("Reconstructions")
    report.figure("reconstructions.png", "Test digits (top) and reconstructions (bottom)")
    report.heading("EM at work")
    report.text("The mean log-likelihood after every EM iteration: it never falls.")
    report.figure("em_convergence.png", "EM convergence")
    report.text(f"Made by lvm {lvm.__version__} in {seconds:.0f} s.")
    return report


def run_demo(out, k=10):
    """Fit PCA, PPCA, factor analysis, a Gaussian mixture and an autoencoder on digits; write the report.

    Parameters
    ----------
    out : str or pathlib.Path
        Folder for ``report.md``, ``report.html``, the CSV/Markdown tables and
        the PNG figures; created (or, if it exists, added to) only once
        everything has been computed.
    k : int, default=10
        Latent dimension of the continuous models (and number of mixture components).

    Returns
    -------
    int
        0, the command's exit status.
    """
    import lvm

    started = time.perf_counter()
    check_output_folder(out)
    data = _digits(k)
    print(f"lvm demo: digits, {len(data['X_train'])} training and {len(data['X_test'])} test images, "
          f"{data['p']} informative pixels")
    models, table, curve = _fit_models(data, k)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    variance = lvm.PCA().fit(data["X_train"]).summary()["variance"].head(20)
    tables = {"models": table, "variance": variance,
              "compression_curve": curve.pivot(index="k", columns="model", values="mse_test")}
    figures = _figures(data, models, table, curve, k)
    with staged_output(out) as folder:
        for name, figure in figures.items():
            save_figure(folder, name, figure)
        for name, frame in tables.items():
            write_table(folder, name, frame)
        _report(data, tables, k, time.perf_counter() - started).write(folder)
    print(f"report written to {(Path(out) / 'report.md').resolve()} and report.html")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(run_demo(sys.argv[1] if len(sys.argv) > 1 else "lvm-demo"))
