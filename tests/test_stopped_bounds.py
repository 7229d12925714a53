"""A plain flow stopped by a caller's deadline reports a bound (:func:`mentormatch.solvers.rounds.stopped_bound`)
on every source, and the bound holds: it is at least the optimum over every pair, found here by
an independent solver (scipy's ``milp`` on the full model, every eligible pair a variable), and at
least the stopped answer's own objective.

The stops, on fake clocks (``_support.jumping_clock``, no sleep): after the first flow (before
its check), after the first check (before the second flow), after the first pass (before any
flow), inside the first pass (between its blocks) and inside the sub-markets of first prices.
With ``coverage_first`` the bound is on the total of any assignment matching as many mentees as
the flow: at least the lexicographic optimum's total (two ``milp`` solves)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

import mentormatch as mm
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import SolverOptions, certify
from mentormatch.solvers.base import AssignmentProblem
import mentormatch.solvers.bounded as bounded
from mentormatch.solvers.bounded import child, late, market, passes

from _support import exact_round, force_scale_path, jumping_clock, scorer_of

JUMP = 1000.0


def milp_optimum(scores: np.ndarray, cap: np.ndarray, dem: np.ndarray, cover: bool = False) -> float:
    """The optimum of ``max sum s x`` over every eligible pair (``s > -inf``), rows at most
    ``dem``, columns at most ``cap``, binary ``x``, by scipy's HiGHS MIP; with ``cover``, the
    largest total among the assignments matching the most mentees."""
    i, j = np.nonzero(np.isfinite(scores))
    s = scores[i, j]
    n, m, k = *scores.shape, len(s)
    rows = csr_matrix((np.ones(k), (i, np.arange(k))), shape=(n, k))
    cols = csr_matrix((np.ones(k), (j, np.arange(k))), shape=(m, k))
    cons = [LinearConstraint(rows, 0, dem), LinearConstraint(cols, 0, cap)]
    if not cover:
        out = milp(-s, constraints=cons, integrality=np.ones(k), bounds=Bounds(0, 1))
        assert out.success
        return -out.fun
    # matched mentees y_i <= row sum, y_i <= 1: first the most of them, then the total
    a = csr_matrix(np.hstack([-rows.toarray(), np.eye(n)]))
    big = [LinearConstraint(csr_matrix(np.hstack([rows.toarray(), np.zeros((n, n))])), 0, dem),
           LinearConstraint(csr_matrix(np.hstack([cols.toarray(), np.zeros((m, n))])), 0, cap),
           LinearConstraint(a, -np.inf, 0)]
    first = milp(np.concatenate([np.zeros(k), -np.ones(n)]), constraints=big,
                 integrality=np.ones(k + n), bounds=Bounds(0, 1))
    assert first.success
    most = round(-first.fun)
    count = LinearConstraint(np.concatenate([np.zeros(k), np.ones(n)])[None, :], most, np.inf)
    out = milp(np.concatenate([-s, np.zeros(n)]), constraints=big + [count], integrality=np.ones(k + n),
               bounds=Bounds(0, 1))
    assert out.success
    return -out.fun


def _round(seed: int, n: int = 90, m: int = 30):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    prep, eligible, scores = exact_round(mentors, mentees)
    return scores, scorer_of(prep), prep.data["mentors"]["capacity"].to_numpy(float)


def _demand(seed: int, n: int) -> np.ndarray:
    """One mentor a mentee, or two for every third mentee (odd seeds)."""
    dem = np.ones(n, np.int64)
    if seed % 2:
        dem[::3] = 2
    return dem


def _assert_honest(sol, best: float, scores, cap, dem, chosen_i, chosen_j):
    """Stopped: "feasible", ``timed_out``, the message; a bound at least ``best`` (the
    independent optimum) and the objective; the pairs eligible, within the places, their
    scores summing to the objective."""
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert "deadline" in sol.message
    assert sol.bound is not None and np.isfinite(sol.bound)
    assert sol.bound >= best - 1e-9 * max(1.0, abs(best))
    assert sol.bound >= sol.objective - 1e-9
    assert sol.gap == pytest.approx(max(0.0, (sol.bound - sol.objective) / abs(sol.bound)))
    assert np.isfinite(scores[chosen_i, chosen_j]).all()
    assert scores[chosen_i, chosen_j].sum() == pytest.approx(sol.objective, abs=1e-9)
    assert (np.bincount(chosen_j, minlength=len(cap)) <= cap).all()
    assert (np.bincount(chosen_i, minlength=len(dem)) <= dem).all()


def _bounded(scorer, cap, dem, cover=False, top_k=1, deadline=None):
    problem, sol = bounded.solve_bounded(scorer, cap, demand=dem, options=SolverOptions(top_k=top_k),
                                         cover=cover, deadline=deadline)
    return sol, problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]


def _jump_after(monkeypatch, clock, owner, name: str) -> None:
    """``owner.name`` (a function or method) jumps the clock once it returns."""
    real = getattr(owner, name)

    def then_jump(*args, **kw):
        out = real(*args, **kw)
        clock.jump()
        return out

    monkeypatch.setattr(owner, name, then_jump)


@pytest.fixture
def clock(monkeypatch):
    """The fake clock, no sub-market (the stops inside it have their own test)."""
    monkeypatch.setattr(bounded, "_guides", lambda *a: (None, None, None))
    return jumping_clock(monkeypatch, JUMP)


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("where", ["after the first flow", "after the first check"])
def test_bounds_stopped_between_the_rounds_report_a_bound_over_every_pair(clock, monkeypatch, seed, where,
                                                                          cover):
    """The bounds source, one pair per mentee to start (several rounds untimed): the clock
    jumps past the deadline after the first flow (the check is refused: the bound comes from
    the pools) or after the first check (the second flow is refused)."""
    scores, scorer, cap = _round(seed)
    dem = _demand(seed, len(scores))
    best = milp_optimum(scores, cap, dem, cover)
    untimed = _bounded(scorer, cap, dem, cover)[0]
    assert untimed.status == "optimal" and untimed.certificate["rounds"] >= 2
    assert untimed.objective == pytest.approx(best, abs=1e-6)
    clock.flows.clear()
    if where == "after the first flow":
        clock.after_flow = clock.jump
    else:
        _jump_after(monkeypatch, clock, bounded._Certifier, "check")
    sol, i, j = _bounded(scorer, cap, dem, cover, deadline=time.perf_counter() + 60.0)
    assert len(clock.flows) == 1
    _assert_honest(sol, best, scores, cap, dem, i, j)


def _late_flows(monkeypatch) -> list:
    """The flows of a stopped solve's one late assignment (``bounded.late.solve_arrays`` wrapped):
    their pair counts."""
    real, seen = late.solve_arrays, []
    monkeypatch.setattr(late, "solve_arrays", lambda i, *a: seen.append(len(i)) or real(i, *a))
    return seen


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_bounds_stopped_before_the_first_flow_answer_one_flow_and_the_pools_bound(clock, monkeypatch, seed,
                                                                                 cover):
    """The clock jumps once the first pass returns: no round's flow; one flow on the first
    sparse set gives an assignment (before: the locks alone, none here) and the bound is the
    Lagrangian one from the pools under the pass's prices, tighter than every pair at the
    bounds' largest value."""
    scores, scorer, cap = _round(seed)
    dem = _demand(seed, len(scores))
    best = milp_optimum(scores, cap, dem, cover)
    _jump_after(monkeypatch, clock, bounded, "_first_pass")
    late = _late_flows(monkeypatch)
    clock.flows.clear()
    sol, i, j = _bounded(scorer, cap, dem, cover, top_k=None, deadline=time.perf_counter() + 60.0)
    assert len(sol.chosen) > 0 and clock.flows == [] and len(late) == 1
    _assert_honest(sol, best, scores, cap, dem, i, j)
    n_max = min(dem.sum(), cap.sum())
    assert sol.bound < n_max * (scorer.largest + scorer.margin)


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_first_pass_stops_between_its_blocks(clock, monkeypatch, seed, cover):
    """Blocks of 10 rows; the clock jumps after the first block: no other block starts, no
    round's flow; the locks and one flow on the pools of the rows scanned (before: the locks
    alone), every other row unmatched; a bound at least the optimum with the locks kept."""
    scores, scorer, cap = _round(seed)
    dem = _demand(seed, len(scores))
    eligible = np.argwhere(np.isfinite(scores))
    locked = (eligible[[0, -1], 0], eligible[[0, -1], 1])
    monkeypatch.setattr(passes, "_pass_blocks", lambda n, w: [(a, min(a + 10, n)) for a in range(0, n, 10)])
    real, blocks = passes._scan_block, []

    def then_jump(view, a, b, *args):
        out = real(view, a, b, *args)
        blocks.append(a)
        if len(blocks) == 1:
            clock.jump()
        return out

    monkeypatch.setattr(passes, "_scan_block", then_jump)
    late = _late_flows(monkeypatch)
    clock.flows.clear()
    problem, sol = bounded.solve_bounded(scorer, cap, demand=dem, locked=locked, options=SolverOptions(),
                                         cover=cover, deadline=time.perf_counter() + 60.0)
    P = problem.pairs
    i, j = P.mentee[sol.chosen], P.mentor[sol.chosen]
    pairs = set(zip(i.tolist(), j.tolist()))
    locks = set(zip(locked[0].tolist(), locked[1].tolist()))
    # the rows of the blocks that ran (the pass's rows are the scorer's internal order; the
    # other thread's block may have begun before the jump, and then it finishes)
    scanned = set(np.concatenate([scorer.order[a:a + 10] for a in blocks]).tolist())
    assert locks <= pairs and len(pairs) > len(locks)
    assert clock.flows == [] and len(blocks) <= 2 and len(late) == 1
    assert {a for a, _ in pairs - locks} <= scanned
    fixed = scores.copy()  # the optimum with the locks kept: their rows and places taken out
    fixed[locked[0], :] = -np.inf
    dem_left, cap_left = dem.copy(), cap.copy()
    dem_left[locked[0]] -= 1
    np.subtract.at(cap_left, locked[1], 1)
    best = milp_optimum(fixed, cap_left, dem_left, cover) + scores[locked].sum()
    _assert_honest(sol, best, scores, cap, dem, i, j)


def test_the_sub_markets_stop_at_the_deadline(monkeypatch):
    """Sub-markets forced on (in this process), the clock jumps after the first flow (the
    inner sub-market's): no other flow starts (the inner one stops, the outer one and the
    first pass stop before their first block), and the answer is the bound of every pair at
    the bounds' largest value."""
    clock = jumping_clock(monkeypatch, JUMP)
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_MIN_PLACES", 0.0)
    monkeypatch.setattr(child, "ENABLED", False)
    scores, scorer, cap = _round(4, n=120, m=30)
    cap = np.maximum(cap, 5)  # (every mentor at least GUIDE_STEP places: the inner market divides them)
    dem = np.ones(len(scores), np.int64)
    best = milp_optimum(scores, cap, dem)
    sub = []
    real = market._guide
    monkeypatch.setattr(market, "_guide", lambda *a: sub.append(a[2]) or real(*a))
    untimed = _bounded(scorer, cap, dem, top_k=None)[0]
    assert untimed.status == "optimal" and len(sub) == 2  # the inner and the outer sub-market
    clock.flows.clear()
    clock.after_flow = clock.jump
    sol, i, j = _bounded(scorer, cap, dem, top_k=None, deadline=time.perf_counter() + 60.0)
    assert len(clock.flows) == 1 and len(sol.chosen) == 0
    _assert_honest(sol, best, scores, cap, dem, i, j)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_slow_sub_market_leaves_the_pass_time_for_an_assignment(monkeypatch, seed):
    """Sub-markets forced on (in this process), every flow taking 35 fake seconds, limit 60 s:
    the sub-markets stop at half the time left (:data:`market.GUIDE_SHARE`), so the first
    pass runs whole and the full market's first flow gives an assignment (before: the
    sub-markets' two flows took the limit, the pass stopped before its first block, no pairs); the pairs eligible and
    within the places, the bound at least ``milp``'s optimum."""
    clock = jumping_clock(monkeypatch, 35.0)
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_MIN_PLACES", 0.0)
    monkeypatch.setattr(child, "ENABLED", False)
    scores, scorer, cap = _round(seed, n=120, m=30)
    cap = np.maximum(cap, 5)  # (every mentor at least GUIDE_STEP places: the inner market divides them)
    dem = np.ones(len(scores), np.int64)
    best = milp_optimum(scores, cap, dem)
    clock.after_flow = clock.jump
    sol, i, j = _bounded(scorer, cap, dem, top_k=None, deadline=time.perf_counter() + 60.0)
    assert len(sol.chosen) > 0
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best, abs=1e-6)
    else:
        _assert_honest(sol, best, scores, cap, dem, i, j)


def _complete(scores, cap, dem, cover):
    n, m = scores.shape
    i, j = np.nonzero(np.isfinite(scores))
    return AssignmentProblem(Candidates(i, j, n, m), scores[i, j], cap, dem, coverage_first=cover)


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("source", ["complete", "blocks"])
def test_the_complete_set_and_blocks_stopped_after_a_check_report_its_bound(monkeypatch, seed, source, cover):
    """One pair per mentee to start; the clock jumps after the first check of every pair, so
    the second flow is refused: the bound is the round's dual objective plus the check's
    largest violation on every pair that can be matched."""
    clock = jumping_clock(monkeypatch, JUMP)
    monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    scores, _, cap = _round(seed)
    dem = _demand(seed, len(scores))
    best = milp_optimum(scores, cap, dem, cover)

    def solve(deadline=None):
        if source == "complete":
            p = _complete(scores, cap, dem, cover)
            sol = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter(), deadline)
            return sol, p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen]
        p, sol = certify.solve_scored(lambda rows: scores[rows], cap, n_mentees=len(scores),
                                      n_mentors=len(cap), demand=dem, cover=cover, deadline=deadline)
        return sol, p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen]

    untimed = solve()[0]
    assert untimed.status == "optimal" and untimed.certificate["rounds"] >= 2
    assert untimed.objective == pytest.approx(best, abs=1e-6)
    _jump_after(monkeypatch, clock, certify.RowsChecker, "check")
    clock.flows.clear()
    sol, i, j = solve(time.perf_counter() + 60.0)
    assert len(clock.flows) == 1
    _assert_honest(sol, best, scores, cap, dem, i, j)


def test_pair_stopped_in_its_first_pass_says_why_each_mentee_is_unmatched(clock, monkeypatch):
    """``pair()`` on bounds (forced small), the limit passing as the first pass begins: no
    flow, the locks alone (none), a bound at least the optimum; every mentee with an eligible
    mentor is unmatched with the reason ``"time_limit"`` (before: "no eligible mentor", or, for
    the first rows, their every eligible pair scored after the limit to name full mentors)."""
    from mentormatch import pipeline as pl

    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=6)
    small = pl.prepare(mentors, mentees)
    untimed = mm.pair(mentors, mentees, {"time_limit": 60.0})
    force_scale_path(monkeypatch, True)
    real = bounded._first_pass

    def jump_then_pass(*args, **kw):
        clock.jump()
        return real(*args, **kw)

    monkeypatch.setattr(bounded, "_first_pass", jump_then_pass)
    clock.flows.clear()
    r = mm.pair(mentors, mentees, {"time_limit": 60.0})
    assert clock.flows == [] and len(r.pairs) == 0
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    assert r.bound >= untimed.objective - 1e-6 and untimed.status == "optimal"
    eligible = np.bincount(small.problem.pairs.mentee, minlength=len(mentees)) > 0
    has = set(np.asarray(small.mentee_ids.ids)[eligible].tolist())
    u = r.unmatched.set_index("mentee_id")["reason_code"]
    assert len(u) == len(mentees) and len(has) > 0
    assert all(code == ("time_limit" if who in has else "no_eligible_mentor") for who, code in u.items())


@pytest.mark.parametrize("seed", range(6))
def test_a_budgets_lagrangian_keeps_the_bound_of_a_stopped_inner_flow(monkeypatch, seed):
    """The budget's Lagrangian (forced small) on blocks (pairs in memory are solved whole at
    this size), one pair per mentee to start: the clock jumps
    past the limit after the first inner flow's first check of every pair, so that flow stops
    uncertified. Its bound still bounds the shifted problem, so ``lambda B`` plus it bounds the
    budget problem: the answer is "feasible", stopped, with a bound at least the optimum of the
    full model (scipy's ``milp``, ``test_solvers_engine.reference``). Before: no bound."""
    from mentormatch.solvers import route
    from mentormatch.solvers.engine import solve_source
    from mentormatch.solvers.sources import BlockSource
    from test_solvers_engine import instance, reference

    clock = jumping_clock(monkeypatch, JUMP)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    p = instance(seed, n=50, m=12, density=0.7)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    src = BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors)
    best = reference(p)
    _jump_after(monkeypatch, clock, certify.RowsChecker, "check")
    sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60.0))
    assert sol.certificate["method"] == "lagrangian budget + certified flow"
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.bound is not None and sol.bound >= best - 1e-6 and sol.bound >= sol.objective - 1e-9


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_first_pass_keeps_time_for_the_late_flow(clock, monkeypatch, seed, cover):
    """Blocks of 10 rows, each 8 fake seconds; a flow takes ``LATE_PAIR_SECONDS`` (0.1 fake s
    here) a pair; limit 60 s, so the nine blocks would not fit. The pass stops at the deadline
    less the first flow's time (at most half the time left: 30 s here), and the late sparse set
    keeps what fits in the rest: the answer (one late flow on the rows scanned) comes back by
    the deadline (before: the pass ran to 64 s and the flow past it), and it is honest."""
    scores, scorer, cap = _round(seed)
    dem = _demand(seed, len(scores))
    best = milp_optimum(scores, cap, dem, cover)
    per_pair = 0.1
    monkeypatch.setattr(late, "LATE_PAIR_SECONDS", per_pair)
    monkeypatch.setattr(passes, "_pass_blocks", lambda n, w: [(a, min(a + 10, n)) for a in range(0, n, 10)])
    real_block, real_flow, flows = passes._scan_block, late.solve_arrays, []

    def slow_block(*args):
        out = real_block(*args)
        clock.jump(8.0)
        return out

    def slow_flow(i, *args):
        flows.append(len(i))
        clock.jump(per_pair * len(i))
        return real_flow(i, *args)

    monkeypatch.setattr(passes, "_scan_block", slow_block)
    monkeypatch.setattr(late, "solve_arrays", slow_flow)
    clock.flows.clear()
    deadline = time.perf_counter() + 60.0
    sol, i, j = _bounded(scorer, cap, dem, cover, top_k=None, deadline=deadline)
    assert time.perf_counter() <= deadline
    assert clock.flows == [] and len(flows) == 1 and len(sol.chosen) > 0
    assert 0 < sol.certificate["rows_scanned"] < len(scores)
    _assert_honest(sol, best, scores, cap, dem, i, j)


@pytest.mark.parametrize("seed", [1, 2, 3, 7])
@pytest.mark.parametrize("weights", [None, {"geography": 3.0, "preference": 0.5}])
def test_each_rows_ceiling_bounds_its_exact_scores(seed, weights):
    """:func:`bounded.ceiling.row_ceilings` (no pass over the pairs) is at least every eligible
    exact score of its row (the complete set's), on the mentors asked for and on a subset of
    rows and mentors (a sub-market's view), and on average below the bounds' largest value."""
    from mentormatch.solvers.bounded.ceiling import row_ceilings

    programme = None if weights is None else {"weights": weights, "constraints": {"mentor_level_above": True}}
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=25, seed=seed)
    prep, eligible, scores = exact_round(mentors, mentees, programme)
    scorer = scorer_of(prep, programme)
    rows = scores[scorer.order]  # the scorer's internal order
    has = np.arange(scores.shape[1]) % 3 != 0  # the mentors asked for
    ceil = row_ceilings(scorer, has)
    best = np.where(np.isfinite(rows[:, has]), rows[:, has], -np.inf).max(axis=1)
    assert np.all(ceil >= best) and np.mean(ceil) < scorer.largest + scorer.margin
    r, c = np.arange(0, len(rows), 2), np.flatnonzero(has)[::2]
    part = row_ceilings(scorer.subset(rows=r, cols=c))
    assert np.all(part >= np.where(np.isfinite(rows[np.ix_(r, c)]), rows[np.ix_(r, c)], -np.inf).max(axis=1))


@pytest.mark.parametrize("cover", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_solve_stopped_before_its_pass_bounds_each_row_by_its_own_ceiling(seed, cover):
    """The deadline passed before the first pass: no pass, no flow, the locks alone (none) and
    a bound from each row's own ceiling (before: every pair at the bounds' largest value,
    ``n_max (largest + margin)``): at least ``milp``'s optimum, below the old bound."""
    scores, scorer, cap = _round(seed)
    dem = _demand(seed, len(scores))
    best = milp_optimum(scores, cap, dem, cover)
    sol, i, j = _bounded(scorer, cap, dem, cover, deadline=time.perf_counter() - 1.0)
    assert len(sol.chosen) == 0
    _assert_honest(sol, best, scores, cap, dem, i, j)
    n_max = min(dem.sum(), cap.sum())
    assert sol.bound < 0.99 * n_max * (scorer.largest + scorer.margin)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_rows_ceiling_bounds_its_scores_with_a_bonus_folded_in(seed):
    """With a bonus folded in (priority per mentee, a price per mentor, listed continuity
    pairs: :class:`~mentormatch.solvers.bonus.BonusBounds`), each row's ceiling is at least
    every eligible pair's exact score plus its bonus, and below the view's largest value plus
    its margin on average."""
    from mentormatch.solvers.base import PairBonus
    from mentormatch.solvers.bonus import BonusBounds
    from mentormatch.solvers.bounded.ceiling import row_ceilings

    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=25, seed=seed)
    prep, eligible, scores = exact_round(mentors, mentees)
    rng = np.random.default_rng(seed)
    n, m = scores.shape
    li, lj = rng.integers(0, n, 15), rng.integers(0, m, 15)
    bonus = PairBonus(per_mentee=rng.uniform(0, 2, n) * (rng.random(n) < 0.5), mentee=li, mentor=lj,
                      value=rng.uniform(-1, 3, 15), n_mentors=m, per_mentor=rng.uniform(-0.5, 0.5, m))
    view = BonusBounds(scorer_of(prep), bonus)
    i, j = np.nonzero(eligible)
    full = np.full((n, m), -np.inf)
    full[i, j] = scores[i, j] + bonus.on_pairs(i, j)
    has = np.arange(m) % 4 != 1
    rows = full[view.order][:, has]
    ceil = row_ceilings(view, has)
    assert np.all(ceil >= rows.max(axis=1)) and np.mean(ceil) < view.largest + view.margin
