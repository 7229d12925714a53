"""The certified flow on bounds (:func:`mentormatch.solvers.bounded.solve_bounded`) keeps to a
caller's deadline (``pair()`` passes its ``time_limit`` from the solve's start): no flow and no
check starts that would end past the deadline (:class:`mentormatch.solvers.timed.Timed`), and
the answer says so (``certificate["timed_out"]``, ``"feasible"``), with the last flow's
assignment and a bound at least the optimum (:func:`mentormatch.solvers.rounds.stopped_bound`).

Nothing here is timed: the clock is ``time.perf_counter`` plus an offset that jumps ``JUMP``
seconds at a chosen point, and every flow of the rounds is counted with the clock at its start
(by wrapping ``rounds.solve_arrays``). The sub-market of first prices is left out
(``bounded._guides``), so that every flow counted is one of the rounds under test."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl, synthetic
from mentormatch.solvers import SolverOptions
import mentormatch.solvers.bounded as bounded
from mentormatch.solvers.timed import Timed
from mentormatch.testing import violations

from _support import exact_round, force_scale_path, jumping_clock, scorer_of

JUMP = 1000.0


@pytest.fixture
def clock(monkeypatch):
    """The fake clock (``_support.jumping_clock``), no sub-market."""
    monkeypatch.setattr(bounded, "_guides", lambda *a: (None, None, None))
    return jumping_clock(monkeypatch, JUMP)


def _round(seed: int, n: int = 90, m: int = 30):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    prep, eligible, scores = exact_round(mentors, mentees)
    return prep, scores, scorer_of(prep), prep.data["mentors"]["capacity"].to_numpy(float)


def _assert_meets(problem, sol, scores, cap, locked=None):
    """Recomputed from the inputs: eligible pairs, their exact scores, capacities, one mentor a
    mentee, the locks held."""
    P = problem.pairs
    i, j = P.mentee[sol.chosen], P.mentor[sol.chosen]
    assert np.isfinite(scores[i, j]).all()
    assert scores[i, j].sum() == pytest.approx(sol.objective, abs=1e-9)
    assert (np.bincount(j, minlength=len(cap)) <= cap).all()
    assert (np.bincount(i, minlength=scores.shape[0]) <= 1).all()
    if locked is not None:
        assert set(zip(*locked)) <= set(zip(i.tolist(), j.tolist()))


@pytest.mark.parametrize("seed", [1, 2])
def test_no_check_and_no_flow_start_once_the_deadline_passes_between_the_rounds(clock, monkeypatch, seed):
    """One pair per mentee to start (several rounds untimed): the clock jumps past the deadline
    once the first flow returns. No check and no second flow: "feasible", the first flow's
    assignment (it meets the problem), a bound at least the optimum, ``timed_out``."""
    prep, scores, scorer, cap = _round(seed)
    untimed = bounded.solve_bounded(scorer, cap, options=SolverOptions(top_k=1))[1]
    assert untimed.status == "optimal" and untimed.certificate["rounds"] >= 2
    assert not untimed.certificate.get("timed_out")
    clock.flows.clear()
    clock.after_flow = clock.jump
    checks = []
    real_check = bounded._Certifier.check

    def counted_check(self, *args):
        checks.append(time.perf_counter())
        return real_check(self, *args)

    monkeypatch.setattr(bounded._Certifier, "check", counted_check)
    problem, sol = bounded.solve_bounded(scorer, cap, options=SolverOptions(top_k=1),
                                         deadline=time.perf_counter() + 60.0)
    assert len(clock.flows) == 1 and checks == []
    assert sol.status == "feasible" and sol.bound >= untimed.objective - 1e-9 >= sol.objective - 1e-9
    assert sol.certificate["timed_out"] is True and sol.certificate["holds"] is False
    assert "deadline" in sol.message
    _assert_meets(problem, sol, scores, cap)
    assert sol.objective <= untimed.objective + 1e-9


def test_pair_on_bounds_keeps_the_programmes_time_limit(clock, monkeypatch):
    """The plain ``pair()`` on bounds (forced small), ``time_limit`` 60 s, one pair per mentee
    to start: the clock jumps past the limit once the first flow returns. No other flow starts;
    the answer is "feasible", ``timed_out``, with a bound at least the optimum and its gap, its
    pairs eligible and within the capacities, recomputed on the complete set."""
    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=5)
    small = pl.prepare(mentors, mentees)
    force_scale_path(monkeypatch, True)
    real = bounded._solve

    def one_each(*args, **kw):  # k = 1: the flow takes rounds
        args = list(args)
        args[5] = 1
        return real(*args, **kw)

    monkeypatch.setattr(bounded, "_solve", one_each)
    untimed = mm.pair(mentors, mentees, {"time_limit": 60.0})
    assert untimed.status == "optimal" and untimed.certificate["rounds"] >= 2
    clock.flows.clear()
    clock.after_flow = clock.jump
    r = mm.pair(mentors, mentees, {"time_limit": 60.0})
    assert len(clock.flows) == 1
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    assert r.bound >= untimed.objective - 1e-6 and r.gap == pytest.approx((r.bound - r.objective) / abs(r.bound))
    mentee = np.asarray(small.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64)
    mentor = np.asarray(small.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64)
    pos = small.problem.pairs.locate(mentee, mentor)
    assert np.all(pos >= 0) and violations(small.problem, pos) == []
    assert float(small.problem.score[pos].sum()) == pytest.approx(r.objective, abs=1e-6)
    assert r.objective <= untimed.objective + 1e-6


def test_with_the_deadline_passed_no_pass_and_no_flow_start_and_the_locks_stand_alone(clock, monkeypatch):
    prep, scores, scorer, cap = _round(3)
    eligible = np.argwhere(np.isfinite(scores))
    locked = (eligible[[0, -1], 0], eligible[[0, -1], 1])
    best = bounded.solve_bounded(scorer, cap, locked=locked, options=SolverOptions())[1]
    clock.flows.clear()
    passes = []
    monkeypatch.setattr(bounded, "_first_pass", lambda *a, **k: passes.append(1))
    problem, sol = bounded.solve_bounded(scorer, cap, locked=locked, options=SolverOptions(),
                                         deadline=time.perf_counter() - 1.0)
    assert clock.flows == [] and passes == []
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert best.status == "optimal" and sol.bound >= best.objective - 1e-9
    P = problem.pairs
    assert sorted(zip(P.mentee[sol.chosen].tolist(), P.mentor[sol.chosen].tolist())) == \
        sorted(zip(locked[0].tolist(), locked[1].tolist()))
    _assert_meets(problem, sol, scores, cap, locked)


def test_a_deadline_far_off_changes_nothing(clock):
    prep, scores, scorer, cap = _round(4)
    a = bounded.solve_bounded(scorer, cap, options=SolverOptions(top_k=1))
    b = bounded.solve_bounded(scorer, cap, options=SolverOptions(top_k=1, time_limit=1e5))
    assert b[1].status == a[1].status == "optimal"
    assert b[1].objective == a[1].objective and b[1].bound == a[1].bound
    pairs = [(p.pairs.mentee[s.chosen].tolist(), p.pairs.mentor[s.chosen].tolist()) for p, s in (a, b)]
    assert pairs[0] == pairs[1]


class _Steps:
    """A checker whose check takes ``check_seconds`` on the fake clock and never stops."""

    width, method, ties, ranks = 1, "steps", True, None

    def __init__(self, clock, check_seconds: float):
        self.clock, self.check_seconds, self.checks = clock, check_seconds, 0

    def check(self, *args):
        self.checks += 1
        self.clock.jump(self.check_seconds)
        return None, 0.0

    def stop(self, new, size):
        return False

    def record(self, cert, stage):
        pass


def test_a_check_or_a_flow_that_would_end_past_the_deadline_does_not_start(clock):
    """Judged by the last of its kind: a check of 10 s with 8 s left does not start, nor a flow
    of 30 s with 20 s left; the first check, with no cost known, starts while time is left."""
    inner = _Steps(clock, 10.0)
    t = Timed(inner, time.perf_counter() + 25.0)
    clock.jump(1.0)  # the first flow: 1 s
    assert t.stop(None, 5) is False  # the first check: its cost unknown, time left
    t.check(None, None, None, 0.0, 1)  # 10 s: 14 s left
    assert t.stop(3, 5) is False  # a flow of 1 s fits
    clock.jump(6.0)  # the second flow: 6 s, 8 s left
    assert t.stop(None, 8) is True and t.timed_out  # a check of 10 s would end past it
    cert = {}
    t.record(cert, "stopped")
    assert cert == {"timed_out": True}

    t = Timed(_Steps(clock, 1.0), time.perf_counter() + 50.0)
    clock.jump(30.0)  # a flow of 30 s, 20 s left
    assert t.stop(None, 5) is False  # the check (no cost known yet) starts
    t.check(None, None, None, 0.0, 1)
    assert t.stop(2, 5) is True  # the next flow of 30 s would not end within 19 s
