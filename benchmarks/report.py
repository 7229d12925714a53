"""The Markdown of ``run.py``'s part of BENCHMARKS.md, from the rows its measurements return:
the headline's lines, sections 1-5, each a marked block stamped with the run that measured it
(``sections.write_blocks`` writes them: all after a whole run, some after ``--sections``)."""
from __future__ import annotations

from pathlib import Path

SPEED_PEERS = ["mentormatch assign(flow)", "mentormatch solver(flow)",
               "mentormatch solve_scored(dense, certified)", "scipy linear_sum_assignment",
               "lap.lapjv", "OR-Tools dense min-cost flow", "networkx max_weight_matching", "matching HospitalResident"]



def size_label(n, m, c, k=0) -> str:
    return f"{n:,} x {m:,} (c={c})" + (f", sparse: {k} random candidates per mentee" if k else "")



def fmt_t(x):
    if x is None:
        return "-"
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def fmt_cell(row, key="time"):
    if row.get("status_run") != "ok":
        return f"*{row.get('error', row.get('status_run'))}*"
    return fmt_t(row.get(key))


def ms(values, digits=3):
    import statistics as st

    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{st.mean(values):.{digits}f} ± {st.stdev(values):.{digits}f}"


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


#: The exact peers of the speed section: the fastest of them at a size is "the fastest exact
#: peer" of issue 23's targets (HospitalResident is stable, not optimal).
EXACT_PEERS = {"scipy linear_sum_assignment": "on the capacity-expanded matrix",
               "lap.lapjv": "on the capacity-expanded matrix",
               "OR-Tools dense min-cost flow": "with every eligible arc",
               "networkx max_weight_matching": "on capacity-expanded mentor slots"}
#: Issue 23's plain-path targets for assign(): at a size, the fastest exact peer's time over
#: assign()'s must be at least this (CPU time, min of the repeated calls of each).
ASSIGN_TARGETS = {(10_000, 2_500): 40.0, (2_000, 500): 1.0, (200, 50): 1.0}


def _ok(row) -> bool:
    return bool(row) and row.get("status_run") == "ok"


def fmt_timing(row, key="time") -> str:
    """``min (median)`` of one clock over the row's repeated calls, or why it has none."""
    if not _ok(row):
        return f"*{row.get('error', row.get('status_run'))}*"
    med = row.get(f"{key}_median")
    return fmt_t(row[key]) + (f" ({fmt_t(med)})" if med is not None and row.get("runs", 1) > 1 else "")


def fmt_x(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def _ratio(peer_row, base_row) -> str:
    """peer ÷ base on CPU time, the wall-clock ratio in brackets."""
    return (f"{fmt_x(peer_row['cpu'] / base_row['cpu'])} ({fmt_x(peer_row['time'] / base_row['time'])} wall)"
            if _ok(peer_row) and _ok(base_row) else "-")


def speed_section(rows, scoring_rows, timeout) -> list[str]:
    from timing import method

    lines = ["## 2. Speed and peak memory of solving", "",
             "Uniform random scores (mentees x mentors, `numpy.random.default_rng(1)`), every mentor "
             "capacity c, 1% of pairs forbidden. Time = building the peer's model from the arrays + "
             "solving (data generation excluded), mentormatch and every peer alike: "
             f"{method()} (`benchmarks/timing.py`, the ladder's method too). Peak = the measurement "
             "process's `ru_maxrss` (it starts no child process, so this is its process tree's; it "
             "includes the interpreter, numpy and the score matrix). Objective = total score "
             "recomputed on the same matrix; every result is checked for forbidden pairs and "
             "capacities. Each measurement runs in its own subprocess with a "
             f"{timeout:.0f} s timeout; a peer that failed at a size is not attempted at larger ones.", "",
             "- *mentormatch assign(flow)*: the public `mm.assign(scores_df, capacity, forbidden)` "
             "(its result tables, built on first read, read after the timing);",
             "- *mentormatch solver(flow)*: the same solver through the array interface "
             "(`AssignmentProblem` + `get_solver(\"flow\")`), no DataFrames;",
             "- *scipy*: `linear_sum_assignment` on the n x (m·c) capacity-expanded matrix (forbidden = inf);",
             "- *lap.lapjv*: Jonker-Volgenant (PyPI `lap`) on the same expanded matrix (forbidden = 0);",
             "- *OR-Tools dense*: the naive model, `SimpleMinCostFlow` with every eligible arc;",
             "- *networkx*: `max_weight_matching` on mentees x capacity-expanded mentor slots;",
             "- *matching HospitalResident*: stable (resident-optimal), not optimal; full preference "
             "lists ordered by score on both sides.", ""]
    sizes = sorted({(r["n"], r["m"], r["c"], r.get("k", 0)) for r in rows},
                   key=lambda s: (bool(s[3]), s[0] * s[1]))
    by = {(r["peer"], r["n"], r["m"], r.get("k", 0)): r for r in rows}
    head = [size_label(*sz) for sz in sizes]
    for title, key, fmt in [("Time, wall clock: min of the calls (median)", "time", fmt_timing),
                            ("Time, CPU (the process's user + system): min of the calls (median)", "cpu", fmt_timing),
                            ("Timed calls", "runs", lambda r, k: f"{r[k]}" if _ok(r) else "-"),
                            ("Peak memory (MB)", "peak_rss_mb", lambda r, k: f"{r[k]:.0f}" if _ok(r) else "-"),
                            ("Total score (objective)", "objective",
                             lambda r, k: (f"{r[k]:.2f}" + (" ⚠ violations" if r.get("violations") else ""))
                             if _ok(r) else "-")]:
        lines += [f"**{title}**", "", "| peer | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        for peer in SPEED_PEERS:
            cells = [fmt(by[(peer, n, m, k)], key) if (peer, n, m, k) in by else "-" for n, m, c, k in sizes]
            lines.append(f"| {peer} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["**Ratios: peer time ÷ mentormatch assign(flow) time (sparse variant: ÷ mentormatch "
              "solver(flow) time), each the minimum of its calls, same size, same run; CPU time, the "
              "wall-clock ratio in brackets (above 1 = mentormatch faster)**", "",
              "| peer | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for peer in SPEED_PEERS[1:]:
        cells = []
        for n, m, c, k in sizes:
            base = "mentormatch solver(flow)" if k else "mentormatch assign(flow)"
            cells.append("-" if peer == base else _ratio(by.get((peer, n, m, k)), by.get((base, n, m, k))))
        lines.append(f"| {peer} | " + " | ".join(cells) + " |")
    lines.append("")
    if scoring_rows:
        lines += ["**The pipeline's scoring (validation + all features, no solving) on synthetic organisations**, "
                  "against a plain numpy pass over lookup tables of the distinct values that computes the same "
                  "values (`w_scoring_reference`: one whole-array gather per feature, then the weighted total)", "",
                  "| mentees x mentors | pairs | time | peak MB | numpy on tables | ratio |",
                  "|---|---|---|---|---|---|"]
        for r in scoring_rows:
            cell = fmt_cell(r)
            ref = r.get("reference") or {"status_run": "not run"}
            ratio = (f"{r['time'] / ref['time']:.2f}x" if r.get("status_run") == "ok" and ref.get("status_run") == "ok"
                     else "-")
            peak = f"{r['peak_rss_mb']:.0f}" if r.get("status_run") == "ok" else "-"
            lines.append(f"| {r['n']:,} x {r['m']:,} | {r['n'] * r['m']:,} | {cell} | {peak} | {fmt_cell(ref)} | {ratio} |")
        lines.append("")
    return lines


def mentor_match_section(mm_rows) -> list[str]:
    lines = ["## 3. Against mentor-match 7.0.1 (the closest domain peer)", "",
             "mentor-match pairs N mentors with N mentees in rounds: each round scores every "
             "(mentor, mentee) `Match` object with a list of rules and solves a 1:1 assignment with "
             "the pure-Python `munkres` package; the caller passes one rule list per round (three "
             "here), and a pair made in an earlier round is disqualified in later ones, so each "
             "person gets up to three partners. Both libraries get the same people (a synthetic "
             "organisation of N mentees and N mentors, converted to its `Mentor`/`Mentee` objects: "
             "grade, email, role, organisation, profession) and the same integer score matrix "
             "(mentormatch's default scores x 1000, rounded, since its scores are ints), given to "
             "mentor-match as a rule in its `RuleProtocol`; pairs that mentormatch's rules make "
             "ineligible are a `Disqualify` rule. mentormatch solves the same three-partners problem "
             "jointly and exactly: `AssignmentProblem(demand=3 per mentee, capacity=3 per mentor)` "
             "with `get_solver(\"flow\")`. Totals are recomputed on the same matrix for both.", "",
             "What differs, precisely: mentor-match solves three 1:1 assignments in sequence (greedy "
             "across rounds, optimal within each), so its total can only be at most the joint "
             "optimum; it requires a full N x N `Match` object grid per round (no sparse candidates); "
             "it gives a disqualified pair score 0 but Munkres may still select it, in which case "
             "that person simply gets no partner that round.", "",
             "| N x N | mentor-match time | mentormatch time | speed-up | mentor-match total | "
             "mentormatch total | total ratio | pairs (mm-7 / ours) | peak MB (mm-7 / ours) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, a, b in mm_rows:
        ok = a.get("status_run") == "ok" and b.get("status_run") == "ok"
        lines.append(
            f"| {n:,} | {fmt_cell(a)} | {fmt_cell(b)} | "
            + (f"{a['time'] / b['time']:.0f}x | {a['objective']:.0f} | {b['objective']:.0f} | "
               f"{b['objective'] / max(a['objective'], 1e-9):.4f} | {a['pairs']} / {b['pairs']} | "
               f"{a['peak_rss_mb']:.0f} / {b['peak_rss_mb']:.0f} |" if ok else "- | - | - | - | - | - |"))
    for n, a, b in mm_rows:
        if a.get("round_times"):
            lines.append(f"\nmentor-match rounds at {n:,} x {n:,}: "
                         + ", ".join(fmt_t(x) for x in a["round_times"]) + ".")
    for n, a, b in mm_rows[:1]:
        if a.get("status_run") == "ok":
            lines += ["", f"Score matrix: {a.get('source')}. mentor-match ran with munkres "
                          f"{a.get('munkres')} from `{Path(a.get('munkres_file', '')).parent.name}`."]
    lines.append("")
    return lines


def plot(speed_rows, mm_rows, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for peer in SPEED_PEERS:
        pts = sorted((r["size_pairs"], r["time"]) for r in speed_rows
                     if r["peer"] == peer and r.get("status_run") == "ok" and not r.get("k"))
        if pts:
            line, = ax.plot(*zip(*pts), marker="o", label=peer)
            sp = [(r["size_pairs"], r["time"]) for r in speed_rows
                  if r["peer"] == peer and r.get("status_run") == "ok" and r.get("k")]
            if sp:
                ax.plot(*zip(*sp), marker="*", markersize=12, linestyle="none", color=line.get_color(),
                        label=f"{peer}, sparse candidates")
    for label, idx in (("mentor-match 7.0.1 (3 partners each)", 1), ("mentormatch joint flow (3 partners each)", 2)):
        pts = sorted((row[0] * row[0], row[idx]["time"]) for row in mm_rows if row[idx].get("status_run") == "ok")
        if pts:
            ax.plot(*zip(*pts), marker="s", linestyle="--", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("problem size: mentees x mentors (candidate pairs)")
    ax.set_ylabel("time to solve (s)")
    ax.set_title("mentormatch vs peers: solve time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _scale_peak(r) -> str:
    """The process tree's peak at one instant (sampled), with each process's own peak beside it."""
    child = r.get("child_peak_rss_mb", 0.0)
    tree = r.get("tree_peak_rss_mb") or (r["peak_rss_mb"] + child)
    return f"{tree / 1024:.2f} GiB" + (f" (own peaks: {r['peak_rss_mb'] / 1024:.2f}, child "
                                       f"{child / 1024:.2f})" if child else "")


def _repaired(r) -> str:
    """How many of a row's rounds repaired the last optimum instead of a cold flow."""
    return f" ({r['repaired']} repaired)" if r.get("repaired") else ""


def scale_section(rows) -> list[str]:
    lines = ["## 5. End to end at scale: `mm.pair` on people", "",
             "A synthetic organisation (`synthetic.organisation`, seed 1) with every mentor's capacity "
             "set to c; default rules, all six features; one subprocess. *prepare* = validation, "
             "features, bound models, rules; *solve* = first prices from a sub-market (every 5th "
             "mentee, 5x demand, run until its prices settle; itself priced by its own sub-market), "
             "one pass keeping each mentee's best pairs by the bound less the inner sub-market's "
             "prices (run beside the sub-market, which is in a forked child), the first sparse set "
             "ranked by the sub-market's prices, exact scores where they matter, certified "
             "min-cost flow rounds (a round with few violating pairs repairs the last optimum by "
             "shortest paths instead of a cold flow: *repaired*), contributions and unmatched "
             "reasons; then "
             "`explain()` for three mentees. Peak memory is the process tree's resident memory at one "
             "instant, sampled every 20 ms (the process, which holds the two tables, and the "
             "sub-market's forked child together); each one's own `ru_maxrss` is beside it. "
             "Random: mentees in a seeded random order each take a random eligible "
             "mentor with a free place, scored exactly.", "",
             "| size | status | prepare | solve | explain x3 | total | peak memory | rounds | pairs checked "
             "| scored exactly | matched | mean score (random) |", "|" + "---|" * 12]
    for r in rows:
        label = f"{r['n']:,} x {r['m']:,} (c={r['c']})"
        if r.get("status_run") != "ok":
            lines.append(f"| {label} | *{r.get('error')}* |" + " |" * 10)
            continue
        rnd = (f"{r['mean_score']:.3f} ({r['random_mean']:.3f}, x{r['mean_score'] / r['random_mean']:.2f})"
               if r.get("random_mean") else f"{r['mean_score']:.3f}")
        lines.append(f"| {label} | {r['status']}{' (certificate holds)' if r.get('holds') else ''} | "
                     f"{fmt_t(r['prepare_time'])} | {fmt_t(r['solve_time'])} | {fmt_t(r['explain_3_time'])} | "
                     f"**{fmt_t(r['time'])}** | {_scale_peak(r)} | {r.get('rounds')}{_repaired(r)} | "
                     f"{(r.get('pairs_checked') or 0):,} | {(r.get('pairs_scored_exactly') or 0):,} | "
                     f"{r['matched']:,} of {r['n']:,} | {rnd} |")
    lines.append("")
    return lines


def headline_quality(q_rows) -> list[str]:
    import statistics as st

    out = []
    for r in q_rows:
        if _ok(r):
            rnd = st.mean(r["random"]["mean"])
            out.append(f"- {r['n']:,} mentees: optimal mean score {r['optimal']['mean']:.3f} vs random "
                       f"{rnd:.3f} (x{r['optimal']['mean'] / rnd:.2f}); top-3 mentor "
                       f"{r['optimal']['top3']:.0%} vs {st.mean(r['random']['top3']):.0%}.")
    return out


def headline_speed(rows) -> list[str]:
    """At each dense size, ``assign()`` against the fastest exact peer (CPU time, min of the
    calls of each, the wall clock beside it), and issue 23's target where it sets one."""
    by = {(r["peer"], r["n"], r["m"]): r for r in rows if not r.get("k")}
    out = []
    for n, m in sorted({(n, m) for _, n, m in by}, key=lambda s: s[0] * s[1]):
        r = by.get(("mentormatch assign(flow)", n, m))
        peers = [(p, by[(p, n, m)]) for p in EXACT_PEERS if _ok(by.get((p, n, m)))]
        if not _ok(r) or not peers:  # said, not dropped: a target without its figures is open
            if (n, m) in ASSIGN_TARGETS:
                why = "; ".join(f"{p}: {fmt_cell(by[(p, n, m)])}" for p in ("mentormatch assign(flow)",
                                                                            *EXACT_PEERS) if (p, n, m) in by)
                out.append(f"- {n:,} x {m:,}: issue 23's target **not measured** in this run ({why}).")
            continue
        name, q = min(peers, key=lambda pq: pq[1]["cpu"])
        cpu, wall = q["cpu"] / r["cpu"], q["time"] / r["time"]
        line = (f"- {n:,} x {m:,} (capacity {r['c']}, 1% forbidden): `assign()` {fmt_t(r['cpu'])} CPU "
                f"({fmt_t(r['time'])} wall), min of {r['runs']} calls; the fastest exact peer, {name} "
                f"{EXACT_PEERS[name]}, {fmt_t(q['cpu'])} CPU ({fmt_t(q['time'])} wall), min of "
                f"{q['runs']} call{'s' if q['runs'] > 1 else ''}: it takes {fmt_x(cpu)} assign()'s CPU "
                f"time ({fmt_x(wall)} its wall time).")
        others = [f"{p} {_ratio(x, r)}" for p, x in peers if p != name]
        if others:
            line += " Others: " + "; ".join(others) + "."
        target = ASSIGN_TARGETS.get((n, m))
        if target is not None:
            goal = "at least as fast as" if target == 1 else f"at least {target:g}x faster than"
            line += (f" Issue 23's target, assign() {goal} the fastest exact peer: "
                     f"**{'met' if cpu >= target else 'not met'}** by CPU time, "
                     f"{'met' if wall >= target else 'not met'} by wall time.")
        out.append(line)
    return out


def headline_mentor_match(mm_rows) -> list[str]:
    out = []
    for n, a, b in mm_rows:
        if _ok(a) and _ok(b):
            out.append(f"- mentor-match 7.0.1 at {n:,} x {n:,}: {fmt_t(a['time'])} vs mentormatch "
                       f"{fmt_t(b['time'])} ({a['time'] / b['time']:.0f}x faster, one run each, wall), "
                       f"total score {b['objective'] / max(a['objective'], 1e-9):.4f}x its own.")
        elif not _ok(a):
            out.append(f"- mentor-match 7.0.1 at {n:,} x {n:,}: *{a.get('error')}*; mentormatch {fmt_cell(b)}.")
    return out


#: Issue 23's target for ``pair()`` at 100,000 x 20,000: seconds and GiB (the process tree).
PAIR_TARGET = {(100_000, 20_000): (20.0, 2.0)}


def headline_scale(rows) -> list[str]:
    out = []
    for r in rows:
        if not _ok(r):
            continue
        t = r["prepare_time"] + r["solve_time"]
        gib = (r.get("tree_peak_rss_mb") or r["peak_rss_mb"] + r.get("child_peak_rss_mb", 0.0)) / 1024
        line = (f"- `mm.pair` at {r['n']:,} x {r['m']:,} on people: {fmt_t(t)} wall (prepare + solve, "
                f"one run), status {r['status']}; peak memory {gib:.2f} GiB (the process tree at one "
                "instant, over the whole measurement).")
        goal = PAIR_TARGET.get((r["n"], r["m"]))
        if goal:
            line += (f" Issue 23's target, at most {goal[0]:.0f} s and {goal[1]:.0f} GiB: time "
                     f"**{'met' if t <= goal[0] else 'not met'}**, memory "
                     f"**{'met' if gib <= goal[1] else 'not met'}**.")
        out.append(line)
    return out


HEADLINES = {"quality": headline_quality, "speed": headline_speed,
             "mentor_match": headline_mentor_match, "scale": headline_scale}
SECTION_NUMBER = {"quality": 1, "speed": 2, "mentor_match": 3, "scale": 5}


#: run.py's sections, in file order: each measured and written on its own with ``--sections``
#: (the headline's lines drawn from a section are written with it; the plot, which needs the
#: speed and mentor-match rows, with a run of both).
SECTIONS = ("quality", "speed", "mentor_match", "scale")
#: Its marked blocks, in file order (``run_headline_X``: the headline's lines from section X).
BLOCKS = ("run_machine", *(f"run_headline_{s}" for s in SECTIONS), "run_quality", "run_speed",
          "run_mentor_match", "run_plot", "run_scale")


def stamp(info, run, command) -> str:
    """The line that says which run measured a section: when, which code, how long, what load."""
    return (f"*Measured {run['date']} at git {info.get('git', '?')} by `{command}` in "
            f"{run['minutes']:.1f} min; load average (1 min) {run['load'][0]:.1f} at the start, "
            f"{run['load'][1]:.1f} at the end, on the machine above.*")


def machine_lines(info) -> list[str]:
    return ["## Machine", "",
            f"- CPU: {info.get('cpu', '?')}, {info.get('cores')} cores; RAM {info.get('ram_gib', 0):.1f} GiB",
            f"- Python {info['python']} on {info['platform']}",
            "- " + ", ".join(f"{k} {v}" for k, v in info.items()
                             if k not in ("python", "platform", "date", "cores", "cpu", "ram_gib", "git")
                             and v is not None), ""]


def report_blocks(rows: dict, runs: dict, info, command: str, plot_name) -> dict[str, list[str]]:
    """The blocks of the sections this run measured (``rows`` has theirs), each stamped."""
    def stamped(lines):  # the stamp under the section's title
        return [*lines[:2], stamp(info, runs[name], command), "", *lines[2:]]

    # the machine block only with a whole run: the sections it describes were measured there
    blocks = {"run_machine": machine_lines(info)} if all(name in rows for name in SECTIONS) else {}
    for name in SECTIONS:
        if name not in rows:
            continue
        head = HEADLINES[name](rows[name])
        blocks[f"run_headline_{name}"] = (
            [*head, f"- *The lines above: section {SECTION_NUMBER[name]}'s run, "
                    f"{runs[name]['date']}, git {info.get('git', '?')}.*", ""] if head else [])
        if name == "quality":
            blocks["run_quality"] = stamped(quality_section(rows["quality"]))
        elif name == "speed":
            blocks["run_speed"] = stamped(speed_section(rows["speed"], rows["scoring"], rows["timeout"]))
        elif name == "mentor_match":
            blocks["run_mentor_match"] = stamped(mentor_match_section(rows["mentor_match"]))
        else:
            blocks["run_scale"] = stamped(scale_section(rows["scale"]))
    if "speed" in rows and "mentor_match" in rows:
        blocks["run_plot"] = ["## 4. Time against size", "",
                              *([f"![solve time against problem size, log-log]({plot_name})", ""] if plot_name
                                else ["(matplotlib not available: no plot)", ""]),
                              f"*Drawn from sections 2 and 3 of the run of {runs['speed']['date']}.*", ""]
    return blocks


def write_report(path: Path, blocks: dict[str, list[str]], total_minutes: float):
    """Write run.py's part of the report (``sections.write_blocks``): the whole of it after a
    whole run, else only the blocks of the sections run; the other scripts' sections stay."""
    from sections import write_blocks

    head = ["# Benchmarks", "",
            "The headline and sections 1-5 are written by `benchmarks/run.py` (`make bench`; the whole "
            f"run took {total_minutes:.1f} minutes last time); `benchmarks/run.py --sections speed "
            "--write BENCHMARKS.md` refreshes one section (and its headline lines) in a few minutes. "
            "Each section states the run that measured it: date, git commit, duration, load. Every "
            "ratio compares figures measured in the same run on this machine. Re-run to refresh; do "
            "not edit by hand.", ""]
    write_blocks(path, head, list(BLOCKS), blocks, before={"run_headline_quality": ["## Headline", ""]})
