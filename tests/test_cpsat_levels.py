"""CP-SAT's max-min and leximin (side constraints, fractional loads) on scores of mixed
magnitudes (0.5 beside 6.2e-9 and 1e-9): the integer scale's level 0 holds the tiny scores, so
the levels are split where too coarse (``cpsat_levels.levels``), and the answers are proven
against brute force on the exact values, not only "feasible" (session 20's strict xfail)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints
from mentormatch.errors import InfeasibleError
from mentormatch.solvers.cpsat_model import CpsatModel
from mentormatch.solvers.fair import solve_maxmin
from mentormatch.solvers.leximin import solve_leximin
from mentormatch.testing import feasible_assignments

#: Scores of mixed magnitudes: a level of 1/S (S about 2e7) holds every tiny one.
MIXED = np.array([0.5, 0.31, 0.25, 6.2e-9, 3.1e-9, 1e-9, 1e-9 * (1 + 1e-4), 2e-12, 0.0])


def _problem(seed: int) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 3))
    score = rng.choice(MIXED, size=n * m)
    score[0] = 0.5  # the largest best score: the scale's unit is set by it
    cap = rng.integers(1, 3, size=m).astype(float)
    kind = seed % 3
    if kind == 0:  # a budget: the mentors' stipends against it
        side = SideConstraints(budget=float(rng.choice([0.0, 30.0, 60.0])),
                               stipend_fixed=rng.choice([0.0, 20.0], size=m),
                               stipend_per_mentee=rng.choice([0.0, 10.0], size=m))
        return AssignmentProblem(Candidates.complete(n, m), score, cap, side=side)
    if kind == 1:  # a share floor by group
        side = SideConstraints(group=rng.integers(0, 2, size=n), share_floor=0.5)
        return AssignmentProblem(Candidates.complete(n, m), score, cap, side=side)
    load = rng.choice([0.5, 1.0, 1.5], size=n)  # fractional loads
    load[-1] = 0.5
    return AssignmentProblem(Candidates.complete(n, m), score, cap + 0.5, load=load)


def _solved(seed: int, solve):
    """``(problem, brute force, solution, the assignments with the most pairs)``; None after
    checking that an instance brute force finds infeasible raises InfeasibleError."""
    p = _problem(seed)
    bf = feasible_assignments(p)
    if not bf.any_feasible:
        with pytest.raises(InfeasibleError):
            solve(p)
        return None
    sol = solve(p)
    most = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
    assert len(sol.chosen) == bf.matched[most][0]
    assert sol.status == "optimal", sol.message
    return p, bf, sol, most


def test_the_xfail_case_is_proven():
    """Two mentees, one mentor, budget 0 (no stipends), scores 0.5 and 6.2e-9, both matched:
    brute force shows the answer optimal; CP-SAT proves it (old code: "feasible")."""
    side = SideConstraints(budget=0.0, stipend_fixed=np.zeros(1), stipend_per_mentee=np.zeros(1))
    p = AssignmentProblem(Candidates.complete(2, 1), np.array([0.5, 6.2e-9]), np.array([2.0]), side=side)
    for solve in (solve_maxmin, solve_leximin):
        sol = solve(p)
        assert sol.status == "optimal", (solve.__name__, sol.message)
        assert sol.chosen.tolist() == [0, 1]
    assert solve_maxmin(p).certificate["threshold_bound"] == pytest.approx(6.2e-9, rel=1e-6)


@pytest.mark.parametrize("seed", range(36))
def test_maxmin_on_mixed_magnitudes_against_brute_force(seed):
    """The most pairs, the best worst pair to its exact value, the best total among those:
    "optimal" with a threshold bound within 1e-6 of the worst pair."""
    solved = _solved(seed, solve_maxmin)
    if solved is None or not len(solved[2].chosen):
        return
    p, bf, sol, most = solved
    best = bf.worst[most].max()
    worst = p.score[sol.chosen].min()
    assert worst >= best * (1 - 1e-6) - 1e-12, (worst, best)
    if "threshold_bound" in sol.certificate:  # CP-SAT's (loads of 1 alone: the flows)
        assert sol.certificate["threshold_bound"] >= best * (1 - 1e-12)
    among = most & (bf.worst >= worst)
    assert sol.objective == pytest.approx(bf.total[among].max(), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", range(36))
def test_leximin_on_mixed_magnitudes_against_brute_force(seed):
    """The most pairs, then the best ascending vector of the exact scores: "optimal" and equal
    (entry by entry within 1e-6) to brute force's best vector."""
    solved = _solved(seed, solve_leximin)
    if solved is None:
        return
    p, bf, sol, most = solved
    best = max(tuple(np.sort(p.score[bf.x[k]])) for k in np.flatnonzero(most))
    got = np.sort(p.score[sol.chosen])
    assert np.allclose(got, best, rtol=1e-6, atol=0), (got, best)


def test_levels_split_only_where_too_coarse():
    """Scores with six decimals (exact at the scale) keep the scale's integers; mixed
    magnitudes split level 0 and only it, monotone in the score."""
    from mentormatch.solvers.cpsat_levels import levels

    plain = CpsatModel(AssignmentProblem(Candidates.complete(3, 1), np.array([0.5, 0.25, 0.125]),
                                         np.array([3.0])))
    lv = levels(plain)
    assert not lv.refined and lv.key.tolist() == plain.sc.tolist() and not lv.width.any()
    rng = np.random.default_rng(5)
    score = rng.choice(MIXED, size=40)
    b = CpsatModel(AssignmentProblem(Candidates.complete(40, 1), score, np.array([40.0])))
    lv = levels(b)
    assert lv.refined
    order = np.argsort(score, kind="stable")
    assert np.all(np.diff(lv.key[order]) >= 0)  # monotone
    distinct = len(np.unique(score))
    assert len(np.unique(lv.key)) == distinct  # here every distinct value is a level of its own
    big = score >= 0.25
    assert np.array_equal(np.unique(lv.key[big]).size, np.unique(b.sc[big]).size)


def test_the_total_is_proven_below_the_scale_by_a_finer_solve():
    """The score floor's case the hunt found (3 mentors, two with no place; the open mentor's
    pairs near 6.2e-9 and one of 0.5, a score floor that keeps 0.5 out): the threshold is
    proven by the split levels, the total (about 6.2e-9, below the first scale's rounding bound
    of 2.5e-8) by a second solve at a finer scale: "optimal" against brute force (old code:
    "feasible")."""
    score = np.array([6.2074e-9, 0.5, 0.5, 6.3e-9, 0.5, 0.5, 0.5, 0.5, 0.5])
    side = SideConstraints(group=np.array([0, 0, 1]), score_floor=0.5)
    p = AssignmentProblem(Candidates.complete(3, 3), score, np.array([1.0, 0.0, 0.0]), side=side)
    bf = feasible_assignments(p)
    most = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
    best = bf.worst[most].max()
    sol = solve_maxmin(p)
    assert sol.status == "optimal", sol.message
    assert p.score[sol.chosen].min() == pytest.approx(best, rel=1e-6)
    assert sol.objective == pytest.approx(bf.total[most & (bf.worst >= best)].max(), rel=1e-6)


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("kind", ["complete", "blocks", "bounds"])
def test_far_apart_geography_scores_of_1e14_are_not_one_level(objective, kind):
    """A New York mentor (2 places) for mentees in London, Sydney and Singapore, balanced loads
    (CP-SAT), geography only: the far pairs score 1.2e-14 (Singapore) and 3.2e-15 (Sydney).
    The levels' and the worst pair's proofs had an absolute slack of 1e-9 (``base.proven``),
    which made the two one level: Sydney's 3.2e-15 was called the optimal worst pair (found by
    the matrix test's saved example at session 21's merge). Now Singapore, on every source."""
    from _support import on_source

    common = dict(years_experience=0.0, level=0, gender="female", openness=1.0,
                  conscientiousness=1.0, extraversion=1.0, agreeableness=1.0, neuroticism=1.0)
    at = {"London": ("Europe/London", 51.5074, -0.1278, "EMEA"),
          "New York": ("America/New_York", 40.7128, -74.006, "AMER"),
          "Sydney": ("Australia/Sydney", -33.8688, 151.2093, "APAC"),
          "Singapore": ("Asia/Singapore", 1.3521, 103.8198, "APAC")}
    row = lambda i, city, **x: dict(id=i, timezone=at[city][0], latitude=at[city][1],  # noqa: E731
                                    longitude=at[city][2], region=at[city][3], **common, **x)
    mentors = pd.DataFrame([row("M000", "London", capacity=0.0), row("M538", "New York", capacity=2.0)])
    mentees = pd.DataFrame([row("E068", "London"), row("E173", "Sydney"), row("E000", "Singapore")])
    programme = {"weights": {"geography": 0.5}, "time_limit": 60, "fairness": {"objective": objective},
                 "constraints": {"management_line": False, "balanced_load": True}}
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    assert r.status == "optimal"
    assert sorted(r.pairs["mentee_id"]) == ["E000", "E068"]
    assert r.pairs["score"].min() == pytest.approx(1.2030480836045925e-14, rel=1e-6)
