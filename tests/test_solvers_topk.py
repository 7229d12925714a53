"""Each mentee's ``k`` best pairs (``solvers/topk.py``), the one selection of a source's
``best(k)``, the engine's violators, the fallbacks and a baseline's bound (until s27 the
baselines' bound had its own partition, ties at the ``k``-th score "in any order"): checked
against a brute force of the documented rule (per mentee, score descending, ties by position)
on pairs grouped by mentee (the partition) and in any order (the sort), with ties, infinities
and NaN."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentormatch.pairs import Candidates
from mentormatch.solvers.sources import ArraySource
from mentormatch.solvers.topk import top_k

LEVELS = [-np.inf, 0.0, 0.25, 0.5, 0.75, 1.0, np.inf, np.nan]


def brute(mentee: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """The rule, one mentee at a time: its pairs by score descending (NaN last), ties by
    position, the first ``k`` kept."""
    keep = np.zeros(len(mentee), bool)
    for i in set(mentee.tolist()):
        at = np.flatnonzero(mentee == i)
        key = [(1 if np.isnan(score[p]) else 0, 0.0 if np.isnan(score[p]) else -score[p], p)
               for p in at]
        keep[[p for *_, p in sorted(key)[:k]]] = True
    return keep


pairs = st.lists(st.tuples(st.integers(-1, 6), st.sampled_from(LEVELS)), max_size=80)


@given(pairs, st.integers(0, 9), st.booleans(), st.booleans())
def test_top_k_keeps_the_documented_best(rows, k, grouped, with_nan):
    mentee = np.array([i for i, _ in rows], np.int64)
    score = np.array([s for _, s in rows], np.float64)
    if not with_nan:
        score = np.where(np.isnan(score), 0.5, score)
    if grouped:  # the partition's path (a stable order: ties keep their positions)
        order = np.argsort(mentee, kind="stable")
        mentee, score = mentee[order], score[order]
    assert np.array_equal(top_k(mentee, score, k), brute(mentee, score, k))


@pytest.mark.parametrize("seed", range(3))
def test_long_rows_in_padded_blocks_keep_the_rule(monkeypatch, seed):
    """Rows of many widths, split into many padded blocks (``PAD_CELLS`` lowered), scores on a
    few levels: the same pairs as the brute force, and a source's ``best(k)`` returns them."""
    import mentormatch.solvers.topk as topk

    monkeypatch.setattr(topk, "PAD_CELLS", 64)
    rng = np.random.default_rng(seed)
    n, m = 30, 40
    keep = rng.random((n, m)) < rng.random((n, 1))
    i, j = np.nonzero(keep)
    s = rng.integers(0, 4, len(i)) / 4.0
    for k in (1, 3, 16):
        mask = top_k(i, s, k)
        assert np.array_equal(mask, brute(i, s, k)), k
        bi, bj, bs = ArraySource(i, j, s, n, m).best(k)
        assert np.array_equal(bi, i[mask]) and np.array_equal(bj, j[mask])


def test_ties_by_mentor_index_on_candidates():
    """On pairs sorted by mentee then mentor (``Candidates``), ties go to the lower mentor
    index: the seeded rank of the id in ``pair()``."""
    P = Candidates(np.array([0, 0, 0, 0, 1, 1]), np.array([0, 1, 2, 3, 0, 2]), 2, 4)
    s = np.array([0.5, 0.9, 0.5, 0.5, 0.2, 0.2])
    assert top_k(P.mentee, s, 2).tolist() == [True, True, False, False, True, True]
    assert top_k(P.mentee, s, 3).tolist() == [True, True, True, False, True, True]
