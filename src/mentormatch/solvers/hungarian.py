"""Exact assignment by the Hungarian method (``scipy.optimize.linear_sum_assignment``) on the
capacity-expanded matrix, the solver ``"hungarian"``: the reference the flow solver is tested
against, and a good choice for small 1:1 problems.

For demand 1, unit loads and whole capacities the problem::

    maximise    sum_ij s_ij x_ij
    subject to  sum_j x_ij <= 1,  sum_i x_ij <= c_j,  x_ij = 1 on locks,  x_ij in {0, 1}

is a rectangular assignment on the matrix whose columns are each mentor ``j`` repeated ``c_j``
times (after locks are taken out), followed by one "stay unmatched" column per mentee with
weight 0. Ineligible pairs are absent (``-inf``); without ``coverage_first`` pairs with
``s_ij <= 0`` are treated as absent too, since they never beat staying unmatched (so a score of
exactly 0 is never chosen, as in ``"flow"``). With ``coverage_first`` each real pair gets
``s_ij + M`` with ``M = 2 * n * (max s - min s + 1)``, larger than any difference in total
score, so the number matched comes first; this is exact up to float64 precision, so keep it to
moderate sizes. Memory is ``O(n * (sum c + n))``: a reference for small and medium problems.
"""
from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .flow import apply_locks, check_supported


def solve_hungarian(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """Maximise the total score with scipy's ``linear_sum_assignment`` (capacity-expanded).

    Parameters
    ----------
    problem : AssignmentProblem
        Demand at most 1 per mentee, unit loads, whole capacities, no side constraints; else
        ``ValueError`` naming the solver to use instead.
    options : SolverOptions
        Unused (the method is deterministic and has no limits).

    Returns
    -------
    Solution
        Status ``"optimal"``; ``bound`` equals the objective (exact in floating point).

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 2.0]), np.array([2.0]))
    >>> solve_hungarian(p, SolverOptions()).chosen
    array([0, 1])
    """
    started = time.perf_counter()
    check_supported(problem, "hungarian")
    if np.any(np.asarray(problem.demand) > 1):
        raise ValueError("solver 'hungarian' handles demand 0 or 1 per mentee only; for "
                         "mentees who need several mentors use solver='flow'")
    lock_pos, cap, dem = apply_locks(problem)
    pairs = problem.pairs
    free = (~problem.locked) & (dem[pairs.mentee] > 0) & (cap[pairs.mentor] > 0)
    if not problem.coverage_first:
        free &= problem.score > 0
    idx = np.flatnonzero(free)
    rows = np.unique(pairs.mentee[idx])  # mentees who can still be matched
    if len(rows) == 0:
        return finish(problem, lock_pos, "optimal", started, "hungarian", None,
                      {"method": "linear_sum_assignment", "holds": True})
    r_of = np.full(pairs.n_mentees, -1, dtype=np.int64)
    r_of[rows] = np.arange(len(rows))
    slot_start = np.concatenate([[0], np.cumsum(cap)])
    n_slots = int(slot_start[-1])
    w = problem.score[idx]
    if problem.coverage_first:
        w = w + 2.0 * len(rows) * (float(np.ptp(w)) + 1.0)
    # one weight per (row, mentor); every slot of the mentor repeats it; then the dummies
    wmat = np.full((len(rows), pairs.n_mentors), -np.inf)
    pos = np.full((len(rows), pairs.n_mentors), -1, dtype=np.int64)
    wmat[r_of[pairs.mentee[idx]], pairs.mentor[idx]] = w
    pos[r_of[pairs.mentee[idx]], pairs.mentor[idx]] = idx
    slot_mentor = np.repeat(np.arange(pairs.n_mentors), cap)
    weight = np.concatenate([wmat[:, slot_mentor], np.zeros((len(rows), len(rows)))], axis=1)
    r, c = linear_sum_assignment(weight, maximize=True)
    real = c < n_slots
    chosen = pos[r[real], slot_mentor[c[real]]]
    sol = finish(problem, np.concatenate([lock_pos, chosen]), "optimal", started, "hungarian",
                 None, {"method": "linear_sum_assignment", "holds": True})
    sol.bound = sol.objective
    return sol


register("hungarian", solve_hungarian)
