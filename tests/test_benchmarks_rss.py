"""benchmarks/rss.py, the peak memory the benchmarks report: the tree's sampler counts a child's
pages, reads a process's resident memory as ``/proc/PID/status`` states it, and a worker that
reads its peaks early (``TreeRss.current().peaks()``, scale.py) reports those, not the larger
ones of what it did after."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import harness  # noqa: E402
from rss import TreeRss  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc (Linux)")
MB = 1024 * 1024


def _vmrss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_a_process_resident_memory_is_what_its_status_says():
    block = np.ones(40 * MB // 8)  # 40 MB written: resident
    assert abs(TreeRss._rss_kb(os.getpid()) - _vmrss_kb(os.getpid())) < 2048
    del block


def test_the_tree_counts_a_child_at_the_same_instant(tmp_path):
    ready = tmp_path / "ready"
    code = ("import numpy as np, pathlib, time, sys; a = np.ones(120 * 1024 * 1024 // 8); "
            f"pathlib.Path({str(ready)!r}).write_text('x'); time.sleep(1.5)")
    with TreeRss(interval=0.01) as tree:
        child = subprocess.Popen([sys.executable, "-c", code])
        while not ready.exists() and child.poll() is None:
            time.sleep(0.01)
        child_kb, own_kb = _vmrss_kb(child.pid), _vmrss_kb(os.getpid())  # while it holds the array
        time.sleep(0.2)
        child.wait()
    assert child_kb > 120 * 1024
    # the child's pages beside this process's, as one sum (a few MB of slack for the instants)
    assert tree.peak_kb >= child_kb + own_kb - 8 * 1024


def test_a_worker_that_reads_its_peaks_early_reports_those(capsys):
    def worker(spec):
        small = np.ones(10 * MB // 8)
        out = {"early": TreeRss.current().peaks()}
        out.update(out["early"])
        big = np.ones(300 * MB // 8)  # after the reading: no part of the peaks reported
        out["after_mb"] = TreeRss._rss_kb(os.getpid()) / 1024
        del small, big
        return out

    harness.worker_main({"w": worker}, json.dumps({"kind": "w"}))
    line = capsys.readouterr().out.strip().splitlines()[-1]
    out = json.loads(line[len(harness.MARK):])
    assert out["status_run"] == "ok" and TreeRss.running is None
    assert out["tree_peak_rss_mb"] == out["early"]["tree_peak_rss_mb"]
    assert out["after_mb"] > out["tree_peak_rss_mb"] + 250


def test_a_worker_that_does_not_gets_them_as_it_returns(capsys):
    def worker(spec):
        big = np.ones(200 * MB // 8)
        time.sleep(0.1)  # a few samples while it holds the array
        del big
        return {}

    harness.worker_main({"w": worker}, json.dumps({"kind": "w"}))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1][len(harness.MARK):])
    assert out["tree_peak_rss_mb"] > 200  # a sampler of its own: this process's history aside
