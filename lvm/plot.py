"""Figures of fitted models. Each function draws on a matplotlib Axes and returns it.

matplotlib is imported inside each function, and no function changes global
style or calls ``plt.show()``.
"""

import numpy as np


def _axes(ax, figsize=(5, 4)):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("lvm.plot needs matplotlib: pip install matplotlib") from exc
    _, ax = plt.subplots(figsize=figsize)
    return ax


def scree(model, ax=None, cumulative=True):
    """Plot the explained-variance ratio per component, with its running total.

    Parameters
    ----------
    model : fitted PCA
        Any model with ``explained_variance_ratio_``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    cumulative : bool, default=True
        Also draw the cumulative ratio.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    ratio = np.asarray(model.explained_variance_ratio_)
    index = np.arange(1, len(ratio) + 1)
    ax.bar(index, ratio, color="tab:blue", label="per component")
    if cumulative:
        ax.plot(index, np.cumsum(ratio), "o-", color="tab:orange", label="cumulative")
    ax.set_xlabel("component")
    ax.set_ylabel("share of variance")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False)
    return ax


def latent_scatter(Z, labels=None, ax=None, title=None):
    """Scatter the first two latent coordinates, coloured by label.

    Parameters
    ----------
    Z : array-like of shape (n_samples, >= 2)
        Latent coordinates, e.g. ``model.transform(X)``.
    labels : array-like of shape (n_samples,), optional
        Class of each row; one colour per class with a legend.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    title : str, optional
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax, figsize=(6, 5))
    Z = np.asarray(Z)
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=6, alpha=0.7)
    else:
        labels = np.asarray(labels)
        for value in np.unique(labels):
            rows = labels == value
            ax.scatter(Z[rows, 0], Z[rows, 1], s=6, alpha=0.7, label=str(value))
        ax.legend(title="label", markerscale=2, fontsize="small", frameon=False,
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xlabel("latent 1")
    ax.set_ylabel("latent 2")
    if title:
        ax.set_title(title)
    return ax


def reconstruction_grid(originals, reconstructions, image_shape, ax=None, n_images=8):
    """Show originals (top row) above their reconstructions (bottom row), as images.

    Parameters
    ----------
    originals, reconstructions : array-like of shape (n_samples, n_features)
        Flattened images; ``n_features == prod(image_shape)``.
    image_shape : tuple of int
        Height and width of one image.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    n_images : int, default=8
        How many images to show.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax, figsize=(n_images * 1.1, 2.6))
    height, width = image_shape
    originals = np.asarray(originals)[:n_images]
    reconstructions = np.asarray(reconstructions)[:n_images]
    # One blank (NaN) pixel column between images keeps them apart.
    gap = np.full((height, 1), np.nan)

    def strip(rows):
        return np.hstack([np.hstack([np.reshape(row, image_shape), gap]) for row in rows])[:, :-1]

    grid = np.vstack([strip(originals), np.full((1, len(originals) * (width + 1) - 1), np.nan),
                      strip(reconstructions)])
    # Both rows share the originals' grey scale, so over- and undershoot show.
    ax.imshow(grid, cmap="gray_r", interpolation="nearest",
              vmin=np.nanmin(originals), vmax=np.nanmax(originals))
    ax.set_xticks([])
    ax.set_yticks([(height - 1) / 2, height + (height - 1) / 2 + 1])
    ax.set_yticklabels(["original", "reconstructed"])
    return ax


def compression_curve(ks, errors, ax=None, label=None):
    """Plot reconstruction error against latent dimension.

    Parameters
    ----------
    ks : array-like of int
        Latent dimensions.
    errors : array-like of float
        Reconstruction error at each ``k``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    label : str, optional
        Legend entry for this curve.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax)
    ax.plot(ks, errors, "o-", label=label)
    ax.set_xlabel("latent dimension k")
    ax.set_ylabel("reconstruction MSE")
    if label is not None:
        ax.legend(frameon=False)
    return ax


def parallel_analysis(result, ax=None):
    """Draw observed against random eigenvalues, the scree of a parallel analysis.

    Parameters
    ----------
    result : lvm.factor.selection.ParallelAnalysis
        What :func:`lvm.factor.parallel_analysis` returned.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    ax = _axes(ax, figsize=(6, 4))
    table = result.table
    position = table.index.to_numpy()
    ax.plot(position, table["pc_observed"], "o-", color="tab:blue", label="components, data")
    ax.plot(position, table["pc_random"], "--", color="tab:blue", label="components, random")
    ax.plot(position, table["fa_observed"], "s-", color="tab:orange", label="factors, data")
    ax.plot(position, table["fa_random"], "--", color="tab:orange", label="factors, random")
    ax.axhline(0.0, color="grey", linewidth=0.5)
    ax.set_xlabel("position")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"Parallel analysis: {result.n_factors} factor(s), {result.n_components} component(s)")
    ax.legend(frameon=False)
    return ax
