"""``solvers.dense.solve_dense``: exact on small instances (brute force, scipy on the
capacity-expanded matrix), the constraints recomputed from the inputs, ties decided by the ranks
and never by the memory layout or the order of rows and columns, ranks exact. No timings."""
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
import mentormatch.solvers.flow as flow
from mentormatch.solvers.dense import small as small_path
from mentormatch.pairs import DenseRows
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.dense import solve_dense
from mentormatch.solvers.dense.passes import Walk, thresholds

from _exact import expanded_optimum


def _instance(seed, n=40, m=12, ties=False, neginf=0.1, forbid=0.05, cap_hi=3):
    rng = np.random.default_rng(seed)
    s = rng.random((n, m)) * 2 - 0.3  # some non-positive scores too
    if ties:
        s = np.round(s * 3) / 3
    s[rng.random((n, m)) < neginf] = -np.inf
    f = rng.random((n, m)) < forbid
    cap = rng.integers(0, cap_hi + 1, m)
    return s, f, cap


def _brute(s, f, cap):
    """Every assignment of each mentee to a mentor or to nobody."""
    n, m = s.shape
    best = 0.0
    for pick in itertools.product(range(-1, m), repeat=n):
        pick = np.array(pick)
        on = pick >= 0
        if np.any(np.bincount(pick[on], minlength=m) > cap):
            continue
        if np.any(f[np.flatnonzero(on), pick[on]]) or not np.all(np.isfinite(s[np.flatnonzero(on), pick[on]])):
            continue
        best = max(best, float(s[np.flatnonzero(on), pick[on]].sum()))
    return best


def _check_feasible(s, f, cap, problem, sol, locked=((), ())):
    i, j = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    assert (np.bincount(j, minlength=len(cap)) <= cap).all()
    assert len(np.unique(i)) == len(i)
    assert not f[i, j].any() and np.isfinite(s[i, j]).all()
    np.testing.assert_array_equal(problem.score, s[problem.pairs.mentee, problem.pairs.mentor])
    assert sol.objective == pytest.approx(float(s[i, j].sum()), abs=1e-12)
    assert set(zip(*locked)) <= set(zip(i.tolist(), j.tolist()))
    return i, j


def _layout(a, how):
    if how == "F":
        return np.asfortranarray(a)
    if how == "strided":
        return np.asfortranarray(np.repeat(a, 2, axis=1))[:, ::2]  # neither C nor F
    return np.ascontiguousarray(a)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("seed", range(8))
def test_the_optimum_of_scipy_on_the_expanded_matrix(seed, layout):
    s, f, cap = _instance(seed, ties=seed % 2 == 1, forbid=0.3 if seed % 4 == 3 else 0.05)
    rows = DenseRows(_layout(s, layout), _layout(f, layout))
    for k in (None, 1, 2):  # small k: several rounds of added pairs
        problem, sol = solve_dense(rows, cap, options=SolverOptions(top_k=k))
        assert sol.status == "optimal" and sol.certificate["holds"]
        _check_feasible(s, f, cap, problem, sol)
        assert sol.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)
        assert sol.bound >= sol.objective - 1e-12 and sol.gap <= 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_brute_force_on_tiny_instances_with_ties(seed):
    s, f, cap = _instance(seed, n=5, m=3, ties=True, neginf=0.2, forbid=0.15, cap_hi=2)
    problem, sol = solve_dense(DenseRows(s, f), cap, options=SolverOptions(top_k=1))
    _check_feasible(s, f, cap, problem, sol)
    assert sol.objective == pytest.approx(_brute(s, f, cap), abs=1e-12)
    assert sol.status == "optimal"


@pytest.mark.parametrize("seed", range(6))
def test_permuted_rows_and_columns_with_their_ranks_give_the_same_pairs(seed):
    """Ties (scores on a grid of thirds) are decided by the ranks: a permutation of the
    matrix, carrying the ranks along, and any memory layout give the same pairs."""
    s, f, cap = _instance(seed, n=60, m=15, ties=True)
    rng = np.random.default_rng(100 + seed)
    rank_i, rank_j = rng.permutation(60), rng.permutation(15)
    problem, sol = solve_dense(DenseRows(s, f), cap, mentee_rank=rank_i, mentor_rank=rank_j,
                               options=SolverOptions(top_k=2))
    want = set(zip(problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()))
    for layout in ("C", "F", "strided"):
        pr, pc = rng.permutation(60), rng.permutation(15)
        ps, pf = s[np.ix_(pr, pc)], f[np.ix_(pr, pc)]
        p2, s2 = solve_dense(DenseRows(_layout(ps, layout), _layout(pf, layout)), cap[pc],
                             mentee_rank=rank_i[pr], mentor_rank=rank_j[pc],
                             options=SolverOptions(top_k=2))
        got = set(zip(pr[p2.pairs.mentee[s2.chosen]].tolist(), pc[p2.pairs.mentor[s2.chosen]].tolist()))
        assert got == want
        assert s2.objective == pytest.approx(sol.objective, abs=1e-12)


def test_another_tie_order_can_choose_other_pairs_of_equal_score():
    """All scores equal: any full assignment is optimal, and the ranks decide which."""
    s = np.ones((6, 3))
    cap = np.array([1, 1, 1])
    chosen = set()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        problem, sol = solve_dense(DenseRows(s), cap, mentee_rank=rng.permutation(6),
                                   mentor_rank=rng.permutation(3))
        assert sol.objective == 3.0
        chosen.add(tuple(problem.pairs.mentee[sol.chosen].tolist()))
    assert len(chosen) > 1


@pytest.mark.parametrize("seed", range(4))
def test_thresholds_leave_k_eligible_pairs_at_or_above(seed):
    s, f, cap = _instance(seed, n=50, m=40, forbid=0.2, neginf=0.1)
    for layout in ("C", "F"):
        for k in (1, 3, 5):
            low = thresholds(Walk(DenseRows(_layout(s, layout), _layout(f, layout))), k, cap,
                             np.ones(50, np.int64), np.arange(40))
            usable = np.where(f | (cap[None, :] <= 0) | (s <= 0), -np.inf, s)
            at_or_above = (usable >= low[:, None]).sum(axis=1)
            positive = (usable > 0).sum(axis=1)
            assert (at_or_above >= np.minimum(k, positive)).all()
            assert (low > 0).all()


def test_locks_capacity_zero_and_rows_with_nothing_eligible():
    s, f, cap = _instance(7, n=30, m=10)
    cap[0] = 0
    s[5] = -np.inf  # mentee 5: nothing eligible
    s[6] = -0.5  # mentee 6: only losing pairs
    li, lj = np.array([0, 3]), np.array([1, 2])
    cap[lj] = 1  # mentor 2 is full with its lock: no room left
    cap[1] = 2
    f[li, lj] = False
    s[li, lj] = 0.05
    problem, sol = solve_dense(DenseRows(s, f), cap, locked=(li, lj), options=SolverOptions(top_k=1))
    i, j = _check_feasible(s, f, cap, problem, sol, locked=(li, lj))
    assert 5 not in i and 6 not in i and 0 not in j
    assert problem.locked.sum() == 2
    # the optimum with the locks taken out first
    assert sol.objective == pytest.approx(expanded_optimum(s, cap, f, locked=(li, lj)), abs=1e-9)


def test_a_forbidden_or_minus_inf_lock_is_infeasible():
    s, f, cap = _instance(1, n=10, m=4)
    s[2, 1], f[3, 2] = -np.inf, True
    for lock in [([2], [1]), ([3], [2])]:
        with pytest.raises(mm.InfeasibleError, match="forbidden or has score -inf"):
            solve_dense(DenseRows(s, f), cap, locked=lock)


def test_ranks_are_exact_on_the_pairs_returned():
    """The pairs returned are complete above each mentee's chosen pair (also when the chosen
    pair lies below the first candidates: strong competition, top_k=1)."""
    rng = np.random.default_rng(5)
    n, m = 60, 10
    s = rng.random((n, m)) + np.linspace(0, 1, m)[None, :]  # everyone prefers the last mentors
    cap = np.full(m, 6)
    cap[0] = 0
    problem, sol = solve_dense(DenseRows(s), cap, options=SolverOptions(top_k=1))
    assert sol.certificate["rounds"] > 1
    for k in sol.chosen:
        i, sc = problem.pairs.mentee[k], problem.score[k]
        mine = problem.score[problem.pairs.mentee == i]
        assert (mine > sc).sum() == (s[i] > sc).sum()


def test_without_certificate_the_status_is_feasible():
    s, f, cap = _instance(2)
    problem, sol = solve_dense(DenseRows(s, f), cap, options=SolverOptions(certify=False))
    assert sol.status == "feasible" and sol.bound is None
    _check_feasible(s, f, cap, problem, sol)


def test_wrong_ranks_and_capacities_are_refused():
    s = np.ones((3, 2))
    with pytest.raises(ValueError, match="permutation"):
        solve_dense(DenseRows(s), np.array([1, 1]), mentee_rank=np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="whole numbers"):
        solve_dense(DenseRows(s), np.array([1.5, 1]))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_assign_on_the_dense_path_ignores_row_and_column_order(data, rnd):
    """Through assign(): ties by the seeded order of the ids, on the dense path."""
    n = data.draw(st.integers(2, 9))
    m = data.draw(st.integers(1, 5))
    grid = data.draw(st.lists(st.integers(-1, 3), min_size=n * m, max_size=n * m))
    s = np.array(grid, dtype=float).reshape(n, m) / 2
    s[s < 0] = -np.inf
    cap = np.array(data.draw(st.lists(st.integers(0, 3), min_size=m, max_size=m)), dtype=float)
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    capacity = pd.Series(cap, index=scores.columns)
    rows, cols = list(range(n)), list(range(m))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(small_path, "SMALL_CELLS", 0)
        a = mm.assign(scores, capacity)
        b = mm.assign(scores.iloc[rows, cols], capacity)
    assert a.certificate["method"].startswith("dense_min_cost_flow")  # (all pairs after integer violators)
    pairs = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))  # noqa: E731
    assert pairs(a) == pairs(b)
    assert a.objective == pytest.approx(expanded_optimum(s, cap), abs=1e-9)
    position = {e: k for k, e in enumerate(scores.index[rows])}
    got = [position[e] for e in b.pairs["mentee_id"]]
    assert got == sorted(got)  # reported in the caller's row order


def test_unmatched_mentees_keep_all_their_eligible_pairs_for_the_reasons(monkeypatch):
    """A mentee whose pairs all score <= 0 is unmatched for no gain, not for want of an
    eligible mentor: the pairs returned hold its eligible pairs."""
    s, f, cap = _instance(3, n=30, m=8, neginf=0.0, forbid=0.0)
    cap[:] = 3
    s[4] = -0.2
    s[4, 0] = 0.0
    problem, sol = solve_dense(DenseRows(s, f), cap)
    mine = problem.pairs.mentee == 4
    assert mine.sum() == 8 and 4 not in problem.pairs.mentee[sol.chosen]
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(30)], columns=[f"m{j}" for j in range(8)])
    capacity = pd.Series(cap.astype(float), index=scores.columns)
    small = mm.assign(scores, capacity)  # every pair given to the solver
    monkeypatch.setattr(small_path, "SMALL_CELLS", 0)
    dense = mm.assign(scores, capacity)
    assert dense.certificate["method"] == "dense_min_cost_flow+dual_check"
    code = [r.unmatched.set_index("mentee_id").loc["e4", "reason_code"] for r in (small, dense)]
    assert code[0] == code[1] != "no_eligible_mentor"


@pytest.mark.parametrize("seed", range(4))
def test_lists_cut_inside_runs_of_equal_scores_follow_the_ranks(seed):
    """Two score levels, most pairs on the top one: each mentee's candidates and the violators
    are cut inside runs of equal values (by tie_key of the ranks). The optimum is scipy's, and
    a permutation carrying the ranks along gives the same pairs."""
    rng = np.random.default_rng(seed)
    n, m = 60, 30
    s = np.where(rng.random((n, m)) < 0.6, 1.0, 0.5)
    s[rng.random((n, m)) < 0.1] = -np.inf
    f = np.zeros((n, m), dtype=bool)
    cap = np.ones(m, dtype=np.int64)
    rank_i, rank_j = rng.permutation(n), rng.permutation(m)
    problem, sol = solve_dense(DenseRows(s), cap, mentee_rank=rank_i, mentor_rank=rank_j,
                               options=SolverOptions(top_k=1))
    top = (s == 1.0).sum()
    assert sol.certificate["pairs_in_sparse"] < top  # the lists were cut
    assert sol.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)
    want = set(zip(problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()))
    pr, pc = rng.permutation(n), rng.permutation(m)
    p2, s2 = solve_dense(DenseRows(np.asfortranarray(s[np.ix_(pr, pc)])), cap[pc],
                         mentee_rank=rank_i[pr], mentor_rank=rank_j[pc], options=SolverOptions(top_k=1))
    assert set(zip(pr[p2.pairs.mentee[s2.chosen]].tolist(), pc[p2.pairs.mentor[s2.chosen]].tolist())) == want


def test_violators_kept_at_a_tied_cut_do_not_depend_on_their_order():
    from mentormatch.solvers.dense import _most_violating

    rng = np.random.default_rng(0)
    i = rng.integers(0, 20, 300)
    j = rng.integers(0, 50, 300)
    key = np.unique(i * 50 + j)
    i, j = key // 50, key % 50
    gain = rng.choice([0.1, 0.2, 0.2, 0.3], len(i))  # many ties at every cut
    ranks = (rng.permutation(20), rng.permutation(50))
    for per in (1, 2, 5):
        a = set(zip(*(x.tolist() for x in _most_violating(i, j, gain, per, ranks))))
        want = per * len(np.unique(i))
        assert len(a) == min(want, len(i))
        above = gain > sorted(gain)[-want]  # every pair above the cut is kept
        assert set(zip(i[above].tolist(), j[above].tolist())) <= a
        order = rng.permutation(len(i))
        b = set(zip(*(x.tolist() for x in _most_violating(i[order], j[order], gain[order], per, ranks))))
        assert a == b


@pytest.mark.parametrize("seed", range(10))
def test_thinned_runs_of_equal_scores_keep_the_optimum_the_order_and_the_ranks(seed, monkeypatch):
    """With the runs of equal scores at the thresholds always thinned by key (TIE_SLACK so
    low that the plain listing gives up at once): the optimum is scipy's, a permutation that
    carries the ranks along gives the same pairs, and ranks are exact."""
    import mentormatch.solvers.dense.candidates as candidates

    monkeypatch.setattr(candidates, "TIE_SLACK", -10**9)
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 50)), int(rng.integers(3, 30))
    s = rng.integers(-1, int(rng.integers(2, 5)), (n, m)) / 2.0
    s[rng.random((n, m)) < 0.1] = -np.inf
    f = rng.random((n, m)) < 0.1
    cap = rng.integers(0, 3, m)
    rank_i, rank_j = rng.permutation(n), rng.permutation(m)
    k = int(rng.choice([1, 2, 8]))
    problem, sol = solve_dense(DenseRows(s, f), cap, mentee_rank=rank_i, mentor_rank=rank_j,
                               options=SolverOptions(top_k=k))
    i, j = _check_feasible(s, f, cap, problem, sol)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)
    masked = np.where(f, -np.inf, s)
    for q in sol.chosen:
        e, sc = problem.pairs.mentee[q], problem.score[q]
        assert (problem.score[problem.pairs.mentee == e] > sc).sum() == (masked[e] > sc).sum()
    pr, pc = rng.permutation(n), rng.permutation(m)
    p2, s2 = solve_dense(DenseRows(np.asfortranarray(s[np.ix_(pr, pc)]), np.asfortranarray(f[np.ix_(pr, pc)])),
                         cap[pc], mentee_rank=rank_i[pr], mentor_rank=rank_j[pc], options=SolverOptions(top_k=k))
    got = set(zip(pr[p2.pairs.mentee[s2.chosen]].tolist(), pc[p2.pairs.mentor[s2.chosen]].tolist()))
    assert got == set(zip(i.tolist(), j.tolist()))


@pytest.mark.parametrize("seed", range(6))
def test_the_flow_on_every_pair_when_the_prices_are_far_off(seed, monkeypatch):
    """Forced after the first round (ALL_PAIRS_SHARE = 0): the optimum is scipy's, locks are
    kept, a permutation carrying the ranks along gives the same pairs, ranks are exact."""
    import mentormatch.solvers.dense as dense

    monkeypatch.setattr(dense, "ALL_PAIRS_SHARE", 0.0)
    s, f, cap = _instance(seed, n=40, m=12, ties=seed % 2 == 1)
    s = s + np.linspace(0, 2, 12)[None, :]  # everyone prefers the last mentors: violators
    cap = np.maximum(cap, 1)
    e0 = int(np.flatnonzero(np.isfinite(s[:, 0]) & ~f[:, 0])[0])
    lock = (np.array([e0]), np.array([0]))
    rng = np.random.default_rng(seed)
    rank_i, rank_j = rng.permutation(40), rng.permutation(12)
    problem, sol = solve_dense(DenseRows(s, f), cap, locked=lock, mentee_rank=rank_i,
                               mentor_rank=rank_j, options=SolverOptions(top_k=1))
    assert sol.certificate["method"] == "dense_min_cost_flow_all_pairs" and sol.status == "optimal"
    i, j = _check_feasible(s, f, cap, problem, sol, locked=lock)
    assert sol.objective == pytest.approx(expanded_optimum(s, cap, f, locked=lock), abs=1e-9)
    assert sol.bound >= sol.objective and sol.gap <= 1e-6
    masked = np.where(f, -np.inf, s)
    for q in sol.chosen:
        e, sc = problem.pairs.mentee[q], problem.score[q]
        assert (problem.score[problem.pairs.mentee == e] > sc).sum() == (masked[e] > sc).sum()
    pr, pc = rng.permutation(40), rng.permutation(12)
    back_i, back_j = np.argsort(pr), np.argsort(pc)
    p2, s2 = solve_dense(DenseRows(np.asfortranarray(s[np.ix_(pr, pc)]), f[np.ix_(pr, pc)]), cap[pc],
                         locked=(back_i[lock[0]], back_j[lock[1]]), mentee_rank=rank_i[pr],
                         mentor_rank=rank_j[pc], options=SolverOptions(top_k=1))
    got = set(zip(pr[p2.pairs.mentee[s2.chosen]].tolist(), pc[p2.pairs.mentor[s2.chosen]].tolist()))
    assert got == set(zip(i.tolist(), j.tolist()))


@pytest.mark.parametrize("seed", range(8))
def test_the_check_on_the_cells_above_the_thresholds_equals_the_pass(seed, monkeypatch):
    """The reduced gains checked only where ``low - u > p`` (the other pairs are bounded)
    lead to the same rounds, pairs and bound as the pass over every pair."""
    import mentormatch.solvers.dense as dense
    import mentormatch.solvers.dense.check as check

    monkeypatch.setattr(check, "CHECK_SHARE", 1.0)  # small matrices: gather whatever it takes
    monkeypatch.setattr(dense, "ALL_PAIRS_SHARE", 2.0)  # and never switch to every pair
    s, f, cap = _instance(seed, n=70, m=20, ties=seed % 2 == 1, forbid=0.1)
    s = s + np.linspace(0, 1, 20)[None, :] * (seed % 3)  # popular mentors: several rounds
    rows = DenseRows(np.asfortranarray(s), np.asfortranarray(f))
    out = []
    for bounded in (True, False):
        if not bounded:
            monkeypatch.setattr(dense, "check_above_low", lambda *a, **k: None)
        problem, sol = solve_dense(rows, cap, options=SolverOptions(top_k=1))
        out.append((sol, set(zip(problem.pairs.mentee[sol.chosen].tolist(),
                                 problem.pairs.mentor[sol.chosen].tolist()))))
    (a, pa), (b, pb) = out
    assert a.certificate["check"] == "cells above the thresholds"
    assert b.certificate["check"] == "pass over every pair"
    assert pa == pb and a.certificate["rounds"] == b.certificate["rounds"]
    assert a.bound == pytest.approx(b.bound, abs=1e-12)
    assert a.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)


def test_rounds_repaired_warm_give_the_pairs_of_a_cold_solve(monkeypatch):
    """A round with few violators repairs the last optimum from its potentials: the same pairs,
    objective and bound as solving every round cold, equal to scipy's optimum, and the repair
    did run (top_k=1 leaves violators)."""
    import mentormatch.solvers.dense as dense

    warm_runs = []
    for seed in range(16):
        s, f, cap = _instance(seed, n=60, m=15, ties=seed % 2 == 1)
        rows, opts = DenseRows(s, f), SolverOptions(top_k=1)
        problem, sol = solve_dense(rows, cap, options=opts)
        warm_runs += sol.certificate["warm_repairs"]
        with monkeypatch.context() as mp:
            mp.setattr(dense, "resolve", lambda *a, **k: None)
            cold_problem, cold = solve_dense(rows, cap, options=opts)
        assert cold.certificate["warm_repairs"] == []
        assert sol.status == cold.status == "optimal"
        pairs = lambda p, x: sorted(zip(p.pairs.mentee[x.chosen].tolist(), p.pairs.mentor[x.chosen].tolist()))
        assert pairs(problem, sol) == pairs(cold_problem, cold)
        assert sol.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)
        assert sol.bound >= sol.objective - 1e-12
        _check_feasible(s, f, cap, problem, sol)
    assert len(warm_runs) >= 3, warm_runs


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_single_cells_are_read_alike_in_every_memory_layout(layout):
    """``Walk.at`` and ``Walk.allowed`` (a 1-d take through the memory when it is contiguous)
    give what 2-d indexing gives, for the score matrix and the forbidden mask in any layout."""
    s, f, _ = _instance(3, n=30, m=9)
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, 30, 200), rng.integers(0, 9, 200)
    for mask_layout in ("C", "F", "strided"):
        walk = Walk(DenseRows(_layout(s, layout), _layout(f, mask_layout)))
        np.testing.assert_array_equal(walk.at(i, j), s[i, j])
        np.testing.assert_array_equal(walk.allowed(i, j), ~f[i, j])
    assert walk.at(i[:0], j[:0]).shape == (0,)


@pytest.mark.parametrize("seed", range(6))
def test_the_tie_rule_on_the_pairs_that_can_be_optimal_picks_what_it_picks_on_all(seed, monkeypatch):
    """The tie rule works on the chosen pairs and those of integer gain >= 0
    (``ties.FACE_ONLY``); on scores with many exact ties, it picks the same pairs from that set
    as from every pair of the network."""
    import mentormatch.solvers.ties as ties
    from mentormatch.solvers.duals import prices
    from mentormatch.solvers.flow import solve_arrays

    rng = np.random.default_rng(seed)
    n, m = 30, 8
    s = rng.integers(1, 4, (n, m)) / 3.0  # three levels: many optima
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(m), indexing="ij"))
    score = s[i, j]
    cap, dem = rng.integers(1, 4, m).astype(np.int64), np.ones(n, np.int64)
    res = solve_arrays(i, j, score, cap, dem)
    pot = prices(i, j, res.cost, res.chosen, score, dem, cap, res.scale)[4]
    assert (ties.integer_gain(score, i, j, pot, res.scale) < 0).any()  # the face is smaller
    face, info_face = ties.canonical(i, j, score, res.chosen, cap, dem, pot, res.scale)
    monkeypatch.setattr(ties, "FACE_ONLY", False)
    full, info_full = ties.canonical(i, j, score, res.chosen, cap, dem, pot, res.scale)
    assert info_full["movable_pairs"] > 0  # the instance has ties to break
    np.testing.assert_array_equal(face, full)
    assert info_face == info_full
    assert score[face].sum() == pytest.approx(score[res.chosen].sum(), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_solves_with_the_tie_rule_on_every_pair_give_the_same_answer(seed, monkeypatch):
    """Before and after: the dense path with the tie rule run on every pair of the network (as
    it was) and on the pairs that can be optimal (as it is) give the same pairs, objective,
    bound and tie record, on instances with exact ties, demands, locks and the all-pairs
    flow."""
    import mentormatch.solvers.ties as ties

    s, f, cap = _instance(seed, n=50, m=12, ties=True, cap_hi=4)
    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 3, 50)
    ok = np.argwhere(~f & np.isfinite(s) & (cap[None, :] > 0) & (demand[:, None] > 0))
    locked = (ok[:1, 0], ok[:1, 1])
    ranks = dict(mentee_rank=rng.permutation(50), mentor_rank=rng.permutation(12))
    runs = {}
    for how in ("face", "every pair"):
        if how == "every pair":
            monkeypatch.setattr(ties, "FACE_ONLY", False)
        for top_k in (None, 1):
            problem, sol = solve_dense(DenseRows(s, f), cap, demand=demand, locked=locked,
                                       options=SolverOptions(top_k=top_k), **ranks)
            pairs = sorted(zip(problem.pairs.mentee[sol.chosen].tolist(),
                               problem.pairs.mentor[sol.chosen].tolist()))
            runs[how, top_k] = (pairs, sol.objective, sol.bound, sol.status, sol.certificate.get("ties"))
    for top_k in (None, 1):
        assert runs["face", top_k] == runs["every pair", top_k]
        assert runs["face", top_k][3] == "optimal"


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("seed", range(6))
def test_the_thresholds_pass_screens_each_rows_lowest_and_highest_score(seed, layout):
    """assign()'s check that every score is a number rides on this pass: each row's min and
    max over every cell (closed mentors' and forbidden ones too), NaN where a row holds one."""
    rng = np.random.default_rng(seed)
    s, f, cap = _instance(seed, n=30, m=40, forbid=0.2, neginf=0.05)
    for value in (np.nan, np.inf):
        s[rng.integers(0, 30, 3), rng.integers(0, 40, 3)] = value
    screen = np.array([np.full(30, np.inf), np.full(30, -np.inf)])
    thresholds(Walk(DenseRows(_layout(s, layout), _layout(f, layout))), 3, cap,
               np.ones(30, np.int64), rng.permutation(40), screen)
    nan_row = np.isnan(s).any(axis=1)
    assert np.isnan(screen[:, nan_row]).all()
    np.testing.assert_array_equal(screen[0, ~nan_row], s[~nan_row].min(axis=1))
    np.testing.assert_array_equal(screen[1, ~nan_row], s[~nan_row].max(axis=1))
    few = np.array([1, 1, 0, 0] + [0] * 36)  # two open mentors: no groups, nothing read
    screen = np.array([np.full(30, np.inf), np.full(30, -np.inf)])
    thresholds(Walk(DenseRows(_layout(s, layout))), 3, few, np.ones(30, np.int64), np.arange(40), screen)
    assert np.isnan(screen).all()  # "not screened": the caller checks by itself


@pytest.mark.parametrize("seed", range(6))
def test_assign_checks_the_scores_in_the_first_pass_as_in_a_pass_of_its_own(seed, monkeypatch):
    """Large matrices are checked inside the dense path's first pass: the same errors, naming
    the same cells, and the same result with -inf scores (forced small here)."""
    import mentormatch.pipeline.matrix as matrix

    rng = np.random.default_rng(seed)
    n, m = 30, int(rng.choice([3, 20]))  # 3 mentors: the pass reads nothing, the check does
    s, f, cap = _instance(seed, n=n, m=m, forbid=0.1, neginf=0.1)
    cap[rng.integers(0, m)] = 0
    bad = s.copy()
    cells = rng.choice(n, 2, replace=False), rng.integers(0, m, 2)  # two distinct cells
    bad[cells] = [np.nan, np.inf]
    ids = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    capacity = pd.Series(cap, index=ids[1], dtype=float)
    forbidden = pd.DataFrame(f, index=ids[0], columns=ids[1])
    outcome = {}
    for cells_min in (1, 1 << 40):  # fused, then a pass of its own
        monkeypatch.setattr(matrix, "FUSED_CHECK_CELLS", cells_min)
        with pytest.raises(mm.ValidationError) as info:
            mm.assign(pd.DataFrame(bad, index=ids[0], columns=ids[1]), capacity, forbidden)
        found = sorted((p.row_id, p.column, str(p.value)) for p in info.value.problems)
        assert len(found) == 2 and {v for _, _, v in found} == {"nan", "inf"}
        r = mm.assign(pd.DataFrame(s, index=ids[0], columns=ids[1]), capacity, forbidden)
        outcome[cells_min] = (found, r)
    (e1, r1), (e2, r2) = outcome.values()
    assert e1 == e2
    pd.testing.assert_frame_equal(r1.pairs, r2.pairs)
    pd.testing.assert_frame_equal(r1.record.removed, r2.record.removed)
    assert r1.record.removed["ineligible_score"].sum() == int((np.isneginf(s) & ~f).sum())


@pytest.mark.parametrize("seed", range(8))
def test_the_flow_on_costs_divided_by_their_common_factor_gives_the_same_pairs(seed, monkeypatch):
    """Scores on a few levels: the dense path hands OR-Tools its costs divided by their
    greatest common divisor (``solve_arrays(common_factor=True)``). That flow's optimum has the
    undivided optimum's cost, and after the tie rule the pairs, the objective and the bound
    are those of the flow on the costs as they are."""
    rng = np.random.default_rng(seed)
    n, m = 60, 15
    s = np.floor(rng.random((n, m)) * 4) / 4  # quarters: every cost a multiple of 2**-2 * scale
    s[rng.random((n, m)) < 0.05] = -np.inf
    cap = rng.integers(1, 5, m)
    i, j = np.nonzero(np.isfinite(s))
    args = (i, j, s[i, j], cap.astype(np.int64), np.ones(n, np.int64))
    plain, divided = flow.solve_arrays(*args), flow.solve_arrays(*args, common_factor=True)
    assert plain.optimal and divided.optimal
    assert int(np.gcd.reduce(plain.cost)) > 1  # (the case under test: a common factor)
    np.testing.assert_array_equal(divided.cost, plain.cost)  # the costs kept are undivided
    assert int(divided.cost[divided.chosen].sum()) == int(plain.cost[plain.chosen].sum())
    assert (np.bincount(j[divided.chosen], minlength=m) <= cap).all()
    assert (np.bincount(i[divided.chosen], minlength=n) <= 1).all()

    # the rounds' flow: the compiled one where built (its own optimum, then the same tie rule),
    # OR-Tools' on divided costs, OR-Tools' on the costs as they are
    problem2, sol2 = solve_dense(DenseRows(s), cap)
    monkeypatch.setattr("mentormatch.solvers.dense.flow.assign_kernel", lambda: None)
    problem, sol = solve_dense(DenseRows(s), cap)
    assert sol.certificate["flow"] == "or-tools"
    undivided = flow.solve_arrays
    monkeypatch.setattr("mentormatch.solvers.dense.flow.solve_arrays",
                        lambda *a, common_factor=False: undivided(*a))
    problem0, sol0 = solve_dense(DenseRows(s), cap)
    got = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    for p_, s_ in ((problem0, sol0), (problem2, sol2)):
        want = p_.pairs.mentee[s_.chosen], p_.pairs.mentor[s_.chosen]
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        assert (sol.objective, sol.bound) == (s_.objective, s_.bound)
    assert sol.objective == pytest.approx(expanded_optimum(s, cap), abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_member_and_pair_order_agree_with_numpy_on_both_of_their_paths(seed):
    """``keys.member`` (a mask over a small key range, or a binary search over a wide one)
    equals ``np.isin``; ``keys.pair_order`` (two 16-bit radix passes, or one sort of the codes
    when a side has more than 65,536 values) equals the stable argsort of the codes."""
    from mentormatch.solvers.keys import member, pair_order

    rng = np.random.default_rng(seed)
    for span in (1_000, 10**12):  # the mask, the search
        held = np.unique(rng.integers(0, span, 300))
        key = np.concatenate([rng.integers(-5, span + 5, 2_000), held[:50]])
        assert member(key, held).tolist() == np.isin(key, held).tolist()
    for n, m in ((300, 40), (70_000, 3)):
        a, b = rng.integers(0, n, 5_000), rng.integers(0, m, 5_000)
        assert pair_order(a, b, n, m).tolist() == np.argsort(a * m + b, kind="stable").tolist()


@pytest.mark.parametrize("seed", range(4))
def test_pair_order_of_distinct_pairs_from_their_buckets_is_the_stable_argsort(seed, monkeypatch):
    """``keys.pair_order`` reads distinct pairs filling their range off a bucket per code, and
    falls back to its sorts when a code repeats or the range is wide: every way, the stable
    argsort of the codes."""
    from mentormatch.solvers import keys

    rng = np.random.default_rng(seed)
    for n, m, k in ((200, 50, 1_700), (2_000, 500, 250_000), (3, 4, 12), (70_000, 3, 100_000)):
        code = rng.choice(n * m, k, replace=False)
        a, b = np.divmod(code, m)
        want = np.argsort(code, kind="stable").tolist()
        assert keys.pair_order(a, b, n, m).tolist() == want
        twice = np.concatenate([code, code[: k // 4]])  # repeated codes: the sorts
        assert keys.pair_order(*np.divmod(twice, m), n, m).tolist() == np.argsort(twice, kind="stable").tolist()
        monkeypatch.setattr(keys, "PAIR_BUCKET", 0)  # the sorts alone agree too
        assert keys.pair_order(a, b, n, m).tolist() == want
        monkeypatch.setattr(keys, "PAIR_BUCKET", 8)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("seed", range(3))
def test_the_checks_return_each_cell_with_its_score_and_reduced_gain(seed, layout, monkeypatch):
    """``check_pass`` and ``check_above_low`` return the cells' scores beside their reduced
    gains (the tie rule reads the tight cells' scores from them): each one the matrix's own
    cell, each gain ``s - u - p``."""
    from mentormatch.solvers.dense import check as dense_check
    from mentormatch.solvers.dense.check import check_above_low, check_pass
    from mentormatch.solvers.dense.passes import Walk

    monkeypatch.setattr(dense_check, "CHECK_SHARE", 1.0)  # (the cells gathered, however many)
    rng = np.random.default_rng(seed)
    v = np.asarray(np.floor(rng.random((30, 12)) * 4) / 4, order=layout)
    walk = Walk(DenseRows(v))
    u, p = rng.random(30) * 0.5, rng.random(12) * 0.5
    i, j, r, s = check_pass(walk, u, p, -1e-9)
    assert len(i) and s.tolist() == v[i, j].tolist()
    assert np.array_equal(r, v[i, j] - u[i] - p[j])
    ci, cj = np.divmod(rng.choice(30 * 12, 50, replace=False), 12)
    chosen = rng.random(50) < 0.3
    got = check_above_low(walk, u, p, np.full(30, 1.0), ci, cj, v[ci, cj], chosen, np.ones(12), -1e-9)
    assert got is not None
    gi, gj, gr, gs = got
    assert len(gi) and gs.tolist() == v[gi, gj].tolist()
    assert np.array_equal(gr, v[gi, gj] - u[gi] - p[gj])


@pytest.mark.parametrize("seed", range(40))
def test_the_thresholds_of_a_matrix_in_cache_equal_the_pass_column_by_column(seed, monkeypatch):
    """A matrix read by mentor that fits in one block takes each group's maxima column by column
    over the groups at once; the loop over the columns (larger matrices) gives the same
    thresholds: ties, -inf, forbidden cells as positions and as a mask, closed mentors, mentees
    with no room, any number of groups per column."""
    from mentormatch.solvers.dense import passes

    rng = np.random.default_rng(seed)
    for _ in range(10):
        n, m = int(rng.integers(1, 60)), int(rng.integers(1, 40))
        s = np.floor(rng.random((n, m)) * rng.choice([3, 1000])) / 3 - 0.2
        s[rng.random((n, m)) < 0.1] = -np.inf
        f = rng.random((n, m)) < rng.choice([0.0, 0.02, 0.3])  # none, positions, a mask
        rows = DenseRows(np.asfortranarray(s), np.asfortranarray(f) if rng.random() < 0.8 else None)
        walk = Walk(rows)
        assert walk.by_mentor or min(n, m) == 1  # (one line: either order)
        cap, dem = rng.integers(0, 4, m), rng.integers(0, 2, n)
        rank, k = rng.permutation(m), int(rng.integers(1, 6))
        in_cache = thresholds(walk, k, cap, dem, rank)
        monkeypatch.setattr(passes, "_BLOCK_ELEMENTS", 0)  # (the walk's blocks stay as they were)
        by_column = thresholds(walk, k, cap, dem, rank)
        monkeypatch.undo()
        np.testing.assert_array_equal(in_cache, by_column)


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("seed", range(8))
def test_every_pair_returns_every_eligible_pair_and_the_same_solution(seed, layout):
    """``solve_dense(every_pair=True)`` (``assign()`` on small matrices): the problem holds every
    eligible pair in row-major order with its score and the locks; the solution (pairs, status,
    objective, bound, certificate) is the one on the pairs worked on, and the optimum of scipy
    on the capacity-expanded matrix when nothing is locked."""
    s, f, cap = _instance(seed, n=30, m=9, ties=seed % 2 == 0, cap_hi=4)
    rng = np.random.default_rng(seed)
    li, lj = [], []
    if seed % 3 == 0:  # a few locks on eligible pairs, within the capacities
        room = cap.copy()
        for i in rng.permutation(30)[:4].tolist():
            ok = np.flatnonzero(np.isfinite(s[i]) & ~f[i] & (room > 0))
            if len(ok):
                li.append(i)
                lj.append(int(ok[0]))
                room[ok[0]] -= 1
    lock = (np.array(li, np.int64), np.array(lj, np.int64))
    rows = DenseRows(_layout(s, layout), _layout(f, layout))
    p1, s1 = solve_dense(rows, cap, locked=lock)
    p2, s2 = solve_dense(rows, cap, locked=lock, every_pair=True)
    eligible = np.isfinite(s) & ~f
    np.testing.assert_array_equal(p2.pairs.mentee * 9 + p2.pairs.mentor, np.flatnonzero(eligible))
    np.testing.assert_array_equal(p2.score, s[eligible])
    np.testing.assert_array_equal(p2.capacity, cap)
    chosen1 = sorted(zip(p1.pairs.mentee[s1.chosen].tolist(), p1.pairs.mentor[s1.chosen].tolist()))
    chosen2 = sorted(zip(p2.pairs.mentee[s2.chosen].tolist(), p2.pairs.mentor[s2.chosen].tolist()))
    assert chosen1 == chosen2
    assert sorted(zip(p2.pairs.mentee[p2.locked].tolist(), p2.pairs.mentor[p2.locked].tolist())) == sorted(zip(li, lj))
    assert (s2.status, s2.objective, s2.bound, s2.gap) == (s1.status, s1.objective, s1.bound, s1.gap)
    assert s2.certificate == s1.certificate and s2.status == "optimal"
    _check_feasible(s, f, cap, p2, s2, lock)
    if not li:
        assert s2.objective == pytest.approx(expanded_optimum(s, cap, f), abs=1e-9)
