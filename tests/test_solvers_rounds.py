"""The certified rounds of the plain flow (solvers/rounds.py), apart from any pair source: a
checker written here over a dense matrix (every pair's reduced gain in one numpy expression)
drives the loop to the brute-force optimum, with a bound that holds and the pairs the complete
source's checker gives; the loop's hooks (early stops, repairs, warm prices, certify=False) do
what the Checker protocol says; and both sources' certificates carry the loop's keys."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, warm
from mentormatch.solvers.bounded import solve_bounded
from mentormatch.solvers.certify import solve_scored
from mentormatch.solvers.rounds import certified_rounds
from mentormatch.solvers.sparse import _merge, _Sparse, empty
from mentormatch.testing import feasible_assignments

#: The keys the rounds themselves write into every certified certificate, whatever the source.
LOOP_KEYS = {"method", "scale", "rounding_bound", "n_max", "top_k", "pairs_in_sparse", "rounds",
             "violations_added", "warm_repairs", "or_tools_status", "holds", "bellman_ford_sweeps",
             "dual_objective", "max_reduced_gain", "tolerance", "ties"}


class DenseChecker:
    """A checker of the rounds' protocol over a dense (n x m) matrix ``s`` (-inf: ineligible)."""

    method, ties, ranks = "dense test checker", True, None

    def __init__(self, s: np.ndarray, stop=None):
        self.s, self.width, self.stop_rule = s, s.shape[1], stop
        self.stages, self.tie_records = [], []

    def _gain(self, u, p, chosen: _Sparse) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            r = self.s - u[:, None] - p[None, :]
        r[np.isnan(r)] = -np.inf
        r[chosen.i, chosen.j] = -np.inf
        return r

    def _pairs(self, r, over) -> _Sparse:
        i, j = np.nonzero(r > over)
        return _Sparse(i, j, j, self.s[i, j])

    def check(self, u, p, chosen, tol, per_row):
        r = self._gain(u, p, chosen)
        viol = self._pairs(r, tol)
        if len(viol.i):  # each mentee's per_row most violating
            g = r[viol.i, viol.j]
            order = np.lexsort((viol.j, -g, viol.i))
            i, j = viol.i[order], viol.j[order]
            keep = np.arange(len(i)) - np.searchsorted(i, i) < per_row
            viol = _Sparse(i[keep], j[keep], j[keep], self.s[i[keep], j[keep]])
        return viol, max(float(r.max(initial=-np.inf)), 0.0)

    def tight(self, u, p, chosen, gain):
        return self._pairs(self._gain(u, p, chosen), gain)

    def ceiling(self, u, p):  # exact: each row's largest s - u - p (mentors with places)
        return self._gain(u, p, _Sparse(*(np.zeros(0, np.int64),) * 3, np.zeros(0))).max(axis=1, initial=-np.inf)

    def tied(self, ties):
        self.tie_records.append(ties)

    def stop(self, new, size):
        return self.stop_rule is not None and self.stop_rule(new, size)

    def record(self, cert, stage):
        self.stages.append(stage)

    def note(self):
        return "a dense matrix"


def _instance(seed: int):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    s = rng.integers(-1, 4, (n, m)).astype(float) / 2  # many exact ties
    if seed % 2:
        s += rng.random((n, m)) * 0.01
    s[rng.random((n, m)) < 0.2] = -np.inf
    cap = rng.integers(0, 3, m).astype(np.int64)
    dem = rng.integers(0, 3, n).astype(np.int64)
    return s, cap, dem


def _seed(s, cap, dem) -> _Sparse:
    """Each mentee's one best positive pair with room: the smallest start the rounds accept."""
    ok = (s > 0) & (cap[None, :] > 0) & (dem[:, None] > 0)
    i = np.flatnonzero(ok.any(axis=1))
    j = np.argmax(np.where(ok, s, -np.inf), axis=1)[i]
    return _merge(_Sparse(i, j, j, s[i, j]), empty(), s.shape[1])


def _brute(s, cap, dem) -> float:
    elig = np.isfinite(s)
    problem = AssignmentProblem(Candidates.from_mask(elig), s[elig], cap.astype(float), demand=dem.astype(float))
    return feasible_assignments(problem).best_total


@pytest.mark.parametrize("seed", range(40))
def test_a_checker_of_its_own_drives_the_rounds_to_the_brute_force_optimum(seed):
    s, cap, dem = _instance(seed)
    checker = DenseChecker(s)
    out = certified_rounds(_seed(s, cap, dem), cap, dem, checker, SolverOptions(), 1)
    sp, chosen = out.sparse, out.chosen
    objective = float(sp.s[chosen].sum())
    best = max(_brute(s, cap, dem), 0.0)
    assert out.optimal and out.certificate["holds"]
    assert objective == pytest.approx(best, abs=1e-9)
    assert best <= out.bound + 1e-9 and out.bound - objective <= out.certificate["rounding_bound"] + 1e-9
    assert (np.bincount(sp.j[chosen], minlength=len(cap)) <= cap).all()
    assert (np.bincount(sp.i[chosen], minlength=len(dem)) <= dem).all()
    assert np.isfinite(sp.s[chosen]).all()
    assert checker.stages == ["round"] * out.certificate["rounds"] + ["holds"]
    assert LOOP_KEYS <= set(out.certificate) and out.certificate["method"] == "dense test checker"
    # the prices prove it: no unchosen pair gains more than eps, as recomputed here
    u, p = out.prices
    with np.errstate(invalid="ignore"):
        r = s - u[:, None] - p[None, :]
    r[sp.i[chosen], sp.j[chosen]] = -np.inf
    assert np.nan_to_num(r, nan=-np.inf).max(initial=0.0) <= out.certificate["max_reduced_gain"] + 1e-12
    # the same tie rule as the complete source's checker: the same pairs
    problem, sol = solve_scored(s, cap, demand=dem, options=SolverOptions(top_k=1))
    theirs = sorted(zip(problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()))
    assert sorted(zip(sp.i[chosen].tolist(), sp.j[chosen].tolist())) == theirs
    assert checker.tie_records[-1] is not None and out.certificate["ties"] is checker.tie_records[-1]


def _contested():
    """Three mentees whose best mentor (0) has one place: the first round has violators."""
    s = np.array([[3.0, 1.0], [2.9, 2.0], [2.8, 0.5]])
    return s, np.array([1, 2]), np.ones(3, np.int64)


def test_a_stop_before_the_check_returns_the_first_prices_unproven():
    s, cap, dem = _contested()
    asked = []
    checker = DenseChecker(s, stop=lambda new, size: asked.append(new) or new is None)
    out = certified_rounds(_seed(s, cap, dem), cap, dem, checker, SolverOptions(), 1)
    assert asked == [None] and checker.stages == ["round", "stopped"]
    assert not out.optimal and not out.certificate["holds"]
    assert out.prices is not None and out.certificate["rounds"] == 1
    assert out.bound >= _brute(s, cap, dem) - 1e-9  # the stopped rounds' bound (stopped_bound)


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("when", ["before the first check", "after the first check", "before the second check"])
def test_a_stop_anywhere_gives_a_bound_at_least_brute_forces_optimum(seed, when):
    """The bound of rounds stopped uncertified (:func:`rounds.stopped_bound`, from the
    checker's ceiling of each row) is at least the brute-force optimum, with demands up to 2."""
    s, cap, dem = _instance(seed)
    if seed % 3 == 0:
        dem = np.where(np.arange(len(dem)) % 2, 2, dem)
    calls = []
    stop_at = {"before the first check": 1, "after the first check": 2, "before the second check": 3}[when]
    checker = DenseChecker(s, stop=lambda new, size: calls.append(new) or len(calls) == stop_at)
    out = certified_rounds(_seed(s, cap, dem), cap, dem, checker, SolverOptions(), 1)
    if out.optimal:  # certified before that stop
        assert out.bound >= _brute(s, cap, dem) - 1e-9
        return
    assert "stopped" in checker.stages
    assert out.bound is not None and out.bound >= _brute(s, cap, dem) - 1e-9
    assert out.bound >= float(out.sparse.s[out.chosen].sum()) - 1e-9


def test_a_stop_after_a_check_sees_the_pairs_it_added():
    s, cap, dem = _contested()
    asked = []
    checker = DenseChecker(s, stop=lambda new, size: asked.append((new, size)) or new is not None)
    out = certified_rounds(_seed(s, cap, dem), cap, dem, checker, SolverOptions(), 1)
    assert checker.stages == ["round", "stopped"] and not out.optimal and out.prices is not None
    (before, _), (new, size) = asked
    assert before is None and size == 3 and new >= 1  # each mentee's best (mentor 0), then more
    assert out.bound >= _brute(s, cap, dem) - 1e-9
    full = certified_rounds(_seed(s, cap, dem), cap, dem, DenseChecker(s), SolverOptions(), 1)
    assert full.optimal and full.certificate["rounds"] >= 2
    assert full.sparse.s[full.chosen].sum() == pytest.approx(_brute(s, cap, dem))


def test_certify_false_gives_the_first_flow_unpriced():
    s, cap, dem = _contested()
    checker = DenseChecker(s)
    out = certified_rounds(_seed(s, cap, dem), cap, dem, checker, SolverOptions(certify=False), 1)
    assert not out.optimal and out.prices is None and out.bound is None
    assert checker.stages == ["round"] and out.certificate["rounds"] == 1


@pytest.mark.parametrize("seed", [3, 8, 11])
def test_repairs_and_warm_prices_reach_the_cold_optimum(monkeypatch, seed):
    """The repair hook (here the bounded source's warm repair, any number of violators) and warm
    first prices change how the rounds get there, not where: the same pairs and objective; the
    certificate lists the rounds that were repaired."""
    monkeypatch.setattr(warm, "MAX_VIOLATORS", 10 ** 9)
    monkeypatch.setattr(warm, "MAX_PHASES", 10 ** 9)
    rng = np.random.default_rng(seed)
    s = rng.random((40, 8))
    s[rng.random(s.shape) < 0.1] = -np.inf
    cap, dem = np.full(8, 4, np.int64), np.ones(40, np.int64)
    cold = certified_rounds(_seed(s, cap, dem), cap, dem, DenseChecker(s), SolverOptions(), 1)
    calls = []

    def counted(*args):
        calls.append(len(args[0]))
        return warm.resolve(*args)

    guess = (np.zeros(40), np.full(8, 0.5))
    hot = certified_rounds(_seed(s, cap, dem), cap, dem, DenseChecker(s), SolverOptions(), 1, repair=counted,
                           warm=guess)
    pairs = [sorted(zip(o.sparse.i[o.chosen].tolist(), o.sparse.j[o.chosen].tolist())) for o in (cold, hot)]
    assert cold.optimal and hot.optimal and pairs[0] == pairs[1]
    assert hot.sparse.s[hot.chosen].sum() == pytest.approx(cold.sparse.s[cold.chosen].sum(), abs=1e-12)
    assert cold.certificate["rounds"] >= 2 and cold.certificate["warm_repairs"] == []
    assert len(calls) == hot.certificate["rounds"] - 1  # every round after the first
    assert [r["round"] for r in hot.certificate["warm_repairs"]] == list(range(2, hot.certificate["rounds"] + 1))


def test_both_sources_report_the_loops_keys(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    scorer = pl.prepare(mentors, mentees).scorer
    cap = np.full(scorer.m, 3.0)
    _, on_bounds = solve_bounded(scorer, cap, options=SolverOptions(top_k=1))
    rng = np.random.default_rng(4)
    _, on_rows = solve_scored(rng.random((60, 20)), cap, options=SolverOptions(top_k=1))
    for sol in (on_bounds, on_rows):
        assert sol.status == "optimal" and LOOP_KEYS <= set(sol.certificate)
        assert sol.certificate["bellman_ford_sweeps"] >= sol.certificate["rounds"]
    assert on_rows.certificate["warm_repairs"] == []  # the complete source solves each round cold


def test_a_sub_markets_early_exits(monkeypatch):
    """The bounds checker's stop policy for a sub-market (market.Settling): stop after a check
    that added at most GUIDE_SETTLED of the set; after one that added at most GUIDE_SETTLING,
    stop before the next round's check."""
    from mentormatch.solvers.bounded import market

    monkeypatch.setattr(market, "GUIDE_SETTLED", 0.01)
    monkeypatch.setattr(market, "GUIDE_SETTLING", 0.1)
    settle = market.Settling()
    assert not settle(None, 1000)  # the first round is always checked
    assert not settle(500, 1000) and not settle(None, 1000)  # many added: check the next round
    assert not settle(100, 1000) and settle(None, 1000)  # few: the next round stops unchecked
    assert settle(10, 1000)  # settled: stop after this check


@pytest.mark.parametrize("seed", range(6))
def test_rounds_on_costs_divided_by_their_common_factor_give_the_same_pairs(seed, monkeypatch):
    """Scores on a few levels, on the sparse certified path (``top_k`` forces it): the rounds'
    flow takes its costs divided by their common factor (the tie rule follows it), and the
    pairs, objective and bound are those of the flow on the costs as they are; the objective
    is scipy's linear_sum_assignment optimum on the capacity-expanded matrix."""
    from scipy.optimize import linear_sum_assignment

    from mentormatch.solvers import flow, rounds
    from mentormatch.solvers.certify import solve_flow_any

    rng = np.random.default_rng(seed)
    n, m = 50, 12
    s = np.floor(rng.random((n, m)) * 4) / 4 + 0.25
    elig = rng.random((n, m)) > 0.05
    cap = rng.integers(1, 5, m).astype(float)
    prob = AssignmentProblem(Candidates.from_mask(elig), s[elig], cap)
    divided = []
    undivided = flow.solve_arrays

    def spy(*a, common_factor=False):
        divided.append(common_factor)
        return undivided(*a, common_factor=common_factor)

    monkeypatch.setattr(rounds, "solve_arrays", spy)
    sol = solve_flow_any(prob, SolverOptions(top_k=2))
    assert any(divided)  # (the case under test: the rounds asked for the divided costs)
    monkeypatch.setattr(rounds, "solve_arrays", lambda *a, common_factor=False: undivided(*a))
    sol0 = solve_flow_any(prob, SolverOptions(top_k=2))
    assert sol.status == sol0.status == "optimal"
    assert sol.chosen.tolist() == sol0.chosen.tolist()
    assert (sol.objective, sol.bound) == (sol0.objective, sol0.bound)
    cost = np.repeat(np.where(elig, -s, 0.0), cap.astype(int), axis=1)
    r, c = linear_sum_assignment(cost)
    assert sol.objective == pytest.approx(-cost[r, c].sum(), abs=1e-9)


def _after_round(last: int):
    """A stop rule that ends the rounds after round ``last``'s flow and prices, before its check
    (as a sub-market's settled round does)."""
    seen = []

    def stop(new, size):
        if new is None:
            seen.append(size)
        return new is None and len(seen) == last
    return stop


@pytest.mark.parametrize("seed", range(8))
def test_a_guides_prices_after_a_repair_are_a_cold_flows(monkeypatch, seed):
    """A guide's rounds (``guide=True``: a sub-market's, whose prices only rank another level's
    pairs) give the same prices whether a round's flow was repaired or solved cold: from the
    last round's potentials both take the greatest dual optimum below them, the same whichever
    optimum the flow reached (scores with many ties: several optima)."""
    for name, value in (("MAX_VIOLATORS", 10 ** 9), ("MAX_PHASES", 10 ** 9), ("NATIVE_SHARE", 1.0),
                        ("NATIVE_FLOOR", 10 ** 9)):
        monkeypatch.setattr(warm, name, value)
    rng = np.random.default_rng(seed)
    s = rng.integers(1, 7, (60, 10)).astype(float) / 2
    s[rng.random(s.shape) < 0.1] = -np.inf
    cap, dem = rng.integers(1, 5, 10).astype(np.int64), rng.integers(1, 3, 60).astype(np.int64)
    guess = (np.zeros(60), np.full(10, 0.5))
    out = {}
    for how, repair in (("cold", None), ("repaired", warm.resolve)):
        out[how] = certified_rounds(_seed(s, cap, dem), cap, dem, DenseChecker(s, _after_round(2)), SolverOptions(),
                                    1, warm=guess, repair=repair, guide=True)
    assert out["cold"].certificate["rounds"] == out["repaired"].certificate["rounds"] == 2
    assert [r["round"] for r in out["repaired"].certificate["warm_repairs"]] == [2]
    for a, b in zip(out["cold"].prices, out["repaired"].prices):
        assert np.array_equal(a, b)
