"""A chosen pair's rank counted over a pair source (``pipeline/ranks.py``, ``BoundedSource.above``):
``1 +`` the eligible pairs of its mentee scoring strictly above it (ties share the best rank),
checked against the count recomputed from the complete set's scores, on blocks and on bounds,
with the bound pass's batches of exact scores forced small and large."""
from __future__ import annotations

import numpy as np
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
