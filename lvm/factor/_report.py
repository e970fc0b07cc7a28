"""The printed report of a factor analysis, laid out like ``print.psych``."""

import numpy as np
import pandas as pd

from .._summary import Summary


def _complexity(loadings):
    """Hofmann's (1978) complexity of each variable: ``(sum l^2)^2 / sum l^4``."""
    squares = loadings**2
    return squares.sum(axis=1) ** 2 / np.sum(squares**2, axis=1)


def build_summary(model, cut=None, digits=2):
    """Summary tables of a fitted :class:`~lvm.FactorAnalysis`."""
    loadings = model.loadings_array()
    names = model._names()
    factors = model._latent_names()
    table = pd.DataFrame(np.round(loadings, digits), index=names, columns=factors)
    if cut is not None:
        table = table.mask(np.abs(loadings) < cut).astype(object).where(lambda t: t.notna(), "")
    table["h2"] = np.round(model.communalities_, digits)
    table["u2"] = np.round(model.uniquenesses_, digits)
    table["com"] = np.round(_complexity(loadings), 1)
    tables = {"loadings": table, "variance": model.variance_.round(digits)}
    if model.rotation in ("promax", "oblimin", "quartimin", "geomin"):
        tables["factor correlations"] = pd.DataFrame(model.factor_correlation_, index=factors,
                                                     columns=factors).round(digits)
    stats = model.fit_statistics_
    method = {"ml": "maximum likelihood", "minres": "minimum residual", "principal": "principal axis"}
    info = {
        "method": method[model.method],
        "rotation": model.rotation or "none",
        "observations": model.n_samples_,
        "chi-square": f"{stats['chi2']:.2f} on {stats['dof']:g} degrees of freedom, p = {stats['p_value']:.3g}",
        "RMSEA [90% CI]": f"{stats['rmsea']:.3f} [{stats['rmsea_lower']:.3f}, {stats['rmsea_upper']:.3f}]",
        "Tucker-Lewis index": round(stats["tli"], 3),
        "comparative fit index": round(stats["cfi"], 3),
        "BIC": round(stats["bic"], 2),
    }
    notes = []
    if model.heywood_:
        notes.append(f"Heywood case: uniqueness at the floor for {', '.join(model.heywood_)}.")
    return Summary(f"Factor analysis with {model.n_components} factor(s)", info, tables, notes)
