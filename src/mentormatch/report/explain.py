"""Why each mentee got its mentor: the score broken down by feature in plain words, the mentor's
rank, the next-best alternatives with the exact price of forcing them, and the constraints that
bind on the pair. Assembles :mod:`.phrases` (the words) and :mod:`.pricing` (the re-solves).

Works on the pieces of a result (its ``data`` dict, ``pairs``, ``unmatched``, ``objective``,
``status``, ``solver``); never imports the result class.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .phrases import pair_phrases, protected_notes, score_rows
from .pricing import alternatives as _alternatives
from .forced import exact_solver, forced_cost
from .binding import binding_constraints
from .words import ordinal

__all__ = ["Explanation", "explain", "explain_all", "pair_phrases", "exact_solver", "forced_cost",
           "binding_constraints", "protected_notes"]


@dataclass
class Explanation:
    """Why ``mentee_id`` was paired with ``mentor_id`` (or left unmatched).

    ``features``: one row per feature (feature, weight, value, contribution, missing, text);
    contributions sum to ``score``. ``alternatives``: the next-best mentors by score (mentor_id,
    score, eligible, rule, mentor_full, cost, text), where ``cost`` is the exact drop in the
    programme's total score if that pair were forced. ``binding``: constraints binding on the pair.
    """

    mentee_id: str
    mentor_id: str | None
    score: float | None
    rank: int | None
    eligible_mentors: int
    features: pd.DataFrame
    alternatives: pd.DataFrame
    binding: list[str] = field(default_factory=list)
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    other_mentors: list[str] = field(default_factory=list)
    #: the mentee's other mentors, each explained (a mentee who needs several)
    each: list["Explanation"] = field(default_factory=list)
    #: "why not this mentor": the mentor asked about (not the mentee's), and the answer
    asked: str | None = None
    verdict: str = ""
    #: with ``asked``: the mentee's own mentors (empty when unmatched)
    current: list[str] = field(default_factory=list)
    #: people's names by id, where the tables have them (said beside the ids)
    names: dict[str, str] = field(default_factory=dict, repr=False)

    def _who(self, person_id) -> str:
        name = self.names.get(str(person_id), "")
        return f"{person_id} ({name})" if name else str(person_id)

    @property
    def frame(self) -> pd.DataFrame:
        """The feature breakdown with mentee_id and mentor_id columns."""
        f = self.features.copy()
        f.insert(0, "mentor_id", self.mentor_id)
        f.insert(0, "mentee_id", self.mentee_id)
        return f

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentee_id": self.mentee_id, "mentor_id": self.mentor_id, "score": self.score,
            "rank": self.rank, "eligible_mentors": self.eligible_mentors,
            "features": self.features.to_dict("records"),
            "alternatives": self.alternatives.to_dict("records"),
            "binding": list(self.binding), "reason": self.reason, "notes": list(self.notes),
            "other_mentors": list(self.other_mentors), "each": [e.to_dict() for e in self.each],
            "asked": self.asked, "verdict": self.verdict, "current": list(self.current),
            "text": str(self),
        }

    def __str__(self) -> str:
        lines = []
        if self.asked is not None:
            head = f"Why not {self._who(self.asked)} for {self._who(self.mentee_id)}: {self.verdict}"
            lines.append(head if head.endswith(".") else head + ".")
            if self.score is not None:
                lines.append(f"  Their match score would be {self.score:.3f}"
                             + (f", ranked {ordinal(self.rank)} of {self.eligible_mentors} eligible mentors"
                                if self.rank is not None else "") + ".")
            for r in self.features.itertuples():
                text = f": {r.text}" if r.text else ""
                lines.append(f"  {r.feature} {r.contribution:+.3f} (weight {r.weight:g} x {r.value:.2f}){text}")
            lines.append(f"  {self._who(self.mentee_id)} is paired with {', '.join(map(self._who, self.current))}."
                         if self.current else
                         f"  {self._who(self.mentee_id)} is unmatched: {self.reason or 'no reason recorded'}.")
            return "\n".join(lines)
        if self.mentor_id is None:
            lines.append(f"{self._who(self.mentee_id)} is unmatched: {self.reason or 'no reason recorded'}.")
        else:
            head = f"{self._who(self.mentee_id)} is paired with {self._who(self.mentor_id)}: score {self.score:.3f}"
            if self.rank is not None:
                head += f", ranked {ordinal(self.rank)} of {self.eligible_mentors} eligible mentors by score"
            lines.append(head + ".")
            if self.other_mentors:
                lines.append(f"  Also paired with: {', '.join(map(self._who, self.other_mentors))}.")
            for r in self.features.itertuples():
                text = f": {r.text}" if r.text else ""
                lines.append(f"  {r.feature} {r.contribution:+.3f} (weight {r.weight:g} x {r.value:.2f}){text}")
        for n in self.notes:
            lines.append(f"  Note: {n}.")
        if self.binding:
            lines.append("  Binding: " + "; ".join(self.binding) + ".")
        if len(self.alternatives):
            lines.append("  Next best:" if self.mentor_id else "  Best candidates:")
            for r in self.alternatives.itertuples():
                lines.append(f"  - {r.text}")
        for other in self.each:
            lines.append("")
            lines.append(str(other))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _names(data: dict) -> dict[str, str]:
    """Names by id from the mentees and mentors tables, where they have a name column."""
    out: dict[str, str] = {}
    for table in ("mentees", "mentors"):
        frame = data.get(table)
        if frame is not None and "name" in frame.columns:
            for i, n in zip(frame["id"].astype(str), frame["name"]):
                if isinstance(n, str) and n.strip():
                    out.setdefault(i, n.strip())
    return out


def _lookup(encoder, person_id, kind: str = "mentee id") -> int:
    idx = encoder.index
    key = str(person_id)
    if key not in idx:
        from ..errors import UnknownNameError

        known = list(encoder.ids[:20])
        raise UnknownNameError(kind, key, [str(x) for x in known])
    return idx[key]


def explain(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, objective: float, status: str,
            solver: str | None, mentee_id, alternatives: int = 3, mentor_id=None) -> Explanation:
    """Explain one mentee's pair (or why it is unmatched).

    Parameters
    ----------
    data, pairs, unmatched, objective, status, solver
        The pieces of a result (``Matching.data`` etc.).
    mentee_id : the mentee to explain.
    alternatives : int
        How many next-best mentors to price (each costs one exact re-solve); 0 for none.
    mentor_id : optional
        One of the mentee's mentors (when it has several), or any other mentor: "why not this
        mentor" (its score and features, and the rule that makes it ineligible or the exact
        drop in the total score if it were forced).

    Returns
    -------
    Explanation
    """
    problem = data["problem"]
    solution = data["solution"]
    e_ids, m_ids = data["mentee_ids"], data["mentor_ids"]
    i = _lookup(e_ids, mentee_id)
    mentee_id = str(e_ids.ids[i])
    P = problem.pairs
    chosen = np.asarray(solution.chosen, dtype=np.int64)
    mine = chosen[P.mentee[chosen] == i]
    starts = P.starts()
    own = np.arange(starts[i], starts[i + 1])
    n_eligible = len(own)
    if "eligible_mentors" in pairs.columns and (pairs["mentee_id"] == mentee_id).any():
        n_eligible = int(pairs.loc[pairs["mentee_id"] == mentee_id, "eligible_mentors"].iloc[0])
    notes = protected_notes(data)
    names = _names(data)

    reason = None
    if len(unmatched):
        hit = unmatched.loc[unmatched["mentee_id"].astype(str) == mentee_id, "reason"]
        reason = str(hit.iloc[0]) if len(hit) else None
    pos = None
    if mentor_id is not None:
        jj = _lookup(m_ids, mentor_id, "mentor id")
        hit = mine[P.mentor[mine] == jj]
        if not len(hit):  # "why not this mentor"
            x = _why_not(data, problem, chosen, i, jj, mine, own, n_eligible, objective, status,
                         solver, reason, notes)
            x.names = names
            return x
        pos = int(hit[0])
    elif len(mine):
        # the best pair first; ties by mentor id
        order = np.lexsort((m_ids.ids[P.mentor[mine]].astype(str), -problem.score[mine]))
        pos = int(mine[order[0]])
    others = [str(m_ids.ids[P.mentor[p]]) for p in mine if p != pos]

    feats, rank, score, j = _breakdown(data, problem, i, pos, own)
    rank = _table_rank(pairs, mentee_id, m_ids, j, rank)
    alt = _alternatives(data, problem, chosen, i, j, pos, objective, status, solver, alternatives)
    binding = binding_constraints(problem, chosen, pos, m_ids.ids) if pos is not None else []
    each = []
    if mentor_id is None:  # a mentee with several mentors: each one explained
        for p in sorted(mine.tolist(), key=lambda p: (-problem.score[p], str(m_ids.ids[P.mentor[p]]))):
            if p == pos:
                continue
            f2, r2, s2, j2 = _breakdown(data, problem, i, p, own)
            r2 = _table_rank(pairs, mentee_id, m_ids, j2, r2)
            each.append(Explanation(mentee_id, str(m_ids.ids[j2]), s2, r2, n_eligible, f2,
                                    pd.DataFrame(columns=alt.columns),
                                    binding_constraints(problem, chosen, p, m_ids.ids)))
    x = Explanation(mentee_id, None if j is None else str(m_ids.ids[j]), score, rank, n_eligible,
                       feats, alt, binding, reason if pos is None else None, notes, others, each)
    for e in [x] + each:
        e.names = names
    return x


def _table_rank(pairs: pd.DataFrame, mentee_id: str, m_ids, j: int | None, rank: int | None):
    """A chosen pair's rank as the result's ``pairs`` table states it (one rule for both: on
    the scale path it is counted over every eligible pair of the source,
    :mod:`mentormatch.pipeline.ranks`, where ``problem`` holds only the solver's candidates);
    ``rank`` when the table has no such row."""
    if j is None or "rank" not in pairs.columns:
        return rank
    hit = pairs.loc[(pairs["mentee_id"].astype(str) == mentee_id)
                    & (pairs["mentor_id"].astype(str) == str(m_ids.ids[j])), "rank"]
    return int(hit.iloc[0]) if len(hit) else rank


_FEATURE_COLUMNS = ["feature", "weight", "value", "contribution", "missing", "text"]


def _breakdown(data: dict, problem, i: int, pos: int | None, own: np.ndarray, j: int | None = None):
    """(features frame, rank, score, mentor index) of pair ``pos`` of the solved problem, or of
    mentor ``j`` for mentee ``i`` when ``pos`` is None and ``j`` is given (any pair of the
    complete set, eligible or not; rank None when it is not eligible)."""
    feats = pd.DataFrame(columns=_FEATURE_COLUMNS)
    P = problem.pairs
    if pos is None and j is None:
        return feats, None, None, None
    rank = score = None
    if pos is not None:
        j = int(P.mentor[pos])
        score = float(problem.score[pos])
        rank = int(1 + np.sum(problem.score[own] > score + 1e-12))
    scores = data.get("scores")
    rows = score_rows(data, np.array([i]), np.array([j])) if hasattr(scores, "features") else None
    if rows is not None and rows[0] >= 0:
        cpos = int(rows[0])
        if score is None:
            score = float(scores.total[cpos])
        phrases = pair_phrases(data, np.array([i]), np.array([j]))
        feats = pd.DataFrame({
            "feature": scores.features,
            "weight": scores.weights,
            "value": scores.values[cpos],
            "contribution": scores.contributions[cpos],
            "missing": scores.missing[cpos],
            "text": [phrases[f].iloc[0] if f in phrases else "" for f in scores.features],
        })
    return feats.reset_index(drop=True), rank, score, j


def _why_not(data, problem, chosen, i, jj, mine, own, n_eligible, objective, status, solver,
             reason, notes) -> Explanation:
    """Mentee ``i`` and a mentor ``jj`` it is not paired with: the pair's score and features,
    and why the pairing does not hold it (ineligible and by which rule, or the exact drop in
    the total score if it were forced)."""
    P = problem.pairs
    m_ids = data["mentor_ids"].ids
    mentee_id, asked = str(data["mentee_ids"].ids[i]), str(m_ids[jj])
    p = int(P.locate(np.array([i]), np.array([jj]))[0])
    feats, rank, score, _ = _breakdown(data, problem, i, p if p >= 0 else None, own, jj)
    priced = _alternatives(data, problem, chosen, i, None, None, objective, status, solver, 1, only=jj)
    if len(priced):
        row = priced.iloc[0]
        verdict = str(row.text).split("): ", 1)[-1] if "): " in str(row.text) else str(row.text)
        if score is None and np.isfinite(row.score):  # the scale path: read from the pair source
            score = float(row.score)
    elif p < 0:
        verdict = "the pair is not among the pairs the solver was given"
    else:
        verdict = "not priced"
    if score is not None and len(mine):
        best = float(problem.score[mine].max())
        verdict += (f"; the current mentor scores {best:.3f}, this one {score:.3f}"
                    if verdict else "")
    current = [str(m_ids[P.mentor[q]]) for q in mine]
    return Explanation(mentee_id, None, score, rank, n_eligible, feats, priced, [], reason, notes,
                       [], [], asked=asked, verdict=verdict, current=current)


def explain_all(data: dict, pairs: pd.DataFrame, known_only: bool = False) -> pd.Series:
    """One plain-words line per pair of ``pairs`` (aligned with it): the feature phrases with
    their contributions. No alternatives (those need re-solves); vectorised per feature.
    ``known_only``: leave out the features that fell back to neutral for want of data (the
    report says which features had data once, not on every pair)."""
    if not len(pairs):
        return pd.Series([], dtype=object)
    e, m = data["mentee_ids"], data["mentor_ids"]
    ei, mi = e.index, m.index
    i = np.array([ei[str(x)] for x in pairs["mentee_id"]], dtype=np.int64)
    j = np.array([mi[str(x)] for x in pairs["mentor_id"]], dtype=np.int64)
    phrases = pair_phrases(data, i, j)
    scores = data.get("scores")
    cpos = score_rows(data, i, j)
    if not len(phrases.columns) or cpos is None:
        return pd.Series(["score supplied by the caller"] * len(pairs), index=pairs.index)
    found = cpos >= 0  # always, for the result's own pairs
    contrib = np.where(found[:, None], scores.contributions[np.maximum(cpos, 0)], np.nan)
    skip = (scores.missing[np.maximum(cpos, 0)] & found[:, None]) if known_only \
        else np.zeros(contrib.shape, dtype=bool)
    texts = [phrases[f].tolist() for f in scores.features]
    lines = []
    for k in range(len(pairs)):
        parts = []
        for c, f in enumerate(scores.features):
            if skip[k, c]:
                continue
            t = texts[c][k]
            parts.append(f"{f} {contrib[k, c]:+.2f}" + (f": {t}" if t else ""))
        lines.append(" | ".join(parts))
    return pd.Series(lines, index=pairs.index)
