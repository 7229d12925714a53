"""The bounds checker's guard with one floor a row, for :class:`.check._Certifier` when its
pool has no mentor groups (with groups: :mod:`.groupcheck`): which pairs outside the pools a
check re-checks, and the pools moved to what it read.

Each row's pool belongs to a generation, whose prices ``p_gen`` ranked it, and a pair outside
the pool has ``bound - p_gen[j] <= floor_i``, so ``bound - p_j - u_i <= floor_i + (p_gen[j] -
p_j) - u_i``: cleared when ``p_gen[j] - p_j <= D`` and ``floor_i + D <= u_i + threshold`` (the
guard, less the pool's float32 error):

- the mentors with ``p_gen[j] - p_j > D`` are re-checked on every row of the generation, and
  the rows the guard misses are scanned in full, which takes their pools afresh under ``p``
  (their suspects are read from those pools: :func:`.recheck._pool_suspects`);
- a mentor re-check moves its rows to a new generation: ``p_gen`` with the re-checked mentors'
  prices set to ``p``, and ``floor_i`` raised to the row's largest ``bound - p_j`` over those
  mentors outside the pool (the pool pairs among them are checked from the pool), so that the
  next check re-checks only the mentors whose price fell since.

``D`` is chosen per band of a generation's rows by room, up to ``ROOM_BANDS`` bands, to make
the re-check cheapest (:func:`.recheck._bands`; one cut, :func:`.recheck._split`, once the
generations are many): a band's rows have at least its ``D`` of room, so the pairs outside the
band's mentors are cleared by the guard.
"""
from __future__ import annotations

import numpy as np

from ..keys import member
from .passes import _scan
from .rank import _nonzero
from .recheck import ROOM_BANDS, _bands, _pool_suspects, _split

#: ... while the pools' generations (each band makes one) stay at most this many; beyond,
#: one cut (:func:`.recheck._split`).
MAX_GENERATIONS = 64


def floor_check(cert, u, p, threshold: float, ex_i, ex_j, ex_code):
    """The one-floor guard of ``cert`` (a :class:`.check._Certifier` whose pool has no groups)
    under the frame's ``u`` (less its rounding) and ``p``: the rows scanned in full and the
    mentor re-checks (module docstring), their suspects. Returns (rows scanned in full,
    suspects' rows, mentors, crowded rows), lists of arrays."""
    sc, pool = cert.scorer, cert.pool
    m = sc.m
    live = np.isfinite(u)
    # the guard, per generation of pools
    fail, checks = [], []
    used, pool.gen = np.unique(pool.gen, return_inverse=True)  # the generations still in use
    pool.prices = [pool.prices[g] for g in used]
    gens = np.unique(pool.gen[live]).tolist()
    most = ROOM_BANDS if len(gens) * (ROOM_BANDS + 1) <= MAX_GENERATIONS else 1
    for g in gens:
        rows = np.flatnonzero((pool.gen == g) & live)
        delta = np.where(np.isfinite(p), pool.prices[g] - np.where(np.isfinite(p), p, 0.0), -np.inf)
        room = u[rows] + threshold - pool.floor[rows].astype(np.float64) - cert.err[rows]
        # the rows scanned in full: one cut's (their pools taken afresh; scanned in full
        # by the cheapest bands instead, at 200,000 x 40,000 the rounds took 5, not 3)
        cut, _, _ = _split(delta, room, m)
        fail.append(rows[room < cut])
        rows, room = rows[room >= cut], room[room >= cut]
        if most == 1 or not len(rows):
            cols = np.flatnonzero(delta > cut)
            if len(cols) and len(rows):
                checks.append((rows, cols, g))
            continue
        order, _, bands = _bands(delta, room, m, most, full=False)
        for a, b, low in bands:  # the other rows by bands of room
            cols = np.flatnonzero(delta > low)
            if len(cols):
                checks.append((np.sort(rows[order[a:b]]), cols, g))
    fail = np.sort(np.concatenate(fail)) if fail else np.zeros(0, np.int64)
    found_i, found_j, crowded = [], [], []
    # rows scanned in full (their pools taken afresh under p)
    if len(fail):
        view = sc.subset(rows=fail)
        f = _scan(view, fail, None, p, excl_i=cert.li, excl_j=cert.lj, pool_size=pool.cols.shape[1],
                  progress=cert.progress, what="certificate: rows the pools miss")
        c, v, fl = f.pool
        si, sj, sc_crowded = _pool_suspects(fail, c, v, fl, u[fail] + threshold, ex_code, m)
        pool.cols[fail], pool.vals[fail], pool.floor[fail] = c, v, fl
        cert.err[fail] = cert._pool_err(pool.vals[fail], pool.floor[fail])
        pool.gen[fail] = len(pool.prices)
        pool.prices.append(p.copy())
        found_i.append(si), found_j.append(sj), crowded.append(sc_crowded)
        cert.rows_rescanned += len(fail)
        cert.bound_pairs += len(fail) * m
    # mentors whose price fell, on every other row of the generation; their pool pairs are
    # checked with the pools, and the largest value of the others moves the rows to a new
    # generation: the old prices but these mentors' new ones, and a floor that covers them
    # (so that the next round re-checks only the mentors whose price fell since)
    for rows, cols, g in checks:
        rows = rows[~member(rows, fail)]
        if not len(rows):
            continue
        in_cols = np.zeros(m, bool)
        in_cols[cols] = True
        pc = pool.cols[rows]
        hit = in_cols[pc]
        pr, pk = _nonzero(hit)
        view = sc.subset(rows=rows, cols=cols)
        f = _scan(view, rows, cols, p[cols], excl_i=np.concatenate([cert.li, rows[pr]]),
                  excl_j=np.concatenate([cert.lj, pc[pr, pk]]), chosen_i=ex_i, chosen_j=ex_j,
                  pool_size=1, u=u[rows], threshold=threshold, progress=cert.progress,
                  what="certificate: mentors whose price fell")
        found_i.append(f.i), found_j.append(f.j), crowded.append(f.crowded)
        cert.pairs_rechecked += len(rows) * len(cols)
        cert.bound_pairs += len(rows) * len(cols)
        q = pool.prices[g].copy()
        q[cols] = p[cols]
        with np.errstate(invalid="ignore"):
            pool.vals[rows] = np.where(hit, pool.vals[rows] + (pool.prices[g] - q)[pc], pool.vals[rows])
        pool.floor[rows] = np.maximum(pool.floor[rows], f.pool[1][:, 0])
        cert.err[rows] = np.maximum(cert.err[rows], cert._pool_err(f.pool[1][:, :1], f.pool[1][:, 0]))
        pool.gen[rows] = len(pool.prices)
        pool.prices.append(q)
    return fail, found_i, found_j, crowded
