"""Reproducers found by session 17's random-seed hunt (s17h8) that are not fixed: each pinned by
a strict xfail with its exact case, to turn into a plain test once fixed."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints
from mentormatch.solvers.linear import LinearModel

from test_row_tolerance import _highs, exactly_feasible

#: test_row_tolerance._mixed(112): 5 mentees x 2 mentors (complete, by mentee then mentor);
#: mentee 3 (group 1, alone) scores near 1.8, every other mentee near 1e-8.
MIXED_112 = [8.92848267285716e-09, 9.693395809702412e-09, 1.583610132003237e-08,
             5.741407265160379e-09, 1.7329586677106892e-08, 1.949746015944266e-08,
             1.6911537851410214, 1.976739869882264, 1.2640893261253475e-08, 7.82436609406948e-09]


@pytest.mark.xfail(strict=True, reason=(
    "ROW_TOL's rule is not one rule here: the check passes four mentees scoring near 1e-8 "
    "(the score floor's rows broken by about 5e-8, under ROW_TOL x max(1, largest term)), "
    "HiGHS takes the point fixed, but calls the relaxation that needs 4 matched infeasible, "
    "without presolve too (exactly it is: a floor of 1.0 asks each group's mean to be the "
    "overall mean). test_row_tolerance's docstring claims it never does; its _mixed seeds "
    "0-29 do not reach this (seed 112 does). The engine keeps the coverage stage's "
    "assignment then (test_checks_matrix_coverage); its answers on _mixed(0..300) break no "
    "row, and an 'optimal' value (bound) is at most 5e-8 below brute force's under ROW_TOL."))
def test_a_point_the_check_passes_is_a_point_of_highss_relaxation():
    g = np.array([0, 2, 2, 1, 2])
    p = AssignmentProblem(Candidates.complete(5, 2), np.array(MIXED_112), np.array([3.0, 2.0]),
                          load=np.array([1.0, 1.0, 1.0, 1.0, 0.5]),
                          side=SideConstraints(group=g, group_names=["a", "b", "c"], score_floor=1.0))
    P = p.pairs
    x = np.isin(np.arange(len(P)), [0, 2, 4, 9])  # mentees 0, 1, 2, 4: all but mentee 3
    model = LinearModel(p, coverage_at_least=4)
    assert not exactly_feasible(p, x)  # within the tolerance, not exactly
    assert model.check(P.mentee, P.mentor, p.score, x) == []
    assert _highs(model, p, x) == "optimal"  # the point itself, fixed
    assert _highs(model, p, None) == "optimal"  # the relaxation that holds it: "infeasible"
