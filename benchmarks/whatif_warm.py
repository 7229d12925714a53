"""What-if from the last solution against from cold, on the scale path.

Pairs ``NxM`` once, then asks ``result.what_if(remove_mentors=<the k busiest mentors>)``
``--repeat`` times each way, alternating (cold, warm, cold, warm, ...): the warm re-solve starts
from the result's mentor prices (:func:`mentormatch.solvers.bounded.start.starting_from`), the cold
one does not (``warm_start=False``). Prints wall and CPU seconds (this process, all threads) of
each, the flow rounds, and whether both found the same pairs and objective.

    PYTHONPATH=src python benchmarks/whatif_warm.py 20000x5000 --remove 10 --repeat 2
"""
from __future__ import annotations

import argparse
import time

import mentormatch as mm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", help="NxM: mentees x mentors")
    ap.add_argument("--remove", type=int, default=10, help="busiest mentors removed")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reason-budget", type=int, default=None,
                    help="pipeline.REASON_SOLVE_BUDGET for the what-ifs (pairs x re-solves spent on "
                         "exact reasons of unmatched mentees, counted on the solver's set of pairs; "
                         "0: none). Default: the library's")
    ap.add_argument("--jitter", action="store_true",
                    help="move the Big Five columns by a seeded +/-0.05: scores without ties, so "
                         "one optimum (the synthetic scores tie often, and ties may be broken apart)")
    args = ap.parse_args()
    n, m = (int(x) for x in args.size.lower().split("x"))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=args.seed,
                                                 trait_jitter=0.05 if args.jitter else 0.0)
    t = time.perf_counter()
    result = mm.pair(mentors, mentees)
    print(f"pair {n} x {m}: {time.perf_counter() - t:.2f} s, {result.status}, "
          f"{result.certificate.get('method')}, rounds {result.certificate.get('rounds')}")
    gone = list(result.pairs["mentor_id"].value_counts().index[:args.remove])
    if args.reason_budget is not None:
        from mentormatch import pipeline

        pipeline.REASON_SOLVE_BUDGET = args.reason_budget
    runs: dict[bool, list] = {False: [], True: []}
    for _ in range(args.repeat):
        for warm in (False, True):
            w0, c0 = time.perf_counter(), time.process_time()
            answer = result.what_if(remove_mentors=gone, warm_start=warm)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            runs[warm].append((wall, cpu, answer))
            work = answer.after.certificate.get("work") or {}
            print(f"  {'warm' if warm else 'cold'}: wall {wall:.2f} s, cpu {cpu:.2f} s, "
                  f"warm_started={answer.warm_started}, rounds {answer.after.certificate.get('rounds')}, "
                  f"changed {answer.n_changed}, {answer.after.status}, "
                  f"{len(answer.after.record.problem.pairs)} pairs in the solver's set; solve "
                  f"{answer.after.certificate.get('seconds')} s (first pass {work.get('first_pass')}, "
                  f"flows {round(work.get('flows', 0), 2)}, prices {round(work.get('prices', 0), 2)}, "
                  f"checks {round(work.get('checks', 0), 2)})")
    cold, warm = runs[False][-1][2], runs[True][-1][2]
    cols = ["mentee_id", "mentor_id", "score"]
    same = (cold.after.objective == warm.after.objective
            and cold.after.pairs[cols].equals(warm.after.pairs[cols]))
    best = {k: (min(r[0] for r in v), min(r[1] for r in v)) for k, v in runs.items()}
    print(f"best of {args.repeat}: cold wall {best[False][0]:.2f} s / cpu {best[False][1]:.2f} s; "
          f"warm wall {best[True][0]:.2f} s / cpu {best[True][1]:.2f} s; same objective "
          f"{cold.after.objective == warm.after.objective}, same pairs {same}")


if __name__ == "__main__":
    main()
