"""The totals-only scoring (scoring_totals.score_totals) equals score_pairs' total to the bit, on random
organisations with missing values, every feature and its settings, custom features (with and
without lookup tables, eight features and more), complete and sparse pair sets; the features'
eligibility masks alone (feature_rules) equal score_pairs'; the scale path's scores on first
read (ScoresOnRead) equal score_pairs' and score only the reported pairs until then."""
import pickle

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import pipeline, scoring, scoring_totals
from mentormatch.careers import CareerFramework
from mentormatch.features import FEATURES, Context
from mentormatch.features.tables import PairTable, SparsePairs, keyed_pair_table
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules

from test_scoring_tables import FEATURE_SETS, WEIGHTS, _organisation


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float64).view(np.int64)


class _Column:
    """A test feature: ``1 / (1 + |a_i - b_j|)`` of a numeric column of each table (NaN where either
    is missing, neutral 0.3), with a keyed lookup table when ``table`` is set."""

    neutral = 0.3

    def __init__(self, column: str = "openness", table: bool = True):
        self.column, self.table = column, table

    def prepare(self, mentees, mentors, context):
        return _ColumnPrepared(mentees[self.column].to_numpy(float), mentors[self.column].to_numpy(float),
                               self.table)


class _ColumnPrepared:
    def __init__(self, a, b, table):
        self.a, self.b, self.table = a, b, table

    def values(self, i, j):
        return 1.0 / (1.0 + np.abs(self.a[i] - self.b[j]))

    def details(self, i, j):
        return {}

    def ineligible(self, i, j):
        return None

    def pair_table(self, max_entries):
        if not self.table:
            return None
        return keyed_pair_table(self.values, (self.a,), (self.b,), max_entries)


def _register(monkeypatch, count: int) -> dict[str, float]:
    """``count`` column features registered (every other one without a lookup table), with
    their weights."""
    columns = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
    weights = {}
    for k in range(count):
        name = f"test_column_{k}"
        cls = type(f"_Column{k}", (_Column,), {"name": name})
        monkeypatch.setitem(FEATURES, name, cls)
        weights[name] = 0.25 + 0.5 * k
        FEATURE_SETS_EXTRA[name] = {"column": columns[k % len(columns)], "table": k % 2 == 0}
    return weights


FEATURE_SETS_EXTRA: dict = {}

#: (weights, feature settings): the six features in each of their settings, a single feature,
#: the six with custom ones up to eight and ten features (ndarray.sum adds those)
CASES = [(WEIGHTS, s) for s in range(len(FEATURE_SETS))] + [
    ({"experience": 3.0}, 0), ({"preference": 1.0, "personality": 0.0, "readiness": 2.0}, 2),
    ("custom2", 1), ("custom4", 0), ("custom-only9", 0)]


def _rules(monkeypatch, case):
    weights, settings = case
    features = dict(FEATURE_SETS[settings])
    if isinstance(weights, str):
        extra = _register(monkeypatch, int(weights[-1]))
        features.update({n: FEATURE_SETS_EXTRA[n] for n in extra})
        weights = extra if weights.startswith("custom-only") else {**WEIGHTS, **extra}
    return Rules.from_dict({"weights": weights, "features": features})


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("tables", ["tables", "no tables"])
def test_totals_equal_score_pairs_total_to_the_bit(seed, case, tables, monkeypatch):
    rules = _rules(monkeypatch, CASES[case])
    n_features = sum(w > 0 for w in rules.weights.values())
    mentees, mentors = _organisation(seed, [0.0, 0.1, 0.3, 0.6][seed])
    context = Context(framework=CareerFramework.sales())
    limit = (1 << 20) if tables == "tables" else 0
    monkeypatch.setattr(scoring, "_table_limit", lambda n_pairs: limit)
    prep = scoring.prepare_features(mentees, mentors, rules, context)
    complete = Candidates.complete(len(mentees), len(mentors))
    rng = np.random.default_rng(seed)
    sparse = complete.subset(rng.random(len(complete)) < 0.35)
    empty = complete.subset(np.zeros(len(complete), bool))
    for cand in (complete, sparse, empty):
        want = scoring.score_pairs(mentees, mentors, cand, rules, context, prepared=prep)
        got = scoring_totals.score_totals(mentees, mentors, cand, rules, context, prepared=prep)
        assert got.shape == (len(cand),)
        assert np.array_equal(_bits(got), _bits(want.total))
        # and the total is the sum of the per-feature path's contributions, recomputed
        if len(cand) and n_features < 8:
            acc = want.contributions[:, 0].copy()
            for col in range(1, n_features):
                acc += want.contributions[:, col]
            assert np.array_equal(_bits(got), _bits(acc))
        elif len(cand):
            assert np.array_equal(_bits(got), _bits(want.contributions.sum(axis=1)))
        # the features' eligibility masks alone
        rules_only = scoring.feature_rules(cand, prep, block_rows=5)
        assert rules_only.keys() == want.ineligible.keys()
        for rule, mask in want.ineligible.items():
            assert np.array_equal(rules_only[rule], mask)
    if seed == 0:  # without prepared features: prepared here, the same numbers
        got = scoring_totals.score_totals(mentees, mentors, sparse, rules, context)
        assert np.array_equal(_bits(got), _bits(scoring.score_pairs(mentees, mentors, sparse, rules, context).total))


def test_totals_count_eight_features_and_more():
    assert any(isinstance(w, str) and int(w[-1]) + (0 if w.startswith("custom-only") else 6) >= 8
               for w, _ in CASES)


@pytest.mark.parametrize("seed", range(3))
def test_weighted_tables_gather_the_contributions(seed):
    rng = np.random.default_rng(seed)
    n, m, k = 30, 20, 12
    values = rng.random(k)
    values[rng.random(k) < 0.3] = np.nan
    table = PairTable(values, rng.integers(0, 3, n) * 4, rng.integers(0, 4, (1, m)), None,
                      np.zeros(k, np.int64), np.zeros(k, np.int64))
    i, j = rng.integers(0, n, 500), rng.integers(0, m, 500)
    w, neutral = 1.7, 0.45
    want = np.where(np.isnan(table.gather(i, j)), neutral, table.gather(i, j))
    want *= w
    assert np.array_equal(_bits(table.weighted(w, neutral).gather(i, j)), _bits(want))
    rows = np.array([3, 0, 7])
    got = table.weighted(w, neutral).rows(rows)
    plain = table.rows(rows)
    assert np.array_equal(_bits(got), _bits(w * np.where(np.isnan(plain), neutral, plain)))
    # a constant with a few listed pairs (NaN among them, and as the constant)
    for default in (0.0, np.nan):
        sp = SparsePairs(default, np.array([1, 4, 4]), np.array([2, 0, 5]), np.array([0.5, np.nan, 1.0]), m)
        want = np.where(np.isnan(sp.gather(i, j)), neutral, sp.gather(i, j)) * w
        assert np.array_equal(_bits(sp.weighted(w, neutral).gather(i, j)), _bits(want))


@pytest.mark.parametrize("seed", range(3))
def test_scores_on_read_equal_score_pairs_and_score_only_what_is_asked(seed, monkeypatch):
    mentees, mentors = _organisation(seed, 0.2)
    rules = Rules.from_dict({"weights": WEIGHTS})
    context = Context(framework=CareerFramework.sales())
    prep = scoring.prepare_features(mentees, mentors, rules, context)
    complete = Candidates.complete(len(mentees), len(mentors))
    rng = np.random.default_rng(seed)
    cand = complete.subset(rng.random(len(complete)) < 0.5)
    want = scoring.score_pairs(mentees, mentors, cand, rules, context, prepared=prep)
    lazy = scoring_totals.ScoresOnRead(mentees, mentors, cand, rules, context, prep)
    assert lazy.features == want.features and np.array_equal(lazy.weights, want.weights)
    assert lazy.prepared is prep.prepared
    scored = []
    real = scoring.score_pairs
    monkeypatch.setattr(scoring, "score_pairs", lambda *a, **k: scored.append(len(a[2])) or real(*a, **k))
    positions = rng.choice(len(cand), size=17, replace=False)  # in any order
    assert np.array_equal(_bits(lazy.contributions_of(positions)), _bits(want.contributions[positions]))
    assert scored == [17]  # those pairs alone
    lazy = pickle.loads(pickle.dumps(lazy))  # picklable before it is scored
    for name in ("total", "contributions", "values", "missing"):
        assert np.array_equal(getattr(lazy, name), getattr(want, name)), name
    assert scored == [17, len(cand)]  # every pair once, at the first read
    assert lazy.ineligible.keys() == want.ineligible.keys()
    assert np.array_equal(_bits(lazy.contributions_of(positions)), _bits(want.contributions[positions]))
    assert scored == [17, len(cand)]
    pd.testing.assert_frame_equal(lazy.frame(cand), want.frame(cand))


@pytest.fixture(scope="module")
def org():
    return mm.synthetic.organisation(n_mentees=90, n_mentors=30, seed=4)


@pytest.mark.parametrize("source", ["blocks", "bounds"])
def test_the_scale_path_scores_contributions_of_the_reported_pairs_only(org, source, monkeypatch):
    """pair() on the scale path (forced small) scores per-feature contributions only for the
    pairs it reports, at the tables' first read (it scored every pair of the solver's before);
    the tables and explanations read the same numbers as on the complete set."""
    mentors, mentees = org
    small = mm.pair(mentors, mentees)
    scored = []
    real = scoring.score_pairs
    monkeypatch.setattr(scoring, "score_pairs", lambda *a, **k: scored.append(len(a[2])) or real(*a, **k))
    monkeypatch.setattr(pipeline, "LARGE_PAIRS", 100)
    monkeypatch.setattr(pipeline, "USE_BOUNDS", source == "bounds")
    monkeypatch.setattr(pipeline, "SCORE_CACHE_PAIRS", 10**9 if source == "blocks" else 0)
    large = mm.pair(mentors, mentees)
    assert scored == []  # no contributions scored in the call
    solver_pairs = len(large.record.problem.pairs)
    reported = len(large.pairs)
    assert scored == [reported] and reported < solver_pairs
    # the same tables as on the complete set (the scores recomputed there from every pair)
    key = ["mentee_id", "mentor_id"]
    a = small.pairs.join(small.contributions).sort_values(key).reset_index(drop=True)
    b = large.pairs.join(large.contributions).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + small.contributions.columns.tolist()],
                                  b[key + small.contributions.columns.tolist()], check_exact=True)
    total = large.contributions.to_numpy()
    np.testing.assert_allclose(total.sum(axis=1), large.pairs["score"].to_numpy(), rtol=1e-12)
    # an explanation reads the solver's pairs: scored then, once, the same numbers
    mentee = str(large.pairs["mentee_id"].iloc[0])
    got = large.explain(mentee).features
    want = small.explain(mentee).features
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert scored[-1] == solver_pairs and scored.count(solver_pairs) == 1
