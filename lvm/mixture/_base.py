"""What every mixture model shares: the latent class, its posterior, prediction and ICL.

A mixture's latent variable is (at least) the class ``z`` of each row, and
the responsibilities ``r_nk = p(z_n = k | x_n)`` are its posterior. A subclass
supplies ``_scores(X) -> (log_r, log_density)`` for rows already checked;
everything derived from them lives here once.
"""

import numbers

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._base import LatentModel, LatentNamesMixin, rowwise
from .._em import EMMixin
from .._validation import CALLABLE, NAMES, NONE, RANDOM_STATE, Interval, Options, check_data, check_variance, read_data
from . import _em_steps, _start

# What every mixture's shared parameters accept.
SHARED_CONSTRAINTS = {
    "n_components": [Interval(numbers.Integral, 1, None)],
    "tol": [Interval(numbers.Real, 0, None)],
    "max_iter": [Interval(numbers.Integral, 0, None)],
    "n_init": [Interval(numbers.Integral, 1, None)],
    "init": [Options(*_start.STARTS)],
    "missing": [Options("error", "em")],
    "random_state": [RANDOM_STATE],
    "callback": [CALLABLE, NONE],
    "verbose": [Interval(numbers.Integral, 0, None), Options(False, True)],
    "latent_names": [NAMES, NONE],
}


class MixtureModel(EMMixin, LatentNamesMixin, TransformerMixin, LatentModel):
    """Base class of lvm's mixture models (not for direct use).

    Subclasses have the parameters ``n_components``, ``missing`` and
    ``random_state`` and implement ``_component_log_prob(X, observed)``: the
    log-density of every row under every component, ``log N_k(x_n)``, shape
    (n, K), for rows whose unobserved entries are NaN.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "em"
        return tags

    def _em_chunk_rows(self, p):
        return _em_steps.chunk_rows(self.n_components, p)

    def _read_training(self, X):
        """Check the parameters and the training data; return their reader and column statistics.

        NaN is accepted with ``missing="em"``; the data need at least
        ``n_components`` rows and a variance a float can hold.
        """
        self._check_params()
        data = read_data(self, X, allow_nan=self.missing == "em")
        source, columns = data.source, data.columns
        n, k = source.n_samples, self.n_components
        if n < k:
            raise ValueError(f"{type(self).__name__}: n_components={k} needs at least {k} samples; got {n}.")
        check_variance(columns.m2.sum() / n, columns)
        return source, columns

    def _scores(self, X):
        """Log responsibilities (n, K) and log-density (n,) of the rows of ``X``."""
        check_is_fitted(self)
        return self._log_resp(check_data(self, X, reset=False, allow_nan=self.missing == "em"))

    def _log_resp(self, X):
        """As :meth:`_scores`, for rows already checked."""
        weighted = self._component_log_prob(X, ~np.isnan(X))
        weighted += np.log(self.weights_)
        norm = _em_steps.logsumexp_rows(weighted)
        weighted -= norm[:, None]
        return weighted, norm

    @rowwise("n_components")
    def predict_proba(self, X):
        """Return the responsibilities ``p(z = k | x)`` of each row.

        .. math:: r_{nk} = \\pi_k p_k(x_n) / \\sum_j \\pi_j p_j(x_n)

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Rows sum to 1.
        """
        log_r, _ = self._scores(X)
        with np.errstate(under="ignore"):
            return np.exp(log_r)

    @rowwise(dtype=np.intp)
    def predict(self, X):
        """Predict the most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples,)
            Component labels.
        """
        return np.argmax(self._scores(X)[0], axis=1)

    def fit_predict(self, X, y=None):
        """Fit the mixture and return the most probable component of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples,)
            Component labels, equal to ``fit(X).predict(X)``.
        """
        return self.fit(X).predict(X)

    @rowwise()
    def score_samples(self, X):
        """Log-likelihood of each row, ``log sum_k pi_k p_k(x)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; with missing entries, the density of the observed ones.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-density of each row.
        """
        return self._scores(X)[1]

    def icl(self, X):
        """Integrated completed likelihood (Biernacki, Celeux & Govaert 2000), lower is better.

        .. math:: \\mathrm{ICL} = \\mathrm{BIC} - 2 \\sum_n \\log r_{n, \\hat z_n}

        BIC penalised by the entropy of the hard classification, as mclust
        computes it (mclust reports it with the opposite sign).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        float
            The criterion.
        """
        log_r, _ = self._scores(X)
        return float(self.bic(X) - 2.0 * np.max(log_r, axis=1).sum())

    def sample(self, n_samples=1, random_state=None):
        """Draw points and the component each came from, from the fitted mixture.

        The component ``k`` of each draw is drawn with probabilities
        ``weights_``, then the point from that component's distribution.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws, at least 1.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The points.
        labels : ndarray of shape (n_samples,)
            The component each was drawn from.
        """
        check_is_fitted(self)
        if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral):
            raise TypeError(f"n_samples must be an integer; got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"n_samples must be at least 1; got {n_samples}.")
        rng = check_random_state(random_state)
        return self._draw(rng, rng.multinomial(n_samples, self.weights_))


def weight_column(features):
    """The summary's column of mixing weights: ``"weight"``, or ``"mixing weight"`` when a feature has that name."""
    return "weight" if "weight" not in list(features) else "mixing weight"
