"""The bounds checker's guard with floors per (row, mentor group) (:mod:`.groups`), for
:class:`.check._Certifier` when its pool has groups: which pairs outside the pools a check
re-checks, and the pools and floors moved to the check's prices.

The pools hold one generation, the prices ``q`` of the last check (the first pass's at first),
and per row and group ``k`` the floor ``F_ik >= bound_ij - q_j`` over the group's mentors
outside the pool. Under new prices ``p`` (``delta_j = q_j - p_j``), a pair outside the pool has
``bound_ij - p_j <= F_ik + delta_j``, so the cell (row, group) is cleared by the guard when
``F_ik + max_k delta <= u_i + threshold`` (less the pool's float32 error). Per group, one cut
``c_k`` (:func:`.recheck._split` on the group's falls and its failing cells' room): the cells
with less room than ``c_k`` re-check all the group's mentors, the other failing ones the group's
mentors with ``delta_j > c_k``; a row whose cells would cost at least :data:`FULL_ROW_SHARE` of a row is
scanned in full instead (its pool and floors taken afresh under ``p``). Then every pool moves to
``p``: the values by ``delta``; a group's floor to the re-check's largest value where the whole
group was read, ``max(F_ik + max delta over the mentors not read, re-check's largest)`` where
some were, else ``F_ik + max_k delta``. So the next check starts from this one's prices with
floors that held under them. (A single generation: the per-row generations of the one-floor
guard would multiply by groups.)

Why: the first flow's prices differ from the sub-market's that ranked the pools by about one
shift per city (s27h4); one floor a row cannot absorb that, a floor per city can.

The re-checks (102 at the top level's check of its adjusted first prices at 100,000 x 20,000,
44.9 M bound pairs) run on two threads, each with only its rows' exclusions (:class:`_ByRow`):
that check's ``group_check`` took 0.77-0.84 s CPU in main, 0.51-0.55 here, 2.09 and 1.51 s at
200,000 x 40,000 (s30h4, replays of ``benchmarks/first_replay.py`` captures, load 8-10).
"""
from __future__ import annotations

import os

import numpy as np

from ...pairs import run_positions
from .passes import _scan
from .rank import _nonzero
from .recheck import _pool_suspects, _split
from .remote import current, here
from .workspace import one_blas_thread

#: A row whose cells' re-checks would read at least this share of its pairs is scanned in full
#: (which also takes its pool afresh under the new prices).
FULL_ROW_SHARE = 0.5


def _falls(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``q - p`` per mentor: ``-inf`` where ``p`` is not finite (a mentor without places
    takes no pair), ``+inf`` where ``q`` is not and ``p`` is (the floors say nothing of it)."""
    fin = np.isfinite(p)
    with np.errstate(invalid="ignore"):
        d = np.where(fin, q - np.where(fin, p, 0.0), -np.inf)
    return np.where(fin & ~np.isfinite(q), np.inf, d)


def group_check(cert, u, p, threshold: float, ex_i, ex_j):
    """The group guard of ``cert`` (a :class:`.check._Certifier` whose pool has groups) under
    the frame's ``u`` (less its rounding) and ``p``: re-checks, full scans and the move of
    every pool to ``p`` (module docstring). Returns (rows scanned in full, suspects' rows,
    mentors, crowded rows), lists of arrays as the one-floor guard gathers them."""
    sc, pool = cert.scorer, cert.pool
    n, m = sc.n, sc.m
    groups = pool.groups
    q = pool.prices[0]
    delta = _falls(q, p)
    live = np.flatnonzero(np.isfinite(u))
    gfl = pool.group_floor  # (groups, n)
    base = u[live] + threshold - cert.err[live]
    members = np.split(np.argsort(groups.of, kind="stable"),
                       np.cumsum(np.bincount(groups.of, minlength=groups.count))[:-1])
    # per group, the largest fall (of the mentors with places), which the cells clear or not
    top = np.array([delta[c][delta[c] > -np.inf].max(initial=-np.inf) for c in members])

    def plan_of(k):  # the group's cut, its rows re-checked whole and in part, and their cost
        if top[k] == -np.inf:
            return None
        cols = members[k]
        room = base - gfl[k, live]
        failing = np.flatnonzero(room < top[k])  # (the others are cleared by the guard)
        if not len(failing):
            return None
        dk = delta[cols]
        cut, _, _ = _split(dk, room[failing], len(cols))
        whole = room[failing] < cut
        part = cols[dk > cut]
        return cut, failing[whole], failing[~whole], part

    plan = _on_threads(plan_of, range(len(members)), threads=current() is None and not cert.progress)
    cost = np.zeros(len(live))
    for k, step in enumerate(plan):
        if step is not None:
            cost[step[1]] += len(members[k])
            cost[step[2]] += len(step[3])
    full = cost >= FULL_ROW_SHARE * m
    fail = live[full]
    found_i, found_j, crowded = [], [], []
    # the cells not re-checked: every mentor of the group by its fall (none with places: -inf;
    # one whose pools' price was +inf: +inf, the floor says nothing of it)
    new = gfl + np.where(np.isfinite(top), top, 0.0)[:, None]
    new[np.isinf(top)] = top[np.isinf(top)][:, None]
    tasks = []  # (group, rows, mentors read, whether the whole group)
    for k, cols in enumerate(members):
        if plan[k] is None:
            continue
        cut, whole, some, part = plan[k]
        for at, read in ((whole, cols), (some, part)):
            rows = live[at[~full[at]]]
            if len(rows) and len(read):
                tasks.append((k, rows, read, read is cols))
    done = _rechecks(cert, tasks, p, u, threshold, ex_i, ex_j)
    for (k, rows, read, entire), (largest, fi, fj, fc) in zip(tasks, done):
        found_i.append(fi), found_j.append(fj), crowded.append(fc)
        cert.pairs_rechecked += len(rows) * len(read)
        cert.bound_pairs += len(rows) * len(read)
        if entire:
            new[k, rows] = largest
        else:
            cut, dk = plan[k][0], delta[members[k]]
            others = dk[(dk <= cut) & (dk > -np.inf)].max(initial=-np.inf)
            with np.errstate(invalid="ignore"):
                kept = gfl[k, rows] + others
            new[k, rows] = np.maximum(np.where(np.isnan(kept), gfl[k, rows], kept), largest)
        cert.err[rows] = np.maximum(cert.err[rows], cert._pool_err(largest[:, None], largest))
    # every pool to the prices p (the rows scanned in full take theirs below)
    with np.errstate(invalid="ignore"):
        pool.vals = pool.vals + delta[pool.cols]
    big = max(float(np.abs(q[np.isfinite(q)]).max(initial=0.0)), float(np.abs(p[np.isfinite(p)]).max(initial=0.0)))
    cert.err += 2.0 ** -50 * big  # (the float64 moves)
    pool.group_floor = new
    pool.prices, pool.gen = [p.copy()], np.zeros(n, np.int64)
    if len(fail):
        f = _scan(sc.subset(rows=fail), fail, None, p, excl_i=cert.li, excl_j=cert.lj,
                  pool_size=pool.cols.shape[1], progress=cert.progress, groups=groups,
                  what="certificate: rows the pools miss")
        c, v, fl = f.pool
        ex_code = np.sort(ex_i * m + ex_j, kind="stable")
        si, sj, sc_crowded = _pool_suspects(fail, c, v, fl, u[fail] + threshold, ex_code, m)
        pool.cols[fail], pool.vals[fail] = c, v
        new[:, fail] = f.group_floor.T
        cert.err[fail] = cert._pool_err(pool.vals[fail], fl, new[:, fail])
        found_i.append(si), found_j.append(sj), crowded.append(sc_crowded)
        cert.rows_rescanned += len(fail)
        cert.bound_pairs += len(fail) * m
    pool.floor = new.max(axis=0)
    return fail, found_i, found_j, crowded


class _ByRow:
    """Pairs (global row, mentor) sorted by row, those of some rows and mentors taken without
    reading the others: a re-check's exclusions (at 100,000 x 20,000 the chosen pairs are 1.3
    million, and mapping them all into each of 102 re-checks' views took 0.39 s CPU of the
    re-checks' 1.1)."""

    def __init__(self, i: np.ndarray, j: np.ndarray, n: int):
        order = np.argsort(i, kind="stable")
        self.i, self.j = i[order], j[order]
        self.start = np.r_[0, np.cumsum(np.bincount(self.i, minlength=n))]

    def of(self, rows: np.ndarray, in_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pairs in ``rows`` (ascending) whose mentor is in ``in_cols`` (a mask), by row."""
        a, b = self.start[rows], self.start[rows + 1]
        at = run_positions(a, b - a)
        keep = at[in_cols[self.j[at]]]
        return self.i[keep], self.j[keep]


#: The re-checks run on this many threads (the passes' products and block scans release the
#: GIL), each re-check a pass of its own on one thread (the mentor groups' passes are small:
#: 102 at 100,000 x 20,000, 440,000 bound pairs on average).
RECHECK_THREADS = 2


def _rechecks(cert, tasks, p, u, threshold, ex_i, ex_j) -> list:
    """:func:`_recheck` of each task (group, rows, mentors read, whole) in order, on
    :data:`RECHECK_THREADS` threads when the passes run in this process (no executor: they
    would be shipped to it one by one either way)."""
    sc = cert.scorer
    chosen, locks = _ByRow(ex_i, ex_j, sc.n), _ByRow(cert.li, cert.lj, sc.n)
    local = current() is None and not cert.progress
    return _on_threads(lambda task: _recheck(cert, task[1], task[2], p, u, threshold, chosen, locks), tasks,
                       threads=local)


def _on_threads(fn, items, threads: bool) -> list:
    """``fn`` of each item, in order, on :data:`RECHECK_THREADS` threads (BLAS on one each:
    the limit is held here, so that the passes' own limits nest) when ``threads``, else here."""
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    workers = min(RECHECK_THREADS, len(items), os.cpu_count() or 1)
    if workers <= 1 or not threads:
        return [fn(x) for x in items]

    def on_thread(x):
        with here():  # (the passes on this process's threads, as the caller's)
            return fn(x)

    with one_blas_thread(), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(on_thread, items))


def _recheck(cert, rows, cols, p, u, threshold, chosen: _ByRow, locks: _ByRow):
    """The pairs of ``rows`` x ``cols`` outside the rows' pools, under ``p``: each row's largest
    ``bound - p_j`` (float64) and their suspects (rows, mentors, crowded rows)."""
    sc, pool = cert.scorer, cert.pool
    in_cols = np.zeros(sc.m, bool)
    in_cols[cols] = True
    pc = pool.cols[rows]
    pr, pk = _nonzero(in_cols[pc])
    li, lj = locks.of(rows, in_cols)
    ci, cj = chosen.of(rows, in_cols)
    f = _scan(sc.subset(rows=rows, cols=cols), rows, cols, p[cols], excl_i=np.concatenate([li, rows[pr]]),
              excl_j=np.concatenate([lj, pc[pr, pk]]), chosen_i=ci, chosen_j=cj, pool_size=1,
              u=u[rows], threshold=threshold, progress=cert.progress,
              what="certificate: mentor groups whose prices fell")
    return f.pool[1][:, 0].astype(np.float64), f.i, f.j, f.crowded
