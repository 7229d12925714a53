#!/usr/bin/env python
"""``mentormatch.assign`` against the exact peers of ``run.py``'s speed section, in one process,
alternately, best of ``--repeat`` runs each: lap.lapjv and scipy's linear_sum_assignment on the
capacity-expanded matrix. Same instances as ``run.py`` (uniform scores, 1 % forbidden, seed 1).

    python benchmarks/assign_vs_peers.py                                 # the four default sizes
    python benchmarks/assign_vs_peers.py --sizes 10000x2500:4 --repeat 5 --no-scipy
    python benchmarks/assign_vs_peers.py --kind levels --sizes 2000x500:4   # scores on 5 levels
    python benchmarks/assign_vs_peers.py --kind popular --sizes 2000x2000:1 # mentee + mentor quality

Timed as in ``run.py``'s workers: ``assign()`` from the DataFrames to the result; each peer from
its numpy arrays, the expanded cost matrix built inside the timing. Every objective is
recomputed from the pairs returned and compared. Each figure is the best of the runs, in wall
time and in CPU time (the process's user + system time: on a machine shared with other work the
wall times of both sides stretch with the load, the CPU times much less), with the ratio of the
fastest peer to ``assign()`` in each. Each size's lines end with the machine's load average
(1 minute) before and after it, so that figures taken on a shared machine say so.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import problems  # noqa: E402  (the speed section's instances and checks)
from speed_workers import lap_call, scipy_call  # noqa: E402  (its peers' calls)
from timing import clocks  # noqa: E402


def main(argv=None) -> int:
    import numpy as np
    import pandas as pd

    from mentormatch.pipeline import assign
    from mentormatch.solvers import get_solver

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="200x50:4,1000x250:4,2000x500:4,10000x2500:4")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-scipy", action="store_true")
    p.add_argument("--kind", default="uniform", choices=["uniform", "levels", "popular"],
                   help="uniform: run.py's scores; levels: 1/5 .. 5/5 (long runs of ties); popular: "
                        "0.5 mentee quality + 0.5 mentor quality + 0.1 noise (everyone wants the same mentors)")
    args = p.parse_args(argv)
    get_solver("flow")
    for n, m, c, _ in problems.parse_sizes(args.sizes):
        load_before = os.getloadavg()[0]
        s, f = problems.uniform_problem(n, m, 1)
        rng = np.random.default_rng(2)
        if args.kind == "levels":
            s = rng.integers(1, 6, (n, m)) / 5.0
        elif args.kind == "popular":
            s = 0.5 * rng.random((n, 1)) + 0.5 * rng.random((1, m)) + 0.1 * rng.random((n, m))
        mentees, mentors, scores, forbidden, capacity = problems.assign_frames(s, f, c)

        def mm_():
            res = assign(scores, capacity, forbidden=forbidden, solver="flow")
            e = pd.Index(mentees).get_indexer(res.pairs["mentee_id"])
            j = pd.Index(mentors).get_indexer(res.pairs["mentor_id"])
            assert res.status == "optimal"
            return problems.check_assignment(s, f, e, j, c)

        peers = {"assign": mm_}
        for name, expanded in (("lap.lapjv", lap_call), *(() if args.no_scipy else (("scipy", scipy_call),))):
            call, pairs = expanded(s, f, c)
            peers[name] = lambda call=call, pairs=pairs: problems.check_assignment(s, f, *pairs(call()), c)
        times: dict[str, list[float]] = {k: [] for k in peers}
        cpu: dict[str, list[float]] = {k: [] for k in peers}
        objective = {}
        for _ in range(args.repeat):
            for name, fn in peers.items():
                wall, cpu_s, out = clocks(fn)
                times[name].append(wall)
                cpu[name].append(cpu_s)
                objective[name] = out["objective"]
                assert out["violations"] == 0, (name, out)
        load = f"load {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
        for clock, runs in (("wall", times), ("cpu", cpu)):
            best = {k: min(v) for k, v in runs.items()}
            fastest = min((k for k in best if k != "assign"), key=best.get)
            line = "  ".join(f"{k} {best[k]:.4f} s" for k in best)
            print(f"{args.kind} {n} x {m} (c={c}), {clock}: {line}  | {fastest} / assign = "
                  f"{best[fastest] / best['assign']:.1f}x  "
                  f"objectives {', '.join(f'{k} {v:.6f}' for k, v in objective.items())}  ({load})",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
