"""The engine's Lagrangian path for a budget with minimum loads (solvers/lagrange.py), forced
small: its bound holds over every assignment that an independent exact solver (scipy's milp on
the full model) finds, on every pair source; its assignment meets the constraints recomputed from
the inputs; and the per-mentor shift folded into the scale path's scorers equals the complete set
with shifted scores."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as P
from mentormatch.solvers import SolverOptions, route
from mentormatch.solvers.base import PairBonus
from mentormatch.solvers.bonus import BonusBlocks, BonusBounds
from mentormatch.solvers.certify import solve_flow_any, solve_scored
from mentormatch.solvers.engine import solve_mip, solve_source
from mentormatch.solvers.sources import ArraySource, BlockSource

from _support import force_scale_path
from test_solvers_engine import instance, reference


@pytest.fixture(autouse=True)
def _lagrangian_alone(monkeypatch):
    """The Lagrangian's own answer: no column generation after it on a large source
    (``route.LAGRANGE_AFTER_GAP``; a test below sets its own)."""
    monkeypatch.setattr(route, "LAGRANGE_AFTER_GAP", float("inf"))


def _meets(p, mentee, mentor):
    """The constraints, recomputed from the inputs for an assignment given as index arrays."""
    side = p.side
    assert len(np.unique(mentee * p.n_mentors + mentor)) == len(mentee)
    assert np.all(np.bincount(mentee, minlength=p.n_mentees) <= p.demand)
    n_j = np.bincount(mentor, minlength=p.n_mentors)
    assert np.all(n_j <= p.capacity)
    assert np.all((n_j == 0) | (n_j >= side.min_load))
    cost = side.stipend_fixed[n_j > 0].sum() + side.stipend_per_mentee[mentor].sum()
    assert cost <= side.budget + 1e-9
    eligible = p.pairs.locate(mentee, mentor)
    assert np.all(eligible >= 0)
    return float(p.score[eligible].sum())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_the_lagrangian_bound_holds_over_every_assignment(monkeypatch, seed, kind):
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(seed, n=50, m=12, density=0.7)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    src = (ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, p.n_mentees, p.n_mentors)
           if kind == "array" else BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors))
    sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=30))
    assert sol.certificate["method"] == "lagrangian budget + certified flow"
    best = reference(p)
    assert sol.bound >= best - 1e-6  # the bound holds over every pair
    got = _meets(p, sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    assert got == pytest.approx(sol.objective, abs=1e-9)
    assert sol.objective <= best + 1e-9
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best, abs=1e-6)
    else:
        assert sol.gap > 1e-6 and sol.bound > sol.objective


def test_without_a_binding_budget_the_flow_optimum_is_proven(monkeypatch):
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(2, n=40, m=10)
    p.side.budget, p.side.min_load = 1e9, np.zeros(p.n_mentors)
    sol = solve_mip(p, SolverOptions(time_limit=30))
    assert sol.status == "optimal" and sol.objective == pytest.approx(reference(p), abs=1e-6)


@pytest.mark.parametrize("seed", range(2))
def test_after_a_stalled_column_generation_the_better_of_both_holds(monkeypatch, seed):
    """Below LAGRANGE_PAIRS the Lagrangian runs after the column generation when its gap stays
    above LAGRANGE_AFTER_GAP (forced here, the column generation cut short by its work limits:
    2 nodes, no MIP; it was by a time limit of 0.1 s, which the fallback then passed by a tenth
    of the limit, and no longer runs past): the bound is the smaller valid one, the assignment
    the better feasible one."""
    from mentormatch.solvers import branch, stage

    monkeypatch.setattr(route, "LAGRANGE_AFTER_GAP", -1.0)
    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(stage, "ALL_PAIRS_AT_MOST", 0)
    monkeypatch.setattr(branch, "MAX_NODES", 2)
    p = instance(seed, n=160, m=30, density=0.7)
    sol = solve_mip(p, SolverOptions(time_limit=600))
    best = reference(p)
    ran = "lagrangian" in sol.certificate or "column_generation" in sol.certificate
    assert ran
    assert sol.bound >= best - 1e-6 and sol.objective <= best + 1e-9
    got = _meets(p, p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen])
    assert got == pytest.approx(sol.objective, abs=1e-9)
    assert (sol.status == "optimal") == (sol.gap <= 1e-6)


def _org(seed):
    mentors, mentees = mm.synthetic.organisation(n_mentees=70, n_mentors=22, seed=seed)
    mentors = mentors.copy()
    mentors["min_capacity"] = np.random.default_rng(seed).integers(0, 3, len(mentors))
    mentors["min_capacity"] = np.minimum(mentors["min_capacity"], mentors["capacity"])
    return mentors, mentees


@pytest.mark.parametrize("seed", [1, 5])
@pytest.mark.parametrize("bounds", [False, True])
def test_the_scale_path_bound_holds_against_the_full_model(monkeypatch, seed, bounds):
    """pair() on the scale path (blocks or bounds) with a budget and minimum loads: the bound is
    at least the full model's optimum, the pairs meet the constraints."""
    mentors, mentees = _org(seed)
    programme = {"constraints": {"budget": 4000.0}}
    small = P.prepare(mentors, mentees, programme)
    full = small.problem
    best = reference(full)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    source = force_scale_path(monkeypatch, bounds)
    r = mm.pair(mentors, mentees, programme)
    assert r.certificate["method"] == "lagrangian budget + certified flow"
    assert r.certificate["source"] == source
    assert r.bound >= best - 1e-6
    mentee = np.asarray(small.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64)
    mentor = np.asarray(small.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64)
    got = _meets(full, mentee, mentor)
    assert got == pytest.approx(r.objective, abs=1e-6) and got <= best + 1e-6


def test_a_per_mentor_shift_in_the_block_scorer_equals_the_complete_set():
    rng = np.random.default_rng(3)
    dense = np.where(rng.random((40, 9)) < 0.7, np.round(rng.uniform(0, 1, (40, 9)), 3), -np.inf)
    shift = rng.uniform(-0.5, 0.2, 9)
    bonus = PairBonus(per_mentor=shift, n_mentors=9)
    blocks = BonusBlocks(lambda rows: dense[rows], bonus, 9)
    np.testing.assert_array_equal(blocks(slice(0, 40)), dense + shift[None, :])
    cap = rng.integers(1, 4, 9).astype(float)
    _, a = solve_scored(blocks, cap, n_mentees=40, n_mentors=9, options=SolverOptions(top_k=2))
    i, j = np.nonzero(np.isfinite(dense))
    from mentormatch.pairs import Candidates
    from mentormatch.solvers.base import AssignmentProblem

    b = solve_flow_any(AssignmentProblem(Candidates(i, j, 40, 9), dense[i, j] + shift[j], cap),
                       SolverOptions())
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, abs=1e-9)
    i, j = np.nonzero(np.isfinite(dense))
    assert np.allclose(bonus.on_pairs(i, j), shift[j])


def test_a_per_mentor_shift_in_the_bounded_scorer_equals_the_complete_set(monkeypatch):
    from mentormatch.scale import BIG
    from mentormatch.solvers.bounded import solve_bounded

    mentors, mentees = mm.synthetic.organisation(n_mentees=70, n_mentors=20, seed=8)
    exact = P.prepare(mentors, mentees, None).problem
    monkeypatch.setattr(P, "LARGE_PAIRS", 100)
    monkeypatch.setattr(P, "USE_BOUNDS", True)
    scorer = P.prepare(mentors, mentees, None).scorer
    shift = np.random.default_rng(0).uniform(-1.5, 0.5, scorer.m)
    per = np.zeros(scorer.n)
    per[::5] = 0.7
    wrapped = BonusBounds(scorer, PairBonus(per_mentee=per, per_mentor=shift, n_mentors=scorer.m))
    up = wrapped.upper(0, scorer.n).astype(np.float64)
    rows, cols = np.nonzero(up > -BIG / 2)
    s = wrapped.exact_scores(rows, cols)
    mentee = scorer.order[rows]
    # exact scores are the complete set's plus the bonus; bounds (with the margin) hold
    want = exact.score[exact.pairs.locate(mentee, cols)] + per[mentee] + shift[cols]
    np.testing.assert_allclose(s, want, atol=1e-9)
    assert np.all(up[rows, cols] + wrapped.margin >= s - 1e-12)
    # on a column subset the shift follows the mentors
    sub = wrapped.subset(cols=np.array([3, 7, 11]))
    sub_up = sub.upper(0, sub.n).astype(np.float64)
    r2, c2 = np.nonzero(sub_up > -BIG / 2)
    np.testing.assert_allclose(sub.exact_scores(r2, c2),
                               exact.score[exact.pairs.locate(sub.order[r2], np.array([3, 7, 11])[c2])]
                               + per[sub.order[r2]] + shift[np.array([3, 7, 11])[c2]], atol=1e-9)
    cap = mentors["capacity"].to_numpy(float)
    _, a = solve_bounded(wrapped, cap)
    shifted = exact.score + per[exact.pairs.mentee] + shift[exact.pairs.mentor]
    from mentormatch.solvers.base import AssignmentProblem

    b = solve_flow_any(AssignmentProblem(exact.pairs, shifted, cap), SolverOptions())
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, abs=1e-6)


def test_side_rows_it_does_not_price_stay_on_the_column_generation(monkeypatch):
    """A reservation value (or any row besides the budget and minimum loads) keeps the model on
    the column generation, whatever the size."""
    import dataclasses

    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(1, n=30, m=8)
    q = dataclasses.replace(p, side=dataclasses.replace(p.side, reservation=np.zeros(p.n_mentors),
                                                          bonus=np.ones(p.n_mentors)))
    assert solve_mip(q, SolverOptions(time_limit=30)).certificate["method"] == "pricing + HiGHS MIP"
    assert solve_mip(p, SolverOptions(time_limit=30)).certificate["method"] == \
        "lagrangian budget + certified flow"


@pytest.mark.parametrize("seed", range(6))
def test_one_flows_prices_bound_every_lambda(seed):
    """lagrange.price_curve: the bound that the unconstrained flow's dual prices give for every
    lambda at once holds against the exact optimum (scipy's milp on the full model), and is no
    weaker at its lambda than the flow's own bound at lambda 0."""
    from mentormatch.solvers.certify import solve_sparse_certified
    from mentormatch.solvers.lagrange import price_curve
    from mentormatch.solvers.linear import budget_rounded

    p = instance(seed, n=50, m=12, density=0.7)
    plain = p.without_side()
    sol = solve_sparse_certified(plain, SolverOptions(top_k=2), 0.0)
    assert sol.status == "optimal" and sol.prices is not None
    side, cap = p.side, p.capacity
    c = side.stipend_per_mentee + np.where(cap > 0, side.stipend_fixed / np.maximum(cap, 1), 0.0)
    B = budget_rounded(side.budget, side.stipend_per_mentee, side.stipend_fixed)
    P_ = plain.pairs
    lam, bound = price_curve(sol, plain.score[sol.chosen], (P_.mentee[sol.chosen], P_.mentor[sol.chosen]),
                             plain.demand, cap, c, B)
    assert lam >= 0 and bound <= sol.bound + 1e-9  # at lambda 0 it is the flow's own bound
    assert bound >= reference(p) - 1e-6


def _share_reference(p) -> float:
    """The full share-floor model over x, solved by scipy's milp."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    P, side = p.pairs, p.side
    K = len(P)
    rows, lo, hi = [], [], []
    for i in range(p.n_mentees):
        rows.append((P.mentee == i).astype(float)); lo.append(0); hi.append(1)
    for j in range(p.n_mentors):
        rows.append((P.mentor == j).astype(float)); lo.append(0); hi.append(p.capacity[j])
    for g in np.unique(side.group[side.group >= 0]):
        rows.append((side.group[P.mentee] == g).astype(float))
        lo.append(np.ceil(side.share_floor * np.sum(side.group == g) - 1e-9)); hi.append(np.inf)
    res = milp(-p.score, constraints=LinearConstraint(np.array(rows), lo, hi),
               integrality=np.ones(K), bounds=Bounds(0, 1), options={"mip_rel_gap": 1e-9})
    assert res.status == 0  # (the instances are built feasible)
    return -res.fun


def _share_instance(seed, n=30, m=15):
    from mentormatch.solvers.base import AssignmentProblem, SideConstraints
    from mentormatch.pairs import Candidates

    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < 0.6
    pairs = Candidates.from_mask(mask)
    group = rng.integers(-1, 3, n)
    # group 0 scores low: the plain optimum leaves it short of the floor
    score = np.round(rng.random(len(pairs)) + np.where(group[pairs.mentee] == 0, -0.9, 0.0), 3)
    cap = rng.integers(1, 4, m).astype(float)
    side = SideConstraints(group=group, group_names=["a", "b", "c"], share_floor=0.6)
    return AssignmentProblem(pairs, score, cap, side=side)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_the_share_floor_lagrangian_holds_against_the_full_model(monkeypatch, seed, kind):
    """solvers/floors.py forced small: its bound holds over every assignment (scipy's milp on
    the full model), its assignment meets every floor recomputed from the inputs."""
    from mentormatch.testing import violations

    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = _share_instance(seed)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    src = (ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, p.n_mentees, p.n_mentors)
           if kind == "array" else BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors))
    best = _share_reference(p)
    plain = solve_flow_any(p.without_side(), SolverOptions())
    assert violations(p, plain.chosen) == ["share_floor"]  # the floors bind
    sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=30))
    assert sol.bound >= best - 1e-6
    assert sol.objective <= best + 1e-9
    pos = p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    assert np.all(pos >= 0) and violations(p, pos) == []
    assert float(p.score[pos].sum()) == pytest.approx(sol.objective, abs=1e-9)
    assert sol.certificate["method"] == "lagrangian share floors + certified flow"
    assert sol.status == "optimal" or sol.bound > sol.objective


@pytest.mark.parametrize("programme", [{"constraints": {"budget": 4000.0}},
                                       {"constraints": {"balanced_load": True}}],
                         ids=["budget", "balanced"])
def test_flows_on_bounds_start_from_the_last_ones_prices_and_change_nothing(monkeypatch, programme):
    """The Lagrangian's flows on bounds after the first start from the last flow's mentor prices
    (moved by each mentor's change of shift) instead of a sub-market's: the same pairs,
    objective, bound and status as cold flows, and the warm starts were taken."""
    import mentormatch.solvers.bounded.start as start
    from mentormatch.solvers import inner

    mentors, mentees = _org(1)
    if "balanced_load" in programme["constraints"]:  # (a level's flow is plain without minimum loads)
        mentors = mentors.assign(min_capacity=0)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    monkeypatch.setattr(P, "LARGE_PAIRS", 100)
    monkeypatch.setattr(P, "SCORE_CACHE_PAIRS", 0)
    taken = []
    real_solve = inner.InnerFlow.solve

    def counting(self, *args):
        out = real_solve(self, *args)
        taken.append(self.warm)
        return out

    monkeypatch.setattr(inner.InnerFlow, "solve", counting)
    warm = mm.pair(mentors, mentees, programme)
    assert warm.certificate["source"] == "BoundedSource"
    assert len(taken) >= 3 and taken[-1] == len(taken) - 1  # every flow after the first
    cold_start = start.starting_from
    monkeypatch.setattr(start, "starting_from", lambda prices: cold_start(None))
    cold = mm.pair(mentors, mentees, programme)
    assert warm.status == cold.status
    assert warm.objective == cold.objective
    assert warm.bound == pytest.approx(cold.bound, rel=1e-12, abs=1e-9)
    key = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))
    assert key(warm) == key(cold)
