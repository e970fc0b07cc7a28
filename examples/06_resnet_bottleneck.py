"""A ResNet bottleneck is PCA over channels, and it saves most of the arithmetic.

A ResNet bottleneck block squeezes 256 feature channels to 64 with a 1x1
convolution, does its expensive 3x3 convolution on those 64, and expands back to
256 with another 1x1 convolution. A 1x1 convolution is the same linear map applied
at every position, so once the feature maps are reshaped to a table of (positions,
channels) the squeeze-and-expand is a linear autoencoder with a 64-unit code, and
the best such map in least squares is PCA over the channels (Eckart-Young; Baldi &
Hornik 1989). The script builds feature maps whose channels are driven by about 40
hidden patterns, checks PCA against a trained linear autoencoder and a random
projection, and counts the multiply-adds the bottleneck saves.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lvm  # noqa: E402

BATCH, CHANNELS, HEIGHT, WIDTH = 16, 256, 14, 14
RANK = 40  # hidden patterns behind the channels
BOTTLENECK = 64


def feature_maps(rng):
    """Synthetic feature maps (batch, channels, height, width) with low-rank channel correlations plus noise."""
    strength = 3.0 / np.sqrt(np.arange(1, RANK + 1))  # a few strong patterns, many weak ones
    patterns = rng.standard_normal((BATCH, HEIGHT, WIDTH, RANK)) * strength
    mixing = 4.0 * rng.standard_normal((CHANNELS, RANK)) / np.sqrt(CHANNELS)
    maps = np.einsum("bhwr,cr->bchw", patterns, mixing)
    return maps + 0.3 * rng.standard_normal(maps.shape)


def multiply_adds(c_in, c_mid, kernel=3):
    """Multiply-adds per position of a direct k x k convolution and of the bottleneck block."""
    direct = c_in * c_in * kernel * kernel
    bottleneck = c_in * c_mid + c_mid * c_mid * kernel * kernel + c_mid * c_in
    return direct, bottleneck


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    maps = feature_maps(rng)
    # A 1x1 convolution mixes channels at each position independently: move the
    # channel axis last and stack every (image, row, column) as one sample.
    X = maps.transpose(0, 2, 3, 1).reshape(-1, CHANNELS)
    print(f"feature maps {maps.shape} -> table of {X.shape[0]} positions x {X.shape[1]} channels")

    full = lvm.PCA().fit(X)
    cumulative = np.cumsum(full.explained_variance_ratio_)
    for k in (10, RANK, BOTTLENECK):
        print(f"  {k:3d} channel directions keep {cumulative[k - 1]:.1%} of the variance")

    # Three 256 -> 64 -> 256 linear maps, scored by reconstruction MSE per entry.
    pca = lvm.PCA(BOTTLENECK).fit(X)
    bound = full.explained_variance_[BOTTLENECK:].sum() * (len(X) - 1) / len(X) / CHANNELS
    linear_ae = lvm.Autoencoder(BOTTLENECK, hidden=(), activation="linear", epochs=60, learning_rate=3e-3,
                                random_state=0).fit(X)
    # A random 64-dimensional projection, with the least-squares decoder for it (its best case).
    centred = X - X.mean(axis=0)
    codes = centred @ rng.standard_normal((CHANNELS, BOTTLENECK))
    decoder, *_ = np.linalg.lstsq(codes, centred, rcond=None)
    errors = {
        "PCA": lvm.metrics.reconstruction_error(pca, X),
        "linear autoencoder": lvm.metrics.reconstruction_error(linear_ae, X),
        "random projection": float(np.mean((codes @ decoder - centred) ** 2)),
    }
    print(f"\nReconstruction MSE through {BOTTLENECK} channels (variance per channel {X.var(axis=0).mean():.3f}):")
    for name, value in errors.items():
        print(f"  {name:20s} {value:.4f}")
    print(f"  discarded eigenvalues / channels = {bound:.4f}: PCA reaches the least-squares optimum")
    print(f"  The random projection does fairly well only because {BOTTLENECK} > {RANK}: its codes still hold all")
    print("  the patterns, just mixed with more noise.")

    # The trained decoder's rows span (nearly) PCA's subspace. The linear
    # autoencoder is PCA up to an invertible mix of the 64 codes, so compare subspaces.
    decoder_space = linear_ae.coefs_[-1].T  # (channels, 64): the 1x1 "expand" convolution
    angles = lvm.metrics.principal_angles(decoder_space, pca.components_.T)
    print("\nPrincipal angles between the autoencoder's decoder space and PCA's (degrees):")
    print(f"  first {RANK}: at most {angles[:RANK].max():.1f}; remaining {BOTTLENECK - RANK}: median "
          f"{np.median(angles[RANK:]):.0f}")
    print(f"  Beyond the {RANK} real patterns only noise is left, equally strong in every direction, so any")
    print(f"  {BOTTLENECK - RANK} of those directions are almost equally good, and gradient descent picks arbitrary"
          " ones.")

    # Arithmetic: a 3x3 convolution on 256 channels against the bottleneck block.
    direct, bottleneck = multiply_adds(CHANNELS, BOTTLENECK)
    print(f"\nMultiply-adds per position: 3x3 conv on {CHANNELS} channels {direct:,}; bottleneck "
          f"{CHANNELS}->{BOTTLENECK}->3x3->{CHANNELS} {bottleneck:,}; saving {direct / bottleneck:.2f}x")
    for size, note in ((HEIGHT, "the maps above"), (56, "where ResNet-50 uses this very block")):
        positions = size * size
        print(f"  {size}x{size} map ({note}): {direct * positions / 1e6:,.1f} M vs "
              f"{bottleneck * positions / 1e6:,.1f} M multiply-adds per image")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ks = np.arange(1, CHANNELS + 1)
    axes[0].plot(ks, cumulative, color="tab:blue")
    for k, style in ((RANK, ":"), (BOTTLENECK, "--")):
        axes[0].axvline(k, color="grey", linestyle=style, label=f"k = {k}")
    axes[0].set_xlabel("channel directions kept, k")
    axes[0].set_ylabel("cumulative share of variance")
    axes[0].set_title("PCA over channels")
    axes[0].legend(frameon=False, loc="lower right")
    names = list(errors)
    bars = axes[1].bar(names, [errors[n] for n in names], color=["tab:blue", "tab:orange", "tab:grey"])
    axes[1].bar_label(bars, fmt="%.4f")
    axes[1].set_ylabel("reconstruction MSE")
    axes[1].set_title(f"{CHANNELS} -> {BOTTLENECK} -> {CHANNELS}")
    axes[2].plot(np.arange(1, BOTTLENECK + 1), angles, "o-", markersize=3)
    axes[2].axvline(RANK, color="grey", linestyle=":")
    axes[2].set_xlabel("principal angle number")
    axes[2].set_ylabel("degrees")
    axes[2].set_title("Linear autoencoder vs PCA subspace")
    fig.tight_layout()
    fig.savefig(out / "channel_pca.png", dpi=100)
    plt.close(fig)
    print(f"\nFigures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path("examples/output") / Path(__file__).stem)
