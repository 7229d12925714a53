"""Experience: years and level gaps against a sweet spot; junior mentors; age opt-in."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.experience import Experience, sweet_spot


def _run(feature, e_years, e_level, m_years, m_level, **extra):
    e = pd.DataFrame({"id": ["E"], "years_experience": [e_years], "level": [e_level],
                      **{k: [v[0]] for k, v in extra.items()}})
    m = pd.DataFrame({"id": ["M"], "years_experience": [m_years], "level": [m_level],
                      **{k: [v[1]] for k, v in extra.items()}})
    p = feature.prepare(e, m, Context())
    return p, p.values(np.array([0]), np.array([0]))[0]


def test_sweet_spot_and_linear_decay():
    # sweet spot (3, 10), width 5: 0 -> 1 - 3/5, 12 -> 1 - 2/5, 20 -> 0
    np.testing.assert_allclose(sweet_spot(np.array([0, 3, 7, 10, 12, 20]), 3, 10, 5),
                               [0.4, 1, 1, 1, 0.6, 0])


NARROW = {"years_gap": (3, 10), "level_gap": (1, 2), "years_decay": 5}  # the former defaults


def test_hand_values():
    narrow = Experience(**NARROW)
    assert _run(narrow, 2, 1, 14, 2)[1] == pytest.approx(0.8)   # (0.6 + 1) / 2
    assert _run(narrow, 2, 1, 3, 1)[1] == pytest.approx(0.55)   # (0.6 + 0.5) / 2
    assert _run(narrow, np.nan, 1, 3, 3)[1] == pytest.approx(1.0)  # level part alone
    assert np.isnan(_run(narrow, np.nan, np.nan, 3, np.nan)[1])
    # defaults (3, 25) years width 10, (1, 3) levels width 2
    assert _run(Experience(), 2, 1, 30, 4)[1] == pytest.approx(0.85)  # (0.7 + 1) / 2
    assert _run(Experience(), 2, 1, 40, 5)[1] == pytest.approx(0.25)  # (0 + 0.5) / 2


def test_default_sweet_spots_do_not_put_the_most_junior_last():
    """Issue 20: a level-1 mentee with 2 years has, on its best mentor, a score no lower than a
    level-4 manager with 25 years has on theirs (the former defaults gave 0.5 against 1.0)."""
    mentees = pd.DataFrame({"years_experience": [2.0, 25.0], "level": [1.0, 4.0]})
    mentors = pd.DataFrame({"years_experience": [18.0, 22.0, 30.0, 35.0], "level": [3.0, 4.0, 5.0, 5.0]})
    i, j = np.repeat(np.arange(2), 4), np.tile(np.arange(4), 2)
    for feature, junior_ahead in ((Experience(), True), (Experience(**NARROW), False)):
        best = feature.prepare(mentees, mentors, Context()).values(i, j).reshape(2, 4).max(axis=1)
        assert bool(best[0] >= best[1]) is junior_ahead


def test_junior_mentor_zero_or_ineligible():
    p, v = _run(Experience(), 10, 3, 20, 2)  # more years but a lower level: junior
    assert v == 0.0 and p.ineligible(np.array([0]), np.array([0])) is None
    p, v = _run(Experience(junior_mentor="ineligible"), 10, np.nan, 5, 4)  # level unknown: years
    assert v == 0.0 and p.ineligible(np.array([0]), np.array([0])).tolist() == [True]
    assert p.ineligible_rule == "experience.junior_mentor"


def test_age_is_opt_in_and_flagged():
    assert Experience().uses_protected_attribute is False
    f = Experience(use_age=True)
    assert f.uses_protected_attribute is True
    # years 1.0, level 1.0, age gap 40 -> 1 - 20/10 = 0: mean 2/3
    p, v = _run(f, 2, 1, 5, 2, age=(25.0, 65.0))
    assert v == pytest.approx(2 / 3)
    assert p.details(np.array([0]), np.array([0]))["age_gap"][0] == 40
    assert _run(Experience(), 2, 1, 5, 2, age=(25.0, 65.0))[1] == 1.0


@pytest.mark.parametrize("setting, value", [("years_gap", (5, 1)), ("level_gap", "1-2"),
                                            ("junior_mentor", "drop"), ("use_age", "yes"),
                                            ("years_decay", -1)])
def test_bad_settings(setting, value):
    with pytest.raises(ValidationError) as err:
        Experience(**{setting: value})
    assert setting in str(err.value)


num = st.one_of(st.none(), st.floats(0, 40)).map(lambda x: np.nan if x is None else x)


@given(st.lists(st.tuples(num, num, num, num), min_size=1, max_size=10))
def test_values_in_unit_interval_or_nan_when_unknown(rows):
    a = np.array(rows, dtype=float)
    e = pd.DataFrame({"id": [str(k) for k in range(len(a))], "years_experience": a[:, 0], "level": a[:, 1]})
    m = pd.DataFrame({"id": [str(k) for k in range(len(a))], "years_experience": a[:, 2], "level": a[:, 3]})
    k = np.arange(len(a))
    v = Experience().prepare(e, m, Context()).values(k, k)
    unknown = (np.isnan(a[:, 0]) | np.isnan(a[:, 2])) & (np.isnan(a[:, 1]) | np.isnan(a[:, 3]))
    assert np.array_equal(np.isnan(v), unknown)
    assert np.all((v[~unknown] >= 0) & (v[~unknown] <= 1))
