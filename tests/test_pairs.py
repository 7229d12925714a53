"""The id <-> index encoder."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch.pairs import DenseRows, Encoder, order_of_runs


def test_encoder_index_is_built_once_and_maps_ids_to_rows():
    enc = Encoder.from_ids(["b", "a", "c"])
    assert enc.index is enc.index  # cached: a lookup does not rebuild the dict
    assert enc.index == {"b": 0, "a": 1, "c": 2}
    assert enc.encode(["c", "b"]).tolist() == [2, 0]
    assert enc.decode(np.array([1, 2])).tolist() == ["a", "c"]


# DenseRows: the forbidden cells as sorted row-major positions, scanned in the mask's own
# memory order a chunk of rows at a time
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("n, m", [(3, 4), (40, 1), (1, 40), (97, 61), (120_001, 23), (23, 90_001)])
def test_dense_rows_keep_the_forbidden_cells_in_row_major_order(layout, n, m):
    # the two large shapes span several chunks of ~a million cells in each memory order
    rng = np.random.default_rng(n * 7 + m)
    f = rng.random((n, m)) < 0.01
    f[rng.integers(0, n), rng.integers(0, m)] = True
    if layout == "F":
        f = np.asfortranarray(f)
    elif layout == "strided":
        f = np.asfortranarray(np.hstack([f, f]))[:, ::2]
    rows = DenseRows(np.zeros((n, m)), f)
    if f.sum() > f.size * DenseRows.SPARSE_SHARE:  # (a tiny mask with its one forced cell)
        assert rows.mask is not None and rows.keys is None
    else:
        np.testing.assert_array_equal(rows.keys, np.flatnonzero(np.ascontiguousarray(f)))
    np.testing.assert_array_equal(rows.n_forbidden, f.sum(axis=1))
    assert rows.n_forbidden.dtype == np.int64


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.floats(0, 1), st.booleans(), st.integers(0, 2**32 - 1))
def test_dense_rows_forbidden_cells_as_keys_or_mask(n, m, share, fortran, seed):
    f = np.random.default_rng(seed).random((n, m)) < share
    f = np.asfortranarray(f) if fortran else f
    rows = DenseRows(np.ones((n, m)), f)
    np.testing.assert_array_equal(rows.n_forbidden, f.sum(axis=1))
    if rows.mask is None:
        np.testing.assert_array_equal(rows.keys, np.flatnonzero(np.ascontiguousarray(f)))
    np.testing.assert_array_equal(rows(slice(0, n)), np.where(f, -np.inf, 1.0))


@pytest.mark.parametrize("seed", range(4))
def test_candidates_from_a_mask_are_numpys_nonzero_in_any_layout(seed):
    """``Candidates.from_mask`` (row-major positions and row counts, no division) lists the
    pairs of ``np.nonzero``: sorted by mentee then mentor, int64, in every memory layout,
    empty rows, columns and masks included."""
    from mentormatch.pairs import Candidates

    rng = np.random.default_rng(seed)
    for _ in range(200):
        n, m = (int(x) for x in rng.integers(0, 12, 2))
        mask = rng.random((n, m)) < rng.random()
        if rng.random() < 0.4:
            mask = np.asfortranarray(mask)
        if rng.random() < 0.3:
            mask = mask[::-1]  # neither C- nor F-ordered rows
        c = Candidates.from_mask(mask)
        i, j = np.nonzero(mask)
        assert c.mentee.dtype == c.mentor.dtype == np.dtype(np.int64)
        assert c.mentee.tolist() == i.tolist() and c.mentor.tolist() == j.tolist()
        assert (c.n_mentees, c.n_mentors) == (n, m)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), max_size=12, unique=True), max_size=8), st.booleans(),
       st.booleans(), st.booleans())
def test_order_of_runs_sorts_runs_as_a_stable_argsort_or_declines(runs, ascending, repeat, grouped):
    """``order_of_runs``: on keys made of runs (each ascending or not; distinct keys, or a key
    repeated across runs; with or without the runs' ids as groups), either None or exactly the
    stable argsort; never None for ascending runs of distinct keys whose ranges do not overlap,
    given as groups (how a bound pass yields the pairs of rows, each row's mentors ascending)."""
    parts = [sorted(r) if ascending else r for r in runs]
    if not repeat:  # distinct keys: each run shifted into its own range, the runs shuffled
        parts = [[100 * k + x for x in p] for k, p in enumerate(parts)]
        parts = parts[1::2] + parts[0::2]
    key = np.array([x for p in parts for x in p], np.int64)
    group = np.repeat(np.arange(len(parts)), [len(p) for p in parts]) if grouped else None
    got = order_of_runs(key, group)
    if got is not None:
        assert got.tolist() == np.argsort(key, kind="stable").tolist()
    if ascending and not repeat and grouped and len(key) >= 2 * sum(1 for p in parts if p):
        assert got is not None
