"""The certified flow of the ``"flow"`` solver's sparse path (:mod:`mentormatch.solvers.certify`)
keeps to a caller's deadline: no flow and no check of every pair starts past it, and the answer
then says so (``certificate["timed_out"]``, ``"feasible"``, no bound). Its caller inside the
engine is the score floors' closing (:func:`mentormatch.solvers.scorefloors_mip.close_gap`),
which asks it for prices when the Lagrangian's flows kept none: past the caller's time limit the
closing returns the Lagrangian's incumbent, stopped at the time limit (before, its flows ran to
the end whatever the clock).

Nothing here is timed: the clock is ``time.perf_counter`` plus an offset that jumps ``JUMP``
seconds at a chosen point, and every flow of the rounds is counted with the clock at its start
(by wrapping ``rounds.solve_arrays``)."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.pairs import Candidates
from mentormatch.solvers import SolverOptions, certify, route
from mentormatch.solvers.base import AssignmentProblem

from _support import jumping_clock, result_positions, table_violations
from test_scorefloors_bonus import _bonus, _case, _milp_optimum

JUMP = 1000.0
#: the score floors' cases of test_scorefloors_mip whose closing asks the certified flow for
#: prices (the Lagrangian's flows on every pair keep none); the programme's limit is 60 s
CASES = [(36, 12, 3, 0.97), (60, 20, 5, 0.97)]


@pytest.fixture
def clock(monkeypatch):
    """The fake clock (``_support.jumping_clock``): ``jump()`` moves it ``JUMP`` s on."""
    return jumping_clock(monkeypatch, JUMP)


def _problem(seed: int, n: int = 30, m: int = 8) -> AssignmentProblem:
    """Every pair, scores in (0, 1), capacities 1-5, two locked pairs."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.uniform(0.01, 1.0, n * m), 3)
    locked = np.zeros(n * m, bool)
    locked[[0 * m + 1, 5 * m + 2]] = True
    return AssignmentProblem(Candidates.complete(n, m), score, rng.integers(1, 6, m).astype(float),
                             locked=locked)


def _assert_meets_the_problem(p: AssignmentProblem, chosen: np.ndarray):
    """Recomputed: the locks held, at most one mentor a mentee, capacities kept."""
    P = p.pairs
    assert np.all(np.isin(np.flatnonzero(p.locked), chosen))
    assert np.all(np.bincount(P.mentee[chosen], minlength=P.n_mentees) <= 1)
    assert np.all(np.bincount(P.mentor[chosen], minlength=P.n_mentors) <= p.capacity)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_flow_starts_once_the_deadline_passes_between_the_rounds(monkeypatch, clock, seed):
    """One pair per mentee to start (several rounds untimed): the clock jumps past the deadline
    once the first flow returns. No check and no second flow: "feasible", the first flow's
    assignment (it meets the problem), ``timed_out``, and a bound at least the optimum with no
    check of every pair (each row's best usable score less its price and the least mentor
    price: ``RowsChecker.ceiling``; before session 21 no bound; the bound of a stop after a
    check: ``test_stopped_bounds.py``)."""
    monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    p = _problem(seed)
    untimed = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter())
    assert untimed.status == "optimal" and untimed.certificate["rounds"] >= 2
    assert not untimed.certificate.get("timed_out")
    clock.flows.clear()
    clock.after_flow = clock.jump
    deadline = time.perf_counter() + 60.0
    sol = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter(), deadline)
    assert len(clock.flows) == 1 and clock.flows[0] < deadline
    assert sol.status == "feasible" and sol.bound is not None
    assert sol.bound >= untimed.objective - 1e-9 * max(1.0, abs(untimed.objective))
    assert sol.certificate["timed_out"] is True and sol.certificate["holds"] is False
    assert "deadline" in sol.message
    _assert_meets_the_problem(p, sol.chosen)
    assert sol.objective <= untimed.objective + 1e-9


def test_with_the_deadline_passed_no_flow_starts_and_the_locks_stand_alone(clock):
    p = _problem(3)
    sol = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter(),
                                         time.perf_counter() - 1.0)
    assert clock.flows == []
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    best = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter())
    assert best.status == "optimal" and sol.bound >= best.objective - 1e-9  # each row's best pair
    assert sol.chosen.tolist() == np.flatnonzero(p.locked).tolist()
    assert sol.certificate["rounds"] == 0


def test_a_deadline_far_off_changes_nothing(clock):
    """Control: the same pairs, objective, bound and status as without a deadline."""
    p = _problem(4)
    a = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter())
    b = certify.solve_sparse_certified(p, SolverOptions(), time.perf_counter(),
                                       time.perf_counter() + 1e5)
    assert a.chosen.tolist() == b.chosen.tolist()
    assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound) and a.status == "optimal"
    assert not b.certificate.get("timed_out")


def _closing_case(monkeypatch, case):
    n, m, seed, floor = case
    mentors, mentees, programme = _case(seed, n, m, floor)
    complete = pl.prepare(mentors, mentees, programme)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", -1)  # the Lagrangian's answer is returned
    return mentors, mentees, programme, complete


def _assert_the_incumbent_stopped_at_the_limit(r, mentors, mentees, programme, complete):
    cert = r.certificate
    assert cert["method"] == "lagrangian score floors + certified flow"
    assert cert["closing"]["timed_out"] is True and cert["timed_out"] is True
    assert r.status == "feasible"
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert cert["message"] == "stopped at the time limit (60 s) with a gap"
    # the bound (of score + bonus) is still a bound: at least scipy's milp optimum of the full
    # model, and the answer's value (recomputed) is the one reported
    p = complete.problem
    objective = p.score + _bonus(complete)
    best = _milp_optimum(p, objective)
    value = float(objective[result_positions(complete, r)].sum())
    assert cert["adjusted_bound"] >= best - 1e-6 and value <= best + 1e-6
    assert value == pytest.approx(cert["adjusted_objective"], abs=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_the_closing_starts_no_flow_for_its_prices_past_the_limit(monkeypatch, clock, case):
    """The caller's time limit passes as the closing asks the certified flow for prices: no
    flow starts after it (before, the rounds ran to their certificate), no MIP either; the
    answer is the Lagrangian's incumbent, meeting the floors, with a valid bound, stopped at
    the time limit."""
    mentors, mentees, programme, complete = _closing_case(monkeypatch, case)
    real, jumped = certify.solve_sparse_certified, []

    def jump_then_solve(*args, **kw):
        clock.jump()
        jumped.append(time.perf_counter())
        return real(*args, **kw)

    monkeypatch.setattr(certify, "solve_sparse_certified", jump_then_solve)
    r = mm.pair(mentors, mentees, programme)
    assert len(jumped) == 1
    assert [at for at in clock.flows if at >= jumped[0]] == []
    _assert_the_incumbent_stopped_at_the_limit(r, mentors, mentees, programme, complete)
    assert "mip" not in r.certificate["closing"]


@pytest.mark.parametrize("case", CASES)
def test_the_closings_flow_stops_between_its_rounds_at_the_limit(monkeypatch, clock, case):
    """One pair per mentee to start, so that the closing's certified flow takes rounds: the
    clock jumps past the limit once its first flow returns. No second flow starts."""
    monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    mentors, mentees, programme, complete = _closing_case(monkeypatch, case)
    real, inside, jumped = certify.solve_sparse_certified, [], []

    def jump_once():
        if not jumped:
            jumped.append(True)
            clock.jump()

    def counted(*args, **kw):
        inside.append(len(clock.flows))  # the flows before the closing's
        clock.after_flow = jump_once
        return real(*args, **kw)

    monkeypatch.setattr(certify, "solve_sparse_certified", counted)
    r = mm.pair(mentors, mentees, programme)
    assert len(inside) == 1
    assert len(clock.flows) == inside[0] + 1  # the closing's first flow, and no other
    _assert_the_incumbent_stopped_at_the_limit(r, mentors, mentees, programme, complete)
