"""Properties of the engine's answers to a stipend budget (fixed and per-mentee stipends, either
or both), minimum loads and incentives against reservation values, drawn by hypothesis, on
every pair source (the complete set, cached blocks, bounds) and under shuffled mentee rows;
with the budget's Lagrangian forced (``route.LAGRANGE_PAIRS = 0``, the route of large rounds)
or at the engine's size policy (column generation). Against scipy's milp on the full model
(``full_model_optimum``), every constraint recomputed from the caller's tables:

* the pairs meet every constraint, the objective is their scores' sum;
* objective <= milp's optimum <= bound; "optimal" exactly when the gap is within 1e-6;
* the same pairs, status and objective on every source and whatever the rows' order.

The vectorised fill of the Lagrangian's primal (``budget_fill.fill``) against the pair-by-pair
greedy it replaced, on random candidate sets."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.rules import Rules
from mentormatch.solvers import budget_fill, route

from _support import SOURCES, on_source, result_positions, table_violations
from test_checks_matrix_small import full_model_optimum


def budget_round(seed: int, n: int, m: int, family: str, min_loads: bool, two: bool,
                 share: float):
    """(mentors, mentees, programme): a synthetic organisation, its stipends the generator's
    (``family`` "synthetic") or varied (fixed and per-mentee stipends, "both", or either alone),
    with bonuses and reservation values, minimum loads (or none), some mentees wanting two
    mentors (``two``); a budget of ``share`` of the plain optimum's stipends, or incentives."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    cap = mentors["capacity"].to_numpy()
    low = np.minimum(rng.integers(0, 3, m), cap) if min_loads else np.zeros(m, int)
    mentors = mentors.assign(min_capacity=low)
    if family != "synthetic":
        fixed = rng.choice([0.0, 200.0, 500.0], m) if family != "per" else np.zeros(m)
        per = rng.choice([100.0, 250.0, 400.0], m) if family != "fixed" else np.zeros(m)
        mentors = mentors.assign(stipend_fixed=fixed, stipend_per_mentee=per,
                                 bonus=rng.choice([100.0, 300.0, 600.0], m),
                                 reservation_value=rng.choice([0.0, 400.0, 900.0, 1500.0], m))
    if two:
        mentees = mentees.assign(mentors_needed=np.where(rng.random(n) < 0.3, 2, 1))
    if family == "incentives":
        return mentors, mentees, {"constraints": {"incentives": True}}
    plain = mm.pair(mentors.assign(min_capacity=0), mentees)
    used = plain.pairs.groupby("mentor_id").size()
    mt = mentors.set_index("id")
    cost = float((mt.loc[used.index, "stipend_fixed"] + mt.loc[used.index, "stipend_per_mentee"]
                  * used).sum())
    return mentors, mentees, {"constraints": {"budget": round(share * cost, 2)}}


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("forced", [True, False], ids=["lagrangian", "size_policy"])
@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), n=st.integers(10, 40), m=st.integers(4, 12),
       family=st.sampled_from(["synthetic", "both", "fixed", "per", "incentives"]),
       min_loads=st.booleans(), two=st.booleans(), share=st.sampled_from([0.3, 0.5, 0.8]),
       order=st.integers(0, 2 ** 32 - 1))
# the complete set gave other pairs than blocks and bounds here before the Lagrangian's repair
# and fill drew on the flows' chosen pairs (each flow's final sparse pairs before)
@example(seed=2, n=40, m=12, family="synthetic", min_loads=True, two=False, share=0.5, order=0)
@example(seed=5, n=40, m=12, family="synthetic", min_loads=True, two=False, share=0.5, order=1)
def test_every_source_and_row_order_against_the_full_model(forced, seed, n, m, family, min_loads,
                                                           two, share, order):
    case = budget_round(seed, n, m, family, min_loads, two, share)
    with pytest.MonkeyPatch.context() as mp:
        if forced:  # the Lagrangian alone (no column generation after it: test_hunt_s26)
            mp.setattr(route, "LAGRANGE_PAIRS", 0)
            mp.setattr(route, "LAGRANGE_AFTER_GAP", float("inf"))
        _every_source(*case, family, order, forced)


def _every_source(mentors, mentees, programme, family, order, forced):
    programme = {**programme, "time_limit": 120}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    scale = sum(w for w in Rules.coerce(programme).weights.values() if w > 0)
    best = full_model_optimum(p, scale)
    assert best is not None  # (the empty assignment meets these constraints)
    shuffled = mentees.sample(frac=1.0, random_state=order % 2 ** 32)
    results = []
    for kind, rows in [(k, mentees) for k in SOURCES] + [("complete", shuffled), ("bounds", shuffled)]:
        with on_source(kind):
            r = mm.pair(mentors, rows, programme)
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-6), kind
        assert r.objective <= best + 1e-6, (kind, r.objective, best)
        assert r.bound is not None and r.bound >= best - 1e-6, (kind, r.bound, best)
        assert (r.status == "optimal") == (r.bound - r.objective <= 1e-6 * max(abs(r.bound), 1e-12)
                                           or r.bound - r.objective <= 1e-9), (kind, r.status, r.gap)
        if forced and family != "incentives":
            assert r.certificate["method"] == "lagrangian budget + certified flow", kind
        results.append((kind, r))
    base = results[0][1]
    for kind, r in results[1:]:
        assert _key(r) == _key(base), kind
        assert r.status == base.status and r.objective == pytest.approx(base.objective, abs=1e-9), kind


class _Feasible:
    """A stand-in for the engine's run: every assignment meets the model (the fill's own checks
    are what is under test)."""

    @staticmethod
    def feasible(cand, on):
        return True


def _greedy(cand, on, cap, demand, per, fixed, budget):
    """The fill pair by pair, as it was written before it was vectorised: the best-scoring
    candidates first (ties by key), each taken when its mentee and its (active) mentor have room
    and its stipend fits what the budget has left."""
    m = len(cap)
    out = on.copy()
    n_j = np.bincount(cand.j[on], minlength=m)
    active = n_j > 0
    slack = budget - float(fixed[active].sum() + per[cand.j[on]].sum())
    held = np.bincount(cand.i[on], minlength=len(demand))
    for k in sorted(range(len(cand.s)), key=lambda k: (-cand.s[k], cand.key[k])):
        i, j = cand.i[k], cand.j[k]
        if (not on[k] and cand.s[k] > 0 and active[j] and held[i] < demand[i] and n_j[j] < cap[j]
                and per[j] <= slack + 1e-9):
            out[k] = True
            held[i] += 1
            n_j[j] += 1
            slack -= per[j]
    return out


@settings(max_examples=200)
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 60), m=st.integers(1, 15),
       levels=st.sampled_from([3, 10, 1000]), spend=st.floats(0.0, 1.5))
def test_the_vectorised_fill_is_the_pair_by_pair_greedy(seed, n, m, levels, spend):
    """Random candidates (scores on a few levels: ties), demands 1-3, capacities 1-4, stipends
    with zeros, a starting assignment and a budget from none to more than enough left: the
    same pairs as the greedy pair by pair."""
    from mentormatch.solvers.relax import Candidates

    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < 0.6
    i, j = np.nonzero(mask)
    cand = Candidates(i, j, rng.integers(-1, levels, len(i)) / levels, m, np.zeros(0, np.int64))
    cap = rng.integers(1, 5, m).astype(float)
    demand = rng.integers(1, 4, n)
    per = rng.choice([0.0, 1.0, 2.0, 5.0], m)
    fixed = rng.choice([0.0, 3.0], m)
    on = np.zeros(len(cand.s), bool)
    for k in rng.permutation(len(cand.s))[: len(cand.s) // 3]:  # a start within the capacities
        if (np.sum(on & (cand.i == cand.i[k])) < demand[cand.i[k]]
                and np.sum(on & (cand.j == cand.j[k])) < cap[cand.j[k]]):
            on[k] = True
    n_j = np.bincount(cand.j[on], minlength=m)
    spent = float(fixed[n_j > 0].sum() + per[cand.j[on]].sum())
    budget = spent + spend * float(per.sum() + 1.0)
    got = budget_fill.fill(cand, on, cap, demand, per, fixed, budget, _Feasible)
    want = _greedy(cand, on, cap, demand, per, fixed, budget)
    np.testing.assert_array_equal(got, want)
