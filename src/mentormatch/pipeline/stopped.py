"""A round whose time limit passed before its pairs were scored (``pair()``'s limit counts from
the call: reading and validating count too). Scoring the pairs (every pair of the complete
set, or the scale path's scorer) is then not started: the answer is the locked pairs alone
(the locked mentees' rows scored and checked by every rule, as always), every other mentee
unmatched with the reason ``"time_limit"``, "feasible" with a bound over every assignment that
needs no score: each pair scores at most ``score_span`` (the sum of the positive weights,
:attr:`mentormatch.rules.Rules.score_span`) and mentee ``i`` holds at most
``min(d_i, n_mentors)`` pairs.

Under an objective bonus (priority, continuity: :func:`with_bonus`) the answer reads as every
bonus answer does (:mod:`mentormatch.pipeline.bonus`): its bound is on ``score + bonus``, in
``certificate["adjusted_bound"]``, each pair at most ``score_span`` plus its mentee's largest
bonus (until s27: the plain bound alone, stated as the answer's).

Only where the locks alone meet every constraint: no side constraint (a budget, minimum loads,
floors, balanced loads, incentives), whole loads and the locks within the capacities and
demands; otherwise the round is prepared whole (the solver then answers at once, with its own
bound, or names the conflict)."""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd

from ..constraints import first_rule, id_pairs, removal_counts, rule_masks
from ..pairs import Candidates, Encoder
from ..rules import Rules
from ..solvers import AssignmentProblem, Solution, SolverOptions
from .prepared import Prepared, _choose_solver, _side_constraints
from .reader import refuse_ineligible_locks


def stopped_round(mentors, mentees, rules: Rules, context, framework, mentee_ids: Encoder,
                  mentor_ids: Encoder, demand, load) -> Prepared | None:
    """The :class:`Prepared` round of the locks alone with its answer (``Prepared.stopped``),
    or None where the locks alone would not meet every constraint (module docstring)."""
    from ..scoring import score_pairs

    side = _side_constraints(rules, mentees, mentors)
    n, m = len(mentees), len(mentors)
    if side.active() or (load is not None and not np.all(load == np.round(load))):
        return None
    capacity = mentors["capacity"].to_numpy(dtype=float)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    a = b = np.zeros(0, np.int64)
    if rules.constraints["locked"]:
        a, b = id_pairs(rules.constraints["locked"], mentee_ids, mentor_ids, "constraints.locked")
    keys = np.unique(a * m + b)
    weight = np.ones(n) if load is None else np.asarray(load, float)
    taken = np.bincount(keys % m, weights=weight[keys // m], minlength=m)
    if len(keys) != len(a) or np.any(taken > capacity + 1e-9) or \
            np.any(np.bincount(keys // m, minlength=n) > dem):
        return None  # a lock conflict: the solver names it
    locks = np.bincount(keys // m, minlength=n)
    room = np.maximum(np.minimum(dem, m) - locks, 0)
    if not room.any():
        return None  # the locks fill every demand: nothing is left to stop
    # the locked mentees' rows, whole (a few rows): their locks checked by every rule, their
    # ranks and eligible counts exact
    rows = np.unique(keys // m)
    block = Candidates(np.repeat(rows, m), np.tile(np.arange(m, dtype=np.int64), len(rows)), n, m)
    masks = rule_masks(mentees, mentors, block, rules.constraints, mentee_ids, mentor_ids)
    scores = score_pairs(mentees, mentors, block, rules, context)
    masks.update(scores.ineligible)
    if not math.isnan(rules.constraints["min_score"]):
        masks["min_score"] = scores.total < rules.constraints["min_score"]
    which, names = first_rule(masks, len(block))
    refuse_ineligible_locks(a, b, which[block.locate(a, b)], names, mentee_ids, mentor_ids)
    eligible = which < 0
    cand = block.subset(eligible)
    chosen = np.sort(cand.locate(keys // m, keys % m))
    locked = np.zeros(len(cand), bool)
    locked[chosen] = True
    problem = AssignmentProblem(cand, scores.total[eligible], capacity, demand=demand, load=load,
                                locked=locked, coverage_first=bool(rules.constraints["coverage_first"]),
                                side=side)
    objective = float(problem.score[chosen].sum())
    bound = objective + rules.score_span * float(room.sum())
    limit = float(rules.settings["time_limit"])
    message = (f"stopped at the time limit ({limit:g} s) before the pairs were scored (reading "
               f"and checking the tables took it): the answer is the {len(cand)} locked "
               f"pair(s) alone; every assignment scores at most {bound:.6g} (each pair at most "
               f"{rules.score_span:g}, the sum of the weights)")
    solver = _choose_solver(rules, side, problem)
    solution = Solution(chosen, "feasible", objective, bound, 0.0, solver,
                        {"timed_out": True, "message": message, "stopped": "preparation"},
                        message)
    removed = removal_counts(which, names, block)  # (0 for the rows not read)
    contributions = pd.DataFrame(scores.contributions[eligible], columns=scores.features)
    counts = np.full(n, -1, np.int64)  # -1: not counted, the row never scored
    counts[rows] = np.bincount(cand.mentee, minlength=n)[rows]
    data = {"mentees": mentees, "mentors": mentors, "rules": rules, "framework": framework,
            "scores": scores, "rule_names": names, "all_contributions": contributions,
            "missing": scores.missing[eligible], "requested_solver": rules.solver,
            "problem": problem, "mentee_ids": mentee_ids, "mentor_ids": mentor_ids,
            "removed": removed}
    return Prepared(problem, mentee_ids, mentor_ids, removed, contributions, data, solver,
                    SolverOptions(seed=rules.seed, time_limit=limit),
                    stopped=(solution, counts))


def with_bonus(prepared: Prepared, solution: Solution, bonus) -> Solution:
    """The stopped answer (the locks alone, :func:`stopped_round`) under the objective
    ``bonus`` (a :class:`~mentormatch.solvers.base.PairBonus`, or one number per pair of the
    stopped problem: its locked mentees' rows), as :mod:`mentormatch.pipeline.bonus` reports
    one: ``objective`` the plain total, ``bound`` None, ``certificate["adjusted_objective"]``
    and ``["adjusted_bound"]`` on ``score + bonus``.

    Why the bound holds: every assignment holds the locks and, mentee ``i``, at most ``r_i =
    min(d_i, n_mentors) - locks_i`` more pairs, each scoring at most ``score_span`` plus its
    bonus, at most ``B_i``: ``per_mentee_i + max(0, largest listed value of i)`` (each pair's
    bonus is ``per_mentee_i`` plus its listed value, or 0; a scale or per-mentor terms as
    :meth:`~mentormatch.solvers.base.PairBonus.mentee_ceiling` counts them), or the largest of
    the row's array entries; each counted at ``max(0, .)`` (a pair may be left out). No bound where the bonus
    of a mentee with room is not known (an array holds the locked rows alone): then the
    message says so."""
    from ..solvers.base import PairBonus

    if bonus is None or not (bonus.any() if isinstance(bonus, PairBonus) else np.any(bonus)):
        return solution
    p, chosen = prepared.problem, np.asarray(solution.chosen, np.int64)
    n, m = p.pairs.n_mentees, p.pairs.n_mentors
    span = float(prepared.data["rules"].score_span)
    if isinstance(bonus, PairBonus):
        worth = bonus.apply(p.score, p.pairs.mentee, p.pairs.mentor)
        on = worth - p.score
        top = bonus.mentee_ceiling(span, n)
    else:
        on = np.asarray(bonus, float)
        worth = p.score + on
        top = np.full(n, np.nan)  # (an array: only the rows it covers are known)
        np.fmax.at(top, p.pairs.mentee, on)
        top += span
    dem = np.ones(n, np.int64) if p.demand is None else np.asarray(p.demand, np.int64)
    room = np.maximum(np.minimum(dem, m) - np.bincount(p.pairs.mentee[p.locked], minlength=n), 0)
    adjusted = float(worth[chosen].sum())
    per = np.maximum(top[room > 0], 0.0)
    known = bool(np.all(np.isfinite(per)))
    bound = adjusted + float(room[room > 0] @ per) if known else None
    message = solution.message + (
        f"; with the round's bonus, every assignment scores at most {bound:.6g} on score + bonus "
        f"(each pair at most {span:g} plus its mentee's largest bonus)" if known else
        "; no bound on score + bonus: the bonus of the mentees with no locked pair is not known "
        "before their pairs are scored")
    cert = dict(solution.certificate or {})
    cert.update(objective="score + bonus", adjusted_objective=adjusted, adjusted_bound=bound,
                bonus_total=float(on[chosen].sum()), message=message)
    return dataclasses.replace(solution, bound=None, certificate=cert, message=message)


def past(deadline: float | None) -> bool:
    """Whether ``deadline`` (a ``time.perf_counter`` reading; None: no limit) has passed."""
    return deadline is not None and time.perf_counter() >= deadline
