#!/usr/bin/env python
"""The top level's certificate checks of ``pair()``, captured once and replayed in-process: to
measure a change to the bounds checker (:mod:`mentormatch.solvers.bounded.check`) on the real
inputs of a round without running ``pair()`` again (a 100,000 x 20,000 ``pair()`` is 45 s CPU;
replaying its first check, 2.5-3 s).

    PYTHONPATH=src python benchmarks/check_replay.py capture 100000x20000:5 /tmp/checks
    PYTHONPATH=src python benchmarks/check_replay.py replay /tmp/checks --round 0 --repeat 3
    PYTHONPATH=src python benchmarks/check_replay.py replay /tmp/checks --round 0 --groups city

``capture`` runs ``pair()`` on the synthetic organisation (seed 1, every capacity c) and pickles,
for each of the top level's first ``--rounds`` checks, the pools (as the check receives them),
the prices and the excluded pairs, with the scorer once (about 300 MB at 100,000 x 20,000), then
prints the pairs' digest and objective. ``replay`` rebuilds the checker on a copy of a captured
round's pools and runs it: CPU and wall seconds, rows scanned in full, bound pairs, violators.

What s27h4 found with it (round 1 at 100,000 x 20,000: 27,605 rows scanned in full, 683 M bound
pairs, 2.5-3.1 s CPU): the first flow's prices are far from the sub-markets' that ranked the pools
(``p - g``: std 0.071 against the inner's, 0.070 the outer's; 0.101 and 0.098 at 200,000 x 40,000),
and most of that is one shift per city (the mentors' prices move by city: within a city the
std is 0.037 at 100,000, 0.031 and 0.016 at 200,000). The same check on pools ranked by the
flow's own prices scans 278 rows.
"""
from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from pathlib import Path

import numpy as np


def capture(size: str, out: Path, rounds: int) -> None:
    from mentormatch.solvers.bounded import check as ck

    n, rest = size.split("x")
    m, c = rest.split(":")
    out.mkdir(parents=True, exist_ok=True)
    original, done = ck._Certifier.__call__, []

    def hooked(self, u, p, ex_i, ex_j, tol, per_row, near, gather=None):
        if self.settle is None and len(done) < rounds:  # (the top level; a sub-market settles)
            pool = self.pool
            snap = dict(cols=pool.cols.copy(), vals=pool.vals.copy(), floor=pool.floor.copy(), gen=pool.gen.copy(),
                        prices=[q.copy() for q in pool.prices], err=None if self.err is None else self.err.copy(),
                        shift=self.shift, u=u.copy(), p=p.copy(), ex_i=ex_i.copy(), ex_j=ex_j.copy(), tol=tol,
                        per_row=per_row, near=near, gather=gather, li=self.li, lj=self.lj, groups=pool.groups,
                        group_floor=None if pool.group_floor is None else pool.group_floor.copy())
            with open(out / f"check{len(done)}.pkl", "wb") as f:
                pickle.dump(snap, f, protocol=5)
            if not done:
                with open(out / "scorer.pkl", "wb") as f:
                    pickle.dump(self.scorer, f, protocol=5)
            done.append(1)
        return original(self, u, p, ex_i, ex_j, tol, per_row, near, gather)

    ck._Certifier.__call__ = hooked
    result, digest = pair_once(n, m, c)
    print(f"captured {len(done)} checks; pairs sha {digest}, objective {float(result.objective)!r}")


def _grouped(folder: Path, scorer, s: dict, column: str) -> dict:
    """Round 0's pools again with floors per mentor group (:mod:`mentormatch.solvers.bounded.groups`):
    a pass at the pools' prices (their one generation), the mentors grouped by ``column`` of the
    mentors' table, kept in ``folder`` (the pools must be the captured ones)."""
    import pandas as pd

    from mentormatch.solvers.bounded.groups import Groups
    from mentormatch.solvers.bounded.passes import _scan

    path = folder / f"groups_{column}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    assert len(s["prices"]) == 1, "round 0's pools only (one generation)"
    of = pd.factorize(scorer.mentors[column])[0].astype(np.int32)
    groups = Groups(of, int(of.max()) + 1)
    n = scorer.n
    t = time.process_time()
    f = _scan(scorer, np.arange(n), None, s["prices"][0], excl_i=s["li"], excl_j=s["lj"],
              pool_size=s["cols"].shape[1], groups=groups)
    print(f"pass with {groups.count} groups: {time.process_time() - t:.1f} s CPU")
    c, v, fl = f.pool
    assert np.array_equal(c, s["cols"]) and np.array_equal(fl, s["floor"]), "not the captured pools"
    out = {"groups": groups, "group_floor": np.ascontiguousarray(f.group_floor.T, dtype=np.float64)}
    with open(path, "wb") as fh:
        pickle.dump(out, fh, protocol=5)
    return out


def chain(folder: Path, rounds: int, groups: str | None = None) -> list[dict]:
    """The captured checks 0 .. ``rounds - 1`` in turn on one checker (its pools as its own
    checks leave them; each round's prices, chosen pairs and tolerances as captured), from
    round 0's pools (with floors per group of ``groups``: see :func:`_grouped`)."""
    with open(folder / "scorer.pkl", "rb") as f:
        scorer = pickle.load(f)
    out, checker = [], None
    for k in range(rounds):
        with open(folder / f"check{k}.pkl", "rb") as f:
            s = pickle.load(f)
        if checker is None:
            checker = _checker(folder, scorer, s, groups)
        before = (checker.rows_rescanned, checker.bound_pairs)
        t = time.process_time()
        viol, eps = checker(s["u"], s["p"], s["ex_i"], s["ex_j"], s["tol"], s["per_row"], s["near"], s["gather"])
        out.append({"round": k, "cpu": round(time.process_time() - t, 3),
                    "rows_scanned_in_full": checker.rows_rescanned - before[0],
                    "bound_pairs": checker.bound_pairs - before[1], "violators": len(viol.i)})
    return out


def _checker(folder: Path, scorer, s: dict, groups: str | None):
    """The top level's checker on a copy of the captured pools ``s`` (with floors per mentor
    group by ``groups``, rebuilt: :func:`_grouped`)."""
    from mentormatch.solvers.bounded.check import _Certifier
    from mentormatch.solvers.bounded.exact import _Exact
    from mentormatch.solvers.bounded.passes import _Pool

    pool = _Pool(s["cols"].copy(), s["vals"].copy(), s["floor"].copy(), s["gen"].copy(),
                 [q.copy() for q in s["prices"]], s.get("groups"),
                 None if s.get("group_floor") is None else s["group_floor"].copy())
    if groups:
        g = _grouped(folder, scorer, s, groups)
        pool.groups, pool.group_floor = g["groups"], g["group_floor"].copy()
    return _Certifier(scorer, _Exact(scorer), pool, s["li"], s["lj"], False)


def replay(folder: Path, k: int, groups: str | None = None) -> dict:

    with open(folder / "scorer.pkl", "rb") as f:
        scorer = pickle.load(f)
    with open(folder / f"check{k}.pkl", "rb") as f:
        s = pickle.load(f)
    checker = _checker(folder, scorer, s, groups)
    checker.shift, checker.err = s["shift"], None if s["err"] is None else s["err"].copy()
    t, w = time.process_time(), time.perf_counter()
    viol, eps = checker(s["u"], s["p"], s["ex_i"], s["ex_j"], s["tol"], s["per_row"], s["near"], s["gather"])
    code = np.sort(viol.i * scorer.m + viol.j)
    return {"cpu": round(time.process_time() - t, 3), "wall": round(time.perf_counter() - w, 3),
            "rows_scanned_in_full": checker.rows_rescanned, "bound_pairs": checker.bound_pairs,
            "pairs_rechecked_by_mentor": checker.pairs_rechecked, "violators": len(code),
            "violators_sha": hashlib.sha256(code.tobytes()).hexdigest()[:12], "eps": eps}


def pair_once(n, m, c):
    """``mm.pair`` on the synthetic organisation of ``n`` mentees, ``m`` mentors (seed 1), every
    mentor's capacity ``c``, run to its certificate (a 2-hour limit) under the caller's hooks:
    the run a capture records (this tool's, ``first_replay.py``'s). Returns the result and its
    pairs sha (``cells.pairs_digest``, 12 digits)."""
    import mentormatch as mm
    from cells import pairs_digest
    from mentormatch import synthetic

    mentors, mentees = synthetic.organisation(n_mentees=int(n), n_mentors=int(m), seed=1)
    mentors["capacity"] = int(c)
    result = mm.pair(mentors, mentees, {"time_limit": 7200.0})
    return result, pairs_digest(result.pairs)[:12]


def capture_replay_parser(doc: str):
    """(parser, capture's, replay's) of a capture/replay tool (this one, ``first_replay.py``):
    ``capture SIZE FOLDER`` and ``replay FOLDER``, each tool adding its own options."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("capture")
    a.add_argument("size", help="n x m : capacity, e.g. 100000x20000:5")
    a.add_argument("folder", type=Path)
    b = sub.add_parser("replay")
    b.add_argument("folder", type=Path)
    return ap, a, b


def main(argv=None) -> int:
    ap, a, b = capture_replay_parser(__doc__)
    a.add_argument("--rounds", type=int, default=3)
    b.add_argument("--round", type=int, default=0)
    b.add_argument("--repeat", type=int, default=1)
    b.add_argument("--groups", help="round 0 with floors per group of this mentors' column (e.g. city)")
    b.add_argument("--chain", type=int, default=0, help="rounds 0 .. CHAIN - 1 in turn on one checker")
    args = ap.parse_args(argv)
    if args.what == "capture":
        capture(args.size, args.folder, args.rounds)
    else:
        for _ in range(args.repeat):
            if args.chain:
                for row in chain(args.folder, args.chain, args.groups):
                    print(row)
            else:
                print(replay(args.folder, args.round, args.groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
