"""The score floor row's scale, fixed by the problem (``linear_rows.floor_scales``): the largest
term the row can have over every pair, the same in the check, brute force and the engine's model
(which holds the row divided by it, in HiGHS run unscaled); and what the session 18 hunt over
``test_row_tolerance._mixed(0..300)`` left (see the report in the s18h2 closing note)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions
from mentormatch.solvers.engine import solve_source
from mentormatch.solvers.linear import LinearModel
from mentormatch.solvers.sources import ArraySource
from mentormatch.testing import feasible_assignments, violations

from _support import source_of
from test_row_tolerance import _mixed


def _random(seed: int) -> AssignmentProblem:
    """Up to 7 x 4, scores >= 0 on a random scale, some pairs absent, some mentees in no group."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 8)), int(rng.integers(1, 5))
    keep = rng.random(n * m) < 0.7
    i = np.repeat(np.arange(n), m)[keep]
    j = np.tile(np.arange(m), n)[keep]
    s = rng.random(len(i)) * 10.0 ** rng.integers(-9, 3)
    g = rng.integers(-1, 3, n)
    if not np.any(g >= 0):
        g[0] = 0
    side = SideConstraints(group=g, group_names=["a", "b", "c"],
                           score_floor=float(rng.choice([0.5, 0.9, 1.0, 1.3])))
    return AssignmentProblem(Candidates(i, j, n, m), s, np.ones(m), side=side)


@pytest.mark.parametrize("seed", range(40))
def test_the_scale_is_the_largest_term_over_every_pair(seed):
    """Recomputed pair by pair from the row's definition, ``(alpha |g| - N [i in g]) s_ij``."""
    p = _random(seed)
    model = LinearModel(p)
    P, g, alpha, N = p.pairs, np.asarray(p.side.group), float(p.side.score_floor), p.n_mentees
    for q, label in enumerate(np.unique(g[g >= 0])):
        size = int(np.sum(g == label))
        terms = np.abs((alpha * size - N * (g[P.mentee] == label)) * p.score)
        want = terms.max(initial=0.0)
        assert model.floor_scale[q] == pytest.approx(want if want > 0 else 1.0, rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_the_engines_model_gets_the_problems_scale_from_the_sources_best_pairs(seed):
    """The engine builds its model on no pairs and fixes the scale from the source's ``best``
    (stage.solve_stage): the same as the model over every pair (brute force's)."""
    from mentormatch.solvers.linear_rows import mentee_best

    p = _random(seed)
    P = p.pairs
    shell = dataclasses.replace(p, pairs=Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64),
                                                    p.n_mentees, p.n_mentors),
                                score=np.zeros(0), locked=np.zeros(0, bool))
    model = LinearModel(shell)
    src = ArraySource(P.mentee, P.mentor, p.score, p.n_mentees, p.n_mentors)
    i, _, s = src.best(12)
    model.set_floor_scale(mentee_best(i, s, p.n_mentees))
    assert model.floor_scale.tolist() == LinearModel(p).floor_scale.tolist()


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("factor", [1e-6, 1e4])
def test_brute_force_and_the_check_do_not_depend_on_the_scores_unit(seed, factor):
    """Every score times the same factor: the same assignments pass, in brute force and in the
    check (the rule was ROW_TOL x max(1, ·), which a factor of 1e-6 loosened a millionfold)."""
    p = _mixed(seed)
    q = dataclasses.replace(p, score=p.score * factor)
    a, b = feasible_assignments(p), feasible_assignments(q)
    assert a.feasible.tolist() == b.feasible.tolist()
    P = p.pairs
    for x in a.x:
        assert (LinearModel(p).check(P.mentee, P.mentor, p.score, x)
                == LinearModel(q).check(P.mentee, P.mentor, q.score, x))


def _engine_against_brute_force(seed: int, cover: bool, kind: str = "array"):
    p = dataclasses.replace(_mixed(seed), coverage_first=cover)
    bf = feasible_assignments(p)
    ok = bf.feasible
    if cover:
        ok = ok & (bf.matched == bf.matched[ok].max())
    optimum = float(bf.total[ok].max())
    sub, sol = solve_source(source_of(p, kind), p.capacity, load=p.load, side=p.side,
                            coverage_first=cover, options=SolverOptions(time_limit=60))
    pos = p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    return p, sol, pos, optimum


#: The seeds of _mixed(0..300) where the engine's bound fell below brute force's optimum after
#: session 18 (each with the coverage_first setting that showed it): HiGHS's MIP, with no node,
#: called an assignment worth 2e-8 to 5e-8 (or none) optimal, 0.3e-8 to 1.1e-8 below one the
#: check passes. Two causes (session 19): its MIP held the floor rows to 0 where the check
#: allows ROW_TOL (51, 77: the optimum exceeds a floor row by 4e-9 and 6e-9), and its
#: mip_feasibility_tolerance (1e-7) is also its epsilon on objective values, above these
#: optima's differences (112, 205, 250). The floor rows now allow ROW_TOL in the model, and the
#: MIP runs at highs.MIP_FEASIBILITY (1e-9).
LEFT = {51: True, 77: True, 112: False, 205: False, 250: False}


@pytest.mark.parametrize("seed", [*range(24), *LEFT])
@pytest.mark.parametrize("cover", [False, True])
def test_the_engine_meets_brute_force_under_one_rule(seed, cover):
    """No broken row, no false infeasibility (solve_source would raise), the bound at least
    brute force's optimum (ROW_TOL x the floor rows' prices in it), "optimal" at that optimum.
    With the new rule but HiGHS at its default dual feasibility tolerance (1e-7, above the
    costs near 1e-8), seeds 0, 1, 2, 5, 8, 12, 13, 16, 17, 19, 20 and 22 of these had an
    "optimal" answer below brute force's optimum (91 of the 300 seeds)."""
    p, sol, pos, optimum = _engine_against_brute_force(seed, cover)
    tol = 1e-9 * max(1.0, abs(optimum))
    assert violations(p, pos) == []
    assert sol.bound is not None and sol.bound >= optimum - tol
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(optimum, abs=tol)


@pytest.mark.parametrize("seed", sorted(LEFT))
def test_the_mip_bound_at_objective_differences_near_1e_8(seed):
    """Session 18's five seeds, each with its coverage_first setting: the bound holds every
    assignment the check passes, and the answer is brute force's optimum, proven."""
    p, sol, pos, optimum = _engine_against_brute_force(seed, LEFT[seed])
    assert violations(p, pos) == []
    assert sol.bound >= optimum - 1e-9 * optimum
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(optimum, rel=1e-6)
