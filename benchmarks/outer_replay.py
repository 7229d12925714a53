#!/usr/bin/env python
"""The sub-market that guides the top level of ``pair()`` (the outer one, solved beside the top
level's first pass in a forked child: :func:`mentormatch.solvers.bounded.market._guides`),
captured once and solved again in-process: to measure a change to its rounds, checks or settle
rule without a whole ``pair()`` (at 200,000 x 40,000 a ``pair()`` is 95 s CPU and 3.2 GiB; this
sub-market alone about 30 s CPU and 1.6 GiB).

    PYTHONPATH=src python benchmarks/outer_replay.py capture 200000x40000:5 /tmp/outer200.pkl
    PYTHONPATH=src python benchmarks/outer_replay.py replay /tmp/outer200.pkl --log

``capture`` runs ``pair()`` on the synthetic organisation (seed 1, every capacity c) until the
outer sub-market starts, pickles its market (scorer, places, demand) and the inner sub-market's
prices that guide it (about 430 MB at 200,000 x 40,000), and ends (the ``pair()`` is not
finished). ``replay`` solves it as the child does (:func:`~mentormatch.solvers.bounded.market._guide`)
and prints its CPU and wall seconds, rounds, each check's CPU seconds, bound pairs and
violators, the work record and a digest of its prices; ``--log`` shows its rounds' log.

What s30h2 found with it at 200,000 x 40,000 (4 rounds; checks 3.4-4.1 s CPU each): the first
flow leaves 3 mentors unfilled and 4 rows short (the places equal the demand), so those
mentors' prices are 0 and, through the chosen pairs, three whole cities' (1,761 mentors) fall
3.1 below the guide's (every other city within 0.1); the first check then returns 12 pairs a row
(464,115 added), and the pools it takes afresh at those prices leave the next two checks to
re-check 1.56e9 bound pairs each. The third flow's prices are within 0.0019 of the fourth's
(root mean square). Stopping it there (a settle share of 0.15 on this sub-market alone) cut its
checks from 11.8 to 7.5 s CPU, but with the top level's 150-sweep tatonnement (session 30) the
top level's first check then added 154,710 pairs and it took 4 rounds, against 43,082 and 3
rounds without (``pair()`` 90.5 s under load against 62.8 s quiet): not landed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np


def capture(size: str, out: Path) -> None:
    import mentormatch as mm
    from mentormatch import synthetic
    from mentormatch.solvers.bounded import market

    n, rest = size.split("x")
    m, c = rest.split(":")
    original = market._guide

    def hooked(solve, sub, depth, given=None, deadline=None):
        if given is not None and depth == 0:  # the outer sub-market of the top level (in the child)
            with open(out, "wb") as f:
                pickle.dump({"market": sub, "depth": depth, "given": given}, f, protocol=5)
            print(f"captured the outer sub-market ({sub.scorer.n} mentees) in {out}", flush=True)
            os._exit(0)  # (the parent then fails on the child's missing result: ended below)
        return original(solve, sub, depth, given, deadline)

    market._guide = hooked
    mentors, mentees = synthetic.organisation(n_mentees=int(n), n_mentors=int(m), seed=1)
    mentors["capacity"] = int(c)
    try:
        mm.pair(mentors, mentees, {"time_limit": 7200.0})
    except RuntimeError as err:
        if not out.exists():
            raise
        print(f"(pair() ended: {err})")
    else:
        print("no outer sub-market at this size (one level or none)")


def replay(path: Path, log: bool) -> dict:
    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers.bounded import check, market

    if log:
        logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)8.0f %(message)s", stream=sys.stderr)
        logging.getLogger("mentormatch.solvers.bounded").setLevel(logging.DEBUG)
    with open(path, "rb") as f:
        d = pickle.load(f)
    checks, original = [], check._Certifier.__call__

    def timed(self, *args, **kwargs):
        c, bound = time.process_time(), self.bound_pairs
        out = original(self, *args, **kwargs)
        checks.append({"cpu": round(time.process_time() - c, 3), "bound_pairs": self.bound_pairs - bound,
                       "violators": len(out[0].i)})
        return out

    check._Certifier.__call__ = timed
    try:
        t, c = time.perf_counter(), time.process_time()
        prices, info = market._guide(bounded._solve, d["market"], d["depth"], d["given"], None)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        check._Certifier.__call__ = original
    return {"wall": round(wall, 2), "cpu": round(cpu, 2), "rounds": info["rounds"], "checks": checks,
            "prices_sha": hashlib.sha256(np.round(prices, 9).tobytes()).hexdigest()[:12], "work": info["work"]}


def main(argv=None) -> int:
    from check_replay import capture_replay_parser  # (this folder's: run as a script)

    ap, _, b = capture_replay_parser(__doc__)  # (here "folder" is the capture's file)
    b.add_argument("--log", action="store_true", help="the sub-market's rounds' log on stderr")
    args = ap.parse_args(argv)
    if args.what == "capture":
        capture(args.size, args.folder)
    else:
        print(json.dumps(replay(args.folder, args.log)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
