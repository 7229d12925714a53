"""Leximin (or max-min) on the scale path, whole pipeline: ``python
benchmarks/leximin_measure.py N M [LIMIT] [--objective maxmin] [--maxmin-cache DIR]``.

Prints one JSON record (status, wall and CPU seconds, peak RSS, a hash of the pairs, the
certificate without its levels) for a synthetic organisation of ``N`` mentees and ``M`` mentors
(seed 1), paired with ``{"fairness": {"objective": "leximin", "groups": ["gender"]},
"time_limit": LIMIT}`` (default 3600 s; ``--objective maxmin``: programme (c) of
benchmarks/programmes.py). The rounds of solvers/leximin_source.py log at DEBUG level on stderr.

``--maxmin-cache DIR``: for work on the rounds only, the max-min's result is read from (or, the
first time, written to) ``DIR/maxmin_N_M.pkl``; the figures then leave out the max-min's cost.
Never use it for the figures reported.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
import resource
import time

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers import bottleneck


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("limit", type=float, nargs="?", default=3600.0)
    ap.add_argument("--objective", choices=["leximin", "maxmin"], default="leximin")
    ap.add_argument("--maxmin-cache", default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mentormatch.solvers.leximin_source").setLevel(logging.DEBUG)
    if args.maxmin_cache:
        _cache_maxmin(os.path.join(args.maxmin_cache, f"maxmin_{args.n}_{args.m}.pkl"))
    mentors, mentees = synthetic.organisation(n_mentees=args.n, n_mentors=args.m, seed=1)
    t0, c0 = time.perf_counter(), time.process_time()
    r = pl.pair(mentors, mentees, {"fairness": {"objective": args.objective, "groups": ["gender"]},
                                   "time_limit": args.limit})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    cert = {k: v for k, v in r.certificate.items() if k not in ("levels", "levels_of_held")}
    pairs = r.pairs.sort_values(["mentee_id", "mentor_id"])[["mentee_id", "mentor_id"]]
    digest = hashlib.sha1(pairs.to_csv(index=False).encode()).hexdigest()[:12]
    print(json.dumps({"size": f"{args.n}x{args.m}", "objective_kind": args.objective,
                      "status": r.status, "wall": round(wall, 1), "cpu": round(cpu, 1),
                      "pairs": len(r.pairs),
                      "worst": float(r.pairs["score"].min()) if len(r.pairs) else None,
                      "objective": float(r.pairs["score"].sum()),
                      "pairs_sha1": digest,
                      "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "load": os.getloadavg(), "maxmin_cached": bool(args.maxmin_cache),
                      "certificate": cert}, default=str, indent=1))


def _cache_maxmin(path: str) -> None:
    run = bottleneck.solve_maxmin_scorer

    def cached(*a, **k):
        if os.path.exists(path):
            with open(path, "rb") as f:
                return pickle.load(f)
        out = run(*a, **k)
        with open(path, "wb") as f:
            pickle.dump(out, f)
        return out

    bottleneck.solve_maxmin_scorer = cached


if __name__ == "__main__":
    main()
