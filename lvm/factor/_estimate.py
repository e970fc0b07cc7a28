"""One fit of the factor model, as every estimation route hands it to the estimator."""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Estimate:
    """One fit of the factor model to a correlation matrix, before rotation and labels.

    Everything the fitted attributes of :class:`~lvm.FactorAnalysis` are made
    of, for the ``q`` variables the model describes (``varying``; constant
    columns are added back as zeros).

    Attributes
    ----------
    correlation : ndarray of shape (q, q)
        The correlation matrix analysed: fit statistics and regression scores use it.
    n_samples : int
    loadings : ndarray of shape (q, k)
        Unrotated standardised loadings.
    uniquenesses : ndarray of shape (q,)
    n_iter : int
    converged : bool
    mean : ndarray of shape (p,)
    scale : ndarray of shape (q,)
        Standard deviations that standardise data for scores (divisor ``n - 1``).
    ml_scale : ndarray of shape (q,)
        Standard deviations of the model's units (divisor ``n``).
    history : ndarray
        The objective at the start and after every iteration.
    source : str
        How ``correlation`` was obtained (``"sample"``, ``"matrix"``, ``"pairwise"``, ``"em"``).
    loglik : float or None
        Total log-likelihood; None: the Gaussian log-likelihood of ``n_samples``
        rows with correlation ``correlation`` in the units ``ml_scale``.
    varying : ndarray of shape (p,) of bool or None
        The variables described; None: all.
    """

    correlation: np.ndarray
    n_samples: int
    loadings: np.ndarray
    uniquenesses: np.ndarray
    n_iter: int
    converged: bool
    mean: np.ndarray
    scale: np.ndarray
    ml_scale: np.ndarray
    history: np.ndarray
    source: str
    loglik: float = None
    varying: np.ndarray = None


def variance_table(loadings, phi, names):
    """SS loadings ``diag(Phi L^T L)``, their proportions and cumulative proportions, one column per factor."""
    ss = np.diag(phi @ loadings.T @ loadings)
    p = loadings.shape[0]
    return pd.DataFrame(
        {"SS loadings": ss, "Proportion Var": ss / p, "Cumulative Var": np.cumsum(ss) / p,
         "Proportion Explained": ss / ss.sum(), "Cumulative Proportion": np.cumsum(ss) / ss.sum()},
        index=names,
    ).T
