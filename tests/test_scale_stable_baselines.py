"""Stable and the baselines on every pair source, forced small: the scale path (cached blocks
or bounds) reads the pairs on demand and gets the same pairs as the complete candidate set, and
the same as the solvers on the problem of every eligible pair; stability recomputed from it."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch import pipeline
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.baselines import solve_greedy
from mentormatch.solvers.stable import blocking_pairs, stable_match

SOURCES = ("complete", "blocks", "bounds")


@contextlib.contextmanager
def source(name):
    """pair() on the complete set, or above LARGE_PAIRS (lowered) on cached blocks, blocks
    scored again (no cache) or bounds."""
    saved = pipeline.LARGE_PAIRS, pipeline.USE_BOUNDS, pipeline.SCORE_CACHE_PAIRS
    try:
        if name != "complete":
            pipeline.LARGE_PAIRS = 10
            pipeline.USE_BOUNDS = name == "bounds"
            pipeline.SCORE_CACHE_PAIRS = 10**9 if name == "blocks" else 0
        yield
    finally:
        pipeline.LARGE_PAIRS, pipeline.USE_BOUNDS, pipeline.SCORE_CACHE_PAIRS = saved


def _ids(result):
    return sorted(zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str)))


def _organisation(seed, n, m, priority, tight):
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    mentors, mentees = mentors.copy(), mentees.copy()
    if tight:  # fewer places than mentees: many propose down their whole lists
        mentors["capacity"] = 1
    if priority:
        mentees["priority"] = (np.arange(len(mentees)) % 3 == 0).astype(float)
    return mentors, mentees


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 70), st.integers(5, 25), st.booleans(),
       st.booleans())
def test_stable_is_the_same_matching_on_every_source(seed, n, m, priority, tight):
    mentors, mentees = _organisation(seed, n, m, priority, tight)
    results = {}
    for name in SOURCES:
        with source(name):
            results[name] = mm.pair(mentors, mentees, {"solver": "stable"})
    assert _ids(results["blocks"]) == _ids(results["complete"]) == _ids(results["bounds"])
    for name in ("blocks", "bounds"):
        r = results[name]
        assert r.record.scale_path and r.certificate["blocking_pairs"] == 0
        # against deferred acceptance on every eligible pair (score + priority as preferences)
        full = r.record.full_problem()
        if priority:  # the mentees' priority column is a bonus per mentee, in the solved order
            weight = r.record.rules.constraints["priority_weight"]
            full.score = full.score + weight * r.record.mentees["priority"].to_numpy(float)[full.pairs.mentee]
        chosen, _ = stable_match(full)
        want = sorted(zip(full.pairs.mentee[chosen].tolist(), full.pairs.mentor[chosen].tolist()))
        enc_e, enc_m = r.record.mentee_ids.index, r.record.mentor_ids.index
        got = sorted((enc_e[e], enc_m[j]) for e, j in _ids(r))
        assert got == want
        pos = full.pairs.locate(np.array([e for e, _ in got], np.int64), np.array([j for _, j in got], np.int64))
        assert np.all(pos >= 0) and len(blocking_pairs(full, pos)) == 0
        assert r.objective == pytest.approx(results["complete"].objective, rel=1e-12, abs=1e-9)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 70), st.integers(5, 25), st.booleans(),
       st.integers(0, 99))
def test_baselines_are_the_same_on_every_source(seed, n, m, tight, rseed):
    mentors, mentees = _organisation(seed, n, m, False, tight)
    out = {}
    for name in SOURCES:
        with source(name):
            result = mm.pair(mentors, mentees)
            out[name] = {b: mm.baseline(result, b, seed=rseed) for b in ("random", "greedy", "stable")}
            if name == "bounds":  # greedy against the scan over every eligible pair
                full = result.record.full_problem()
                ref = solve_greedy(full, SolverOptions())
                enc_e, enc_m = result.record.mentee_ids.index, result.record.mentor_ids.index
                got = sorted((enc_e[e], enc_m[j]) for e, j in _ids(out[name]["greedy"]))
                assert got == sorted(zip(full.pairs.mentee[ref.chosen].tolist(),
                                         full.pairs.mentor[ref.chosen].tolist()))
    for b in ("random", "greedy", "stable"):
        assert _ids(out["blocks"][b]) == _ids(out["complete"][b]) == _ids(out["bounds"][b]), b
        for name in SOURCES:
            r = out[name][b]
            assert r.objective == pytest.approx(r.pairs["score"].sum(), abs=1e-9)
            assert len(r.pairs) + len(r.unmatched) == n
            load = r.pairs.groupby("mentor_id").size()
            cap = mentors.set_index("id")["capacity"] if not tight else None
            if cap is not None:
                assert np.all(load.to_numpy() <= cap.loc[load.index].to_numpy())
            else:
                assert len(load) == 0 or load.max() <= 1


def test_the_audit_reads_the_same_baselines_on_every_source():
    mentors, mentees = mm.synthetic.organisation(n_mentees=80, n_mentors=25, seed=5)
    lifts = {}
    for name in SOURCES:
        with source(name):
            lifts[name] = mm.pair(mentors, mentees).audit(seeds=4).lift
    for name in ("blocks", "bounds"):
        assert list(lifts[name]["method"]) == ["result", "random", "greedy", "stable"]
        np.testing.assert_allclose(lifts[name]["total_mean"], lifts["complete"]["total_mean"],
                                   rtol=1e-12)
    # each baseline's bound (main: none) and gap: at least every baseline's total and the
    # result's (the optimum under more constraints); on a reader from each mentee's best pairs
    for name in SOURCES:
        lift = lifts[name].set_index("method")
        base = lift.loc[["random", "greedy", "stable"]]
        assert np.all(np.isfinite(base["bound"]))
        assert np.all(base["bound"] >= np.maximum(base["total_max"], lift.at["result", "total_mean"]) - 1e-9)
        np.testing.assert_allclose(base["gap"], (base["bound"] - base["total_mean"]) / base["bound"])
