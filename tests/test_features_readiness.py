"""Readiness: several criteria, mentor only, min_readiness rule."""
import numpy as np
import pandas as pd
import pytest

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.readiness import Readiness

MENTORS = pd.DataFrame({"id": ["A", "B", "C"], "performance": [5.0, 1.0, np.nan],
                        "leadership_feedback": [3.0, 5.0, np.nan], "tenure_years": [5.0, 20.0, np.nan]})
MENTEES = pd.DataFrame({"id": ["E1", "E2"]})


def test_weighted_mean_of_criteria_by_hand():
    p = Readiness().prepare(MENTEES, MENTORS, Context())
    v = p.values(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]))
    # A: (1 + 0.5 + 0.5) / 3; B: (0 + 1 + 1) / 3 (tenure capped); C: unknown
    np.testing.assert_allclose(v, [2 / 3, 2 / 3, np.nan, 2 / 3])
    f = Readiness(criteria_weights={"performance": 3.0, "leadership_feedback": 1.0})
    v = f.prepare(MENTEES, MENTORS, Context()).values(np.array([0, 0]), np.array([0, 1]))
    np.testing.assert_allclose(v, [(3 * 1 + 0.5) / 4, (0 + 1) / 4])  # not sales results alone


def test_min_readiness_makes_low_mentors_ineligible_but_not_unknown_ones():
    f = Readiness(criteria_weights={"performance": 1.0}, min_readiness=0.5)
    p = f.prepare(MENTEES, MENTORS, Context())
    assert p.ineligible(np.array([0, 0, 0]), np.array([0, 1, 2])).tolist() == [False, True, False]
    assert p.ineligible_rule == "readiness.min"
    assert Readiness().prepare(MENTEES, MENTORS, Context()).ineligible(np.array([0]), np.array([0])) is None


@pytest.mark.parametrize("kw", [{"criteria_weights": {"sales": 1.0}}, {"min_readiness": 2},
                                {"criteria_weights": {"performance": 0}}, {"tenure_cap_years": 0}])
def test_bad_settings(kw):
    with pytest.raises(ValidationError) as err:
        Readiness(**kw)
    assert next(iter(kw)) in str(err.value)
