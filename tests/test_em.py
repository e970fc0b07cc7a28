"""The EM driver: history, convergence, warnings, callbacks and restarts, on toy models of the contract."""

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from lvm._em import fit_em, run_em
from lvm._source import SummarySource
from lvm._stats import Stats
from lvm.exceptions import ConvergenceWarning, LikelihoodDecreaseWarning


@dataclass
class _Score(Stats):
    n_samples: int
    loglik: float


class _Halving:
    """A toy 'EM' whose log-likelihood -(theta - target)^2 improves by halving the gap."""

    def __init__(self, target=1.0):
        self.target = target

    def get_params(self, deep=False):
        return {"target": self.target}

    def _e_step(self, chunk, params):
        return _Score(1, -(params["theta"] - self.target) ** 2)

    def _m_step(self, stats, params):
        return {"theta": params["theta"] + 0.5 * (self.target - params["theta"])}


_ONE_ROW = SummarySource(_Score(1, 0.0))


def test_history_holds_start_and_every_iteration():
    result = run_em(_Halving(), _ONE_ROW, {"theta": 0.0}, tol=1e-6, max_iter=100)
    assert result.converged
    assert len(result.history) == result.n_iter + 1
    assert result.history[0] == -1.0
    assert np.all(np.diff(result.history) > 0)
    # the returned statistics belong to the returned parameters
    assert result.stats.loglik == -(result.params["theta"] - 1.0) ** 2


def test_non_convergence_warns_with_advice():
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        result = run_em(_Halving(), _ONE_ROW, {"theta": 0.0}, tol=1e-30, max_iter=5, name="Toy")
    assert not result.converged and result.n_iter == 5


def test_a_falling_likelihood_is_reported():
    class Falling(_Halving):
        def _e_step(self, chunk, params):
            return _Score(1, -params["step"])

        def _m_step(self, stats, params):
            return {"step": params["step"] + 1}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(LikelihoodDecreaseWarning, match="fell from"):
            run_em(Falling(), _ONE_ROW, {"step": 0}, tol=0.0, max_iter=3)


def test_callback_gets_each_iteration():
    calls = []
    run_em(_Halving(), _ONE_ROW, {"theta": 0.0}, tol=1e-3, max_iter=50, callback=lambda i, p: calls.append(i))
    assert calls == list(range(len(calls)))


def test_fit_em_keeps_the_best_start():
    class TwoPeaks(_Halving):
        starts = iter([0.0, 5.0, 1.0])

        def _init_params(self, source, rng):
            return {"theta": next(self.starts)}

        def _e_step(self, chunk, params):
            # two local maxima: near 0 (height -1) and at 5 (height 0)
            theta = params["theta"]
            return _Score(1, max(-1 - theta**2, -(theta - 5) ** 2))

        def _m_step(self, stats, params):
            theta = params["theta"]
            goal = 5.0 if theta > 2.5 else 0.0
            return {"theta": theta + 0.5 * (goal - theta)}

    best = fit_em(TwoPeaks(), _ONE_ROW, n_init=3, rng=np.random.RandomState(0), tol=1e-9, max_iter=200)
    assert best.params["theta"] == pytest.approx(5.0, abs=1e-3)


def test_verbose_shows_progress(capsys, monkeypatch):
    # A bar shows only once its call has run for a while; this toy run is quick.
    monkeypatch.setattr("lvm._progress.DELAY_SECONDS", 0.0)
    run_em(_Halving(), _ONE_ROW, {"theta": 0.0}, tol=1e-6, max_iter=100, verbose=1, name="Toy")
    assert "Toy" in capsys.readouterr().err
