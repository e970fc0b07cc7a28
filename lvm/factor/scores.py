"""Factor score weights: regression (Thomson 1939) and Bartlett (1937)."""

import numpy as np
from scipy import linalg


def regression_weights(R, loadings, factor_correlation=None):
    """Weights of Thomson's regression scores, ``R^{-1} L Phi`` (p x k).

    Scores are ``z W`` for standardised data ``z``; with the sample correlation
    ``R`` this is R's ``factanal(scores="regression")``. At the maximum of the
    likelihood ``R^{-1} L = C^{-1} L`` for the model correlation ``C``, so the
    scores are the posterior means ``E[f | x]``. A singular ``R`` (an exactly
    duplicated column) has no inverse; the Moore-Penrose pseudo-inverse is
    used then, as ``psych::factor.scores`` does.

    Parameters
    ----------
    R : ndarray of shape (p, p)
    loadings : ndarray of shape (p, k)
    factor_correlation : ndarray of shape (k, k), optional

    Returns
    -------
    ndarray of shape (p, k)
    """
    try:
        weights = linalg.solve(R, loadings, assume_a="pos")
    except linalg.LinAlgError:
        weights = linalg.pinvh(R) @ loadings
    return weights if factor_correlation is None else weights @ factor_correlation


def bartlett_weights(loadings, uniquenesses):
    """Weights of Bartlett's scores, ``Psi^{-1} L (L^T Psi^{-1} L)^{-1}`` (p x k).

    The weighted least-squares estimate of the factors given ``x``: unbiased,
    ``E[f_hat | f] = f``, at the price of a larger variance than the
    regression scores.

    Parameters
    ----------
    loadings : ndarray of shape (p, k)
    uniquenesses : ndarray of shape (p,)

    Returns
    -------
    ndarray of shape (p, k)
    """
    empty = np.flatnonzero(np.sum(loadings**2, axis=0) == 0)
    if empty.size:
        # L^T Psi^{-1} L is then singular: no weighting of the variables recovers
        # a factor they do not depend on.
        raise ValueError(
            f"Bartlett scores are undefined for factor(s) {(empty + 1).tolist()}, whose loadings are all zero; "
            "use regression scores or fewer factors."
        )
    weighted = loadings / uniquenesses[:, None]
    return linalg.solve(weighted.T @ loadings, weighted.T, assume_a="pos").T
