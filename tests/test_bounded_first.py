"""The first sparse set's candidate pairs (:func:`mentormatch.solvers.bounded.first._candidates`)
taken in parts of the rows on threads (s30h4) are those of one part: each row's ``k`` best of
its pool by ``bound - guide`` and each mentor's best rows, by brute force over the pools."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch.solvers.bounded import first
from mentormatch.solvers.bounded.passes import _Pool


def _pool(rng, n: int, m: int, size: int):
    cols = np.stack([rng.choice(m, size, replace=False) for _ in range(n)])
    vals = np.round(rng.normal(0.0, 1.0, (n, size)), 1)  # (ties)
    vals[rng.random((n, size)) < 0.1] = -1e30  # (entries of no pair: never candidates)
    return _Pool(cols, vals, vals.min(axis=1).astype(np.float32), np.zeros(n, np.int64), [rng.uniform(0, 1, m)])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("parts", [2, 3])
def test_candidates_in_parts_are_each_rows_best_and_the_mentors_rows(seed, parts, monkeypatch):
    rng = np.random.default_rng(seed)
    n, m, size, k = 61, 17, 8, 3
    pool = _pool(rng, n, m, size)
    cap = np.where(rng.random(m) < 0.8, 2.0, 0.0)
    guide = rng.uniform(0, 1, m)
    mentor_best = (rng.integers(0, n, 30), rng.integers(0, m, 30))
    monkeypatch.setattr(first, "CANDIDATE_PARTS", 1)
    one = first._candidates(pool, mentor_best, guide, k, cap, m)
    monkeypatch.setattr(first, "CANDIDATE_PARTS", parts)
    monkeypatch.setattr(first, "CANDIDATE_ROWS", 5)
    np.testing.assert_array_equal(first._candidates(pool, mentor_best, guide, k, cap, m), one)
    # brute force: a row's candidates are k entries of its pool whose rank no other entry beats
    rank = pool.vals + np.where(cap > 0, pool.prices[0] - guide, 0.0)[pool.cols]
    codes = set(one.tolist())
    for r in range(n):
        mine = {c % m for c in codes if c // m == r} - {int(j) for i, j in zip(*mentor_best) if i == r}
        got = [t for t in range(size) if int(pool.cols[r, t]) in mine]
        left = [t for t in range(size) if t not in got]
        assert len(got) <= k and all(pool.vals[r, t] > -1e29 for t in got)
        if got and left:
            assert min(rank[r, got]) >= max(rank[r, left]) or len(got) < k
    assert {int(i) * m + int(j) for i, j in zip(*mentor_best)} <= codes and np.all(np.diff(one) > 0)
