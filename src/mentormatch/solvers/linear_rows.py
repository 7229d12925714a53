"""The terms of :class:`~mentormatch.solvers.linear.LinearModel` beside its pair columns (the
model itself is stated once, in :mod:`mentormatch.solvers.linear`): the success link of the
reservation rows, the budget row's right-hand side, a branch-and-bound node's restrictions, the
``y``, ``z``, ``L`` and ``e`` columns, and the check of an assignment against every row family,
recomputed from the definitions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .base import AssignmentProblem, SideConstraints

__all__ = ["Branch", "budget_rounded", "success_probability", "mentor_payoffs", "extra_columns",
           "violations", "most_mentees", "ROW_TOL", "floor_scales", "mentee_best"]


def success_probability(score: np.ndarray, side: SideConstraints) -> np.ndarray:
    """The documented link from a pair's score to its probability of success (see
    :mod:`mentormatch.solvers.linear`)."""
    scale = side.success_scale if side.success_scale and side.success_scale > 0 else 1.0
    return np.clip(np.asarray(score, dtype=np.float64) / scale, 0.0, 1.0)


def mentor_payoffs(side: SideConstraints, mentor: np.ndarray, score: np.ndarray, m: int) -> np.ndarray:
    """Each mentor's expected payoff from the pairs ``(mentor, score)`` (plain scores): fixed
    stipend + stipend per mentee x its mentees + bonus x the sum of its pairs' success
    probabilities (:mod:`mentormatch.solvers.linear`'s reservation rows)."""
    def per_mentor(x):
        return np.zeros(m) if x is None else np.asarray(x, float)

    n_j = np.bincount(mentor, minlength=m)
    return (per_mentor(side.stipend_fixed) + per_mentor(side.stipend_per_mentee) * n_j
            + per_mentor(side.bonus) * np.bincount(mentor, weights=success_probability(score, side), minlength=m))


def budget_rounded(budget: float, per: np.ndarray, fixed: np.ndarray) -> float:
    """The budget rounded down to what whole stipends can spend: when every stipend is a
    multiple of ``g`` (in cents), no assignment spends more than ``floor(budget / g) * g``. The
    same integer assignments meet it, and the relaxation gets much tighter (a Chvatal-Gomory
    rounding): at 500 x 150 with stipends of 500 + 250 a mentee it closed most of the gap.

    >>> budget_rounded(143200.0, np.array([250.0, 250.0]), np.array([500.0, 0.0]))
    143000.0
    """
    cents = np.round(np.concatenate([per, fixed]) * 100)
    if not np.allclose(cents / 100, np.concatenate([per, fixed]), atol=1e-9) or budget < 0:
        return budget
    nz = np.abs(cents[cents != 0]).astype(np.int64)
    if not len(nz):
        return budget
    g = int(np.gcd.reduce(nz))
    return math.floor(budget * 100 / g + 1e-9) * g / 100


@dataclass(frozen=True)
class Branch:
    """The restrictions of a branch-and-bound node (:mod:`mentormatch.solvers.branch`): bounds
    on the number of active mentors and the number of pairs (``None``: free), the mentors fixed
    inactive (``off``) or active (``on``), the pairs fixed out (``pairs_out``) or in
    (``pairs_in``, keys ``mentee * n_mentors + mentor``, candidates only), and the objective's
    charge per unit of each aggregate row's elastic slack. ``Branch()`` restricts nothing: the
    root."""

    active_lo: float | None = None
    active_hi: float | None = None
    pairs_lo: float | None = None
    pairs_hi: float | None = None
    off: tuple = ()
    on: tuple = ()
    pairs_out: tuple = ()
    pairs_in: tuple = ()
    penalty: float = 1.0

    def pair_bounds(self, keys: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        """The bounds of the pair columns ``keys`` in this node, from their root bounds."""
        lower, upper = np.array(lower, float), np.array(upper, float)
        if self.pairs_in:
            lower[np.isin(keys, np.asarray(self.pairs_in, np.int64))] = 1.0
        if self.pairs_out:
            upper[np.isin(keys, np.asarray(self.pairs_out, np.int64))] = 0.0
        return lower, upper

    @property
    def free(self) -> bool:
        return self == Branch(penalty=self.penalty)


def extra_columns(model) -> tuple[dict, tuple]:
    """The y, z, L and e columns of ``model`` (a :class:`~mentormatch.solvers.linear.LinearModel`
    whose rows are laid out): where each kind starts (``None`` when absent), and (matrix rows x
    columns, objective, lower, upper, integer)."""
    cols, rows, vals, obj, lo, hi, integer = [], [], [], [], [], [], []
    at = 0
    m, n = model.m, model.n
    starts: dict = {"y": None, "z": None, "level": None, "slack": None}
    if model.use_y:
        starts["y"] = at
        jj = np.arange(m)
        cols.append(at + jj); rows.append(model.rows["capacity"].start + jj)
        vals.append(-np.asarray(model.problem.capacity, float))
        if len(model.min_rows):
            cols.append(at + model.min_rows); rows.append(model.rows["min_load"].start + np.arange(len(model.min_rows)))
            vals.append(model.min_load[model.min_rows])
        if model.budget:
            on = np.flatnonzero(model.fixed != 0)
            cols.append(at + on); rows.append(np.full(len(on), model.rows["budget"].start))
            vals.append(model.fixed[on])
        if len(model.res_rows):
            cols.append(at + model.res_rows)
            rows.append(model.rows["reservation"].start + np.arange(len(model.res_rows)))
            vals.append(model.res_need[model.res_rows])
        if model.balanced:
            cols += [at + jj, at + jj]
            rows += [model.rows["balanced_hi"].start + jj, model.rows["balanced_lo"].start + jj]
            vals += [np.full(m, model.top), np.full(m, model.top)]
        if model.aggregated:
            cols += [at + jj, at + jj]
            rows += [np.full(m, model.rows["aggregate"].start),
                     np.full(m, model.rows["aggregate"].start + 1)]
            vals += [np.ones(m), -np.ones(m)]
        obj.append(np.zeros(m)); lo.append(np.zeros(m)); hi.append(np.ones(m))
        integer.append(np.ones(m, bool))
        at += m
    if model.use_z:
        starts["z"] = at
        ii = np.arange(n)
        cols.append(at + ii); rows.append(model.rows["link"].start + ii); vals.append(np.ones(n))
        g = model.group
        if model.share:
            on = np.flatnonzero(g >= 0)
            cols.append(at + on); rows.append(model.rows["share_floor"].start + model.gpos[g[on]])
            vals.append(-np.ones(len(on)))
        if model.coverage_rows:
            cols.append(at + ii); rows.append(np.full(n, model.rows["coverage"].start))
            vals.append(-np.ones(n))
        obj.append(np.ones(n) if model.stage == "coverage" else np.zeros(n))
        lo.append(np.zeros(n)); hi.append(np.ones(n)); integer.append(np.zeros(n, bool))
        at += n
    if model.use_level:
        starts["level"] = at
        cols += [np.full(m, at), np.full(m, at)]
        rows += [np.arange(model.rows["balanced_hi"].start, model.rows["balanced_hi"].start + m),
                 np.arange(model.rows["balanced_lo"].start, model.rows["balanced_lo"].start + m)]
        vals += [-np.ones(m), np.ones(m)]
        obj.append(np.zeros(1)); lo.append(np.zeros(1)); hi.append(np.array([model.top - 1]))
        integer.append(np.ones(1, bool))
        at += 1
    if model.aggregated:
        starts["slack"] = at
        cols.append(at + np.arange(4))
        rows.append(model.rows["aggregate"].start + np.arange(4))
        vals.append(-np.ones(4))
        obj.append(-np.ones(4)); lo.append(np.zeros(4))
        hi.append(np.array([model.most_active, model.most_active, model.most_pairs,
                            model.most_pairs]))
        integer.append(np.zeros(4, bool))
        at += 4
    cat = (lambda parts, dt=float: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))
    matrix = sp.csc_matrix((cat(vals), (cat(rows, np.int64), cat(cols, np.int64))),
                           shape=(model.n_rows, at))
    return starts, (matrix, cat(obj), cat(lo), cat(hi), cat(integer, bool))


#: The one feasibility tolerance of a row, in the check of an assignment (:func:`violations`),
#: in brute force (:mod:`mentormatch.testing.brute`) and in HiGHS
#: (``primal_feasibility_tolerance``, :func:`mentormatch.solvers.highs.highs_instance`): a row of
#: :class:`~mentormatch.solvers.linear.LinearModel`, ``sum_k a_k v_k <= b`` in the model's own
#: units (loads, counts, money, scores), holds at an assignment when it exceeds ``b`` by at most
#: ``ROW_TOL``, HiGHS's own test on its rows. The score floor's row, whose terms grow with the
#: round and shrink with the scores, ``(alpha |g| - N [k in g]) s_k``, is stated in the model
#: divided by its scale (:func:`floor_scales`: the largest term it can have over every pair of
#: the problem, fixed by each mentee's best score), so it is held to ``ROW_TOL x`` that scale:
#: a rule that does not change when every score is multiplied by the same factor. HiGHS runs
#: a model with score floors without scaling its rows itself (:func:`mentormatch.solvers.highs.
#: for_model`), so that it holds the row as the check does (it had scaled it up by about 1e8
#: when every score was near 1e-8, by about 1e4 beside scores near 1). Before session 18 the
#: row was held to ``ROW_TOL x max(1, its largest term at the assignment)``: a scale the
#: assignment chose, not the problem. An assignment the check passes may exceed the row by
#: ``ROW_TOL``: the model's floor rows read ``<= ROW_TOL``, so the Lagrangian bound and HiGHS's
#: MIP bound hold it (a MIP on rows ``<= 0`` called optimal assignments 0.3e-8 to 1.1e-8 below
#: ones the check passes, ``tests/test_floor_scale.py``).
ROW_TOL = 1e-7


def mentee_best(mentee, score, n: int) -> np.ndarray:
    """Each of ``n`` mentees' best score over the pairs ``(mentee[k], score[k])``; ``-inf`` for
    a mentee with none.

    >>> mentee_best(np.array([0, 0, 2]), np.array([0.5, 0.9, -0.2]), 3).tolist()
    [0.9, -inf, -0.2]
    """
    best = np.full(int(n), -np.inf)
    if len(mentee):
        np.maximum.at(best, np.asarray(mentee, np.int64), np.asarray(score, float))
    return best


def floor_scales(best: np.ndarray, own: np.ndarray, sizes: np.ndarray, alpha: float) -> np.ndarray:
    """The scale of each score floor row ``q``, ``sum_k (alpha |g_q| - N [mentee of k in g_q])
    s_k x_k <= 0``: the largest ``|term|`` it can have, ``max_i |alpha |g_q| - N [i in g_q]| x
    |best_i|``, with ``best_i`` mentee ``i``'s best score over every pair of the problem (0 for
    a mentee with none) and ``own`` each mentee's group position (-1: none). Fixed by the
    problem, never by a candidate set or an assignment: the engine's candidates start from each
    mentee's best pairs (a source's ``best``), so its model, the check and brute force over the
    complete set find the same scale. 1 where every term is 0 (the row then reads ``0 <= 0``).

    >>> floor_scales(np.array([2.0, 1e-8, 3e-8, -np.inf]), np.array([0, 1, 1, -1]),
    ...              np.array([1, 2]), 1.0).tolist()   # N = 4: 3 x 2.0; max(2 x 2.0, 2 x 3e-8)
    [6.0, 4.0]
    """
    best = np.asarray(best, float)
    a = np.where(np.isfinite(best), np.abs(best), 0.0)
    own = np.asarray(own, np.int64)
    G, N = len(sizes), len(a)
    gmax = np.zeros(G + 1)  # position G: the mentees of no group
    np.maximum.at(gmax, np.where(own >= 0, own, G), a)
    top = np.argsort(-gmax[:G], kind="stable")[:2]
    out = np.full(G, gmax[G])  # the best |score| outside each group
    if G > 1:
        first, second = gmax[top[0]], gmax[top[1]]
        out = np.maximum(out, np.where(np.arange(G) == top[0], second, first))
    c = alpha * np.asarray(sizes, float)
    scale = np.maximum(c * out, np.abs(c - N) * gmax[:G])
    return np.where(scale > 0, scale, 1.0)


def violations(model, i, j, s) -> list[str]:
    """The row families that the pairs ``(i[k], j[k])`` of scores ``s[k]`` violate in ``model``,
    recomputed from the definitions (not from the matrix), each row of the model held to
    :data:`ROW_TOL`."""
    p, side = model.problem, model.side
    bad = []
    n_j = np.bincount(j, minlength=model.m).astype(float)
    act = n_j > 0
    load_j = np.bincount(j, weights=np.asarray(p.load, float)[i], minlength=model.m)
    cap = np.asarray(p.capacity, float)
    if np.any(load_j - cap > ROW_TOL):
        bad.append("capacity")
    if np.any(np.bincount(i, minlength=model.n) > np.asarray(p.demand) + 1e-9):
        bad.append("mentee")
    if np.any(act & (n_j < model.min_load - 1e-9)):
        bad.append("min_load")
    if model.budget and float(model.fixed[act].sum() + model.per[j].sum()) - float(side.budget) > ROW_TOL:
        bad.append("budget")
    if len(model.res_rows):
        earn = model.per * n_j + np.bincount(j, weights=model.bonus[j] * success_probability(s, side),
                                             minlength=model.m)
        if np.any(act & (model.res_need - earn > ROW_TOL)):
            bad.append("reservation")
    if model.balanced and act.any() and n_j[act].max() - n_j[act].min() > 1:
        bad.append("balanced_load")
    matched = np.bincount(i, minlength=model.n) > 0
    if model.coverage_rows and matched.sum() < -model.rhs[model.row_slice("coverage")][0] - 1e-9:
        # the second stage of coverage_first: at least the first stage's count matched (an
        # assignment rounded down from the relaxation can lose mentees under fractional loads)
        bad.append("coverage")
    if model.share:
        got = np.bincount(model.gpos[model.group[matched & (model.group >= 0)]],
                          minlength=len(model.groups))
        if np.any(got < -model.rhs[model.row_slice("share_floor")] - 1e-9):
            bad.append("share_floor")
    if model.score_floor:
        # the model's row, divided by its scale (floor_scales): sum_k (alpha |g| - N [mentee of
        # k in g]) s_k / S_g <= 0, for each group
        alpha, N = float(side.score_floor), float(model.n)
        g = model.group[i]
        own = np.where(g >= 0, model.gpos[np.maximum(g, 0)], -1)
        s = np.asarray(s, float)
        for q in range(len(model.groups)):
            coef = s * (alpha * model.sizes[q] - N * (own == q))
            if coef.sum() / model.floor_scale[q] > ROW_TOL:
                bad.append("score_floor")
                break
    return bad


def most_mentees(problem: AssignmentProblem) -> np.ndarray:
    """The most mentees each mentor can take: ``floor(capacity / lightest load)``, at most the
    number of mentees (all of them when a load is 0). A count, not a load: with loads below 1 a
    mentor of capacity 2 can take 4 mentees of load 0.5.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(5, 2), np.ones(10), np.array([2.0, 1.0]),
    ...                       load=np.array([0.5, 0.5, 1.0, 1.0, 2.0]))
    >>> most_mentees(p).tolist()
    [4, 2]
    """
    n = problem.n_mentees
    load = np.asarray(problem.load, float)
    light = float(load.min(initial=1.0))
    cap = np.asarray(problem.capacity, float)
    if light <= 0:
        return np.full(len(cap), n, np.int64)
    return np.minimum(np.floor(cap / light + 1e-9), n).astype(np.int64)
