"""CP-SAT's max-min and leximin under side constraints on the scale path (forced small with
``LARGE_PAIRS``): no search log the user did not ask for."""
from __future__ import annotations

import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_no_search_log_on_the_scale_path(monkeypatch, capfd, objective):
    """The complete set writes no CP-SAT log; the scale path (whose own progress bars are on)
    wrote CP-SAT's whole search log to stderr (old code)."""
    mentors, mentees = synthetic.organisation(n_mentees=12, n_mentors=6, seed=2)
    programme = {"fairness": {"objective": objective, "groups": ["gender"],
                              "floor_group": "gender", "share_floor": 0.4}}
    small = pl.pair(mentors, mentees, programme)
    capfd.readouterr()
    monkeypatch.setattr(pl, "LARGE_PAIRS", 10)
    large = pl.pair(mentors, mentees, programme)
    err = capfd.readouterr().err
    assert "CP-SAT" not in err and "#Bound" not in err and "#Done" not in err, err[:400]
    assert large.status == small.status == "optimal"
    assert sorted(map(tuple, large.pairs[["mentee_id", "mentor_id"]].to_numpy())) == \
        sorted(map(tuple, small.pairs[["mentee_id", "mentor_id"]].to_numpy()))
