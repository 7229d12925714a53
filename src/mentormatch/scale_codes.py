"""The coded groups of the scale path's bound product, and the rest a block adds to the product.

:class:`mentormatch.scale.BoundedScorer` bounds a block of mentee rows by a float32 product
``L @ R`` plus its rest (:class:`BlockRest`: the groups' table rows, the stated and the removed
pairs). The mentors' factor columns that take few patterns (personality's one-hot bins,
competency's levels) leave the product: each mentor gets the code of its pattern and each
mentee a lookup row, added by the compiled block kernel where it does so fast (see ``CODES``).
This module holds that layout: which columns are coded (:func:`coded_groups`), the mentees'
lookups (:func:`code_factors`), the mentees' factors of the product (:func:`left_factors`), the
product of a block's other columns (:func:`block_product`) and the rest in the order the kernel
adds it (:meth:`BlockRest.apply`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["BlockRest", "CODES", "CODED_MIN_COLUMNS", "add_rest", "block_product", "code_factors",
           "coded_groups", "codes_fast", "fused_factors", "left_factors"]

#: A run of the mentors' factor columns whose rows take at most ``CODES`` patterns (a trait's
#: one-hot bins of personality: 8 columns, 8 patterns) leaves the product when it has at least
#: ``CODED_MIN_COLUMNS`` columns: each mentor gets the code of its pattern, each mentee a
#: lookup row of ``CODES`` values (its factors times each pattern, in float64, rounded once),
#: and the block kernel adds ``lookup[i, code_j]`` 8 columns at once (``_native/loops.h``,
#: ``mm_codes``). Measured on one core at 100,000 x 20,000 (67 columns): sgemm 1.6 ns a pair,
#: 0.7 with the 27 left once personality's 40 leave (5 groups, their adds about 0.4 ns beside
#: the table's add); a first pass's block 3.2 ms a million pairs, 2.45-2.55 so, 2.33-2.43 with
#: competency's levels coded too (runs of 3-4 columns: 13 groups, one column left, the mentors'
#: column terms, a product sgemm does slowly, 1.15 ns a pair: a plain multiply instead). Only
#: where the compiled kernel does it fast (``scan.codes_fast``: AVX2): elsewhere one entry at a
#: time costs more than the product.
CODES = 8
CODED_MIN_COLUMNS = 3


def _zero(out: np.ndarray) -> np.ndarray:
    out[...] = 0.0
    return out


class BlockRest(NamedTuple):
    """What :meth:`~mentormatch.scale.BoundedScorer.upper` adds to the product ``L @ R`` of a
    block of rows (:meth:`~mentormatch.scale.BoundedScorer.upper_split`), in this order:
    ``adds[g]`` (float32, one a mentor) to the rows ``edges[g]:edges[g + 1]`` (a group run: the
    groups' table row, less the pass's prices), each coded group ``g``'s
    ``lookup[r, g, codes[g, j]]`` (``codes``: uint8, groups x mentors, below ``CODES``;
    ``lookup``: float32, rows x groups x ``CODES``; None: none), the stated pairs ``inc`` (rows,
    columns, float32 values; a CSR's: no pair twice) added, and the removed pairs ``put`` (rows,
    columns, float32 values) set; rows numbered from the block's first, ascending in ``inc`` and
    ``put``; ``inc``, ``put`` None when empty. ``lmul``, ``rmul`` (float32, one a row, one a
    mentor; None: none): the block's product is theirs, ``lmul[r] * rmul[j]``, computed with the
    rest (the block holds no product yet): see ``BoundedScorer.upper_split(fused=True)``."""

    edges: np.ndarray
    adds: np.ndarray
    inc: tuple | None
    put: tuple | None
    codes: np.ndarray | None = None
    lookup: np.ndarray | None = None
    lmul: np.ndarray | None = None
    rmul: np.ndarray | None = None

    def apply(self, s: np.ndarray) -> np.ndarray:
        """``s`` (the block's product, float32) with the rest added, in place (a pair twice in
        ``put``: its last value); with ``lmul``, the product written in ``s`` first."""
        if self.lmul is not None:  # (the floats of block_product's one column)
            np.multiply(self.lmul[:, None], self.rmul[None, :], out=s)
        for g in range(len(self.adds)):
            s[self.edges[g]:self.edges[g + 1]] += self.adds[g]
        if self.codes is not None:  # (a float32 add a group, in order: the kernel's floats)
            for g in range(len(self.codes)):
                s += np.take(self.lookup[:, g, :], self.codes[g], axis=1)
        if self.inc is not None:
            s[self.inc[0], self.inc[1]] += self.inc[2]
        if self.put is not None:
            s[self.put[0], self.put[1]] = self.put[2]
        return s


def add_rest(s: np.ndarray, rest: BlockRest) -> np.ndarray:
    """``rest.apply(s)`` (in place, the same floats), by the compiled block kernel where it was
    built and ``s`` is a C-ordered, writable float32 block: its scan with nothing asked
    (``scan_block(s, 0, ...)``) adds each row's rest and keeps nothing. For the bounds read
    whole outside a pass (:meth:`mentormatch.scale.BoundedScorer.upper`: a bonus's view,
    :class:`mentormatch.solvers.bonus.BonusBounds`, e.g. the budget's Lagrangian flows), where
    :meth:`BlockRest.apply` adds each coded group by a gather of the whole block (13 groups
    at 20,000 x 5,000): there the budget's first three Lagrangian flows took 32.2 s CPU with
    it, 20.6 s with this (19.6 s with no coded groups, the whole product), on a loaded
    machine."""
    from ._native import scan_kernel

    kernel = scan_kernel()
    if (kernel is None or s.dtype != np.float32 or s.ndim != 2 or not s.flags.c_contiguous
            or not s.flags.writeable):
        return rest.apply(s)
    none = np.zeros(0, np.int64)
    kernel.scan_block(s, 0, None, none, none, 1, True, False, rest)
    return s


def coded_groups(right: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(columns, codes, patterns)`` of each run of consecutive columns of ``right`` (mentors x
    factors) whose rows take at most ``CODES`` patterns (``patterns[codes[j]]`` is mentor
    ``j``'s row of the run), for the runs of at least ``CODED_MIN_COLUMNS`` columns (taken
    greedily from the left); see ``CODES``."""
    out, start, d = [], 0, right.shape[1]
    # each column's codes: np.unique's inverse, by a search among the sorted distinct values
    # (np.unique's own argsorts by quicksort, slow on a few repeated values: 0.11 s CPU for
    # 67 columns of 20,000 mentors, this 0.013)
    each = [np.searchsorted(np.unique(right[:, c]), right[:, c]).astype(np.int64) for c in range(d)]
    while start < d:
        key = each[start]
        stop = start + 1
        while stop < d:
            col = each[stop]
            both = key * (col.max(initial=0) + 1) + col  # (numbered 0, 1, ... by a count: no sort)
            seen = np.zeros(int(both.max(initial=0)) + 1, bool)
            seen[both] = True
            both = (np.cumsum(seen) - 1)[both]
            if both.max(initial=0) >= CODES:
                break
            key, stop = both, stop + 1
        if stop - start >= CODED_MIN_COLUMNS:
            first = np.unique(key, return_index=True)[1]
            out.append((np.arange(start, stop), key.astype(np.uint8), right[first, start:stop]))
        start = stop
    return out


def codes_fast() -> bool:
    """Whether the compiled block scan adds coded groups fast here (see ``CODES``)."""
    from ._native import scan_kernel

    kernel = scan_kernel()
    return kernel is not None and bool(getattr(kernel, "codes_fast", lambda: False)())


class Coded(NamedTuple):
    """The coded groups of a bound product (:func:`code_factors`), all None when none is:
    ``codes`` (uint8, groups x mentors), each mentee's ``lookup`` rows (the rows of ``left``:
    rows x groups x ``CODES``, float32), the product's other columns ``rest_cols`` and the
    mentees' factors of them ``left_rest``."""

    codes: np.ndarray | None = None
    lookup: np.ndarray | None = None
    left_rest: np.ndarray | None = None
    rest_cols: np.ndarray | None = None


def code_factors(left: np.ndarray, right: np.ndarray) -> Coded:
    """The coded groups of the product ``left @ right.T`` (``left``: mentees x factors, float32;
    ``right``: mentors x factors, float64, coded on its float32 values), where the kernel adds
    them fast (:func:`codes_fast`; elsewhere none: the whole product). Each mentee's lookup is
    ``left[:, group] @ pattern`` in float64, rounded once. The bound's float32 sum then takes
    its terms in another order than the whole product does, with fewer roundings: the scorer's
    ``margin`` (every order of the same terms) covers it."""
    groups = coded_groups(right.astype(np.float32) if codes_fast() else right[:, :0])
    if not groups:
        return Coded()
    codes = np.ascontiguousarray(np.stack([codes for _, codes, _ in groups]))
    coded = np.concatenate([cols for cols, _, _ in groups])
    rest_cols = np.setdiff1d(np.arange(right.shape[1]), coded)
    if all(np.isin(pat, (0.0, 1.0)).all() for _, _, pat in groups):
        lookup = _sums_of_columns(left, groups, coded)
        return Coded(codes, lookup, np.ascontiguousarray(left[:, rest_cols]), rest_cols)
    # each group's patterns as one block-diagonal matrix: one float64 product for every group
    # (the groups one by one took 0.24 s CPU at 100,000 x 20,000)
    patterns = np.zeros((len(coded), len(groups) * CODES))
    at = 0
    for g, (cols, _, pat) in enumerate(groups):
        patterns[at:at + len(cols), g * CODES:g * CODES + len(pat)] = pat.T
        at += len(cols)
    lookup = np.empty((len(left), len(groups), CODES), np.float32)
    step = max(1, (1 << 22) // max(len(coded), len(groups) * CODES))
    for a0 in range(0, len(left), step):
        part = left[a0:a0 + step][:, coded].astype(np.float64) @ patterns
        lookup[a0:a0 + step] = part.reshape(-1, len(groups), CODES)
    return Coded(codes, lookup, np.ascontiguousarray(left[:, rest_cols]), rest_cols)


def _sums_of_columns(left: np.ndarray, groups, coded: np.ndarray) -> np.ndarray:
    """:func:`code_factors`' lookup where every pattern holds 0 and 1 (personality's bins,
    competency's levels: the default features' every group): each entry is the sum of the
    mentee's factors where its pattern has a 1, added in float64 in column order and rounded
    once, as the block-diagonal product adds them (its products are exact, its other terms
    exact zeros): the same float32 values, bit for bit at 100,000 x 20,000 and in
    ``tests/test_scale_codes.py``. The product, 13x wider than its nonzero terms and on BLAS
    threads, took 0.14-0.27 s CPU at 100,000 x 20,000 (13 groups), this 0.05-0.09."""
    n = len(left)
    by_row = np.ascontiguousarray(left[:, coded].T)  # the coded columns as rows: read in order
    row_of = {int(c): r for r, c in enumerate(coded)}
    out = np.zeros((len(groups) * CODES, n), np.float32)
    acc = np.empty(n)
    for g, (cols, _, pat) in enumerate(groups):
        for c in range(len(pat)):
            rows = [row_of[int(k)] for k in cols[pat[c] != 0]]
            if len(rows) == 1:  # (float32 to float64 and back: the same value)
                out[g * CODES + c] = by_row[rows[0]]
            elif rows:
                np.add(by_row[rows[0]], by_row[rows[1]], out=acc, dtype=np.float64)
                for r in rows[2:]:
                    acc += by_row[r]
                out[g * CODES + c] = acc
    return np.ascontiguousarray(out.T).reshape(n, len(groups), CODES)


def _right_rest(scorer) -> np.ndarray:
    """The mentors' factors of the product's columns not coded (``right_t[rest_cols]``), kept
    on the scorer while its ``right_t`` is the same array (a task of an executor sets its own)."""
    kept = scorer.__dict__.get("_right_rest_of")
    if kept is None or kept[0] is not scorer.right_t:
        kept = (scorer.right_t, np.ascontiguousarray(scorer.right_t[scorer.rest_cols]))
        scorer._right_rest_of = kept
    return kept[1]


def fused_factors(scorer, a: int, b: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``BlockRest.lmul``, ``rmul`` of rows ``a:b`` where the product is one column beside the
    coded groups (the default features' bound), for a block scan that multiplies them as it
    reads each row; else None (:meth:`mentormatch.scale.BoundedScorer.upper_split`)."""
    if scorer.codes is None or len(scorer.rest_cols) != 1:
        return None
    return np.ascontiguousarray(scorer.left_rest[a:b, 0]), _right_rest(scorer)[0]


def block_product(scorer, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
    """The product of rows ``a:b`` of a :class:`~mentormatch.scale.BoundedScorer` (in ``out``,
    float32, at least ``b - a`` rows, when given): ``L @ R``, or without its coded groups the
    product of the other columns."""
    out = None if out is None else out[:b - a]
    if scorer.codes is None:
        return np.matmul(scorer.left[a:b], scorer.right_t, out=out)
    if len(scorer.rest_cols) == 1:  # (a product of one column: sgemm took 1.15 ns a pair)
        return np.multiply(scorer.left_rest[a:b], _right_rest(scorer), out=out)
    if len(scorer.rest_cols):
        return np.matmul(scorer.left_rest[a:b], _right_rest(scorer), out=out)
    return np.zeros((b - a, scorer.m), np.float32) if out is None else _zero(out)


def left_factors(lefts: list, row: np.ndarray, right_max: np.ndarray,
                  inverse: np.ndarray) -> tuple[np.ndarray, float]:
    """The mentees' factors of the bound product, float32, row ``inverse[i]`` for mentee ``i``
    (the internal order), and the largest ``|left| @ right_max`` of a mentee (float64): each
    feature's left factor times its weight (``(factor, weight)``; weight None: as it is), the
    row terms and a column of ones. Built a few thousand rows at a time in one float64 buffer:
    the whole float64 matrix, its weighted copies, its ``|left|`` and its reordered copy were
    four 50 MB arrays at 100,000 x 20,000."""
    n = len(row)
    d = sum(a.shape[1] for a, _ in lefts) + 2
    out = np.empty((n, d), dtype=np.float32)
    buf = np.empty((min(n, 4096), d))
    largest = 0.0
    for a0 in range(0, n, len(buf) or 1):
        b0 = min(a0 + len(buf), n)
        part = buf[:b0 - a0]
        c = 0
        for a, w in lefts:
            k = a.shape[1]
            if w is None:
                part[:, c:c + k] = a[a0:b0]
            else:
                np.multiply(a[a0:b0], w, out=part[:, c:c + k])
            c += k
        part[:, c] = row[a0:b0]
        part[:, c + 1] = 1.0
        out[inverse[a0:b0]] = part  # (rounded to float32 as astype rounds)
        largest = max(largest, float((np.abs(part, out=part) @ right_max).max(initial=0.0)))
    return out, largest


#: Entries of the groups' table summed at a time by :func:`keyed_table`: a float64 part of
#: 1 MiB stays in a core's cache while the terms are added, rounded and measured (667 groups x
#: 20,000 mentors, 2 terms: 54-58 ms CPU, against 71-82 at 1 << 20, 59-72 at 1 << 18 and 56-61
#: at 1 << 16; the same table bit for bit)
TABLE_STEP = 1 << 17


def keyed_table(tabs: list, groups: np.ndarray, m: int, big: float) -> tuple[np.ndarray, float]:
    """The groups x mentors table of the keyed terms (float32): row ``g`` is the sum over the
    terms ``t`` of ``tabs[t][groups[g, t]]``, in float64 and rounded once; and the largest size
    of an eligible entry (above ``-big / 2``: ``big`` is :data:`mentormatch.scale.BIG`, the ineligible entries' value), 0 when none. Summed a few groups at a time:
    whole-table temporaries (200 MB at 1,255 groups x 20,000 mentors) cost a second."""
    table = np.empty((len(groups), m), dtype=np.float32)
    largest = 0.0
    step = max(1, TABLE_STEP // max(m, 1))
    for g0 in range(0, len(groups), step):
        part = np.zeros((min(step, len(groups) - g0), m))
        for t, tab in enumerate(tabs):
            part += tab[groups[g0:g0 + step, t]]
        table[g0:g0 + step] = part
        part = np.abs(table[g0:g0 + step], where=part > -big / 2, out=part)
        largest = max(largest, float(part.max(initial=0.0)))
    return table, largest
