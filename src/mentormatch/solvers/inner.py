"""The inner problem of the dualised models (the budget's :mod:`.lagrange`, the share floors'
:mod:`.floors`, the score floors' :mod:`.scorefloors`, balanced loads' :mod:`.balanced`): the
certified min-cost flow on shifted scores over every pair of a source (:class:`InnerFlow`),
which models may use it (:func:`unit_flow`, :func:`plain_inner`, :func:`one_each`), the clock
that decides whether one more flow starts (:class:`FlowClock`), and the answer they return
(:class:`LagrangeResult`)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..pairs import Candidates as PairSet
from .base import AssignmentProblem, PairBonus, SolverOptions
from .bounded.start import PriceChain

__all__ = ["FlowClock", "InnerFlow", "LagrangeResult", "one_each", "plain_inner", "unit_flow"]


class FlowClock:
    """Whether one more inner flow may start: at most ``max_flows`` (the work limit, the same
    on any machine), and none that the time limit would cut, judged by the last flow's
    seconds times ``margin`` (the outer stop; when it refuses, ``timed_out`` is set and the
    answer says it stopped at the time limit)."""

    def __init__(self, deadline: float, max_flows: int):
        self.deadline, self.max_flows, self.timed_out = deadline, max_flows, False

    def another(self, done: int, last: float, margin: float = 1.2) -> bool:
        if done >= self.max_flows:
            return False
        if time.perf_counter() + margin * last >= self.deadline:
            self.timed_out = True
            return False
        return True


def unit_flow(capacity, load) -> bool:
    """True when a min-cost flow carries the places exactly: whole capacities, loads all 1."""
    cap = np.asarray(capacity, float)
    return bool(np.all(cap == np.round(cap))) and (load is None or bool(np.all(np.asarray(load, float) == 1)))


def plain_inner(capacity, load, coverage_first: bool, bonus, locked) -> bool:
    """True when a dualised model's inner problem is a plain certified flow: a :func:`unit_flow`
    with no ``coverage_first``, no objective bonus and no locks."""
    if coverage_first or bonus is not None or not unit_flow(capacity, load):
        return False
    return locked[0] is None or len(locked[0]) == 0


def one_each(demand) -> bool:
    """True when no mentee takes more than one mentor (``demand`` None: one each): the floors'
    and balanced loads' Lagrangians count a mentee by its one pair."""
    return demand is None or not np.any(np.asarray(demand) > 1)


@dataclass
class LagrangeResult:
    """The best feasible assignment (``chosen`` over the candidate pairs) and the best bound
    (None: the time limit left no flow certified, or a level of balanced loads without one)."""

    i: np.ndarray  # candidate pairs (the best primal's flow pairs), plain scores
    j: np.ndarray
    s: np.ndarray
    chosen: np.ndarray  # bool over those pairs: the best feasible assignment
    value: float
    bound: float | None
    certificate: dict = field(default_factory=dict)


class InnerFlow:
    """The certified flow on ``score + per_mentor`` over every pair of a source."""

    def __init__(self, source, capacity, demand, options: SolverOptions, deadline=None):
        self.source, self.cap, self.demand = source, np.asarray(capacity, float), demand
        self.deadline = deadline  # no flow (or check) past it, on every source
        self.opts = SolverOptions(seed=options.seed, progress=False, certify=True)
        # flows on bounds start from the last one's mentor prices (bounded.start.PriceChain)
        self.chain = PriceChain()

    @property
    def warm(self) -> int:
        """The flows on bounds that started from the last one's prices."""
        return self.chain.taken

    def solve(self, shift: np.ndarray | PairBonus, cap: np.ndarray):
        """(problem on the final sparse pairs with shifted scores, solution); ``shift``: a
        price per mentor, or any :class:`PairBonus`."""
        from .bonus import BonusBlocks, BonusBounds
        from .certify import solve_flow_any, solve_scored
        from .sources import ArraySource, BlockSource, BoundedSource

        src, n, m = self.source, self.source.n_mentees, self.source.n_mentors
        bonus = shift if isinstance(shift, PairBonus) else PairBonus(per_mentor=shift, n_mentors=m)
        if isinstance(src, ArraySource):
            key = src.i * m + src.j
            order = np.argsort(key, kind="stable")
            pairs = PairSet(src.i[order], src.j[order], n, m)
            problem = AssignmentProblem(pairs, bonus.apply(src.s[order], src.i[order], src.j[order]),
                                        cap, demand=self.demand)
            return problem, solve_flow_any(problem, self.opts, self.deadline)
        if isinstance(src, BlockSource):
            return solve_scored(BonusBlocks(src.scorer, bonus, m), cap, n_mentees=n, n_mentors=m,
                                demand=self.demand, options=self.opts, deadline=self.deadline)
        if isinstance(src, BoundedSource):
            from .bounded import solve_bounded
            per = bonus.per_mentor if bonus.per_mentor is not None else np.zeros(m)
            return self.chain.solve(lambda: solve_bounded(
                BonusBounds(src.scorer, bonus), cap, demand=self.demand, options=self.opts,
                deadline=self.deadline), per)
        raise TypeError(f"unknown pair source {type(src).__name__}")
