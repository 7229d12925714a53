"""A max-min or leximin stop on bounds whose first pass the time limit cut short (s27h6).

The rows that pass never scanned are known only by their factor ceilings
(:func:`mentormatch.solvers.bounded.ceiling.row_ceilings`); until s27 the rows it did scan were
too, and every mentor's best was the largest ceiling: at 20,000 x 5,000 with the pass cut at
10 of 25 blocks the bound was 1.73 ``T*``. The scanned rows now bound their mentees by their
best pairs (:func:`mentormatch.solvers.bounded.late.scanned_ceilings`, from the pools), and the
total counts only as many places as any assignment holds pairs (``fair_bounds.total_bound``'s
``most``): 1.55 ``T*`` there.

Pinned (each fails at 78197bd):

* each scanned row's ceiling is at least the exact score of each of its pairs with a mentor
  with places (brute force over the complete score matrix), and at most its factor ceiling
  (below it by more than 0.1 somewhere);
* every cut of the first pass gives a bound at least ``T*`` (``lex_milp``; leximin's ``T*``
  its proven optimum's total), a count bound at least ``M*`` and a worst-pair bound at least
  ``t*``, no ceilings left in the certificate, and at every cut a bound below 78197bd's (at
  the last, 0.72-0.76 of it).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import mentormatch as mm
from mentormatch.solvers.bounded.ceiling import row_ceilings

from _support import exact_round, on_source, table_violations
from test_fair_claims import _fair_round
from test_fair_claims_mentors import _blocks_of
from test_hunt_s23 import _accounted

#: 78197bd's bound at every cut (the same whatever the pass scanned: the largest row ceiling
#: for every mentor), 1.78-2.15 ``T*``; now 43.2-52.5, 63.2-81.0, 48.9-59.6 (1.35-1.89 ``T*``).
BEFORE = {2501: 56.819, 2502: 90.033, 2503: 67.593}


def _cut_runs(seed: int, objective: str, monkeypatch):
    """``pair()`` on bounds with max-min's top-level first pass (the lifted view at ``t =
    -inf`` over every mentee) cut after ``k`` of its blocks of 3 rows, as the time limit cuts
    it, for each ``k`` that cuts: ``[(k, result, scanned ceilings, the scorer)]``."""
    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers.bounded import passes

    mentors, mentees, programme, complete, ref = _fair_round(seed, objective)
    monkeypatch.setattr(passes, "_pass_blocks", _blocks_of(3))
    real_first, real_over, real_ceil = bounded._first_pass, passes._over_blocks, bounded.scanned_ceilings
    state = {"k": None, "seen": None}

    def over(fn, blocks, progress, what, width, background=False, deadline=None):
        k = state["k"]
        yield from real_over(fn, blocks[:k], progress, what, width, background, deadline)
        raise passes.PassStopped(what)

    def first_pass(scorer, *a, **kw):
        lift = getattr(scorer, "lift", None)
        if scorer.n == len(mentees) and lift is not None and lift[0] == -np.inf and state["k"] is not None:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(passes, "_over_blocks", over)
                return real_first(scorer, *a, **kw)
        return real_first(scorer, *a, **kw)

    def ceilings(scorer, checker, rows, cap):
        out = real_ceil(scorer, checker, rows, cap)
        state["seen"] = (out, scorer, rows, np.asarray(cap))
        return out

    monkeypatch.setattr(bounded, "_first_pass", first_pass)
    monkeypatch.setattr(bounded, "scanned_ceilings", ceilings)
    runs = []
    for k in range(1, -(-len(mentees) // 3)):
        state["k"], state["seen"] = k, None
        with on_source("bounds"):
            r = mm.pair(mentors, mentees, programme)
        runs.append((k, r, state["seen"]))
    return mentors, mentees, programme, complete, ref, runs


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2501, 2502, 2503])
def test_a_cut_first_pass_bounds_the_total_tighter_and_still_validly(seed, objective, monkeypatch):
    """Every cut: every mentee once, the constraints met, bounds at least ``T*``, ``M*``,
    ``t*``, no ceilings in the certificate; each scanned row's ceiling at least its exact
    scores (with mentors with places) and at most its factor ceiling; every cut below 78197bd's
    bound (the same at every cut), and the last at most 0.8 of it."""
    mentors, mentees, programme, complete, (M, t, T), runs = _cut_runs(seed, objective, monkeypatch)
    _, eligible, scores = exact_round(mentors, mentees, {"fairness": {"objective": objective}})
    bounds, checked = [], 0
    for k, r, seen in runs:
        cert = r.certificate or {}
        assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
        assert r.bound is not None and math.isfinite(r.bound) and r.bound >= T - 1e-6, (k, r.bound, T)
        assert cert["count_bound"] >= M and (M == 0 or cert["threshold_bound"] >= t - 1e-9), k
        for key in ("row_ceilings", "mentor_ceilings"):
            assert key not in cert and key not in (cert.get("maxmin") or {}), (k, key)
        bounds.append(r.bound)
        if seen is None or seen[0] is None:
            continue
        ceil, scorer, rows, cap = seen
        assert rows == min(3 * k, len(mentees)) and np.all(np.isinf(ceil[rows:]))
        mentee = np.asarray(scorer.order)[:rows]  # (the scorer's rows in its internal order)
        s = np.where(cap[None, :] > 0, scores[mentee], -np.inf)
        best = s.max(axis=1)
        assert np.all(ceil[:rows] >= best - 1e-12), (k, ceil[:rows] - best)
        factors = row_ceilings(scorer.base, cap > 0)[:rows]  # (the lifted view's base: plain scores)
        assert np.all(ceil[:rows] <= factors + 1e-9) and np.any(ceil[:rows] < factors - 0.1), k
        checked += 1
    assert checked > 0
    assert max(bounds) < BEFORE[seed] - 1e-6 and min(bounds) <= 0.8 * BEFORE[seed], (bounds, BEFORE[seed])
