"""schema.cells: the id lists flattened (``_exploded``) exactly as ``Series.explode`` less the
missing, on the validated tuples (the fast path) and on every other kind of cell."""
import numpy as np
import pandas as pd
import pytest

from mentormatch.schema.cells import _exploded, _idlist


def _by_explode(lists: pd.Series) -> pd.Series:
    flat = lists.explode()
    return flat[flat.notna()]


@pytest.mark.parametrize("cells, index", [
    ([("a", "b"), (), ("c", None, "a")], None),           # a missing id inside a list
    ([("a",), ("b", "c")], [5, 2]),                       # owners out of order
    ([(), ()], None),
    ([(1, "a"), (2.5,)], None),                           # ids that are not text
    ([("x",), "y;z", None, ["a", "b"]], None),            # not all tuples: explode itself
])
def test_exploded_equals_explode_less_the_missing(cells, index):
    lists = pd.Series(cells, index=index, name="preferences", dtype=object)
    pd.testing.assert_series_equal(_exploded(lists), _by_explode(lists))


def test_exploded_of_a_validated_column():
    raw = pd.Series(["M2; M1", "", None, "M3", " M1 ;M1"])
    lists = _idlist(raw)
    got = _exploded(lists)
    pd.testing.assert_series_equal(got, _by_explode(lists))
    assert got.index.tolist() == [0, 0, 3, 4, 4] and got.tolist() == ["M2", "M1", "M3", "M1", "M1"]
    assert np.array_equal(_exploded(lists.iloc[:0]).to_numpy(), np.zeros(0, object))


def test_one_finding_on_many_rows_is_said_once_with_its_rows_counted():
    """Regression (s34): an export whose every row names a manager in neither table repeated the
    same finding, its advice included, for ten rows, then "and N more problem(s)"; the count
    beyond the check's first MAX_PROBLEMS rows read as a finding of its own ("got '9 more
    rows'"). Now the finding is said once per table, with its first rows and the true count;
    ``problems`` still holds each row's finding."""
    from mentormatch.errors import ROWS_SHOWN, ValidationError
    from mentormatch.schema import MAX_PROBLEMS, validate_tables

    n = MAX_PROBLEMS + 9
    mentors = pd.DataFrame({"id": [f"M{i}" for i in range(n)], "capacity": 1, "manager_id": "D1"})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "manager_id": ["D1", ""]})
    with pytest.raises(ValidationError) as info:
        validate_tables(mentors, mentees)
    text = str(info.value)
    assert text.count("expected the id of a person") == 2  # once for each table
    assert f"mentors, {n} rows (id 'M0', id 'M1', " in text and f"and {n - ROWS_SHOWN} more)" in text
    assert f"'M{ROWS_SHOWN}'" not in text and "more rows" not in text and "more problem" not in text
    assert "mentees, row id 'E1', column 'manager_id': got 'D1'" in text  # one row: as before
    rows = [p for p in info.value.problems if p.table == "mentors" and p.row_id is not None]
    assert [p.row_id for p in rows] == [f"M{i}" for i in range(MAX_PROBLEMS)]


def test_findings_that_differ_in_value_are_each_said():
    from mentormatch.errors import Problem, ValidationError

    err = ValidationError([Problem("mentors", "level", "A", 2, "x", "a whole number"),
                           Problem("mentors", "level", "B", 3, "y", "a whole number"),
                           Problem("mentors", "level", "C", 4, "x", "a whole number")])
    assert str(err) == ("mentors, 2 rows (id 'A' line 2, id 'C' line 4), column 'level': got 'x', "
                        "expected a whole number; mentors, row id 'B', line 3, column 'level': "
                        "got 'y', expected a whole number")


def test_required_columns_missing_from_an_export_are_one_finding_with_its_headers_once():
    """Regression (s34): the IBM HR export given without a column mapping listed its 35 headers
    once for each missing required column ('id', then 'capacity'); now one finding names both
    ("a 'id' column" read oddly too). A header close to the name keeps its own did-you-mean."""
    from mentormatch.errors import ValidationError
    from mentormatch.schema import validate_tables

    export = pd.DataFrame({"EmployeeNumber": ["1"], "Slots": [2], "Department": ["Sales"]})
    with pytest.raises(ValidationError) as info:
        validate_tables(export, export.drop(columns="Slots"))
    found = [(p.table, p.column, p.value) for p in info.value.problems]
    assert found == [("mentors", "id, capacity", ["EmployeeNumber", "Slots", "Department"]),
                     ("mentees", "id", ["EmployeeNumber", "Department"])]
    text = str(info.value)
    assert text.count("'Department'") == 2 and "a 'id'" not in text
    assert "columns={'<header>': 'id', '<header>': 'capacity'}" in text
    with pytest.raises(ValidationError) as near:
        validate_tables(export.rename(columns={"Slots": "capacty"}), export.drop(columns="Slots"))
    assert sorted(p.column for p in near.value.problems if p.table == "mentors") == ["capacity", "id"]
    assert "did you mean 'capacty'?" in str(near.value)
