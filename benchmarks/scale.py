"""``mm.pair`` at scale: the whole call's time and the process tree's peak memory, where the
time goes (the bounded solve's ``certificate["work"]``), the measured cost of one block of the
bound pass and of exact scores, and from those a projection to a larger size on ``w`` workers.

    python benchmarks/scale.py 100000x20000:5 200000x40000:5 --project 1000000x200000:5 \\
        --write BENCHMARKS.md

Each size runs in its own subprocess, on the benchmarks' harness (``harness.measure``, this
script's ``--worker``; ``--workers W``: its block passes on a Dask LocalCluster of W worker
processes, counted in the tree's memory). Its peaks are read as ``pair()`` and the cluster are
done, before the cost of a block (a second ``prepare``) is measured in the same process. The
projection is a model, stated as one:

    T(w) = serial + blocks / w

``blocks`` = the bound pairs every pass of the solve computes (the first pass, the sub-markets'
passes, the certificate's rows scanned in full and mentor re-checks), in blocks of a million,
times the measured single-core cost of a block at the target's width, plus the exact scores
(pairs x measured cost a pair); ``serial`` = everything else of the measured run (flows, prices,
validation, features, merges), scaled from the largest measured size by the mentees (the flows
work on about ``k`` pairs a mentee) to the power measured between the two sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from cells import certified_status, pairs_digest, status_cell  # noqa: E402
from harness import measure, use_src, worker_main  # noqa: E402
from problems import force_scale_path, organisation  # noqa: E402
from rss import TreeRss  # noqa: E402

#: the programme's time limit for each call: far above any size measured, so every figure is of a
#: run to its certificate (the default, 60 s, would stop 200,000 x 40,000 part-way)
TIME_LIMIT = 7200.0
BEGIN, END = "<!-- scale: begin -->", "<!-- scale: end -->"


def _levels(info, seen=None):
    """The work records of a solve's sub-markets, at every level, each once (a level's record
    may come twice: from this process and, pickled, from the child that ran the level above)."""
    seen = [] if seen is None else seen
    if isinstance(info, dict):
        if isinstance(info.get("work"), dict) and all(info["work"] != w for w in seen):
            seen.append(info["work"])
        for key in ("pools_ranked_by", "first_prices"):
            _levels(info.get(key), seen)
    return seen


def block_cost(scorer, tasks: int = 6, pool: int = 64, mentor_k: int = 12) -> dict:
    """Single-core seconds a million bound pairs of a first pass (the bounds, each row's pool,
    each mentor's best rows), as an executor's task computes them: ``tasks`` chunks of
    ``remote.BLOCKS_PER_TASK`` consecutive blocks of the pass (:func:`passes._pass_blocks`),
    spread over the rows, each with its own mentor state as a task has."""
    import numpy as np

    from mentormatch.solvers.bounded import passes, remote

    blocks = passes._pass_blocks(scorer.n, scorer.m)
    chunks = remote.chunks(blocks)
    picked = chunks[::max(1, len(chunks) // tasks)][:tasks]
    e = np.zeros(0, np.int64)
    q = passes._ScanSpec(np.zeros(scorer.m, np.float32), e, e, e, e, None, None, min(pool, scorer.m), mentor_k, False)
    total, pairs = 0.0, 0
    for chunk in picked:
        c0, c1 = chunk[0][0], chunk[-1][1]
        part = scorer.bounds_rows(c0, c1)
        t = time.perf_counter()
        passes.scan_task(part, scorer.right_t, q, [(a - c0, b - c0) for a, b in chunk], scorer.m)
        total += time.perf_counter() - t
        pairs += (c1 - c0) * scorer.m
    return {"seconds_per_million_pairs": total / pairs * 1e6, "tasks_timed": len(picked),
            "rows_per_block": blocks[0][1] - blocks[0][0] if blocks else 0, "blocks_per_task": remote.BLOCKS_PER_TASK}


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children waited for."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


STAGES = ("before_first_pass", "first_pass", "waiting_for_sub_market", "first_sparse", "first_prices_adjusted",
          "flows", "prices", "checks", "ties")


def breakdown(r: dict) -> list[str]:
    """Where a measured call's time went, by stage and level, wall and CPU seconds (the solve's
    ``work`` records: ``cpu`` is the CPU time of the process the level ran in, every thread's).
    The top level's *before first pass* holds the inner sub-markets (solved there first); its
    *waiting* is the wait for the sub-market's child after the first pass; the sub-market's own
    stages ran in that child beside the first pass. *rest of pair()*: validation, features,
    bound models, the contributions (the call's time less the top level's stages); *tables'
    first read*: after the call, the result's tables (built on their first read: the ranks over
    every eligible pair, the unmatched mentees' reasons)."""
    subs = r.get("sub_markets") or []
    names = ["sub-market (beside the first pass)"] + (
        ["inner sub-market"] if len(subs) == 2 else [f"inner sub-market {k}" for k in range(1, len(subs))])
    levels = [("top level", r.get("work") or {})] + list(zip(names, subs))
    lines = ["| level | stage | wall s | CPU s |", "|---|---|---|---|"]
    for name, w in levels:
        cpu = w.get("cpu") or {}
        for stage in STAGES:
            if stage in w or stage in cpu:
                lines.append(f"| {name} | {stage.replace('_', ' ')} | {float(w.get(stage, 0.0)):.2f} | "
                             + (f"{float(cpu[stage]):.2f} |" if stage in cpu else "- |"))
    top = levels[0][1]
    wall_in = sum(float(top.get(k, 0.0)) for k in STAGES)
    # the CPU of the top level's process, and of the sub-market's child beside the first pass
    # (the inner sub-market ran in the top level's process, inside its "before first pass")
    cpu_in = sum(float(w.get("cpu", {}).get(k, 0.0)) for _, w in levels[:2] for k in STAGES)
    if "time" in r:
        rest_cpu = f"{r['cpu'] - cpu_in:.2f}" if "cpu" in r and "cpu" in top else "-"
        lines.append(f"| pair() | rest of pair() | {r['time'] - wall_in:.2f} | {rest_cpu} |")
        lines.append(f"| pair() | whole call | {r['time']:.2f} | " + (f"{r['cpu']:.2f} |" if "cpu" in r else "- |"))
    if "tables_time" in r:
        lines.append(f"| result | tables' first read (ranks, reasons) | {r['tables_time']:.2f} | {r['tables_cpu']:.2f} |")
    return lines


def worker(spec: dict) -> dict:
    """One ``pair()`` call at ``spec``'s size, timed whole, its work records and peak memory
    (read at its end, the cluster closed: ``TreeRss.peaks``); then, with ``block_cost``, the
    single-core cost of a block and of an exact score."""
    use_src()
    if spec.get("verbose"):
        import logging

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    import numpy as np

    import mentormatch as mm
    from mentormatch.solvers.bounded import remote

    if spec.get("force_scale"):  # smoke: the scale path on a small organisation
        force_scale_path()
    out = {}
    with TreeRss.current() as tree:  # the harness's sampler (a new one when called in-process)
        cluster = client = None
        if spec.get("workers"):
            import distributed

            cluster = distributed.LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=40)
            client = distributed.Client(cluster)
            remote.EXECUTOR = client.get_executor()
        t = time.perf_counter()
        mentors, mentees = organisation(spec["n"], spec["m"], spec["c"], spec["seed"])
        out["generate_time"] = time.perf_counter() - t
        t, cpu, load = time.perf_counter(), _cpu_seconds(), os.getloadavg()[0]
        result = mm.pair(mentors, mentees, {"time_limit": TIME_LIMIT})  # certified, not cut short
        out["time"] = time.perf_counter() - t
        out["cpu"] = _cpu_seconds() - cpu  # this process and its reaped children (the sub-market's)
        out["load_before"], out["load_after"] = load, os.getloadavg()[0]
        # the result's tables are built on their first read (the ranks over every eligible
        # pair, the unmatched mentees' reasons): timed apart, as a caller reading the pairs pays it
        t, cpu = time.perf_counter(), _cpu_seconds()
        len(result.pairs)
        out["tables_time"], out["tables_cpu"] = time.perf_counter() - t, _cpu_seconds() - cpu
        cert = result.certificate or {}
        out.update(status=status_cell(result), objective=float(result.objective), bound=result.bound,
                   gap=result.gap, holds=cert.get("holds"), method=cert.get("method"),
                   rounds=cert.get("rounds"), pairs_scored_exactly=cert.get("pairs_scored_exactly"),
                   pairs_in_sparse=cert.get("pairs_in_sparse"), matched=int(len(result.pairs)),
                   pairs_sha256=pairs_digest(result.pairs),
                   work=cert.get("work"), sub_markets=_levels(cert.get("first_prices")),
                   first_prices_seconds=(cert.get("first_prices") or {}).get("seconds"))
        if client is not None:
            client.close()
            cluster.close()
    out.update(tree.peaks())  # read now: the cost of a block below is no part of pair()'s peak
    if spec.get("block_cost"):  # after the measurement: the cost of a block on one core
        import mentormatch.pipeline as pl

        prepared = pl.prepare(mentors, mentees)
        out["block_cost"] = _one_core_block_cost(prepared.scorer)
        exact = prepared.scorer
        rng = np.random.default_rng(0)
        i, j = rng.integers(0, exact.n, 400_000), rng.integers(0, exact.m, 400_000)
        ok = np.ones(len(i), bool)
        t = time.perf_counter()
        exact.exact_scores(i[ok], j[ok])
        out["exact_seconds_per_pair"] = (time.perf_counter() - t) / len(i)
    return out


def _one_core_block_cost(scorer) -> dict:
    """:func:`block_cost` with BLAS on one thread (a task of the executor's has one core)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return block_cost(scorer)


def w_block_cost(spec: dict) -> dict:
    """The single-core cost of a block on a bounded scorer of ``spec``'s width (no solve)."""
    use_src()
    import mentormatch.pipeline as pl

    force_scale_path()  # a bounded scorer at any size
    mentors, mentees = organisation(spec["n"], spec["m"], spec["c"], spec["seed"])
    return _one_core_block_cost(pl.prepare(mentors, mentees).scorer)


#: the measurements this script's ``--worker`` runs, by their ``kind``
WORKERS = {"pair": worker, "block cost": w_block_cost}
SCRIPT = Path(__file__).resolve()


def parse(text: str) -> tuple[int, int, int]:
    size, _, c = text.partition(":")
    n, m = size.lower().split("x")
    return int(n), int(m), int(c or 5)


def bound_pairs(r: dict) -> int:
    """Every bound pair the measured solve computed, over all levels."""
    works = [r["work"]] + list(r.get("sub_markets") or [])
    return int(sum(w.get("first_pass_pairs", 0) + w.get("check_bound_pairs", 0) for w in works if w))


def _flows(r: dict) -> float:
    """Seconds in flows and prices over all levels (the serial core of the solve)."""
    works = [r["work"]] + list(r.get("sub_markets") or [])
    return float(sum(w.get("flows", 0.0) + w.get("prices", 0.0) for w in works if w))


def project(rows: list[dict], target: tuple[int, int, int], cost: dict, workers: list[int]) -> list[str]:
    """The model of the module text, from the measured rows (the largest two):

    - block passes: bound pairs per pair (the largest run's, all levels) x the target's pairs, at
      the single-core cost of a block measured at the target's width; on ``w`` workers, / w;
    - exact scores: pairs scored exactly per mentee (the largest run's) x mentees x the measured
      cost of a pair; / w;
    - flows and prices (all levels; serial, one core): the largest run's, scaled by the mentees to
      the power measured between the two largest runs (at least 1);
    - the rest of the call (validation, features, bound models, merges, contributions, reasons):
      the largest run's, scaled by the mentees (linear)."""
    import math

    ok = [r for r in rows if r.get("status_run") == "ok" and r.get("work") and not r.get("workers")]
    if not ok:
        return ["*no measured row to project from*"]
    ok.sort(key=lambda r: r["n"] * r["m"])
    n, m, c = target
    big = ok[-1]
    per_block = cost["seconds_per_million_pairs"]
    share = bound_pairs(big) / (big["n"] * big["m"])
    blocks = share * n * m / 1e6 * per_block
    exact_pairs = (big.get("pairs_scored_exactly") or 0) / big["n"] * n
    t_exact = exact_pairs * big["exact_seconds_per_pair"]
    power = 1.0
    if len(ok) >= 2 and _flows(ok[-2]) > 0 and ok[-2]["n"] != big["n"]:
        power = max(1.0, math.log(_flows(big) / _flows(ok[-2])) / math.log(big["n"] / ok[-2]["n"]))
    flows = _flows(big) * (n / big["n"]) ** power
    w0 = big["work"]
    inside = sum(w0.get(k, 0.0) for k in STAGES)
    rest_big = max(0.0, big["time"] - inside)
    rest = rest_big * n / big["n"]
    lines = [f"Projection to {n:,} x {m:,} (c={c}), a model from the measured runs (not a measurement): "
             f"bound pairs computed {share:.2f} per pair at {big['n']:,} x {big['m']:,} (all passes and levels) "
             f"-> {share * n * m / 1e6:,.0f} blocks of a million at {per_block * 1e3:.2f} ms each on one core "
             f"(measured at width {m:,}); exact scores {exact_pairs:,.0f} pairs at "
             f"{big['exact_seconds_per_pair'] * 1e6:.2f} us; flows and prices {_flows(big):.1f} s at "
             f"{big['n']:,} mentees, scaled by mentees^{power:.2f} -> {flows:,.0f} s (one core, not "
             f"distributed); the rest of the call {rest_big:.1f} s, scaled by mentees -> {rest:,.0f} s.", "",
             "| workers (cores) | block passes | exact scores | flows and prices | rest | projected total |",
             "|---|---|---|---|---|---|"]
    for w in workers:
        total = flows + rest + (blocks + t_exact) / w
        lines.append(f"| {w} | {blocks / w / 60:,.1f} min | {t_exact / w / 60:,.1f} min | {flows / 60:,.1f} min "
                     f"| {rest / 60:,.1f} min | **{total / 60:,.1f} min** |")
    return lines


def fmt_row(r: dict) -> str:
    label = f"{r['n']:,} x {r['m']:,} (c={r['c']})" + (f", {r['workers']} Dask workers" if r.get("workers") else "")
    if r.get("status_run") != "ok":
        return f"| {label} | *{r.get('error')}* |" + " |" * 7
    w = r["work"] or {}
    sub = r.get("first_prices_seconds")
    return (f"| {label} | {certified_status(r)} | **{r['time']:.1f} s** | "
            f"{r['tree_peak_rss_mb'] / 1024:.2f} GiB | {sub if sub is not None else '-'} s | "
            f"{w.get('first_pass', 0):.1f} s | {w.get('flows', 0):.1f} s + {w.get('prices', 0):.1f} s | "
            f"{w.get('checks', 0):.1f} s | {r['rounds']} | {bound_pairs(r):,} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sizes", nargs="*", default=["100000x20000:5", "200000x40000:5"])
    p.add_argument("--workers", type=int, default=0, help="Dask LocalCluster worker processes (0: none)")
    p.add_argument("--project", help="project to this size, e.g. 1000000x200000:5")
    p.add_argument("--project-workers", default="1,2,8,32,128")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--no-block-cost", action="store_true", help="skip the cost of a block (a second prepare)")
    p.add_argument("--verbose", action="store_true", help="the solve's log on stderr")
    p.add_argument("--breakdown", action="store_true", help="wall and CPU seconds by stage and level, on stderr")
    p.add_argument("--force-scale", action="store_true", help="the scale path at any size (smoke tests)")
    p.add_argument("--write", metavar="PATH")
    p.add_argument("--json", metavar="PATH", help="also write the measured rows here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(WORKERS, args.worker)
    rows = []
    for text in args.sizes:
        n, m, c = parse(text)
        spec = {"kind": "pair", "n": n, "m": m, "c": c, "seed": 1, "workers": args.workers, "verbose": args.verbose,
                "force_scale": args.force_scale,
                "block_cost": not (args.workers or args.no_block_cost)}
        print(f"[scale] {n} x {m} (c={c}) ...", file=sys.stderr, flush=True)
        r = {"n": n, "m": m, "c": c, "workers": args.workers,
             **measure(spec, args.timeout, script=SCRIPT, show_stderr=args.verbose)}
        print(json.dumps({k: v for k, v in r.items() if k != "sub_markets"}, default=str), file=sys.stderr, flush=True)
        if args.breakdown and r.get("status_run") == "ok":
            print("\n".join(breakdown(r)), file=sys.stderr, flush=True)
        rows.append(r)
    lines = [f"`python benchmarks/scale.py {' '.join(args.sizes)}"
             + (f" --workers {args.workers}" if args.workers else "")
             + (f" --project {args.project}" if args.project else "") + "`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores (shared: other work ran "
             "on the machine, so times are upper bounds). One `mm.pair(mentors, mentees)` call per row in its own "
             "process (synthetic organisation, seed 1, every capacity c, default rules), timed whole; peak memory "
             "is the process tree's resident memory at one instant (the sub-market's forked child, or the Dask "
             "workers, included). *sub-market* = first prices (beside the first pass); *first pass* = its wall "
             "time; *flows + prices* and *checks* over all rounds; *bound pairs* = every bound computed by "
             "every pass at every level.", "",
             "| size | status | pair() | peak memory | sub-market | first pass | flows + prices | checks | rounds "
             "| bound pairs |", "|" + "---|" * 10]
    lines += [fmt_row(r) for r in rows]
    costed = [r for r in rows if r.get("block_cost")]
    if costed:
        lines += ["", "Measured cost on one core: " + "; ".join(
            f"{r['n']:,} x {r['m']:,}: a block of a million bound pairs {r['block_cost']['seconds_per_million_pairs'] * 1e3:.2f} ms "
            f"({r['block_cost']['rows_per_block']} rows), an exact score {r['exact_seconds_per_pair'] * 1e6:.2f} us"
            for r in costed) + "."]
    if args.project and costed:
        n, m, c = parse(args.project)
        # the cost of a block at the target's width: measured on a scorer of that width
        spec = {"n": min(8_000, n), "m": m, "c": c, "seed": 1}
        print(f"[scale] block cost at width {m} ...", file=sys.stderr, flush=True)
        cost = measure_cost(spec, args.timeout)
        lines += [""] + project(rows, (n, m, c), cost, [int(w) for w in args.project_workers.split(",")])
    text = "\n".join(lines)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, default=float))
    if args.write:
        from sections import replace_section

        replace_section(args.write, BEGIN, END, ["## pair() at scale: time, memory, cost per block, projection", "",
                                                 *lines])
    return 0


def measure_cost(spec: dict, timeout: float) -> dict:
    """The single-core cost of a block on a scorer of ``spec``'s width (no solve), in its own
    process."""
    out = measure(dict(spec, kind="block cost"), timeout, script=SCRIPT)
    if out["status_run"] != "ok":
        raise RuntimeError(out.get("trace") or out["error"])
    return out


if __name__ == "__main__":
    sys.exit(main())
