"""Model-based agglomerative hierarchical clustering (Fraley 1998), the start mclust uses for EM.

Every row starts as its own cluster; at every step the two clusters whose
merge lowers the classification likelihood least are merged. The criterion
is mclust's default, the unconstrained Gaussian (``hcVVV``): a cluster ``C``
of ``n`` rows in ``q`` dimensions with scatter
``W = sum_{x in C} (x - mean)(x - mean)^T`` costs

.. math:: T(C) = n \\log\\Big(\\det\\frac{W}{n} + \\frac{\\operatorname{tr} W + \\alpha}{n}\\Big),

up to constants minus twice its maximised classification log-likelihood,
``n log det(W / n)`` (Fraley 1998), with the determinant (zero for
``n <= q``) regularised by the trace term so that clusters too small for a
full covariance have a finite cost; ``alpha`` is the mean per-coordinate
variance of the data, ``tr W_total / (n q)``.
Merging ``A`` and ``B`` costs ``T(A u B) - T(A) - T(B)``, and the merged
scatter follows from the two without the rows:
``W = W_A + W_B + n_A n_B / (n_A + n_B) (m_A - m_B)(m_A - m_B)^T``.

As mclust does by default since version 6 (``hcUse = "SVD"``), the rows are
first standardised and rotated onto their principal axes, each axis scaled by
the inverse square root of its singular value.

References
----------
Fraley, C. (1998). Algorithms for model-based Gaussian hierarchical clustering.
SIAM J. Sci. Comput. 20, 270-281. doi:10.1137/S1064827596311451

Scrucca, L. and Raftery, A. E. (2015). Improved initialisation of model-based
clustering using Gaussian hierarchical partitions. Adv. Data Anal. Classif. 9,
447-460. doi:10.1007/s11634-015-0220-z (the SVD scaling).
"""

import collections
import hashlib
import threading

import numpy as np


def svd_scaled(X):
    """Rows standardised, rotated onto their principal axes and scaled by ``1 / sqrt(singular value)``.

    ``Z = S V D^{-1/2}`` with ``S`` the standardised columns (unit variance,
    ``n - 1`` divisor, as R's ``scale``) and ``S = U D V^T`` (mclust's
    ``hc(..., use = "SVD")``). Constant columns and directions of zero
    singular value carry no clustering information and are dropped.

    Parameters
    ----------
    X : ndarray of shape (m, p)

    Returns
    -------
    ndarray of shape (m, q), q <= p
    """
    centred = X - X.mean(axis=0)
    sd = centred.std(axis=0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
    varying = sd > 0
    scaled = centred[:, varying] / sd[varying]
    if scaled.shape[1] == 0:
        return np.zeros((len(X), 0))
    _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
    rank = singular > singular[0] * max(scaled.shape) * np.finfo(np.float64).eps
    return (scaled @ vt[rank].T) / np.sqrt(singular[rank])


def _first_appearance(labels):
    """Relabel ``labels`` 0, 1, ... in order of first appearance (mclust's ``partconv``)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.ravel()]


class _Clusters:
    """Sizes, means, scatters, traces and costs ``T`` of the clusters, indexed by one of their rows."""

    def __init__(self, Z, alpha):
        m, q = Z.shape
        self.q = q
        self.alpha = alpha
        self.sizes = np.ones(m)
        self.means = Z.copy()
        self.scatters = np.zeros((m, q, q))
        self.traces = np.zeros(m)
        # A single row (q >= 1): W = 0, so T = log(alpha).
        self.costs = np.full(m, np.log(alpha))

    def _log_term(self, sizes, traces, scatters, full):
        """``log(det(W / n) + (tr W + alpha) / n)``; the determinant only where ``full`` (``n > q``)."""
        value = np.log((traces + self.alpha) / sizes)
        if full.any():
            sign, log_det = np.linalg.slogdet(scatters / sizes[full, None, None])
            value[full] = np.logaddexp(np.where(sign > 0, log_det, -np.inf), value[full])
        return value

    def merge_costs(self, a, others):
        """Increase of the total cost ``sum T`` when cluster ``a`` merges with each of ``others``."""
        n_a, n_o = self.sizes[a], self.sizes[others]
        sizes = n_a + n_o
        delta = self.means[others] - self.means[a]
        weight = n_a * n_o / sizes
        traces = self.traces[a] + self.traces[others] + weight * np.einsum("ij,ij->i", delta, delta)
        full = sizes > self.q
        scatters = None
        if full.any():
            # Only merges of more than q rows have a non-zero determinant to compute.
            d, w = delta[full], weight[full]
            outer = w[:, None, None] * (d[:, :, None] * d[:, None, :])
            scatters = self.scatters[a] + self.scatters[others[full]] + outer
        cost = sizes * self._log_term(sizes, traces, scatters, full)
        return cost - self.costs[a] - self.costs[others]

    def merge(self, a, b):
        """Merge cluster ``b`` into cluster ``a``."""
        n_a, n_b = self.sizes[a], self.sizes[b]
        size = n_a + n_b
        delta = self.means[b] - self.means[a]
        weight = n_a * n_b / size
        scatter = self.scatters[a] + self.scatters[b] + weight * np.outer(delta, delta)
        trace = self.traces[a] + self.traces[b] + weight * (delta @ delta)
        self.means[a] = self.means[a] + delta * (n_b / size)
        self.sizes[a], self.scatters[a], self.traces[a] = size, scatter, trace
        full = np.array([size > self.q])
        self.costs[a] = size * self._log_term(np.array([size]), np.array([trace]), scatter[None], full)[0]


# Most memory the clusters' q x q scatter matrices may take (m of them).
_SCATTER_BYTES = 2**28


def affordable(m, q):
    """Whether :func:`merge_sequence` on ``m`` rows in ``q`` dimensions stays within its memory bound."""
    return m * q * q * 8 <= _SCATTER_BYTES


# Merge costs closer than this (relative) are ties: identical rows give costs
# that are equal in exact arithmetic but may differ in the last bits.
_TIE_RTOL = 1e-12


def merge_sequence(Z, n_clusters=1):
    """Agglomerate the rows of ``Z``, from single rows, by the VVV criterion down to ``n_clusters``.

    Parameters
    ----------
    Z : ndarray of shape (m, q)
        Rows (already scaled, see :func:`svd_scaled`).
    n_clusters : int, default=1
        Stop when this many clusters remain.

    Returns
    -------
    ndarray of shape (m - n_clusters, 2) of int
        The merges in order: ``(a, b)`` merges the cluster named ``b`` into
        the one named ``a`` (a cluster is named by one of its rows).

    Notes
    -----
    The matrix of merge costs between the current clusters is kept (memory
    ``O(m^2)``, plus ``O(m q^2)`` for the scatters), with the cheapest merge
    of every cluster; after a merge only the merged cluster's costs change,
    so a step costs ``O(m q^2)`` plus the determinants of the merges that
    would hold more than ``q`` rows.

    Ties are broken as mclust breaks them, which matters: with the trace
    regularisation a cluster that has formed grows cheaply, so the first of
    several identical pairs decides much of the tree. mclust keeps the
    clusters in numbered slots (a merged cluster takes the lower slot of the
    two, and the cluster in the last slot moves into the freed one) and
    takes, among equally cheap merges, the one whose higher slot, then
    lower slot, is largest.
    """
    m, q = Z.shape
    if not affordable(m, q):
        raise ValueError(
            f"init='hierarchical' on {m} rows in {q} dimensions would hold {m * q * q * 8 / 2**30:.1f} GiB of "
            f"cluster scatter matrices (more than {_SCATTER_BYTES / 2**30:.2g} GiB); use init='kmeans++', or "
            "reduce the number of features first (e.g. with lvm.PCA).")
    # mclust: alpha = traceW(Z / sqrt(n p)), the mean per-coordinate variance, floored at machine epsilon.
    alpha = max(float(((Z - Z.mean(axis=0)) ** 2).sum()) / (m * max(q, 1)), np.finfo(np.float64).eps)
    clusters = _Clusters(Z, alpha)
    costs = _pair_costs(Z, alpha)
    slot = np.arange(m)
    in_slot = np.arange(m)
    best = np.argmin(costs, axis=1)
    best_cost = costs[np.arange(m), best]
    merges = []
    for last in range(m - 1, n_clusters - 1, -1):
        a, b = _cheapest(costs, best_cost, slot)
        merges.append((a, b))
        clusters.merge(a, b)
        moved = in_slot[last]
        in_slot[slot[b]] = moved
        slot[moved] = slot[b]
        costs[b, :] = costs[:, b] = np.inf
        best_cost[b] = np.inf
        others = in_slot[:last]
        others = others[others != a]
        if others.size == 0:
            break
        new = clusters.merge_costs(a, others)
        costs[a, others] = costs[others, a] = new
        best[a] = others[np.argmin(new)]
        best_cost[a] = costs[a, best[a]]
        # A cluster whose cheapest partner was a or b is searched again; any
        # other only compares its cheapest with the new cluster.
        stale = (best[others] == a) | (best[others] == b)
        if stale.any():
            rows = others[stale]
            best[rows] = np.argmin(costs[rows], axis=1)
            best_cost[rows] = costs[rows, best[rows]]
        rows = others[~stale]
        better = costs[rows, a] < best_cost[rows]
        best[rows[better]] = a
        best_cost[rows[better]] = costs[rows[better], a]
    return np.asarray(merges, dtype=np.intp).reshape(-1, 2)


def _pair_costs(Z, alpha):
    """Merge costs of every two single rows, ``inf`` on the diagonal: ``(m, m)``.

    Two rows ``x, y`` have ``W = d d^T / 2`` with ``d = x - y``: trace ``|d|^2 / 2``,
    and ``det(W / 2) = |d|^2 / 4`` when ``q = 1`` (zero for ``q > 1``).
    """
    m, q = Z.shape
    costs = np.empty((m, m))
    block = max(1, 2**21 // max(m * q, 1))
    for start in range(0, m, block):
        diff = Z[start : start + block, None, :] - Z[None, :, :]
        traces = 0.5 * np.einsum("ijk,ijk->ij", diff, diff)
        value = np.log((traces + alpha) / 2.0)
        if q == 1:
            with np.errstate(divide="ignore"):
                value = np.logaddexp(np.log(traces / 2.0), value)
        costs[start : start + block] = 2.0 * value
    costs -= 2.0 * np.log(alpha)
    np.fill_diagonal(costs, np.inf)
    return costs


def _cheapest(costs, best_cost, slot):
    """The cheapest merge ``(a, b)``, ``slot[a] < slot[b]``, ties broken as mclust does (see merge_sequence)."""
    lowest = best_cost.min()
    limit = lowest + _TIE_RTOL * max(1.0, abs(lowest))
    rows = np.flatnonzero(best_cost <= limit)
    pairs = [(r, c) for r in rows for c in np.flatnonzero(costs[r] <= limit)]
    a, b = max(pairs, key=lambda pair: (max(slot[pair[0]], slot[pair[1]]), min(slot[pair[0]], slot[pair[1]])))
    return (a, b) if slot[a] < slot[b] else (b, a)


def cut(merges, n_rows, n_clusters):
    """Labels ``0 .. n_clusters-1`` (in order of first appearance) after the first ``n_rows - n_clusters`` merges."""
    owner = np.arange(n_rows)
    for a, b in merges[: n_rows - n_clusters]:
        owner[owner == b] = a
    return _first_appearance(owner)


def hierarchical_labels(X, n_clusters):
    """Partition the rows of ``X`` into ``n_clusters`` by model-based hierarchical clustering.

    mclust's start, ``hclass(hc(X, modelName = "VVV", use = "SVD"), n_clusters)``:
    the rows are scaled by :func:`svd_scaled` and agglomerated from single
    rows by :func:`merge_sequence`.

    Parameters
    ----------
    X : ndarray of shape (m, p)
        Rows, m >= n_clusters; no NaN.
    n_clusters : int

    Returns
    -------
    ndarray of shape (m,) of int
        Cluster labels ``0 .. n_clusters-1``, numbered in order of first appearance.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    key = (X.shape, hashlib.blake2b(X.tobytes(), digest_size=16).digest())
    with _TREES_LOCK:
        merges = _TREES.get(key)
    if merges is None:
        # Identical rows must stay identical after scaling (a matrix product need
        # not round them alike), so that their merges tie exactly.
        _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
        Z = svd_scaled(X)[first][inverse.ravel()]
        if Z.shape[1] == 0:
            # All rows are equal: no criterion separates them.
            merges = np.column_stack([np.zeros(len(X) - 1, dtype=np.intp), np.arange(1, len(X))])[::-1]
        else:
            merges = merge_sequence(Z)
        with _TREES_LOCK:
            _TREES[key] = merges
            while len(_TREES) > _TREES_KEPT:
                _TREES.popitem(last=False)
    return cut(merges, len(X), n_clusters)


# The last few trees, by their rows: select_mixture and n_init cut the tree of
# the same rows at many numbers of clusters, and the tree costs O(m^2) to grow.
_TREES = collections.OrderedDict()
_TREES_KEPT = 4
_TREES_LOCK = threading.Lock()
