"""Standard errors of the ML factor solution against lavaan's ``efa()`` on Holzinger-Swineford.

The values come from tests/reference/lavaan_se.R (kept in lavaan_se.json);
``test_reference_script_reproduces_golden_file`` reruns it when ``Rscript`` is
installed. Both are the inverse expected information at the estimate (the
derivative of the estimator taken at the model-implied matrix). See the
lavaan_se section of tests/reference/README.md for the conventions and the
measured agreement.
"""

import itertools
import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import lvm
from lvm.factor import FactorAnalysis, _uncertainty

REFERENCE = Path(__file__).parent / "reference"
GOLDEN = json.loads((REFERENCE / "lavaan_se.json").read_text())
HS = lvm.datasets.load_holzinger_swineford(tests_only=True)
ROTATIONS = {"varimax": ("varimax", None), "oblimin": ("oblimin", {"gamma": 0.0}),
             "geomin": ("geomin", {"delta": 0.001})}
OFF = ~np.eye(3, dtype=bool)


def matrix(entry):
    return np.array(entry["data"], dtype=float)


def values(entry):
    return np.array(entry["values"], dtype=float)


def align(ours, theirs):
    """The column permutation and signs that bring ``ours`` closest to ``theirs``."""
    best = None
    for perm in itertools.permutations(range(ours.shape[1])):
        candidate = ours[:, perm]
        signs = np.where(np.sum(candidate * theirs, axis=0) < 0, -1.0, 1.0)
        error = np.abs(candidate * signs - theirs).max()
        if best is None or error < best[0]:
            best = (error, list(perm), signs)
    return best[1], best[2]


@lru_cache(maxsize=None)
def fitted(name):
    """lvm's fit to the data and its standard errors, as a user computes them."""
    rotation, kwargs = ROTATIONS[name]
    fa = FactorAnalysis(3, rotation=rotation, rotation_kwargs=kwargs, tol=1e-12).fit(HS)
    return fa, fa.standard_errors()


@pytest.mark.parametrize("name", ROTATIONS)
def test_estimates_match_lavaan(name):
    fa, _ = fitted(name)
    lav = GOLDEN["fits"][name]
    lav_L = matrix(lav["std"]["lambda"])
    perm, signs = align(fa.loadings_array(), lav_L)
    L = fa.loadings_array()[:, perm] * signs
    phi = np.asarray(fa.factor_correlation_)[np.ix_(perm, perm)] * np.outer(signs, signs)
    np.testing.assert_allclose(L, lav_L, atol=2e-6)
    np.testing.assert_allclose(fa.uniquenesses_, values(lav["std"]["theta"]), atol=1e-7)
    np.testing.assert_allclose(phi, matrix(lav["std"]["psi"]), atol=2e-6)


def test_lavaan_settings_are_those_recorded():
    for fit in GOLDEN["fits"].values():
        options = fit["options"]
        assert options["estimator"] == "ML" and options["likelihood"] == "normal"
        assert options["information"] == ["expected", "expected"]
        assert options["h1.information"] == ["structured", "structured"]
        assert options["se"] == "standard" and options["rotation.args"]["std.ov"] is True
        assert fit["ntotal"] == 301 and fit["converged"] is True
        assert fit["std_se_equals_standardizedSolution"] is True
    assert GOLDEN["fits"]["geomin"]["options"]["rotation.args"]["geomin.epsilon"] == 0.001


def test_uniqueness_standard_errors_match_lavaan_unrotated():
    # Invariant to the rotation; lavaan's rotation = "none" fit needs no
    # rotation constraints, and agrees to 3e-6.
    lav = values(GOLDEN["fits"]["none"]["std_se"]["theta"])
    for name in ROTATIONS:
        se = fitted(name)[1]
        np.testing.assert_allclose(np.asarray(se.uniquenesses), lav, rtol=1e-5)


def _compare(name, what):
    fa, se = fitted(name)
    lav = GOLDEN["fits"][name]
    perm, _ = align(fa.loadings_array(), matrix(lav["std"]["lambda"]))
    if what == "loadings":
        ours, theirs = np.asarray(se.loadings)[:, perm], matrix(lav["std_se"]["lambda"])
    elif what == "uniquenesses":
        ours, theirs = np.asarray(se.uniquenesses), values(lav["std_se"]["theta"])
    else:
        ours = np.asarray(se.factor_correlation)[np.ix_(perm, perm)][OFF]
        theirs = matrix(lav["std_se"]["psi"])[OFF]
    np.testing.assert_allclose(ours, theirs, rtol=1e-3)


@pytest.mark.parametrize("what", ["loadings", "uniquenesses"])
def test_varimax_standard_errors_match_lavaan(what):
    _compare("varimax", what)


@pytest.mark.parametrize("what", ["uniquenesses", "factor_correlation"])
def test_oblimin_standard_errors_match_lavaan(what):
    _compare("oblimin", what)


def _relative(name):
    fa, se = fitted(name)
    lav = GOLDEN["fits"][name]
    perm, _ = align(fa.loadings_array(), matrix(lav["std"]["lambda"]))
    return np.abs(np.asarray(se.loadings)[:, perm] / matrix(lav["std_se"]["lambda"]) - 1)


@pytest.mark.xfail(strict=True, reason="2.7e-3 relative at most (x2 on the third factor); lavaan's own values "
                   "still move with its rotation tolerance (x1 on the first factor: 0.06453, 0.06704, 0.06737 at "
                   "gpa.tol 1e-5, 1e-6, 1e-7, towards lvm's 0.06740), and its GPA stalls below 1e-7")
def test_oblimin_loading_standard_errors_match_lavaan():
    _compare("oblimin", "loadings")


def test_oblimin_loading_standard_errors_are_lavaans_to_its_convergence():
    # Measured: median 3.4e-4, largest 2.7e-3 (see the reason of the test above).
    relative = _relative("oblimin")
    assert np.median(relative) < 5e-4 and relative.max() < 3e-3


def test_geomin_standard_errors_do_not_depend_on_the_step():
    """The refitted rotations are converged: the differences measure the estimator, not the iteration.

    With the rotation of each refit stopped at 60 iterations the standard
    errors changed up to 14-fold between steps 1e-3 and 5e-4.
    """
    fa, se = fitted("geomin")
    other = _uncertainty.standard_errors(fa, step=2e-3)
    np.testing.assert_allclose(np.asarray(other.loadings), np.asarray(se.loadings), rtol=1e-3)


@pytest.mark.xfail(strict=True, reason="lavaan's geomin (epsilon 0.001, gpa.tol 1e-7, the tightest its GPA "
                   "reaches) moves by up to 4.3% from its default tolerance; lvm's agree with it to a median of 1e-3 "
                   "and 7.5% at most (x9's smallest loading, 0.0098), see tests/reference/README.md, lavaan_se")
def test_geomin_loading_standard_errors_match_lavaan():
    _compare("geomin", "loadings")


def test_geomin_loading_standard_errors_are_lavaans_to_its_convergence():
    relative = _relative("geomin")
    assert np.median(relative) < 2e-3 and relative.max() < 0.08


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R with lavaan")
def test_reference_script_reproduces_golden_file(tmp_path):
    script = REFERENCE / "lavaan_se.R"
    subprocess.run(["Rscript", str(script), str(tmp_path / "out.json")], check=True, capture_output=True,
                   cwd=REFERENCE.parents[1], timeout=300)
    fresh = json.loads((tmp_path / "out.json").read_text())
    for name, fit in GOLDEN["fits"].items():
        for block in ("lambda", "psi"):
            np.testing.assert_allclose(matrix(fresh["fits"][name]["std_se"][block]),
                                       matrix(fit["std_se"][block]), rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(matrix(fresh["fits"][name]["std"][block]),
                                       matrix(fit["std"][block]), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(values(fresh["fits"][name]["std_se"]["theta"]),
                                   values(fit["std_se"]["theta"]), rtol=1e-10)
