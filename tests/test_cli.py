"""The command line as a user runs it: exit status, one paragraph, no traceback."""
import subprocess
import sys

import pandas as pd
import pytest


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mentormatch.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_demo_writes_files_whose_rows_add_up(tmp_path):
    out = tmp_path / "demo"
    p = run("demo", "--out", str(out))
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


def test_pair_on_csv_files_then_bad_input_exits_2_without_traceback(tmp_path):
    out = tmp_path / "demo"
    assert run("demo", "--out", str(out)).returncode == 0
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
