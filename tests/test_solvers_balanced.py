"""Balanced loads by a certified flow per level (solvers/balanced.py): its bound holds over every
assignment (the exact optimum: scipy's milp on the full model, one level at a time), its
assignment meets the balance recomputed from the inputs, on every pair source, and through
pair() on the scale path (blocks and bounds)."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as P
from mentormatch.solvers import SolverOptions, route
from mentormatch.testing import violations

from _support import force_scale_path, recheck_pairs, solve_and_recheck, source_of


def _reference(p) -> float:
    """The balanced optimum: for each level L, scipy's milp on x (pairs) and y (active mentors)
    with L y_j <= load_j <= (L + 1) y_j and load_j <= cap_j; the best level (0: nobody)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    Q = p.pairs
    K, n, m = len(Q), p.n_mentees, p.n_mentors
    best = 0.0
    for L in range(1, int(p.capacity.max()) + 1):
        A, lo, hi = [], [], []
        for i in range(n):
            A.append(np.r_[(Q.mentee == i).astype(float), np.zeros(m)]); lo.append(0); hi.append(p.demand[i])
        for j in range(m):
            onj = (Q.mentor == j).astype(float)
            e = np.zeros(m); e[j] = 1.0
            A.append(np.r_[onj, -L * e]); lo.append(0); hi.append(np.inf)  # load >= L y
            A.append(np.r_[onj, -(min(L + 1, p.capacity[j])) * e]); lo.append(-np.inf); hi.append(0)
        ub = np.r_[np.ones(K), (p.capacity >= L).astype(float)]
        res = milp(-np.r_[p.score, np.zeros(m)], constraints=LinearConstraint(np.array(A), lo, hi),
                   integrality=np.ones(K + m), bounds=Bounds(0, ub), options={"mip_rel_gap": 1e-9})
        assert res.status == 0  # (y = 0 is feasible)
        best = max(best, -res.fun)
    return best


def _instance(seed, n=14, m=6):
    from mentormatch.pairs import Candidates
    from mentormatch.solvers.base import AssignmentProblem, SideConstraints

    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < 0.6)
    score = np.round(rng.random(len(pairs)), 3)
    cap = rng.integers(1, 5, m).astype(float)
    return AssignmentProblem(pairs, score, cap, side=SideConstraints(balanced_load=True))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["array", "blocks"])
def test_balanced_loads_hold_against_the_exact_optimum(monkeypatch, seed, kind):
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)  # the flows' answer alone
    p = _instance(seed)
    best = _reference(p)
    sol, _ = solve_and_recheck(p, source_of(p, kind))  # balanced, recomputed
    assert sol.certificate["method"] == "balanced loads by a certified flow per level"
    assert sol.bound >= best - 1e-6  # the bound holds over every assignment
    assert sol.objective <= best + 1e-9
    assert (sol.status == "optimal") == (sol.gap <= 1e-6)
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best, abs=1e-6)


def test_the_plain_optimum_is_not_balanced_here_and_the_answer_is():
    """An instance where the plain optimum's loads differ by more than one: the answer differs
    from it, is balanced, and is the exact optimum (engine at its default size policy)."""
    from mentormatch.solvers.certify import solve_flow_any

    for seed in range(20):
        p = _instance(seed)
        plain = solve_flow_any(p.without_side(), SolverOptions())
        if violations(p, plain.chosen) == ["balanced_load"]:
            break
    else:
        raise AssertionError("no instance where the plain optimum is unbalanced")
    sol, _ = solve_and_recheck(p, source_of(p, "array"))  # balanced, recomputed
    assert sol.status == "optimal" and sol.objective == pytest.approx(_reference(p), abs=1e-6)


@pytest.mark.parametrize("bounds", [False, True])
def test_pair_on_the_scale_path_keeps_loads_balanced(monkeypatch, bounds):
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=14, seed=3)
    programme = {"constraints": {"balanced_load": True}, "time_limit": 20}
    small = P.prepare(mentors, mentees, programme)
    whole = mm.pair(mentors, mentees, programme)
    source = force_scale_path(monkeypatch, bounds)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    r = mm.pair(mentors, mentees, programme)
    assert r.certificate["source"] == source
    assert r.certificate["method"] == "balanced loads by a certified flow per level"
    loads = r.pairs.groupby("mentor_id").size()
    assert loads.max() - loads.min() <= 1
    recheck_pairs(small, r, whole)
