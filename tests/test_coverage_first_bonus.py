"""``coverage_first`` with an objective bonus (priority, continuity: issue 23 item 3, s18h8).

The bonus is a per-pair additive term, so on the scale path it is folded into the scorer (blocks
and bounds) and the certified flow that counts mentees (``quantize.coverage_weights``) solves the
round, as it does without a bonus; before, the round went to the LP/MIP engine, which at
20,000 x 5,000 ended in ``TimeLimitError`` in round 2 of ``benchmarks/rounds.py --coverage-first``.

Each tiny case is checked against brute force (the most mentees matched, then the largest
``score + bonus``), on the three sources, which give the same pairs; every source reports the
plain objective and the bonus keys of :mod:`mentormatch.pipeline.bonus`.
"""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import constraints as C
from mentormatch import pipeline as pl
from mentormatch.testing import feasible_assignments

from _support import SOURCES, on_source, programme_rounds, result_positions

FLOW = "coverage first by a certified flow counting mentees"


def _case(seed: int, solver: str = "flow"):
    """(mentors, mentees, programme): 6 mentees needing 1 or 2 mentors, priorities 0, 1 or 2
    (weight 0.5), 3 mentors of capacity 1 or 2: fewer places than wanted, so coverage_first
    decides who is matched."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=3, seed=seed)
    rng = np.random.default_rng(seed)
    mentees = mentees.assign(priority=rng.choice([0.0, 1.0, 2.0], len(mentees)),
                             mentors_needed=rng.choice([1, 2], len(mentees)))
    mentors = mentors.assign(capacity=rng.choice([1, 2], len(mentors)))
    programme = {"constraints": {"management_line": False, "priority_weight": 0.5,
                                 "coverage_first": True}, "time_limit": 60, "solver": solver}
    return mentors, mentees, programme


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("solver", ["flow", "mip"])
@pytest.mark.parametrize("seed", range(8))
def test_coverage_first_with_a_bonus_on_every_source_against_brute_force(seed, solver):
    """The flow and the engine (``"mip"``: on every source on ``score + bonus``, as without a
    bonus (``pipeline.bonus.engine_apart``): its coverage shortcut, the same flow as
    ``"flow"``, on every source since s19h8; then the tie rule for alike people) reach the
    brute-force optimum, with the same pairs on every source."""
    mentors, mentees, programme = _case(seed, solver)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    extra = C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    assert np.any(extra > 0)
    bf = feasible_assignments(p)
    ok = bf.feasible
    most = int(bf.matched[ok].max())
    adjusted = bf.x.astype(float) @ (p.score + extra)
    best = float(adjusted[ok & (bf.matched == most)].max())
    results = {}
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        assert (r.data.get("pair_source") or "complete") == kind
        results[kind] = r
        pos = result_positions(complete, r)
        assert np.all(pos >= 0), kind
        row = np.zeros(len(p.pairs), bool)
        row[pos] = True
        assert len(np.unique(p.pairs.mentee[pos])) == most, kind
        assert float((p.score + extra)[pos].sum()) == pytest.approx(best, abs=1e-6), kind
        # within demands and capacities (brute force's check of this very assignment)
        hit = np.flatnonzero((bf.x == row).all(axis=1))
        assert len(hit) == 1 and bf.feasible[hit[0]], kind
        # reported as on the other paths: plain scores and objective, the bonus keys
        assert r.status == "optimal", (kind, r.message)
        assert r.pairs["score"].to_numpy() == pytest.approx(p.score[pos], abs=1e-9), kind
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9), kind
        assert r.bound is None and r.gap is None, kind
        cert = r.certificate
        assert cert["objective"] == "score + bonus", kind
        assert cert["adjusted_objective"] == pytest.approx(best, abs=1e-6), kind
        assert cert["bonus_total"] == pytest.approx(float(extra[pos].sum()), abs=1e-9), kind
        assert cert["adjusted_bound"] is not None and cert["adjusted_bound"] >= best - 1e-6, kind
        assert cert["method"] == FLOW, kind  # the certified flow counting mentees, not the LP/MIP
    for kind, r in results.items():
        assert _key(r) == _key(results["complete"]), kind


def test_the_bonus_changes_the_pairs_in_some_case():
    """The check above can tell the bonus apart: in some case the plain coverage_first optimum
    (most mentees, then the largest plain total) is not the one with the bonus."""
    moved = 0
    for seed in range(8):
        mentors, mentees, programme = _case(seed)
        complete = pl.prepare(mentors, mentees, programme)
        p = complete.problem
        extra = C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
        bf = feasible_assignments(p)
        top = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
        plain = bf.x.astype(float) @ p.score
        adjusted = bf.x.astype(float) @ (p.score + extra)
        plain_best = top & (plain >= plain[top].max() - 1e-9)
        moved += bool(np.all(adjusted[plain_best] < adjusted[top].max() - 1e-9))
    assert moved > 0


@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_a_programme_round_two_with_coverage_first_and_bonuses_takes_the_certified_flow(kind):
    """Round 2 of a programme with priority and continuity and coverage_first, on the scale
    path forced small: the certified flow counting mentees answers, optimal (before: the LP/MIP
    engine, ``"pricing + HiGHS MIP"``, which at 20,000 x 5,000 ran out of time), with the most
    mentees the complete set matches and the same pairs."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=90, n_mentors=20, seed=3)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    rules = {"constraints": {"coverage_first": True}}

    def run(source):
        return programme_rounds(rules, mentors, mentees, source)

    scaled, complete = run(kind), run("complete")
    second = scaled[1]
    assert second.data.get("pair_source") == kind
    assert second.certificate["method"] == FLOW
    assert second.certificate["objective"] == "score + bonus"
    assert second.certificate["bonus_total"] > 0  # priority and continuity were in play
    assert second.status == "optimal"
    for a, b in zip(scaled, complete):
        assert a.pairs["mentee_id"].nunique() == b.pairs["mentee_id"].nunique()
        # round 1 may have no bonus at all (no pair in force, no priority)
        assert a.certificate.get("adjusted_objective", a.objective) == pytest.approx(
            b.certificate.get("adjusted_objective", b.objective), abs=1e-6)
        assert _key(a) == _key(b)
