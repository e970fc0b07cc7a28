"""A latent space for handwritten digits: what lies close together, and how useful is it?

Each 8x8 digit image is a point in 64 dimensions. PCA and probabilistic PCA map it
to a handful of latent coordinates; plotting them shows which digits the model
finds alike. Two latent dimensions already separate some digits; ten keep far more,
and t-SNE draws those ten in a plane. The distances between the digits' average
codes say which digits are most easily confused, and a nearest-neighbour classifier
measures how much of the label information survives as the latent dimension grows.
"""

import sys
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.spatial.distance import pdist, squareform  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import lvm  # noqa: E402


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    print(f"{X.shape[0]} digits of {X.shape[1]} pixels")

    # 1. Two principal components, coloured by the true digit (the model never saw the labels).
    pca2 = lvm.PCA(2).fit(X)
    print(f"2 principal components keep {pca2.explained_variance_ratio_.sum():.1%} of the pixel variance")
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    lvm.plot.latent_scatter(pca2, X, labels=y, ax=axes[0], title="PCA, first 2 components")

    # 2. A 10-dimensional PPCA latent space, shown in 2-D by t-SNE.
    ppca = lvm.PPCA(10).fit(X)
    lvm.plot.latent_scatter(ppca, X, labels=y, method="tsne", ax=axes[1], title="PPCA 10-D latent space, t-SNE")
    fig.tight_layout()
    fig.savefig(out / "latent_scatter.png", dpi=100)
    plt.close(fig)

    # 3. Which digits lie closest? Distances between class centroids in the 10-D latent space.
    Z = ppca.transform(X)
    digits = np.unique(y)
    centroids = np.array([Z[y == d].mean(axis=0) for d in digits])
    distance = squareform(pdist(centroids))
    pairs = sorted((distance[i, j], digits[i], digits[j]) for i, j in combinations(range(len(digits)), 2))
    print("Closest digit pairs in the PPCA latent space (centroid distance):")
    for d, a, b in pairs[:3]:
        print(f"  {a} and {b}: {d:.2f}")
    d, a, b = pairs[-1]
    print(f"Farthest pair: {a} and {b}: {d:.2f}")

    # An 8 shares strokes with 1, 3 and 9, so its centroid sits near theirs.
    fig, ax = plt.subplots(figsize=(6, 5))
    shown = np.where(np.eye(len(digits), dtype=bool), np.nan, distance)  # blank diagonal: a wider colour range
    image = ax.imshow(shown, cmap="viridis")
    middle = (np.nanmin(shown) + np.nanmax(shown)) / 2
    for (i, j), value in np.ndenumerate(shown):
        if i != j:
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize="x-small",
                    color="white" if value < middle else "black")
    ax.set_xticks(range(len(digits)))
    ax.set_yticks(range(len(digits)))
    ax.set_xlabel("digit")
    ax.set_ylabel("digit")
    ax.set_title("Distance between digit centroids (PPCA, 10-D)")
    fig.colorbar(image, ax=ax, label="distance")
    fig.tight_layout()
    fig.savefig(out / "centroid_distances.png", dpi=100)
    plt.close(fig)

    # 4. How much label information does a k-dimensional PCA code keep? 5-nearest-neighbour
    #    accuracy on held-out digits, against the same classifier on all 64 raw pixels.
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    ks = [1, 2, 3, 5, 10, 20]
    accuracy = []
    for k in ks:
        pca = lvm.PCA(k).fit(X_train)
        accuracy.append(lvm.metrics.knn_accuracy(pca.transform(X_train), y_train,
                                                 Z_test=pca.transform(X_test), y_test=y_test))
    pixels = lvm.metrics.knn_accuracy(X_train, y_train, Z_test=X_test, y_test=y_test)
    print("5-NN test accuracy with a k-dimensional PCA code:")
    for k, acc in zip(ks, accuracy, strict=True):
        print(f"  k = {k:2d}: {acc:.3f}")
    print(f"  raw 64 pixels: {pixels:.3f}")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ks, accuracy, "o-", label="PCA code")
    ax.axhline(pixels, color="black", linestyle="--", label="raw pixels (64-D)")
    ax.set_xscale("log")
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("latent dimension k")
    ax.set_ylabel("5-NN test accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "knn_accuracy.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
