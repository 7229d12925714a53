"""The command line as a user runs it: exit status, one paragraph, no traceback."""
import subprocess
import sys

import pandas as pd
import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mentormatch.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One ``demo`` run (its folder and the process) for the tests that read its files; they only
    read them."""
    out = tmp_path_factory.mktemp("cli") / "demo"
    return out, run("demo", "--out", str(out))


def test_demo_writes_files_whose_rows_add_up(demo, tmp_path):
    out, p = demo
    assert p.returncode == 0, p.stderr
    pairs = pd.read_csv(out / "pairs.csv", dtype=str)
    unmatched = pd.read_csv(out / "unmatched.csv", dtype=str)
    mentees = pd.read_csv(out / "mentees.csv", dtype=str)
    assert sorted(pairs["mentee_id"].tolist() + unmatched["mentee_id"].tolist()) == sorted(mentees["id"])
    for word in ("people in", "pairs", "unmatched", "mean score", "random assignment", "status optimal"):
        assert word in p.stdout
    report = (out / "report.html").read_text()
    # a fresh process: every baseline of the audit must load by itself
    assert "not available" not in report and "Pairing the same people at random" in report
    again = tmp_path / "again"
    run("demo", "--out", str(again))
    assert (again / "pairs.csv").read_bytes() == (out / "pairs.csv").read_bytes()


def test_pair_on_csv_files_then_bad_input_exits_2_without_traceback(demo, tmp_path):
    out, p = demo
    assert p.returncode == 0, p.stderr
    ok = run("pair", "--mentors", str(out / "mentors.csv"), "--mentees", str(out / "mentees.csv"),
             "--out", str(tmp_path / "r"))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "r" / "pairs.csv").exists()

    mentors = pd.read_csv(out / "mentors.csv", dtype=str, keep_default_na=False)
    mentors = mentors.rename(columns={"capacity": "capcity"})
    mentors.to_csv(tmp_path / "bad.csv", index=False)
    bad = run("pair", "--mentors", str(tmp_path / "bad.csv"), "--mentees", str(out / "mentees.csv"),
              "--out", str(tmp_path / "r2"))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "capcity" in bad.stderr and "capacity" in bad.stderr
    assert bad.stderr.strip().count("\n\n") == 0  # one paragraph


@pytest.mark.parametrize("args", [
    ("pair", "--mentors", "/nonexistent/m.csv", "--mentees", "/nonexistent/e.csv", "--out", "x"),
])
def test_unreadable_file_exits_2(args, tmp_path):
    p = run(*args, cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "m.csv" in p.stderr


@pytest.mark.parametrize("flag, value", [("--mentees", "0"), ("--mentors", "-3")])
def test_demo_bad_count_names_the_flag(flag, value, tmp_path):
    """A bad count on the command line is named as the user typed it (the flag and its value),
    not as the generator's argument (``n_mentees``); exit 2, one paragraph, no file written."""
    p = run("demo", flag, value, "--out", str(tmp_path / "d"))
    assert p.returncode == 2
    line = p.stderr.strip()
    assert "Traceback" not in line and "\n\n" not in line
    assert flag in line and f"got {value}" in line and "n_mentee" not in line and "n_mentor" not in line
    assert not (tmp_path / "d").exists()


def test_pair_with_an_org_chart_and_an_encoding(tmp_path):
    """--org carries the management line through a director in neither table; --encoding is
    used and named; without --org the error names the option."""
    (tmp_path / "mentors.csv").write_bytes("id,name,capacity,manager_id\nM1,Zoë,1,D\nM2,Bo,1,D\n".encode("cp1252"))
    (tmp_path / "mentees.csv").write_bytes("id,manager_id\nE1,D2\nE2,M2\n".encode("cp1252"))
    (tmp_path / "org.csv").write_text("id,manager_id\nD,\nD2,M1\nM1,D\nM2,D\nE1,D2\nE2,M2\n")
    args = ["pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv"),
            "--out", str(tmp_path / "out")]
    bad = run(*args, "--encoding", "cp1252")
    assert bad.returncode == 2 and "--org" in bad.stderr and "Traceback" not in bad.stderr
    ok = run(*args, "--encoding", "cp1252", "--org", str(tmp_path / "org.csv"))
    assert ok.returncode == 0, ok.stderr
    assert "note: mentors:" in ok.stdout and "read as cp1252" in ok.stdout
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype=str)
    # M1 manages E1 through D2, M2 manages E2: each gets the other mentor
    assert sorted(zip(pairs["mentee_id"], pairs["mentor_id"])) == [("E1", "M2"), ("E2", "M1")]


def _own_framework(tmp_path):
    (tmp_path / "reqs.csv").write_text(
        "role,title,level,competency,required,importance\n"
        "new,New starter,1,listening,2,\n"
        "lead,Team lead,2,listening,4,\n,,,coaching,3,2\n".replace("\n,,,", "\nlead,,,"))
    (tmp_path / "paths.csv").write_text("from_role,to_role,kind\nnew,lead,up\n")
    pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "role": ["lead", "lead"],
                  "comp_listening": [5, 2], "comp_coaching": [4, 1]}).to_csv(tmp_path / "mentors.csv", index=False)
    pd.DataFrame({"id": ["E1"], "role": ["new"], "comp_listening": [1],
                  "comp_coaching": [0]}).to_csv(tmp_path / "mentees.csv", index=False)


def test_own_framework_from_csv_on_the_command_line_and_in_the_programme(tmp_path):
    _own_framework(tmp_path)
    base = ["pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv")]
    p = run(*base, "--out", str(tmp_path / "a"), "--framework", str(tmp_path / "reqs.csv"),
            "--pathways", str(tmp_path / "paths.csv"))
    assert p.returncode == 0, p.stderr
    pairs = pd.read_csv(tmp_path / "a" / "pairs.csv", dtype=str)
    assert pairs["mentor_id"].tolist() == ["M1"] and float(pairs["contrib_competency"][0]) > 0
    (tmp_path / "p.toml").write_text('[weights]\ncompetency = 1.0\n'
                                     '[framework]\nrequirements = "reqs.csv"\npathways = "paths.csv"\n')
    q = run(*base, "--out", str(tmp_path / "b"), "--programme", str(tmp_path / "p.toml"))
    assert q.returncode == 0, q.stderr
    assert pd.read_csv(tmp_path / "b" / "pairs.csv", dtype=str)["mentor_id"].tolist() == ["M1"]
    r = run(*base, "--out", str(tmp_path / "c"), "--framework", str(tmp_path / "reqs.csv"))
    assert r.returncode == 2 and "--pathways" in r.stderr


def _org_round(tmp_path):
    """The org-chart round above, paired with --org: E1 -> M2 and E2 -> M1."""
    (tmp_path / "mentors.csv").write_text("id,capacity,manager_id\nM1,1,D\nM2,1,D\n")
    (tmp_path / "mentees.csv").write_text("id,manager_id\nE1,D2\nE2,M2\n")
    (tmp_path / "org.csv").write_text("id,manager_id\nD,\nD2,M1\nM1,D\nM2,D\nE1,D2\nE2,M2\n")
    out = tmp_path / "round"
    p = run("pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv"),
            "--org", str(tmp_path / "org.csv"), "--out", str(out))
    assert p.returncode == 0, p.stderr
    (tmp_path / "decisions.csv").write_text("mentee_id,mentor_id,decision\nE2,M1,decline\n")
    return out


def test_revise_takes_the_org_chart_of_its_round(tmp_path):
    """Regression (s34): `revise` had no --org, so a round paired with an org chart could not be
    revised (its error even said to pass --org). Without it, exit 2 naming --org and the recorded
    file; with it, the management line still holds: E1 (under M1 through D2) never gets M1."""
    out = _org_round(tmp_path)
    base = ["revise", "--pairs", str(out / "pairs.csv"), "--decisions", str(tmp_path / "decisions.csv"),
            "--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv"),
            "--out", str(tmp_path / "rev")]
    bad = run(*base)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--org" in bad.stderr and "org.csv" in bad.stderr and "\n\n" not in bad.stderr.strip()
    ok = run(*base, "--org", str(tmp_path / "org.csv"))
    assert ok.returncode == 0, ok.stderr
    pairs = pd.read_csv(tmp_path / "rev" / "pairs.csv", dtype=str)
    unmatched = pd.read_csv(tmp_path / "rev" / "unmatched.csv", dtype=str)
    # E1's pending pair is kept; E2 declined M1 and M2 is full: E2 unmatched; never (E1, M1)
    assert sorted(zip(pairs["mentee_id"], pairs["mentor_id"])) == [("E1", "M2")]
    assert unmatched["mentee_id"].tolist() == ["E2"]


def test_revise_refuses_other_rules_than_its_round(tmp_path):
    """Regression (s34): `revise` without --programme re-paired a round under the default
    programme, whatever the round was paired with, without a word. The provenance.json beside
    pairs.csv records the round's settings: a difference is refused, naming the setting."""
    pd.DataFrame({"id": ["M1", "M2"], "capacity": [1, 1], "years_experience": [20, 3]}).to_csv(
        tmp_path / "mentors.csv", index=False)
    pd.DataFrame({"id": ["E1", "E2"], "years_experience": [1, 2]}).to_csv(tmp_path / "mentees.csv", index=False)
    (tmp_path / "p.toml").write_text("[weights]\nexperience = 1.0\n")
    files = ["--mentors", str(tmp_path / "mentors.csv"), "--mentees", str(tmp_path / "mentees.csv")]
    p = run("pair", *files, "--programme", str(tmp_path / "p.toml"), "--out", str(tmp_path / "round"))
    assert p.returncode == 0, p.stderr
    first = pd.read_csv(tmp_path / "round" / "pairs.csv", dtype=str).iloc[0]
    (tmp_path / "decisions.csv").write_text(
        f"mentee_id,mentor_id,decision\n{first.mentee_id},{first.mentor_id},accept\n")
    base = ["revise", "--pairs", str(tmp_path / "round" / "pairs.csv"), "--decisions",
            str(tmp_path / "decisions.csv"), *files, "--out", str(tmp_path / "rev")]
    bad = run(*base)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "\n\n" not in bad.stderr.strip()
    assert "weights" in bad.stderr and "--programme" in bad.stderr
    assert not (tmp_path / "rev").exists()
    ok = run(*base, "--programme", str(tmp_path / "p.toml"))
    assert ok.returncode == 0, ok.stderr
    assert (first.mentee_id, first.mentor_id) in set(zip(*pd.read_csv(
        tmp_path / "rev" / "pairs.csv", dtype=str)[["mentee_id", "mentor_id"]].T.values))


def test_every_option_of_every_command_says_what_it_is():
    """Regression (s34): `mentormatch demo --help` listed its five options with no word on
    any of them (their defaults included)."""
    import argparse

    from mentormatch.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [(name, a.option_strings[0]) for name, parser in sub.choices.items()
               for a in parser._actions if a.option_strings and a.help is None]
    assert sorted(sub.choices) == ["demo", "pair", "revise"] and missing == []
