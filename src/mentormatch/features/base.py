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
from typing import Any, Mapping, Protocol, runtime_checkable

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


# ---------------------------------------------------------------------------------------------
# Helpers shared by the extractors (additive to the protocol above).
#
# A Prepared object may also carry ``ineligible_rule: str``, the name under which scoring
# records its ``ineligible`` mask (e.g. ``"experience.junior_mentor"``); without it scoring uses
# ``"<feature name>.ineligible"``.
# ---------------------------------------------------------------------------------------------


def setting_error(feature: str, setting: str, value: Any, expected: str):
    """A :class:`~mentormatch.errors.ValidationError` naming ``features.<feature>.<setting>``,
    the value received and what was expected."""
    from ..errors import Problem, ValidationError

    return ValidationError(Problem("programme", f"features.{feature}.{setting}", None, None, value,
                                   expected))


def check_number(feature: str, setting: str, value: Any, low: float | None = None,
                 high: float | None = None, *, strict_low: bool = False) -> float:
    """``value`` as a finite float within ``[low, high]`` (``(low, high]`` if ``strict_low``),
    else a ValidationError naming the setting."""
    import math

    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else math.nan
    if ok and math.isfinite(v):
        if low is not None and (v < low or (strict_low and v == low)):
            ok = False
        if high is not None and v > high:
            ok = False
    else:
        ok = False
    if not ok:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if strict_low else '>='} {low:g}")
        if high is not None:
            bounds.append(f"<= {high:g}")
        raise setting_error(feature, setting, value, "a finite number" + (" " + " and ".join(bounds) if bounds else ""))
    return v


def check_choice(feature: str, setting: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ValidationError naming the setting."""
    if not isinstance(value, str) or value not in choices:
        raise setting_error(feature, setting, value, f"one of {list(choices)}")
    return value


def check_range(feature: str, setting: str, value: Any, low: float | None = None) -> tuple[float, float]:
    """A ``(lo, hi)`` pair of finite numbers with ``lo <= hi`` (and ``lo >= low`` if given)."""
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if ok:
        try:
            lo = check_number(feature, setting, value[0], low)
            hi = check_number(feature, setting, value[1], low)
        except Exception:
            ok = False
        else:
            ok = lo <= hi
    if not ok:
        raise setting_error(feature, setting, value, "a pair (low, high) of numbers with low <= high"
                            + (f", both >= {low:g}" if low is not None else ""))
    return (float(value[0]), float(value[1]))


def numeric_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as float64 (NaN where missing), or all NaN when the table lacks it."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan, dtype=np.float64)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def text_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as an object array of str, ``""`` where missing or absent."""
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[column].astype(object).where(frame[column].notna(), "").astype(str).to_numpy(dtype=object)


def build_feature(cls: type, settings: Mapping[str, Any] | None = None):
    """Instantiate extractor ``cls`` with ``settings``; an unknown setting raises a
    ValidationError naming it and listing the known ones (instead of a TypeError)."""
    import inspect

    settings = dict(settings or {})
    params = inspect.signature(cls.__init__).parameters
    known = [p for p, spec in params.items() if p != "self" and spec.kind in
             (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    takes_any = any(spec.kind == inspect.Parameter.VAR_KEYWORD for spec in params.values())
    unknown = [k for k in settings if k not in known]
    if unknown and not takes_any:
        from ..errors import Problem, ValidationError

        name = getattr(cls, "name", cls.__name__)
        raise ValidationError([Problem("programme", f"features.{name}.{k}", None, None, settings[k],
                                       f"a known setting of {name!r}, one of {sorted(known)}")
                               for k in unknown])
    return cls(**settings)
