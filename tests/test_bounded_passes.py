"""Block passes of the bounded solve: the prices taken off with the groups' table
(``BoundedScorer.upper(less=)``) and a crowded row's largest suspects, against plain
recomputations."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers.bounded import passes, rank

from _support import assert_bounded_solve_is_exact, exact_round as _exact_round, scorer_of as _bounded

U32 = 2.0 ** -24


@pytest.mark.parametrize("seed", [1, 2])
def test_bounds_less_prices_equal_the_bounds_minus_the_prices(seed):
    """``upper(less=p)`` is ``upper() - p`` within float32 rounding of the largest terms (what
    the checks' slack covers), removed pairs are exactly ``-BIG - p``, a mentor priced ``+inf``
    is ``-inf``; on row and column subsets too; and with the margin and that rounding it still
    bounds every exact score less the price."""
    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=seed)
    mentors["capacity"] = 3
    prep, eligible, scores = _exact_round(mentors, mentees, None)
    scorer = _bounded(prep, None)
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 3.0, scorer.m).astype(np.float32)
    p[rng.random(scorer.m) < 0.1] = np.inf  # mentors with no room
    rows = np.sort(rng.choice(scorer.n, 40, replace=False))
    cols = np.sort(rng.choice(scorer.m, 17, replace=False))
    for view, price in ((scorer, p), (scorer.subset(rows=rows), p), (scorer.subset(cols=cols), p[cols]),
                        (scorer.subset(rows=rows, cols=cols), p[cols])):
        plain = view.upper(0, view.n)
        fused = view.upper(0, view.n, np.empty((view.n, view.m), np.float32), less=price)
        want = plain - price[None, :]  # (float32, as the passes took it off before)
        removed = plain < -BIG / 2
        np.testing.assert_array_equal(fused[removed], want[removed])
        closed = np.broadcast_to(~np.isfinite(price)[None, :], plain.shape)
        assert np.all(fused[closed] == -np.inf)
        live = ~removed & ~closed
        tolerance = 4 * U32 * (view.largest + float(np.abs(price[np.isfinite(price)]).max()))
        assert np.all(np.abs(fused[live] - want[live]) <= tolerance)
    # a bound still: exact score - price <= fused + margin + tolerance on every eligible pair
    full = scorer.upper(0, scorer.n, less=p)[scorer.inverse].astype(np.float64)
    exact = scores  # (mentees x mentors, -inf where not eligible)
    ok = np.isfinite(exact) & np.isfinite(p)[None, :]
    tolerance = 4 * U32 * (scorer.largest + 3.0)
    assert np.all((exact - p)[ok] <= full[ok] + scorer.margin + tolerance)
    assert np.all(full[~np.isfinite(exact)] < -BIG / 2)


def _reference(s, rr, cc, keep, crowded, per_row):
    """The other rows' suspects in row-major order, then each crowded row's ``per_row`` largest
    entries of the whole row, in descending order, ties to the lower column (a stable sort)."""
    top = [(r, int(c)) for r in crowded.tolist() for c in np.argsort(-s[r], kind="stable")[:per_row]]
    return list(zip(rr[keep].tolist(), cc[keep].tolist())) + top


@pytest.mark.parametrize("seed", range(8))
def test_a_crowded_rows_largest_suspects_are_its_largest_entries(seed):
    """Ranked among the suspects (few against the width) or from the whole row (many), a
    crowded row keeps its ``per_row`` largest entries, in descending order, ties to the lower
    column (the same pairs in the same order whichever way, as the compiled kernel gives them);
    the other rows keep every suspect."""
    rng = np.random.default_rng(seed)
    width = [300, 2_000][seed % 2]
    s = rng.normal(size=(12, width)).astype(np.float32)
    if seed % 4 >= 2:
        s = np.round(s * 4) / 4  # many ties
    s[rng.random(s.shape) < 0.1] = -np.inf
    per_row = 16
    for share in (0.02, 0.3, 0.9):  # few suspects a row (ranked among them) ... most of the row
        limit = np.quantile(s[np.isfinite(s)], 1 - share)
        limit = np.full(len(s), limit, np.float32)
        limit[0] = np.inf  # a row with no suspect
        rr, cc = rank._nonzero(s > limit[:, None])
        count = np.bincount(rr, minlength=len(s))
        crowded = np.flatnonzero(count > per_row)
        keep = np.repeat(count <= per_row, count)
        got_r, got_c = rank._crowded_best(s, rr, cc, keep, crowded, per_row)
        assert list(zip(got_r.tolist(), got_c.tolist())) == _reference(s, rr, cc, keep, crowded, per_row)


def test_the_bounded_solve_keeps_the_exact_optimum_with_crowded_rows(monkeypatch):
    """With 3 suspects a row per pass most rows crowd; the certified solve on the bounds still
    ends at the exact optimum."""
    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 3)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=21)
    mentors["capacity"] = 4
    assert_bounded_solve_is_exact(mentors, mentees)


@pytest.mark.parametrize("native_on", [True, False])
def test_a_pass_in_group_order_gives_the_pools_floors_and_best_rows_by_mentor(native_on, monkeypatch):
    """A first pass with floors per mentor group on a bounded scorer whose bound is its coded
    groups and one product column: with its blocks in group order (:func:`.groups.group_order`)
    it gives the same pools, floors per group, mentors' best rows and ceilings as in the mentors'
    order, excluded pairs and prices with ties (many mentors at one price) included."""
    import mentormatch.pipeline as pl
    from mentormatch import _native
    from mentormatch.solvers.bounded import groups as G

    mentors, mentees = synthetic.organisation(n_mentees=900, n_mentors=500, seed=5)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 0)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    sc = pl.prepare(mentors, mentees).scorer
    groups = G.mentor_groups(sc)
    if sc.codes is None:
        pytest.skip("no coded groups on this CPU (no AVX2 kernel): no group order")
    if not native_on:
        monkeypatch.setitem(_native._chosen, "scan", None)
    monkeypatch.setattr(G, "ORDER_ROWS", 0)
    rng = np.random.default_rng(0)
    price = np.where(rng.random(sc.m) < 0.5, 0.0, rng.integers(0, 8, sc.m) / 4)  # (ties)
    price[rng.random(sc.m) < 0.05] = np.inf
    ex = np.unique(rng.integers(0, sc.n * sc.m, 300))
    kw = dict(excl_i=ex // sc.m, excl_j=ex % sc.m, pool_size=24, mentor_k=6, groups=groups)
    assert groups is not None and G.group_order(sc, groups, price.astype(np.float32)) is not None
    got = passes._scan(sc, np.arange(sc.n), None, price, **kw)
    monkeypatch.setattr(passes, "group_order", lambda *a: None)
    want = passes._scan(sc, np.arange(sc.n), None, price, **kw)
    for x, y in [*zip(want.pool, got.pool), (want.group_floor, got.group_floor), *zip(want.mentor_best, got.mentor_best),
                 (want.mentor_ceiling, got.mentor_ceiling)]:
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
