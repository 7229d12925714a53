#!/usr/bin/env python
"""Time and peak memory of ``mentormatch.assign`` on the benchmark instance of ``run.py``.

    python benchmarks/assign_profile.py                      # assign(flow) at 10,000 x 2,500, c=4
    python benchmarks/assign_profile.py --scipy              # also scipy's expanded Hungarian (~20 s)
    python benchmarks/assign_profile.py --profile            # also a cProfile of assign (top 25)
    python benchmarks/assign_profile.py --size 1000x250:4 --repeat 3
    python benchmarks/assign_profile.py --repeat 5 --src /tmp/old/src   # another checkout, interleaved

The instance is exactly the one of the "mentormatch assign(flow)" row of ``benchmarks/run.py``
(its ``uniform_problem`` and ``w_mm_assign`` / ``w_scipy`` workers are imported, not copied):
uniform random scores, 1% of pairs forbidden, the same capacity for every mentor, seed 1.
Each measurement runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its alone.
With ``--src DIR`` (the ``src`` directory of another checkout, e.g. the commit before a change)
the two are run alternately, so a busy machine slows both alike; compare the best times.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import problems  # noqa: E402  (the speed section's instances)
import speed_workers  # noqa: E402  (its workers)
from rss import peak_rss_mb  # noqa: E402

MARK = "@@PROFILE@@ "


def _profile(spec) -> dict:
    """cProfile of one assign() call on the benchmark instance (printed to stderr)."""
    import cProfile
    import pstats

    from mentormatch.pipeline import assign
    from mentormatch.solvers import get_solver

    n, m, c = spec["n"], spec["m"], spec["c"]
    s, f = problems.uniform_problem(n, m, spec["seed"])
    _, _, scores, forbidden, capacity = problems.assign_frames(s, f, c)
    get_solver("flow")
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    assign(scores, capacity, forbidden=forbidden, solver="flow")
    prof.disable()
    elapsed = time.perf_counter() - t
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    return {"time": elapsed}


WORKERS = {"assign": speed_workers.w_mm_assign, "scipy": speed_workers.w_scipy, "profile": _profile}


def worker(spec_json: str) -> int:
    spec = json.loads(spec_json)
    if spec.get("src"):  # before anything imports mentormatch
        sys.path.insert(0, spec["src"])
    out = WORKERS[spec["kind"]](spec)
    out["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write("\n" + MARK + json.dumps(out, default=float) + "\n")
    return 0


def measure(spec: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=spec.get("src") or str(ROOT / "src"))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
                          capture_output=True, text=True, env=env, cwd=str(ROOT))
    if spec["kind"] == "profile":
        sys.stderr.write(proc.stderr)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"worker failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="10000x2500:4", help="NxM:C (mentees x mentors : capacity)")
    p.add_argument("--seed", type=int, default=1, help="the seed run.py's speed section uses")
    p.add_argument("--repeat", type=int, default=1, help="assign() runs, each in a fresh process")
    p.add_argument("--scipy", action="store_true", help="also time scipy linear_sum_assignment (slow)")
    p.add_argument("--profile", action="store_true", help="also print a cProfile of assign()")
    p.add_argument("--src", help="also time the mentormatch under this src directory, alternately")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    (n, m, c, _), = problems.parse_sizes(args.size)
    base = {"n": n, "m": m, "c": c, "seed": args.seed}
    print(f"instance: {n:,} mentees x {m:,} mentors, capacity {c}, 1% forbidden, seed {args.seed}")
    trees = [("this tree", None)] + ([(args.src, str(Path(args.src).resolve()))] if args.src else [])
    times: dict[str, list[float]] = {}
    for r in range(args.repeat):
        for name, src in trees:
            out = measure(dict(base, kind="assign", src=src))
            times.setdefault(name, []).append(out["time"])
            print(f"assign(flow) [{name}]  time {out['time']:6.3f} s  (solver {out['solver_time']:.3f} s)  "
                  f"peak RSS {out['peak_rss_mb']:5.0f} MB  (before the call {out['rss_before_mb']:.0f} MB)  "
                  f"objective {out['objective']:.4f}  pairs {out['pairs']}  violations {out['violations']}",
                  flush=True)
    for name, ts in times.items():
        print(f"assign(flow) [{name}]  best {min(ts):.3f} s, median {sorted(ts)[len(ts) // 2]:.3f} s "
              f"over {len(ts)} runs")
    best = min(times["this tree"])
    if args.scipy:
        out = measure(dict(base, kind="scipy"))
        print(f"scipy expanded LSA   time {out['time']:7.3f} s  peak RSS {out['peak_rss_mb']:6.0f} MB  "
              f"objective {out['objective']:.4f}  pairs {out['pairs']}")
        print(f"speed-up: scipy / assign [this tree] (best) = {out['time'] / best:.1f}x")
    if args.profile:
        out = measure(dict(base, kind="profile"))
        print(f"profiled assign      time {out['time']:7.3f} s (with cProfile overhead)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
