"""Data sets: scikit-learn's bundled digits and classic sets for latent variable models."""

from ._loaders import (
    load_bfi,
    load_digits,
    load_holzinger_swineford,
    load_matrix,
    load_old_faithful,
)

__all__ = ["load_bfi", "load_digits", "load_holzinger_swineford", "load_matrix", "load_old_faithful"]
