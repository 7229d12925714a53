import math
from pathlib import Path

import pytest

import mentormatch as mm

ROOT = Path(__file__).resolve().parents[1]


def test_example_programme_loads_with_its_settings():
    rules = mm.Rules.from_toml(ROOT / "examples" / "programme.toml")
    assert rules.seed == 7 and rules.weights["competency"] == 2.0
    assert rules.feature_settings("experience") == {"junior_mentor": "ineligible"}
    assert rules.column_maps()[0] == {}  # the example runs on the demo's canonical columns
    assert math.isnan(rules.constraints["budget"])  # defaults kept where the file is silent


def test_unknown_section_and_key_are_named_with_a_suggestion(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('solvr = "flow"\n[constraints]\nmanagment_line = true\n')
    with pytest.raises(mm.ValidationError) as info:
        mm.Rules.from_toml(p)
    msg = str(info.value)
    assert "'solvr'" in msg and "'solver'" in msg
    assert "constraints.managment_line" in msg and "management_line" in msg


def test_unreadable_toml_and_unknown_solver(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("solver = [unclosed\n")
    with pytest.raises(mm.ValidationError, match="bad.toml"):
        mm.Rules.from_toml(p)
    with pytest.raises(mm.ValidationError, match="hungarian"):
        mm.Rules.from_dict({"solver": "hungarain"})


def test_fairness_floor_needs_a_group_and_a_share_in_range():
    with pytest.raises(mm.ValidationError, match="floor_group"):
        mm.Rules.from_dict({"fairness": {"score_floor": 0.9}})
    with pytest.raises(mm.ValidationError, match="share_floor"):
        mm.Rules.from_dict({"fairness": {"floor_group": "region", "share_floor": 1.5}})
