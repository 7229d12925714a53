"""Max-min on the scale path (solvers/bottleneck.py: certified flows on s + W [s >= t], no pair
list held) against the in-memory max-min of solvers/fair.py on every eligible pair."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.fair import solve_maxmin

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


def test_a_time_out_returns_the_best_witness_and_says_so(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=1)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    result = pl.pair(mentors, mentees, {**MAXMIN, "time_limit": 1e-6})
    assert result.status == "feasible" and "time limit" in result.data["solution"].message
    lo, hi = result.certificate["threshold_bracket"]
    assert result.pairs["score"].min() >= lo - 1e-12 and hi > lo
    assert len(result.pairs) == result.certificate["matched"]
