"""What a bound pass (:mod:`.passes`) keeps of one block of ``bound - price`` after the
product: each row's pool, the suspects above the row's limit, each column's maximum and the
first row attaining it. Two implementations with identical answers: the compiled kernel
(:mod:`mentormatch._native.scan`, one read of each row) where it was built, and
:func:`numpy_scan`; :func:`scan` chooses (``MENTORMATCH_NATIVE``, see :mod:`mentormatch._native`)."""
from __future__ import annotations

import numpy as np

from ..._native import scan_kernel
from .rank import _crowded_best, _nonzero, _row_best


def numpy_scan(s: np.ndarray, pk: int, limit: np.ndarray | None, ci: np.ndarray, cj: np.ndarray,
               per_row: int, keep_all: bool, above: np.ndarray | None, rest=None, groups=None,
               order=None):
    """``(pool, suspects, tops)`` of a block ``s`` (rows x mentors, float32), each None when
    not asked for, after ``rest`` (a :class:`mentormatch.scale_codes.BlockRest`, None: none) is
    added to ``s`` (in place: ``s`` the product, the rest the groups' rows, stated and removed pairs
    of the bound; :meth:`~mentormatch.scale.BoundedScorer.upper_split`):

    - ``pool`` (``pk`` > 0): each row's ``pk`` largest entries, in descending order, ties to the
      lower column: their columns (rows x ``pk``, int64), values (float32) and the last value
      (the row's floor); with ``groups`` (:class:`~.groups.Groups`), a fourth part: each
      group's floor (rows x groups, float32), its largest entry outside the pool but at least
      the floor less ``groups.depth`` (``-inf`` for a group with none);
    - ``suspects`` (``limit``, float32 a row, not None): ``(rows, columns, crowded)``, the entries
      ``s > limit`` once the chosen pairs ``ci``, ``cj`` (rows ascending) are set to ``-inf``
      (after the pool: it keeps them), in row-major order, except that a row with more than
      ``per_row`` (its row in ``crowded``, ascending; none when ``keep_all``) keeps its
      ``per_row`` largest, put after all the others, rows ascending, each in descending order
      (ties to the lower column);
    - ``tops`` (``above``, float32 a column, not None): each column's maximum (float32) and,
      where it is above ``above``, the first row attaining it (int64; 0 elsewhere), after the
      chosen pairs are set to ``-inf``.

    ``s`` holds no NaN; its chosen pairs are set to ``-inf`` when there is a ``limit``. With
    ``order`` (:class:`~.groups.GroupOrder`, with ``groups`` and no ``limit``), ``s`` and ``rest``
    have the mentors in that order (columns ``order.perm``), and the outputs are by mentor as
    without it (here the block is put back in the mentors' order first)."""
    n, m = s.shape
    if rest is not None:
        rest.apply(s)
    if order is not None:
        s = s[:, order.inv]
    pool = suspects = tops = None
    if pk:
        _, c = _row_best(s, pk)
        c = c.reshape(n, pk)
        v = np.take_along_axis(s, c, axis=1)
        pool = (c, v, v[:, -1].copy())
        if groups is not None:
            pool = pool + (_group_floors(s, c, pool[2], groups),)
    if limit is not None:
        if len(ci):
            s[ci, cj] = -np.inf
        rr, cc = _nonzero(s > limit[:, None])
        count = np.bincount(rr, minlength=n)
        crowded = np.flatnonzero(count > per_row) if not keep_all else count[:0]
        if len(crowded):  # their per_row largest instead
            keep = np.repeat(count <= per_row, count)
            rr, cc = _crowded_best(s, rr, cc, keep, crowded, per_row)
        suspects = (rr, cc, crowded)
    if above is not None:
        top = s.max(axis=0)
        good = top > above
        best = np.zeros(m, np.int64)
        at = np.flatnonzero(good)
        if 8 * len(at) < m:  # (the usual case once the mentors' lists fill)
            best[at] = np.argmax(s[:, at], axis=0)
        else:  # row by row from the last, so that the first row attaining it is written last:
            # 40 % less time than the nonzero entries of ``s == top`` (1.3 against 2.1 ms a block)
            hit = np.empty(m, bool)
            for r in range(n - 1, -1, -1):
                np.equal(s[r], top, out=hit)
                best[hit] = r
            best[~good] = 0
        tops = (top, best)
    return pool, suspects, tops


def _group_floors(s: np.ndarray, cols: np.ndarray, floor: np.ndarray, groups) -> np.ndarray:
    """Each row's largest entry of ``s`` outside its pool (``cols``) per mentor group, at least
    ``floor - groups.depth`` (float32, as the kernel's)."""
    n = len(s)
    out = np.empty((n, groups.count), np.float32)
    cut = (floor - np.float32(groups.depth)).astype(np.float32)
    order = np.argsort(groups.of, kind="stable")
    starts = np.searchsorted(groups.of[order], np.arange(groups.count))
    held = np.take_along_axis(s, cols, axis=1)
    rows = np.arange(n)[:, None]
    s[rows, cols] = -np.inf
    try:
        t = s[:, order]
        full = np.diff(np.append(starts, len(order))) > 0
        red = np.full((n, groups.count), -np.inf, np.float32)
        if n and len(order):
            red[:, full] = np.maximum.reduceat(t, starts[full], axis=1)
        np.maximum(red, cut[:, None], out=out)
    finally:
        s[rows, cols] = held
    return out


def scan(s: np.ndarray, pk: int, limit: np.ndarray | None, ci: np.ndarray, cj: np.ndarray,
         per_row: int, keep_all: bool, above: np.ndarray | None, rest=None, groups=None, order=None):
    """:func:`numpy_scan`, by the compiled kernel where it was built and ``s`` is a C-ordered
    float32 block (the kernel finds every column's first best row; those not asked are 0; it
    adds ``rest`` to each row as it first reads it: one read and write of the block less;
    with ``order``, each group's floor is the maximum of a contiguous range)."""
    kernel = scan_kernel()
    if (kernel is None or s.dtype != np.float32 or not s.flags.c_contiguous or not s.flags.writeable
            or (limit is not None and (limit.dtype != np.float32 or not limit.flags.c_contiguous))):
        return numpy_scan(s, pk, limit, ci, cj, per_row, keep_all, above, rest, groups, order)
    pool, suspects, tops = kernel.scan_block(s, pk, limit, np.ascontiguousarray(ci, np.int64),
                                             np.ascontiguousarray(cj, np.int64), per_row, keep_all, above is not None,
                                             rest, groups, order)
    if tops is not None and order is not None:  # (by the block's columns: to the mentors)
        tops = (tops[0][order.inv], tops[1][order.inv])
    if tops is not None:
        tops[1][~(tops[0] > above)] = 0
    return pool, suspects, tops
