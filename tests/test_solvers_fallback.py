"""Time limits that answer (issue 23: "A time limit returns the best feasible assignment found,
with its bound and gap"; solvers/fallback.py, solvers/fair_claims.py).

At tiny limits (1e-6 s) and with the clock jumped past the limit at a solver's start, every
solver answers an assignment that meets every constraint recomputed from the inputs, accounts
for every mentee once, and carries a finite bound at least ``scipy.optimize.milp``'s optimum over
every pair; "optimal" only with a gap of at most 1e-6. Until s24 (main at 673effe):
``assign(solver="mip", time_limit=1e-6)`` answered no pairs; max-min and leximin carried no
bound (None), stopped or optimal; a share floor at a tiny limit raised ``TimeLimitError`` under
"mip", "cpsat", "maxmin" and "leximin" although the plain flow's assignment met it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

import mentormatch as mm
from mentormatch.errors import InfeasibleError, TimeLimitError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.base import OPTIMAL_GAP

from _support import JumpClock
from test_fair_source import _lexicographic_milp


def _matrix(seed: int, n: int = 30, m: int = 8, levels: int = 0):
    """Scores (with -inf for about 10 % of the pairs), capacities and ids."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.0, 5.0, (n, m))
    if levels:
        s = np.round(s * levels / 5.0) * 5.0 / levels
    s[rng.random((n, m)) < 0.1] = -np.inf
    cap = rng.integers(1, 5, m).astype(float)
    return s, cap


def _frame(s, cap):
    n, m = s.shape
    ids_e, ids_m = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    return pd.DataFrame(s, index=ids_e, columns=ids_m), pd.Series(cap, index=ids_m)


def _problem(s, cap, side: SideConstraints | None = None) -> AssignmentProblem:
    i, j = np.nonzero(s > -np.inf)
    return AssignmentProblem(Candidates(i.astype(np.int64), j.astype(np.int64), *s.shape),
                             s[i, j], cap, side=side or SideConstraints())


def _milp_total(p: AssignmentProblem) -> float | None:
    """The best total over every pair under capacities, one mentor a mentee and the side rows
    used here (share floor, budget, minimum loads); None when infeasible."""
    P, s, side = p.pairs, p.score, p.side
    K, n, m = len(P), P.n_mentees, P.n_mentors
    N = K + m
    rows, lo, hi = [], [], []

    def row(r, a, b):
        rows.append(r), lo.append(a), hi.append(b)

    for j in range(m):
        r = np.zeros(N)
        r[np.flatnonzero(P.mentor == j)] = 1.0
        r[K + j] = -float(p.capacity[j])
        row(r, -np.inf, 0.0)
        if side.min_load is not None and side.min_load[j] > 0:
            r = np.zeros(N)
            r[np.flatnonzero(P.mentor == j)] = 1.0
            r[K + j] = -float(side.min_load[j])
            row(r, 0.0, np.inf)
    for i in range(n):
        r = np.zeros(N)
        r[np.flatnonzero(P.mentee == i)] = 1.0
        row(r, -np.inf, 1.0)
    if side.budget is not None:
        r = np.r_[side.stipend_per_mentee[P.mentor], side.stipend_fixed]
        row(r, -np.inf, float(side.budget))
    if side.share_floor is not None:
        for g in np.unique(side.group[side.group >= 0]):
            members = side.group == g
            r = np.zeros(N)
            r[np.flatnonzero(members[P.mentee])] = 1.0
            row(r, float(np.ceil(side.share_floor * members.sum() - 1e-9)), np.inf)
    res = milp(-np.r_[s, np.zeros(m)], integrality=np.ones(N), bounds=Bounds(0, 1),
               constraints=LinearConstraint(csr_matrix(np.array(rows)), lo, hi))
    return None if res.status != 0 else -res.fun


def _violations(p: AssignmentProblem, chosen: np.ndarray) -> list[str]:
    """The constraints the chosen pairs break, recomputed from the problem's arrays."""
    P, side = p.pairs, p.side
    i, j = P.mentee[chosen], P.mentor[chosen]
    bad = []
    n_j = np.bincount(j, minlength=P.n_mentors)
    if np.any(n_j > p.capacity + 1e-9):
        bad.append("capacity")
    if np.any(np.bincount(i, minlength=P.n_mentees) > 1):
        bad.append("mentee")
    if side.min_load is not None and np.any((n_j > 0) & (n_j < side.min_load)):
        bad.append("min_load")
    if side.budget is not None:
        spent = side.stipend_fixed[n_j > 0].sum() + side.stipend_per_mentee[j].sum()
        if spent > side.budget + 1e-9:
            bad.append("budget")
    if side.share_floor is not None:
        matched = np.zeros(P.n_mentees, bool)
        matched[i] = True
        for g in np.unique(side.group[side.group >= 0]):
            members = side.group == g
            if matched[members].sum() < np.ceil(side.share_floor * members.sum() - 1e-9):
                bad.append("share_floor")
    return bad


def _check_claims(status: str, objective: float, bound, optimum: float) -> None:
    """A finite bound at least the optimum (and the answer); "optimal" iff gap <= 1e-6."""
    assert bound is not None and np.isfinite(bound)
    assert bound >= optimum - 1e-6 * max(1.0, abs(optimum))
    assert objective <= optimum + 1e-6 * max(1.0, abs(optimum))
    gap = (bound - objective) / max(abs(bound), 1e-12)
    if status == "optimal":
        assert gap <= OPTIMAL_GAP
    else:
        assert status == "feasible"


# ---- 1. assign(solver="mip") at a tiny limit: the plain flow's assignment ---------------------

@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("limit", [1e-6, 0.01])
def test_mip_at_a_tiny_limit_answers_the_plain_flows_assignment(seed, limit):
    s, cap = _matrix(seed)
    scores, capacity = _frame(s, cap)
    flow = mm.assign(scores, capacity)
    r = mm.assign(scores, capacity, solver="mip", time_limit=limit)
    # every mentee once; capacities and eligibility from the inputs
    assert sorted(r.pairs["mentee_id"].tolist() + r.unmatched["mentee_id"].tolist()) == sorted(scores.index)
    assert r.pairs["mentee_id"].is_unique
    load = r.pairs["mentor_id"].value_counts()
    assert all(load[k] <= capacity[k] for k in load.index)
    got = [scores.at[e, j] for e, j in zip(r.pairs["mentee_id"], r.pairs["mentor_id"])]
    assert np.all(np.isfinite(got)) and sum(got) == pytest.approx(r.objective)
    optimum = _milp_total(_problem(s, cap))
    # 8 mentors, each mentee's 12 best pairs: the flow over them is the plain optimum
    assert r.objective == pytest.approx(flow.objective) == pytest.approx(optimum)
    _check_claims(r.status, r.objective, r.bound, optimum)


# ---- 2. a share floor (and other side rows) at a tiny limit: an answer when one is known ------

def _share(s, seed: int, beta: float = 0.5) -> SideConstraints:
    group = np.random.default_rng(seed + 100).integers(0, 3, s.shape[0])
    return SideConstraints(group=group, group_names=["a", "b", "c"], share_floor=beta)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["mip", "cpsat", "maxmin", "leximin"])
def test_a_share_floor_at_a_tiny_limit_answers_the_plain_flow_when_it_meets_the_floor(seed, solver):
    s, cap = _matrix(seed)
    p = _problem(s, cap, _share(s, seed))
    optimum = _milp_total(p)
    assert optimum is not None
    sol = get_solver(solver)(p, SolverOptions(time_limit=1e-6))
    assert len(sol.chosen) > 0  # (main: TimeLimitError)
    assert _violations(p, sol.chosen) == []
    assert sol.objective == pytest.approx(float(p.score[sol.chosen].sum()))
    _check_claims(sol.status, sol.objective, sol.bound, optimum)
    assert sol.status == "feasible" and "time limit" in sol.message


@pytest.mark.parametrize("solver", ["mip", "cpsat", "maxmin", "leximin"])
def test_a_share_floor_no_known_assignment_meets_is_a_time_out_not_an_infeasibility(solver):
    # group 0 (mentees 0-3) must all be matched, but their best pairs are the other mentees'
    # best too: the plain flow leaves two of them out, and the empty assignment meets no floor
    s = np.array([[1.0, 0.1], [1.0, 0.1], [0.1, 1.0], [0.1, 1.0], [5.0, 0.2], [0.2, 5.0]])
    p = _problem(s, np.array([2.0, 2.0]), SideConstraints(
        group=np.array([0, 0, 0, 0, -1, -1]), group_names=["a"], share_floor=1.0))
    assert _milp_total(p) is not None  # feasible: mentees 0-3 take the four places
    with pytest.raises(TimeLimitError) as e:
        get_solver(solver)(p, SolverOptions(time_limit=1e-6))
    assert not isinstance(e.value, InfeasibleError) and "time limit" in str(e.value)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["budget", "min_load"])
def test_the_engine_repairs_the_plain_flow_at_a_tiny_limit(seed, kind):
    s, cap = _matrix(seed)
    m = s.shape[1]
    side = (SideConstraints(budget=15.0, stipend_fixed=np.full(m, 2.0),
                            stipend_per_mentee=np.full(m, 1.0)) if kind == "budget"
            else SideConstraints(min_load=np.full(m, 2.0)))
    p = _problem(s, cap, side)
    optimum = _milp_total(p)
    sol = get_solver("mip")(p, SolverOptions(time_limit=1e-6))
    assert _violations(p, sol.chosen) == []
    # the flow meets the minimum loads here (673effe: no pairs); the repair keeps pairs within
    # the budget (heuristics.within_budget; 31cb7f7 dropped every pair here)
    assert len(sol.chosen) > 0
    _check_claims(sol.status, sol.objective, sol.bound, optimum)


# ---- 3. max-min and leximin: the bounds every answer carries ----------------------------------

def _lex_optimum(p: AssignmentProblem):
    return _lexicographic_milp(p, {})


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("limit", [None, 1e-6])
def test_maxmin_and_leximin_answers_carry_count_worst_and_total_bounds(seed, objective, limit):
    s, cap = _matrix(seed, n=14, m=5, levels=4)
    scores, capacity = _frame(s, cap)
    r = mm.assign(scores, capacity, solver=objective, time_limit=limit)
    p = _problem(s, cap)
    M, t, T = _lex_optimum(p)
    assert r.pairs["mentee_id"].is_unique
    assert len(r.pairs) + len(r.unmatched) == len(scores)
    got = np.array([scores.at[e, j] for e, j in zip(r.pairs["mentee_id"], r.pairs["mentor_id"])])
    assert np.all(np.isfinite(got))
    c = r.certificate
    assert c["count_bound"] >= M >= len(got)
    assert c["threshold_bound"] >= t - 1e-9
    assert r.bound is not None and r.bound == c["total_bound"]
    assert r.bound >= r.objective - 1e-9
    if r.status == "optimal":
        assert r.gap <= OPTIMAL_GAP and len(got) == M and got.min() == pytest.approx(t)
        assert c["count_bound"] == M and c["threshold_bound"] == pytest.approx(t)
    else:
        assert r.status == "feasible"
    if objective == "maxmin" or r.status != "optimal":
        # (a stopped or max-min answer's bound holds over every assignment: at least T*, the
        # best total among max-min's optima; an optimal leximin's bound is its own total)
        assert r.bound >= T - 1e-6
    if limit is None:
        assert r.status == "optimal"


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_maxmin_stopped_at_its_kth_flow_carries_bounds_over_every_assignment(monkeypatch, seed, k):
    from mentormatch.solvers import bottleneck

    s, cap = _matrix(seed, n=14, m=5)
    scores, capacity = _frame(s, cap)
    clock = JumpClock(monkeypatch)
    seen = {"flows": 0}
    inner = bottleneck.ThresholdBlocks

    class Hooked(inner):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            seen["flows"] += 1
            if seen["flows"] == k:
                clock.jump()

    monkeypatch.setattr(bottleneck, "ThresholdBlocks", Hooked)
    r = mm.assign(scores, capacity, solver="maxmin", time_limit=60.0)
    in_solve = seen["flows"]  # (reading the pairs may re-solve for the unmatched reasons)
    M, t, T = _lex_optimum(_problem(s, cap))
    got = np.array([scores.at[e, j] for e, j in zip(r.pairs["mentee_id"], r.pairs["mentor_id"])])
    assert np.all(np.isfinite(got)) and r.pairs["mentee_id"].is_unique
    load = r.pairs["mentor_id"].value_counts()
    assert all(load[x] <= capacity[x] for x in load.index)
    c = r.certificate
    assert r.bound is not None and r.bound >= T - 1e-6  # (main: None)
    assert c["count_bound"] >= M and c["threshold_bound"] >= t - 1e-9
    if in_solve >= k:  # the clock jumped inside the run: nothing after it is claimed,
        # unless the three bounds themselves prove the answer (count, worst pair and total met)
        if r.status == "optimal":
            assert c["proven_by"] == "count, worst pair and total at their bounds"
            assert (len(got), got.min(), got.sum()) == pytest.approx((M, t, T), abs=1e-6)
        else:
            assert r.status == "feasible" and c["timed_out"]


@pytest.mark.parametrize("seed", range(3))
def test_cpsat_on_a_plain_problem_at_a_tiny_limit_answers_the_plain_flow(seed):
    s, cap = _matrix(seed)
    scores, capacity = _frame(s, cap)
    r = mm.assign(scores, capacity, solver="cpsat", time_limit=1e-6)
    optimum = _milp_total(_problem(s, cap))
    assert len(r.pairs) > 0 and r.pairs["mentee_id"].is_unique  # (main: no pair)
    load = r.pairs["mentor_id"].value_counts()
    assert all(load[k] <= capacity[k] for k in load.index)
    got = [scores.at[e, j] for e, j in zip(r.pairs["mentee_id"], r.pairs["mentor_id"])]
    assert np.all(np.isfinite(got)) and sum(got) == pytest.approx(r.objective)
    _check_claims(r.status, r.objective, r.bound, optimum)


@pytest.mark.parametrize("seed", range(3))
def test_a_maxmin_answer_at_its_three_bounds_is_optimal_and_leximins_is_not_claimed(seed):
    # every eligible pair scores 1: the most pairs is every place, the worst pair 1 and the
    # total the count, all three reached by the plain flow the time limit leaves
    rng = np.random.default_rng(seed)
    s = np.where(rng.random((20, 4)) < 0.2, -np.inf, 1.0)
    cap = np.full(4, 3.0)
    scores, capacity = _frame(s, cap)
    M, t, T = _lex_optimum(_problem(s, cap))
    r = mm.assign(scores, capacity, solver="maxmin", time_limit=1e-6)
    assert len(r.pairs) == M and r.objective == pytest.approx(T)
    assert r.status == "optimal" and r.gap <= OPTIMAL_GAP  # (main: "feasible", bound None)
    assert r.certificate["count_bound"] == M and r.certificate["threshold_bound"] == t
    lex = mm.assign(scores, capacity, solver="leximin", time_limit=1e-6)
    assert lex.bound >= lex.objective and lex.status in ("optimal", "feasible")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("solver", ["cpsat", "maxmin", "leximin"])
def test_a_budget_at_a_tiny_limit_answers_the_flow_within_the_places_it_buys(seed, solver):
    s, cap = _matrix(seed)
    m = s.shape[1]
    p = _problem(s, cap, SideConstraints(budget=15.0, stipend_fixed=np.full(m, 2.0),
                                         stipend_per_mentee=np.full(m, 1.0)))
    optimum = _milp_total(p)
    sol = get_solver(solver)(p, SolverOptions(time_limit=1e-6))
    assert len(sol.chosen) > 0 and _violations(p, sol.chosen) == []  # (main: TimeLimitError)
    assert sol.objective == pytest.approx(float(p.score[sol.chosen].sum()))
    _check_claims(sol.status, sol.objective, sol.bound, optimum)


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [3, 4])
def test_optimal_fair_answers_carry_the_same_bounds_on_every_source(objective, seed):
    from mentormatch import synthetic

    from _support import on_source

    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=seed)
    got = []
    for kind in ("complete", "blocks", "bounds"):
        with on_source(kind):
            r = mm.pair(mentors, mentees, {"fairness": {"objective": objective}})
        c = r.certificate
        got.append((r.status, round(r.objective, 9), None if r.bound is None else round(r.bound, 9),
                    c.get("count_bound"), c.get("threshold_bound")))
    assert got[0][0] == "optimal" and got[0][2] == got[0][1]  # (main: bound None)
    assert got[0][3] == len(r.pairs) and got[0][4] == pytest.approx(r.pairs["score"].min())
    assert got[1:] == [got[0], got[0]]
