"""The shipped examples run as documented: examples/programme.toml on the demo's own CSVs."""
import subprocess
import sys
from pathlib import Path

import pandas as pd

from mentormatch.rules import Rules

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args):
    return subprocess.run([sys.executable, "-m", "mentormatch.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_example_programme_runs_on_the_demo_csvs(tmp_path):
    demo = tmp_path / "demo"
    assert run("demo", "--out", str(demo), "--mentees", "40", "--mentors", "12").returncode == 0
    programme = EXAMPLES / "programme.toml"
    rules = Rules.from_toml(programme)  # every key it sets is a known, well-typed setting
    assert rules.seed == 7 and rules.feature_settings("geography") == {"mode": "hybrid"}
    p = run("pair", "--mentors", str(demo / "mentors.csv"), "--mentees", str(demo / "mentees.csv"),
            "--out", str(tmp_path / "out"), "--programme", str(programme))
    assert p.returncode == 0, p.stderr
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype=str)
    unmatched = pd.read_csv(tmp_path / "out" / "unmatched.csv", dtype=str)
    mentees = pd.read_csv(demo / "mentees.csv", dtype=str)
    assert len(pairs) > 0
    assert sorted(set(pairs["mentee_id"]) | set(unmatched["mentee_id"])) == sorted(mentees["id"])
