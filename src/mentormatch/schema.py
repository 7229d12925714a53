"""Column schemas of the mentor and mentee tables, reading, and validation.

Both tables share most columns; ``Column.tables`` says which table a column belongs to.
Canonical column names are in ``COLUMNS`` (``describe_columns()`` shows them as a table); an
HR export with other headers is mapped with ``columns=`` (``{"Employee Number": "id", ...}``:
export header -> canonical name).

Competency levels are columns named ``comp_<competency>`` (mastery level, a number 0..5;
whole numbers are not required, so an averaged rating such as 3.5 is accepted), one per
competency of the career framework; they are optional, and a person without them is neutral
on the competency feature.

What validation returns (``validate_tables``):

- canonical column names, in the input's order, on a fresh ``RangeIndex``;
- ``id`` as text (pandas ``str`` dtype), exactly as written: leading zeros and unicode kept;
- every numeric column (kinds ``"float"`` and ``"int"``, and ``comp_*``) as ``float64``, with
  ``NaN`` where the cell is empty; ``"int"`` columns hold whole numbers (one numeric dtype
  downstream, and ``NaN`` rather than ``pd.NA`` for missing);
- ``"str"`` and ``"tz"`` columns as text, missing as ``NaN``;
- ``"idlist"`` columns as a ``tuple[str, ...]`` per row (the empty tuple when missing);
- every other column (a group attribute such as gender or region, or a column that belongs to
  the other table) passed through as text, not validated;
- ``attrs["lines"]``: the file line of each row (header = line 1, first data row = line 2) as an
  int64 numpy array, or ``None`` for a DataFrame not read from a file; ``attrs["source"]``: the
  file path or ``"<DataFrame>"``; ``attrs["table"]``: ``"mentors"`` or ``"mentees"``.

``lines`` is an array, not a list, because pandas deep-copies ``attrs`` on every derived frame.

Big Five traits: a table is on the 1-5 scale or on the 0-1 scale; validation only checks the
range 0..5 (and flags a fractional value below 1 in a table whose other trait values exceed 1,
which mixes the two scales). A table whose trait values are all <= 1 is read as the 0-1 scale by
the personality feature.
"""
from __future__ import annotations

import csv
import difflib
import functools
import io
import math
import os
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError

@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id", "str", "float", "int", "tz", "idlist"
    tables: tuple[str, ...]  # which of ("mentors", "mentees") may carry it
    required: bool = False
    low: float | None = None
    high: float | None = None
    doc: str = ""


BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
BOTH = ("mentors", "mentees")

COLUMNS: tuple[Column, ...] = (
    Column("id", "id", BOTH, required=True, doc="string id, kept exactly (leading zeros, unicode); unique within a table"),
    Column("name", "str", BOTH, doc="display name"),
    Column("city", "str", BOTH, doc="city name, resolved offline (with country) when coordinates are absent"),
    Column("country", "str", BOTH, doc="ISO 3166 alpha-2 country code, or country name"),
    Column("latitude", "float", BOTH, low=-90, high=90, doc="degrees"),
    Column("longitude", "float", BOTH, low=-180, high=180, doc="degrees"),
    Column("timezone", "tz", BOTH, doc="IANA time zone, e.g. Europe/London"),
    Column("years_experience", "float", BOTH, low=0, high=70, doc="years of professional experience"),
    Column("role", "str", BOTH, doc="role id on the career framework"),
    Column("level", "int", BOTH, low=0, high=20, doc="career level (0 = most junior)"),
    Column("target_role", "str", ("mentees",), doc="the role the mentee is growing toward; default: next roles on the pathway"),
    *(Column(t, "float", BOTH, low=0, high=5, doc="Big Five trait, on a 1-5 scale or 0-1 scale (whole table on one scale)") for t in BIG_FIVE),
    Column("manager_id", "str", BOTH, doc="id of the person's manager (must be a known id, or empty)"),
    Column("team", "str", BOTH, doc="team name (for an optional same-team conflict rule)"),
    Column("capacity", "float", ("mentors",), required=True, low=0, doc="mentee slots (whole numbers unless loads are fractional)"),
    Column("min_capacity", "int", ("mentors",), low=0, doc="a mentor who takes part gets at least this many mentees"),
    Column("mentors_needed", "int", ("mentees",), low=0, high=10, doc="number of distinct mentors the mentee needs (default 1)"),
    Column("load", "float", ("mentees",), low=0, high=10, doc="slots of a mentor's time this mentee takes (default 1)"),
    Column("preferences", "idlist", BOTH, doc="ranked ids of the other side, separated by ';', best first"),
    Column("manager_suggestions", "idlist", ("mentees",), doc="mentor ids the mentee's manager suggests, ';'-separated"),
    Column("performance", "float", ("mentors",), low=1, high=5, doc="latest performance rating, 1-5"),
    Column("leadership_feedback", "float", ("mentors",), low=1, high=5, doc="360/leadership feedback, 1-5"),
    Column("tenure_years", "float", BOTH, low=0, high=70, doc="years at the company"),
    Column("stipend_fixed", "float", ("mentors",), low=0, doc="paid when the mentor is active"),
    Column("stipend_per_mentee", "float", ("mentors",), low=0, doc="paid per mentee"),
    Column("bonus", "float", ("mentors",), low=0, doc="bonus per successful mentee"),
    Column("reservation_value", "float", ("mentors",), low=0, doc="expected incentive below which the mentor will not take part"),
    Column("age", "float", BOTH, low=14, high=100, doc="protected attribute: not a default feature"),
)


COLUMN_BY_NAME = {c.name: c for c in COLUMNS}
COMPETENCY_PREFIX = "comp_"
TABLES = ("mentors", "mentees")
MAX_PROBLEMS = 50  # per table and per check: keeps messages readable and the loops short
COMPETENCY_RANGE = (0.0, 5.0)
_NUMERIC = ("float", "int")
_DATAFRAME_SOURCE = "<DataFrame>"
# the other side whose ids an id list names: (table, column) -> table of the ids
_IDLIST_TARGET = {
    ("mentees", "preferences"): "mentors",
    ("mentors", "preferences"): "mentees",
    ("mentees", "manager_suggestions"): "mentors",
}


def _table_columns(table: str) -> dict[str, Column]:
    return {c.name: c for c in COLUMNS if table in c.tables}


def _check_table_name(table: str) -> None:
    if table not in TABLES:
        raise ValidationError(Problem("arguments", "table", None, None, table,
                                      "'mentors' or 'mentees'"))


@functools.lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _close(word: str, options, cutoff: float) -> str | None:
    """The option closest to ``word``, compared case-insensitively, or None."""
    options = list(options)
    lowered: dict[str, str] = {}
    for o in options:
        lowered.setdefault(str(o).lower(), o)
    hit = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[hit[0]] if hit else None


# ---------------------------------------------------------------------------------------------
# reading


def _file_problem(table: str, path: str, expected: str) -> ValidationError:
    return ValidationError(Problem(table, None, None, None, path, expected))


def _sniff_delimiter(first_line: str) -> str:
    """',' unless the header has none and another usual delimiter is present."""
    if "," in first_line:
        return ","
    counts = {d: first_line.count(d) for d in (";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ","


def _read_csv(path: str, table: str) -> tuple[pd.DataFrame, list[str], np.ndarray, int]:
    """(frame of str, raw headers, line of each row, header line) from a CSV file."""
    if not os.path.exists(path):
        raise _file_problem(table, path, "an existing CSV file (no such file)")
    if os.path.isdir(path):
        raise _file_problem(table, path, "a CSV file, not a directory")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise _file_problem(table, path, f"a readable CSV file ({exc.strerror or exc})") from exc
    if b"\x00" in data:
        raise _file_problem(table, path, "a CSV text file (found binary data: a spreadsheet or "
                                         "archive? export it as CSV UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_problem(table, path, f"a CSV file in UTF-8 (byte {data[exc.start]:#04x} at "
                                         f"offset {exc.start} is not UTF-8; export as CSV UTF-8)") from exc
    if not text.strip():
        raise _file_problem(table, path, "a CSV file with a header line and rows (the file is empty)")
    delimiter = _sniff_delimiter(text.lstrip("\r\n").split("\n", 1)[0])
    if '"' not in text:  # no quoting, so one record per non-blank line: pandas' C parser
        plain = _read_plain(text, delimiter)
        if plain is not None:
            return plain
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    end = 0  # each record starts on the line after the previous one ended
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or (not record[0].strip() and not "".join(record).strip()):
                continue  # blank lines and all-empty rows (",,,") carry nothing
            if header is None:
                header, header_line = record, start
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise _file_problem(table, path, f"a well-formed CSV file (line {reader.line_num}: {exc})") from exc
    assert header is not None  # text.strip() is not empty
    header = [h.strip() for h in header]
    width = len(header)
    for k, record in enumerate(rows):
        if len(record) > width:
            extra = record[width:]
            if any(f.strip() for f in extra):
                problems.append(Problem(table, None, None, lines[k], extra,
                                        f"at most {width} fields, as in the header line"))
            rows[k] = record[:width]
        elif len(record) < width:
            rows[k] = record + [""] * (width - len(record))
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS])
    cols = list(zip(*rows)) if rows else [()] * width
    # positional construction: duplicate headers must survive to be reported
    frame = pd.DataFrame({k: pd.Series(c, dtype="str") for k, c in enumerate(cols)})
    if frame.shape[1] != width:  # no rows and no columns
        frame = pd.DataFrame({k: pd.Series([], dtype="str") for k in range(width)})
    frame.columns = header
    return frame, header, np.asarray(lines, dtype=np.int64), header_line


def _read_plain(text: str, delimiter: str) -> tuple[pd.DataFrame, list[str], np.ndarray, int] | None:
    """The fast path of ``_read_csv`` for text without quotes; None when the file needs the
    careful path (ragged rows, or lines that the two parsers count differently)."""
    nonblank = [k + 1 for k, line in enumerate(text.splitlines()) if line.strip()]
    try:
        raw = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                          keep_default_na=False, na_filter=False, skip_blank_lines=True,
                          quoting=csv.QUOTE_NONE, engine="c")
    except (pd.errors.ParserError, ValueError):
        return None
    if len(raw) != len(nonblank) or raw.isna().to_numpy().any():
        return None
    header = [str(h).strip() for h in raw.iloc[0]]
    body = raw.iloc[1:].reset_index(drop=True)
    lines = np.asarray(nonblank[1:], dtype=np.int64)
    empty = np.ones(len(body), dtype=bool)
    for k in range(body.shape[1]):
        empty &= (body.iloc[:, k].str.strip() == "").to_numpy(dtype=bool)
    if empty.any():  # rows of empty fields (",,,") carry nothing
        body, lines = body[~empty].reset_index(drop=True), lines[~empty]
    body = body.astype("str")
    body.columns = header
    return body, header, lines, nonblank[0]


def _read_parquet(path: str, table: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise _file_problem(table, path, "a CSV file (reading Parquet needs pyarrow)") from exc
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise _file_problem(table, path, f"a readable Parquet file ({exc})") from exc


def _header_problems(table: str, headers: list, line: int | None, source: str) -> list[Problem]:
    seen: dict[str, list[int]] = {}
    for k, h in enumerate(headers):
        seen.setdefault(str(h), []).append(k + 1)
    return [Problem(table, h, None, line, h,
                    f"each header once in {source} (found at positions {pos})")
            for h, pos in seen.items() if len(pos) > 1]


def _rename(headers: list[str], columns: Mapping[str, str] | None, table: str,
            line: int | None, source: str) -> tuple[list[str], list[Problem]]:
    """Headers after the export -> canonical mapping, and the mapping's problems."""
    if not columns:
        return list(headers), []
    if not isinstance(columns, Mapping):
        return list(headers), [Problem(table, None, None, None, columns,
                                       "columns= as a mapping {export header: canonical name}")]
    problems: list[Problem] = []
    present = set(headers)
    mine = _table_columns(table)
    sources_of: dict[str, list[str]] = {}
    for src, dst in columns.items():
        if not isinstance(src, str) or not isinstance(dst, str) or not dst:
            problems.append(Problem(table, None, None, None, {src: dst},
                                    "columns= entries as {'export header': 'canonical name'}, both text"))
            continue
        if src not in present:
            if dst in COLUMN_BY_NAME and dst not in mine:
                continue  # a shared mapping entry for the other table's column
            if src == dst:
                continue
            hint = _close(src, [h for h in headers if h not in columns], 0.6)
            problems.append(Problem(
                table, src, None, line, src,
                f"a header of {source} (columns= maps {src!r} -> {dst!r})"
                + (f"; did you mean {hint!r}?" if hint else f"; headers are {list(headers)}")))
            continue
        sources_of.setdefault(dst, []).append(src)
    renamed = [columns.get(h, h) if h in columns and isinstance(columns.get(h), str) else h
               for h in headers]
    for dst, srcs in sources_of.items():
        if len(srcs) > 1:
            problems.append(Problem(table, dst, None, line, srcs,
                                    f"one header mapped onto {dst!r} by columns=, not {len(srcs)}"))
        elif dst in present and dst not in columns and srcs[0] != dst:
            problems.append(Problem(table, dst, None, line, srcs[0],
                                    f"a single {dst!r} column: columns= maps {srcs[0]!r} onto it "
                                    f"but {source} already has a {dst!r} header"))
    return renamed, problems


def read_table(source, table: str, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read one input table (mentors or mentees) without validating its values.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A CSV file (UTF-8, with or without a byte-order mark; ``,`` separated, or ``;``/tab when
        the header line has no comma), a ``.parquet`` file (needs pyarrow), or a DataFrame
        (copied, never modified).
    table : {"mentors", "mentees"}
        Which table this is; used in messages and for the mapping below.
    columns : mapping of str to str, optional
        Export header -> canonical column name, e.g. ``{"Employee Number": "id"}``. An entry
        whose header is absent is an error, unless it names a canonical column of the other
        table (so one mapping can serve both tables).

    Returns
    -------
    pandas.DataFrame
        A new frame with renamed (and whitespace-stripped) headers. From a CSV every cell is
        text (``str`` dtype) exactly as written, ``NaN`` where empty; blank lines are skipped.
        ``attrs["lines"]`` is the file line of each row (header = line 1, first data row =
        line 2) as an int64 array, or the input frame's ``attrs["lines"]`` (else None) for a
        DataFrame; ``attrs["source"]`` is the path or ``"<DataFrame>"``.

    Raises
    ------
    ValidationError
        The file is missing, a directory, empty, binary, not UTF-8 or not well-formed CSV; a
        row has more fields than the header; a header appears twice; ``columns=`` names a
        header that is absent or maps two present headers onto one name.

    Examples
    --------
    >>> import pandas as pd
    >>> df = read_table(pd.DataFrame({"Emp": ["007"], "Slots": [2]}), "mentors",
    ...                 columns={"Emp": "id", "Slots": "capacity"})
    >>> list(df.columns), df.attrs["lines"]
    (['id', 'capacity'], None)
    """
    _check_table_name(table)
    header_line: int | None
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        lines = source.attrs.get("lines")
        lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        where = source.attrs.get("source", _DATAFRAME_SOURCE)
        headers = [h.strip() if isinstance(h, str) else str(h) for h in frame.columns]
        header_line = None
    elif isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        if where.lower().endswith((".parquet", ".pq")):
            frame = _read_parquet(where, table)
            headers = [h.strip() if isinstance(h, str) else str(h) for h in frame.columns]
            lines, header_line = None, None
        else:
            frame, headers, lines, header_line = _read_csv(where, table)
    else:
        raise ValidationError(Problem(table, None, None, None, type(source).__name__,
                                      "a pandas DataFrame or the path of a CSV file"))
    problems = _header_problems(table, headers, header_line, where)
    renamed, more = _rename(headers, columns, table, header_line, where)
    problems += more
    if not problems:
        problems = _header_problems(table, renamed, header_line, f"{where} after columns=")
    if problems:
        raise ValidationError(problems)
    if isinstance(source, (str, os.PathLike)) and lines is not None:
        frame = frame.mask(frame.apply(lambda s: s.str.strip() == "")) if len(frame) else frame
    frame.columns = renamed
    frame.index = pd.RangeIndex(len(frame))
    frame.attrs = {"lines": lines, "source": where, "table": table, "header_line": header_line}
    return frame


# ---------------------------------------------------------------------------------------------
# cell conversion


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
    blank = (out.str.strip() == "").fillna(False).to_numpy(dtype=bool)
    return out.mask(blank) if blank.any() else out


def _numeric(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, missing mask); unparsable cells are NaN but not missing."""
    raw = raw.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        missing = raw.isna().to_numpy()
        values = raw.astype("float64").to_numpy(na_value=np.nan) if missing.any() else raw.to_numpy(dtype=float)
        return values.astype(np.float64, copy=False), missing
    text = _as_text(raw)
    missing = text.isna().to_numpy()
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


# ---------------------------------------------------------------------------------------------
# validation


class _Report:
    """One table's problems, each naming the row by its id and file line."""

    def __init__(self, table: str, frame: pd.DataFrame):
        self.table = table
        lines = frame.attrs.get("lines")
        self.lines = None if lines is None else np.asarray(lines, dtype=np.int64)
        self.header_line = frame.attrs.get("header_line")
        self.source = frame.attrs.get("source", _DATAFRAME_SOURCE)
        self.ids: np.ndarray | None = None
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
        self.problems.append(Problem(self.table, column, row_id, line, _shown(value), expected))

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
                                         "the same as the rows above"))


def _check_headers(rep: _Report, headers: list[str], mine: dict[str, Column]) -> None:
    free = [h for h in headers if h not in COLUMN_BY_NAME and not h.startswith(COMPETENCY_PREFIX)]
    told: set[str] = set()
    for name, col in mine.items():
        if col.required and name not in headers:
            hint = _close(name, free, 0.6)
            text = (f"a {name!r} column; did you mean {hint!r}? map it with columns={{{hint!r}: {name!r}}}"
                    if hint else f"a {name!r} column; map the export's header with columns={{'<header>': {name!r}}}")
            told.add(hint)
            rep.add(name, None, headers, text, line=rep.header_line)
    absent = [n for n in mine if n not in headers]
    for h in free:
        if h in told:
            continue
        if h.lower().startswith(COMPETENCY_PREFIX):
            fixed = COMPETENCY_PREFIX + h[len(COMPETENCY_PREFIX):]
            rep.add(h, None, h, f"competency columns named 'comp_<name>' in lower case; map it with "
                                f"columns={{{h!r}: {fixed!r}}}", line=rep.header_line)
            continue
        hint = _close(h, absent, 0.8)
        if hint:
            rep.add(h, None, h, f"the canonical name {hint!r}; map it with columns={{{h!r}: {hint!r}}} "
                                f"(a header close to a canonical name is taken for a typo)",
                    line=rep.header_line)


def _check_ids(rep: _Report, raw: pd.Series) -> pd.Series:
    ids = _as_text(raw)
    rep.ids = ids.to_numpy(dtype=object)
    missing = ids.isna().to_numpy()
    rep.rows("id", missing, raw, "a non-empty id")
    later = ids.duplicated(keep="first").to_numpy() & ~missing
    if later.any():
        dup = ids.duplicated(keep=False).to_numpy() & ~missing
        positions = np.flatnonzero(dup)
        groups = pd.Series(positions).groupby(ids.to_numpy(dtype=object)[dup], sort=False).indices

        def expected(k: int) -> str:
            others = [int(positions[p]) for p in groups[rep.ids[k]] if positions[p] != k]
            return (f"a unique id within {rep.table}; it is also on "
                    + ", ".join(rep.where(o) for o in others[:5]))

        rep.rows("id", later, raw, expected)
    return ids


def _check_numeric(rep: _Report, name: str, raw: pd.Series, kind: str, low, high,
                   required: bool) -> np.ndarray:
    values, missing = _numeric(raw)
    if required:
        rep.rows(name, missing, raw, "a number (required)")
    bad = ~missing & ~np.isfinite(values)
    rep.rows(name, bad, raw, "a number" if kind == "float" else "a whole number")
    ok = np.isfinite(values)
    if kind == "int":
        frac = ok & (values != np.floor(values))
        rep.rows(name, frac, raw, "a whole number")
    if low is not None or high is not None:
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        out = ok & ((values < lo) | (values > hi))
        text = (f"a value between {lo:g} and {hi:g}" if low is not None and high is not None
                else f"a value >= {lo:g}" if low is not None else f"a value <= {hi:g}")
        rep.rows(name, out, raw, text)
    return values


def _check_timezones(rep: _Report, name: str, raw: pd.Series) -> pd.Series:
    text = _as_text(raw)
    zones = _time_zones()
    if not zones:  # no tz database on this system: nothing to check against
        return text
    present = text.notna().to_numpy()
    known = _isin(text.to_numpy(dtype=object), pd.Index(sorted(zones)))
    cells = text.to_numpy(dtype=object)

    def expected(k: int) -> str:
        hint = _close(cells[k], sorted(zones), 0.6)
        return "an IANA time zone such as 'Europe/London'" + (f"; did you mean {hint!r}?" if hint else "")

    rep.rows(name, present & ~known, raw, expected)
    return text


def _exploded(lists: pd.Series) -> pd.Series:
    """The ids of an id-list column, one per row, indexed by row position."""
    flat = lists.explode()
    return flat[flat.notna()]


def _check_idlist(rep: _Report, name: str, raw: pd.Series) -> pd.Series:
    lists = _idlist(raw)
    flat = _exploded(lists)
    if len(flat):
        twice = pd.DataFrame({"row": flat.index, "id": flat.to_numpy()}).duplicated().to_numpy()
        if twice.any():
            rows = flat.index.to_numpy()[twice]
            ids = flat.to_numpy()[twice]
            first: dict[int, str] = {}
            for r, i in zip(rows, ids):
                first.setdefault(int(r), i)
            mask = np.zeros(len(lists), dtype=bool)
            mask[list(first)] = True
            rep.rows(name, mask, raw, lambda k: f"each id at most once in the list ({first[k]!r} is repeated)")
    return lists


def _validate_one(frame: pd.DataFrame, table: str) -> tuple[pd.DataFrame, _Report]:
    """Check one read table; return its canonical frame and the problems found."""
    rep = _Report(table, frame)
    mine = _table_columns(table)
    headers = [str(h) for h in frame.columns]
    _check_headers(rep, headers, mine)
    if len(frame) == 0:
        rep.add(None, None, "0 rows", f"at least one row in {rep.source}")
        return frame, rep
    out: dict[str, pd.Series | np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    for name in headers:
        raw = frame[name].reset_index(drop=True)
        col = mine.get(name)
        if name.startswith(COMPETENCY_PREFIX) and len(name) > len(COMPETENCY_PREFIX):
            out[name] = numbers[name] = _check_numeric(rep, name, raw, "float", *COMPETENCY_RANGE, False)
        elif col is None:
            out[name] = _as_text(raw)  # a group attribute, or a column of the other table
        elif col.kind == "id":
            out[name] = _check_ids(rep, raw)
        elif col.kind in _NUMERIC:
            out[name] = numbers[name] = _check_numeric(rep, name, raw, col.kind, col.low, col.high,
                                                       col.required)
        elif col.kind == "tz":
            out[name] = _check_timezones(rep, name, raw)
        elif col.kind == "idlist":
            out[name] = _check_idlist(rep, name, raw)
        else:
            out[name] = _as_text(raw)
    _check_rows(rep, frame, numbers)
    result = pd.DataFrame({k: (v if isinstance(v, pd.Series) else pd.Series(v, dtype=np.float64))
                           for k, v in out.items()})
    result.index = pd.RangeIndex(len(result))
    result.attrs = {"lines": rep.lines, "source": rep.source, "table": table}
    return result, rep


def _check_rows(rep: _Report, frame: pd.DataFrame, numbers: dict[str, np.ndarray]) -> None:
    """Checks that involve several columns of one row, or a whole column."""
    traits = [numbers[t] for t in BIG_FIVE if t in numbers]
    if traits:
        stacked = np.column_stack(traits)
        with np.errstate(invalid="ignore"):
            if np.nanmax(np.where(np.isfinite(stacked), stacked, np.nan), initial=-np.inf) > 1:
                for t in BIG_FIVE:
                    if t in numbers:
                        v = numbers[t]
                        mixed = np.isfinite(v) & (v >= 0) & (v < 1) & (v != np.floor(v))
                        rep.rows(t, mixed, frame[t], "a value on the 1-5 scale, as the table's other Big "
                                                     "Five values above 1 are (the two scales are mixed)")
    has_lat, has_lon = "latitude" in numbers, "longitude" in numbers
    if has_lat != has_lon:
        given, lacking = ("latitude", "longitude") if has_lat else ("longitude", "latitude")
        rep.add(lacking, None, None, f"a {lacking!r} column alongside {given!r}", line=rep.header_line)
    elif has_lat:
        lat, lon = ~np.isnan(numbers["latitude"]), ~np.isnan(numbers["longitude"])
        rep.rows("longitude", lat & ~lon, frame["longitude"], "a longitude, as the row has a latitude")
        rep.rows("latitude", lon & ~lat, frame["latitude"], "a latitude, as the row has a longitude")
    if "min_capacity" in numbers and "capacity" in numbers:
        low, cap = numbers["min_capacity"], numbers["capacity"]
        with np.errstate(invalid="ignore"):
            over = (low > cap) & (cap >= 0)  # a negative capacity is reported on its own
        rep.rows("min_capacity", over, frame["min_capacity"],
                 lambda k: f"a minimum no greater than the capacity {cap[k]:g}")


def _managers(frame: pd.DataFrame) -> pd.Series:
    """manager id by row (text, NaN where none)."""
    if "manager_id" not in frame.columns:
        return pd.Series(np.full(len(frame), np.nan, dtype=object), dtype="str")
    return _as_text(frame["manager_id"])


def _check_across(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """Checks between the two tables: ids in lists, managers, the management chain."""
    ids = {t: frames[t]["id"] for t in TABLES}
    index = {t: pd.Index(ids[t].dropna()) for t in TABLES}
    for (table, column), target in _IDLIST_TARGET.items():
        frame, rep = frames[table], reps[table]
        if column not in frame.columns:
            continue
        flat = _exploded(frame[column])
        unknown = ~_isin(flat.to_numpy(), index[target])
        if not unknown.any():
            continue
        person = target[:-1]
        small = len(index[target]) <= 5000  # a did-you-mean over a huge table costs too much
        for k, value in list(zip(flat.index[unknown], flat.to_numpy()[unknown]))[:MAX_PROBLEMS]:
            hint = _close(value, index[target], 0.8) if small else None
            rep.add(column, int(k), value, f"a {person} id (no {person} has id {value!r})"
                    + (f"; did you mean {hint!r}?" if hint else ""))
    # the org chart: both tables, a person in both is one person
    everyone = index["mentees"].append(index["mentors"]).unique()
    managers = {t: _managers(frames[t]) for t in TABLES}
    for t in TABLES:
        m = managers[t]
        unknown = m.notna().to_numpy() & ~_isin(m.to_numpy(dtype=object), everyone)
        reps[t].rows("manager_id", unknown, m, "the id of a person in the mentors or mentees table, or empty")
    both = pd.DataFrame({"id": ids["mentees"], "mentee_manager": managers["mentees"],
                         "row": np.arange(len(ids["mentees"]))}).merge(
        pd.DataFrame({"id": ids["mentors"], "mentor_manager": managers["mentors"],
                      "row_mentor": np.arange(len(ids["mentors"]))}), on="id")
    clash = both[both["mentee_manager"].notna() & both["mentor_manager"].notna()
                 & (both["mentee_manager"] != both["mentor_manager"])]
    for r in clash.head(MAX_PROBLEMS).itertuples():
        reps["mentees"].add("manager_id", int(r.row), r.mentee_manager,
                            f"the same manager as in the mentors table ({r.mentor_manager!r} on "
                            f"{reps['mentors'].where(int(r.row_mentor))}): one id is one person")
    for cycle in _manager_cycles(frames["mentors"], frames["mentees"], everyone, managers)[:MAX_PROBLEMS]:
        table = "mentees" if cycle[0] in index["mentees"] else "mentors"
        k = _row_of(ids[table], cycle[0])
        chain = " manages ".join(repr(i) for i in _chain_text(cycle))
        reps[table].add("manager_id", k, managers[table].iloc[k],
                        f"a management chain without a cycle; found {chain}")


def _row_of(ids: pd.Series, value: str) -> int:
    return int(np.flatnonzero((ids == value).to_numpy())[0])


def _chain_text(cycle: list[str]) -> list[str]:
    """['A', 'B'] (A's manager is B, B's is A) -> B manages A manages B, read top-down."""
    down = cycle[::-1]
    return [*down, down[0]]


def _manager_cycles(mentors: pd.DataFrame, mentees: pd.DataFrame, everyone: pd.Index,
                    managers: dict[str, pd.Series]) -> list[list[str]]:
    """Each cycle of the management chain as [person, their manager, ...], smallest id first.

    Pointer doubling over the parent array finds, in log(depth) vectorised steps, the people
    whose chain never reaches a top; networkx then only sees those few.
    """
    n = len(everyone)
    parent = np.full(n, -1, dtype=np.int64)
    for frame, table in ((mentors, "mentors"), (mentees, "mentees")):
        who = everyone.get_indexer(frame["id"].to_numpy(dtype=object))
        boss = everyone.get_indexer(managers[table].fillna("").to_numpy(dtype=object))
        keep = (who >= 0) & (boss >= 0)
        parent[who[keep]] = boss[keep]
    jump = parent.copy()
    for _ in range(max(1, int(math.ceil(math.log2(n + 1)))) + 1):
        jump = np.where(jump >= 0, jump[np.maximum(jump, 0)], -1)
    stuck = np.flatnonzero(jump >= 0)
    if not len(stuck):
        return []
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_edges_from(zip(stuck.tolist(), parent[stuck].tolist()))  # person -> manager
    cycles = []
    for component in nx.strongly_connected_components(graph):
        start = min(component, key=lambda i: everyone[i])
        if len(component) == 1 and parent[start] != start:
            continue
        cycle, node = [], start
        while True:
            cycle.append(str(everyone[node]))
            node = int(parent[node])
            if node == start:
                break
        cycles.append(cycle)
    return sorted(cycles)


def validate_tables(mentors, mentees, columns: Mapping[str, str] | None = None, *,
                    mentor_columns: Mapping[str, str] | None = None,
                    mentee_columns: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate the mentors and mentees tables; return canonical copies.

    Parameters
    ----------
    mentors, mentees : pandas.DataFrame or path
        The two tables, as accepted by :func:`read_table`. The inputs are never modified.
    columns : mapping of str to str, optional
        Export header -> canonical name, for both tables.
    mentor_columns, mentee_columns : mapping of str to str, optional
        Per-table mappings; their entries override those of ``columns``.

    Returns
    -------
    (mentors, mentees) : tuple of pandas.DataFrame
        New frames in the canonical form described in the module docstring: canonical names,
        ``RangeIndex``, ``id`` as text, numeric columns as float64 (``"int"`` columns hold whole
        numbers), id lists as tuples, other columns passed through as text,
        ``attrs["lines"]`` kept.

    Raises
    ------
    ValidationError
        With every problem found in both tables (up to ``MAX_PROBLEMS`` per check and table),
        each naming the table, row id, file line, column, value received and what was
        expected: unreadable file; missing required column (``id``; ``capacity`` for
        mentors) or a header close to a canonical name; duplicate header or a bad mapping; an
        empty table; empty or duplicate ids; a missing capacity; text in a numeric column; a
        fraction in an integer column; a value out of range (see ``describe_columns()``);
        latitude without longitude; mixed Big Five scales; an unknown time zone; an unknown or
        repeated id in a preference list; a manager that is nobody; a person with two different
        managers; a management chain with a cycle; ``min_capacity`` above ``capacity``.

    Examples
    --------
    >>> import pandas as pd
    >>> mentors = pd.DataFrame({"id": ["007"], "capacity": [2]})
    >>> mentees = pd.DataFrame({"id": ["E1"], "preferences": ["007"]})
    >>> m, e = validate_tables(mentors, mentees)
    >>> m["capacity"].dtype, e.loc[0, "preferences"]
    (dtype('float64'), ('007',))
    """
    maps = {"mentors": {**(columns or {}), **(mentor_columns or {})} or None,
            "mentees": {**(columns or {}), **(mentee_columns or {})} or None}
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    reps: dict[str, _Report] = {}
    for table, source in (("mentors", mentors), ("mentees", mentees)):
        try:
            raw = read_table(source, table, maps[table])
        except ValidationError as exc:
            problems += exc.problems
            continue
        frames[table], reps[table] = _validate_one(raw, table)
    if len(frames) == 2 and all("id" in f.columns and len(f) for f in frames.values()):
        _check_across(frames, reps)
    for table in TABLES:
        if table in reps:
            problems += reps[table].problems
    if problems:
        raise ValidationError(problems)
    return frames["mentors"], frames["mentees"]


def manager_edges(mentors: pd.DataFrame, mentees: pd.DataFrame):
    """The org chart: a directed graph with an edge manager -> report for each manager_id.

    Parameters
    ----------
    mentors, mentees : pandas.DataFrame
        Validated tables (``id``; optional ``manager_id``). A person in both tables is one
        node (same id, same person).

    Returns
    -------
    networkx.DiGraph
        Nodes: every id of either table (mentees first, then mentors, in row order), plus any
        manager id not in the tables (there is none after validation). Edges: manager -> report.
        A mentor is in a mentee's management line when the mentor is an ancestor of the mentee
        (``networkx.ancestors(graph, mentee_id)``).

    Examples
    --------
    >>> import pandas as pd
    >>> g = manager_edges(pd.DataFrame({"id": ["B"], "manager_id": [None]}),
    ...                   pd.DataFrame({"id": ["A"], "manager_id": ["B"]}))
    >>> sorted(g.edges())
    [('B', 'A')]
    """
    import networkx as nx

    graph = nx.DiGraph()
    for frame in (mentees, mentors):
        ids = _as_text(frame["id"]).to_numpy(dtype=object)
        graph.add_nodes_from(i for i in ids if isinstance(i, str))
    for frame in (mentees, mentors):
        ids, boss = _as_text(frame["id"]), _managers(frame)
        keep = (ids.notna() & boss.notna()).to_numpy()
        graph.add_edges_from(zip(boss[keep].tolist(), ids[keep].tolist()))
    return graph


def describe_columns() -> pd.DataFrame:
    """The canonical columns of both input tables, one row each, for documentation.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind``, ``tables`` (``"mentors, mentees"``, ...), ``required``,
        ``range`` (e.g. ``"0..5"``, ``">= 0"``, ``""``) and ``doc``; the last row describes the
        ``comp_<name>`` competency columns.

    Examples
    --------
    >>> describe_columns().set_index("name").loc["capacity", "range"]
    '>= 0'
    """
    def span(low, high) -> str:
        if low is not None and high is not None:
            return f"{low:g}..{high:g}"
        if low is not None:
            return f">= {low:g}"
        return f"<= {high:g}" if high is not None else ""

    rows = [{"name": c.name, "kind": c.kind, "tables": ", ".join(c.tables), "required": c.required,
             "range": span(c.low, c.high), "doc": c.doc} for c in COLUMNS]
    rows.append({"name": COMPETENCY_PREFIX + "<competency>", "kind": "float", "tables": ", ".join(BOTH),
                 "required": False, "range": span(*COMPETENCY_RANGE),
                 "doc": "mastery level of a competency of the career framework (fractions allowed)"})
    return pd.DataFrame(rows, columns=["name", "kind", "tables", "required", "range", "doc"])


def prune_references(mentors: pd.DataFrame, mentees: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Remove references to people who are not in either table, and say which were removed.

    Between pairing rounds people join and leave, so a manager id or a stated preference can
    name someone who has gone. :func:`validate_tables` rejects such references (an unknown id
    is usually a typo); this function is the explicit way to drop them, for tables that are
    known to be a subset of the organisation. Works on canonical column names.

    Parameters
    ----------
    mentors, mentees : DataFrame
        Tables with canonical columns; never modified.

    Returns
    -------
    (mentors, mentees, removed)
        Copies with ``manager_id`` cleared where it names an absent person and absent ids taken
        out of ``preferences`` (mentors' name mentees, mentees' name mentors) and
        ``manager_suggestions``; ``removed`` lists each dropped reference: ``table``, ``id``,
        ``column``, ``value``.
    """
    mentors, mentees = mentors.copy(), mentees.copy()
    ids = {"mentors": set(mentors["id"].astype(str)), "mentees": set(mentees["id"].astype(str))}
    everyone = ids["mentors"] | ids["mentees"]
    removed = []
    for table, frame, other in (("mentors", mentors, "mentees"), ("mentees", mentees, "mentors")):
        if "manager_id" in frame.columns:
            mgr = frame["manager_id"]
            text = mgr.where(mgr.notna(), "").astype(str).str.strip()
            gone = (text != "") & ~text.isin(everyone)
            removed += [(table, str(i), "manager_id", v) for i, v in zip(frame["id"][gone], text[gone])]
            frame.loc[gone, "manager_id"] = ""
        for col in ("preferences", "manager_suggestions"):
            if col not in frame.columns:
                continue
            kept_lists = []
            for pid, value in zip(frame["id"], frame[col]):
                if isinstance(value, str):
                    items = [x.strip() for x in value.split(";") if x.strip()]
                elif isinstance(value, (list, tuple)):
                    items = [str(x) for x in value]
                else:
                    kept_lists.append(value)
                    continue
                keep = [x for x in items if x in ids[other]]
                removed += [(table, str(pid), col, x) for x in items if x not in ids[other]]
                kept_lists.append(";".join(keep) if isinstance(value, str) else tuple(keep))
            frame[col] = kept_lists
    return mentors, mentees, pd.DataFrame(removed, columns=["table", "id", "column", "value"])
