"""A level whose first pass is ranked by the inner sub-market's prices and whose first sparse set
by the outer's (``bounded._ScoredEarly``): the exact scores of each mentee's best pairs by the
pass's ranking are computed while the level waits for the outer prices, the first sparse set
scores only the pairs they miss, and the answer is the complete set's optimum, whether the
sub-market runs in a forked child or in this process."""
from __future__ import annotations

import copy
import threading

import numpy as np
import pytest

import mentormatch.solvers.bounded as bounded
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers.bounded import child, market, solve_bounded

from _support import exact_round, scorer_of

EARLY = "mentormatch early exact scores"  # the thread's name (bounded.first._ScoredEarly)


def _setup(monkeypatch):
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)  # sub-markets from any size: three levels
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=7)
    mentors["capacity"] = 4
    prep, _, _ = exact_round(mentors, mentees)
    return prep, scorer_of(prep), prep.data["mentors"]["capacity"].to_numpy(float)


def test_the_pass_ranked_pairs_are_scored_while_the_level_waits_for_the_outer_prices(monkeypatch):
    prep, sc, cap = _setup(monkeypatch)
    reference = pl.solve(prep)
    events = []  # ("exact", level's mentees, codes, thread) | ("prices",) | ("sparse", mentees, args)

    class Recorded(bounded._Exact):
        def __call__(self, i, j):
            events.append(("exact", self.scorer.n, np.asarray(i, np.int64) * self.m + j,
                           threading.current_thread().name))
            return super().__call__(i, j)

    result = child.Child.result

    def prices(self):
        out = result(self)
        events.append(("prices",))
        return out

    first_sparse = bounded._first_sparse

    def sparse(scorer, exact, pool, mentor_best, guide, k, cap_, cover=False):
        # (the pool as it is now: the checks move its values to their prices later)
        events.append(("sparse", scorer.n, (copy.copy(pool), mentor_best, guide, k)))
        return first_sparse(scorer, exact, pool, mentor_best, guide, k, cap_, cover)

    monkeypatch.setattr(bounded, "_Exact", Recorded)
    monkeypatch.setattr(child.Child, "result", prices)
    monkeypatch.setattr(bounded, "_first_sparse", sparse)
    monkeypatch.setattr(child, "ENABLED", False)  # every level in this process, seen by the spies
    _, solution = solve_bounded(sc, cap)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)

    at = next(x for x, e in enumerate(events) if e[0] == "sparse" and e[1] == sc.n)  # the top level's
    assert any(e[0] == "prices" for e in events[:at])  # (it waited for the outer prices)
    pool, mentor_best, guide, k = events[at][2]
    assert guide is not None and not np.array_equal(guide, pool.prices[0])  # ranked by other prices
    # scored on the level's own thread beside the wait (which ends when the prices are read and
    # that thread is done), before the first sparse set; nothing else scored at the top between
    # its pass and the first sparse set
    top = [x for x, e in enumerate(events) if e[0] == "exact" and e[1] == sc.n]
    beside = [x for x in top if events[x][3] == EARLY]
    assert beside, "nothing scored at the top level while it waited for the outer prices"
    assert max(beside) < at and all(x in beside for x in top if x < at)
    early = [events[x][2] for x in beside]
    early = np.unique(np.concatenate(early))
    # every pair a row's k best by the pass's ranking (strictly above its k-th value), and each
    # mentor's best rows; nothing else
    vals, cols = pool.vals, pool.cols
    kth = -np.sort(-vals, axis=1)[:, min(k, vals.shape[1]) - 1]
    above = (vals > kth[:, None]) & (vals > -1e30)
    rows = np.broadcast_to(np.arange(len(vals))[:, None], vals.shape)
    must = np.unique(np.concatenate([rows[above] * sc.m + cols[above],
                                     mentor_best[0] * sc.m + mentor_best[1]]))
    assert np.isin(must, early).all()
    allowed = np.unique(np.concatenate([(rows * sc.m + cols).ravel(), must]))
    assert np.isin(early, allowed).all() and len(early) <= len(vals) * k + len(mentor_best[0])
    # the first sparse set (after the prices) scores only the pairs the early scores missed
    first = events[min(x for x in top if x > at)][2]  # its own call
    fresh = np.setdiff1d(first, early)
    assert len(fresh) < len(np.unique(first))  # most were scored early
    assert solution.certificate["work"]["first_sparse_scored_early"] >= 0


@pytest.mark.skipif(not child.can_fork(), reason="no forked child here")
def test_the_same_pairs_scored_with_the_sub_market_forked_or_not(monkeypatch):
    prep, sc, cap = _setup(monkeypatch)
    certs = {}
    for forked in (True, False):
        monkeypatch.setattr(child, "ENABLED", forked)
        problem, solution = solve_bounded(sc, cap)
        assert solution.status == "optimal"
        P = problem.pairs
        certs[forked] = (solution.certificate["pairs_scored_exactly"], solution.objective,
                         sorted(zip(P.mentee[solution.chosen], P.mentor[solution.chosen])))
    assert certs[True] == certs[False]


def test_the_early_scores_go_to_the_callers_executor(monkeypatch):
    """A thread starts with the module's default executor; the early scores go where the first
    sparse set's would (here: a thread pool given to ``solve_bounded``, every batch sent)."""
    from concurrent.futures import ThreadPoolExecutor

    from mentormatch.solvers.bounded import exact as exact_module
    from mentormatch.solvers.bounded import remote

    prep, sc, cap = _setup(monkeypatch)
    monkeypatch.setattr(remote, "PAIRS_PER_TASK", 1)  # every batch of exact scores to the executor
    sent = []  # the threads whose exact scores went to an executor
    real = exact_module.exact_scores

    def spy(executor, kit, i, j):
        sent.append(threading.current_thread().name)
        return real(executor, kit, i, j)

    monkeypatch.setattr(exact_module, "exact_scores", spy)
    with ThreadPoolExecutor(2) as pool:
        _, solution = solve_bounded(sc, cap, executor=pool)
    assert solution.status == "optimal"
    assert EARLY in sent
