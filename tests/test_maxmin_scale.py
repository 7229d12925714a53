"""Max-min on the scale path (solvers/bottleneck.py: certified flows on s + W [s >= t], no pair
list held) against the in-memory max-min of solvers/fair.py on every eligible pair."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.fair import solve_maxmin

from _support import force_scale_path

MAXMIN = {"fairness": {"objective": "maxmin", "groups": ["gender"]}}


@pytest.mark.parametrize("seed", [1, 4])
@pytest.mark.parametrize("bounds", [False, True])
def test_maxmin_at_scale_equals_the_full_set(monkeypatch, seed, bounds):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "USE_BOUNDS", bounds)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=seed)
    # tight capacities: the worst pair is a real trade-off
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    result = pl.pair(mentors, mentees, MAXMIN)
    assert result.certificate["method"].startswith("max-min by certified flows")
    full = result.data["full_problem"]()
    ref = solve_maxmin(full, SolverOptions())
    assert result.status == ref.status == "optimal"
    got = result.pairs["score"].to_numpy()
    want = full.score[ref.chosen]
    assert len(got) == len(want) == result.certificate["matched"]
    assert got.min() == pytest.approx(want.min(), abs=1e-9)  # the same worst pair
    assert got.sum() == pytest.approx(want.sum(), abs=1e-6)  # the same total among those
    assert result.certificate["threshold"] == pytest.approx(want.min(), abs=1e-9)
    # recomputed from the inputs: capacities and one mentor per mentee
    cap = mentors.set_index("id")["capacity"]
    load = result.pairs.groupby("mentor_id").size()
    assert (load <= cap.reindex(load.index)).all()
    assert result.pairs["mentee_id"].is_unique


@pytest.mark.parametrize("limit", [1e-6, 0.5])
def test_a_time_out_says_so_and_claims_only_what_it_proved(monkeypatch, limit):
    """Every flow has the deadline (s23; until then the first and last flows ran to their end
    past it): at 1e-6 s the limit has passed before the first flow (nothing chosen, every mentee
    unmatched with the time limit as its reason); whatever the stop, the answer keeps the
    capacities and every row, says the time limit, and its bracket, if any, is the proven one."""
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=1)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    full = pl.prepare(mentors, mentees, MAXMIN).problem  # (the complete set, in memory)
    ref = full.score[solve_maxmin(full, SolverOptions()).chosen]
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    # the limit from the solve's start (pipeline.solve): pair()'s, from its call, would pass
    # before the pairs are scored and answer with the locks alone (pipeline/stopped.py)
    result = pl.solve(pl.prepare(mentors, mentees, {**MAXMIN, "time_limit": limit}))
    c = result.certificate
    assert len(result.pairs) + len(result.unmatched) == len(mentees)
    assert len(result.pairs) == c["matched"] <= len(ref)
    load = result.pairs.groupby("mentor_id").size()
    assert (load <= mentors.set_index("id")["capacity"].reindex(load.index)).all()
    if result.status == "optimal":  # (a quiet machine may finish in 0.5 s)
        assert limit == 0.5 and len(result.pairs) == len(ref)
        return
    assert "time limit" in result.data["solution"].message and c["timed_out"]
    if limit == 1e-6:
        assert len(result.pairs) == 0 and not c["count_proven"] and c["threshold_bracket"] is None
        assert result.unmatched["reason"].str.contains("time limit").all()
    if c["threshold_bracket"] is not None:
        lo, hi = c["threshold_bracket"]
        assert result.pairs["score"].min() >= lo - 1e-12 and lo <= ref.min() + 1e-9 < hi


@pytest.mark.parametrize("seed", [2, 5])
@pytest.mark.parametrize("bounds", [False, True])
def test_coverage_first_at_scale_equals_the_complete_set(monkeypatch, seed, bounds):
    """coverage_first on the scale path is step 1 of the same machinery (the certified flow on
    s + W): the most pairs, then the largest total, equal to the complete set's max-flow of
    least cost (a separate solver, solvers/flow.py), with a lock kept."""
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=seed)
    # tight capacities: more pairs cost score, so coverage first and the plain optimum differ
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    p = pl.prepare(mentors, mentees).problem  # lock mentee 3's worst eligible pair
    k = np.flatnonzero(p.pairs.mentee == 3)
    worst = k[np.argmin(p.score[k])]
    prep = pl.prepare(mentors, mentees)
    lock = [[prep.mentee_ids.decode([3])[0], prep.mentor_ids.decode([int(p.pairs.mentor[worst])])[0]]]
    prog = {"constraints": {"coverage_first": True, "locked": lock}}
    whole = pl.pair(mentors, mentees, prog)
    plain = pl.pair(mentors, mentees, {"constraints": {"locked": lock}})
    source = force_scale_path(monkeypatch, bounds)
    r = pl.pair(mentors, mentees, prog)
    assert r.certificate["method"] == "coverage first by a certified flow counting mentees"
    assert r.certificate["source"] == source
    assert r.status == whole.status == "optimal"
    assert len(r.pairs) == len(whole.pairs) >= len(plain.pairs)
    assert r.objective == pytest.approx(whole.objective, abs=1e-6)
    assert r.bound >= r.objective
    assert ((r.pairs["mentee_id"] == lock[0][0]) & (r.pairs["mentor_id"] == lock[0][1])).any()
    cap = mentors.set_index("id")["capacity"]
    load = r.pairs.groupby("mentor_id").size()
    assert (load <= cap.reindex(load.index)).all() and r.pairs["mentee_id"].is_unique


def test_each_flow_starts_from_the_last_ones_prices_and_changes_nothing(monkeypatch):
    """On bounds, every max-min flow after the first starts from the last certified flow's
    mentor prices instead of a sub-market's: the same pairs, threshold and status as cold
    flows (any prices are a valid start; the certificate is computed afresh)."""
    import mentormatch.solvers.bounded.start as start

    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=3)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    warm = pl.pair(mentors, mentees, MAXMIN)
    cert = warm.certificate
    assert cert["flows"] >= 2 and cert["warm_started_flows"] == cert["flows"] - 1
    cold_start = start.starting_from
    monkeypatch.setattr(start, "starting_from", lambda prices: cold_start(None))
    cold = pl.pair(mentors, mentees, MAXMIN)
    assert cold.certificate["warm_started_flows"] == 0
    assert warm.status == cold.status == "optimal"
    assert warm.certificate["threshold"] == cold.certificate["threshold"]
    key = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))
    assert key(warm) == key(cold) and warm.objective == cold.objective
    assert warm.certificate["weight"] == cold.certificate["weight"] > 0  # the W of s + W [s >= t]
