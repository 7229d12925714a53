"""Max-min's flows on ``s + W [s >= t]`` over the scale path's bounds keep ``W`` out of the
float32 bounds (solvers/threshold.py, ``ThresholdBounds``: the passes take ``W`` off the price
of the pairs whose bound reaches ``t``).

Until s22 ``W`` was added to each float32 bound, so the bounds' margin and the checks' slack grew
with ``W`` (about ``W 2**-22``: 0.18 at 20,000 x 5,000, about 1 at 100,000 x 20,000 against
scores of 0-9), most pairs of a row became suspects scored exactly, and max-min at 100,000 x
20,000 ran out of memory. The checks:

* the view's stored bounds, ``margin`` and ``largest`` are the base's whatever ``W``, and a
  pass's values (``less``) are ``bound + W [bound + margin >= t] - price`` computed on numbers of
  the plain scores' size;
* ``solve_bounded`` of the flow on ``s + W [s >= t]`` equals scipy's ``linear_sum_assignment``
  on the same lexicographic problem (the most pairs at least ``t``, then the largest total),
  built from the exact scores in float64 (the places expanded: a row per unit of demand, a
  column per place and one per unit left unmatched), for a small and a large ``W``, and a
  large ``W`` no longer sends most eligible pairs to the exact scores (pools of 8 pairs a row
  of 100, as 64 of 20,000 at scale; fewer places than mentees, as the synthetic organisations
  at scale).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers import SolverOptions
from mentormatch.solvers import bounded
from mentormatch.solvers.bounded import solve_bounded
from mentormatch.solvers.threshold import ThresholdBounds

from _support import scorer_of

SMALL, LARGE = 2.0 ** 12, 2.0 ** 24  # LARGE: the old margin was 12, above every score


@pytest.fixture(scope="module")
def case():
    mentors, mentees = synthetic.organisation(n_mentees=300, n_mentors=100, seed=3)
    sc = scorer_of(pl.prepare(mentors, mentees))
    up = sc.upper(0, sc.n)
    r, j = np.nonzero(up > -BIG / 2)
    s = sc.exact_scores(r, j)
    ok = np.isfinite(s)
    cap = np.minimum(mentors["capacity"].to_numpy(), 1).astype(float)  # tight: a real trade-off
    return sc, sc.order[r[ok]], j[ok], s[ok], cap


def _lexicographic_lsa(mentee, mentor, s, t, cap, dem):
    """(most pairs scoring >= t, their largest total) by scipy's linear_sum_assignment on the
    places expanded (every capacity 1: a row per unit of demand, each mentor's one column, and
    a column per row for a unit left unmatched), each pair weighted ``s + 1e4 [s >= t]`` in
    float64: 1e4 is above any change of the total (at most 2 x 300 pairs x 8)."""
    assert np.all(cap <= 1)
    n, m = len(dem), len(cap)
    weight = np.full((n, m), -1e9)  # ineligible
    weight[mentee, mentor] = np.where(s >= t, s + 1e4, np.maximum(s, 0.0))
    weight[:, cap < 1] = -1e9
    rows = np.repeat(np.arange(n), dem)
    full = np.hstack([weight[rows], np.zeros((len(rows), len(rows)))])
    r, c = linear_sum_assignment(full, maximize=True)
    on = (c < m) & (full[r, c] > -1e8)
    i, j = rows[r[on]], c[on]
    assert len(np.unique(i * m + j)) == len(i)  # (a mentor once a mentee: one column each)
    got = weight[i, j]
    return int((got >= 1e4).sum()), float(np.where(got >= 1e4, got - 1e4, got).sum())


@pytest.mark.parametrize("w", [SMALL, LARGE])
def test_the_stored_bounds_stay_plain_and_a_pass_takes_w_off_the_price(case, w):
    sc = case[0]
    t = 3.5
    view = ThresholdBounds(sc, t, w)
    assert view.margin == sc.margin and view.largest == sc.largest  # (before: margin ~ w 2**-22)
    np.testing.assert_array_equal(view.upper(0, sc.n), sc.upper(0, sc.n))
    rng = np.random.default_rng(0)
    price = w + rng.uniform(-3, 3, sc.m)  # prices as a flow on s + w holds them (near w + s)
    price[5] = np.inf  # a mentor with no place
    b = sc.upper(0, sc.n).astype(np.float64)
    lifted = (price - w).astype(np.float32)
    got = view.less(0, sc.n, np.empty((sc.n, sc.m), np.float32), price.astype(np.float32), lifted)
    eligible = (b > -BIG / 2) & np.isfinite(price)[None, :]
    want = b + np.where(b + sc.margin >= t, w, 0.0) - price[None, :]
    near = eligible & (b + sc.margin >= t)
    # the pairs reaching t: plain-sized numbers, so float32's rounding of them, not of w
    assert np.abs(got[near] - want[near]).max() <= 4 * 2.0 ** -24 * (np.abs(b[near]).max() + 4)
    assert np.all(got[eligible & ~near] < -w / 2)  # the others: far below any check's limit
    assert np.all(got[~eligible] < -BIG / 4)  # ineligible pairs stay ineligible
    # every eligible pair reaching t (t = -inf): the lifted price everywhere
    all_up = ThresholdBounds(sc, -np.inf, w).less(0, sc.n, np.empty((sc.n, sc.m), np.float32),
                                                  price.astype(np.float32), lifted)
    ok = b > -BIG / 2
    assert np.abs(all_up[ok & np.isfinite(price)] - (b + w - price[None, :])[ok & np.isfinite(price)]).max() \
        <= 4 * 2.0 ** -24 * (np.abs(b[ok]).max() + 4)


@pytest.mark.parametrize("t", [-np.inf, 4.3])  # 4.3: 88 pairs of 99, a lower total
@pytest.mark.parametrize("demand", [1, 2])
def test_the_threshold_flow_on_bounds_is_lexicographic_optimal_and_w_spares_the_exact_scores(case, t, demand):
    sc, mentee, mentor, s, cap = case
    dem = np.full(sc.n, demand, np.int64)
    count, total = _lexicographic_lsa(mentee, mentor, s, t, cap, dem)
    scored = {}
    for w in (SMALL, LARGE):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(bounded, "POOL_PER_ROW", 8)
            problem, sol = solve_bounded(ThresholdBounds(sc, t, w), cap, demand=dem,
                                         options=SolverOptions(top_k=2))
        assert sol.status == "optimal"
        P = problem.pairs
        ci, cj = P.mentee[sol.chosen], P.mentor[sol.chosen]
        plain = sc.exact_scores(sc.inverse[ci], cj)
        # recomputed from the inputs: places, eligibility, the two keys
        assert np.all(np.bincount(cj, minlength=sc.m) <= cap)
        assert np.all(np.bincount(ci, minlength=sc.n) <= dem)
        assert len(np.unique(ci * sc.m + cj)) == len(ci) and np.all(np.isfinite(plain))
        assert int((plain >= t).sum()) == count
        assert plain.sum() == pytest.approx(total, abs=sol.certificate["rounding_bound"] + 1e-7)
        scored[w] = sol.certificate["pairs_scored_exactly"]
    # before, the margin (12 at LARGE) sent most pairs to the exact scores: at t = -inf every
    # eligible one (29,201 against 8,631 at SMALL, demand 1), at 4.3 13,117 (8,100); now 10,629
    # (8,624) and 9,358 (8,027)
    assert scored[LARGE] <= 1.5 * scored[SMALL]
