"""The mentees' lookups of the coded groups (:func:`mentormatch.scale_codes.code_factors`): where
every pattern holds 0 and 1 they are sums of columns, and must be the float32 values the
block-diagonal float64 product gives, bit for bit (the bounds, so the pairs, rest on them)."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import scale_codes


def _product_lookup(left: np.ndarray, groups) -> np.ndarray:
    """The lookups as the block-diagonal float64 product computes them, rounded once."""
    coded = np.concatenate([cols for cols, _, _ in groups])
    patterns = np.zeros((len(coded), len(groups) * scale_codes.CODES))
    at = 0
    for g, (cols, _, pat) in enumerate(groups):
        patterns[at:at + len(cols), g * scale_codes.CODES:g * scale_codes.CODES + len(pat)] = pat.T
        at += len(cols)
    out = (left[:, coded].astype(np.float64) @ patterns).astype(np.float32)
    return out.reshape(len(left), len(groups), scale_codes.CODES)


def _right(rng, m: int) -> np.ndarray:
    """Mentors' factors: one-hot bins (8 columns), thresholds on a level (4 columns, a pattern
    of zeros included), a free column, another one-hot run (3 columns)."""
    bins = np.eye(8)[rng.integers(0, 8, m)]
    level = rng.integers(0, 6, m)
    steps = (level[:, None] >= np.array([1, 2, 3, 5])[None, :]).astype(np.float64)
    free = rng.normal(size=(m, 1))
    small = np.eye(3)[rng.integers(0, 3, m)]
    return np.hstack([bins, steps, free, small])


@pytest.mark.parametrize("seed", range(4))
def test_zero_one_patterns_give_the_products_lookups_bit_for_bit(monkeypatch, seed):
    monkeypatch.setattr(scale_codes, "codes_fast", lambda: True)
    rng = np.random.default_rng(seed)
    n, m = 3000, 400
    right = _right(rng, m)
    # float32 factors of mixed signs and sizes, so that float64 sums round differently by order
    left = (rng.normal(size=(n, right.shape[1])) * 10.0 ** rng.integers(-3, 4, (n, right.shape[1]))).astype(np.float32)
    left[rng.random(left.shape) < 0.1] = 0.0
    got = scale_codes.code_factors(left, right)
    groups = scale_codes.coded_groups(right.astype(np.float32))
    assert [len(cols) for cols, _, _ in groups] == [8, 4, 3]
    assert all(np.isin(pat, (0.0, 1.0)).all() for _, _, pat in groups)
    np.testing.assert_array_equal(got.lookup.view(np.uint32), _product_lookup(left, groups).view(np.uint32))
    assert got.rest_cols.tolist() == [12]
    np.testing.assert_array_equal(got.left_rest, left[:, [12]])
    np.testing.assert_array_equal(got.codes, np.stack([codes for _, codes, _ in groups]))
    # each mentor's coded value is its row of the run: lookup[i, g, code_j] = left[i, cols] @ right[j, cols]
    i, j = rng.integers(0, n, 50), rng.integers(0, m, 50)
    for g, (cols, codes, _) in enumerate(groups):
        want = np.einsum("kc,kc->k", left[i][:, cols].astype(np.float64), right[j][:, cols])
        np.testing.assert_allclose(got.lookup[i, g, codes[j]], want, rtol=1e-6, atol=1e-6)


def test_other_patterns_keep_the_product(monkeypatch):
    monkeypatch.setattr(scale_codes, "codes_fast", lambda: True)
    rng = np.random.default_rng(7)
    n, m = 500, 200
    right = np.eye(4)[rng.integers(0, 4, m)] * np.array([0.5, 2.0, 1.0, 3.0])
    left = rng.normal(size=(n, 4)).astype(np.float32)
    got = scale_codes.code_factors(left, right)
    groups = scale_codes.coded_groups(right.astype(np.float32))
    assert len(groups) == 1 and not np.isin(groups[0][2], (0.0, 1.0)).all()
    np.testing.assert_array_equal(got.lookup, _product_lookup(left, groups))


def test_coded_groups_number_patterns_as_numpy_unique_does():
    """A run's codes number its patterns in the order of np.unique's codes of each column
    (NaN last, -0.0 one with 0.0): the lookups' layout, so the scan's arrays, stay as they were."""
    rng = np.random.default_rng(3)
    m = 300
    right = np.column_stack([np.array([0.0, -0.0, 1.0], np.float32)[rng.integers(0, 3, m)],
                             np.array([np.nan, 0.5], np.float32)[rng.integers(0, 2, m)],
                             np.array([-np.inf, np.inf], np.float32)[rng.integers(0, 2, m)],
                             rng.normal(size=m)]).astype(np.float32)
    groups = scale_codes.coded_groups(right)
    assert [cols.tolist() for cols, _, _ in groups] == [[0, 1, 2]]
    cols, codes, patterns = groups[0]
    each = [np.unique(right[:, c], return_inverse=True)[1].reshape(-1) for c in cols]
    lex = (each[0] * 2 + each[1]) * 2 + each[2]
    np.testing.assert_array_equal(codes, np.unique(lex, return_inverse=True)[1].reshape(-1))
    np.testing.assert_array_equal(patterns[codes], right[:, cols])
