"""The caller's time limit is the engine's outer stop everywhere, and nothing the engine decides
depends on the machine's load (issue 23):

* the re-solves that name the constraint families to blame for an infeasibility
  (``solvers.blame``) are bounded by the engine's work limits and share the caller's time limit
  with the solve itself; one that the time limit (or its work limits) stops leaves its family
  undecided, and the conflict says so, instead of blaming or clearing it (or letting a
  ``TimeLimitError`` through);
* the Lagrangian fallback after a stalled column generation starts only within the caller's
  limit and runs to it, never beyond (it had a grace of a tenth of the limit).

A "slow machine" is ``time.perf_counter`` running faster (test_solvers_determinism.py) and, for
the blame, HiGHS's time limits cut by as much (HiGHS times itself on the real clock); a clock
that jumps is an offset added to it at a chosen point."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError, TimeLimitError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, branch, engine, route, stage
from mentormatch.testing import feasible_assignments, violations

from test_solvers_branch import uniform
from test_solvers_determinism import LIMIT, _slowed


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


#: The slow machine of the blame's test: this many times slower, for Python's clock and HiGHS's
#: alike; and a caller's limit (seconds) that it does not reach (the blame takes a few real
#: seconds, 1,000 real seconds here), while 10 s (each re-solve's own limit before) is 1 ms.
SLOWER, SLOW_LIMIT = 1e4, 1e7


def _on_a_slow_machine(monkeypatch, factor: float = SLOWER):
    """From now on, a machine ``factor`` times slower: ``time.perf_counter`` runs ``factor``
    times faster (test_solvers_determinism's slow clock), and every HiGHS time limit is cut by
    ``factor``: HiGHS times itself on the real clock, and on a machine ``factor`` times slower
    ``L`` seconds of it do the work of ``L / factor`` seconds here. (The slow clock alone left
    HiGHS its real seconds: each re-solve's own 10 s was then never short, and the test passed
    on the code it guards against.)"""
    import highspy

    _slowed(monkeypatch, factor)
    real_set = highspy.Highs.setOptionValue

    def set_option(self, name, value):
        if name == "time_limit":
            value = float(value) / factor
        return real_set(self, name, value)

    monkeypatch.setattr(highspy.Highs, "setOptionValue", set_option)


def test_the_blame_is_the_same_on_a_slow_machine(monkeypatch):
    """60 x 16: the same conflicts on this machine and on one ``SLOWER`` times slower, with a
    limit neither reaches. Before, each re-solve had 10 s of its own whatever the caller's
    limit: on the slow machine that is 1 ms here, and the re-solves were cut short (a
    ``TimeLimitError`` escaped). Each blamed family's re-solve gives an assignment that meets
    every constraint left, recomputed."""
    p = _locks_against_balance(60, 16)
    quiet = _conflicts(p, SolverOptions(time_limit=SLOW_LIMIT))
    with monkeypatch.context() as mp:
        _on_a_slow_machine(mp)
        slow = _conflicts(p, SolverOptions(time_limit=SLOW_LIMIT))
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
    for at, given in resolves:  # (the margin: the clock read twice on a loaded machine)
        assert at + given <= start + limit + 0.1


def test_with_the_time_limit_spent_every_family_is_undecided(monkeypatch):
    """The solve itself used the whole limit: no re-solve starts; the error is still the
    proof of infeasibility, with every family undecided and the limit named."""
    from mentormatch.solvers import blame as blaming

    real_blame, real_clock = blaming.blame, time.perf_counter

    def blame(*args):
        monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + 10.0)
        return real_blame(*args)

    monkeypatch.setattr(blaming, "blame", blame)
    ((name, detail, fix),) = _conflicts(_locks_against_balance(5, 3), SolverOptions(time_limit=5))
    assert name == "locked+budget+balanced_load"
    assert detail == ("no assignment meets locked, budget, balanced_load together; whether "
                      "dropping locked or budget or balanced_load alone would help was not "
                      "decided: the time limit (5 s) ran out")
    assert fix == "relax locked or budget or balanced_load, or raise the time limit to decide"


def _stalled(monkeypatch):
    """A budget instance whose column generation ends with a gap at its work limits (2 nodes,
    no MIP) and, with the fallback's gap threshold at 0, falls back on the Lagrangian; the
    clock jumps to ``jump[0]`` (a share of the limit after the start; None: no jump) once the
    score stage returns. Returns (problem, the fallback's calls as (clock at the call, its
    deadline, the caller's deadline), jump)."""
    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(stage, "ALL_PAIRS_AT_MOST", 0)
    monkeypatch.setattr(branch, "MAX_NODES", 2)
    monkeypatch.setattr(route, "LAGRANGE_AFTER_GAP", 0.0)
    real_clock, real_stage, real_lagrange = time.perf_counter, route._stage, route.by_lagrange
    offset, calls, jump = [0.0], [], [None]
    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])

    def stage_(deadline, limit, size, *args, **kw):
        out = real_stage(deadline, limit, size, *args, **kw)
        if jump[0] is not None:  # the stage ended at ``jump`` of the limit
            offset[0] = deadline - limit * (1 - jump[0]) - real_clock()
        return out

    def lagrange_(source, shell, options, deadline, started, limit, **kw):
        calls.append((time.perf_counter(), deadline, started + limit))
        return real_lagrange(source, shell, options, deadline, started, limit, **kw)

    monkeypatch.setattr(route, "_stage", stage_)
    monkeypatch.setattr(route, "by_lagrange", lagrange_)
    return uniform(2, n=60, m=16), calls, jump


def test_the_lagrangian_fallback_keeps_to_the_callers_limit(monkeypatch):
    """The column generation ends with 2 % of the limit left: the fallback runs with the
    caller's deadline (it had max(deadline, now + 10 % of the limit))."""
    p, calls, jump = _stalled(monkeypatch)
    jump[0] = 0.98
    sol = engine.solve_mip(p, SolverOptions(time_limit=100.0))
    ((at, deadline, end),) = calls
    assert at < end and deadline <= end
    assert sol.status in ("optimal", "feasible")


def test_no_lagrangian_fallback_starts_after_the_callers_limit(monkeypatch):
    """The column generation ended past the limit: no fallback starts, and the answer says the
    time limit stopped it."""
    p, calls, jump = _stalled(monkeypatch)
    jump[0] = 1.01
    sol = engine.solve_mip(p, SolverOptions(time_limit=100.0))
    assert calls == [] and sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.message.startswith("stopped at the time limit (100 s)")
    assert not violations(p, sol.chosen)


def test_the_fallback_runs_and_is_the_same_without_the_clock(monkeypatch):
    """Control: with the limit far off the fallback runs once, with the caller's deadline."""
    p, calls, jump = _stalled(monkeypatch)
    sol = engine.solve_mip(p, SolverOptions(time_limit=LIMIT))
    ((at, deadline, end),) = calls
    assert deadline == end and "stopped at the time limit" not in (sol.message or "")
    assert not sol.certificate.get("timed_out")
    assert not violations(p, sol.chosen)



@pytest.mark.parametrize("jump_at", ["entry", "first flow"])
def test_the_fallbacks_flows_start_before_the_callers_limit(monkeypatch, jump_at):
    """The Lagrangian fallback starts with 2 % of the limit left, and the clock passes the
    limit as the fallback is entered, or once its first flow returns (each mentee's best pair
    first, on the sparse path: the certified flow takes rounds). No flow starts after (before,
    the first flow's rounds ran to their certificate whatever the clock); the answer meets the
    problem and says the time limit stopped it."""
    from mentormatch.solvers import certify, lagrange, rounds

    p, calls, jump = _stalled(monkeypatch)
    jump[0] = 0.98
    if jump_at == "first flow":
        monkeypatch.setattr(certify, "SPARSE_THRESHOLD", 0)
        monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    stalled_clock, extra, flows, inside = time.perf_counter, [0.0], [], []
    monkeypatch.setattr(time, "perf_counter", lambda: stalled_clock() + extra[0])

    def counted(real):
        def flow(*args, **kw):
            if inside:
                flows.append(time.perf_counter())
            out = real(*args, **kw)
            if inside and jump_at == "first flow" and not extra[0]:
                extra[0] = 1e4
            return out
        return flow

    monkeypatch.setattr(rounds, "solve_arrays", counted(rounds.solve_arrays))
    monkeypatch.setattr(certify, "solve_flow", counted(certify.solve_flow))
    real_lagrange = lagrange.solve_lagrange

    def entered(source, capacity, demand, side, options, deadline, *rest):
        inside.append(deadline)
        if jump_at == "entry":
            extra[0] = 1e4
        return real_lagrange(source, capacity, demand, side, options, deadline, *rest)

    monkeypatch.setattr(lagrange, "solve_lagrange", entered)
    sol = engine.solve_mip(p, SolverOptions(time_limit=100.0))
    (deadline,) = inside
    assert len(calls) == 1 and all(at < deadline for at in flows)
    assert len(flows) == (0 if jump_at == "entry" else 1)
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert sol.message.startswith("stopped at the time limit (100 s)")
    assert not violations(p, sol.chosen)
