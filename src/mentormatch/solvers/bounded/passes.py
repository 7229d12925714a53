"""One pass over rows of a bounded scorer, for :mod:`mentormatch.solvers.bounded`: each row's
pool (its best pairs by ``bound - price``) and floor, the suspects of a price check, and each
mentor's best rows, block by block on this process's threads or on an executor
(:mod:`.remote`). The array helpers are in :mod:`.rank`; the exact-score cache in :mod:`.exact`."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from .. import sparse
from ..sparse import _bar
from ..threshold import lift_weight
from .blockscan import scan as _scan_rows
from .ceiling import mentor_ceilings
from .groups import group_order
from .rank import _first_k, _fold, _local, _then
from .remote import chunks, current, ship, value_of
from .workspace import give_back, one_blas_thread, take_buffer

#: Bound-suspect pairs scored exactly per mentee and check pass before the rest of that
#: mentee's suspects are looked at (only when none of these violates).
SUSPECTS_PER_ROW = 64


#: A pass's blocks have at least this many rows. A block of a million pairs
#: (:func:`mentormatch.solvers.sparse.row_blocks`) is 5 rows at 200,000 mentors, and each block
#: reads the mentors' factors (67 x 200,000 float32) from memory again and each mentor's best
#: rows are folded more often per pair; measured at 200,000 mentors on one core, 38 ms a
#: million pairs in blocks of 5 rows, 6.7 ms in blocks of 32 (5.7 ms at 20,000 mentors, where
#: blocks have 50 rows and are unchanged).
MIN_BLOCK_ROWS = 32


#: A pass's blocks hold about this many times ``sparse._BLOCK_ELEMENTS`` pairs (4 million:
#: 200 rows at 20,000 mentors). The bound product of a block packs the mentors' factors once
#: and each mentor's best row is folded once a block, so larger blocks cost less a pair:
#: measured on one core at 20,000 mentors, a first pass's block 5.6-5.9 ms a million pairs
#: in blocks of 50 rows, 3.8-4.6 ms in blocks of 200 (the product alone: 1.7 against 1.3 ms;
#: 400 rows: 1.8 ms). A thread's buffer is then 16 MB at 20,000 mentors.
BLOCK_FACTOR = 4


def _pass_blocks(n_rows: int, width: int) -> list[tuple[int, int]]:
    """The (start, stop) row blocks of a pass: about ``BLOCK_FACTOR`` million pairs (``BLOCK_FACTOR``
    times those of :func:`row_blocks`), with at least ``MIN_BLOCK_ROWS`` rows a block."""
    step = max(1, BLOCK_FACTOR * sparse._BLOCK_ELEMENTS // max(width, 1), MIN_BLOCK_ROWS)
    return [(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]


#: Niceness of a pass's threads while a child process works beside it (:mod:`.child`).
BACKGROUND_NICE = 10


def _yield_cpu() -> None:
    """Lower this thread's priority to ``BACKGROUND_NICE`` (Linux: per thread), so that the
    child process on the critical path keeps its cores and the pass takes what it leaves."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(BACKGROUND_NICE, os.getpriority(os.PRIO_PROCESS, tid)))
    except (AttributeError, OSError):  # no per-thread priorities here: run at the same priority
        pass


class PassStopped(Exception):
    """A pass over the blocks ended at its ``deadline`` (:func:`_over_blocks`), unfinished.
    ``parts``: the results of the blocks before the first one not taken, in order (set by the
    pass that stopped); ``found``, ``rows_done``: what :func:`_scan` made of them (the pools of
    its first ``rows_done`` rows; no suspects, no mentors' best rows)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.parts: list = []
        self.found: "_Found | None" = None
        self.rows_done = 0


def _over_blocks(fn, blocks, progress: bool, what: str, width: int, background: bool = False,
                 deadline: float | None = None):
    """``fn(a, b, buffer)`` of every block, in order, on as many threads as cores (up to 4),
    with BLAS on one thread each (numpy releases the GIL in the products and element-wise
    passes) and a float32 buffer of the widest block per thread (:func:`.workspace.take_buffer`), so
    that no pass allocates (and page-faults) a block's worth of memory per block. ``background``:
    the threads run at a lower priority (:func:`_yield_cpu`). ``deadline``
    (``time.perf_counter``; None: none): no block starts past it, and the pass raises
    :class:`PassStopped`."""
    from concurrent.futures import ThreadPoolExecutor

    rows = max((b - a for a, b in blocks), default=0)
    local = threading.local()
    taken = []

    def run(ab):
        if not hasattr(local, "buffer"):
            flat = take_buffer(rows * width)
            taken.append(flat)
            local.buffer = flat[:rows * width].reshape(rows, width)
            if background:
                _yield_cpu()
        if deadline is not None and time.perf_counter() >= deadline:
            raise PassStopped(what)
        return fn(ab[0], ab[1], local.buffer)

    workers = max(1, min(os.cpu_count() or 1, 4, len(blocks)))
    try:
        if workers == 1 and not background:  # (one block, a group's re-check: no threads to start)
            with one_blas_thread():
                yield from _bar(map(run, blocks), progress, what, total=len(blocks))
            return
        with one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            yield from _bar(pool.map(run, blocks), progress, what, total=len(blocks))
    finally:  # (the threads have ended: the executor waited for them)
        give_back(taken)


@dataclass
class _Pool:
    """Each row's ``P`` best pairs by ``bound - price`` under the prices of its generation,
    and ``floor``: every other pair of the row has ``bound - price <= floor``."""

    cols: np.ndarray  # (n, P) int64, mentors
    vals: np.ndarray  # (n, P) float64, bound - price of the row's generation
    floor: np.ndarray  # (n,) float32
    gen: np.ndarray  # (n,) int64, index into prices
    prices: list  # per generation, (m,) float64, +inf where a mentor has no room
    # with mentor groups (:mod:`.groups`; None: one): each group's floor, (groups, n) float64
    groups: object = None
    group_floor: np.ndarray | None = None


@dataclass
class _Found:
    """What a pass over some rows found: suspects (global row, mentor), rows with more
    suspects than were kept, and the pool of each row scanned (local order) when asked."""

    i: np.ndarray
    j: np.ndarray
    crowded: np.ndarray
    pool: tuple | None = None  # (cols, vals, floor)
    mentor_best: tuple | None = None  # (rows, cols): each mentor's best rows
    mentor_ceiling: np.ndarray | None = None  # (m,) float64: at least each mentor's exact scores
    group_floor: np.ndarray | None = None  # (rows, groups) float32: with the pool, when asked (groups)


@dataclass
class _ScanSpec:
    """What every block of a pass needs besides the bounds (rows local to the view): the
    prices (and, for a view with a lift, :class:`mentormatch.solvers.threshold.ThresholdBounds`,
    the lifted ones: ``price - w`` in float64, rounded once), the excluded and chosen pairs
    (sorted by row), the suspects' limits, the dead rows, and how many pool entries (``pk``)
    and best rows per mentor (``kk``) to keep."""

    p32: np.ndarray
    ei: np.ndarray
    ej: np.ndarray
    ci: np.ndarray
    cj: np.ndarray
    limit: np.ndarray | None
    dead: np.ndarray | None
    pk: int
    kk: int
    keep_all: bool
    lifted: np.ndarray | None = None
    groups: object = None  # the view's mentor groups (:class:`.groups.Groups`), with the pool
    order: object = None  # the blocks' columns in group order (:class:`.groups.GroupOrder`; None: by mentor)

    def cut(self, a: int, b: int) -> "_ScanSpec":
        """The same for rows ``a:b`` only, numbered from 0 (a chunk of an executor's pass)."""
        lo, hi = np.searchsorted(self.ei, [a, b])
        clo, chi = np.searchsorted(self.ci, [a, b])
        return _ScanSpec(self.p32, self.ei[lo:hi] - a, self.ej[lo:hi], self.ci[clo:chi] - a, self.cj[clo:chi],
                         None if self.limit is None else self.limit[a:b],
                         None if self.dead is None else self.dead[a:b], self.pk, self.kk, self.keep_all,
                         self.lifted, self.groups)


def _mentor_state(m: int, kk: int):
    """Each mentor's ``kk`` best (value, row) so far, their floor, and the pending block bests
    (see :func:`_fold`)."""
    return (np.full((m, kk), -np.inf, np.float32), np.full((m, kk), np.iinfo(np.int64).max, np.int64),
            np.full(m, -np.inf, np.float32), [], [])


def _scan_block(view, a: int, b: int, buffer: np.ndarray, q: _ScanSpec, state):
    """One block (rows ``a:b`` of ``view``) of :func:`_scan`: its (pool, suspects) part, and
    each mentor's best row of the block folded into ``state`` (None when ``q.kk`` is 0)."""
    from ...scale import BIG, BoundedScorer

    rest = None
    lo, hi = np.searchsorted(q.ei, [a, b])
    order = None
    if type(view) is BoundedScorer and (q.dead is None or not q.dead[a:b].any()):
        # the product here; the groups' rows less the prices, the stated and removed pairs and
        # then the excluded ones (-inf) added by the block scan, each row while in the cache
        # (a product of one column too: ``fused``); with a group order, the mentors in it (.groups)
        order = q.order
        src, less = (view, q.p32) if order is None else (order.view, order.p32)
        s, rest = src.upper_split(a, b, buffer, less=less, fused=True)
        if hi > lo:
            ej = q.ej[lo:hi] if order is None else order.inv[q.ej[lo:hi]]
            rest = rest._replace(put=_then(rest.put, q.ei[lo:hi] - a, ej))
    else:
        if type(view) is BoundedScorer:  # the prices taken off with the groups' table: one pass less
            s = view.upper(a, b, buffer, less=q.p32)
        elif q.lifted is not None:  # a threshold's weight taken off the prices of the pairs reaching it
            s = view.less(a, b, buffer, q.p32, q.lifted)
        else:  # a scorer with a bonus folded in
            s = view.upper(a, b, buffer)
            np.subtract(s, q.p32[None, :], out=s)
        s[q.ei[lo:hi] - a, q.ej[lo:hi]] = -np.inf
        if q.dead is not None:
            s[q.dead[a:b]] = -np.inf
    limit = None if q.limit is None else q.limit[a:b]
    clo, chi = np.searchsorted(q.ci, [a, b]) if limit is not None else (0, 0)
    above = None
    if q.kk:  # each mentor's best row of the block, where it can enter the mentor's kk best
        val, row, floor, pend_val, pend_row = state
        above = np.maximum(floor, -BIG / 2)
    pool, sus, tops = _scan_rows(s, q.pk, limit, q.ci[clo:chi] - a, q.cj[clo:chi], SUSPECTS_PER_ROW,
                                 q.keep_all, above, rest, q.groups, order)
    if sus is not None:
        rr, cc, crowded = sus
        sus = (rr + a, cc, crowded + a)
    if q.kk:
        top, best = tops
        pend_val.append(np.where(top > above, top, -np.inf))
        pend_row.append(best + a)
        if len(pend_val) >= 4 * q.kk:
            _fold(val, row, pend_val, pend_row, floor)
    return [pool, sus]


def _scan_threads(view, q: _ScanSpec, blocks, progress: bool, what: str, background: bool,
                  deadline: float | None = None):
    """The blocks of a pass on this process's threads: each block's part, and the threads'
    mentor states (each thread takes its blocks in row order, so a tie with the thread's
    ``kk``-th best is a later row and loses)."""
    states, lock, local = [], threading.Lock(), threading.local()

    def block(a: int, b: int, buffer: np.ndarray):
        state = None
        if q.kk:
            if not hasattr(local, "state"):
                local.state = _mentor_state(view.m, q.kk)
                with lock:
                    states.append(local.state)
            state = local.state
        return _scan_block(view, a, b, buffer, q, state)

    parts = []
    try:
        for part in _over_blocks(block, blocks, progress, what, view.m, background, deadline):
            parts.append(part)
    except PassStopped as stop:
        stop.parts = parts
        raise
    return parts, states


def scan_task(part, right_t, spec, blocks, width: int):
    """The task of an executor (:mod:`.remote`): the blocks ``blocks`` (rows of ``part``, a
    chunk's bounds; ``right_t``, the mentors' factors, as shipped) of a pass, each computed as
    a thread here computes it, with BLAS on one thread: each block's (pool, suspects) part
    and the chunk's state of each mentor's best rows."""
    part.right_t = value_of(right_t)
    rows = max((b - a for a, b in blocks), default=0)
    state = _mentor_state(part.m, spec.kk) if spec.kk else None
    with one_blas_thread():
        buffer = np.empty((rows, width), dtype=np.float32)
        outs = [_scan_block(part, a, b, buffer, spec, state) for a, b in blocks]
    if state is not None and state[3]:  # the block bests still pending
        val, row, floor, pend_val, pend_row = state
        _fold(val, row, pend_val, pend_row, floor)
    return outs, state


def _scan_remote(executor, view, q: _ScanSpec, blocks, progress: bool, what: str,
                 deadline: float | None = None):
    """The blocks of a pass on ``executor``, in chunks of whole blocks (:func:`.remote.chunks`):
    the same parts and mentor states as :func:`_scan_threads` (each chunk's rows in order),
    with the rows numbered in the view again."""
    right = ship(executor, view.right_t)
    futures = []
    for chunk in chunks(blocks):
        c0, c1 = chunk[0][0], chunk[-1][1]
        futures.append((c0, executor.submit(scan_task, view.bounds_rows(c0, c1), right, q.cut(c0, c1),
                                            [(a - c0, b - c0) for a, b in chunk], view.m)))
    parts, states = [], []
    for c0, fut in _bar(futures, progress, what):
        if deadline is not None and time.perf_counter() >= deadline:
            for _, f in futures:
                f.cancel()
            stop = PassStopped(what)
            stop.parts = parts
            raise stop
        outs, state = fut.result()
        for pool_part, sus_part in outs:
            if sus_part is not None:
                rr, cc, crowded = sus_part
                sus_part = (rr + c0, cc, crowded + c0)
            parts.append((pool_part, sus_part))
        if state is not None:
            val, row, floor, _, _ = state
            states.append((val, np.where(np.isfinite(val), row + c0, row), floor, [], []))
    return parts, states


def _scan(view, rows: np.ndarray, cols: np.ndarray | None, price: np.ndarray, *, excl_i, excl_j,
          chosen_i=None, chosen_j=None, pool_size: int = 0, u: np.ndarray | None = None,
          threshold: float = 0.0, dead: np.ndarray | None = None, mentor_k: int = 0,
          keep_all: bool = False, progress: bool = False, what: str = "", background: bool = False,
          deadline: float | None = None, groups=None) -> _Found:
    """One pass over ``view`` (rows ``rows`` and mentors ``cols`` of the scorer, None
    for all): ``s = bound - price`` block by block, excluded pairs (the locks; global row,
    mentor) and ``dead`` rows (local) at ``-inf``, at a lower priority when ``background``
    (beside a child process). Collects each row's ``pool_size`` best
    entries, the suspects ``s > u + threshold`` other than the ``chosen`` pairs (a crowded row
    keeps its SUSPECTS_PER_ROW largest unless ``keep_all``), and each mentor's ``mentor_k`` best
    rows; with ``groups`` (:class:`.groups.Groups` of the scorer's mentors) and a pool, each
    row's floor per group (``_Found.group_floor``), the blocks on this process's threads
    computed with the mentors in group order where that gives the same bounds
    (:func:`.groups.group_order`).

    The blocks run on this process's threads, or on the executor of the solve
    (:mod:`.remote`) when there is one and the view is a plain bounded scorer; the result is
    the same. ``deadline`` (``time.perf_counter``; None: none): no block (or chunk's result)
    is taken past it, and :class:`PassStopped` is raised.

    The chosen pairs stay in the pools: a pool's floor must bound every pair outside it that
    a later round may leave unchosen."""
    from ...scale import BIG

    n_v, m_v = view.n, view.m
    blocks = _pass_blocks(n_v, m_v)
    ei, ej = _local(rows, cols, excl_i, excl_j)
    e = np.zeros(0, np.int64)
    ci, cj = _local(rows, cols, e if chosen_i is None else chosen_i, e if chosen_j is None else chosen_j)
    w = lift_weight(view)  # a threshold's flow: its pairs reaching t get the price less w
    lifted = None if not hasattr(view, "lift") else (np.asarray(price, np.float64) - w).astype(np.float32)
    q = _ScanSpec(price.astype(np.float32), ei, ej, ci, cj,
                  None if u is None else (u + threshold).astype(np.float32), dead,
                  min(pool_size, m_v), min(mentor_k, n_v), keep_all, lifted,
                  None if groups is None or not pool_size else groups.subset(cols))
    executor = current()
    to_col = (lambda c: c) if cols is None else (lambda c: cols[c])
    try:
        if executor is not None and blocks and hasattr(view, "bounds_rows"):
            parts, states = _scan_remote(executor, view, q, blocks, progress, what, deadline)
        else:
            if q.groups is not None and u is None:
                q.order = group_order(view, q.groups, q.p32)
            parts, states = _scan_threads(view, q, blocks, progress, what, background, deadline)
    except PassStopped as stop:  # the pools of the rows scanned (the blocks are taken in order)
        stop.found, stop.rows_done = _Found(e, e, e), sum(b - a for a, b in blocks[:len(stop.parts)])
        _with_pools(stop.found, stop.parts, to_col)
        raise
    sus = [sus_part for _, sus_part in parts if sus_part is not None]
    found = _Found(e, e, e)
    if sus:
        rr, cc, crowded = (np.concatenate(x) for x in zip(*sus))
        found = _Found(rows[rr], to_col(cc), rows[crowded])
    _with_pools(found, parts, to_col)
    if q.kk:
        mm, vv, rr = [], [], []
        for val, row, floor, pend_val, pend_row in states:
            if pend_val:
                _fold(val, row, pend_val, pend_row, floor)
            at, rank = np.nonzero(val > -BIG / 2)
            mm.append(at), vv.append(val[at, rank]), rr.append(row[at, rank])
        mm, vv, rr = (np.concatenate(x) if x else np.zeros(0) for x in (mm, vv, rr))
        order = np.lexsort((rr, -vv, mm))  # the threads' lists merged: ties to the lower row
        mm, rr = mm[order].astype(np.int64), rr[order].astype(np.int64)
        keep = _first_k(mm, q.kk)
        found.mentor_best = (rows[rr[keep]], to_col(mm[keep]))
        found.mentor_ceiling = mentor_ceilings(view, q, mm[keep], vv[order][keep])
    return found


def _with_pools(found: _Found, parts: list, to_col) -> None:
    """``found.pool``: the blocks' pool parts (``parts``, in row order) joined, when any."""
    pools = [pool_part for pool_part, _ in parts if pool_part is not None]
    if pools:
        c, v, f, *g = (np.concatenate(x) for x in zip(*pools))
        found.pool = (to_col(c), v, f)
        found.group_floor = g[0] if g else None
