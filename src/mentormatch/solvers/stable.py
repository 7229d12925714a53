"""Stable assignment: mentee-proposing deferred acceptance with mentor capacities.

This is the hospital-residents problem. Mentee ``i`` finds mentor ``j`` acceptable exactly when
``(i, j)`` is a candidate pair. Preferences, for each pair ``k``:

* mentee side: ``mentee_rank[k]`` ascending (lower is better), unranked pairs (NaN or inf) after
  the ranked ones, then score descending, then mentor index ascending;
* mentor side: ``mentor_rank[k]`` the same way, then score descending, then mentee index.

Without ranks (``problem.mentee_rank`` / ``mentor_rank`` are None) both sides rank by score,
so a pair both sides like is formed first. A matching is *stable* when no candidate pair
``(i, j)`` outside it *blocks* it: ``i`` is unmatched or prefers ``j`` to its mentor, and ``j``
has a free place or prefers ``i`` to its least preferred current mentee. Deferred acceptance
returns the mentee-optimal stable matching: every mentee gets the best mentor it has in any
stable matching (Gale and Shapley, 1962; Roth, 1984).

Scope: one mentor per mentee (``demand <= 1``), unit loads, capacities counted in whole
mentees (``floor(capacity)``), no locks and no side constraints; anything else raises rather
than being ignored. The algorithm proposes at most once per pair, with a heap per mentor:
``O(P log c)`` for ``P`` pairs and capacity ``c``. Without every pair in memory (the scale
path), :mod:`~mentormatch.solvers.stable_rows` gives the same matching reading each mentee's
next candidates on demand.
"""
from __future__ import annotations

import heapq
import time

import numpy as np

from ..errors import Problem, ValidationError
from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish

__all__ = ["solve_stable", "stable_match", "blocking_pairs", "preference_positions"]


def preference_positions(problem: AssignmentProblem, mentee_rank: np.ndarray | None = None,
                         mentor_rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's position in its mentee's list and in its mentor's list (0 = first choice).

    Parameters
    ----------
    problem : AssignmentProblem
    mentee_rank, mentor_rank : float arrays aligned with ``problem.pairs``, optional
        Lower is preferred; NaN/inf is unranked. Default: ``problem.mentee_rank`` /
        ``problem.mentor_rank``, and when those are None, the scores.

    Returns
    -------
    (pos_mentee, pos_mentor) : int64 arrays aligned with the pairs.
    """
    P = problem.pairs
    npairs = len(P)
    mentee_rank = problem.mentee_rank if mentee_rank is None else mentee_rank
    mentor_rank = problem.mentor_rank if mentor_rank is None else mentor_rank

    def split(rank):
        if rank is None:
            return np.zeros(npairs, bool), np.zeros(npairs)
        rank = np.asarray(rank, dtype=np.float64)
        if rank.shape != (npairs,):
            raise ValidationError(Problem("problem", "rank", None, None, rank.shape,
                                          f"one preference rank per candidate pair ({npairs})"))
        unranked = ~np.isfinite(rank)
        return unranked, np.where(unranked, 0.0, rank)

    def positions(owner, other, rank, n_owner):
        unranked, r = split(rank)
        order = np.lexsort((other, -problem.score, r, unranked, owner))
        starts = np.searchsorted(owner[order], np.arange(n_owner + 1))
        pos = np.empty(npairs, dtype=np.int64)
        pos[order] = np.arange(npairs) - np.repeat(starts[:-1], np.diff(starts))
        return pos

    return (positions(P.mentee, P.mentor, mentee_rank, problem.n_mentees),
            positions(P.mentor, P.mentee, mentor_rank, problem.n_mentors))


def _check_scope(problem: AssignmentProblem) -> None:
    def refuse(column, value, expected):
        raise ValidationError(Problem("problem", column, None, None, value,
                                      expected + " (solver 'stable'; use 'cpsat' otherwise)"))

    if np.any(problem.demand > 1):
        refuse("demand", int(problem.demand.max()), "at most one mentor per mentee")
    if np.any(problem.load != 1):
        refuse("load", float(problem.load[problem.load != 1][0]), "unit loads")
    if np.any(problem.locked):
        refuse("locked", int(np.sum(problem.locked)), "no locked pairs")
    if problem.coverage_first:
        refuse("coverage_first", True, "False")
    if problem.side.active():
        refuse("side", problem.side.active(), "no side constraints")


def stable_match(problem: AssignmentProblem, mentee_rank: np.ndarray | None = None,
                 mentor_rank: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """The mentee-optimal stable matching, by mentee-proposing deferred acceptance.

    Returns
    -------
    (chosen, proposals) : positions of the chosen pairs (ascending) and the number of
        proposals made.
    """
    _check_scope(problem)
    P = problem.pairs
    pos_e, pos_m = preference_positions(problem, mentee_rank, mentor_rank)
    # each mentee's pairs in preference order
    order_e = np.lexsort((pos_e, P.mentee)).tolist()
    starts = P.starts()
    nxt = starts[:-1].tolist()
    end = starts[1:].tolist()
    mentor, mentee, pm = P.mentor.tolist(), P.mentee.tolist(), pos_m.tolist()
    cap = np.floor(problem.capacity + 1e-9).astype(np.int64).tolist()
    heaps: list[list[tuple[int, int]]] = [[] for _ in range(problem.n_mentors)]
    free = [i for i in range(problem.n_mentees - 1, -1, -1) if problem.demand[i] > 0]
    proposals = 0
    while free:
        i = free.pop()
        while nxt[i] < end[i]:
            k = order_e[nxt[i]]
            nxt[i] += 1
            j = mentor[k]
            proposals += 1
            h = heaps[j]
            if len(h) < cap[j]:
                heapq.heappush(h, (-pm[k], k))
                break
            if cap[j] and pm[k] < -h[0][0]:  # j prefers i to its least preferred mentee
                _, out = heapq.heapreplace(h, (-pm[k], k))
                free.append(mentee[out])
                break
    chosen = np.array(sorted(k for h in heaps for _, k in h), dtype=np.int64)
    return chosen, proposals


def blocking_pairs(problem: AssignmentProblem, chosen: np.ndarray,
                   mentee_rank: np.ndarray | None = None,
                   mentor_rank: np.ndarray | None = None) -> np.ndarray:
    """The candidate pairs that block a matching, vectorised over all pairs.

    Pair ``k = (i, j)`` outside the matching blocks it when ``i`` is unmatched or prefers
    ``j`` to its current mentor, and ``j`` has fewer than ``floor(capacity[j])`` mentees or
    prefers ``i`` to its least preferred current mentee. Preferences as in
    :func:`preference_positions`. Any matching may be passed (one mentor per mentee).

    Parameters
    ----------
    problem : AssignmentProblem
    chosen : int array, positions of the matching's pairs in ``problem.pairs``
    mentee_rank, mentor_rank : optional, as in :func:`preference_positions`

    Returns
    -------
    numpy.ndarray
        Positions of the blocking pairs, ascending; empty when the matching is stable.

    Examples
    --------
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.1, 0.8, 0.2]),
    ...                       np.array([1.0, 1.0]))
    >>> blocking_pairs(p, np.array([1, 2])).tolist()   # both prefer mentor 0; it prefers mentee 0
    [0]
    """
    P = problem.pairs
    chosen = np.asarray(chosen, dtype=np.int64)
    pos_e, pos_m = preference_positions(problem, mentee_rank, mentor_rank)
    on = np.zeros(len(P), bool)
    on[chosen] = True
    current = np.full(problem.n_mentees, np.iinfo(np.int64).max)
    np.minimum.at(current, P.mentee[chosen], pos_e[chosen])
    prefers = pos_e < current[P.mentee]
    cap = np.floor(problem.capacity + 1e-9).astype(np.int64)
    count = np.bincount(P.mentor[chosen], minlength=problem.n_mentors)
    worst = np.full(problem.n_mentors, -1, dtype=np.int64)
    np.maximum.at(worst, P.mentor[chosen], pos_m[chosen])
    wants = (count[P.mentor] < cap[P.mentor]) | (pos_m < worst[P.mentor])
    return np.flatnonzero(~on & prefers & wants)


def solve_stable(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Solver ``"stable"``: the mentee-optimal stable matching (see the module docstring).

    Status is ``"feasible"``: the matching is stable, not score-optimal; its bound
    (:func:`~mentormatch.solvers.baselines.baseline_bound`) and gap say at most how far from
    the best total. The certificate holds ``blocking_pairs`` (0, recounted from the result) and
    ``proposals``.

    Raises
    ------
    ValidationError
        For demands above one, fractional loads, locks, ``coverage_first`` or side
        constraints, which deferred acceptance does not model.
    """
    started = time.perf_counter()
    chosen, proposals = stable_match(problem)
    blocking = len(blocking_pairs(problem, chosen))
    from .baselines import baseline_bound

    return finish(problem, chosen, "feasible", started, "stable", baseline_bound(problem),
                  certificate={"method": "deferred acceptance (mentee-proposing)",
                               "blocking_pairs": blocking, "proposals": proposals,
                               "optimal_for": "mentees"},
                  message="stable and mentee-optimal; not optimal for the total score")


register("stable", solve_stable)
