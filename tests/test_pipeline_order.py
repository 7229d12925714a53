"""The seeded tie order (``pipeline.order.seeded_order``) and the reorder of a result into the
caller's rows (``pipeline.wrap._pairs_in_caller_order``, ``_unmatched_in_caller_order``), each against the plain formula it shortcuts:
the hash then the id by one lexsort, and a lexsort of the pairs' rows with a dict for the
unmatched."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from mentormatch.pairs import Candidates
from mentormatch.pipeline.order import seeded_order, seeded_ranks
from mentormatch.pipeline.wrap import _pairs_in_caller_order, _unmatched_in_caller_order


def _plain_order(ids, seed):
    values = np.asarray([str(x) for x in ids], dtype=object)
    key = f"{int(seed) % (1 << 64):016x}"[-16:]
    hashed = pd.util.hash_array(values, hash_key=key, categorize=False)
    return np.lexsort((values.astype(str), hashed)) if len(values) else np.zeros(0, np.int64)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=4), st.integers(-5, 5)), max_size=30),
       st.integers(-(1 << 70), 1 << 70))
def test_seeded_order_is_the_hash_then_the_id(ids, seed):
    # repeated ids collide in the hash: then the ids (equal here) and the row decide, as before
    got = seeded_order(ids, seed)
    assert got.tolist() == _plain_order(ids, seed).tolist()
    assert sorted(got.tolist()) == list(range(len(ids)))


def test_seeded_order_on_colliding_hashes_falls_back_to_the_ids(monkeypatch):
    # force every hash equal (compiled or pandas'): the order is then the ids' own order, never
    # the rows'
    from mentormatch.pipeline import order

    monkeypatch.setattr(order, "_hashes", lambda values, key: np.zeros(len(values), np.uint64))
    ids = ["c", "a", "b", "a2"]
    assert [ids[k] for k in seeded_order(ids, 3)] == ["a", "a2", "b", "c"]


@st.composite
def wrapped(draw):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 5))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    cand = Candidates.from_mask(mask)
    chosen = np.flatnonzero(np.array(draw(st.lists(st.booleans(), min_size=len(cand),
                                                   max_size=len(cand))), dtype=bool))
    chosen = np.array(draw(st.permutations(chosen.tolist())), dtype=np.int64)
    identity = draw(st.booleans())
    rows_i = np.arange(n) if identity else np.array(draw(st.permutations(range(n))))
    rows_j = np.arange(m) if identity else np.array(draw(st.permutations(range(m))))
    return cand, chosen, rows_i, rows_j


@settings(max_examples=150, deadline=None)
@given(wrapped())
def test_caller_order_is_the_rows_order(case):
    cand, chosen, rows_i, rows_j = case
    ids = np.array([f"e{k}" for k in range(cand.n_mentees)], dtype=object)
    pair_df = pd.DataFrame({"mentee_id": ids[cand.mentee[chosen]], "k": chosen})
    contrib = pd.DataFrame({"c": chosen * 2.0})
    matched = np.zeros(cand.n_mentees, bool)
    matched[cand.mentee[chosen]] = True
    unmatched_idx = np.flatnonzero(~matched)
    unmatched = pd.DataFrame({"mentee_id": ids[unmatched_idx], "reason": "r"})
    got = (*_pairs_in_caller_order((rows_i, rows_j), cand, chosen, pair_df, contrib),
           _unmatched_in_caller_order((rows_i, rows_j), unmatched, unmatched_idx))
    # the plain formula: lexsort of the pairs' rows, a dict from id to row for the unmatched
    back = np.lexsort((rows_j[cand.mentor[chosen]], rows_i[cand.mentee[chosen]]))
    want_pairs = pair_df.iloc[back].reset_index(drop=True)
    want_contrib = contrib.iloc[back].reset_index(drop=True)
    row_of = dict(zip(ids.tolist(), rows_i.tolist()))
    want_un = unmatched.iloc[np.argsort([row_of[x] for x in unmatched["mentee_id"]],
                                        kind="stable")].reset_index(drop=True)
    pd.testing.assert_frame_equal(got[0], want_pairs)
    pd.testing.assert_frame_equal(got[1], want_contrib)
    pd.testing.assert_frame_equal(got[2], want_un)


def test_the_compiled_hash_is_pandas_hash_array_on_any_text():
    """The seeded order's compiled hash (``_native.assign.text_hashes``) gives pandas'
    ``hash_array`` numbers on ids of every length and script (the order follows them), and
    ids it cannot take (not str, not UTF-8-encodable) go to pandas."""
    import pandas as pd
    import pytest

    from mentormatch.pipeline import order

    from _kernels import native_kernel

    kernel = native_kernel("assign")  # (under CI it must be built)
    if kernel is None:
        pytest.skip("the compiled kernels are not built")
    rng = np.random.default_rng(3)
    alphabet = list("abcXYZ019_-. ") + ["é", "ß", "中", "😀", "\u0301"]
    for trial in range(200):
        ids = np.array(["".join(rng.choice(alphabet, size=int(rng.integers(0, 40))))
                        for _ in range(int(rng.integers(0, 50)))], dtype=object)
        key = f"{int(rng.integers(0, 2**63)):016x}"
        assert (kernel.text_hashes(ids, key.encode())
                == pd.util.hash_array(ids, hash_key=key, categorize=False)).all(), trial
    mixed = np.array(["a", 1, None], dtype=object)
    assert (order._hashes(mixed, "0" * 16)
            == pd.util.hash_array(mixed, hash_key="0" * 16, categorize=False)).all()


@pytest.mark.parametrize("seed", [0, 1, 7, 2**64 + 3, -5])
def test_seeded_ranks_are_the_seeded_order_and_its_inverse(seed):
    """``seeded_ranks`` (compiled ``hash_ranks`` where built) gives ``seeded_order``'s order
    and each id's position in it, on ids of any length, ASCII or not."""
    rng = np.random.default_rng(abs(seed) % 1000)
    pool = ["e1", "E1", "Zoë", "", "x" * 40, "混合", "m7"] + [f"id{k}" for k in range(300)]
    for n in (0, 1, 2, 5, 200):
        ids = np.array(list(rng.choice(pool, size=n, replace=False)), dtype=object)
        order, rank = seeded_ranks(ids, seed)
        want = seeded_order(ids, seed, texts=True)
        assert order.tolist() == want.tolist()
        assert rank.dtype == np.int64 and (order[rank] == np.arange(n)).all()


def test_hash_ranks_gives_way_to_the_ids_on_equal_hashes():
    from mentormatch._native import assign_kernel

    kernel = assign_kernel()
    if kernel is None or not hasattr(kernel, "hash_ranks"):
        pytest.skip("mentormatch._native.assign was not built")
    h = np.array([5, 3, 9, 3], np.uint64)
    assert kernel.hash_ranks(h) is None
    order, rank = kernel.hash_ranks(np.array([5, 3, 9, 4], np.uint64))
    assert order.tolist() == [1, 3, 0, 2] and rank.tolist() == [2, 0, 3, 1]


def test_hash_ranks_sorts_as_argsort():
    """Spread hashes (the counting sort's case), hashes sharing their top bits (numpy's
    argsort then), and repeats (None), at sizes around the buckets' powers of two."""
    from mentormatch._native import assign_kernel

    kernel = assign_kernel()
    if kernel is None or not hasattr(kernel, "hash_ranks"):
        pytest.skip("mentormatch._native.assign was not built")
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 3, 63, 64, 65, 200, 1000):
        for high in (2**64, 2**20, 2**8):  # small hashes: one bucket (of more than 64 ids)
            h = rng.integers(0, high, n, dtype=np.uint64)
            found = kernel.hash_ranks(h)
            if len(np.unique(h)) < n:
                assert found is None
                continue
            order, rank = found
            assert order.tolist() == np.argsort(h, kind="stable").tolist()
            assert (rank[order] == np.arange(n)).all()
