"""pair_many: many programmes paired one after the other against on a Dask LocalCluster.

Instances: ``--programmes`` synthetic organisations (``mm.synthetic.organisation``, seeds 0, 1,
...) of ``--mentees`` x ``--mentors`` with the default programme. Generation is not timed.

* ``sequential``  ``mm.pair_many(jobs)`` in this process
* ``cluster``     ``mm.pair_many(jobs, client.get_executor())`` on a
                  ``distributed.LocalCluster(n_workers=--workers, processes=True,
                  threads_per_worker=1)``; its start and a warm-up job that imports the library
                  on every worker are timed apart. The timed run includes shipping the tables to
                  the workers and the results back (about 41 MB a result at 5,000 x 1,500).
                  The workers run without Dask's ``MALLOC_TRIM_THRESHOLD_=65536``
                  (``--dask-malloc-trim`` keeps it), which costs these jobs about 40 % more CPU.

The two runs' results are checked to be identical (pairs, unmatched, objective, status). The
ratio is sequential time / cluster time. On a shared machine the figures move with the other
load: the 1-minute load average is printed before each run, and the CPU seconds of each run
(this process; the workers) give an estimate that does not depend on the other load: sequential
CPU time / (the workers' CPU time / workers).

Measured (2-core machine shared with four other engineers' jobs, load average 3-8,
``python benchmarks/batch.py --quiet``, 16 programmes of 5,000 x 1,500, results identical)::

    run                       sequential           cluster (2 workers)   ratio  CPU estimate
    Dask's malloc trim kept   157.8 s (CPU 84.0 s)  309.0 s (CPU 163.3 s)  0.51x  1.03x
    without it (the default)   86.8 s (CPU 78.9 s)   97.3 s (CPU 98.8 s)   0.89x  1.60x

The cluster got about one core's worth of CPU (98.8 + 5.2 s over 97.3 s) while the other jobs
held the second: the wall-time ratio measures the machine's load more than pair_many; the CPU
estimate is what two free cores would give.

Usage::

    python benchmarks/batch.py                                  # 16 programmes of 5,000 x 1,500
    python benchmarks/batch.py --quiet --write BENCHMARKS.md    # and its section of the file
    python benchmarks/batch.py --programmes 4 --mentees 1000 --mentors 300
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import pandas as pd  # noqa: E402

import mentormatch as mm  # noqa: E402


def identical(a: mm.Matching, b: mm.Matching) -> bool:
    try:
        pd.testing.assert_frame_equal(a.pairs, b.pairs)
        pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    except AssertionError:
        return False
    return (a.objective, a.status) == (b.objective, b.status)


def _cpu() -> float:
    """CPU seconds (user + system) this process has used, its threads included."""
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _silence() -> None:
    """On a worker: the solver's progress bars (stderr) to nowhere."""
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the worker's lifetime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programmes", type=int, default=16)
    ap.add_argument("--mentees", type=int, default=5000)
    ap.add_argument("--mentors", type=int, default=1500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quiet", action="store_true", help="hide the solver's own progress bars")
    ap.add_argument("--dask-malloc-trim", action="store_true",
                    help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 on the workers")
    ap.add_argument("--write", metavar="PATH", help="also write the figures into this file's "
                    "pair_many section (BENCHMARKS.md)")
    args = ap.parse_args(argv)

    import dask
    from distributed import Client, LocalCluster

    if not args.dask_malloc_trim:
        # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (memory back to the OS
        # early): a 5,000 x 1,500 pairing then takes about 40 % more CPU (8.1-8.8 s against
        # 5.4-6.0 s for the same job, measured in a Dask task with and without it)
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})

    jobs = []
    for seed in range(args.programmes):
        mentors, mentees = mm.synthetic.organisation(n_mentees=args.mentees, n_mentors=args.mentors,
                                                     seed=seed)
        jobs.append((mentors, mentees, None))
    print(f"{args.programmes} programmes of {args.mentees:,} x {args.mentors:,} "
          f"({args.mentees * args.mentors:,} pairs each); {os.cpu_count()} cores", flush=True)

    quiet = contextlib.redirect_stderr(io.StringIO()) if args.quiet else contextlib.nullcontext()
    load_seq = os.getloadavg()[0]
    print(f"load average before sequential: {load_seq:.2f}", flush=True)
    t0, c0 = time.perf_counter(), _cpu()
    with quiet:
        sequential = mm.pair_many(jobs, progress=False)
    t_seq, c_seq = time.perf_counter() - t0, _cpu() - c0
    print(f"sequential       {t_seq:8.2f} s  ({t_seq / args.programmes:.2f} s a programme), "
          f"CPU {c_seq:.1f} s", flush=True)

    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = jobs[0][0].iloc[:8], jobs[0][1].iloc[:8]
        client.run(lambda: __import__("mentormatch.pipeline"))  # import on every worker
        if args.quiet:
            client.run(_silence)
        mm.pair_many([(warm[0], warm[1], None)] * args.workers, client.get_executor(), progress=False)
        t_warm = time.perf_counter() - t0
        print(f"cluster start    {t_start:8.2f} s, warm-up {t_warm:.2f} s "
              f"({args.workers} worker processes, 1 thread each)", flush=True)
        load_cluster = os.getloadavg()[0]
        print(f"load average before cluster: {load_cluster:.2f}", flush=True)
        c0 = sum(client.run(_cpu).values())
        t0, p0 = time.perf_counter(), _cpu()
        on_cluster = mm.pair_many(jobs, client.get_executor(), progress=False)
        t_cluster, c_here = time.perf_counter() - t0, _cpu() - p0
        c_cluster = sum(client.run(_cpu).values()) - c0
    print(f"cluster          {t_cluster:8.2f} s  ({t_cluster / args.programmes:.2f} s a programme), "
          f"CPU {c_cluster:.1f} s on the workers + {c_here:.1f} s here")
    # With each worker on a core of its own the cluster's time would be about its CPU time over
    # the workers; this estimate leaves out the other jobs sharing the machine.
    print(f"estimate on an otherwise idle machine (CPU time, sequential / per worker): "
          f"{c_seq / (c_cluster / args.workers):.2f}x")
    failed = [r.key for r in sequential + on_cluster if not r.ok]
    same = not failed and all(identical(a.matching, b.matching) for a, b in zip(sequential, on_cluster))
    print(f"ratio sequential / cluster: {t_seq / t_cluster:.2f}x; results identical: {same}"
          + (f"; failed jobs: {failed}" if failed else ""))
    if args.write:
        _write(args, Path(args.write), (t_seq, c_seq, load_seq),
               (t_cluster, c_cluster, c_here, load_cluster, t_start, t_warm), same)
    return 0 if same else 1


def _write(args, path: Path, seq, clu, same: bool) -> None:
    """The pair_many section of BENCHMARKS.md: the two runs, the ratio and the CPU estimate."""
    import platform

    from sections import replace_section

    t_seq, c_seq, load_seq = seq
    t_clu, c_clu, c_here, load_clu, t_start, t_warm = clu
    body = [
        "## pair_many: many programmes, sequential and on a Dask LocalCluster",
        "",
        f"`python benchmarks/batch.py --quiet --write {path.name}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.programmes} synthetic "
        f"organisations (seeds 0 to {args.programmes - 1}) of {args.mentees:,} x {args.mentors:,} "
        "with the default programme. *sequential*: `mm.pair_many(jobs)` in one process; "
        f"*cluster*: `mm.pair_many(jobs, client.get_executor())` on a `LocalCluster` of "
        f"{args.workers} worker processes, 1 thread each (its start, {t_start:.1f} s, and a "
        f"warm-up job, {t_warm:.1f} s, not timed; shipping the tables and results is). CPU: this "
        "process's user + system seconds, and the workers'. The results of the two runs are "
        f"compared pair by pair: **{'identical' if same else 'NOT identical'}**.",
        "",
        "| run | wall | CPU | load average before |",
        "|---|---|---|---|",
        f"| sequential | {t_seq:.1f} s ({t_seq / args.programmes:.2f} s a programme) | "
        f"{c_seq:.1f} s | {load_seq:.2f} |",
        f"| cluster ({args.workers} workers) | {t_clu:.1f} s ({t_clu / args.programmes:.2f} s a "
        f"programme) | {c_clu:.1f} s on the workers + {c_here:.1f} s here | {load_clu:.2f} |",
        "",
        f"Ratio sequential / cluster: **{t_seq / t_clu:.2f}x** in wall time; from CPU time "
        f"(sequential CPU over the workers' CPU per worker, what {args.workers} otherwise idle "
        f"cores give): {c_seq / (c_clu / args.workers):.2f}x.",
    ]
    replace_section(path, "<!-- batch: begin -->", "<!-- batch: end -->", body)


if __name__ == "__main__":
    raise SystemExit(main())
