"""The tie rule (solvers/ties.py): among optima of equal score, every pair source (the complete
set, its sparse certified path, blocks, bounds, assign()'s dense matrix) returns the same pairs,
whatever the order of the rows; the objective stays the brute-force optimum, and the pairs are
the brute-force minimiser of the seeded key sum among the optima."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates, DenseRows
from mentormatch.solvers import AssignmentProblem, SolverOptions, certify
from mentormatch.solvers.certify import solve_flow_any, solve_scored
from mentormatch.solvers.dense import solve_dense
from mentormatch.solvers.quantize import SCALE_BITS, choose_scale
from mentormatch.solvers.ties import canonical, key_bits, pair_key
from mentormatch.testing import feasible_assignments


def _set(problem, sol):
    P = problem.pairs
    return sorted(zip(P.mentee[sol.chosen].tolist(), P.mentor[sol.chosen].tolist()))


@st.composite
def tied_problems(draw, max_n: int = 5, max_m: int = 3):
    """Small integer-valued (many exact ties) score matrices, -inf for some ineligible pairs,
    capacities and demands."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    grid = draw(st.lists(st.integers(-1, 2), min_size=n * m, max_size=n * m))
    s = np.array(grid, dtype=float).reshape(n, m)
    s[s < 0] = -np.inf
    cap = np.array(draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)), dtype=np.int64)
    dem = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=np.int64)
    return s, cap, dem


def _sources(s, cap, dem, mentee_rank=None, mentor_rank=None):
    """Pairs (as sorted (mentee, mentor) lists) from every solver-level source, forced small."""
    n, m = s.shape
    elig = np.isfinite(s)
    cand = Candidates.from_mask(elig)
    prob = AssignmentProblem(cand, s[elig], cap.astype(float), demand=dem.astype(float))
    out = {"complete": solve_flow_any(prob, SolverOptions()),
           "complete_sparse": solve_flow_any(prob, SolverOptions(top_k=1))}
    pairs = {k: _set(prob, v) for k, v in out.items()}
    objective = {k: v.objective for k, v in out.items()}
    for k in (1, None):
        p, sol = solve_scored(s, cap, demand=dem, options=SolverOptions(top_k=k))
        pairs[f"blocks_{k}"], objective[f"blocks_{k}"] = _set(p, sol), sol.objective
        p, sol = solve_dense(DenseRows(s), cap, demand=dem, options=SolverOptions(top_k=k),
                             mentee_rank=mentee_rank, mentor_rank=mentor_rank)
        pairs[f"dense_{k}"], objective[f"dense_{k}"] = _set(p, sol), sol.objective
        assert sol.status == "optimal"
    return prob, pairs, objective


@settings(max_examples=150, deadline=None)
@given(tied_problems())
def test_every_source_gives_the_brute_force_tie_rule_optimum(case):
    s, cap, dem = case
    prob, pairs, objective = _sources(s, cap, dem)
    first = pairs["complete"]
    assert all(v == first for v in pairs.values()), pairs
    # the objective is the brute-force optimum ...
    brute = feasible_assignments(prob)
    cost = np.round(prob.score * 2.0 ** SCALE_BITS).astype(np.int64)
    totals = np.where(brute.feasible, brute_totals(brute, cost), np.iinfo(np.int64).min)
    best = totals.max()
    assert all(v == pytest.approx(best / 2.0 ** SCALE_BITS, abs=1e-9) for v in objective.values())
    # ... and, where the first key sum isolates one optimum, the pairs are that optimum
    n, m = s.shape
    bits = key_bits(n + m + 2, int(min(dem.sum(), cap.sum())))
    key = (pair_key(prob.pairs.mentee, prob.pairs.mentor, 1) >> np.uint64(64 - bits)).astype(np.int64)
    usable = prob.score > 0  # pairs scoring <= 0 are never chosen (flow.py)
    optima = np.flatnonzero((totals == best) & ~(brute.x[:, ~usable].any(axis=1)))
    sums = brute.x[optima].astype(np.int64) @ key
    winners = optima[sums == sums.min()]
    if len(winners) == 1:
        got = sorted(zip(prob.pairs.mentee[brute.x[winners[0]]].tolist(),
                         prob.pairs.mentor[brute.x[winners[0]]].tolist()))
        assert first == got


def brute_totals(brute, cost):
    return brute.x.astype(np.int64) @ cost


@settings(max_examples=60, deadline=None)
@given(tied_problems(max_n=7, max_m=4), st.randoms(use_true_random=False))
def test_permuting_rows_and_columns_with_their_ranks_changes_no_pair(case, rnd):
    """The keys follow ranks (ids), not positions: the same people in another row order, with
    their ranks, get the same mentors, on every source."""
    s, cap, dem = case
    n, m = s.shape
    rows, cols = list(range(n)), list(range(m))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    rows, cols = np.array(rows), np.array(cols)
    _, base, _ = _sources(s, cap, dem)
    # the permuted problem: row k holds the person rows[k], whose rank is rows[k]
    _, dense_only, _ = _sources(s[np.ix_(rows, cols)], cap[cols], dem[rows], rows, cols)
    back = sorted((int(rows[i]), int(cols[j])) for i, j in dense_only["dense_1"])
    assert back == base["complete"]


def test_canonical_keeps_the_objective_and_picks_one_optimum_from_any():
    """Every mentee equally good with every mentor (a face of many optima): from two different
    optima the rule returns the same one, of the same score."""
    n, m = 6, 3
    cand = Candidates.complete(n, m)
    s = np.ones(n * m)
    prob = AssignmentProblem(cand, s, np.full(m, 2.0))
    a = solve_flow_any(prob, SolverOptions())
    info = a.certificate["ties"]
    assert info["movable_pairs"] > 0 and info["stages"] >= 1 and info["unique"]
    # another optimum: the reversed one, with its own proof of optimality
    i, j = cand.mentee, cand.mentor
    other = (i == (2 * (m - 1 - j))) | (i == (2 * (m - 1 - j) + 1))
    scale = 2.0 ** SCALE_BITS
    pot = (np.zeros(n, np.int64), np.full(m, -int(scale)), 0, -int(scale))
    dem, cap = np.ones(n, np.int64), np.full(m, 2, np.int64)
    picked, _ = canonical(i, j, s, other, cap, dem, pot, scale)
    assert sorted(np.flatnonzero(picked)) == sorted(a.chosen.tolist())
    assert picked.sum() == 6


def test_one_quantum_whatever_the_pairs_held():
    """The scale does not depend on which pairs a source holds, only on the scores' power of
    two and the problem's size; it is 2**36 for scores below 8 (pair()'s) up to a million
    mentees; doubling every score halves it (the integer costs stay the same)."""
    assert choose_scale(6.0, 120_002, 100_000) == 2.0 ** 36
    assert choose_scale(5.0, 120_002, 100_000) == choose_scale(7.9, 120_002, 100_000)
    assert choose_scale(6.0, 1_200_002, 1_000_000) == 2.0 ** 36
    assert choose_scale(12.0, 1_000, 500) == choose_scale(6.0, 1_000, 500) / 2
    big = choose_scale(1e6, 100, 50)
    assert big < 2.0 ** SCALE_BITS and big * 2.0 ** 20 <= 2.0 ** 39
    assert 8 <= key_bits(120_002, 100_000) <= 40


def _duplicated(seed: int, n: int = 120, m: int = 30):
    """An organisation whose people are copies of a few profiles (ids kept): many exact ties."""
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for frame, k in ((mentors, 4), (mentees, 5)):
        copy = frame.iloc[rng.integers(0, k, size=len(frame))].copy()
        copy["id"] = frame["id"].to_numpy()
        copy["manager_id"] = ""  # copies would manage themselves
        copy.index = frame.index
        out.append(copy)
    return out


def _pairs(result):
    return sorted(map(tuple, result.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))


@pytest.mark.parametrize("seed", [0, 2])
def test_pair_gives_the_same_pairs_on_every_source_and_assign_agrees(monkeypatch, seed):
    mentors, mentees = _duplicated(seed)
    results = {"complete": pl.pair(mentors, mentees)}
    with monkeypatch.context() as mp:
        mp.setattr(certify, "SPARSE_THRESHOLD", 0)
        results["complete_sparse"] = pl.pair(mentors, mentees)
    with monkeypatch.context() as mp:
        mp.setattr(pl, "LARGE_PAIRS", 100)
        mp.setattr(pl, "USE_BOUNDS", False)
        results["blocks"] = pl.pair(mentors, mentees)
    with monkeypatch.context() as mp:
        mp.setattr(pl, "LARGE_PAIRS", 100)
        mp.setattr(pl, "SCORE_CACHE_PAIRS", 200)
        results["bounds"] = pl.pair(mentors, mentees)
    methods = {k: r.certificate["method"] for k, r in results.items()}
    assert methods["bounds"].endswith("on_bounds") and methods["blocks"].endswith("dual_check")
    assert methods["complete_sparse"].startswith("sparse")
    assert results["complete"].certificate["ties"]["movable_pairs"] > 0  # the ties are real
    base = _pairs(results["complete"])
    for k, r in results.items():
        assert r.status == "optimal", k
        assert _pairs(r) == base, k
    # shuffled input rows: the same pairs
    shuffled = pl.pair(mentors.sample(frac=1, random_state=seed), mentees.sample(frac=1, random_state=seed + 1))
    assert _pairs(shuffled) == base
    # assign() on the complete set's scores, rows and columns shuffled: the same pairs
    r = results["complete"]
    prob = r.data["problem"]
    s = np.full((prob.pairs.n_mentees, prob.pairs.n_mentors), -np.inf)
    s[prob.pairs.mentee, prob.pairs.mentor] = prob.score
    scores = pd.DataFrame(s, index=r.data["mentee_ids"].ids, columns=r.data["mentor_ids"].ids)
    rng = np.random.default_rng(seed)
    scores = scores.iloc[rng.permutation(len(scores)), rng.permutation(scores.shape[1])]
    a = mm.assign(scores, pd.Series(prob.capacity, index=r.data["mentor_ids"].ids))
    assert _pairs(a) == base
    assert a.objective == pytest.approx(r.objective, abs=1e-9)


def _on_every_source(monkeypatch, mentors, mentees, programme) -> dict:
    """``pair()`` on the complete set, on cached blocks and on bounds (sizes forced small)."""
    results = {"complete": pl.pair(mentors, mentees, programme=programme)}
    with monkeypatch.context() as mp:
        mp.setattr(pl, "LARGE_PAIRS", 100)
        mp.setattr(pl, "USE_BOUNDS", False)
        results["blocks"] = pl.pair(mentors, mentees, programme=programme)
    with monkeypatch.context() as mp:
        mp.setattr(pl, "LARGE_PAIRS", 100)
        mp.setattr(pl, "SCORE_CACHE_PAIRS", 200)
        results["bounds"] = pl.pair(mentors, mentees, programme=programme)
    return results


@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("programme", [{"solver": "maxmin"},
                                       {"constraints": {"coverage_first": True}}],
                         ids=["maxmin", "coverage_first"])
def test_maxmin_and_coverage_first_give_the_same_pairs_on_every_source(monkeypatch, seed, programme):
    """Max-min and coverage_first run the same certified flows on s + W [s >= t] on every
    source (the complete set through solvers.bottleneck.solve_held), so the tie rule picks the
    same optimum: the same pairs, not only the same objective, on people with many exact ties."""
    mentors, mentees = _duplicated(seed)
    results = _on_every_source(monkeypatch, mentors, mentees, programme)
    base = _pairs(results["complete"])
    worst = results["complete"].pairs["score"].min()
    for k, r in results.items():
        assert r.status == "optimal", k
        assert r.objective == pytest.approx(results["complete"].objective, abs=1e-9), k
        assert r.pairs["score"].min() == pytest.approx(worst, abs=1e-12), k
        assert _pairs(r) == base, k
    shuffled = pl.pair(mentors.sample(frac=1, random_state=seed),
                       mentees.sample(frac=1, random_state=seed + 1), programme=programme)
    assert _pairs(shuffled) == base


@settings(max_examples=60, deadline=None)
@given(tied_problems(max_n=6, max_m=3), st.data())
def test_locked_pairs_stay_and_the_rest_follows_the_rule_on_every_source(case, data):
    s, cap, dem = case
    n, m = s.shape
    elig = np.isfinite(s)
    cand = Candidates.from_mask(elig)
    # lock at most one eligible pair per mentee with room, within the mentors' capacities
    left = cap.copy()
    lock_i, lock_j = [], []
    for k in range(len(cand)):
        i, j = int(cand.mentee[k]), int(cand.mentor[k])
        if dem[i] > 0 and left[j] > 0 and i not in lock_i and data.draw(st.booleans()):
            lock_i.append(i)
            lock_j.append(j)
            left[j] -= 1
    locked = np.zeros(len(cand), bool)
    locked[cand.locate(np.array(lock_i, np.int64), np.array(lock_j, np.int64))] = True
    prob = AssignmentProblem(cand, s[elig], cap.astype(float), demand=dem.astype(float), locked=locked)
    got = {"complete": _set(prob, solve_flow_any(prob, SolverOptions())),
           "complete_sparse": _set(prob, solve_flow_any(prob, SolverOptions(top_k=1)))}
    li, lj = np.array(lock_i, np.int64), np.array(lock_j, np.int64)
    p, sol = solve_scored(s, cap, demand=dem, locked=(li, lj), options=SolverOptions(top_k=1))
    got["blocks"] = _set(p, sol)
    p, sol = solve_dense(DenseRows(s), cap, demand=dem, locked=(li, lj), options=SolverOptions(top_k=1))
    got["dense"] = _set(p, sol)
    assert all(v == got["complete"] for v in got.values()), got
    assert set(zip(lock_i, lock_j)) <= set(got["complete"])


def test_the_rule_on_the_optimal_face_picks_what_it_picks_on_every_pair(monkeypatch):
    """``ties.FACE_ONLY``: the rule given only the pairs that can be optimal (as it is) and
    every pair of the sparse set (as it was) picks the same pairs with the same record, on every
    source, on an organisation of copies of a few profiles (many exact ties)."""
    from mentormatch.solvers import ties

    mentors, mentees = _duplicated(0)
    face = _on_every_source(monkeypatch, mentors, mentees, None)
    monkeypatch.setattr(ties, "FACE_ONLY", False)
    every = _on_every_source(monkeypatch, mentors, mentees, None)
    assert face["complete"].certificate["ties"]["movable_pairs"] > 0  # the ties are real
    for source, r in face.items():
        assert _pairs(r) == _pairs(every[source]), source
        assert r.certificate["ties"] == every[source].certificate["ties"], source
        assert r.objective == every[source].objective, source


def _residual_network(rng, n_nodes: int, n_arcs: int):
    """A flow network whose flow is optimal: random integer potentials ``pi`` and arcs whose
    costs keep every residual arc's reduced cost ``c + pi(tail) - pi(head)`` >= 0 (an arc
    strictly inside its capacity is tight), with zero-cost arcs and parallel arcs among them."""
    pi = rng.integers(-50, 50, n_nodes)
    tail = rng.integers(0, n_nodes, n_arcs)
    head = rng.integers(0, n_nodes, n_arcs)
    cap = rng.integers(1, 3, n_arcs)
    flow = np.where(rng.random(n_arcs) < 0.5, 0, np.where(rng.random(n_arcs) < 0.5, cap, 1))
    gap = pi[head] - pi[tail]
    slack = rng.integers(0, 3, n_arcs)
    cost = np.where(flow == 0, gap + slack, np.where(flow == cap, gap - slack, gap))
    return tail, head, cap, flow, cost.astype(np.int64)


def _shortest_by_plain_sweeps(tail, head, cap, flow, cost, n_nodes):
    """Bellman-Ford from a virtual root (an arc of cost 0 to every node), every residual arc
    relaxed in every sweep, in plain Python: the definition ``residual.residual_distances`` must meet."""
    arcs = [(int(t), int(h), int(c)) for t, h, k, f, c in zip(tail, head, cap, flow, cost) if f < k]
    arcs += [(int(h), int(t), -int(c)) for t, h, f, c in zip(tail, head, flow, cost) if f > 0]
    d = [0] * n_nodes
    for _ in range(n_nodes + 1):
        new = list(d)
        for t, h, c in arcs:
            new[h] = min(new[h], d[t] + c)
        if new == d:
            return np.array(d, np.int64)
        d = new
    raise AssertionError("negative cycle")


@pytest.mark.parametrize("all_arcs", [None, 0])
@pytest.mark.parametrize("seed", range(12))
def test_second_flow_distances_are_the_plain_bellman_ford_distances(monkeypatch, seed, all_arcs):
    """``residual.residual_distances`` relaxes only the arcs out of nodes whose distance fell (above
    ``duals.ALL_ARCS`` arcs; ``all_arcs=0`` forces that path on every network here): the
    distances equal plain Bellman-Ford's, and they prove the flow optimal (every residual arc's
    reduced cost >= 0, each node at 0 or reached by a tight arc)."""
    from mentormatch.solvers import duals, residual

    if all_arcs is not None:
        monkeypatch.setattr(duals, "ALL_ARCS", all_arcs)
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(2, 60))
    net = _residual_network(rng, n_nodes, int(rng.integers(1, 8 * n_nodes)))
    d = residual.residual_distances(*net, n_nodes)
    assert d.tolist() == _shortest_by_plain_sweeps(*net, n_nodes).tolist()
    tail, head, cap, flow, cost = net
    rc = cost + d[tail] - d[head]
    assert (rc[flow < cap] >= 0).all() and (rc[flow > 0] <= 0).all()
    assert (d <= 0).all()


def test_tied_integer_scores_at_size_give_the_optimum_and_the_same_pairs_in_any_row_order():
    """``assign()`` on 300 x 60 scores from 0-3 (a large optimal face: the tie rule's second
    flow has more arcs than ``duals.ALL_ARCS``, so its distances take the path that relaxes
    only the arcs of nodes that moved): the total equals scipy's linear_sum_assignment on the
    capacity-expanded matrix, every capacity holds, and shuffling rows and columns gives the
    same pairs."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(5)
    n, m, c = 300, 60, 4
    s = rng.integers(0, 4, (n, m)).astype(float)
    f = rng.random((n, m)) < 0.02
    ids_e, ids_m = [f"e{k}" for k in range(n)], [f"m{k}" for k in range(m)]
    scores = pd.DataFrame(s, index=ids_e, columns=ids_m)
    forbidden = pd.DataFrame(f, index=ids_e, columns=ids_m)
    cap = pd.Series(float(c), index=ids_m)
    r = mm.assign(scores, cap, forbidden=forbidden)
    assert r.status == "optimal"
    assert r.certificate["ties"]["movable_pairs"] > 4096
    gain = np.repeat(np.where(f, 0.0, np.maximum(s, 0.0)), c, axis=1)  # each mentor c slots
    ri, ci = linear_sum_assignment(gain, maximize=True)
    assert r.objective == pytest.approx(gain[ri, ci].sum(), abs=1e-9)
    got = r.pairs
    assert got["score"].sum() == pytest.approx(r.objective, abs=1e-9)
    assert got["mentor_id"].value_counts().max() <= c and got["mentee_id"].is_unique
    assert not any(forbidden.at[e, j] for e, j in zip(got["mentee_id"], got["mentor_id"]))
    pi, pj = rng.permutation(n), rng.permutation(m)
    again = mm.assign(scores.iloc[pi, pj], cap.iloc[pj], forbidden=forbidden.iloc[pi, pj])
    pairs = lambda x: sorted(zip(x.pairs["mentee_id"], x.pairs["mentor_id"]))  # noqa: E731
    assert pairs(again) == pairs(r)


@pytest.mark.parametrize("pot, arc", [
    ((np.array([0, 0]), np.array([0, 0]), 0, 0), "an unchosen pair of positive gain"),
    ((np.array([0, 0]), np.array([-2**30, -2**30]), 5, -2**30), "a full source arc of positive reduced cost"),
])
def test_potentials_that_do_not_prove_the_optimum_are_refused(pot, arc):
    """Every arc is checked, the pairs' and the source's, sink's and bypass's, before the rule
    decides whether anything can move: two mentees, two mentors, every score 1."""
    i, j = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    s, c, d = np.ones(4), np.ones(2, np.int64), np.ones(2, np.int64)
    with pytest.raises(ValueError, match="do not prove"):
        canonical(i, j, s, np.array([True, False, False, True]), c, d, pot, 2.0**30)


@pytest.mark.parametrize("start", [1, 8])
@pytest.mark.parametrize("seed", range(10))
def test_second_flow_from_a_few_arcs_reaches_the_least_key_sum_over_every_arc(monkeypatch, seed, start):
    """``ties.second_flow`` solves on each tail's arcs of smallest key and adds the arcs its
    distances price below 0 (``FACE_START=1`` forces such rounds): its key sum equals the
    least over every arc by scipy's ``milp`` (HiGHS), the flow meets every capacity and node
    supply, and the distances it returns prove it optimal over every arc."""
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import coo_matrix

    from mentormatch.solvers import ties

    monkeypatch.setattr(ties, "FACE_START", start)
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(4, 40)), int(rng.integers(2, 12))
    ii, jj = np.nonzero(rng.random((n, m)) < 0.6)
    tail, head = ii.astype(np.int64), (n + jj).astype(np.int64)
    cap = np.ones(len(tail), np.int64)
    bits = 20
    key = (pair_key(ii, jj) >> np.uint64(64 - bits)).astype(np.int64)
    # a feasible flow: a greedy matching, each mentor taking up to 3; its supplies define the face
    load, flow = np.zeros(m, np.int64), np.zeros(len(tail), np.int64)
    taken = np.zeros(n, bool)
    for a in rng.permutation(len(tail)):
        if not taken[ii[a]] and load[jj[a]] < 3:
            taken[ii[a]], load[jj[a]], flow[a] = True, load[jj[a]] + 1, 1
    n_nodes = n + m
    supply = np.zeros(n_nodes, np.int64)
    np.add.at(supply, tail, flow)
    np.subtract.at(supply, head, flow)
    out, dist, solves = ties.second_flow(tail, head, cap, flow, key, supply, n_nodes, bits)
    net = np.zeros(n_nodes, np.int64)
    np.add.at(net, tail, out)
    np.subtract.at(net, head, out)
    assert net.tolist() == supply.tolist() and ((out >= 0) & (out <= cap)).all()
    rc = key + dist[tail] - dist[head]
    assert (rc[out < cap] >= 0).all() and (rc[out > 0] <= 0).all()
    a = coo_matrix((np.ones(len(tail)), (tail, np.arange(len(tail)))), shape=(n_nodes, len(tail)))
    b = coo_matrix((np.ones(len(tail)), (head, np.arange(len(tail)))), shape=(n_nodes, len(tail)))
    best = milp(key.astype(float), constraints=LinearConstraint((a - b).tocsr(), supply, supply),
                integrality=np.ones(len(tail)), bounds=(0, 1))
    assert best.status == 0 and int(key @ out) == round(best.fun)
    if start == 1 and seed == 0:
        assert solves > 1  # the rounds that add arcs ran


@pytest.mark.parametrize("seed", range(8))
def test_strong_components_of_arcs_held_twice_are_networkx_components(seed):
    """``residual.strong_components`` merges parallel arcs before scipy's strong components, which go
    wrong on a CSR graph holding an arc twice (coverage_first's two source arcs of a mentee
    are such a pair): the partition is networkx's."""
    import networkx as nx

    from mentormatch.solvers.residual import strong_components

    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(5, 60))
    n_arcs = int(rng.integers(n_nodes, 6 * n_nodes))
    tail, head = rng.integers(0, n_nodes, n_arcs), rng.integers(0, n_nodes, n_arcs)
    tail, head = np.concatenate([tail, tail[: n_arcs // 3]]), np.concatenate([head, head[: n_arcs // 3]])
    assert len(set(zip(tail.tolist(), head.tolist()))) < len(tail)  # (arcs held twice)
    lab = strong_components(tail, head, n_nodes)
    g = nx.DiGraph()
    g.add_nodes_from(range(n_nodes))
    g.add_edges_from(zip(tail.tolist(), head.tolist()))
    want = {frozenset(c) for c in nx.strongly_connected_components(g)}
    got = {frozenset(np.flatnonzero(lab == x).tolist()) for x in np.unique(lab)}
    assert got == want
