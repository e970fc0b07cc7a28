"""mclust's parsimonious covariance structures beyond lvm's four.

Celeux & Govaert (1995) write every component covariance through its
eigen-decomposition,

.. math:: \\Sigma_k = \\lambda_k D_k A_k D_k^T, \\qquad |A_k| = 1,

with the volume :math:`\\lambda_k`, the shape :math:`A_k` (diagonal) and the
orientation :math:`D_k` (orthogonal) each equal across components (E),
varying (V) or, for the orientation, the coordinate axes (I). mclust names a
model by the three letters. Four of the fourteen are lvm's own structures
(VII spherical, VVI diag, EEE tied, VVV full); this module holds the other ten,
in the same storage as those: variances (k,) for EII, (k, p) for the diagonal
models EEI, VEI, EVI, and full matrices (k, p, p) for VEE, EVE, VVE, EEV, VEV,
EVV.

The M-step minimises, over the structure's covariances,

.. math:: F(\\Sigma) = \\sum_k n_k \\log|\\Sigma_k| + \\mathrm{tr}(W_k \\Sigma_k^{-1}),

with :math:`n_k = \\sum_n r_{nk}` and :math:`W_k` the weighted scatter of
component ``k`` about its new mean. EII, EEI, EVI, EEV and EVV have closed
forms (Celeux & Govaert 1995, Table 1 and section 4). VEI, VEE and VEV
alternate exact updates of the volumes and of the shape (and orientation);
EVE and VVE alternate the volumes and shapes with a majorise-minimise step
for the common orientation (Browne & McNicholas 2014): for
:math:`f(D) = \\sum_k \\mathrm{tr}(D^T W_k D \\Omega_k^{-1})` over orthogonal
``D``, :math:`W_k - \\alpha_k I` (``alpha_k`` the largest eigenvalue) is
negative semi-definite, so ``f`` lies below its tangent plane at ``D_0`` up
to a constant, and the orthogonal ``D`` that minimises the tangent plane, the
polar factor of :math:`\\sum_k (\\alpha_k I - W_k) D_0 \\Omega_k^{-1}`, does
not raise ``f``. Each iteration starts from the previous covariances, and
every update is an exact conditional minimum or a majorise-minimise step, so
``F`` never rises: EM with these M-steps is a generalised EM whose
likelihood never falls, however few inner iterations run.

``reg_covar`` is a floor on every eigenvalue. When the M-step's covariances
fall below it, their volumes are raised until the smallest eigenvalue meets
it (the structure is kept); if that is worse in ``F`` than the previous
covariances, the previous ones are kept (still a generalised M-step).
"""

import numpy as np

from .._linalg import random_orthogonal
from ._covariance import Diag, Full, Spherical

# Inner iterations of the iterative M-steps: they stop when F changes by less
# than this relative amount (mclust's default, sqrt(eps)), or after so many.
_INNER_TOL = np.sqrt(np.finfo(np.float64).eps)
_INNER_MAX = 100


def _geometric_mean(values, axis=-1):
    """``|diag(values)|^(1/p)`` along ``axis``; 0 where a value is 0."""
    with np.errstate(divide="ignore"):
        return np.exp(np.mean(np.log(values), axis=axis))


def _objective(nk, scatter, covariances, diagonal):
    """``F = sum_k n_k log|Sigma_k| + tr(W_k Sigma_k^{-1})``; inf where a covariance is not positive definite."""
    if not np.all(np.isfinite(covariances)):
        return np.inf
    if diagonal:
        if np.any(covariances <= 0.0):
            return np.inf
        total = np.sum(nk * np.log(covariances).sum(axis=1)) + np.sum(scatter / covariances)
    else:
        # Batched over components: the inner iterations call this once per step.
        try:
            chol = np.linalg.cholesky(covariances)
        except np.linalg.LinAlgError:
            return np.inf
        logdets = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        traces = np.trace(np.linalg.solve(covariances, scatter), axis1=1, axis2=2)
        total = np.sum(nk * logdets) + np.sum(traces)
    return float(total) if np.isfinite(total) else np.inf


def _descending_eigh(matrices):
    """Eigenvalues (k, p), largest first, and eigenvectors (k, p, p) of symmetric matrices."""
    values, vectors = np.linalg.eigh(matrices)
    return values[..., ::-1], vectors[..., ::-1]


def _volumes(covariances, diagonal, k, p):
    """``lambda_k = |Sigma_k|^(1/p)`` of stored covariances (k,), or ones when there are none."""
    if covariances is None:
        return np.ones(k)
    if diagonal:
        return _geometric_mean(np.broadcast_to(covariances, (k, p)))
    signs, logdets = np.linalg.slogdet(covariances)
    return np.where(signs > 0, np.exp(logdets / p), 1.0)


def _common_axes(covariances, scatter):
    """An orthogonal ``D`` that diagonalises every previous covariance of a common-orientation model.

    The eigenvectors of a combination with unequal weights: for covariances
    ``D Omega_k D^T`` its eigenvalues ``sum_k w_k Omega_kj`` coincide only
    where the columns of every ``Omega_k`` do, and then any basis of that
    eigenspace serves. Without previous covariances, the axes of the pooled
    scatter.
    """
    if covariances is None:
        return _descending_eigh(scatter.sum(axis=0))[1]
    weights = 1.0 + np.sqrt(2.0) * np.arange(len(covariances)) % 1.0
    return _descending_eigh(np.tensordot(weights, covariances, axes=1))[1]


class _Parsimonious:
    """What the ten structures share: the M-step's frame, floor and fall-back; parameter counts; draws.

    A subclass sets ``name`` (mclust's three letters), derives from the
    structure whose storage it uses, and defines ``propose(nk, scatter,
    previous, p)``, the minimiser of ``F`` in its storage.
    """

    constant_second = False

    @classmethod
    def estimate(cls, nk, offsets, second, reg_covar, skip=None, previous=None):
        """Covariances of the structure from second moments about the frames; see the module notes.

        Components in ``skip`` (emptied ones) take no part: they keep their
        previous covariances (identity ones when there are none).
        """
        k, p = offsets.shape
        if cls.stores_matrices:
            scatter = second - nk[:, None, None] * offsets[:, :, None] * offsets[:, None, :]
            scatter = 0.5 * (scatter + scatter.transpose(0, 2, 1))
        else:
            scatter = second - nk[:, None] * offsets**2
        live = np.ones(k, dtype=bool) if skip is None else ~np.asarray(skip)
        out = cls.unit(k, p) if previous is None else np.array(previous, dtype=np.float64)
        before = None if previous is None else out[live]
        with np.errstate(all="ignore"):
            try:
                proposal = cls.propose(nk[live], scatter[live], before, p)
            except (np.linalg.LinAlgError, ValueError):
                # Scatters too singular for the structure's algebra: no proposal, the floor decides.
                proposal = np.full(out[live].shape, np.nan)
        out[live] = cls._settle(proposal, nk[live], scatter[live], before, reg_covar, p)
        return out

    @classmethod
    def _settle(cls, proposal, nk, scatter, previous, reg_covar, p):
        """The proposal if it meets the floor; else the better (in ``F``) of it with its
        volumes raised to meet the floor and the previous covariances."""
        k = len(nk)
        full = cls.to_full(proposal, k, p) if np.all(np.isfinite(proposal)) else None
        smallest = None if full is None else np.linalg.eigvalsh(full)[:, 0]
        if smallest is not None and np.all(smallest >= reg_covar):
            return proposal
        candidates = []
        if smallest is not None and reg_covar > 0.0 and np.all(smallest > 0.0):
            with np.errstate(over="ignore"):
                factor = np.maximum(reg_covar / smallest, 1.0)
            if cls.name[0] == "E":
                factor = np.full(k, factor.max())
            if np.all(np.isfinite(factor)):
                candidates.append(proposal * factor.reshape((k,) + (1,) * (proposal.ndim - 1)))
        if previous is not None:
            candidates.append(previous)
        diagonal = not cls.stores_matrices
        scores = [_objective(nk, scatter, candidate, diagonal) for candidate in candidates]
        if not candidates or not np.isfinite(min(scores)):
            raise ValueError(
                f"the {cls.name} covariances are singular: the components hold too few points, or points "
                f"too nearly on a subspace, for this structure, and reg_covar={reg_covar:g} does not hold them "
                "away from zero. Use reg_covar > 0, fewer components, or a structure with fewer parameters."
            )
        return candidates[int(np.argmin(scores))]

    @classmethod
    def n_parameters(cls, k, p):
        """mclust's ``nVarParams``: free parameters of the ``k`` covariances."""
        rotations = p * (p - 1) // 2
        volume = 1 if cls.name[0] == "E" else k
        shape = {"I": 0, "E": p - 1, "V": k * (p - 1)}[cls.name[1]]
        orientation = {"I": 0, "E": rotations, "V": k * rotations}[cls.name[2]]
        return volume + shape + orientation

    @classmethod
    def draw(cls, rng, k, p, eigenvalue_range):
        """Random covariances of this structure for synthetic data.

        Volumes, shapes and orientations are drawn as the structure lets them
        vary: a shape is ``e / |diag(e)|^(1/p)`` for eigenvalues ``e``
        uniform in ``eigenvalue_range``, a volume the geometric mean of
        another such draw, an orientation a Haar rotation; one draw of a part
        serves every component where the part is equal (E). The draws come
        from ``rng`` in a fixed order (volumes, shapes, orientations), part of
        the output: a seed gives the same data in every release.

        Parameters
        ----------
        rng : numpy.random.RandomState
            The generator every draw comes from.
        k : int
            Number of components.
        p : int
            Number of features.
        eigenvalue_range : tuple of float
            ``(low, high)``, positive.

        Returns
        -------
        covariances : ndarray
            In this structure's storage.
        full : ndarray of shape (k, p, p)
            The same covariances as full matrices.
        """
        volume, shape, orientation = cls.name
        count = {"E": 1, "V": k}
        volumes = np.broadcast_to(_geometric_mean(rng.uniform(*eigenvalue_range, size=(count[volume], p))), (k,))
        shapes = np.ones((k, p))
        if shape != "I":
            raw = rng.uniform(*eigenvalue_range, size=(count[shape], p))
            shapes = np.broadcast_to(raw / _geometric_mean(raw)[:, None], (k, p))
        eigenvalues = volumes[:, None] * shapes
        if orientation == "I":
            covariances = eigenvalues if cls.name != "EII" else eigenvalues[:, 0].copy()
            return covariances, cls.to_full(covariances, k, p)
        axes = [random_orthogonal(rng, p, p) for _ in range(count[orientation])]
        axes = axes * k if orientation == "E" else axes
        covariances = np.array([(d * e) @ d.T for d, e in zip(axes, eigenvalues, strict=True)])
        return covariances, covariances.copy()


# ---------------------------------------------------------------- diagonal


class EII(_Parsimonious, Spherical):
    """Spherical, equal volume: ``Sigma_k = lambda I`` (stored as (k,) equal variances)."""

    name = "EII"

    @staticmethod
    def propose(nk, scatter, previous, p):
        return np.full(len(nk), scatter.sum() / (nk.sum() * p))

    @classmethod
    def _settle(cls, proposal, nk, scatter, previous, reg_covar, p):
        # The floor is the structure's own constraint here, met exactly.
        return np.maximum(proposal, reg_covar)


class EEI(_Parsimonious, Diag):
    """Diagonal, equal volume and shape: ``Sigma_k = lambda B``, one diagonal for all."""

    name = "EEI"

    @staticmethod
    def propose(nk, scatter, previous, p):
        return np.broadcast_to(scatter.sum(axis=0) / nk.sum(), (len(nk), p)).copy()

    @classmethod
    def _settle(cls, proposal, nk, scatter, previous, reg_covar, p):
        return np.maximum(proposal, reg_covar)


class VEI(_Parsimonious, Diag):
    """Diagonal, varying volume, equal shape: ``Sigma_k = lambda_k B``.

    Alternates ``B = diag(sum_k W_k / lambda_k)`` (normalised to ``|B| = 1``)
    and ``lambda_k = tr(W_k B^{-1}) / (p n_k)``, from the previous volumes.
    """

    name = "VEI"

    @staticmethod
    def propose(nk, scatter, previous, p):
        volumes = _volumes(previous, True, len(nk), p)
        last = np.inf
        for _ in range(_INNER_MAX):
            shape = (scatter / volumes[:, None]).sum(axis=0)
            shape = shape / _geometric_mean(shape)
            volumes = np.maximum((scatter / shape).sum(axis=1) / (p * nk), np.finfo(np.float64).tiny)
            covariances = volumes[:, None] * shape
            value = _objective(nk, scatter, covariances, True)
            if not np.isfinite(value) or abs(last - value) <= _INNER_TOL * abs(value):
                break
            last = value
        return covariances


class EVI(_Parsimonious, Diag):
    """Diagonal, equal volume, varying shape: ``Sigma_k = lambda B_k``.

    Closed form: ``B_k = diag(W_k) / |diag(W_k)|^(1/p)``,
    ``lambda = sum_k |diag(W_k)|^(1/p) / n``.
    """

    name = "EVI"

    @staticmethod
    def propose(nk, scatter, previous, p):
        sizes = _geometric_mean(scatter)
        with np.errstate(invalid="ignore", divide="ignore"):
            # Shapes first: a volume times a scatter can underflow at extreme scales.
            return scatter / sizes[:, None] * (sizes.sum() / nk.sum())


# -------------------------------------------------------------------- full


class VEE(_Parsimonious, Full):
    """Varying volume, equal shape and orientation: ``Sigma_k = lambda_k C``, ``|C| = 1``.

    Alternates ``C = sum_k W_k / lambda_k`` (normalised to ``|C| = 1``) and
    ``lambda_k = tr(W_k C^{-1}) / (p n_k)``, from the previous volumes.
    """

    name = "VEE"

    @staticmethod
    def propose(nk, scatter, previous, p):
        volumes = _volumes(previous, False, len(nk), p)
        last = np.inf
        for _ in range(_INNER_MAX):
            common = np.tensordot(1.0 / volumes, scatter, axes=1)
            sign, logdet = np.linalg.slogdet(common)
            if sign <= 0:
                return np.full_like(scatter, np.nan)
            common = common / np.exp(logdet / p)
            inverse = np.linalg.inv(common)
            volumes = np.maximum(np.einsum("kij,ji->k", scatter, inverse) / (p * nk), np.finfo(np.float64).tiny)
            covariances = volumes[:, None, None] * common
            value = _objective(nk, scatter, covariances, False)
            if not np.isfinite(value) or abs(last - value) <= _INNER_TOL * abs(value):
                break
            last = value
        return covariances


class _CommonAxes(_Parsimonious, Full):
    """EVE and VVE: one orientation ``D``, per-component eigenvalues ``Omega_k`` (diagonal).

    Given ``D``, ``E_k = diag(D^T W_k D)`` gives the eigenvalues in closed
    form (``volume_eigenvalues``); given those, ``D`` takes one
    majorise-minimise step (module notes).
    """

    @classmethod
    def propose(cls, nk, scatter, previous, p):
        axes = _common_axes(previous, scatter)
        largest = np.linalg.eigvalsh(scatter)[:, -1]
        last = np.inf
        for _ in range(_INNER_MAX):
            rotated = np.einsum("ij,kil,lj->kj", axes, scatter, axes)
            eigenvalues = cls.volume_eigenvalues(nk, rotated)
            if not np.all(eigenvalues > 0.0):
                return np.full_like(scatter, np.nan)
            covariances = np.einsum("ij,kj,lj->kil", axes, eigenvalues, axes)
            value = _objective(nk, scatter, covariances, False)
            if not np.isfinite(value) or abs(last - value) <= _INNER_TOL * abs(value):
                break
            last = value
            # sum_k (alpha_k I - W_k) D Omega_k^{-1}; its polar factor is the next D.
            gradient = np.einsum("k,ij,kj->ij", largest, axes, 1.0 / eigenvalues)
            gradient -= np.einsum("kil,lj,kj->ij", scatter, axes, 1.0 / eigenvalues)
            left, _, right = np.linalg.svd(gradient)
            axes = left @ right
        return covariances


class EVE(_CommonAxes):
    """Equal volume, varying shape, equal orientation: ``Sigma_k = lambda D A_k D^T``.

    Given ``D``: ``A_k = E_k / |E_k|^(1/p)``, ``lambda = sum_k |E_k|^(1/p) / n``.
    """

    name = "EVE"

    @staticmethod
    def volume_eigenvalues(nk, rotated):
        sizes = _geometric_mean(rotated)
        with np.errstate(invalid="ignore", divide="ignore"):
            return rotated / sizes[:, None] * (sizes.sum() / nk.sum())


class VVE(_CommonAxes):
    """Varying volume and shape, equal orientation: ``Sigma_k = lambda_k D A_k D^T``.

    Given ``D``: ``lambda_k A_k = E_k / n_k``.
    """

    name = "VVE"

    @staticmethod
    def volume_eigenvalues(nk, rotated):
        return rotated / nk[:, None]


class EEV(_Parsimonious, Full):
    """Equal volume and shape, varying orientation: ``Sigma_k = lambda D_k A D_k^T``.

    Closed form: with ``W_k = L_k Omega_k L_k^T`` (eigenvalues largest first),
    ``D_k = L_k`` and ``lambda A = sum_k Omega_k / n``.
    """

    name = "EEV"

    @staticmethod
    def propose(nk, scatter, previous, p):
        values, vectors = _descending_eigh(scatter)
        eigenvalues = values.sum(axis=0) / nk.sum()
        return np.einsum("kij,j,klj->kil", vectors, eigenvalues, vectors)


class VEV(_Parsimonious, Full):
    """Varying volume, equal shape, varying orientation: ``Sigma_k = lambda_k D_k A D_k^T``.

    Alternates, from the previous volumes, ``D_k = L_k`` and
    ``A = sum_k Omega_k / lambda_k`` (normalised; the exact minimum over
    orientations and shape given the volumes, by von Neumann's trace
    inequality) and ``lambda_k = sum_j Omega_kj / a_j / (p n_k)``.
    """

    name = "VEV"

    @staticmethod
    def propose(nk, scatter, previous, p):
        values, vectors = _descending_eigh(scatter)
        values = np.maximum(values, 0.0)
        volumes = _volumes(previous, False, len(nk), p)
        last = np.inf
        for _ in range(_INNER_MAX):
            shape = (values / volumes[:, None]).sum(axis=0)
            shape = shape / _geometric_mean(shape)
            volumes = np.maximum((values / shape).sum(axis=1) / (p * nk), np.finfo(np.float64).tiny)
            covariances = np.einsum("kij,kj,klj->kil", vectors, volumes[:, None] * shape, vectors)
            value = _objective(nk, scatter, covariances, False)
            if not np.isfinite(value) or abs(last - value) <= _INNER_TOL * abs(value):
                break
            last = value
        return covariances


class EVV(_Parsimonious, Full):
    """Equal volume, varying shape and orientation: ``Sigma_k = lambda C_k``, ``|C_k| = 1``.

    Closed form: ``C_k = W_k / |W_k|^(1/p)``, ``lambda = sum_k |W_k|^(1/p) / n``.
    """

    name = "EVV"

    @staticmethod
    def propose(nk, scatter, previous, p):
        signs, logdets = np.linalg.slogdet(scatter)
        if np.any(signs <= 0):
            return np.full_like(scatter, np.nan)
        sizes = np.exp(logdets / p)
        return scatter / sizes[:, None, None] * (sizes.sum() / nk.sum())


PARSIMONIOUS = {cls.name: cls for cls in (EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV)}
