"""Pricing the alternatives to a pair: the table of other mentors for a mentee, each with the
drop in the programme's total score when it is forced (:mod:`mentormatch.report.forced`: one
exact re-solve each, or bounds above :data:`ALTERNATIVE_SOLVE_PAIRS`). The constraints that bind
on a chosen pair are :mod:`mentormatch.report.binding`'s.

Works on the pieces of a result (its ``data`` dict, the solved problem); never imports the
result class.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..constraints import RULE_WORDS
from . import forced
from .forced import (_reference_range, exact_solver, forced_cost_bounds, forced_cost_range,
                     forced_on_source, mentor_loads, plain_round)
from .bonus import NO_BONUS, objective_bonus
from .forced_fair import FAIR_OBJECTIVES, price_fair
from .words import short_number

__all__ = ["alternatives", "every_pair", "ALTERNATIVE_SOLVE_PAIRS"]


#: ``cost`` is the exact drop in the total score when the alternative is forced (one re-solve);
#: ``cost_low`` and ``cost_high`` bound it (equal to ``cost`` when it is exact; see
#: :func:`forced_cost_bounds` for rounds too large to re-solve).
#: Under ``fairness.objective`` maxmin or leximin the text states the change in that objective
#: (:mod:`mentormatch.report.forced_fair`), ``cost`` the total's as a secondary figure (exact
#: only), and ``worst_low``/``worst_high`` bound the worst pair score of the optimum with the
#: alternative forced (NaN under the total objective, or when not bounded).
_ALT_COLUMNS = ["mentor_id", "score", "eligible", "rule", "mentor_load", "mentor_capacity",
                "cost", "text", "cost_low", "cost_high", "worst_low", "worst_high"]


def _row(*cells, worst_low=None, worst_high=None) -> tuple:
    """One row of ``_ALT_COLUMNS`` (the fairness columns NaN unless given)."""
    return (*cells, np.nan if worst_low is None else worst_low,
            np.nan if worst_high is None else worst_high)


def _fair_row(mid, sc, load, cap, state, price) -> tuple:
    """A row priced under a fairness objective (:class:`~.forced_fair.FairPrice`)."""
    cost = np.nan if price.cost is None else price.cost
    return _row(mid, sc, True, "", load, cap, cost, f"{mid} (score {sc:.3f}, {state}): {price.verdict}",
                cost, cost, worst_low=price.worst_low, worst_high=price.worst_high)


def _bounded_row(mid, sc, load, cap, state, low, high, words: str, why: str) -> tuple:
    """A row whose cost is bounded, not found exactly: ``words`` the bounds, ``why`` the reason
    for bounds."""
    return _row(mid, sc, True, "", load, cap, np.nan, f"{mid} (score {sc:.3f}, {state}): {words} ({why})",
                np.nan if low is None else low, np.nan if high is None else high)


def _bounds_words(low, high, how: str, high_how: str = "a swap that holds it") -> str:
    if low is not None and not np.isfinite(low):
        return "cannot be forced: no place is left for it"
    lo = None if low is None else (0.0 if abs(low) < 1e-9 else low)
    hi = None if high is None else (0.0 if abs(high) < 1e-9 else high)
    if lo is not None and hi is not None:
        if abs(hi - lo) < 1e-9:
            return f"forcing it lowers the programme's total score by {hi:.4f}"
        return (f"forcing it lowers the programme's total score by at least {lo:.4f} ({how}) "
                f"and at most {hi:.4f} ({high_how})")
    if lo is not None:
        return f"forcing it lowers the programme's total score by at least {lo:.4f} ({how})"
    if hi is not None:
        return f"forcing it lowers the programme's total score by at most {hi:.4f} ({high_how})"
    return "the cost of forcing it is not bounded here"


#: Above this many candidate pairs in the solved problem, alternatives are listed with their
#: scores but not priced (pricing one is an exact re-solve of the whole round).
ALTERNATIVE_SOLVE_PAIRS = 1_000_000


def alternatives(data, problem, chosen, i, j, pos, objective, status, solver, n,
                 only: int | None = None) -> pd.DataFrame:
    """The ``n`` best mentors of mentee ``i`` other than its own, each with the exact cost of
    forcing it (columns ``_ALT_COLUMNS``); ``only``: price just that mentor index."""
    if n <= 0:
        return pd.DataFrame(columns=_ALT_COLUMNS)
    m_ids = data["mentor_ids"].ids
    complete, scores = data.get("complete"), data.get("scores")
    which, names = data.get("which_rule"), data.get("rule_names")
    solution = data.get("solution")
    # the scale path's solver held only its candidates: a re-solve on them alone would price a
    # forced pair against too few pairs. Priced on every eligible pair where a re-solve of them
    # is possible, else (``restricted``) with bounds valid over every pair
    restricted = None  # why not every pair, on the scale path
    if data.get("pair_reader") is not None:
        every, restricted = every_pair(data, problem, chosen)
        if every is not None:
            problem, chosen = every
            solution = dataclasses.replace(solution, chosen=chosen)
    P = problem.pairs
    current = set(P.mentor[chosen[P.mentee[chosen] == i]].tolist())
    m = P.n_mentors
    if complete is not None and scores is not None and which is not None:
        js = np.arange(m)
        cpos = i * complete.n_mentors + js
        s = scores.total[cpos]
        rule = which[cpos]
        keep = np.ones(m, bool)
        if names and "same_person" in names:
            keep &= rule != names.index("same_person")
    elif data.get("pair_reader") is not None and only is None:
        # the scale path: the mentee's whole row judged from the round's pair source, so the
        # list is the complete set's (ineligible mentors with their rule, mentors with no place)
        js, s, rule, names = _row_judged(data, i, m, names)
        keep = np.ones(len(js), bool)
    else:
        starts = P.starts()
        own = np.arange(starts[i], starts[i + 1])
        js, s, rule = P.mentor[own], problem.score[own], np.full(len(own), -1)
        outside = _asked_outside(data, i, only, js)
        if outside is not None:  # the scale path: a mentor asked about outside the solver's pairs
            score, rname = outside
            r = -1
            if rname is not None:  # ineligible: the rule by name, as the complete set's rows
                names = list(names or [])
                names += [rname] if rname not in names else []
                r = names.index(rname)
            js, s, rule = np.append(js, only), np.append(s, score), np.append(rule, r)
        keep = np.ones(len(js), bool)
    keep &= ~np.isin(js, list(current))
    if only is not None:
        keep &= js == only
    js, s, rule = js[keep], s[keep], rule[keep]
    order = np.lexsort((m_ids[js].astype(str), -s))[:n]
    # the re-solves share the round's time limit from this call; none starts past it
    limits = forced.resolve_options(data)
    late = (f"bounds: the time limit ({limits.time_limit:g} s) passed before its re-solve"
            if limits.time_limit is not None else "")
    skipped = (f"exact re-solves are skipped above {ALTERNATIVE_SOLVE_PAIRS:,} candidate pairs; "
               f"this round has {len(P):,}")
    load = mentor_loads(problem, chosen)
    solver_name = exact_solver(problem, solver)
    fair = solver_name if solver_name in FAIR_OBJECTIVES else None  # the objective priced
    ref = None
    fair_ref: dict = {}  # the fairness objective's reference standing, found once
    bonus = NO_BONUS  # the objective's bonus on each pair of ``problem``, when it has one
    if fair is not None and (solution.certificate or {}).get("objective", "score") != "score":
        bonus = objective_bonus(data, problem)
    rows = []
    for k in order:
        jj, sc, r = int(js[k]), float(s[k]), int(rule[k])
        mid = str(m_ids[jj])
        full = load[jj] >= problem.capacity[jj] - 1e-9
        lc = f"{short_number(load[jj], 2)}/{short_number(problem.capacity[jj], 2)}"
        if r >= 0:
            rname = names[r]
            words = RULE_WORDS.get(rname, f"is removed by rule {rname!r}")
            words = words.replace("are ", "is ", 1).replace("were ", "was ", 1)
            words = words.replace("are the mentee themself", "is the mentee themself")
            rows.append(_row(mid, sc, False, rname, load[jj], problem.capacity[jj], np.nan,
                         f"{mid} (score {sc:.3f}): ineligible, {words} (rule {rname!r})",
                         np.nan, np.nan))
            continue
        p = int(P.locate(np.array([i]), np.array([jj]))[0])
        state = f"mentor full ({lc} places)" if full else f"mentor has room ({lc} places)"
        # the locks (the question's pair among them) first, on every source: no re-solve
        why = _locks_refuse(problem, i, jj, data["mentee_ids"].ids, m_ids)
        if why or (p < 0 and restricted is None):
            text = (f"{mid} (score {sc:.3f}, {state}): cannot be forced: {why}" if why else
                    f"{mid} (score {sc:.3f}): outside the candidate pairs the solver was given")
            rows.append(_row(mid, sc, True, "", load[jj], problem.capacity[jj], np.nan, text,
                         np.nan, np.nan))
            continue
        if fair is not None:  # the programme's own objective (max-min, leximin), not the total
            bounds = (f"bounds: {restricted}" if restricted is not None else
                      f"bounds: {skipped}" if len(P) > ALTERNATIVE_SOLVE_PAIRS
                      else late if forced.past_limit(limits) else None)
            if not bonus.priced:  # an objective bonus not held per pair here: no figure
                rows.append(_row(mid, sc, True, "", load[jj], problem.capacity[jj], np.nan,
                                 f"{mid} (score {sc:.3f}, {state}): not priced: the round's {fair} "
                                 f"objective adds a bonus (priority, continuity) that is not held "
                                 f"per pair here", np.nan, np.nan))
                continue
            price = price_fair(problem, solution, p, i, jj, sc, fair, status, fair_ref, limits,
                               (data["mentee_ids"].ids, m_ids), bounds,
                               held=restricted is not None and len(P) <= ALTERNATIVE_SOLVE_PAIRS,
                               bonus=bonus.per_pair)
            rows.append(_fair_row(mid, sc, load[jj], problem.capacity[jj], state, price))
            continue
        priced = None
        if restricted is not None and only is not None and not forced.past_limit(limits):
            # one question: the round re-solved
            priced = forced_on_source(data, problem, solution, objective, status, solver, i, jj,
                                      limits)
        if restricted is not None and priced is None:  # bounds over every pair
            low, high, how = _restricted_bounds(problem, solution, chosen, i, jj, sc, p, objective,
                                                solver_name, limits)
            words = _bounds_words(low, high, how, "a re-solve on the solver pairs with it held")
            rows.append(_bounded_row(mid, sc, load[jj], problem.capacity[jj], state, low, high,
                                     words, f"bounds: {restricted}"))
            continue
        # one re-solve per alternative listed: bounds above the limit (one question, ``only``,
        # on a plain round is re-solved up to SOURCE_RESOLVE_PAIRS, as on the scale path) or
        # past the time limit
        one = only is not None and plain_round(problem, solution) and len(P) <= forced.SOURCE_RESOLVE_PAIRS
        why = (None if priced is not None else
               f"bounds: {skipped}" if len(P) > ALTERNATIVE_SOLVE_PAIRS and not one else
               late if forced.past_limit(limits) else None)
        if why is not None:
            low, high, how = forced_cost_bounds(problem, solution, p)
            rows.append(_bounded_row(mid, sc, load[jj], problem.capacity[jj], state, low, high,
                                     _bounds_words(low, high, how), why))
            continue
        if priced is None:
            if ref is None:
                ref = _reference_range(problem, solution, objective, status, solver, solver_name,
                                       limits)
            priced = forced_cost_range(problem, p, ref, solver_name, (data["mentee_ids"].ids, m_ids),
                                       limits)
        low, high, why, found = priced
        exact = low is not None and high is not None and abs(high - low) <= 1e-9
        if not found:
            text = f"{mid} (score {sc:.3f}, {state}): cannot be forced: {why}"
        elif exact:
            cost = max(high, 0.0) if abs(high) < 1e-9 else high
            if abs(cost) < 1e-9:
                verdict = "an equally good alternative: forcing it costs nothing"
            else:
                verdict = f"forcing it lowers the programme's total score by {cost:.4f}"
            text = f"{mid} (score {sc:.3f}, {state}): {verdict}"
            low = high = cost
        else:  # a re-solve ended with a gap: its figures are bounds, stated as bounds
            text = (f"{mid} (score {sc:.3f}, {state}): "
                    f"{_bounds_words(low, high, 'the re-solve bound', 'the re-solve answer')} "
                    f"(re-solve status {why}: it stopped with a gap)")
        c = high if exact else np.nan
        rows.append(_row(mid, sc, True, "", load[jj], problem.capacity[jj], c, text,
                     np.nan if low is None else low, np.nan if high is None else high))
    return pd.DataFrame(rows, columns=_ALT_COLUMNS)


def _row_judged(data, i: int, m: int, names):
    """Mentee ``i`` against every mentor, read from the round's pair source: ``(mentors,
    scores, rules, names)`` as the complete set's rows (``scores.total``, without the bonus;
    ``rules`` indices into ``names``, -1 eligible), the mentee themself left out."""
    rows = data["pair_reader"]()
    js = np.arange(m)
    which, rnames, total, _ = rows.judged(np.full(m, i), js)
    names = list(names or [])
    names += [r for r in rnames if r not in names]
    at = np.array([names.index(r) for r in rnames] + [-1], np.int64)  # (-1: eligible)
    which = np.asarray(which, np.int64)
    rule = at[np.where(which < 0, len(rnames), which)]
    keep = np.ones(m, bool) if "same_person" not in names else rule != names.index("same_person")
    return js[keep], np.asarray(total, np.float64)[keep], rule[keep], names


def _asked_outside(data, i: int, only: int | None,
                   own_mentors: np.ndarray) -> tuple[float, str | None] | None:
    """``(score, rule)`` of the pair (mentee ``i``, mentor ``only``) read from the round's pair
    source when the solver was not given it (the scale path: its candidates leave out the
    ineligible pairs, those of a mentor with no place and of a mentee its locks fill); ``rule``
    the name of the first rule removing it (its score then without the bonus, as on the
    complete set), None when it is eligible. None when not asked, or the mentee themself (the
    complete set lists no such row)."""
    reader = data.get("pair_reader")
    if only is None or reader is None or np.isin(only, own_mentors):
        return None
    rows = reader()
    which, names, total, _ = rows.judged(np.array([i]), np.array([only]))
    if which[0] < 0:
        return float(rows.at(np.array([i]), np.array([only]))[0]), None
    rule = names[int(which[0])]
    return None if rule == "same_person" else (float(total[0]), rule)


def every_pair(data, problem, chosen: np.ndarray):
    """``((problem, chosen), None)`` over every eligible pair of a scale-path round: the solved
    problem (its capacities, locks, side constraints, loads) with the pairs its solver was not
    given joined, unchosen, and the solution's pairs at their new positions; ``(None, why)``
    when those pairs are more than :data:`ALTERNATIVE_SOLVE_PAIRS` (a re-solve each would be
    too dear) or do not fit in memory. The solution stays the same assignment: its
    certificate covers every pair, so it is optimal on the grown problem too."""
    from ..errors import TooLargeError, ValidationError
    from ..solvers.base import grow

    reader = data["pair_reader"]()
    counts = getattr(reader, "eligible_counts", None)
    size = (int(np.sum(counts)) if counts is not None
            else problem.pairs.n_mentees * problem.pairs.n_mentors)
    if "full_problem" not in data:
        return None, "the round's eligible pairs are not held for a re-solve"
    if size > ALTERNATIVE_SOLVE_PAIRS:
        return None, (f"exact re-solves are skipped above {ALTERNATIVE_SOLVE_PAIRS:,} eligible "
                      f"pairs; this round has {size:,}")
    try:
        full = data["full_problem"]()
    except (TooLargeError, ValidationError):  # (check_fits: not in memory)
        return None, f"this round's {size:,} eligible pairs do not fit in memory for a re-solve"
    F = full.pairs
    new = problem.pairs.locate(F.mentee, F.mentor) < 0
    grown, was = grow(problem, F.mentee[new], F.mentor[new], full.score[new])
    return (grown, np.sort(was[chosen])), None


def _restricted_bounds(problem, solution, chosen, i: int, j: int, score: float, p: int,
                       objective: float, solver: str, limits=None):
    """``(low, high, how)``: bounds on the drop in the total score when (``i``, ``j``) is forced,
    on a scale-path round whose every pair is too many to re-solve; ``p`` its position in
    ``problem`` (the solver's pairs), or -1 when it is not among them.

    * ``low``: :func:`forced_cost_bounds`'s (the certificate's dual prices hold over every
      pair: no assignment holding the pair beats ``bound - (u_i + p_j - s_ij)``).
    * ``high``: the drop of an assignment over the solver's pairs with the pair joined and held
      (a re-solve on them up to :data:`ALTERNATIVE_SOLVE_PAIRS` pairs, else
      :func:`forced_cost_bounds`'s swap); every such assignment is one of the round's. None
      when neither finds one (which proves nothing: the round's other pairs may hold it)."""
    from ..solvers.base import grow

    if p < 0:
        problem, was = grow(problem, np.array([i]), np.array([j]), np.array([score]))
        chosen = np.sort(was[chosen])
        p = int(problem.pairs.locate(np.array([i]), np.array([j]))[0])
    held = dataclasses.replace(solution, chosen=chosen)
    low, high, how = forced_cost_bounds(problem, held, p)
    if (len(problem.pairs) <= ALTERNATIVE_SOLVE_PAIRS and not np.isin(p, chosen)
            and not forced.past_limit(limits)):  # (``limits``: the re-solve's time limit)
        _, resolved, _, found = forced_cost_range(problem, p, (objective, objective), solver,
                                                  options=limits)
        if found and resolved is not None:
            high = resolved if high is None else min(high, resolved)
    return low, high, how


def _locks_refuse(problem, i: int, j: int, mentee_ids, mentor_ids) -> str | None:
    """Why the locks forbid forcing the pair (``i``, ``j``), in or outside ``problem``'s pairs
    (the diagnosis's ``locked`` findings by id, the pair worded as the question's:
    :func:`~mentormatch.solvers.diagnose.lock_conflicts`' ``asked``), or None when they allow
    it. No re-solve: the locked pairs and this one only."""
    from ..solvers.diagnose import lock_conflicts, locks_alone

    P, locked = problem.pairs, np.asarray(problem.locked, bool)
    alone = locks_alone(np.append(P.mentee[locked], i), np.append(P.mentor[locked], j),
                        P.n_mentees, problem.capacity, problem.demand, problem.load)
    asked = int(alone.pairs.locate(np.array([i]), np.array([j]))[0])
    found = lock_conflicts(alone, mentee_ids, mentor_ids, asked=asked)
    return "; ".join(map(str, found)) if found else None
