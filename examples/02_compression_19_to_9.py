"""Compressing 19 numbers to 9: what four latent variable models keep and what they lose.

The data are drawn from a known factor model: 9 hidden factors, each driving a block
of two or three of the 19 observed variables, plus noise of each variable's own (its
uniqueness). PCA, probabilistic PCA, factor analysis and an autoencoder all squeeze
every row into 9 numbers and expand it back; what does not come back is the loss of
this lossy compression. Comparing that loss, variable by variable, with the true
noise shows that reconstruction error is not noise: only factor analysis estimates
the noise itself. The script also checks how well each model finds the true loadings,
with principal angles between subspaces and Tucker's congruence between factors.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import lvm  # noqa: E402
from lvm.exceptions import HeywoodCaseWarning  # noqa: E402


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # as_frame=True names the variables x1..x19, the names lvm's summaries and warnings then use.
    X, Z, truth = lvm.datasets.make_factor_data(2000, n_features=19, n_factors=9, random_state=0, as_frame=True)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    p, k = truth["loadings"].shape
    print(f"{X.shape[0]} rows of {p} variables driven by {k} factors; {len(X_train)} train, {len(X_test)} test")

    models = {
        "PCA": lvm.PCA(k),
        "PPCA": lvm.PPCA(k),
        # varimax turns the factors towards simple structure, the shape the true loadings have.
        "FA": lvm.FactorAnalysis(k, rotation="varimax"),
        "Autoencoder": lvm.Autoencoder(k, random_state=0),
    }
    # compare() fits every model on X_train (in place) and scores it on X_test.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HeywoodCaseWarning)
        table = lvm.compare(models, X_train, X_test=X_test)
    heywood = models["FA"].heywood_
    for warning in caught:
        if not issubclass(warning.category, HeywoodCaseWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    print("\nSide by side (compression = 19 / 9):")
    print(table[["k", "compression", "fit_seconds", "mse_train", "mse_test", "loglik_test", "bic"]]
          .round(4).to_string())

    # What the reconstruction loses, variable by variable, against the true noise.
    test_values = X_test.to_numpy()
    errors = pd.DataFrame({name: np.mean((model.reconstruct(X_test) - test_values) ** 2, axis=0)
                           for name, model in models.items()},
                          index=X.columns)
    errors["true uniqueness"] = truth["uniquenesses"]
    fa = models["FA"]
    # Only factor analysis models a separate noise variance per variable: uniquenesses_.
    errors["FA uniquenesses_"] = fa.uniquenesses_
    print("\nTest reconstruction error per variable, true uniqueness and FA's estimate of it:")
    print(errors.round(3).to_string())
    print("\nMean over variables:")
    print(errors.mean().round(4).to_string())
    print("On average every model loses less than the true noise: 9 numbers fitted to a row also soak up part of")
    print("that row's own noise. PCA's orthogonal projection loses the least squared error (it is the best rank-9")
    print("linear map); PPCA and FA decode the posterior mean of the latent, which shrinks towards zero and")
    print("loses more, in exchange for a likelihood (loglik_test, bic above). The noise itself is estimated")
    print("only by FA's uniquenesses_:")
    gap = np.abs(fa.uniquenesses_ - truth["uniquenesses"])
    regular = ~X.columns.isin(heywood)
    print(f"  mean absolute error of FA's uniquenesses: {gap.mean():.3f} ({gap[regular].mean():.3f} without "
          f"Heywood cases)")
    if heywood:
        print(f"  Heywood case(s) {heywood}: uniqueness pushed to the floor 0.005 (true "
              f"{', '.join(f'{u:.2f}' for u in truth['uniquenesses'][~regular])}). With only two variables per")
        print("  factor the model is barely identified, and ML can let a factor become one variable outright;")
        print("  that variable is then reconstructed almost exactly.")
    worse = list(errors.index[errors["FA"] > errors["true uniqueness"]])
    print(f"  variables FA reconstructs worse than their true noise (its fit is not the truth): {worse}")

    # Recovery of the true loadings. Principal angles compare the spaces the loadings span
    # (blind to rotation); Tucker's congruence compares factor by factor after matching them.
    true_loadings = truth["loadings"]
    # components_ is k x p (one row per axis); loadings_ is p x k (one column per factor).
    bases = {"PCA": models["PCA"].components_.T, "PPCA": models["PPCA"].components_.T,
             "FA": fa.loadings_array()}
    recovery = {}
    for name, basis in bases.items():
        angles = lvm.metrics.principal_angles(true_loadings, basis)
        congruence = lvm.metrics.tucker_congruence(basis, true_loadings)["congruence"]
        recovery[name] = {"largest angle (deg)": angles.max(), "mean angle (deg)": angles.mean(),
                          "min congruence": congruence.min(), "mean congruence": congruence.mean()}
    recovery = pd.DataFrame(recovery).T
    print("\nRecovery of the true loadings (the autoencoder's decoder is not linear, so it has no loading matrix):")
    print(recovery.round(3).to_string())
    print("All three find the right 9-dimensional space (small angles), but only rotated factor loadings")
    print("line up one by one with the true factors (congruence near 1); principal axes are mixtures of them.")

    # Figure 1: error per variable against the uniqueness.
    fig, ax = plt.subplots(figsize=(11, 4.5))
    names = list(models)
    width = 0.8 / len(names)
    position = np.arange(p)
    for i, name in enumerate(names):
        ax.bar(position + (i - (len(names) - 1) / 2) * width, errors[name], width, label=f"{name} test error")
    ax.scatter(position, errors["true uniqueness"], marker="_", s=300, color="black", zorder=3,
               label="true uniqueness")
    ax.scatter(position, errors["FA uniquenesses_"], marker="x", color="tab:red", zorder=3,
               label="FA estimate of uniqueness")
    ax.set_ylim(0, 1.3 * errors.to_numpy().max())
    ax.set_xticks(position)
    ax.set_xticklabels(errors.index)
    ax.set_ylabel("mean squared error (test)")
    ax.set_title("What compressing 19 variables to 9 loses, per variable")
    ax.legend(frameon=False, ncol=3, fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "error_vs_uniqueness.png", dpi=100)
    plt.close(fig)

    # Figure 2: principal angles to the true loading space, and the comparison table.
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, basis in bases.items():
        # PPCA spans the same space as PCA (its ML loadings are the principal axes, rescaled).
        style = "s--" if name == "PPCA" else "o-"
        axes[0].plot(np.arange(1, k + 1), lvm.metrics.principal_angles(true_loadings, basis), style, label=name)
    axes[0].set_xlabel("principal angle number")
    axes[0].set_ylabel("angle to the true loading space (degrees)")
    axes[0].legend(frameon=False)
    lvm.plot.comparison(table, ax=axes[1])
    fig.tight_layout()
    fig.savefig(out / "loading_recovery.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
