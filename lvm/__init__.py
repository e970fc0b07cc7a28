"""lvm: classical latent variable models.

PCA, probabilistic PCA, factor analysis and Gaussian mixtures fitted with EM,
and a numpy autoencoder to compare them with, all under one scikit-learn
compatible contract.
"""

from . import datasets, factor, metrics, mixture, plot
from ._base import LatentModel
from ._version import __version__
from .autoencoder import Autoencoder
from .compare import compare, compression_table
from .decomposition import PCA, PPCA
from .factor import FactorAnalysis
from .io import load
from .mixture import GaussianMixture, MixtureOfFactorAnalyzers, MixtureOfPPCA, select_mixture

__all__ = [
    "Autoencoder", "FactorAnalysis", "GaussianMixture", "LatentModel", "MixtureOfFactorAnalyzers", "MixtureOfPPCA",
    "PCA", "PPCA", "__version__",
    "compare", "compression_table", "datasets", "factor", "load", "metrics", "mixture", "plot", "select_mixture",
]
