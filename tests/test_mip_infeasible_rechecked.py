"""A MIP's "infeasible" becomes the engine's proof of infeasibility (every eligible pair a
candidate, no outside pair left: ``stage``) only once HiGHS's presolve is not alone in finding
it: the MIP runs again without presolve, as the LP's "infeasible" is re-checked
(``WarmLP.confirm_infeasible``); HiGHS's presolve may call infeasible a model that holds a point
within the rows' tolerance (``highs.without_presolve``).

The presolve's false "infeasible" is made here: every MIP run with presolve on reports
"infeasible", and the heuristics find no incumbent, so that the engine's MIPs start from
nothing and the proof site is reached on problems that are feasible (recomputed)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError
from mentormatch.solvers import SolverOptions, relax, stage
from mentormatch.solvers.engine import solve_mip
from mentormatch.testing import violations

from test_engine_limits import _locks_against_balance
from test_solvers_branch import uniform
from test_solvers_engine import reference


@pytest.fixture
def presolve_says_infeasible(monkeypatch):
    """Every MIP run with presolve on reports "infeasible"; the runs' presolve settings are
    recorded (True: on) in the list returned."""
    real, runs = relax.model_status, []

    def status(h, rhs):
        st = real(h, rhs)
        if len(h.getLp().integrality_):
            on = h.getOptionValue("presolve")[1] != "off"
            runs.append(on)
            if on:
                return "infeasible"
        return st

    monkeypatch.setattr(relax, "model_status", status)
    monkeypatch.setattr(stage, "repair", lambda *a: None)
    monkeypatch.setattr(stage, "neighbourhood", lambda *a: None)
    return runs


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_presolve_infeasible_is_no_proof(presolve_says_infeasible, seed):
    """Budget problems (feasible: the empty assignment meets them): no InfeasibleError; the MIP
    without presolve gives the optimum (scipy's milp on the full model), proven."""
    p = uniform(seed, n=12, m=5)
    sol = solve_mip(p, SolverOptions(time_limit=600))
    assert presolve_says_infeasible[0] is True and False in presolve_says_infeasible
    assert sol.status == "optimal" and not violations(p, sol.chosen)
    assert sol.objective == pytest.approx(reference(p), abs=1e-6)


def test_an_infeasible_problem_is_still_proven_infeasible(presolve_says_infeasible):
    """Locks against balanced loads (infeasible, test_engine_limits): the MIP without presolve
    agrees, and the engine proves it."""
    p = _locks_against_balance(5, 3)
    with pytest.raises(InfeasibleError):
        solve_mip(p, SolverOptions(time_limit=600))
    assert False in presolve_says_infeasible


def test_with_no_time_left_for_the_recheck_there_is_no_proof(monkeypatch, presolve_says_infeasible):
    """The clock passes the deadline as the presolve's "infeasible" comes back: the re-check
    does not start, so nothing is proven: the answer meets the problem and says the time limit
    stopped it, never an InfeasibleError."""
    real_clock, offset = time.perf_counter, [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    real_mip = relax.Run.mip

    def mip_then_jump(self, *args, **kw):
        out = real_mip(self, *args, **kw)
        offset[0] += 1e4
        return out

    monkeypatch.setattr(relax.Run, "mip", mip_then_jump)
    p = uniform(0, n=12, m=5)
    sol = solve_mip(p, SolverOptions(time_limit=600))
    assert presolve_says_infeasible == [True]
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert not violations(p, sol.chosen)
    assert np.isfinite(sol.bound) and sol.bound >= reference(p) - 1e-6
