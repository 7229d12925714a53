"""The violators a check returns (:func:`recheck._kept`): each row's most violating and, in the
unguided (inner) sub-market, each mentor's most violating rows too, as a brute force picks them;
and a pairing whose inner sub-market takes the mentors' rows gives the same certified pairs as
one without (its prices only guide)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch.solvers import bounded
from mentormatch.solvers.bounded import check, market, recheck

from _support import two_sub_market_levels


def _brute(vi, vj, vg, per_row, per_mentor):
    """Per row its ``per_row`` best by gain (ties: mentor), per mentor its ``per_mentor`` best
    (ties: row), united."""
    pairs = list(zip(vi.tolist(), vj.tolist(), vg.tolist()))
    out = set()
    for r in set(vi.tolist()):
        mine = sorted((-g, j) for i, j, g in pairs if i == r)
        out |= {(r, j) for _, j in mine[:per_row]}
    for c in set(vj.tolist()):
        mine = sorted((-g, i) for i, j, g in pairs if j == c)
        out |= {(i, c) for _, i in mine[:per_mentor]}
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3), st.integers(0, 2**31 - 1))
def test_kept_are_each_rows_and_each_mentors_most_violating(n, m, per_row, per_mentor, seed):
    rng = np.random.default_rng(seed)
    code = np.flatnonzero(rng.random(n * m) < 0.6)
    rng.shuffle(code)  # (a check's violators come in no order)
    vi, vj = code // m, code % m
    vg = rng.integers(1, 4, len(code)).astype(np.float64)  # ties on purpose
    i, j = recheck._kept(vi, vj, vg, n, m, per_row, per_mentor)
    got = list(zip(i.tolist(), j.tolist()))
    assert len(got) == len(set(got))
    assert set(got) == _brute(vi, vj, vg, per_row, per_mentor)
    if per_mentor:
        assert got == sorted(got)


def test_the_inner_sub_markets_mentor_rows_leave_the_certified_pairs_unchanged(monkeypatch):
    """Two levels of sub-markets on a small organisation: only the inner (unguided) one's checks
    keep each mentor's rows, and the pairs are those found without them."""
    mentors, mentees = two_sub_market_levels(monkeypatch)
    made, kept = [], []
    certifier, keep = bounded._Certifier, check._kept

    def spy_certifier(scorer, *args, **kw):
        made.append((scorer.n, kw.get("per_mentor", 0)))
        return certifier(scorer, *args, **kw)

    def spy_kept(vi, vj, vg, n, m, per_row, per_mentor=0):
        kept.append((n, per_mentor))
        return keep(vi, vj, vg, n, m, per_row, per_mentor)

    monkeypatch.setattr(bounded, "_Certifier", spy_certifier)
    monkeypatch.setattr(check, "_kept", spy_kept)
    results = {}
    for rows in (0, 2):
        monkeypatch.setattr(market, "SUB_MARKET_MENTOR_ROWS", rows)
        made.clear(), kept.clear()
        r = mm.pair(mentors, mentees)
        assert r.status == "optimal" and r.certificate["holds"]
        assert r.certificate["first_prices"]["pools_ranked_by"] is not None  # two levels
        assert sorted(made) == [(47, rows), (140, 0), (420, 0)]  # inner (420 / 3 / 3), outer, top
        assert (47, rows) in kept  # (the inner's checks found violators)
        results[rows] = sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    assert results[0] == results[2]


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 8), st.integers(1, 9), st.integers(1, 5), st.booleans(), st.integers(0, 2**31 - 1))
def test_kept_rows_kernel_gives_numpys_pairs_in_numpys_order(n, m, per_row, sort, seed):
    """The compiled ``kept_rows`` and the numpy sort give the same pairs in the same order from
    ``_kept``, rows in order or not, with ties of gain (``0.0`` and ``-0.0`` among them) and
    repeated pairs; a NaN gain goes to the numpy sort with the same answer."""
    from mentormatch import _native

    scan = pytest.importorskip("mentormatch._native.scan")
    rng = np.random.default_rng(seed)
    size = int(rng.integers(0, 3 * n * m))
    vi, vj = rng.integers(0, n, size), rng.integers(0, m, size)
    if sort:
        order = np.lexsort((vj, vi))
        vi, vj = vi[order], vj[order]
    vg = rng.choice([-1.0, -0.0, 0.0, 0.5, 2.0], size)
    answers = []
    for gains in (vg, np.where(np.arange(size) == 0, np.nan, vg)):
        got = []
        answers.append(got)
        for kernel in (scan, None):
            _native._chosen["scan"] = kernel
            try:
                got.append(recheck._kept(vi, vj, gains, n, m, per_row))
            finally:
                _native._chosen.pop("scan", None)
        for x, y in zip(*got):
            np.testing.assert_array_equal(x, y)
    if sort:  # (the kernel alone, on rows in order: the rows with few as they come, then the best)
        for x, y in zip(answers[0][1], scan.kept_rows(vi, vj, vg, per_row)):
            assert y.dtype == np.int64
            np.testing.assert_array_equal(x, y)
