"""Max-min's total with the count, the pairs and the threshold fixed (s20h4,
``solvers/maxmin_total.py``).

Under coverage_first with demands above one, max-min's flows nest three weights (mentees, pairs
at least the threshold, total), so at scale the total is exact only to a coarse integer step
(s19: at 200,000 x 40,000 with demands of 5 the answer could stay "feasible"). The total now
comes from one more certified flow whose network fixes the counts as supplies (F: the most
mentees C; R: the other places M - C) and holds only pairs at least the threshold: no weight,
the plain flow's scale. ``quantize.COVER_BITS`` narrowed makes the nested total coarse on small
problems, as at scale; every answer is checked against brute force (tiny) or HiGHS.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver, quantize
from mentormatch.solvers.bottleneck import solve_maxmin_scorer
from mentormatch.solvers.sources import BlockSource
from mentormatch.solvers.threshold import HeldRows
from mentormatch.testing import feasible_assignments, violations

from _support import SOURCES, on_source, result_positions
from test_maxmin_cover_total import _problem

#: Bits at which the nested flows' total is coarser than the gap on these small problems (the
#: s19 second stage then answered "feasible" too: checked on its code).
NARROW = 24


def _order(p: AssignmentProblem):
    """Brute force's max-min order over every feasible assignment: (mentees, pairs, worst pair,
    total) of the best."""
    bf = feasible_assignments(p)
    P = p.pairs
    mentees = np.array([len(np.unique(P.mentee[row])) for row in bf.x])
    pairs = bf.x.sum(axis=1)
    worst = np.where(np.isfinite(bf.worst), bf.worst, 0.0)
    best = bf.feasible.copy()
    for col in (mentees, pairs, worst):
        best &= col == col[best].max()
    top = bf.total[best].max()
    best &= np.isclose(bf.total, top, rtol=0, atol=1e-9)
    k = int(np.flatnonzero(best)[0])
    return int(mentees[k]), int(pairs[k]), float(worst[k]), float(top)


def _org(seed: int):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(4, 6)), 3
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=300 + seed)
    need = rng.integers(1, 4, n)
    need[0] = 2  # a demand above one: the flows count mentees
    mentors = mentors.assign(capacity=rng.integers(1, 4, m))
    rules = {"time_limit": 60, "fairness": {"objective": "maxmin"},
             "constraints": {"coverage_first": True, "management_line": False}}
    return mentors, mentees.assign(mentors_needed=need), rules


def _key(r):
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


def _stage(r) -> dict | None:
    cert = r.certificate if "second_stage" in r.certificate else r.certificate.get("maxmin", {})
    return cert.get("second_stage")


@pytest.mark.parametrize("seed", range(8))
def test_pair_with_a_coarse_nested_total_is_brute_forces_optimum_on_every_source(monkeypatch, seed):
    """pair() on the complete set, blocks and bounds with the nested total coarse: the most
    mentees, the most pairs, the best worst pair and the best total of brute force, "optimal",
    the same pairs on every source and as with the full bits. On s19's code: "feasible"."""
    mentors, mentees, rules = _org(seed)
    complete = pl.prepare(mentors, mentees, rules)
    p = complete.problem
    C, M, worst, total = _order(p)
    full = mm.pair(mentors, mentees, rules)
    monkeypatch.setattr(quantize, "COVER_BITS", NARROW)
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, rules)
        pos = result_positions(complete, r)
        assert np.all(pos >= 0) and violations(p, pos) == [], kind
        assert len(np.unique(p.pairs.mentee[pos])) == C and len(pos) == M, kind
        if M:
            assert p.score[pos].min() == pytest.approx(worst, abs=1e-12), kind
        assert p.score[pos].sum() == pytest.approx(total, abs=1e-9), kind
        assert r.status == "optimal", kind
        stage = _stage(r)
        assert stage is not None and stage["holds"], kind
        assert _key(r) == _key(full), kind


def _tiny(seed: int) -> AssignmentProblem:
    """4 mentees (demands 1-3) x 3 mentors (capacity 1-3), scores of two decimals (ties), and
    on odd seeds a lock."""
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    mask = rng.random((n, m)) < 0.75
    mask[0, :] = True
    P = Candidates.from_mask(mask)
    dem = rng.integers(1, 4, n).astype(float)
    dem[0] = 2
    locked = np.zeros(len(P), bool)
    if seed % 2:
        locked[int(rng.integers(0, len(P)))] = True
    return AssignmentProblem(P, np.round(rng.random(len(P)), 2), rng.integers(1, 4, m).astype(float),
                             dem, locked=locked, coverage_first=True)


def _blocks_maxmin(p: AssignmentProblem):
    """Max-min on the problem's pairs as a plain block scorer (the blocks path: no held
    problem), chosen pairs as positions in ``p``."""
    P = p.pairs
    rows = HeldRows(P, p.score)
    lk = np.flatnonzero(p.locked)
    final, sol = solve_maxmin_scorer(lambda r: rows(r), p.capacity, n_mentees=P.n_mentees,
                                     n_mentors=P.n_mentors, demand=p.demand,
                                     locked=(P.mentee[lk], P.mentor[lk]) if len(lk) else None,
                                     options=SolverOptions(seed=0), cover=True)
    F = final.pairs
    return P.locate(F.mentee[sol.chosen], F.mentor[sol.chosen]), sol


@pytest.mark.parametrize("seed", range(16))
def test_tiny_problems_with_locks_and_ties_against_brute_force(monkeypatch, seed):
    """The held problem and a block scorer: brute force's order, optimal, the same pairs."""
    p = _tiny(seed)
    C, M, worst, total = _order(p)
    monkeypatch.setattr(quantize, "COVER_BITS", NARROW)
    held = get_solver("maxmin")(p, SolverOptions(seed=0))
    pos, blocks = _blocks_maxmin(p)
    for sol, x in ((held, np.asarray(held.chosen, np.int64)), (blocks, pos)):
        assert violations(p, x) == []
        assert len(np.unique(p.pairs.mentee[x])) == C and len(x) == M
        if M:
            assert p.score[x].min() == pytest.approx(worst, abs=1e-12)
        assert p.score[x].sum() == pytest.approx(total, abs=1e-9)
        assert sol.status == "optimal", sol.message
        assert sol.certificate["second_stage"]["holds"]  # the nested total was coarse
    assert sorted(held.chosen.tolist()) == sorted(pos.tolist())


@pytest.mark.parametrize("seed", range(4))
def test_the_rounds_find_the_pairs_a_small_start_misses(seed):
    """solve_total from the witness's pairs alone on blocks: its pricing adds the violators,
    and the answer is the one from every pair held (the same pairs, though scores of one
    decimal tie: the tie rule on the optimal face, with the tight pairs outside gathered) with
    the best total; the count and the threshold are met."""
    from mentormatch.solvers.maxmin_total import FixedCounts, solve_total

    p = _problem(seed, 40, 12)
    p = AssignmentProblem(p.pairs, np.round(p.score, 1), p.capacity, p.demand, coverage_first=True)  # ties
    P = p.pairs
    sol = get_solver("maxmin")(p, SolverOptions(seed=0))
    x = np.asarray(sol.chosen, np.int64)
    t = float(p.score[x].min())
    n, m = P.n_mentees, P.n_mentors
    dem = p.demand.astype(np.int64)
    C = len(np.unique(P.mentee[x]))
    fc = FixedCounts(cap=p.capacity.astype(np.int64), supply=dem, first=(dem > 0).astype(np.int64),
                     C=C, M=len(x), t=t, top=float(p.score.max()), locks=np.zeros(0, np.int64))
    source = BlockSource(HeldRows(P, p.score), n, m)
    small = solve_total(source, fc, (P.mentee[x], P.mentor[x], p.score[x]), n_mentees=n, n_mentors=m,
                        bounded=False)
    every = solve_total(source, fc, (P.mentee, P.mentor, p.score), n_mentees=n, n_mentors=m, bounded=False)
    assert small.holds and every.holds
    assert small.record["violators_added"] > 0  # the start alone was not optimal
    pick = lambda r: sorted(zip(r.i[r.chosen].tolist(), r.j[r.chosen].tolist()))  # noqa: E731
    assert pick(small) == pick(every)
    chosen = P.locate(small.i[small.chosen], small.j[small.chosen])
    assert violations(p, chosen) == []
    assert len(np.unique(P.mentee[chosen])) == C and len(chosen) == len(x)
    assert p.score[chosen].min() >= t
    assert p.score[chosen].sum() == pytest.approx(p.score[x].sum(), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_the_row_order_does_not_change_the_pairs_on_bounds(monkeypatch, seed):
    """The mentees' rows reversed, the nested total coarse, on bounds: the same pairs (the tie
    rule on the fixed-count flow's optimal face keys pairs by the ids' seeded ranks)."""
    mentors, mentees, rules = _org(seed)
    monkeypatch.setattr(quantize, "COVER_BITS", NARROW)
    with on_source("bounds"):
        a = mm.pair(mentors, mentees, rules)
        b = mm.pair(mentors, mentees.iloc[::-1].reset_index(drop=True), rules)
    assert a.status == b.status == "optimal"
    assert _stage(a)["holds"] and _stage(b)["holds"]
    assert _key(a) == _key(b)


def _clones():
    """Five mentees, four of them the same person under other ids (every score tied), demands
    1-3, three mentors of capacity 1-2: many assignments tie on every key."""
    mentors, mentees = synthetic.organisation(n_mentees=3, n_mentors=3, seed=5)
    rows = pd.concat([mentees.iloc[[0]]] * 4 + [mentees.iloc[[1]]], ignore_index=True)
    rows = rows.assign(id=[f"C{k}" for k in range(len(rows))], mentors_needed=[2, 2, 1, 2, 3])
    rules = {"time_limit": 60, "fairness": {"objective": "maxmin"},
             "constraints": {"coverage_first": True, "management_line": False}}
    return mentors.assign(capacity=[2, 2, 1]), rows, rules


def test_tied_clones_get_the_same_pairs_on_every_source_and_row_order(monkeypatch):
    """Ties on every key: the tie rule on the fixed-count flow's optimal face (keys from the
    ids' seeded ranks) picks the same pairs on the three sources, rows reversed or not."""
    mentors, mentees, rules = _clones()
    monkeypatch.setattr(quantize, "COVER_BITS", NARROW)
    keys = set()
    for kind in SOURCES:
        with on_source(kind):
            for rows in (mentees, mentees.iloc[::-1].reset_index(drop=True)):
                r = mm.pair(mentors, rows, rules)
                assert r.status == "optimal", kind
                assert _stage(r)["ties"]["movable_pairs"] > 0, kind  # the rule had a choice
                keys.add(tuple(_key(r)))
    assert len(keys) == 1
