"""What-if re-solves warm from the last solution's mentor prices on the scale path's flow on
bounds (:func:`mentormatch.solvers.bounded.start.starting_from`), and the answer is the cold solve's:
the same pairs, scores, objective and unmatched mentees, for every kind of change.

The tables are the synthetic ones with their Big Five columns moved by a seeded jitter
(``organisation(trait_jitter=...)``): the synthetic scores are sums of rounded values, so they tie often, and among optima of equal
total the flow on another sparse set may choose another one (issue 23, "ties across
sources"). Without ties the optimum is unique and both solves must find it."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.solvers.bounded import start as warm_start
from mentormatch.whatif import last_prices

def _tables(seed, n=240, m=50):
    return mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed, trait_jitter=0.05)


def _change(kind, result, mentors):
    busy = list(result.pairs["mentor_id"].value_counts().index[:4])  # the busiest mentors
    if kind == "remove":
        return {"remove_mentors": busy[:3]}
    if kind == "weights":
        return {"weights": {"geography": 2.0, "personality": 0.5}}
    if kind == "capacity":
        return {"capacity": {busy[0]: 0, busy[1]: 1, busy[2]: 9}}
    new = mm.synthetic.jitter_traits(mentors.iloc[:3].assign(id=["NEW1", "NEW2", "NEW3"], manager_id=""), 7)
    return {"add_mentors": new}


def _same_answer(warm, cold):
    cols = ["mentee_id", "mentor_id", "score"]
    assert warm.after.status == cold.after.status == "optimal"
    assert warm.after.objective == cold.after.objective
    assert warm.after.pairs[cols].equals(cold.after.pairs[cols])
    assert warm.after.unmatched["mentee_id"].equals(cold.after.unmatched["mentee_id"])
    assert warm.changes[["mentee_id", "mentors_before", "mentors_after"]].equals(
        cold.changes[["mentee_id", "mentors_before", "mentors_after"]])


@pytest.fixture(scope="module")
def scale_results():
    """Each seed's tables and their result on the scale path (bounds), computed once."""
    mp = pytest.MonkeyPatch()
    mp.setattr(pl, "LARGE_PAIRS", 1000)
    out = {}
    for seed in (1, 2, 3):
        mentors, mentees = _tables(seed)
        out[seed] = (mentors, mm.pair(mentors, mentees))
    mp.undo()
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kind", ["remove", "weights", "capacity", "add"])
def test_a_warm_what_if_equals_the_cold_one(monkeypatch, scale_results, seed, kind):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, result = scale_results[seed]
    assert result.certificate["method"] == "sparse_min_cost_flow+dual_check_on_bounds"
    change = _change(kind, result, mentors)
    warm = result.what_if(**change)
    cold = result.what_if(**change, warm_start=False)
    assert warm.warm_started and not cold.warm_started
    assert "warm_start" in warm.after.certificate["first_prices"]  # the certificate says so
    _same_answer(warm, cold)
    assert warm.n_changed > 0 or kind == "weights"


def test_the_prices_are_mapped_by_id_and_the_start_taken_once(monkeypatch, scale_results):
    """Removed mentors keep no price that matters (no places), added ones start at 0; a second
    solve inside the same ``with`` (a nested flow) does not take the start again."""
    mentors, result = scale_results[1]
    prices = last_prices(result)
    assert list(prices.index) == [str(x) for x in result.record.mentor_ids.ids]
    assert np.isfinite(prices).all() and (prices >= 0).all() and prices.max() > 0
    with warm_start.starting_from(np.ones(7)) as start:
        assert warm_start.take_start(6) is None and not start.used  # another market
        assert warm_start.take_start(7).tolist() == [1.0] * 7 and start.used
        assert warm_start.take_start(7) is None
    assert warm_start.take_start(7) is None  # outside the with


def test_the_complete_candidate_set_is_not_warm_started_and_equals_a_fresh_pairing():
    mentors, mentees = _tables(4, n=40, m=12)
    result = mm.pair(mentors, mentees)
    assert last_prices(result) is None  # that path keeps no prices to start from
    answer = result.what_if(remove_mentors=[result.pairs["mentor_id"].iloc[0]])
    assert not answer.warm_started
    assert answer.after.status == "optimal"


def test_a_warm_what_if_on_a_process_pool_equals_the_cold_one_here(monkeypatch, scale_results):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, result = scale_results[2]
    change = _change("remove", result, mentors)
    cold = result.what_if(**change, warm_start=False)
    # spawned workers do not see this process's LARGE_PAIRS: the worker re-solves on the
    # complete candidate set unless told otherwise, so it is set in the worker's initializer
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_small_large_pairs) as pool:
        warm = result.what_if(**change, executor=pool)
    assert warm.warm_started
    _same_answer(warm, cold)


def _small_large_pairs():
    pl.LARGE_PAIRS = 1000
