"""The engine (pricing + HiGHS MIP on candidates) against an independent exact solver
(scipy.optimize.milp on the full model, written here from the definitions), on every pair source,
with time limits, bonuses and shuffled rows."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

import mentormatch as mm
from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints, SolverOptions
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.engine import solve_mip, solve_source
from mentormatch.solvers.sources import ArraySource, BlockSource


def instance(seed, n=30, m=8, density=0.6):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < density
    pairs = Candidates.from_mask(mask)
    score = np.round(rng.uniform(0.05, 1.0, len(pairs)), 3)
    cap = rng.integers(1, 6, m).astype(float)
    fixed = rng.choice([0.0, 2.0, 5.0], m)
    per = rng.choice([1.0, 2.0, 3.0], m)
    side = SideConstraints(budget=float(0.5 * (fixed.sum() + per.mean() * n)), stipend_fixed=fixed,
                           stipend_per_mentee=per, min_load=rng.integers(0, 3, m).astype(float))
    return AssignmentProblem(pairs, score, cap, side=side)


def reference(problem: AssignmentProblem) -> float:
    """The full model with x (pairs) and y (active mentors), solved by scipy's milp."""
    P, side = problem.pairs, problem.side
    K, m, n = len(P), problem.n_mentors, problem.n_mentees
    c = -np.concatenate([problem.score, np.zeros(m)])
    rows, lo, hi = [], [], []
    for i in range(n):  # one mentor each at most
        r = np.zeros(K + m); r[:K][P.mentee == i] = 1; rows.append(r); lo.append(0); hi.append(1)
    for j in range(m):
        on = P.mentor == j
        r = np.zeros(K + m); r[:K][on] = 1; r[K + j] = -problem.capacity[j]  # n_j <= cap y_j
        rows.append(r); lo.append(-np.inf); hi.append(0)
        r = np.zeros(K + m); r[:K][on] = 1; r[K + j] = -1  # y_j <= n_j
        rows.append(r); lo.append(0); hi.append(np.inf)
        r = np.zeros(K + m); r[:K][on] = 1; r[K + j] = -side.min_load[j]  # n_j >= min y_j
        rows.append(r); lo.append(0); hi.append(np.inf)
    r = np.concatenate([side.stipend_per_mentee[P.mentor], side.stipend_fixed])
    rows.append(r); lo.append(-np.inf); hi.append(side.budget)
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=np.ones(K + m),
               bounds=Bounds(0, 1), options={"mip_rel_gap": 1e-9})
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("seed", range(8))
def test_engine_equals_an_independent_milp(seed):
    p = instance(seed)
    sol = solve_mip(p, SolverOptions(time_limit=60))
    best = reference(p)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6  # the bound holds over every assignment
    # recomputed from the pairs and the inputs
    j = p.pairs.mentor[sol.chosen]
    n_j = np.bincount(j, minlength=p.n_mentors)
    assert np.all(n_j <= p.capacity)
    assert np.all((n_j == 0) | (n_j >= p.side.min_load))
    cost = p.side.stipend_fixed[n_j > 0].sum() + p.side.stipend_per_mentee[j].sum()
    assert cost <= p.side.budget + 1e-9
    assert sol.objective == pytest.approx(p.score[sol.chosen].sum())


@pytest.mark.parametrize("seed", range(4))
def test_every_source_gives_the_same_optimum(seed):
    p = instance(seed, n=40, m=10, density=0.7)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    sources = [ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, p.n_mentees, p.n_mentors),
               BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors)]
    values = []
    for src in sources:
        sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60))
        assert sol.status == "optimal"
        values.append(sol.objective)
        assert sol.objective == pytest.approx(sub.score[sol.chosen].sum())
    assert values[0] == pytest.approx(values[1], abs=1e-9)
    assert values[0] == pytest.approx(reference(p), abs=1e-6)


def test_a_time_limit_returns_a_feasible_assignment_with_its_bound():
    p = instance(3, n=400, m=60, density=0.8)
    sol = solve_mip(p, SolverOptions(time_limit=0.5))
    assert sol.status in ("optimal", "feasible")
    assert sol.bound is not None and np.isfinite(sol.bound) and sol.bound >= sol.objective - 1e-9
    if sol.status == "feasible":
        assert sol.gap > 0
    j = p.pairs.mentor[sol.chosen]
    n_j = np.bincount(j, minlength=p.n_mentors)
    cost = p.side.stipend_fixed[n_j > 0].sum() + p.side.stipend_per_mentee[j].sum()
    assert cost <= p.side.budget + 1e-9


def test_a_pair_bonus_equals_the_same_bonus_as_an_array():
    mentors, mentees = mm.synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    prepared = mm.pipeline.prepare(mentors, mentees, None)
    p = prepared.problem
    per = np.zeros(p.n_mentees)
    per[::7] = 2.0
    bonus = mm.pipeline.PairBonus(per_mentee=per, mentee=p.pairs.mentee[:5], mentor=p.pairs.mentor[:5],
                                  value=np.full(5, 1.5), n_mentors=p.n_mentors)
    a = mm.pipeline.solve(prepared, bonus)
    b = mm.pipeline.solve(prepared, bonus.on_pairs(p.pairs.mentee, p.pairs.mentor))
    assert a.pairs[["mentee_id", "mentor_id"]].equals(b.pairs[["mentee_id", "mentor_id"]])
    assert a.certificate["adjusted_objective"] == pytest.approx(b.certificate["adjusted_objective"])


ORG = mm.synthetic.organisation(n_mentees=80, n_mentors=25, seed=11)


@settings(max_examples=8, deadline=None)
@given(st.randoms(use_true_random=False), st.sampled_from([None, {"constraints": {"budget": 9000.0}}]))
def test_shuffled_rows_give_the_same_pairs(rnd, programme):
    """Ties are broken by a seeded rule over the ids, never by row order."""
    mentors, mentees = ORG
    base = mm.pair(mentors, mentees, programme)
    e_order = list(range(len(mentees))); rnd.shuffle(e_order)
    m_order = list(range(len(mentors))); rnd.shuffle(m_order)
    shuffled = mm.pair(mentors.iloc[m_order], mentees.iloc[e_order], programme)
    key = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))
    assert key(shuffled) == key(base)
    assert sorted(shuffled.unmatched["mentee_id"]) == sorted(base.unmatched["mentee_id"])
    # reported in the caller's row order
    pos = {x: k for k, x in enumerate(mentees.iloc[e_order]["id"])}
    rows = [pos[x] for x in shuffled.pairs["mentee_id"]]
    assert rows == sorted(rows)


def test_wall_time_is_the_whole_call():
    mentors, mentees = ORG
    r = mm.pair(mentors, mentees)
    assert r.wall_time >= r.certificate["solver_wall_time"]


@pytest.mark.parametrize("seed", range(6))
def test_reduced_costs_term_by_term_equal_the_matrix(seed):
    """pair_reduced_costs states the rows term by term (fast); the matrix entries are the
    definition: both agree for every family of rows."""
    from mentormatch.solvers.linear import LinearModel

    rng = np.random.default_rng(seed)
    p = instance(seed, n=25, m=6)
    n, m = p.n_mentees, p.n_mentors
    p.side.bonus = rng.uniform(0, 3, m)
    p.side.reservation = rng.uniform(0, 8, m)
    p.side.group = rng.integers(-1, 3, n)
    p.side.share_floor, p.side.score_floor = 0.3, 0.7
    p.side.balanced_load = bool(seed % 2)
    p.demand = rng.integers(1, 3, n) if seed % 3 == 0 else None
    p.__post_init__()
    for stage, cover in (("score", None), ("coverage", None), ("score", 5)):
        model = LinearModel(p, stage=stage, coverage_at_least=cover)
        prices = rng.uniform(0, 2, model.n_rows)
        extra = rng.uniform(0, 1, len(p.pairs))
        args = (p.pairs.mentee, p.pairs.mentor, p.score, prices)
        np.testing.assert_allclose(model.pair_reduced_costs(*args, extra=extra),
                                   model.pair_reduced_costs_by_matrix(*args, extra=extra), atol=1e-9)


@pytest.mark.parametrize("bounds", [False, True])
def test_a_pair_bonus_on_the_scale_path_equals_the_complete_set(monkeypatch, bounds):
    """Priority per mentee and listed pairs (continuity) at every size: folded into the scale
    path's scorer (blocks or bounds), the certified flow on score + bonus gives the adjusted
    optimum of the complete set, and reports plain scores."""
    from mentormatch import pipeline as P

    mentors, mentees = mm.synthetic.organisation(n_mentees=70, n_mentors=20, seed=8)

    def run():
        prepared = P.prepare(mentors, mentees, None)
        ids_e, ids_m = prepared.mentee_ids, prepared.mentor_ids
        per = np.zeros(len(ids_e))
        per[ids_e.encode(list(mentees["id"].iloc[[3, 10, 11]]))] = 3.0
        bonus = P.PairBonus(per_mentee=per, mentee=ids_e.encode(list(mentees["id"].iloc[[1, 2]])),
                            mentor=ids_m.encode(list(mentors["id"].iloc[[4, 7]])),
                            value=np.array([2.5, 4.0]), n_mentors=len(ids_m))
        return P.solve(prepared, bonus)

    small = run()
    monkeypatch.setattr(P, "LARGE_PAIRS", 100)
    monkeypatch.setattr(P, "USE_BOUNDS", bounds)
    big = run()
    assert big.data["pair_source"] == ("bounds" if bounds else "blocks")
    assert big.status == small.status == "optimal"
    assert big.certificate["adjusted_objective"] == pytest.approx(small.certificate["adjusted_objective"], abs=1e-6)
    assert big.objective == pytest.approx(float(big.pairs["score"].sum()))
    np.testing.assert_allclose(big.contributions.sum(axis=1), big.pairs["score"], rtol=1e-9)
