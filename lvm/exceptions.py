"""Warnings and errors raised by lvm.

Convergence problems use scikit-learn's :class:`~sklearn.exceptions.ConvergenceWarning`
so that existing warning filters keep working; the conditions specific to
latent variable models have their own classes here.
"""

from sklearn.exceptions import ConvergenceWarning, NotFittedError

__all__ = [
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "HeywoodCaseWarning",
    "LikelihoodDecreaseWarning",
    "ModelFileError",
    "NotFittedError",
]


class LikelihoodDecreaseWarning(RuntimeWarning):
    """The log-likelihood fell between two EM iterations by more than round-off.

    EM never decreases the likelihood (Dempster, Laird & Rubin 1977), so a drop
    points to a numerical problem: an ill-conditioned covariance, a floor that
    was hit, or data at extreme magnitudes.
    """


class ModelFileError(ValueError):
    """A saved model file is missing, truncated, altered or of another version."""


class HeywoodCaseWarning(RuntimeWarning):
    """A uniqueness reached its floor: the variable is (almost) fully explained by the factors.

    Such a Heywood case (Heywood 1931) often means too many factors, too few
    observations, or a variable nearly duplicated by another.
    """


class DegenerateComponentWarning(RuntimeWarning):
    """A mixture component emptied or collapsed onto fewer points than dimensions.

    Its covariance is then set by the regularisation, not by the data; fewer
    components or a check for duplicated points usually helps.
    """
