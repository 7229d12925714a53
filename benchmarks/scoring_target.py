"""The issue's scoring target: exact scoring of 30M pairs with the six default features within
2x of a plain numpy pass that computes the same arithmetic on lookup tables of the distinct values.

Two spans, timed alike from the same start (``run_scoring.scoring_inputs``: after the synthetic
organisation is made; the default rules, validation, the complete pair set and the feature
context included):

* ``score_totals``   ``mentormatch.scoring_totals.score_totals`` (the total of each pair, what
                     the solvers read)
* ``numpy on tables``  ``run_scoring.w_scoring_reference``: the six features' arithmetic on lookup tables
                     of the distinct values, one whole-array gather per feature, the weighted total

Each run is a fresh process (the benchmarks' harness: ``harness.measure``, this script's
``--worker``, as for ``run.py``'s scoring table; its memory sampler's CPU, ``rss.TreeRss``, is in
both spans alike); the two alternate (``--repeats`` times each) and the ratio is of
the best of each, in wall and in CPU (user + system seconds of the span, this process's). The
1-minute load average is printed before each run. A check at ``--check`` size (1,000 x 303 by
default) compares both totals with ``score_pairs`` (largest absolute difference).

Usage::

    python benchmarks/scoring_target.py                           # 10,000 x 3,030 = 30.3M pairs
    python benchmarks/scoring_target.py --write BENCHMARKS.md     # and its section of the file
    python benchmarks/scoring_target.py --size 2000x606 --repeats 1
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import measure as run_worker, use_src, worker_main  # noqa: E402

SCRIPT = Path(__file__).resolve()
BEGIN, END = "<!-- scoring_target: begin -->", "<!-- scoring_target: end -->"
KINDS = ("score_totals", "numpy on tables")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _span_start_cpu() -> list[float]:
    """The CPU seconds at the span's start, recorded when the synthetic organisation is made
    (``run_scoring.scoring_inputs`` starts its clock right after): a one-item list, filled then."""
    from mentormatch import synthetic

    start: list[float] = []
    make = synthetic.organisation

    def organisation(*args, **kwargs):
        out = make(*args, **kwargs)
        start.append(_cpu())
        return out

    synthetic.organisation = organisation
    return start


def w_reference(spec: dict) -> dict:
    """The span of ``numpy on tables`` in this process."""
    import run_scoring

    use_src()
    start = _span_start_cpu()
    out = run_scoring.w_scoring_reference(dict(spec, seed=1))
    out["cpu"] = _cpu() - start[0]
    return out


def w_score_totals(spec: dict) -> dict:
    """The span of ``score_totals`` in this process; with ``check``, its largest difference
    from ``score_pairs``'s totals."""
    import run_scoring

    use_src()
    start = _span_start_cpu()
    spec, check = dict(spec, seed=1), spec["check"]
    from mentormatch.scoring import score_pairs
    from mentormatch.scoring_totals import score_totals

    rules, mentors, mentees, complete, context, t, t_valid, _ = run_scoring.scoring_inputs(spec)
    t_pass = time.perf_counter()
    total = score_totals(mentees, mentors, complete, rules, context)
    end = time.perf_counter()
    out = {"time": end - t, "pass_time": end - t_pass, "validate_time": t_valid,
           "cpu": _cpu() - start[0], "pairs": int(len(complete))}
    if check:
        out["max_abs_diff_total"] = float(abs(score_pairs(mentees, mentors, complete, rules, context).total
                                              - total).max())
    return out


#: the spans this script's ``--worker`` times, by their ``kind`` (one of :data:`KINDS`)
WORKERS = {"score_totals": w_score_totals, "numpy on tables": w_reference}


def measure(kind: str, n: int, m: int, check: bool = False) -> dict:
    """One span in a fresh process of this checkout (the benchmarks' harness, this script's
    ``--worker``; its ``src`` first on the path)."""
    out = run_worker({"kind": kind, "n": n, "m": m, "check": check}, script=SCRIPT)
    if out["status_run"] != "ok":
        raise RuntimeError(f"{kind} at {n} x {m} failed: {out.get('trace') or out['error']}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="10000x3030", help="mentees x mentors (default 10000x3030)")
    p.add_argument("--repeats", type=int, default=2, help="runs of each span, alternated (default 2)")
    p.add_argument("--check", default="1000x303", help="size of the check against score_pairs")
    p.add_argument("--write", metavar="PATH", help="write the section into this Markdown file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(WORKERS, args.worker)
    n, m = (int(x) for x in args.size.split("x"))
    cn, cm = (int(x) for x in args.check.split("x"))
    checks = {kind: measure(kind, cn, cm, check=True)["max_abs_diff_total"] for kind in KINDS}
    print(f"check at {cn:,} x {cm:,}: largest |total - score_pairs total|: "
          + ", ".join(f"{k} {v:.3g}" for k, v in checks.items()), flush=True)
    runs: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for _ in range(args.repeats):
        for kind in KINDS:
            load = os.getloadavg()[0]
            r = measure(kind, n, m)
            r["load"] = load
            runs[kind].append(r)
            print(f"{kind}: {r['time']:.2f} s wall, {r['cpu']:.2f} s CPU (load {load:.2f} before)", flush=True)
    best = {kind: (min(r["time"] for r in rs), min(r["cpu"] for r in rs)) for kind, rs in runs.items()}
    ratio = (best["score_totals"][0] / best["numpy on tables"][0],
             best["score_totals"][1] / best["numpy on tables"][1])
    print(f"ratio score_totals / numpy on tables: {ratio[0]:.2f}x wall, {ratio[1]:.2f}x CPU", flush=True)
    if args.write:
        write_section(args.write, n, m, runs, best, ratio, checks, (cn, cm), args.repeats)
    return 0


def write_section(path, n, m, runs, best, ratio, checks, check_size, repeats) -> None:
    import platform

    from sections import replace_section

    rows = [f"| {kind} | " + " | ".join(f"{r['time']:.2f} s / {r['cpu']:.2f} s (load {r['load']:.1f})"
                                        for r in rs) + " |" for kind, rs in runs.items()]
    body = [
        f"## The issue's scoring target: exact scores of {n * m / 1e6:.1f}M pairs against numpy on "
        "lookup tables", "",
        f"`python benchmarks/scoring_target.py --write {Path(path).name}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: the synthetic organisation of "
        f"{n:,} mentees x {m:,} mentors ({n * m:,} pairs), default rules, the six default features. "
        "Both spans run from the same start (validation, the complete pair set and the feature "
        "context included) in fresh processes, alternated: *score_totals* is the exact total of "
        "every pair (what the solvers read); *numpy on tables* the same arithmetic in plain numpy on "
        "lookup tables of the distinct values, one whole-array gather per feature, then the weighted "
        "total (`run_scoring.w_scoring_reference`). Cells: wall / CPU (user + system) seconds and the "
        "1-minute load average before the run; the machine is shared, so walls are upper bounds. "
        f"Check at {check_size[0]:,} x {check_size[1]:,}: largest |total - `score_pairs` total| "
        + ", ".join(f"{k} {v:.3g}" for k, v in checks.items()) + ".", "",
        "| span | " + " | ".join(f"run {k + 1}" for k in range(repeats)) + " |",
        "|---" * (repeats + 1) + "|", *rows, "",
        f"Target: within 2x of the numpy pass. **score_totals / numpy on tables: {ratio[0]:.2f}x "
        f"in wall time, {ratio[1]:.2f}x in CPU time** (best run of each: "
        f"{best['score_totals'][0]:.2f} s against {best['numpy on tables'][0]:.2f} s wall).", ""]
    replace_section(path, BEGIN, END, body)


if __name__ == "__main__":
    raise SystemExit(main())
