"""The bounds checker under ``coverage_first``'s prices (s17h6): prices of the size of the
coverage weight ``W`` (an unmatched mentee's ``u_i`` near ``-W``, a full mentor's ``p_j`` near
``W + s``) are checked in a shifted frame, so the float32 passes' slack stays of the size of the
scores and the guard clears as many rows as it does for the same reduced gains at small prices.
"""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import check, exact, solve_bounded
from mentormatch.solvers.bounded import _first_pass

from _support import exact_round, scorer_of

#: The check's tolerance: above float64's rounding of a gain at prices of 2**30 (2**-22).
TOL = 2.0 ** -12


def _checkers(seed: int, pool: int):
    mentors, mentees = synthetic.organisation(n_mentees=120, n_mentors=30, seed=seed)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    prep, _, _ = exact_round(mentors, mentees, None)
    scorer = scorer_of(prep, None)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    _, sol = solve_bounded(scorer, cap, options=SolverOptions(top_k=1))
    assert sol.status == "optimal"
    u, p = sol.prices[0][scorer.order], sol.prices[1]  # (the checker's rows: the scorer's order)
    dem = np.ones(scorer.n, np.int64)
    e = np.zeros(0, np.int64)

    def make():
        pl, _, _ = _first_pass(scorer, None, None, pool, 0, cap, dem, e, e, False)
        return check._Certifier(scorer, exact._Exact(scorer), pl, e, e, False)
    return scorer, u, p, make


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("bump", [0.25, 0.0625])
def test_prices_shifted_by_the_weight_check_as_the_small_ones(seed, bump):
    """``(u - C, p + C)`` with ``C = 2**30`` (a coverage weight) has the same reduced gains as
    ``(u, p)``: the same violators, the same largest gain, and no more rows scanned in full
    (in float32 at 2**30 the slack would be about 2**8: every row). Prices lowered by ``bump``
    on some mentors make violators and guard failures to compare."""
    scorer, u, p, make = _checkers(seed, pool=3)
    rng = np.random.default_rng(seed)
    p = np.where(rng.random(len(p)) < 0.3, p - bump, p)
    u, p = np.round(u * 2.0 ** 20) / 2.0 ** 20, np.round(p * 2.0 ** 20) / 2.0 ** 20  # (+-C exact)
    C = 2.0 ** 30
    chosen = check._Sparse(*(np.zeros(0, np.int64),) * 3, np.zeros(0))
    small, big = make(), make()
    v1, e1 = small.check(u, p, chosen, TOL, 4)
    v2, e2 = big.check(u - C, p + C, chosen, TOL, 4)
    assert big.shift == C and small.shift == 0.0
    key = lambda v: sorted(zip(v.i.tolist(), v.j.tolist()))  # noqa: E731
    assert len(v1.i) > 0 and key(v1) == key(v2)
    assert e2 == pytest.approx(e1, abs=1e-6)
    assert big.rows_rescanned <= small.rows_rescanned < scorer.n
    # a second round at other prices: the frame is kept, the pools' generations agree
    p2 = np.where(rng.random(len(p)) < 0.3, p - bump, p)  # (multiples of 2**-20 still)
    w1, _ = small.check(u, p2, chosen, TOL, 4)
    w2, _ = big.check(u - C, p2 + C, chosen, TOL, 4)
    assert key(w1) == key(w2) and big.shift == C
    assert big.rows_rescanned <= small.rows_rescanned


@pytest.mark.parametrize("seed", range(3))
def test_a_far_price_does_not_widen_every_rows_slack(seed):
    """Three mentors priced out by 64 or by 2**31 (as a mentor at price 0 sits at ``-W`` in
    coverage_first's frame, or a full one at ``+W`` in the plain frame): their pairs violate in
    neither, and the check does the same work and finds the same violators: the slack is per
    row, not ``2**-22`` times the largest price (at 2**31, about 2**9: every pair a suspect)."""
    scorer, u, p, make = _checkers(seed, pool=3)
    assert scorer.largest < 64
    rng = np.random.default_rng(seed)
    p = np.where(rng.random(len(p)) < 0.3, p - 0.25, p)
    out = rng.choice(len(p), 3, replace=False)
    chosen = check._Sparse(*(np.zeros(0, np.int64),) * 3, np.zeros(0))
    got = []
    for far in (64.0, 2.0 ** 31):
        q = p.copy()
        q[out] += far
        c = make()
        v, e = c.check(u, q, chosen, TOL, 4)
        assert not np.isin(v.j, out).any()
        got.append((sorted(zip(v.i.tolist(), v.j.tolist())), e, c.rows_rescanned, c.pairs_rechecked))
    assert len(got[0][0]) > 0
    assert got[0] == got[1]
