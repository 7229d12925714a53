"""Scoring on lookup tables of distinct values equals the per-pair computation, to the bit."""
import numpy as np
import pandas as pd
import pytest

from mentormatch import scoring, synthetic
from mentormatch.careers import CareerFramework
from mentormatch.features import Context
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.schema import validate_tables

FEATURE_SETS = [
    {},
    {"geography": {"mode": "in_person"}, "personality": {"modes": {"extraversion": "complementary"},
                                                         "trait_weights": {"openness": 2.0}}},
    {"geography": {"mode": "remote"}, "competency": {"target": "best_next"},
     "readiness": {"criteria_weights": {"performance": 1.0}, "min_readiness": 0.4},
     "experience": {"junior_mentor": "ineligible"}},
]
WEIGHTS = {"geography": 1.0, "experience": 2.0, "personality": 0.5, "competency": 1.5,
           "preference": 1.0, "readiness": 0.7}


def _organisation(seed: int, holes: float):
    """A synthetic organisation with a share ``holes`` of its feature cells blanked (NaN)."""
    mentors, mentees = synthetic.organisation(n_mentees=40 + 7 * seed, n_mentors=15 + 3 * seed, seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for frame in (mentees, mentors):
        frame = frame.copy()
        place = rng.random(len(frame)) < holes  # latitude and longitude go together
        for col in frame.columns:
            if col in ("id", "capacity", "min_capacity", "preferences", "manager_suggestions", "role"):
                continue
            blank = place if col in ("latitude", "longitude") else rng.random(len(frame)) < holes
            if blank.any():
                frame[col] = frame[col].astype(object).where(~blank, None) if frame[col].dtype == object \
                    else frame[col].where(~blank)
        out.append(frame)
    mentors, mentees = validate_tables(out[1], out[0])
    return mentees, mentors


def _direct(mentees, mentors, cand, rules, context):
    """The per-pair computation: each extractor's ``values`` on every pair, NaN -> neutral."""
    prep = scoring.prepare_features(mentees, mentors, rules, context)
    feats = [n for n, w in rules.weights.items() if w > 0]
    values = np.column_stack([prep.prepared[f].values(cand.mentee, cand.mentor) for f in feats])
    missing = np.isnan(values)
    neutral = np.array([prep.extractors[f].neutral for f in feats])
    values = np.where(missing, neutral, values)
    weights = np.array([rules.weights[f] for f in feats])
    contributions = values * weights
    return values, missing, contributions, contributions.sum(axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("settings", range(len(FEATURE_SETS)))
def test_table_path_equals_per_pair_computation(seed, settings, monkeypatch):
    holes = [0.0, 0.1, 0.3][seed % 3]
    mentees, mentors = _organisation(seed, holes)
    rules = Rules.from_dict({"weights": WEIGHTS, "features": FEATURE_SETS[settings]})
    context = Context(framework=CareerFramework.sales())
    rng = np.random.default_rng(seed)
    n, m = len(mentees), len(mentors)
    complete = Candidates.complete(n, m)
    sparse = complete.subset(rng.random(len(complete)) < 0.4)
    monkeypatch.setattr(scoring, "_table_limit", lambda n_pairs: 1 << 20)  # tables even for tiny sets
    for cand in (complete, sparse):
        values, missing, contributions, total = _direct(mentees, mentors, cand, rules, context)
        s = scoring.score_pairs(mentees, mentors, cand, rules, context, block_rows=3)
        assert np.array_equal(s.values, values)
        assert np.array_equal(s.missing, missing)
        assert np.array_equal(s.contributions, contributions)
        np.testing.assert_allclose(s.total, total, rtol=1e-12, atol=0)
        # the same through the per-pair path (no tables)
        monkeypatch.setattr(scoring, "_table_limit", lambda n_pairs: 0)
        plain = scoring.score_pairs(mentees, mentors, cand, rules, context)
        monkeypatch.setattr(scoring, "_table_limit", lambda n_pairs: 1 << 20)
        assert np.array_equal(plain.values, s.values)
        assert plain.ineligible.keys() == s.ineligible.keys()
        for rule in s.ineligible:
            assert np.array_equal(plain.ineligible[rule], s.ineligible[rule])


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("row_tables", [True, False])
def test_every_table_gathers_what_values_computes(seed, row_tables, monkeypatch):
    from mentormatch.features import tables

    if not row_tables:  # rows() without its (mentee group x mentor) table
        monkeypatch.setattr(tables, "MAX_ROW_TABLE_ENTRIES", 0)
    mentees, mentors = _organisation(seed, 0.2 if seed else 0.0)
    rules = Rules.from_dict({"weights": WEIGHTS})
    prep = scoring.prepare_features(mentees, mentors, rules, Context(framework=CareerFramework.sales()))
    cand = Candidates.complete(len(mentees), len(mentors))
    kinds = set()
    for name, p in prep.prepared.items():
        table = p.pair_table(1 << 20)
        assert table is not None, name
        kinds.add(type(table).__name__)
        want = p.values(cand.mentee, cand.mentor)
        got = table.gather(cand.mentee, cand.mentor)
        assert np.array_equal(got, want, equal_nan=True), name
        assert table.has_nan or not np.isnan(want).any(), name
        if hasattr(table, "rows"):  # the complete set, a few mentees at a time
            some = np.array([0, 3, 1, len(mentees) - 1])
            got = table.rows(some)
            if got is not None:
                want = p.values(np.repeat(some, len(mentors)), np.tile(np.arange(len(mentors)), len(some)))
                assert np.array_equal(got, want, equal_nan=True), name
            else:
                assert table.has_nan, name
    assert {"PairTable", "SparsePairs", "_TraitTables"} <= kinds


def test_a_table_over_the_limit_is_not_built():
    mentees, mentors = _organisation(1, 0.0)
    prep = scoring.prepare_features(mentees, mentors, Rules.from_dict({"weights": WEIGHTS}),
                                    Context(framework=CareerFramework.sales()))
    assert prep.prepared["experience"].pair_table(1) is None
    assert prep.prepared["geography"].pair_table(1) is None


@pytest.mark.parametrize("seed", range(6))
def test_listed_pairs_read_alike_from_pairs_in_key_order_and_in_any_order(seed):
    """SparsePairs.gather on pairs in key order, each once (the exact scores' batches), looks
    the listed pairs up among the given ones; it must give what the lookup of each given pair
    among the listed ones gives: the listed value (the last of a key listed twice), NaN
    included, the default elsewhere, listed pairs at the first and last given pair."""
    from mentormatch.features.tables import SparsePairs

    rng = np.random.default_rng(seed)
    n, m = 40, 30
    k = int(rng.integers(1, 60))
    li, lj = rng.integers(0, n, k), rng.integers(0, m, k)
    li, lj = np.append(li, [li[0], 0, n - 1]), np.append(lj, [lj[0], 0, m - 1])  # a key twice, both ends
    values = rng.random(len(li))
    values[rng.random(len(li)) < 0.2] = np.nan
    for default in (0.0, 0.25, np.nan):
        sp = SparsePairs(default, li, lj, values, m)
        for size in (1, 2, 7, 300, n * m):
            key = np.sort(rng.choice(n * m, size=size, replace=False))
            if size == n * m or rng.random() < 0.5:
                key = np.unique(np.concatenate([key, [0, n * m - 1]]))
            i, j = key // m, key % m
            got = sp.gather(i, j)  # in key order: the listed pairs among the given
            shuffled = rng.permutation(len(i))
            want = np.empty(len(i))
            want[shuffled] = sp.gather(i[shuffled], j[shuffled])  # any order: each given among the listed
            # and by a dictionary of the listed pairs (the last value of a key listed twice)
            listed = {}
            for a, b, v in zip(li.tolist(), lj.tolist(), values.tolist()):
                listed[(a, b)] = v
            direct = np.array([listed.get((a, b), default) for a, b in zip(i.tolist(), j.tolist())])
            assert np.array_equal(got, want, equal_nan=True)
            assert np.array_equal(got, direct, equal_nan=True)
