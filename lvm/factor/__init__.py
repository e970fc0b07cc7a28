"""Exploratory factor analysis: estimation, rotation, scores, fit, adequacy, selection."""

from ._bootstrap import FactorBootstrap, bootstrap
from .adequacy import bartlett_sphericity, kmo, smc
from .analysis import FactorAnalysis
from .fit import fit_statistics
from .rotation import rotate
from .selection import parallel_analysis

__all__ = ["FactorAnalysis", "FactorBootstrap", "bartlett_sphericity", "bootstrap", "fit_statistics", "kmo",
           "parallel_analysis", "rotate", "smc"]
