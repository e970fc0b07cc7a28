"""Where the rows come from: an in-memory array, a memmap or a dask array, read chunk by chunk.

Every fit in lvm reads its data through one operation, :meth:`reduce`: map a
function over chunks of rows, each to a small statistic that adds (see
:mod:`lvm._stats`), and sum them. For a numpy array (a memmap is one) the
chunks are row slices, which are views, so no copy of the data is made and
chunks are spread over threads; for a ``dask.array.Array`` every block becomes
a task and the statistics are summed as a tree on whatever scheduler is active
(threads by default, the user's ``distributed.Client`` when there is one).
lvm never starts a scheduler itself, and a dask array is never gathered.

dask is optional: it is imported only when a dask array is given.
"""

import functools
import operator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._linalg import blas_threads, single_blas_thread

# Rows per chunk of an in-memory array: about this many bytes of rows, so that
# a chunk and its per-row work arrays stay in cache.
_CHUNK_BYTES = 4 * 2**20


def chunk_rows(n_features, row_bytes=None):
    """Rows per chunk of an in-memory array with ``n_features`` columns (``row_bytes`` per row)."""
    row_bytes = 8 * max(n_features, 1) if row_bytes is None else row_bytes
    return max(256, _CHUNK_BYTES // row_bytes)


def is_dask_array(X):
    """True for a ``dask.array.Array``, without importing dask."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "to_delayed") and hasattr(X, "chunks")


def reduce_chunks(function, starts):
    """``function(s0) + function(s1) + ...`` in order, spread over the cores the BLAS library may use.

    The per-chunk products are too small for a multi-threaded BLAS to pay off
    (its threads mostly wait on each other), so BLAS runs single-threaded and
    the chunks go to a pool of as many Python threads, which numpy's
    GIL-releasing kernels keep busy. Each result is added as soon as it is
    its turn, so memory holds a few results, not one per chunk, and the sum
    does not depend on the thread count.
    """
    starts = list(starts)
    if len(starts) == 1:
        # One chunk: the bookkeeping below would cost more than it saves.
        return function(starts[0])
    workers = min(len(starts), blas_threads())
    with single_blas_thread():
        if workers <= 1:
            return functools.reduce(operator.add, map(function, starts))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return functools.reduce(operator.add, pool.map(function, starts))


class _Rows:
    """What every source of rows has: reductions remembered by name."""

    def remember(self, name, function, rows=None):
        """``reduce(function, rows)``, computed once per source and name, then recalled.

        One fit asks several of its parts for the same pass over the data (the
        column statistics that validate it and give a start, say); a
        remembered pass is read once.
        """
        memory = self.__dict__.setdefault("_memory", {})
        if name not in memory:
            memory[name] = self.reduce(function, rows=rows)
        return memory[name]

    def note(self, name, value):
        """Remember ``value`` as the result of the pass called ``name`` (made as part of another)."""
        self.__dict__.setdefault("_memory", {})[name] = value


class ArraySource(_Rows):
    """Rows of an in-memory array or a memmap, read as row slices (views, never copies).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    """

    def __init__(self, X):
        self.X = X
        self.n_samples, self.n_features = X.shape

    def reduce(self, function, rows=None):
        """``sum(function(chunk) for chunk in chunks of rows)``.

        Parameters
        ----------
        function : callable
            ``function(chunk) -> stats``, with ``stats`` supporting ``+``.
        rows : int or None
            Rows per chunk; None reads the whole array as one chunk (for
            statistics that are one BLAS call on the whole array).

        Returns
        -------
        The summed statistics, added left to right.
        """
        n = self.n_samples
        if rows is None or rows >= n:
            return function(self.X)
        return reduce_chunks(lambda start: function(self.X[start : start + rows]), range(0, n, rows))

    def take(self, indices):
        """The rows at sorted ``indices`` (or a slice), as a new array."""
        rows = self.X[indices]
        return np.array(rows) if isinstance(indices, slice) else np.asarray(rows)


class DaskSource(_Rows):
    """Rows of a ``dask.array.Array``, one task per block, statistics summed as a tree.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Known row chunk sizes; columns in a single chunk.
    """

    def __init__(self, X):
        self.X = X
        self.n_samples, self.n_features = (int(s) for s in X.shape)

    def reduce(self, function, rows=None):
        """``sum(function(chunk) for chunk in chunks of every block)``, computed by the active dask scheduler.

        Each block is one task; within it, ``function`` sees chunks of at
        most ``rows`` rows (the whole block when None), so that a worker's
        memory is one block plus one chunk's work arrays.
        """
        import dask

        if rows is not None:
            function = functools.partial(_reduce_block, function=function, rows=rows)
        remote = dask.delayed(function, pure=True)
        parts = [remote(block) for block in self.X.to_delayed().ravel()]
        add = dask.delayed(operator.add, pure=True)
        while len(parts) > 1:
            pairs = [add(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        (total,) = dask.compute(parts[0])
        return total

    def take(self, indices):
        """The rows at sorted ``indices`` (or a slice), gathered into a numpy array."""
        return np.asarray(self.X[indices].compute())


def _reduce_block(block, function, rows):
    return functools.reduce(operator.add, (function(block[start : start + rows])
                                           for start in range(0, max(len(block), 1), rows)))


class SummarySource:
    """Data already reduced to a sufficient statistic: a 'source' of one chunk, the statistic.

    EM for a Gaussian model with complete data (probabilistic PCA, factor
    analysis) depends on the rows only through their count, mean and scatter,
    so after one pass its E-step reads that summary instead of the rows.

    Parameters
    ----------
    summary : object
        The statistic, with an ``n_samples`` attribute.
    """

    def __init__(self, summary):
        self.summary = summary
        self.n_samples = summary.n_samples
        self.n_features = len(getattr(summary, "mean", ()))

    def reduce(self, function, rows=None):
        return function(self.summary)


def map_rows(function, X, width, dtype=np.float64):
    """Apply a row-wise ``function`` to every block of a dask array; a dask array comes back.

    Parameters
    ----------
    function : callable
        ``function(block) -> ndarray`` with one output row per input row.
    X : dask.array.Array of shape (n_samples, n_features)
        Columns in one chunk (as :func:`lvm._validation.check_dask_data` leaves them).
    width : int or None
        Columns of the output, or None for one value per row.
    dtype : numpy dtype
        Type of the output.

    Returns
    -------
    dask.array.Array of shape (n_samples, width) or (n_samples,)
    """
    if width is None:
        return X.map_blocks(function, dtype=dtype, drop_axis=1, chunks=(X.chunks[0],))
    return X.map_blocks(function, dtype=dtype, chunks=(X.chunks[0], (width,)))
