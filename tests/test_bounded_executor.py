"""The scale path's block passes on an executor (:mod:`mentormatch.solvers.bounded.remote`):
worker processes (a process pool that pickles everything, and a real Dask LocalCluster) give
the same pairs, objective and certificate as this process's threads, on instances small
enough to be cut into many blocks and tasks, with sub-markets, small pools (guards, rows
scanned in full, mentor re-checks) and locks; what is sent carries no bound matrix of all
rows and no score matrix."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import market, passes, remote, solve_bounded

from _support import (Recording, assert_same_result, exact_round, local_cluster, many_tasks,
                      scorer_of)


def _org(seed: int, n: int, m: int):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    return mentors, mentees


def _prepared(mentors, mentees, programme=None):
    prep, _, scores = exact_round(mentors, mentees, programme)
    return prep, scores, scorer_of(prep, programme)


CASES = {
    # (seed, n, m, capacity, pool per row, top_k, sub-market, locks)
    "plain": (1, 150, 35, None, 64, None, False, False),
    "small_pools": (2, 160, 40, 4, 2, 1, False, False),
    "sub_market": (16, 160, 40, 4, 64, None, True, False),
    "sub_market_small_pools_locks": (5, 160, 40, 5, 3, 2, True, True),
}


def _run(case, monkeypatch, executor):
    import mentormatch.solvers.bounded as bounded

    seed, n, m, capacity, pool, top_k, sub_market, locks = CASES[case]
    monkeypatch.setattr(bounded, "POOL_PER_ROW", pool)
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0 if sub_market else 10 ** 18)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    mentors, mentees = _org(seed, n, m)
    if capacity is not None:
        mentors["capacity"] = capacity
    prep, scores, scorer = _prepared(mentors, mentees)
    locked = None
    if locks:
        i, j = np.argwhere(np.isfinite(scores))[[0, 300, 2000]].T
        locked = (i, j)
    problem, solution = solve_bounded(scorer, prep.data["mentors"]["capacity"].to_numpy(float),
                                      locked=locked, options=SolverOptions(top_k=top_k), executor=executor)
    assert solution.status == "optimal" and solution.certificate["holds"]
    chosen = problem.pairs.subset(np.isin(np.arange(len(problem.pairs)), solution.chosen))
    # the objective recomputed from the exact path's scores; capacities kept
    assert scores[chosen.mentee, chosen.mentor].sum() == pytest.approx(solution.objective, rel=1e-12)
    cap = prep.data["mentors"]["capacity"].to_numpy()
    assert (np.bincount(chosen.mentor, minlength=len(cap)) <= cap).all()
    cert = {k: v for k, v in solution.certificate.items() if k not in ("seconds", "work")}
    if isinstance(cert.get("first_prices"), dict):
        cert["first_prices"] = _untimed(cert["first_prices"])
    return (chosen.mentee.tolist(), chosen.mentor.tolist(), problem.pairs.mentee.tolist(),
            problem.pairs.mentor.tolist(), problem.score.tolist(), solution.objective, solution.bound, cert)


def _untimed(info):
    """A sub-market's info without its times (nor where it ran), at every level."""
    if not isinstance(info, dict):
        return info
    return {k: _untimed(v) for k, v in info.items() if k not in ("seconds", "work", "beside_first_pass")}


@pytest.mark.parametrize("case", list(CASES))
def test_a_process_pool_gives_the_sequential_result(monkeypatch, process_pool, case):
    many_tasks(monkeypatch)
    here = _run(case, monkeypatch, None)
    counting = Recording(process_pool)
    there = _run(case, monkeypatch, counting)
    assert there == here
    # the bound passes and the exact scores both went to the executor
    assert {"scan_task", "exact_task"} <= counting.names


def test_with_an_executor_the_sub_market_runs_on_a_thread_beside_the_pass(monkeypatch, process_pool):
    """No fork while an executor is in use: the sub-market runs on a thread beside the first
    pass's tasks, and the result is the sequential one."""
    from mentormatch.solvers.bounded import child

    many_tasks(monkeypatch)
    made = []
    real = child.InThread

    def spy(*args):
        made.append(args[0].__name__)
        return real(*args)

    monkeypatch.setattr(market, "InThread", spy)
    monkeypatch.setattr(child, "can_fork", lambda: True)  # (the sequential run forks)
    here = _run("sub_market", monkeypatch, None)
    assert not made
    assert _run("sub_market", monkeypatch, process_pool) == here
    assert made and set(made) == {"_guide_on"}  # each sub-market beside a pass: a thread


def test_a_thread_pool_gives_the_sequential_result_without_pickling(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    many_tasks(monkeypatch)
    here = _run("sub_market_small_pools_locks", monkeypatch, None)
    with ThreadPoolExecutor(3) as pool:
        counting = Recording(pool)
        assert _run("sub_market_small_pools_locks", monkeypatch, counting) == here
    assert {"scan_task", "exact_task"} <= counting.names
    assert all(kind != "Future" for c in counting.calls for kind in c.kinds)


def test_a_dask_local_cluster_gives_the_sequential_result(monkeypatch):
    pytest.importorskip("distributed")
    many_tasks(monkeypatch)
    here = {case: _run(case, monkeypatch, None) for case in ("small_pools", "sub_market_small_pools_locks")}
    with local_cluster() as client:
        executor = Recording(client.get_executor())
        for case, want in here.items():
            assert _run(case, monkeypatch, executor) == want, case
        # the sub-market beside the first pass ran as one task on a worker, with this process's
        # settings (the monkeypatched pools and blocks: else its result would differ)
        assert {"scan_task", "exact_task", "_guide_task"} <= executor.names
        # the mentors' factors and the lookup tables went to the workers once (scattered), and
        # the sub-market's scorer ahead of its task: every task carries futures of them
        assert all("Future" in c.kinds for c in executor.calls)


@pytest.mark.parametrize("given", ["module_default", "argument"])
def test_pair_on_an_executor_gives_the_same_pairs(monkeypatch, process_pool, given):
    """The block passes of ``pair()`` at scale run on ``remote.EXECUTOR`` (the module default)
    or on ``mm.pair(..., executor=)``, with the same pairs."""
    mentors, mentees = _org(12, n=200, m=50)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    many_tasks(monkeypatch)
    here = pl.pair(mentors, mentees)
    counting = Recording(process_pool)
    if given == "module_default":
        monkeypatch.setattr(remote, "EXECUTOR", counting)
        there = pl.pair(mentors, mentees)
    else:
        there = pl.pair(mentors, mentees, executor=counting)
        assert remote.current() is None  # the executor was this call's only
    assert here.certificate["method"] == "sparse_min_cost_flow+dual_check_on_bounds"
    assert here.status == "optimal"
    assert_same_result(here, there)
    assert "scan_task" in counting.names


def test_a_task_carries_its_rows_and_the_lookup_tables_never_all_the_bounds():
    mentors, mentees = _org(18, n=120, m=40)
    prog = {"constraints": {"forbidden": [[mentees.loc[k, "id"], mentors.loc[k % 40, "id"]]
                                          for k in range(0, 60, 3)]}}
    _, _, scorer = _prepared(mentors, mentees, prog)
    n, m = scorer.n, scorer.m
    full = scorer.upper(0, n)
    rng = np.random.default_rng(0)
    for a, b in [(0, 7), (7, 60), (60, n), (33, 34)]:
        part = scorer.bounds_rows(a, b)
        assert part.right_t is None and part.left.shape[0] == b - a
        assert part.table.shape[0] == len(np.unique(scorer.key_sorted[a:b]))  # only its rows' groups
        assert not hasattr(part, "mentees") and not hasattr(part, "features")
        part.right_t = scorer.right_t
        # the same float32 values as the same block here (a product of another shape may
        # round differently: the passes keep the blocks), the same eligibility as every row
        np.testing.assert_array_equal(part.upper(0, b - a), scorer.upper(a, b))
        np.testing.assert_array_equal(part.upper(0, b - a) > -BIG / 2, full[a:b] > -BIG / 2)
    # a column subset (the certificate's mentor re-checks): its rows' bounds on its columns
    cols = np.sort(rng.choice(m, 13, replace=False))
    view = scorer.subset(cols=cols)
    part = view.bounds_rows(10, 50)
    part.right_t = view.right_t
    np.testing.assert_array_equal(part.upper(0, 40), view.upper(10, 50))
    # the exact kit scores as the scorer does, and carries none of the bound matrices
    kit = scorer.exact_kit()
    i, j = np.nonzero(full > -BIG / 2)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(kit)).exact_scores(i[:500], j[:500]),
                                  scorer.exact_scores(i[:500], j[:500]))
    assert not any(hasattr(kit, name) for name in ("left", "right_t", "table", "stated", "blocked"))
    assert kit.mentees is None and kit.mentors is None  # the prepared features hold what it reads
    assert len(pickle.dumps(kit)) < len(pickle.dumps(scorer)) / 2  # (a quarter at 10,000 x 3,000)


def test_a_shared_value_is_unpickled_once_per_process():
    remote._CACHE.clear()
    value = {"x": np.arange(5)}
    shared = remote.Shared(value)
    blob = pickle.dumps(shared)
    first, second = pickle.loads(blob), pickle.loads(blob)
    assert first is second and np.array_equal(first["x"], value["x"])  # one copy per process
    assert remote.value_of(shared) is value  # not pickled (a thread pool): the value itself
    assert remote.Shared(value)._blob is None  # pickled only when first sent


def test_a_scan_spec_cut_keeps_the_rows_of_its_chunk():
    q = passes._ScanSpec(np.zeros(3, np.float32), np.array([0, 2, 2, 5]), np.array([1, 0, 2, 1]),
                         np.array([1, 4]), np.array([2, 2]), np.arange(6, dtype=np.float32), None, 2, 1, False)
    c = q.cut(2, 5)
    assert c.ei.tolist() == [0, 0] and c.ej.tolist() == [0, 2]
    assert c.ci.tolist() == [2] and c.cj.tolist() == [2]
    assert c.limit.tolist() == [2.0, 3.0, 4.0]


@pytest.mark.parametrize("n,width,rows", [(1000, 20_000, 200), (1000, 40_000, 100), (1000, 200_000, 32),
                                         (40, 200_000, 32), (7, 10, 7)])
def test_a_pass_takes_blocks_of_four_million_pairs_and_at_least_min_block_rows(n, width, rows):
    blocks = passes._pass_blocks(n, width)
    assert blocks[0] == (0, min(rows, n)) and blocks[-1][1] == n
    assert all(b == c for (_, b), (c, _) in zip(blocks, blocks[1:]))  # every row once, in order


def test_a_sub_market_task_runs_with_the_callers_settings_and_its_passes_here(monkeypatch):
    """The sub-market sent to a worker (:func:`market._guide_task`) sees the caller's module
    settings, runs its passes on the worker's own threads (never back on the executor), and
    leaves the worker's settings as they were."""
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "POOL_PER_ROW", 7)
    monkeypatch.setattr(market, "GUIDE_SETTLED", 0.25)
    settings = market._settings()
    assert settings[("mentormatch.solvers.bounded", "POOL_PER_ROW")] == 7
    assert settings[("mentormatch.solvers.bounded.market", "GUIDE_SETTLED")] == 0.25
    assert settings[("mentormatch.solvers.bounded.passes", "MIN_BLOCK_ROWS")] == passes.MIN_BLOCK_ROWS
    monkeypatch.setattr(bounded, "POOL_PER_ROW", 64)
    monkeypatch.setattr(market, "GUIDE_SETTLED", 0.005)
    monkeypatch.setattr(remote, "EXECUTOR", object())  # would be used by a pass if not overridden
    seen = {}

    def solve(sub, cap, dem, li, lj, k, options, depth, given, deadline=None):
        seen.update(pool=bounded.POOL_PER_ROW, settled=market.GUIDE_SETTLED, executor=remote.current())
        raise RuntimeError("stop here")

    plain = market._Market(None, np.ones(2), np.ones(2), 1, 1)
    with pytest.raises(RuntimeError, match="stop here"):
        market._guide_task(settings, solve, object(), plain, 0, None)
    assert seen == {"pool": 7, "settled": 0.25, "executor": None}
    assert (bounded.POOL_PER_ROW, market.GUIDE_SETTLED) == (64, 0.005)  # restored
    assert remote.current() is remote.EXECUTOR
