"""CP-SAT on a plain problem (no side constraint, unit loads, whole capacities) under a time
limit: the flow's answer is its hint and its fallback, with the flow's bound, so a time-out
answers like ``"mip"`` (an assignment and a bound), never ``TimeLimitError``; and no CP-SAT
model is built or solved past the deadline.

CP-SAT "finding nothing in time" is made certain (a solver whose every solve returns
``UNKNOWN``, as a time-out does), the deadline passing by a fake clock
(``_support.jumping_clock``); every answer is checked against scipy's ``milp`` on the same
pairs, and its pairs against the capacities and demands."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ortools.sat.python import cp_model

import mentormatch as mm
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, cpsat

from _support import jumping_clock
from test_stopped_bounds import milp_optimum


class _NothingInTime:
    """A CP-SAT solver that finds nothing: every solve ends ``UNKNOWN`` (a time-out)."""

    def __init__(self):
        self.solves = 0

    def solve(self, model):
        self.solves += 1
        return cp_model.UNKNOWN


def _nothing_in_time(monkeypatch) -> list:
    made = []

    def make(*args, **kw):
        made.append(_NothingInTime())
        return made[-1]

    monkeypatch.setattr(cpsat, "make_solver", make)
    return made


def _problem(seed: int, n: int = 30, m: int = 8, cover: bool = False, demand: int = 1):
    rng = np.random.default_rng(seed)
    s = np.round(rng.random((n, m)), 3)
    s[rng.random((n, m)) < 0.2] = -np.inf
    cap = rng.integers(1, 4, m).astype(float)
    dem = np.full(n, demand, np.int64)
    i, j = np.nonzero(np.isfinite(s))
    p = AssignmentProblem(Candidates.from_arrays(i, j, n, m), s[i, j], cap, demand=dem,
                          coverage_first=cover)
    return p, s, cap, dem


def _within(p: AssignmentProblem, chosen) -> bool:
    P = p.pairs
    return bool(np.all(np.bincount(P.mentor[chosen], minlength=P.n_mentors) <= p.capacity)
                and np.all(np.bincount(P.mentee[chosen], minlength=P.n_mentees) <= p.demand))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cover,demand", [(False, 1), (False, 2), (True, 1), (True, 2)])
def test_cpsat_that_finds_nothing_answers_with_the_flows_optimum(monkeypatch, seed, cover, demand):
    """CP-SAT finds nothing (every solve ``UNKNOWN``): the answer is the flow's, within the
    places, its objective ``milp``'s optimum (with ``coverage_first``: among the assignments
    matching the most mentees), its bound at least that optimum, "optimal" by that bound (a
    proof: the flow's certificate over every pair). Old code: ``TimeLimitError``."""
    p, s, cap, dem = _problem(seed, cover=cover, demand=demand)
    best = milp_optimum(s, cap, dem, cover=cover)
    made = _nothing_in_time(monkeypatch)
    sol = cpsat.solve_cpsat(p, SolverOptions(time_limit=5.0))
    assert made and all(m.solves for m in made)  # CP-SAT was asked, and found nothing
    assert _within(p, sol.chosen)
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound is not None and sol.bound >= best - 1e-6
    assert sol.status == "optimal" and sol.certificate["cpsat_status"] == "UNKNOWN"
    assert sol.certificate["start"]["solver"] == "flow"


def test_assign_cpsat_on_a_plain_problem_answers_at_a_short_limit(monkeypatch):
    """The hunt's case: ``assign(solver="cpsat", time_limit=0.05)`` on a plain 120 x 30
    problem, CP-SAT finding nothing in time: an answer within the places, with a bound at
    least ``milp``'s optimum and its gap (old code: ``TimeLimitError``, where ``"mip"``
    answers)."""
    rng = np.random.default_rng(0)
    s = rng.random((120, 30))
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(120)], columns=[f"m{j}" for j in range(30)])
    cap = pd.Series(4, index=scores.columns)
    best = milp_optimum(s, np.full(30, 4.0), np.ones(120, np.int64))
    _nothing_in_time(monkeypatch)
    r = mm.assign(scores, cap, solver="cpsat", time_limit=0.05)
    assert r.bound is not None and r.bound >= best - 1e-6 and r.gap is not None
    assert r.objective <= best + 1e-6
    assert r.pairs["mentee_id"].is_unique and (r.pairs["mentor_id"].value_counts() <= 4).all()
    got = sum(s[int(a[1:]), int(b[1:])] for a, b in zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    assert got == pytest.approx(r.objective, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_no_cpsat_model_past_the_deadline(monkeypatch, seed):
    """The deadline passes while the objective's scores are read (a fake clock jumping 10 s of
    a 5 s limit): the flow starts no flow and gives its bound, the plain flow over each mentee's
    best pairs its assignment (s24), and no CP-SAT solve is made: "feasible", the bound at least
    ``milp``'s optimum. Old code: a
    CP-SAT solve of at least 0.01 s after the deadline."""
    p, s, cap, dem = _problem(seed)
    best = milp_optimum(s, cap, dem)
    clock = jumping_clock(monkeypatch, 10.0)
    real_goal, made = cpsat.goal_problem, []
    real_make = cpsat.make_solver

    def late_goal(*args):
        out = real_goal(*args)
        clock.jump()
        return out

    def counted(*args, **kw):
        made.append(1)
        return real_make(*args, **kw)

    monkeypatch.setattr(cpsat, "goal_problem", late_goal)
    monkeypatch.setattr(cpsat, "make_solver", counted)
    sol = cpsat.solve_cpsat(p, SolverOptions(time_limit=5.0))
    assert not made
    # the flow stopped before any pair: the plain flow over each mentee's best pairs stands in
    # (s24, fallback.plain_flow; before, no pair), within the capacities and demands
    assert sol.status == "feasible" and _within(p, sol.chosen)
    assert sol.objective == pytest.approx(float(p.score[sol.chosen].sum())) and sol.objective <= best + 1e-9
    assert sol.bound is not None and sol.bound >= best - 1e-6
