"""The ``mentormatch`` command.

    mentormatch pair --mentors M.csv --mentees E.csv --out DIR [--programme P.toml] [--report]
    mentormatch demo [--out out/demo] [--seed 7] [--mentees 200] [--mentors 60]
    mentormatch revise --pairs DIR/pairs.csv --decisions decisions.csv --out DIR2

Bad input exits with status 2 and one paragraph naming the row, column, value and what was
expected; no traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import textwrap
from pathlib import Path

from .errors import MentormatchError


def _paragraph(exc: BaseException) -> str:
    kind = {"ValidationError": "invalid input", "InfeasibleError": "infeasible programme",
            "UnknownNameError": "unknown name"}.get(type(exc).__name__, "error")
    return textwrap.fill(f"mentormatch: {kind}: {exc}", width=100)


def _print_summary(result, baseline=None, out=None, stream=None) -> None:
    s = result.summary()
    w = (stream or sys.stdout).write  # (sys.stdout at the call: a default bound at import kept
    # the stream of whoever imported the module first, e.g. an earlier test's capture)
    w(f"people in: {s['mentees']} mentees, {s['mentors']} mentors\n")
    w(f"pairs: {s['pairs']} ({s['matched_mentees']} mentees matched)\n")
    reasons = ", ".join(f"{k}: {v}" for k, v in s["unmatched_by_reason"].items()) or "none"
    w(f"unmatched: {s['unmatched']} ({reasons})\n")
    w(f"mean score: {s['mean_score']:.4f} (total {s['objective']:.4f})\n")
    if isinstance(baseline, str):
        w(f"random assignment: not computed ({baseline})\n")
    elif baseline is not None:
        b = baseline.summary()
        # the lift of this total, never called "optimal" (a "feasible" answer, or a fairness
        # objective, is not the best total), and no percentage of a random total of 0
        lift = (f"this total is {s['objective'] / b['objective'] - 1:+.1%} over random"
                if b["objective"] > 0 else "no lift in percent: random's total is not above 0")
        from .report.words import random_rules

        seed = baseline.record.baseline_seed or 0
        w(f"random assignment (seed {seed}, the same people {random_rules(result.record.problem.side.active())}): "
          f"mean score {b['mean_score']:.4f}, {b['matched_mentees']} matched, total {b['objective']:.4f} "
          f"({lift})\n")
    gap = "" if result.gap is None else f", gap {result.gap:.2e}"
    cert = result.certificate or {}
    w(f"solver: {s['solver']}, status {s['status']}{gap}, {s['wall_time_s']:.2f} s"
      + (f", certificate holds: {cert.get('holds')}" if "holds" in cert else "") + "\n")
    for note in result.notes:
        w(f"note: {note}\n")
    if out is not None:
        w(f"wrote: {', '.join(str(p) for p in out)}\n")


def _random_baseline(result, seed: int):
    """The seeded random baseline of the summary, or the reason it is not computed (a round
    whose every eligible pair does not fit in memory)."""
    from .errors import TooLargeError
    from .pipeline import baseline

    try:
        rnd = baseline(result, "random", seed=seed)
    except TooLargeError as exc:
        return str(exc)
    return dataclasses.replace(rnd, record=dataclasses.replace(rnd.record, baseline_seed=seed))


def _programme(args):
    """The programme of ``args.programme`` with the reading flags (--encoding,
    --case-sensitive-ids) that ``pair`` and ``revise`` share applied."""
    from .rules import Rules

    programme = Rules.coerce(args.programme)
    if args.encoding is not None:
        programme = programme.replace(input={"encoding": args.encoding})
    if args.case_sensitive_ids:
        programme = programme.replace(input={"case_sensitive_ids": True})
    return programme


#: settings that hold paths, which name the same file differently from another directory
_PATH_SETTINGS = ("framework", "input.org")


def _check_round(folder: Path, rules, org) -> None:
    """Refuse to revise a round under other rules than it was paired with: the provenance.json
    beside its pairs.csv records the round's programme and whether an org chart was read. A
    setting that differs (a forgotten --programme falls back to the defaults) or a missing
    --org would otherwise re-pair the pending mentees under other rules without a word."""
    import json

    from .errors import Problem, ValidationError
    from .provenance import Provenance

    path = folder / "provenance.json"
    if not path.is_file():
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # not one of ours: nothing to compare with
    if not isinstance(recorded, dict) or not isinstance(recorded.get("programme"), dict):
        return
    now = json.loads(Provenance(rules.to_dict(), []).to_json())["programme"]

    def flat(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict) and k != "columns" and k != "weights" and k != "features":
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k}", v

    was, is_ = dict(flat(recorded["programme"])), dict(flat(now))
    differ = [k for k in sorted(set(was) | set(is_))
              if k not in _PATH_SETTINGS and was.get(k) != is_.get(k)]
    if differ:
        shown = "; ".join(f"{k}: {was.get(k)!r} in the round, {is_.get(k)!r} now" for k in differ[:6])
        more = f"; and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise ValidationError(Problem(
            "programme", ", ".join(differ[:6]) + (", ..." if len(differ) > 6 else ""), None, None,
            shown + more, f"the settings the round was paired with ({path} records them): pass "
            f"the round's programme with --programme"))
    org_in = [i for i in recorded.get("inputs", []) if isinstance(i, dict) and i.get("table") == "org"]
    if org_in and org is None and not rules.settings["input"]["org"]:
        raise ValidationError(Problem(
            "command line: --org", None, None, None, "no org chart",
            f"the org chart the round was paired with ({org_in[0].get('name')!r}, recorded in "
            f"{path}): pass it with --org"))


def _run_pair(args) -> int:
    from .pipeline import pair

    programme = _programme(args)
    framework = args.framework
    if args.pathways is not None:  # an own framework from two CSV files
        framework = {"requirements": args.framework, "pathways": args.pathways}
    result = pair(args.mentors, args.mentees, programme=programme, framework=framework,
                  org=args.org)
    paths = list(result.to_csv(args.out).values())
    if args.report:
        result.to_html(Path(args.out) / "report.html")
        paths.append(Path(args.out) / "report.html")
    _print_summary(result, _random_baseline(result, args.seed), paths)
    return 0


def _run_demo(args) -> int:
    from . import synthetic
    from .pipeline import pair
    from .report.export import write_csv

    from .errors import Problem, ValidationError

    flags = {"n_mentees": "--mentees", "n_mentors": "--mentors", "seed": "--seed"}
    try:
        mentors, mentees = synthetic.organisation(n_mentees=args.mentees, n_mentors=args.mentors,
                                                  seed=args.seed)
    except ValidationError as exc:  # the generator's argument names, as the flags the user typed
        raise ValidationError([Problem(f"command line: {flags[p.column]}", None, None, None,
                                       p.value, p.expected) if p.column in flags else p
                               for p in exc.problems]) from None
    out = Path(args.out)
    inputs = [write_csv(mentors, out / "mentors.csv"), write_csv(mentees, out / "mentees.csv")]
    result = pair(mentors, mentees, programme=args.programme)
    paths = inputs + list(result.to_csv(out).values())
    result.to_html(out / "report.html")
    paths.append(out / "report.html")
    _print_summary(result, _random_baseline(result, args.seed), paths)
    return 0


def _run_revise(args) -> int:
    import pandas as pd

    from .decisions import revise
    from .errors import Problem, ValidationError
    from .pipeline import prepare

    pairs_path = Path(args.pairs)
    folder = pairs_path.parent
    try:
        proposal = pd.read_csv(pairs_path, dtype={"mentee_id": str, "mentor_id": str},
                               keep_default_na=False, usecols=["mentee_id", "mentor_id"])
    except FileNotFoundError:
        raise ValidationError(Problem(str(pairs_path), None, None, None, str(pairs_path),
                                      "the pairs.csv of an earlier run")) from None
    except ValueError as exc:
        raise ValidationError(Problem(str(pairs_path), None, None, 1, str(exc).splitlines()[0],
                                      "a pairs.csv with columns mentee_id and mentor_id")) from None
    tables = {}
    for side in ("mentors", "mentees"):
        path = getattr(args, side) or folder / f"{side}.csv"
        if not Path(path).is_file():
            raise ValidationError(Problem(side, None, None, None, str(path),
                                          f"the {side} CSV of the round: pass --{side} (not found "
                                          f"beside pairs.csv)"))
        tables[side] = path
    programme = _programme(args)
    _check_round(folder, programme, args.org)
    prepared = prepare(tables["mentors"], tables["mentees"], programme, framework=args.framework,
                       org=args.org)
    data = dict(prepared.data)
    result = revise(data, proposal, args.decisions)
    paths = list(result.to_csv(args.out).values())
    if args.report:
        result.to_html(Path(args.out) / "report.html")
        paths.append(Path(args.out) / "report.html")
    rev = result.record.revision
    sys.stdout.write(f"decisions: {rev['accepted']} accepted, {rev['declined']} declined; "
                     f"pending pairs kept: {rev['kept']} of {rev['pending']} "
                     f"({rev['changed']} changed, the fewest possible)\n")
    _print_summary(result, None, paths)
    return 0


def _reading_flags(parser: argparse.ArgumentParser) -> None:
    """How the tables are read, the same for ``pair`` and ``revise`` (a round paired with an
    org chart is revised with it)."""
    parser.add_argument("--org", default=None, help="org chart CSV/xlsx: id, manager_id for "
                        "everyone (the management line through people in neither table)")
    parser.add_argument("--encoding", default=None, help="the input files' encoding (default: "
                        "recognise UTF-8, UTF-16 and cp1252)")
    parser.add_argument("--case-sensitive-ids", action="store_true",
                        help="ids that differ only in case (E001, e001) are two people (default: "
                             "refused; [input] case_sensitive_ids)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mentormatch", description="Optimal, explained mentor pairing.",
                                epilog="Bad input stops with exit status 2 and one paragraph naming "
                                       "the table, row, column, value and what was expected.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pair", help="pair the mentees in one CSV with the mentors in another")
    a.add_argument("--mentors", required=True, help="mentors table: CSV, .xlsx or .parquet")
    a.add_argument("--mentees", required=True, help="mentees table: CSV, .xlsx or .parquet")
    a.add_argument("--out", required=True, help="directory for pairs.csv and unmatched.csv")
    a.add_argument("--programme", default=None, help="programme TOML (weights, constraints, columns)")
    a.add_argument("--framework", default=None, help="career framework TOML, or requirements CSV "
                                                     "with --pathways (default: bundled sales)")
    a.add_argument("--pathways", default=None, help="pathways CSV (from_role, to_role, kind) of a "
                                                    "--framework given as requirements CSV")
    a.add_argument("--report", action="store_true", help="also write report.html")
    _reading_flags(a)
    a.add_argument("--seed", type=int, default=0, help="seed of the random baseline in the summary")
    a.set_defaults(run=_run_pair)
    r = sub.add_parser("revise", help="re-pair after accept/decline decisions, with the fewest changes")
    r.add_argument("--pairs", required=True, help="the pairs.csv of the proposal")
    r.add_argument("--decisions", required=True, help="decisions.csv: mentee_id, mentor_id, decision "
                   "(accept or decline), as the report's page downloads it")
    r.add_argument("--out", required=True, help="directory for the revised pairs.csv and unmatched.csv")
    r.add_argument("--mentors", default=None, help="mentors CSV (default: mentors.csv beside pairs.csv)")
    r.add_argument("--mentees", default=None, help="mentees CSV (default: mentees.csv beside pairs.csv)")
    r.add_argument("--programme", default=None, help="the programme TOML of the round")
    r.add_argument("--framework", default=None, help="career framework TOML (default: bundled sales)")
    r.add_argument("--report", action="store_true", help="also write report.html")
    _reading_flags(r)
    r.set_defaults(run=_run_revise)
    d = sub.add_parser("demo", help="pair the bundled synthetic sales organisation")
    d.add_argument("--out", default="out/demo", help="directory for the generated tables, the "
                   "pairs and report.html (default: out/demo)")
    d.add_argument("--seed", type=int, default=7, help="seed of the organisation and of the random "
                   "baseline (default: 7)")
    d.add_argument("--mentees", type=int, default=200, help="number of mentees (default: 200)")
    d.add_argument("--mentors", type=int, default=60, help="number of mentors (default: 60)")
    d.add_argument("--programme", default=None, help="programme TOML (default: the default "
                   "programme)")
    d.set_defaults(run=_run_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (MentormatchError, OSError, ValueError, TypeError, KeyError) as exc:
        if os.environ.get("MENTORMATCH_DEBUG"):
            raise
        print(_paragraph(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
