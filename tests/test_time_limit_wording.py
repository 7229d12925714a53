"""TimeLimitError says what happened: no assignment meeting the constraints found and nothing
proven within the search's budget, whether the time limit passed or the search ended with time
left (then more time alone does not help), and what to try; the class stays the same."""
from __future__ import annotations

import pickle
import re

import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.errors import InfeasibleError, MentormatchError, TimeLimitError


def test_each_reason_has_its_own_true_wording():
    timed = str(TimeLimitError(5, "score", "raise the time limit", reason="time"))
    assert timed.startswith("the time limit of 5 s passed before any assignment")
    assert "none was proven impossible" in timed and timed.endswith("raise the time limit")
    left = str(TimeLimitError(5, "score", "relax the floors", reason="search"))
    assert "passed" not in left and "ended with time left, before the time limit of 5 s" in left
    assert "more time alone will not help; relax the floors" in left
    with pytest.raises(ValueError, match="reason 'late'"):
        TimeLimitError(5, "score", "x", reason="late")
    with pytest.raises(ValueError, match="reason None"):  # every raiser knows what ended it
        TimeLimitError(5, "score", "x", reason=None)
    with pytest.raises(TypeError, match="reason"):
        TimeLimitError(5, "score", "x")


@pytest.mark.parametrize("reason", ["time", "search"])
def test_pickles_with_its_reason(reason):
    e = TimeLimitError(2.5, "coverage", "relax", reason=reason)
    back = pickle.loads(pickle.dumps(e))
    assert (back.seconds, back.stage, back.advice, back.reason) == (2.5, "coverage", "relax", reason)
    assert str(back) == str(e) and isinstance(back, MentormatchError)


def _never_feasible(monkeypatch):
    from mentormatch.solvers import relax

    monkeypatch.setattr(relax.Run, "feasible", lambda self, cand, on: False)
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=3)
    return mentors, mentees


def test_the_engine_says_the_search_ended_with_time_left_above_the_all_pairs_size(monkeypatch):
    """Nothing is ever found (forced) and the source counts as too large for the MIP over
    every pair (the threshold lowered to 0): the search ends long before its 60 s, and the
    error says so, names the round's pairs and the threshold, and never says the time passed."""
    from mentormatch.solvers import stage

    mentors, mentees = _never_feasible(monkeypatch)
    monkeypatch.setattr(stage, "ALL_PAIRS_AT_MOST", 0)
    prog = {"fairness": {"share_floor": 0.6, "floor_group": "region"}, "time_limit": 60}
    with pytest.raises(MentormatchError) as info:
        pl.pair(mentors, mentees, prog)
    e = info.value
    assert isinstance(e, TimeLimitError) and not isinstance(e, InfeasibleError)
    assert e.reason == "search" and e.seconds == 60
    text = str(e)
    assert "passed" not in text and "ended with time left, before the time limit of 60 s" in text
    assert re.search(r"the round has [0-9,]+ eligible pairs, more than the 0 the exact MIP", text)
    assert "more time alone will not help" in text and "relax the side constraints" in text


def test_the_engine_says_the_time_limit_passed_when_it_did(monkeypatch):
    mentors, mentees = _never_feasible(monkeypatch)
    prog = {"fairness": {"share_floor": 0.6, "floor_group": "region"}, "time_limit": 0.01}
    with pytest.raises(TimeLimitError) as info:
        pl.pair(mentors, mentees, prog)
    assert info.value.reason == "time"
    assert str(info.value).startswith("the time limit of 0.01 s passed before any assignment")
