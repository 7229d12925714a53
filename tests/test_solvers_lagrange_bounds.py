"""The bounds the budget's Lagrangian reports (solvers/lagrange.py) hold for ANY prices its
certificate allows. A certified flow's prices are fixed only up to the facts the certificate
checks (``s_ij - u_i - p_j <= eps`` on every unchosen pair): ``u - t``, ``p + t`` meet them as
well, and make mentee prices negative. ``price_curve``'s bound, against scipy's milp on the
full model, with such shifted prices: it holds; the same formula without raising ``u`` to 0
(recomputed here from its docstring) falls below the optimum, so the instance tells the two
apart (a bound of 55,539.76 under a feasible 217,839.83 was seen once at 100,000 x 20,000)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mentormatch.solvers import SolverOptions
from mentormatch.solvers.certify import solve_sparse_certified
from mentormatch.solvers.lagrange import price_curve
from mentormatch.solvers.linear import budget_rounded

from test_solvers_engine import instance, reference


def _flow(seed):
    """A budget instance, its plain certified flow (prices and certificate), the costs per
    place ``c`` and the rounded budget ``B``."""
    p = instance(seed, n=50, m=12, density=0.7)
    plain = p.without_side()
    sol = solve_sparse_certified(plain, SolverOptions(top_k=2), 0.0)
    assert sol.status == "optimal" and sol.prices is not None and sol.certificate["holds"]
    side, cap = p.side, p.capacity
    c = side.stipend_per_mentee + np.where(cap > 0, side.stipend_fixed / np.maximum(cap, 1), 0.0)
    B = budget_rounded(side.budget, side.stipend_per_mentee, side.stipend_fixed)
    return p, plain, sol, c, B


def _unclipped(u, p, plain, sol, c, B, lam):
    """``D(lambda)`` of price_curve's docstring with the mentee prices as given (not raised to
    0): what weak duality does not allow."""
    P, d, cap = plain.pairs, plain.demand, plain.capacity
    ch = sol.chosen
    pp = np.maximum(0.0, p - lam * c)
    w = np.maximum(0.0, plain.score[ch] - lam * c[P.mentor[ch]] - u[P.mentee[ch]] - pp[P.mentor[ch]])
    most = min(float(d.sum()), float(cap.sum()))
    return lam * B + float(d @ u) + float(cap @ pp) + float(w.sum()) + \
        sol.certificate["max_reduced_gain"] * most


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("t", [0.5, 3.0, 20.0])
def test_the_price_curve_holds_for_prices_shifted_by_a_constant(seed, t):
    p, plain, sol, c, B = _flow(seed)
    best = reference(p)
    u, pm = (np.asarray(x, float) for x in sol.prices)
    P = plain.pairs
    # the shifted prices meet the certificate: every pair's s - u - p is unchanged
    assert np.all(u[P.mentee] - t + pm[P.mentor] + t == pytest.approx(u[P.mentee] + pm[P.mentor]))
    assert np.all(u < t) and plain.demand.sum() > plain.capacity.sum()  # u - t < 0 everywhere
    shifted = dataclasses.replace(sol, prices=(u - t, pm + t))
    chosen = (P.mentee[sol.chosen], P.mentor[sol.chosen])
    lam, bound = price_curve(shifted, plain.score[sol.chosen], chosen, plain.demand,
                             plain.capacity, c, B)
    assert lam >= 0 and bound >= best - 1e-6
    # as given, the prices bound nothing: below the optimum at lambda 0 and at the curve's lambda
    assert min(_unclipped(u - t, pm + t, plain, sol, c, B, 0.0),
               _unclipped(u - t, pm + t, plain, sol, c, B, lam)) < best - 1e-6
    # and the bound from the flow's own prices is no weaker than from the shifted ones
    lam0, bound0 = price_curve(sol, plain.score[sol.chosen], chosen, plain.demand, plain.capacity,
                               c, B)
    assert best - 1e-6 <= bound0 <= bound + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_the_price_curve_holds_for_mentor_prices_shifted_down(seed):
    """The other direction: ``u + t``, ``p - t`` (mentor prices negative): the bound holds."""
    p, plain, sol, c, B = _flow(seed)
    u, pm = (np.asarray(x, float) for x in sol.prices)
    P = plain.pairs
    for t in (0.5, 5.0):
        shifted = dataclasses.replace(sol, prices=(u + t, pm - t))
        _, bound = price_curve(shifted, plain.score[sol.chosen], (P.mentee[sol.chosen], P.mentor[sol.chosen]),
                               plain.demand, plain.capacity, c, B)
        assert bound >= reference(p) - 1e-6
