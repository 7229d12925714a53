"""assign()'s fixed cost on small problems (issue 23): the result's tables built on first read
(matching.Deferred), and the tie rule's strongly connected components on CSR arrays built in
place. What is checked: the tables read late are the tables of the call (its settings, its
answer), every table is read, a copy or a pickle carries them, and the components equal
scipy's from (tail, head) pairs and a brute-force reachability. No timings."""
import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.matching import Deferred
from mentormatch.solvers import residual

TABLES = ("pairs", "unmatched", "contributions")


def _frame(seed, n=12, m=4, cap=1.0):
    rng = np.random.default_rng(seed)
    s = rng.random((n, m))
    scores = pd.DataFrame(s, index=[f"e{i}" for i in rng.permutation(n)],
                          columns=[f"m{j}" for j in rng.permutation(m)])
    return scores, pd.Series(cap, index=scores.columns)


def test_the_tables_wait_for_their_first_read_the_unmatched_apart_from_the_pairs():
    """The pairs and contributions are built on the first read of either; the unmatched (whose
    reasons may re-solve) only on their own first read."""
    scores, cap = _frame(0)
    r = mm.assign(scores, cap)
    assert all(isinstance(r.__dict__[k], Deferred) for k in TABLES)
    assert r.status == "optimal" and r.certificate["solver_wall_time"] > 0  # no table read
    assert all(isinstance(r.__dict__[k], Deferred) for k in TABLES)
    pairs = r.pairs
    assert isinstance(r.__dict__["pairs"], pd.DataFrame) and isinstance(r.__dict__["contributions"], pd.DataFrame)
    assert isinstance(r.__dict__["unmatched"], Deferred)  # not built by reading the pairs
    assert r.pairs is pairs  # built once
    unmatched = r.unmatched
    assert all(isinstance(r.__dict__[k], pd.DataFrame) for k in TABLES) and r.unmatched is unmatched
    # every table read, and what they say holds against the scores
    assert len(r.contributions) == len(pairs) and list(r.contributions.columns) == []
    assert sorted(pairs["mentee_id"].tolist() + r.unmatched["mentee_id"].tolist()) == sorted(scores.index)
    assert (r.unmatched["reason_code"] == "capacity_taken").all() and len(r.unmatched) == 8
    got = scores.to_numpy()[scores.index.get_indexer(pairs["mentee_id"]),
                            scores.columns.get_indexer(pairs["mentor_id"])]
    assert np.array_equal(got, pairs["score"].to_numpy())
    assert r.objective == pytest.approx(got.sum(), abs=1e-12)
    # rank: 1 + how many of the mentee's scores beat the chosen one
    rows = scores.loc[pairs["mentee_id"]].to_numpy()
    assert np.array_equal(pairs["rank"].to_numpy(), 1 + (rows > got[:, None]).sum(axis=1))
    # the caller's row order: pairs by mentee row, then mentor row
    key = scores.index.get_indexer(pairs["mentee_id"]) * 10 + scores.columns.get_indexer(pairs["mentor_id"])
    assert np.all(np.diff(key) > 0)


def test_a_late_read_gives_the_tables_of_the_call_and_its_settings(monkeypatch):
    """The unmatched reasons' re-solve budget (``REASON_SOLVE_BUDGET``) is the one in force
    during the call, whenever the tables are read."""
    import mentormatch.pipeline as pipeline
    import mentormatch.report.reasons as reasons

    seen = []
    real = reasons._exact_capacity_reasons

    def spy(rows, pending, problem, ids, max_solves, **kw):
        seen.append(max_solves)
        return real(rows, pending, problem, ids, max_solves, **kw)

    monkeypatch.setattr(reasons, "_exact_capacity_reasons", spy)
    scores, cap = _frame(1, n=9, m=3)
    monkeypatch.setattr(pipeline, "REASON_SOLVE_BUDGET", scores.size * 3)  # 2 mentor re-solves
    late = mm.assign(scores, cap)
    monkeypatch.setattr(pipeline, "REASON_SOLVE_BUDGET", 10**9)
    assert seen == []  # nothing built yet
    assert (late.unmatched["reason_code"] == "capacity_taken").all()
    assert seen == [2]
    monkeypatch.setattr(pipeline, "REASON_SOLVE_BUDGET", scores.size * 3)
    now = mm.assign(scores, cap)
    pd.testing.assert_frame_equal(late.unmatched, now.unmatched)
    pd.testing.assert_frame_equal(late.pairs, now.pairs)


def test_copies_and_pickles_of_a_fresh_result_carry_its_tables():
    scores, cap = _frame(2, n=30, m=6, cap=3.0)
    built = mm.assign(scores, cap)
    pickled = pickle.loads(pickle.dumps(mm.assign(scores, cap)))  # tables built on the way
    assert isinstance(pickled.__dict__["pairs"], pd.DataFrame)
    replaced = dataclasses.replace(mm.assign(scores, cap), status="feasible")
    assert replaced.status == "feasible"
    for other in (pickled, replaced):
        for k in TABLES:
            pd.testing.assert_frame_equal(getattr(other, k), getattr(built, k))


def test_wall_time_covers_the_call_and_leaves_the_tables_unbuilt():
    scores, cap = _frame(3)
    r = mm.assign(scores, cap)
    assert r.wall_time >= r.certificate["solver_wall_time"] > 0
    assert isinstance(r.__dict__["pairs"], Deferred)


def test_pair_results_defer_their_tables_too():
    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=10, seed=5)
    r = mm.pair(mentors, mentees)
    assert isinstance(r.__dict__["pairs"], Deferred)
    assert len(r.pairs) + len(r.unmatched) == 30
    assert np.allclose(r.contributions.sum(axis=1).to_numpy(), r.pairs["score"].to_numpy())


# --------------------------------------------------------------------------------------------
# the tie rule's strongly connected components
# --------------------------------------------------------------------------------------------
def _reach(tail, head, n):
    r = np.eye(n, dtype=bool)
    r[tail, head] = True
    for _ in range(n):  # transitive closure by squaring (tiny n)
        r = r | ((r.astype(int) @ r.astype(int)) > 0)
    return r


@pytest.mark.parametrize("seed", range(40))
def test_components_are_the_strongly_connected_ones(seed):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 14))
    k = int(rng.integers(0, 3 * n))
    tail, head = rng.integers(0, n, k), rng.integers(0, n, k)  # parallel arcs and loops too
    lab = residual.strong_components(tail, head, n)
    r = _reach(tail, head, n)
    same = r & r.T
    assert np.array_equal(lab[:, None] == lab[None, :], same)
    g = coo_matrix((np.ones(k), (tail, head)), shape=(n, n))
    ref = connected_components(g, directed=True, connection="strong")[1]
    assert np.array_equal(lab[:, None] == lab[None, :], ref[:, None] == ref[None, :])
