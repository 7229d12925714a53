"""Each chosen pair's rank among its mentee's eligible mentors, read from a pair source.

The rank of a pair ``(i, j)`` is ``1 +`` the number of mentors ``j'`` eligible for ``i`` with
``s_ij' > s_ij`` (tied scores share the best rank, like pandas' ``rank(method="min")``): the
complete set counts it over the pairs it holds (:func:`mentormatch.pipeline.wrap._rank_of_pairs`).
A scale-path round holds only the solver's candidates (each mentee's best pairs by score *less
price*, and never a mentor with no place), so a rank counted there can be too small
(``tests/test_hunt_s22.py``); here it is counted over the source's every eligible pair instead:
the source's blocks screened to the pairs whose upper bound reaches the mentee's least chosen
score (only those can beat a chosen pair), scored exactly, counted. Blocks of cached exact
scores are read whole. One pass over the bounds; the exact scores are those of the pairs above
each mentee's chosen ones, in batches of many blocks
(:meth:`~mentormatch.solvers.sources.BoundedSource.above`); a mentee with
one chosen pair (the usual case) has its pairs above counted by ``bincount``, a mentee with
several by one sort of its pairs and its chosen ones.

A plain certified flow's answer comes with its proof (:class:`Proven`: every pair outside the
solver's own has ``s_ij <= u_i + p_j + eps``), so a pair above ``low_i`` has a mentor priced
above ``low_i - u_i - eps``: the bound pass reads, per mentee, only the mentors priced above
that floor (about 42 % of them at 20,000 x 5,000), and the solver's own pairs below it whose
score comes near ``low_i`` (a second chosen pair of a mentee of demand 2 can be one).

Cost at 100,000 x 20,000 (capacity 5, 99,995 pairs, ranks mean 136, max 13,828): 9.1-9.6 s
CPU with the proof against 10.7-10.8 without (load 5.6; 9.7-10.1 against 11.2-11.5 at load
15-18; 26 s before session 23; the same ranks): the bound product about 2.6 s of it (4.6
without), the exact scores of the pairs the bounds keep about 5 s (on a second thread). Those
scores are totals only since session 25 (:func:`mentormatch.scoring_totals.score_totals`): 17.5
million pairs in 2.7-2.9 s CPU against 4.7-5.1, the whole pass 7.7-8.0 s against 9.8-10.1 (the
same dump, load 16-17, the same ranks). Since session 27 a band reads its mentors in their own
order, so each row's pairs come out by mentor and a batch is put in (mentee, mentor) order by
its rows' runs (:func:`mentormatch.pairs.order_of_runs`), not by a stable argsort (a timsort
merging ~3,000 runs, 0.8 s CPU of the pass): the tables' first read 6.99-7.06 s CPU against
7.82-8.44 (``benchmarks/scale.py 100000x20000:5 --breakdown``, alternated, load 17-24; the same
pairs and tables). Since session 28 competency's and personality's exact values are gathered
by compiled kernels (:mod:`mentormatch._native.gather`; 0.24 -> 0.12-0.16 us a pair in
``exact_scores`` on pairs sorted by mentee) and the batches, already in (mentee, mentor) order,
skip ``exact_scores``' sort: the tables' first read 5.08-5.88 s CPU against 6.11-7.32 (the same
command, alternated, load 14-24; the same pairs). What remains is the bound product (2.2 s),
the scan (1.0 s) and the exact scores (1.4 s thread CPU for 15.0 million pairs, seed 5).

>>> import numpy as np
>>> from mentormatch.solvers.sources import ArraySource
>>> source = ArraySource(np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 2]),
...                      np.array([3.0, 5.0, 3.0, 1.0, 2.0]), 2, 3)
>>> ranks_on_source(source, np.array([0, 1]), np.array([3.0, 2.0])).tolist()
[2, 1]
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Proven(NamedTuple):
    """What a certified solve proved of the scores the ranks count: every eligible pair
    ``(i, j)`` but the pairs ``held`` (mentee, mentor: the solver's own, which the proof leaves
    out: locks and the chosen pairs of its last check) has ``s_ij <= u_i + p_j + eps`` (the
    dual prices ``u``, ``p``, ``+inf`` for people with no room, and the largest gain its
    check found, ``eps``). So a pair above ``low_i`` has ``p_j > low_i - u_i - eps``: the
    mentors priced below that are not read (:meth:`floors`). ``held``: (mentee, mentor, score)
    arrays; of them, the pairs below the floor whose score comes within a rounding of ``low``
    are read (scored again by the source, as every other pair it counts)."""

    u: np.ndarray
    p: np.ndarray
    eps: float
    held: tuple

    def floors(self, low: np.ndarray) -> np.ndarray:
        """Per mentee, a price below which no mentor's pair scores above ``low`` (outside
        ``held``): ``low - u - eps``, less a float64 rounding guard; ``-inf`` where ``u`` or
        ``low`` is not finite (no statement, or no chosen pair)."""
        u = np.asarray(self.u, np.float64)
        ok = np.isfinite(u) & np.isfinite(low)
        lo, uu = np.where(ok, low, 0.0), np.where(ok, u, 0.0)
        guard = 2.0 ** -40 * (np.abs(lo) + np.abs(uu) + abs(self.eps) + 1.0)
        return np.where(ok, lo - uu - self.eps - guard, -np.inf)


def proven(problem, solution) -> Proven | None:
    """The :class:`Proven` of a plain certified flow's answer (``"optimal"``, its certificate
    holding, its prices kept), whose scores are ``problem``'s (no bonus in the solve), or None.
    The held pairs are ``problem``'s: every pair the rounds solved on, the locks among them."""
    cert = solution.certificate or {}
    if (solution.status != "optimal" or solution.prices is None or not cert.get("holds")
            or cert.get("max_reduced_gain") is None):
        return None
    u, p = solution.prices
    return Proven(np.asarray(u, np.float64), np.asarray(p, np.float64), float(cert["max_reduced_gain"]),
                  (problem.pairs.mentee, problem.pairs.mentor, problem.score))


def ranks_on_source(source, mentee: np.ndarray, score: np.ndarray,
                    proven: Proven | None = None) -> np.ndarray:
    """The rank of each chosen pair (its ``mentee`` and exact ``score``, one entry a pair)
    among every eligible pair of ``source`` (``blocks(screen)``: exact scores, ``-inf`` or
    absent where a rule removes a pair). ``proven``: the solve's certificate (:class:`Proven`),
    whose prices leave out of a bound source's pass the mentors that cannot score above."""
    mentee = np.asarray(mentee, np.int64)
    score = np.asarray(score, np.float64)
    if not len(mentee):
        return np.ones(0, np.int64)
    n = source.n_mentees
    low = np.full(n, np.inf)
    np.minimum.at(low, mentee, score)  # a pair above none of a mentee's chosen ones counts for none
    # a mentee with one chosen pair: the pairs above ``low`` are the pairs above it, counted by
    # mentee; a mentee with several: each of its chosen pairs against its own score
    several = np.bincount(mentee, minlength=n) > 1
    counted = np.zeros(n, np.int64)
    above = np.zeros(len(mentee), np.int64)
    theirs = np.flatnonzero(several[mentee])
    theirs = theirs[np.argsort(mentee[theirs], kind="stable")]  # by mentee

    def screen(rows: np.ndarray, up: np.ndarray) -> np.ndarray:
        return up >= low[rows][:, None]

    # bounds: only the pairs whose bound reaches ``low``, in float32 (BoundedSource.above),
    # and with a proof, of the mentors priced above each mentee's floor (and the held pairs
    # below it, which the proof leaves out)
    if hasattr(source, "above"):
        beyond = None
        if proven is not None:
            floor = proven.floors(low)
            hi, hj = (np.asarray(x, np.int64) for x in proven.held[:2])
            hs = np.asarray(proven.held[2], np.float64)
            price = np.where(np.isnan(proven.p), np.inf, proven.p)
            near = hs >= low[hi] - 2.0 ** -30 * (1.0 + np.abs(np.where(np.isfinite(low[hi]), low[hi], 0.0)))
            below = (price[hj] < floor[hi]) & near
            beyond = (floor, price, hi[below], hj[below])
        blocks = source.above(low, beyond)
    else:
        blocks = source.blocks(screen)
    for i, _, s in blocks:
        keep = s > low[i]
        i, s = i[keep], s[keep]
        many = several[i]
        counted += np.bincount(i[~many], minlength=n)
        if many.any():
            _count_each(i[many], s[many], theirs, mentee, score, above)
    single = ~several[mentee]
    above[single] = counted[mentee[single]]
    return above + 1


def _count_each(i: np.ndarray, s: np.ndarray, theirs: np.ndarray, mentee: np.ndarray,
                score: np.ndarray, above: np.ndarray) -> None:
    """Add to ``above`` of each chosen pair ``theirs`` (positions, by mentee) the pairs
    ``(i, s)`` of its mentee scoring above it."""
    sorted_mentee = mentee[theirs]
    lo = np.searchsorted(sorted_mentee, i.min())
    hi = np.searchsorted(sorted_mentee, i.max(), side="right")
    mine = theirs[lo:hi]
    mine = mine[np.isin(mentee[mine], i)]
    if not len(mine):
        return
    # block pairs and chosen pairs in one order: by mentee, score descending, a chosen pair
    # before the block's pairs of its own score (ties do not beat it)
    all_i = np.concatenate([i, mentee[mine]])
    all_s = np.concatenate([s, score[mine]])
    is_block = np.concatenate([np.ones(len(i), np.int64), np.zeros(len(mine), np.int64)])
    order = np.lexsort((is_block, -all_s, all_i))
    seen = np.cumsum(is_block[order])  # block pairs up to each position
    start = np.searchsorted(all_i[order], all_i[order])  # each mentee's first position
    before = seen - is_block[order] - np.where(start > 0, seen[start - 1], 0)
    chosen_at = np.flatnonzero(is_block[order] == 0)
    above[mine[order[chosen_at] - len(i)]] += before[chosen_at]
