"""Set-ups that several test modules share, stated once.

* A problem's pairs as a pair source of each kind, solved on it by the engine and rechecked
  against the inputs; ``pair()`` forced onto the scale path and its pairs rechecked against the
  complete set's problem.
* The executors the scale path's block passes run on: a wrapper that records each task, a Dask
  LocalCluster of two worker processes, and blocks and tasks small enough that small instances
  make many of them.
* Issue 23's checks: ``pair()`` on each source (:func:`on_source`) and its result's constraints
  recomputed from the caller's tables (:func:`table_violations`).
* The fake clock of the time-limit tests (:func:`jumping_clock`): nothing is timed.

The compiled kernels' set-ups are in ``_kernels.py``.
"""
from __future__ import annotations

import contextlib
import pickle
import time
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from mentormatch import pipeline as pl, synthetic
from mentormatch.features import Context
from mentormatch.rules import Rules
from mentormatch.scale import BoundedScorer
from mentormatch.solvers import SolverOptions, rounds, sparse
from mentormatch.solvers.bounded import child, market, passes, remote
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


def uncached_blocks(mentors, mentees, programme=None):
    """The scale path's block scorer of a round (``pipeline/blocks.py``'s ``_BlockScorer``)
    without a score cache, from any size: each block scored anew when asked, and its unit read
    from bounds (``unit_bounds``)."""
    from mentormatch.pipeline.blocks import _BlockScorer

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pl, "LARGE_PAIRS", 0)
        mp.setattr(pl, "SCORE_CACHE_PAIRS", 0)
        sc = pl.prepare(mentors, mentees, programme).scorer
    assert isinstance(sc, _BlockScorer) and sc.cache is None
    return sc


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


def assert_bounded_solve_is_exact(mentors, mentees):
    """The certified solve on the scale path's bounds (``solve_bounded``, top_k 1) ends at the
    complete set's optimum of the same round."""
    from mentormatch.solvers import SolverOptions
    from mentormatch.solvers.bounded import solve_bounded

    prep, _, _ = exact_round(mentors, mentees, None)
    reference = pl.solve(prep)
    _, solution = solve_bounded(scorer_of(prep, None), prep.data["mentors"]["capacity"].to_numpy(float),
                                options=SolverOptions(top_k=1))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# issue 23's checks on every source (tests/test_checks_matrix_*.py)
# ---------------------------------------------------------------------------------------------
#: The three pair sources of ``pair()``: the complete set, cached blocks of exact scores, bounds.
SOURCES = ("complete", "blocks", "bounds")


@contextlib.contextmanager
def on_source(kind: str):
    """``pair()`` and ``prepare()`` on one source whatever the size: ``"complete"`` (the
    defaults), ``"blocks"`` (the scale path from 0 pairs, every block scored exactly and cached)
    or ``"bounds"`` (the scale path from 0 pairs, on the features' bounds)."""
    with pytest.MonkeyPatch.context() as mp:
        if kind != "complete":
            mp.setattr(pl, "LARGE_PAIRS", 0)
            mp.setattr(pl, "USE_BOUNDS", kind == "bounds")
            mp.setattr(pl, "SCORE_CACHE_PAIRS", 0 if kind == "bounds" else 10 ** 9)
        yield


def result_positions(complete, r) -> np.ndarray:
    """The pairs of result ``r`` as positions in the complete set's problem (``complete`` from
    ``pipeline.prepare`` at the default sizes); -1 for a pair that is not eligible there."""
    mentee = np.asarray(complete.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64)
    mentor = np.asarray(complete.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64)
    return complete.problem.pairs.locate(mentee, mentor)


def programme_rounds(rules: dict, mentors, mentees, kind: str) -> list:
    """Rounds 1 and 2 (2027-01-15, 2027-04-15) of a programme with priority by weight and
    continuity, on source ``kind`` (:func:`on_source`); a third of the pairs in force end
    before round 2. The results of the two rounds."""
    from mentormatch.programme import Programme

    prog = Programme(rules, allow_repeats=True, cooldown_rounds=1, priority="weight",
                     continuity=True)
    out = []
    with on_source(kind):
        for k, date in enumerate(["2027-01-15", "2027-04-15"]):
            if k:
                end_in_force(prog, lambda n: np.where(np.arange(n) % 3 == 0, "2027-04-01", ""))
            out.append(prog.run_round(mentors, mentees, date=date))
    return out


def end_in_force(prog, ended) -> None:
    """Records the pairs in force of the programme ``prog`` as ended: on the date ``ended``,
    or on ``ended(n)``'s dates, one per pair in force ("": not ended)."""
    live = prog.in_force()
    prog.record_outcomes(pd.DataFrame({"mentee_id": live["mentee_id"], "mentor_id": live["mentor_id"],
                                       "ended": ended(len(live)) if callable(ended) else ended}))


def table_violations(mentors, mentees, programme: dict, r, complete) -> list[str]:
    """The constraints that result ``r`` breaks, each recomputed from the caller's tables and
    programme (columns by their documented names), not from the solver's arrays: eligibility
    (a pair of the complete set), each mentee once at most (``mentors_needed``), capacities with
    loads, ``min_capacity``, the stipend budget, incentives (expected payoff = fixed stipend +
    per-mentee stipend x mentees + bonus x the sum of the pairs' success probabilities, a score
    over the sum of the positive weights), balanced loads, score and share floors by group."""
    pos = result_positions(complete, r)
    if np.any(pos < 0):
        return ["eligible"]
    out = []
    cons = programme.get("constraints", {})
    fair = programme.get("fairness", {})
    score = complete.problem.score[pos]
    if not np.allclose(score, r.pairs["score"].to_numpy(float), atol=1e-9):
        out.append("score")
    mt = mentors.set_index(mentors["id"].astype(str))
    me = mentees.set_index(mentees["id"].astype(str))
    e = r.pairs["mentee_id"].astype(str).to_numpy()
    m = r.pairs["mentor_id"].astype(str).to_numpy()
    needed = me["mentors_needed"] if "mentors_needed" in me else pd.Series(1, me.index)
    if np.any(pd.Series(e).value_counts().reindex(me.index, fill_value=0) > needed):
        out.append("demand")
    if len(set(zip(e, m))) != len(e):
        out.append("pairs")
    load = me["load"].reindex(e).to_numpy(float) if "load" in me else np.ones(len(e))
    used = pd.Series(load).groupby(m).sum().reindex(mt.index, fill_value=0.0)
    count = pd.Series(1, index=range(len(m))).groupby(m).sum().reindex(mt.index, fill_value=0)
    active = count > 0
    if np.any(used > mt["capacity"].astype(float) + 1e-9):
        out.append("capacity")
    col = lambda name: mt[name].astype(float).fillna(0.0) if name in mt else pd.Series(0.0, mt.index)
    if "min_capacity" in mt and np.any(active & (count < col("min_capacity"))):
        out.append("min_load")
    fixed, per = col("stipend_fixed"), col("stipend_per_mentee")
    if "budget" in cons and (fixed[active].sum() + (per * count).sum() > cons["budget"] + 1e-6):
        out.append("budget")
    if cons.get("incentives"):
        weights = Rules.coerce(programme).weights
        scale = sum(w for w in weights.values() if w > 0) or 1.0
        prob = pd.Series(np.clip(score / scale, 0.0, 1.0)).groupby(m).sum().reindex(mt.index, fill_value=0.0)
        payoff = fixed + per * count + col("bonus") * prob
        if np.any(active & (payoff < col("reservation_value") - 1e-6)):
            out.append("reservation")
    if cons.get("balanced_load") and active.any() and count[active].max() - count[active].min() > 1:
        out.append("balanced_load")
    if "score_floor" in fair or "share_floor" in fair:
        group = me[fair.get("floor_group", "region")].astype(str)
        per_mentee = pd.Series(score).groupby(e).sum().reindex(me.index, fill_value=0.0)
        matched = pd.Series(e).value_counts().reindex(me.index, fill_value=0) > 0
        n, total = len(me), float(score.sum())
        for g in sorted(set(group)):
            members = (group == g).to_numpy()
            if "score_floor" in fair and (n * per_mentee[members].sum()
                                          < fair["score_floor"] * members.sum() * total - 1e-6):
                out.append("score_floor")
            if "share_floor" in fair and matched[members].sum() < np.ceil(fair["share_floor"] * members.sum() - 1e-9):
                out.append("share_floor")
    return sorted(set(out))


def locked_at_random(pairs, cap, demand: int, locks: int, rng) -> np.ndarray:
    """A lock mask over ``pairs``: up to ``locks`` pairs drawn at random, each kept while its
    mentor has room and its mentee (of demand ``demand``) still needs one."""
    locked = np.zeros(len(pairs), bool)
    room, need = np.array(cap, float), np.full(pairs.n_mentees, demand)
    for k in rng.permutation(len(pairs))[:locks]:  # (a few locks: a loop over them, not the pairs)
        i, j = pairs.mentee[k], pairs.mentor[k]
        if room[j] >= 1 and need[i] >= 1:
            locked[k], room[j], need[i] = True, room[j] - 1, need[i] - 1
    return locked


# ---------------------------------------------------------------------------------------------
# the fake clock of the time-limit tests
# ---------------------------------------------------------------------------------------------
def jumping_clock(monkeypatch, step: float):
    """``time.perf_counter`` plus an offset: ``jump(by=step)`` moves it on (``jumped`` holds the
    clock's reading after each jump); ``flows`` holds the clock's reading at the start of every
    flow of the certified rounds (``rounds.solve_arrays`` wrapped); ``after_flow`` (a callable,
    None at first) runs once a flow returns."""
    real_clock, real_flow = time.perf_counter, rounds.solve_arrays
    offset = [0.0]

    class Clock:
        def __init__(self):
            self.flows, self.jumped, self.after_flow = [], [], None

        def jump(self, by: float | None = None):
            offset[0] += step if by is None else by
            self.jumped.append(time.perf_counter())

    c = Clock()

    def counted(*args, **kw):
        c.flows.append(time.perf_counter())
        out = real_flow(*args, **kw)
        if c.after_flow is not None:
            c.after_flow()
        return out

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    monkeypatch.setattr(rounds, "solve_arrays", counted)
    return c


def best_rows(x: np.ndarray, feasible: np.ndarray, value: np.ndarray, objective: str) -> np.ndarray:
    """Brute force's optimal assignments: the rows of ``x`` (assignments x pairs, bool) among
    the ``feasible`` ones that are best on ``value`` (one number per pair) for ``objective``:
    ``"total"``; ``"maxmin"`` the most pairs, then the largest worst value, then the total;
    ``"leximin"`` the most pairs, then the lexicographically largest sorted vector (to nine
    decimals). Values are at least 0 (ties to a relative 1e-9)."""
    ok = np.asarray(feasible, bool).copy()
    if not ok.any():
        return np.zeros(0, np.int64)
    total = x.astype(float) @ value
    if objective != "total":
        count = x.sum(1)
        ok &= count == count[ok].max()
    if objective == "leximin":
        vectors = {r: tuple(np.round(np.sort(value[x[r]]), 9)) for r in np.flatnonzero(ok)}
        best = max(vectors.values())
        return np.array([r for r, v in vectors.items() if v == best], np.int64)
    if objective == "maxmin":
        worst = np.where(x, value, np.inf).min(1)
        ok &= worst >= worst[ok].max() * (1 - 1e-9)  # (relative: values may be tiny)
    return np.flatnonzero(ok & (total >= total[ok].max() * (1 - 1e-9)))


class JumpClock:
    """``time.perf_counter`` that jumps ``JUMP`` seconds ahead when :meth:`jump` is called (the
    time limit then passes at that point of the run, whatever the machine's speed)."""

    JUMP = 1e7

    def __init__(self, monkeypatch):
        self.real, self.offset = time.perf_counter, 0.0
        monkeypatch.setattr(time, "perf_counter", lambda: self.real() + self.offset)

    def jump(self) -> None:
        self.offset = self.JUMP

    @property
    def jumped(self) -> bool:
        return self.offset > 0


def two_sub_market_levels(monkeypatch):
    """(mentors, mentees) of a small organisation (420 x 60, capacity 7) whose ``pair()`` takes
    the bounded path with two levels of sub-markets, the outer solved in this process (seen)."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    monkeypatch.setattr(market, "GUIDE_PAIRS", 3000)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(child, "ENABLED", False)  # (the outer sub-market in this process: seen)
    mentors, mentees = synthetic.organisation(n_mentees=420, n_mentors=60, seed=3)
    mentors["capacity"] = 7
    return mentors, mentees
