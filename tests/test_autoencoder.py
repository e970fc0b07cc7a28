"""The numpy autoencoder: exact gradients, PCA as its linear limit, reproducibility, early stopping."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import lvm
from lvm import _nn

# Written independently of lvm._nn: the loss whose gradient is checked.
_F = {
    "linear": lambda z: z,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def _naive_loss(flat, sizes, activations, X, weight_decay):
    # In extended precision: deep sigmoid layers have gradients near 1e-6, and
    # a float64 difference quotient's round-off (1e-16 / step) would swamp them.
    flat = np.asarray(flat, dtype=np.longdouble)
    coefs, intercepts = _nn.unpack(flat, sizes)
    h = np.asarray(X, dtype=np.longdouble)
    pre_activations = []
    for W, b, act in zip(coefs, intercepts, activations, strict=True):
        z = h @ W + b
        pre_activations.append(z)
        h = _F[act](z)
    penalty = sum(np.sum(W * W) for W in coefs)
    return np.mean((h - X) ** 2) + 0.5 * weight_decay * penalty, pre_activations


@pytest.fixture(scope="module")
def digits():
    return lvm.datasets.load_digits(return_X_y=True)


@pytest.mark.parametrize("output", [None, "tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "linear", "sigmoid"])
def test_gradient_matches_central_differences(activation, output):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 4))
    sizes = _nn.layer_sizes(4, (5, 3), 2)
    activations = _nn.layer_activations((5, 3), activation, output)
    flat = _nn.init_parameters(sizes, activations, np.random.RandomState(0), np.float64)
    flat += 0.1 * rng.normal(size=flat.shape)  # non-zero biases, so every term is exercised
    weight_decay = 0.05
    loss, grad = _nn.flat_loss_and_gradient(flat, sizes, activations, X, X, weight_decay)
    naive, pre = _naive_loss(flat, sizes, activations, X, weight_decay)
    np.testing.assert_allclose(loss, float(naive), rtol=1e-13)
    if "relu" in (activation, output):
        # A pre-activation within the step of ReLU's kink would make the
        # difference quotient straddle it; the data are chosen so none is.
        assert min(np.abs(z).min() for z in pre) > 1e-4

    step = 1e-6
    numeric = np.empty_like(flat)
    assert np.finfo(np.longdouble).eps < 1e-18, "the difference quotients need extended precision"
    for j in range(flat.size):
        up, down = flat.astype(np.longdouble), flat.astype(np.longdouble)
        up[j] += step
        down[j] -= step
        numeric[j] = float((_naive_loss(up, sizes, activations, X, weight_decay)[0]
                            - _naive_loss(down, sizes, activations, X, weight_decay)[0]) / (2 * step))
    # Every layer's weights and biases separately, so that a wrong layer cannot hide behind a large one.
    for analytic_part, numeric_part in zip(_nn.unpack(grad, sizes), _nn.unpack(numeric, sizes), strict=True):
        for layer, (a, n) in enumerate(zip(analytic_part, numeric_part, strict=True)):
            if not np.any(n) and not np.any(a):
                continue  # a block cut off entirely by ReLU has a zero gradient both ways
            error = np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n))
            assert error < 1e-6, (layer, error)


def test_buffered_gradient_equals_allocating_one():
    # Training reuses buffers sized for a full batch; the last, smaller batch
    # must see exactly the gradient of a fresh computation.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 6))
    sizes = _nn.layer_sizes(6, (4,), 2)
    activations = _nn.layer_activations((4,), "tanh", None)
    flat = _nn.init_parameters(sizes, activations, np.random.RandomState(1), np.float64)
    loss, grad = _nn.flat_loss_and_gradient(flat, sizes, activations, X, X, 0.01)
    buffers = [[np.full((9, w), np.nan) for w in sizes[1:]] for _ in range(3)]
    buffered = np.zeros_like(flat)
    coefs, intercepts = _nn.unpack(flat, sizes)
    grad_coefs, grad_intercepts = _nn.unpack(buffered, sizes)
    loss_b = _nn.loss_and_gradient(coefs, intercepts, activations, X, X, 0.01, grad_coefs, grad_intercepts, *buffers)
    assert loss_b == loss
    np.testing.assert_array_equal(buffered, grad)


def test_adam_first_steps_follow_the_paper():
    # Kingma & Ba, Algorithm 1, written out for two steps, with the epsilon of
    # the efficient form (Section 2) expressed in the bias-corrected variables.
    params = np.array([1.0, -2.0])
    adam = _nn.Adam(2, np.float64, learning_rate=0.1)
    g1, g2 = np.array([0.5, -1.0]), np.array([0.2, 0.3])
    expected = params.copy()
    m = v = np.zeros(2)
    for t, g in enumerate((g1, g2), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
        expected = expected - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8 / np.sqrt(1 - 0.999 ** t))
        adam.step(params, g)
    np.testing.assert_allclose(params, expected, rtol=1e-14)


def test_gradient_unit_and_adam_unit_are_the_plain_update():
    # Training keeps gradients in units of 2/(m p) and tells Adam so: the same
    # parameters must come out as with the gradient itself.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 5))
    sizes = _nn.layer_sizes(5, (4,), 2)
    activations = _nn.layer_activations((4,), "tanh", None)
    start = _nn.init_parameters(sizes, activations, np.random.RandomState(2), np.float64)
    unit = 2.0 / X.size
    plain, scaled = start.copy(), start.copy()
    adam_plain, adam_scaled = _nn.Adam(start.size, np.float64, 1e-2), _nn.Adam(start.size, np.float64, 1e-2)
    for rows in (X, X[:4], X, X[:3]):  # a short batch rescales only itself
        _, grad = _nn.flat_loss_and_gradient(plain, sizes, activations, rows, rows, 0.1)
        adam_plain.step(plain, grad)
        grad_units = np.zeros_like(scaled)
        coefs, intercepts = _nn.unpack(scaled, sizes)
        loss = _nn.loss_and_gradient(coefs, intercepts, activations, rows, rows, 0.1, *_nn.unpack(grad_units, sizes),
                                     gradient_unit=unit)
        np.testing.assert_allclose(unit * grad_units, _nn.flat_loss_and_gradient(scaled, sizes, activations, rows,
                                                                                 rows, 0.1)[1], rtol=1e-12)
        assert np.isfinite(loss)
        adam_scaled.step(scaled, grad_units, unit)
    np.testing.assert_allclose(scaled, plain, rtol=1e-12, atol=1e-15)
    assert not np.allclose(plain, start)


def _pca_error(pca, X):
    return np.mean((pca.reconstruct(X) - X) ** 2)


@pytest.mark.parametrize("hidden", [(), (16,)])
def test_linear_autoencoder_spans_the_pca_subspace(digits, hidden):
    """Baldi & Hornik (1989): the linear autoencoder's optimum is PCA's subspace."""
    X, _ = digits
    k = 5
    pca = lvm.PCA(k).fit(X)
    ae = lvm.Autoencoder(k, hidden=hidden, activation="linear", learning_rate=1e-2, batch_size=len(X),
                         epochs=3000, random_state=0).fit(X)
    error = -ae.score(X)
    assert error <= 1.01 * _pca_error(pca, X)
    # The decoder is linear: its column space is that of the product of its layers.
    decoder = np.linalg.multi_dot([np.eye(k), *ae.coefs_[len(hidden) + 1:]])
    angles = np.degrees(scipy.linalg.subspace_angles(decoder.T, pca.components_.T))
    assert angles.max() < 2.0, angles


def test_nonlinear_bottleneck_of_two_beats_pca_on_held_out_digits(digits):
    X, _ = digits
    X_train, X_test = train_test_split(X, random_state=0)
    pca_error = _pca_error(lvm.PCA(2).fit(X_train), X_test)
    ae_error = -lvm.Autoencoder(2, hidden=(64,), random_state=0).fit(X_train).score(X_test)
    # Observed: autoencoder 10.10, PCA 13.83 (mean squared error per pixel, pixel values 0-16).
    assert ae_error < 0.8 * pca_error, (ae_error, pca_error)


def test_same_random_state_gives_bit_identical_weights(digits):
    X, _ = digits
    X = X[:400]
    params = dict(hidden=(16,), epochs=8, early_stopping=True, random_state=7)
    a = lvm.Autoencoder(3, **params).fit(X)
    b = lvm.Autoencoder(3, **params).fit(X)
    c = lvm.Autoencoder(3, **{**params, "random_state": 8}).fit(X)
    for Wa, Wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    pd.testing.assert_frame_equal(a.history_, b.history_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_both_float_types_train(digits, dtype):
    X, _ = digits
    ae = lvm.Autoencoder(4, hidden=(32,), epochs=40, dtype=dtype, random_state=0).fit(X)
    assert all(W.dtype == dtype for W in ae.coefs_ + ae.intercepts_)
    assert ae.transform(X).dtype == dtype
    assert ae.inverse_transform(ae.transform(X)).dtype == dtype
    history = ae.history_["train"].to_numpy()
    assert history[-1] < 0.6 * history[0]
    reference = lvm.Autoencoder(4, hidden=(32,), epochs=40, dtype=np.float64, random_state=0).fit(X)
    # Same initial weights and batches; float32 rounding makes the paths drift apart only slightly.
    np.testing.assert_allclose(ae.score(X), reference.score(X), rtol=0.02)


def test_early_stopping_restores_the_best_weights(digits):
    X, _ = digits
    X = X[:300]
    params = dict(hidden=(128,), learning_rate=1e-2, batch_size=32, early_stopping=True, random_state=0)
    patience = 5
    ae = lvm.Autoencoder(10, epochs=200, n_iter_no_change=patience, **params).fit(X)
    validation = ae.history_["validation"].to_numpy()
    assert ae.converged_ and ae.n_iter_ < 200
    # It stopped exactly when `patience` epochs had passed without a new best.
    best = int(np.argmin(validation)) + 1
    assert ae.best_epoch_ == best
    assert ae.n_iter_ == best + patience
    assert ae.best_validation_loss_ == validation[best - 1]
    assert np.all(validation[best:] >= validation[best - 1])
    # The kept weights are those after the best epoch: a run that simply ends
    # there (same seed, same split, same batches) has the same weights, bit for bit.
    stopped = lvm.Autoencoder(10, epochs=best, n_iter_no_change=10_000, **params).fit(X)
    for W_best, W_stopped in zip(ae.coefs_ + ae.intercepts_, stopped.coefs_ + stopped.intercepts_, strict=True):
        np.testing.assert_array_equal(W_best, W_stopped)
    assert not ae.history_["train"].isna().any()


def test_tol_sets_what_counts_as_improvement(digits):
    X, _ = digits
    strict = lvm.Autoencoder(2, hidden=(8,), epochs=100, early_stopping=True, n_iter_no_change=3, tol=1.0,
                             random_state=0).fit(X[:300])
    # No epoch can improve a mean squared error (standardised units, about 1) by 1.
    assert strict.best_epoch_ == 1 and strict.n_iter_ == 4


def test_raw_units_are_standardised_inside(digits):
    X, _ = digits
    params = dict(hidden=(16,), epochs=5, random_state=0)
    plain = lvm.Autoencoder(3, **params).fit(X)
    shifted = lvm.Autoencoder(3, **params).fit(1000.0 * X + 1e6)
    # Same standardised data, same training: codes agree and the error scales by 1000^2.
    np.testing.assert_allclose(shifted.transform(1000.0 * X + 1e6), plain.transform(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(shifted.score(1000.0 * X + 1e6), 1e6 * plain.score(X), rtol=1e-6)


def test_standardize_options(digits):
    X, _ = digits
    glob = lvm.Autoencoder(2, epochs=1, random_state=0).fit(X)
    np.testing.assert_allclose(glob.scale_, np.sqrt(X.var(axis=0).mean()))
    feature = lvm.Autoencoder(2, epochs=1, standardize="feature", random_state=0).fit(X)
    expected = X.std(axis=0)
    expected[expected == 0] = 1.0  # digits has blank border pixels
    np.testing.assert_allclose(feature.scale_, expected)
    np.testing.assert_allclose(feature.mean_, X.mean(axis=0))
    none = lvm.Autoencoder(2, epochs=1, standardize=None, random_state=0).fit(X)
    assert np.all(none.mean_ == 0) and np.all(none.scale_ == 1)


def test_transform_and_inverse_transform_are_the_two_halves(digits):
    X, _ = digits
    ae = lvm.Autoencoder(3, hidden=(16, 8), epochs=3, random_state=0).fit(X)
    assert len(ae.coefs_) == 6
    Z = ae.transform(X)
    assert Z.shape == (len(X), 3)
    np.testing.assert_array_equal(ae.reconstruct(X), ae.inverse_transform(Z))
    assert ae.score(X) == pytest.approx(-np.mean((ae.reconstruct(X) - X) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="Z has 2 column.*3 latent dimensions"):
        ae.inverse_transform(Z[:, :2])
    assert list(ae.get_feature_names_out()) == ["Z1", "Z2", "Z3"]


def test_works_in_a_pipeline_and_keeps_input(digits):
    X, _ = digits
    before = X.copy()
    pipe = make_pipeline(StandardScaler(), lvm.Autoencoder(2, epochs=3, random_state=0))
    assert pipe.fit_transform(X).shape == (len(X), 2)
    np.testing.assert_array_equal(X, before)
    X32 = X.astype(np.float32)
    before32 = X32.copy()
    lvm.Autoencoder(2, epochs=2, dtype=np.float32, standardize=None, random_state=0).fit(X32)
    np.testing.assert_array_equal(X32, before32)


def test_summary_and_progress_bar(digits, capsys, monkeypatch):
    X, _ = digits
    # A bar shows only once its call has run for a while; three epochs are quick.
    monkeypatch.setattr("lvm._progress.DELAY_SECONDS", 0.0)
    ae = lvm.Autoencoder(2, hidden=(8,), epochs=3, early_stopping=True, verbose=1, random_state=0).fit(X)
    assert "epoch" in capsys.readouterr().err
    summary = ae.summary()
    text = str(summary)
    assert "64 -> 8 -> 2 -> 8 -> 64" in text and "validation loss" in text
    assert list(summary["layers"]["activation"]) == ["tanh", "linear", "tanh", "linear"]
    assert summary["layers"]["parameters"].sum() == ae.n_parameters_
    assert "<table" in summary._repr_html_() and "|" in summary.to_markdown()


@pytest.mark.parametrize("params, match", [
    (dict(hidden=(0,)), "hidden=.*tuple of positive integers"),
    (dict(hidden=64), "hidden=64 is invalid"),
    (dict(dtype=np.int32), "numpy.float32 or numpy.float64"),
    (dict(activation="softmax"), "activation='softmax' is invalid"),
    (dict(learning_rate=0.0), "learning_rate=0.0 is invalid"),
    (dict(standardize="minmax"), "standardize='minmax' is invalid"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        lvm.Autoencoder(2, **params).fit(np.random.default_rng(0).normal(size=(20, 4)))


def test_early_stopping_needs_rows_on_both_sides():
    X = np.random.default_rng(0).normal(size=(3, 4))
    with pytest.raises(ValueError, match="validation and .* training rows out of 3"):
        lvm.Autoencoder(2, early_stopping=True, validation_fraction=0.1).fit(X)


def test_feature_scaling_sees_constant_columns_through_round_off(tmp_path):
    X = np.random.default_rng(0).normal(size=(1000, 3))
    X[:, 0] = 0.1  # its float64 mean is not exactly 0.1
    ae = lvm.Autoencoder(2, epochs=2, standardize="feature", random_state=0).fit(X)
    assert ae.scale_[0] == 1.0
    with pytest.raises(ValueError, match="every column of X is constant"):
        lvm.Autoencoder(1, epochs=2).fit(np.full((50, 3), 0.1))


def test_dtype_given_as_numpy_dtype_survives_save_and_load(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 4))
    ae = lvm.Autoencoder(2, epochs=2, dtype=np.dtype("float32"), random_state=0).fit(X)
    loaded = lvm.load(ae.save(tmp_path / "ae"))
    assert loaded.dtype == np.dtype("float32")
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))


def test_score_of_a_dataframe_does_not_warn():
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 4)), columns=list("abcd"))
    ae = lvm.Autoencoder(2, epochs=2, random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(ae.score(frame))


def test_float32_model_names_values_beyond_its_range():
    X = np.random.default_rng(0).normal(size=(50, 4)) * 1e39
    with pytest.raises(ValueError, match="beyond float32's range"):
        lvm.Autoencoder(2, dtype=np.float32, epochs=1).fit(X)
