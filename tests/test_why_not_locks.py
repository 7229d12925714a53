""""Why not X" when the locks leave no room for the pair (solvers/diagnose.lock_conflicts with
``asked``, the one statement of these words): the pair the question forces is not worded as a
lock the user set. A mentor with no place (capacity 0), a mentor whose places the user's locks
fill, a mentee whose locks give it every mentor it needs: the same text on every source. The
tests of the two last cases fail on dd02548 (the complete set spoke of "2 locked pairs (load 2)
but capacity 1", "locked to 2 mentors but needs only 1", counting the question's pair as a
lock; the capacity-0 words were a special case in report/pricing.py)."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm

from _support import SOURCES, on_source


def _case(case: str):
    """(mentors, mentees, programme, mentee asked about, mentor asked): synthetic seed 21, 2
    mentees and 3 mentors, no management line."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=2, n_mentors=3, seed=21)
    e, other = mentees["id"][0], mentees["id"][1]
    m = list(mentors["id"])
    cons = {"management_line": False}
    if case == "capacity_0":
        return mentors.assign(capacity=[0, 2, 2]), mentees, {"constraints": cons}, e, m[0]
    if case == "mentor_filled_by_locks":  # room 1, taken by the other mentee's lock
        cons["locked"] = [[other, m[0]]]
        return mentors.assign(capacity=[1, 2, 2]), mentees, {"constraints": cons}, e, m[0]
    cons["locked"] = [[e, m[1]]]  # the mentee's lock gives it its one mentor
    return mentors.assign(capacity=2), mentees, {"constraints": cons}, e, m[0]


WORDS = {
    "capacity_0": ["has no place (capacity 0) (to fix: raise the capacity of mentor '{m}')"],
    "mentor_filled_by_locks": ["mentor '{m}' has no place left: its 1 locked pairs (load 1) fill "
                               "its capacity 1"],
    "locked_mentee": ["mentee '{e}' is locked to 1 mentors, all it needs (1)"],
}


@pytest.mark.parametrize("case", list(WORDS))
def test_why_not_a_pair_the_locks_leave_no_room_for_is_worded_as_the_question_on_every_source(case):
    mentors, mentees, programme, e, m = _case(case)
    texts = {}
    for kind in SOURCES:
        with on_source(kind):
            x = mm.pair(mentors, mentees, programme).explain(e, mentor=m)
        row = x.alternatives.iloc[0]
        assert row["mentor_id"] == m and np.isnan(row["cost"])
        assert x.verdict.startswith("cannot be forced: "), (kind, x.verdict)
        for words in WORDS[case]:
            assert words.format(e=e, m=m) in x.verdict, (kind, x.verdict)
        assert "but capacity" not in x.verdict and "needs only" not in x.verdict, x.verdict
        assert "cannot all hold" not in x.verdict, x.verdict
        texts[kind] = (x.verdict, row["text"])
    assert texts["blocks"] == texts["complete"] and texts["bounds"] == texts["complete"]


def test_the_users_own_conflicting_locks_keep_their_words():
    """Without a question, the diagnosis words the locks as the user's (unchanged)."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=2, n_mentors=3, seed=21)
    m = mentors["id"][0]
    programme = {"constraints": {"management_line": False,
                                 "locked": [[mentees["id"][0], m], [mentees["id"][1], m]]}}
    with pytest.raises(mm.InfeasibleError) as err:
        mm.pair(mentors.assign(capacity=[1, 2, 2]), mentees, programme)
    assert f"mentor '{m}' has 2 locked pairs (load 2) but capacity 1" in str(err.value)
