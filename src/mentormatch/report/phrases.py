"""Plain words for each feature's details on a pair: :data:`PHRASERS` maps each feature to its
phraser (:mod:`.phrasers`; :func:`register_phraser` adds one), and :func:`pair_phrases` phrases
many pairs at once, saying whose data were missing where a feature fell back to neutral.

Works on the pieces of a result (its ``data`` dict); never imports the result class.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .phrasers import (competency, competency_neutral, experience, generic, geography, personality,
                       preference, readiness)
from .words import cell_text

__all__ = ["FEATURE_COLUMNS", "PHRASERS", "NEUTRAL_PHRASERS", "register_phraser", "pair_phrases",
           "protected_notes", "score_rows"]

# Columns each feature reads, to say whose data were missing when a feature fell back to neutral.
FEATURE_COLUMNS = {
    "geography": ("latitude", "longitude", "city", "timezone"),
    "experience": ("years_experience", "level", "age"),
    "personality": ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"),
    "competency": ("role", "target_role"),
    "preference": ("preferences", "manager_suggestions"),
    "readiness": ("performance", "leadership_feedback", "tenure_years"),
}

PHRASERS = {"geography": geography, "experience": experience, "personality": personality,
            "competency": competency, "preference": preference, "readiness": readiness}

# Features whose neutral value may have a cause other than missing data:
# ``fn(details, k, ctx, default_text, neutral) -> str``.
NEUTRAL_PHRASERS = {"competency": competency_neutral}


def register_phraser(feature: str, fn) -> None:
    """Phrase ``feature``'s details: ``fn(details: dict of arrays, k: int, ctx: dict) -> str``."""
    PHRASERS[feature] = fn


def _whose_missing(feature: str, mentees, mentors, i: int, j: int) -> str:
    cols = FEATURE_COLUMNS.get(feature)
    if not cols:
        return ""

    def known(frame, idx):
        if frame is None:
            return True
        present = [c for c in frame.columns if c in cols or (feature == "competency" and c.startswith("comp_"))]
        if not present:
            return False
        row = frame.iloc[idx][present]
        return bool(row.notna().any() and (row.astype(str).str.len() > 0).any())

    e, m = known(mentees, i), known(mentors, j)
    if not e and not m:
        return "both"
    if not e:
        return "the mentee"
    if not m:
        return "the mentor"
    return ""


def score_rows(data: dict, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None:
    """Rows of the result's score arrays (``data["scores"]``: total, values, contributions,
    missing) for the given pairs: over the complete set on the exact path, over the solver's
    pairs on the scale path (-1 where a pair is not among them). None without scores."""
    scores = data.get("scores")
    if scores is None or not hasattr(scores, "contributions"):
        return None
    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    complete = data.get("complete")
    if complete is not None:
        return mentee * complete.n_mentors + mentor
    problem = data.get("problem")
    if problem is not None and len(scores.contributions) == len(problem.pairs):
        return np.asarray(problem.pairs.locate(mentee, mentor), dtype=np.int64)
    return None


def pair_phrases(data: dict, mentee: np.ndarray, mentor: np.ndarray) -> pd.DataFrame:
    """Per pair and feature the plain-words phrase (one column per feature, aligned with the
    given index arrays). Details are fetched once per feature for all the pairs. Features
    without details (scores supplied by the caller) give an empty frame."""
    scores = data.get("scores")
    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    if scores is None or not hasattr(scores, "prepared"):
        return pd.DataFrame(index=range(len(mentee)))
    mentees, mentors = data.get("mentees"), data.get("mentors")
    pos = score_rows(data, mentee, mentor)
    out = {}
    for col, name in enumerate(scores.features):
        prep = scores.prepared.get(name)
        try:
            details = prep.details(mentee, mentor) if prep is not None else {}
        except Exception:  # a feature's details must never break a report
            details = {}
        fn = PHRASERS.get(name, generic)
        neutral_fn = NEUTRAL_PHRASERS.get(name)
        cache: dict = {}  # per feature: columns read once for all the pairs
        texts = []
        for k in range(len(mentee)):
            i, j = int(mentee[k]), int(mentor[k])
            ctx = {"prepared": prep, "mentees": mentees, "mentors": mentors,
                   "i": i, "j": j, "data": data, "cache": cache}
            ctx["mentee_city"] = cell_text(ctx, "mentees", "city", i)
            ctx["mentor_city"] = cell_text(ctx, "mentors", "city", j)
            if pos is not None and pos[k] >= 0 and scores.missing[pos[k], col]:
                who = _whose_missing(name, mentees, mentors, i, j)
                whose = f" for {who}" if who and who != "both" else (" for both" if who else "")
                neutral = scores.values[pos[k], col]
                text = f"{name} unknown{whose}: neutral {neutral:g}"
                if neutral_fn is not None:
                    try:
                        text = neutral_fn(details, k, ctx, text, neutral) or text
                    except Exception:
                        pass
                texts.append(text)
                continue
            try:
                texts.append(fn(details, k, ctx) or "")
            except Exception:
                texts.append(generic(details, k, ctx))
        out[name] = texts
    return pd.DataFrame(out, index=range(len(mentee)))


def protected_notes(data: dict) -> list[str]:
    """Sentences for every scored feature that uses a protected attribute (age)."""
    scores = data.get("scores")
    notes = []
    for name, prep in (getattr(scores, "prepared", None) or {}).items():
        if getattr(getattr(prep, "feature", None), "uses_protected_attribute", False):
            if name in getattr(scores, "features", []):
                notes.append(f"the {name} feature uses age, a protected attribute")
    return notes

