"""Choose a mixture model by BIC, ICL or AIC: its number of components and structure (and of factors)."""

import numbers
import warnings

import numpy as np
import pandas as pd

from .._progress import check_verbose, progress
from ..exceptions import ConvergenceWarning, DegenerateComponentWarning
from . import _hierarchical
from ._covariance import COVARIANCE_TYPES, MCLUST_ALIASES, MCLUST_NAMES, MCLUST_ORDER, structure_of
from ._start import HIERARCHICAL_ROWS
from .gaussian import GaussianMixture
from .mfa import MixtureOfFactorAnalyzers, MixtureOfPPCA

# EM settings of every fit unless given: a model choice compares
# log-likelihoods that differ by a few units, so each fit is run close to its
# maximum (mclust stops at a relative change of 1e-5 of the total, about this
# per row on typical data), not to the models' looser defaults.
_FIT_DEFAULTS = {"tol": 1e-6, "max_iter": 2000}

# Where a split component's halves start along its principal axis: the means
# of the two halves of a Gaussian cut through its mean, +-sqrt(2 / pi) sd.
_SPLIT_OFFSET = np.sqrt(2.0 / np.pi)

# A noise variance this close (relative) to its floor is on it.
_AT_FLOOR = 1 + 1e-6


class _Gaussian:
    """One covariance structure of :class:`GaussianMixture`: a row per number of components."""

    # GaussianMixture's own default start.
    default_init = "kmeans++"
    # A fit below one with fewer components is refitted from that one, split or duplicated.
    grows = True

    def __init__(self, covariance_type):
        self.label = covariance_type
        self.name = MCLUST_NAMES[covariance_type]

    def model(self, k, q, options):
        return GaussianMixture(k, covariance_type=self.label, **options)

    def spurious(self, model):
        return _spurious(model, model.reg_covar)

    def grown_start(self, model, k, how):
        return _grown_start(model, k, how)


class _LowRank:
    """One noise structure of the mixtures of factor analyzers or of PPCA: a row per (components, factors)."""

    # The models' own default start: k-means, then each part's PPCA in closed form.
    default_init = "kmeans"
    # The models take no starting values, so a fit below a smaller one cannot be grown from it.
    grows = False

    def __init__(self, label, name, estimator, **fixed):
        self.label, self.name, self.estimator, self.fixed = label, name, estimator, fixed

    def model(self, k, q, options):
        return self.estimator(k, q, **self.fixed, **options)

    def spurious(self, model):
        # A noise variance on its floor: a component on (nearly) a subspace of
        # its points, where the likelihood is unbounded (a Heywood case of the
        # component's factor model).
        return bool(np.any(model._noise_per_column() <= model._noise_floor * _AT_FLOOR))


# Every structure of each model, by its label in the table; mclust's and
# pgmm's names (McNicholas & Murphy 2008: loadings, noise across components,
# isotropy; U unconstrained, C constrained) in the ``mclust`` column.
_STRUCTURES = {
    "gaussian": {covariance_type: _Gaussian(covariance_type) for covariance_type in COVARIANCE_TYPES},
    "mfa": {"mfa": _LowRank("mfa", "UUU", MixtureOfFactorAnalyzers),
            "mfa shared": _LowRank("mfa shared", "UCU", MixtureOfFactorAnalyzers, shared_uniquenesses=True)},
    "mppca": {"mppca": _LowRank("mppca", "UUC", MixtureOfPPCA)},
}
# Gaussian mixtures: all fourteen of mclust's structures, in mclust's order,
# each labelled with lvm's name where it has one.
_DEFAULT_TYPES = {"gaussian": tuple(MCLUST_ALIASES.get(name, name) for name in MCLUST_ORDER), "mfa": ("mfa",),
                  "mppca": ("mppca",)}
# The numbers of factors tried unless given (those below the number of features).
_DEFAULT_FACTORS = range(1, 4)
# Parameters select_mixture sets itself, and the argument that chooses them.
_SET_HERE = {"covariance_type": "covariance_types", "shared_uniquenesses": "covariance_types"}


def select_mixture(X, n_components=range(1, 10), covariance_types=None, criterion="bic", verbose=True, *,
                   model="gaussian", n_factors=None, **kwargs):
    """Fit a mixture for every number of components, structure (and number of factors); pick the best.

    Like R's ``mclust`` BIC table: one row per fit, with its log-likelihood,
    parameter count and criteria, and the model with the lowest value of
    ``criterion`` (lvm's criteria are lower-is-better: mclust's BIC is ``-bic``).
    ``model`` chooses the family: Gaussian mixtures over covariance
    structures (Fraley & Raftery 2002), or mixtures of factor analyzers or of
    probabilistic PCA over the number of components ``K`` and of factors
    ``q`` (McLachlan & Peel 2000, chapter 8; McNicholas & Murphy 2008).

    Every fit keeps the best of several EM runs: one from mclust's
    deterministic start, model-based hierarchical clustering
    (``init="hierarchical"``, Fraley 1998), and one (``n_init`` of them) from
    the ``init`` given (the model's default otherwise). For Gaussian
    mixtures the table is then made monotone: a fit with ``k`` components
    whose log-likelihood is below that of the same structure with fewer
    components (a nested model, so its maximum is at least as high) is a
    poor local maximum, and is refitted from the smaller model's solution
    with its widest component split in two, halves
    ``mu +- sqrt(2 / pi) sqrt(lambda) u`` along its principal axis
    ``(lambda, u)`` (the means of the two halves of a Gaussian cut through its
    mean); if that is still below, from the smaller solution with a
    component duplicated, which has the smaller model's likelihood. So no
    row lies below a row with fewer components of the same structure. The
    low-rank mixtures take no starting values, so their table is not made
    monotone: a row may lie below one with fewer components.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    n_components : iterable of int, default=range(1, 10)
        Numbers of components to try (positive integers).
    covariance_types : str or iterable of str, default=None
        Structures to try, by their label in the table. ``model="gaussian"``:
        any covariance type of :class:`GaussianMixture`, lvm's names
        (``"full"``, ``"tied"``, ``"diag"``, ``"spherical"``) or mclust's
        (``"EII"`` ... ``"VVV"``; mclust's names of lvm's four are the same
        structures, listed once under lvm's name); default: all fourteen of
        mclust's, in mclust's order, as ``mclustBIC``. ``model="mfa"``: ``"mfa"``, a diagonal noise covariance
        ``Psi_k`` per component, and ``"mfa shared"``, one ``Psi`` for all
        (:class:`MixtureOfFactorAnalyzers` with ``shared_uniquenesses=True``);
        default ``"mfa"`` alone. ``model="mppca"``: ``"mppca"``.
    criterion : {"bic", "icl", "aic"}, default="bic"
        What to minimise.
    verbose : bool or int, default=True
        Show a progress bar, one step per fit in the table, when the call
        lasts over a second (False or 0: none). As the models' ``verbose``;
        the mixtures themselves are fitted without one.
    model : {"gaussian", "mfa", "mppca"}, default="gaussian"
        The mixtures fitted: :class:`GaussianMixture`,
        :class:`MixtureOfFactorAnalyzers` or :class:`MixtureOfPPCA`.
    n_factors : iterable of int, default=None
        Numbers of factors ``q`` to try with ``model="mfa"`` or ``"mppca"``
        (non-negative integers below ``n_features``; 0 is a Gaussian mixture
        with diagonal, or spherical, covariances); by default 1, 2 and 3 (those
        below ``n_features``). Not for Gaussian mixtures.
    **kwargs
        Passed to every model (``random_state``, ``n_init``, ``init``, ...).
        Unless given, ``tol=1e-6`` and ``max_iter=2000``: the fits are
        compared, so each is run close to its maximum.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``covariance_type`` (the structure's label, as in
        ``covariance_types``), ``mclust`` (mclust's name of a Gaussian
        structure, EII ... VVV; for the low-rank mixtures the name in
        the PGMM family of McNicholas & Murphy 2008: UUU for ``"mfa"``, UCU for
        ``"mfa shared"``, UUC for ``"mppca"``), ``n_components``, for the
        low-rank mixtures ``n_factors``, then ``log_likelihood`` (total),
        ``n_parameters``, ``bic``, ``icl``, ``aic``, ``converged``, ``n_iter``,
        and ``start``: the start of the kept run (``"hierarchical"``, the
        ``init`` used, ``"split"`` or ``"duplicate"``); sorted by
        ``criterion``.
    best : GaussianMixture, MixtureOfFactorAnalyzers or MixtureOfPPCA
        The fitted model with the lowest ``criterion``.

    Notes
    -----
    A run that ends at a spurious maximum of the likelihood, which is
    unbounded there (McLachlan & Peel 2000, section 3.10), is kept only
    when every run ends so: for a Gaussian mixture, a covariance eigenvalue
    at the floor ``reg_covar`` (a component collapsed onto a few points, or
    onto points sharing a coordinate, as integer data invite); for the
    low-rank mixtures, a noise variance at its floor ``reg`` times its
    column's variance. mclust stops such runs and reports no BIC for them.

    The hierarchical start is left out when its memory bound (256 MiB of
    cluster scatter matrices: 2000 rows in up to 129 dimensions) would be
    exceeded. With at most 2000 rows it involves nothing random,
    so the table's best fits rarely depend on ``random_state``; the random
    starts can only improve on it.

    The criteria of tables from different calls on the same data compare:
    ``pd.concat`` of a Gaussian and a low-rank table ranks both families.

    References
    ----------
    Fraley, C. (1998). Algorithms for model-based Gaussian hierarchical
    clustering. SIAM J. Sci. Comput. 20, 270-281. doi:10.1137/S1064827596311451

    Fraley, C. and Raftery, A. E. (2002). Model-based clustering, discriminant
    analysis and density estimation. JASA 97, 611-631. doi:10.1198/016214502760047131

    McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models. Wiley.
    doi:10.1002/0471721182

    McNicholas, P. D. and Murphy, T. B. (2008). Parsimonious Gaussian mixture
    models. Stat. Comput. 18, 285-296. doi:10.1007/s11222-008-9056-0

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
    if model not in _STRUCTURES:
        raise ValueError(f"model={model!r} must be one of " + ", ".join(map(repr, _STRUCTURES)) + ".")
    ks = _check_counts(n_components, "n_components", least=1, example="range(1, 10)")
    structures = _check_types(covariance_types, model)
    qs = _check_factors(n_factors, model, _shape(X)[1])
    fixed = sorted(set(_SET_HERE) & set(kwargs))
    if fixed:
        raise ValueError(f"select_mixture sets {fixed[0]} itself; choose it with {_SET_HERE[fixed[0]]}.")
    given = sorted({"weights_init", "means_init", "precisions_init"} & set(kwargs))
    if given:
        raise ValueError(f"select_mixture fits many numbers of components, so starting values "
                         f"({', '.join(given)}) cannot be given; fit GaussianMixture with them instead.")
    options = {**_FIT_DEFAULTS, **kwargs}
    init = options.pop("init", structures[0].default_init)
    verbose = check_verbose(verbose)
    rows, models = [], []
    with progress(total=len(structures) * len(qs) * len(ks), desc="select_mixture", unit="fit", verbose=verbose,
                  heartbeat=True) as bar:
        for structure in structures:
            for q in qs:
                smaller = None
                for k in ks:
                    bar.set_postfix_str(f"{structure.name}, k={k}" + ("" if q is None else f", q={q}"))
                    fitted, start, loglik = _fit_row(X, structure, k, q, init, options, smaller, rows)
                    models.append(fitted)
                    smaller = (fitted, loglik)
                    bar.update()
    table = pd.DataFrame(rows)
    best = models[int(np.argmin(table[criterion].to_numpy()))]
    return table.sort_values(criterion, kind="stable").reset_index(drop=True), best


def _fit_row(X, structure, k, q, init, options, smaller, rows):
    """The best fit for one (structure, k, q), its start and log-likelihood; its row is appended to ``rows``."""
    model, loglik, start = _best_fit(X, structure, k, q, init, options, smaller)
    # The criteria from the log-likelihood the fit already scored: as bic() and
    # aic() compute them, without two more passes over X.
    m, n = model.n_parameters_, _shape(X)[0]
    row = {"covariance_type": structure.label, "mclust": structure.name, "n_components": k}
    if q is not None:
        row["n_factors"] = q
    row.update({
        "log_likelihood": loglik, "n_parameters": m, "bic": -2.0 * loglik + m * np.log(n), "icl": model.icl(X),
        "aic": -2.0 * loglik + 2.0 * m, "converged": model.converged_, "n_iter": model.n_iter_, "start": start,
    })
    rows.append(row)
    return model, start, loglik


def _check_counts(values, name, least, example):
    kind = "positive" if least == 1 else "non-negative"
    try:
        counts = list(values)
    except TypeError:
        raise TypeError(f"{name} must be an iterable of {kind} integers; got {values!r}.") from None
    bad = [c for c in counts if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < least]
    if bad:
        raise ValueError(f"{name} must hold {kind} integers; got {bad[0]!r}.")
    if not counts:
        what = name.removeprefix("n_").replace("_", " ")
        raise ValueError(f"{name} is empty: give at least one number of {what}, e.g. {example}.")
    return sorted({int(c) for c in counts})


def _check_factors(n_factors, model, p):
    """The numbers of factors to try, or ``[None]`` for Gaussian mixtures, which have none."""
    if model == "gaussian":
        if n_factors is not None:
            raise ValueError("n_factors applies to model='mfa' or model='mppca', not to Gaussian mixtures.")
        return [None]
    if n_factors is None:
        qs = [q for q in _DEFAULT_FACTORS if q < p]
        if not qs:
            raise ValueError(f"model={model!r} needs at least 2 features for a factor; got {p}.")
        return qs
    qs = _check_counts(n_factors, "n_factors", least=0, example="range(1, 4)")
    if qs[-1] >= p:
        raise ValueError(f"n_factors={qs[-1]} must be below n_features={p}: a component with as many factors "
                         "as variables has no noise.")
    return qs


def _check_types(covariance_types, model):
    """The structures of ``model`` that ``covariance_types`` names, in the order given."""
    known = _STRUCTURES[model]
    if covariance_types is None:
        return [known[label] for label in _DEFAULT_TYPES[model]]
    types = [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
    if not types:
        raise ValueError("covariance_types is empty: give at least one of " + ", ".join(map(repr, known)))
    if model == "gaussian":
        # mclust's names for lvm's four structures are the same structures.
        types = [MCLUST_ALIASES.get(t, t) if isinstance(t, str) else t for t in types]
    unknown = [t for t in types if t not in known]
    if unknown:
        owner = [name for name, structures in _STRUCTURES.items() if unknown[0] in structures]
        hint = f" (it is a structure of model={owner[0]!r})" if owner else ""
        names = [*known, *MCLUST_ALIASES] if model == "gaussian" else list(known)
        raise ValueError(f"covariance_types: {unknown[0]!r} is not one of " + ", ".join(map(repr, names))
                         + f" for model={model!r}{hint}")
    return [known[label] for label in dict.fromkeys(types)]


def _fit(X, structure, k, q, **options):
    model = structure.model(k, q, options)
    with warnings.catch_warnings():
        # Degenerate and unconverged fits are kept in the table and flagged there.
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        model.fit(X)
    return model, float(model.score_samples(X).sum())


def _best_fit(X, structure, k, q, init, options, smaller):
    """The best of the hierarchical and the user's starts; refitted from ``smaller`` when below it."""
    runs = []
    n, p = _shape(X)
    if init != "hierarchical" and _hierarchical.affordable(min(n, HIERARCHICAL_ROWS), p):
        # One hierarchical start: below the subset size every repeat would be the same.
        single = {key: value for key, value in options.items() if key != "n_init"}
        runs.append((*_fit(X, structure, k, q, init="hierarchical", **single), "hierarchical"))
    runs.append((*_fit(X, structure, k, q, init=init, **options), init))
    # Runs that reach the same maximum differ by about EM's tolerance; the
    # earlier (deterministic) one is kept then, so that the result does not
    # depend on random_state when the random starts find nothing better. A
    # run ending at a spurious maximum is kept only if every run does.
    margin = options["tol"] * n

    def better(run, kept):
        proper, kept_proper = not structure.spurious(run[0]), not structure.spurious(kept[0])
        return proper > kept_proper or (proper == kept_proper and run[1] > kept[1] + margin)

    kept = runs[0]
    for run in runs[1:]:
        if better(run, kept):
            kept = run
    if structure.grows and smaller is not None and kept[1] < smaller[1]:
        plain = {key: value for key, value in options.items() if key not in ("n_init", "init")}
        for how in ("split", "duplicate"):
            refit = (*_fit(X, structure, k, q, **structure.grown_start(smaller[0], k, how), **plain), how)
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
    full = structure_of(model.covariance_type).to_full(model.covariances_, k, p)
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
    structure = structure_of(model.covariance_type)
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
