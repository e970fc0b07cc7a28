"""Figures of fitted models. Each function draws on a matplotlib Axes and returns it.

matplotlib is imported inside each function, and no function changes global
style or calls ``plt.show()``.
"""

import numpy as np

from . import _progress

# Words for the columns of lvm.compare's table, for titles and axis labels.
_METRIC_NAMES = {
    "k": "Latent dimension k",
    "compression": "Compression ratio (features per latent dimension)",
    "fit_seconds": "Fit time (seconds)",
    "mse_train": "Training reconstruction error (MSE)",
    "mse_test": "Test reconstruction error (MSE)",
    "loglik_test": "Test log-likelihood per sample",
    "bic": "BIC (lower is better)",
    "knn_accuracy": "kNN accuracy in the latent space",
    "trustworthiness": "Trustworthiness of latent neighbourhoods",
    "n_iter": "Iterations",
}


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
    model : fitted PCA or FactorAnalysis
        Any model with ``explained_variance_ratio_``, or with ``eigenvalues_``
        (of the correlation matrix, as :class:`~lvm.FactorAnalysis` has: their
        share of the total is drawn).
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
    if hasattr(model, "explained_variance_ratio_"):
        ratio = np.asarray(model.explained_variance_ratio_)
    else:
        eigenvalues = np.asarray(model.eigenvalues_)
        ratio = eigenvalues / eigenvalues.sum()
    index = np.arange(1, len(ratio) + 1)
    ax.bar(index, ratio, color="tab:blue", label="per component")
    if cumulative:
        ax.plot(index, np.cumsum(ratio), "o-", color="tab:orange", label="cumulative")
    ax.set_xlabel("component")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel("share of variance")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False)
    return ax


def _integer_ticks(axis):
    """Ticks only at whole numbers: components, factors and iterations are counted."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _latent(Z_or_model, X):
    if hasattr(Z_or_model, "transform") and not hasattr(Z_or_model, "shape"):
        if X is None:
            raise ValueError("latent_scatter needs X to encode when given a model")
        return np.asarray(Z_or_model.transform(X)), type(Z_or_model).__name__
    if X is not None:
        raise ValueError("latent_scatter got latent coordinates and X; pass labels by name "
                         "(latent_scatter(Z, labels=y)), or give a fitted model with X")
    return np.asarray(Z_or_model), None


def latent_scatter(Z, X=None, labels=None, ax=None, title=None, method="auto", random_state=0, verbose=True):
    """Scatter a latent space in two dimensions, coloured by label.

    Latent spaces of more than two dimensions are mapped to two by t-SNE
    (van der Maaten & Hinton 2008, scikit-learn's ``TSNE``) when ``method`` is
    ``"auto"`` or ``"tsne"``; ``"first"`` shows the first two coordinates.
    Points that lie close together are codes the model finds similar.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latent) or fitted model
        Latent coordinates, or a fitted model whose ``transform(X)`` gives them.
    X : array-like of shape (n_samples, n_features), optional
        Data to encode when ``Z`` is a model.
    labels : array-like of shape (n_samples,), optional
        Class of each row; one colour per class with a legend.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    title : str, optional
        Title of the axes.
    method : {"auto", "tsne", "first"}, default="auto"
        How more than two latent dimensions are shown.
    random_state : int, default=0
        Seed of t-SNE.
    verbose : bool or int, default=True
        Show the time t-SNE has taken when it lasts over a second (``False``
        or 0: nothing). As the models' ``verbose``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    if method not in ("auto", "tsne", "first"):
        raise ValueError(f"method={method!r} is invalid; expected 'auto', 'tsne' or 'first'")
    verbose = _progress.check_verbose(verbose)
    ax = _axes(ax, figsize=(6, 5))
    Z, model_name = _latent(Z, X)
    if Z.ndim != 2 or Z.shape[1] < 1:
        raise ValueError(f"latent coordinates must be a 2-D array, got shape {Z.shape}")
    axis_names = ("latent 1", "latent 2")
    if Z.shape[1] == 1:
        Z = np.column_stack([Z[:, 0], np.zeros(len(Z))])
        axis_names = ("latent 1", "")
    elif Z.shape[1] > 2 and method != "first":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(Z) - 1) / 3)
        # t-SNE reports no steps: the bar shows the time it has run.
        with _progress.progress(total=1, desc=f"t-SNE of {len(Z)} points", verbose=verbose, heartbeat=True,
                      bar_format="{desc}: {elapsed}") as bar:
            Z = TSNE(2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(Z)
            bar.update()
        axis_names = ("t-SNE 1", "t-SNE 2")
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=6, alpha=0.7)
    else:
        labels = np.asarray(labels)
        for value in np.unique(labels):
            rows = labels == value
            ax.scatter(Z[rows, 0], Z[rows, 1], s=6, alpha=0.7, label=str(value))
        ax.legend(title="label", markerscale=2, fontsize="small", frameon=False,
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if title or model_name:
        ax.set_title(title or model_name)
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


def compression_curve(models, X=None, ks=None, *, X_test=None, ax=None, verbose=True):
    """Plot reconstruction error against latent dimension, one curve per model.

    The compression curve: how much a ``k``-number code loses of the data
    (lossy decompression through ``reconstruct``) as ``k`` grows.

    Parameters
    ----------
    models : dict of str to estimator, list of estimators, or pandas.DataFrame
        Models to refit at every ``k`` (see :func:`lvm.compression_table`),
        or the table that function returned.
    X : array-like of shape (n_samples, n_features), optional
        Training data; needed unless ``models`` is a table.
    ks : iterable of int, optional
        Latent dimensions; needed unless ``models`` is a table.
    X_test : array-like, optional
        Held-out data: the curve then shows the test error.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    verbose : bool or int, default=True
        Show a progress bar over the fits when they last over a second
        (``False`` or 0: none). As the models' ``verbose``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    import pandas as pd

    from .compare import _compression_rows

    if isinstance(models, pd.DataFrame):
        table = models
    else:
        if X is None or ks is None:
            raise ValueError("compression_curve needs X and ks to fit the models (or a compression_table)")
        table = _compression_rows(models, X, ks, X_test, verbose, stacklevel=3)
    column = "mse_test" if table["mse_test"].notna().any() else "mse_train"
    ax = _axes(ax)
    for name, rows in table.groupby("model", sort=False):
        ax.plot(rows["k"], rows[column], "o-", markersize=3, label=str(name))
    ax.set_xlabel("latent dimension k")
    ax.set_ylabel("mean squared error")
    _integer_ticks(ax.xaxis)
    ax.set_title(_METRIC_NAMES[column] + " against latent dimension")
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
    ax.set_xlabel("component or factor number")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"Parallel analysis: {result.n_factors} factor(s), {result.n_components} component(s)")
    ax.legend(frameon=False)
    return ax


def loadings(model, ax=None, cut=None, cmap="RdBu_r", component=None):
    """Draw a loadings matrix as a heatmap, one row per feature, values written in.

    Red is positive, blue negative, white zero, on a scale symmetric about
    zero; with ``cut``, cells below it in absolute value are left blank, as
    ``print(fa, cut=)`` does in R's psych.

    Parameters
    ----------
    model : fitted model or array-like of shape (n_features, n_factors)
        A model with ``loadings_`` (factor analysis) or ``components_``
        (PCA, PPCA: drawn transposed), or the matrix itself (a DataFrame keeps
        its row and column names).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    cut : float, optional
        Blank cells with ``|loading| < cut``.
    cmap : str, default="RdBu_r"
        A diverging matplotlib colormap.
    component : int, optional
        For a mixture of factor analyzers or of PPCA (one loadings matrix
        per component): the component whose loadings to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    import pandas as pd

    if hasattr(model, "loadings_") and np.ndim(model.loadings_) == 3:
        count = len(model.loadings_)
        if component is None or isinstance(component, bool) or component not in range(count):
            raise ValueError(f"{type(model).__name__} has one loadings matrix per component: pass "
                             f"component=0 .. {count - 1} (got {component!r})")
        matrix = pd.DataFrame(model.loadings_[component], index=model._names(), columns=model._latent_names())
    elif component is not None:
        raise ValueError(f"component={component!r} applies to mixtures of factor analyzers or PPCA, "
                         f"not to {type(model).__name__}")
    elif hasattr(model, "loadings_"):
        matrix = model.loadings_
    elif hasattr(model, "components_"):
        matrix = np.asarray(model.components_).T
        names = model._names() if hasattr(model, "_names") else None
        matrix = pd.DataFrame(matrix, index=names, columns=[f"Z{j + 1}" for j in range(matrix.shape[1])])
    elif hasattr(model, "fit"):
        raise ValueError(f"{type(model).__name__} has no loadings to draw (a model with loadings_ or components_ "
                         "is needed: FactorAnalysis, PCA, PPCA)")
    else:
        matrix = model
    if np.ndim(matrix) != 2:
        raise ValueError(f"loadings must be a 2-D matrix (features x factors), got shape {np.shape(matrix)}")
    frame = matrix if isinstance(matrix, pd.DataFrame) else pd.DataFrame(np.asarray(matrix))
    values = frame.to_numpy(dtype=float)
    p, k = values.shape
    ax = _axes(ax, figsize=(1.0 + 0.9 * k, 1.0 + 0.32 * p))
    limit = max(float(np.nanmax(np.abs(values))), 1e-12)
    shown = values if cut is None else np.where(np.abs(values) >= cut, values, np.nan)
    image = ax.imshow(shown, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(shown):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize="x-small",
                    color="white" if abs(value) > 0.6 * limit else "black")
    ax.set_xticks(range(k))
    ax.set_xticklabels([str(c) for c in frame.columns])
    ax.set_yticks(range(p))
    ax.set_yticklabels([str(r) for r in frame.index])
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="loading")
    return ax


def biplot(model, X, ax=None, labels=None, components=(0, 1)):
    """Draw the scores as points and the features as arrows in one latent plane (Gabriel 1971).

    Each arrow is a feature's loading on the two latent axes, scaled to the
    spread of the scores; features pointing the same way are correlated, and a
    point lies far along an arrow when that feature is high for it.

    Parameters
    ----------
    model : fitted PCA, PPCA or FactorAnalysis
        A model with ``transform`` and ``components_`` or ``loadings_``.
    X : array-like of shape (n_samples, n_features)
        Data whose scores are drawn.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    labels : array-like of shape (n_samples,), optional
        Colour the points by these classes.
    components : tuple of two int, default=(0, 1)
        The latent axes shown.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    References
    ----------
    Gabriel, K. R. (1971). The biplot graphic display of matrices with
    application to principal component analysis. Biometrika 58, 453-467.
    """
    a, b = components
    scores = np.asarray(model.transform(X))
    if max(a, b) >= scores.shape[1]:
        raise ValueError(f"biplot shows latent axes {a} and {b}, but the model has {scores.shape[1]}; "
                         "fit at least two, or choose other components")
    scores = scores[:, [a, b]]
    if hasattr(model, "loadings_"):
        vectors = np.asarray(model.loadings_, dtype=float)[:, [a, b]]
    else:
        vectors = np.asarray(model.components_, dtype=float)[[a, b]].T
    names = model._names() if hasattr(model, "_names") else [f"x{j}" for j in range(len(vectors))]
    ax = latent_scatter(scores, labels=labels, ax=ax, method="first")
    reach = np.abs(scores).max(axis=0)
    scale = 0.9 * np.min(reach / np.maximum(np.abs(vectors).max(axis=0), 1e-12))
    for (u, v), name in zip(vectors * scale, names, strict=True):
        ax.annotate("", xy=(u, v), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "tab:red"})
        ax.text(1.08 * u, 1.08 * v, name, color="tab:red", fontsize="small", ha="center", va="center")
    ax.set_xlabel(f"latent {a + 1}")
    ax.set_ylabel(f"latent {b + 1}")
    ax.set_title(f"Biplot ({type(model).__name__})")
    return ax


def _ellipse(ax, mean, covariance, color, n_std=(1.0, 2.0)):
    from matplotlib.patches import Ellipse

    values, vectors = np.linalg.eigh(covariance)
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    for n in n_std:
        width, height = 2 * n * np.sqrt(np.maximum(values[::-1], 0))
        ax.add_patch(Ellipse(mean, width, height, angle=angle, fill=False, color=color,
                             linewidth=1.5 if n == n_std[0] else 0.8))


def _mixture_parts(model, X, data, covariance_type):
    """Weights, means, full covariances, loadings (or None) and each row's likeliest component.

    ``X`` is the data as given (so a fitted model predicts on the same input
    it was fitted to), ``data`` its float array.
    """
    from .mixture._covariance import full_covariances

    p = data.shape[1]
    if not isinstance(model, dict):
        if hasattr(model, "loadings_") and hasattr(model, "covariances"):
            # A mixture of factor analyzers or of PPCA: W_k W_k^T + Psi_k, formed for the plot only.
            return model.weights_, model.means_, model.covariances(), np.asarray(model.loadings_), model.predict(X)
        weights, means = model.weights_, model.means_
        covariances = full_covariances(model.covariances_, len(weights), p, model.covariance_type)
        return weights, means, covariances, None, model.predict(X)
    weights = np.asarray(model["weights"])
    k = len(weights)
    means = np.asarray(model["means"]) + model.get("center", np.nanmean(data, axis=0))
    loadings = None
    if "loadings" in model:
        loadings = np.asarray(model["loadings"])
        noise = np.broadcast_to(np.asarray(model["noise"], dtype=float).reshape(k, -1), (k, p))
        covariances = np.einsum("kpq,krq->kpr", loadings, loadings) + noise[:, :, None] * np.eye(p)
    else:
        covariances = full_covariances(model["covariances"], k, p, covariance_type)
    # Components from the given parameters, so that the colours move with the EM steps.
    from scipy.stats import multivariate_normal

    log_density = np.column_stack([
        np.log(weights[j]) + multivariate_normal(means[j], covariances[j], allow_singular=True).logpdf(data)
        for j in range(k)
    ])
    return weights, means, covariances, loadings, np.argmax(log_density, axis=1)


def _plane(data, features, names):
    """The map onto the drawn plane: an offset, a (p, 2) matrix of axes, and the two axis labels."""
    p = data.shape[1]
    if isinstance(features, str):
        if features != "pca":
            raise ValueError(f"features={features!r} is invalid; give two column indices or 'pca'")
        if np.isnan(data).any():
            raise ValueError("features='pca' needs complete rows to find the principal axes; "
                             "choose two features instead")
        if p < 2:
            raise ValueError(f"features='pca' draws two principal axes but X has {p} column(s)")
        center = data.mean(axis=0)
        _, values, vt = np.linalg.svd(data - center, full_matrices=False)
        axes = vt[:2].T
        # Each axis points the way of its largest coordinate, so the picture does not flip between runs.
        axes = axes * np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
        share = values[:2] ** 2 / np.sum(values**2)
        return center, axes, [f"principal axis {i + 1} ({share[i]:.0%} of variance)" for i in range(2)]
    a, b = features
    if max(a, b) >= p:
        raise ValueError(f"mixture_ellipses draws features {tuple(features)} but X has {p} column(s)")
    axes = np.eye(p)[:, [a, b]]
    return np.zeros(p), axes, [names[a] if names else f"x{a}", names[b] if names else f"x{b}"]


def mixture_ellipses(model, X, ax=None, features=(0, 1), covariance_type=None):
    """Data coloured by most probable component, with each component's 1- and 2-sd ellipses.

    For a mixture of factor analyzers or of PPCA, each component's subspace
    is drawn too: one segment ``mu_k +- 2 w_kj`` per factor ``j`` (``w_kj``
    the ``j``-th column of ``W_k``), the span of two standard deviations of
    that factor, around the ellipses of ``W_k W_k^T + Psi_k``.

    The plane is two features of ``X`` (the ellipses are then the
    components' marginals), or the first two principal axes of ``X``
    (``features="pca"``; the ellipses are the components' distributions
    projected onto them), the view to take when no two features tell the
    components apart, as with images.

    Parameters
    ----------
    model : fitted GaussianMixture, MixtureOfFactorAnalyzers, MixtureOfPPCA, or dict
        The mixture, or a parameter dict as the models' callback gives it:
        ``weights``, ``means`` and ``covariances`` (``GaussianMixture``) or
        ``loadings`` and ``noise`` (the mixtures of factor analyzers). Their
        means are of the centred data, so ``center`` is added when present,
        and the column means of ``X`` otherwise.
    X : array-like of shape (n_samples, n_features)
        The data.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.
    features : tuple of two int or "pca", default=(0, 1)
        The two features shown, or ``"pca"`` for the first two principal axes
        of ``X`` (centred, not scaled).
    covariance_type : str, optional
        Storage of ``covariances`` when a dict is given and its shape is ambiguous.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    import pandas as pd

    names = list(X.columns) if isinstance(X, pd.DataFrame) else None
    data = np.asarray(X, dtype=float)
    center, axes, labels = _plane(data, features, names)
    weights, means, covariances, loadings, component = _mixture_parts(model, X, data, covariance_type)
    points = (data - center) @ axes
    means = (means - center) @ axes
    ax = _axes(ax, figsize=(5.5, 4.5))
    colors = [f"C{j % 10}" for j in range(len(weights))]
    ax.scatter(points[:, 0], points[:, 1], s=8, c=[colors[j] for j in component], alpha=0.6)
    for j in range(len(weights)):
        _ellipse(ax, means[j], axes.T @ covariances[j] @ axes, colors[j])
        if loadings is not None:
            for reach in (axes.T @ loadings[j]).T:
                ax.plot(*np.column_stack([means[j] - 2 * reach, means[j] + 2 * reach]), "-", color=colors[j],
                        linewidth=2.5, solid_capstyle="round")
        ax.plot(*means[j], "x", color="black", markersize=8)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    _ellipse_legend(ax, factors=loadings is not None and loadings.shape[2] > 0)
    return ax


def _ellipse_legend(ax, factors=False):
    """Say what the drawn shapes are: the ellipses hold a component's points within 1 and 2 sd of its mean."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="grey", linewidth=1.5, label="1 sd ellipse"),
               Line2D([], [], color="grey", linewidth=0.8, label="2 sd ellipse"),
               Line2D([], [], color="black", marker="x", linestyle="", markersize=8, label="component mean")]
    if factors:
        handles.append(Line2D([], [], color="grey", linewidth=2.5, label="mean \u00b1 2 \u00d7 loadings"))
    ax.legend(handles=handles, fontsize="x-small", loc="best")


def em_steps(steps, X, iterations=(0, 1, 2, 5, 20), axes=None, covariance_type=None, features=(0, 1)):
    """Show a mixture's EM at chosen iterations, one panel each.

    ``steps`` is what a ``GaussianMixture(callback=...)`` (or a mixture of
    factor analyzers' or of PPCA's callback) collected: the
    parameters at the start (iteration 0) and after every M-step, of a fit
    with ``n_init=1`` (with restarts the callback records every start, one
    after the other). Each panel
    draws the data coloured by the current most probable component and the
    components' ellipses (:func:`mixture_ellipses`). Iterations beyond the
    last step are dropped.

    Parameters
    ----------
    steps : list of dict
        Parameter dicts in iteration order.
    X : array-like of shape (n_samples, n_features)
        The data the mixture was fitted to.
    iterations : sequence of int, default=(0, 1, 2, 5, 20)
        Which iterations to show.
    axes : sequence of matplotlib.axes.Axes, optional
        One per shown iteration; a new figure with a row of panels when None.
    covariance_type : str, optional
        Passed to :func:`mixture_ellipses`.
    features : tuple of two int or "pca", default=(0, 1)
        The plane drawn, as in :func:`mixture_ellipses`.

    Returns
    -------
    ndarray of matplotlib.axes.Axes
        The axes drawn on.
    """
    shown = [i for i in iterations if i < len(steps)]
    if not shown:
        raise ValueError(f"no iteration of {list(iterations)} among the {len(steps)} steps recorded")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.2), sharex=True, sharey=True,
                               squeeze=False)
        axes = axes[0]
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != len(shown):
        raise ValueError(f"{len(axes)} axes given for {len(shown)} iterations {shown}")
    for position, (ax, i) in enumerate(zip(axes, shown, strict=True)):
        mixture_ellipses(steps[i], X, ax=ax, covariance_type=covariance_type, features=features)
        ax.set_title(f"iteration {i}")
        if position > 0:
            # One key is enough for a row of panels that draw the same shapes.
            ax.get_legend().remove()
    return axes


def em_convergence(models, ax=None):
    """Plot log-likelihood against iteration, one curve per model (EM never lets it fall).

    Parameters
    ----------
    models : dict of str to fitted model or array-like, or a single one
        Fitted models with ``history_`` (mean log-likelihood per sample at the
        start and after each iteration), or the histories themselves.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    if not isinstance(models, dict):
        models = {type(models).__name__ if hasattr(models, "history_") else "EM": models}
    ax = _axes(ax)
    for name, model in models.items():
        history = np.asarray(getattr(model, "history_", model), dtype=float)
        if history.ndim != 1:
            raise ValueError(f"{name}: a log-likelihood history is one number per iteration, got shape "
                             f"{history.shape}")
        ax.plot(np.arange(len(history)), history, "o-", markersize=3, label=str(name))
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean log-likelihood")
    _integer_ticks(ax.xaxis)
    ax.legend(frameon=False)
    return ax


def comparison(table, metric=None, ax=None):
    """Bar chart of one column of :func:`lvm.compare`'s table, one horizontal bar per model.

    Bars run sideways so that long model names stay readable; each bar has its
    value written at its end ("n/a" where the model has none).

    Parameters
    ----------
    table : pandas.DataFrame
        The table ``lvm.compare`` returned.
    metric : str, optional
        Column to draw; ``mse_test`` when present and filled, else ``mse_train``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    if metric is None:
        metric = "mse_test" if "mse_test" in table and table["mse_test"].notna().any() else "mse_train"
    if metric not in table:
        raise ValueError(f"the table has no column {metric!r}; it has {list(table.columns)}")
    values = table[metric].astype(float)
    ax = _axes(ax, figsize=(6, 1.2 + 0.45 * len(values)))
    bars = ax.barh([str(i) for i in values.index], values.fillna(0.0),
                   color=[f"C{j % 10}" for j in range(len(values))])
    for bar, value in zip(bars, values, strict=True):
        sign = -1 if value < 0 else 1
        ax.annotate("n/a" if np.isnan(value) else f"{value:.3g}", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(3 * sign, 0), textcoords="offset points", ha="left" if sign > 0 else "right",
                    va="center", fontsize="small")
    # The first model on top, as in the table; room at the ends for the values.
    ax.invert_yaxis()
    ax.margins(x=0.15)
    ax.set_title(_METRIC_NAMES.get(metric, metric.replace("_", " ")))
    return ax
