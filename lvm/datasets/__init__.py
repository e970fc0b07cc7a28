"""Data sets: scikit-learn's bundled digits, classic sets for latent variable models, and synthetic
data with known truth (factor model, probabilistic PCA, Gaussian mixture, mixture of factor
analyzers)."""

from ._loaders import (
    load_bfi,
    load_digits,
    load_holzinger_swineford,
    load_matrix,
    load_old_faithful,
)
from ._synthetic import Synthetic, make_factor_data, make_mfa_data, make_mixture_data, make_ppca_data

__all__ = [
    "Synthetic", "load_bfi", "load_digits", "load_holzinger_swineford", "load_matrix", "load_old_faithful",
    "make_factor_data", "make_mfa_data", "make_mixture_data", "make_ppca_data",
]
