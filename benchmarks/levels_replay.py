#!/usr/bin/env python
"""The unguided sub-markets on the path to the top level's first pass of ``pair()`` (the innermost
one and the inner one it guides: :func:`mentormatch.solvers.bounded.market._guides`), captured
once and solved again in-process, as ``outer_replay.py`` does for the outer one: each level's
rounds, CPU seconds and first flow, and how far its prices end from the captured run's.

    PYTHONPATH=src python benchmarks/levels_replay.py capture 200000x40000:5 /tmp/levels200
    PYTHONPATH=src python benchmarks/levels_replay.py replay /tmp/levels200 --log

``capture`` runs ``pair()`` on the synthetic organisation (seed 1, every capacity c) until the
inner sub-market has its prices (the outer one is not started), pickles the innermost and inner
markets and their prices (``levels.pkl``) and ends. ``replay`` solves the innermost level, then
the inner one guided by the replayed innermost prices (``--innermost-only``: the first alone),
and prints per level: CPU and wall seconds, rounds, the first flow's unfilled mentors (places
left) and rows short, the root mean square of the prices from the captured ones, and a digest.
With three levels (200,000 x 40,000, capacity 5) the innermost level is 1,600 mentees of
demand 25 on 40,000 mentors of 1 place, the inner one 8,000 mentees of demand 25 (5 places a
mentor); with two (100,000 x 20,000) the captured "innermost" is the inner level and there is
no second.

What s32h4 found with it (main 9ef0840, CPU seconds, load 3-10; scripts in the report):
- 200,000 x 40,000, innermost: 7 rounds, 6.5-7.1 s CPU (flows 4.6, checks 1.9). Its first flow
  leaves 9,125 of the 40,000 mentors without a taker (601 rows short): a maximum flow on its
  first sparse set reaches only 30,875 places. Its prices after rounds 1-6 are 3.19, 2.88, 2.71,
  1.73, 0.26 and 0.052 from its final ones (root mean square; mean 0.59 rising to 3.44), with
  20,541, 9,285, 2,828, 65, 1 and 1 mentors priced 0. The inner level: 3 rounds, 5.7 s
  (its first flow leaves 26 mentors and 9 rows short).
- The first set made to fill (``fill.py`` of branch s31h3 on the unguided level, 25 pairs a
  closed row, 6 passes: 93,500 pairs, 0.75-0.8 s CPU): the first flow fills all but 1 mentor,
  the prices run 0.95, 0.43, 0.14, 0.07, 0.03 from the final ones, but each check still adds
  ~50,000 pairs (each row's ``k`` most violating, not the float, bound the rounds): 6 rounds,
  5.8-7.0 s against 6.5-7.1; without the mentors' rows (``SUB_MARKET_MENTOR_ROWS`` 0) 5.8 s.
  Its prices (0.019 from main's) guiding the outer sub-market (``outer_replay.py``, the guide
  replaced): 4 rounds both, 34.6-36.5 s against 30.8-34.1 (alternated). At 100,000 x 20,000
  (inner level, 4,000 rows) the fill costs more than it saves: 4.8-5.0 s against 3.6.
- The level guided by its own round-1 or round-2 prices: 9 and 8 rounds. Flows on the arcs
  within 0.25-1 of tight under the last round's prices keep 80-100 % of the arcs (the markets'
  scores are dense near the optimum) and take as long.
- The outer sub-market (``outer_replay.py``'s capture) with its pass still ranked by the innermost
  prices but its first sparse set and potentials by the inner level's (0.042 from its final
  prices against 0.131): 4 rounds, the last a warm repair (285,895, 111,453, 28,437 added), 27.9
  and 28.3 s CPU against 31.9 and 33.0 (alternated, load 14-17). Its first set would then wait
  for the inner level (about 3 s after its pass): about 1 s less on the path, projected; not built.
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


def capture(size: str, folder: Path) -> None:
    import mentormatch as mm
    from mentormatch import synthetic
    from mentormatch.solvers.bounded import market
    from mentormatch.solvers.bounded.child import Child

    n, rest = size.split("x")
    m, c = rest.split(":")
    folder.mkdir(parents=True, exist_ok=True)
    original, levels = market._guide, {}

    def hooked(solve, sub, depth, given=None, deadline=None):
        out = original(solve, sub, depth, given, deadline)
        name = "innermost" if given is None else "inner"
        levels[name] = {"market": sub, "depth": depth, "prices": out[0]}
        if name == "inner" or market._market(sub.scorer, sub.cap, sub.dem) is None and depth == 1:
            with open(folder / "levels.pkl", "wb") as f:
                pickle.dump(levels, f, protocol=5)
            print(f"captured {sorted(levels)} in {folder}", flush=True)
            os._exit(0)
        return out

    market._guide = hooked
    market._beside = lambda *args: Child.done((None, None))  # (the outer one is not run)
    mentors, mentees = synthetic.organisation(n_mentees=int(n), n_mentors=int(m), seed=1)
    mentors["capacity"] = int(c)
    mm.pair(mentors, mentees, {"time_limit": 7200.0})
    print("no sub-market at this size")


def _level(solve, level: dict, given) -> tuple[tuple, dict]:
    """One level solved as :func:`market._guide` does: its (prices, info), and its facts (the
    first flow's among them)."""
    from mentormatch.solvers import rounds
    from mentormatch.solvers.bounded import market

    flow, first = rounds.solve_arrays, {}

    def first_flow(i, j, s, cap, dem, *args, **kwargs):
        res = flow(i, j, s, cap, dem, *args, **kwargs)
        if not first:
            used = np.asarray(res.chosen, bool)
            load = np.bincount(j[used], minlength=len(cap))
            first.update(pairs=len(i), unfilled_mentors=int((load < cap).sum()),
                         places_left=int((cap - load).clip(0).sum()),
                         short_rows=int((np.bincount(i[used], minlength=len(dem)) < dem).sum()))
        return res

    rounds.solve_arrays = first_flow
    try:
        t, c = time.perf_counter(), time.process_time()
        prices, info = market._guide(solve, level["market"], level["depth"], given, None)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        rounds.solve_arrays = flow
    was = np.asarray(level["prices"], np.float64)
    return (prices, info), {"wall": round(wall, 2), "cpu": round(cpu, 2), "rounds": info["rounds"], "first_flow": first,
                    "rms_from_captured": round(float(np.sqrt(np.mean((prices - was) ** 2))), 4),
                    "prices_sha": hashlib.sha256(np.round(prices, 9).tobytes()).hexdigest()[:12],
                    "work": info["work"]}


def replay(folder: Path, log: bool, innermost_only: bool) -> dict:
    import mentormatch.solvers.bounded as bounded

    if log:
        logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)8.0f %(message)s", stream=sys.stderr)
        logging.getLogger("mentormatch.solvers.bounded").setLevel(logging.DEBUG)
    with open(folder / "levels.pkl", "rb") as f:
        levels = pickle.load(f)
    guide, out = _level(bounded._solve, levels["innermost"], None)
    res = {"innermost": out}
    if "inner" in levels and not innermost_only:
        res["inner"] = _level(bounded._solve, levels["inner"], guide)[1]
    res["load"] = open("/proc/loadavg").read().split()[0]
    return res


def main(argv=None) -> int:
    from check_replay import capture_replay_parser  # (this folder's: run as a script)

    ap, _, b = capture_replay_parser(__doc__)
    b.add_argument("--log", action="store_true", help="the levels' rounds' log on stderr")
    b.add_argument("--innermost-only", action="store_true")
    args = ap.parse_args(argv)
    if args.what == "capture":
        capture(args.size, args.folder)
    else:
        print(json.dumps(replay(args.folder, args.log, args.innermost_only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
