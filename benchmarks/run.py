#!/usr/bin/env python
"""Benchmarks of mentormatch against random assignment and against its peers, in one run.

    python benchmarks/run.py --write BENCHMARKS.md          # the full run (~15 minutes, 2 cores)
    python benchmarks/run.py --smoke --write /tmp/b.md       # tiny sizes, seconds (used by the tests)
    python benchmarks/run.py --sizes 200x50:4,1000x250:4     # choose the speed sizes
    python benchmarks/run.py --sections speed --write BENCHMARKS.md   # refresh section 2 alone

Sections of the report:

1. Quality on synthetic organisations: optimal (``mm.pair``) vs random (>= 20 seeds) vs greedy vs
   stable; score distribution, share matched, share with a top-3 mentor, group fairness.
2. Speed and peak memory of solving on uniform random score matrices (mentees x mentors, capacity
   c, 1% forbidden) vs scipy, a naive dense OR-Tools min-cost flow, networkx and ``matching``.
3. The closest domain peer, ``mentor-match`` 7.0.1 (three rounds of pure-Python Munkres), on the
   same people and the same score matrix, vs mentormatch's joint exact solve.
4. A log-log plot of solve time against problem size.
5. ``mm.pair`` end to end at 100,000 x 20,000 on people (all six features), with the
   certificate and a seeded random assignment for the lift.

Every measurement runs in its own subprocess (``--worker``), so peak memory (``ru_maxrss``) is
that measurement's alone and a timeout or crash is recorded, never silently dropped. Section 2
times mentormatch and every peer alike, as ``ladder.py`` does (``timing.py``: warm, repeated,
min and median, wall and CPU); the headline's lines are drawn from the sections' own figures.

Each section, and the headline's lines drawn from it, is a marked block of BENCHMARKS.md
stamped with the run that measured it (date, git commit, minutes, load): ``--sections speed``
measures and rewrites that section alone, in place, so that the speed figures can be refreshed
on new code in a few minutes without the 17-minute whole run.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # report, sections, timing: beside this file, whoever imports it

from report import SECTIONS, SPEED_PEERS, plot, report_blocks, size_label, write_report  # noqa: E402
MARK = "@@RESULT@@ "
#: mentor-match 7.0.1 and matching 1.4.3 both install a top-level package named ``matching``;
#: where mentor-match lives in its own --target directory, its worker puts it first on sys.path.
PEER_DIRS = [Path(os.environ["MENTOR_MATCH_PATH"])] if os.environ.get("MENTOR_MATCH_PATH") else []
PEER_DIRS.append(ROOT / ".venv" / "peers" / "mentor-match")

GIB = 1024 ** 3


# ============================================================================================
# helpers shared by workers
# ============================================================================================
def _src_path():
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child_peak_rss_mb() -> float:
    """The largest ``ru_maxrss`` of the measurement's own child processes (the scale path forks
    its sub-market beside the first pass), 0 when it had none."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


class TreeRss:
    """The peak of the process tree's resident memory *at one instant*: a thread sums VmRSS of
    this process and all its descendants every ``interval`` seconds. Adding the parent's and a
    child's own peaks (ru_maxrss) overstated it by about 70 %: the two peaks come at different
    times, and a forked child shares its parent's pages until they are written."""

    def __init__(self, interval: float = 0.02):
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(c) for c in f.read().split()]
        except OSError:
            pass
        return out

    def _run(self, interval: float):
        me = os.getpid()
        while not self._stop.is_set():
            todo, total = [me], 0
            while todo:
                pid = todo.pop()
                total += self._rss_kb(pid)
                todo += self._children(pid)
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(interval)

    def __enter__(self):
        if os.path.exists("/proc/self/status"):
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024.0


def uniform_problem(n: int, m: int, seed: int):
    """Uniform random scores (mentees x mentors) and a 1% forbidden mask, the same for every peer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scores = rng.random((n, m))
    forbidden = rng.random((n, m)) < 0.01
    return scores, forbidden


def sparse_problem(n: int, m: int, k: int, seed: int):
    """Each mentee gets k distinct random candidate mentors with uniform scores (a sparse
    candidate list, as a pre-filter would give at scale). Pairs sorted by mentee then mentor."""
    import numpy as np

    rng = np.random.default_rng(seed)
    mentor = np.sort(np.argsort(rng.random((n, m), dtype=np.float32), axis=1)[:, :k], axis=1) \
        if n * m <= 50_000_000 else _sample_rows(rng, n, m, k)
    mentee = np.repeat(np.arange(n, dtype=np.int64), k)
    return mentee, mentor.ravel().astype(np.int64), rng.random(n * k)


def _sample_rows(rng, n, m, k):
    import numpy as np

    out = np.empty((n, k), dtype=np.int64)
    for a in range(0, n, 10_000):  # blocks of rows: k distinct mentors per row, by rejection
        b = min(a + 10_000, n)
        rows = rng.integers(0, m, size=(b - a, k * 2))
        for r in range(b - a):
            u = np.unique(rows[r])
            while len(u) < k:
                u = np.unique(np.concatenate([u, rng.integers(0, m, size=k)]))
            out[a + r] = np.sort(rng.choice(u, size=k, replace=False))
    return out


def check_sparse(score, mentee, mentor, n, m, cap) -> dict:
    import numpy as np

    key = mentee * m + mentor
    v = {"capacity": int((np.bincount(mentor, minlength=m) > cap).sum()),
         "demand": int((np.bincount(mentee, minlength=n) > 1).sum()),
         "duplicate": int(len(key) - len(np.unique(key)))}
    return {"objective": float(score.sum()), "pairs": int(len(mentee)),
            "matched_mentees": int(len(np.unique(mentee))), "violations": sum(v.values()),
            "violation_detail": v}


def check_assignment(scores, forbidden, mentee, mentor, cap, demand=1) -> dict:
    """Objective recomputed on the score matrix, and any violated constraint counted."""
    import numpy as np

    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    n, m = scores.shape
    key = mentee * m + mentor
    violations = {
        "forbidden": int(forbidden[mentee, mentor].sum()) if forbidden is not None else 0,
        "capacity": int((np.bincount(mentor, minlength=m) > cap).sum()),
        "demand": int((np.bincount(mentee, minlength=n) > demand).sum()),
        "duplicate": int(len(key) - len(np.unique(key))),
    }
    return {"objective": float(scores[mentee, mentor].sum()), "pairs": int(len(mentee)),
            "matched_mentees": int(len(np.unique(mentee))),
            "violations": sum(violations.values()), "violation_detail": violations}


# ============================================================================================
# workers: one measurement each, run in a subprocess
# ============================================================================================
def timed(spec: dict, prepare) -> dict:
    """The speed section's measurement of one peer at one size, as timing.py describes: a warm-up
    call on a tiny instance of the same kind, then ``prepare(spec)``'s call repeated (the min and
    median of both clocks). ``prepare(spec)`` builds the inputs (not timed) and returns ``(call,
    check)``: ``call()`` is the timed work (the peer's model built from the arrays, solved);
    ``check(output)`` recomputes the objective and counts violations on the scores."""
    from timing import BUDGET, repeat, runs

    tiny = dict(spec, n=8, m=3, k=min(spec.get("k") or 0, 2))
    prepare(tiny)[0]()  # imports and first-call costs stay out of the timing
    call, check = prepare(spec)
    before = peak_rss_mb()
    t = repeat(call, runs(spec["n"], spec.get("k") or spec["m"]), spec.get("budget", BUDGET))
    out = check(t.out)
    out.update(t.summary(), rss_before_mb=before)
    return out


def w_mm_assign(spec):
    """mentormatch.assign(..., solver="flow") on a dense DataFrame (the public API); its
    tables (built on their first read) are read after the timing."""
    _src_path()
    import pandas as pd
    from mentormatch.pipeline import assign

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])
        mentees = [f"e{i}" for i in range(n)]
        mentors = [f"m{j}" for j in range(m)]
        scores = pd.DataFrame(s, index=mentees, columns=mentors)
        forbidden = pd.DataFrame(f, index=mentees, columns=mentors)
        capacity = pd.Series(float(c), index=mentors)

        def check(res):
            e = pd.Index(mentees).get_indexer(res.pairs["mentee_id"])
            j = pd.Index(mentors).get_indexer(res.pairs["mentor_id"])
            return dict(check_assignment(s, f, e, j, c), solver_time=res.wall_time,
                        status=res.status, gap=res.gap)
        return (lambda: assign(scores, capacity, forbidden=forbidden, solver="flow")), check
    return timed(spec, prepare)


def w_mm_scored(spec):
    """mentormatch's certified scale path on a dense score matrix (-inf = forbidden):
    each mentee's best pairs solved exactly, optimality proven for every pair with dual prices."""
    _src_path()
    import numpy as np
    from mentormatch.solvers import SolverOptions
    from mentormatch.solvers.certify import solve_scored

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])
        masked = np.where(f, -np.inf, s)  # the scorer's convention for an ineligible pair

        def check(out):
            problem, sol = out
            chosen = sol.chosen
            return dict(check_assignment(s, f, problem.pairs.mentee[chosen], problem.pairs.mentor[chosen], c),
                        solver_time=sol.wall_time, status=sol.status, gap=sol.gap,
                        certified=bool((sol.certificate or {}).get("holds")))
        return (lambda: solve_scored(masked, np.full(m, c), options=SolverOptions())), check
    return timed(spec, prepare)


def w_mm_solver(spec):
    """mentormatch's flow solver through the array interface (no DataFrames)."""
    _src_path()
    import numpy as np
    from mentormatch.pairs import Candidates
    from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        flow = get_solver("flow")
        if spec.get("k"):
            mentee, mentor, score = sparse_problem(n, m, spec["k"], spec["seed"])

            def call():
                return flow(AssignmentProblem(Candidates(mentee, mentor, n, m), score, np.full(m, float(c))),
                            SolverOptions())

            def check(sol):
                ch = sol.chosen
                return dict(check_sparse(score[ch], mentee[ch], mentor[ch], n, m, c),
                            solver_time=sol.wall_time, status=sol.status, gap=sol.gap)
            return call, check
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            cand = Candidates.from_mask(~f)
            return cand, flow(AssignmentProblem(cand, s[~f], np.full(m, float(c))), SolverOptions())

        def check(out):
            cand, sol = out
            return dict(check_assignment(s, f, cand.mentee[sol.chosen], cand.mentor[sol.chosen], c),
                        solver_time=sol.wall_time, status=sol.status, gap=sol.gap)
        return call, check
    return timed(spec, prepare)


def w_scipy(spec):
    """scipy.optimize.linear_sum_assignment on the capacity-expanded matrix (forbidden = inf)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            cost = np.repeat(np.where(f, np.inf, -s), c, axis=1)  # n x (m * c); each mentor c slots
            return linear_sum_assignment(cost)

        def check(out):
            rows, cols = out
            return dict(check_assignment(s, f, rows, cols // c, c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_lap(spec):
    """lap.lapjv (Jonker-Volgenant, PyPI `lap`) on the capacity-expanded matrix; a forbidden
    pair costs 0 (no gain), as does leaving a mentee unassigned, so only positive pairs count."""
    import numpy as np
    import lap

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            cost = np.repeat(np.where(f, 0.0, -s), c, axis=1)  # n x (m * c); each mentor c slots
            return lap.lapjv(cost, extend_cost=True)[1]

        def check(x):
            rows = np.flatnonzero(x >= 0)
            cols = x[rows]
            keep = ~f[rows, cols // c]
            return dict(check_assignment(s, f, rows[keep], cols[keep] // c, c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_ortools_dense(spec):
    """The naive peer: OR-Tools SimpleMinCostFlow with every arc of the dense bipartite graph."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        if spec.get("k"):
            ii, jj, w = sparse_problem(n, m, spec["k"], spec["seed"])
        else:
            s, f = uniform_problem(n, m, spec["seed"])

        def call():
            src, sink = n + m, n + m + 1
            if spec.get("k"):
                a, b, ws = ii, jj, w
            else:
                a, b = np.nonzero(~f)
                ws = s[a, b]
            tails = np.concatenate([np.full(n, src), a, n + np.arange(m), [src]])
            heads = np.concatenate([np.arange(n), n + b, np.full(m, sink), [sink]])
            caps = np.concatenate([np.ones(n), np.ones(len(a)), np.full(m, c), [n]]).astype(np.int64)
            costs = np.concatenate([np.zeros(n), -np.round(ws * 1e6), np.zeros(m), [0]]).astype(np.int64)
            smcf = min_cost_flow.SimpleMinCostFlow()
            smcf.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
            smcf.set_nodes_supplies(np.array([src, sink], dtype=np.int32), np.array([n, -n], dtype=np.int64))
            status = smcf.solve()
            if status != smcf.OPTIMAL:
                raise RuntimeError(f"OR-Tools status {status}")
            return a, b, ws, smcf.flows(np.arange(n, n + len(a), dtype=np.int32))

        def check(out):
            a, b, ws, flows = out
            used = flows > 0
            return dict(check_sparse(ws[used], a[used], b[used], n, m, c) if spec.get("k")
                        else check_assignment(s, f, a[used], b[used], c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_networkx(spec):
    """networkx.max_weight_matching on mentees x capacity-expanded mentor slots."""
    import networkx as nx
    import numpy as np

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            g = nx.Graph()
            ii, jj = np.nonzero(~f)
            g.add_weighted_edges_from(
                ((("e", int(i)), ("m", int(j), k), float(s[i, j])) for i, j in zip(ii, jj) for k in range(c)))
            return nx.max_weight_matching(g)

        def check(matching):
            e, j = [], []
            for a, b in matching:
                mentee, slot = (a, b) if a[0] == "e" else (b, a)
                e.append(mentee[1])
                j.append(slot[1])
            return dict(check_assignment(s, f, e, j, c), status="optimal")
        return call, check
    return timed(spec, prepare)


def w_hospital_resident(spec):
    """matching.games.HospitalResident (stable, resident-optimal) with full preference lists
    ordered by score on both sides; mentors are hospitals with capacity c."""
    import numpy as np
    from matching.games import HospitalResident

    def prepare(spec):
        n, m, c = spec["n"], spec["m"], spec["c"]
        s, f = uniform_problem(n, m, spec["seed"])

        def call():
            masked = np.where(f, -np.inf, s)
            order_r = np.argsort(-masked, axis=1, kind="stable")
            order_h = np.argsort(-masked, axis=0, kind="stable")
            allowed = ~f
            resident_prefs = {i: [f"h{j}" for j in order_r[i] if allowed[i, j]] for i in range(n)}
            hospital_prefs = {f"h{j}": [int(i) for i in order_h[:, j] if allowed[i, j]] for j in range(m)}
            game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs,
                                                             {f"h{j}": c for j in range(m)})
            return game.solve(optimal="resident")

        def check(result):
            e, j = [], []
            for hospital, residents in result.items():
                for r in residents:
                    e.append(int(r.name))
                    j.append(int(str(hospital.name)[1:]))
            return dict(check_assignment(s, f, e, j, c), status="stable")
        return call, check
    return timed(spec, prepare)


# --------------------------------------------------------------------------------------------
# quality on synthetic organisations
# --------------------------------------------------------------------------------------------
def _stats(problem, chosen, ranks, groups: dict) -> dict:
    """Quality figures of one assignment. Score figures are over the pairs made; shares are over
    all mentees (a mentee counts as matched with any pair, as top-3 if any of its pairs has rank<=3)."""
    import numpy as np

    n = problem.n_mentees
    sc = problem.score[chosen]
    mentee = problem.pairs.mentee[chosen]
    matched = np.zeros(n, dtype=bool)
    matched[mentee] = True
    top3 = np.zeros(n, dtype=bool)
    top3[mentee[ranks[chosen] <= 3]] = True
    out = {
        "mean": float(sc.mean()) if len(sc) else 0.0,
        "median": float(np.median(sc)) if len(sc) else 0.0,
        "p10": float(np.percentile(sc, 10)) if len(sc) else 0.0,
        "total": float(sc.sum()),
        "matched": float(matched.mean()),
        "top3": float(top3.mean()),
    }
    for name, codes in groups.items():
        k = int(codes.max()) + 1
        size = np.bincount(codes, minlength=k)
        share = np.bincount(codes, weights=matched, minlength=k) / np.maximum(size, 1)
        pc = codes[mentee]
        cnt = np.bincount(pc, minlength=k)
        mean = np.bincount(pc, weights=sc, minlength=k) / np.maximum(cnt, 1)
        ok = size > 0
        out[f"{name}_share_ratio"] = float(share[ok].min() / max(share[ok].max(), 1e-12))
        out[f"{name}_score_ratio"] = float(mean[ok].min() / max(mean[ok].max(), 1e-12))
        out[f"{name}_share_min"] = float(share[ok].min())
        out[f"{name}_score_min"] = float(mean[ok].min())
    return out


def _chosen_in(plain, baseline_result):
    """A baseline's chosen pairs as positions in ``plain`` (on the scale path a baseline's own
    problem holds only the pairs it read)."""
    import numpy as np

    problem, chosen = baseline_result.data["problem"], baseline_result.data["solution"].chosen
    return np.sort(plain.pairs.locate(problem.pairs.mentee[chosen], problem.pairs.mentor[chosen]))


def w_quality(spec):
    _src_path()
    import numpy as np
    import pandas as pd
    import mentormatch.pipeline as pl
    from mentormatch import synthetic
    from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver

    n, m = spec["n"], spec["m"]
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=spec["seed"])
    out = {"n_mentees": int(len(mentees)), "n_mentors": int(len(mentors)),
           "capacity_total": float(pd.to_numeric(mentors["capacity"]).sum())}
    t = time.perf_counter()
    with TreeRss() as tree:  # pair()'s own peak; the baselines below add to the worker's
        result = pl.pair(mentors, mentees, programme=None)
    out["pair_time"] = time.perf_counter() - t
    out["pair_peak_mb"] = tree.peak_mb
    out["solver_time"] = result.wall_time
    out["status"] = result.status
    out["solver"] = result.solver
    # Baselines draw from every eligible pair. Above LARGE_PAIRS the solver's own problem holds
    # only each mentee's best pairs (certified), so the full set comes from `full_problem`.
    problem = result.data["problem"]
    base = result.data["full_problem"]() if "full_problem" in result.data else problem
    out["n_pairs_eligible"] = int(len(base.pairs))
    out["n_pairs_solved"] = int(len(problem.pairs))
    plain = AssignmentProblem(base.pairs, base.score, base.capacity, base.demand,
                              base.load, base.locked, base.coverage_first)
    ranks = pl._rank_of_pairs(base)
    validated = result.data["mentees"]
    groups = {}
    for col in ("gender", "region"):
        if col in validated.columns:
            groups[col] = pd.factorize(validated[col].fillna("(missing)").astype(str))[0]
    out["groups"] = {c: int(v.max()) + 1 for c, v in groups.items()}
    out["optimal"] = _stats(problem, result.data["solution"].chosen, pl._rank_of_pairs(problem), groups)

    # random: the first seed through the public baseline(); the rest call the same solver on the
    # same plain problem directly (baseline() recomputes ranks and reasons each time: 20x slower).
    t = time.perf_counter()
    first = pl.baseline(result, "random", seed=0)
    out["baseline_call_time"] = time.perf_counter() - t
    runs = [_stats(plain, _chosen_in(plain, first), ranks, groups)]
    rnd = get_solver("random")
    for seed in range(1, spec["random_seeds"]):
        runs.append(_stats(plain, rnd(plain, SolverOptions(seed=seed)).chosen, ranks, groups))
    out["random"] = {k: [r[k] for r in runs] for k in runs[0]}
    g = pl.baseline(result, "greedy")
    out["greedy"] = _stats(plain, _chosen_in(plain, g), ranks, groups)
    try:
        st = get_solver("stable")
    except Exception as exc:  # not landed yet: say so in the report
        out["stable"] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        import dataclasses
        from mentormatch.solvers import SideConstraints
        t = time.perf_counter()  # stated preferences (if any) kept, side constraints dropped
        sol = st(dataclasses.replace(base, side=SideConstraints()), SolverOptions(seed=0))
        out["stable"] = _stats(plain, sol.chosen, ranks, groups)
        out["stable"]["time"] = time.perf_counter() - t
        if spec.get("check_stable_programme"):
            r2 = pl.pair(mentors, mentees, programme={"solver": "stable"})
            out["stable"]["same_as_programme"] = bool(
                np.array_equal(np.sort(r2.data["solution"].chosen), np.sort(sol.chosen)))
    return out


def _scoring_inputs(spec):
    """What both scoring timings start from: the organisation, then (timed from ``t``) the
    default rules, the validated tables and the complete pair set, and the feature context.
    Returns (rules, mentors, mentees, complete, context, t, validation seconds, rss before)."""
    _src_path()
    from mentormatch import synthetic
    from mentormatch.features import Context
    from mentormatch.pairs import Candidates
    from mentormatch.pipeline import resolve_framework
    from mentormatch.rules import Rules
    from mentormatch.schema import validate_tables

    mentors, mentees = synthetic.organisation(n_mentees=spec["n"], n_mentors=spec["m"], seed=spec["seed"])
    before = peak_rss_mb()
    t = time.perf_counter()
    rules = Rules.coerce(None)
    mentors, mentees = validate_tables(mentors, mentees)
    t_valid = time.perf_counter() - t
    complete = Candidates.complete(len(mentees), len(mentors))
    context = Context(framework=resolve_framework(None, mentees, mentors))
    return rules, mentors, mentees, complete, context, t, t_valid, before


def w_scoring(spec):
    """The pipeline's validation + scoring time (no solving) on a synthetic organisation."""
    from mentormatch.scoring import score_pairs

    rules, mentors, mentees, complete, context, t, t_valid, before = _scoring_inputs(spec)
    scores = score_pairs(mentees, mentors, complete, rules, context)
    elapsed = time.perf_counter() - t
    return {"time": elapsed, "validate_time": t_valid, "pairs": int(len(complete)),
            "features": list(scores.features), "rss_before_mb": before}


def w_scoring_reference(spec):
    """The yardstick of ``w_scoring``: the six default features' arithmetic in plain numpy on
    lookup tables of the distinct values (places, (years, level), trait values, (target role,
    gap weights) x the mentor's covered requirements, mentor readiness; stated preferences as
    a sparse matrix), then one whole-array gather per feature into the (pairs x features) values
    (neutral where unknown) and the weighted total. Same span timed as ``w_scoring``
    (validation, the complete pair set, reading the columns, the tables, the pass). With
    ``spec["check"]`` the result is compared with ``score_pairs`` (values and total)."""
    rules, mentors, mentees, complete, context, t, _, before = _scoring_inputs(spec)
    import numpy as np

    from mentormatch.features.experience import sweet_spot
    from mentormatch.features.geography import haversine_km, shared_hours
    from mentormatch.scoring import prepare_features, score_pairs

    i, j = complete.mentee, complete.mentor
    prep = prepare_features(mentees, mentors, rules, context)  # the columns as arrays
    P, X = prep.prepared, prep.extractors
    features = [f for f, w in rules.weights.items() if w > 0]

    def codes(*cols):  # distinct rows (NaN equal to NaN) and each row's code
        a = np.column_stack([np.nan_to_num(np.asarray(c, dtype=float), nan=-1e300) for c in cols])
        u, inv = np.unique(a, axis=0, return_inverse=True)
        return np.where(u == -1e300, np.nan, u), inv.reshape(-1)

    tables = {}  # feature -> (table (Ke, Km), mentee code, mentor code)
    g, f = P["geography"], X["geography"]
    ue, ce = codes(g.mentee_lat, g.mentee_lon, g.mentee_offset)
    um, cm = codes(g.mentor_lat, g.mentor_lon, g.mentor_offset)
    near = np.exp(-haversine_km(ue[:, 0, None], ue[:, 1, None], um[None, :, 0], um[None, :, 1]) / f.distance_scale_km)
    overlap = shared_hours(ue[:, 2, None], um[None, :, 2], f.work_start, f.work_end) / (f.work_end - f.work_start)
    both = np.stack([near, overlap])
    with np.errstate(invalid="ignore"):
        tables["geography"] = (np.nansum(both, 0) / (~np.isnan(both)).sum(0), ce, cm)
    e, f = P["experience"], X["experience"]
    ue, ce = codes(e.years[0], e.level[0])
    um, cm = codes(e.years[1], e.level[1])
    yg, lg = um[None, :, 0] - ue[:, 0, None], um[None, :, 1] - ue[:, 1, None]
    parts = np.stack([sweet_spot(yg, *f.years_gap, f.years_decay), sweet_spot(lg, *f.level_gap, f.level_decay)])
    with np.errstate(invalid="ignore"):
        v = np.nansum(parts, 0) / (~np.isnan(parts)).sum(0)
        tables["experience"] = (np.where(np.where(np.isnan(lg), yg < 0, lg < 0), 0.0, v), ce, cm)
    c = P["competency"]
    w, req, lev = c.weight_t[0], c.required_t[0], c.mentor_t  # (C, n), (C, n), (C, m)
    ue, ce = codes(c.targets[0], *w)
    target_first = np.zeros(len(ue), dtype=np.int64)
    target_first[ce] = np.arange(len(ce))  # a mentee of each code: its required levels
    with np.errstate(invalid="ignore"):
        cover = lev[None, :, :] >= req[:, target_first].T[:, :, None]  # (Ke, C, m)
    num = np.einsum("kc,kcm->km", ue[:, 1:], cover.astype(float))
    den = ue[:, 1:].sum(1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        tables["competency"] = (np.where(den > 0, num / den, np.nan), ce, np.arange(len(mentors)))
    p = P["personality"]
    tables["readiness"] = (P["readiness"].readiness[None, :], np.zeros(len(mentees), dtype=np.int64),
                           np.arange(len(mentors)))
    w_t = np.array([X["personality"].trait_weights[t] for t in p.traits])
    trait_codes = [codes(p.mentee_t[k]) + codes(p.mentor_t[k]) for k in range(len(p.traits))]
    pref = P["preference"]
    stated = (abs(pref.mentee_ranks) + abs(pref.mentor_ranks) + abs(pref.suggested)).tocoo()
    sv = pref.values(stated.row.astype(np.int64), stated.col.astype(np.int64))
    stated_key = stated.row.astype(np.int64) * len(mentors) + stated.col
    t_tables = time.perf_counter() - t

    # the pass over the pairs
    weights = np.array([rules.weights[f] for f in features])
    values = np.empty((len(i), len(features)))
    for col, name in enumerate(features):
        if name in tables:
            table, ce, cm = tables[name]
            v = table[ce[i], cm[j]]
        elif name == "personality":
            v = np.zeros(len(i))
            for (ue, ce, um, cm), wt in zip(trait_codes, w_t):
                v += (wt * (1.0 - np.abs(ue[:, 0, None] - um[None, :, 0])))[ce[i], cm[j]]
            v /= w_t.sum()
        else:  # preference: 0 except on the stated pairs
            v = np.zeros(len(i))
            v[np.searchsorted(i * len(mentors) + j, stated_key)] = sv
        values[:, col] = np.where(np.isnan(v), float(X[name].neutral), v)
    total = values @ weights
    elapsed = time.perf_counter() - t
    out = {"time": elapsed, "tables_time": t_tables, "pairs": int(len(i)), "features": features,
           "rss_before_mb": before}
    if spec.get("check"):
        s = score_pairs(mentees, mentors, complete, rules, context)
        out["max_abs_diff_values"] = float(np.abs(s.values - values).max())
        out["max_abs_diff_total"] = float(np.abs(s.total - total).max())
    return out


def w_pair_scale(spec):
    """``mm.pair`` end to end on a synthetic organisation at scale (all six features, default
    rules, every mentor's capacity set to ``c``): validation, feature bounds, exact scores where
    they matter, certified solve, contributions and unmatched reasons, and three explanations.
    Then a seeded random assignment (eligible pairs, capacities kept) scored exactly on its own
    pairs, for the lift."""
    _src_path()
    import numpy as np
    import mentormatch.pipeline as pl
    from mentormatch import synthetic

    if spec.get("force_scale"):  # smoke: the scale path on a small organisation
        pl.LARGE_PAIRS, pl.SCORE_CACHE_PAIRS = 100, 200
    t = time.perf_counter()
    mentors, mentees = synthetic.organisation(n_mentees=spec["n"], n_mentors=spec["m"], seed=spec["seed"])
    mentors["capacity"] = spec["c"]
    out = {"generate_time": time.perf_counter() - t, "rss_before_mb": peak_rss_mb()}
    t = time.perf_counter()
    prepared = pl.prepare(mentors, mentees)
    out["prepare_time"] = time.perf_counter() - t
    t1 = time.perf_counter()
    result = pl.solve(prepared)
    out["solve_time"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    ids = result.pairs["mentee_id"].head(3).tolist()
    for mentee in ids:
        result.explain(mentee)
    out["explain_3_time"] = time.perf_counter() - t2
    out["time"] = out["prepare_time"] + out["solve_time"] + out["explain_3_time"]
    cert = result.certificate or {}
    out.update(status=result.status, objective=float(result.objective), bound=result.bound,
               matched=int(len(result.pairs)), unmatched=int(len(result.unmatched)),
               mean_score=float(result.pairs["score"].mean()), path=cert.get("method"),
               rounds=cert.get("rounds"), repaired=len(cert.get("warm_repairs") or []),
               pairs_checked=cert.get("pairs_checked"),
               pairs_scored_exactly=cert.get("pairs_scored_exactly"),
               pairs_in_sparse=cert.get("pairs_in_sparse"), holds=cert.get("holds"))
    scorer = prepared.scorer
    if hasattr(scorer, "exact_scores"):  # seeded random: mentees in random order, each a random
        # eligible mentor with a free place (tries 64 mentors, then gives up: reported)
        from mentormatch.scale import BIG

        rng = np.random.default_rng(spec["seed"])
        left = np.asarray(mentors["capacity"], dtype=np.int64).copy()
        rows, cols = [], []
        for r in rng.permutation(scorer.n):
            bound = scorer.upper(int(r), int(r) + 1)[0]
            tries = rng.integers(0, scorer.m, 64)
            ok = tries[(left[tries] > 0) & (bound[tries] > -BIG / 2)]
            if len(ok):
                left[ok[0]] -= 1
                rows.append(r)
                cols.append(ok[0])
        s = scorer.exact_scores(np.array(rows), np.array(cols))
        out.update(random_matched=len(rows), random_mean=float(s.mean()), random_total=float(s.sum()))
    return out


# --------------------------------------------------------------------------------------------
# mentor-match 7.0.1 vs mentormatch on the same people and score matrix
# --------------------------------------------------------------------------------------------
def _shared_matrix(n: int, seed: int):
    """An n x n integer score matrix (mentees x mentors) and an eligibility mask, from a synthetic
    organisation scored by mentormatch's default rules; falls back to uniform scores."""
    _src_path()
    import numpy as np

    try:
        import mentormatch.constraints as C
        from mentormatch import synthetic
        from mentormatch.features import Context
        from mentormatch.pairs import Candidates, Encoder
        from mentormatch.pipeline import resolve_framework
        from mentormatch.rules import Rules
        from mentormatch.schema import validate_tables
        from mentormatch.scoring import score_pairs
    except ImportError as exc:
        s, f = uniform_problem(n, n, seed)
        return np.round(s * 1000).astype(np.int64), ~f, None, None, f"uniform scores ({exc})"
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=n, seed=seed)
    rules = Rules.coerce(None)
    mentors, mentees = validate_tables(mentors, mentees)
    complete = Candidates.complete(n, n)
    masks = C.rule_masks(mentees, mentors, complete, rules.constraints,
                         Encoder.from_ids(mentees["id"]), Encoder.from_ids(mentors["id"]))
    scores = score_pairs(mentees, mentors, complete, rules,
                         Context(framework=resolve_framework(None, mentees, mentors)))
    masks.update(scores.ineligible)
    which, _ = C.first_rule(masks, len(complete))
    eligible = (which < 0).reshape(n, n)
    q = np.round(np.clip(scores.total, 0, None) * 1000).reshape(n, n).astype(np.int64)
    return q, eligible, mentors, mentees, "synthetic organisation, mentormatch default scores x 1000, rounded"


def w_mentor_match(spec):
    """mentor-match 7.0.1: three rounds (rule sets) of Munkres on mentor x mentee Match objects."""
    n, seed = spec["n"], spec["seed"]
    q, eligible, mentors, mentees, source = _shared_matrix(n, seed)
    for d in PEER_DIRS:
        if d.is_dir():
            sys.path.insert(0, str(d))
            break
    for mod in [k for k in sys.modules if k == "matching" or k.startswith("matching.")]:
        del sys.modules[mod]
    import munkres
    import matching.process as mp
    from matching.mentee import Mentee
    from matching.mentor import Mentor
    from matching.rules import rule as rl

    def person(cls, row, k, prefix):
        # its documented fields; emails must be unique across both sides (equality is by email)
        p = cls(**{"grade": int(row.get("level", 1)) if row is not None else 1,
                   "email": f"{prefix}{k}@example.org",
                   "first name": f"{prefix}{k}", "last name": "",
                   "role": None if row is None else str(row.get("role", "")),
                   "organisation": None if row is None else str(row.get("department", row.get("region", ""))),
                   "profession": None if row is None else str(row.get("function", ""))})
        p.bench_index = k
        return p

    mentor_rows = mentors.to_dict("records") if mentors is not None else [None] * n
    mentee_rows = mentees.to_dict("records") if mentees is not None else [None] * n
    mentor_objs = [person(Mentor, r, k, "mentor") for k, r in enumerate(mentor_rows)]
    mentee_objs = [person(Mentee, r, k, "mentee") for k, r in enumerate(mentee_rows)]

    class SharedScore:
        """A rule in its RuleProtocol: the pair's score from the shared matrix."""

        def apply(self, match):
            return int(q[match.mentee.bench_index, match.mentor.bench_index])

    ineligible = rl.Disqualify(lambda match: not eligible[match.mentee.bench_index,
                                                          match.mentor.bench_index])
    rounds = [[SharedScore(), ineligible] for _ in range(3)]
    before = peak_rss_mb()
    t = time.perf_counter()
    rounds_done = []
    for rules in rounds:  # the body of mp.process_data, with each round's time reported
        mp.match_and_assign_participants(mp.generate_match_matrix(mentor_objs, mentee_objs, rules))
        rounds_done.append(time.perf_counter() - t - sum(rounds_done))
        print(f"@@ROUND@@ {len(rounds_done)} {rounds_done[-1]:.2f}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t
    e = [me.bench_index for me in mentee_objs for _ in me.mentors]
    j = [mo.bench_index for me in mentee_objs for mo in me.mentors]
    out = check_assignment(q.astype(float), ~eligible, e, j, 3, demand=3)
    out.update(time=elapsed, rss_before_mb=before, source=source, round_times=rounds_done,
               munkres=getattr(munkres, "__version__", "?"), munkres_file=munkres.__file__,
               matching_file=mp.__file__)
    return out


def w_mm_joint(spec):
    """mentormatch: every mentee needs 3 mentors, every mentor takes 3, one exact flow solve."""
    n, seed = spec["n"], spec["seed"]
    q, eligible, _, _, source = _shared_matrix(n, seed)
    import numpy as np
    from mentormatch.pairs import Candidates
    from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver

    get_solver("flow")
    before = peak_rss_mb()
    t = time.perf_counter()
    cand = Candidates.from_mask(eligible)
    problem = AssignmentProblem(cand, q[eligible].astype(float), np.full(n, 3.0),
                                demand=np.full(n, 3, dtype=np.int64))
    sol = get_solver("flow")(problem, SolverOptions())
    elapsed = time.perf_counter() - t
    out = check_assignment(q.astype(float), ~eligible, cand.mentee[sol.chosen],
                           cand.mentor[sol.chosen], 3, demand=3)
    out.update(time=elapsed, solver_time=sol.wall_time, status=sol.status, gap=sol.gap,
               rss_before_mb=before, source=source)
    return out


WORKERS = {
    "mentormatch assign(flow)": w_mm_assign,
    "mentormatch solver(flow)": w_mm_solver,
    "mentormatch solve_scored(dense, certified)": w_mm_scored,
    "scipy linear_sum_assignment": w_scipy,
    "lap.lapjv": w_lap,
    "OR-Tools dense min-cost flow": w_ortools_dense,
    "networkx max_weight_matching": w_networkx,
    "matching HospitalResident": w_hospital_resident,
    "quality": w_quality,
    "scoring": w_scoring,
    "scoring reference (numpy on tables)": w_scoring_reference,
    "mentor-match 7.0.1": w_mentor_match,
    "mentormatch joint flow": w_mm_joint,
    "pair at scale": w_pair_scale,
}


def worker_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    with TreeRss() as tree:
        try:
            out = WORKERS[spec["kind"]](spec)
            out["status_run"] = "ok"
        except BaseException as exc:  # noqa: BLE001 -- MemoryError, RecursionError: recorded, not fatal
            out = {"status_run": "error", "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                   "trace": traceback.format_exc()[-1500:]}
    out["peak_rss_mb"] = peak_rss_mb()
    out["child_peak_rss_mb"] = child_peak_rss_mb()
    out["tree_peak_rss_mb"] = tree.peak_mb
    sys.stdout.write("\n" + MARK + json.dumps(out, default=float) + "\n")
    sys.stdout.flush()
    return 0


# ============================================================================================
# parent: run measurements, collect, write the report
# ============================================================================================
def measure(spec: dict, timeout: float, mem_limit: int | None = None) -> dict:
    """Run one worker in a subprocess; the result dict always has ``status_run``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]

    def limit():
        if mem_limit:
            resource.setrlimit(resource.RLIMIT_AS, (mem_limit, mem_limit))

    t = time.perf_counter()
    # the caller's PYTHONPATH stays behind src: a peer installed in its own --target directory
    # (``matching`` beside mentor-match's namesake, see PEER_DIRS) is found through it
    path = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), MPLBACKEND="Agg")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              preexec_fn=limit, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        rounds = [line.split()[1:] for line in err.splitlines() if line.startswith("@@ROUND@@")]
        done = (f" ({len(rounds)} of 3 rounds finished, in "
                + ", ".join(f"{float(r[1]):.0f} s" for r in rounds) + ")") if rounds else ""
        return {"status_run": "timeout", "error": f"timed out after {timeout:.0f} s{done}",
                "wall": time.perf_counter() - t}
    wall = time.perf_counter() - t
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            out = json.loads(line[len(MARK):])
            out["wall"] = wall
            return out
    tail = (proc.stderr or "").strip().splitlines()[-3:]
    return {"status_run": "error", "wall": wall,
            "error": f"exit {proc.returncode}" + (" (killed: out of memory?)" if proc.returncode < 0 else "")
            + (": " + " | ".join(tail) if tail else "")}


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = int(line.split()[1]) * 1024 / GIB
    except OSError:
        pass
    from importlib import metadata
    for dist in ("numpy", "scipy", "pandas", "ortools", "networkx", "matching", "mentor-match",
                 "munkres", "mentormatch-pairing"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    for d in PEER_DIRS:  # mentor-match in its own directory (see PEER_DIRS)
        for dist in ("mentor_match", "munkres"):
            hits = sorted(d.glob(f"{dist}-*.dist-info")) if d.is_dir() else []
            if hits:
                info[f"{dist.replace('_', '-')} (peer dir)"] = hits[0].name.split("-")[1].removesuffix(".dist")
    try:
        info["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True, cwd=str(ROOT)).stdout.strip()
        if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                          text=True, cwd=str(ROOT)).stdout.strip():
            info["git"] += " with uncommitted changes"
    except OSError:
        pass
    return info


def ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 8 * GIB


def estimate_bytes(peer: str, n: int, m: int, c: int) -> int:
    """Rough peak memory of a dense measurement, to skip (and say so) what cannot fit."""
    cells = n * m
    return {
        "mentormatch assign(flow)": cells * 8 * 6,  # DataFrame + candidate index arrays + masks
        "mentormatch solver(flow)": cells * 8 * 5,
        "mentormatch solve_scored(dense, certified)": cells * 8 * 2,
        "scipy linear_sum_assignment": cells * 8 * (2 + 2 * c),  # expanded float64 cost, copied
        "lap.lapjv": cells * 8 * (2 + 3 * c),  # expanded cost, extended to a square
        "OR-Tools dense min-cost flow": cells * 8 * 2 + cells * 60,  # arrays + ~60 B per arc
        "networkx max_weight_matching": cells * c * 500,  # dict-of-dicts graph
        "matching HospitalResident": cells * 2 * 60,  # Python lists of player objects
    }.get(peer, cells * 8 * 4)


def parse_sizes(text: str) -> list[tuple[int, int, int, int]]:
    """``NxM:C`` dense, ``NxM:C/K`` sparse with K random candidate mentors per mentee."""
    out = []
    for part in text.split(","):
        dims, _, rest = part.strip().partition(":")
        c, _, k = (rest or "4").partition("/")
        n, m = dims.lower().split("x")
        out.append((int(n.replace("_", "")), int(m.replace("_", "")), int(c), int(k or 0)))
    return out


SPARSE_PEERS = {"mentormatch solver(flow)", "OR-Tools dense min-cost flow"}


def log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def run_speed(sizes, timeout: float, seed: int = 1, budget: float | None = None) -> list[dict]:
    """Every peer at every size, each in its own subprocess (``measure``); ``budget``: the
    seconds after which a measurement stops repeating its call (timing.BUDGET by default)."""
    rows = []
    failed_at: dict[str, str] = {}
    ram = ram_bytes()
    for n, m, c, k in sizes:
        for peer in SPEED_PEERS:
            row = {"peer": peer, "n": n, "m": m, "c": c, "k": k, "size_pairs": n * k if k else n * m}
            est = estimate_bytes(peer, n, k or m, c)
            if k and peer not in SPARSE_PEERS:
                row.update(status_run="skipped", error="not applicable: takes a dense matrix"
                           if "assign" in peer or "scipy" in peer else "not run on the sparse variant")
            elif (peer, bool(k)) in failed_at:
                row.update(status_run="skipped", error=f"not attempted: {failed_at[(peer, bool(k))]}")
            elif est > 0.8 * ram:
                row.update(status_run="skipped",
                           error=f"not attempted: needs about {est / GIB:.0f} GiB "
                                 f"(dense {n:,} x {m:,}), machine has {ram / GIB:.0f} GiB")
            else:
                log(f"[speed] {peer} {n}x{m} c={c} ...")
                spec = {"kind": peer, "n": n, "m": m, "c": c, "k": k, "seed": seed}
                row.update(measure(dict(spec, budget=budget) if budget else spec, timeout,
                                   mem_limit=int(0.85 * ram)))
                log(f"        -> {row.get('status_run')} {row.get('time', row.get('error'))}")
                if row["status_run"] != "ok":
                    failed_at[(peer, bool(k))] = f"{row['error'].split(':')[0]} at {n:,} x {m:,}"
            rows.append(row)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--write", metavar="PATH", help="write the Markdown report here")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: checks the harness runs")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"which sections to measure and write, of {','.join(SECTIONS)} (default: all, "
                        "the whole report); e.g. --sections speed refreshes section 2 and its headline "
                        "lines in the file --write names, leaving the rest as it was")
    p.add_argument("--sizes", help="speed sizes, e.g. 200x50:4,1000x250:4 (mentees x mentors : capacity)")
    p.add_argument("--quality-sizes", help="mentee counts for section 1, e.g. 100,1000,10000")
    p.add_argument("--mentor-match-sizes", help="N for section 3, e.g. 100,1000")
    p.add_argument("--seeds", type=int, help="random-assignment seeds (default 20; smoke 3)")
    p.add_argument("--timeout", type=float, help="seconds per speed measurement (default 90)")
    p.add_argument("--mentor-match-timeout", type=float, default=480,
                   help="seconds for one mentor-match run (default 480)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker_main(args.worker)
    selected = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(selected) - set(SECTIONS))
    if unknown:
        p.error(f"--sections: unknown {', '.join(unknown)}; the sections are {', '.join(SECTIONS)}")
    started = time.perf_counter()
    smoke = args.smoke
    speed_sizes = parse_sizes(args.sizes or ("30x10:3,60x20:3,200x50:3/10" if smoke else
                                             "200x50:4,1000x250:4,2000x500:4,10000x2500:4,"
                                             "100000x20000:5,100000x20000:5/50"))
    q_sizes = [int(x) for x in (args.quality_sizes or ("60" if smoke else "100,1000,10000")).split(",")]
    mm_sizes = [int(x) for x in (args.mentor_match_sizes or ("20" if smoke else "100,1000")).split(",")]
    seeds = args.seeds or (3 if smoke else 20)
    args.timeout = args.timeout or (60 if smoke else 90)
    info = machine()
    log(f"machine: {info}")
    mem = int(0.85 * ram_bytes())

    def quality():
        q_rows = []
        for n in q_sizes:
            m = max(2, round(n / 3.3))
            log(f"[quality] {n} x {m} ...")
            row = {"n": n, "m": m}
            row.update(measure({"kind": "quality", "n": n, "m": m, "seed": 1, "random_seeds": seeds,
                                "check_stable_programme": n <= 100}, timeout=120 if smoke else 600,
                               mem_limit=mem))
            log(f"        -> {row.get('status_run')} {row.get('pair_time', row.get('error'))}")
            q_rows.append(row)
        return {"quality": q_rows}

    def speed():
        speed_rows = run_speed(speed_sizes, args.timeout, budget=1.0 if smoke else None)
        scoring_rows = []
        for n in q_sizes:
            m = max(2, round(n / 3.3))
            log(f"[scoring] {n} x {m} ...")
            row = {"n": n, "m": m}
            row.update(measure({"kind": "scoring", "n": n, "m": m, "seed": 1}, timeout=600, mem_limit=mem))
            row["reference"] = measure({"kind": "scoring reference (numpy on tables)", "n": n, "m": m, "seed": 1,
                                        "check": n * m <= 1_000_000},  # same values as score_pairs?
                                       timeout=600, mem_limit=mem)
            scoring_rows.append(row)
        return {"speed": speed_rows, "scoring": scoring_rows, "timeout": args.timeout}

    def mentor_match():
        mm_rows = []
        for n in mm_sizes:
            log(f"[mentor-match] {n} x {n} ...")
            a = measure({"kind": "mentor-match 7.0.1", "n": n, "seed": 1},
                        timeout=60 if smoke else args.mentor_match_timeout)
            log(f"        -> {a.get('status_run')} {a.get('time', a.get('error'))}")
            b = measure({"kind": "mentormatch joint flow", "n": n, "seed": 1}, timeout=120 if smoke else 400)
            log(f"        -> {b.get('status_run')} {b.get('time', b.get('error'))}")
            mm_rows.append((n, a, b))
        return {"mentor_match": mm_rows}

    def scale():
        scale_rows = []
        for n, m, c in ([(300, 80, 5)] if smoke else [(100_000, 20_000, 5)]):
            log(f"[pair at scale] {n} x {m} (c={c}) ...")
            row = {"n": n, "m": m, "c": c}
            row.update(measure({"kind": "pair at scale", "n": n, "m": m, "c": c, "seed": 1, "force_scale": smoke},
                               timeout=120 if smoke else 900, mem_limit=mem))
            log(f"        -> {row.get('status_run')} {row.get('time', row.get('error'))}")
            scale_rows.append(row)
        return {"scale": scale_rows}

    rows, runs = {}, {}
    for name, run in (("quality", quality), ("speed", speed), ("mentor_match", mentor_match), ("scale", scale)):
        if name in selected:
            t, load = time.perf_counter(), os.getloadavg()[0]
            date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
            rows.update(run())
            runs[name] = {"date": date, "minutes": (time.perf_counter() - t) / 60,
                          "load": (load, os.getloadavg()[0])}

    if args.write:
        out = Path(args.write).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        plot_name = None
        if "speed" in rows and "mentor_match" in rows:
            png = out.parent / "time_vs_size.png" if smoke else HERE / "time_vs_size.png"
            if plot(rows["speed"], rows["mentor_match"], png):
                plot_name = os.path.relpath(png, out.parent)
        command = "benchmarks/run.py" + (" --smoke" if smoke else "") + (
            f" --sections {','.join(selected)}" if set(selected) != set(SECTIONS) else "")
        write_report(out, report_blocks(rows, runs, info, command, plot_name),
                     (time.perf_counter() - started) / 60)
        if smoke:
            out.with_suffix(".json").write_text(json.dumps(
                {"machine": info, **{k: v for k, v in rows.items() if k != "timeout"}}, default=str))
        log(f"wrote {out}")
    else:
        print(json.dumps(rows, default=str)[:5000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
