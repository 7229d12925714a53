"""A pairing round of a programme: leavers and lowered capacities end pairs, the pairs in force
are locked, history forbids repeats, priority and continuity enter the objective as a bonus, and
the round is recorded (see the package docstring for the rules)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..matching import Matching
from ..rules import Rules
from . import ledger, locks
from .offsets import hard_priority_offset
from .tables import ROUND_UNMATCHED_COLUMNS, Round, as_date, typed

if TYPE_CHECKING:
    from .core import Programme


def copy_table(table):
    return table.copy() if isinstance(table, pd.DataFrame) else table


def run_round(prog: "Programme", mentors, mentees, date) -> Matching:
    """The body of :meth:`Programme.run_round` (the caller restores the state on failure)."""
    from ..pipeline import prepare, solve
    from ..schema import validate_tables

    date = as_date(date, "date")
    latest = max([r.date for r in prog._rounds[-1:]] + prog._history["start"].tolist(), default="")
    if date < latest:
        raise ValidationError(Problem("arguments", "date", None, None, date,
                                      f"a date on or after the previous round or rematch "
                                      f"({latest})"))
    number = len(prog._rounds) + 1
    mcols, ecols = prog.rules.column_maps()
    v_mentors, v_mentees = validate_tables(mentors, mentees, mentor_columns=mcols or None,
                                           mentee_columns=ecols or None,
                                           **prog.rules.input_options())
    mentee_set = set(v_mentees["id"].astype(str))
    mentor_set = set(v_mentors["id"].astype(str))

    # leavers, pairs the rules now exclude and lowered capacities end pairs in force; the
    # exclusions are checked on the pairs in force alone, at every size, before capacities are
    # trimmed (an excluded pair takes no place)
    notes = ledger.end_leavers(prog._history, date, mentee_set, mentor_set)
    rules, dropped = round_rules(prog, date, number, mentee_set, mentor_set)
    notes += dropped
    notes += locks.end_ineligible(prog, v_mentors, v_mentees, rules, date)
    ledger.trim_to_capacity(prog._history, v_mentors, v_mentees, date)
    rules, _ = round_rules(prog, date, number, mentee_set, mentor_set)
    prepared = prepare(mentors, mentees, rules, framework=prog.framework)

    h = prog._history
    active_rows = h[ledger.active_mask(h, date)]
    carried = set(zip(active_rows["mentee_id"], active_rows["mentor_id"]))
    priority_ids = priority_mentees(prog, mentee_set, set(active_rows["mentee_id"]))
    # one solve: the priority/continuity bonus enters the objective, the scores stay plain
    bonus = round_bonus(prog, prepared, priority_ids, carried, date)
    if (prepared.solver == "stable" and prepared.scorer is None and prepared.stopped is None
            and np.any(prepared.problem.locked)):
        result = _solve_stable_with_locks(prepared, bonus)
    else:
        result = solve(prepared, bonus)

    record_round(prog, result, number, date, carried, priority_ids, tuple(notes))
    prog._tables = (copy_table(mentors), copy_table(mentees))
    return result


def _solve_stable_with_locks(prepared, bonus: np.ndarray | None) -> Matching:
    """Deferred acceptance with the pairs in force kept: the solver ``stable`` takes no locked
    pairs, so each locked pair is put first in both sides' preferences instead. The locked mentee
    proposes to its mentor first and the mentor prefers it to every other mentee, so it is
    accepted and never displaced (the pairs in force fit the capacities); the matching is stable
    for everyone else on what is left. The bonus orders the other pairs (there is no bonus
    argument here: ``pipeline.solve`` would drop the preference ranks when it adds one)."""
    from ..pipeline import solve

    p = prepared.problem
    adjusted = p.score + (bonus if bonus is not None else 0.0)
    ranks = {}
    for side in ("mentee_rank", "mentor_rank"):
        base = getattr(p, side)
        base = -adjusted if base is None else np.asarray(base, dtype=np.float64)
        finite = base[np.isfinite(base)]
        first = (float(finite.min()) if len(finite) else 0.0) - 1.0
        ranks[side] = np.where(p.locked, first, base)
    sub = dataclasses.replace(p, locked=np.zeros(len(p.pairs), dtype=bool), **ranks)
    result = solve(dataclasses.replace(prepared, problem=sub, data={**prepared.data, "problem": sub}))
    locked = set(zip(p.pairs.mentee[p.locked].tolist(), p.pairs.mentor[p.locked].tolist()))
    e_index, m_index = prepared.mentee_ids.index, prepared.mentor_ids.index
    keys = zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str))
    pairs = result.pairs.copy()
    pairs["locked"] = [(e_index[e], m_index[m]) in locked for e, m in keys]
    if int(pairs["locked"].sum()) != len(locked):  # the locked pairs fit, so this is a bug
        raise RuntimeError(f"deferred acceptance kept {int(pairs['locked'].sum())} of the "
                           f"{len(locked)} pairs in force; please report this")
    return dataclasses.replace(result, pairs=pairs)


def round_rules(prog: "Programme", date: str, number: int, mentee_set: set, mentor_set: set,
                lock: bool = True) -> tuple[Rules, list[str]]:
    """The round's rules: the programme's, plus the ledger's forbidden and locked pairs; the
    programme's own forbidden and locked pairs naming someone absent are dropped, with a note."""
    forbidden, locks = ledger.exclusions(prog._history, date, number, mentee_set, mentor_set,
                                         allow_repeats=prog.allow_repeats,
                                         cooldown_rounds=prog.cooldown_rounds)
    locks = locks if lock else []
    cons = prog.rules.constraints
    notes = []
    kept: dict[str, list] = {}
    for setting in ("forbidden", "locked"):
        here, gone = [], []
        for a, b in cons[setting]:
            (here if str(a) in mentee_set and str(b) in mentor_set else gone).append([str(a), str(b)])
        kept[setting] = here
        if gone:
            notes.append(f"constraints.{setting}: {len(gone)} pair(s) naming someone who is not "
                         f"in this round dropped for this round: "
                         f"{ledger.listing(f'({a}, {b})' for a, b in gone)}")
    user_locks = kept["locked"]
    # a pair the rules lock is made again even if the history would forbid the repeat
    forbidden = [p for p in forbidden if p not in user_locks]
    changes = {"constraints": {"forbidden": kept["forbidden"] + forbidden,
                               "locked": user_locks + [p for p in locks if p not in user_locks]}}
    geo = prog.rules.feature_settings("geography")
    if prog.rules.weights.get("geography", 0) > 0 and geo.get("reference_date") is None:
        # working hours overlap on the round's date, with that date's daylight saving time
        changes["features"] = {**prog.rules.settings["features"],
                               "geography": {**geo, "reference_date": date}}
    return prog.rules.replace(**changes), notes


def priority_mentees(prog: "Programme", mentee_set: set, in_pairs: set) -> set:
    """Mentees left unmatched in the previous round who take part again and have no pair."""
    if prog.priority is None or not prog._rounds:
        return set()
    last = set(prog._rounds[-1].unmatched["mentee_id"])
    return (last & mentee_set) - in_pairs


def round_bonus(prog: "Programme", prepared, priority_ids: set, carried: set,
                date: str):
    """The objective bonus (None when all zero): one number per eligible pair of the round's
    problem, or on the scale path a :class:`~mentormatch.pipeline.PairBonus` (per mentee for
    priority, per listed pair for continuity), which the engine prices at any size. Its terms
    are the same numbers on every source: ``priority="hard"`` adds
    :func:`~mentormatch.programme.offsets.hard_priority_offset`, read from the rules and tables."""
    e_index, m_index = prepared.mentee_ids.index, prepared.mentor_ids.index
    a, b = [], []
    if prog.continuity:
        h = prog._history
        ended = h[~ledger.active_mask(h, date)].sort_values(["start", "instance"], kind="mergesort")
        latest = ended.groupby("mentee_id", sort=False).tail(1)
        paired_now = {e for e, _ in carried}
        for e, m in zip(latest["mentee_id"], latest["mentor_id"]):
            if e in e_index and m in m_index and e not in paired_now:
                a.append(e_index[e])
                b.append(m_index[m])
    from ..constraints import priority_bonus
    from ..solvers.base import PairBonus

    n_e, n_m = len(prepared.mentee_ids), len(prepared.mentor_ids)
    column = priority_bonus(prepared)  # the mentees' own priority column, within the round
    per = np.zeros(n_e) if column is None else column.per_mentee.copy()
    bonus = PairBonus(per_mentee=per, mentee=np.asarray(a, np.int64), mentor=np.asarray(b, np.int64),
                      value=np.full(len(a), float(prog.continuity_weight)), n_mentors=n_m)
    if priority_ids:
        prio = np.isin(prepared.mentee_ids.ids.astype(str), list(priority_ids))
        # "hard": above the other terms (the column, continuity), from the rules and tables
        # alone, so that every pair source adds the same offset
        add = (float(prog.priority_weight) if prog.priority == "weight" else
               hard_priority_offset(prepared, others=bonus))
        bonus = dataclasses.replace(bonus, per_mentee=np.where(prio, per + add, per))
    if not bonus.any():
        return None
    if prepared.problem is not None and prepared.stopped is None:  # one number per eligible
        # pair, as the stable path reads (a stopped round's pairs are its locks': the bonus of
        # the others bounds its answer, pipeline.stopped.with_bonus)
        return bonus.on_pairs(prepared.problem.pairs.mentee, prepared.problem.pairs.mentor)
    return bonus


def record_round(prog: "Programme", result: Matching, number: int, date: str, carried: set,
                 priority_ids: set, notes: tuple[str, ...] = ()) -> None:
    """Append the round to the programme: new instances in the ledger, the round's tables."""
    pairs = result.pairs
    keys = list(zip(pairs["mentee_id"].astype(str), pairs["mentor_id"].astype(str)))
    is_carried = np.array([k in carried for k in keys], dtype=bool)
    h = prog._history
    active = ledger.active_mask(h, date)
    still = active & pd.Series(list(zip(h["mentee_id"], h["mentor_id"])), dtype=object).isin(
        set(keys)).to_numpy() if len(h) else np.zeros(0, dtype=bool)
    if still.any():
        h.loc[still, "last_round"] = number
    prog._history = ledger.add_instances(h, pairs[~is_carried], number, date, "round")
    round_pairs = typed(pd.DataFrame({
        "mentee_id": pairs["mentee_id"].astype(str), "mentor_id": pairs["mentor_id"].astype(str),
        "score": pairs["score"].astype(float),
        "rank": pairs["rank"].astype(np.int64) if "rank" in pairs else 0,
        "carried": is_carried,
        "priority": pairs["mentee_id"].astype(str).isin(priority_ids).to_numpy()}))
    un = result.unmatched
    round_unmatched = typed(pd.DataFrame({
        "mentee_id": un["mentee_id"].astype(str), "reason_code": un["reason_code"].astype(str),
        "reason": un["reason"].astype(str),
        "priority": un["mentee_id"].astype(str).isin(priority_ids).to_numpy()},
        columns=list(ROUND_UNMATCHED_COLUMNS)))
    prog._rounds.append(Round(number, date, round_pairs, round_unmatched, result.status,
                              float(result.objective), str(result.solver), result, notes))
