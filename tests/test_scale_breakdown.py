"""``benchmarks/scale.py --breakdown``: the solve's work record carries each stage's CPU seconds
beside its wall seconds, and the table adds up to the call's own CPU time."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale  # noqa: E402

STAGES = ("before_first_pass", "first_pass", "waiting_for_sub_market", "flows", "prices", "checks")


def test_a_forced_scale_run_records_cpu_by_stage(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale.py"), "400x90:5", "--force-scale",
                           "--no-block-cost", "--breakdown", "--json", str(tmp_path / "rows.json")],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    (r,) = json.loads((tmp_path / "rows.json").read_text())
    assert r["status"] == "optimal" and r["cpu"] > 0
    work = r["work"]
    cpu = work["cpu"]
    assert set(STAGES) <= set(cpu) and all(cpu[k] >= 0 for k in STAGES)
    # the stages run inside the call, in its process: their CPU is part of the call's
    assert sum(cpu[k] for k in STAGES) <= r["cpu"] + 1e-6
    assert "| top level | flows |" in proc.stderr and "| pair() | whole call |" in proc.stderr
    rest = [x for x in proc.stderr.splitlines() if x.startswith("| pair() | rest of pair() |")]
    assert len(rest) == 1 and float(rest[0].split("|")[4]) >= 0
    # the tables' first read (the ranks over every eligible pair), after the call, apart
    assert r["tables_time"] >= 0 and r["tables_cpu"] >= 0
    assert sum(x.startswith("| result | tables' first read") for x in proc.stderr.splitlines()) == 1


def test_the_breakdown_names_each_level_and_the_rest():
    top = {"first_pass": 2.0, "flows": 3.0, "cpu": {"first_pass": 3.5, "flows": 2.9}}
    sub = {"flows": 4.0, "cpu": {"flows": 3.8}}
    inner = {"checks": 1.0, "cpu": {"checks": 1.5}}
    lines = scale.breakdown({"work": top, "sub_markets": [sub, inner], "time": 10.0, "cpu": 15.0})
    assert "| top level | first pass | 2.00 | 3.50 |" in lines
    assert "| sub-market (beside the first pass) | flows | 4.00 | 3.80 |" in lines
    assert "| inner sub-market | checks | 1.00 | 1.50 |" in lines
    # rest: the call less the top level's stages (wall); less the top level's and the child's CPU
    # (the inner sub-market ran inside the top level's "before first pass")
    assert "| pair() | rest of pair() | 5.00 | 4.80 |" in lines
    assert lines[-1] == "| pair() | whole call | 10.00 | 15.00 |"
    # three levels below the top (200,000 x 40,000): each named, the deeper ones numbered
    deep = scale.breakdown({"work": top, "sub_markets": [sub, inner, inner], "time": 10.0, "cpu": 15.0})
    assert "| inner sub-market 1 | checks | 1.00 | 1.50 |" in deep and "| inner sub-market 2 | checks | 1.00 | 1.50 |" in deep
    # without CPU records (an older solve): no CPU for the rest
    assert "| pair() | rest of pair() | 5.00 | - |" in scale.breakdown(
        {"work": {"first_pass": 2.0, "flows": 3.0}, "time": 10.0, "cpu": 15.0})
