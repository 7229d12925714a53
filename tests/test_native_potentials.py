"""The compiled dual potentials (``mentormatch._native.flow.potentials``, a FIFO queue with
Tarjan's subtree disassembly) against their numpy twin (``duals.numpy_potentials``) and a plain
Bellman-Ford over an explicit list of residual arcs, on optimal flows of OR-Tools: demands and
capacities 0..5, ties, coverage_first's split source arcs, pairs in any order, cold and warm
starts (the last round's potentials on a network with more pairs, and random ones). Integer
costs make the distances exact, so every route must give the same integers; the potentials
returned must leave every residual arc a reduced cost >= 0 (they prove the flow optimal)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch import _native
from mentormatch.solvers import duals
from mentormatch.solvers.flow import solve_arrays
from mentormatch.solvers.quantize import coverage_weights

from test_potentials import _reference, _residual_arcs


@pytest.fixture(scope="module")
def kernel():
    try:
        from mentormatch._native import flow
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("mentormatch._native.flow was not built")
    return flow


def _run(kernel, i, j, cost, chosen, dem, cap, start=None, cover=None):
    return kernel.potentials(i.astype(np.int64), j.astype(np.int64), cost.astype(np.int64),
                             chosen.astype(np.uint8), dem.astype(np.int64), cap.astype(np.int64), start, cover)


def _flat(got):
    return np.concatenate([got[0], got[1], [got[2], got[3]]]).tolist()


def _network(rng, n, m, density, dmax, cmax, ties, with_cover):
    mask = rng.random((n, m)) < density
    i, j = np.nonzero(mask)
    s = rng.integers(-1, 5, len(i)).astype(float) if ties else rng.normal(2.0, 2.0, len(i))
    dem = rng.integers(0, dmax + 1, n).astype(np.int64)
    cap = rng.integers(0, cmax + 1, m).astype(np.int64)
    cover = coverage_weights(cap, dem) if with_cover else None
    return i.astype(np.int64), j.astype(np.int64), s, cap, dem, cover


def _optimum(i, j, s, cap, dem, cover, every_pair):
    res = solve_arrays(i, j, s, cap, dem, cover)
    assert res.optimal
    keep = np.ones(len(i), bool) if every_pair else res.used
    return keep, res.cost, res.chosen


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 16), st.integers(1, 8), st.floats(0.2, 0.9),
       st.integers(1, 5), st.integers(0, 5), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_kernel_gives_the_numpy_twins_potentials_cold_and_from_the_last_round(
        kernel, seed, n, m, density, dmax, cmax, ties, with_cover, shuffled, every_pair):
    rng = np.random.default_rng(seed)
    i, j, s, cap, dem, cover = _network(rng, n, m, density, dmax, cmax, ties, with_cover)
    if shuffled:
        perm = rng.permutation(len(i))
        i, j, s = i[perm], j[perm], s[perm]
    # round 1 on some of the pairs, from cold; round 2 on all of them from round 1's potentials
    # (as certified_rounds does), then from random integer potentials
    first = rng.random(len(i)) < 0.6
    keep, cost, chosen = _optimum(i[first], j[first], s[first], cap, dem, cover, every_pair)
    args = (i[first][keep], j[first][keep], cost[keep], chosen[keep], dem, cap)
    cold = _run(kernel, *args, cover=cover)
    assert _flat(cold) == _flat(duals.numpy_potentials(*args, cover=cover))
    assert _flat(cold) == _reference(_residual_arcs(*args, cover), n + m + 2)
    keep, cost, chosen = _optimum(i, j, s, cap, dem, cover, every_pair)
    args = (i[keep], j[keep], cost[keep], chosen[keep], dem, cap)
    arcs = _residual_arcs(*args, cover)
    randoms = (rng.integers(-10 ** 6, 10 ** 6, n), rng.integers(-10 ** 6, 10 ** 6, m),
               int(rng.integers(-99, 99)), int(rng.integers(-99, 99)))
    for start in (cold[:4], randoms):
        got = _run(kernel, *args, start=start, cover=cover)
        assert _flat(got) == _flat(duals.numpy_potentials(*args, start=start, cover=cover))
        flat = np.concatenate([start[0], start[1], [start[2], start[3]]])
        assert _flat(got) == _reference(arcs, n + m + 2, flat)
        pot = _flat(got)
        assert min((c + pot[a] - pot[b] for a, b, c in arcs), default=0) >= 0  # a proof of optimality
        again = _run(kernel, *args, start=got[:4], cover=cover)  # nothing left to correct: one pass
        assert _flat(again) == pot and again[4] == 1


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dmax, with_cover", [(1, False), (3, False), (2, True)])
def test_kernel_on_long_chains_of_a_larger_network_routed_as_potentials_is(kernel, monkeypatch, seed, dmax,
                                                                           with_cover):
    """300 x 40 with scarce places: shortest paths of many arcs, subtrees taken apart often;
    ``potentials`` under ``MENTORMATCH_NATIVE=1`` (the kernel) and ``0`` (the numpy sweeps)
    give the same integers, and a proof."""
    rng = np.random.default_rng(seed)
    i, j, s, cap, dem, cover = _network(rng, 300, 40, 0.15, dmax, 3, bool(seed % 2), with_cover)
    first = rng.random(len(i)) < 0.5
    keep, cost, chosen = _optimum(i[first], j[first], s[first], cap, dem, cover, False)
    pot = duals.potentials(i[first][keep], j[first][keep], cost[keep], chosen[keep], dem, cap, None, cover)[:4]
    keep, cost, chosen = _optimum(i, j, s, cap, dem, cover, False)
    args = (i[keep], j[keep], cost[keep], chosen[keep], dem, cap)
    routed = {}
    for name, module in (("kernel", kernel), ("numpy", None)):
        monkeypatch.setitem(_native._chosen, "flow", module)
        routed[name] = [_flat(duals.potentials(*args, start, cover)) for start in (None, pot)]
    assert routed["kernel"] == routed["numpy"]
    assert routed["kernel"] == [_flat(_run(kernel, *args, start=start, cover=cover)) for start in (None, pot)]
    arcs = _residual_arcs(*args, cover)
    for flat in routed["kernel"]:
        assert min(c + flat[a] - flat[b] for a, b, c in arcs) >= 0


@pytest.mark.parametrize("with_cover", [False, True])
@pytest.mark.parametrize("warm", [False, True])
def test_a_flow_that_is_not_optimal_is_refused_by_the_kernel_as_by_the_numpy_sweeps(kernel, monkeypatch,
                                                                                     with_cover, warm):
    rng = np.random.default_rng(7)
    i, j, s, cap, dem, cover = _network(rng, 12, 5, 0.6, 2, 3, False, with_cover)
    s = np.abs(s) + 0.5  # every pair worth taking
    keep, cost, chosen = _optimum(i, j, s, cap, dem, cover, False)
    start = duals.numpy_potentials(i[keep], j[keep], cost[keep], chosen[keep], dem, cap, None, cover)[:4] if warm \
        else None
    # leaving out a chosen pair frees its mentee and mentor: the cycle source -> mentee ->
    # mentor -> sink -> source then costs -score * scale < 0
    bad = chosen[keep].copy()
    bad[np.flatnonzero(bad)[0]] = False
    args = (i[keep], j[keep], cost[keep], bad, dem, cap)
    assert _run(kernel, *args, start=start, cover=cover) is None
    for module in (kernel, None):
        monkeypatch.setitem(_native._chosen, "flow", module)
        with pytest.raises(RuntimeError, match="not optimal"):
            duals.potentials(*args, start, cover)


def test_kernel_refuses_a_pair_outside_the_people_and_arrays_that_disagree(kernel):
    one = np.array([0], np.int64)
    with pytest.raises(ValueError, match="outside 1 mentees and 1 mentors"):
        kernel.potentials(one, one + 1, one, np.zeros(1, np.uint8), one + 1, one + 1, None, None)
    with pytest.raises(ValueError, match="one length"):
        kernel.potentials(one, np.zeros(2, np.int64), one, np.zeros(1, np.uint8), one + 1, one + 1, None, None)
    with pytest.raises(ValueError, match="one weight per mentee"):
        kernel.potentials(one, one, one, np.zeros(1, np.uint8), one + 1, one + 1, None, np.zeros(2, np.int64))


@pytest.mark.parametrize("n, m", [(3, 0), (0, 2), (0, 0)])
def test_kernel_without_mentees_or_mentors_gives_zeros(kernel, n, m):
    none = np.zeros(0, np.int64)
    di, dj, ds, dt, passes = kernel.potentials(none, none, none, np.zeros(0, np.uint8), np.ones(n, np.int64),
                                               np.ones(m, np.int64), None, None)
    assert di.tolist() == [0] * n and dj.tolist() == [0] * m and (ds, dt) == (0, 0) and passes == 1
