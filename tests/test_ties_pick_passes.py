"""The compiled passes around the tie rule's second flows (``_native/assign_pick.pxi``:
``pick_held``, ``pick_reduced``) against the numpy they replace in
:func:`mentormatch.solvers.ties_unit._least`, number for number; and assign() on tied scores
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
    rc, joined = native.pick_reduced(*args, flags, limit, p_i, p_j)
    assert rc.tolist() == want[4].tolist()
    assert joined == int(want[5].sum())
    assert flags.astype(bool).tolist() == (held | want[5]).tolist()


class _WithoutPasses:
    """The compiled module as a build from before the passes: ``pick_held`` missing."""

    def __getattr__(self, name):
        if name in ("pick_held", "pick_reduced"):
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
    """The rule's path (the small path's keyed flow off), with and without the passes."""
    monkeypatch.setattr(matrix, "small_applies", lambda cells: False)
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
