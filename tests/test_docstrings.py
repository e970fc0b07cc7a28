"""Public docstrings follow numpydoc, and every fitted attribute is documented."""

import inspect

import numpy as np
import pandas as pd
import pytest
from numpydoc.docscrape import ClassDoc
from numpydoc.validate import validate

import lvm

# Checks every public docstring must pass: presence, summary form, every
# parameter documented and no unknown ones, a described return value.
ENFORCED = {"GL08", "SS01", "SS02", "SS03", "SS04", "SS05", "PR01", "PR02", "PR03", "PR04", "PR05",
            "PR06", "PR07", "PR08", "PR09", "PR10", "RT01", "RT03", "RT04", "RT05", "YD01"}


def _public_objects():
    names = []
    for name in lvm.__all__:
        obj = getattr(lvm, name)
        if inspect.isclass(obj):
            names.append(f"lvm.{name}")
            for member, value in vars(obj).items():
                if not member.startswith("_") and callable(value):
                    names.append(f"lvm.{name}.{member}")
        elif callable(obj):
            names.append(f"lvm.{name}")
    for module in (lvm.plot, lvm.datasets, lvm.metrics):
        for name, obj in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith("lvm"):
                names.append(f"{module.__name__}.{name}")
    return names


@pytest.mark.parametrize("name", _public_objects())
def test_numpydoc(name):
    errors = [(code, msg) for code, msg in validate(name)["errors"] if code in ENFORCED]
    assert not errors, errors


def _fits(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 5)) + rng.normal(size=(60, 5))
    frame = pd.DataFrame(X, columns=list("abcde"))
    if cls is lvm.PCA:
        return [lvm.PCA(2).fit(X), lvm.PCA(2).partial_fit(frame)]
    if cls is lvm.GaussianMixture:
        return [lvm.GaussianMixture(2, random_state=0).fit(frame)]
    if cls is lvm.FactorAnalysis:
        return [lvm.FactorAnalysis(2).fit(frame), lvm.FactorAnalysis(2).partial_fit(X)]
    if cls is lvm.Autoencoder:
        return [lvm.Autoencoder(2, epochs=3, random_state=0).fit(frame)]
    return [lvm.PPCA("mle").fit(frame), lvm.PPCA(2).partial_fit(X)]


@pytest.mark.parametrize("cls", [lvm.PCA, lvm.PPCA, lvm.FactorAnalysis, lvm.GaussianMixture, lvm.Autoencoder])
def test_documented_attributes_are_the_fitted_ones(cls):
    documented = {item.name.split(" : ")[0] for item in ClassDoc(cls)["Attributes"]}
    fitted = set()
    for model in _fits(cls):
        attributes = {k for k in vars(model) if k.endswith("_") and not k.startswith("_")}
        assert attributes <= documented, attributes - documented
        fitted |= attributes
    assert fitted == documented
