"""A chosen pair's rank counted over a pair source (``pipeline/ranks.py``, ``BoundedSource.above``):
``1 +`` the eligible pairs of its mentee scoring strictly above it (ties share the best rank),
checked against the count recomputed from the complete set's scores, on blocks and on bounds,
with the bound pass's batches of exact scores forced small and large."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.pipeline.ranks import ranks_on_source
from mentormatch.solvers import sources
from mentormatch.solvers.sources import ArraySource

from _support import on_source, result_positions


def _brute(i, s, mentee, score):
    """1 + the pairs ``(i, s)`` of each chosen pair's mentee scoring above it."""
    return 1 + ((i[None, :] == mentee[:, None]) & (s[None, :] > score[:, None])).sum(axis=1)


class _Batches(ArraySource):
    """The pairs of an :class:`ArraySource` handed out in shuffled batches of ``size`` pairs
    (a batch may hold any mentees, in any order), as ``BoundedSource.above`` may."""

    def __init__(self, i, j, s, n, m, size, seed):
        super().__init__(i, j, s, n, m)
        self.size, self.seed = size, seed

    def blocks(self, screen=None):
        order = np.random.default_rng(self.seed).permutation(len(self.i))
        for a in range(0, len(order), self.size):
            k = order[a:a + self.size]
            yield self.i[k], self.j[k], self.s[k]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("size", [1, 7, 10 ** 6])
def test_ranks_on_source_count_the_pairs_above_each_chosen_pair_with_ties_and_several_chosen(seed, size):
    """Random sources of 25 mentees x 9 mentors (about 70 % of the pairs eligible), scores
    drawn from 0-4 in halves (many ties), 1 to 3 chosen pairs a mentee (some mentees none), the
    pairs handed out in shuffled batches of 1, 7 or every pair: each chosen pair's rank is 1 +
    its mentee's pairs strictly above it, recomputed pair by pair."""
    rng = np.random.default_rng(seed)
    n, m = 25, 9
    cell = np.flatnonzero(rng.random(n * m) < 0.7)
    i, j = cell // m, cell % m
    s = rng.integers(0, 9, len(cell)) / 2.0
    chosen = []
    for e in range(n):
        mine = np.flatnonzero(i == e)
        if len(mine) and rng.random() < 0.85:
            chosen += list(rng.choice(mine, size=min(len(mine), int(rng.integers(1, 4))), replace=False))
    chosen = rng.permutation(np.array(chosen, np.int64))
    got = ranks_on_source(_Batches(i, j, s, n, m, size, seed), i[chosen], s[chosen])
    want = _brute(i, s, i[chosen], s[chosen])
    assert (np.bincount(i[chosen], minlength=n) > 1).any() and (want > 1).any()
    assert got.tolist() == want.tolist()


def _round(seed: int, case: str):
    """30-46 mentees x 12 mentors (synthetic seed 2330 + seed) and a programme for ``case``."""
    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(n_mentees=30 + 4 * (seed % 5), n_mentors=12, seed=2330 + seed)
    cap = rng.integers(1, 4, len(mentors))
    programme: dict = {"constraints": {"management_line": False}}
    cons = programme["constraints"]
    if case == "capacity 0":
        cap[rng.random(len(mentors)) < 1 / 3] = 0
    elif case == "ties":  # two coarse features only: many mentors score alike for a mentee
        programme["weights"] = {"geography": 0.0, "readiness": 0.0, "experience": 0.0,
                                "personality": 0.0, "competency": 1.0, "preference": 1.0}
    elif case == "locked":  # each of four mentees locked to the mentor of its worst score
        cons["locked"] = [[mentees["id"][k], mentors["id"][int(rng.integers(0, len(mentors)))]]
                          for k in range(0, 8, 2)]
        cap[:] = 4
    elif case == "forbidden":  # a third of the pairs of half the mentees forbidden
        cons["forbidden"] = [[mentees["id"][k], mentors["id"][t]] for k in range(0, len(mentees), 2)
                             for t in range(len(mentors)) if rng.random() < 1 / 3]
    elif case == "priority":  # a bonus that enters the solve, not the rank's scores
        mentees = mentees.assign(priority=rng.choice([0.0, 1.0, 2.0], len(mentees)))
        cons["priority_weight"] = 1.5
    elif case == "demand 2":
        mentees = mentees.assign(mentors_needed=rng.choice([1, 2], len(mentees)))
        cap[:] = 6
    return mentors.assign(capacity=cap, min_capacity=0), mentees, programme


CASES = ["capacity 0", "ties", "locked", "forbidden", "priority", "demand 2"]


@pytest.mark.parametrize("batch", [1, 1 << 18])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_every_rank_on_blocks_and_bounds_is_the_complete_sets(kind, case, seed, batch, monkeypatch):
    """Each chosen pair's rank on blocks and bounds (``above``'s exact scores in batches of one
    block or of many) is 1 + the eligible pairs of its mentee scoring strictly above it,
    recomputed from the complete set's scores, under ties, mentors of capacity 0, locked and
    forbidden pairs, a priority bonus (it enters the solve, not the ranked scores) and demands
    of 2."""
    monkeypatch.setattr(sources, "ABOVE_BATCH", batch)
    mentors, mentees, programme = _round(seed, case)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    pos = result_positions(complete, r)
    assert len(pos) and (pos >= 0).all()
    mentee = p.pairs.mentee[pos]
    assert np.allclose(r.pairs["score"], p.score[pos], rtol=0, atol=1e-9)
    want = _brute(p.pairs.mentee, p.score, mentee, r.pairs["score"].to_numpy())
    assert r.pairs["rank"].tolist() == want.tolist()
    if case == "ties":  # the case holds ties among the pairs above some chosen pair, or at it
        same = (p.pairs.mentee[None, :] == mentee[:, None]) & (p.score[None, :] == p.score[pos, None])
        assert (same.sum(axis=1) > 1).any()


@pytest.mark.parametrize("seed", range(6))
def test_above_with_prices_reads_the_pairs_above_the_floors_and_the_given_ones(seed, monkeypatch):
    """``BoundedSource.above(low, (floor, price, mentee, mentor))`` on a bound source of 60-80
    mentees x 40 mentors, in bands of rows forced to 1-5: the pairs it scores are the pairs
    ``above(low)`` scores whose mentor's price reaches the mentee's floor (prices with ties,
    NaN and inf; floors -inf, NaN, inf and finite), and the given pairs besides, each with the
    same exact score."""
    from mentormatch.pipeline import large

    monkeypatch.setattr(sources, "PRICE_BANDS", 1 + seed % 5)
    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(n_mentees=60 + 4 * seed, n_mentors=40, seed=2400 + seed)
    with on_source("bounds"):
        prepared = pl.prepare(mentors, mentees, {"constraints": {"management_line": False}})
    n, m = len(mentees), len(mentors)
    source = large._source(prepared.scorer, n, m)
    best, _ = source.best_within()
    low = np.empty(n)
    low[prepared.scorer.order] = best - rng.random(n) * 0.4
    low[rng.random(n) < 0.1] = np.inf
    price = rng.integers(0, 6, m) / 4.0
    price[rng.random(m) < 0.1] = np.nan
    price[rng.random(m) < 0.1] = np.inf
    floor = rng.integers(-1, 7, n) / 4.0
    floor[rng.random(n) < 0.1] = -np.inf
    floor[rng.random(n) < 0.05] = np.nan
    floor[rng.random(n) < 0.05] = np.inf
    gi, gj = rng.integers(0, n, 30), rng.integers(0, m, 30)
    code = np.unique(gi * m + gj)
    p = np.where(np.isnan(price), np.inf, price)
    code = code[p[code % m] < floor[code // m]]  # (the caller gives pairs below the floor)
    gi, gj = code // m, code % m

    def read(beyond):
        parts = list(source.above(low, beyond))
        i, j, s = (np.concatenate([q[t] for q in parts]) for t in range(3))
        return dict(zip((i * m + j).tolist(), s.tolist()))

    every = read(None)
    got = read((floor, price, gi, gj))
    # no mentor priced at any mentee's floor: none of the pass's pairs, the given ones only
    assert read((np.full(n, np.inf), np.zeros(m), gi, gj)).keys() == set(code.tolist())
    keep = {c: s for c, s in every.items() if not (p[c % m] < floor[c // m]) and not np.isnan(floor[c // m])}
    keep.update({c: s for c, s in every.items() if np.isnan(floor[c // m])})
    mine = {c: got[c] for c in code.tolist()}
    assert len(keep) < len(every) and len(mine)
    assert {c: s for c, s in got.items() if c not in mine} == keep
    assert np.allclose(list(mine.values()), prepared.scorer.exact_scores(
        prepared.scorer.inverse[gi], gj), rtol=0, atol=0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", CASES)
def test_ranks_read_with_the_certificates_prices_are_the_complete_sets(case, seed, monkeypatch):
    """On bounds, a plain certified flow hands its prices to the ranks (a :class:`Proven`,
    the pass then skips the mentors priced below each mentee's floor): each rank is still 1 +
    the eligible pairs of its mentee scoring strictly above it, recomputed from the complete
    set's scores, and the pass scores fewer pairs than without the prices. With a priority
    bonus (the solve's scores are not the ranked ones) no prices are handed over."""
    from mentormatch.pipeline import large
    from mentormatch.pipeline.ranks import Proven

    seen = []
    real = large.ranks_on_source

    def spy(source, mentee, score, proof=None):
        counted = []
        above = source.above

        def counting(low, beyond=None):
            for part in above(low, beyond):
                counted.append(len(part[0]))
                yield part

        source.above = counting
        got = real(source, mentee, score, proof)
        without = sum(len(q[0]) for q in above(np.asarray(_low(source, mentee, score))))
        seen.append((proof, sum(counted), without))
        return got

    monkeypatch.setattr(large, "ranks_on_source", spy)
    mentors, mentees, programme = _round(seed, case)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    with on_source("bounds"):
        r = mm.pair(mentors, mentees, programme)
    pos = result_positions(complete, r)
    mentee = p.pairs.mentee[pos]
    want = _brute(p.pairs.mentee, p.score, mentee, r.pairs["score"].to_numpy())
    assert r.pairs["rank"].tolist() == want.tolist()
    (proof, read, without), = seen
    if case == "priority":
        assert proof is None
    else:
        assert isinstance(proof, Proven) and r.status == "optimal"
        assert read <= without


def _low(source, mentee, score):
    low = np.full(source.n_mentees, np.inf)
    np.minimum.at(low, np.asarray(mentee, np.int64), np.asarray(score, np.float64))
    return low


def test_proven_floors_leave_no_room_below_a_pair_above_low():
    """``Proven.floors``: ``low - u - eps`` less a guard, so a pair with ``s <= u + p + eps``
    and ``s > low`` has ``p`` above its floor even at the rounding's edge; ``-inf`` where the
    price or ``low`` is not finite."""
    from mentormatch.pipeline.ranks import Proven

    u = np.array([1.0, np.inf, 0.3, -np.inf, 2.5])
    low = np.array([3.0, 2.0, np.inf, 1.0, 0.1 + 0.2])
    f = Proven(u, np.zeros(3), 1e-9, (np.zeros(0), np.zeros(0), np.zeros(0))).floors(low)
    assert f[0] < 3.0 - 1.0 - 1e-9 and f[0] > 3.0 - 1.0 - 2e-9
    assert np.isneginf(f[1:4]).all()
    # s = low + tiny above, p at the least price its inequality allows: above the floor
    s = np.nextafter(low[4], np.inf)
    assert s - u[4] - 1e-9 >= f[4]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("case", ["capacity 0", "ties", "forbidden", "demand 2"])
@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_the_tables_of_a_scale_path_round_are_the_complete_sets(kind, case, seed):
    """The tables a caller reads of a round on blocks or bounds (the scale path forced at 0
    pairs) are the complete set's: the same pairs in the same order with the same ranks,
    eligible counts and locks, the same scores and contributions (to a rounding), and the same
    unmatched mentees with the same reason codes."""
    mentors, mentees, programme = _round(seed, case)
    r0 = mm.pair(mentors, mentees, programme)
    with on_source(kind):
        r1 = mm.pair(mentors, mentees, programme)
    a, b = r0.pairs, r1.pairs
    assert list(a.columns) == list(b.columns)
    exact = [c for c in a.columns if c != "score"]
    pd.testing.assert_frame_equal(a[exact], b[exact])
    assert np.allclose(a["score"], b["score"], rtol=0, atol=1e-9)
    assert list(r0.contributions.columns) == list(r1.contributions.columns)
    assert np.allclose(r0.contributions.to_numpy(), r1.contributions.to_numpy(), rtol=0, atol=1e-9)
    u0, u1 = r0.unmatched, r1.unmatched
    assert u0["mentee_id"].tolist() == u1["mentee_id"].tolist()
    assert u0["reason_code"].tolist() == u1["reason_code"].tolist()
    assert set(a["mentee_id"]) | set(u0["mentee_id"]) == set(mentees["id"])
