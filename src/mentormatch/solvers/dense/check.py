"""The certificate's check of :mod:`mentormatch.solvers.dense` on a dense score matrix (its
:class:`~mentormatch.solvers.dense.passes.Walk`): every pair of positive reduced gain
``s - u - p``, from only the cells that can violate (:func:`check_above_low`) or by a pass over
every pair in memory order (:func:`check_pass`)."""
from __future__ import annotations

import numpy as np

from .passes import Walk

#: The check gathers single cells (:func:`check_above_low`) while they are at most this share
#: of the matrix; a gathered cell costs about what ten cells of a pass in memory order do.
CHECK_SHARE = 1 / 16


def check_pass(walk: Walk, u: np.ndarray, p: np.ndarray, floor: float = 0.0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair with ``s - u - p > floor`` (forbidden and chosen ones included; the caller
    filters), that reduced gain and the score, in one pass in memory order. ``floor`` below 0
    (a fraction of a quantum) also finds the pairs that may be tight, for the tie rule."""
    u0 = u
    if floor:
        u = u + floor  # s - (u + floor) - p > 0; the gain itself is recomputed below
    parts = []
    size = walk.step * walk.lines.shape[1]
    buf, flag = np.empty(size), np.empty(size, dtype=bool)
    for a, b in walk.blocks():  # two operations per element: s - (price of the line) > other price
        blk = walk.lines[a:b]
        r = buf[:blk.size].reshape(blk.shape)
        out = flag[:blk.size].reshape(blk.shape)
        if walk.by_mentor:
            np.subtract(blk, p[a:b, None], out=r)
            np.greater(r, u, out=out)
        else:
            np.subtract(blk, u[a:b, None], out=r)
            np.greater(r, p, out=out)
        flat = np.flatnonzero(out)
        if len(flat):
            parts.append(walk.pairs(a, flat))
    if not parts:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0), np.zeros(0)
    i = np.concatenate([q[0] for q in parts])
    j = np.concatenate([q[1] for q in parts])
    s = walk.at(i, j)
    r = s - u0[i] - p[j]  # the reduced gain, in the order of the docstring
    keep = r > floor
    if keep.all():  # (the usual case: the pass's own test rarely rounds the other way)
        return i, j, r, s
    return i[keep], j[keep], r[keep], s[keep]


def check_above_low(walk: Walk, u, p, low, i, j, s, chosen, cap: np.ndarray, floor: float = 0.0):
    """:func:`check_pass` without the pass: every pair outside the ones worked on (``i, j, s``)
    scores at most ``low`` of its mentee (see :func:`~mentormatch.solvers.dense.passes.above`), so its reduced gain is at most
    ``(low_i - u_i) - p_j``, and only the cells where that is positive can violate: mentees
    sorted by ``low - u``, each open mentor gets the prefix above its price. The pairs worked
    on and not chosen are checked as they are. None when those cells are too many (more than
    ``CHECK_SHARE`` of the matrix): then the pass is cheaper.

    At 10,000 x 2,500 (capacity 4, uniform scores), about 4,400 cells instead of 25 million.
    Exact in floating point: ``s <= low`` gives ``fl(s - u) <= fl(low - u)``. With ``floor``
    (below 0), the pairs with ``s - u - p > floor``: those that may be tight too. Returned as
    :func:`check_pass` returns them (pairs, reduced gains, scores)."""
    n, m = walk.n, walk.m
    with np.errstate(invalid="ignore"):
        d = low - u
    d = np.where(np.isnan(d), -np.inf, d)  # no room (u = inf): nothing to check
    order = np.argsort(-d, kind="stable")
    neg = -d[order]  # ascending
    open_j = np.flatnonzero(np.isfinite(p) & (cap > 0))
    count = np.searchsorted(neg, -(p[open_j] + floor), side="left")  # mentees with d > p_j + floor
    total = int(count.sum())
    if total > CHECK_SHARE * n * m:
        return None
    cj = np.repeat(open_j, count)
    first = np.repeat(np.cumsum(count) - count, count)
    ci = order[np.arange(total) - first]
    cs = walk.at(ci, cj)
    r = cs - u[ci] - p[cj]
    free = ~chosen
    rs = s[free] - u[i[free]] - p[j[free]]
    ci, cj, r, cs = (np.concatenate([ci, i[free]]), np.concatenate([cj, j[free]]),
                     np.concatenate([r, rs]), np.concatenate([cs, s[free]]))
    keep = r > floor
    return ci[keep], cj[keep], r[keep], cs[keep]
