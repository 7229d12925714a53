"""Each mentee's ``k`` best pairs: one selection, one tie rule, for every caller (a source's
``best(k)``, the engine's violators per mentee, a baseline's bound, the fallbacks' picks,
:func:`mentormatch.scoring.candidate_top_k`, the dense passes' candidates
:func:`mentormatch.solvers.dense.passes.best_per_mentee`).

**The rule.** A mentee keeps its pairs scoring above its ``k``-th best score, then those tied
with it in the order of their positions, up to ``k`` (all of a mentee with at most ``k``): the
order of a stable sort by mentee, then score descending. Pairs sorted by mentee then mentor
(:class:`~mentormatch.pairs.Candidates`, a source's blocks) break ties by mentor index, and in
``pair()`` an index is the seeded rank of the id (:func:`mentormatch.pipeline.order.seeded_order`):
the documented rule over ids, whatever the order of the rows. A NaN score ranks below every
number. Another tie rule is an order: pairs put in the order of its keys within each mentee
keep their ties by those keys (as ``best_per_mentee`` does with its seeded mix).

**How.** Pairs grouped by mentee (the usual case) are selected by a partition of each long row
for its ``k``-th best score (padded blocks of rows of similar width), the pairs at or above it
kept, and a running count over the ties only on the rows where they are more than ``k``: no
sort of every pair. At 9,000,000 pairs (9,000 rows of 1,000), k 16: 0.10 s of CPU with
continuous scores, 0.19 s with scores on 100 levels, where the lexsort took 4.0 s and 1.7 s
(s27, the least of 3 alternated runs; the baselines' own partition, which took ties in any
order, 0.09 s). Pairs not grouped by mentee, or with a NaN score, take the lexsort: the same pairs.
"""
from __future__ import annotations

import numpy as np

__all__ = ["top_k", "PAD_CELLS"]

#: Padded cells a block of long rows takes at once (:func:`top_k`'s partition).
PAD_CELLS = 1 << 22


def top_k(mentee: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """A mask of each mentee's ``k`` best pairs, ties at the ``k``-th score by position (see
    the module docstring).

    >>> top_k(np.array([0, 0, 0, 1]), np.array([0.5, 0.9, 0.5, 0.3]), 2).tolist()
    [True, True, False, True]
    >>> top_k(np.array([1, 0, 1, 0]), np.array([0.2, 0.4, 0.7, 0.1]), 1).tolist()
    [False, True, True, False]
    """
    mentee, score = np.asarray(mentee), np.asarray(score)
    n = len(mentee)
    if n == 0 or k <= 0:
        return np.zeros(n, bool)
    if np.any(mentee[1:] < mentee[:-1]) or np.isnan(score).any():
        return _by_sort(mentee, score, k)
    first = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    lengths = np.diff(np.r_[first, n])
    keep = np.repeat(lengths <= k, lengths)
    long = np.flatnonzero(lengths > k)
    if len(long):
        _mark_long_rows(keep, first, lengths, score, k, long)
    return keep


def _by_sort(mentee: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """:func:`top_k` on pairs in any order: a stable sort by mentee, then score descending."""
    n = len(mentee)
    order = np.lexsort((-score, mentee))
    m_sorted = mentee[order]
    first = np.ones(n, bool)
    first[1:] = m_sorted[1:] != m_sorted[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    keep = np.zeros(n, bool)
    keep[order[(np.arange(n) - start) < k]] = True
    return keep


def _mark_long_rows(keep: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                    score: np.ndarray, k: int, long: np.ndarray) -> None:
    """Mark in ``keep`` the ``k`` best pairs of each row in ``long`` (rows of more than ``k``
    pairs, each row's pairs contiguous from ``starts``): padded blocks of rows of similar width
    (at most :data:`PAD_CELLS` cells a block), each row's ``k``-th best score by a partition, the
    pairs at or above it kept, and where that is more than ``k`` (ties at the ``k``-th score)
    the tied ones in position order, by a running count on those rows alone."""
    order = np.argsort(lengths[long], kind="stable")  # (similar widths share a block)
    rows_all = long[order]
    widths = lengths[rows_all]
    a = 0
    while a < len(rows_all):
        b = min(a + max(1, PAD_CELLS // int(widths[a])), len(rows_all))
        while b > a + 1 and (b - a) * int(widths[b - 1]) > PAD_CELLS:  # (the widest sets it)
            b = a + max(1, PAD_CELLS // int(widths[b - 1]))
        rows, width = rows_all[a:b], int(widths[b - 1])
        first = int(starts[rows[0]])
        contiguous = widths[a] == width and rows[-1] - rows[0] == len(rows) - 1  # (as wide)
        if contiguous:
            vals = score[first:first + len(rows) * width].reshape(len(rows), width)
        else:  # (padding after each row's pairs: it ties last, if at all)
            cells = starts[rows][:, None] + np.arange(width)[None, :]
            inside = np.arange(width)[None, :] < lengths[rows][:, None]
            vals = np.where(inside, score[np.minimum(cells, len(score) - 1)], -np.inf)
        kth = np.partition(vals, width - k, axis=1)[:, width - k]
        take = vals >= kth[:, None]
        over = np.flatnonzero(np.count_nonzero(take, axis=1) > k)
        if len(over):
            sub, at = vals[over], kth[over][:, None]
            tied = sub == at
            need = k - np.count_nonzero(sub > at, axis=1)
            take[over] = (sub > at) | (tied & (np.cumsum(tied, axis=1) <= need[:, None]))
        if contiguous:
            keep[first:first + len(rows) * width] = take.ravel()
        else:
            keep[cells[take & inside]] = True
        a = b
