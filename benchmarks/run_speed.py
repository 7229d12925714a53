"""Section 2 of BENCHMARKS.md, speed and peak memory of solving: every peer of
``speed_workers.py`` at every size, each measurement in its own subprocess, then the section's
tables and the headline's lines drawn from them (``assign()`` against the fastest exact peer,
against issue 23's targets). The scoring table under it is ``run_scoring.py``'s."""
from __future__ import annotations

from cells import fmt_cell, fmt_t, fmt_timing, fmt_x, is_ok, size_label
from harness import GIB, measure_logged, ram_bytes
from run_scoring import scoring_table
from speed_workers import PEERS

#: The peers, in the order of the section's tables.
SPEED_PEERS = list(PEERS)
#: The peers that also run on the sparse variant (``NxM:C/K``: K candidate mentors a mentee).
SPARSE_PEERS = {name for name, peer in PEERS.items() if peer.sparse}
#: The exact peers, and what each runs on (the headline says it of the fastest).
EXACT_PEERS = {name: peer.exact for name, peer in PEERS.items() if peer.exact}
#: Issue 23's plain-path targets for assign(): at a size, the fastest exact peer's time over
#: assign()'s must be at least this (CPU time, min of the repeated calls of each).
ASSIGN_TARGETS = {(10_000, 2_500): 40.0, (2_000, 500): 1.0, (200, 50): 1.0}


def run(sizes, timeout: float, seed: int = 1, budget: float | None = None) -> list[dict]:
    """Every peer at every size, each in its own subprocess (``measure``); ``budget``: the
    seconds after which a measurement stops repeating its call (timing.BUDGET by default)."""
    rows = []
    failed_at: dict[str, str] = {}
    ram = ram_bytes()
    for n, m, c, k in sizes:
        for peer in SPEED_PEERS:
            row = {"peer": peer, "n": n, "m": m, "c": c, "k": k, "size_pairs": n * k if k else n * m}
            est = PEERS[peer].bytes(n * (k or m), c)
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
                spec = {"kind": peer, "n": n, "m": m, "c": c, "k": k, "seed": seed}
                row.update(measure_logged(f"[speed] {peer} {n}x{m} c={c}", dict(spec, budget=budget) if budget
                                          else spec, timeout, mem_limit=int(0.85 * ram)))
                if row["status_run"] != "ok":
                    failed_at[(peer, bool(k))] = f"{row['error'].split(':')[0]} at {n:,} x {m:,}"
            rows.append(row)
    return rows


def _ratio(peer_row, base_row) -> str:
    """peer ÷ base on CPU time, the wall-clock ratio in brackets."""
    return (f"{fmt_x(peer_row['cpu'] / base_row['cpu'])} ({fmt_x(peer_row['time'] / base_row['time'])} wall)"
            if is_ok(peer_row) and is_ok(base_row) else "-")


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
                            ("Timed calls", "runs", lambda r, k: f"{r[k]}" if is_ok(r) else "-"),
                            ("Peak memory (MB)", "peak_rss_mb", lambda r, k: f"{r[k]:.0f}" if is_ok(r) else "-"),
                            ("Total score (objective)", "objective",
                             lambda r, k: (f"{r[k]:.2f}" + (" ⚠ violations" if r.get("violations") else ""))
                             if is_ok(r) else "-")]:
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
    return lines + scoring_table(scoring_rows)


def headline_speed(rows) -> list[str]:
    """At each dense size, ``assign()`` against the fastest exact peer (CPU time, min of the
    calls of each, the wall clock beside it), and issue 23's target where it sets one."""
    by = {(r["peer"], r["n"], r["m"]): r for r in rows if not r.get("k")}
    out = []
    for n, m in sorted({(n, m) for _, n, m in by}, key=lambda s: s[0] * s[1]):
        r = by.get(("mentormatch assign(flow)", n, m))
        peers = [(p, by[(p, n, m)]) for p in EXACT_PEERS if is_ok(by.get((p, n, m)))]
        if not is_ok(r) or not peers:  # said, not dropped: a target without its figures is open
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

