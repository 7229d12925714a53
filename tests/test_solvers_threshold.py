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
* ``solve_bounded`` of the flow on ``s + W [s >= t]`` equals scipy's ``milp`` (HiGHS) on the
  same lexicographic problem (the most pairs at least ``t``, then the largest total) built from
  the exact scores, for a small and a large ``W``, and a large ``W`` no longer sends most
  eligible pairs to the exact scores (pools of 8 pairs a row of 100, as 64 of 20,000 at scale;
  fewer places than mentees, as the synthetic organisations at scale).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

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


def _lexicographic_milp(mentee, mentor, s, t, cap, dem):
    """(most pairs scoring >= t, then the largest total of s over the pairs with s > 0 or >= t)
    by two milp solves: the count, then the total with the count fixed."""
    use = (s >= t) | (s > 0)  # the flow's network: a pair below t scoring <= 0 adds nothing
    mentee, mentor, s = mentee[use], mentor[use], s[use]
    k = len(s)
    rows = np.concatenate([mentee, len(dem) + mentor])
    a = csr_matrix((np.ones(2 * k), (rows, np.concatenate([np.arange(k)] * 2))), shape=(len(dem) + len(cap), k))
    places = LinearConstraint(a, 0, np.concatenate([dem, cap]))
    above = (s >= t).astype(float)
    first = milp(-above, constraints=[places], integrality=np.ones(k), bounds=Bounds(0, 1))
    count = round(-first.fun)
    fixed = LinearConstraint(above[None, :], count, np.inf)
    second = milp(-s, constraints=[places, fixed], integrality=np.ones(k), bounds=Bounds(0, 1))
    assert first.status == 0 and second.status == 0
    return count, -second.fun


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


@pytest.mark.parametrize("t", [-np.inf, 3.6])
@pytest.mark.parametrize("demand", [1, 2])
def test_the_threshold_flow_on_bounds_equals_milp_and_w_does_not_flood_the_exact_scores(case, t, demand):
    sc, mentee, mentor, s, cap = case
    dem = np.full(sc.n, demand, np.int64)
    count, total = _lexicographic_milp(mentee, mentor, s, t, cap, dem)
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
    # eligible one (29,201, against 8,631 at SMALL), at 3.6 14,033 (8,604)
    assert scored[LARGE] <= 1.5 * scored[SMALL]
