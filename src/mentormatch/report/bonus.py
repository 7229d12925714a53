"""The round's objective bonus (priority, continuity) as the reports price it.

A round may maximise ``score + bonus`` instead of the plain total. The reasons of unmatched
mentees (:func:`mentormatch.report.reasons.unmatched_reasons`) and the alternatives to a pair
(:func:`mentormatch.report.pricing.alternatives`) then state their figures on ``score +
bonus``, which needs the bonus of each pair they read. Three states, one record: the plain
objective (``"none"``), the bonus on each pair of the problem read (``"per_pair"``), or a bonus
that exists but is not held per pair there (``"not_held"``: no figure is stated, since a figure
of the plain total would be wrong). Until s27 these were None, an array and False.
"""
from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

__all__ = ["NO_BONUS", "ObjectiveBonus", "objective_bonus"]


@dataclasses.dataclass(frozen=True, eq=False)
class ObjectiveBonus:
    """The objective's bonus of a round, on the pairs of one problem: ``kind`` (``"none"``,
    ``"per_pair"``, ``"not_held"``; module text) and ``per_pair`` (float, one a pair of the
    problem, given exactly when ``kind`` is ``"per_pair"``).

    >>> ObjectiveBonus("per_pair", np.array([0.0, 2.5])).priced
    True
    >>> ObjectiveBonus("not_held").priced
    False
    """

    kind: Literal["none", "per_pair", "not_held"]
    per_pair: np.ndarray | None = None

    def __post_init__(self):
        if self.kind not in ("none", "per_pair", "not_held"):
            raise ValueError(f"ObjectiveBonus.kind must be 'none', 'per_pair' or 'not_held', "
                             f"not {self.kind!r}")
        if (self.per_pair is not None) != (self.kind == "per_pair"):
            raise ValueError("ObjectiveBonus.per_pair is given exactly when kind is 'per_pair'")

    @property
    def priced(self) -> bool:
        """Whether figures can be stated: the plain objective, or a bonus held per pair."""
        return self.kind != "not_held"


#: The plain objective: no bonus.
NO_BONUS = ObjectiveBonus("none")


def objective_bonus(data, problem) -> ObjectiveBonus:
    """The round's objective bonus on each pair of ``problem``, from ``data["bonus"]``: the scale
    path's ``PairBonus`` (any pair's), the complete set's array (one per pair of the solved
    problem); ``"not_held"`` when it does not cover ``problem``'s pairs. So "why not X" under
    max-min/leximin is priced alike on every source (until s25: "not priced" on blocks and
    bounds). Called only for a round whose objective is not the plain total."""
    held = data.get("bonus")
    if hasattr(held, "on_pairs"):
        return ObjectiveBonus("per_pair", np.asarray(held.on_pairs(problem.pairs.mentee,
                                                                   problem.pairs.mentor), float))
    if held is not None and np.shape(held) == np.shape(problem.score):
        return ObjectiveBonus("per_pair", np.asarray(held, float))
    return ObjectiveBonus("not_held")
