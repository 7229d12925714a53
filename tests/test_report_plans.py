"""Development plans: a plan's competencies are exactly the target role's gaps, recomputed
from the framework and the people's own mastery columns."""
import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.careers import CareerFramework
from mentormatch.errors import ValidationError

FW = CareerFramework.sales()


@pytest.fixture(scope="module")
def round_():
    mentors, mentees = mm.synthetic.organisation(n_mentees=80, n_mentors=25, seed=11)
    rng = np.random.default_rng(11)
    # a stated target for everyone: any move from the role, so the target is known independently
    targets = [FW.next_roles(r)[int(rng.integers(len(FW.next_roles(r))))] if FW.next_roles(r) else ""
               for r in mentees["role"]]
    mentees = mentees.assign(target_role=targets)
    # some unknown mastery: left out of the plan, never guessed
    mentees.loc[mentees.index[:5], "comp_closing"] = np.nan
    programme = {"plans": {"start_date": "2027-01-11", "cadence_weeks": 4, "horizon_weeks": 12}}
    return mentors, mentees, mm.pair(mentors, mentees, programme)


def test_plan_competencies_are_exactly_the_target_roles_gaps(round_):
    mentors, mentees, result = round_
    e = mentees.set_index("id")
    m = mentors.set_index("id")
    plans = result.plans
    assert len(plans)
    for row in result.pairs.itertuples():
        plan = plans[(plans["mentee_id"] == row.mentee_id) & (plans["mentor_id"] == row.mentor_id)]
        target = e.loc[row.mentee_id, "target_role"]
        req = FW.required.loc[target]
        cur = pd.Series({c: e.loc[row.mentee_id, f"comp_{c}"] for c in FW.competencies}, dtype=float)
        gaps = {c for c in FW.competencies if pd.notna(cur[c]) and cur[c] < req[c]}
        assert set(plan["competency"]) == gaps, row.mentee_id
        if not len(plan):
            continue
        assert (plan["target_role"] == target).all()
        for r in plan.itertuples():
            assert r.current == cur[r.competency] and r.target == req[r.competency]
            assert r.gap == req[r.competency] - cur[r.competency]
            assert r.importance == FW.importance.loc[target, r.competency]
            assert r.mentor_covers == bool(m.loc[row.mentor_id, f"comp_{r.competency}"] >= req[r.competency])
            assert r.activity == FW.activities[r.competency]
        # most important first (importance x gap), ties by competency id
        keys = list(zip(-plan["priority"], plan["competency"]))
        assert keys == sorted(keys)
        assert plan["order"].tolist() == list(range(1, len(plan) + 1))
        # milestones every 4 weeks from the start, within 12 weeks, in plan order, last at the end
        weeks = [(d - dt.date(2027, 1, 11)).days / 7 for d in plan["due"]]
        assert all(w in (4, 8, 12) for w in weeks) and weeks == sorted(weeks) and weeks[-1] == 12


def test_plan_of_one_mentee_and_its_settings(round_):
    _, _, result = round_
    e = result.pairs["mentee_id"].iloc[0]
    plan = result.plan(e, start="2027-02-01", cadence_weeks=6, horizon_weeks=6)
    assert (plan["due"] == dt.date(2027, 3, 15)).all()
    if len(result.unmatched):
        assert result.plan(result.unmatched["mentee_id"].iloc[0]).empty
    with pytest.raises(mm.errors.UnknownNameError):
        result.plan("nobody")


@pytest.mark.parametrize("plans, key", [({"cadence_weeks": 0}, "plans.cadence_weeks"),
                                        ({"horizon_weeks": "long"}, "plans.horizon_weeks"),
                                        ({"start_date": "next monday"}, "plans.start_date"),
                                        ({"cadense_weeks": 6}, "plans.cadense_weeks")])
def test_plan_settings_are_validated(plans, key):
    with pytest.raises(ValidationError) as info:
        mm.rules.Rules.from_dict({"plans": plans})
    assert info.value.problems[0].column == key


def test_framework_activities_must_name_competencies():
    text = dataclasses.replace(FW, activities={}).to_toml() + '\n[activities]\nnegotation = "role-play"\n'
    with pytest.raises(ValidationError, match="negotation"):
        CareerFramework._from_toml_text(text, "test")
