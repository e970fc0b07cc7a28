"""The printed report of a factor analysis, laid out like ``print.psych`` and ``print.factanal``."""

import numpy as np
import pandas as pd

from .._summary import Summary
from .rotation import OBLIQUE, method_name

_METHOD = {"ml": "maximum likelihood", "minres": "minimum residual", "principal": "principal axis"}

_CORRELATIONS = {
    "sample": "sample correlations (complete data)",
    "matrix": "the matrix given to fit_covariance",
    "pairwise": "pairwise-complete correlations",
    "em": "EM estimate of the correlations from the observed entries (full information)",
}


def _complexity(loadings):
    """Hofmann's (1978) complexity of each variable: ``(sum l^2)^2 / sum l^4``."""
    squares = loadings**2
    with np.errstate(invalid="ignore"):  # a constant column has no loadings, hence no complexity
        return squares.sum(axis=1) ** 2 / np.sum(squares**2, axis=1)


def fixed(values, digits, cut=None):
    """Numbers as text with ``digits`` decimals, never ``-0.00``; blank below ``cut`` in absolute value.

    Parameters
    ----------
    values : array-like of float
    digits : int
    cut : float or None

    Returns
    -------
    ndarray of str, the shape of ``values``
    """
    values = np.asarray(values, dtype=np.float64)
    rounded = np.round(values, digits)
    # Rounding can leave -0.0, which prints with a minus sign.
    rounded[rounded == 0] = 0.0
    text = np.array([f"{v:.{digits}f}" if np.isfinite(v) else "" for v in rounded.ravel()], dtype=object)
    text = text.reshape(values.shape)
    if cut is not None:
        text[np.abs(values) < cut] = ""
    return text


def _text_table(values, index, columns, digits, cut=None):
    return pd.DataFrame(fixed(values, digits, cut), index=index, columns=columns)


def _fit_lines(stats):
    if stats["dof"] <= 0:
        return {"chi-square": f"undefined ({stats['dof']:g} degrees of freedom)"}
    return {
        "chi-square": f"{stats['chi2']:.2f} on {stats['dof']:g} degrees of freedom, p = {stats['p_value']:.3g}",
        "RMSEA [90% CI]": f"{stats['rmsea']:.3f} [{stats['rmsea_lower']:.3f}, {stats['rmsea_upper']:.3f}]",
        "Tucker-Lewis index": f"{stats['tli']:.3f}",
        "comparative fit index": f"{stats['cfi']:.3f}",
        "BIC": f"{stats['bic']:.2f}",
    }


def _interval_text(table, digits):
    """``[lower, upper]`` of each row of a bootstrap table, as text."""
    lower, upper = fixed(table["lower"], digits), fixed(table["upper"], digits)
    return np.array([f"[{lo}, {hi}]" for lo, hi in zip(lower, upper, strict=True)], dtype=object)


def _interval_tables(model, ci, digits):
    """Tables and fit lines of a :class:`~lvm.factor.FactorBootstrap` of ``model``."""
    loadings = model.loadings_array()
    if ci.loadings["estimate"].shape != (loadings.size,) or not np.allclose(ci.loadings["estimate"],
                                                                             loadings.ravel()):
        raise ValueError("ci is a bootstrap of another solution: its full-sample loadings differ from this "
                         "model's. Pass the result of lvm.factor.bootstrap(model, X) with the X the model was "
                         "fitted to.")
    names = model._names()
    factors = list(model.get_feature_names_out())
    percent = f"{100 * ci.level:g}%"
    tables = {f"loadings {percent} CI": pd.DataFrame(_interval_text(ci.loadings, digits).reshape(loadings.shape),
                                                     index=names, columns=factors)}
    tables[f"loadings {percent} CI"]["u2"] = _interval_text(ci.uniquenesses, digits)
    if ci.factor_correlation is not None:
        text = _interval_text(ci.factor_correlation, digits)
        tables[f"factor correlations {percent} CI"] = pd.DataFrame(
            {"estimate": fixed(ci.factor_correlation["estimate"], digits), "CI": text},
            index=[f"{a}-{b}" for a, b in ci.factor_correlation.index])
    fit = {f"{name} bootstrap {percent} CI": f"[{row.lower:.3f}, {row.upper:.3f}]" for name, row in ci.fit.iterrows()}
    return tables, fit


def build_summary(model, cut=0.1, digits=2, ci=None):
    """Summary tables of a fitted :class:`~lvm.FactorAnalysis`.

    Every number is text with a fixed number of decimals (``digits`` for
    loadings, h2, u2, variance and factor correlations; one for complexity),
    loadings below ``cut`` in absolute value are blank, and the latent names
    are the model's ``get_feature_names_out()``.
    """
    loadings = model.loadings_array()
    names = model._names()
    factors = list(model.get_feature_names_out())
    table = _text_table(loadings, names, factors, digits, cut)
    table["h2"] = fixed(model.communalities_, digits)
    table["u2"] = fixed(model.uniquenesses_, digits)
    table["com"] = fixed(_complexity(loadings), 1)
    variance = model.variance_
    tables = {"loadings": table,
              "variance": _text_table(variance.to_numpy(), variance.index, factors, digits)}
    if model.rotation not in (None, "none") and method_name(model.rotation) in OBLIQUE:
        tables["factor correlations"] = _text_table(np.asarray(model.factor_correlation_), factors, factors,
                                                    digits)
    info = {"method": _METHOD[model.method], "rotation": model.rotation or "none"}
    if model.missing == "em" and model.method == "ml" and model.correlation_source_ == "pairwise":
        info["missing data"] = "ML fitted by EM to the observed entries (full information)"
        info["correlations"] = "pairwise-complete correlations (fit statistics, scores)"
    else:
        info["correlations"] = _CORRELATIONS[model.correlation_source_]
    info["observations"] = model.n_samples_
    info.update(_fit_lines(model.fit_statistics_))
    if ci is not None:
        interval_tables, fit = _interval_tables(model, ci, digits)
        tables.update(interval_tables)
        info.update(fit)
    notes = []
    if model.heywood_:
        notes.append(f"Heywood case: uniqueness at the floor for {', '.join(model.heywood_)}.")
    constant = [name for name, noise in zip(names, model.noise_variance_, strict=True) if noise == 0]
    if constant:
        notes.append(f"Constant column(s) left out of the analysis: {', '.join(constant)}.")
    if cut:
        notes.append(f"Loadings below {cut:g} in absolute value are not shown.")
    if ci is not None:
        notes.append(f"Intervals: bootstrap percentiles of {ci.n_iter} resamples of the rows, factors matched "
                     "to the full-sample solution by order and sign.")
    return Summary(f"Factor analysis with {model.n_components} factor(s)", info, tables, notes)
