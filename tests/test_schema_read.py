"""Reading real HR exports (mentormatch.schema.read): merged rows, encodings, spreadsheets,
decimal commas, ids with spaces. Each refusal names the table, row id and line, column, value
and what was expected."""
from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.schema import read_table, validate_tables
from strategies import csv_tables

MENTORS = "id,name,capacity\nM1,Ada,2\nM2,Bo,1\n"


def refused(*args, **kwargs):
    with pytest.raises(ValidationError) as info:
        validate_tables(*args, **kwargs)
    return info.value.problems


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_an_unclosed_quote_that_swallows_rows_is_refused_naming_its_line(tmp_path):
    mentees = write(tmp_path, "mentees.csv", 'id,name,level\nE1,"Ann,1\nE2,Bob,2\nE3,Cy,1\nE4,"Di",2\n')
    (p,) = refused(write(tmp_path, "mentors.csv", MENTORS), mentees)
    assert (p.table, p.value) == ("mentees", str(mentees))
    assert "line 5" in p.expected and "quote left open joins" in p.expected


def test_a_quote_never_closed_to_the_end_of_the_file_is_refused(tmp_path):
    mentees = write(tmp_path, "mentees.csv", 'id,name\nE1,Ann\nE2,"Bob\n')
    (p,) = refused(write(tmp_path, "mentors.csv", MENTORS), mentees)
    assert (p.table, p.line) == ("mentees", 3) and "never closed" in p.expected


def test_a_quoted_cell_over_two_lines_is_still_one_row(tmp_path):
    path = write(tmp_path, "mentees.csv", 'id,note,level\nE1,"line one\nline two",1\nE2,x,2\n')
    df = read_table(path, "mentees")
    assert df["id"].tolist() == ["E1", "E2"] and df.attrs["lines"].tolist() == [2, 4]


@pytest.mark.parametrize("encoding, name", [("utf-16", "utf-16"), ("cp1252", "cp1252")])
def test_excel_encodings_are_recognised_and_named(tmp_path, encoding, name):
    text = "id,name,capacity\nM1,Zoë Müller,2\nM2,Bo,1\n"
    mentors = write(tmp_path, "mentors.csv", text, encoding)
    m, e = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}))
    assert m["name"].tolist() == ["Zoë Müller", "Bo"]
    assert m.attrs["encoding"] == name
    assert any(f"read as {name}" in n and "mentors.csv" in n for n in m.attrs["notes"])


def test_utf16_without_a_byte_order_mark(tmp_path):
    mentors = write(tmp_path, "mentors.csv", "id,capacity\nM1,2\n", "utf-16-le")
    m, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}))
    assert m["id"].tolist() == ["M1"] and m.attrs["encoding"] == "utf-16-le"


def test_an_encoding_named_by_the_caller_is_used_and_a_wrong_one_names_the_line(tmp_path):
    mentors = write(tmp_path, "mentors.csv", "id,name,capacity\nM1,Zoë,2\n", "cp1252")
    m, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}), encoding="latin-1")
    assert m.loc[0, "name"] == "Zoë"
    (p,) = refused(mentors, pd.DataFrame({"id": ["E1"]}), encoding="utf-8")
    assert p.table == "mentors" and "line 2" in p.expected and "utf-8" in p.expected
    (p,) = refused(mentors, pd.DataFrame({"id": ["E1"]}), encoding="klingon")
    assert (p.column, p.value) == ("encoding", "klingon") and "cp1252" in p.expected


def test_xlsx_is_read_by_its_extension_with_sheet_rows_as_lines(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "capacity", "level"])
    sheet.append([1479, 2, 5])
    sheet.append([])
    sheet.append(["0042", 1.0, 4.5])
    book.save(tmp_path / "mentors.xlsx")
    mentors = tmp_path / "mentors.xlsx"
    (p,) = refused(mentors, pd.DataFrame({"id": ["E1"]}))
    assert (p.table, p.row_id, p.line, p.column, p.value) == ("mentors", "0042", 4, "level", "4.5")
    assert p.expected == "a whole number"
    sheet.cell(row=4, column=3, value=4)
    book.save(mentors)
    m, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}))
    assert m["id"].tolist() == ["1479", "0042"] and m["capacity"].tolist() == [2.0, 1.0]
    assert m.attrs["lines"].tolist() == [2, 4]


def test_a_workbook_named_csv_is_refused_with_the_reason(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["id", "capacity"])
    book.save(tmp_path / "mentors.csv")
    (p,) = refused(tmp_path / "mentors.csv", pd.DataFrame({"id": ["E1"]}))
    assert p.table == "mentors" and ".xlsx" in p.expected


def test_decimal_comma_option(tmp_path):
    mentors = write(tmp_path, "mentors.csv", "id;capacity;years_experience\nM1;2;12,5\nM2;1;3\n")
    (p,) = refused(mentors, pd.DataFrame({"id": ["E1"]}))
    assert (p.table, p.row_id, p.line, p.column, p.value) == ("mentors", "M1", 2, "years_experience", "12,5")
    assert "input.decimal = ','" in p.expected
    m, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}), decimal=",")
    assert m["years_experience"].tolist() == [12.5, 3.0]


def test_ids_with_surrounding_spaces_are_refused_or_trimmed(tmp_path):
    mentors = write(tmp_path, "mentors.csv", "id,capacity\nE001,1\nM2 ,1\n")
    mentees = pd.DataFrame({"id": ["E1"], "manager_id": ["M2"]})
    (p,) = refused(mentors, mentees)
    assert (p.table, p.row_id, p.line, p.column, p.value) == ("mentors", "M2 ", 3, "id", "M2 ")
    assert "without spaces" in p.expected and "trim_ids" in p.expected
    m, e = validate_tables(mentors, mentees, trim_ids=True)
    assert m["id"].tolist() == ["E001", "M2"] and e.loc[0, "manager_id"] == "M2"


def test_two_people_e001_and_e001_space_never_both_exist():
    mentors = pd.DataFrame({"id": ["E001", "E001 "], "capacity": [1, 1]})
    spaces, twice = refused(mentors, pd.DataFrame({"id": ["X"]}))
    assert (spaces.row_id, spaces.column, spaces.value) == ("E001 ", "id", "E001 ")
    assert twice.row_id == "E001" and "unique id" in twice.expected
    (p,) = refused(mentors, pd.DataFrame({"id": ["X"]}), trim_ids=True)
    assert (p.row_id, p.column) == ("E001", "id") and "unique id" in p.expected


def test_default_capacity_serves_an_export_without_a_capacity_column():
    mentors = pd.DataFrame({"id": ["M1", "M2"]})
    (p,) = refused(mentors, pd.DataFrame({"id": ["E1"]}))
    assert p.column == "capacity"
    m, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}), capacity=2)
    assert m["capacity"].tolist() == [2.0, 2.0]


def test_reading_never_loses_a_row(tmp_path):
    """Records equal the data lines (blank lines aside), or a clear error: fuzzed quotes."""
    import random

    rng = random.Random(20)
    base = ["id,name,level"] + [f"E{k},Name {k},{k % 5}" for k in range(30)]
    for trial in range(60):
        lines = list(base)
        k = rng.randrange(1, len(lines))
        cells = lines[k].split(",")
        cells[1] = '"' + cells[1]  # a quote opened and not closed
        lines[k] = ",".join(cells)
        path = write(tmp_path, f"t{trial}.csv", "\n".join(lines) + "\n")
        try:
            df = read_table(path, "mentees")
        except ValidationError as exc:
            assert exc.problems[0].line == k + 1
            continue
        assert len(df) == len(base) - 1


def test_a_quote_inside_an_unquoted_cell_is_text(tmp_path):
    mentees = write(tmp_path, "mentees.csv", 'id,note\nE1,Display 5" wide\nE2,ok\n')
    df = read_table(mentees, "mentees")
    assert df["note"].tolist() == ['Display 5" wide', "ok"]


@given(csv_tables(), st.data())
def test_reading_never_loses_a_row_property(table, data):
    """A table written with proper quoting reads back row for row; the same text with one
    quote character removed reads back row for row too, or is refused naming a line."""
    header, rows = table
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    text = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(text, encoding="utf-8")
        df = read_table(path, "mentees")
        assert df["id"].tolist() == [r[0] for r in rows]
        quotes = [k for k, c in enumerate(text) if c == '"']
        if not quotes:
            return
        k = data.draw(st.sampled_from(quotes))
        path.write_text(text[:k] + text[k + 1:], encoding="utf-8")
        try:
            df = read_table(path, "mentees")
        except ValidationError as exc:
            assert all(p.line is not None or "line" in p.expected for p in exc.problems)
            return
        got = set(df["id"].dropna())
        assert {r[0] for r in rows} <= got, "a row was lost without an error"
