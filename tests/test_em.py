"""The EM driver: history, convergence, warnings, callbacks and restarts."""

import warnings

import numpy as np
import pytest

from lvm._em import fit_em, run_em
from lvm.exceptions import ConvergenceWarning, LikelihoodDecreaseWarning


def _halving(target=1.0):
    """A toy 'EM' whose log-likelihood -(theta - target)^2 improves by halving the gap."""

    def e_step(params):
        return -(params["theta"] - target) ** 2, params

    def m_step(params):
        return {"theta": params["theta"] + 0.5 * (target - params["theta"])}

    return e_step, m_step


def test_history_holds_start_and_every_iteration():
    e_step, m_step = _halving()
    result = run_em(e_step, m_step, {"theta": 0.0}, tol=1e-6, max_iter=100)
    assert result.converged
    assert len(result.history) == result.n_iter + 1
    assert result.history[0] == -1.0
    assert np.all(np.diff(result.history) > 0)
    # the returned statistics belong to the returned parameters
    assert result.stats is result.params


def test_non_convergence_warns_with_advice():
    e_step, m_step = _halving()
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        result = run_em(e_step, m_step, {"theta": 0.0}, tol=1e-30, max_iter=5, name="Toy")
    assert not result.converged and result.n_iter == 5


def test_a_falling_likelihood_is_reported():
    def e_step(params):
        return -params["step"], params

    def m_step(params):
        return {"step": params["step"] + 1}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(LikelihoodDecreaseWarning, match="fell from"):
            run_em(e_step, m_step, {"step": 0}, tol=0.0, max_iter=3)


def test_callback_gets_each_iteration():
    e_step, m_step = _halving()
    calls = []
    run_em(e_step, m_step, {"theta": 0.0}, tol=1e-3, max_iter=50, callback=lambda i, p: calls.append(i))
    assert calls == list(range(len(calls)))


def test_fit_em_keeps_the_best_start():
    targets = iter([0.0, 5.0, 1.0])

    def init(rng):
        return {"theta": next(targets)}

    def e_step(params):
        # two local maxima: near 0 (height -1) and at 5 (height 0)
        theta = params["theta"]
        return max(-1 - theta**2, -(theta - 5) ** 2), params

    def m_step(params):
        theta = params["theta"]
        goal = 5.0 if theta > 2.5 else 0.0
        return {"theta": theta + 0.5 * (goal - theta)}

    best = fit_em(init, e_step, m_step, n_init=3, rng=np.random.RandomState(0), tol=1e-9, max_iter=200)
    assert best.params["theta"] == pytest.approx(5.0, abs=1e-3)


def test_verbose_shows_progress(capsys):
    e_step, m_step = _halving()
    run_em(e_step, m_step, {"theta": 0.0}, tol=1e-6, max_iter=100, verbose=1, name="Toy")
    assert "Toy" in capsys.readouterr().err
