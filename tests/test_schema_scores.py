"""What assign() is given (mentormatch.schema.scores): each misread input is a ValidationError
naming the table, the mentee (row id), the mentor (column), the value and what was expected."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import ValidationError


def scores():
    return pd.DataFrame([[0.9, 0.1], [0.8, 0.7]], index=["e1", "e2"], columns=["m1", "m2"])


CAP = pd.Series({"m1": 1, "m2": 1})


def refused(*args, **kwargs):
    with pytest.raises(ValidationError) as info:
        mm.assign(*args, **kwargs)
    return info.value.problems


def test_datetime_scores_are_refused_not_read_as_nanoseconds():
    s = scores().astype(object)
    s["m2"] = pd.to_datetime(["2026-01-01", "2026-02-01"])
    s["m1"] = s["m1"].astype(float)
    (p,) = refused(s, CAP)
    assert (p.table, p.column, p.row_id) == ("scores", "m2", "e1")
    assert p.value.startswith("2026-01-01") and "nanoseconds" in p.expected and "a number" in p.expected


def test_yes_no_forbidden_cells_are_refused():
    forbidden = pd.DataFrame([["no", "yes"], ["no", "no"]], index=["e1", "e2"], columns=["m1", "m2"])
    ps = refused(scores(), CAP, forbidden)
    assert [(p.table, p.row_id, p.column, p.value) for p in ps][:2] == [
        ("forbidden", "e1", "m1", "no"), ("forbidden", "e1", "m2", "yes")]
    assert all(p.expected.startswith("True or False") for p in ps)


def test_one_none_forbidden_cell_is_named_not_reported_as_labels_that_differ():
    forbidden = pd.DataFrame([[False, None], [True, False]], index=["e1", "e2"], columns=["m1", "m2"])
    (p,) = refused(scores(), CAP, forbidden)
    assert (p.table, p.row_id, p.column, p.value) == ("forbidden", "e1", "m2", None)
    assert "True or False" in p.expected


def test_forbidden_labels_that_differ_are_named():
    forbidden = pd.DataFrame(False, index=["e1", "e9"], columns=["m1", "m2"])
    (p,) = refused(scores(), CAP, forbidden)
    assert (p.table, p.value) == ("forbidden", ["e9"]) and "['e2'] are missing" in p.expected


def test_0_and_1_forbidden_cells_count_as_false_and_true():
    forbidden = pd.DataFrame([[1, 0], [0, 0]], index=["e1", "e2"], columns=["m1", "m2"], dtype=object)
    pairs = mm.assign(scores(), CAP, forbidden).pairs
    assert ("e1", "m1") not in set(zip(pairs["mentee_id"], pairs["mentor_id"]))


@pytest.mark.parametrize("axis", ["index", "columns"])
def test_a_nan_label_is_refused_not_made_the_id_nan(axis):
    s = scores()
    if axis == "index":
        s.index = ["e1", np.nan]
    else:
        s.columns = ["m1", None]
    ps = refused(s, CAP)
    assert ps[0].table == "scores" and "position 1" in ps[0].expected and "'nan'" in ps[0].expected


@pytest.mark.parametrize("solver, cap, expected", [
    ("hungarian", 1e12, "at most 2,147,483,647"),
    ("hungarian", 2e7, "at most 10,000,000 slots with solver 'hungarian'"),
    ("flow", 1e12, "already means 'no limit'"),
])
def test_absurd_capacities_are_refused(solver, cap, expected):
    (p,) = refused(scores(), pd.Series({"m1": cap, "m2": 1}), solver=solver)
    assert (p.table, p.row_id, p.column, p.value) == ("capacity", "m1", "capacity", cap)
    assert expected in p.expected


def test_a_capacity_above_the_number_of_mentees_is_fine_with_hungarian():
    result = mm.assign(scores(), pd.Series({"m1": 5, "m2": 0}), solver="hungarian")
    assert sorted(result.pairs["mentee_id"]) == ["e1", "e2"]


@pytest.mark.parametrize("dtype", ["int64", "float64", "Int64", "object", "str"])
def test_absurd_capacities_are_refused_in_any_column_type(dtype):
    # numbers are read directly, anything else through pd.to_numeric: the same finding
    cap = pd.Series({"m1": 10**12, "m2": 1}).astype(dtype)
    (p,) = refused(scores(), cap)
    assert (p.table, p.row_id, p.column) == ("capacity", "m1", "capacity")
    assert "already means 'no limit'" in p.expected
    mm.assign(scores(), pd.Series({"m1": 1, "m2": 1}).astype(dtype))  # and a sane one is taken


def test_a_capacity_with_a_missing_mentor_id_is_refused():
    cap = pd.Series([1, 1], index=["m1", None])
    ps = refused(scores(), cap)
    assert any(p.table == "capacity" and "missing label" in p.expected for p in ps)


def test_every_date_column_among_many_numbers_is_named_in_column_order():
    s = pd.DataFrame(np.full((2, 40), 0.5), index=["e1", "e2"], columns=[f"m{j}" for j in range(40)])
    s["m7"] = pd.to_datetime(["2026-01-01", "2026-02-01"])
    s["m3"] = pd.to_timedelta([1, 2], unit="D")
    ps = refused(s, pd.Series(1, index=s.columns))
    assert [p.column for p in ps] == ["m3", "m7"]
    assert all("nanoseconds" in p.expected for p in ps)


@pytest.mark.parametrize("relabel", ["object", "reversed rows", "reversed columns", "numbers"])
def test_forbidden_labels_in_another_order_or_dtype_are_aligned_by_label(relabel):
    """forbidden's labels are compared as lists when both axes hold str (label_texts): labels
    of another dtype or order are still aligned by label, and labels that only print alike
    (numbers against the scores' str) are still refused."""
    s = scores()
    f = pd.DataFrame([[True, False], [False, False]], index=s.index, columns=s.columns)  # e1-m1
    if relabel == "object":
        f.index, f.columns = pd.Index(["e1", "e2"], dtype=object), pd.Index(["m1", "m2"], dtype=object)
    elif relabel == "reversed rows":
        f = f.iloc[::-1]
    elif relabel == "reversed columns":
        f = f.iloc[:, ::-1]
    else:
        s.index = ["1", "2"]
        f.index = [1, 2]
        (p,) = refused(s, CAP, f)
        assert p.table == "forbidden" and "not in scores" in p.expected
        return
    pairs = mm.assign(s, CAP, f).pairs
    assert set(zip(pairs["mentee_id"], pairs["mentor_id"])) == {("e1", "m2"), ("e2", "m1")}
