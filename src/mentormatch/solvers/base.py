"""The one interface every solver implements: arrays and an eligibility structure in, an
assignment out.

A solver is a function ``solve(problem: AssignmentProblem, options: SolverOptions) -> Solution``
registered in :data:`mentormatch.solvers.SOLVERS`. It never sees a DataFrame or an id.

The problem (maximisation)::

    maximise    sum_k score[k] * x[k]                (k over the eligible candidate pairs)
    subject to  sum_{k: mentor[k]=j} load[mentee[k]] * x[k] <= capacity[j]     for each mentor j
                sum_{k: mentee[k]=i} x[k] <= demand[i]                          for each mentee i
                x[k] = 1 where locked[k]
                x[k] in {0, 1}

A pair that is not in the candidate arrays is ineligible (absent, never a zero score).
Side constraints (minimum loads, budget, incentives, fairness floors) live in ``side`` and only
the solvers that declare them accept them; the others raise rather than ignore them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np

from ..pairs import Candidates

Status = Literal["optimal", "feasible", "infeasible"]


@dataclass
class SideConstraints:
    """Constraints beyond capacity/eligibility/locks. All arrays are per mentor (length
    n_mentors) or per mentee (length n_mentees); ``None`` means the constraint is off."""

    min_load: np.ndarray | None = None  # a mentor who takes part gets at least this many
    budget: float | None = None  # sum of stipends of active mentors <= budget
    stipend_fixed: np.ndarray | None = None  # paid when the mentor is active
    stipend_per_mentee: np.ndarray | None = None
    bonus: np.ndarray | None = None  # mentor's bonus per successful mentee
    # an active mentor's expected payoff, stipend_fixed + stipend_per_mentee x mentees + bonus x
    # the sum of its pairs' success probabilities, must reach its reservation value
    reservation: np.ndarray | None = None
    success_scale: float = 1.0  # the pair score that means certain success (see solvers.linear)
    balanced_load: bool = False  # active mentors' loads differ by at most one
    group: np.ndarray | None = None  # int code per mentee (-1: no group) for fairness floors
    group_names: list[str] | None = None
    score_floor: float | None = None  # each group's mean score >= alpha * overall mean
    share_floor: float | None = None  # each group's matched share >= beta

    def active(self) -> list[str]:
        names = []
        if self.min_load is not None and np.any(self.min_load > 0):
            names.append("min_load")
        if self.budget is not None:
            names.append("budget")
        if self.reservation is not None:
            names.append("reservation")
        if self.balanced_load:
            names.append("balanced_load")
        if self.score_floor is not None:
            names.append("score_floor")
        if self.share_floor is not None:
            names.append("share_floor")
        return names


@dataclass
class AssignmentProblem:
    """Arrays only. ``pairs`` holds the eligible candidate pairs; ``score`` is aligned with it."""

    pairs: Candidates
    score: np.ndarray  # float64, one per pair; higher is better
    capacity: np.ndarray  # float64 per mentor (>= 0; fractional allowed with loads)
    demand: np.ndarray | None = None  # int per mentee: mentors needed (default 1)
    load: np.ndarray | None = None  # float per mentee: slots of a mentor's time (default 1)
    locked: np.ndarray | None = None  # bool per pair: must be in the assignment
    coverage_first: bool = False  # maximise the number matched before the total score
    side: SideConstraints = field(default_factory=SideConstraints)
    # stated preferences (solver "stable"), aligned with pairs: lower = preferred; NaN/inf =
    # unranked, placed after the ranked pairs and ordered by score. None: ordered by score.
    mentee_rank: np.ndarray | None = None  # how mentee[k] ranks mentor[k]
    mentor_rank: np.ndarray | None = None  # how mentor[k] ranks mentee[k]

    def __post_init__(self):
        n, m = self.pairs.n_mentees, self.pairs.n_mentors
        self.score = np.asarray(self.score, dtype=np.float64)
        self.capacity = np.asarray(self.capacity, dtype=np.float64)
        if self.demand is None:
            self.demand = np.ones(n, dtype=np.int64)
        if self.load is None:
            self.load = np.ones(n, dtype=np.float64)
        if self.locked is None:
            self.locked = np.zeros(len(self.pairs), dtype=bool)
        assert self.score.shape == (len(self.pairs),), "score must align with pairs"
        assert self.capacity.shape == (m,), "capacity must have one entry per mentor"

    def without_side(self) -> "AssignmentProblem":
        """The same pairs, scores, capacities, demands, loads and locks without side constraints
        (what the random, greedy and stable baselines are run on)."""
        import dataclasses

        return dataclasses.replace(self, side=SideConstraints())

    @property
    def n_mentees(self) -> int:
        return self.pairs.n_mentees

    @property
    def n_mentors(self) -> int:
        return self.pairs.n_mentors

    @property
    def integral(self) -> bool:
        """True when loads are all 1 and capacities whole numbers (a plain flow problem)."""
        return bool(np.all(self.load == 1) and np.all(self.capacity == np.round(self.capacity)))


def grow(problem: AssignmentProblem, mentee: np.ndarray, mentor: np.ndarray,
         score: np.ndarray) -> tuple[AssignmentProblem, np.ndarray]:
    """``problem`` with the pairs ``(mentee, mentor)`` joined, none of them in it yet, scoring
    ``score``, unlocked (and unranked, where the problem has stated ranks); every pair sorted
    again by mentee, then mentor. Returns the grown problem and, per pair of ``problem``, its
    position in the grown one.

    >>> p = AssignmentProblem(Candidates(np.array([0, 1]), np.array([0, 0]), 2, 2),
    ...                       np.array([0.5, 0.7]), np.ones(2))
    >>> q, was = grow(p, np.array([0]), np.array([1]), np.array([0.9]))
    >>> q.pairs.mentor.tolist(), q.score.tolist(), q.locked.tolist(), was.tolist()
    ([0, 1, 0], [0.5, 0.9, 0.7], [False, False, False], [0, 2])
    """
    import dataclasses

    P, k = problem.pairs, len(mentee)
    i = np.concatenate([P.mentee, np.asarray(mentee, np.int64)])
    j = np.concatenate([P.mentor, np.asarray(mentor, np.int64)])
    order = np.lexsort((j, i))
    was = np.empty(len(order), np.int64)
    was[order] = np.arange(len(order))

    def joined(old, new):
        return None if old is None else np.concatenate([old, new])[order]

    grown = dataclasses.replace(
        problem, pairs=Candidates(i[order], j[order], P.n_mentees, P.n_mentors),
        score=joined(problem.score, np.asarray(score, np.float64)),
        locked=joined(problem.locked, np.zeros(k, bool)),
        mentee_rank=joined(problem.mentee_rank, np.full(k, np.nan)),
        mentor_rank=joined(problem.mentor_rank, np.full(k, np.nan)))
    return grown, was[:len(P)]


def held_problem(i, j, s, li, lj, ls, capacity, demand, n: int, m: int, cover: bool = False) -> AssignmentProblem:
    """The problem of the free pairs ``(i, j, s)`` and the locks ``(li, lj, ls)``, sorted by
    mentee, then mentor: what a source's rounds hold, for a solver of held problems (leximin's
    and max-min's total's rounds on every source)."""
    ai, aj = np.concatenate([li, i]), np.concatenate([lj, j])
    order = np.lexsort((aj, ai))
    locked = np.concatenate([np.ones(len(li), bool), np.zeros(len(i), bool)])[order]
    return AssignmentProblem(Candidates(ai[order], aj[order], n, m), np.concatenate([ls, s])[order],
                             np.asarray(capacity, float),
                             demand=None if demand is None else np.asarray(demand, float), locked=locked,
                             coverage_first=cover)


@dataclass(frozen=True)
class PairBonus:
    """An objective bonus that works at every size (``pipeline.solve(prepared, bonus)``): ``per_mentee[i]`` on every pair of mentee
    ``i`` (priority), plus ``value[k]`` on the listed pairs ``(mentee[k], mentor[k])``
    (continuity with a former mentor), plus ``per_mentor[j]`` on every pair of mentor ``j`` (a
    price per mentee charged to a mentor: the engine's Lagrangian multipliers of a budget).
    ``scale_mentee[i]`` (``>= 0``), when set, first multiplies every score of mentee ``i`` (the
    score floors' Lagrangian): the pair is worth ``scale_mentee[i] x score + the terms above``.
    Indices are the round's encoded rows."""

    per_mentee: np.ndarray | None = None
    mentee: np.ndarray | None = None
    mentor: np.ndarray | None = None
    value: np.ndarray | None = None
    n_mentors: int = 0
    per_mentor: np.ndarray | None = None
    scale_mentee: np.ndarray | None = None

    def apply(self, score: np.ndarray, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The pairs' scores with this bonus: scaled, then the terms added."""
        mentee = np.asarray(mentee, np.int64)
        if self.scale_mentee is not None:
            score = np.asarray(score, float) * np.asarray(self.scale_mentee, float)[mentee]
        return score + self.on_pairs(mentee, mentor)

    def on_pairs(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The added terms of each pair (the scale not applied)."""
        out = (np.zeros(len(mentee)) if self.per_mentee is None
               else np.asarray(self.per_mentee, float)[mentee])
        if self.per_mentor is not None:
            out = out + np.asarray(self.per_mentor, float)[np.asarray(mentor, np.int64)]
        if self.value is not None and len(self.value):
            keys = np.asarray(self.mentee, np.int64) * self.n_mentors + np.asarray(self.mentor, np.int64)
            order = np.argsort(keys)
            want = np.asarray(mentee, np.int64) * self.n_mentors + np.asarray(mentor, np.int64)
            pos = np.minimum(np.searchsorted(keys[order], want), len(keys) - 1)
            hit = keys[order][pos] == want
            out = out + np.where(hit, np.asarray(self.value, float)[order][pos], 0.0)
        return out

    def mentee_ceiling(self, span: float, n: int) -> np.ndarray:
        """Per mentee ``i`` (of ``n``), the most any of its pairs is worth when no score exceeds
        ``span`` (>= 0): ``max(0, scale_i) x span + per_mentee_i + max per_mentor + max(0, its
        largest listed value)`` (an unlisted pair's value is 0)."""
        a = np.ones(n) if self.scale_mentee is None else np.asarray(self.scale_mentee, float)
        out = np.maximum(a, 0.0) * span
        if self.per_mentee is not None:
            out = out + np.asarray(self.per_mentee, float)
        if self.per_mentor is not None and len(self.per_mentor):
            out = out + float(np.max(self.per_mentor))
        if self.value is not None and len(self.value):
            listed = np.zeros(n)
            np.maximum.at(listed, np.asarray(self.mentee, np.int64), np.asarray(self.value, float))
            out = out + listed
        return out

    def any(self) -> bool:
        return bool((self.per_mentee is not None and np.any(self.per_mentee))
                    or (self.per_mentor is not None and np.any(self.per_mentor))
                    or (self.value is not None and np.any(self.value))
                    or (self.scale_mentee is not None and np.any(self.scale_mentee != 1)))


#: Seconds a *search* runs when ``time_limit`` is None (the default, in ``assign()`` and in a
#: programme's rules): the engine under side constraints (column generation, its branching and
#: HiGHS's MIP), CP-SAT (asked for by name, or for max-min and leximin under side constraints)
#: and everything they start (fallbacks, the re-solves that blame constraint families).
#: A *plain* problem has no default limit: the min-cost flow on any pair source (complete set,
#: cached blocks, bounds), and the flows of max-min, leximin and ``coverage_first`` without side
#: constraints, run to their proof. Why the two differ:
#:
#: - a plain problem's work is bounded by its size (each flow is polynomial; the certificate
#:   adds violating pairs, finitely many: 3 rounds at 100,000 x 20,000, about 17 s on two free
#:   cores; 200,000 x 40,000 about 55 s), and an answer run to its proof is the same optimum,
#:   proven, on a quiet or a loaded machine; under a 60 s default one 100,000 x 20,000 call
#:   at a load of 16 answered "feasible" with 34,267 of 100,000 mentees matched (session 32),
#:   where the same call on a free machine is optimal in about 17 s;
#: - a search under side constraints is NP-hard: no size bounds its time, so without a limit a
#:   call could run for hours. Its work limits (pricing rounds, nodes, flows) end most searches
#:   first, on a count that does not depend on the load; this limit is the outer stop, and what
#:   it cuts short is "feasible" with a bound over every pair (``certificate["timed_out"]``).
#:
#: A ``time_limit`` that the user sets applies to every solve, plain ones included, as before.
SEARCH_TIME_LIMIT = 60.0


@dataclass
class SolverOptions:
    seed: int = 0
    #: seconds, counted from :attr:`started`; None: searches stop at SEARCH_TIME_LIMIT and
    #: plain problems run to their proof (:data:`SEARCH_TIME_LIMIT` says why)
    time_limit: float | None = None
    progress: bool = False
    # flow only: None picks the sparse, certified path automatically on large candidate sets
    # (more than flow.SPARSE_THRESHOLD pairs); an int k forces it with each mentee's k best pairs.
    top_k: int | None = None
    certify: bool = True  # sparse path: prove optimality against every candidate pair
    #: The ``time.perf_counter`` reading from which ``time_limit`` counts: ``pair()`` sets its
    #: call's start, so that reading, validating and scoring count too; None: each solver's own
    #: start. Apart from ``time_limit``, which stays the user's (every message quotes it).
    started: float | None = None

    def deadline(self, start: float, default: float | None = None) -> float | None:
        """When the time limit ends, as a ``time.perf_counter`` reading: ``time_limit`` seconds
        (``default`` when it is None; None then: no limit) from :attr:`started`, or from
        ``start`` (the solver's own start) when that is None.

        >>> SolverOptions(time_limit=10).deadline(100.0), SolverOptions().deadline(100.0, 60)
        (110.0, 160.0)
        >>> SolverOptions(time_limit=10, started=95.0).deadline(100.0)
        105.0
        """
        limit = default if self.time_limit is None else float(self.time_limit)
        if limit is None:
            return None
        return (start if self.started is None else self.started) + limit


@dataclass
class Solution:
    """What a solver returns. ``chosen`` are positions into ``problem.pairs``, ascending."""

    chosen: np.ndarray
    status: Status
    objective: float  # recomputed from the chosen pairs, in score units
    bound: float | None = None  # an upper bound on the optimum, where one is known
    wall_time: float = 0.0
    solver: str = ""
    certificate: dict | None = None  # how optimality was proven (duals, scaling, rounding bound)
    message: str = ""
    #: The dual prices ``(u per mentee, p per mentor)`` in score units under which a plain
    #: flow's certificate holds over every candidate pair (``s_ij <= u_i + p_j + eps`` for each
    #: unchosen pair); None where the solver keeps none. ``+inf`` for people with no room left.
    prices: tuple | None = None

    @property
    def gap(self) -> float | None:
        if self.bound is None:
            return None
        if self.bound == float("inf"):  # (inf / inf is nan, and max(0, nan) would read 0)
            return float("inf")
        denom = max(abs(self.bound), 1e-12)
        return max(0.0, (self.bound - self.objective) / denom)


SolverFn = Callable[[AssignmentProblem, SolverOptions], Solution]

#: "optimal" needs a proven relative gap of at most this (or an absolute one of 1e-9).
OPTIMAL_GAP = 1e-6


def proven(bound: float, value: float, gap: float = OPTIMAL_GAP) -> bool:
    """True when ``bound`` proves ``value`` optimal: within ``gap`` of it (relative), or 1e-9.
    An infinite bound proves nothing (the relative test alone would read ``inf <= inf``).

    >>> proven(10.0, 10.0 - 1e-7), proven(float("inf"), 0.0)
    (True, False)
    """
    if bound == float("inf"):
        return False
    return bound - value <= gap * max(abs(bound), 1e-12) or bound - value <= 1e-9


def gap_message(optimal: bool, timed_out: bool, limit: float, otherwise: str) -> str:
    """Why an answer ended with a gap: "" when optimal; the time limit when it cut the work
    short (the outer stop), else ``otherwise`` (the work limits that ended it).

    >>> gap_message(False, True, 30, "work limits")
    'stopped at the time limit (30 s) with a gap'
    """
    if optimal:
        return ""
    return f"stopped at the time limit ({limit:g} s) with a gap" if timed_out else otherwise


def finish(problem: AssignmentProblem, chosen, status: Status, started: float, solver: str,
           bound: float | None = None, certificate: dict | None = None, message: str = "") -> Solution:
    """Build a Solution with the objective recomputed from the chosen pairs."""
    chosen = np.sort(np.asarray(chosen, dtype=np.int64))
    objective = float(problem.score[chosen].sum()) if len(chosen) else 0.0
    return Solution(chosen, status, objective, bound, time.perf_counter() - started, solver,
                    certificate, message)
