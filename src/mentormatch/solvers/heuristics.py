"""Primal heuristics of the engine: feasible assignments before (and beside) branch-and-bound."""
from __future__ import annotations

import numpy as np

from .relax import Candidates, Run
from .sources import top_k

#: The neighbourhood MIP: each open mentee's best candidates it may choose from, and its
#: branch-and-bound nodes (a work limit, not a share of the time: the same inputs give the same
#: assignment on any machine).
NEIGHBOURHOOD_PER_MENTEE = 8
NEIGHBOURHOOD_NODES = 500
#: At most this many free columns in the neighbourhood MIP.
NEIGHBOURHOOD_COLUMNS = 20_000


def repair(run: "Run", cand: Candidates, on: np.ndarray) -> np.ndarray | None:
    """The primal heuristic: make an assignment meet the constraints by dropping pairs, or
    None. Mentors below their minimum load or reservation value lose all their pairs; while the
    budget is exceeded, the pair that saves the most money per score lost goes (a mentor's
    last mentee also saves the fixed stipend). Floors are not repaired (dropping cannot help)."""
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
            idx = np.flatnonzero(on & ~cand.locked)
            n_j = np.bincount(cand.j[on], minlength=m.m)
            spent = float(m.fixed[n_j > 0].sum() + m.per[cand.j[on]].sum())
            over = spent - float(m.side.budget)
            # drop the cheapest score per unit saved first (vectorised ranking, then a scan
            # over the ranked pairs only as far as the overspend needs)
            saves = m.per[cand.j[idx]] + np.where(n_j[cand.j[idx]] == 1, m.fixed[cand.j[idx]], 0.0)
            value = cand.s[idx] / np.maximum(saves, 1e-12)
            order = np.argsort(value, kind="stable")
            cum = np.cumsum(saves[order])
            k = int(np.searchsorted(cum, over - 1e-9)) + 1
            on[idx[order[:k]]] = False
    return on if run.feasible(cand, on) else None


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
