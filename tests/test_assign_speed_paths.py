"""The fast paths of ``assign()``: block-served masked rows (no full-size copy), the vectorised
ranks, cheap unmatched reasons. Each is checked against the straightforward computation it
replaces (``np.where`` masking, pandas ``groupby().rank()``) and against scipy. No timings."""
import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.solvers.dense import small as small_path
from mentormatch.pairs import DenseRows
from mentormatch.pipeline import _rank_of_chosen, _rank_of_pairs, seeded_order
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.certify import solve_scored

from _exact import expanded_optimum


def _frame(s, forbidden=None):
    n, m = s.shape
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    f = None if forbidden is None else pd.DataFrame(forbidden, index=scores.index, columns=scores.columns)
    return scores, f


def _instance(seed, n=60, m=15, ties=False, neginf=0.1, forbid=0.05):
    rng = np.random.default_rng(seed)
    s = rng.random((n, m))
    if ties:
        s = np.round(s * 4) / 4
    s[rng.random((n, m)) < neginf] = -np.inf
    f = rng.random((n, m)) < forbid
    cap = rng.integers(0, 3, m).astype(float)
    return s, f, cap


# --------------------------------------------------------------------------------------------
# DenseRows: the masked matrix, a block of rows at a time
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("share", [None, 0.0, 0.03, 0.5])
def test_dense_rows_equal_the_np_where_mask(layout, share):
    rng = np.random.default_rng(3)
    n, m = 700, 530  # several tiles each way, ragged edges
    s = rng.random((n, m))
    s[rng.random((n, m)) < 0.02] = -np.inf
    f = None if share is None else rng.random((n, m)) < share
    if layout == "F":
        s = np.asfortranarray(s)
        f = None if f is None else np.asfortranarray(f)
    elif layout == "strided":
        s = np.asfortranarray(np.hstack([s, s]))[:, ::2]
        f = None if f is None else np.hstack([f, f])[:, ::2]
    before = s.copy()
    ref = s if f is None else np.where(f, -np.inf, s)
    rows = DenseRows(s, f)
    if share == 0.5:
        assert rows.mask is not None  # dense masks are kept as masks
    elif share is not None:
        assert rows.keys is not None
    for a, b in [(0, n), (0, 1), (17, 300), (299, 700), (650, 900), (5, 5)]:
        got = rows(slice(a, b))
        np.testing.assert_array_equal(got, ref[a:b])
        assert got.dtype == np.float64 and got.flags.c_contiguous
    np.testing.assert_array_equal(rows.n_forbidden, np.zeros(n) if f is None else f.sum(axis=1))
    np.testing.assert_array_equal(rows.row_counts(-np.inf), np.isneginf(ref).sum(axis=1))
    i, j = rng.integers(0, n, 200), rng.integers(0, m, 200)
    np.testing.assert_array_equal(rows.at(i, j), ref[i, j])
    np.testing.assert_array_equal(s, before)  # never written to


def test_dense_rows_of_a_dataframe_view_are_row_major_copies():
    s, f, _ = _instance(0, n=300, m=200)
    scores, forbidden = _frame(s, f)
    values, mask = scores.to_numpy(dtype=np.float64), forbidden.to_numpy(dtype=bool)
    rows = DenseRows(values, mask)
    np.testing.assert_array_equal(rows(slice(0, 300)), np.where(f, -np.inf, s))
    np.testing.assert_array_equal(scores.to_numpy(), s)


# --------------------------------------------------------------------------------------------
# ranks: numpy, equal to pandas' groupby rank(method="min", ascending=False)
# --------------------------------------------------------------------------------------------
class _P:  # just what _rank_of_pairs reads
    def __init__(self, mentee, score):
        self.pairs = type("pairs", (), {"mentee": mentee, "n_mentees": int(mentee.max(initial=-1)) + 1})()
        self.score = score


@pytest.mark.parametrize("width", [1, 5, 40, 3000])
@pytest.mark.parametrize("seed", range(3))
def test_rank_of_pairs_equals_pandas_groupby_rank(width, seed):
    rng = np.random.default_rng(seed)
    n = max(1, 6000 // width)
    counts = rng.integers(0, width + 1, n)
    mentee = np.repeat(np.arange(n), counts)
    score = np.round(rng.normal(size=len(mentee)), 1)  # many ties
    score[rng.random(len(score)) < 0.05] = -np.inf
    for m_, s_ in [(mentee, score), (mentee[::-1].copy(), score)]:  # grouped, and not
        want = pd.Series(s_).groupby(m_).rank(method="min", ascending=False).to_numpy().astype(np.int64)
        np.testing.assert_array_equal(_rank_of_pairs(_P(m_, s_)), want)
        pick = np.random.default_rng(seed).choice(len(s_), size=min(len(s_), 7), replace=False)
        np.testing.assert_array_equal(_rank_of_chosen(_P(m_, s_), pick), want[pick])
    assert len(_rank_of_pairs(_P(np.zeros(0, np.int64), np.zeros(0)))) == 0


# --------------------------------------------------------------------------------------------
# assign(): the certified dense path served by DenseRows == the old full np.where copy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_dense_path_equals_solving_the_masked_copy(seed, monkeypatch):
    s, f, cap = _instance(seed, ties=seed % 2 == 1)
    scores, forbidden = _frame(s, f)
    monkeypatch.setattr(small_path, "SMALL_CELLS", 0)  # take the certified dense path
    lockable = np.isfinite(s[0]) & ~f[0] & (cap >= 1)
    locked = [("e0", scores.columns[int(np.flatnonzero(lockable)[0])])]
    res = mm.assign(scores, pd.Series(cap, index=scores.columns), forbidden=forbidden, locked=locked)
    assert res.certificate["holds"] and res.status == "optimal"
    assert res.certificate["method"] == "dense_min_cost_flow+dual_check"
    # the previous implementation: one np.where copy, solved as an array, in the seeded order of
    # the ids (pipeline.seeded_order), reported in the caller's order
    ro = seeded_order(list(scores.index), 0)
    co = seeded_order(list(scores.columns), 0)
    li = np.array([int(np.flatnonzero(ro == 0)[0])])
    lj = np.array([int(np.flatnonzero(co == scores.columns.get_loc(locked[0][1]))[0])])
    problem, sol = solve_scored(np.where(f, -np.inf, s)[np.ix_(ro, co)], cap[co], locked=(li, lj),
                                options=SolverOptions())
    ch = sol.chosen
    back = np.lexsort((co[problem.pairs.mentor[ch]], ro[problem.pairs.mentee[ch]]))
    want = pd.DataFrame({"mentee_id": scores.index[ro[problem.pairs.mentee[ch]]][back],
                         "mentor_id": scores.columns[co[problem.pairs.mentor[ch]]][back],
                         "score": problem.score[ch][back]})
    ids = {"mentee_id": object, "mentor_id": object}
    if seed % 2 == 0:  # no ties: one optimum, the same pairs (with ties, see the shuffle test)
        pd.testing.assert_frame_equal(res.pairs[["mentee_id", "mentor_id", "score"]].astype(ids),
                                      want.astype(ids))
    lj = np.array([scores.columns.get_loc(locked[0][1])])
    assert res.objective == pytest.approx(sol.objective, abs=1e-12)
    assert res.objective == pytest.approx(expanded_optimum(s, cap, f, locked=(0, int(lj[0]))), rel=1e-9)
    # recomputed from the inputs: capacities, one mentor each, nothing forbidden or -inf
    e = scores.index.get_indexer(res.pairs["mentee_id"])
    j = scores.columns.get_indexer(res.pairs["mentor_id"])
    assert (np.bincount(j, minlength=len(cap)) <= cap).all() and len(set(e)) == len(e)
    assert not f[e, j].any() and np.isfinite(s[e, j]).all()
    np.testing.assert_allclose(res.pairs["score"], s[e, j])
    # counts of what was removed, per mentee (the dense path works in the caller's order)
    removed = res.data["removed"]
    np.testing.assert_array_equal(removed["forbidden"], f.sum(axis=1))
    np.testing.assert_array_equal(removed["ineligible_score"], (np.isneginf(s) & ~f).sum(axis=1))
    eligible = (~f & np.isfinite(s)).sum(axis=1)
    got = res.pairs.set_index("mentee_id")["eligible_mentors"]
    np.testing.assert_array_equal(got.to_numpy(), eligible[[int(e[1:]) for e in got.index]])
    assert res.pairs.set_index("mentee_id").loc["e0", "locked"]
    # ranks: 1 + how many eligible mentors of the mentee score higher, from the matrix itself
    masked = np.where(f, -np.inf, s)
    want_rank = 1 + (masked[e] > s[e, j][:, None]).sum(axis=1)
    np.testing.assert_array_equal(res.pairs["rank"].to_numpy(), want_rank)


@pytest.mark.parametrize("forbid", [True, False])
@pytest.mark.parametrize("neginf", [0.0, 0.1])
def test_dense_path_and_pair_path_agree(forbid, neginf, monkeypatch):
    s, f, cap = _instance(11, n=80, m=20, neginf=neginf, forbid=0.1 if forbid else 0.0)
    scores, forbidden = _frame(s, f if forbid else None)
    capacity = pd.Series(cap, index=scores.columns)
    small = mm.assign(scores, capacity, forbidden=forbidden)
    monkeypatch.setattr(small_path, "SMALL_CELLS", 0)
    big = mm.assign(scores, capacity, forbidden=forbidden)
    assert big.objective == pytest.approx(small.objective, rel=1e-12)
    optimum = expanded_optimum(s, cap, f if forbid else None)
    assert big.objective == pytest.approx(optimum, rel=1e-9)
    # per mentee, in each path's own order (the small path solves in the seeded order)
    by_id = [r.data["removed"].set_axis(r.data["mentee_ids"].ids).sort_index() for r in (big, small)]
    pd.testing.assert_frame_equal(*by_id)
    assert sorted(big.unmatched["mentee_id"]) == sorted(small.unmatched["mentee_id"])


@pytest.mark.parametrize("path", ["pairs", "dense"])
def test_locked_pair_that_is_forbidden_or_minus_inf_is_refused(path, monkeypatch):
    s, f, cap = _instance(4)
    s[2, 3], f[2, 3] = 0.5, True
    s[5, 1], f[5, 1] = -np.inf, False
    scores, forbidden = _frame(s, f)
    if path == "dense":
        monkeypatch.setattr(small_path, "SMALL_CELLS", 0)
    for lock in [("e2", "m3"), ("e5", "m1")]:
        with pytest.raises(mm.InfeasibleError,
                           match=rf"locked pair \({lock[0]}, {lock[1]}\) is forbidden or has score -inf"):
            mm.assign(scores, pd.Series(cap, index=scores.columns), forbidden=forbidden, locked=[lock])


@pytest.mark.parametrize("path", ["pairs", "dense"])
def test_forbidden_frames_that_need_aligning(path, monkeypatch):
    """Reordered labels, ints, objects: aligned as before; a None cell is named (issue 20)."""
    s, f, cap = _instance(8, n=30, m=8)
    scores, forbidden = _frame(s, f)
    capacity = pd.Series(cap, index=scores.columns)
    if path == "dense":
        monkeypatch.setattr(small_path, "SMALL_CELLS", 0)
    want = mm.assign(scores, capacity, forbidden=forbidden)
    for other in [forbidden.iloc[::-1, ::-1], forbidden.astype(int), forbidden.astype(object)]:
        got = mm.assign(scores, capacity, forbidden=other)
        pd.testing.assert_frame_equal(got.pairs, want.pairs)
    with_nan = forbidden.astype(object)
    with_nan.iloc[0, 0] = None
    with pytest.raises(mm.ValidationError, match="True or False") as info:
        mm.assign(scores, capacity, forbidden=with_nan)
    p = info.value.problems[0]
    assert (p.row_id, p.column) == (str(with_nan.index[0]), str(with_nan.columns[0]))


def test_everyone_matched_gives_an_empty_reasons_table(monkeypatch):
    s, _, _ = _instance(2, neginf=0.0)
    scores, _ = _frame(s)
    res = mm.assign(scores, pd.Series(10.0, index=scores.columns))
    assert len(res.unmatched) == 0
    assert list(res.unmatched.columns) == ["mentee_id", "reason_code", "reason"]


def test_a_few_unmatched_get_their_reasons():
    s = np.array([[0.9, 0.1], [0.8, -np.inf], [-np.inf, -np.inf], [0.7, 0.6]])
    scores, forbidden = _frame(s, np.array([[0, 0], [0, 0], [0, 1], [0, 0]], dtype=bool))
    res = mm.assign(scores, pd.Series([1.0, 1.0], index=scores.columns), forbidden=forbidden)
    u = res.unmatched.set_index("mentee_id")
    assert set(u.index) == {"e1", "e2"}
    assert u.loc["e2", "reason_code"] == "no_eligible_mentor"
    assert "1 are" in u.loc["e2", "reason"]  # one forbidden, one -inf: counted per rule
    assert u.loc["e1", "reason_code"] == "capacity_taken"


def test_id_and_capacity_errors_keep_their_messages():
    scores = pd.DataFrame(np.zeros((3, 2)), index=["a", "b", "a"], columns=["x", "y"])
    with pytest.raises(mm.ValidationError, match=r"unique mentee \(index\) ids \(also at position 0\)"):
        mm.assign(scores, pd.Series(1.0, index=["x", "y"]))
    scores.index = ["a", "b", "c"]
    with pytest.raises(mm.ValidationError) as info:
        mm.assign(scores, pd.Series(1.0, index=["x", "z"]))
    text = str(info.value)
    assert "'y'" in text and "a capacity for every mentor column" in text
    assert "'z'" in text and "only mentor ids that are columns of scores" in text
    # ids are compared as strings, whatever their type
    ints = pd.DataFrame(np.eye(2), index=[1, 2], columns=[10, 20])
    res = mm.assign(ints, pd.Series(1.0, index=["10", 20]))
    assert sorted(res.pairs["mentor_id"]) == ["10", "20"]


@pytest.mark.parametrize("path", ["pairs", "dense"])
def test_the_finite_scores_check_by_one_sum(path, monkeypatch):
    """One sum tells that every score is finite; when it is not (or overflows), min and max say
    which: NaN and +inf are named, -inf is ineligible, huge finite scores are fine."""
    if path == "dense":
        monkeypatch.setattr(small_path, "SMALL_CELLS", 0)
    s, _, cap = _instance(5, n=20, m=6, neginf=0.0)
    capacity = pd.Series(cap, index=[f"m{j}" for j in range(6)])
    huge = s * 1e307  # finite, but their sum overflows
    res = mm.assign(_frame(huge)[0], capacity)
    assert res.objective == pytest.approx(expanded_optimum(huge / 1e307, cap) * 1e307,
                                          rel=1e-9)
    for bad, word in [(np.nan, "nan"), (np.inf, "inf")]:
        t = s.copy()
        t[3, 2] = bad
        with pytest.raises(mm.ValidationError, match="a finite number") as info:
            mm.assign(_frame(t)[0], capacity)
        p = info.value.problems[0]
        assert (p.row_id, p.column) == ("e3", "m2") and word in str(p.value).lower()
    t = s.copy()
    t[3, :] = -np.inf
    res = mm.assign(_frame(t)[0], capacity)
    assert res.unmatched.set_index("mentee_id").loc["e3", "reason_code"] == "no_eligible_mentor"
