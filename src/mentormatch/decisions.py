"""The decision loop: people accept or decline the proposed pairs; the round is re-paired with
the fewest changes.

A decisions table has one row per decided pair: ``mentee_id``, ``mentor_id``, ``decision`` in
{accept, decline}. Every proposed pair not in it is *pending*. :func:`revise` re-pairs with

* accepted pairs locked and declined pairs forbidden (hard constraints), and
* a lexicographic objective: first keep as many pending pairs as possible (the fewest changed
  pending pairs), then the best total score.

The second goal is folded into the first by the pipeline's bonus: each pair that keeps a
pending pair gets a bonus ``M`` larger than any difference of total score between two
pairings, so one more kept pair outweighs any gain in score and the optimum of
``score + bonus`` is the lexicographic optimum. The bonus is a
:class:`~mentormatch.pipeline.PairBonus` on the listed pending pairs, which the pipeline
prices at every size, the scale path included. The reported scores and objective stay the
plain scores.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .matching import Matching
from .report.html import DECISION_COLUMNS  # the format the report's page downloads

__all__ = ["DECISIONS", "DECISION_COLUMNS", "read_decisions", "revise", "keep_bonus",
           "record_decisions"]

DECISIONS = ("accept", "decline")


def read_decisions(decisions, table: str = "decisions", known: tuple | None = None) -> pd.DataFrame:
    """Validate a decisions table (a DataFrame or the path of a CSV).

    Returns a new DataFrame with text columns ``mentee_id``, ``mentor_id``, ``decision``
    (lower case). Refuses, naming the line, column, value and what was expected: a missing
    column, an empty id, a decision other than accept/decline, one pair decided twice
    differently (the same decision twice is kept once), and with ``known`` (the round's mentee
    ids and mentor ids, as text) an id that is neither.

    >>> read_decisions(pd.DataFrame({"mentee_id": ["E1"], "mentor_id": ["M1"],
    ...                              "decision": [" Accept"]})).decision.tolist()
    ['accept']
    """
    if isinstance(decisions, (str, Path)):
        table = str(decisions)
        try:
            frame = pd.read_csv(decisions, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except FileNotFoundError:
            raise ValidationError(Problem(table, None, None, None, table, "an existing decisions CSV")) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise ValidationError(Problem(table, None, None, None, str(exc).splitlines()[0],
                                          "a CSV with columns mentee_id, mentor_id, decision")) from None
    elif isinstance(decisions, pd.DataFrame):
        frame = decisions
    else:
        raise ValidationError(Problem(table, None, None, None, type(decisions).__name__,
                                      "a DataFrame or the path of a CSV with columns mentee_id, "
                                      "mentor_id, decision"))
    missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(Problem(table, missing[0], None, 1, list(frame.columns),
                                      f"the columns {DECISION_COLUMNS}"))
    out = pd.DataFrame({c: frame[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                        else str(v).strip()).to_numpy(dtype=object)
                        for c in DECISION_COLUMNS})
    out["decision"] = out["decision"].str.lower()
    problems = []
    for k, row in enumerate(out.itertuples(index=False)):
        line = k + 2  # the header is line 1
        for col, ids in zip(("mentee_id", "mentor_id"), known or (None, None)):
            if getattr(row, col) == "":
                problems.append(Problem(table, col, row.mentee_id or None, line, "", "an id"))
            elif ids is not None and getattr(row, col) not in ids:
                problems.append(Problem(table, col, row.mentee_id or None, line, getattr(row, col),
                                        f"the id of a {col[:-3]} of this round"))
        if row.decision not in DECISIONS:
            problems.append(Problem(table, "decision", row.mentee_id or None, line,
                                    frame["decision"].iloc[k], "accept or decline"))
    key = out["mentee_id"] + "\x1f" + out["mentor_id"]
    both = out.groupby(key)["decision"].nunique()
    for k in np.flatnonzero(key.isin(both.index[both > 1]).to_numpy()):
        problems.append(Problem(table, "decision", out["mentee_id"].iloc[k], k + 2, out["decision"].iloc[k],
                                f"one decision for the pair ({out['mentee_id'].iloc[k]}, "
                                f"{out['mentor_id'].iloc[k]}), not both accept and decline"))
    if problems:
        raise ValidationError(problems)
    return out.loc[~key.duplicated()].reset_index(drop=True)


def keep_bonus(prepared, mentee: np.ndarray, mentor: np.ndarray):
    """(bonus, M): a :class:`~mentormatch.pipeline.PairBonus` of M on each listed pair
    (encoded indices ``mentee[k]``, ``mentor[k]``), where M exceeds any difference of total
    score between two feasible pairings, so that the optimum of score + bonus keeps the most
    listed pairs and, among those, has the best score. A PairBonus is priced at every size,
    the scale path included.

    The total of any pairing lies between ``-low`` and ``high``; M = high + low + 1. With every
    eligible pair at hand, high is the sum over mentees of demand x their largest positive
    score (and likewise over mentors with their capacity; the smaller of the two is used), low
    the same with the negative scores. On the scale path no such array exists: a pair scores
    between 0 and the sum of the positive weights (every feature value lies in [0, 1]), and a
    pairing has at most min(total demand, total capacity) pairs. M is kept as small as that
    allows, since the flow's integer costs are scaled to the largest cost: the larger M, the
    coarser the rounding of the scores (see :mod:`mentormatch.solvers.flow`).
    """
    from .solvers.base import PairBonus

    n_e, n_m = len(prepared.mentee_ids), len(prepared.mentor_ids)
    problem = prepared.problem
    if problem is not None:
        P = problem.pairs
        score = np.asarray(problem.score, dtype=np.float64)
        demand = np.ones(n_e) if problem.demand is None else np.asarray(problem.demand, np.float64)
        cap = np.minimum(np.asarray(problem.capacity, np.float64), np.iinfo(np.int32).max)
        spans = []
        for part in (np.maximum(score, 0.0), np.maximum(-score, 0.0)):
            by_e = np.zeros(P.n_mentees)
            np.maximum.at(by_e, P.mentee, part)
            by_m = np.zeros(P.n_mentors)
            np.maximum.at(by_m, P.mentor, part)
            spans.append(min(float((demand * by_e).sum()), float((cap * by_m).sum())))
        high, low = spans
    else:
        data = prepared.data
        best = data["rules"].score_span
        demand = data["demand"]
        cap = np.minimum(np.asarray(data["capacity"], np.float64), np.iinfo(np.int32).max)
        n_max = min(float(n_e if demand is None else np.sum(demand)), float(cap.sum()))
        high, low = n_max * best, 0.0
    m = high + low + 1.0
    mentee = np.asarray(mentee, dtype=np.int64)
    return PairBonus(mentee=mentee, mentor=np.asarray(mentor, dtype=np.int64),
                     value=np.full(len(mentee), m), n_mentors=n_m), m


def revise(data: dict, proposal: pd.DataFrame, decisions) -> Matching:
    """Re-pair a round after decisions on its proposed pairs.

    Parameters
    ----------
    data : dict
        The round's inputs as a result holds them (``Matching.data``: ``mentors``,
        ``mentees``, ``rules``, ``framework``).
    proposal : DataFrame
        The proposed pairs (``mentee_id``, ``mentor_id``), e.g. ``result.pairs`` or a
        pairs.csv.
    decisions : DataFrame or path
        ``mentee_id, mentor_id, decision`` (see :func:`read_decisions`); other proposed
        pairs are pending.

    Returns
    -------
    Matching
        Accepted pairs kept, declined pairs absent, every other mentee re-paired with first
        the fewest changed pending pairs, then the best total score, at every size (the scale
        path above ``pipeline.LARGE_PAIRS`` included). ``record.revision`` holds
        ``accepted``, ``declined``, ``pending``, ``kept``, ``changed`` (counts), ``M`` (the keep
        bonus), ``proven`` (the solver proved the optimum) and ``changes`` (mentee_id,
        mentor_id, new_mentor_id: each changed pending pair; new_mentor_id "" when the mentee
        lost it without a replacement).
    """
    from .pipeline import prepare, solve

    # an id of no one in the round is named on its line here (not as a lock of the programme)
    known = tuple(frozenset(data[t]["id"].astype(str)) for t in ("mentees", "mentors"))
    d = read_decisions(decisions, known=known)
    rules = data["rules"]
    cons = rules.constraints
    acc = d.loc[d["decision"] == "accept", ["mentee_id", "mentor_id"]].to_numpy().tolist()
    dec = d.loc[d["decision"] == "decline", ["mentee_id", "mentor_id"]].to_numpy().tolist()
    locked = [list(map(str, p)) for p in cons["locked"]]
    forbidden = [list(map(str, p)) for p in cons["forbidden"]]
    clash = {tuple(p) for p in locked} & {tuple(p) for p in dec}
    if clash:
        a, b = sorted(clash)[0]
        raise ValidationError(Problem("decisions", "decision", a, None, "decline",
                                      f"accept: the programme locks the pair ({a}, {b})"))
    # the tables are validated already: no column mapping a second time
    new_rules = rules.replace(columns={}, constraints={
        "locked": locked + [p for p in acc if p not in locked],
        "forbidden": forbidden + [p for p in dec if p not in forbidden]})
    prepared = prepare(data["mentors"], data["mentees"], new_rules, framework=data.get("framework"))
    prop = proposal[["mentee_id", "mentor_id"]].astype(str)
    decided = set(zip(d["mentee_id"], d["mentor_id"]))
    pending = prop.loc[[(a, b) not in decided for a, b in zip(prop["mentee_id"], prop["mentor_id"])]]
    pending = pending.drop_duplicates().reset_index(drop=True)
    # ids -> the round's encoded indices (the seeded order of the ids, not the row order); a
    # pending pair whose mentee or mentor left cannot be kept, nor can one a rule made
    # ineligible meanwhile (the bonus then lands on no candidate pair)
    e_idx, m_idx = prepared.mentee_ids.index, prepared.mentor_ids.index
    known = [a in e_idx and b in m_idx for a, b in zip(pending["mentee_id"], pending["mentor_id"])]
    a = [e_idx[x] for x, k in zip(pending["mentee_id"], known) if k]
    b = [m_idx[x] for x, k in zip(pending["mentor_id"], known) if k]
    bonus, m = keep_bonus(prepared, np.asarray(a, np.int64), np.asarray(b, np.int64))
    result = solve(prepared, bonus if len(a) else None)
    got = set(zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str)))
    lost = pending.loc[[(a, b) not in got for a, b in zip(pending["mentee_id"], pending["mentor_id"])]]
    now = result.pairs.assign(mentee_id=result.pairs["mentee_id"].astype(str),
                              mentor_id=result.pairs["mentor_id"].astype(str))
    proposed = set(zip(prop["mentee_id"], prop["mentor_id"]))
    new_by_mentee: dict[str, list[str]] = {}
    for a, b in zip(now["mentee_id"], now["mentor_id"]):
        if (a, b) not in proposed:
            new_by_mentee.setdefault(a, []).append(b)
    changes = lost.assign(new_mentor_id=[", ".join(new_by_mentee.get(a, [])) for a in lost["mentee_id"]])
    revision = {
        "accepted": len(acc), "declined": len(dec), "pending": len(pending),
        "kept": len(pending) - len(lost), "changed": len(lost), "M": m,
        # the flow's optimum of score + bonus is proven: both goals are then optimal
        "proven": result.status == "optimal",
        "changes": changes.reset_index(drop=True)}
    return dataclasses.replace(result, record=dataclasses.replace(result.record, revision=revision))


def record_decisions(programme, decisions, date=None) -> pd.DataFrame:
    """The ledger step of :meth:`mentormatch.Programme.record_decisions`.

    Declined pairs are forbidden in every later round (added to the programme's
    ``constraints.forbidden``, which its save keeps) and, where they are in force, ended on
    ``date`` (default: the latest round's date) with end reason "declined". Accepted pairs stay
    in force (later rounds keep them, as every pair in force). The ledger is thus the
    programme's history (end reason "declined") and its rules, both kept by ``save``. Returns
    the decisions recorded, with the date.
    """
    d = read_decisions(decisions)
    if date is None:
        rounds = programme.rounds
        if not rounds:
            raise ValidationError(Problem("decisions", None, None, None, None,
                                          "a date, or a programme with a round (none run yet)"))
        date = rounds[-1].date
    date = pd.Timestamp(date).date().isoformat()
    dec = d.loc[d["decision"] == "decline"]
    h = programme._history
    if len(dec) and len(h):
        key = set(zip(dec["mentee_id"], dec["mentor_id"]))
        hit = np.array([(a, b) in key for a, b in zip(h["mentee_id"].astype(str), h["mentor_id"].astype(str))])
        from .programme import ledger

        ledger.close(h, hit & ledger.active_mask(h, date), date, "declined")
    forbidden = [list(map(str, p)) for p in programme.rules.constraints["forbidden"]]
    add = [[a, b] for a, b in zip(dec["mentee_id"], dec["mentor_id"]) if [a, b] not in forbidden]
    if add:
        programme.rules = programme.rules.replace(constraints={"forbidden": forbidden + add})
    return d.assign(date=date)
