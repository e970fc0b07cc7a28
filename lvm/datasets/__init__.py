"""Data sets: scikit-learn's bundled digits, and synthetic data with known truth."""

from ._loaders import load_digits

__all__ = ["load_digits"]
