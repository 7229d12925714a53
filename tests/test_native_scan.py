"""The compiled block kernel (:mod:`mentormatch._native.scan`) against its numpy twin
(:func:`mentormatch.solvers.bounded.blockscan.numpy_scan`): the same arrays, element for
element and in the same order, on blocks with ties, ``-inf``, dead rows, chosen pairs and
crowded rows; ``pair()`` on the bounds source gives the same pairs either way; and the
``MENTORMATCH_NATIVE`` switch.

Where the kernel was not built (no C compiler) the comparisons are skipped, except under
``CI``, where the build is part of the install (``make test``) and its absence fails."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import _native, synthetic
from mentormatch.solvers.bounded import blockscan, passes

from _kernels import native_kernel, same_with_and_without

native = native_kernel("scan")

needs_native = pytest.mark.skipif(native is None, reason="mentormatch._native.scan was not built")


def _block(rng, n: int, m: int, ties: bool):
    """A block of ``bound - price``: normal values (rounded to quarters: many ties), about a
    tenth ``-inf``, a dead row, a row of one value and a row with fewer finite entries than a
    pool, and rows whose largest entries sit outside a sample of every 8th or 32nd column."""
    s = rng.standard_normal((n, m)).astype(np.float32)
    if ties:
        s = np.round(s * 4) / 4
    s[rng.random((n, m)) < 0.1] = -np.inf
    s[1] = -np.inf
    s[2] = 0.5
    s[3, 5:] = -np.inf
    s[4, 1::32] = 9.0
    s[5, ::8] = 9.0
    return s


def _compare(s, pk, limit, ci, cj, per_row, keep_all, above):
    """Both implementations on copies of ``s``: the same outputs (dtype, shape, values, order)
    and the same block after (the chosen pairs at ``-inf`` when there is a limit)."""
    a, b = s.copy(), s.copy()
    want = blockscan.numpy_scan(a, pk, limit, ci, cj, per_row, keep_all, above)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(_native._chosen, "scan", native)
        got = blockscan.scan(b, pk, limit, ci, cj, per_row, keep_all, above)
    for part_want, part_got in zip(want, got):
        assert (part_want is None) == (part_got is None)
        for x, y in zip(part_want or (), part_got or ()):
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a, b)
    return want


@needs_native
@pytest.mark.parametrize("seed", range(12))
def test_the_kernel_gives_the_numpy_scans_arrays(seed):
    """Pools by every ranking of the numpy code (``k`` 1; rows narrower than ``16 k``: every
    entry ranked; a sample of every 8th column; of every 32nd), suspects with crowded rows (few
    suspects a row, ranked among themselves, and most of a row) or ``keep_all``, chosen pairs
    (one twice), each column's first best row above a floor: the same arrays both ways."""
    rng = np.random.default_rng(seed)
    ties = seed % 2 == 1
    n = int(rng.integers(6, 40))
    crowded_seen = 0
    for m, pk in ((300, 1), (300, 40), (2_000, 13), (3_000, 20), (130, 0)):
        s = _block(rng, n, m, ties)
        for share in (0.01, 0.2, 0.9):  # the suspects' share of each row
            limit = np.quantile(s[np.isfinite(s)], 1 - share).astype(np.float32) + np.zeros(n, np.float32)
            limit[0] = np.inf  # a row with no suspect
            limit[6] = -np.inf  # every finite entry a suspect
            ci = np.sort(rng.integers(0, n, 2 * n))
            cj = rng.integers(0, m, 2 * n)
            ci, cj = np.append(ci, [n - 1, n - 1]), np.append(cj, [7 % m, 7 % m])  # a pair twice
            above = rng.normal(-1.0, 1.0, m).astype(np.float32)
            above[: m // 3] = -np.inf  # every column
            for per_row in (3, 16):
                pool, sus, tops = _compare(s, pk, limit, ci, cj, per_row, False, above)
                crowded_seen += len(sus[2])
            _compare(s, pk, limit, ci, cj, 16, True, None)
            _compare(s, pk, None, ci, cj, 16, False, above)
        if pk:  # the pool is each row's pk largest, descending, ties to the lower column
            pool, _, _ = _compare(s, pk, None, ci[:0], cj[:0], 16, False, None)
            for i in range(n):
                np.testing.assert_array_equal(pool[0][i], np.argsort(-s[i], kind="stable")[:pk])
    assert crowded_seen > 0


def _rest(rng, n: int, m: int):
    """A :class:`~mentormatch.scale_codes.BlockRest` of a block: a few group runs, stated pairs,
    and removed pairs set (some twice: the later value holds, some ``-inf``)."""
    from mentormatch.scale_codes import BlockRest

    cuts = np.sort(rng.choice(np.arange(1, n), size=min(3, n - 1), replace=False))
    edges = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    adds = rng.standard_normal((len(edges) - 1, m)).astype(np.float32)
    code = np.unique(rng.integers(0, n * m, 3 * n))
    inc = (code // m, code % m, rng.standard_normal(len(code)).astype(np.float32))
    pr = np.sort(rng.integers(0, n, 2 * n))
    pc = rng.integers(0, m, 2 * n)
    pr, pc = np.append(pr, [n - 1, n - 1]), np.append(pc, [3 % m, 3 % m])  # a pair twice, last -inf
    pv = np.append(np.float32(-1e20) - rng.random(2 * n).astype(np.float32), [7.0, -np.inf]).astype(np.float32)
    return BlockRest(edges, adds, inc, (pr, pc, pv))


def _scans_with_rest(rng, s, want, pk, rest):
    """The numpy twin and the kernel on copies of block ``s`` with ``rest``, each block checked
    equal to ``want`` after (the product plus the rest); a limit at the 90th percentile of
    ``want`` and random prices above. Returns (limit, above, numpy outputs, kernel outputs)."""
    n, m = s.shape
    limit = np.quantile(want[np.isfinite(want)], 0.9).astype(np.float32) + np.zeros(n, np.float32)
    above = rng.normal(-1.0, 1.0, m).astype(np.float32)
    a, b = s.copy(), s.copy()
    e = np.zeros(0, np.int64)
    out_np = blockscan.numpy_scan(a, pk, limit, e, e, 4, False, above, rest)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(_native._chosen, "scan", native)
        out_k = blockscan.scan(b, pk, limit, e, e, 4, False, above, rest)
    np.testing.assert_array_equal(a, want)
    np.testing.assert_array_equal(b, want)
    return limit, above, out_np, out_k


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_the_kernel_adds_the_rest_of_the_bound_as_numpy_does(seed):
    """The rest of the bound (groups' rows, stated pairs, removed pairs) added by the kernel as
    it reads each row: the same outputs and the same block after as the numpy twin, which adds
    it first (:meth:`~mentormatch.scale_codes.BlockRest.apply`); the block after is the product
    plus the rest, computed here pair by pair."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(6, 40))
    for m, pk in ((300, 40), (3_000, 20)):
        s = _block(rng, n, m, seed % 2 == 1)
        rest = _rest(rng, n, m)
        want = s.copy()
        for g in range(len(rest.adds)):
            for r in range(rest.edges[g], rest.edges[g + 1]):
                want[r] = want[r] + rest.adds[g]
        for r, c, v in zip(*rest.inc):
            want[r, c] = want[r, c] + v
        for r, c, v in zip(*rest.put):
            want[r, c] = v
        limit, above, out_np, out_k = _scans_with_rest(rng, s, want, pk, rest)
        e = np.zeros(0, np.int64)
        plain = blockscan.numpy_scan(want.copy(), pk, limit, e, e, 4, False, above)
        for x, y, z in zip(out_np, out_k, plain):
            for u, v, w in zip(x, y, z):
                np.testing.assert_array_equal(u, v)
                np.testing.assert_array_equal(u, w)


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_the_kernel_adds_coded_groups_as_numpy_does(seed):
    """Coded groups of the bound (``BlockRest.codes``, ``lookup``: each mentor's code, each
    row's values by code), after the group runs or alone, on widths that are not a multiple of
    8 (the kernel's last columns one at a time): the same outputs and block as the numpy twin,
    and the block is the product plus the rest computed pair by pair in the documented order
    (runs, groups in order, stated pairs, removed pairs), float32 add after add."""
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(6, 30))
    for m, pk, runs in ((301, 40, True), (3_005, 20, seed % 2 == 0), (7, 3, True)):
        s = _block(rng, n, m, seed % 2 == 1)
        rest = _rest(rng, n, m)
        groups = int(rng.integers(1, 6))
        codes = rng.integers(0, 8, (groups, m)).astype(np.uint8)
        lookup = (rng.standard_normal((n, groups, 8)) * 10.0 ** rng.integers(-3, 3)).astype(np.float32)
        rest = rest._replace(codes=codes, lookup=lookup)
        if not runs:
            rest = rest._replace(edges=np.zeros(1, np.int64), adds=np.zeros((0, m), np.float32))
        want = s.copy()
        for r in range(n):
            for c in range(m):
                v = want[r, c]
                for g in range(len(rest.adds)):
                    if rest.edges[g] <= r < rest.edges[g + 1]:
                        v = np.float32(v + rest.adds[g, c])
                for g in range(groups):
                    v = np.float32(v + lookup[r, g, codes[g, c]])
                want[r, c] = v
        for r, c, v in zip(*rest.inc):
            want[r, c] = want[r, c] + v
        for r, c, v in zip(*rest.put):
            want[r, c] = v
        _, _, out_np, out_k = _scans_with_rest(rng, s, want, pk, rest)
        for x, y in zip(out_np, out_k):
            for u, v in zip(x, y):
                np.testing.assert_array_equal(u, v)


@needs_native
def test_the_kernel_refuses_a_rest_that_does_not_fit_the_block():
    """Runs that do not cover the block's rows, or stated pairs outside it: a ValueError
    (written through, they would write past the block)."""
    from mentormatch.scale_codes import BlockRest

    s = np.zeros((4, 8), np.float32)
    e = np.zeros(0, np.int64)
    bad_runs = BlockRest(np.array([0, 3]), np.zeros((1, 8), np.float32), None, None)
    bad_inc = BlockRest(np.array([0, 4]), np.zeros((1, 8), np.float32),
                        (np.array([5]), np.array([0]), np.ones(1, np.float32)), None)
    bad_code = BlockRest(np.array([0, 4]), np.zeros((1, 8), np.float32), None, None,
                         np.full((1, 8), 8, np.uint8), np.zeros((4, 1, 8), np.float32))
    bad_lookup = BlockRest(np.array([0, 4]), np.zeros((1, 8), np.float32), None, None,
                           np.zeros((2, 8), np.uint8), np.zeros((3, 2, 8), np.float32))
    for rest in (bad_runs, bad_inc, bad_code, bad_lookup):
        with pytest.raises(ValueError, match="scan_block"):
            native.scan_block(s, 2, None, e, e, 4, False, False, rest)


@needs_native
@pytest.mark.parametrize("native_on", [True, False])
def test_a_pass_with_the_rest_in_the_scan_gives_the_bounds_of_upper(native_on, monkeypatch):
    """A first pass's blocks on a scorer with groups, stated and removed pairs, prices and
    excluded pairs: the product with the rest added by the block scan (the kernel or numpy)
    gives the same pools, mentors' best rows and block as :meth:`BoundedScorer.upper` less the
    prices with the excluded pairs at ``-inf`` (the order before the fold)."""
    import mentormatch.pipeline as pl

    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=400, seed=4)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 0)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    sc = pl.prepare(mentors, mentees).scorer
    assert len(sc.runs) > 3 and sc.stated.nnz and sc.blocked is not None and sc.blocked.nnz
    monkeypatch.setitem(_native._chosen, "scan", native if native_on else None)
    rng = np.random.default_rng(0)
    p32 = rng.random(sc.m).astype(np.float32) * 3
    ex = np.unique(rng.integers(0, sc.n * sc.m, 500))
    ei, ej = ex // sc.m, ex % sc.m
    bi, bj = sc.blocked.nonzero()
    ei, ej = np.concatenate([ei, bi[:20]]), np.concatenate([ej, bj[:20]])  # removed and excluded: -inf
    order = np.lexsort((ej, ei))
    ei, ej = ei[order], ej[order]
    q = passes._ScanSpec(p32, ei, ej, ei[:0], ej[:0], None, None, 16, 4, False)
    for a, b in ((0, 130), (130, 600)):
        state = passes._mentor_state(sc.m, 4)
        pool, _ = passes._scan_block(sc, a, b, np.empty((b - a, sc.m), np.float32), q, state)
        old = sc.upper(a, b, less=p32)
        lo, hi = np.searchsorted(ei, [a, b])
        old[ei[lo:hi] - a, ej[lo:hi]] = -np.inf
        old_state = passes._mentor_state(sc.m, 4)
        floor = np.maximum(old_state[2], -5e19)
        want, _, tops = blockscan.numpy_scan(old.copy(), 16, None, ei[:0], ej[:0], 4, False, floor)
        for x, y in zip(pool, want):
            np.testing.assert_array_equal(x, y)
        assert np.isneginf(old[bi[:20] - a, bj[:20]][(bi[:20] >= a) & (bi[:20] < b)]).all()
        top = np.where(tops[0] > -5e19, tops[0], -np.inf)
        np.testing.assert_array_equal(state[3][-1], top)


@needs_native
def test_the_kernel_reads_the_first_row_attaining_a_columns_maximum():
    """Ties down a column go to the first row (as ``np.argmax``); a column of ``-inf`` to row
    0; a column whose best is a chosen pair takes its next best row."""
    s = np.array([[1.0, -np.inf, 2.0, 5.0],
                  [3.0, -np.inf, 2.0, 4.0],
                  [3.0, -np.inf, 1.0, 1.0]], np.float32)
    ci, cj = np.array([0]), np.array([3])
    _, _, (top, best) = _compare(s, 0, np.full(3, 10.0, np.float32), ci, cj, 4, False, np.full(4, -9.0, np.float32))
    np.testing.assert_array_equal(top, [3.0, -np.inf, 2.0, 4.0])
    np.testing.assert_array_equal(best, [1, 0, 0, 1])


@needs_native
@pytest.mark.parametrize("seed", [3])
def test_pair_on_the_bounds_source_gives_the_same_pairs_native_or_numpy(monkeypatch, seed):
    """``pair()`` on the features' bounds, with wide enough rows that the kernel samples columns
    and few suspects a row (crowded rows): the same pairs, objective and bound with the kernel
    and with the numpy code."""
    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 4)
    mentors, mentees = synthetic.organisation(n_mentees=1_400, n_mentors=1_100, seed=seed)
    mentors["capacity"] = 1

    calls = []

    class Counted:  # the kernel, counting its blocks (so that the comparison is not of one path)
        pool_over, pool_top = staticmethod(native.pool_over), staticmethod(native.pool_top)

        @staticmethod
        def scan_block(s, pk, limit, *rest):
            calls.append((s.shape[1], pk, limit is not None))
            return native.scan_block(s, pk, limit, *rest)

    a, b = same_with_and_without(monkeypatch, "scan", Counted, mentors, mentees)
    assert any(m >= 16 * pk > 0 for m, pk, _ in calls) and any(sus for _, _, sus in calls)
    assert a.certificate["method"] == "sparse_min_cost_flow+dual_check_on_bounds"
    assert a.bound == b.bound


@pytest.mark.parametrize("value, want", [("0", "numpy"), ("", "built"), ("1", "built"), ("yes", "error")])
def test_the_switch_chooses_the_code_once(monkeypatch, value, want):
    """``MENTORMATCH_NATIVE``: 0 the numpy code; unset the kernel where built; 1 the kernel or
    an error naming the switch when it was not built; anything else an error naming it. Read
    once: a later change of the variable changes nothing."""
    monkeypatch.setattr(_native, "_chosen", {})
    monkeypatch.setenv(_native.SWITCH, value)
    if want == "error":
        with pytest.raises(ValueError, match="MENTORMATCH_NATIVE='yes'"):
            _native.scan_kernel()
        return
    if want == "built" and value == "1" and native is None:
        with pytest.raises(ImportError, match="MENTORMATCH_NATIVE=1"):
            _native.scan_kernel()
        return
    first = _native.scan_kernel()
    assert first is (None if want == "numpy" else native)
    monkeypatch.setenv(_native.SWITCH, "1" if want == "numpy" else "0")
    assert _native.scan_kernel() is first


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_the_kernels_group_floors_are_the_numpy_scans(seed):
    """The floors per mentor group (:class:`~mentormatch.solvers.bounded.groups.Groups`, the
    pool's fourth part): the same arrays both ways, exact (``depth`` inf) or at least the floor
    less a depth, with empty groups, ties and ``-inf``; and each is the group's largest entry
    outside the pool (brute force), at least the floor less the depth."""
    from mentormatch.solvers.bounded.groups import Groups

    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 30))
    for m, pk in ((300, 1), (300, 40), (2_000, 13), (40, 40)):
        s = _block(rng, n, m, seed % 2 == 1)
        count = int(rng.integers(2, 65))  # (MAX_GROUPS: 64)
        for depth in (np.inf, 0.5):
            groups = Groups(rng.integers(0, count, m).astype(np.int32), count, float(depth))
            a, b = s.copy(), s.copy()
            want = blockscan.numpy_scan(a, pk, None, np.zeros(0, np.int64), np.zeros(0, np.int64), 4, False,
                                        None, None, groups)
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(_native._chosen, "scan", native)
                got = blockscan.scan(b, pk, None, np.zeros(0, np.int64), np.zeros(0, np.int64), 4, False, None,
                                     None, groups)
            assert len(want[0]) == len(got[0]) == 4
            for x, y in zip(want[0], got[0]):
                assert x.dtype == y.dtype and x.shape == y.shape
                np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, s)  # (the pool's entries put back)
            cols, _, floor, gfl = want[0]
            out = s.copy()
            np.put_along_axis(out, cols, -np.inf, axis=1)
            for k in range(count):
                top = out[:, groups.of == k].max(axis=1, initial=-np.inf)
                np.testing.assert_array_equal(gfl[:, k], np.maximum(top, floor - np.float32(depth)))


@pytest.mark.parametrize("seed", range(8))
def test_a_block_in_group_order_gives_the_mentors_arrays(seed):
    """A block whose columns are the mentors sorted by group (:class:`~mentormatch.solvers.
    bounded.groups.GroupOrder`): the kernel (where built) and the numpy twin give the pools
    (mentors, ties to the lower mentor wherever its column), floors per group and each mentor's
    maximum and first best row of the block in the mentors' own order, element for element;
    with ties, ``-inf``, a row of one value, rows with fewer finite entries than a pool, and
    rows narrower than a sample's (every entry ranked)."""
    from mentormatch.solvers.bounded.groups import GroupOrder, Groups

    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 30))
    e = np.zeros(0, np.int64)
    for m, pk in ((300, 1), (300, 40), (2_000, 13), (40, 40), (2_000, 64)):
        s = _block(rng, n, m, seed % 2 == 0)
        count = int(rng.integers(2, 65))
        groups = Groups(rng.integers(0, count, m).astype(np.int32), count)
        perm = np.argsort(groups.of, kind="stable")  # (within a group by mentor, as a pass has it)
        if seed % 3 == 0:
            perm = np.argsort(groups.of, kind="stable")
            for k in range(count):  # each group's mentors shuffled: ties across columns both ways
                at = np.flatnonzero(groups.of[perm] == k)
                perm[at] = rng.permutation(perm[at])
        inv = np.argsort(perm)
        starts = np.searchsorted(groups.of[perm], np.arange(count + 1))
        order = GroupOrder(perm, inv, starts, None, None)
        above = np.full(m, -5e19, np.float32)
        want = blockscan.numpy_scan(s.copy(), pk, None, e, e, 4, False, above, None, groups)
        kernels = [None] if native is None else [None, native]
        for kernel in kernels:
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(_native._chosen, "scan", kernel)
                got = blockscan.scan(np.ascontiguousarray(s[:, perm]), pk, None, e, e, 4, False, above, None,
                                     groups, order)
            for part_want, part_got in ((want[0], got[0]), (want[2], got[2])):
                for x, y in zip(part_want, part_got):
                    assert x.dtype == y.dtype and x.shape == y.shape
                    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("less", [False, True])
def test_a_block_whose_product_the_scan_computes_gives_the_bounds_of_upper(less, monkeypatch):
    """``upper_split(fused=True)`` on a scorer whose bound is its coded groups and one product
    column leaves the product to the block scan (``BlockRest.lmul``, ``rmul``): its rest applied
    by numpy, and the kernel's pools, floor and column maxima of that block, are those of the
    block :meth:`BoundedScorer.upper` gives, bit for bit (the same float32 product, then the same
    adds in the same order)."""
    import mentormatch.pipeline as pl

    mentors, mentees = synthetic.organisation(n_mentees=400, n_mentors=300, seed=6)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 0)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    sc = pl.prepare(mentors, mentees).scorer
    if sc.codes is None or len(sc.rest_cols) != 1:
        pytest.skip("no coded groups on this CPU (no AVX2 kernel): nothing fused")
    price = (np.random.default_rng(1).random(sc.m) * 2).astype(np.float32) if less else None
    e = np.zeros(0, np.int64)
    for a, b in ((0, 77), (77, 400)):
        want = sc.upper(a, b, less=price)
        s, rest = sc.upper_split(a, b, np.full((b - a, sc.m), np.nan, np.float32), less=price, fused=True)
        assert rest.lmul is not None
        np.testing.assert_array_equal(rest.apply(s.copy()), want)
        top = np.full(sc.m, -5e19, np.float32)
        ref = blockscan.numpy_scan(want.copy(), 9, None, e, e, 4, False, top)
        kernels = [None] if native is None else [None, native]
        for kernel in kernels:
            with pytest.MonkeyPatch.context() as mp:
                mp.setitem(_native._chosen, "scan", kernel)
                got = blockscan.scan(s.copy(), 9, None, e, e, 4, False, top, rest)
            for x, y in [*zip(ref[0], got[0]), *zip(ref[2], got[2])]:
                np.testing.assert_array_equal(x, y)
