"""Ids one to a reader and two to a computer (``schema/ids.py``, one rule): ids of one table
that differ only in case are refused unless ``input.case_sensitive_ids`` (or the CLI's
``--case-sensitive-ids``) says they are two people; ``assign()``'s labels in two Unicode forms
are refused as ``pair()``'s ids are; the random baseline's lock check is the diagnosis's.
Each test fails on ecc604c (the setting did not exist; "E00001" and "e00001" were two people;
``assign()`` took "Zoë" in two forms as two mentees)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import InfeasibleError, ValidationError

from _support import on_source

PLAIN = {"constraints": {"management_line": False}}


def _tables(table: str, reverse: bool):
    """Synthetic seed 5 (4 mentees, 3 mentors) with ids of ``table`` 'X00001' and 'x00001'
    (rows 0 and 2; reversed: the last row and row 0 or 1), no manager or preference naming
    the old ids."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=4, n_mentors=3, seed=5)
    mentees = mentees.assign(manager_id="", preferences="", manager_suggestions="")
    mentors = mentors.assign(manager_id="")
    frame = mentees if table == "mentees" else mentors
    frame = frame.assign(id=["X00001", "X00002", "x00001", "X00004"][:len(frame)])
    if reverse:
        frame = frame.iloc[::-1].reset_index(drop=True)
    return (mentors, frame) if table == "mentees" else (frame, mentees)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", ["complete", "blocks", "bounds"])
@pytest.mark.parametrize("table", ["mentees", "mentors"])
def test_ids_differing_only_in_case_are_refused_naming_both_rows(table, kind, reverse):
    mentors, mentees = _tables(table, reverse)
    with on_source(kind), pytest.raises(mm.ValidationError) as err:
        mm.pair(mentors, mentees, PLAIN)
    found = [p for p in err.value.problems if "only in case" in p.expected]
    assert sorted(p.row_id for p in found) == ["X00001", "x00001"], err.value.problems
    assert all(p.table == table and p.column == "id" for p in found)
    frame = mentees if table == "mentees" else mentors
    rows = {x: list(frame["id"]).index(x) for x in ("X00001", "x00001")}
    for p in found:  # each names the other row, by position (a DataFrame) and id
        other = "x00001" if p.row_id == "X00001" else "X00001"
        assert f"row {rows[other]} ({other!r})" in p.expected, p.expected
        assert "input.case_sensitive_ids" in p.expected


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", ["complete", "blocks", "bounds"])
@pytest.mark.parametrize("table", ["mentees", "mentors"])
def test_case_sensitive_ids_takes_them_as_two_people(table, kind, reverse):
    mentors, mentees = _tables(table, reverse)
    rules = {**PLAIN, "input": {"case_sensitive_ids": True}}
    with on_source(kind):
        r = mm.pair(mentors, mentees, rules)
    listed = sorted(list(r.pairs["mentee_id"]) + list(r.unmatched["mentee_id"]))
    assert listed == sorted(mentees["id"])  # each mentee once, both cases kept
    assert set(r.pairs["mentor_id"]) <= set(mentors["id"])
    # the same pairs whatever the row order
    again = mm.pair(mentors.iloc[::-1].reset_index(drop=True), mentees.iloc[::-1].reset_index(drop=True),
                    rules)
    key = ["mentee_id", "mentor_id"]
    assert (r.pairs[key].sort_values(key).values.tolist()
            == again.pairs[key].sort_values(key).values.tolist())


def test_case_is_compared_on_the_unicode_normal_form():
    """'ZOË' (NFC) and 'zoe' + a combining diaeresis: one id in another case and form."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=3, n_mentors=2, seed=5)
    mentees = mentees.assign(id=["ZOË", "zoe\u0308", "José"], manager_id="", preferences="",
                             manager_suggestions="")
    with pytest.raises(mm.ValidationError, match="only in case"):
        mm.pair(mentors, mentees, PLAIN)
    r = mm.pair(mentors, mentees, {**PLAIN, "input": {"case_sensitive_ids": True}})
    assert len(r.pairs) + len(r.unmatched) == 3


def test_a_case_sensitive_ids_that_is_not_true_or_false_is_refused():
    mentors, mentees = mm.synthetic.organisation(n_mentees=3, n_mentors=2, seed=5)
    with pytest.raises(mm.ValidationError) as err:
        mm.pair(mentors, mentees, {"input": {"case_sensitive_ids": "yes"}})
    assert err.value.problems[0].column == "input.case_sensitive_ids"
    with pytest.raises(mm.ValidationError, match="case_sensitive_ids"):
        mm.schema.validate_tables(mentors, mentees, case_sensitive_ids=1)


def test_pair_many_splits_the_tables_with_the_programmes_input_settings():
    mentors, mentees = _tables("mentees", False)
    mentors, mentees = mentors.assign(region="north"), mentees.assign(region="north")
    rules = {**PLAIN, "input": {"case_sensitive_ids": True}}
    [job] = mm.pair_many((mentors, mentees), group="region", programme=rules, progress=False)
    assert job.error is None, job.error
    r = job.matching
    assert sorted(list(r.pairs["mentee_id"]) + list(r.unmatched["mentee_id"])) == sorted(mentees["id"])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mentormatch.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_the_cli_refuses_them_with_exit_2_naming_both_lines_and_takes_the_setting(tmp_path):
    mentors, mentees = _tables("mentees", False)
    mentors.to_csv(tmp_path / "mentors.csv", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    files = ["--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv")]
    p = _cli("pair", *files, "--out", str(tmp_path / "a"))
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "only in case" in p.stderr and "line 4 ('x00001')" in p.stderr and "line 2 ('X00001')" in p.stderr
    p = _cli("pair", *files, "--out", str(tmp_path / "b"), "--case-sensitive-ids")
    assert p.returncode == 0, p.stderr
    (tmp_path / "p.toml").write_text("[constraints]\nmanagement_line = false\n"
                                     "[input]\ncase_sensitive_ids = true\n")
    p = _cli("pair", *files, "--out", str(tmp_path / "c"), "--programme", str(tmp_path / "p.toml"))
    assert p.returncode == 0, p.stderr
    written = pd.concat([pd.read_csv(tmp_path / "c" / "pairs.csv")["mentee_id"],
                         pd.read_csv(tmp_path / "c" / "unmatched.csv")["mentee_id"]])
    assert sorted(written) == sorted(mentees["id"])


# ---------------------------------------------------------------------------------------------
# assign(): labels in two Unicode forms
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", ["index", "columns"])
def test_assign_refuses_one_label_in_two_unicode_forms(axis):
    labels = ["Zoë", "José", "Zoe\u0308"]
    s = pd.DataFrame(np.arange(9.0).reshape(3, 3), index=["a", "b", "c"], columns=["X", "Y", "Z"])
    s = s.set_axis(labels, axis=axis)
    cap = pd.Series(1, index=s.columns)
    with pytest.raises(mm.ValidationError) as err:
        mm.assign(s, cap)
    found = err.value.problems
    assert len(found) == 2 and all("two Unicode forms" in p.expected for p in found), found
    named = [p.row_id if axis == "index" else p.column for p in found]
    assert named == ["Zoë", "Zoe\u0308"] and all(p.table == "scores" for p in found)
    assert "position 2" in found[0].expected and "position 0" in found[1].expected


def test_assign_accepts_distinct_accented_labels():
    s = pd.DataFrame([[1.0, 2.0], [3.0, 1.0]], index=["Zoë", "Zoé"], columns=["José", "Jose"])
    r = mm.assign(s, pd.Series({"José": 1, "Jose": 1}))
    assert sorted(r.pairs[["mentee_id", "mentor_id"]].values.tolist()) == [["Zoé", "José"], ["Zoë", "Jose"]]


# ---------------------------------------------------------------------------------------------
# the random baseline's lock check is the diagnosis's
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("locks", [([0, 1], [0, 0]), ([0, 0], [0, 1])])
def test_place_locks_raises_the_diagnosis_lock_findings(locks):
    from mentormatch.pairs import Candidates
    from mentormatch.solvers.base import AssignmentProblem
    from mentormatch.solvers.diagnose import lock_conflicts, locks_alone
    from mentormatch.solvers.random_rows import place_locks
    from mentormatch.solvers.rows import ProblemRows

    p = AssignmentProblem(Candidates.complete(3, 2), np.ones(6), np.array([1.0, 1.0]))
    li, lj = np.array(locks[0]), np.array(locks[1])
    with pytest.raises(InfeasibleError) as err:
        place_locks(ProblemRows(p), p.capacity, None, None, (li, lj))
    expected = lock_conflicts(locks_alone(li, lj, 3, p.capacity))
    assert expected and err.value.conflicts == expected


def test_a_mentee_id_that_differs_from_a_mentor_id_only_in_case_is_refused_unless_set():
    """Across the tables (an id in both is one person): the mentee 'e00004' beside the mentor
    'E00004' is refused on the mentee's row, naming the mentor's; the setting takes them as two
    people; the same id in both tables (one person) stays accepted."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=3, seed=3)
    programme = {"constraints": {"management_line": False}}
    same = mentees.copy()
    same.loc[2, "id"] = mentors.loc[1, "id"]
    shared = {c: mentors.loc[1, c] for c in mentors.columns if c in same.columns and c != "id"}
    for c, v in shared.items():
        same.loc[2, c] = v
    assert mm.pair(mentors, same, programme).status == "optimal"
    other = mentees.copy()
    other.loc[2, "id"] = mentors.loc[1, "id"].lower()
    with pytest.raises(ValidationError) as err:
        mm.pair(mentors, other, programme)
    text = str(err.value)
    assert "mentees" in text and repr(other.loc[2, "id"]) in text and repr(mentors.loc[1, "id"]) in text
    assert "case_sensitive_ids" in text
    r = mm.pair(mentors, other, {**programme, "input": {"case_sensitive_ids": True}})
    assert r.status == "optimal" and len(r.pairs) + len(r.unmatched) == len(other)


# ---------------------------------------------------------------------------------------------
# assign(): labels that differ only in case (the tables' rule, ``ids.case_only``); each test
# fails on dd02548 (assign() took 'E1' and 'e1' as two people and had no such keyword)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["flow", "hungarian", "mip"])
@pytest.mark.parametrize("axis", ["index", "columns"])
def test_assign_refuses_labels_differing_only_in_case_naming_both(axis, solver):
    labels = ["Ann", "bob", "ANN"]
    s = pd.DataFrame(np.arange(9.0).reshape(3, 3), index=["a", "b", "c"], columns=["X", "Y", "Z"])
    s = s.set_axis(labels, axis=axis)
    cap = pd.Series(1, index=s.columns)
    with pytest.raises(mm.ValidationError) as err:
        mm.assign(s, cap, solver=solver)
    found = err.value.problems
    assert len(found) == 2 and all("only in case" in p.expected for p in found), found
    named = [p.row_id if axis == "index" else p.column for p in found]
    assert named == ["Ann", "ANN"] and all(p.table == "scores" for p in found)
    assert "position 2 ('ANN')" in found[0].expected and "position 0 ('Ann')" in found[1].expected
    assert all("case_sensitive_ids=True" in p.expected for p in found)


@pytest.mark.parametrize("axis", ["index", "columns"])
def test_assign_case_sensitive_ids_takes_them_as_two_people(axis):
    """With the keyword the two labels are two people: the optimum of the 3 x 3 matrix (brute
    force over the six permutations, unique), the same whatever the row order."""
    rng = np.random.default_rng(7)
    values = rng.random((3, 3))
    s = pd.DataFrame(values, index=["a", "b", "c"], columns=["X", "Y", "Z"])
    s = s.set_axis(["Ann", "bob", "ANN"], axis=axis)
    import itertools

    best = max(itertools.permutations(range(3)), key=lambda p: sum(values[i, p[i]] for i in range(3)))
    want = sorted((s.index[i], s.columns[best[i]]) for i in range(3))
    for frame in (s, s.iloc[::-1, ::-1]):
        r = mm.assign(frame, pd.Series(1, index=frame.columns), case_sensitive_ids=True)
        assert sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].values.tolist())) == want
        assert r.objective == pytest.approx(sum(values[i, best[i]] for i in range(3)))


def test_assign_case_is_compared_on_the_unicode_normal_form():
    s = pd.DataFrame([[1.0, 2.0], [3.0, 1.0]], index=["ZOË", "zoe\u0308"], columns=["m1", "m2"])
    with pytest.raises(mm.ValidationError, match="only in case"):
        mm.assign(s, pd.Series({"m1": 1, "m2": 1}))
    r = mm.assign(s, pd.Series({"m1": 1, "m2": 1}), case_sensitive_ids=True)
    assert r.objective == pytest.approx(5.0)


def test_assign_case_sensitive_ids_that_is_not_true_or_false_is_refused():
    s = pd.DataFrame([[1.0]], index=["e1"], columns=["m1"])
    with pytest.raises(mm.ValidationError) as err:
        mm.assign(s, pd.Series({"m1": 1}), case_sensitive_ids="yes")
    p = err.value.problems[0]
    assert p.column == "case_sensitive_ids" and p.value == "yes" and "True or False" in p.expected
