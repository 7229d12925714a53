"""The pair columns of :class:`~mentormatch.solvers.linear.LinearModel` (the model itself is
stated once, in :mod:`mentormatch.solvers.linear`): their non-zeros and objective for any pairs
(:func:`pair_entries`: what the LP and the MIP on the candidates are built from), and their
reduced costs against any prices, term by term (:func:`pair_reduced_costs`: what every pair of
a source is priced with, block by block, without building a matrix).
"""
from __future__ import annotations

import numpy as np

from .linear_rows import success_probability

__all__ = ["pair_entries", "pair_reduced_costs"]


def pair_entries(model, mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray,
                 extra: np.ndarray | None = None):
    """The non-zeros of ``model``'s pair columns ``(mentee[k], mentor[k])``: (column k, row,
    value) arrays, and each column's objective (plus ``extra``, a bonus in the objective only)."""
    i = np.asarray(mentee, np.int64)
    j = np.asarray(mentor, np.int64)
    s = np.asarray(score, np.float64)
    K = len(i)
    k = np.arange(K, dtype=np.int64)
    cols, rows, vals = [k, k], [model.rows["mentee"].start + i, model.rows["capacity"].start + j], \
        [np.ones(K), np.asarray(model.problem.load, float)[i]]
    if len(model.min_rows):
        on = model.min_pos[j] >= 0
        cols.append(k[on]); rows.append(model.rows["min_load"].start + model.min_pos[j[on]])
        vals.append(np.full(int(on.sum()), -1.0))
    if model.budget:
        on = model.per[j] != 0
        cols.append(k[on]); rows.append(np.full(int(on.sum()), model.rows["budget"].start))
        vals.append(model.per[j[on]])
    if len(model.res_rows):
        on = model.res_pos[j] >= 0
        jj = j[on]
        cols.append(k[on]); rows.append(model.rows["reservation"].start + model.res_pos[jj])
        vals.append(-(model.per[jj] + model.bonus[jj] * success_probability(s[on], model.side)))
    if model.balanced:
        cols += [k, k]
        rows += [model.rows["balanced_hi"].start + j, model.rows["balanced_lo"].start + j]
        vals += [np.ones(K), -np.ones(K)]
    g = model.group[i]
    if model.use_z:
        cols.append(k); rows.append(model.rows["link"].start + i); vals.append(-np.ones(K))
    else:
        if model.share:
            on = g >= 0
            cols.append(k[on]); rows.append(model.rows["share_floor"].start + model.gpos[g[on]])
            vals.append(-np.ones(int(on.sum())))
        if model.coverage_rows:
            cols.append(k); rows.append(np.full(K, model.rows["coverage"].start))
            vals.append(-np.ones(K))
    if model.aggregated:
        at = model.rows["aggregate"].start
        cols += [k, k]
        rows += [np.full(K, at + 2), np.full(K, at + 3)]
        vals += [np.ones(K), -np.ones(K)]
    if model.score_floor:
        alpha, N = float(model.side.score_floor), float(model.n)
        G = len(model.groups)
        own = np.where(g >= 0, model.gpos[np.maximum(g, 0)], -1)
        for q in range(G):
            coef = s * (alpha * model.sizes[q] - N * (own == q)) / model.floor_scale[q]
            on = coef != 0
            cols.append(k[on]); rows.append(np.full(int(on.sum()), model.rows["score_floor"].start + q))
            vals.append(coef[on])
    objective = s.copy() if model.stage == "score" else (
        np.zeros(K) if model.use_z else np.ones(K))
    if extra is not None and model.stage == "score":
        objective = objective + extra
    return (np.concatenate(cols), np.concatenate(rows), np.concatenate(vals)), objective


def pair_reduced_costs(model, mentee, mentor, score, prices: np.ndarray, extra=None) -> np.ndarray:
    """``objective - a . prices`` for any pairs: the rows of :func:`pair_entries`, term by
    term, without building the matrix (a test holds the two equal:
    :meth:`~mentormatch.solvers.linear.LinearModel.pair_reduced_costs_by_matrix`)."""
    i = np.asarray(mentee, np.int64)
    j = np.asarray(mentor, np.int64)
    s = np.asarray(score, np.float64)
    R = model.rows
    rc = s.copy() if model.stage == "score" else (np.zeros(len(s)) if model.use_z else np.ones(len(s)))
    if extra is not None and model.stage == "score":
        rc += extra
    rc -= prices[R["mentee"].start + i]
    rc -= np.asarray(model.problem.load, float)[i] * prices[R["capacity"].start + j]
    if len(model.min_rows):
        pm = np.zeros(model.m)
        pm[model.min_rows] = prices[model.row_slice("min_load")]
        rc += pm[j]
    if model.budget:
        rc -= model.per[j] * prices[R["budget"].start]
    if len(model.res_rows):
        pr = np.zeros(model.m)
        pr[model.res_rows] = prices[model.row_slice("reservation")]
        rc += pr[j] * (model.per[j] + model.bonus[j] * success_probability(s, model.side))
    if model.balanced:
        rc -= prices[R["balanced_hi"].start + j] - prices[R["balanced_lo"].start + j]
    if model.aggregated:
        at = R["aggregate"].start
        rc -= prices[at + 2] - prices[at + 3]
    g = model.group[i]
    if model.use_z:
        rc += prices[R["link"].start + i]
    else:
        if model.share:
            ps = np.zeros(len(model.gpos) + 1)
            ps[model.groups] = prices[model.row_slice("share_floor")]
            rc += np.where(g >= 0, ps[np.maximum(g, 0)], 0.0)
        if model.coverage_rows:
            rc += prices[R["coverage"].start]
    if model.score_floor:
        pf = prices[model.row_slice("score_floor")] / model.floor_scale
        alpha, N = float(model.side.score_floor), float(model.n)
        own = np.zeros(len(model.gpos) + 1)
        own[model.groups] = pf
        rc -= s * (alpha * float(pf @ model.sizes) - N * np.where(g >= 0, own[np.maximum(g, 0)], 0.0))
    return rc
