"""The dual potentials behind every certificate: shortest distances in the residual network of
an optimal flow, computed by the label-correcting sweeps of ``certify.potentials``, here checked
against a plain Bellman-Ford over an explicit arc list, and warm-started from other potentials."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch.solvers import duals
from mentormatch.solvers.certify import potentials, prices, start_from_prices
from mentormatch.solvers.flow import solve_arrays


def _instance(seed: int, n: int, m: int, density: float, dmax: int, cmax: int, ties: bool):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < density
    i, j = np.nonzero(mask)
    s = rng.integers(1, 5, len(i)).astype(float) if ties else rng.random(len(i)) * 10
    dem = rng.integers(1, dmax + 1, n)
    cap = rng.integers(0, cmax + 1, m)
    return i.astype(np.int64), j.astype(np.int64), s, cap.astype(np.int64), dem.astype(np.int64)


def _residual_arcs(i, j, cost, chosen, dem, cap, cover=None):
    """Every residual arc (tail, head, cost) of the network of ``solve_arrays`` with its
    bypass and, under ``cover`` (coverage_first's weight per mentee), each source arc split
    (the first unit at ``-cover``); nodes are mentees 0..n-1, mentors n..n+m-1, source n+m,
    sink n+m+1."""
    n, m = len(dem), len(cap)
    src, snk = n + m, n + m + 1
    f = np.bincount(i[chosen], minlength=n)
    load = np.bincount(j[chosen], minlength=m)
    w = np.zeros(n, np.int64) if cover is None else np.asarray(cover, np.int64)
    arcs = []
    for a, b, c, x in zip(i.tolist(), j.tolist(), cost.tolist(), chosen.tolist()):
        arcs.append((n + b, a, -c) if x else (a, n + b, c))
    for a in range(n):
        if f[a] < dem[a]:
            arcs.append((src, a, -int(w[a]) if f[a] == 0 else 0))
        if f[a] > 0:
            arcs.append((a, src, int(w[a]) if f[a] == 1 else 0))
    for b in range(m):
        if load[b] < cap[b]:
            arcs.append((n + b, snk, 0))
        if load[b] > 0:
            arcs.append((snk, n + b, 0))
    if f.sum() > 0:
        arcs.append((src, snk, 0))
    if f.sum() < dem.sum():
        arcs.append((snk, src, 0))
    return arcs


def _reference(arcs, n_nodes, start=None):
    """Plain Bellman-Ford from a virtual root joined to every node by a 0-cost arc (by an arc of
    cost ``start[v]`` into each node ``v``: for each ``v``, the least ``start(u) + dist(u, v)``)."""
    d = [0] * n_nodes if start is None else [int(x) for x in start]
    for _ in range(n_nodes + 1):
        changed = False
        for a, b, c in arcs:
            if d[a] + c < d[b]:
                d[b] = d[a] + c
                changed = True
        if not changed:
            return d
    raise AssertionError("negative cycle")


def _solved(seed, n, m, density, dmax, cmax, ties):
    i, j, s, cap, dem = _instance(seed, n, m, density, dmax, cmax, ties)
    res = solve_arrays(i, j, s, cap, dem)
    assert res.optimal
    # the pairs left out of the network (score <= 0 or no room) are not residual arcs
    keep = res.used
    return i[keep], j[keep], s[keep], res.cost[keep], res.chosen[keep], cap, dem, res.scale


CASES = [(seed, n, m, density, dmax, cmax, ties)
         for seed in range(6)
         for (n, m, density, dmax, cmax, ties) in [(12, 5, 0.5, 1, 3, False), (15, 6, 0.35, 2, 2, True),
                                                    (8, 10, 0.6, 1, 1, False), (20, 4, 0.8, 1, 6, True)]]


@pytest.mark.parametrize("case", CASES)
def test_potentials_are_the_shortest_distances_of_the_residual_network(case):
    i, j, s, cost, chosen, cap, dem, _ = _solved(*case)
    n, m = len(dem), len(cap)
    di, dj, ds, dt, sweeps = potentials(i, j, cost, chosen, dem, cap)
    ref = _reference(_residual_arcs(i, j, cost, chosen, dem, cap), n + m + 2)
    assert di.tolist() == ref[:n]
    assert dj.tolist() == ref[n:n + m]
    assert [ds, dt] == ref[n + m:]
    assert sweeps >= 1


@pytest.mark.parametrize("case", CASES)
def test_warm_started_potentials_leave_no_residual_arc_negative_and_price_the_same_optimum(case):
    i, j, s, cost, chosen, cap, dem, scale = _solved(*case)
    n, m = len(dem), len(cap)
    rng = np.random.default_rng(case[0] + 100)
    arcs = _residual_arcs(i, j, cost, chosen, dem, cap)
    cold = prices(i, j, cost, chosen, s, dem, cap, scale)
    starts = [
        (rng.integers(-10**9, 10**9, n), rng.integers(-10**9, 10**9, m), int(rng.integers(-99, 99)), 0),
        start_from_prices(rng.random(n) * 5, rng.random(m) * 5, scale),
        cold[4],  # the cold potentials themselves: nothing to correct
    ]
    for start in starts:
        di, dj, ds, dt, sweeps = potentials(i, j, cost, chosen, dem, cap, start)
        pot = np.concatenate([di, dj, [ds, dt]])
        worst = min(c + pot[a] - pot[b] for a, b, c in arcs)
        assert worst >= 0  # every residual arc: the flow is proved optimal by these potentials
        warm = prices(i, j, cost, chosen, s, dem, cap, scale, start)
        optimum = float(s[chosen].sum())
        # both dual objectives bound the optimum from above, within the rounding of the costs
        for obj in (cold[2], warm[2]):
            assert abs(obj - optimum) <= (len(i) + 1) / scale
    assert potentials(i, j, cost, chosen, dem, cap, cold[4])[4] == 1


@pytest.mark.parametrize("dense_cells", [duals.UNIT_DENSE_CELLS, -1])
@pytest.mark.parametrize("unit_arcs", [duals.UNIT_ARCS, -1])  # demand 1: both sweeps
def test_a_flow_that_is_not_optimal_is_refused(monkeypatch, unit_arcs, dense_cells):
    monkeypatch.setattr(duals, "UNIT_ARCS", unit_arcs)
    monkeypatch.setattr(duals, "UNIT_DENSE_CELLS", dense_cells)
    i, j, s, cost, chosen, cap, dem, _ = _solved(3, 12, 5, 0.6, 1, 3, False)
    # leaving out a chosen pair (score > 0) frees its mentee and mentor: the residual cycle
    # source -> mentee -> mentor -> sink -> source then costs -score * scale < 0
    bad = chosen.copy()
    bad[np.flatnonzero(chosen)[0]] = False
    with pytest.raises(RuntimeError, match="not optimal"):
        potentials(i, j, cost, bad, dem, cap)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 14), st.integers(1, 7), st.floats(0.2, 0.9),
       st.integers(1, 3), st.integers(0, 4), st.booleans(), st.booleans(), st.booleans())
def test_potentials_on_pairs_in_any_order_and_any_start_are_the_exact_distances(
        seed, n, m, density, dmax, cmax, ties, shuffled, warm):
    # pairs in any order (grouped by mentee or not), mentees of demand 1 (one chosen arc into
    # each: no ufunc.at) or more, cold or from random integer potentials: the distances of a
    # plain Bellman-Ford over the explicit arcs, with costs reduced by the start, plus the start
    i, j, s, cost, chosen, cap, dem, _ = _solved(seed, n, m, density, dmax, cmax, ties)
    rng = np.random.default_rng(seed)
    if shuffled:
        perm = rng.permutation(len(i))
        i, j, s, cost, chosen = i[perm], j[perm], s[perm], cost[perm], chosen[perm]
    n, m = len(dem), len(cap)
    start = ((rng.integers(-10**6, 10**6, n), rng.integers(-10**6, 10**6, m),
              int(rng.integers(-99, 99)), int(rng.integers(-99, 99))) if warm else None)
    pot0 = (np.concatenate([start[0], start[1], [start[2], start[3]]]) if warm
            else np.zeros(n + m + 2, np.int64))
    arcs = [(a, b, c + int(pot0[a]) - int(pot0[b]))
            for a, b, c in _residual_arcs(i, j, cost, chosen, dem, cap)]
    want = np.array(_reference(arcs, n + m + 2), dtype=np.int64) + pot0
    di, dj, ds, dt, sweeps = potentials(i, j, cost, chosen, dem, cap, start)
    assert np.concatenate([di, dj, [ds, dt]]).tolist() == want.tolist()
    # relaxing only the arcs of the nodes whose distance fell (what larger networks do) gives
    # the same distances in the same sweeps as relaxing every arc
    # (the generic sweeps, also where demand <= 1 would take _unit_potentials)
    saved = duals.ALL_ARCS, duals.UNIT_ARCS
    try:
        duals.UNIT_ARCS = -1
        every = potentials(i, j, cost, chosen, dem, cap, start)
        duals.ALL_ARCS = 0
        picked = potentials(i, j, cost, chosen, dem, cap, start)
    finally:
        duals.ALL_ARCS, duals.UNIT_ARCS = saved
    assert np.concatenate(every[:2] + (every[2:4],)).tolist() == want.tolist()
    assert np.concatenate(picked[:2] + (picked[2:4],)).tolist() == want.tolist()
    assert picked[4] == every[4]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 14), st.integers(1, 7), st.floats(0.2, 0.9),
       st.integers(0, 4), st.booleans(), st.booleans(), st.booleans())
def test_potentials_with_demand_at_most_one_sweep_the_mentors_alone_to_the_same_distances(
        seed, n, m, density, cmax, ties, zero_demand, every_pair):
    # demand 0 or 1 (assign()'s problems), mentors with no room, and, as the dense path
    # passes them, pairs left out of the network (cost 0) among the arcs: _unit_potentials
    # gives the distances of a plain Bellman-Ford over the explicit arcs, as the generic
    # sweeps do
    i, j, s, cap, dem = _instance(seed, n, m, density, 1, cmax, ties)
    rng = np.random.default_rng(seed)
    if zero_demand:
        dem[rng.random(len(dem)) < 0.3] = 0
    res = solve_arrays(i, j, s, cap, dem)
    assert res.optimal
    keep = np.ones(len(i), bool) if every_pair else res.used
    i, j, cost, chosen = i[keep], j[keep], res.cost[keep], res.chosen[keep]
    n, m = len(dem), len(cap)
    want = _reference(_residual_arcs(i, j, cost, chosen, dem, cap), n + m + 2)
    assert len(i) <= duals.UNIT_ARCS  # (the path under test)
    di, dj, ds, dt, sweeps = potentials(i, j, cost, chosen, dem, cap)
    assert np.concatenate([di, dj, [ds, dt]]).tolist() == want
    assert sweeps >= 1
    saved = duals.UNIT_ARCS, duals.UNIT_DENSE_CELLS
    try:
        duals.UNIT_DENSE_CELLS = -1  # the sweeps by gathers, not the small matrix
        gathered = potentials(i, j, cost, chosen, dem, cap)
        duals.UNIT_ARCS = -1
        generic = potentials(i, j, cost, chosen, dem, cap)
    finally:
        duals.UNIT_ARCS, duals.UNIT_DENSE_CELLS = saved
    assert np.concatenate(generic[:2] + (generic[2:4],)).tolist() == want
    # the matrix's sweeps are the same Jacobi steps as the gathers': as many of them
    assert np.concatenate(gathered[:2] + (gathered[2:4],)).tolist() == want
    assert gathered[4] == sweeps


@pytest.mark.parametrize("n, m", [(3, 0), (0, 2), (0, 0)])
def test_potentials_without_mentees_or_mentors_are_zero_on_both_sweeps(n, m, monkeypatch):
    none = np.zeros(0, np.int64)
    for unit_arcs, dense_cells in ((duals.UNIT_ARCS, duals.UNIT_DENSE_CELLS), (duals.UNIT_ARCS, -1), (-1, -1)):
        monkeypatch.setattr(duals, "UNIT_ARCS", unit_arcs)
        monkeypatch.setattr(duals, "UNIT_DENSE_CELLS", dense_cells)
        di, dj, ds, dt, _ = potentials(none, none, none, np.zeros(0, bool), np.ones(n, np.int64),
                                       np.ones(m, np.int64))
        assert di.tolist() == [0] * n and dj.tolist() == [0] * m and (ds, dt) == (0, 0)
