"""The caller's time limit is the engine's outer stop everywhere, and nothing the engine decides
depends on the machine's load (issue 23):

* the re-solves that name the constraint families to blame for an infeasibility
  (``engine._blame``) are bounded by the engine's work limits and share the caller's time limit
  with the solve itself; one that the time limit (or its work limits) stops leaves its family
  undecided, and the conflict says so, instead of blaming or clearing it (or letting a
  ``TimeLimitError`` through);

A "slow machine" is ``time.perf_counter`` running faster (test_solvers_determinism.py); a
clock that jumps is an offset added to it at a chosen point."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError, TimeLimitError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, engine
from mentormatch.testing import feasible_assignments, violations

from test_solvers_determinism import LIMIT, _same_on_a_slow_machine


def _locks_against_balance(n: int, m: int, seed: int = 0) -> AssignmentProblem:
    """Mentor 0 locked to mentees 0-2 (0-5 when n > 8), mentor 1 (capacity 1) locked to one more:
    balanced loads cannot hold with both locks. The budget is far from binding: dropping it
    alone does not help."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.uniform(0.05, 1.0, n * m), 3)
    cap = np.full(m, 8.0)
    cap[1] = 1.0
    locked = np.zeros(n * m, bool)
    on_0 = 6 if n > 8 else 3
    locked[np.arange(on_0) * m] = True
    locked[on_0 * m + 1] = True
    side = SideConstraints(budget=1000.0, stipend_fixed=np.full(m, 2.0),
                           stipend_per_mentee=np.ones(m), balanced_load=True)
    return AssignmentProblem(Candidates.complete(n, m), score, cap, locked=locked, side=side)


def _without(p: AssignmentProblem, family: str) -> AssignmentProblem:
    import dataclasses

    if family == "locked":
        return dataclasses.replace(p, locked=np.zeros(len(p.pairs), bool))
    off = {"budget": None, "balanced_load": False}[family]
    return dataclasses.replace(p, side=dataclasses.replace(p.side, **{family: off}))


def _conflicts(p, options) -> list[tuple]:
    with pytest.raises(InfeasibleError) as info:
        engine.solve_mip(p, options)
    return [(c.constraint, c.detail, c.relaxation) for c in info.value.conflicts]


def test_the_blamed_families_are_those_whose_removal_alone_restores_feasibility():
    """Against brute force on 5 x 3: every family, dropped alone."""
    p = _locks_against_balance(5, 3)
    assert not feasible_assignments(p).any_feasible
    ((name, detail, fix),) = _conflicts(p, SolverOptions(time_limit=600))
    blamed = name.split("+")
    for family in ("locked", "budget", "balanced_load"):
        assert feasible_assignments(_without(p, family)).any_feasible == (family in blamed), family
    assert blamed == ["locked", "balanced_load"] and fix == "relax locked or balanced_load"
    assert "not decided" not in detail


def test_the_blame_is_the_same_on_a_slow_machine(monkeypatch):
    """60 x 16: the same conflicts on the real clock and on one 200x faster (each re-solve had
    10 s of its own before, 0.05 real seconds on the fast clock); each blamed family's re-solve
    gives an assignment that meets every constraint left, recomputed."""
    p = _locks_against_balance(60, 16)
    quiet, slow = _same_on_a_slow_machine(
        monkeypatch, lambda: _conflicts(p, SolverOptions(time_limit=LIMIT)))
    assert quiet == slow
    ((name, detail, _),) = quiet
    assert name == "locked+balanced_load" and "not decided" not in detail
    for family in name.split("+"):
        q = _without(p, family)
        assert not violations(q, engine.solve_mip(q, SolverOptions(time_limit=LIMIT)).chosen)


@pytest.mark.parametrize("reason, why", [
    ("time", "the time limit (600 s) ran out"),
    ("search", "the search ended at its work limits")])
def test_a_resolve_that_ends_undecided_neither_blames_nor_clears(monkeypatch, reason, why):
    """The re-solve without the budget ends with neither an assignment nor a proof: the budget
    is named as undecided, the two others stay blamed, and no TimeLimitError escapes."""
    real = engine._solve_problem

    def solve(problem, options, bonus=None):
        if problem.side.budget is None:
            raise TimeLimitError(options.time_limit, "score", "x", reason=reason)
        return real(problem, options, bonus)

    monkeypatch.setattr(engine, "_solve_problem", solve)
    ((name, detail, fix),) = _conflicts(_locks_against_balance(5, 3), SolverOptions(time_limit=600))
    assert name == "locked+balanced_load" and fix == "relax locked or balanced_load"
    assert detail.endswith(f"whether dropping budget alone would help was not decided: {why}")


def test_the_resolves_share_the_callers_time_limit(monkeypatch):
    """No re-solve may run past the caller's limit (5 s here): each one's limit is what is left
    of it (before, 10 s each, whatever the caller's)."""
    limit, seen = 5.0, []
    real = engine._solve_problem

    def solve(problem, options, bonus=None):
        seen.append((time.perf_counter(), options.time_limit))
        return real(problem, options, bonus)

    monkeypatch.setattr(engine, "_solve_problem", solve)
    _conflicts(_locks_against_balance(5, 3), SolverOptions(time_limit=limit))
    (start, first), *resolves = seen  # the caller's solve, then one per family
    assert first == limit and len(resolves) == 3
    for at, given in resolves:
        assert at + given <= start + limit + 1e-3


def test_with_the_time_limit_spent_every_family_is_undecided(monkeypatch):
    """The solve itself used the whole limit: no re-solve starts; the error is still the
    proof of infeasibility, with every family undecided and the limit named."""
    real_blame, real_clock = engine._blame, time.perf_counter

    def blame(*args):
        monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + 10.0)
        return real_blame(*args)

    monkeypatch.setattr(engine, "_blame", blame)
    ((name, detail, fix),) = _conflicts(_locks_against_balance(5, 3), SolverOptions(time_limit=5))
    assert name == "locked+budget+balanced_load"
    assert detail == ("no assignment meets locked, budget, balanced_load together; whether "
                      "dropping locked or budget or balanced_load alone would help was not "
                      "decided: the time limit (5 s) ran out")
    assert fix == "relax locked or budget or balanced_load, or raise the time limit to decide"
