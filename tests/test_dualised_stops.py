"""The dualised models' flows keep the caller's time limit on every source (issue 23: "a time
limit returns the best feasible assignment found, with its bound and gap"): share floors, score
floors and balanced loads pass the engine's deadline to their certified flows
(:class:`mentormatch.solvers.inner.InnerFlow`), so that no flow (and no check of every pair)
runs past it, and none starts that the last one's time says would end past it. A flow the
limit cuts short still gives its assignment (it meets the constraints or is dropped, recomputed
here from the inputs) and no bound; the answer says it stopped at the time limit. Before, their
flows ran whole and balanced loads always ran the flow of the levels left after its last level.

Nothing here is timed: the clock is ``time.perf_counter`` plus an offset that jumps ``JUMP``
seconds at a chosen point; every flow of the certified rounds is counted with the clock at its
start (``rounds.solve_arrays``)."""
from __future__ import annotations

import time

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as P
from mentormatch.errors import TimeLimitError
from mentormatch.pairs import Candidates
from mentormatch.solvers import SolverOptions, certify, inner, route
from mentormatch.solvers.base import AssignmentProblem, SideConstraints
from mentormatch.solvers.engine import solve_source
from mentormatch.testing import violations

from _support import force_scale_path, jumping_clock, source_of

JUMP = 1000.0
LIMIT = 60.0


@pytest.fixture
def clock(monkeypatch):
    """The fake clock (``_support.jumping_clock``); the flows' answers at this size."""
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    return jumping_clock(monkeypatch, JUMP)


def _instance(seed: int, kind: str, n: int = 40, m: int = 10) -> AssignmentProblem:
    """Scores in (0, 1) on 70 % of the pairs; capacities 1 or 2 (so that a flow at level 1 of
    balanced loads is balanced), the side rows of ``kind``."""
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < 0.7)
    score = np.round(rng.uniform(0.01, 1.0, len(pairs)), 3)
    cap = rng.integers(1, 3, m).astype(float)
    group = rng.integers(0, 3, n)
    side = {"balanced": SideConstraints(balanced_load=True),
            "share": SideConstraints(share_floor=0.25, group=group),
            "score": SideConstraints(score_floor=0.9, group=group)}[kind]
    return AssignmentProblem(pairs, score, cap, side=side)


def _solve(p: AssignmentProblem, source_kind: str):
    """The engine on ``p``'s pairs as a source; the answer's positions in ``p.pairs`` after
    checking every constraint recomputed from the inputs, or the TimeLimitError."""
    try:
        sub, sol = solve_source(source_of(p, source_kind), p.capacity, side=p.side,
                                options=SolverOptions(time_limit=LIMIT))
    except TimeLimitError as e:
        return None, e
    pos = p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    assert np.all(pos >= 0) and violations(p, pos) == []
    assert float(p.score[pos].sum()) == pytest.approx(sol.objective, abs=1e-9)
    return sol, pos


def _assert_stopped(sol, err):
    """A feasible answer that says it stopped at the time limit, or a TimeLimitError."""
    if sol is None:
        assert "time limit" in str(err)
        return
    assert sol.status == "feasible" and sol.certificate["timed_out"] is True
    assert "stopped at the time limit" in sol.message


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["balanced", "share", "score"])
def test_no_flow_starts_once_the_limit_passes_inside_a_models_first_flow(monkeypatch, clock, seed, kind):
    """One pair per mentee to start, so that the first flow takes rounds: the clock jumps past
    the limit once its first round's flow returns. No other flow starts; the answer meets every
    constraint (recomputed) and says it stopped, with no bound (no flow was certified)."""
    monkeypatch.setattr(certify, "default_top_k", lambda cap, dem: 1)
    p = _instance(seed, kind)
    untimed, _ = _solve(p, "blocks")
    assert untimed is not None and len(clock.flows) >= 2
    clock.flows.clear()
    clock.after_flow = clock.jump
    sol, err = _solve(p, "blocks")
    assert len(clock.flows) == 1 and clock.flows[0] < clock.jumped[0]
    _assert_stopped(sol, err)
    if sol is None:
        return
    assert sol.objective <= untimed.bound + 1e-6
    if "certified flow" in sol.certificate["method"]:  # the model's cut flow: no bound
        assert sol.bound is None
    else:  # (its assignment did not meet the constraints: the engine's column generation)
        assert sol.bound is None or sol.bound >= untimed.objective - 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("source_kind", ["array", "blocks"])
def test_balanced_loads_start_no_flow_for_the_levels_left_past_the_limit(clock, monkeypatch, seed,
                                                                        source_kind):
    """Capacities 1 or 2: the flow of level 1 is balanced. The clock jumps once that flow (the
    model's first) returns: neither level 2 nor the flow of the levels left starts; the answer
    is level 1's assignment, balanced (recomputed), with no bound, stopped at the time limit."""
    p = _instance(seed, "balanced")
    untimed, _ = _solve(p, source_kind)
    assert untimed.certificate["method"] == "balanced loads by a certified flow per level"
    real = inner.InnerFlow.solve
    solves = []

    def then_jump(self, *args):
        out = real(self, *args)
        solves.append(time.perf_counter())
        clock.jump()
        return out

    monkeypatch.setattr(inner.InnerFlow, "solve", then_jump)
    clock.flows.clear()
    sol, err = _solve(p, source_kind)
    assert len(solves) == 1 and [at for at in clock.flows if at >= clock.jumped[0]] == []
    assert sol is not None and sol.certificate["method"] == untimed.certificate["method"]
    _assert_stopped(sol, err)
    assert sol.bound is None and sol.objective <= untimed.bound + 1e-6
    assert sol.certificate["level_bounds"] == {"1": pytest.approx(untimed.certificate["level_bounds"]["1"])}


def test_pair_on_bounds_stops_balanced_loads_first_flow_between_its_rounds(monkeypatch, clock):
    """``pair()`` on the bounds source with balanced loads: the clock jumps past the limit once
    the first flow of the rounds returns (one pair per mentee to start). No other flow starts,
    and the answer meets the constraint, recomputed on the complete set, or is a
    TimeLimitError."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=14, seed=3)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    programme = {"constraints": {"balanced_load": True}, "time_limit": LIMIT}
    small = P.prepare(mentors, mentees, programme)
    force_scale_path(monkeypatch, True)
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "_guides", lambda *a: (None, None, None))  # the rounds' flows only
    real = bounded._solve

    def one_each(*args, **kw):  # k = 1: the first flow takes rounds
        args = list(args)
        args[5] = 1
        return real(*args, **kw)

    monkeypatch.setattr(bounded, "_solve", one_each)
    untimed = mm.pair(mentors, mentees, programme)
    assert untimed.certificate["source"] == "BoundedSource" and len(clock.flows) >= 2
    clock.flows.clear()
    clock.after_flow = clock.jump
    try:
        r = mm.pair(mentors, mentees, programme)
    except TimeLimitError as e:
        r, err = None, e
    assert len(clock.flows) == 1
    if r is None:
        assert "time limit" in str(err)
        return
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    mentee = np.asarray(small.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64)
    mentor = np.asarray(small.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64)
    pos = small.problem.pairs.locate(mentee, mentor)
    assert np.all(pos >= 0) and violations(small.problem, pos) == []
    assert float(small.problem.score[pos].sum()) == pytest.approx(r.objective, abs=1e-6)
