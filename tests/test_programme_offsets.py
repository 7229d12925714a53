"""A programme round's priority and continuity bonuses on every pair source
(:mod:`mentormatch.programme.offsets`, :mod:`mentormatch.pipeline.bonus`).

Tiny programmes: round 1 leaves some mentees unmatched (they have priority in round 2), every
pair of round 1 ends before round 2 (continuity: each mentee's round-1 mentor is worth
``continuity_weight`` more), and round 2 runs on the complete set, blocks and bounds. Round 2 is
checked against brute force on the round's problem, with the bonus recomputed from round 1's
result: ``priority="weight"`` maximises ``score + weight x [priority mentee] + continuity``;
``priority="hard"`` is lexicographic, the most priority pairs first, then ``score +
continuity`` (under ``coverage_first`` the most mentees before both). Every source reports the
same pairs, status, objective, ``bonus_total``, ``adjusted_objective`` and ``adjusted_bound``.
"""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.programme import Programme
from mentormatch.testing import feasible_assignments

from _support import SOURCES, best_rows, end_in_force, on_source, result_positions

#: no geography: its working-hours overlap would take the round's date, so the round's scores
#: would not be those of ``pl.prepare`` on the programme's rules
WEIGHTS = {"experience": 1.0, "competency": 1.0, "personality": 0.5}
DATES = ("2027-01-15", "2027-04-15")


def _case(seed: int):
    """4-5 mentees (demand 1), 2-3 mentors of capacity 1-2 with fewer places than mentees,
    coverage_first on odd seeds, a continuity weight of 0.5 or 50 (above the score span, so
    that only a hard priority that dominates continuity keeps priority first)."""
    rng = np.random.default_rng(19_000 + seed)
    n, m = int(rng.integers(4, 6)), int(rng.integers(2, 4))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    cap = rng.integers(1, 3, m)
    while cap.sum() >= n:
        cap[np.argmax(cap)] -= 1
    mentors = mentors.assign(capacity=cap)
    rules = {"weights": WEIGHTS, "constraints": {"management_line": False,
                                                  "coverage_first": bool(seed % 2)}}
    return mentors, mentees, rules, float(rng.choice([0.5, 50.0]))


def _two_rounds(seed: int, priority: str, source: str):
    mentors, mentees, rules, cw = _case(seed)
    prog = Programme(rules, allow_repeats=True, cooldown_rounds=0, priority=priority,
                     priority_weight=0.7, continuity=True, continuity_weight=cw)
    with on_source(source):
        first = prog.run_round(mentors, mentees, date=DATES[0])
        end_in_force(prog, "2027-03-01")
        second = prog.run_round(mentors, mentees, date=DATES[1])
    return first, second


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("priority", ["hard", "weight"])
@pytest.mark.parametrize("seed", range(8))
def test_a_round_with_priority_and_continuity_is_brute_forces_optimum_on_every_source(seed, priority):
    mentors, mentees, rules, cw = _case(seed)
    complete = pl.prepare(mentors, mentees, rules)
    p = complete.problem
    results = {kind: _two_rounds(seed, priority, kind) for kind in SOURCES}
    first, second = results["complete"]
    # the bonus from round 1, recomputed: its unmatched mentees have priority, its pairs
    # (all ended) are each mentee's latest mentor
    ids_e, ids_m = complete.mentee_ids.ids.astype(str), complete.mentor_ids.ids.astype(str)
    waiting = np.isin(ids_e[p.pairs.mentee], first.unmatched["mentee_id"].astype(str))
    assert waiting.any()  # round 1 left someone out
    before = set(zip(first.pairs["mentee_id"].astype(str), first.pairs["mentor_id"].astype(str)))
    again = np.array([(e, m) in before for e, m in zip(ids_e[p.pairs.mentee], ids_m[p.pairs.mentor])])
    others = p.score + cw * again

    bf = feasible_assignments(p)
    x = bf.x.astype(float)
    top = bf.feasible.copy()
    if p.coverage_first:
        top &= bf.matched == bf.matched[top].max()
    if priority == "hard":
        n_prio = x @ waiting
        top &= n_prio == n_prio[top].max()
        value = x @ others
    else:
        value = x @ (others + 0.7 * waiting)
    best = float(value[top].max())

    for kind, (_, r) in results.items():
        assert (r.data.get("pair_source") or "complete") == kind
        pos = result_positions(complete, r)
        assert np.all(pos >= 0), kind
        row = np.zeros(len(p.pairs), bool)
        row[pos] = True
        hit = np.flatnonzero((bf.x == row).all(axis=1))
        assert len(hit) == 1 and top[hit[0]], kind  # feasible, most mentees, most priority pairs
        assert float(value[hit[0]]) == pytest.approx(best, abs=1e-6), kind
        assert r.status == "optimal", (kind, r.message)
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9), kind
        cert = r.certificate
        assert cert["objective"] == "score + bonus", kind
        assert cert["adjusted_objective"] == pytest.approx(r.objective + cert["bonus_total"],
                                                           abs=1e-6), kind
        assert cert["adjusted_bound"] >= cert["adjusted_objective"] - 1e-6, kind
    for kind, (_, r) in results.items():
        assert _key(r) == _key(second), kind
        assert r.objective == pytest.approx(second.objective, abs=1e-9), kind
        for name in ("bonus_total", "adjusted_objective", "adjusted_bound"):
            assert r.certificate[name] == pytest.approx(second.certificate[name], abs=1e-6), (kind, name)


def test_hard_priority_comes_before_a_large_continuity_bonus():
    """The check above can tell: in some case a continuity bonus of 50 would take a mentor
    from a priority mentee if the offset did not dominate it (the optimum of ``score +
    continuity`` alone has fewer priority pairs than the lexicographic one)."""
    found = 0
    for seed in range(8):
        mentors, mentees, rules, cw = _case(seed)
        if cw < 50:
            continue
        complete = pl.prepare(mentors, mentees, rules)
        p = complete.problem
        first, _ = _two_rounds(seed, "hard", "complete")
        ids_e, ids_m = complete.mentee_ids.ids.astype(str), complete.mentor_ids.ids.astype(str)
        waiting = np.isin(ids_e[p.pairs.mentee], first.unmatched["mentee_id"].astype(str))
        before = set(zip(first.pairs["mentee_id"].astype(str), first.pairs["mentor_id"].astype(str)))
        again = np.array([(e, m) in before for e, m in zip(ids_e[p.pairs.mentee], ids_m[p.pairs.mentor])])
        bf = feasible_assignments(p)
        top = bf.feasible & ((bf.matched == bf.matched[bf.feasible].max()) if p.coverage_first
                             else True)
        x = bf.x.astype(float)
        value = x @ (p.score + cw * again)
        greedy = top & (value >= value[top].max() - 1e-9)
        found += bool((x @ waiting)[greedy].max() < (x @ waiting)[top].max())
    assert found > 0


@pytest.mark.parametrize("kind", SOURCES)
def test_a_bonus_that_scales_scores_is_refused_on_every_source(kind):
    """``PairBonus.scale_mentee`` (the score floors' inner problems) is no objective bonus:
    ``pipeline.solve`` refuses it before choosing a path, so no source folds or drops it
    (why the scale path's folding needs no case for it)."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=3, seed=2)
    with on_source(kind):
        prepared = pl.prepare(mentors, mentees, {"constraints": {"coverage_first": True}})
        with pytest.raises(ValueError, match="scale_mentee"):
            pl.solve(prepared, pl.PairBonus(scale_mentee=np.full(6, 2.0), n_mentors=3))


@pytest.mark.parametrize("priority", ["hard", "weight"])
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_maxmin_rounds_with_priority_and_a_score_floor_are_brute_forces_optimum(seed, priority):
    """Max-min rounds under a score floor with priority (s20h3): round 2 is brute force's
    max-min on ``score + bonus`` (the most pairs, then the worst, then the total) among the
    assignments that meet the floor on the plain scores, on every source, with the same pairs.
    The floor binds in each case (without it max-min picks other pairs); with weight 0.7,
    priority moves seed 3's pairs, and the floor read on ``score + bonus`` would move seeds 4
    and 5's. Fails on the old code: the round was refused (a ValidationError naming the
    floor)."""
    from mentormatch.programme.offsets import hard_priority_offset
    from mentormatch.solvers.base import PairBonus

    mentors, mentees, rules, _ = _case(seed)
    rules = {**rules, "constraints": {"management_line": False},
             "fairness": {"objective": "maxmin", "floor_group": "region", "score_floor": 0.8}}
    results = {}
    for kind in SOURCES:
        prog = Programme(rules, allow_repeats=True, cooldown_rounds=0, priority=priority,
                         priority_weight=0.7)
        with on_source(kind):
            first = prog.run_round(mentors, mentees, date=DATES[0])
            end_in_force(prog, "2027-03-01")
            results[kind] = (first, prog.run_round(mentors, mentees, date=DATES[1]))
    complete = pl.prepare(mentors, mentees, rules)
    p = complete.problem
    first = results["complete"][0]
    ids_e = complete.mentee_ids.ids.astype(str)
    waiting = np.isin(ids_e[p.pairs.mentee], first.unmatched["mentee_id"].astype(str))
    assert waiting.any()  # round 1 left someone out
    n, m = p.n_mentees, p.n_mentors
    add = 0.7 if priority == "weight" else hard_priority_offset(
        complete, others=PairBonus(per_mentee=np.zeros(n), mentee=np.zeros(0, np.int64),
                                   mentor=np.zeros(0, np.int64), value=np.zeros(0), n_mentors=m))
    value = p.score + add * waiting
    bf = feasible_assignments(p)
    ok = np.isin(np.arange(len(bf.x)), best_rows(bf.x, bf.feasible, value, "maxmin"))
    total = bf.x.astype(float) @ value
    for kind, (_, r) in results.items():
        pos = result_positions(complete, r)
        row = np.zeros(len(p.pairs), bool)
        row[pos] = True
        hit = np.flatnonzero((bf.x == row).all(axis=1))
        assert len(hit) == 1 and ok[hit[0]], kind  # meets the floor on the plain scores, max-min
        assert r.status == "optimal", (kind, r.message)
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9), kind
        assert r.certificate["adjusted_objective"] == pytest.approx(float(total[hit[0]]), abs=1e-6)
        assert _key(r) == _key(results["complete"][1]), kind
