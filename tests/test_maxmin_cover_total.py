"""Max-min's total under coverage_first in a second stage (s19h3).

With a mentee needing several mentors, max-min's flows nest three weights (the mentees, the
pairs at least the threshold, the total): at 200,000 x 40,000 with demands of 5 the total was
exact only to 2**-1 per pair, so s18 answered "feasible" with ``certificate["total_rounding"]``.
Now, when that rounding exceeds the gap, one more certified flow with the count, the pairs and
the threshold fixed as supplies gives the total at the plain flow's step (s20h4,
``solvers/maxmin_total.py``; s19's second stage, a flow with a smaller weight, kept the coverage
flow's step and stayed "feasible" at 28 and 32 bits here). The narrowing of ``quantize.COVER_BITS`` makes the
nested weights coarse on small problems, as at scale; the answers are checked against an
independent solver (HiGHS through scipy.optimize.milp): the most mentees, then the most pairs,
then the threshold (no assignment with those counts reaches a higher worst pair), then the total.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, hstack, identity, vstack

import mentormatch as mm
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver, quantize
from mentormatch.testing import violations

from _support import SOURCES, on_source


def _problem(seed: int, n: int = 60, m: int = 20) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < 0.4
    mask[np.arange(n), rng.integers(0, m, n)] = True
    P = Candidates.from_mask(mask)
    return AssignmentProblem(P, rng.random(len(P)), rng.integers(1, 3, m).astype(float),
                             rng.integers(1, 4, n).astype(float), coverage_first=True)


def _milp(p: AssignmentProblem, objective: str, floor: float = -np.inf, covered: int = 0,
          pairs: int = 0):
    """HiGHS on x (pairs scoring at least ``floor``) and y (mentee matched): maximise the
    matched mentees, the pairs or the total, with at least ``covered`` mentees and ``pairs``
    pairs; None when infeasible."""
    P = p.pairs
    use = np.flatnonzero(p.score >= floor)
    k, n, m = len(use), p.n_mentees, p.n_mentors
    cols = np.arange(k)
    by_i = csr_matrix((np.ones(k), (P.mentee[use], cols)), shape=(n, k))
    by_j = csr_matrix((np.ones(k), (P.mentor[use], cols)), shape=(m, k))
    # rows: each mentee's pairs <= demand, each mentor's <= capacity, y_i <= the mentee's pairs
    A = hstack([vstack([by_i, by_j, -by_i]),
                vstack([csr_matrix((n + m, n)), identity(n, format="csr")])]).tocsr()
    ub = np.concatenate([p.demand, p.capacity, np.zeros(n)])
    cons = [LinearConstraint(A, -np.inf, ub),
            LinearConstraint(np.concatenate([np.zeros(k), np.ones(n)])[None, :], covered, np.inf),
            LinearConstraint(np.concatenate([np.ones(k), np.zeros(n)])[None, :], pairs, np.inf)]
    c = {"mentees": np.concatenate([np.zeros(k), np.ones(n)]),
         "pairs": np.concatenate([np.ones(k), np.zeros(n)]),
         "total": np.concatenate([p.score[use], np.zeros(n)])}[objective]
    r = milp(-c, constraints=cons, integrality=np.ones(k + n), bounds=Bounds(0, 1),
             options={"mip_rel_gap": 0})
    return None if r.x is None else -r.fun


def _reference(p: AssignmentProblem, threshold: float):
    """(mentees, pairs, total) by HiGHS, after checking that ``threshold`` is the max-min."""
    C = round(_milp(p, "mentees"))
    M = round(_milp(p, "pairs", covered=C))
    assert round(_milp(p, "pairs", threshold, covered=C)) == M
    above = _milp(p, "pairs", np.nextafter(threshold, np.inf), covered=C)
    assert above is None or round(above) < M  # no higher worst pair keeps the counts
    return C, M, _milp(p, "total", threshold, covered=C, pairs=M)


@pytest.mark.parametrize("bits", [28, 32, 36, 38])
@pytest.mark.parametrize("seed", range(4))
def test_a_coarse_nested_total_is_solved_exactly_in_a_second_stage(monkeypatch, seed, bits):
    """Narrowed bits: the nested weights' total is coarser than the gap (the second stage ran),
    yet the answer is optimal: the same pairs as with the full bits, the counts, threshold and
    total of HiGHS. On s18's code these answers were "feasible", on s19's at 28 and 32 bits."""
    p = _problem(seed)
    full = get_solver("maxmin")(p, SolverOptions(seed=0))
    monkeypatch.setattr(quantize, "COVER_BITS", bits)
    sol = get_solver("maxmin")(p, SolverOptions(seed=0))
    assert sol.status == "optimal", sol.message
    stage = sol.certificate["second_stage"]
    assert stage is not None and stage["holds"]
    assert sol.certificate["total_rounding"] <= 1e-6 * abs(sol.objective)
    assert violations(p, sol.chosen) == []
    assert sorted(sol.chosen.tolist()) == sorted(full.chosen.tolist())
    C, M, total = _reference(p, sol.certificate["threshold"])
    x = np.asarray(sol.chosen, np.int64)
    assert len(np.unique(p.pairs.mentee[x])) == C and len(x) == M
    assert p.score[x].sum() == pytest.approx(total, abs=1e-7)


def _needing_two():
    """60 mentees needing 2 mentors each, 20 mentors of capacity at most 2; max-min with
    coverage_first."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    programme = {"time_limit": 120, "fairness": {"objective": "maxmin"},
                 "constraints": {"coverage_first": True, "management_line": False}}
    return mentors, mentees.assign(mentors_needed=2), programme


def _key(r):
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


def test_the_second_stage_gives_the_same_pairs_on_every_source(monkeypatch):
    """``pair()`` with mentees needing 2 mentors, max-min, coverage_first, the bits narrowed so
    that the second stage runs: the same pairs, optimal, on the complete set, blocks and bounds."""
    mentors, mentees, programme = _needing_two()
    full = mm.pair(mentors, mentees, programme)
    monkeypatch.setattr(quantize, "COVER_BITS", BITS_PAIR)
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
        cert = r.certificate if "second_stage" in r.certificate else r.certificate.get("maxmin", {})
        assert cert.get("second_stage") is not None, kind
        assert r.status == "optimal", kind
        assert _key(r) == _key(full), kind


#: The bits at which the organisation above needs the second stage (found by a scan).
BITS_PAIR = 40


def test_maxmin_on_bounds_with_demands_of_two_is_proven_in_few_flows():
    """The organisation above on bounds, full bits: until s19 the guesses from the pairs seen
    ignored the mentees, each flow lowered the bracket's upper end by one score, and the run
    stopped at its 64-flow work limit, "feasible". Now optimal, with the complete set's pairs."""
    mentors, mentees, programme = _needing_two()
    full = mm.pair(mentors, mentees, programme)
    with on_source("bounds"):
        r = mm.pair(mentors, mentees, programme)
    assert r.status == full.status == "optimal"
    assert r.certificate["flows"] < 64 and _key(r) == _key(full)


@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_leximin_on_a_source_needs_only_the_max_mins_count_and_threshold(monkeypatch, kind):
    """Leximin on a source starts from the max-min's flows; their total, coarse under narrowed
    bits, is not what leximin uses (it needs the count and the threshold), so leximin is proven
    and runs no second stage: the complete set's pairs (the flow leximin, no weights)."""
    mentors, mentees, programme = _needing_two()
    programme = {**programme, "fairness": {"objective": "leximin"}}
    full = mm.pair(mentors, mentees, programme)
    monkeypatch.setattr(quantize, "COVER_BITS", 34)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    assert r.certificate["maxmin"]["holds"] and r.certificate["holds"]
    assert r.status == full.status == "optimal"
    assert _key(r) == _key(full)
