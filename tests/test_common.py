"""scikit-learn's common estimator checks over every public lvm estimator.

The estimators are discovered from ``lvm.__all__``, so a new public model is
checked without anyone having to list it here.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

import lvm


def _public_estimators():
    """Public classes of lvm that are scikit-learn estimators, in ``__all__`` order.

    A class without ``fit`` is excluded: that is ``LatentModel``, the shared
    base class, which is public for subclassing and isinstance checks but is
    not an estimator one can fit, so no common check applies to it.
    """
    found = []
    for name in lvm.__all__:
        obj = getattr(lvm, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and callable(getattr(obj, "fit", None)):
            found.append(obj)
    return found


ESTIMATORS = _public_estimators()


def test_discovery_finds_the_models():
    # Guards the discovery itself: an empty or shrunken list would make the
    # parametrised checks below pass vacuously.
    assert {lvm.PCA, lvm.PPCA, lvm.FactorAnalysis} <= set(ESTIMATORS)
    assert lvm.LatentModel not in ESTIMATORS


# Default parameters throughout: every lvm default fits scikit-learn's small
# test data (PCA keeps min(n, p) components, PPCA min(n, p) - 1).
@parametrize_with_checks([cls() for cls in ESTIMATORS])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [cls() for cls in ESTIMATORS], ids=lambda est: type(est).__name__)
def test_check_estimator_passes(estimator):
    # The whole suite in one call, as a user running check_estimator sees it.
    check_estimator(estimator)
