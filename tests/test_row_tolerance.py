"""One feasibility tolerance for a row, in the check of an assignment and in HiGHS
(``solvers.linear_rows.ROW_TOL``): a row of the linear model, in the model's own units, holds
when it exceeds its right-hand side by at most ``ROW_TOL`` (the score floor's row, whose terms
grow with the round and shrink with the scores, is stated divided by its scale, the largest
term it can have over every pair of the problem: ``linear_rows.floor_scales``), and HiGHS runs
with ``primal_feasibility_tolerance = ROW_TOL`` and, on a model with score floors, without
scaling the rows itself (``highs.for_model``). So:

* an assignment that meets every row exactly (rational arithmetic) passes the check;
* an assignment the check passes is feasible to HiGHS: with its pairs fixed, and as a point of
  the relaxation, which HiGHS then never calls infeasible (``highs.without_presolve``: a verdict
  of its presolve is a proof only when the simplex agrees). Where the pairs chosen all score
  near 1e-8 too: the hunt of session 17 found a relaxation HiGHS called infeasible though the
  check passed a point of it (``_mixed(112)``, tests/test_hunt_s17.py), because HiGHS scaled
  the floor's row up; it now runs such models unscaled.

The case that broke it (s16h1, tests/test_checks_matrix_coverage.py): scores near 1e-8 beside
1.9 under a score floor. The check held the floor in mean-score units (a tolerance ``N x |g|``
times HiGHS's on the model's row), and HiGHS's presolve called the relaxation that needs two
matched mentees infeasible though the two meet the model's row within HiGHS's own tolerance."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, relax
from mentormatch.solvers.engine import solve_mip, solve_source
from mentormatch.solvers.highs import (for_model, highs_instance, model_status, pass_model,
                                      without_presolve)
from mentormatch.solvers.linear import LinearModel
from mentormatch.testing import feasible_assignments

from _support import source_of

#: The pinned case's scores, pairs of the complete 5 x 2 set by mentee then mentor (mentor 1
#: has no capacity): two mentees near 1e-8, three near 1.9.
PINNED_SCORES = [4.88603880229073e-09, 4.649516797489583e-09, 2.568567294301718e-08,
                 2.318300480372134e-08, 1.9726959610450838, 1.8836340880632199,
                 1.9320433096597005, 1.942125379379948, 1.9726959610450838, 1.8836340880632199]


def _pinned(coverage_first: bool = True) -> AssignmentProblem:
    """The regression's round as the engine sees it: a score floor of 0.8 by region (groups 1,
    0, 2, 2, 2), loads of 0.5, one mentor of capacity 3."""
    side = SideConstraints(group=np.array([1, 0, 2, 2, 2]), group_names=["a", "b", "c"],
                           score_floor=0.8)
    return AssignmentProblem(Candidates.complete(5, 2), np.array(PINNED_SCORES),
                             np.array([3.0, 0.0]), load=np.full(5, 0.5), side=side,
                             coverage_first=coverage_first)


def exactly_feasible(p: AssignmentProblem, x: np.ndarray) -> bool:
    """Capacities (with loads), demands, the budget and the score floor in rational arithmetic
    on the floats' exact values: no tolerance at all."""
    P, side = p.pairs, p.side
    F = Fraction
    for j in range(p.n_mentors):
        on = np.flatnonzero(x & (P.mentor == j))
        if sum((F(float(p.load[P.mentee[k]])) for k in on), F(0)) > F(float(p.capacity[j])):
            return False
    if np.any(np.bincount(P.mentee[x], minlength=p.n_mentees) > p.demand):
        return False
    active = np.unique(P.mentor[x])
    if side.budget is not None:
        spend = (sum((F(float(side.stipend_fixed[j])) for j in active), F(0))
                 + sum((F(float(side.stipend_per_mentee[P.mentor[k]])) for k in np.flatnonzero(x)), F(0)))
        if spend > F(float(side.budget)):
            return False
    if side.score_floor is not None:
        n, alpha = p.n_mentees, F(float(side.score_floor))
        g = np.asarray(side.group)
        total = sum((F(float(p.score[k])) for k in np.flatnonzero(x)), F(0))
        for q in np.unique(g[g >= 0]):
            mine = sum((F(float(p.score[k])) for k in np.flatnonzero(x) if g[P.mentee[k]] == q), F(0))
            if n * mine < alpha * int(np.sum(g == q)) * total:
                return False
    return True


def _highs(model: LinearModel, p: AssignmentProblem, fixed: np.ndarray | None) -> str:
    """HiGHS's status on ``model``'s relaxation over every pair of ``p``, its pair columns fixed
    to ``fixed`` (0/1) or free."""
    P = p.pairs
    A, obj, lo, hi, integer, rhs = model.matrix(P.mentee, P.mentor, p.score, p.locked)
    if fixed is not None:
        lo, hi = lo.copy(), hi.copy()
        lo[:len(P)] = hi[:len(P)] = fixed.astype(float)
    h = highs_instance(SolverOptions(), 60.0, unscaled=for_model(model))
    pass_model(h, A, obj, lo, hi, integer, rhs, mip=False)
    h.run()
    st = model_status(h, rhs)  # an "infeasible" counts as the engine counts it (relax.Run.relax)
    return without_presolve(h, rhs) if st == "infeasible" else st


def _assert_one_rule(p: AssignmentProblem) -> int:
    """Every assignment of ``p``: exactly feasible => the check passes it => HiGHS calls it
    feasible, fixed and as a point of the relaxation that needs as many matched mentees (the
    score stage of coverage_first). Returns how many the check passed."""
    P = p.pairs
    passed = 0
    for x in feasible_assignments(p).x:
        matched = len(np.unique(P.mentee[x]))
        model = LinearModel(p, coverage_at_least=matched)
        ok = not model.check(P.mentee, P.mentor, p.score, x)
        if exactly_feasible(p, x):
            assert ok, np.flatnonzero(x)
        if ok:
            passed += 1
            assert _highs(model, p, x) == "optimal", np.flatnonzero(x)
            assert _highs(model, p, None) == "optimal", np.flatnonzero(x)
    return passed


def test_the_pinned_case_under_one_rule():
    """Mentees 0 and 1 matched break the model's floor row by 7.3e-8, within the tolerance: the
    check, brute force and HiGHS (fixed, and the relaxation that needs two matched, which its
    presolve alone called infeasible) all call it feasible. Exactly, only the empty assignment
    meets the floor (any match leaves a group's mean at 0 under a positive overall mean)."""
    p = _pinned()
    bf = feasible_assignments(p)
    exact = [x for x in bf.x if exactly_feasible(p, x)]
    assert [np.flatnonzero(x).tolist() for x in exact] == [[]]
    two = np.zeros(len(p.pairs), bool)
    two[[0, 2]] = True
    model = LinearModel(p, coverage_at_least=2)
    assert model.check(p.pairs.mentee, p.pairs.mentor, p.score, two) == []
    assert bf.feasible[np.flatnonzero((bf.x == two).all(1))[0]]
    assert _highs(model, p, two) == "optimal" and _highs(model, p, None) == "optimal"
    _assert_one_rule(p)


@pytest.mark.parametrize("kind", ["array", "blocks", "bounds"])
def test_the_pinned_case_is_optimal_on_every_source(kind):
    """No InfeasibleError and no fallback: the two mentees, "optimal", brute force's optimum
    (the answer was "feasible" with no bound, the score stage's relaxation called infeasible)."""
    p = _pinned()
    bf = feasible_assignments(p)
    most = int(bf.matched[bf.feasible].max())
    optimum = float(bf.total[bf.feasible & (bf.matched == most)].max())
    _, sol = solve_source(source_of(p, kind), p.capacity, demand=p.demand, load=p.load,
                          side=p.side, coverage_first=True, options=SolverOptions(time_limit=60))
    assert most == 2 and sol.status == "optimal" and len(sol.chosen) == 2
    assert sol.objective == pytest.approx(optimum, rel=1e-9, abs=0)
    assert "relaxation" not in sol.certificate.get("score", {})


def _mixed(seed: int) -> AssignmentProblem:
    """5 x 2 or 3 in three groups, each group's scores near 1e-8 or near 1, loads of 0.5 or 1,
    a score floor, and half the time a budget of whole stipends (the pinned case's shape: on
    the old check, seed 12 of these 30 broke the rule's second half)."""
    rng = np.random.default_rng(seed)
    n, m = 5, int(rng.integers(2, 4))
    g = rng.integers(0, 3, n)
    tiny = rng.random(3) < 0.5
    tiny[int(rng.integers(0, 3))] = False  # one group's scores near 1 (see _assert_one_rule)
    tiny = tiny[g]
    score = np.where(np.repeat(tiny, m), 1e-8, 1.0) * rng.uniform(0.5, 2.0, n * m)
    side = SideConstraints(group=g, group_names=["a", "b", "c"],
                           score_floor=float(rng.choice([0.5, 0.8, 1.0])))
    if rng.random() < 0.5:
        side.budget = float(rng.integers(2, 8))
        side.stipend_fixed = rng.integers(0, 3, m).astype(float)
        side.stipend_per_mentee = rng.integers(1, 3, m).astype(float)
    cap = np.concatenate([[3.0], rng.integers(0, 3, m - 1).astype(float)])
    return AssignmentProblem(Candidates.complete(n, m), score, cap,
                             load=rng.choice([0.5, 1.0], n), side=side)


@pytest.mark.parametrize("seed", range(30))
def test_one_rule_on_mixed_scales(seed):
    assert _assert_one_rule(_mixed(seed)) >= 1  # the empty assignment, at least


@pytest.mark.parametrize("seed", [0, 1, 2, 112])
def test_the_converse_the_check_fails_where_highs_fixed_calls_it_infeasible(seed):
    """The rule's other half: an assignment the check fails is infeasible to HiGHS, its pairs
    fixed, and brute force fails it too (the session 18 hunt: none of the 192,205 assignments
    the check fails over _mixed(0..300) was feasible to HiGHS; 9,560 passed, all feasible)."""
    p = _mixed(seed)
    P = p.pairs
    bf = feasible_assignments(p)
    failed = 0
    for x, feasible in zip(bf.x, bf.feasible):
        model = LinearModel(p, coverage_at_least=len(np.unique(P.mentee[x])))
        ok = not model.check(P.mentee, P.mentor, p.score, x)
        assert ok == bool(feasible), np.flatnonzero(x)
        if not ok:
            failed += 1
            assert _highs(model, p, x) == "infeasible", np.flatnonzero(x)
    assert failed > 0


def test_a_score_stage_that_highs_calls_infeasible_keeps_the_coverage_stages_assignment(monkeypatch):
    """The safeguard behind the rule: should HiGHS still call the score stage's relaxation
    infeasible after the coverage stage found an assignment (forced here), that assignment
    (which meets every row of the score stage) stands, "feasible" with no bound."""
    rng = np.random.default_rng(5)
    side = SideConstraints(group=np.array([0, 1, 0, 1, 0, 1]), group_names=["a", "b"],
                           score_floor=0.5)
    p = AssignmentProblem(Candidates.complete(6, 2), rng.uniform(0.2, 1.0, 12), np.array([2.0, 2.0]),
                          side=side, coverage_first=True)
    real = relax.Run.relax

    def relax_(self, cand, *args, **kw):
        if self.model.coverage_rows:  # the score stage of coverage_first
            return None
        return real(self, cand, *args, **kw)

    monkeypatch.setattr(relax.Run, "relax", relax_)
    try:
        sol = solve_mip(p, SolverOptions(time_limit=60))
    except InfeasibleError as e:  # pragma: no cover - the failure this test guards against
        pytest.fail(f"a proof from a stage whose first incumbent meets it: {e}")
    x = np.zeros(len(p.pairs), bool)
    x[sol.chosen] = True
    assert sol.status == "feasible" and sol.bound is None and exactly_feasible(p, x)
    assert len(np.unique(p.pairs.mentee[sol.chosen])) == 4  # each mentor takes 2
    assert "infeasible, though" in sol.certificate["score"]["relaxation"]


def _near_1e_8(factor: float = 1.0, locks: bool = True) -> AssignmentProblem:
    """5 x 3, every score near 1e-8 (times ``factor``), a score floor of 1.0, and (``locks``)
    four pairs locked that break the floor's row by 2.5e-8, about half its largest term."""
    score = factor * np.array([1.81400567e-08, 1.92631927e-08, 1.29891747e-08, 1.67769561e-08,
                               9.94004576e-09, 1.72712495e-08, 1.72511321e-08, 6.09081525e-09,
                               1.94386649e-08, 1.01556192e-08, 7.66244109e-09, 1.27962720e-08,
                               1.43319277e-08, 5.25184393e-09, 7.23009392e-09])
    locked = np.zeros(15, bool)
    if locks:
        locked[[3, 6, 9, 12]] = True
    return AssignmentProblem(Candidates.complete(5, 3), score, np.array([3.0, 0.0, 1.0]),
                             load=np.array([1.0, 0.5, 0.5, 1.0, 1.0]), locked=locked,
                             side=SideConstraints(group=np.array([2, 0, 2, 2, 2]),
                                                  group_names=["a", "b", "c"], score_floor=1.0))


@pytest.mark.parametrize("factor", [1.0, 1e8])
def test_a_floor_over_scores_near_1e_8_alone_is_held_at_its_own_scale(factor):
    """The row is held to ROW_TOL x its scale, which the problem fixes (the largest term it can
    have): the same verdicts whatever factor multiplies every score. The locks break the row by
    half its largest term: the check, brute force and the engine all call them infeasible (the
    check and brute force used to accept them under ROW_TOL x max(1, ·), while HiGHS, on the
    row it had scaled up by about 1e8, proved them infeasible: an InfeasibleError brute force
    contradicted). Without the locks: brute force's optimum, "optimal", on every source."""
    p = _near_1e_8(factor)
    P = p.pairs
    lock = p.locked.copy()
    model = LinearModel(p)
    assert model.check(P.mentee, P.mentor, p.score, lock) == ["score_floor"]
    assert not feasible_assignments(p).any_feasible
    with pytest.raises(InfeasibleError):
        solve_mip(p, SolverOptions(time_limit=60))
    free = _near_1e_8(factor, locks=False)
    bf = feasible_assignments(free)
    optimum = bf.best_total
    for kind in ("array", "blocks", "bounds"):
        _, sol = solve_source(source_of(free, kind), free.capacity, load=free.load,
                              side=free.side, options=SolverOptions(time_limit=60))
        assert sol.status == "optimal" and sol.bound is not None
        assert sol.objective == pytest.approx(optimum, rel=1e-9, abs=0)
        assert sol.bound >= optimum * (1 - 1e-9)
    # the scale: row a (mentee 1 alone): |1 x 1 - 5| x mentee 1's best, 1.73e-8, beside 1 x the
    # best of the others, 1.94e-8; row c (the other four): 1 x 4 x mentee 1's best beside
    # |1 x 4 - 5| x their best
    assert model.floor_scale.tolist() == pytest.approx(
        [factor * 4 * 1.72712495e-08, factor * 4 * 1.72712495e-08], rel=1e-12)
