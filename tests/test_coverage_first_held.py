"""The engine's ``coverage_first`` shortcut on held pairs (issue 23, s19h8).

s19h2 found that the engine's shortcut for ``coverage_first`` (no side rows, unit loads, whole
capacities: the most mentees, then the largest total, by one certified flow counting mentees)
skipped an ``ArraySource``: ``solve_mip`` on a held problem, so ``pair(..., solver="mip")`` on
the complete set, ran the LP/MIP instead (at 2,500 x 800, 33-35 s of CPU against 1.2 s on
blocks, and other pairs among ties). Now the held pairs are read as blocks of rows
(:func:`mentormatch.solvers.sources.block_scorer`) and every source takes the same flow.

Checked against brute force (the most mentees, then the largest total; demands 1 to 3, locks,
ties, zeros and negatives), the same pairs, status and bound on the complete set, on blocks and
through ``solve_mip``; ``pair()`` on the three sources, a programme's rounds with priority and
continuity included, gives the same pairs and answer.
"""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions
from mentormatch.solvers.engine import solve_mip, solve_source
from mentormatch.solvers.sources import ArraySource, BlockSource, block_scorer
from mentormatch.testing import feasible_assignments, violations

from _support import SOURCES, on_source, programme_rounds, result_positions

FLOW = "coverage first by a certified flow counting mentees"


def _problem(seed: int) -> AssignmentProblem:
    """4 mentees needing 1 to 3 mentors, 3 mentors of capacity 1 or 2, some pairs ineligible,
    ties, zeros and negatives, and (every other seed) a lock or two on distinct people."""
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    mask = rng.random((n, m)) > rng.choice([0.0, 0.3])
    mask[0, :] = True
    pairs = Candidates.from_mask(mask)
    if seed % 3 == 0:
        score = rng.choice([-0.5, 0.0, 0.5, 1.0, 1.0, 2.0], size=len(pairs))
    else:
        score = np.round(rng.normal(0.6, 0.8, size=len(pairs)), 3)
    locked = np.zeros(len(pairs), bool)
    for k in rng.permutation(len(pairs))[: (seed % 2) * (1 + seed % 4 // 2)]:
        if not np.any(locked & ((pairs.mentor == pairs.mentor[k]) | (pairs.mentee == pairs.mentee[k]))):
            locked[k] = True
    return AssignmentProblem(pairs, score, rng.integers(1, 3, size=m).astype(float),
                             demand=rng.integers(1, 4, size=n), locked=locked, coverage_first=True)


def _on(p, src):
    """The engine on ``src`` with ``p``'s capacities, demands and locks: (solution, sorted
    positions of its pairs in ``p.pairs``)."""
    lk = np.flatnonzero(p.locked)
    sub, sol = solve_source(src, p.capacity, demand=p.demand, coverage_first=True,
                            locked=(p.pairs.mentee[lk], p.pairs.mentor[lk]),
                            options=SolverOptions(time_limit=30))
    return sol, np.sort(p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen]))


@pytest.mark.parametrize("seed", range(40))
def test_held_pairs_take_the_flow_counting_mentees_against_brute_force(seed):
    p = _problem(seed)
    bf = feasible_assignments(p)
    ok = bf.feasible
    most = int(bf.matched[ok].max())
    best = float(bf.total[ok & (bf.matched == most)].max())
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    held = ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, p.n_mentees, p.n_mentors)
    answers = {"held": _on(p, held),
               "blocks": _on(p, BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors))}
    sol = solve_mip(p, SolverOptions(time_limit=30))
    answers["solve_mip"] = (sol, np.sort(sol.chosen))
    for name, (sol, pos) in answers.items():
        assert np.all(pos >= 0) and violations(p, pos) == [], name
        assert np.all(np.isin(np.flatnonzero(p.locked), pos)), name
        assert len(np.unique(p.pairs.mentee[pos])) == most, name
        assert float(p.score[pos].sum()) == pytest.approx(best, abs=1e-9), name
        assert sol.objective == pytest.approx(best, abs=1e-9), name
        assert sol.status == "optimal", name
        assert sol.certificate["method"] == FLOW, name  # the LP/MIP engine before, on held pairs
        assert sol.bound >= best - 1e-9, name
    first_sol, first = answers["blocks"]
    for name, (sol, pos) in answers.items():  # one flow, one tie rule: the same answer
        assert pos.tolist() == first.tolist(), name
        assert sol.bound == first_sol.bound, name


def test_block_scorer_reads_held_pairs_as_the_dense_rows():
    rng = np.random.default_rng(5)
    mask = rng.random((7, 4)) > 0.4
    P = Candidates.from_mask(mask)
    s = rng.normal(size=len(P))
    dense = np.full((7, 4), -np.inf)
    dense[P.mentee, P.mentor] = s
    rows = block_scorer(ArraySource(P.mentee, P.mentor, s, 7, 4))
    for a, b in [(0, 7), (2, 5), (6, 7), (3, 3)]:
        assert np.array_equal(rows(slice(a, b)), dense[a:b])


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("seed", range(4))
def test_pair_with_mip_and_coverage_first_gives_one_answer_on_every_source(seed):
    """``pair(..., solver="mip")`` with ``coverage_first``: the complete set now takes the flow
    (before: ``"pricing + HiGHS MIP"``), with the pairs, status, objective, bound and certificate
    keys of blocks (bounds add keys of their own), and the most mentees then the largest total by brute force."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=5, n_mentors=3, seed=seed)
    rng = np.random.default_rng(seed)
    mentees = mentees.assign(mentors_needed=rng.choice([1, 2, 3], len(mentees)))
    mentors = mentors.assign(capacity=rng.choice([1, 2], len(mentors)))
    programme = {"constraints": {"management_line": False, "coverage_first": True},
                 "solver": "mip", "time_limit": 60}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    bf = feasible_assignments(p)
    most = int(bf.matched[bf.feasible].max())
    best = float(bf.total[bf.feasible & (bf.matched == most)].max())
    out = {}
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        pos = result_positions(complete, r)
        assert np.all(pos >= 0) and violations(p, pos) == [], kind
        assert len(np.unique(p.pairs.mentee[pos])) == most, kind
        assert r.objective == pytest.approx(best, abs=1e-6), kind
        assert r.status == "optimal" and r.certificate["method"] == FLOW, kind
        out[kind] = r
    for kind, r in out.items():
        assert _key(r) == _key(out["complete"]), kind
        assert r.bound == pytest.approx(out["complete"].bound, abs=1e-6), kind
        # the same keys as blocks; bounds add their own work record (pairs scored exactly, ...)
        assert set(out["complete"].certificate) == set(out["blocks"].certificate)
        assert set(out["complete"].certificate) <= set(r.certificate), kind


def test_programme_rounds_with_bonus_take_the_flow_on_the_complete_set():
    """Rounds 1 and 2 of a programme with priority, continuity and coverage_first, solver
    ``"mip"``: the complete set's rounds take the certified flow counting mentees, as blocks and
    bounds do, with the same pairs and adjusted objective."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=60, n_mentors=15, seed=4)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    rules = {"constraints": {"coverage_first": True}, "solver": "mip"}
    runs = {kind: programme_rounds(rules, mentors, mentees, kind) for kind in SOURCES}
    second = runs["complete"][1]
    assert second.certificate["objective"] == "score + bonus"
    assert second.certificate["bonus_total"] > 0
    for kind, rounds in runs.items():
        for a, b in zip(rounds, runs["complete"]):
            assert a.certificate["method"] == FLOW, kind
            assert a.status == "optimal", kind
            assert _key(a) == _key(b), kind
            assert a.certificate.get("adjusted_objective", a.objective) == pytest.approx(
                b.certificate.get("adjusted_objective", b.objective), abs=1e-6), kind
