"""The extractor protocol: one class per concern, one vectorised compute over pair arrays.

An extractor is built with keyword settings only (stored, never acted on in ``__init__``).
``prepare`` turns the validated tables into numpy arrays once; the returned
:class:`Prepared` then computes values for any candidate pairs, so the same code serves the
complete set of pairs and a sparse candidate list::

    prepared = Geography(mode="remote").prepare(mentees, mentors, context)
    values = prepared.values(mentee_idx, mentor_idx)   # float64 in [0, 1], NaN = unknown
    facts = prepared.details(mentee_idx, mentor_idx)   # raw facts for explanations

NaN marks a pair where an attribute is missing for one of the two people; scoring replaces
it by the extractor's ``neutral`` value and records that it did, so reports can say so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd


@dataclass
class Context:
    """What extractors may use besides the two tables."""

    framework: Any = None  # mentormatch.careers.CareerFramework or None
    reference_date: str = "2026-07-01"  # for DST-aware time-zone overlap


@runtime_checkable
class Prepared(Protocol):
    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray: ...

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]: ...

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None: ...


@runtime_checkable
class Feature(Protocol):
    name: str
    neutral: float

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> Prepared: ...
