"""Each mentee's ``k`` best pairs: one selection, one tie rule, for every caller (a source's
``best(k)``, the engine's violators per mentee, a baseline's bound, the fallbacks' picks,
:func:`mentormatch.scoring.candidate_top_k`, the dense passes' candidates
:func:`mentormatch.solvers.dense.candidates.best_per_mentee`).

**The rule.** A mentee keeps its pairs scoring above its ``k``-th best score, then those tied
with it in the order of their positions, up to ``k`` (all of a mentee with at most ``k``): the
order of a stable sort by mentee, then score descending. Pairs sorted by mentee then mentor
(:class:`~mentormatch.pairs.Candidates`, a source's blocks) break ties by mentor index, and in
``pair()`` an index is the seeded rank of the id (:func:`mentormatch.pipeline.order.seeded_order`):
the documented rule over ids, whatever the order of the rows. A NaN score ranks below every
number. Another tie rule is an order: pairs put in the order of its keys within each mentee
keep their ties by those keys (as ``best_per_mentee`` does with its seeded mix).

**How.** Pairs grouped by mentee (the usual case) are selected by a partition of each long row
for its ``k``-th best score (blocks of rows of similar width, padded to the widest), the pairs
at or above it kept, and a running count over the ties only on the rows where they are more
than ``k``: no sort of every pair. At 9,000,000 pairs (9,000 rows of 1,000), k 16: 0.10 s of
CPU with continuous scores, where the lexsort took 4.0 s (s27). Pairs not grouped by mentee, or
with a NaN score, take the lexsort: the same pairs.

**Runs of equal scores.** numpy's partition of floats (x86-simd-sort's quickselect) splits a
range into ``< pivot`` and ``>= pivot``; when the pivot is the range's least value (a run of it
fills half the range) nothing moves, and it repeats the pass 2 log2(n) times before a full sort:
10-20x the time. The -inf padding of rows of unequal width is such a run (rows of 9 to 367
pairs padded to 367, all their scores equal: 148 ms for 93,293 pairs, s32h6), and so is a row
mostly at its least score (90 % at 0, rows of 1,000: 144 ms for 2 M cells against 15 on
distinct scores). So (s33): blocks hold rows at most :data:`WIDTH_RATIO` apart in width (the
padding is less than half a block, not 20x the pairs), padded blocks are partitioned negated
(their padding the greatest value, which cannot stall), and where the scores hold runs
(:func:`_run_share`, :func:`_levels`) each row's ``k``-th best is found by stepping down its
levels (its best, the next below, ... while fewer than ``k`` cells are at or above: a few
passes a level; :func:`_kth_of_runs`), or by a sort (numpy's quicksort handles runs). The
93,293 pairs above: 3.3-4.1 ms. 9,000 rows of 1,000, k 1 / 16 / 64, on 1, 4 or 16 levels:
96-126 ms (main 150-190), continuous 96-98 (main the same); 1,000 rows of 5,000 on levels:
25-27 ms (main 75-97, continuous 52); 20,000 rows of 100: 17-20 ms (main 21-26); on 100
levels, rows of 1,000: 70-131 ms (main 148-386, loaded). The worst seen: rows of about 375 on
16 levels, k 64, 50 ms against main's 46 (s33h4, least of 3-5 runs of CPU, load 6-12).
"""
from __future__ import annotations

import numpy as np

__all__ = ["top_k", "PAD_CELLS"]

#: Padded cells a block of long rows takes at once (:func:`top_k`'s partition).
PAD_CELLS = 1 << 22
#: The widest row of a block over its narrowest, at most: the padding is less than half a block.
WIDTH_RATIO = 2
#: Levels of score :func:`top_k` steps down a row of runs for its ``k``-th best before it sorts it.
RUN_LEVELS = 4
#: Runs of equal scores this long or longer (as :func:`_run_share` reads them) are sorted when
#: their levels would not do; shorter, the partition, whose stalls on them cost less than a sort
#: of wide rows (on 1,000 levels, rows of 5,000, k 64, runs read as 12: 82 ms against 147).
LONG_RUN = 16
#: Rows of runs at most this wide are sorted for their ``k``-th best straight away (numpy sorts
#: up to 128 float64 in registers, a sorting network).
SORT_WIDTH = 128


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
    pairs, each row's pairs contiguous from ``starts``): blocks of rows of similar width (at
    most :data:`WIDTH_RATIO` apart and :data:`PAD_CELLS` cells), each row's ``k``-th best score
    by a partition, or where runs of equal scores would stall it by :func:`_kth_of_runs` (the
    module docstring), then :func:`_cut`."""
    order = np.argsort(lengths[long], kind="stable")  # (similar widths share a block)
    rows_all = long[order]
    widths = lengths[rows_all]
    share = _run_share(score)
    a = 0
    while a < len(rows_all):
        w0 = int(widths[a])
        b = min(int(np.searchsorted(widths, WIDTH_RATIO * w0, side="right")),
                a + max(1, PAD_CELLS // (WIDTH_RATIO * w0)))
        rows, width = rows_all[a:b], int(widths[b - 1])
        first = int(starts[rows[0]])
        if w0 == width and rows[-1] - rows[0] == len(rows) - 1:  # contiguous, as wide
            vals = score[first:first + len(rows) * width].reshape(len(rows), width)
            levels = _levels(share * width, k)
            kth = (np.partition(vals, width - k, axis=1)[:, width - k] if levels is None
                   else _kth_of_runs(vals, k, levels))
            keep[first:first + len(rows) * width] = _cut(vals, kth, k).ravel()
            a = b
            continue
        cells = starts[rows][:, None] + np.arange(width)[None, :]
        inside = np.arange(width)[None, :] < lengths[rows][:, None]
        vals = score[np.minimum(cells, len(score) - 1)]
        vals[~inside] = -np.inf  # (padding after each row's pairs: it ranks last)
        levels = _levels(share * width, k)
        if levels is not None:
            kth = _kth_of_runs(vals, k, levels)
        else:  # (negated, the padding is the greatest: it cannot stall the partition)
            neg = np.negative(vals)
            neg.partition(k - 1, axis=1)
            kth = -neg[:, k - 1]
        keep[cells[_cut(vals, kth, k) & inside]] = True
        a = b


def _levels(run: float, k: int) -> int | None:
    """How :func:`_kth_of_runs` finds the ``k``-th best of rows whose longest run of equal
    scores is about ``run`` cells: :data:`RUN_LEVELS` levels stepped down when they likely hold
    ``k`` cells, 0 (a sort) when the runs are :data:`LONG_RUN` or longer, else None (the
    partition: runs too short to stall it)."""
    if run * RUN_LEVELS >= k:
        return RUN_LEVELS
    return 0 if run >= LONG_RUN else None


def _kth_of_runs(vals: np.ndarray, k: int, levels: int) -> np.ndarray:
    """Each row's ``k``-th best of ``vals`` (rows of more than ``k``) where the scores hold
    runs: the row's best, then its next below, while fewer than ``k`` cells are at or above it,
    at most ``levels`` levels (the usual case on few levels: a pass or three a level, no sort);
    the rows still short of ``k`` read it off a sort of the row (numpy's quicksort, whose pivot
    handles runs)."""
    width = vals.shape[1]
    if width <= SORT_WIDTH or not levels:  # (rows this narrow: a sorting network)
        return np.sort(vals, axis=1)[:, width - k]
    kth = vals.max(axis=1)
    short = np.flatnonzero(np.count_nonzero(vals >= kth[:, None], axis=1) < k)
    for _ in range(levels - 1):
        if not len(short):
            return kth
        sub = vals if len(short) == len(vals) else vals[short]
        below = np.where(sub < kth[short][:, None], sub, -np.inf).max(axis=1)
        kth[short] = below
        short = short[np.count_nonzero(sub >= below[:, None], axis=1) < k]
    if len(short):
        kth[short] = np.sort(vals[short], axis=1)[:, width - k]
    return kth


def _cut(vals: np.ndarray, kth: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best cells of ``vals`` given its ``k``-th best score ``kth``: the cells
    above it, then those equal to it in position order, up to ``k`` (a running count, on the
    rows where the cells at or above it are more than ``k``)."""
    take = vals >= kth[:, None]
    over = np.flatnonzero(np.count_nonzero(take, axis=1) > k)
    if len(over):
        every = len(over) == len(vals)  # (no copy: the usual case on runs of equal scores)
        sub, at = (vals, kth[:, None]) if every else (vals[over], kth[over][:, None])
        above = sub > at
        tied = sub == at
        need = k - np.count_nonzero(above, axis=1)
        cut = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= need[:, None]))
        if every:
            return cut
        take[over] = cut
    return take


def _run_share(score: np.ndarray) -> float:
    """The share of ``score`` its most repeated value holds, read on a 4,096-value sample (0
    when none repeats): a row of ``w`` pairs holds runs of about ``share * w`` equal scores."""
    sample = score[:: max(1, len(score) // 4096)]
    counts = np.unique(sample, return_counts=True)[1]
    most = int(counts.max(initial=0))
    return most / len(sample) if most > 1 else 0.0
