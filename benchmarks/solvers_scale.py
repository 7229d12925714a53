"""Time and peak memory of the exact solvers at scale; prints one line per case.

Instances: uniform random scores in [0, 1), 1% of pairs forbidden, equal capacities (the speed
section's ``problems.uniform_problem``, seed 0).

* ``flow-dense``   10,000 x 2,500, capacity 4: ``certify.solve_scored`` on the dense matrix
* ``flow-pairs``   the same as a complete ``Candidates`` set (24.75 M pairs) through
                   ``get_solver("flow")`` (which takes the sparse certified path by itself)
* ``scipy``        the same with ``scipy.optimize.linear_sum_assignment`` on the
                   capacity-expanded 10,000 x 10,000 matrix (the reference optimum)
* ``flow-100k``    100,000 x 20,000, capacity 5, scores from a block scorer (row-seeded), so
                   that the 2e9 candidates never exist at once (``--large``)

Each case runs in a fresh interpreter, on the benchmarks' harness (``harness.measure``, this
script's ``--worker``); peak memory is that process's maximum resident set size (``ru_maxrss``,
which includes the interpreter and imported libraries, about 150 MiB), time is the solve alone
(data generation excluded).

Measured (2-core machine, this script, cold process per case; before session 34, undated)::

    flow-dense     0.57 s  peak  525 MiB  certified, 1 round, 130,000 sparse pairs
    flow-pairs     1.96 s  peak 1090 MiB  (the 24.75 M-pair input arrays alone take ~600 MiB)
    scipy         22.44 s  peak 1894 MiB  same objective 9995.417569
    flow-100k     88.3 s   peak  410 MiB  certified, 1 round, 1.98e9 pairs checked; about 80 s
                                          of it is the row-seeded scorer itself (two passes)

Session 34 (s34h5), the three 10k cases at a load of 9-11 (main, then this script on the
harness): the same objective 9995.417569 in all three, peaks 515, 1,079 and 1,866 MiB in both;
times 1.26-1.64, 3.63-5.16 and 50.8-51.7 s, upper bounds on that loaded machine.

Usage::

    python benchmarks/solvers_scale.py            # the three 10k x 2.5k cases
    python benchmarks/solvers_scale.py --large    # and 100k x 20k
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import measure, use_src, worker_main  # noqa: E402
from problems import uniform_problem  # noqa: E402

SCRIPT = Path(__file__).resolve()
N, M, CAP = 10_000, 2_500, 4
N_L, M_L, CAP_L = 100_000, 20_000, 5


def dense_scores(n: int, m: int, seed: int = 0) -> np.ndarray:
    """The speed section's uniform instance (``problems.uniform_problem``), a forbidden pair -inf."""
    s, forbidden = uniform_problem(n, m, seed)
    s[forbidden] = -np.inf
    return s


def row_scorer(m: int, seed: int = 1):
    """Scores of rows ``a:b``, each row from its own seeded stream (so any slicing agrees)."""
    def scorer(rows: slice) -> np.ndarray:
        out = np.empty((rows.stop - rows.start, m))
        for r, i in enumerate(range(rows.start, rows.stop)):
            g = np.random.default_rng([seed, i])
            out[r] = g.random(m)
            out[r, g.random(m) < 0.01] = -np.inf
        return out
    return scorer


def run_case(spec: dict) -> dict:
    """One case (``spec["case"]``) in this process, its log on stderr."""
    import logging

    use_src()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="  %(relativeCreated)8.0f ms  %(message)s")
    name = spec["case"]
    from mentormatch.pairs import Candidates
    from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver
    from mentormatch.solvers.certify import solve_scored

    out: dict = {"case": name}
    if name == "flow-dense":
        s = dense_scores(N, M)
        t = time.perf_counter()
        _, sol = solve_scored(s, np.full(M, CAP))
        out.update(seconds=time.perf_counter() - t, objective=sol.objective, status=sol.status,
                   bound=sol.bound, certificate=sol.certificate)
    elif name == "flow-pairs":
        s = dense_scores(N, M)
        ok = np.isfinite(s)
        pairs = Candidates.from_mask(ok)
        score = s[ok]
        del s, ok
        problem = AssignmentProblem(pairs, score, np.full(M, float(CAP)))
        t = time.perf_counter()
        sol = get_solver("flow")(problem, SolverOptions())
        out.update(seconds=time.perf_counter() - t, objective=sol.objective, status=sol.status,
                   bound=sol.bound, certificate=sol.certificate, n_pairs=len(pairs))
    elif name == "scipy":
        from scipy.optimize import linear_sum_assignment

        s = dense_scores(N, M)
        t = time.perf_counter()
        expanded = np.repeat(np.where(np.isfinite(s), s, -1e6), CAP, axis=1)
        r, c = linear_sum_assignment(expanded, maximize=True)
        w = expanded[r, c]
        out.update(seconds=time.perf_counter() - t, objective=float(w[w > 0].sum()),
                   status="optimal")
    elif name == "flow-100k":
        t = time.perf_counter()
        _, sol = solve_scored(row_scorer(M_L), np.full(M_L, CAP_L), n_mentees=N_L,
                              n_mentors=M_L, options=SolverOptions(progress=True))
        out.update(seconds=time.perf_counter() - t, objective=sol.objective, status=sol.status,
                   bound=sol.bound, certificate=sol.certificate)
    else:
        raise ValueError(f"unknown case {name!r}")
    return out  # peak memory: the harness's, read as the case returns


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="also run 100,000 x 20,000")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main({"case": run_case}, args.worker)
    cases = ["flow-dense", "flow-pairs", "scipy"] + (["flow-100k"] if args.large else [])
    results = {}
    for name in cases:
        res = measure({"kind": "case", "case": name}, script=SCRIPT)
        if res["status_run"] != "ok":
            raise RuntimeError(f"{name} failed: {res.get('trace') or res['error']}")
        results[name] = res
        cert = res.get("certificate") or {}
        extra = ""
        if cert:
            extra = (f"  certified={cert.get('holds')} rounds={cert.get('rounds')} "
                     f"sparse_pairs={cert.get('pairs_in_sparse')} "
                     f"checked={cert.get('pairs_checked')} "
                     f"gap<={res['bound'] - res['objective']:.2e}")
        print(f"{name:11s} {res['seconds']:8.2f} s  peak {res['peak_rss_mb']:7.0f} MiB  "
              f"objective {res['objective']:.6f}  {res['status']}{extra}", flush=True)
    if "scipy" in results:
        ref = results["scipy"]
        for name in ("flow-dense", "flow-pairs"):
            r = results[name]
            print(f"{name}: {ref['seconds'] / r['seconds']:.1f}x faster than scipy, "
                  f"objective difference {r['objective'] - ref['objective']:+.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
