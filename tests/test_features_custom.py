"""A user's own feature: registered, weighed in the rules, scored through score_pairs, then
unregistered; the documented example (features/custom.py) by hand."""
import numpy as np
import pandas as pd
import pytest

from mentormatch.errors import ValidationError
from mentormatch.features import FEATURES, Context, register_feature
from mentormatch.features.base import check_number
from mentormatch.features.custom import SharedLanguage, language_bits
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.scoring import score_pairs

MENTEES = pd.DataFrame({"id": ["E1", "E2", "E3"], "tenure_years": [1.0, 4.0, np.nan],
                        "languages": ["English;French", "german", None]})
MENTORS = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1.0, 1.0], "tenure_years": [9.0, 2.0],
                        "languages": ["french", "English; German"]})
ALL = Candidates.complete(3, 2)


class _TenureGap:
    """Mentor tenure minus mentee tenure, scaled: 1 at ``scale`` years or more, 0 at none."""

    name = "test_tenure_gap"
    neutral = 0.5

    def __init__(self, *, scale: float = 8.0, min_gap: float | None = None):
        self.scale = check_number(self.name, "scale", scale, 0.0, strict_low=True)
        self.min_gap = None if min_gap is None else check_number(self.name, "min_gap", min_gap)

    def prepare(self, mentees, mentors, context):
        return _TenurePrepared(self, mentees["tenure_years"].to_numpy(float),
                               mentors["tenure_years"].to_numpy(float))


class _TenurePrepared:
    ineligible_rule = "test_tenure_gap.min"

    def __init__(self, feature, e, m):
        self.feature, self.e, self.m = feature, e, m

    def values(self, i, j):
        return np.clip((self.m[j] - self.e[i]) / self.feature.scale, 0.0, 1.0)  # NaN stays NaN

    def details(self, i, j):
        return {"tenure_gap": self.m[j] - self.e[i]}

    def ineligible(self, i, j):
        if self.feature.min_gap is None:
            return None
        with np.errstate(invalid="ignore"):
            return (self.m[j] - self.e[i]) < self.feature.min_gap


@pytest.fixture
def tenure_feature():
    register_feature(_TenureGap)
    try:
        yield _TenureGap
    finally:
        FEATURES.pop(_TenureGap.name, None)


def test_unregistered_name_is_refused():
    assert "test_tenure_gap" not in FEATURES
    with pytest.raises(ValidationError) as err:
        Rules.from_dict({"weights": {"test_tenure_gap": 1.0}})
    assert "test_tenure_gap" in str(err.value)


def test_registered_feature_scored_with_contributions_missing_and_rule(tenure_feature):
    rules = Rules.from_dict({"weights": {"test_tenure_gap": 2.0, "shared_language": 1.0},
                             "features": {"test_tenure_gap": {"scale": 4.0, "min_gap": 0.0}}})
    s = score_pairs(MENTEES, MENTORS, ALL, rules, Context())
    assert s.features == ["shared_language", "test_tenure_gap"]  # features not built in: by name
    # tenure gaps: E1: 8, 1; E2: 5, -2; E3 unknown -> neutral 0.5, flagged
    np.testing.assert_allclose(s.values[:, 1], [1.0, 0.25, 1.0, 0.0, 0.5, 0.5])
    assert s.missing[:, 1].tolist() == [False] * 4 + [True] * 2
    # languages: E1 shares French with M1 and English with M2; E2 German with M2; E3 none listed
    np.testing.assert_allclose(s.values[:, 0], [1.0, 1.0, 0.0, 1.0, 0.5, 0.5])
    np.testing.assert_allclose(s.contributions.sum(axis=1), s.total)
    np.testing.assert_allclose(s.total, [3.0, 1.5, 2.0, 1.0, 1.5, 1.5])
    assert s.ineligible["test_tenure_gap.min"].tolist() == [False, False, False, True, False, False]
    assert s.details("test_tenure_gap", [0], [1])["tenure_gap"].tolist() == [1.0]


def test_registered_feature_settings_are_validated(tenure_feature):
    for bad in ({"scale": 0}, {"speed": 1.0}):
        # checked when the rules are made (issue 20), not first when scoring
        with pytest.raises(ValidationError) as err:
            Rules.from_dict({"weights": {"test_tenure_gap": 1.0}, "features": {"test_tenure_gap": bad}})
        assert f"features.test_tenure_gap.{next(iter(bad))}" in str(err.value)


def test_shared_language_by_hand():
    p = SharedLanguage().prepare(MENTEES, MENTORS, Context())
    i, j = ALL.mentee, ALL.mentor
    np.testing.assert_array_equal(p.values(i, j), [1.0, 1.0, 0.0, 1.0, np.nan, np.nan])
    assert p.details(i, j)["shared_language"].tolist() == [True, True, False, True, False, False]
    assert p.ineligible(i, j) is None
    strict = SharedLanguage(required=True).prepare(MENTEES, MENTORS, Context())
    assert strict.ineligible(i, j).tolist() == [False, False, True, False, False, False]
    for bad in ({"column": ""}, {"required": "yes"}):
        with pytest.raises(ValidationError) as err:
            SharedLanguage(**bad)
        assert next(iter(bad)) in str(err.value)


def test_shared_language_beyond_64_languages():
    vocab = pd.Index([f"l{k:03d}" for k in range(130)])
    bits = language_bits(np.array(["l000;l129", "l064", ""], dtype=object), vocab)
    assert bits.shape == (3, 3)
    assert bits[0].tolist() == [1, 0, 2] and bits[1].tolist() == [0, 1, 0]
    e = pd.DataFrame({"id": ["E1"], "languages": ["l129"]})
    m = pd.DataFrame({"id": ["M1", "M2"], "languages": [";".join(vocab[:129]), "l129;l000"]})
    p = SharedLanguage().prepare(e, m, Context())
    assert p.values(np.array([0, 0]), np.array([0, 1])).tolist() == [0.0, 1.0]
