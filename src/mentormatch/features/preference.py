"""Preference: the people's own ranked choices, and their managers' suggestions.

A mentee ranks mentors (``preferences`` of the mentees table), a mentor ranks mentees
(``preferences`` of the mentors table), best first. Rank ``r`` (1 = first) in a list of
length ``R`` is worth ``s = (R - r + 1) / R`` (1 for a first choice). Then::

    both rank each other (mutual)  value = 0.5 + 0.25 * (s_mentee + s_mentor)   in (0.5, 1]
    only one side ranks the other  value = 0.25 + 0.25 * s                      in (0.25, 0.5]
    neither                        value = 0

plus ``manager_bonus`` (default 0.2) when the mentee's manager suggested the mentor
(``manager_suggestions``), capped at 1. A mutual choice always beats a one-sided one, and a
mutual first choice is 1.

Neutral: an unranked pair is worth 0, the same constant for everyone, never NaN. The feature is
a bonus for stated choices, not a penalty: 0 is not negative, a mentee without preferences gets
0 with every mentor, so the feature does not reorder their mentors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import register_feature
from .base import Context, check_number


def _rank_table(frame: pd.DataFrame, column: str, other_ids: pd.Index, n_other: int):
    """Sorted keys ``row * n_other + other`` and their (rank, list length), from an id-list column."""
    if column not in frame.columns or not len(frame):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    lists = frame[column].map(lambda v: tuple(v) if isinstance(v, (tuple, list)) else ())
    flat = lists.explode().dropna()
    if not len(flat):
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    rows = flat.index.to_numpy(dtype=np.int64)
    rank = flat.groupby(level=0).cumcount().to_numpy(dtype=np.float64) + 1.0
    length = lists.map(len).to_numpy(dtype=np.float64)[rows]
    other = other_ids.get_indexer(flat.astype(str).to_numpy())
    keep = other >= 0
    key = rows[keep] * n_other + other[keep]
    key, first = np.unique(key, return_index=True)
    return key, rank[keep][first], length[keep][first]


def _gather(keys: np.ndarray, values: np.ndarray, query: np.ndarray, fill: float = 0.0) -> np.ndarray:
    if not len(keys):
        return np.full(len(query), fill)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, values[pos], fill)


class _PreferencePrepared:
    def __init__(self, feature: "Preference", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        self.n_mentors = len(mentors)
        self.n_mentees = len(mentees)
        mentee_ids = pd.Index(mentees["id"].astype(str)) if "id" in mentees.columns else pd.Index([])
        mentor_ids = pd.Index(mentors["id"].astype(str)) if "id" in mentors.columns else pd.Index([])
        mentees = mentees.reset_index(drop=True)
        mentors = mentors.reset_index(drop=True)
        # mentee-side ranks keyed mentee * n_mentors + mentor
        self.e_key, self.e_rank, self.e_len = _rank_table(mentees, "preferences", mentor_ids, self.n_mentors)
        # mentor-side ranks, re-keyed to mentee * n_mentors + mentor
        k, r, n = _rank_table(mentors, "preferences", mentee_ids, max(self.n_mentees, 1))
        rekey = (k % max(self.n_mentees, 1)) * self.n_mentors + k // max(self.n_mentees, 1)
        order = np.argsort(rekey)
        self.m_key, self.m_rank, self.m_len = rekey[order], r[order], n[order]
        self.s_key, _, _ = _rank_table(mentees, "manager_suggestions", mentor_ids, self.n_mentors)

    def _facts(self, i, j):
        key = np.asarray(i, np.int64) * self.n_mentors + np.asarray(j, np.int64)
        e_rank = _gather(self.e_key, self.e_rank, key)
        e_len = _gather(self.e_key, self.e_len, key, 1.0)
        m_rank = _gather(self.m_key, self.m_rank, key)
        m_len = _gather(self.m_key, self.m_len, key, 1.0)
        suggested = _gather(self.s_key, np.ones(len(self.s_key)), key) > 0
        return e_rank, e_len, m_rank, m_len, suggested

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        e_rank, e_len, m_rank, m_len, suggested = self._facts(mentee, mentor)
        s_e = np.where(e_rank > 0, (e_len - e_rank + 1) / e_len, 0.0)
        s_m = np.where(m_rank > 0, (m_len - m_rank + 1) / m_len, 0.0)
        both, either = (e_rank > 0) & (m_rank > 0), (e_rank > 0) | (m_rank > 0)
        base = np.where(both, 0.5 + 0.25 * (s_e + s_m), np.where(either, 0.25 + 0.25 * (s_e + s_m), 0.0))
        return np.minimum(base + self.feature.manager_bonus * suggested, 1.0)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        e_rank, _, m_rank, _, suggested = self._facts(mentee, mentor)
        return {"mentee_rank": e_rank.astype(np.int64), "mentor_rank": m_rank.astype(np.int64),
                "mutual": (e_rank > 0) & (m_rank > 0), "manager_suggested": suggested}

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None


@register_feature
class Preference:
    """Stated choices of mentees and mentors, and managers' suggestions.

    Parameters
    ----------
    manager_bonus : float
        Added (cap 1) when the mentee's manager suggested the mentor; in [0, 1], default 0.2
        (below the 0.25 floor of a one-sided ranked choice).

    Notes
    -----
    Columns: ``preferences`` (both tables, ranked id lists, best first) and
    ``manager_suggestions`` (mentees). Details: ``mentee_rank``, ``mentor_rank`` (0 =
    unranked), ``mutual``, ``manager_suggested``. Never NaN; neutral 0 (see module docs).
    """

    name = "preference"
    neutral = 0.0

    def __init__(self, *, manager_bonus: float = 0.2):
        self.manager_bonus = check_number(self.name, "manager_bonus", manager_bonus, 0.0, 1.0)

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _PreferencePrepared:
        return _PreferencePrepared(self, mentees, mentors)
