"""Programmes with side constraints at several sizes (issue 23's table): (a) a stipend budget of
80 % of the unconstrained optimum's stipend cost, (b) a share floor by region at the plain
optimum's mean matched share, (c) max-min by gender; (d) a score floor by region (each
region's mean score per member at least 0.97 of the overall mean); (e) balanced loads. Each is
timed as a whole ``pair()`` call, in its own process (peak memory of that process), beside
peers on the full model: CP-SAT (the former default) and HiGHS on every pair, both
time-limited.

    python benchmarks/programmes.py 500x150 3000x1500 20000x5000@300 --time-limit 60 --peers 500x150

(``NxM@T``: that size with its own time limit of ``T`` seconds.)
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
        row = {"status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
               "cert": {k: r.certificate.get(k) for k in CERT_KEYS if k in r.certificate}}
    except Exception as e:  # a peer that fails is recorded, not hidden
        row = {"status": f"{type(e).__name__}: {str(e)[:160]}"}
    row.update(time=time.perf_counter() - t, cpu=time.process_time() - cpu,
               peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out.put(row)


def measure(n, m, kind, peer, limit):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=((n, m, kind, peer, limit), q))
    p.start()
    p.join(limit * 4 + 600)
    if p.is_alive():
        p.kill()
        return {"status": "killed", "time": None}
    return q.get()


def _pct(gap):
    return "" if gap is None else f"{100 * gap:.3f} %"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="+")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--peers", nargs="*", default=[])
    ap.add_argument("--kinds", default="abcde")
    ap.add_argument("--write", help="replace this file's programmes section with the table")
    ap.add_argument("--cert", action="store_true", help="print the certificate's figures "
                    "(CERT_KEYS) under each row")
    a = ap.parse_args(argv)
    lines = ["| size | programme | solver | status | time (s) | objective | bound | gap | peak MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        print(line)
    for size in a.sizes:
        size, _, own_limit = size.partition("@")  # NxM@seconds: this size's own time limit
        limit = float(own_limit) if own_limit else a.time_limit
        n, m = map(int, size.split("x"))
        for kind in a.kinds:
            peers = ["mentormatch"] + ([p for p in ("cpsat", "highs-full")] if size in a.peers and kind in "abde" else [])
            for peer in peers:
                r = measure(n, m, kind, peer, limit)
                fmt = lambda v, d=2: "" if v is None else (f"{v:,.{d}f}" if isinstance(v, float) else str(v))
                line = (f"| {n:,} x {m:,} | ({kind}) | {peer} | {r['status']} | {fmt(r.get('time'))} | "
                        f"{fmt(r.get('objective'))} | {fmt(r.get('bound'))} | "
                        f"{_pct(r.get('gap'))} | "
                        f"{fmt(r.get('peak_mib'), 0)} |")
                lines.append(line)
                print(line, flush=True)
                if a.cert:
                    print(f"<!-- CPU {fmt(r.get('cpu'))} s; {r.get('cert')} -->", flush=True)
    if a.write:
        write_section(a.write, lines, a)


BEGIN, END = "<!-- programmes: begin -->", "<!-- programmes: end -->"


def write_section(path, lines, args):
    """Replace (or append) the programmes section of BENCHMARKS.md, between its markers."""
    import platform

    from sections import replace_section

    body = ["## Programmes with side constraints (one engine at every size)", "",
            f"`python benchmarks/programmes.py {' '.join(args.sizes)} --time-limit {args.time_limit:g}"
            f"{' --peers ' + ' '.join(args.peers) if args.peers else ''}` on {platform.node()} "
            f"({platform.processor() or platform.machine()}), {time.strftime('%Y-%m-%d')}. "
            "(a) budget at 80 % of the plain optimum's stipend cost; (b) a share floor per region "
            "at 98 % of the plain optimum's matched share (at 100 % the rounding up in each "
            "region needs more places than exist); (c) max-min by gender; (d) a score floor per region "
            "at 0.97 of the overall mean score per mentee; (e) balanced loads (active mentors' loads "
            "differ by at most one). Each row is one "
            "`pair()` in its own process, the whole call timed; peers on the full model with "
            "the same time limit (a size written NxM@T has its own limit of T s). Peak memory "
            "is that process's.", "", *lines, ""]
    replace_section(path, BEGIN, END, body)


if __name__ == "__main__":
    main()
