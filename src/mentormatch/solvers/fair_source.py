"""Max-min and leximin under side constraints on a pair source, at any size, holding no more
pairs than the engine's candidates: what the scale path answers where CP-SAT's model of the
pairs it would hold does not fit in memory (:mod:`mentormatch.pipeline.held`).

The objectives are those of :mod:`mentormatch.solvers.fair` (max-min: the most pairs ``M*``,
then the best worst pair ``t*``, then the best total ``T*``) and
:mod:`mentormatch.solvers.leximin_cp` (the most pairs, then the sorted scores), under every
constraint. The method, in three steps:

1. **A feasible plan.** The engine (:func:`mentormatch.solvers.engine.solve_source`: pricing over
   every pair of the source, the Lagrangians of a budget or floors at scale) gives an
   assignment ``A0`` that meets every constraint, and ``B``, a bound on the total of EVERY
   assignment that meets them.
2. **The fairest assignment with the plan's loads.** With unit loads and whole capacities, the
   certified max-min flows (:func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer`), or
   the flow leximin (:func:`mentormatch.solvers.leximin_source.solve_leximin_source`), run over
   every pair with each mentor's capacity set to its load in ``A0``. ``A0`` holds those loads,
   so the flows reach ``|A0|`` pairs, every mentor at its load of ``A0``: the same mentors
   active with the same loads, so the same stipends (budget), minimum and balanced loads hold.
   A constraint that reads which mentees are matched or their scores (share and score floors,
   reservation values) is checked from its definition
   (:func:`mentormatch.solvers.linear_rows.violations`); the flows' answer is kept only when
   it meets every constraint, with at least ``A0``'s pairs, a worst pair at least ``A0``'s
   (leximin: a sorted vector at least ``A0``'s). Otherwise ``A0`` stands.

   The engine maximises the total, not the count: under a stipend budget (with minimum loads)
   alone, a first plan buys the most places
   (:func:`~mentormatch.solvers.fair_bounds.knapsack_plan`: the cheapest places first, ties to
   the engine's mentors) and the flows run at its loads first; fewer stipends than planned may
   be paid where the flows fill fewer places, never more. The answer is the best of these in
   the objective's order (more pairs, then the worst pair; leximin: the sorted scores) among
   those that meet every constraint.
3. **Bounds that hold over every pair** (:mod:`mentormatch.solvers.fair_bounds`), from one
   pass over the source (on bounds, of the pairs' upper bounds, never below the exact scores):
   each mentee's and mentor's eligible pairs and best score.

   * the count: ``M* <= U``, the least of ``sum_i min(d_i, e_i)`` (mentees), ``sum_j min(k_j,
     f_j)`` (mentors, ``k_j`` the most of the lightest loads of the mentees who can be matched
     that its capacity takes: :func:`~mentormatch.solvers.fair_bounds.mentor_places`) and,
     under a budget, the
     fractional knapsack of places: an active mentor ``j`` with ``n_j`` mentees spends at least
     ``c_j n_j``, ``c_j = per_j + fixed_j / k_j`` (:mod:`mentormatch.solvers.lagrange`), so at
     most the places the cheapest ``c_j`` buy, with ``n_j <= min(k_j, f_j)``;
   * the worst pair: an optimum has ``M* >= |A|`` pairs, each at least ``t*``; a mentee whose
     best is below ``t*`` holds none of them and another at most ``d_i``; a mentor at most
     ``min(k_j, f_j)``. So ``t* <= max {t : sum_{i: best_i >= t} d_i >= |A|}``, and the same
     over mentors, each counted by its best kept scores (a mentor holds at most its places and
     its pairs at least ``t*``: :func:`~mentormatch.solvers.fair_bounds.threshold_bound`);
     under a budget, those places at least ``t*`` must buy ``|A|`` (the knapsack above);
   * the total: ``T* <= B`` (the optimum meets every constraint).

   ``"optimal"`` (max-min only) needs the count at ``U``, the worst pair within the 1e-6 gap
   of its bound and the total within the gap of ``B``; otherwise ``"feasible"``, with ``bound``
   ``B`` (so ``gap`` is the total's) and the certificate's ``count_bound`` and
   ``threshold_bound``. Under ``coverage_first`` (the most mentees first) the count and the
   worst pair are not bounded (None); ``B`` still bounds the total.

No step holds every pair: the engine's candidates, the flows' sparse pairs and one pass of
per-row and per-mentor figures. The status never claims more than these bounds prove.

**The time limit** reaches every step: the engine's (its own stop: what it found, possibly
nothing, and its bound ``B``), every max-min flow and leximin round at the plan's loads
(:mod:`mentormatch.solvers.bottleneck_stops`, "The time limit": a stopped flow's assignment is a
candidate like any other, checked and compared; a stopped probe proves nothing), and no plan's
flows start past it. The answer is then the best assignment found that meets every constraint
(at least ``A0``), "feasible", with the bounds above (each holds over every assignment whatever
stopped), and a message naming the limit and the step it stopped in.

**Leximin is "optimal" here only when every mentee (or every mentor) holds its most pairs,
each at its best score** (:func:`~mentormatch.solvers.fair_claims.at_best`: then no assignment
is above it in either order; s25). The three bounds cannot make it so: an assignment
with the most pairs, the best worst pair and the best total may still not be leximin-optimal.
With scores ``(1, 2, 4)`` and ``(1, 3, 3)`` both reachable, both hold three pairs, the worst 1
and the total 7, and only the second is leximin. In general, if ``L`` is above ``A`` in the
leximin order (the same count), first differing at the ``k``-th smallest score, ``L`` totals
more than ``a_1 + ... + a_{k-1} + (M - k + 1) a_k``, which is at most ``A``'s total, equal only
when ``a_k = ... = a_M``. So ``A``'s total reaching ``B`` rules out every such ``L`` only when
all of ``A``'s pairs tie (``k`` may be 1), and then only beyond the gap. A proof needs the leximin certificate over every pair at
the plan's loads (:mod:`mentormatch.solvers.leximin_source`) AND a proof that no other loads
do better, which the knapsack does not give. A leximin answer whose total reaches ``B``
stays "feasible" at gap 0 and its message says why (the bound is the total's).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..pairs import Candidates
from .base import AssignmentProblem, SideConstraints, Solution, SolverOptions, finish
from .base import proven as proven_total
from .fair_bounds import Figures, knapsack_plan, per_mentee, per_mentor, source_figures
from .fair_claims import at_best, at_bound_note, claims, meets

__all__ = ["solve_fair_source"]


def solve_fair_source(source, scorer, capacity, *, objective: str, demand=None, load=None,
                      locked=None, side: SideConstraints | None = None, coverage_first: bool = False,
                      options: SolverOptions | None = None, figures: Figures | None = None
                      ) -> tuple[AssignmentProblem, Solution]:
    """Max-min (``objective`` "maxmin") or leximin ("leximin") under side constraints over
    every pair of ``source`` (``scorer``: its block scorer or bounded scorer, for the flows),
    by the module docstring's steps: (the problem of the answer's pairs, its solution).
    ``figures``: the source's :class:`Figures` when a pass already made them.

    Raises the engine's :class:`~mentormatch.errors.InfeasibleError` (a proof) or
    :class:`~mentormatch.errors.TimeLimitError` (nothing found in the time)."""
    from .engine import solve_source
    from .inner import unit_flow
    from .linear import LinearModel
    from .linear_rows import violations

    options = options or SolverOptions()
    started = time.perf_counter()
    side = side or SideConstraints()
    n, m = source.n_mentees, source.n_mentors
    lk = (None, None) if locked is None else locked
    problem0, sol0 = solve_source(source, capacity, demand=demand, load=load, locked=lk, side=side,
                                  coverage_first=coverage_first, options=options)
    P0 = problem0.pairs
    a_i, a_j = P0.mentee[sol0.chosen], P0.mentor[sol0.chosen]
    a_s = problem0.score[sol0.chosen]
    answer = (problem0, np.asarray(sol0.chosen, np.int64))
    steps = {"plan": {"pairs": int(len(a_i)), "worst": float(a_s.min()) if len(a_s) else None,
                      "total": float(a_s.sum()), "status": sol0.status,
                      "message": sol0.message, "seconds": round(time.perf_counter() - started, 3)}}
    shell = AssignmentProblem(Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), n, m),
                              np.zeros(0), capacity, demand=demand, load=load, side=side,
                              coverage_first=coverage_first)
    deadline = options.deadline(started)
    fig = (figures if figures is not None
           else source_figures(source, per_mentor(capacity), per_mentee(demand)))
    plans = []
    if len(a_i) and unit_flow(capacity, load):
        a_loads = np.bincount(a_j, minlength=m).astype(float)
        if locked is None and not coverage_first:  # more places first: more pairs come first
            most = knapsack_plan(fig, capacity, demand, side, prefer=a_loads)
            if most is not None and most.sum() > a_loads.sum():
                plans.append(("most_places", most))
        plans.append(("flows", a_loads))
    best_s = np.sort(a_s)
    for name, loads in plans:
        if deadline is not None and time.perf_counter() >= deadline:
            steps[name] = {"places": int(loads.sum()), "kept": False, "timed_out": True,
                           "seconds": 0.0}  # not started: the time limit had passed
            break
        begun = time.perf_counter()
        problem1, sol1 = _flows(objective, scorer, source, loads, n, m, demand, locked, options,
                                coverage_first)
        P1 = problem1.pairs
        b_i, b_j, b_s = P1.mentee[sol1.chosen], P1.mentor[sol1.chosen], problem1.score[sol1.chosen]
        bad = violations(LinearModel(shell), b_i, b_j, b_s)
        better = _at_least(np.sort(b_s), best_s, objective)
        if coverage_first:  # the most mentees first
            got, had = len(np.unique(b_i)), len(np.unique(_mentees(answer)))
            better = got > had or (got == had and better)
        steps[name] = {"places": int(loads.sum()), "pairs": int(len(b_i)),
                       "worst": float(b_s.min()) if len(b_s) else None, "total": float(b_s.sum()),
                       "violations": bad, "kept": not bad and better, "status": sol1.status,
                       "timed_out": bool((sol1.certificate or {}).get("timed_out")),
                       "seconds": round(time.perf_counter() - begun, 3)}
        if not bad and better:
            answer, best_s = (problem1, np.asarray(sol1.chosen, np.int64)), np.sort(b_s)
            for earlier in steps.values():  # the last kept is the answer
                if earlier is not steps[name] and "kept" in earlier:
                    earlier["kept"] = False
        if name == "most_places" and not bad and len(b_i) > len(a_i):
            break  # more pairs than the engine's loads hold: their flows cannot beat it
    problem, chosen = answer
    s = problem.score[chosen]
    # the bounds every max-min and leximin route carries (solvers/fair_claims.py); the total's:
    # the engine's, over every assignment meeting the constraints, the optimum's included
    worst = float(s.min()) if len(s) else None
    value = float(s.sum())
    # every mentee (or mentor) at its most pairs, each at its best: optimal in either order
    # (fair_claims.at_best; exact figures only), the three figures then the answer's
    whole = dataclasses.replace(problem, capacity=np.asarray(capacity, float), load=load,
                                coverage_first=coverage_first)
    best_side = at_best(fig, whole, chosen)
    proven = {} if best_side is None else {"proven_count": len(s), "proven_threshold": worst}
    c = claims(fig, capacity, demand, load, side, len(s), coverage_first,
               total_bound=sol0.bound if best_side is None else value, **proven)
    count_ub, t_ub, total_ub = c.count_bound, c.threshold_bound, c.total_bound
    optimal = best_side is not None or (objective == "maxmin" and meets(c, len(s), worst, value))
    plan_stopped = bool((sol0.certificate or {}).get("timed_out"))
    stopped = [k for k, v in steps.items() if (plan_stopped if k == "plan" else v.get("timed_out"))]
    timed_out = bool(stopped)
    found = (f"an assignment meeting every constraint with {len(s):,} pairs (at most "
             f"{_fmt(count_ub)}), worst pair {_fmt(worst)} (the best possible at most "
             f"{_fmt(t_ub)}) and total {value:.6g} (at most {_fmt(total_ub)})")
    if optimal:
        message = ""
    elif timed_out:  # where it stopped, what it holds (the bounds hold over every assignment)
        where = ("in the engine's plan" if stopped[0] == "plan" else
                 "in the fairness flows at the plan's loads" + (
                     " (the plan's own assignment stands)" if answer[0] is problem0 else ""))
        limit = "" if options.time_limit is None else f" ({float(options.time_limit):g} s)"
        message = (f"{objective} under side constraints stopped at the time limit{limit} {where}: "
                   f"{found}; not proven optimal")
    else:
        message = f"{objective} under side constraints at this size: {found}, not proven optimal"
    if not optimal and total_ub is not None and proven_total(total_ub, value):
        message = f"{message}; {at_bound_note(objective)}"  # (gap 0, "feasible": why)
    cert = {"method": "the engine's plan, then the certified fairness flows at its loads "
                      "(solvers/fair_source.py)",
            "matched": int(len(s)), "threshold": worst, "count_bound": count_ub,
            "threshold_bound": t_ub, "total_bound": total_ub, "steps": steps,
            "timed_out": timed_out and not optimal, "message": message}
    out = dataclasses.replace(problem, side=side, load=problem.load if load is None else load,
                              coverage_first=coverage_first)
    sol = finish(out, chosen, "optimal" if optimal else "feasible", started, objective,
                 bound=total_ub, certificate=cert, message=message)
    return out, sol


def _mentees(answer) -> np.ndarray:
    """The mentees of an answer ``(problem, chosen)``."""
    problem, chosen = answer
    return problem.pairs.mentee[chosen]


def _fmt(x) -> str:
    return "unknown" if x is None else (f"{x:,}" if isinstance(x, (int, np.integer)) else f"{x:.6g}")


def _at_least(new: np.ndarray, old: np.ndarray, objective: str) -> bool:
    """Whether sorted scores ``new`` are at least ``old`` in the objective's order: more pairs,
    then (max-min) a worst pair at least as good, (leximin) a sorted vector at least as good."""
    if len(new) != len(old):
        return len(new) > len(old)
    if not len(new):
        return True
    if objective == "maxmin":
        return bool(new[0] >= old[0])
    diff = np.flatnonzero(new != old)
    return not len(diff) or bool(new[diff[0]] > old[diff[0]])


def _flows(objective, scorer, source, loads, n, m, demand, locked, options, cover):
    """The fairness flows over every pair with each mentor's capacity at the plan's load."""
    if objective == "maxmin":
        from .bottleneck import solve_maxmin_scorer

        return solve_maxmin_scorer(scorer, loads, n_mentees=n, n_mentors=m, demand=demand,
                                   locked=locked, options=options, cover=cover)
    from .leximin_source import solve_leximin_source

    return solve_leximin_source(scorer, source, loads, n_mentees=n, n_mentors=m, demand=demand,
                                locked=locked, options=options, cover=cover)
