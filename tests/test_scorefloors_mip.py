"""Score floors with an objective bonus, the gap closed (:mod:`mentormatch.solvers.scorefloors_mip`):
the Lagrangian's best prices fix every pair that cannot be in a better assignment, HiGHS's MIP
on the rest proves the optimum over every pair.

* The fixing is valid: for any multipliers and any prices ``u, p >= 0``, every assignment that
  meets the floors is worth at most ``D``, and at most ``D - r_i + rc_ij`` for each of its
  pairs; so the kept pairs at a value ``L`` hold every assignment worth at least ``L`` (brute
  force over every assignment of 6 x 3 organisations).
* With the Lagrangian's answer returned (the engine's size threshold lowered), score floors with
  a priority bonus are "optimal" on every source, with a bound within ``OPTIMAL_GAP`` of the
  objective, and that objective (score + bonus) is scipy's milp optimum of the full model; the
  floors hold, recomputed from the tables.
"""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.solvers import route
from mentormatch.solvers.base import OPTIMAL_GAP, PairBonus
from mentormatch.solvers.floors import group_positions
from mentormatch.solvers.scorefloors_mip import _kept_pairs
from mentormatch.solvers.sources import ArraySource
from mentormatch.testing import feasible_assignments

from _support import SOURCES, on_source, result_positions, table_violations
from test_scorefloors_bonus import _bonus, _case, _milp_optimum


@pytest.mark.parametrize("seed", range(6))
def test_the_fixing_keeps_every_better_assignment(seed):
    mentors, mentees, programme = _case(seed, 6, 3, 0.9)
    p = pl.prepare(mentors, mentees, programme).problem
    P, side, n, m = p.pairs, p.side, p.n_mentees, p.n_mentors
    b = _bonus(pl.prepare(mentors, mentees, programme))
    bf = feasible_assignments(p)  # the floors checked on the plain scores
    assert bf.any_feasible
    values = bf.x.astype(float) @ (p.score + b)
    rng = np.random.default_rng(seed)
    _, size, pos = group_positions(side.group)
    for _ in range(20):
        lam = rng.choice([0.0, 0.05, 0.3, 1.0], len(size))
        factor = np.maximum(1 - side.score_floor * float(lam @ size) / n
                            + np.where(pos >= 0, lam[np.maximum(pos, 0)], 0.0), 1e-6)
        scaled = PairBonus(per_mentee=None, mentee=P.mentee, mentor=P.mentor, value=b,
                           n_mentors=m, scale_mentee=factor)
        u, pr = rng.uniform(0, 2, n), rng.uniform(0, 2, m)
        source = ArraySource(P.mentee, P.mentor, p.score, n, m)
        worth = values[bf.feasible]
        for L in (worth.min(), np.median(worth), worth.max()):
            D, (ki, kj, _) = _kept_pairs(source, scaled, u, pr, p.capacity, p.demand, float(L))
            assert D >= worth.max() - 1e-9  # a bound over every feasible assignment
            kept = np.isin(P.mentee * m + P.mentor, ki * m + kj)
            better = bf.feasible & (values >= L - 1e-9)
            assert not np.any(bf.x[better][:, ~kept]), (L, D)  # no better one uses a dropped pair


#: (n mentees, n mentors, seed, floor): score floors that bind, with a priority bonus, where
#: the Lagrangian's flows alone leave a gap (the closing runs) and milp proves the optimum fast.
CASES = [(36, 12, 3, 0.97), (36, 12, 5, 0.97), (36, 12, 11, 0.98), (60, 20, 5, 0.97)]


@pytest.mark.parametrize("n,m,seed,floor", CASES)
def test_score_floors_with_a_bonus_are_proven_optimal(monkeypatch, n, m, seed, floor):
    mentors, mentees, programme = _case(seed, n, m, floor)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    objective = p.score + _bonus(complete)
    best = _milp_optimum(p, objective)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", -1)  # the Lagrangian's answer is returned
    closed = 0
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        cert = r.certificate
        assert cert["method"] == "lagrangian score floors + certified flow", kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        value = float(objective[result_positions(complete, r)].sum())
        assert cert["adjusted_objective"] == pytest.approx(value, abs=1e-6), kind
        assert r.status == "optimal", (kind, cert.get("closing"))
        assert value == pytest.approx(best, abs=1e-6), kind
        bound = cert["adjusted_bound"]
        assert best - 1e-6 <= bound <= value + OPTIMAL_GAP * abs(bound) + 1e-9, kind
        closed += "closing" in cert
    assert closed  # the flows alone left a gap somewhere: the closing proved it
