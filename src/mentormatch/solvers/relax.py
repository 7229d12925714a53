"""Column generation on a pair source: the candidate set, the pricing of every pair of the
source against the dual prices of the relaxation (kept warm in HiGHS as columns join:
:class:`~mentormatch.solvers.warm_lp.WarmLP`), and HiGHS's MIP on the candidates (see
:mod:`mentormatch.solvers.engine` for the whole loop)."""
from __future__ import annotations

import math
import time

import numpy as np

from .base import SolverOptions
from .highs import OutOfTime, for_model, highs_instance, model_status, pass_model
from .linear import LinearModel
from .topk import top_k
from .warm_lp import WarmLP

#: Each mentee's best pairs that start the candidate set.
FIRST_CANDIDATES = 12
#: At most this many violators per mentee join the candidates in one pricing round.
ADD_PER_MENTEE = 6
#: Pricing rounds of one relaxation (a work limit: the same inputs stop at the same round on
#: any machine; the time limit is only the outer stop, see :meth:`Run.out_of_time`).
MAX_PRICING_ROUNDS = 50
#: The pricing also stops (an outer stop, recorded as the time limit's: ``Run.timed_out``) once
#: less than this share of the time the stage had is left, so that the MIP and the engine's
#: Lagrangian fallback still have time; a run whose pricing ends before never meets it.
PRICING_TIME_SHARE = 0.5
#: Pricing stops when the best bound is within this share of the candidates' relaxation.
RELAX_GAP = 1e-5
#: The MIP's own relative gap (a tenth of the engine's optimality gap).
MIP_GAP = 1e-7
#: Branch-and-bound nodes of one HiGHS MIP on the candidates (a work limit, status ``"limit"``
#: when reached; HiGHS is deterministic given its options, so the same inputs give the same
#: answer whatever the machine's load, unless the time limit stops it first).
MIP_MAX_NODES = 2_000
#: HiGHS's reported objective and its columns' value differ by more than this share: the
#: columns are stale (see :meth:`Run.mip`).
MIP_VALUE_TOL = 1e-7


class Candidates:
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


def _missing_join(source, cand: Candidates) -> bool:
    """Every eligible pair of ``source`` not yet a candidate joins ``cand``; True when any did.
    Asked before an infeasible relaxation counts as a proof over every pair: ``source.best``
    then returned no new pair, and it reads a bounds source through its bounds (bounds below
    the scores once hid the one eligible pair: ``tests/test_bounds_infeasible_scale.py``);
    ``blocks()`` without a screen yields every eligible pair."""
    miss = []
    for i, j, s in source.blocks():
        out = ~cand.contains(i, j)
        if out.any():
            miss.append((np.asarray(i, np.int64)[out], np.asarray(j, np.int64)[out],
                         np.asarray(s, np.float64)[out]))
    return bool(miss) and cand.add(*(np.concatenate([p[t] for p in miss]) for t in range(3))) > 0


class NoSolutionOnCandidates(Exception):
    """The relaxation has no solution on the candidate pairs alone (other pairs may give one)."""


#: Outside pairs kept from the last pricing pass, the best first, to join the candidates when
#: the MIP's incumbent shows they could improve it.
KEEP_OUTSIDE = 200_000


class Run:
    """One stage (coverage or score) of the engine on one source."""

    def __init__(self, source, model: LinearModel, options: SolverOptions, deadline: float,
                 lock_keys: np.ndarray, bonus=None):
        self.source, self.model, self.options, self.deadline = source, model, options, deadline
        self.lock_keys, self.bonus = lock_keys, bonus
        self.rounds = 0
        self.pairs_priced = 0
        self.stale_starts = 0  # MIP runs whose columns were the start's, not the optimum's
        self.mip_nodes = 0  # HiGHS's branch-and-bound nodes, over every MIP run
        self.lp: WarmLP | None = None  # kept: a branch re-solves from the last basis
        self.settled = False  # the last relax() ended with its pricing done
        self.floor = -math.inf  # and every outside pair it did not keep is at most this
        #: pricing stops once ``pairs_priced`` passes this (a node's share of the branching's
        #: work, :func:`mentormatch.solvers.branch.search`); None: only the round limit
        self.pricing_cap: int | None = None
        self.timed_out = False  # the time limit ended some part of the work (out_of_time)
        self.pass_seconds = 0.0  # the last pricing pass's (none starts that would end past the limit)
        self.reserve = (1.0 - PRICING_TIME_SHARE) * max(self.left(), 0.0)  # kept from pricing

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def out_of_time(self, margin: float = 0.0) -> bool:
        """True when less than ``margin`` seconds of the time limit are left (or none at all),
        and then recorded
        (``timed_out``): the time limit is the outer stop only; every other decision of the
        engine is taken on work counts (pricing rounds, pairs priced, nodes), so an answer
        reached within the limit is the same on any machine, and one the limit cut short says
        so (``"stopped at the time limit"``)."""
        left = self.left()
        if left < margin or left <= 0:
            self.timed_out = True
            return True
        return False

    def extra(self, i, j) -> np.ndarray | None:
        return None if self.bonus is None else self.bonus(i, j)

    def price(self, cand: Candidates, prices: np.ndarray):
        """One pass over every pair of the source: violators (the best few per mentee), the sum
        of positive reduced costs outside the candidates, their maximum, and the best outside
        pairs (for the certificate). No block starts past the caller's deadline
        (:class:`~mentormatch.solvers.highs.OutOfTime`: the pass gives no bound)."""
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
            if not self.left() > 0:  # (a pass at 3,000 x 1,500 took 3.8 s under load)
                raise OutOfTime
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

    def relax(self, cand: Candidates, grow_when_infeasible: bool = True,
              settle: float = RELAX_GAP):
        """Price until no outside pair has a positive reduced cost. Returns (prices, U, x on
        the candidates, the best outside pairs, the best outside reduced cost) or None when the
        relaxation over every pair is infeasible. When the candidates alone admit no solution,
        more of each mentee's best pairs join, up to every pair; without
        ``grow_when_infeasible``, :class:`NoSolutionOnCandidates` is raised instead. Pricing
        stops once the bound is within ``settle`` (a share) of the candidates' relaxation.
        No LP and no block of a pricing pass starts past the caller's deadline, and no pass
        after the first starts when the last one took longer than the time left: the best round
        priced so far is returned then (its time limit's, ``timed_out``), or
        :class:`~mentormatch.solvers.highs.OutOfTime` is raised when no round was priced."""
        grow = 4
        best = x_lp = None
        rounds = 0
        while True:
            left = self.left()
            if not left > 0:
                self.timed_out = True
                if best is None:
                    raise OutOfTime
                self.floor, self.settled = best[4], False
                return best[1], best[0], self.lp.on_candidates(cand, x_lp), best[2], best[3]
            self.rounds += 1
            rounds += 1
            if self.lp is None:
                self.lp = WarmLP(self, cand, left)
            else:
                self.lp.add(cand)
            lp = self.lp
            st = lp.run(left)
            if st == "infeasible":
                if not grow_when_infeasible:
                    raise NoSolutionOnCandidates
                before = len(cand)
                grow *= 4
                i, j, s = self.source.best(grow * FIRST_CANDIDATES)
                if cand.add(i, j, s) == 0 and before == len(cand):
                    if _missing_join(self.source, cand):
                        continue  # best() left out eligible pairs: they join, the LP runs again
                    if lp.confirm_infeasible():  # the simplex without presolve agrees
                        return None  # every eligible pair is a candidate: proven infeasible
                    # else HiGHS's presolve alone called it infeasible: go on from the solution
                else:
                    continue
            prices, x_lp = lp.solution()
            try:
                if self.left() < self.pass_seconds:
                    raise OutOfTime  # the last pass says this one would end past the limit
                t = time.perf_counter()
                viol, total, top, keep = self.price(cand, prices)
                self.pass_seconds = time.perf_counter() - t
            except OutOfTime:  # the deadline passed during the pass (or would): the best round
                self.timed_out = True
                if best is None:
                    raise
                self.floor, self.settled = best[4], False
                return best[1], best[0], lp.on_candidates(cand, x_lp), best[2], best[3]
            # every price vector >= 0 gives a valid bound: keep the best one seen (column
            # generation's prices swing from round to round)
            U = lp.bound(prices) + total
            if best is None or U < best[0]:
                best = (U, prices, keep, max(top, self._floor), self._floor)
            z = lp.value()
            settled = best[0] - z <= settle * max(abs(z), 1.0)
            capped = self.pricing_cap is not None and self.pairs_priced >= self.pricing_cap
            if (not viol or settled or rounds > MAX_PRICING_ROUNDS or capped
                    or self.out_of_time(self.reserve)):
                # every outside pair not kept is at most this, at the returned prices
                self.floor = best[4]
                self.settled = not viol or settled  # else stopped by its rounds or its time
                return best[1], best[0], lp.on_candidates(cand, x_lp), best[2], best[3]
            cand.add(*[np.concatenate([v[t] for v in viol]) for t in range(3)])

    def mip(self, cand: Candidates, start: np.ndarray | None, max_nodes: int = 0,
            presolve: bool = True):
        """HiGHS's MIP on the candidates from ``start`` (0/1 per candidate, or None): (status,
        chosen mask or None, bound), within ``max_nodes`` branch-and-bound nodes (a work limit;
        0: ``MIP_MAX_NODES``) and the time left (the outer stop; with none left, no run
        starts: ``("time", None, inf)``). HiGHS 1.16 may report the optimum's objective while
        handing back the start's columns (its presolve maps the start into the reduced space,
        finds a better point there, and returns the original start: 5 x 3 with fractional
        loads, 4.325 returned for 5.625 reported); when the columns' value is not the
        reported one, the MIP runs again without the start, whose columns are then its own.
        ``presolve=False``: HiGHS's presolve off (asked before an "infeasible" becomes a proof:
        the presolve may call infeasible a model that holds a point within the rows' tolerance,
        :func:`~mentormatch.solvers.highs.without_presolve`)."""
        # free aggregate rows are implied by the assignment rows: left out of the MIP
        free = self.model.aggregated and self.model.branch.free
        A, obj, lo, hi, integer, rhs = self.model.matrix(
            cand.i, cand.j, cand.s, cand.locked, extra=self.extra(cand.i, cand.j),
            with_aggregate=not free)
        max_nodes = max_nodes or MIP_MAX_NODES
        out = self._highs_mip(cand, A, obj, lo, hi, integer, rhs, start, max_nodes, presolve)
        if out[1] is not None and start is not None and not self.out_of_time(0.05):
            x, reported = out[3], out[4]
            if abs(float(obj @ x) - reported) > MIP_VALUE_TOL * max(1.0, abs(reported)):
                self.stale_starts += 1
                again = self._highs_mip(cand, A, obj, lo, hi, integer, rhs, None, max_nodes,
                                        presolve)
                if again[1] is not None:
                    out = again
        return out[:3]

    def _highs_mip(self, cand, A, obj, lo, hi, integer, rhs, start, max_nodes, presolve=True):
        """One HiGHS MIP run: (status, chosen or None, bound, column values, reported value)."""
        # HiGHS may overrun its limit by a tenth on large models: keep a margin; no run starts
        # past the caller's deadline (status "time", nothing found, no bound)
        left = self.left()
        if not left > 0:
            self.timed_out = True
            return "time", None, math.inf, None, math.nan
        level = None if start is None else float(obj[:len(cand)] @ start)
        h = highs_instance(self.options, 0.9 * left, MIP_GAP, unscaled=for_model(self.model),
                           level=level)
        h.setOptionValue("mip_max_nodes", int(max_nodes))
        if not presolve:
            h.setOptionValue("presolve", "off")
        pass_model(h, A, obj, lo, hi, integer, rhs, mip=True)
        if start is not None:
            import highspy

            val = np.zeros(A.shape[1])
            val[:len(cand)] = start
            val[len(cand):] = self._extra_values(cand, start)[:A.shape[1] - len(cand)]
            sol = highspy.HighsSolution()
            sol.col_value = val.tolist()
            sol.value_valid = True
            h.setSolution(sol)
        h.run()
        st = model_status(h, rhs)
        info = h.getInfo()
        self.mip_nodes += int(info.mip_node_count)
        if st == "time":
            self.timed_out = True
        chosen, x, reported = None, None, math.nan
        if info.primal_solution_status == 2:  # kSolutionStatusFeasible
            x = np.asarray(h.getSolution().col_value, float)
            chosen = x[:len(cand)] > 0.5
            reported = -float(info.objective_function_value)
        bound = -float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else math.inf
        return st, chosen, bound, x, reported

    def _extra_values(self, cand: Candidates, x: np.ndarray) -> np.ndarray:
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
        if m.aggregated:
            # the slacks that make the aggregate rows hold (zero inside the rows' bounds)
            a, p = float((n_j > 0).sum()) if m.use_y else 0.0, float(on.sum())
            hi_a, neg_lo_a, hi_p, neg_lo_p = m.rhs[m.row_slice("aggregate")]
            out.append(np.array([max(0.0, a - hi_a), max(0.0, -a - neg_lo_a),
                                 max(0.0, p - hi_p), max(0.0, -p - neg_lo_p)]))
        return np.concatenate(out) if out else np.zeros(0)

    def feasible(self, cand: Candidates, on: np.ndarray) -> bool:
        if not on[cand.locked].all():
            return False
        if np.isin(self.lock_keys, cand.key[on]).sum() < len(self.lock_keys):
            return False
        return not self.model.check(cand.i, cand.j, cand.s, on)

    def value(self, cand: Candidates, on: np.ndarray) -> float:
        if self.model.stage == "score":
            e = self.extra(cand.i[on], cand.j[on])
            return float(cand.s[on].sum() + (0.0 if e is None else e.sum()))
        return float(len(np.unique(cand.i[on])))
