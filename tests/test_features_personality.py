"""Personality: Big Five similar/complementary by hand, scales, missing traits."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.personality import Personality
from mentormatch.schema import BIG_FIVE

I0 = np.array([0])


def _pair(feature, mentee: dict, mentor: dict):
    e = pd.DataFrame({"id": ["E"], **{k: [v] for k, v in mentee.items()}})
    m = pd.DataFrame({"id": ["M"], **{k: [v] for k, v in mentor.items()}})
    return feature.prepare(e, m, Context()).values(I0, I0)[0]


def test_similar_and_complementary_by_hand():
    e = {"openness": 5.0, "extraversion": 2.0, "agreeableness": 3.0}
    m = {"openness": 3.0, "extraversion": 4.0, "agreeableness": 3.0}
    # 1-5 scale -> diffs 0.5, 0.5, 0: similar parts 0.5, 0.5, 1 -> mean 2/3
    assert _pair(Personality(), e, m) == pytest.approx(2 / 3)
    # extraversion complementary (0.5), others similar (0.5, 1): then openness weighted 3 and agreeableness ignored:
    f = Personality(modes={"extraversion": "complementary", "agreeableness": "ignore"},
                    trait_weights={"openness": 3.0})
    assert _pair(f, e, m) == pytest.approx((3 * 0.5 + 1 * 0.5) / 4)


def test_zero_one_scale_read_as_is():
    assert _pair(Personality(), {"openness": 0.9}, {"openness": 0.6}) == pytest.approx(0.7)


def test_missing_trait_skipped_and_no_trait_nan():
    assert _pair(Personality(), {"openness": 4.0, "neuroticism": np.nan},
                 {"openness": 4.0, "neuroticism": 2.0}) == 1.0
    assert np.isnan(_pair(Personality(), {"openness": np.nan}, {"openness": 3.0}))


@pytest.mark.parametrize("kw", [{"modes": {"openness": "opposite"}}, {"modes": {"humour": "similar"}},
                                {"trait_weights": {"openness": -1}},
                                {"modes": {t: "ignore" for t in BIG_FIVE}}])
def test_bad_settings(kw):
    with pytest.raises(ValidationError) as err:
        Personality(**kw)
    assert next(iter(kw)) in str(err.value)


profile = st.lists(st.one_of(st.none(), st.floats(1, 5)), min_size=5, max_size=5)


@given(st.lists(profile, min_size=1, max_size=6))
def test_similar_maximal_for_identical_profiles(rows):
    a = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    a[0, 0] = 5.0  # keep the table on the 1-5 scale
    t = pd.DataFrame(a, columns=list(BIG_FIVE)).assign(id=[str(k) for k in range(len(a))])
    p = Personality().prepare(t, t, Context())
    n = len(a)
    i, j = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    v = p.values(i, j).reshape(n, n)
    known = ~np.isnan(v)
    assert np.all((v[known] >= 0) & (v[known] <= 1))
    for k in range(n):
        if not np.isnan(a[k]).all():
            assert v[k, k] == 1.0
            assert np.all(v[k][known[k]] <= 1.0)
        else:
            assert np.isnan(v[k, k])


def test_the_scale_is_decided_over_both_tables_together():
    """An all-1 mentee on the 1-5 scale is at the bottom against an all-5 mentor (issue 20)."""
    from mentormatch.features.personality import Personality

    mentees = pd.DataFrame({t: [1.0] for t in BIG_FIVE})
    mentors = pd.DataFrame({t: [5.0] for t in BIG_FIVE})
    prepared = Personality().prepare(mentees, mentors, Context())
    assert prepared.values(np.array([0]), np.array([0])).tolist() == [0.0]


def test_a_zero_one_table_beside_a_one_five_table_is_refused():
    from mentormatch.errors import ValidationError
    from mentormatch.schema import validate_tables

    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1], "openness": [4.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "openness": [0.3, 1.0]})
    with pytest.raises(ValidationError) as info:
        validate_tables(mentors, mentees)
    (p,) = info.value.problems
    assert (p.table, p.row_id, p.column, p.value) == ("mentees", "E1", "openness", 0.3)
    assert "one scale" in p.expected
