"""Scoring: weighted sums, contributions, neutral filling flagged, eligibility rules, top-k."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import FEATURES, Context, register_feature
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.scoring import candidate_top_k, score_pairs

MENTEES = pd.DataFrame({"id": ["E1", "E2", "E3"], "years_experience": [2.0, np.nan, 5.0],
                        "level": [1.0, np.nan, 3.0], "openness": [4.0, 3.0, np.nan],
                        "timezone": ["Europe/London", "America/New_York", np.nan],
                        "preferences": [("M1",), (), ()]})
MENTORS = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1.0, 1.0], "years_experience": [8.0, 20.0],
                        "level": [2.0, 2.0], "openness": [4.0, 5.0],
                        "timezone": ["Europe/London", "Asia/Tokyo"], "performance": [5.0, 1.0],
                        "preferences": [(), ()]})
ALL = Candidates.complete(3, 2)
RULES = Rules.from_dict({"weights": {"experience": 1.0, "geography": 0.5, "personality": 2.0,
                                     "preference": 1.0, "readiness": 0.0},
                         "features": {"geography": {"mode": "remote"}}})


def test_totals_contributions_and_missing_flags():
    s = score_pairs(MENTEES, MENTORS, ALL, RULES, Context())
    # (the built-in features in their own order, whatever the order written: rules.weights)
    assert s.features == ["geography", "experience", "personality", "preference"]
    np.testing.assert_allclose(s.contributions.sum(axis=1), s.total)
    np.testing.assert_allclose(s.contributions, s.values * s.weights)
    assert s.total.shape == (6,) and not np.isnan(s.values).any()
    # E2 has no years/level: experience neutral and flagged; E3 has no time zone or openness
    geo, exp, per = 0, 1, 2
    assert s.missing[[2, 3], exp].all() and not s.missing[[0, 1, 4, 5], exp].any()
    assert s.missing[[4, 5], geo].all() and s.missing[[4, 5], per].all()
    assert (s.values[s.missing[:, exp], exp] == 0.5).all()
    # E1-M1: experience (years 6 -> 1, level 1 -> 1) = 1; same time zone -> 1; same openness -> 1;
    # one-sided first choice of a 1-long list -> 0.5
    np.testing.assert_allclose(s.values[0], [1.0, 1.0, 1.0, 0.5])
    assert s.total[0] == pytest.approx(1.0 + 0.5 + 2.0 + 0.5)
    assert s.details("geography", [0], [1])["shared_hours"][0] == 0.0  # London-Tokyo in July


def test_blocks_do_not_change_results():
    a = score_pairs(MENTEES, MENTORS, ALL, RULES, Context(), block_rows=1)
    b = score_pairs(MENTEES, MENTORS, ALL, RULES, Context(), block_rows=4096)
    np.testing.assert_array_equal(a.total, b.total)
    np.testing.assert_array_equal(a.missing, b.missing)


def test_sparse_candidates_match_the_complete_set():
    full = score_pairs(MENTEES, MENTORS, ALL, RULES, Context())
    some = Candidates.from_arrays([0, 2, 1], [1, 0, 1], 3, 2)
    part = score_pairs(MENTEES, MENTORS, some, RULES, Context())
    np.testing.assert_array_equal(part.total, full.total[ALL.locate(some.mentee, some.mentor)])


@given(st.floats(0.01, 100))
def test_scaling_all_weights_scales_totals_exactly(c):
    base = score_pairs(MENTEES, MENTORS, ALL, RULES, Context())
    scaled_rules = Rules.from_dict({**RULES.to_dict(), "weights": {k: v * c for k, v in RULES.weights.items()}})
    scaled = score_pairs(MENTEES, MENTORS, ALL, scaled_rules, Context())
    np.testing.assert_allclose(scaled.total, c * base.total, rtol=1e-12)
    # hence the same preferred mentor per mentee
    assert np.array_equal(np.argmax(scaled.total.reshape(3, 2), axis=1), np.argmax(base.total.reshape(3, 2), axis=1))


def test_ineligibility_rules_apply_even_at_weight_zero():
    rules = Rules.from_dict({"weights": {"experience": 1.0},
                             "features": {"experience": {"junior_mentor": "ineligible"},
                                          "readiness": {"min_readiness": 0.5}}})
    s = score_pairs(MENTEES, MENTORS, ALL, rules, Context())
    assert s.features == ["experience"]
    # E3 is level 3, both mentors level 2: junior
    assert s.ineligible["experience.junior_mentor"].tolist() == [False, False, False, False, True, True]
    # M2's performance 1 -> readiness 0 (tenure, feedback unknown)
    assert s.ineligible["readiness.min"].tolist() == [False, True] * 3


def test_unknown_or_bad_feature_setting_raises_naming_it():
    with pytest.raises(ValidationError) as err:
        score_pairs(MENTEES, MENTORS, ALL, Rules.from_dict({"features": {"geography": {"moode": "remote"}}}))
    assert "features.geography.moode" in str(err.value)
    with pytest.raises(ValidationError) as err:
        score_pairs(MENTEES, MENTORS, ALL, Rules.from_dict({"features": {"geography": {"mode": "teleport"}}}))
    assert "teleport" in str(err.value)


def test_a_user_feature_registered_and_scored():
    class _Prepared:
        def __init__(self, a, b):
            self.a, self.b = a, b

        def values(self, i, j):
            return np.where((self.a[i] == "") | (self.b[j] == ""), np.nan, (self.a[i] == self.b[j]) * 1.0)

        def details(self, i, j):
            return {"same": self.a[i] == self.b[j]}

        def ineligible(self, i, j):
            return None

    @register_feature
    class SameTimezone:
        name = "test_same_timezone"
        neutral = 0.25

        def __init__(self, *, column: str = "timezone"):
            self.column = column

        def prepare(self, mentees, mentors, context):
            get = lambda t: t[self.column].fillna("").astype(str).to_numpy()
            return _Prepared(get(mentees), get(mentors))

    try:
        rules = Rules.from_dict({"weights": {"test_same_timezone": 2.0}})
        s = score_pairs(MENTEES, MENTORS, ALL, rules, Context())
        np.testing.assert_allclose(s.total, [2.0, 0.0, 0.0, 0.0, 0.5, 0.5])
        assert s.missing[:, 0].tolist() == [False] * 4 + [True] * 2
    finally:
        FEATURES.pop("test_same_timezone", None)


def test_candidate_top_k():
    score = np.array([0.2, 0.9, 0.5, 0.5, 0.1, 0.3])  # mentees 0, 1, 2 x mentors 0, 1
    top = candidate_top_k(score, ALL, 1)
    assert list(zip(top.mentee, top.mentor)) == [(0, 1), (1, 0), (2, 1)]  # tie -> lower mentor
    assert len(candidate_top_k(score, ALL, 5)) == 6
    with pytest.raises(ValueError):
        candidate_top_k(score, ALL, 0)


def test_documented_custom_example_through_scoring():
    import mentormatch.features.custom  # noqa: F401  (registers "shared_language")

    e = MENTEES.assign(languages=["fr; en", "en", None])
    m = MENTORS.assign(languages=["FR", "de"])
    rules = Rules.from_dict({"weights": {"shared_language": 1.0},
                             "features": {"shared_language": {"required": True}}})
    s = score_pairs(e, m, ALL, rules, Context())
    np.testing.assert_allclose(s.total, [1.0, 0.0, 0.0, 0.0, 0.5, 0.5])
    assert s.missing[:, 0].tolist() == [False] * 4 + [True] * 2
    assert s.ineligible["shared_language.ineligible"].tolist() == [False, True, True, True, False, False]


def _framework_tables():
    from mentormatch.careers import CareerFramework

    fw = CareerFramework.sales()
    sdr, senior = fw.required.loc["sdr"], fw.required.loc["senior_ae"]
    mentees = MENTEES.assign(role=["sdr", "sdr", np.nan],
                             **{f"comp_{c}": [sdr[c], np.nan, sdr[c]] for c in fw.competencies})
    mentors = MENTORS.assign(leadership_feedback=[4.0, np.nan], tenure_years=[12.0, np.nan],
                             **{f"comp_{c}": [senior[c], 0.0] for c in fw.competencies})
    return fw, mentees, mentors


def test_default_programme_scores_every_pair():
    # every feature of rules.DEFAULT_WEIGHTS is registered and scores; nobody is dropped
    fw, mentees, mentors = _framework_tables()
    s = score_pairs(mentees, mentors, ALL, Rules(), Context(framework=fw))
    assert s.features == list(Rules().weights)
    assert s.total.shape == (6,) and np.isfinite(s.total).all()
    np.testing.assert_allclose(s.contributions.sum(axis=1), s.total)
    assert s.values.min() >= 0 and s.values.max() <= 1
    comp = s.features.index("competency")
    # E1 (an SDR at SDR mastery) has gaps toward Account Executive that M1 covers all of and
    # M2 none of; E2 has no levels and E3 no role: neutral 0.5, flagged, still scored
    assert s.values[[0, 1], comp].tolist() == [1.0, 0.0]
    assert s.missing[:, comp].tolist() == [False, False, True, True, True, True]
    assert (s.values[s.missing[:, comp], comp] == 0.5).all()
    assert not s.missing[:, s.features.index("preference")].any()  # unranked is 0, not missing
    # M2 has only a performance rating (1 -> 0); M1 all three criteria
    ready = s.features.index("readiness")
    np.testing.assert_allclose(s.values[[0, 1], ready], [(1.0 + 0.75 + 1.0) / 3, 0.0])
    assert sorted(set(zip(ALL.mentee.tolist(), ALL.mentor.tolist()))) == \
        [(i, j) for i in range(3) for j in range(2)]


@given(st.integers(-6, 6))
def test_scaling_weights_by_a_power_of_two_scales_totals_bit_for_bit(k):
    fw, mentees, mentors = _framework_tables()
    base = score_pairs(mentees, mentors, ALL, Rules(), Context(framework=fw))
    c = 2.0 ** k
    scaled = score_pairs(mentees, mentors, ALL,
                         Rules.from_dict({"weights": {n: w * c for n, w in Rules().weights.items()}}),
                         Context(framework=fw))
    np.testing.assert_array_equal(scaled.total, c * base.total)
    np.testing.assert_array_equal(scaled.contributions, c * base.contributions)
    np.testing.assert_array_equal(scaled.missing, base.missing)
