"""Linear-Gaussian decompositions: PCA and probabilistic PCA."""

from .pca import PCA
from .ppca import PPCA

__all__ = ["PCA", "PPCA"]
