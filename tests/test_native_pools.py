"""The compiled reads of the bounds checker's pools (:mod:`mentormatch._native.scan`'s
``pool_over``, ``pool_top``) against their numpy twins
(:mod:`mentormatch.solvers.bounded.poolcheck`): the same pairs in the same order and the same
floats, on pools with ``-inf``, ``inf``, NaN and dead values, several generations and
thresholds at exact ties; and the checker's answers (violators, certificate, ceilings) the same
with the kernel and with the numpy code in ``pair()`` on the features' bounds."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import _native, synthetic
from mentormatch.solvers.bounded import check, poolcheck

from _support import on_source

try:
    from mentormatch._native import scan as native
except ImportError:  # (test_native_scan fails under CI when the kernel was not built)
    native = None

needs_native = pytest.mark.skipif(native is None, reason="mentormatch._native.scan was not built")
BIG = 1.0e20


def _pool(rng, n: int, m: int, k: int, n_gens: int):
    """Pool values on a grid of eighths (exact sums: many ties), with ``-inf``, ``inf``, NaN and
    dead (``-BIG``) entries; generations' prices and ``p`` with ``-inf``, ``inf`` and NaN."""
    cols = np.stack([rng.choice(m, k, replace=False) for _ in range(n)]).astype(np.int64)
    vals = np.round(rng.standard_normal((n, k)) * 8) / 8
    for value, share in ((-np.inf, 0.05), (np.inf, 0.02), (np.nan, 0.03), (-BIG, 0.05)):
        vals[rng.random((n, k)) < share] = value
    gen = rng.integers(0, n_gens, n).astype(np.int64)

    def prices():
        q = np.round(rng.standard_normal(m) * 8) / 8
        for value, share in ((-np.inf, 0.05), (np.inf, 0.05), (np.nan, 0.05)):
            q[rng.random(m) < share] = value
        return q

    gens = [prices() for _ in range(n_gens)]
    u = np.round(rng.standard_normal(n) * 8) / 8
    u[rng.random(n) < 0.05] = np.inf
    err = np.round(rng.random(n) * 8) / 64
    return cols, vals, gen, gens, prices(), u, err


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_keeps_the_numpy_pool_pairs(seed):
    """``pool_over`` gives ``numpy_over``'s pairs, element for element, for every threshold that
    is some pair's exact upper value (a tie: not kept) and around it, on all rows and on a
    shuffled subset; the pairs are recomputed from the inputs one at a time."""
    rng = np.random.default_rng(seed)
    n, m, k = 60, 40, 7
    cols, vals, gen, gens, p, u, err = _pool(rng, n, m, k, 1 + seed)
    rows = np.arange(n)
    some = rng.permutation(n)[: n // 2]
    with np.errstate(invalid="ignore"):
        ub = vals + (np.vstack(gens) - p)[gen[:, None], cols] - u[:, None] + err[:, None]
    ties = np.unique(ub[np.isfinite(ub) & (vals > -BIG / 2)])  # (each some live pair's exact value)
    assert len(ties) > 10
    for threshold in [*rng.choice(ties, 6), -np.inf, np.inf]:
        for rs in (rows, some):
            want = poolcheck.numpy_over(rs, cols, vals, gen, gens, p, u, err, threshold, -BIG / 2)
            got = native.pool_over(rs, cols, vals, gen, gens, p, u, err, threshold, -BIG / 2)
            for x, y in zip(want, got):
                assert x.dtype == y.dtype == np.int64
                np.testing.assert_array_equal(x, y)
            with np.errstate(invalid="ignore"):
                brute = [(i, int(c)) for i in rs for e, c in enumerate(cols[i]) if vals[i, e] > -BIG / 2
                         and ((vals[i, e] + (gens[gen[i]][c] - p[c])) - u[i]) + err[i] > threshold]
            assert list(zip(got[0].tolist(), got[1].tolist())) == brute
        if np.isfinite(threshold):  # (the tie itself is not kept; just below it is)
            at = int(((ub == threshold) & (vals > -BIG / 2)).sum())
            kept = native.pool_over(rows, cols, vals, gen, gens, p, u, err, threshold, -BIG / 2)[0]
            below = native.pool_over(rows, cols, vals, gen, gens, p, u, err, np.nextafter(threshold, -np.inf),
                                     -BIG / 2)[0]
            assert at >= 1 and len(below) - len(kept) == at


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_gives_the_numpy_pool_tops(seed):
    """``pool_top`` gives ``numpy_top``'s floats (NaN where numpy's max gives NaN), and each
    row's value is its largest term recomputed one at a time."""
    rng = np.random.default_rng(seed)
    cols, vals, gen, gens, pf, _, _ = _pool(rng, 50, 30, 6, 2 + seed)
    pf = np.where(np.isfinite(pf), pf, np.nan)
    vals[0] = -BIG  # (a row without a live entry: -inf)
    vals[1, 0], gens[gen[1]][cols[1, 0]] = np.inf, np.inf  # (inf + -inf: NaN, as numpy's max gives)
    want = poolcheck.numpy_top(cols, vals, gen, gens, pf, -BIG / 2)
    got = native.pool_top(cols, vals, gen, gens, pf, -BIG / 2)
    np.testing.assert_array_equal(want, got)
    assert np.isnan(got).any() and np.isneginf(got[0])
    for i in range(len(cols)):
        terms = []
        for e, c in enumerate(cols[i]):
            q, f = gens[gen[i]][c], pf[c]
            with np.errstate(invalid="ignore"):
                d = q - f if np.isfinite(q) and np.isfinite(f) else -np.inf
                terms.append(vals[i, e] + d if vals[i, e] > -BIG / 2 else -np.inf)
        top = np.nan if np.isnan(terms).any() else max(terms)
        np.testing.assert_array_equal(got[i], top)


@needs_native
def test_the_kernel_refuses_a_pool_that_does_not_fit():
    rng = np.random.default_rng(0)
    cols, vals, gen, gens, p, u, err = _pool(rng, 5, 8, 3, 2)
    bad = cols.copy()
    bad[2, 1] = 8
    with pytest.raises(ValueError, match="row 2's pool column 8"):
        native.pool_over(np.arange(5), bad, vals, gen, gens, p, u, err, 0.0, -BIG / 2)
    with pytest.raises(ValueError, match="generation"):
        native.pool_top(cols, vals, gen + 2, gens, p, -BIG / 2)
    with pytest.raises(ValueError, match="generation 1 has 7 prices"):
        native.pool_top(cols, vals, gen, [gens[0], gens[1][:7]], p, -BIG / 2)


@needs_native
@pytest.mark.parametrize("seed", [2])
def test_the_checker_answers_the_same_with_the_pool_kernel_or_numpy(monkeypatch, seed):
    """``pair()`` on the features' bounds (capacities above one, so several checks and pool
    generations): the same pairs, objective, bound and check counts with the pool kernel and
    with the numpy code; at each check the pools' ceilings are the same floats either way."""
    import mentormatch as mm

    mentors, mentees = synthetic.organisation(n_mentees=1_200, n_mentors=500, seed=seed)
    mentors["capacity"] = 3
    calls = []

    class Counted:  # the kernel, counting its pool reads (so that the comparison is not of one path)
        scan_block = staticmethod(native.scan_block)

        @staticmethod
        def pool_over(*a):
            calls.append("over")
            return native.pool_over(*a)

        @staticmethod
        def pool_top(*a):
            calls.append("top")
            return native.pool_top(*a)

    ceilings = []
    orig = check._Certifier.check

    def checked(self, u, p, *rest):
        both = []
        for kernel in (Counted, None):
            monkeypatch.setitem(_native._chosen, "scan", kernel)
            both.append(self.ceiling(u, p))
        monkeypatch.setitem(_native._chosen, "scan", mode[0])
        np.testing.assert_array_equal(both[0], both[1])
        ceilings.append(len(both[0]))
        return orig(self, u, p, *rest)

    monkeypatch.setattr(check._Certifier, "check", checked)
    results, mode = [], [None]
    for kernel in (Counted, None):
        mode[0] = kernel
        monkeypatch.setitem(_native._chosen, "scan", kernel)
        with on_source("bounds"):
            results.append(mm.pair(mentors, mentees))
    a, b = results
    assert calls.count("over") >= 2 and ceilings
    assert a.certificate["method"] == "sparse_min_cost_flow+dual_check_on_bounds"
    assert a.status == b.status == "optimal"
    pairs = lambda r: sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))  # noqa: E731
    assert pairs(a) == pairs(b)
    assert a.objective == b.objective and a.bound == b.bound
    for key in ("pairs_scored_exactly", "rows_scanned_again", "pairs_rechecked_by_mentor"):
        assert a.certificate.get(key) == b.certificate.get(key), key


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_gives_the_numpy_largest_sizes(seed):
    """``abs_max`` per row and per column gives numpy's ``where(finite & > low, |x|, 0).max``
    (``-0.0``, ``-inf``, ``inf``, NaN and dead values included; a row with none: 0), and the
    pools' float32 error (:meth:`check._Certifier._pool_err`) is the same floats with the kernel
    and with numpy."""
    rng = np.random.default_rng(seed)
    _, vals, _, _, _, _, _ = _pool(rng, 30, 20, 9, 1)
    vals[0] = -BIG
    vals[1, :3] = -0.0
    for axis in (1, 0):
        want = np.where(np.isfinite(vals) & (vals > -BIG / 2), np.abs(vals), 0.0).max(axis=axis, initial=0.0)
        np.testing.assert_array_equal(native.abs_max(vals, -BIG / 2, axis == 1), want)
        np.testing.assert_array_equal(poolcheck.largest(vals, -BIG / 2, axis), want)
    floor = np.where(rng.random(30) < 0.2, -BIG, rng.standard_normal(30)).astype(np.float32)
    gfl = np.where(rng.random((4, 30)) < 0.2, -np.inf, rng.standard_normal((4, 30)))

    class Scorer:
        largest = 6.5

    cert = check._Certifier.__new__(check._Certifier)
    cert.scorer = Scorer()
    errs = []
    for kernel in (native, None):
        _native._chosen["scan"] = kernel
        try:
            errs.append(cert._pool_err(vals, floor, gfl))
        finally:
            _native._chosen.pop("scan", None)
    np.testing.assert_array_equal(errs[0], errs[1])


@needs_native
@pytest.mark.parametrize("seed", range(6))
def test_the_sorted_lookup_is_a_binary_search(seed):
    """``lookup_sorted`` of keys in ascending runs (repeats, keys below, between and above the
    values, runs far apart: its gallop), in one run, two, or shuffled, gives ``np.searchsorted``'s
    places and the keys found, as :func:`rank._lookup` does with the kernel or without."""
    from mentormatch.solvers.bounded import rank

    rng = np.random.default_rng(seed)
    values = np.unique(rng.integers(-50, 10 ** (1 + seed), int(rng.integers(0, 400))))
    x = np.sort(np.concatenate([rng.choice(values, 30) if len(values) else np.zeros(0, np.int64),
                                rng.integers(-60, 10 ** (1 + seed) + 10, int(rng.integers(0, 300)))]))
    half = len(x) // 2
    for keys in (x, np.concatenate([x[half:], x[:half]]), rng.permutation(x), x[:1], x[:0]):
        got = native.lookup_sorted(values, keys)
        assert got[0].dtype == np.int64 and got[1].dtype == bool
        np.testing.assert_array_equal(got[0], np.searchsorted(values, keys))
        np.testing.assert_array_equal(got[1], np.isin(keys, values))
        for kernel in (native, None):
            _native._chosen["scan"] = kernel
            try:
                for a, b in zip(rank._lookup(values, keys), got):
                    np.testing.assert_array_equal(a, b)
            finally:
                _native._chosen.pop("scan", None)
