"""The warm repair of a sparse flow (``solvers.warm``): from an optimum and its
potentials, the optimum after pairs are added, checked against a cold OR-Tools solve of the
whole set and against the potentials' own proof."""
from __future__ import annotations

import os

import numpy as np
import pytest

from mentormatch import _native
from mentormatch.solvers import warm
from mentormatch.solvers.certify import potentials, prices
from mentormatch.solvers.flow import network, solve_arrays
from mentormatch.solvers.quantize import integer_costs
from _kernels import kernel_mode
from test_potentials import _instance as _random_instance


def _instance(seed: int, n: int, m: int, density: float, dmax: int, cmax: int, ties: bool):
    """test_potentials' random instance, with its largest score (10) on its first pair, in
    every subset below (one scale for old and new pairs), and room at that pair's mentor (a
    pair with a full mentor is not in the network)."""
    i, j, s, cap, dem = _random_instance(seed, n, m, density, dmax, cmax, ties)
    s[0] = 10.0
    cap[j[0]] = max(cap[j[0]], 1)
    return i, j, s, cap, dem


SHAPES = [(14, 6, 0.5, 1, 3, False),  # mentees outnumber the places
          (16, 7, 0.4, 2, 2, True),  # demand 2, many ties
          (8, 10, 0.6, 1, 1, False),  # places outnumber the mentees
          (20, 5, 0.8, 1, 6, True),
          (30, 12, 0.3, 3, 4, False)]
CASES = [(seed, *shape) for seed in range(8) for shape in SHAPES]


@pytest.fixture(autouse=True, params=["scipy", "compiled", "compiled-phases", "compiled-one", "compiled-meet"])
def path(request, monkeypatch):
    """Every test on both repairs: the scipy phases and the compiled kernel
    (:mod:`mentormatch._native.flow`; skipped where it was not built, except under ``CI``), the
    kernel as routed, in phases throughout, and one search a unit throughout (from the excess,
    and from both ends)."""
    kernel = None
    if request.param.startswith("compiled"):
        kernel = _native.flow_kernel() if _native._wanted() is not False else None
        if kernel is None:
            try:
                from mentormatch._native import flow as kernel
            except ImportError:
                if os.environ.get("CI"):
                    raise
                pytest.skip("mentormatch._native.flow was not built")
    monkeypatch.setitem(_native._chosen, "flow", kernel)
    kernel_mode(monkeypatch, request.param.removeprefix("compiled-"))
    return request.param


def _feasible(i, j, chosen, used, cap, dem):
    assert not (chosen & ~used).any()  # only pairs in the network
    assert (np.bincount(j[chosen], minlength=len(cap)) <= cap).all()
    assert (np.bincount(i[chosen], minlength=len(dem)) <= dem).all()


def _proves(i, j, cost, chosen, used, cap, dem, pot):
    """The potentials prove ``chosen`` optimal: started from them, the shortest distances of
    the residual network do not move (one sweep, same values)."""
    di, dj, ds, dt, sweeps = potentials(i[used], j[used], cost[used], chosen[used], dem, cap, pot)
    assert sweeps == 1
    assert (di == pot[0]).all() and (dj == pot[1]).all() and (ds, dt) == (pot[2], pot[3])


@pytest.fixture
def unlimited(monkeypatch):
    monkeypatch.setattr(warm, "MAX_VIOLATORS", 10**9)
    monkeypatch.setattr(warm, "MAX_PHASES", 10**9)


@pytest.mark.parametrize("case", CASES)
def test_a_repair_from_the_empty_flow_is_a_whole_solve_and_equals_or_tools(unlimited, case):
    """From no flow and zero potentials every positive pair is a violator, so the repair is a
    whole successive-shortest-paths solve: its cost must be OR-Tools' optimum."""
    i, j, s, cap, dem = _instance(*case)
    cold = solve_arrays(i, j, s, cap, dem)
    assert cold.optimal
    zero = (np.zeros(len(dem), np.int64), np.zeros(len(cap), np.int64), 0, 0)
    rep = warm.repair(i, j, cold.cost, cold.used, np.zeros(len(i), bool), dem, cap, zero)
    assert rep is not None and rep.violators == int(cold.used.sum())
    _feasible(i, j, rep.chosen, cold.used, cap, dem)
    assert cold.cost[rep.chosen].sum() == cold.cost[cold.chosen].sum()
    _proves(i, j, cold.cost, rep.chosen, cold.used, cap, dem, rep.pot)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("share", [0.3, 0.8])
def test_a_repair_after_pairs_are_added_equals_a_cold_solve_of_the_whole_set(unlimited, case, share):
    i, j, s, cap, dem = _instance(*case)
    rng = np.random.default_rng(case[0] + 100)
    old = rng.random(len(i)) < share
    old[0] = True
    before = solve_arrays(i[old], j[old], s[old], cap, dem)
    *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale)
    was = np.zeros(len(i), bool)
    was[np.flatnonzero(old)[before.chosen]] = True
    out = warm.resolve(i, j, s, cap, dem, was, pot, before.scale)
    cold = solve_arrays(i, j, s, cap, dem)
    assert out is not None and cold.optimal
    res, rep = out
    assert res.scale == cold.scale and (res.cost == cold.cost).all() and res.n_max == cold.n_max
    _feasible(i, j, res.chosen, cold.used, cap, dem)
    assert res.cost[res.chosen].sum() == cold.cost[cold.chosen].sum()
    assert s[res.chosen].sum() == pytest.approx(s[cold.chosen].sum(), abs=cold.n_max / cold.scale)
    _proves(i, j, res.cost, res.chosen, res.used, cap, dem, rep.pot)
    # the old optimum was kept where it stays optimal: no violator, no phase, the same pairs
    if rep.violators == 0:
        assert rep.phases == 0 and (res.chosen == was).all()


@pytest.mark.parametrize("case", CASES[:10])
def test_a_repair_of_pairs_in_any_order_finds_the_same_optimum(unlimited, case):
    """The scale path hands the pairs sorted (by mentee, then mentor); any other order is put
    in that order first, and gives the same pairs and the same proof."""
    i, j, s, cap, dem = _instance(*case)
    rng = np.random.default_rng(case[0] + 200)
    old = rng.random(len(i)) < 0.5
    old[0] = True
    before = solve_arrays(i[old], j[old], s[old], cap, dem)
    *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale)
    was = np.zeros(len(i), bool)
    was[np.flatnonzero(old)[before.chosen]] = True
    sorted_out = warm.resolve(i, j, s, cap, dem, was, pot, before.scale)
    mix = rng.permutation(len(i))
    mixed_out = warm.resolve(i[mix], j[mix], s[mix], cap, dem, was[mix], pot, before.scale)
    assert sorted_out is not None and mixed_out is not None
    (res, rep), (res_mix, rep_mix) = sorted_out, mixed_out
    assert (res_mix.chosen == res.chosen[mix]).all()
    assert (rep_mix.violators, rep_mix.phases) == (rep.violators, rep.phases)
    _proves(i[mix], j[mix], res_mix.cost, res_mix.chosen, res_mix.used, cap, dem, rep_mix.pot)


def test_a_repair_moves_a_mentee_to_make_room_and_proves_the_result(unlimited):
    """Mentor 1 (capacity 1) scores 5 with mentee 0 and 9 with mentee 1; mentee 0 scores 4 with
    mentor 0. The optimum is 4 + 9, which the repair must reach through mentor 1."""
    i = np.array([0, 0, 1], np.int64)
    j = np.array([1, 0, 1], np.int64)
    s = np.array([5.0, 4.0, 9.0])
    cap, dem = np.array([1, 1], np.int64), np.array([1, 1], np.int64)
    used, scale, _ = network(i, j, s, cap, dem)
    cost = integer_costs(s, used, scale)
    zero = (np.zeros(2, np.int64), np.zeros(2, np.int64), 0, 0)
    rep = warm.repair(i, j, cost, used, np.zeros(3, bool), dem, cap, zero)
    assert rep.chosen.tolist() == [False, True, True]
    assert rep.violators == 3 and rep.phases >= 1
    _proves(i, j, cost, rep.chosen, used, cap, dem, rep.pot)


def test_a_new_largest_score_changes_the_scale_and_leaves_it_to_a_cold_solve(unlimited):
    i = np.array([0, 1], np.int64)
    j = np.array([0, 0], np.int64)
    s = np.array([5.0, 9000.0])  # past 2**9 the quantum doubles (quantize.choose_scale)
    cap, dem = np.array([1], np.int64), np.array([1, 1], np.int64)
    old = np.array([True, False])
    before = solve_arrays(i[old], j[old], s[old], cap, dem)
    *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale)
    assert network(i, j, s, cap, dem)[1] != before.scale
    assert warm.resolve(i, j, s, cap, dem, old & before.chosen[0], pot, before.scale) is None


def test_too_many_violators_or_phases_leave_it_to_a_cold_solve(monkeypatch):
    """The scipy phases' limits (the compiled repair's: tests/test_native_flow.py)."""
    monkeypatch.setitem(_native._chosen, "flow", None)
    i, j, s, cap, dem = _instance(0, 14, 6, 0.5, 1, 3, False)
    cold = solve_arrays(i, j, s, cap, dem)
    zero = (np.zeros(len(dem), np.int64), np.zeros(len(cap), np.int64), 0, 0)
    empty = np.zeros(len(i), bool)
    monkeypatch.setattr(warm, "MAX_PHASES", 10**9)
    monkeypatch.setattr(warm, "MAX_VIOLATORS", int(cold.used.sum()) - 1)
    assert warm.repair(i, j, cold.cost, cold.used, empty, dem, cap, zero) is None
    monkeypatch.setattr(warm, "MAX_VIOLATORS", int(cold.used.sum()))
    assert warm.repair(i, j, cold.cost, cold.used, empty, dem, cap, zero) is not None
    monkeypatch.setattr(warm, "MAX_PHASES", 1)
    assert warm.repair(i, j, cold.cost, cold.used, empty, dem, cap, zero) is None


def test_potentials_that_prove_nothing_leave_it_to_a_cold_solve(unlimited):
    """A mentee with room and a potential above the source's has a negative residual arc from
    the source: such potentials prove no flow optimal, and the repair must not trust them."""
    i, j, s, cap, dem = _instance(1, 14, 6, 0.5, 1, 3, False)
    cold = solve_arrays(i, j, s, cap, dem)
    di = np.zeros(len(dem), np.int64)
    di[0] = 10
    bad = (di, np.zeros(len(cap), np.int64), 0, 0)
    assert warm.repair(i, j, cold.cost, cold.used, np.zeros(len(i), bool), dem, cap, bad) is None


@pytest.mark.parametrize("seed", range(6))
def test_rank_in_group_is_the_place_in_each_run(seed):
    """``sparse.rank_in_group`` (the warm repair's layout, the bounded passes) against its
    definition: on sorted groups, the place counted from the first entry of equal value."""
    from mentormatch.solvers.sparse import rank_in_group

    rng = np.random.default_rng(seed)
    for n in (0, 1, 2, 7, 300):
        group = np.sort(rng.integers(-3, 1 + seed * 4, n))
        got = rank_in_group(group)
        want = np.array([k - int(np.flatnonzero(group == g)[0]) for k, g in enumerate(group)], dtype=np.int64)
        np.testing.assert_array_equal(got, want)
