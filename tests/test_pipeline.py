"""End-to-end pairing round: every mentee accounted for, constraints hold, objective is honest."""
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

import mentormatch as mm
from mentormatch import constraints as C


@pytest.fixture(scope="module")
def org():
    return mm.synthetic.organisation(n_mentees=200, n_mentors=60, seed=7)


@pytest.fixture(scope="module")
def result(org):
    mentors, mentees = org
    return mm.pair(mentors, mentees, programme=None)


def test_every_mentee_exactly_once(org, result):
    mentors, mentees = org
    seen = list(result.pairs["mentee_id"]) + list(result.unmatched["mentee_id"])
    assert sorted(seen) == sorted(mentees["id"].astype(str))
    assert result.unmatched["reason"].str.len().gt(0).all()


def test_capacity_and_management_line_hold(org, result):
    mentors, mentees = org
    load = result.pairs["mentor_id"].value_counts()
    cap = mentors.set_index("id")["capacity"]
    assert (load <= cap.reindex(load.index)).all()
    a, b = C.management_line_pairs(mentees, mentors)
    banned = set(zip(mentees["id"].to_numpy()[a], mentors["id"].to_numpy()[b]))
    assert banned, "the synthetic org should have mentors in mentees' management lines"
    assert not banned & set(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))


def test_objective_is_recomputed_from_pairs_and_contributions_sum(result):
    assert result.status == "optimal"
    assert result.objective == pytest.approx(result.pairs["score"].sum(), rel=1e-12)
    np.testing.assert_allclose(result.contributions.sum(axis=1).to_numpy(), result.pairs["score"].to_numpy(),
                               rtol=1e-9, atol=1e-12)


def test_pair_is_optimal_against_scipy_on_its_own_scores(org, result):
    """Re-solve the pipeline's eligible score matrix with scipy on the capacity-expanded matrix."""
    problem = result.data["problem"]
    n, m = problem.n_mentees, problem.n_mentors
    dense = np.full((n, m), -1e9)
    dense[problem.pairs.mentee, problem.pairs.mentor] = problem.score
    cols = np.repeat(np.arange(m), problem.capacity.astype(int))
    expanded = np.hstack([dense[:, cols], np.zeros((n, n))])  # zero columns: stay unmatched
    r, c = linear_sum_assignment(expanded, maximize=True)
    assert result.objective == pytest.approx(expanded[r, c].sum(), rel=1e-9)


def test_same_seed_same_pairs(org):
    mentors, mentees = org
    a = mm.pair(mentors, mentees).pairs
    b = mm.pair(*mm.synthetic.organisation(n_mentees=200, n_mentors=60, seed=7)).pairs
    pd.testing.assert_frame_equal(a, b)


def test_inputs_not_mutated(org):
    mentors, mentees = org
    before = (mentors.copy(), mentees.copy())
    mm.pair(mentors, mentees)
    pd.testing.assert_frame_equal(mentors, before[0])
    pd.testing.assert_frame_equal(mentees, before[1])


def test_random_baseline_respects_capacity_and_is_not_better(org, result):
    mentors, _ = org
    rnd = mm.baseline(result, "random", seed=3)
    load = rnd.pairs["mentor_id"].value_counts()
    assert (load <= mentors.set_index("id")["capacity"].reindex(load.index)).all()
    assert rnd.objective <= result.objective + 1e-9
    assert len(rnd.pairs) + len(rnd.unmatched) == result.n_mentees


def test_ids_kept_exactly():
    mentors = pd.DataFrame({"id": ["007", "Zoë"], "capacity": [1, 1], "years_experience": [12, 9]})
    mentees = pd.DataFrame({"id": ["0042", "東京1"], "years_experience": [2, 3]})
    res = mm.pair(mentors, mentees)
    assert set(res.pairs["mentee_id"]) | set(res.unmatched["mentee_id"]) == {"0042", "東京1"}
    assert set(res.pairs["mentor_id"]) <= {"007", "Zoë"}


def test_no_eligible_mentor_reason_counts_the_rule():
    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [2, 2], "manager_id": ["", "M1"]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "manager_id": ["M2", ""]})
    res = mm.pair(mentors, mentees)
    row = res.unmatched.set_index("mentee_id").loc["E1"]
    assert row["reason_code"] == "no_eligible_mentor"
    assert "of 2 mentors, 2 are in their management line" in row["reason"]
    assert res.pairs["mentee_id"].tolist() == ["E2"]


def test_locked_and_forbidden_pairs_from_the_programme(org):
    mentors, mentees = org
    base = mm.pair(mentors, mentees)
    first = base.pairs.iloc[0]
    other_mentor = next(m for m in mentors["id"] if m != first["mentor_id"])
    prog = {"constraints": {"forbidden": [[first["mentee_id"], first["mentor_id"]]]}}
    res = mm.pair(mentors, mentees, programme=prog)
    assert not ((res.pairs["mentee_id"] == first["mentee_id"]) & (res.pairs["mentor_id"] == first["mentor_id"])).any()
    assert res.objective <= base.objective + 1e-9  # forbidding never raises the optimum
    lock = {"constraints": {"locked": [[first["mentee_id"], other_mentor]]}}
    held = mm.pair(mentors, mentees, programme=lock)
    mine = held.pairs[held.pairs["mentee_id"] == first["mentee_id"]]
    assert mine["mentor_id"].tolist() == [other_mentor]  # the lock holds, against the optimum's choice
    assert held.objective <= base.objective + 1e-9


def test_unknown_weight_name_suggests_the_nearest():
    with pytest.raises(mm.ValidationError, match="geography"):
        mm.Rules.from_dict({"weights": {"geograpy": 1.0}})


def test_negative_weight_is_rejected():
    with pytest.raises(mm.ValidationError, match="weights.experience"):
        mm.Rules.from_dict({"weights": {"experience": -1.0}})


# ---------------------------------------------------------------------------------- assign()
def _brute_force(s: np.ndarray, cap: np.ndarray) -> float:
    n, m = s.shape
    best = 0.0
    for choice in itertools.product(range(-1, m), repeat=n):
        load = np.bincount([c for c in choice if c >= 0], minlength=m)
        if (load > cap).any() or any(c >= 0 and not np.isfinite(s[i, c]) for i, c in enumerate(choice)):
            continue
        best = max(best, sum(s[i, c] for i, c in enumerate(choice) if c >= 0))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_assign_equals_brute_force_on_tiny_instances(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 8), rng.integers(1, 5)
    s = np.round(rng.uniform(-0.2, 1, (n, m)), 1)  # ties and a few non-positive scores
    s[rng.random((n, m)) < 0.2] = -np.inf
    cap = rng.integers(0, 3, m)
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    res = mm.assign(scores, pd.Series(cap, index=scores.columns))
    assert res.objective == pytest.approx(_brute_force(s, cap), abs=1e-9)
    assert res.objective == pytest.approx(res.pairs["score"].sum(), abs=1e-12)
    assert len(res.pairs) + len(res.unmatched) == n


@pytest.mark.parametrize("seed", range(4))
def test_assign_equals_scipy_expanded_hungarian(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = 300, 80
    s = np.round(rng.random((n, m)), 2)
    forbidden = rng.random((n, m)) < 0.05
    cap = rng.integers(0, 5, m)
    scores = pd.DataFrame(s, index=[f"e{i:03d}" for i in range(n)], columns=[f"m{j:02d}" for j in range(m)])
    res = mm.assign(scores, pd.Series(cap, index=scores.columns),
                    forbidden=pd.DataFrame(forbidden, index=scores.index, columns=scores.columns))
    expanded = np.where(forbidden, -1e6, s)[:, np.repeat(np.arange(m), cap)]
    expanded = np.hstack([expanded, np.zeros((n, n))])
    r, c = linear_sum_assignment(expanded, maximize=True)
    assert res.objective == pytest.approx(expanded[r, c].sum(), rel=1e-9)
    got = res.pairs.assign(f=[forbidden[int(a[1:]), int(b[1:])] for a, b in zip(res.pairs.mentee_id, res.pairs.mentor_id)])
    assert not got["f"].any()
    load = res.pairs["mentor_id"].value_counts().reindex(scores.columns, fill_value=0)
    assert (load.to_numpy() <= cap).all()


def test_assign_rejects_nan_naming_row_and_column():
    scores = pd.DataFrame([[0.5, np.nan]], index=["e1"], columns=["m1", "m2"])
    with pytest.raises(mm.ValidationError) as info:
        mm.assign(scores, pd.Series({"m1": 1, "m2": 1}))
    assert "'e1'" in str(info.value) and "'m2'" in str(info.value) and "-inf" in str(info.value)


def test_assign_rejects_missing_capacity_and_unknown_solver():
    scores = pd.DataFrame([[0.5, 0.1]], index=["e1"], columns=["m1", "m2"])
    with pytest.raises(mm.ValidationError, match="'m2'"):
        mm.assign(scores, pd.Series({"m1": 1}))
    with pytest.raises(mm.UnknownNameError) as info:
        mm.assign(scores, pd.Series({"m1": 1, "m2": 1}), solver="hungarain")
    assert "flow" in str(info.value) and "hungarian" in str(info.value)


def test_assign_large_matrix_takes_the_certified_sparse_path_and_matches_scipy():
    rng = np.random.default_rng(5)
    n, m = 1500, 1400  # 2.1M pairs: above the sparse threshold
    s = np.round(rng.random((n, m)), 3)
    s[rng.random((n, m)) < 0.01] = -np.inf
    cap = rng.integers(0, 3, m)
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    res = mm.assign(scores, pd.Series(cap, index=scores.columns))
    assert res.certificate["holds"] and res.status == "optimal"
    assert len(res.data["problem"].pairs) < n * m / 10  # it really was sparse
    finite = np.where(np.isfinite(s), s, -1e6)[:, np.repeat(np.arange(m), cap)]
    r, c = linear_sum_assignment(np.hstack([finite, np.zeros((n, n))]), maximize=True)
    best = np.hstack([finite, np.zeros((n, n))])[r, c].sum()
    assert res.objective == pytest.approx(best, rel=1e-9)
    assert len(res.pairs) + len(res.unmatched) == n


@pytest.mark.parametrize("cache", [True, False])
def test_pair_scale_path_equals_the_dense_path(org, result, monkeypatch, cache):
    """Above LARGE_PAIRS, pair() scores block by block (cached) or by bounds, and certifies a
    sparse solve: same optimum, same baselines."""
    from mentormatch import pipeline

    mentors, mentees = org
    monkeypatch.setattr(pipeline, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pipeline, "SCORE_CACHE_PAIRS", 10**9 if cache else 0)
    monkeypatch.setattr(pipeline, "USE_BOUNDS", not cache)
    big = mm.pair(mentors, mentees)
    assert big.data.get("scale_path") and big.certificate["holds"] and big.status == "optimal"
    assert big.objective == pytest.approx(result.objective, rel=1e-9)
    assert sorted(list(big.pairs["mentee_id"]) + list(big.unmatched["mentee_id"])) == sorted(mentees["id"])
    np.testing.assert_allclose(big.contributions.sum(axis=1), big.pairs["score"], rtol=1e-9)
    assert (big.pairs["rank"] >= 1).all()
    # the same mentees are unmatched for the same kind of reason, with numbers
    assert set(big.unmatched["reason_code"]) <= {"capacity_taken", "no_eligible_mentor"}
    assert big.unmatched["reason"].str.contains(r"\d").all()
    # baselines draw from every eligible pair, as on the dense path (not the solver's best pairs)
    for name in ("random", "greedy"):
        assert mm.baseline(big, name, seed=3).objective == pytest.approx(
            mm.baseline(result, name, seed=3).objective, rel=1e-12)


PROGRAMMES = {
    "budget": lambda m: {"constraints": {"budget": 0.8 * 750.0 * len(m) / 2}},
    "share_floor": lambda m: {"fairness": {"share_floor": 0.6, "floor_group": "region"}},
    "coverage_first": lambda m: {"constraints": {"coverage_first": True}},
    "maxmin": lambda m: {"fairness": {"objective": "maxmin"}},
}


@pytest.mark.parametrize("source", ["blocks", "bounds"])
@pytest.mark.parametrize("name", sorted(PROGRAMMES))
def test_every_setting_works_on_every_source(org, monkeypatch, name, source):
    """No size threshold changes what a user may ask: the same settings on the complete set,
    on cached blocks and on bounds give the same optimum (and the constraint still holds)."""
    from mentormatch import pipeline

    mentors, mentees = org
    prog = PROGRAMMES[name](mentors)
    small = mm.pair(mentors, mentees, programme=prog)
    monkeypatch.setattr(pipeline, "LARGE_PAIRS", 1000)
    if source == "bounds":
        monkeypatch.setattr(pipeline, "SCORE_CACHE_PAIRS", 1000)
    big = mm.pair(mentors, mentees, programme=prog)
    assert big.status == small.status == "optimal"
    assert big.objective == pytest.approx(small.objective, rel=1e-9, abs=1e-9)
    assert len(big.pairs) + len(big.unmatched) == len(mentees)
    if name == "budget":
        mt = mentors.set_index("id")
        used = big.pairs.groupby("mentor_id").size()
        cost = (mt.loc[used.index, "stipend_fixed"] + mt.loc[used.index, "stipend_per_mentee"] * used).sum()
        assert cost <= prog["constraints"]["budget"] + 1e-6
    if name == "share_floor":
        region = mentees.set_index("id")["region"]
        matched = region.loc[big.pairs["mentee_id"]].value_counts()
        sizes = region.value_counts()
        assert (matched.reindex(sizes.index, fill_value=0) >= np.ceil(0.6 * sizes - 1e-9)).all()
