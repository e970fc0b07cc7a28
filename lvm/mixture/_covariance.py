"""The one place that knows the four covariance structures of a Gaussian mixture.

Regularisation is a floor: every eigenvalue of a covariance is at least
``reg_covar``. The M-step then maximises the expected log-likelihood over the
covariances that satisfy the floor (the eigenvalues of the weighted scatter,
clipped from below; Hathaway 1985), so EM still never lowers the likelihood,
and a component that collapses onto a point keeps a bounded density.
scikit-learn instead adds ``reg_covar`` to the diagonal, which is not an
M-step and can lower the likelihood once a component has collapsed; with
``reg_covar=0`` the two are the same algorithm.

Each structure is an object with the same few functions: the second-moment
statistic its M-step needs, the estimate from sufficient statistics, the
Cholesky factor of the precision, its log-determinant, the log-densities of
all components, the parameter count, the full matrices, sampling, and
drawing random covariances for synthetic data.

Storage follows scikit-learn: ``full`` (k, p, p), ``tied`` (p, p), ``diag``
(k, p), ``spherical`` (k,).

Precision far from the frame. The fast forms expand a square,
``|x - mu|^2 = |x|^2 - 2 x.mu + |mu|^2`` (in the metric of the precision), and
the second moments are taken about the frame's origin; both lose as many
digits as ``|x|^2 / |x - mu|^2`` (or ``|mu|^2 / sigma^2``) has. Tight
components far from the data's centre (clusters 1e7 apart with spreads of
1e-2, say) would lose them all. So the densities of the rows where the
expansion cancels by more than :data:`CANCELLATION_LIMIT` are recomputed from
the differences ``x - mu_k``, and the second moment of a component whose
mean is that far from the origin is taken about its previous mean (a frame
fixed during one E-step, so the statistics still add over chunks). On data
where nothing cancels, the fast forms are all that runs.
"""

import numpy as np
from scipy import linalg

from .._linalg import random_orthogonal
from ._roundoff import CANCELLATION_LIMIT, floor_eigenvalues, refine_squares

_LOG_2PI = np.log(2.0 * np.pi)

def _cholesky_error(which):
    return ValueError(
        f"the covariance of {which} is singular: the component has collapsed onto fewer points "
        "than dimensions and reg_covar does not keep it away from zero. Use reg_covar > 0, "
        "scale the input data, or use fewer components."
    )


def _random_covariance(rng, p, eigenvalue_range):
    """A ``(p, p)`` covariance with random (Haar) axes and eigenvalues uniform in ``eigenvalue_range``."""
    axes = random_orthogonal(rng, p, p)
    return (axes * rng.uniform(*eigenvalue_range, size=p)) @ axes.T


class Full:
    """A free covariance matrix per component (mclust's VVV)."""

    name = "full"
    # Whether the M-step's second moment is the same for every responsibility
    # (then the complete rows' part is computed once, not at every E-step).
    constant_second = False
    # Whether the storage holds matrices (else variances).
    stores_matrices = True
    shape = staticmethod(lambda k, p: (k, p, p))

    @staticmethod
    def keep_previous(covariances, previous, empty):
        """Covariances with those of the ``empty`` components put back to their ``previous`` values."""
        covariances = covariances.copy()
        covariances[empty] = previous[empty]
        return covariances

    @staticmethod
    def unit(k, p):
        """Identity covariances in this structure's storage."""
        return np.broadcast_to(np.eye(p), (k, p, p)).copy()

    @staticmethod
    def precision_to_cholesky(precisions):
        """Cholesky factors (scikit-learn's storage) of user-given precisions."""
        return np.array([linalg.cholesky(prec, lower=True) for prec in precisions])

    @staticmethod
    def precisions(precisions_cholesky):
        """Precision matrices from their Cholesky factors."""
        return precisions_cholesky @ np.swapaxes(precisions_cholesky, -1, -2)

    @staticmethod
    def second_moment(X, resp, frames, far):
        """``sum_n r_nk (x_n - f_k)(x_n - f_k)^T`` for every ``k``: (k, p, p).

        ``f_k`` is the frame of component ``k`` (``frames[k]`` where ``far[k]``,
        else the origin). Each is ``Z^T Z`` with ``Z = sqrt(r_k) (X - f_k)``, a
        symmetric rank update (BLAS ``syrk``) at half the cost of a general product.
        """
        p = X.shape[1]
        k = resp.shape[1]
        roots = np.sqrt(resp)
        out = np.empty((k, p, p))
        for j in range(k):
            scaled = (X - frames[j] if far[j] else X) * roots[:, j : j + 1]
            out[j] = scaled.T @ scaled
        return out

    @staticmethod
    def from_full(second):
        return second

    @staticmethod
    def moment_diagonal(nk, second):
        """Diagonals of the second moments per unit weight: (k, p)."""
        return np.diagonal(second, axis1=1, axis2=2) / nk[:, None]

    @staticmethod
    def precision_diagonal(precisions_cholesky, p):
        """Diagonals of the precisions ``U U^T``: (k, p)."""
        return np.sum(precisions_cholesky**2, axis=2)

    @staticmethod
    def estimate(nk, offsets, second, reg_covar, skip=None, previous=None):
        """Covariances from second moments about the frames and the means' ``offsets`` from them.

        Components in ``skip`` (emptied ones, whose previous covariance is
        kept) are not floored.
        """
        covariances = second / nk[:, None, None] - offsets[:, :, None] * offsets[:, None, :]
        covariances = 0.5 * (covariances + covariances.transpose(0, 2, 1))
        for j in range(len(covariances)):
            if skip is None or not skip[j]:
                covariances[j] = floor_eigenvalues(covariances[j], reg_covar, f"component {j}")
        return covariances

    @staticmethod
    def precision_cholesky(covariances):
        """Upper factors ``U_k`` with ``U_k U_k^T = Sigma_k^{-1}``, as scikit-learn stores them."""
        k, p, _ = covariances.shape
        out = np.empty_like(covariances)
        for j in range(k):
            try:
                chol = linalg.cholesky(covariances[j], lower=True)
            except linalg.LinAlgError:
                raise _cholesky_error(f"component {j}") from None
            out[j] = linalg.solve_triangular(chol, np.eye(p), lower=True).T
        return out

    @staticmethod
    def log_det(precisions_cholesky):
        """``log|U_k|``, half the log-determinant of the precision: (k,)."""
        return np.log(np.diagonal(precisions_cholesky, axis1=1, axis2=2)).sum(axis=1)

    @staticmethod
    def exact_squares(X, means, precisions_cholesky):
        """``|U_k^T (x_n - mu_k)|^2`` from the differences: (n, k)."""
        out = np.empty((X.shape[0], means.shape[0]))
        for j, (mean, factor) in enumerate(zip(means, precisions_cholesky, strict=True)):
            projected = (X - mean) @ factor
            out[:, j] = np.einsum("np,np->n", projected, projected)
        return out

    @staticmethod
    def log_prob(X, means, precisions_cholesky):
        """``log N(x_n | mu_k, Sigma_k)`` for all rows and components in one product: (n, k)."""
        n, p = X.shape
        k = means.shape[0]
        stacked = precisions_cholesky.transpose(1, 0, 2).reshape(p, k * p)
        shifted = np.einsum("kp,kpq->kq", means, precisions_cholesky)
        projected = X @ stacked
        centres = np.einsum("kp,kp->k", shifted, shifted)
        # |x U_k|^2 <= |x|^2 |U_k|_F^2: a bound from one pass over the rows.
        bound = np.einsum("np,np->n", X, X).max(initial=0.0) * np.max(np.sum(precisions_cholesky**2, axis=(1, 2)))
        bound += centres.max()
        magnitude = None
        if bound > CANCELLATION_LIMIT * p:
            magnitude = np.einsum("nkp,nkp->nk", projected.reshape(n, k, p), projected.reshape(n, k, p)) + centres
        projected -= shifted.reshape(k * p)
        squares = np.einsum("nkp,nkp->nk", projected.reshape(n, k, p), projected.reshape(n, k, p))
        squares = refine_squares(X, means, precisions_cholesky, squares, magnitude, bound, Full.exact_squares)
        return -0.5 * (p * _LOG_2PI + squares) + Full.log_det(precisions_cholesky)

    @staticmethod
    def n_parameters(k, p):
        return k * p * (p + 1) // 2

    @staticmethod
    def to_full(covariances, k, p):
        return covariances

    @staticmethod
    def precision_cholesky_to_covariance(precisions_cholesky, k, p):
        precisions = precisions_cholesky @ precisions_cholesky.transpose(0, 2, 1)
        return np.linalg.inv(precisions)

    @staticmethod
    def draw(rng, k, p, eigenvalue_range):
        """Random covariances for synthetic data, with eigenvalues in ``eigenvalue_range``.

        Each component gets random axes (a Haar rotation) and eigenvalues
        uniform in the range. The draws are taken from ``rng`` in a fixed
        order (rotation, then eigenvalues, component by component), which is
        part of the output: a seed gives the same data in every release.

        Parameters
        ----------
        rng : numpy.random.RandomState
            The generator every draw comes from.
        k : int
            Number of components.
        p : int
            Number of features.
        eigenvalue_range : tuple of float
            ``(low, high)``, positive, of the covariances' eigenvalues.

        Returns
        -------
        covariances : ndarray
            In this structure's storage: (k, p, p) full, (p, p) tied, (k, p)
            diag, (k,) spherical.
        full : ndarray of shape (k, p, p)
            The same covariances as full matrices.
        """
        covariances = np.array([_random_covariance(rng, p, eigenvalue_range) for _ in range(k)])
        return covariances, Full.to_full(covariances, k, p)


class Tied(Full):
    """One covariance matrix shared by all components (mclust's EEE)."""

    name = "tied"
    constant_second = True
    shape = staticmethod(lambda k, p: (p, p))

    @staticmethod
    def keep_previous(covariance, previous, empty):
        # One covariance for all: an empty component does not own it.
        return covariance

    @staticmethod
    def unit(k, p):
        return np.eye(p)

    @staticmethod
    def precision_to_cholesky(precisions):
        return linalg.cholesky(precisions, lower=True)

    @staticmethod
    def second_moment(X, resp, frames, far):
        """``sum_k sum_n r_nk (x_n - f_k)(x_n - f_k)^T``: (p, p), or None when no
        component is far, for then it is ``sum_n x_n x_n^T``, the same for every
        responsibility, which the M-step adds once."""
        if not far.any():
            return None
        near = resp[:, ~far].sum(axis=1)
        out = (X * near[:, None]).T @ X
        out += Full.second_moment(X, resp[:, far], frames[far], far[far]).sum(axis=0)
        return out

    @staticmethod
    def from_full(second):
        return second.sum(axis=0)

    @staticmethod
    def moment_diagonal(nk, second):
        return np.diag(second)[None] / nk.sum()

    @staticmethod
    def precision_diagonal(precision_cholesky, p):
        return np.sum(precision_cholesky**2, axis=1)[None]

    @staticmethod
    def estimate(nk, offsets, second, reg_covar, skip=None, previous=None):
        covariance = (second - (nk[:, None] * offsets).T @ offsets) / nk.sum()
        return floor_eigenvalues(0.5 * (covariance + covariance.T), reg_covar, "the shared covariance")

    @staticmethod
    def precision_cholesky(covariance):
        try:
            return Full.precision_cholesky(covariance[None])[0]
        except ValueError:
            raise _cholesky_error("the shared covariance") from None

    @staticmethod
    def log_det(precision_cholesky):
        return np.log(np.diag(precision_cholesky)).sum()

    @staticmethod
    def exact_squares(X, means, precision_cholesky):
        factors = np.broadcast_to(precision_cholesky, (len(means),) + precision_cholesky.shape)
        return Full.exact_squares(X, means, factors)

    @staticmethod
    def log_prob(X, means, precision_cholesky):
        """One product ``X U`` and one ``(X U)(M U)^T``: the cost of a diagonal model."""
        p = X.shape[1]
        projected = X @ precision_cholesky
        centres = means @ precision_cholesky
        rows = np.einsum("np,np->n", projected, projected)
        sizes = np.einsum("kp,kp->k", centres, centres)
        squares = projected @ centres.T
        squares *= -2.0
        squares += rows[:, None]
        squares += sizes
        squares = refine_squares(X, means, precision_cholesky, squares, lambda: rows[:, None] + sizes,
                          rows.max(initial=0.0) + sizes.max(), Tied.exact_squares)
        return -0.5 * (p * _LOG_2PI + squares) + Tied.log_det(precision_cholesky)

    @staticmethod
    def n_parameters(k, p):
        return p * (p + 1) // 2

    @staticmethod
    def to_full(covariance, k, p):
        return np.broadcast_to(covariance, (k, p, p)).copy()

    @staticmethod
    def precision_cholesky_to_covariance(precision_cholesky, k, p):
        return np.linalg.inv(precision_cholesky @ precision_cholesky.T)

    @staticmethod
    def draw(rng, k, p, eigenvalue_range):
        """One random covariance shared by all components: (p, p) and its (k, p, p) copies."""
        covariance = _random_covariance(rng, p, eigenvalue_range)
        return covariance, Tied.to_full(covariance, k, p)


class Diag:
    """A diagonal covariance per component (mclust's VVI)."""

    name = "diag"
    constant_second = False
    stores_matrices = False
    shape = staticmethod(lambda k, p: (k, p))
    keep_previous = Full.keep_previous

    @staticmethod
    def unit(k, p):
        return np.ones((k, p))

    @staticmethod
    def precision_to_cholesky(precisions):
        return np.sqrt(precisions)

    @staticmethod
    def precisions(precisions_cholesky):
        return precisions_cholesky**2

    @staticmethod
    def second_moment(X, resp, frames, far):
        """``sum_n r_nk (x_n - f_k)^2`` elementwise: (k, p); one product for the components at the origin."""
        out = resp.T @ (X * X)
        for j in np.flatnonzero(far):
            out[j] = resp[:, j] @ (X - frames[j]) ** 2
        return out

    @staticmethod
    def from_full(second):
        return np.diagonal(second, axis1=1, axis2=2).copy()

    @staticmethod
    def moment_diagonal(nk, second):
        return second / nk[:, None]

    @staticmethod
    def precision_diagonal(precisions_cholesky, p):
        return precisions_cholesky**2

    @staticmethod
    def estimate(nk, offsets, second, reg_covar, skip=None, previous=None):
        return np.maximum(second / nk[:, None] - offsets**2, reg_covar)

    @staticmethod
    def precision_cholesky(variances):
        if np.any(variances <= 0.0):
            raise _cholesky_error(f"component {int(np.argmin(np.min(np.atleast_2d(variances), axis=-1)))}")
        return 1.0 / np.sqrt(variances)

    @staticmethod
    def log_det(precisions_cholesky):
        return np.log(precisions_cholesky).sum(axis=1)

    @staticmethod
    def exact_squares(X, means, precisions_cholesky):
        """``sum_j (x_nj - mu_kj)^2 / s_kj`` from the differences: (n, k)."""
        scaled = (X[:, None, :] - means[None]) * precisions_cholesky[None]
        return np.einsum("nkp,nkp->nk", scaled, scaled)

    @staticmethod
    def log_prob(X, means, precisions_cholesky):
        """``sum_j (x_j - mu_kj)^2 / s_kj`` expanded into two products with ``X`` and ``X^2``."""
        p = X.shape[1]
        precisions = precisions_cholesky**2
        magnitude = (X * X) @ precisions.T + np.sum(means**2 * precisions, axis=1)
        squares = X @ (means * precisions).T
        squares *= -2.0
        squares += magnitude
        squares = refine_squares(X, means, precisions_cholesky, squares, magnitude, magnitude.max(initial=0.0),
                          Diag.exact_squares)
        return -0.5 * (p * _LOG_2PI + squares) + Diag.log_det(precisions_cholesky)

    @staticmethod
    def n_parameters(k, p):
        return k * p

    @staticmethod
    def to_full(variances, k, p):
        full = np.zeros((k, p, p))
        full[:, np.arange(p), np.arange(p)] = variances
        return full

    @staticmethod
    def draw(rng, k, p, eigenvalue_range):
        """Variances uniform in ``eigenvalue_range`` along the coordinate axes: (k, p) and (k, p, p)."""
        variances = rng.uniform(*eigenvalue_range, size=(k, p))
        return variances, Diag.to_full(variances, k, p)

    @staticmethod
    def precision_cholesky_to_covariance(precisions_cholesky, k, p):
        return 1.0 / precisions_cholesky**2


class Spherical(Diag):
    """One variance per component, the same in every direction (mclust's VII)."""

    name = "spherical"
    shape = staticmethod(lambda k, p: (k,))

    @staticmethod
    def unit(k, p):
        return np.ones(k)

    @staticmethod
    def estimate(nk, offsets, second, reg_covar, skip=None, previous=None):
        return np.maximum(np.mean(second / nk[:, None] - offsets**2, axis=1), reg_covar)

    @staticmethod
    def precision_diagonal(precisions_cholesky, p):
        return np.repeat((precisions_cholesky**2)[:, None], p, axis=1)

    @staticmethod
    def precision_cholesky(variances):
        if np.any(variances <= 0.0):
            raise _cholesky_error(f"component {int(np.argmin(variances))}")
        return 1.0 / np.sqrt(variances)

    @staticmethod
    def log_det(precisions_cholesky, p):
        return p * np.log(precisions_cholesky)

    @staticmethod
    def exact_squares(X, means, precisions_cholesky):
        return Diag.exact_squares(X, means, np.broadcast_to(precisions_cholesky[:, None], means.shape))

    @staticmethod
    def log_prob(X, means, precisions_cholesky):
        p = X.shape[1]
        precisions = precisions_cholesky**2
        rows = np.einsum("np,np->n", X, X)
        sizes = np.einsum("kp,kp->k", means, means)
        squares = X @ means.T
        squares *= -2.0
        squares += rows[:, None]
        squares += sizes
        squares *= precisions
        squares = refine_squares(X, means, precisions_cholesky, squares, lambda: (rows[:, None] + sizes) * precisions,
                          (rows.max(initial=0.0) + sizes.max()) * precisions.max(), Spherical.exact_squares)
        return -0.5 * (p * _LOG_2PI + squares) + Spherical.log_det(precisions_cholesky, p)

    @staticmethod
    def n_parameters(k, p):
        return k

    @staticmethod
    def to_full(variances, k, p):
        return variances[:, None, None] * np.eye(p)

    @staticmethod
    def draw(rng, k, p, eigenvalue_range):
        """One variance per component, uniform in ``eigenvalue_range``: (k,) and (k, p, p)."""
        variances = rng.uniform(*eigenvalue_range, size=k)
        return variances, Spherical.to_full(variances, k, p)

    @staticmethod
    def precision_cholesky_to_covariance(precisions_cholesky, k, p):
        return 1.0 / precisions_cholesky**2


# The other ten of mclust's models live in their own module, built on the classes above.
from ._parsimonious import PARSIMONIOUS  # noqa: E402

COVARIANCE_TYPES = {cls.name: cls for cls in (Full, Tied, Diag, Spherical)} | PARSIMONIOUS
# mclust's names for lvm's four structures, accepted as covariance_type.
MCLUST_ALIASES = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}
MCLUST_NAMES = {**{name: name for name in PARSIMONIOUS}, **{lvm: mclust for mclust, lvm in MCLUST_ALIASES.items()}}
# Every name covariance_type accepts, in mclust's order of its models, then lvm's four names.
MCLUST_ORDER = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")


def structure_of(covariance_type):
    """The structure class of a ``covariance_type``: lvm's name or mclust's."""
    return COVARIANCE_TYPES[MCLUST_ALIASES.get(covariance_type, covariance_type)]




def full_covariances(covariances, k, p, covariance_type=None):
    """Full ``(k, p, p)`` matrices from stored covariances, the type read from their shape if not given."""
    if covariance_type is None:
        shape = np.shape(covariances)
        candidates = [name for name, expected in (("full", (k, p, p)), ("tied", (p, p)), ("diag", (k, p)),
                                                  ("spherical", (k,))) if shape == expected]
        if len(candidates) != 1:
            raise ValueError(
                f"covariances of shape {shape} with {k} components and {p} features fit "
                f"{candidates or 'no covariance type'}; pass covariance_type."
            )
        covariance_type = candidates[0]
    return structure_of(covariance_type).to_full(np.asarray(covariances), k, p)


def sample_components(rng, means, full_covariances, counts):
    """Draw ``counts[k]`` points from each component ``N(mu_k, Sigma_k)``; return points and labels."""
    points, labels = [], []
    for j, (mean, covariance, count) in enumerate(zip(means, full_covariances, counts, strict=True)):
        points.append(rng.multivariate_normal(mean, covariance, int(count)))
        labels.append(np.full(int(count), j))
    return np.vstack(points), np.concatenate(labels)
