"""Numerical kernels of the numpy autoencoder: layers, activations, gradients, Adam.

The network's weights and biases live in one flat parameter vector; each
layer's ``W`` (shape ``(n_in, n_out)``) and ``b`` (shape ``(n_out,)``) are views
into it, weights first and biases after. One vector makes Adam a handful of
whole-array operations instead of a loop over layers, lets weight decay touch
the weights in one slice, and makes "keep the best weights" a single copy.

Every kernel here works in place on buffers the caller owns, so that a
training epoch allocates nothing per mini-batch.
"""

import numpy as np
from scipy.special import expit


def _identity(z):
    return z


def _tanh(z):
    return np.tanh(z, out=z)


def _relu(z):
    return np.maximum(z, 0, out=z)


def _sigmoid(z):
    return expit(z, out=z)


# Each derivative is written in terms of the layer's *output* h = f(z), which is
# what the forward pass keeps, and multiplies ``delta`` by f'(z) in place.
def _identity_derivative(h, delta, work):
    return delta


def _tanh_derivative(h, delta, work):
    np.multiply(h, h, out=work)
    np.subtract(1, work, out=work)
    return np.multiply(delta, work, out=delta)


def _relu_derivative(h, delta, work):
    np.greater(h, 0, out=work)
    return np.multiply(delta, work, out=delta)


def _sigmoid_derivative(h, delta, work):
    np.subtract(1, h, out=work)
    np.multiply(work, h, out=work)
    return np.multiply(delta, work, out=delta)


ACTIVATIONS = {"linear": _identity, "tanh": _tanh, "relu": _relu, "sigmoid": _sigmoid}
DERIVATIVES = {
    "linear": _identity_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
    "sigmoid": _sigmoid_derivative,
}


def layer_sizes(n_features, hidden, n_components):
    """Widths of a symmetric autoencoder: ``[p, *hidden, k, *reversed(hidden), p]``."""
    hidden = list(hidden)
    return [n_features, *hidden, n_components, *hidden[::-1], n_features]


def layer_activations(hidden, activation, output_activation):
    """Activation of each layer: hidden layers ``activation``, the bottleneck
    linear, the output ``output_activation`` (linear when None)."""
    n_hidden = len(hidden)
    return [activation] * n_hidden + ["linear"] + [activation] * n_hidden + [output_activation or "linear"]


def n_weights(sizes):
    """Number of weights (not biases) of the layers between ``sizes``."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def unpack(flat, sizes):
    """Views ``(coefs, intercepts)`` of a flat parameter vector.

    Parameters
    ----------
    flat : ndarray of shape (n_parameters,)
        Weights of every layer (row-major), then the biases of every layer.
    sizes : list of int
        Layer widths, input first.

    Returns
    -------
    coefs : list of ndarray, the i-th of shape (sizes[i], sizes[i + 1])
    intercepts : list of ndarray, the i-th of shape (sizes[i + 1],)
    """
    coefs, intercepts = [], []
    start = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        coefs.append(flat[start:start + n_in * n_out].reshape(n_in, n_out))
        start += n_in * n_out
    for n_out in sizes[1:]:
        intercepts.append(flat[start:start + n_out])
        start += n_out
    return coefs, intercepts


def init_parameters(sizes, activations, rng, dtype):
    """Glorot-uniform weights and zero biases (Glorot & Bengio 2010).

    ``W ~ U(-r, r)`` with ``r = sqrt(6 / (n_in + n_out))``, and
    ``r = sqrt(2 / (n_in + n_out))`` for sigmoid layers, the bounds
    scikit-learn's MLP uses.
    """
    flat = np.zeros(n_weights(sizes) + sum(sizes[1:]), dtype=dtype)
    coefs, _ = unpack(flat, sizes)
    for W, act in zip(coefs, activations, strict=True):
        factor = 2.0 if act == "sigmoid" else 6.0
        bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
        W[...] = rng.uniform(-bound, bound, size=W.shape)
    return flat


def forward(coefs, intercepts, activations, X, out=None):
    """Outputs of every layer for the rows of ``X``.

    ``h_0 = X``, ``h_l = f_l(h_{l-1} W_l + b_l)``.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        As returned by :func:`unpack`.
    activations : list of str
        Keys of :data:`ACTIVATIONS`, one per layer.
    X : ndarray of shape (m, sizes[0])
        Input rows.
    out : list of ndarray, optional
        Buffers of at least ``m`` rows for each layer's output; the first
        ``m`` rows are written. Allocated when None.

    Returns
    -------
    list of ndarray
        ``[h_1, ..., h_L]``, each of shape ``(m, sizes[l])``.
    """
    m = X.shape[0]
    outputs = []
    h = X
    for i, (W, b, act) in enumerate(zip(coefs, intercepts, activations, strict=True)):
        z = np.dot(h, W) if out is None else np.dot(h, W, out=out[i][:m])
        z += b
        h = ACTIVATIONS[act](z)
        outputs.append(h)
    return outputs


def loss_and_gradient(coefs, intercepts, activations, X, target, weight_decay, grad_coefs, grad_intercepts,
                      outputs=None, deltas=None, work=None, gradient_unit=1.0):
    """Mean squared reconstruction error of a mini-batch and its gradient.

    .. math::

        L = \\frac{1}{m p} \\sum_{i=1}^m \\lVert h_L(x_i) - t_i \\rVert^2
            + \\frac{\\lambda}{2} \\sum_l \\lVert W_l \\rVert_F^2

    by backpropagation (Rumelhart, Hinton & Williams 1986):
    ``delta_L = 2 (h_L - t) f_L'/(m p)``, ``dL/dW_l = h_{l-1}^T delta_l +
    lambda W_l``, ``dL/db_l = 1^T delta_l``,
    ``delta_{l-1} = (delta_l W_l^T) * f_{l-1}'``.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        Current parameters.
    activations : list of str
        One per layer.
    X : ndarray of shape (m, p)
        Input rows.
    target : ndarray of shape (m, p)
        What the output should be (``X`` itself for an autoencoder).
    weight_decay : float
        ``lambda``, the L2 penalty on the weights (not the biases).
    grad_coefs, grad_intercepts : lists of ndarray
        Written with the gradient; shapes as ``coefs`` and ``intercepts``.
    outputs, deltas, work : lists of ndarray, optional
        Buffers of at least ``m`` rows per layer (``work`` and ``deltas``
        shaped like the outputs); allocated when None.
    gradient_unit : float, default=1.0
        The gradient is written in units of this number (divided by it).
        With ``2 / (m p)`` the backpropagated sums are the answer as they
        stand and no pass over the gradient is needed to scale it; Adam then
        takes the unit (see :meth:`Adam.step`).

    Returns
    -------
    float
        ``L`` for the current parameters, the penalty included.
    """
    m, p = target.shape
    hs = forward(coefs, intercepts, activations, X, out=outputs)
    n_layers = len(coefs)
    if deltas is None:
        deltas = [np.empty_like(h) for h in hs]
        work = [np.empty_like(h) for h in hs]
    delta = np.subtract(hs[-1], target, out=deltas[-1][:m])
    sse = float(np.vdot(delta, delta))
    # The factor 2/(m p) is applied to the gradients at the end (if at all)
    # rather than to delta: backpropagation is linear in delta.
    factor = 2.0 / (m * p * gradient_unit)
    delta = DERIVATIVES[activations[-1]](hs[-1], delta, work[-1][:m])
    ones = np.ones(m, dtype=delta.dtype)
    for i in range(n_layers - 1, -1, -1):
        previous = X if i == 0 else hs[i - 1]
        np.dot(previous.T, delta, out=grad_coefs[i])
        # A matrix-vector product sums the columns faster than a reduction.
        np.dot(ones, delta, out=grad_intercepts[i])
        if i > 0:
            back = np.dot(delta, coefs[i].T, out=deltas[i - 1][:m])
            delta = DERIVATIVES[activations[i - 1]](previous, back, work[i - 1][:m])
    if factor != 1.0:
        for G in grad_coefs + grad_intercepts:
            G *= factor
    penalty = 0.0
    if weight_decay:
        for W, G in zip(coefs, grad_coefs, strict=True):
            G += (weight_decay / gradient_unit) * W
            penalty += float(np.vdot(W, W))
    return sse / (m * p) + 0.5 * weight_decay * penalty


def flat_loss_and_gradient(flat, sizes, activations, X, target, weight_decay):
    """:func:`loss_and_gradient` on a flat parameter vector; returns ``(L, gradient)``.

    Allocates everything; for tests and small problems.
    """
    coefs, intercepts = unpack(flat, sizes)
    grad = np.zeros_like(flat)
    grad_coefs, grad_intercepts = unpack(grad, sizes)
    loss = loss_and_gradient(coefs, intercepts, activations, X, target, weight_decay, grad_coefs, grad_intercepts)
    return loss, grad


def squared_error(coefs, intercepts, activations, X, batch_size):
    """Sum over rows of ``||h_L(x) - x||^2``, in batches of ``batch_size`` rows."""
    total = 0.0
    for start in range(0, X.shape[0], batch_size):
        rows = X[start:start + batch_size]
        diff = forward(coefs, intercepts, activations, rows)[-1]
        diff -= rows
        total += float(np.vdot(diff, diff))
    return total


class Adam:
    r"""Adam on a flat parameter vector (Kingma & Ba 2015, Algorithm 1).

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        \theta \leftarrow \theta - \eta \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
            \frac{m}{\sqrt{v} + \epsilon}

    (the paper's efficient form of the bias corrections, as scikit-learn's MLP
    uses). The moments are kept as ``m / ((1 - beta1) u)`` and
    ``v / ((1 - beta2) u^2)``, with ``u`` the gradient's unit: the same update,
    in two passes over memory fewer per step, and the gradient need not be
    rescaled. State and one scratch vector are allocated once.
    """

    def __init__(self, n_parameters, dtype, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.m = np.zeros(n_parameters, dtype=dtype)
        self.v = np.zeros(n_parameters, dtype=dtype)
        self.work = np.empty(n_parameters, dtype=dtype)
        self.t = 0
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def step(self, params, grad, unit=1.0):
        """Update ``params`` in place; the gradient is ``unit * grad``, with ``unit`` fixed across steps."""
        # Plain ufuncs, not BLAS axpy: OpenBLAS threads vectors of this size,
        # and a thread wake-up per step costs more than the arithmetic.
        b1, b2, work = self.beta1, self.beta2, self.work
        self.t += 1
        self.m *= b1
        self.m += grad
        np.multiply(grad, grad, out=work)
        self.v *= b2
        self.v += work
        root = np.sqrt(1.0 - b2)
        rate = self.learning_rate * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t) * (1.0 - b1) / root
        np.sqrt(self.v, out=work)
        work += self.epsilon / (root * unit)
        np.divide(self.m, work, out=work)
        work *= rate
        params -= work
