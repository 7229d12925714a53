"""Issue 23's checks on small instances (36 mentees x 12 mentors), on every pair source (the
complete set, cached blocks, bounds), against an independent exact solver: scipy's milp (HiGHS)
on the full model, written here from the definitions (``full_model_optimum``).

For each side constraint and objective (a stipend budget with fixed and per-mentee stipends,
minimum loads, incentives against reservation values, balanced loads, score and share floors by
region, fractional loads and capacities, coverage_first with a budget), on each source:

* the constraint binds (the plain optimum breaks it), so the check is not vacuous;
* ``pair()``'s pairs meet every constraint, recomputed from the caller's tables;
* its bound is at least milp's optimum, and its objective at most that optimum; equal when it
  says "optimal";
* no ``InfeasibleError`` (milp finds an assignment);
* the same pairs on every source where milp proves the optimum unique (a no-good cut on its
  optimum lowers the value);

at the engine's size policy and with the Lagrangians of large rounds forced. Also max-min
against three milps, a round's bonus (priority and continuity) against milp on score + bonus,
and the same pairs on every source where people are copies of a few profiles (many ties).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.rules import Rules
from mentormatch.solvers import route

from _support import SOURCES, on_source, result_positions, table_violations


def full_model_optimum(p, success_scale: float = 1.0, exclude=None, time_limit: float = 60.0):
    """The optimum of ``p`` (an AssignmentProblem with one mentor per mentee, no locks) by
    scipy's milp on the whole model: ``x`` per pair, ``y`` per mentor (active), and ``L`` (the
    common load level of balanced loads); with ``coverage_first`` the most matched mentees
    first, then the score. ``exclude``: positions of an assignment to cut off (a no-good cut).
    None when milp proves it infeasible."""
    P, side = p.pairs, p.side
    K, n, m = len(P), p.n_mentees, p.n_mentors
    N = K + m + 1  # x, y, L
    xs, ys, L = slice(0, K), slice(K, K + m), K + m
    rows, lo, hi = [], [], []

    def add(row, a, b):
        rows.append(row); lo.append(a); hi.append(b)

    load = p.load[P.mentee]
    for i in range(n):
        r = np.zeros(N); r[xs] = P.mentee == i; add(r, 0, p.demand[i])
    for j in range(m):
        on = (P.mentor == j).astype(float)
        r = np.zeros(N); r[xs] = on * load; r[K + j] = -p.capacity[j]; add(r, -np.inf, 0)  # loads
        r = np.zeros(N); r[xs] = on; r[K + j] = -1; add(r, 0, np.inf)  # y_j only when used
        if side.min_load is not None:
            r = np.zeros(N); r[xs] = on; r[K + j] = -side.min_load[j]; add(r, 0, np.inf)
        if side.reservation is not None:  # fixed y + per n + bonus x sum of probabilities >= R y
            prob = np.clip(p.score / success_scale, 0, 1)
            r = np.zeros(N)
            r[xs] = on * (side.stipend_per_mentee[j] + side.bonus[j] * prob)
            r[K + j] = side.stipend_fixed[j] - side.reservation[j]
            add(r, 0, np.inf)
        if side.balanced_load:  # L - M (1 - y_j) <= n_j <= L + 1 + M (1 - y_j)
            M = n + 1
            r = np.zeros(N); r[xs] = on; r[L] = -1; r[K + j] = M; add(r, -np.inf, 1 + M)
            r = np.zeros(N); r[xs] = on; r[L] = -1; r[K + j] = -M; add(r, -M, np.inf)
    if side.budget is not None:
        r = np.zeros(N); r[xs] = side.stipend_per_mentee[P.mentor]; r[ys] = side.stipend_fixed
        add(r, -np.inf, side.budget)
    for g in (np.unique(side.group[side.group >= 0]) if side.group is not None else []):
        in_g = side.group[P.mentee] == g
        size = int(np.sum(side.group == g))
        if side.score_floor is not None:
            r = np.zeros(N); r[xs] = p.score * (n * in_g - side.score_floor * size); add(r, 0, np.inf)
        if side.share_floor is not None:
            r = np.zeros(N); r[xs] = in_g; add(r, np.ceil(side.share_floor * size - 1e-9), np.inf)
    if exclude is not None:
        r = np.zeros(N); r[xs] = -1.0; r[np.asarray(exclude)] = 1.0; add(r, -np.inf, len(exclude) - 1)
    upper = np.r_[np.ones(K + m), p.capacity.max() + 1]
    options = {"mip_rel_gap": 1e-9, "time_limit": time_limit}

    def solve(c, extra=()):
        A = np.array(rows + [e[0] for e in extra])
        res = milp(c, constraints=LinearConstraint(A, lo + [e[1] for e in extra], hi + [e[2] for e in extra]),
                   integrality=np.ones(N), bounds=Bounds(0, upper), options=options)
        assert res.status in (0, 2), res.message  # optimal or infeasible, never a time-out here
        return None if res.status == 2 else res

    extra = []
    if p.coverage_first:
        res = solve(-np.r_[np.ones(K), np.zeros(m + 1)])
        if res is None:
            return None
        r = np.zeros(N); r[xs] = 1.0
        extra.append((r, round(-res.fun) - 0.5, np.inf))
    res = solve(-np.r_[p.score, np.zeros(m + 1)], extra)
    return None if res is None else -res.fun


def _organisation(seed: int = 3, n: int = 36, m: int = 12):
    """A synthetic organisation with varied stipends, minimum loads, bonuses and reservation
    values (the generator's are uniform), seeded."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    cap = mentors["capacity"].to_numpy()
    mentors = mentors.assign(min_capacity=np.minimum(rng.integers(0, 3, m), cap),
                             stipend_fixed=rng.choice([0.0, 200.0, 500.0], m),
                             stipend_per_mentee=rng.choice([100.0, 250.0, 400.0], m),
                             bonus=rng.choice([100.0, 300.0, 600.0], m),
                             reservation_value=rng.choice([0.0, 400.0, 900.0, 1500.0], m))
    return mentors, mentees


def _programmes(mentors, mentees):
    """Each family on its own (minimum loads only where named), each chosen to bind: a budget of
    80 % of the plain optimum's stipends; minimum loads of 3 where mentors have room to spare; a
    share floor by region between the plain optimum's lowest share and what the places allow."""
    plain_mentors = mentors.assign(min_capacity=0)
    spent = mm.pair(plain_mentors, mentees)
    used = spent.pairs.groupby("mentor_id").size()
    mt = mentors.set_index("id")
    cost = float((mt.loc[used.index, "stipend_fixed"] + mt.loc[used.index, "stipend_per_mentee"] * used).sum())
    budget = {"budget": round(0.8 * cost)}
    roomy = mentors.assign(capacity=mentors["capacity"] + 2)
    roomy = roomy.assign(min_capacity=np.minimum(3, roomy["capacity"]))
    load = np.random.default_rng(5).choice([0.5, 1.0, 1.5], len(mentees))
    return {
        "budget": (plain_mentors, mentees, {"constraints": budget}),
        "budget_min_load": (roomy, mentees, {"constraints": budget}),
        "min_load": (roomy, mentees, {}),
        "incentives": (plain_mentors, mentees, {"constraints": {"incentives": True}}),
        "balanced_load": (plain_mentors, mentees, {"constraints": {"balanced_load": True}}),
        "score_floor": (plain_mentors, mentees, {"fairness": {"score_floor": 0.97, "floor_group": "region"}}),
        "share_floor": (*mm.synthetic.organisation(n_mentees=36, n_mentors=12, seed=1),
                        {"fairness": {"share_floor": 0.75, "floor_group": "region"}}),
        "fractional": (plain_mentors.assign(capacity=plain_mentors["capacity"] + 0.5), mentees.assign(load=load), {}),
        "coverage_first_budget": (plain_mentors, mentees, {"constraints": {**budget, "coverage_first": True}}),
    }


CASES = _programmes(*_organisation())


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("forced", [False, True], ids=["size_policy", "lagrangian"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_source_against_the_full_model(monkeypatch, name, forced):
    """At the engine's size policy (column generation here), and with the sizes above
    ``route.LAGRANGE_PAIRS`` forced (the Lagrangians and flows a large round runs, where the
    family has one)."""
    if forced:
        monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    mentors, mentees, programme = CASES[name]
    programme = {**programme, "time_limit": 120}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    scale = sum(w for w in Rules.coerce(programme).weights.values() if w > 0)
    best = full_model_optimum(p, scale)
    assert best is not None  # (the empty assignment, or fewer pairs, meets these constraints)
    if name != "fractional":  # the constraint binds: the plain optimum breaks it
        plain = mm.pair(mentors.assign(min_capacity=0), mentees,
                        {"constraints": {"coverage_first": True}} if "coverage" in name else None)
        assert table_violations(mentors, mentees, programme, plain, complete) != []
    results = {}
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)  # never InfeasibleError: milp found one
        assert (r.data.get("pair_source") or "complete") == kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-6), kind
        assert r.bound is not None and r.bound >= best - 1e-6, (kind, r.bound, best)
        assert r.objective <= best + 1e-6, kind
        if r.status == "optimal":
            assert r.objective == pytest.approx(best, abs=1e-6), kind
        results[kind] = r
    if all(r.status == "optimal" for r in results.values()):
        pos = result_positions(complete, results["complete"])
        second = full_model_optimum(p, scale, exclude=pos)
        if second is None or second < best - 1e-6:  # milp: this optimum is the only one
            for kind, r in results.items():
                assert _key(r) == _key(results["complete"]), kind


def _tied(seed: int = 0, n: int = 60, m: int = 20):
    """Programmes on an organisation of copies of a few profiles (many exact ties; ids kept, as
    in tests/test_solvers_ties.py), each family once."""
    from test_solvers_ties import _duplicated

    mentors, mentees = _duplicated(seed, n=n, m=m)
    spent = mm.pair(mentors, mentees)
    used = spent.pairs.groupby("mentor_id").size()
    mt = mentors.set_index("id")
    budget = round(0.8 * float((mt.loc[used.index, "stipend_fixed"]
                                + mt.loc[used.index, "stipend_per_mentee"] * used).sum()))
    load = np.random.default_rng(seed).choice([0.5, 1.0, 1.5], len(mentees))
    return {
        "budget": (mentors, mentees, {"constraints": {"budget": budget}}),
        "min_load": (mentors.assign(capacity=mentors["capacity"] + 2, min_capacity=3), mentees, {}),
        "incentives": (mentors, mentees, {"constraints": {"incentives": True}}),
        "balanced_load": (mentors, mentees, {"constraints": {"balanced_load": True}}),
        # (no score floor: on these copies it stops at its time limit with a gap, about 0.2 %,
        # and what a time limit returns depends on the machine's speed)
        "share_floor": (mentors, mentees, {"fairness": {"share_floor": 0.7, "floor_group": "region"}}),
        "fractional": (mentors.assign(capacity=mentors["capacity"] + 0.5), mentees.assign(load=load), {}),
        "coverage_first_budget": (mentors, mentees, {"constraints": {"budget": budget, "coverage_first": True}}),
        "maxmin_budget": (mentors, mentees, {"fairness": {"objective": "maxmin"}, "constraints": {"budget": budget}}),
        "leximin": (mentors, mentees, {"fairness": {"objective": "leximin"}}),
    }


TIED = _tied()


@pytest.mark.parametrize("name", sorted(TIED))
def test_the_same_pairs_on_every_source_where_profiles_tie(name):
    """People copied from a few profiles: many optima of the same score. The same inputs give
    the same pairs on the complete set, cached blocks and bounds (the side-constrained engine's
    answers are not under the flow's tie rule, solvers/ties.py, so this is what holds today, not
    a rule that makes it hold), with every constraint recomputed from the tables."""
    mentors, mentees, programme = TIED[name]
    programme = {**programme, "time_limit": 120}
    complete = pl.prepare(mentors, mentees, programme)
    results = {}
    for kind in SOURCES:
        with on_source(kind):
            results[kind] = mm.pair(mentors, mentees, programme)
        assert table_violations(mentors, mentees, programme, results[kind], complete) == [], kind
    base = results["complete"]
    for kind, r in results.items():
        assert r.status == base.status and r.objective == pytest.approx(base.objective, abs=1e-9), kind
        assert _key(r) == _key(base), kind


def _milp(c, rows, lo, hi, integrality, upper):
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=integrality,
               bounds=Bounds(0, upper), options={"mip_rel_gap": 1e-9, "time_limit": 60})
    assert res.status == 0, res.message
    return res


def maxmin_optimum(p) -> tuple[int, float, float]:
    """(the most pairs, the best worst pair among them, the best total at that worst) of a
    problem without side constraints, one mentor per mentee, by three milps on x and t (the
    worst score): t <= s_k + M (1 - x_k)."""
    P = p.pairs
    K, n, m = len(P), p.n_mentees, p.n_mentors
    big = float(np.ptp(p.score)) + 1.0
    rows, lo, hi = [], [], []
    for i in range(n):
        r = np.zeros(K + 1); r[:K] = P.mentee == i; rows.append(r); lo.append(0); hi.append(1)
    for j in range(m):
        r = np.zeros(K + 1); r[:K] = P.mentor == j; rows.append(r); lo.append(0); hi.append(p.capacity[j])
    for k in range(K):  # t - s_k <= M (1 - x_k)
        r = np.zeros(K + 1); r[K] = 1.0; r[k] = big; rows.append(r); lo.append(-np.inf); hi.append(p.score[k] + big)
    integrality = np.r_[np.ones(K), 0]
    upper = np.r_[np.ones(K), p.score.max() if K else 0.0]
    count = _milp(-np.r_[np.ones(K), 0], rows, lo, hi, integrality, upper)
    most = int(round(-count.fun))
    every = np.r_[np.ones(K), 0]
    worst = _milp(-np.r_[np.zeros(K), 1], rows + [every], lo + [most - 0.5], hi + [np.inf], integrality, upper)
    t = -worst.fun
    total = _milp(-np.r_[p.score, 0], rows + [every, np.r_[np.zeros(K), 1]], lo + [most - 0.5, t - 1e-9],
                  hi + [np.inf, np.inf], integrality, upper)
    return most, t, -total.fun


def test_maxmin_on_every_source_against_three_milps():
    """Max-min on the plain problem: the most pairs, the best worst pair, then the best total,
    each equal to milp's on every source, the capacities recomputed."""
    mentors, mentees = _organisation()
    # no minimum loads (the plain problem: certified flows on s + W [s >= t] on every source);
    # tight capacities, so that the worst pair is a trade-off
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2), min_capacity=0)
    programme = {"fairness": {"objective": "maxmin"}, "time_limit": 120}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    most, worst, total = maxmin_optimum(p)
    plain = mm.pair(mentors, mentees)
    assert plain.pairs["score"].min() < worst - 1e-6  # max-min changes the answer here
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        assert (r.data.get("pair_source") or "complete") == kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        assert r.certificate["method"].startswith("max-min by certified flows"), kind
        assert r.status == "optimal" and len(pos) == most, kind
        assert p.score[pos].min() == pytest.approx(worst, abs=1e-6), kind
        assert r.objective == pytest.approx(total, abs=1e-6), kind


#: The programme beside the bonus: none, or a side constraint that reads no score.
BONUS_CASES = {"bonus": None, "bonus_budget": "budget", "bonus_balanced": "balanced_load"}


@pytest.mark.parametrize("name", sorted(BONUS_CASES))
def test_a_round_bonus_on_every_source_against_the_full_model(name):
    """A programme round's bonus, priority per mentee and continuity on listed pairs
    (``pipeline.solve(prepared, PairBonus)``), alone or beside a side constraint that reads no
    score: score + bonus of the pairs equals milp's optimum of the full model on score + bonus,
    on every source; the constraints recomputed from the tables."""
    import dataclasses

    mentors, mentees, _ = CASES["budget"]
    programme = {**(CASES[BONUS_CASES[name]][2] if BONUS_CASES[name] else {}), "time_limit": 120}
    rng = np.random.default_rng(11)
    e_ids, m_ids = list(mentees["id"]), list(mentors["id"])
    per = dict(zip(e_ids, np.where(rng.random(len(e_ids)) < 0.3, 0.5, 0.0)))
    listed = [(e_ids[k], m_ids[k % len(m_ids)], 0.4) for k in rng.choice(len(e_ids), 6, replace=False)]

    def bonus_of(prep):
        return pl.PairBonus(per_mentee=np.array([per[x] for x in prep.mentee_ids.decode(range(len(e_ids)))]),
                            mentee=np.asarray(prep.mentee_ids.encode([t[0] for t in listed]), np.int64),
                            mentor=np.asarray(prep.mentor_ids.encode([t[1] for t in listed]), np.int64),
                            value=np.array([t[2] for t in listed]), n_mentors=len(m_ids))

    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    extra = bonus_of(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    best = full_model_optimum(dataclasses.replace(p, score=p.score + extra))
    plain_best = full_model_optimum(p)
    for kind in SOURCES:
        with on_source(kind):
            prep = pl.prepare(mentors, mentees, programme)
            r = pl.solve(prep, bonus_of(prep))
        assert (r.data.get("pair_source") or "complete") == kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        pos = result_positions(complete, r)
        assert float((p.score + extra)[pos].sum()) == pytest.approx(best, abs=1e-6), kind
        assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-6), kind
        assert r.objective < plain_best - 1e-6  # the bonus moved the pairs off the plain optimum
