"""Figures draw on the Axes they are given and return it."""

import matplotlib.pyplot as plt
import numpy as np

import lvm


def test_every_plot_returns_its_axes(tmp_path):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    pca = lvm.PCA(5).fit(X)
    calls = [
        lambda ax: lvm.plot.scree(pca, ax=ax),
        lambda ax: lvm.plot.latent_scatter(pca.transform(X), labels=np.arange(len(X)) % 3, ax=ax),
        lambda ax: lvm.plot.reconstruction_grid(np.ones((3, 4)), np.zeros((3, 4)), (2, 2), ax=ax),
        lambda ax: lvm.plot.compression_curve([1, 2, 3], [3.0, 2.0, 1.0], ax=ax, label="PCA"),
        lambda ax: lvm.plot.parallel_analysis(lvm.factor.parallel_analysis(X, random_state=0), ax=ax),
    ]
    for i, call in enumerate(calls):
        figure, ax = plt.subplots()
        assert call(ax) is ax
        assert ax.has_data()
        figure.savefig(tmp_path / f"{i}.png")
        plt.close(figure)
