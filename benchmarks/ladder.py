"""No performance cliffs (issue 23, part 6): ``assign()`` and ``pair()`` timed over a ladder of
sizes, each size in a fresh process, beside the fastest exact peer for ``assign()`` (lap.lapjv
on the capacity-expanded matrix, same matrix, same process). Time must not fall as the size
grows (within noise); a fall is marked in the table.

Both ``assign()`` and lap are timed by the wall clock and by the process's CPU time: on a shared
machine the wall clock also counts the time other processes held the cores, which hits a
0.3-second call and a 12-second call differently; the CPU ratio is the one the load moves least.

    python benchmarks/ladder.py --write BENCHMARKS.md

``assign()`` is timed twice over the ladder: on uniform scores, and on scores in
:data:`TIE_LEVELS` levels (many exact ties: the tie rule's second flows do the picking), each
its own table in the one section this script writes (``--scores`` runs one of them).

What is timed, and how it compares: lap's call is the expansion of the numpy matrix to one
column per place and ``lap.lapjv`` on it, indices out, nothing checked; ``assign()``'s is the
whole call on DataFrames (the input checks, the ids, the solve, its certificate and the tie
rule), its tables (``pairs``, ``unmatched`` with their reasons, ``contributions``) built on
their first read, which "CPU, tables read" adds. Both answer the same optimum ("same
objective"); only assign() proves it and decides between tied optima by the ids.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import time

from cells import status_cell

# How a call is timed (both clocks, the number of runs by size, the second call of each run)
# is timing.py's, shared with run.py's speed section, so that the two cannot disagree on method.
from timing import FEW_RUNS_CELLS, repeat, runs

ASSIGN_SIZES = [(200, 50), (500, 125), (1000, 250), (2000, 500), (5000, 1250), (10000, 2500)]
PAIR_SIZES = [(1000, 300), (3000, 1000), (10000, 3000), (20000, 5000), (50000, 10000)]
CAPACITY = 4
#: Above this many pairs lap.lapjv is timed once (about 12 s at 10,000 x 2,500), below it
#: the minimum of ``runs(n, m)`` runs is kept, as for assign().
LAP_ONCE = 10_000_000


#: A size whose time is below this share of the previous size's is marked as a fall.
NOISE = 0.9


#: ``--ties``: scores rounded down to this many levels (0, 1/4, 1/2, 3/4): integer-like ratings,
#: where many assignments share the optimum and the tie rule's second flow does the picking
TIE_LEVELS = 4


def _assign(n: int, m: int, out, ties: bool = False):
    """In a fresh process: ``assign()`` timed ``runs(n, m)`` times, each followed by a call with
    its tables read (``repeat``'s second call), then lap on the same matrix (:data:`LAP_ONCE`);
    the minimum of each, and both objectives (lap's recomputed on the scores)."""
    import numpy as np

    import mentormatch as mm
    from problems import assign_frames, check_assignment, uniform_problem  # make bench's problem
    from speed_workers import lap_call

    s, f = uniform_problem(n, m, 0)
    if ties:
        s = np.floor(s * TIE_LEVELS) / TIE_LEVELS
    _, _, scores, forbidden, capacity = assign_frames(s, f, CAPACITY)
    mm.assign(scores.iloc[:5, :3], capacity.iloc[:3]).pairs  # imports out of the timing
    # the result's tables are built on first read (matching.Deferred): the call with its
    # tables read, as a caller who looks at the pairs pays, is timed too
    t = repeat(lambda: mm.assign(scores, capacity, forbidden=forbidden), runs(n, m), math.inf,
               then=lambda: _read(mm.assign(scores, capacity, forbidden=forbidden)))
    call, pairs = lap_call(s, f, CAPACITY)
    lap = repeat(call, 1 if n * m * CAPACITY > LAP_ONCE else runs(n, m), math.inf)
    r = t.out
    out.put({"time": min(t.walls), "cpu": min(t.cpus), "read_cpu": min(t.then.cpus),
             "status": status_cell(r), "objective": r.objective,
             "lap": min(lap.walls), "lap_cpu": min(lap.cpus),
             "lap_objective": check_assignment(s, f, *pairs(lap.out), CAPACITY)["objective"]})


def _read(result):
    """Read every table of ``result`` (pairs, unmatched with its reasons, contributions)."""
    return len(result.pairs) + len(result.unmatched) + len(result.contributions)


def _pair(n: int, m: int, out):
    import mentormatch as mm

    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=1)
    t = time.perf_counter()
    r = mm.pair(mentors, mentees)
    out.put({"time": time.perf_counter() - t, "status": status_cell(r), "objective": r.objective,
             "pairs": len(r.pairs)})


def _measure(target, n, m, *more):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(n, m, q, *more))
    p.start()
    p.join(1800)
    if p.is_alive():
        p.kill()
        return {"time": None, "status": "killed after 30 min"}
    return q.get()


def _fall(times: list, t) -> str:
    prev = [x for x in times if x is not None]
    if t is None or not prev:
        return ""
    return "**falls**" if t < NOISE * prev[-1] else "no"


def _sizes(text: str) -> list[tuple[int, int]]:
    """``"200x50,10000x2500"`` -> ``[(200, 50), (10000, 2500)]``."""
    return [tuple(int(x) for x in size.split("x")) for size in text.split(",")]


def _assign_table(sizes, ties: bool) -> list[str]:
    """The table of ``assign()`` against lap over ``sizes``, on uniform scores or (``ties``)
    scores in :data:`TIE_LEVELS` levels, each row printed as it is measured."""
    scores = f"scores in {TIE_LEVELS} levels (ties)" if ties else "uniform scores"
    lines = [f"### assign(): capacity 4, {scores}, 1 % forbidden (min of 20 runs below "
             f"{FEW_RUNS_CELLS:,} pairs, of 3 above; lap once above {LAP_ONCE:,} expanded cells)", "",
             "| size | pairs | mentormatch assign(), wall | CPU | CPU, tables read | status | "
             "lap.lapjv, expanded, wall | CPU | lap / assign, wall | CPU | CPU, tables read | "
             "same objective | time falls? |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    times = []
    for n, m in sizes:
        r = _measure(_assign, n, m, ties)
        same = ("yes" if r.get("lap_objective") is not None
                and abs(r["lap_objective"] - r["objective"]) <= 1e-6 * max(1.0, abs(r["objective"]))
                else ("" if r.get("lap_objective") is None else "**no**"))
        line = (f"| {n:,} x {m:,} | {n * m:,} | {r['time'] * 1e3:,.1f} ms | {r['cpu'] * 1e3:,.1f} ms | "
                f"{r['read_cpu'] * 1e3:,.1f} ms | "
                f"{r['status']} | {r['lap'] * 1e3:,.1f} ms | {r['lap_cpu'] * 1e3:,.1f} ms | "
                f"{r['lap'] / r['time']:.2g}x | {r['lap_cpu'] / r['cpu']:.2g}x | "
                f"{r['lap_cpu'] / r['read_cpu']:.2g}x | {same} | {_fall(times, r['time'])} |")
        times.append(r["time"])
        lines.append(line)
        print(line, flush=True)
    return lines


#: ``--scores``: which assign() tables run (``--ties`` is ``--scores ties``)
SCORES = {"both": (False, True), "uniform": (False,), "ties": (True,)}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", help="replace this file's ladder section with the tables this run made")
    ap.add_argument("--skip-pair", action="store_true")
    ap.add_argument("--assign-sizes", type=_sizes, default=ASSIGN_SIZES,
                    help="e.g. 200x50,10000x2500 (default: the whole ladder)")
    ap.add_argument("--scores", choices=sorted(SCORES), default="both",
                    help=f"assign()'s tables: uniform scores, scores in {TIE_LEVELS} levels (many "
                         "exact ties), or both (the default: two tables)")
    ap.add_argument("--ties", action="store_const", const="ties", dest="scores",
                    help="the same as --scores ties")
    a = ap.parse_args(argv)
    lines = []
    for ties in SCORES[a.scores]:
        lines += ([""] if lines else []) + _assign_table(a.assign_sizes, ties)
    if not a.skip_pair:
        lines += ["", "### pair(): synthetic organisations, default features and rules (one run each)", "",
                  "| size | pairs | pair() | status | objective | time falls? |", "|---|---|---|---|---|---|"]
        print("\n".join(lines[-4:]), flush=True)
        times = []
        for n, m in PAIR_SIZES:
            r = _measure(_pair, n, m)
            t = r.get("time")
            line = (f"| {n:,} x {m:,} | {n * m:,} | {'' if t is None else f'{t:,.2f} s'} | "
                    f"{r['status']} | {r.get('objective', float('nan')):,.2f} | {_fall(times, t)} |")
            times.append(t)
            lines.append(line)
            print(line, flush=True)
    if a.write:
        write_section(a.write, lines)


BEGIN, END = "<!-- ladder: begin -->", "<!-- ladder: end -->"


def write_section(path, lines):
    import platform

    from sections import replace_section

    body = ["## No cliffs: time over a ladder of sizes", "",
            f"`python benchmarks/ladder.py --write BENCHMARKS.md` on {platform.node()} "
            f"({platform.processor() or platform.machine()}), {time.strftime('%Y-%m-%d')}. Each "
            f"size in a fresh process, glibc's mmap and trim thresholds fixed before the timed "
            f"calls (timing.steady_allocator); whole calls timed. A size whose time is below {NOISE:.0%} "
            "of the previous size's is marked as a fall (a cliff: a path that is slower at a "
            "smaller size). lap's time is the expansion of the numpy matrix (a column per place) "
            "and `lap.lapjv`, indices out; assign()'s the whole call on DataFrames (input "
            "checks, ids, the solve with its certificate and the tie rule), its tables built "
            "when first read (\"CPU, tables read\" adds that). With scores in "
            f"{TIE_LEVELS} levels many optima tie: lap returns any one, assign() the tie rule's.",
            "", *lines, ""]
    replace_section(path, BEGIN, END, body)


if __name__ == "__main__":
    main()
