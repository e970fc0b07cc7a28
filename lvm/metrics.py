"""Metrics for comparing latent spaces and the models that produce them.

Loadings and latent coordinates are identified only up to rotation, sign and
order, so two fits are compared through quantities that ignore those:
principal angles between column spaces, Tucker's congruence after matching
factors, and the orthogonal Procrustes fit. Alongside these are scores of a
model or an embedding on data: reconstruction error, k-nearest-neighbour
accuracy in the latent space, trustworthiness of the embedding's neighbourhoods
and the adjusted Rand index of a clustering. Each function is a thin wrapper
over the scipy or scikit-learn routine that computes it, with input checks and
the conventions stated once in its docstring.
"""

from collections import namedtuple

import numpy as np
import pandas as pd
from scipy.linalg import orthogonal_procrustes, subspace_angles, svd
from scipy.optimize import linear_sum_assignment
from sklearn.manifold import trustworthiness as _sklearn_trustworthiness
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

__all__ = [
    "Procrustes", "adjusted_rand_index", "congruence_matrix", "knn_accuracy", "principal_angles", "procrustes",
    "reconstruction_error", "trustworthiness", "tucker_congruence",
]

Procrustes = namedtuple("Procrustes", ["aligned", "rotation", "residual"])
Procrustes.__doc__ = """Result of :func:`procrustes`: ``aligned = A @ rotation`` and the relative residual."""


def _as_matrix(M, name):
    """``M`` as a 2-D float array (a 1-D input is one column); a DataFrame gives its values."""
    M = M.to_numpy(dtype=float) if isinstance(M, (pd.DataFrame, pd.Series)) else np.asarray(M, dtype=float)
    if M.ndim == 1:
        M = M.reshape(-1, 1)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x columns); got {M.ndim} dimensions.")
    if M.size == 0:
        raise ValueError(f"{name} is empty (shape {M.shape}).")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return M


def _same_rows(A, B):
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"A and B must have the same number of rows (the variables both span); "
            f"got A with {A.shape[0]} and B with {B.shape[0]}."
        )


def principal_angles(A, B, *, degrees=True):
    """Principal angles between the column spaces of two matrices, smallest first.

    The angles ignore everything about ``A`` and ``B`` but the subspaces their
    columns span, so two loading matrices that differ by any invertible
    transformation (rotation, scaling, oblique mixing) have all angles zero.

    Parameters
    ----------
    A : array-like or DataFrame of shape (n_features, k1)
        First basis, one column per direction (e.g. loadings, ``components_.T``).
    B : array-like or DataFrame of shape (n_features, k2)
        Second basis, with the same rows as ``A``.
    degrees : bool, default=True
        Return degrees; ``False`` returns radians.

    Returns
    -------
    ndarray of shape (min(k1, k2),)
        The principal angles in ascending order, in ``[0, 90]`` degrees.

    Notes
    -----
    With :math:`Q_A, Q_B` orthonormal bases of the two column spaces, the
    angles are defined by

    .. math:: \\cos\\theta_i = \\sigma_i(Q_A^\\top Q_B), \\qquad
              0 \\le \\theta_1 \\le \\dots \\le \\theta_{\\min(k_1, k_2)} \\le \\pi/2.

    :func:`scipy.linalg.subspace_angles` computes them (through sines for the
    small angles, which cosines resolve poorly) and returns them largest first;
    here they are sorted ascending.

    References
    ----------
    Bjorck, A. and Golub, G. H. (1973). Numerical methods for computing angles
    between linear subspaces. Mathematics of Computation 27(123), 579-594.
    doi:10.1090/S0025-5718-1973-0348991-3

    Knyazev, A. V. and Argentati, M. E. (2002). Principal angles between
    subspaces in an A-based scalar product. SIAM Journal on Scientific
    Computing 23(6), 2008-2040. doi:10.1137/S1064827500377332

    Examples
    --------
    >>> import numpy as np
    >>> from lvm.metrics import principal_angles
    >>> plane = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> tilted = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> principal_angles(plane, tilted).round(6).tolist()
    [0.0, 45.0]
    """
    A = _as_matrix(A, "A")
    B = _as_matrix(B, "B")
    _same_rows(A, B)
    angles = np.sort(subspace_angles(A, B))
    return np.degrees(angles) if degrees else angles


def congruence_matrix(A, B):
    """Congruence coefficient (Tucker) between every column of ``A`` and every column of ``B``.

    Parameters
    ----------
    A : array-like or DataFrame of shape (n_features, k1)
        First loading matrix, one column per factor.
    B : array-like or DataFrame of shape (n_features, k2)
        Second loading matrix, with the same rows as ``A``.

    Returns
    -------
    ndarray of shape (k1, k2)
        ``phi[i, j]``, in ``[-1, 1]``, the congruence of column ``i`` of ``A``
        with column ``j`` of ``B``.

    Notes
    -----
    The coefficient is the cosine of the angle between two loading vectors,
    uncentred, so it is invariant to rescaling either column but not to
    shifting it:

    .. math:: \\phi_{ij} = \\frac{a_i^\\top b_j}{\\sqrt{(a_i^\\top a_i)(b_j^\\top b_j)}}.

    References
    ----------
    Tucker, L. R. (1951). A method for synthesis of factor analysis studies.
    Personnel Research Section Report No. 984. Washington, DC: Department of
    the Army.

    Lorenzo-Seva, U. and ten Berge, J. M. F. (2006). Tucker's congruence
    coefficient as a meaningful index of factor similarity. Methodology 2(2),
    57-64. doi:10.1027/1614-2241.2.2.57
    """
    A = _as_matrix(A, "A")
    B = _as_matrix(B, "B")
    _same_rows(A, B)
    norm_a = np.linalg.norm(A, axis=0)
    norm_b = np.linalg.norm(B, axis=0)
    for name, norms in (("A", norm_a), ("B", norm_b)):
        if np.any(norms == 0):
            raise ValueError(
                f"{name} has an all-zero column (column {int(np.flatnonzero(norms == 0)[0])}); "
                "its congruence with any vector is undefined."
            )
    return (A.T @ B) / np.outer(norm_a, norm_b)


def tucker_congruence(A, B, *, match=True):
    """Match each factor of ``A`` to one of ``B`` and report their Tucker congruence.

    Factors are identified only up to order and sign, so by default the
    columns of ``A`` are paired with distinct columns of ``B`` by the
    assignment that maximises the total absolute congruence, and each pair's
    sign is reported separately from its size.

    Parameters
    ----------
    A : array-like or DataFrame of shape (n_features, k1)
        Loading matrix whose factors are matched, one column per factor.
    B : array-like or DataFrame of shape (n_features, k2)
        Reference loading matrix, with the same rows as ``A`` and
        ``k2 >= k1`` columns.
    match : bool, default=True
        Pair the factors by the optimal assignment; ``False`` pairs column
        ``j`` of ``A`` with column ``j`` of ``B``.

    Returns
    -------
    DataFrame
        One row per column of ``A``, indexed by ``A``'s column names when it is
        a DataFrame and ``F1, F2, ...`` otherwise, with columns ``matched``
        (position of the paired column of ``B``), ``sign`` (``+1`` or ``-1``,
        the sign of the raw coefficient) and ``congruence`` (the coefficient
        after the sign flip, so positive for aligned factors).

    Notes
    -----
    With :math:`\\phi` from :func:`congruence_matrix`, the matching is the
    permutation :math:`\\pi` (one-to-one into the columns of ``B``) solving

    .. math:: \\max_\\pi \\sum_i |\\phi_{i\\pi(i)}|,

    found with :func:`scipy.optimize.linear_sum_assignment` (the Hungarian
    method), and the reported congruence is
    :math:`\\operatorname{sign}(\\phi_{i\\pi(i)})\\,\\phi_{i\\pi(i)} = |\\phi_{i\\pi(i)}|`.
    The raw coefficients are the entries of R's
    ``psych::factor.congruence(A, B)`` at the matched positions (that function
    rounds to two digits unless ``digits`` is raised).

    References
    ----------
    Tucker, L. R. (1951). A method for synthesis of factor analysis studies.
    Personnel Research Section Report No. 984. Washington, DC: Department of
    the Army.

    Lorenzo-Seva, U. and ten Berge, J. M. F. (2006). Tucker's congruence
    coefficient as a meaningful index of factor similarity. Methodology 2(2),
    57-64. doi:10.1027/1614-2241.2.2.57

    Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval
    Research Logistics Quarterly 2, 83-97. doi:10.1002/nav.3800020109

    Revelle, W. psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package, function ``factor.congruence``.

    Examples
    --------
    >>> import numpy as np
    >>> from lvm.metrics import tucker_congruence
    >>> A = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> tucker_congruence(A, -A[:, ::-1])
        matched  sign  congruence
    F1        1    -1         1.0
    F2        0    -1         1.0
    """
    phi = congruence_matrix(A, B)
    k1, k2 = phi.shape
    if k1 > k2:
        raise ValueError(
            f"A has more columns ({k1}) than B ({k2}); every factor of A needs its own column of B. "
            "Swap the arguments to match the factors of B to those of A."
        )
    if match:
        _, matched = linear_sum_assignment(np.abs(phi), maximize=True)
    else:
        matched = np.arange(k1)
    paired = phi[np.arange(k1), matched]
    # A coefficient of exactly zero has no sign; +1 keeps the column as it is.
    sign = np.where(paired < 0, -1, 1)
    if isinstance(A, pd.DataFrame):
        index = pd.Index(A.columns)
    else:
        index = pd.Index([f"F{i + 1}" for i in range(k1)])
    return pd.DataFrame({"matched": matched.astype(int), "sign": sign, "congruence": sign * paired}, index=index)


def _proper_rotation(A, B):
    """Rotation with determinant +1 minimising ``||A R - B||_F`` (Kabsch's sign fix of the SVD solution)."""
    U, _, Vt = svd(A.T @ B)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        # Flipping the direction of least singular value costs the least fit.
        U = U.copy()
        U[:, -1] = -U[:, -1]
    return U @ Vt


def procrustes(A, B, *, reflection=True):
    """Orthogonal Procrustes alignment of ``A`` onto ``B``.

    Latent coordinates or loadings from two fits of a rotation-invariant model
    agree only up to an orthogonal transformation; this finds it.

    Parameters
    ----------
    A : array-like or DataFrame of shape (n, k)
        Matrix to rotate (e.g. one fit's latent coordinates or loadings).
    B : array-like or DataFrame of shape (n, k)
        Target matrix of the same shape.
    reflection : bool, default=True
        Allow any orthogonal matrix; ``False`` restricts to proper rotations,
        ``det(R) = +1``.

    Returns
    -------
    Procrustes
        Named tuple with ``aligned`` (ndarray of shape (n, k), ``A @ R``),
        ``rotation`` (ndarray of shape (k, k), ``R``) and ``residual`` (float,
        the relative misfit ``||A R - B||_F / ||B||_F``).

    Notes
    -----
    The solution is

    .. math:: R = \\arg\\min_{R^\\top R = I} \\|A R - B\\|_F = U V^\\top,
              \\qquad A^\\top B = U \\Sigma V^\\top,

    computed with :func:`scipy.linalg.orthogonal_procrustes`. When reflections
    are excluded and :math:`\\det(U V^\\top) = -1`, the last column of
    :math:`U` (smallest singular value) changes sign:
    :math:`R = U \\operatorname{diag}(1, \\dots, 1, -1) V^\\top`.

    References
    ----------
    Schonemann, P. H. (1966). A generalized solution of the orthogonal
    Procrustes problem. Psychometrika 31, 1-10. doi:10.1007/BF02289451

    Kabsch, W. (1976). A solution for the best rotation to relate two sets of
    vectors. Acta Crystallographica A32, 922-923. doi:10.1107/S0567739476001873

    Examples
    --------
    >>> import numpy as np
    >>> from lvm.metrics import procrustes
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> quarter_turn = np.array([[0.0, 1.0], [-1.0, 0.0]])
    >>> fit = procrustes(A, A @ quarter_turn)
    >>> bool(np.allclose(fit.rotation, quarter_turn)), bool(fit.residual < 1e-12)
    (True, True)
    """
    A = _as_matrix(A, "A")
    B = _as_matrix(B, "B")
    if A.shape != B.shape:
        raise ValueError(f"A and B must have the same shape; got A {A.shape} and B {B.shape}.")
    scale = np.linalg.norm(B)
    if scale == 0:
        raise ValueError("B is all zeros, so the residual relative to ||B||_F is undefined.")
    R = orthogonal_procrustes(A, B)[0] if reflection else _proper_rotation(A, B)
    aligned = A @ R
    return Procrustes(aligned, R, float(np.linalg.norm(aligned - B) / scale))


def reconstruction_error(model, X):
    """Mean squared error of a fitted model's reconstruction of ``X``.

    Parameters
    ----------
    model : fitted lvm model
        Any object with ``reconstruct(X)``, such as :class:`lvm.PCA`,
        :class:`lvm.PPCA`, :class:`lvm.FactorAnalysis` or :class:`lvm.Autoencoder`.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Data. A DataFrame goes to the model as it is, so its column names are
        checked against those seen in fitting.

    Returns
    -------
    float
        The mean over all entries of the squared reconstruction error.

    Notes
    -----
    With :math:`\\hat X` = ``model.reconstruct(X)``,

    .. math:: \\mathrm{MSE} = \\frac{1}{n p} \\sum_{i=1}^n \\sum_{j=1}^p (\\hat x_{ij} - x_{ij})^2.

    For PCA with :math:`k` components this is the discarded variance per
    entry, the quantity PCA minimises.

    References
    ----------
    Pearson, K. (1901). On lines and planes of closest fit to systems of points
    in space. Philosophical Magazine 2(11), 559-572. doi:10.1080/14786440109462720
    """
    if isinstance(X, pd.DataFrame):
        values = X.to_numpy(dtype=float)
        reconstruction = model.reconstruct(X)
    else:
        values = np.asarray(X, dtype=float)
        reconstruction = model.reconstruct(values)
    reconstruction = np.asarray(reconstruction, dtype=float)
    if reconstruction.shape != values.shape:
        raise ValueError(
            f"The model's reconstruction has shape {reconstruction.shape}, but X has shape {values.shape}."
        )
    return float(np.mean((reconstruction - values) ** 2))


def knn_accuracy(Z, y, *, Z_test=None, y_test=None, n_neighbors=5, cv=5):
    """Accuracy of a k-nearest-neighbour classifier in the latent space.

    A latent space that keeps the class structure of the data lets a
    classifier that only looks at neighbours predict the labels well.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_components)
        Latent coordinates (e.g. ``model.transform(X)``).
    y : array-like of shape (n_samples,)
        Class labels of ``Z``.
    Z_test : array-like of shape (n_test, n_components), optional
        Held-out latent coordinates. Given with ``y_test``, the classifier is
        fitted on ``(Z, y)`` and scored here instead of cross-validated.
    y_test : array-like of shape (n_test,), optional
        Class labels of ``Z_test``.
    n_neighbors : int, default=5
        Number of neighbours that vote (uniform weights, Euclidean distance).
    cv : int or cross-validation splitter, default=5
        Folds of :func:`sklearn.model_selection.cross_val_score` when there is
        no test set. An integer means scikit-learn's default for classifiers,
        ``StratifiedKFold(cv)`` without shuffling, so the result is
        deterministic.

    Returns
    -------
    float
        Test accuracy, or the mean accuracy over the folds.

    Notes
    -----
    The accuracy of predictions :math:`\\hat y_i`, each the majority label of
    the ``n_neighbors`` training points nearest to :math:`z_i`, is

    .. math:: \\mathrm{acc} = \\frac{1}{n} \\sum_{i=1}^n [\\hat y_i = y_i].

    References
    ----------
    Cover, T. M. and Hart, P. E. (1967). Nearest neighbor pattern
    classification. IEEE Transactions on Information Theory 13(1), 21-27.
    doi:10.1109/TIT.1967.1053964
    """
    if (Z_test is None) != (y_test is None):
        given, missing = ("Z_test", "y_test") if y_test is None else ("y_test", "Z_test")
        raise ValueError(f"{given} was given without {missing}; pass both for a held-out score, or neither to "
                         "cross-validate.")
    classifier = KNeighborsClassifier(n_neighbors=n_neighbors)
    if Z_test is not None:
        return float(classifier.fit(Z, y).score(Z_test, y_test))
    return float(np.mean(cross_val_score(classifier, Z, y, cv=cv)))


def trustworthiness(X, Z, *, n_neighbors=5):
    """Trustworthiness of an embedding: how far its neighbours are neighbours in the data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    Z : array-like of shape (n_samples, n_components)
        Embedding of the same samples (e.g. ``model.transform(X)``).
    n_neighbors : int, default=5
        Size :math:`k` of the neighbourhoods compared; it must be below
        ``n_samples / 2`` for the normalisation to hold.

    Returns
    -------
    float
        Trustworthiness in ``[0, 1]``; 1 when every embedding neighbour is
        also a data neighbour.

    Notes
    -----
    With :math:`U_i^k` the samples among the :math:`k` nearest neighbours of
    sample :math:`i` in the embedding but not in the data, and :math:`r(i, j)`
    the rank of :math:`j` by distance from :math:`i` in the data,

    .. math:: T(k) = 1 - \\frac{2}{n k (2n - 3k - 1)}
              \\sum_{i=1}^n \\sum_{j \\in U_i^k} (r(i, j) - k),

    as computed by :func:`sklearn.manifold.trustworthiness` (Euclidean distances).

    References
    ----------
    Venna, J. and Kaski, S. (2001). Neighborhood preservation in nonlinear
    projection methods: an experimental study. In Artificial Neural Networks
    (ICANN 2001), Lecture Notes in Computer Science 2130, 485-491.
    doi:10.1007/3-540-44668-0_68
    """
    X = _as_matrix(X, "X")
    Z = _as_matrix(Z, "Z")
    n = X.shape[0]
    if Z.shape[0] != n:
        raise ValueError(f"X and Z must have the same number of samples; got {n} and {Z.shape[0]}.")
    if not 1 <= n_neighbors < n / 2:
        raise ValueError(
            f"n_neighbors={n_neighbors} is out of range: trustworthiness needs 1 <= n_neighbors < "
            f"n_samples / 2 = {n / 2:g} (n_samples={n})."
        )
    return float(_sklearn_trustworthiness(X, Z, n_neighbors=n_neighbors))


def adjusted_rand_index(labels_true, labels_pred):
    """Adjusted Rand index between two partitions of the same samples.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Reference cluster or class labels.
    labels_pred : array-like of shape (n_samples,)
        Labels to compare (e.g. ``GaussianMixture.predict(X)``); their values
        and order do not matter, only the partition they define.

    Returns
    -------
    float
        1 for identical partitions, about 0 for independent ones, negative for
        agreement below chance.

    Notes
    -----
    With contingency counts :math:`n_{ij}`, row sums :math:`a_i` and column
    sums :math:`b_j`, the index is the Rand index corrected for chance under
    the permutation model,

    .. math:: \\mathrm{ARI} = \\frac{\\sum_{ij} \\binom{n_{ij}}{2} - E}
              {\\tfrac12 \\left[\\sum_i \\binom{a_i}{2} + \\sum_j \\binom{b_j}{2}\\right] - E},
              \\qquad E = \\frac{\\sum_i \\binom{a_i}{2} \\sum_j \\binom{b_j}{2}}{\\binom{n}{2}},

    computed by :func:`sklearn.metrics.adjusted_rand_score`.

    References
    ----------
    Hubert, L. and Arabie, P. (1985). Comparing partitions. Journal of
    Classification 2, 193-218. doi:10.1007/BF01908075
    """
    return float(adjusted_rand_score(labels_true, labels_pred))
