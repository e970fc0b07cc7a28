"""Gaussian mixtures fitted by EM, and model selection over them."""

from .gaussian import GaussianMixture
from .selection import select_mixture

__all__ = ["GaussianMixture", "select_mixture"]
