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


def correlation_input(X, n_obs=None):
    """Correlation matrix, variable names and sample size from data or from a matrix.

    Parameters
    ----------
    X : array-like
        ``(n, p)`` data (NaN allowed: pairwise-complete correlations) or a
        ``(p, p)`` covariance/correlation matrix.
    n_obs : int, optional
        Sample size behind a matrix.

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
    if is_matrix(values):
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
