"""Each mentor's rivals in a guided sub-market's first sparse set (:func:`market._rivals`): the
pool pairs whose value is highest above their row's ``d``-th best, per mentor, as a brute force
picks them; and a pairing whose outer sub-market takes them gives the same certified pairs as
one without (its prices only guide)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch.solvers import bounded
from mentormatch.solvers.bounded import market
from mentormatch.scale import BIG

from _support import two_sub_market_levels


def _brute(cols, vals, dem, per_mentor):
    """Per mentor, its pool pairs by value above the row's d-th best (descending; ties: row), the
    first ``per_mentor``; rows with no demand left out, missing entries never taken."""
    n, size = vals.shape
    out = set()
    for j in np.unique(cols):
        found = []
        for i in range(n):
            if dem[i] <= 0:
                continue
            level = max(sorted(vals[i], reverse=True)[min(max(dem[i], 1), size) - 1], -BIG / 2)
            for c in range(size):
                if cols[i, c] == j and vals[i, c] > -BIG / 2:
                    found.append((-(vals[i, c] - level), i, c))
        for _, i, _c in sorted(found)[:per_mentor]:
            out.add((i, int(j)))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(2, 7), st.integers(0, 3), st.integers(0, 2**31 - 1))
def test_rivals_are_each_mentors_best_pool_pairs_above_their_rows_level(n, size, m, per_mentor, seed):
    rng = np.random.default_rng(seed)
    cols = np.stack([rng.permutation(m)[:size] if size <= m else rng.integers(0, m, size) for _ in range(n)])
    vals = rng.integers(-3, 4, (n, size)).astype(np.float64)  # ties on purpose
    vals[rng.random((n, size)) < 0.15] = -BIG  # pool entries with no pair
    dem = rng.integers(0, 4, n)
    before = (np.array([0]), np.array([m - 1]))
    i, j = market._rivals(SimpleNamespace(cols=cols, vals=vals), before, dem, per_mentor)
    assert (i[0], j[0]) == (0, m - 1)  # the mentors' own best rows are kept, first
    got = list(zip(i[1:].tolist(), j[1:].tolist()))
    assert len(got) == len(set(got)) or size > m  # (a row holds a mentor once when it can)
    assert set(got) == _brute(cols, vals, dem, per_mentor)


def test_a_guided_sub_markets_rivals_leave_the_certified_pairs_unchanged(monkeypatch):
    """Two levels of sub-markets on a small organisation: the outer (guided) one takes its
    rivals, the inner and the top level do not, and the pairs are those found without them."""
    mentors, mentees = two_sub_market_levels(monkeypatch)
    calls = []
    rivals = bounded._rivals

    def spy(pool, mentor_best, dem, per_mentor=None):
        out = rivals(pool, mentor_best, dem, per_mentor)
        calls.append((len(pool.cols), len(out[0]) - len(mentor_best[0])))
        return out

    monkeypatch.setattr(bounded, "_rivals", spy)
    results = {}
    for per_mentor in (0, 16):
        monkeypatch.setattr(market, "SUB_MARKET_RIVALS", per_mentor)
        r = mm.pair(mentors, mentees)
        info = r.certificate["first_prices"]
        assert r.status == "optimal" and r.certificate["holds"]
        assert info["pools_ranked_by"] is not None  # two levels: the outer one guided by the inner
        results[per_mentor] = sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    assert [rows for rows, _ in calls] == [140, 140]  # the outer sub-market's 420 / 3 rows, alone
    assert calls[0][1] == 0 and calls[1][1] > 0
    assert results[0] == results[16]
