"""The budget Lagrangian's primal from the knapsack plan (solvers/lagrange.py, ``_plan``): the
plain flow with each mentor's capacity at the most places the budget buys
(:func:`mentormatch.solvers.fair_bounds.knapsack_plan`), repaired and filled like the
Lagrangian's flows. Forced small onto the Lagrangian route and checked against scipy's milp on
the full model, the constraints recomputed from the inputs; never worse than the primal without
it; the same pairs on blocks and on bounds, and whatever the mentees' row order."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch.solvers import SolverOptions, lagrange, route
from mentormatch.solvers.engine import solve_mip

from _support import force_scale_path
from test_solvers_engine import instance, reference
from test_solvers_lagrange import _meets, _org


@pytest.fixture(autouse=True)
def _lagrangian_alone(monkeypatch):
    """The Lagrangian's own answer: no column generation after it on a large source
    (``route.LAGRANGE_AFTER_GAP``; a test below sets its own)."""
    monkeypatch.setattr(route, "LAGRANGE_AFTER_GAP", float("inf"))


def _solve(p):
    sol = solve_mip(p, SolverOptions(time_limit=60))
    assert sol.certificate["method"] == "lagrangian budget + certified flow"
    return sol


def _checked(p, sol, best):
    """The answer against the full model's optimum ``best``: feasible (recomputed), at most the
    optimum, a bound at least it, "optimal" exactly when the gap is within 1e-6."""
    got = _meets(p, p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen])
    assert got == pytest.approx(sol.objective, abs=1e-9)
    assert sol.objective <= best + 1e-9 and sol.bound >= best - 1e-6
    assert (sol.status == "optimal") == (sol.bound - sol.objective <= 1e-6 * abs(sol.bound) + 1e-9)
    return got


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("stipends", ["both", "fixed", "per"])
def test_the_plan_primal_is_never_worse_than_the_lagrangians_alone(monkeypatch, seed, stipends):
    """Per-mentee and fixed stipends (or either alone, the budget scaled to bind), minimum loads
    (``instance``): with the plan the objective is at least the one without it (the plan
    switched off), both feasible and within the bound."""
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(seed, n=120, m=25, density=0.5)
    if stipends != "both":
        gone = "stipend_per_mentee" if stipends == "fixed" else "stipend_fixed"
        setattr(p.side, gone, np.zeros(p.n_mentors))
        p.side.budget *= 0.4 if stipends == "fixed" else 0.6
    best = reference(p)
    new = _checked(p, _solve(p), best)
    monkeypatch.setattr(lagrange, "_plan", lambda *a: None)
    old = _checked(p, _solve(p), best)
    assert new >= old - 1e-9


@pytest.mark.parametrize("seed, n, m", [(2, 50, 12), (6, 120, 25), (10, 120, 25)])
def test_the_plan_reaches_optima_the_lagrangians_primal_missed(monkeypatch, seed, n, m):
    """Instances where the Lagrangian's repaired flows stopped short of the optimum (25.465 of
    26.047, 54.613 of 55.136, 59.270 of 59.293 before the plan): the plan's flow reaches it."""
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(seed, n=n, m=m, density=0.7 if n == 50 else 0.5)
    sol = _solve(p)
    best = reference(p)
    _checked(p, sol, best)
    assert sol.objective == pytest.approx(best, abs=1e-9)
    assert sol.certificate["primal"] == "knapsack plan"


def test_the_plan_is_skipped_when_the_budget_does_not_bind(monkeypatch):
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = instance(2, n=40, m=10)
    p.side.budget = 1e9
    asked = []
    monkeypatch.setattr(lagrange, "_plan", lambda *a: asked.append(a))
    sol = _solve(p)
    assert not asked and sol.certificate["primal"] == "lagrangian"
    _checked(p, sol, reference(p))


def _pairs(r):
    return sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))


@pytest.mark.parametrize("seed, budget", [(0, 3000.0), (1, 4000.0), (3, 4000.0), (7, 4000.0),
                                          (7, 6000.0)])
def test_the_same_pairs_on_every_source_and_any_row_order(monkeypatch, seed, budget):
    """pair() on the complete set, and on the scale path forced small (cached blocks, feature
    bounds; the mentees' rows reversed): the same pairs, found by the same primal, meeting the
    budget and minimum loads. Before the repair and the fill drew on a candidate set of their
    own (the chosen pairs of every flow so far), the complete set gave other pairs when the
    answer was "feasible" (seed 1: 46.116 there against 42.739 on blocks and bounds)."""
    mentors, mentees = _org(seed)
    programme = {"constraints": {"budget": budget}}
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    got, primal = [], set()
    for bounds, rows in [(None, mentees), (False, mentees), (True, mentees),
                         (True, mentees.iloc[::-1]), (None, mentees.sample(frac=1.0, random_state=seed))]:
        with pytest.MonkeyPatch.context() as mp:
            if bounds is not None:
                force_scale_path(mp, bounds)
            r = mm.pair(mentors, rows, programme)
        assert r.certificate["method"] == "lagrangian budget + certified flow"
        assert r.certificate["source"] == ("ArraySource" if bounds is None else
                                           "BoundedSource" if bounds else "BlockSource")
        primal.add(r.certificate["primal"])
        mt = mentors.set_index("id")
        n_j = r.pairs.groupby("mentor_id").size()
        cost = float((mt.loc[n_j.index, "stipend_fixed"]
                      + mt.loc[n_j.index, "stipend_per_mentee"] * n_j).sum())
        assert cost <= budget + 1e-9
        assert (n_j >= mt.loc[n_j.index, "min_capacity"]).all()
        assert (n_j <= mt.loc[n_j.index, "capacity"]).all()
        got.append(_pairs(r))
    assert all(g == got[0] for g in got) and len(primal) == 1
