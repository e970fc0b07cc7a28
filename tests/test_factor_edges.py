"""Factor analysis at its edges: saddle points of the ML discrepancy, EM's stopping
rule and monotonicity at the uniqueness floor, rows of zeros under Kaiser
normalisation, and inputs that used to fail deep inside numpy or scipy."""

import numpy as np
import pytest
from statsmodels.multivariate.factor_rotation import rotate_factors

import lvm

# The criteria with no dependence on the number of rows: a zero row adds
# nothing to them, so it cannot change the rotation of the other rows.
ROW_FREE = ["quartimax", "oblimin", "quartimin", "geomin"]
# statsmodels' GPA stops at a gradient norm of 1e-6 (lvm's _GPA_TOL) or 1e-8
# (the reference calls below); the loadings agree to a few times that.
ROTATION_ATOL = 1e-5


@pytest.fixture
def loadings_with_zero_row():
    rng = np.random.default_rng(1)
    A = rng.uniform(-0.8, 0.9, (7, 3))
    return A, np.insert(A, 3, 0.0, axis=0)


def _kaiser(A):
    norms = np.sqrt(np.sum(A**2, axis=1))
    return A / norms[:, None], norms


@pytest.mark.parametrize("method", ROW_FREE)
def test_kaiser_normalised_rotation_of_a_zero_row_leaves_the_other_rows_alone(loadings_with_zero_row, method):
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, method, normalize=True)
    alone = lvm.factor.rotate(A, method, normalize=True)
    assert np.all(np.isfinite(rotated.loadings))
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0), alone.loadings, atol=ROTATION_ATOL)
    np.testing.assert_allclose(rotated.factor_correlation, alone.factor_correlation, atol=ROTATION_ATOL)


def _orthomax_reference(A, p_total, method):
    """Varimax and equamax over ``p_total`` rows, of which only the rows of ``A`` are non-zero.

    Varimax subtracts ``(1 / p) (sum_i l_ij^2)^2``: over the rows of ``A`` alone
    that is orthomax with ``gamma = p / p_total``. Equamax is Crawford-Ferguson
    with ``kappa = k / (2 p_total)``, whose terms are sums over rows.
    """
    normalised, norms = _kaiser(A)
    p, k = A.shape
    if method == "varimax":
        L, _ = rotate_factors(normalised, "orthomax", p / p_total, algorithm="gpa", tol=1e-8, max_tries=5000)
    else:
        L, _ = rotate_factors(normalised, "CF", k / (2.0 * p_total), "orthogonal", algorithm="gpa", tol=1e-8,
                              max_tries=5000)
    return L * norms[:, None]


@pytest.mark.parametrize("method", ["varimax", "equamax"])
def test_kaiser_normalised_orthomax_with_a_zero_row_counts_it_among_the_rows(loadings_with_zero_row, method):
    # As GPArotation (2023) does: the zero row is not normalised but still one of the p rows.
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, method, normalize=True)
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0),
                               _orthomax_reference(A, len(with_zero), "varimax" if method == "varimax" else "cf"),
                               atol=ROTATION_ATOL)


@pytest.mark.parametrize("normalize", [False, True])
def test_promax_with_a_zero_row_matches_r_definition_on_the_other_rows(loadings_with_zero_row, normalize):
    """R's ``stats::promax``: varimax (Kaiser), target ``V |V|^3``, least squares, column rescaling."""
    A, with_zero = loadings_with_zero_row
    rotated = lvm.factor.rotate(with_zero, "promax", normalize=normalize)
    np.testing.assert_array_equal(rotated.loadings[3], 0.0)
    if normalize:
        scaled, outer = _kaiser(A)
    else:
        scaled, outer = A, np.ones(len(A))
    V = _orthomax_reference(scaled, len(with_zero), "varimax")
    U = np.linalg.lstsq(V, V * np.abs(V) ** 3, rcond=None)[0]
    U = U * np.sqrt(np.diag(np.linalg.inv(U.T @ U)))
    np.testing.assert_allclose(np.delete(rotated.loadings, 3, axis=0), (V @ U) * outer[:, None], atol=ROTATION_ATOL)
