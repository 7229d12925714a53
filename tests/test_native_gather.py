"""The compiled per-pair gathers of exact scoring (:mod:`mentormatch._native.gather`) against their
numpy twins (competency's covered share, personality's trait tables): the same values to the bit
on random organisations (missing levels and traits, one target and ``best_next``, complementary
traits and trait weights), on pairs in any order with repeats, and so the same totals of
``score_totals``; an index out of range raises, as ``np.take`` does.

Where the kernel was not built (no C compiler) the tests are skipped, except under ``CI``."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import _native, scoring
from mentormatch.careers import CareerFramework
from mentormatch.features import Context
from mentormatch.pairs import Candidates
from mentormatch.rules import Rules
from mentormatch.scoring_totals import score_totals

from _kernels import native_kernel
from test_scoring_tables import WEIGHTS, _organisation

native = native_kernel("gather")

pytestmark = pytest.mark.skipif(native is None, reason="mentormatch._native.gather was not built")

FEATURES = [
    {},
    {"competency": {"target": "best_next"},
     "personality": {"modes": {"extraversion": "complementary"}, "trait_weights": {"openness": 2.0}}},
]


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, np.float64).view(np.int64)


def _prepared(seed: int, holes: float, features: dict):
    mentees, mentors = _organisation(seed, holes)
    rules = Rules.from_dict({"weights": WEIGHTS, "features": features})
    context = Context(framework=CareerFramework.sales())
    return mentees, mentors, rules, context


def _pairs(rng, n: int, m: int, size: int):
    """Pairs in no order, with repeats, and a run sorted by mentee."""
    i, j = rng.integers(0, n, size), rng.integers(0, m, size)
    key = np.sort(i[: size // 2] * m + j[: size // 2])
    return np.concatenate([i, key // m]), np.concatenate([j, key % m])


class _Counted:
    """The compiled module, counting the calls of its kernels (so a test knows they ran)."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        def call(*args):
            self.calls += 1
            return getattr(native, name)(*args)
        return call


def _with(monkeypatch, kernel, fn):
    monkeypatch.setitem(_native._chosen, "gather", kernel)
    return fn()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("holes", [0.0, 0.2])
@pytest.mark.parametrize("features", FEATURES)
def test_the_kernels_give_the_numpy_values_to_the_bit(monkeypatch, seed, holes, features):
    mentees, mentors, rules, context = _prepared(seed, holes, features)
    rng = np.random.default_rng(seed)
    i, j = _pairs(rng, len(mentees), len(mentors), 3000)
    for name in ("competency", "personality"):
        prep = scoring.prepare_features(mentees, mentors, rules, context).prepared[name]
        table = scoring._table(prep, 1 << 20) if name == "personality" else None
        values = (lambda: table.gather(i, j)) if table is not None else (lambda: prep.values(i, j))
        twin = _with(monkeypatch, None, values)
        counted = _Counted()
        compiled = _with(monkeypatch, counted, values)
        assert np.array_equal(_bits(compiled), _bits(twin)), name
        # the kernel ran, except for personality with a missing trait (computed, not gathered)
        assert (counted.calls > 0) == (name == "competency" or not table.has_nan), name
    if holes == 0.0:  # no missing trait: personality's trait tables are gathered, not computed
        prep = scoring.prepare_features(mentees, mentors, rules, context).prepared["personality"]
        assert not scoring._table(prep, 1 << 20).has_nan
    # and the totals of score_totals, on sorted pairs (as exact_scores gives them)
    cand = Candidates.from_arrays(i, j, len(mentees), len(mentors))
    totals = [_with(monkeypatch, k, lambda: score_totals(mentees, mentors, cand, rules, context))
              for k in (None, native)]
    assert np.array_equal(_bits(totals[1]), _bits(totals[0]))


def test_an_index_out_of_range_raises():
    weight, required, level = np.ones((4, 3)), np.zeros((4, 3), np.uint8), np.zeros((5, 3), np.uint8)
    ok = np.zeros(2, np.int64)
    out = np.empty(2)
    with pytest.raises(IndexError):
        native.covered_share(weight, required, level, np.array([0, 4]), ok, out)
    with pytest.raises(IndexError):
        native.covered_share(weight, required, level, ok, np.array([0, -1]), out)
    table, row, col = np.ones(6), np.zeros((4, 2), np.intp), np.array([[0, 0]] * 4 + [[0, 6]], np.intp)
    with pytest.raises(IndexError):
        native.keyed_sums(table, row, col, ok, np.array([0, 4]), out)
    with pytest.raises(IndexError):
        native.keyed_sums(table, row, col, np.array([0, 4]), ok, out)
