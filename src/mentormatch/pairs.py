"""Candidate pairs as parallel index arrays grouped by mentee, and the id <-> index encoder.

Ids live only at the edges: everything between validation and the result works on integer
indices. Mentee index ``i`` runs over the mentees table's rows, mentor index ``j`` over the
mentors table's rows, both in input order. A dense score matrix reaches the solvers
(row-major, -inf = ineligible) through :class:`DenseRows`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd


def unique_sorted(codes: np.ndarray, kind: str | None = None) -> np.ndarray:
    """``np.unique`` of integer codes by one sort: NumPy 2's hash-based ``np.unique`` takes
    about a second for a million distinct int64 codes, a sort 20 ms. ``kind``: the sort's
    (``"stable"`` merges codes that come in ascending runs: a check's 700,000 suspects in 20 ms,
    not 55 by ``np.unique``'s index; s31h5)."""
    x = np.sort(np.asarray(codes).ravel(), kind=kind)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def run_positions(first: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``first[k], ..., first[k] + lengths[k] - 1`` of every ``k``, joined in order
    (the entries of some runs of an array grouped by key, without a loop over the runs).

    >>> run_positions(np.array([5, 0]), np.array([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    lengths = np.asarray(lengths, np.int64)
    return np.repeat(np.asarray(first, np.int64) - np.cumsum(lengths) + lengths, lengths) + \
        np.arange(int(lengths.sum()))


def order_of_runs(key: np.ndarray, group: np.ndarray | None = None) -> np.ndarray | None:
    """The permutation that sorts ``key`` (distinct integers), when ``key`` is a few ascending
    runs whose ranges do not overlap, a run ending where ``key`` does not ascend or where
    ``group`` (one a key) changes; None otherwise. For pairs read row by row, each row's mentors
    ascending, the keys ``mentee * n_mentors + mentor`` and the rows as ``group`` (two rows in a
    row whose keys happen to ascend would otherwise make one run, whose range may hold a third's):
    the runs are put in order by their first keys, each kept whole, a few passes over the keys
    instead of a sort of every key (a stable argsort of 524,288 such keys, a timsort that merges
    the runs: 28 ms; this: 2-3 ms).

    >>> order_of_runs(np.array([7, 8, 9, 1, 2, 4, 5])).tolist()
    [3, 4, 5, 6, 0, 1, 2]
    >>> order_of_runs(np.array([1, 5, 2, 6])) is None  # the runs [1, 5] and [2, 6] overlap
    True
    >>> key, row = np.array([1, 2, 6, 7, 3, 4]), np.array([0, 0, 1, 1, 2, 2])
    >>> order_of_runs(key) is None, order_of_runs(key, row).tolist()  # [1, 2, 6, 7] holds [3, 4]
    (True, [0, 1, 4, 5, 2, 3])
    """
    key = np.asarray(key)
    n = len(key)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    cut = key[1:] <= key[:-1]
    if group is not None:
        cut |= group[1:] != group[:-1]
    starts = np.concatenate([[0], np.flatnonzero(cut) + 1])
    if len(starts) > n // 2:  # (runs of one or two keys: a sort does as well)
        return None
    ends = np.concatenate([starts[1:], [n]])
    by_first = np.argsort(key[starts], kind="stable")
    if not bool(np.all(key[ends[by_first[:-1]] - 1] < key[starts[by_first[1:]]])):
        return None
    lengths = (ends - starts)[by_first]
    shift = starts[by_first] - (np.cumsum(lengths) - lengths)  # run's old start less its new one
    return np.repeat(shift, lengths) + np.arange(n, dtype=np.int64)

@dataclass(frozen=True)
class Encoder:
    """Maps string ids to row indices and back, for one table."""

    ids: np.ndarray  # object array of str, in row order

    @classmethod
    def from_ids(cls, ids) -> "Encoder":
        return cls(np.asarray(list(ids), dtype=object))

    def __len__(self) -> int:
        return len(self.ids)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """id -> row index; built once (the encoder is immutable), so a lookup is O(1)."""
        return {v: k for k, v in enumerate(self.ids)}

    def encode(self, ids) -> np.ndarray:
        lookup = self.index
        return np.fromiter((lookup[i] for i in ids), dtype=np.int64, count=len(ids))

    def decode(self, idx: np.ndarray) -> np.ndarray:
        return self.ids[np.asarray(idx, dtype=np.int64)]


@dataclass(frozen=True)
class Candidates:
    """Candidate (mentee, mentor) pairs, sorted by mentee then mentor.

    ``mentee[k]`` and ``mentor[k]`` are the row indices of pair ``k``. The complete set is
    just the special case with every pair present, so one code path serves both.
    """

    mentee: np.ndarray  # int64, sorted ascending (primary key)
    mentor: np.ndarray  # int64, ascending within each mentee
    n_mentees: int
    n_mentors: int

    @classmethod
    def complete(cls, n_mentees: int, n_mentors: int) -> "Candidates":
        i = np.repeat(np.arange(n_mentees, dtype=np.int64), n_mentors)
        j = np.tile(np.arange(n_mentors, dtype=np.int64), n_mentees)
        return cls(i, j, n_mentees, n_mentors)

    @classmethod
    def from_arrays(cls, mentee, mentor, n_mentees: int, n_mentors: int) -> "Candidates":
        """Sort and deduplicate arbitrary pair arrays."""
        mentee = np.asarray(mentee, dtype=np.int64)
        mentor = np.asarray(mentor, dtype=np.int64)
        key = unique_sorted(mentee * n_mentors + mentor)
        return cls(key // n_mentors, key % n_mentors, n_mentees, n_mentors)

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> "Candidates":
        """Pairs where a (n_mentees x n_mentors) boolean mask is True."""
        mask = np.asarray(mask, dtype=bool)
        n, m = mask.shape
        # the row-major positions i * m + j, and each row's count for i (np.nonzero on the
        # 2-d mask took 41 us at 200 x 50, this 24: no division)
        key = np.flatnonzero(mask).astype(np.int64, copy=False)
        i = np.repeat(np.arange(n, dtype=np.int64), np.count_nonzero(mask, axis=1))
        return cls(i, key - i * m, n, m)

    def __len__(self) -> int:
        return len(self.mentee)

    @property
    def key(self) -> np.ndarray:
        """One int64 per pair, ``mentee * n_mentors + mentor``, ascending."""
        return self.mentee * self.n_mentors + self.mentor

    def subset(self, keep: np.ndarray) -> "Candidates":
        """The pairs where the boolean array ``keep`` is True (order kept)."""
        return Candidates(self.mentee[keep], self.mentor[keep], self.n_mentees, self.n_mentors)

    def locate(self, mentee, mentor) -> np.ndarray:
        """Positions of the given pairs in this set, -1 where absent."""
        key = np.asarray(mentee, dtype=np.int64) * self.n_mentors + np.asarray(mentor, dtype=np.int64)
        keys = self.key  # (computed on each access: once here)
        pos = np.searchsorted(keys, key)
        pos = np.minimum(pos, max(len(self) - 1, 0))
        found = (len(self) > 0) & (keys[pos] == key) if len(self) else np.zeros(len(key), bool)
        return np.where(found, pos, -1)

    def starts(self) -> np.ndarray:
        """``starts[i]:starts[i+1]`` slices mentee ``i``'s pairs (length n_mentees + 1)."""
        return np.searchsorted(self.mentee, np.arange(self.n_mentees + 1))

    def blocks(self, rows: int = 2048) -> Iterator[slice]:
        """Slices of the pair arrays covering whole mentees, ``rows`` mentees at a time."""
        starts = self.starts()
        for a in range(0, self.n_mentees, rows):
            b = min(a + rows, self.n_mentees)
            yield slice(int(starts[a]), int(starts[b]))

    def to_frame(self, mentee_ids: Encoder, mentor_ids: Encoder) -> pd.DataFrame:
        return pd.DataFrame(
            {"mentee_id": mentee_ids.decode(self.mentee), "mentor_id": mentor_ids.decode(self.mentor)}
        )



class DenseRows:
    """A dense mentees x mentors score matrix with a forbidden mask, served a block of mentee
    rows at a time as row-major float64 with ``-inf`` where forbidden: a block scorer for
    :func:`mentormatch.solvers.certify.solve_scored` that never copies the whole matrix.

    A DataFrame's ``to_numpy()`` is usually a column-major view of pandas' block, while the
    solvers read rows; each block is transposed tile by tile (cache-sized tiles: about twice
    as fast as one strided copy). One full-size row-major copy instead would add the matrix's
    size to the peak memory, and touching that much fresh memory costs about as much as the
    few passes of blocks a certified solve makes.

    ``values`` is never modified; ``forbid`` (bool, same shape) may be None.
    """

    TILE = (128, 256)  # rows x columns copied at a time when transposing
    #: forbidden cells are kept as sorted row-major positions while they are sparse (int64
    #: positions cost 8 bytes each, the bool mask 1 byte a cell); denser masks are kept as is
    SPARSE_SHARE = 1 / 16

    def __init__(self, values: np.ndarray, forbid: np.ndarray | None = None):
        self.values = values
        self.n_mentees, self.n_mentors = n, m = values.shape
        self.n_forbidden = np.zeros(n, dtype=np.int64)  # per mentee row
        self.keys: np.ndarray | None = None  # sorted i * m + j of the forbidden cells
        self.mask: np.ndarray | None = None
        #: the forbidden mask as given (bool, never copied), for lookups of single cells
        self.forbid: np.ndarray | None = None
        if forbid is None or values.size == 0:
            return
        forbid = self.forbid = np.asarray(forbid, dtype=bool)
        if forbid.shape != (n, m):
            raise ValueError(f"forbid has shape {forbid.shape}, expected {(n, m)}")
        # scan the mask in its own memory order, about a million cells at a time
        by_mentor = forbid.flags.f_contiguous and not forbid.flags.c_contiguous
        base = forbid.T if by_mentor else np.ascontiguousarray(forbid)
        width = base.shape[1]
        step = max(1, (1 << 20) // max(width, 1))
        parts, total, most = [], 0, self.SPARSE_SHARE * forbid.size
        for a in range(0, base.shape[0], step):
            at = np.flatnonzero(base[a:a + step])  # r * width + c, r counted from row a of base
            total += len(at)
            if total > most:  # dense: keep the mask itself
                self.mask = forbid
                self.n_forbidden = np.count_nonzero(forbid, axis=1).astype(np.int64)
                return
            if by_mentor:  # r a mentor, c a mentee: c * m + (a + r), one division
                parts.append(at * m - (at // width) * (width * m - 1) + a)
            else:  # rows of the mask itself (width m): the positions are the keys
                parts.append(at + a * m)
        keys = np.concatenate(parts)
        self.keys = np.sort(keys) if by_mentor else keys
        # per mentee row, by the keys' order (no division)
        self.n_forbidden = np.diff(np.searchsorted(self.keys, np.arange(n + 1, dtype=np.int64) * m))

    def __call__(self, rows: slice) -> np.ndarray:
        a, b, _ = rows.indices(self.n_mentees)
        b = max(a, b)
        src = self.values[a:b]
        masked = (self.mask is not None) or (self.keys is not None and len(self.keys))
        if src.flags.c_contiguous and not masked:
            return src  # already rows, nothing to mask: a view (solve_scored never writes)
        if src.flags.c_contiguous:
            out = np.array(src, dtype=np.float64, order="C")
        else:
            out = np.empty((b - a, self.n_mentors), dtype=np.float64)
            tr, tc = self.TILE
            for r in range(0, b - a, tr):
                for c in range(0, self.n_mentors, tc):
                    out[r:r + tr, c:c + tc] = src[r:r + tr, c:c + tc]
        if self.mask is not None:
            np.copyto(out, -np.inf, where=self.mask[a:b])
        elif masked:
            m = self.n_mentors
            lo, hi = np.searchsorted(self.keys, [a * m, b * m])
            out.reshape(-1)[self.keys[lo:hi] - a * m] = -np.inf
        return out

    def at(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The masked scores of the cells (i[k], j[k])."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        s = self.values[i, j].astype(np.float64)
        if self.mask is not None:
            s[self.mask[i, j]] = -np.inf
        elif self.keys is not None and len(self.keys) and len(i):
            key = i * self.n_mentors + j
            pos = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
            s[self.keys[pos] == key] = -np.inf
        return s

    def row_counts(self, value: float = -np.inf) -> np.ndarray:
        """Per mentee row, the cells of the masked matrix equal to ``value``, a block at a time."""
        n, m = self.n_mentees, self.n_mentors
        out = np.zeros(n, dtype=np.int64)
        step = max(1, (1 << 20) // max(m, 1))
        for a in range(0, n, step):
            out[a:a + step] = np.count_nonzero(self(slice(a, a + step)) == value, axis=1)
        return out
