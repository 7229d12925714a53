"""Programmes with side constraints at several sizes (issue 23's table): (a) a stipend budget of
80 % of the unconstrained optimum's stipend cost, (b) a share floor by region at the plain
optimum's mean matched share, (c) max-min by gender; (d) a score floor by region (each
region's mean score per member at least 0.97 of the overall mean); (e) balanced loads. Each is
timed as a whole ``pair()`` call, in its own process (peak memory of that process), beside
peers on the full model (every pair held, at any size): CP-SAT (the former default) and HiGHS
on every pair, both time-limited. A process past ``--memory-cap`` (8 GiB) is stopped and its
row says so: CP-SAT's full model at 3,000 x 1,500 (4.5 M pairs, programme (a)) peaked at
5.8 GiB.

    python benchmarks/programmes.py 500x150 3000x1500 20000x5000@300 --time-limit 60 \\
        --peers 500x150,3000x1500 --write BENCHMARKS.md

(``NxM@T``: that size with its own time limit of ``T`` seconds; ``--solvers cpsat``: one peer
alone, e.g. under ``/usr/bin/time -v`` to check its memory.)
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time


def _programme(kind: str, mentors, mentees):
    import mentormatch as mm

    plain = mm.pair(mentors, mentees)
    if kind == "a":
        mt = mentors.set_index("id")
        used = plain.pairs.groupby("mentor_id").size()
        cost = float((mt.loc[used.index, "stipend_fixed"]
                      + mt.loc[used.index, "stipend_per_mentee"] * used).sum())
        return {"constraints": {"budget": 0.8 * cost}}
    if kind == "b":
        share = len(plain.pairs["mentee_id"].unique()) / len(mentees)
        return {"fairness": {"share_floor": round(0.98 * share, 4), "floor_group": "region"}}
    if kind == "d":
        return {"fairness": {"score_floor": 0.97, "floor_group": "region"}}
    if kind == "e":
        return {"constraints": {"balanced_load": True}}
    return {"fairness": {"objective": "maxmin", "groups": ["gender"]}}


#: The certificate's figures printed under a row with ``--cert`` (the route's own, when it has them).
CERT_KEYS = ("method", "source", "primal", "flows", "flow_seconds", "lambda", "lambda_primal",
             "lagrangian_bound", "score_unit", "timed_out", "message")


#: Max-min's proof (programme (c)), lexicographic: the most pairs (``count_bound``), then the
#: best worst pair (``threshold_bound``), then the best total (``total_bound``, the ``bound``).
FAIR_KEYS = ("count_bound", "threshold_bound", "total_bound", "count_proven", "holds")


def status_cell(status: str, certificate: dict) -> str:
    """The table's status: "feasible (time limit)" when the time limit cut the answer short
    (``certificate["timed_out"]``), so that a loaded machine's answer is not read as the
    method's.

    >>> status_cell("feasible", {"timed_out": True}), status_cell("optimal", {})
    ('feasible (time limit)', 'optimal')
    """
    return f"{status} (time limit)" if certificate.get("timed_out") else status


#: The solvers of a row: ours, then the peers on the full model.
SOLVERS = ("mentormatch", "cpsat", "highs-full")


def _run(spec, out):
    import mentormatch as mm
    from mentormatch.solvers import relax, stage

    n, m, kind, peer, limit = spec
    if os.environ.get("PROGRAMMES_LOG"):  # e.g. mentormatch.solvers.lagrange: each flow's figures
        import logging
        logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
        logging.getLogger(os.environ["PROGRAMMES_LOG"]).setLevel(logging.DEBUG)
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=1)
    prog = _programme(kind, mentors, mentees)
    prog["time_limit"] = limit
    if peer != "mentormatch":  # the peers' model holds every pair, at any size (above
        import mentormatch.pipeline  # LARGE_PAIRS the scale path would answer instead)

        mentormatch.pipeline.LARGE_PAIRS = 10 ** 12
    if peer == "cpsat":
        prog["solver"] = "cpsat"
    if peer == "highs-full":
        from mentormatch.solvers import balanced, branch, scorefloors

        relax.FIRST_CANDIDATES = 10 ** 9  # every pair a candidate from the start,
        stage.MIP_MAX_COLUMNS = 10 ** 9  # and the MIP over all of them,
        branch.MAX_NODES = 0  # HiGHS alone: none of the engine's own branching,
        scorefloors.handles = balanced.handles = lambda *a: False  # nor its flows first
    t, cpu = time.perf_counter(), time.process_time()
    try:
        r = mm.pair(mentors, mentees, prog)
        row = {"status": status_cell(r.status, r.certificate), "objective": r.objective,
               "bound": r.bound, "gap": r.gap,
               "cert": {k: r.certificate.get(k) for k in CERT_KEYS if k in r.certificate}}
        if kind == "c":  # max-min: what its "optimal" rests on (FAIR_KEYS)
            row["fair"] = {k: r.certificate.get(k) for k in FAIR_KEYS}
            row["fair"]["worst"] = float(r.pairs["score"].min()) if len(r.pairs) else None
            row["fair"]["pairs"] = len(r.pairs)
    except Exception as e:  # a peer that fails is recorded, not hidden
        row = {"status": f"{type(e).__name__}: {str(e)[:160]}"}
    row.update(time=time.perf_counter() - t, cpu=time.process_time() - cpu,
               peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out.put(row)


def _rss_mib(pid: int) -> float:
    """The process's resident memory now, in MiB (Linux /proc; 0 once it has gone)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(n, m, kind, peer, limit, cap_mib=None):
    """One row, in a spawned process; a process whose memory passes ``cap_mib`` (sampled every
    0.2 s) is stopped and recorded as such, with the time and memory at which it was stopped."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=((n, m, kind, peer, limit), q))
    t = time.perf_counter()
    p.start()
    while p.is_alive() and time.perf_counter() - t < limit * 4 + 600:
        rss = _rss_mib(p.pid)
        if cap_mib and rss > cap_mib:
            p.kill()
            p.join()
            return {"status": f"stopped: over {cap_mib / 1024:g} GiB of memory after "
                              f"{time.perf_counter() - t:.0f} s", "time": None, "peak_mib": rss}
        p.join(0.2)
        if not q.empty():
            break
    if p.is_alive() and q.empty():
        p.kill()
        return {"status": "killed", "time": None}
    try:
        row = q.get(timeout=10)
    except Exception:  # the process ended without a row (killed by the system, say)
        row = {"status": f"ended without an answer (exit code {p.exitcode})", "time": None}
    p.join()
    return row


def _pct(gap):
    return "" if gap is None else f"{100 * gap:.3f} %"


def _load() -> str:
    """The machine's load averages (1, 5, 15 min): the machine may be shared, so rows say it."""
    return " ".join(open("/proc/loadavg").read().split()[:3])


def _fair_note(n, m, fair) -> str:
    """Programme (c)'s line under the table: what its "optimal" rests on."""
    if not fair:
        return ""
    g = lambda k: "n/a" if fair.get(k) is None else f"{fair[k]:,.4f}"
    most = fair.get("count_bound")
    return (f"(c) at {n:,} x {m:,}: {fair['pairs']:,} pairs, at most "
            f"{'n/a' if most is None else f'{most:,}'} "
            f"possible; worst pair {g('worst')}, at most {g('threshold_bound')} with that many "
            f"pairs; total {g('total_bound')} at most with both (count proven: "
            f"{fair.get('count_proven')}).")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="+", help="NxM, or NxM@T for that size's own time limit T s")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--peers", nargs="*", default=[], help="sizes (NxM, space or comma "
                    "separated) at which the peers run too, on programmes (a), (b), (d), (e)")
    ap.add_argument("--solvers", default=",".join(SOLVERS), help="which of the row's solvers "
                    "run (comma separated; e.g. --solvers cpsat to measure one peer alone)")
    ap.add_argument("--memory-cap", type=float, default=8.0, help="GiB: a process past it is "
                    "stopped and its row says so (0: no cap)")
    ap.add_argument("--kinds", default="abcde")
    ap.add_argument("--write", help="replace this file's programmes section with the table")
    ap.add_argument("--cert", action="store_true", help="print the certificate's figures "
                    "(CERT_KEYS) under each row")
    a = ap.parse_args(argv)
    peer_sizes = {size for arg in a.peers for size in arg.split(",") if size}
    chosen = a.solvers.split(",")
    cap = a.memory_cap * 1024 or None
    lines = ["| size | programme | solver | status | time (s) | objective | bound | gap | peak MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    notes, loads = [], [_load()]
    print(f"load {loads[0]}")
    for line in lines:
        print(line)
    for size in a.sizes:
        size, _, own_limit = size.partition("@")  # NxM@seconds: this size's own time limit
        limit = float(own_limit) if own_limit else a.time_limit
        n, m = map(int, size.split("x"))
        for kind in a.kinds:
            peers = SOLVERS if size in peer_sizes and kind in "abde" else SOLVERS[:1]
            for peer in (p for p in peers if p in chosen):
                r = measure(n, m, kind, peer, limit, cap)
                fmt = lambda v, d=2: "" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else str(v))
                line = (f"| {n:,} x {m:,} | ({kind}) | {peer} | {r['status']} | {fmt(r.get('time'))} | "
                        f"{fmt(r.get('objective'))} | {fmt(r.get('bound'))} | "
                        f"{_pct(r.get('gap'))} | "
                        f"{fmt(r.get('peak_mib'), 0)} |")
                lines.append(line)
                print(line, flush=True)
                if a.cert:
                    print(f"<!-- CPU {fmt(r.get('cpu'))} s; {r.get('cert')} -->", flush=True)
                if r.get("fair"):
                    notes.append(_fair_note(n, m, r["fair"]))
                    print(notes[-1], flush=True)
                said = (r.get("cert") or {}).get("message")
                if peer != "mentormatch" and said:  # whose answer a peer's row holds, and why
                    notes.append(f"({kind}) {peer} at {n:,} x {m:,}: {r['cert'].get('method')}: "
                                 f"{said}.")
                    print(notes[-1], flush=True)
        loads.append(_load())
        print(f"load {loads[-1]} (after {size})", flush=True)
    if a.write:
        write_section(a.write, lines, notes, loads, a)


BEGIN, END = "<!-- programmes: begin -->", "<!-- programmes: end -->"


def write_section(path, lines, notes, loads, args):
    """Replace (or append) the programmes section of BENCHMARKS.md, between its markers."""
    import platform

    from sections import replace_section

    body = ["## Programmes with side constraints (one engine at every size)", "",
            f"`python benchmarks/programmes.py {' '.join(args.sizes)} --time-limit {args.time_limit:g}"
            f"{' --peers ' + ','.join(args.peers) if args.peers else ''}` on {platform.node()} "
            f"({platform.processor() or platform.machine()}), {time.strftime('%Y-%m-%d')}. "
            "(a) budget at 80 % of the plain optimum's stipend cost; (b) a share floor per region "
            "at 98 % of the plain optimum's matched share (at 100 % the rounding up in each "
            "region needs more places than exist); (c) max-min by gender; (d) a score floor per region "
            "at 0.97 of the overall mean score per mentee; (e) balanced loads (active mentors' loads "
            "differ by at most one). Each row is one "
            "`pair()` in its own process, the whole call timed; peers on the full model with "
            "the same time limit (a size written NxM@T has its own limit of T s). Peak memory "
            "is that process's (a process past --memory-cap, 8 GiB, is stopped and its row says "
            "so). A status \"feasible (time limit)\" is an answer the time limit cut short "
            "(`certificate[\"timed_out\"]`): on a loaded machine, read it as the load's, not the "
            "method's. "
            f"Load averages (1, 5, 15 min) at the start and after each size: {'; '.join(loads)}.",
            "", "The peers hold every pair at every size (`pipeline.LARGE_PAIRS` raised in their "
            "process): 4.5 M pairs at 3,000 x 1,500. `--solvers cpsat` (or `highs-full`) runs "
            "one alone, e.g. under `/usr/bin/time -v` to check its memory first. A peer's answer "
            "that its time limit cut short may be the library's own fallback (the budget plan's "
            "flow, or the locks alone), not the peer's: the notes under the table name it. "
            "Programme (c), max-min, is lexicographic: the most pairs, then the best worst pair "
            "among them, then the best total; \"optimal\" rests on a bound for each, proven by "
            "certified flows over every pair (`certificate[\"count_bound\"]`, "
            "`[\"threshold_bound\"]` and `bound`); the notes give the three.",
            "", *lines, "", *(f"- {note}" for note in notes), ""]
    replace_section(path, BEGIN, END, body)


if __name__ == "__main__":
    main()
