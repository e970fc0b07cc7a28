"""Starting partitions shared by every mixture: seeds, k-means, hierarchical clustering.

A mixture's EM needs a first guess of which rows belong together. These
functions give it as centres (k-means++, Lloyd's k-means, random rows) or as
the labels of a sample of rows (hierarchical clustering), reading the data only
through the :mod:`lvm._source` reader, so that they run the same on an array,
a memmap and a dask array. What a partition becomes (a covariance, loadings)
is the model's business.
"""

import functools

import numpy as np
from sklearn.cluster import kmeans_plusplus

from .._stats import observed_columns
from . import _em_steps
from ._hierarchical import hierarchical_labels

# Rows drawn for the starting centres when the data have more: enough for
# k-means++ to see every cluster of any weight that matters, few enough that
# the sample is small beside the data (Bahmani et al. 2012 make the same case
# for seeding on a sample).
INIT_SAMPLE_ROWS = 100_000
# Rows clustered for init="hierarchical": mclust's default subset
# (mclust.options("subset")); the agglomeration needs memory quadratic in it.
HIERARCHICAL_ROWS = 2000
# Lloyd iterations of init="kmeans", and the centre shift (relative to the data's
# spread) under which they stop.
_LLOYD_MAX_ITER = 100
_LLOYD_TOL = 1e-4

STARTS = ("kmeans++", "kmeans", "random", "hierarchical")


def init_sample(source, rng, center, size=None):
    """Centred rows to seed from, NaN as 0: all rows when at most ``size``, else a uniform sample.

    ``size`` defaults to :data:`INIT_SAMPLE_ROWS`. The sample is drawn with
    replacement and duplicates dropped, which needs memory for the sample only
    (not an index of every row), and is the same for an array and a dask array
    of the same data and ``random_state``.
    """
    size = INIT_SAMPLE_ROWS if size is None else size
    n = source.n_samples
    if n <= size:
        rows = source.take(slice(None))
    else:
        rows = source.take(np.unique(rng.randint(0, n, size=size)))
    rows -= center
    return np.nan_to_num(rows, copy=False, nan=0.0)


def nearest(data, centres):
    """Index of the nearest centre (Euclidean) of each row."""
    distances = ((data[:, None, :] - centres[None]) ** 2).sum(axis=2)
    return np.argmin(distances, axis=1)


def nearest_stats(chunk, centres, center, structure=None):
    """Statistics of a hard assignment of each centred row (NaN as 0) to its nearest centre.

    With a covariance ``structure``, the second moment it needs too; without, counts and sums.
    """
    centred = chunk - center
    observed = ~np.isnan(centred)
    data = np.where(observed, centred, 0.0)
    k = len(centres)
    resp = np.zeros((len(data), k))
    resp[np.arange(len(data)), nearest(data, centres)] = 1.0
    if structure is None:
        return _em_steps.resp_stats(data, resp, None)
    # Each row's second moment is taken about its own centre: about the data's
    # centre it would cancel for tight clusters far from it.
    return _em_steps.resp_stats(data, resp, structure, origins=centres, far=np.ones(k, dtype=bool))


def lloyd(source, centres, center, rows):
    """Lloyd's k-means iterations from ``centres``, one chunked pass (of ``rows`` per chunk) over the rows each."""
    scale = np.sqrt(observed_columns(source).variance().sum())
    for _ in range(_LLOYD_MAX_ITER):
        stats = source.reduce(functools.partial(nearest_stats, centres=centres, center=center), rows=rows)
        moved = centres.copy()
        filled = stats.nk > 0
        moved[filled] = stats.sums[filled] / stats.nk[filled, None]
        shift = np.max(np.sqrt(((moved - centres) ** 2).sum(axis=1)))
        centres = moved
        if shift <= _LLOYD_TOL * scale:
            break
    return centres


def start_centres(source, rng, center, k, init, rows):
    """``k`` centred starting centres for ``init`` in {"kmeans++", "kmeans", "random"}, and the sample seeded from.

    ``"kmeans++"``: the seeds of Arthur & Vassilvitskii (2007) on a sample of
    the rows; ``"kmeans"``: Lloyd's iterations from them over all rows, in
    chunked passes of ``rows`` rows; ``"random"``: ``k`` distinct rows of the
    sample, a poor but honest start to watch EM from (random responsibilities
    would make every component start as the overall mean, a saddle point EM
    barely leaves).

    Returns
    -------
    centres : ndarray of shape (k, p)
    sample : ndarray of shape (m, p)
        The centred rows (NaN as 0) the seeds were drawn from.
    """
    sample = init_sample(source, rng, center)
    if init == "random":
        # Distinct rows, so that no two seeds coincide and leave a component empty.
        distinct = np.unique(sample, axis=0)
        return distinct[rng.choice(len(distinct), min(k, len(distinct)), replace=False)], sample
    centres = kmeans_plusplus(sample, k, random_state=rng)[0]
    if init == "kmeans":
        centres = lloyd(source, centres, center, rows)
    return centres, sample


def hierarchical_sample(source, rng, center, k, name):
    """A sample of at most :data:`HIERARCHICAL_ROWS` centred rows and its ``k`` hierarchical clusters.

    mclust's start (Fraley 1998): the sample is the rows themselves when
    there are at most that many, so nothing is random then.
    """
    sample = init_sample(source, rng, center, size=HIERARCHICAL_ROWS)
    if len(sample) < k:
        raise ValueError(f"{name}: init='hierarchical' clusters a sample of {len(sample)} rows, "
                         f"fewer than n_components={k}; use init='kmeans++'.")
    return sample, hierarchical_labels(sample, k)


def one_hot(labels, k):
    """Hard responsibilities (n, k) of ``labels``."""
    resp = np.zeros((len(labels), k))
    resp[np.arange(len(labels)), labels] = 1.0
    return resp
