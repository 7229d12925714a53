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

from dataclasses import dataclass
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
        raise setting_error(feature, setting, value, f"one of {list(choices)}{_did_you_mean(value, choices)}")
    return value


def _did_you_mean(value: Any, known) -> str:
    import difflib

    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


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
                                       f"a known setting of {name!r}, one of {sorted(known)}"
                                       f"{_did_you_mean(k, known)}")
                               for k in unknown])
    return cls(**settings)


# ---------------------------------------------------------------------------------------------
# Bounds for the scale path (optional part of the protocol).
#
# A Prepared object may offer ``bound_model(neutral) -> BoundModel | None``: a form of its value
# that is cheap to evaluate on every pair at once (one small matrix product), and that bounds the
# value from above. The scale path of ``pair()`` uses the bound to skip the exact extractor on
# pairs the dual prices already rule out, and computes the exact value on the others; so a loose
# bound costs time, never correctness. Without the method the bound is 1.
# ---------------------------------------------------------------------------------------------
#: The most mentee groups of a bound model's ``key``/``table`` form.
MAX_BOUND_KEYS = 1024
#: The most mentor groups a bound model turns into one-hot columns of its product.
MAX_ONE_HOT = 64


@dataclass
class KeyedMask:
    """Pairs ruled out by a rule that depends on a key of the mentee and on the mentor:
    pair (i, j) is ineligible when ``table[key[i], j]``."""

    key: np.ndarray  # (n_mentees,) int64 in [0, K)
    table: np.ndarray  # (K, n_mentors) bool


@dataclass
class BoundModel:
    """An upper bound of a feature's value (NaN already replaced by the neutral value)::

        value(i, j) <= row[i] + col[j] + left[i] @ right[j] + table[key[i], j] + pairs[i, j]

    Parts left as None are zero. ``key``/``table`` is the form for a value that depends on
    the mentee only through a few groups (``table`` is groups x mentors). With ``exact`` the two sides are equal up to floating-point
    rounding. ``ineligible`` (mentee key x mentor) and ``ineligible_mentors`` (bool per mentor)
    restate the pairs the feature's ``ineligible`` removes, exactly, so that the bound can carry
    them; a model must set them whenever ``ineligible`` can return a mask."""

    left: np.ndarray | None = None  # (n_mentees, d)
    right: np.ndarray | None = None  # (n_mentors, d)
    row: np.ndarray | None = None  # (n_mentees,)
    col: np.ndarray | None = None  # (n_mentors,)
    pairs: Any = None  # scipy.sparse (n_mentees, n_mentors): exact values of a few pairs
    key: np.ndarray | None = None  # (n_mentees,) int64 in [0, K)
    table: np.ndarray | None = None  # (K, n_mentors)
    exact: bool = False
    ineligible: KeyedMask | None = None
    ineligible_mentors: np.ndarray | None = None


def row_keys(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by the values of ``columns`` (NaN equal to NaN): the group of each row
    (groups numbered in the order of their values, NaN last) and the first row of each group.
    Hash-based, one column at a time: linear in the rows.

    Examples
    --------
    >>> key, first = row_keys(np.array([1.0, np.nan, 1.0, np.nan]))
    >>> key.tolist(), first.tolist()
    ([0, 1, 0, 1], [0, 1])
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(np.asarray(column), sort=True, use_na_sentinel=False)
        key, _ = pd.factorize(key * len(uniques) + codes, sort=True)
    key = key.astype(np.int64)
    first = np.full(int(key.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, key, np.arange(n))
    return key, first


def one_hot(key: np.ndarray, k: int) -> np.ndarray:
    """``(len(key), k)`` float64 matrix with a 1 in column ``key[i]`` of row ``i``."""
    out = np.zeros((len(key), k), dtype=np.float64)
    out[np.arange(len(key)), key] = 1.0
    return out


def keyed_table(values, key_e: np.ndarray, first_e: np.ndarray, key_m: np.ndarray,
                first_m: np.ndarray, neutral: float) -> np.ndarray:
    """``values(i, j)`` (NaN -> ``neutral``) for one representative of every mentee group and
    every mentor group: a (K_mentee, K_mentor) table. Exact when the value depends on the pair
    only through the two groups."""
    ke, km = len(first_e), len(first_m)
    v = np.asarray(values(np.repeat(first_e, km), np.tile(first_m, ke)), dtype=np.float64)
    return np.where(np.isnan(v), neutral, v).reshape(ke, km)
