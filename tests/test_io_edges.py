"""Damaged, hostile and odd model files: every one is refused with a ModelFileError, fast and in little memory."""

import hashlib
import io
import json
import os
import struct
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest

import lvm
from lvm.exceptions import ModelFileError


def _data(seed, n=120, p=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)) @ rng.normal(size=(2, p)) + 0.5 * rng.normal(size=(n, p))


@pytest.fixture
def saved(tmp_path, seed):
    return lvm.PCA(2).fit(_data(seed)).save(tmp_path / "model.npz")


def _members(path):
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    return header, arrays


def _checksum(header, arrays):
    # The documented checksum, written out here: SHA-256 over the sorted JSON
    # header, then each array's name, dtype, shape and bytes in name order.
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        for part in (key.encode(), str(array.dtype).encode(), str(array.shape).encode(), array.tobytes()):
            digest.update(part)
    return digest.hexdigest()


def _write(path, header, arrays, *, reseal=True, raw_header=None):
    """Write a model file by hand; ``reseal`` recomputes the checksum as a forger would."""
    if reseal:
        body = {k: v for k, v in header.items() if k != "checksum"}
        header = dict(body, checksum=_checksum(body, arrays))
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    with open(path, "wb") as handle:
        np.savez(handle, __header__=np.frombuffer(text, dtype=np.uint8), **arrays)
    return path


def _forge(path, change):
    header, arrays = _members(path)
    header.pop("checksum")
    change(header, arrays)
    return _write(path, header, arrays)


def _key(header, name):
    return header["attributes"][name]["key"]


# --- header fields of the wrong type -------------------------------------------------------------


@pytest.mark.parametrize("field, value, match", [
    ("format_version", "1", "format_version is '1', not a positive integer"),
    ("format_version", True, "format_version is True"),
    ("format_version", 0, "format_version is 0"),
    ("format_version", [1], r"format_version is \[1\]"),
    ("class", 3, "'class' is missing or not a string"),
    ("params", [], "'params' is missing or not a JSON object"),
    ("attributes", "x", "'attributes' is missing or not a JSON object"),
    ("lvm_version", None, "'lvm_version' is missing"),
])
def test_header_fields_of_the_wrong_type_are_refused(saved, field, value, match):
    header, arrays = _members(saved)
    header[field] = value
    _write(saved, header, arrays)
    with pytest.raises(ModelFileError, match=match):
        lvm.load(saved)


def test_header_that_is_a_list_or_not_json_is_refused(saved):
    _, arrays = _members(saved)
    _write(saved, None, arrays, reseal=False, raw_header=b"[1, 2, 3]")
    with pytest.raises(ModelFileError, match="header is a JSON list, not an object"):
        lvm.load(saved)
    _write(saved, None, arrays, reseal=False, raw_header=b"\xff\xfe{")
    with pytest.raises(ModelFileError, match="header is damaged"):
        lvm.load(saved)


@pytest.mark.parametrize("levels", [100, 100_000])
def test_deeply_nested_header_is_refused_quickly(saved, levels):
    header, arrays = _members(saved)
    header["params"]["whiten"] = json.loads("[" * levels + "]" * levels) if levels < 500 else None
    text = json.dumps(header)
    if levels >= 500:  # beyond what json.dumps itself can write
        text = text.replace('"whiten": null', '"whiten": ' + "[" * levels + "]" * levels)
    _write(saved, None, arrays, reseal=False, raw_header=text.encode())
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="nests deeper than|header is damaged"):
        lvm.load(saved)
    assert time.perf_counter() - start < 2.0


# --- files that are not model archives -----------------------------------------------------------


def test_plain_npy_file_is_refused(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.arange(10.0))
    with pytest.raises(ModelFileError, match="not a readable lvm model file"):
        lvm.load(path)


def test_fifo_directory_and_device_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    outcome = {}

    def attempt():
        try:
            lvm.load(fifo)
        except ModelFileError as exc:
            outcome["error"] = str(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # release the blocked open so the test can end
        with open(fifo, "wb"):
            pass
        pytest.fail("load blocked on a FIFO")
    assert "not a regular file (it is a FIFO)" in outcome["error"]
    with pytest.raises(ModelFileError, match=r"not a regular file \(it is a directory\)"):
        lvm.load(tmp_path)
    if os.path.exists("/dev/null"):
        with pytest.raises(ModelFileError, match=r"not a regular file \(it is a character device\)"):
            lvm.load("/dev/null")


def test_single_bit_flips_are_refused_or_harmless(saved):
    original = lvm.load(saved)
    data = saved.read_bytes()
    rng = np.random.default_rng(0)
    # 300 random flips, plus every bit of the zip flag and compression fields
    # (which zipfile reads as "encrypted" or an unknown method).
    positions = [(int(i), int(b)) for i, b in zip(rng.integers(0, len(data), 300), rng.integers(0, 8, 300),
                                                  strict=True)]
    for signature, offsets in ((b"PK\x03\x04", (6, 7, 8, 9)), (b"PK\x01\x02", (8, 9, 10, 11))):
        start = data.find(signature)
        positions += [(start + offset, bit) for offset in offsets for bit in range(8)]
    refused = 0
    for position, bit in positions:
        damaged = bytearray(data)
        damaged[position] ^= 1 << bit
        saved.write_bytes(bytes(damaged))
        try:
            model = lvm.load(saved)
        except ModelFileError:
            refused += 1
            continue
        # A flip the checksum lets through touched no byte of the model (a
        # timestamp, say): the model is the saved one.
        for name in ("components_", "mean_", "explained_variance_"):
            np.testing.assert_array_equal(getattr(model, name), getattr(original, name))
    assert refused > len(positions) // 2


# --- sizes claimed by members --------------------------------------------------------------------


def _npy_bytes(shape, dtype, payload):
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def _replace_member(path, key, content, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[f"{key}.npy"] = content
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value, compress_type=compress if name == f"{key}.npy" else zipfile.ZIP_STORED)


def _refused_fast_and_small(path, match):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=match):
            lvm.load(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 2.0, elapsed
    assert peak < 8_000_000, peak


def test_member_claiming_a_huge_shape_is_refused_before_allocating(saved):
    header, _ = _members(saved)
    _replace_member(saved, _key(header, "components_"), _npy_bytes((10 ** 12,), "<f8", bytes(8192)))
    assert saved.stat().st_size < 16_000
    _refused_fast_and_small(saved, r"declares shape \(1000000000000,\) of float64 \(8000000000000 bytes\) "
                                   "but holds 8192 bytes")


def test_compressed_member_larger_than_the_file_is_refused_before_reading(saved):
    header, _ = _members(saved)
    # 64 MiB of zeros deflate to about 64 KB: a small decompression bomb.
    zeros = _npy_bytes((8 * 2 ** 20,), "<f8", bytes(64 * 2 ** 20))
    _replace_member(saved, _key(header, "components_"), zeros, compress=zipfile.ZIP_DEFLATED)
    assert saved.stat().st_size < 1_000_000
    _refused_fast_and_small(saved, r"members claim \d+ bytes once unpacked, more than the file's \d+")


def test_member_declaring_gigabytes_in_the_zip_directory_is_refused_before_reading(saved):
    header, _ = _members(saved)
    key = _key(header, "components_")
    _replace_member(saved, key, _npy_bytes((4,), "<f8", bytes(32)), compress=zipfile.ZIP_DEFLATED)
    data = bytearray(saved.read_bytes())
    # Patch the uncompressed size in the central directory entry of that member to 3.75 GiB.
    name = f"{key}.npy".encode()
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = struct.pack("<I", 0xF0000000)
    saved.write_bytes(bytes(data))
    with zipfile.ZipFile(saved) as archive:
        assert archive.getinfo(f"{key}.npy").file_size == 0xF0000000
    _refused_fast_and_small(saved, r"members claim 40265\d+ bytes once unpacked")


def test_object_and_structured_members_are_refused(saved):
    header, _ = _members(saved)
    _replace_member(saved, _key(header, "mean_"), _npy_bytes((1,), "|O", bytes(8)))
    with pytest.raises(ModelFileError, match="holds object, not plain numbers or text"):
        lvm.load(saved)


def test_undescribed_and_missing_members_are_refused(saved):
    header, arrays = _members(saved)
    _write(saved, header, dict(arrays, extra=np.zeros(3)))
    with pytest.raises(ModelFileError, match=r"undescribed: \['extra'\]"):
        lvm.load(saved)
    arrays.pop(_key(header, "mean_"))
    _write(saved, header, arrays)
    with pytest.raises(ModelFileError, match=r"missing: \['a\d+'\]"):
        lvm.load(saved)


# --- crafted files with a recomputed checksum ----------------------------------------------------


def test_forged_file_with_a_valid_checksum_still_loads_when_well_formed(saved):
    header, arrays = _members(saved)
    header.pop("checksum")
    arrays[_key(header, "mean_")] = arrays[_key(header, "mean_")] + 1.0
    _write(saved, header, arrays)
    assert lvm.load(saved).mean_.shape == (6,)  # the numbers are not protected, only the structure


@pytest.mark.parametrize("change, match", [
    (lambda h, a: h["attributes"].update(transform={"kind": "json", "value": 1}),
     "'transform' is not the name of a fitted attribute"),
    (lambda h, a: h["attributes"].update(__class___={"kind": "json", "value": 1}),
     "'__class___' is not the name of a fitted attribute"),
    (lambda h, a: h["attributes"].update(unknown_={"kind": "json", "value": 1}),
     "PCA has no fitted attribute 'unknown_'$"),
    (lambda h, a: (h.update(lvm_version="0.0.1"), h["attributes"].update(unknown_={"kind": "json", "value": 1})),
     r"no fitted attribute 'unknown_' \(the file was written by lvm 0.0.1; this is lvm "),
    (lambda h, a: (a.pop(_key(h, "components_")), h["attributes"].update(components_={"kind": "json", "value": "x"})),
     "'components_' is a string; PCA makes it a 2-d float array"),
    (lambda h, a: h["attributes"].update(n_features_in_={"kind": "json", "value": 6.0}),
     "'n_features_in_' is a number; PCA makes it an integer"),
    (lambda h, a: h["attributes"].pop("n_features_in_"), "no integer n_features_in_"),
    (lambda h, a: h.update({"class": "LatentModel"}), "'LatentModel' is not an lvm model class"),
    (lambda h, a: h.update({"class": "BaseEstimator"}), "'BaseEstimator' is not an lvm model class"),
    (lambda h, a: h["params"].update(n_components={"kind": "json", "value": -1}),
     "parameters are invalid: .*n_components=-1"),
    (lambda h, a: h["params"].update(bogus={"kind": "json", "value": 1}), r"no parameter\(s\) \['bogus'\]"),
    (lambda h, a: h["params"].update(solver={"kind": "json", "value": [1, 2]}), "JSON value .* is a list"),
    (lambda h, a: h["params"].update(solver={"kind": "dtype", "value": "object"}), "names the type 'object'"),
    (lambda h, a: h["params"].update(solver={"kind": "pickle"}), "unknown value kind 'pickle'"),
    (lambda h, a: h["params"].update(solver=5), "not an object with a 'kind'"),
    (lambda h, a: h["attributes"]["mean_"].update(key="nowhere"), r"missing: \['nowhere'\]"),
])
def test_forged_structure_is_refused(saved, change, match):
    _forge(saved, change)
    with pytest.raises(ModelFileError, match=match):
        lvm.load(saved)


@pytest.mark.parametrize("name, shape, match", [
    ("components_", (3, 6), r"components_.shape\[0\] is 3, but PCA makes it equal to .*n_components \(2\)"),
    ("components_", (2, 5), r"components_.shape\[1\] is 5, but PCA makes it equal to n_features_in_ \(6\)"),
    ("mean_", (7,), r"mean_.shape\[0\] is 7, but PCA makes it equal to n_features_in_ \(6\)"),
    ("explained_variance_", (4,), r"explained_variance_.shape\[0\] is 4"),
    ("mean_", (6, 1), "'mean_' is a 2-d float array; PCA makes it a 1-d float array"),
])
def test_forged_shapes_are_refused(saved, name, shape, match):
    def change(header, arrays):
        arrays[_key(header, name)] = np.zeros(shape)

    _forge(saved, change)
    with pytest.raises(ModelFileError, match=match):
        lvm.load(saved)


def test_forged_feature_count_is_refused_before_any_row_is_built(saved):
    def change(header, arrays):
        header["attributes"]["n_features_in_"] = {"kind": "json", "value": 10 ** 12}

    _forge(saved, change)
    _refused_fast_and_small(saved, r"mean_.shape\[0\] is 6, but PCA makes it equal to n_features_in_ \(10+\)")


def test_attribute_that_would_hide_a_method_is_refused(saved, monkeypatch):
    # No lvm class has a public member ending in "_" today; one that did must not be hidden by a file.
    monkeypatch.setattr(lvm.PCA, "explained_variance_", property(lambda self: None), raising=False)
    with pytest.raises(ModelFileError, match="'explained_variance_' would hide PCA.explained_variance_"):
        lvm.load(saved)


@pytest.mark.parametrize("model", [
    lvm.Autoencoder(2, hidden=(4,), epochs=3, random_state=0),
    lvm.FactorAnalysis(2, rotation="varimax"),
    lvm.GaussianMixture(2, random_state=0),
])
def test_forged_shapes_of_other_models_are_refused(tmp_path, model):
    frame = pd.DataFrame(_data(1), columns=list("abcdef"))
    path = model.fit(frame).save(tmp_path / "m.npz")
    header, _ = _members(path)
    # Drop the last entry of each array in turn: every array whose last axis
    # follows the data's width or the number of components must be refused;
    # only a history's length is free (it counts iterations).
    shrunk, refused = set(), set()
    for name, spec in header["attributes"].items():
        header, arrays = _members(path)
        if spec.get("kind") != "array" or arrays[spec["key"]].ndim == 0 or arrays[spec["key"]].shape[-1] < 2:
            continue
        header.pop("checksum")
        arrays[spec["key"]] = arrays[spec["key"]][..., :-1]
        shrunk.add(name)
        try:
            lvm.load(_write(tmp_path / f"{name}.npz", header, arrays))
        except ModelFileError:
            refused.add(name)
    assert shrunk - {"history_"}
    assert refused == shrunk - {"history_"}
    lvm.load(path)


def test_old_file_in_the_docs_still_loads():
    path = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "ppca_digits.npz")
    model = lvm.load(path)
    X, _ = lvm.datasets.load_digits(return_X_y=True)
    assert model.transform(X[:5]).shape == (5, model.n_components_)


@pytest.mark.parametrize("layer, shape, match", [
    (1, (4, 3), r"coefs_\[1\].shape\[1\] is 3, but Autoencoder makes it equal to .*n_components \(2\)"),
    (0, (7, 4), r"coefs_\[0\].shape\[0\] is 7, but Autoencoder makes it equal to n_features_in_ \(6\)"),
    (0, (6, 5), "attributes do not work together: transform fails"),
])
def test_forged_autoencoder_layers_are_refused(tmp_path, layer, shape, match):
    path = lvm.Autoencoder(2, hidden=(4,), epochs=3, random_state=0).fit(_data(2)).save(tmp_path / "ae.npz")

    def change(header, arrays):
        arrays[header["attributes"]["coefs_"]["items"][layer]["key"]] = np.zeros(shape)

    _forge(path, change)
    with pytest.raises(ModelFileError, match=match):
        lvm.load(path)
