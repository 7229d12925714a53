"""A scale-path round's eligible pairs on demand, never all at once: the pair reader
(:class:`~mentormatch.solvers.rows.PairReader`) that the solver ``stable`` and the random and
greedy baselines read there, over the round's block scorer (``blocks._BlockScorer``) or bounded
scorer (:class:`mentormatch.scale.BoundedScorer`)."""
from __future__ import annotations

import math

import numpy as np

from .. import constraints as C
from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates, Encoder
from ..rules import Rules
from ..solvers.base import PairBonus


def _evaluate(mentees, mentors, rules: Rules, context, features, mentee_ids, mentor_ids, line,
              forbidden, min_score, cand: Candidates):
    """The eligibility rules and the scores of any candidate pairs: ``(which, names, total)``,
    ``which`` the first rule that removes each pair (-1: eligible)."""
    from ..scoring import feature_rules, prepare_features
    from ..scoring_totals import score_totals

    masks = C.rule_masks(mentees, mentors, cand, rules.constraints, mentee_ids, mentor_ids,
                         line_pairs=line, forbidden_pairs=forbidden)
    if features is None:
        features = prepare_features(mentees, mentors, rules, context)
    total = score_totals(mentees, mentors, cand, rules, context, prepared=features)
    masks.update(feature_rules(cand, features))
    if not math.isnan(min_score):
        masks["min_score"] = total < min_score
    which, names = C.first_rule(masks, len(cand))
    return which, names, total


def refuse_ineligible_locks(a: np.ndarray, b: np.ndarray, which: np.ndarray, names: list[str],
                            mentee_ids: Encoder, mentor_ids: Encoder) -> None:
    """Raise :class:`~mentormatch.errors.InfeasibleError` for the first locked pair (mentees
    ``a``, mentors ``b``, in the programme's order) that a rule removes (``which``: per lock
    the index into ``names`` of the first rule removing it, -1 none), by id and rule, in the
    same words on the complete set and on the scale path."""
    bad = np.flatnonzero(which >= 0)
    if len(bad):
        k = int(bad[0])
        rule = names[which[k]]
        raise InfeasibleError(Conflict(
            "locked", f"locked pair ({mentee_ids.ids[a[k]]!s}, {mentor_ids.ids[b[k]]!s}) is "
            f"ineligible: rule {rule!r} removes it", f"drop the lock or turn off {rule!r}"))


def refuse_ineligible_locks_of(scorer, rules: Rules, mentee_ids: Encoder, mentor_ids: Encoder,
                               a: np.ndarray, b: np.ndarray) -> None:
    """:func:`refuse_ineligible_locks` on the scale path: the locked pairs alone evaluated by
    every eligibility rule (a few pairs; no candidate set), with the features the round's
    scorer prepared (on its tables and context) and its org-chart pairs where it keeps them."""
    n, m = len(scorer.mentees), len(scorer.mentors)
    keys, inverse = np.unique(a * m + b, return_inverse=True)
    cand = Candidates(keys // m, keys % m, n, m)
    which, names, _ = _evaluate(scorer.mentees, scorer.mentors, rules, scorer.context, scorer.features,
                                mentee_ids, mentor_ids, getattr(scorer, "line", None),
                                getattr(scorer, "forbidden", None), rules.constraints["min_score"],
                                cand)
    refuse_ineligible_locks(a, b, which[inverse.ravel()], names, mentee_ids, mentor_ids)


class _ScorerRows:
    """A scale-path round's eligible pairs on demand (a
    :class:`~mentormatch.solvers.rows.PairReader`): each mentee's best pairs and every pair
    block by block from the round's pair source, whole rows and given pairs scored exactly,
    never every pair at once. With a ``bonus``, scores are score + bonus (the bonus added as
    :mod:`mentormatch.solvers.bonus` adds it, so that every question gets the same numbers)."""

    def __init__(self, scorer, n: int, m: int, mentee_ids: Encoder, mentor_ids: Encoder,
                 bonus: PairBonus | None = None):
        from ..solvers.bonus import BonusBlocks, BonusBounds
        from ..solvers.sources import BlockSource, BoundedSource

        self.scorer, self.n_mentees, self.n_mentors, self.bonus = scorer, n, m, bonus
        self.mentee_ids, self.mentor_ids = mentee_ids, mentor_ids
        self.blocky = hasattr(scorer, "evaluate")  # a block scorer (blocks._BlockScorer)
        if bonus is None:
            self.source = (BlockSource(scorer, n, m) if self.blocky
                           else BoundedSource(scorer, n, m))
        else:
            self.source = (BlockSource(BonusBlocks(scorer, bonus, m), n, m) if self.blocky
                           else BoundedSource(BonusBounds(scorer, bonus), n, m))
        self.eligible_counts = scorer.eligible_counts
        self._rules = None
        self._best: dict[int, tuple] = {}  # each mentee's k best pairs, asked once per k

    def best(self, k: int):
        if k not in self._best:
            self._best[k] = self.source.best(k)
        return self._best[k]

    def blocks(self, screen=None):
        return self.source.blocks(screen)

    def _plus_bonus(self, s: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        b = self.bonus
        if b is None:
            return s
        if b.per_mentee is not None:
            s = s + np.asarray(b.per_mentee, float)[i]
        if b.per_mentor is not None:
            s = s + np.asarray(b.per_mentor, float)[j]
        if b.value is not None and len(b.value):
            listed = PairBonus(mentee=b.mentee, mentor=b.mentor, value=b.value,
                               n_mentors=b.n_mentors).on_pairs(i, j)
            s = s + listed
        return s

    def at(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        which, _, total, (i, j) = self.judged(mentee, mentor)
        return np.where(which < 0, self._plus_bonus(total, i, j), -np.inf)

    def judged(self, mentee: np.ndarray, mentor: np.ndarray):
        """The given pairs judged by every eligibility rule: ``(which, names, total, (mentee,
        mentor))``, ``which`` per pair the index into ``names`` of the first rule removing it
        (-1: eligible), ``total`` its score without the bonus, as the complete set's
        ``which_rule`` and ``scores.total`` (so "why not X" names the same rule on every source)."""
        m = self.n_mentors
        mentee, mentor = np.asarray(mentee, np.int64), np.asarray(mentor, np.int64)
        code = mentee * m + mentor
        if not len(code):
            return np.full(0, -1), [], np.zeros(0), (mentee, mentor)
        uniq, back = np.unique(code, return_inverse=True)
        cand = Candidates(uniq // m, uniq % m, self.n_mentees, m)
        s = self.scorer
        if self.blocky:
            which, names, total = s.evaluate(cand)
        else:
            if self._rules is None:  # the rules' pair lists, once
                cons = s.rules.constraints
                self._rules = (
                    C.management_line_pairs(s.mentees, s.mentors)
                    if cons.get("management_line", True) else None,
                    C.id_pairs(cons["forbidden"], self.mentee_ids, self.mentor_ids,
                               "constraints.forbidden") if cons.get("forbidden") else None)
            which, names, total = _evaluate(s.mentees, s.mentors, s.rules, s.context, s.features,
                                            self.mentee_ids, self.mentor_ids, *self._rules,
                                            s.rules.constraints["min_score"], cand)
        back = back.ravel()
        return which[back], names, total[back], (mentee, mentor)

    def rows(self, mentees: np.ndarray, screen=None) -> np.ndarray:
        mentees = np.asarray(mentees, np.int64)
        n, m = self.n_mentees, self.n_mentors
        out = np.full((len(mentees), m), -np.inf)
        if not len(mentees):
            return out
        if self.blocky:
            w = np.unique(mentees)
            if self.scorer.cache is not None:  # the cached blocks serve the rows
                from ..solvers.certify import row_blocks

                blocks = row_blocks(n, m)
                starts = np.array([a for a, _ in blocks])
                vals = np.empty((len(w), m))
                for b in np.unique(np.searchsorted(starts, w, side="right") - 1).tolist():
                    a0, b0 = blocks[b]
                    inside = (w >= a0) & (w < b0)
                    vals[inside] = self.source.scorer(slice(a0, b0))[w[inside] - a0]
                return vals[np.searchsorted(w, mentees)]
            cand = Candidates(np.repeat(w, m), np.tile(np.arange(m, dtype=np.int64), len(w)), n, m)
            which, _, total = self.scorer.evaluate(cand)
            ok = which < 0
            vals = np.full(len(cand), -np.inf)
            vals[ok] = self._plus_bonus(total[ok], cand.mentee[ok], cand.mentor[ok])
            return vals.reshape(len(w), m)[np.searchsorted(w, mentees)]
        from ..scale import BIG

        src = self.source.scorer  # the bounded scorer (with the bonus, if any)
        inner = np.asarray(self.scorer.inverse)[mentees]
        r_sorted = np.unique(inner)
        sub = src.subset(rows=r_sorted)
        up = sub.upper(0, len(r_sorted)).astype(np.float64) + sub.margin  # as BoundedSource
        eligible = up > -BIG / 4
        wanted = eligible if screen is None else eligible & screen(np.asarray(sub.order), up)
        vals = np.where(eligible, np.nan, -np.inf)  # NaN: eligible, not scored (screened out)
        rr, cc = np.nonzero(wanted)
        vals[rr, cc] = sub.exact_scores(rr, cc)
        return vals[np.searchsorted(r_sorted, inner)]
