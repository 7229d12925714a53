"""``coverage_first`` counted in the flow network itself (issue 23, s17h1): each mentee's source
arc split into a first unit carrying the coverage weight and the rest without it, so the
min-cost flow counts matched *mentees*, whatever their demand, on every source: the complete
set (``solve_flow`` with the tie rule), the sparse certified path, a held problem's certified
flow (the ``"flow"`` solver), the engine's shortcut on blocks, and the bounds.

Every answer is checked against brute force (the most mentees first, then the largest total),
its certificate's bound against the brute-force optimum, and the sources against each other
(the same pairs: one tie rule on one quantized problem).
"""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver
from mentormatch.solvers.certify import solve_flow_any
from mentormatch.solvers.duals import potentials, prices
from mentormatch.solvers.engine import solve_source
from mentormatch.solvers.flow import network, solve_arrays
from mentormatch.solvers.quantize import coverage_scale, coverage_weights, integer_costs
from mentormatch.solvers.sources import BlockSource
from mentormatch.testing import feasible_assignments, violations

from _support import on_source, result_positions


def _problem(seed: int, n: int = 4, m: int = 3, demand_max: int = 3, locks: int = 0) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) > rng.choice([0.0, 0.3])
    mask[0, :] = True  # at least one pair
    pairs = Candidates.from_mask(mask)
    if rng.random() < 0.5:  # ties, zeros and negatives
        score = rng.choice([-0.5, 0.0, 0.5, 1.0, 1.0, 2.0], size=len(pairs))
    else:
        score = np.round(rng.normal(0.6, 0.8, size=len(pairs)), 3)
    capacity = rng.integers(1, 3, size=m).astype(float)
    demand = rng.integers(1, demand_max + 1, size=n)
    locked = np.zeros(len(pairs), bool)
    if locks:  # on distinct mentees and mentors: always within demands and capacities
        _, first_of_mentee = np.unique(pairs.mentee, return_index=True)
        for k in first_of_mentee:
            if locked.sum() < locks and not np.any(locked & (pairs.mentor == pairs.mentor[k])):
                locked[k] = True
    return AssignmentProblem(pairs, score, capacity, demand=demand, locked=locked, coverage_first=True)


def _brute(p):
    """(most mentees matched, the largest total among those assignments)."""
    bf = feasible_assignments(p)
    ok = bf.feasible
    most = int(bf.matched[ok].max())
    return most, float(bf.total[ok & (bf.matched == most)].max())


def _held_on(p, chosen) -> tuple[int, float]:
    assert violations(p, chosen) == []
    return int(len(np.unique(p.pairs.mentee[chosen]))), float(p.score[chosen].sum())


def _every_source(p) -> dict[str, np.ndarray]:
    """The positions (in ``p.pairs``) each source chooses, every solution 'optimal' with a
    bound at least its objective."""
    out = {}
    sols = {"flow solver": get_solver("flow")(p, SolverOptions()),
            "complete set": solve_flow_any(p, SolverOptions()),
            "sparse, top 1": solve_flow_any(p, SolverOptions(top_k=1))}
    for name, sol in sols.items():
        assert sol.status == "optimal", name
        assert sol.bound is not None and sol.bound >= sol.objective - 1e-12, name
        out[name] = np.sort(sol.chosen)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    src = BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors)
    lk = np.flatnonzero(p.locked)
    sub, sol = solve_source(src, p.capacity, demand=p.demand, coverage_first=True,
                            locked=(p.pairs.mentee[lk], p.pairs.mentor[lk]),
                            options=SolverOptions(time_limit=30))
    assert sol.status == "optimal" and sol.certificate["source"] == "BlockSource"
    assert sol.certificate["method"] == "coverage first by a certified flow counting mentees"
    out["engine on blocks"] = np.sort(p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen]))
    assert sol.bound >= sol.objective - 1e-12
    return out


@pytest.mark.parametrize("seed", range(60))
def test_every_source_counts_mentees_then_the_total_against_brute_force(seed):
    p = _problem(seed)
    most, best = _brute(p)
    chosen = _every_source(p)
    for name, pos in chosen.items():
        assert _held_on(p, pos) == (most, pytest.approx(best, abs=1e-9)), name
    first = next(iter(chosen.values()))
    for name, pos in chosen.items():  # one tie rule: the same pairs on every source
        assert pos.tolist() == first.tolist(), name


@pytest.mark.parametrize("seed", range(30))
def test_a_locked_mentee_is_matched_already(seed):
    """With locks, a locked mentee counts as matched: the weight goes to the mentees the locks
    leave without a mentor (brute force, every source)."""
    p = _problem(1000 + seed, n=4, m=3, demand_max=3, locks=1 + seed % 2)
    assert p.locked.any()
    most, best = _brute(p)
    chosen = _every_source(p)
    for name, pos in chosen.items():
        assert np.all(np.isin(np.flatnonzero(p.locked), pos)), name
        assert _held_on(p, pos) == (most, pytest.approx(best, abs=1e-9)), name
    first = next(iter(chosen.values()))
    for name, pos in chosen.items():
        assert pos.tolist() == first.tolist(), name


def test_a_lock_does_not_earn_a_second_mentor_the_weight():
    """Mentee 0 (demand 2) is locked to mentor 0 and may also have mentor 1 (0.9); mentee 1
    has only mentor 1 (0.1). Mentee 0 is matched by its lock, so coverage gives mentor 1 to
    mentee 1 (the flow weighted every mentee's first free mentor, and took 0.9: one mentee)."""
    P = Candidates(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2)
    p = AssignmentProblem(P, np.array([0.5, 0.9, 0.1]), np.array([1.0, 1.0]), demand=np.array([2, 1]),
                          locked=np.array([True, False, False]), coverage_first=True)
    for name, pos in _every_source(p).items():
        assert pos.tolist() == [0, 2], name


@pytest.mark.parametrize("seed", range(60, 80))
def test_the_bound_is_a_bound_and_tight(seed):
    """The certified flows' bound is on the total of any assignment matching the most mentees
    (the dual objective less W per matched mentee): at least the brute-force optimum, and
    within the integer-cost rounding of it."""
    p = _problem(seed, n=5, m=3, demand_max=2)
    most, best = _brute(p)
    for opts in (SolverOptions(), SolverOptions(top_k=1)):
        sol = get_solver("flow")(p, opts) if opts.top_k is None else solve_flow_any(p, opts)
        assert sol.bound >= best - 1e-9
        assert sol.bound - best <= 1e-6


def test_seed_83_three_mentees_not_three_pairs():
    """The old defect (test_solvers_flow's seed 83): the flow on ``s + W`` counted pairs, so a
    mentee of demand 2 took two mentors where three mentees could each have one."""
    from test_solvers_flow import brute_force, random_problem

    p = random_problem(83)
    assert p.coverage_first and int(p.demand.max()) > 1
    ref = brute_force(p)
    for sol in (get_solver("flow")(p, SolverOptions()), solve_flow_any(p, SolverOptions())):
        assert sol.status == "optimal"
        matched = len(np.unique(p.pairs.mentee[sol.chosen]))
        assert matched == ref[0] == 3 and sol.objective == pytest.approx(ref[1], abs=1e-9)
        assert sol.solver == "flow"  # the flow itself, no detour to the engine


def test_one_mentee_of_demand_two_against_two_mentees():
    """Mentee 0 (demand 2) may have either mentor at 1.0 each, mentee 1 only mentor 0 at 0.1:
    two pairs either way, two mentees only with (1, 0) and (0, 1). The flow counts mentees."""
    p = AssignmentProblem(Candidates(np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 2),
                          np.array([1.0, 1.0, 0.1]), np.array([1.0, 1.0]), demand=np.array([2, 1]),
                          coverage_first=True)
    cap, dem = np.array([1, 1]), np.array([2, 1])
    res = solve_arrays(p.pairs.mentee, p.pairs.mentor, p.score, cap, dem, coverage_weights(cap, dem))
    assert res.optimal and np.flatnonzero(res.chosen).tolist() == [1, 2] and np.all(res.cover > 0)
    plain = solve_arrays(p.pairs.mentee, p.pairs.mentor, p.score, np.array([1, 1]), np.array([2, 1]))
    assert np.flatnonzero(plain.chosen).tolist() == [0, 1]


def test_a_negative_second_pair_is_not_forced():
    """The most mentees, then the largest total: a second mentor that lowers the total and
    matches nobody new is not taken (a max-flow of least cost would take it)."""
    p = AssignmentProblem(Candidates.complete(1, 2), np.array([1.0, -0.5]), np.array([1.0, 1.0]),
                          demand=np.array([2]), coverage_first=True)
    for sol in (get_solver("flow")(p, SolverOptions()), solve_flow_any(p, SolverOptions())):
        assert sol.chosen.tolist() == [0] and sol.status == "optimal"


def test_the_weight_dominates_and_fits_int64():
    """W above any change of the total (2 P 2**T < Wq), and OR-Tools' cost scaling within int64
    at 200,000 x 40,000 with demands up to 5."""
    n, m, places = 200_000, 40_000, 10 ** 6
    for top in (0.9, 1.0, 7.5, 5000.0):
        scale, wq = coverage_scale(top, n + m + 2, places)
        t = int(np.ceil(np.log2(top))) if top > 0 else 0
        pair_max = 2.0 ** t * scale  # the largest |integer pair cost|
        assert abs(round(top * scale)) <= pair_max
        assert wq > 2 * places * pair_max
        assert wq * (n + m + 3) <= 2 ** 61  # OR-Tools multiplies costs by the nodes
        assert n * wq + places * pair_max < 2 ** 62  # a flow's total cost
    scale, wq = coverage_scale(1.0, n + m + 2, places)
    assert scale >= 2.0 ** 20  # scores still resolved to a millionth


def test_the_dual_bound_derivation_by_hand():
    """Prices from the split network: every pair ``s - u - p <= 0`` off the flow, mentee prices
    may fall below 0 (down to -W), and the bound less W per matched mentee equals the optimum."""
    i, j = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1])
    s = np.array([1.0, 0.8, 0.3, -0.2])
    cap, dem = np.array([1, 1]), np.array([2, 1, 1])
    res = solve_arrays(i, j, s, cap, dem, coverage_weights(cap, dem))
    # two mentors, three mentees: two matched; best is (0, 1) 0.8 + (1, 0) 0.3 = 1.1 against
    # (0, 0) + (2, 1) = 0.8
    assert np.flatnonzero(res.chosen).tolist() == [1, 2]
    cover = coverage_weights(cap, dem)
    used, scale, _ = network(i, j, s, cap, dem, cover)
    cost = integer_costs(s, used, scale)
    u, p, obj, _, pot = prices(i, j, cost, res.chosen, s, dem, cap, scale, cover=cover)
    assert np.all(s[~res.chosen] - u[i[~res.chosen]] - p[j[~res.chosen]] <= 1.0 / scale)
    assert obj == pytest.approx(1.1, abs=1e-6) and obj >= 1.1 - 1e-12
    assert np.all(u >= -cover / scale)
    # the potentials make every residual arc's reduced cost >= 0 (they prove the flow optimal)
    di, dj, ds, dt, _ = potentials(i, j, cost, res.chosen, dem, cap, cover=cover)
    rc_unchosen = cost[~res.chosen] + di[i[~res.chosen]] - dj[j[~res.chosen]]
    assert np.all(rc_unchosen >= 0)


def test_pair_with_demand_two_on_the_bounds_is_the_complete_sets():
    """``pair()`` on a synthetic organisation with demand 2 and coverage_first, forced onto the
    bounds source (and the cached blocks), gives the same pairs as the complete set."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=18, seed=4)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))  # tight: coverage matters
    mentees = mentees.assign(mentors_needed=2)
    prog = {"constraints": {"coverage_first": True}}
    complete = pl.prepare(mentors, mentees, prog)
    whole = pl.pair(mentors, mentees, prog)
    assert whole.status == "optimal"
    key = lambda r: sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    for kind in ("bounds", "blocks"):
        with on_source(kind):
            r = pl.pair(mentors, mentees, prog)
        assert r.status == "optimal", kind
        assert r.certificate["source"] == {"bounds": "BoundedSource", "blocks": "BlockSource"}[kind]
        assert key(r) == key(whole), kind
        assert r.objective == pytest.approx(whole.objective, abs=1e-9)
        pos = result_positions(complete, r)
        assert np.all(pos >= 0) and violations(complete.problem, pos) == []
    # the plain optimum matches fewer mentees (32 against 22): coverage_first counts here, and
    # the flow's count is the engine's (the two-stage MIP that answered before)
    plain = pl.pair(mentors, mentees)
    assert whole.pairs["mentee_id"].nunique() > plain.pairs["mentee_id"].nunique()
    mip = pl.pair(mentors, mentees, {**prog, "solver": "mip"})
    assert mip.pairs["mentee_id"].nunique() == whole.pairs["mentee_id"].nunique()
    assert mip.objective == pytest.approx(whole.objective, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_pair_on_every_source_against_brute_force(seed):
    """Tiny organisations (5 mentees, 6 mentors of capacity 1, demands 1..3; about 45,000
    assignments) through ``pair()`` on the complete set, cached blocks and bounds: the most
    mentees, then the largest total, as brute force over the complete set's problem says (with
    seeds 1, 3, 4 and 5 the best total matches one mentee fewer)."""
    mentors, mentees = synthetic.organisation(n_mentees=5, n_mentors=6, seed=seed)
    mentors = mentors.assign(capacity=1)
    mentees = mentees.assign(mentors_needed=1 + np.arange(len(mentees)) % 3)
    prog = {"constraints": {"coverage_first": True}}
    complete = pl.prepare(mentors, mentees, prog)
    if seed % 2:  # a lock on a mentee of demand above 1: matched already, its other mentors free
        p = complete.problem
        k = int(np.flatnonzero(p.demand[p.pairs.mentee] > 1)[0])
        lock = [[complete.mentee_ids.decode([int(p.pairs.mentee[k])])[0],
                 complete.mentor_ids.decode([int(p.pairs.mentor[k])])[0]]]
        prog = {"constraints": {"coverage_first": True, "locked": lock}}
        complete = pl.prepare(mentors, mentees, prog)
        assert complete.problem.locked.sum() == 1
    p = complete.problem
    assert p.coverage_first and int(p.demand.max()) == 3
    most, best = _brute(p)
    for kind in ("complete", "blocks", "bounds"):
        with on_source(kind):
            r = pl.pair(mentors, mentees, prog)
        pos = result_positions(complete, r)
        assert np.all(pos >= 0), kind
        assert r.status == "optimal", kind
        assert _held_on(p, pos) == (most, pytest.approx(best, abs=1e-9)), kind
        if kind == "bounds":
            assert r.certificate["source"] == "BoundedSource"


@pytest.mark.parametrize("kind", ["complete", "bounds"])
def test_the_rows_order_changes_nothing(kind):
    """Ties broken by the seeded rule over ids: geography alone (people of one city score
    alike: many optima, the tie rule's second flow runs), demands of 2, the rows shuffled: the
    same pairs."""
    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=7)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    mentees = mentees.assign(mentors_needed=2)
    prog = {"constraints": {"coverage_first": True}, "weights": {"geography": 1.0, "experience": 0.0,
            "personality": 0.0, "competency": 0.0, "preference": 0.0, "readiness": 0.0}}
    rng = np.random.default_rng(0)
    key = lambda r: sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    with on_source(kind):
        first = pl.pair(mentors, mentees, prog)
        again = pl.pair(mentors.iloc[rng.permutation(len(mentors))], mentees.iloc[rng.permutation(len(mentees))], prog)
    assert first.status == again.status == "optimal"
    assert first.certificate["ties"]["movable_pairs"] > 0 and first.certificate["ties"]["unique"]
    assert key(first) == key(again)


def test_or_tools_takes_the_weight_at_its_int64_limit():
    """2,000 mentees, 40 mentors: 2,042 nodes and 2,000 places (11 bits each) make
    ``Wq * (n_nodes + 1) = 2**61`` exactly, the limit :func:`coverage_scale` allows (as at
    200,000 x 40,000). OR-Tools solves it (no BAD_COST_RANGE), every mentee that can be matched
    is (capacities 60: 2,400 places), and the total is the plain optimum's (demand 1, room for
    all: the same assignment)."""
    n, m = 2000, 40
    rng = np.random.default_rng(1)
    i, j = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    s = rng.random(n * m)
    cap, dem = np.full(m, 60), np.ones(n, np.int64)
    scale, wq = coverage_scale(float(s.max()), n + m + 2, n)
    assert wq * (n + m + 3) <= 2 ** 61 < 2 * wq * (n + m + 3)  # at the limit
    res = solve_arrays(i, j, s, cap, dem, coverage_weights(cap, dem))
    assert res.optimal and np.all(res.cover == wq) and res.scale == scale
    assert int(res.chosen.sum()) == n
    plain = solve_arrays(i, j, s, cap, dem)
    assert float(s[res.chosen].sum()) == pytest.approx(float(s[plain.chosen].sum()), abs=n / scale)
