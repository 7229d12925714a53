"""Each mentee's ``k`` best pairs (``solvers/topk.py``), the one selection of a source's
``best(k)``, the engine's violators, the fallbacks and a baseline's bound (until s27 the
baselines' bound had its own partition, ties at the ``k``-th score "in any order"): checked
against a brute force of the documented rule (per mentee, score descending, ties by position)
on pairs grouped by mentee (the partition) and in any order (the sort), with ties, infinities
and NaN. Until s28 the dense passes' candidates (``best_per_mentee``, ties by a seeded key) and
the complete source's check (``sparse._check``'s violators per row, ties by column) had sorts
of their own: their rules through ``top_k`` are pinned here too."""
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


@pytest.mark.parametrize("seed", range(4))
def test_the_callers_other_tie_rules_are_an_order_of_the_pairs(seed, monkeypatch):
    """``top_k`` keeps ties by position, so a caller with another tie rule puts its pairs in
    that order first. The dense passes' ``best_per_mentee`` (pairs in column-major order, ties
    by the seeded ``tie_key``) and the complete source's check (``sparse._check``, each row's
    ``per_row`` most violating pairs, ties by column, over blocks of rows): the pairs of the
    brute force of each rule, on scores of few levels (long runs of ties)."""
    from mentormatch.solvers import sparse
    from mentormatch.solvers.dense.candidates import best_per_mentee, tie_key

    rng = np.random.default_rng(seed)
    n, m = 40, 30
    for levels in (2, 4, 1000):
        s = np.floor(rng.random((n, m)) * levels) / levels + 1 / levels
        keep = rng.random((n, m)) < rng.random((n, 1))
        j, i = np.nonzero(keep.T)  # column-major, as a pass by mentor collects them
        ranks = (rng.permutation(n), rng.permutation(m))
        key = tie_key(ranks[0][i], ranks[1][j])
        for limit in (1, 3, 9):
            want = sorted((a, b) for a in range(n) for *_, b in sorted(
                (-s[a, b], key[q], b) for q, b in zip(np.flatnonzero(i == a), j[i == a]))[:limit])
            gi, gj, gs = best_per_mentee(i, j, s[i, j], ranks, limit, m)
            assert list(zip(gi.tolist(), gj.tolist())) == want
            assert np.array_equal(gs, s[gi, gj])
        monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 7 * m)  # (several blocks of rows)
        u, p, tol = rng.random(n) * 0.3, rng.random(m) * 0.3, 0.05
        r = s - u[:, None] - p[None, :]
        ex_i, ex_c = np.divmod(rng.choice(n * m, 60, replace=False), m)
        r[ex_i, ex_c] = -np.inf
        src = sparse._ScoredRows(s, n, m)
        for per_row in (1, 2, 5):
            viol = sparse._check(src, sparse.row_blocks(n, m), u, p, ex_i, ex_c, tol,
                                 per_row=per_row)[0]
            want = sorted((a, b) for a in range(n)
                          for _, b in sorted((-r[a, b], b) for b in np.flatnonzero(r[a] > tol))[:per_row])
            assert sorted(zip(viol.i.tolist(), viol.j.tolist())) == want
            assert np.array_equal(viol.s, s[viol.i, viol.j])


def sorted_reference(mentee: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """The rule by one sort: position, then score descending, then mentee (stable sorts), each
    mentee's first ``k`` kept (no NaN here)."""
    order = np.lexsort((np.arange(len(mentee)), -score, mentee))
    g = mentee[order]
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, int)
    place = np.arange(len(g)) - np.repeat(start, np.diff(np.r_[start, len(g)]))
    keep = np.zeros(len(mentee), bool)
    keep[order[place < k]] = True
    return keep


@st.composite
def long_rows(draw):
    """Pairs grouped by mentee, rows of 0 to 299 pairs (widths several times apart, so that
    blocks are padded), scores on 1, 2, 4 or 16 levels (some rows mostly their least or their
    greatest score: the runs that stalled the partition), or continuous, or one -inf level."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    widths = rng.integers(0, draw(st.sampled_from([3, 12, 61, 300])), draw(st.integers(1, 25)))
    mentee = np.repeat(np.arange(len(widths)), widths)
    kind = draw(st.sampled_from(["levels", "uniform", "skewed", "inf"]))
    n = len(mentee)
    if kind == "levels":
        levels = draw(st.sampled_from([1, 2, 4, 16]))
        score = rng.integers(0, levels, n) / levels
    elif kind == "uniform":
        score = rng.random(n)
    elif kind == "skewed":  # (most of a row at its least or its greatest score)
        score = np.where(rng.random(n) < 0.85, draw(st.sampled_from([0.0, 1.0])), rng.random(n))
    else:
        score = np.where(rng.random(n) < 0.5, -np.inf, rng.integers(0, 3, n) / 3)
    return mentee, score


@given(long_rows(), st.integers(1, 20), st.sampled_from([None, 0.0, 0.02, 1.0]),
       st.sampled_from([1 << 22, 64]), st.sampled_from([128, 0]), st.sampled_from([4, 2]))
def test_top_k_matches_a_sort_whichever_way_it_finds_the_kth(rows, k, share, cells, width, levels):
    """Every path of the partition (rows with runs of equal scores: stepped down by levels or
    sorted; the partition of contiguous rows, the negated partition of padded blocks; one
    block or many), whatever the runs are read as, keeps the pairs of one sort of the rule, on
    few levels, skewed runs, -inf and continuous scores."""
    import mentormatch.solvers.topk as topk

    mentee, score = rows
    with pytest.MonkeyPatch.context() as m:
        m.setattr(topk, "PAD_CELLS", cells)
        m.setattr(topk, "SORT_WIDTH", width)
        m.setattr(topk, "RUN_LEVELS", levels)
        if share is not None:
            m.setattr(topk, "_run_share", lambda s: share)
        assert np.array_equal(top_k(mentee, score, k), sorted_reference(mentee, score, k))


@pytest.mark.parametrize("levels", [1, 2, 4, 16, 64, 0])
def test_wide_rows_of_runs_step_down_levels_to_the_sorts_pairs(levels):
    """Rows of 130 to 600 pairs (wider than ``SORT_WIDTH``: the levels stepped down, then the
    sort for the rows still short), on ``levels`` levels (0: continuous), k from 1 to past a
    level's share: the pairs of one sort of the rule, contiguous rows and padded blocks."""
    rng = np.random.default_rng(levels)
    for widths in ([400] * 30, rng.integers(130, 600, 40)):
        mentee = np.repeat(np.arange(len(widths)), widths)
        score = (rng.random(len(mentee)) if levels == 0
                 else rng.integers(0, levels, len(mentee)) / max(levels, 1))
        for k in (1, 5, 20, 70, 129):
            assert np.array_equal(top_k(mentee, score, k), sorted_reference(mentee, score, k)), k
