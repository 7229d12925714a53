"""Explanations: contributions add up, forced alternatives cost exactly what two solves say,
every unmatched mentee has a reason whose numbers match the data."""
import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.pipeline import assign
from mentormatch.report.explain import Explanation, explain, explain_all
from mentormatch.report.reasons import needed_scores, unmatched_reasons

from _exact import expanded_optimum
from report_people import people


PROGRAMME = {"weights": {"geography": 1.0, "experience": 1.0}}


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    mentors, mentees = people("M", 8, True, rng), people("E", 20, False, rng)
    mentees.loc[0, "years_experience"] = np.nan
    mentees.loc[1, ["city", "country", "timezone"]] = None
    return mm.pair(mentors, mentees, programme=PROGRAMME)


def _explain(res, mentee, n=3):
    return explain(res.data, res.pairs, res.unmatched, res.objective, res.status, res.solver, mentee, n)


def test_contributions_sum_to_scores(result):
    assert len(result.contributions.columns) == 2
    np.testing.assert_allclose(result.contributions.sum(axis=1), result.pairs["score"], rtol=1e-12)


def test_explanation_breakdown_matches_pair(result):
    for row in result.pairs.itertuples():
        x = _explain(result, row.mentee_id, 0)
        assert isinstance(x, Explanation)
        assert x.mentor_id == row.mentor_id
        assert x.features["contribution"].sum() == pytest.approx(row.score, rel=1e-12)
        assert x.rank == row.rank
        text = str(x)
        assert row.mentor_id in text and "geography" in text and "experience" in text
        assert set(x.frame.columns) >= {"mentee_id", "mentor_id", "feature", "contribution", "text"}
        assert x.to_dict()["text"] == text


def test_phrases_are_drawn_from_the_details(result):
    lines = explain_all(result.data, result.pairs)
    assert len(lines) == len(result.pairs)
    mentees = result.data["mentees"].set_index("id")
    mentors = result.data["mentors"].set_index("id")
    for row, line in zip(result.pairs.itertuples(), lines):
        e, m = mentees.loc[row.mentee_id], mentors.loc[row.mentor_id]
        if isinstance(e["city"], str) and e["city"] == m["city"]:
            assert f"both in {e['city']} (0 km)" in line
        if not np.isnan(e["years_experience"]):
            gap = m["years_experience"] - e["years_experience"]
            assert (f"{abs(gap):g} more year" if gap >= 0 else f"{abs(gap):g} year") in line


def test_neutral_for_missing_data_is_said():
    rng = np.random.default_rng(1)
    mentors, mentees = people("M", 3, True, rng), people("E", 1, False, rng)
    mentees.loc[0, ["city", "country", "timezone"]] = None
    res = mm.pair(mentors, mentees, programme=PROGRAMME)
    assert "E000" in set(res.pairs["mentee_id"])
    assert "geography unknown for the mentee: neutral 0.5" in str(_explain(res, "E000", 0))


@pytest.mark.parametrize("seed", range(8))
def test_forced_alternative_cost_equals_two_exact_solves(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(4, 9)), int(rng.integers(2, 5))
    dense = rng.uniform(0.05, 1.0, (n, m)).round(3)
    dense[rng.random((n, m)) < 0.15] = -np.inf
    cap = rng.integers(1, 3, m).astype(float)
    scores = pd.DataFrame(dense, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    res = assign(scores, pd.Series(cap, index=scores.columns))
    base = expanded_optimum(dense, cap)
    assert res.objective == pytest.approx(base, abs=1e-6)
    checked = 0
    for i in range(n):
        x = _explain(res, f"e{i}", 3)
        for alt in x.alternatives.itertuples():
            j = int(alt.mentor_id[1:])
            if np.isnan(alt.cost):
                continue
            forced = expanded_optimum(dense, cap, locked=(i, j))
            assert alt.cost == pytest.approx(base - forced, abs=1e-6), (i, j)
            assert str(round(alt.cost, 4))[:4] in alt.text or alt.cost < 1e-9
            checked += 1
    assert checked


def test_every_unmatched_mentee_has_a_reason(result):
    assert len(result.unmatched)
    assert result.unmatched["reason"].str.len().gt(0).all()
    accounted = set(result.pairs["mentee_id"]) | set(result.unmatched["mentee_id"])
    assert accounted == set(result.data["mentees"]["id"])
    x = _explain(result, result.unmatched["mentee_id"].iloc[0])
    assert x.mentor_id is None and x.reason and "unmatched" in str(x)


def test_management_line_count_in_reason():
    # E0's managers are M0 and (above) M1; M2 reports to E0: all three in its line
    mentors = pd.DataFrame({"id": ["M0", "M1", "M2"], "manager_id": ["M1", None, "E0"],
                            "capacity": [2.0, 2.0, 2.0], "years_experience": [10.0, 20.0, 3.0]})
    mentees = pd.DataFrame({"id": ["E0", "E1"], "manager_id": ["M0", None], "years_experience": [5.0, 1.0]})
    res = mm.pair(mentors, mentees, programme={"weights": {"experience": 1.0}})
    row = res.unmatched.set_index("mentee_id").loc["E0"]
    assert row["reason_code"] == "no_eligible_mentor"
    assert "of 3 mentors, 3 are in their management line" in row["reason"]
    x = _explain(res, "E0")
    assert (~x.alternatives["eligible"]).all()
    assert x.alternatives["rule"].eq("management_line").all()
    assert "management line" in x.alternatives["text"].iloc[0]


def _unmatched_with_problem(res):
    d = res.data
    pr, ch = d["problem"], d["solution"].chosen
    matched = np.zeros(pr.n_mentees, bool)
    matched[pr.pairs.mentee[ch]] = True
    idx = np.flatnonzero(~matched)
    u = unmatched_reasons(idx, d["removed"], pr.pairs.mentee, pr.pairs.mentor, pr.score, ch,
                          pr.capacity, pr.load, d["mentee_ids"].ids, d["mentor_ids"].ids,
                          pr.n_mentors, [], problem=pr)
    # rows of the caller's table (assign solves in a seeded order of the ids: e<k> is row k)
    return u, [int(str(d["mentee_ids"].ids[i])[1:]) for i in idx]


@pytest.mark.parametrize("seed", range(6))
def test_capacity_reason_states_the_exact_needed_score(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = 9, 3
    dense = rng.uniform(0.1, 1.0, (n, m)).round(3)
    cap = np.array([1.0, 2.0, 1.0])
    scores = pd.DataFrame(dense, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    res = assign(scores, pd.Series(cap, index=scores.columns))
    u, idx = _unmatched_with_problem(res)
    assert len(u) == n - 4 and (u["reason_code"] == "capacity_taken").all()
    base = expanded_optimum(dense, cap)
    for i, reason in zip(idx, u["reason"]):
        # X_j = OPT - OPT(cap_j - 1): forcing (i, j) at score X_j leaves the optimum unchanged
        # (the others keep one place fewer of j)
        need = np.array([base - expanded_optimum(dense, cap, place_out=j) for j in range(m)])
        assert_states_the_closest_need(reason, need, dense[i])


def assert_states_the_closest_need(reason: str, need: np.ndarray, own: np.ndarray) -> None:
    """A "capacity_taken" reason names the mentor ``m<j>`` of the least shortfall ``need - own``
    (the score needed on it, the mentee's own), with the needed score and the shortfall, or "a
    tie" where there is none (read by ``test_report_bonus`` too)."""
    short = need - own
    j = int(np.argmin(short))
    assert f"mentor m{j}" in reason
    if short[j] > 1e-9:
        assert f"at least {need[j]:.3f}" in reason and f"{short[j]:.3f} short" in reason
    else:
        assert "a tie" in reason


def test_needed_scores_large_cap_note():
    rng = np.random.default_rng(5)
    dense = rng.uniform(0.1, 1.0, (12, 6))
    scores = pd.DataFrame(dense, index=[f"e{i}" for i in range(12)], columns=[f"m{j}" for j in range(6)])
    res = assign(scores, pd.Series(1.0, index=scores.columns))
    d = res.data
    pr, ch = d["problem"], d["solution"].chosen
    matched = np.zeros(12, bool)
    matched[pr.pairs.mentee[ch]] = True
    u = unmatched_reasons(np.flatnonzero(~matched), d["removed"], pr.pairs.mentee, pr.pairs.mentor,
                          pr.score, ch, pr.capacity, pr.load, d["mentee_ids"].ids, d["mentor_ids"].ids,
                          pr.n_mentors, [], problem=pr, max_solves=2)
    assert u["reason"].str.contains("over the cap of 2 re-solves").any()
    x = needed_scores(pr, np.arange(6))
    assert np.all(x > 0)


@pytest.mark.parametrize("solves", [0, 1, 2])
def test_the_reason_budget_counts_the_solve_of_the_optimum_it_starts_from(monkeypatch, solves):
    """REASON_SOLVE_BUDGET pays for the re-solve of the optimum as well as one re-solve per
    mentor: a budget of (k + 1) x the pairs allows k mentor re-solves, and one solve's worth
    allows none (before, it allowed one, and two solves of the whole problem)."""
    import mentormatch.pipeline as pipeline
    import mentormatch.report.reasons as reasons

    seen = []
    monkeypatch.setattr(reasons, "_exact_capacity_reasons",
                        lambda rows, pending, problem, ids, max_solves, **kw: seen.append(max_solves))
    dense = np.random.default_rng(7).uniform(0.1, 1.0, (9, 3))
    scores = pd.DataFrame(dense, index=[f"e{i}" for i in range(9)], columns=[f"m{j}" for j in range(3)])
    monkeypatch.setattr(pipeline, "REASON_SOLVE_BUDGET", dense.size * (solves + 1))
    res = assign(scores, pd.Series([1.0, 2.0, 1.0], index=scores.columns))
    assert len(res.data["problem"].pairs) == dense.size
    assert (res.unmatched["reason_code"] == "capacity_taken").sum() == 5
    assert seen == ([solves] if solves else [])


# ---- "why not this mentor", and every mentor of a mentee who has several
@pytest.fixture(scope="module")
def sales():
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=4)
    return mentors, mentees, mm.pair(mentors, mentees)


def test_why_not_an_eligible_mentor_costs_what_a_locked_resolve_says(sales):
    mentors, mentees, result = sales
    e = str(result.pairs["mentee_id"].iloc[0])
    own = set(result.pairs.loc[result.pairs["mentee_id"] == e, "mentor_id"])
    p = result.data["problem"]
    i = result.data["mentee_ids"].index[e]
    ids = result.data["mentor_ids"].ids
    other = next(str(ids[j]) for j in p.pairs.mentor[p.pairs.mentee == i] if str(ids[j]) not in own)
    x = result.explain(e, mentor=other)
    forced = mm.pair(mentors, mentees, {"constraints": {"locked": [[e, other]]}})
    cost = result.objective - forced.objective
    assert x.asked == other and x.current == sorted(own)
    assert x.alternatives["cost"].iloc[0] == pytest.approx(cost, abs=1e-6)
    names = dict(zip(mentors["id"], mentors["name"])) | dict(zip(mentees["id"], mentees["name"]))
    assert str(x).startswith(f"Why not {other} ({names[other]}) for {e} ({names[e]}): ")
    assert (f"{cost:.4f}" in str(x)) or abs(cost) < 1e-9
    assert x.features["contribution"].sum() == pytest.approx(x.score)


def test_why_not_an_ineligible_mentor_names_the_rule(sales):
    mentors, mentees, result = sales
    which, names = result.data["which_rule"], result.data["rule_names"]
    n_m = result.data["complete"].n_mentors
    k = int(np.flatnonzero(which == names.index("management_line"))[0])
    i, j = divmod(k, n_m)
    e, m = str(result.data["mentee_ids"].ids[i]), str(result.data["mentor_ids"].ids[j])
    x = result.explain(e, mentor=m)
    assert "ineligible" in x.verdict and "management_line" in x.verdict
    with pytest.raises(mm.errors.UnknownNameError, match="mentor id"):
        result.explain(e, mentor="nobody")


def test_a_mentee_with_several_mentors_gets_each_explained():
    mentors, mentees = mm.synthetic.organisation(n_mentees=10, n_mentors=12, seed=4)
    result = mm.pair(mentors, mentees.assign(mentors_needed=2))
    e = str(result.pairs["mentee_id"].iloc[0])
    own = set(result.pairs.loc[result.pairs["mentee_id"] == e, "mentor_id"].astype(str))
    assert len(own) == 2
    x = result.explain(e)
    assert {x.mentor_id} | {o.mentor_id for o in x.each} == own
    for o in [x] + x.each:
        score = result.pairs.loc[(result.pairs["mentee_id"] == e) & (result.pairs["mentor_id"] == o.mentor_id),
                                 "score"].iloc[0]
        assert o.score == pytest.approx(score)
        assert o.features["contribution"].sum() == pytest.approx(score)
    name = mentees.set_index("id").loc[e, "name"]
    assert str(x).count(f"{e} ({name}) is paired with") == 2
