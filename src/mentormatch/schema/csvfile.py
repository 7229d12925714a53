"""Reading a CSV file into a frame of text cells: the encoding, the delimiter, and the checks
on quoting that keep a quote left open from joining rows without a word.

``_read_csv`` is the CSV reader behind ``read.read_table``; ``_frame_of_records`` (records to a
text frame) also serves the .xlsx reader there.
"""
from __future__ import annotations

import codecs
import csv
import io
import os

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .columns import MAX_PROBLEMS


def _file_problem(table: str, path: str, expected: str) -> ValidationError:
    return ValidationError(Problem(table, None, None, None, path, expected))


def _sniff_delimiter(first_line: str) -> str:
    """',' unless the header has none and another usual delimiter is present."""
    if "," in first_line:
        return ","
    counts = {d: first_line.count(d) for d in (";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ","


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
