"""Choose the number of components and the covariance structure of a Gaussian mixture."""

import warnings

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning, DegenerateComponentWarning
from .gaussian import GaussianMixture

# mclust's names for lvm's four covariance structures.
MCLUST_NAMES = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}


def select_mixture(X, n_components=range(1, 10), covariance_types=("full", "diag", "tied", "spherical"),
                   criterion="bic", **kwargs):
    """Fit a Gaussian mixture for every number of components and covariance type; pick the best.

    Like R's ``mclust`` BIC table: one row per fit, with its log-likelihood,
    parameter count and criteria, and the model with the lowest value of
    ``criterion`` (lvm's criteria are lower-is-better: mclust's BIC is ``-bic``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    n_components : iterable of int, default=range(1, 10)
        Numbers of components to try.
    covariance_types : iterable of str, default=("full", "diag", "tied", "spherical")
        Covariance structures to try.
    criterion : {"bic", "icl", "aic"}, default="bic"
        What to minimise.
    **kwargs
        Passed to every :class:`GaussianMixture` (``random_state``, ``n_init``, ...).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``covariance_type``, ``mclust``, ``n_components``,
        ``log_likelihood`` (total), ``n_parameters``, ``bic``, ``icl``, ``aic``,
        ``converged``, ``n_iter``, sorted by ``criterion``.
    best : GaussianMixture
        The fitted model with the lowest ``criterion``.
    """
    if criterion not in ("bic", "icl", "aic"):
        raise ValueError(f"criterion={criterion!r} must be one of 'bic', 'icl', 'aic'.")
    rows, models = [], []
    for covariance_type in covariance_types:
        for k in n_components:
            model = GaussianMixture(int(k), covariance_type=covariance_type, **kwargs)
            with warnings.catch_warnings():
                # Degenerate and unconverged fits are kept in the table and flagged there.
                warnings.simplefilter("ignore", (ConvergenceWarning, DegenerateComponentWarning))
                model.fit(X)
            rows.append({
                "covariance_type": covariance_type, "mclust": MCLUST_NAMES[covariance_type],
                "n_components": int(k), "log_likelihood": float(model.score_samples(X).sum()),
                "n_parameters": model.n_parameters_, "bic": model.bic(X), "icl": model.icl(X),
                "aic": model.aic(X), "converged": model.converged_, "n_iter": model.n_iter_,
            })
            models.append(model)
    table = pd.DataFrame(rows)
    best = models[int(np.argmin(table[criterion].to_numpy()))]
    return table.sort_values(criterion, kind="stable").reset_index(drop=True), best
