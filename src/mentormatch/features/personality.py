"""Personality: Big Five profiles, trait by trait alike (or, by choice, complementary).

Both tables are on one scale, decided over the two together: when every trait value of both
tables is ``<= 1`` they are read on the 0-1 scale and used as is; otherwise both are on the 1-5
scale and mapped to [0, 1] by ``(v - 1) / 4`` (so an all-1 mentee is at the bottom of the scale
against an all-5 mentor, whatever the other people of their own table say). For a pair and trait ``t`` with both values known, on [0, 1]::

    part_t = 1 - |mentee_t - mentor_t|      mode "similar" (default)
           = |mentee_t - mentor_t|          mode "complementary"

and the value is the weighted mean ``sum_t w_t part_t / sum_t w_t`` over the traits known for
both people (traits with mode ``"ignore"`` or weight 0 take no part). NaN when no trait is
known for both, which scoring fills with the neutral 0.5.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..schema import BIG_FIVE
from .._native import gather_kernel
from . import register_feature
from .base import BoundModel, Context, check_choice, check_number, numeric_column, setting_error

TRAIT_MODES = ("similar", "complementary", "ignore")
#: Bins of each trait's mentor values in the scale path's bound (see ``bound_model``).
BOUND_BINS = 8


def five_point(*tables: np.ndarray) -> bool:
    """Whether trait matrices are on the 1-5 scale: some known value of any of them is above 1.

    Examples
    --------
    >>> five_point(np.array([[1.0, 1.0]]), np.array([[5.0, np.nan]]))
    True
    """
    return any(bool(np.nanmax(t, initial=-np.inf) > 1.0)
               for t in (np.asarray(t, dtype=np.float64) for t in tables) if t.size)


def unit_scale(traits: np.ndarray, five: bool | None = None) -> np.ndarray:
    """A trait matrix on [0, 1]: ``(v - 1) / 4`` on the 1-5 scale, as is on the 0-1 scale,
    clipped to [0, 1]; NaN stays NaN. ``five`` says which scale (decided over both tables by
    :func:`five_point`); None decides it from this matrix alone.

    Examples
    --------
    >>> unit_scale(np.array([[1.0, 5.0], [3.0, np.nan]])).tolist()
    [[0.0, 1.0], [0.5, nan]]
    >>> unit_scale(np.array([[0.2, 0.9]])).tolist()
    [[0.2, 0.9]]
    """
    traits = np.asarray(traits, dtype=np.float64)
    if five_point(traits) if five is None else five:
        traits = (traits - 1.0) / 4.0
    return np.clip(traits, 0.0, 1.0)


def _trait_table(feature: str, setting: str, value: Any, check) -> dict[str, Any]:
    """A mapping trait -> setting, every key a Big Five trait, each value passing ``check``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise setting_error(feature, setting, value, f"a table of trait = value, traits among {list(BIG_FIVE)}")
    out = {}
    for trait, v in value.items():
        if trait not in BIG_FIVE:
            raise setting_error(feature, f"{setting}.{trait}", v, f"a Big Five trait, one of {list(BIG_FIVE)}")
        out[trait] = check(f"{setting}.{trait}", v)
    return out


class _PersonalityPrepared:
    def __init__(self, feature: "Personality", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        self.traits = [t for t in BIG_FIVE if feature.modes[t] != "ignore" and feature.trait_weights[t] > 0]
        raw_e = np.column_stack([numeric_column(mentees, t) for t in BIG_FIVE])
        raw_m = np.column_stack([numeric_column(mentors, t) for t in BIG_FIVE])
        five = five_point(raw_e, raw_m)  # one scale for both tables
        self.mentee, self.mentor = unit_scale(raw_e, five), unit_scale(raw_m, five)
        self.mentee_t = np.ascontiguousarray(self.mentee.T)  # one contiguous row per trait
        self.mentor_t = np.ascontiguousarray(self.mentor.T)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        f = self.feature
        total = np.zeros(len(mentee), dtype=np.float64)
        weight = np.zeros(len(mentee), dtype=np.float64)
        for t in self.traits:  # five traits at most; each step is over all pairs at once
            c = BIG_FIVE.index(t)
            diff = np.take(self.mentee_t[c], mentee)
            diff -= np.take(self.mentor_t[c], mentor)
            np.abs(diff, out=diff)  # NaN where either value is unknown
            if f.modes[t] != "complementary":
                np.subtract(1.0, diff, out=diff)
            known = ~np.isnan(diff)
            w = f.trait_weights[t]
            diff *= w
            np.add(total, diff, out=total, where=known)
            np.add(weight, w, out=weight, where=known)
        out = np.full(len(mentee), np.nan)
        np.divide(total, weight, out=out, where=weight > 0)
        return np.clip(out, 0.0, 1.0, out=out)

    def pair_table(self, max_entries: int) -> "_TraitTables | None":
        """One table per trait over the distinct values of the two sides, holding
        ``w_t * part_t``; the gather adds them in the order of :meth:`values`, so the result is
        the same to the bit. See :mod:`mentormatch.features.tables`."""
        f = self.feature
        parts = []
        for t in self.traits:
            c = BIG_FIVE.index(t)
            code_e, uniq_e = pd.factorize(self.mentee_t[c], use_na_sentinel=False)
            code_m, uniq_m = pd.factorize(self.mentor_t[c], use_na_sentinel=False)
            uniq_e, uniq_m = np.asarray(uniq_e, dtype=np.float64), np.asarray(uniq_m, dtype=np.float64)
            diff = uniq_e[:, None] - uniq_m[None, :]  # the operations of ``values``, on distinct values
            np.abs(diff, out=diff)
            if f.modes[t] != "complementary":
                np.subtract(1.0, diff, out=diff)
            w = f.trait_weights[t]
            diff *= w
            parts.append((diff, code_e.astype(np.intp), code_m.astype(np.intp), w))
        if sum(p[0].size for p in parts) > max_entries:
            return None
        return _TraitTables(parts, self)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        return {f"{t}_diff": self.mentor[mentor, c] - self.mentee[mentee, c] for c, t in enumerate(BIG_FIVE)}

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None

    def bound_model(self, neutral: float) -> BoundModel:
        """Per trait, mentors fall into ``BOUND_BINS`` bins of their value; a pair's part is
        bounded by the best the mentee's value allows against the bin's range of values::

            similar        1 - |a - b| <= 1 - distance(a, [low, high])
            complementary  |a - b| <= max(|a - low|, |a - high|)

        so the bound is above the value by at most a bin's width (1/8) a trait. Where a person
        lacks a trait the weights of the mean change with the pair, so that person's pairs are
        bounded by 1 instead."""
        f = self.feature
        cols = [BIG_FIVE.index(t) for t in self.traits]
        w = np.array([f.trait_weights[t] for t in self.traits], dtype=np.float64)
        w = w / w.sum()
        a, b = self.mentee[:, cols], self.mentor[:, cols]
        full_e, full_m = ~np.isnan(a).any(axis=1), ~np.isnan(b).any(axis=1)
        lefts, rights = [], []
        for t, trait in enumerate(self.traits):
            bins = np.minimum((np.nan_to_num(b[:, t]) * BOUND_BINS).astype(np.int64), BOUND_BINS - 1)
            for k in np.unique(bins[full_m]):
                inside = full_m & (bins == k)
                low, high = b[inside, t].min(), b[inside, t].max()
                if f.modes[trait] == "complementary":
                    part = np.maximum(np.abs(a[:, t] - low), np.abs(a[:, t] - high))
                else:
                    part = 1.0 - np.maximum(np.maximum(low - a[:, t], a[:, t] - high), 0.0)
                lefts.append(w[t] * np.nan_to_num(part))
                rights.append(inside.astype(np.float64))
        n, m = len(a), len(b)
        # stacked as rows and transposed (a column-major view): column_stack wrote each
        # column with a stride, 10 ms at 100,000 mentees x 40 columns
        left = np.stack(lefts).T if lefts else np.zeros((n, 0))
        right = np.stack(rights).T if rights else np.zeros((m, 0))
        left[~full_e] = 0.0  # a person with a missing trait: bound 1 on their pairs
        return BoundModel(left=left, right=right, row=np.where(full_e, 0.0, 1.0),
                          col=np.where(full_m, 0.0, 1.0), exact=False)


class _TraitTables:
    """Per trait ``w_t * part_t`` over (mentee value, mentor value) codes; ``gather`` sums the
    known ones and divides by their weights, as :meth:`_PersonalityPrepared.values` does."""

    def __init__(self, parts, prepared: _PersonalityPrepared):
        # per trait: the flat table, the mentee's row offset, the mentor's code, the weight
        self.parts = [(t.reshape(-1), e * t.shape[1], m, w) for t, e, m, w in parts]
        self._tables = parts
        self.prepared = prepared
        self.n_mentors = len(prepared.mentor_t[0]) if len(prepared.mentor_t) else 0
        self.has_nan = any(bool(np.isnan(t).any()) for t, _, _, _ in parts) or not parts
        self.total_weight = 0.0
        for _, _, _, w in parts:  # the sum of ``values``, in the same order
            self.total_weight += w
        self._by_row = None
        self._stacked = None  # (tables, row codes, mentor codes) of the compiled gather, at first use

    def bad(self):
        return None  # the gather clips to [0, 1], as ``values`` does

    def _finish(self, total: np.ndarray) -> np.ndarray:
        if self.total_weight > 0:
            total /= self.total_weight
        else:
            total[:] = np.nan
        return np.clip(total, 0.0, 1.0, out=total)

    def gather(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        if self.has_nan:
            return self.prepared.values(mentee, mentor)
        kernel = gather_kernel()
        if kernel is not None and mentee.dtype == np.int64 and mentor.dtype == np.int64:
            # the compiled twin of the loop below: the traits' terms added in the same order
            if self._stacked is None:  # the tables end to end; (person, trait) codes
                starts = np.cumsum([0] + [len(t) for t, _, _, _ in self.parts[:-1]])
                self._stacked = (np.concatenate([t for t, _, _, _ in self.parts]),
                                 np.stack([r + a for (_, r, _, _), a in zip(self.parts, starts)], axis=1).astype(np.intp),
                                 np.stack([c for _, _, c, _ in self.parts], axis=1).astype(np.intp))
            total = np.empty(len(mentee), dtype=np.float64)
            kernel.keyed_sums(*self._stacked, np.ascontiguousarray(mentee), np.ascontiguousarray(mentor), total)
            return self._finish(total)
        total = np.zeros(len(mentee), dtype=np.float64)
        idx = np.empty(len(mentee), dtype=np.intp)
        for table, row, col, _ in self.parts:
            np.take(row, mentee, out=idx)
            idx += np.take(col, mentor)
            total += np.take(table, idx)
        return self._finish(total)

    def rows(self, mentees: np.ndarray) -> np.ndarray | None:
        """The values of ``mentees`` with every mentor, row after row: per trait, whole rows
        of a (mentee value x mentor) table, added in the order of :meth:`gather`."""
        if self.has_nan:
            return None
        if self._by_row is None:
            self._by_row = [(e, np.ascontiguousarray(t[:, m])) for t, e, m, _ in self._tables]  # values x mentors
        total = np.zeros(len(mentees) * self.n_mentors, dtype=np.float64)
        for code, by_row in self._by_row:
            total += by_row[np.take(code, mentees)].reshape(-1)
        return self._finish(total)


@register_feature
class Personality:
    """Closeness (or complementarity) of Big Five personality profiles.

    Parameters
    ----------
    modes : mapping of str to str, optional
        Trait -> ``"similar"`` (default for every trait: ``1 - |difference|``),
        ``"complementary"`` (``|difference|``) or ``"ignore"``. Traits are
        ``openness, conscientiousness, extraversion, agreeableness, neuroticism``.
    trait_weights : mapping of str to float, optional
        Trait -> weight ``>= 0`` in the mean; default 1 for every trait.

    Notes
    -----
    Columns: the Big Five traits of both tables, each table on the 1-5 scale or wholly on the
    0-1 scale (a table whose values are all ``<= 1``). The value is the weighted mean of the
    per-trait parts over the traits known for both people; NaN (neutral 0.5) when there is
    none. Details: ``<trait>_diff``, mentor minus mentee on the [0, 1] scale, for all five
    traits (NaN where unknown).

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.features import Context
    >>> e = pd.DataFrame({"id": ["E1"], "openness": [4.0], "extraversion": [2.0]})
    >>> m = pd.DataFrame({"id": ["M1"], "openness": [2.0], "extraversion": [2.0]})
    >>> p = Personality(modes={"extraversion": "complementary"}).prepare(e, m, Context())
    >>> p.values(np.array([0]), np.array([0])).tolist()   # mean of 1 - 0.5 and 0.0
    [0.25]
    """

    name = "personality"
    neutral = 0.5

    def __init__(self, *, modes: Mapping[str, str] | None = None,
                 trait_weights: Mapping[str, float] | None = None):
        n = self.name
        given_modes = _trait_table(n, "modes", modes, lambda s, v: check_choice(n, s, v, TRAIT_MODES))
        given_weights = _trait_table(n, "trait_weights", trait_weights,
                                     lambda s, v: check_number(n, s, v, 0.0))
        self.modes = {t: given_modes.get(t, "similar") for t in BIG_FIVE}
        self.trait_weights = {t: given_weights.get(t, 1.0) for t in BIG_FIVE}
        if not any(self.modes[t] != "ignore" and self.trait_weights[t] > 0 for t in BIG_FIVE):
            raise setting_error(n, "modes", modes, "at least one trait not ignored and with a weight > 0 "
                                f"(trait_weights = {self.trait_weights})")

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _PersonalityPrepared:
        return _PersonalityPrepared(self, mentees, mentors)
