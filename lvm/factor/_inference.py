"""What a fitted factor model says about data: scores, posteriors, densities, draws.

These members read only the fitted attributes of
:class:`~lvm.factor.FactorAnalysis`; a variable whose fitted noise variance is
zero (a constant column in the training data) carries no information about the
factors and no density, so it is left out of every computation here.
"""

import numpy as np
from scipy import linalg
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import _lowrank
from .._base import Posterior, rowwise
from .._validation import check_data, check_latent, check_n_samples
from .scores import bartlett_weights, regression_weights


class FactorInferenceMixin(TransformerMixin):
    """``transform``, ``posterior``, ``score_samples``, ``sample`` and friends of a fitted factor model.

    A :class:`~sklearn.base.TransformerMixin` itself, so that scikit-learn's
    ``set_output`` wraps the ``transform`` defined here.
    """

    def _varying(self):
        """Mask of the variables the model describes: those with a positive fitted noise variance."""
        return self.noise_variance_ > 0

    def _standardised(self, X):
        """Validated ``X`` restricted to the modelled variables, and its standardised values."""
        check_is_fitted(self)
        if not np.all(np.isfinite(self.mean_)):
            raise ValueError("FactorAnalysis was fitted from a covariance matrix: without the means, "
                             "data cannot be scored. Fit on the data instead.")
        X = check_data(self, X, reset=False, allow_nan=self.missing != "error")
        varying = self._varying()
        X = X[:, varying]
        return X, (X - self.mean_[varying]) / self.scale_[varying]

    @rowwise("n_components")
    def transform(self, X):
        """Factor scores of each row, by the method named in ``scores``.

        ``z B`` with ``B = score_weights_``: regression (Thomson)
        ``B = R^{-1} L Phi``, Bartlett ``B = Psi^{-1} L (L^T Psi^{-1} L)^{-1}``,
        and ``z`` the data standardised by the training means and standard
        deviations, as R's ``factanal(scores=...)``. Rows with missing
        entries get the posterior mean given their observed entries.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Factor scores.
        """
        X, z = self._standardised(X)
        varying = self._varying()
        stored = getattr(self, "score_weights_", None)
        # A model saved by an lvm without score_weights_ gets them from its loadings.
        weights = (self._score_weights(self.correlation_[np.ix_(varying, varying)], self.loadings_array()[varying],
                                       self.uniquenesses_[varying], np.asarray(self.factor_correlation_))
                   if stored is None else stored[varying])
        if np.isnan(weights).any():
            # Bartlett scores of a factor without loadings: the kernel's error names it.
            bartlett_weights(self.loadings_array()[varying], self.uniquenesses_[varying])
        rows = np.isnan(z).any(axis=1)
        scores = np.where(rows[:, None], 0.0, np.nan_to_num(z)) @ weights
        if rows.any():
            scores[rows] = self._posterior_of(X[rows]).mean
        return scores

    def _score_weights(self, correlation, loadings, uniquenesses, factor_correlation):
        """The ``(q, k)`` weights of the scores named in ``scores``; NaN where Bartlett's are undefined.

        Parameters
        ----------
        correlation : ndarray of shape (q, q)
            The correlation matrix analysed, over the modelled variables.
        loadings : ndarray of shape (q, k)
            Rotated standardised loadings.
        uniquenesses : ndarray of shape (q,)
        factor_correlation : ndarray of shape (k, k)

        Returns
        -------
        ndarray of shape (q, k)
        """
        if self.scores == "regression":
            return regression_weights(correlation, loadings, factor_correlation)
        try:
            return bartlett_weights(loadings, np.maximum(uniquenesses, 1e-12))
        except ValueError:
            # A factor without loadings: the fit stands, and transform says why it cannot score.
            return np.full(loadings.shape, np.nan)

    def _latent_loadings(self):
        """Raw-scale loadings of the modelled variables for uncorrelated latents ``z``, ``f = chol(Phi) z``."""
        chol = linalg.cholesky(np.asarray(self.factor_correlation_), lower=True)
        return self.components_.T[self._varying()] @ chol, chol

    def posterior(self, X):
        """Posterior mean and covariance of the factors given each row, under the fitted model.

        .. math:: f \\mid x \\sim N\\big(\\Phi W^T C^{-1} (x - \\mu),\\; \\Phi - \\Phi W^T C^{-1} W \\Phi\\big),
                  \\qquad C = W \\Phi W^T + \\Psi

        computed in the factor space (Woodbury); with missing entries, on the
        observed coordinates of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data.

        Returns
        -------
        Posterior
            ``mean`` (n_samples, n_components) and ``covariance`` (n_components,
            n_components), or (n_samples, n_components, n_components) with missing entries.
        """
        return self._posterior_of(self._standardised(X)[0])

    def _posterior_of(self, X):
        """Posterior of rows ``X`` already restricted to the modelled variables."""
        loadings, chol = self._latent_loadings()
        varying = self._varying()
        mean, noise = self.mean_[varying], self.noise_variance_[varying]
        observed = ~np.isnan(X)
        if observed.all():
            post_mean, cov = _lowrank.posterior(X - mean, loadings, noise)
            return Posterior(post_mean @ chol.T, chol @ cov @ chol.T)
        centered = np.where(observed, X - mean, 0.0)
        post_mean, cov, _ = _lowrank.masked_posterior(centered, observed, loadings, noise)
        return Posterior(post_mean @ chol.T, np.einsum("ij,njk,lk->nil", chol, cov, chol))

    def inverse_transform(self, X):
        """Map factor values back to data space: ``x = mu + W f``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Factor values.

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            The part of the data the factors explain.
        """
        check_is_fitted(self)
        return check_latent(self, X, name="X") @ self.components_ + self.mean_

    @rowwise()
    def score_samples(self, X):
        """Log-likelihood of each row, ``log N(x | mu, W Phi W^T + Psi)``.

        Variables that were constant in the training data are left out: the
        model gives them no spread, hence no density.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; with missing entries, the density of the observed ones.

        Returns
        -------
        ndarray of shape (n_samples,)
            Log-density of each row.
        """
        X, _ = self._standardised(X)
        loadings, _ = self._latent_loadings()
        varying = self._varying()
        mean, noise = self.mean_[varying], self.noise_variance_[varying]
        observed = ~np.isnan(X)
        if observed.all():
            return _lowrank.logpdf(X - mean, loadings, noise)
        centered = np.where(observed, X - mean, 0.0)
        return _lowrank.masked_posterior(centered, observed, loadings, noise)[2]

    def get_covariance(self):
        """Model covariance ``W Phi W^T + Psi`` in the units of the data.

        Returns
        -------
        ndarray of shape (n_features, n_features)
            The covariance matrix of the fitted Gaussian (zero rows and
            columns for variables that were constant).
        """
        check_is_fitted(self)
        phi = np.asarray(self.factor_correlation_)
        return self.components_.T @ phi @ self.components_ + np.diag(self.noise_variance_)

    def sample(self, n_samples=1, random_state=None):
        """Draw ``(x, f)`` pairs from the fitted model.

        Parameters
        ----------
        n_samples : int, default=1
            Number of draws.
        random_state : int, RandomState instance or None, default=None
            Seed of the draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The observed draws.
        F : ndarray of shape (n_samples, n_components)
            The factor values behind them (correlation ``factor_correlation_``).
        """
        check_is_fitted(self)
        n_samples = check_n_samples(n_samples)
        rng = check_random_state(random_state)
        chol = linalg.cholesky(np.asarray(self.factor_correlation_), lower=True)
        k = self.components_.shape[0]
        factors = rng.standard_normal((n_samples, k)) @ chol.T
        noise = rng.standard_normal((n_samples, self.n_features_in_)) * np.sqrt(self.noise_variance_)
        mean = np.nan_to_num(self.mean_)
        return factors @ self.components_ + mean + noise, factors
