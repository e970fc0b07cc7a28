"""The contract every lvm model keeps.

:class:`LatentModel` gives the members written once for all models:
``score`` (mean of ``score_samples``), ``bic``/``aic`` from the parameter
count, ``reconstruct``, ``save``, and parameter checking. A model provides
``fit``, ``transform``, ``inverse_transform``, ``posterior``,
``score_samples``, ``sample``, ``summary`` and the fitted ``n_parameters_``.
"""

import functools
import numbers
from collections import namedtuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._source import is_dask_array, map_rows
from ._stats import ScatterStats, scatter_stats
from ._validation import check_dask_data, check_data, check_params

Posterior = namedtuple("Posterior", ["mean", "covariance"])


def rowwise(width=None, dtype=np.float64):
    """Decorate a row-wise method so that a dask array in gives a dask array out.

    The method runs block by block on the workers (``map_blocks``); nothing is
    computed until the caller asks. ``width`` names the attribute holding the
    number of output columns (None: one value per row).
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, X, *args, **kwargs):
            if not is_dask_array(X):
                return method(self, X, *args, **kwargs)
            check_is_fitted(self)
            X = check_dask_data(self, X, reset=False)
            columns = None if width is None else getattr(self, width)
            return map_rows(functools.partial(method, self, *args, **kwargs), X, columns, dtype)

        return wrapper

    return decorate


class _Estimator(BaseEstimator):
    """What every lvm estimator shares, probabilistic or not."""

    _parameter_constraints: dict = {}

    def _names(self):
        """Column names seen in fitting, or ``x0, x1, ...`` when the data had none."""
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def _check_params(self):
        check_params(self)

    def reconstruct(self, X):
        """Map ``X`` to the latent space and back: ``inverse_transform(transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The lossy reconstruction of ``X`` through the latent space.
        """
        return self.inverse_transform(self.transform(X))

    def save(self, path):
        """Write the fitted model to ``path`` (``.npz`` with a JSON header, no pickle).

        Parameters
        ----------
        path : str or os.PathLike
            Destination file; ``lvm.load(path)`` reads it back.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        from .io import save

        check_is_fitted(self)
        return save(self, path)


class LatentNamesMixin:
    """One set of names for a model's latent variables, used by every labelled output.

    The names are ``latent_names`` (a constructor parameter) when given, else
    the model's default prefix and a number (``PC1, PC2, ...`` for PCA,
    ``Z1, ...`` for PPCA and the autoencoder, ``ML1, ...`` for factor
    analysis as in ``psych::fa``). ``get_feature_names_out`` returns them, so
    pandas output (``set_output(transform="pandas")``), ``summary()`` tables
    and plots all label the latent axes the same way.
    """

    _latent_prefix = "Z"
    _latent_first = 1
    # The constructor parameter that counts the latent variables.
    _latent_count = "n_components"

    def _n_latent(self):
        return self.n_components_

    def _latent_names(self):
        count = self._n_latent()
        if self.latent_names is not None:
            return self._named(count)
        return [f"{self._latent_prefix}{i + self._latent_first}" for i in range(count)]

    def _check_params(self):
        # Also refuses latent_names of the wrong length when n_components is a number.
        super()._check_params()
        count = getattr(self, self._latent_count)
        if isinstance(count, numbers.Integral) and self.latent_names is not None:
            self._named(count)

    def _named(self, count):
        """``latent_names`` as strings, refused unless there are ``count`` of them."""
        names = [str(name) for name in self.latent_names]
        if len(names) != count:
            raise ValueError(
                f"{type(self).__name__}: latent_names={self.latent_names!r} must be {count} distinct names, "
                f"one per latent variable ({self._latent_count}={count})."
            )
        return names

    def get_feature_names_out(self, input_features=None):
        """Names of the latent variables, the columns of ``transform``'s output.

        Parameters
        ----------
        input_features : None
            Ignored; the output columns do not depend on the input's names.

        Returns
        -------
        ndarray of str objects
            ``latent_names`` if given, else the model's default names.
        """
        check_is_fitted(self)
        return np.asarray(self._latent_names(), dtype=object)


class LatentModel(_Estimator):
    """Base class of lvm's probabilistic models (not for direct use).

    Adds the members that need a log-likelihood: ``score`` and the
    information criteria.
    """

    def score(self, X, y=None):
        """Mean log-likelihood per sample of ``X`` under the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        float
            ``mean_i log p(x_i)``.
        """
        return float(np.mean(self.score_samples(X)))

    def _information_criterion(self, X, penalty_per_parameter):
        log_likelihood = self.score_samples(X).sum()
        return -2.0 * log_likelihood + penalty_per_parameter * self.n_parameters_

    def bic(self, X):
        """Bayesian information criterion of the fit on ``X`` (lower is better).

        .. math:: \\mathrm{BIC} = -2 \\sum_i \\log p(x_i) + m \\log n

        with ``m = n_parameters_`` free parameters and ``n`` rows (Schwarz 1978).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        float
            The criterion; compare models fitted to the same data.
        """
        n = np.shape(X)[0]
        return float(self._information_criterion(X, np.log(n)))

    def aic(self, X):
        """Akaike information criterion of the fit on ``X`` (lower is better).

        .. math:: \\mathrm{AIC} = -2 \\sum_i \\log p(x_i) + 2 m

        with ``m = n_parameters_`` free parameters (Akaike 1974).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        float
            The criterion; compare models fitted to the same data.
        """
        return float(self._information_criterion(X, 2.0))


class StreamingMixin:
    """``partial_fit`` for the models fitted from count, mean and scatter (PCA, PPCA, FA).

    A model supplies ``_fit_scatter(stats, X)``, its fit from
    :class:`~lvm._stats.ScatterStats`, and ``_can_fit(n_samples, n_features)``.
    """

    def __sklearn_is_fitted__(self):
        # partial_fit keeps statistics before it has enough rows to fit.
        return hasattr(self, "components_")

    def partial_fit(self, X, y=None):
        """Update the fit with a chunk of complete rows; after all chunks it equals ``fit`` on all rows.

        The count, mean and scatter matrix are merged exactly (Chan, Golub &
        LeVeque 1979), so memory stays ``O(p^2)`` and the result does not
        depend on how the rows were split. Until there are enough rows for the
        model, the statistics are kept and nothing is fitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of rows, without missing values.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated model.
        """
        first = not hasattr(self, "scatter_")
        if first:
            self._check_params()
        X = check_data(self, X, reset=first, min_samples=1)
        stats = scatter_stats(X)
        if not first:
            stats = ScatterStats(self.n_samples_seen_, self.mean_, self.scatter_) + stats
        self.n_samples_seen_, self.mean_, self.scatter_ = stats.n_samples, stats.mean, stats.scatter
        if self._can_fit(stats.n_samples, X.shape[1]):
            self._fit_scatter(stats, X)
            self._warnings_after_fit()
        return self

    def _warnings_after_fit(self):
        """Warnings about the fit that ``fit`` and ``partial_fit`` both give (none by default)."""

    def _forget_stream(self):
        for name in ("scatter_", "n_samples_seen_"):
            self.__dict__.pop(name, None)
