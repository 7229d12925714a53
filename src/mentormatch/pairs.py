"""Candidate pairs as parallel index arrays grouped by mentee, and the id <-> index encoder.

Ids live only at the edges: everything between validation and the result works on integer
indices. Mentee index ``i`` runs over the mentees table's rows, mentor index ``j`` over the
mentors table's rows, both in input order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Encoder:
    """Maps string ids to row indices and back, for one table."""

    ids: np.ndarray  # object array of str, in row order

    @classmethod
    def from_ids(cls, ids) -> "Encoder":
        return cls(np.asarray(list(ids), dtype=object))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def index(self) -> dict[str, int]:
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
        key = np.unique(mentee * n_mentors + mentor)
        return cls(key // n_mentors, key % n_mentors, n_mentees, n_mentors)

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> "Candidates":
        """Pairs where a (n_mentees x n_mentors) boolean mask is True."""
        i, j = np.nonzero(mask)
        return cls(i.astype(np.int64), j.astype(np.int64), mask.shape[0], mask.shape[1])

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
        pos = np.searchsorted(self.key, key)
        pos = np.minimum(pos, max(len(self) - 1, 0))
        found = (len(self) > 0) & (self.key[pos] == key) if len(self) else np.zeros(len(key), bool)
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
