"""The rest of the bound added outside a pass (:func:`mentormatch.scale_codes.add_rest`, which
:meth:`mentormatch.scale.BoundedScorer.upper` and so a bonus's view of the bounds use): the
compiled kernel where it was built, the same floats as :meth:`~mentormatch.scale_codes.
BlockRest.apply`, bit for bit; its numpy code where it was not, or where the block is not a
C-ordered float32 one."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import _native, synthetic
from mentormatch.scale_codes import BlockRest, add_rest

from _kernels import native_kernel

native = native_kernel("scan")


def _coded_rest(rng, n: int, m: int, groups: int) -> BlockRest:
    """Group runs, coded groups, stated pairs (each once) and removed pairs (one twice, the
    later value holding), on a block of ``n`` x ``m``."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(3, n - 1), replace=False))
    edges = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    adds = rng.standard_normal((len(edges) - 1, m)).astype(np.float32)
    code = np.unique(rng.integers(0, n * m, 3 * n))
    inc = (code // m, code % m, rng.standard_normal(len(code)).astype(np.float32))
    pr = np.append(np.sort(rng.integers(0, n, 2 * n)), [n - 1, n - 1])
    pc = np.append(rng.integers(0, m, 2 * n), [3 % m, 3 % m])
    pv = np.append(np.float32(-1e20) - rng.random(2 * n).astype(np.float32), [7.0, -np.inf]).astype(np.float32)
    codes = rng.integers(0, 8, (groups, m)).astype(np.uint8) if groups else None
    lookup = ((rng.standard_normal((n, groups, 8)) * 10.0 ** rng.integers(-3, 3)).astype(np.float32)
              if groups else None)
    return BlockRest(edges, adds, inc, (pr, pc, pv), codes, lookup)


@pytest.mark.parametrize("seed", range(6))
def test_add_rest_gives_the_floats_of_apply(seed):
    """Random blocks and rests (with and without coded groups, widths not a multiple of 8): the
    block ``add_rest`` gives, with the kernel and with its numpy code, is ``BlockRest.apply``'s,
    bit for bit, and it is the block it was given (in place); a strided block too."""
    rng = np.random.default_rng(700 + seed)
    n = int(rng.integers(6, 40))
    for m, groups in ((301, 0), (3_005, int(rng.integers(1, 6))), (7, 2)):
        s = (rng.standard_normal((n, m)) * 10).astype(np.float32)
        rest = _coded_rest(rng, n, m, groups)
        want = rest.apply(s.copy())
        kernels = [None] if native is None else [None, native]
        for kernel in kernels:
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(_native._chosen, "scan", kernel)
                block = s.copy()
                got = add_rest(block, rest)
                assert got is block
                np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
                wide = np.zeros((n, 2 * m), np.float32)
                wide[:, ::2] = s  # (not C-ordered: numpy's code)
                np.testing.assert_array_equal(add_rest(wide[:, ::2], rest).view(np.uint32),
                                              want.view(np.uint32))


@pytest.mark.parametrize("less", [False, True])
def test_upper_of_a_real_scorer_is_its_split_with_apply(less, monkeypatch):
    """On a scale-path scorer (coded groups where the kernel adds them fast): ``upper`` (the
    rest by :func:`add_rest`) equals ``upper_split`` with :meth:`BlockRest.apply`, bit for bit,
    with and without the pass's prices taken off, with the kernel and without it."""
    import mentormatch.pipeline as pl

    mentors, mentees = synthetic.organisation(n_mentees=400, n_mentors=300, seed=6)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 0)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    sc = pl.prepare(mentors, mentees).scorer
    price = (np.random.default_rng(1).random(sc.m) * 2).astype(np.float32) if less else None
    kernels = [None] if native is None else [None, native]
    for a, b in ((0, 77), (77, 400), (5, 6)):
        s, rest = sc.upper_split(a, b, None, less=price)
        want = rest.apply(s)
        for kernel in kernels:
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(_native._chosen, "scan", kernel)
                got = sc.upper(a, b, less=price)
            np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
