"""The top level's first prices moved toward its own market before its first flow
(:mod:`mentormatch.solvers.bounded`): a few price-adjustment sweeps per mentor on the first
sparse set (:func:`adjusted`), the set ranked again by them, and a check at them that adds the
pairs they show missing (:func:`prechecked`).

Why. The sub-market's prices ``g`` (a fifth of the mentees, each with five times the demand)
rank the first sparse set; the first flow's prices then differ from them by about 0.02 per
mentor within a city (and by a level per city, which a row's ranking barely sees: 86 % of a
row's first pairs are in its own city), so at 100,000 x 20,000 the first check found 11,730
true violators (4,357 outside the pools), added 96,656 pairs, and the second round was a cold
flow (3.7-4.3 s CPU) before a third. Each mentee's best pair of the first sparse set at prices
that balance every mentor's first-choice demand against its places is, at the optimum's
prices, its own pair (complementary slackness); :data:`SWEEPS` sweeps of that balance on the
set's exact scores take the within-city error from 0.019 to 0.005 (root mean square against
the optimum's prices; 0.4-0.6 s CPU in numpy, below). The set ranked by them, a check at them
(the pools' rows whose pairs outside may now count are scanned afresh, taking their pools
under them) adds 86,221 pairs before the first flow, whose check then finds 338 violators:
the second round is a warm repair (:mod:`mentormatch.solvers.warm`) and the last. In ``pair()`` at 100,000 x
20,000 (s28h1, load 16-20, the same pairs): 2 rounds, not 3; the top level's flows 7.1-7.4 s
CPU against 8.8, its checks 3.5-3.6 against 4.2, but this step 2.9-3.8 s, so the level's CPU
is no lower (14.4 and 15.8 s against 14.0): what it buys is one cold flow fewer on the path.
At 200,000 x 40,000 (one run, load 20-26, the same pairs): 3 rounds against 4, round 1 adding
58,484 pairs against about a million, this step 10.6 s CPU, the level's CPU about even.
Offline (``benchmarks/first_replay.py``): without the check at the adjusted prices, round 1
still finds 5,670 true violators (3,697 outside the pools) and the rounds stay 3; a shift per
city instead (even the optimum's) changes nothing.

**Where its time goes** (s29h3, replayed from a capture of ``pair()`` at 100,000 x 20,000 with
``benchmarks/first_replay.py replay --adjust``, CPU seconds, load 4-6): the sweeps 0.62 in
numpy, 0.15-0.19 compiled (:mod:`mentormatch._native.prices`, the same prices); the set ranked
again 0.30-0.50, of which the exact scores of the 260,588 pairs new in the rows' first 12 about
0.25 (``np.argpartition`` itself 0.035: a compiled choice, 0.039, bought nothing); the check
1.16-1.49, of which its re-checks per mentor group 0.91 (44.9 M bound pairs in 102 re-checks;
the scans 0.63, the views and exclusions the rest) and its frame 0.07 (paid once a solve, by
the first check either way). The check cannot be made cheaper from here: a looser tolerance
(0.5 or 2 times the near share of a score) leaves 2,352-2,939 true violators to round 1 and 3
rounds, for no fewer re-checks; the set not ranked again saves the 0.3-0.5 s but its first
flow takes 4.9-5.2 s CPU against 3.6-3.9 (1.43 M pairs, not 1.37 M); 20 sweeps instead of 60
leave round 2 a cold flow and 4 rounds. Ranked again with fewer pairs a row (``per_row + 1``,
9 not 12) the step took 1.78-1.88 s against 2.15-2.51 and the first flow 3.2-3.6 s against
3.8-4.7 (three replays each, load 6-10; round 1 adding 21,614 pairs, not 13,380, still 2
rounds), but at 200,000 x 40,000 (``pair()``, load 10-26, the same pairs) round 2 repaired
7,633 violators in 2,890 phases against 2,416 in 1,564 with 12 a row (round 1's flow on 2.39 M
pairs against 2.87 M; the flows' CPU, 21.1 s against 22.0, was no measure at that load): not
kept, pending a quiet A/B.

**Both cores** (s30h4): each sweep's demand in two halves on two threads (``sweeps_two``), the
candidates' rows in two parts (:func:`.first._candidates`), the check's re-checks per mentor
group and their plans on two threads (:mod:`.groupcheck`). CPU on replays of one capture each
(``benchmarks/first_replay.py`` captures, main and this alternated, load 6-15, so no wall time was measurable):
at 100,000 x 20,000 the step 1.82-2.01 s in main, 1.90-2.14 here with 2.5 times the sweeps
below (0.37 s not 0.16), the groups' check 0.90-0.94 s against 0.65-0.74; at 200,000 x 40,000
4.37-4.79 against 4.24-4.93 (sweeps 0.85 not 0.40; groups' check 1.90-2.05 against 1.37-1.40).

**How far the sweeps go** (s30h4). Until s30 60 sweeps from 0.01 with a decay of 0.96 (the moves
summing to 0.25 of a score unit): within a city they converge (0.0046 root mean square against
the optimum's prices at 200,000 x 40,000, less the mean of the mentor's group, :mod:`.groups`,
here cities), but not the groups' levels: the first set holds few pairs across them (one group's
163,925 pairs, 1,017), so a level moves slowly, and at 200,000 x 40,000 seven groups stayed
0.11-0.17 below their level in the optimum. The first flow then raised them; their rows' ``u_i``
fell, and 84 % of round 1's 2,707 true violators were pairs into another group (1,972 into one,
whose level the sweeps had right), 983 outside the pools, none in a row's first 12 by the
adjusted prices; round 2 repaired 2,731 violators in 1,676 phases (8.7 s CPU). Replays of the
same capture (``benchmarks/first_replay.py``, load 6-10, the same pairs): the oracle's levels
per group added to the adjusted prices: 1,624 violators, a 1.55 s repair; 300 sweeps from 0.01,
decay 0.99: 405, 2.8 s, but 4 rounds; 150 from 0.02, decay 0.98 (these): 576 true violators,
round 1 adding 41,662 pairs not 53,928, round 2 repairing 595 in 482 phases (2.6 s CPU), 3
rounds, the replay's CPU 23.0 s against 31.2. At 100,000 x 20,000: 126 true violators against
325, round 1 adding 11,963 pairs against 13,441, the repair 0.61 s CPU against 1.14, 3 rounds
both; the sweeps cost 0.37 s CPU there against 0.15 (0.9 against 0.36 at 200,000 x 40,000, on
two threads). The error within groups is the same: 0.0041-0.0048.

Only the top level of a plain certified solve guided by a sub-market: a warm start from an
earlier solution (:mod:`.start`) is near its optimum already.

Any prices are safe: the certificate is computed afresh each round, so only the speed
depends on these (the same pairs either way).
"""
from __future__ import annotations

import os

import numpy as np

from ..._native import prices_kernel
from ..flow import network
from ..sparse import _merge, _Sparse
from .first import _first_sparse

#: Sweeps of the price adjustment (each about 5 ms CPU at 2.9 million pairs compiled, on two
#: threads from :data:`TWO_THREADS_PAIRS`).
SWEEPS = 150
#: From this many pairs the compiled sweeps take each sweep's demand in two halves on two threads
#: (``sweeps_two``; the same prices when the demands are whole numbers, as mentees' are).
TWO_THREADS_PAIRS = 200_000
#: The first sweep moves a mentor's price by this share of the pairs' median score per unit of
#: relative excess demand ((first choices - places) / places) ...
STEP_SHARE = 0.02
#: ... and each later sweep by this factor of the one before: the moves then sum to about 48
#: times the first (0.95 of a score unit), enough for the levels of the cities' prices (below).
STEP_DECAY = 0.98


def adjusted(sp: _Sparse, guide: np.ndarray, cap: np.ndarray, dem: np.ndarray) -> np.ndarray:
    """``guide`` moved by :data:`SWEEPS` sweeps of tatonnement on the pairs of ``sp`` (sorted by
    row, exact scores): each mentee (weighted by its demand) takes its best pair by ``s - price``
    when that is >= 0 (the first such pair of its row on ties); each mentor's price moves by the
    step times its relative excess demand, never below 0. Mentors without places keep theirs
    (0). The sweeps run in the compiled kernel where built (:mod:`mentormatch._native.prices`),
    else in :func:`_numpy_sweeps`: the same prices to the bit."""
    price = np.where(cap > 0, guide, 0.0).astype(np.float64)
    if len(sp.i) == 0:
        return price
    i, j = np.ascontiguousarray(sp.i, np.int64), np.ascontiguousarray(sp.j, np.int64)
    s = np.ascontiguousarray(sp.s, np.float64)
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    weight = np.ascontiguousarray(dem, np.float64)
    places = np.ascontiguousarray(cap, np.float64)
    room = places > 0
    step = STEP_SHARE * float(np.median(np.abs(s)))
    steps = np.array([step * STEP_DECAY ** sweep for sweep in range(SWEEPS)])
    kernel = prices_kernel()
    if kernel is None:
        return _numpy_sweeps(starts, i, j, s, weight, places, room, steps, price)
    whole = np.all(weight == np.floor(weight)) and float(np.abs(weight).sum()) < 2.0 ** 53
    if len(i) < TWO_THREADS_PAIRS or (os.cpu_count() or 1) < 2 or not whole or not hasattr(kernel, "sweeps_two"):
        kernel.sweeps(starts, i, j, s, weight, places, room.view(np.uint8), steps, price)
        return price
    from concurrent.futures import ThreadPoolExecutor

    split = int(np.searchsorted(starts, len(i) // 2))  # (the rows' half of the pairs)
    with ThreadPoolExecutor(1) as other:
        kernel.sweeps_two(starts, i, j, s, weight, places, room.view(np.uint8), steps, price, split,
                          lambda fn: other.submit(fn).result)
    return price


def _numpy_sweeps(starts, i, j, s, weight, places, room, steps, price) -> np.ndarray:
    """The sweeps of :func:`adjusted` in numpy (the compiled kernel's twin), one per entry of
    ``steps`` (the move per unit of relative excess demand)."""
    lengths = np.diff(np.r_[starts, len(i)])
    rows = i[starts]
    for f in steps:
        value = s - price[j]
        best = np.maximum.reduceat(value, starts)
        at = np.flatnonzero(value >= np.repeat(best, lengths))
        first = at[np.r_[True, i[at[1:]] != i[at[:-1]]]]  # each row's first best pair
        take = first[best >= 0]
        demand = np.bincount(j[take], weight[rows[best >= 0]], minlength=len(price))
        excess = np.where(room, (demand - places) / np.maximum(places, 1.0), 0.0)
        price = np.maximum(0.0, price + float(f) * excess)
    return price


def prechecked(scorer, exact, pool, mentor_best, sp: _Sparse, guide: np.ndarray, k_first: int, cap, dem,
               checker, per_row: int):
    """The first sparse set and the first potentials' prices from ``guide`` moved by
    :func:`adjusted` on ``sp`` (the set ranked by ``guide``): the pools ranked again by them
    (:func:`.first._first_sparse`, most pairs already scored), joined by what ``checker`` (the
    level's, before its first round) finds at them: each row's pairs better than its best in
    the set, and the near ones. Returns (sparse set, (u, p))."""
    price = adjusted(sp, guide, cap, dem)
    sp = _first_sparse(scorer, exact, pool, mentor_best, price, k_first, cap)
    p = np.where(cap > 0, price, 0.0)
    _, scale, _ = network(sp.i, sp.j, sp.s, cap, dem)
    found, _ = checker.check(_best(sp, p, scorer.n), p, sp, 1.0 / scale, per_row)
    sp = _merge(sp, found, scorer.m)
    return sp, (_best(sp, p, scorer.n), p)


def _best(sp: _Sparse, p: np.ndarray, n: int) -> np.ndarray:
    """Each mentee's best ``s - p`` over the pairs of ``sp`` (0 at least: the price of a mentee
    with none)."""
    u = np.zeros(n)
    np.maximum.at(u, sp.i, sp.s - p[sp.j])
    return u
