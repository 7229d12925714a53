""""Why not X" on the scale path (blocks, bounds) for an eligible pair, inside or outside the
candidate pairs its solver was given, against brute force's cost of forcing the pair.

Before (ecc604c): a pair outside the candidates whose locks allow it answered "outside the
candidate pairs the solver was given", and a pair inside them was priced by a re-solve on the
candidates alone, called exact, and could be too dear (forcing it moves another mentee to a
mentor outside the candidates). Now the scale path prices on every eligible pair where a
re-solve of them is possible (the complete set's answer, word for word); beyond that, one
"why not X" re-solves the round on its pair source with the pair locked
(``report/forced.forced_on_source``, the same answer); beyond that too, bounds valid over
every pair (``report/pricing._restricted_bounds``), stated as bounds.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import mentormatch as mm
from mentormatch.report import forced, pricing

from _support import on_source

PLAIN = {"constraints": {"management_line": False}}


def _case(seed: int, locked: bool):
    """6 mentees, 10 mentors of capacity 1 (synthetic): each mentee's candidates on the scale
    path are its 7 best pairs, so some eligible pairs lie outside them."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=10, seed=seed)
    mentors = mentors.assign(capacity=1)
    programme = PLAIN
    if locked:
        programme = {"constraints": {"management_line": False,
                                     "locked": [[mentees["id"][1], mentors["id"][3]]]}}
    return mentors, mentees, programme


def _brute(mentors, mentees, programme) -> dict[tuple[str, str], float]:
    """(mentee id, mentor id) -> the drop in the best total when the pair is forced, over every
    assignment of the 6 mentees to distinct mentors (all scores >= 0 and 10 places: the best
    assignment pairs everyone), the locks kept; scores from the complete set."""
    whole = mm.pair(mentors, mentees, programme)
    e_ids, m_ids = whole.data["mentee_ids"].ids, whole.data["mentor_ids"].ids
    n, m = len(e_ids), len(m_ids)
    assert whole.data["complete"].n_mentors == m and len(whole.data["scores"].total) == n * m
    s = np.asarray(whole.data["scores"].total, float).reshape(n, m)
    assert np.all(np.isfinite(s)) and np.all(s >= 0)
    perms = np.array(list(itertools.permutations(range(m), n)))
    for a, b in programme["constraints"].get("locked", []):
        i, j = list(e_ids).index(a), list(m_ids).index(b)
        perms = perms[perms[:, i] == j]
    totals = s[np.arange(n), perms].sum(axis=1)
    best = totals.max()
    assert abs(best - whole.objective) <= 1e-6
    out = {}
    for i in range(n):
        for j in range(m):
            hold = perms[:, i] == j
            out[str(e_ids[i]), str(m_ids[j])] = best - totals[hold].max() if hold.any() else np.nan
    return out


def _questions(result, mentees, mentors):
    """Every (mentee, mentor) not paired, and whether the solver was given the pair."""
    P = result.data["problem"].pairs
    e_enc, m_enc = result.data["mentee_ids"], result.data["mentor_ids"]
    paired = set(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    for e in mentees["id"]:
        for mt in mentors["id"]:
            if (e, mt) in paired:
                continue
            inside = P.locate(np.array(e_enc.encode([e])), np.array(m_enc.encode([mt])))[0] >= 0
            yield e, mt, bool(inside)


@pytest.mark.parametrize("how", ["every pair", "source re-solve"])
@pytest.mark.parametrize("locked", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", ["blocks", "bounds"])
@pytest.mark.parametrize("seed", [1, 4])
def test_why_not_on_the_scale_path_is_the_complete_sets_answer(seed, kind, reverse, locked, how,
                                                               monkeypatch):
    """``how``: the round's 60 eligible pairs priced together, or (the limit forced to 10) each
    question a re-solve of the round on its pair source with the pair locked."""
    if how == "source re-solve":
        monkeypatch.setattr(pricing, "ALTERNATIVE_SOLVE_PAIRS", 10)
    mentors, mentees, programme = _case(seed, locked)
    cost = _brute(mentors, mentees, programme)
    whole = mm.pair(mentors, mentees, programme)
    if reverse:
        mentees = mentees.iloc[::-1].reset_index(drop=True)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    outside = 0
    for e, mt, inside in _questions(r, mentees, mentors):
        outside += not inside
        here, there = r.explain(e, mentor=mt), whole.explain(e, mentor=mt)
        assert here.verdict == there.verdict, (e, mt, inside, here.verdict, there.verdict)
        row = here.alternatives.iloc[0]
        if np.isnan(cost[e, mt]):  # the locks forbid it
            assert here.verdict.startswith("cannot be forced"), here.verdict
        else:
            assert row["cost"] == pytest.approx(cost[e, mt], abs=1e-6), (e, mt, inside, here.verdict)
    assert outside > 0  # the case asks about pairs the solver was not given


@pytest.mark.parametrize("limit", [50, 10])
@pytest.mark.parametrize("kind", ["blocks", "bounds"])
@pytest.mark.parametrize("seed", [1, 4])
def test_why_not_beyond_a_re_solve_of_every_pair_states_bounds_that_hold(seed, kind, limit,
                                                                         monkeypatch):
    """The round's 60 eligible pairs taken as too many to re-solve, together or on the pair
    source (the limits forced to 50: a re-solve on the solver's pairs gives the upper bound;
    to 10: a swap does): every answer is a pair of bounds around brute force's cost (or the
    cost itself when they meet), never "outside the candidate pairs", and "cannot be forced"
    only where the locks forbid it."""
    mentors, mentees, programme = _case(seed, True)
    cost = _brute(mentors, mentees, programme)
    monkeypatch.setattr(pricing, "ALTERNATIVE_SOLVE_PAIRS", limit)
    monkeypatch.setattr(forced, "SOURCE_RESOLVE_PAIRS", limit)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    outside = bounded = 0
    for e, mt, inside in _questions(r, mentees, mentors):
        outside += not inside
        x = r.explain(e, mentor=mt)
        assert "outside the candidate pairs" not in x.verdict, x.verdict
        if np.isnan(cost[e, mt]):
            assert x.verdict.startswith("cannot be forced"), x.verdict
            continue
        row = x.alternatives.iloc[0]
        low, high = row["cost_low"], row["cost_high"]
        assert np.isfinite(low) and low <= cost[e, mt] + 1e-6, (e, mt, inside, x.verdict)
        assert np.isnan(high) or cost[e, mt] <= high + 1e-6, (e, mt, inside, x.verdict)
        bounded += not np.isnan(high)
        if not np.isnan(high) and high - low > 1e-9:
            assert "at least" in x.verdict and "at most" in x.verdict, x.verdict
    assert outside > 0 and bounded > 0


@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_why_not_prices_a_candidate_pair_against_every_pair(kind):
    """30 mentees, 40 mentors of capacity 1 (synthetic seed 1): forcing a pair the solver was
    given can move another mentee to a mentor outside the candidates. Before, the re-solve ran
    on the candidates alone and called its too-high cost exact (E00014 and E00035: 0.5617
    against 0.5603). Checked against scipy's linear_sum_assignment on every pair, the forced
    pair's row and column taken out."""
    from scipy.optimize import linear_sum_assignment

    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=40, seed=1)
    mentors = mentors.assign(capacity=1)
    whole = mm.pair(mentors, mentees, PLAIN)
    e_ids, m_ids = list(whole.data["mentee_ids"].ids), list(whole.data["mentor_ids"].ids)
    s = np.asarray(whole.data["scores"].total, float).reshape(len(e_ids), len(m_ids))
    assert np.all(np.isfinite(s)) and np.all(s >= 0)  # everyone is paired at the optimum
    r_, c_ = linear_sum_assignment(s, maximize=True)
    best = s[r_, c_].sum()
    with on_source(kind):
        r = mm.pair(mentors, mentees, PLAIN)
    asked = 0
    for e, mt, inside in _questions(r, mentees.head(10), mentors):
        if not inside:
            continue
        i, j = e_ids.index(e), m_ids.index(mt)
        rest = np.delete(np.delete(s, i, axis=0), j, axis=1)
        a, b = linear_sum_assignment(rest, maximize=True)
        forced = best - (s[i, j] + rest[a, b].sum())
        got = r.explain(e, mentor=mt).alternatives.iloc[0]["cost"]
        assert got == pytest.approx(forced, abs=1e-6), (e, mt, got, forced)
        asked += 1
    assert asked >= 20
