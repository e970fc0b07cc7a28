"""Small numerical kernels shared by the models.

Pure functions of arrays: no estimator state, no input validation. Shapes are
documented on each function. Low-rank-plus-diagonal Gaussians have their own
module, :mod:`lvm._lowrank`.
"""

import contextlib
import functools
import threading

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import eigsh
from threadpoolctl import ThreadpoolController

_LOG_2PI = np.log(2.0 * np.pi)

# Below this size a dense symmetric eigensolver beats Lanczos iterations.
_DENSE_EIGH_MAX = 600


def flip_signs(components):
    """Make the largest-magnitude entry of each row positive.

    Eigenvectors and singular vectors are defined up to sign; fixing it makes
    results reproducible (scikit-learn's ``svd_flip`` with
    ``u_based_decision=False`` uses the same rule).

    Parameters
    ----------
    components : ndarray of shape (k, p)

    Returns
    -------
    signs : ndarray of shape (k,)
        The factors (+1 or -1) that were applied, so that callers can flip
        the matching scores or left singular vectors too.
    """
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), idx])
    signs[signs == 0] = 1.0
    components *= signs[:, None]
    return signs


def eigh_top(matrix, k):
    """Top ``k`` eigenpairs of a symmetric positive semi-definite matrix.

    Uses a dense LAPACK solver (``syevr`` on the wanted index range) for small
    matrices or large ``k``, and implicitly restarted Lanczos (ARPACK, run to
    machine precision from a fixed start vector, so the result is
    deterministic) when few eigenpairs of a large matrix are wanted.

    Parameters
    ----------
    matrix : ndarray of shape (m, m)
        Symmetric; only its values are read.
    k : int
        Number of eigenpairs, ``1 <= k <= m``.

    Returns
    -------
    values : ndarray of shape (k,)
        Eigenvalues in decreasing order.
    vectors : ndarray of shape (m, k)
        Matching orthonormal eigenvectors.
    """
    m = matrix.shape[0]
    if m <= _DENSE_EIGH_MAX or 4 * k >= m:
        values, vectors = linalg.eigh(matrix, subset_by_index=[m - k, m - 1], driver="evr")
    else:
        start = np.random.default_rng(0).standard_normal(m)
        values, vectors = eigsh(matrix, k=k, which="LA", tol=0.0, v0=start)
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order]



def random_orthogonal(rng, p, k):
    """A matrix with orthonormal columns, uniformly (Haar) distributed.

    Parameters
    ----------
    rng : numpy.random.RandomState
        Draws ``p * k`` standard normals.
    p, k : int
        Numbers of rows and columns, ``k <= p``.

    Returns
    -------
    basis : ndarray of shape (p, k)
        Orthonormal columns: a random rotation when ``k == p``.
    """
    q, r = np.linalg.qr(rng.standard_normal((p, k)))
    # QR alone is not Haar: the signs of R's diagonal would bias the columns.
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)

@functools.lru_cache(maxsize=1)
def _blas_controller():
    # Built on first use, once numpy's and scipy's BLAS libraries are loaded;
    # a controller's limit() then costs microseconds.
    return ThreadpoolController().select(user_api="blas")


# Thread limits are process-wide, so single-thread sections entered from
# several threads share one limiter: the first to enter saves the caller's
# setting, the last to leave restores it. Without this, a section entered
# while another is open saves "1" as the setting to restore, and the process
# stays pinned to one BLAS thread after both have left.
_PIN_LOCK = threading.Lock()
_pin = {"depth": 0, "limiter": None, "threads": None}


def blas_threads():
    """Threads the loaded BLAS libraries may use (the largest of their settings).

    Inside a single-thread section this is the caller's setting, not the
    temporary limit of one.
    """
    with _PIN_LOCK:
        if _pin["depth"]:
            return _pin["threads"]
    return max((lib.num_threads for lib in _blas_controller().lib_controllers), default=1)


@contextlib.contextmanager
def single_blas_thread():
    """Context manager running BLAS single-threaded, for loops of small products.

    For matrices of a few dozen rows a second BLAS thread mostly waits on the
    first, and stalls whenever another process holds the other core. Safe
    to enter from several threads at once: the caller's setting is restored
    when the last section closes.
    """
    with _PIN_LOCK:
        if _pin["depth"] == 0:
            controller = _blas_controller()
            _pin["threads"] = max((lib.num_threads for lib in controller.lib_controllers), default=1)
            _pin["limiter"] = controller.limit(limits=1)
        _pin["depth"] += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _pin["depth"] -= 1
            if _pin["depth"] == 0:
                _pin["limiter"].restore_original_limits()
                _pin["limiter"] = None


# Up to this many variables the p x p products of an iteration are too small
# for a second BLAS thread to help.
SINGLE_THREAD_MAX_P = 256


def small_problem_threads(p):
    """Single-threaded BLAS (:func:`single_blas_thread`) for iterations on ``p x p`` matrices with small ``p``.

    Their products and factorisations are too small for a second thread to
    help, and on a busy machine each tiny call can stall for milliseconds on it.
    """
    return single_blas_thread() if p <= SINGLE_THREAD_MAX_P else contextlib.nullcontext()


def floor_eigenvalues(covariance, floor):
    """The covariance with its eigenvalues raised to at least ``floor``.

    This maximises ``-log|S| - tr(S^{-1} C)`` over ``S`` with eigenvalues
    ``>= floor``; when no eigenvalue is below the floor nothing changes, and
    only then is the eigendecomposition skipped (a Cholesky factor proves it).
    """
    shifted = covariance - floor * np.eye(len(covariance))
    try:
        linalg.cholesky(shifted, lower=True)
        return covariance
    except linalg.LinAlgError:
        values, vectors = linalg.eigh(covariance)
        return (vectors * np.maximum(values, floor)) @ vectors.T
