"""Reading one input table from a DataFrame, a CSV or a Parquet file, with the export ->
canonical header mapping."""
from __future__ import annotations

import csv
import io
import os
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .columns import (_DATAFRAME_SOURCE, COLUMN_BY_NAME, MAX_PROBLEMS, _check_table_name, _close,
                      _table_columns)


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

