"""Numerical kernels of PCA: one function per solver.

Each takes the data (or its scatter statistics) and returns
``(variances, components, total_variance)``: the top-``k`` variances with
divisor ``n - 1``, the matching orthonormal axes as rows, and the total
variance. Signs are fixed by the caller.
"""

import numpy as np
from scipy import linalg

from .._linalg import eigh_top

# Relative size under which an eigenvalue of the Gram matrix is taken as zero:
# its eigenvector cannot be mapped back to a component, so the SVD is used.
_GRAM_RANK_RTOL = 1e-10


def pca_from_scatter(stats, k):
    """Top-``k`` principal axes from a scatter matrix (the ``covariance`` solver, n >= p).

    Parameters
    ----------
    stats : ScatterStats
        Count, mean and ``p x p`` scatter of the data.
    k : int
        Number of components.

    Returns
    -------
    variances : ndarray of shape (k,)
        Eigenvalues of ``scatter / (n - 1)``, decreasing.
    components : ndarray of shape (k, p)
        Orthonormal principal axes (rows).
    total_variance : float
        ``trace(scatter) / (n - 1)``.
    """
    values, vectors = eigh_top(stats.scatter, k)
    ddof = stats.n_samples - 1
    return np.maximum(values, 0.0) / ddof, vectors.T.copy(), np.trace(stats.scatter) / ddof


def pca_gram(X, mean, k):
    """Top-``k`` principal axes through the ``n x n`` Gram matrix (wide data, n < p).

    With ``Xc = X - mean``, the eigenvectors ``u`` of ``Xc Xc^T`` give the axes
    ``Xc^T u / sqrt(lambda)``: one ``O(n^2 p)`` product and a top-``k``
    eigensolver instead of an SVD of ``Xc``.

    Returns
    -------
    variances, components, total_variance
        As in :func:`pca_from_scatter`; ``None`` when a kept eigenvalue is
        numerically zero (the caller then uses the SVD).
    """
    n = X.shape[0]
    centred = X - mean
    gram = centred @ centred.T
    if not np.isfinite(gram).all():
        return None
    values, vectors = eigh_top(gram, k)
    if values[-1] <= _GRAM_RANK_RTOL * values[0]:
        return None
    components = (centred.T @ vectors / np.sqrt(values)).T
    return values / (n - 1), components, np.trace(gram) / (n - 1)


def pca_svd(X, mean, k):
    """Top-``k`` principal axes from the thin SVD of the centred data (LAPACK ``gesdd``)."""
    n = X.shape[0]
    _, singular, vt = linalg.svd(X - mean, full_matrices=False)
    # An overflowing square is caught by the caller's check of the variance.
    with np.errstate(over="ignore"):
        return singular[:k] ** 2 / (n - 1), vt[:k].copy(), np.sum(singular**2) / (n - 1)


def pca_randomized(X, mean, k, n_oversamples, n_iter, rng):
    """Top-``k`` principal axes by a randomized range finder (Halko, Martinsson & Tropp 2011).

    Centring is implicit, ``Xc Q = X Q - 1 (mean^T Q)``, so ``X`` is never
    copied. Each of the ``n_iter`` power iterations is re-orthonormalised by QR
    (Algorithm 4.4 of Halko et al.), which keeps accuracy with fewer iterations.

    Returns
    -------
    variances, components, total_variance
        As in :func:`pca_from_scatter`.
    """
    n, p = X.shape
    width = min(k + n_oversamples, n, p)
    sketch = X @ rng.standard_normal((p, width))
    sketch -= sketch.mean(axis=0)
    basis = linalg.qr(sketch, mode="economic")[0]
    for _ in range(n_iter):
        back = X.T @ basis - np.outer(mean, basis.sum(axis=0))
        back = linalg.qr(back, mode="economic")[0]
        forward = X @ back - mean @ back
        basis = linalg.qr(forward, mode="economic")[0]
    small = basis.T @ X - np.outer(basis.sum(axis=0), mean)
    _, singular, vt = linalg.svd(small, full_matrices=False)
    total = float(np.sum(X.var(axis=0, ddof=1)))
    return singular[:k] ** 2 / (n - 1), vt[:k].copy(), total
