"""lvm.metrics against references computed independently: closed forms, brute force and direct scipy/sklearn calls."""

import itertools

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from numpydoc.validate import validate
from scipy.spatial.transform import Rotation
from scipy.special import comb
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.manifold import trustworthiness as sklearn_trustworthiness
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

import lvm
import lvm.metrics as metrics

FUNCTIONS = ["adjusted_rand_index", "congruence_matrix", "knn_accuracy", "principal_angles", "procrustes",
             "reconstruction_error", "trustworthiness", "tucker_congruence"]


def _orthogonal(rng, k, det):
    """Random orthogonal k x k matrix with the given determinant (+1 or -1)."""
    Q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    if np.sign(np.linalg.det(Q)) != det:
        Q[:, 0] = -Q[:, 0]
    return Q


def _clusters(rng, n_per_class, centres, spread):
    Z = np.vstack([rng.normal(loc=c, scale=spread, size=(n_per_class, len(c))) for c in centres])
    y = np.repeat(np.arange(len(centres)), n_per_class)
    return Z, y


# --- module surface ---------------------------------------------------------------------------------------------


def test_all_lists_the_public_api():
    assert set(FUNCTIONS) <= set(metrics.__all__)
    assert set(metrics.__all__) - set(FUNCTIONS) == {"Procrustes"}
    for name in metrics.__all__:
        assert hasattr(metrics, name)


ENFORCED = {"GL08", "SS01", "SS02", "SS03", "SS04", "SS05", "PR01", "PR02", "PR03", "PR04", "PR05",
            "PR06", "PR07", "PR08", "PR09", "PR10", "RT01", "RT03", "RT04", "RT05", "YD01"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_numpydoc(name):
    result = validate(f"lvm.metrics.{name}")
    errors = [(code, msg) for code, msg in result["errors"] if code in ENFORCED]
    assert not errors, errors
    docstring = getattr(metrics, name).__doc__
    assert "References\n    ----------" in docstring
    assert "math::" in docstring


# --- principal angles -------------------------------------------------------------------------------------------


def test_principal_angles_invariant_to_invertible_mixing():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(12, 3))
    M = rng.normal(size=(3, 3))
    assert np.linalg.cond(M) < 1e3
    angles = metrics.principal_angles(A, A @ M)
    assert angles.shape == (3,)
    assert np.all(angles < 1e-6)


def test_principal_angles_of_two_lines():
    theta = np.radians(30.0)
    a = np.array([[1.0], [0.0]])
    b = np.array([[np.cos(theta)], [np.sin(theta)]])
    assert_allclose(metrics.principal_angles(a, b), [30.0], atol=1e-12)
    # Direction, not orientation: the negated line is the same line.
    assert_allclose(metrics.principal_angles(a, -3 * b), [30.0], atol=1e-12)
    assert_allclose(metrics.principal_angles(a.ravel(), b.ravel()), [30.0], atol=1e-12)


def test_principal_angles_of_planes_sharing_a_direction_ascend():
    theta = np.radians(40.0)
    e1, e2, e3 = np.eye(3)
    A = np.column_stack([e1, e2])
    # The shared direction is the second column of B, so sorting is what puts 0 first.
    B = np.column_stack([np.cos(theta) * e2 + np.sin(theta) * e3, e1])
    assert_allclose(metrics.principal_angles(A, B), [0.0, 40.0], atol=1e-10)


def test_principal_angles_radians():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(8, 2)), rng.normal(size=(8, 3))
    degrees = metrics.principal_angles(A, B)
    radians = metrics.principal_angles(A, B, degrees=False)
    assert_allclose(radians, np.radians(degrees), rtol=1e-14)
    assert np.all(radians <= np.pi / 2 + 1e-12)


def test_principal_angles_match_cosines_of_orthonormal_bases():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(10, 3)), rng.normal(size=(10, 4))
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    cosines = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    expected = np.degrees(np.arccos(np.clip(cosines, -1, 1)))  # descending cosines: ascending angles
    assert_allclose(metrics.principal_angles(A, B), expected, atol=1e-8)


def test_principal_angles_accept_dataframes():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    frames = pd.DataFrame(A, columns=["a", "b"]), pd.DataFrame(B, columns=["c", "d"])
    assert_allclose(metrics.principal_angles(*frames), metrics.principal_angles(A, B), rtol=0, atol=0)


def test_principal_angles_reject_different_row_counts():
    with pytest.raises(ValueError, match="same number of rows.*A with 5 and B with 4"):
        metrics.principal_angles(np.ones((5, 2)), np.ones((4, 2)))


# --- congruence -------------------------------------------------------------------------------------------------


def test_congruence_matrix_by_the_formula():
    A = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    B = np.array([[1.0, 0.0, -1.0], [1.0, 1.0, 2.0], [0.0, 1.0, 0.5]])
    expected = np.empty((2, 3))
    for i in range(2):
        for j in range(3):
            a, b = A[:, i], B[:, j]
            expected[i, j] = sum(a * b) / np.sqrt(sum(a * a) * sum(b * b))
    phi = metrics.congruence_matrix(A, B)
    assert phi.shape == (2, 3)
    assert_allclose(phi, expected, rtol=1e-14)
    # a1 = (1, 0, 1), b1 = (1, 1, 0): 1 / (sqrt(2) sqrt(2)).
    assert phi[0, 0] == pytest.approx(0.5, abs=1e-15)


def test_congruence_is_uncentred_and_scale_free():
    A = np.array([[1.0], [2.0], [3.0]])
    assert metrics.congruence_matrix(A, 7 * A)[0, 0] == pytest.approx(1.0, abs=1e-15)
    # A shift changes an uncentred cosine (a correlation would stay 1).
    assert metrics.congruence_matrix(A, A + 10)[0, 0] < 0.99


def test_congruence_rejects_zero_column():
    with pytest.raises(ValueError, match="all-zero column"):
        metrics.congruence_matrix(np.ones((3, 2)), np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))


def test_tucker_congruence_recovers_permutation_and_signs():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 3))
    perm = np.array([2, 0, 1])
    flips = np.array([1, -1, -1])
    B = A[:, perm] * flips  # B[:, j] = flips[j] * A[:, perm[j]]
    result = metrics.tucker_congruence(A, B)
    expected_match = np.argsort(perm)
    assert list(result.columns) == ["matched", "sign", "congruence"]
    assert_array_equal(result["matched"], expected_match)
    assert_array_equal(result["sign"], flips[expected_match])
    assert_allclose(result["congruence"], 1.0, atol=1e-12)
    assert list(result.index) == ["F1", "F2", "F3"]


def test_tucker_congruence_matching_is_optimal_by_brute_force():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(6, 3)), rng.normal(size=(6, 4))
    phi = metrics.congruence_matrix(A, B)
    best = max(itertools.permutations(range(4), 3), key=lambda cols: sum(abs(phi[i, c]) for i, c in enumerate(cols)))
    result = metrics.tucker_congruence(A, B)
    assert_array_equal(result["matched"], best)
    raw = phi[np.arange(3), list(best)]
    assert_array_equal(result["sign"], np.sign(raw).astype(int))
    assert_allclose(result["congruence"], np.abs(raw), rtol=1e-15)


def test_tucker_congruence_without_matching_pairs_in_order():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    phi = metrics.congruence_matrix(A, B)
    result = metrics.tucker_congruence(A, B, match=False)
    assert_array_equal(result["matched"], [0, 1, 2])
    assert_array_equal(result["sign"], np.sign(np.diag(phi)).astype(int))
    assert_allclose(result["congruence"], np.abs(np.diag(phi)), rtol=1e-15)


def test_tucker_congruence_names_rows_after_dataframe_columns():
    rng = np.random.default_rng(0)
    A = pd.DataFrame(rng.normal(size=(6, 2)), columns=["verbal", "spatial"])
    result = metrics.tucker_congruence(A, A.to_numpy()[:, ::-1])
    assert list(result.index) == ["verbal", "spatial"]
    assert_array_equal(result["matched"], [1, 0])


def test_tucker_congruence_needs_enough_columns_in_b():
    with pytest.raises(ValueError, match=r"more columns \(3\) than B \(2\)"):
        metrics.tucker_congruence(np.eye(4)[:, :3], np.eye(4)[:, :2])


# --- procrustes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("det", [1, -1])
def test_procrustes_recovers_orthogonal_map(det):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 4))
    R_true = _orthogonal(rng, 4, det)
    B = A @ R_true
    fit = metrics.procrustes(A, B)
    assert fit._fields == ("aligned", "rotation", "residual")
    assert_allclose(fit.rotation, R_true, atol=1e-10)
    assert_allclose(fit.aligned, B, atol=1e-10)
    assert fit.residual < 1e-12


def test_procrustes_proper_rotation_recovered_without_reflection():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 4))
    R_true = _orthogonal(rng, 4, 1)
    fit = metrics.procrustes(A, A @ R_true, reflection=False)
    assert_allclose(fit.rotation, R_true, atol=1e-10)
    assert fit.residual < 1e-12


def test_procrustes_without_reflection_when_best_map_is_a_reflection():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 3))
    B = A @ _orthogonal(rng, 3, -1) + 0.05 * rng.normal(size=(30, 3))
    free = metrics.procrustes(A, B)
    proper = metrics.procrustes(A, B, reflection=False)
    assert np.linalg.det(free.rotation) == pytest.approx(-1, abs=1e-12)
    assert np.linalg.det(proper.rotation) == pytest.approx(1, abs=1e-12)
    assert_allclose(proper.rotation.T @ proper.rotation, np.eye(3), atol=1e-12)
    assert proper.residual > free.residual + 0.1
    # Kabsch's rotation from scipy.spatial, an independent solver: rows b_i ~ C a_i, so C = R^T.
    C, _ = Rotation.align_vectors(B, A)
    assert_allclose(proper.rotation, C.as_matrix().T, atol=1e-10)
    expected = np.linalg.norm(A @ C.as_matrix().T - B) / np.linalg.norm(B)
    assert proper.residual == pytest.approx(expected, rel=1e-10)
    # No rotation does better.
    for R in Rotation.random(200, random_state=0).as_matrix():
        assert np.linalg.norm(A @ R - B) / np.linalg.norm(B) >= proper.residual - 1e-12


def test_procrustes_without_reflection_equals_free_solution_when_it_is_proper():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(25, 3))
    B = A @ _orthogonal(rng, 3, 1) + 0.1 * rng.normal(size=(25, 3))
    free = metrics.procrustes(A, B)
    proper = metrics.procrustes(A, B, reflection=False)
    assert_allclose(proper.rotation, free.rotation, atol=1e-12)
    assert proper.residual == pytest.approx(free.residual, rel=1e-12)


def test_procrustes_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"same shape; got A \(5, 2\) and B \(5, 3\)"):
        metrics.procrustes(np.ones((5, 2)), np.ones((5, 3)))


# --- reconstruction error ---------------------------------------------------------------------------------------


def _low_rank_data(rng, n=50, p=5, k=2):
    return rng.normal(size=(n, k)) @ rng.normal(size=(k, p)) + 0.3 * rng.normal(size=(n, p))


def test_reconstruction_error_of_pca_matches_sklearn():
    rng = np.random.default_rng(0)
    X = _low_rank_data(rng)
    pca = lvm.PCA(2).fit(X)
    error = metrics.reconstruction_error(pca, X)
    assert error == pytest.approx(np.mean((pca.reconstruct(X) - X) ** 2), rel=1e-14)
    reference = SklearnPCA(2, svd_solver="full").fit(X)
    expected = np.mean((reference.inverse_transform(reference.transform(X)) - X) ** 2)
    assert error == pytest.approx(expected, rel=1e-10)
    assert error > 0.01


def test_reconstruction_error_of_full_rank_pca_is_zero():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 5))
    assert metrics.reconstruction_error(lvm.PCA(5).fit(X), X) < 1e-20


@pytest.mark.parametrize("model", [lvm.PPCA(2), lvm.FactorAnalysis(2)], ids=["PPCA", "FactorAnalysis"])
def test_reconstruction_error_of_other_models(model):
    rng = np.random.default_rng(0)
    X = _low_rank_data(rng)
    model.fit(X)
    assert metrics.reconstruction_error(model, X) == pytest.approx(np.mean((model.reconstruct(X) - X) ** 2),
                                                                   rel=1e-14)


def test_reconstruction_error_passes_dataframes_to_the_model():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(_low_rank_data(rng), columns=list("abcde"))
    pca = lvm.PCA(2).fit(frame)
    X = frame.to_numpy()
    assert metrics.reconstruction_error(pca, frame) == pytest.approx(np.mean((pca.reconstruct(frame) - X) ** 2),
                                                                     rel=1e-14)
    with pytest.raises(ValueError, match="feature names should match"):
        metrics.reconstruction_error(pca, frame.rename(columns={"a": "z"}))


# --- k-nearest-neighbour accuracy -------------------------------------------------------------------------------


def test_knn_accuracy_of_separated_clusters_is_one():
    rng = np.random.default_rng(0)
    centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]
    Z, y = _clusters(rng, 30, centres, 0.5)
    Z_test, y_test = _clusters(rng, 10, centres, 0.5)
    assert metrics.knn_accuracy(Z, y) == 1.0
    assert metrics.knn_accuracy(Z, y, Z_test=Z_test, y_test=y_test) == 1.0


def test_knn_accuracy_on_test_set_matches_sklearn():
    rng = np.random.default_rng(0)
    centres = [(0.0, 0.0), (1.5, 0.0), (0.0, 1.5)]
    Z, y = _clusters(rng, 40, centres, 1.0)
    Z_test, y_test = _clusters(rng, 40, centres, 1.0)
    for k in (1, 3, 7):
        expected = KNeighborsClassifier(n_neighbors=k).fit(Z, y).score(Z_test, y_test)
        assert 0.3 < expected < 1.0
        assert metrics.knn_accuracy(Z, y, Z_test=Z_test, y_test=y_test, n_neighbors=k) == expected


def test_knn_accuracy_cross_validated_matches_sklearn():
    rng = np.random.default_rng(0)
    # Labels sorted by class, so an unstratified split would leave classes out of training folds.
    Z, y = _clusters(rng, 30, [(0.0, 0.0), (1.5, 0.0), (0.0, 1.5)], 1.0)
    for k, folds in ((5, 5), (3, 4)):
        expected = cross_val_score(KNeighborsClassifier(n_neighbors=k), Z, y, cv=StratifiedKFold(folds)).mean()
        assert 0.3 < expected < 1.0
        assert metrics.knn_accuracy(Z, y, n_neighbors=k, cv=folds) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("given", ["Z_test", "y_test"])
def test_knn_accuracy_needs_both_test_arguments(given):
    Z, y = np.arange(20.0).reshape(10, 2), np.repeat([0, 1], 5)
    kwargs = {"Z_test": Z} if given == "Z_test" else {"y_test": y}
    with pytest.raises(ValueError, match=f"{given} was given without"):
        metrics.knn_accuracy(Z, y, **kwargs)


# --- trustworthiness --------------------------------------------------------------------------------------------


def _trustworthiness_by_the_formula(X, Z, k):
    """Venna & Kaski's T(k) from full rank tables (no ties in continuous random data)."""
    n = len(X)

    def order(M):
        distances = np.linalg.norm(M[:, None, :] - M[None, :, :], axis=-1)
        np.fill_diagonal(distances, np.inf)
        return np.argsort(distances, axis=1)

    data_order, embedded_order = order(X), order(Z)
    rank = np.empty((n, n), dtype=int)
    rank[np.arange(n)[:, None], data_order] = np.arange(1, n + 1)
    penalty = 0
    for i in range(n):
        intruders = set(embedded_order[i, :k]) - set(data_order[i, :k])
        penalty += sum(rank[i, j] - k for j in intruders)
    return 1 - 2 / (n * k * (2 * n - 3 * k - 1)) * penalty


def test_trustworthiness_of_identity_is_one():
    X = np.random.default_rng(0).normal(size=(40, 4))
    assert metrics.trustworthiness(X, X) == 1.0


def test_trustworthiness_matches_sklearn_and_the_formula():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    Z = lvm.PCA(2).fit(X).transform(X)
    for k in (1, 5, 12):
        value = metrics.trustworthiness(X, Z, n_neighbors=k)
        assert 0.5 < value < 1.0
        assert value == sklearn_trustworthiness(X, Z, n_neighbors=k)
        assert value == pytest.approx(_trustworthiness_by_the_formula(X, Z, k), rel=1e-12)


@pytest.mark.parametrize("k", [0, 5, 9])
def test_trustworthiness_rejects_n_neighbors_out_of_range(k):
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"n_neighbors < n_samples / 2 = 5 \(n_samples=10\)"):
        metrics.trustworthiness(X, X[:, :2], n_neighbors=k)


def test_trustworthiness_rejects_different_sample_counts():
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="same number of samples"):
        metrics.trustworthiness(X, X[:9, :2])


# --- adjusted Rand index ----------------------------------------------------------------------------------------


def test_adjusted_rand_index_of_relabelled_partition_is_one():
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    relabel = np.array([7, 3, 5])
    assert metrics.adjusted_rand_index(labels, relabel[labels]) == 1.0


def test_adjusted_rand_index_by_the_formula():
    true = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    pred = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    table = pd.crosstab(true, pred).to_numpy()
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    chance = rows * cols / comb(len(true), 2)
    expected = (pairs - chance) / ((rows + cols) / 2 - chance)
    value = metrics.adjusted_rand_index(true, pred)
    assert value == pytest.approx(expected, rel=1e-12)
    assert 0 < value < 1


# --- inputs are left alone --------------------------------------------------------------------------------------


def test_inputs_are_not_modified():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    B_reflected = A @ _orthogonal(rng, 3, -1)
    y = np.repeat([0, 1, 2], 10)
    labels = rng.integers(0, 3, size=30)
    frame = pd.DataFrame(A, columns=["a", "b", "c"])
    arrays = [A, B, B_reflected, y, labels]
    copies = [a.copy() for a in arrays]
    frame_copy = frame.copy()
    for a in arrays:
        a.setflags(write=False)  # any write in place raises
    metrics.principal_angles(A, B)
    metrics.principal_angles(frame, B)
    metrics.congruence_matrix(A, B)
    metrics.tucker_congruence(frame, B)
    metrics.procrustes(A, B)
    metrics.procrustes(A, B_reflected, reflection=False)
    metrics.reconstruction_error(lvm.PCA(2).fit(frame), frame)
    metrics.reconstruction_error(lvm.PCA(2).fit(A), A)
    metrics.knn_accuracy(A, y, cv=3)
    metrics.knn_accuracy(A, y, Z_test=B, y_test=y)
    metrics.trustworthiness(A, B[:, :2])
    metrics.adjusted_rand_index(y, labels)
    for a, c in zip(arrays, copies, strict=True):
        assert_array_equal(a, c)
    pd.testing.assert_frame_equal(frame, frame_copy)
