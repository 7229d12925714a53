"""maxmin and leximin against brute force on tiny instances (every feasible assignment)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.fair import _cp_maxmin, solve_maxmin
from mentormatch.solvers.leximin import solve_leximin

from test_solvers_cpsat import all_assignments, feasible


def instance(seed, n=6, m=3, density=0.7, **kw):
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.uniform(0, 1, len(pairs)), 1)  # coarse, so ties occur
    cap = kw.pop("capacity", None)
    cap = rng.integers(1, 3, m).astype(float) if cap is None else cap
    return AssignmentProblem(pairs, score, cap, **kw)


def feasible_rows(p):
    X = all_assignments(p)
    return X[feasible(p, X)]


def reference(p):
    """(max count, best min, best total at that min, best sorted vector) by enumeration."""
    X = feasible_rows(p)
    count = X.sum(1)
    X = X[count == count.max()]
    vectors = [tuple(sorted(p.score[row])) for row in X]
    mins = np.array([v[0] if v else np.inf for v in vectors])
    totals = X.astype(float) @ p.score
    best_min = mins.max()
    return int(count.max()), best_min, totals[mins == best_min].max(), max(vectors)


@pytest.mark.parametrize("seed", range(20))
def test_maxmin_plain(seed):
    p = instance(seed)
    if seed % 3 == 0:
        p.locked = np.random.default_rng(seed).random(len(p.pairs)) < 0.1
    X = feasible_rows(p)
    if len(X) == 0:
        return
    count, best_min, best_total, _ = reference(p)
    sol = solve_maxmin(p)
    assert sol.status == "optimal" and len(sol.chosen) == count == sol.certificate["matched"]
    worst = p.score[sol.chosen].min() if count else np.inf
    assert worst == pytest.approx(best_min)
    if count:
        assert sol.certificate["threshold"] == pytest.approx(worst)
    assert sol.objective == pytest.approx(best_total)
    row = np.zeros(len(p.pairs), bool)
    row[sol.chosen] = True
    assert feasible(p, row[None])[0]


@pytest.mark.parametrize("seed", range(8))
def test_maxmin_with_side_constraints_uses_cpsat(seed):
    rng = np.random.default_rng(seed)
    p = instance(seed, load=rng.choice([0.5, 1.0], 6), capacity=np.array([1.5, 1.0, 2.0]))
    p.side = SideConstraints(min_load=np.array([2.0, 0.0, 0.0]))
    count, best_min, best_total, _ = reference(p)
    sol = solve_maxmin(p)
    assert sol.status == "optimal" and len(sol.chosen) == count
    assert p.score[sol.chosen].min() == pytest.approx(best_min)
    assert sol.objective == pytest.approx(best_total)


@pytest.mark.parametrize("seed", range(12))
def test_leximin_against_enumeration(seed):
    p = instance(seed, capacity=None if seed % 2 else np.array([2.0, 1.0, 1.0]))
    count, _, _, best_vector = reference(p)
    sol = solve_leximin(p, SolverOptions(time_limit=20))
    assert sol.status == "optimal" and len(sol.chosen) == count
    ours = tuple(sorted(p.score[sol.chosen]))
    assert np.allclose(ours, best_vector)
    row = np.zeros(len(p.pairs), bool)
    row[sol.chosen] = True
    assert feasible(p, row[None])[0]


@pytest.mark.parametrize("seed", range(4))
def test_leximin_with_balanced_load(seed):
    p = instance(seed, capacity=np.array([3.0, 2.0, 2.0]), density=0.9)
    p.side = SideConstraints(balanced_load=True)
    count, _, _, best_vector = reference(p)
    sol = get_solver("leximin")(p, SolverOptions())
    assert np.allclose(sorted(p.score[sol.chosen]), best_vector)


def test_maxmin_flow_medium_matches_cpsat_path():
    rng = np.random.default_rng(5)
    pairs = Candidates.from_mask(rng.random((40, 8)) < 0.4)
    p = AssignmentProblem(pairs, np.round(rng.random(len(pairs)), 3), np.full(8, 4.0))
    flow = solve_maxmin(p)
    started = time.perf_counter()
    cp = _cp_maxmin(p, SolverOptions(), started)  # the path taken under side constraints
    assert flow.status == cp.status == "optimal"
    assert len(flow.chosen) == len(cp.chosen)
    assert flow.certificate["threshold"] == pytest.approx(cp.certificate["threshold"])
    assert flow.objective == pytest.approx(cp.objective)


def test_plain_leximin_honours_its_time_limit_with_a_feasible_answer():
    """The flows of plain leximin stop at the time limit (it ran 422 s with a 120 s limit at
    3,000 x 1,500): the flow held then has the most pairs and the best worst pair (both proven
    before the levels), is said to be feasible, and says which levels are settled."""
    rng = np.random.default_rng(3)
    n, m = 300, 60
    p = AssignmentProblem(Candidates.complete(n, m), np.round(rng.random(n * m), 6),
                          np.full(m, 4.0))
    full = solve_leximin(p)
    cut = solve_leximin(p, SolverOptions(time_limit=1e-9))
    assert full.status == "optimal" and cut.status == "feasible"
    assert "time limit" in cut.message
    assert len(cut.chosen) == len(full.chosen) == 240  # the most pairs
    assert p.score[cut.chosen].min() == pytest.approx(p.score[full.chosen].min())  # max-min
    assert cut.certificate["proven_below"] == pytest.approx(p.score[full.chosen].min())
    load = np.bincount(p.pairs.mentor[cut.chosen], minlength=m)
    assert np.all(load <= 4) and len(np.unique(p.pairs.mentee[cut.chosen])) == len(cut.chosen)
    # the full answer is leximin-better or equal: its sorted vector is not below the cut one's
    a, b = np.sort(p.score[full.chosen]), np.sort(p.score[cut.chosen])
    diff = np.flatnonzero(a != b)
    assert not len(diff) or a[diff[0]] > b[diff[0]]
