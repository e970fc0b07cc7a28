"""How many factors? Horn's parallel analysis."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.utils import check_random_state

from ._fitting import fit_minres
from ._input import check_nonsingular, correlation_input


@dataclass
class ParallelAnalysis:
    """Outcome of a parallel analysis.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per position ``j``: observed eigenvalues of the correlation
        matrix (``pc_observed``) and of the reduced correlation matrix with
        the communalities of a one-factor minres fit on the diagonal
        (``fa_observed``), and
        the same for random normal data of the same size (``pc_random``,
        ``fa_random``: their mean, or the requested quantile).
    n_factors : int
        Leading factor eigenvalues above their random counterparts.
    n_components : int
        Leading component eigenvalues above their random counterparts.
    """

    table: pd.DataFrame
    n_factors: int
    n_components: int

    def __str__(self):
        return (f"Parallel analysis suggests {self.n_factors} factor(s) and {self.n_components} "
                f"component(s).\n{self.table.to_string(float_format=lambda v: f'{v:.3f}')}")

    def _repr_html_(self):
        return (f"<p>Parallel analysis suggests <b>{self.n_factors}</b> factor(s) and "
                f"<b>{self.n_components}</b> component(s).</p>" + self.table.to_html(float_format="%.3f"))


def _eigenvalues(R):
    reduced = R.copy()
    np.fill_diagonal(reduced, 1.0 - fit_minres(R, 1)["uniquenesses"])
    return linalg.eigvalsh(R)[::-1], linalg.eigvalsh(reduced)[::-1]


def _leading_above(observed, random):
    above = observed > random
    return int(np.argmin(above)) if not above.all() else len(above)


def parallel_analysis(X, n_iter=20, quantile=None, n_obs=None, random_state=None):
    """Horn's (1965) parallel analysis for the number of factors and components.

    Compares the eigenvalues of the data's correlation matrix with those of
    uncorrelated normal data of the same size: a factor (component) is kept
    while its eigenvalue exceeds the random one. For factors the eigenvalues
    are those of the reduced correlation matrix (Humphreys & Ilgen 1969), with
    the communalities of a one-factor minres solution on the diagonal, as in
    ``psych::fa.parallel``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (p, p)
        Data (NaN allowed: pairwise-complete correlations), or a correlation
        matrix with ``n_obs``.
    n_iter : int, default=20
        Number of random data sets.
    quantile : float or None, default=None
        Compare with this quantile of the random eigenvalues (e.g. 0.95)
        instead of their mean.
    n_obs : int, optional
        Sample size behind a matrix.
    random_state : int, RandomState instance or None, default=None
        Seed of the random data.

    Returns
    -------
    ParallelAnalysis

    Raises
    ------
    ValueError
        When the correlation matrix is singular: no more rows than variables,
        or duplicated columns.
    """
    R, names, n = correlation_input(X, n_obs)
    if n is None:
        raise ValueError("parallel_analysis: give n_obs, the number of observations behind the matrix.")
    # The simulated data have the same n rows: with n <= p their correlation
    # matrices are singular too, and neither has squared multiple correlations.
    check_nonsingular(R, "parallel_analysis", n, names, rows_needed=True)
    rng = check_random_state(random_state)
    p = len(R)
    pc_observed, fa_observed = _eigenvalues(R)
    simulated = [_eigenvalues(np.corrcoef(rng.standard_normal((n, p)), rowvar=False)) for _ in range(n_iter)]
    pc_sim = np.array([s[0] for s in simulated])
    fa_sim = np.array([s[1] for s in simulated])
    summarise = (lambda a: a.mean(axis=0)) if quantile is None else (lambda a: np.quantile(a, quantile, axis=0))
    table = pd.DataFrame(
        {"pc_observed": pc_observed, "pc_random": summarise(pc_sim),
         "fa_observed": fa_observed, "fa_random": summarise(fa_sim)},
        index=pd.RangeIndex(1, p + 1, name="position"),
    )
    return ParallelAnalysis(table, _leading_above(fa_observed, table["fa_random"].to_numpy()),
                            _leading_above(pc_observed, table["pc_random"].to_numpy()))
