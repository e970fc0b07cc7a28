"""Choose the number of components and the covariance structure of a Gaussian mixture."""

import numbers
import warnings

import numpy as np
import pandas as pd

from .._progress import check_verbose, progress
from ..exceptions import ConvergenceWarning, DegenerateComponentWarning
from . import _hierarchical
from ._covariance import COVARIANCE_TYPES
from ._start import HIERARCHICAL_ROWS
from .gaussian import GaussianMixture

# mclust's names for lvm's four covariance structures.
MCLUST_NAMES = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}

# EM settings of every fit unless given: a model choice compares
# log-likelihoods that differ by a few units, so each fit is run close to its
# maximum (mclust stops at a relative change of 1e-5 of the total, about this
# per row on typical data), not to GaussianMixture's looser default.
_FIT_DEFAULTS = {"tol": 1e-6, "max_iter": 2000}

# Where a split component's halves start along its principal axis: the means
# of the two halves of a Gaussian cut through its mean, +-sqrt(2 / pi) sd.
_SPLIT_OFFSET = np.sqrt(2.0 / np.pi)


def select_mixture(X, n_components=range(1, 10), covariance_types=("full", "diag", "tied", "spherical"),
                   criterion="bic", verbose=True, **kwargs):
    """Fit a Gaussian mixture for every number of components and covariance type; pick the best.

    Like R's ``mclust`` BIC table: one row per fit, with its log-likelihood,
    parameter count and criteria, and the model with the lowest value of
    ``criterion`` (lvm's criteria are lower-is-better: mclust's BIC is ``-bic``).

    Every fit keeps the best of several EM runs: one from mclust's
    deterministic start, model-based hierarchical clustering
    (``init="hierarchical"``, Fraley 1998), and one (``n_init`` of them) from
    the ``init`` given (k-means++ by default). The table is then made
    monotone: a fit with ``k`` components whose log-likelihood is below that of
    the same structure with fewer components (a nested model, so its maximum
    is at least as high) is a poor local maximum, and is refitted from the
    smaller model's solution with its widest component split in two, halves
    ``mu +- sqrt(2 / pi) sqrt(lambda) u`` along its principal axis
    ``(lambda, u)`` (the means of the two halves of a Gaussian cut through its
    mean); if that is still below, from the smaller solution with a
    component duplicated, which has the smaller model's likelihood. So no
    row lies below a row with fewer components of the same structure.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    n_components : iterable of int, default=range(1, 10)
        Numbers of components to try (positive integers).
    covariance_types : iterable of str, default=("full", "diag", "tied", "spherical")
        Covariance structures to try.
    criterion : {"bic", "icl", "aic"}, default="bic"
        What to minimise.
    verbose : bool or int, default=True
        Show a progress bar, one step per number of components and covariance
        type, when the call lasts over a second (False or 0: none). As the
        models' ``verbose``; the mixtures themselves are fitted without one.
    **kwargs
        Passed to every :class:`GaussianMixture` (``random_state``, ``n_init``,
        ``init``, ...). Unless given, ``tol=1e-6`` and ``max_iter=2000``: the
        fits are compared, so each is run close to its maximum.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``covariance_type``, ``mclust``, ``n_components``,
        ``log_likelihood`` (total), ``n_parameters``, ``bic``, ``icl``, ``aic``,
        ``converged``, ``n_iter``, and ``start``: the start of the kept run
        (``"hierarchical"``, the ``init`` given, ``"split"`` or
        ``"duplicate"``); sorted by ``criterion``.
    best : GaussianMixture
        The fitted model with the lowest ``criterion``.

    Notes
    -----
    A run that ends with a covariance eigenvalue at the floor ``reg_covar``
    (a component collapsed onto a few points, or onto points sharing a
    coordinate, as integer data invite) sits at a spurious maximum of the
    likelihood, which is unbounded there (McLachlan & Peel 2000, section
    3.10); it is kept only when every run ends so. mclust stops such runs
    and reports no BIC for them.

    The hierarchical start is left out when its memory bound (256 MiB of
    cluster scatter matrices: 2000 rows in up to 129 dimensions) would be
    exceeded. With at most 2000 rows it involves nothing random,
    so the table's best fits rarely depend on ``random_state``; the random
    starts can only improve on it.

    References
    ----------
    Fraley, C. (1998). Algorithms for model-based Gaussian hierarchical
    clustering. SIAM J. Sci. Comput. 20, 270-281. doi:10.1137/S1064827596311451

    Fraley, C. and Raftery, A. E. (2002). Model-based clustering, discriminant
    analysis and density estimation. JASA 97, 611-631. doi:10.1198/016214502760047131

    McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models. Wiley.
    doi:10.1002/0471721182

    Examples
    --------
    >>> import lvm
    >>> X = lvm.datasets.load_old_faithful()
    >>> table, best = lvm.select_mixture(X, n_components=range(1, 4), random_state=0)
    >>> best.covariance_type, best.n_components
    ('tied', 3)
    """
    if criterion not in ("bic", "icl", "aic"):
        raise ValueError(f"criterion={criterion!r} must be one of 'bic', 'icl', 'aic'.")
    ks = _check_components(n_components)
    types = _check_types(covariance_types)
    given = sorted({"weights_init", "means_init", "precisions_init"} & set(kwargs))
    if given:
        raise ValueError(f"select_mixture fits many numbers of components, so starting values "
                         f"({', '.join(given)}) cannot be given; fit GaussianMixture with them instead.")
    options = {**_FIT_DEFAULTS, **kwargs}
    init = options.pop("init", "kmeans++")
    verbose = check_verbose(verbose)
    rows, models = [], []
    with progress(total=len(types) * len(ks), desc="select_mixture", unit="fit", verbose=verbose,
                  heartbeat=True) as bar:
        for covariance_type in types:
            smaller = None
            for k in ks:
                bar.set_postfix_str(f"{MCLUST_NAMES[covariance_type]}, k={k}")
                model, start, loglik = _fit_row(X, k, covariance_type, init, options, smaller, rows)
                models.append(model)
                smaller = (model, loglik)
                bar.update()
    table = pd.DataFrame(rows)
    best = models[int(np.argmin(table[criterion].to_numpy()))]
    return table.sort_values(criterion, kind="stable").reset_index(drop=True), best


def _fit_row(X, k, covariance_type, init, options, smaller, rows):
    """The best fit for one (k, type), its start and log-likelihood; its row is appended to ``rows``."""
    model, loglik, start = _best_fit(X, k, covariance_type, init, options, smaller)
    # The criteria from the log-likelihood the fit already scored: as bic() and
    # aic() compute them, without two more passes over X.
    m, n = model.n_parameters_, _shape(X)[0]
    rows.append({
        "covariance_type": covariance_type, "mclust": MCLUST_NAMES[covariance_type],
        "n_components": k, "log_likelihood": loglik,
        "n_parameters": m, "bic": -2.0 * loglik + m * np.log(n), "icl": model.icl(X),
        "aic": -2.0 * loglik + 2.0 * m, "converged": model.converged_, "n_iter": model.n_iter_, "start": start,
    })
    return model, start, loglik


def _check_components(n_components):
    try:
        ks = list(n_components)
    except TypeError:
        raise TypeError(f"n_components must be an iterable of positive integers; got {n_components!r}.") from None
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1]
    if bad:
        raise ValueError(f"n_components must hold positive integers; got {bad[0]!r}.")
    if not ks:
        raise ValueError("n_components is empty: give at least one number of components, e.g. range(1, 10).")
    return sorted({int(k) for k in ks})


def _check_types(covariance_types):
    types = [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
    if not types:
        raise ValueError("covariance_types is empty: give at least one of " + ", ".join(map(repr, COVARIANCE_TYPES)))
    unknown = [t for t in types if t not in COVARIANCE_TYPES]
    if unknown:
        raise ValueError(f"covariance_types: {unknown[0]!r} is not one of " + ", ".join(map(repr, COVARIANCE_TYPES)))
    return list(dict.fromkeys(types))


def _fit(X, k, covariance_type, **options):
    model = GaussianMixture(k, covariance_type=covariance_type, **options)
    with warnings.catch_warnings():
        # Degenerate and unconverged fits are kept in the table and flagged there.
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        model.fit(X)
    return model, float(model.score_samples(X).sum())


def _best_fit(X, k, covariance_type, init, options, smaller):
    """The best of the hierarchical and the user's starts; refitted from ``smaller`` when below it."""
    runs = []
    n, p = _shape(X)
    if init != "hierarchical" and _hierarchical.affordable(min(n, HIERARCHICAL_ROWS), p):
        # One hierarchical start: below the subset size every repeat would be the same.
        single = {key: value for key, value in options.items() if key != "n_init"}
        runs.append((*_fit(X, k, covariance_type, init="hierarchical", **single), "hierarchical"))
    runs.append((*_fit(X, k, covariance_type, init=init, **options), init))
    # Runs that reach the same maximum differ by about EM's tolerance; the
    # earlier (deterministic) one is kept then, so that the result does not
    # depend on random_state when the random starts find nothing better. A
    # run ending at a spurious maximum is kept only if every run does.
    margin = options["tol"] * _shape(X)[0]
    reg_covar = options.get("reg_covar", GaussianMixture().reg_covar)

    def better(run, kept):
        proper, kept_proper = not _spurious(run[0], reg_covar), not _spurious(kept[0], reg_covar)
        return proper > kept_proper or (proper == kept_proper and run[1] > kept[1] + margin)

    kept = runs[0]
    for run in runs[1:]:
        if better(run, kept):
            kept = run
    if smaller is not None and kept[1] < smaller[1]:
        plain = {key: value for key, value in options.items() if key not in ("n_init", "init")}
        for how in ("split", "duplicate"):
            refit = (*_fit(X, k, covariance_type, **_grown_start(smaller[0], k, how), **plain), how)
            # Here the likelihood alone decides: the table must not fall with k.
            if refit[1] > kept[1]:
                kept = refit
            if kept[1] >= smaller[1]:
                break
    return kept


def _shape(X):
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    return int(shape[0]), int(shape[1]) if len(shape) > 1 else 1


def _spurious(model, reg_covar):
    """Whether a covariance eigenvalue sits at the floor ``reg_covar``: a spurious maximum.

    The likelihood grows without bound as a component's covariance becomes
    singular (a component on a few points, or on points sharing a
    coordinate); the floor stops that, at a maximum the data do not support
    (McLachlan & Peel 2000, section 3.10). mclust stops such a run and
    reports no BIC for it.
    """
    if reg_covar <= 0:
        return False
    k, p = model.means_.shape
    full = COVARIANCE_TYPES[model.covariance_type].to_full(model.covariances_, k, p)
    values = np.linalg.eigvalsh(full)
    # A floored eigenvalue comes back from the floored matrix up to round-off of the largest.
    return bool(values.min() <= reg_covar * (1 + 1e-6) + 64 * np.finfo(np.float64).eps * values.max())


def _grown_start(model, k, how):
    """Starting values for ``k`` components grown from a fitted mixture with fewer.

    ``how="split"``: the component of largest ``weight * lambda`` (``lambda``
    the largest eigenvalue of its covariance, ``u`` its eigenvector) becomes
    two, of half its weight, at ``mu +- sqrt(2 / pi) sqrt(lambda) u``; repeated
    until there are ``k``. ``how="duplicate"``: a copy of the heaviest
    component, weights halved, the same mixture density.
    """
    weights, means = model.weights_.copy(), model.means_.copy()
    k0, p = means.shape
    structure = COVARIANCE_TYPES[model.covariance_type]
    values, vectors = np.linalg.eigh(structure.to_full(model.covariances_, k0, p))
    # Which fitted component each new one copies its covariance from.
    origin = list(range(k0))
    for _ in range(k - k0):
        spread = values[origin, -1]
        if how == "split":
            j = int(np.argmax(weights * spread))
            shift = _SPLIT_OFFSET * np.sqrt(max(spread[j], 0.0)) * vectors[origin[j], :, -1]
        else:
            j = int(np.argmax(weights))
            shift = np.zeros(p)
        weights = np.append(weights, weights[j] / 2)
        weights[j] /= 2
        means = np.vstack([means, means[j] + shift])
        means[j] -= shift
        origin.append(origin[j])
    # A structure whose storage does not grow with k shares one covariance.
    shared = structure.shape(1, p) == structure.shape(2, p)
    precisions = model.precisions_ if shared else model.precisions_[origin]
    return {"weights_init": weights / weights.sum(), "means_init": means, "precisions_init": precisions}
