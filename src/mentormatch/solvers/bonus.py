"""A :class:`~mentormatch.solvers.base.PairBonus` folded into the scale path's scorers, so that
a plain flow with a bonus (programme rounds: priority and continuity; ``revise``) is solved by
the certified min-cost flow on ``score + bonus``, as fast as without it, and plain max-min by
its certified flows on ``score + bonus`` (the worst ``score + bonus``, then the total), and
``coverage_first`` by the certified flow counting mentees (the most mentees, then the total
``score + bonus``). Only
where no constraint reads the scores: the engine takes a bonus apart
(:mod:`mentormatch.pipeline.bonus` states the meaning on every source).

* :class:`BonusBlocks` wraps a block scorer (``rows -> dense scores``);
* :class:`BonusBounds` wraps a :class:`mentormatch.scale.BoundedScorer` and its subsets: the
  bound plus the bonus bounds the score plus the bonus, exact scores get the bonus too.

A per-mentor term (``PairBonus.per_mentor``, any sign) shifts every pair of a mentor: the
engine's Lagrangian bound (:mod:`mentormatch.solvers.lagrange`) prices a budget this way, so its
inner problem is the same certified flow on ``score - lambda x cost of the mentor's mentee``.

A per-mentee factor (``PairBonus.scale_mentee``, at least 0) first scales every score of a
mentee: the score floors' Lagrangian (:mod:`mentormatch.solvers.scorefloors`) weighs each group
this way.

Ineligible pairs (``-inf``, or below ``-BIG / 2`` in bounds) stay ineligible.

On an executor (:mod:`mentormatch.solvers.bounded.remote`) the bonus travels with the tasks: a
task of a bound pass gets :meth:`BonusBounds.bounds_rows`, its rows' bounds and the bonus of
those rows (:class:`BonusRows`: a number per row, one per mentor, the listed pairs among its
rows), and exact scores are computed from :meth:`BonusBounds.exact_kit`, the base's lookup
tables and the bonus, sent once. Both compute what this process computes, in the same order.
"""
from __future__ import annotations

import numpy as np

from .base import PairBonus


class BonusBlocks:
    """``scorer(rows) + bonus`` where the pair is eligible (a block scorer: mentee rows)."""

    def __init__(self, scorer, bonus: PairBonus, n_mentors: int):
        self.scorer, self.bonus, self.m = scorer, bonus, n_mentors

    def __call__(self, rows: slice) -> np.ndarray:
        block = np.array(self.scorer(rows), dtype=np.float64, copy=True)
        r = np.arange(rows.start, rows.stop, dtype=np.int64)
        if self.bonus.scale_mentee is not None:
            ok = np.isfinite(block)
            block[ok] *= np.broadcast_to(np.asarray(self.bonus.scale_mentee, float)[r][:, None],
                                         block.shape)[ok]
        if self.bonus.per_mentee is not None:
            block += np.asarray(self.bonus.per_mentee, float)[r][:, None]
        if self.bonus.per_mentor is not None:
            block += np.asarray(self.bonus.per_mentor, float)[None, :]
        if self.bonus.value is not None and len(self.bonus.value):
            mi = np.asarray(self.bonus.mentee, np.int64)
            on = (mi >= rows.start) & (mi < rows.stop)
            block[mi[on] - rows.start, np.asarray(self.bonus.mentor, np.int64)[on]] += \
                np.asarray(self.bonus.value, float)[on]
        return block  # -inf + bonus stays -inf

    @property
    def score_ceiling(self) -> float:
        """No pair scores more: the base's ``score_ceiling`` ``S`` (known before any pair is
        scored) with the bonus, ``a_i s + per_i + pm_j + v_ij <= max_i a_i S + max per + max pm
        + max(0, max v)`` (``a_i >= 0``; ``v``: the listed pairs' values, 0 elsewhere). What
        bounds the rows a pass stopped by the time limit did not read, as for the base (until
        s26 the wrapper had none: no total bound on blocks with a folded bonus and a cut first
        pass). ``AttributeError`` where the base has none."""
        S = getattr(self.scorer, "score_ceiling", None)
        if S is None:
            raise AttributeError("score_ceiling")
        b = self.bonus
        a = np.ones(1) if b.scale_mentee is None else np.asarray(b.scale_mentee, float)
        out = max(float(a.max(initial=1.0)) * S, float(a.min(initial=1.0)) * S)
        for part in (b.per_mentee, b.per_mentor):
            if part is not None and len(part):
                out += float(np.max(part))
        if b.value is not None and len(b.value):
            out += max(0.0, float(np.max(b.value)))
        return out

    def unit_bounds(self):
        """Bounds of ``score + bonus`` for the engine's unit (:mod:`mentormatch.solvers.unit`):
        the base scorer's bounds (``_BlockScorer.unit_bounds``) with the bonus added as
        :class:`BonusBounds` adds it, so that a round with priority or continuity on blocks
        without a cache makes no pass over the blocks for its unit; None where the base has
        none (one pass then)."""
        base = self.scorer.unit_bounds() if hasattr(self.scorer, "unit_bounds") else None
        return None if base is None else BonusBounds(base, self.bonus)

    def judged_scores(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The exact ``score + bonus`` of the given pairs (``-inf``: a rule removes the pair),
        the numbers :meth:`__call__` gives them (the same operations in the same order)."""
        mentee, mentor = np.asarray(mentee, np.int64), np.asarray(mentor, np.int64)
        s = np.array(self.scorer.judged_scores(mentee, mentor), dtype=np.float64, copy=True)
        ok = np.isfinite(s)
        if self.bonus.scale_mentee is not None:
            s[ok] *= np.asarray(self.bonus.scale_mentee, float)[mentee[ok]]
        if self.bonus.per_mentee is not None:
            s += np.asarray(self.bonus.per_mentee, float)[mentee]
        if self.bonus.per_mentor is not None:
            s += np.asarray(self.bonus.per_mentor, float)[mentor]
        if self.bonus.value is not None and len(self.bonus.value):
            s += PairBonus(mentee=self.bonus.mentee, mentor=self.bonus.mentor,
                           value=self.bonus.value, n_mentors=self.m).on_pairs(mentee, mentor)
        return s


class BonusBounds:
    """A bounded scorer whose bounds and exact scores include the bonus (see module)."""

    def __init__(self, base, bonus: PairBonus):
        self.base, self.bonus = base, bonus
        self.per = (np.zeros(len(base.mentees)) if bonus.per_mentee is None
                    else np.asarray(bonus.per_mentee, float))
        self.pm = (np.zeros(len(base.mentors)) if bonus.per_mentor is None
                   else np.asarray(bonus.per_mentor, float))
        self.scale = (None if bonus.scale_mentee is None
                      else np.asarray(bonus.scale_mentee, float))
        # the largest factor in size (below 1 too: the engine's unit may shrink the scores)
        self.top = 1.0 if self.scale is None else float(np.abs(self.scale).max(initial=0.0))
        has = bonus.value is not None and len(bonus.value)
        self.li = np.asarray(bonus.mentee if has else [], np.int64)
        self.lj = np.asarray(bonus.mentor if has else [], np.int64)
        self.lv = np.asarray(bonus.value if has else [], float)
        # where each listed pair sits in this view: its internal row and its column (-1: not here)
        row_of = np.full(len(base.mentees), -1, np.int64)
        row_of[np.asarray(base.order, np.int64)] = np.arange(len(base.order))
        col_of = np.full(len(base.mentors), -1, np.int64)
        col_of[self._mentors(np.arange(base.m))] = np.arange(base.m)
        self.lr, self.lc = row_of[self.li], col_of[self.lj]

    def __getattr__(self, name):  # n, m, order, inverse, eligible_counts, exact, ...
        if name.startswith("__") or name == "base":  # (unpickling: no base yet)
            raise AttributeError(name)
        return getattr(self.base, name)

    @property
    def _bonus_max(self) -> float:
        """No pair's bonus is larger in size (the three terms can add up on one pair)."""
        return float(np.abs(self.per).max(initial=0.0) + np.abs(self.pm).max(initial=0.0)
                     + np.abs(self.lv).max(initial=0.0) * 2)

    @property
    def largest(self) -> float:
        """No eligible pair's bound is larger in size."""
        return self.base.largest * self.top + self._bonus_max

    @property
    def margin(self) -> float:
        """The base's margin (scaled) plus the float32 rounding of scaling the bound and adding
        the bonus to it."""
        return self.base.margin * self.top + 6 * 2.0 ** -24 * (self.largest + self._bonus_max)

    def subset(self, rows=None, cols=None) -> "BonusBounds":
        return BonusBounds(self.base.subset(rows=rows, cols=cols), self.bonus)

    def _mentors(self, cols: np.ndarray) -> np.ndarray:
        idx = self.base.mentor_index
        return cols if idx is None else np.asarray(idx)[cols]

    def _listed(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The listed bonus of each (mentee, mentor) pair (0 where not listed)."""
        if not len(self.lv):
            return np.zeros(len(mentee))
        m = len(self.pm)
        keys = self.li * m + self.lj
        order = np.argsort(keys)
        want = mentee * m + mentor
        pos = np.minimum(np.searchsorted(keys[order], want), len(keys) - 1)
        return np.where(keys[order][pos] == want, self.lv[order][pos], 0.0)

    def _shift(self) -> np.ndarray | None:
        """The per-mentor term on this view's columns (None: no such term)."""
        if self.bonus.per_mentor is None:
            return None
        return self.pm[self._mentors(np.arange(self.base.m))]

    def _rows_listed(self, a: int, b: int):
        """The listed pairs among rows ``a:b`` of this view: (row - a, column, value)."""
        sel = (self.lr >= a) & (self.lr < b) & (self.lc >= 0)
        return self.lr[sel] - a, self.lc[sel], self.lv[sel]

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        up = self.base.upper(a, b, out)
        mentee = np.asarray(self.base.order[a:b], np.int64)
        return _add_bonus(up, self.per[mentee], self._shift(), *self._rows_listed(a, b),
                          scale_row=None if self.scale is None else self.scale[mentee])

    def bounds_rows(self, a: int, b: int) -> "BonusRows":
        """Rows ``a:b`` of the bounds with the bonus, for a task of a pass on an executor: the
        base's rows (:meth:`mentormatch.scale.BoundedScorer.bounds_rows`) and these rows'
        bonus; its ``upper(0, b - a)`` equals this one's ``upper(a, b)``."""
        mentee = np.asarray(self.base.order[a:b], np.int64)
        return BonusRows(self.base.bounds_rows(a, b), self.per[mentee], self._shift(),
                         *self._rows_listed(a, b),
                         scale_row=None if self.scale is None else self.scale[mentee])

    def exact_kit(self) -> "BonusBounds":
        """What :meth:`exact_scores` needs, to be sent to the workers of an executor: the base's
        lookup tables (``base.exact_kit()``) and the bonus, never the bound matrices."""
        kit = object.__new__(type(self))
        kit.__dict__.update(self.__dict__)
        kit.base = self.base.exact_kit()
        return kit

    def exact_scores(self, row: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        s = self.base.exact_scores(row, mentor)
        mentee = np.asarray(self.base.order, np.int64)[np.asarray(row, np.int64)]
        j = self._mentors(np.asarray(mentor, np.int64))
        if self.scale is not None:
            s = s * self.scale[mentee]
        return s + self.per[mentee] + self.pm[j] + self._listed(mentee, j)


def _add_bonus(up: np.ndarray, per_row: np.ndarray, shift: np.ndarray | None, r: np.ndarray,
               c: np.ndarray, v: np.ndarray, scale_row: np.ndarray | None = None) -> np.ndarray:
    """``up`` (float32 bounds of some rows) with the bonus where eligible, in place: scaled by
    ``scale_row`` (a factor >= 0 per row, None: none; a factor >= 0 times a bound bounds the
    scaled score), plus a number per row, one per column (None: none), and ``v`` on the listed
    entries ``(r, c)``."""
    from ..scale import BIG

    keep = up > -BIG / 2
    # in place where eligible (``where=``): the same numbers as ``up[keep] += x[keep]`` (the sum
    # in float64, rounded to float32) without a copy of the kept entries (at 32,000 locked
    # rows x 20,000 mentors those copies took 5 GiB and 1.2 s of a round's first check)
    if scale_row is not None:
        np.multiply(up, scale_row[:, None].astype(up.dtype), out=up, where=keep)
    np.add(up, np.asarray(per_row)[:, None], out=up, where=keep)
    if shift is not None:
        np.add(up, np.asarray(shift)[None, :], out=up, where=keep)
    if len(r):
        ok = keep[r, c]
        np.add.at(up, (r[ok], c[ok]), v[ok])
    return up


class BonusRows:
    """Some rows' bounds with the bonus (:meth:`BonusBounds.bounds_rows`): what a task of a
    bound pass carries. ``right_t`` (the mentors' factors, sent once per pass) is the base's."""

    def __init__(self, base, per_row: np.ndarray, shift: np.ndarray | None, r: np.ndarray,
                 c: np.ndarray, v: np.ndarray, scale_row: np.ndarray | None = None):
        self.base, self.per_row, self.shift = base, per_row, shift
        self.r, self.c, self.v, self.scale_row = r, c, v, scale_row

    def _scale(self, a: int, b: int) -> np.ndarray | None:
        return None if self.scale_row is None else self.scale_row[a:b]

    @property
    def m(self) -> int:
        return self.base.m

    @property
    def n(self) -> int:
        return self.base.n

    @property
    def right_t(self):
        return self.base.right_t

    @right_t.setter
    def right_t(self, value):
        self.base.right_t = value

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        sel = (self.r >= a) & (self.r < b)
        return _add_bonus(self.base.upper(a, b, out), self.per_row[a:b], self.shift,
                          self.r[sel] - a, self.c[sel], self.v[sel], self._scale(a, b))

    def bounds_rows(self, a: int, b: int) -> "BonusRows":
        sel = (self.r >= a) & (self.r < b)
        return BonusRows(self.base.bounds_rows(a, b), self.per_row[a:b], self.shift,
                         self.r[sel] - a, self.c[sel], self.v[sel], self._scale(a, b))
