"""The side-constrained solvers (CP-SAT, and the pricing + HiGHS MIP engine) against brute force:
every assignment of tiny instances enumerated, each constraint checked from its mathematical
definition, the optimum compared with the solver's claim."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.cpsat import solve_cpsat


def all_assignments(problem: AssignmentProblem) -> np.ndarray:
    """Every 0/1 vector over the pairs that gives each mentee at most ``demand`` pairs."""
    starts = problem.pairs.starts()
    per_mentee = []
    for i in range(problem.n_mentees):
        idx = range(starts[i], starts[i + 1])
        opts = [c for r in range(int(problem.demand[i]) + 1) for c in itertools.combinations(idx, r)]
        per_mentee.append(opts)
    rows = []
    for combo in itertools.product(*per_mentee):
        row = np.zeros(len(problem.pairs), dtype=bool)
        for c in combo:
            row[list(c)] = True
        rows.append(row)
    return np.array(rows)


def feasible(problem: AssignmentProblem, X: np.ndarray) -> np.ndarray:
    """Which rows of X meet every constraint, checked from the definitions."""
    P, side = problem.pairs, problem.side
    Mj = np.eye(problem.n_mentors)[P.mentor]          # pairs x mentors
    Ei = np.eye(problem.n_mentees)[P.mentee]          # pairs x mentees
    Xf = X.astype(float)
    ok = np.all(Xf @ (Mj * problem.load[P.mentee][:, None]) <= problem.capacity + 1e-9, axis=1)
    ok &= np.all(X[:, problem.locked], axis=1)
    count = Xf @ Mj
    active = count > 0
    if side.min_load is not None:
        ok &= np.all(~active | (count >= side.min_load), axis=1)
    if side.budget is not None:
        ok &= active @ side.stipend_fixed + count @ side.stipend_per_mentee <= side.budget + 1e-9
    if side.reservation is not None:
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(problem.n_mentors)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(problem.n_mentors)
        prob = np.clip(problem.score / side.success_scale, 0, 1)
        earned = fixed + count * per + side.bonus * ((Xf * prob) @ Mj)
        ok &= np.all(~active | (earned >= side.reservation - 1e-9), axis=1)
    if side.balanced_load:
        hi = np.where(active, count, -np.inf).max(axis=1)
        lo = np.where(active, count, np.inf).min(axis=1)
        ok &= ~active.any(axis=1) | (hi - lo <= 1)
    if side.score_floor is not None:
        per_mentee = (Xf * problem.score) @ Ei
        overall = per_mentee.mean(axis=1)
        for g in np.unique(side.group[side.group >= 0]):
            ok &= per_mentee[:, side.group == g].mean(axis=1) >= side.score_floor * overall - 1e-9
    if side.share_floor is not None:
        matched = (Xf @ Ei) > 0
        for g in np.unique(side.group[side.group >= 0]):
            members = side.group == g
            ok &= matched[:, members].sum(axis=1) >= side.share_floor * members.sum() - 1e-9
    return ok


def brute(problem: AssignmentProblem):
    """(best score, best row) or None when nothing is feasible; coverage_first honoured."""
    X = all_assignments(problem)
    ok = feasible(problem, X)
    if not ok.any():
        return None
    X = X[ok]
    value = X.astype(float) @ problem.score
    if problem.coverage_first:
        matched = ((X.astype(float) @ np.eye(problem.n_mentees)[problem.pairs.mentee]) > 0).sum(1)
        value = np.where(matched == matched.max(), value, -np.inf)
    return float(value.max()), X[int(np.argmax(value))]


def instance(seed: int, n: int = 6, m: int = 3, density: float = 0.7, **kw) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < density
    pairs = Candidates.from_mask(mask)
    score = np.round(rng.uniform(0.05, 1.0, len(pairs)), 2)
    capacity = kw.pop("capacity", rng.integers(1, 3, m).astype(float))
    return AssignmentProblem(pairs, score, capacity, **kw)


SOLVER = {"name": "cpsat"}


@pytest.fixture(autouse=True, params=["cpsat", "mip"])
def side_solver(request):
    """Every brute-force case runs on both side-constrained solvers."""
    SOLVER["name"] = request.param
    yield request.param
    SOLVER["name"] = "cpsat"


def _solve(problem, options):
    return get_solver(SOLVER["name"])(problem, options)


def check(problem: AssignmentProblem):
    """Solve with the solver under test and compare with brute force; return the solution (or None)."""
    ref = brute(problem)
    if ref is None:
        with pytest.raises(InfeasibleError) as info:
            _solve(problem, SolverOptions(time_limit=20))
        assert info.value.conflicts, "an infeasibility must name its conflicts"
        return None
    sol = _solve(problem, SolverOptions(time_limit=20))
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(float(problem.score[sol.chosen].sum()))
    assert sol.objective == pytest.approx(ref[0], abs=1e-9)
    row = np.zeros(len(problem.pairs), bool)
    row[sol.chosen] = True
    assert feasible(problem, row[None, :])[0], "returned assignment breaks a constraint"
    assert sol.bound is not None and sol.bound >= sol.objective - 1e-9
    if SOLVER["name"] == "cpsat":
        assert sol.certificate["rounding_bound"] == 0.0  # two-decimal scores are exact at scale 100
    return sol


SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_plain_and_locks(seed):
    p = instance(seed)
    rng = np.random.default_rng(100 + seed)
    p.locked = rng.random(len(p.pairs)) < 0.12
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_min_load(seed):
    p = instance(seed, capacity=np.full(3, 3.0))
    p.side = SideConstraints(min_load=np.array([2.0, 3.0, 1.0]))
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_budget(seed):
    rng = np.random.default_rng(seed)
    p = instance(seed, capacity=np.full(3, 2.0))
    p.side = SideConstraints(budget=float(rng.integers(0, 6)) * 500.0,
                             stipend_fixed=np.array([1000.0, 500.0, 250.0]),
                             stipend_per_mentee=np.array([100.0, 250.0, 400.0]))
    sol = check(p)
    if sol is not None:
        j = p.pairs.mentor[sol.chosen]
        cost = p.side.stipend_fixed[np.unique(j)].sum() + p.side.stipend_per_mentee[j].sum()
        assert cost <= p.side.budget


@pytest.mark.parametrize("seed", SEEDS)
def test_reservation(seed):
    p = instance(seed, capacity=np.full(3, 3.0))
    p.side = SideConstraints(bonus=np.array([1.0, 2.0, 0.5]), reservation=np.array([1.2, 1.5, 0.4]))
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_balanced_load(seed):
    p = instance(seed, capacity=np.array([3.0, 1.0, 3.0]), density=0.9)
    p.side = SideConstraints(balanced_load=True)
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.8, 1.0])
def test_score_floor(seed, alpha):
    p = instance(seed, capacity=np.full(3, 1.0))
    p.side = SideConstraints(group=np.array([0, 0, 1, 1, 1, -1]), group_names=["a", "b"],
                             score_floor=alpha)
    sol = check(p)
    if sol is not None:
        per = np.bincount(p.pairs.mentee[sol.chosen], p.score[sol.chosen], minlength=6)
        for g in (0, 1):
            assert per[p.side.group == g].mean() >= alpha * per.mean() - 1e-9


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("beta", [0.5, 1.0])
def test_share_floor(seed, beta):
    p = instance(seed, capacity=np.array([1.0, 2.0, 1.0]))
    p.side = SideConstraints(group=np.array([0, 1, 0, 1, 1, 0]), group_names=["a", "b"],
                             share_floor=beta)
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_fractional_loads(seed):
    rng = np.random.default_rng(seed)
    p = instance(seed, load=rng.choice([0.5, 1.0, 1.5], 6), capacity=np.array([1.5, 2.5, 1.0]))
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_demand_two(seed):
    p = instance(seed, n=4, demand=np.array([2, 1, 2, 1]), capacity=np.array([2.0, 2.0, 1.0]))
    check(p)


@pytest.mark.parametrize("seed", SEEDS)
def test_coverage_first(seed):
    p = instance(seed, capacity=np.array([1.0, 2.0, 1.0]), coverage_first=True)
    sol = check(p)
    ref = brute(p)
    assert sol.certificate["matched"] == int((ref[1].astype(float) @ np.eye(6)[p.pairs.mentee] > 0).sum())


def test_coverage_first_changes_the_answer():
    # one strong pair (0,0) blocks two weaker pairs that would match both mentees
    pairs = Candidates.from_arrays([0, 0, 1], [0, 1, 0], 2, 2)
    p = AssignmentProblem(pairs, np.array([1.0, 0.1, 0.1]), np.array([1.0, 1.0]))
    assert solve_cpsat(p).chosen.tolist() == [0]
    p.coverage_first = True
    assert solve_cpsat(p).chosen.tolist() == [1, 2]


def test_infeasible_names_the_lock():
    p = instance(0, capacity=np.full(3, 1.0), density=1.0)
    p.locked = (p.pairs.mentor == 0) & (p.pairs.mentee < 2)
    with pytest.raises(InfeasibleError) as info:
        solve_cpsat(p)
    assert [c.constraint for c in info.value.conflicts] == ["locked"]
    assert "2 locked pairs" in info.value.conflicts[0].detail


def test_infeasible_combination_is_blamed():
    # balanced loads against locks: mentor 0 is locked to 3 mentees, mentor 1 to one and full
    pairs = Candidates.complete(4, 2)
    locked = np.zeros(8, bool)
    locked[[0, 2, 4, 7]] = True  # mentees 0,1,2 -> mentor 0; mentee 3 -> mentor 1
    p = AssignmentProblem(pairs, np.ones(8), np.array([3.0, 1.0]), locked=locked,
                          side=SideConstraints(balanced_load=True))
    assert brute(p) is None
    with pytest.raises(InfeasibleError) as info:
        solve_cpsat(p)
    (conflict,) = info.value.conflicts
    assert conflict.constraint == "locked+balanced_load"
    assert "balanced_load" in conflict.relaxation


def test_registered_and_deterministic():
    p = instance(3, n=20, m=5, density=0.6, capacity=np.full(5, 3.0))
    p.side = SideConstraints(balanced_load=True)
    a = get_solver("cpsat")(p, SolverOptions(seed=1))
    b = get_solver("cpsat")(p, SolverOptions(seed=1))
    assert a.chosen.tolist() == b.chosen.tolist() and a.status == "optimal"


def test_inexact_scores_report_rounding_bound():
    rng = np.random.default_rng(7)
    p = AssignmentProblem(Candidates.complete(5, 2), rng.random(10) / 3, np.array([2.0, 2.0]))
    sol = solve_cpsat(p)
    rb = sol.certificate["rounding_bound"]
    # inexact: the scores in the engine's unit (the best, 0.299, times 4) at 10**7
    assert sol.certificate["scale"] == 4 * 10 ** 7 and rb == pytest.approx(4 / (4 * 10 ** 7))
    assert brute(p)[0] <= sol.objective + rb and sol.bound >= brute(p)[0]


def test_mixed_constraints_feasible_and_infeasible_cases():
    """Locks with several side constraints at once; brute force decides feasibility, and
    both outcomes must occur among the seeds so that both branches are really checked."""
    outcomes = []
    for seed in range(16):
        rng = np.random.default_rng(seed)
        p = instance(seed, capacity=np.array([2.0, 1.0, 2.0]), density=0.8)
        p.locked = rng.random(len(p.pairs)) < 0.15
        p.side = SideConstraints(min_load=np.array([2.0, 0.0, 1.0]), budget=2500.0,
                                 stipend_fixed=np.array([800.0, 300.0, 500.0]),
                                 stipend_per_mentee=np.array([200.0, 100.0, 300.0]),
                                 group=np.array([0, 0, 0, 1, 1, 1]), share_floor=0.6)
        outcomes.append(check(p) is not None)
    assert any(outcomes) and not all(outcomes)


def test_the_search_log_goes_to_stderr_never_stdout(capfd):
    """With ``progress`` (the scale path sets it, for its progress bars) CP-SAT's search log goes
    to stderr beside the bars: stdout stays the caller's."""
    from ortools.sat.python import cp_model as cpm

    from mentormatch.solvers.cpsat import make_solver

    model = cpm.CpModel()
    model.Maximize(model.NewBoolVar("x"))
    assert make_solver(SolverOptions(progress=True), 5.0).Solve(model) == cpm.OPTIMAL
    out, err = capfd.readouterr()
    assert out == "" and "CP-SAT" in err
