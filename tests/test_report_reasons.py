"""Partly matched mentees (need k mentors, got fewer) and mentees who need none: each listed
with a reason whose facts are recomputed from the pairs."""
import numpy as np
import pandas as pd

import mentormatch as mm


def _round():
    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=6, seed=4)
    need = np.where(np.arange(30) % 3 == 0, 3, np.where(np.arange(30) % 3 == 1, 0, 1))
    mentees = mentees.assign(mentors_needed=need, preferences="")
    return mentees, mm.pair(mentors, mentees.copy())


def test_partly_matched_mentees_are_listed_with_a_reason_that_holds(tmp_path):
    mentees, result = _round()
    need = dict(zip(mentees["id"].astype(str), mentees["mentors_needed"]))
    got = result.pairs["mentee_id"].astype(str).value_counts()
    expected = sorted(e for e, n in need.items() if 0 < got.get(e, 0) < n)
    part = result.partial
    assert expected and sorted(part["mentee_id"]) == expected
    for r in part.itertuples():
        assert r.mentors_needed == need[r.mentee_id] and r.mentors_got == got[r.mentee_id]
        assert r.reason.startswith(f"needs {r.mentors_needed} mentors, got {r.mentors_got}")
    # capacity_taken: every other eligible mentor of the mentee is indeed full
    p, chosen = result.data["problem"], result.data["solution"].chosen
    load = np.bincount(p.pairs.mentor[chosen], minlength=p.pairs.n_mentors)
    idx = result.data["mentee_ids"].index
    for r in part[part["reason_code"] == "capacity_taken"].itertuples():
        i = idx[r.mentee_id]
        own = set(p.pairs.mentor[chosen][p.pairs.mentee[chosen] == i].tolist())
        others = [j for j in p.pairs.mentor[p.pairs.mentee == i].tolist() if j not in own]
        assert others and all(load[j] >= p.capacity[j] for j in others)
    files = result.to_csv(tmp_path)
    assert "partial" in files and len(pd.read_csv(files["partial"])) == len(part)


def test_a_mentee_who_needs_no_mentor_is_not_called_a_tie():
    mentees, result = _round()
    zero = set(mentees.loc[mentees["mentors_needed"] == 0, "id"].astype(str))
    u = result.unmatched[result.unmatched["mentee_id"].astype(str).isin(zero)]
    assert set(u["mentee_id"]) == zero
    assert (u["reason_code"] == "none_needed").all()
    assert not u["reason"].str.contains("tie").any()
    assert not set(result.partial["mentee_id"]) & zero
