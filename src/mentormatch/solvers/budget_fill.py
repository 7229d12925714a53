"""The budget a repaired assignment leaves, spent greedily on its candidate pairs: the last
step of the budget Lagrangian's primal (:mod:`mentormatch.solvers.lagrange`)."""
from __future__ import annotations

import numpy as np

__all__ = ["fill", "occurrence"]


def fill(cand, on: np.ndarray, cap, demand, per, fixed, budget: float, run) -> np.ndarray:
    """The budget a repaired assignment leaves, spent greedily: the best-scoring candidate pairs
    of mentees with a place left, with mentors already active and below capacity (no new fixed
    stipend, no new minimum load), while their stipend fits. Ties by (mentee, mentor).

    The greedy is sequential (a pair is taken when, at its turn, its mentee and mentor have
    room and its stipend fits what is left), but its decisions are read a window of pairs at
    a time: in a window of pairs that could still be taken, every pair before the first that
    would fail (its mentee's or mentor's earlier pairs in the window fill the room left, or the
    stipends so far exceed the budget left) is taken, and that one is refused; the next window
    starts after it. Each window ends at a mentee or mentor that fills, or at the budget: the
    same pairs as the pair-by-pair loop, in numpy."""
    m = len(cap)
    n_j = np.bincount(cand.j[on], minlength=m)
    spent = float(fixed[n_j > 0].sum() + per[cand.j[on]].sum())
    slack = budget - spent
    held = np.bincount(cand.i[on], minlength=len(demand))
    dem = np.asarray(demand)
    can = (~on & (held[cand.i] < dem[cand.i]) & (n_j[cand.j] > 0)
           & (n_j[cand.j] < cap[cand.j]) & (per[cand.j] <= slack + 1e-9) & (cand.s > 0))
    idx = np.flatnonzero(can)
    if not len(idx):
        return on
    idx = idx[np.lexsort((cand.key[idx], -cand.s[idx]))]
    out = on.copy()
    room_i = (dem - held).astype(np.int64)
    room_j = (cap - n_j).astype(np.int64)
    cheapest = float(per[cand.j[idx]].min())
    pos, width = 0, 256
    while pos < len(idx) and slack >= cheapest - 1e-9:
        win = idx[pos:pos + width]
        ii, jj = cand.i[win], cand.j[win]
        live = (room_i[ii] > 0) & (room_j[jj] > 0) & (per[jj] <= slack + 1e-9)
        w, ii, jj = win[live], ii[live], jj[live]
        cost = np.cumsum(per[jj])
        ok = ((occurrence(ii) < room_i[ii]) & (occurrence(jj) < room_j[jj])
              & (cost <= slack + 1e-9))
        q = int(np.argmin(ok)) if not ok.all() else len(w)
        take = w[:q]
        out[take] = True
        np.subtract.at(room_i, ii[:q], 1)
        np.subtract.at(room_j, jj[:q], 1)
        if q:
            slack -= float(cost[q - 1])
        if q == len(w):  # the whole window taken or refused
            pos += len(win)
            width *= 2
        else:  # pair w[q] refused; the next window after it
            pos += int(np.flatnonzero(live)[q]) + 1
            width = max(64, width // 2)
    return out if run.feasible(cand, out) else on


def occurrence(x: np.ndarray) -> np.ndarray:
    """For each entry, how many entries before it hold the same value.

    >>> occurrence(np.array([3, 1, 3, 3, 1])).tolist()
    [0, 0, 1, 2, 1]
    """
    order = np.argsort(x, kind="stable")
    xs = x[order]
    start = np.ones(len(x), bool)
    start[1:] = xs[1:] != xs[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(len(x)), 0))
    occ = np.empty(len(x), np.int64)
    occ[order] = np.arange(len(x)) - first
    return occ
