"""The engine's unit of score (``solvers/unit.py``): every score of a problem times a power of
two changes neither the "mip" solver's pairs nor its status, and its objective and bound exactly
by that factor; against brute force at each factor (tiny instances: every assignment
enumerated). Powers of two keep the arithmetic exact, so the answers are compared exactly."""
from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver, route
from mentormatch.solvers.unit import score_unit
from mentormatch.testing import assignment_problems, feasible_assignments, violations

FACTORS = (2.0 ** -30, 1.0, 2.0 ** 20)
UNIT = settings(max_examples=int(os.environ.get("MATRIX_EXAMPLES", 25)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _times(p: AssignmentProblem, factor: float) -> AssignmentProblem:
    """``p`` with every score times ``factor``, and the score that means certain success too
    (a pair's success probability, ``score / success_scale``, stays the same)."""
    side = dataclasses.replace(p.side, success_scale=p.side.success_scale * factor)
    return dataclasses.replace(p, score=p.score * factor, side=side)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-200),
                min_size=1, max_size=20),
       st.integers(-60, 60))
def test_the_unit_brings_the_largest_score_into_one_to_two_and_follows_a_power_of_two(s, k):
    s = np.asarray(s)
    f = score_unit(s)
    top = float(np.abs(s).max())
    if top == 0:
        assert f == 1.0
        return
    assert 1.0 <= top * f < 2.0
    assert math.frexp(f)[0] == 0.5  # a power of two
    assert score_unit(s * 2.0 ** k) == f * 2.0 ** -k


def _outcome(p: AssignmentProblem):
    """("infeasible",) or (chosen, status, objective, bound) of "mip" on ``p``."""
    try:
        sol = get_solver("mip")(p, SolverOptions(time_limit=60))
    except InfeasibleError:
        return ("infeasible",)
    assert violations(p, sol.chosen) == []
    return sol.chosen.tolist(), sol.status, sol.objective, sol.bound


def _optimum(p, bf) -> float:
    ok = bf.feasible
    if p.coverage_first:  # the most matched mentees first
        ok = ok & (bf.matched == bf.matched[ok].max())
    return float(bf.total[ok].max())


def _same_answer_at_every_factor(p: AssignmentProblem):
    bf = feasible_assignments(p)
    answers = {}
    for factor in FACTORS:
        q = _times(p, factor)
        out = _outcome(q)
        if out == ("infeasible",):
            assert not bf.any_feasible, ("InfeasibleError on a feasible instance", factor)
            answers[factor] = out
            continue
        chosen, status, objective, bound = out
        assert bf.any_feasible, ("an assignment brute force calls infeasible", factor)
        best = _optimum(p, bf) * factor
        assert objective == pytest.approx(float(q.score[chosen].sum()), rel=1e-12, abs=0)
        if bound is not None:
            assert bound >= best - 1e-9 * abs(best), factor
        if status == "optimal":
            assert objective == pytest.approx(best, rel=1e-6, abs=0), factor
        answers[factor] = (chosen, status, objective / factor,
                           None if bound is None else bound / factor)
    assert answers[FACTORS[0]] == answers[1.0] == answers[FACTORS[2]], answers


@UNIT
@given(p=assignment_problems(5, 3, with_locks=True, with_side=True, max_demand=2,
                             coverage_first=None)
       | assignment_problems(5, 3, with_locks=True, positive=True, coverage_first=None))
def test_mip_gives_the_same_answer_whatever_the_scores_unit(p):
    """Pairs, status, objective and bound (divided by the factor): the same at x 2**-30, x 1
    and x 2**20, each "optimal" at brute force's optimum, each bound above it. Before the
    engine worked in its own unit, x 2**-30 (scores near 1e-9) gave the empty assignment,
    "optimal" with the bound 0."""
    _same_answer_at_every_factor(p)


@pytest.mark.parametrize("forced", [False, True], ids=["size_policy", "lagrangian"])
def test_the_lagrangians_answers_follow_the_factor_too(forced):
    """A budget, a score floor and a share floor, each through the column generation and
    through its Lagrangian (``LAGRANGE_PAIRS = 0``, what a source above 20,000,000 pairs runs)."""
    rng = np.random.default_rng(5)
    n, m = 6, 3
    s = rng.uniform(0.05, 1.0, n * m).round(2)
    group = np.array([0, 0, 1, 1, 1, -1])
    sides = [SideConstraints(budget=30.0, stipend_fixed=np.array([0.0, 10.0, 20.0]),
                             stipend_per_mentee=np.array([5.0, 10.0, 5.0])),
             SideConstraints(group=group, group_names=["a", "b"], score_floor=0.9),
             SideConstraints(group=group, group_names=["a", "b"], share_floor=0.5)]
    with pytest.MonkeyPatch.context() as mp:
        if forced:
            mp.setattr(route, "LAGRANGE_PAIRS", 0)
        for side in sides:
            _same_answer_at_every_factor(AssignmentProblem(Candidates.complete(n, m), s,
                                                           np.array([2.0, 2.0, 1.0]), side=side))


def test_the_certificate_is_in_the_scores_unit():
    """Its score figures (the stage's Lagrangian and MIP bounds) follow the factor, the
    coverage stage's counts do not, and the unit is recorded."""
    rng = np.random.default_rng(2)
    s = rng.uniform(0.1, 1.0, 12)
    certs = {}
    for factor in (1.0, 2.0 ** 20):
        p = AssignmentProblem(Candidates.complete(4, 3), s * factor, np.array([2.0, 1.0, 1.0]),
                              coverage_first=True,
                              side=SideConstraints(min_load=np.array([2.0, 0.0, 0.0])))
        certs[factor] = get_solver("mip")(p, SolverOptions(time_limit=30)).certificate
    a, b = certs[1.0], certs[2.0 ** 20]
    assert b["score_unit"] == a["score_unit"] * 2.0 ** -20
    for key in ("lagrangian_bound", "mip_bound", "bound"):
        assert b["score"][key] == a["score"][key] * 2.0 ** 20, key
    assert b["coverage"]["bound"] == a["coverage"]["bound"] == a["matched"] == 4


@pytest.mark.parametrize("factor", [2.0 ** -30, 1.0, 2.0 ** 20])
def test_every_source_gets_the_same_unit_and_answer(factor):
    """The factor comes from each mentee's best score, on the pairs in memory and on blocks of
    rows alike, so both sources give the same pairs (scores near 1e-9 x factor under a
    budget: before, at x 2**-30 and x 1, HiGHS's answer was below brute force's optimum)."""
    from mentormatch.solvers.engine import solve_source
    from mentormatch.solvers.unit import source_unit

    from _support import source_of

    rng = np.random.default_rng(11)
    n, m = 6, 3
    s = rng.uniform(0.1, 1.0, n * m) * 1e-9 * factor
    side = SideConstraints(budget=30.0, stipend_fixed=np.array([0.0, 10.0, 20.0]),
                           stipend_per_mentee=np.array([5.0, 10.0, 5.0]))
    p = AssignmentProblem(Candidates.complete(n, m), s, np.array([2.0, 2.0, 1.0]), side=side)
    best = _optimum(p, feasible_assignments(p))
    answers = []
    for kind in ("array", "blocks"):
        src = source_of(p, kind)
        assert source_unit(src) == score_unit(s.reshape(n, m).max(axis=1))
        sub, sol = solve_source(src, p.capacity, side=side, options=SolverOptions(time_limit=30))
        pos = p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
        assert violations(p, pos) == []
        assert sol.status == "optimal" and sol.objective == pytest.approx(best, rel=1e-6)
        assert sol.bound >= best * (1 - 1e-9)
        answers.append(sorted(pos.tolist()))
    assert answers[0] == answers[1]


class _Bounds:
    """A bounded scorer over a dense matrix (``-inf``: ineligible) whose float32 bounds sit
    ``loose`` above the exact scores (a row's bound may exceed its best by far), counting the
    pairs it scores exactly; internal rows in reverse mentee order."""

    def __init__(self, exact: np.ndarray, loose: np.ndarray):
        from mentormatch.scale import BIG

        self.exact, self.margin, self.scored = exact, 0.0, 0
        n = exact.shape[0]
        self.order = np.arange(n)[::-1].copy()
        up = np.where(np.isfinite(exact), exact + loose, -BIG).astype(np.float32)
        # float32 rounding covered as BoundedScorer.margin covers it: the bound rounded up
        self.up = np.where(up.astype(np.float64) < np.where(np.isfinite(exact), exact, -BIG),
                           np.nextafter(up, np.float32(np.inf)), up)

    def upper(self, a: int, b: int) -> np.ndarray:
        return self.up[self.order[a:b]]

    def exact_scores(self, row: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        self.scored += len(row)
        return self.exact[self.order[np.asarray(row, np.int64)], np.asarray(mentor, np.int64)]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2 ** 32 - 1),
       st.sampled_from(["plain", "negative", "powers", "loose", "band"]))
def test_the_bounds_give_the_unit_of_the_mentees_best_scores_with_one_exact_score_a_row(seed, kind):
    """On bounds the unit is read from each row's largest bound and the exact score of its pair,
    scoring more only where they leave the binade of the largest best open: the same unit as
    each mentee's exact best gives (which blocks and the pairs in memory use), on negative
    scores, rows with no pair, bests at powers of two and bounds far above the scores. When the
    bounds settle the binade ("band": every bound inside it), one exact score a row; before,
    ``best(1)`` scored that pair and again every pair whose bound reached its score."""
    from mentormatch.solvers.sources import BoundedSource
    from mentormatch.solvers.unit import source_unit

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 12))
    exact = rng.uniform(0.0, 1.0, (n, m)) * 2.0 ** int(rng.integers(-40, 17))  # above -BIG / 4
    if kind == "band":  # every bound below 0.5: the largest best's binade is [0.25, 0.5)
        exact = rng.uniform(0.3, 0.45, (n, m))
    if kind == "negative":
        exact -= rng.uniform(0.0, 2.0) * exact.max()
    if kind == "powers":  # bests at and just below powers of two
        exact = np.ldexp(1.0, rng.integers(-3, 3, (n, m))) * rng.choice([1.0, 1 - 2 ** -40], (n, m))
    exact[rng.random((n, m)) < 0.3] = -np.inf
    exact[rng.random(n) < 0.1] = -np.inf  # rows with no eligible pair
    spread = np.abs(exact[np.isfinite(exact)]).max(initial=1.0)
    loose = spread * rng.uniform(0, 2 if kind == "loose" else 1e-2, (n, m))
    scorer = _Bounds(exact, loose)
    best = exact.max(axis=1)
    assert source_unit(BoundedSource(scorer, n, m)) == score_unit(best[np.isfinite(best)])
    if kind == "band":
        assert scorer.scored == int(np.isfinite(best).sum())


@pytest.mark.parametrize("k", [-30, -8, 0, 3, 20])
def test_the_features_bounds_give_the_complete_sets_unit(k):
    """The scale path's own bounds (``BoundedScorer``, its margin) at weights x 2**k: the unit
    on bounds is the complete set's (each mentee's best over its pairs) at every k."""
    import mentormatch as mm
    from mentormatch import pipeline as pl
    from mentormatch.rules.settings import DEFAULT_WEIGHTS
    from mentormatch.solvers.sources import ArraySource, BoundedSource
    from mentormatch.solvers.unit import source_unit

    from _support import scorer_of

    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=5)
    programme = {"weights": {f: w * 2.0 ** k for f, w in DEFAULT_WEIGHTS.items()}}
    prep = pl.prepare(mentors, mentees, programme)
    P = prep.problem.pairs
    held = source_unit(ArraySource(P.mentee, P.mentor, prep.problem.score, P.n_mentees,
                                   P.n_mentors))
    sc = scorer_of(prep, programme)
    assert source_unit(BoundedSource(sc, sc.n, sc.m)) == held
    assert held == score_unit(prep.problem.score)  # scores >= 0: the largest best is the largest


class _Blocks:
    """A block scorer over a dense matrix (``-inf``: ineligible) whose ``unit_bounds`` bound a
    superset of its pairs (``extra``: pairs a rule beyond the bounds removes, with scores above
    every kept one, as ``same_team`` may remove a row's best), counting the blocks it scores."""

    def __init__(self, exact: np.ndarray, extra: np.ndarray, loose: np.ndarray):
        self.exact, self.blocks = exact, 0
        self.bounds = _Bounds(np.where(np.isfinite(extra), extra, exact), loose)

    def __call__(self, rows: slice) -> np.ndarray:
        self.blocks += 1
        return self.exact[rows]

    def unit_bounds(self):
        return self.bounds

    def judged_scores(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        return self.exact[np.asarray(mentee, np.int64), np.asarray(mentor, np.int64)]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["plain", "negative", "loose", "removed"]))
def test_blocks_with_bounds_give_the_unit_of_the_mentees_best_scores_without_a_pass(seed, kind):
    """Blocks without a cache read the unit from bounds of the same tables without the rules
    that only remove pairs (``_BlockScorer.unit_bounds``): the unit of each mentee's exact best
    over its eligible pairs, when a removed pair has the row's largest bound (its score above
    the row's best, even the largest in size) or the row keeps no pair at all, and no block is
    scored (before, one pass over every block)."""
    from mentormatch.solvers.sources import BlockSource
    from mentormatch.solvers.unit import source_unit

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 12))
    exact = rng.uniform(0.0, 1.0, (n, m)) * 2.0 ** int(rng.integers(-40, 17))
    if kind == "negative":
        exact -= rng.uniform(0.0, 2.0) * exact.max()
    exact[rng.random((n, m)) < 0.3] = -np.inf
    extra = np.full((n, m), -np.inf)
    removed = rng.random((n, m)) < (0.5 if kind == "removed" else 0.1)
    top = np.abs(exact[np.isfinite(exact)]).max(initial=1.0)
    extra[removed] = top * rng.uniform(1.0, 8.0, int(removed.sum()))  # above every kept score
    exact[removed] = -np.inf
    exact[rng.random(n) < 0.1] = -np.inf  # rows with no eligible pair (some with removed ones)
    spread = max(top, np.abs(extra[np.isfinite(extra)]).max(initial=0.0))
    loose = spread * rng.uniform(0, 2 if kind == "loose" else 1e-2, (n, m))
    scorer = _Blocks(exact, extra, loose)
    best = exact.max(axis=1)
    assert source_unit(BlockSource(scorer, n, m)) == score_unit(best[np.isfinite(best)])
    assert scorer.blocks == 0


@pytest.mark.parametrize("k", [-30, 0, 20])
@pytest.mark.parametrize("rules", ["same_team", "min_score"])
def test_blocks_without_a_cache_give_the_complete_sets_unit_without_a_pass(k, rules):
    """The scale path's blocks without a cache (``same_team`` or ``min_score`` force blocks) at
    weights x 2**k: the unit is the complete set's (each mentee's best eligible score), read
    from the bounds of ``_BlockScorer.unit_bounds``, no block scored for it."""
    import mentormatch as mm
    from mentormatch import pipeline as pl
    from mentormatch.pipeline.blocks import _BlockScorer
    from mentormatch.rules.settings import DEFAULT_WEIGHTS

    from _support import uncached_blocks
    from mentormatch.solvers.sources import ArraySource, BlockSource
    from mentormatch.solvers.unit import source_unit

    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=5)
    cons = {"same_team": True} if rules == "same_team" else {"min_score": 0.45 * 2.0 ** k}
    programme = {"weights": {f: w * 2.0 ** k for f, w in DEFAULT_WEIGHTS.items()},
                 "constraints": cons}
    prep = pl.prepare(mentors, mentees, programme)
    P = prep.problem.pairs
    held = source_unit(ArraySource(P.mentee, P.mentor, prep.problem.score, P.n_mentees,
                                   P.n_mentors))
    sc = uncached_blocks(mentors, mentees, programme)
    with pytest.MonkeyPatch.context() as mp:
        scored = []
        mp.setattr(sc, "_score", lambda rows: scored.append(rows) or _BlockScorer._score(sc, rows))
        assert source_unit(BlockSource(sc, P.n_mentees, P.n_mentors)) == held
    assert scored == []
