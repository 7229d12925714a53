"""schema.across: the checks between the two tables when a table's ids are missing or repeat
(their Index from ``table._check_ids`` then holds fewer ids than rows: the lookups fall back to
the first row of each present id)."""
import pandas as pd
import pytest

from mentormatch.errors import ValidationError
from mentormatch.schema import validate_tables


def _problems(mentors, mentees):
    with pytest.raises(ValidationError) as info:
        validate_tables(mentors, mentees)
    return info.value.problems


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_mentors_without_any_id_are_reported_row_by_row(blank):
    # main (9ef0840) raised IndexError here: the same-person check gathered from no mentor
    mentors = pd.DataFrame({"id": [blank, blank], "capacity": [1, 2], "city": ["Oslo", "Rome"]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "city": ["Oslo", "Oslo"]})
    problems = _problems(mentors, mentees)
    assert [(p.table, p.column, p.expected.split(" (")[0]) for p in problems] == \
        [("mentors", "id", "a non-empty id")] * 2


def test_a_person_in_both_tables_is_compared_with_the_first_row_of_their_mentor_id():
    mentors = pd.DataFrame({"id": ["M1", None, "E1", "E1"], "capacity": [1, 1, 1, 1],
                            "city": ["Oslo", "Oslo", "Rome", "Oslo"]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "city": ["Oslo", "Oslo"], "preferences": ["E1;M1", "M1"]})
    problems = _problems(mentors, mentees)
    found = [(p.table, p.column, p.row_id) for p in problems]
    assert ("mentors", "id", None) in found  # the missing id
    assert [f for f in found if f[1] == "id" and f[2] == "E1"] == [("mentors", "id", "E1")]  # repeated
    same = [p for p in problems if p.table == "mentees" and "same attributes" in p.expected]
    assert len(same) == 1 and same[0].row_id == "E1" and "row 2" in same[0].expected  # its first row
    assert not [p for p in problems if p.column == "preferences"]  # E1 and M1 are mentors' ids


def test_a_repeated_mentee_id_is_not_compared_again_as_one_person():
    """Regression (s34): one HR export read as both tables, with one number on two different
    people (the IBM table's 1285 and 1479): each repeat was reported as a repeated id and once
    more as a mentee differing from "the mentor with this id" (its own first row), a paragraph
    of every column of both rows. A mentee id repeated within the mentees is reported once."""
    hr = pd.DataFrame({"id": ["1", "2", "1"], "capacity": [1, 1, 1], "city": ["Oslo", "Rome", "Lima"],
                       "level": [1, 2, 3]})
    problems = _problems(hr, hr.drop(columns="capacity"))
    found = sorted((p.table, p.column, p.line) for p in problems)
    assert found == [("mentees", "id", None), ("mentors", "id", None)]
    assert all("unique id" in p.expected and p.row_id == "1" for p in problems)


def test_a_person_in_both_tables_differing_everywhere_is_one_short_finding():
    """The same-person finding states the first five differing columns and counts the rest (it
    named every column of both rows, twice: in the value and in the words); the column field
    names them all."""
    cols = {f"c{i}": [f"m{i}"] for i in range(12)}
    mentors = pd.DataFrame({"id": ["P"], "capacity": [1], **cols})
    mentees = pd.DataFrame({"id": ["P"], **{c: [f"e{i}"] for i, c in enumerate(cols)}})
    [p] = _problems(mentors, mentees)
    assert p.row_id == "P" and p.column == ", ".join(cols)
    assert p.value == {f"c{i}": f"e{i}" for i in range(5)}
    assert "c0: 'e0' here, 'm0' in mentors" in p.expected and "c4: 'e4' here" in p.expected
    assert "; and 7 more columns" in p.expected and "'m5'" not in p.expected
