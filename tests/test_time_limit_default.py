"""The default time limit (``time_limit`` not set: :data:`mentormatch.solvers.base.SEARCH_TIME_LIMIT`
says why): a plain problem (the min-cost flow on any pair source) runs to its proof, so its
answer never depends on the machine's load; a search under side constraints (the engine, CP-SAT)
stops at one default, 60 s, counted from ``pair()``'s call; a limit the user sets applies to
every solve, as before.

Fake clocks (``_support.jumping_clock``, no sleep) make the preparation take far longer than
the default; every answer is checked against an independent optimum (scipy's ``milp``)."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl, synthetic
from mentormatch.rules import Rules
from mentormatch.solvers import SolverOptions, get_solver
from mentormatch.solvers.base import SEARCH_TIME_LIMIT
from mentormatch.errors import TimeLimitError, ValidationError

from _support import exact_round, force_scale_path, jumping_clock
from test_solvers_engine import instance, reference
from test_stopped_bounds import milp_optimum
from test_time_limits import _slow_preparation

#: Fake seconds the preparation takes: far past the search default.
SLOW = 10 * SEARCH_TIME_LIMIT


def test_the_rules_leave_the_limit_unset_by_default():
    """A programme's ``time_limit`` is None unless set (before: 60 s, which cut the plain flow
    short on a loaded machine); None may be written back (a saved programme's rules), and a bad
    value is still refused, naming the setting."""
    assert Rules.from_dict({}).settings["time_limit"] is None
    assert Rules.from_dict({"time_limit": None}).settings["time_limit"] is None
    assert Rules.from_dict({"time_limit": 12.5}).settings["time_limit"] == 12.5
    for bad in (0, -1.0, "60", True, float("nan")):
        with pytest.raises(ValidationError, match="time_limit"):
            Rules.from_dict({"time_limit": bad})


@pytest.mark.parametrize("path", ["complete", "blocks", "bounds"])
def test_a_plain_round_runs_to_its_proof_by_default(monkeypatch, path):
    """A plain round whose preparation takes 600 fake seconds, on each pair source: with no
    ``time_limit`` set the flow still runs to its proof, "optimal" at ``milp``'s optimum,
    ``timed_out`` False (before: "feasible", stopped at the rules' 60 s); with the same limit
    set by the user it stops, as before."""
    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=4)
    prep, _, scores = exact_round(mentors, mentees)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    if path != "complete":
        force_scale_path(monkeypatch, path == "bounds")
    clock = jumping_clock(monkeypatch, 0.0)
    _slow_preparation(monkeypatch, clock, SLOW)
    r = mm.pair(mentors, mentees)
    assert r.status == "optimal" and not r.certificate.get("timed_out")
    assert r.objective == pytest.approx(best, abs=1e-6)
    assert r.record.time_limit is None
    limited = mm.pair(mentors, mentees, {"time_limit": SEARCH_TIME_LIMIT})
    assert limited.status == "feasible" and limited.certificate["timed_out"] is True
    assert limited.bound >= best - 1e-6


def test_the_flow_solver_has_no_default_limit():
    """The ``"flow"`` solver given options whose clock started long before (no ``time_limit``):
    it answers with its proof, the optimum of ``milp``."""
    mentors, mentees = synthetic.organisation(n_mentees=30, n_mentors=10, seed=2)
    prep, _, scores = exact_round(mentors, mentees)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    long_ago = SolverOptions(started=time.perf_counter() - SLOW)
    sol = get_solver("flow")(prep.problem, long_ago)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(milp_optimum(scores, cap, np.ones(len(scores), np.int64)),
                                          abs=1e-6)


def test_a_round_with_side_constraints_keeps_the_search_default(monkeypatch):
    """A binding budget, no ``time_limit`` set, the preparation past the default: the engine
    starts no stage past ``SEARCH_TIME_LIMIT`` from the call and answers "feasible", stopped,
    its message quoting 60 s and its bound at least ``milp``'s optimum."""
    from test_time_limits import _budget_optimum

    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=3)
    programme = {"constraints": {"budget": 3000.0}}
    small = pl.prepare(mentors, mentees, programme)
    best = _budget_optimum(small.problem)
    assert best < pl.solve(pl.prepare(mentors, mentees)).objective - 1e-6  # (it binds)
    clock = jumping_clock(monkeypatch, 0.0)
    _slow_preparation(monkeypatch, clock, SEARCH_TIME_LIMIT + 1.0)
    r = mm.pair(mentors, mentees, programme)
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    assert f"stopped at the time limit ({SEARCH_TIME_LIMIT:g} s)" in r.certificate["message"]
    assert r.bound is not None and r.bound >= best - 1e-6 and r.bound >= r.objective - 1e-9


@pytest.mark.parametrize("solver", ["mip", "cpsat"])
def test_the_engine_and_cp_sat_share_one_default(solver):
    """The engine and CP-SAT on a budget with minimum loads, their clock started 45 s before
    (no ``time_limit``): both have the default's 15 s left and answer ``milp``'s optimum (before:
    CP-SAT's own default was 30 s, so it had none left); started 1 s past the default, both
    stop at once."""
    p = instance(5, n=12, m=4)
    best = reference(p)
    now = time.perf_counter()
    sol = get_solver(solver)(p, SolverOptions(started=now - 45.0))
    assert sol.status == "optimal" and sol.objective == pytest.approx(best, abs=1e-6)
    try:
        late = get_solver(solver)(p, SolverOptions(started=time.perf_counter()
                                                   - SEARCH_TIME_LIMIT - 1.0))
    except TimeLimitError as e:  # (CP-SAT with no assignment in hand)
        assert f"{SEARCH_TIME_LIMIT:g} s" in str(e)
    else:
        assert late.status == "feasible" and late.certificate.get("timed_out") is True
        assert late.bound is None or late.bound >= best - 1e-6
