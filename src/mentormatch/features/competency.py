"""Competency: is the mentor strong where the mentee must grow to reach the next role?

Needs a career framework (``context.framework``, a :class:`~mentormatch.careers.CareerFramework`);
without one every pair is NaN (neutral). Competency levels are the ``comp_<competency>``
columns of both tables (mastery 0..5).

The mentee's *target role* is the ``target_role`` column where it is set; otherwise it comes
from the pathway graph, from the mentee's ``role``:

- ``target="next_up"`` (default): the first "up" move of ``framework.next_roles(role)``
  (moves are sorted by id), or the first lateral move for a role with no move up;
- ``target="best_next"``: every next role is a candidate target and the pair takes the best
  value over them (ties: the first in ``next_roles`` order, up moves first). This credits a
  mentor who can take the mentee up any step of the staircase.

For target role ``t`` and competency ``c`` the mentee's gap is
``gap_c = max(required[t, c] - mentee_c, 0)``; the mentor *covers* ``c`` when
``mentor_c >= required[t, c]``. The value is the importance-and-gap weighted share of the
gaps covered::

    value = sum_c importance[t, c] * gap_c * covered_c / sum_c importance[t, c] * gap_c

so 1 when the mentor covers every gap, 0 when none, and a large gap in an important
competency counts for more than a small one in a minor competency. Competencies where the
mentee's or the mentor's level is unknown take no part.

NaN (neutral) when there is nothing to measure: no framework, an unknown or missing role or
target, no known competency level, or a mentee who already meets every requirement of the
target (no gap: any mentor would do equally well, so the pair is neither lifted nor lowered).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._native import gather_kernel
from . import register_feature
from .base import BoundModel, Context, check_choice, numeric_column, text_column

TARGETS = ("next_up", "best_next")
COMPETENCY_PREFIX = "comp_"


def next_role(framework, role: str, kind: str = "up") -> str:
    """The first ``kind`` move from ``role`` (by id), else the first move of any kind, else "".

    Examples
    --------
    >>> from mentormatch.careers import CareerFramework
    >>> next_role(CareerFramework.sales(), "sdr")
    'ae'
    """
    if role not in framework.level:
        return ""
    moves = framework.next_roles(role)
    up = [r for r in moves if framework.graph.edges[role, r]["kind"] == kind]
    return (up or moves or [""])[0]


def covered_names(mask: int, competencies: list[str]) -> list[str]:
    """The competencies whose bits are set in ``mask`` (bit ``c`` = ``competencies[c]``).

    Examples
    --------
    >>> covered_names(0b101, ["prospecting", "negotiation", "forecasting"])
    ['prospecting', 'forecasting']
    """
    mask = int(mask)
    return [c for k, c in enumerate(competencies) if (mask >> k) & 1]


class _CompetencyPrepared:
    def __init__(self, feature: "Competency", mentees: pd.DataFrame, mentors: pd.DataFrame, framework):
        self.feature = feature
        self.framework = framework
        self.n_mentees = len(mentees)
        self._n_mentors = len(mentors)
        if framework is None:
            self.competencies: list[str] = []
            self.titles: dict[str, str] = {}
            self.roles: list[str] = []
            self.slots = 0
            return
        self.competencies = list(framework.competencies)
        self.titles = dict(framework.titles)
        self.roles = list(framework.roles)
        cols = [COMPETENCY_PREFIX + c for c in self.competencies]
        mentee_level = np.array([numeric_column(mentees, c) for c in cols], dtype=np.float64).reshape(
            len(cols), len(mentees)).T
        mentor_level = np.array([numeric_column(mentors, c) for c in cols], dtype=np.float64).reshape(
            len(cols), len(mentors)).T
        required = framework.required.loc[self.roles, self.competencies].to_numpy(np.float64)
        importance = framework.importance.loc[self.roles, self.competencies].to_numpy(np.float64)
        targets = self._targets(mentees)  # (slots, n_mentees) role indices, -1 = none
        self.targets = targets
        self.slots = targets.shape[0]
        # per slot: required mastery and importance x gap weight of each mentee's target, NaN where
        # the target or the mentee's level is unknown
        have = targets >= 0
        req = required[np.maximum(targets, 0)]                       # (slots, n_mentees, C)
        req[~have] = np.nan
        gap = np.maximum(req - mentee_level[None, :, :], 0.0)  # NaN propagates
        self.gap = gap
        weight = importance[np.maximum(targets, 0)] * gap
        # contiguous (slots, C, n) tables for fast gathers; an unknown gap weighs 0, which
        # leaves that competency out of both sums of the share
        self.weight_t = np.ascontiguousarray(np.nan_to_num(weight, nan=0.0).transpose(0, 2, 1))
        self.required_t = np.ascontiguousarray(req.transpose(0, 2, 1))
        self.mentor_t = np.ascontiguousarray(mentor_level.T)
        self.mentor_complete = ~np.isnan(self.mentor_t).any(axis=1)
        self._by_person = {}  # the compiled gather's (person, competency) arrays, at first use

    def _targets(self, mentees: pd.DataFrame) -> np.ndarray:
        fw, roles = self.framework, pd.Index(self.roles)
        explicit = text_column(mentees, "target_role")
        role = text_column(mentees, "role")
        # the pathway is looked up once per distinct role, never per pair
        codes, uniques = pd.factorize(role)
        if self.feature.target == "best_next":
            options = [fw.next_roles(r) if r in fw.level else [] for r in uniques]
        else:
            options = [[t] if (t := next_role(fw, r)) else [] for r in uniques]
        slots = max([len(o) for o in options] + [1])
        table = np.full((len(uniques), slots), -1, dtype=np.int64)
        for k, o in enumerate(options):
            table[k, :len(o)] = roles.get_indexer(o)
        out = table[codes].T.copy() if len(codes) else np.full((slots, 0), -1, dtype=np.int64)
        given = explicit != ""
        if given.any():
            out[:, given] = -1
            out[0, given] = roles.get_indexer(explicit[given])  # unknown target role -> -1 -> NaN
        return out

    def _coded(self, s: int):
        """The compiled gather's arrays for slot ``s`` (made at first use): the mentees' gap
        weights (mentees, competencies), and the required and mentors' levels as byte codes,
        their ranks among the distinct levels (255: NaN; ``level >= required`` holds exactly
        when the codes compare so), a person's numbers side by side; None past 255 levels."""
        if s not in self._by_person:
            known = np.concatenate([self.mentor_t.ravel(), self.required_t[s].ravel()])
            levels = np.unique(known[~np.isnan(known)])
            if len(levels) > 255:
                self._by_person[s] = None
            else:
                def codes(x):
                    return np.where(np.isnan(x), 255, np.searchsorted(levels, x)).astype(np.uint8).T.copy()

                self._by_person[s] = (np.ascontiguousarray(self.weight_t[s].T), codes(self.required_t[s]),
                                      codes(self.mentor_t))
        return self._by_person[s]

    def _slot(self, s: int, i: np.ndarray, j: np.ndarray, flags: bool = False):
        """Value per pair for target slot ``s`` (NaN when no gap is measurable) and, with
        ``flags``, the covered-gap flags per competency. Without flags, on int64 pairs, the
        compiled twin of the loop when built (:func:`mentormatch._native.gather_kernel`: one
        pass over the pairs, the same sums to the bit; 0.10 -> 0.02 us a pair at 100,000 x 20,000)."""
        kernel = None if flags else gather_kernel()
        coded = self._coded(s) if kernel is not None and i.dtype == np.int64 and j.dtype == np.int64 else None
        if coded is not None:
            value = np.empty(len(i), dtype=np.float64)
            kernel.covered_share(*coded, np.ascontiguousarray(i), np.ascontiguousarray(j), value)
            return np.clip(value, 0.0, 1.0, out=value), []
        num = np.zeros(len(i), dtype=np.float64)
        den = np.zeros(len(i), dtype=np.float64)
        covered = []
        for c in range(len(self.competencies)):  # ~10 competencies; each step over all pairs
            w = np.take(self.weight_t[s, c], i)
            mentor = np.take(self.mentor_t[c], j)
            with np.errstate(invalid="ignore"):
                cov = mentor >= np.take(self.required_t[s, c], i)  # False where either is NaN
            if self.mentor_complete[c]:
                den += w
            else:
                np.add(den, w, out=den, where=~np.isnan(mentor))
            np.add(num, w, out=num, where=cov)
            if flags:
                covered.append(cov & (w > 0))
        value = np.full(len(i), np.nan)
        np.divide(num, den, out=value, where=den > 0)
        return np.clip(value, 0.0, 1.0, out=value), covered

    def _best(self, i: np.ndarray, j: np.ndarray, flags: bool = False):
        """Value per pair, the slot it comes from, and (with ``flags``) the covered flags of
        that slot."""
        if self.slots == 1:
            v, cov = self._slot(0, i, j, flags)
            return v, np.zeros(len(i), dtype=np.int64), cov
        best = np.full(len(i), np.nan)
        slot = np.zeros(len(i), dtype=np.int64)
        covered = [np.zeros(len(i), dtype=bool) for _ in self.competencies] if flags else []
        for s in range(self.slots):  # next roles of a role: a handful
            v, cov = self._slot(s, i, j, flags)
            better = ~np.isnan(v) & (np.isnan(best) | (v > best))
            best[better] = v[better]
            slot[better] = s
            covered = [np.where(better, new, old) for new, old in zip(cov, covered)]
        return best, slot, covered

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        if self.framework is None:
            return np.full(len(mentee), np.nan)
        return self._best(mentee, mentor)[0]

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        """Per pair: ``covered`` (int bitmask, bit ``c`` = ``competencies[c]``: a gap the mentor
        covers), ``gap`` (the mentee's gap vector, shape (n_pairs, n_competencies)),
        ``target_role`` (role id, "" when none) and ``value``."""
        n = len(mentee)
        if self.framework is None:
            return {"covered": np.zeros(n, dtype=np.int64), "gap": np.full((n, 0), np.nan),
                    "target_role": np.full(n, "", dtype=object), "value": np.full(n, np.nan)}
        value, slot, covered = self._best(mentee, mentor, flags=True)
        wide = len(self.competencies) > 62
        mask = np.zeros(n, dtype=object if wide else np.int64)
        for c, cov in enumerate(covered):
            bits = cov.astype(object if wide else np.int64)
            mask = mask | (bits << c)
        target = self.targets[slot, mentee]
        roles = np.asarray(self.roles + [""], dtype=object)
        return {"covered": mask, "gap": self.gap[slot, mentee], "target_role": roles[target],
                "value": value}

    def describe(self, details: dict[str, np.ndarray], k: int) -> str:
        """Pair ``k`` of ``details`` in words: "covers negotiation (+2) and forecasting (+1)
        that Account Executive requires" (gaps of the mentee in brackets).

        Examples
        --------
        >>> from mentormatch.careers import CareerFramework
        >>> fw = CareerFramework.sales()
        >>> e = pd.DataFrame({"id": ["E1"], "role": ["sdr"]})
        >>> p = Competency().prepare(e, pd.DataFrame({"id": ["M1"]}), Context(framework=fw))
        >>> p.describe(p.details(np.array([0]), np.array([0])), 0)
        'mentee levels unknown for Account Executive'
        """
        target = str(details["target_role"][k])
        if not target:
            return "no target role on the career framework"
        title = self.titles.get(target, target)
        gap = np.asarray(details["gap"][k], dtype=np.float64)
        if np.isnan(gap).all():
            return f"mentee levels unknown for {title}"
        if not np.nansum(gap) > 0:
            return f"the mentee already meets what {title} requires"
        names = covered_names(details["covered"][k], self.competencies)
        if not names:
            return f"covers none of the gaps {title} requires"
        parts = [f"{c} (+{gap[self.competencies.index(c)]:g})" for c in names]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"covers {listed} that {title} requires"

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None

    def pair_table(self, max_entries: int):
        """With one target per mentee: the values over (the mentee's target and gap weights) x
        (which of the target's requirements the mentor meets, and which of their levels are
        unknown), one block of the table per target role; see :mod:`mentormatch.features.tables`.
        None with several targets (``best_next``)."""
        from .base import row_keys
        from .tables import PairTable

        n, m = self.n_mentees, self._n_mentors
        if n == 0 or m == 0:
            return None
        if self.framework is None:
            return PairTable(np.full(1, np.nan), np.zeros(n, np.intp), np.zeros((1, m), np.intp), None,
                             np.zeros(1, np.int64), np.zeros(1, np.int64))
        if self.slots != 1 or not self.competencies:
            return None
        target = self.targets[0]
        group, first_g = row_keys(target)
        unknown = np.isnan(self.mentor_t)
        row = np.zeros(n, dtype=np.intp)
        col = np.zeros((len(first_g), m), dtype=np.intp)
        parts, reps_e, reps_m, offset = [], [], [], 0
        for g, i0 in enumerate(first_g):
            members = np.flatnonzero(group == g)
            key_e, first_e = row_keys(*self.weight_t[0][:, members])
            with np.errstate(invalid="ignore"):
                covered = self.mentor_t >= self.required_t[0][:, i0][:, None]  # (C, m), False where NaN
            key_m, first_m = row_keys(*covered, *unknown)
            ke, km = len(first_e), len(first_m)
            if offset + ke * km > max_entries:
                return None
            rep_e, rep_m = np.repeat(members[first_e], km), np.tile(first_m, ke)
            parts.append(self._slot(0, rep_e, rep_m)[0])
            reps_e.append(rep_e)
            reps_m.append(rep_m)
            row[members] = offset + key_e * km
            col[g] = key_m
            offset += ke * km
        return PairTable(np.concatenate(parts), row, col, group, np.concatenate(reps_e), np.concatenate(reps_m))

    def bound_model(self, neutral: float) -> BoundModel:
        """The share of the gaps covered is a product: per competency ``c`` and required level
        ``r``, the mentee's ``importance x gap / sum`` times the mentor's ``[level_c >= r]``.
        Exact with one target per mentee; with several (``best_next``) the bound takes, per
        competency, the largest weight over the targets. Mentors with an unknown level change
        the sum's terms, so their pairs are bounded by 1."""
        n = self.n_mentees
        if self.framework is None:
            return BoundModel(row=np.full(n, neutral), exact=True)
        m = self.mentor_t.shape[1]
        den = self.weight_t.sum(axis=1)  # (slots, n): the sum over competencies
        usable = den > 0
        share = np.where(usable[:, None, :], self.weight_t / np.where(usable, den, 1.0)[:, None, :], 0.0)
        columns, lefts, rights = [], [], []
        for c in range(len(self.competencies)):
            req = self.required_t[:, c, :]  # (slots, n)
            levels = np.unique(req[(share[:, c, :] > 0) & ~np.isnan(req)])
            for r in levels:
                weight = np.where(req == r, share[:, c, :], 0.0).max(axis=0)
                lefts.append(weight)
                with np.errstate(invalid="ignore"):
                    rights.append((self.mentor_t[c] >= r).astype(np.float64))
                columns.append((c, r))
        # stacked as rows and transposed (a column-major view): column_stack wrote each
        # column with a stride, 10 ms at 100,000 mentees x 40 columns
        left = np.stack(lefts).T if lefts else np.zeros((n, 0))
        right = np.stack(rights).T if rights else np.zeros((m, 0))
        none = ~usable.any(axis=0)  # no measurable gap: the neutral value with every mentor
        row = np.where(none, neutral, 0.0)
        loose = np.isnan(self.mentor_t).any(axis=0)
        right[loose] = 0.0
        col = np.where(loose, 1.0, 0.0)
        return BoundModel(left=left, right=right, row=row, col=col,
                          exact=self.slots == 1 and not loose.any())


@register_feature
class Competency:
    """How well the mentor's competencies cover the mentee's gaps for the next role.

    Parameters
    ----------
    target : {"next_up", "best_next"}
        How a mentee without a ``target_role`` gets one: the first move up from their role
        (default), or the best value over every next role (see the module docstring).

    Notes
    -----
    Needs ``context.framework``. Columns: ``role`` and ``target_role`` (mentees), and the
    ``comp_<competency>`` levels of both tables. The value is the importance x gap weighted
    share of the mentee's gaps that the mentor covers; NaN (neutral 0.5) without a framework,
    role or levels, or when the mentee has no gap. Details: ``covered`` (int bitmask over
    ``competencies``), ``gap`` (mentee's gap vector), ``target_role`` and ``value``; the
    prepared object also carries ``competencies``, ``titles`` and :meth:`describe` for reports.

    Examples
    --------
    >>> from mentormatch.careers import CareerFramework
    >>> fw = CareerFramework.sales()
    >>> sdr = fw.required.loc["sdr"]
    >>> ae = fw.required.loc["ae"]
    >>> e = pd.DataFrame({"id": ["E1"], "role": ["sdr"], **{"comp_" + c: [sdr[c]] for c in fw.competencies}})
    >>> m = pd.DataFrame({"id": ["M1"], **{"comp_" + c: [ae[c]] for c in fw.competencies}})
    >>> p = Competency().prepare(e, m, Context(framework=fw))
    >>> p.values(np.array([0]), np.array([0])).tolist()   # a mentor at AE level covers every gap
    [1.0]
    """

    name = "competency"
    neutral = 0.5

    def __init__(self, *, target: str = "next_up"):
        self.target = check_choice(self.name, "target", target, TARGETS)

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _CompetencyPrepared:
        return _CompetencyPrepared(self, mentees, mentors, context.framework)
