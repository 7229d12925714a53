"""A user's time limit is a limit (issue 23): no HiGHS run starts once the caller's deadline has
passed (no floor on HiGHS's limit: an LP had at least 1 s, a MIP 0.05 s, past a spent limit),
and the answer is then the best assignment found, with a valid bound, saying it stopped at the
time limit.

Nothing here is timed: the clock is ``time.perf_counter`` plus an offset that jumps past the
deadline at a chosen point (after the first stage, after the first LP, or before anything), and
every HiGHS run is counted, with the clock at its start, by wrapping ``highspy.Highs.run``."""
from __future__ import annotations

import time

import highspy
import numpy as np
import pytest

from mentormatch.pairs import Candidates as PairSet
from mentormatch.solvers import SideConstraints, SolverOptions, relax, route
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.engine import solve_mip
from mentormatch.solvers.highs import OutOfTime, highs_instance
from mentormatch.solvers.linear import LinearModel
from mentormatch.solvers.warm_lp import WarmLP

#: The caller's time limit (seconds); the clock jumps well past it.
LIMIT = 30.0
JUMP = 1000.0


def _budgeted(seed: int, n: int = 40, m: int = 12, coverage_first: bool = False,
              density: float = 0.6) -> AssignmentProblem:
    """Every mentor paid a fixed and a per-mentee stipend and a budget that binds, as
    test_solvers_branch.uniform; optionally the most mentees first (two stages)."""
    rng = np.random.default_rng(seed)
    pairs = PairSet.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.uniform(0.05, 1.0, len(pairs)), 3)
    cap = rng.integers(1, 5, m).astype(float)
    budget = float(np.floor(0.55 * (2 * m + cap.sum())))
    side = SideConstraints(budget=budget, stipend_fixed=np.full(m, 2.0),
                           stipend_per_mentee=np.ones(m), min_load=np.zeros(m))
    return AssignmentProblem(pairs, score, cap, side=side, coverage_first=coverage_first)


@pytest.fixture
def clock(monkeypatch):
    """The jumping clock and the HiGHS runs: ``jump()`` moves the clock ``JUMP`` s on;
    ``runs`` holds the clock's reading at the start of every HiGHS run."""
    real_clock, real_run = time.perf_counter, highspy.Highs.run
    offset, runs = [0.0], []

    def counted_run(self, *args, **kw):
        runs.append(time.perf_counter())
        return real_run(self, *args, **kw)

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    monkeypatch.setattr(highspy.Highs, "run", counted_run)

    class Clock:
        def jump(self):
            offset[0] += JUMP

        @property
        def jumped(self):
            return offset[0] > 0

        def jump_after(self, owner, name: str) -> None:
            """``owner.name`` (a function or method) jumps the clock once it returns, the
            first time only."""
            real = getattr(owner, name)

            def then_jump(*args, **kw):
                out = real(*args, **kw)
                if not self.jumped:
                    self.jump()
                return out

            monkeypatch.setattr(owner, name, then_jump)

        def solve(self, p):
            """``solve_mip`` under ``LIMIT``: (solution, the HiGHS runs it started, its start)."""
            before, started = len(runs), time.perf_counter()
            sol = solve_mip(p, SolverOptions(time_limit=LIMIT))
            return sol, runs[before:], started

    c = Clock()
    c.runs = runs
    return c


def _assert_stopped_at_the_limit(sol, optimum: float):
    assert sol.status == "feasible"
    assert sol.certificate["timed_out"] is True
    assert sol.message.startswith(f"stopped at the time limit ({LIMIT:g} s)")
    # the bound is still a bound: at least the optimum the untimed engine proves
    assert sol.bound is not None and sol.bound >= optimum - 1e-9
    assert sol.objective <= sol.bound + 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_highs_run_starts_after_the_limit_passes_between_the_stages(monkeypatch, clock,
                                                                        seed):
    """Most mentees first, then the best score: the clock jumps past the deadline once the
    coverage stage returns. The score stage starts no HiGHS run (it had an LP of at least 1 s
    before); the answer is the coverage stage's assignment, as many mentees as the optimum,
    with the bound of each mentee's best pairs, and says the time limit stopped it."""
    p = _budgeted(seed, coverage_first=True)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal"
    clock.jump_after(route, "solve_stage")
    sol, runs, started = clock.solve(p)
    assert runs, "the coverage stage ran HiGHS"
    assert all(at < started + LIMIT for at in runs)  # every one before the jump
    _assert_stopped_at_the_limit(sol, untimed.objective)
    assert sol.certificate["score"]["timed_out"] and sol.certificate["score"]["mip_nodes"] == 0
    matched = len(np.unique(p.pairs.mentee[sol.chosen]))
    best = len(np.unique(p.pairs.mentee[untimed.chosen]))
    assert matched == best == sol.certificate["matched"]


def test_no_highs_run_starts_after_the_limit_passes_in_the_pricing(monkeypatch, clock):
    """One candidate per mentee to start and one more a round (many pricing rounds): the clock
    jumps past the deadline once the first LP is solved. That LP is the only HiGHS run (no
    MIP, no neighbourhood, no branching node after it); the answer says so."""
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    p = _budgeted(3, n=60, m=16)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal" and untimed.certificate["score"]["pricing_rounds"] > 1
    clock.jump_after(WarmLP, "run")
    sol, runs, started = clock.solve(p)
    assert len(runs) == 1 and runs[0] < started + LIMIT
    assert sol.certificate["score"]["pricing_rounds"] == 1
    _assert_stopped_at_the_limit(sol, untimed.objective)


@pytest.mark.parametrize("seed", [0, 4])
def test_with_the_limit_spent_before_the_first_lp_no_highs_run_starts(monkeypatch, clock, seed):
    """The clock past the deadline before the first LP: no HiGHS run at all; the plain flow
    over each mentee's best pairs, repaired to the budget (s24; before, the empty assignment),
    meeting every row recomputed here, with the bound of each mentee's best pairs."""
    p = _budgeted(seed, n=12, m=5)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal"
    clock.jump_after(relax.Run, "__init__")
    sol, runs, _ = clock.solve(p)
    assert runs == []
    _assert_stopped_at_the_limit(sol, untimed.objective)
    i, j = p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen]
    load = np.bincount(j, minlength=p.n_mentors)
    assert np.all(load <= p.capacity) and np.all(np.bincount(i, minlength=p.n_mentees) <= 1)
    side = p.side
    assert side.stipend_fixed[load > 0].sum() + side.stipend_per_mentee[j].sum() <= side.budget + 1e-9
    assert sol.objective == pytest.approx(float(p.score[sol.chosen].sum()))
    # the bound of each mentee's best pairs (s25: the least of the two sides), recomputed: the
    # mentees' (demand 1: each one's best score) and the mentors' (each one's best scores, as
    # many as its places), each score at max(0, .); never below the untimed optimum
    pos = np.maximum(p.score, 0.0)
    best = np.zeros(p.pairs.n_mentees)
    np.maximum.at(best, p.pairs.mentee, pos)
    mentors = 0.0
    for jj in range(p.n_mentors):
        top = np.sort(pos[p.pairs.mentor == jj])[::-1]
        mentors += float(top[:int(p.capacity[jj])].sum())
    assert sol.bound == pytest.approx(min(best.sum(), mentors), abs=1e-9)
    assert sol.bound >= untimed.objective - 1e-9


def test_highs_gets_no_floor_on_its_limit():
    """HiGHS is handed the time left, never a floor: with none left no instance, no LP run and
    no MIP run starts, and the MIP says "time" with nothing found and no bound."""
    from mentormatch.solvers.sources import ArraySource

    options = SolverOptions(seed=0)
    for left in (0.0, -1.0):
        with pytest.raises(OutOfTime):
            highs_instance(options, left)
    p = _budgeted(5, n=8, m=3)
    source = ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, 8, 3)
    run = relax.Run(source, LinearModel(p), options, time.perf_counter() + 60.0,
                    np.zeros(0, np.int64))
    cand = relax.Candidates(*source.best(2), 3, np.zeros(0, np.int64))
    lp = WarmLP(run, cand, 60.0)
    with pytest.raises(OutOfTime):
        lp.run(0.0)
    assert run.timed_out
    run.timed_out, run.deadline = False, time.perf_counter() - 1.0
    st, chosen, bound = run.mip(cand, None)
    assert (st, chosen, bound) == ("time", None, np.inf) and run.timed_out
    assert run.mip_nodes == 0


def test_a_limit_passing_while_candidates_join_ends_the_pricing_before_its_next_lp(
        monkeypatch, clock):
    """The clock jumps past the deadline while the first round's violators join the candidates
    (after the pricing's own check of the time): the next LP does not start; the relaxation
    returned is the first round's (its x read on the grown candidates, the new ones at 0)."""
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    p = _budgeted(3, n=60, m=16)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal"
    clock.jump_after(relax.Candidates, "add")
    sol, runs, started = clock.solve(p)
    assert len(runs) == 1 and runs[0] < started + LIMIT
    assert sol.certificate["score"]["pricing_rounds"] == 1
    _assert_stopped_at_the_limit(sol, untimed.objective)


@pytest.mark.parametrize("seed", [0, 2, 3])  # (seed 1: the root is whole, no split)
def test_a_limit_passing_in_the_branching_keeps_the_unsolved_side_at_its_parents_bound(
        monkeypatch, clock, seed):
    """branch.search from the root, the clock jumping past the deadline once the first node's
    side is solved: the next side's LP does not start; it stays open at its parent's bound, so
    the tree's bound still holds over every assignment (brute force's optimum)."""
    from mentormatch.solvers import branch

    from test_solvers_branch import _few_candidates, _root, uniform
    from test_solvers_engine import reference

    _few_candidates(monkeypatch)
    p = uniform(seed)
    optimum = reference(p)
    run, cand, U = _root(p)
    real_relax, calls = run.relax, []

    def relax_then_jump(*args, **kw):
        calls.append(time.perf_counter())
        out = real_relax(*args, **kw)
        clock.jump()
        return out

    monkeypatch.setattr(run, "relax", relax_then_jump)
    run.deadline = time.perf_counter() + LIMIT
    before = len(clock.runs)
    tree = branch.search(run, cand, U, 0.0, 1e-9, max_pairs=10 ** 12, max_nodes=60)
    assert len(calls) == 2 and tree.stopped == "time" and tree.nodes == 1
    assert all(at < run.deadline for at in clock.runs[before:])
    assert optimum - 1e-6 <= tree.bound <= U + 1e-9
    assert run.timed_out and run.model.branch.free  # the model is the root's again
