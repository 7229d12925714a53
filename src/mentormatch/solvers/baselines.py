"""Baselines the optimum is measured against: ``"random"`` and ``"greedy"``.

Both respect every hard constraint of :class:`~mentormatch.solvers.base.AssignmentProblem`
(eligibility, mentor capacity with mentee loads, mentee demand, locks) and return status
``"feasible"`` with no bound: they prove nothing about optimality. Side constraints are not
modelled, so a problem that has any raises ``ValueError`` (strip them first, as
``mentormatch.pipeline.baseline`` does).
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from ..errors import Conflict, InfeasibleError
from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish


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
    conflicts = [Conflict("capacity", f"mentor {j}'s locked mentees need {used[j]:g} of "
                          f"capacity {problem.capacity[j]:g}",
                          "raise the capacity or unlock some pairs")
                 for j in np.flatnonzero(cap < -1e-9)]
    conflicts += [Conflict("demand", f"mentee {i} has {int(problem.demand[i]) - int(dem[i])} "
                           f"locked pairs but needs only {problem.demand[i]}",
                           "raise the demand or unlock some pairs")
                  for i in np.flatnonzero(dem < 0)]
    if conflicts:
        raise InfeasibleError(conflicts)
    return lock_pos, cap, dem


def solve_random(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """A uniformly random maximal assignment, seeded by ``options.seed``.

    Mentees are visited in a random order (``numpy.random.default_rng(seed).permutation``);
    each takes eligible mentors in a random order while the mentor has room for the mentee's
    load and the mentee's demand is not met. Scores play no part (pairs of any score can be
    taken), which is what "assigned at random among the eligible" means. Locked pairs are
    placed first. Cost: one Python iteration per mentee, numpy within it.

    Returns
    -------
    Solution
        Status ``"feasible"``, bound ``None``. The same seed gives the same pairs.
    """
    started = time.perf_counter()
    lock_pos, cap, dem = _start(problem, "random")
    pairs, load = problem.pairs, problem.load
    rng = np.random.default_rng(options.seed)
    starts = pairs.starts()
    priority = rng.random(len(pairs))  # a random order of each mentee's mentors
    chosen = [lock_pos]
    for i in rng.permutation(pairs.n_mentees):
        need = int(dem[i])
        a, b = int(starts[i]), int(starts[i + 1])
        if need <= 0 or a == b:
            continue
        k = a + np.argsort(priority[a:b], kind="stable")
        k = k[~problem.locked[k]]
        k = k[cap[pairs.mentor[k]] >= load[i] - 1e-12][:need]
        cap[pairs.mentor[k]] -= load[i]
        chosen.append(k)
    return finish(problem, np.concatenate(chosen), "feasible", started, "random", None,
                  {"method": "random", "seed": options.seed})


def solve_greedy(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """Take pairs in descending score while both sides have room.

    Pairs are sorted once (``np.lexsort``: score descending, ties by mentee index then mentor
    index) and scanned in that order; a pair is taken when its mentee still needs a mentor and
    its mentor has room for the mentee's load. Pairs of score ``<= 0`` are skipped unless
    ``problem.coverage_first`` (they cannot raise the total). Locked pairs are placed first.
    Cost: one sort, then a tight loop over the sorted pairs that stops as soon as every mentee
    is served or every mentor is full (in the worst case one iteration per pair).

    Returns
    -------
    Solution
        Status ``"feasible"``, bound ``None``. Deterministic.
    """
    started = time.perf_counter()
    lock_pos, cap, dem = _start(problem, "greedy")
    pairs = problem.pairs
    keep = ~problem.locked & (dem[pairs.mentee] > 0)
    if not problem.coverage_first:
        keep &= problem.score > 0
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((pairs.mentor[idx], pairs.mentee[idx], -problem.score[idx]))]
    cap_l = cap.tolist()
    dem_l = dem.tolist()
    load_l = problem.load.tolist()
    need_total = int(dem.sum())
    min_load = float(problem.load.min(initial=1.0))
    room = int(np.sum(cap >= min_load - 1e-12))
    taken = []
    for k, i, j in zip(order.tolist(), pairs.mentee[order].tolist(), pairs.mentor[order].tolist()):
        if dem_l[i] > 0 and cap_l[j] >= load_l[i] - 1e-12:
            taken.append(k)
            dem_l[i] -= 1
            cap_l[j] -= load_l[i]
            need_total -= 1
            if cap_l[j] < min_load - 1e-12:
                room -= 1
            if need_total == 0 or room == 0:
                break
    chosen = np.concatenate([lock_pos, np.asarray(taken, dtype=np.int64)])
    return finish(problem, chosen, "feasible", started, "greedy", None, {"method": "greedy"})


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
