"""The "capacity_taken" reasons under max-min and leximin: each such mentee's closest call,
priced in the objective the round optimised (its number of pairs, then its ascending sorted
scores), on ``score + bonus`` when the round maximised that (a priority or continuity bonus).

Exact where the re-solves are within budget (:data:`FAIR_REASON_SOLVES`, the round's
``max_solves`` from ``REASON_SOLVE_BUDGET`` and its time limit) and the answer is proven
optimal: the solver's own re-solve with each of the mentee's best pairs locked
(:func:`~.forced_fair.forced_standing`), the least harm named (:func:`~.forced_fair.fair_verdict`).
Otherwise (past the cap or the limit, a re-solve that stopped, an answer not proven optimal)
valid bounds on the forced optimum's worst pair, stated as bounds
(:func:`~.forced_fair.fair_bounds`): at most the pair's own ``score + bonus`` (every assignment
that holds it has it among its pairs), at least the worst pair of a swap of the answer that
holds it with as many pairs as the proven optimum (the forced optimum then has as many pairs,
and a worst pair at least as good). Until s27 a bonus round's reasons stated nothing, and
past the cap "not priced".

Works on the pieces of a result (the solved problem, its solution); never imports the result
class.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from .forced import past_limit
from .forced_fair import fair_bounds, fair_verdict, forced_standing, standing

#: At most this many re-solves price the "capacity_taken" mentees' closest calls under max-min
#: and leximin (each a whole fairness solve, three a mentee: about 40 ms each at 200 x 50,
#: where 124 re-solves took 4.7 s CPU for 61 mentees against 0.17 s for the plain flow's
#: figures); the mentees past it (in the solved order) get bounds. A count, never a time: the
#: text does not depend on the machine.
FAIR_REASON_SOLVES = 24
#: At most this many mentees' bounds read a swap of the answer for their lower bound (each
#: one pass over the pairs: ~1 ms at 200,000 pairs); past it only the upper bound (the pair's
#: own score) is stated, which costs nothing.
FAIR_REASON_SWAPS = 200
_NAMES = {"maxmin": "max-min", "leximin": "leximin"}


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def fair_capacity_reasons(rows, pending, problem, chosen, mentor_ids, solver: str,
                          max_solves: int, time_limit: float | None, optimal: bool,
                          bonus: np.ndarray | None = None, top: int = 3) -> None:
    """Rewrite the rows of the "capacity_taken" mentees ``pending`` (``(row, mentee, its
    mentors, their scores)``) with their closest call under ``solver`` (module docstring):
    among each mentee's ``top`` pairs best by ``score + bonus``, exactly the one whose forcing
    leaves the best objective (at most ``max_solves`` re-solves in all, in order, only when
    ``optimal``), else bounds on forcing its best pair. ``bonus``: per pair of ``problem``."""
    from ..solvers import SolverOptions

    options = (SolverOptions() if time_limit is None else
               SolverOptions(time_limit=float(time_limit), started=time.perf_counter()))
    chosen = np.asarray(chosen, np.int64)
    reference = standing(problem, chosen, bonus) if optimal else None
    answer = SimpleNamespace(chosen=chosen)
    P = problem.pairs
    plus = "" if bonus is None else " (scores plus the round's bonus)"
    spent = swaps = 0
    for row, i, js, ss in pending:
        q_all = P.locate(np.full(len(js), i), js)
        goal = ss + (0.0 if bonus is None else bonus[q_all])
        order = np.argsort(-goal, kind="stable")[:top]
        why = None
        if not optimal:
            why = "the answer is not proven optimal"
        elif past_limit(options):
            why = f"the time limit ({time_limit:g} s)"
        elif spent + len(order) > max_solves:
            why = f"the cap of {max_solves} re-solves"
        else:
            best = None
            for k in order:
                new, how, _ = forced_standing(problem, int(q_all[k]), solver, options, bonus=bonus)
                spent += 1
                if new is None or how != "optimal":
                    continue
                key = (new.pairs, tuple(new.scores[:1]) if solver == "maxmin" else tuple(new.scores),
                       new.total)
                if best is None or key > best[0]:
                    best = (key, k, new)
            if best is not None:
                _, k, new = best
                rows[row] = (rows[row][0], "capacity_taken",
                             f"all {len(js)} eligible mentors are full; the closest call, mentor "
                             f"{mentor_ids[js[k]]!s} (score {_fmt(ss[k])} with this mentee, the "
                             f"least harm of its {len(order)} best): "
                             f"{fair_verdict(reference, new, solver).verdict}{plus}")
                continue
            why = "its re-solves stopped with a gap" if not past_limit(options) else \
                f"the time limit ({time_limit:g} s)"
        k = int(order[0])
        swap = swaps < FAIR_REASON_SWAPS
        swaps += swap
        price = fair_bounds(problem, answer, int(q_all[k]) if swap else None, solver, reference,
                            score=None if swap else float(goal[k]), bonus=bonus)
        rows[row] = (rows[row][0], "capacity_taken",
                     f"{rows[row][2]}; bounds under {_NAMES[solver]} ({why}): forcing its best pair, with "
                     f"mentor {mentor_ids[js[k]]!s}: {price.verdict}{plus}")
