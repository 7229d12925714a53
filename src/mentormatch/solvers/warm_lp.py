"""The relaxation on the candidate pairs kept warm in one HiGHS instance while column generation
adds pairs (:class:`WarmLP`): each pricing round of :class:`~mentormatch.solvers.relax.Run`
re-solves from the last basis instead of from scratch, and a branch-and-bound node of
:mod:`mentormatch.solvers.branch` from the last node's."""
from __future__ import annotations

import numpy as np

from .highs import (OutOfTime, for_model, highs_instance, model_status, pass_model,
                    without_presolve)

__all__ = ["WarmLP"]

class WarmLP:
    """The relaxation on the candidates (a :class:`~mentormatch.solvers.relax.Candidates`, for
    a :class:`~mentormatch.solvers.relax.Run`), kept in one HiGHS instance while pricing adds
    columns: each round re-solves from the last basis instead of from scratch. Its pair
    columns are in the order they joined (``keys``); the y/z/L columns sit after the first
    ones, and each pair's linking row (when there are y columns) is added with it."""

    def __init__(self, run, cand, time_left: float):
        self.run_, self.model = run, run.model
        self.i, self.j, self.s, self.locked = cand.i.copy(), cand.j.copy(), cand.s.copy(), cand.locked.copy()
        self.keys = cand.key.copy()
        A, obj, lo, hi, integer, rhs = run.model.matrix(self.i, self.j, self.s, self.locked,
                                                        extra=run.extra(self.i, self.j))
        self.first = len(self.i)
        self.n_extra = A.shape[1] - self.first
        # an LP: the gap is unused
        self.h = highs_instance(run.options, time_left, unscaled=for_model(run.model))
        pass_model(self.h, A, obj, lo, hi, integer, rhs, mip=False)
        self._fixed = np.zeros(0, np.int64)  # pairs whose bounds a node set (sync_branch)

    def _col(self, k: np.ndarray) -> np.ndarray:
        """LP column of the k-th pair (in joining order)."""
        return np.where(k < self.first, k, k + self.n_extra)

    def add(self, cand):
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
        """The LP solved within ``time_left`` seconds (> 0, else :class:`OutOfTime`, recorded
        as the time limit's: no run starts past the caller's deadline)."""
        if not time_left > 0:
            self.run_.timed_out = True
            raise OutOfTime
        self.h.setOptionValue("time_limit", float(time_left))
        self.h.run()
        st = model_status(self.h, self.model.rhs)
        if st == "time":
            self.run_.timed_out = True
        return st

    def confirm_infeasible(self) -> bool:
        """Whether the last run's "infeasible" stands without HiGHS's presolve, asked before it
        counts as a proof (:func:`~mentormatch.solvers.highs.without_presolve`); when not, the
        solution that run found is the LP's. :class:`OutOfTime` when no time is left for it."""
        left = self.run_.left()
        if not left > 0:
            self.run_.timed_out = True
            raise OutOfTime
        st = without_presolve(self.h, self.model.rhs, left)
        if st == "time":
            self.run_.timed_out = True
        return st == "infeasible"

    def solution(self):
        sol = self.h.getSolution()
        prices = np.maximum(0.0, -np.asarray(sol.row_dual, float))
        col = np.asarray(sol.col_value, float)
        x = col[self._col(np.arange(len(self.keys)))]
        self._x = x
        self.extra_x = col[self.first:self.first + self.n_extra]  # the y, z, L, e columns
        return prices, x

    def sync_branch(self):
        """Push the model's node restrictions (aggregate rows' right-hand sides, slack charges,
        ``y`` bounds) to HiGHS, keeping the basis: a node re-solves from the last one's."""
        import highspy

        model = self.model
        rows = np.arange(model.rows["aggregate"].start, model.rows["aggregate"].start + 4,
                         dtype=np.int32)
        self.h.changeRowsBounds(4, rows, np.full(4, -highspy.kHighsInf), model.rhs[rows])
        _, obj, lo, hi, _ = model._extra
        cols = np.arange(model.slack_at, model.slack_at + 4)
        self.h.changeColsCost(4, (self.first + cols).astype(np.int32), -obj[cols])
        if model.use_y:
            cols = np.arange(model.y_at, model.y_at + model.m)
            self.h.changeColsBounds(len(cols), (self.first + cols).astype(np.int32), lo[cols],
                                    hi[cols])
        # the pairs fixed in the last node or in this one, back to their bounds in this one
        b = model.branch
        keys = np.union1d(self._fixed, np.asarray(b.pairs_in + b.pairs_out, np.int64))
        self._fixed = np.asarray(b.pairs_in + b.pairs_out, np.int64)
        if len(keys):
            order = np.argsort(self.keys)
            pos = order[np.searchsorted(self.keys[order], keys)]
            low, up = b.pair_bounds(keys, self.locked[pos].astype(float), np.ones(len(keys)))
            self.h.changeColsBounds(len(keys), self._col(pos).astype(np.int32), low, up)

    def sums(self) -> tuple[float, float]:
        """(active mentors, pairs) of the last solution: the aggregates a branch splits."""
        y = (float(self.extra_x[self.model.y_at:self.model.y_at + self.model.m].sum())
             if self.model.use_y else 0.0)
        return y, float(self._x.sum())

    def value(self) -> float:
        if self.model.stage != "score":  # coverage: the matched count, HiGHS's own objective
            return -float(self.h.getInfo().objective_function_value)
        extra = self.run_.extra(self.i, self.j)
        return float((self.s if extra is None else self.s + extra) @ self._x)

    def bound(self, prices: np.ndarray) -> float:
        A, obj, lo, hi, integer, rhs = self.model.matrix(self.i, self.j, self.s, self.locked,
                                                         extra=self.run_.extra(self.i, self.j))
        return self.model.candidate_bound(A, obj, lo, hi, rhs, prices)

    def on_candidates(self, cand, x: np.ndarray) -> np.ndarray:
        """``x`` (per LP pair column) on ``cand``'s pairs; a candidate that joined after the
        solve reads 0 (the same LP point)."""
        order = np.argsort(self.keys)
        sk = self.keys[order]
        pos = np.minimum(np.searchsorted(sk, cand.key), max(len(sk) - 1, 0))
        hit = sk[pos] == cand.key if len(sk) else np.zeros(len(cand.key), bool)
        return np.where(hit, x[order[pos]] if len(sk) else 0.0, 0.0)
