"""Reading and validating the mentors and mentees tables (mentormatch.schema)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentormatch.errors import Problem, ValidationError
from mentormatch.schema import (
    COLUMNS,
    describe_columns,
    manager_edges,
    read_table,
    validate_tables,
)


def mentors_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["M1", "M2", "M3"],
        "name": ["Ada", "Bo", "Cy"],
        "capacity": [2, 1, 3],
        "min_capacity": [1, 0, 1],
        "timezone": ["Europe/London", "America/New_York", None],
        "latitude": [51.5, 40.7, np.nan],
        "longitude": [-0.1, -74.0, np.nan],
        "openness": [4, 3.5, 2],
        "level": [5, 6, 4],
        "manager_id": [None, "M1", "M1"],
        "preferences": ["E1;E2", None, "E2"],
        "comp_negotiation": [4, 3.5, 5],
        "gender": ["f", "m", "x"],
    })


def mentees_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["E1", "E2", "E3", "E4"],
        "capacity_note": ["", "", "", ""],  # far from every canonical name: a group attribute
        "years_experience": [1, 2.5, 0, 3],
        "level": [1, 2, 1, 2],
        "manager_id": ["M2", "M2", "M3", None],
        "preferences": ["M1; M2", "M3", "", None],
        "manager_suggestions": ["M1", None, None, "M2;M3"],
        "region": ["EMEA", "AMER", "EMEA", "APAC"],
    })


def one_mentee() -> pd.DataFrame:
    return pd.DataFrame({"id": ["E1"]})


def problems(mentors, mentees, **kwargs) -> list[Problem]:
    with pytest.raises(ValidationError) as info:
        validate_tables(mentors, mentees, **kwargs)
    return info.value.problems


def message(mentors, mentees, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        validate_tables(mentors, mentees, **kwargs)
    return str(info.value)


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- the valid case ---------------------------------------------------------------------------


def test_valid_tables_come_back_canonical():
    mentors, mentees = validate_tables(mentors_frame(), mentees_frame())
    assert isinstance(mentors.index, pd.RangeIndex) and isinstance(mentees.index, pd.RangeIndex)
    assert mentors["id"].tolist() == ["M1", "M2", "M3"]
    assert pd.api.types.is_string_dtype(mentors["id"].dtype)
    for col in ("capacity", "min_capacity", "latitude", "openness", "level", "comp_negotiation"):
        assert mentors[col].dtype == np.float64, col
    assert mentors["capacity"].tolist() == [2.0, 1.0, 3.0]
    assert mentors["openness"].tolist() == [4.0, 3.5, 2.0]
    assert mentees["preferences"].tolist() == [("M1", "M2"), ("M3",), (), ()]
    assert mentors["preferences"].tolist() == [("E1", "E2"), (), ("E2",)]
    assert mentees["manager_suggestions"].tolist() == [("M1",), (), (), ("M2", "M3")]
    assert mentors["timezone"].iloc[0] == "Europe/London" and pd.isna(mentors["timezone"].iloc[2])
    assert mentors["gender"].tolist() == ["f", "m", "x"]
    assert mentees["region"].tolist() == ["EMEA", "AMER", "EMEA", "APAC"]
    assert list(mentors.columns) == list(mentors_frame().columns)
    assert mentors.attrs["lines"] is None and mentors.attrs["table"] == "mentors"


def test_inputs_are_not_mutated():
    mentors, mentees = mentors_frame(), mentees_frame()
    mentors.index = [10, 11, 12]
    before_m, before_e = mentors.copy(), mentees.copy()
    out_m, _ = validate_tables(mentors, mentees, mentor_columns={"gender": "sex"})
    pd.testing.assert_frame_equal(mentors, before_m)
    pd.testing.assert_frame_equal(mentees, before_e)
    assert mentors.attrs == {} and "sex" in out_m.columns and "gender" in mentors.columns
    out_m.loc[0, "name"] = "changed"
    assert mentors.loc[10, "name"] == "Ada"


def test_integer_and_float_ids_from_a_dataframe_become_text():
    mentors = pd.DataFrame({"id": [7, 8], "capacity": [1, 1]})
    mentees = pd.DataFrame({"id": [1.0, 2.0], "preferences": ["7;8", "8"]})
    m, e = validate_tables(mentors, mentees)
    assert m["id"].tolist() == ["7", "8"] and e["id"].tolist() == ["1", "2"]
    assert e["preferences"].tolist() == [("7", "8"), ("8",)]


def test_csv_round_trip_keeps_leading_zeros_and_unicode(tmp_path):
    ids = ["007", "0001", "Zoë", "李雷", "ß-12"]
    mentors = pd.DataFrame({"id": ids, "capacity": [1, 2, 3, 4, 5]})
    mentees = pd.DataFrame({"id": ["00", "Ünal"], "preferences": ["007;李雷", "0001"]})
    mentors.to_csv(tmp_path / "mentors.csv", index=False, encoding="utf-8-sig")  # with a BOM
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    m, e = validate_tables(tmp_path / "mentors.csv", tmp_path / "mentees.csv")
    assert m["id"].tolist() == ids
    assert e["id"].tolist() == ["00", "Ünal"]
    assert e["preferences"].tolist() == [("007", "李雷"), ("0001",)]
    assert m.attrs["lines"].tolist() == [2, 3, 4, 5, 6]
    assert m.attrs["source"] == str(tmp_path / "mentors.csv")


def test_read_table_records_file_lines_across_blank_lines_and_quoted_newlines(tmp_path):
    path = write(tmp_path, "m.csv", 'id,name,capacity\nA,"two\nlines",1\n\nB,b,2\n,,\nC,c,3\n')
    df = read_table(path, "mentors")
    assert df["id"].tolist() == ["A", "B", "C"]
    assert df.attrs["lines"].tolist() == [2, 5, 7]
    assert df.loc[0, "name"] == "two\nlines"


@pytest.mark.parametrize("name_cell", ["b", '"b, the second"'])
def test_file_lines_are_the_same_with_and_without_quoting(tmp_path, name_cell):
    # without quotes the C parser reads the file; with them, the csv module
    path = write(tmp_path, "m.csv", f"id,name,capacity\r\n\r\nA,a,1\r\n,,\r\nB,{name_cell},2\r\n\r\n")
    df = read_table(path, "mentors")
    assert df["id"].tolist() == ["A", "B"] and df.attrs["lines"].tolist() == [3, 5]
    assert df["name"].iloc[1] == name_cell.strip('"')


def test_short_row_is_padded_with_missing_cells(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity,team\nM1,2\nM2,1,x\n")
    df = read_table(path, "mentors")
    assert pd.isna(df.loc[0, "team"]) and df.loc[1, "team"] == "x"
    assert df.attrs["lines"].tolist() == [2, 3]


def test_semicolon_separated_export_is_read(tmp_path):
    path = write(tmp_path, "m.csv", "id;capacity\nM1;2\n")
    mentors, _ = validate_tables(path, pd.DataFrame({"id": ["E1"]}))
    assert mentors["capacity"].tolist() == [2.0]


def test_columns_mapping_of_an_hr_export(tmp_path):
    path = write(tmp_path, "export.csv",
                 "Employee Number,Mentee Slots,Time Zone,Gender\n0042,3,Asia/Tokyo,f\n")
    mentees = pd.DataFrame({"Employee Number": ["0099"], "Picks": ["0042"]})
    mentors, mentees_out = validate_tables(
        path, mentees, columns={"Employee Number": "id", "Mentee Slots": "capacity"},
        mentor_columns={"Time Zone": "timezone"}, mentee_columns={"Picks": "preferences"})
    assert list(mentors.columns) == ["id", "capacity", "timezone", "Gender"]
    assert mentors.loc[0, "id"] == "0042" and mentors.loc[0, "capacity"] == 3.0
    assert mentees_out.loc[0, "preferences"] == ("0042",)


def test_a_shared_mapping_entry_for_the_other_tables_column_is_fine():
    mentors = mentors_frame().rename(columns={"capacity": "Slots"})
    m, e = validate_tables(mentors, mentees_frame(), columns={"Slots": "capacity"})
    assert m["capacity"].tolist() == [2.0, 1.0, 3.0] and "Slots" not in e.columns


def test_lines_survive_validation(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\n\nM1,2\nM2,1\n")
    mentors, _ = validate_tables(path, mentees_frame().drop(columns=["preferences", "manager_suggestions", "manager_id"]))
    assert mentors.attrs["lines"].tolist() == [3, 4]
    again, _ = validate_tables(mentors, pd.DataFrame({"id": ["E1"]}))
    assert again.attrs["lines"].tolist() == [3, 4]


# --- unreadable input -------------------------------------------------------------------------


def test_missing_file_is_named(tmp_path):
    msg = message(tmp_path / "nope.csv", mentees_frame())
    assert "nope.csv" in msg and "no such file" in msg and "mentors" in msg


def test_directory_is_named(tmp_path):
    msg = message(mentors_frame(), tmp_path)
    assert str(tmp_path) in msg and "not a directory" in msg and msg.startswith("mentees")


def test_binary_file_is_named(tmp_path):
    path = tmp_path / "m.xlsx.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary\x00junk")
    msg = message(path, mentees_frame())
    assert "m.xlsx.csv" in msg and "binary" in msg


def test_file_in_no_known_encoding_is_named(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"id,capacity\nZo\x81,1\n")  # 0x81: neither UTF-8 nor cp1252
    (p,) = problems(path, mentees_frame())
    assert p.table == "mentors" and p.value == str(path)
    assert "UTF-8" in p.expected and "0x81" in p.expected and "line 2" in p.expected


def test_empty_file_is_named(tmp_path):
    path = write(tmp_path, "empty.csv", "\n\n")
    msg = message(path, mentees_frame())
    assert "empty.csv" in msg and "empty" in msg


def test_row_with_too_many_fields_names_its_line(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\nM1,1\nM2,1,surplus\nM3,1,\n")
    (p,) = problems(path, one_mentee())
    assert (p.table, p.line, p.value) == ("mentors", 3, ["surplus"])
    assert "at most 2 fields" in p.expected


def test_wrong_source_type():
    msg = message([{"id": "M1"}], mentees_frame())
    assert "list" in msg and "DataFrame" in msg


def test_unknown_table_name():
    with pytest.raises(ValidationError, match="'mentors' or 'mentees'"):
        read_table(mentors_frame(), "mentor")


# --- headers and mapping ----------------------------------------------------------------------


def test_missing_required_column_suggests_the_near_header():
    mentors = mentors_frame().rename(columns={"capacity": "capcity"})
    (p,) = problems(mentors, mentees_frame())
    assert (p.table, p.column) == ("mentors", "capacity")
    assert "did you mean 'capcity'? map it with columns={'capcity': 'capacity'}" in p.expected


def test_missing_id_column_in_a_csv_names_the_header_line(tmp_path):
    path = write(tmp_path, "e.csv", "ID,level\nE1,1\n")
    msg = message(mentors_frame(), path)
    assert "mentees, line 1, column 'id'" in msg and "columns={'ID': 'id'}" in msg


@pytest.mark.parametrize("typo, canonical", [("timezon", "timezone"),
                                             ("years_experiance", "years_experience"),
                                             ("Openness", "openness")])
def test_header_close_to_a_canonical_name_is_a_typo(typo, canonical):
    mentees = mentees_frame()
    mentees[typo] = "x"
    (p,) = problems(mentors_frame(), mentees.drop(columns=[canonical], errors="ignore"))
    assert (p.table, p.column, p.value) == ("mentees", typo, typo)
    assert f"columns={{{typo!r}: {canonical!r}}}" in p.expected


def test_competency_prefix_in_the_wrong_case():
    mentors = mentors_frame().rename(columns={"comp_negotiation": "Comp_negotiation"})
    (p,) = problems(mentors, mentees_frame())
    assert p.column == "Comp_negotiation" and "'comp_negotiation'" in p.expected


def test_duplicate_header_in_a_csv(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity,team,capacity\nM1,1,a,2\n")
    (p,) = problems(path, mentees_frame())
    assert (p.table, p.column, p.line) == ("mentors", "capacity", 1)
    assert "positions [2, 4]" in p.expected and "m.csv" in p.expected


def test_duplicate_header_in_a_dataframe():
    mentors = pd.DataFrame([["M1", 1, 2]], columns=["id", "capacity", "capacity"])
    (p,) = problems(mentors, mentees_frame())
    assert (p.column, p.line) == ("capacity", None) and "each header once" in p.expected


def test_mapping_two_present_headers_onto_one_name():
    mentors = mentors_frame().assign(Slots=1, Places=2)
    (p,) = problems(mentors.drop(columns=["capacity"]), mentees_frame(),
                    mentor_columns={"Slots": "capacity", "Places": "capacity"})
    assert (p.column, p.value) == ("capacity", ["Slots", "Places"])


def test_mapping_onto_a_header_that_already_exists():
    (p,) = problems(mentors_frame().assign(Slots=1), mentees_frame(),
                    mentor_columns={"Slots": "capacity"})
    assert p.column == "capacity" and "already has a 'capacity' header" in p.expected


def test_mapping_names_an_absent_header():
    (p,) = problems(mentors_frame(), mentees_frame(), mentee_columns={"Region Name": "region"})
    assert (p.table, p.column, p.value) == ("mentees", "Region Name", "Region Name")
    assert "columns= maps 'Region Name' -> 'region'" in p.expected


# --- ids and rows -----------------------------------------------------------------------------


def test_duplicate_id_names_both_lines(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\nM1,1\nM2,1\nM1,2\n")
    (p,) = problems(path, one_mentee())
    assert (p.table, p.column, p.row_id, p.line, p.value) == ("mentors", "id", "M1", 4, "M1")
    assert "also on line 2" in p.expected
    assert "mentors, row id 'M1', line 4, column 'id'" in str(ValidationError(p))


def test_duplicate_id_in_a_dataframe_names_both_rows():
    mentees = pd.DataFrame({"id": ["E1", "E2", "E1", "E1"]})
    ps = problems(mentors_frame().drop(columns=["preferences"]), mentees)
    assert [(p.row_id, p.column) for p in ps] == [("E1", "id"), ("E1", "id")]
    assert ps[0].expected.endswith("also on row 0, row 3")


def test_empty_id_names_the_line(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\nM1,1\n  ,2\n")
    (p,) = problems(path, one_mentee())
    assert (p.column, p.row_id, p.line, p.expected) == ("id", None, 3, "a non-empty id")


def test_empty_id_in_a_dataframe_names_the_position():
    mentors = mentors_frame()
    mentors.loc[1, "id"] = None
    ps = problems(mentors, mentees_frame())
    p = next(p for p in ps if p.column == "id")
    assert "row 1 of the DataFrame" in p.expected


def test_empty_table(tmp_path):
    path = write(tmp_path, "e.csv", "id,level\n")
    (p,) = problems(mentors_frame(), path)
    assert p.table == "mentees" and "at least one row" in p.expected and "e.csv" in p.expected


def test_missing_capacity(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\nM1,1\nM2,\n")
    (p,) = problems(path, one_mentee())
    assert (p.row_id, p.line, p.column, p.value) == ("M2", 3, "capacity", "")
    assert "required" in p.expected


def test_non_numeric_value(tmp_path):
    path = write(tmp_path, "m.csv", "id,capacity\nM1,1\nM2,two\n")
    msg = message(path, one_mentee())
    assert msg == "mentors, row id 'M2', line 3, column 'capacity': got 'two', expected a number"


@pytest.mark.parametrize("column", ["level", "min_capacity"])
def test_fraction_where_a_whole_number_is_required(column):
    mentors = mentors_frame()
    mentors[column] = mentors[column].astype(float)
    mentors.loc[2, column] = 1.5
    (p,) = problems(mentors, mentees_frame())
    assert (p.row_id, p.column, p.value, p.expected) == ("M3", column, 1.5, "a whole number")


def test_fractional_mentors_needed():
    (p,) = problems(mentors_frame(), mentees_frame().assign(mentors_needed=[1, 2, 0.5, 1]))
    assert (p.table, p.row_id, p.column) == ("mentees", "E3", "mentors_needed")


@pytest.mark.parametrize("table, column, value, expected", [
    ("mentors", "capacity", -1, "a value >= 0"),
    ("mentees", "years_experience", -2, "a value between 0 and 70"),
    ("mentors", "openness", 6, "a value between 0 and 5"),
    ("mentors", "latitude", 91, "a value between -90 and 90"),
    ("mentors", "longitude", -181, "a value between -180 and 180"),
    ("mentors", "comp_negotiation", 7, "a value between 0 and 5"),
    ("mentors", "comp_negotiation", -0.5, "a value between 0 and 5"),
])
def test_out_of_range(table, column, value, expected):
    frames = {"mentors": mentors_frame(), "mentees": mentees_frame()}
    frames[table][column] = frames[table][column].astype(float)
    frames[table].loc[1, column] = value
    (p,) = problems(frames["mentors"], frames["mentees"])
    row_id = frames[table].loc[1, "id"]
    assert (p.table, p.row_id, p.column, p.value, p.expected) == (table, row_id, column, value, expected)


def test_latitude_without_longitude_on_a_row():
    mentors = mentors_frame()
    mentors.loc[1, "longitude"] = np.nan
    (p,) = problems(mentors, mentees_frame())
    assert (p.row_id, p.column) == ("M2", "longitude") and "has a latitude" in p.expected


def test_latitude_column_without_longitude_column():
    (p,) = problems(mentors_frame().drop(columns=["longitude"]), mentees_frame())
    assert p.column == "longitude" and "alongside 'latitude'" in p.expected


def test_big_five_on_the_zero_one_scale_is_accepted():
    mentors = mentors_frame().assign(openness=[0.2, 0.9, 1.0], extraversion=[0, 0.5, 1])
    out, _ = validate_tables(mentors, mentees_frame())
    assert out["openness"].tolist() == [0.2, 0.9, 1.0]


def test_big_five_scales_mixed_in_one_table():
    mentors = mentors_frame().assign(openness=[4, 0.7, 3], neuroticism=[0, 2, 5])
    (p,) = problems(mentors, mentees_frame())
    assert (p.row_id, p.column, p.value) == ("M2", "openness", 0.7) and "mixed" in p.expected


def test_unknown_time_zone_suggests_the_nearest():
    mentors = mentors_frame()
    mentors.loc[2, "timezone"] = "Europe/Londn"
    (p,) = problems(mentors, mentees_frame())
    assert (p.row_id, p.column, p.value) == ("M3", "timezone", "Europe/Londn")
    assert "did you mean 'Europe/London'?" in p.expected


def test_min_capacity_above_capacity():
    mentors = mentors_frame().assign(min_capacity=[1, 2, 1])
    (p,) = problems(mentors, mentees_frame())
    assert (p.row_id, p.column, p.value) == ("M2", "min_capacity", 2)
    assert "no greater than the capacity 1" in p.expected


# --- references between the tables ------------------------------------------------------------


def test_unknown_id_in_mentee_preferences(tmp_path):
    path = write(tmp_path, "e.csv", "id,preferences\nE1,M1\nE2,M2;M9\n")
    (p,) = problems(mentors_frame().drop(columns=["preferences"]), path)
    assert (p.table, p.row_id, p.line, p.column, p.value) == ("mentees", "E2", 3, "preferences", "M9")
    assert "a mentor id" in p.expected


def test_unknown_id_in_mentor_preferences_suggests_a_near_id():
    mentors = mentors_frame().assign(preferences=["E1;E2", "E22", None])
    (p,) = problems(mentors, mentees_frame())
    assert (p.table, p.row_id, p.value) == ("mentors", "M2", "E22")
    assert "a mentee id" in p.expected and "did you mean 'E2'?" in p.expected


def test_unknown_id_in_manager_suggestions():
    mentees = mentees_frame().assign(manager_suggestions=[None, "E1", None, None])
    (p,) = problems(mentors_frame(), mentees)
    assert (p.row_id, p.column, p.value) == ("E2", "manager_suggestions", "E1")


def test_same_id_twice_in_a_preference_list():
    mentees = mentees_frame().assign(preferences=["M1;M2;M1", None, None, "M3"])
    (p,) = problems(mentors_frame(), mentees)
    assert (p.row_id, p.column, p.value) == ("E1", "preferences", "M1;M2;M1")
    assert "'M1' is repeated" in p.expected


def test_unknown_manager():
    mentees = mentees_frame()
    mentees.loc[3, "manager_id"] = "BOSS"
    (p,) = problems(mentors_frame(), mentees)
    assert (p.table, p.row_id, p.column, p.value) == ("mentees", "E4", "manager_id", "BOSS")


def test_manager_may_be_in_either_table_and_a_person_in_both():
    mentors = mentors_frame()
    mentors.loc[0, "manager_id"] = "E4"     # a mentee manages a mentor
    mentees = mentees_frame()
    mentees.loc[0, "id"] = "M2"             # M2 is also a mentee, with the same manager
    mentees.loc[0, "manager_id"] = "M1"
    mentees.loc[0, "level"] = 6             # ... and the same level: one person
    mentors = mentors.assign(preferences=None)
    m, e = validate_tables(mentors, mentees)
    assert m.loc[0, "manager_id"] == "E4" and e.loc[0, "id"] == "M2"


def test_same_person_with_two_managers():
    mentees = mentees_frame()
    mentees.loc[0, ["id", "manager_id"]] = ["M3", "M2"]  # M3's manager is M1 in mentors
    mentors = mentors_frame().assign(preferences=None)
    (p,) = problems(mentors, mentees)
    assert (p.table, p.row_id, p.column) == ("mentees", "M3", "level, manager_id")
    assert p.value == {"level": 1, "manager_id": "M2"}
    assert "'M1' in mentors" in p.expected and "row 2" in p.expected


def test_management_cycle_across_tables():
    mentors = mentors_frame()
    mentors.loc[0, "manager_id"] = "E1"   # M1 <- E1 <- M2 <- M1
    (p,) = problems(mentors, mentees_frame())
    assert (p.column, p.row_id) == ("manager_id", "E1")
    assert "found 'M1' manages 'M2' manages 'E1' manages 'M1'" in p.expected


def test_self_manager():
    mentors = mentors_frame()
    mentors.loc[2, "manager_id"] = "M3"
    (p,) = problems(mentors, mentees_frame())
    assert (p.table, p.row_id, p.value) == ("mentors", "M3", "M3")
    assert "found 'M3' manages 'M3'" in p.expected


def test_all_problems_of_both_tables_are_reported_together():
    mentors = mentors_frame().assign(capacity=[1, -1, "x"])
    mentees = mentees_frame().assign(level=[1, 2.5, 1, 2])
    ps = problems(mentors, mentees)
    assert [(p.table, p.row_id, p.column) for p in ps] == [
        ("mentors", "M3", "capacity"), ("mentors", "M2", "capacity"), ("mentees", "E2", "level")]


def test_many_problems_are_capped_per_check():
    mentors = pd.DataFrame({"id": [f"M{i}" for i in range(200)], "capacity": "many"})
    ps = problems(mentors, pd.DataFrame({"id": ["E1"]}))
    assert len(ps) == 51 and ps[-1].value == "150 more rows"


# --- the org chart and the column table -------------------------------------------------------


def test_manager_edges_spans_both_tables():
    mentors, mentees = validate_tables(mentors_frame(), mentees_frame())
    graph = manager_edges(mentors, mentees)
    assert sorted(graph.edges()) == [("M1", "M2"), ("M1", "M3"), ("M2", "E1"), ("M2", "E2"),
                                     ("M3", "E3")]
    assert set(graph.nodes()) == {"M1", "M2", "M3", "E1", "E2", "E3", "E4"}


def test_describe_columns_lists_every_column():
    table = describe_columns()
    assert list(table.columns) == ["name", "kind", "tables", "required", "range", "doc"]
    assert len(table) == len(COLUMNS) + 1
    row = table.set_index("name").loc["latitude"]
    assert (row["range"], row["tables"], row["required"]) == ("-90..90", "mentors, mentees", False)
    assert table.set_index("name").loc["capacity", "required"]
    assert table["name"].iloc[-1] == "comp_<competency>"


# --- scale ------------------------------------------------------------------------------------


def test_hundred_thousand_rows_validate():
    n = 100_000
    rng = np.random.default_rng(0)
    mentors = pd.DataFrame({
        "id": [f"M{i:06d}" for i in range(n // 4)],
        "capacity": rng.integers(1, 5, n // 4),
        "manager_id": [None] + [f"M{i // 8:06d}" for i in range(1, n // 4)],
        "timezone": rng.choice(["Europe/London", "Asia/Tokyo"], n // 4),
    })
    mentees = pd.DataFrame({
        "id": [f"E{i:06d}" for i in range(n)],
        "level": rng.integers(0, 10, n),
        "latitude": rng.uniform(-60, 60, n),
        "longitude": rng.uniform(-170, 170, n),
        "openness": rng.uniform(1, 5, n),
        "manager_id": [f"M{i // 4:06d}" for i in range(n)],
        "preferences": [f"M{i % 1000:06d};M{1000 + (i * 7) % 24000:06d}" for i in range(n)],
        "gender": rng.choice(["f", "m"], n),
    })
    m, e = validate_tables(mentors, mentees)
    assert len(m) == n // 4 and len(e) == n
    assert e.loc[n - 1, "preferences"] == (f"M{(n - 1) % 1000:06d}", f"M{1000 + ((n - 1) * 7) % 24000:06d}")


def test_prune_references_drops_absent_people_and_lists_them():
    from mentormatch.schema import prune_references, validate_tables

    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "manager_id": ["GONE", ""],
                            "preferences": ["E1;E9", ""]})
    mentees = pd.DataFrame({"id": ["E1"], "manager_id": ["M1"], "preferences": ["M2;M7;M1"]})
    m, e, removed = prune_references(mentors, mentees)
    assert sorted(map(tuple, removed[["table", "id", "column", "value"]].to_numpy())) == [
        ("mentees", "E1", "preferences", "M7"), ("mentors", "M1", "manager_id", "GONE"),
        ("mentors", "M1", "preferences", "E9")]
    assert e["preferences"].tolist() == ["M2;M1"] and m["manager_id"].tolist() == ["", ""]
    assert mentors["manager_id"].tolist() == ["GONE", ""]  # inputs untouched
    validate_tables(m, e)  # now valid


def test_id_lists_of_every_cell_kind():
    """Text, lists, tuples and arrays of ids, blanks and missing cells, mixed in one column:
    each cell becomes its tuple of stripped ids (the empty and missing cells at once, the
    others one by one)."""
    from mentormatch.schema import _idlist

    cells = pd.Series([np.array(["M1", " M2 "]), ["M3", None, ""], ("M4",), None, float("nan"), "",
                       " ; M5 ;", 7, "M6;M7"], dtype=object)
    assert _idlist(cells).tolist() == [("M1", "M2"), ("M3",), ("M4",), (), (), (), ("M5",), ("7",),
                                       ("M6", "M7")]


# --- one id in both tables is one person (issue 20, part 2) ------------------------------------


def test_one_id_in_both_tables_with_other_attributes_is_refused(tmp_path):
    # EmployeeNumber 1479 of the IBM table: a level-5 R&D mentor and a level-2 Sales mentee
    write(tmp_path, "mentors.csv", "id,capacity,level,Department\nM9,1,4,Sales\n1479,2,5,Research & Development\n")
    write(tmp_path, "mentees.csv", "id,level,Department,years_experience\nE1,1,Sales,2\n1479,2,Sales,3\n")
    (p,) = problems(tmp_path / "mentors.csv", tmp_path / "mentees.csv")
    assert (p.table, p.row_id, p.line, p.column) == ("mentees", "1479", 3, "level, Department")
    assert p.value == {"level": 2.0, "Department": "Sales"}
    assert "mentors line 3" in p.expected and "one id is one person" in p.expected
    assert "level: 2.0 here, 5.0 in mentors" in p.expected


def test_one_id_in_both_tables_that_agrees_is_one_person():
    m = pd.DataFrame({"id": ["P1", "M1"], "capacity": [1, 1], "level": [3, 5], "Department": ["Sales", None]})
    e = pd.DataFrame({"id": ["P1"], "level": [3], "Department": ["Sales"], "preferences": ["M1"]})
    out_m, out_e = validate_tables(m, e)  # a column only one row fills does not differ
    assert out_e.loc[0, "id"] == "P1"
