"""On a Dask executor the scale path's bound passes send each view's rows once
(:class:`mentormatch.solvers.bounded.remote.SentOnce`): a task of a pass carries a future of its
rows, the prices and its rows' limits, never its rows' bound matrices, so Dask sends no "large
graph"; the pairs are the same as on this process's threads. On a real LocalCluster with
worker processes."""
from __future__ import annotations

import pickle
import warnings

import pytest

import mentormatch as mm
import mentormatch.solvers.bounded as bounded
from mentormatch import pipeline as pl
from mentormatch.solvers.bounded import market, passes, remote

from _support import Recording, assert_same_result, local_cluster, many_tasks

#: Dask's "large graph" threshold in these tests: above what a task carries now, below what a
#: task of the same pass carried before (its rows' bound matrices; checked below).
THRESHOLD = 24_000


def _setup(monkeypatch):
    """The scale path at 400 x 60, a pass in tasks of 8 blocks of about 33 rows, with a
    sub-market (a view of every third row) and small pools (rows scanned in full, re-checks)."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    many_tasks(monkeypatch, block_elements=2000, blocks_per_task=8, pairs_per_task=None)
    monkeypatch.setattr(passes, "BLOCK_FACTOR", 1)  # blocks of about 33 rows (see above)
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(bounded, "POOL_PER_ROW", 4)
    monkeypatch.setattr(remote, "INLINE_BYTES", THRESHOLD // 4)  # a pass of one task: scattered above
    mentors, mentees = mm.synthetic.organisation(n_mentees=400, n_mentors=60, seed=9)
    return mentors.assign(capacity=6), mentees


def test_a_pass_on_a_local_cluster_sends_its_rows_once_without_a_large_graph(monkeypatch):
    pytest.importorskip("distributed")
    import dask

    mentors, mentees = _setup(monkeypatch)
    here = pl.pair(mentors, mentees)
    assert here.status == "optimal" and here.certificate["first_prices"] is not None
    # what a task of the first pass carried before: its rows' bounds, above the threshold
    scorer = pl.prepare(mentors, mentees).scorer
    rows = passes._pass_blocks(scorer.n, scorer.m)[remote.BLOCKS_PER_TASK - 1][1]
    assert len(pickle.dumps(scorer.bounds_rows(0, rows))) > 2 * THRESHOLD
    with local_cluster() as client, \
            dask.config.set({"distributed.admin.large-graph-warning-threshold": THRESHOLD}):
        executor = Recording(client.get_executor(), sizes=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            there = pl.pair(mentors, mentees, executor=executor)
    assert not [w for w in caught if "large graph" in str(w.message)]
    assert_same_result(here, there)
    scans = [(c.kinds, c.size) for c in executor.calls if c.name == "scan_task"]
    assert len(scans) > 4
    # the passes of several tasks (and the large ones of one) sent their rows beforehand: their
    # tasks carry futures of them; the others carry their few rows
    assert sum(kinds[0] == "Future" for kinds, _ in scans) >= 4
    assert max(size for _, size in scans) < THRESHOLD


def test_sent_once_is_only_for_dask_and_keeps_the_view():
    from concurrent.futures import ThreadPoolExecutor

    view = object()
    assert remote.sent_once(view) is view  # no executor
    with ThreadPoolExecutor(1) as pool, remote.executing(pool):
        assert remote.sent_once(view) is view  # not Dask: tasks carry their rows
