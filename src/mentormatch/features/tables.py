"""Lookup tables over distinct values: exact feature values gathered per pair by integer codes.

Most features depend on a pair only through a few distinct values of each side (the two
cities, the (years, level) of each person, the mentee's target role and the mentor's
competency levels). A prepared extractor may then offer ``pair_table(max_entries)``: an object
with ``gather(mentee, mentor)`` that returns exactly what ``values(mentee, mentor)`` returns,
read from a table computed once by ``values`` itself on one representative pair of each
combination of codes. Scoring then does no per-pair arithmetic on repeated values: per pair
it adds two codes and takes one number. ``pair_table`` returns None when the table would hold
more than ``max_entries`` numbers; scoring then calls ``values`` as before.

Three forms:

- :class:`PairTable`: ``value(i, j) = table[row[i] + col[group[i], j]]`` (a keyed table; with
  groups, the mentor codes may differ by the mentee's group, e.g. their target role);
- :class:`SparsePairs`: a constant everywhere except on a few listed pairs (stated
  preferences);
- a feature-specific object with the same two methods (personality sums one table per trait).

Every form has ``gather(mentee, mentor) -> float64 array`` (NaN = unknown, as ``values``),
``has_nan`` (whether any NaN can come out) and ``bad()``: None, or a representative
(mentee, mentor, value) outside [0, 1], so that scoring can fall back to ``values`` and
report the exact pair. A form may also offer ``rows(mentees)``: the values of the given
mentees with every mentor, row after row (the complete set of pairs), or None; a keyed table
then copies whole rows of a (mentee group x mentor) table instead of gathering pair by pair.
A form may offer ``weighted(weight, neutral)``: the same form over ``weight * value`` with
``neutral`` for NaN, whose ``gather`` is a pair's contribution to the score, to the bit (the
same two operations on the same numbers, done once per entry instead of once per pair): the
totals-only scoring (:func:`mentormatch.scoring_totals.score_totals`) adds them straight up.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .base import row_keys

#: Default bound on the numbers a feature's lookup table may hold (8 MB of float64).
MAX_TABLE_ENTRIES = 1 << 20
#: Most numbers of a (mentee group x mentor) table built for ``rows`` (32 MB of float64).
MAX_ROW_TABLE_ENTRIES = 1 << 22


def _bad(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & ((values < 0) | (values > 1))


def _weighted(values: np.ndarray, weight: float, neutral: float) -> np.ndarray:
    """``weight * value`` with ``neutral`` for NaN, as scoring computes a contribution:
    ``np.where(isnan, neutral, v)``, then ``*= weight``."""
    out = np.where(np.isnan(values), neutral, values)
    out *= weight
    return out


@dataclass
class PairTable:
    """``value(i, j) = table[row[i] + col[group[i], j]]`` (``group`` None: ``col[0, j]``).

    ``rep_mentee[k], rep_mentor[k]``: a real pair whose value is ``table[k]``."""

    table: np.ndarray  # (K,) float64, NaN = unknown
    row: np.ndarray  # (n_mentees,) intp offsets into table
    col: np.ndarray  # (G, n_mentors) intp
    group: np.ndarray | None
    rep_mentee: np.ndarray
    rep_mentor: np.ndarray

    def __post_init__(self):
        self.has_nan = bool(np.isnan(self.table).any())
        m = self.col.shape[1]
        self._col = np.ascontiguousarray(self.col, dtype=np.intp).reshape(-1)
        self._row = np.asarray(self.row, dtype=np.intp)
        self._goff = None if self.group is None else np.asarray(self.group, dtype=np.intp) * m
        self._by_row = None  # (row codes, (groups x mentors) table) for ``rows``, built at first use

    @classmethod
    def keyed(cls, values, key_e: np.ndarray, first_e: np.ndarray, key_m: np.ndarray,
              first_m: np.ndarray) -> "PairTable":
        """The table of ``values`` (a prepared extractor's ``values``) over every mentee group
        ``key_e`` and mentor group ``key_m`` (from :func:`~mentormatch.features.base.row_keys`);
        exact when the value depends on a pair only through the two groups."""
        ke, km = len(first_e), len(first_m)
        rep_e, rep_m = np.repeat(first_e, km), np.tile(first_m, ke)
        table = np.asarray(values(rep_e, rep_m), dtype=np.float64).reshape(-1)
        return cls(table, key_e.astype(np.intp) * km, key_m.astype(np.intp)[None, :], None, rep_e, rep_m)

    def bad(self):
        bad = _bad(self.table)
        if not bad.any():
            return None
        k = int(np.flatnonzero(bad)[0])
        return int(self.rep_mentee[k]), int(self.rep_mentor[k]), float(self.table[k])

    def gather(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        idx = np.take(self._row, mentee)
        if self._goff is None:
            idx += np.take(self._col, mentor)
        else:
            where = np.take(self._goff, mentee)
            where += mentor
            idx += np.take(self._col, where)
        return np.take(self.table, idx)

    def weighted(self, weight: float, neutral: float) -> "PairTable":
        """This table over ``weight * value``, ``neutral`` for NaN (see the module)."""
        return replace(self, table=_weighted(self.table, weight, neutral))

    def rows(self, mentees: np.ndarray) -> np.ndarray | None:
        """The values of ``mentees`` with every mentor, row after row (flat), copied from a
        (distinct row offset x mentor) table; when that table would be too large, gathered
        with whole rows of mentor codes."""
        if self._by_row is None:
            offsets, code = np.unique(self._row, return_inverse=True)
            m = self.col.shape[1]
            if len(offsets) * m > MAX_ROW_TABLE_ENTRIES:
                self._by_row = False
            else:
                goff = (np.zeros(len(offsets), np.intp) if self._goff is None
                        else self._goff[np.unique(self._row, return_index=True)[1]])
                # row r, mentor j: table[offset_r + col[group_r, j]], as ``gather`` reads it
                idx = offsets[:, None] + self._col[goff[:, None] + np.arange(m)[None, :]]
                self._by_row = (code.reshape(-1).astype(np.intp), np.take(self.table, idx))
        if self._by_row is False:  # too large: whole rows of mentor codes, one gather
            col = self._col.reshape(self.col.shape)
            idx = col[0][None, :] if self.group is None else col[np.take(self.group, mentees)]
            idx = idx + np.take(self._row, mentees)[:, None]
            return np.take(self.table, idx.reshape(-1))
        code, by_row = self._by_row
        return by_row[np.take(code, mentees)].reshape(-1)


def keyed_pair_table(values, mentee_columns, mentor_columns, max_entries: int) -> PairTable | None:
    """:meth:`PairTable.keyed` with the groups of equal values of the given columns (NaN equal
    to NaN), or None when the table would exceed ``max_entries``."""
    key_e, first_e = row_keys(*mentee_columns)
    key_m, first_m = row_keys(*mentor_columns)
    if len(first_e) * len(first_m) > max_entries:
        return None
    return PairTable.keyed(values, key_e, first_e, key_m, first_m)


@dataclass
class SparsePairs:
    """``default`` on every pair except the listed ``(mentee, mentor)`` pairs, which have
    ``values``; ``n_mentors`` makes the pair keys ``mentee * n_mentors + mentor``."""

    default: float
    mentee: np.ndarray
    mentor: np.ndarray
    values: np.ndarray
    n_mentors: int

    def __post_init__(self):
        key = self.mentee.astype(np.int64) * self.n_mentors + self.mentor.astype(np.int64)
        order = np.argsort(key, kind="stable")
        self._key, self._values = key[order], np.asarray(self.values, dtype=np.float64)[order]
        self._mentee, self._mentor = self.mentee[order], self.mentor[order]
        self.has_nan = bool(np.isnan(self._values).any()) or bool(np.isnan(self.default))

    def bad(self):
        bad = _bad(self._values)
        if not bad.any():
            return None if not _bad(np.array([self.default]))[0] else (0, 0, self.default)
        k = int(np.flatnonzero(bad)[0])
        return int(self._mentee[k]), int(self._mentor[k]), float(self._values[k])

    def weighted(self, weight: float, neutral: float) -> "SparsePairs":
        """These pairs over ``weight * value``, ``neutral`` for NaN (see the module)."""
        return replace(self, default=float(_weighted(np.array([self.default]), weight, neutral)[0]),
                       values=_weighted(np.asarray(self.values, np.float64), weight, neutral))

    def gather(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        out = np.full(len(mentee), self.default, dtype=np.float64)
        if not len(mentee) or not len(self._key):
            return out
        # the listed pairs of these mentees only, then their positions among the given pairs
        lo, hi = int(mentee.min()), int(mentee.max())
        a, b = np.searchsorted(self._key, [lo * self.n_mentors, (hi + 1) * self.n_mentors])
        if a == b:
            return out
        key = mentee.astype(np.int64, copy=False) * self.n_mentors
        key += np.asarray(mentor, np.int64)
        wanted = self._key[a:b]
        if len(key) > 1 and bool(np.all(key[1:] > key[:-1])):
            # the given pairs in key order, each once (the exact scores' batches, the complete
            # set's chunks): the few listed pairs looked up among them, not each given pair
            # among the listed ones. The ranks' exact scores at 100,000 x 20,000 (17.5 million
            # pairs, one thread, load 14): this feature 0.36 -> 0.21 s, the scores 2.18 -> 1.96
            at = np.searchsorted(key, wanted)
            hit = at < len(key)
            hit[hit] = key[at[hit]] == wanted[hit]
            hit[:-1] &= wanted[1:] != wanted[:-1]  # (a key listed twice: its last value, as below)
            out[at[hit]] = self._values[a:b][hit]
            return out
        # each given pair looked up among those listed pairs (the last of equal keys), in any
        # order: a sort of the given pairs (a chunk not in key order: 2 ms a 16,384) is no longer
        # needed, and a pair given twice gets its value twice (the listed pairs looked up among
        # the sorted given ones marked the first copy only)
        pos = np.searchsorted(wanted, key, side="right") - 1
        np.maximum(pos, 0, out=pos)
        hit = wanted[pos] == key
        out[hit] = self._values[a:b][pos[hit]]
        return out
