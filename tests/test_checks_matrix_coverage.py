"""``coverage_first`` (the most matched mentees, then the largest total) on the engine: the
siblings of the dishonest "optimal" found by the matrix tests (issue 23), each pinned here with
its exact case and checked against brute force (``mentormatch.testing.feasible_assignments``).

* The score stage's check of an assignment holds the coverage row (the count of matched
  mentees the first stage proved): an assignment rounded down from the relaxation that lost a
  mentee is not feasible, so neither its value nor a bound equal to it stands.
* A mentee who needs several mentors counts once: the most *mentees*, not the most pairs, on
  every source of the engine (the certified flow on ``s + W`` counts pairs, so it takes only
  problems with one mentor per mentee).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.linear import LinearModel
from mentormatch.testing import feasible_assignments

from test_checks_matrix_engine import _optimum, _solved


def test_the_check_of_an_assignment_holds_the_coverage_row():
    """Three mentees, one mentor of capacity 2 and loads 0.5, 1.5 and 1: the coverage row asks
    for 2 matched; one pair breaks it, two meet it, and only the coverage row is named."""
    p = AssignmentProblem(Candidates.complete(3, 1), np.array([0.9, 0.5, 0.1]), np.array([2.0]),
                          load=np.array([0.5, 1.5, 1.0]))
    model = LinearModel(p, coverage_at_least=2)
    P = p.pairs
    check = lambda *on: model.check(P.mentee, P.mentor, p.score, np.isin(np.arange(3), on))
    assert check(1) == ["coverage"]
    assert check(0, 1) == [] and check(0, 2) == []
    assert check(1, 2) == ["capacity"]  # 2.5 > 2: two matched, but over the capacity
    assert LinearModel(p).check(P.mentee, P.mentor, p.score, np.isin(np.arange(3), [1])) == []


def _two_needed():
    """Mentee 0 needs two mentors and may have either of the two (score 1 each), mentee 1 only
    mentor 0 (score 0.1); capacities 1: two pairs either way, but two mentees only with
    (1, 0) and (0, 1), worth 1.1 against 2.0."""
    return AssignmentProblem(Candidates(np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 2),
                             np.array([1.0, 1.0, 0.1]), np.array([1.0, 1.0]),
                             demand=np.array([2, 1]), coverage_first=True)


@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_a_mentee_who_needs_two_mentors_counts_once(kind):
    """Regression: on blocks (no side rows, unit loads) the engine took the certified flow on
    ``s + W``, which counts pairs, and answered 'optimal' with mentee 0's two pairs: 1 mentee
    matched where 2 can be."""
    p = _two_needed()
    bf = feasible_assignments(p)
    assert int(bf.matched[bf.feasible].max()) == 2
    sol = _solved(p, kind, False, bf)
    assert sol.status == "optimal" and sol.objective == pytest.approx(_optimum(p, bf)) == 1.1


@pytest.mark.parametrize("solver", ["mip", "cpsat"])
def test_the_side_constraint_solvers_count_mentees(solver):
    p = _two_needed()
    sol = get_solver(solver)(p, SolverOptions(time_limit=30))
    assert sol.status == "optimal" and sorted(sol.chosen.tolist()) == [1, 2]


def test_the_flow_solver_counts_mentees():
    """The 'flow' solver's coverage_first (the certified flow on s + W, certify.solve_flow_any's
    max-flow) counted pairs, not mentees: with a mentee who needs two mentors it answered
    'optimal' with 1 of 2 mentees matched. A mentee of demand 2 now goes to the engine."""
    p = _two_needed()
    sol = get_solver("flow")(p, SolverOptions(time_limit=30))
    assert sol.status == "optimal" and sorted(sol.chosen.tolist()) == [1, 2]


def test_a_second_stage_that_highs_calls_infeasible_keeps_the_first_stages_assignment():
    """Regression (found by a longer run of test_checks_matrix_tiny's hypothesis test,
    coverage_first forced): a score floor by region, coverage_first, loads 0.5, one mentor of
    capacity 3; two mentees score about 1e-8 and three about 1.9. The coverage stage's
    heuristics matched the two (the floor's row then exceeds 0 by 7e-8, within the tolerances
    of the check of an assignment and of brute force, though above its relaxation's bound of
    1.43) while HiGHS's relaxation of the score stage, with at least 2 matched, called itself
    infeasible: ``InfeasibleError`` on a problem
    the empty assignment meets. The first stage's assignment meets every row of the second,
    so the second's infeasibility is no proof: that assignment stands, 'feasible' with no
    bound (its count is not proven either)."""
    import pandas as pd

    import mentormatch as mm
    from mentormatch import pipeline as pl

    from _support import SOURCES, on_source, table_violations

    same = lambda v, k: [v] * k
    mentors = pd.DataFrame({
        "id": ["M167", "M016"], "years_experience": [0.0, 25.5], "level": [0, 0],
        "timezone": same("Europe/London", 2), "latitude": [51.0933, 51.5074],
        "longitude": [0.4663, 0.0722], "gender": same("female", 2), "region": same("EMEA", 2),
        "openness": [3.0, 1.0], "conscientiousness": [5.0, 1.0], "extraversion": [4.0, 4.0],
        "agreeableness": [2.0, 4.0], "neuroticism": [5.0, 3.0], "capacity": [0.0, 3.0]})
    mentees = pd.DataFrame({
        "id": ["E021", "E301", "E763", "E451", "E011"],
        "years_experience": [0.0, 13.3, 37.5, 0.0, 0.0], "level": same(0, 5),
        "timezone": ["Europe/London", "Europe/London", "Asia/Tokyo", "America/Los_Angeles",
                     "Europe/London"],
        "latitude": [51.5074, 51.3592, 35.6762, 34.3477, 51.5074],
        "longitude": [-0.1278, 0.5207, 140.1222, -118.2437, -0.1278], "gender": same("female", 5),
        "region": ["EMEA", "EMEA", "APAC", "AMER", "EMEA"], "openness": [4.0, 1.0, 4.0, 1.0, 1.0],
        "conscientiousness": [2.0, 1.0, 1.0, 1.0, 1.0], "extraversion": same(1.0, 5),
        "agreeableness": [4.0, 1.0, 4.0, 1.0, 1.0], "neuroticism": [5.0, 1.0, 1.0, 1.0, 1.0],
        "load": same(0.5, 5)})
    programme = {"weights": {"geography": 2.0}, "time_limit": 60,
                 "constraints": {"management_line": False, "coverage_first": True},
                 "fairness": {"floor_group": "region", "score_floor": 0.8}}
    complete = pl.prepare(mentors, mentees, programme)
    bf = feasible_assignments(complete.problem)
    most = int(bf.matched[bf.feasible].max())
    optimum = float(bf.total[bf.feasible & (bf.matched == most)].max())
    assert most == 2
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)  # no InfeasibleError
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        assert r.pairs["mentee_id"].nunique() <= most and r.objective <= optimum + 1e-9, kind
        if r.status == "optimal":
            assert r.pairs["mentee_id"].nunique() == most, kind
            assert r.objective == pytest.approx(optimum, abs=1e-9), kind
        else:  # a bound, where given, holds over the lexicographic optimum's total
            assert r.bound is None or r.bound >= optimum - 1e-9, kind


@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_the_score_stage_starts_from_the_coverage_stages_assignment(kind, monkeypatch):
    """Regression: synthetic 150 x 100 (seed 2) with a budget and coverage_first raised
    TimeLimitError ('the search ended with time left'): once the check of an assignment held
    the coverage row, the score stage's heuristics found nothing that kept every mentee, and
    its MIPs found nothing in time. The coverage stage's assignment meets every row of the
    score stage, so it is now the score stage's first incumbent (that instance: 'optimal' in
    8 s). Forced here: in the score stage the heuristics find nothing and every MIP gives up."""
    from mentormatch.solvers import relax, stage

    from test_checks_matrix_engine import solve_and_recheck
    from _support import source_of

    p = AssignmentProblem(Candidates.complete(3, 2), np.array([0.9, 0.2, 0.8, 0.7, 0.1, 0.6]),
                          np.array([2.0, 2.0]), coverage_first=True,
                          side=SideConstraints(budget=40.0, stipend_fixed=np.zeros(2),
                                               stipend_per_mentee=np.array([20.0, 10.0])))
    in_score = lambda run: run.model.coverage_rows  # the score stage's model has the count row
    real = {"repair": stage.repair, "neighbourhood": stage.neighbourhood, "mip": relax.Run.mip}
    monkeypatch.setattr(stage, "repair",
                        lambda run, *a: None if in_score(run) else real["repair"](run, *a))
    monkeypatch.setattr(stage, "neighbourhood",
                        lambda run, *a: None if in_score(run) else real["neighbourhood"](run, *a))
    monkeypatch.setattr(relax.Run, "mip", lambda run, *a: (("unknown", None, math.inf) if in_score(run)
                                                           else real["mip"](run, *a)))
    bf = feasible_assignments(p)
    most = int(bf.matched[bf.feasible].max())
    assert most == 3  # mentor 0 once (20) and mentor 1 twice (20): 40
    sol = solve_and_recheck(p, source_of(p, kind))  # no TimeLimitError
    assert len(np.unique(p.pairs.mentee[sol.chosen])) == most
    assert sol.objective <= _optimum(p, bf) + 1e-9
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(_optimum(p, bf), abs=1e-9)
