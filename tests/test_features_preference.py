"""Preference: mutual first choice highest, one-sided by rank (mentor side smaller), manager
suggestion a small bonus, unranked neutral (0)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.preference import Preference, rank_matrix

MENTEES = pd.DataFrame({"id": ["E1", "E2", "E3"],
                        "preferences": [("M1", "M2"), ("M2",), ()],
                        "manager_suggestions": [(), ("M1",), ()]})
MENTORS = pd.DataFrame({"id": ["M1", "M2"], "preferences": [("E1",), ("E3",)]})


def _all(feature=None, mentees=MENTEES, mentors=MENTORS):
    n, m = len(mentees), len(mentors)
    p = (feature or Preference()).prepare(mentees, mentors, Context())
    i, j = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    return p, p.values(i, j).reshape(n, m)


def test_values_by_hand():
    _, v = _all()
    # E1-M1 mutual first choices: 0.6 + 0.4 * (1 + 1) / 2 = 1
    # E1-M2 mentee only, rank 2 of 2: 0.5 * (1 - 1/2) = 0.25
    # E2-M1 unranked, manager suggested: 0.1;  E2-M2 mentee's first choice: 0.5
    # E3-M1 nobody: 0;  E3-M2 mentor's first choice only: 0.3 (smaller than the mentee side)
    np.testing.assert_allclose(v, [[1.0, 0.25], [0.1, 0.5], [0.0, 0.3]])
    assert v.max() == v[0, 0]
    assert Preference.neutral == 0.0 and not np.isnan(v).any()


def test_mutual_by_hand_below_first_choices():
    e = pd.DataFrame({"id": ["E1"], "preferences": [("M2", "M1")]})
    m = pd.DataFrame({"id": ["M1", "M2"], "preferences": [("E1",), ()]})
    _, v = _all(mentees=e, mentors=m)
    # E1-M1 mutual, the mentee's 2nd of 2 (0.5) and the mentor's 1st (1): 0.6 + 0.4 * 0.75 = 0.9
    np.testing.assert_allclose(v, [[0.9, 0.5]])


def test_details_and_settings():
    p, v = _all(Preference(suggestion_bonus=0.0, mentee_weight=0.4, mentor_weight=0.2, mutual_base=0.5))
    np.testing.assert_allclose(v, [[1.0, 0.2], [0.0, 0.4], [0.0, 0.2]])
    d = p.details(np.array([0, 1, 2]), np.array([0, 0, 1]))
    np.testing.assert_array_equal(d["mentee_rank"], [1, np.nan, np.nan])
    np.testing.assert_array_equal(d["mentor_rank"], [1, np.nan, 1])
    assert d["mutual"].tolist() == [True, False, False]
    assert d["suggested"].tolist() == [False, True, False]


@pytest.mark.parametrize("kw", [{"suggestion_bonus": 2}, {"mentee_weight": -0.1}, {"mentor_weight": "high"},
                                {"mutual_base": 0.4}])
def test_bad_settings_name_the_setting(kw):
    with pytest.raises(ValidationError) as err:
        Preference(**kw)
    assert f"features.preference.{next(iter(kw))}" in str(err.value)


def test_rank_matrix_skips_unknown_ids_and_keeps_the_best_repeat():
    lists = pd.Series([("b", "x", "b", "a"), ()])
    r, n = rank_matrix(lists, ["a", "b"], (2, 2))
    assert r.toarray().tolist() == [[4.0, 1.0], [0.0, 0.0]] and n.tolist() == [4.0, 0.0]
    r, _ = rank_matrix(lists, ["a", "b"], (2, 2), transpose=True)
    assert r.toarray().tolist() == [[4.0, 0.0], [1.0, 0.0]]


def test_text_lists_of_an_unvalidated_table():
    e = pd.DataFrame({"id": ["E1"], "preferences": ["M2; M1"]})
    m = pd.DataFrame({"id": ["M1", "M2"]})
    _, v = _all(mentees=e, mentors=m)
    np.testing.assert_allclose(v, [[0.25, 0.5]])


def test_sparse_candidates_agree_with_all_pairs():
    p, v = _all()
    i, j = np.array([2, 0, 1]), np.array([1, 1, 0])
    np.testing.assert_array_equal(p.values(i, j), v[i, j])
    assert p.values(np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0,)


@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_mutual_beats_one_sided_beats_unranked(n_e, n_m, data):
    mentor_ids = [f"M{k}" for k in range(n_m)]
    mentee_ids = [f"E{k}" for k in range(n_e)]
    e_lists = [tuple(data.draw(st.permutations(mentor_ids)))[:data.draw(st.integers(0, n_m))] for _ in range(n_e)]
    m_lists = [tuple(data.draw(st.permutations(mentee_ids)))[:data.draw(st.integers(0, n_e))] for _ in range(n_m)]
    e = pd.DataFrame({"id": mentee_ids, "preferences": e_lists})
    m = pd.DataFrame({"id": mentor_ids, "preferences": m_lists})
    p, v = _all(mentees=e, mentors=m)
    v = v.reshape(-1)
    i, j = np.repeat(np.arange(n_e), n_m), np.tile(np.arange(n_m), n_e)
    d = p.details(i, j)
    by_mentee, by_mentor = ~np.isnan(d["mentee_rank"]), ~np.isnan(d["mentor_rank"])
    assert np.all((v >= 0) & (v <= 1))
    assert np.all(v[~by_mentee & ~by_mentor] == 0)             # unranked: the neutral 0
    assert np.all((v[by_mentee & ~by_mentor] > 0) & (v[by_mentee & ~by_mentor] <= 0.5))
    assert np.all((v[~by_mentee & by_mentor] > 0) & (v[~by_mentee & by_mentor] <= 0.3))
    assert np.all(v[d["mutual"]] > 0.6)                        # above any one-sided choice
    first = d["mutual"] & (d["mentee_rank"] == 1) & (d["mentor_rank"] == 1)
    assert np.all(v[first] == 1.0)
    # a mentee who ranks nobody and is ranked by nobody is the same (0) with every mentor
    for k in range(n_e):
        if not e_lists[k] and not any(mentee_ids[k] in lst for lst in m_lists):
            assert np.all(v[i == k] == 0)


def _ranks_by_explode(lists, other_ids, shape, transpose=False):
    """rank_matrix's former reading: ``explode``, ``groupby(level=0).cumcount``, then the best
    rank of a repeated id by ``groupby().min()`` (the fast paths must give the same matrix)."""
    import scipy.sparse as sp

    flat = lists.explode().dropna()
    owner = flat.index.to_numpy(dtype=np.int64)
    rank = flat.groupby(level=0).cumcount().to_numpy(dtype=np.float64) + 1.0
    other = pd.Index(np.asarray(list(other_ids), dtype=object).astype(str)).get_indexer(
        flat.to_numpy(dtype=object).astype(str)) if len(flat) else np.zeros(0, dtype=np.int64)
    keep = other >= 0
    rows, cols = (other[keep], owner[keep]) if transpose else (owner[keep], other[keep])
    best = pd.Series(rank[keep]).groupby([rows, cols]).min()
    return sp.csr_array((best.to_numpy(), (best.index.get_level_values(0), best.index.get_level_values(1))),
                        shape=shape)


@pytest.mark.parametrize("index", [None, [3, 1, 0, 2]])  # a RangeIndex; owners out of order
@pytest.mark.parametrize("transpose", [False, True])
def test_rank_matrix_equals_the_exploded_reading(index, transpose):
    lists = pd.Series([("b", "x", "b", "a"), (), ("c", None, "a"), ("a", "c")], index=index)
    n = 4
    got, lengths = rank_matrix(lists, ["a", "b", "c"], (n, 3) if not transpose else (3, n), transpose)
    want = _ranks_by_explode(lists, ["a", "b", "c"], (n, 3) if not transpose else (3, n), transpose)
    np.testing.assert_array_equal(got.toarray(), want.toarray())
    assert lengths.tolist() == [4.0, 0.0, 3.0, 2.0]


def test_validated_lists_and_text_lists_score_alike():
    """The validated tuples (read as they are) and the same lists as ';' text (split) or as
    lists with a non-text id give the same values."""
    e = pd.DataFrame({"id": ["E1", "E2", "7"], "preferences": [("M2", "M1"), (), ("M1",)],
                      "manager_suggestions": [(), ("M1",), ()]})
    m = pd.DataFrame({"id": ["M1", "M2"], "preferences": [("E1", "7"), ()]})
    _, v = _all(mentees=e, mentors=m)
    e_text = e.assign(preferences=["M2;M1", "", "M1"], manager_suggestions=["", "M1", ""])
    m_mixed = m.assign(preferences=[["E1", 7], []])
    _, w = _all(mentees=e_text, mentors=m_mixed)
    np.testing.assert_array_equal(v, w)
    assert v[0, 0] > v[0, 1] > 0 and v[2, 0] > 0.6  # E1's 2nd and 1st choices; 7 and M1 mutual


def test_id_index_and_rank_matrix_read_lists_as_text_ids():
    """An Index built once (id_index) serves several lists as the ids themselves do; ids that
    are not text are taken as their text, as before."""
    from mentormatch.features.preference import id_index

    lists = pd.Series([("b", "a", "zz"), (), ("a",)])
    index = id_index(np.array(["a", "b"], dtype=object))
    assert index.dtype == object and index.tolist() == ["a", "b"]
    by_index, n1 = rank_matrix(lists, index, (3, 2))
    by_ids, n2 = rank_matrix(lists, ["a", "b"], (3, 2))
    assert by_index.toarray().tolist() == by_ids.toarray().tolist() == [[2.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    assert n1.tolist() == n2.tolist() == [3.0, 0.0, 1.0]
    numeric, _ = rank_matrix(pd.Series([(7, 3)], dtype=object), [3, 7], (1, 2))
    assert numeric.toarray().tolist() == [[2.0, 1.0]]
