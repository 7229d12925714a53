"""The certificate's check of :mod:`mentormatch.solvers.dense` on a dense score matrix (its
:class:`~mentormatch.solvers.dense.passes.Walk`): every pair of positive reduced gain
``s - u - p``, from only the cells that can violate (:func:`check_above_low`) or by a pass over
every pair in memory order (:func:`check_pass`, or fused with its caller's filter and integer
gains in C: :func:`check_face`)."""
from __future__ import annotations

import numpy as np

from ..._native import assign_kernel
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


def _above_low(walk: Walk, u, p, low, cap: np.ndarray, floor: float):
    """The mentees by ``low - u`` (descending), the open mentors, and per open mentor how many
    of those mentees have ``low_i - u_i > p_j + floor``: the cells outside the pairs worked on
    that may pass the check (:func:`check_above_low`)."""
    with np.errstate(invalid="ignore"):
        d = low - u
    d = np.where(np.isnan(d), -np.inf, d)  # no room (u = inf): nothing to check
    order = np.argsort(-d, kind="stable")
    neg = -d[order]  # ascending
    open_j = np.flatnonzero(np.isfinite(p) & (cap > 0))
    count = np.searchsorted(neg, -(p[open_j] + floor), side="left")  # mentees with d > p_j + floor
    return order, open_j, count


def check_above_low(walk: Walk, u, p, low, i, j, s, chosen, cap: np.ndarray, floor: float = 0.0):
    """:func:`check_pass` without the pass: every pair outside the ones worked on (``i, j, s``)
    scores at most ``low`` of its mentee (see :func:`~mentormatch.solvers.dense.candidates.above`), so its reduced gain is at most
    ``(low_i - u_i) - p_j``, and only the cells where that is positive can violate: mentees
    sorted by ``low - u``, each open mentor gets the prefix above its price. The pairs worked
    on and not chosen are checked as they are. None when those cells are too many (more than
    ``CHECK_SHARE`` of the matrix): then the pass is cheaper.

    At 10,000 x 2,500 (capacity 4, uniform scores), about 4,400 cells instead of 25 million.
    Exact in floating point: ``s <= low`` gives ``fl(s - u) <= fl(low - u)``. With ``floor``
    (below 0), the pairs with ``s - u - p > floor``: those that may be tight too. Returned as
    :func:`check_pass` returns them (pairs, reduced gains, scores)."""
    n, m = walk.n, walk.m
    order, open_j, count = _above_low(walk, u, p, low, cap, floor)
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


def check_face(walk: Walk, u: np.ndarray, p: np.ndarray, low: np.ndarray, cap: np.ndarray,
               floor: float, tol: float, worked: tuple, d: tuple, scale: float):
    """:func:`check_pass`, its caller's filter, :func:`~mentormatch.solvers.ties.integer_gain`
    and :func:`~mentormatch.solvers.dense.held.with_tight` in one compiled pass over the matrix
    (:func:`mentormatch._native.assign.face_tight`, which states the operations: the same
    cells, reduced gains and pairs to the bit). ``worked``: the pairs worked on ``(i, j, s,
    chosen)``, sorted by (mentee, mentor); ``d``: integer potentials per mentee and per mentor.

    Returns ``(eps, violators, joined)``: the largest reduced gain of the pairs checked (0 when
    none); the violators ``(i, j, r)``, those of ``r > tol`` or, when there are none, those of
    positive integer gain (as the numpy steps find them); and, when there are none of either,
    the pairs worked on with the tight ones joined ``(i, j, s, chosen, joined)``, else None.
    None when the kernel is not built (or older), or a score times ``scale`` is not an int64:
    then the numpy steps (the same answers).

    On scores in few levels every top-level cell is on the optimal face: 5,000 x 1,250 in 4
    levels, 1.5 million tight pairs, where the numpy steps made a temporary of that size per
    operation (the pass's cells, their scores and prices, the filter, the gains, the join's
    mask over every cell and its gathers): 26-33 ms against 78-81 (1,000 x 250: 0.9 against
    2.1; s33, least of 5 and 30 calls)."""
    kernel = assign_kernel()
    rows = walk.rows
    if kernel is None or getattr(kernel, "FACE_CHECK_VERSION", 0) < 1 or walk.values.ndim != 2:
        return None
    if rows.forbid is None and rows.keys is not None and len(rows.keys):
        return None
    has = rows.forbid is not None
    forbid = rows.forbid.view(np.uint8) if has else np.zeros((1, 1), np.uint8)
    wi, wj, ws, wc = worked
    # room for the merged pairs: the pairs worked on, and the cells outside them that can pass
    # (they score at most ``low``: :func:`check_above_low`'s count); past it, the numpy steps
    room = len(wi) + int(_above_low(walk, u, p, low, cap, floor)[2].sum()) + walk.n + 1024
    out = (np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room), np.empty(room, bool))
    c64 = np.ascontiguousarray
    size, eps, float_bad, int_bad = kernel.face_tight(
        walk.values, forbid, has, walk.by_mentor, c64(u, np.float64), c64(p, np.float64),
        float(floor), float(tol), c64(d[0], np.int64), c64(d[1], np.int64), float(scale),
        c64(wi, np.int64), c64(wj, np.int64), c64(ws, np.float64), c64(wc).view(np.uint8),
        out[0], out[1], out[2], out[3].view(np.uint8))
    if size < 0:
        return None
    if len(float_bad[0]):
        return eps, float_bad, None
    if len(int_bad[0]):
        return eps, int_bad, None
    i, j, s, chosen = (x[:size] for x in out)
    return eps, int_bad, (i, j, s, chosen, size - len(wi))
