"""Rotation criteria against GPArotation's published loadings, statsmodels, and their own calculus."""

import json
import pathlib
import warnings

import numpy as np
import pytest
from statsmodels.multivariate.factor_rotation import rotate_factors

import lvm
from lvm.factor import rotate
from lvm.factor import rotation as rot

REF = json.loads((pathlib.Path(__file__).parent / "reference" / "gparotation.json").read_text())
DATA = {k: np.array(v) for k, v in REF["data"].items()}
PUB = {k: np.array(v) for k, v in REF["published"].items()}
# GPArotation's tests start every ability.cov rotation from factanal's
# loadings L; its Varimax of L (eps = 1e-8) spans the same factor space.
ABILITY = PUB["Varimax(L, eps=1e-8)"]
# R's matrix(c(rep(1,3),rep(0,6),rep(1,3)), 6, 2), filled by columns.
TARGET = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3)
W46 = np.column_stack([np.full(6, 0.4), np.full(6, 0.6)])


def _match_columns(L, ref):
    """``L`` with its columns permuted and signed to best match ``ref``."""
    import itertools

    best = None
    for perm in itertools.permutations(range(L.shape[1])):
        M = L[:, perm]
        M = M * np.where(np.sum(M * ref, axis=0) < 0, -1.0, 1.0)
        if best is None or np.abs(M - ref).max() < np.abs(best - ref).max():
            best = M
    return best


# (published call, method, parameters, tolerance). GPArotation stopped those
# runs at a projected gradient of eps, so the loadings it printed are that
# close to the optimum and no closer: ours run to 1e-9 and are compared within
# 2 eps for eps = 1e-5 (the published precision), 1e-6 for eps = 1e-8.
ABILITY_CASES = [
    ("oblimin(L, eps=1e-8)", "oblimin", {}, 1e-6),
    ("oblimin(L, gam = 1, eps=1e-8)", "oblimin", {"gam": 1.0}, 1e-6),
    ("oblimin(L, gam = .1, eps=1e-8)", "oblimin", {"gamma": 0.1}, 1e-6),
    ("quartimin(L, eps=1e-8)", "quartimin", {}, 1e-6),
    ("targetQ(L, Target=matrix(c(rep(1,3),rep(0,6),rep(1,3)), 6,2), eps=1e-5)", "targetQ", {"Target": TARGET}, 2e-5),
    ("entropy(L, maxit=3000, eps=1e-5)", "entropy", {}, 2e-5),
    ("quartimax(L, eps=1e-5)", "quartimax", {}, 2e-5),
    ("simplimax(L, eps=1e-5)", "simplimax", {}, 2e-5),
    ("bentlerT(L, eps=1e-8)", "bentlerT", {}, 1e-6),
    ("bentlerQ(L, eps=1e-8)", "bentlerQ", {}, 1e-6),
    ("geominT(L, eps=1e-5)", "geominT", {}, 2e-5),
    ("geominQ(L, eps=1e-5)", "geominQ", {}, 2e-5),
    ("cfT(L, eps=1e-8)", "cfT", {}, 1e-6),
    ("cfQ(L, eps=1e-8)", "cfQ", {}, 1e-6),
    ("infomaxT(L, eps=1e-5)", "infomaxT", {}, 2e-5),
    ("infomaxQ(L, eps=1e-5)", "infomaxQ", {}, 2e-5),
    ("Varimax(L, eps=1e-8)", "cf_t", {"kappa": 1 / 6}, 1e-6),
]


@pytest.mark.parametrize("call, method, kwargs, atol", ABILITY_CASES, ids=[c[1] + str(i) for i, c in
                                                                           enumerate(ABILITY_CASES)])
def test_published_ability_cov_rotations(call, method, kwargs, atol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rotated = rotate(ABILITY, method, tol=1e-9, max_iter=5000, **kwargs)
    assert np.abs(_match_columns(rotated.loadings, PUB[call]) - PUB[call]).max() < atol


# The same start as GPArotation and its eps: the same iterations, to round-off.
@pytest.mark.parametrize("call, data, method", [
    ("equamax(box26, eps=1e-5)", "box26", "equamax"),
    ("parsimax(box26, eps=1e-5)", "box26", "parsimax"),
    ("varimin(Harman8, eps=1e-5)", "Harman8", "varimin"),
    ("oblimax(Harman8, eps=1e-5)", "Harman8", "oblimax"),
])
def test_published_box26_and_harman8_rotations(call, data, method):
    rotated = rotate(DATA[data], method, eps=1e-5, maxit=1000)
    np.testing.assert_allclose(rotated.loadings, PUB[call], atol=1e-10)


def test_parsimax_is_crawford_ferguson_with_its_kappa():
    p, m = DATA["box26"].shape
    a = rotate(DATA["box26"], "parsimax", tol=1e-5).loadings
    b = rotate(DATA["box26"], "cfT", kappa=(m - 1) / (p + m - 2), tol=1e-5).loadings
    np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::lvm.exceptions.HeywoodCaseWarning")
@pytest.mark.parametrize("method", ["bifactorT", "bifactorQ"])
def test_published_bifactor_netherlands_tv(method):
    # factanal(factors = 3, covmat = NetherlandsTV, rotation = "none"): ML
    # loadings with positive column sums; the start matters for bifactor.
    fa = lvm.FactorAnalysis(3).fit_covariance(DATA["NetherlandsTV"], 100)
    U = fa.unrotated_loadings_
    U = U * np.where(U.sum(axis=0) < 0, -1.0, 1.0)
    rotated = rotate(U, method, eps=1e-5, maxit=1000)
    published = PUB[f"{method}(fa.unrotated"]
    # The ML loadings agree with factanal's to about 1e-6; GPArotation stopped
    # at a gradient of 1e-5.
    np.testing.assert_allclose(rotated.loadings, published, atol=2e-5)


def test_orthogonal_target_is_the_procrustes_solution():
    # Schoenemann (1966): T = U V^T from the SVD of A^T H minimises ||A T - H||.
    U, _, Vt = np.linalg.svd(ABILITY.T @ TARGET)
    expected = ABILITY @ U @ Vt
    np.testing.assert_allclose(rotate(ABILITY, "targetT", Target=TARGET).loadings, expected, atol=1e-12)
    # GPArotation's published targetT, from the identity, is the best proper
    # rotation only; the Procrustes fit needs a reflection and fits better.
    published = PUB["targetT(L, Target=matrix(c(rep(1,3),rep(0,6),rep(1,3)), 6,2), eps=1e-5)"]
    assert np.sum((expected - TARGET) ** 2) < np.sum((published - TARGET) ** 2) - 1.0


def _projected_gradient(A, rotated, vgQ, kind):
    """Bernaards & Jennrich (2005): the gradient with respect to T projected on the tangent space."""
    L, T = rotated.loadings, rotated.rotation_matrix
    _, Gq = vgQ(L)
    if kind == "orthogonal":
        G = A.T @ Gq
        M = T.T @ G
        return G - T @ (M + M.T) / 2
    Tstar = np.linalg.inv(T.T)  # statsmodels' T: L = A (T*^T)^{-1}, unit columns
    G = -(L.T @ Gq @ np.linalg.inv(Tstar)).T
    return G - Tstar @ np.diag(np.sum(Tstar * G, axis=0))


STATS_CASES = [
    ("target_q", {"target": TARGET}, ("target", TARGET, "oblique")),
    ("partial_target", {"target": TARGET, "weights": (TARGET > 0).astype(float)},
     ("partial_target", TARGET, (TARGET > 0).astype(float))),
    ("cf_t", {"kappa": 0.3}, ("CF", 0.3, "orthogonal")),
    ("cf_q", {"kappa": 0.3}, ("CF", 0.3, "oblique")),
]


@pytest.mark.parametrize("method, kwargs, sm_args", STATS_CASES, ids=[c[0] for c in STATS_CASES])
def test_statsmodels_and_stationarity(method, kwargs, sm_args):
    A = DATA["box26"][:, :2] if method.startswith("cf") else ABILITY
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours = rotate(A, method, tol=1e-7, max_iter=3000, **kwargs)
        # statsmodels starts at the identity, among the proper rotations; this
        # partial target is fitted best with a reflection, lvm's other start.
        start = {"T": np.diag([1.0, -1.0])} if method == "partial_target" else {}
        theirs = rotate_factors(A, sm_args[0], *sm_args[1:], algorithm="gpa", tol=1e-12, max_tries=3000,
                                **start)[0]
    np.testing.assert_allclose(ours.loadings, theirs, atol=1e-5)
    # Independently: a stationary point of the criterion, and lower than at
    # nearby rotations (a local minimum; oblique criteria may have others).
    name, params = rot.method_parameters(method, kwargs)
    vgQ = rot._criterion(name, params, *A.shape)
    kind = rot._METHODS[name][0]
    assert np.linalg.norm(_projected_gradient(A, ours, vgQ, kind)) < 1e-5
    rng = np.random.default_rng(0)
    best = vgQ(ours.loadings)[0]
    T0 = ours.rotation_matrix if kind == "orthogonal" else np.linalg.inv(ours.rotation_matrix.T)
    for _ in range(50):
        X = T0 + 0.05 * rng.standard_normal(T0.shape)
        if kind == "oblique":
            T = X / np.linalg.norm(X, axis=0)
            L = A @ np.linalg.inv(T.T)
        else:
            U, _, Vt = np.linalg.svd(X)
            L = A @ U @ Vt
        assert vgQ(L)[0] > best


CRITERIA = [
    ("geomin", lambda L: rot.geomin_criterion(L, 0.05)),
    ("cf", lambda L: rot.crawford_ferguson_criterion(L, 0.3)),
    ("target", lambda L: rot.target_criterion(L, np.where(TARGET[:, :1].repeat(2, 1) > 0, np.nan, TARGET), W46)),
    ("bentler", rot.bentler_criterion),
    ("infomax", rot.infomax_criterion),
    ("oblimax", rot.oblimax_criterion),
    ("entropy", rot.entropy_criterion),
    ("simplimax", lambda L: rot.simplimax_criterion(L, 5)),
    ("bifactor", rot.bifactor_criterion),
    ("varimin", rot.varimin_criterion),
]


@pytest.mark.parametrize("name, vgQ", CRITERIA, ids=[c[0] for c in CRITERIA])
def test_gradient_matches_finite_differences(name, vgQ):
    rng = np.random.default_rng(1)
    L = rng.uniform(0.1, 0.9, size=(6, 3)) * rng.choice([-1.0, 1.0], size=(6, 3))
    if name == "target":
        L = L[:, :2]
    value, gradient = vgQ(L)
    h = 1e-6
    numeric = np.zeros_like(L)
    for idx in np.ndindex(L.shape):
        up, down = L.copy(), L.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (vgQ(up)[0] - vgQ(down)[0]) / (2 * h)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


def test_every_criterion_reaches_a_stationary_point():
    A = DATA["box26"]
    for name, (kind, _) in rot._METHODS.items():
        if name == "promax" or name in rot.STRUCTURED[:4]:
            continue
        rotated = rotate(A, name, normalize=False, tol=1e-6, max_iter=3000)
        _, params = rot.method_parameters(name, {})
        vgQ = rot._criterion(name, params, *A.shape)
        assert rotated.converged, name
        assert np.linalg.norm(_projected_gradient(A, rotated, vgQ, kind)) < 1e-6, name


def test_aliases_and_parameters():
    A = DATA["box26"]
    np.testing.assert_array_equal(rotate(A, "geominQ", delta=0.02).loadings, rotate(A, "geomin_q", delta=0.02).loadings)
    np.testing.assert_array_equal(rotate(A, "oblimin", gam=0.5).loadings, rotate(A, "oblimin", gamma=0.5).loadings)
    with pytest.raises(ValueError, match="takes no parameter 'delta'"):
        rotate(A, "varimax", delta=0.1)
    with pytest.raises(ValueError, match="needs a target"):
        rotate(A, "targetQ")
    with pytest.raises(ValueError, match="unknown rotation 'geominX'"):
        rotate(A, "geominX")
    with pytest.raises(ValueError, match="given twice"):
        rotate(A, "oblimin", gam=0.1, gamma=0.2)


def test_tolerance_and_iteration_table():
    A = DATA["box26"]
    loose = rotate(A, "geominQ", eps=1e-3)
    tight = rotate(A, "geominQ", eps=1e-6, maxit=3000)
    for r, tol in ((loose, 1e-3), (tight, 1e-6)):
        table = r.table
        assert list(table.columns) == ["iteration", "criterion", "log10_gradient", "step"]
        assert r.converged and table["log10_gradient"].iloc[-1] < np.log10(tol)
        assert (table["log10_gradient"].iloc[:-1] >= np.log10(tol)).all()
        assert np.all(np.diff(table["criterion"]) <= 1e-15)
    assert len(tight.table) > len(loose.table)
    capped = rotate(A, "geominQ", eps=1e-12, maxit=5)
    assert not capped.converged and len(capped.table) == 5


def test_factor_analysis_rotation_kwargs_and_saved_target(tmp_path):
    X = lvm.datasets.load_holzinger_swineford(tests_only=True)
    H = np.zeros((X.shape[1], 3))
    H[0:3, 0] = H[3:6, 1] = H[6:9, 2] = 1.0
    H = H[:, [2, 0, 1]]  # a target out of the usual order: the rotation keeps its order
    fa = lvm.FactorAnalysis(3, rotation="targetQ", rotation_kwargs={"Target": H, "eps": 1e-6}).fit(X)
    direct = rotate(fa.unrotated_loadings_, "target_q", target=H, tol=1e-6)
    np.testing.assert_allclose(np.asarray(fa.loadings_), direct.loadings, atol=1e-12)
    assert fa.rotation_info_["converged"] and len(fa.rotation_info_["table"]) == fa.rotation_info_["n_iter"] + 1
    loaded = lvm.load(fa.save(tmp_path / "fa.npz"))
    np.testing.assert_array_equal(loaded.rotation_kwargs["Target"], H)
    np.testing.assert_allclose(np.asarray(loaded.fit(X).loadings_), np.asarray(fa.loadings_), atol=1e-12)
    with pytest.raises(ValueError, match="takes no parameter 'kappa'"):
        lvm.FactorAnalysis(3, rotation="varimax", rotation_kwargs={"kappa": 0.1}).fit(X)
    oblique = lvm.FactorAnalysis(3, rotation="cfQ", rotation_kwargs={"kappa": 0.1}).fit(X)
    assert "factor correlations" in str(oblique.summary())


def test_factor_analysis_refuses_a_bad_rotation_parameter_before_estimating(monkeypatch):
    X = np.random.default_rng(0).normal(size=(100, 6))
    calls = []
    original = lvm.FactorAnalysis._estimate
    monkeypatch.setattr(lvm.FactorAnalysis, "_estimate", lambda self, *a, **k: calls.append(1) or original(
        self, *a, **k))
    with pytest.raises(ValueError, match="takes no parameter 'kapa'"):
        lvm.FactorAnalysis(2, rotation="cf_t", rotation_kwargs={"kapa": 0.5}).fit(X)
    with pytest.raises(ValueError, match="needs a target"):
        lvm.FactorAnalysis(2, rotation="targetT").fit(X)
    assert calls == []
    lvm.FactorAnalysis(2, rotation="cfT", rotation_kwargs={"kappa": 0.5}).fit(X)
    assert calls == [1]
