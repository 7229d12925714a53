"""The group guard's re-checks (:mod:`mentormatch.solvers.bounded.groupcheck`) give the same
check whether they run on one thread or several (s30h4), and their exclusions taken by row
(:class:`~mentormatch.solvers.bounded.groupcheck._ByRow`) are those a brute-force filter keeps.
That the checks miss no violator is :mod:`test_bounded_check_cover`'s."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from mentormatch.solvers.bounded import groupcheck
from mentormatch.solvers.bounded.groupcheck import _ByRow

from test_bounded_check_cover import TOL, _round, _setup


@pytest.mark.parametrize("seed", range(4))
def test_pairs_by_row_are_those_of_the_rows_and_mentors(seed):
    rng = np.random.default_rng(seed)
    n, m = 50, 30
    i, j = rng.integers(0, n, 400), rng.integers(0, m, 400)
    by = _ByRow(i, j, n)
    for _ in range(20):
        rows = np.sort(rng.choice(n, rng.integers(0, n), replace=False))
        in_cols = rng.random(m) < 0.4
        gi, gj = by.of(rows, in_cols)
        keep = np.isin(i, rows) & in_cols[j]
        assert sorted(zip(gi.tolist(), gj.tolist())) == sorted(zip(i[keep].tolist(), j[keep].tolist()))
        assert np.all(np.diff(gi) >= 0)  # by row


def _checks(seed: int, groups, threads: int, monkeypatch):
    """Four rounds of checks (prices moved mostly by one shift per group) with the re-checks on
    ``threads`` threads: each round's violators, and the pools, floors and errors after it."""
    monkeypatch.setattr(groupcheck, "RECHECK_THREADS", threads)
    calls = []
    real = groupcheck._recheck
    monkeypatch.setattr(groupcheck, "_recheck", lambda *a: calls.append(threading.get_ident()) or real(*a))
    scorer, s, g, c = _setup(seed, 160, 40, 4, groups, monkeypatch)
    rng = np.random.default_rng(100 + seed)
    of = c.pool.groups.of
    p, out = g.copy(), []
    for _ in range(4):
        step = rng.uniform(-0.3, 0.3, of.max() + 1)[of] + rng.normal(0.0, 0.02, scorer.m)
        p = np.round((p + step) * 2.0 ** 20) / 2.0 ** 20
        u, chosen = _round(rng, s, p)
        viol, eps = c(u, p, chosen.i, chosen.j, TOL, scorer.m, 0.0)
        pool = c.pool
        out.append((viol.i, viol.j, eps, pool.cols.copy(), pool.vals.copy(), pool.floor.copy(),
                    pool.group_floor.copy(), c.err.copy(), c.pairs_rechecked, c.bound_pairs))
    assert len(calls) > 1  # (several re-checks: the threads had work)
    assert (threading.get_ident() in calls) == (threads == 1)  # (on the pool's threads, or here)
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("groups", ["rule", 5])
def test_the_rechecks_on_threads_give_the_check_of_one_thread(seed, groups, monkeypatch):
    one = _checks(seed, groups, 1, monkeypatch)
    two = _checks(seed, groups, 2, monkeypatch)
    for a, b in zip(one, two):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
