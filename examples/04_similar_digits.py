"""Finding similar digits: nearest neighbours in a latent space and in pixel space.

"Show me images like this one" is a nearest-neighbour search. In pixel space two
images are close when the same pixels are dark; in a latent space they are close
when their short codes agree. This script finds the 5 nearest training digits of
test digits in pixel space (64 numbers per image) and in 10-D PCA, probabilistic PCA
and autoencoder spaces, draws them side by side, and counts over the whole test set
how often the neighbours show the query's digit. Codes six times shorter find almost
as good neighbours, and the scale of the latent axes matters: PPCA's codes have unit
variance on every axis, which gives faint directions as much say as the main strokes.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

import lvm  # noqa: E402

N_NEIGHBORS = 5
N_LATENT = 10


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    print(f"{len(X_train)} training digits to search, {len(X_test)} test digits as queries")

    # The models are fitted on the training digits only; the queries are new to them.
    pca = lvm.PCA(N_LATENT).fit(X_train)
    ppca = lvm.PPCA(N_LATENT).fit(X_train)
    autoencoder = lvm.Autoencoder(N_LATENT, hidden=(64,), epochs=200, random_state=0).fit(X_train)
    spaces = {
        "pixels (64-D)": (X_train, X_test),
        f"PCA ({N_LATENT}-D)": (pca.transform(X_train), pca.transform(X_test)),
        f"PPCA ({N_LATENT}-D)": (ppca.transform(X_train), ppca.transform(X_test)),
        f"autoencoder ({N_LATENT}-D)": (autoencoder.transform(X_train), autoencoder.transform(X_test)),
    }

    neighbours = {}
    print(f"Share of the {N_NEIGHBORS} nearest neighbours that show the query's digit (whole test set):")
    for name, (train, test) in spaces.items():
        index = NearestNeighbors(n_neighbors=N_NEIGHBORS).fit(train)
        _, neighbours[name] = index.kneighbors(test)
        same = y_train[neighbours[name]] == y_test[:, None]
        print(f"  {name:18s} {same.mean():.3f}   (all {N_NEIGHBORS} right for {same.all(axis=1).mean():.1%} "
              "of the queries)")

    for name in list(spaces)[1:3]:
        spread = spaces[name][0].std(axis=0)
        print(f"  spread of the {name} axes: largest {spread.max():.2f}, smallest {spread.min():.2f}")

    # Queries: the first test digit of a few classes, and the test digit on which
    # pixel space and the PPCA space disagree most.
    queries = [int(np.flatnonzero(y_test == d)[0]) for d in (0, 3, 5, 8)]
    pixel_right = (y_train[neighbours["pixels (64-D)"]] == y_test[:, None]).sum(axis=1)
    latent_right = (y_train[neighbours[f"PPCA ({N_LATENT}-D)"]] == y_test[:, None]).sum(axis=1)
    queries.append(int(np.argmax(np.abs(latent_right - pixel_right))))
    print("Queries shown (test index: digit): " + ", ".join(f"{q}: {y_test[q]}" for q in queries))

    # One row per query: the query, then its neighbours in each space. A green frame
    # marks a neighbour of the same digit, a red one a different digit.
    columns = 1 + len(spaces) * N_NEIGHBORS
    fig, axes = plt.subplots(len(queries), columns, figsize=(columns * 0.75, len(queries) * 0.95 + 0.6))
    for row, q in enumerate(queries):
        cells = [(X_test[q], "black", "query")]
        for name in spaces:
            cells += [(X_train[i], "tab:green" if y_train[i] == y_test[q] else "tab:red", name)
                      for i in neighbours[name][q]]
        for col, (image, colour, _) in enumerate(cells):
            ax = axes[row, col]
            ax.imshow(image.reshape(8, 8), cmap="gray_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(colour)
                spine.set_linewidth(2.5)
    axes[0, 0].set_title("query", fontsize="small")
    for s, name in enumerate(spaces):
        axes[0, 1 + s * N_NEIGHBORS + N_NEIGHBORS // 2].set_title(name, fontsize="small")
    fig.suptitle(f"The {N_NEIGHBORS} nearest training digits of each query (green: same digit)")
    fig.tight_layout()
    fig.savefig(out / "neighbours.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
