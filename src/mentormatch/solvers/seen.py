"""The pairs max-min's flows have held (:mod:`mentormatch.solvers.bottleneck`), and the guess
of the max-min threshold from them: the largest score at which they hold ``M`` free pairs
(under ``coverage_first``, matching as many mentees as the first flow too), by max-flows."""
from __future__ import annotations

import numpy as np

from .base import AssignmentProblem
from .diagnose import bipartite_max_flow
from .leximin_graph import cover_max_flow

__all__ = ["Seen"]


class Seen:
    """The free pairs of every flow so far, with their exact scores, to guess the max-min from:
    the largest score ``v`` at which they hold ``M`` free pairs scoring ``>= v`` (bisection over
    their distinct scores, a max-flow each). They are real pairs, so the guess is reached over
    every pair too: it is at most the max-min, and a flow there is a witness."""

    def __init__(self, problem: AssignmentProblem, cap: np.ndarray, dem: np.ndarray, m: int,
                 chosen: np.ndarray | None = None):
        P, lk = problem.pairs, problem.locked
        self.m, self.max_flows = m, 0
        self.supply = dem - np.bincount(P.mentee[lk], minlength=len(dem))  # places the locks leave
        self.cap = np.round(cap).astype(np.int64) - np.bincount(P.mentor[lk], minlength=len(cap))
        self.code, self.score = np.zeros(0, np.int64), np.zeros(0)
        # counting mentees (``chosen``: the first flow's pick, which matches the most): a guess
        # must also match as many mentees as it, those no lock matched each by a first unit
        self.first = self.covered = None
        if chosen is not None:
            lock_cov = np.bincount(P.mentee[lk], minlength=len(dem)) > 0
            self.first = ((self.supply > 0) & ~lock_cov).astype(np.int64)
            mine = P.mentee[chosen]
            self.covered = int(len(np.unique(mine[~lock_cov[mine]])))

    def add(self, problem: AssignmentProblem, plain: np.ndarray) -> None:
        """The free pairs of a flow's problem (``plain``: their exact scores), once each."""
        P, free = problem.pairs, ~problem.locked
        code = np.concatenate([self.code, P.mentee[free].astype(np.int64) * self.m + P.mentor[free]])
        score = np.concatenate([self.score, plain[free]])
        self.code, first = np.unique(code, return_index=True)
        self.score = score[first]

    def maxmin(self, M: int, lo: float, hi: float) -> float:
        """The largest score in ``[lo, hi)`` at which the pairs seen hold ``M`` free pairs all
        scoring at least it; ``lo`` (a witness's worst pair, its pairs seen) when none above."""
        keep = self.score >= lo  # (pairs above hi count in the matchings, not as candidates)
        i, j = np.divmod(self.code[keep], self.m)
        score = self.score[keep]
        values = np.unique(np.concatenate([[lo], score[score < hi]]))
        a, b = 0, len(values) - 1
        while a < b:
            mid = (a + b + 1) // 2
            k = score >= values[mid]
            if self.first is None:
                got, _ = bipartite_max_flow(i[k], j[k], self.supply, self.cap)
            else:
                got = cover_max_flow(i[k], j[k], self.first, self.supply - self.first, self.cap,
                                     self.covered, M - self.covered)[0]
            self.max_flows += 1
            if got >= M:
                a = mid
            else:
                b = mid - 1
        return float(values[a])
