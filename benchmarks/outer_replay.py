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
violators, the work record and a digest of its prices; ``--log`` shows its rounds' log; and
``first_flow``: what its first flow filled (mentors and places left, rows short), the most a
flow on its first sparse set could match (an OR-Tools maximum flow) with the rows short of a
way out and the mentors they reach, and how far its first prices floated from the guide's
(``p - guide`` less its median, the checker's frame shift: root mean square, mentors off by 1).

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

What s31h3 found (a new capture, main f5a64b3: the outer guided by the innermost prices; 4
rounds, 32.0-32.8 s CPU, checks 7.9-8.4 s; round 1 adds 313,920 pairs): the first sparse set
can match at most 199,477 of the 200,000 places (2,897 rows, with the 2,500 mentors they reach,
have every pair among themselves, and their pools next to none outside), so the first flow
leaves 163 mentors and 236 rows short and every other price floats 2.97 below the guide's but
for a few cities (0.871 root mean square about that shift). Made to fill (each of those rows
given its 2 best pairs to the mentors that reach room: 6,218 pairs, a flow of 199,995, as the
optimum's), the first prices are the guide's less 0.036 and 0.121 from the final ones (root
mean square), yet round 1 added 380,437 pairs and the sub-market took 5 rounds and 43.8 s CPU:
the float is not what makes round 1 add 12 pairs a row (the guide's own error, 0.119 from the
final prices, leaves ~300,000 pairs violated outside the first set either way). The code is on
branch ``s31h3-fill`` (``mentormatch.solvers.bounded.fill``), not merged. The same capture
with its guide replaced (one replay each, load 8-15): by the sub-market's own final prices, the
first set fills (199,995), round 1 adds 94,676 pairs, round 2 14,783, round 3 is a repair of 97
violators: 3 rounds, 16.9 s CPU (what a better guide could buy); half-way to them (0.06 root
mean square), 4 rounds (323,477, 118,696, 19,686 added, then a repair of 218), 29.5 s; with the
final prices' mean per city alone (0.095 of the 0.119), 5 rounds, 40.4 s; with the rest alone
(within each city, 0.072), 6 rounds, 47.9 s.
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


def closed_rows(i, j, used, cap, dem) -> tuple[int, int]:
    """The rows and mentors that the rows short in the maximum flow ``used`` reach by
    alternating paths (an unused pair to a mentor, a used one back to a row): every pair of
    those rows goes to those mentors, all full, so only a pair out of them lets them fill."""
    from mentormatch.pairs import run_positions

    n, m = len(dem), len(cap)
    free = np.flatnonzero(~used)
    out = free[np.argsort(i[free], kind="stable")]
    out_at = np.searchsorted(i[out], np.arange(n + 1))
    took = np.flatnonzero(used)
    took = took[np.argsort(j[took], kind="stable")]
    took_at = np.searchsorted(j[took], np.arange(m + 1))
    rows, mentors = np.zeros(n, bool), np.zeros(m, bool)
    front = np.flatnonzero(np.bincount(i[used], minlength=n) < dem)
    rows[front] = True
    while len(front):
        js = np.unique(j[out[run_positions(out_at[front], out_at[front + 1] - out_at[front])]])
        js = js[~mentors[js]]
        mentors[js] = True
        rs = np.unique(i[took[run_positions(took_at[js], took_at[js + 1] - took_at[js])]])
        front = rs[~rows[rs]]
        rows[front] = True
    return int(rows.sum()), int(mentors.sum())


def first_flow_facts(first: dict, guide: np.ndarray) -> dict:
    """What the first flow filled and how far its prices floated from the guide's: mentors and
    places left unfilled, rows short, the most a flow on the first sparse set could match (and
    the rows short of a way out, with the mentors they reach), and ``p - guide`` less its
    median (the frame's shift): its root mean square and the mentors more than 1 off."""
    from mentormatch.solvers.diagnose import bipartite_max_flow

    i, j, used, cap, dem, p = (first[k] for k in ("i", "j", "chosen", "cap", "dem", "p"))
    load = np.bincount(j[used], minlength=len(cap))
    most, flow = bipartite_max_flow(i, j, dem, cap)
    mf = flow > 0
    dp = np.where(np.isfinite(p), p, 0.0) - guide
    shift = float(np.median(dp))
    return {"unfilled_mentors": int((load < cap).sum()), "places_left": int((cap - load).sum()),
            "short_rows": int((np.bincount(i[used], minlength=len(dem)) < dem).sum()),
            "most_matched": most, "places": int(min(cap.sum(), dem.sum())),
            "closed_rows_mentors": closed_rows(i, j, mf, cap, dem), "price_shift": round(shift, 3),
            "price_rms": round(float(np.sqrt(np.mean((dp - shift) ** 2))), 3),
            "prices_off_by_1": int((np.abs(dp - shift) > 1).sum())}


def replay(path: Path, log: bool) -> dict:
    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers import rounds
    from mentormatch.solvers.bounded import check, market

    if log:
        logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)8.0f %(message)s", stream=sys.stderr)
        logging.getLogger("mentormatch.solvers.bounded").setLevel(logging.DEBUG)
    with open(path, "rb") as f:
        d = pickle.load(f)
    checks, original, flow, first = [], check._Certifier.__call__, rounds.solve_arrays, {}

    def timed(self, *args, **kwargs):
        c, bound = time.process_time(), self.bound_pairs
        out = original(self, *args, **kwargs)
        checks.append({"cpu": round(time.process_time() - c, 3), "bound_pairs": self.bound_pairs - bound,
                       "violators": len(out[0].i)})
        if "p" not in first:
            first["p"] = np.array(args[1], np.float64)
        return out

    def first_flow(i, j, s, cap, dem, *args, **kwargs):  # (the first flow's pairs kept)
        res = flow(i, j, s, cap, dem, *args, **kwargs)
        if not first:
            first.update(i=i, j=j, chosen=np.asarray(res.chosen, bool), cap=np.asarray(cap), dem=np.asarray(dem))
        return res

    check._Certifier.__call__, rounds.solve_arrays = timed, first_flow
    try:
        t, c = time.perf_counter(), time.process_time()
        prices, info = market._guide(bounded._solve, d["market"], d["depth"], d["given"], None)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    finally:
        check._Certifier.__call__, rounds.solve_arrays = original, flow
    facts = first_flow_facts(first, np.asarray(d["given"][0], np.float64)) if "p" in first else None
    return {"wall": round(wall, 2), "cpu": round(cpu, 2), "rounds": info["rounds"], "checks": checks,
            "first_flow": facts,
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
