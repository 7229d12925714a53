"""Set-ups that several test modules share, stated once.

* A problem's pairs as a pair source of each kind, solved on it by the engine and rechecked
  against the inputs; ``pair()`` forced onto the scale path and its pairs rechecked against the
  complete set's problem.
* The executors the scale path's block passes run on: a wrapper that records each task, a Dask
  LocalCluster of two worker processes, and blocks and tasks small enough that small instances
  make many of them.
"""
from __future__ import annotations

import contextlib
import pickle
from typing import NamedTuple

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch.features import Context
from mentormatch.rules import Rules
from mentormatch.scale import BoundedScorer
from mentormatch.solvers import SolverOptions, sparse
from mentormatch.solvers.bounded import passes, remote
from mentormatch.solvers.engine import solve_source
from mentormatch.solvers.sources import ArraySource, BlockSource
from mentormatch.testing import violations


# ---------------------------------------------------------------------------------------------
# sources, and the engine's answer rechecked
# ---------------------------------------------------------------------------------------------
def source_of(p, kind: str):
    """The candidate pairs of problem ``p`` as a source: ``"array"`` (the pairs themselves) or
    ``"blocks"`` (rows of a dense matrix, ``-inf`` off the pairs)."""
    if kind == "array":
        return ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, p.n_mentees, p.n_mentors)
    dense = np.full((p.n_mentees, p.n_mentors), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    return BlockSource(lambda rows: dense[rows], p.n_mentees, p.n_mentors)


def solve_and_recheck(p, src, time_limit: float = 30):
    """The engine on ``src`` with ``p``'s capacities and side constraints: ``(solution,
    positions of its pairs in p.pairs)``, after checking that every pair is one of ``p``'s, every
    constraint holds recomputed from the inputs, and the objective is the pairs' scores."""
    sub, sol = solve_source(src, p.capacity, side=p.side, options=SolverOptions(time_limit=time_limit))
    pos = p.pairs.locate(sub.pairs.mentee[sol.chosen], sub.pairs.mentor[sol.chosen])
    assert np.all(pos >= 0) and violations(p, pos) == []  # every constraint, recomputed
    assert float(p.score[pos].sum()) == pytest.approx(sol.objective, abs=1e-9)
    return sol, pos


def force_scale_path(monkeypatch, bounds: bool) -> str:
    """``pair()`` onto the scale path from 100 pairs: feature bounds (``bounds``) or cached
    blocks of exact scores; the name of the source it will use."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 100)
    monkeypatch.setattr(pl, "USE_BOUNDS", bounds)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0 if bounds else 10 ** 9)
    return "BoundedSource" if bounds else "BlockSource"


def recheck_pairs(small, r, whole) -> np.ndarray:
    """The pairs of result ``r`` located in the complete set's problem (``small``, from
    ``pipeline.prepare``): every constraint recomputed there, the objective their scores, and
    ``r`` and the complete set's result ``whole`` within each other's bounds."""
    mentee = np.asarray(small.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64)
    mentor = np.asarray(small.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64)
    pos = small.problem.pairs.locate(mentee, mentor)
    assert np.all(pos >= 0) and violations(small.problem, pos) == []
    assert float(small.problem.score[pos].sum()) == pytest.approx(r.objective, abs=1e-6)
    assert r.objective <= whole.bound + 1e-6 and whole.objective <= r.bound + 1e-6
    return pos


# ---------------------------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------------------------
def assert_same_result(here, there):
    """Two results of one ``pair()`` (here, and on an executor): the same status, objective,
    pairs and unmatched mentees."""
    assert there.status == here.status and there.objective == here.objective
    assert there.pairs.equals(here.pairs) and there.unmatched.equals(here.unmatched)


class Call(NamedTuple):
    name: str  # the task's function
    kinds: list  # its arguments' type names
    size: int | None  # their pickled bytes, futures aside (Dask sends their keys); None: not sized


class Recording:
    """An executor that records each task it is given (:class:`Call`) and runs it on ``inner``;
    with ``sizes``, also what its arguments weigh pickled."""

    def __init__(self, inner, sizes: bool = False):
        self.inner, self.sizes, self.calls = inner, sizes, []
        if hasattr(inner, "_client"):  # a Dask executor: what remote.ship looks for
            self._client = inner._client

    def submit(self, fn, *args):
        size = (sum(len(pickle.dumps(a)) for a in args if type(a).__name__ != "Future")
                if self.sizes else None)
        self.calls.append(Call(fn.__name__, [type(a).__name__ for a in args], size))
        return self.inner.submit(fn, *args)

    @property
    def names(self) -> set[str]:
        """The functions of the tasks it was given."""
        return {c.name for c in self.calls}


@contextlib.contextmanager
def local_cluster():
    """A Dask client on a LocalCluster of two single-threaded worker processes (skips the test
    when distributed is not installed)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield client


def many_tasks(monkeypatch, block_elements: int = 300, blocks_per_task: int = 2,
               pairs_per_task: int | None = 40):
    """Blocks of ``block_elements`` scores (at least one row), ``blocks_per_task`` blocks a task,
    exact scores in tasks of ``pairs_per_task`` pairs (None: left as it is)."""
    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", block_elements)
    monkeypatch.setattr(passes, "MIN_BLOCK_ROWS", 1)
    monkeypatch.setattr(remote, "BLOCKS_PER_TASK", blocks_per_task)
    if pairs_per_task is not None:
        monkeypatch.setattr(remote, "PAIRS_PER_TASK", pairs_per_task)


def exact_round(mentors, mentees, programme=None):
    """The complete set's view of a round: ``(prep, eligible, scores)``, the last two mentees x
    mentors, scores ``-inf`` where not eligible."""
    prep = pl.prepare(mentors, mentees, programme)
    d = prep.data
    n, m = len(d["mentees"]), len(d["mentors"])
    eligible = d["eligible"].reshape(n, m)
    scores = np.full((n, m), -np.inf)
    scores[eligible] = d["scores"].total.reshape(n, m)[eligible]
    return prep, eligible, scores


def scorer_of(prep, programme=None) -> BoundedScorer:
    """The scale path's scorer on the tables of ``prep`` (``pipeline.prepare`` of the same
    programme)."""
    d = prep.data
    return BoundedScorer(d["mentees"], d["mentors"], Rules.coerce(programme), Context(framework=d["framework"]),
                         prep.mentee_ids, prep.mentor_ids)
