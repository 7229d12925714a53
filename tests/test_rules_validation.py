"""Programme validation (mentormatch.rules): every wrong setting is a ValidationError naming the
key, the value, what was expected and the nearest name; never a raw TypeError, never ignored."""
from __future__ import annotations

import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import ValidationError
from mentormatch.rules import Rules


def problem(settings: dict):
    with pytest.raises(ValidationError) as info:
        Rules.from_dict(settings)
    (p,) = info.value.problems
    return p


def test_a_column_mapping_onto_no_canonical_column_names_the_nearest():
    p = problem({"columns": {"Years Exp": "experience"}})
    assert (p.table, p.column, p.value) == ("programme", "columns.Years Exp", "experience")
    assert "canonical column" in p.expected and "'years_experience'" in p.expected


def test_a_setting_written_below_the_columns_header_says_to_move_it_above():
    # TOML puts a key written after "[columns]" into that table: `solver = "flw"` there reads as
    # a mapping of a header "solver"; the finding says why, not only that 'flw' is no column
    p = problem({"columns": {"Employee Number": "id", "solver": "flw"}})
    assert (p.column, p.value) == ("columns.solver", "flw")
    assert "move it above the first [section]" in p.expected
    p = problem({"columns": {"Solver Name": "flw"}})  # a header that is no setting: no such advice
    assert "move it above" not in p.expected


def test_per_table_mapping_must_be_a_table():
    p = problem({"columns": {"mentors": "x"}})
    assert (p.column, p.value) == ("columns.mentors", "x") and "[columns.mentors]" in p.expected
    p = problem({"columns": {"mentees": {"Slots": "capacty"}}})
    assert (p.column, p.value) == ("columns.mentees.Slots", "capacty") and "'capacity'" in p.expected


def test_fairness_groups_as_a_bare_string():
    p = problem({"fairness": {"groups": "gender"}})
    assert (p.column, p.value) == ("fairness.groups", "gender") and "['gender']" in p.expected


def test_fairness_group_absent_from_the_table_names_the_nearest_column():
    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1]})
    mentees = pd.DataFrame({"id": ["E1"], "gender": ["f"]})
    with pytest.raises(ValidationError) as info:
        mm.pair(mentors, mentees, {"fairness": {"groups": ["gendre"]}})
    (p,) = info.value.problems
    assert (p.table, p.column, p.value) == ("mentees", "gendre", "gendre")
    assert "fairness.groups" in p.expected and "'gender'" in p.expected


def test_fairness_group_renamed_by_the_mapping_names_its_new_name():
    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1]})
    mentees = pd.DataFrame({"Emp": ["E1"], "JobLevel": [1]})
    with pytest.raises(ValidationError) as info:
        mm.pair(mentors, mentees, {"columns": {"mentees": {"Emp": "id", "JobLevel": "level"}},
                                   "fairness": {"groups": ["JobLevel"]}})
    (p,) = info.value.problems
    assert (p.table, p.column, p.value) == ("mentees", "JobLevel", "JobLevel")
    assert "renames 'JobLevel' to 'level'" in p.expected


def test_a_typo_in_a_feature_setting_names_the_nearest_setting():
    p = problem({"features": {"geography": {"mdoe": "remote"}}})
    assert (p.column, p.value) == ("features.geography.mdoe", "remote") and "'mode'" in p.expected
    p = problem({"features": {"geography": {"mode": "remtoe"}}})
    assert (p.column, p.value) == ("features.geography.mode", "remtoe") and "'remote'" in p.expected


@pytest.mark.parametrize("settings, key, value, expected", [
    ({"constraints": {"min_score": "high"}}, "constraints.min_score", "high", "a number"),
    ({"features": {"geography": 5}}, "features.geography", 5, "a table of settings"),
    ({"time_limit": "fast"}, "time_limit", "fast", "a number of seconds > 0"),
    ({"fairness": {"share_floor": {"EMEA": 0.8}, "floor_group": "region"}}, "fairness.share_floor",
     {"EMEA": 0.8}, "a number in [0, 1]"),
    ({"fairness": {"score_floor": "0.9", "floor_group": "region"}}, "fairness.score_floor", "0.9",
     "without quotes"),
    ({"weights": {"geography": "1"}}, "weights.geography", "1", "a number >= 0"),
    ({"constraints": {"forbidden": "E1,M1"}}, "constraints.forbidden", "E1,M1", "a list of [mentee_id"),
    ({"input": {"decimal": ";"}}, "input.decimal", ";", "'.' or ','"),
    ({"input": {"unknown_managers": "chain-end"}}, "input.unknown_managers", "chain-end", "'chain_end'"),
    ({"input": {"capacity": -1}}, "input.capacity", -1, "a number >= 0"),
])
def test_wrong_typed_values_are_named(settings, key, value, expected):
    p = problem(settings)
    assert (p.table, p.column, p.value) == ("programme", key, value)
    assert expected in p.expected


def test_the_removed_candidates_section_is_named_not_ignored():
    p = problem({"candidates": {"top_k": 5}})
    assert (p.column, p.value) == ("candidates", {"top_k": 5}) and "remove it" in p.expected
    assert "candidates" not in Rules().to_dict()


def test_a_wrong_setting_in_a_toml_file_names_the_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('time_limit = "fast"\n[constraints]\nmin_score = "high"\n')
    with pytest.raises(ValidationError) as info:
        mm.pair(pd.DataFrame({"id": ["M1"], "capacity": [1]}), pd.DataFrame({"id": ["E1"]}), path)
    assert [(p.table, p.column) for p in info.value.problems] == [
        (str(path), "time_limit"), (str(path), "constraints.min_score")]


def test_input_settings_reach_the_reader(tmp_path):
    (tmp_path / "m.csv").write_bytes("id;capacity;years_experience\nM1;1;12,5\n".encode("cp1252"))
    (tmp_path / "e.csv").write_bytes("id;years_experience\nE1 ;2,5\n".encode("cp1252"))
    result = mm.pair(tmp_path / "m.csv", tmp_path / "e.csv",
                     {"input": {"decimal": ",", "trim_ids": True, "encoding": "cp1252"}})
    assert result.pairs["mentee_id"].tolist() == ["E1"]
    assert result.data["mentees"]["years_experience"].tolist() == [2.5]


def test_a_programme_of_the_wrong_type_is_named():
    with pytest.raises(ValidationError) as info:
        Rules.coerce(42)
    (p,) = info.value.problems
    assert (p.table, p.column, p.value) == ("arguments", "programme", "int")
    assert "a TOML path" in p.expected
