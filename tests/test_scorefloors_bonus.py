"""Score floors with an objective bonus (priority) go to the score floors' Lagrangian
(:mod:`mentormatch.solvers.scorefloors`): its inner flows maximise ``factor x score + bonus``,
the floors read the plain scores. Checked on every pair source against an exact answer written
here: brute force on 6 x 3 (every assignment enumerated, the floors checked on the plain
scores) and scipy's milp on 36 x 12 (objective ``score + bonus``, floors on the plain scores):

* the Lagrangian is called with the bonus, and every answer it gives has a value at most the
  exact optimum of ``score + bonus`` and a bound at least that optimum (a bound over all pairs);
* with the Lagrangian's answer alone (the engine's size threshold lowered so that it returns
  it), the pairs meet the floors recomputed from the tables, and "optimal" means the optimum;
* at the engine's size policy, the pairs' ``score + bonus`` is the exact optimum.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import mentormatch as mm
from mentormatch import constraints as C
from mentormatch import pipeline as pl
from mentormatch.solvers import SideConstraints, route, scorefloors
from mentormatch.testing import feasible_assignments

from _support import SOURCES, on_source, result_positions, table_violations

METHOD = "lagrangian score floors + certified flow"


def _case(seed: int, n: int, m: int, floor: float):
    """(mentors, mentees, programme): priorities 0, 1 or 2 at weight 0.5, a score floor by
    region."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    mentees = mentees.assign(priority=rng.choice([0.0, 1.0, 2.0], len(mentees)))
    if n <= 6:
        mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    programme = {"constraints": {"management_line": False, "priority_weight": 0.5},
                 "fairness": {"score_floor": floor, "floor_group": "region"}, "time_limit": 60}
    return mentors, mentees, programme


def _bonus(complete) -> np.ndarray:
    p = complete.problem
    return C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)


def _milp_optimum(p, objective: np.ndarray) -> float:
    """max objective . x over assignments of ``p`` (one mentor per mentee, capacities) meeting
    the score floors on the plain scores ``p.score``."""
    P, side = p.pairs, p.side
    K, n = len(P), p.n_mentees
    rows, lo, hi = [], [], []
    for i in range(n):
        rows.append((P.mentee == i).astype(float)); lo.append(0); hi.append(1)
    for j in range(p.n_mentors):
        rows.append((P.mentor == j).astype(float)); lo.append(0); hi.append(p.capacity[j])
    for g in ([] if side.score_floor is None else np.unique(side.group[side.group >= 0])):
        in_g = side.group[P.mentee] == g
        size = int(np.sum(side.group == g))
        rows.append(p.score * (n * in_g - side.score_floor * size)); lo.append(0); hi.append(np.inf)
    res = milp(-objective, constraints=LinearConstraint(np.array(rows), lo, hi),
               integrality=np.ones(K), bounds=Bounds(0, 1), options={"mip_rel_gap": 1e-9})
    assert res.status == 0, res.message
    return -res.fun


def _brute_optimum(p, objective: np.ndarray) -> float:
    bf = feasible_assignments(p)  # the floors checked on p.score, the plain scores
    return float((bf.x.astype(float) @ objective)[bf.feasible].max())


def _spy(monkeypatch) -> list:
    """Record each call of the score floors' Lagrangian: (its bonus, its result)."""
    calls, real = [], scorefloors.solve_score_floors

    def spy(*args, **kwargs):
        res = real(*args, **kwargs)
        calls.append((kwargs.get("bonus"), res))
        return res

    monkeypatch.setattr(scorefloors, "solve_score_floors", spy)
    return calls


def _check(monkeypatch, mentors, mentees, programme, exact, lagrangian_only: bool,
           must_answer: bool = False):
    """See the module docstring; ``must_answer``: the Lagrangian must give an assignment (on
    6 x 3 its flows may meet no floor: it answers None and the column generation runs)."""
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _bonus(complete)
    best = exact(p, p.score + extra)
    free = dataclasses.replace(p, side=SideConstraints())
    assert exact(free, p.score + extra) > best + 1e-6  # the floor binds
    if lagrangian_only:
        monkeypatch.setattr(route, "LAGRANGE_PAIRS", -1)  # the Lagrangian's answer is returned
    for kind in SOURCES:
        calls = _spy(monkeypatch)
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        assert (r.data.get("pair_source") or "complete") == kind
        assert calls and all(b is not None for b, _ in calls), kind
        unit = r.certificate["score_unit"]  # the Lagrangian works in the engine's unit
        for _, res in calls:
            if res is not None:
                value, bound = res.value / unit, res.bound / unit
                assert value <= best + 1e-6 and bound >= best - 1e-6, kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        adjusted = float((p.score + extra)[pos].sum())
        cert = r.certificate
        assert cert["objective"] == "score + bonus" and r.bound is None
        assert cert["adjusted_objective"] == pytest.approx(adjusted, abs=1e-6), kind
        assert adjusted <= best + 1e-6 and cert["adjusted_bound"] >= best - 1e-6, kind
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9)
        answered = any(res is not None for _, res in calls)
        assert answered or not must_answer, kind
        if lagrangian_only and answered:
            assert cert["method"] == METHOD, kind
        if r.status == "optimal" or not lagrangian_only:
            assert adjusted == pytest.approx(best, abs=1e-6), kind


@pytest.mark.parametrize("lagrangian_only", [False, True], ids=["size_policy", "lagrangian"])
@pytest.mark.parametrize("seed", [0, 5, 30])
def test_tiny_against_brute_force(monkeypatch, seed, lagrangian_only):
    _check(monkeypatch, *_case(seed, 6, 3, 0.9), _brute_optimum, lagrangian_only)


@pytest.mark.parametrize("lagrangian_only", [False, True], ids=["size_policy", "lagrangian"])
@pytest.mark.parametrize("seed,floor", [(3, 0.97), (5, 0.97), (11, 0.98)])
def test_small_against_milp(monkeypatch, seed, floor, lagrangian_only):
    _check(monkeypatch, *_case(seed, 36, 12, floor), _milp_optimum, lagrangian_only,
           must_answer=True)


def test_a_bonus_function_on_blocks_is_not_folded():
    """A bonus given as a plain function on a source that does not hold its pairs cannot be
    folded (the engine then keeps its column generation); on the complete set every pair's
    value is listed, and a PairBonus's own on_pairs is taken as it is."""
    from mentormatch.solvers.base import PairBonus
    from mentormatch.solvers.sources import ArraySource, BlockSource

    blocks = BlockSource(lambda rows: np.zeros((rows.stop - rows.start, 2)), 2, 2)
    assert scorefloors.fold_bonus(blocks, lambda i, j: 0.0 * i) is None
    assert scorefloors.fold_bonus(blocks, None) is None
    pb = PairBonus(per_mentee=np.array([0.3, 0.0]), n_mentors=2)
    assert scorefloors.fold_bonus(blocks, pb.on_pairs) is pb
    src = ArraySource(np.array([0, 1]), np.array([1, 0]), np.array([0.4, 0.6]), 2, 2)
    folded = scorefloors.fold_bonus(src, pb.on_pairs)
    assert folded is pb
    listed = scorefloors.fold_bonus(src, lambda i, j: 0.1 * j + 0.2 * i)
    assert listed.apply(src.s, src.i, src.j).tolist() == pytest.approx([0.5, 0.8])
