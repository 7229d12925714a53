"""The org chart (mentormatch.schema.orgchart): a manager in neither table, the org= input, its
checks, and the management line through people who are in neither table."""
from __future__ import annotations

import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.constraints import management_line_pairs
from mentormatch.errors import ValidationError
from mentormatch.schema import validate_tables

# D (a director, in neither table) manages M1 and E1; M1 manages E2 through D2 (neither table).
ORG = pd.DataFrame({"id": ["D", "D2", "M1", "M2", "E1", "E2", "E3"],
                    "manager_id": [None, "M1", "D", "D", "D", "D2", "M2"],
                    "team": ["top", "t1", "t1", "t2", "t1", "t1", "t2"]})


def mentors():
    return pd.DataFrame({"id": ["M1", "M2"], "capacity": [2, 2], "manager_id": ["D", "D"]})


def mentees():
    return pd.DataFrame({"id": ["E1", "E2", "E3"], "manager_id": ["D", "D2", "M2"]})


def refused(*args, **kwargs):
    with pytest.raises(ValidationError) as info:
        validate_tables(*args, **kwargs)
    return info.value.problems


def test_a_manager_in_neither_table_is_an_error_that_names_the_org_option():
    ps = refused(mentors(), mentees())
    assert [(p.table, p.row_id, p.column, p.value) for p in ps] == [
        ("mentors", "M1", "manager_id", "D"), ("mentors", "M2", "manager_id", "D"),
        ("mentees", "E1", "manager_id", "D"), ("mentees", "E2", "manager_id", "D2")]
    assert all("org=" in p.expected and "--org" in p.expected and "chain_end" in p.expected for p in ps)


def test_unknown_managers_may_end_the_chain_and_are_listed_in_the_notes(tmp_path):
    path = tmp_path / "mentees.csv"
    mentees().to_csv(path, index=False)
    m, e = validate_tables(mentors(), path, unknown_managers="chain_end")
    assert m["manager_id"].isna().all() and e["manager_id"].isna().tolist() == [True, True, False]
    notes = " ".join(m.attrs["notes"])
    assert "'D2' (line 3)" in notes and "chain_end" in notes


def test_the_org_chart_keeps_the_management_line_through_people_in_neither_table():
    m, e = validate_tables(mentors(), mentees(), org=ORG)
    # E2's chain: D2 (neither) -> M1 (a mentor): M1 is in E2's management line
    assert e["manager_id"].fillna("").tolist() == ["", "M1", "M2"]
    i, j = management_line_pairs(e, m)
    line = {(e["id"][a], m["id"][b]) for a, b in zip(i, j)}
    assert line == {("E2", "M1"), ("E3", "M2")}
    assert m.attrs["notes"] and "org chart" in m.attrs["notes"][-1]


def test_pair_with_org_never_pairs_a_mentee_with_a_manager_up_the_chart():
    result = mm.pair(mentors(), mentees(), org=ORG)
    got = set(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    assert not got & {("E2", "M1"), ("E3", "M2")}
    assert len(result.pairs) + len(result.unmatched) == 3
    same_team = mm.pair(mentors(), mentees(), {"constraints": {"same_team": True}}, org=ORG)
    teams = dict(zip(ORG["id"], ORG["team"]))
    assert all(teams[a] != teams[b] for a, b in zip(same_team.pairs["mentee_id"], same_team.pairs["mentor_id"]))


def test_org_chart_with_a_cycle_names_it():
    org = ORG.copy()
    org.loc[0, "manager_id"] = "E1"  # D <- E1 <- D
    (p,) = refused(mentors(), mentees(), org=org)
    assert (p.table, p.row_id, p.column) == ("org", "D", "manager_id")
    assert "found 'E1' manages 'D' manages 'E1'" in p.expected


def test_org_chart_with_an_unknown_manager_names_row_and_line(tmp_path):
    org = ORG.copy()
    org.loc[5, "manager_id"] = "NOBODY"
    path = tmp_path / "org.csv"
    org.to_csv(path, index=False)
    (p,) = refused(mentors(), mentees(), org=path)
    assert (p.table, p.row_id, p.line, p.column, p.value) == ("org", "E2", 7, "manager_id", "NOBODY")
    assert p.expected.startswith("the id of a person in the org chart")


def test_a_person_missing_from_the_org_chart_or_with_another_manager_is_named():
    org = ORG[ORG["id"] != "E3"]
    (p,) = refused(mentors(), mentees(), org=org)
    assert (p.table, p.row_id, p.column, p.value) == ("mentees", "E3", "id", "E3")
    assert "org chart" in p.expected
    e = mentees()
    e.loc[0, "manager_id"] = "M2"
    (p,) = refused(mentors(), e, org=ORG)
    assert (p.table, p.row_id, p.column, p.value) == ("mentees", "E1", "manager_id", "M2")
    assert "'D'" in p.expected and "row 4" in p.expected


def test_org_chart_without_its_columns():
    (p,) = refused(mentors(), mentees(), org=ORG.drop(columns="manager_id"))
    assert (p.table, p.column) == ("org", "manager_id") and "id, manager_id" in p.expected


def test_trimmed_manager_ids_keep_the_management_line():
    m = pd.DataFrame({"id": ["M1 ", "M2"], "capacity": [1, 1]})
    e = pd.DataFrame({"id": ["E1"], "manager_id": [" M1"]})
    vm, ve = validate_tables(m, e, trim_ids=True)
    assert ve.loc[0, "manager_id"] == "M1"
    i, j = management_line_pairs(ve, vm)
    assert list(zip(ve["id"][i], vm["id"][j])) == [("E1", "M1")]


def test_the_org_chart_named_in_a_programme_file(tmp_path):
    (tmp_path / "people").mkdir()
    ORG.to_csv(tmp_path / "people" / "org.csv", index=False)
    (tmp_path / "p.toml").write_text('[input]\norg = "people/org.csv"\n')
    result = mm.pair(mentors(), mentees(), tmp_path / "p.toml")
    got = set(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    assert not got & {("E2", "M1"), ("E3", "M2")}
    assert any(str(tmp_path / "people" / "org.csv") in n for n in result.notes)
