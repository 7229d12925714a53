"""Pairing rounds over time: history, locks, joiners and leavers, priority, rematch, outcomes,
metrics, save and load."""
import filecmp
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import ValidationError
from mentormatch.programme import Programme

RULES = {"weights": {"experience": 1.0, "geography": 1.0}}


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def _org(n_mentees, n_mentors, seed):
    return mm.synthetic.organisation(n_mentees=n_mentees, n_mentors=n_mentors, seed=seed)


def _subset(mentors, mentees, mentee_rows, mentor_rows=None):
    """Some of the people (joiners and leavers); managers who are not in the tables are cleared,
    and stated preferences lose the people who are not there (as the HR export would)."""
    e = mentees.iloc[list(mentee_rows)].reset_index(drop=True)
    m = mentors if mentor_rows is None else mentors.iloc[list(mentor_rows)].reset_index(drop=True)
    m = m.copy()
    people = set(e["id"].astype(str)) | set(m["id"].astype(str))
    for t in (e, m):
        if "manager_id" in t.columns:
            gone = ~t["manager_id"].astype(str).isin(people)
            t.loc[gone, "manager_id"] = None
    for t, other in ((e, set(m["id"].astype(str))), (m, set(e["id"].astype(str)))):
        for col in ("preferences", "manager_suggestions"):
            if col in t.columns:
                t[col] = [";".join(x for x in str(v).split(";") if x in other) if isinstance(v, str) else v
                          for v in t[col]]
    return m, e


def _end_some(prog, rng, date, share=0.4):
    """Outcomes for the pairs in force: a seeded share of them ends on ``date``."""
    live = prog.in_force()
    ends = rng.random(len(live)) < share
    prog.record_outcomes(pd.DataFrame({
        "mentee_id": live["mentee_id"], "mentor_id": live["mentor_id"],
        "ended": np.where(ends, date, ""),
        "satisfaction": rng.integers(1, 6, len(live)).astype(float)}))
    return live[~ends]


def _pairs(frame):
    return set(zip(frame["mentee_id"].astype(str), frame["mentor_id"].astype(str)))


@pytest.fixture(scope="module")
def five_rounds():
    """60 mentees x 20 mentors per round, out of a pool of 100 mentees: 10 leave and 10 join
    each round; 40 % of the pairs in force end between rounds."""
    mentors, pool = _org(100, 20, seed=11)
    rng = np.random.default_rng(5)
    prog = Programme(RULES, priority="weight")
    dates = ["2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15", "2027-01-15"]
    record = []
    for k, date in enumerate(dates):
        m, e = _subset(mentors, pool, range(10 * k, 10 * k + 60))
        expected_kept = pd.DataFrame(columns=["mentee_id", "mentor_id"])
        if k:
            still = _end_some(prog, rng, date)
            present = still["mentee_id"].isin(set(e["id"].astype(str)))
            expected_kept = still[present]
        result = prog.run_round(m, e, date=date)
        record.append((m, e, result, expected_kept))
    return prog, record


# --------------------------------------------------------------------------------------------
# rounds
# --------------------------------------------------------------------------------------------
def test_five_rounds_no_repeated_pair(five_rounds):
    prog, _ = five_rounds
    h = prog.history
    assert len(prog.rounds) == 5
    assert not h.duplicated(["mentee_id", "mentor_id"]).any()
    assert (h["round"] >= 1).all() and (h["round"] <= 5).all()


def test_five_rounds_pairs_in_force_stay_locked(five_rounds):
    prog, record = five_rounds
    for k, (_m, _e, result, kept) in enumerate(record):
        got = _pairs(result.pairs)
        assert _pairs(kept) <= got, f"round {k + 1} dropped a pair in force"
        carried = result.pairs[result.pairs["locked"]]
        assert _pairs(kept) == _pairs(carried)
        assert prog.rounds[k].pairs["carried"].sum() == len(kept)


def test_five_rounds_capacity_counts_pairs_in_force(five_rounds):
    _prog, record = five_rounds
    for m, e, result, _kept in record:
        load = result.pairs["mentor_id"].value_counts()
        cap = m.set_index(m["id"].astype(str))["capacity"]
        assert (load <= cap.reindex(load.index)).all()
        seen = sorted(list(result.pairs["mentee_id"]) + list(result.unmatched["mentee_id"]))
        assert seen == sorted(e["id"].astype(str))


def test_five_rounds_leavers_end_their_pairs(five_rounds):
    prog, record = five_rounds
    h = prog.history
    left = h[h["end_reason"] == "mentee_left"]
    assert len(left), "mentees left between rounds while paired"
    for _, row in left.iterrows():
        r = prog.rounds[[x.date for x in prog.rounds].index(row["end"])]
        assert row["mentee_id"] not in set(r.pairs["mentee_id"]) | set(r.unmatched["mentee_id"])


def test_mentor_leaving_and_lowering_capacity():
    mentors, mentees = _org(30, 10, seed=3)
    mentors = mentors.copy()
    mentors["capacity"] = 3
    prog = Programme(RULES)
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    load = r1.pairs["mentor_id"].value_counts()
    leaving, lowered = load.index[0], load.index[1]
    assert load[lowered] >= 2
    # round 2: everything carries over; add one pair to `lowered` is not needed: lower to 1
    m2 = mentors[mentors["id"].astype(str) != leaving].copy()
    m2.loc[m2["id"].astype(str) == lowered, "capacity"] = 1
    m2, e2 = _subset(m2, mentees, range(len(mentees)))
    r2 = prog.run_round(m2, e2, date="2026-04-15")
    h = prog.history
    gone = h[(h["mentor_id"] == leaving) & (h["round"] == 1)]
    assert (gone["end_reason"] == "mentor_left").all() and (gone["end"] == "2026-04-15").all()
    assert leaving not in set(r2.pairs["mentor_id"])
    # the lowered mentor keeps one pair, the best-scoring among equally long-standing ones
    mine = h[(h["mentor_id"] == lowered) & (h["round"] == 1)]
    kept = mine[mine["end"] == ""]
    assert len(kept) == 1
    assert kept["score"].iloc[0] == mine["score"].max()
    assert (mine[mine["end"] != ""]["end_reason"] == "capacity").all()
    assert (r2.pairs["mentor_id"] == lowered).sum() == 1
    # nobody else moved: every other round-1 pair of a staying mentor is still there
    others = r1.pairs[~r1.pairs["mentor_id"].isin([leaving, lowered])]
    assert _pairs(others) <= _pairs(r2.pairs)


def test_longest_standing_pair_is_kept_when_capacity_drops():
    mentors, mentees = _org(12, 4, seed=8)
    mentors = mentors.copy()
    prog = Programme(RULES)
    m1, e1 = _subset(mentors, mentees, range(6))
    m1["capacity"] = 1
    r1 = prog.run_round(m1, e1, date="2026-01-15")
    first = r1.pairs.iloc[0]
    m2, e2 = _subset(mentors, mentees, range(12))
    m2["capacity"] = 3
    r2 = prog.run_round(m2, e2, date="2026-04-15")
    later = r2.pairs[(r2.pairs["mentor_id"] == first["mentor_id"]) & ~r2.pairs["locked"]]
    assert len(later), "the mentor took a new mentee in round 2"
    m3 = m2.copy()
    m3.loc[m3["id"].astype(str) == first["mentor_id"], "capacity"] = 1
    r3 = prog.run_round(m3, e2, date="2026-07-15")
    assert (first["mentee_id"], first["mentor_id"]) in _pairs(r3.pairs)
    assert not _pairs(later) & _pairs(r3.pairs)


def _tiny():
    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1], "years_experience": [8.0]})
    mentees = pd.DataFrame({"id": ["E1"], "years_experience": [2.0]})
    return mentors, mentees


@pytest.mark.parametrize("allow, cooldown, expect", [
    (False, None, [True, False, False, False]),
    (True, None, [True, True, True, True]),
    (True, 1, [True, False, True, False]),
])
def test_repeats_and_cooldown(allow, cooldown, expect):
    mentors, mentees = _tiny()
    prog = Programme({"weights": {"experience": 1.0}}, allow_repeats=allow, cooldown_rounds=cooldown)
    got = []
    for k, date in enumerate(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]):
        if k:
            live = prog.in_force()
            if len(live):
                prog.record_outcomes(live[["mentee_id", "mentor_id"]].assign(ended=date))
        result = prog.run_round(mentors, mentees, date=date)
        got.append(len(result.pairs) == 1)
    assert got == expect


def test_continuity_prefers_the_previous_mentor():
    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "years_experience": [10.0, 10.0]})
    mentees = pd.DataFrame({"id": ["E1"], "years_experience": [2.0]})
    # the sweet spot of the former defaults, (3, 10) years with 5 years' decay, fixes the scores below
    rules = {"weights": {"experience": 1.0},
             "features": {"experience": {"years_gap": [3, 10], "years_decay": 5}}}
    for continuity in (False, True):
        prog = Programme(rules, allow_repeats=True, continuity=continuity, continuity_weight=0.5)
        r1 = prog.run_round(mentors, mentees, date="2026-01-01")
        first = r1.pairs["mentor_id"].iloc[0]
        prog.record_outcomes(r1.pairs[["mentee_id", "mentor_id"]].assign(ended="2026-02-01"))
        # make the other mentor score a little better, so that only continuity keeps the first
        m2 = mentors.copy()
        m2.loc[m2["id"] != first, "years_experience"] = 12.5  # gap 10.5 years: score 0.9
        m2.loc[m2["id"] == first, "years_experience"] = 13.0  # gap 11 years: score 0.8
        r2 = prog.run_round(m2, mentees, date="2026-03-01")
        s = r2.data["problem"].score
        assert 0 < s.max() - s.min() < 0.5, "the continuity bonus must outweigh the score gap"
        assert (r2.pairs["mentor_id"].iloc[0] == first) == continuity
        assert r2.objective == pytest.approx(r2.pairs["score"].sum())


# --------------------------------------------------------------------------------------------
# priority
# --------------------------------------------------------------------------------------------
def _scarce(priority, weight=1.0):
    """Round 1 leaves mentees unmatched; round 2 adds better-scoring joiners for the places
    freed by ended pairs."""
    mentors, pool = _org(80, 8, seed=21)
    mentors = mentors.copy()
    mentors["capacity"] = 2
    prog = Programme(RULES, priority=priority, priority_weight=weight)
    m1, e1 = _subset(mentors, pool, range(40))
    prog.run_round(m1, e1, date="2026-01-15")
    waiting = set(prog.rounds[0].unmatched["mentee_id"])
    live = prog.in_force()
    prog.record_outcomes(live[["mentee_id", "mentor_id"]].assign(ended="2026-06-01"))
    m2, e2 = _subset(mentors, pool, range(80))
    r2 = prog.run_round(m2, e2, date="2026-07-15")
    return prog, r2, waiting


def _most_priority_matchable(result, waiting):
    """The most priority mentees any assignment can match: coverage-first on them alone."""
    p = result.data["problem"]
    ids = result.data["mentee_ids"].ids.astype(str)
    mentor_ids = result.data["mentor_ids"].ids.astype(str)
    rows = np.isin(ids, list(waiting))
    scores = np.full((p.n_mentees, p.n_mentors), -np.inf)
    scores[p.pairs.mentee, p.pairs.mentor] = 1.0  # any eligible pair will do
    free = p.capacity - np.bincount(p.pairs.mentor[p.locked], minlength=p.n_mentors)
    frame = pd.DataFrame(scores[rows], index=ids[rows], columns=mentor_ids)
    best = mm.assign(frame, pd.Series(free, index=mentor_ids), coverage_first=True)
    return len(best.pairs)


def test_priority_hard_matches_the_most_waiting_mentees():
    prog, r2, waiting = _scarce("hard")
    assert waiting, "round 1 must leave mentees unmatched"
    matched = set(r2.pairs["mentee_id"]) & waiting
    assert len(matched) == _most_priority_matchable(r2, waiting)
    assert prog.rounds[1].pairs["priority"].sum() == len(matched)
    # reported scores are the feature scores, not the offset
    assert r2.objective == pytest.approx(r2.pairs["score"].sum())
    assert r2.pairs["score"].max() <= 2.0 + 1e-9
    _, r_none, _ = _scarce(None)
    assert len(matched) >= len(set(r_none.pairs["mentee_id"]) & waiting)


def test_priority_weight_is_between_none_and_hard():
    counts = {}
    for name, priority, weight in (("none", None, 0.0), ("weight", "weight", 0.3),
                                   ("hard", "hard", 0.0)):
        _, r2, waiting = _scarce(priority, weight or 1.0)
        counts[name] = len(set(r2.pairs["mentee_id"]) & waiting)
    assert counts["none"] <= counts["weight"] <= counts["hard"]


# --------------------------------------------------------------------------------------------
# rematch
# --------------------------------------------------------------------------------------------
def test_rematch_changes_nobody_else_when_a_mentor_is_free():
    mentors, mentees = _org(30, 20, seed=4)
    mentors = mentors.copy()
    mentors["capacity"] = 3  # 60 places for 30 mentees: free places everywhere
    prog = Programme(RULES)
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    target = r1.pairs.iloc[0]
    before = _pairs(r1.pairs) - {(target["mentee_id"], target["mentor_id"])}
    result, changed = prog.rematch(target["mentee_id"], date="2026-03-01")
    assert changed == 0
    after = _pairs(result.pairs)
    assert before <= after
    new = after - before
    assert len(new) == 1 and next(iter(new))[0] == target["mentee_id"]
    assert next(iter(new))[1] != target["mentor_id"]  # the ended pair is not repeated
    h = prog.history
    old = h[(h["mentee_id"] == target["mentee_id"]) & (h["mentor_id"] == target["mentor_id"])]
    assert old["end"].tolist() == ["2026-03-01"] and old["end_reason"].tolist() == ["rematch"]
    assert (h[h["source"] == "rematch"]["start"] == "2026-03-01").all()
    assert len(prog.in_force("2026-03-01")) == len(r1.pairs)


def test_rematch_without_free_place():
    mentors, mentees = _org(30, 8, seed=6)
    prog = Programme(RULES)
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    # every mentor now has exactly the mentees they have: no free place anywhere
    full = mentors.copy()
    full["capacity"] = r1.pairs["mentor_id"].value_counts().reindex(full["id"].astype(str), fill_value=0).to_numpy()
    target = r1.pairs.iloc[0]
    kept = _pairs(r1.pairs) - {(target["mentee_id"], target["mentor_id"])}
    locked, changed = prog.rematch(target["mentee_id"], date="2026-02-01", mentors=full,
                                   mentees=mentees, allow_changes=False)
    assert changed == 0 and _pairs(locked.pairs) == kept
    un = locked.unmatched.set_index("mentee_id")
    assert un.loc[target["mentee_id"], "reason_code"] != "not_considered"
    others = set(mentees["id"].astype(str)) - {e for e, _ in kept} - {target["mentee_id"]}
    assert (un.loc[sorted(others), "reason_code"] == "not_considered").all()
    h = prog.history
    assert (h["source"] != "rematch").all()


def test_rematch_moves_the_fewest_pairs_when_it_must():
    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "years_experience": [8.0, 8.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "years_experience": [2.0, 2.0]})
    prog = Programme({"weights": {"experience": 1.0}})
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    assert len(r1.pairs) == 2
    target = r1.pairs.iloc[0]
    other = r1.pairs.iloc[1]
    # the target's old mentor leaves; the only other mentor is taken: one change is needed
    m2 = mentors[mentors["id"] != target["mentor_id"]]
    result, changed = prog.rematch(target["mentee_id"], date="2026-02-01", mentors=m2, mentees=mentees)
    assert changed == 1
    assert _pairs(result.pairs) == {(target["mentee_id"], other["mentor_id"])}
    h = prog.history.set_index("mentee_id")
    assert h.loc[other["mentee_id"], "end_reason"] == "displaced"


# --------------------------------------------------------------------------------------------
# outcomes and metrics
# --------------------------------------------------------------------------------------------
def _small_programme():
    mentors = pd.DataFrame({"id": ["M1", "M2", "M3", "M4"], "capacity": [1, 1, 1, 1],
                            "years_experience": [8.0, 9.0, 10.0, 11.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2", "E3", "E4", "E5"],
                            "years_experience": [1.0, 1.5, 2.0, 2.5, 3.0]})
    prog = Programme({"weights": {"experience": 1.0}})
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    assert len(r1.pairs) == 4 and len(r1.unmatched) == 1
    return prog, r1


def test_metrics_by_hand():
    prog, r1 = _small_programme()
    p = r1.pairs.sort_values("mentee_id").reset_index(drop=True)
    (a, ma), (b, mb), (c, mc), (d, md) = zip(p["mentee_id"], p["mentor_id"])
    lone = r1.unmatched["mentee_id"].iloc[0]
    prog.record_outcomes(pd.DataFrame({
        "mentee_id": [a, b, c, lone],
        "mentor_id": [ma, mb, mc, ""],
        "ended": ["", "2026-05-01", "", ""],
        "promoted": ["2026-03-16", "2026-04-15", "", "2026-02-01"],  # 60 and 90 days; 17 days
        "satisfaction": [4, 5, 2, None],
        "left": ["", "", "2026-06-01", ""]}))
    # an update: a later record fills in what was unknown and keeps the rest
    prog.record_outcomes(pd.DataFrame({"mentee_id": [a], "mentor_id": [ma], "satisfaction": [4]}))
    m = prog.metrics()
    paired = m[m["group"] == "paired"].iloc[0]
    assert paired["round"] == 1 and paired["date"] == "2026-01-15"
    assert paired["n"] == 4 and paired["n_reported"] == 3  # d has no outcome row: unknown
    assert paired["promotion_rate"] == pytest.approx(2 / 3)
    assert paired["median_days_to_promotion"] == pytest.approx(75.0)
    assert paired["retention"] == pytest.approx(2 / 3)
    assert paired["mean_satisfaction"] == pytest.approx((4 + 5 + 2) / 3)
    alone = m[m["group"] == "unpaired"].iloc[0]
    assert (alone["n"], alone["n_reported"]) == (1, 1)
    assert alone["promotion_rate"] == 1.0 and alone["median_days_to_promotion"] == 17.0
    assert alone["retention"] == 1.0 and math.isnan(alone["mean_satisfaction"])

    by = prog.metrics(by="mentor").set_index("mentor_id")
    assert list(by.index) == sorted([ma, mb, mc, md])
    assert by.loc[ma, "median_days_to_promotion"] == 60.0 and by.loc[ma, "mean_satisfaction"] == 4.0
    assert by.loc[mc, "retention"] == 0.0 and by.loc[mc, "promotion_rate"] == 0.0
    assert by.loc[md, "n_reported"] == 0 and math.isnan(by.loc[md, "promotion_rate"])

    h = prog.history.set_index("mentee_id")
    assert h.loc[b, "end"] == "2026-05-01" and h.loc[b, "end_reason"] == "ended"
    assert h.loc[c, "end"] == "2026-06-01" and h.loc[c, "end_reason"] == "mentee_left"
    assert h.loc[a, "end"] == ""


def test_outcomes_are_validated():
    prog, r1 = _small_programme()
    e, m = r1.pairs["mentee_id"].iloc[0], r1.pairs["mentor_id"].iloc[0]
    other = next(x for x in ["M1", "M2", "M3", "M4"] if x != m)
    cases = [
        (pd.DataFrame({"mentee_id": [e], "mentor_id": [other]}), "mentor_id"),
        (pd.DataFrame({"mentee_id": [e], "mentor_id": [m], "satisfaction": [7]}), "satisfaction"),
        (pd.DataFrame({"mentee_id": [e], "mentor_id": [m], "promoted": ["next week"]}), "promoted"),
        (pd.DataFrame({"mentee_id": [e], "mentor_id": [m], "ended": ["2025-01-01"]}), "ended"),
        (pd.DataFrame({"mentee_id": [e], "mentor_id": [m], "promotion": ["2026-03-01"]}), "promotion"),
        (pd.DataFrame({"mentee_id": [e, e], "mentor_id": [m, m]}), "mentee_id"),
        (pd.DataFrame({"mentee_id": ["nobody"], "mentor_id": [""]}), "mentee_id"),
    ]
    for frame, column in cases:
        with pytest.raises(ValidationError) as info:
            prog.record_outcomes(frame)
        assert info.value.problems[0].column == column, frame
    assert prog.outcomes.empty


def test_parameters_are_validated():
    with pytest.raises(ValidationError) as info:
        Programme(priority="soft")
    assert info.value.problems[0].column == "priority"
    with pytest.raises(ValidationError) as info:
        Programme(cooldown_rounds=2)
    assert "allow_repeats" in info.value.problems[0].expected
    with pytest.raises(ValidationError) as info:
        Programme(continuity=True)
    assert info.value.problems[0].column == "continuity"
    with pytest.raises(ValidationError):
        Programme(priority_weight=-1)
    prog, _ = _small_programme()
    with pytest.raises(ValidationError) as info:
        prog.run_round(*_tiny(), date="2025-12-31")
    assert info.value.problems[0].column == "date"
    with pytest.raises(ValidationError):
        prog.metrics(by="team")


def test_programme_is_accepted_by_pair():
    mentors, mentees = _tiny()
    prog = Programme({"weights": {"experience": 1.0}})
    assert len(mm.pair(mentors, mentees, programme=prog).pairs) == 1


# --------------------------------------------------------------------------------------------
# save and load
# --------------------------------------------------------------------------------------------
def _files(d: Path):
    return sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())


def test_save_load_save_is_byte_identical(five_rounds, tmp_path):
    prog, _ = five_rounds
    prog.record_outcomes(pd.DataFrame({"mentee_id": [prog.rounds[0].unmatched["mentee_id"].iloc[0]],
                                       "mentor_id": [""], "promoted": ["2026-09-09"]})) \
        if len(prog.rounds[0].unmatched) else None
    a, b = tmp_path / "a", tmp_path / "b"
    prog.save(a)
    loaded = Programme.load(a)
    loaded.save(b)
    assert _files(a) == _files(b)
    assert "manifest.json" in _files(a) and "rounds/round-005-pairs.csv" in _files(a)
    match, mismatch, errors = filecmp.cmpfiles(a, b, _files(a), shallow=False)
    assert mismatch == [] and errors == []
    pd.testing.assert_frame_equal(loaded.history, prog.history)
    pd.testing.assert_frame_equal(loaded.outcomes, prog.outcomes)
    pd.testing.assert_frame_equal(loaded.metrics(), prog.metrics())
    for x, y in zip(loaded.rounds, prog.rounds):
        pd.testing.assert_frame_equal(x.pairs, y.pairs)
        pd.testing.assert_frame_equal(x.unmatched, y.unmatched)
    assert loaded.rules.to_dict().keys() == prog.rules.to_dict().keys()
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["rules"]["weights"] == RULES["weights"]
    # saving over an earlier save replaces it
    loaded.save(a)
    assert filecmp.cmpfiles(a, b, _files(a), shallow=False)[1] == []


def test_loaded_programme_runs_the_next_round(tmp_path):
    mentors, mentees = _org(30, 10, seed=2)
    prog = Programme(RULES)
    prog.run_round(mentors, mentees, date="2026-01-15")
    prog.save(tmp_path / "p")
    loaded = Programme.load(tmp_path / "p")
    with pytest.raises(ValidationError, match="tables"):
        loaded.rematch(prog.rounds[0].pairs["mentee_id"].iloc[0], date="2026-02-01")
    r2 = loaded.run_round(mentors, mentees, date="2026-04-15")
    assert _pairs(prog.rounds[0].pairs) <= _pairs(r2.pairs)
    _, changed = loaded.rematch(r2.pairs["mentee_id"].iloc[0], date="2026-05-01")
    assert changed >= 0


def _damage(tmp_path, prog, how):
    d = tmp_path / how
    prog.save(d)
    if how == "missing_file":
        (d / "rounds" / "round-001-pairs.csv").unlink()
        return d, "round-001-pairs.csv"
    if how == "no_manifest":
        (d / "manifest.json").unlink()
        return d, "manifest.json"
    if how == "bad_json":
        (d / "manifest.json").write_text("{not json")
        return d, "manifest.json"
    manifest = json.loads((d / "manifest.json").read_text())
    if how == "version":
        manifest["format_version"] = 99
    elif how == "bad_rules":
        manifest["rules"]["solver"] = "magic"
    (d / "manifest.json").write_text(json.dumps(manifest))
    if how == "bad_cell":
        text = (d / "history.csv").read_text().splitlines()
        text[1] = text[1].replace(",1,", ",one,", 1)
        (d / "history.csv").write_text("\n".join(text) + "\n")
        return d, "history.csv"
    return d, "manifest.json"


@pytest.mark.parametrize("how", ["missing_file", "no_manifest", "bad_json", "version", "bad_rules",
                                 "bad_cell"])
def test_load_damaged_directory_names_the_file(tmp_path, how):
    prog, _ = _small_programme()
    d, name = _damage(tmp_path, prog, how)
    with pytest.raises(ValidationError) as info:
        Programme.load(d)
    assert name in str(info.value)
    if how == "version":
        assert info.value.problems[0].column == "format_version"


def test_failed_save_keeps_the_earlier_one(tmp_path, monkeypatch):
    prog, _ = _small_programme()
    d = tmp_path / "p"
    prog.save(d)
    before = {f: (d / f).read_bytes() for f in _files(d)}
    prog.record_outcomes(pd.DataFrame({"mentee_id": [prog.rounds[0].pairs["mentee_id"].iloc[0]],
                                       "mentor_id": [prog.rounds[0].pairs["mentor_id"].iloc[0]],
                                       "promoted": ["2026-02-02"]}))
    import mentormatch.programme.store.folder as P

    real = P._write_csv

    def failing(frame, columns, path, *rest):
        if path.name == "outcomes.csv":
            raise OSError("disk full")
        return real(frame, columns, path, *rest)

    monkeypatch.setattr(P, "_write_csv", failing)
    with pytest.raises(OSError):
        prog.save(d)
    assert {f: (d / f).read_bytes() for f in _files(d)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no temporary directory left


def test_save_refuses_to_replace_other_directories(tmp_path):
    prog, _ = _small_programme()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ValidationError):
        prog.save(tmp_path / "notes")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_a_failed_round_changes_nothing(monkeypatch):
    mentors, mentees = _org(20, 6, seed=9)
    prog = Programme(RULES)
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    before = prog.history
    leaving = r1.pairs["mentor_id"].iloc[0]
    m2, e2 = _subset(mentors, mentees, range(len(mentees)),
                     [k for k, x in enumerate(mentors["id"].astype(str)) if x != leaving])
    import mentormatch.pipeline as P

    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(P, "solve", broken)
    with pytest.raises(RuntimeError):
        prog.run_round(m2, e2, date="2026-04-15")
    pd.testing.assert_frame_equal(prog.history, before)
    assert len(prog.rounds) == 1
    monkeypatch.undo()
    prog.run_round(m2, e2, date="2026-04-15")
    assert (prog.history.query("mentor_id == @leaving")["end_reason"] == "mentor_left").all()


def test_rules_naming_people_who_left_still_run():
    mentors = pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "years_experience": [8.0, 8.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "years_experience": [2.0, 2.0]})
    prog = Programme({"weights": {"experience": 1.0},
                      "constraints": {"forbidden": [["E2", "M2"]]}})
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    assert ("E2", "M2") not in _pairs(r1.pairs)
    prog.run_round(mentors, mentees.iloc[:1], date="2026-04-15")  # E2 has left


def test_working_hours_overlap_is_taken_on_the_rounds_date():
    """Daylight saving time of the round's date (issue 20): on 2026-03-15 New York has moved its
    clocks and London has not, so they share 4 working hours, not 3 as on 2026-01-15."""
    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1], "timezone": ["America/New_York"]})
    mentees = pd.DataFrame({"id": ["E1"], "timezone": ["Europe/London"]})
    rules = {"weights": {"geography": 1.0}, "features": {"geography": {"mode": "remote"}}}
    scores = {}
    for date in ("2026-01-15", "2026-03-15"):
        result = Programme(rules).run_round(mentors, mentees, date=date)
        assert result.data["rules"].feature_settings("geography")["reference_date"] == date
        scores[date] = float(result.pairs["score"].iloc[0])
    assert scores["2026-03-15"] > scores["2026-01-15"]


def test_a_round_reads_its_files_with_the_programmes_input_settings(tmp_path):
    """[input] applies to every validation of a round (issue 20): a decimal comma, spaces
    around ids, and a manager in neither table taken as the end of the chain."""
    (tmp_path / "m.csv").write_text("id;capacity;years_experience;manager_id\nM1 ;1;12,5;BOSS\n")
    (tmp_path / "e.csv").write_text("id;years_experience\nE1;2,5\n")
    prog = Programme({"input": {"decimal": ",", "trim_ids": True, "unknown_managers": "chain_end"}})
    result = prog.run_round(tmp_path / "m.csv", tmp_path / "e.csv", date="2026-01-15")
    assert result.pairs[["mentee_id", "mentor_id"]].values.tolist() == [["E1", "M1"]]
    assert any("'BOSS'" in n for n in result.notes)
