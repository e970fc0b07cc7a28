"""The compression curve: how much of a digit survives a k-number code?

Every latent variable model here is also a lossy compressor: encode an image into k
numbers, decode it back, and measure what was lost. Plotting that loss against k
gives the compression curve, the rate-distortion trade-off of the model. This script
draws it for PCA, factor analysis and a small autoencoder on held-out digits: PCA is
the best linear compressor for squared error, factor analysis aims at explaining
correlations rather than at reconstruction, and the nonlinear autoencoder can beat
PCA at small k where a curved code helps most.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import lvm  # noqa: E402
from lvm.exceptions import HeywoodCaseWarning  # noqa: E402

KS = [1, 2, 4, 8, 16, 32]
SHOWN_K = 8


def as_images(rows, keep):
    """Put the dropped (always blank) pixels back, so that rows reshape to 8x8 images."""
    full = np.zeros((len(rows), keep.size))
    full[:, keep] = rows
    return full


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)
    # Factor analysis works on the correlation matrix, and a pixel that is blank in
    # every image has no variance and so no correlation: lvm.FactorAnalysis refuses
    # such columns. They carry no information, so drop them for every model. Three
    # pixels are blank in all 1797 digits; the mask is taken from the training rows,
    # since a column constant there is constant to the models.
    keep = X_train.std(axis=0) > 0
    X_train, X_test = X_train[:, keep], X_test[:, keep]
    print(f"{X_train.shape[1]} of {len(keep)} pixels vary; {len(X_train)} train and {len(X_test)} test digits")

    models = {
        "PCA": lvm.PCA(),
        "FactorAnalysis": lvm.FactorAnalysis(),
        # Small and quick; compression_table sets its n_components to each k.
        "Autoencoder": lvm.Autoencoder(hidden=(64,), epochs=100, random_state=0),
    }
    with warnings.catch_warnings():
        # With many factors some pixels are explained almost entirely (Heywood
        # cases); harmless for reconstruction, so the warning is silenced here.
        warnings.simplefilter("ignore", HeywoodCaseWarning)
        table = lvm.compression_table(models, X_train, KS, X_test=X_test)
    # With k = 0 numbers, the best one can send back is the training mean image.
    total = ((X_test - X_train.mean(axis=0)) ** 2).mean()
    print(f"Test reconstruction MSE per pixel (a code of k = 0 numbers loses {total:.2f}):")
    print(table.pivot(index="k", columns="model", values="mse_test")[list(models)].round(3).to_string())
    for k in (KS[0], KS[-1]):
        rows = table[table["k"] == k].set_index("model")["mse_test"]
        print(f"Best at k = {k}: {rows.idxmin()} ({rows.min():.3f})")

    fig, ax = plt.subplots(figsize=(6, 4.5))
    lvm.plot.compression_curve(table, ax=ax)  # the table just computed; no refit
    ax.axhline(total, color="grey", linestyle=":", label="k = 0 (mean image)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(KS)
    ax.set_xticklabels([str(k) for k in KS])
    ax.set_title("Compression curve on held-out digits")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(out / "compression_curve.png", dpi=100)
    plt.close(fig)

    # What a k = 8 code brings back, for the first test digits.
    fig, axes = plt.subplots(len(models), 1, figsize=(8, 1.8 * len(models)))
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HeywoodCaseWarning)
            fitted = clone(model).set_params(n_components=SHOWN_K).fit(X_train)
        lvm.plot.reconstruction_grid(as_images(X_test, keep), as_images(fitted.reconstruct(X_test), keep), (8, 8),
                                     ax=ax, n_images=10)
        ax.set_title(f"{name}, k = {SHOWN_K}", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / f"reconstructions_k{SHOWN_K}.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
