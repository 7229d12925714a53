""""Why not X" for a pair a rule removes: the complete set names the rule; blocks and bounds
must give the same answer, word for word (before s20h10 they said "the pair is not among the
pairs the solver was given", the rule unnamed, and no score)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm

from _support import on_source


def _removed_by(rule: str):
    """3 mentees and 3 mentors (synthetic seed 21), capacity 2; ``rule`` removes the pair of
    the first mentee and the mentor asked about: forbidden, the management line (the mentor
    made the mentee's manager) or ``min_score`` above that pair's score and below the
    mentee's best."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=3, n_mentors=3, seed=21)
    e, m = mentees["id"][0], list(mentors["id"])
    cons = {"management_line": rule == "management_line"}
    asked = m[0]
    if rule == "forbidden":
        cons["forbidden"] = [[e, asked]]
    elif rule == "management_line":
        mentees = mentees.assign(manager_id=np.where(mentees["id"] == e, asked,
                                                     mentees["manager_id"]))
    else:  # the lowest-scored mentor of mentee e, under a floor between it and e's best
        scored = mm.pair(mentors.assign(capacity=2), mentees,
                         {"constraints": {"management_line": False}}).explain(e, mentor=m[0])
        asked = min(m, key=lambda x: _score(mentors, mentees, e, x))
        cons["min_score"] = (_score(mentors, mentees, e, asked) + scored.score) / 2
    return mentors.assign(capacity=2), mentees, {"constraints": cons}, e, asked


def _score(mentors, mentees, e, mentor) -> float:
    return mm.pair(mentors.assign(capacity=2), mentees,
                   {"constraints": {"management_line": False}}).explain(e, mentor=mentor).score


@pytest.mark.parametrize("rule", ["forbidden", "management_line", "min_score"])
@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_why_not_an_ineligible_pair_names_the_rule_on_every_source(kind, rule):
    mentors, mentees, programme, e, m = _removed_by(rule)
    whole = mm.pair(mentors, mentees, programme).explain(e, mentor=m)
    # the complete set: ineligible, by the rule, with the pair's score (recomputed below)
    assert whole.verdict.startswith("ineligible") and f"(rule {rule!r})" in whole.verdict
    plain = mm.pair(mentors, mentees, {"constraints": {"management_line": False}})
    if rule != "management_line":  # the score is the pair's own, whatever removes it
        assert whole.score == pytest.approx(plain.explain(e, mentor=m).score, abs=1e-9)
    with on_source(kind):
        here = mm.pair(mentors, mentees, programme).explain(e, mentor=m)
    assert here.verdict == whole.verdict
    assert here.score == pytest.approx(whole.score, abs=1e-9)
    assert here.alternatives["text"].tolist() == whole.alternatives["text"].tolist()
    assert here.alternatives["rule"].tolist() == whole.alternatives["rule"].tolist()
    np.testing.assert_allclose(here.alternatives["score"], whole.alternatives["score"], atol=1e-9)


@pytest.mark.parametrize("kind", ["complete", "blocks", "bounds"])
def test_why_not_a_mentor_with_no_place_says_so_not_as_a_lock(kind):
    """A mentor of capacity 0 asked about: "has no place (capacity 0)" on every source. Before
    (s21h7's hunt), the complete set spoke of the forced pair as the user's lock ("has 1 locked
    pairs (load 1) but capacity 0 (to fix: drop 1 lock(s) ...)"), though the user set none."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=12, n_mentors=4, seed=3)
    mentors = mentors.assign(capacity=[2, 0, 2, 2], min_capacity=0)
    programme = {"constraints": {"management_line": False}}
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    closed = mentors.loc[1, "id"]
    for e in r.pairs["mentee_id"].iloc[:3]:
        text = str(r.explain(e, closed))
        assert f"cannot be forced: mentor '{closed}' has no place (capacity 0)" in text, text
        assert "lock" not in text.split("\n")[0], text
