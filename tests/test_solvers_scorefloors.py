"""The engine's Lagrangian path for score floors by group (solvers/scorefloors.py): its bound
holds over every assignment that an independent exact solver (scipy's milp on the full model)
finds, on every pair source; its assignment meets every floor recomputed from the inputs; and
through pair() on the scale path (blocks and bounds) it is the same."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as P
from mentormatch.solvers import SolverOptions, route
from mentormatch.solvers.certify import solve_flow_any
from mentormatch.solvers.engine import solve_source
from mentormatch.testing import violations

from _support import force_scale_path, recheck_pairs, solve_and_recheck, source_of


def _reference(p, time_limit: float | None = None) -> float:
    """The full score-floor model over x, solved by scipy's milp: the optimum, or with a
    ``time_limit`` the best assignment it found (a lower bound on the optimum)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    Q, side = p.pairs, p.side
    K, n = len(Q), p.n_mentees
    rows, lo, hi = [], [], []
    for i in range(n):
        rows.append((Q.mentee == i).astype(float)); lo.append(0); hi.append(p.demand[i])
    for j in range(p.n_mentors):
        rows.append((Q.mentor == j).astype(float)); lo.append(0); hi.append(p.capacity[j])
    alpha = side.score_floor
    for g in np.unique(side.group[side.group >= 0]):
        size = np.sum(side.group == g)
        rows.append(p.score * (n * (side.group[Q.mentee] == g) - alpha * size))
        lo.append(0.0); hi.append(np.inf)
    res = milp(-p.score, constraints=LinearConstraint(np.array(rows), lo, hi),
               integrality=np.ones(K), bounds=Bounds(0, 1),
               options={"mip_rel_gap": 1e-9, **({"time_limit": time_limit} if time_limit else {})})
    assert res.x is not None  # (the empty assignment meets every floor: always feasible)
    assert res.status == 0 or time_limit
    return float(p.score @ np.round(res.x))


def _instance(seed, n=30, m=12, alpha=0.9):
    from mentormatch.pairs import Candidates
    from mentormatch.solvers.base import AssignmentProblem, SideConstraints

    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < 0.6
    pairs = Candidates.from_mask(mask)
    group = rng.integers(-1, 3, n)
    # group 0 scores low and competes for the same mentors: the plain optimum leaves it short
    score = np.round(rng.random(len(pairs)) * np.where(group[pairs.mentee] == 0, 0.5, 1.0), 3)
    cap = rng.integers(1, 3, m).astype(float)
    side = SideConstraints(group=group, group_names=["a", "b", "c"], score_floor=alpha)
    return AssignmentProblem(pairs, score, cap, side=side)


def _binding(seed):
    """An instance whose plain optimum violates a score floor (the floors bind)."""
    for alpha in (0.9, 0.8, 0.7):
        p = _instance(seed, alpha=alpha)
        plain = solve_flow_any(p.without_side(), SolverOptions())
        if violations(p, plain.chosen) == ["score_floor"]:
            return p
    raise AssertionError("no binding instance for this seed")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_the_score_floor_lagrangian_holds_against_the_full_model(seed, kind):
    p = _binding(seed)
    best = _reference(p)
    sol, _ = solve_and_recheck(p, source_of(p, kind))  # every floor, recomputed
    assert sol.bound >= best - 1e-6  # the bound holds over every pair
    assert sol.objective <= best + 1e-9
    assert (sol.status == "optimal") == (sol.gap <= 1e-6)
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best, abs=1e-6)


def test_the_lagrangian_runs_first_and_names_itself(monkeypatch):
    """Above LAGRANGE_PAIRS the engine answers with the score floors' Lagrangian alone."""
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = _binding(3)
    _, sol = solve_source(source_of(p, "array"), p.capacity, side=p.side,
                          options=SolverOptions(time_limit=30))
    assert sol.certificate["method"] == "lagrangian score floors + certified flow"
    assert sol.certificate["flows"] >= 2  # the floors bind: the multipliers moved
    assert sol.bound >= _reference(p) - 1e-6


def test_a_negative_score_voids_the_lagrangian_and_the_column_generation_answers():
    """The scaled bound needs scores >= 0: with a negative one the engine keeps its column
    generation, whose answer still meets the floors and holds against the full model."""
    p = _binding(1)
    p.score = p.score - 0.2
    sol, _ = solve_and_recheck(p, source_of(p, "array"))  # the floors, recomputed
    assert "lagrangian" not in sol.certificate
    assert sol.certificate["method"] != "lagrangian score floors + certified flow"
    assert sol.bound >= _reference(p) - 1e-6


@pytest.mark.parametrize("bounds", [False, True])
def test_pair_on_the_scale_path_meets_the_score_floor(monkeypatch, bounds):
    """pair() forced onto the scale path (blocks or bounds) with a score floor by region: the
    same objective as the complete set, the floor recomputed from the pairs, the bound at least
    the full model's optimum."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=14, seed=4)
    programme = {"fairness": {"score_floor": 0.97, "floor_group": "region"}, "time_limit": 10}
    small = P.prepare(mentors, mentees, programme)
    best = _reference(small.problem, time_limit=20)  # an assignment milp found: <= the optimum
    whole = mm.pair(mentors, mentees, programme)
    from mentormatch.solvers import scorefloors

    ran = []
    solve = scorefloors.solve_score_floors
    monkeypatch.setattr(scorefloors, "solve_score_floors", lambda *a: ran.append(solve(*a)) or ran[-1])
    source = force_scale_path(monkeypatch, bounds)
    r = mm.pair(mentors, mentees, programme)
    assert r.certificate["source"] == source
    assert r.bound >= best - 1e-6
    assert len(ran) == 1 and ran[0] is not None  # the Lagrangian ran on the scaled source
    unit = r.certificate["score_unit"]  # the Lagrangian works in the engine's unit
    assert ran[0].bound / unit >= best - 1e-6 and ran[0].value / unit <= r.objective + 1e-9
    recheck_pairs(small, r, whole)
    if r.status == "optimal" and whole.status == "optimal":
        assert r.objective == pytest.approx(whole.objective, abs=1e-6)
