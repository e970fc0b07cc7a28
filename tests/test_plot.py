"""Figures draw on the Axes they are given and return it."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import lvm

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hs():
    return lvm.datasets.load_holzinger_swineford(tests_only=True)


@pytest.fixture(scope="module")
def faithful_steps():
    X = lvm.datasets.load_old_faithful()
    steps = []
    gm = lvm.GaussianMixture(2, init="random", random_state=4, callback=lambda it, params: steps.append(params)).fit(X)
    return X, steps, gm


def _two_subspaces(seed, n=200, p=4):
    """Two clusters in ``p`` dimensions, each near a line of its own: a mixture of factor analyzers' data."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, p))
    centres[1, :2] = 6.0
    directions = rng.normal(size=(2, p)) * 2.0
    labels = np.repeat([0, 1], n // 2)
    X = centres[labels] + rng.normal(size=(n, 1)) * directions[labels] + 0.3 * rng.normal(size=(n, p))
    return X, labels


@pytest.fixture(scope="module")
def mfa_data():
    X, _ = _two_subspaces(0)
    return X, lvm.MixtureOfFactorAnalyzers(2, 1, random_state=0).fit(X)


def _calls(hs, faithful_steps, mfa_data):
    X, steps, gm = faithful_steps
    X_mfa, mfa = mfa_data
    pca = lvm.PCA(5).fit(hs)
    fa = lvm.FactorAnalysis(3, rotation="varimax").fit(hs)
    table = lvm.compare({"PCA": lvm.PCA(2), "PPCA": lvm.PPCA(2)}, hs)
    curve = lvm.compression_table({"PCA": lvm.PCA()}, hs, ks=[1, 2, 3])
    return {
        "scree": lambda ax: lvm.plot.scree(pca, ax=ax),
        "latent_scatter": lambda ax: lvm.plot.latent_scatter(pca.transform(hs), labels=np.arange(len(hs)) % 3, ax=ax),
        "latent_scatter_model_tsne": lambda ax: lvm.plot.latent_scatter(pca, hs, method="tsne", ax=ax),
        "reconstruction_grid": lambda ax: lvm.plot.reconstruction_grid(np.ones((3, 4)), np.zeros((3, 4)), (2, 2),
                                                                       ax=ax),
        "compression_curve_table": lambda ax: lvm.plot.compression_curve(curve, ax=ax),
        "compression_curve_models": lambda ax: lvm.plot.compression_curve({"PCA": lvm.PCA()}, hs, [1, 2], ax=ax),
        "parallel_analysis": lambda ax: lvm.plot.parallel_analysis(lvm.factor.parallel_analysis(hs, random_state=0),
                                                                   ax=ax),
        "loadings": lambda ax: lvm.plot.loadings(fa, cut=0.3, ax=ax),
        "loadings_pca": lambda ax: lvm.plot.loadings(pca, ax=ax),
        "biplot": lambda ax: lvm.plot.biplot(pca, hs, ax=ax),
        "mixture_ellipses": lambda ax: lvm.plot.mixture_ellipses(gm, X, ax=ax),
        "mixture_ellipses_step": lambda ax: lvm.plot.mixture_ellipses(steps[0], X, ax=ax),
        "mixture_ellipses_mfa": lambda ax: lvm.plot.mixture_ellipses(mfa, X_mfa, ax=ax, features="pca"),
        "em_convergence": lambda ax: lvm.plot.em_convergence({"GMM": gm, "raw": gm.history_}, ax=ax),
        "comparison": lambda ax: lvm.plot.comparison(table, ax=ax),
    }


def test_every_plot_returns_its_axes(tmp_path, hs, faithful_steps, mfa_data):
    for name, call in _calls(hs, faithful_steps, mfa_data).items():
        figure, ax = plt.subplots()
        assert call(ax) is ax, name
        assert ax.has_data() or ax.texts or ax.images, name
        figure.savefig(tmp_path / f"{name}.png")
        plt.close(figure)
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG


def test_plots_make_their_own_figure_without_ax(hs):
    ax = lvm.plot.loadings(lvm.PCA(2).fit(hs))
    assert ax.figure is not None
    plt.close(ax.figure)


def test_loadings_blank_below_cut(hs):
    fa = lvm.FactorAnalysis(3, rotation="varimax").fit(hs)
    figure, ax = plt.subplots()
    lvm.plot.loadings(fa, cut=0.3, ax=ax)
    shown = ax.images[0].get_array()
    values = np.asarray(fa.loadings_, dtype=float)
    assert np.ma.getmaskarray(shown).sum() + np.isnan(np.ma.filled(shown, np.nan)).sum() > 0
    assert len(ax.texts) == int((np.abs(values) >= 0.3).sum())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(hs.columns)
    plt.close(figure)


def test_em_steps_one_panel_per_iteration_and_the_means_move(faithful_steps):
    X, steps, gm = faithful_steps
    assert gm.n_iter_ >= 5, "the seed should give a run long enough to watch"
    axes = lvm.plot.em_steps(steps, X, iterations=(0, 1, 2, 5, 20, 10_000))
    shown = [i for i in (0, 1, 2, 5, 20) if i < len(steps)]
    assert len(axes) == len(shown)
    assert [ax.get_title() for ax in axes] == [f"iteration {i}" for i in shown]
    # The callback's parameters are snapshots, not one dict changed in place.
    assert not np.allclose(steps[0]["means"], steps[-1]["means"])
    plt.close(axes[0].figure)
    # The last step's component centres (black crosses) are the fitted means:
    # the callback's means are of the centred data, and the plot adds the centre back.
    (last,) = lvm.plot.em_steps(steps, X, iterations=(len(steps) - 1,))
    crosses = np.array([line.get_xydata()[0] for line in last.lines])
    np.testing.assert_allclose(np.sort(crosses, axis=0), np.sort(gm.means_, axis=0), rtol=1e-8)
    plt.close(last.figure)
    with pytest.raises(ValueError, match="no iteration"):
        lvm.plot.em_steps(steps, X, iterations=(10_000,))


def test_plot_errors_are_clear(hs):
    with pytest.raises(ValueError, match="pass labels by name"):
        lvm.plot.latent_scatter(np.zeros((5, 2)), np.arange(5))
    with pytest.raises(ValueError, match="needs X"):
        lvm.plot.latent_scatter(lvm.PCA(2).fit(hs))
    with pytest.raises(ValueError, match="method='umap' is invalid"):
        lvm.plot.latent_scatter(np.zeros((5, 2)), method="umap")
    with pytest.raises(ValueError, match="no column 'speed'"):
        lvm.plot.comparison(pd.DataFrame({"mse_train": [1.0]}), "speed")
    with pytest.raises(ValueError, match="has no loadings to draw"):
        lvm.plot.loadings(lvm.Autoencoder(2, epochs=1).fit(hs))
    with pytest.raises(ValueError, match="the model has 1"):
        lvm.plot.biplot(lvm.PCA(1).fit(hs), hs)
    with pytest.raises(ValueError, match="X has 1 column"):
        lvm.plot.mixture_ellipses(lvm.GaussianMixture(2, random_state=0).fit(hs[["x1"]]), hs[["x1"]])
    with pytest.raises(ValueError, match="needs X and ks"):
        lvm.plot.compression_curve({"PCA": lvm.PCA()})
    with pytest.raises(ValueError, match="features='pc' is invalid"):
        lvm.plot.mixture_ellipses(lvm.GaussianMixture(2, random_state=0).fit(hs), hs, features="pc")
    with pytest.raises(ValueError, match="pass covariance_type"):
        lvm.plot.mixture_ellipses({"weights": [0.5, 0.5], "means": np.zeros((2, 2)),
                                   "covariances": np.ones((2, 2))}, np.zeros((5, 2)))


def _segments(ax):
    """The drawn lines that are segments (two points), as (start, end) pairs."""
    return [line.get_xydata() for line in ax.lines if len(line.get_xydata()) == 2]


def _crosses(ax):
    return np.array([line.get_xydata()[0] for line in ax.lines if line.get_marker() == "x"])


@pytest.mark.parametrize("model", [lvm.MixtureOfFactorAnalyzers(2, 1, random_state=0),
                                   lvm.MixtureOfPPCA(2, 2, random_state=0)], ids=["MFA", "MPPCA"])
def test_mixture_ellipses_draws_each_components_subspace(model, seed):
    X, _ = _two_subspaces(seed)
    model.fit(X)
    k, q = model.n_components, model.n_factors
    figure, ax = plt.subplots()
    assert lvm.plot.mixture_ellipses(model, X, ax=ax, features=(0, 2)) is ax
    # Per component: a 1 sd and a 2 sd ellipse, a mean, and one segment per factor.
    assert len(ax.patches) == 2 * k
    assert len(_crosses(ax)) == k
    segments = _segments(ax)
    assert len(segments) == k * q
    np.testing.assert_allclose(_crosses(ax), model.means_[:, [0, 2]])
    expected = [np.array([mean - 2 * w, mean + 2 * w])
                for mean, W in zip(model.means_[:, [0, 2]], model.loadings_[:, [0, 2]], strict=True) for w in W.T]
    np.testing.assert_allclose(np.array(segments), np.array(expected))
    # The ellipses are the marginals of W W^T + Psi on the two features.
    for j, patch in enumerate(ax.patches[::2]):
        values = np.linalg.eigvalsh(model.covariances()[j][np.ix_([0, 2], [0, 2])])
        np.testing.assert_allclose(patch.center, model.means_[j, [0, 2]])
        np.testing.assert_allclose(sorted([patch.width, patch.height]), 2 * np.sqrt(values))
    # The points take the colour of the component predict gives them.
    colours = ax.collections[0].get_facecolors()[:, :3]
    predicted = model.predict(X)
    for j in range(k):
        assert np.allclose(colours[predicted == j], plt.matplotlib.colors.to_rgb(f"C{j}"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "1 sd ellipse", "2 sd ellipse", "component mean", "mean \u00b1 2 \u00d7 loadings"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x2")
    plt.close(figure)


def test_mixture_ellipses_on_principal_axes(mfa_data):
    X, mfa = mfa_data
    figure, ax = plt.subplots()
    lvm.plot.mixture_ellipses(mfa, X, ax=ax, features="pca")
    pca = lvm.PCA(2).fit(X)
    share = pca.explained_variance_ratio_
    assert ax.get_xlabel() == f"principal axis 1 ({share[0]:.0%} of variance)"
    assert ax.get_ylabel() == f"principal axis 2 ({share[1]:.0%} of variance)"
    # Means and segment ends are the model's, projected onto the principal axes (signs are a convention).
    np.testing.assert_allclose(np.abs(_crosses(ax)), np.abs(pca.transform(mfa.means_)), atol=1e-10)
    ends = np.array(_segments(ax)).reshape(-1, 2)
    model_ends = np.concatenate([mfa.means_[j] + s * 2 * mfa.loadings_[j, :, 0] for j in range(2) for s in (-1, 1)])
    np.testing.assert_allclose(np.abs(ends), np.abs(pca.transform(model_ends.reshape(-1, X.shape[1]))), atol=1e-10)
    # An ellipse is the component's covariance seen along the two axes: its 1 sd area is pi sqrt(det).
    for j, patch in enumerate(ax.patches[::2]):
        projected = pca.components_ @ mfa.covariances()[j] @ pca.components_.T
        np.testing.assert_allclose(np.pi * patch.width * patch.height / 4, np.pi * np.sqrt(np.linalg.det(projected)))
    plt.close(figure)


def test_em_steps_of_a_mixture_of_factor_analyzers(seed):
    X, _ = _two_subspaces(seed)
    steps = []
    mfa = lvm.MixtureOfFactorAnalyzers(2, 1, random_state=0, callback=lambda it, params: steps.append(params)).fit(X)
    (last,) = lvm.plot.em_steps(steps, X, iterations=(len(steps) - 1,), features=(0, 1))
    # The callback's means are of the centred data; the plot adds the centre back.
    np.testing.assert_allclose(np.sort(_crosses(last), axis=0), np.sort(mfa.means_[:, :2], axis=0), rtol=1e-8)
    assert len(_segments(last)) == 2
    plt.close(last.figure)


def test_loadings_of_a_mixture_of_factor_analyzers_are_drawn_per_component():
    X = lvm.datasets.make_mfa_data(300, 6, 2, 2, random_state=0, as_frame=True).X
    model = lvm.MixtureOfFactorAnalyzers(2, 2, random_state=0).fit(X)
    ax = lvm.plot.loadings(model, component=1)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(X.columns)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Z1", "Z2"]
    np.testing.assert_array_equal(ax.images[0].get_array(), model.loadings_[1])
    with pytest.raises(ValueError, match="one loadings matrix per component: pass component=0 .. 1"):
        lvm.plot.loadings(model)
    with pytest.raises(ValueError, match="applies to mixtures"):
        lvm.plot.loadings(lvm.PCA(2).fit(X), component=0)
    plt.close("all")
