"""maxmin and leximin against brute force on tiny instances (every feasible assignment)."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints, SolverOptions, get_solver
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.fair import _cp_maxmin, solve_maxmin
from mentormatch.solvers.leximin import solve_leximin

from _support import best_rows
from test_solvers_cpsat import all_assignments, feasible


def instance(seed, n=6, m=3, density=0.7, **kw):
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.uniform(0, 1, len(pairs)), 1)  # coarse, so ties occur
    cap = kw.pop("capacity", None)
    cap = rng.integers(1, 3, m).astype(float) if cap is None else cap
    return AssignmentProblem(pairs, score, cap, **kw)


def feasible_rows(p):
    X = all_assignments(p)
    return X[feasible(p, X)]


def reference(p):
    """(max count, best min, best total at that min, best sorted vector) by enumeration."""
    X = feasible_rows(p)
    count = X.sum(1)
    X = X[count == count.max()]
    vectors = [tuple(sorted(p.score[row])) for row in X]
    mins = np.array([v[0] if v else np.inf for v in vectors])
    totals = X.astype(float) @ p.score
    best_min = mins.max()
    return int(count.max()), best_min, totals[mins == best_min].max(), max(vectors)


@pytest.mark.parametrize("seed", range(20))
def test_maxmin_plain(seed):
    p = instance(seed)
    if seed % 3 == 0:
        p.locked = np.random.default_rng(seed).random(len(p.pairs)) < 0.1
    X = feasible_rows(p)
    if len(X) == 0:
        return
    count, best_min, best_total, _ = reference(p)
    sol = solve_maxmin(p)
    assert sol.status == "optimal" and len(sol.chosen) == count == sol.certificate["matched"]
    worst = p.score[sol.chosen].min() if count else np.inf
    assert worst == pytest.approx(best_min)
    if count:
        assert sol.certificate["threshold"] == pytest.approx(worst)
    assert sol.objective == pytest.approx(best_total)
    row = np.zeros(len(p.pairs), bool)
    row[sol.chosen] = True
    assert feasible(p, row[None])[0]


@pytest.mark.parametrize("seed", range(8))
def test_maxmin_with_side_constraints_uses_cpsat(seed):
    rng = np.random.default_rng(seed)
    p = instance(seed, load=rng.choice([0.5, 1.0], 6), capacity=np.array([1.5, 1.0, 2.0]))
    p.side = SideConstraints(min_load=np.array([2.0, 0.0, 0.0]))
    count, best_min, best_total, _ = reference(p)
    sol = solve_maxmin(p)
    assert sol.status == "optimal" and len(sol.chosen) == count
    assert p.score[sol.chosen].min() == pytest.approx(best_min)
    assert sol.objective == pytest.approx(best_total)


@pytest.mark.parametrize("seed", range(12))
def test_leximin_against_enumeration(seed):
    p = instance(seed, capacity=None if seed % 2 else np.array([2.0, 1.0, 1.0]))
    count, _, _, best_vector = reference(p)
    sol = solve_leximin(p, SolverOptions(time_limit=20))
    assert sol.status == "optimal" and len(sol.chosen) == count
    ours = tuple(sorted(p.score[sol.chosen]))
    assert np.allclose(ours, best_vector)
    row = np.zeros(len(p.pairs), bool)
    row[sol.chosen] = True
    assert feasible(p, row[None])[0]


@pytest.mark.parametrize("seed", range(4))
def test_leximin_with_balanced_load(seed):
    p = instance(seed, capacity=np.array([3.0, 2.0, 2.0]), density=0.9)
    p.side = SideConstraints(balanced_load=True)
    count, _, _, best_vector = reference(p)
    sol = get_solver("leximin")(p, SolverOptions())
    assert np.allclose(sorted(p.score[sol.chosen]), best_vector)


def test_maxmin_flow_medium_matches_cpsat_path():
    rng = np.random.default_rng(5)
    pairs = Candidates.from_mask(rng.random((40, 8)) < 0.4)
    p = AssignmentProblem(pairs, np.round(rng.random(len(pairs)), 3), np.full(8, 4.0))
    flow = solve_maxmin(p)
    started = time.perf_counter()
    cp = _cp_maxmin(p, SolverOptions(), started)  # the path taken under side constraints
    assert flow.status == cp.status == "optimal"
    assert len(flow.chosen) == len(cp.chosen)
    assert flow.certificate["threshold"] == pytest.approx(cp.certificate["threshold"])
    assert flow.objective == pytest.approx(cp.objective)


def test_plain_leximin_honours_its_time_limit_with_a_feasible_answer():
    """The flows of plain leximin stop at the time limit (it ran 422 s with a 120 s limit at
    3,000 x 1,500): the flow held then has the most pairs and the best worst pair (both proven
    before the levels), is said to be feasible, and says which levels are settled."""
    rng = np.random.default_rng(3)
    n, m = 300, 60
    p = AssignmentProblem(Candidates.complete(n, m), np.round(rng.random(n * m), 6),
                          np.full(m, 4.0))
    full = solve_leximin(p)
    cut = solve_leximin(p, SolverOptions(time_limit=1e-9))
    assert full.status == "optimal" and cut.status == "feasible"
    assert "time limit" in cut.message
    assert len(cut.chosen) == len(full.chosen) == 240  # the most pairs
    assert p.score[cut.chosen].min() == pytest.approx(p.score[full.chosen].min())  # max-min
    assert cut.certificate["proven_below"] == pytest.approx(p.score[full.chosen].min())
    load = np.bincount(p.pairs.mentor[cut.chosen], minlength=m)
    assert np.all(load <= 4) and len(np.unique(p.pairs.mentee[cut.chosen])) == len(cut.chosen)
    # the full answer is leximin-better or equal: its sorted vector is not below the cut one's
    a, b = np.sort(p.score[full.chosen]), np.sort(p.score[cut.chosen])
    diff = np.flatnonzero(a != b)
    assert not len(diff) or a[diff[0]] > b[diff[0]]


# ---- an objective bonus apart, and CP-SAT's integers in the engine's unit (s20h3) ----------

def _floored(seed: int, k: int = 0):
    """A 6 x 3 instance with two groups and a score floor of 0.9 (scores times ``2**k``),
    and a bonus of 0, 0.3 or 0.6 per mentee (priority)."""
    rng = np.random.default_rng(seed)
    p = instance(seed, capacity=np.array([2.0, 1.0, 2.0]), density=0.8)
    p = AssignmentProblem(p.pairs, np.round(rng.uniform(0.1, 1.0, len(p.pairs)), 2) * 2.0 ** k,
                          p.capacity)
    p.side = SideConstraints(group=rng.integers(0, 2, p.n_mentees), score_floor=0.9)
    bonus = rng.choice([0.0, 0.3, 0.6], p.n_mentees)[p.pairs.mentee] * 2.0 ** k
    return p, bonus


def _lex_best(p, value):
    """Enumeration with the constraints on ``p``'s (plain) scores: the max-min rows on
    ``value`` (most pairs, worst, total) and the leximin rows (most pairs, sorted vector)."""
    X = feasible_rows(p)
    ok = np.ones(len(X), bool)
    return X[best_rows(X, ok, value, "maxmin")], X[best_rows(X, ok, value, "leximin")]


@pytest.mark.parametrize("seed", range(6))
def test_maxmin_and_leximin_take_the_bonus_apart_beside_a_score_floor(seed):
    """The floor reads the plain scores, the levels ``score + bonus``: enumeration's max-min
    (worst, then total) and leximin (sorted vector) rows on ``score + bonus`` among the
    assignments that meet the floor on the plain scores. Before, pipeline/bonus refused this
    (the solvers had no ``bonus``: a TypeError here)."""
    from mentormatch.solvers.leximin import solve_leximin

    p, bonus = _floored(seed)
    value = p.score + bonus
    maxmin, lexi = _lex_best(p, value)
    for sol, best in ((solve_maxmin(p, SolverOptions(), bonus), maxmin),
                      (solve_leximin(p, SolverOptions(), bonus), lexi)):
        row = np.zeros(len(p.pairs), bool)
        row[sol.chosen] = True
        assert sol.status == "optimal"
        assert feasible(p, row[None])[0]  # the floor on the plain scores
        assert any(np.array_equal(row, b) for b in best), sol.solver
        assert sol.objective == pytest.approx(value[row].sum())  # on score + bonus


def test_the_bonus_read_as_score_in_the_floor_moves_some_cases():
    """The instances above are not all ones where folding the bonus into the scores gives the
    same answer: at least one of them has another max-min optimum when the floor reads
    ``score + bonus``."""
    moved = 0
    for seed in range(6):
        p, bonus = _floored(seed)
        value = p.score + bonus
        folded = AssignmentProblem(p.pairs, value, p.capacity, side=p.side)
        a, b = _lex_best(p, value)[0], _lex_best(folded, value)[0]
        moved += not (len(a) == len(b) and np.array_equal(a, b))
    assert moved >= 1


@pytest.mark.parametrize("seed", range(4))
def test_scores_times_a_power_of_two_give_the_same_pairs_under_a_score_floor(seed):
    """CP-SAT's max-min and leximin steps scale by objective_scale (the engine's unit): scores
    times ``2**k`` give the same pairs, proven. Fails before at ``k = -30``: a fixed step of
    1e-6 rounded every score (about 1e-9) to 0."""
    from mentormatch.solvers.leximin import solve_leximin

    ref = None
    for k in (0, -30, 12):
        p, bonus = _floored(seed, k)
        got = [solve_maxmin(p, SolverOptions(), bonus), solve_leximin(p, SolverOptions())]
        if k == 0:
            maxmin, _ = _lex_best(p, p.score + bonus)
            _, lexi = _lex_best(p, p.score)
            assert any(np.array_equal(np.flatnonzero(r), got[0].chosen) for r in maxmin)
            assert any(np.array_equal(np.flatnonzero(r), got[1].chosen) for r in lexi)
            ref = [s.chosen.tolist() for s in got]
            got.append(solve_leximin(p, SolverOptions(), bonus))
        assert [s.status for s in got] == ["optimal"] * len(got), k
        assert [s.chosen.tolist() for s in got[:2]] == ref, k


def _below_the_step() -> AssignmentProblem:
    """3 x 3, scores no power of ten makes whole, most near 1e-8 of the best (1.0), a minimum
    load (so CP-SAT's steps run)."""
    score = np.array([1.0, 1.3e-8 * np.pi, 2.1e-8 * np.e,
                      0.7, 1.7e-8 * np.pi, 1.1e-8 * np.e,
                      0.9, 1.9e-8 * np.pi, 1.5e-8 * np.e])
    return AssignmentProblem(Candidates.complete(3, 3), score, np.ones(3),
                             side=SideConstraints(min_load=np.array([0.0, 1.0, 0.0])))


def test_maxmin_says_optimal_only_within_the_gap_its_rounding_leaves():
    """Scores no power of ten makes whole, a worst pair near 1e-8 of the best: CP-SAT's step
    (1e-7 of the best) may merge the worst pairs, so the answer is "optimal" only where the
    bounds it keeps are within 1e-6 of enumeration's optimum, else "feasible" with the bounds.
    Before, the fixed step rounded the small scores to 0 and said "optimal" at any worst pair."""
    p = _below_the_step()
    maxmin, _ = _lex_best(p, p.score)
    best_worst = p.score[maxmin[0]].min()
    sol = solve_maxmin(p)
    cert = sol.certificate
    assert cert["threshold_bound"] >= best_worst * (1 - 1e-12)  # a bound, never below
    assert cert["total_bound"] >= p.score[maxmin[0]].sum() * (1 - 1e-12)
    worst = p.score[sol.chosen].min()
    if sol.status == "optimal":
        assert best_worst - worst <= 1e-6 * best_worst
    else:
        assert "rounded" in sol.message and cert["rounding"] > 0


def test_leximin_says_optimal_only_within_the_gap_its_rounding_leaves():
    """The same scores for leximin's CP-SAT levels: the scale's step (1e-7 of the best) is
    above 1e-6 of the small scores, so their level is split (``cpsat_levels.levels``) and the
    answer is "optimal", its sorted vector enumeration's leximin optimum to 1e-6 entry by entry,
    its certificate's ``rounding`` within the gap of the worst chosen value. Before session 20
    every small score shared the level 0 and it said "optimal" wrongly; in session 20 it said
    "feasible"."""
    p = _below_the_step()
    X = feasible_rows(p)
    vectors = sorted(tuple(np.sort(p.score[row])) for row in X[X.sum(1) == X.sum(1).max()])
    best = np.array(vectors[-1])
    sol = solve_leximin(p)
    found = np.sort(p.score[sol.chosen])
    assert sol.status == "optimal", sol.message
    assert np.allclose(found, best, rtol=1e-6, atol=0)
    assert sol.certificate["rounding"] <= 1e-6 * found[0]
