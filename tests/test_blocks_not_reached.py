"""Unmatched reasons after a time-out on blocks (``pipeline/blocks.py``'s ``_BlockScorer``):
a mentee whose block was never scored has no known count of eligible mentors (-1), so its
reason is ``"time_limit"`` (the solve stopped before it considered the mentee), never "no
eligible mentor". Before, the counts started at 0 and were filled by the first pass that scored
a block, so a solve stopped before that pass (the engine's unit read from bounds, then the
clock past the limit) told every mentee "no eligible mentor"."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pipeline.blocks import _BlockScorer
from mentormatch.solvers import alike, route, sparse

from _support import force_scale_path, jumping_clock


@pytest.mark.parametrize("seed", [6, 7])
def test_rows_never_scored_are_not_reached_after_a_time_out(monkeypatch, seed):
    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=seed)
    # a mentee with no eligible mentor at all (every pair forbidden): known only once scored
    lone = str(mentees["id"].iloc[0])
    rules = {"time_limit": 60.0, "solver": "mip",
             "constraints": {"forbidden": [[lone, str(j)] for j in mentors["id"]]}}
    untimed = mm.pair(mentors, mentees, rules)  # the complete set, not stopped
    assert untimed.status == "optimal"
    codes = untimed.unmatched.set_index("mentee_id")["reason_code"]
    assert codes[lone] == "no_eligible_mentor"
    force_scale_path(monkeypatch, False)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)  # blocks without a cache: unit from bounds
    monkeypatch.setattr(alike, "SOURCE_PAIRS", 0)  # (the tie rule's pass would score every block)
    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 300)  # blocks of 10 rows
    clock = jumping_clock(monkeypatch, 1000.0)
    real_unit = route.source_unit

    def unit_then_jump(source):
        out = real_unit(source)
        clock.jump()  # the limit passes once the unit is known, before the first pass
        return out

    monkeypatch.setattr(route, "source_unit", unit_then_jump)
    scored = []
    real_score = _BlockScorer._score
    monkeypatch.setattr(_BlockScorer, "_score", lambda self, rows: scored.append(rows) or real_score(self, rows))
    r = mm.pair(mentors, mentees, rules)
    assert r.record.pair_source == "blocks" and r.certificate["timed_out"] is True
    assert scored == [] and len(r.pairs) == 0
    u = r.unmatched.set_index("mentee_id")["reason_code"]
    assert len(u) == len(mentees)
    # no row was scored: nobody is said to have no eligible mentor (the lone mentee included:
    # the solve never looked)
    assert set(u) == {"time_limit"}
    assert "stopped at its time limit" in r.unmatched["reason"].iloc[0]


def test_counts_of_a_whole_pass_are_exact(monkeypatch):
    """Once every block is scored, the counts are the complete set's (none left at -1)."""
    mentors, mentees = synthetic.organisation(n_mentees=50, n_mentors=20, seed=3)
    small = pl.prepare(mentors, mentees)
    want = np.bincount(small.problem.pairs.mentee, minlength=len(mentees))
    force_scale_path(monkeypatch, False)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 200)
    big = pl.prepare(mentors, mentees)
    sc = big.scorer
    assert isinstance(sc, _BlockScorer) and np.all(sc.eligible_counts == -1)
    for a, b in sparse.row_blocks(len(mentees), len(mentors)):
        sc(slice(a, b))
    got = sc.eligible_counts[np.asarray(big.mentee_ids.encode(list(small.mentee_ids.ids)))]
    assert np.array_equal(got, want)
