"""The top level's first prices moved toward its own market (:mod:`mentormatch.solvers.bounded.tatonnement`):
any prices are safe, so the answer is the complete set's optimum and the same pairs with the
adjustment as without it; the adjustment itself balances the first choices better than the guide;
the compiled sweeps (:mod:`mentormatch._native.prices`) give the numpy twin's prices to the bit
(skipped where not built, except under ``CI``)."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch.solvers.bounded as bounded
from mentormatch import _native
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers.bounded import child, market, solve_bounded, tatonnement
from mentormatch.solvers.sparse import _Sparse

from _kernels import native_kernel
from _support import exact_round, scorer_of

native = native_kernel("prices")


def _excess(sp, price, cap, dem):
    """Each mentor's first choices less its places, by the rule :func:`tatonnement.adjusted` balances."""
    value = sp.s - price[sp.j]
    order = np.lexsort((-value, sp.i))
    i, j, v = sp.i[order], sp.j[order], value[order]
    first = np.r_[True, i[1:] != i[:-1]] & (v >= 0)
    return np.bincount(j[first], dem[i[first]], minlength=len(cap)) - cap


def test_the_adjustment_balances_first_choices_and_keeps_prices_non_negative():
    rng = np.random.default_rng(3)
    n, m, k = 400, 60, 8
    i = np.repeat(np.arange(n), k)
    j = np.concatenate([rng.choice(m, k, replace=False) for _ in range(n)])
    # popular mentors: a mentor's appeal shared by every mentee, plus noise
    s = rng.uniform(1, 2, m)[j] + rng.normal(0, 0.2, len(j))
    sp = _Sparse(i, j, j, s)
    cap, dem = np.full(m, 6.0), np.ones(n)
    cap[:5] = 0  # no places: kept at the guide's price... of 0
    guide = np.zeros(m)
    price = tatonnement.adjusted(sp, guide, cap, dem)
    assert np.all(price >= 0)
    assert np.all(price[:5] == 0)
    before = np.abs(_excess(sp, guide, cap, dem)[5:]).sum()
    after = np.abs(_excess(sp, price, cap, dem)[5:]).sum()
    assert after < 0.5 * before


def _sparse_rows(rng, n: int, m: int, most: int, ties: bool) -> _Sparse:
    """Pairs sorted by row, 1 to ``most`` a row (some rows without any), scores of both signs;
    with ``ties``, scores on a coarse grid, so that rows hold equal values."""
    rows = np.flatnonzero(rng.random(n) < 0.9)
    i = np.repeat(rows, rng.integers(1, most + 1, len(rows)))
    j = np.concatenate([rng.choice(m, np.count_nonzero(i == r), replace=False) for r in rows])
    s = rng.normal(1.0, 0.8, len(i)) + rng.uniform(0, 1, m)[j]
    return _Sparse(i, j, j, np.round(s * 4) / 4 if ties else s)


@pytest.mark.skipif(native is None, reason="mentormatch._native.prices was not built")
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("ties", [False, True])
def test_the_compiled_sweeps_give_the_numpy_prices_to_the_bit(monkeypatch, seed, ties):
    rng = np.random.default_rng(seed)
    n, m = 300, 40
    sp = _sparse_rows(rng, n, m, 12, ties)
    cap = rng.integers(0, 6, m).astype(float)  # some mentors without places
    dem = rng.integers(1, 4, n)  # demands above 1: the demand is weighted
    guide = np.where(rng.random(m) < 0.2, 0.0, rng.uniform(0, 2, m))
    called = []

    class Counted:
        def sweeps(self, *args):
            called.append(1)
            return native.sweeps(*args)

    out = []
    for kernel in (Counted(), None):
        monkeypatch.setitem(_native._chosen, "prices", kernel)
        out.append(tatonnement.adjusted(sp, guide, cap, dem))
    assert called == [1]
    compiled, twin = out
    assert np.array_equal(compiled.view(np.int64), twin.view(np.int64))
    assert np.all(compiled >= 0) and np.all(compiled[cap == 0] == 0)
    assert not np.array_equal(compiled, np.where(cap > 0, guide, 0.0))  # (the sweeps moved them)


@pytest.mark.skipif(native is None, reason="mentormatch._native.prices was not built")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("whole", [True, False])
def test_the_sweeps_on_two_threads_give_the_numpy_prices_to_the_bit(monkeypatch, seed, whole):
    """Each sweep's demand in two halves (``sweeps_two``, s30h4) where the demands are whole
    numbers (their sums exact in any order); otherwise the one-thread sweeps: the numpy twin's
    prices either way."""
    rng = np.random.default_rng(seed)
    n, m = 400, 30
    sp = _sparse_rows(rng, n, m, 10, seed % 2 == 0)
    cap = rng.integers(0, 6, m).astype(float)
    dem = rng.integers(1, 4, n).astype(float) if whole else rng.uniform(0.5, 3.0, n)
    guide = np.where(rng.random(m) < 0.2, 0.0, rng.uniform(0, 2, m))
    called = []

    class Counted:
        def sweeps(self, *args):
            called.append("one")
            return native.sweeps(*args)

        def sweeps_two(self, *args):
            called.append("two")
            return native.sweeps_two(*args)

    monkeypatch.setattr(tatonnement, "TWO_THREADS_PAIRS", 0)
    out = []
    for kernel in (Counted(), None):
        monkeypatch.setitem(_native._chosen, "prices", kernel)
        out.append(tatonnement.adjusted(sp, guide, cap, dem))
    assert called == ["two" if whole else "one"]
    assert np.array_equal(out[0].view(np.int64), out[1].view(np.int64))
    assert not np.array_equal(out[0], np.where(cap > 0, guide, 0.0))


@pytest.mark.skipif(native is None, reason="mentormatch._native.prices was not built")
def test_the_compiled_sweeps_refuse_bad_indices():
    one = np.zeros(1, np.int64)
    args = (one, one, np.array([3], np.int64), np.ones(1), np.ones(1), np.ones(2), np.ones(2, np.uint8),
            np.ones(2), np.zeros(2))
    with pytest.raises(IndexError, match="mentor 3"):
        native.sweeps(*args)
    with pytest.raises(ValueError, match="shapes"):
        native.sweeps(one, one, one, np.ones(1), np.ones(1), np.ones(3), np.ones(2, np.uint8), np.ones(2),
                      np.zeros(2))
    with pytest.raises(IndexError, match="mentor 3"):
        native.sweeps_two(*args, 0, lambda fn: fn)
    with pytest.raises(ValueError, match="split"):
        native.sweeps_two(one, one, one, np.ones(1), np.ones(1), np.ones(2), np.ones(2, np.uint8), np.ones(2),
                          np.zeros(2), 2, lambda fn: fn)


def _pairs(problem, solution) -> list:
    return sorted(zip(problem.pairs.mentee[solution.chosen].tolist(), problem.pairs.mentor[solution.chosen].tolist()))


@pytest.mark.parametrize("seed", [7, 11])
def test_the_adjusted_first_prices_give_the_same_pairs_as_the_guides(monkeypatch, seed):
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)  # sub-markets from any size: the top level guided
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(child, "ENABLED", False)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=seed)
    mentors["capacity"] = 4
    prep, _, _ = exact_round(mentors, mentees)
    reference = pl.solve(prep)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    ran = []
    prechecked = bounded.prechecked

    def spy(*args, **kwargs):
        ran.append(1)
        return prechecked(*args, **kwargs)

    monkeypatch.setattr(bounded, "prechecked", spy)
    problem, solution = solve_bounded(scorer_of(prep), cap)
    assert ran == [1]  # the top level's, once; the sub-markets keep their guide's prices
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)
    with_adjustment = _pairs(problem, solution)
    monkeypatch.setattr(bounded, "prechecked", lambda scorer, exact, pool, mb, sp, g, k, cap, dem, ch, per_row:
                        (sp, None))
    problem, solution = solve_bounded(scorer_of(prep), cap)
    assert solution.status == "optimal"
    without = _pairs(problem, solution)
    assert with_adjustment == without


@pytest.mark.parametrize("guided", [False, True])
def test_floors_per_mentor_group_only_where_a_sub_market_guides_the_top_level(monkeypatch, guided):
    """Unguided, the first check moves prices from 0 by whole levels, which floors per group
    cannot absorb (at 10,000 x 3,000 they made round 1's check 3.9 s against 0.5 s): only a
    guided top level asks the first pass for them; the answer is the complete set's either way."""
    if guided:
        monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
        monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(child, "ENABLED", False)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=5)
    mentors["capacity"] = 4
    prep, _, _ = exact_round(mentors, mentees)
    asked = []
    first_pass = bounded._first_pass

    def spy(*args, **kwargs):
        asked.append(kwargs.get("grouped", False))
        return first_pass(*args, **kwargs)

    monkeypatch.setattr(bounded, "_first_pass", spy)
    problem, solution = solve_bounded(scorer_of(prep), prep.data["mentors"]["capacity"].to_numpy(float))
    assert asked[-1] is guided  # the top level's pass (the sub-markets' come first)
    assert not any(asked[:-1])
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(pl.solve(prep).objective, rel=1e-9)
