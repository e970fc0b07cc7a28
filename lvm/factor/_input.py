"""Turn data or a published matrix into a correlation matrix with variable names."""

import numpy as np
import pandas as pd

from .._validation import _check_raw_structure


def is_matrix(X):
    """True when ``X`` is square and symmetric: a covariance or correlation matrix, not data."""
    values = np.asarray(X, dtype=np.float64)
    return values.ndim == 2 and values.shape[0] == values.shape[1] and np.allclose(values, values.T, equal_nan=False)


def covariance_to_correlation(S, name="the matrix"):
    """``D^{-1/2} S D^{-1/2}`` with ``D = diag(S)``; an error names a non-positive variance."""
    S = np.asarray(S, dtype=np.float64)
    variances = np.diag(S)
    if np.any(variances <= 0) or not np.all(np.isfinite(S)):
        bad = np.flatnonzero(~(variances > 0)).tolist()
        raise ValueError(
            f"{name} has non-positive or non-finite variances (rows {bad}); it is not a covariance matrix."
        )
    scale = 1.0 / np.sqrt(variances)
    R = S * scale[:, None] * scale[None, :]
    np.fill_diagonal(R, 1.0)
    return R


def pairwise_correlation(X):
    """Correlations of the columns of ``X`` over the rows where both are observed."""
    frame = pd.DataFrame(X)
    return frame.corr(min_periods=2).to_numpy()


def correlation_input(X, n_obs=None, *, matrix=None):
    """Correlation matrix, variable names and sample size from data or from a matrix.

    Parameters
    ----------
    X : array-like
        ``(n, p)`` data (NaN allowed: pairwise-complete correlations) or a
        ``(p, p)`` covariance/correlation matrix.
    n_obs : int, optional
        Sample size behind a matrix.
    matrix : bool or None, default=None
        Whether ``X`` is a matrix; None: when it is square and symmetric.

    Returns
    -------
    R : ndarray of shape (p, p)
    names : list of str
    n_obs : int or None
    """
    _check_raw_structure(X, "X")
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(f"X must be 2-D with at least 2 variables; got shape {values.shape}.")
    if matrix is None:
        matrix = is_matrix(values)
    if matrix:
        if values.shape[0] != values.shape[1]:
            raise ValueError(f"X must be a square matrix when is_correlation=True; got shape {values.shape}.")
        if np.all(np.isfinite(values)) and not np.allclose(values, values.T):
            raise ValueError("X must be a symmetric matrix when is_correlation=True; it is not symmetric.")
        R = covariance_to_correlation(values)
    else:
        if np.isinf(values).any():
            raise ValueError("X contains infinity; remove or clip those entries.")
        constant = np.flatnonzero(np.nanstd(values, axis=0) == 0)
        if constant.size:
            labels = [names[j] for j in constant] if names else constant.tolist()
            raise ValueError(f"X has constant column(s) {labels}; a correlation with them is undefined. Drop them.")
        R = pairwise_correlation(values)
        n_obs = values.shape[0] if n_obs is None else n_obs
    if names is None:
        names = [f"x{j}" for j in range(R.shape[0])]
    if not np.all(np.isfinite(R)):
        raise ValueError(
            "some pairs of variables have fewer than 2 rows observed together; their correlation is undefined."
        )
    return R, names, n_obs


# An eigenvalue of R below this many units of round-off of the largest, per
# variable, is zero: the correlations of n <= p rows or of duplicated
# columns come out with eigenvalues of about 1e-16, positive or negative.
_SINGULAR_ULPS = 100


def check_nonsingular(R, who, n_obs=None, names=None, *, rows_needed=False):
    """Raise a ValueError naming the cause when the correlation matrix ``R`` is singular.

    Parameters
    ----------
    R : ndarray of shape (p, p)
    who : str
        The function or class named in the message.
    n_obs : int, optional
        Rows behind ``R``; with ``n_obs <= p`` the rank is at most ``n_obs - 1``.
    names : list of str, optional
        Variable names, to name the redundant ones.
    rows_needed : bool, default=False
        Raise when ``n_obs <= p`` even if ``R`` itself is regular (a published
        matrix): for a method that also draws data sets of ``n_obs`` rows.
    """
    p = len(R)
    too_few_rows = n_obs is not None and n_obs <= p
    values, vectors = np.linalg.eigh(R)
    regular = values[0] > _SINGULAR_ULPS * p * np.finfo(np.float64).eps * values[-1]
    if regular and not (too_few_rows and rows_needed):
        return
    if too_few_rows:
        raise ValueError(
            f"{who}: the correlation matrix is singular: {n_obs} rows for {p} variables, and the correlations "
            f"of n rows have rank at most n - 1. Use more rows than variables (at least {p + 1})."
        )
    # The variables carrying the null direction are the linearly dependent ones.
    null = np.abs(vectors[:, 0])
    involved = np.flatnonzero(null > 0.1 * null.max())
    labels = [names[j] if names else f"x{j}" for j in involved]
    raise ValueError(
        f"{who}: the correlation matrix is singular: the variables {labels} are exact linear "
        "combinations of one another (duplicated or derived columns). Drop the redundant ones."
    )


def check_factorable(R, n_obs=None, names=None):
    """Raise a ValueError when no factor model can be fitted to ``R``: singular, or the identity.

    An identity has no common variance: every factor model fits it exactly
    with each "factor" a single variable's own variance, so there is no
    solution to report.

    Parameters
    ----------
    R : ndarray of shape (p, p)
    n_obs : int, optional
    names : list of str, optional
    """
    if n_obs is not None and n_obs <= len(R):
        # Such a matrix passes a Cholesky factorisation by round-off about as often as not.
        check_nonsingular(R, "FactorAnalysis", n_obs, names)
    try:
        np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        check_nonsingular(R, "FactorAnalysis", None, names)
    # An exactly duplicated column whose correlation matrix passes Cholesky by
    # round-off is fitted: a Heywood case with an infinite chi-square.
    off_diagonal = R[~np.eye(len(R), dtype=bool)]
    if np.max(np.abs(off_diagonal)) <= _SINGULAR_ULPS * np.finfo(np.float64).eps:
        raise ValueError(
            "FactorAnalysis: the correlation matrix is the identity: the variables are uncorrelated and "
            "share no variance, so there are no common factors to find."
        )
