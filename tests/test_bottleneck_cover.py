"""``coverage_first`` by one certified flow counting mentees (solvers/bottleneck_cover.py) under
the time limit: the limit passing at the flow's start or while it reads a block (the clock
jumps there). Until s24 that flow had no deadline and ran to its end "optimal" past the limit
(these tests fail on 673effe). A stopped answer claims nothing it did not prove: "feasible",
the limit named, the capacities and demands recomputed from the caller's tables, every mentee
once (in the pairs or unmatched), and a bound, where one is given, at least the lexicographic
optimum (the most mentees, then the best total) found by ``scipy.optimize.milp`` over every
pair; the tiny cases also against brute force."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, bottleneck, bounded, certify
from mentormatch.testing import feasible_assignments, violations

from _support import JumpClock, on_source, result_positions, table_violations


def _stop_at(monkeypatch, clock: JumpClock, where: str) -> dict:
    """The limit passes at the flow's start ("start": its solver called) or at its first
    block read ("read1": the scorer it was given, called). Records the statuses of the
    flows that end after the jump (``"after"``) and the blocks read after it (``"reads"``)."""
    seen = {"after": [], "reads": 0}

    def hooked(f, scorer_at):
        def run(*args, **kwargs):
            args = list(args)
            if where == "start":
                clock.jump()
            elif args and callable(args[scorer_at]) and not hasattr(args[scorer_at], "upper"):
                inner, calls = args[scorer_at], [0]

                def scorer(rows):
                    calls[0] += 1
                    if where == f"read{calls[0]}":
                        clock.jump()
                    elif clock.jumped:
                        seen["reads"] += 1
                    return inner(rows)

                args[scorer_at] = scorer
            problem, sol = f(*args, **kwargs)
            if clock.jumped:
                seen["after"].append(sol.status)
            return problem, sol

        return run

    monkeypatch.setattr(certify, "solve_scored", hooked(certify.solve_scored, 0))
    monkeypatch.setattr(bounded, "solve_bounded", hooked(bounded.solve_bounded, 0))
    return seen


def _lexicographic(p: AssignmentProblem) -> tuple[int, float]:
    """(the most mentees matched, the best total among those assignments): two HiGHS MILPs over
    every pair (x per pair, y per mentee: matched, y_i <= sum_j x_ij)."""
    P, K, n, m = p.pairs, len(p.pairs), p.n_mentees, p.n_mentors
    N = K + n
    A, lo, hi = [], [], []
    for j in range(m):
        r = np.zeros(N)
        r[np.flatnonzero(P.mentor == j)] = 1.0
        A.append(r), lo.append(-np.inf), hi.append(float(p.capacity[j]))
    for i in range(n):
        on = np.flatnonzero(P.mentee == i)
        r = np.zeros(N)
        r[on] = 1.0
        A.append(r), lo.append(-np.inf), hi.append(float(p.demand[i]))
        r = np.zeros(N)
        r[on], r[K + i] = -1.0, 1.0
        A.append(r), lo.append(-np.inf), hi.append(0.0)

    def solve(c, extra=()):
        rows = A + [e[0] for e in extra]
        res = milp(-c, constraints=LinearConstraint(csr_matrix(np.array(rows)), lo + [e[1] for e in extra],
                                                    hi + [e[2] for e in extra]),
                   integrality=np.ones(N), bounds=Bounds(0, 1))
        assert res.status == 0, res.message
        return -res.fun

    count = np.r_[np.zeros(K), np.ones(n)]
    C = int(round(solve(count)))
    return C, solve(np.r_[p.score, np.zeros(n)], [(count, C - 0.5, C + 0.5)])


def _tables(seed: int):
    mentors, mentees = synthetic.organisation(n_mentees=24, n_mentors=8, seed=seed)
    rng = np.random.default_rng(seed)
    mentors = mentors.assign(capacity=rng.integers(1, 3, len(mentors)))  # fewer places than asked
    mentees = mentees.assign(mentors_needed=rng.integers(1, 3, len(mentees)))
    return mentors, mentees


PROGRAMME = {"constraints": {"coverage_first": True}, "time_limit": 1000}


@pytest.mark.parametrize("source, where", [("complete", "start"), ("complete", "read1"),
                                           ("blocks", "start"), ("blocks", "read1"),
                                           ("bounds", "start")])  # (bounds: no block scorer)
@pytest.mark.parametrize("seed", [3, 8])
def test_a_stopped_coverage_first_flow_stays_honest(monkeypatch, seed, source, where):
    mentors, mentees = _tables(seed)
    complete = pl.prepare(mentors, mentees, PROGRAMME)
    C, T = _lexicographic(complete.problem)
    with pytest.MonkeyPatch.context() as mp:
        clock = JumpClock(mp)
        seen = _stop_at(mp, clock, where)
        with on_source(source):
            r = pl.pair(mentors, mentees, PROGRAMME)
    assert clock.jumped and seen["after"] and "optimal" not in seen["after"], seen
    assert seen["reads"] == 0  # no block read past the limit
    assert r.status == "feasible" and r.certificate["timed_out"]
    assert "stopped at the time limit (1000 s)" in r.certificate["message"]
    assert table_violations(mentors, mentees, PROGRAMME, r, complete) == []
    assert set(r.unmatched["mentee_id"]).isdisjoint(r.pairs["mentee_id"])
    assert set(r.pairs["mentee_id"]) | set(r.unmatched["mentee_id"]) == set(mentees["id"])
    pos = result_positions(complete, r)
    assert len(np.unique(complete.problem.pairs.mentee[pos])) <= C
    if r.bound is not None:  # over every assignment matching as many mentees: the optimum's too
        assert T <= r.bound + 1e-6 * max(1.0, abs(r.bound))
        assert r.objective <= r.bound + 1e-9


def _tiny(seed: int) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    mask = rng.random((n, m)) < 0.8
    mask[0, 0] = True
    P = Candidates.from_mask(mask)
    return AssignmentProblem(P, np.round(rng.normal(0.5, 1.0, len(P)), 2), rng.integers(1, 3, m).astype(float),
                             demand=rng.integers(1, 3, n), coverage_first=True)


@pytest.mark.parametrize("where", ["start", "read1"])
@pytest.mark.parametrize("seed", range(20))
def test_a_stopped_coverage_first_flow_against_brute_force(seed, where):
    """The held problem's flow (``solve_held(coverage_only=True)``, the "flow" solver's
    coverage_first): stopped, never "optimal", its pairs meet the capacities and demands, and
    a bound, where given, is at least the best total of the assignments matching the most
    mentees (every assignment enumerated)."""
    p = _tiny(seed)
    bf = feasible_assignments(p)
    most = int(bf.matched[bf.feasible].max())
    best = float(bf.total[bf.feasible & (bf.matched == most)].max())
    with pytest.MonkeyPatch.context() as mp:
        clock = JumpClock(mp)
        seen = _stop_at(mp, clock, where)
        sol = bottleneck.solve_held(p, SolverOptions(time_limit=1000), coverage_only=True)
    assert clock.jumped and "optimal" not in seen["after"] and seen["reads"] == 0
    assert sol.status == "feasible" and sol.certificate["timed_out"]
    assert sol.message.startswith("stopped at the time limit (1000 s)")
    assert violations(p, sol.chosen) == []
    if sol.bound is not None:
        assert best <= sol.bound + 1e-9


def test_an_unstopped_flow_is_still_proven():
    """With the limit far off, the same flow is "optimal" at the brute-force optimum."""
    for seed in range(10):
        p = _tiny(seed)
        bf = feasible_assignments(p)
        most = int(bf.matched[bf.feasible].max())
        best = float(bf.total[bf.feasible & (bf.matched == most)].max())
        sol = bottleneck.solve_held(p, SolverOptions(time_limit=1000), coverage_only=True)
        assert sol.status == "optimal" and not sol.certificate.get("timed_out")
        assert len(np.unique(p.pairs.mentee[sol.chosen])) == most
        assert sol.objective == pytest.approx(best, abs=1e-6) and sol.bound >= best - 1e-9
