"""Max-min by CP-SAT (solvers/fair.py, with fractional loads or side constraints) says when the
time limit stopped it, as the engine and max-min by flows do (tests/test_maxmin_stops.py):
``certificate["timed_out"]`` and a message "stopped at the time limit (… s)". The time limit is
its only stop (no share of the clock decides anything inside), so a run that ends its three
steps proven is ``"optimal"`` whatever the clock read at the end, and the same on a slow
machine."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, fair
from mentormatch.solvers.fair import solve_maxmin
from mentormatch.testing import violations

from test_solvers_determinism import LIMIT, _same_on_a_slow_machine
from test_solvers_fair import reference


def _problem(seed: int = 1) -> AssignmentProblem:
    """6 x 3 with loads of 0.5 and 1 (not the flows' plain case: CP-SAT's three steps)."""
    rng = np.random.default_rng(seed)
    n, m = 6, 3
    return AssignmentProblem(Candidates.complete(n, m), np.round(rng.uniform(0, 1, n * m), 1),
                             np.array([1.0, 1.5, 1.0]), load=np.array([0.5, 1.0] * 3))


def _clock_jumps_after(monkeypatch, steps: int, by: float = 1e4):
    """The clock jumps ``by`` seconds once ``steps`` CP-SAT steps have run."""
    real_run, real_clock, offset, done = fair.CpRun.run, time.perf_counter, [0.0], [0]

    def run(self, objective, maximise):
        out = real_run(self, objective, maximise)
        done[0] += 1
        if done[0] == steps:
            offset[0] = by
        return out

    monkeypatch.setattr(fair.CpRun, "run", run)
    monkeypatch.setattr(fair.time, "perf_counter", lambda: real_clock() + offset[0])


def test_proven_with_its_three_steps():
    p = _problem()
    sol = solve_maxmin(p, SolverOptions(time_limit=600))
    count, best_min, best_total, _ = reference(p)
    assert sol.status == "optimal" and sol.certificate["timed_out"] is False
    assert sol.message == "" and sol.certificate["message"] == ""
    assert len(sol.chosen) == count and p.score[sol.chosen].min() == pytest.approx(best_min)
    assert sol.objective == pytest.approx(best_total)


def test_a_time_limit_after_the_first_step_says_so(monkeypatch):
    """The limit passes after the count step: the two others never start; the answer has the
    most pairs, meets every constraint, and says the time limit stopped it."""
    p = _problem()
    _clock_jumps_after(monkeypatch, 1)
    sol = solve_maxmin(p, SolverOptions(time_limit=600))
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.message.startswith("stopped at the time limit (600 s)")
    assert sol.certificate["message"] == sol.message
    assert len(sol.chosen) == reference(p)[0] and not violations(p, sol.chosen)


def test_three_proven_steps_are_optimal_though_the_clock_passed_the_limit_after(monkeypatch):
    """The limit passes only once the third step is proven: nothing was cut, so the answer is
    "optimal" (it was called "feasible" when the clock read past the limit at the end)."""
    p = _problem()
    _clock_jumps_after(monkeypatch, 3)
    sol = solve_maxmin(p, SolverOptions(time_limit=600))
    assert sol.status == "optimal" and sol.certificate["timed_out"] is False
    assert sol.objective == pytest.approx(reference(p)[2])


@pytest.mark.parametrize("seed", range(3))
def test_the_same_on_a_slow_machine(monkeypatch, seed):
    p = _problem(seed)
    quiet, slow = _same_on_a_slow_machine(
        monkeypatch, lambda: solve_maxmin(p, SolverOptions(time_limit=LIMIT)))
    assert quiet.chosen.tolist() == slow.chosen.tolist()
    assert (quiet.status, quiet.certificate["timed_out"]) == (slow.status, False) == ("optimal", False)
