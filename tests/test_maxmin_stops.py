"""Max-min by certified flows (solvers/bottleneck.py) says why it stopped short of a proof: its
work limit (``MAX_FLOWS`` flows, the same on any machine) or the time limit (the outer stop)."""
from __future__ import annotations

import itertools

import numpy as np

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, bottleneck


def _problem():
    rng = np.random.default_rng(4)
    n, m = 40, 8
    return AssignmentProblem(Candidates.complete(n, m), rng.uniform(0, 1, n * m), np.full(m, 3.0))


def test_max_min_proven_with_its_flows():
    sol = bottleneck.solve_held(_problem(), SolverOptions(time_limit=600))
    assert sol.status == "optimal" and sol.certificate["timed_out"] is False
    # the flow at -inf, one at the guess from the pairs seen (above the plain worst pair), the
    # proof just above it: the test below cuts the last
    assert sol.certificate["flows"] == 3
    assert sol.certificate["guesses_missed"] == 0


def test_a_work_limit_says_it_was_the_work_limit(monkeypatch):
    monkeypatch.setattr(bottleneck, "MAX_FLOWS", 2)
    sol = bottleneck.solve_held(_problem(), SolverOptions(time_limit=600))
    assert sol.status == "feasible" and sol.certificate["timed_out"] is False
    assert "work limit (2 flows) before the time limit" in sol.message


def test_a_time_limit_says_it_was_the_time_limit(monkeypatch):
    clock = itertools.count(0.0, 50.0)  # every reading 50 s later: the second flow would overrun
    monkeypatch.setattr(bottleneck.time, "perf_counter", lambda: float(next(clock)))
    sol = bottleneck.solve_held(_problem(), SolverOptions(time_limit=600))
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.message.startswith("stopped at the time limit")
