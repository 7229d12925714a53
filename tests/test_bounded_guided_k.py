"""A guided level's first sparse set (``bounded.GUIDED_K_FACTOR``): each of its mentees keeps
that many times the ``cmax + dmax + 2`` best pairs (the top level guided by a sub-market and the
guided sub-markets; an unguided level keeps its own top_k), and the answer is the complete set's
optimum whatever the factor."""
from __future__ import annotations

import pytest

import mentormatch.solvers.bounded as bounded
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers.bounded import child, market, solve_bounded

from _support import exact_round, scorer_of


@pytest.mark.parametrize("factor", [1.0, 1.5, 2.0])
def test_a_guided_levels_first_sparse_set_and_the_same_optimum(monkeypatch, factor):
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)  # sub-markets from any size: two levels at least
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(bounded, "GUIDED_K_FACTOR", factor)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=7)
    mentors["capacity"] = 4
    prep, _, _ = exact_round(mentors, mentees)
    reference = pl.solve(prep)
    seen = []  # (mentees, cap, demand, guided, k) of every first sparse set
    first_sparse = bounded._first_sparse

    def spy(scorer, exact, pool, mentor_best, guide, k, cap, cover=False):
        seen.append((scorer.n, int(cap.max()), guide is not None, k))
        return first_sparse(scorer, exact, pool, mentor_best, guide, k, cap, cover)

    monkeypatch.setattr(bounded, "_first_sparse", spy)
    demand = {}  # mentees -> the largest demand of a level (a sub-market's, multiplied)
    solve = bounded._solve

    def solve_spy(scorer, cap, dem, *args, **kwargs):
        demand[scorer.n] = int(dem.max())
        return solve(scorer, cap, dem, *args, **kwargs)

    monkeypatch.setattr(bounded, "_solve", solve_spy)
    monkeypatch.setattr(child, "ENABLED", False)  # every level in this process, seen by the spy
    sc = scorer_of(prep)
    _, solution = solve_bounded(sc, prep.data["mentors"]["capacity"].to_numpy(float))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)
    top = [s for s in seen if s[0] == sc.n]
    assert len(top) == 1 and top[0][2]  # the top level, guided by a sub-market
    guided = [s for s in seen if s[2]]
    assert len(guided) >= 2  # the top level and a sub-market guided by an inner one
    for n_level, cmax, _, k in guided:
        assert k == int(round(factor * (cmax + demand[n_level] + 2)))
