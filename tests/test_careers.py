"""The career framework: the bundled sales framework, pathways, gaps, round trips, errors."""
import dataclasses
import textwrap

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from mentormatch.careers import CareerFramework
from mentormatch.errors import ValidationError

TINY = textwrap.dedent("""\
    competencies = ["a", "b", "c", "d", "e", "f"]

    [roles.junior]
    title = "Junior"
    level = 0
    requires = { a = 1, b = 1, c = 1, d = 1, e = 1 }

    [roles.senior]
    title = "Senior"
    level = 1
    requires = { a = 3, b = 2, c = 4, d = 1, f = 2 }
    importance = { c = 2.5 }

    [[pathways]]
    from = "junior"
    to = "senior"
    kind = "up"
    """)


def _toml(tmp_path, text, name="fw.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sales():
    return CareerFramework.sales()


@pytest.fixture
def tiny(tmp_path):
    return CareerFramework.from_toml(_toml(tmp_path, TINY))


# ------------------------------------------------------------------------------------------
# the bundled sales framework


def test_sales_framework_loads(sales):
    assert sales.roles == ["sales_support", "sdr", "ae", "customer_success", "senior_ae",
                           "sales_ops", "sales_manager", "director"]
    assert len(sales.competencies) == 11
    assert sales.required.shape == (8, 11)
    assert list(sales.required.index) == sales.roles
    assert list(sales.required.columns) == sales.competencies
    assert sales.level == {"sales_support": 0, "sdr": 0, "ae": 1, "customer_success": 1,
                           "senior_ae": 2, "sales_ops": 2, "sales_manager": 3, "director": 4}
    assert sales.titles["ae"] == "Account Executive"
    assert sales.columns == ["comp_" + c for c in sales.competencies]
    req = sales.required.to_numpy()
    assert ((req >= 0) & (req <= 5)).all()


def test_each_role_has_five_to_eight_competencies(sales):
    counts = (sales.required > 0).sum(axis=1)
    assert counts.between(5, 8).all(), counts.to_dict()


def test_importance_defaults_to_one_for_required(sales):
    req, imp = sales.required, sales.importance
    assert (imp.to_numpy()[req.to_numpy() == 0] == 0).all()
    assert imp.loc["ae", "closing"] == 2.0
    assert imp.loc["ae", "prospecting"] == 1.0


def test_competencies_recur_up_the_levels_with_higher_mastery(sales):
    for src, dst, kind in sales.graph.edges(data="kind"):
        if kind != "up":
            continue
        shared = (sales.required.loc[src] > 0) & (sales.required.loc[dst] > 0)
        assert shared.any(), (src, dst)
        assert (sales.required.loc[dst][shared] > sales.required.loc[src][shared]).any(), (src, dst)


def test_graph_edges_respect_levels(sales):
    for src, dst, kind in sales.graph.edges(data="kind"):
        if kind == "up":
            assert sales.level[dst] > sales.level[src]
        else:
            assert kind == "lateral" and sales.level[dst] == sales.level[src]
    # the only cycles are lateral moves declared both ways
    one_way = nx.DiGraph((u, v) for u, v in sales.graph.edges if not sales.graph.has_edge(v, u) or u < v)
    assert nx.is_directed_acyclic_graph(one_way)


# ------------------------------------------------------------------------------------------
# pathways


def test_next_roles_up_first_then_lateral(sales):
    assert sales.next_roles("ae") == ["senior_ae", "customer_success"]
    # the primary move first (issue 20: not the alphabetically first, sales_ops)
    assert sales.next_roles("customer_success") == ["senior_ae", "sales_ops", "ae"]
    assert sales.next_roles("sales_manager") == ["director"]
    assert sales.next_roles("director") == []


def test_next_roles_unknown_role_is_named(sales):
    with pytest.raises(ValidationError) as err:
        sales.next_roles("ceo")
    assert err.value.problems[0].value == "ceo"
    assert "sales_manager" in err.value.problems[0].expected


def test_several_ways_to_reach_a_role(sales):
    """A staircase, not a ladder."""
    to_senior = sales.paths("sdr", "senior_ae")
    assert to_senior[0] == ["sdr", "ae", "senior_ae"]
    assert ["sdr", "ae", "customer_success", "senior_ae"] in to_senior
    to_manager = sales.paths("sales_support", "sales_manager")
    assert len(to_manager) >= 3
    assert ["sales_support", "customer_success", "sales_ops", "sales_manager"] in to_manager
    assert ["sales_support", "customer_success", "senior_ae", "sales_manager"] in to_manager
    assert all(p[0] == "sales_support" and p[-1] == "sales_manager" for p in to_manager)
    lengths = [len(p) for p in to_manager]
    assert lengths == sorted(lengths)
    for role in sales.roles:
        if role != "director":
            assert sales.paths(role, "director"), role


def test_paths_edge_cases(sales):
    assert sales.paths("ae", "ae") == [["ae"]]
    assert sales.paths("director", "sdr") == []
    with pytest.raises(ValidationError):
        sales.paths("sdr", "nobody")


# ------------------------------------------------------------------------------------------
# gap


def test_gap_hand_computed(tiny):
    assert tiny.competencies == ["a", "b", "c", "d", "e", "f"]
    current = np.array([[2, 2, 2, 2, 2, 2],
                        [0, 0, 0, 0, 0, 0],
                        [5, 5, 5, 5, 5, 5]], dtype=float)
    gap = tiny.gap(current, ["senior", "senior", "junior"])
    expected = np.array([[1, 0, 2, 0, 0, 0],
                         [3, 2, 4, 1, 0, 2],
                         [0, 0, 0, 0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(gap, expected)
    assert gap.dtype == np.float64


def test_gap_one_target_nan_and_missing(tiny):
    current = np.array([[2, np.nan, 2, 2, 2, 2], [1, 1, 1, 1, 1, 1]])
    gap = tiny.gap(current, "senior")
    np.testing.assert_array_equal(gap[0], [1, np.nan, 2, 0, 0, 0])
    np.testing.assert_array_equal(gap[1], [2, 1, 3, 0, 0, 1])
    missing = tiny.gap(current, ["", None])
    assert np.isnan(missing).all()


def test_gap_errors_name_the_argument(tiny):
    with pytest.raises(ValidationError) as err:
        tiny.gap(np.zeros((2, 5)), "senior")
    assert err.value.problems[0].column == "current"
    with pytest.raises(ValidationError) as err:
        tiny.gap(np.zeros((2, 6)), ["senior"])
    assert err.value.problems[0].column == "target_roles"
    with pytest.raises(ValidationError) as err:
        tiny.gap(np.zeros((1, 6)), ["chief"])
    assert err.value.problems[0].value == "chief"


def test_sales_gap_matches_requirements(sales):
    now = sales.required.loc[["sdr"]].to_numpy(dtype=float)
    gap = dict(zip(sales.competencies, sales.gap(now, ["ae"])[0]))
    assert gap["negotiation"] == 2.0
    assert gap["prospecting"] == 1.0
    assert gap["data_analysis"] == 0.0


# ------------------------------------------------------------------------------------------
# round trips


def test_toml_round_trip(sales, tiny, tmp_path):
    for k, fw in enumerate((sales, tiny)):
        back = CareerFramework.from_toml(_toml(tmp_path, fw.to_toml(), f"fw{k}.toml"))
        assert back == fw
        pd.testing.assert_frame_equal(back.required, fw.required)
        pd.testing.assert_frame_equal(back.importance, fw.importance)
        assert back.titles == fw.titles and back.level == fw.level


def test_csv_round_trip(sales, tiny, tmp_path):
    for k, fw in enumerate((sales, tiny)):
        req, paths = tmp_path / f"req{k}.csv", tmp_path / f"paths{k}.csv"
        fw.to_frame().to_csv(req, index=False)
        fw.pathways_frame().to_csv(paths, index=False)
        back = CareerFramework.from_csv(req, paths)
        assert back.activities == {} and back == dataclasses.replace(fw, activities={})  # CSV has none
        pd.testing.assert_frame_equal(back.to_frame(), fw.to_frame())
        pd.testing.assert_frame_equal(back.required, fw.required)
        assert sorted(back.graph.edges(data="kind")) == sorted(fw.graph.edges(data="kind"))
        fw.to_csv(tmp_path / "r.csv", tmp_path / "p.csv")
        assert CareerFramework.from_csv(tmp_path / "r.csv", tmp_path / "p.csv") == back


def test_toml_round_trip_keeps_the_activities(sales, tiny, tmp_path):
    """Regression: to_toml wrote no [activities] and == ignored them, so a TOML round trip lost
    them silently."""
    assert len(sales.activities) == len(sales.competencies)
    back = CareerFramework.from_toml(_toml(tmp_path, sales.to_toml(), "sales.toml"))
    assert back.activities == sales.activities and back == sales
    # free text: quotes, backslashes, a line break, a tab, a control character, non-ASCII
    odd = {"c": 'read "SPIN" \\ Selling\nthen\tdiscuss\x01 — ensemble', "a": "shadow"}
    fw = dataclasses.replace(tiny, activities=odd)
    text = fw.to_toml()
    assert "[activities]" in text and text.index('\na = "shadow"') < text.index("\nc = ")  # framework order
    back = CareerFramework.from_toml(_toml(tmp_path, text, "odd.toml"))
    assert back.activities == odd and back == fw
    assert "[activities]" not in tiny.to_toml()  # none: no table


def test_frameworks_with_other_activities_differ(sales, tiny):
    assert tiny != dataclasses.replace(tiny, activities={"a": "shadow"})
    other = dict(sales.activities, negotiation="something else")
    assert sales != dataclasses.replace(sales, activities=other)
    assert sales != dataclasses.replace(sales, activities={})
    assert sales == dataclasses.replace(sales, activities=dict(reversed(sales.activities.items())))


def test_toml_quotes_values_and_escapes(tmp_path):
    """Regression: to_toml wrote string values such as a one-word title bare (invalid TOML)."""
    text = TINY.replace('title = "Junior"', 'title = "Junior \\"Rep\\" \\\\ one"')
    fw = CareerFramework.from_toml(_toml(tmp_path, text, "q.toml"))
    assert fw.titles["junior"] == 'Junior "Rep" \\ one'
    out = fw.to_toml()
    assert 'title = "Senior"' in out and 'from = "junior"' in out
    assert CareerFramework.from_toml(_toml(tmp_path, out, "back.toml")) == fw


def test_from_csv_accepts_dataframes(tiny):
    assert CareerFramework.from_csv(tiny.to_frame(), tiny.pathways_frame()) == tiny


def test_to_frame_shape(tiny):
    frame = tiny.to_frame()
    assert list(frame.columns) == ["role", "title", "level", "competency", "required", "importance"]
    assert len(frame) == 2 * 6
    row = frame[(frame["role"] == "senior") & (frame["competency"] == "c")].iloc[0]
    assert (row["required"], row["importance"], row["level"]) == (4.0, 2.5, 1)


# ------------------------------------------------------------------------------------------
# invalid frameworks: the error names the role and the column


def _problems(tmp_path, text):
    with pytest.raises(ValidationError) as err:
        CareerFramework.from_toml(_toml(tmp_path, text, "bad.toml"))
    return err.value.problems


def test_a_role_without_a_required_competency_is_named(tmp_path):
    bad = TINY.replace("requires = { a = 1, b = 1, c = 1, d = 1, e = 1 }",
                       "requires = { a = 0 }")
    problems = _problems(tmp_path, bad)
    assert [(p.row_id, p.column, p.value) for p in problems] == [("junior", "required", 0)]
    assert "at least 1 competency" in problems[0].expected


def test_any_number_of_competencies_per_role_from_csv_with_empty_cells():
    """Own frameworks (issue 20): one competency for a role, eleven for another, empty cells."""

    comps = [f"c{k}" for k in range(11)]
    req = pd.DataFrame({
        "role": ["new"] + ["lead"] * 11,
        "title": ["New starter"] + [None] * 11,
        "level": [1] + [np.nan] * 11,
        "competency": ["c0"] + comps,
        "required": [1] + [3] * 11,
        "importance": [np.nan] * 12,
    })
    req.loc[1, "title"], req.loc[1, "level"] = "", 2
    paths = pd.DataFrame({"from_role": ["new"], "to_role": ["lead"], "kind": ["up"]})
    fw = CareerFramework.from_csv(req, paths)
    assert fw.roles == ["new", "lead"] and fw.level == {"new": 1, "lead": 2}
    assert (fw.required.loc["lead"] > 0).sum() == 11 and (fw.required.loc["new"] > 0).sum() == 1
    assert fw.titles["lead"] == "lead" and fw.importance.loc["new", "c0"] == 1.0


def test_mastery_out_of_range_names_role_and_column(tmp_path):
    problems = _problems(tmp_path, TINY.replace("c = 4, d = 1, f = 2", "c = 7, d = 1, f = 2"))
    assert any(p.row_id == "senior" and p.column == "required" and p.value == 7 for p in problems)


def test_bad_level_and_unknown_pathway_role(tmp_path):
    bad = TINY.replace("level = 0", "level = -1").replace('to = "senior"', 'to = "seniour"')
    problems = _problems(tmp_path, bad)
    found = {(p.row_id, p.column, p.value) for p in problems}
    assert ("junior", "level", -1) in found
    assert ("junior", "to_role", "seniour") in found


def test_up_move_that_does_not_climb(tmp_path):
    bad = TINY.replace('from = "junior"\nto = "senior"', 'from = "senior"\nto = "junior"')
    problems = _problems(tmp_path, bad)
    assert [(p.row_id, p.column, p.value) for p in problems] == [("senior", "kind", "up")]


def test_csv_error_names_role_column_and_line(tiny, tmp_path):
    frame = tiny.to_frame()
    frame.loc[(frame["role"] == "senior") & (frame["competency"] == "b"), "required"] = 9
    req = tmp_path / "req.csv"
    frame.to_csv(req, index=False)
    paths = tmp_path / "paths.csv"
    tiny.pathways_frame().to_csv(paths, index=False)
    with pytest.raises(ValidationError) as err:
        CareerFramework.from_csv(req, paths)
    p = err.value.problems[0]  # the role then has 4 valid competencies: reported too
    assert (p.row_id, p.column, p.value, p.line) == ("senior", "required", 9.0, 2 + 6 + 1)
    assert "senior" in str(err.value) and "'required'" in str(err.value)


def test_csv_missing_column_is_named(tiny):
    with pytest.raises(ValidationError) as err:
        CareerFramework.from_csv(tiny.to_frame().drop(columns="level"), tiny.pathways_frame())
    assert [p.column for p in err.value.problems] == ["level"]


def test_frameworks_compare_by_value(sales, tiny):
    assert sales == CareerFramework.sales()
    assert sales != tiny


# ------------------------------------------------------------------------------------------
# moves between roles


def _requirements(roles: dict[str, int]) -> pd.DataFrame:
    """Long-form requirements: each role requires a..e at 1 + its level."""
    return pd.DataFrame([{"role": r, "title": r.title(), "level": lv, "competency": c,
                          "required": 1 + lv, "importance": 1.0} for r, lv in roles.items() for c in "abcde"])


def _moves(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["from_role", "to_role", "kind"])


@pytest.mark.parametrize("move, column", [
    (("junior", "senior", "lateral"), "kind"),   # lateral across levels
    (("junior", "senior", "sideways"), "kind"),  # unknown kind
    (("junior", "junior", "lateral"), "to_role"),  # a loop
])
def test_bad_moves_are_named(move, column):
    with pytest.raises(ValidationError) as info:
        CareerFramework.from_csv(_requirements({"junior": 0, "senior": 1}), _moves(move))
    problem = info.value.problems[0]
    assert (problem.column, problem.row_id, problem.line) == (column, "junior", 2)


def test_lateral_cycle_of_three_rejected_two_way_move_allowed():
    req = _requirements({"j1": 0, "j2": 0, "j3": 0})
    with pytest.raises(ValidationError) as info:
        CareerFramework.from_csv(req, _moves(("j1", "j2", "lateral"), ("j2", "j3", "lateral"),
                                             ("j3", "j1", "lateral")))
    assert "cycle" in info.value.problems[0].expected
    fw = CareerFramework.from_csv(req, _moves(("j1", "j2", "lateral"), ("j2", "j1", "lateral")))
    assert fw.next_roles("j2") == ["j1"] and fw.paths("j1", "j2") == [["j1", "j2"]]


def test_default_target_is_the_primary_then_the_most_common_move(tmp_path):
    """next_role: the primary move, else the largest share, else by id (issue 20)."""
    from mentormatch.features.competency import next_role

    req = pd.DataFrame({"role": ["a", "b", "c"], "title": ["A", "B", "C"], "level": [1, 2, 2],
                        "competency": ["x", "x", "x"], "required": [1, 2, 2], "importance": [1, 1, 1]})
    paths = pd.DataFrame({"from_role": ["a", "a"], "to_role": ["b", "c"], "kind": ["up", "up"]})
    assert next_role(CareerFramework.from_csv(req, paths), "a") == "b"
    by_share = CareerFramework.from_csv(req, paths.assign(share=["0.2", "0.7"]))
    assert next_role(by_share, "a") == "c"
    by_flag = CareerFramework.from_csv(req, paths.assign(share=[0.2, 0.7], primary=["yes", ""]))
    assert next_role(by_flag, "a") == "b"
    again = CareerFramework.from_toml(_toml(tmp_path, by_flag.to_toml()))
    assert again == by_flag and again.next_roles("a") == ["b", "c"]
    with pytest.raises(ValidationError) as info:
        CareerFramework.from_csv(req, paths.assign(primary=["maybe", ""]))
    (p,) = info.value.problems
    assert (p.row_id, p.line, p.column, p.value) == ("a", 2, "primary", "maybe")
