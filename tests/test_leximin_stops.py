"""Leximin says why it stopped short of a proof, as max-min does (tests/test_maxmin_stops.py):
``certificate["timed_out"]`` and the message name the time limit (the outer stop) or a work
limit (the rounds of solvers/leximin_source.py, the max-min's flows), on every path: the flows
(solvers/leximin.py), CP-SAT (solvers/leximin_cp.py) and over a source."""
from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import (AssignmentProblem, SideConstraints, SolverOptions, bottleneck,
                                 leximin_source)
from mentormatch.solvers.leximin import solve_leximin
from mentormatch.solvers.leximin_source import solve_leximin_source
from mentormatch.solvers.sources import BlockSource

from test_leximin_source import problem


def _slow_clock(monkeypatch, step: float = 50.0):
    """Every reading of the clock ``step`` seconds after the last: a slow machine."""
    clock = itertools.count(time.perf_counter(), step)  # (from now: earlier readings stand)
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(clock)))


def _valid(p: AssignmentProblem, chosen) -> None:
    """One mentor per mentee, capacities kept: recomputed from the pairs."""
    chosen = np.asarray(chosen, np.int64)
    assert len(np.unique(p.pairs.mentee[chosen])) == len(chosen)
    assert np.all(np.bincount(p.pairs.mentor[chosen], minlength=p.n_mentors) <= p.capacity)


def test_the_flows_say_the_time_limit_stopped_them():
    rng = np.random.default_rng(3)
    p = AssignmentProblem(Candidates.complete(60, 12), np.round(rng.random(720), 6), np.full(12, 4.0))
    full = solve_leximin(p)
    cut = solve_leximin(p, SolverOptions(time_limit=1e-9))
    assert full.status == "optimal" and full.certificate["timed_out"] is False
    assert cut.status == "feasible" and cut.certificate["timed_out"] is True
    assert cut.message.startswith("stopped at the time limit")
    _valid(p, cut.chosen)


def _balanced(seed: int) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    p = AssignmentProblem(Candidates.complete(8, 3), np.round(rng.random(24), 2), np.full(3, 3.0))
    p.side = SideConstraints(balanced_load=True)
    return p


def test_cp_sat_says_the_time_limit_stopped_it(monkeypatch):
    p = _balanced(1)
    full = solve_leximin(p, SolverOptions(time_limit=60))
    assert full.status == "optimal" and full.certificate["timed_out"] is False
    assert len(full.certificate["levels"]) >= 3  # several levels: a slow clock stops before the last
    _slow_clock(monkeypatch)
    cut = solve_leximin(p, SolverOptions(time_limit=120))
    assert cut.status == "feasible" and cut.certificate["timed_out"] is True
    assert cut.message.startswith("stopped at the time limit (120 s)")
    assert cut.certificate["proven_below"] is not None
    assert len(cut.chosen) == len(full.chosen)  # the most pairs, proven first
    _valid(p, cut.chosen)
    load = np.bincount(p.pairs.mentor[cut.chosen], minlength=3)
    assert load.max() - load.min() <= 1  # balanced loads kept


def _on_source(p: AssignmentProblem, limit: float | None = None):
    n, m = p.n_mentees, p.n_mentors
    dense = np.full((n, m), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    blocks = lambda rows: dense[rows]
    return solve_leximin_source(blocks, BlockSource(blocks, n, m), p.capacity, n_mentees=n,
                                n_mentors=m, options=SolverOptions(top_k=1, time_limit=limit))


@pytest.fixture
def needs_rounds(monkeypatch):
    """A problem whose proof needs more than one round: the rounds start from the max-min's
    chosen pairs alone, with heavy ties."""
    monkeypatch.setattr(leximin_source, "FIRST", "chosen")
    p = problem(0, 30, 9, [0.3, 0.6, 0.9], density=0.5, cap=9)
    out, sol = _on_source(p)
    assert sol.status == "optimal" and sol.certificate["rounds"] > 1
    assert sol.certificate["timed_out"] is False
    return p


def test_the_rounds_say_their_work_limit_stopped_them(monkeypatch, needs_rounds):
    monkeypatch.setattr(leximin_source, "MAX_ROUNDS", 1)
    out, sol = _on_source(needs_rounds)
    assert sol.status == "feasible" and sol.certificate["timed_out"] is False
    assert sol.message.startswith("stopped at its work limit (1 rounds) before the time limit")
    _valid(out, sol.chosen)


def test_the_rounds_say_the_time_limit_stopped_them(monkeypatch, needs_rounds):
    # the max-min's flows run before the clock is slowed: only the rounds are cut
    solve = bottleneck.solve_maxmin_scorer
    monkeypatch.setattr(bottleneck, "solve_maxmin_scorer",
                        lambda *a, **k: (solve(*a, **k), _slow_clock(monkeypatch))[0])
    out, sol = _on_source(needs_rounds, limit=120)
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.certificate["maxmin"]["holds"] is True
    assert sol.message.startswith("stopped at the time limit (120 s)")
    _valid(out, sol.chosen)


@pytest.mark.parametrize("how", ["work", "time"])
def test_a_max_min_left_unproven_passes_on_its_stop(monkeypatch, how):
    p = problem(2, 40, 8)
    if how == "work":
        monkeypatch.setattr(bottleneck, "MAX_FLOWS", 1)
    else:
        _slow_clock(monkeypatch)
    out, sol = _on_source(p, limit=120)
    assert sol.status == "feasible"
    assert sol.certificate["timed_out"] is (how == "time")
    assert sol.certificate["maxmin"]["timed_out"] is (how == "time")
    assert sol.message.startswith("the max-min was not proven: stopped at "
                                  + ("its work limit" if how == "work" else "the time limit"))
    _valid(out, sol.chosen)
