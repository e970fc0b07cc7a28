"""Bootstrap confidence intervals of a factor analysis, as ``psych::fa(n.iter=)`` gives them."""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import _safe_indexing, check_random_state

from .._progress import check_verbose, progress
from ..metrics import tucker_congruence
from .rotation import OBLIQUE, method_name

# The fit indices kept from each replicate's ``fit_statistics_``.
FIT_INDICES = ("chi2", "rmsea", "tli", "cfi")


@dataclass
class FactorBootstrap:
    """Percentile intervals of a factor solution from refits to resampled rows.

    Each table has the columns ``estimate`` (the full-sample value),
    ``lower`` and ``upper`` (the interval), ``mean`` and ``std`` (of the
    aligned replicates).

    Attributes
    ----------
    loadings : DataFrame
        One row per (variable, factor), a two-level index.
    uniquenesses : DataFrame
        One row per variable.
    factor_correlation : DataFrame or None
        One row per pair of factors ``(i, j)``, ``i`` before ``j``; None
        unless the rotation is oblique.
    fit : DataFrame
        One row per fit index: ``chi2``, ``rmsea``, ``tli``, ``cfi``.
    replicates : dict of ndarray
        ``"loadings"`` (n_iter, n_features, n_components) aligned to the
        full-sample solution, ``"uniquenesses"`` (n_iter, n_features),
        ``"factor_correlation"`` (n_iter, n_components, n_components) aligned
        likewise, ``"fit"`` (n_iter, 4) in the order of ``fit.index``,
        ``"congruence"`` (n_iter, n_components), each replicate factor's
        Tucker congruence with the full-sample factor it was matched to, and
        ``"indices"`` (n_iter, n_samples), the rows drawn.
    model : FactorAnalysis
        The model fitted to all the rows.
    level : float
        Coverage of the intervals.
    n_iter : int
        Number of replicates.
    """

    loadings: pd.DataFrame
    uniquenesses: pd.DataFrame
    factor_correlation: pd.DataFrame | None
    fit: pd.DataFrame
    replicates: dict
    model: object
    level: float
    n_iter: int


def _align(loadings, reference):
    """Order and signs of the factors of ``loadings`` that best match ``reference``.

    Returns the column of ``loadings`` matched to each column of
    ``reference``, the sign that turns it, and the matched congruences.
    """
    match = tucker_congruence(reference, loadings)
    return match["matched"].to_numpy(), match["sign"].to_numpy(), match["congruence"].to_numpy()


def _table(estimate, replicates, bounds, index):
    lower, upper = np.quantile(replicates, bounds, axis=0)
    return pd.DataFrame({"estimate": estimate, "lower": lower, "upper": upper,
                         "mean": replicates.mean(axis=0), "std": replicates.std(axis=0, ddof=1)}, index=index)


def _rng(random_state):
    if isinstance(random_state, np.random.Generator):
        return random_state.integers
    return check_random_state(random_state).randint


def bootstrap(model, X, n_iter=500, *, level=0.95, random_state=None, verbose=True):
    """Bootstrap percentile intervals of loadings, uniquenesses, factor correlations and fit indices.

    The model is fitted to all the rows of ``X``; then ``n_iter`` times a
    clone of it is fitted to ``n`` rows drawn with replacement, its factors
    are put in the order and given the signs that best match the full-sample
    solution, and its estimates are kept. The interval of each quantity is
    the pair of quantiles of its ``n_iter`` replicates that leave
    ``(1 - level) / 2`` on each side.

    Parameters
    ----------
    model : FactorAnalysis
        The model to refit; its parameters are used, not its fitted state
        (it is cloned).
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data, one row per observation; DataFrame columns name the
        variables.
    n_iter : int, default=500
        Number of bootstrap replicates.
    level : float, default=0.95
        Coverage of the intervals, in (0, 1).
    random_state : int, RandomState, Generator or None, default=None
        Source of the resampled rows; an int or a generator makes the
        intervals reproducible.
    verbose : bool or int, default=True
        Show a progress bar, one step per replicate, when the call lasts over
        a second.

    Returns
    -------
    FactorBootstrap
        Tables of estimate, interval, mean and standard deviation, and the
        aligned replicates.

    Notes
    -----
    Rotated factors are identified only up to their order and signs, so
    before they are compared each replicate's loadings :math:`L^{(b)}` are
    matched to the full-sample loadings :math:`\\hat L`: with
    :math:`\\phi_{ij}` the Tucker congruence of column :math:`j` of
    :math:`\\hat L` with column :math:`i` of :math:`L^{(b)}`, the permutation
    :math:`\\pi` maximising :math:`\\sum_j |\\phi_{\\pi(j) j}|` (Hungarian
    method) orders the factors and :math:`s_j = \\operatorname{sign}
    \\phi_{\\pi(j) j}` gives their signs,

    .. math:: L^{(b)}_{\\cdot j} \\leftarrow s_j L^{(b)}_{\\cdot \\pi(j)}, \\qquad
              \\Phi^{(b)}_{jl} \\leftarrow s_j s_l \\Phi^{(b)}_{\\pi(j) \\pi(l)}.

    The percentile interval (Efron & Tibshirani 1993, ch. 13) of a quantity
    :math:`\\theta` at level :math:`1 - \\alpha` is
    :math:`[\\hat\\theta^{*}_{\\alpha/2}, \\hat\\theta^{*}_{1-\\alpha/2}]`,
    the quantiles of its replicates (linear interpolation, R's type 7).

    ``psych::fa(n.iter=)`` (Revelle) also resamples rows, but aligns each
    replicate by an oblique target rotation towards the full-sample loadings
    (``target.rot``) and reports ``mean +- qnorm(1 - alpha / 2) * sd`` of the
    replicates. Matching by order and sign keeps each replicate the
    solution its own rotation criterion chose; the normal interval is
    ``mean +- z * std`` from the tables here.

    References
    ----------
    Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
    Chapman & Hall, New York. doi:10.1201/9780429246593

    Revelle, W. psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package, function ``fa`` (argument ``n.iter``).

    Examples
    --------
    >>> from lvm import FactorAnalysis
    >>> from lvm.datasets import load_holzinger_swineford
    >>> from lvm.factor import bootstrap
    >>> X = load_holzinger_swineford(tests_only=True)
    >>> boot = bootstrap(FactorAnalysis(3, rotation="oblimin"), X, n_iter=20, random_state=0, verbose=False)
    >>> boot.loadings.loc[("x4", "ML1"), ["estimate", "lower", "upper"]].round(2).tolist()
    [0.84, 0.77, 0.88]
    """
    if not isinstance(n_iter, numbers.Integral) or isinstance(n_iter, bool) or n_iter < 2:
        raise ValueError(f"n_iter={n_iter!r} is invalid; expected an integer >= 2.")
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level={level!r} is invalid; expected a number strictly between 0 and 1.")
    verbose = check_verbose(verbose)
    draw = _rng(random_state)
    full = clone(model).fit(X)
    reference = full.loadings_array()
    p, k = reference.shape
    n_rows = len(X)
    loadings = np.empty((n_iter, p, k))
    uniquenesses = np.empty((n_iter, p))
    phis = np.empty((n_iter, k, k))
    fit = np.empty((n_iter, len(FIT_INDICES)))
    congruence = np.empty((n_iter, k))
    indices = np.empty((n_iter, n_rows), dtype=np.intp)
    with progress(total=n_iter, desc="bootstrap", unit="fit", verbose=verbose) as bar:
        for b in range(n_iter):
            indices[b] = draw(0, n_rows, size=n_rows)
            with warnings.catch_warnings():
                # A resample may hit a Heywood case or converge slowly; one
                # warning per replicate would bury the result.
                warnings.simplefilter("ignore")
                replicate = clone(model).fit(_safe_indexing(X, indices[b]))
            matched, sign, congruence[b] = _align(replicate.loadings_array(), reference)
            loadings[b] = replicate.loadings_array()[:, matched] * sign
            uniquenesses[b] = replicate.uniquenesses_
            phi = np.eye(k) if replicate.factor_correlation_ is None else np.asarray(replicate.factor_correlation_)
            phis[b] = phi[np.ix_(matched, matched)] * np.outer(sign, sign)
            stats = replicate.fit_statistics_
            fit[b] = [stats[name] for name in FIT_INDICES]
            bar.update()
    alpha = 1.0 - level
    bounds = [alpha / 2, 1 - alpha / 2]
    names = list(full._names())
    factors = list(full.get_feature_names_out())
    cells = pd.MultiIndex.from_product([names, factors], names=["variable", "factor"])
    loadings_table = _table(reference.ravel(), loadings.reshape(n_iter, -1), bounds, cells)
    uniqueness_table = _table(np.asarray(full.uniquenesses_), uniquenesses, bounds, pd.Index(names, name="variable"))
    phi_table = None
    if k > 1 and full.rotation not in (None, "none") and method_name(full.rotation) in OBLIQUE:
        rows, cols = np.triu_indices(k, 1)
        pairs = pd.MultiIndex.from_arrays([[factors[i] for i in rows], [factors[j] for j in cols]],
                                          names=["factor", "factor"])
        phi_table = _table(np.asarray(full.factor_correlation_)[rows, cols], phis[:, rows, cols], bounds, pairs)
    stats = full.fit_statistics_
    fit_table = _table(np.array([stats[name] for name in FIT_INDICES]), fit, bounds,
                       pd.Index(FIT_INDICES, name="index"))
    replicates = {"loadings": loadings, "uniquenesses": uniquenesses, "factor_correlation": phis, "fit": fit,
                  "congruence": congruence, "indices": indices}
    return FactorBootstrap(loadings_table, uniqueness_table, phi_table, fit_table, replicates, full, float(level),
                           int(n_iter))
