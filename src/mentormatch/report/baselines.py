"""The audit's baselines: seeded random, greedy and stable assignments of the same eligible
pairs, capacities and locks, side constraints left out, and the lift of the result over them
(its total score against theirs) with the score histogram against the mean random run. Each
baseline carries its solver's bound on the total of every assignment of the same pairs without
the side constraints (:func:`mentormatch.solvers.baselines.baseline_bound`), and so its gap: how
far at most it is from that optimum.

Over every eligible pair: a scale-path round's solver problem holds only each mentee's best
pairs, which would flatter the baselines, so there they read every pair on demand.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import MentormatchError

BASELINES = ("random", "greedy", "stable")


def unconstrained(problem):
    """The problem without its side constraints."""
    return problem.without_side()


def run_solver(problem, name: str, seed: int = 0):
    """(solution, "") of solver ``name`` on ``problem``, or (None, why) when it is not available
    or fails."""
    from ..errors import UnknownNameError
    from ..solvers import SolverOptions, get_solver

    try:
        solve = get_solver(name)  # built-in solvers load on first use
    except UnknownNameError:
        return None, f"solver {name!r} is not available"
    try:
        return solve(problem, SolverOptions(seed=seed)), ""
    except (MentormatchError, ValueError) as exc:
        return None, f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _baseline_runner(data, problem):
    """``run(name, seed) -> (problem, solution or None, why)``: a baseline over every eligible
    pair (the scale path's pair reader, or the complete set's problem), side constraints left
    out; None when a scale-path result lost its reader (pickled)."""
    if not data.get("scale_path"):
        plain = unconstrained(problem)

        def run(name, seed):
            sol, why = run_solver(plain, name, seed)
            return plain, sol, why
        return run
    if "pair_reader" not in data:
        return None
    from ..solvers.baselines_rows import solve_on_reader

    def run(name, seed):
        try:
            base, sol = solve_on_reader(name, data["pair_reader"](), data["capacity"],
                                        demand=data.get("demand"), load=data.get("load"),
                                        locked=data.get("locked"),
                                        coverage_first=bool(data.get("coverage_first")), seed=seed)
        except (MentormatchError, ValueError) as exc:
            return None, None, f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return base, sol, ""
    return run


def _bound(sol) -> float:
    """A baseline's bound, NaN where its solver gives none."""
    return np.nan if sol.bound is None else float(sol.bound)


def lift_tables(data: dict, problem, pairs: pd.DataFrame, score: np.ndarray, objective: float,
                seeds: int, bins: int, baselines: tuple[str, ...],
                notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(lift, histogram, random scores): the result's total against ``seeds`` random runs (seeds
    ``0 .. seeds-1``) and the greedy and stable baselines named in ``baselines``, each with its
    ``bound`` and ``gap`` (the random row's: its mean total's; NaN on the result's row, whose
    own bound holds under the side constraints the baselines leave out), and the histogram of the result's pair scores (``score``, aligned with ``pairs``) against the mean
    random run in ``bins`` bins. What could not be run is said in ``notes`` (appended to).

    Raises
    ------
    ValueError
        When ``baselines`` names one that is not in ``BASELINES``.
    """
    run = _baseline_runner(data, problem)
    rand_totals, rand_matched, rand_scores, rand_bound = [], [], [], np.nan
    if run is None:
        notes.append("baselines over every eligible pair are not available: this result's pair "
                     "reader was not transferred (it cannot be pickled)")
        seeds = 0
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"audit baselines: {unknown[0]!r} is not one of {list(BASELINES)}")
    if "random" not in baselines:
        seeds = 0
    for s in range(int(seeds)):
        base, sol, why = run("random", s)
        if sol is None:
            notes.append(why)
            break
        rand_totals.append(sol.objective)
        rand_bound = _bound(sol)  # (every draw's: the same pairs)
        rand_matched.append(len(np.unique(base.pairs.mentee[sol.chosen])))
        rand_scores.append(base.score[sol.chosen])
    random_scores = np.concatenate(rand_scores) if rand_scores else np.zeros(0)
    rows = [("result", 1, objective, 0.0, objective, objective,
             float(score.mean()) if len(score) else 0.0, int(pairs["mentee_id"].nunique()) if len(pairs) else 0,
             np.nan)]
    if rand_totals:
        t = np.asarray(rand_totals)
        rows.append(("random", len(t), t.mean(), t.std(ddof=1) if len(t) > 1 else 0.0, t.min(), t.max(),
                     float(random_scores.mean()) if len(random_scores) else 0.0, float(np.mean(rand_matched)),
                     rand_bound))
    for name in [b for b in ("greedy", "stable") if b in baselines] if run is not None else ():
        base, sol, why = run(name, 0)
        if sol is None:
            notes.append(f"no {name} baseline: {why}")
            continue
        sc = base.score[sol.chosen]
        rows.append((name, 1, sol.objective, 0.0, sol.objective, sol.objective,
                     float(sc.mean()) if len(sc) else 0.0, len(np.unique(base.pairs.mentee[sol.chosen])),
                     _bound(sol)))
    lift = pd.DataFrame(rows, columns=["method", "runs", "total_mean", "total_std", "total_min",
                                       "total_max", "mean_score", "matched", "bound"])
    with np.errstate(divide="ignore", invalid="ignore"):
        lift["lift"] = np.where(lift["total_mean"] > 0, objective / lift["total_mean"], np.nan)
    lift["gain"] = objective - lift["total_mean"]
    with np.errstate(divide="ignore", invalid="ignore"):  # (Solution.gap's rule, on the mean)
        lift["gap"] = np.maximum(0.0, (lift["bound"] - lift["total_mean"])
                                 / np.maximum(lift["bound"].abs(), 1e-12))

    # ---- histogram: result vs the mean random run
    if len(score) or len(random_scores):
        allv = np.concatenate([score, random_scores])
        lo, hi = float(allv.min()), float(allv.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        h_opt = np.histogram(score, edges)[0]
        h_rnd = np.histogram(random_scores, edges)[0] / max(len(rand_scores), 1)
        histogram = pd.DataFrame({"bin_left": edges[:-1], "bin_right": edges[1:], "optimal": h_opt,
                                  "random_mean": h_rnd})
    else:
        histogram = pd.DataFrame(columns=["bin_left", "bin_right", "optimal", "random_mean"])
    return lift, histogram, random_scores
