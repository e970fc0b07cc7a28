"""mclust's fourteen covariance structures: each M-step against a numerical optimiser, EM monotone.

The M-step of a structure minimises
``F = sum_k n_k log|Sigma_k| + tr(W_k Sigma_k^{-1})`` over the covariances
``Sigma_k = lambda_k D_k A_k D_k^T`` the structure allows (Celeux & Govaert
1995). The reference here is scipy's BFGS on that parameterisation, written in
this file from the letters of the name alone (volumes, shapes, orientations
equal, varying or the axes), started at lvm's solution and at random points.
Comparisons with mclust itself are in test_mixture_mclust_models.py.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, optimize

import lvm
from lvm.exceptions import ConvergenceWarning, DegenerateComponentWarning, LikelihoodDecreaseWarning
from lvm.mixture._covariance import MCLUST_ORDER, structure_of

NAMES = list(MCLUST_ORDER)


def _scatters(rng, k, p, sizes):
    """Weighted scatters of random anisotropic samples, one per component."""
    out = []
    for size in sizes:
        axes = linalg.qr(rng.normal(size=(p, p)))[0]
        points = rng.normal(size=(size, p)) * rng.uniform(0.3, 3.0, size=p) @ axes.T
        points -= points.mean(axis=0)
        out.append(points.T @ points)
    return np.array(out)


def _criterion(nk, scatter, full):
    return sum(n * np.linalg.slogdet(s)[1] + np.trace(np.linalg.solve(s, w))
               for n, w, s in zip(nk, scatter, full, strict=True))


def _converged_m_step(name, nk, scatter):
    """lvm's M-step repeated from its own output until it no longer moves (the iterative ones stop early)."""
    structure = structure_of(name)
    k, p = scatter.shape[:2]
    second = structure.from_full(scatter)
    offsets = np.zeros((k, p))
    covariances = structure.estimate(nk, offsets, second, 0.0)
    for _ in range(2000):
        following = structure.estimate(nk, offsets, second, 0.0, previous=covariances)
        if np.allclose(following, covariances, rtol=1e-13, atol=0):
            break
        covariances = following
    return structure.to_full(covariances, k, p)


class _Family:
    """``Sigma_k(theta)`` of a structure around a base point, from its three letters.

    theta holds log volumes (1 or k), log shapes (p per shape, centred so that
    ``|A| = 1``) and skew-symmetric generators of rotations ``D_k expm(S)``
    (none for I); E parts have one block, V parts one per component.
    """

    def __init__(self, name, base_full):
        self.volume, self.shape, self.orientation = name
        k, p, _ = base_full.shape
        self.k, self.p = k, p
        if self.orientation == "I":
            axes = np.broadcast_to(np.eye(p), (k, p, p))
        elif self.orientation == "E":
            axes = np.broadcast_to(np.linalg.eigh(base_full[0])[1], (k, p, p))
        else:
            axes = np.linalg.eigh(base_full)[1]
        eigen = np.einsum("kij,kil,klj->kj", axes, base_full, axes)
        volumes = np.exp(np.log(eigen).mean(axis=1))
        self.axes, self.shapes, self.volumes = axes, eigen / volumes[:, None], volumes
        self.counts = {"E": 1, "V": k, "I": 0}
        self.sizes = [self.counts[self.volume], self.counts[self.shape] * p,
                      self.counts[self.orientation] * p * (p - 1) // 2]

    def __call__(self, theta):
        k, p = self.k, self.p
        log_volumes, log_shapes, generators = np.split(theta, np.cumsum(self.sizes)[:2])
        volumes = self.volumes * np.exp(np.resize(log_volumes, k) if log_volumes.size else 0.0)
        shapes = self.shapes.copy()
        if log_shapes.size:
            steps = np.resize(log_shapes.reshape(-1, p), (k, p))
            shapes *= np.exp(steps - steps.mean(axis=1, keepdims=True))
        axes = self.axes.copy()
        if generators.size:
            blocks = np.resize(generators.reshape(-1, p * (p - 1) // 2), (k, p * (p - 1) // 2))
            upper = np.triu_indices(p, 1)
            for j in range(k):
                skew = np.zeros((p, p))
                skew[upper] = blocks[j]
                axes[j] = axes[j] @ linalg.expm(skew - skew.T)
        return np.einsum("kij,kj,klj->kil", axes, volumes[:, None] * shapes, axes)

    @property
    def dimension(self):
        return sum(self.sizes)


@pytest.mark.parametrize("name", NAMES)
def test_m_step_is_the_minimum_over_the_structure(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    k, p = 3, 3
    sizes = [40, 25, 60]
    nk = np.array(sizes, dtype=float)
    scatter = _scatters(rng, k, p, sizes)
    if name[2] == "I":
        # The diagonal structures see the diagonals of the scatters only.
        scatter = np.array([np.diag(np.diag(w)) for w in scatter])
    ours = _converged_m_step(name, nk, scatter)
    family = _Family(name, ours)
    # lvm's covariances are in the structure: its parameterisation reproduces them.
    np.testing.assert_allclose(family(np.zeros(family.dimension)), ours, rtol=1e-9, atol=1e-12)
    value = _criterion(nk, scatter, ours)

    def objective(theta):
        return _criterion(nk, scatter, family(theta))

    local = optimize.minimize(objective, np.zeros(family.dimension), method="BFGS", options={"gtol": 1e-10})
    assert local.fun >= value - 1e-9 * abs(value)
    # No better minimum from random starts either (BFGS from 4 points in the family).
    for _ in range(4):
        start = optimize.minimize(objective, rng.normal(scale=0.7, size=family.dimension), method="BFGS")
        assert start.fun >= value - 1e-7 * abs(value), (start.fun, value)


@pytest.mark.parametrize("name", NAMES)
def test_covariances_of_the_structure_are_a_fixed_point(name):
    """Population scatters ``n_k Sigma_k`` of covariances drawn in the structure give those covariances back."""
    structure = structure_of(name)
    k, p = 3, 4
    stored, full = structure.draw(np.random.RandomState(7), k, p, (0.5, 1.5))
    family = _Family(name, full)
    np.testing.assert_allclose(family(np.zeros(family.dimension)), full, rtol=1e-12, atol=1e-12)
    nk = np.array([30.0, 50.0, 20.0])
    got = _converged_m_step(name, nk, nk[:, None, None] * full)
    np.testing.assert_allclose(got, full, rtol=1e-9, atol=1e-12)


def test_parameter_counts_follow_the_letters():
    """Volumes, shapes and orientations counted from the name; mclust's df are in the reference test."""
    p, k = 4, 3
    rotations = p * (p - 1) // 2
    expected = {"EII": 1, "VII": k, "EEI": p, "VEI": k + p - 1, "EVI": 1 + k * (p - 1), "VVI": k * p,
                "EEE": p * (p + 1) // 2, "VEE": k + p - 1 + rotations, "EVE": 1 + k * (p - 1) + rotations,
                "VVE": k * p + rotations, "EEV": p + k * rotations, "VEV": k + p - 1 + k * rotations,
                "EVV": 1 + k * (p * (p + 1) // 2 - 1), "VVV": k * p * (p + 1) // 2}
    for name in NAMES:
        model = lvm.GaussianMixture(k, covariance_type=name, max_iter=5).fit(
            lvm.datasets.make_mixture_data(200, p, k, covariance_type=name, random_state=1)[0])
        assert model.n_parameters_ == k - 1 + k * p + expected[name], name


@pytest.mark.parametrize("mclust, lvm_name", [("VVV", "full"), ("EEE", "tied"), ("VVI", "diag"), ("VII", "spherical")])
def test_mclust_names_of_the_four_structures_are_those_structures(mclust, lvm_name):
    X = lvm.datasets.load_old_faithful()
    a = lvm.GaussianMixture(3, covariance_type=mclust, random_state=0).fit(X)
    b = lvm.GaussianMixture(3, covariance_type=lvm_name, random_state=0).fit(X)
    np.testing.assert_array_equal(a.covariances_, b.covariances_)
    assert a.covariance_type == mclust and a.n_parameters_ == b.n_parameters_


@pytest.mark.parametrize("name", NAMES)
def test_one_component_reduces_to_the_named_single_gaussian(name):
    """With K = 1 a structure is mclust's XII (spherical), XXI (diagonal) or XXX (full) fit in closed form."""
    X = lvm.datasets.load_old_faithful().to_numpy()
    model = lvm.GaussianMixture(1, covariance_type=name, tol=1e-12, max_iter=500).fit(X)
    scatter = np.cov(X, rowvar=False, bias=True)
    expected = {"I": np.diag(np.diag(scatter)), "E": scatter, "V": scatter}[name[2]]
    if name[:2] in ("EI", "VI") or name in ("EII", "VII"):
        expected = np.eye(2) * np.trace(scatter) / 2
    full = structure_of(name).to_full(model.covariances_, 1, 2)[0]
    np.testing.assert_allclose(full, expected, rtol=1e-8)


def test_synthetic_data_of_each_structure_lie_in_it():
    for name in NAMES:
        _, _, truth = lvm.datasets.make_mixture_data(10, 3, 4, covariance_type=name, random_state=3)
        full = structure_of(name).to_full(truth["covariances"], 4, 3)
        family = _Family(name, full)
        np.testing.assert_allclose(family(np.zeros(family.dimension)), full, rtol=1e-10, atol=1e-12)


def test_select_mixture_takes_mclust_names_and_searches_fourteen_by_default():
    X = lvm.datasets.load_old_faithful()
    table, _ = lvm.select_mixture(X, n_components=[1, 2], verbose=False, random_state=0)
    assert sorted(table["mclust"].unique()) == sorted(NAMES)
    chosen, _ = lvm.select_mixture(X, n_components=[2], covariance_types=["VEV", "EEE", "tied"], verbose=False,
                                   random_state=0)
    # EEE and tied are one structure, listed once under lvm's name.
    assert sorted(chosen["covariance_type"]) == ["VEV", "tied"]
    assert sorted(chosen["mclust"]) == ["EEE", "VEV"]


_REFUSALS = r"reg_covar|[Rr]escale|scale the|no observed value|n_components|constant|singular"


@settings(max_examples=250, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), name=st.sampled_from(NAMES), k=st.integers(1, 4), p=st.integers(1, 4),
       extra=st.integers(1, 60), reg_covar=st.sampled_from([0.0, 1e-6, 1e-2]),
       init=st.sampled_from(["kmeans++", "random", "hierarchical"]), magnitude=st.floats(-8, 8),
       column_scales=st.floats(0, 4), duplicates=st.booleans(), missing=st.booleans())
def test_em_never_lowers_the_likelihood_for_any_structure(seed, name, k, p, extra, reg_covar, init, magnitude,
                                                           column_scales, duplicates, missing):
    """Tiny and near-duplicate samples, column scales 1e-4..1e4 apart, missing entries: never a fall."""
    rng = np.random.default_rng(seed)
    n = k + extra
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, 3.0, size=p) + 4.0 * rng.integers(0, 3, size=(n, 1))
    if duplicates:
        X = X[rng.integers(0, n, size=n)] + rng.normal(size=(n, p)) * 1e-7
    X *= 10.0 ** (magnitude + rng.uniform(-column_scales, column_scales, size=p))
    if missing and p > 1:
        holes = rng.random(X.shape) < 0.15
        holes[:, rng.integers(p)] = False
        X = np.where(holes, np.nan, X)
    model = lvm.GaussianMixture(k, covariance_type=name, init=init, reg_covar=reg_covar, tol=0.0, max_iter=25,
                                missing="em", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
        warnings.simplefilter("error", LikelihoodDecreaseWarning)
        try:
            model.fit(X)
        except ValueError as error:
            assert re.search(_REFUSALS, str(error)), str(error)
            return
    history = model.history_
    assert np.all(np.isfinite(history))
    assert np.all(np.diff(history) >= -1e-10 * np.maximum(1.0, np.abs(history[1:])))


def test_summary_of_data_with_a_column_named_weight():
    X = lvm.datasets.load_old_faithful().rename(columns={"waiting": "weight"})
    for model in (lvm.GaussianMixture(2, covariance_type="VEV", random_state=0),
                  lvm.MixtureOfFactorAnalyzers(2, 1, random_state=0)):
        components = model.fit(X).summary().tables["components"]
        assert list(components.columns[:3]) == ["mixing weight", "eruptions", "weight"]
        np.testing.assert_allclose(components["mixing weight"], model.weights_)
