"""The compiled passes around the tie rule's second flows (``_native/assign_pick.pxi``:
``pick_held``, ``pick_reduced``, ``pair_reduced``) against the numpy they replace in
:mod:`mentormatch.solvers.ties_unit`, number for number; the compiled gathering of the
face (``face_pairs``) by mentee runs or by its two sorts against numpy's order, whatever the
pairs' order (runs, runs broken, a pair twice); and assign() on tied scores
with them and without (a build that lacks them: the numpy passes) giving the same pairs,
status, objective and tie record, with keys of full width and of 2 bits (several stages), and
with a start of one pair a mentee (pairs join: several flows a stage)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch._native import assign_kernel
from mentormatch.pipeline import matrix
from mentormatch.solvers import ties, ties_unit
from mentormatch.solvers.dense import keyed as dense_keyed

native = assign_kernel()
if native is None and os.environ.get("CI") and os.environ.get("MENTORMATCH_NATIVE") != "0":
    raise ImportError("mentormatch._native.assign was not built")

pytestmark = pytest.mark.skipif(native is None, reason="the compiled kernels are not in use")


def _numpy_passes(a, b, must_i, must_j, big, stage, bits, held, limit, p_i, p_j):
    """``_least``'s numpy: the start's pairs and costs, then the reduced costs and joins."""
    key = native.pair_keys(a, b, stage, bits)
    with np.errstate(over="ignore"):
        c = must_i[a].astype(np.int64)
        c += must_j[b]
        c *= -big
        c += key
        start = (key < limit) | held
        part = np.flatnonzero(start)
        ptr = np.zeros(len(must_i) + 1, np.int64)
        np.cumsum(np.bincount(a[part], minlength=len(must_i)), out=ptr[1:])
        rc = p_i[a]
        rc += c
        rc -= p_j[b]
    join = (rc < 0) & ~start
    return ptr, part, b[part], c[part], rc, join


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(0, 2 ** 32 - 1), st.integers(1, 63),
       st.integers(1, 4), st.sampled_from([0, 1, 1 << 20, 1 << 58]))
def test_the_compiled_passes_give_numpys_numbers(n, m, seed, bits, stage, big):
    rng = np.random.default_rng(seed)
    cells = rng.random((n, m)) < rng.uniform(0.1, 1.0)
    a, b = (x.astype(np.int64) for x in np.nonzero(cells))  # grouped by mentee, increasing
    must_i, must_j = rng.random(n) < 0.5, rng.random(m) < 0.5
    held = rng.random(len(a)) < 0.2
    limit = float(rng.choice([0.0, 2.0 ** bits * rng.random(), 2.0 ** 64]))
    p_i = rng.integers(-(1 << 62), 1 << 62, n) if seed % 3 == 0 else rng.integers(-1000, 1000, n)
    p_j = rng.integers(-(1 << 62), 1 << 62, m) if seed % 3 == 0 else rng.integers(-1000, 1000, m)
    want = _numpy_passes(a, b, must_i, must_j, big, stage, bits, held, limit, p_i, p_j)
    args = (a, b, must_i.view(np.uint8), must_j.view(np.uint8), big, stage, bits)
    flags = held.astype(np.uint8)
    got = native.pick_held(*args, flags, limit)
    for x, y in zip(got, want[:4]):
        assert x.dtype == np.int64 and x.tolist() == y.tolist()
    near, rc, joined = native.pick_reduced(*args, flags, limit, p_i, p_j)
    assert near.tolist() == np.flatnonzero(want[4] <= 0).tolist()
    assert rc.tolist() == want[4][near].tolist()
    assert joined == int(want[5].sum())
    assert flags.astype(bool).tolist() == (held | want[5]).tolist()
    cost = rng.integers(-(1 << 62), 1 << 62, len(a))
    with np.errstate(over="ignore"):
        assert native.pair_reduced(a, b, cost, p_i, p_j).tolist() == (cost + p_i[a] - p_j[b]).tolist()


class _WithoutPasses:
    """The compiled module as a build from before the passes: they are missing."""

    def __getattr__(self, name):
        if name in ("pick_held", "pick_reduced", "pair_reduced"):
            raise AttributeError(name)
        return getattr(native, name)


def _case(rng):
    """A tied assign() input on the path of the rule's compiled pick."""
    n, m = int(rng.integers(2, 120)), int(rng.integers(1, 40))
    levels = int(rng.choice([1, 2, 4]))
    s = np.ceil(rng.random((n, m)) * levels) / levels
    if rng.random() < 0.3:
        s[rng.random((n, m)) < 0.2] = -np.inf
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    cap = pd.Series(rng.integers(0, 5, m), index=scores.columns)
    return scores, cap


def _answer(scores, cap):
    r = mm.assign(scores, cap)
    record = dict(r.certificate.get("ties") or {})
    pairs = sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].values.tolist()))
    return pairs, r.status, r.objective, record


@pytest.mark.parametrize("bits,start", [(None, None), (2, None), (None, 1), (2, 1)])
def test_assign_with_the_compiled_passes_or_numpys_gives_the_same_answer(monkeypatch, bits, start):
    """The rule's path (the small path's and the dense path's keyed flows off), with and
    without the passes."""
    monkeypatch.setattr(matrix, "small_applies", lambda cells: False)
    monkeypatch.setattr(dense_keyed, "KEYED_PAIRS", 0)
    if bits is not None:
        monkeypatch.setattr(ties, "key_bits", lambda *a: bits)
    if start is not None:
        monkeypatch.setattr(ties_unit, "PICK_START", start)
    calls = []
    held = native.pick_held
    monkeypatch.setattr(native, "pick_held", lambda *a: calls.append(1) or held(*a))
    rng = np.random.default_rng(5 + (bits or 0) + (start or 0))
    cases = [_case(rng) for _ in range(20)]
    got = [_answer(*case) for case in cases]
    assert calls  # (the passes ran)
    monkeypatch.setattr(ties_unit, "assign_kernel", lambda: _WithoutPasses())
    want = [_answer(*case) for case in cases]
    assert got == want
    assert sum(r[3].get("movable_pairs", 0) > 0 for r in got) >= 5  # the ties are real


def _face_reference(i, j, s, chosen, dem, cap, d_i, d_j, scale, ri, rj):
    """``canonical``'s numpy gathering: integer gain >= 0 or chosen, by (mentee rank, mentor
    rank), stably."""
    used = (s > 0) & (dem[i] > 0) & (cap[j] > 0)
    with np.errstate(invalid="ignore"):
        used &= np.round(s * scale).astype(np.int64) - d_i[i] + d_j[j] >= 0
    used |= chosen
    want = np.flatnonzero(used)
    return want[np.lexsort((rj[j[want]], ri[i[want]]))]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 2 ** 32 - 1),
       st.sampled_from(["runs", "shuffled", "runs reordered", "twice"]))
def test_face_pairs_in_any_order_of_the_pairs_give_numpys_order(n, m, seed, layout):
    rng = np.random.default_rng(seed)
    cells = rng.random((n, m)) < rng.uniform(0.05, 1.0)
    i, j = np.nonzero(cells)
    if layout == "shuffled":  # (the mentees' runs broken: the two sorts)
        o = rng.permutation(len(i))
        i, j = i[o], j[o]
    elif layout == "runs reordered":  # each mentee's pairs together, in any order
        o = np.lexsort((rng.random(len(i)), rng.permutation(n)[i]))
        i, j = i[o], j[o]
    elif layout == "twice" and len(i):  # a pair twice (kept apart by the stable order)
        k = int(rng.integers(len(i)))
        i, j = np.insert(i, k, i[k]), np.insert(j, k, j[k])
    i, j = i.astype(np.int64), j.astype(np.int64)
    scale = 2.0 ** 20
    s = np.ceil(rng.random(len(i)) * 3) / 3
    s[rng.random(len(i)) < 0.1] = 0.0
    chosen = rng.random(len(i)) < 0.2
    dem, cap = rng.integers(0, 3, n).astype(np.int64), rng.integers(0, 3, m).astype(np.int64)
    d_i = rng.integers(0, 2, n).astype(np.int64) * (1 << 20)
    d_j = -rng.integers(0, 2, m).astype(np.int64) * (1 << 19)
    ri, rj = rng.permutation(n).astype(np.int64), rng.permutation(m).astype(np.int64)
    want = _face_reference(i, j, s, chosen, dem, cap, d_i, d_j, scale, ri, rj)
    idx, a, b, cost = native.face_pairs(i, j, s, chosen.view(np.uint8), dem, cap, d_i, d_j,
                                        scale, ri, rj)
    assert idx.tolist() == want.tolist()
    assert a.tolist() == ri[i[want]].tolist() and b.tolist() == rj[j[want]].tolist()
    assert cost.tolist() == (-np.round(s[want] * scale).astype(np.int64)).tolist()
