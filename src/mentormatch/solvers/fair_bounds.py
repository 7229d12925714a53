"""Bounds over every pair of a source for max-min and leximin under side constraints
(:mod:`mentormatch.solvers.fair_source` states the proofs): one pass's figures per mentee and
mentor, the most pairs any assignment holds (a stipend budget's fractional knapsack of places
included), the best worst pair of any assignment of a given count, and the places a budget buys
(:func:`knapsack_plan`, a plan for the flows)."""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import SideConstraints

__all__ = ["FigureSums", "Figures", "count_bound", "knapsack_plan", "most_places", "source_figures", "threshold_bound"]


@dataclasses.dataclass(frozen=True)
class Figures:
    """One pass over a source: per mentee its eligible pairs and best score, per mentor the
    same (``-inf``: no eligible pair). On bounds, upper bounds (valid for the bounds here)."""

    eligible: np.ndarray
    best: np.ndarray
    by_mentor: np.ndarray
    best_by_mentor: np.ndarray


class FigureSums:
    """:class:`Figures` summed block by block over one pass (:func:`source_figures`; the
    held tries' survey, :func:`mentormatch.pipeline.held.survey`, adds its histogram beside
    it): blocks of exact pairs (:meth:`add_pairs`) or of float32 bounds (:meth:`add_bounds`)."""

    def __init__(self, n: int, m: int):
        self.eligible, self.by_mentor = np.zeros(n, np.int64), np.zeros(m, np.int64)
        self.best, self.best_j = np.full(n, -np.inf), np.full(m, -np.inf)

    def add_pairs(self, i: np.ndarray, j: np.ndarray, s: np.ndarray) -> None:
        """Eligible pairs ``(i, j)`` with exact scores ``s``."""
        self.eligible += np.bincount(i, minlength=len(self.eligible))
        self.by_mentor += np.bincount(j, minlength=len(self.by_mentor))
        np.maximum.at(self.best, i, s)
        np.maximum.at(self.best_j, j, s)

    def add_bounds(self, rows: np.ndarray, up: np.ndarray, ok: np.ndarray) -> None:
        """A block of bounds ``up`` (rows ``rows`` of the mentees, every mentor; ``ok`` its
        eligible pairs), set to ``-inf`` where not ``ok`` (in place)."""
        self.eligible[rows] = ok.sum(axis=1)
        self.by_mentor += ok.sum(axis=0)
        np.copyto(up, -np.inf, where=~ok)
        self.best[rows] = up.max(axis=1, initial=-np.inf)
        np.maximum(self.best_j, up.max(axis=0, initial=-np.inf), out=self.best_j)

    def figures(self, margin: float = 0.0) -> Figures:
        """The sums, each best score raised by ``margin`` (a bound's; ``-inf`` stays)."""
        return Figures(self.eligible, self.best + margin, self.by_mentor, self.best_j + margin)


def source_figures(source) -> Figures:
    """:class:`Figures` of every eligible pair of ``source`` (one pass; on a
    :class:`~mentormatch.solvers.sources.BoundedSource` its bounds, no exact score)."""
    from .sources import BoundedSource

    sums = FigureSums(source.n_mentees, source.n_mentors)
    if not isinstance(source, BoundedSource):
        for i, j, s in source.blocks():
            sums.add_pairs(i, j, s)
        return sums.figures()
    from ..scale import BIG

    sc = source.scorer
    for a, b in source._rows():
        up = sc.upper(a, b)  # float32; the margin added on the reductions
        sums.add_bounds(sc.order[a:b], up, up > -BIG / 4)
    return sums.figures(sc.margin)


def most_places(capacity, load, n_mentees: int) -> np.ndarray:
    """The most mentees each mentor's capacity takes (:func:`~mentormatch.solvers.linear_rows.
    most_mentees`: ``floor(capacity / lightest load)``, at most the mentees)."""
    from ..pairs import Candidates
    from .base import AssignmentProblem
    from .linear_rows import most_mentees

    cap = np.asarray(capacity, float)
    none = np.zeros(0, np.int64)
    return most_mentees(AssignmentProblem(Candidates(none, none, n_mentees, len(cap)), np.zeros(0),
                                          cap, load=load))


def count_bound(fig: Figures, capacity, demand, load, side: SideConstraints | None) -> int:
    """``U``, at least the pairs of any assignment meeting the constraints (module docstring).

    >>> f = Figures(np.array([2, 2, 2]), np.zeros(3), np.array([3, 3]), np.zeros(2))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, None)
    3
    >>> s = SideConstraints(budget=700.0, stipend_fixed=np.array([500.0, 100.0]),
    ...                     stipend_per_mentee=np.array([250.0, 250.0]))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, s)  # 300 a place, then 500: 2 places
    2
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    by_mentees = int(np.minimum(np.maximum(dem, 0), fig.eligible).sum())
    places = np.minimum(most_places(capacity, load, n), fig.by_mentor)
    out = min(by_mentees, int(places.sum()))
    if side is not None and side.budget is not None:
        c, B = _place_costs(places, side)
        out = min(out, int(np.floor(_places_bought(places, c, B) + 1e-9)))
    return out


def _place_costs(places: np.ndarray, side: SideConstraints) -> tuple[np.ndarray, float]:
    """``(c, B)``: each mentor's least stipend a mentee, ``c_j = per_j + fixed_j / k_j`` with
    ``k_j`` its most mentees (``places``: at most its capacity takes and its eligible mentees:
    an active mentor with ``n_j <= k_j`` mentees spends ``n_j (per_j + fixed_j / n_j) >= n_j
    c_j``), and the budget rounded down to what whole stipends spend
    (``linear_rows.budget_rounded``)."""
    from .linear_rows import budget_rounded

    fixed, per = _stipends(side, len(places))
    return per + fixed / np.maximum(places, 1), budget_rounded(float(side.budget), per, fixed)


def _stipends(side: SideConstraints, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each mentor's fixed and per-mentee stipend (0 where not set)."""
    fixed = np.zeros(m) if side.stipend_fixed is None else np.asarray(side.stipend_fixed, float)
    per = np.zeros(m) if side.stipend_per_mentee is None else np.asarray(side.stipend_per_mentee, float)
    return fixed, per


def _places_bought(places: np.ndarray, c: np.ndarray, B: float) -> float:
    """The fractional knapsack: the most of ``places`` (per mentor) that ``B`` buys at ``c``
    a place, the cheapest first."""
    order = np.argsort(c, kind="stable")
    take = places[order].astype(float)
    spend = np.cumsum(take * c[order])
    whole = int(np.searchsorted(spend, B + 1e-9 * max(1.0, abs(B)), side="right"))
    got = float(take[:whole].sum())
    if whole < len(take) and c[order[whole]] > 0:  # the first mentor the budget cannot fill
        left = B - (float(spend[whole - 1]) if whole else 0.0)
        got += min(float(take[whole]), max(left, 0.0) / float(c[order[whole]]))
    elif whole < len(take):
        got += float(take[whole:].sum())
    return got


def knapsack_plan(fig: Figures, capacity, demand, side: SideConstraints, prefer=None):
    """The most places a stipend budget buys (with minimum loads), as each mentor's load: the
    mentors by cost a place ``c_j`` (:func:`count_bound`), ties by ``prefer`` (larger first:
    the engine's loads) then index, each taken whole while its stipends fit, then as many
    places as the rest of the budget pays (never below its minimum load); at most the places
    the mentees with an eligible pair need. None when the only side rows are not a budget
    (with minimum loads): their loads are not a knapsack.

    >>> f = Figures(np.ones(5, np.int64), np.zeros(5), np.array([5, 5, 5]), np.zeros(3))
    >>> s = SideConstraints(budget=1000.0, stipend_fixed=np.array([500.0, 100.0, 100.0]),
    ...                     stipend_per_mentee=np.full(3, 250.0))
    >>> knapsack_plan(f, np.array([2.0, 2.0, 1.0]), None, s).tolist()  # 600 for two, 350 for one
    [0.0, 2.0, 1.0]
    """
    if "budget" not in side.active() or not set(side.active()) <= {"budget", "min_load"}:
        return None
    n, m = len(fig.eligible), len(fig.by_mentor)
    fixed, per = _stipends(side, m)
    low = (np.zeros(m) if side.min_load is None
           else np.ceil(np.asarray(side.min_load, float) - 1e-9))
    places = np.minimum(most_places(capacity, None, n), fig.by_mentor).astype(np.int64)
    c, left = _place_costs(places, side)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    need = int(np.minimum(np.maximum(dem, 0), fig.eligible).sum())
    pref = np.zeros(m) if prefer is None else np.asarray(prefer, float)
    order = np.lexsort((np.arange(m), -pref, c))
    loads = np.zeros(m)
    for j in order[places[order] > 0].tolist():  # the mentors with a place, cheapest first
        if need <= 0:
            break
        k = min(int(places[j]), need)
        if per[j] > 0:
            k = min(k, int(np.floor((left - fixed[j]) / per[j] + 1e-9)))
        elif fixed[j] > left + 1e-9:
            k = 0
        if k <= 0 or k < low[j]:
            continue
        loads[j] = k
        left -= fixed[j] + per[j] * k
        need -= k
    return loads


def threshold_bound(fig: Figures, count: int, capacity, demand, load,
                    side: SideConstraints | None = None) -> float | None:
    """The least ``t`` above which no assignment holds ``count`` pairs (module docstring):
    a bound on the best worst pair of every assignment of at least ``count`` pairs; None when
    ``count`` is 0. Under a budget, also the least ``t`` above which the places of the mentors
    whose best reaches ``t`` cannot be bought ``count`` times (:func:`count_bound`'s knapsack).

    >>> f = Figures(np.ones(3, np.int64), np.array([0.9, 0.5, 0.7]), np.array([3, 3]),
    ...             np.array([0.9, 0.6]))
    >>> threshold_bound(f, 2, np.array([1.0, 1.0]), None, None)  # second mentee best, mentor 0.6
    0.6
    >>> s = SideConstraints(budget=100.0, stipend_fixed=np.zeros(2),
    ...                     stipend_per_mentee=np.array([60.0, 40.0]))
    >>> threshold_bound(f, 2, np.array([2.0, 2.0]), None, None, s)  # mentor 0 alone buys 1.67
    0.6
    """
    if count <= 0:
        return None
    n = len(fig.best)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)

    def kth(values, weights) -> float:
        order = np.argsort(-values, kind="stable")
        reach = np.cumsum(weights[order])
        k = int(np.searchsorted(reach, count))  # the first prefix that holds ``count``
        return float(values[order][k]) if k < len(values) else -np.inf

    by_mentees = kth(fig.best, np.minimum(np.maximum(dem, 0), fig.eligible))
    places = np.minimum(most_places(capacity, load, n), fig.by_mentor)
    out = min(by_mentees, kth(fig.best_by_mentor, places))
    if side is not None and side.budget is not None and np.isfinite(out):
        c, B = _place_costs(places, side)
        levels = np.unique(fig.best_by_mentor[np.isfinite(fig.best_by_mentor)])

        def buys(level: float) -> bool:  # the mentors whose best reaches it buy ``count``
            return _places_bought(np.where(fig.best_by_mentor >= level, places, 0), c, B) + 1e-9 >= count

        lo, hi = 0, len(levels) - 1  # the largest level that buys ``count`` places
        if hi < 0 or not buys(levels[0]):
            return out  # (never so when an assignment of ``count`` pairs meets the budget)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if buys(levels[mid]):
                lo = mid
            else:
                hi = mid - 1
        out = min(out, float(levels[lo]))
    return out
