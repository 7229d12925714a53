"""Rounds over time: a ``stable`` programme over several rounds, and leavers' references dropped
with a note at the next round."""
import math

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.programme import Programme

from _support import end_in_force


def _org(n_mentees, n_mentors, seed):
    mentors, mentees = mm.synthetic.organisation(n_mentees=n_mentees, n_mentors=n_mentors, seed=seed)
    drop = ["preferences", "manager_suggestions", "manager_id"]
    return tuple(t.drop(columns=[c for c in drop if c in t.columns]) for t in (mentors, mentees))


def _pairs(frame):
    return set(zip(frame["mentee_id"].astype(str), frame["mentor_id"].astype(str)))


def _blocking_pairs(result, carried_mentees):
    """Brute force over every eligible pair of the round: (e, m) blocks when e is free to move
    (not in a pair carried from earlier rounds), prefers m to its mentor (higher score, or has
    none), and m has a free place or holds a movable mentee it likes less."""
    p = result.data["problem"]
    E, M = result.data["mentee_ids"].ids, result.data["mentor_ids"].ids
    score = {(E[i], M[j]): s for i, j, s in zip(p.pairs.mentee, p.pairs.mentor, p.score)}
    cap = dict(zip(M, p.capacity))
    mentor_of = dict(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    held: dict[str, list] = {}
    for e, m in mentor_of.items():
        held.setdefault(m, []).append(e)
    out = []
    for (e, m), s in score.items():
        if e in carried_mentees or mentor_of.get(e) == m:
            continue
        if s <= (score[(e, mentor_of[e])] if e in mentor_of else -math.inf):
            continue
        mine = held.get(m, [])
        if len(mine) < cap[m] or any(x not in carried_mentees and score[(x, m)] < s for x in mine):
            out.append((e, m))
    return out


def test_a_stable_programme_runs_several_rounds():
    mentors, pool = _org(30, 8, seed=4)
    prog = Programme({"weights": {"experience": 1.0, "geography": 1.0}, "solver": "stable"},
                     priority=None)
    rng = np.random.default_rng(2)
    dates = ["2026-01-15", "2026-04-15", "2026-07-15"]
    for k, date in enumerate(dates):
        mentees = pool.iloc[3 * k: 24 + 3 * k].reset_index(drop=True)  # 3 leave, 3 join
        if k:
            end_in_force(prog, lambda n: np.where(rng.random(n) < 0.3, date, ""))
        before = prog.in_force(date) if k else prog.history.iloc[0:0]
        present = set(mentees["id"].astype(str))
        kept = {(e, m) for e, m in _pairs(before) if e in present}
        result = prog.run_round(mentors, mentees, date=date)
        assert kept and kept <= _pairs(result.pairs) if k else not kept
        locked = _pairs(result.pairs[result.pairs["locked"].astype(bool)])
        assert locked == kept
        assert result.certificate["blocking_pairs"] == 0
        assert _blocking_pairs(result, {e for e, _ in kept}) == []
        assert len(result.pairs) + len(result.unmatched) == len(mentees)
        loads = result.pairs["mentor_id"].value_counts()
        cap = dict(zip(mentors["id"].astype(str), mentors["capacity"]))
        assert all(n <= cap[m] for m, n in loads.items())
    assert len(prog.rounds) == 3
    assert prog.history["end_reason"].isin(["", "ended", "mentee_left"]).all()


def test_leavers_references_are_dropped_with_a_note(tmp_path):
    mentors = pd.DataFrame({"id": ["M1", "M2", "M3"], "capacity": [1, 1, 1],
                            "years_experience": [8.0, 9.0, 10.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2", "E3"], "years_experience": [2.0, 3.0, 1.0]})
    prog = Programme({"weights": {"experience": 1.0},
                      "constraints": {"locked": [["E1", "M1"]], "forbidden": [["E2", "M3"]]}})
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    assert ("E1", "M1") in _pairs(r1.pairs) and ("E2", "M3") not in _pairs(r1.pairs)
    assert prog.rounds[0].notes == ()
    # E1 (locked to M1 by the rules) and M3 (named in a forbidden pair) leave
    r2 = prog.run_round(mentors.iloc[:2], mentees.iloc[1:], date="2026-04-15")
    assert len(r2.pairs) + len(r2.unmatched) == 2
    notes = prog.rounds[1].notes
    assert len(notes) == 4, notes
    assert any(n.startswith("constraints.locked: 1 pair") and "(E1, M1)" in n for n in notes)
    assert any(n.startswith("constraints.forbidden: 1 pair") and "(E2, M3)" in n for n in notes)
    assert any("mentee has left" in n and "(E1, M1)" in n for n in notes)
    assert any("mentor has left" in n and "M3" in n for n in notes)
    gone = prog.history.set_index("mentee_id")
    assert gone.loc["E1", "end_reason"] == "mentee_left"
    # the notes are kept by both stores
    for target in (tmp_path / "p", tmp_path / "p.sqlite"):
        assert Programme.load(prog.save(target)).rounds[1].notes == notes
    # M3 comes back: the forbidden pair applies again; E1 is still away, so still a note
    prog.run_round(mentors, mentees.iloc[1:], date="2026-07-15")
    assert len(prog.rounds[2].notes) == 1 and "(E1, M1)" in prog.rounds[2].notes[0]
    assert ("E2", "M3") not in _pairs(prog.rounds[2].pairs)


@pytest.mark.parametrize("priority", [None, "weight", "hard"])
def test_rounds_on_the_scale_path_equal_the_small_path(monkeypatch, priority):
    """Above pipeline.LARGE_PAIRS (lowered here) rounds run with their locks, priority and
    continuity, and give the same rounds as the complete candidate set."""
    import mentormatch.pipeline as P

    mentors, mentees = _org(30, 6, seed=5)

    def three_rounds():
        prog = Programme({"weights": {"experience": 1.0}}, priority=priority, continuity=True,
                         allow_repeats=True)
        out = [prog.run_round(mentors, mentees, date="2026-01-15")]
        out.append(prog.run_round(mentors, mentees.iloc[2:], date="2026-04-15"))
        out.append(prog.run_round(mentors.iloc[1:], mentees, date="2026-07-15"))
        return out

    small = three_rounds()
    monkeypatch.setattr(P, "LARGE_PAIRS", 50)
    big = three_rounds()
    assert len(small[0].unmatched) > 0  # 30 mentees, fewer places: some wait for round 2
    for s, b in zip(small, big):
        assert b.objective == pytest.approx(s.objective, abs=1e-9)
        assert len(b.pairs) == len(s.pairs)
        assert len(b.pairs) + len(b.unmatched) == len(s.pairs) + len(s.unmatched)
    kept = {(e, m) for e, m in _pairs(big[0].pairs) if e in set(mentees["id"].iloc[2:])}
    assert kept <= _pairs(big[1].pairs)
    # (which mentees wait after round 1 may differ between the paths where round 1 has
    # several optima of the same score, so the rounds are compared by their objectives)


def test_excluding_rules_agrees_with_prepare_on_every_pair_and_looks_at_the_listed_pairs_only(
        monkeypatch):
    """Brute force: on a small organisation with a management line, teams, levels, forbidden
    pairs, junior mentors and a minimum score, the rule the lock check names for each pair is
    the rule prepare() removes it by (none for the eligible pairs); and the check scores and
    masks only the pairs it is given."""
    import mentormatch.constraints as C
    from mentormatch.pipeline import prepare
    from mentormatch.programme.locks import excluding_rules
    from mentormatch.rules import Rules
    from mentormatch.schema import validate_tables

    mentors, mentees = mm.synthetic.organisation(n_mentees=25, n_mentors=8, seed=3)
    mentors, mentees = (t.drop(columns=["preferences", "manager_suggestions"], errors="ignore")
                        for t in (mentors, mentees))
    rules = Rules.coerce({
        "weights": {"experience": 1.0, "geography": 1.0},
        "features": {"experience": {"junior_mentor": "ineligible"}},
        "constraints": {"same_team": True, "min_score": 1.0,
                        "forbidden": [[mentees["id"][0], mentors["id"][1]],
                                      [mentees["id"][3], mentors["id"][2]]]}})
    p = prepare(mentors, mentees, rules)
    names, which = p.data["rule_names"], p.data["which_rule"]
    complete = p.data["complete"]
    E, M = p.mentee_ids.ids, p.mentor_ids.ids
    expected = {(E[i], M[j]): names[k] for i, j, k in zip(complete.mentee, complete.mentor, which)
                if k >= 0}
    assert {"management_line", "same_team", "forbidden", "min_score"} <= set(expected.values())
    assert "experience.junior_mentor" in names
    v_mentors, v_mentees = validate_tables(mentors, mentees)
    every = [(e, m) for e in mentees["id"] for m in mentors["id"]]
    got = {(e, m): rule for e, m, rule in excluding_rules(v_mentors, v_mentees, rules, None, every)}
    assert got == expected

    sizes = []
    real = C.rule_masks
    monkeypatch.setattr(C, "rule_masks", lambda *a, **k: sizes.append(len(a[2])) or real(*a, **k))
    some = every[:2] + every[-1:]
    assert len(excluding_rules(v_mentors, v_mentees, rules, None, some)) == sum(
        x in expected for x in some)
    assert sizes == [3]


def test_a_manager_who_rejoins_ends_the_pair_in_force_at_every_size(monkeypatch):
    """A pair in force that a manager link of the next round puts on the management line ends
    (reason ``ineligible``, a note naming the pair and the rule) and the round is solved, on the
    complete candidate set and on both scale paths (LARGE_PAIRS lowered, SCORE_CACHE_PAIRS too
    for the bounded one); the rounds agree across the paths."""
    import mentormatch.pipeline as P

    mentors, mentees = _org(24, 6, seed=7)
    objectives = {}
    for path in ("complete", "blocks", "bounded"):
        with monkeypatch.context() as mp:
            if path != "complete":
                mp.setattr(P, "LARGE_PAIRS", 50)
            if path == "bounded":
                mp.setattr(P, "SCORE_CACHE_PAIRS", 50)
            prog = Programme({"weights": {"experience": 1.0, "geography": 1.0}},
                             allow_repeats=True, continuity=True)
            r1 = prog.run_round(mentors, mentees, date="2026-01-15")
            first = r1.pairs.sort_values("mentee_id").iloc[0]
            e, m = str(first["mentee_id"]), str(first["mentor_id"])
            # the mentor comes back as the mentee's manager, through a middle manager
            middle = next(x for x in mentees["id"] if x != e)
            mentees2 = mentees.assign(manager_id=None)
            mentees2.loc[mentees2["id"] == e, "manager_id"] = middle
            mentees2.loc[mentees2["id"] == middle, "manager_id"] = m
            r2 = prog.run_round(mentors.assign(manager_id=None), mentees2, date="2026-04-15")
        h = prog.history
        row = h[(h["mentee_id"] == e) & (h["mentor_id"] == m)]
        assert row["end_reason"].tolist() == ["ineligible"], path
        assert row["end"].tolist() == ["2026-04-15"]
        assert (e, m) not in _pairs(r2.pairs) and (middle, m) not in _pairs(r2.pairs)
        note = [n for n in prog.rounds[1].notes if "rules now exclude" in n]
        assert len(note) == 1 and f"({e}, {m}): management_line" in note[0], path
        # every other pair in force was carried; everyone appears once
        kept = _pairs(r1.pairs) - {(e, m), (middle, m)}
        assert kept <= _pairs(r2.pairs[r2.pairs["locked"].astype(bool)])
        assert len(r2.pairs) + len(r2.unmatched) == len(mentees)
        assert set(h["end_reason"]) <= {"", "ineligible"}
        objectives[path] = (r1.objective, r2.objective)
    assert objectives["blocks"] == pytest.approx(objectives["complete"], abs=1e-9)
    assert objectives["bounded"] == pytest.approx(objectives["complete"], abs=1e-9)


def test_a_lock_of_the_rules_that_the_rules_exclude_is_an_error_naming_it(monkeypatch):
    """The programme's own constraints.locked pair on the management line is not ended but
    refused, naming the ids and the rule, on the scale path too."""
    import mentormatch.pipeline as P

    monkeypatch.setattr(P, "LARGE_PAIRS", 5)
    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "years_experience": [9.0, 8.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "years_experience": [1.0, 2.0],
                            "manager_id": ["M1", None]})
    prog = Programme({"weights": {"experience": 1.0}, "constraints": {"locked": [["E1", "M1"]]}})
    with pytest.raises(mm.InfeasibleError,
                       match=r"\(E1, M1\) is ineligible: rule 'management_line'"):
        prog.run_round(mentors, mentees, date="2026-01-15")
    assert prog.rounds == [] and len(prog.history) == 0


def _rematches():
    """Three rematches (a free place; no free place and no changes allowed; one change needed,
    among tied scores), each as (pairs after, changed, objective, ledger end reasons,
    unmatched reason codes, whether the mentee has a mentor)."""
    out = []
    mentors, mentees = _org(30, 12, seed=4)
    roomy = mentors.assign(capacity=3)
    prog = Programme({"weights": {"experience": 1.0, "geography": 1.0}})
    r1 = prog.run_round(roomy, mentees, date="2026-01-15")
    out.append(prog.rematch(sorted(r1.pairs["mentee_id"])[0], date="2026-03-01")
               + (prog, sorted(r1.pairs["mentee_id"])[0]))
    prog = Programme({"weights": {"experience": 1.0, "geography": 1.0}})
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    full = mentors.assign(capacity=r1.pairs["mentor_id"].value_counts().reindex(
        mentors["id"].astype(str), fill_value=0).to_numpy())
    out.append(prog.rematch(sorted(r1.pairs["mentee_id"])[0], date="2026-02-01", mentors=full,
                            mentees=mentees, allow_changes=False)
               + (prog, sorted(r1.pairs["mentee_id"])[0]))
    two = pd.DataFrame({"id": ["M1", "M2", "M3"], "capacity": [1, 1, 1],
                        "years_experience": [8.0, 8.5, 9.0]})
    ees = pd.DataFrame({"id": ["E1", "E2", "E3"], "years_experience": [2.0, 2.5, 3.0]})
    prog = Programme({"weights": {"experience": 1.0}})
    r1 = prog.run_round(two, ees, date="2026-01-15")
    target = r1.pairs.sort_values("mentee_id").iloc[0]
    out.append(prog.rematch(target["mentee_id"], date="2026-02-01",
                            mentors=two[two["id"] != target["mentor_id"]], mentees=ees)
               + (prog, target["mentee_id"]))
    return [(_pairs(r.pairs), changed, r.objective, sorted(p.history["end_reason"]),
             sorted(r.unmatched["reason_code"]), e in set(r.pairs["mentee_id"]))
            for r, changed, p, e in out]


def test_rematch_above_the_scale_size_equals_the_complete_path(monkeypatch):
    """Above pipeline.LARGE_PAIRS (lowered below every table here; SCORE_CACHE_PAIRS too for the
    bounded scorer) rematch solves the same lexicographic objective through a PairBonus: the
    same mentor found, the same pairs kept, the same changes, the same ledger. The scale path
    runs its round 1 too, so where scores tie the pairs may differ, not the measures."""
    import mentormatch.pipeline as P

    small = _rematches()
    (_, free_changed, *_), (_, locked_changed, *_), (_, moved, *_) = small
    assert (free_changed, locked_changed, moved) == (0, 0, 1)  # the three cases differ
    assert "displaced" in small[2][3] and "not_considered" in small[1][4]
    assert [x[5] for x in small] == [True, False, True]
    for cache in (None, 5):
        with monkeypatch.context() as mp:
            mp.setattr(P, "LARGE_PAIRS", 5)
            if cache:
                mp.setattr(P, "SCORE_CACHE_PAIRS", cache)
            big = _rematches()
        for k, (s, b) in enumerate(zip(small, big)):
            assert b[1:2] + b[3:] == s[1:2] + s[3:], (cache, k)
            assert b[2] == pytest.approx(s[2], abs=1e-9)
            assert k == 2 or b[0] == s[0]  # the last case ties: any of its optima will do


def test_a_rematch_that_stopped_short_is_refused_when_a_mentor_had_room(monkeypatch):
    """Above LARGE_PAIRS, a solve that stops at its time limit ('feasible') with an answer that
    changes another pair, although an eligible mentor has room, is not recorded (an error, the
    programme as it was); where no mentor has room, the same answer stands."""
    import dataclasses

    import mentormatch.pipeline as P

    real = P.solve

    def stopped_short(prepared, bonus=None):  # the optimum, minus one pair kept, 'feasible'
        r = real(prepared, bonus)
        others = r.pairs[r.pairs["mentee_id"] != target].index[:1]
        return dataclasses.replace(r, pairs=r.pairs.drop(others).reset_index(drop=True),
                                   status="feasible")

    mentors, mentees = _org(30, 12, seed=4)
    prog = Programme({"weights": {"experience": 1.0, "geography": 1.0}})
    monkeypatch.setattr(P, "LARGE_PAIRS", 5)
    r1 = prog.run_round(mentors.assign(capacity=3), mentees, date="2026-01-15")
    target = sorted(r1.pairs["mentee_id"])[0]
    before = prog.history
    monkeypatch.setattr(P, "solve", stopped_short)
    with pytest.raises(mm.MentormatchError, match="eligible mentor\\(s\\) have room"):
        prog.rematch(target, date="2026-03-01")
    pd.testing.assert_frame_equal(prog.history, before)
    # no room anywhere: one change is needed, so a 'feasible' answer with a change is kept
    two = pd.DataFrame({"id": ["M1", "M2", "M3"], "capacity": [1, 1, 1],
                        "years_experience": [8.0, 8.5, 9.0]})
    ees = pd.DataFrame({"id": ["E1", "E2", "E3"], "years_experience": [2.0, 2.5, 3.0]})
    monkeypatch.setattr(P, "solve", real)
    prog = Programme({"weights": {"experience": 1.0}})
    r1 = prog.run_round(two, ees, date="2026-01-15")
    target = r1.pairs.sort_values("mentee_id").iloc[0]
    monkeypatch.setattr(P, "solve", lambda p, b=None: dataclasses.replace(real(p, b),
                                                                           status="feasible"))
    _, changed = prog.rematch(target["mentee_id"], date="2026-02-01",
                              mentors=two[two["id"] != target["mentor_id"]], mentees=ees)
    assert changed == 1
