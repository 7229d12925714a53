"""A bound pass's fixed costs (:mod:`mentormatch.solvers.bounded.workspace`): one threadpoolctl
controller per process (not one a pass), and block buffers kept from the passes before. Each
test pins what a pass reads against a recomputation from the bounds, so that a buffer left
dirty by an earlier pass, or a BLAS limit not in force, would show."""
from __future__ import annotations

import numpy as np
import pytest
import threadpoolctl

from mentormatch import synthetic
from mentormatch.solvers import sparse
from mentormatch.solvers.bounded import passes, workspace

from _support import exact_round as _exact_round, scorer_of as _bounded


@pytest.fixture
def small_blocks(monkeypatch):
    """Passes of many blocks of a few rows (so that both threads take blocks and buffers)."""
    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 60)
    monkeypatch.setattr(passes, "MIN_BLOCK_ROWS", 4)


def _scorer(seed: int):
    mentors, mentees = synthetic.organisation(n_mentees=70, n_mentors=25, seed=seed)
    mentors["capacity"] = 3
    prep, _, _ = _exact_round(mentors, mentees, None)
    return _bounded(prep, None)


def _pass(scorer, price, u):
    e = np.zeros(0, np.int64)
    return passes._scan(scorer, np.arange(scorer.n), None, price, excl_i=e, excl_j=e, pool_size=6, u=u,
                        threshold=0.0, mentor_k=3)


def _expected(scorer, price, u, k: int = 6):
    """Each row's ``k`` largest ``bound - price`` and the suspects ``> u``, from one product."""
    s = scorer.upper(0, scorer.n, less=price.astype(np.float32))
    top = -np.sort(-s, axis=1)[:, :k]
    rr, cc = np.nonzero(s > u.astype(np.float32)[:, None])
    return top, set(zip(rr.tolist(), cc.tolist()))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_pass_on_dirty_kept_buffers_reads_what_the_bounds_say(small_blocks, monkeypatch, seed):
    """Buffers kept from earlier passes (here filled with NaN and 1e30) are taken by the next
    pass's threads; its pools, floors, suspects and each mentor's best rows are those of a pass
    on fresh buffers and match the bounds recomputed in one product."""
    scorer = _scorer(seed)
    rng = np.random.default_rng(seed)
    price = rng.uniform(0.0, 2.0, scorer.m)
    u = rng.uniform(0.5, 3.0, scorer.n)
    monkeypatch.setattr(workspace, "_BUFFERS", [])
    fresh = _pass(scorer, price, u)
    assert 1 <= len(workspace._BUFFERS) <= workspace.KEEP_BUFFERS  # (given back at the pass's end)
    dirty = [np.full(4096, np.nan, np.float32), np.full(4096, 1e30, np.float32)]
    monkeypatch.setattr(workspace, "_BUFFERS", list(dirty))
    again = _pass(scorer, price, u)
    assert any(b is d for b in workspace._BUFFERS for d in dirty)  # the pass took and gave them back
    for a, b in zip(fresh.pool, again.pool):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fresh.i, again.i)
    np.testing.assert_array_equal(fresh.j, again.j)
    for a, b in zip(fresh.mentor_best, again.mentor_best):
        np.testing.assert_array_equal(a, b)
    top, suspects = _expected(scorer, price, u)
    np.testing.assert_array_equal(np.sort(again.pool[1], axis=1)[:, ::-1], top)
    np.testing.assert_array_equal(again.pool[2], top[:, -1])
    assert set(zip(again.i.tolist(), again.j.tolist())) == suspects


def test_passes_build_one_blas_controller_and_hold_blas_to_one_thread(small_blocks, monkeypatch):
    """Three passes build one ``ThreadpoolController`` between them (``threadpool_limits`` built
    one each); BLAS runs on one thread inside a pass's blocks and gets its own setting back after."""
    built = []

    class Counted(threadpoolctl.ThreadpoolController):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counted)
    monkeypatch.setattr(workspace, "_BLAS", [])
    before = [x["num_threads"] for x in threadpoolctl.threadpool_info() if x["user_api"] == "blas"]
    built.clear()
    seen = []
    scan_block = passes._scan_block

    def spy(*args):
        seen.extend(x.num_threads for x in workspace.blas_controller().select(user_api="blas").lib_controllers)
        return scan_block(*args)

    monkeypatch.setattr(passes, "_scan_block", spy)
    scorer = _scorer(3)
    price = np.zeros(scorer.m)
    u = np.full(scorer.n, 1.0)
    results = [_pass(scorer, price, u) for _ in range(3)]
    assert len(built) == 1
    assert seen and set(seen) == {1}
    after = [x["num_threads"] for x in threadpoolctl.threadpool_info() if x["user_api"] == "blas"]
    assert after == before
    top, _ = _expected(scorer, price, u)
    for r in results:
        np.testing.assert_array_equal(np.sort(r.pool[1], axis=1)[:, ::-1], top)
