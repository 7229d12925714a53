"""Each mentee's ``k`` best pairs: one selection, one tie rule, for every caller (a source's
``best(k)``, the engine's violators per mentee, a baseline's bound, the fallbacks' picks).

**The rule.** A mentee keeps its pairs scoring above its ``k``-th best score, then those tied
with it in the order of their positions, up to ``k`` (all of a mentee with at most ``k``): the
order of a stable sort by mentee, then score descending. Pairs sorted by mentee then mentor
(:class:`~mentormatch.pairs.Candidates`, a source's blocks) break ties by mentor index, and in
``pair()`` an index is the seeded rank of the id (:func:`mentormatch.pipeline.order.seeded_order`):
the documented rule over ids, whatever the order of the rows. A NaN score ranks below every
number.

**How.** Pairs grouped by mentee (the usual case) are selected by a partition of each long row
for its ``k``-th best score (padded blocks of rows of similar width), then one pass over the
pairs for the ties: no sort of every pair (0.2 s of CPU at 9 million pairs where a lexsort took
4 s, measured in s26 for the baselines' bound). Pairs not grouped by mentee, or with a NaN
score, take the lexsort: the same pairs.
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
    long = np.flatnonzero(lengths > k)
    keep = np.repeat(lengths <= k, lengths)
    if not len(long):
        return keep
    kth = np.full(len(first), np.inf)  # (rows of at most k: none above nor tied)
    kth[long] = _kth_best(first, lengths, score, k, long)
    row = np.repeat(np.arange(len(first)), lengths)
    at = kth[row]
    above, tied = score > at, score == at
    need = k - np.bincount(row[above], minlength=len(first))
    seen = np.cumsum(tied)  # each tied pair's place among its row's ties, in position order
    place = seen - np.r_[0, seen][first][row]
    keep |= above | (tied & (place <= need[row]))
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


def _kth_best(starts: np.ndarray, lengths: np.ndarray, score: np.ndarray, k: int,
              long: np.ndarray) -> np.ndarray:
    """The ``k``-th best score of each row in ``long`` (rows of more than ``k`` pairs, each
    row's pairs contiguous from ``starts``), by a partition of padded blocks of rows of
    similar width (at most :data:`PAD_CELLS` cells a block)."""
    out = np.empty(len(long))
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
        if widths[a] == width and rows[-1] - rows[0] == len(rows) - 1:  # consecutive, as wide
            vals = score[first:first + len(rows) * width].reshape(len(rows), width)
        else:
            cells = starts[rows][:, None] + np.arange(width)[None, :]
            inside = np.arange(width)[None, :] < lengths[rows][:, None]
            vals = np.where(inside, score[np.minimum(cells, len(score) - 1)], -np.inf)
        out[order[a:b]] = np.partition(vals, width - k, axis=1)[:, width - k]
        a = b
    return out
