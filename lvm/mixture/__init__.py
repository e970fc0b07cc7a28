"""Gaussian mixtures fitted by EM, and model selection over them."""

from .gaussian import GaussianMixture
from .mfa import MixtureOfFactorAnalyzers, MixtureOfPPCA
from .selection import select_mixture

__all__ = ["GaussianMixture", "MixtureOfFactorAnalyzers", "MixtureOfPPCA", "select_mixture"]
