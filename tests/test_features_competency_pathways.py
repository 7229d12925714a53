"""Competency on a small sales-like framework read with CareerFramework.from_csv: a gap worked
by hand, targets (next_up, best_next, explicit, lateral), partial data, report wording."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.careers import CareerFramework
from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.competency import Competency, covered_names

from strategies import career_frameworks, people_tables

COMPS = ["prospecting", "negotiation", "forecasting", "discovery", "presenting"]


def _framework() -> CareerFramework:
    """sdr (level 0) -> ae (level 1, up) and sdr -> ops (level 1, up); ae <-> cs (lateral)."""
    req = {
        "sdr": dict(prospecting=2, negotiation=1, forecasting=1, discovery=1, presenting=1),
        "ae": dict(prospecting=3, negotiation=3, forecasting=2, discovery=2, presenting=2),
        "ops": dict(prospecting=1, negotiation=1, forecasting=4, discovery=1, presenting=3),
        "cs": dict(prospecting=2, negotiation=3, forecasting=2, discovery=3, presenting=2),
    }
    imp = {"ae": dict(prospecting=1.0, negotiation=2.0, forecasting=1.0, discovery=1.0, presenting=0.5)}
    titles = {"sdr": "Sales Development Rep", "ae": "Account Executive", "ops": "Sales Operations",
              "cs": "Customer Success"}
    level = {"sdr": 0, "ae": 1, "ops": 1, "cs": 1}
    rows = [{"role": r, "title": titles[r], "level": level[r], "competency": c, "required": v,
             "importance": imp.get(r, {}).get(c, 1.0)} for r, cs in req.items() for c, v in cs.items()]
    paths = pd.DataFrame([("sdr", "ae", "up"), ("sdr", "ops", "up"), ("ae", "cs", "lateral"),
                          ("cs", "ae", "lateral")], columns=["from_role", "to_role", "kind"])
    return CareerFramework.from_csv(pd.DataFrame(rows), paths)


FW = _framework()


def _table(prefix, rows):
    out = pd.DataFrame({"id": [f"{prefix}{k}" for k in range(len(rows))]})
    for key in ("role", "target_role"):
        if any(key in r for r in rows):
            out[key] = [r.get(key, np.nan) for r in rows]
    for c in COMPS:
        out["comp_" + c] = [float(r.get("levels", {}).get(c, np.nan)) for r in rows]
    return out


def _levels(*values):
    return dict(zip(COMPS, values))


def _all_pairs(prep, n, m):
    i = np.repeat(np.arange(n), m)
    j = np.tile(np.arange(m), n)
    return prep.values(i, j).reshape(n, m), i, j


def test_worked_gap_example_by_hand():
    # Mentee: an SDR; the first up move from sdr (by id) is "ae" (ae < ops).
    # ae requires        prospecting 3, negotiation 3, forecasting 2, discovery 2, presenting 2
    # importance         1.0            2.0            1.0            1.0          0.5
    # mentee levels      1              2              2              0            2
    # gap                2              1              0              2            0
    # importance x gap   2              2              0              2            0   -> sum 6
    # mentor levels      4              3              0              1            5
    # covers (>= req)    yes            yes            (no gap)       no           (no gap)
    # value = (2 + 2) / 6 = 2/3
    mentees = _table("E", [{"role": "sdr", "levels": _levels(1, 2, 2, 0, 2)}])
    mentors = _table("M", [{"levels": _levels(4, 3, 0, 1, 5)}])
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    i, j = np.array([0]), np.array([0])
    assert prep.values(i, j)[0] == pytest.approx(2 / 3)
    d = prep.details(i, j)
    assert d["target_role"].tolist() == ["ae"]
    np.testing.assert_array_equal(d["gap"][0], [2, 1, 0, 2, 0])
    assert int(d["covered"][0]) == 0b00011  # bit c = competencies[c]: prospecting, negotiation
    assert covered_names(d["covered"][0], prep.competencies) == ["prospecting", "negotiation"]
    assert prep.competencies == COMPS and prep.titles["ae"] == "Account Executive"
    assert prep.describe(d, 0) == ("covers prospecting (+2) and negotiation (+1) that Account "
                                   "Executive requires")
    # the gap agrees with the framework's own computation
    np.testing.assert_array_equal(FW.gap(np.array([[1, 2, 2, 0, 2.0]]), ["ae"])[0], d["gap"][0])


def test_every_gap_covered_is_one_none_is_zero():
    mentees = _table("E", [{"role": "sdr", "levels": _levels(1, 2, 2, 0, 2)}])
    mentors = _table("M", [{"levels": _levels(3, 3, 2, 2, 2)},    # exactly what ae requires
                           {"levels": _levels(2, 2, 5, 1, 5)},    # below on every gap
                           {"levels": _levels(5, 5, 5, 5, 5)}])
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    values, i, j = _all_pairs(prep, 1, 3)
    assert values.tolist() == [[1.0, 0.0, 1.0]]
    d = prep.details(i, j)
    assert d["covered"].tolist() == [0b01011, 0, 0b01011]
    assert prep.describe(d, 1) == "covers none of the gaps Account Executive requires"


def test_explicit_target_role_and_unknown_target():
    # target ops: requires forecasting 4 (gap 2, importance 1) and presenting 3 (gap 1)
    mentees = _table("E", [{"role": "sdr", "target_role": "ops", "levels": _levels(1, 1, 2, 1, 2)},
                           {"role": "sdr", "target_role": "cfo", "levels": _levels(1, 1, 2, 1, 2)}])
    mentors = _table("M", [{"levels": _levels(0, 0, 4, 0, 0)}])
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    values, i, j = _all_pairs(prep, 2, 1)
    assert values[0, 0] == pytest.approx(2 / 3)
    assert np.isnan(values[1, 0])  # a target role the framework does not know
    assert prep.details(i, j)["target_role"].tolist() == ["ops", ""]


def test_best_next_takes_the_best_next_role():
    # sdr -> ae or ops. This mentor covers the ops gaps fully but few of the ae gaps.
    mentees = _table("E", [{"role": "sdr", "levels": _levels(1, 1, 2, 1, 2)}])
    mentors = _table("M", [{"levels": _levels(0, 0, 4, 0, 3)}])
    ctx = Context(framework=FW)
    i, j = np.array([0]), np.array([0])
    # ae gaps: prospecting 2 (x1), negotiation 2 (x2), discovery 1 (x1) -> covers none
    assert Competency().prepare(mentees, mentors, ctx).values(i, j)[0] == 0.0
    best = Competency(target="best_next").prepare(mentees, mentors, ctx)
    assert best.values(i, j)[0] == 1.0
    assert best.details(i, j)["target_role"].tolist() == ["ops"]


def test_lateral_move_when_no_move_up():
    # ae has only a lateral move, to cs (negotiation 3, discovery 3)
    mentees = _table("E", [{"role": "ae", "levels": _levels(3, 2, 2, 2, 2)}])
    mentors = _table("M", [{"levels": _levels(0, 3, 0, 0, 0)}])
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    i, j = np.array([0]), np.array([0])
    assert prep.details(i, j)["target_role"].tolist() == ["cs"]
    assert prep.values(i, j)[0] == pytest.approx(0.5)  # covers negotiation (1) of 1 + 1


def test_nan_where_nothing_to_measure():
    rows = [{"role": "sdr", "levels": _levels(5, 5, 5, 5, 5)},   # no gap: already meets ae
            {"role": "nobody", "levels": _levels(1, 1, 1, 1, 1)},  # unknown role
            {"role": "sdr"},                                     # no levels
            {"levels": _levels(1, 1, 1, 1, 1)},                  # no role
            {"role": "sdr", "levels": _levels(1, 3, 2, 2, 2)}]   # one known gap: prospecting
    mentees = _table("E", rows)
    mentors = _table("M", [{"levels": _levels(5, 5, 5, 5, 5)}, {}])  # the second has no levels
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    values, i, j = _all_pairs(prep, 5, 2)
    assert np.isnan(values[:4]).all()
    assert values[4].tolist()[0] == 1.0 and np.isnan(values[4, 1])
    d = prep.details(i, j)
    assert prep.describe(d, 0) == "the mentee already meets what Account Executive requires"
    assert prep.describe(d, 2) == "no target role on the career framework"
    # without a framework every pair is neutral
    none = Competency().prepare(mentees, mentors, Context())
    assert np.isnan(none.values(i, j)).all()
    assert none.details(i, j)["target_role"].tolist() == [""] * len(i)


def test_partly_known_levels_use_the_known_competencies():
    # negotiation unknown for the mentee, discovery unknown for the mentor: both left out
    mentees = _table("E", [{"role": "sdr", "levels": _levels(1, np.nan, 2, 0, 2)}])
    mentors = _table("M", [{"levels": _levels(4, 0, 0, np.nan, 0)}])
    prep = Competency().prepare(mentees, mentors, Context(framework=FW))
    assert prep.values(np.array([0]), np.array([0]))[0] == 1.0  # prospecting: the one left


def test_settings_are_validated():
    with pytest.raises(ValidationError, match="features.competency.target"):
        Competency(target="best")


def test_inputs_not_modified():
    mentees = _table("E", [{"role": "sdr", "levels": _levels(1, 2, 2, 0, 2)}])
    mentors = _table("M", [{"levels": _levels(4, 3, 0, 1, 5)}])
    before = (mentees.copy(), mentors.copy())
    Competency(target="best_next").prepare(mentees, mentors, Context(framework=FW)).values(
        np.array([0]), np.array([0]))
    pd.testing.assert_frame_equal(mentees, before[0])
    pd.testing.assert_frame_equal(mentors, before[1])


@given(st.data())
def test_property_range_and_nan_only_without_a_gap(data):
    fw = data.draw(career_frameworks())
    mentors, mentees = data.draw(people_tables(max_mentees=5, max_mentors=4, framework=fw))
    target = data.draw(st.sampled_from(["next_up", "best_next"]))
    prep = Competency(target=target).prepare(mentees, mentors, Context(framework=fw))
    values, i, j = _all_pairs(prep, len(mentees), len(mentors))
    assert np.all(np.isnan(values) | ((values >= 0) & (values <= 1)))
    # every level is known here, so NaN means no target or no gap toward any candidate target
    cols = fw.columns
    for k, role in enumerate(mentees["role"]):
        options = fw.next_roles(role)
        if target == "next_up":
            up = [r for r in options if fw.graph.edges[role, r]["kind"] == "up"]
            options = (up or options)[:1]
        gaps = [fw.gap(mentees.loc[[k], cols].to_numpy(float), [t])[0] for t in options]
        has_gap = any((g * fw.importance.loc[t].to_numpy(float)).sum() > 0 for g, t in zip(gaps, options))
        assert np.isnan(values[k]).all() == (not has_gap)
    # a mentor at the target's required level covers every gap
    d = prep.details(i, j)
    for k in range(len(mentees)):
        t = d["target_role"][k * len(mentors)]
        if t:
            top = pd.DataFrame({"id": ["MX"], **{c: [5.0] for c in cols}})
            full = Competency(target=target).prepare(mentees, top, Context(framework=fw))
            v = full.values(np.array([k]), np.array([0]))[0]
            assert np.isnan(v) or v == 1.0


def test_vectorised_on_many_pairs_matches_small_calls():
    rng = np.random.default_rng(0)
    n, m = 40, 30
    mentees = _table("E", [{"role": rng.choice(["sdr", "ae", "ops"]),
                            "levels": _levels(*rng.integers(0, 6, 5))} for _ in range(n)])
    mentors = _table("M", [{"levels": _levels(*rng.integers(0, 6, 5))} for _ in range(m)])
    prep = Competency(target="best_next").prepare(mentees, mentors, Context(framework=FW))
    values, i, j = _all_pairs(prep, n, m)
    one_by_one = np.array([prep.values(np.array([a]), np.array([b]))[0] for a, b in zip(i[::37], j[::37])])
    np.testing.assert_array_equal(values.reshape(-1)[::37], one_by_one)
