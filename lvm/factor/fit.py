"""Goodness-of-fit statistics of a factor model, as R's ``factanal`` and ``psych::fa`` report them."""

from dataclasses import asdict, dataclass

import numpy as np
from scipy import linalg, optimize, stats

# psych::fa reports a 90% interval for RMSEA.
RMSEA_CONFIDENCE = 0.90


@dataclass
class FitStatistics:
    """Fit of a ``k``-factor model to a ``p x p`` correlation matrix from ``n`` rows.

    Attributes
    ----------
    objective : float
        ML discrepancy ``F = tr(C^{-1} R) - log|C^{-1} R| - p`` with ``C`` the
        model correlation matrix.
    chi2 : float
        Likelihood-ratio statistic with Bartlett's (1950) correction,
        ``(n - 1 - (2 p + 5) / 6 - 2 k / 3) F``.
    dof : float
        ``((p - k)^2 - p - k) / 2``.
    p_value : float
        Upper tail of ``chi2`` on ``dof`` degrees of freedom.
    rmsea, rmsea_lower, rmsea_upper : float
        Root mean square error of approximation (Steiger & Lind 1980) as
        ``psych::fa`` computes it, ``sqrt(max(chi2 / (dof n) - 1 / (n - 1), 0))``,
        and its 90% interval from the non-central chi-square.
    tli : float
        Tucker-Lewis index (Tucker & Lewis 1973), as ``psych::fa``.
    cfi : float
        Comparative fit index (Bentler 1990) against the independence model.
    bic : float
        ``chi2 - dof log n``, the BIC ``psych::fa`` prints.
    null_chi2, null_dof : float
        The independence model's statistic, ``-(n - 1 - (2 p + 5) / 6) log|R|``,
        on ``p (p - 1) / 2`` degrees of freedom.
    n_obs : int
        Sample size used.
    """

    objective: float
    chi2: float
    dof: float
    p_value: float
    rmsea: float
    rmsea_lower: float
    rmsea_upper: float
    tli: float
    cfi: float
    bic: float
    null_chi2: float
    null_dof: float
    n_obs: int

    def to_dict(self):
        """The statistics as a plain dict."""
        return asdict(self)


def model_correlation(loadings, factor_correlation=None):
    """``L Phi L^T`` with the diagonal set to 1: the correlation matrix the model implies."""
    phi = np.eye(loadings.shape[1]) if factor_correlation is None else factor_correlation
    model = loadings @ phi @ loadings.T
    np.fill_diagonal(model, 1.0)
    return model


def ml_discrepancy(R, model):
    """``tr(C^{-1} R) - log|C^{-1} R| - p`` for a model correlation ``C``."""
    ratio = linalg.solve(model, R, assume_a="pos")
    sign, logdet = np.linalg.slogdet(ratio)
    return float(np.trace(ratio) - logdet - len(R))


def _ncx2_cdf(statistic, dof, ncp):
    """``P(chi2_dof(ncp) <= statistic)``, by its normal limit where scipy's series gives NaN.

    scipy's non-central chi-square fails (NaN) for statistics of about 1e10
    and beyond, as a sample size of 1e12 produces. There the distribution,
    with mean ``dof + ncp`` and variance ``2 (dof + 2 ncp)``, has skewness
    below ``3 sqrt(2 / ncp)``, about 1e-5: its normal limit is exact to that.
    """
    value = stats.ncx2.cdf(statistic, dof, ncp)
    if np.isnan(value):
        value = stats.norm.cdf((statistic - dof - ncp) / np.sqrt(2.0 * (dof + 2.0 * ncp)))
    return value


def _noncentrality(statistic, dof, probability):
    """The non-centrality at which ``P(chi2_dof(ncp) <= statistic) = probability``."""
    if not np.isfinite(statistic):
        # A singular sample correlation (duplicated columns) makes the
        # discrepancy infinite; so is every non-centrality consistent with it.
        return np.inf
    if stats.chi2.cdf(statistic, dof) <= probability:
        return 0.0
    upper = max(1.0, statistic) * 4 + 100
    while _ncx2_cdf(statistic, dof, upper) > probability:
        upper *= 2
    return optimize.brentq(lambda ncp: _ncx2_cdf(statistic, dof, ncp) - probability, 0.0, upper, xtol=1e-12)


def fit_statistics(R, loadings, n_obs, factor_correlation=None):
    """Goodness of fit of the factor model ``R ~ L Phi L^T + Psi``.

    Parameters
    ----------
    R : ndarray of shape (p, p)
        Sample correlation matrix.
    loadings : ndarray of shape (p, k)
    n_obs : int
        Number of observations behind ``R``.
    factor_correlation : ndarray of shape (k, k), optional
        ``Phi`` for oblique solutions.

    Returns
    -------
    FitStatistics
    """
    p, k = loadings.shape
    n = n_obs
    objective = ml_discrepancy(R, model_correlation(loadings, factor_correlation))
    factor = (n - 1) - (2 * p + 5) / 6 - 2 * k / 3
    chi2 = max(objective * factor, 0.0)
    dof = ((p - k) ** 2 - p - k) / 2
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else np.nan
    null_objective = -np.linalg.slogdet(R)[1]
    null_dof = p * (p - 1) / 2
    null_chi2 = null_objective * ((n - 1) - (2 * p + 5) / 6)
    if dof > 0:
        rmsea = np.sqrt(max(chi2 / (dof * n) - 1 / (n - 1), 0.0))
        tail = (1 - RMSEA_CONFIDENCE) / 2
        lower = np.sqrt(_noncentrality(chi2, dof, 1 - tail) / (n - 1) / dof)
        upper = np.sqrt(_noncentrality(chi2, dof, tail) / (n - 1) / dof)
        tli = (null_objective / null_dof - objective / dof) / (null_objective / null_dof - 1 / factor)
    else:
        rmsea = lower = upper = tli = np.nan
    null_excess = max(null_chi2 - null_dof, chi2 - dof, 0.0)
    if not np.isfinite(null_excess):
        # A singular sample correlation: both misfits are infinite and CFI,
        # their ratio, is undefined.
        cfi = np.nan
    else:
        cfi = 1.0 - max(chi2 - dof, 0.0) / null_excess if null_excess > 0 else 1.0
    return FitStatistics(
        objective=objective, chi2=chi2, dof=dof, p_value=p_value, rmsea=float(rmsea),
        rmsea_lower=float(lower), rmsea_upper=float(upper), tli=float(tli), cfi=float(cfi),
        bic=float(chi2 - dof * np.log(n)), null_chi2=float(null_chi2), null_dof=null_dof, n_obs=int(n),
    )
