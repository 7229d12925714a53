"""The cells of the bounded re-checks (:mod:`mentormatch.solvers.bounded.cells`): a cell's bounds
against the scorer's own block bounds, the cells' maxima and floors against loops, and the
certified solve with cells computed on the scale path's own bounds."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import cells as cellmod, check, solve_bounded

from _support import exact_round, scorer_of


def _scorer(seed: int, n: int = 120, m: int = 45):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    prep, _, _ = exact_round(mentors, mentees, None)
    return prep, scorer_of(prep, None)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("width", [1, 7, 100])
def test_a_cells_bounds_are_the_scorers_block_bounds(monkeypatch, seed, width):
    """Cells.bounds of some rows on one cell equals the scorer's ``upper`` of a subset of the
    same rows and mentors, less the prices, within the bound's margin (float32 sums in another
    order), and removes exactly the pairs it removes; on a row subset of the scorer too (a
    sub-market's)."""
    monkeypatch.setattr(cellmod, "GROUP_WIDTH", width)
    _, full = _scorer(seed)
    rng = np.random.default_rng(seed)
    for sc in (full, full.subset(rows=np.sort(rng.choice(full.n, 50, replace=False)))):
        removed = (sc.blocked is not None and sc.blocked.nnz > 0)
        assert sc.stated.nnz > 0 or removed  # (the organisation states preferences or removes pairs)
        cells = cellmod.Cells(sc)
        assert cells.plain
        less = rng.normal(size=sc.m).astype(np.float32)
        for g in range(len(cellmod.starts(sc.m))):
            a, b = g * width, min(g * width + width, sc.m)
            rows = np.sort(rng.choice(sc.n, int(rng.integers(1, sc.n)), replace=False))
            got = cells.bounds(rows, a, b, less)
            want = sc.subset(rows=rows, cols=np.arange(a, b)).upper(0, len(rows)) - less[a:b]
            out_got, out_want = got < -BIG / 2, want < -BIG / 2
            np.testing.assert_array_equal(out_got, out_want)
            assert np.abs(got[~out_got] - want[~out_want]).max(initial=0.0) <= sc.margin


def test_group_max_and_up32_against_loops():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(37, 23)).astype(np.float32)
    s[rng.random(s.shape) < 0.2] = -np.inf
    s[5] = -np.inf  # a row with nothing: -BIG, never -inf
    edges = np.array([0, 3, 4, 11, 20])
    got = cellmod.group_max(s, edges)
    bounds = list(edges) + [s.shape[1]]
    for r in range(s.shape[0]):
        for k in range(len(edges)):
            assert got[r, k] == max(float(s[r, bounds[k]:bounds[k + 1]].max()), -BIG)
    x = rng.normal(size=1000) * 10.0 ** rng.integers(-3, 4, 1000)
    y = cellmod.up32(x)
    assert y.dtype == np.float32 and (y.astype(np.float64) >= x).all()
    assert (np.nextafter(y, np.float32(-np.inf)).astype(np.float64) < x).all()  # the nearest above


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("suspects", [64, 1])
def test_the_certified_solve_with_cells_ends_at_the_exact_optimum(monkeypatch, seed, suspects):
    """Cells of 4 mentors, pools of 2 pairs, one violator a row and round, cheap cells: most
    re-checks compute cells on the scale path's own bounds (stated pairs and removed pairs
    included), moving floors and pools between generations; the certificate must still end at
    the complete set's optimum, with the same objective when the cells are one a row. With one
    suspect a row, a cell keeps each row's two largest and the rows it cuts are crowded."""
    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers.bounded import passes

    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", suspects)

    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=seed)
    mentors["capacity"] = 3
    prep, _, _ = exact_round(mentors, mentees, None)
    reference = pl.solve(prep)
    monkeypatch.setattr(bounded, "POOL_PER_ROW", 2)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    answers = {}
    for width, cost in ((4, 0.5), (4, 2), (100, 2)):
        monkeypatch.setattr(cellmod, "GROUP_WIDTH", width)
        monkeypatch.setattr(check, "CELL_COST", cost)
        monkeypatch.setattr(check, "FULL_SHARE", 1.0 if cost < 1 else 0.5)
        _, solution = solve_bounded(scorer_of(prep, None), cap, options=SolverOptions(top_k=1))
        assert solution.status == "optimal" and solution.certificate["holds"]
        assert solution.objective == pytest.approx(reference.objective, rel=1e-9)
        answers[(width, cost)] = solution.certificate
    assert answers[(4, 0.5)]["pairs_rechecked_in_cells"] > 0
