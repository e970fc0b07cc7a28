"""Loaders of real data sets: scikit-learn's digits and the classic sets bundled with lvm.

The CSV files live in ``lvm/datasets/data`` with ``SOURCES.md`` giving the
origin of each.
"""

from importlib import resources

import pandas as pd

# Published correlation/covariance matrices and their sample sizes.
_MATRICES = {
    "ability_cov": ("ability_cov.csv", 112),
    "harman74": ("harman74_cor.csv", 145),
    "harman23": ("harman23_cor.csv", 305),
}


def _read_csv(filename, **kwargs):
    with resources.files("lvm.datasets").joinpath("data", filename).open("r") as handle:
        return pd.read_csv(handle, **kwargs)


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
        The data set: ``data`` of shape (1797, 64), ``target`` of shape (1797,),
        ``images`` of shape (1797, 8, 8).
    """
    from sklearn.datasets import load_digits as _sklearn_load_digits

    return _sklearn_load_digits(return_X_y=return_X_y, as_frame=as_frame)


def load_holzinger_swineford(*, tests_only=False):
    """Load Holzinger & Swineford's (1939) mental ability scores of 301 pupils.

    Columns ``x1..x9`` are the nine classic tests (visual perception, cubes,
    lozenges; paragraph comprehension, sentence completion, word meaning;
    speeded addition, counting dots, straight-curved capitals), plus ``id``,
    ``sex``, ``ageyr``, ``agemo``, ``school`` and ``grade``. As in R's
    ``lavaan::HolzingerSwineford1939``.

    Parameters
    ----------
    tests_only : bool, default=False
        Return only the nine test columns ``x1..x9``.

    Returns
    -------
    pandas.DataFrame
        301 rows.
    """
    frame = _read_csv("holzinger_swineford_1939.csv")
    return frame[[f"x{i}" for i in range(1, 10)]] if tests_only else frame


def load_bfi(*, items_only=False):
    """Load the 25 Big-Five personality items of 2800 people (R's ``psych::bfi``).

    Items ``A1..A5`` (agreeableness), ``C1..C5`` (conscientiousness), ``E1..E5``
    (extraversion), ``N1..N5`` (neuroticism) and ``O1..O5`` (openness) are
    answered on a 6-point scale; ``gender``, ``education`` and ``age`` follow.
    Missing answers are NaN: 508 cells among the items, 731 with education.

    Parameters
    ----------
    items_only : bool, default=False
        Return only the 25 items.

    Returns
    -------
    pandas.DataFrame
        2800 rows.
    """
    frame = _read_csv("bfi.csv")
    return frame.iloc[:, :25] if items_only else frame


def load_old_faithful():
    """Load the Old Faithful geyser eruptions (R's ``datasets::faithful``).

    Returns
    -------
    pandas.DataFrame
        272 rows: ``eruptions`` (duration, minutes) and ``waiting`` (minutes
        to the next eruption).
    """
    return _read_csv("faithful.csv")


def load_matrix(name):
    """Load a published covariance or correlation matrix and its sample size.

    Parameters
    ----------
    name : {"ability_cov", "harman74", "harman23"}
        ``"ability_cov"``: covariances of six ability tests, n = 112 (R's
        ``ability.cov``, used in ``factanal``'s examples); ``"harman74"``:
        correlations of 24 psychological tests, n = 145 (Harman 1976);
        ``"harman23"``: correlations of eight physical measurements of 305
        girls (Harman 1976).

    Returns
    -------
    matrix : pandas.DataFrame
        Symmetric, with the variable names as index and columns.
    n_obs : int
        The number of observations it was computed from.
    """
    if name not in _MATRICES:
        raise ValueError(f"unknown matrix {name!r}; choose one of {sorted(_MATRICES)}")
    filename, n_obs = _MATRICES[name]
    matrix = _read_csv(filename, index_col=0)
    matrix.index.name = None
    return matrix, n_obs
