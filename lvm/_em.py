"""The one EM driver every EM model runs on.

A model supplies three callables over a ``params`` dict:

* ``init(rng) -> params``: starting values;
* ``e_step(params) -> (mean_loglik, stats)``: the mean log-likelihood per
  sample *of ``params``* and the expected sufficient statistics;
* ``m_step(stats) -> params``: the maximiser of the expected complete-data
  log-likelihood.

The driver runs the loop, records the log-likelihood after every iteration,
tests convergence on its change, keeps the best of ``n_init`` starts, warns when
EM did not converge or when the likelihood fell (EM never lets it fall, so a
drop is a numerical bug), and ends on an E-step so that the statistics it
returns belong to the returned parameters.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from .exceptions import ConvergenceWarning, LikelihoodDecreaseWarning

# A fall in mean log-likelihood smaller than this, relative to its size, is
# round-off in the sums that make up the log-likelihood, not an EM error.
_DECREASE_RTOL = 1e-10


@dataclass
class EMResult:
    """Outcome of one EM run.

    Attributes
    ----------
    params : dict
        The parameters after the last M-step.
    stats : object
        The E-step statistics of ``params``.
    history : ndarray of shape (n_iter + 1,)
        Mean log-likelihood per sample of the starting values and after each iteration.
    n_iter : int
        Number of M-steps taken.
    converged : bool
        Whether the change in mean log-likelihood fell below ``tol``.
    """

    params: dict
    stats: object
    history: np.ndarray
    n_iter: int
    converged: bool

    @property
    def loglik(self):
        return self.history[-1]


def run_em(e_step, m_step, params, *, tol, max_iter, callback=None, verbose=0, name="EM"):
    """Iterate EM from ``params`` until the mean log-likelihood changes by less than ``tol``.

    Parameters
    ----------
    e_step : callable
        ``e_step(params) -> (mean_loglik, stats)``.
    m_step : callable
        ``m_step(stats) -> params``.
    params : dict
        Starting values.
    tol : float
        Convergence threshold on the change of the mean log-likelihood per sample.
    max_iter : int
        Most M-steps to take.
    callback : callable, optional
        ``callback(iteration, params)`` after the start (iteration 0) and after
        every M-step; for teaching and monitoring. ``params`` is the model's
        parameter dict at that iteration.
    verbose : int, default=0
        Show a progress bar with the current log-likelihood when positive.
    name : str
        Model name for messages.

    Returns
    -------
    EMResult
    """
    loglik, stats = e_step(params)
    history = [loglik]
    if callback is not None:
        callback(0, params)
    converged = False
    n_iter = 0
    with tqdm(total=max_iter, desc=name, disable=not verbose, leave=False) as bar:
        for n_iter in range(1, max_iter + 1):
            params = m_step(stats)
            loglik, stats = e_step(params)
            change = loglik - history[-1]
            history.append(loglik)
            if callback is not None:
                callback(n_iter, params)
            bar.update(1)
            bar.set_postfix(loglik=f"{loglik:.6g}")
            if change < -_DECREASE_RTOL * max(1.0, abs(loglik)):
                warnings.warn(
                    f"{name}: the log-likelihood fell from {history[-2]:.10g} to {loglik:.10g} "
                    f"at iteration {n_iter}; EM cannot do that in exact arithmetic, so the "
                    "data are probably ill-conditioned (rescale them or add regularisation).",
                    LikelihoodDecreaseWarning,
                    stacklevel=3,
                )
            if abs(change) < tol:
                converged = True
                break
    if not converged and max_iter > 0:
        warnings.warn(
            f"{name} did not converge in max_iter={max_iter} iterations: the last change in "
            f"mean log-likelihood was {history[-1] - history[-2]:.3g}, above tol={tol:g}. "
            "Increase max_iter, loosen tol, or standardise the data.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return EMResult(params, stats, np.asarray(history), n_iter, converged)


def fit_em(init, e_step, m_step, *, n_init=1, rng, tol, max_iter, callback=None, verbose=0, name="EM"):
    """Run EM from ``n_init`` starting points and keep the run with the highest likelihood.

    Parameters
    ----------
    init : callable
        ``init(rng) -> params``; called once per start with the shared generator,
        so that the starts differ and the whole fit is reproducible.
    e_step, m_step : callable
        As in :func:`run_em`.
    n_init : int, default=1
        Number of starts.
    rng : numpy.random.RandomState
        The generator behind the model's ``random_state``.
    tol, max_iter, callback, verbose, name
        As in :func:`run_em`.

    Returns
    -------
    EMResult
        The best run.
    """
    best = None
    for _ in range(n_init):
        result = run_em(
            e_step, m_step, init(rng), tol=tol, max_iter=max_iter,
            callback=callback, verbose=verbose, name=name,
        )
        if best is None or result.loglik > best.loglik:
            best = result
    return best
