"""The vectorised greedy baseline equals the sequential scan it replaced, pair for pair."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions
from mentormatch.solvers import baselines
from mentormatch.solvers.baselines import _start, solve_greedy
from strategies import assignment_problems


def reference_greedy(problem: AssignmentProblem) -> np.ndarray:
    """The former ``solve_greedy``: one Python iteration per pair in lexsort order."""
    lock_pos, cap, dem = _start(problem, "greedy")
    pairs = problem.pairs
    keep = ~problem.locked & (dem[pairs.mentee] > 0)
    if not problem.coverage_first:
        keep &= problem.score > 0
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((pairs.mentor[idx], pairs.mentee[idx], -problem.score[idx]))]
    cap_l = cap.tolist()
    dem_l = dem.tolist()
    load_l = problem.load.tolist()
    need_total = int(dem.sum())
    min_load = float(problem.load.min(initial=1.0))
    room = int(np.sum(cap >= min_load - 1e-12))
    taken = []
    for k, i, j in zip(order.tolist(), pairs.mentee[order].tolist(), pairs.mentor[order].tolist()):
        if dem_l[i] > 0 and cap_l[j] >= load_l[i] - 1e-12:
            taken.append(k)
            dem_l[i] -= 1
            cap_l[j] -= load_l[i]
            need_total -= 1
            if cap_l[j] < min_load - 1e-12:
                room -= 1
            if need_total == 0 or room == 0:
                break
    return np.sort(np.concatenate([lock_pos, np.asarray(taken, dtype=np.int64)]))


def check(problem: AssignmentProblem) -> None:
    got = solve_greedy(problem, SolverOptions())
    want = reference_greedy(problem)
    assert got.chosen.tolist() == want.tolist()
    assert got.objective == (float(problem.score[want].sum()) if len(want) else 0.0)


@settings(max_examples=300, deadline=None)
@given(assignment_problems(8, 5, with_locks=True, max_demand=3, max_capacity=4,
                           coverage_first=None))
def test_equals_sequential_on_small_problems(problem):
    check(problem)


@settings(max_examples=200, deadline=None)
@given(assignment_problems(8, 5, with_locks=True, max_demand=3, max_capacity=4,
                           coverage_first=None, fractional=True))
def test_equals_sequential_with_fractional_loads(problem):
    check(problem)


@settings(max_examples=200, deadline=None)
@given(assignment_problems(8, 5, with_locks=True, max_demand=2, max_capacity=3,
                           coverage_first=None, scores=st.sampled_from([0.0, 0.5, 1.0])))
def test_equals_sequential_with_heavy_ties(problem):
    check(problem)


@st.composite
def large_problems(draw):
    """Bigger random instances (scores with many ties, arbitrary loads and capacities, locks),
    small chunks and blocks so that the block, chunk and round machinery is exercised."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n, m = draw(st.integers(1, 120)), draw(st.integers(1, 40))
    pairs = Candidates.from_mask(rng.random((n, m)) < draw(st.sampled_from([0.1, 0.5, 1.0])))
    levels = draw(st.sampled_from([2, 5, 50, 0]))
    score = (rng.integers(-1, levels, len(pairs)) / max(levels, 1) if levels
             else rng.random(len(pairs)))
    if draw(st.booleans()):  # a strong mentor effect: long dependency chains
        score = score * 0.01 + rng.random(m)[pairs.mentor]
    kind = draw(st.sampled_from(["unit", "halves", "any", "zero"]))
    load = {"unit": np.ones(n), "halves": rng.choice([0.5, 1.0, 1.5], n),
            "any": rng.choice([0.1, 0.2, 0.3, 0.7, 1.0, 1.3], n),
            "zero": rng.choice([0.0, 1.0], n)}[kind]
    capacity = rng.integers(0, 6, m).astype(float)
    if kind in ("halves", "any"):
        capacity = capacity + rng.choice([0.0, 0.1, 0.3, 0.5], m)
    demand = rng.integers(1, draw(st.integers(1, 4)) + 1, n)
    locked = np.zeros(len(pairs), bool)
    room, need = capacity.copy(), demand.copy()
    for k in rng.permutation(len(pairs))[: draw(st.integers(0, 10))]:
        i, j = pairs.mentee[k], pairs.mentor[k]
        if room[j] >= load[i] and need[i] >= 1:
            locked[k] = True
            room[j] -= load[i]
            need[i] -= 1
    return AssignmentProblem(pairs, score, capacity, demand=demand, load=load, locked=locked,
                             coverage_first=draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(large_problems(), st.sampled_from([None, (1, 1, 1), (5, 3, 7), (50, 64, 32)]))
def test_equals_sequential_on_larger_problems(problem, sizes):
    """Also with tiny blocks, chunks and rounds (block size, chunk size, columns per round)."""
    if sizes is None:
        check(problem)
        return
    block, chunk, columns = sizes
    with mock.patch.object(baselines, "_sizes", lambda n, m: (block, chunk)), \
            mock.patch.object(baselines, "_COLUMNS", columns):
        check(problem)


def test_nan_and_infinite_scores_are_scanned_last_and_first():
    pairs = Candidates.complete(3, 2)
    score = np.array([np.nan, 0.5, -np.inf, np.nan, np.inf, 0.2])
    for cf in (False, True):
        problem = AssignmentProblem(pairs, score, np.array([1.0, 2.0]), coverage_first=cf)
        assert solve_greedy(problem, SolverOptions()).chosen.tolist() == \
            reference_greedy(problem).tolist()


def test_block_boundaries_with_ties():
    """Many blocks, with ties that straddle the partition cut."""
    rng = np.random.default_rng(3)
    n, m = 400, 200
    pairs = Candidates.complete(n, m)
    score = rng.integers(1, 30, len(pairs)) / 30.0
    problem = AssignmentProblem(pairs, score, rng.integers(0, 3, m).astype(float),
                                demand=rng.integers(1, 3, n))
    check(problem)
    with mock.patch.object(baselines, "_sizes", lambda n, m: (1000, 100)):
        check(problem)


@pytest.mark.parametrize("seed", range(3))
def test_mentor_dominated_scores(seed):
    """Scores set mostly by the mentor: the scan fills one mentor after another."""
    rng = np.random.default_rng(seed)
    n, m = 300, 120
    pairs = Candidates.complete(n, m)
    score = rng.random(m)[pairs.mentor] + 1e-3 * rng.random(len(pairs))
    check(AssignmentProblem(pairs, score, np.full(m, 2.0)))


def test_pairs_out_of_mentee_mentor_order():
    """Candidates built directly in another order: ties still go by mentee, then mentor."""
    rng = np.random.default_rng(5)
    base = Candidates.complete(30, 8)
    perm = rng.permutation(len(base))
    pairs = Candidates(base.mentee[perm], base.mentor[perm], 30, 8)
    score = rng.integers(0, 4, len(pairs)) / 4.0
    problem = AssignmentProblem(pairs, score, rng.integers(0, 4, 8).astype(float),
                                demand=rng.integers(1, 3, 30), coverage_first=True)
    check(problem)
    with mock.patch.object(baselines, "_sizes", lambda n, m: (20, 7)):
        check(problem)
