"""How to write your own extractor: a worked example of the protocol.

An extractor is a class with two class attributes and one method:

- ``name``: the key used in the programme's ``[weights]`` and ``[features.<name>]``;
- ``neutral``: the value in [0, 1] that scoring uses where the extractor returns NaN
  (missing data), flagging it in ``Scores.missing``;
- ``prepare(mentees, mentors, context)``: reads the validated tables once into numpy arrays
  and returns an object with ``values(i, j)`` (float64 in [0, 1], NaN = unknown),
  ``details(i, j)`` (raw facts for explanations) and ``ineligible(i, j)`` (a bool array of
  pairs the settings rule out, or None), all vectorised over the pair index arrays ``i``
  (mentee rows) and ``j`` (mentor rows).

Settings are keyword-only ``__init__`` arguments, validated there (an unknown setting is
reported by scoring, naming it). Registering the class with
:func:`~mentormatch.features.register_feature` makes its name known to the rules::

    import mentormatch.features.custom          # registers "same_attribute"
    rules = Rules.from_dict({"weights": {"same_attribute": 1.0},
                             "features": {"same_attribute": {"column": "language"}}})

Importing this module is the opt-in: the built-in features do not import it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import register_feature
from .base import Context, setting_error, text_column


class _SameAttributePrepared:
    def __init__(self, mentee_values: np.ndarray, mentor_values: np.ndarray):
        self.mentee_values, self.mentor_values = mentee_values, mentor_values

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        a, b = self.mentee_values[mentee], self.mentor_values[mentor]
        return np.where((a == "") | (b == ""), np.nan, (a == b).astype(np.float64))

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        return {"mentee_value": self.mentee_values[mentee], "mentor_value": self.mentor_values[mentor]}

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None


@register_feature
class SameAttribute:
    """1 when mentee and mentor share the value of a text column (e.g. a language), else 0.

    Parameters
    ----------
    column : str
        A column present in both tables (passed through validation as text).

    Examples
    --------
    >>> e = pd.DataFrame({"id": ["E1", "E2"], "language": ["fr", None]})
    >>> m = pd.DataFrame({"id": ["M1"], "language": ["fr"]})
    >>> p = SameAttribute(column="language").prepare(e, m, Context())
    >>> p.values(np.array([0, 1]), np.array([0, 0])).tolist()
    [1.0, nan]
    """

    name = "same_attribute"
    neutral = 0.5

    def __init__(self, *, column: str = ""):
        if not isinstance(column, str) or not column:
            raise setting_error(self.name, "column", column, "the name of a text column of both tables")
        self.column = column

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _SameAttributePrepared:
        for table, frame in (("mentees", mentees), ("mentors", mentors)):
            if self.column not in frame.columns:
                raise setting_error(self.name, "column", self.column, f"a column of the {table} table")
        return _SameAttributePrepared(text_column(mentees, self.column), text_column(mentors, self.column))
