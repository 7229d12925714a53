"""Bounds of the scale path: every feature's bound model is >= its value on every pair (equal
where it says exact), the bounded scorer removes exactly the pairs the rules remove and counts
them as the exact path does, and the bounded certified solve equals the exact optimum."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.features import Context
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.scale import BIG, bounded_scorer
from mentormatch.scoring import prepare_features
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import child, market, passes, rank, solve_bounded

from _support import assert_bounded_solve_is_exact, exact_round as _exact_round, scorer_of as _bounded


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
    prep, scores, reference, _, problem, solution = _solve_both(mentors, mentees, programme, top_k=top_k)
    # optimal and certified, the objective recomputed from the pairs with the exact path's
    # scores, capacities and demands kept
    _check_solution(prep, scores, problem, solution, reference.objective)
    assert solution.bound >= solution.objective - 1e-9
    assert solution.bound - solution.objective <= solution.certificate["rounding_bound"] + 1e-6


@pytest.mark.parametrize("programme", RULES[:2])
def test_keyed_terms_as_one_hot_columns_bound_and_solve_as_the_table_does(monkeypatch, programme):
    """Past ``MAX_TABLE_ENTRIES`` the keyed terms (places, experience groups, level rules) go
    into the matrix product as one-hot columns instead of one groups x mentors table: the same
    eligibility, bounds equal to the table's within the float32 margins, and the same certified
    optimum."""
    import mentormatch.scale as scale

    mentors, mentees = _org(12, n=120, m=40, holes=True)
    prep, eligible, scores = _exact_round(mentors, mentees, programme)
    table = _bounded(prep, programme)
    monkeypatch.setattr(scale, "MAX_TABLE_ENTRIES", 0)
    one_hot = _bounded(prep, programme)
    assert table.table.shape[0] > 1 and one_hot.table.shape == (1, table.m)  # the two paths
    assert one_hot.left.shape[1] > table.left.shape[1]  # the one-hot columns
    bound = one_hot.upper(0, one_hot.n)[one_hot.inverse].astype(np.float64)
    assert np.array_equal(bound > -BIG / 2, eligible)
    assert (bound[eligible] + one_hot.margin >= scores[eligible]).all()
    ref = table.upper(0, table.n)[table.inverse].astype(np.float64)
    np.testing.assert_allclose(bound[eligible], ref[eligible], rtol=0, atol=one_hot.margin + table.margin)
    reference = pl.solve(prep)
    problem, solution = solve_bounded(one_hot, prep.data["mentors"]["capacity"].to_numpy(float))
    _check_solution(prep, scores, problem, solution, reference.objective)


@pytest.mark.parametrize("holes", [False, True])
def test_coded_groups_bound_and_solve_as_the_whole_product_does(monkeypatch, holes):
    """Runs of the mentors' factor columns with at most 8 patterns (personality's bins; with
    missing traits a run ends earlier, and may take the next trait's columns) leave the product
    for a lookup by code (``scale_codes.CODES``), wherever the kernel is fast or not (forced
    here): each mentor's pattern is its factors exactly; the same eligibility, bounds that hold
    every exact score and equal the whole product's within the float32 margin; a subset's and a
    task's rows (``subset``, ``bounds_rows``) the same floats as the whole; the same certified
    optimum."""
    import mentormatch.scale_codes as scale_codes

    mentors, mentees = _org(21, n=140, m=45, holes=holes)
    prep, eligible, scores = _exact_round(mentors, mentees, None)
    monkeypatch.setattr(scale_codes, "codes_fast", lambda: False)
    whole = _bounded(prep)
    monkeypatch.setattr(scale_codes, "codes_fast", lambda: True)
    coded = _bounded(prep)
    assert whole.codes is None and coded.codes is not None and len(coded.codes) >= 4
    right = coded.right_t.T
    coded_cols = np.setdiff1d(np.arange(right.shape[1]), coded.rest_cols)
    assert len(coded_cols) >= 30 and coded.margin == whole.margin
    for g, (cols, codes, patterns) in enumerate(scale_codes.coded_groups(right)):
        np.testing.assert_array_equal(patterns[codes], right[:, cols])
        np.testing.assert_array_equal(codes, coded.codes[g])
        want = coded.left[:, cols].astype(np.float64) @ patterns.T.astype(np.float64)
        np.testing.assert_allclose(coded.lookup[:, g, :len(patterns)], want, rtol=2.0 ** -23, atol=0)
    bound = coded.upper(0, coded.n)[coded.inverse].astype(np.float64)
    ref = whole.upper(0, whole.n)[whole.inverse].astype(np.float64)
    assert np.array_equal(bound > -BIG / 2, eligible)
    assert (bound[eligible] + coded.margin >= scores[eligible]).all()
    np.testing.assert_allclose(bound[eligible], ref[eligible], rtol=0, atol=coded.margin)
    rows, cols = np.arange(3, coded.n, 4), np.arange(1, coded.m, 3)
    full = coded.upper(0, coded.n)
    np.testing.assert_array_equal(coded.subset(rows=rows, cols=cols).upper(0, len(rows)), full[rows][:, cols])
    part = coded.bounds_rows(20, 60)
    part.right_t = coded.right_t
    np.testing.assert_array_equal(part.upper(0, 40), full[20:60])
    reference = pl.solve(prep)
    problem, solution = solve_bounded(coded, prep.data["mentors"]["capacity"].to_numpy(float))
    _check_solution(prep, scores, problem, solution, reference.objective)


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
def test_row_best_finds_each_rows_k_largest_values_in_order(seed):
    from mentormatch.solvers.bounded.rank import _row_best

    rng = np.random.default_rng(seed)
    s = rng.random((9, 600)).astype(np.float32)
    if seed % 2:
        s = np.round(s * 4) / 4  # many ties
    s[2] = -np.inf  # a row with nothing eligible
    s[3] = 0.5  # a row of equal values
    s[4, 5:] = -np.inf  # a row with fewer eligible entries than k
    for k in (1, 13, 40):  # argmax; the sampled threshold; every entry ranked (600 < 16 * 40)
        rows, cols = _row_best(s, k)
        np.testing.assert_array_equal(rows, np.repeat(np.arange(len(s)), k))
        for i in range(len(s)):  # descending, ties to the lower column: a stable sort's first k
            np.testing.assert_array_equal(cols[rows == i], np.argsort(-s[i], kind="stable")[:k])


@pytest.mark.parametrize("seed", range(4))
def test_row_best_on_wide_rows_samples_every_32nd_column_and_finds_the_same_k_largest(seed):
    """Rows wide enough for the sparser sample (``m >= 128 k``, a width that is no multiple of
    32): each row's ``k`` largest in order, ties to the lower column, as a stable sort gives;
    rows whose sampled threshold finds too few or too many candidates included."""
    from mentormatch.solvers.bounded.rank import _row_best

    rng = np.random.default_rng(seed)
    k, m = 13, 128 * 13 + 37
    s = rng.standard_normal((12, m)).astype(np.float32)
    if seed % 2:
        s = np.round(s * 3) / 3  # many ties
    s[1] = -np.inf
    s[2] = 0.25
    s[3, 7:] = -np.inf  # fewer eligible entries than k
    s[4, ::32] = 9.0  # the sample holds only the row's largest: too few candidates above it
    s[5, 1::32] = 9.0  # its largest all outside the sample
    rows, cols = _row_best(s, k)
    np.testing.assert_array_equal(rows, np.repeat(np.arange(len(s)), k))
    for i in range(len(s)):
        np.testing.assert_array_equal(cols[rows == i], np.argsort(-s[i], kind="stable")[:k])


@pytest.mark.parametrize("seed", range(4))
def test_index_tables_place_pairs_as_binary_search_does(seed):
    """The view-local pairs of a scan, found through index tables, are those a binary search
    finds: the pairs inside the view's rows and mentors, in its indices, sorted by row."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(500, 120, replace=False))
    cols = np.sort(rng.choice(60, 25, replace=False)) if seed % 2 else None
    pi = np.sort(rng.integers(0, 520, 3000))  # some beyond every row of the view
    pj = rng.integers(0, 60, 3000)
    for values, x in ((rows, pi), (np.arange(60) if cols is None else cols, pj)):
        at, hit = rank._index_of(values, x)
        pos, found = rank._lookup(values, x)
        np.testing.assert_array_equal(hit, found)
        np.testing.assert_array_equal(at[hit], pos[found])
    ei, ej = rank._local(rows, cols, pi, pj)
    inside = np.isin(pi, rows) & (True if cols is None else np.isin(pj, cols))
    want_i = np.searchsorted(rows, pi[inside])
    want_j = pj[inside] if cols is None else np.searchsorted(cols, pj[inside])
    order = np.argsort(want_i, kind="stable")
    np.testing.assert_array_equal(ei, want_i[order])
    np.testing.assert_array_equal(ej, want_j[order])
    assert rank._index_of(rows, pi[:0])[0].shape == (0,)


@pytest.mark.parametrize("seed", [13, 14])
def test_crowded_rows_are_checked_in_full_before_the_certificate_holds(monkeypatch, seed):
    """With room for only 2 suspects a row per pass, crowded rows are rescanned; the result is
    still the exact optimum."""
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 2)
    monkeypatch.setattr(bounded, "POOL_PER_ROW", 3)  # small pools: rows are scanned again, and crowd
    mentors, mentees = _org(seed, n=160, m=40)
    mentors["capacity"] = 4
    assert_bounded_solve_is_exact(mentors, mentees)


def test_alternatives_are_bounded_not_re_solved_above_the_solve_budget(monkeypatch):
    import mentormatch.report.pricing as explain

    mentors, mentees = _org(15, n=60, m=20)
    result = pl.pair(mentors, mentees)
    mentee = result.pairs["mentee_id"].iloc[0]
    priced = result.explain(mentee)
    monkeypatch.setattr(explain, "ALTERNATIVE_SOLVE_PAIRS", 10)
    listed = result.explain(mentee)
    text = str(listed)
    assert "bounds: exact re-solves are skipped above 10" in text
    assert "forcing it" in str(priced) and str(priced) != text
    exact, bounded = priced.alternatives, listed.alternatives
    assert list(exact.mentor_id) == list(bounded.mentor_id)
    assert (bounded.cost_low <= exact.cost + 1e-9).all() and (exact.cost <= bounded.cost_high + 1e-9).all()


# --------------------------------------------------------------------------------------------
# the paths of the certifier that only run when the pools are smaller than a row: guards,
# mentor re-checks, rows scanned again; the sub-market of first prices; _split; subsets
# --------------------------------------------------------------------------------------------
def _solve_both(mentors, mentees, programme=None, top_k=None, locked=None):
    """The exact path's optimum and the bounded solve of the same round."""
    prep, eligible, scores = _exact_round(mentors, mentees, programme)
    reference = pl.solve(prep)
    scorer = _bounded(prep, programme)
    demand = prep.data["mentees"].get("mentors_needed")
    problem, solution = solve_bounded(scorer, prep.data["mentors"]["capacity"].to_numpy(float),
                                      demand=None if demand is None else demand.to_numpy(float),
                                      locked=locked, options=SolverOptions(top_k=top_k))
    return prep, scores, reference, scorer, problem, solution


def _check_solution(prep, scores, problem, solution, objective):
    assert solution.status == "optimal" and solution.certificate["holds"]
    assert solution.objective == pytest.approx(objective, rel=1e-9, abs=1e-9)
    chosen = problem.pairs.subset(np.isin(np.arange(len(problem.pairs)), solution.chosen))
    assert scores[chosen.mentee, chosen.mentor].sum() == pytest.approx(solution.objective, rel=1e-12)
    assert np.isfinite(scores[chosen.mentee, chosen.mentor]).all()  # only eligible pairs
    cap = prep.data["mentors"]["capacity"].to_numpy()
    assert (np.bincount(chosen.mentor, minlength=len(cap)) <= cap).all()
    demand = prep.data["mentees"].get("mentors_needed")
    need = np.ones(len(prep.data["mentees"]), int) if demand is None else demand.to_numpy(int)
    assert (np.bincount(chosen.mentee, minlength=len(need)) <= need).all()
    return chosen


@pytest.mark.parametrize("seed,n,m,capacity,pool,top_k,programme", [
    (1, 150, 35, None, 2, 1, None),  # mentees outnumber the places
    (3, 150, 35, None, 3, 2, None),
    (6, 150, 35, None, 2, 1, RULES[1]),  # ineligible pairs in the small pools
    (2, 160, 40, 4, 2, 1, None),  # places equal the demand
    (4, 160, 40, 4, 3, 2, None),
    (5, 160, 40, 5, 3, 2, None),  # places exceed the demand
])
def test_small_pools_force_guards_rescans_and_mentor_rechecks_and_stay_exact(
        monkeypatch, seed, n, m, capacity, pool, top_k, programme):
    """With pools of 2 or 3 pairs a row (of 35-40 mentors), every round's certificate must
    clear most pairs by the guard and re-check the mentors and rows it misses."""
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "POOL_PER_ROW", pool)
    mentors, mentees = _org(seed, n=n, m=m)
    if capacity is not None:
        mentors["capacity"] = capacity
    places = mentors["capacity"].sum()
    assert places < n if capacity is None else places >= n
    prep, scores, reference, scorer, problem, solution = _solve_both(mentors, mentees, programme, top_k)
    _check_solution(prep, scores, problem, solution, reference.objective)
    cert = solution.certificate
    assert cert["pool_per_row"] == max(pool, top_k) < m  # the pools really are small
    assert cert["first_prices"] is None  # far below GUIDE_PAIRS
    assert cert["rows_scanned_again"] >= 0 and cert["pairs_rechecked_by_mentor"] >= 0
    # the paths a full pool never takes did run
    assert cert["rows_scanned_again"] + cert["pairs_rechecked_by_mentor"] > 0
    # each round re-checks a row at most once, by mentor or in full
    assert cert["pairs_rechecked_by_mentor"] <= cert["rounds"] * n * m
    assert cert["rows_scanned_again"] <= cert["rounds"] * n


@pytest.mark.parametrize("case", ["plain", "small_pools", "locks", "two_mentors", "locks_small_pools",
                                  "settled_at_once", "settled_at_once_small_pools", "settling"])
def test_first_prices_from_a_sub_market_keep_the_exact_optimum(monkeypatch, case):
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    # by default the sub-market runs to its certificate here; "settled_at_once" stops it after
    # its first round, whatever that round adds: its prices only guide, the result is the same
    monkeypatch.setattr(market, "GUIDE_SETTLED", 1.0 if "settled" in case else 0.0)
    # "settling": it stops after its second round's flow, unchecked, since its first added pairs
    monkeypatch.setattr(market, "GUIDE_SETTLING", 1.0 if case == "settling" else 0.0)
    if "settl" in case:  # (with each mentor's rivals, this sub-market holds after its first flow)
        monkeypatch.setattr(market, "SUB_MARKET_RIVALS", 0)
    top_k = None
    if "small_pools" in case:
        monkeypatch.setattr(bounded, "POOL_PER_ROW", 2)
        top_k = 1
    n, m = 160, 40
    mentors, mentees = _org(16, n=n, m=m)
    mentors["capacity"] = 4  # places cover the demand: the sub-market runs (GUIDE_MIN_PLACES)
    if case == "two_mentors":
        mentees["mentors_needed"] = np.where(np.arange(n) % 5 == 0, 2, 1)
        mentors["capacity"] = 5
    locked = None
    if "locks" in case:
        prep, eligible, _ = _exact_round(mentors, mentees, None)
        i, j = np.argwhere(eligible)[[0, 300, 2000]].T
        ids_e, ids_m = prep.mentee_ids.ids, prep.mentor_ids.ids
        programme = {"constraints": {"locked": [[ids_e[a], ids_m[b]] for a, b in zip(i, j)]}}
        reference = pl.pair(mentors, mentees, programme).objective
        locked = (i, j)
    prep, scores, exact_ref, scorer, problem, solution = _solve_both(mentors, mentees, None, top_k, locked)
    if locked is None:
        reference = exact_ref.objective
    chosen = _check_solution(prep, scores, problem, solution, reference)
    if locked is not None:
        pairs = set(zip(chosen.mentee.tolist(), chosen.mentor.tolist()))
        assert {(int(a), int(b)) for a, b in zip(*locked)} <= pairs
    info = solution.certificate["first_prices"]
    assert isinstance(info, dict)
    assert info["mentees"] == -(-n // 3) and info["demand_factor"] == 3
    assert info["seconds"] >= 0
    if "settled" in case:
        assert info["rounds"] == 1 and info["certified"] is False
    elif case == "settling":
        assert info["rounds"] == 2 and info["certified"] is False
    else:
        assert info["certified"] is True and info["rounds"] >= 1


@pytest.mark.parametrize("capacity,divided", [
    ([3, 4, 5, 7, 0, 3], [1, 1, 2, 2, 0, 1]),  # the running total 1, 2.33, 4, 6.33, 6.33, 7.33
    ([6, 6, 6], [2, 2, 2]),
    ([2, 6, 6], None),  # a mentor with fewer places than the step: the demand is multiplied
    ([0, 0, 0], None),
])
def test_a_sub_market_divides_the_places_keeping_their_total(monkeypatch, capacity, divided):
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(market, "GUIDE_MIN_PLACES", 0.0)
    mentors, mentees = _org(3, n=20, m=len(capacity))
    scorer = _bounded(_exact_round(mentors, mentees, None)[0], None)
    cap = np.array(capacity, np.int64)
    dem = np.arange(scorer.n, dtype=np.int64) % 2 + 1
    sub = market._market(scorer, cap, dem, divide_places=True)
    assert sub.scorer.n == 7 and sub.scorer.order.tolist() == scorer.order[::3].tolist()
    if divided is None:
        assert sub.cap.tolist() == capacity and sub.dem.tolist() == (3 * dem[::3]).tolist()
        assert (sub.demand_factor, sub.places_divisor) == (3, 1)
    else:
        assert sub.cap.tolist() == divided and sub.dem.tolist() == dem[::3].tolist()
        assert (sub.demand_factor, sub.places_divisor) == (1, 3)
        assert abs(sub.cap.sum() - cap.sum() / 3) < 1


def test_no_sub_market_when_places_fall_short(monkeypatch):
    """Below GUIDE_MIN_PLACES places a demand the first prices are the bound's own ranking."""
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    mentors, mentees = _org(17, n=150, m=35)
    assert mentors["capacity"].sum() < market.GUIDE_MIN_PLACES * len(mentees)
    prep, scores, reference, scorer, problem, solution = _solve_both(mentors, mentees)
    _check_solution(prep, scores, problem, solution, reference.objective)
    assert solution.certificate["first_prices"] is None


def _deltas_and_rooms(seed: int, rows: int):
    """A re-check's mentors (how far each price fell, ``delta``) and rows (``room``), with ties
    and infinities on some seeds: (mentors, delta, room)."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 12))
    n = int(rng.integers(0, rows))
    delta = rng.normal(size=m)
    room = rng.normal(size=n)
    if seed % 3 == 1:  # ties, between the deltas and between the deltas and the rooms
        delta, room = np.round(delta * 2) / 2, np.round(room * 2) / 2
    if seed % 4 == 2:  # mentors without a price (-inf) or without room in the pools' prices (+inf)
        delta[rng.random(m) < 0.3] = -np.inf
        delta[rng.random(m) < 0.2] = np.inf
        room[rng.random(n) < 0.2] = np.inf
    return m, delta, room


def _split_cost(delta, room, m, cut):
    finite = delta[np.isfinite(delta)]
    cols = int((finite > cut).sum())
    rows = int((room < cut).sum())
    return (len(room) - rows) * cols + rows * m, cols, rows


def _bands_cost(delta, room, m, full, bands, extra):
    """Bound pairs of a cover (rows in room order: ``full`` scanned in full, then the bands), and
    the fixed charge of each band with mentors to check beyond the first."""
    finite = delta[np.isfinite(delta)]
    cols = [int((finite > low).sum()) for _, _, low in bands]
    pairs = full * m + sum((b - a) * c for (a, b, _), c in zip(bands, cols))
    return pairs + extra * max(0, sum(c > 0 for c in cols) - 1)


@pytest.mark.parametrize("seed", range(16))
def test_bands_cover_every_pair_to_re_check_at_the_least_cost(seed):
    """The re-check's bands (:func:`recheck._bands`): every row scanned in full or in a band whose
    lowest room is at most its own (so every mentor with ``delta_j > room_i`` is re-checked on
    row ``i``), and the cover is the cheapest of all prefixes and up to ``most`` contiguous bands,
    found by brute force (or of the bands alone, ``full=False``); with one band, no dearer than
    the one cut of :func:`recheck._split`."""
    import itertools

    from mentormatch.solvers.bounded import recheck as check

    m, delta, room = _deltas_and_rooms(seed, 13)
    n, most = len(room), 1 + seed % 4
    full_scans = seed % 5 != 0
    extra = check.BAND_ROWS * m
    order, full, bands = check._bands(delta, room, m, most, full=full_scans)
    assert full_scans or full == 0
    assert sorted(order.tolist()) == list(range(n)) and len(bands) <= most
    r = room[order]
    assert np.all(r[:-1] <= r[1:])
    at = full
    for a, b, low in bands:  # contiguous to the last row; each band's rooms at least its own
        assert a == at and b > a and low <= r[a:b].min()
        at = b
    assert at == n
    cost = _bands_cost(delta, room, m, full, bands, extra)
    brute = []
    for f in range(n + 1) if full_scans else [0]:
        for k in range(0, min(most, n - f) + 1):
            for cuts in itertools.combinations(range(f + 1, n), max(k - 1, 0)):
                if k == 0 and f < n:
                    continue
                ends = [f, *cuts, n] if k else [f]
                parts = [(a, b, float(r[a])) for a, b in zip(ends[:-1], ends[1:])]
                brute.append(_bands_cost(delta, room, m, f, parts, extra))
    assert cost == min(brute)
    if most == 1 and full_scans:
        assert cost <= _split_cost(delta, room, m, check._split(delta, room, m)[0])[0]


def test_bands_need_fewer_bound_pairs_than_one_cut_on_a_staircase():
    """Rows whose room and mentors whose price fall spread evenly: a pair needs a check only
    where ``delta_j > room_i``, about half of them; one cut covers it by a rectangle."""
    from mentormatch.solvers.bounded import recheck as check

    m, n = 2000, 5000
    delta = np.linspace(-1.0, 1.0, m)
    room = np.linspace(-1.0, 1.0, n)
    staircase = int((delta[None, :] > room[:, None]).sum())
    one = _split_cost(delta, room, m, check._split(delta, room, m)[0])[0]
    order, full, bands = check._bands(delta, room, m, check.ROOM_BANDS)
    cost = _bands_cost(delta, room, m, full, bands, 0)
    assert staircase <= cost < 0.8 * one  # (6 bands: about 7/12 of the pairs, one cut 3/4)


@pytest.mark.parametrize("seed", range(12))
def test_split_picks_the_cheapest_cut(seed):
    from mentormatch.solvers.bounded.recheck import _split

    m, delta, room = _deltas_and_rooms(seed, 15)
    n = len(room)
    if seed == 11:
        delta[:] = -np.inf  # nothing finite: only the cut at -inf
    cut, cols, rows = _split(delta, room, m)
    finite = delta[np.isfinite(delta)]
    candidates = np.concatenate([[-np.inf], finite])
    assert cut in candidates
    cost, want_cols, want_rows = _split_cost(delta, room, m, cut)
    assert (cols, rows) == (want_cols, want_rows)
    assert cost == min(_split_cost(delta, room, m, c)[0] for c in candidates)
    # and no cut at all, anywhere between or beyond the candidates, is cheaper
    grid = np.concatenate([candidates, room[np.isfinite(room)], [np.inf]])
    grid = np.unique(np.concatenate([grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf)]))
    assert cost <= min(_split_cost(delta, room, m, c)[0] for c in grid)


@pytest.mark.parametrize("programme", RULES[:2])
def test_scorer_subsets_keep_the_bounds_scores_and_counts(programme):
    mentors, mentees = _org(18, n=120, m=40, holes=True)
    prog = dict(programme or {})
    prog["constraints"] = {**prog.get("constraints", {}),  # blocked pairs in the subsets too
                           "forbidden": [[mentees.loc[k, "id"], mentors.loc[k % 40, "id"]] for k in range(0, 60, 3)]}
    prep, eligible, scores = _exact_round(mentors, mentees, prog)
    scorer = _bounded(prep, prog)
    n, m = scorer.n, scorer.m
    assert scorer.blocked is not None and len(scorer.runs) > 0
    full = scorer.upper(0, n)
    rng = np.random.default_rng(0)
    r = np.sort(rng.choice(n, 37, replace=False))
    c = np.sort(rng.choice(m, 13, replace=False))
    tol = scorer.margin  # float32 products of other shapes may round differently

    def same(got, want):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got > -BIG / 2, want > -BIG / 2)  # eligibility exactly
        ok = want > -BIG / 2
        np.testing.assert_allclose(got[ok], want[ok], rtol=0, atol=tol)

    rows = scorer.subset(rows=r)
    assert (rows.n, rows.m) == (len(r), m)
    same(rows.upper(0, len(r)), full[r])
    same(rows.upper(5, 20), full[r[5:20]])  # a block inside the subset
    cols = scorer.subset(cols=c)
    assert (cols.n, cols.m) == (n, len(c))
    same(cols.upper(0, n), full[:, c])
    both = rows.subset(cols=c)
    same(both.upper(0, len(r)), full[np.ix_(r, c)])
    same(cols.subset(rows=r).upper(0, len(r)), full[np.ix_(r, c)])
    r2 = np.array([0, 4, 5, 30])
    same(rows.subset(rows=r2).upper(0, len(r2)), full[r[r2]])  # a sub-market's sub-market
    c2 = np.array([1, 2, 9])
    same(cols.subset(cols=c2).upper(0, n), full[:, c[c2]])
    # the scorer itself is untouched
    np.testing.assert_array_equal(scorer.upper(0, n), full)
    # eligible counts of the rows, in internal order
    np.testing.assert_array_equal(rows.eligible_counts, scorer.eligible_counts[scorer.order[r]])
    np.testing.assert_array_equal(rows.eligible_counts, (full[r] > -BIG / 2).sum(axis=1))
    np.testing.assert_array_equal(rows.subset(rows=r2).eligible_counts, scorer.eligible_counts[scorer.order[r[r2]]])
    # exact scores by the subset's own indices
    si, sj = np.nonzero(full[np.ix_(r, c)] > -BIG / 2)
    pick = rng.choice(len(si), 25, replace=False)
    si, sj = si[pick], sj[pick]
    want = scorer.exact_scores(r[si], c[sj])
    np.testing.assert_allclose(want, scores[scorer.order[r[si]], c[sj]], rtol=1e-12)
    np.testing.assert_allclose(both.exact_scores(si, sj), want, rtol=1e-12)
    np.testing.assert_allclose(rows.exact_scores(si, c[sj]), want, rtol=1e-12)
    np.testing.assert_allclose(cols.exact_scores(r[si], sj), want, rtol=1e-12)
    np.testing.assert_allclose(cols.subset(cols=np.arange(len(c))[::-1].copy()).exact_scores(r[si], len(c) - 1 - sj),
                               want, rtol=1e-12)


class _MatrixScorer:
    """The scorer interface of the bounded path over two explicit matrices, bound >= score:
    bounds can be made as loose, and as misleading, as a test needs."""

    def __init__(self, bound, score):
        self.S = np.asarray(score, np.float64)
        u = np.asarray(bound, np.float64).astype(np.float32)
        self.U = np.where(u < self.S, np.nextafter(u, np.float32(np.inf)), u).astype(np.float32)
        assert (self.U >= self.S).all()
        self.n, self.m = self.S.shape
        self.order = self.inverse = np.arange(self.n)
        self.margin, self.exact = 0.0, False
        self.largest = float(np.abs(self.U).max(initial=0.0))
        self.eligible_counts = self.row_eligible = np.full(self.n, self.m)

    def upper(self, a, b, out=None):
        if out is None:
            return self.U[a:b].copy()
        out[:b - a] = self.U[a:b]
        return out[:b - a]

    def subset(self, rows=None, cols=None):
        u, s = self.U, self.S
        if rows is not None:
            u, s = u[rows], s[rows]
        if cols is not None:
            u, s = u[:, cols], s[:, cols]
        return _MatrixScorer(u, s)

    def exact_scores(self, i, j):
        return self.S[i, j]


def test_a_crowded_row_whose_loose_bounds_hide_its_violator_is_scanned_in_full(monkeypatch):
    """Row 0 has ten decoys (bound 10, score at most 0.3) above its real best pair (mentor 11,
    bound = score = 5), and mentor 11's own best row by the bound is row 1. With room for 2
    suspects a row, the decoys crowd row 0 and hide the violator: only the full rescan of a
    crowded row finds it, and without it the certificate would wrongly hold at a lower total."""
    from scipy.optimize import linear_sum_assignment

    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 2)
    monkeypatch.setattr(bounded, "POOL_PER_ROW", 3)
    rng = np.random.default_rng(7)
    n = m = 12
    score = rng.uniform(0.01, 0.3, (n, m))
    bound = score.copy()
    bound[0, 1:11] = 10.0  # decoys
    score[0, 11] = bound[0, 11] = 5.0  # the real best pair of row 0
    bound[1, 11] = 6.0  # mentor 11's best row by the bound is row 1 (score stays small)
    scorer = _MatrixScorer(bound, score)
    problem, solution = solve_bounded(scorer, np.ones(m), options=SolverOptions(top_k=1))
    rows, cols = linear_sum_assignment(score, maximize=True)
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(score[rows, cols].sum(), rel=1e-12)
    chosen = problem.pairs.mentee[solution.chosen], problem.pairs.mentor[solution.chosen]
    assert (0, 11) in set(zip(*(x.tolist() for x in chosen)))
    assert solution.certificate["rows_scanned_again"] >= 1


@pytest.mark.parametrize("seed", range(4))
def test_each_mentors_best_rows_are_the_block_bests_ranked_with_ties_to_the_lower_row(monkeypatch, seed):
    """A pass keeps each mentor's ``k`` best rows among the block bests (the first row of a
    block with the block's largest value), value first, then the lower row: whole-number
    bounds make ties everywhere, small blocks make many of them run on both threads, and the
    answer must be the same on every run."""
    import mentormatch.solvers.sparse as sparse

    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 200)
    monkeypatch.setattr(passes, "MIN_BLOCK_ROWS", 1)
    rng = np.random.default_rng(seed)
    n, m, k = 600, 20, 3
    bound = rng.integers(0, 5, (n, m)).astype(float)
    bound[rng.random((n, m)) < 0.05] = -BIG  # ineligible
    scorer = _MatrixScorer(bound, np.minimum(bound, 0.0))
    price = rng.integers(0, 2, m).astype(float)
    e = np.zeros(0, np.int64)
    want = set()
    s = scorer.U - price.astype(np.float32)
    best = []
    for a, b in passes._pass_blocks(n, m):  # (blocks of 40 rows)
        top = s[a:b].max(axis=0)
        best += [(-top[j], a + int(np.argmax(s[a:b, j] == top[j])), j) for j in range(m) if top[j] > -BIG / 2]
    for j in range(m):
        want |= {(r, j) for _, r, _ in sorted(x for x in best if x[2] == j)[:k]}
    for _ in range(3):
        found = passes._scan(scorer, np.arange(n), None, price, excl_i=e, excl_j=e, pool_size=2, mentor_k=k)
        assert set(zip(found.mentor_best[0].tolist(), found.mentor_best[1].tolist())) == want


def _slot_optimum(score, cap):
    """The optimum by scipy's assignment on mentor slots, with a zero column per mentee
    (unmatched); pairs of score <= 0 add nothing."""
    from scipy.optimize import linear_sum_assignment

    n = score.shape[0]
    slots = np.repeat(np.arange(score.shape[1]), cap)
    value = np.hstack([np.maximum(score[:, slots], 0.0), np.zeros((n, n))])
    r, c = linear_sum_assignment(value, maximize=True)
    return float(value[r, c].sum())


@pytest.mark.parametrize("seed", range(30))
def test_re_checked_mentors_move_rows_to_a_new_generation_and_the_certificate_stays_exact(monkeypatch, seed):
    """Loose, misleading bounds and pools of two pairs a row: most rounds re-check the mentors
    whose price fell and move those rows to a new generation of prices and floors. A floor
    that missed a pair outside the pool (say, a pair chosen in that round and left later)
    would let the certificate hold below the optimum."""
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "POOL_PER_ROW", 2)
    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", 3)
    rng = np.random.default_rng(seed)
    n, m = 60, 10
    cap = rng.integers(1, 5, m)
    score = rng.uniform(0.0, 1.0, (n, m)) + rng.uniform(0.0, 1.5, m)[None, :]  # popular mentors
    bound = score + rng.uniform(0.0, 0.6, (n, m)) * (rng.random((n, 1)) < 0.7)
    scorer = _MatrixScorer(bound, score)
    problem, solution = solve_bounded(scorer, cap.astype(float), options=SolverOptions(top_k=1))
    assert solution.status == "optimal"
    assert solution.objective == pytest.approx(_slot_optimum(score, cap), rel=1e-9)
    assert solution.certificate["rounds"] >= 2
    assert solution.certificate["pairs_rechecked_by_mentor"] > 0


@pytest.mark.skipif(not child.can_fork(), reason="fork needs Linux and two cores")
@pytest.mark.parametrize("capacity", [4, 5])
def test_the_sub_market_beside_the_first_pass_gives_the_pairs_it_gives_before_it(monkeypatch, capacity):
    """Two levels of sub-markets: the inner one ranks the first pass, the outer one runs in a
    forked child beside it. Run in this process instead (no fork), the solve must give the same
    pairs, objective and certificate, and both equal the exact optimum."""
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    mentors, mentees = _org(21, n=180, m=40)
    mentors["capacity"] = capacity
    runs = []
    for fork in (True, False):
        monkeypatch.setattr(child, "can_fork", lambda fork=fork: fork)
        prep, scores, reference, scorer, problem, solution = _solve_both(mentors, mentees)
        chosen = _check_solution(prep, scores, problem, solution, reference.objective)
        info = solution.certificate["first_prices"]
        assert info["beside_first_pass"] is fork
        assert info["mentees"] == 60 and info["pools_ranked_by"]["mentees"] == 20
        # the outer sub-market multiplies the demand, the inner one divides the places
        assert (info["demand_factor"], info["places_divisor"]) == (3, 1)
        inner = info["pools_ranked_by"]
        assert (inner["demand_factor"], inner["places_divisor"]) == (1, 3)
        runs.append((chosen.mentee.tolist(), chosen.mentor.tolist(), solution.objective,
                     {k: v for k, v in solution.certificate.items() if k not in ("seconds", "first_prices", "work")}))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("seed,capacity,pool,top_k", [(1, None, 2, 1), (2, 4, 2, 1), (5, 5, 3, 2)])
def test_rounds_repaired_from_the_last_optimum_keep_the_exact_optimum(monkeypatch, seed, capacity, pool, top_k):
    """Every round after the first repaired from the last one's optimum and potentials (no
    limit on violators), or none (every round solved cold): both must reach the exact optimum,
    and the repaired rounds must be the ones the certificate lists."""
    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers import warm

    monkeypatch.setattr(bounded, "POOL_PER_ROW", pool)
    monkeypatch.setattr(warm, "MAX_VIOLATORS", 10**9)
    monkeypatch.setattr(warm, "MAX_PHASES", 10**9)
    mentors, mentees = _org(seed, n=150, m=35)
    if capacity is not None:
        mentors["capacity"] = capacity
    certs = {}
    for repair in (True, False):
        if not repair:
            monkeypatch.setattr(bounded, "resolve", lambda *args: None)
        prep, scores, reference, scorer, problem, solution = _solve_both(mentors, mentees, None, top_k)
        _check_solution(prep, scores, problem, solution, reference.objective)
        certs[repair] = solution.certificate
    assert certs[False]["warm_repairs"] == []
    repaired = certs[True]["warm_repairs"]
    assert certs[True]["rounds"] >= 2
    assert [r["round"] for r in repaired] == list(range(2, certs[True]["rounds"] + 1))
    assert sum(r["violators"] for r in repaired) > 0 and sum(r["phases"] for r in repaired) > 0


@pytest.mark.parametrize("seed", [3, 8])
def test_the_locked_pairs_bounds_read_a_few_rows_at_a_time_equal_the_whole_matrixs(monkeypatch, seed):
    """``bounded._locked_bounds`` reads the locked pairs' bounds :data:`LOCK_ROWS` rows at a time
    (a second round's carried pairs held every locked row's bounds at once: 2.6 GB at 32,000 x
    20,000, s21h8): the same float32 values as the whole matrix, unsorted rows with several locks
    a row, and ineligible pairs below ``-BIG / 2`` as before."""
    import mentormatch.solvers.bounded as bounded

    mentors, mentees = _org(seed, n=60, m=25)
    prog = {"constraints": {"forbidden": [[mentees.loc[4, "id"], mentors.loc[2, "id"]]]}}
    prep, eligible, _ = _exact_round(mentors, mentees, prog)
    scorer = _bounded(prep, prog)
    whole = scorer.upper(0, scorer.n)
    rng = np.random.default_rng(seed)
    li = np.sort(rng.integers(0, scorer.n, 40))
    lj = rng.integers(0, scorer.m, 40)
    li = np.append(li, scorer.inverse[4]); lj = np.append(lj, 2)  # (a forbidden pair)
    order = np.lexsort((lj, li))
    li, lj = li[order], lj[order]
    monkeypatch.setattr(bounded, "LOCK_ROWS", 3)
    got = bounded._locked_bounds(scorer, li, lj)
    np.testing.assert_array_equal(got, whole[li, lj])
    assert ((got > -BIG / 2) == eligible[scorer.order[li], lj]).all()
    assert (got <= -BIG / 2).any()


def test_sparse_rule_membership_equals_isin():
    """scale_rules._within (a binary search in the sorted listed codes) answers as np.isin, on
    unsorted, repeated and empty lists."""
    from mentormatch.scale_rules import _within

    rng = np.random.default_rng(3)
    for _ in range(300):
        codes = rng.integers(0, 60, rng.integers(0, 50))
        listed = rng.integers(0, 60, rng.integers(0, 50))
        np.testing.assert_array_equal(_within(codes, listed), np.isin(codes, listed))


@pytest.mark.parametrize("seed,holes", [(3, False), (4, True)])
def test_exact_scores_of_pairs_in_any_order_or_repeated_are_the_complete_sets_to_the_bit(seed, holes):
    """Every eligible pair, every other one twice, in no order and then sorted by (mentee, mentor)
    (no sort then): each pair's score is the complete set's, to the bit. On main (d4a6f0b) a
    stated preference reached the first copy of a repeated pair only (the second scored as
    unstated)."""
    mentors, mentees = _org(seed, holes=holes)
    prep, eligible, scores = _exact_round(mentors, mentees, None)
    scorer = _bounded(prep, None)
    rng = np.random.default_rng(seed)
    mentee, mentor = np.nonzero(eligible)
    pick = np.concatenate([np.arange(len(mentee)), np.arange(0, len(mentee), 2)])
    mentee, mentor = mentee[pick], mentor[pick]
    stated = prep.data["scores"].contributions[:, list(prep.data["scores"].features).index("preference")]
    assert (stated.reshape(eligible.shape)[mentee, mentor] != 0).any()  # repeated pairs with a preference
    for order in (rng.permutation(len(pick)), np.lexsort((mentor, mentee))):
        i, j = mentee[order], mentor[order]
        got = scorer.exact_scores(scorer.inverse[i], j)
        np.testing.assert_array_equal(got.view(np.int64), scores[i, j].view(np.int64))
