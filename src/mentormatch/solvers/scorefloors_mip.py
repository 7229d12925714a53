"""Closing the gap the score floors' Lagrangian leaves (:mod:`mentormatch.solvers.scorefloors`):
reduced-cost fixing over EVERY pair of the source at the Lagrangian's best prices, then HiGHS's
exact MIP on the pairs that remain, so that its proof is a proof over every pair.

Why the pairs left out cannot matter
------------------------------------
The Lagrangian's best flow (factors ``f_i``, objective bonus ``b_ij``, or 0) comes with dual
prices ``u_i >= 0`` per mentee and ``p_j >= 0`` per mentor. Each pair's reduced cost is
``rc_ij = max(f_i, eps) s_ij + b_ij - u_i - p_j``, and ``r_i = max(0, max_j rc_ij)``. For every
assignment ``x`` that meets the floors, with one mentor per mentee (``d_i`` in {0, 1}) and the
capacities ``c_j`` (the module docstring of :mod:`~mentormatch.solvers.scorefloors` gives the
first inequality)::

    value(x) = sum_x (s_ij + b_ij)  <=  sum_x (max(f_i, eps) s_ij + b_ij)
             = sum_x (u_i + p_j + rc_ij)  <=  D + sum_x (rc_ij - r_i),
    D = sum_i d_i (u_i + r_i) + sum_j c_j p_j

and every term ``rc_ij - r_i`` is ``<= 0``. An assignment that meets the floors only within
their tolerance (:data:`~mentormatch.solvers.linear_rows.ROW_TOL` x each row's scale) may
exceed the first inequality by ``sum_g lambda_g tol_g / N``: ``D`` includes it. So an
assignment holding the pair ``(i, j)`` is worth at most ``D - r_i + rc_ij``: a pair where that
is below the best value known ``L`` is in no better assignment. The rest (the *kept* pairs,
found by two passes over the source; on bounds only pairs whose upper bound could pass are
scored exactly) hold every assignment better than ``L``. HiGHS's MIP on them (the engine's
model, :class:`~mentormatch.solvers.linear.LinearModel`, the bonus in the objective, the
floors on the plain scores) from the incumbent gives an assignment and a bound ``B`` over
the kept pairs; the bound over every pair is ``max(B, L)``, and also at most ``D``. The
prices are recomputed here from the source, so the argument rests on nothing but ``u, p >= 0``.

The MIP first runs on the union of the Lagrangian's flows (each mentee's few mentors that some
multiplier preferred: the cycles between the flows on either side of a floor), which finds a
good assignment quickly; the better ``L`` then keeps fewer pairs for the MIP that proves.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .base import OPTIMAL_GAP, AssignmentProblem, PairBonus, SideConstraints, SolverOptions, proven

__all__ = ["Closing", "close_gap", "MAX_COLUMNS"]

#: The proving MIP runs on at most this many kept pairs; with more the Lagrangian's answer
#: stands (HiGHS's branch-and-bound on many more columns ends at its time limit, engine.stage).
MAX_COLUMNS = 30_000
#: Work limits, the same on any machine (the time limit stays the outer stop): HiGHS's
#: branch-and-bound nodes for the first MIP (on the flows' union, a better value quickly) and
#: for the proving MIP on the kept pairs.
UNION_NODES = 500
PROVING_NODES = 50_000


@dataclass
class Closing:
    """The best assignment (``chosen`` over the pairs ``i, j`` with plain scores ``s``), its
    ``value`` (score + bonus), the ``bound`` over every pair and what was done."""

    i: np.ndarray
    j: np.ndarray
    s: np.ndarray
    chosen: np.ndarray
    value: float
    bound: float
    certificate: dict


def close_gap(source, capacity, demand, side: SideConstraints, options: SolverOptions,
              deadline: float, scaled: PairBonus, prices, incumbent, union,
              bonus: PairBonus | None, upper: float, slack_ok,
              best_scores: np.ndarray, allowance: float = 0.0) -> Closing | None:
    """See the module docstring. ``scaled``: the best flow's scale and bonus (``apply`` gives
    its scores); ``prices``: ``((u, p) or None, the flow's problem)`` (without prices, the
    certified flow on that problem gives them); ``incumbent``: ``(value, i, j, s, chosen)`` meeting
    the floors; ``union``: ``(i, j, s)`` of every flow's chosen pairs; ``upper``: the
    Lagrangian's bound; ``slack_ok(mentee, plain score) -> bool``: the floors hold;
    ``best_scores``: each mentee's best score over every pair, which fixes the scale of the
    floors' rows in the MIP's model (:func:`~mentormatch.solvers.linear_rows.floor_scales`,
    :func:`~mentormatch.solvers.scorefloors.best_scores`); ``allowance``: what an assignment
    that meets the floors within their tolerance may add to the Lagrangian at the best flow's
    multipliers (``sum_g lambda_g tol_g / N``), added to ``D``. None when the prices are
    unusable or the kept pairs are too many."""
    from ..pairs import Candidates as PairSet
    from .linear import LinearModel
    from .relax import Candidates, Run

    started = time.perf_counter()
    n, m = source.n_mentees, source.n_mentors
    prices, flow_problem = prices
    if prices is None:  # a flow on every pair keeps no prices: the certified flow's
        from .certify import solve_sparse_certified

        again = solve_sparse_certified(flow_problem, SolverOptions(seed=options.seed), started,
                                       deadline)
        if again.certificate.get("timed_out"):  # no flow past the caller's limit: the incumbent
            return _done(incumbent, upper, {"method": "the certified flow for the prices, stopped "
                                            "at the time limit", "timed_out": True})
        if again.status != "optimal" or again.prices is None:
            return None
        prices = again.prices
    u, p = (np.asarray(x, float) for x in prices)
    if len(u) != n or len(p) != m or not (np.all(u >= 0) and np.all(p >= 0)
                                        and np.isfinite(u).all() and np.isfinite(p).all()):
        return None
    cap = np.asarray(capacity, float)
    dem = np.ones(n) if demand is None else np.asarray(demand, float)
    p = np.where(cap > 0, p, 0.0)  # a mentor with no place takes no pair: its price is free
    extra = None if bonus is None else bonus.on_pairs
    value, bi, bj, bs, bon = incumbent
    shell = AssignmentProblem(PairSet(np.zeros(0, np.int64), np.zeros(0, np.int64), n, m),
                              np.zeros(0), cap, demand=demand, side=side)
    none = np.zeros(0, np.int64)
    run = Run(source, LinearModel(shell, best=best_scores), options, deadline, none, extra)
    cert: dict = {"method": "reduced-cost fixing at the Lagrangian's prices + HiGHS MIP"}

    def mip(i, j, s, start_keys, max_nodes: int):
        """HiGHS on the pairs ``(i, j, s)`` from the assignment ``start_keys``: (status,
        candidates, chosen or None, value, bound over those pairs)."""
        cand = Candidates(i, j, s, m, none)
        start = np.isin(cand.key, start_keys)
        st, chosen, b = run.mip(cand, start.astype(float), max_nodes)
        ok = (chosen is not None and run.feasible(cand, chosen)
              and slack_ok(cand.i[chosen], cand.s[chosen]))
        return st, cand, (chosen if ok else None), (run.value(cand, chosen) if ok else -math.inf), b

    best_keys = bi[bon] * m + bj[bon]
    best = (value, bi, bj, bs, bon)
    # 1. the flows' union with the incumbent: a better L quickly
    ui, uj, us = (np.concatenate([a, b[bon]]) for a, b in zip(union, (bi, bj, bs)))
    st, cand, chosen, v, _ = mip(ui, uj, us, best_keys, UNION_NODES)
    cert["union"] = {"pairs": int(len(cand)), "status": st, "value": v}
    if chosen is not None and v > value + 1e-12:
        value, best = v, (v, cand.i, cand.j, cand.s, chosen)
        best_keys = cand.key[chosen]
    # 2. every pair priced; the kept ones (with the incumbent's) go to the proving MIP
    priced = time.perf_counter()
    D, kept = _kept_pairs(source, scaled, u, p, cap, dem, value, allowance)
    cert.update(D=D, pricing_seconds=round(time.perf_counter() - priced, 3))
    if kept is None:
        cert["kept"] = f"more than {MAX_COLUMNS:,}"
        return _done(best, min(upper, D), cert)
    ki, kj, ks = (np.concatenate([a, b[best[4]]]) for a, b in zip(kept, best[1:4]))
    cert["kept"] = int(len(np.unique(ki * m + kj)))
    bound = min(upper, D)
    if not run.out_of_time(0.05) and not proven(bound, value):
        st, cand, chosen, v, b = mip(ki, kj, ks, best_keys, PROVING_NODES)
        if chosen is not None and v > value + 1e-12:
            best = (v, cand.i, cand.j, cand.s, chosen)
        cert["mip"] = {"status": st, "bound": b, "value": v}
        if math.isfinite(b):
            # assignments within the kept pairs: at most b; any other: below the L of the
            # fixing, which is at most the best value
            bound = min(bound, max(b, value))
    cert["seconds"] = round(time.perf_counter() - started, 3)
    cert["timed_out"] = run.timed_out
    return _done(best, bound, cert)


def _done(best, bound: float, cert: dict) -> Closing:
    value, i, j, s, on = best
    cert["optimal"] = proven(max(bound, value), value, OPTIMAL_GAP)
    return Closing(i, j, s, on, value, max(bound, value), cert)


def _kept_pairs(source, scaled: PairBonus, u, p, cap, dem, value: float, allowance: float = 0.0):
    """``(D, (i, j, s))``: ``D`` of the module docstring (plus ``allowance``, see
    :func:`close_gap`) and the pairs with ``D - r_i + rc >= value`` (mentees of demand 0 left
    out); ``(D, None)`` when those are more than
    ``MAX_COLUMNS``. Two passes over the source; on bounds, a pair is scored exactly only when
    its upper bound could pass (``rc`` rises with the score: the factors are ``>= 0``)."""
    n = len(u)
    factor = np.asarray(scaled.scale_mentee, float)

    def rc_of(i, j, s):
        return scaled.apply(s, i, j) - u[i] - p[j]

    def upper_rc(mentees, up, need):
        R, mm = up.shape
        i = np.repeat(np.asarray(mentees, np.int64), mm)
        j = np.tile(np.arange(mm, dtype=np.int64), R)
        rc = factor[i] * up.ravel() + scaled.on_pairs(i, j) - u[i] - p[j]
        return (rc >= need[i] - 1e-9).reshape(R, mm)

    r = np.zeros(n)
    zero = np.zeros(n)
    for i, j, s in source.blocks(lambda rows, up: upper_rc(rows, up, zero)):
        if len(i):
            np.maximum.at(r, i, rc_of(i, j, s))
    on = dem > 0
    D = float(dem[on] @ (u[on] + r[on]) + cap @ p) + allowance
    tol = 1e-9 * max(1.0, abs(D))
    need = r - (D - value) - tol  # keep (i, j) when rc_ij >= need_i
    need = np.where(on, need, math.inf)
    parts, count = [], 0
    for i, j, s in source.blocks(lambda rows, up: upper_rc(rows, up, need)):
        if not len(i):
            continue
        keep = rc_of(i, j, s) >= need[i]
        count += int(keep.sum())
        if count > MAX_COLUMNS:
            return D, None
        parts.append((i[keep], j[keep], s[keep]))
    if not parts:
        return D, (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    return D, tuple(np.concatenate([q[t] for q in parts]) for t in range(3))
