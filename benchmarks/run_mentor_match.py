"""Section 3 of BENCHMARKS.md: the closest domain peer, ``mentor-match`` 7.0.1 (three rounds of
pure-Python Munkres), against mentormatch's joint exact solve, on the same people and the same
score matrix; and the headline's lines drawn from it."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from cells import fmt_cell, fmt_t, is_ok
from harness import PEER_DIRS, measure_logged, use_src
from problems import answer_row, check_assignment, uniform_problem
from rss import peak_rss_mb


def _shared_matrix(n: int, seed: int):
    """An n x n integer score matrix (mentees x mentors) and an eligibility mask, from a synthetic
    organisation scored by mentormatch's default rules; falls back to uniform scores."""
    use_src()
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
    out = answer_row(check_assignment(q.astype(float), ~eligible, cand.mentee[sol.chosen],
                                      cand.mentor[sol.chosen], 3, demand=3), sol)
    out.update(time=elapsed, rss_before_mb=before, source=source)
    return out


WORKERS = {"mentor-match 7.0.1": w_mentor_match, "mentormatch joint flow": w_mm_joint}


def _rounds_done(stderr: str) -> str:
    """The rounds a mentor-match run that timed out had finished (its ``@@ROUND@@`` lines)."""
    rounds = [line.split()[1:] for line in stderr.splitlines() if line.startswith("@@ROUND@@")]
    return (f" ({len(rounds)} of 3 rounds finished, in "
            + ", ".join(f"{float(r[1]):.0f} s" for r in rounds) + ")") if rounds else ""


def run(sizes, smoke: bool, timeout: float) -> list[tuple]:
    """Both at each N (N mentees x N mentors), each in its own subprocess: ``(N, theirs, ours)``
    (``timeout``: mentor-match's, seconds)."""
    mm_rows = []
    for n in sizes:
        a = measure_logged(f"[mentor-match] {n} x {n}", {"kind": "mentor-match 7.0.1", "n": n, "seed": 1},
                           timeout=60 if smoke else timeout, progress=_rounds_done)
        b = measure_logged(f"[mentormatch joint flow] {n} x {n}",
                           {"kind": "mentormatch joint flow", "n": n, "seed": 1}, timeout=120 if smoke else 400)
        mm_rows.append((n, a, b))
    return mm_rows


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


def headline_mentor_match(mm_rows) -> list[str]:
    out = []
    for n, a, b in mm_rows:
        if is_ok(a) and is_ok(b):
            out.append(f"- mentor-match 7.0.1 at {n:,} x {n:,}: {fmt_t(a['time'])} vs mentormatch "
                       f"{fmt_t(b['time'])} ({a['time'] / b['time']:.0f}x faster, one run each, wall), "
                       f"total score {b['objective'] / max(a['objective'], 1e-9):.4f}x its own.")
        elif not is_ok(a):
            out.append(f"- mentor-match 7.0.1 at {n:,} x {n:,}: *{a.get('error')}*; mentormatch {fmt_cell(b)}.")
    return out

