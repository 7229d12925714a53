"""Bounds over every pair of a source for max-min and leximin under side constraints
(:mod:`mentormatch.solvers.fair_source` states the proofs): one pass's figures per mentee and
mentor, the most pairs any assignment holds (a stipend budget's fractional knapsack of places
included), the best worst pair of any assignment of a given count, and the places a budget buys
(:func:`knapsack_plan`, a plan for the flows). The figures themselves, and the pass that
reads them, are :mod:`mentormatch.solvers.figures` (re-exported here)."""
from __future__ import annotations

import numpy as np

from .base import SideConstraints
from .figures import (FigureSums, Figures, TOP_PER_MENTOR, best_pairs_figures, per_mentee,  # noqa: F401
                      per_mentor, source_figures)

__all__ = ["FigureSums", "Figures", "TOP_PER_MENTOR", "best_pairs_figures", "count_bound",
           "knapsack_plan", "mentor_places", "most_pairs", "per_mentee", "per_mentor",
           "source_figures", "threshold_bound", "total_bound", "best_pairs_bound"]


def mentor_places(fig: Figures, capacity, demand, load) -> np.ndarray:
    """Each mentor's most mentees in any assignment: as many of the lightest loads of the
    mentees that can be matched at all (a demand and an eligible pair) as fit its capacity, and
    at most its eligible mentees (a mentee takes a mentor once, whatever its demand). No score
    is read.

    >>> f = Figures(np.array([2, 2]), np.zeros(2), np.array([2, 2]), np.zeros(2))
    >>> mentor_places(f, np.array([2.0, 0.0]), np.array([2, 0]), None).tolist()  # one mentee asks
    [1, 0]
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    can = (dem > 0) & (np.asarray(fig.eligible) > 0)
    loads = np.sort((np.ones(n) if load is None else np.asarray(load, float))[can])
    fits = np.searchsorted(np.cumsum(loads), np.asarray(capacity, float) + 1e-9, side="right")
    return np.minimum(fits, np.asarray(fig.by_mentor)).astype(np.int64)


def most_pairs(fig: Figures, capacity, demand, load) -> int:
    """``U`` before any side constraint: at most ``sum_i min(d_i, e_i)`` pairs (each mentee its
    demand and its eligible pairs) and ``sum_j`` :func:`mentor_places` (each mentor). No score
    is read (:mod:`mentormatch.pipeline.held` proves its tries with it).

    >>> f = Figures(np.array([2, 2]), np.zeros(2), np.array([2, 2]), np.zeros(2))
    >>> most_pairs(f, np.array([2.0, 0.0]), np.array([2, 0]), None)  # the true most: 1
    1
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    by_mentees = int(np.minimum(np.maximum(dem, 0), fig.eligible).sum())
    return min(by_mentees, int(mentor_places(fig, capacity, demand, load).sum()))


def count_bound(fig: Figures, capacity, demand, load, side: SideConstraints | None) -> int:
    """``U``, at least the pairs of any assignment meeting the constraints (module docstring):
    :func:`most_pairs` and, under a budget, the places it buys (a fractional knapsack).

    >>> f = Figures(np.array([2, 2, 2]), np.zeros(3), np.array([3, 3]), np.zeros(2))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, None)
    3
    >>> s = SideConstraints(budget=700.0, stipend_fixed=np.array([500.0, 100.0]),
    ...                     stipend_per_mentee=np.array([250.0, 250.0]))
    >>> count_bound(f, np.array([2.0, 2.0]), None, None, s)  # 300 a place, then 500: 2 places
    2
    """
    out = most_pairs(fig, capacity, demand, load)
    if side is not None and side.budget is not None:
        places = mentor_places(fig, capacity, demand, load)
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
    mentors by cost a place ``c_j`` (:func:`count_bound`, over each mentor's most mentees,
    :func:`mentor_places`), ties by ``prefer`` (larger first:
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
    # each mentor's most mentees, and the cost of a place, as count_bound reads them: a mentee
    # with no demand is no place (until s25 ``most_places``, which counted them: a mentor
    # eligible to many of them looked cheap, and was planned places no mentee could take)
    places = mentor_places(fig, capacity, demand, None)
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
    """A bound on the best worst pair of every assignment of at least ``count`` pairs (None
    when ``count`` is 0): the least of three, each the largest ``t`` that some necessary
    condition on ``count`` pairs all scoring at least ``t`` allows.

    Let ``A`` hold ``count`` pairs or more, its worst ``w``; mentor ``j`` holds ``n_j`` of them.

    - *Mentees*: mentee ``i`` holds at most ``min(d_i, e_i)`` pairs, and at most as many as
      score at least ``w``; with its kept best scores (:attr:`Figures.top_by_mentee`) weighed
      as the mentors' below (its ``min(d_i, e_i)`` in place of ``k_j``), the weights at values
      ``>= w`` add up to ``count``. (Until s25 each mentee counted ``min(d_i, e_i)`` pairs at
      its best score: a mentee asking for 3 with one good pair counted 3 good ones.)
    - *Mentors*: ``n_j <= k_j`` (:func:`mentor_places`) and ``n_j <= c_j(w)``, its pairs scoring
      at least ``w``. With ``v_1 >= ... >= v_K`` its ``K`` best kept scores
      (:attr:`Figures.top_by_mentor`; ``K`` 1: its best), weigh ``v_r`` by 1 for ``r < K`` and
      ``r <= k_j``, and ``v_K`` by ``max(0, k_j - K + 1)``: the weight at values ``>= t`` is
      at least ``min(k_j, c_j(t))`` (if ``v_K >= t`` it is ``k_j``; else every score at least
      ``t`` is among ``v_1..v_{K-1}`` and the weight counts them, up to ``k_j``). So the
      weights at values ``>= w`` add up to ``sum_j n_j >= count``: ``w`` is at most the
      ``count``-th largest of the weighted values. Keeping more scores a mentor tightens this:
      a mentor with one high score and a second low one no longer counts its places at the
      high one (s24; ``K`` 1 was the bound until then).
    - *A budget*: mentor ``j`` spends at least ``c_j n_j`` (:func:`count_bound`), with ``n_j``
      at most its weight at values ``>= w``; so that weight, bought by the fractional knapsack,
      reaches ``count``: ``w`` is at most the largest value where it does.

    On bounds the scores are upper bounds: each ``c_j(t)`` only grows, and every step holds.

    >>> f = Figures(np.ones(3, np.int64), np.array([0.9, 0.5, 0.7]), np.array([3, 3]),
    ...             np.array([0.9, 0.6]))
    >>> threshold_bound(f, 2, np.array([1.0, 1.0]), None, None)  # second mentee best, mentor 0.6
    0.6
    >>> s = SideConstraints(budget=100.0, stipend_fixed=np.zeros(2),
    ...                     stipend_per_mentee=np.array([60.0, 40.0]))
    >>> threshold_bound(f, 2, np.array([2.0, 2.0]), None, None, s)  # mentor 0 alone buys 1.67
    0.6
    >>> top = np.array([[0.9, 0.9], [0.9, 0.1]])  # mentor 1: one pair at 0.9, the rest 0.1
    >>> g = Figures(np.full(4, 2), np.full(4, 0.9), np.array([4, 4]), top[:, 0], top)
    >>> threshold_bound(g, 4, np.array([2.0, 2.0]), None, None)  # (its best alone: 0.9)
    0.1
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

    top_i = fig.mentee_top()
    by_mentees = kth(top_i.ravel(), _top_weights(np.minimum(np.maximum(dem, 0), fig.eligible),
                                                 top_i.shape[1]).ravel())
    places = mentor_places(fig, capacity, demand, load)
    top = fig.mentor_top()
    weight = _top_weights(places, top.shape[1])
    values, weights = top.ravel(), weight.ravel()
    out = min(by_mentees, kth(values, weights))
    if side is not None and side.budget is not None and np.isfinite(out):
        c, B = _place_costs(places, side)
        levels = np.unique(values[np.isfinite(values)])

        def buys(level: float) -> bool:  # each mentor's weight at values >= level buys ``count``
            reach = (weight * (top >= level)).sum(axis=1)
            return _places_bought(reach, c, B) + 1e-9 >= count

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


def total_bound(fig: Figures, capacity, demand, load, most: int | None = None) -> float:
    """A bound on the total score of every assignment that meets the capacities and demands
    (side constraints only remove assignments, so it bounds every objective's total, max-min's
    and leximin's included): the least of the two sides. Mentee ``i`` holds at most ``min(d_i,
    e_i)`` pairs, its ``r``-th best scoring at most its ``r``-th best kept score
    (:attr:`Figures.top_by_mentee`; the places beyond the kept ones at the last kept,
    :func:`_top_weights`); mentor ``j`` at most :func:`mentor_places`, the same over its kept
    scores; each score counted at ``max(0, .)`` (an assignment may leave a pair out). On bounds
    (figures of upper bounds) still a bound. ``most``: at least the pairs of every assignment
    bounded (:func:`count_bound`): each side then counts only its ``most`` largest places (an
    assignment's pairs are ``most`` of them at most, each at most its place's score), a bound
    still; at 20,000 x 5,000 after a first pass cut short, 13,519 places against 20,000
    mentees' row ceilings.

    >>> f = Figures(np.array([2, 1]), np.array([0.9, 0.5]), np.array([2, 1]), np.array([0.9, 0.5]),
    ...             np.array([[0.9, 0.5], [0.1, -np.inf]]), np.array([[0.9, 0.1], [0.5, -np.inf]]))
    >>> total_bound(f, np.array([2.0, 1.0]), np.array([2, 1]), None)  # mentees 1.0 + 0.5
    1.5
    >>> total_bound(f, np.array([2.0, 1.0]), np.array([2, 1]), None, most=1)  # its best pair
    0.9
    """
    n = len(fig.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.round(np.asarray(demand, float)).astype(np.int64)

    def side(top: np.ndarray, places: np.ndarray) -> float:
        w, v = _top_weights(places, top.shape[1]), np.maximum(top, 0.0)
        if most is None or not np.isfinite(most):  # (no count bound: every place counts)
            return float((w * v).sum())
        on = w > 0
        w, v = w[on], v[on]
        order = np.argsort(-v, kind="stable")
        w, v = w[order], v[order]
        before = np.cumsum(w) - w  # (the places above each value)
        return float(np.minimum(w, np.maximum(int(most) - before, 0)) @ v)

    return min(side(fig.mentee_top(), np.minimum(np.maximum(dem, 0), fig.eligible)),
               side(fig.mentor_top(), mentor_places(fig, capacity, demand, load)))


def best_pairs_bound(best, n: int, m: int, capacity, demand, load) -> float | None:
    """:func:`total_bound` over every pair of a source from ``best``, each mentee's best pairs
    alone (:func:`~mentormatch.solvers.figures.best_pairs_figures`): the bound of a baseline on
    a pair reader and of the engine's stage stopped before its first LP. None with a NaN score.

    >>> best = (np.arange(3), np.zeros(3, np.int64), np.array([3.0, 2.0, 1.0]))
    >>> best_pairs_bound(best, 3, 1, np.ones(1), None, None)  # one place: 3, not 6
    3.0
    """
    if np.isnan(np.asarray(best[2], np.float64)).any():
        return None
    fig = best_pairs_figures(best, n, m, capacity, demand)
    return total_bound(fig, capacity, demand, load)


def _top_weights(places: np.ndarray, k: int) -> np.ndarray:
    """``m x k``: the weight of each kept score (:func:`threshold_bound`): 1 for the first
    ``k - 1`` up to a mentor's places, the rest of its places on the last.

    >>> _top_weights(np.array([0, 1, 3, 5]), 3).tolist()
    [[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 3]]
    """
    places = np.asarray(places, np.int64)
    r = np.arange(k)[None, :]
    w = (r < places[:, None]).astype(np.int64)
    w[:, -1] = np.maximum(places - (k - 1), 0)
    return w
