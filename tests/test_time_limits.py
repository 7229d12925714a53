"""``pair()``'s ``time_limit`` counts from the call: reading, validating and scoring the tables
come inside it (:attr:`mentormatch.solvers.SolverOptions.started`), and the messages quote the
user's limit, never the time left.

Fake clocks (``_support.jumping_clock``, no sleep) make the preparation take most of the limit,
or all of it; every stopped answer is checked against an independent optimum (scipy's ``milp``):
its bound is at least that optimum, its pairs within the places."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl, synthetic
from mentormatch.pipeline import tables
from mentormatch.solvers import SolverOptions
import mentormatch.solvers.bounded as bounded
from mentormatch.solvers.bounded import late, passes

from _support import exact_round, force_scale_path, jumping_clock, recheck_pairs
from test_stopped_bounds import milp_optimum

LIMIT = 60.0


def _slow_preparation(monkeypatch, clock, seconds: float) -> None:
    """``pair()``'s preparation (``tables._prepare``, what ``prepare`` runs, with the call's
    start) takes ``seconds`` of the fake clock, after its own checks of the limit."""
    real = tables._prepare

    def slow(*args, **kw):
        out = real(*args, **kw)
        clock.jump(seconds)
        return out

    monkeypatch.setattr(tables, "_prepare", slow)


def test_options_count_the_limit_from_started():
    """The deadline is ``started + time_limit`` when ``started`` is set, else from the solver's
    own start; ``time_limit`` (what messages quote) is left as given."""
    o = SolverOptions(time_limit=LIMIT, started=100.0)
    assert o.deadline(130.0) == 160.0 and o.time_limit == LIMIT
    assert SolverOptions(time_limit=LIMIT).deadline(130.0) == 190.0
    assert SolverOptions().deadline(130.0) is None and SolverOptions().deadline(130.0, 30.0) == 160.0


@pytest.mark.parametrize("seed", [1, 2])
def test_pair_on_bounds_answers_within_the_limit_from_the_call(monkeypatch, seed):
    """Bounds (forced small), blocks of 10 rows at 4 fake seconds each, a flow at 0.05 fake s
    a pair (the solver assumes 0.1), the preparation 30 of the 60 s: the first pass stops early enough for the late flow
    and ``pair()`` returns within 60 s of its call (before: the solve had 60 s of its own and
    returned at about 80 s), "feasible", stopped, with a bound at least ``milp``'s optimum and
    its pairs eligible and within the places."""
    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=seed)
    small, _, scores = exact_round(mentors, mentees)
    cap = small.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    clock = jumping_clock(monkeypatch, 0.0)
    force_scale_path(monkeypatch, True)
    monkeypatch.setattr(bounded, "_guides", lambda *a: (None, None, None))
    monkeypatch.setattr(late, "LATE_PAIR_SECONDS", 0.1)
    monkeypatch.setattr(passes, "_pass_blocks", lambda n, w: [(a, min(a + 10, n)) for a in range(0, n, 10)])
    real_block, real_flow = passes._scan_block, late.solve_arrays

    def slow_block(*args):
        out = real_block(*args)
        clock.jump(4.0)
        return out

    def slow_flow(i, *args):  # (half what the solver assumes: the rest covers the real time)
        clock.jump(0.05 * len(i))
        return real_flow(i, *args)

    monkeypatch.setattr(passes, "_scan_block", slow_block)
    monkeypatch.setattr(late, "solve_arrays", slow_flow)
    _slow_preparation(monkeypatch, clock, 30.0)
    called = time.perf_counter()
    r = mm.pair(mentors, mentees, {"time_limit": LIMIT})
    assert time.perf_counter() - called <= LIMIT
    assert r.status == "feasible" and r.certificate["timed_out"] is True and len(r.pairs) > 0
    assert 0 < r.certificate["rows_scanned"] < len(mentees)
    assert r.bound >= best - 1e-6 and r.bound >= r.objective - 1e-9
    whole = pl.solve(small)
    assert whole.status == "optimal" and whole.objective == pytest.approx(best, abs=1e-6)
    recheck_pairs(small, r, whole)


def _budget_optimum(problem) -> float:
    """The optimum of ``problem`` (pairs, capacities, minimum loads, a stipend budget) by
    scipy's ``milp`` on the full model (``test_solvers_engine.reference``)."""
    import dataclasses

    from test_solvers_engine import reference

    side = problem.side
    if side.min_load is None:  # (none in the tables: every minimum 0)
        side = dataclasses.replace(side, min_load=np.zeros(problem.n_mentors))
    return reference(dataclasses.replace(problem, side=side))


def test_pair_with_a_budget_stopped_by_its_preparation_quotes_the_users_limit(monkeypatch):
    """The engine (a stipend budget that binds), the preparation taking 61 of the 60 s:
    no stage starts past the limit; the answer is "feasible", stopped, its message quotes the
    limit the user set (60 s, not the time left), its bound at least ``milp``'s optimum (before:
    the solve had 60 s of its own: "optimal")."""
    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=3)
    programme = {"time_limit": LIMIT, "constraints": {"budget": 3000.0}}
    small = pl.prepare(mentors, mentees, programme)
    best = _budget_optimum(small.problem)
    clock = jumping_clock(monkeypatch, 0.0)
    _slow_preparation(monkeypatch, clock, LIMIT + 1.0)
    r = mm.pair(mentors, mentees, programme)
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    assert "stopped at the time limit (60 s)" in r.certificate["message"]
    assert r.bound is not None and r.bound >= best - 1e-6 and r.bound >= r.objective - 1e-9
    unlimited = pl.solve(small)  # the budget binds: the optimum is below the plain flow's
    assert unlimited.status == "optimal" and unlimited.objective == pytest.approx(best, abs=1e-6)
    assert best < pl.solve(pl.prepare(mentors, mentees, {"time_limit": LIMIT})).objective - 1e-6


@pytest.mark.parametrize("solver", ["maxmin", "leximin", "cpsat"])
def test_every_cp_sat_run_gets_the_time_left_from_the_call(monkeypatch, solver):
    """CP-SAT (max-min and leximin under balanced loads; the ``"cpsat"`` solver), the
    preparation taking 50 of the 60 s: each CP-SAT run is given at most the 10 s left (before:
    60 s from the solve's start); the answer is the same as with no slow preparation."""
    from mentormatch.solvers import cpsat, fair

    mentors, mentees = synthetic.organisation(n_mentees=12, n_mentors=5, seed=2)
    programme = {"time_limit": LIMIT, "solver": solver,
                 "constraints": {"balanced_load": solver != "cpsat"}}
    quick = mm.pair(mentors, mentees, programme)
    given, real = [], cpsat.make_solver

    def recorded(options, time_left, *args):
        given.append(time_left)
        return real(options, time_left, *args)

    monkeypatch.setattr(cpsat, "make_solver", recorded)
    monkeypatch.setattr(fair, "make_solver", recorded)  # (imported there by name)
    clock = jumping_clock(monkeypatch, 0.0)
    _slow_preparation(monkeypatch, clock, 50.0)
    r = mm.pair(mentors, mentees, programme)
    assert given and max(given) <= LIMIT - 50.0
    assert r.status == quick.status and r.objective == pytest.approx(quick.objective, abs=1e-9)
    assert r.pairs[["mentee_id", "mentor_id"]].equals(quick.pairs[["mentee_id", "mentor_id"]])


@pytest.mark.parametrize("seed", [0, 1])
def test_an_optimal_answer_is_not_said_to_be_cut_short(monkeypatch, seed):
    """The engine (a budget and minimum loads), the clock jumping past the limit as each of its
    stages returns: the answer the stage proved is "optimal" (``milp``'s optimum), and
    ``timed_out`` is False with no "stopped" message (before: ``timed_out`` True beside
    "optimal", so ``pair()`` would have named its unmatched mentees "time_limit")."""
    from mentormatch.solvers import engine, route
    from test_solvers_engine import instance, reference

    clock = jumping_clock(monkeypatch, 1000.0)
    real = route.solve_stage

    def then_jump(*args, **kw):
        out = real(*args, **kw)
        clock.jump()
        return out

    monkeypatch.setattr(route, "solve_stage", then_jump)
    p = instance(seed)
    sol = engine.solve_mip(p, SolverOptions(time_limit=LIMIT))
    assert clock.jumped, "no stage ran"
    assert sol.status == "optimal" and sol.objective == pytest.approx(reference(p), abs=1e-6)
    assert sol.certificate["timed_out"] is False and sol.message == ""


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_the_complete_sets_plain_flow_starts_no_flow_past_the_limit(monkeypatch, seed, sparse):
    """The complete set's plain flow (solver ``"flow"``: on every pair, or forced onto each
    mentee's best pairs), the preparation taking 61 of the 60 s: no flow starts; the answer is
    "feasible", stopped, its message quoting the user's limit, the locks alone (none) and a
    bound at least ``milp``'s optimum. Old code: the flow ran whole after the limit, "optimal"."""
    from mentormatch.solvers import certify

    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=seed)
    small, _, scores = exact_round(mentors, mentees)
    cap = small.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    if sparse:
        monkeypatch.setattr(certify, "SPARSE_THRESHOLD", 0)
    clock = jumping_clock(monkeypatch, 0.0)
    _slow_preparation(monkeypatch, clock, LIMIT + 1.0)
    r = mm.pair(mentors, mentees, {"time_limit": LIMIT})
    assert not clock.flows, "a flow started past the limit"
    assert r.status == "feasible" and r.certificate["timed_out"] is True and len(r.pairs) == 0
    assert "stopped at the time limit (60 s)" in r.certificate["message"]
    assert r.bound is not None and r.bound >= best - 1e-6


@pytest.mark.parametrize("seed", [1, 2])
def test_the_complete_sets_sparse_flow_stops_after_a_flow_past_the_limit(monkeypatch, seed):
    """The complete set's certified sparse flow (forced), the preparation taking 30 of the 60
    s and the first flow 40 more: no check of every pair starts after it; the answer is the
    first flow's, "feasible", stopped, within the places, with a bound at least ``milp``'s
    optimum; its unmatched mentees left out while a mentor has room are "time_limit", not a
    claim about an optimum. Old code: the rounds ran to the end, "optimal", at 70 s."""
    from mentormatch.solvers import certify

    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=seed)
    small, _, scores = exact_round(mentors, mentees)
    cap = small.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    monkeypatch.setattr(certify, "SPARSE_THRESHOLD", 0)
    whole = pl.solve(small)  # (the same sparse rounds, on the real clock)
    clock = jumping_clock(monkeypatch, 0.0)
    clock.after_flow = lambda: clock.jump(40.0)
    _slow_preparation(monkeypatch, clock, 30.0)
    r = mm.pair(mentors, mentees, {"time_limit": LIMIT})
    assert len(clock.flows) == 1
    assert r.status == "feasible" and r.certificate["timed_out"] is True and len(r.pairs) > 0
    assert r.bound is not None and r.bound >= best - 1e-6 and r.bound >= r.objective - 1e-9
    assert whole.status == "optimal" and whole.objective == pytest.approx(best, abs=1e-6)
    recheck_pairs(small, r, whole)
    assert not set(r.unmatched["reason_code"]) & {"trade_off", "no_gain"}
