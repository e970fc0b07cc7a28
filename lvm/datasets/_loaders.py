"""Loaders of real data sets."""


def load_digits(*, return_X_y=False, as_frame=False):
    """Load the 1797 8x8 handwritten digits bundled with scikit-learn (no download).

    Each row holds 64 pixel intensities in 0..16; the target is the digit.
    Source: UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak 1998).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return pandas objects with column names ``pixel_0_0 .. pixel_7_7``.

    Returns
    -------
    sklearn.utils.Bunch or tuple of (X, y)
        The data set: ``data`` of shape (1797, 64), ``target`` of shape (1797,), ``images``
        of shape (1797, 8, 8).
    """
    from sklearn.datasets import load_digits as _sklearn_load_digits

    return _sklearn_load_digits(return_X_y=return_X_y, as_frame=as_frame)
