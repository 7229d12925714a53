"""Which pairs the bounds source's checker (:mod:`.check`) re-checks after a flow, beside its
pools: the rows to scan in full and the bands of rows re-checked only on the mentors whose
price fell below their room (:func:`_split`, :func:`_bands`), and the suspects of rows scanned
in full read from their fresh pools (:func:`_pool_suspects`). Pure functions of the prices'
falls, the rows' room and the pools (moved from ``check.py`` at session 21's merge, 413 lines);
and which of the violators found a check returns (:func:`_kept`)."""
from __future__ import annotations

import numpy as np

from ..._native import scan_kernel
from ..keys import member
from .rank import _first_k, _nonzero


def _split(delta: np.ndarray, room: np.ndarray, m: int) -> tuple[float, int, int]:
    """The cut ``D`` that makes the re-check cheapest: mentors whose price fell by more than
    ``D`` since the pools were taken (``delta > D``) are checked on every row; rows with less
    ``room`` than ``D`` are scanned in full. Returns (D, columns, rows)."""
    d = np.sort(delta[np.isfinite(delta)])
    cand = np.concatenate([[-np.inf], d])
    n_cols = len(d) - np.searchsorted(d, cand, side="right")
    r = np.sort(room)
    n_fail = np.searchsorted(r, cand, side="left")
    cost = (len(r) - n_fail) * n_cols + n_fail * m
    best = int(np.argmin(cost))
    return float(cand[best]), int(n_cols[best]), int(n_fail[best])


#: The rows a generation's cut (:func:`_split`) does not scan in full are re-checked in up to
#: this many bands of room (:func:`_bands`): a pair outside the pool needs a check only where
#: ``delta_j > room_i``, a staircase that one cut covers by a rectangle. The top level's checks
#: at 100,000 x 20,000 (capacity 5): 1.59e9 bound pairs by one cut, 1.17e9 by bands; at
#: 200,000 x 40,000: 9.2e9, 7.5e9 (the same 3 rounds and pairs). Letting the bands replace
#: the full scans too (whose pools are taken afresh) cost 2 more rounds at 200,000 x 40,000.
ROOM_BANDS = 6
#: The bands' edges are taken among this many quantiles of the rows' room.
BAND_EDGES = 48
#: What a band beyond the first costs beside its bound pairs (a view, the mentors' factors
#: copied), in rows scanned in full (a million pairs at 20,000 mentors).
BAND_ROWS = 50


def _bands(delta: np.ndarray, room: np.ndarray, m: int, most: int,
           full: bool = True) -> tuple[np.ndarray, int, list]:
    """The cheapest cover of the pairs to re-check (``delta_j > room_i``) by a prefix of rows
    scanned in full and at most ``most`` bands of rows by room, each band re-checked on the
    mentors with ``delta`` above its smallest room. Returns (the rows' order by room, the
    number scanned in full (the first of that order), bands as (start, stop, lowest room)
    in that order), chosen among ``BAND_EDGES`` quantile edges by dynamic programming; with
    one band, the cover of :func:`_split` on those edges. ``full`` False: no row scanned in
    full (bands only)."""
    d = np.sort(delta[np.isfinite(delta)])
    order = np.argsort(room, kind="stable")
    r = room[order]
    n_rows = len(r)
    if not n_rows:
        return order, 0, []
    edges = np.unique(np.linspace(0, n_rows, min(n_rows, BAND_EDGES) + 1).astype(np.int64))
    e = len(edges)
    low = r[np.minimum(edges, n_rows - 1)]  # a band from edge a has rooms >= low[a]
    n_cols = len(d) - np.searchsorted(d, low, side="right")
    size = (edges[None, :] - edges[:, None]).astype(np.float64)  # rows of a band from edge a to b
    cost = np.where(size > 0, size * n_cols[:, None], np.inf)
    extra = np.where(n_cols[:, None] > 0, float(BAND_ROWS * m), 0.0)  # a band beyond the first
    best = [edges.astype(np.float64) * m if full else np.where(edges == 0, 0.0, np.inf)]  # k bands to edge b
    came = []
    for k in range(most):
        total = best[-1][:, None] + (cost + extra if k else cost)
        came.append(np.argmin(total, axis=0))
        best.append(np.minimum(best[-1], total.min(axis=0)))
    k = int(np.argmin([b[-1] for b in best]))
    b, bands = e - 1, []
    while k > 0:  # back from the last edge: a band, or fewer bands (best[k] from best[k - 1])
        a = int(came[k - 1][b])
        if best[k][b] < best[k - 1][b] and a < b:
            bands.append((int(edges[a]), int(edges[b]), float(low[a])))
            b = a
        k -= 1
    return order, int(edges[b]), bands[::-1]


def _pool_suspects(rows, cols, vals, floor, limit, ex_code, m: int):
    """The suspects of rows scanned in full, from their fresh pools (``cols``, ``vals`` (the
    pass's float32 ``bound - p_j``), ``floor``; one row of each per row of ``rows``) instead of
    the pass: the pool entries above the row's ``limit`` (``u_i + threshold``, compared in
    float32 as the pass does) that are not in ``ex_code`` (the locks and chosen pairs, sorted
    codes ``i * m + j``), and the rows whose pool may miss some (``floor > limit``; a pool
    that holds the whole row misses none): crowded, as the pass marks a row with more suspects
    than it keeps. Each row's pool holds its best pairs, so a row not crowded has every
    suspect there; a crowded one has its most promising, the pool's. At 100,000 x 20,000
    (the inner sub-market) the pass's own suspects took 60-70 % of these scans' time: most
    such rows are crowded (every pair of a low ``u_i`` is above its limit)."""
    lim = np.asarray(limit, np.float32)
    r, k = _nonzero(vals > lim[:, None])
    gi, gj = rows[r], cols[r, k]
    keep = ~member(gi * m + gj, ex_code)
    crowded = rows[floor > lim] if cols.shape[1] < m else rows[:0]
    return gi[keep], gj[keep], crowded


#: :func:`_kept` takes each row's most violating by the compiled ``kept_rows`` (one walk of the
#: rows, an insertion into a row's best) up to this many a row: at 100,000 x 20,000 the top
#: level's checks return 440,000-450,000 of 640,000-660,000 pairs found (8 a row; 415,000 of
#: them in rows with more), which numpy's sort by three keys took 0.12-0.14 s CPU a check, the
#: kernel 0.01; at 200,000 x 40,000 about 1 million a check, 0.40 s CPU by numpy (s31h5).
KEPT_KERNEL_ROWS = 64


def _kept(vi, vj, vg, n: int, m: int, per_row: int, per_mentor: int = 0):
    """The violators a check returns, of those it found (rows ``vi``, mentors ``vj``, gains
    ``vg``): each row's ``per_row`` most violating (ties: the lower mentor), and with
    ``per_mentor`` each mentor's ``per_mentor`` most violating rows too (ties: the lower row),
    sorted by row and mentor then. Where the places equal the demand, the rows' most violating
    pairs all point at the same few mentors without a taker (priced 0), and the mentors' own
    rows fill them sooner (:data:`.market.SUB_MARKET_MENTOR_ROWS`).

    >>> i, j = _kept(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([3.0, 1.0, 2.0, 0.5]), 2, 2, 1, 1)
    >>> list(zip(i.tolist(), j.tolist()))  # rows' best: (0, 0), (1, 0); mentor 1's best row: 0
    [(0, 0), (0, 1), (1, 0)]
    """
    ri, rj = _kept_rows(vi, vj, vg, n, per_row)
    if per_mentor <= 0:
        return ri, rj
    order = np.lexsort((vi, -vg, vj))
    first = order[_first_k(vj[order], per_mentor)]
    code = np.unique(np.concatenate([ri * m + rj, vi[first] * m + vj[first]]))
    return code // m, code % m


def _kept_rows(vi, vj, vg, n: int, per_row: int):
    """:func:`_kept`'s rows without ``per_mentor``: the violators of the rows with at most
    ``per_row``, in their order, then each other row's ``per_row`` most violating (ties: the
    lower mentor, then the earlier), row by row: by the compiled ``kept_rows`` where built (on
    those rows by row, a stable order), else by a sort on three keys."""
    many = np.bincount(vi, minlength=n)[vi] > per_row  # rows with more: their per_row best
    if not many.any():
        return vi, vj
    mi, mj, mg = vi[many], vj[many], vg[many]
    kernel = scan_kernel()
    if (kernel is not None and hasattr(kernel, "kept_rows") and 1 <= per_row <= KEPT_KERNEL_ROWS
            and not np.isnan(mg).any()):
        if not (mi[1:] >= mi[:-1]).all():  # (by code but for the rescanned rows' pairs, at the end)
            order = np.argsort(mi, kind="stable")
            mi, mj, mg = mi[order], mj[order], mg[order]
        bi, bj = kernel.kept_rows(mi, mj, mg, per_row)
    else:
        order = np.lexsort((mj, -mg, mi))
        mi, mj = mi[order], mj[order]
        first = _first_k(mi, per_row)
        bi, bj = mi[first], mj[first]
    return np.concatenate([vi[~many], bi]), np.concatenate([vj[~many], bj])
