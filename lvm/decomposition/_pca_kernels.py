"""Numerical kernels of PCA: one function per solver.

Each takes the data (or its scatter statistics) and returns
``(variances, components, total_variance)``: the top-``k`` variances with
divisor ``n - 1``, the matching orthonormal axes as rows, and the total
variance. Signs are fixed by the caller.
"""

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .._linalg import eigh_top
from .._stats import _CANCELLATION_LIMIT

# Relative size under which an eigenvalue of the Gram matrix is taken as zero:
# its eigenvector cannot be mapped back to a component, so the SVD is used.
_GRAM_RANK_RTOL = 1e-10
# Row blocks of the streamed covariance product: small enough that a block read
# for ``B v`` is still in cache when ``B^T (B v)`` reads it again.
_BLOCK_BYTES = 2**19
# Lanczos on the unformed covariance is tried only when this many products
# (about half the cost of forming the min(n, p)-square matrix, per unit of
# min(n, p)) leave room for a well-separated spectrum to converge; it gives up
# and lets the caller form the matrix when they run out (flat spectra).
_LANCZOS_BUDGET_PER_SIDE = 1 / 20


class _OutOfBudget(Exception):
    pass


def lanczos_budget(n, p, k):
    """Products allowed to :func:`pca_lanczos`, or 0 when forming the matrix is cheaper."""
    budget = int(min(n, p) * _LANCZOS_BUDGET_PER_SIDE)
    return budget if budget >= 3 * k + 20 else 0


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


def pca_lanczos(X, mean, k, budget):
    """Top-``k`` principal axes by Lanczos on the covariance operator, never formed.

    ARPACK's implicitly restarted Lanczos (run to machine precision from a
    fixed start vector) needs only products ``v -> Xc^T Xc v``; each is one
    pass over ``X`` in row blocks that stay in cache between ``B v`` and
    ``B^T (B v)``. For small ``k`` a few dozen such passes cost much less than
    forming the ``min(n, p)``-square Gram or scatter matrix. Centring is
    implicit, ``Xc^T Xc v = X^T X v - n mean (mean^T v)``, unless the mean is
    so large against the spread that this would cancel more than four digits
    (the test of :func:`lvm._stats.scatter_stats`); then ``X`` is centred in a
    copy.

    Returns
    -------
    variances, components, total_variance
        As in :func:`pca_from_scatter`; ``None`` when ARPACK needs more than
        ``budget`` products or does not converge, or a kept eigenvalue is
        numerically zero (the caller then forms the matrix).
    """
    n, p = X.shape
    raw, centred = _column_sums_of_squares(X, mean)
    implicit = not np.any(raw > _CANCELLATION_LIMIT * np.maximum(centred, 0.0))
    source = X if implicit else X - mean
    rows = max(1, _BLOCK_BYTES // (8 * p))
    starts = range(0, n, rows)

    used = [0]

    def product(v):
        used[0] += 1
        if used[0] > budget:
            raise _OutOfBudget
        v = np.ravel(v)
        out = np.zeros(p)
        for start in starts:
            block = source[start : start + rows]
            out += block.T @ (block @ v)
        if implicit:
            # Xc^T Xc v = X^T X v - n mean (mean^T v)
            out -= (n * (mean @ v)) * mean
        return out

    operator = LinearOperator((p, p), matvec=product, dtype=np.float64)
    start = np.random.default_rng(0).standard_normal(p)
    try:
        values, vectors = eigsh(operator, k=k, which="LA", tol=0.0, v0=start)
    except (ArpackNoConvergence, _OutOfBudget):
        return None
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    if not np.all(np.isfinite(values)) or values[-1] <= _GRAM_RANK_RTOL * values[0]:
        return None
    if implicit:
        total = centred.sum()
    else:
        with np.errstate(over="ignore"):
            total = np.vdot(source, source)
    return values / (n - 1), vectors.T.copy(), total / (n - 1)


def _column_sums_of_squares(X, mean):
    """Per column, ``sum x^2`` and ``sum (x - mean)^2`` computed as ``sum x^2 - n mean^2``."""
    with np.errstate(over="ignore", invalid="ignore"):
        raw = np.einsum("ij,ij->j", X, X)
        return raw, raw - X.shape[0] * mean**2


def total_variance(X, mean, *, with_cancellation=False):
    """Sum of the column variances (divisor ``n - 1``) in one pass, without a centred copy.

    Uses ``sum x^2 - n m^2`` per column; when that cancels more than four
    digits (as in :func:`lvm._stats.scatter_stats`) the columns are centred.
    With ``with_cancellation``, also whether they were, so that a caller
    working on the same columns need not read them again to find out.
    """
    raw, centred = _column_sums_of_squares(X, mean)
    cancels = bool(np.any(raw > _CANCELLATION_LIMIT * np.maximum(centred, 0.0)))
    total = float(np.sum(X.var(axis=0, ddof=1))) if cancels else float(centred.sum() / (X.shape[0] - 1))
    return (total, cancels) if with_cancellation else total


def pca_svd(X, mean, k):
    """Top-``k`` principal axes from the thin SVD of the centred data (LAPACK ``gesdd``)."""
    n = X.shape[0]
    _, singular, vt = linalg.svd(X - mean, full_matrices=False)
    # An overflowing square is caught by the caller's check of the variance.
    with np.errstate(over="ignore"):
        return singular[:k] ** 2 / (n - 1), vt[:k].copy(), np.sum(singular**2) / (n - 1)


def pca_randomized(X, mean, k, n_oversamples, n_iter, rng, total=None, cancels=False):
    """Top-``k`` principal axes by a randomized range finder (Halko, Martinsson & Tropp 2011).

    Subspace iteration ``(Xc^T Xc)^q`` on a Gaussian block of ``k +
    n_oversamples`` columns, then a Rayleigh-Ritz step (Algorithms 4.3-4.4 and
    5.1 of Halko et al.). Centring is implicit, ``Xc Q = X Q - 1 (mean^T Q)``,
    so ``X`` is not copied unless the mean is so large against the spread that
    this would cancel more than four digits (the test of
    :func:`lvm._stats.scatter_stats`); then ``X`` is centred in a copy. Each
    power iteration is orthonormalised by one QR of the block on the short
    side of ``X`` (``p x w`` for tall data, ``n x w`` for wide data), whose
    cost is small against the two products with ``X``; the final basis of
    the long side is orthonormalised once. With ``q``
    iterations the axes lie in the span of ``(Xc^T Xc)^(q+1) Omega``, as in
    scikit-learn's solver with ``iterated_power=q``.

    Parameters
    ----------
    total : float, optional
        The total variance, when the caller has it (see :func:`total_variance`).
    cancels : bool, default=False
        With ``total``: whether implicit centring would cancel digits (as
        :func:`total_variance` reports); without ``total`` it is found here.

    Returns
    -------
    variances, components, total_variance
        As in :func:`pca_from_scatter`.
    """
    n, p = X.shape
    width = min(k + n_oversamples, n, p)
    if total is None:
        total, cancels = total_variance(X, mean, with_cancellation=True)
    if cancels:
        X, mean = X - mean, np.zeros(p)

    def forward(block):
        return X @ block - mean @ block

    def backward(block):
        return X.T @ block - np.outer(mean, block.sum(axis=0))

    omega = rng.standard_normal((p, width))
    if n >= p:
        basis = linalg.qr(omega, mode="economic")[0]
        for _ in range(n_iter):
            basis = linalg.qr(backward(forward(basis)), mode="economic")[0]
        image = linalg.qr(forward(basis), mode="economic")[0]
    else:
        image = linalg.qr(forward(omega), mode="economic")[0]
        for _ in range(n_iter):
            image = linalg.qr(forward(backward(image)), mode="economic")[0]
    small = backward(image).T
    _, singular, vt = linalg.svd(small, full_matrices=False)
    return singular[:k] ** 2 / (n - 1), vt[:k].copy(), total
