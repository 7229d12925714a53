"""The exact solvers ("flow", its sparse certified path, "hungarian") against independent
references: an exhaustive dynamic programme on tiny instances and scipy's
linear_sum_assignment on the capacity-expanded matrix."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mentormatch.errors import InfeasibleError, UnknownNameError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.certify import solve_scored

flow = get_solver("flow")
hungarian = get_solver("hungarian")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def assert_valid(problem: AssignmentProblem, sol) -> None:
    """Hard constraints hold and the objective is the chosen pairs' score sum."""
    ch = sol.chosen
    assert len(np.unique(ch)) == len(ch)
    assert np.all((ch >= 0) & (ch < len(problem.pairs)))
    load = np.bincount(problem.pairs.mentor[ch], minlength=problem.n_mentors)
    assert np.all(load <= problem.capacity)
    deg = np.bincount(problem.pairs.mentee[ch], minlength=problem.n_mentees)
    assert np.all(deg <= problem.demand)
    assert set(np.flatnonzero(problem.locked)) <= set(ch.tolist())
    assert sol.objective == pytest.approx(float(problem.score[ch].sum()), abs=1e-9)
    if sol.bound is not None:
        assert sol.bound >= sol.objective - 1e-9


def brute_force(problem: AssignmentProblem) -> tuple[int, float] | None:
    """Exhaustive optimum by dynamic programming over mentees, state = capacity left.

    Returns (mentees matched, score) of the best assignment (lexicographic when coverage_first:
    the most mentees, as the README defines it, then the largest total), or None when the locks
    cannot hold."""
    pairs, n = problem.pairs, problem.n_mentees
    starts = pairs.starts()
    best = {tuple(int(c) for c in problem.capacity): (0, 0.0)}
    for i in range(n):
        ks = list(range(starts[i], starts[i + 1]))
        locked = [k for k in ks if problem.locked[k]]
        options = [sub for r in range(int(problem.demand[i]) + 1)
                   for sub in itertools.combinations(ks, r) if set(locked) <= set(sub)]
        nxt: dict = {}
        for state, (cnt, val) in best.items():
            for sub in options:
                cap = list(state)
                ok = True
                for k in sub:
                    cap[pairs.mentor[k]] -= 1
                    ok &= cap[pairs.mentor[k]] >= 0
                if not ok:
                    continue
                v = (cnt + (len(sub) > 0), val + float(problem.score[list(sub)].sum()))
                key = tuple(cap)
                if key not in nxt or better(v, nxt[key], problem.coverage_first):
                    nxt[key] = v
        best = nxt
        if not best:
            return None
    top = None
    for v in best.values():
        if top is None or better(v, top, problem.coverage_first):
            top = v
    return top


def better(a, b, coverage_first: bool) -> bool:
    if coverage_first:
        return (a[0], a[1]) > (b[0], b[1] + 1e-12)
    return a[1] > b[1] + 1e-12


def random_problem(seed: int, n_max: int = 7, m_max: int = 4, demand_max: int = 2,
                   locks: bool = True) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, n_max + 1)), int(rng.integers(1, m_max + 1))
    mask = rng.random((n, m)) > rng.choice([0.0, 0.25, 0.5])
    pairs = Candidates.from_mask(mask)
    if rng.random() < 0.5:  # ties, zeros and negatives
        score = rng.choice([-1.0, 0.0, 0.5, 1.0, 1.0, 2.0], size=len(pairs))
    else:
        score = rng.normal(0.5, 1.0, size=len(pairs))
    capacity = rng.integers(0, 4, size=m).astype(float)
    demand = np.where(rng.random(n) < 0.3, rng.integers(1, demand_max + 1, size=n), 1)
    locked = np.zeros(len(pairs), dtype=bool)
    if locks and len(pairs) and rng.random() < 0.5:
        locked[rng.choice(len(pairs), size=min(2, len(pairs)), replace=False)] = True
    return AssignmentProblem(pairs, score, capacity, demand=demand, locked=locked,
                             coverage_first=bool(rng.random() < 0.3))


def scipy_reference(problem: AssignmentProblem) -> float:
    """Optimum (demand 1, no locks, no coverage_first) by linear_sum_assignment on the
    capacity-expanded matrix plus one zero "unmatched" column per mentee."""
    n, m = problem.n_mentees, problem.n_mentors
    dense = np.full((n, m), -1e9)  # ineligible: never worth it
    dense[problem.pairs.mentee, problem.pairs.mentor] = problem.score
    cols = np.repeat(np.arange(m), problem.capacity.astype(int))
    weight = np.concatenate([dense[:, cols], np.zeros((n, n))], axis=1)
    r, c = linear_sum_assignment(weight, maximize=True)
    return float(weight[r, c].sum())


# --------------------------------------------------------------------------------------------
# exactness
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(150))
def test_flow_and_hungarian_match_brute_force(seed):
    problem = random_problem(seed)
    ref = brute_force(problem)
    if ref is None:
        with pytest.raises(InfeasibleError):
            flow(problem, SolverOptions())
        return
    sol = flow(problem, SolverOptions())
    assert sol.status == "optimal"
    assert_valid(problem, sol)
    assert sol.objective == pytest.approx(ref[1], abs=1e-9)
    if problem.coverage_first:
        assert len(np.unique(problem.pairs.mentee[sol.chosen])) == ref[0]
    if np.all(problem.demand <= 1):
        h = hungarian(problem, SolverOptions())
        assert_valid(problem, h)
        assert h.objective == pytest.approx(ref[1], abs=1e-9)


@pytest.mark.parametrize("seed", range(150, 190))
def test_sparse_path_matches_brute_force(seed):
    problem = random_problem(seed)
    problem.coverage_first = False
    ref = brute_force(problem)
    if ref is None:
        return
    sol = flow(problem, SolverOptions(top_k=1))
    assert sol.status == "optimal" and sol.certificate["holds"]
    assert_valid(problem, sol)
    assert sol.objective == pytest.approx(ref[1], abs=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_flow_equals_capacity_expanded_scipy(seed):
    rng = np.random.default_rng(1000 + seed)
    n, m = int(rng.integers(50, 301)), int(rng.integers(10, 81))
    mask = rng.random((n, m)) > 0.15
    pairs = Candidates.from_mask(mask)
    score = (np.round(rng.random(len(pairs)), 1) if seed % 2 else rng.random(len(pairs)) - 0.1)
    capacity = rng.integers(0, 6, size=m).astype(float)  # zero and uneven capacities
    problem = AssignmentProblem(pairs, score, capacity)
    ref = scipy_reference(problem)
    for sol in (flow(problem, SolverOptions()), hungarian(problem, SolverOptions()),
                flow(problem, SolverOptions(top_k=2))):
        assert sol.status == "optimal"
        assert_valid(problem, sol)
        assert sol.objective == pytest.approx(ref, rel=1e-9)
        assert sol.bound == pytest.approx(ref, rel=1e-6)


def test_certificate_reports_scale_and_rounding():
    rng = np.random.default_rng(3)
    pairs = Candidates.complete(40, 10)
    problem = AssignmentProblem(pairs, rng.random(len(pairs)), np.full(10, 3.0))
    sol = flow(problem, SolverOptions())
    cert = sol.certificate
    assert cert["holds"] and cert["scale"] > 0
    assert cert["rounding_bound"] == pytest.approx(cert["n_max"] / cert["scale"])
    assert sol.bound == pytest.approx(sol.objective + cert["rounding_bound"])


# --------------------------------------------------------------------------------------------
# the sparse certified path on adversarial scores
# --------------------------------------------------------------------------------------------
def adversarial(seed: int, n: int = 120, m: int = 30) -> AssignmentProblem:
    """Everybody prefers the same few mentors (ties), one huge score, forbidden pairs."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) > 0.1
    dense = np.tile(np.linspace(1.0, 0.5, m), (n, 1))  # identical preference order
    dense += rng.choice([0.0, 0.25], size=(n, m))  # many exact ties
    dense[rng.integers(n), rng.integers(m)] = 1e6  # one huge score
    pairs = Candidates.from_mask(mask)
    score = dense[pairs.mentee, pairs.mentor]
    capacity = rng.integers(0, 4, size=m).astype(float)
    return AssignmentProblem(pairs, score, capacity)


@pytest.mark.parametrize("seed", range(6))
def test_sparse_certificate_adds_violators(seed):
    problem = adversarial(seed)
    dense = flow(problem, SolverOptions())
    sol = flow(problem, SolverOptions(top_k=1))
    cert = sol.certificate
    assert cert["holds"] is True and sol.status == "optimal"
    assert cert["rounds"] > 1 and cert["violations_added"] > 0  # top-1 cannot be enough
    assert cert["pairs_in_sparse"] < len(problem.pairs)
    assert_valid(problem, sol)
    assert sol.objective == pytest.approx(dense.objective, rel=1e-12)
    assert sol.objective == pytest.approx(scipy_reference(problem), rel=1e-12)
    assert sol.bound >= sol.objective and sol.bound - sol.objective <= 1e-6 * abs(sol.objective)


def test_sparse_path_keeps_locks():
    problem = adversarial(7)
    locked = np.zeros(len(problem.pairs), dtype=bool)
    # lock the pair with the lowest score of a mentor that has capacity
    j = int(np.flatnonzero(problem.capacity > 0)[0])
    k = np.flatnonzero(problem.pairs.mentor == j)
    locked[k[np.argmin(problem.score[k])]] = True
    problem.locked = locked
    dense = flow(problem, SolverOptions())
    sol = flow(problem, SolverOptions(top_k=2))
    assert sol.certificate["holds"]
    assert_valid(problem, sol)
    assert sol.objective == pytest.approx(dense.objective, rel=1e-12)


def test_uncertified_sparse_is_only_feasible():
    problem = adversarial(1)
    sol = flow(problem, SolverOptions(top_k=1, certify=False))
    assert sol.status == "feasible" and sol.bound is None
    assert_valid(problem, sol)


@pytest.mark.parametrize("as_callable", [False, True])
def test_solve_scored_dense_and_block_scorer(as_callable):
    rng = np.random.default_rng(11)
    n, m = 200, 40
    dense = rng.random((n, m))
    dense[rng.random((n, m)) < 0.05] = -np.inf
    capacity = rng.integers(0, 5, size=m)
    full = AssignmentProblem(Candidates.from_mask(np.isfinite(dense)),
                             dense[np.isfinite(dense)], capacity.astype(float))
    ref = flow(full, SolverOptions())
    score = (lambda rows: dense[rows].copy()) if as_callable else dense
    before = dense.copy()
    problem, sol = solve_scored(score, capacity, n_mentees=n, n_mentors=m,
                                options=SolverOptions(top_k=1))
    assert np.array_equal(before, dense)  # the caller's matrix is not modified
    assert sol.status == "optimal" and sol.certificate["holds"]
    assert_valid(problem, sol)
    assert np.all(problem.score == dense[problem.pairs.mentee, problem.pairs.mentor])
    assert sol.objective == pytest.approx(ref.objective, rel=1e-12)


def test_solve_scored_with_locks():
    rng = np.random.default_rng(5)
    dense = rng.random((60, 12))
    capacity = np.full(12, 2)
    lock = (np.array([0, 1]), np.array([3, 3]))
    problem, sol = solve_scored(dense, capacity, locked=lock, options=SolverOptions(top_k=1))
    assert_valid(problem, sol)
    chosen = set(zip(problem.pairs.mentee[sol.chosen].tolist(),
                     problem.pairs.mentor[sol.chosen].tolist()))
    assert {(0, 3), (1, 3)} <= chosen
    full = Candidates.complete(60, 12)
    locked = np.zeros(len(full), bool)
    locked[[0 * 12 + 3, 1 * 12 + 3]] = True
    ref = flow(AssignmentProblem(full, dense.ravel(), capacity.astype(float), locked=locked),
               SolverOptions())
    assert sol.objective == pytest.approx(ref.objective, rel=1e-12)
    with pytest.raises(InfeasibleError, match=r"mentor #3 has 2 locked pairs \(load 2\) but capacity 1"):
        solve_scored(dense, np.full(12, 1), locked=lock)


# --------------------------------------------------------------------------------------------
# conventions and errors
# --------------------------------------------------------------------------------------------
def test_non_positive_pairs_only_with_coverage_first():
    pairs = Candidates.complete(2, 2)
    score = np.array([0.0, -1.0, -1.0, -1.0])  # mentee 0: zero and negative; mentee 1 negative
    problem = AssignmentProblem(pairs, score, np.array([1.0, 1.0]))
    for solver in (flow, hungarian):
        assert len(solver(problem, SolverOptions()).chosen) == 0
    problem.coverage_first = True
    for solver in (flow, hungarian):
        sol = solver(problem, SolverOptions())
        assert len(sol.chosen) == 2 and sol.objective == pytest.approx(-1.0)


def test_demand_two_needs_distinct_mentors():
    pairs = Candidates.complete(1, 3)
    problem = AssignmentProblem(pairs, np.array([3.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0]),
                                demand=np.array([2]))
    sol = flow(problem, SolverOptions())
    assert sol.chosen.tolist() == [0, 1] and sol.objective == 5.0
    with pytest.raises(ValueError, match="solver='flow'"):
        hungarian(problem, SolverOptions())


def test_deterministic_under_ties():
    pairs = Candidates.complete(30, 6)
    problem = AssignmentProblem(pairs, np.ones(len(pairs)), np.full(6, 2.0))
    a, b = flow(problem, SolverOptions()), flow(problem, SolverOptions())
    assert np.array_equal(a.chosen, b.chosen) and a.objective == 12.0


def test_lock_beyond_capacity_names_mentor_and_numbers():
    pairs = Candidates.complete(3, 2)
    locked = np.zeros(6, bool)
    locked[[0, 2, 4]] = True  # three mentees locked to mentor 0
    problem = AssignmentProblem(pairs, np.ones(6), np.array([2.0, 1.0]), locked=locked)
    for solver in (flow, hungarian):
        with pytest.raises(InfeasibleError, match=r"mentor #0 has 3 locked pairs \(load 3\) but "
                           "capacity 2") as err:
            solver(problem, SolverOptions())
        # the diagnosis's finding, once, with the problem it indexes (the pipeline names by id)
        assert [c.constraint for c in err.value.conflicts] == ["locked"]
        assert err.value.problem is problem


def test_side_constraints_and_fractions_point_to_cpsat():
    pairs = Candidates.complete(2, 2)
    side = SideConstraints(budget=10.0)
    problem = AssignmentProblem(pairs, np.ones(4), np.ones(2), side=side)
    with pytest.raises(ValueError, match="budget.*cpsat"):
        flow(problem, SolverOptions())
    frac = AssignmentProblem(pairs, np.ones(4), np.array([1.5, 1.0]))
    for solver in (flow, hungarian):
        with pytest.raises(ValueError, match="cpsat"):
            solver(frac, SolverOptions())


def test_infinite_score_is_rejected():
    pairs = Candidates.complete(1, 2)
    problem = AssignmentProblem(pairs, np.array([1.0, -np.inf]), np.ones(2))
    with pytest.raises(ValueError, match="absent"):
        flow(problem, SolverOptions())


def test_unknown_solver_lists_known_ones():
    with pytest.raises(UnknownNameError) as info:
        get_solver("nope")
    for name in ("flow", "hungarian"):
        assert name in str(info.value)
