"""The engine's branching on the relaxation's counts and on y (solvers/branch.py), against an
independent exact solver (scipy's milp on the full model, tests/test_solvers_engine.reference):
the bound it reports holds over every assignment, even with most pairs outside the candidates;
every assignment it returns meets the constraints recomputed from the inputs; and where it says
it settled, its assignment is the optimum."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.pairs import Candidates as PairSet
from mentormatch.solvers import SideConstraints, SolverOptions, branch, engine, relax, stage
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.engine import solve_mip
from mentormatch.solvers.linear import Branch, LinearModel
from mentormatch.solvers.sources import ArraySource

from test_solvers_engine import instance, reference
from test_solvers_lagrange import _meets


def uniform(seed, n=40, m=12, density=0.7, share=0.55):
    """Every mentor paid the same fixed and per-mentee stipend (2 and 1), as in the synthetic
    organisations; the budget binds and the relaxation opens a fraction of a mentor."""
    rng = np.random.default_rng(seed)
    pairs = PairSet.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.uniform(0.05, 1.0, len(pairs)), 3)
    cap = rng.integers(1, 5, m).astype(float)
    budget = float(np.floor(share * (2 * m + cap.sum())))
    side = SideConstraints(budget=budget, stipend_fixed=np.full(m, 2.0),
                           stipend_per_mentee=np.ones(m), min_load=np.zeros(m))
    return AssignmentProblem(pairs, score, cap, side=side)


def _few_candidates(monkeypatch):
    """Start from each mentee's best pair and add one violator per mentee a round: most pairs
    stay outside the candidates, so every bound must come from pricing them."""
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)


def _untimed(monkeypatch):
    """The engine without its candidates' MIP, its tree bounded by nodes, not by its pricing."""
    monkeypatch.setattr(stage, "MIP_MAX_COLUMNS", 0)
    monkeypatch.setattr(branch, "TREE_MIN_PAIRS", 10 ** 12)


def _root(p: AssignmentProblem):
    """The engine's root for the score stage: the run, the candidates and the relaxation."""
    P = p.pairs
    source = ArraySource(P.mentee, P.mentor, p.score, P.n_mentees, P.n_mentors)
    none = np.zeros(0, np.int64)
    run = relax.Run(source, LinearModel(p), SolverOptions(), time.perf_counter() + 60, none)
    cand = relax.Candidates(*source.best(relax.FIRST_CANDIDATES), P.n_mentors, none)
    out = run.relax(cand)
    assert out is not None
    return run, cand, out[1]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("make", [instance, uniform])
def test_the_trees_bound_holds_over_every_assignment(monkeypatch, make, seed):
    """From the empty assignment (worth 0), the tree alone: its bound is at least the optimum
    and at most the root's; what it finds meets the constraints and is worth what it says."""
    _few_candidates(monkeypatch)
    p = make(seed)
    best = reference(p)
    run, cand, U = _root(p)
    tree = branch.search(run, cand, U, 0.0, engine.OPTIMAL_GAP, max_pairs=10 ** 12, max_nodes=60)
    assert best - 1e-6 <= tree.bound <= U + 1e-9
    assert run.model.branch.free  # the model is the root's again
    if tree.best_keys is not None:
        i, j = tree.best_keys // p.n_mentors, tree.best_keys % p.n_mentors
        assert _meets(p, i, j) == pytest.approx(tree.value, abs=1e-9)
        assert tree.value <= best + 1e-9
    if tree.stopped == "settled":  # the bound met the assignment: it is the optimum
        assert tree.value == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("make", [instance, uniform])
def test_the_engine_without_its_mip_keeps_a_valid_bound(monkeypatch, make, seed):
    """With the candidates' MIP off, the bound and assignment are the relaxation's, the
    heuristics' and the tree's: bound >= milp's optimum >= objective, constraints recomputed."""
    _few_candidates(monkeypatch)
    _untimed(monkeypatch)
    p = make(seed)
    best = reference(p)
    sol = solve_mip(p, SolverOptions(time_limit=30))
    assert sol.bound >= best - 1e-6
    got = _meets(p, p.pairs.mentee[sol.chosen], p.pairs.mentor[sol.chosen])
    assert got == pytest.approx(sol.objective, abs=1e-9) and sol.objective <= best + 1e-9
    if sol.status == "optimal":
        assert sol.objective == pytest.approx(best, abs=1e-6)
    else:
        assert sol.gap > engine.OPTIMAL_GAP


def test_a_fractional_mentor_is_settled_by_the_count_of_active_mentors(monkeypatch):
    """The synthetic organisations' case (uniform stipends): the relaxation opens a fraction of
    a mentor; splitting on the number of active mentors proves the optimum without the MIP."""
    _untimed(monkeypatch)
    settled = 0
    for seed in range(6):
        p = uniform(seed)
        run, cand, U = _root(p)
        active, _ = run.lp.sums()
        sol = solve_mip(p, SolverOptions(time_limit=30))
        tree = sol.certificate["score"]["branching"]
        if abs(active - round(active)) > 1e-6 and tree is not None and tree["nodes"] > 0:
            assert sol.objective == pytest.approx(reference(p), abs=1e-6)
            settled += sol.status == "optimal"
    assert settled >= 3


def test_when_counts_and_y_are_whole_the_pairs_split(monkeypatch):
    """instance(5): splitting the counts and y ends after 6 nodes with every count and y whole
    and the bound 0.4 % above the optimum; splitting candidate pairs then proves the optimum."""
    _few_candidates(monkeypatch)
    _untimed(monkeypatch)
    p = instance(5)
    sol = solve_mip(p, SolverOptions(time_limit=120))
    tree = sol.certificate["score"]["branching"]
    assert tree["stopped"] == "settled" and tree["nodes"] > 6
    assert sol.status == "optimal" and sol.objective == pytest.approx(reference(p), abs=1e-6)


def test_a_restricted_model_states_its_node():
    """A node's restrictions reach the rows and the y bounds, leave the pairs' reduced costs
    term by term equal to the matrix, and cannot be left out of a MIP."""
    p = instance(1, n=20, m=6)
    model = LinearModel(p)
    P = p.pairs
    node = Branch(active_lo=2, active_hi=4, pairs_lo=3, pairs_hi=9, off=(1,), on=(0, 5),
                  penalty=7.0)
    model.set_branch(node)
    A, obj, lo, hi, integer, rhs = model.matrix(P.mentee, P.mentor, p.score, np.zeros(len(P), bool))
    agg = model.rows["aggregate"].start
    assert rhs[agg:agg + 4].tolist() == [4.0, -2.0, 9.0, -3.0]
    y = len(P) + model.y_at
    assert (lo[y], hi[y + 1], lo[y + 5]) == (1.0, 0.0, 1.0) and hi[y + 2] == 1.0 and lo[y + 2] == 0.0
    assert np.all(obj[len(P) + model.slack_at:len(P) + model.slack_at + 4] == -7.0)
    prices = np.random.default_rng(0).uniform(0, 1, model.n_rows)
    np.testing.assert_allclose(model.pair_reduced_costs(P.mentee, P.mentor, p.score, prices),
                               model.pair_reduced_costs_by_matrix(P.mentee, P.mentor, p.score, prices))
    with pytest.raises(ValueError, match="restricted to a node"):
        model.matrix(P.mentee, P.mentor, p.score, np.zeros(len(P), bool), with_aggregate=False)
    model.set_branch(Branch())
    A2, *_ = model.matrix(P.mentee, P.mentor, p.score, np.zeros(len(P), bool), with_aggregate=False)
    assert A2.shape == (A.shape[0] - 4, A.shape[1] - 4)
