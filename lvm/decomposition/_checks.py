"""Checks of the inputs that PCA and PPCA share beyond the data checks of :mod:`lvm._validation`."""

import numpy as np

from .._source import is_dask_array
from .._validation import _check_raw_structure


def check_latent(model, Z, name="Z"):
    """Latent values for ``inverse_transform``: a finite 2-D float array as wide as the model's latent space.

    Parameters
    ----------
    model : PCA or PPCA
        A fitted model with ``n_components_``.
    Z : array-like of shape (n_samples, n_components)

    Returns
    -------
    ndarray of shape (n_samples, n_components)
    """
    label = type(model).__name__
    _check_raw_structure(Z, name)
    Z = np.asarray(Z)
    if Z.dtype.kind not in "biuf":
        raise TypeError(f"{label}.inverse_transform: {name} must hold numbers; got dtype {Z.dtype}.")
    if Z.ndim != 2:
        raise ValueError(
            f"{label}.inverse_transform: {name} must be 2-D, (n_samples, n_components={model.n_components_}); "
            f"got shape {Z.shape}. Reshape a single point with Z.reshape(1, -1)."
        )
    if Z.shape[1] != model.n_components_:
        raise ValueError(
            f"{label}.inverse_transform: {name} has {Z.shape[1]} column(s) but the model has "
            f"n_components_={model.n_components_} latent dimensions."
        )
    Z = Z.astype(np.float64, copy=False)
    if not np.isfinite(Z).all():
        raise ValueError(
            f"{label}.inverse_transform: {name} contains NaN or infinity "
            f"({np.count_nonzero(~np.isfinite(Z))} entries); latent values must be finite."
        )
    return Z


def is_wide(X):
    """Whether ``X`` is an in-memory array with fewer rows than columns (the Gram-matrix path)."""
    if is_dask_array(X):
        return False
    try:
        shape = np.shape(X)
    except (ValueError, TypeError):
        return False
    return len(shape) == 2 and shape[0] < shape[1]
