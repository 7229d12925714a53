#!/usr/bin/env python
"""Time and peak memory of ``mentormatch.assign`` on the benchmark instance of ``run.py``.

    python benchmarks/assign_profile.py                      # assign(flow) at 10,000 x 2,500, c=4
    python benchmarks/assign_profile.py --scipy              # also scipy's expanded Hungarian (~20 s)
    python benchmarks/assign_profile.py --profile            # also a cProfile of assign (top 25)
    python benchmarks/assign_profile.py --size 1000x250:4 --repeat 3
    python benchmarks/assign_profile.py --repeat 5 --src /tmp/old/src   # another checkout, interleaved

The instance is exactly the one of the "mentormatch assign(flow)" row of the speed section of
``benchmarks/run.py`` (``problems.uniform_problem`` and the section's workers,
``speed_workers.w_mm_assign`` / ``w_scipy``, are imported, not copied): uniform random scores,
1% of pairs forbidden, the same capacity for every mentor, seed 1. ``assign()``'s time is the
speed section's minimum over its repeated warm calls in that process (``timing.py``).
Each measurement runs in its own subprocess, on the benchmarks' harness (``harness.measure``, this
script's ``--worker``), so its peak RSS (``ru_maxrss``, read as the worker returns) is its alone;
as in run.py's row, the harness's memory sampler runs beside the timed calls (``rss.TreeRss``).
With ``--src DIR`` (the ``src`` directory of another checkout, e.g. the commit before a change)
the two are run alternately, so a busy machine slows both alike; compare the best times.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "src"))

import problems  # noqa: E402  (the speed section's instances)
import speed_workers  # noqa: E402  (its workers)
from harness import measure as run_worker, worker_main  # noqa: E402


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


def _from_src(work):
    """``work`` run on the mentormatch under ``spec["src"]`` when the spec names one: that
    directory first on ``sys.path`` before anything imports mentormatch."""
    def run(spec):
        if spec.get("src"):
            sys.path.insert(0, spec["src"])
        return work(spec)
    return run


WORKERS = {"assign": _from_src(speed_workers.w_mm_assign), "scipy": speed_workers.w_scipy, "profile": _profile}


def measure(spec: dict) -> dict:
    """One measurement in its own process (the profile's printout on this process's stderr)."""
    out = run_worker(spec, script=Path(__file__).resolve(), show_stderr=spec["kind"] == "profile")
    if out["status_run"] != "ok":
        raise RuntimeError(f"worker failed: {out.get('trace') or out['error']}")
    return out


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
        return worker_main(WORKERS, args.worker)
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
