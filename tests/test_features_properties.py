"""Properties every built-in feature keeps, on drawn organisations with holes in their data:
values in [0, 1] or NaN, NaN only where data are missing, any order or subset of pairs gives
the same values, deterministic, inputs untouched."""
import numpy as np
import pandas as pd
from hypothesis import given, strategies as st

from mentormatch.features import FEATURES, Context
from mentormatch.schema import BIG_FIVE

from strategies import career_frameworks, people_tables

BUILTIN = ("geography", "experience", "personality", "competency", "preference", "readiness")
READINESS = ("performance", "leadership_feedback", "tenure_years")


@st.composite
def organisations(draw, framework: bool = True):
    """(mentors, mentees, framework or None) with mentor-quality columns, ranked preferences,
    manager suggestions, and some cells blanked out."""
    fw = draw(career_frameworks()) if framework else None
    mentors, mentees = draw(people_tables(max_mentees=6, max_mentors=4, framework=fw, managers=False))
    n_m, n_e = len(mentors), len(mentees)
    mentors["performance"] = draw(st.lists(st.integers(1, 5), min_size=n_m, max_size=n_m))
    mentors["leadership_feedback"] = draw(st.lists(st.integers(1, 5), min_size=n_m, max_size=n_m))
    mentors["tenure_years"] = draw(st.lists(st.floats(0, 30), min_size=n_m, max_size=n_m))
    e_ids, m_ids = mentees["id"].tolist(), mentors["id"].tolist()
    mentees["preferences"] = [tuple(draw(st.permutations(m_ids)))[:draw(st.integers(0, n_m))] for _ in e_ids]
    mentors["preferences"] = [tuple(draw(st.permutations(e_ids)))[:draw(st.integers(0, n_e))] for _ in m_ids]
    mentees["manager_suggestions"] = [tuple(draw(st.lists(st.sampled_from(m_ids), max_size=2, unique=True)))
                                      for _ in e_ids]
    for frame in (mentors, mentees):
        numeric = [c for c in frame.columns if frame[c].dtype.kind in "fi" and c not in ("capacity", "level")]
        for c in numeric:
            holes = draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
            frame[c] = frame[c].astype(float).mask(np.array(holes) & draw(st.booleans()))
        if fw is not None:
            holes = draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))
            frame["role"] = frame["role"].mask(np.array(holes) & draw(st.booleans()))
    return mentors, mentees, fw


def _complete(n_e, n_m):
    return np.repeat(np.arange(n_e), n_m), np.tile(np.arange(n_m), n_e)


@given(organisations(), st.randoms(use_true_random=False))
def test_every_feature_in_range_consistent_and_deterministic(org, rnd):
    mentors, mentees, fw = org
    before = (mentors.copy(), mentees.copy())
    n_e, n_m = len(mentees), len(mentors)
    i, j = _complete(n_e, n_m)
    ctx = Context(framework=fw)
    order = list(range(len(i)))
    rnd.shuffle(order)
    order = np.array(order[:max(1, len(order) // 2)], dtype=np.int64)
    values = {}
    for name in BUILTIN:
        v = FEATURES[name]().prepare(mentees, mentors, ctx).values(i, j)
        assert v.dtype == np.float64 and v.shape == i.shape
        assert np.all(np.isnan(v) | ((v >= 0) & (v <= 1))), name
        again = FEATURES[name]().prepare(mentees, mentors, ctx)
        np.testing.assert_array_equal(again.values(i, j), v)  # deterministic (NaN == NaN here)
        np.testing.assert_array_equal(again.values(i[order], j[order]), v[order])  # any subset, any order
        values[name] = v.reshape(n_e, n_m)
    pd.testing.assert_frame_equal(mentors, before[0])
    pd.testing.assert_frame_equal(mentees, before[1])

    # NaN exactly where the data are missing
    e_traits = mentees[list(BIG_FIVE)].notna().to_numpy()
    m_traits = mentors[list(BIG_FIVE)].notna().to_numpy()
    shared_trait = (e_traits[:, None, :] & m_traits[None, :, :]).any(axis=2)
    assert np.array_equal(np.isnan(values["personality"]), ~shared_trait)
    has_criterion = mentors[list(READINESS)].notna().any(axis=1).to_numpy()
    assert np.array_equal(np.isnan(values["readiness"]), np.broadcast_to(~has_criterion, (n_e, n_m)))
    assert not np.isnan(values["preference"]).any()
    e_levels = mentees[fw.columns].notna().any(axis=1).to_numpy() & mentees["role"].notna().to_numpy()
    m_levels = mentors[fw.columns].notna().any(axis=1).to_numpy()
    assert np.isnan(values["competency"][~e_levels]).all()
    assert np.isnan(values["competency"][:, ~m_levels]).all()


@given(organisations(framework=False))
def test_personality_similar_is_maximal_for_identical_profiles(org):
    mentors, mentees, _ = org
    # the mentees meet themselves as mentors: the same table, so the same scale
    p = FEATURES["personality"]().prepare(mentees, mentees, Context())
    n = len(mentees)
    i, j = _complete(n, n)
    v = p.values(i, j).reshape(n, n)
    for k in range(n):
        if mentees.loc[k, list(BIG_FIVE)].notna().any():
            assert v[k, k] == 1.0 and np.nanmax(v[k]) == 1.0
        else:
            assert np.isnan(v[k]).all()


@given(organisations(framework=False))
def test_readiness_depends_on_the_mentor_only(org):
    mentors, mentees, _ = org
    p = FEATURES["readiness"]().prepare(mentees, mentors, Context())
    i, j = _complete(len(mentees), len(mentors))
    v = p.values(i, j).reshape(len(mentees), len(mentors))
    np.testing.assert_array_equal(v, np.broadcast_to(v[0], v.shape))
