"""The scale path's blocks (pipeline/blocks.py) under the time limit: a certified flow on a
block scorer reads no block once the limit has passed (solvers/certify.py's first pass, each
mentee's best pairs, scores every block: until s24 it ran in full past the limit, then answered
with nothing; the tests that check the reads fail on 673effe). The answer is then what a
stopped preparation answers (pipeline/stopped.py): "feasible", every mentee once, those not
paired with the reason "time_limit", and a bound at least the complete set's optimum: the rows
read by their best pair, the others by the scorer's ceiling (the sum of the positive weights)."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pipeline.blocks import _BlockScorer
from mentormatch.solvers import certify, sparse

from _support import result_positions, table_violations


def _tables(seed: int):
    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=seed)
    return mentors, mentees


def _run(mentors, mentees, programme, read: int, block_rows: int):
    """``pair()`` on uncached blocks of ``block_rows`` mentee rows whose clock jumps past the
    limit at the ``read``-th block scored by the flow (0: as the flow starts). Returns the
    result and the blocks scored after the jump."""
    import time

    real, offset = time.perf_counter, [0.0]
    seen = {"flow": False, "reads": 0, "after": 0}
    score = _BlockScorer._score

    def scored(self, rows):
        if seen["flow"]:
            if offset[0]:
                seen["after"] += 1
            seen["reads"] += 1
            if seen["reads"] == read:
                offset[0] = 1e7
        return score(self, rows)

    inner = certify.solve_scored

    def flow(*args, **kwargs):
        seen["flow"] = True
        if read == 0:
            offset[0] = 1e7
        return inner(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "perf_counter", lambda: real() + offset[0])
        mp.setattr(_BlockScorer, "_score", scored)
        mp.setattr(certify, "solve_scored", flow)
        mp.setattr(sparse, "_BLOCK_ELEMENTS", block_rows * len(mentors))
        mp.setattr(pl, "LARGE_PAIRS", 0)
        mp.setattr(pl, "USE_BOUNDS", False)
        mp.setattr(pl, "SCORE_CACHE_PAIRS", 0)  # each read scores its block (as at scale)
        r = pl.pair(mentors, mentees, programme)
    assert seen["flow"] and offset[0]
    return r, seen["after"]


@pytest.mark.parametrize("read", [0, 1, 3])
@pytest.mark.parametrize("seed", [2, 5])
def test_no_block_is_scored_past_the_limit(seed, read):
    mentors, mentees = _tables(seed)
    programme = {"time_limit": 1000}
    r, after = _run(mentors, mentees, programme, read, block_rows=8)
    assert after == 0  # (673effe: every block of the pass after the jump)
    complete = pl.prepare(mentors, mentees, programme)
    best = pl.pair(mentors, mentees, programme)
    assert best.status == "optimal"
    assert r.status == "feasible" and r.certificate["timed_out"]
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert set(r.pairs["mentee_id"]).isdisjoint(r.unmatched["mentee_id"])
    assert len(r.pairs) + len(r.unmatched) == len(mentees)
    assert set(r.unmatched["reason_code"]) <= {"time_limit"}
    assert r.bound is not None and best.objective <= r.bound + 1e-9
    assert r.objective == pytest.approx(float(complete.problem.score[result_positions(complete, r)].sum()))


def test_a_lock_stands_when_the_limit_stops_the_first_pass():
    """A locked pair is the answer's (its row scored and checked), every other mentee
    "time_limit"; the bound is the lock's score plus the ceiling of the rest."""
    mentors, mentees = _tables(3)
    complete = pl.prepare(mentors, mentees, {})
    k = int(np.argmax(complete.problem.score))
    i, j = complete.problem.pairs.mentee[k], complete.problem.pairs.mentor[k]
    lock = [[str(complete.mentee_ids.ids[i]), str(complete.mentor_ids.ids[j])]]
    programme = {"time_limit": 1000, "constraints": {"locked": lock}}
    r, after = _run(mentors, mentees, programme, 0, block_rows=8)
    assert after == 1  # the locked row alone (its score; 673effe: 6, the whole pass besides)
    assert r.pairs[["mentee_id", "mentor_id"]].astype(str).values.tolist() == lock
    assert set(r.unmatched["reason_code"]) == {"time_limit"} and len(r.unmatched) == len(mentees) - 1
    best = pl.pair(mentors, mentees, programme)
    assert best.objective <= r.bound + 1e-9
