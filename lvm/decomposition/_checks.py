"""Checks of the inputs that PCA and PPCA share beyond the data checks of :mod:`lvm._validation`."""

import numpy as np

from .._source import is_dask_array


def is_wide(X):
    """Whether ``X`` is an in-memory array with fewer rows than columns (the Gram-matrix path)."""
    if is_dask_array(X):
        return False
    try:
        shape = np.shape(X)
    except (ValueError, TypeError):
        return False
    return len(shape) == 2 and shape[0] < shape[1]
