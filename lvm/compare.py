"""Fit several models on one data set and measure them side by side, as a tidy table."""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state

from . import metrics
from ._progress import check_verbose, progress

_COLUMNS = ["k", "compression", "fit_seconds", "mse_train", "mse_test", "loglik_test", "bic",
            "knn_accuracy", "trustworthiness", "n_iter"]


def _named(models):
    if isinstance(models, dict):
        return dict(models)
    if hasattr(models, "fit"):
        models = [models]
    named = {}
    for model in models:
        name = type(model).__name__
        named[name if name not in named else f"{name} {len(named) + 1}"] = model
    return named


def _dimension_parameter(model):
    """The constructor parameter that sets the latent dimension, the width of ``transform``.

    ``n_components`` for most models; an lvm model names its own in
    ``_latent_count`` (``n_factors`` for the mixtures of factor analyzers and
    of PPCA, whose ``n_components`` counts clusters).
    """
    name = getattr(model, "_latent_count", "n_components")
    if name in model.get_params(deep=False):
        return name
    raise TypeError(f"{type(model).__name__} has no {name} parameter to set the latent dimension")


def _trust_rows(n, limit, rng):
    """Rows for trustworthiness: all, or one subsample shared by every model so that they are comparable."""
    return np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))


def compare(models, X, y=None, X_test=None, y_test=None, *, n_neighbors=5, trust_samples=2000, random_state=0,
            verbose=True):
    """Fit each model on ``X`` and measure what its latent space keeps.

    Every model is fitted in place (so it can be used afterwards) and gives
    one row:

    - ``k``: latent dimension (columns of ``transform``), and
      ``compression`` = ``p / k``;
    - ``fit_seconds``: wall time of ``fit``;
    - ``mse_train``, ``mse_test``: reconstruction error
      :math:`\\frac{1}{n p}\\sum_i \\lVert \\hat x_i - x_i \\rVert^2` through
      ``reconstruct`` (lossy decompression);
    - ``loglik_test``: held-out mean log-likelihood
      :math:`\\frac{1}{n}\\sum_i \\log p(x_i)` for models that have one;
    - ``bic``: :math:`-2 \\log L + m \\log n` on the training data (Schwarz 1978);
    - ``knn_accuracy``: accuracy of a ``n_neighbors``-nearest-neighbour
      classifier of ``y`` in the latent space, trained on ``X`` and scored on
      ``X_test`` (5-fold cross-validation on ``X`` without a test set);
    - ``trustworthiness``: of the latent neighbourhoods (Venna & Kaski 2001),
      on the test rows when given, at most ``trust_samples`` of them;
    - ``n_iter``: iterations (EM steps, epochs) the fit took.

    Entries a model cannot have (a likelihood for an autoencoder) are NaN.
    A model whose ``fit`` rejects the data (with a ``ValueError``) keeps its
    row, all NaN, and a warning gives its reason; the others are measured.

    Parameters
    ----------
    models : dict of str to estimator, or list of estimators
        lvm models (or any estimator with ``fit``, ``transform`` and
        ``reconstruct``); a list is named by class.
    X : array-like of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,), optional
        Labels of ``X``, for the kNN accuracy.
    X_test : array-like of shape (n_test, n_features), optional
        Held-out data for test error, log-likelihood and trustworthiness.
    y_test : array-like of shape (n_test,), optional
        Labels of ``X_test``.
    n_neighbors : int, default=5
        Neighbours for the kNN accuracy and the trustworthiness.
    trust_samples : int, default=2000
        Most rows used for trustworthiness, whose cost grows as ``n^2``.
    random_state : int, RandomState instance or None, default=0
        Chooses the rows when ``trust_samples`` is exceeded.
    verbose : bool or int, default=True
        Show a progress bar, one step per model, when the call lasts over a
        second (``False`` or 0: none). As the models' ``verbose``; the models
        keep their own.

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``), the columns listed above.

    Warns
    -----
    UserWarning
        For a model left out, with the message its ``fit`` raised.

    References
    ----------
    Venna, J. and Kaski, S. (2001). Neighborhood preservation in nonlinear
    projection methods: an experimental study. ICANN, 485-491.

    Examples
    --------
    >>> import lvm
    >>> X, y = lvm.datasets.load_digits(return_X_y=True)
    >>> table = lvm.compare({"PCA": lvm.PCA(2), "PPCA": lvm.PPCA(2)}, X, y=y)
    >>> list(table.index)
    ['PCA', 'PPCA']
    """
    models = _named(models)
    if not models:
        raise ValueError("compare needs at least one model")
    if y_test is not None and X_test is None:
        raise ValueError("y_test was given without X_test")
    if y_test is not None and y is None:
        raise ValueError("y_test needs y, the labels of the training rows, to train the kNN classifier")
    rng = check_random_state(random_state)
    values = np.asarray(X, dtype=float)
    test_values = None if X_test is None else np.asarray(X_test, dtype=float)
    trust_rows = _trust_rows(len(values) if X_test is None else len(test_values), trust_samples, rng)
    verbose = check_verbose(verbose)
    rows, failures = {}, {}
    with progress(total=len(models), desc="compare", unit="model", verbose=verbose, heartbeat=True) as bar:
        for name, model in models.items():
            bar.set_postfix_str(name)
            rows[name], failure = _measure(model, X, y, X_test, y_test, values=values, test_values=test_values,
                                           trust_rows=trust_rows, n_neighbors=n_neighbors)
            if failure is not None:
                failures[name] = failure
            bar.update()
    if len(failures) == len(models) == 1:
        raise ValueError(next(iter(failures.values())))
    if len(failures) == len(models):
        raise ValueError("compare: no model could be fitted on these data: "
                         + "; ".join(f"{name}: {message}" for name, message in failures.items()))
    for name, message in failures.items():
        warnings.warn(f"compare: {name} could not be fitted on these data and has a row of NaN. {message}",
                      stacklevel=2)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=_COLUMNS)
    table.index.name = "model"
    return table


def _measure(model, X, y, X_test, y_test, *, values, test_values, trust_rows, n_neighbors):
    """Fit ``model`` and measure it: one row of :func:`compare`, or NaN and the message of a ``ValueError`` from fit."""
    row = dict.fromkeys(_COLUMNS, np.nan)
    start = time.perf_counter()
    try:
        model.fit(X)
    except ValueError as error:
        return row, str(error)
    seconds = time.perf_counter() - start
    Z = np.asarray(model.transform(X))
    Z_test = None if X_test is None else np.asarray(model.transform(X_test))
    row.update(k=Z.shape[1], compression=values.shape[1] / Z.shape[1], fit_seconds=seconds,
               mse_train=metrics.reconstruction_error(model, X))
    if X_test is not None:
        row["mse_test"] = metrics.reconstruction_error(model, X_test)
        if hasattr(model, "score_samples"):
            row["loglik_test"] = float(model.score(X_test))
    if hasattr(model, "bic"):
        row["bic"] = float(model.bic(X))
    if y is not None:
        if y_test is not None:
            row["knn_accuracy"] = metrics.knn_accuracy(Z, y, Z_test=Z_test, y_test=y_test, n_neighbors=n_neighbors)
        else:
            row["knn_accuracy"] = metrics.knn_accuracy(Z, y, n_neighbors=n_neighbors)
    data, codes = (values, Z) if X_test is None else (test_values, Z_test)
    data, codes = data[trust_rows], codes[trust_rows]
    if n_neighbors < len(data) / 2:
        row["trustworthiness"] = metrics.trustworthiness(data, codes, n_neighbors=n_neighbors)
    row["n_iter"] = getattr(model, "n_iter_", np.nan)
    return row, None


def compression_table(models, X, ks, X_test=None, *, verbose=True):
    """Reconstruction error against latent dimension, for every model.

    Each model is cloned with its latent dimension (``n_components``; the
    number of factors ``n_factors`` of a mixture of factor analyzers or of
    PPCA) set to each ``k`` and fitted on ``X``: the compression curve of
    lossy compression through a ``k``-dimensional latent space.

    Parameters
    ----------
    models : dict of str to estimator, or list of estimators
        Unfitted or fitted models; they are cloned, never changed.
    X : array-like of shape (n_samples, n_features)
        Training data.
    ks : iterable of int
        Latent dimensions to try; values a model rejects (``k`` at or above
        the rank for PPCA, for example) are skipped for that model.
    X_test : array-like of shape (n_test, n_features), optional
        Held-out data; the error is then measured on it.
    verbose : bool or int, default=True
        Show a progress bar, one step per fit, when the call lasts over a
        second (``False`` or 0: none). As the models' ``verbose``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``k``, ``mse_train`` and ``mse_test`` (NaN without
        ``X_test``), one row per model and ``k``.

    Warns
    -----
    UserWarning
        For each model with values of ``k`` left out, with the message its
        ``fit`` raised.
    Warning
        A warning a model gives while fitted (a Heywood case, say) is given
        once per model and kind, with the values of ``k`` it came at, not once
        per fit.

    Examples
    --------
    >>> import lvm
    >>> X, _ = lvm.datasets.load_digits(return_X_y=True)
    >>> table = lvm.compression_table({"PCA": lvm.PCA()}, X, ks=[1, 2, 4])
    >>> bool(table["mse_train"].is_monotonic_decreasing)
    True
    """
    return _compression_rows(models, X, ks, X_test, verbose, stacklevel=3)


def _compression_rows(models, X, ks, X_test, verbose, stacklevel):
    """:func:`compression_table`; its warnings point ``stacklevel`` frames up, at the user's call."""
    verbose = check_verbose(verbose)
    models = _named(models)
    ks = [int(k) for k in ks]
    rows = []
    with progress(total=len(models) * len(ks), desc="compression_table", unit="fit", verbose=verbose,
                  heartbeat=True) as bar:
        for name, model in models.items():
            parameter = _dimension_parameter(model)
            skipped, warned = {}, {}
            for k in ks:
                bar.set_postfix_str(f"{name}, k={k}")
                candidate = clone(model).set_params(**{parameter: k})
                # The same model refitted at every k repeats its warnings (a
                # constant column, a Heywood case): they are told once per kind below.
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        candidate.fit(X)
                    except ValueError as error:
                        skipped[k] = str(error)
                for warning in caught:
                    warned.setdefault(warning.category, {}).setdefault(str(warning.message), []).append(k)
                if k in skipped:
                    bar.update()
                    continue
                rows.append({
                    "model": name, "k": k, "mse_train": metrics.reconstruction_error(candidate, X),
                    "mse_test": np.nan if X_test is None else metrics.reconstruction_error(candidate, X_test),
                })
                bar.update()
            for category, messages in warned.items():
                warnings.warn(_summary(name, messages), category, stacklevel=stacklevel)
            if skipped:
                warnings.warn(f"compression_table: {name} cannot be fitted with k in {list(skipped)} on these data; "
                              f"those points are left out. {_reasons(skipped)}", stacklevel=stacklevel)
    return pd.DataFrame(rows, columns=["model", "k", "mse_train", "mse_test"])


def _summary(name, messages):
    """One warning for the ``{message: [k, ...]}`` of one kind a model gave across the values of k."""
    ks = sorted({k for where in messages.values() for k in where})
    first = next(iter(messages))
    more = f" (the first of {len(messages)} such warnings)" if len(messages) > 1 else ""
    return f"compression_table: {name} at k in {ks}: {first}{more}"


def _reasons(messages):
    """The distinct error messages of ``{k: message}``, each once, with the values of k that raised it."""
    by_message = {}
    for k, message in messages.items():
        by_message.setdefault(message, []).append(k)
    if len(by_message) == 1:
        return f"The reason: {next(iter(by_message))}"
    return "The reasons: " + " ".join(f"(k in {ks}) {message}" for message, ks in by_message.items())
