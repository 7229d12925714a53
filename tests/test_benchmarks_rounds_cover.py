"""benchmarks/rounds.py with ``--coverage-first`` (s18h5): the rules' coverage_first reaches the
programme, each round reports its CPU time, and the certified flow's rounds and warm repairs are
read from wherever the certificate holds them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import rounds as bench  # noqa: E402


def test_the_flow_rounds_are_found_nested():
    cert = {"method": "x", "inner": [1], "sub": {"rounds": 5, "warm_repairs": [{"round": 4}, {"round": 5}],
                                                 "work": {"flows": 1.5}}}
    assert bench._flow_rounds(cert) == {"flow_rounds": 5, "repaired": 2, "flow_seconds": 1.5}
    assert bench._flow_rounds({"rounds": 2}) == {} and bench._flow_rounds(None) == {}


def test_rounds_with_coverage_first_smoke(monkeypatch):
    """Two tiny rounds with coverage_first, no bonuses: the programme runs with the rules'
    coverage_first (and without it by default), every mentee is paired or unmatched, and each
    round has its CPU time; the command line prints it."""
    import mentormatch.programme as programme

    seen = []

    class Recorded(programme.Programme):
        def __init__(self, rules=None, *args, **kwargs):
            super().__init__(rules, *args, **kwargs)
            seen.append(bool(self.rules.constraints["coverage_first"]))

    monkeypatch.setattr(programme, "Programme", Recorded)
    rows = bench.rounds(120, 30, 2, seed=1, bonuses=False, coverage_first=True)
    bench.rounds(120, 30, 1, seed=1, bonuses=False)
    assert seen == [True, False]
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    for r in rows:
        assert r["cpu"] > 0 and r["carried"] + r["new_pairs"] + r["unmatched"] == r["mentees"]
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "rounds.py"), "--mentees", "120",
                           "--mentors", "30", "--rounds", "1", "--coverage-first", "--no-bonuses"],
                          capture_output=True, text=True, timeout=180, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "coverage_first" in proc.stdout and " cpu " in proc.stdout and "optimal" in proc.stdout
