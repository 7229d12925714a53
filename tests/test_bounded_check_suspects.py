"""The suspects of the rows a check scans in full, taken from their fresh pools
(:func:`mentormatch.solvers.bounded.recheck._pool_suspects`), against every pair of the rows."""
import numpy as np
import pytest

from mentormatch.solvers.bounded.recheck import _pool_suspects


def _pools(s: np.ndarray, size: int):
    """Each row's ``size`` best entries (descending) and the floor (the smallest kept)."""
    cols = np.argsort(-s, axis=1, kind="stable")[:, :size]
    vals = np.take_along_axis(s, cols, axis=1)
    return cols, vals, vals.min(axis=1)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("size", [3, 8, 40])
def test_pool_suspects_against_every_pair(seed, size):
    rng = np.random.default_rng(seed)
    n_all, m = 30, 40
    rows = np.sort(rng.choice(n_all, 12, replace=False))
    # integer-valued scores: many ties between pool and rest; some rows fully -inf past a point
    s = rng.integers(-5, 6, (len(rows), m)).astype(np.float32)
    s[rng.random(s.shape) < 0.2] = -np.inf
    limit = rng.uniform(-4, 5, len(rows))
    ci = rng.choice(rows, 25)
    cj = rng.integers(0, m, 25)
    ex_code = np.unique(ci * m + cj)  # chosen pairs (and locks): never suspects
    cols, vals, floor = _pools(s, size)
    gi, gj, crowded = _pool_suspects(rows, cols, vals, floor, limit, ex_code, m)

    lim = limit.astype(np.float32)
    true = {(int(rows[r]), int(c)) for r, c in zip(*np.nonzero(s > lim[:, None]))
            if int(rows[r]) * m + int(c) not in set(ex_code.tolist())}
    got = set(zip(gi.tolist(), gj.tolist()))
    assert len(got) == len(gi)  # no pair twice
    assert got <= true  # every suspect is one
    crowded = set(crowded.tolist())
    assert crowded <= set(rows.tolist())
    for r, row in enumerate(rows.tolist()):
        missed = {p for p in true if p[0] == row} - got
        if missed:  # a row whose suspects are not all returned is marked crowded
            assert row in crowded
        if row not in crowded:  # ... and a row not crowded has every pair outside its pool below its limit
            outside = np.setdiff1d(np.arange(m), cols[r])
            assert (s[r, outside] <= lim[r]).all()


def test_pool_of_the_whole_row_is_never_crowded():
    s = np.array([[3.0, 2.0, 1.0], [5.0, 5.0, 5.0]], np.float32)
    cols, vals, floor = _pools(s, 3)
    gi, gj, crowded = _pool_suspects(np.array([4, 7]), cols, vals, floor, np.array([0.0, 0.0]),
                                     np.array([4 * 3 + 0]), 3)
    assert len(crowded) == 0
    assert sorted(zip(gi.tolist(), gj.tolist())) == [(4, 1), (4, 2), (7, 0), (7, 1), (7, 2)]
