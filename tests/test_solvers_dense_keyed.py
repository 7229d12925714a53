"""The dense path's keyed flow (:mod:`mentormatch.solvers.dense.keyed`): the compiled
``keyed_flow`` against brute force (the least key sum among the optima, its potentials proving
it), and ``solve_dense`` with the keyed flow forced against the rule's path (the keyed flow
off, as a build without the kernel runs): the same pairs, status, objective and prices, the
bound within float rounding, on tied and untied inputs, both layouts, locks, demands, forbidden
cells and zero capacities. No timings."""
from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentormatch.pairs import DenseRows
from mentormatch.solvers.dense import flow as dense_flow
from mentormatch.solvers.dense import keyed as dense_keyed
from mentormatch.solvers.dense import solve_dense
from mentormatch.solvers.dense.keyed import keyed_round

dense_module = sys.modules[solve_dense.__module__]
from mentormatch.solvers.ties import stage_keys

kernel = dense_flow.assign_kernel()
needs_kernel = pytest.mark.skipif(kernel is None or not hasattr(kernel, "keyed_flow"),
                                  reason="the compiled keyed flow is not built")


def _assignments(n, m, pairs, cap):
    """Every feasible set of pairs (each mentee at most once, each mentor at most cap)."""
    for pick in itertools.product(*[[None] + [k for k, (a, _) in enumerate(pairs) if a == i]
                                    for i in range(n)]):
        ks = [k for k in pick if k is not None]
        load = np.bincount([pairs[k][1] for k in ks], minlength=m)
        if (load <= cap).all():
            yield ks


@needs_kernel
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 5), st.integers(1, 3), st.integers(1, 3))
@settings(max_examples=60, deadline=None)
def test_the_keyed_flow_is_the_least_key_sum_among_the_optima(seed, n, m, levels):
    """On tiny networks: the keyed flow's pairs reach the integer optimum (brute force) and,
    among the optima, the least sum of stage-1 keys; its rounded potentials prove it for the
    integer costs (every reduced cost >= 0, the chosen ones 0); ``tight`` 0 means no other
    optimum has that key sum."""
    rng = np.random.default_rng(seed)
    cost = -rng.integers(1, levels + 1, (n, m)).astype(np.int64)
    keep = rng.random((n, m)) < 0.8
    ii, jj = np.nonzero(keep)  # by mentee
    c = cost[ii, jj]
    cap = rng.integers(0, 3, m).astype(np.int64)
    dem = np.ones(n, np.int64)
    bits = 12
    key = stage_keys(ii, jj, 1, bits)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(ii, minlength=n), out=ptr[1:])
    got = kernel.keyed_flow(ptr, jj.astype(np.int64), c, key, cap, dem)
    assert got is not None
    chosen, pi_i, pi_j, pi_t, low_i, low_j, low_t, tight = got
    pairs = list(zip(ii.tolist(), jj.tolist()))
    best = min((int(c[ks].sum()), int(key[ks].sum())) for ks in _assignments(n, m, pairs, cap))
    at = np.flatnonzero(chosen)
    assert (int(c[at].sum()), int(key[at].sum())) == best
    rc = c + pi_i[ii] - pi_j[jj]
    assert (rc[~chosen] >= 0).all() and (rc[chosen] <= 0).all()
    if tight == 0:
        ties = [ks for ks in _assignments(n, m, pairs, cap)
                if (int(c[ks].sum()), int(key[ks].sum())) == best]
        assert len(ties) == 1


def _instance(seed, tied=True):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 60)), int(rng.integers(2, 25))
    s = rng.random((n, m))
    if tied:
        s = np.floor(s * int(rng.integers(2, 6))) / 4
    if seed % 5 == 0:
        s -= 0.3  # some scores <= 0
    f = rng.random((n, m)) < [0.0, 0.05, 0.3][seed % 3]
    cap = rng.integers(0 if seed % 2 else 1, 4, m).astype(float)
    return s, f, cap, rng.permutation(n), rng.permutation(m), rng


def _solve(s, f, cap, ri, rj, **kw):
    problem, sol = solve_dense(DenseRows(s, f), cap, mentee_rank=ri, mentor_rank=rj, **kw)
    i, j = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    order = np.lexsort((j, i))
    return (i[order].tolist(), j[order].tolist()), sol


def _same(a, b):
    (pa, sa), (pb, sb) = a, b
    assert pa == pb
    assert (sa.status, sa.objective) == (sb.status, sb.objective)
    if sa.bound is None:
        assert sb.bound is None
    else:
        assert sa.bound == pytest.approx(sb.bound, rel=1e-12, abs=1e-9)
        assert all(np.array_equal(x, y) for x, y in zip(sa.prices, sb.prices))


@needs_kernel
@given(st.integers(0, 2 ** 32 - 1), st.booleans(), st.sampled_from(["C", "F"]),
       st.sampled_from(["none", "locks", "demand"]))
@settings(max_examples=80, deadline=None)
def test_the_keyed_flow_forced_gives_the_rules_pairs(seed, tied, layout, extra):
    """``solve_dense`` with the keyed flow forced (every size, every guess) and with it off
    (the rule's second flows, as a build without ``keyed_flow``): the same answer."""
    s, f, cap, ri, rj, rng = _instance(seed, tied)
    s = np.asfortranarray(s) if layout == "F" else np.ascontiguousarray(s)
    n, m = s.shape
    kw = {}
    if extra == "locks":
        ok = np.flatnonzero((~f).ravel() & np.isfinite(s).ravel())
        if len(ok):
            cell = int(rng.choice(ok))
            kw["locked"] = (np.array([cell // m]), np.array([cell % m]))
            cap[cell % m] += 1
    elif extra == "demand":
        kw["demand"] = rng.integers(0, 2, n)  # (0 or 1: the keyed flow runs)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(dense_keyed, "KEYED_PAIRS", 0)
        old = _solve(s, f, cap, ri, rj, **kw)
        mp.setattr(dense_keyed, "KEYED_PAIRS", 10 ** 9)
        mp.setattr(dense_keyed, "likely_tied", lambda kernel, values: True)
        calls = []
        mp.setattr(dense_module, "keyed_round", lambda *a: calls.append(1) or keyed_round(*a))
        new = _solve(s, f, cap, ri, rj, **kw)
    finally:
        mp.undo()
    assert calls  # (the keyed flow ran)
    _same(new, old)


@needs_kernel
def test_a_build_without_the_keyed_flow_gives_the_same_answers(monkeypatch):
    """A module built before ``keyed_flow`` (no ``KEYED_FLOW_VERSION``): the rule's path, the
    same pairs as the keyed flow's on tied inputs where it runs by itself."""

    class Old:  # the kernel without the keyed flow
        def __getattr__(self, name):
            if name in ("keyed_flow", "keyed_face", "KEYED_FLOW_VERSION"):
                raise AttributeError(name)
            return getattr(kernel, name)

    ran = 0
    for seed in range(12):
        s, f, cap, ri, rj, _ = _instance(100 + seed)
        new = _solve(s, f, cap, ri, rj)
        ran += new[1].certificate["ties"].get("keyed_rounds", 0) > 0
        with monkeypatch.context() as mp:
            mp.setattr(dense_flow, "assign_kernel", lambda: Old())
            old = _solve(s, f, cap, ri, rj)
        assert old[1].certificate["ties"].get("keyed_rounds") is None
        _same(new, old)
    assert ran >= 6  # (the keyed flow ran by itself on most of them)


@needs_kernel
def test_the_keyed_path_at_size_reaches_the_rules_pick_without_a_second_flow():
    """2,000 x 500 in 4 levels, capacity 4 (the ladder's tied instance, seeded ranks): the keyed
    flow's one round proves the rule's pick (no second flow), the pairs those of the rule."""
    rng = np.random.default_rng(0)
    n, m = 2000, 500
    s = np.floor(rng.random((n, m)) * 4) / 4
    f = rng.random((n, m)) < 0.01
    cap = np.full(m, 4.0)
    ri, rj = rng.permutation(n), rng.permutation(m)
    new = _solve(s, f, cap, ri, rj)
    ties = new[1].certificate["ties"]
    assert ties["keyed_rounds"] == 1 and ties["second_flow_solves"] == 0
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(dense_keyed, "KEYED_PAIRS", 0)
        old = _solve(s, f, cap, ri, rj)
    finally:
        mp.undo()
    assert old[1].certificate["ties"]["second_flow_solves"] >= 1
    _same(new, old)


def test_the_thinning_ranks_give_the_rules_stage_one_keys():
    """The candidates' ties thinned by stage-0 keys of the shifted mentor ranks are thinned by
    the rule's stage-1 keys (``pair_key``'s mix adds the stage's step), in numpy and in the
    kernel's keys alike."""
    from mentormatch.solvers.ties import pair_key

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 10 ** 6, 500), rng.integers(0, 10 ** 6, 500)
    shifted = dense_keyed.thinning_ranks(b, True)
    assert (pair_key(a, shifted) == pair_key(a, b, 1)).all()
    assert (dense_keyed.thinning_ranks(b, False) == b).all()
    if kernel is not None:
        assert (kernel.pair_keys(a, shifted, 0, 40) == stage_keys(a, b, 1, 40)).all()
