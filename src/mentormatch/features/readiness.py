"""Readiness: is the mentor ready to mentor? Several criteria, not sales results alone.

Each criterion is mapped to [0, 1]:

- ``performance`` (1-5 rating): ``(v - 1) / 4``;
- ``leadership_feedback`` (1-5, 360/leadership feedback): ``(v - 1) / 4``;
- ``tenure_years``: ``min(v / tenure_cap_years, 1)`` (default cap 10 years = 1).

The mentor's readiness is the weighted mean of the criteria known for that mentor
(``criteria_weights``, default equal). It depends on the mentor only, so it is the same for
every mentee; NaN when no criterion is known (scoring fills the neutral 0.5). With
``min_readiness`` set, mentors whose readiness is below it are ineligible (rule
``"readiness.min"``); a mentor with no known criterion is not ruled out, as nothing says they
fall short.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import register_feature
from .base import BoundModel, Context, check_number, numeric_column, setting_error

CRITERIA = ("performance", "leadership_feedback", "tenure_years")


def mentor_readiness(mentors: pd.DataFrame, weights: Mapping[str, float],
                     tenure_cap_years: float = 10.0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Readiness per mentor row and the criteria on [0, 1] it is made of.

    Parameters
    ----------
    mentors : pandas.DataFrame
        Optional columns ``performance``, ``leadership_feedback`` (1-5) and ``tenure_years``.
    weights : mapping of str to float
        Criterion -> weight >= 0 (criteria left out weigh 0).
    tenure_cap_years : float
        Tenure at which the tenure criterion reaches 1.

    Returns
    -------
    (readiness, parts)
        ``readiness``: float64 array, one per mentor, NaN when no weighted criterion is known;
        ``parts``: criterion -> its [0, 1] values.

    Examples
    --------
    >>> m = pd.DataFrame({"performance": [5.0, np.nan], "tenure_years": [5.0, np.nan]})
    >>> r, _ = mentor_readiness(m, {"performance": 1.0, "leadership_feedback": 1.0, "tenure_years": 1.0})
    >>> r.tolist()
    [0.75, nan]
    """
    parts = {
        "performance": (numeric_column(mentors, "performance") - 1.0) / 4.0,
        "leadership_feedback": (numeric_column(mentors, "leadership_feedback") - 1.0) / 4.0,
        "tenure_years": numeric_column(mentors, "tenure_years") / tenure_cap_years,
    }
    parts = {k: np.clip(v, 0.0, 1.0) for k, v in parts.items()}
    total = np.zeros(len(mentors), dtype=np.float64)
    weight = np.zeros(len(mentors), dtype=np.float64)
    for name, v in parts.items():
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        known = ~np.isnan(v)
        total += np.where(known, w * v, 0.0)
        weight += np.where(known, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        readiness = np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan)
    return np.clip(readiness, 0.0, 1.0), parts


class _ReadinessPrepared:
    ineligible_rule = "readiness.min"

    def __init__(self, feature: "Readiness", mentees: pd.DataFrame, mentors: pd.DataFrame):
        self.feature = feature
        self.n_mentees = len(mentees)
        self.readiness, self.parts = mentor_readiness(mentors, feature.criteria_weights,
                                                      feature.tenure_cap_years)

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        return self.readiness[mentor]

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        out = {"readiness": self.readiness[mentor]}
        out.update({name: v[mentor] for name, v in self.parts.items()})
        return out

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None:
        low = self.feature.min_readiness
        if low is None:
            return None
        r = self.readiness[mentor]
        with np.errstate(invalid="ignore"):
            return ~np.isnan(r) & (r < low)

    def pair_table(self, max_entries: int):
        """One number per distinct readiness of the mentors; see :mod:`mentormatch.features.tables`."""
        from .tables import keyed_pair_table

        return keyed_pair_table(self.values, (np.zeros(self.n_mentees),), (self.readiness,), max_entries)

    def bound_model(self, neutral: float) -> BoundModel:
        """Exact: one number per mentor."""
        out = BoundModel(col=np.where(np.isnan(self.readiness), neutral, self.readiness), exact=True)
        if self.feature.min_readiness is not None:
            out.ineligible_mentors = self.ineligible(np.zeros(len(self.readiness), dtype=np.int64),
                                                     np.arange(len(self.readiness)))
        return out


@register_feature
class Readiness:
    """The mentor's readiness to mentor, from several criteria.

    Parameters
    ----------
    criteria_weights : mapping of str to float, optional
        Criterion -> weight ``>= 0``, criteria among ``performance``, ``leadership_feedback``
        and ``tenure_years``; default 1 each. Criteria left out of a given mapping weigh 0;
        at least one weight must be > 0.
    tenure_cap_years : float
        Years of tenure that count as full (criterion value 1); default 10.
    min_readiness : float or None
        Mentors whose readiness (in [0, 1]) is below this are ineligible (rule
        ``"readiness.min"``); default None (nobody ruled out).

    Notes
    -----
    Columns (mentors table): ``performance``, ``leadership_feedback`` (1-5) and
    ``tenure_years``. Details: ``readiness`` and each criterion on [0, 1] (NaN where unknown).

    Examples
    --------
    >>> import pandas as pd
    >>> from mentormatch.features import Context
    >>> m = pd.DataFrame({"id": ["M1"], "performance": [3.0], "leadership_feedback": [5.0]})
    >>> p = Readiness().prepare(pd.DataFrame({"id": ["E1"]}), m, Context())
    >>> p.values(np.array([0]), np.array([0])).tolist()   # mean of 0.5 and 1.0; tenure unknown
    [0.75]
    """

    name = "readiness"
    neutral = 0.5

    def __init__(self, *, criteria_weights: Mapping[str, float] | None = None,
                 tenure_cap_years: float = 10.0, min_readiness: float | None = None):
        n = self.name
        if criteria_weights is None:
            weights = {c: 1.0 for c in CRITERIA}
        elif not isinstance(criteria_weights, Mapping):
            raise setting_error(n, "criteria_weights", criteria_weights,
                                f"a table of criterion = weight, criteria among {list(CRITERIA)}")
        else:
            weights = {}
            for c, w in criteria_weights.items():
                if c not in CRITERIA:
                    raise setting_error(n, f"criteria_weights.{c}", w, f"a criterion, one of {list(CRITERIA)}")
                weights[c] = check_number(n, f"criteria_weights.{c}", w, 0.0)
            if not any(w > 0 for w in weights.values()):
                raise setting_error(n, "criteria_weights", criteria_weights,
                                    "at least one criterion with a weight > 0")
        self.criteria_weights: dict[str, float] = {c: weights.get(c, 0.0) for c in CRITERIA}
        self.tenure_cap_years = check_number(n, "tenure_cap_years", tenure_cap_years, 0.0, strict_low=True)
        self.min_readiness: Any = (None if min_readiness is None
                                   else check_number(n, "min_readiness", min_readiness, 0.0, 1.0))

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _ReadinessPrepared:
        return _ReadinessPrepared(self, mentees, mentors)
