"""Starter development plans: for each pair, the competencies of the mentee's target role where
the mentee is below the required mastery, most important first (importance x gap), whether
this mentor covers each one, current -> target mastery, a dated milestone at the programme's
cadence and a suggested activity where the career framework has one.

Works on the pieces of a result (its ``data`` dict and ``pairs``); never imports the result
class.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

__all__ = ["PLAN_COLUMNS", "plans", "plan_settings"]

PLAN_COLUMNS = ["mentee_id", "mentor_id", "target_role", "target_title", "order", "competency",
                "current", "target", "gap", "importance", "priority", "mentor_covers",
                "mentor_level", "milestone", "due", "activity"]


def plan_settings(data: dict, start=None, cadence_weeks=None, horizon_weeks=None):
    """(start date, cadence in weeks, horizon in weeks): the arguments when given, else the
    programme's ``[plans]`` settings, else today, 6 and 24."""
    rules = data.get("rules")
    s = dict(getattr(rules, "settings", {}).get("plans", {}) or {}) if rules is not None else {}
    start = start if start is not None else (s.get("start_date") or None)
    if start is None:
        start = _dt.date.today()
    elif isinstance(start, _dt.datetime):
        start = start.date()
    elif not isinstance(start, _dt.date):
        try:
            start = _dt.date.fromisoformat(str(start))
        except ValueError:
            raise ValueError(f"plan start {start!r}: expected an ISO date such as 2027-01-11") from None
    cadence = int(cadence_weeks if cadence_weeks is not None else s.get("cadence_weeks", 6))
    horizon = int(horizon_weeks if horizon_weeks is not None else s.get("horizon_weeks", 24))
    if cadence < 1 or horizon < 1:
        raise ValueError(f"plan cadence_weeks={cadence}, horizon_weeks={horizon}: expected whole "
                         "numbers of weeks >= 1")
    return start, cadence, horizon


def plans(data: dict, pairs: pd.DataFrame, start=None, cadence_weeks=None,
          horizon_weeks=None) -> pd.DataFrame:
    """One row per (pair, competency the mentee must grow to reach the target role).

    The competencies are exactly those of the target role where the mentee's mastery is
    below the required one (unknown mastery is left out), ordered within each pair by
    ``priority = importance x gap`` (highest first; ties by competency id). Milestones fall
    every ``cadence_weeks`` from ``start`` up to ``horizon_weeks``: each competency is due at
    the milestone by which the gaps before it and its own, taken in order, are a matching
    share of the whole gap (so the plan's work is spread evenly over the milestones).

    Returns
    -------
    DataFrame
        Columns ``PLAN_COLUMNS``: mentee_id, mentor_id, target_role, target_title, order
        (1 = first), competency, current, target (required mastery), gap, importance,
        priority, mentor_covers (the mentor's mastery reaches the target), mentor_level,
        milestone (1..n), due (date), activity ("" where the framework has none).
    """
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})
    scores = data.get("scores")
    prep = (getattr(scores, "prepared", None) or {}).get("competency") if scores is not None else None
    fw = getattr(prep, "framework", None)
    if prep is None or fw is None or not len(pairs):
        return empty
    start, cadence, horizon = plan_settings(data, start, cadence_weeks, horizon_weeks)
    n_ms = max(1, horizon // cadence)
    e_idx, m_idx = data["mentee_ids"].index, data["mentor_ids"].index
    i = np.array([e_idx[str(x)] for x in pairs["mentee_id"]], dtype=np.int64)
    j = np.array([m_idx[str(x)] for x in pairs["mentor_id"]], dtype=np.int64)
    d = prep.details(i, j)
    comps = list(prep.competencies)
    gap = np.asarray(d["gap"], dtype=np.float64).reshape(len(i), len(comps))
    target = np.asarray(d["target_role"], dtype=object)
    k, c = np.nonzero(np.nan_to_num(gap, nan=0.0) > 0)  # pairs x competencies with a gap
    if not len(k):
        return empty
    roles = target[k].astype(str)
    comp_names = np.asarray(comps, dtype=object)[c]
    required = fw.required.loc[:, comps].to_numpy(np.float64)
    importance = fw.importance.loc[:, comps].to_numpy(np.float64)
    r = pd.Index(fw.roles).get_indexer(roles)
    req = required[r, c]
    imp = importance[r, c]
    g = gap[k, c]
    mentor_level = prep.mentor_t[c, j[k]]
    with np.errstate(invalid="ignore"):
        covers = mentor_level >= req
    frame = pd.DataFrame({
        "pair": k, "mentee_id": pairs["mentee_id"].astype(str).to_numpy()[k],
        "mentor_id": pairs["mentor_id"].astype(str).to_numpy()[k], "target_role": roles,
        "target_title": [fw.titles.get(x, x) for x in roles], "competency": comp_names,
        "current": req - g, "target": req, "gap": g, "importance": imp, "priority": imp * g,
        "mentor_covers": covers, "mentor_level": mentor_level,
    })
    frame = frame.sort_values(["pair", "priority", "competency"], ascending=[True, False, True],
                              kind="mergesort").reset_index(drop=True)
    frame["order"] = frame.groupby("pair").cumcount() + 1
    done = frame.groupby("pair")["gap"].cumsum().to_numpy()
    total = frame.groupby("pair")["gap"].transform("sum").to_numpy()
    ms = np.clip(np.ceil(done / total * n_ms - 1e-9), 1, n_ms).astype(np.int64)
    frame["milestone"] = ms
    frame["due"] = [start + _dt.timedelta(weeks=int(w)) for w in ms * cadence]
    acts = getattr(fw, "activities", {}) or {}
    frame["activity"] = frame["competency"].map(lambda x: acts.get(x, "")).astype(object)
    return frame[PLAN_COLUMNS]
