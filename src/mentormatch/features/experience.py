"""Experience: how far the mentor is ahead of the mentee, in years and in career levels.

Each part is a *sweet spot* with linear shoulders. For a gap ``g`` (mentor minus mentee) and a
sweet spot ``(lo, hi)`` with decay width ``w``::

    part(g) = 1                          if lo <= g <= hi
            = max(0, 1 - (lo - g) / w)   if g < lo
            = max(0, 1 - (g - hi) / w)   if g > hi

so the part falls from 1 at the edge of the sweet spot to 0 at ``w`` beyond it. The value is
the mean of the known parts (years, level, and age when ``use_age=True``); NaN when none is
known. A mentor *junior* to the mentee (lower level; or fewer years when either level is
unknown) scores 0, or makes the pair ineligible with ``junior_mentor="ineligible"``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import register_feature
from .base import (MAX_BOUND_KEYS, MAX_ONE_HOT, BoundModel, Context, KeyedMask, check_choice, check_number,
                   check_range, keyed_table, numeric_column, one_hot, row_keys)

#: Most mentee groups (years bin x level) of the binned experience bound.
_MAX_BINNED_KEYS = MAX_BOUND_KEYS
#: Most mentee groups of the exact experience table. The scale path multiplies the groups of
#: all keyed features (places x experience groups) into one table, so this stays small and
#: many distinct years are binned instead.
_EXACT_KEYS = 64


def sweet_spot(gap: np.ndarray, low: float, high: float, width: float) -> np.ndarray:
    """1 inside ``[low, high]``, falling linearly to 0 at ``width`` outside; NaN stays NaN.

    Examples
    --------
    >>> sweet_spot(np.array([0.0, 3.0, 12.0, 20.0]), 3, 10, 5).tolist()
    [0.4, 1.0, 0.6, 0.0]
    """
    gap = np.asarray(gap, dtype=float)
    outside = np.maximum(low - gap, 0.0) + np.maximum(gap - high, 0.0)
    return np.clip(1.0 - outside / width, 0.0, 1.0)


class _ExperiencePrepared:
    ineligible_rule = "experience.junior_mentor"

    def __init__(self, feature: "Experience", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        self.years = (numeric_column(mentees, "years_experience"), numeric_column(mentors, "years_experience"))
        self.level = (numeric_column(mentees, "level"), numeric_column(mentors, "level"))
        self.age = (numeric_column(mentees, "age"), numeric_column(mentors, "age")) if feature.use_age else None

    def _gaps(self, i, j) -> dict[str, np.ndarray]:
        out = {"years_gap": self.years[1][j] - self.years[0][i],
               "level_gap": self.level[1][j] - self.level[0][i]}
        if self.age is not None:
            out["age_gap"] = self.age[1][j] - self.age[0][i]
        return out

    @staticmethod
    def _junior(gaps: dict[str, np.ndarray]) -> np.ndarray:
        level, years = gaps["level_gap"], gaps["years_gap"]
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(level), years < 0, level < 0)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        f = self.feature
        gaps = self._gaps(mentee, mentor)
        parts = [sweet_spot(gaps["years_gap"], *f.years_gap, f.years_decay),
                 sweet_spot(gaps["level_gap"], *f.level_gap, f.level_decay)]
        if "age_gap" in gaps:
            parts.append(sweet_spot(gaps["age_gap"], *f.age_gap, f.age_decay))
        stacked = np.stack(parts)
        known = (~np.isnan(stacked)).sum(axis=0)
        value = np.where(known > 0, np.nansum(stacked, axis=0) / np.maximum(known, 1), np.nan)
        return np.where(self._junior(gaps), 0.0, value)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        gaps = self._gaps(mentee, mentor)
        gaps["junior_mentor"] = self._junior(gaps)
        return gaps

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None:
        if self.feature.junior_mentor != "ineligible":
            return None
        return self._junior(self._gaps(mentee, mentor))

    def pair_table(self, max_entries: int):
        """The values over every pair of distinct (years, level[, age]) of the two sides; see
        :mod:`mentormatch.features.tables`."""
        from .tables import keyed_pair_table

        cols_e = [self.years[0], self.level[0]] + ([self.age[0]] if self.age is not None else [])
        cols_m = [self.years[1], self.level[1]] + ([self.age[1]] if self.age is not None else [])
        return keyed_pair_table(self.values, cols_e, cols_m, max_entries)

    def bound_model(self, neutral: float) -> BoundModel | None:
        """Exact when mentees (or mentors) fall into at most 64 groups of
        equal years, level (and age); otherwise mentees are grouped by level and by bins of
        years (and age) an eighth of the decay wide, and each group's part is the best the
        sweet spot allows over the group's range of years: at most ``1/8`` above the value."""
        f = self.feature
        cols_e = [self.years[0], self.level[0]] + ([self.age[0]] if self.age is not None else [])
        cols_m = [self.years[1], self.level[1]] + ([self.age[1]] if self.age is not None else [])
        ineligible = None
        if f.junior_mentor == "ineligible":
            ineligible = self._junior_mask()
            if ineligible is None:
                return None
        ke, fe = row_keys(*cols_e)
        km, fm = row_keys(*cols_m)
        if len(fe) <= _EXACT_KEYS or len(fm) <= MAX_ONE_HOT:
            table = keyed_table(self.values, ke, fe, km, fm, neutral)
            if len(fe) <= _EXACT_KEYS:
                return BoundModel(key=ke, table=table[:, km], exact=True, ineligible=ineligible)
            return BoundModel(left=table[ke], right=one_hot(km, len(fm)), exact=True,
                              ineligible=ineligible)
        # binned: (years bin, level, age bin) groups of mentees, each with its range of values
        specs = [(self.years, f.years_gap, f.years_decay, f.years_decay / 8.0),
                 (self.level, f.level_gap, f.level_decay, 0.0)]
        if self.age is not None:
            specs.append((self.age, f.age_gap, f.age_decay, f.age_decay / 8.0))
        binned = [np.floor(v[0] / width) if width > 0 else v[0] for v, _, _, width in specs]
        key, first = row_keys(*binned)
        k = len(first)
        if k > _MAX_BINNED_KEYS:
            return None
        total = np.zeros((k, len(self.years[1])))
        known = np.zeros((k, len(self.years[1])))
        for (values, (lo, hi), decay, _), b in zip(specs, binned):
            mentee = values[0]
            g_lo = np.full(k, np.inf)
            g_hi = np.full(k, -np.inf)
            ok = ~np.isnan(mentee)
            np.minimum.at(g_lo, key[ok], mentee[ok])
            np.maximum.at(g_hi, key[ok], mentee[ok])
            has = np.isfinite(g_lo)  # the group's values are all known (NaN is its own group)
            mentor = values[1]
            gap_lo = mentor[None, :] - g_hi[:, None]  # the group's gaps span [gap_lo, gap_hi]
            gap_hi = mentor[None, :] - g_lo[:, None]
            with np.errstate(invalid="ignore"):
                outside = np.maximum(np.maximum(lo - gap_hi, gap_lo - hi), 0.0)
                part = np.clip(1.0 - outside / decay, 0.0, 1.0)
            use = has[:, None] & ~np.isnan(mentor)[None, :]
            total += np.where(use, part, 0.0)
            known += use
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(known > 0, total / np.maximum(known, 1), neutral)
        return BoundModel(key=key, table=table, exact=False, ineligible=ineligible)

    def _junior_mask(self) -> KeyedMask | None:
        """The junior-mentor rule as a table over mentee groups (level, and years where a
        level is unknown), or None when there are too many groups."""
        level, years = self.level[0], self.years[0]
        need_years = np.isnan(level) | bool(np.isnan(self.level[1]).any())
        key, first = row_keys(level, np.where(need_years, years, 0.0))
        if len(first) > _MAX_BINNED_KEYS:
            return None
        m = len(self.years[1])
        gaps = self._gaps(np.repeat(first, m), np.tile(np.arange(m), len(first)))
        return KeyedMask(key, self._junior(gaps).reshape(len(first), m))


@register_feature
class Experience:
    """Experience gap between mentor and mentee, scored against a sweet spot.

    Parameters
    ----------
    years_gap : (float, float)
        Sweet spot of ``mentor.years_experience - mentee.years_experience``; default (3, 25).
    level_gap : (float, float)
        Sweet spot of ``mentor.level - mentee.level``; default (1, 3).
    years_decay, level_decay : float
        Width beyond the sweet spot over which the part falls linearly to 0; default 10 years
        and 2 levels (a peer on the same level scores 0.5 on the level part).

    Notes on the defaults
    ---------------------
    The sweet spots are wide on purpose: the programme grows people toward their next role,
    and the most junior have the largest gaps to every mentor. With the former (3, 10) years and
    (1, 2) levels, a level-1 sales representative with two years' experience scored 0 on years
    against every mentor with 15 or more, while a level-4 manager with 30 years scored 1: on
    the IBM HR table's Sales split (README; 61 mentees, 16 mentors x 2 places) 9 of 28 level-1
    mentees were matched (32 %, overall 52 %); with these defaults 17 of 28 are (61 %), and
    every level below the top is matched at 0.8 x the overall rate or more.
    junior_mentor : {"zero", "ineligible"}
        A mentor junior to the mentee scores 0 (default) or the pair is ineligible (rule
        ``"experience.junior_mentor"``).
    use_age : bool
        Age is a protected attribute and not used by default. With ``True`` an age part
        (sweet spot ``age_gap``, default (5, 20) years, decay ``age_decay``, default 10) joins
        the mean and ``uses_protected_attribute`` is True, so that reports can say so.

    Notes
    -----
    Columns: ``years_experience``, ``level`` (and ``age``) of both tables. Details:
    ``years_gap``, ``level_gap``, ``junior_mentor`` (and ``age_gap``).
    """

    name = "experience"
    neutral = 0.5

    def __init__(self, *, years_gap: tuple[float, float] = (3.0, 25.0),
                 level_gap: tuple[float, float] = (1.0, 3.0), years_decay: float = 10.0,
                 level_decay: float = 2.0, junior_mentor: str = "zero", use_age: bool = False,
                 age_gap: tuple[float, float] = (5.0, 20.0), age_decay: float = 10.0):
        n = self.name
        self.years_gap = check_range(n, "years_gap", years_gap)
        self.level_gap = check_range(n, "level_gap", level_gap)
        self.age_gap = check_range(n, "age_gap", age_gap)
        self.years_decay = check_number(n, "years_decay", years_decay, 0.0, strict_low=True)
        self.level_decay = check_number(n, "level_decay", level_decay, 0.0, strict_low=True)
        self.age_decay = check_number(n, "age_decay", age_decay, 0.0, strict_low=True)
        self.junior_mentor = check_choice(n, "junior_mentor", junior_mentor, ("zero", "ineligible"))
        if not isinstance(use_age, bool):
            from .base import setting_error

            raise setting_error(n, "use_age", use_age, "true or false")
        self.use_age = use_age

    @property
    def uses_protected_attribute(self) -> bool:
        """True when the protected attribute ``age`` enters the score (``use_age=True``)."""
        return self.use_age

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _ExperiencePrepared:
        return _ExperiencePrepared(self, mentees, mentors)
