"""Requests that hold every eligible pair (stable, max-min, leximin, baselines) on the scale
path are refused up front, with the estimate and what works instead, when the pairs do not
fit: never a MemoryError from deep inside numpy."""
from __future__ import annotations

import pickle

import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.errors import MentormatchError, TooLargeError
from mentormatch.pipeline import large


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(large, "available_memory", lambda: 20 * 1024.0 ** 2)  # 20 MiB: 120,000 pairs need 26 MiB


@pytest.mark.parametrize("programme", [{"solver": "stable"},
                                       {"fairness": {"objective": "leximin", "groups": ["gender"]}}])
def test_solvers_that_hold_every_pair_are_refused_with_the_estimate(small_machine, programme):
    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    with pytest.raises(TooLargeError) as info:
        pl.pair(mentors, mentees, programme)
    err = info.value
    assert isinstance(err, MentormatchError)
    assert 0.9 * 600 * 200 <= err.pairs <= 600 * 200  # eligible pairs (exact or at most all)
    assert err.needed == err.pairs * large.BYTES_PER_HELD_PAIR
    assert "MiB available" in str(err) and "solver 'flow' or 'mip'" in str(err) and "pair_many" in str(err)
    assert pickle.loads(pickle.dumps(err)).pairs == err.pairs


def test_the_plain_flow_still_runs_and_its_baseline_is_refused_clearly(small_machine):
    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    result = pl.pair(mentors, mentees)
    assert result.status == "optimal"
    maxmin = pl.pair(mentors, mentees, {"fairness": {"objective": "maxmin"}})  # holds no pairs
    assert maxmin.status == "optimal"
    with pytest.raises(TooLargeError, match="a baseline over every eligible pair"):
        pl.baseline(result, "random")


def test_what_fits_runs(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=3)
    result = pl.pair(mentors, mentees, {"solver": "stable"})
    assert result.certificate["blocking_pairs"] == 0


def test_the_audit_and_the_command_line_say_why_there_is_no_baseline(small_machine):
    import io

    from mentormatch.cli import _print_summary, _random_baseline

    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    result = pl.pair(mentors, mentees)
    audit = result.audit()
    assert any(n.startswith("no baselines: a baseline over every eligible pair") for n in audit.notes)
    assert list(audit.lift["method"]) == ["result"]
    why = _random_baseline(result, 0)
    assert isinstance(why, str) and "needs every eligible pair in memory" in why
    out = io.StringIO()
    _print_summary(result, why, stream=out)
    assert "random assignment: not computed (a baseline over every eligible pair" in out.getvalue()


def test_a_time_out_is_not_called_infeasible(monkeypatch):
    """When the engine's time runs out before any assignment meeting the constraints is found
    (forced here: no candidate assignment counts as feasible) and none was proven impossible,
    the error is a TimeLimitError that says so, never an InfeasibleError (which claims a proof)."""
    import pickle

    from mentormatch.errors import InfeasibleError, TimeLimitError
    from mentormatch.solvers import relax

    monkeypatch.setattr(relax.Run, "feasible", lambda self, cand, on: False)
    mentors, mentees = synthetic.organisation(n_mentees=120, n_mentors=40, seed=3)
    prog = {"fairness": {"share_floor": 0.6, "floor_group": "region"}, "time_limit": 5}
    with pytest.raises(MentormatchError) as info:
        pl.pair(mentors, mentees, prog)
    assert not isinstance(info.value, InfeasibleError)
    assert isinstance(info.value, TimeLimitError) and "none was proven impossible" in str(info.value)
    assert "time limit of 5 s" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).stage == info.value.stage
