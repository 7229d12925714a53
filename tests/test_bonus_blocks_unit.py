"""The engine's unit on blocks without a cache with a bonus folded in (``solvers/bonus.py``'s
:class:`~mentormatch.solvers.bonus.BonusBlocks`: priority, continuity, a per-mentor price, a
per-mentee factor): read from bounds of ``score + bonus`` (the block scorer's
``unit_bounds`` with the bonus, :class:`~mentormatch.solvers.bonus.BonusBounds`) and a few
exact scores, it is the unit of the full pass over the blocks (each mentee's best
``score + bonus``), and no block is scored for it. On the old code ``BonusBlocks`` had no
bounds: one pass over every block (the assertion ``scored == []`` fails there)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch.pipeline.blocks import _BlockScorer
from mentormatch.rules.settings import DEFAULT_WEIGHTS
from mentormatch.solvers.base import PairBonus
from mentormatch.solvers.bonus import BonusBlocks
from mentormatch.solvers.sources import BlockSource
from mentormatch.solvers.unit import score_unit, source_unit

from _support import uncached_blocks


def _bonus(rng, n: int, m: int, top: float, kind: str) -> PairBonus:
    """A random bonus on the scores' scale ``top`` (priority on some mentees, continuity on
    some pairs; with ``kind`` a per-mentor price of any sign and a per-mentee factor)."""
    per = np.where(rng.random(n) < 0.3, rng.uniform(0, 2, n) * top, 0.0)
    k = int(rng.integers(0, n + 1))
    mi, mj = rng.integers(0, n, k), rng.integers(0, m, k)
    code, first = np.unique(mi * m + mj, return_index=True)  # each listed pair once
    value = rng.uniform(0, 3, len(code)) * top
    pm = rng.uniform(-2, 1, m) * top if kind in ("price", "all") else None
    sc = rng.uniform(0, 2, n) if kind in ("factor", "all") else None
    return PairBonus(per_mentee=per, mentee=code // m, mentor=code % m, value=value,
                     n_mentors=m, per_mentor=pm, scale_mentee=sc)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["plain", "price", "factor", "all"]),
       st.sampled_from(["same_team", "min_score"]))
def test_bonus_blocks_give_the_full_passs_unit_without_a_pass(seed, kind, rule):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 40)), int(rng.integers(3, 12))
    k = int(rng.integers(-30, 21))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=int(seed % 1000))
    cons = {"same_team": True} if rule == "same_team" else {"min_score": 0.45 * 2.0 ** k}
    programme = {"weights": {f: w * 2.0 ** k for f, w in DEFAULT_WEIGHTS.items()},
                 "constraints": cons}
    sc = uncached_blocks(mentors, mentees, programme)
    bonus = _bonus(rng, n, m, 2.0 ** k, kind)
    folded = BonusBlocks(sc, bonus, m)
    full = np.vstack([folded(slice(a, min(a + 7, n))) for a in range(0, n, 7)])  # the full pass
    best = full.max(axis=1)
    want = score_unit(best[np.isfinite(best)])
    scored = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sc, "_score", lambda rows: scored.append(rows) or _BlockScorer._score(sc, rows))
        assert folded.unit_bounds() is not None
        assert source_unit(BlockSource(folded, n, m)) == want
        # the exact scores the unit reads are the full pass's numbers
        i, j = np.nonzero(np.ones((n, m), bool))
        got = folded.judged_scores(i, j)
        assert np.array_equal(got, full[i, j])
    assert scored == []


def _add_bonus_by_copies(up, per_row, shift, r, c, v, scale_row=None):
    """The bonus on float32 bounds as boolean-indexed copies do it (the code before s21): the
    reference for the in-place version."""
    from mentormatch.scale import BIG

    keep = up > -BIG / 2
    if scale_row is not None:
        up[keep] *= np.broadcast_to(scale_row[:, None].astype(up.dtype), up.shape)[keep]
    up[keep] += np.broadcast_to(per_row[:, None], up.shape)[keep]
    if shift is not None:
        up[keep] += np.broadcast_to(shift[None, :], up.shape)[keep]
    if len(r):
        ok = keep[r, c]
        np.add.at(up, (r[ok], c[ok]), v[ok])
    return up


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_the_bonus_on_bounds_is_added_in_place_to_the_same_numbers(seed):
    """``solvers/bonus._add_bonus`` (every BonusBounds and BonusRows bound) adds the bonus in
    place with ``where=``: bit for bit the numbers of boolean-indexed copies (float64 sums
    rounded to float32), ineligible entries untouched, scores from 1e-8 to 1e4."""
    from mentormatch.scale import BIG
    from mentormatch.solvers.bonus import _add_bonus

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 40)), int(rng.integers(1, 30))
    up = (rng.random((n, m)) * 10 ** rng.uniform(-8, 4)).astype(np.float32)
    up[rng.random((n, m)) < 0.3] = -BIG
    per = rng.normal(size=n) * 10 ** rng.uniform(-8, 4)
    shift = rng.normal(size=m) if seed % 2 else None
    scale = rng.random(n) * 2 if seed % 3 == 0 else None
    k = int(rng.integers(0, 10))
    r, c, v = rng.integers(0, n, k), rng.integers(0, m, k), rng.random(k)
    want = _add_bonus_by_copies(up.copy(), per, shift, r, c, v, scale)
    got = _add_bonus(up.copy(), per, shift, r, c, v, scale)
    assert got.dtype == np.float32 and np.array_equal(got, want)
    assert np.array_equal(got <= -BIG / 2, up <= -BIG / 2)
