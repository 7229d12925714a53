"""Upper bounds of the pair score for every pair at once, for the scale path of ``pair()``.

At 100,000 mentees x 20,000 mentors the exact extractors cost about a microsecond a pair, half
an hour for the 2e9 pairs. The certificate does not need the exact score of every pair: it
needs ``score(i, j) <= u_i + p_j`` (the dual prices), and an upper bound that passes the test
proves it for the exact score too. :class:`BoundedScorer` assembles the bound models of the
features (:class:`~mentormatch.features.base.BoundModel`) into one float32 matrix product::

    bound(i, j) = L[i] @ R[j] + stated[i, j]        (row and column terms folded into L, R)
                = -BIG where a rule removes the pair

(where the compiled block kernel has AVX2, the runs of the mentors' factors with few patterns,
such as personality's one-hot bins, leave the product for a lookup by the mentor's code:
:mod:`mentormatch.scale_codes`) and computes exact scores (the extractors, float64) only for
the pairs it is asked about: each mentee's best pairs by the bound, and the pairs whose bound
the prices do not rule out. The bound is exact for geography (places), readiness, preference
and competency (one target), a bilinear bound for personality and a binned one for experience
when there are many distinct years; float32 rounding is covered by :attr:`BoundedScorer.margin`.

Every eligibility rule is carried exactly (sparse pairs for the management line, forbidden pairs
and people in both tables; mentee-key x mentor tables for level rules; mentor masks for
readiness), so that ``bound > -BIG / 2`` if and only if the pair is eligible, and the counts of
pairs each rule removes (for the reasons of unmatched mentees) are computed without a pass over
the pairs (the rules of the tables and the counts: :mod:`mentormatch.scale_rules`). Settings
the bound cannot carry (``same_team``, ``min_score``, a custom feature's own ineligibility) make
:func:`bounded_scorer` return None, and ``pair()`` scores every pair exactly. The product's
columns of few patterns are added by code, and a block's rest in the kernel's order:
:mod:`mentormatch.scale_codes`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .features import Context
from .features.base import KeyedMask, row_keys
from .pairs import Candidates, Encoder, unique_sorted
from .rules import Rules
from .scale_codes import BlockRest, add_rest, block_product, code_factors, fused_factors, keyed_table, left_factors
from .scale_rules import removal_counts, table_rules

__all__ = ["BoundedScorer", "bounded_scorer", "BIG"]

#: Added (negated) to the bound of a pair a rule removes; a bound below ``-BIG / 2`` means
#: "ineligible", also once a pass has taken prices off it (``bound - price``). So it must stay
#: far above every score and every price: under coverage_first the prices carry the coverage
#: weight (mentees x the largest score: 1.6e7 at 89 mentees and weights x 3e4), which made a
#: removed pair's ``-1e7 - price`` pass for eligible (session 21's hunt). float32 holds 1e20
#: with room (sums of 1e18 such terms stay finite) and absorbs any score or price below 1e12.
BIG = 1.0e20
_U32 = 2.0 ** -24  # unit roundoff of float32
#: Largest groups x mentors table of the keyed terms (float32): 1 GiB. Past it the keyed terms
#: become one-hot columns of the product, about as much memory at 1,000,000 x 200,000 (a
#: column per place, per experience group, ... on every mentee) and a wider product in every
#: block of every pass; the table adds one row per group run of a block.
MAX_TABLE_ENTRIES = 1 << 28


def _csr_rows(matrix, a: int, b: int):
    """(row - a, column, value) of the entries of rows ``a:b`` of a CSR array, or None when
    there are none: straight from its index arrays (slicing the array costs a tenth of a
    millisecond, as much as the rest of a small block's bound)."""
    ptr = matrix.indptr
    lo, hi = int(ptr[a]), int(ptr[b])
    if hi == lo:
        return None
    return np.repeat(np.arange(b - a), np.diff(ptr[a:b + 1])), matrix.indices[lo:hi], matrix.data[lo:hi]


def _mentor_patterns(table: np.ndarray) -> tuple[np.ndarray, int, float]:
    """A keyed term's mentors by their column of ``table`` (keys x mentors): each mentor's
    pattern (int32), the number of patterns, and the term's spread (largest less smallest
    entry above ``-BIG / 2``; 0 when none)."""
    _, ids = np.unique(np.ascontiguousarray(table.T), axis=0, return_inverse=True)
    ok = table[table > -BIG / 2]
    spread = float(ok.max() - ok.min()) if ok.size else 0.0
    return ids.reshape(-1).astype(np.int32), int(ids.max(initial=-1) + 1), spread


class _Unsupported(Exception):
    pass


class BoundedScorer:
    """Bounds of blocks of mentee rows and exact scores of chosen pairs; see the module text.

    Attributes
    ----------
    margin : float
        The float32 bound plus ``margin`` is at least the exact score of every eligible pair.
    exact : bool
        True when every feature's bound is exact (then only rounding separates the two).
    removed : DataFrame
        Per mentee, the pairs each rule removes (the first rule that applies counts).
    eligible_counts : ndarray
        Per mentee, the eligible pairs.
    """

    def __init__(self, mentees: pd.DataFrame, mentors: pd.DataFrame, rules: Rules, context: Context,
                 mentee_ids: Encoder, mentor_ids: Encoder, features=None):
        from .scoring import prepare_features

        self.mentees, self.mentors, self.rules, self.context = mentees, mentors, rules, context
        self.n, self.m = len(mentees), len(mentors)
        self.people = (self.n, self.m)  # the mentees and mentors of the tables (subsets keep it)
        cons = rules.constraints
        if cons.get("same_team", False):
            raise _Unsupported("constraints.same_team")
        if not np.isnan(cons["min_score"]):
            raise _Unsupported("constraints.min_score")
        self.features = features if features is not None else prepare_features(mentees, mentors, rules, context)
        weights = {name: w for name, w in rules.weights.items() if w > 0}
        n, m = self.n, self.m
        lefts, rights, keyed = [], [], []
        self._keyed_terms: list[np.ndarray] = []  # each keyed feature term's table (keyed_mentors)
        self._keyed_mentors: list[tuple[np.ndarray, int, float]] | None = None
        row = np.zeros(n)
        col = np.zeros(m)
        stated = sp.csr_array((n, m))
        self.exact = True
        # rules in the order of constraints.rule_masks, then the features' own
        self.rule_names: list[str] = []
        rule_parts: list[tuple[str, object]] = []
        rule_parts += table_rules(mentees, mentors, cons, mentee_ids, mentor_ids)
        prepared = self.features.prepared
        extractors = self.features.extractors
        for name, prep in prepared.items():
            model = None
            if hasattr(prep, "bound_model"):
                model = prep.bound_model(float(extractors[name].neutral))
            can_remove = prep.ineligible(np.zeros(0, np.int64), np.zeros(0, np.int64)) is not None
            if can_remove:
                if model is None or (model.ineligible is None and model.ineligible_mentors is None):
                    raise _Unsupported(f"the ineligibility rule of feature {name!r}")
                rule = getattr(prep, "ineligible_rule", f"{name}.ineligible")
                if model.ineligible is not None:
                    rule_parts.append((rule, model.ineligible))
                if model.ineligible_mentors is not None:
                    rule_parts.append((rule, KeyedMask(np.zeros(n, np.int64),
                                                       np.asarray(model.ineligible_mentors, bool)[None, :])))
            w = weights.get(name, 0.0)
            if w <= 0:
                continue
            if model is None:  # values lie in [0, 1]
                row += w
                self.exact = False
                continue
            self.exact = self.exact and model.exact
            if model.left is not None and model.left.shape[1]:
                lefts.append((np.asarray(model.left, dtype=np.float64), w))
                rights.append(np.asarray(model.right, dtype=np.float64))
            if model.row is not None:
                row += w * np.asarray(model.row, dtype=np.float64)
            if model.col is not None:
                col += w * np.asarray(model.col, dtype=np.float64)
            if model.pairs is not None:
                stated = stated + w * sp.csr_array(model.pairs)
            if model.key is not None:
                keyed.append((np.asarray(model.key, np.int64), w * np.asarray(model.table, np.float64)))
                self._keyed_terms.append(keyed[-1][1])
        for name in weights:
            if name not in prepared:
                raise _Unsupported(f"feature {name!r}")
        sparse_rules = []
        for name, part in rule_parts:
            if name not in self.rule_names:
                self.rule_names.append(name)
            if isinstance(part, KeyedMask):  # -BIG on the mentors the rule removes
                keyed.append((part.key, np.where(part.table, -BIG, 0.0)))
            else:
                sparse_rules.append(part)
        blocked = unique_sorted(np.concatenate(sparse_rules)) if sparse_rules else np.zeros(0, np.int64)
        self.removed, self.eligible_counts = removal_counts(rule_parts, self.rule_names, n, m, blocked)
        # the keyed terms: one table over the groups of mentees with equal keys, when it is small
        self.key = np.zeros(n, dtype=np.int64)
        self.table = np.zeros((1, m), dtype=np.float32)
        table_max = 0.0  # the largest size of an eligible entry of the table
        if keyed:
            combined, first = row_keys(*[k for k, _ in keyed])
            groups = np.column_stack([k[first] for k, _ in keyed])
            if len(groups) * m <= MAX_TABLE_ENTRIES:
                self.key = combined
                self.table, table_max = keyed_table([tab for _, tab in keyed], groups, m, BIG)
            else:  # too many groups: one-hot columns of the product instead
                for k, tab in keyed:
                    lefts.append((np.eye(tab.shape[0])[k], None))
                    rights.append(tab.T)
        right = np.column_stack(rights + [np.ones(m), col])
        # internal order: mentees sorted by group, so that a block of rows shares a few groups
        self.order = np.argsort(self.key, kind="stable")
        self.inverse = np.empty(n, dtype=np.int64)
        self.inverse[self.order] = np.arange(n)
        self.key_sorted = self.key[self.order]
        self.runs = np.flatnonzero(np.diff(self.key_sorted)) + 1  # where a new group starts
        # float32 rounding (inputs 2u a product, a sum of d + 3 terms, the stated pairs): the
        # rows of -BIG (ineligible pairs) are left out, as they add exact zeros to the others
        # magnitude: no eligible pair's sum of |left term x right term| is larger, taken per
        # term (each term's largest right factor), so that it scales with the weights: the
        # product of the largest left sum and the largest right entry multiplied the row terms
        # by the column terms (weights x 1e4: a margin of 51 on scores near 3.4e4)
        right_max = np.where(right > -BIG / 2, np.abs(right), 0.0).max(axis=0, initial=0.0)
        self.left, left_max = left_factors(lefts, row, right_max, self.inverse)
        d = self.left.shape[1]
        magnitude = float(left_max + table_max)
        stated_max = float(np.abs(stated.data).max(initial=0.0)) if stated.nnz else 0.0
        # relative only (an absolute 1e-9 was 3% of the engine's unit at weights x 1e-8), with
        # float32's underflow below its smallest normal number
        self.margin = 1.01 * (d + 5) * (_U32 * (magnitude + stated_max) + 2.0 ** -126)
        self.largest = magnitude + stated_max  # no eligible pair's bound is larger in size
        self.right_t = np.ascontiguousarray(right.T, dtype=np.float32)
        # the product's coded groups, where the kernel adds them fast (mentormatch.scale_codes)
        self.codes, self.lookup, self.left_rest, self.rest_cols = code_factors(self.left, right)
        self.stated = stated[self.order].astype(np.float32).tocsr()
        self.stated.sort_indices()
        self.blocked = sp.csr_array((np.ones(len(blocked), dtype=bool),
                                     (self.inverse[blocked // m], blocked % m)),
                                    shape=(n, m)) if len(blocked) else None
        self.cache = None  # never keeps scores: see pipeline.baseline
        self.mentor_index = None  # mentors of a column subset (see subset)
        self.table_cols = None  # the columns of the shared table a column subset sees
        self.row_eligible = self.eligible_counts[self.order]  # by internal row

    # ------------------------------------------------------------------------------------------
    def upper(self, a: int, b: int, out: np.ndarray | None = None, less: np.ndarray | None = None) -> np.ndarray:
        """float32 bounds of rows ``a:b`` of the internal order (``order[r]`` is the mentee of
        row ``r``) against every mentor; ``< -BIG / 2`` where a rule removes the pair. ``out``
        (float32, at least ``b - a`` rows) saves the allocation.

        ``less`` (float32, one a mentor): ``bound - less`` instead, the prices of a pass taken
        off with the groups' table (``table_row - less`` once a group run), which saves a whole
        pass over the block (at 100,000 x 20,000 on one core: 0.14 of about 4.4 ns a pair of a
        first pass's block). Its float32 rounding differs from the bound's less the prices by a
        few units of the largest term, which the checks' slack covers
        (:mod:`mentormatch.solvers.bounded.check`); removed pairs are ``-BIG - less`` as
        before. The product, then :meth:`upper_split`'s rest added
        (:func:`~mentormatch.scale_codes.add_rest`: :meth:`~mentormatch.scale_codes.BlockRest.apply`'s
        floats, by the compiled kernel where it was built)."""
        s, rest = self.upper_split(a, b, out, less)
        return add_rest(s, rest)

    def upper_split(self, a: int, b: int, out: np.ndarray | None = None,
                    less: np.ndarray | None = None, fused: bool = False) -> tuple[np.ndarray, "BlockRest"]:
        """:meth:`upper` in two parts: the product ``L @ R`` of rows ``a:b`` (in ``out``) and the rest to add
        to it (:class:`~mentormatch.scale_codes.BlockRest`: the groups' table rows less ``less``, the stated
        pairs, the removed pairs), for a pass whose compiled block kernel adds the rest to each row while the
        row is in the cache (:mod:`mentormatch.solvers.bounded.blockscan`): one read and write of the block
        less than adding it here. ``fused``: where :func:`~mentormatch.scale_codes.fused_factors` applies,
        ``out`` is left as it is and the rest carries the product's factors, which the block scan multiplies
        as it reads each row: the block is not written and read back once more (0.3-0.4 of 2.4 ns a pair of a
        first pass's block at 100,000 x 20,000, one core)."""
        factors = fused_factors(self, a, b) if fused else None
        if factors is None:
            out = block_product(self, a, b, out)
        else:
            out = np.empty((b - a, self.m), np.float32) if out is None else out[:b - a]
        lo, hi = np.searchsorted(self.runs, a, side="right"), np.searchsorted(self.runs, b, side="left")
        edges = np.array([a, *self.runs[lo:hi].tolist(), b] if b > a else [a], np.int64) - a
        rows = [self.table[k] for k in self.key_sorted[edges[:-1] + a]]
        rows = [r if self.table_cols is None else r[self.table_cols] for r in rows]
        adds = np.array([r if less is None else r - less for r in rows], np.float32).reshape(len(rows), self.m)
        inc = _csr_rows(self.stated, a, b) if self.stated.nnz else None
        put = None
        if self.blocked is not None:
            part = _csr_rows(self.blocked, a, b)
            if part is not None:
                value = -np.float32(BIG) if less is None else -np.float32(BIG) - less[part[1]]
                put = (part[0], part[1], np.broadcast_to(np.asarray(value, np.float32), part[1].shape))
        if self.codes is None:
            return out, BlockRest(edges, adds, inc, put)
        return out, BlockRest(edges, adds, inc, put, self.codes, self.lookup[a:b], *(factors or ()))

    @property
    def keyed_mentors(self) -> list[tuple[np.ndarray, int, float]]:
        """Per keyed feature term, its mentors' patterns, their number and the term's spread
        (:func:`_mentor_patterns`; the checker's mentor groups, :mod:`mentormatch.solvers.bounded.groups`),
        found when first asked: 0.25 s CPU at 100,000 x 20,000, which only a guided top level needs."""
        if self._keyed_mentors is None:
            self._keyed_mentors = [_mentor_patterns(table) for table in self._keyed_terms]
        return self._keyed_mentors

    def subset(self, rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> "BoundedScorer":
        """The same bounds on some internal rows (ascending) and some mentors: row ``r`` of
        the subset is row ``rows[r]`` here, mentor ``c`` is mentor ``cols[c]``. For the
        sub-market that guides the first prices and the re-checks of a few rows or columns;
        :meth:`exact_scores` takes the subset's own indices."""
        out = object.__new__(BoundedScorer)
        out.__dict__.update(self.__dict__)
        if rows is not None:
            rows = np.asarray(rows, np.int64)
            out.n = len(rows)
            out.left = self.left[rows]
            if self.codes is not None:
                out.lookup, out.left_rest = self.lookup[rows], self.left_rest[rows]
            out.key_sorted = self.key_sorted[rows]
            out.runs = np.flatnonzero(np.diff(out.key_sorted)) + 1
            out.stated = self.stated[rows]
            out.blocked = None if self.blocked is None else self.blocked[rows]
            out.order = self.order[rows]
            out.eligible_counts = None if self.row_eligible is None else self.row_eligible[rows]
            out.row_eligible = out.eligible_counts
        if cols is not None:
            cols = np.asarray(cols, np.int64)
            out.m = len(cols)
            out.right_t = np.ascontiguousarray(self.right_t[:, cols])
            if self.codes is not None:
                out.codes = np.ascontiguousarray(self.codes[:, cols])
            # the groups x mentors table is shared, not copied: a copy of its columns cost
            # 60 ms a re-check at 100,000 x 20,000 (1,255 groups); a block takes a few rows
            out.table_cols = cols if self.table_cols is None else self.table_cols[cols]
            out.stated = out.stated[:, cols].tocsr()
            out.blocked = None if out.blocked is None else out.blocked[:, cols].tocsr()
            out.mentor_index = cols if self.mentor_index is None else self.mentor_index[cols]
            out.eligible_counts = out.row_eligible = None  # not known on a column subset
        return out

    def bounds_rows(self, a: int, b: int) -> "BoundedScorer":
        """Rows ``a:b`` of the bounds alone, for a task of a pass on an executor
        (:mod:`mentormatch.solvers.bounded.remote`): the rows' factors, stated and blocked
        pairs, and the rows of the groups table those rows use (renumbered); no tables of
        people, no exact scores, and ``right_t`` left out (None: the task sets the mentors'
        factors, sent once per pass). :meth:`upper` of it equals rows ``a:b`` of this one's."""
        out = object.__new__(BoundedScorer)
        keys = self.key_sorted[a:b]
        groups, local = np.unique(keys, return_inverse=True)
        table = self.table[groups]
        if self.table_cols is not None:
            table = table[:, self.table_cols]
        out.__dict__.update(
            n=b - a, m=self.m, left=np.ascontiguousarray(self.left[a:b]), right_t=None,
            table=np.ascontiguousarray(table), table_cols=None, key_sorted=local.astype(np.int64),
            runs=np.flatnonzero(np.diff(local)) + 1, stated=self.stated[a:b],
            blocked=None if self.blocked is None else self.blocked[a:b], margin=self.margin,
            largest=self.largest, exact=self.exact, codes=self.codes, rest_cols=self.rest_cols,
            lookup=None if self.codes is None else self.lookup[a:b],
            left_rest=None if self.codes is None else np.ascontiguousarray(self.left_rest[a:b]))
        return out

    def exact_kit(self) -> "BoundedScorer":
        """What :meth:`exact_scores` needs and nothing else (the prepared features' lookup
        tables, the rules, the internal order): what is sent to the workers of an executor,
        never the bound matrices nor the tables of people (the prepared features hold what
        the scores read of them)."""
        out = object.__new__(BoundedScorer)
        out.__dict__.update({k: getattr(self, k) for k in (
            "rules", "context", "features", "order", "mentor_index", "n", "m", "people")})
        out.mentees = out.mentors = None
        return out

    def exact_scores(self, row: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The exact scores (float64) of eligible pairs given by internal row and mentor, in
        any order: scored sorted by (mentee, mentor), the mentees' tables read in order (150,000
        pairs in no order at 100,000 x 20,000: 0.29 us a pair; sorted, 0.12 + 0.03 for the sort);
        pairs already sorted (the ranks') skip the sort. The lookup tables are sized for the
        scorer's pairs: a check's call (150,000 pairs) refused experience's 92,901 entries by its
        own size and computed the values each call (0.25-0.5 us a pair)."""
        from .scoring import _table_limit
        from .scoring_totals import score_totals

        if not len(row):
            return np.zeros(0)
        mentee = self.order[np.asarray(row, np.int64)]
        mentor = np.asarray(mentor, np.int64)
        if self.mentor_index is not None:
            mentor = self.mentor_index[mentor]
        n_people, m_people = self.people
        key = mentee * m_people + mentor
        by_pair = None  # (mentee, mentor) order already
        if len(key) > 1 and not bool((key[1:] >= key[:-1]).all()):
            by_pair = np.argsort(key, kind="stable")
            mentee, mentor = mentee[by_pair], mentor[by_pair]
        scores = score_totals(self.mentees, self.mentors, Candidates(mentee, mentor, n_people, m_people),
                              self.rules, self.context, prepared=self.features,
                              table_limit=_table_limit(n_people * m_people))
        if by_pair is None:
            return scores
        out = np.empty(len(scores))
        out[by_pair] = scores
        return out

    def removed_frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: self.removed[k] for k, name in enumerate(self.rule_names)})


def bounded_scorer(mentees, mentors, rules: Rules, context: Context, mentee_ids: Encoder,
                   mentor_ids: Encoder, features=None) -> BoundedScorer | None:
    """A :class:`BoundedScorer`, or None when the rules need something the bounds cannot
    carry (then every pair is scored exactly)."""
    try:
        return BoundedScorer(mentees, mentors, rules, context, mentee_ids, mentor_ids, features)
    except _Unsupported:
        return None
