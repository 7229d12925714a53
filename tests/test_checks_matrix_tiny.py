"""Issue 23's checks on tiny instances, on every pair source (the complete set, cached blocks,
bounds; forced at any size by ``_support.on_source``), against brute force.

Hypothesis draws people tables (at most 5 mentees x 3 mentors) with the columns each side
constraint reads and a programme that switches one or two of them on. On each source,
``pair()``'s answer:

* meets every constraint, recomputed from the caller's tables (``table_violations``);
* is optimal, and its objective is the brute-force optimum of the complete set's problem
  (every assignment enumerated, ``mentormatch.testing.feasible_assignments``);
* has a bound at least that optimum;
* is an ``InfeasibleError`` exactly when brute force finds no feasible assignment;
* has the same pairs as on the complete set where the optimum is unique.

Max-min and leximin, and a round's bonus (the ``priority`` column; priority and continuity as a
``PairBonus``), each with at most one side constraint, the same way. ``MATRIX_EXAMPLES`` (an
environment variable) sets the examples per test for a longer hunt (default 20).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.errors import InfeasibleError
from mentormatch.solvers.cpsat import score_scale
from mentormatch.testing import CITIES, REGIONS, feasible_assignments, people_tables

from _support import SOURCES, on_source, result_positions, table_violations

#: Features the drawn tables carry (no preferences, framework or readiness columns).
FEATURES = ("geography", "experience", "personality")
#: The side constraints a drawn programme switches on (one or two of them).
SIDE = ("budget", "min_load", "incentives", "balanced_load", "score_floor", "share_floor",
        "fractional")
TINY = settings(max_examples=int(os.environ.get("MATRIX_EXAMPLES", 20)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@st.composite
def tables_and_programme(draw, families=SIDE, at_most: int = 2, coverage=True):
    """``(mentors, mentees, programme, on)``: people tables with the columns of the side
    constraints in ``on`` (drawn from ``families``) and a programme that asks for them."""
    mentors, mentees = draw(people_tables(max_mentees=5, max_mentors=3, managers=False))
    n, m = len(mentees), len(mentors)
    on = draw(st.lists(st.sampled_from(families), min_size=1, max_size=at_most, unique=True))
    weights = {f: draw(st.sampled_from([0.5, 1.0, 2.0])) for f in
               draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=3, unique=True))}
    cons: dict = {"management_line": False}
    fair: dict = {}
    vals = lambda options, k: draw(st.lists(st.sampled_from(options), min_size=k, max_size=k))
    if "budget" in on or "incentives" in on:
        mentors["stipend_fixed"] = vals([0.0, 50.0, 100.0], m)
        mentors["stipend_per_mentee"] = vals([0.0, 10.0, 25.0], m)
    if "budget" in on:
        cons["budget"] = draw(st.sampled_from([0.0, 40.0, 100.0, 150.0, 250.0]))
    if "min_load" in on:
        mentors["min_capacity"] = np.minimum(vals([0, 1, 2, 3], m), mentors["capacity"]).astype(int)
    if "incentives" in on:
        cons["incentives"] = True
        mentors["bonus"] = vals([0.0, 50.0, 200.0], m)
        mentors["reservation_value"] = vals([0.0, 40.0, 120.0], m)
    if "balanced_load" in on:
        cons["balanced_load"] = True
    if "score_floor" in on:
        fair.update(floor_group="region", score_floor=draw(st.sampled_from([0.5, 0.8, 1.0])))
    if "share_floor" in on:
        fair.update(floor_group="region", share_floor=draw(st.sampled_from([0.25, 0.5, 1.0])))
    if "fractional" in on:
        mentees["load"] = vals([0.5, 1.0, 1.5], n)
        mentors["capacity"] = mentors["capacity"] + np.array(vals([0.0, 0.5], m))
    if coverage and draw(st.booleans()):
        cons["coverage_first"] = True
    programme = {"weights": weights, "constraints": cons, "time_limit": 60}
    if fair:
        programme["fairness"] = fair
    return mentors, mentees, programme, on


def _run(mentors, mentees, programme, kind):
    with on_source(kind):
        try:
            r = mm.pair(mentors, mentees, programme)
        except InfeasibleError as e:
            return e
    assert (r.data.get("pair_source") or "complete") == kind  # the source asked for
    return r


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


def _best_rows(bf, value, coverage: bool):
    """The feasible assignments that attain the optimum (the most matched first, when asked)."""
    ok = bf.feasible.copy()
    if coverage:
        ok &= bf.matched == bf.matched[ok].max()
    return ok & (value >= value[ok].max() - 1e-9)


@TINY
@given(tables_and_programme())
def test_side_constraints_on_every_source_against_brute_force(case):
    mentors, mentees, programme, on = case
    note(f"mentors = {mentors.to_dict('list')}\nmentees = {mentees.to_dict('list')}")
    complete = pl.prepare(mentors, mentees, programme)
    bf = feasible_assignments(complete.problem)
    coverage = bool(programme["constraints"].get("coverage_first"))
    results = {kind: _run(mentors, mentees, programme, kind) for kind in SOURCES}
    event(f"{'+'.join(sorted(on))}{' coverage_first' if coverage else ''}: "
          f"{'feasible' if bf.any_feasible else 'infeasible'}")
    if not bf.any_feasible:
        for kind, r in results.items():
            assert isinstance(r, InfeasibleError), (kind, "brute force finds no assignment")
        return
    best = _best_rows(bf, bf.total, coverage)
    event(f"optimum unique: {best.sum() == 1}")
    optimum = float(bf.total[best][0])
    for kind, r in results.items():
        assert not isinstance(r, Exception), (kind, "InfeasibleError on a feasible instance", r)
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        # no bound only for a lexicographic goal whose count was not proven (the engine's rule)
        assert (r.bound is None and coverage and r.status == "feasible"
                or r.bound is not None and r.bound >= optimum - 1e-6), kind
        assert r.objective <= optimum + 1e-6, kind
        if "fractional" in on and r.status == "feasible":
            continue  # fractional loads can end with a gap on tiny instances
        assert r.status == "optimal", (kind, r.status, r.gap)
        assert r.objective == pytest.approx(optimum, abs=1e-6), kind
        if coverage:
            assert r.pairs["mentee_id"].nunique() == bf.matched[best][0], kind
        if best.sum() == 1:  # one optimum: every source finds it
            assert _key(r) == _key(results["complete"]), kind


@TINY
@given(tables_and_programme(families=SIDE + ("none",), at_most=1, coverage=False),
       st.sampled_from(["maxmin", "leximin"]))
def test_maxmin_and_leximin_on_every_source_against_brute_force(case, objective):
    """Max-min (the most pairs, the best worst pair, then the total) and leximin (the most
    pairs, the best sorted vector of scores), with at most one side constraint."""
    mentors, mentees, programme, on = case
    programme = {**programme, "fairness": {**programme.get("fairness", {}), "objective": objective}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    bf = feasible_assignments(p)
    results = {kind: _run(mentors, mentees, programme, kind) for kind in SOURCES}
    if not bf.any_feasible:
        for kind, r in results.items():
            assert isinstance(r, InfeasibleError), kind
        return
    most = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
    # scores compared in the solvers' integer units (solvers.cpsat.score_scale, the rounding their
    # certificates report): two scores closer than that are one level; below 1e-3 (scores of
    # mixed magnitudes: 6.2e-9 beside 0.5) CP-SAT (any side constraint) splits the level
    # (solvers.cpsat_levels) and the scores compare as they are (the plain flows do not)
    scale = score_scale(p.score)
    fine = 1e-3 if p.side.active() or not np.all(p.load == 1) else 0.0
    level = lambda v: np.where(np.abs(v) >= fine, np.round(np.asarray(v, float) * scale), v)
    vectors = [tuple(level(np.sort(p.score[bf.x[k]]))) for k in np.flatnonzero(most)]
    for kind, r in results.items():
        assert not isinstance(r, Exception), (kind, "InfeasibleError on a feasible instance", r)
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        assert r.status == "optimal", kind
        pos = result_positions(complete, r)
        assert len(pos) == bf.matched[most][0], (kind, "the most pairs")
        got = level(np.sort(p.score[pos]))
        if objective == "maxmin":
            worst = level(bf.worst)
            best = worst[most].max()
            assert (got[0] if len(got) else np.inf) == best, kind
            among = most & (worst == best)
            assert r.objective == pytest.approx(bf.total[among].max(), abs=len(p.score) / scale + 1e-9), kind
        else:
            assert tuple(got) == max(vectors), kind


@TINY
@given(tables_and_programme(families=SIDE + ("none",), at_most=1, coverage=False),
       st.data())
def test_priority_bonus_on_every_source_against_brute_force(case, data):
    """The mentees' ``priority`` column (a bonus of priority x priority_weight on each of their
    pairs): the pairs maximise score + bonus among the feasible assignments, with and without a
    side constraint; the reported objective stays the plain score."""
    mentors, mentees, programme, on = case
    mentees = mentees.assign(priority=data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, 2.0]),
                                                         min_size=len(mentees), max_size=len(mentees))))
    weight = data.draw(st.sampled_from([0.25, 1.0]))
    programme = {**programme, "constraints": {**programme["constraints"], "priority_weight": weight}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    bf = feasible_assignments(p)
    prio = mentees.set_index(mentees["id"].astype(str))["priority"]
    extra = weight * prio.reindex(complete.mentee_ids.decode(p.pairs.mentee)).to_numpy(float)
    results = {kind: _run(mentors, mentees, programme, kind) for kind in SOURCES}
    _check_bonus_results(results, bf, extra, mentors, mentees, programme, complete)


@TINY
@given(tables_and_programme(families=SIDE + ("none",), at_most=1, coverage=False),
       st.data())
def test_round_bonus_on_every_source_against_brute_force(case, data):
    """A programme round's bonus (``pipeline.solve(prepared, PairBonus)``): priority per mentee
    plus continuity on listed (mentee, mentor) pairs; the pairs maximise score + bonus among the
    feasible assignments on every source, the reported objective stays the plain score."""
    mentors, mentees, programme, on = case
    e_ids, m_ids = list(mentees["id"].astype(str)), list(mentors["id"].astype(str))
    per = dict(zip(e_ids, data.draw(st.lists(st.sampled_from([0.0, 0.0, 0.5]), min_size=len(e_ids),
                                             max_size=len(e_ids)))))
    listed = data.draw(st.lists(st.tuples(st.sampled_from(e_ids), st.sampled_from(m_ids),
                                          st.sampled_from([0.25, 1.0])),
                                max_size=3, unique_by=lambda t: t[:2]))

    def bonus_of(prep):
        return pl.PairBonus(per_mentee=np.array([per[x] for x in prep.mentee_ids.decode(
                                range(len(e_ids)))]),
                            mentee=np.asarray(prep.mentee_ids.encode([t[0] for t in listed]), np.int64),
                            mentor=np.asarray(prep.mentor_ids.encode([t[1] for t in listed]), np.int64),
                            value=np.array([t[2] for t in listed]), n_mentors=len(m_ids))

    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    bf = feasible_assignments(p)
    extra = bonus_of(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    results = {}
    for kind in SOURCES:
        with on_source(kind):
            prep = pl.prepare(mentors, mentees, programme)
            try:
                results[kind] = pl.solve(prep, bonus_of(prep))
            except InfeasibleError as e:
                results[kind] = e
    for kind, r in results.items():
        assert isinstance(r, Exception) or (r.data.get("pair_source") or "complete") == kind
    _check_bonus_results(results, bf, extra, mentors, mentees, programme, complete)


def _check_bonus_results(results, bf, extra, mentors, mentees, programme, complete):
    """Each source's result with a bonus ``extra`` (per pair of the complete problem) against
    brute force: InfeasibleError exactly when no assignment exists; otherwise the constraints
    hold on the tables, the pairs maximise score + bonus, the objective is the plain score, and
    a unique optimum is the same pairs on every source."""
    p = complete.problem
    adjusted = bf.x.astype(float) @ (p.score + extra)
    if not bf.any_feasible:
        for kind, r in results.items():
            assert isinstance(r, InfeasibleError), kind
        return
    best = _best_rows(bf, adjusted, False)
    for kind, r in results.items():
        assert not isinstance(r, Exception), (kind, "InfeasibleError on a feasible instance", r)
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        assert float((p.score + extra)[pos].sum()) == pytest.approx(adjusted[best][0], abs=1e-6), kind
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9), kind
        if best.sum() == 1:
            assert _key(r) == _key(next(iter(results.values()))), kind

#: One mentor in London, mentees elsewhere, every other column alike: geography alone scores.
_ALIKE = dict(years_experience=0.0, level=0, gender="female", openness=1.0, conscientiousness=1.0,
              extraversion=1.0, agreeableness=1.0, neuroticism=1.0)


def _person(pid, tz, **more):
    lat, lon = CITIES[tz]
    return dict(id=pid, timezone=tz, latitude=lat, longitude=lon, region=REGIONS[tz], **_ALIKE, **more)


@pytest.mark.parametrize("kind", SOURCES)
def test_a_priority_bonus_does_not_count_toward_a_reservation_value(kind):
    """One pair, score 0.2575 of a best 0.5: success probability 0.515, expected payoff
    50 x 0.515 = 25.8 below the reservation value 40, so the pair cannot be made. The mentee's
    priority (1 x 0.25) is an objective bonus, not a success: with it counted, the probability
    reads (0.2575 + 0.25) / 0.5 >= 1 and the payoff 50 >= 40."""
    mentors = pd.DataFrame([_person("M000", "Europe/London", capacity=1.0, stipend_fixed=0.0,
                                    stipend_per_mentee=0.0, bonus=50.0, reservation_value=40.0)])
    mentees = pd.DataFrame([_person("E000", "Europe/Berlin", priority=1.0)])
    programme = {"weights": {"geography": 0.5}, "time_limit": 60,
                 "constraints": {"management_line": False, "incentives": True, "priority_weight": 0.25}}
    complete = pl.prepare(mentors, mentees, programme)
    assert not feasible_assignments(complete.problem).feasible[1:].any()  # only the empty one
    r = _run(mentors, mentees, programme, kind)
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert len(r.pairs) == 0


@pytest.mark.parametrize("kind", SOURCES)
def test_a_priority_bonus_does_not_count_toward_a_score_floor(kind):
    """Two mentees of two regions, one mentor of capacity 2; a score floor of 0.8 by region.
    Both pairs together leave the weaker region's mean below 0.8 x the overall mean on the
    plain scores; with the priority bonus (1 x 0.25) on the weaker one added, they would not."""
    mentors = pd.DataFrame([_person("M000", "Europe/London", capacity=2.0)])
    mentees = pd.DataFrame([_person("E001", "Europe/London", priority=0.0),
                            _person("E002", "America/New_York", priority=1.0)])
    programme = {"weights": {"geography": 0.5}, "time_limit": 60,
                 "constraints": {"management_line": False, "priority_weight": 0.25},
                 "fairness": {"score_floor": 0.8, "floor_group": "region"}}
    complete = pl.prepare(mentors, mentees, programme)
    bf = feasible_assignments(complete.problem)
    assert not bf.feasible[bf.matched == 2].any()  # both pairs together break the floor
    r = _run(mentors, mentees, programme, kind)
    assert table_violations(mentors, mentees, programme, r, complete) == []



@pytest.mark.parametrize("kind", SOURCES)
def test_fractional_loads_on_a_tiny_instance_are_solved_to_optimality(kind):
    """Five mentees in London (loads 0.5, 1, 1.5, 1.5, 1.5), three mentors (capacities 3, 2, 1;
    one in Tokyo): every pair scores 0.8, 1.425 or 1.3 by mentor."""
    people = lambda ids, **cols: pd.DataFrame({"id": ids, **{k: v for k, v in _ALIKE.items()}, **cols})
    mentors = people(["M000", "M117", "M119"], level=[0, 0, 2],
                     timezone=["Asia/Tokyo", "Europe/London", "Europe/London"],
                     latitude=[35.6762, 51.5074, 51.5074], longitude=[139.6503, -0.1278, -0.1278],
                     region=["APAC", "EMEA", "EMEA"], capacity=[3.0, 2.0, 1.0])
    mentees = people(["E323", "E426", "E481", "E747", "E000"], timezone="Europe/London",
                     latitude=51.5074, longitude=-0.1278, region="EMEA",
                     load=[0.5, 1.0, 1.5, 1.5, 1.5])
    programme = {"weights": {"geography": 0.5, "experience": 0.5, "personality": 0.5},
                 "constraints": {"management_line": False}, "time_limit": 60}
    complete = pl.prepare(mentors, mentees, programme)
    optimum = feasible_assignments(complete.problem).best_total
    assert optimum == pytest.approx(5.625, abs=1e-6)
    r = _run(mentors, mentees, programme, kind)
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert r.status == "optimal" and r.objective == pytest.approx(optimum, abs=1e-6)


@pytest.mark.parametrize("kind", SOURCES)
def test_coverage_first_with_fractional_loads_matches_the_most_mentees(kind):
    """Regression (found by the hypothesis test above, 2026-12-06): two mentors (capacities 3.5
    and 1.5), four mentees of loads 1, 1.5, 1.5 and 1, coverage_first. The complete set claimed
    'optimal' with 3 of 4 mentees matched (objective 1.175; brute force: 4 can be, best total
    1.05): the score stage's relaxation rounded down and repaired lost a mentee, and the check
    of an assignment (``linear_rows.violations``) left out the coverage row, so that incumbent
    counted as feasible and its value as the bound."""
    mentors = {'id': ['M000', 'M559'], 'years_experience': [14.0, 0.0], 'level': [0, 4], 'timezone': ['Australia/Sydney', 'Europe/London'], 'latitude': [-32.8688, 51.5074], 'longitude': [152.2093, -0.1278], 'gender': ['nonbinary', 'female'], 'region': ['APAC', 'EMEA'], 'openness': [5.0, 1.0], 'conscientiousness': [5.0, 1.0], 'extraversion': [5.0, 1.0], 'agreeableness': [5.0, 1.0], 'neuroticism': [5.0, 1.0], 'capacity': [3.5, 1.5], 'min_capacity': [0, 0]}
    mentees = {'id': ['E000', 'E001', 'E002', 'E003'], 'years_experience': [0.0, 0.0, 0.0, 0.0], 'level': [0, 0, 0, 1], 'timezone': ['Europe/London', 'Europe/London', 'Europe/London', 'Europe/London'], 'latitude': [51.5074, 51.5074, 51.5074, 51.5074], 'longitude': [-0.1278, -0.1278, -0.1278, -0.1278], 'gender': ['female', 'female', 'female', 'female'], 'region': ['EMEA', 'EMEA', 'EMEA', 'EMEA'], 'openness': [1.0, 1.0, 1.0, 1.0], 'conscientiousness': [1.0, 1.0, 1.0, 1.0], 'extraversion': [1.0, 1.0, 1.0, 1.0], 'agreeableness': [1.0, 1.0, 1.0, 1.0], 'neuroticism': [1.0, 1.0, 1.0, 1.0], 'load': [1.0, 1.5, 1.5, 1.0]}
    mentors, mentees = pd.DataFrame(mentors), pd.DataFrame(mentees)
    programme = {"weights": {"experience": 0.5}, "time_limit": 60,
                 "constraints": {"management_line": False, "coverage_first": True}}
    plain = pl.prepare(mentors, mentees, {**programme, "constraints": {"management_line": False}})
    bf = feasible_assignments(plain.problem)
    most = int(bf.matched[bf.feasible].max())
    best = float(bf.total[bf.feasible & (bf.matched == most)].max())
    r = _run(mentors, mentees, programme, kind)
    assert len(r.pairs) == most == 4
    assert r.status == "optimal" and r.objective == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("objective", ["flow", "maxmin", "leximin"])
def test_unit_loads_with_a_fractional_capacity_on_every_source(objective):
    """Drawn by the test above (2026-12-06): one mentor of capacity 0.5, one mentee of load 1.
    The scale path called loads of 1 'unit' whatever the capacities, handed 0.5 to the certified
    flows and raised a bare ValueError ('capacity must be whole numbers'); now a fractional
    capacity goes where the complete set sends it, and every source gives the same answer."""
    from mentormatch.synthetic import organisation

    mentors, mentees = organisation(n_mentees=2, n_mentors=2, seed=3)
    mentors["capacity"] = [0.5, 2.5]
    mentees["load"] = 1.0
    programme = {"weights": {"geography": 0.5}, "constraints": {"management_line": False}}
    if objective != "flow":
        programme["fairness"] = {"objective": objective}
    results = {kind: _run(mentors, mentees, programme, kind) for kind in SOURCES}
    for kind, r in results.items():
        assert not isinstance(r, Exception), (kind, r)
        assert r.status == "optimal", kind
        assert len(r.pairs) == 2 and set(r.pairs["mentor_id"]) == {mentors["id"].iloc[1]}, kind
        assert _key(r) == _key(results["complete"]), kind
