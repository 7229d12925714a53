"""The random and greedy baselines: feasible, maximal, reproducible, never above the optimum."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.baselines import random_assignments

rand = get_solver("random")
greedy = get_solver("greedy")
flow = get_solver("flow")


def make(seed: int, n: int = 40, m: int = 12, loads: bool = False) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) > 0.3
    pairs = Candidates.from_mask(mask)
    score = rng.choice([-0.5, 0.0, 0.3, 0.3, 0.8, 1.0], size=len(pairs))
    locked = np.zeros(len(pairs), dtype=bool)
    first = pairs.starts()[:-1][np.diff(pairs.starts()) > 0][:2]  # two mentees' first pairs
    locked[first] = True
    capacity = rng.integers(0, 4, size=m).astype(float)
    np.add.at(capacity, pairs.mentor[first], 1.0)
    load = rng.choice([0.5, 1.0], size=n) if loads else None
    demand = rng.integers(1, 3, size=n)
    return AssignmentProblem(pairs, score, capacity, demand=demand, load=load, locked=locked)


def assert_feasible(problem: AssignmentProblem, sol) -> None:
    ch = sol.chosen
    assert len(np.unique(ch)) == len(ch) and sol.status == "feasible"
    # a bound on every assignment's total (main: None), so a gap (recomputed here)
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-9
    assert sol.gap == pytest.approx(max(0.0, (sol.bound - sol.objective) / max(abs(sol.bound), 1e-12)))
    used = np.bincount(problem.pairs.mentor[ch], weights=problem.load[problem.pairs.mentee[ch]],
                       minlength=problem.n_mentors)
    assert np.all(used <= problem.capacity + 1e-9)
    deg = np.bincount(problem.pairs.mentee[ch], minlength=problem.n_mentees)
    assert np.all(deg <= problem.demand)
    assert set(np.flatnonzero(problem.locked)) <= set(ch.tolist())
    assert sol.objective == pytest.approx(float(problem.score[ch].sum()), abs=1e-12)


def unused_feasible_pairs(problem: AssignmentProblem, sol, min_score: float = -np.inf) -> int:
    """Pairs (score > min_score) that could still be added: the assignment is maximal iff 0."""
    ch = sol.chosen
    pairs = problem.pairs
    used = np.bincount(pairs.mentor[ch], weights=problem.load[pairs.mentee[ch]],
                       minlength=problem.n_mentors)
    deg = np.bincount(pairs.mentee[ch], minlength=problem.n_mentees)
    free = np.ones(len(pairs), bool)
    free[ch] = False
    addable = (free & (problem.score > min_score) & (deg[pairs.mentee] < problem.demand[pairs.mentee])
               & (used[pairs.mentor] + problem.load[pairs.mentee] <= problem.capacity[pairs.mentor] + 1e-9))
    return int(addable.sum())


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("loads", [False, True])
def test_random_is_feasible_maximal_and_seeded(seed, loads):
    problem = make(seed, loads=loads)
    a = rand(problem, SolverOptions(seed=seed))
    assert_feasible(problem, a)
    assert unused_feasible_pairs(problem, a) == 0
    b = rand(problem, SolverOptions(seed=seed))
    assert np.array_equal(a.chosen, b.chosen)


def test_random_differs_across_seeds():
    problem = make(0, n=30, m=10)
    sols = random_assignments(problem, range(20))
    assert len(sols) == 20
    assert len({tuple(s.chosen.tolist()) for s in sols}) > 1


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("loads", [False, True])
def test_greedy_is_feasible_maximal_and_below_optimum(seed, loads):
    problem = make(seed, loads=loads)
    g = greedy(problem, SolverOptions())
    assert_feasible(problem, g)
    assert unused_feasible_pairs(problem, g, min_score=0.0) == 0
    assert np.all(problem.score[g.chosen][~problem.locked[g.chosen]] > 0)
    if not loads:
        opt = flow(problem, SolverOptions())
        assert g.objective <= opt.objective + 1e-9
        # and above what a random assignment gets on average
        mean_random = np.mean([s.objective for s in random_assignments(problem, range(20))])
        assert g.objective >= mean_random


def test_greedy_takes_best_pair_first_and_can_lose():
    pairs = Candidates.complete(2, 2)
    problem = AssignmentProblem(pairs, np.array([2.0, 1.9, 1.9, 0.0]), np.array([1.0, 1.0]))
    g = greedy(problem, SolverOptions())
    assert g.chosen.tolist() == [0] and g.objective == 2.0
    assert flow(problem, SolverOptions()).objective == pytest.approx(3.8)


def test_greedy_ties_by_index():
    pairs = Candidates.complete(3, 2)
    problem = AssignmentProblem(pairs, np.ones(6), np.array([1.0, 1.0]))
    assert greedy(problem, SolverOptions()).chosen.tolist() == [0, 3]  # (0,0), (1,1)


def test_greedy_coverage_first_takes_non_positive_pairs():
    pairs = Candidates.complete(2, 1)
    problem = AssignmentProblem(pairs, np.array([-1.0, 0.0]), np.array([2.0]))
    assert len(greedy(problem, SolverOptions()).chosen) == 0
    problem.coverage_first = True
    assert greedy(problem, SolverOptions()).chosen.tolist() == [0, 1]


def test_baselines_reject_side_constraints_and_bad_locks():
    pairs = Candidates.complete(2, 1)
    problem = AssignmentProblem(pairs, np.ones(2), np.array([1.0]),
                                side=SideConstraints(balanced_load=True))
    for solver in (rand, greedy):
        with pytest.raises(ValueError, match="balanced_load"):
            solver(problem, SolverOptions())
    locked = AssignmentProblem(pairs, np.ones(2), np.array([1.0]), locked=np.ones(2, bool))
    for solver in (rand, greedy):
        with pytest.raises(InfeasibleError, match=r"mentor #0 has 2 locked pairs \(load 2\) but "
                           "capacity 1") as err:
            solver(locked, SolverOptions())
        assert [c.constraint for c in err.value.conflicts] == ["locked"]  # the diagnosis's


def _milp_optimum(problem: AssignmentProblem) -> float:
    """The best total over every pair: capacities with loads, demands, locks (scipy's milp)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    P, K = problem.pairs, len(problem.pairs)
    A = np.zeros((P.n_mentees + P.n_mentors, K))
    A[P.mentee, np.arange(K)] = 1.0
    A[P.n_mentees + P.mentor, np.arange(K)] = problem.load[P.mentee]
    hi = np.r_[np.asarray(problem.demand, float), problem.capacity]
    lo = np.asarray(problem.locked, float)
    res = milp(-problem.score, integrality=np.ones(K), bounds=Bounds(lo, 1),
               constraints=LinearConstraint(csr_matrix(A), -np.inf, hi + 1e-9))
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("loads", [False, True])
def test_every_baseline_bounds_the_optimum_the_same_on_a_reader(seed, loads):
    """Random, greedy (and stable, unit demands and loads) carry a bound at least milp's
    optimum, on the complete set and on a pair reader of the same pairs, the same figure on
    both (each mentee's best pairs alone; s25: None on a reader, then another figure)."""
    from mentormatch.solvers.baselines_rows import solve_on_reader
    from mentormatch.solvers.rows import ProblemRows

    p = make(seed, loads=loads)
    optimum = _milp_optimum(p)
    names = ["random", "greedy"]
    if not loads:
        p = AssignmentProblem(p.pairs, p.score, p.capacity)  # stable: unit demands, no locks
        optimum = _milp_optimum(p)
        names.append("stable")
    for name in names:
        sol = get_solver(name)(p, SolverOptions(seed=seed))
        assert sol.objective <= optimum + 1e-9 <= sol.bound + 2e-9, name
        locked = None if not p.locked.any() else (p.pairs.mentee[p.locked], p.pairs.mentor[p.locked])
        _, on_reader = solve_on_reader(name, ProblemRows(p), p.capacity, demand=p.demand,
                                       load=None if not loads else p.load, locked=locked, seed=seed)
        assert on_reader.objective == pytest.approx(sol.objective), name
        assert on_reader.objective <= optimum + 1e-9 <= on_reader.bound + 2e-9, name
        # one rule on every source (s26: the complete set read one pass, a reader each
        # mentee's 16 best pairs: both bounds, not the same figure)
        assert on_reader.bound == pytest.approx(sol.bound, abs=1e-9), name


@pytest.mark.parametrize("seed", range(4))
def test_baseline_bound_is_one_figure_with_ties_past_the_16_best(seed):
    """Rows longer than the 16 best pairs a bound reads, their scores tied in steps of 0.1
    (so the 16th best is a tie, broken by position on the complete set and on the reader alike:
    one selection, :func:`mentormatch.solvers.topk.top_k`): the same bound on both, at least
    milp's optimum."""
    from mentormatch.solvers.baselines import baseline_bound
    from mentormatch.solvers.baselines_rows import solve_on_reader
    from mentormatch.solvers.rows import ProblemRows

    rng = np.random.default_rng(seed)
    n, m = 7, 24
    keep = rng.random(n * m) < 0.9
    P = Candidates(np.repeat(np.arange(n), m)[keep], np.tile(np.arange(m), n)[keep], n, m)
    score = np.round(rng.random(len(P)), 1)
    p = AssignmentProblem(P, score, rng.integers(0, 3, m).astype(float),
                          demand=rng.integers(1, 4, n))
    bound = baseline_bound(p)
    assert bound >= _milp_optimum(p) - 1e-9
    _, on_reader = solve_on_reader("greedy", ProblemRows(p), p.capacity, demand=p.demand)
    assert on_reader.bound == pytest.approx(bound, abs=1e-12)
