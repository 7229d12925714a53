"""A workbook has no text encoding: no note about one, unless the user set ``input.encoding``,
which then says it was not used (never a setting silently ignored)."""
import pytest

import mentormatch as mm
from mentormatch.schema import validate_tables


def _files(tmp_path):
    pytest.importorskip("openpyxl")
    mentors, mentees = mm.synthetic.organisation(n_mentees=4, n_mentors=2, seed=3)
    mentors.to_excel(tmp_path / "mentors.xlsx", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False, encoding="cp1252")
    return tmp_path / "mentors.xlsx", tmp_path / "mentees.csv"


def test_a_workbook_gets_no_encoding_note(tmp_path):
    a, b = _files(tmp_path)
    mentors, mentees = validate_tables(a, b)
    notes = list(mentors.attrs.get("notes", []))  # (both tables carry the same notes)
    assert not any(n.startswith("mentors:") for n in notes), notes


def test_an_encoding_set_for_a_workbook_is_said_unused(tmp_path):
    a, b = _files(tmp_path)
    mentors, mentees = validate_tables(a, b, encoding="cp1252")
    notes = list(mentors.attrs.get("notes", []))  # (both tables carry the same notes)
    said = [n for n in notes if n.startswith("mentors:")]
    assert len(said) == 1 and "workbook" in said[0] and "cp1252" in said[0] and "not used" in said[0], notes
    assert not any(n.startswith("mentees:") and "workbook" in n for n in notes), notes
