"""Cell conversion (text, numbers, id lists) and the collector of problems that names each
row by its id and file line."""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import SAME_AS_ABOVE, Problem
from .columns import _DATAFRAME_SOURCE, MAX_PROBLEMS


def _as_text(raw: pd.Series) -> pd.Series:
    """Cells as text (``str`` dtype), ``NaN`` where missing or blank; whole floats lose '.0'."""
    raw = raw.reset_index(drop=True)
    if pd.api.types.is_float_dtype(raw.dtype):
        v = raw.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(v) & (v == np.round(v)) & (np.abs(v) < 2**53)
        texts = raw.astype(object).map(str).to_numpy(dtype=object)
        texts[whole] = v[whole].astype(np.int64).astype(str)
        out = pd.Series(texts, dtype="str").where(~np.isnan(v))
    elif isinstance(raw.dtype, pd.StringDtype):
        out = raw.astype("str")
    else:  # object, categorical, integer, boolean, ...: str() of each present cell
        cells = raw.astype(object).to_numpy(dtype=object)
        mask = raw.notna().to_numpy()
        texts = np.full(len(raw), np.nan, dtype=object)
        texts[mask] = [str(x) for x in cells[mask]]
        out = pd.Series(texts, dtype="str")
    blank = _blank(out.to_numpy(dtype=object))
    return out.mask(blank) if blank.any() else out


def _blank(cells: np.ndarray) -> np.ndarray:
    """True where a cell is text of whitespace alone, ``""`` included: ``cell.strip() == ""``
    (``str.strip`` removes what ``str.isspace`` calls whitespace), tested without a stripped
    copy of every cell (``Series.str.strip`` made one per cell, in Python); False where the
    cell is not text (missing). A column without a blank cell (most) is told so by
    :func:`_joined` at a fraction of the cost of the cell-by-cell test (ids of 100,000
    mentees: 18-19 ms that way, 4-11 this; a column of 51 cities: 5.6, 1.6-3.4)."""
    joined = _joined(cells)
    if joined is not None and not _may_be_blank(joined):
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter((isinstance(c, str) and (not c or c.isspace()) for c in cells),
                       dtype=bool, count=len(cells))


#: where, in cells joined by NUL, a cell may begin blank: after a separator, another one (an
#: empty cell) or whitespace (``\s`` is ``str.isspace``'s whitespace, character for character)
_BLANK_START = re.compile(r"\0[\s\0]")


def _joined(cells: np.ndarray) -> str | None:
    """The cells joined by NUL, in one C-level pass; None when one is not text (missing)."""
    try:
        return "\0".join(cells)
    except TypeError:
        return None


def _may_be_blank(joined: str) -> bool:
    """False when no cell of ``joined`` (:func:`_joined`) is blank: none is empty and none
    starts with whitespace. A cell holding NUL itself may make it True, never False."""
    return (not joined or joined[0].isspace() or joined[0] == "\0" or joined[-1] == "\0"
            or _BLANK_START.search(joined) is not None)


def _spaceless(joined: str | None) -> bool:
    """True when every cell of ``joined`` (:func:`_joined`) is text without whitespace anywhere
    (so none has spaces around it: ids are, as a rule): where ``cell != cell.strip()`` took
    60 ms for the ids of 100,000 mentees."""
    if not joined:
        return False
    first = joined.split(None, 1)  # (stops at the first whitespace)
    return len(first) == 1 and len(first[0]) == len(joined)


#: what ``input.unknown_managers`` may say: refuse a manager id that is nobody, or take it as the
#: top of that person's chain (listed in the notes)
UNKNOWN_MANAGERS = ("error", "chain_end")


@dataclass(frozen=True)
class InputOptions:
    """How the input files are read (the programme's ``[input]`` section).

    ``encoding``: None to recognise UTF-8 (with or without BOM), UTF-16 (BOM) and cp1252;
    ``decimal``: "." or "," (a decimal comma in numeric cells); ``trim_ids``: strip spaces around
    ids instead of refusing them; ``unknown_managers``: "error" or "chain_end"; ``capacity``: the
    capacity of every mentor when the mentors table has no capacity column (None: required);
    ``case_sensitive_ids``: ids that differ only in case ("E001", "e001") are two people, on
    purpose (by default they are refused: a reader takes them for one).
    """

    encoding: str | None = None
    decimal: str = "."
    trim_ids: bool = False
    unknown_managers: str = "error"
    capacity: float | None = None
    case_sensitive_ids: bool = False


def _numeric(raw: pd.Series, decimal: str = ".") -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, missing mask); unparsable cells are NaN but not missing. ``decimal=","``
    reads text cells written with a decimal comma ("3,5")."""
    raw = raw.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        missing = raw.isna().to_numpy()
        values = raw.astype("float64").to_numpy(na_value=np.nan) if missing.any() else raw.to_numpy(dtype=float)
        return values.astype(np.float64, copy=False), missing
    text = _as_text(raw)
    missing = text.isna().to_numpy()
    if decimal != ".":
        text = text.str.strip().str.replace(decimal, ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values, missing


def _idlist(raw: pd.Series) -> pd.Series:
    """Each cell as a tuple of ids: ';'-separated text (whitespace around ids stripped, empty
    parts dropped) or a list/tuple; the empty tuple where missing."""
    cells = raw.to_numpy(dtype=object)
    out = np.empty(len(cells), dtype=object)
    out.fill(())
    try:  # the missing and empty cells (most, in a typical table) at once
        todo = np.flatnonzero(~(pd.isna(cells) | (cells == "")))
    except (TypeError, ValueError):  # a cell that does not compare to a string
        todo = range(len(cells))
    for k in todo:  # one pass over the other rows, not over pairs
        cell = cells[k]
        if isinstance(cell, str):
            parts = cell.split(";")
            if "" in parts or len(cell.split()) != 1:  # blanks to strip or drop
                parts = [p for p in (q.strip() for q in parts) if p]
            out[k] = tuple(parts)
        elif isinstance(cell, (list, tuple, np.ndarray, pd.Series)):
            out[k] = tuple(str(x).strip() for x in cell if not _missing(x) and str(x).strip())
        elif _missing(cell):
            out[k] = ()
        else:
            out[k] = (str(cell).strip(),) if str(cell).strip() else ()
    return pd.Series(out, dtype=object)


def _isin(values, known: pd.Index) -> np.ndarray:
    """Boolean array: which of ``values`` are in ``known`` (a hash lookup on object arrays;
    ``Series.isin`` on arrow-backed text goes through Python objects and is far slower)."""
    known = known.unique() if not known.is_unique else known
    return known.get_indexer(np.asarray(values, dtype=object)) >= 0


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _shown(value):
    """A cell value for a message: plain Python, '' for a missing cell."""
    if isinstance(value, np.generic):
        value = value.item()
    return "" if _missing(value) else value



def _exploded(lists: pd.Series) -> pd.Series:
    """The ids of an id-list column, one per row, indexed by row position: ``explode`` less
    the missing. A column of tuples (the validated form) is flattened in one C-level pass
    (``Series.explode`` took 33 ms for 100,000 rows, this 5 ms); other cells, by ``explode``."""
    cells = lists.to_numpy(dtype=object)
    if not len(cells) or not set(map(type, cells)) <= {tuple}:
        flat = lists.explode()
        return flat[flat.notna()]
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    values = np.fromiter(chain.from_iterable(cells), dtype=object, count=int(lengths.sum()))
    owner = np.repeat(lists.index.to_numpy(), lengths)
    keep = ~pd.isna(values)
    return pd.Series(values[keep], index=owner[keep], name=lists.name)



class _Report:
    """One table's problems, each naming the row by its id and file line."""

    def __init__(self, table: str, frame: pd.DataFrame, options: InputOptions | None = None):
        self.table = table
        self.options = options or InputOptions()
        lines = frame.attrs.get("lines")
        self.lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        self.header_line = frame.attrs.get("header_line")
        self.source = frame.attrs.get("source", _DATAFRAME_SOURCE)
        self.headers = dict(frame.attrs.get("headers") or {})  # column -> the file's own header
        self.ids: np.ndarray | None = None
        # the present ids as an Index (``table._check_ids``): its hash of them is the one the
        # checks between the tables look ids up in
        self.index: pd.Index | None = None
        self.managers: np.ndarray | None = None  # manager id by row, once the org chart is read
        self.problems: list[Problem] = []

    def where(self, k: int) -> str:
        """How another row is named in a message: its line, else its position."""
        return f"line {int(self.lines[k])}" if self.lines is not None else f"row {k}"

    def add(self, column: str | None, k: int | None, value, expected: str, *,
            line: int | None = None) -> None:
        row_id = None
        if k is not None:
            if self.ids is not None and isinstance(self.ids[k], str):
                row_id = self.ids[k]
            if self.lines is not None:
                line = int(self.lines[k])
            elif row_id is None:
                expected += f" (row {k} of the DataFrame, counting from 0)"
        self.problems.append(Problem(self.table, column, row_id, line, _shown(value), expected,
                                     self.headers.get(column)))

    def rows(self, column: str | None, mask: np.ndarray, raw: pd.Series,
             expected: str | Callable[[int], str]) -> None:
        """One problem per row where ``mask`` holds, up to MAX_PROBLEMS, then a summary."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        cells = raw.to_numpy(dtype=object) if raw is not None else None
        for k in idx[:MAX_PROBLEMS]:
            k = int(k)
            self.add(column, k, None if cells is None else cells[k],
                     expected(k) if callable(expected) else expected)
        if len(idx) > MAX_PROBLEMS:
            self.problems.append(Problem(self.table, column, None, None,
                                         f"{len(idx) - MAX_PROBLEMS} more rows",
                                         SAME_AS_ABOVE))

