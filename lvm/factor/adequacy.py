"""Is a correlation matrix worth factoring? KMO and Bartlett's test of sphericity."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ._input import check_nonsingular, correlation_input


@dataclass
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
        ``sum r_ij^2 / (sum r_ij^2 + sum q_ij^2)`` over ``i != j``, with ``q``
        the partial (anti-image) correlations.
    per_variable : pandas.Series
        The same ratio row by row (MSA_i).
    """

    overall: float
    per_variable: pd.Series


@dataclass
class BartlettResult:
    """Bartlett's (1951) test that the correlation matrix is the identity.

    Attributes
    ----------
    chi2 : float
        ``-(n - 1 - (2 p + 5) / 6) log|R|``.
    dof : float
        ``p (p - 1) / 2``.
    p_value : float
    """

    chi2: float
    dof: float
    p_value: float


def kmo(X):
    """Kaiser-Meyer-Olkin measure of sampling adequacy (Kaiser 1970; Kaiser & Rice 1974).

    .. math:: \\mathrm{MSA} = \\frac{\\sum_{i \\ne j} r_{ij}^2}
              {\\sum_{i \\ne j} r_{ij}^2 + \\sum_{i \\ne j} q_{ij}^2},
              \\qquad q_{ij} = -\\frac{(R^{-1})_{ij}}{\\sqrt{(R^{-1})_{ii} (R^{-1})_{jj}}}

    Values above 0.8 are "meritorious", below 0.5 "unacceptable" (Kaiser 1974).
    Equal to ``psych::KMO``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (p, p)
        Data (NaN allowed: pairwise-complete correlations), or a correlation
        or covariance matrix.

    Returns
    -------
    KMOResult

    Raises
    ------
    ValueError
        When the correlation matrix is singular (duplicated columns, or no
        more rows than variables): the partial correlations are then undefined.
    """
    R, names, n_obs = correlation_input(X)
    # psych::KMO falls back to R itself when solve(R) fails, which is no
    # anti-image at all; a singular R has partial correlations of +-1 or
    # undefined ones, so the measure does not exist.
    check_nonsingular(R, "kmo", n_obs, names)
    inverse = linalg.inv(R)  # the anti-image correlations are defined through R^{-1} itself
    scale = np.sqrt(np.diag(inverse))
    partial = -inverse / np.outer(scale, scale)
    off = ~np.eye(len(R), dtype=bool)
    r2 = np.where(off, R**2, 0.0)
    q2 = np.where(off, partial**2, 0.0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    per_variable = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(overall), pd.Series(per_variable, index=names, name="MSA"))


def bartlett_sphericity(X, n_obs=None):
    """Bartlett's (1951) test of sphericity: are the variables uncorrelated?

    .. math:: \\chi^2 = -\\left(n - 1 - \\frac{2p + 5}{6}\\right) \\log|R|,
              \\qquad \\mathrm{df} = \\frac{p (p - 1)}{2}

    Equal to ``psych::cortest.bartlett``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (p, p)
        Data, or a correlation or covariance matrix (then give ``n_obs``).
    n_obs : int, optional
        Sample size; required for a matrix, taken from the rows of data.

    Returns
    -------
    BartlettResult
    """
    R, _, n = correlation_input(X, n_obs)
    if n is None:
        raise ValueError("bartlett_sphericity: give n_obs, the number of observations behind the matrix.")
    p = len(R)
    chi2 = -((n - 1) - (2 * p + 5) / 6) * np.linalg.slogdet(R)[1]
    dof = p * (p - 1) / 2
    return BartlettResult(float(chi2), dof, float(stats.chi2.sf(chi2, dof)))
