"""The small compiled twins of numpy code around ``assign()``'s small-path flow
(``_native/assign_glue.pxi``): each gives numpy's answer, bit for bit, on random inputs
with the awkward values (NaN, ``inf``, ``-0.0``, halves, zero demands and capacities)."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch.solvers import duals

from _kernels import native_kernel

native = native_kernel("assign")

pytestmark = pytest.mark.skipif(native is None, reason="mentormatch._native.assign was not built")


def test_whole_counts_is_numpys_check():
    rng = np.random.default_rng(0)
    pool = np.array([0.0, -0.0, 1.0, 4.0, 2.5, -1.0, np.nan, np.inf, -np.inf, 1e300, 3.0])
    for trial in range(2000):
        v = rng.choice(pool, size=int(rng.integers(0, 6)))
        want = bool(np.isfinite(v).all() and (v >= 0).all() and (v == np.floor(v)).all())
        assert native.whole_counts(v) == want, v


@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_prices_are_prices_at_numpys(seed, monkeypatch):
    """``prices_at`` on the small path's arguments (one potential of the source and sink, the
    chosen pairs alone) gives the same prices and dual objective, bit for bit, with and
    without its compiled twin."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 60)), int(rng.integers(1, 15))
    scale = 2.0 ** int(rng.integers(10, 40))
    di = rng.integers(-2**40, 2**40, n)
    dj = rng.integers(-2**40, 2**40, m)
    k = int(rng.choice([0, int(rng.integers(-2**30, 2**30))]))
    ci = np.sort(rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False)).astype(np.int64)
    cj = rng.integers(0, m, len(ci))
    score = rng.random(len(ci)) * 3 - 1
    dem = rng.integers(0, 2, n) if seed % 2 else np.ones(n, np.int64)
    cap = rng.integers(0, 4, m)
    pot = (di, dj, k, k)
    got = duals.prices_at(pot, ci, cj, slice(None), score, dem, cap, scale)
    assert duals._compiled_prices(di, dj, k, scale, ci, cj, score, dem, cap) is not None
    monkeypatch.setattr(duals, "assign_kernel", lambda: None)
    want = duals.prices_at(pot, ci, cj, slice(None), score, dem, cap, scale)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]


def test_mate_cells_are_numpys_gather():
    """``mate_cells``: the matched rows, their mentors and scores, as ``flatnonzero``, a
    gather and a fancy index give them, on C- and F-ordered matrices."""
    rng = np.random.default_rng(5)
    for trial in range(300):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 12))
        s = rng.random((n, m))
        if trial % 2:
            s = np.asfortranarray(s)
        mate = np.where(rng.random(n) < 0.6, rng.integers(0, m, n), -1).astype(np.int64)
        ci, cj, score = native.mate_cells(s, mate)
        want = np.flatnonzero(mate >= 0)
        assert ci.tolist() == want.tolist() and cj.tolist() == mate[want].tolist()
        assert score.tobytes() == s[want, mate[want]].tobytes()
