"""A bounded level's answers under a deadline: how much of the first pass and the first sparse
set fits before it (:func:`fitting_k`, :func:`pass_deadline`), and what a level answers when
the deadline comes before its first flow (:func:`stopped_early`: no pair, the least proven
bound; :func:`late_assignment`: one uncertified flow on what was scanned, the bound kept), and
what the rows a cut first pass scanned tell a stop's bounds (:func:`scanned_ceilings`)."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..flow import solve_arrays
from ..rounds import Outcome, ceiling_from_best, least_stopped_bound
from ..sparse import _Sparse
from ..threshold import lift_weight
from .ceiling import row_ceilings

#: Seconds per pair of a first sparse set for its exact scores and one min-cost flow on it
#: (about 2 us the flow, 1-3 us the scores at 100,000 x 20,000 on 2 cores): with a deadline,
#: the first pass stops that long before it (at most :data:`RESERVE_SHARE` of the time left),
#: and a late sparse set keeps fewer pairs per row when the time left is shorter.
LATE_PAIR_SECONDS = 5e-6
#: The largest share of the time left that the first pass leaves to the first flow.
RESERVE_SHARE = 0.5


def fitting_k(k: int, rows: int, deadline: float | None) -> int:
    """``k``, or fewer (at least 1) so that a sparse set of ``rows`` rows of that many pairs is
    scored and its flow solved before ``deadline`` (:data:`LATE_PAIR_SECONDS`)."""
    if deadline is None:
        return k
    left = max(0.0, deadline - time.perf_counter())
    return int(max(1, min(k, left // (LATE_PAIR_SECONDS * max(rows, 1)))))


def has_time_for(pairs: int, deadline: float | None) -> bool:
    """Whether a step before the first flow (:mod:`.tatonnement`'s check at adjusted prices,
    about a check's and a flow's worth of work on ``pairs`` pairs) leaves the first flow its time:
    at least twice :data:`LATE_PAIR_SECONDS` a pair left before ``deadline`` (None: always).

    >>> has_time_for(10**6, None), has_time_for(10**6, time.perf_counter() + 60)
    (True, True)
    >>> has_time_for(10**6, time.perf_counter() + 5)  # a flow's 5 s, not twice
    False
    """
    if deadline is None:
        return True
    return deadline - time.perf_counter() >= 2 * LATE_PAIR_SECONDS * pairs


def pass_deadline(deadline: float | None, pairs: int) -> float | None:
    """When the first pass stops: ``deadline`` less the time of the first flow on ``pairs``
    pairs, at most :data:`RESERVE_SHARE` of the time left."""
    if deadline is None:
        return None
    left = max(0.0, deadline - time.perf_counter())
    return deadline - min(LATE_PAIR_SECONDS * pairs, RESERVE_SHARE * left)


def stopped_early(scorer, cap, dem, sp: _Sparse, cert: dict, checker=None, prices=(),
                   rows: int | None = None) -> Outcome:
    """The rounds' answer when the deadline comes before their first flow: no pair chosen,
    ``cert`` (``timed_out``) and the least Lagrangian bound
    (:func:`~mentormatch.solvers.rounds.least_stopped_bound`, with ``u = 0``) under no prices
    and under each of ``prices`` (mentor prices, made ``>= 0``): the rows with a pool by its
    ceiling (``checker``, :meth:`.check._Certifier.ceiling`), every other row by its own
    ceiling without a pass (:func:`.ceiling.row_ceilings` over the mentors with a place, at
    most the bounds' largest value ``largest + margin``, a threshold's lift ``w`` added
    (:class:`~mentormatch.solvers.threshold.ThresholdBounds`), less the least price:
    :func:`~mentormatch.solvers.rounds.ceiling_from_best`), which is at least ``s_ij - p_j`` for
    each of its eligible pairs; no assignment holds more than ``n_max = min(sum d, sum c)``
    pairs. ``rows``: the rows with a pool (the first ones; None: all; none
    without ``checker``), when the pass was cut short."""
    n_max = int(min(dem.sum(), cap.sum()))
    has = cap > 0
    top = max(0.0, float(scorer.largest + scorer.margin + lift_weight(scorer)))
    own = row_ceilings(scorer, has)
    rest = np.full(len(dem), top) if own is None else np.clip(own, 0.0, top)
    done = 0 if checker is None else len(dem) if rows is None else rows

    def ceiling(u, p):
        e = checker.ceiling(u[:done], p) if done else np.zeros(0)
        return np.concatenate([e, ceiling_from_best(rest[len(e):], u[len(e):], p)])

    tries = [(np.zeros(len(dem)), np.where(has, 0.0, np.inf), 0.0, n_max)]
    for p in prices if checker is not None else ():
        p = np.where(has, np.maximum(0.0, np.zeros(len(cap)) if p is None else p), np.inf)
        tries.append((np.zeros(len(dem)), p, float(cap[has] @ p[has]), n_max))
    cert.update(holds=False, timed_out=True)
    return Outcome(sp, np.zeros(len(sp.i), bool), False, cert, least_stopped_bound(ceiling, tries, dem))


def late_assignment(out: Outcome, cap, dem, weights) -> Outcome:
    """``out`` (:func:`stopped_early`, a stop before the first flow) with an assignment: one
    min-cost flow on its sparse set (the first sparse set, or that of the rows a pass cut short
    scanned; the others unmatched), uncertified. The bound stays: it bounds every assignment of
    the market, whatever the flow chooses."""
    if not len(out.sparse.i):
        return out
    t = time.perf_counter()
    res = solve_arrays(out.sparse.i, out.sparse.j, out.sparse.s, cap, dem, weights)
    out.certificate.update(late_flow={"pairs": len(out.sparse.i), "or_tools_status": res.status,
                                      "seconds": round(time.perf_counter() - t, 3)})
    return replace(out, chosen=res.chosen)


def scanned_ceilings(scorer, checker, rows: int, cap) -> np.ndarray | None:
    """Per row of ``scorer`` (its internal order), a number at least the exact score of each of
    its pairs outside the locks with a mentor with places: for the first ``rows`` rows, which a
    first pass cut short scanned, from their pools (:meth:`.check._Certifier.ceiling` at no
    prices, the pools' float32 error and the bounds' margin included); ``inf`` for the others
    (nothing read). Only on max-min's first flow (a lift at ``t = -inf``: every pair there
    scores ``s + w``, so ``s <= ceiling - w``; four units of ``w``'s float64 rounding added);
    None elsewhere. For a stop's bounds with no pass after it
    (:func:`mentormatch.solvers.fair_claims.source_claims`): the scanned rows' best pairs
    instead of their factor ceilings (:func:`.ceiling.row_ceilings`, 6.2-8.2 against a best
    pair of 3.8-5.4 at 20,000 x 5,000)."""
    lift = getattr(scorer, "lift", None)
    if checker is None or lift is None or lift[0] != -np.inf or rows <= 0:
        return None
    w = float(lift[1])
    out = np.full(scorer.n, np.inf)
    seen = checker.ceiling(np.zeros(rows), np.where(np.asarray(cap) > 0, 0.0, np.inf))
    out[:rows] = seen - w + 4 * np.spacing(max(abs(w), 1.0))
    return out
