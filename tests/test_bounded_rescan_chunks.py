"""The check's crowded rows without a violator are scanned again for every suspect a chunk of
rows at a time (``check.RESCAN_PAIRS``), keeping only the pairs within ``near`` of violating
(s21h9: all of them at once grew like rows x mentors, max-min's first flow held 12 GiB at
60,000 x 12,000). Chunks of one row find the same violators and the same largest gain as one
chunk (an equivalence: it cannot fail on the old code, which has no chunks)."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.solvers.bounded import check, exact, passes

from _support import exact_round, scorer_of
from test_bounded_coverage_frame import _checkers

TOL = 2.0 ** -20


@pytest.mark.parametrize("seed", range(3))
def test_crowded_rows_rescanned_by_chunks_find_the_same_violators(seed, monkeypatch):
    scorer, u, p, make = _checkers(seed, pool=1)  # (the coverage-frame tests' setup)
    rng = np.random.default_rng(seed)
    # a few mentors a little cheaper: some violators, and rows near violating without one
    p = np.where(rng.random(len(p)) < 0.1, p - 0.001, p)
    e = np.zeros(0, np.int64)
    chosen = check._Sparse(e, e, e, np.full(0, 1.0))
    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 2)  # rows with more suspects: crowded
    rescans = []
    scan = check._scan

    def counted(view, rows, *a, keep_all=False, **k):
        if keep_all:
            rescans.append(len(rows))
        return scan(view, rows, *a, keep_all=keep_all, **k)
    monkeypatch.setattr(check, "_scan", counted)
    got = []
    for chunk in (1 << 40, scorer.m):  # every crowded row at once; one row a chunk
        monkeypatch.setattr(check, "RESCAN_PAIRS", chunk)
        rescans.clear()
        c = make()
        v, eps = c.check(u, p, chosen, TOL, 2)
        got.append((sorted(zip(v.i.tolist(), v.j.tolist())), eps, list(rescans)))
    (v1, e1, r1), (v2, e2, r2) = got
    assert len(r1) == 1 and r1[0] >= 1 and r2 == [1] * r1[0]  # the crowded rows were rescanned
    assert v1 == v2 and e1 == e2


def test_the_exact_cache_stops_growing_at_its_cap_and_scores_the_same(monkeypatch):
    """``exact.CACHE_PAIRS``: beyond it a pair is scored again, not kept; the values are those
    of an uncapped cache (s21h9: the cache held every pair a threshold
    flow's certificate scored, 18.6 million at 40,000 x 8,000)."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    prep, _, _ = exact_round(mentors, mentees, None)
    scorer = scorer_of(prep, None)
    rng = np.random.default_rng(4)
    batches = [(rng.integers(0, scorer.n, 300), rng.integers(0, scorer.m, 300)) for _ in range(4)]
    free = exact._Exact(scorer)
    want = [free(i, j) for i, j in batches]
    assert len(free.code) > 100  # the cap below is reached
    monkeypatch.setattr(exact, "CACHE_PAIRS", 100)
    capped = exact._Exact(scorer)
    for (i, j), a in zip(batches, want):
        assert np.array_equal(capped(i, j), a, equal_nan=True)
        assert len(capped.code) <= 100 and len(capped.code) == len(capped.value)
