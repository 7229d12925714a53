"""The offsets that make a programme's objective lexicographic (``priority="hard"``, the
rematch), stated once and read from the round's tables and rules, never from its scores, so that
every pair source (the complete set, blocks, bounds) adds the same numbers.

Scores are weighted sums of features in [0, 1] with weights >= 0
(:func:`mentormatch.scoring.score_pairs`), so every pair's score lies in ``[0, W]``,
``W = sum of the weights`` (``Rules.score_span``): a fact of the rules, known before any pair is
scored. An offset ``B = 1 + n_max * span`` on a pair (:func:`dominating_offset`), with
``n_max`` the most pairs any assignment can have (:func:`most_pairs`) and ``span`` the widest
range of what else a pair adds to the objective, is worth more than any change in the total
of the other terms: one more pair carrying ``B`` beats every assignment with one fewer.
"""
from __future__ import annotations

import numpy as np

from ..solvers.base import PairBonus


def most_pairs(mentees, mentors) -> int:
    """The most pairs any assignment of the round can have (at least 1): no more than the
    mentees' demands (``mentors_needed``, default 1), nor than the mentors' capacities hold at
    the smallest load (``load``, default 1; a load of 0 takes no place, so then only the demands
    bound it). ``mentees``/``mentors``: the validated tables."""
    need = (np.nan_to_num(mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0)
            if "mentors_needed" in mentees.columns else np.ones(len(mentees)))
    load = (np.nan_to_num(mentees["load"].to_numpy(dtype=float), nan=1.0)
            if "load" in mentees.columns else np.ones(len(mentees)))
    smallest = float(load.min(initial=1.0))
    places = (float(np.sum(mentors["capacity"].to_numpy(dtype=float))) / smallest
              if smallest > 0 else np.inf)
    return int(max(1.0, min(float(need.sum()), np.floor(places + 1e-9))))


def bonus_range(bonus: PairBonus | None) -> tuple[float, float]:
    """``(low, high)``: no pair's added terms (``bonus.on_pairs``, no scale) lie outside."""
    if bonus is None:
        return 0.0, 0.0
    low = high = 0.0
    for part in (bonus.per_mentee, bonus.per_mentor):
        if part is not None and len(part):
            low, high = low + float(np.min(part)), high + float(np.max(part))
    if bonus.value is not None and len(bonus.value):
        low += min(0.0, float(np.min(bonus.value)))
        high += max(0.0, float(np.max(bonus.value)))
    return low, high


def dominating_offset(n_max: int, span: float) -> float:
    """``B = 1 + n_max * span`` (``span`` at least 1e-9): with every pair's other terms within
    a range of ``span`` and at most ``n_max`` pairs, one more pair carrying ``B`` is worth more
    than any change in the other terms' total.

    >>> dominating_offset(4, 6.0)
    25.0
    """
    return 1.0 + n_max * max(float(span), 1e-9)


def hard_priority_offset(prepared, others: PairBonus | None = None) -> float:
    """The offset ``priority="hard"`` adds to each pair of a priority mentee, the same on every
    pair source: :func:`dominating_offset` of :func:`most_pairs` and the range of a pair's
    score plus ``others`` (the round's other bonus terms: the mentees' priority column,
    continuity), so that the solver matches the most priority pairs first, then maximises
    the rest of the objective.

    >>> import mentormatch as mm
    >>> from mentormatch import pipeline as pl
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=4, n_mentors=2, seed=1)
    >>> prepared = pl.prepare(mentors.assign(capacity=[1, 1]), mentees,
    ...                       {"weights": {"experience": 2.0, "geography": 1.0}})
    >>> hard_priority_offset(prepared)  # 1 + min(4 mentees, 2 places) x (2 + 1)
    7.0
    """
    data = prepared.data
    low, high = bonus_range(others)
    span = max(0.0, data["rules"].score_span + high) - min(0.0, low)
    return dominating_offset(most_pairs(data["mentees"], data["mentors"]), span)
