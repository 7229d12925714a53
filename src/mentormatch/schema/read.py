"""Reading one input table from a DataFrame, a CSV or a Parquet file, with the export ->
canonical header mapping."""
from __future__ import annotations

import codecs
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


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def _decode(data: bytes, table: str, path: str, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used). Without ``encoding``: a byte-order mark decides (UTF-8, UTF-16),
    then UTF-16 without a mark (every other byte NUL), then UTF-8, then cp1252."""
    if encoding is not None:
        name = codecs.lookup(encoding).name
        if name == "utf-8":
            name = "utf-8-sig"  # a byte-order mark is not part of the first header
        try:
            return data.decode(name), encoding
        except UnicodeDecodeError as exc:
            raise _file_problem(table, path, f"a file in {encoding} (byte {data[exc.start]:#04x} on "
                                             f"line {_line_of(data, exc.start)} is not {encoding})") from exc
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise _file_problem(table, path, f"a UTF-16 file, as its byte-order mark says ({exc.reason} "
                                             f"at byte {exc.start})") from exc
    head = data[:400]
    if len(head) >= 4 and b"\x00" in head:
        for name, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
            if zeros.count(0) >= 0.9 * len(zeros):
                try:
                    return data.decode(name), name
                except UnicodeDecodeError:
                    break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as first:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise _file_problem(table, path, f"a CSV file in UTF-8, UTF-16 or cp1252 (byte "
                                             f"{data[first.start]:#04x} on line {_line_of(data, first.start)} "
                                             "is not UTF-8; export as CSV UTF-8, or name the "
                                             "encoding with encoding=)") from first


def _read_csv(path: str, table: str, encoding: str | None = None
              ) -> tuple[pd.DataFrame, list[str], np.ndarray, int, str]:
    """(frame of str, raw headers, line of each row, header line, encoding) from a CSV file."""
    if not os.path.exists(path):
        raise _file_problem(table, path, "an existing CSV file (no such file)")
    if os.path.isdir(path):
        raise _file_problem(table, path, "a CSV file, not a directory")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise _file_problem(table, path, f"a readable CSV file ({exc.strerror or exc})") from exc
    if data.startswith(b"PK\x03\x04"):
        raise _file_problem(table, path, "a CSV text file (found a zip archive: an .xlsx workbook? "
                                         "name it .xlsx, or export it as CSV UTF-8)")
    text, used = _decode(data, table, path, encoding)
    if "\x00" in text:
        raise _file_problem(table, path, "a CSV text file (found binary data: a spreadsheet or "
                                         "archive? export it as CSV UTF-8)")
    if not text.strip():
        raise _file_problem(table, path, "a CSV file with a header line and rows (the file is empty)")
    delimiter = _sniff_delimiter(text.lstrip("\r\n").split("\n", 1)[0])
    if '"' not in text:  # no quoting, so one record per non-blank line: pandas' C parser
        plain = _read_plain(text, delimiter)
        if plain is not None:
            return (*plain, used)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    end = 0  # each record starts on the line after the previous one ended
    spans: list[int] = []  # lines where a record runs over several lines
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or (not record[0].strip() and not "".join(record).strip()):
                continue  # blank lines and all-empty rows (",,,") carry nothing
            if header is None:
                header, header_line = record, start
                continue
            if end > start:
                _check_merged(record, start, end, len(header), table, path)
                spans.append(start)
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise _file_problem(table, path, f"a well-formed CSV file (line {reader.line_num}: {exc})") from exc
    assert header is not None  # text.strip() is not empty
    if spans:  # a record over several lines: were rows joined by a quote left open?
        _check_strict(text, delimiter, table, path)
        stray = _quote_scan(text, delimiter)[1]
        if stray is not None:
            raise ValidationError(Problem(
                table, None, None, stray, path,
                f"quotes only around whole cells: line {stray} has a quote inside a cell, in a file "
                f"where a quoted cell runs over lines (line {spans[0]}); a quote left open there "
                "joins rows (quote the whole cell and double the quote inside it)"))
        for record, line in zip(rows, lines):
            if len(record) != len(header):
                raise ValidationError(Problem(
                    table, None, None, line, path,
                    f"{len(header)} fields on line {line}, as in the header (found {len(record)}): "
                    f"in a file where a quoted cell runs over lines (line {spans[0]}), a row of "
                    "another width means a quote left open joined or split rows"))
    if text.count('"') % 2 and _quote_scan(text, delimiter)[0]:  # opened, never closed
        line = lines[-1] if lines else header_line
        raise ValidationError(Problem(table, None, None, line, path,
                                      f"a closed quote: the quote opened on line {line} is never "
                                      "closed, so the lines after it would be read as one cell"))
    frame, problems = _frame_of_records(table, [h.strip() for h in header], rows, lines)
    if problems:
        raise ValidationError(problems[:MAX_PROBLEMS])
    return frame, frame.columns.tolist(), np.asarray(lines, dtype=np.int64), header_line, used


def _check_strict(text: str, delimiter: str, table: str, path: str) -> None:
    """Refuse quoting that only a lenient reader accepts, in a file where a record runs over
    several lines: a quote left open there joins the rows after it into one cell."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    end = 0
    try:
        for _ in reader:
            end = reader.line_num
    except csv.Error as exc:
        start = end + 1  # the record that fails began on the line after the last good one
        raise ValidationError(Problem(
            table, None, None, start, path,
            f"well-formed quotes in the row from line {start} ({exc} by line {reader.line_num}); "
            "a quote left open joins the lines after it into one cell (close it, or double a "
            "quote inside a quoted cell)")) from exc


def _quote_scan(text: str, delimiter: str) -> tuple[bool, int | None]:
    """(whether the text ends inside a quoted cell, the first line with a quote inside an
    unquoted cell), reading quotes as the csv module does: a quote opens a cell only at its
    start; inside, a doubled quote is a quote and a single one closes it. Visits only quotes,
    delimiters and line ends; run only when the quoting is in doubt."""
    import re

    inside, at_start, line, stray = False, True, 1, None
    marks = re.finditer('["\\n\\r' + re.escape(delimiter) + "]", text)
    previous = -1
    for m in marks:
        k, c = m.start(), m.group()
        if not inside and k > previous + 1:
            at_start = False  # text since the last mark
        if c == "\n":
            line += 1
        if inside:
            if c == '"':
                if k + 1 < len(text) and text[k + 1] == '"':
                    previous = k + 1
                    next(marks, None)  # the second quote of the pair
                    continue
                inside, at_start = False, False
        elif c == '"':
            if at_start:
                inside = True
            elif stray is None:
                stray = line
            at_start = False
        else:
            at_start = True
        previous = k
    return inside, stray


def _check_merged(record: list[str], start: int, end: int, width: int, table: str,
                  path: str) -> None:
    """Refuse a record over several lines with more fields than the header: a quote left open
    has joined the rows after it into one cell, and their fields spill over (rows lost without
    a word otherwise). A record on one line may end in empty extra fields (trailing commas)."""
    if len(record) > width:
        raise ValidationError(Problem(
            table, None, None, start, path,
            f"one row per line: the row on line {start} runs to line {end} through a quoted cell "
            f"and has {len(record)} fields against {width} in the header, so a quote was left "
            "open and joined rows (close it, or double a quote inside a quoted cell)"))


def _frame_of_records(table: str, header: list[str], rows: list[list], lines: list[int]
                      ) -> tuple[pd.DataFrame, list[Problem]]:
    """A str frame of the records (short rows padded, extra empty fields dropped)."""
    problems: list[Problem] = []
    width = len(header)
    for k, record in enumerate(rows):
        if len(record) > width:
            extra = record[width:]
            if any(str(f).strip() for f in extra if f is not None):
                problems.append(Problem(table, None, None, lines[k], extra,
                                        f"at most {width} fields, as in the header line"))
            rows[k] = record[:width]
        elif len(record) < width:
            rows[k] = list(record) + [""] * (width - len(record))
    cols = list(zip(*rows)) if rows else [()] * width
    # positional construction: duplicate headers must survive to be reported
    frame = pd.DataFrame({k: pd.Series(c, dtype="str") for k, c in enumerate(cols)})
    if frame.shape[1] != width:  # no rows and no columns
        frame = pd.DataFrame({k: pd.Series([], dtype="str") for k in range(width)})
    frame.columns = header
    return frame, problems


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
                   "encoding": used, "sha256": digest}
    return frame

