"""``solvers.dense``'s compiled passes over a face of ties (``_native/assign_face.pxi``): the
fused check (:func:`~mentormatch.solvers.dense.check.check_face`: the pass, the filter, the
integer gains, the tight join), the candidates on thinned ties (``_few_ties_compiled``) and
each mentee's best candidates (``best_of_rows`` in
:func:`~mentormatch.solvers.dense.candidates.best_per_mentee`) give what the numpy steps they
replace give, to the bit: on random prices (violators of both kinds, infinite prices, chosen
pairs), on whole solves (both layouts, forbidden cells as a mask or as ``-inf``, capacities and
demands of 0, few candidates so that rounds add violators), and on the candidates' selection.
No timings (speed: the module docstrings and the session's report)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentormatch import _native
from mentormatch.pairs import DenseRows
from mentormatch.solvers.base import SolverOptions
from mentormatch.solvers.dense import candidates, check, passes, solve_dense
from mentormatch.solvers.dense.held import among_chosen, with_tight
from mentormatch.solvers.ties import integer_gain

from _kernels import native_kernel

assign = native_kernel("assign")
pytestmark = pytest.mark.skipif(
    assign is None or getattr(assign, "FACE_CHECK_VERSION", 0) < 2 or _native.assign_kernel() is None,
    reason="the compiled assign kernel (FACE_CHECK_VERSION 2) is not built, or MENTORMATCH_NATIVE=0")


@st.composite
def tied_cases(draw):
    """Up to 60 x 50 in 1-6 levels (or continuous), some cells forbidden or ``-inf``,
    capacities 0-3, demands 0-2 (or 1), seeded ranks, a layout."""
    n, m = draw(st.integers(1, 60)), draw(st.integers(1, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    levels = draw(st.integers(0, 6))
    s = np.floor(rng.random((n, m)) * levels) / levels if levels else rng.random((n, m))
    if draw(st.booleans()):
        s += np.floor(rng.random(n) * 3)[:, None] / 7  # mentee-wide steps
    s[rng.random((n, m)) < draw(st.sampled_from([0.0, 0.1]))] = -np.inf
    f = rng.random((n, m)) < draw(st.sampled_from([0.0, 0.05, 0.4]))
    cap = rng.integers(0, 4, m)
    dem = rng.integers(0, 3, n) if draw(st.booleans()) else None
    layout = draw(st.sampled_from(["C", "F"]))
    return s, f, cap, dem, rng.permutation(n), rng.permutation(m), layout, rng


def _rows(s, f, layout, as_mask):
    a = s if as_mask else np.where(f, -np.inf, s)
    order = np.asfortranarray if layout == "F" else np.ascontiguousarray
    return DenseRows(order(a), order(f))


def _record(problem, sol):
    c = {k: v for k, v in sol.certificate.items() if "time" not in k}
    i, j = problem.pairs.mentee[sol.chosen], problem.pairs.mentor[sol.chosen]
    return (i.tolist(), j.tolist(), problem.pairs.mentee.tolist(), problem.pairs.mentor.tolist(),
            problem.score.tolist(), sol.status, repr(sol.objective), repr(sol.bound), repr(c))


@settings(max_examples=100, deadline=None)
@given(tied_cases(), st.booleans(), st.sampled_from([None, 1, 2]), st.booleans())
def test_a_solve_with_the_compiled_passes_is_the_numpy_steps_solve(case, as_mask, top_k, thin):
    """The same pairs, pairs worked on and scores, status, objective, bound and certificate
    (rounds, violators added, the tie record) with the kernels and without them; ``top_k``
    1-2: rounds with violators, found by the fused check; ``thin``: no slack before the ties
    are thinned, so that small matrices take that path (``with_few_ties``)."""
    s, f, cap, dem, ri, rj, layout, rng = case
    if thin:  # rows of more than 8 ties at the top (the budget then, with one pair a mentee)
        n, m = s.shape[0], s.shape[1] + 40
        s = np.floor(rng.random((n, m)) * 3) / 3
        f, cap, rj = rng.random((n, m)) < 0.05, rng.integers(0, 4, m), rng.permutation(m)
    options = SolverOptions(top_k=1 if thin else top_k)
    with pytest.MonkeyPatch.context() as mp:
        if thin:
            mp.setattr(candidates, "TIE_SLACK", 0)
        mp.setattr(check, "assign_kernel", lambda: None)
        mp.setattr(candidates, "assign_kernel", lambda: None)
        want = _record(*solve_dense(_rows(s, f, layout, as_mask), cap, demand=dem,
                                    mentee_rank=ri, mentor_rank=rj, options=options))
        mp.undo()
        if thin:
            mp.setattr(candidates, "TIE_SLACK", 0)
        got = _record(*solve_dense(_rows(s, f, layout, as_mask), cap, demand=dem, mentee_rank=ri,
                                   mentor_rank=rj, options=options))
    assert got == want


@settings(max_examples=150, deadline=None)
@given(tied_cases(), st.booleans(), st.integers(1, 12))
def test_the_thinned_ties_compiled_are_the_numpy_passes(case, as_mask, limit):
    """:func:`~mentormatch.solvers.dense.candidates.with_few_ties` and the filter after it, in
    numpy and compiled: the same pairs in the same order, scores, tie counts and key limits,
    for thresholds on the scores' levels (many ties), between them, or infinite."""
    s, f, cap, dem, ri, rj, layout, rng = case
    n, m = s.shape
    walk = passes.Walk(_rows(s, f, layout, as_mask))
    low = np.maximum(np.floor(rng.random(n) * 4) / 4, np.nextafter(0.0, 1.0))
    low[rng.random(n) < 0.2] += 0.1
    low[rng.random(n) < 0.1] = np.inf
    got = candidates._few_ties_compiled(walk, low, (ri, rj), limit, cap)
    i, j, ties, top = candidates.with_few_ties(walk, low, (ri, rj), limit)
    keep = (cap[j] > 0) & walk.allowed(i, j)
    i, j = i[keep], j[keep]
    for a, b in zip(got, (i, j, walk.at(i, j), ties, top)):
        np.testing.assert_array_equal(a, b)


def _numpy_steps(walk, u, p, floor, tol, worked, d, scale):
    """What solve_dense does without the kernel: the pass, the filter, the gains, the join."""
    wi, wj, ws, wc = worked
    n, m = walk.n, walk.m
    ci, cj, r, cs = check.check_pass(walk, u, p, floor)
    keep = walk.allowed(ci, cj) & ~among_chosen(ci, cj, wi[wc], wj[wc], n, m)
    ci, cj, r, cs = ci[keep], cj[keep], r[keep], cs[keep]
    eps = float(r.max(initial=0.0))
    bad = r > tol
    if bad.any():
        return eps, (ci[bad], cj[bad], r[bad]), None
    gain = integer_gain(cs, ci, cj, d, scale)
    bad = gain > 0
    if bad.any():
        return eps, (ci[bad], cj[bad], r[bad]), None
    tight = gain == 0
    return eps, (ci[:0], cj[:0], r[:0]), with_tight(walk, wi, wj, ws, wc, ci[tight], cj[tight])


@settings(max_examples=150, deadline=None)
@given(tied_cases(), st.booleans(), st.sampled_from([0.0, 1e-3, 0.3]))
def test_the_fused_check_is_the_numpy_steps_to_the_bit(case, as_mask, spread):
    """Prices near the scores' levels (``spread`` 0: exactly on them, so many tight cells), some
    infinite; pairs worked on and chosen at random (chosen ones at most one a mentee or
    several): the largest reduced gain, the violators (as a set: the numpy steps list them in
    the pass's order) and the joined pairs are the numpy steps'."""
    s, f, cap, dem, ri, rj, layout, rng = case
    n, m = s.shape
    walk = passes.Walk(_rows(s, f, layout, as_mask))
    scale = 2.0 ** 20
    u = np.floor(rng.random(n) * 4) / 4 + rng.normal(0, spread, n)
    p = np.floor(rng.random(m) * 4) / 4 - 0.5 + rng.normal(0, spread, m)
    u[rng.random(n) < 0.05] = np.inf
    p[rng.random(m) < 0.05] = np.inf
    d = (np.round(np.nan_to_num(u, posinf=0) * scale).astype(np.int64),
         -np.round(np.nan_to_num(p, posinf=0) * scale).astype(np.int64))
    code = np.flatnonzero(rng.random(n * m) < rng.random())
    wi, wj = np.divmod(code, m)
    wi, wj = wi.astype(np.int64), wj.astype(np.int64)
    ws = walk.at(wi, wj)  # (as solve_dense holds them: the cells as stored)
    wc = rng.random(len(wi)) < 0.3
    floor, tol = -0.75 / scale, 1.0 / scale
    worked = (wi, wj, ws, wc)
    low = np.full(n, np.inf)  # (the room's count: every cell may pass; the bound is a guess)
    got = check.check_face(walk, u, p, low, cap + 1, floor, tol, worked, d, scale)
    want = _numpy_steps(walk, u, p, floor, tol, worked, d, scale)
    if got is None:  # (the merged pairs did not fit the guess: the numpy steps then)
        return
    assert got[0] == want[0]
    order_got = np.lexsort((got[1][1], got[1][0]))
    order_want = np.lexsort((want[1][1], want[1][0]))
    for a, b in zip(got[1], want[1]):
        np.testing.assert_array_equal(a[order_got], b[order_want])
    assert (got[2] is None) == (want[2] is None)
    if got[2] is not None:
        for a, b in zip(got[2], want[2]):
            np.testing.assert_array_equal(a, b)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 6), st.integers(1, 12),
       st.integers(0, 2 ** 32 - 1))
def test_each_mentees_best_by_a_heap_are_the_sorts_pairs(n, m, levels, limit, seed):
    """``best_per_mentee`` with ``best_of_rows`` and with numpy's sorts (few levels) or
    ``top_k`` (continuous scores): the same pairs, in the same order, from pairs in any order."""
    rng = np.random.default_rng(seed)
    i, j = np.nonzero(rng.random((n, m)) < rng.random())
    order = rng.permutation(len(i))
    i, j = i[order].astype(np.int64), j[order].astype(np.int64)
    s = (np.floor(rng.random(len(i)) * levels) / levels + 0.1 if levels else rng.random(len(i)))
    ranks = (rng.permutation(n), rng.permutation(m))
    got = candidates.best_per_mentee(i, j, s, ranks, limit, m)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(candidates, "assign_kernel", lambda: None)
        want = candidates.best_per_mentee(i, j, s, ranks, limit, m)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
