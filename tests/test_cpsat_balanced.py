"""balanced_load in CP-SAT: the shared-level model against brute force, and the flow hint (a
feasible assignment, returned when CP-SAT finds nothing in time)."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from ortools.sat.python import cp_model

from mentormatch.errors import InfeasibleError, TimeLimitError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions
from mentormatch.solvers import cpsat
from mentormatch.solvers.cpsat import CpsatModel, _balanced_hint, solve_cpsat
from strategies import assignment_problems, feasible_assignments, violations

TOL = 1e-6


@st.composite
def balanced_problems(draw):
    problem = draw(assignment_problems(5, 3, with_locks=True, max_demand=2, max_capacity=3,
                                       coverage_first=None))
    min_load = draw(st.none() | st.lists(st.integers(0, 3), min_size=problem.n_mentors,
                                         max_size=problem.n_mentors))
    problem.side = SideConstraints(balanced_load=True, min_load=None if min_load is None
                                   else np.array(min_load, dtype=float))
    return problem


@settings(max_examples=120, deadline=None)
@given(balanced_problems())
def test_hint_is_feasible_and_optimum_matches_brute_force(problem):
    bf = feasible_assignments(problem)
    hint = _balanced_hint(problem, CpsatModel(problem))
    if hint is not None:
        assert violations(problem, hint) == []
        assert bf.any_feasible
    try:
        sol = solve_cpsat(problem, SolverOptions(time_limit=20))
    except InfeasibleError:
        assert not bf.any_feasible
        return
    assert violations(problem, sol.chosen) == []
    assert sol.status == "optimal"
    if problem.coverage_first:
        best = bf.matched[bf.feasible].max()
        assert sol.objective == pytest.approx(
            bf.best_total_among(bf.matched == best), abs=TOL)
    else:
        assert sol.objective == pytest.approx(bf.best_total, abs=TOL)


def test_no_hint_beyond_its_scope():
    p = AssignmentProblem(Candidates.complete(3, 2), np.ones(6), np.array([2.0, 2.0]),
                          load=np.array([0.5, 1.0, 1.0]),
                          side=SideConstraints(balanced_load=True))
    assert _balanced_hint(p, CpsatModel(p)) is None
    p = AssignmentProblem(Candidates.complete(3, 2), np.ones(6), np.array([2.0, 2.0]),
                          side=SideConstraints(balanced_load=True, budget=10.0,
                                               stipend_fixed=np.ones(2)))
    assert _balanced_hint(p, CpsatModel(p)) is None


class _Stalled:
    """A CP-SAT solver that never finds anything (as when the time limit is too short)."""

    def __init__(self, *args):
        pass

    def solve(self, model):
        return cp_model.UNKNOWN


@pytest.mark.parametrize("coverage_first", [False, True])
def test_hint_returned_when_cpsat_finds_nothing(coverage_first):
    rng = np.random.default_rng(0)
    n, m = 30, 5
    pairs = Candidates.complete(n, m)
    locked = np.zeros(len(pairs), bool)
    locked[[0, 7]] = True  # (0, 0) and (1, 2)
    p = AssignmentProblem(pairs, np.round(rng.random(len(pairs)), 2), np.full(m, 8.0),
                          locked=locked, coverage_first=coverage_first,
                          side=SideConstraints(balanced_load=True, min_load=np.full(m, 3.0)))
    with mock.patch.object(cpsat, "make_solver", _Stalled):
        sol = solve_cpsat(p, SolverOptions(time_limit=1))
    # s24: with the bound that needs no solve (each mentee's best score), at least the answer
    best = np.zeros(n)
    np.maximum.at(best, pairs.mentee, p.score)
    assert sol.status == "feasible" and sol.objective <= sol.bound <= best.sum() + 1e-9
    assert violations(p, sol.chosen) == []
    assert len(sol.chosen) == n  # 30 mentees over 5 mentors of 6 each
    loads = np.bincount(pairs.mentor[sol.chosen], minlength=m)
    assert loads.max() - loads[loads > 0].min() <= 1
    p.side = SideConstraints(balanced_load=True, budget=1.0, stipend_fixed=np.zeros(m))
    with mock.patch.object(cpsat, "make_solver", _Stalled):  # no hint outside its scope: an
        sol = solve_cpsat(p, SolverOptions(time_limit=1))  # assignment known to meet every row
    # (s24: before, TimeLimitError; solvers/fallback.stopped_answer): the plain flow's or the
    # locks alone, "feasible", the time limit said, with a bound
    assert sol.status == "feasible" and "time limit" in sol.message and sol.bound >= sol.objective
    assert violations(p, sol.chosen) == [] and set(np.flatnonzero(locked)) <= set(sol.chosen.tolist())
    p.side = SideConstraints(balanced_load=True, min_load=np.full(m, 9.0))  # above the capacity:
    with mock.patch.object(cpsat, "make_solver", _Stalled), pytest.raises(TimeLimitError):
        solve_cpsat(p, SolverOptions(time_limit=1))  # no assignment known: a time-out, said so
