"""Time per round of a programme run over several rounds, with joiners, leavers, priority and
continuity; prints one line per round.

The organisation: ``mm.synthetic.organisation`` with a pool of ``1.5 x n_mentees`` mentees and
``1.2 x n_mentors`` mentors (seeded). Each round takes ``n_mentees`` of the mentee pool (a window
that moves by 10 %: 10 % leave, 10 % join) and ``n_mentors`` of the mentors (a window moving by
5 %); between rounds a seeded 30 % of the pairs in force end (recorded outcomes). The programme:
``allow_repeats=True, cooldown_rounds=1, priority="weight", continuity=True``, default rules.
Stated preferences and manager links naming someone outside the round are cleared, as an HR export
would. A round that fails is reported with its error (the programme stays as it was) and the run
stops there.

Time is :meth:`Programme.run_round` alone (data preparation excluded), wall clock.

Usage::

    python benchmarks/rounds.py                               # 5 rounds at 20,000 x 5,000
    python benchmarks/rounds.py --mentees 2000 --mentors 500  # a smaller check
    python benchmarks/rounds.py --no-bonuses                  # without priority, continuity
    python benchmarks/rounds.py --coverage-first              # rules: the most mentees first

Measured (2-core machine shared with other work, this script; BENCHMARKS.md has the table)::

    2,000 x 500 (1 M pairs, the complete path): 2.8, 2.6, 4.5, 3.5, 3.5 s for rounds 1-5
    20,000 x 5,000 (100 M pairs, the scale path), 2026-12-05, load 0.8-1.2: 6.7, 6.7, 6.2,
        7.9, 7.8 s for rounds 1-5, all optimal, every place filled, peak memory 1.64 GiB: the
        priority/continuity PairBonus is folded into the scale path's scorer and solved by the
        certified flow (before, the LP/MIP engine took 118-125 s a round and left up to 5,300
        places empty). Pairs in force that a manager rejoining puts on the management line end
        (``ineligible``) before the solve at every size.
    20,000 x 5,000 --coverage-first --no-bonuses, 2026-12-06, load 4-10 (CPU user + sys of the
        rounds 1-5): 12.2-13.2, 5.4-5.6, 5.6-6.0, 5.4, 5.2-6.1 s before the warm repair worked
        under coverage, 12.5-14.1, 5.5-6.0, 6.4-6.6, 6.0-6.1, 6.6-6.9 s after (all optimal, the
        same counts): within the noise of the load; the repair applies in 1-2 of the 4-6
        certified rounds of each, and pays only with few violators (s18h5's report).
    20,000 x 5,000 --coverage-first with the bonuses (priority, continuity), 2026-12-06, load
        8-11: before, round 2 failed (the scale path sent coverage_first with a bonus to the
        LP/MIP engine: TimeLimitError after 96 s); now the bonus is merged into the scores there
        too and the certified flow counting mentees solves every round: all 5 optimal, CPU
        14.7, 17.0, 10.3, 11.7, 9.0 s (s18h8's report).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from cells import status_cell


def _window(table: pd.DataFrame, start: int, size: int) -> pd.DataFrame:
    rows = (np.arange(size) + start) % len(table)
    return table.iloc[np.sort(rows)].reset_index(drop=True)


def _clean(mentors: pd.DataFrame, mentees: pd.DataFrame):
    """Links to people outside this round cleared (managers, stated preferences)."""
    mentors, mentees = mentors.copy(), mentees.copy()
    people = set(mentors["id"].astype(str)) | set(mentees["id"].astype(str))
    for t in (mentors, mentees):
        if "manager_id" in t.columns:
            t.loc[~t["manager_id"].astype(str).isin(people), "manager_id"] = None
    for t, other in ((mentees, set(mentors["id"].astype(str))), (mentors, set(mentees["id"].astype(str)))):
        for col in ("preferences", "manager_suggestions"):
            if col in t.columns:
                t[col] = [";".join(x for x in v.split(";") if x in other) if isinstance(v, str) else v
                          for v in t[col]]
    return mentors, mentees


def rounds(n_mentees: int = 20_000, n_mentors: int = 5_000, n_rounds: int = 5,
           seed: int = 0, bonuses: bool = True, report=None,
           coverage_first: bool = False, time_limit: float | None = None) -> list[dict]:
    """Run the programme; one row per round: round, mentees, mentors, places (the mentors'
    capacities), joiners, leavers (mentees), carried (pairs in force kept), new_pairs,
    unmatched, priority (mentees with priority), seconds, load (1-minute load average at the
    round's end), cpu (user + sys seconds of this process, its threads included), flow_rounds,
    repaired and flow_seconds (the certified flow's rounds, how many were warm repairs, the
    wall seconds of its flows and repairs, where the certificate has them), status (the
    round's as the tables print it, ``cells.status_cell``, or ``error: ...``). ``bonuses=False`` runs without priority and continuity
    (``priority=None, continuity=False``). ``report`` is called with each row as soon as its
    round ends. ``coverage_first``: the rules' ``coverage_first`` (the most mentees first, then
    the largest total). ``time_limit``: the rules' ``time_limit`` (seconds; None: the
    default). A round that is not optimal also gets ``message`` (the result's) and
    ``timed_out`` (the certificate's)."""
    import mentormatch as mm
    from mentormatch.programme import Programme

    mentor_pool, mentee_pool = mm.synthetic.organisation(
        n_mentees=int(1.5 * n_mentees), n_mentors=int(1.2 * n_mentors), seed=seed)
    rules = {"constraints": {"coverage_first": True}} if coverage_first else {}
    if time_limit is not None:
        rules["time_limit"] = float(time_limit)
    rules = rules or None
    prog = Programme(rules, allow_repeats=True, cooldown_rounds=1,
                     priority="weight" if bonuses else None, continuity=bonuses)
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    previous: set = set()
    for k in range(n_rounds):
        date = (pd.Timestamp("2027-01-15") + pd.DateOffset(months=3 * k)).date().isoformat()
        mentors, mentees = _clean(_window(mentor_pool, k * n_mentors // 20, n_mentors),
                                  _window(mentee_pool, k * n_mentees // 10, n_mentees))
        ids = set(mentees["id"].astype(str))
        if k:
            live = prog.in_force()
            ends = rng.random(len(live)) < 0.3
            prog.record_outcomes(pd.DataFrame({"mentee_id": live["mentee_id"],
                                               "mentor_id": live["mentor_id"],
                                               "ended": np.where(ends, date, "")}))
        row = {"round": k + 1, "mentees": len(mentees), "mentors": len(mentors),
               "places": int(mentors["capacity"].sum()),
               "joiners": len(ids - previous) if k else len(ids),
               "leavers": len(previous - ids)}
        started, cpu0 = time.perf_counter(), _cpu()
        try:
            result = prog.run_round(mentors, mentees, date=date)
        except Exception as exc:  # reported, not hidden: the run stops at a failed round
            row.update(seconds=time.perf_counter() - started, load=_load1(),
                       status=f"error: {type(exc).__name__}: {exc}")
            out.append(row)
            if report:
                report(row)
            break
        r = prog.rounds[-1]
        row.update(_flow_rounds(result.certificate))
        row.update(seconds=time.perf_counter() - started, cpu=_cpu() - cpu0, status=status_cell(result), load=_load1(),
                   carried=int(r.pairs["carried"].sum()),
                   new_pairs=int((~r.pairs["carried"]).sum()), unmatched=len(r.unmatched),
                   priority=int(r.pairs["priority"].sum() + r.unmatched["priority"].sum()))
        if result.status != "optimal":  # why not: the answer says (a time-out, a gap)
            row.update(message=str((result.certificate or {}).get("message") or ""),
                       timed_out=bool((result.certificate or {}).get("timed_out")))
        out.append(row)
        if report:
            report(row)
        previous = ids
    return out


def _flow_rounds(cert) -> dict:
    """The certified flow's rounds, how many of them were warm repairs and the seconds of its
    flows and repairs (the first certificate holding ``warm_repairs``, searched depth first);
    {} when there is none."""
    if isinstance(cert, dict):
        if "warm_repairs" in cert and "rounds" in cert:
            work = cert.get("work") if isinstance(cert.get("work"), dict) else {}
            return {"flow_rounds": int(cert["rounds"]), "repaired": len(cert["warm_repairs"]),
                    **({"flow_seconds": float(work["flows"])} if "flows" in work else {})}
        for value in cert.values():
            found = _flow_rounds(value)
            if found:
                return found
    return {}


def _cpu() -> float:
    """CPU seconds (user + sys) of this process so far, its threads included."""
    t = os.times()
    return t.user + t.system


def _load1() -> float | None:
    """The 1-minute load average (the machine may be shared), None where unknown."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def peak_memory_gib() -> float:
    """Peak resident memory of this process (``ru_maxrss``), in GiB."""
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 30 if sys.platform == "darwin" else 1 << 20)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mentees", type=int, default=20_000)
    ap.add_argument("--mentors", type=int, default=5_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-bonuses", action="store_true",
                    help="priority=None, continuity=False (joiners and leavers only)")
    ap.add_argument("--coverage-first", action="store_true",
                    help="rules with coverage_first (the most mentees first, then the total)")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="the rules' time_limit in seconds (default: the library's)")
    ap.add_argument("--write", help="replace this file's rounds section with the table")
    args = ap.parse_args(argv)
    print(f"{args.rounds} rounds at {args.mentees:,} x {args.mentors:,} (seed {args.seed}"
          f"{', no bonuses' if args.no_bonuses else ''}"
          f"{', coverage_first' if args.coverage_first else ''})", flush=True)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = rounds(args.mentees, args.mentors, args.rounds, args.seed, not args.no_bonuses,
                  report=_print, coverage_first=args.coverage_first, time_limit=args.time_limit)
    peak = peak_memory_gib()
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"peak memory {peak:.2f} GiB; load average {_load(load_before)} before, "
          f"{_load(load_after)} after", flush=True)
    if args.write:
        write_section(args.write, rows, args, peak, load_before, load_after)


def _print(row: dict) -> None:
    extra = "" if "carried" not in row else (
        f"carried {row['carried']:>6,}  new {row['new_pairs']:>6,}  unmatched "
        f"{row['unmatched']:>6,}  priority {row['priority']:>6,}  ")
    load = "" if row.get("load") is None else f"load {row['load']:.2f}  "
    cpu = "" if row.get("cpu") is None else f"cpu {row['cpu']:8.2f} s  "
    if "flow_rounds" in row:
        cpu += f"flow rounds {row['flow_rounds']} (repaired {row['repaired']}"
        cpu += f", flows {row['flow_seconds']:.2f} s)  " if "flow_seconds" in row else ")  "
    print(f"round {row['round']}: {row['seconds']:8.2f} s  {cpu}{load}places {row['places']:>6,}  "
          f"joiners {row['joiners']:>6,}  "
          f"leavers {row['leavers']:>6,}  {extra}{row['status']}", flush=True)
    if "message" in row:
        print(f"    timed_out {row['timed_out']}: {row['message']}", flush=True)


def _load(avg) -> str:
    return "?" if avg is None else " / ".join(f"{x:.2f}" for x in avg)


BEGIN, END = "<!-- rounds: begin -->", "<!-- rounds: end -->"


def write_section(path, rows, args, peak, load_before, load_after) -> None:
    """Replace (or append) the rounds section of BENCHMARKS.md, between its markers."""
    import platform
    import subprocess
    from pathlib import Path

    from sections import replace_section

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).parent).stdout.strip() or "?"
    except OSError:
        rev = "?"
    command = (f"python benchmarks/rounds.py --mentees {args.mentees} --mentors {args.mentors} "
               f"--rounds {args.rounds} --seed {args.seed}"
               f"{' --no-bonuses' if args.no_bonuses else ''}"
               f"{' --coverage-first' if args.coverage_first else ''}")
    table = ["| round | mentees x mentors | places | joiners | leavers | carried | new pairs "
             "| places left empty | unmatched | priority | time | load | status |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cell = (lambda k: f"{r[k]:,}" if k in r else "")
        empty = "" if "carried" not in r else f"{r['places'] - r['carried'] - r['new_pairs']:,}"
        table.append(f"| {r['round']} | {r['mentees']:,} x {r['mentors']:,} | {r['places']:,} | "
                     f"{r['joiners']:,} | {r['leavers']:,} | {cell('carried')} | "
                     f"{cell('new_pairs')} | {empty} | "
                     f"{cell('unmatched')} | {cell('priority')} | {r['seconds']:.1f} s | "
                     f"{'' if r.get('load') is None else format(r['load'], '.2f')} | "
                     f"{r['status']} |")
    body = ["## Programme rounds over time (joiners, leavers, priority, continuity)", "",
            f"`{command}` on {platform.node()} ({platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"git {rev}. One process runs every round; *time* is `Programme.run_round` alone "
            f"(wall clock); *carried* pairs in force kept, *priority* mentees left unmatched "
            f"the round before; *places*: the round's mentors' capacities (one place a pair "
            f"here); *load*: the 1-minute load average at the round's end. The organisation "
            f"and the moves between rounds are in the script's docstring. Peak memory of the "
            f"process (`ru_maxrss`): {peak:.2f} GiB. "
            f"The machine is shared: load average (1 / 5 / 15 min) {_load(load_before)} before "
            f"the run, {_load(load_after)} after.", "", *table, ""]
    replace_section(path, BEGIN, END, body)


if __name__ == "__main__":
    main()
