"""Preference: mutual first choice highest, one-sided by rank, manager bonus, unranked neutral."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.preference import Preference

MENTEES = pd.DataFrame({"id": ["E1", "E2", "E3"],
                        "preferences": [("M1", "M2"), ("M2",), ()],
                        "manager_suggestions": [(), ("M1",), ()]})
MENTORS = pd.DataFrame({"id": ["M1", "M2"], "preferences": [("E1",), ()]})


def _all(feature=None):
    p = (feature or Preference()).prepare(MENTEES, MENTORS, Context())
    i, j = np.repeat(np.arange(3), 2), np.tile(np.arange(2), 3)
    return p, p.values(i, j).reshape(3, 2)


def test_values_by_hand():
    _, v = _all()
    # E1-M1 mutual first choices: 0.5 + 0.25 (1 + 1) = 1
    # E1-M2 one-sided, rank 2 of 2: 0.25 + 0.25 * 1/2 = 0.375
    # E2-M1 unranked, manager suggested: 0.2;  E2-M2 one-sided first choice: 0.5
    # E3: no preferences: 0 with every mentor
    np.testing.assert_allclose(v, [[1.0, 0.375], [0.2, 0.5], [0.0, 0.0]])
    assert v.max() == v[0, 0]
    assert Preference.neutral == 0.0 and not np.isnan(v).any()


def test_manager_bonus_setting_and_details():
    p, v = _all(Preference(manager_bonus=0.0))
    assert v[1, 0] == 0.0
    d = p.details(np.array([0, 1]), np.array([0, 0]))
    assert d["mentee_rank"].tolist() == [1, 0] and d["mentor_rank"].tolist() == [1, 0]
    assert d["mutual"].tolist() == [True, False] and d["manager_suggested"].tolist() == [False, True]
    with pytest.raises(ValidationError) as err:
        Preference(manager_bonus=2)
    assert "manager_bonus" in str(err.value)


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_mutual_beats_one_sided_beats_unranked(n_e, n_m, data):
    mentor_ids = [f"M{k}" for k in range(n_m)]
    mentee_ids = [f"E{k}" for k in range(n_e)]
    e_lists = [tuple(data.draw(st.permutations(mentor_ids)))[:data.draw(st.integers(0, n_m))] for _ in range(n_e)]
    m_lists = [tuple(data.draw(st.permutations(mentee_ids)))[:data.draw(st.integers(0, n_e))] for _ in range(n_m)]
    e = pd.DataFrame({"id": mentee_ids, "preferences": e_lists})
    m = pd.DataFrame({"id": mentor_ids, "preferences": m_lists})
    p = Preference().prepare(e, m, Context())
    i, j = np.repeat(np.arange(n_e), n_m), np.tile(np.arange(n_m), n_e)
    v = p.values(i, j)
    d = p.details(i, j)
    mutual, one = d["mutual"], (d["mentee_rank"] > 0) ^ (d["mentor_rank"] > 0)
    none = (d["mentee_rank"] == 0) & (d["mentor_rank"] == 0)
    assert np.all((v >= 0) & (v <= 1))
    assert np.all(v[none] == 0)
    assert np.all(v[one] > 0.25) and np.all(v[one] <= 0.5)
    assert np.all(v[mutual] > 0.5)
