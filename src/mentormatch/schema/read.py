"""Reading one input table from a DataFrame, a CSV, an .xlsx or a Parquet file, with the export
-> canonical header mapping. The CSV reader itself, with its checks on quoting, is in
``csvfile``."""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .columns import (_DATAFRAME_SOURCE, COLUMN_BY_NAME, MAX_PROBLEMS, _check_table_name, _close,
                      _table_columns)
from .csvfile import _file_problem, _frame_of_records, _read_csv


def _sha256(path: str) -> str | None:
    """The SHA-256 of a file's bytes (for the provenance record), None when unreadable."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: str, table: str) -> tuple[pd.DataFrame, list[str], np.ndarray, int, str]:
    """The first worksheet of an .xlsx workbook, as text cells; lines are the sheet's rows."""
    if not os.path.exists(path):
        raise _file_problem(table, path, "an existing .xlsx file (no such file)")
    try:
        import openpyxl
    except ImportError as exc:
        raise _file_problem(table, path, "a CSV file (reading .xlsx needs openpyxl: "
                                         "pip install 'mentormatch-pairing[xlsx]')") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a bad workbook
        raise _file_problem(table, path, f"a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        sheet = book.worksheets[0]
        header: list[str] | None = None
        header_line = 1
        rows: list[list[str]] = []
        lines: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not "".join(cells).strip():
                continue
            if header is None:
                header, header_line = [c.strip() for c in cells], number
                while header and not header[-1]:
                    header.pop()  # trailing empty header cells of a formatted sheet
                continue
            rows.append(cells)
            lines.append(number)
    finally:
        book.close()
    if header is None:
        raise _file_problem(table, path, "a worksheet with a header row and rows (the first sheet is empty)")
    frame, problems = _frame_of_records(table, header, rows, lines)
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS])
    return frame, header, np.asarray(lines, dtype=np.int64), header_line, "xlsx"


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


def read_table(source, table: str, columns: Mapping[str, str] | None = None, *,
               encoding: str | None = None) -> pd.DataFrame:
    """Read one input table (mentors or mentees) without validating its values.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A CSV file (``,`` separated, or ``;``/tab when the header line has no comma), an
        ``.xlsx`` workbook (its first sheet; needs openpyxl), a ``.parquet`` file (needs
        pyarrow), or a DataFrame (copied, never modified); chosen by the file's extension.
    table : {"mentors", "mentees", "org"}
        Which table this is; used in messages and for the mapping below.
    columns : mapping of str to str, optional
        Export header -> canonical column name, e.g. ``{"Employee Number": "id"}``. An entry
        whose header is absent is an error, unless it names a canonical column of the other
        table (so one mapping can serve both tables).
    encoding : str, optional
        The CSV's encoding. None recognises a byte-order mark (UTF-8, UTF-16), UTF-16 without
        one, UTF-8, and else cp1252 (Excel's "CSV" on Windows); ``attrs["encoding"]`` says
        which was used.

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
        The file is missing, a directory, empty, binary, not in the encoding or not
        well-formed CSV; a quote left open swallows the lines after it; a row has more fields
        than the header; a header appears twice; ``columns=`` names a
        header that is absent or maps two present headers onto one name.

    Examples
    --------
    >>> import pandas as pd
    >>> df = read_table(pd.DataFrame({"Emp": ["007"], "Slots": [2]}), "mentors",
    ...                 columns={"Emp": "id", "Slots": "capacity"})
    >>> list(df.columns), df.attrs["lines"]
    (['id', 'capacity'], None)
    """
    if table != "org":
        _check_table_name(table)
    header_line: int | None
    used = None
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
        elif where.lower().endswith((".xlsx", ".xlsm")):
            frame, headers, lines, header_line, used = _read_xlsx(where, table)
        else:
            frame, headers, lines, header_line, used = _read_csv(where, table, encoding)
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
    digest = source.attrs.get("sha256") if isinstance(source, pd.DataFrame) else _sha256(where)
    frame.attrs = {"lines": lines, "source": where, "table": table, "header_line": header_line,
                   "encoding": used, "sha256": digest,
                   "headers": {new: old for old, new in zip(headers, renamed) if new != old}}
    return frame
