"""Max-min and leximin under side constraints on the scale path where CP-SAT's pairs do not fit
(forced small: ``_support.on_source`` and a machine with room for fewer pairs than eligible):
an answer, never a refusal for size (old code: ``TooLargeError``), meeting every constraint
recomputed from the tables, with bounds on the count, the worst pair and the total that hold
against the lexicographic optimum found by ``scipy.optimize.milp`` over every pair; "optimal"
only where those bounds meet the answer. Also the bounds' functions against brute force."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.pipeline import held, memory
from mentormatch.solvers import AssignmentProblem, SideConstraints
from mentormatch.solvers.fair_bounds import Figures, count_bound, source_figures, threshold_bound
from mentormatch.solvers.sources import ArraySource
from mentormatch.testing.brute import feasible_assignments

from _support import JumpClock, on_source, result_positions, table_violations


def _tables(seed: int, n: int = 24, m: int = 10, kind: str = "budget"):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    mentees = mentees.iloc[rng.permutation(len(mentees))].reset_index(drop=True)
    if kind in ("budget", "min_load"):
        mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=np.where(
            np.arange(m) % 3 == 0, 20.0, 10.0))
    if kind == "min_load":
        mentors = mentors.assign(min_capacity=np.where(np.arange(m) % 2 == 0, 2, 0),
                                 capacity=np.maximum(mentors["capacity"], 2))
    return mentors, mentees


def _programme(objective: str, kind: str) -> dict:
    fair = {"objective": objective, "groups": ["gender"]}
    if kind == "share":
        return {"fairness": {**fair, "floor_group": "gender", "share_floor": 0.4}}
    return {"fairness": fair, "constraints": {"budget": 300.0}}  # binding: fewer pairs than places


def _lexicographic_milp(p: AssignmentProblem, programme: dict):
    """``(M*, t*, T*)``: the most pairs, the best worst pair among those assignments, the best
    total among those with every pair at least it, by three HiGHS MILPs over every pair (unit
    loads; capacity, demand, minimum loads, budget, share floors)."""
    P, s = p.pairs, p.score
    K, n, m = len(P), P.n_mentees, P.n_mentors
    side = p.side
    # variables: x (K), y (m), z (1)
    N = K + m + 1
    rows, lo, hi = [], [], []

    def row(entries, a, b):
        r = np.zeros(N)
        for idx, v in entries:
            np.add.at(r, idx, v)
        rows.append(r), lo.append(a), hi.append(b)

    for j in range(m):
        on = np.flatnonzero(P.mentor == j)
        row([(on, 1.0), (np.array([K + j]), -float(p.capacity[j]))], -np.inf, 0.0)  # x <= cap y
        mn = 0.0 if side.min_load is None else float(side.min_load[j])
        if mn > 0:
            row([(on, 1.0), (np.array([K + j]), -mn)], 0.0, np.inf)
    for i in range(n):
        row([(np.flatnonzero(P.mentee == i), 1.0)], -np.inf, float(p.demand[i]))
    if side.budget is not None:
        row([(np.arange(K), side.stipend_per_mentee[P.mentor]), (K + np.arange(m), side.stipend_fixed)],
            -np.inf, float(side.budget))
    if side.share_floor is not None:
        for g in np.unique(side.group[side.group >= 0]):
            members = side.group == g
            row([(np.flatnonzero(members[P.mentee]), 1.0)],
                float(np.ceil(side.share_floor * members.sum() - 1e-9)), np.inf)
    integrality = np.r_[np.ones(K + m), 0]
    big = float(s.max() - s.min() + 1.0)  # (z, the worst pair, may reach max + 1: s23h7
    # found it capped at +big, below t*, where every score is far above 0)

    def solve(c, extra=()):
        A = csr_matrix(np.array(rows + [e[0] for e in extra]))
        cons = LinearConstraint(A, np.array(lo + [e[1] for e in extra]), np.array(hi + [e[2] for e in extra]))
        res = milp(-c, constraints=cons, integrality=integrality,
                   bounds=Bounds(np.r_[np.zeros(K + m), -big], np.r_[np.ones(K + m), max(big, float(s.max()) + 1.0)]))
        assert res.status == 0, res.message
        return -res.fun, res.x

    count = np.r_[np.ones(K), np.zeros(m + 1)]
    M, _ = solve(count)
    M = int(round(M))
    fix = [(count, M - 0.5, M + 0.5)]
    zrows = []
    for k in range(K):  # z <= s_k + big (1 - x_k)
        r = np.zeros(N)
        r[N - 1], r[k] = 1.0, big
        zrows.append((r, -np.inf, float(s[k]) + big))
    t, _ = solve(np.r_[np.zeros(K + m), 1.0], fix + zrows)
    below = np.zeros(N)
    below[np.flatnonzero(s < t - 1e-9)] = 1.0
    T, _ = solve(np.r_[s, np.zeros(m + 1)], fix + [(below, 0.0, 0.0)])
    return M, t, T


def _room_for_fewer(monkeypatch, eligible: int) -> None:
    monkeypatch.setattr(memory, "available_memory",
                        lambda: (eligible // 3) * memory.BYTES_PER_CPSAT_PAIR / 0.8)


@pytest.mark.parametrize("source", ["blocks", "bounds"])
@pytest.mark.parametrize("kind", ["budget", "min_load", "share"])
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [3, 4])
def test_an_answer_meeting_every_constraint_with_bounds_that_hold(monkeypatch, seed, objective, kind,
                                                                  source):
    mentors, mentees = _tables(seed, kind=kind)
    programme = _programme(objective, kind)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    M, t, T = _lexicographic_milp(p, programme)
    with on_source(source):
        _room_for_fewer(monkeypatch, len(p.pairs))
        r = pl.pair(mentors, mentees, programme)
    assert table_violations(mentors, mentees, programme, r, complete) == []
    c = r.certificate
    pos = result_positions(complete, r)
    got = np.sort(p.score[pos])
    assert len(got) <= M <= c["count_bound"]
    assert t <= c["threshold_bound"] + 1e-9
    assert r.bound is not None and T <= r.bound + 1e-6 * abs(r.bound)
    assert r.objective <= r.bound + 1e-9 and r.gap is not None
    assert len(r.pairs) + len(r.unmatched) == len(mentees)
    if r.status == "optimal":  # only max-min, and only where the bounds meet the answer
        assert objective == "maxmin"
        assert len(got) == M and got[0] == pytest.approx(t, rel=1e-6)
        assert r.objective == pytest.approx(T, rel=1e-6)
    else:
        assert r.status == "feasible" and "not proven optimal" in c["message"]


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_the_same_pairs_whatever_the_row_order(monkeypatch, objective):
    mentors, mentees = _tables(5)
    programme = _programme(objective, "budget")
    eligible = len(pl.prepare(mentors, mentees, programme).problem.pairs)
    out = []
    for order in (np.arange(len(mentees)), np.arange(len(mentees))[::-1]):
        with on_source("bounds"):
            _room_for_fewer(monkeypatch, eligible)
            r = pl.pair(mentors, mentees.iloc[order].reset_index(drop=True), programme)
        out.append(sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy())))
    assert out[0] == out[1]


def test_the_flows_raise_the_worst_pair_of_the_engines_plan(monkeypatch):
    """The engine maximises the total; the flows at its loads keep its count and mentors'
    loads (so the budget) and raise the worst pair where they can (here they do)."""
    mentors, mentees = _tables(3)
    programme = _programme("maxmin", "budget")
    eligible = len(pl.prepare(mentors, mentees, programme).problem.pairs)
    with on_source("blocks"):
        _room_for_fewer(monkeypatch, eligible)
        r = pl.pair(mentors, mentees, programme)
    steps = r.certificate["steps"]
    assert steps["flows"]["kept"] and steps["flows"]["pairs"] == steps["plan"]["pairs"]
    assert steps["flows"]["worst"] >= steps["plan"]["worst"]
    assert float(r.pairs["score"].min()) == pytest.approx(steps["flows"]["worst"])


def _tiny(seed: int):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    keep = rng.random(n * m) < 0.8
    P = Candidates.complete(n, m)
    P = Candidates(P.mentee[keep], P.mentor[keep], n, m)
    s = np.round(rng.random(len(P)) * 4, 2)
    cap = rng.integers(0, 3, m).astype(float)
    side = SideConstraints(budget=float(rng.integers(0, 60)), stipend_fixed=rng.integers(0, 20, m) * 1.0,
                           stipend_per_mentee=rng.integers(1, 15, m) * 1.0)
    return AssignmentProblem(P, s, cap, side=side)


@pytest.mark.parametrize("seed", range(150))
def test_the_bounds_hold_against_brute_force(seed):
    """``count_bound`` is at least the most pairs of any assignment meeting the budget, and
    ``threshold_bound`` of any count at least the best worst pair among the assignments of at
    least that many pairs meeting the budget (every assignment enumerated), its budget's term
    never looser than without it."""
    p = _tiny(seed)
    P = p.pairs
    fig = source_figures(ArraySource(P.mentee, P.mentor, p.score, P.n_mentees, P.n_mentors))
    brute = feasible_assignments(p)
    counts = brute.x.sum(axis=1)[brute.feasible]
    assert counts.max(initial=0) <= count_bound(fig, p.capacity, None, None, p.side)
    for k in range(1, int(counts.max(initial=0)) + 1):
        worst = [p.score[x].min() for x in brute.x[brute.feasible] if x.sum() >= k]
        assert max(worst) <= threshold_bound(fig, k, p.capacity, None, None, p.side)
        assert threshold_bound(fig, k, p.capacity, None, None, p.side) <= threshold_bound(
            fig, k, p.capacity, None, None)


@pytest.mark.parametrize("source", ["blocks", "bounds"])
def test_the_survey_counts_bound_the_pairs_above_every_edge(source):
    """The histogram by ``bincount`` (s22; on bounds in float32): the pairs at least each edge,
    and at least every score itself (a value on an edge), are never undercounted."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=7)
    with on_source(source):
        prepared = pl.prepare(mentors, mentees, {"constraints": {"balanced_load": True}})
    from mentormatch.pipeline.large import _source, problem_of

    n, m = len(mentees), len(mentors)
    sv = held.survey(prepared.scorer, _source(prepared.scorer, n, m), n, prepared.data["rules"].score_span)
    every = problem_of(prepared.scorer, prepared.data).score
    for tau in itertools.chain(sv.edges[::97], every[::7]):
        assert sv.at_least(float(tau)) >= int(np.sum(every >= tau))
    assert sv.tail[0] == int(sv.figures.eligible.sum()) >= len(every)
    fig = sv.figures
    assert isinstance(fig, Figures) and fig.best_by_mentor.max() >= every.max()
    assert np.all(fig.best[fig.eligible > 0] >= np.maximum.reduceat(every, np.r_[0, np.flatnonzero(np.diff(
        problem_of(prepared.scorer, prepared.data).pairs.mentee)) + 1]))


@pytest.mark.parametrize("source", ["blocks", "bounds"])
def test_coverage_first_meets_every_constraint_and_bounds_the_total(monkeypatch, source):
    """Under ``coverage_first`` the count and the worst pair are not bounded (None), and
    ``bound`` is at least the best total of any assignment meeting the constraints (milp)."""
    mentors, mentees = _tables(6)
    programme = _programme("maxmin", "budget")
    programme["constraints"]["coverage_first"] = True
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    with on_source(source):
        _room_for_fewer(monkeypatch, len(p.pairs))
        r = pl.pair(mentors, mentees, programme)
    assert table_violations(mentors, mentees, programme, r, complete) == []
    c = r.certificate
    assert c["count_bound"] is None and c["threshold_bound"] is None
    plain = dict(programme, fairness={"objective": "total"})
    best = pl.pair(mentors, mentees, {**plain, "constraints": {"budget": 300.0}})
    assert best.status == "optimal" and best.objective <= r.bound + 1e-6
    assert r.status == "feasible"


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_the_most_places_a_budget_buys_come_before_the_engines_total(objective):
    """The engine maximises the total: two pairs with the expensive, better mentor (10.0).
    Max-min and leximin want the most pairs first: three places of the cheap mentor and one of
    the expensive one (the budget's knapsack plan), as ``milp``'s lexicographic optimum."""
    from mentormatch.solvers.fair_source import solve_fair_source
    from mentormatch.solvers.sources import block_scorer

    n = 5
    P = Candidates.complete(n, 2)  # pairs (i, 0), (i, 1) for each mentee i
    score = np.where(P.mentor == 0, 1.0 + 0.01 * P.mentee, 5.0 - 0.01 * P.mentee)
    side = SideConstraints(budget=60.0, stipend_fixed=np.zeros(2), stipend_per_mentee=np.array([10.0, 30.0]))
    p = AssignmentProblem(P, score, np.array([3.0, 3.0]), side=side)
    source = ArraySource(P.mentee, P.mentor, score, n, 2)
    problem, sol = solve_fair_source(source, block_scorer(source), p.capacity, objective=objective,
                                     side=side)
    M, t, T = _lexicographic_milp(p, {})
    Q = problem.pairs
    i, j = Q.mentee[sol.chosen], Q.mentor[sol.chosen]
    assert M == 4 and len(sol.chosen) == M and sol.certificate["steps"]["plan"]["pairs"] == 2
    assert sol.certificate["steps"]["most_places"]["kept"]
    assert float(np.sum(np.where(j == 0, 10.0, 30.0))) <= 60.0
    assert np.bincount(j, minlength=2).tolist() == [3, 1] and len(set(i)) == 4
    assert float(problem.score[sol.chosen].min()) == pytest.approx(t)
    if objective == "maxmin":
        assert sol.objective == pytest.approx(T)


def _stop_at(monkeypatch, clock: JumpClock, where: str, k: int) -> dict:
    """Make the time limit pass at the ``k``-th (1-based; 0: never) ``where``: "flow" (a max-min
    flow's start: bottleneck's threshold scorer made), "read" (the first block a max-min flow on
    blocks reads) or "round" (a leximin round's flow leximin). Returns the counts of flows and
    rounds and, as ``"after"``, the statuses of the certified flows run after the jump
    (solve_bounded and solve_scored, the flows' solvers)."""
    from mentormatch.solvers import bottleneck, bounded, certify, leximin_flow

    seen = {"flow": 0, "round": 0, "after": []}

    def counted(cls, on_read):
        class Hooked(cls):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                seen["flow"] += 1
                self._hook = where in ("flow", "read") and seen["flow"] == k
                if self._hook and not on_read:
                    clock.jump()

            def __call__(self, rows):
                if self._hook and on_read:
                    clock.jump()
                return super().__call__(rows)

        return Hooked

    monkeypatch.setattr(bottleneck, "ThresholdBlocks", counted(bottleneck.ThresholdBlocks, where == "read"))
    monkeypatch.setattr(bottleneck, "ThresholdBounds", counted(bottleneck.ThresholdBounds, False))
    inner = leximin_flow._flow_leximin

    def round_(*args, **kwargs):
        seen["round"] += 1
        if where == "round" and seen["round"] == k:
            clock.jump()
        return inner(*args, **kwargs)

    monkeypatch.setattr(leximin_flow, "_flow_leximin", round_)
    for module, name in ((bounded, "solve_bounded"), (certify, "solve_scored")):
        def recorded(*args, _f=getattr(module, name), **kwargs):
            problem, sol = _f(*args, **kwargs)
            if clock.jumped:
                seen["after"].append(sol.status)
            return problem, sol

        monkeypatch.setattr(module, name, recorded)
    return seen


def _count_flows(mentors, mentees, programme, source, eligible: int) -> tuple[int, int]:
    """(max-min flows, leximin rounds) of an unstopped run (so that the stops below fall in it)."""
    with pytest.MonkeyPatch.context() as mp:
        seen = _stop_at(mp, JumpClock(mp), "flow", 0)
        with on_source(source):
            _room_for_fewer(mp, eligible)
            r = pl.pair(mentors, mentees, programme)
    assert r.status == "feasible" and not r.certificate["timed_out"]
    return seen["flow"], seen["round"]


def _check_stopped(r, mentors, mentees, programme, complete, optimum) -> None:
    """A stopped answer: every constraint recomputed from the tables, no row lost, "feasible"
    with the time limit said, bounds at least milp's lexicographic optimum ``(M, t, T)``, the
    answer at least the engine's plan in the objective's order."""
    M, t, T = optimum
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert len(r.pairs) + len(r.unmatched) == len(mentees)
    assert sorted(r.pairs["mentee_id"].tolist() + r.unmatched["mentee_id"].tolist()) == sorted(
        mentees["id"].tolist())
    c = r.certificate
    assert r.status == "feasible" and c["timed_out"]
    assert "stopped at the time limit (1000 s)" in c["message"]
    got = np.sort(complete.problem.score[result_positions(complete, r)])
    assert len(got) <= M <= c["count_bound"]
    assert t <= c["threshold_bound"] + 1e-9
    assert r.bound is not None and T <= r.bound + 1e-6 * abs(r.bound)
    assert r.objective <= r.bound + 1e-9
    plan = c["steps"]["plan"]
    assert len(got) >= plan["pairs"]
    if len(got) == plan["pairs"] and len(got):
        assert got[0] >= plan["worst"] - 1e-9


@pytest.mark.parametrize("source", ["blocks", "bounds"])
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_a_stop_in_any_max_min_flow_stays_honest(monkeypatch, objective, source):
    """The time limit passing at the start of max-min flows at the plan's loads (the first
    (the count), probes of the bisection (forced: ``MAX_MISSES`` 0), the last; ab53104 gave these flows no deadline, so a
    flow begun ran to its end: at 100,000 x 20,000 45+ minutes). Every flow after the stop is
    stopped (fails at ab53104: they ran "optimal"), and the answer keeps every constraint and
    row, says the limit stopped it, with bounds that hold against milp's optimum."""
    from mentormatch.solvers import bottleneck

    monkeypatch.setattr(bottleneck, "MAX_MISSES", 0)  # bisection from the start: more probes
    mentors, mentees = _tables(5)
    programme = {**_programme(objective, "budget"), "time_limit": 1000}
    complete = pl.prepare(mentors, mentees, programme)
    optimum = _lexicographic_milp(complete.problem, programme)
    flows, _ = _count_flows(mentors, mentees, programme, source, len(complete.problem.pairs))
    assert flows >= 5
    for k in sorted({1, 2, flows // 2, flows - 1, flows}):
        with pytest.MonkeyPatch.context() as mp:
            clock = JumpClock(mp)
            after = _stop_at(mp, clock, "flow", k)["after"]
            with on_source(source):
                _room_for_fewer(mp, len(complete.problem.pairs))
                r = pl.pair(mentors, mentees, programme)
        assert clock.jumped
        assert after and "optimal" not in after, (k, after)
        _check_stopped(r, mentors, mentees, programme, complete, optimum)


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_a_stop_inside_a_flow_and_in_a_leximin_round_stays_honest(monkeypatch, objective):
    """The limit passing while a flow reads its first block (blocks), and, for leximin, in its
    first and second rounds: the same honest answer."""
    mentors, mentees = _tables(4)
    programme = {**_programme(objective, "budget"), "time_limit": 1000}
    complete = pl.prepare(mentors, mentees, programme)
    optimum = _lexicographic_milp(complete.problem, programme)
    flows, rounds = _count_flows(mentors, mentees, programme, "blocks", len(complete.problem.pairs))
    stops = [("read", k) for k in sorted({1, 2, flows})]
    stops += [("round", k) for k in range(1, min(rounds, 2) + 1)]
    for where, k in stops:
        with pytest.MonkeyPatch.context() as mp:
            clock = JumpClock(mp)
            after = _stop_at(mp, clock, where, k)["after"]
            with on_source("blocks"):
                _room_for_fewer(mp, len(complete.problem.pairs))
                r = pl.pair(mentors, mentees, programme)
        assert clock.jumped and "optimal" not in after, (where, k, after)
        _check_stopped(r, mentors, mentees, programme, complete, optimum)


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_a_stop_before_the_engines_plan_answers_with_its_bound(monkeypatch, objective):
    """The limit passed before the engine's plan exists: the engine's own stop (what it found,
    possibly nothing, and its bound), every row kept, bounds that hold."""
    mentors, mentees = _tables(3)
    programme = {**_programme(objective, "budget"), "time_limit": 1000}
    complete = pl.prepare(mentors, mentees, programme)
    optimum = _lexicographic_milp(complete.problem, programme)
    from mentormatch.solvers import engine

    with pytest.MonkeyPatch.context() as mp:
        clock = JumpClock(mp)
        inner = engine.solve_source

        def late(*args, **kwargs):
            clock.jump()
            return inner(*args, **kwargs)

        mp.setattr(engine, "solve_source", late)
        with on_source("bounds"):
            _room_for_fewer(mp, len(complete.problem.pairs))
            r = pl.pair(mentors, mentees, programme)
    assert clock.jumped
    _check_stopped(r, mentors, mentees, programme, complete, optimum)
    assert "in the engine's plan" in r.certificate["message"]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("seed", range(10))
def test_a_stopped_probe_proves_nothing(monkeypatch, seed, k):
    """Max-min by flows alone (``bottleneck.solve_held``): the limit passing at the k-th flow's
    start. What the certificate still claims holds against milp: the count when it says it is
    proven, the worst pair at most the best (a witness), and the best below the bracket's upper
    end (a stopped probe must not narrow it: the lead's reverted try did). Never "optimal"."""
    from mentormatch.solvers import SolverOptions, bottleneck

    rng = np.random.default_rng(seed)
    n, m = 14, 5
    P = Candidates.complete(n, m)
    keep = rng.random(len(P)) < 0.6
    P = Candidates(P.mentee[keep], P.mentor[keep], n, m)
    p = AssignmentProblem(P, np.round(rng.uniform(0, 5, len(P)), 3), rng.integers(1, 4, m).astype(float))
    M, t, _ = _lexicographic_milp(p, {})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bottleneck, "MAX_MISSES", 0)  # bisection from the start: more probes
        clock = JumpClock(mp)
        after = _stop_at(mp, clock, "flow", k)["after"]
        sol = bottleneck.solve_held(p, SolverOptions(time_limit=1000))
    c = sol.certificate
    assert clock.jumped and "optimal" not in after
    assert sol.status == "feasible" and c["timed_out"] and sol.message.startswith("stopped at the time limit")
    x = sol.chosen
    assert np.all(np.bincount(P.mentor[x], minlength=m) <= p.capacity)
    assert np.all(np.bincount(P.mentee[x], minlength=n) <= 1)
    assert len(x) <= M and (not c["count_proven"] or len(x) == M)
    if len(x):
        assert p.score[x].min() <= t + 1e-9
    if c["threshold_bracket"] is not None:
        lo, hi = c["threshold_bracket"]
        assert lo <= t + 1e-9 and t < hi


def test_a_fixed_stipend_is_spread_over_the_mentees_a_mentor_can_have():
    """The budget's cost a place ``per_j + fixed_j / k_j`` takes ``k_j`` as the mentees a
    mentor can have (its capacity AND its eligible mentees): mentor 0 (capacity 4, one eligible
    mentee, a fixed stipend of 40) costs 40 a place, not 10, so a budget of 30 buys one place
    (mentor 1's), the most pairs of any assignment (brute force). ab53104 said 2."""
    P = Candidates(np.array([0, 1, 2]), np.array([0, 1, 1]), 3, 2)
    side = SideConstraints(budget=30.0, stipend_fixed=np.array([40.0, 0.0]),
                           stipend_per_mentee=np.array([0.0, 15.0]))
    p = AssignmentProblem(P, np.array([3.0, 1.0, 2.0]), np.array([4.0, 1.0]), side=side)
    fig = source_figures(ArraySource(P.mentee, P.mentor, p.score, 3, 2))
    brute = feasible_assignments(p)
    best = int(brute.x.sum(axis=1)[brute.feasible].max())
    assert best == 1 == count_bound(fig, p.capacity, None, None, side)
    worst = max(p.score[x].min() for x in brute.x[brute.feasible] if x.sum() >= 1)
    assert worst == 2.0 == threshold_bound(fig, 1, p.capacity, None, None, side)  # (3.0 is mentor 0's)


@pytest.mark.parametrize("seed", range(150))
def test_the_worst_pair_bound_from_each_mentors_best_scores_holds_and_is_tighter(seed):
    """``threshold_bound`` from each mentor's ``k`` best scores (s24; ``k`` 1: its best alone,
    the bound until then) against brute force, with and without the budget, demands of 1-2:
    at least the best worst pair of every assignment of at least ``count`` pairs, never above
    the ``k`` 1 bound, never looser as ``k`` grows."""
    p = _tiny(seed)
    rng = np.random.default_rng(1000 + seed)
    dem = rng.integers(1, 3, p.n_mentees)
    p = dataclasses.replace(p, demand=dem)
    P = p.pairs
    src = ArraySource(P.mentee, P.mentor, p.score, P.n_mentees, P.n_mentors)
    brute = feasible_assignments(p)
    plain = feasible_assignments(dataclasses.replace(p, side=SideConstraints()))
    for side, bf in ((p.side, brute), (None, plain)):
        counts = bf.x.sum(axis=1)[bf.feasible]
        for count in range(1, int(counts.max(initial=0)) + 1):
            best = max(p.score[x].min() for x in bf.x[bf.feasible] if x.sum() >= count)
            bounds = [threshold_bound(source_figures(src, k), count, p.capacity, dem, None, side)
                      for k in (1, 2, 3, 5)]
            assert best <= bounds[-1] + 1e-12
            assert all(b >= a - 1e-12 for a, b in zip(bounds[1:], bounds)), bounds


def test_a_mentor_with_one_high_pair_no_longer_counts_its_places_there():
    """Two mentors of capacity 2, four mentees each best at 0.9: mentor 0 has three pairs at
    0.9, mentor 1 one (mentee 2) and the rest at 0.1. Four pairs need two of mentor 1's: the
    best worst pair is 0.1 (brute force). From each mentor's best alone the bound was 0.9
    (673effe: ``source_figures`` kept no more); from its two best, 0.1."""
    P = Candidates.complete(4, 2)
    score = np.where(P.mentor == 0, np.where(P.mentee == 2, 0.1, 0.9), np.where(P.mentee == 2, 0.9, 0.1))
    p = AssignmentProblem(P, score, np.array([2.0, 2.0]))
    brute = feasible_assignments(p)
    best = max(p.score[x].min() for x in brute.x[brute.feasible] if x.sum() >= 4)
    src = ArraySource(P.mentee, P.mentor, score, 4, 2)
    assert best == 0.1
    assert threshold_bound(source_figures(src, 1), 4, p.capacity, None, None) == 0.9
    assert threshold_bound(source_figures(src, 2), 4, p.capacity, None, None) == 0.1


@pytest.mark.parametrize("source", ["blocks", "bounds"])
def test_each_mentors_best_scores_by_blocks_and_bounds_are_its_best(source):
    """The pass's kept scores per mentor (exact pairs on blocks, float32 bounds on bounds) are
    at least that mentor's ``k`` best exact scores, in order (each a valid bound of its rank)."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=7)
    with on_source(source):
        prepared = pl.prepare(mentors, mentees, {"constraints": {"balanced_load": True}})
    from mentormatch.pipeline.large import _source, problem_of

    n, m = len(mentees), len(mentors)
    sv = held.survey(prepared.scorer, _source(prepared.scorer, n, m), n,
                     prepared.data["rules"].score_span, 3)
    every = problem_of(prepared.scorer, prepared.data)
    top = sv.figures.mentor_top()
    assert top.shape == (m, 3) and np.all(top[:, :-1] >= top[:, 1:])
    for j in range(m):
        exact = np.sort(every.score[every.pairs.mentor == j])[::-1][:3]
        kept = top[j, :len(exact)]
        if source == "blocks":
            assert np.array_equal(kept, exact)
        else:
            assert np.all(kept >= exact - 1e-9)
        assert np.all(np.isneginf(top[j, len(exact):]))
