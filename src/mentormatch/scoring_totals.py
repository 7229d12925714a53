"""Scoring only what is read: the totals alone (:func:`score_totals`, ``score_pairs(...).total``
to the bit without the per-feature arrays), and :class:`ScoresOnRead`, the :class:`Scores` of
candidate pairs scored the first time an array is read (the scale path's result: of 1.4 million
solver pairs at 100,000 x 20,000, 100,000 are reported). The arithmetic is
:mod:`mentormatch.scoring`'s (its lookup tables and chunks); this module chooses what to compute.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .features import Context
from .pairs import Candidates
from .rules import Rules
from .scoring import PreparedFeatures, Scores, scored_features, scoring_inputs

__all__ = ["ScoresOnRead", "score_totals"]


class ScoresOnRead(Scores):
    """The :class:`Scores` of candidate pairs, scored at the first read of an array (``total``,
    ``contributions``, ``values``, ``missing``, ``ineligible``) by :func:`score_pairs`, once;
    ``features``, ``weights`` and ``prepared`` are known at once. The scale path's result keeps
    one for the solver's pairs (1.4 million at 100,000 x 20,000, of which 100,000 are
    reported), which only an explanation or a report reads; :meth:`contributions_of` scores
    just the pairs asked for until then. Picklable (it keeps its inputs, not a function)."""

    def __init__(self, mentees: pd.DataFrame, mentors: pd.DataFrame, candidates: Candidates,
                 rules: Rules, context: Context, prepared: "PreparedFeatures"):
        self.__dict__.update(_inputs=(mentees, mentors, candidates, rules, context, prepared),
                             _scores=None, prepared=prepared.prepared)
        self.features, self.weights = scored_features(rules)

    def _scored(self) -> Scores:
        from .scoring import score_pairs  # (at call time, as every caller of score_pairs)

        if self._scores is None:
            mentees, mentors, candidates, rules, context, prepared = self._inputs
            self.__dict__["_scores"] = score_pairs(mentees, mentors, candidates, rules, context,
                                                   prepared=prepared)
        return self._scores

    total = property(lambda self: self._scored().total)
    contributions = property(lambda self: self._scored().contributions)
    values = property(lambda self: self._scored().values)
    missing = property(lambda self: self._scored().missing)
    ineligible = property(lambda self: self._scored().ineligible)

    def contributions_of(self, positions: np.ndarray) -> np.ndarray:
        """``contributions[positions]``, (len(positions), n_features): read when the pairs are
        scored, else only these pairs scored (the same numbers: a pair's score depends on the
        pair alone)."""
        from .scoring import score_pairs

        positions = np.asarray(positions, dtype=np.int64)
        if self._scores is not None:
            return self._scores.contributions[positions]
        mentees, mentors, candidates, rules, context, prepared = self._inputs
        order = np.argsort(positions, kind="stable")  # the candidates' own order: by mentee
        part = candidates.subset(positions[order])
        out = np.empty((len(positions), len(self.features)), dtype=np.float64)
        out[order] = score_pairs(mentees, mentors, part, rules, context,
                                 prepared=prepared).contributions
        return out


def score_totals(mentees: pd.DataFrame, mentors: pd.DataFrame, candidates: Candidates, rules: Rules,
                 context: Context | None = None, prepared: "PreparedFeatures | None" = None,
                 table_limit: int | None = None) -> np.ndarray:
    """The scores of candidate pairs alone: ``score_pairs(...).total``, to the bit, without the
    per-feature arrays (values, contributions, missing) nor the eligibility masks.

    Where a feature offers a lookup table with ``weighted`` (:mod:`mentormatch.features.tables`),
    its contributions are gathered from a table of ``weight * value`` (neutral for NaN), made
    once, and added into one float64 vector; the other features' values are computed, replaced
    where NaN and weighted as :func:`score_pairs` does. Takes the parameters of
    :func:`score_pairs` (its ``block_rows`` only bounds the masks' blocks, which this leaves out),
    and ``table_limit``: the most entries of a lookup table worth building (default: a quarter
    of this call's pairs, at most ``MAX_TABLE_ENTRIES``); a caller that scores many sets of pairs
    on the same ``prepared`` gives its whole count's (the tables are built once and kept).

    Returns
    -------
    ndarray, shape (n_pairs,)
        ``sum_f weight_f * value_f`` per pair, in the order of ``candidates``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.pairs import Candidates
    >>> people = pd.DataFrame({"id": ["A", "B"], "years_experience": [2.0, 9.0], "level": [1.0, 3.0]})
    >>> rules = Rules.from_dict({"weights": {"experience": 2.0, "readiness": 0.5}})
    >>> pairs = Candidates.complete(2, 2)
    >>> totals = score_totals(people, people, pairs, rules)
    >>> from mentormatch.scoring import score_pairs
    >>> totals.tolist() == score_pairs(people, people, pairs, rules).total.tolist()
    True
    """
    from .scoring import _CHUNK, _chunk_values, _small_pages, _table, _table_limit  # (at call time)

    extractors, prepared, features, weights = scoring_inputs(mentees, mentors, rules, context, prepared)
    n_pairs = len(candidates)
    with _small_pages():
        total = np.zeros(n_pairs, dtype=np.float64)
    if not features or not n_pairs:
        return total
    limit = _table_limit(n_pairs) if table_limit is None else table_limit
    neutral = [float(extractors[name].neutral) for name in features]
    gatherers, weighted = [], []
    for col, name in enumerate(features):
        table = _table(prepared[name], limit)
        ready = _weighted_table(prepared[name], table, weights[col], neutral[col])
        gatherers.append(None if ready is not None else table)
        weighted.append(ready)
    m = candidates.n_mentors
    complete = m > 0 and n_pairs == candidates.n_mentees * m
    chunk = max(_CHUNK // m, 1) * m if complete else _CHUNK
    # eight features or more: the per-feature chunk summed by ndarray.sum, as score_pairs does
    buf = np.empty((chunk, len(features)), dtype=np.float64) if len(features) >= 8 else None
    for start in range(0, n_pairs, chunk):
        sl = slice(start, min(start + chunk, n_pairs))
        i, j = candidates.mentee[sl], candidates.mentor[sl]
        rows = np.arange(sl.start // m, sl.stop // m) if complete else None
        k = sl.stop - sl.start
        out = total[sl]
        for col, name in enumerate(features):
            if weighted[col] is not None:  # the contributions themselves
                v = _chunk_values(name, weighted[col], None, i, j, rows)
            else:
                v = _chunk_values(name, gatherers[col], prepared[name], i, j, rows)
                if gatherers[col] is None or gatherers[col].has_nan:
                    v = np.where(np.isnan(v), neutral[col], v)
                v *= weights[col]
            if buf is not None:
                buf[:k, col] = v
            elif col == 0:
                out[:] = v
            else:
                out += v  # left to right, as score_pairs adds
        if buf is not None:
            out[:] = buf[:k].sum(axis=1)
    return total


def _weighted_table(prep, table, weight: float, neutral: float):
    """``table.weighted(weight, neutral)`` (gathers contributions), made once per weight and
    neutral value and kept beside the table on the prepared object; None where the table is
    None or offers no ``weighted``."""
    if table is None or not hasattr(table, "weighted"):
        return None
    cache = prep.__dict__.setdefault("_pair_table", {}) if hasattr(prep, "__dict__") else {}
    key = ("weighted", id(table), float(weight), float(neutral))
    if key not in cache:
        cache[key] = table.weighted(weight, neutral)
    return cache[key]
