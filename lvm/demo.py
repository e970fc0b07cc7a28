"""``lvm demo``: every model on handwritten digits, written up as a report.

The report tells the story of latent variables as compression: each model
stores an 8x8 image as ``k`` numbers and decompresses it, more or less
lossily; similar digits lie close together in the latent space; a mixture
finds classes without labels; EM raises the likelihood at every step.
"""

import time
import warnings
from pathlib import Path

import numpy as np


def _expand(rows, keep, fill):
    """Images with the constant pixels put back (they were left out of the fits)."""
    full = np.tile(fill, (len(rows), 1))
    full[:, keep] = rows
    return full


def run_demo(out, k=10):
    """Fit PCA, PPCA, factor analysis, a Gaussian mixture and an autoencoder on digits; write the report.

    Parameters
    ----------
    out : str or pathlib.Path
        Folder for ``report.md``, ``report.html``, the CSV/Markdown tables and
        the PNG figures; created if missing.
    k : int, default=10
        Latent dimension of the continuous models (and number of mixture components).

    Returns
    -------
    int
        0, the command's exit status.
    """
    import matplotlib.pyplot as plt
    from sklearn.model_selection import train_test_split

    import lvm
    from lvm import plot

    from .cli import Report, _save_figure, _write_table
    from .exceptions import DegenerateComponentWarning, HeywoodCaseWarning

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X_all, y = lvm.datasets.load_digits(return_X_y=True)
    # Three border pixels are blank in every image: no model can learn from a
    # constant, and factor analysis (which works on correlations) needs variance.
    keep = X_all.std(axis=0) > 0
    X = X_all[:, keep]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    p = X.shape[1]
    if not 1 <= k < p:
        raise ValueError(f"n_components={k} is out of range for the demo: choose k from 1 to {p - 1}")
    print(f"lvm demo: digits, {len(X_train)} training and {len(X_test)} test images, {p} informative pixels")

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
    with warnings.catch_warnings():
        # Several pixels are almost determined by their neighbours: Heywood
        # cases are expected here and reported in the FA summary instead.
        warnings.simplefilter("ignore", HeywoodCaseWarning)
        # Likewise a mixture component with fewer images than pixels: its
        # covariance rests on the floor, as the report says.
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        table = lvm.compare(models, X_train, y=y_train, X_test=X_test, y_test=y_test)
        ks = [1, 2, 4, 8, 16, 32]
        curve_models = {"PCA": lvm.PCA(), "FA": lvm.FactorAnalysis(),
                        "Autoencoder": lvm.Autoencoder(hidden=(64,), epochs=150, random_state=0)}
        curve = lvm.compression_table(curve_models, X_train, ks, X_test=X_test)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))

    full = lvm.PCA().fit(X_train)
    variance = full.summary()["variance"].head(20)
    pivot = curve.pivot(index="k", columns="model", values="mse_test")

    figures = {}
    ax = plot.scree(full)
    ax.set_xlim(0, 21)
    figures["scree.png"] = ax
    figures["latent_scatter.png"] = plot.latent_scatter(
        lvm.PCA(2).fit(X_train).transform(X_test), labels=y_test, title="PCA, first two components")
    figures["latent_tsne.png"] = plot.latent_scatter(
        models["Autoencoder"], X_test, labels=y_test, method="tsne",
        title=f"Autoencoder's {k}-D codes, by t-SNE")
    fill = X_all.mean(axis=0)
    figure, axes = plt.subplots(2, 1, figsize=(9, 5.2))
    for ax, name in zip(axes, ("PCA", "Autoencoder"), strict=True):
        plot.reconstruction_grid(_expand(X_test, keep, fill), _expand(models[name].reconstruct(X_test), keep, fill),
                                 (8, 8), ax=ax)
        ax.set_title(f"{name}, k = {k}: {X_all.shape[1]} pixels stored as {k} numbers")
    figures["reconstructions.png"] = figure
    figures["compression_curve.png"] = plot.compression_curve(curve)
    figures["comparison.png"] = plot.comparison(table, "mse_test")
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    plot.em_convergence({"GaussianMixture": models["GaussianMixture"]}, ax=axes[0])
    plot.em_convergence({"PPCA by EM": lvm.PPCA(k, method="em", random_state=0).fit(X_train)}, ax=axes[1])
    figures["em_convergence.png"] = figure
    for name, figure in figures.items():
        _save_figure(out, name, figure)

    tables = {"models": table, "variance": variance, "compression_curve": pivot}
    for name, frame in tables.items():
        _write_table(out, name, frame)

    best_knn = table["knn_accuracy"].idxmax()
    best_mse = table["mse_test"].idxmin()
    best_loglik = table["loglik_test"].idxmax()
    report = Report("lvm demo: latent variables of handwritten digits")
    report.text(f"Scikit-learn's 1797 handwritten digits, 8x8 pixels, split into {len(X_train)} training and "
                f"{len(X_test)} test images; the {int((~keep).sum())} pixels that are blank in every image are "
                f"left out, so each image has {p} values. Each model stores an image as k = {k} latent "
                "numbers and reconstructs it from them: compression, and lossy decompression.")
    report.heading("Five models, one table")
    report.table(table)
    report.text("mse: mean squared reconstruction error per pixel (pixel values 0-16); loglik_test: held-out "
                "mean log-likelihood (models with a likelihood); knn_accuracy: a 5-nearest-neighbour "
                f"classifier of the digit in the latent space (best here: {best_knn}); trustworthiness: how far "
                "the latent neighbours are true neighbours. PCA has the least squared error of any linear "
                "k-dimensional code, and PPCA is the same subspace with a likelihood; the autoencoder's code is "
                "nonlinear; the mixture compresses each image to one of k classes (full covariances with "
                f"eigenvalues floored at 0.1). Here the lowest test error is {best_mse}'s and the highest "
                f"held-out log-likelihood is {best_loglik}'s.")
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
    report.text(f"Made by lvm {lvm.__version__} in {time.perf_counter() - started:.0f} s.")
    report.write(out)
    print(f"report written to {(out / 'report.md').resolve()} and report.html")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(run_demo(sys.argv[1] if len(sys.argv) > 1 else "lvm-demo"))
