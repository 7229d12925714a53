"""A round whose time limit passed before its pairs were scored (``pipeline/stopped.py``), under
an objective bonus (a priority column, continuity's listed pairs).

Pinned (each fails at 78197bd): the answer (the locks alone) reads as every bonus answer does,
its bound on ``score + bonus`` in ``certificate["adjusted_bound"]`` (78197bd: none, the plain
bound stated as the answer's ``bound``), at least the optimum of ``score + bonus`` (HiGHS) on
every source and under the total, max-min and leximin; with listed pairs too.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.constraints import priority_bonus
from mentormatch.pipeline import tables
from mentormatch.solvers.base import PairBonus

from _support import SOURCES
from test_fair_claims import _total_optimum
from test_hunt_s23 import _accounted
from test_hunt_s24 import _pair_jumping


def _round(seed: int, objective: str | None):
    """9-14 mentees, 3-4 mentors of capacity <= 2, a priority column on every third mentee, one
    locked pair (the first eligible of the mentee in row 1): (mentors, mentees, programme,
    complete)."""
    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(n_mentees=int(rng.integers(9, 15)),
                                                 n_mentors=int(rng.integers(3, 5)), seed=seed)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    mentees = mentees.assign(priority=(np.arange(len(mentees)) % 3 == 0).astype(float))
    programme = {"time_limit": 30.0}
    if objective is not None:
        programme["fairness"] = {"objective": objective}
    p = pl.prepare(mentors, mentees, programme).problem
    q = int(np.flatnonzero(p.pairs.mentee == 1)[0])
    complete = pl.prepare(mentors, mentees, programme)
    lock = (str(complete.mentee_ids.ids[1]), str(complete.mentor_ids.ids[p.pairs.mentor[q]]))
    programme["constraints"] = {"locked": [lock]}
    return mentors, mentees, programme, pl.prepare(mentors, mentees, programme)


@pytest.mark.parametrize("objective", [None, "maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2600, 2601, 2602])
def test_a_stop_in_preparation_under_a_priority_bonus_bounds_score_plus_bonus(seed, objective):
    """The clock past the limit at ``pair()``'s second read (before the pairs are scored): on
    every source the answer is the lock alone, "feasible", its plain ``objective`` the lock's
    score, ``bound`` None and ``certificate["adjusted_bound"]`` finite and at least the best
    total of ``score + bonus`` (HiGHS; max-min's and leximin's optimum totals are at most it),
    ``adjusted_objective`` the lock's ``score + bonus``."""
    mentors, mentees, programme, complete = _round(seed, objective)
    p = complete.problem
    bonus = priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    best = _total_optimum(dataclasses.replace(p, score=p.score + bonus, locked=np.zeros(len(p.score), bool)))
    q = int(np.flatnonzero(p.locked)[0])
    for kind in SOURCES:
        r, _ = _pair_jumping(mentors, mentees, programme, kind, 2)
        assert not isinstance(r, Exception), (kind, r)
        cert = r.certificate
        assert cert.get("stopped") == "preparation" and r.status == "feasible", (kind, cert)
        assert _accounted(r, mentees) and len(r.pairs) == 1 and bool(r.pairs["locked"].all())
        assert r.bound is None and cert["objective"] == "score + bonus"
        assert r.objective == pytest.approx(p.score[q])
        assert cert["adjusted_objective"] == pytest.approx(p.score[q] + bonus[q])
        bound = cert["adjusted_bound"]
        assert bound is not None and math.isfinite(bound) and bound >= best - 1e-6, (kind, bound, best)
        assert "on score + bonus" in cert["message"]


def test_a_stop_in_preparation_under_listed_pairs_bounds_score_plus_bonus(monkeypatch):
    """The same stopped round solved with a continuity-style bonus (listed pairs of value 2.5,
    besides a per-mentee one): the adjusted bound is at least HiGHS's optimum of ``score +
    bonus``; with the bonus as an array over the stopped problem's pairs (its locked rows
    alone) no bound is stated, and the message says why."""
    mentors, mentees, programme, complete = _round(2603, None)
    p = complete.problem
    caught = []
    real = tables.solve

    def spy(prepared, bonus=None):
        caught.append(prepared)
        return real(prepared, bonus)

    monkeypatch.setattr(tables, "solve", spy)
    r, _ = _pair_jumping(mentors, mentees, programme, "complete", 2)
    stopped = caught[-1]
    assert stopped.stopped is not None and r.certificate.get("stopped") == "preparation"
    rng = np.random.default_rng(0)
    pick = rng.choice(len(p.score), 5, replace=False)
    bonus = PairBonus(per_mentee=rng.uniform(0, 1, p.pairs.n_mentees), mentee=p.pairs.mentee[pick],
                      mentor=p.pairs.mentor[pick], value=np.full(5, 2.5), n_mentors=p.pairs.n_mentors)
    on = bonus.on_pairs(p.pairs.mentee, p.pairs.mentor)
    best = _total_optimum(dataclasses.replace(p, score=p.score + on, locked=np.zeros(len(p.score), bool)))
    got = real(stopped, bonus)
    assert got.bound is None and got.certificate["adjusted_bound"] >= best - 1e-6
    sp = stopped.problem
    array = real(stopped, bonus.on_pairs(sp.pairs.mentee, sp.pairs.mentor))
    assert array.certificate["adjusted_bound"] is None and "no bound on score + bonus" in array.certificate["message"]


@pytest.mark.parametrize("seed", range(20))
def test_a_bonus_mentee_ceiling_bounds_every_pair_it_can_value(seed):
    """``PairBonus.mentee_ceiling`` (what a stop during preparation bounds each open place by):
    at least the value of every pair of the mentee scoring at most ``span``, under a scale,
    per-mentee and per-mentor terms and listed pairs; equal to the best such pair where no
    per-mentor term spreads it."""
    from mentormatch.solvers.base import PairBonus

    rng = np.random.default_rng(seed)
    n, m, span = int(rng.integers(1, 6)), int(rng.integers(1, 6)), float(rng.uniform(0.5, 6.0))
    k = int(rng.integers(0, n * m + 1))
    keys = rng.choice(n * m, k, replace=False)
    spread = bool(seed % 2)
    b = PairBonus(per_mentee=rng.normal(0, 1, n), mentee=keys // m, mentor=keys % m,
                  value=rng.normal(0, 2, k), n_mentors=m,
                  per_mentor=rng.normal(0, 1, m) if spread else None,
                  scale_mentee=rng.uniform(0, 2, n) if seed % 3 else None)
    mi, mj = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    ceiling = b.mentee_ceiling(span, n)
    for s in (np.full(n * m, span), rng.uniform(-span, span, n * m)):
        best = np.full(n, -np.inf)
        np.maximum.at(best, mi, b.apply(s, mi, mj))
        assert np.all(ceiling >= best - 1e-12)
    if not spread:  # (every pair at span: the best one is the ceiling, or an unlisted pair's 0)
        best = np.full(n, -np.inf)
        np.maximum.at(best, mi, b.apply(np.full(n * m, span), mi, mj))
        open_pair = np.bincount(keys // m, minlength=n) < m  # (a pair of value 0 is there)
        assert np.allclose(ceiling[open_pair], best[open_pair])
