"""The autoencoder's guard rails: finite hyper-parameters, divergence, verbose, the bottleneck's width."""

import time
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

import lvm


@pytest.fixture(scope="module")
def digits():
    return lvm.datasets.load_digits(return_X_y=True)[0]


def _small(seed=0):
    return np.random.default_rng(seed).normal(size=(40, 5))


@pytest.mark.parametrize("name, value", [
    ("learning_rate", float("inf")),
    ("learning_rate", np.float32("inf")),
    ("learning_rate", 10 ** 400),
    ("weight_decay", float("inf")),
    ("weight_decay", np.inf),
    ("tol", float("inf")),
])
def test_infinite_hyper_parameters_are_refused(name, value):
    with pytest.raises(ValueError, match=f"{name}=.* is invalid; expected a finite number"):
        lvm.Autoencoder(2, epochs=1, **{name: value}).fit(_small())


@pytest.mark.parametrize("name, value", [("learning_rate", 0.5), ("weight_decay", 1e3), ("tol", 1e300)])
def test_large_finite_hyper_parameters_are_accepted(name, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae = lvm.Autoencoder(2, hidden=(3,), epochs=2, random_state=0, **{name: value}).fit(_small())
    assert ae.n_iter_ >= 1


@pytest.mark.parametrize("verbose, shown", [(True, True), (False, False), (0, False), (2, True)])
def test_verbose_takes_a_bool_or_an_int(verbose, shown, capsys, monkeypatch):
    monkeypatch.setattr("lvm._progress.DELAY_SECONDS", 0.0)  # a bar otherwise waits a second
    lvm.Autoencoder(2, hidden=(3,), epochs=2, verbose=verbose, random_state=0).fit(_small())
    assert ("epoch" in capsys.readouterr().err) is shown


@pytest.mark.parametrize("verbose", [-1, 1.5, "yes"])
def test_bad_verbose_is_named(verbose):
    with pytest.raises(ValueError, match="verbose=.* is invalid; expected a bool or an integer"):
        lvm.Autoencoder(2, epochs=1, verbose=verbose).fit(_small())


def test_bottleneck_wider_than_the_data_is_refused_before_allocating():
    X = _small()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=r"n_components=1000000 is wider than the data \(5 features\)"):
            lvm.Autoencoder(1_000_000).fit(X)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The network alone would take 8 * 1e6 * (64 + 64 + 2) bytes, about 1 GB.
    assert peak < 2_000_000, peak
    assert elapsed < 1.0
    with pytest.raises(ValueError, match="n_components=6 is wider than the data"):
        lvm.Autoencoder(6, epochs=1).fit(X)


def test_bottleneck_as_wide_as_the_data_is_allowed():
    X = _small()
    ae = lvm.Autoencoder(5, hidden=(), activation="linear", epochs=300, learning_rate=1e-2, random_state=0).fit(X)
    assert ae.transform(X).shape == (40, 5)
    # A full-width linear bottleneck can learn the identity: far below PCA with 4 components.
    pca_error = np.mean((lvm.PCA(4).fit(X).reconstruct(X) - X) ** 2)
    assert -ae.score(X) < pca_error


@pytest.mark.parametrize("learning_rate", [1e30, 100.0])
def test_divergence_stops_with_an_error_and_leaves_the_model_unfitted(digits, learning_rate):
    X = digits.copy()
    ae = lvm.Autoencoder(2, epochs=50, learning_rate=learning_rate, random_state=0)
    with warnings.catch_warnings():
        # numpy's overflow warnings would only repeat, less clearly, what the error says.
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged in epoch 1: a mini-batch loss reached .* against .* "
                                             "for the untrained network.*lower learning_rate"):
            ae.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(ae)
    np.testing.assert_array_equal(X, digits)


def test_failed_refit_does_not_keep_the_earlier_weights(digits):
    ae = lvm.Autoencoder(2, hidden=(4,), epochs=2, random_state=0).fit(digits[:, :10])
    with pytest.raises(ValueError, match="diverged"):
        ae.set_params(learning_rate=1e30).fit(digits)
    with pytest.raises(NotFittedError):
        ae.transform(digits)


def test_divergence_of_float32_training_is_caught():
    X = _small().astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged in epoch [12]: a mini-batch loss reached (inf|nan)"):
            lvm.Autoencoder(2, epochs=5, dtype=np.float32, learning_rate=1e30, random_state=0).fit(X)


def test_raw_data_divergence_suggests_standardizing():
    X = _small() * 1e3
    with pytest.raises(ValueError, match="diverged.*standardize='global'"):
        lvm.Autoencoder(2, epochs=5, standardize=None, learning_rate=1e30, random_state=0).fit(X)


def test_training_that_ends_worse_than_it_started_warns(digits):
    with pytest.warns(ConvergenceWarning, match="ended with a loss of .* above the untrained network's"):
        ae = lvm.Autoencoder(2, epochs=20, learning_rate=10.0, random_state=0).fit(digits)
    # The model is kept: the warning says it is poor, and the history shows how.
    assert ae.loss_ == ae.history_["train"].iloc[-1]
    assert np.isfinite(ae.transform(digits)).all()


def test_ordinary_training_does_not_warn(digits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ae = lvm.Autoencoder(2, hidden=(16,), epochs=3, random_state=0).fit(digits)
    assert ae.loss_ < ae.history_["train"].iloc[0]
