"""Time lvm against scikit-learn and statsmodels, side by side, at equal accuracy.

Usage, from the repository root::

    python benchmarks/run.py                  # every model family
    python benchmarks/run.py pca              # one family
    python benchmarks/run.py factor --threads 1
    python benchmarks/run.py mixture --threads 1
    python benchmarks/run.py mfa --threads 1
    python benchmarks/run.py autoencoder --threads 1
    python benchmarks/run.py pca --repeats 9 --markdown benchmarks/results/pca.md

Method
------
* Every contender is called once untimed (warm-up); that call's result is also
  the one whose accuracy is reported.
* Then, in each repeat ("round"), every contender runs once, in forward order on
  even rounds and reversed order on odd rounds, so that a slow spell of the
  machine hits all contenders alike. Contenders whose fastest call is under
  ``FAST_SECONDS`` run ``FAST_EXTRA`` times as many extra rounds among themselves.
* Reported: the median time of each contender and, for each pairing, the median
  over rounds of the ratio ``time_a / time_b`` measured in the same round.
* PCA accuracy is measured against an exact reference (thin SVD of the centred
  data) computed once: the largest relative error of ``explained_variance_``
  and the largest principal angle between the component subspaces.
* Factor analysis accuracy is the mean log-likelihood per sample of the raw
  data under each fitted Gaussian ``N(column means, implied covariance)``,
  computed by the same function for every contender.
* Gaussian mixtures are timed per EM iteration, without the one-off costs: in
  each round both libraries fit ``MIX_ITER_SHORT`` and ``MIX_ITER_LONG``
  iterations from the same starting values, and the time per iteration is
  ``(t_long - t_short) / (MIX_ITER_LONG - MIX_ITER_SHORT)``. Both must reach the
  same log-likelihood.
* The autoencoder is timed per epoch the same way: in each round both libraries
  train for ``AE_EPOCHS[case]`` short and long runs from their own seeded start
  on the same pre-scaled data, and the time per epoch is the difference over
  the difference of epochs. Accuracy is the mean squared reconstruction error
  of the long run on the training data, in the same units for both.
* Mixtures of factor analyzers and of probabilistic PCA are timed per
  iteration against lvm's and scikit-learn's full-covariance Gaussian mixture
  on data drawn from a mixture of factor analyzers. lvm's fits are timed from
  their callback, which the EM driver calls after the start and after every
  iteration: the time from the first call to the last over the number of
  iterations leaves out validation, the start and the last bookkeeping.
  scikit-learn has no callback and is timed by differencing, as the mixtures.

Each model family is one ``bench_<family>`` function registered in ``FAMILIES``.
"""

import argparse
import datetime
import gc
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.linalg
import scipy.stats
import sklearn
import statsmodels
from sklearn.decomposition import PCA as SkPCA
from sklearn.decomposition import FactorAnalysis as SkFactorAnalysis
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.neural_network import MLPRegressor
from statsmodels.multivariate.factor import Factor as SmFactor
from threadpoolctl import threadpool_info, threadpool_limits

import lvm

# Contenders faster than this (fastest call of the first rounds) get more rounds.
FAST_SECONDS = 0.25
FAST_EXTRA = 2
# Rounds always run, whatever the time budget (--budget).
MIN_ROUNDS = 5

# "Equal accuracy": an error at most EQUAL_SLACK times the other one, or below
# these round-off levels.
EQUAL_SLACK = 1.05
ROUNDOFF_REL = 1e-12
ROUNDOFF_DEG = 1e-8


# ---------------------------------------------------------------------------
# Environment


def blas_report():
    """One line per BLAS/OpenMP library loaded (threadpoolctl), with its thread count."""
    lines = []
    for info in threadpool_info():
        path = info.get("filepath", "")
        owners = {"numpy": "numpy", "scipy": "scipy", "scikit_learn": "scikit-learn",
                  "sklearn": "scikit-learn"}
        owner = next((name for key, name in owners.items()
                      if f"/{key}." in path or f"/{key}/" in path), os.path.basename(path))
        details = [str(info[key]) for key in ("version", "architecture", "threading_layer")
                   if info.get(key)]
        lines.append(f"{info['user_api']} of {owner}: {info.get('internal_api')}"
                     + (f" {', '.join(details)}" if details else "")
                     + f"; threads: {info['num_threads']}")
    return lines


def _git_commit():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment_header():
    commit = _git_commit()
    return [
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, statsmodels {statsmodels.__version__}, "
        f"lvm {lvm.__version__}"
        + (f" (commit {commit})" if commit else ""),
        f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"{platform.system()} {platform.release()}",
        *blas_report(),
    ]


# ---------------------------------------------------------------------------
# Data


def make_lowrank(n_samples, n_features, *, rank=20, noise=1.0, seed=0):
    """Low-rank signal plus isotropic noise and a non-zero mean.

    ``rank`` random orthonormal directions with scales ``10 * 0.9**j`` (variances
    ``100 * 0.81**j``, from 100 down to about 1.8), noise of standard deviation
    ``noise`` on every feature, and a column mean drawn uniformly in [-10, 10].
    """
    rng = np.random.default_rng(seed)
    directions = np.linalg.qr(rng.standard_normal((n_features, rank)))[0]
    scales = 10.0 * 0.9 ** np.arange(rank)
    X = (rng.standard_normal((n_samples, rank)) * scales) @ directions.T
    X += noise * rng.standard_normal((n_samples, n_features))
    X += rng.uniform(-10.0, 10.0, n_features)
    return X


def make_factor(n_samples, n_features, n_factors, *, seed=0):
    """Data from an orthogonal factor model with simple structure, in mixed units.

    Variable ``j`` loads on factor ``j % n_factors`` only. Its uniqueness (on the
    correlation scale) is drawn uniformly in [0.3, 0.7] and its loading is
    ``sqrt(1 - uniqueness)``, between 0.55 and 0.84. Each standardised column is
    then multiplied by a scale drawn log-uniformly in [0.1, 10] and shifted by a
    mean of ``scale`` times a draw uniform in [-10, 10].
    """
    rng = np.random.default_rng(seed)
    uniquenesses = rng.uniform(0.3, 0.7, n_features)
    loadings = np.zeros((n_features, n_factors))
    loadings[np.arange(n_features), np.arange(n_features) % n_factors] = np.sqrt(1.0 - uniquenesses)
    X = rng.standard_normal((n_samples, n_factors)) @ loadings.T
    X += rng.standard_normal((n_samples, n_features)) * np.sqrt(uniquenesses)
    scale = 10.0 ** rng.uniform(-1.0, 1.0, n_features)
    X *= scale
    X += scale * rng.uniform(-10.0, 10.0, n_features)
    return X


# ---------------------------------------------------------------------------
# Timing


def _timed(fn):
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_interleaved(contenders, repeats, budget=None, fast_extra=FAST_EXTRA):
    """Run every contender once per round, alternating the order; return times per round.

    Parameters
    ----------
    contenders : dict name -> callable
    repeats : int
        Rounds in which every contender runs.
    budget : float, optional
        Seconds after which no new round is started once ``MIN_ROUNDS`` are done
        (the extra rounds of the fast contenders are then skipped too).
    fast_extra : int
        Contenders whose fastest call is under ``FAST_SECONDS`` run ``fast_extra``
        times as many extra rounds among themselves (0: none).

    Returns
    -------
    times : dict name -> dict round -> seconds
    """
    names = list(contenders)
    times = {name: {} for name in names}
    started = time.perf_counter()

    def over_budget(done):
        return budget is not None and done >= MIN_ROUNDS and time.perf_counter() - started > budget

    for r in range(repeats):
        if over_budget(r):
            return times
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times[name][r] = _timed(contenders[name])
    repeats = len(times[names[0]])
    fast = [name for name in names if min(times[name].values()) < FAST_SECONDS]
    if len(fast) >= 2 and fast_extra > 0:
        for r in range(repeats, repeats * (1 + fast_extra)):
            if over_budget(r):
                break
            order = fast if r % 2 == 0 else fast[::-1]
            for name in order:
                times[name][r] = _timed(contenders[name])
    return times


def median_time(times, name):
    return float(np.median(list(times[name].values())))


def paired_ratios(times, a, b):
    """Ratios ``time_a / time_b`` of the rounds in which both ran."""
    rounds = sorted(set(times[a]) & set(times[b]))
    return np.array([times[a][r] / times[b][r] for r in rounds])


def paired_ratio(times, a, b):
    """Median over shared rounds of ``time_a / time_b``, and the number of rounds."""
    ratios = paired_ratios(times, a, b)
    return float(np.median(ratios)), len(ratios)


# ---------------------------------------------------------------------------
# Accuracy


def exact_pca(X, k):
    """Reference: thin SVD (LAPACK gesdd) of the explicitly centred data."""
    n = X.shape[0]
    _, singular, vt = scipy.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return singular[:k] ** 2 / (n - 1), vt[:k]


def accuracy(variances, components, reference):
    """Largest relative error of the variances, largest principal angle in degrees."""
    ref_var, ref_comp = reference
    rel = float(np.max(np.abs(np.asarray(variances) - ref_var) / ref_var))
    angle = float(np.degrees(np.max(scipy.linalg.subspace_angles(components.T, ref_comp.T))))
    return rel, angle


def at_least_as_accurate(mine, theirs):
    """Whether accuracy ``mine`` is equal or better than ``theirs``, for both metrics.

    Equal means within ``EQUAL_SLACK`` (the same subspace computed in another
    order of operations differs in the last digits of its error) or at round-off.
    """
    rel_ok = mine[0] <= EQUAL_SLACK * theirs[0] or mine[0] <= ROUNDOFF_REL
    ang_ok = mine[1] <= EQUAL_SLACK * theirs[1] or mine[1] <= ROUNDOFF_DEG
    return rel_ok and ang_ok


# ---------------------------------------------------------------------------
# Markdown


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def fmt_time(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_err(value):
    return "–" if value is None else f"{value:.1e}"


# ---------------------------------------------------------------------------
# PCA


def _pca_contenders(X, k, with_floor):
    """name -> (fit callable, exact? (None: not a PCA), note for the table)."""

    def lvm_fit(**kw):
        return lambda: lvm.PCA(k, **kw).fit(X)

    def sk_fit(solver):
        return lambda: SkPCA(k, svd_solver=solver, random_state=0).fit(X)

    # scikit-learn's iterated_power="auto" rule (sklearn.decomposition.PCA).
    sk_power = 7 if k < 0.1 * min(X.shape) else 4
    contenders = {
        "lvm auto": (lvm_fit(), True, ""),
        "lvm randomized": (lvm_fit(solver="randomized", random_state=0), False, ""),
        "sklearn covariance_eigh": (sk_fit("covariance_eigh"), True, ""),
        "sklearn full": (sk_fit("full"), True, ""),
        "sklearn randomized": (sk_fit("randomized"), False, f"iterated_power={sk_power}"),
        "sklearn arpack": (sk_fit("arpack"), True, ""),
    }
    if with_floor:
        contenders["floor: X.T @ X + eigh"] = (lambda: scipy.linalg.eigh(X.T @ X), None, "")
    return contenders


def _bench_pca_case(label, X, k, repeats, with_floor, budget):
    n, p = X.shape
    print(f"\n[pca/{label}] {n} x {p}, k = {k}: exact reference ...", file=sys.stderr, flush=True)
    reference = exact_pca(X, k)
    contenders = _pca_contenders(X, k, with_floor)

    acc, solvers = {}, {}
    for name, (fn, exact, _) in contenders.items():
        print(f"[pca/{label}] warm-up {name}", file=sys.stderr, flush=True)
        model = fn()
        if exact is None:
            acc[name] = (None, None)
            continue
        acc[name] = accuracy(model.explained_variance_, model.components_, reference)
        if hasattr(model, "solver_"):
            solvers[name] = model.solver_

    print(f"[pca/{label}] timing {repeats} interleaved rounds ...", file=sys.stderr, flush=True)
    times = time_interleaved({name: entry[0] for name, entry in contenders.items()}, repeats, budget)

    rows = []
    for name, (_, exact, note) in contenders.items():
        kind = "–" if exact is None else ("exact" if exact else "randomized")
        if name in solvers:
            note = f"solver_={solvers[name]}"
        if note:
            kind += f" ({note})"
        ts = list(times[name].values())
        rows.append([name, kind, fmt_time(np.median(ts)), fmt_time(min(ts)), len(ts),
                     fmt_err(acc[name][0]), fmt_err(acc[name][1])])
    lines = [f"### PCA, {label}: {n} x {p}, k = {k}", ""]
    lines += md_table(["contender", "kind", "median", "min", "rounds",
                       "max rel. err. explained_variance_", "max principal angle (deg)"], rows)

    sk_names = [name for name in contenders if name.startswith("sklearn")]
    sk_fastest = min(sk_names, key=lambda s: median_time(times, s))
    sk_exact = [s for s in sk_names if contenders[s][1]]
    sk_fastest_exact = min(sk_exact, key=lambda s: median_time(times, s))
    pairs = [("lvm auto", s) for s in sk_names]
    pairs.append(("lvm randomized", "sklearn randomized"))
    if with_floor:
        floor = "floor: X.T @ X + eigh"
        pairs += [("sklearn covariance_eigh", floor), ("lvm auto", floor)]
    ratio_rows = []
    ratios = {}
    for a, b in pairs:
        values = paired_ratios(times, a, b)
        ratios[a, b] = float(np.median(values))
        low, high = np.quantile(values, [0.25, 0.75])
        ratio_rows.append([f"{a} / {b}", f"{ratios[a, b]:.3f}", f"{low:.3f} – {high:.3f}",
                           len(values)])
    lines += ["", f"Paired ratios, time of the first over time of the second in the same round "
                  f"(sklearn's fastest here: {sk_fastest}; fastest exact: {sk_fastest_exact}):", ""]
    lines += md_table(["pairing", "median ratio", "quartiles", "rounds"], ratio_rows)
    info = {"times": times, "acc": acc, "ratios": ratios, "sk_fastest": sk_fastest,
            "sk_fastest_exact": sk_fastest_exact}
    return lines, info


def bench_pca(args):
    """PCA on a tall and a wide data set; returns (markdown lines, [(target, measured, PASS/FAIL)])."""
    k = 10
    repeats = args.repeats
    lines, targets = [], []

    X = make_lowrank(200_000, 100, seed=0)
    case_lines, tall = _bench_pca_case("tall", X, k, repeats, with_floor=True, budget=args.budget)
    lines += case_lines
    del X
    gc.collect()

    X = make_lowrank(2_000, 2_000, seed=1)
    case_lines, wide = _bench_pca_case("wide", X, k, repeats, with_floor=False, budget=args.budget)
    lines += ["", *case_lines]
    del X

    r = tall["ratios"]["lvm auto", tall["sk_fastest"]]
    targets.append((f"(a) tall: lvm auto / {tall['sk_fastest']} <= 1.0", f"{r:.3f}", r <= 1.0))
    r = wide["ratios"]["lvm auto", wide["sk_fastest_exact"]]
    targets.append((f"(b) wide: lvm auto / {wide['sk_fastest_exact']} <= 0.6", f"{r:.3f}", r <= 0.6))
    for label, case in (("tall", tall), ("wide", wide)):
        r = case["ratios"]["lvm randomized", "sklearn randomized"]
        mine, theirs = case["acc"]["lvm randomized"], case["acc"]["sklearn randomized"]
        ok_acc = at_least_as_accurate(mine, theirs)
        measured = (f"{r:.3f}; accuracy lvm {mine[0]:.1e} / {mine[1]:.1e} deg vs "
                    f"sklearn {theirs[0]:.1e} / {theirs[1]:.1e} deg")
        targets.append((f"(c) {label}: lvm randomized / sklearn randomized <= 1.0 at equal "
                        "or better accuracy", measured, r <= 1.0 and ok_acc))
    return lines, targets


# ---------------------------------------------------------------------------
# Factor analysis

# Two mean log-likelihoods per sample closer than this count as equal.
LOGLIK_EQUAL = 1e-6


def mean_loglik(X, mean, cov):
    """Mean log-density per row of ``X`` under ``N(mean, cov)`` (scipy), the same for everyone."""
    return float(np.mean(scipy.stats.multivariate_normal(mean, cov).logpdf(X)))


def _statsmodels_covariance(result, sd):
    """statsmodels fits the correlation matrix: ``D (L L^T + diag(psi)) D`` in raw units."""
    loadings = np.asarray(result.loadings)
    corr = loadings @ loadings.T + np.diag(np.asarray(result.uniqueness))
    return corr * sd[:, None] * sd[None, :]


def bench_factor(args):
    """Maximum-likelihood factor analysis; returns (markdown lines, [(target, measured, PASS/FAIL)]).

    Every contender's fitted covariance is scored on the raw data by
    :func:`mean_loglik` with the column means as mean. statsmodels' loadings and
    uniquenesses are on the correlation scale and are put back in raw units with
    the ML (``ddof=0``) standard deviations. statsmodels draws its starting
    loadings at random; ``rng=0`` makes every call the same.
    """
    n, p, k = 100_000, 50, 5
    X = make_factor(n, p, k, seed=0)
    mean = X.mean(axis=0)
    sd = X.std(axis=0)  # ddof=0: the ML standard deviations

    contenders = {
        "lvm default": (lambda: lvm.FactorAnalysis(k).fit(X), "ML, L-BFGS-B on the uniquenesses"),
        "lvm em": (lambda: lvm.FactorAnalysis(k, solver="em").fit(X), "ML, EM on the correlation matrix"),
        "sklearn default": (lambda: SkFactorAnalysis(n_components=k).fit(X),
                            "ML, SVD-based iterations on the raw data (randomized SVD), tol=1e-2"),
        "statsmodels ml": (lambda: SmFactor(X, n_factor=k, method="ml").fit(rng=0),
                           "ML, 3 EM steps from a seeded random start, then BFGS on the correlation matrix"),
        "floor: X.T @ X": (lambda: X.T @ X, "one product, nothing else"),
    }
    covariance = {
        "lvm default": lambda m: m.get_covariance(),
        "lvm em": lambda m: m.get_covariance(),
        "sklearn default": lambda m: m.get_covariance(),
        "statsmodels ml": lambda m: _statsmodels_covariance(m, sd),
    }

    def iterations(name, model):
        if name.startswith("lvm"):
            return f"{model.n_iter_}" + ("" if model.converged_ else " (not converged)")
        if name.startswith("sklearn"):
            return str(model.n_iter_)
        if name.startswith("statsmodels"):
            r = model.mle_retvals
            return f"{r.nit}" + ("" if r.success else " (not converged)")
        return "–"

    loglik, iters = {}, {}
    for name, (fn, _) in contenders.items():
        print(f"[factor] {n} x {p}, k = {k}: warm-up {name}", file=sys.stderr, flush=True)
        model = fn()
        iters[name] = iterations(name, model)
        if name in covariance:
            loglik[name] = mean_loglik(X, mean, covariance[name](model))
    best = max(loglik.values())

    print(f"[factor] timing {args.repeats} interleaved rounds ...", file=sys.stderr, flush=True)
    times = time_interleaved({name: entry[0] for name, entry in contenders.items()},
                             args.repeats, args.budget)

    rows = []
    for name, (_, method) in contenders.items():
        ts = list(times[name].values())
        ll = loglik.get(name)
        rows.append([name, method, fmt_time(np.median(ts)), fmt_time(min(ts)), len(ts), iters[name],
                     "–" if ll is None else f"{ll:.9f}", "–" if ll is None else f"{ll - best:.1e}"])
    lines = [f"### Factor analysis: {n} x {p}, k = {k}", ""]
    lines += md_table(["contender", "method", "median", "min", "rounds", "iterations",
                       "mean log-lik. per sample", "minus the best"], rows)

    pairs = [("sklearn default", "lvm default"), ("statsmodels ml", "lvm default"),
             ("lvm em", "lvm default"), ("sklearn default", "lvm em"), ("statsmodels ml", "lvm em"),
             ("lvm default", "floor: X.T @ X")]
    ratio_rows, ratios = [], {}
    for a, b in pairs:
        values = paired_ratios(times, a, b)
        ratios[a, b] = float(np.median(values))
        low, high = np.quantile(values, [0.25, 0.75])
        ratio_rows.append([f"{a} / {b}", f"{ratios[a, b]:.3g}", f"{low:.3g} – {high:.3g}", len(values)])
    lines += ["", "Paired ratios, time of the first over time of the second in the same round:", ""]
    lines += md_table(["pairing", "median ratio", "quartiles", "rounds"], ratio_rows)

    targets = []
    mine = loglik["lvm default"]
    for label, other, minimum in (("(d)", "sklearn default", 50.0), ("(e)", "statsmodels ml", 5.0)):
        r = ratios[other, "lvm default"]
        theirs = loglik[other]
        ok_ll = mine >= theirs - LOGLIK_EQUAL
        measured = f"{r:.3g}; log-lik. lvm {mine:.9f} vs {theirs:.9f} ({mine - theirs:+.1e})"
        targets.append((f"{label} factor: {other} / lvm default >= {minimum:g} at equal or higher "
                        f"log-likelihood (within {LOGLIK_EQUAL:g} per sample)",
                        measured, r >= minimum and ok_ll))
    return lines, targets


# ---------------------------------------------------------------------------
# Gaussian mixtures

# EM iterations of the short and the long fit; their difference is timed.
MIX_ITER_SHORT = 2
MIX_ITER_LONG = 12
# Relative difference of the two libraries' log-likelihoods that counts as equal.
MIX_LOGLIK_REL = 1e-8
# Median paired ratio sklearn / lvm per iteration required, per covariance type.
MIX_TARGETS = {"full": 2.0, "tied": 2.0, "diag": 1.0, "spherical": 1.0}


def make_mixture(n_samples, n_features, n_components, *, seed=0):
    """Gaussian mixture data with random full covariances.

    Weights are drawn from a Dirichlet distribution with all parameters 5, means
    from ``N(0, 1.5**2 I)``, and each covariance is ``Q diag(v) Q^T`` with ``Q`` a
    random orthogonal matrix and eigenvalues ``v`` log-uniform in
    [10**-0.5, 10**0.5]. The component sizes are a multinomial draw and the rows
    are shuffled.
    """
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    means = rng.normal(0.0, 1.5, (n_components, n_features))
    counts = rng.multinomial(n_samples, weights)
    X = np.empty((n_samples, n_features))
    start = 0
    for j in range(n_components):
        q = np.linalg.qr(rng.standard_normal((n_features, n_features)))[0]
        factor = q * np.sqrt(10.0 ** rng.uniform(-0.5, 0.5, n_features))
        X[start:start + counts[j]] = rng.standard_normal((counts[j], n_features)) @ factor.T + means[j]
        start += counts[j]
    return X[rng.permutation(n_samples)]


def mixture_start(X, n_components, covariance_type, *, seed=0):
    """Starting values shared by both libraries: ``(weights, means, precisions)``.

    Equal weights, means at distinct data rows drawn at random, and every
    component's covariance equal to that of the whole data (precisions in the
    storage of ``covariance_type``).
    """
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    weights = np.full(n_components, 1.0 / n_components)
    means = X[rng.choice(n, n_components, replace=False)]
    cov = np.cov(X, rowvar=False, bias=True)
    precisions = {
        "full": np.tile(np.linalg.inv(cov), (n_components, 1, 1)),
        "tied": np.linalg.inv(cov),
        "diag": np.tile(1.0 / np.diag(cov), (n_components, 1)),
        "spherical": np.full(n_components, 1.0 / np.mean(np.diag(cov))),
    }[covariance_type]
    return weights, means, precisions


def _quiet(fn):
    """``fn`` with ConvergenceWarning (expected: ``tol=0``) silenced."""

    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return fn()

    return call


def _per_iteration(times, lib, short, long_, rounds):
    """Per round, ``(t_long - t_short) / (long_ - short)`` of library ``lib``."""
    return np.array([(times[f"{lib} {long_}"][r] - times[f"{lib} {short}"][r]) / (long_ - short)
                     for r in rounds])


def time_per_step(lvm_fit, sk_fit, short, long_, rounds, budget, label):
    """Warm up and time lvm and scikit-learn fits of ``short`` and ``long_`` steps, interleaved.

    ``lvm_fit(steps)`` and ``sk_fit(steps)`` return the callables to time.
    Returns the warm-up models (keys ``"lvm 12"`` etc.), the times per round,
    the per-round time per step of each library, and the rounds all four ran in.
    """
    contenders = {f"lvm {short}": lvm_fit(short), f"sklearn {short}": sk_fit(short),
                  f"lvm {long_}": lvm_fit(long_), f"sklearn {long_}": sk_fit(long_)}
    models = {}
    for name, fn in contenders.items():
        print(f"[{label}] warm-up {name}", file=sys.stderr, flush=True)
        models[name] = fn()
    print(f"[{label}] timing {rounds} interleaved rounds ...", file=sys.stderr, flush=True)
    times = time_interleaved(contenders, rounds, budget, fast_extra=0)
    shared = sorted(set.intersection(*(set(t) for t in times.values())))
    t_lvm = _per_iteration(times, "lvm", short, long_, shared)
    t_sk = _per_iteration(times, "sklearn", short, long_, shared)
    return models, times, t_lvm, t_sk, shared


def ratio_summary(t_lvm, t_sk):
    """Median and quartiles of the per-round ratios sklearn / lvm."""
    ratios = t_sk / t_lvm
    low, high = np.quantile(ratios, [0.25, 0.75])
    return float(np.median(ratios)), low, high


def bench_mixture(args):
    """Gaussian mixture EM, time per iteration; returns (markdown lines, [(target, measured, PASS/FAIL)]).

    For each covariance type both libraries run EM from the same starting values
    with ``tol=0`` (a fixed number of iterations) and ``reg_covar=0``: lvm floors
    the covariance eigenvalues at ``reg_covar`` where scikit-learn adds it to the
    diagonal, and only without it do the two run the same iterations. The
    rounds are interleaved as lvm short, sklearn short, lvm long, sklearn long,
    in reverse order on odd rounds; the per-iteration time of a round is the
    difference of its long and short fits over the difference of their
    iterations, which removes validation, set-up and the final E-step.

    lvm's ``history_[j]`` is the mean log-likelihood after ``j`` iterations (its
    ``lower_bound_`` is ``history_[-1]``); scikit-learn's ``lower_bound_`` is
    computed in the E-step of its last iteration, from the parameters before
    that iteration's M-step, so it is compared with lvm's
    ``history_[MIX_ITER_LONG - 1]``.
    """
    n, p, k = 100_000, 20, 10
    short, long_ = MIX_ITER_SHORT, MIX_ITER_LONG
    X = make_mixture(n, p, k, seed=0)

    rows, targets = [], []
    for ct in ("full", "tied", "diag", "spherical"):
        weights, means, precisions = mixture_start(X, k, ct, seed=1)
        common = dict(covariance_type=ct, tol=0.0, reg_covar=0.0, weights_init=weights,
                      means_init=means, precisions_init=precisions, random_state=0)

        def lvm_fit(iters, common=common):
            return _quiet(lambda: lvm.GaussianMixture(k, max_iter=iters, **common).fit(X))

        def sk_fit(iters, common=common):
            return _quiet(lambda: SkGaussianMixture(k, max_iter=iters, **common).fit(X))

        models, times, t_lvm, t_sk, rounds = time_per_step(
            lvm_fit, sk_fit, short, long_, args.repeats * (1 + FAST_EXTRA), args.budget,
            f"mixture/{ct}: {n} x {p}, k = {k}")
        mine, theirs = models[f"lvm {long_}"], models[f"sklearn {long_}"]
        for name, model in models.items():
            expected = short if name.endswith(f" {short}") else long_
            if model.n_iter_ != expected:
                raise RuntimeError(f"{ct}, {name}: {model.n_iter_} EM iterations, expected {expected}")
        ll_lvm = float(mine.history_[long_ - 1])
        ll_sk = float(theirs.lower_bound_)
        rel = abs(ll_lvm - ll_sk) / abs(ll_sk)

        ratio, low, high = ratio_summary(t_lvm, t_sk)
        rows.append([ct, fmt_time(np.median(t_lvm)), fmt_time(np.median(t_sk)),
                     f"{ratio:.2f}", f"{low:.2f} – {high:.2f}", len(rounds),
                     fmt_time(median_time(times, f"lvm {short}")),
                     fmt_time(median_time(times, f"sklearn {short}")),
                     f"{ll_lvm:.12f}", f"{ll_sk:.12f}", f"{rel:.1e}"])
        minimum = MIX_TARGETS[ct]
        targets.append((f"(f) mixture, {ct}: sklearn / lvm per EM iteration >= {minimum:g}, "
                        f"log-likelihoods equal within {MIX_LOGLIK_REL:g} relative",
                        f"{ratio:.2f}; relative difference {rel:.1e}",
                        ratio >= minimum and rel <= MIX_LOGLIK_REL))

    lines = [f"### Gaussian mixture, EM time per iteration: {n} x {p}, k = {k}", "",
             f"Per iteration: (time of a {long_}-iteration fit - time of a {short}-iteration fit) / "
             f"{long_ - short}, within each round; log-likelihoods (mean per sample) after "
             f"{long_ - 1} M-steps: lvm's `history_[{long_ - 1}]`, sklearn's `lower_bound_` of "
             f"the {long_}-iteration fit.", ""]
    lines += md_table(["covariance_type", "lvm per iter.", "sklearn per iter.",
                       "sklearn / lvm (median paired)", "quartiles", "rounds",
                       f"lvm {short}-iter. fit", f"sklearn {short}-iter. fit",
                       "lvm log-lik.", "sklearn log-lik.", "rel. diff."], rows)
    return lines, targets


# ---------------------------------------------------------------------------
# Mixtures of factor analyzers

# lvm fits run MFA_ITERATIONS iterations and are timed from their callback;
# scikit-learn's Gaussian mixture, which has no callback, fits MFA_SK_SHORT and
# MFA_ITERATIONS iterations and the difference is timed. Its short fit is not 0
# iterations: given precisions_init, scikit-learn cannot stop before its first
# M-step (the fit then has no covariances_).
MFA_ITERATIONS = 7
MFA_SK_SHORT = 1


def make_mfa(n_samples, n_features, n_components, n_factors, *, seed=0):
    """Data from a mixture of factor analyzers, ``x = mu_k + W_k z + e``.

    Weights are drawn from a Dirichlet distribution with all parameters 5,
    means from ``N(0, 2**2 I)``, the entries of every loading matrix ``W_k``
    from ``N(0, 1)`` and every uniqueness (the variances of ``e``) uniformly
    in [0.2, 1.0]. The component sizes are a multinomial draw and the rows are
    shuffled.
    """
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    counts = rng.multinomial(n_samples, weights)
    X = np.empty((n_samples, n_features))
    start = 0
    for j in range(n_components):
        mean = rng.normal(0.0, 2.0, n_features)
        loadings = rng.standard_normal((n_features, n_factors))
        uniquenesses = rng.uniform(0.2, 1.0, n_features)
        rows = slice(start, start + counts[j])
        X[rows] = mean + rng.standard_normal((counts[j], n_factors)) @ loadings.T
        X[rows] += rng.standard_normal((counts[j], n_features)) * np.sqrt(uniquenesses)
        start += counts[j]
    return X[rng.permutation(n_samples)]


def _r_note():
    """Whether R is here to run EMMIXmfa: what ``which Rscript`` finds."""
    path = shutil.which("Rscript")
    if path is None:
        return "R's EMMIXmfa was not run: `Rscript` is not on the PATH of this machine (R is not installed)."
    return f"R's EMMIXmfa was not run (Rscript found at {path}; this suite does not call R)."


class _IterationClock:
    """A callback for lvm's EM driver that times the iterations of each fit it is passed to.

    The driver calls it after the start (iteration 0) and after every
    iteration, each time after the E-step that scores the new parameters, so
    the time from the call for iteration 0 to the last one is that of the
    iterations alone: no validation, no start, no final bookkeeping. One value
    per fit is kept: that time over the number of iterations.
    """

    def __init__(self):
        self.per_iteration = []
        self._stamps = []

    def __call__(self, iteration, params):
        if iteration == 0:
            self._stamps = []
        self._stamps.append(time.perf_counter())

    def close(self):
        self.per_iteration.append((self._stamps[-1] - self._stamps[0]) / (len(self._stamps) - 1))


def bench_mfa(args):
    """Mixtures of factor analyzers, time per iteration against the full-covariance Gaussian mixture.

    Returns (markdown lines, [(target, measured, PASS/FAIL)]). Every fit runs
    a fixed number of iterations (``tol=0``). An lvm fit is timed per
    iteration from its callback (:class:`_IterationClock`); scikit-learn's,
    which has no callback, by the difference of a ``MFA_ITERATIONS`` and a
    ``MFA_SK_SHORT``-iteration fit, both timed whole. Each round calls every
    fit once, in reverse order on odd rounds; the ratios are medians over
    rounds of the per-round ratios. An AECM iteration makes two passes over
    the data (an E-step before each of its two conditional M-steps), an EM
    iteration one.

    Both Gaussian mixtures start from the same values (:func:`mixture_start`)
    with ``reg_covar=0``, so they run the same iterations and their
    log-likelihoods must agree; the MFA and MPPCA start from their own k-means
    (``random_state=0``).
    """
    n, p, k, q = 100_000, 50, 5, 5
    iters, sk_short = MFA_ITERATIONS, MFA_SK_SHORT
    X = make_mfa(n, p, k, q, seed=0)
    weights, means, precisions = mixture_start(X, k, "full", seed=1)
    gmm = dict(covariance_type="full", tol=0.0, reg_covar=0.0, weights_init=weights, means_init=means,
               precisions_init=precisions, random_state=0)
    base, sk = "lvm GaussianMixture(5, \"full\")", "sklearn GaussianMixture(5, \"full\")"
    lvm_models = {
        "lvm MixtureOfFactorAnalyzers(5, 5)": (
            "AECM, 2 passes", lambda cb: lvm.MixtureOfFactorAnalyzers(k, q, max_iter=iters, tol=0.0, random_state=0,
                                                                      callback=cb)),
        "lvm MixtureOfFactorAnalyzers(5, 5, algorithm=\"em\")": (
            "EM, 1 pass", lambda cb: lvm.MixtureOfFactorAnalyzers(k, q, algorithm="em", max_iter=iters, tol=0.0,
                                                                  random_state=0, callback=cb)),
        "lvm MixtureOfPPCA(5, 5)": (
            "AECM, 2 passes", lambda cb: lvm.MixtureOfPPCA(k, q, max_iter=iters, tol=0.0, random_state=0,
                                                           callback=cb)),
        base: ("EM, 1 pass", lambda cb: lvm.GaussianMixture(k, max_iter=iters, callback=cb, **gmm)),
    }
    clocks = {name: _IterationClock() for name in lvm_models}

    def lvm_fit(name, make):
        def fit():
            model = make(clocks[name]).fit(X)
            clocks[name].close()
            return model
        return _quiet(fit)

    contenders = {name: lvm_fit(name, make) for name, (_, make) in lvm_models.items()}
    for it in (sk_short, iters):
        contenders[f"{sk} {it}"] = _quiet(lambda it=it: SkGaussianMixture(k, max_iter=it, **gmm).fit(X))

    label = f"mfa: {n} x {p}, K = {k}, q = {q}"
    models = {}
    for name, fn in contenders.items():
        print(f"[{label}] warm-up {name}", file=sys.stderr, flush=True)
        models[name] = fn()
        expected = sk_short if name == f"{sk} {sk_short}" else iters
        if models[name].n_iter_ != expected:
            raise RuntimeError(f"{name}: {models[name].n_iter_} iterations, expected {expected}")
    for clock in clocks.values():
        clock.per_iteration.clear()
    print(f"[{label}] timing {args.repeats} interleaved rounds ...", file=sys.stderr, flush=True)
    times = time_interleaved(contenders, args.repeats, args.budget, fast_extra=0)
    rounds = sorted(set.intersection(*(set(t) for t in times.values())))
    # With fast_extra=0 every fit runs once in every round, so a clock's i-th value is round i's.
    per_iter = {name: np.array(clock.per_iteration)[rounds] for name, clock in clocks.items()}
    per_iter[sk] = _per_iteration(times, sk, sk_short, iters, rounds)

    # Mean log-likelihood per sample after the last M-step of the warm-up fit.
    loglik = {name: float(models[name].history_[iters]) for name in lvm_models}
    loglik[sk] = float(models[f"{sk} {iters}"].score(X))
    rel_gmm = abs(loglik[base] - loglik[sk]) / abs(loglik[sk])

    rows, summary = [], {}
    methods = {name: method for name, (method, _) in lvm_models.items()}
    methods[sk] = "EM, 1 pass"
    for name, method in methods.items():
        t = per_iter[name]
        to_base = t / per_iter[base]
        low, high = np.quantile(to_base, [0.25, 0.75])
        summary[name] = float(np.median(to_base))
        rows.append([name, method, fmt_time(np.median(t)), fmt_time(np.min(t)), f"{summary[name]:.2f}",
                     f"{low:.2f} – {high:.2f}", f"{np.median(t / per_iter[sk]):.2f}", len(rounds),
                     f"{loglik[name]:.6f}"])
    threads = sorted({info["num_threads"] for info in threadpool_info()})
    lines = [f"### Mixtures of factor analyzers, time per iteration: {n} x {p}, K = {k}, q = {q}", "",
             f"Per iteration: lvm, the time from the callback after the start to the callback after "
             f"iteration {iters}, over {iters}; scikit-learn, (time of a {iters}-iteration fit - time of a "
             f"{sk_short}-iteration fit) / {iters - sk_short}. Ratios: medians over rounds of the per-round "
             f"ratio. BLAS threads: {', '.join(map(str, threads))}. Log-likelihood: mean per sample after "
             f"{iters} iterations (lvm's `history_[{iters}]`, sklearn's `score(X)`); the two Gaussian "
             f"mixtures, from the same start, differ by {rel_gmm:.1e} relative.", ""]
    lines += md_table(["model", "iteration", "per iter. (median)", "min", f"/ {base} (median paired)",
                       "quartiles", f"/ {sk}", "rounds", "log-lik."], rows)
    lines += ["", _r_note()]

    targets = []
    for name in lvm_models:
        if name != base:
            r = summary[name]
            targets.append((f"(h) mfa: {name} / {base} per iteration < 1 (O(n K p q) against O(n K p^2))",
                            f"{r:.2f}", r < 1.0))
    return lines, targets

# ---------------------------------------------------------------------------
# Autoencoder

# (short, long) epochs per case: long enough that the per-epoch difference
# dominates the one-off costs, short enough for a few rounds.
AE_EPOCHS = {"digits": (10, 50), "60000 x 784": (1, 3)}
# Batch sizes per data set: scikit-learn's default (200) everywhere, and
# smaller batches on the large set, where the share of the time spent outside
# the matrix products (and hence the ratio) depends on the batch size.
AE_BATCHES = {"digits": (200,), "60000 x 784": (64, 128, 200)}
AE_TARGET = 1.3
AE_ERROR_SLACK = 1.02


def make_images(n_samples, n_features, *, rank=30, seed=0):
    """Synthetic 'images': rank-``rank`` structure through a tanh plus noise, standardised, float32."""
    rng = np.random.default_rng(seed)
    X = np.tanh(rng.standard_normal((n_samples, rank)) @ rng.standard_normal((rank, n_features)) / np.sqrt(rank))
    X += 0.3 * rng.standard_normal((n_samples, n_features))
    X = (X - X.mean(axis=0)) / X.std()
    return X.astype(np.float32)


def bench_autoencoder(args):
    """Autoencoder training, time per epoch; returns (markdown lines, [(target, measured, PASS/FAIL)]).

    lvm's ``Autoencoder(k, hidden=(64,))`` against scikit-learn's
    ``MLPRegressor(hidden_layer_sizes=(64, k, 64))`` fitted with X as input and
    target: the same layer widths, tanh hidden units, Adam with the same
    settings (learning rate 1e-3, betas 0.9/0.999, eps 1e-8), the same batch size,
    shuffling every epoch, no L2 penalty, no early stopping and ``tol=0`` (all
    epochs run). Differences that stay: lvm's bottleneck is linear where the
    MLP's is tanh, and lvm starts its biases at zero. Both get the same data,
    already scaled (``standardize=None`` for lvm), in the same dtype: float64
    on digits, float32 on the 60000 x 784 set.
    """
    k = 10
    digits = lvm.datasets.load_digits(return_X_y=True)[0]
    cases = {
        "digits": ((digits - digits.mean(axis=0)) / digits.std(), np.float64),
        "60000 x 784": (make_images(60_000, 784), np.float32),
    }
    rows, targets = [], []
    for label, (X, dtype) in cases.items():
        X = X.astype(dtype)
        short, long_ = AE_EPOCHS[label]
        for batch in AE_BATCHES[label]:
            row, target = _bench_autoencoder_case(args, label, X, dtype, k, batch, short, long_)
            rows.append(row)
            targets.append(target)

    lines = [f"### Autoencoder, time per epoch: {k}-unit bottleneck, hidden (64,)", "",
             "Per epoch: (time of a long run - time of a short run) / (difference in epochs), within each "
             f"round; epochs (short, long): {AE_EPOCHS}. Reconstruction error: mean squared error per entry "
             "on the training data after the long run.", ""]
    lines += md_table(["data", "shape", "dtype", "batch", "lvm per epoch", "sklearn per epoch",
                       "sklearn / lvm (median paired)", "quartiles", "rounds",
                       "lvm error", "sklearn error"], rows)
    return lines, targets


def _bench_autoencoder_case(args, label, X, dtype, k, batch, short, long_):
    """One data set and batch size: returns (table row, target)."""

    def lvm_fit(epochs):
        return lambda: lvm.Autoencoder(k, hidden=(64,), activation="tanh", batch_size=batch, epochs=epochs,
                                       learning_rate=1e-3, standardize=None, dtype=dtype,
                                       random_state=0).fit(X)

    def sk_fit(epochs):
        return _quiet(lambda: MLPRegressor(
            hidden_layer_sizes=(64, k, 64), activation="tanh", solver="adam", batch_size=batch,
            learning_rate_init=1e-3, alpha=0.0, max_iter=epochs, tol=0.0, n_iter_no_change=10**9,
            shuffle=True, early_stopping=False, random_state=0).fit(X, X))

    models, _, t_lvm, t_sk, rounds = time_per_step(lvm_fit, sk_fit, short, long_, args.repeats, args.budget,
                                                   f"autoencoder/{label}, batch {batch}")
    mine, theirs = models[f"lvm {long_}"], models[f"sklearn {long_}"]
    if mine.coefs_[0].dtype != dtype or theirs.coefs_[0].dtype != dtype:
        raise RuntimeError(f"{label}: weights not in {np.dtype(dtype).name}")
    err_lvm = float(np.mean((mine.reconstruct(X).astype(np.float64) - X) ** 2))
    err_sk = float(np.mean((theirs.predict(X).astype(np.float64) - X) ** 2))
    ratio, low, high = ratio_summary(t_lvm, t_sk)
    n, p = X.shape
    name = np.dtype(dtype).name
    row = [label, f"{n} x {p}", name, batch, fmt_time(np.median(t_lvm)), fmt_time(np.median(t_sk)),
           f"{ratio:.2f}", f"{low:.2f} – {high:.2f}", len(rounds), f"{err_lvm:.4f}", f"{err_sk:.4f}"]
    target = (f"(g) autoencoder, {label} ({name}), batch {batch}: sklearn / lvm per epoch >= "
              f"{AE_TARGET:g}, reconstruction error <= {AE_ERROR_SLACK:g} x sklearn's",
              f"{ratio:.2f}; error {err_lvm:.4f} vs {err_sk:.4f}",
              ratio >= AE_TARGET and err_lvm <= AE_ERROR_SLACK * err_sk)
    return row, target


FAMILIES = {"pca": bench_pca, "factor": bench_factor, "mixture": bench_mixture, "mfa": bench_mfa,
            "autoencoder": bench_autoencoder}


# ---------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("families", nargs="*", metavar="family",
                        help=f"model families to run, among {', '.join(FAMILIES)} (default: all)")
    parser.add_argument("--repeats", type=int, default=7,
                        help="interleaved rounds per data set (default: 7; fast contenders get "
                             f"{1 + FAST_EXTRA}x as many)")
    parser.add_argument("--budget", type=float, default=90.0,
                        help="seconds of timing per data set after which no new round starts, once "
                             f"{MIN_ROUNDS} rounds are done (default: 90; 0 for no limit)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS threads (default: leave as loaded)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the Markdown tables to PATH")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not args.budget:
        args.budget = None
    unknown = [f for f in args.families if f not in FAMILIES]
    if unknown:
        parser.error(f"unknown model family {unknown}; choose among {', '.join(FAMILIES)}")
    families = list(dict.fromkeys(args.families)) or list(FAMILIES)

    limits = threadpool_limits(args.threads) if args.threads else None
    header = environment_header()
    for line in header:
        print(line)
    sys.stdout.flush()

    started = time.perf_counter()
    out = ["## Benchmarks", "", f"Date: {datetime.date.today().isoformat()}. Command: "
           f"`python benchmarks/run.py {' '.join(argv if argv is not None else sys.argv[1:])}`", ""]
    out += [f"- {line}" for line in header]
    all_targets = []
    for family in families:
        lines, targets = FAMILIES[family](args)
        out += ["", *lines]
        all_targets += targets
    out += ["", "### Targets", ""]
    out += md_table(["target", "measured", "result"],
                    [[t, m, "PASS" if ok else "FAIL"] for t, m, ok in all_targets])
    out += ["", f"Total wall time: {time.perf_counter() - started:.0f} s."]
    text = "\n".join(out) + "\n"
    print()
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text)
    if limits is not None:
        limits.restore_original_limits()
    return 0 if all(ok for _, _, ok in all_targets) else 1


if __name__ == "__main__":
    sys.exit(main())
