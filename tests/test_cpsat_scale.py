"""CP-SAT's integer step chosen from the problem's scores (solvers/cpsat_model.objective_scale)
and its status said only within the gap (solvers/cpsat.py).

Before (5cec041 and deb93bd), the step was 1e-6 whatever the scores: scores of 1e-8 rounded to
0, CP-SAT returned no pair and the answer said "optimal" beside its own gap of 1.0
(tests/test_hunt_s19.py, s19h7's hunt). Brute force decides every case here.
"""
from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.pairs import Candidates
from mentormatch.solvers import cpsat
from mentormatch.solvers.base import AssignmentProblem, SideConstraints
from mentormatch.solvers.cpsat import solve_cpsat
from mentormatch.solvers.cpsat_model import CpsatModel, objective_scale
from mentormatch.testing import feasible_assignments, violations


def _random_problem(seed: int, factor: float, side: SideConstraints | None = None):
    """4 mentees x 3 mentors, every pair eligible, random inexact scores times ``factor``,
    capacities 1 or 2."""
    rng = np.random.default_rng(seed)
    return AssignmentProblem(Candidates.complete(4, 3), rng.random(12) * factor,
                             rng.integers(1, 3, 3).astype(float), side=side or SideConstraints())


@pytest.mark.parametrize("factor", [1.0, 1e-6, 1e-8, 1e-9, 1e-12])
@pytest.mark.parametrize("seed", range(4))
def test_tiny_scores_are_solved_to_brute_forces_optimum(seed, factor):
    """Fails on the old code at 1e-8 and below (no pair, objective 0, "optimal")."""
    p = _random_problem(seed, factor)
    best = feasible_assignments(p).best_total
    sol = solve_cpsat(p)
    assert sol.status == "optimal" and sol.gap <= 1e-6
    assert sol.objective == pytest.approx(best, rel=1e-6)
    assert sol.bound >= best * (1 - 1e-12)


@pytest.mark.parametrize("k", [-40, -7, 3, 25])
@pytest.mark.parametrize("seed", range(4))
def test_scores_times_a_power_of_two_give_the_same_pairs(seed, k):
    """The same integers reach CP-SAT: the same pairs, and the objective and bound times 2**k."""
    p = _random_problem(seed, 1.0)
    q = AssignmentProblem(p.pairs, p.score * 2.0 ** k, p.capacity)
    a, b = solve_cpsat(p), solve_cpsat(q)
    assert np.array_equal(CpsatModel(p, scale=objective_scale(p)).sc,
                          CpsatModel(q, scale=objective_scale(q)).sc)
    assert a.chosen.tolist() == b.chosen.tolist() and a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective * 2.0 ** k, rel=1e-12)
    assert b.bound == pytest.approx(a.bound * 2.0 ** k, rel=1e-12)


@pytest.mark.parametrize("n", [1, 3])
def test_a_step_too_coarse_for_the_scores_says_feasible_with_its_bound(n):
    """The status rule alone (the step forced back to the old 1e-6): CP-SAT's OPTIMAL on scores
    rounded to 0 is "feasible", with a bound above brute force's optimum and the gap it leaves
    (CP-SAT alone: this plain problem's flow start taken away). With it, the flow's certificate
    proves the optimum: "optimal", every pair taken."""
    p = AssignmentProblem(Candidates.complete(n, 1), np.full(n, 1e-8), np.array([float(n)]))
    with mock.patch.object(cpsat, "objective_scale", lambda problem: 10 ** 6):
        with mock.patch.object(cpsat, "_flow_start", lambda *args: None):
            sol = solve_cpsat(p)
        started = solve_cpsat(p)
    assert sol.certificate["cpsat_status"] == "OPTIMAL" and sol.status == "feasible"
    assert sol.bound >= n * 1e-8 and sol.gap > 1e-6
    assert "rounded" in sol.message
    assert started.status == "optimal" and started.objective == pytest.approx(n * 1e-8, rel=1e-12)
    assert started.bound >= n * 1e-8 * (1 - 1e-12) and len(started.chosen) == n


@pytest.mark.parametrize("seed", range(4))
def test_a_score_floor_on_tiny_scores_holds(seed):
    """The score floor's rows read the scores in the engine's unit: at 1e-9 the floor still
    binds (before, its scores rounded to 0 and every assignment met it). Brute force on the same
    problem at scores x 1 and x 1e-9 (a floor compares shares: the same answer)."""
    rng = np.random.default_rng(seed)
    score = rng.random(12)
    score[6:] *= 0.4  # group 1 (mentees 2 and 3) scores lower: the floor binds
    side = SideConstraints(group=np.array([0, 0, 1, 1]), score_floor=0.9)
    chosen = []
    for factor in (1.0, 1e-9):
        p = AssignmentProblem(Candidates.complete(4, 3), score * factor,
                              np.array([1.0, 1.0, 1.0]), side=side)
        bf = feasible_assignments(p)
        unconstrained = feasible_assignments(AssignmentProblem(p.pairs, p.score, p.capacity))
        assert bf.best_total < unconstrained.best_total * 0.9  # the floor binds
        sol = solve_cpsat(p)
        assert violations(p, sol.chosen) == []
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(bf.best_total, rel=1e-6), factor
        chosen.append(sol.chosen.tolist())
    assert chosen[0] == chosen[1]


@pytest.mark.parametrize("score", [1.4e-9, 1e-8, 4e-7])
def test_assign_with_cpsat_on_tiny_scores_pairs_every_mentee(score):
    """The hunt's case through ``assign()``: every mentee paired, objective n x score."""
    scores = pd.DataFrame([[score]] * 3, index=["e0", "e1", "e2"], columns=["m1"])
    r = mm.assign(scores, pd.Series({"m1": 3}), solver="cpsat")
    assert len(r.pairs) == 3 and r.objective == pytest.approx(3 * score, rel=1e-9)
    assert r.status == "optimal" and r.gap <= 1e-6
