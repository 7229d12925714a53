"""The engine for side constraints, at every size: solve on candidates, price every pair,
add the violators, repeat; then an exact MIP on the candidates closes the gap.

The model is :class:`~mentormatch.solvers.linear.LinearModel` (stated once there). The loop::

    candidates  = each mentee's best pairs (and the locked ones)
    repeat:     solve the linear relaxation on the candidates (HiGHS)      -> prices pi >= 0
                price every pair of the source against pi                  -> reduced costs rc
                add the pairs with rc > 0 (the best few per mentee)
    until none: U = the Lagrangian bound, valid over ALL pairs
    MIP         HiGHS branch-and-bound on the candidates, started from a feasible rounding of
                the relaxation, within the time limit                      -> incumbent, bound B
    certify     an assignment that uses a pair outside the candidates is worth at most
                U + rc(pair); pairs with U + rc > incumbent join the candidates and the MIP runs
                again; the bound over all pairs is min(U, max(B, U + max rc outside))

``status`` is ``"optimal"`` only when that bound is within ``OPTIMAL_GAP`` of the incumbent;
otherwise ``"feasible"`` with the finite bound and gap. A time limit returns the best assignment
found (the empty assignment when it meets every constraint and nothing better was found).
``InfeasibleError`` only with a proof: the relaxation over every pair is infeasible, or the MIP
proves the candidates infeasible after the relaxation has priced every pair; the error names
the constraint families whose removal alone restores feasibility.

HiGHS runs single-threaded with a fixed seed, so the same inputs give the same pairs.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import Conflict, InfeasibleError
from . import register
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .linear import FAMILIES, LinearModel
from .sources import ArraySource, top_k

__all__ = ["solve_mip", "OPTIMAL_GAP", "DEFAULT_TIME_LIMIT"]

#: The relative gap under which a solution is called optimal.
OPTIMAL_GAP = 1e-6
DEFAULT_TIME_LIMIT = 60.0
#: Each mentee's best pairs that start the candidate set.
FIRST_CANDIDATES = 12
#: At most this many violators per mentee join the candidates in one pricing round.
ADD_PER_MENTEE = 6
MAX_PRICING_ROUNDS = 50
#: The share of the time limit that pricing may take before the MIP starts.
RELAX_SHARE = 0.5
#: Pricing stops when the best bound is within this share of the candidates' relaxation.
RELAX_GAP = 1e-5
#: Above this many candidate pairs the MIP over all candidates is skipped once an assignment
#: is known (the neighbourhood MIP still runs).
MIP_MAX_COLUMNS = 30_000
#: The neighbourhood MIP: each open mentee's best candidates it may choose from, and its share
#: of the time left.
NEIGHBOURHOOD_PER_MENTEE = 8
NEIGHBOURHOOD_SHARE = 0.25
#: Outside pairs join the MIP only while they are at most this many times the candidates.
JOIN_AT_MOST = 2.0
#: The share of the time left that the first MIP on the candidates may take.
FIRST_MIP_SHARE = 1.0


_BANNER_SHOWN = False


def _new_highs():
    """A HiGHS instance; the first one of a process is made with standard output closed, so
    that HiGHS's copyright banner does not land in a user's notebook or doctest."""
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        return highspy.Highs()
    import os
    import sys

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
        _BANNER_SHOWN = True


def _highs(options: SolverOptions, time_left: float):
    h = _new_highs()
    h.setOptionValue("output_flag", False)  # HiGHS logs to the console; a user sees a bar
    h.setOptionValue("random_seed", int(options.seed) % (2 ** 31))
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(0.05, float(time_left)))
    h.setOptionValue("mip_rel_gap", OPTIMAL_GAP / 10)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("mip_heuristic_effort", 0.3)
    return h


def _pass(h, A, objective, lower, upper, integer, rhs, mip: bool):
    import highspy

    lp = highspy.HighsLp()
    nc, nr = A.shape[1], A.shape[0]
    lp.num_col_, lp.num_row_ = nc, nr
    lp.col_cost_ = -objective  # HiGHS minimises
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.full(nr, -highspy.kHighsInf)
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nc, nr
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    if mip:
        kinds = np.where(integer, 1, 0)  # HighsVarType: 0 continuous, 1 integer
        lp.integrality_ = [highspy.HighsVarType(int(t)) for t in kinds]
    h.passModel(lp)


def _status(h) -> str:
    import highspy

    s = h.getModelStatus()
    S = highspy.HighsModelStatus
    if s == S.kOptimal:
        return "optimal"
    if s in (S.kInfeasible,):
        return "infeasible"
    if s in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit, S.kSolutionLimit):
        return "time"
    if s == S.kUnboundedOrInfeasible:
        return "infeasible"
    return str(h.modelStatusToString(s))


class _Candidates:
    """The candidate pairs: arrays sorted by (mentee, mentor), with their keys for lookups."""

    def __init__(self, i, j, s, n_mentors: int, lock_keys: np.ndarray):
        self.m = n_mentors
        self.lock_keys = lock_keys
        self._set(np.asarray(i, np.int64), np.asarray(j, np.int64), np.asarray(s, np.float64))

    def _set(self, i, j, s):
        key = i * self.m + j
        key, first = np.unique(key, return_index=True)
        self.i, self.j, self.s, self.key = i[first], j[first], s[first], key
        self.locked = np.isin(self.key, self.lock_keys)

    def add(self, i, j, s) -> int:
        before = len(self.key)
        self._set(np.concatenate([self.i, i]), np.concatenate([self.j, j]),
                  np.concatenate([self.s, s]))
        return len(self.key) - before

    def contains(self, i, j) -> np.ndarray:
        key = np.asarray(i, np.int64) * self.m + np.asarray(j, np.int64)
        pos = np.minimum(np.searchsorted(self.key, key), max(len(self.key) - 1, 0))
        return (self.key[pos] == key) if len(self.key) else np.zeros(len(key), bool)

    def __len__(self):
        return len(self.key)


#: Outside pairs kept from the last pricing pass, the best first, to join the candidates when
#: the MIP's incumbent shows they could improve it.
KEEP_OUTSIDE = 200_000


class _WarmLP:
    """The relaxation on the candidates, kept in one HiGHS instance while pricing adds
    columns: each round re-solves from the last basis instead of from scratch. Its pair
    columns are in the order they joined (``keys``); the y/z/L columns sit after the first
    ones, and each pair's linking row (when there are y columns) is added with it."""

    def __init__(self, run: "_Run", cand: _Candidates):
        self.run_, self.model = run, run.model
        self.i, self.j, self.s, self.locked = cand.i.copy(), cand.j.copy(), cand.s.copy(), cand.locked.copy()
        self.keys = cand.key.copy()
        A, obj, lo, hi, integer, rhs = run.model.matrix(self.i, self.j, self.s, self.locked,
                                                        extra=run.extra(self.i, self.j))
        self.first = len(self.i)
        self.n_extra = A.shape[1] - self.first
        self.h = _highs(run.options, max(run.left(), 1.0))
        _pass(self.h, A, obj, lo, hi, integer, rhs, mip=False)

    def _col(self, k: np.ndarray) -> np.ndarray:
        """LP column of the k-th pair (in joining order)."""
        return np.where(k < self.first, k, k + self.n_extra)

    def add(self, cand: _Candidates):
        new = ~np.isin(cand.key, self.keys)
        if not new.any():
            return
        i, j, s, locked = cand.i[new], cand.j[new], cand.s[new], cand.locked[new]
        (c, r, v), obj = self.model.pair_entries(i, j, s, self.run_.extra(i, j))
        order = np.lexsort((r, c))
        c, r, v = c[order], r[order], v[order]
        starts = np.searchsorted(c, np.arange(len(i)))
        n_cols_before = self.first + self.n_extra + (len(self.keys) - self.first)
        self.h.addCols(len(i), -obj, locked.astype(float), np.ones(len(i)), len(v),
                       starts.astype(np.int32), r.astype(np.int32), v.astype(np.float64))
        if self.model.use_y:
            cols = n_cols_before + np.arange(len(i))
            ycol = self.first + self.model.y_at + j
            idx = np.stack([cols, ycol], axis=1).ravel().astype(np.int32)
            vals = np.tile([1.0, -1.0], len(i))
            self.h.addRows(len(i), np.full(len(i), -np.inf), np.zeros(len(i)), 2 * len(i),
                           (2 * np.arange(len(i))).astype(np.int32), idx, vals)
        self.i = np.concatenate([self.i, i]); self.j = np.concatenate([self.j, j])
        self.s = np.concatenate([self.s, s]); self.locked = np.concatenate([self.locked, locked])
        self.keys = np.concatenate([self.keys, cand.key[new]])

    def run(self, time_left: float) -> str:
        self.h.setOptionValue("time_limit", float(time_left))
        self.h.run()
        return _status(self.h)

    def solution(self):
        sol = self.h.getSolution()
        prices = np.maximum(0.0, -np.asarray(sol.row_dual, float))
        x = np.asarray(sol.col_value, float)[self._col(np.arange(len(self.keys)))]
        self._x = x
        return prices, x

    def value(self) -> float:
        extra = self.run_.extra(self.i, self.j)
        obj = self.s + (0.0 if extra is None or self.model.stage != "score" else extra) \
            if self.model.stage == "score" else None
        if obj is None:  # coverage: the matched count (z columns, or the pairs themselves)
            return -float(self.h.getInfo().objective_function_value)
        return float(obj @ self._x)

    def bound(self, prices: np.ndarray) -> float:
        A, obj, lo, hi, integer, rhs = self.model.matrix(self.i, self.j, self.s, self.locked,
                                                         extra=self.run_.extra(self.i, self.j))
        return self.model.candidate_bound(A, obj, lo, hi, rhs, prices)

    def on_candidates(self, cand: _Candidates, x: np.ndarray) -> np.ndarray:
        order = np.argsort(self.keys)
        pos = order[np.searchsorted(self.keys[order], cand.key)]
        return x[pos]


class _Run:
    """One stage (coverage or score) of the engine on one source."""

    def __init__(self, source, model: LinearModel, options: SolverOptions, deadline: float,
                 lock_keys: np.ndarray, bonus=None):
        self.source, self.model, self.options, self.deadline = source, model, options, deadline
        self.lock_keys, self.bonus = lock_keys, bonus
        self.rounds = 0
        self.pairs_priced = 0
        self.relax_deadline = time.perf_counter() + RELAX_SHARE * max(deadline - time.perf_counter(), 0)

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def extra(self, i, j) -> np.ndarray | None:
        return None if self.bonus is None else self.bonus(i, j)

    def _matrix(self, cand: _Candidates):
        return self.model.matrix(cand.i, cand.j, cand.s, cand.locked, extra=self.extra(cand.i, cand.j))

    def price(self, cand: _Candidates, prices: np.ndarray):
        """One pass over every pair of the source: violators (the best few per mentee), the sum
        of positive reduced costs outside the candidates, their maximum, and the best outside
        pairs (for the certificate)."""
        model = self.model
        base = prices[:model.n_rows]
        total, top = 0.0, -math.inf
        viol, keep = [], []

        def screen(rows_mentee, up):
            R, m = up.shape
            i = np.repeat(np.asarray(rows_mentee, np.int64), m)
            j = np.tile(np.arange(m, dtype=np.int64), R)
            rc = model.pair_reduced_costs(i, j, up.ravel(), base, extra=self.extra(i, j))
            return (rc > -1e-9 * (1 + np.abs(up.ravel()))).reshape(R, m) | self._keep_screen(rc).reshape(R, m)

        self._floor = -math.inf
        blocks = self.source.blocks(screen if model.monotone else None)
        for i, j, s in blocks:
            if not len(i):
                continue
            self.pairs_priced += len(i)
            rc = model.pair_reduced_costs(i, j, s, base, extra=self.extra(i, j))
            out = ~cand.contains(i, j)
            rco = np.where(out, rc, -math.inf)
            total += float(np.maximum(rco, 0.0).sum())
            top = max(top, float(rco.max(initial=-math.inf)))
            v = rco > 1e-9
            if v.any():
                sel = np.flatnonzero(v)
                pick = sel[top_k(i[sel], rc[sel], ADD_PER_MENTEE)]
                viol.append((i[pick], j[pick], s[pick]))
            near = np.flatnonzero(out & (rc > -math.inf))
            if len(near):
                keep.append((i[near], j[near], s[near], rc[near]))
                self._trim(keep)
        return viol, total, top, keep

    def _keep_screen(self, rc):
        return rc > self._floor

    def _trim(self, keep):
        """Keep only the KEEP_OUTSIDE best outside pairs; ``_floor`` is the best reduced cost
        among those dropped (every outside pair not kept is at most this)."""
        n = sum(len(p[0]) for p in keep)
        if n <= 2 * KEEP_OUTSIDE:
            return
        cat = [np.concatenate([p[t] for p in keep]) for t in range(4)]
        order = np.argsort(-cat[3], kind="stable")
        self._floor = max(self._floor, float(cat[3][order[KEEP_OUTSIDE]]))
        order = order[:KEEP_OUTSIDE]
        keep[:] = [tuple(c[order] for c in cat)]

    def relax(self, cand: _Candidates):
        """Price until no outside pair has a positive reduced cost. Returns (prices, U, x on
        the candidates, the best outside pairs, the best outside reduced cost) or None when the
        relaxation over every pair is infeasible."""
        grow = 4
        best = None
        lp = None
        while True:
            self.rounds += 1
            if lp is None:
                lp = _WarmLP(self, cand)
            else:
                lp.add(cand)
            st = lp.run(max(self.left(), 1.0))
            if st == "infeasible":
                before = len(cand)
                grow *= 4
                i, j, s = self.source.best(grow * FIRST_CANDIDATES)
                if cand.add(i, j, s) == 0 and before == len(cand):
                    return None  # every eligible pair is a candidate: proven infeasible
                continue
            prices, x_lp = lp.solution()
            viol, total, top, keep = self.price(cand, prices)
            # every price vector >= 0 gives a valid bound: keep the best one seen (column
            # generation's prices swing from round to round)
            U = lp.bound(prices) + total
            if best is None or U < best[0]:
                best = (U, prices, keep, max(top, self._floor))
            z = lp.value()
            settled = best[0] - z <= RELAX_GAP * max(abs(z), 1.0)
            if (not viol or settled or self.rounds > MAX_PRICING_ROUNDS
                    or time.perf_counter() > self.relax_deadline):
                return best[1], best[0], lp.on_candidates(cand, x_lp), best[2], best[3]
            cand.add(*[np.concatenate([v[t] for v in viol]) for t in range(3)])

    def mip(self, cand: _Candidates, start: np.ndarray | None, time_cap: float | None = None):
        A, obj, lo, hi, integer, rhs = self._matrix(cand)
        # HiGHS may overrun its limit by a tenth on large models: keep a margin
        h = _highs(self.options, max(0.9 * min(self.left(), time_cap or math.inf), 0.05))
        _pass(h, A, obj, lo, hi, integer, rhs, mip=True)
        if start is not None:
            import highspy

            val = np.zeros(A.shape[1])
            val[:len(cand)] = start
            val[len(cand):] = self._extra_values(cand, start)
            sol = highspy.HighsSolution()
            sol.col_value = val.tolist()
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        st = _status(h)
        info = h.getInfo()
        chosen = None
        if info.primal_solution_status == 2:  # kSolutionStatusFeasible
            x = np.asarray(h.getSolution().col_value, float)[:len(cand)]
            chosen = x > 0.5
        bound = -float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else math.inf
        return st, chosen, bound

    def _extra_values(self, cand: _Candidates, x: np.ndarray) -> np.ndarray:
        """Values of the y, z and L columns that go with an assignment ``x`` (0/1 per pair)."""
        m = self.model
        out = []
        on = x > 0.5
        n_j = np.bincount(cand.j[on], minlength=m.m)
        if m.use_y:
            out.append((n_j > 0).astype(float))
        if m.use_z:
            out.append((np.bincount(cand.i[on], minlength=m.n) > 0).astype(float))
        if m.use_level:
            act = n_j[n_j > 0]
            out.append(np.array([float(act.min()) if len(act) else 0.0]))
        return np.concatenate(out) if out else np.zeros(0)

    def feasible(self, cand: _Candidates, on: np.ndarray) -> bool:
        if not on[cand.locked].all():
            return False
        if np.isin(self.lock_keys, cand.key[on]).sum() < len(self.lock_keys):
            return False
        return not self.model.check(cand.i, cand.j, cand.s, on)

    def value(self, cand: _Candidates, on: np.ndarray) -> float:
        if self.model.stage == "score":
            e = self.extra(cand.i[on], cand.j[on])
            return float(cand.s[on].sum() + (0.0 if e is None else e.sum()))
        return float(len(np.unique(cand.i[on])))


def repair(run: "_Run", cand: _Candidates, on: np.ndarray) -> np.ndarray | None:
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


def neighbourhood(run: "_Run", cand: _Candidates, x: np.ndarray) -> np.ndarray | None:
    """A feasible assignment near the relaxation: its whole pairs (``x = 1``) are fixed, and a
    MIP over the other mentees' candidate pairs (those the relaxation used, and each one's best
    few) chooses the rest, within a share of the time left. None when it finds nothing."""
    fixed = x > 1 - 1e-7
    if fixed.all() or not len(cand):
        return None
    demand = np.asarray(run.model.problem.demand)
    held = np.bincount(cand.i[fixed], minlength=run.model.n)
    free_mentee = held < demand
    open_pairs = free_mentee[cand.i] & ~fixed
    near = open_pairs & ((x > 1e-9) | top_k(np.where(open_pairs, cand.i, -1), np.where(open_pairs, cand.s, -np.inf),
                                            NEIGHBOURHOOD_PER_MENTEE))
    sel = fixed | near
    m = run.source.n_mentors
    sub = _Candidates(cand.i[sel], cand.j[sel], cand.s[sel], m,
                      np.union1d(run.lock_keys, cand.key[fixed]))
    st, chosen, _ = run.mip(sub, None, NEIGHBOURHOOD_SHARE * run.left())
    if chosen is None or not run.feasible(sub, chosen):
        return None
    return np.isin(cand.key, sub.key[chosen])


def _solve_stage(source, model, options, deadline, cert, label, lock_pairs, bonus, demand_max):
    """(candidates, chosen mask, objective in the stage's units, bound over every pair, proven)"""
    m = source.n_mentors
    li, lj = lock_pairs
    lock_keys = np.unique(np.asarray(li, np.int64) * m + np.asarray(lj, np.int64))
    run = _Run(source, model, options, deadline, lock_keys, bonus)
    k = max(FIRST_CANDIDATES, 2 * int(demand_max))
    cand = _Candidates(*source.best(k), m, lock_keys)
    if len(lock_keys):
        ls = _lock_scores(source, li, lj)
        cand.add(np.asarray(li, np.int64), np.asarray(lj, np.int64), ls)
    relaxed = run.relax(cand)
    if relaxed is None:
        raise InfeasibleError([Conflict(
            "constraints", "the linear relaxation over every eligible pair has no solution, so no "
            "assignment meets the constraints together", "relax the side constraints")])
    prices, U, x, keep, top = relaxed
    best, best_value, mip_bound, status = None, -math.inf, math.inf, "time"
    rounded = repair(run, cand, x > 1 - 1e-7)  # the relaxation rounded down, then repaired
    if rounded is not None:
        best, best_value = rounded, run.value(cand, rounded)
    # the relaxation's whole pairs kept, a small MIP settles the rest (RINS-like)
    fixed_fill = neighbourhood(run, cand, x)
    if fixed_fill is not None and run.value(cand, fixed_fill) > best_value:
        best, best_value = fixed_fill, run.value(cand, fixed_fill)
    outside = [np.concatenate([p[t] for p in keep]) if keep else np.zeros(0) for t in range(4)]
    bound_seen = U  # the best valid bound over every pair so far

    def outside_max():
        return max(float(outside[3].max()) if len(outside[3]) else -math.inf, run._floor)

    for attempt in range(4):
        if best is not None and len(cand) > MIP_MAX_COLUMNS:
            # HiGHS's branch-and-bound on this many columns overruns its time limit (47 s for a
            # 25 s limit on 86,000 at 3,000 x 1,500) without a better assignment: the
            # neighbourhood's assignment stands, with the relaxation's bound
            break
        start = None if best is None else best.astype(float)
        # the first MIP on the candidates gets a share of the time when outside pairs may
        # join later: their bound, not the candidates', often decides the gap
        share = FIRST_MIP_SHARE if attempt == 0 and len(outside[0]) else 1.0
        st, chosen, b = run.mip(cand, start, max(0.05, share * run.left()))
        if st == "infeasible" and best is None:
            if not len(outside[0]) and top == -math.inf:
                raise InfeasibleError([Conflict(
                    "constraints", "branch-and-bound proves that no assignment of the eligible "
                    "pairs meets the constraints together", "relax the side constraints")])
            # candidates alone cannot: every kept outside pair joins
            grow = cand.add(*(a.astype(np.int64) if t < 2 else a for t, a in enumerate(outside[:3])))
            if grow == 0:
                break
            outside = [a[:0] for a in outside]
            continue
        if chosen is not None and run.feasible(cand, chosen) and run.value(cand, chosen) > best_value - 1e-12:
            best, best_value = chosen, run.value(cand, chosen)
        mip_bound, status = b, st
        # candidates-only assignments are worth at most the MIP's bound, the others U + rc
        bound_seen = min(bound_seen, max(b, U + outside_max()))
        if best is None or not len(outside[0]) or run.left() < 1.0:
            break
        if (bound_seen - best_value) <= OPTIMAL_GAP * max(abs(bound_seen), 1e-12):
            break
        join = U + outside[3] > best_value + 1e-9  # could still beat the incumbent
        if not join.any() or join.sum() > JOIN_AT_MOST * len(cand):
            # joining nearly every pair makes the MIP the full model, measured slower than the
            # candidates' (500 x 150 with a budget: no better assignment in 20 s); the bound
            # then stays the relaxation's
            break
        old = len(cand)
        keep_best = cand.key[best]
        cand.add(outside[0][join].astype(np.int64), outside[1][join].astype(np.int64), outside[2][join])
        best = np.isin(cand.key, keep_best)
        outside = [a[~join] for a in outside]
        if len(cand) == old:
            break
    if best is None:
        empty = np.zeros(len(cand), bool)
        if run.feasible(cand, empty):
            best, best_value = empty, 0.0
        else:
            raise InfeasibleError(Conflict(
                "time_limit", f"the time limit passed before any assignment meeting the "
                f"constraints was found ({label}); none was proven impossible",
                "raise the time limit or relax the side constraints"))
    max_out = outside_max()
    bound = max(bound_seen, best_value)
    gap = (bound - best_value) / max(abs(bound), 1e-12)
    proven = gap <= OPTIMAL_GAP or bound - best_value <= 1e-9
    cert[label] = {"lagrangian_bound": U, "mip_status": status, "mip_bound": mip_bound,
                   "candidates": int(len(cand)), "pairs_priced": int(run.pairs_priced),
                   "pricing_rounds": run.rounds, "max_reduced_cost_outside": max_out,
                   "bound": bound}
    return cand, best, best_value, bound, proven


def _lock_scores(source, li, lj) -> np.ndarray:
    """Exact scores of the locked pairs, from the source's blocks."""
    want = np.asarray(li, np.int64) * source.n_mentors + np.asarray(lj, np.int64)
    out = np.full(len(want), np.nan)
    for i, j, s in source.blocks():
        key = i * source.n_mentors + j
        hit = np.isin(want, key)
        if hit.any():
            order = np.argsort(key)
            pos = np.searchsorted(key[order], want[hit])
            out[hit] = s[order][pos]
    return out


def solve_source(source, capacity, *, demand=None, load=None, locked=(None, None), side=None,
                 coverage_first: bool = False, bonus=None, options: SolverOptions | None = None):
    """The engine on any pair source: returns (problem over the final candidate pairs,
    Solution whose ``chosen`` index that problem's pairs). See the module docstring.

    ``bonus``: None, or a function ``(mentee, mentor) -> extra objective`` per pair (priority
    and continuity in rounds); the reported objective stays the plain score, the certificate
    holds the adjusted one."""
    from ..pairs import Candidates
    from .base import SideConstraints

    options = options or SolverOptions()
    started = time.perf_counter()
    limit = DEFAULT_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = started + limit
    n, m = source.n_mentees, source.n_mentors
    li = np.zeros(0, np.int64) if locked[0] is None else np.asarray(locked[0], np.int64)
    lj = np.zeros(0, np.int64) if locked[1] is None else np.asarray(locked[1], np.int64)
    shell = AssignmentProblem(Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), n, m),
                              np.zeros(0), capacity, demand=demand, load=load,
                              side=side or SideConstraints())
    cert: dict = {"method": "pricing + HiGHS MIP", "optimal_gap": OPTIMAL_GAP, "threads": 1,
                  "random_seed": int(options.seed), "source": type(source).__name__}
    proven_cover, at_least = True, None
    dmax = int(np.max(shell.demand, initial=1))
    if coverage_first:
        _, _, covered, _, proven_cover = _solve_stage(
            source, LinearModel(shell, stage="coverage"), options, deadline, cert, "coverage",
            (li, lj), None, dmax)
        at_least = int(round(covered))
        cert["matched"] = at_least
    cand, on, value, bound, proven = _solve_stage(
        source, LinearModel(shell, coverage_at_least=at_least), options, deadline, cert, "score",
        (li, lj), bonus, dmax)
    problem = AssignmentProblem(Candidates(cand.i, cand.j, n, m), cand.s, capacity, demand=demand,
                                load=load, locked=cand.locked, coverage_first=coverage_first,
                                side=side or SideConstraints())
    optimal = proven and proven_cover
    if bonus is not None:
        cert["objective"] = "score + bonus"
        cert["adjusted_objective"], cert["adjusted_bound"] = value, bound
        bound = None  # a bound on score + bonus says nothing about the plain score
    elif not proven_cover:
        bound = None  # the count was not proven maximal: no bound for the lexicographic goal
    message = "" if optimal else (
        f"stopped at the time limit ({limit:g} s) with a gap" if time.perf_counter() >= deadline
        else "the pricing rounds ended with a gap")
    sol = finish(problem, np.flatnonzero(on), "optimal" if optimal else "feasible", started, "mip",
                 bound=bound, certificate=cert, message=message)
    return problem, sol


def solve_mip(problem: AssignmentProblem, options: SolverOptions | None = None) -> Solution:
    """Maximise the total score under capacities, demands, locks and every side constraint, by
    pricing and an exact MIP on the candidates (see the module docstring).

    Parameters
    ----------
    problem : AssignmentProblem
    options : SolverOptions, optional
        ``seed``, ``time_limit`` in seconds (default 60, shared by the two stages of
        ``coverage_first``), ``progress`` (HiGHS's log).

    Returns
    -------
    Solution
        ``status`` ``"optimal"`` with a bound within ``OPTIMAL_GAP``, else ``"feasible"`` with
        ``bound`` and ``gap`` over every pair. ``certificate`` holds the Lagrangian bound, the
        MIP's status and bound, the candidate count and the pricing rounds of each stage.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers import SideConstraints
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([0.9, 0.5, 0.8, 0.1]),
    ...                       np.array([1.0, 1.0]),
    ...                       side=SideConstraints(budget=0.5, stipend_fixed=np.zeros(2),
    ...                                            stipend_per_mentee=np.array([1.0, 0.0])))
    >>> sol = solve_mip(p)  # mentor 0 costs 1 a mentee: over the budget of 0.5
    >>> sol.status, sol.chosen.tolist(), round(sol.objective, 3)
    ('optimal', [1], 0.5)
    """
    try:
        return _solve_problem(problem, options)
    except InfeasibleError as e:
        raise _infeasible(problem, options or SolverOptions(), e) from None


def _solve_problem(problem: AssignmentProblem, options: SolverOptions | None) -> Solution:
    P = problem.pairs
    source = ArraySource(P.mentee, P.mentor, problem.score, P.n_mentees, P.n_mentors)
    lk = np.flatnonzero(problem.locked)
    sub, sol = solve_source(source, problem.capacity, demand=problem.demand, load=problem.load,
                            locked=(P.mentee[lk], P.mentor[lk]), side=problem.side,
                            coverage_first=problem.coverage_first, options=options)
    # back to positions in the caller's pairs
    pos = P.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    import dataclasses

    return dataclasses.replace(sol, chosen=np.sort(pos))


def _blame(problem: AssignmentProblem, options: SolverOptions) -> list[Conflict]:
    """The constraint families whose removal alone makes the problem feasible."""
    import dataclasses

    from .base import SideConstraints

    present = [f for f in FAMILIES if f in problem.side.active()
               or (f == "locked" and np.any(problem.locked))]
    culprits = []
    off = {"min_load": {"min_load": None}, "budget": {"budget": None},
           "reservation": {"reservation": None}, "balanced_load": {"balanced_load": False},
           "score_floor": {"score_floor": None}, "share_floor": {"share_floor": None}}
    for family in present:
        if family == "locked":
            p = dataclasses.replace(problem, locked=np.zeros(len(problem.pairs), bool))
        else:
            p = dataclasses.replace(problem, side=dataclasses.replace(problem.side, **off[family]))
        try:
            _solve_problem(p, dataclasses.replace(options, time_limit=10.0))
            culprits.append(family)
        except InfeasibleError:
            pass
    if culprits:
        return [Conflict("+".join(culprits),
                         f"no assignment meets all of {', '.join(present)}; dropping any one of "
                         f"{', '.join(culprits)} alone would make one possible",
                         f"relax {' or '.join(culprits)}")]
    return [Conflict("+".join(present) or "capacity",
                     f"no assignment meets {', '.join(present) or 'the constraints'} together; "
                     "no single one of them is to blame", "relax two or more of them")]


def _infeasible(problem: AssignmentProblem, options: SolverOptions, cause: InfeasibleError) -> InfeasibleError:
    from .diagnose import diagnose

    if any(c.constraint == "time_limit" for c in cause.conflicts):
        return cause
    found = [c for c in diagnose(problem) if c.constraint != "no_candidate"]
    if not any(("cannot take part" not in c.detail) for c in found):
        found += _blame(problem, options)
    return InfeasibleError(found or cause.conflicts)


register("mip", solve_mip)
