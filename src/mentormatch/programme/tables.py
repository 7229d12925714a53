"""The programme's records and their columns: dates, typed frames, and CSV text written and read
back exactly (the folder store's files)."""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..matching import Matching

HISTORY_COLUMNS = ("instance", "mentee_id", "mentor_id", "round", "start", "score", "source",
                   "last_round", "end", "end_reason")
OUTCOME_COLUMNS = ("mentee_id", "mentor_id", "instance", "ended", "promoted", "satisfaction", "left")
ROUND_PAIR_COLUMNS = ("mentee_id", "mentor_id", "score", "rank", "carried", "priority")
ROUND_UNMATCHED_COLUMNS = ("mentee_id", "reason_code", "reason", "priority")
METRIC_COLUMNS = ("n", "n_reported", "promotion_rate", "median_days_to_promotion", "retention",
                  "mean_satisfaction")

# column kinds: how to write and read them back exactly
KINDS: dict[str, str] = {
    "instance": "int", "round": "int", "last_round": "int", "rank": "int",
    "score": "float", "satisfaction": "float",
    "carried": "bool", "priority": "bool",
    "start": "date", "end": "date", "ended": "date", "promoted": "date", "left": "date",
}


@dataclass
class Round:
    """One pairing round as recorded by the programme.

    ``pairs``: mentee_id, mentor_id, score, rank, carried (a pair in force from an earlier round,
    locked), priority (the mentee had priority). ``unmatched``: mentee_id, reason_code, reason,
    priority. ``notes``: what the round dropped or ended because people had left (references in
    the rules or the history naming someone absent), one sentence each. ``matching`` is the full
    result of the round (None after :meth:`Programme.load`).
    """

    number: int
    date: str
    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    status: str
    objective: float
    solver: str
    matching: Matching | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()


def as_date(value, what: str, *, table: str = "arguments", row_id=None, line=None,
            optional: bool = False) -> str:
    """An ISO date string (``YYYY-MM-DD``) from a date, datetime, Timestamp or ISO text;
    ``""`` for an empty value when ``optional``.

    >>> as_date("2026-01-15T10:00", "date")
    '2026-01-15'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT \
            or (isinstance(value, str) and value.strip() == ""):
        if optional:
            return ""
        raise ValidationError(Problem(table, what, row_id, line, value, "a date such as '2026-01-15'"))
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise ValidationError(Problem(table, what, row_id, line, value, "a date such as '2026-01-15'"))
    return ts.date().isoformat()


def days(a: str, b: str) -> int:
    return (_dt.date.fromisoformat(b) - _dt.date.fromisoformat(a)).days


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes per column kind, so that frames built in memory and read back compare equal."""
    out = frame.copy()
    for c in out.columns:
        kind = KINDS.get(c, "str")
        if kind == "int":
            out[c] = out[c].astype(np.int64)
        elif kind == "float":
            out[c] = out[c].astype(np.float64)
        elif kind == "bool":
            out[c] = out[c].astype(bool)
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str).astype(object)
    return out.reset_index(drop=True)


def empty(columns) -> pd.DataFrame:
    return typed(pd.DataFrame({c: [] for c in columns}, columns=list(columns)))


def _cell(value, kind: str) -> str:
    if kind == "float":
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return "true" if bool(value) else "false"
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def csv_bytes(frame: pd.DataFrame, columns) -> bytes:
    """The CSV text of ``frame``'s ``columns`` (header first), every value written exactly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    kinds = [KINDS.get(c, "str") for c in columns]
    for row in zip(*(frame[c].tolist() for c in columns)) if len(frame) else ():
        w.writerow([_cell(v, k) for v, k in zip(row, kinds)])
    return buf.getvalue().encode("utf-8")


def parse_value(v: str, kind: str, column: str):
    """One CSV cell back to its value; ValueError when it is not of its kind."""
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v) if v != "" else math.nan
    if kind == "bool":
        if v not in ("true", "false"):
            raise ValueError(v)
        return v == "true"
    if kind == "date":
        try:
            ok = not v or as_date(v, column) == v
        except ValidationError:
            ok = False
        if not ok:
            raise ValueError(v)
    return v


EXPECTED = {"int": "a whole number", "float": "a number or empty", "bool": "true or false",
            "date": "an ISO date YYYY-MM-DD or empty", "str": "text"}


def parse_csv(data: bytes, name: str, columns) -> pd.DataFrame:
    """Read one of our CSV files back from its bytes, naming the file (and line, column) on any
    problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(Problem(name, None, None, None, str(exc), "a readable UTF-8 CSV file")) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationError(Problem(name, None, None, None, str(exc), "a CSV file")) from None
    if not rows or rows[0] != list(columns):
        raise ValidationError(Problem(name, None, None, 1, rows[0] if rows else "empty file",
                                      f"the header {','.join(columns)}"))
    problems: list[Problem] = []
    data_: dict[str, list] = {c: [] for c in columns}
    kinds = [KINDS.get(c, "str") for c in columns]
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns):
            problems.append(Problem(name, None, None, n, row, f"{len(columns)} fields"))
            continue
        for c, kind, v in zip(columns, kinds, row):
            try:
                out: Any = parse_value(v, kind, c)
            except ValueError:
                problems.append(Problem(name, c, row[0] if row else None, n, v, EXPECTED[kind]))
                out = None
            data_[c].append(out)
    if problems:
        raise ValidationError(problems)
    return typed(pd.DataFrame(data_, columns=list(columns)))


def json_safe(obj):
    """Non-finite floats as tagged strings (JSON has no NaN); everything else as is."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"$float": repr(obj)}
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def json_restore(obj):
    if isinstance(obj, dict):
        if set(obj) == {"$float"}:
            return float(obj["$float"])
        return {k: json_restore(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_restore(v) for v in obj]
    return obj
