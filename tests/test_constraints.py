import numpy as np
import pandas as pd
import pytest

from mentormatch import constraints as C
from mentormatch.pairs import Candidates, Encoder
from mentormatch.report.export import escape_cell, safe_frame


def _org():
    # D1 manages M1 and M2; M1 manages E1 and E2; M2 manages E3; E4 has no manager.
    # D1 is a mentor too; X9 is a mentor outside the chart.
    mentors = pd.DataFrame({"id": ["D1", "M1", "M2", "X9"], "manager_id": ["", "D1", "D1", ""]})
    mentees = pd.DataFrame({"id": ["E1", "E2", "E3", "E4"], "manager_id": ["M1", "M1", "M2", ""]})
    return mentors, mentees


def test_management_line_is_every_ancestor_and_nothing_else():
    mentors, mentees = _org()
    i, j = C.management_line_pairs(mentees, mentors)
    got = sorted(zip(mentees["id"].to_numpy()[i], mentors["id"].to_numpy()[j]))
    assert got == [("E1", "D1"), ("E1", "M1"), ("E2", "D1"), ("E2", "M1"), ("E3", "D1"), ("E3", "M2")]


def test_management_line_both_directions_when_a_mentee_manages_a_mentor():
    mentors = pd.DataFrame({"id": ["A", "B"], "manager_id": ["E1", ""]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "manager_id": ["", "E1"]})
    i, j = C.management_line_pairs(mentees, mentors)
    assert sorted(zip(mentees["id"].to_numpy()[i], mentors["id"].to_numpy()[j])) == [("E1", "A")]


def test_rule_masks_and_removal_counts():
    mentors, mentees = _org()
    cand = Candidates.complete(4, 4)
    e, m = Encoder.from_ids(mentees["id"]), Encoder.from_ids(mentors["id"])
    masks = C.rule_masks(mentees, mentors, cand, {"management_line": True, "forbidden": [["E4", "X9"]]}, e, m)
    which, names = C.first_rule(masks, len(cand))
    counts = C.removal_counts(which, names, cand)
    assert counts["management_line"].tolist() == [2, 2, 2, 0]
    assert counts["forbidden"].tolist() == [0, 0, 0, 1]
    assert counts["same_person"].sum() == 0


def test_same_person_in_both_tables_is_never_a_pair():
    mentors = pd.DataFrame({"id": ["P1", "P2"], "manager_id": ["", ""]})
    mentees = pd.DataFrame({"id": ["P2"], "manager_id": [""]})
    cand = Candidates.complete(1, 2)
    masks = C.rule_masks(mentees, mentors, cand, {"management_line": True},
                         Encoder.from_ids(mentees["id"]), Encoder.from_ids(mentors["id"]))
    assert masks["same_person"].tolist() == [False, True]


def test_csv_cells_that_a_spreadsheet_would_execute_are_escaped():
    assert escape_cell("=SUM(A1)") == "'=SUM(A1)"
    assert escape_cell("+1") == "'+1" and escape_cell("-x") == "'-x" and escape_cell("@cmd") == "'@cmd"
    assert escape_cell("Ann") == "Ann" and escape_cell(-1.5) == -1.5
    df = pd.DataFrame({"name": ["=HYPERLINK(1)", "Bo"], "score": [-0.5, 0.25]})
    out = safe_frame(df)
    assert out["name"].tolist() == ["'=HYPERLINK(1)", "Bo"]
    assert out["score"].tolist() == [-0.5, 0.25]
    assert df["name"].iloc[0] == "=HYPERLINK(1)"  # caller's frame untouched


def test_mentee_priority_column_decides_who_gets_the_last_place():
    """Issue 20: one place, two mentees; the one with priority gets it unless the other's pair
    scores better by more than the weight. Brute force over the two choices."""
    import pytest

    import mentormatch as mm

    mentors = pd.DataFrame({"id": ["M1"], "capacity": [1], "years_experience": [12.0]})
    mentees = pd.DataFrame({"id": ["E1", "E2"], "years_experience": [2.0, 2.5],
                            "priority": [0.0, 1.0]})
    plain = mm.pair(mentors, mentees.drop(columns="priority"))
    with_priority = mm.pair(mentors, mentees)
    scores = plain.data["problem"].score
    assert abs(scores[0] - scores[1]) < 1.0  # within the default priority weight
    assert with_priority.pairs["mentee_id"].tolist() == ["E2"]
    assert with_priority.pairs["score"].iloc[0] == pytest.approx(scores[1])  # the plain score
    flipped = mm.pair(mentors, mentees.assign(priority=[1.0, 0.0]))
    assert flipped.pairs["mentee_id"].tolist() == ["E1"]
    off = mm.pair(mentors, mentees, {"constraints": {"priority_weight": 0.0}})
    assert off.pairs["mentee_id"].tolist() == plain.pairs["mentee_id"].tolist()


def _org_nodes_by_pandas(e_ids, m_ids, managers):
    """The org chart's nodes as management_line_pairs built them before _org_nodes: the ids by
    pd.unique, each person's first row's manager by a de-duplicated Series, looked up by hash."""
    ids = pd.Index(pd.unique(np.concatenate([e_ids, m_ids])))
    people = np.concatenate([e_ids, m_ids])
    by_person = pd.Series(managers, index=people)
    by_person = by_person[~by_person.index.duplicated()]
    parent = ids.get_indexer(by_person.reindex(ids).fillna("").to_numpy())
    return ids.to_numpy(dtype=object), ids.get_indexer(e_ids), ids.get_indexer(m_ids), parent


@pytest.mark.parametrize("seed", range(6))
def test_org_nodes_equal_pandas_unique_and_lookups(seed):
    rng = np.random.default_rng(seed)
    pool = np.array([f"P{k}" for k in range(40)] + ["", "p1"], dtype=object)
    e_ids = pool[rng.choice(len(pool) - 2, 25, replace=False)]
    m_ids = pool[rng.choice(len(pool) - 2, 12, replace=False)]  # some people in both tables
    managers = np.concatenate([pool[rng.integers(0, len(pool), 37)]])
    managers[rng.random(37) < 0.2] = "nobody"  # a manager id that is nobody's
    got = C._org_nodes(e_ids, m_ids, managers)
    want = _org_nodes_by_pandas(e_ids, m_ids, managers)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_management_line_pairs_against_walking_each_chain():
    rng = np.random.default_rng(11)
    people = [f"P{k}" for k in range(60)]
    boss = {p: (people[rng.integers(0, k)] if k and rng.random() < 0.9 else "") for k, p in enumerate(people)}
    e_rows = rng.choice(60, 40, replace=False)
    m_rows = rng.choice(60, 20, replace=False)
    mentees = pd.DataFrame({"id": [people[k] for k in e_rows], "manager_id": [boss[people[k]] for k in e_rows]})
    mentors = pd.DataFrame({"id": [people[k] for k in m_rows], "manager_id": [boss[people[k]] for k in m_rows]})
    known = set(mentees["id"]) | set(mentors["id"])

    def above(p):  # the chain through people of either table (a manager in neither ends it)
        out, b = [], boss.get(p, "")
        while b and b in known:
            out.append(b)
            b = boss[b]
        return out

    want = set()
    for i, e in enumerate(mentees["id"]):
        for j, m in enumerate(mentors["id"]):
            if m in above(e) or e in above(m):
                want.add((i, j))
    i, j = C.management_line_pairs(mentees, mentors)
    assert set(zip(i.tolist(), j.tolist())) == want and len(i) == len(want)
