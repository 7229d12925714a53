"""Baselines the optimum is measured against: ``"random"`` and ``"greedy"``.

Both respect every hard constraint of :class:`~mentormatch.solvers.base.AssignmentProblem`
(eligibility, mentor capacity with mentee loads, mentee demand, locks) and return status
``"feasible"``: they prove nothing about optimality. Each carries a bound on the total of every
assignment of the same pairs (:func:`baseline_bound`: from each mentee's best pairs, no solve,
the same figure on every source), so its gap says at most how far it is from the optimum. Side constraints are not modelled, so a problem that has
any raises ``ValueError`` (strip them first, as ``mentormatch.pipeline.baseline`` does).
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .blame import Diagnosed
from .diagnose import lock_conflicts
from .topk import top_k


def baseline_bound(problem: AssignmentProblem) -> float | None:
    """A bound on the total score of every assignment of ``problem``'s pairs that meets its
    capacities and demands (a baseline's problem has no side constraint), so that a baseline's
    gap states how far at most it is from the optimum: the one rule of every source,
    :func:`~mentormatch.solvers.fair_bounds.best_pairs_bound` over each mentee's
    :data:`~mentormatch.solvers.figures.BEST_PAIRS` best pairs
    (:func:`~mentormatch.solvers.topk.top_k`, as a pair reader's ``best``), so the complete
    set, blocks and bounds state the same figure (until s26 one pass over every pair here: a
    bound too, not the same one). None with a NaN score.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([0.9, 0.5]), np.ones(1))
    >>> baseline_bound(p)  # one place
    0.9
    """
    from .fair_bounds import best_pairs_bound
    from .figures import BEST_PAIRS

    P, s = problem.pairs, np.asarray(problem.score, np.float64)
    if np.isnan(s).any():
        return None
    keep = top_k(P.mentee, s, BEST_PAIRS)
    return best_pairs_bound((P.mentee[keep], P.mentor[keep], s[keep]), P.n_mentees, P.n_mentors,
                            problem.capacity, problem.demand, problem.load)


def _start(problem: AssignmentProblem, solver: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    active = problem.side.active()
    if active:
        raise ValueError(f"solver {solver!r} does not model the side constraints "
                         f"{', '.join(active)}; remove them for a baseline or use solver='cpsat'")
    pairs = problem.pairs
    lock_pos = np.flatnonzero(problem.locked)
    dem = np.round(np.asarray(problem.demand)).astype(np.int64)
    dem -= np.bincount(pairs.mentee[lock_pos], minlength=pairs.n_mentees)
    used = np.bincount(pairs.mentor[lock_pos], weights=problem.load[pairs.mentee[lock_pos]],
                       minlength=pairs.n_mentors)
    cap = problem.capacity - used
    if np.any(cap < -1e-9) or np.any(dem < 0):  # the diagnosis's findings, as every solver's
        raise Diagnosed(lock_conflicts(problem), problem)
    return lock_pos, cap, dem


def solve_random(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """A uniformly random maximal assignment, seeded by ``options.seed``.

    Mentees are visited in a random order; each gets a uniformly random set of its eligible
    mentors that still have room for its load (as many as its demand allows, besides its
    locked pairs, which are placed first): what "assigned at random among the eligible"
    means. Scores play no part. The draws follow
    :func:`~mentormatch.solvers.random_rows.random_rows`, which reads the eligible pairs on
    demand, so that a round on the scale path (never holding every pair) gets the same pairs
    for the same seed. Cost: a Python step per mentee and draw, numpy within it.

    Returns
    -------
    Solution
        Status ``"feasible"``, bound :func:`baseline_bound`. The same seed gives the same pairs.
    """
    from .random_rows import random_rows
    from .rows import ProblemRows

    started = time.perf_counter()
    _start(problem, "random")
    pairs = problem.pairs
    lock_pos = np.flatnonzero(problem.locked)
    i, j, _ = random_rows(ProblemRows(problem), problem.capacity, problem.demand, problem.load,
                          (pairs.mentee[lock_pos], pairs.mentor[lock_pos]), seed=options.seed)
    return finish(problem, pairs.locate(i, j), "feasible", started, "random", baseline_bound(problem),
                  {"method": "random", "seed": options.seed})


def solve_greedy(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """Take pairs in descending score while both sides have room.

    The result is that of the sequential rule: sort the pairs (score descending, ties by
    mentee index then mentor index, as ``np.lexsort``) and scan them in that order, taking a
    pair when its mentee still needs a mentor and its mentor has room for the mentee's load
    (``remaining capacity >= load - 1e-12``, the capacity then reduced by the load). Pairs of
    score ``<= 0`` are skipped unless ``problem.coverage_first`` (they cannot raise the total).
    Locked pairs are placed first.

    The scan is vectorised (no Python loop over pairs); see :func:`_greedy_take`. It sorts only
    as deep into the pairs as the scan gets before every mentee is served or every mentor full.

    Returns
    -------
    Solution
        Status ``"feasible"``, bound :func:`baseline_bound`. Deterministic.
    """
    started = time.perf_counter()
    lock_pos, cap, dem = _start(problem, "greedy")
    pairs = problem.pairs
    keep = ~np.asarray(problem.locked, dtype=bool)
    if np.any(dem <= 0):
        keep &= (dem > 0)[pairs.mentee]
    if not problem.coverage_first:
        keep &= problem.score > 0
    taken = _greedy_take(keep, pairs.mentee, pairs.mentor, problem.score,
                         np.asarray(problem.load, dtype=np.float64), cap.copy(), dem.copy())
    chosen = np.concatenate([lock_pos, taken])
    return finish(problem, chosen, "feasible", started, "greedy", baseline_bound(problem),
                  {"method": "greedy"})


#: The capacity tolerance of the greedy rule: a mentor has room when remaining >= load - _TOL.
_TOL = 1e-12
#: Per round of :func:`_greedy_chunk`, each mentor decides at most this many pairs in order.
_COLUMNS = 32


def _sizes(n_mentees: int, n_mentors: int) -> tuple[int, int]:
    """The first block size and the chunk size of :func:`_greedy_take`."""
    return max(1 << 16, 8 * (n_mentees + n_mentors)), max(1 << 12, n_mentees + n_mentors)


def _score_cut(score: np.ndarray, keep: np.ndarray, remaining: int, want: int) -> float:
    """A score such that about ``want`` of the ``remaining`` pairs where ``keep`` score at least
    it (estimated on a fixed sample; ``-inf``: all of them). Any value is correct for
    :func:`_greedy_take`; a good one only saves work."""
    if want >= remaining:
        return -np.inf
    probe = np.random.default_rng(0).integers(0, len(score), size=min(len(score), 1 << 20))
    vals = score[probe][keep[probe]]
    vals = vals[~np.isnan(vals)]
    k = int(np.ceil(want / remaining * len(vals)))
    if k >= len(vals):
        return -np.inf
    return float(-np.partition(-vals, max(k - 1, 0))[max(k - 1, 0)])


def _greedy_take(keep: np.ndarray, mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray,
                 load: np.ndarray, cap: np.ndarray, dem: np.ndarray) -> np.ndarray:
    """The positions of the pairs where ``keep`` that the sequential greedy scan takes, without
    a Python loop over pairs. ``cap`` (per mentor) and ``dem`` (per mentee) are the remaining
    capacity and demand; they and ``keep`` are updated in place.

    The sequential rule: scan the kept pairs by score descending, ties by mentee then mentor
    index (``np.lexsort``, NaN scores last); take a pair when its mentee's remaining demand is
    positive and its mentor's remaining capacity is ``>= load - 1e-12``, then subtract 1 and
    the load. This function returns the same pairs with the same floating-point capacities:

    * the scan order is built lazily, block by block: a block is every kept pair not yet
      scanned of score ``>= cut`` (ties included, so blocks follow each other in scan order),
      sorted in scan order (one stable sort on the score when the positions are already in
      mentee, mentor order, as :class:`~mentormatch.pairs.Candidates` keeps them); the cut is
      estimated so that the first block holds about ``_sizes()[0]`` pairs and each next one
      four times more, so the scan sorts only about as deep as it gets and touches the whole
      candidate set only through boolean masks;
    * a pair that can no longer be taken is dropped before sorting (its mentee is served, or
      its mentor's capacity is below its load: capacities only shrink when loads are >= 0, so
      it never fits again);
    * a block is decided chunk by chunk in scan order, each chunk in rounds
      (:func:`_greedy_chunk`) that decide exactly the pairs whose outcome no undecided earlier
      pair can change.
    """
    n, m = len(dem), len(cap)
    taken: list[np.ndarray] = []
    thr = load - _TOL
    shrinking = not np.any(load < 0)  # capacities never grow: an unfit pair stays unfit
    fits_some = thr[~np.isnan(thr)]
    smallest = float(fits_some.min()) if len(fits_some) else np.inf

    def live(k: np.ndarray) -> np.ndarray:
        ok = dem[mentee[k]] > 0
        if shrinking:
            ok &= cap[mentor[k]] >= thr[mentee[k]]
        return k[ok]

    remaining = int(np.count_nonzero(keep))
    nan = np.isnan(score)
    n_nan = int(np.count_nonzero(keep & nan)) if nan.any() else 0
    size, chunk = _sizes(n, m)
    while remaining:
        if remaining > n_nan:  # the next pairs of score >= cut
            cut = _score_cut(score, keep, remaining - n_nan, size)
            block = np.flatnonzero(keep & (score >= cut))
            size *= 4
        else:  # only NaN scores are left: scanned last, by mentee then mentor
            block = np.flatnonzero(keep)
        keep[block] = False
        remaining -= len(block)
        block = live(block)
        bi, bj = mentee[block], mentor[block]
        if np.all((bi[1:] > bi[:-1]) | ((bi[1:] == bi[:-1]) & (bj[1:] >= bj[:-1]))):
            # positions already in (mentee, mentor) order: a stable sort on the score alone
            block = block[np.argsort(-score[block], kind="stable")]
        else:
            block = block[np.lexsort((bj, bi, -score[block]))]
        for a in range(0, len(block), chunk):
            ks = live(block[a:a + chunk])
            if len(ks):
                _greedy_chunk(ks, mentee, mentor, load, thr, cap, dem, shrinking, taken)
            if not dem.any() or (shrinking and not np.any(cap >= smallest)):
                remaining = 0  # every mentee served, or no mentor has room for anyone
                break
    return np.concatenate(taken) if taken else np.zeros(0, np.int64)


def _greedy_chunk(ks: np.ndarray, mentee: np.ndarray, mentor: np.ndarray, load: np.ndarray,
                  thr: np.ndarray, cap: np.ndarray, dem: np.ndarray, shrinking: bool,
                  taken: list) -> None:
    """Decide the pairs ``ks`` (in scan order, every earlier pair already decided) exactly as
    the sequential scan would, in rounds. A pair is *mentee-sure* when fewer of its mentee's
    undecided pairs precede it than the mentee's remaining demand (the mentee still needs a
    mentor whatever they decide). Each round, every mentor decides its undecided pairs in scan
    order up to the first one that is not mentee-sure (at most ``_COLUMNS`` of them, one
    vectorised step per position across all mentors): each is taken iff the mentor has room.
    The first undecided pair of the chunk is always decided, so the rounds end."""
    i, j = mentee[ks], mentor[ks]
    li, ti = load[i], thr[i]
    by_i = np.argsort(i, kind="stable")
    by_j = np.argsort(j, kind="stable")
    alive = np.ones(len(ks), dtype=bool)
    while True:
        alive &= dem[i] > 0
        if shrinking:
            alive &= cap[j] >= ti
        if not alive.any():
            return
        # mentee side: rank of each undecided pair among its mentee's, in scan order
        a = by_i[alive[by_i]]
        ia = i[a]
        new = np.flatnonzero(np.r_[True, ia[1:] != ia[:-1]])
        rank = np.arange(len(a)) - np.repeat(new, np.diff(np.r_[new, len(a)]))
        sure = np.zeros(len(ks), dtype=bool)
        sure[a] = rank < dem[ia]
        # mentor side: each mentor's undecided pairs in scan order, up to the first unsure one
        b = by_j[alive[by_j]]
        jb = j[b]
        starts = np.flatnonzero(np.r_[True, jb[1:] != jb[:-1]])
        ends = np.r_[starts[1:], len(b)]
        unsure = np.flatnonzero(~sure[b])
        first_unsure = np.append(unsure, len(b))[np.searchsorted(unsure, starts)]
        length = np.minimum(first_unsure, ends) - starts
        g = length > 0
        s, length = starts[g], length[g]
        accepted = []
        for t in range(min(int(length.max()), _COLUMNS)):
            if t:
                g = length > t
                s, length = s[g], length[g]
            pos = b[s + t]  # one pair per mentor: the t-th of its run
            jj = j[pos]
            fit = cap[jj] >= ti[pos]
            cap[jj[fit]] -= li[pos[fit]]
            alive[pos] = False
            accepted.append(pos[fit])
        acc = np.concatenate(accepted)
        np.subtract.at(dem, i[acc], 1)
        taken.append(ks[acc])


def random_assignments(problem: AssignmentProblem, seeds: Sequence[int]) -> list[Solution]:
    """One :func:`solve_random` assignment per seed, for baselines over many seeds (reports use
    at least 20).

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 2), np.arange(6.0), np.array([2.0, 2.0]))
    >>> [len(s.chosen) for s in random_assignments(p, range(3))]
    [3, 3, 3]
    """
    return [solve_random(problem, SolverOptions(seed=int(s))) for s in seeds]


register("random", solve_random)
register("greedy", solve_greedy)
