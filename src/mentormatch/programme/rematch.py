"""Rematch: a new mentor for a mentee whose pair ended early, with the fewest changes to the pairs
in force (lexicographic: match the mentee, keep pairs, then the score)."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MentormatchError, Problem, ValidationError
from ..matching import Matching
from . import ledger, locks
from .offsets import dominating_offset
from .rounds import round_rules
from .tables import as_date

if TYPE_CHECKING:
    from .core import Programme


def resolve_with_bonus(prepared, bonus: np.ndarray, subset: np.ndarray | None = None) -> Matching:
    """Solve a prepared round with ``score + bonus`` as the objective, optionally on a subset of
    its pairs; the pairs are reported with their own scores (see :func:`pipeline.solve`)."""
    from ..pipeline import solve

    if subset is not None:
        p = prepared.problem
        ranks = {k: getattr(p, k)[subset] for k in ("mentee_rank", "mentor_rank")
                 if getattr(p, k) is not None}
        sub = dataclasses.replace(p, pairs=p.pairs.subset(subset), score=p.score[subset],
                                  locked=p.locked[subset], **ranks)
        contributions = prepared.contributions.iloc[np.flatnonzero(subset)].reset_index(drop=True)
        prepared = dataclasses.replace(prepared, problem=sub, contributions=contributions,
                                       data={**prepared.data, "problem": sub,
                                             "all_contributions": contributions})
        bonus = bonus[subset]
    return solve(prepared, bonus)


def _offsets(n_max: int, span: float) -> tuple[float, float]:
    """``(k_off, t_off)``: one more pair in force kept (``k_off``) beats any change of the
    scores, and matching the mentee (``t_off``) beats any number of pairs kept
    (:func:`~mentormatch.programme.offsets.dominating_offset` twice)."""
    k_off = dominating_offset(n_max, span)
    return k_off, dominating_offset(n_max + 1, k_off + span)


def _solve_complete(base, mentee_id: str, in_force: list, allow_changes: bool) -> Matching:
    """The lexicographic rematch on every eligible pair: a bonus per pair, on the pairs of the
    mentees in play."""
    p = base.problem
    e_index, m_index = base.mentee_ids.index, base.mentor_ids.index
    target = e_index[mentee_id]
    known = [(e, m) for e, m in in_force if e in e_index and m in m_index]
    a = np.array([e_index[e] for e, _ in known], dtype=np.int64)
    b = np.array([m_index[m] for _, m in known], dtype=np.int64)
    keep_pos = p.pairs.locate(a, b) if len(a) else np.zeros(0, dtype=np.int64)
    keep_pos = keep_pos[keep_pos >= 0]
    in_play = np.zeros(p.n_mentees, dtype=bool)
    in_play[target] = True
    in_play[p.pairs.mentee[keep_pos]] = True
    in_play[p.pairs.mentee[p.locked]] = True
    sel = in_play[p.pairs.mentee]

    keep = np.zeros(len(p.pairs), dtype=bool)
    keep[keep_pos] = True
    if not allow_changes:
        p.locked = p.locked | keep
    span = base.data["rules"].score_span  # as at scale: from the rules, not the scores
    n_max = int(min(p.demand[in_play].sum(), max(p.capacity.sum(), 1)))
    k_off, t_off = _offsets(n_max, span)
    bonus = k_off * keep + t_off * (p.pairs.mentee == target)
    return resolve_with_bonus(base, bonus, subset=sel)


def _solve_at_scale(prog: "Programme", base, probe_rules, v_mentors, v_mentees, mentee_id: str,
                    in_force: list, tables, allow_changes: bool) -> Matching:
    """The lexicographic rematch above ``pipeline.LARGE_PAIRS``, with the objective of
    :func:`_solve_complete` as a :class:`~mentormatch.pipeline.PairBonus`: ``t_off`` on the
    mentee, ``k_off`` on each eligible pair in force, and on each mentee out of play a penalty
    larger than any score (so that none of their pairs pays: the solver leaves them out, as
    the subset does below that size). The offsets bound the score span by the sum of the
    positive weights, every score's upper bound. The pairs in force are checked against the
    rules one by one (:func:`~mentormatch.programme.locks.excluding_rules`), never all pairs;
    with ``allow_changes=False`` the eligible ones are locked through the rules."""
    from ..pipeline import PairBonus, prepare, solve

    e_index, m_index = base.mentee_ids.index, base.mentor_ids.index
    known = [(e, m) for e, m in in_force if e in e_index and m in m_index]
    gone = {(e, m) for e, m, _ in locks.excluding_rules(v_mentors, v_mentees, probe_rules,
                                                         prog.framework, known)}
    kept = [(e, m) for e, m in known if (e, m) not in gone]
    user = [list(x) for x in probe_rules.constraints["locked"]]
    if not allow_changes and kept:
        rules = probe_rules.replace(constraints={
            "locked": user + [[e, m] for e, m in kept if [e, m] not in user]})
        base = prepare(*tables, rules, framework=prog.framework)
        e_index, m_index = base.mentee_ids.index, base.mentor_ids.index
    n_e, n_m = len(base.mentee_ids), len(base.mentor_ids)
    a = np.array([e_index[e] for e, _ in kept], dtype=np.int64)
    b = np.array([m_index[m] for _, m in kept], dtype=np.int64)
    in_play = np.zeros(n_e, dtype=bool)
    in_play[e_index[mentee_id]] = True
    in_play[a] = True
    in_play[[e_index[str(e)] for e, _ in user if str(e) in e_index]] = True
    span = base.data["rules"].score_span
    demand = base.data["demand"]
    need = float(in_play.sum() if demand is None else np.sum(demand[in_play]))
    n_max = int(min(need, max(float(np.sum(base.data["capacity"])), 1.0)))
    k_off, t_off = _offsets(n_max, span)
    per = np.where(in_play, 0.0, -(span + 1.0))
    per[e_index[mentee_id]] += t_off
    result = solve(base, PairBonus(per_mentee=per, mentee=a, mentor=b,
                                   value=np.full(len(a), k_off), n_mentors=n_m))
    if result.status != "optimal":
        _refuse_if_worse(prog, result, v_mentors, v_mentees, probe_rules, mentee_id, kept)
    return result


def free_mentors(prog: "Programme", v_mentors, v_mentees, rules, mentee_id: str,
                 kept: list) -> list[str]:
    """The mentors eligible for ``mentee_id`` under ``rules`` with room for them beside the
    pairs ``kept``: one row of pairs checked (:func:`locks.excluding_rules`), not all pairs."""
    ids = v_mentors["id"].astype(str).tolist()
    out = {m for _, m, _ in locks.excluding_rules(v_mentors, v_mentees, rules, prog.framework,
                                                  [(mentee_id, m) for m in ids])}
    load = (dict(zip(v_mentees["id"].astype(str),
                     np.nan_to_num(v_mentees["load"].to_numpy(dtype=float), nan=1.0)))
            if "load" in v_mentees.columns else {})
    used: dict[str, float] = {}
    for e, m in kept:
        used[m] = used.get(m, 0.0) + load.get(e, 1.0)
    cap = dict(zip(ids, v_mentors["capacity"].to_numpy(dtype=float)))
    need = load.get(mentee_id, 1.0)
    return [m for m in ids if m not in out and cap[m] - used.get(m, 0.0) >= need - 1e-9]


def _refuse_if_worse(prog, result: Matching, v_mentors, v_mentees, rules, mentee_id: str,
                     kept: list) -> None:
    """A solve that stopped short of its optimum (the engine's time limit) is not recorded when
    it is provably worse than the lexicographic optimum: when an eligible mentor has room, the
    optimum matches the mentee and changes nobody else."""
    chosen = set(zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str)))
    changed = sum((e, m) not in chosen for e, m in kept)
    matched = mentee_id in {e for e, _ in chosen}
    if not changed and matched:
        return
    free = free_mentors(prog, v_mentors, v_mentees, rules, mentee_id, kept)
    if free:
        what = f"changes {changed} other pair(s)" if changed else "leaves the mentee unmatched"
        raise MentormatchError(
            f"rematch of {mentee_id!r}: the solver stopped with status {result.status!r} and an "
            f"answer that {what}, although {len(free)} eligible mentor(s) have room (for example "
            f"{free[0]!r}); nothing was recorded. Above pipeline.LARGE_PAIRS pairs the rematch's "
            f"bonus goes to the LP/MIP engine, which stopped at its time limit: raise the rules' "
            f"time_limit, or end the pair and pair this mentee by hand")


def rematch(prog: "Programme", mentee_id, date, mentors, mentees,
            allow_changes: bool) -> tuple[Matching, int]:
    """The body of :meth:`Programme.rematch` (the caller restores the state on failure)."""
    from ..pipeline import prepare
    from ..schema import validate_tables

    if not prog._rounds:
        raise ValidationError(Problem("arguments", "mentee_id", str(mentee_id), None, mentee_id,
                                      "a mentee of a round already run (no round has been run)"))
    date = as_date(date, "date")
    if date < prog._rounds[-1].date:
        raise ValidationError(Problem("arguments", "date", None, None, date,
                                      f"a date on or after the latest round's ({prog._rounds[-1].date})"))
    if mentors is None or mentees is None:
        if prog._tables is None:
            raise ValidationError(Problem("arguments", "mentors", None, None, None,
                                          "the mentors and mentees tables: a loaded programme "
                                          "does not keep people's data"))
        mentors, mentees = prog._tables if mentors is None and mentees is None else (
            mentors if mentors is not None else prog._tables[0],
            mentees if mentees is not None else prog._tables[1])
    mentee_id = str(mentee_id)
    number = prog._rounds[-1].number
    h = prog._history
    mine = ledger.active_mask(h, date) & (h["mentee_id"] == mentee_id).to_numpy()
    ledger.close(h, mine, date, "rematch")

    # the eligible pairs and scores, with the history forbidden and nothing locked
    mcols, ecols = prog.rules.column_maps()
    v_mentors, v_mentees = validate_tables(mentors, mentees, mentor_columns=mcols or None,
                                           mentee_columns=ecols or None,
                                           **prog.rules.input_options())
    probe_rules, _ = round_rules(prog, date, number, set(v_mentees["id"].astype(str)),
                                 set(v_mentors["id"].astype(str)), lock=False)
    base = prepare(mentors, mentees, probe_rules, framework=prog.framework)
    if mentee_id not in base.mentee_ids.index:  # built once by the encoder: O(1) lookups
        raise ValidationError(Problem("mentees", "id", mentee_id, None, mentee_id,
                                      "a mentee in the mentees table"))
    act = ledger.active_mask(h, date)
    in_force = list(zip(h["mentee_id"][act], h["mentor_id"][act]))
    if base.problem is None:  # the scale path: the same objective, as a PairBonus
        result = _solve_at_scale(prog, base, probe_rules, v_mentors, v_mentees, mentee_id,
                                 in_force, (mentors, mentees), allow_changes)
    else:
        result = _solve_complete(base, mentee_id, in_force, allow_changes)

    # what changed, and the ledger
    chosen = set(zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str)))
    others = {e for e, _ in in_force if e != mentee_id}
    changed = {e for e, m in in_force if e != mentee_id and (e, m) not in chosen}
    displaced = ledger.active_mask(h, date) & np.array(
        [(e, m) not in chosen for e, m in zip(h["mentee_id"], h["mentor_id"])], dtype=bool)
    ledger.close(h, displaced, date, "displaced")
    before = set(in_force)
    new_pairs = result.pairs[[(str(e), str(m)) not in before for e, m in
                              zip(result.pairs["mentee_id"], result.pairs["mentor_id"])]]
    prog._history = ledger.add_instances(h, new_pairs, number, date, "rematch")
    un = result.unmatched.copy()
    out_of_play = ~un["mentee_id"].astype(str).isin(others | {mentee_id})
    un.loc[out_of_play, "reason_code"] = "not_considered"
    un.loc[out_of_play, "reason"] = (f"not part of this rematch, which only finds a mentor for "
                                     f"{mentee_id!r} and keeps the pairs in force")
    result.unmatched = un.reset_index(drop=True)
    prog._tables = (mentors, mentees)
    return result, len(changed)
