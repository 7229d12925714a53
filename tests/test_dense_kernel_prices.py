"""``solve_dense``'s prices from the compiled flow's own potentials (``round_flow`` returns
them; ``duals.prices_at`` makes the prices): no Bellman-Ford sweep after a compiled round, the
same pairs and status as OR-Tools' flow with the shortest distances' prices, a bound within
rounding of theirs and never below scipy's optimum on the capacity-expanded matrix, and prices
under which no eligible pair outside the answer gains more than the certificate says."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mentormatch._native import assign_kernel
from mentormatch.pairs import DenseRows
from mentormatch.solvers.dense import flow as dense_flow
from mentormatch.solvers.dense import solve_dense
from mentormatch.solvers.dense.flow import round_flow
from mentormatch.solvers.duals import potentials, prices, prices_at
from mentormatch.solvers.flow import network
from mentormatch.solvers.quantize import integer_costs

pytestmark = pytest.mark.skipif(assign_kernel() is None,
                                reason="the compiled flow is not in use (not built, or MENTORMATCH_NATIVE=0)")


def _instance(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 40)), int(rng.integers(2, 12))
    s = rng.random((n, m)) * 2 - 0.3  # some scores <= 0: no arc of the flow
    if seed % 2:
        s = np.round(s * 3) / 3  # many ties
    s[rng.random((n, m)) < 0.1] = -np.inf
    f = rng.random((n, m)) < 0.05
    cap = rng.integers(0, 4, m)  # capacity 0 too
    return s, f, cap


def _optimum(s, f, cap):
    n, m = s.shape
    w = np.where(f | ~np.isfinite(s), -1e6, s)[:, np.repeat(np.arange(m), cap)]
    w = np.hstack([w, np.zeros((n, n))])  # an "unmatched" column per mentee
    r, c = linear_sum_assignment(w, maximize=True)
    return float(w[r, c].sum())


def _pairs(problem, sol):
    return sorted(zip(problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()))


@pytest.mark.parametrize("seed", range(60))
def test_the_compiled_flows_prices_give_the_pairs_and_bound_of_the_shortest_distances(seed, monkeypatch):
    s, f, cap = _instance(seed)
    rows = DenseRows(s, f)
    problem, sol = solve_dense(rows, cap)
    with monkeypatch.context() as mp:  # OR-Tools' flow: no potentials, Bellman-Ford's prices
        mp.setattr(dense_flow, "assign_kernel", lambda: None)
        problem_o, sol_o = solve_dense(rows, cap)
    assert sol_o.certificate["flow"] == "or-tools" and sol.certificate["flow"] == "compiled"
    assert sol.status == sol_o.status == "optimal"
    assert _pairs(problem, sol) == _pairs(problem_o, sol_o)
    best = _optimum(s, f, cap)
    assert sol.objective == pytest.approx(best, abs=1e-9)
    assert best - 1e-9 <= sol.bound <= sol.objective + 1e-6
    assert sol.bound == pytest.approx(sol_o.bound, abs=1e-9)
    cert = sol.certificate
    if not cert["warm_repairs"] and cert["rounds"] == 1:  # one compiled round: no sweep at all
        assert cert["bellman_ford_sweeps"] == 0
    # the prices held: every eligible pair outside the answer gains at most max_reduced_gain
    u, p = sol.prices
    i, j = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    with np.errstate(invalid="ignore"):
        r = np.where(f | ~np.isfinite(s), -np.inf, s - u[:, None] - p[None, :])
    r[i, j] = -np.inf
    assert np.nan_to_num(r, nan=-np.inf).max(initial=0.0) <= cert["max_reduced_gain"] + 1e-12


@pytest.mark.parametrize("seed", range(40))
def test_the_kernels_potentials_prove_its_flow_and_price_it_as_the_sweeps_do(seed):
    """``round_flow``'s potentials (the source given the sink's) leave every residual arc of
    the network a reduced cost >= 0, and ``prices_at`` on them gives the dual objective of
    ``prices`` (Bellman-Ford's distances) within rounding: both are the integer optimum."""
    s, f, cap = _instance(seed)
    ok = ~f & np.isfinite(s)
    i, j = np.nonzero(ok)
    sc = s[i, j]
    dem = np.ones(s.shape[0], np.int64)
    res, by, pot = round_flow(i, j, sc, cap.astype(np.int64), dem)
    assert by == "compiled" and pot is not None
    di, dj, ds, dt = pot
    used, x = res.used, res.chosen
    rc = res.cost + di[i] - dj[j]
    assert (rc[used & ~x] >= 0).all() and (rc[x] <= 0).all()
    f_i = np.bincount(i[x], minlength=len(dem))
    load = np.bincount(j[x], minlength=len(cap))
    assert ((ds - di)[f_i < dem] >= 0).all() and ((di - ds)[f_i > 0] >= 0).all()
    assert ((dj - dt)[load < cap] >= 0).all() and ((dt - dj)[load > 0] >= 0).all()
    u, p, obj = prices_at(pot, i, j, x, sc, dem, cap, res.scale)
    u_b, p_b, obj_b, _, _ = prices(i, j, res.cost, x, sc, dem, cap, res.scale)
    assert obj == pytest.approx(obj_b, abs=1e-9)
    assert obj == pytest.approx(float(sc[x].sum()), abs=len(sc) / res.scale + 1e-12)
    # prices_at on the sweeps' own distances is prices' figure exactly (one formula)
    d = potentials(i, j, res.cost, x, dem, cap)
    assert prices_at(d[:4], i, j, x, sc, dem, cap, res.scale)[2] == obj_b
    # and no pair of positive score gains under the kernel's prices beyond rounding
    with np.errstate(invalid="ignore"):
        gain = sc - u[i] - p[j]
    assert np.nan_to_num(gain[~x], nan=-np.inf).max(initial=0.0) <= 1.0 / res.scale
