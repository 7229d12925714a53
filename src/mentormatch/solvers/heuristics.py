"""Primal heuristics of the engine: feasible assignments before (and beside) branch-and-bound."""
from __future__ import annotations

import numpy as np

from .relax import Candidates, Run
from .topk import top_k

#: The neighbourhood MIP: each open mentee's best candidates it may choose from, and its
#: branch-and-bound nodes (a work limit, not a share of the time: the same inputs give the same
#: assignment on any machine).
NEIGHBOURHOOD_PER_MENTEE = 8
NEIGHBOURHOOD_NODES = 500
#: At most this many free columns in the neighbourhood MIP.
NEIGHBOURHOOD_COLUMNS = 20_000


def repair(run: "Run", cand: Candidates, on: np.ndarray) -> np.ndarray | None:
    """The primal heuristic: make an assignment meet the constraints by dropping pairs, or
    None. Mentors below their minimum load or reservation value lose all their pairs; over the
    budget, the pairs are kept by :func:`within_budget` (the most score per money first, then
    refilled; never below the pairs kept best score first). Floors are not repaired (dropping
    cannot help)."""
    m = run.model
    on = on.copy()
    for _ in range(3):
        if run.feasible(cand, on):
            return on
        bad = m.check(cand.i, cand.j, cand.s, on)
        if "capacity" in bad or "mentee" in bad:
            return None
        if "min_load" in bad or "reservation" in bad:
            n_j = np.bincount(cand.j[on], minlength=m.m).astype(float)
            short = (n_j > 0) & (n_j < m.min_load - 1e-9)
            if len(m.res_rows):
                from .linear import success_probability

                earn = m.per * n_j + np.bincount(cand.j[on], weights=m.bonus[cand.j[on]] * success_probability(
                    cand.s[on], m.side), minlength=m.m)
                short |= (n_j > 0) & (earn < m.res_need - 1e-7)
            on &= ~(short[cand.j] & ~cand.locked)
        if "budget" in m.check(cand.i, cand.j, cand.s, on):
            on = within_budget(cand, on, m.fixed, m.per, float(m.side.budget))
    return on if run.feasible(cand, on) else None


def within_budget(cand: Candidates, on: np.ndarray, fixed: np.ndarray, per: np.ndarray,
                  budget: float) -> np.ndarray:
    """The pairs of ``on`` kept within ``budget`` (a mentor's fixed stipend paid once it has a
    mentee, ``per`` a mentee): the locked ones, then the others in one of two orders, each
    pair kept when its stipends still fit (:func:`_keep_in_order`), the better total of the two
    orders: the most score per money first (a pair's money: its mentor's ``per`` and its share
    of the fixed stipend over the mentor's pairs in ``on``), and the best score first. (Until
    s25 the pairs saving the most money per score went first, each counted at ``per`` unless
    its mentor's last: over a mentor's fixed stipend that dropped every pair, s25h7's test.)

    >>> from types import SimpleNamespace as N
    >>> c = N(i=np.arange(4), j=np.array([0, 0, 1, 1]), s=np.array([3.0, 3.0, 1.0, 1.0]),
    ...       locked=np.zeros(4, bool))
    >>> within_budget(c, np.ones(4, bool), np.array([10.0, 0.0]), np.ones(2), 3.0).tolist()
    [False, False, True, True]
    """
    on = np.asarray(on, bool)
    locked = on & np.asarray(cand.locked, bool)
    free = np.flatnonzero(on & ~locked)
    n_j = np.bincount(cand.j[on], minlength=len(fixed))
    paid = np.bincount(cand.j[locked], minlength=len(fixed)) > 0  # (their fixed stipend is due)
    share = np.where(paid, 0.0, fixed / np.maximum(n_j, 1))
    money = per[cand.j[free]] + share[cand.j[free]]
    ratio = cand.s[free] / np.maximum(money, 1e-12)
    best, best_value = locked.copy(), -np.inf
    for key in (ratio, cand.s[free]):  # (ties: the better score, then the position)
        keep = _keep_in_order(free[np.lexsort((free, -cand.s[free], -key))], cand.j, fixed, per,
                              paid, budget - float(fixed[paid].sum() + per[cand.j[locked]].sum()))
        value = float(cand.s[keep].sum())
        if value > best_value:
            best, best_value = locked.copy(), value
            best[keep] = True
    return best


def _keep_in_order(order: np.ndarray, mentor: np.ndarray, fixed: np.ndarray, per: np.ndarray,
                   paid: np.ndarray, left: float) -> np.ndarray:
    """The positions of ``order`` a scan keeps: each when its stipends (``per``, and its
    mentor's ``fixed`` unless ``paid`` or already opened by the scan) fit in ``left``. The
    longest prefix that fits at once (numpy); past it, one step per pair until nothing left can
    fit (the budget has bound by then: few pairs)."""
    paid = paid.copy()
    j = mentor[order]
    first = np.zeros(len(order), bool)
    first[np.unique(j, return_index=True)[1]] = True
    cost = per[j] + np.where(first & ~paid[j], fixed[j], 0.0)
    tol = 1e-9 * max(1.0, abs(left))
    whole = int(np.searchsorted(np.cumsum(cost), left + tol, side="right"))
    kept = [order[:whole]]
    paid[j[:whole]] = True
    left -= float(cost[:whole].sum())
    rest = order[whole:]
    cheapest = float(per[mentor[rest]].min(initial=np.inf))
    for p in rest.tolist():
        if left + tol < cheapest:
            break
        c = per[mentor[p]] + (0.0 if paid[mentor[p]] else fixed[mentor[p]])
        if c <= left + tol:
            kept.append(np.array([p]))
            paid[mentor[p]] = True
            left -= c
    return np.concatenate(kept).astype(np.int64)


def neighbourhood(run: "Run", cand: Candidates, x: np.ndarray) -> np.ndarray | None:
    """A feasible assignment near the relaxation: its whole pairs (``x = 1``) are fixed, and a
    MIP over the other mentees' candidate pairs (those the relaxation used, and each one's best
    few) chooses the rest, within ``NEIGHBOURHOOD_NODES`` nodes. None when it finds nothing."""
    fixed = x > 1 - 1e-7
    if fixed.all() or not len(cand):
        return None
    demand = np.asarray(run.model.problem.demand)
    held = np.bincount(cand.i[fixed], minlength=run.model.n)
    free_mentee = held < demand
    open_pairs = free_mentee[cand.i] & ~fixed
    n_open = int(free_mentee.sum())
    # HiGHS overruns its time limit on large models (a 20,000 x 5,000 neighbourhood ran for
    # minutes): at most NEIGHBOURHOOD_COLUMNS free columns, fewer options per open mentee
    per = min(NEIGHBOURHOOD_PER_MENTEE, NEIGHBOURHOOD_COLUMNS // max(n_open, 1))
    if per < 1:
        return None
    near = open_pairs & ((x > 1e-9) | top_k(np.where(open_pairs, cand.i, -1),
                                            np.where(open_pairs, cand.s, -np.inf), per))
    if int(near.sum()) > 2 * NEIGHBOURHOOD_COLUMNS:
        return None
    sel = fixed | near
    m = run.source.n_mentors
    sub = Candidates(cand.i[sel], cand.j[sel], cand.s[sel], m,
                      np.union1d(run.lock_keys, cand.key[fixed]))
    st, chosen, _ = run.mip(sub, None, NEIGHBOURHOOD_NODES)
    if chosen is None or not run.feasible(sub, chosen):
        return None
    return np.isin(cand.key, sub.key[chosen])
