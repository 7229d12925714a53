"""One block of the ranks' bound pass (``solvers/bounded/abovescan.py``): the compiled screened
read (``_native.gather.above_pairs``) against the block scan it replaces, on the bounds of
synthetic organisations (stated preferences, the management line's removed pairs, a column
subset): the same pairs but for pairs within a rounding of the limit, in row-major order, never a
removed pair, only mentors priced at the row's floor; and the ranks' pass runs it. Where the
kernel was not built, or the machine's block kernel does not code the product's groups (no
AVX2: the bound has no coded groups), the tests are skipped, except under ``CI``."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.solvers.bounded import abovescan
from mentormatch.solvers.sparse import row_blocks

from _kernels import native_kernel
from _support import on_source

native = native_kernel("gather")

pytestmark = pytest.mark.skipif(native is None, reason="mentormatch._native.gather was not built")


def _scorer(seed: int, n: int, m: int):
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=3100 + seed)
    with on_source("bounds"):
        prepared = pl.prepare(mentors, mentees)
    scorer = prepared.scorer
    if abovescan.mentor_codes(scorer) is None:
        pytest.skip("the bound has no coded groups here (no AVX2 block kernel)")
    return scorer


@pytest.mark.parametrize("seed", range(6))
def test_the_kernels_pairs_are_the_block_scans_but_at_the_limits_rounding(seed):
    """Per block of a bound scorer (the whole one, and a subset of rows and of mentors), with
    each row's limit at one of its own bounds (many pairs at the limit), below every
    eligible pair's or +inf, and
    prices and floors with ties and infinities: every pair of the block scan whose float32
    bound is above the limit by more than a rounding is the kernel's, and every pair of the
    kernel's has a bound above the limit less a rounding, a mentor priced at least the row's
    floor and no removed pair; in row-major order."""
    rng = np.random.default_rng(seed)
    scorer = _scorer(seed, 120 + 20 * seed, 50 + 5 * seed)
    assert scorer.stated.nnz and scorer.blocked is not None and scorer.blocked.nnz  # (both kinds)
    views = [scorer, scorer.subset(rows=np.sort(rng.choice(scorer.n, scorer.n // 2, replace=False)),
                                   cols=np.sort(rng.choice(scorer.m, scorer.m // 2, replace=False)))]
    tol = 4 * scorer.margin
    for view in views:
        codes = abovescan.mentor_codes(view)
        price = rng.integers(0, 5, view.m) / 4.0
        price[rng.random(view.m) < 0.1] = np.inf
        for a, b in row_blocks(view.n, view.m):
            bound = view.upper(a, b)
            pick = bound[np.arange(b - a), rng.integers(0, view.m, b - a)]
            lim = np.where(pick > -1e10, pick, 0.0).astype(np.float32)
            lim[rng.random(b - a) < 0.1] = np.inf
            lim[rng.random(b - a) < 0.1] = -1e9  # (every eligible pair)
            need = rng.integers(-1, 5, b - a) / 4.0
            need[rng.random(b - a) < 0.1] = -np.inf
            out = np.empty((b - a, view.m), np.float32)
            for p, q in ((price, need), (None, None)):
                new_r, new_c = abovescan.above_block(view, a, b, out, lim, p, q, codes)
                old_r, old_c = abovescan.above_block(view, a, b, out, lim, p, q, None)
                key = new_r * view.m + new_c
                assert (np.diff(key) > 0).all()
                assert (bound[new_r, new_c] > lim[new_r] - tol).all()
                assert (bound[new_r, new_c] > -1e10).all()  # (never a removed pair)
                if p is not None:
                    assert (p[new_c] >= q[new_r]).all()
                clear = bound[old_r, old_c] > lim[old_r] + tol
                assert np.isin(old_r[clear] * view.m + old_c[clear], key).all()
                assert len(new_r) and clear.sum()


def test_the_kernel_refuses_codes_out_of_its_lookups_range():
    """A mentor's code past its lookup row raises (an index out of range), as do shapes that
    do not agree."""
    n, m, groups = 3, 5, 2
    args = dict(
        edges=np.array([0, n], np.int64), adds=np.zeros((1, m), np.float32),
        codes=np.zeros((m, groups), np.uint8), lookup=np.zeros((n, groups, 8), np.float32),
        lmul=np.ones(n, np.float32), rmul=np.ones(m, np.float32), inc_r=np.zeros(0, np.int64),
        inc_c=np.zeros(0, np.int64), inc_v=np.zeros(0, np.float32), put_r=np.zeros(0, np.int64),
        put_c=np.zeros(0, np.int64), limit=np.full(n, -1.0, np.float32), price=np.zeros(m),
        need=np.zeros(n), price32=np.zeros(m, np.float32), scale=1.0)
    r, c = native.above_pairs(*args.values())
    assert r.tolist() == np.repeat(np.arange(n), m).tolist() and c.tolist() == list(range(m)) * n
    args["codes"] = np.full((m, groups), 8, np.uint8)
    with pytest.raises(IndexError):
        native.above_pairs(*args.values())
    args["codes"] = np.zeros((m + 1, groups), np.uint8)
    with pytest.raises(ValueError):
        native.above_pairs(*args.values())


def test_the_ranks_pass_reads_its_blocks_by_the_kernel(monkeypatch):
    """``pair()`` on bounds: the ranks' pass (the tables' first read) calls the kernel, and the
    ranks are those of the block scan."""
    calls = []
    real = abovescan.above_block

    def counted(view, a, b, out, lim, price, need, codes_t=None):
        calls.append(codes_t is not None)
        return real(view, a, b, out, lim, price, need, codes_t)

    mentors, mentees = mm.synthetic.organisation(n_mentees=150, n_mentors=60, seed=3131)
    monkeypatch.setattr(abovescan, "above_block", counted)
    with on_source("bounds"):
        r = mm.pair(mentors, mentees)
        ranks = r.pairs["rank"].tolist()
        if not any(calls):
            pytest.skip("the bound has no coded groups here (no AVX2 block kernel)")
        monkeypatch.setattr(abovescan, "mentor_codes", lambda view: None)
        calls.clear()
        assert mm.pair(mentors, mentees).pairs["rank"].tolist() == ranks
    assert calls and not any(calls)
