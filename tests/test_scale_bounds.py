"""Bounds of the scale path: every feature's bound model is >= its value on every pair (equal
where it says exact), the bounded scorer removes exactly the pairs the rules remove and counts
them as the exact path does, and the bounded certified solve equals the exact optimum."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.features import Context
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.scale import BIG, BoundedScorer, bounded_scorer
from mentormatch.scoring import prepare_features
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import solve_bounded


def _org(seed: int, n: int = 90, m: int = 30, holes: bool = False):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    if holes:  # missing data of every kind the features treat specially
        rng = np.random.default_rng(seed)
        for frame in (mentors, mentees):
            for column in ("openness", "years_experience", "level", "comp_negotiation"):
                frame.loc[rng.random(len(frame)) < 0.15, column] = np.nan
            frame.loc[rng.random(len(frame)) < 0.15, "timezone"] = ""
            nowhere = rng.random(len(frame)) < 0.15
            frame.loc[nowhere, ["latitude", "longitude"]] = np.nan
            frame.loc[nowhere, "city"] = ""
        mentors.loc[rng.random(len(mentors)) < 0.2, "performance"] = np.nan
    return mentors, mentees


def _model_value(model, n: int, m: int) -> np.ndarray:
    out = np.zeros((n, m))
    if model.left is not None:
        out += model.left @ model.right.T
    if model.row is not None:
        out += model.row[:, None]
    if model.col is not None:
        out += model.col[None, :]
    if model.key is not None:
        out += model.table[model.key]
    if model.pairs is not None:
        out += model.pairs.toarray()
    return out


@pytest.mark.parametrize("seed,holes", [(1, False), (2, True), (3, True)])
@pytest.mark.parametrize("settings", [
    {},
    {"competency": {"target": "best_next"},
     "personality": {"modes": {"extraversion": "complementary", "neuroticism": "ignore"}},
     "geography": {"mode": "remote"}},
    {"experience": {"use_age": True}, "geography": {"mode": "in_person"}},
])
def test_every_bound_model_bounds_its_feature(seed, holes, settings):
    mentors, mentees = _org(seed, holes=holes)
    if "age" not in mentees.columns:
        rng = np.random.default_rng(seed)
        mentees["age"] = rng.integers(22, 40, len(mentees)).astype(float)
        mentors["age"] = rng.integers(28, 60, len(mentors)).astype(float)
    rules = Rules.coerce({"features": settings})
    mentors, mentees = _validated(mentors, mentees)
    context = Context(framework=pl.resolve_framework(None, mentees, mentors))
    features = prepare_features(mentees, mentors, rules, context)
    n, m = len(mentees), len(mentors)
    everything = Candidates.complete(n, m)
    checked = 0
    for name, prep in features.prepared.items():
        neutral = float(features.extractors[name].neutral)
        model = prep.bound_model(neutral)
        if model is None:
            continue
        value = prep.values(everything.mentee, everything.mentor).reshape(n, m)
        value = np.where(np.isnan(value), neutral, value)
        bound = _model_value(model, n, m)
        assert (bound >= value - 1e-9).all(), (name, float((value - bound).max()))
        if model.exact:
            np.testing.assert_allclose(bound, value, atol=1e-9, err_msg=name)
        checked += 1
    assert checked >= 5


def _validated(mentors, mentees):
    from mentormatch.schema import validate_tables

    return validate_tables(mentors, mentees)


def test_experience_bound_is_binned_when_years_are_many_and_stays_within_an_eighth():
    mentors, mentees = _validated(*_org(4, n=400, m=100))
    rules = Rules.coerce(None)
    features = prepare_features(mentees, mentors, rules, Context())
    prep = features.prepared["experience"]
    model = prep.bound_model(0.5)
    assert not model.exact  # more than 64 distinct (years, level) among the mentees
    n, m = len(mentees), len(mentors)
    c = Candidates.complete(n, m)
    value = np.nan_to_num(prep.values(c.mentee, c.mentor), nan=0.5).reshape(n, m)
    bound = _model_value(model, n, m)
    junior = prep._junior(prep._gaps(c.mentee, c.mentor)).reshape(n, m)
    gap = (bound - value)[~junior]  # a junior mentor's 0 is far below any bound
    assert gap.min() >= -1e-9 and gap.max() <= 1 / 16 + 1e-9


RULES = [
    None,
    {"constraints": {"mentor_level_above": True},
     "features": {"experience": {"junior_mentor": "ineligible"}, "readiness": {"min_readiness": 0.55}}},
    {"weights": {"geography": 2.0, "preference": 0.0, "personality": 1.0}},
]


def _exact_round(mentors, mentees, programme):
    """The exact path's view of a round: eligibility, rule counts and scores of every pair."""
    prep = pl.prepare(mentors, mentees, programme)
    d = prep.data
    n, m = len(d["mentees"]), len(d["mentors"])
    eligible = d["eligible"].reshape(n, m)
    scores = np.full((n, m), -np.inf)
    scores[eligible] = d["scores"].total.reshape(n, m)[eligible]
    return prep, eligible, scores


def _bounded(prep, programme) -> BoundedScorer:
    d = prep.data
    return BoundedScorer(d["mentees"], d["mentors"], Rules.coerce(programme),
                         Context(framework=d["framework"]), prep.mentee_ids, prep.mentor_ids)


@pytest.mark.parametrize("programme", RULES)
@pytest.mark.parametrize("seed", [5, 6])
def test_bounded_scorer_keeps_the_rules_exactly_and_bounds_every_score(programme, seed):
    mentors, mentees = _org(seed, n=120, m=40, holes=seed == 6)
    # one person in both tables, and some forbidden pairs
    shared = [c for c in mentees.columns if c in mentors.columns and c != "preferences"]
    mentees.loc[0, shared] = mentors.loc[0, shared].to_numpy()
    prog = dict(programme or {})
    prog.setdefault("constraints", {})
    prog["constraints"] = {**prog["constraints"],
                           "forbidden": [[mentees.loc[3, "id"], mentors.loc[k, "id"]] for k in (1, 2, 5)]}
    prep, eligible, scores = _exact_round(mentors, mentees, prog)
    scorer = _bounded(prep, prog)
    bound = scorer.upper(0, scorer.n)[scorer.inverse].astype(np.float64) + scorer.margin
    assert np.array_equal(bound > -BIG / 2, eligible)
    assert (bound[eligible] >= scores[eligible]).all()
    np.testing.assert_array_equal(scorer.eligible_counts, eligible.sum(axis=1))
    removed = prep.data["removed"]
    ours = scorer.removed_frame()
    for rule in removed.columns:
        if removed[rule].sum():
            np.testing.assert_array_equal(ours[rule].to_numpy(), removed[rule].to_numpy(), err_msg=rule)
    # exact scores of any pairs, given in any order, by internal row
    rows = np.array([7, 2, 7, 0])
    cols = np.array([3, 1, 0, 2])
    keep = eligible[scorer.order[rows], cols]
    np.testing.assert_allclose(scorer.exact_scores(rows[keep], cols[keep]),
                               scores[scorer.order[rows[keep]], cols[keep]])


@pytest.mark.parametrize("programme", RULES)
@pytest.mark.parametrize("seed,top_k", [(7, None), (8, 1), (9, 3)])
def test_bounded_certified_solve_equals_the_exact_optimum(programme, seed, top_k):
    mentors, mentees = _org(seed, n=150, m=35, holes=seed == 8)
    if seed == 9:  # mentees who need two mentors
        mentees["mentors_needed"] = np.where(np.arange(len(mentees)) % 5 == 0, 2, 1)
    prep, eligible, scores = _exact_round(mentors, mentees, programme)
    reference = pl.solve(prep)
    scorer = _bounded(prep, programme)
    demand = prep.data["mentees"].get("mentors_needed")
    problem, solution = solve_bounded(scorer, prep.data["mentors"]["capacity"].to_numpy(float),
                                      demand=None if demand is None else demand.to_numpy(float),
                                      options=SolverOptions(top_k=top_k))
    assert solution.status == "optimal" and solution.certificate["holds"]
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9, abs=1e-9)
    chosen = problem.pairs.subset(np.isin(np.arange(len(problem.pairs)), solution.chosen))
    # the objective recomputed from the pairs, with the exact path's scores
    assert scores[chosen.mentee, chosen.mentor].sum() == pytest.approx(solution.objective, rel=1e-12)
    assert solution.bound >= solution.objective - 1e-9
    assert solution.bound - solution.objective <= solution.certificate["rounding_bound"] + 1e-6
    cap = prep.data["mentors"]["capacity"].to_numpy()
    assert (np.bincount(chosen.mentor, minlength=len(cap)) <= cap).all()


def test_bounded_solve_keeps_locked_pairs():
    mentors, mentees = _org(10, n=80, m=25)
    prep, eligible, scores = _exact_round(mentors, mentees, None)
    i, j = np.argwhere(eligible)[[0, 40]].T
    ids_e, ids_m = prep.mentee_ids.ids, prep.mentor_ids.ids
    programme = {"constraints": {"locked": [[ids_e[a], ids_m[b]] for a, b in zip(i, j)]}}
    reference = pl.pair(mentors, mentees, programme)
    scorer = _bounded(prep, None)
    problem, solution = solve_bounded(scorer, prep.data["mentors"]["capacity"].to_numpy(float),
                                      locked=(i, j))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)
    chosen = set(zip(problem.pairs.mentee[solution.chosen].tolist(), problem.pairs.mentor[solution.chosen].tolist()))
    assert {(int(a), int(b)) for a, b in zip(i, j)} <= chosen


@pytest.mark.parametrize("programme", [{"constraints": {"same_team": True}},
                                       {"constraints": {"min_score": 1.0}}])
def test_settings_the_bounds_cannot_carry_fall_back_to_exact_scores(programme):
    mentors, mentees = _validated(*_org(11, n=30, m=10))
    from mentormatch.pairs import Encoder

    assert bounded_scorer(mentees, mentors, Rules.coerce(programme), Context(),
                          Encoder.from_ids(mentees["id"]), Encoder.from_ids(mentors["id"])) is None


def test_pair_takes_the_bounded_path_above_the_cache_limit(monkeypatch):
    mentors, mentees = _org(12, n=200, m=50)
    small = pl.pair(mentors, mentees)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    large = pl.pair(mentors, mentees)
    assert large.data.get("scale_path")
    assert large.certificate["method"] == "sparse_min_cost_flow+dual_check_on_bounds"
    assert large.status == "optimal"
    assert large.objective == pytest.approx(small.objective, rel=1e-9)
    assert len(large.pairs) + len(large.unmatched) == len(mentees)
    np.testing.assert_allclose(large.pairs["score"].sum(), small.pairs["score"].sum())
    # every unmatched mentee has a reason, and the contributions add up to each pair's score
    assert large.unmatched["reason"].str.len().gt(0).all()
    contributions = large.contributions
    np.testing.assert_allclose(contributions[[c for c in contributions.columns if c in
                                              large.data["scores"].features]].sum(axis=1).to_numpy(),
                               large.pairs["score"].to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_row_best_finds_each_rows_k_largest_values(seed):
    from mentormatch.solvers.bounded import _row_best

    rng = np.random.default_rng(seed)
    s = rng.random((9, 600)).astype(np.float32)
    if seed % 2:
        s = np.round(s * 4) / 4  # many ties
    s[2] = -np.inf  # a row with nothing eligible
    s[3] = 0.5  # a row of equal values
    rows, cols = _row_best(s, 13)
    for i in range(len(s)):
        got = np.sort(s[i, cols[rows == i]])[::-1]
        np.testing.assert_array_equal(got, np.sort(s[i])[::-1][:13])


@pytest.mark.parametrize("seed", [13, 14])
def test_crowded_rows_are_checked_in_full_before_the_certificate_holds(monkeypatch, seed):
    """With room for only 2 suspects a row per pass, crowded rows are rescanned; the result is
    still the exact optimum."""
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "SUSPECTS_PER_ROW", 2)
    mentors, mentees = _org(seed, n=160, m=40)
    mentors["capacity"] = 4
    prep, eligible, scores = _exact_round(mentors, mentees, None)
    reference = pl.solve(prep)
    scorer = _bounded(prep, None)
    problem, solution = solve_bounded(scorer, prep.data["mentors"]["capacity"].to_numpy(float),
                                      options=SolverOptions(top_k=1))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(reference.objective, rel=1e-9)


def test_alternatives_are_listed_but_not_priced_above_the_solve_budget(monkeypatch):
    import mentormatch.report.explain as explain

    mentors, mentees = _org(15, n=60, m=20)
    result = pl.pair(mentors, mentees)
    mentee = result.pairs["mentee_id"].iloc[0]
    priced = result.explain(mentee)
    monkeypatch.setattr(explain, "ALTERNATIVE_SOLVE_PAIRS", 10)
    listed = result.explain(mentee)
    text = str(listed)
    assert "not computed for a round of" in text
    assert "forcing it" in str(priced) and str(priced) != text
