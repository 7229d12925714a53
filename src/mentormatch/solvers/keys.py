"""Orders and membership of integer keys (node numbers, pair codes ``i * m + j``), fast where
their range is small: stable orders by 16-bit radix sorts, membership by a mask over the keys'
range. Used by the tie rule (:mod:`.ties`), the dense passes (:mod:`.dense`) and the bounded
passes (:mod:`.bounded`)."""
from __future__ import annotations

import numpy as np

#: :func:`member` marks a mask of the sorted keys' range when it is at most this many cells
#: per key looked up or held (a bool each), else searches.
MEMBER_MASK = 8
#: :func:`pair_order` reads distinct pairs off a bucket per code when the codes' range is at
#: most this many cells per pair (a bool and an int32 each), else sorts.
PAIR_BUCKET = 8


def member(key: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(key, sorted_keys)`` for a sorted int64 array, by binary search; by a mask
    over the sorted keys' range when that range is at most :data:`MEMBER_MASK` times the
    keys' count (a binary search in keys out of order misses the cache: 250,000 keys in 18,000,
    20 ms against 2 ms)."""
    if not len(sorted_keys):
        return np.zeros(len(key), dtype=bool)
    lo, hi = int(sorted_keys[0]), int(sorted_keys[-1])
    if hi - lo < MEMBER_MASK * (len(key) + len(sorted_keys)):
        mask = np.zeros(hi - lo + 1, dtype=bool)
        mask[sorted_keys - lo] = True
        key = np.asarray(key)
        inside = (key >= lo) & (key <= hi)
        out = np.zeros(len(key), dtype=bool)
        out[inside] = mask[key[inside] - lo]
        return out
    pos = np.minimum(np.searchsorted(sorted_keys, key), len(sorted_keys) - 1)
    return sorted_keys[pos] == key


def by_tail(tail: np.ndarray, n_nodes: int) -> np.ndarray:
    """``np.argsort(tail, kind="stable")`` for node numbers below ``n_nodes``: as 16-bit
    integers when they fit, which NumPy sorts by radix (250,000 arcs: 1 ms against 15 ms)."""
    if n_nodes <= 1 << 16:
        return np.argsort(np.asarray(tail).astype(np.uint16), kind="stable")
    return np.argsort(tail, kind="stable")


def pair_order(first: np.ndarray, second: np.ndarray, n_first: int, n_second: int) -> np.ndarray:
    """``np.argsort(first * n_second + second, kind="stable")`` for ``first < n_first``,
    ``second < n_second``: for distinct pairs that fill at least 1 / :data:`PAIR_BUCKET` of
    their range, a bucket per code; else two stable passes of :func:`by_tail` (least
    significant first) when both fit in 16 bits (250,000 pairs: 3 ms against 19 ms).

    >>> pair_order(np.array([1, 0, 1, 0]), np.array([0, 2, 1, 1]), 2, 3).tolist()
    [3, 1, 0, 2]
    """
    size = n_first * n_second
    if len(first) and size <= PAIR_BUCKET * len(first):
        # a bucket per code: distinct codes are read off in order, in one pass over the range
        # (250,000 pairs in 2,000 x 500: 3 ms against 7 ms); repeated codes go the other way
        code = np.asarray(first, np.int64) * n_second + second
        seen = np.zeros(size, dtype=bool)
        seen[code] = True
        codes = np.flatnonzero(seen)
        if len(codes) == len(code):
            at = np.empty(size, np.int32 if len(code) < 1 << 31 else np.int64)
            at[code] = np.arange(len(code), dtype=at.dtype)
            return at[codes].astype(np.intp)
    if max(n_first, n_second) > 1 << 16:
        return np.argsort(np.asarray(first, np.int64) * n_second + second, kind="stable")
    order = by_tail(second, n_second)
    return order[by_tail(np.asarray(first)[order], n_first)]
