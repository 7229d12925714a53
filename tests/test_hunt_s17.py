"""Reproducers found by session 17's random-seed hunt (s17h8): each was pinned by a strict xfail
with its exact case, and is a plain test once fixed."""
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


def test_a_point_the_check_passes_is_a_point_of_highss_relaxation():
    """The check passes four mentees scoring near 1e-8 (the score floor's rows broken by about
    5e-8, within ROW_TOL x the rows' scales, 2.0 to 7.9: mentee 3's best, 1.98, times its
    terms' factors); HiGHS took the point fixed, but called the relaxation that needs 4 matched
    infeasible, without presolve too: it had scaled the floor rows up by about 1e4 (their
    coefficients span 1e-8 to 1). Models with score floors now run in HiGHS unscaled, each
    floor row divided by its scale (linear_rows.floor_scales), so HiGHS holds them as the
    check does. Was a strict xfail (session 17)."""
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
    assert _highs(model, p, None) == "optimal"  # the relaxation that holds it (was "infeasible")
    assert model.floor_scale == pytest.approx([1.0 * 1.976739869882264,
                                               4.0 * 1.976739869882264,
                                               3.0 * 1.976739869882264], rel=1e-12)
