"""Bounds, repairs and plans that a recomputation once contradicted (issue 23's smaller honesty
gaps, s25h7), each against ``scipy.optimize.milp`` or the constraints recomputed from the inputs:

* the engine's stage stopped before its first LP (``stage._best_pairs_bound``) counted the mentee
  side only: 579.18 on a 120 x 30 instance whose optimum is 439.03; now the least of both sides,
  stated once (``fair_bounds.total_bound``);
* ``heuristics.repair`` over a budget could drop every pair (a mentor's fixed stipend saved only
  with its last pair); now never below the pairs kept best score first, within the budget;
* ``fair_bounds.knapsack_plan`` counted a mentor's places over mentees with no demand;
* ``fair_bounds.threshold_bound`` counted a mentee with demand ``d`` at its best score ``d``
  times."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.fair_bounds import (knapsack_plan, per_mentee, per_mentor,
                                             source_figures, threshold_bound, total_bound)
from mentormatch.solvers.flow import solve_arrays
from mentormatch.solvers.sources import ArraySource


def _instance(seed: int, n: int, m: int, max_demand: int = 1):
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.0, 5.0, (n, m)).round(2)
    s[rng.random((n, m)) < 0.1] = -np.inf
    cap = rng.integers(1, 4, m).astype(float)
    dem = rng.integers(1, max_demand + 1, n).astype(float)
    return s, cap, dem


def _problem(s, cap, dem=None, side=None) -> AssignmentProblem:
    i, j = np.nonzero(s > -np.inf)
    return AssignmentProblem(Candidates(i.astype(np.int64), j.astype(np.int64), *s.shape), s[i, j],
                             cap, demand=None if dem is None else dem, side=side or SideConstraints())


def _milp(p: AssignmentProblem, weight=None, keep=None, budget=None) -> float | None:
    """The most of ``weight`` (default the scores) over the pairs ``keep`` (default all) with
    capacities, demands and (``budget``: fixed and per-mentee stipends) a budget; None when
    infeasible."""
    P = p.pairs
    K, n, m = len(P), P.n_mentees, P.n_mentors
    w = p.score if weight is None else weight
    ub = np.ones(K) if keep is None else keep.astype(float)
    N = K + m
    A = np.zeros((n + 2 * m + 1, N))
    A[P.mentee, np.arange(K)] = 1.0
    A[n + P.mentor, np.arange(K)] = 1.0
    A[n + m + P.mentor, np.arange(K)] = 1.0  # x_ij <= y_j summed: sum_i x_ij - cap_j y_j <= 0
    A[n + m + np.arange(m), K + np.arange(m)] = -np.asarray(p.capacity, float)
    hi = np.r_[np.asarray(p.demand, float), np.asarray(p.capacity, float), np.zeros(m), np.inf]
    if budget is not None:
        fixed, per, B = budget
        A[-1] = np.r_[per[P.mentor], fixed]
        hi[-1] = B
    res = milp(-np.r_[w, np.zeros(m)], integrality=np.ones(N),
               bounds=Bounds(0, np.r_[ub, np.ones(m)]),
               constraints=LinearConstraint(csr_matrix(A), -np.inf, hi))
    return None if res.status != 0 else -res.fun


# ---- 1. the stage's bound before its first LP: the least of both sides -------------------------

def _sides(s, cap, dem) -> float:
    """Each mentee's ``d`` best positive scores, and each mentor's ``cap`` best, summed; the
    least of the two (numpy over the dense matrix, independent of the library)."""
    pos = np.where(np.isfinite(s), np.maximum(s, 0.0), 0.0)
    by_row = -np.sort(-pos, axis=1)
    by_col = -np.sort(-pos, axis=0)
    mentees = sum(by_row[i, :int(d)].sum() for i, d in enumerate(dem))
    mentors = sum(by_col[:int(c), j].sum() for j, c in enumerate(cap))
    return min(mentees, mentors)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape, max_demand", [((120, 30), 1), ((60, 20), 3)])
def test_a_stage_stopped_before_its_first_lp_bounds_by_both_sides(seed, shape, max_demand):
    s, cap, dem = _instance(seed, *shape, max_demand)
    if seed == 0 and shape == (120, 30):  # s24h8's instance: 579.18 on main, optimum 439.03
        rng = np.random.default_rng(1)
        s = rng.uniform(0, 5, shape).round(2)
        s[rng.random(shape) < 0.05] = -np.inf
        cap = np.full(30, 3.0)
    p = _problem(s, cap, dem)
    sol = get_solver("mip")(p, SolverOptions(time_limit=1e-6))
    optimum = _milp(p)
    assert sol.status in ("feasible", "optimal") and sol.bound is not None
    assert sol.objective <= optimum + 1e-6 and sol.bound >= optimum - 1e-6
    assert sol.bound <= _sides(s, cap, dem) + 1e-6  # main: the mentee side alone


# ---- 2. the repair over a budget keeps the most score per money --------------------------------

def _greedy_by_score(p: AssignmentProblem, chosen: np.ndarray, fixed, per, budget) -> float:
    """The pairs of ``chosen`` taken best score first, each when its stipends still fit."""
    P = p.pairs
    left, opened, total = budget, set(), 0.0
    for q in sorted(chosen.tolist(), key=lambda q: (-p.score[q], q)):
        j = int(P.mentor[q])
        cost = per[j] + (0.0 if j in opened else fixed[j])
        if cost <= left + 1e-9:
            left -= cost
            opened.add(j)
            total += p.score[q]
    return total


def _spent(p, chosen, fixed, per) -> float:
    j = p.pairs.mentor[chosen]
    return float(fixed[np.unique(j)].sum() + per[j].sum())


@pytest.mark.parametrize("seed", range(8))
def test_the_repair_over_a_budget_keeps_at_least_the_best_scores_that_fit(seed):
    """The plain flow's assignment over a budget (one mentor's fixed stipend above it): the
    answer at a tiny limit is the repaired flow; it meets the budget recomputed here and is
    worth at least the flow's pairs kept best score first (main: every pair dropped)."""
    rng = np.random.default_rng(seed)
    n, m = 24, 6
    s, cap, _ = _instance(seed, n, m)
    s[:, 0] = np.where(np.isfinite(s[:, 0]), s[:, 0] + 5.0, s[:, 0])  # the expensive one: best
    fixed = np.r_[100.0, rng.uniform(0, 3, m - 1).round(1)]
    per = rng.uniform(0.5, 2.0, m).round(1)
    p0 = _problem(s, cap)
    flow = solve_arrays(p0.pairs.mentee, p0.pairs.mentor, p0.score, cap.astype(np.int64),
                        np.ones(n, np.int64))
    chosen = np.flatnonzero(flow.chosen)
    budget = float(_spent(p0, chosen, fixed, per) - 100.0 + 0.5 * fixed[1:].sum())
    assert 0 in p0.pairs.mentor[chosen] and budget < 100.0
    side = SideConstraints(budget=budget, stipend_fixed=fixed, stipend_per_mentee=per)
    p = _problem(s, cap, side=side)
    sol = get_solver("mip")(p, SolverOptions(time_limit=1e-6))
    assert _spent(p, sol.chosen, fixed, per) <= budget + 1e-9
    assert np.all(np.bincount(p.pairs.mentor[sol.chosen], minlength=m) <= cap)
    assert np.all(np.bincount(p.pairs.mentee[sol.chosen], minlength=n) <= 1)
    assert sol.objective >= _greedy_by_score(p, chosen, fixed, per, budget) - 1e-9 > 0
    optimum = _milp(p, budget=(fixed, per, budget))
    assert sol.objective <= optimum + 1e-6 <= sol.bound + 2e-6


def test_a_budget_below_the_expensive_mentors_fixed_stipend_keeps_the_others():
    s = np.array([[5.0, 1.0, 1.0]] * 6)
    side = SideConstraints(budget=50.0, stipend_fixed=np.array([100.0, 0.0, 0.0]),
                           stipend_per_mentee=np.ones(3))
    p = _problem(s, np.full(3, 2.0), side=side)
    sol = get_solver("mip")(p, SolverOptions(time_limit=1e-6))
    assert sol.objective == pytest.approx(4.0) == pytest.approx(_milp(p, budget=(
        side.stipend_fixed, side.stipend_per_mentee, 50.0)))  # main: 0 pairs


# ---- 3. the knapsack plan: places no mentee can take are not bought ----------------------------

def test_the_knapsack_plan_counts_only_places_mentees_can_take():
    """Mentor 0 (100 fixed, capacity 5) is eligible to mentees 0, 1 and three with no demand;
    mentor 1 (30 a mentee) to mentees 0-2. Budget 100: mentor 1's three places are the most
    pairs (milp: 3); main counted mentor 0's five places (20 each) and planned it alone (2)."""
    s = np.full((6, 2), -np.inf)
    s[[0, 1, 3, 4, 5], 0] = 1.0
    s[[0, 1, 2], 1] = 1.0
    cap, dem = np.array([5.0, 5.0]), np.array([1.0, 1, 1, 0, 0, 0])
    fixed, per = np.array([100.0, 0.0]), np.array([0.0, 30.0])
    side = SideConstraints(budget=100.0, stipend_fixed=fixed, stipend_per_mentee=per)
    p = _problem(s, cap, dem)
    fig = source_figures(ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, 6, 2))
    loads = knapsack_plan(fig, cap, dem, side)
    most = _milp(p, weight=np.ones(len(p.pairs)), budget=(fixed, per, 100.0))
    within = _milp(_problem(s, loads, dem), weight=np.ones(len(p.pairs)))
    assert most == pytest.approx(3.0) and within == pytest.approx(most)


@pytest.mark.parametrize("seed", range(10))
def test_the_knapsack_plan_meets_the_budget_and_each_capacity(seed):
    rng = np.random.default_rng(seed)
    s, cap, dem = _instance(seed, 30, 8, 2)
    dem[rng.random(30) < 0.3] = 0
    fixed, per = rng.uniform(0, 40, 8).round(), rng.uniform(5, 30, 8).round()
    B = float(rng.uniform(60, 200))
    side = SideConstraints(budget=B, stipend_fixed=fixed, stipend_per_mentee=per)
    p = _problem(s, cap, dem)
    fig = source_figures(ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, 30, 8))
    loads = knapsack_plan(fig, cap, dem, side)
    assert np.all(loads <= cap + 1e-9)
    assert float(fixed[loads > 0].sum() + (per * loads).sum()) <= B + 1e-9
    # at most the mentees with a demand and an eligible pair, and its eligible mentees
    matchable = int(((dem > 0) & np.isfinite(s).any(axis=1)).sum())
    assert np.all(loads <= np.minimum(matchable, np.isfinite(s).sum(axis=0)))


# ---- 4. the worst pair's bound: a mentee with demand d counts its d best pairs -----------------

def _best_worst(p: AssignmentProblem, count: int) -> float:
    """The best worst pair of any assignment of at least ``count`` pairs (-inf: none), by
    milp: the most pairs at or above each score level."""
    best = -np.inf
    for level in np.unique(p.score):
        got = _milp(p, weight=np.ones(len(p.pairs)), keep=p.score >= level)
        if got is not None and got >= count - 1e-9:
            best = max(best, float(level))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_demand", [2, 3, 4])
def test_the_worst_pair_bound_with_demands_above_one_holds_against_milp(seed, max_demand):
    s, cap, dem = _instance(seed, 10, 4, max_demand)
    s = np.round(s)  # few levels: milp's bisection stays short
    cap = cap + 2
    p = _problem(s, cap, dem)
    src = ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, *s.shape)
    fig = source_figures(src, per_mentor(cap), per_mentee(dem))
    most = int(round(_milp(p, weight=np.ones(len(p.pairs)))))
    for count in range(1, most + 1):
        assert threshold_bound(fig, count, cap, dem, None) >= _best_worst(p, count) - 1e-9
    optimum = _milp(p)
    assert optimum <= total_bound(fig, cap, dem, None) + 1e-9


def test_a_mentee_with_demand_two_counts_its_two_best_pairs():
    """Two mentees asking for two mentors each, each with one pair at 0.9 and one at 0.1: every
    assignment of 4 pairs has a worst pair of 0.1 (main's bound: 0.9, each mentee's best twice)."""
    s = np.array([[0.9, 0.1], [0.1, 0.9]])
    cap, dem = np.array([2.0, 2.0]), np.array([2.0, 2.0])
    p = _problem(s, cap, dem)
    fig = source_figures(ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, 2, 2), 1,
                         per_mentee(dem))
    assert _best_worst(p, 4) == pytest.approx(0.1)
    assert threshold_bound(fig, 4, cap, dem, None) == pytest.approx(0.1)
    assert total_bound(fig, cap, dem, None) == pytest.approx(2.0)
