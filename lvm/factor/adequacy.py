"""Is a correlation matrix worth factoring? KMO, Bartlett's test of sphericity, squared multiple correlations."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from . import _fitting
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


def smc(X, *, is_correlation=None):
    """Squared multiple correlation of each variable with all the others (Guttman 1940; Dwyer 1939).

    The share of a variable's variance that the linear regression on the
    other ``p - 1`` variables explains, its :math:`R^2`, read off the inverse
    of the correlation matrix:

    .. math:: \\mathrm{SMC}_j = 1 - \\frac{1}{(R^{-1})_{jj}} .

    It is a lower bound of the communality of variable ``j`` in any common
    factor model (Guttman 1956), hence the usual starting communality of
    principal axis and minres (``FactorAnalysis(start="smc")``). Equal to
    ``psych::smc`` on a regular matrix.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (p, p)
        Data (rows are observations; NaN allowed: pairwise-complete
        correlations, as ``psych::smc``'s ``cor(use="pairwise")``), or a
        correlation or covariance matrix (the SMC does not depend on the
        units, so a covariance matrix is first scaled to correlations).
    is_correlation : bool or None, default=None
        Whether ``X`` is a correlation or covariance matrix (True) or data
        (False). None: a matrix when ``X`` is square and symmetric, as
        :func:`kmo` decides; say False for square data that happen to be
        symmetric.

    Returns
    -------
    pandas.Series of shape (p,)
        The SMCs, named ``"SMC"`` and indexed by the column names (``x0``,
        ``x1``, ... for an array).

    Raises
    ------
    ValueError
        When the correlation matrix is singular (an exact linear dependence
        among the variables, or no more rows than variables) or, from
        pairwise-complete correlations, not positive semi-definite.
        ``psych::smc`` then uses the pseudo-inverse and clips the result to
        ``[0, 1]`` with a message; those numbers are not squared multiple
        correlations (a variable that is an exact combination of others has
        SMC 1, but its pseudo-inverse diagonal is finite), so lvm names the
        dependent variables instead.

    References
    ----------
    Dwyer, P. S. (1939). The contribution of an orthogonal multiple factor
    solution to multiple correlation. Psychometrika 4, 163-171.

    Guttman, L. (1940). Multiple rectilinear prediction and the resolution
    into components. Psychometrika 5, 75-99.

    Guttman, L. (1956). "Best possible" systematic estimates of
    communalities. Psychometrika 21, 273-285.

    Examples
    --------
    >>> import lvm
    >>> X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    >>> lvm.factor.smc(X).round(3).tolist()[:3]
    [0.358, 0.173, 0.282]
    """
    R, names, n_obs = correlation_input(X, matrix=is_correlation)
    smallest, largest = linalg.eigvalsh(R)[[0, -1]]
    # Pairwise-complete correlations need not be a correlation matrix of any data.
    if smallest < -np.sqrt(np.finfo(np.float64).eps) * largest:
        raise ValueError(
            f"smc: the correlation matrix is not positive semi-definite (smallest eigenvalue {smallest:.3g}), "
            "as pairwise-complete correlations can be; it has no squared multiple correlations. "
            "Use complete rows, or an estimate such as FactorAnalysis(missing='em').correlation_."
        )
    check_nonsingular(R, "smc", n_obs, names)
    return pd.Series(_fitting.smc(R), index=names, name="SMC")
