"""Preference: the choices people stated, and their managers' suggestions.

Mentees rank mentors (``preferences`` of the mentees table, best first) and mentors rank
mentees (``preferences`` of the mentors table); a mentee's manager may suggest mentors
(``manager_suggestions``). For a pair, with ``r`` the 1-based rank one person gives the other
in a list of length ``L``, the *strength* of that choice is ``s = 1 - (r - 1) / L`` (1 for a
first choice, ``1 / L`` for the last). Then::

    value = mutual_base + (1 - mutual_base) * (s_mentee + s_mentor) / 2   both rank each other
          = mentee_weight * s_mentee                                      only the mentee ranks
          = mentor_weight * s_mentor                                      only the mentor ranks
          = 0                                                             nobody ranks the pair
    value = min(value + suggestion_bonus, 1)   when the mentee's manager suggested the mentor

With the defaults (0.6, 0.5, 0.3, 0.1) a mutual first choice scores 1.0, any mutual choice
beats any one-sided one, and the mentee's own choice counts more than the mentor's (the
mentee is the one who will grow; the mentor's choice still lifts the pair).

Why an unranked pair's 0 is neutral, not a penalty: every pair nobody chose gets the same
constant, so a person without preferences (or a mentor absent from a mentee's list) is not
put below anyone else; only stated choices lift a pair. For the same reason the value is
never NaN and ``Scores.missing`` never flags this feature.

The ranks are held as ``scipy.sparse`` matrices (mentees x mentors, 0 = unranked) built once
from the exploded lists, and read at the candidate pairs in one gather.
"""
from __future__ import annotations

from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import register_feature
from ..pairs import unique_sorted
from ..schema.cells import _exploded
from .base import BoundModel, Context, check_number, setting_error


def _lists(frame: pd.DataFrame, column: str) -> pd.Series:
    """The id-list column as tuples of str (the empty tuple where missing or absent); a
    ';'-separated string, as in an unvalidated table, is split."""
    if column not in frame.columns:
        return pd.Series([()] * len(frame), index=pd.RangeIndex(len(frame)), dtype=object)

    def as_tuple(v) -> tuple:
        if isinstance(v, (tuple, list, np.ndarray)):
            return tuple(str(x) for x in v)
        if isinstance(v, str) and v.strip():
            return tuple(x.strip() for x in v.split(";") if x.strip())
        return ()

    cells = frame[column].to_numpy(dtype=object)
    if set(map(type, cells)) <= {tuple} and set(map(type, chain.from_iterable(cells))) <= {str}:
        # the validated form (tuples of str), as it is: checked in two C-level passes
        return pd.Series(cells, index=pd.RangeIndex(len(frame)), dtype=object)
    return pd.Series([v if type(v) is tuple and not v else as_tuple(v)  # most: () after validation
                      for v in cells], index=pd.RangeIndex(len(frame)), dtype=object)


def id_index(ids) -> pd.Index:
    """The ids of a table, as text, as the Index :func:`rank_matrix` looks ids up in (an Index
    passes through). Built once per table for its several lists: each list built its own, and
    looked its ids up as NumPy text."""
    if isinstance(ids, pd.Index):
        return ids
    ids = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=object)
    if not set(map(type, ids)) <= {str}:
        ids = ids.astype(str)
    return pd.Index(ids, dtype=object)


def rank_matrix(lists: pd.Series, other_ids, shape: tuple[int, int], transpose: bool = False):
    """Sparse matrix of 1-based ranks from ranked id lists, and the length of each list.

    Parameters
    ----------
    lists : pandas.Series of tuple of str
        Row ``r`` ranks ids of the other table, best first (index 0..n-1).
    other_ids : sequence of str or pandas.Index
        The ids of the other table, in row order (an id not among them is skipped); an Index
        from :func:`id_index`, built once for several lists, saves hashing them again.
    shape : (int, int)
        Shape of the result (mentees x mentors).
    transpose : bool
        False: ``lists`` belongs to the rows (mentees); True: to the columns (mentors).

    Returns
    -------
    (ranks, lengths)
        ``ranks``: ``scipy.sparse.csr_array`` of float64, 0 where unranked; a repeated id keeps
        its best rank. ``lengths``: float64 array, the list length of each owner.

    Examples
    --------
    >>> r, n = rank_matrix(pd.Series([("b", "a"), ()]), ["a", "b"], (2, 2))
    >>> r.toarray().tolist(), n.tolist()
    ([[2.0, 1.0], [0.0, 0.0]], [2.0, 0.0])
    """
    lengths = np.fromiter(map(len, lists.to_numpy(dtype=object)), dtype=np.float64, count=len(lists))
    flat = _exploded(lists)
    owner = flat.index.to_numpy(dtype=np.int64)
    if np.all(owner[1:] >= owner[:-1]):  # each owner's ids together (a RangeIndex): its k-th
        rank = (np.arange(len(owner)) - np.searchsorted(owner, owner)).astype(np.float64) + 1.0
    else:
        rank = flat.groupby(level=0).cumcount().to_numpy(dtype=np.float64) + 1.0
    other = np.zeros(0, dtype=np.int64)
    if len(flat):
        values = flat.to_numpy(dtype=object)
        if not set(map(type, values)) <= {str}:  # (the validated lists hold text already)
            values = values.astype(str)
        other = id_index(other_ids).get_indexer(values)
    keep = other >= 0
    owner, other, rank = owner[keep], other[keep], rank[keep]
    rows, cols = (other, owner) if transpose else (owner, other)
    if len(rows) and len(unique_sorted(rows * shape[1] + cols)) < len(rows):
        # a repeated id keeps its first (best) rank: building from coordinates would add them up
        best = pd.Series(rank).groupby([rows, cols]).min()
        rows = best.index.get_level_values(0).to_numpy(dtype=np.int64)
        cols = best.index.get_level_values(1).to_numpy(dtype=np.int64)
        rank = best.to_numpy(dtype=np.float64)
    return sp.csr_array((rank, (rows, cols)), shape=shape), lengths


def _gather(matrix, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
    """``matrix[mentee[k], mentor[k]]`` for every k, as a dense float64 array."""
    if not len(mentee):
        return np.zeros(0, dtype=np.float64)
    return np.asarray(matrix[mentee, mentor], dtype=np.float64).reshape(-1)


class _PreferencePrepared:
    def __init__(self, feature: "Preference", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        shape = (len(mentees), len(mentors))
        mentee_ids = id_index(mentees["id"].astype(str).to_numpy(dtype=object) if "id" in mentees.columns else [])
        mentor_ids = id_index(mentors["id"].astype(str).to_numpy(dtype=object) if "id" in mentors.columns else [])
        self.mentee_ranks, self.mentee_lengths = rank_matrix(_lists(mentees, "preferences"), mentor_ids, shape)
        self.mentor_ranks, self.mentor_lengths = rank_matrix(_lists(mentors, "preferences"), mentee_ids, shape,
                                                             transpose=True)
        self.suggested, _ = rank_matrix(_lists(mentees, "manager_suggestions"), mentor_ids, shape)

    def _facts(self, i: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
        re = _gather(self.mentee_ranks, i, j)
        rm = _gather(self.mentor_ranks, i, j)
        return {"mentee_rank": np.where(re > 0, re, np.nan), "mentor_rank": np.where(rm > 0, rm, np.nan),
                "suggested": _gather(self.suggested, i, j) > 0, "mutual": (re > 0) & (rm > 0)}

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        f = self.feature
        d = self._facts(mentee, mentor)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.nan_to_num(1.0 - (d["mentee_rank"] - 1.0) / self.mentee_lengths[mentee], nan=0.0)
            sm = np.nan_to_num(1.0 - (d["mentor_rank"] - 1.0) / self.mentor_lengths[mentor], nan=0.0)
        value = np.where(d["mutual"], f.mutual_base + (1.0 - f.mutual_base) * (se + sm) / 2.0,
                         f.mentee_weight * se + f.mentor_weight * sm)  # one of se, sm is 0 here
        value += f.suggestion_bonus * d["suggested"]
        return np.clip(value, 0.0, 1.0, out=value)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        """``mentee_rank``, ``mentor_rank`` (1-based, NaN when unranked), ``suggested`` and
        ``mutual`` (bool) per pair."""
        return self._facts(mentee, mentor)

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None

    def pair_table(self, max_entries: int):
        """0 on every pair nobody ranked or suggested (``values`` gives +0.0 there: both
        strengths are 0), the value on the few others; see :mod:`mentormatch.features.tables`."""
        from .tables import SparsePairs

        stated = (abs(self.mentee_ranks) + abs(self.mentor_ranks) + abs(self.suggested)).tocoo()
        if stated.nnz > max_entries:
            return None
        i = np.asarray(stated.row, dtype=np.int64)
        j = np.asarray(stated.col, dtype=np.int64)
        return SparsePairs(0.0, i, j, self.values(i, j), stated.shape[1])

    def bound_model(self, neutral: float) -> BoundModel:
        """Exact: 0 on every pair nobody ranked or suggested, the value on the few others."""
        stated = (abs(self.mentee_ranks) + abs(self.mentor_ranks) + abs(self.suggested)).tocoo()
        i = np.asarray(stated.row, dtype=np.int64)
        j = np.asarray(stated.col, dtype=np.int64)
        return BoundModel(pairs=sp.csr_array((self.values(i, j), (i, j)), shape=stated.shape),
                          exact=True)


@register_feature
class Preference:
    """Stated preferences of both sides, and the mentee's manager's suggestions.

    Parameters
    ----------
    mutual_base : float
        Value of a mutual choice before the strengths are added; in [0, 1] and at least
        ``mentee_weight`` and ``mentor_weight``, so that a mutual choice always ranks highest;
        default 0.6.
    mentee_weight : float
        Value of the mentee's first choice when the mentor did not rank the mentee; default 0.5.
    mentor_weight : float
        Likewise for the mentor's first choice; default 0.3.
    suggestion_bonus : float
        Added (up to 1) when the mentee's manager suggested the mentor; default 0.1.

    Notes
    -----
    Columns: ``preferences`` of both tables (ranked ids of the other side, best first) and
    ``manager_suggestions`` of the mentees table. Unranked pairs score 0, which is neutral: see
    the module docstring. Details: ``mentee_rank`` and ``mentor_rank`` (1-based, NaN when
    unranked), ``suggested`` and ``mutual`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.features import Context
    >>> e = pd.DataFrame({"id": ["E1"], "preferences": [("M2", "M1")]})
    >>> m = pd.DataFrame({"id": ["M1", "M2"], "preferences": [("E1",), ()]})
    >>> p = Preference().prepare(e, m, Context())
    >>> p.values(np.array([0, 0]), np.array([0, 1])).tolist()   # mutual (2nd of 2, 1st); mentee's 1st
    [0.9, 0.5]
    """

    name = "preference"
    neutral = 0.0

    def __init__(self, *, mutual_base: float = 0.6, mentee_weight: float = 0.5, mentor_weight: float = 0.3,
                 suggestion_bonus: float = 0.1):
        n = self.name
        self.mentee_weight = check_number(n, "mentee_weight", mentee_weight, 0.0, 1.0)
        self.mentor_weight = check_number(n, "mentor_weight", mentor_weight, 0.0, 1.0)
        self.suggestion_bonus = check_number(n, "suggestion_bonus", suggestion_bonus, 0.0, 1.0)
        self.mutual_base = check_number(n, "mutual_base", mutual_base, 0.0, 1.0)
        if self.mutual_base < max(self.mentee_weight, self.mentor_weight):
            raise setting_error(n, "mutual_base", mutual_base,
                                f"a value >= mentee_weight ({self.mentee_weight:g}) and mentor_weight "
                                f"({self.mentor_weight:g}), so that a mutual choice ranks highest")

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _PreferencePrepared:
        return _PreferencePrepared(self, mentees, mentors)
