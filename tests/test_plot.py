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


def _calls(hs, faithful_steps):
    X, steps, gm = faithful_steps
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
        "em_convergence": lambda ax: lvm.plot.em_convergence({"GMM": gm, "raw": gm.history_}, ax=ax),
        "comparison": lambda ax: lvm.plot.comparison(table, ax=ax),
    }


def test_every_plot_returns_its_axes(tmp_path, hs, faithful_steps):
    for name, call in _calls(hs, faithful_steps).items():
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
    with pytest.raises(ValueError, match="pass covariance_type"):
        lvm.plot.mixture_ellipses({"weights": [0.5, 0.5], "means": np.zeros((2, 2)),
                                   "covariances": np.ones((2, 2))}, np.zeros((5, 2)))
