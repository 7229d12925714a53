"""'Why not this mentor' in rounds too large to re-solve per alternative: the bounds that
replace the exact cost hold against the exact cost (brute force on tiny problems, an exact
re-solve over every pair on the scale path)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.report import pricing
from mentormatch.report.forced import forced_cost, forced_cost_bounds
from mentormatch.solvers import SolverOptions, get_solver
from mentormatch.solvers.certify import solve_sparse_certified
from mentormatch.testing import assignment_problems, feasible_assignments

TOL = 1e-7


def _exact_costs(problem, objective):
    """The exact drop against ``objective`` of forcing each pair (+inf: cannot be forced)."""
    brute = feasible_assignments(problem)
    out = np.full(len(problem.pairs), np.inf)
    for p in range(len(problem.pairs)):
        holds = brute.x[:, p] & brute.feasible
        if holds.any():
            out[p] = objective - float(brute.total[holds].max())
    return out


def _check(problem, solution):
    exact = _exact_costs(problem, solution.objective)
    checked = 0
    for p in range(len(problem.pairs)):
        low, high, how = forced_cost_bounds(problem, solution, p)
        if low is not None:
            assert low <= exact[p] + TOL, (p, low, exact[p], how)
        if high is not None:
            assert np.isfinite(exact[p]) and exact[p] <= high + TOL, (p, high, exact[p])
            checked += 1
    return checked


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignment_problems(max_mentees=5, max_mentors=3, with_locks=True, max_demand=2))
def test_bounds_from_the_certified_flow_hold_against_brute_force(problem):
    solution = solve_sparse_certified(problem, SolverOptions(top_k=1), 0.0)
    assert solution.status == "optimal" and solution.prices is not None
    _check(problem, solution)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assignment_problems(max_mentees=4, max_mentors=3, with_side=True))
def test_bounds_under_side_constraints_hold_against_brute_force(problem):
    assume(feasible_assignments(problem).any_feasible)  # (infeasible: tested elsewhere)
    solution = get_solver("mip")(problem, SolverOptions())
    _check(problem, solution)


def test_dual_bound_is_tight_where_a_swap_is_optimal():
    """Two mentees, two mentors: forcing the off-diagonal pair costs exactly the swap, which
    the upper bound finds."""
    from mentormatch.pairs import Candidates
    from mentormatch.solvers.base import AssignmentProblem

    p = AssignmentProblem(Candidates.complete(2, 2), np.array([3.0, 1.0, 2.0, 0.5]), np.ones(2))
    sol = solve_sparse_certified(p, SolverOptions(top_k=1), 0.0)
    low, high, how = forced_cost_bounds(p, sol, 1)
    assert how == "the certificate's dual prices"
    assert high == pytest.approx(0.5)
    assert -TOL <= low <= 0.5 + TOL  # (any dual optimum gives a valid, not always tight, bound)


@pytest.mark.parametrize("bounds", [False, True])
def test_explain_gives_bounds_on_the_scale_path_that_hold_over_every_pair(monkeypatch, bounds):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "USE_BOUNDS", bounds)
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=7)
    result = pl.pair(mentors, mentees)
    assert result.status == "optimal"
    assert result.data["solution"].prices is not None
    full = result.data["full_problem"]()
    monkeypatch.setattr(pricing, "ALTERNATIVE_SOLVE_PAIRS", 0)
    seen = 0
    for mentee in result.pairs["mentee_id"].iloc[:6]:
        alt = result.explain(mentee, alternatives=3).alternatives
        assert {"cost_low", "cost_high"} <= set(alt.columns)
        for row in alt.itertuples():
            if not row.eligible:
                continue
            assert "bounds: exact re-solves are skipped" in row.text
            pos = _position(result, full, str(mentee), str(row.mentor_id))
            exact, status = forced_cost(full, pos, result.objective, "flow")
            assert status == "optimal"
            assert row.cost_low <= exact + 1e-6 and exact <= row.cost_high + 1e-6
            seen += 1
    assert seen >= 6


def _position(result, full, mentee_id, mentor_id) -> int:
    e = list(map(str, result.data["mentee_ids"].ids)).index(mentee_id)
    m = list(map(str, result.data["mentor_ids"].ids)).index(mentor_id)
    return int(full.pairs.locate(np.array([e]), np.array([m]))[0])


def test_assign_keeps_the_prices_and_they_bound_forcing_costs(monkeypatch):
    """assign()'s dense path keeps its certificate's prices: the bounds above the re-solve
    budget hold against exact re-solves."""
    import pandas as pd

    import mentormatch as mm

    rng = np.random.default_rng(11)
    scores = pd.DataFrame(rng.random((40, 10)), index=[f"e{i}" for i in range(40)],
                          columns=[f"m{j}" for j in range(10)])
    result = mm.assign(scores, pd.Series(3, index=scores.columns))
    sol, problem = result.data["solution"], result.data["problem"]
    assert sol.prices is not None and sol.status == "optimal"
    unchosen = np.setdiff1d(np.arange(len(problem.pairs)), sol.chosen)
    for p in unchosen[:: max(1, len(unchosen) // 25)]:
        low, high, how = forced_cost_bounds(problem, sol, int(p))
        exact, status = forced_cost(problem, int(p), sol.objective, "flow")
        assert how == "the certificate's dual prices"
        assert low <= exact + 1e-7 <= high + 2e-7
