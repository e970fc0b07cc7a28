"""The one EM driver every EM model runs on, and the contract a model keeps with it.

A model supplies three methods, and may supply a fourth (Dempster, Laird &
Rubin 1977, in the form of sufficient statistics; Neal & Hinton 1998 for why
they may be summed over chunks):

* ``_init_params(source, rng) -> params``: starting values, a dict; they may
  read the data only through ``source.reduce`` and ``source.take``;
* ``_e_step(chunk, params) -> Stats``: the expected sufficient statistics of
  one chunk of rows under ``params``, a dataclass that adds (``a + b`` is the
  statistic of the union of the rows) and has the fields ``n_samples`` and
  ``loglik``, the log-likelihood of ``params`` summed over the rows. It may
  read the model's constructor parameters and ``params``, nothing else, so
  that it runs the same in a thread or on a dask worker;
* ``_m_step(stats, params) -> params``: the maximiser of the expected
  complete-data log-likelihood; ``params`` are those the statistics were
  computed under (an M-step keeps, for instance, a vanished component's
  previous mean);
* optionally ``_em_converged(previous, params, stats, change, tol) -> bool``,
  the convergence test, for a model whose likelihood can be flat long before
  its parameters settle; by default the change in mean log-likelihood;
* optionally ``_em_cycles`` (an int, default 1): the number of cycles of an
  alternating expectation-conditional maximisation (AECM; Meng & van Dyk
  1997) iteration. Cycle ``c > 0`` runs its own E-step under the parameters
  the previous cycle left, ``_e_step(chunk, params, cycle=c)``, and its own
  conditional M-step, ``_m_step(stats, params, cycle=c)``, each maximising
  over part of the parameters with a complete-data space of its own; each
  cycle's E-step likelihood is checked for a fall like an iteration's.

The driver owns everything else: the reduction of the statistics over the
chunks of whatever holds the rows (an in-memory array, a memmap, a dask array;
see :mod:`lvm._source`), the loop, the log-likelihood history, the convergence
test, the best of ``n_init`` starts, the callback, the progress bar, the
warnings (EM never lowers the likelihood, so a drop is a numerical bug), and a
final E-step, so that the statistics it returns belong to the returned
parameters.
"""

import copy
import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ._linalg import small_problem_threads
from ._progress import progress
from ._source import ArraySource, DaskSource, SummarySource, chunk_rows, is_dask_array
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
    stats : Stats
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


def as_source(X):
    """The :mod:`lvm._source` reader for ``X``: ``X`` itself if it is one, else for a dask array or an array."""
    if isinstance(X, (ArraySource, DaskSource, SummarySource)):
        return X
    return DaskSource(X) if is_dask_array(X) else ArraySource(X)


def _portable(model):
    """A copy of ``model`` holding only its constructor parameters, without the callback.

    That is all an E-step may read, and it is what is shipped to dask workers:
    fitted state and a user's callback (which may hold figures or locks) stay home.
    """
    twin = copy.copy(model)
    twin.__dict__ = {name: value for name, value in model.get_params(deep=False).items() if name != "callback"}
    return twin


def expected_stats(model, source, params, cycle=0):
    """Sum of ``model._e_step(chunk, params)`` over the chunks of ``source`` (``cycle=c`` passed for ``c > 0``)."""
    extra = {"cycle": cycle} if cycle else {}
    if isinstance(source, DaskSource):
        function = functools.partial(type(model)._e_step, _portable(model), params=params, **extra)
    else:
        function = functools.partial(model._e_step, params=params, **extra)
    rows_for = getattr(model, "_em_chunk_rows", chunk_rows)
    return source.reduce(function, rows=rows_for(getattr(source, "n_features", 1)))


def _mean_loglik(stats):
    return float(stats.loglik) / stats.n_samples


def _converged(model, previous, params, stats, change, tol):
    """The model's ``_em_converged(previous, params, stats, change, tol)`` if it has one, else ``|change| < tol``.

    Where EM crawls along a flat ridge, the likelihood changes by about the
    square of the step, so a model may also require its parameters to settle.
    """
    test = getattr(model, "_em_converged", None)
    return abs(change) < tol if test is None else bool(test(previous, params, stats, change, tol))


def _check_rise(name, before, after, n_iter, where=""):
    """Warn when the mean log-likelihood fell from ``before`` to ``after`` by more than round-off; return ``after``."""
    if after - before < -_DECREASE_RTOL * max(1.0, abs(after)):
        warnings.warn(
            f"{name}: the log-likelihood fell from {before:.10g} to {after:.10g} "
            f"at iteration {n_iter}{where}; EM cannot do that in exact arithmetic, so the "
            "data are probably ill-conditioned (rescale them or add regularisation).",
            LikelihoodDecreaseWarning,
            stacklevel=5,
        )
    return after


def run_em(model, source, params, *, tol, max_iter, callback=None, verbose=0, name="EM"):
    """Iterate EM from ``params`` until the mean log-likelihood changes by less than ``tol``.

    A model with an ``_em_converged`` method decides convergence itself.

    Parameters
    ----------
    model : object
        Keeps the contract of this module (``_e_step``, ``_m_step``).
    source : ArraySource, DaskSource or SummarySource
        The rows, or their summary.
    params : dict
        Starting values.
    tol : float
        Convergence threshold on the change of the mean log-likelihood per sample.
    max_iter : int
        Most M-steps to take.
    callback : callable, optional
        ``callback(iteration, params)`` after the start (iteration 0) and after
        every M-step; for teaching and monitoring.
    verbose : int, default=0
        Show a progress bar with the current log-likelihood when positive.
    name : str
        Model name for messages.

    Returns
    -------
    EMResult
    """
    cycles = int(getattr(model, "_em_cycles", 1))
    stats = expected_stats(model, source, params)
    history = [_mean_loglik(stats)]
    if callback is not None:
        callback(0, params)
    converged = False
    n_iter = 0
    with progress(total=max_iter, desc=name, verbose=verbose, leave=False) as bar:
        for n_iter in range(1, max_iter + 1):
            previous = params
            with small_problem_threads(source.n_features):
                params = model._m_step(stats, params)
            reached = history[-1]
            for cycle in range(1, cycles):
                stats = expected_stats(model, source, params, cycle)
                reached = _check_rise(name, reached, _mean_loglik(stats), n_iter, f", cycle {cycle + 1}")
                with small_problem_threads(source.n_features):
                    params = model._m_step(stats, params, cycle=cycle)
            stats = expected_stats(model, source, params)
            loglik = _mean_loglik(stats)
            change = loglik - history[-1]
            history.append(loglik)
            if callback is not None:
                callback(n_iter, params)
            bar.set_postfix(loglik=f"{loglik:.6g}")
            bar.update(1)
            _check_rise(name, reached, loglik, n_iter)
            if _converged(model, previous, params, stats, change, tol):
                converged = True
                break
    if not converged and max_iter > 0:
        last = history[-1] - history[-2]
        reason = (f"the last change in mean log-likelihood was {last:.3g}, above tol={tol:g}" if abs(last) >= tol
                  else f"the log-likelihood changed by {last:.3g}, below tol={tol:g}, but the parameters "
                  "had not settled")
        warnings.warn(
            f"{name} did not converge in max_iter={max_iter} iterations: {reason}. "
            "Increase max_iter, loosen tol, or standardise the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
    return EMResult(params, stats, np.asarray(history), n_iter, converged)


def fit_em(model, source, *, rng, n_init=1, tol, max_iter, callback=None, verbose=0, name="EM"):
    """Run EM from ``n_init`` starting points and keep the run with the highest likelihood.

    Parameters
    ----------
    model : object
        Keeps the contract of this module (``_init_params``, ``_e_step``, ``_m_step``).
    source : ArraySource, DaskSource or SummarySource
        The rows, or their summary.
    rng : numpy.random.RandomState
        The generator behind the model's ``random_state``, passed to every
        ``_init_params`` call in turn, so that the starts differ and the whole
        fit is reproducible.
    n_init : int, default=1
        Number of starts.
    tol, max_iter, callback, verbose, name
        As in :func:`run_em`.

    Returns
    -------
    EMResult
        The best run.
    """
    best = None
    for _ in range(n_init):
        # A start factorises small matrices too (a PPCA per part of a partition),
        # where a second BLAS thread stalls as in the M-step.
        with small_problem_threads(source.n_features):
            params = model._init_params(source, rng)
        result = run_em(model, source, params, tol=tol, max_iter=max_iter, callback=callback, verbose=verbose,
                        name=name)
        # A later start replaces the best only if it is better by more than
        # round-off: starts that reach the same optimum (up to the labels of
        # its components) then give the same answer however the sums were ordered.
        if best is None or result.loglik > best.loglik + _DECREASE_RTOL * max(1.0, abs(best.loglik)):
            best = result
    return best


class EMMixin:
    """What an EM estimator gets from the driver: ``_fit_em(X)`` and the fitted EM attributes.

    The estimator keeps the contract of this module and has the parameters
    ``tol``, ``max_iter`` and optionally ``n_init``, ``callback``, ``verbose``.
    ``X`` may be an array, a memmap or a dask array.
    """

    def _fit_em(self, X, rng, name=None, n_init=None):
        """Run the driver on ``X``; set ``history_``, ``n_iter_``, ``converged_``; return the EMResult.

        ``n_init`` overrides the estimator's (a warm start is one start).
        """
        n_init = getattr(self, "n_init", 1) if n_init is None else n_init
        result = fit_em(self, as_source(X), rng=rng, n_init=n_init, tol=self.tol,
                        max_iter=self.max_iter, callback=getattr(self, "callback", None),
                        verbose=getattr(self, "verbose", 0), name=name or type(self).__name__)
        self.history_ = result.history
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        return result
