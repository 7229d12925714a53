#!/usr/bin/env python
"""Benchmarks of mentormatch against random assignment and against its peers, in one run.

    python benchmarks/run.py --write BENCHMARKS.md          # the full run (BENCHMARKS.md: its minutes)
    python benchmarks/run.py --smoke --write /tmp/b.md       # tiny sizes, seconds (used by the tests)
    python benchmarks/run.py --sizes 200x50:4,1000x250:4     # choose the speed sizes
    python benchmarks/run.py --sections speed --write BENCHMARKS.md   # refresh section 2 alone

Sections of the report:

1. Quality on synthetic organisations: optimal (``mm.pair``) vs random (>= 20 seeds) vs greedy vs
   stable; score distribution, share matched, share with a top-3 mentor, group fairness.
2. Speed and peak memory of solving on uniform random score matrices (mentees x mentors, capacity
   c, 1% forbidden) vs scipy, a naive dense OR-Tools min-cost flow, networkx and ``matching``.
3. The closest domain peer, ``mentor-match`` 7.0.1 (three rounds of pure-Python Munkres), on the
   same people and the same score matrix, vs mentormatch's joint exact solve.
4. A log-log plot of solve time against problem size.
5. ``mm.pair`` end to end at 100,000 x 20,000 on people (all six features), with the
   certificate and a seeded random assignment for the lift.

Every measurement runs in its own subprocess (``--worker``, ``harness.py``), so peak memory
(``ru_maxrss``) is that measurement's alone and a timeout or crash is recorded, never silently
dropped. Section 2 times mentormatch and every peer alike, as ``ladder.py`` does (``timing.py``:
warm, repeated, min and median, wall and CPU); the headline's lines are drawn from the sections'
own figures.

This file is the driver: the options, which sections run, the report written. Each section is a
module of its own (``run_quality.py``, ``run_speed.py`` with ``speed_workers.py`` and
``run_scoring.py``, ``run_mentor_match.py``, ``run_scale.py``): its measurements, the loop that
runs them, its Markdown and its headline lines; ``report.py`` puts the blocks together.

Each section, and the headline's lines drawn from it, is a marked block of BENCHMARKS.md
stamped with the run that measured it (date, git commit, minutes, load): ``--sections speed``
measures and rewrites that section alone, in place, so that the speed figures can be refreshed
on new code in a few minutes without the whole run (BENCHMARKS.md's first paragraph states how
long the last one took).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the section modules, report, sections, timing: beside this file

import run_mentor_match  # noqa: E402
import run_quality  # noqa: E402
import run_scale  # noqa: E402
import run_scoring  # noqa: E402
import run_speed  # noqa: E402
import speed_workers  # noqa: E402
from harness import log, machine, ram_bytes, worker_main  # noqa: E402
from problems import parse_sizes  # noqa: E402
from report import SECTIONS, plot, report_blocks, write_report  # noqa: E402

#: Every measurement a worker process runs, by its ``kind``.
WORKERS = {**speed_workers.WORKERS, **run_scoring.WORKERS, **run_quality.WORKERS,
           **run_mentor_match.WORKERS, **run_scale.WORKERS}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--write", metavar="PATH", help="write the Markdown report here")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks the harness runs")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"which sections to measure and write, of {','.join(SECTIONS)} (default: all, "
                        "the whole report); e.g. --sections speed refreshes section 2 and its headline "
                        "lines in the file --write names, leaving the rest as it was")
    p.add_argument("--sizes", help="speed sizes, e.g. 200x50:4,1000x250:4 (mentees x mentors : capacity)")
    p.add_argument("--quality-sizes", help="mentee counts for section 1, e.g. 100,1000,10000")
    p.add_argument("--mentor-match-sizes", help="N for section 3, e.g. 100,1000")
    p.add_argument("--seeds", type=int, help="random-assignment seeds (default 20; smoke 3)")
    p.add_argument("--timeout", type=float, help="seconds per speed measurement (default 90)")
    p.add_argument("--mentor-match-timeout", type=float, default=480,
                   help="seconds for one mentor-match run (default 480)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(WORKERS, args.worker)
    selected = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(selected) - set(SECTIONS))
    if unknown:
        p.error(f"--sections: unknown {', '.join(unknown)}; the sections are {', '.join(SECTIONS)}")
    started = time.perf_counter()
    smoke = args.smoke
    speed_sizes = parse_sizes(args.sizes or ("30x10:3,60x20:3,200x50:3/10" if smoke else
                                             "200x50:4,1000x250:4,2000x500:4,10000x2500:4,"
                                             "100000x20000:5,100000x20000:5/50"))
    q_sizes = [int(x) for x in (args.quality_sizes or ("60" if smoke else "100,1000,10000")).split(",")]
    mm_sizes = [int(x) for x in (args.mentor_match_sizes or ("20" if smoke else "100,1000")).split(",")]
    seeds = args.seeds or (3 if smoke else 20)
    args.timeout = args.timeout or (60 if smoke else 90)
    info = machine()
    log(f"machine: {info}")
    mem = int(0.85 * ram_bytes())

    measure_section = {  # each section's measurements, as the rows its Markdown reads
        "quality": lambda: {"quality": run_quality.run(q_sizes, seeds, smoke, mem)},
        "speed": lambda: {"speed": run_speed.run(speed_sizes, args.timeout, budget=1.0 if smoke else None),
                          "scoring": run_scoring.run(q_sizes, mem), "timeout": args.timeout},
        "mentor_match": lambda: {"mentor_match": run_mentor_match.run(mm_sizes, smoke,
                                                                      args.mentor_match_timeout)},
        "scale": lambda: {"scale": run_scale.run(smoke, mem)},
    }

    rows, runs = {}, {}
    for name in SECTIONS:
        if name in selected:
            t, load = time.perf_counter(), os.getloadavg()[0]
            date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
            rows.update(measure_section[name]())
            runs[name] = {"date": date, "minutes": (time.perf_counter() - t) / 60,
                          "load": (load, os.getloadavg()[0])}

    if args.write:
        out = Path(args.write).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        plot_name = None
        if "speed" in rows and "mentor_match" in rows:
            png = out.parent / "time_vs_size.png" if smoke else HERE / "time_vs_size.png"
            if plot(rows["speed"], rows["mentor_match"], png):
                plot_name = os.path.relpath(png, out.parent)
        command = "benchmarks/run.py" + (" --smoke" if smoke else "") + (
            f" --sections {','.join(selected)}" if set(selected) != set(SECTIONS) else "")
        write_report(out, report_blocks(rows, runs, info, command, plot_name),
                     (time.perf_counter() - started) / 60)
        if smoke:
            out.with_suffix(".json").write_text(json.dumps(
                {"machine": info, **{k: v for k, v in rows.items() if k != "timeout"}}, default=str))
        log(f"wrote {out}")
    else:
        print(json.dumps(rows, default=str)[:5000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
