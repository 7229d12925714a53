"""``solvers.base.grow``: pairs join a problem (the tie rule's new pairs on the scale path, the
rows of stranded mentees), every old pair keeping its score and lock at its new position."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers.base import grow
from _support import force_scale_path
from strategies import assignment_problems


@settings(max_examples=60, deadline=None)
@given(assignment_problems(6, 4, with_locks=True), st.data())
def test_every_pair_keeps_its_score_and_lock_and_the_new_ones_join_unlocked(p, data):
    P = p.pairs
    outside = np.setdiff1d(np.arange(P.n_mentees * P.n_mentors), P.key)
    take = np.array(data.draw(st.lists(st.sampled_from(outside.tolist()), unique=True))
                    if len(outside) else [], np.int64)  # in any order
    i, j = take // P.n_mentors, take % P.n_mentors
    s = np.arange(len(take), dtype=float) + 10.0
    q, was = grow(p, i, j, s)
    Q = q.pairs
    assert len(Q) == len(P) + len(take) and bool(np.all(np.diff(Q.key) > 0))  # sorted, distinct
    assert Q.key[was].tolist() == P.key.tolist()
    assert q.score[was].tolist() == p.score.tolist() and q.locked[was].tolist() == p.locked.tolist()
    at = Q.locate(i, j)
    assert bool(np.all(at >= 0)) and q.score[at].tolist() == s.tolist()
    assert not q.locked[at].any()
    assert (q.capacity is p.capacity) and q.side is p.side  # the people stay as they were


def test_stranded_mentees_are_told_their_mentors_are_full_on_every_source(monkeypatch):
    """Every mentor held by a locked pair at capacity 1: the other mentees have eligible
    mentors but no pair in the scale path's solver set; their rows join the problem, so their
    reasons (mentors, scores, places) are those of the complete set, on blocks and on bounds."""
    mentors, mentees = synthetic.organisation(n_mentees=30, n_mentors=5, seed=1)
    mentors = mentors.assign(capacity=1)
    free = pl.pair(mentors, mentees)
    prog = {"constraints": {"locked": free.pairs[["mentee_id", "mentor_id"]].values.tolist()}}
    complete = pl.pair(mentors, mentees, programme=prog)
    assert len(complete.unmatched) > 0
    assert set(complete.unmatched["reason_code"]) == {"capacity_taken"}
    for bounds in (False, True):
        with monkeypatch.context() as mp:
            force_scale_path(mp, bounds)
            r = pl.pair(mentors, mentees, programme=prog)
        assert r.data["scale_path"] and r.status == "optimal"
        grew = len(r.data["problem"].pairs) - len(r.pairs)  # the stranded rows joined, unchosen
        assert grew > 0, bounds
        assert r.pairs[["mentee_id", "mentor_id"]].values.tolist() == \
            complete.pairs[["mentee_id", "mentor_id"]].values.tolist()
        assert r.unmatched.to_dict("records") == complete.unmatched.to_dict("records"), bounds
