"""Weights -> scores on candidate pairs, with the per-feature contributions kept for explanation.

For candidate pair ``k`` = (mentee ``i``, mentor ``j``) and features ``f`` with weight
``w_f > 0``::

    value[k, f]        = extractor f's value for (i, j), in [0, 1]; its ``neutral`` where NaN
    contribution[k, f] = w_f * value[k, f]
    total[k]           = sum_f contribution[k, f]

Everything is an array over the candidate pairs (never a mentees x mentors loop in Python), and
is computed in blocks of mentee rows so the complete set of pairs and a sparse candidate list
share one code path.

A feature that depends on a pair only through a few distinct values of each side (places,
(years, level), target role and covered requirements, trait values, mentor readiness, a few
stated preferences) offers a lookup table over those values (:mod:`mentormatch.features.tables`),
computed once by its own ``values`` on one representative pair per combination; scoring then
reads each pair's value by integer codes, in cache-sized chunks, instead of redoing the
arithmetic on repeated values. The result is the same to the bit (tests/test_scoring_tables.py).

The totals alone, and scores computed only when read: :mod:`mentormatch.scoring_totals`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import MentormatchError, UnknownNameError
from .features import FEATURES, Context, Prepared
from .features.base import build_feature
from .features.tables import MAX_TABLE_ENTRIES
from .pairs import Candidates
from .rules import Rules

__all__ = ["Scores", "score_pairs", "scored_features", "feature_rules", "candidate_top_k",
           "build_features", "prepare_features", "PreparedFeatures"]


@dataclass
class Scores:
    """Scores of candidate pairs, aligned with the :class:`~mentormatch.pairs.Candidates`.

    Attributes
    ----------
    total : ndarray, shape (n_pairs,)
        ``sum_f weight_f * value_f`` per pair.
    contributions : ndarray, shape (n_pairs, n_features)
        ``weight_f * value_f``; each row sums to ``total``.
    values : ndarray, shape (n_pairs, n_features)
        Feature values in [0, 1], with the feature's neutral value where data were missing.
    missing : ndarray of bool, shape (n_pairs, n_features)
        True where the neutral value was used.
    features : list of str
        Column order: the features with weight > 0, in the order of the rules' weights
        (:attr:`mentormatch.rules.Rules.weights`: the built-in features in their own order, then
        the others by name).
    weights : ndarray, shape (n_features,)
    ineligible : dict of str to ndarray of bool
        Rule name (``"experience.junior_mentor"``, ``"readiness.min"``, ...) -> True per pair
        the feature's settings make ineligible.
    prepared : dict of str to Prepared
        The prepared extractors, so that reports can ask for ``details(i, j)`` of chosen pairs.
    """

    total: np.ndarray
    contributions: np.ndarray
    values: np.ndarray
    missing: np.ndarray
    features: list[str]
    weights: np.ndarray
    ineligible: dict[str, np.ndarray] = field(default_factory=dict)
    prepared: dict[str, Prepared] = field(default_factory=dict)

    def frame(self, candidates: Candidates | None = None) -> pd.DataFrame:
        """Contributions as a DataFrame (one column per feature, plus ``total``), with
        ``mentee`` and ``mentor`` index columns when ``candidates`` is given."""
        out = pd.DataFrame(self.contributions, columns=self.features)
        out["total"] = self.total
        if candidates is not None:
            out.insert(0, "mentor", candidates.mentor)
            out.insert(0, "mentee", candidates.mentee)
        return out

    def details(self, feature: str, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        """Raw facts of ``feature`` for the given pairs (e.g. distance_km, years_gap)."""
        if feature not in self.prepared:
            raise UnknownNameError("scored feature", feature, list(self.prepared))
        return self.prepared[feature].details(np.asarray(mentee, dtype=np.int64),
                                              np.asarray(mentor, dtype=np.int64))


def scored_features(rules: Rules) -> tuple[list[str], np.ndarray]:
    """The features a score sums (weight > 0), in the rules' order, and their weights."""
    features = [n for n, w in rules.weights.items() if w > 0]
    return features, np.array([rules.weights[n] for n in features], dtype=np.float64)


def build_features(rules: Rules) -> dict[str, object]:
    """The extractors the rules call for: every feature with weight > 0, and every feature with
    explicit settings (its eligibility rules apply even at weight 0), built with
    ``rules.feature_settings(name)``. Unknown names raise UnknownNameError; bad settings raise
    ValidationError naming the setting."""
    names = scored_features(rules)[0]
    names += [n for n in rules.settings["features"] if n not in names]
    out = {}
    for name in names:
        if name not in FEATURES:
            raise UnknownNameError("feature", name, list(FEATURES))
        out[name] = build_feature(FEATURES[name], rules.feature_settings(name))
    return out


@dataclass
class PreparedFeatures:
    """The rules' extractors with their arrays extracted once, for scoring many blocks of pairs
    (the scale path) without preparing the tables again for each block."""

    extractors: dict[str, object]
    prepared: dict[str, Prepared]


def prepare_features(mentees: pd.DataFrame, mentors: pd.DataFrame, rules: Rules,
                     context: Context | None = None) -> PreparedFeatures:
    """Build the extractors the rules call for and prepare them on the two tables."""
    context = context if context is not None else Context()
    extractors = build_features(rules)
    return PreparedFeatures(extractors, {name: ex.prepare(mentees, mentors, context)
                                         for name, ex in extractors.items()})


def scoring_inputs(mentees: pd.DataFrame, mentors: pd.DataFrame, rules: Rules, context: Context | None,
                   prepared: "PreparedFeatures | None"):
    """What a scoring pass reads: the extractors and their prepared arrays (``prepared``, else
    prepared now in ``context``, default ``Context()``), the features summed and their weights."""
    if prepared is None:
        prepared = prepare_features(mentees, mentors, rules, context if context is not None else Context())
    return (prepared.extractors, prepared.prepared) + scored_features(rules)


def score_pairs(mentees: pd.DataFrame, mentors: pd.DataFrame, candidates: Candidates, rules: Rules,
                context: Context | None = None, block_rows: int = 4096,
                prepared: "PreparedFeatures | None" = None) -> Scores:
    """Score candidate pairs: weighted sum of the feature values, contributions kept.

    Parameters
    ----------
    mentees, mentors : pandas.DataFrame
        Validated tables (``mentormatch.schema.validate_tables``); row ``i`` of ``mentees`` is
        mentee index ``i`` of ``candidates``, likewise for mentors.
    candidates : Candidates
        The pairs to score (sorted by mentee); ``Candidates.complete(n, m)`` for all pairs.
    rules : Rules
        ``rules.weights`` (feature name -> weight >= 0) and ``rules.feature_settings(name)``.
    context : Context, optional
        Career framework and reference date for the extractors; default ``Context()``.
    block_rows : int
        Mentees per block: bounds the memory of intermediate arrays at scale.

    Returns
    -------
    Scores
        Arrays aligned with ``candidates``; see :class:`Scores`.

    Raises
    ------
    MentormatchError
        If an extractor returns values outside [0, 1] or of the wrong shape.

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.pairs import Candidates
    >>> mentees = pd.DataFrame({"id": ["E1"], "years_experience": [2.0], "level": [1.0]})
    >>> mentors = pd.DataFrame({"id": ["M1"], "years_experience": [8.0], "level": [2.0]})
    >>> s = score_pairs(mentees, mentors, Candidates.complete(1, 1),
    ...                 Rules.from_dict({"weights": {"experience": 2.0}}))
    >>> s.features, s.total.tolist()
    (['experience'], [2.0])
    """
    extractors, prepared, features, weights = scoring_inputs(mentees, mentors, rules, context, prepared)
    n_pairs = len(candidates)
    with _small_pages():
        values = np.empty((n_pairs, len(features)), dtype=np.float64)
        missing = np.zeros((n_pairs, len(features)), dtype=bool)
        contributions = np.empty((n_pairs, len(features)), dtype=np.float64)
        total = np.empty(n_pairs, dtype=np.float64) if features else np.zeros(n_pairs, dtype=np.float64)
    ineligible: dict[str, np.ndarray] = {}
    # lookup tables of the distinct values where a feature offers them and they pay (far fewer
    # entries than pairs); the others compute their values on the pairs
    limit = _table_limit(n_pairs)
    gatherers = [_table(prepared[name], limit) for name in features]
    neutral = [float(extractors[name].neutral) for name in features]
    block_rows = max(int(block_rows), 1)
    # the complete set of pairs: chunks of whole mentees, and a table may copy whole rows
    m = candidates.n_mentors
    complete = m > 0 and n_pairs == candidates.n_mentees * m
    chunk = max(_CHUNK // m, 1) * m if complete else _CHUNK
    buf_values = np.empty((chunk, len(features)), dtype=np.float64)
    buf_contrib = np.empty((chunk, len(features)), dtype=np.float64)
    buf_missing = np.empty((chunk, len(features)), dtype=bool)
    for block in candidates.blocks(block_rows):
        if block.stop <= block.start:
            continue
        _ineligible_block(prepared, candidates, block, ineligible)
        # cache-sized chunks: each gather and sum runs on arrays that stay in the CPU cache
        for start in range(block.start, block.stop, chunk):
            sl = slice(start, min(start + chunk, block.stop))
            i, j = candidates.mentee[sl], candidates.mentor[sl]
            rows = np.arange(sl.start // m, sl.stop // m) if complete else None
            k = sl.stop - sl.start
            acc = None
            any_missing = False
            for col, name in enumerate(features):
                v = _chunk_values(name, gatherers[col], prepared[name], i, j, rows)
                nan = np.isnan(v) if gatherers[col] is None or gatherers[col].has_nan else None
                if nan is not None:
                    v = np.where(nan, neutral[col], v)
                    buf_missing[:k, col] = nan
                    any_missing = True
                else:
                    buf_missing[:k, col] = False
                buf_values[:k, col] = v
                v *= weights[col]  # v is this chunk's own array
                buf_contrib[:k, col] = v
                if acc is None:
                    acc = v
                else:
                    acc += v  # left to right, as ndarray.sum over fewer than 8 columns adds
            # one contiguous copy per output: column writes into the big arrays would each
            # sweep the chunk's memory again
            values[sl] = buf_values[:k]
            contributions[sl] = buf_contrib[:k]
            if any_missing:
                missing[sl] = buf_missing[:k]
            if len(features) >= 8:
                total[sl] = contributions[sl].sum(axis=1)
            elif acc is not None:
                total[sl] = acc
    return Scores(total=total, contributions=contributions, values=values, missing=missing,
                  features=features, weights=weights, ineligible=ineligible, prepared=prepared)


def _ineligible_block(prepared: dict, candidates: Candidates, block: slice,
                      ineligible: dict[str, np.ndarray]) -> None:
    """The features' eligibility rules on the pairs ``block`` of ``candidates``, written into
    ``ineligible`` (rule name -> bool per pair of ``candidates``, made at a rule's first mask)."""
    for name, prep in prepared.items():
        mask = prep.ineligible(candidates.mentee[block], candidates.mentor[block])
        if mask is None:
            continue
        rule = getattr(prep, "ineligible_rule", f"{name}.ineligible")
        if rule not in ineligible:
            ineligible[rule] = np.zeros(len(candidates), dtype=bool)
        ineligible[rule][block] = np.asarray(mask, dtype=bool)


def feature_rules(candidates: Candidates, prepared: "PreparedFeatures",
                  block_rows: int = 4096) -> dict[str, np.ndarray]:
    """The features' eligibility rules on candidate pairs: :attr:`Scores.ineligible` without
    the scores (rule name -> True per pair the feature's settings make ineligible; a rule
    that removes no pair of any block is absent), block by block of ``block_rows`` mentees."""
    ineligible: dict[str, np.ndarray] = {}
    for block in candidates.blocks(max(int(block_rows), 1)):
        if block.stop > block.start:
            _ineligible_block(prepared.prepared, candidates, block, ineligible)
    return ineligible


@contextlib.contextmanager
def _small_pages():
    """Allocate without asking Linux for transparent huge pages (NumPy's default for large
    arrays): the output arrays are written once, front to back, and on a host whose free memory
    is fragmented the kernel's compaction for huge pages cost several seconds on the first
    30M-pair scoring of a process (3.0-4.3 s with small pages, 4.5-12 s without, same host).
    A no-op where NumPy lacks the switch."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # pragma: no cover - other NumPy versions
        yield
        return
    previous = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def _table_limit(n_pairs: int) -> int:
    """Most entries of a lookup table worth building for ``n_pairs`` pairs: a quarter of them,
    and at most ``MAX_TABLE_ENTRIES``."""
    return min(MAX_TABLE_ENTRIES, n_pairs // 4)


#: Pairs per chunk of the scoring loop: the chunk's index and value arrays fit the CPU cache.
_CHUNK = 1 << 14


def _chunk_values(name: str, table, prep, i: np.ndarray, j: np.ndarray,
                  rows: np.ndarray | None = None) -> np.ndarray:
    """Feature ``name``'s values on pairs ``(i, j)``, a new float64 array (NaN = unknown): read
    from its lookup table (whole rows when the pairs are ``rows`` x every mentor), or computed
    and checked (values in [0, 1] or NaN)."""
    if table is not None:
        if rows is not None and hasattr(table, "rows"):
            v = table.rows(rows)
            if v is not None:
                return v
        return table.gather(i, j)
    v = np.array(prep.values(i, j), dtype=np.float64)
    if v.shape != i.shape:
        raise MentormatchError(f"feature {name!r} returned {v.shape} values for {i.shape[0]} pairs")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(v) & ((v < 0) | (v > 1))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise MentormatchError(f"feature {name!r} returned {v[k]!r} for pair (mentee {i[k]}, "
                               f"mentor {j[k]}); values must lie in [0, 1] or be NaN")
    return v


def _table(prep, limit: int):
    """The feature's lookup table (see :mod:`mentormatch.features.tables`) when it offers one
    of at most ``limit`` entries whose values all lie in [0, 1] or are NaN; else None (the
    values are then computed on the pairs, which also reports a bad value at its pair).
    Kept on the prepared object, so scoring many blocks of pairs builds it once."""
    make = getattr(prep, "pair_table", None)
    if make is None:
        return None
    cache = prep.__dict__.setdefault("_pair_table", {}) if hasattr(prep, "__dict__") else {}
    if cache.get("table") is not None:
        return cache["table"]  # exact whatever its size
    if limit <= cache.get("refused", -1):
        return None
    table = make(limit)
    if table is not None and table.bad() is not None:
        table = None
    if table is not None:
        cache["table"] = table
    else:
        cache["refused"] = max(limit, cache.get("refused", -1))
    return table


def candidate_top_k(score: np.ndarray, candidates: Candidates, k: int) -> Candidates:
    """Each mentee's ``k`` best-scoring candidate mentors (ties: lower mentor index first).

    Parameters
    ----------
    score : ndarray, shape (n_pairs,)
        A score per candidate pair (higher is better), e.g. a cheap partial ``Scores.total``.
    candidates : Candidates
    k : int
        Mentors kept per mentee (``k >= 1``); mentees with fewer candidates keep them all.

    Returns
    -------
    Candidates
        The kept pairs, still sorted by mentee then mentor.

    Examples
    --------
    >>> c = Candidates.complete(1, 3)
    >>> candidate_top_k(np.array([0.1, 0.9, 0.5]), c, 2).mentor.tolist()
    [1, 2]
    """
    score = np.asarray(score, dtype=np.float64)
    if score.shape != (len(candidates),):
        raise ValueError(f"score has shape {score.shape}; expected ({len(candidates)},), one per pair")
    if int(k) < 1:
        raise ValueError(f"k must be >= 1; got {k!r}")
    from .solvers.topk import top_k

    # (pairs sorted by mentee then mentor: ties by position are ties by mentor index)
    return candidates.subset(top_k(candidates.mentee, np.nan_to_num(score, nan=-np.inf), int(k)))
