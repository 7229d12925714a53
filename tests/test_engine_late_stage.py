"""The engine's stage (:func:`mentormatch.solvers.stage.solve_stage`) starts no pass over every
pair once the caller's deadline has passed: when a dualised model (here balanced loads, whose
flows answer first) returns nothing after the deadline, the stage answers at once, without
``source.best``'s pass: the empty assignment (it meets the constraints), "feasible", stopped at
the time limit, with a bound that needs no pass (every score in the engine's unit is below 2),
at least the optimum over every pair found by scipy's ``milp``. Before, the stage ran the pass
(on bounds, a pass over every pair past the limit).

On a fake clock (``_support.jumping_clock``): nothing is timed."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from mentormatch.pairs import Candidates
from mentormatch.solvers import SolverOptions, route, sources
from mentormatch.solvers.base import AssignmentProblem, SideConstraints
from mentormatch.solvers.engine import solve_source

from _support import jumping_clock, source_of

JUMP = 1000.0


def _instance(seed: int, n: int = 40, m: int = 10) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < 0.7)
    score = np.round(rng.uniform(0.01, 1.0, len(pairs)), 3) * 2.0 ** rng.integers(-3, 4)
    cap = rng.integers(1, 3, m).astype(float)
    return AssignmentProblem(pairs, score, cap, side=SideConstraints(balanced_load=True))


def _balanced_optimum(p: AssignmentProblem) -> float:
    """The most total score with every mentor's load within one of every other's (``milp``,
    every pair a binary column, loads ``L <= load_j <= L + 1`` with ``L`` an integer column)."""
    k, n, m = len(p.pairs), p.n_mentees, p.n_mentors
    i, j = p.pairs.mentee, p.pairs.mentor
    rows = csr_matrix((np.ones(k), (i, np.arange(k))), shape=(n, k))
    cols = csr_matrix((np.ones(k), (j, np.arange(k))), shape=(m, k))
    low = np.hstack([cols.toarray(), -np.ones((m, 1))])  # load_j - L in [0, 1]
    cons = [LinearConstraint(np.hstack([rows.toarray(), np.zeros((n, 1))]), 0, 1),
            LinearConstraint(np.hstack([cols.toarray(), np.zeros((m, 1))]), 0, p.capacity),
            LinearConstraint(low, 0, 1)]
    out = milp(np.concatenate([-p.score, [0.0]]), constraints=cons, integrality=np.ones(k + 1),
               bounds=Bounds(np.zeros(k + 1), np.concatenate([np.ones(k), [n]])))
    assert out.success
    return -out.fun


def _assert_meets(p: AssignmentProblem, sol) -> None:
    """The answer's pairs meet the capacities, one mentor a mentee and the balanced loads
    (active mentors within one of each other), recomputed from the problem's arrays."""
    i, j = p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen]
    load = np.bincount(j, minlength=p.n_mentors)
    assert np.all(load <= p.capacity) and np.all(np.bincount(i, minlength=p.n_mentees) <= 1)
    assert not len(sol.chosen) or load[load > 0].max() - load[load > 0].min() <= 1
    assert sol.objective == pytest.approx(float(p.score[sol.chosen].sum()))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("source_kind", ["blocks"])
def test_a_stage_after_the_deadline_makes_no_pass(monkeypatch, seed, source_kind):
    """(Pairs in memory give each mentee's best pairs at once, and their tighter bound:
    ``test_no_highs_after_the_limit``.)"""
    clock = jumping_clock(monkeypatch, JUMP)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    p = _instance(seed)
    src = source_of(p, source_kind)
    untimed = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60.0))[1]
    best = _balanced_optimum(p)
    assert untimed.objective == pytest.approx(best, abs=1e-6)

    def late(*args, **kw):  # the dualised model: nothing, after the deadline
        clock.jump()
        return None

    monkeypatch.setattr(route, "by_lagrange", late)
    passes = []
    real_best = type(src).best
    monkeypatch.setattr(type(src), "best", lambda self, k, *a: passes.append(k) or real_best(self, k, *a))
    sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60.0))
    assert passes == []
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert "stopped at the time limit" in sol.message
    assert len(sol.chosen) == 0 and sol.objective == 0.0
    assert sol.bound is not None and sol.bound >= best - 1e-9


@pytest.mark.parametrize("seed", [0, 1])
def test_a_stage_whose_pass_would_end_past_the_deadline_makes_none(monkeypatch, seed):
    """Blocks: the unit's pass over every pair takes 40 s of the 60 s limit (the clock jumps
    inside it), so the stage's own pass, judged by it, would end past the limit: none starts,
    and the answer is the one above. With a pass of 10 s the stage runs as before (control)."""
    p = _instance(seed)
    src = source_of(p, "blocks")
    best = _balanced_optimum(p)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    monkeypatch.setattr(route, "by_lagrange", lambda *a, **k: None)
    passes = []
    real_best = type(src).best
    monkeypatch.setattr(type(src), "best", lambda self, k, *a: passes.append(k) or real_best(self, k, *a))
    for seconds, runs in ((10.0, True), (40.0, False)):
        clock = jumping_clock(monkeypatch, seconds)
        real_unit = route.source_unit
        monkeypatch.setattr(route, "source_unit", lambda s: (clock.jump(), real_unit(s))[1])
        passes.clear()
        sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60.0))[1]
        monkeypatch.setattr(route, "source_unit", real_unit)
        if runs:
            assert passes and sol.objective == pytest.approx(best, abs=1e-6)
            continue
        assert passes == [] and len(sol.chosen) == 0 and sol.certificate["timed_out"] is True
        assert sol.status == "feasible" and sol.bound >= best - 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_pass_the_deadline_overtakes_stops_between_blocks(monkeypatch, seed):
    """Blocks of 10 rows, each block of the stage's pass for each mentee's best pairs taking
    25 s of the 60 s limit (the clock jumps as it is read): the pass starts in time and stops
    after the block that crosses the deadline (3 of 4 blocks read; before: every block, past the
    limit); the answer is the empty assignment, "feasible", stopped at the time limit, with a
    bound over every pair (the best pairs of the mentees read, the unit's bound for the others)
    at least ``milp``'s optimum."""
    from mentormatch.solvers import certify

    p = _instance(seed)
    best = _balanced_optimum(p)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    monkeypatch.setattr(route, "by_lagrange", lambda *a, **k: None)
    monkeypatch.setattr(certify, "row_blocks", lambda n, w: [(a, min(a + 10, n)) for a in range(0, n, 10)])
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    clock = jumping_clock(monkeypatch, 25.0)
    in_pass, read = [False], []

    def rows(sl):
        if in_pass[0]:
            read.append(sl.start)
            clock.jump()
        return dense[sl]

    real_best = sources.BlockSource.best

    def watched(self, k, *args):
        in_pass[0] = True
        try:
            return real_best(self, k, *args)
        finally:
            in_pass[0] = False

    monkeypatch.setattr(sources.BlockSource, "best", watched)
    src = sources.BlockSource(rows, p.n_mentees, p.n_mentors)
    sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=60.0))[1]
    assert read == [0, 10, 20]
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert "stopped at the time limit" in sol.message
    # the plain flow over the mentees read, which meets the balanced loads (s24: before, the
    # empty assignment; solvers/fallback.flow_on_candidates)
    assert sol.bound is not None and sol.bound >= best - 1e-9 and sol.bound >= sol.objective
    _assert_meets(p, sol)
