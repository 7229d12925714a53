"""The same inputs give the same answer on a quiet or a loaded machine (issue 23, "determinism
that is fair"): the side-constraint engine takes its internal decisions on work counts (pricing
rounds, pairs priced, HiGHS nodes, flows), never on shares of the clock; the time limit is the
outer stop only, and when it stops the work the answer says so.

A "slow machine" is simulated, not timed: ``time.perf_counter`` runs ``SLOW`` times faster
during one of the two runs, so every second the engine measures is ``SLOW`` real ones, while
the time limit (``LIMIT`` seconds) stays far from reached. The two runs must give the same
pairs, objective, bound and status."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch.solvers import SolverOptions, relax, stage
from mentormatch.solvers.engine import solve_mip

from test_solvers_branch import uniform
from test_solvers_scorefloors import _instance as score_floor_instance

#: The clock runs this many times faster in the "slow" run: one real second reads as 200.
SLOW = 200.0
#: A time limit no run reaches even on the fast clock (the runs take a few real seconds).
LIMIT = 1e5


@pytest.fixture(autouse=True)
def _small_mip_limits(monkeypatch):
    """HiGHS's node limits cut to keep the tests quick: still work limits, the same on both
    runs (the score floors' MIPs reach them)."""
    from mentormatch.solvers import heuristics

    monkeypatch.setattr(relax, "MIP_MAX_NODES", 100)
    monkeypatch.setattr(heuristics, "NEIGHBOURHOOD_NODES", 50)


def _slowed(monkeypatch, factor: float = SLOW):
    """Every ``time.perf_counter()`` from now on advances ``factor`` times faster."""
    real = time.perf_counter
    t0 = real()
    monkeypatch.setattr(time, "perf_counter", lambda: t0 + factor * (real() - t0))


def _key(r):
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))


def _same_on_a_slow_machine(monkeypatch, run):
    """``run()`` on the real clock, then on the fast one: (quiet, slow) answers."""
    quiet = run()
    with monkeypatch.context() as mp:
        _slowed(mp)
        slow = run()
    return quiet, slow


def _assert_same_solution(a, b):
    assert a.chosen.tolist() == b.chosen.tolist()
    assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound)
    assert "stopped at the time limit" not in (a.message or "") + (b.message or "")


@pytest.mark.parametrize("seed", range(4))
def test_a_budget_without_the_candidates_mip_is_the_same_on_a_slow_machine(monkeypatch, seed):
    """Budget instances where the relaxation opens a fraction of a mentor, HiGHS's MIPs on the
    candidates and on every pair off: the answer is the heuristics' and the branching's, whose
    size was a share of the stage's seconds (at least 2 s, which read as 0.01 s on the slow
    clock and cut the tree short); it is now a count of pairs priced."""
    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(stage, "ALL_PAIRS_AT_MOST", 0)
    p = uniform(seed, n=60, m=16)
    quiet, slow = _same_on_a_slow_machine(
        monkeypatch, lambda: solve_mip(p, SolverOptions(time_limit=LIMIT)))
    _assert_same_solution(quiet, slow)
    assert quiet.certificate["score"]["branching"] == slow.certificate["score"]["branching"]


def test_work_limits_that_leave_a_gap_say_so_and_are_the_same_on_a_slow_machine(monkeypatch):
    """instance uniform(2) needs 6 nodes to settle; with 2 allowed (and no MIP), the answer is
    ``feasible`` with a gap, says the work limits ended it, and is the same on both clocks."""
    from mentormatch.solvers import branch

    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(stage, "ALL_PAIRS_AT_MOST", 0)
    monkeypatch.setattr(branch, "MAX_NODES", 2)
    p = uniform(2, n=60, m=16)
    quiet, slow = _same_on_a_slow_machine(
        monkeypatch, lambda: solve_mip(p, SolverOptions(time_limit=LIMIT)))
    _assert_same_solution(quiet, slow)
    assert quiet.status == "feasible" and quiet.gap > 0
    assert quiet.certificate["score"]["branching"]["stopped"] == "nodes"
    assert quiet.message.startswith("the search ended with a gap at its work limits")


@pytest.mark.parametrize("seed", range(3))
def test_score_floors_are_the_same_on_a_slow_machine(monkeypatch, seed):
    """Score floors by group (their flows first, then the column generation and its MIPs)."""
    p = score_floor_instance(seed, n=40, m=14)
    quiet, slow = _same_on_a_slow_machine(
        monkeypatch, lambda: solve_mip(p, SolverOptions(time_limit=LIMIT)))
    _assert_same_solution(quiet, slow)


ORG = mm.synthetic.organisation(n_mentees=120, n_mentors=36, seed=2)


def _budget_programme(mentors, mentees) -> dict:
    """Programme (a) of benchmarks/programmes.py: a budget of 80 % of the plain optimum's
    stipend cost, ``min_capacity`` from the data."""
    plain = mm.pair(mentors, mentees)
    mt = mentors.set_index("id")
    used = plain.pairs.groupby("mentor_id").size()
    cost = float((mt.loc[used.index, "stipend_fixed"]
                  + mt.loc[used.index, "stipend_per_mentee"] * used).sum())
    return {"constraints": {"budget": 0.8 * cost}, "time_limit": LIMIT}


PROGRAMMES = {
    "budget": _budget_programme,
    "score floor": lambda mentors, mentees: {
        "fairness": {"score_floor": 0.97, "floor_group": "region"}, "time_limit": LIMIT},
    "share floor": lambda mentors, mentees: {
        "fairness": {"share_floor": 0.55, "floor_group": "region"}, "time_limit": LIMIT},
}


@pytest.mark.parametrize("name", sorted(PROGRAMMES))
def test_pair_is_the_same_on_a_slow_machine_and_with_rows_shuffled(monkeypatch, name):
    """pair() on a small synthetic organisation: the programme of benchmarks (a) and floors by
    region. The slow run also gets its rows in another order."""
    mentors, mentees = ORG
    prog = PROGRAMMES[name](mentors, mentees)
    rng = np.random.default_rng(7)
    shuffled = (mentors.iloc[rng.permutation(len(mentors))],
                mentees.iloc[rng.permutation(len(mentees))])
    quiet = mm.pair(mentors, mentees, prog)
    with monkeypatch.context() as mp:
        _slowed(mp)
        slow = mm.pair(*shuffled, prog)
    assert _key(slow) == _key(quiet) and len(_key(quiet)) > 0
    assert (slow.status, slow.bound) == (quiet.status, quiet.bound)
    assert slow.objective == pytest.approx(quiet.objective, abs=1e-9)


def test_a_binding_time_limit_says_so(monkeypatch):
    """When the time limit ends the work, the answer says it stopped at the time limit (and
    only then may it differ from one machine to another): one candidate per mentee to start
    and one more a pricing round, so the pricing needs many rounds; the clock jumps 100 s once
    the first round's LP is solved, against a limit of 30 s, so the first round is the last
    (no HiGHS run starts past the limit: a clock past it before the first LP would leave no
    round, test_no_highs_after_the_limit.py)."""
    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    p = uniform(1, n=60, m=16)
    untimed = solve_mip(p, SolverOptions(time_limit=LIMIT))
    assert untimed.certificate["score"]["pricing_rounds"] > 1
    from mentormatch.solvers.warm_lp import WarmLP

    real_clock, real_run, offset = time.perf_counter, WarmLP.run, [0.0]

    def run_then_jump(self, time_left):
        out = real_run(self, time_left)
        offset[0] = 100.0
        return out

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    monkeypatch.setattr(WarmLP, "run", run_then_jump)
    sol = solve_mip(p, SolverOptions(time_limit=30))
    assert sol.certificate["score"]["pricing_rounds"] == 1
    assert sol.certificate["score"]["timed_out"]
    assert sol.status == "feasible" and "stopped at the time limit (30 s)" in sol.message


def test_pair_says_when_the_time_limit_ended_it(monkeypatch):
    """pair()'s result carries the engine's message in its certificate: programme (a) on the
    organisation above, the clock passing 100 s at each reading of ``pair()``'s and the engine's
    modules, against a limit of 30 s."""
    from mentormatch.pipeline import tables
    from mentormatch.solvers import dualised, engine

    mentors, mentees = ORG
    prog = dict(_budget_programme(mentors, mentees), time_limit=30)
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    readings = iter(range(10 ** 9))
    jumping = type("Clock", (), {"perf_counter": staticmethod(lambda: 100.0 * next(readings))})
    for module in (tables, engine, dualised, relax):  # (pair()'s limit counts from its call)
        monkeypatch.setattr(module, "time", jumping)
    r = mm.pair(mentors, mentees, prog)
    assert r.status == "feasible"
    assert r.certificate["message"].startswith("stopped at the time limit (30 s)")
