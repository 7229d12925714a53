"""Max-min and leximin with ``coverage_first`` when a mentee needs several mentors (s18h10).

s18h1 found that both solvers ignored ``coverage_first`` once a demand is above one: pairs A-X
0.9, A-Y 0.8, B-X 0.2, A needing 2, capacities 1: they chose A-X and A-Y (the most pairs),
leaving B unmatched, where coverage-first (the ``flow`` solver's network counting mentees)
chooses A-Y and B-X. With demands of one, pairs are mentees and nothing differs.

The intended order, by brute force over every assignment: the most matched mentees first, then
the plain case's objective among those (the most pairs, then the best worst pair, then the
total for max-min; the sorted scores compared from the worst up for leximin). Session 18
refused leximin, and max-min under side constraints, with such demands (``fair.refuse_cover``);
s19h3 solves both (leximin's flows count mentees, CP-SAT's steps start by maximising them), so
each is checked against brute force here, under a budget too.
"""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import synthetic
from mentormatch.errors import ValidationError
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver
from mentormatch.testing import violations
from mentormatch.testing.brute import feasible_assignments

from _support import SOURCES, on_source

OBJECTIVES = ("maxmin", "leximin")


def _reproducer(coverage_first: bool = True) -> AssignmentProblem:
    # mentee A = 0 (needs 2), B = 1; mentor X = 0, Y = 1; pairs A-X, A-Y, B-X
    P = Candidates(np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 2)
    return AssignmentProblem(P, np.array([0.9, 0.8, 0.2]), np.ones(2), np.array([2.0, 1.0]),
                             coverage_first=coverage_first)


def _intended(problem: AssignmentProblem, objective: str = "maxmin") -> np.ndarray:
    """The brute-force optima (rows of assignments): most mentees, then most pairs, then, for
    max-min, the best worst pair and the best total; for leximin the sorted scores (levels of
    six decimals, as the solvers compare them) greatest from the worst up."""
    bf = feasible_assignments(problem)
    P = problem.pairs
    mentees = np.array([len(np.unique(P.mentee[row])) for row in bf.x])
    pairs = bf.x.sum(axis=1)
    best = bf.feasible.copy()
    for col in (mentees, pairs):
        best &= col == col[best].max()
    if objective == "leximin":
        vec = [tuple(sorted(np.round(problem.score[row] * 1e6).astype(np.int64).tolist())) for row in bf.x]
        top = max(vec[k] for k in np.flatnonzero(best))
        return bf.x[best & np.array([v == top for v in vec])]
    key = np.stack([np.where(np.isfinite(bf.worst), bf.worst, 0.0), bf.total], axis=1)
    for c in range(key.shape[1]):
        top = key[best, c].max()
        best &= np.isclose(key[:, c], top, rtol=0, atol=1e-9)
    return bf.x[best]


def _honoured(problem: AssignmentProblem, objective: str, options: SolverOptions | None = None):
    """The solver's answer is one of brute force's optima under coverage_first, proven."""
    sol = get_solver(objective)(problem, options or SolverOptions(seed=0))
    x = np.zeros(len(problem.pairs), bool)
    x[np.asarray(sol.chosen, np.int64)] = True
    assert violations(problem, np.flatnonzero(x)) == []
    P = problem.pairs
    opt = _intended(problem, objective)
    got = (len(np.unique(P.mentee[x])), int(x.sum()))
    assert got == (len(np.unique(P.mentee[opt[0]])), int(opt[0].sum())), \
        f"{objective} ignored coverage_first: {sorted(np.flatnonzero(x).tolist())}"
    if objective == "leximin":
        assert sorted(np.round(problem.score[x] * 1e6).astype(np.int64).tolist()) == \
            sorted(np.round(problem.score[opt[0]] * 1e6).astype(np.int64).tolist())
    elif x.any():  # then the best worst pair, then the total
        assert np.isclose(problem.score[x].min(), problem.score[opt[0]].min(), rtol=0, atol=1e-9)
        assert np.isclose(problem.score[x].sum(), problem.score[opt[0]].sum(), rtol=0, atol=1e-9)
    assert sol.status == "optimal", sol.message
    return sol


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_the_reproducer_is_honoured(objective):
    """On s18's base both chose A-X and A-Y: 1 mentee matched, against 2 for A-Y and B-X; s18
    refused leximin."""
    p = _reproducer()
    assert sorted(np.flatnonzero(_intended(p, objective)[0]).tolist()) == [1, 2]  # A-Y and B-X
    assert sorted(_honoured(p, objective).chosen.tolist()) == [1, 2]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_without_coverage_first_the_most_pairs_stand(objective):
    """The plain order (most pairs first) is unchanged: A-X and A-Y."""
    sol = get_solver(objective)(_reproducer(coverage_first=False), SolverOptions(seed=0))
    assert sorted(np.asarray(sol.chosen).tolist()) == [0, 1]


def _tiny(seed: int, demand_max: int) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    mask = rng.random((n, m)) < 0.7
    mask[0, 0] |= not mask.any()  # at least one eligible pair (no seed's test is skipped)
    P = Candidates.from_mask(mask)
    s = np.round(rng.random(len(P)), 2)
    return AssignmentProblem(P, s, rng.integers(1, 3, m).astype(float),
                             rng.integers(1, demand_max + 1, n).astype(float), coverage_first=True)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(20))
def test_tiny_problems_with_demands_above_one_are_honoured(objective, seed):
    _honoured(_tiny(seed, 3), objective)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(12))
def test_with_demands_of_one_coverage_first_is_the_plain_order_and_runs(objective, seed):
    """Pairs are mentees: the plain max-min/leximin honours coverage_first; no refusal."""
    p = _tiny(seed, 1)
    sol = get_solver(objective)(p, SolverOptions(seed=0))
    x = np.zeros(len(p.pairs), bool)
    x[np.asarray(sol.chosen, np.int64)] = True
    opt = _intended(p)[0]
    assert len(np.unique(p.pairs.mentee[x])) == len(np.unique(p.pairs.mentee[opt]))
    if objective == "maxmin":
        assert np.isclose(p.score[x].min(), p.score[opt].min())
        assert np.isclose(p.score[x].sum(), p.score[opt].sum())


def _people():
    """6 mentees needing 2 mentors each, 3 mentors of capacity 1: on main max-min matched 2
    mentees where coverage-first matches 3."""
    mentors, mentees = synthetic.organisation(n_mentees=6, n_mentors=3, seed=2)
    return mentors.assign(capacity=1), mentees.assign(mentors_needed=2)


def _programme(objective: str, cover: bool = True) -> dict:
    return {"time_limit": 60, "fairness": {"objective": objective},
            "constraints": {"coverage_first": cover, "management_line": False}}


@pytest.mark.parametrize("kind", SOURCES)
def test_maxmin_on_every_source_matches_as_many_mentees_as_coverage_first(kind):
    mentors, mentees = _people()
    with on_source(kind):
        r = mm.pair(mentors, mentees, _programme("maxmin"))
        cover = mm.pair(mentors, mentees, _programme("total"))
    assert r.pairs["mentee_id"].nunique() == cover.pairs["mentee_id"].nunique() == 3, kind


def _key(r):
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


def test_leximin_on_every_source_matches_as_many_mentees_as_coverage_first():
    """s18 refused this (ValidationError) on every source; now the flow leximin counts mentees
    on the complete set and, through the max-min's counting flows and the rounds' certificate,
    on cached blocks and bounds: the same pairs everywhere, optimal."""
    mentors, mentees = _people()
    res = {}
    for kind in SOURCES:
        with on_source(kind):
            res[kind] = mm.pair(mentors, mentees, _programme("leximin"))
    cover = mm.pair(mentors, mentees, _programme("total"))
    for kind, r in res.items():
        assert r.status == "optimal", (kind, r.message)
        assert r.pairs["mentee_id"].nunique() == cover.pairs["mentee_id"].nunique() == 3, kind
        assert _key(r) == _key(res["complete"]), kind


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("kind", SOURCES)
def test_pair_with_demands_of_one_runs_on_every_source(objective, kind):
    """With demands of one a pair is a mentee: coverage_first changes nothing, so the same
    pairs as without it."""
    mentors, mentees = _people()
    mentees = mentees.assign(mentors_needed=1)
    with on_source(kind):
        on = mm.pair(mentors, mentees, _programme(objective))
        off = mm.pair(mentors, mentees, _programme(objective, cover=False))
    assert len(on.pairs) > 0
    key = ["mentee_id", "mentor_id"]
    assert on.pairs[key].sort_values(key).values.tolist() == off.pairs[key].sort_values(key).values.tolist()


def test_the_cli_pairs_leximin_with_coverage_first(tmp_path, capsys):
    """s18's CLI exited 2 with the refusal; now it writes the pairs, 3 mentees matched."""
    import pandas as pd
    from mentormatch.cli import main

    mentors, mentees = _people()
    mentors.to_csv(tmp_path / "mentors.csv", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    (tmp_path / "p.toml").write_text('[fairness]\nobjective = "leximin"\n\n'
                                     '[constraints]\ncoverage_first = true\nmanagement_line = false\n')
    code = main(["pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees",
                 str(tmp_path / "mentees.csv"), "--out", str(tmp_path / "out"),
                 "--programme", str(tmp_path / "p.toml")])
    assert code == 0, capsys.readouterr().err
    assert pd.read_csv(tmp_path / "out" / "pairs.csv")["mentee_id"].nunique() == 3


def test_maxmin_with_coverage_first_gives_the_same_pairs_on_every_source():
    """The flows counting mentees (each threshold flow with the coverage weight above the
    threshold weight) on the complete set, cached blocks and bounds: the same pairs, and as
    many mentees as coverage-first's flow."""
    mentors, mentees = _people()
    programme = {"time_limit": 60, "fairness": {"objective": "maxmin"},
                 "constraints": {"coverage_first": True, "management_line": False}}
    res = {}
    for kind in SOURCES:
        with on_source(kind):
            res[kind] = mm.pair(mentors, mentees, programme)
    key = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))
    for kind, r in res.items():
        assert r.status == "optimal", kind
        assert key(r) == key(res["complete"]), kind
        assert r.pairs["mentee_id"].nunique() == 3, kind
        assert r.certificate["threshold"] == res["complete"].certificate["threshold"], kind


def _budgeted(seed: int) -> AssignmentProblem:
    """A tiny problem with demands up to 3, capacities up to 2 and a stipend budget that binds
    (about half the stipends of every mentor's full load)."""
    from mentormatch.solvers import SideConstraints

    p = _tiny(seed, 3)
    rng = np.random.default_rng(1000 + seed)
    m = p.n_mentors
    per = np.round(rng.uniform(1, 3, m), 1)
    fixed = np.round(rng.uniform(0, 2, m), 1)
    budget = float(np.round(0.5 * (fixed + per * p.capacity).sum(), 1))
    side = SideConstraints(budget=budget, stipend_fixed=fixed, stipend_per_mentee=per)
    return AssignmentProblem(p.pairs, p.score, p.capacity, p.demand, side=side, coverage_first=True)


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("seed", range(16))
def test_under_a_budget_coverage_first_is_honoured(objective, seed):
    """CP-SAT's steps (side constraints) start with a solve maximising the matched mentees
    (s18 refused max-min and leximin here): brute force over every assignment within the
    budget, the order most mentees, most pairs, then max-min's or leximin's keys."""
    _honoured(_budgeted(seed), objective)


def test_a_budget_that_binds_changes_the_answer_somewhere():
    """The family above is not vacuous: on some seeds the budget changes brute force's optimum
    (so the CP-SAT steps must read it)."""
    changed = 0
    for seed in range(16):
        p = _budgeted(seed)
        free = AssignmentProblem(p.pairs, p.score, p.capacity, p.demand, coverage_first=True)
        a, b = _intended(p)[0], _intended(free)[0]
        changed += (len(np.unique(p.pairs.mentee[a])), int(a.sum())) != \
            (len(np.unique(p.pairs.mentee[b])), int(b.sum()))
    assert changed >= 3


def test_pair_with_a_budget_honours_coverage_first_on_every_source():
    """``pair()`` with a budget, max-min and coverage_first (s18 refused it with "mentors_needed"):
    as many mentees as the budgeted coverage-first total, the budget held, on every source."""
    mentors, mentees = _people()
    cons = {"coverage_first": True, "management_line": False, "budget": 1e9}
    programme = {"time_limit": 60, "fairness": {"objective": "maxmin"}, "constraints": cons}
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        assert r.status == "optimal", (kind, r.message)
        assert r.pairs["mentee_id"].nunique() == 3, kind


@pytest.mark.parametrize("seed", range(6))
def test_maxmin_with_coverage_first_on_small_organisations_every_source(seed):
    """Demands 1-2, capacities 1-2: the same pairs on every source, as many mentees as the
    coverage-first flow, and the worst pair at least that of any assignment matching that many
    (the coverage-first flow's pick is one)."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 10)), int(rng.integers(2, 5))
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=100 + seed)
    mentors = mentors.assign(capacity=rng.integers(1, 3, m))
    mentees = mentees.assign(mentors_needed=rng.integers(1, 3, n))
    cons = {"coverage_first": True, "management_line": False}
    res = {}
    for kind in SOURCES:
        with on_source(kind):
            res[kind] = mm.pair(mentors, mentees, {"time_limit": 60, "constraints": cons,
                                                   "fairness": {"objective": "maxmin"}})
    cover = mm.pair(mentors, mentees, {"time_limit": 60, "constraints": cons})
    key = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))
    c = res["complete"]
    assert c.pairs["mentee_id"].nunique() == cover.pairs["mentee_id"].nunique()
    if len(cover.pairs) and len(c.pairs) == len(cover.pairs):
        assert c.pairs["score"].min() >= cover.pairs["score"].min() - 1e-12
    for kind, r in res.items():
        assert r.status == "optimal", kind
        assert key(r) == key(c), kind


def test_a_total_rounded_coarser_than_the_gap_is_made_exact_by_the_fixed_count_flow(monkeypatch):
    """coverage_first's weight sits above max-min's W, so at scale the flow's integer step for the
    scores grows (2**-11 at 20,000 x 5,000 with demand 2, by quantize.coverage_scale): the nested
    flows' total, max-min's last key, is exact only to ``rounding_bound``. Narrowing the flow's
    bits makes that step coarse on the reproducer; the final flow with the counts and the
    threshold fixed (solvers/maxmin_total.py, no weights) proves the total: the same pairs,
    "optimal" (s19: "feasible" with the rounding stated)."""
    from mentormatch.solvers import quantize

    problem = _reproducer()
    plain = get_solver("maxmin")(problem, SolverOptions(seed=0))
    assert plain.status == "optimal"
    assert plain.certificate["total_rounding"] <= 1e-6 * abs(plain.objective)
    monkeypatch.setattr(quantize, "COVER_BITS", 22)
    coarse = get_solver("maxmin")(problem, SolverOptions(seed=0))
    assert sorted(coarse.chosen.tolist()) == sorted(plain.chosen.tolist())
    stage = coarse.certificate["second_stage"]
    assert stage["holds"] and stage["counts"] == {"mentees": 2, "pairs": 2}
    assert coarse.certificate["total_rounding"] <= 1e-6 * abs(coarse.objective)
    assert coarse.status == "optimal", coarse.message


def test_when_the_fixed_count_flow_is_not_proven_the_coarse_total_is_not_called_optimal(monkeypatch):
    """The honest fallback: the final flow finds no assignment among its pairs (forced here),
    so the nested answer stands, "feasible" with its rounding stated."""
    from mentormatch.solvers import maxmin_total, quantize

    problem = _reproducer()
    plain = get_solver("maxmin")(problem, SolverOptions(seed=0))
    monkeypatch.setattr(quantize, "COVER_BITS", 22)
    monkeypatch.setattr(maxmin_total, "_flow", lambda *a: None)
    coarse = get_solver("maxmin")(problem, SolverOptions(seed=0))
    assert sorted(coarse.chosen.tolist()) == sorted(plain.chosen.tolist())
    assert not coarse.certificate["second_stage"]["holds"]
    assert coarse.certificate["total_rounding"] > 1e-6 * abs(coarse.objective)
    assert coarse.status == "feasible"
    assert "proven only to within" in coarse.message


def test_with_every_demand_one_the_flows_do_not_pay_for_the_coverage_weight(monkeypatch):
    """With demands of one a pair is a mentee: max-min under coverage_first runs the plain
    flows (no "counting mentees"), so the narrowed bits that make the weighted total coarse
    above leave this answer optimal, with the pairs of max-min without coverage_first."""
    from mentormatch.solvers import quantize

    P = Candidates(np.array([0, 0, 1]), np.array([0, 1, 0]), 2, 2)
    make = lambda cover: AssignmentProblem(P, np.array([0.9, 0.8, 0.2]), np.ones(2), np.ones(2),  # noqa: E731
                                           coverage_first=cover)
    monkeypatch.setattr(quantize, "COVER_BITS", 22)
    on = get_solver("maxmin")(make(True), SolverOptions(seed=0))
    off = get_solver("maxmin")(make(False), SolverOptions(seed=0))
    assert on.status == off.status == "optimal"
    assert sorted(on.chosen.tolist()) == sorted(off.chosen.tolist())
    assert "counting mentees" not in on.certificate["method"]
