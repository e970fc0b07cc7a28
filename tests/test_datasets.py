"""Bundled data sets load with the shapes and values their sources give."""

import numpy as np
import pytest

import lvm


def test_holzinger_swineford():
    frame = lvm.datasets.load_holzinger_swineford()
    assert frame.shape == (301, 15)
    tests = lvm.datasets.load_holzinger_swineford(tests_only=True)
    assert list(tests.columns) == [f"x{i}" for i in range(1, 10)]
    # lavaan's HolzingerSwineford1939: mean of x1 is 4.936
    assert tests["x1"].mean() == pytest.approx(4.93577, abs=1e-5)


def test_bfi_has_its_missing_answers():
    items = lvm.datasets.load_bfi(items_only=True)
    assert items.shape == (2800, 25)
    assert int(items.isna().sum().sum()) == 508
    assert int(lvm.datasets.load_bfi().isna().sum().sum()) == 731


def test_old_faithful():
    frame = lvm.datasets.load_old_faithful()
    assert frame.shape == (272, 2)
    assert list(frame.columns) == ["eruptions", "waiting"]


@pytest.mark.parametrize("name, p, n_obs, first", [
    ("ability_cov", 6, 112, "general"),
    ("harman74", 24, 145, "VisualPerception"),
    ("harman23", 8, 305, "height"),
])
def test_matrices_are_symmetric_with_their_n(name, p, n_obs, first):
    matrix, n = lvm.datasets.load_matrix(name)
    assert matrix.shape == (p, p) and n == n_obs
    assert matrix.index[0] == first and list(matrix.index) == list(matrix.columns)
    np.testing.assert_array_equal(matrix.to_numpy(), matrix.to_numpy().T)


def test_unknown_matrix_is_named():
    with pytest.raises(ValueError, match="unknown matrix 'harman99'"):
        lvm.datasets.load_matrix("harman99")
