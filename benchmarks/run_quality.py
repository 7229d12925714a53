"""Section 1 of BENCHMARKS.md, quality on synthetic organisations: ``mm.pair`` against random
(over seeds), greedy and stable assignment on the same eligible pairs and capacities; score
distribution, share matched, share with a top-3 mentor, group fairness; and the headline's
lines drawn from it."""
from __future__ import annotations

import time

from cells import fmt_t, is_ok, ms, status_cell
from harness import measure_logged, use_src
from rss import TreeRss


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
    use_src()
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
    out["status"] = status_cell(result)
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


WORKERS = {"quality": w_quality}


def mentors_for(n: int) -> int:
    """The mentors of a synthetic organisation of ``n`` mentees in sections 1 and 2 (its scoring
    table): mentees / 3.3."""
    return max(2, round(n / 3.3))


def run(sizes, seeds: int, smoke: bool, mem: int) -> list[dict]:
    """``w_quality`` at each size (``n`` mentees, ``n / 3.3`` mentors) in its own subprocess."""
    q_rows = []
    for n in sizes:
        m = mentors_for(n)
        q_rows.append({"n": n, "m": m, **measure_logged(
            f"[quality] {n} x {m}", {"kind": "quality", "n": n, "m": m, "seed": 1, "random_seeds": seeds,
                                     "check_stable_programme": n <= 100},
            timeout=120 if smoke else 600, mem_limit=mem, figure="pair_time")})
    return q_rows


def quality_section(q_rows) -> list[str]:
    lines = ["## 1. Quality on synthetic organisations", "",
             "`mm.synthetic.organisation(n_mentees, n_mentors, seed=1)` with mentors = mentees / 3.3 "
             "and the generator's capacities; default programme. *optimal* = `mm.pair`; *random* = "
             "`baseline(result, \"random\", seed)` over the seeds shown (mean ± sd; the first seed "
             "through `baseline()`, the others through the same solver on the same problem); "
             "*greedy* = `baseline(result, \"greedy\")`; *stable* = the `stable` solver on the same "
             "eligible pairs and capacities (what `programme={\"solver\": \"stable\"}` runs). "
             "Score figures are over the pairs made; *matched* and *top-3* are shares of all mentees "
             "(*top-3*: paired with one of the mentee's three best-scoring eligible mentors). "
             "Fairness: per group of `gender` and of `region`, the matched share and the mean score; "
             "the table gives min/max across groups (1.00 = equal). Peak memory of `mm.pair`: the "
             "process tree's resident memory at one instant, sampled every 20 ms during the call; of the "
             "whole measurement: its process's `ru_maxrss` (the baselines run after `mm.pair`).", ""]
    metrics = [("mean", "mean score"), ("median", "median score"), ("p10", "10th pct score"),
               ("matched", "matched"), ("top3", "top-3 mentor"),
               ("gender_share_ratio", "gender: matched min/max"), ("gender_score_ratio", "gender: score min/max"),
               ("region_share_ratio", "region: matched min/max"), ("region_score_ratio", "region: score min/max")]
    for row in q_rows:
        head = f"### {row['n']:,} mentees x {row['m']:,} mentors"
        if row.get("status_run") != "ok":
            lines += [head, "", f"Not measured: *{row.get('error')}* (after {row.get('wall', 0):.0f} s).", ""]
            continue
        nr = len(row["random"]["mean"])
        lines += [head, "",
                  f"`mm.pair`: {fmt_t(row['pair_time'])} end to end (solver {row['solver']}: "
                  f"{fmt_t(row['solver_time'])}, status {row['status']}); "
                  f"{row['n_pairs_eligible']:,} eligible pairs; capacity {row['capacity_total']:.0f} "
                  f"for {row['n_mentees']:,} mentees; peak memory: `mm.pair` "
                  f"{row['pair_peak_mb']:.0f} MB, the whole measurement with the baselines "
                  f"{row['peak_rss_mb']:.0f} MB. "
                  f"Groups: {', '.join(f'{k} {v}' for k, v in row['groups'].items()) or 'none'}.", ""]
        stable_ok = "error" not in row["stable"]
        cols = ["optimal", f"random ({nr} seeds)", "greedy", "stable"]
        lines += ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for key, label in metrics:
            if key not in row["optimal"]:
                continue
            cells = [f"{row['optimal'][key]:.3f}", ms(row["random"][key]), f"{row['greedy'][key]:.3f}",
                     f"{row['stable'][key]:.3f}" if stable_ok else "-"]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        import statistics as st
        rnd_mean = st.mean(row["random"]["mean"])
        lines += ["", f"Lift of optimal over random: mean score x{row['optimal']['mean'] / rnd_mean:.2f}, "
                  f"total score x{row['optimal']['total'] / st.mean(row['random']['total']):.2f}; "
                  f"over greedy: total x{row['optimal']['total'] / row['greedy']['total']:.3f}"
                  + (f"; over stable: total x{row['optimal']['total'] / row['stable']['total']:.3f}"
                     if stable_ok else f". Stable: *{row['stable']['error']}*") + ".", ""]
    return lines


def headline_quality(q_rows) -> list[str]:
    import statistics as st

    out = []
    for r in q_rows:
        if is_ok(r):
            rnd = st.mean(r["random"]["mean"])
            out.append(f"- {r['n']:,} mentees: optimal mean score {r['optimal']['mean']:.3f} vs random "
                       f"{rnd:.3f} (x{r['optimal']['mean'] / rnd:.2f}); top-3 mentor "
                       f"{r['optimal']['top3']:.0%} vs {st.mean(r['random']['top3']):.0%}.")
    return out
