"""Ten kinds of handwriting, each with its own four directions of variation: a mixture of factor analyzers.

A Gaussian mixture says which cluster a digit belongs to; factor analysis says how a
digit varies along a few latent directions. A mixture of factor analyzers does both:
each of its K components has a mean image and q loadings of its own, so a component
is a cluster lying near a q-dimensional subspace of the 64 pixels (Ghahramani &
Hinton 1996). This script fits K = 10 components with q = 4 factors each to
handwritten digits, shows each component's mean image and images drawn along its
subspace, reconstructs test digits through their component, and measures how well
the components agree with the digit labels they never saw (adjusted Rand index).
"""

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import lvm  # noqa: E402

N_COMPONENTS = 10
N_FACTORS = 4
# The noise floor as a share of each pixel's variance (the default is 1e-6); why, below.
REG = 0.1
N_DRAWS = 6
N_SHOWN = 12


def as_images(rows, keep):
    """Put the dropped (always blank) pixels back, so that rows reshape to 8x8 images."""
    full = np.zeros((len(rows), keep.size))
    full[:, keep] = rows
    return full


def mosaic(rows_of_images, ax, row_labels):
    """Draw rows of 8x8 images as one picture, one blank pixel between images, on the digits' grey scale."""
    gap = np.full((8, 1), np.nan)
    strips = []
    for images in rows_of_images:
        strips.append(np.hstack([np.hstack([image.reshape(8, 8), gap]) for image in images])[:, :-1])
        strips.append(np.full((1, strips[-1].shape[1]), np.nan))
    ax.imshow(np.vstack(strips[:-1]), cmap="gray_r", vmin=0, vmax=16, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([3.5 + 9 * i for i in range(len(row_labels))])
    ax.set_yticklabels(row_labels, fontsize="small")


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = lvm.datasets.load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    # A pixel that is blank in every training digit has nothing for the model to learn:
    # its noise variance would sit at the floor (reg times its variance, here zero, so a
    # tiny positive minimum), each training digit would gain about 14 in log-likelihood
    # from it, and a test digit with the least ink there would be judged impossible.
    # The blank pixels carry no information, so they are dropped and drawn blank.
    keep = X_train.std(axis=0) > 0
    print(f"{len(X_train)} training and {len(X_test)} test digits; pixels blank in every training digit, "
          f"dropped: {np.flatnonzero(~keep).tolist()}")
    X_train, X_test = X_train[:, keep], X_test[:, keep]

    # reg: within one component many pixels never see ink (the left edge of a 1). With
    # the default floor (1e-6 of the pixel's variance) such a pixel gets almost no noise
    # and a test digit of that kind with a stray dot there is scored as near impossible.
    # A floor at a tenth of each pixel's variance keeps the components from being defined
    # by the pixels they never ink: over five seeds the test adjusted Rand index averages
    # 0.47 with the default floor and 0.58 with this one (docs/mfa.md, "Integer data").
    start = time.perf_counter()
    mfa = lvm.MixtureOfFactorAnalyzers(N_COMPONENTS, N_FACTORS, reg=REG, random_state=0).fit(X_train)
    print(f"MixtureOfFactorAnalyzers({N_COMPONENTS}, {N_FACTORS}): {mfa.n_iter_} AECM iterations "
          f"(converged: {mfa.converged_}) in {time.perf_counter() - start:.1f} s, {mfa.n_parameters_} parameters")
    floor = REG * X_train.var(axis=0)
    at_floor = np.isclose(mfa.uniquenesses_, floor, rtol=1e-9)
    print(f"{at_floor.sum()} of the {at_floor.size} noise variances (components x pixels) sit at the floor")
    print(f"Mean log-likelihood per digit: train {mfa.score(X_train):.2f}, test {mfa.score(X_test):.2f}")

    # The components never saw a label; how well do they agree with the digits?
    labels_train, labels_test = mfa.predict(X_train), mfa.predict(X_test)
    print(f"Adjusted Rand index of predict against the digit labels: train "
          f"{lvm.metrics.adjusted_rand_index(y_train, labels_train):.3f}, test "
          f"{lvm.metrics.adjusted_rand_index(y_test, labels_test):.3f} (1 = the same partition, 0 = chance)")
    print("\ncomponent  weight  commonest digit  share of its training digits")
    names = []
    for k in range(N_COMPONENTS):
        counts = np.bincount(y_train[labels_train == k], minlength=10)
        digit = int(counts.argmax())
        share = counts[digit] / max(counts.sum(), 1)
        names.append(f"{k}: mostly {digit}s")
        print(f"{k:9d}  {mfa.weights_[k]:6.3f}  {digit:15d}  {share:.0%}")

    # Each component's mean, and images along its subspace: mu_k + W_k z with
    # z ~ N(0, I). The pixel noise Psi_k, which sample() would add, is left out.
    rng = np.random.default_rng(0)
    rows = []
    for k in range(N_COMPONENTS):
        draws = mfa.inverse_transform(rng.standard_normal((N_DRAWS, N_FACTORS)), component=k)
        rows.append(as_images(np.vstack([mfa.means_[k], draws]), keep))
    fig, ax = plt.subplots(figsize=(0.9 * (1 + N_DRAWS) + 1.4, 0.9 * N_COMPONENTS))
    mosaic(rows, ax, names)
    ax.set_title(f"Mean, then {N_DRAWS} draws of mean + W z, z ~ N(0, I)", fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "components.png", dpi=100)
    plt.close(fig)

    # Test digits: the mean of their component (a K-means-like code of one number)
    # and the reconstruction through the component's four factors, sum_k r_k (mu_k + W_k E[z | x, k]).
    shown = X_test[:N_SHOWN]
    means_only = mfa.means_[labels_test[:N_SHOWN]]
    reconstructed = mfa.reconstruct(shown)
    fig, ax = plt.subplots(figsize=(0.75 * N_SHOWN + 1.6, 2.6))
    mosaic([as_images(rows, keep) for rows in (shown, means_only, reconstructed)], ax,
           ["test digit", "its component's mean", f"+ {N_FACTORS} factors"])
    ax.set_title("Components of the test digits: " + " ".join(str(k) for k in labels_test[:N_SHOWN]),
                 fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "reconstructions.png", dpi=100)
    plt.close(fig)
    error_mean = ((X_test - mfa.means_[labels_test]) ** 2).mean()
    error_factors = ((X_test - mfa.reconstruct(X_test)) ** 2).mean()
    print(f"\nTest reconstruction MSE per pixel: component mean {error_mean:.2f}, "
          f"with the {N_FACTORS} factors {error_factors:.2f}")

    ax = lvm.plot.mixture_ellipses(mfa, X_test, features="pca")
    ax.set_title("Test digits by component, on the first two principal axes", fontsize="small")
    ax.figure.set_size_inches(7, 5.5)
    ax.figure.tight_layout()
    ax.figure.savefig(out / "components_pca.png", dpi=100)
    plt.close(ax.figure)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
