"""A small numpy autoencoder: the deep-learning view of a latent space."""

import contextlib
import math
import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _nn
from ._base import LatentNamesMixin, _Estimator
from ._linalg import single_blas_thread
from ._progress import progress
from ._summary import Summary
from ._validation import (
    BOOLEAN,
    NAMES,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    _Kind,
    check_data,
    check_latent,
    check_variance,
)

_HIDDEN = _Kind(
    "a tuple of positive integers (the encoder's hidden widths, possibly empty)",
    lambda v: isinstance(v, (tuple, list))
    and all(isinstance(w, numbers.Integral) and not isinstance(w, bool) and w > 0 for w in v),
)
_FLOAT_TYPE = _Kind(
    "numpy.float32 or numpy.float64",
    lambda v: isinstance(v, (type, str, np.dtype)) and _as_dtype(v) in (np.float32, np.float64),
)
_ACTIVATIONS = ("tanh", "relu", "linear", "sigmoid")
# Training stops with an error once a mini-batch loss exceeds the first
# mini-batch's loss by this factor: Adam's steps are bounded by the learning
# rate, so a loss a million times that of the untrained network means the
# steps overshoot, not that a hard stretch of data was met.
_DIVERGENCE_FACTOR = 1e6
# Mini-batch products smaller than this many multiply-adds take a fraction of a
# millisecond on one core; waking a second BLAS thread costs as much, and far
# more when another process holds the other core (measured: a 64-128-2 network
# on digits ran 30 times slower with two threads on a busy machine). Such
# networks train with single-threaded BLAS; a 784-64 layer with batches of 64
# (3.2 million) already gains from a second thread.
_THREADED_PRODUCT = 2_000_000


def _finite(interval):
    """``interval`` restricted to finite values: an infinite step or penalty has no meaning."""
    return _Kind(str(interval).replace("a number", "a finite number"),
                 lambda v: _is_finite(v) and interval.accepts(v))


def _is_finite(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond float's range
        return False


def _as_dtype(value):
    try:
        return np.dtype(value)
    except TypeError:
        return None


class Autoencoder(LatentNamesMixin, TransformerMixin, _Estimator):
    """Autoencoder: an MLP encoder and decoder around a bottleneck, in numpy alone.

    The encoder maps a (standardised) row ``x`` through the hidden layers to a
    code ``z`` of ``n_components`` units; the decoder mirrors it back to
    ``x_hat``:

    .. math::

        h_l = f(h_{l-1} W_l + b_l), \\qquad
        z = h_{H} W_{H+1} + b_{H+1}, \\qquad
        \\hat x = f_{out}(\\ldots)

    with ``f`` the hidden activation, a linear bottleneck (Hinton &
    Salakhutdinov 2006) and ``f_out`` the output activation. The weights
    minimise the mean squared reconstruction error plus an L2 penalty,

    .. math::

        L = \\frac{1}{n p} \\sum_i \\lVert \\hat x_i - x_i \\rVert^2
            + \\frac{\\lambda}{2} \\sum_l \\lVert W_l \\rVert_F^2,

    by Adam (Kingma & Ba 2015) on shuffled mini-batches, with gradients by
    backpropagation. With linear activations the optimum spans the same
    subspace as PCA's first ``n_components`` axes, though not the axes
    themselves (Baldi & Hornik 1989): the autoencoder is PCA's nonlinear
    relative, without a likelihood.

    Parameters
    ----------
    n_components : int, default=2
        Width of the bottleneck: the dimension of the latent space, at most
        the number of features.
    hidden : tuple of int, default=(64,)
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse. ``()`` gives a single-layer encoder and decoder.
    activation : {"tanh", "relu", "linear", "sigmoid"}, default="tanh"
        Activation of the hidden layers. The bottleneck is linear.
    output_activation : {None, "linear", "tanh", "relu", "sigmoid"}, default=None
        Activation of the output layer; None is linear, right for
        standardised data.
    standardize : {"global", "feature", None}, default="global"
        How the input is scaled before training (and unscaled on output).
        ``"global"`` centres each feature and divides every feature by one
        common standard deviation, so the loss weighs features as PCA's
        reconstruction error does; ``"feature"`` divides each feature by its
        own standard deviation (constant features by 1), which weighs every
        feature equally; None uses the data as given.
    learning_rate : float, default=1e-3
        Adam's step size ``eta``; positive and finite.
    batch_size : int, default=200
        Rows per mini-batch (capped at the number of training rows).
    epochs : int, default=200
        Passes over the training rows.
    weight_decay : float, default=0.0
        ``lambda``: L2 penalty on the weights, not the biases; finite.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their loss has
        not improved by more than ``tol`` for ``n_iter_no_change`` epochs, and
        keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before early stopping ends training.
    tol : float, default=0.0
        Smallest decrease of the validation loss that counts as improvement;
        finite.
    dtype : {numpy.float32, numpy.float64}, default=numpy.float64
        Floating type of the weights and of all computation; float32 is about
        twice as fast on large data.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split and the shuffling;
        the same value gives bit-identical weights.
    verbose : bool or int, default=0
        Show a progress bar over epochs with the current losses when true or
        positive.
    latent_names : list of str or None, default=None
        Names of the latent variables, used by ``get_feature_names_out``,
        pandas output and ``summary()``. None: ``Z1, Z2, ...``.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices ``W_l``, the l-th of shape ``(n_in, n_out)``; the
        first ``len(hidden) + 1`` form the encoder.
    intercepts_ : list of ndarray
        Bias vectors ``b_l``.
    mean_ : ndarray of shape (n_features,)
        Subtracted before encoding and added after decoding.
    scale_ : ndarray of shape (n_features,)
        Divisor applied after centring (all equal for ``standardize="global"``).
    history_ : pandas.DataFrame
        One row per epoch: ``train`` (mean loss over the epoch's mini-batches,
        penalty included) and ``validation`` (mean squared error on the held-out
        rows; NaN without early stopping), in standardised units.
    loss_ : float
        Training loss of the last epoch.
    best_validation_loss_ : float or None
        Lowest validation loss (None without early stopping).
    best_epoch_ : int
        Epoch whose weights were kept (the last one without early stopping).
    n_iter_ : int
        Epochs run.
    converged_ : bool
        Whether early stopping ended training before ``epochs``.
    n_components_ : int
        Bottleneck width.
    n_parameters_ : int
        Number of weights and biases.
    n_samples_ : int
        Rows seen in fitting, validation rows included.
    n_features_in_ : int
        Number of features seen in fitting.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    PCA : the linear autoencoder's optimum, in closed form.

    Notes
    -----
    Training is watched against the loss ``L_0`` of the untrained network
    on the training rows. Too large a learning rate makes Adam overshoot: as
    soon as a mini-batch loss is not finite or exceeds ``10**6 L_0``, or the
    weights overflow, ``fit`` stops with a ValueError that names the epoch
    and leaves the model unfitted (a diverged network holds no usable
    weights). A training that stays finite but ends with a loss above
    ``L_0`` keeps its weights and warns with
    :class:`~sklearn.exceptions.ConvergenceWarning`.

    References
    ----------
    Baldi, P. and Hornik, K. (1989). Neural networks and principal component
    analysis: learning from examples without local minima. Neural Networks 2, 53-58.

    Hinton, G. E. and Salakhutdinov, R. R. (2006). Reducing the dimensionality
    of data with neural networks. Science 313, 504-507.

    Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.

    Examples
    --------
    >>> import lvm
    >>> X, y = lvm.datasets.load_digits(return_X_y=True)
    >>> ae = lvm.Autoencoder(2, hidden=(32,), epochs=5, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 2)
    """

    _latent_prefix = "Z"

    _parameter_constraints = {
        "n_components": [Interval(numbers.Integral, 1, None)],
        "latent_names": [NAMES, NONE],
        "hidden": [_HIDDEN],
        "activation": [Options(*_ACTIVATIONS)],
        "output_activation": [Options(None, *_ACTIVATIONS)],
        "standardize": [Options("global", "feature", None)],
        "learning_rate": [_finite(Interval(numbers.Real, 0, None, closed="neither"))],
        "batch_size": [Interval(numbers.Integral, 1, None)],
        "epochs": [Interval(numbers.Integral, 1, None)],
        "weight_decay": [_finite(Interval(numbers.Real, 0, None))],
        "early_stopping": [BOOLEAN],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None)],
        "tol": [_finite(Interval(numbers.Real, 0, None))],
        "dtype": [_FLOAT_TYPE],
        "random_state": [RANDOM_STATE],
        "verbose": [BOOLEAN, Interval(numbers.Integral, 0, None)],
    }

    def __init__(self, n_components=2, *, hidden=(64,), activation="tanh", output_activation=None,
                 standardize="global", learning_rate=1e-3, batch_size=200, epochs=200, weight_decay=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, tol=0.0,
                 dtype=np.float64, random_state=None, verbose=0, latent_names=None):
        self.n_components = n_components
        self.latent_names = latent_names
        self.hidden = hidden
        self.activation = activation
        self.output_activation = output_activation
        self.standardize = standardize
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = [np.dtype(self.dtype).name]
        return tags

    @property
    def _activations(self):
        return _nn.layer_activations(self.hidden, self.activation, self.output_activation)

    @property
    def _n_encoder_layers(self):
        return len(self.hidden) + 1

    def _standardize(self, X):
        """``(mean, scale, (X - mean) / scale)``, the last in X's dtype and never X itself when scaled."""
        p = X.shape[1]
        if self.standardize is None:
            return np.zeros(p), np.ones(p), X
        mean = X.mean(axis=0, dtype=np.float64)
        constant = np.ptp(X, axis=0) == 0
        centred = X - mean.astype(X.dtype)
        # A constant column can leave round-off in its mean, hence in its
        # variance; its range is exactly zero, so it is centred to zero.
        centred[:, constant] = 0
        # Sums of squares in double precision, a block of rows at a time so
        # that float32 data never needs a float64 copy.
        with np.errstate(over="ignore"):  # an overflow is reported by check_variance below
            variance = sum(np.square(block, dtype=np.float64).sum(axis=0)
                           for block in np.array_split(centred, max(1, X.shape[0] // 4096))) / X.shape[0]
        if self.standardize == "global":
            check_variance(0.0 if constant.all() else variance.sum(), X)
            scale = np.full(p, np.sqrt(variance.mean()))
        else:
            scale = np.sqrt(variance)
            scale[constant] = 1.0
        centred /= scale.astype(X.dtype)
        return mean, scale, centred

    @staticmethod
    def _check_range(X, dtype):
        """``X`` (validated in float64) in ``dtype``, refusing values the cast would turn into infinity."""
        if dtype == X.dtype:
            return X
        limit = float(np.finfo(dtype).max)
        largest = float(np.max(np.abs(X))) if X.size else 0.0
        if largest > limit:
            raise ValueError(f"X has values as large as {largest:.3g}, beyond {np.dtype(dtype).name}'s range "
                             f"({limit:.3g}); use dtype=numpy.float64 or rescale the data.")
        return X.astype(dtype)

    def _split(self, n, rng):
        """Row indices for training and validation (all rows train without early stopping)."""
        if not self.early_stopping:
            return np.arange(n), None
        n_valid = int(round(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"early stopping with validation_fraction={self.validation_fraction} leaves "
                f"{n_valid} validation and {n - n_valid} training rows out of {n}; "
                "both need at least one. Use more rows, another fraction, or early_stopping=False."
            )
        order = rng.permutation(n)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` by Adam on mini-batches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, raw: it is standardised inside the model.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        Autoencoder
            The fitted model.

        Raises
        ------
        ValueError
            For invalid parameters, ``n_components`` above the number of
            features (checked before the network is built), or a training
            that diverges (see Notes of the class).

        Warns
        -----
        ConvergenceWarning
            When the last epoch's loss is above the untrained network's.
        """
        self._check_params()
        dtype = np.dtype(self.dtype)
        # Data already in the model's type are validated as they are (no copy);
        # others are validated in double precision and their range checked.
        given = getattr(X, "dtype", None)
        X = self._check_range(check_data(self, X, reset=True, dtype=dtype if given == dtype else np.float64), dtype)
        n, p = X.shape
        if self.n_components > p:
            # Checked before anything is allocated: the layers grow with the
            # bottleneck, and a wide one would take memory for no purpose.
            raise ValueError(
                f"Autoencoder: n_components={self.n_components} is wider than the data "
                f"({p} features); a bottleneck must have at most n_features units. "
                f"Use n_components <= {p}."
            )
        mean, scale, Xs = self._standardize(X)
        rng = check_random_state(self.random_state)
        train, valid = self._split(n, rng)
        X_train = Xs[train] if valid is not None else Xs
        X_valid = Xs[valid] if valid is not None else None

        sizes = _nn.layer_sizes(p, self.hidden, self.n_components)
        activations = self._activations
        flat = _nn.init_parameters(sizes, activations, rng, dtype)
        widest = max(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        largest = min(self.batch_size, X_train.shape[0]) * widest
        # Overflow is not warned about here: _train checks every loss and the
        # weights after every epoch, and stops with one clear error instead.
        with single_blas_thread() if largest < _THREADED_PRODUCT else contextlib.nullcontext(), \
                np.errstate(over="ignore", invalid="ignore"):
            best, history, best_loss, best_epoch = self._train(flat, sizes, activations, X_train, X_valid, rng)
        if best is not None:
            flat[...] = best
        coefs, intercepts = _nn.unpack(flat, sizes)
        self.coefs_ = [W.copy() for W in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]
        self.mean_ = mean
        self.scale_ = scale
        self.history_ = history
        self.loss_ = float(history["train"].iloc[-1])
        self.best_validation_loss_ = best_loss
        self.best_epoch_ = best_epoch
        self.n_iter_ = len(history)
        self.converged_ = bool(self.early_stopping and len(history) < self.epochs)
        self.n_components_ = self.n_components
        self.n_parameters_ = int(flat.size)
        self.n_samples_ = n
        return self

    def _train(self, flat, sizes, activations, X_train, X_valid, rng):
        """The epoch loop; returns (best weights or None, history, best validation loss, best epoch)."""
        dtype = flat.dtype
        n, p = X_train.shape
        batch = min(self.batch_size, n)
        grad = np.zeros_like(flat)
        coefs, intercepts = _nn.unpack(flat, sizes)
        grad_coefs, grad_intercepts = _nn.unpack(grad, sizes)
        # Buffers for one mini-batch, allocated once: an epoch then allocates nothing per batch.
        outputs = [np.empty((batch, w), dtype=dtype) for w in sizes[1:]]
        deltas = [np.empty((batch, w), dtype=dtype) for w in sizes[1:]]
        work = [np.empty((batch, w), dtype=dtype) for w in sizes[1:]]
        rows_buffer = np.empty((batch, p), dtype=dtype)
        adam = _nn.Adam(flat.size, dtype, self.learning_rate)
        # The gradient of a full batch is the backpropagated sum times this unit.
        unit = 2.0 / (batch * p)
        train_loss, valid_loss = [], []
        best, best_loss, best_epoch = None, None, 0
        initial = self._initial_loss(coefs, intercepts, activations, X_train, batch)
        limit = _DIVERGENCE_FACTOR * initial
        bar = progress(range(1, self.epochs + 1), verbose=self.verbose, desc="Autoencoder", unit="epoch")
        for epoch in bar:
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch):
                # Gathered batch by batch into one buffer, which stays in cache
                # for the products that read it; cheaper than shuffling X.
                index = order[start:start + batch]
                rows = np.take(X_train, index, axis=0, out=rows_buffer[:index.size])
                loss = _nn.loss_and_gradient(
                    coefs, intercepts, activations, rows, rows, self.weight_decay,
                    grad_coefs, grad_intercepts, outputs, deltas, work, gradient_unit=unit,
                )
                if not loss <= limit:  # also true for NaN
                    self._diverged(epoch, f"a mini-batch loss reached {loss:.3g}, against {initial:.3g} "
                                          "for the untrained network")
                adam.step(flat, grad, unit)
                total += loss * rows.shape[0]
            if not np.isfinite(flat).all():
                self._diverged(epoch, "the weights overflowed to infinity or NaN")
            train_loss.append(total / n)
            if X_valid is None:
                valid_loss.append(np.nan)
                best_epoch = epoch
                bar.set_postfix(loss=f"{train_loss[-1]:.4g}")
                continue
            error = _nn.squared_error(coefs, intercepts, activations, X_valid, batch) / X_valid.size
            valid_loss.append(error)
            bar.set_postfix(loss=f"{train_loss[-1]:.4g}", validation=f"{error:.4g}")
            if best_loss is None or error < best_loss - self.tol:
                best, best_loss, best_epoch = flat.copy(), error, epoch
            elif epoch - best_epoch >= self.n_iter_no_change:
                break
        bar.close()
        if train_loss[-1] > initial:
            warnings.warn(
                f"Autoencoder training ended with a loss of {train_loss[-1]:.4g}, above the untrained "
                f"network's {initial:.4g}: the steps overshoot. Lower learning_rate (now "
                f"{self.learning_rate:g}).",
                ConvergenceWarning, stacklevel=3,
            )
        history = pd.DataFrame(
            {"train": train_loss, "validation": valid_loss},
            index=pd.RangeIndex(1, len(train_loss) + 1, name="epoch"),
        )
        return best, history, best_loss, best_epoch

    def _initial_loss(self, coefs, intercepts, activations, X, batch):
        """The training loss of the untrained network: the yardstick for divergence."""
        penalty = sum(float(np.vdot(W, W)) for W in coefs) if self.weight_decay else 0.0
        error = _nn.squared_error(coefs, intercepts, activations, X, batch) / X.size
        return error + 0.5 * self.weight_decay * penalty

    def _diverged(self, epoch, what):
        # A model that failed to train must not look fitted, nor keep the
        # weights of an earlier fit next to this fit's feature count.
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        raise ValueError(
            f"Autoencoder training diverged in epoch {epoch}: {what}. The steps overshoot; lower "
            f"learning_rate (now {self.learning_rate:g}; the default is 1e-3)"
            + (", or standardize the data (standardize='global')" if self.standardize is None else "")
            + "."
        )

    def _check_codes(self, Z):
        return check_latent(self, Z).astype(np.dtype(self.dtype), copy=False)

    def _run(self, layers, H):
        k = slice(*layers)
        return _nn.forward(self.coefs_[k], self.intercepts_[k], self._activations[k], H)[-1]

    def transform(self, X):
        """Encode ``X``: the bottleneck's activations (the latent codes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data in the units of the training data.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            ``z(x)``, the encoder's output for each row.
        """
        check_is_fitted(self)
        dtype = np.dtype(self.dtype)
        X = check_data(self, X, reset=False, dtype=dtype)
        Xs = ((X - self.mean_) / self.scale_).astype(dtype, copy=False)
        return self._run((0, self._n_encoder_layers), Xs)

    def inverse_transform(self, X):
        """Decode latent codes back to the data's units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``x_hat``: the decoder's output, unstandardised.
        """
        check_is_fitted(self)
        Z = self._check_codes(X)
        out = self._run((self._n_encoder_layers, None), Z)
        return (out * self.scale_ + self.mean_).astype(np.dtype(self.dtype), copy=False)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error (higher is better).

        .. math:: -\\frac{1}{n p} \\sum_i \\lVert \\hat x_i - x_i \\rVert^2

        in the units of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        float
            Minus the mean squared error of :meth:`reconstruct`.
        """
        check_is_fitted(self)
        reconstruction = self.reconstruct(X)
        X = check_data(self, X, reset=False)
        return -float(np.mean((reconstruction - X) ** 2))

    @property
    def _n_features_out(self):
        return self.n_components_

    def summary(self):
        """Architecture, training and the layers.

        Returns
        -------
        Summary
            Table ``"layers"`` (widths, activation and parameter count per
            layer) and ``"history"`` (the last epochs' losses).
        """
        check_is_fitted(self)
        names = ["encoder"] * self._n_encoder_layers + ["decoder"] * (len(self.coefs_) - self._n_encoder_layers)
        layers = pd.DataFrame(
            {
                "part": names,
                "inputs": [W.shape[0] for W in self.coefs_],
                "outputs": [W.shape[1] for W in self.coefs_],
                "activation": self._activations,
                "parameters": [W.size + b.size for W, b in zip(self.coefs_, self.intercepts_, strict=True)],
            },
            index=pd.RangeIndex(1, len(self.coefs_) + 1, name="layer"),
        )
        widths = [self.coefs_[0].shape[0]] + [W.shape[1] for W in self.coefs_]
        info = {
            "samples": self.n_samples_,
            "features": self.n_features_in_,
            "architecture": " -> ".join(map(str, widths)),
            "bottleneck": self.n_components_,
            "parameters": self.n_parameters_,
            "standardize": str(self.standardize),
            "dtype": np.dtype(self.dtype).name,
            "epochs run": self.n_iter_,
            "best epoch": self.best_epoch_,
            "training loss": self.loss_,
        }
        if self.best_validation_loss_ is not None:
            info["validation loss"] = self.best_validation_loss_
        notes = ["Losses are mean squared errors in standardised units."]
        return Summary("Autoencoder", info, {"layers": layers, "history": self.history_.tail(5)}, notes)
