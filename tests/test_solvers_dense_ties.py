"""``solvers.dense`` on scores in few levels (long runs of exact ties): the same pairs, status,
objective, bound and tie record as main at 9ef0840 (digests below, computed there) on inputs
that take the thinned-ties pass, the cut of long rows and the compiled pick; the same pairs
whatever the row order, the memory layout or the way a step is computed (the sort or
:func:`~mentormatch.solvers.topk.top_k` for the candidates, the compiled pick or the rule's own
second flows); and the rule's pick against brute force on tiny inputs. No timings."""
from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentormatch.pairs import DenseRows
from mentormatch.solvers import ties_unit
from mentormatch.solvers.dense import candidates, solve_dense
from mentormatch.solvers.dense import keyed as dense_keyed
from mentormatch.solvers.dense.held import among_chosen
from mentormatch.solvers.keys import member
from mentormatch.solvers.ties import key_bits, pair_key


def tied(seed: int, n: int, m: int, levels: int, forbid: float, cap_hi: int, offsets: bool):
    """Scores in ``levels`` levels (with ``offsets``, a few mentee-wide steps on top), some
    forbidden cells, capacities 0..cap_hi, seeded ranks."""
    rng = np.random.default_rng(seed)
    s = np.floor(rng.random((n, m)) * levels) / levels
    if offsets:
        s += np.floor(rng.random(n) * 3)[:, None] / 7
    f = rng.random((n, m)) < forbid
    cap = rng.integers(0, cap_hi + 1, m)
    return s, f, cap, rng.permutation(n), rng.permutation(m)


def _pairs(problem, sol):
    i, j = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    order = np.lexsort((j, i))
    return i[order].tolist(), j[order].tolist()


def digest(problem, sol) -> str:
    """The pairs, status, objective, bound and the certificate's rounds, candidates and tie
    record, as main (9ef0840) gives them."""
    c = sol.certificate
    what = (_pairs(problem, sol), sol.status, repr(sol.objective), repr(sol.bound),
            c.get("rounds"), c.get("pairs_in_sparse"), repr(sorted(c.get("ties", {}).items())),
            len(problem.pairs))
    return hashlib.sha1(repr(what).encode()).hexdigest()[:16]


#: (seed, n, m, levels, forbidden share, largest capacity, offsets) -> digest on main
#: (9ef0840), C and F layouts alike: 1,000 x 250 in 4 levels cuts every row to 32 candidates;
#: 1,200 x 300 in 2 levels thins the ties (:func:`~mentormatch.solvers.dense.candidates.with_few_ties`)
MAIN = {
    (0, 1000, 250, 4, 0.01, 4, False): "08a2986ece2c6522",
    (1, 1200, 300, 2, 0.01, 4, False): "e0ebb07f20c3bd01",
    (2, 900, 200, 3, 0.3, 6, True): "66b479e4c0d45f31",
    (3, 1500, 120, 5, 0.05, 2, True): "fe2b5574151c1c4c",
    (4, 600, 400, 6, 0.0, 3, False): "f91cdce45f806334",
    (5, 2000, 500, 4, 0.01, 4, False): "9820750fd14f4b78",
}


@pytest.mark.parametrize("case", sorted(MAIN))
@pytest.mark.parametrize("layout", ["C", "F"])
def test_tied_inputs_at_size_give_mains_pairs_bound_and_tie_record(case, layout, monkeypatch):
    """The rule's path (the keyed flow off) as main gave it; the keyed flow's
    (:mod:`mentormatch.solvers.dense.keyed`, forced) the same pairs, status, objective and
    prices, the bound within float rounding (its dual objective sums the slack of another
    optimum's pairs)."""
    s, f, cap, ri, rj = tied(*case)
    a = np.where(f, -np.inf, s)
    a = np.asfortranarray(a) if layout == "F" else np.ascontiguousarray(a)
    with monkeypatch.context() as mp:
        mp.setattr(dense_keyed, "KEYED_PAIRS", 0)
        problem, sol = solve_dense(DenseRows(a, f), cap, mentee_rank=ri, mentor_rank=rj)
    assert sol.status == "optimal"
    assert digest(problem, sol) == MAIN[case]
    monkeypatch.setattr(dense_keyed, "KEYED_PAIRS", 10 ** 9)
    monkeypatch.setattr(dense_keyed, "likely_tied", lambda kernel, values: True)
    problem_k, sol_k = solve_dense(DenseRows(a, f), cap, mentee_rank=ri, mentor_rank=rj)
    assert sol_k.certificate["ties"].get("keyed_rounds", 0) >= 1  # (the keyed flow ran)
    assert _pairs(problem_k, sol_k) == _pairs(problem, sol)
    assert (sol_k.status, sol_k.objective) == (sol.status, sol.objective)
    assert sol_k.bound == pytest.approx(sol.bound, rel=1e-12, abs=1e-9)
    assert all(np.array_equal(x, y) for x, y in zip(sol_k.prices, sol.prices))


@st.composite
def tied_matrices(draw):
    """Up to 90 x 70 (rows longer than the 32 candidates a mentee keeps), 2-6 levels,
    forbidden cells, capacities 0-3 (some 0), ranks."""
    n, m = draw(st.integers(1, 90)), draw(st.integers(1, 70))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    levels = draw(st.integers(2, 6))
    s = np.floor(rng.random((n, m)) * levels) / levels
    f = rng.random((n, m)) < draw(st.sampled_from([0.0, 0.05, 0.4]))
    cap = rng.integers(0, 4, m)
    return s, f, cap, rng.permutation(n), rng.permutation(m)


def _solve(s, f, cap, ri, rj, layout="C"):
    a = np.where(f, -np.inf, s)
    a = np.asfortranarray(a) if layout == "F" else np.ascontiguousarray(a)
    return solve_dense(DenseRows(a, f), cap, mentee_rank=ri, mentor_rank=rj)


@settings(max_examples=60, deadline=None)
@given(tied_matrices(), st.randoms(use_true_random=False))
def test_rows_and_columns_permuted_with_their_ranks_give_the_same_pairs(case, rnd):
    s, f, cap, ri, rj = case
    n, m = s.shape
    base_p, base = _solve(s, f, cap, ri, rj)
    rows, cols = np.array(rnd.sample(range(n), n)), np.array(rnd.sample(range(m), m))
    p, sol = _solve(s[np.ix_(rows, cols)], f[np.ix_(rows, cols)], cap[cols], ri[rows], rj[cols], "F")
    i, j = _pairs(p, sol)
    assert sorted(zip(rows[i].tolist(), cols[j].tolist())) == sorted(zip(*_pairs(base_p, base)))
    assert sol.status == base.status  # (sums over the pairs in another order: the last bits)
    assert (sol.objective, sol.bound) == pytest.approx((base.objective, base.bound), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(tied_matrices())
def test_candidates_compiled_or_not_and_pick_compiled_or_not_give_the_same_answer(case):
    s, f, cap, ri, rj = case
    p1, a = _solve(s, f, cap, ri, rj)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(candidates, "assign_kernel", lambda: None)  # numpy's candidates (top_k)
        p2, b = _solve(s, f, cap, ri, rj)
        mp.setattr(ties_unit, "PICK_PAIRS", -1)  # the rule's own second flows on OR-Tools
        p3, c = _solve(s, f, cap, ri, rj)
    assert digest(p1, a) == digest(p2, b)
    assert _pairs(p3, c) == _pairs(p1, a) and (c.objective, c.bound) == (a.objective, a.bound)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2 ** 32 - 1))
def test_the_pick_is_the_brute_force_least_key_sum_among_the_optima(n, m, seed):
    """Every assignment enumerated: the most integer score (pairs scoring > 0, allowed, within
    capacity), then the least sum of the first stage's keys over the ranks; where that leaves
    one assignment, it is the one returned."""
    rng = np.random.default_rng(seed)
    s = np.floor(rng.random((n, m)) * 3) / 3
    f = rng.random((n, m)) < 0.2
    cap = rng.integers(0, 3, m)
    ri, rj = rng.permutation(n), rng.permutation(m)
    problem, sol = _solve(s, f, cap, ri, rj)
    scale = sol.certificate["scale"]
    bits = key_bits(n + m + 2, int(min(n, cap.sum())))
    best, winners = None, []
    for pick in itertools.product(range(-1, m), repeat=n):
        pick = np.array(pick)
        on = np.flatnonzero(pick >= 0)
        pj = pick[on]
        if (np.bincount(pj, minlength=m) > cap).any() or f[on, pj].any() or (s[on, pj] <= 0).any():
            continue
        total = int(np.round(s[on, pj] * scale).astype(np.int64).sum())
        key = int((pair_key(ri[on], rj[pj], 1) >> np.uint64(64 - bits)).astype(np.int64).sum())
        if best is None or (total, -key) > best:
            best, winners = (total, -key), [list(zip(on.tolist(), pj.tolist()))]
        elif (total, -key) == best:
            winners.append(list(zip(on.tolist(), pj.tolist())))
    assert sol.objective == pytest.approx(best[0] / scale, abs=1e-9)
    if len(winners) == 1:
        assert sorted(zip(*_pairs(problem, sol))) == sorted(winners[0])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 3000))
def test_the_helpers_agree_with_what_they_replace(seed, size):
    rng = np.random.default_rng(seed)
    ri, rj = rng.integers(0, 1 << 20, size), rng.integers(0, 1 << 16, size)
    key = pair_key(ri, rj)
    for top in (key, key - np.uint64(1), key ^ np.uint64(1), rng.integers(0, 1 << 63, size).astype(np.uint64)):
        np.testing.assert_array_equal(candidates._key_at_most(ri, rj, top), key <= top)
    n, m = 50, 40
    ki = np.sort(rng.choice(n, rng.integers(0, n + 1), replace=False))
    kj = rng.integers(0, m, len(ki))
    ci, cj = rng.integers(0, n, size), rng.integers(0, m, size)
    half = min(len(ki) // 2, size)  # some pairs chosen for sure
    ci[:half], cj[:half] = ki[:half], kj[:half]
    np.testing.assert_array_equal(among_chosen(ci, cj, ki, kj, n, m), member(ci * m + cj, ki * m + kj))
