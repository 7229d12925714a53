"""The side-constrained assignment as one linear model, stated once: what the MIP solves, what
the dual prices are priced against, and what the bound is computed from.

Maximisation; every row is ``a . x <= b``, so every dual price is ``>= 0``. Columns:

* ``x[k]`` per candidate pair ``k = (i, j)`` (in ``[0, 1]``, ``= 1`` when locked; integer);
* ``y[j]`` per mentor, 1 when the mentor takes part (only when a constraint needs it: a fixed
  stipend under a budget, a minimum load, a reservation value, balanced loads; integer);
* ``z[i]`` per mentee, at most 1 and at most its number of pairs: "matched" (only for share
  floors or ``coverage_first`` with mentees who need several mentors; continuous);
* ``L``, the shared level of balanced loads (integer);
* ``e[0..3]``, the elastic slacks of the aggregate rows (only under a budget; continuous).

Rows (``n_j = sum_{k: mentor j} x[k]``; ``p[k] = success(score[k])``)::

    mentee       sum_{k: mentee i} x[k] <= demand[i]
    capacity     sum_{k: mentor j} load[i] x[k] - capacity[j] y[j] <= 0    (<= capacity[j] without y)
    min_load     min_load[j] y[j] - n_j <= 0
    budget       sum_j fixed[j] y[j] + sum_k per_mentee[j] x[k] <= budget
    reservation  (reservation[j] - fixed[j]) y[j] - sum_{k: mentor j} (per_mentee[j] + bonus[j] p[k]) x[k] <= 0
                 i.e. an active mentor's expected payoff, fixed + per_mentee x n_j + bonus x the
                 sum of its pairs' success probabilities, is at least its reservation value
    balanced     n_j - L + M y[j] <= 1 + M   and   L - n_j + M y[j] <= M
                 (n_j and L count mentees; M = 1 + the most mentees a mentor can take, see
                 :func:`.linear_rows.most_mentees`: its capacity over the lightest load, at most n)
    link         z[i] - sum_{k: mentee i} x[k] <= 0
    share_floor  - sum_{i in g} matched[i] <= - ceil(beta |g|)     (matched = z, or the pairs' sum)
    score_floor  sum_k (alpha |g| - N [mentee of k in g]) score[k] x[k] / S_g <= ROW_TOL
                 (S_g: the row's scale, the largest term it can have over every pair of the
                 problem, from each mentee's best score: :func:`.linear_rows.floor_scales`;
                 ROW_TOL: the check's, so the MIP's bound and the Lagrangian's hold every
                 assignment it passes; rows of terms near 1e-8 are met only within it)
    coverage     - sum_i matched[i] <= - best            (the second stage of coverage_first)
    aggregate    sum_j y[j] - e0 <= active_hi,  - sum_j y[j] - e1 <= - active_lo,
                 sum_k x[k] - e2 <= pairs_hi,   - sum_k x[k] - e3 <= - pairs_lo
                 (under a budget; the objective charges ``penalty`` per unit of each e)

**Aggregate rows** bound the number of active mentors and the number of pairs, two whole
numbers in every assignment. At the root they are free (``Branch()``: ``0 <= . <= their
most``), and the MIP leaves them out; :mod:`mentormatch.solvers.branch` tightens them to split
the relaxation on a fractional count (``sum y <= 108`` or ``>= 109``): every assignment lies on
one side. Their slacks keep each side's relaxation feasible whatever the candidates, so its
prices always exist; a side with no assignment pays ``penalty`` per unit of slack in its bound
instead of being unsolvable. A node (:class:`Branch`, :meth:`LinearModel.set_branch`) may also fix
mentors' ``y`` and candidate pairs' ``x``: they enter the bound below at their fixed values.

The success probability of a pair is ``p = clip(score / success_scale, 0, 1)``: the pair's score
as a share of the best score a pair can have (``SideConstraints.success_scale``, the sum of the
programme's weights in ``pair()``). This is the documented default link; a programme that has
recorded outcomes can calibrate it.

**The bound over every pair.** For any prices ``pi >= 0`` on these rows, the Lagrangian bound::

    U(pi) = b . pi + sum over columns of max(0, rc) * upper + min(0, rc) * lower,
    rc    = objective - a . pi          (the reduced cost of the column)

is at least the value of every feasible assignment, whatever pairs it uses: pairs that are not
candidates contribute ``max(0, rc)``. :meth:`LinearModel.pair_reduced_costs` prices any pairs,
so the engine can compute ``U`` over all pairs of any source, block by block.

The pair columns' entries and reduced costs are in :mod:`mentormatch.solvers.linear_pairs`; the
terms beside them (the success link, the budget's rounding, :class:`Branch`, the ``y``, ``z``,
``L`` and ``e`` columns, the check of an assignment) in :mod:`mentormatch.solvers.linear_rows`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import linear_pairs
from .base import AssignmentProblem
from .linear_rows import (ROW_TOL, Branch, budget_rounded, extra_columns, floor_scales,
                          mentee_best, most_mentees, success_probability, violations)

__all__ = ["LinearModel", "Branch", "success_probability", "FAMILIES"]


#: Constraint families that can be relaxed one at a time to find which ones conflict.
FAMILIES = ("locked", "min_load", "budget", "reservation", "balanced_load", "score_floor",
            "share_floor")


@dataclass
class _Rows:
    start: int
    count: int


class LinearModel:
    """The rows and the non-pair columns of a problem's linear model; pair columns are made on
    demand for any pairs (:meth:`pair_entries`), so one model serves every candidate set.

    Parameters
    ----------
    problem : AssignmentProblem
        Capacities, demands, loads and side constraints (its pairs are not used here).
    stage : "score" or "coverage"
        The objective: the total score, or the number of matched mentees.
    coverage_at_least : int, optional
        Adds the coverage row (the second stage of ``coverage_first``).
    skip : frozenset of str
        Constraint families left out (to find which ones conflict).
    best : array, optional
        Each mentee's best score over every pair, the scale of the score floor rows (default:
        over ``problem``'s pairs; the engine's, with none, calls :meth:`set_floor_scale`).
    """

    def __init__(self, problem: AssignmentProblem, stage: str = "score",
                 coverage_at_least: int | None = None, skip: frozenset = frozenset(),
                 best: np.ndarray | None = None):
        side = problem.side
        self.problem, self.side, self.stage, self.skip = problem, side, stage, skip
        n, m = problem.n_mentees, problem.n_mentors
        self.n, self.m = n, m
        active = set(side.active()) - set(skip)
        self.fixed = (np.asarray(side.stipend_fixed, float) if side.stipend_fixed is not None
                      else np.zeros(m))
        self.per = (np.asarray(side.stipend_per_mentee, float) if side.stipend_per_mentee is not None
                    else np.zeros(m))
        self.min_load = (np.ceil(np.asarray(side.min_load, float) - 1e-9)
                         if "min_load" in active else np.zeros(m))
        bonus = np.asarray(side.bonus, float) if side.bonus is not None else np.zeros(m)
        self.bonus = bonus
        self.budget = "budget" in active
        res = (np.asarray(side.reservation, float) - self.fixed if "reservation" in active
               else np.zeros(m))
        self.res_need = np.where(res > 1e-12, res, 0.0)  # what the variable part must earn
        self.balanced = "balanced_load" in active
        group = np.asarray(side.group) if side.group is not None else np.full(n, -1)
        self.group = group
        self.groups = np.unique(group[group >= 0])
        self.gpos = np.full(int(group.max(initial=-1)) + 1, -1, np.int64)
        self.gpos[self.groups] = np.arange(len(self.groups))
        self.share = side.share_floor is not None and "share_floor" in active and len(self.groups)
        self.score_floor = (side.score_floor is not None and "score_floor" in active
                            and len(self.groups))
        demand = np.asarray(problem.demand, float)
        self.coverage_rows = coverage_at_least is not None
        self.use_z = bool((self.share or stage == "coverage" or self.coverage_rows)
                          and np.any(demand > 1))
        self.use_y = bool((self.budget and np.any(self.fixed > 0)) or np.any(self.min_load > 0)
                          or np.any(self.res_need > 0) or self.balanced)
        self.use_level = self.balanced
        # balanced loads count mentees, not load: M = the most mentees a mentor can take, plus 1
        # (capacity / the lightest load, at most n; capacity itself was wrong with loads < 1)
        self.top = float(most_mentees(problem).max(initial=0)) + 1.0

        # row blocks, in this order
        blocks, at = {}, 0

        def block(name, count):
            nonlocal at
            blocks[name] = _Rows(at, int(count))
            at += int(count)

        self.min_rows = np.flatnonzero(self.min_load > 0)
        self.res_rows = np.flatnonzero(self.res_need > 0)
        self.min_pos = np.full(m, -1, np.int64)
        self.min_pos[self.min_rows] = np.arange(len(self.min_rows))
        self.res_pos = np.full(m, -1, np.int64)
        self.res_pos[self.res_rows] = np.arange(len(self.res_rows))
        block("mentee", n)
        block("capacity", m)
        block("min_load", len(self.min_rows))
        block("budget", 1 if self.budget else 0)
        block("reservation", len(self.res_rows))
        block("balanced_hi", m if self.balanced else 0)
        block("balanced_lo", m if self.balanced else 0)
        block("link", n if self.use_z else 0)
        block("share_floor", len(self.groups) if self.share else 0)
        block("score_floor", len(self.groups) if self.score_floor else 0)
        block("coverage", 1 if self.coverage_rows else 0)
        self.aggregated = bool(self.budget)
        block("aggregate", 4 if self.aggregated else 0)
        self.rows, self.n_rows = blocks, at
        self.most_active, self.most_pairs = float(m), float(demand.sum())

        rhs = np.zeros(at)
        rhs[self.row_slice("mentee")] = demand
        rhs[self.row_slice("capacity")] = 0.0 if self.use_y else np.asarray(problem.capacity, float)
        if self.budget:
            rhs[self.row_slice("budget")] = budget_rounded(float(side.budget), self.per, self.fixed)
        if self.balanced:
            rhs[self.row_slice("balanced_hi")] = 1.0 + self.top
            rhs[self.row_slice("balanced_lo")] = self.top
        if self.share:
            sizes = np.bincount(group[group >= 0], minlength=len(self.gpos))[self.groups]
            rhs[self.row_slice("share_floor")] = -np.ceil(float(side.share_floor) * sizes - 1e-9)
        if self.coverage_rows:
            rhs[self.row_slice("coverage")] = -float(coverage_at_least)
        rhs[self.row_slice("score_floor")] = ROW_TOL  # the check's rows (the module docstring)
        self.rhs = rhs
        self.sizes = np.bincount(group[group >= 0], minlength=len(self.gpos))[self.groups]
        self.floor_scale = np.ones(len(self.groups))
        if self.score_floor:
            P = problem.pairs
            self.set_floor_scale(mentee_best(P.mentee, problem.score, n) if best is None else best)
        self.branch = Branch()
        starts, self._extra = extra_columns(self)  # the y, z, L and e columns
        self.y_at, self.z_at, self.level_at, self.slack_at = (starts[k] for k in
                                                              ("y", "z", "level", "slack"))
        self.n_extra = self._extra[0].shape[1]
        if self.aggregated:
            self.set_branch(self.branch)

    def set_branch(self, b: Branch) -> None:
        """Restrict the model to a branch-and-bound node: the aggregate rows' right-hand sides,
        the slacks' charge, the bounds of the ``y`` columns here, those of the pairs in
        :meth:`matrix` (``aggregated`` models only)."""
        lo_a = 0.0 if b.active_lo is None else float(b.active_lo)
        hi_a = self.most_active if b.active_hi is None else float(b.active_hi)
        lo_p = 0.0 if b.pairs_lo is None else float(b.pairs_lo)
        hi_p = self.most_pairs if b.pairs_hi is None else float(b.pairs_hi)
        self.rhs[self.row_slice("aggregate")] = [hi_a, -lo_a, hi_p, -lo_p]
        _, obj, lo, hi, _ = self._extra
        obj[self.slack_at:self.slack_at + 4] = -float(b.penalty)
        if self.use_y:
            y = slice(self.y_at, self.y_at + self.m)
            lo[y], hi[y] = 0.0, 1.0
            lo[self.y_at + np.asarray(b.on, np.int64)] = 1.0
            hi[self.y_at + np.asarray(b.off, np.int64)] = 0.0
        elif b.on or b.off:
            raise ValueError("mentors are fixed active or inactive only in a model with y columns")
        self.branch = b

    def set_floor_scale(self, best: np.ndarray) -> None:
        """The score floor rows' scale from each mentee's best score over every pair
        (:func:`.linear_rows.floor_scales`)."""
        if self.score_floor:
            own = np.where(self.group >= 0, self.gpos[np.maximum(self.group, 0)], -1)
            self.floor_scale = floor_scales(best, own, self.sizes, float(self.side.score_floor))

    def row_slice(self, name: str) -> slice:
        """The rows of family ``name`` (a key of ``rows``)."""
        b = self.rows[name]
        return slice(b.start, b.start + b.count)

    # ---------------------------------------------------------------------------------------
    # the pair columns (linear_pairs; the others: linear_rows.extra_columns)
    # ---------------------------------------------------------------------------------------
    @property
    def monotone(self) -> bool:
        """True when a pair's reduced cost can only grow with its score (no score floor), so an
        upper bound on the score bounds the reduced cost."""
        return not self.score_floor

    def pair_entries(self, mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray,
                     extra: np.ndarray | None = None):
        """The non-zeros of the pair columns and their objective
        (:func:`.linear_pairs.pair_entries`)."""
        return linear_pairs.pair_entries(self, mentee, mentor, score, extra)

    # ---------------------------------------------------------------------------------------
    # the model on a candidate set, and prices
    # ---------------------------------------------------------------------------------------
    def matrix(self, mentee, mentor, score, locked, extra=None, with_aggregate: bool = True):
        """(A, objective, lower, upper, integer, rhs) over the candidate pairs then the extra
        columns, ready for a solver. With activity columns ``y``, each candidate pair also gets
        the row ``x[k] - y[j] <= 0``: redundant for whole numbers, it makes the relaxation
        charge a fixed stipend in full (the classic strengthening of fixed-charge models).

        ``with_aggregate=False`` leaves out the aggregate rows and their slacks, which only a
        free :class:`Branch` allows (a dense row over every pair slowed HiGHS's
        branch-and-bound at 500 x 150 from under a second to its time limit)."""
        (c, r, v), obj = self.pair_entries(mentee, mentor, score, extra)
        K = len(mentee)
        A_pairs = sp.csc_matrix((v, (r, c)), shape=(self.n_rows, K))
        A_extra, eobj, elo, ehi, eint = self._extra
        A = sp.hstack([A_pairs, A_extra], format="csc")
        rhs = self.rhs.copy()
        if self.use_y and K:
            k = np.arange(K)
            link = sp.csc_matrix((np.concatenate([np.ones(K), -np.ones(K)]),
                                  (np.concatenate([k, k]),
                                   np.concatenate([k, K + self.y_at + np.asarray(mentor, np.int64)]))),
                                 shape=(K, A.shape[1]))
            A = sp.vstack([A, link], format="csc")
            rhs = np.concatenate([rhs, np.zeros(K)])
        lo_x, hi_x = self.branch.pair_bounds(np.asarray(mentee, np.int64) * self.m
                                             + np.asarray(mentor, np.int64),
                                             np.asarray(locked, float), np.ones(K))
        lower = np.concatenate([lo_x, elo])
        upper = np.concatenate([hi_x, ehi])
        integer = np.concatenate([np.ones(K, bool), eint])
        objective = np.concatenate([obj, eobj])
        if self.aggregated and not with_aggregate:
            if not self.branch.free:
                raise ValueError("the model is restricted to a node: its rows cannot be left out")
            rows = np.ones(A.shape[0], bool)
            rows[self.row_slice("aggregate")] = False
            cols = np.ones(A.shape[1], bool)
            cols[K + self.slack_at:K + self.slack_at + 4] = False
            A = A[np.flatnonzero(rows)][:, np.flatnonzero(cols)].tocsc()
            rhs, objective, lower, upper, integer = (rhs[rows], objective[cols], lower[cols],
                                                      upper[cols], integer[cols])
        return A, objective, lower, upper, integer, rhs

    def candidate_bound(self, A, objective, lower, upper, rhs, prices) -> float:
        """The candidate model's part of the Lagrangian bound: ``rhs . prices`` (the floor
        rows' ``ROW_TOL`` included) plus each column's ``max(0, rc) * upper + min(0, rc) *
        lower``."""
        rc = objective - A.T @ prices
        return float(rhs @ prices + np.sum(np.where(rc > 0, rc * upper, rc * lower)))

    def pair_reduced_costs(self, mentee, mentor, score, prices: np.ndarray, extra=None) -> np.ndarray:
        """``objective - a . prices`` for any pairs, term by term
        (:func:`.linear_pairs.pair_reduced_costs`)."""
        return linear_pairs.pair_reduced_costs(self, mentee, mentor, score, prices, extra)

    def pair_reduced_costs_by_matrix(self, mentee, mentor, score, prices, extra=None) -> np.ndarray:
        """The same, from the matrix entries (the reference for the test)."""
        (c, r, v), obj = self.pair_entries(mentee, mentor, score, extra)
        return obj - np.bincount(c, weights=v * prices[r], minlength=len(mentee))

    def check(self, mentee, mentor, score, chosen_mask) -> list[str]:
        """The families violated by an assignment (recomputed from the definitions)."""
        return violations(self, mentee[chosen_mask], mentor[chosen_mask], score[chosen_mask])
