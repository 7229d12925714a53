"""leximin on plain problems by network flows (max-flows, min-cost flows with
complementary-slackness fixing, path searches): the same sorted score vector as brute force
and as the CP-SAT path, whichever of its steps settles each level."""
from __future__ import annotations

import time
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions
from mentormatch.solvers import leximin_levels
from mentormatch.solvers.cpsat import score_scale
from mentormatch.solvers.leximin import solve_leximin
from mentormatch.solvers.leximin_cp import _cp_leximin
from mentormatch.solvers.leximin_flow import _flow_leximin
from mentormatch.solvers.leximin_graph import _Residual
from _support import locked_at_random
from strategies import assignment_problems, feasible_assignments, violations

#: (window limit, path searches on, negative cycles cancelled per level): path searches with
#: cycle cancelling (the default), then with the widest windows or one level per min-cost flow,
#: and min-cost flows only
MODES = [(2 ** 62, True, 16), (2 ** 62, True, 0), (1, True, 0), (2 ** 62, False, 0), (3, False, 0)]


def levels(problem: AssignmentProblem, chosen) -> list[int]:
    """The sorted vector of the chosen pairs' scores, as leximin compares them."""
    scale = score_scale(problem.score)
    return sorted(np.round(problem.score[np.asarray(chosen, dtype=np.int64)] * scale)
                  .astype(np.int64).tolist())


def flow_leximin(problem: AssignmentProblem, mode=MODES[0]):
    limit, reroute, cancel = mode
    with mock.patch.object(leximin_levels, "_WINDOW_LIMIT", limit), \
            mock.patch.object(leximin_levels, "_REROUTE", reroute), \
            mock.patch.object(leximin_levels, "_CANCEL", cancel):
        return solve_leximin(problem, SolverOptions())


def brute_leximin(problem: AssignmentProblem) -> list[int] | None:
    bf = feasible_assignments(problem)
    if not bf.any_feasible:
        return None
    rows = bf.x[bf.feasible]
    count = rows.sum(1)
    return max(levels(problem, np.flatnonzero(r)) for r in rows[count == count.max()])


def with_half_capacities(problem: AssignmentProblem, halves) -> AssignmentProblem:
    """Unit loads with fractional capacities (a mentor takes floor(capacity) mentees)."""
    if halves is not None:
        problem.capacity = problem.capacity + 0.5 * np.array(halves[:problem.n_mentors])
    return problem


@settings(max_examples=150, deadline=None)
@given(assignment_problems(6, 4, with_locks=True, max_demand=2, max_capacity=3),
       st.sampled_from(MODES), st.none() | st.lists(st.integers(0, 1), min_size=4, max_size=4))
def test_equals_brute_force(problem, mode, halves):
    problem = with_half_capacities(problem, halves)
    try:
        want = brute_leximin(problem)
    except ValueError:  # too many assignments to enumerate
        return
    try:
        sol = flow_leximin(problem, mode)
    except InfeasibleError:
        assert want is None
        return
    assert sol.status == "optimal" and violations(problem, sol.chosen) == []
    assert levels(problem, sol.chosen) == want
    assert sol.certificate["matched"] == len(sol.chosen)


@settings(max_examples=80, deadline=None)
@given(assignment_problems(6, 4, with_locks=True, max_capacity=2,
                           scores=st.sampled_from([0.1, 0.5, 0.9])), st.sampled_from(MODES))
def test_equals_brute_force_with_heavy_ties(problem, mode):
    want = brute_leximin(problem)
    sol = flow_leximin(problem, mode)
    assert levels(problem, sol.chosen) == want


def medium(seed: int, n: int, m: int, decimals: int, demand: int = 1, locks: int = 0,
           density: float = 0.5) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.random(len(pairs)), decimals)
    cap = rng.integers(1, max(2, 2 * n * demand // m), m).astype(float)
    locked = locked_at_random(pairs, cap, demand, locks, rng)
    return AssignmentProblem(pairs, score, cap, demand=np.full(n, demand), locked=locked)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("decimals", [1, 3])
def test_equals_cpsat_path_on_medium_problems(seed, decimals):
    """Against the CP-SAT leximin (exact, slower) with demands of two and locks."""
    p = medium(seed, 18, 5, decimals, demand=1 + seed % 2, locks=seed % 3)
    cp = _cp_leximin(p, SolverOptions(time_limit=60), time.perf_counter())
    assert cp.status == "optimal"
    for mode in MODES:
        sol = flow_leximin(p, mode)
        assert violations(p, sol.chosen) == []
        assert levels(p, sol.chosen) == levels(p, cp.chosen), mode


@pytest.mark.parametrize("seed", range(4))
def test_modes_agree_on_larger_problems(seed):
    """Every way of settling the levels gives the same vector (continuous scores: mostly
    path searches; two decimals: mostly min-cost flows)."""
    p = medium(seed, 150, 30, 6 if seed % 2 else 2, demand=1 + (seed == 3), locks=5,
               density=0.3)
    results = {mode: levels(p, flow_leximin(p, mode).chosen) for mode in MODES}
    assert len({tuple(v) for v in results.values()}) == 1


def test_cancelled_cycles_keep_the_vector():
    """Two decimals (many pairs a level): some levels keep a negative cycle after the path
    searches, and cancelling it gives the min-cost flows' vector."""
    cancelled = 0
    for seed in range(8):
        p = medium(seed, 150, 30, 2, demand=1 + (seed == 3), locks=5, density=0.3)
        sol = flow_leximin(p)
        cancelled += sol.certificate["cycles_cancelled"]
        assert levels(p, sol.chosen) == levels(p, flow_leximin(p, (2 ** 62, False, 0)).chosen)
    assert cancelled > 0


@pytest.mark.parametrize("seed", range(30))
def test_residual_potentials_or_a_negative_cycle(seed):
    """Bellman-Ford on the indexed residual network: potentials under which every residual
    arc has a non-negative reduced cost, or a cycle of residual arcs of negative cost (the
    floor is the least cost of a simple path, so a distance below it is such a cycle)."""
    rng = np.random.default_rng(seed)
    n_nodes, n_arcs = int(rng.integers(2, 9)), int(rng.integers(1, 25))
    tail, head = rng.integers(0, n_nodes, n_arcs), rng.integers(0, n_nodes, n_arcs)
    ucap = rng.integers(1, 3, n_arcs)
    x = np.minimum(rng.integers(0, 3, n_arcs), ucap)
    cost = rng.integers(-1, 3, n_arcs)
    alive = rng.random(n_arcs) < 0.9
    fw, bw = alive & (x < ucap), alive & (x > 0)
    floor = -int(np.abs(cost)[fw | bw].sum())  # no simple path costs less
    d, cycle = _Residual(tail, head, n_nodes).potentials(x, ucap, alive, cost, floor=floor)
    if d is not None:
        assert np.all(cost[fw] + d[tail[fw]] - d[head[fw]] >= 0)
        assert np.all(-cost[bw] + d[head[bw]] - d[tail[bw]] >= 0)
        return
    f, b = cycle
    assert np.all(fw[f]) and np.all(bw[b]) and len(f) + len(b) > 0
    assert cost[f].sum() - cost[b].sum() < 0
    out = np.zeros(n_nodes, np.int64)  # a cycle: each node left as often as entered
    np.add.at(out, tail[f], 1)
    np.add.at(out, head[b], 1)
    np.subtract.at(out, head[f], 1)
    np.subtract.at(out, tail[b], 1)
    assert not out.any()


def test_certificate_and_no_pairs():
    p = AssignmentProblem(Candidates.complete(3, 2), np.array([0.5, 0.2, 0.9, 0.9, 0.1, 0.3]),
                          np.array([1.0, 1.0]))
    sol = _flow_leximin(p, time.perf_counter())
    assert sol.status == "optimal" and sol.certificate["matched"] == 2
    assert sol.certificate["levels"] == {0.5: 1, 0.9: 1}
    assert sorted(p.score[sol.chosen]) == [0.5, 0.9]
    empty = AssignmentProblem(Candidates.complete(2, 1), np.array([0.4, 0.6]), np.array([0.0]))
    sol = solve_leximin(empty)
    assert sol.chosen.tolist() == [] and sol.status == "optimal"


@pytest.mark.parametrize("seed", range(40))
def test_residual_path_from_both_ends(seed):
    """The path search (breadth-first from both ends): a path of residual arcs from start to
    goal when one exists (checked by a closure from start); else ``reached`` holds start, not
    goal, and no residual arc leaves it (a forced step's potentials)."""
    rng = np.random.default_rng(seed)
    n_nodes, n_arcs = int(rng.integers(2, 10)), int(rng.integers(1, 30))
    tail, head = rng.integers(0, n_nodes, n_arcs), rng.integers(0, n_nodes, n_arcs)
    ucap = rng.integers(1, 3, n_arcs)
    x = np.minimum(rng.integers(0, 3, n_arcs), ucap)
    alive = rng.random(n_arcs) < 0.8
    start, goal = (int(v) for v in rng.choice(n_nodes, 2, replace=False))
    fw, bw = alive & (x < ucap), alive & (x > 0)
    src = np.concatenate([tail[fw], head[bw]])
    dst = np.concatenate([head[fw], tail[bw]])
    closure = np.zeros(n_nodes, bool)
    closure[start] = True
    for _ in range(n_nodes):
        closure[dst[closure[src]]] = True
    residual = _Residual(tail, head, n_nodes)
    path = residual.path(x, ucap, alive, start, goal)
    if path is None:
        assert not closure[goal]
        r = residual.reached
        assert r[start] and not r[goal] and not np.any(r[src] & ~r[dst])
        return
    f, b = path
    assert closure[goal] and np.all(fw[f]) and np.all(bw[b])
    assert len(set(f.tolist())) == len(f) and len(set(b.tolist())) == len(b)  # one unit each
    net = np.zeros(n_nodes, np.int64)  # out minus in: +1 at start, -1 at goal
    np.add.at(net, tail[f], 1)
    np.add.at(net, head[b], 1)
    np.subtract.at(net, head[f], 1)
    np.subtract.at(net, tail[b], 1)
    want = np.zeros(n_nodes, np.int64)
    want[start], want[goal] = 1, -1
    assert net.tolist() == want.tolist()
