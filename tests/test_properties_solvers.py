"""Solver-level properties, checked on small problems against brute force.

Every solver (where the property applies): hard constraints and locks hold, the reported
objective equals the recomputed one, the same seed gives the same pairs; exact solvers reach the
brute-force optimum, beat greedy and every random assignment, are monotone in capacity and
eligibility; CP-SAT meets every side constraint it claims and says "infeasible" only when
brute force finds no assignment; stable matchings have no blocking pair; max-min's worst score
is the best any assignment of the same size can do.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mentormatch.errors import InfeasibleError, MentormatchError
from mentormatch.solvers import SOLVERS, AssignmentProblem, SolverOptions, get_solver
from mentormatch.solvers import _load_builtin

from strategies import (EXACT, SCOPE, assignment_problems, feasible_assignments,
                         problems_for, small_problems, violations)

_load_builtin()
TOL = 1e-6


def solver_or_skip(name: str):
    if name not in SOLVERS:
        pytest.skip(f"solver {name!r} has not landed yet")
    return get_solver(name)


def solve(name: str, problem: AssignmentProblem, seed: int = 0):
    return solver_or_skip(name)(problem, SolverOptions(seed=seed, time_limit=20))


# ---------------------------------------------------------------------------------------------
# hard constraints, objective, determinism: every solver


@pytest.mark.parametrize("name", list(SCOPE))
@given(data=st.data())
def test_hard_constraints_locks_and_objective(name, data):
    solver_or_skip(name)
    problem = data.draw(problems_for(name))
    sol = solve(name, problem)
    assert violations(problem, sol.chosen) == []
    assert np.all(np.diff(sol.chosen) > 0), "chosen must be ascending positions"
    assert sol.objective == pytest.approx(float(problem.score[sol.chosen].sum()), abs=TOL)
    assert sol.status in ("optimal", "feasible")
    if sol.bound is not None:
        assert sol.bound >= sol.objective - TOL


@pytest.mark.parametrize("name", list(SCOPE))
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_same_seed_same_output(name, data, seed):
    solver_or_skip(name)
    problem = data.draw(problems_for(name))
    a, b = solve(name, problem, seed), solve(name, problem, seed)
    assert a.chosen.tolist() == b.chosen.tolist()
    assert a.objective == b.objective and a.status == b.status


# ---------------------------------------------------------------------------------------------
# exact solvers against brute force and the baselines


def best_by_brute_force(problem: AssignmentProblem) -> float:
    bf = feasible_assignments(problem)
    if problem.coverage_first:
        # cpsat counts matched mentees, flow assigned pairs; the same when every demand is 1
        top = bf.matched[bf.feasible].max()
        return bf.best_total_among(bf.matched == top)
    return bf.best_total


@pytest.mark.parametrize("name", EXACT)
@given(data=st.data())
def test_exact_solvers_reach_the_brute_force_optimum(name, data):
    problem = data.draw(problems_for(name))
    if problem.coverage_first:
        assume(np.all(problem.demand == 1))
    sol = solve(name, problem)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best_by_brute_force(problem), abs=TOL)


@pytest.mark.parametrize("name", EXACT)
@given(problem=small_problems(), seeds=st.lists(st.integers(0, 10**6), min_size=3, max_size=3))
def test_optimal_beats_greedy_and_every_random_assignment(name, problem, seeds):
    best = solve(name, problem).objective
    assert best >= solve("greedy", problem).objective - TOL
    for s in seeds:
        assert best >= solve("random", problem, s).objective - TOL


@pytest.mark.parametrize("name", EXACT)
@given(problem=small_problems(), data=st.data())
def test_more_capacity_never_lowers_the_optimum(name, problem, data):
    j = data.draw(st.integers(0, problem.n_mentors - 1))
    extra = data.draw(st.integers(1, 2))
    cap = problem.capacity.copy()
    cap[j] += extra
    bigger = AssignmentProblem(problem.pairs, problem.score, cap, problem.demand, problem.load,
                               problem.locked, problem.coverage_first, problem.side)
    assert solve(name, bigger).objective >= solve(name, problem).objective - TOL


@pytest.mark.parametrize("name", EXACT)
@given(problem=small_problems(), data=st.data())
def test_forbidding_a_pair_never_raises_the_optimum(name, problem, data):
    free = np.flatnonzero(~problem.locked)
    assume(len(free))
    k = data.draw(st.sampled_from(free.tolist()))
    keep = np.ones(len(problem.pairs), bool)
    keep[k] = False
    smaller = AssignmentProblem(problem.pairs.subset(keep), problem.score[keep], problem.capacity,
                                problem.demand, problem.load, problem.locked[keep],
                                problem.coverage_first, problem.side)
    assert solve(name, smaller).objective <= solve(name, problem).objective + TOL


@given(problem=small_problems(max_mentees=6, max_mentors=4))
def test_flow_hungarian_and_cpsat_agree(problem):
    values = {name: solve(name, problem).objective for name in EXACT}
    assert max(values.values()) - min(values.values()) <= TOL, values


# ---------------------------------------------------------------------------------------------
# side constraints (CP-SAT): feasible claims hold, infeasible claims confirmed by brute force


@given(problem=problems_for("cpsat", max_mentees=4, max_mentors=3, side=True))
def test_cpsat_side_constraints_and_infeasibility(problem):
    bf = feasible_assignments(problem)
    try:
        sol = solve("cpsat", problem)
    except InfeasibleError as exc:
        assert not bf.any_feasible, ("cpsat said infeasible but brute force found an assignment",
                                     exc, bf.x[bf.feasible][0])
        assert exc.conflicts if hasattr(exc, "conflicts") else str(exc)
        return
    assert bf.any_feasible
    assert violations(problem, sol.chosen) == []
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best_by_brute_force(problem), abs=TOL)


@given(problem=assignment_problems(5, 3, with_side=True))
def test_group_floors_met_when_feasible(problem):
    assume(problem.side.score_floor is not None or problem.side.share_floor is not None)
    try:
        sol = solve("cpsat", problem)
    except InfeasibleError:
        assert not feasible_assignments(problem).any_feasible
        return
    broken = violations(problem, sol.chosen)
    assert "score_floor" not in broken and "share_floor" not in broken


@pytest.mark.parametrize("name", ["flow", "hungarian", "greedy", "random", "stable"])
@given(problem=assignment_problems(3, 2, with_side=True))
def test_solvers_without_side_constraints_refuse_them(name, problem):
    """Never a silent drop: a solver that does not model a side constraint raises."""
    solver_or_skip(name)
    assume(problem.side.active())
    with pytest.raises((ValueError, MentormatchError)) as info:
        solve(name, problem)
    assert any(f in str(info.value) for f in problem.side.active()) or "side" in str(info.value)


# ---------------------------------------------------------------------------------------------
# stability and max-min fairness


@given(problem=problems_for("stable", max_mentees=6, max_mentors=4))
def test_stable_has_no_blocking_pairs(problem):
    from mentormatch.solvers.stable import blocking_pairs

    sol = solve("stable", problem)
    assert blocking_pairs(problem, sol.chosen).tolist() == []
    assert sol.certificate["blocking_pairs"] == 0


@given(problem=problems_for("stable", max_mentees=5, max_mentors=3))
def test_blocking_pairs_agrees_with_brute_force_definition(problem):
    """Cross-check of the checker itself: a pair blocks a random matching exactly as defined."""
    from mentormatch.solvers.stable import blocking_pairs, preference_positions

    sol = solve("random", problem, 1)
    chosen = sol.chosen
    pe, pm = preference_positions(problem)
    P = problem.pairs
    mine = {int(P.mentee[k]): int(k) for k in chosen}
    expected = []
    for k in range(len(P)):
        if k in set(chosen.tolist()):
            continue
        i, j = int(P.mentee[k]), int(P.mentor[k])
        mentee_wants = i not in mine or pe[k] < pe[mine[i]]
        theirs = [c for c in chosen if P.mentor[c] == j]
        mentor_wants = len(theirs) < math.floor(problem.capacity[j] + 1e-9) or \
            any(pm[k] < pm[c] for c in theirs)
        if mentee_wants and mentor_wants:
            expected.append(k)
    assert blocking_pairs(problem, chosen).tolist() == expected


@pytest.mark.parametrize("name", ["maxmin", "leximin"])
@given(problem=problems_for("maxmin", max_mentees=5, max_mentors=3),
       side=st.booleans(), data=st.data())
def test_maxmin_worst_score_is_best_possible_for_its_size(name, problem, side, data):
    solver_or_skip(name)
    if side:  # the same three steps on CP-SAT, under side constraints
        problem = data.draw(problems_for("maxmin", max_mentees=4, max_mentors=3, side=True))
    bf = feasible_assignments(problem)
    try:
        sol = solve(name, problem)
    except InfeasibleError:
        assert not bf.any_feasible
        return
    assert violations(problem, sol.chosen) == []
    assert len(sol.chosen) == int(bf.matched[bf.feasible].max()), "as many pairs as possible"
    assume(len(sol.chosen))
    k = len(np.unique(problem.pairs.mentee[sol.chosen]))
    worst = float(problem.score[sol.chosen].min())
    same_size = bf.feasible & (bf.matched == k)
    assert worst >= float(bf.worst[same_size].max()) - TOL


# ---------------------------------------------------------------------------------------------
# paths that are easy to get wrong: fractional loads (CP-SAT), the sparse certified flow path


@given(problem=assignment_problems(4, 3, with_locks=True, fractional=True, max_demand=2,
                                   coverage_first=None))
def test_cpsat_fractional_loads_against_brute_force(problem):
    if problem.coverage_first:
        assume(np.all(problem.demand == 1))
    sol = solve("cpsat", problem)
    assert violations(problem, sol.chosen) == []
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best_by_brute_force(problem), abs=TOL)


@given(problem=assignment_problems(6, 4, with_locks=True, max_demand=2), k=st.integers(1, 3))
def test_flow_sparse_certified_path_reaches_the_optimum(problem, k):
    """Each mentee's k best pairs, then a proof against every pair (or a fallback): the
    optimum must be the same as on the full candidate set."""
    full = solve("flow", problem)
    sparse = get_solver("flow")(problem, SolverOptions(top_k=k))
    assert violations(problem, sparse.chosen) == []
    assert sparse.objective == pytest.approx(full.objective, abs=TOL)
    if sparse.status == "optimal":
        assert sparse.bound is None or sparse.bound >= sparse.objective - TOL


def test_mentormatch_testing_without_hypothesis_says_how_to_install_it():
    import subprocess
    import sys

    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import mentormatch.testing\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "hypothesis" in out.stdout and "pip install" in out.stdout
