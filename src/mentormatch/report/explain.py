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

from .phrases import _ordinal, pair_phrases, protected_notes
from .pricing import alternatives as _alternatives
from .pricing import binding_constraints, exact_solver, forced_cost

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
            "other_mentors": list(self.other_mentors), "text": str(self),
        }

    def __str__(self) -> str:
        lines = []
        if self.mentor_id is None:
            lines.append(f"{self.mentee_id} is unmatched: {self.reason or 'no reason recorded'}.")
        else:
            head = f"{self.mentee_id} is paired with {self.mentor_id}: score {self.score:.3f}"
            if self.rank is not None:
                head += f", ranked {_ordinal(self.rank)} of {self.eligible_mentors} eligible mentors by score"
            lines.append(head + ".")
            if self.other_mentors:
                lines.append(f"  Also paired with: {', '.join(self.other_mentors)}.")
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
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _lookup(encoder, mentee_id) -> int:
    idx = encoder.index
    key = str(mentee_id)
    if key not in idx:
        from ..errors import UnknownNameError

        known = list(encoder.ids[:20])
        raise UnknownNameError("mentee id", key, [str(x) for x in known])
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
    mentor_id : optional, which of the mentee's mentors when it has several.

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

    pos = None
    if len(mine):
        if mentor_id is not None:
            jj = _lookup(m_ids, mentor_id)
            hit = mine[P.mentor[mine] == jj]
            if not len(hit):
                raise ValueError(f"{mentee_id} is not paired with {mentor_id}")
            pos = int(hit[0])
        else:
            pos = int(mine[np.argmax(problem.score[mine])])
    others = [str(m_ids.ids[P.mentor[p]]) for p in mine if p != pos]

    # ---- feature breakdown
    feats = pd.DataFrame(columns=["feature", "weight", "value", "contribution", "missing", "text"])
    rank = score = j = None
    if pos is not None:
        j = int(P.mentor[pos])
        score = float(problem.score[pos])
        ranks = pd.Series(problem.score[own]).rank(method="min", ascending=False).to_numpy()
        rank = int(ranks[np.flatnonzero(own == pos)[0]])
        scores = data.get("scores")
        if scores is not None and hasattr(scores, "features") and data.get("complete") is not None:
            cpos = i * data["complete"].n_mentors + j
            phrases = pair_phrases(data, np.array([i]), np.array([j]))
            feats = pd.DataFrame({
                "feature": scores.features,
                "weight": scores.weights,
                "value": scores.values[cpos],
                "contribution": scores.contributions[cpos],
                "missing": scores.missing[cpos],
                "text": [phrases[f].iloc[0] if f in phrases else "" for f in scores.features],
            })
    # ---- alternatives
    alt = _alternatives(data, problem, chosen, i, j, pos, objective, status, solver, alternatives)
    binding = binding_constraints(problem, chosen, pos, m_ids.ids) if pos is not None else []
    reason = None
    if pos is None and len(unmatched):
        hit = unmatched.loc[unmatched["mentee_id"].astype(str) == mentee_id, "reason"]
        reason = str(hit.iloc[0]) if len(hit) else None
    return Explanation(mentee_id, None if j is None else str(m_ids.ids[j]), score, rank, n_eligible,
                       feats.reset_index(drop=True), alt, binding, reason, notes, others)


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
    complete = data.get("complete")
    if not len(phrases.columns) or complete is None:
        return pd.Series(["score supplied by the caller"] * len(pairs), index=pairs.index)
    cpos = i * complete.n_mentors + j
    contrib = scores.contributions[cpos]
    skip = scores.missing[cpos] if known_only else np.zeros(contrib.shape, dtype=bool)
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
