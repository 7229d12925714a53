"""A scale-path round's scores block by block of mentee rows (:class:`_BlockScorer`): every
pair of the rows judged by the eligibility rules and scored exactly, the blocks cached (up to
``SCORE_CACHE_PAIRS`` pairs: :mod:`mentormatch.pipeline.large` decides), and bounds of its
scores for the engine's unit and, before any is scored, their ceiling."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..constraints import id_pairs, management_line_pairs
from ..features import Context
from ..pairs import Candidates, Encoder
from ..rules import Rules
from .reader import _evaluate


class _BlockScorer:
    """Scores of blocks of mentee rows against every mentor, ``-inf`` where a rule removes the
    pair; counts per mentee how many candidates each rule removed and how many are eligible
    (for unmatched reasons; ``eligible_counts`` is -1 for a row never scored yet)."""

    def __init__(self, mentees, mentors, rules: Rules, context: Context, mentee_ids: Encoder,
                 mentor_ids: Encoder, cache: bool = True):
        from ..scoring import prepare_features

        self.mentees, self.mentors, self.rules = mentees, mentors, rules
        self.mentee_ids, self.mentor_ids = mentee_ids, mentor_ids
        self.context = context
        self.features = prepare_features(mentees, mentors, rules, context)
        cons = rules.constraints
        self.line = (management_line_pairs(mentees, mentors) if cons.get("management_line", True)
                     else None)
        self.forbidden = (id_pairs(cons["forbidden"], mentee_ids, mentor_ids, "constraints.forbidden")
                          if cons.get("forbidden") else None)
        self.min_score = cons["min_score"]
        self.rule_names: list[str] = []
        self.removed: dict[str, np.ndarray] = {}
        # per mentee its eligible mentors, counted when its block is first scored; -1 until then
        # (a solve stopped before it: the count is not known, never "no eligible mentor")
        self.eligible_counts = np.full(len(mentees), -1, dtype=np.int64)
        # The certificate asks for each block again; with ``cache`` (the round's pairs up to
        # ``SCORE_CACHE_PAIRS``) the blocks are kept (8 bytes a pair), not scored a second time.
        self.cache: dict[tuple[int, int], np.ndarray] | None = {} if cache else None

    @property
    def score_ceiling(self) -> float:
        """No pair scores more: the sum of the positive weights (:attr:`mentormatch.rules.Rules.
        score_span`), known before any pair is scored. What bounds the rows a pass stopped by
        the time limit did not read (:func:`mentormatch.solvers.certify._certified`), as for a
        stopped preparation (:mod:`mentormatch.pipeline.stopped`). A wrapper that adds to the
        scores (a bonus, a threshold's weight) does not carry it, so has no such bound."""
        return self.rules.score_span

    def __call__(self, rows: slice) -> np.ndarray:
        key = (rows.start, rows.stop)
        if self.cache is not None and key in self.cache:
            return self.cache[key]
        block = self._score(rows)
        if self.cache is not None:
            self.cache[key] = block
        return block

    def _score(self, rows: slice) -> np.ndarray:
        n, m = len(self.mentees), len(self.mentors)
        r = np.arange(rows.start, rows.stop, dtype=np.int64)
        cand = Candidates(np.repeat(r, m), np.tile(np.arange(m, dtype=np.int64), len(r)), n, m)
        which, names, total = self.evaluate(cand)
        for k, name in enumerate(names):
            if name not in self.removed:
                self.removed[name] = np.zeros(n, dtype=np.int64)
                self.rule_names.append(name)
            self.removed[name][r] = (which == k).reshape(len(r), m).sum(axis=1)
        eligible = which < 0
        self.eligible_counts[r] = eligible.reshape(len(r), m).sum(axis=1)
        return np.where(eligible, total, -np.inf).reshape(len(r), m)

    def unit_bounds(self):
        """A :class:`~mentormatch.scale.BoundedScorer` of these tables without the rules that
        only remove pairs and that bounds cannot carry (``same_team``, ``min_score``): each
        eligible pair's score is within its bounds, so the engine's unit needs no extra pass
        over the blocks (:mod:`mentormatch.solvers.unit`). None with a cache (the unit's pass
        fills it for the passes after) or when the bounds cannot carry a rule (a feature's own
        ineligibility rule); built once."""
        if not hasattr(self, "_unit_bounds"):
            self._unit_bounds = None
            if self.cache is None:
                from ..scale import bounded_scorer

                cons = {**self.rules.constraints, "same_team": False, "min_score": float("nan")}
                self._unit_bounds = bounded_scorer(
                    self.mentees, self.mentors, Rules({**self.rules.settings, "constraints": cons}),
                    self.context, self.mentee_ids, self.mentor_ids, self.features)
        return self._unit_bounds

    def judged_scores(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """The exact scores of the given pairs, ``-inf`` where a rule removes the pair."""
        m = len(self.mentors)
        code = np.asarray(mentee, np.int64) * m + np.asarray(mentor, np.int64)
        if not len(code):
            return np.zeros(0)
        uniq, back = np.unique(code, return_inverse=True)
        which, _, total = self.evaluate(Candidates(uniq // m, uniq % m, len(self.mentees), m))
        return np.where(which < 0, total, -np.inf)[back.ravel()]

    def evaluate(self, cand: Candidates) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Any candidate pairs (sorted by mentee, then mentor): per pair the first rule that
        removes it (-1: eligible), the rules' names, and the scores."""
        return _evaluate(self.mentees, self.mentors, self.rules, self.context, self.features,
                         self.mentee_ids, self.mentor_ids, self.line, self.forbidden, self.min_score,
                         cand)

    def removed_frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: self.removed[name] for name in self.rule_names})
