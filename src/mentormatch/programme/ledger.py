"""The ledger of pair instances (the programme's history) and what it implies for a round: which
pairs are in force, which are locked, which are forbidden by history, which end and why.

Functions here work on the history DataFrame (columns ``tables.HISTORY_COLUMNS``); those that
end pairs change it in place, as the programme's own copy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import HISTORY_COLUMNS, typed


def active_mask(h: pd.DataFrame, date: str) -> np.ndarray:
    """Rows in force on ``date``: started on or before it, not ended (or ended after it)."""
    end = h["end"].to_numpy(dtype=object)
    return ((end == "") | (end > date)) & (h["start"].to_numpy(dtype=object) <= date)


def close(h: pd.DataFrame, mask: np.ndarray, date: str, reason: str) -> None:
    """End the rows of ``mask`` on ``date`` for ``reason`` (in place)."""
    if mask.any():
        h.loc[mask, "end"] = date
        h.loc[mask, "end_reason"] = reason


def add_instances(h: pd.DataFrame, pairs: pd.DataFrame, number: int, date: str,
                  source: str) -> pd.DataFrame:
    """The ledger with one new instance per row of ``pairs`` (mentee_id, mentor_id, score)."""
    if not len(pairs):
        return h
    start = int(h["instance"].max()) + 1 if len(h) else 1
    new = pd.DataFrame({
        "instance": np.arange(start, start + len(pairs)),
        "mentee_id": pairs["mentee_id"].astype(str).to_numpy(),
        "mentor_id": pairs["mentor_id"].astype(str).to_numpy(),
        "round": number, "start": date, "score": pairs["score"].to_numpy(dtype=float),
        "source": source, "last_round": number, "end": "", "end_reason": ""})
    return typed(pd.concat([h, new], ignore_index=True)[list(HISTORY_COLUMNS)])


def listing(items, limit: int = 20) -> str:
    """``items`` as a short comma-separated list (the first ``limit``, then how many more).

    >>> listing(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    """
    items = list(items)
    shown = ", ".join(map(str, items[:limit]))
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def end_leavers(h: pd.DataFrame, date: str, mentee_set: set, mentor_set: set) -> list[str]:
    """End the pairs in force of people absent from the round (in place); a note per kind."""
    notes = []
    for col, reason, who in (("mentee_id", "mentee_left", "mentee"),
                             ("mentor_id", "mentor_left", "mentor")):
        people = mentee_set if col == "mentee_id" else mentor_set
        hit = active_mask(h, date) & ~h[col].isin(people).to_numpy()
        if hit.any():
            pairs = sorted(f"({e}, {m})" for e, m in zip(h["mentee_id"][hit], h["mentor_id"][hit]))
            notes.append(f"history: {int(hit.sum())} pair(s) in force ended on {date} because the "
                         f"{who} has left: {listing(pairs)}")
        close(h, hit, date, reason)
    return notes


def trim_to_capacity(h: pd.DataFrame, v_mentors: pd.DataFrame, v_mentees: pd.DataFrame,
                     date: str) -> None:
    """Mentors keep the pairs in force that fit their (maybe lowered) capacity, longest-standing
    first (then higher score, then mentee id); mentees keep at most ``mentors_needed``."""
    idx = np.flatnonzero(active_mask(h, date))
    if not len(idx):
        return
    cap = dict(zip(v_mentors["id"].astype(str), v_mentors["capacity"].to_numpy(dtype=float)))
    load = (dict(zip(v_mentees["id"].astype(str),
                     np.nan_to_num(v_mentees["load"].to_numpy(dtype=float), nan=1.0)))
            if "load" in v_mentees.columns else {})
    need = (dict(zip(v_mentees["id"].astype(str),
                     np.nan_to_num(v_mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0)))
            if "mentors_needed" in v_mentees.columns else {})
    rows = h.iloc[idx].assign(_pos=idx, _neg=-h["score"].iloc[idx])
    rows = rows.sort_values(["start", "_neg", "mentee_id", "mentor_id"], kind="mergesort")
    used_m: dict[str, float] = {}
    used_e: dict[str, int] = {}
    drop = np.zeros(len(h), dtype=bool)
    # one pass over the pairs in force (not over all pairs): a few per mentor
    for pos, e, m in zip(rows["_pos"], rows["mentee_id"], rows["mentor_id"]):
        w = load.get(e, 1.0)
        if used_e.get(e, 0) + 1 > need.get(e, 1.0) or used_m.get(m, 0.0) + w > cap.get(m, 0.0) + 1e-9:
            drop[pos] = True
            continue
        used_e[e] = used_e.get(e, 0) + 1
        used_m[m] = used_m.get(m, 0.0) + w
    close(h, drop, date, "capacity")


def exclusions(h: pd.DataFrame, date: str, number: int, mentee_set: set, mentor_set: set, *,
               allow_repeats: bool, cooldown_rounds: int | None) -> tuple[list, list]:
    """The round's ``(forbidden, locked)`` pairs implied by the ledger, over people present.

    Locked: the pairs in force. Forbidden: earlier pairs (all of them with
    ``allow_repeats=False``; those in force within ``cooldown_rounds`` rounds otherwise), except
    the pairs in force. Pairs naming someone absent are not part of the round.
    """
    present = (h["mentee_id"].isin(mentee_set) & h["mentor_id"].isin(mentor_set)).to_numpy()
    active = active_mask(h, date) & present
    active_pairs = set(zip(h["mentee_id"][active], h["mentor_id"][active]))
    past = h[present & ~active]
    if allow_repeats:
        wait = cooldown_rounds or 0
        past = past[number - past["last_round"] <= wait]
    forbidden = sorted(set(zip(past["mentee_id"], past["mentor_id"])) - active_pairs)
    return [list(p) for p in forbidden], [list(p) for p in sorted(active_pairs)]


def apply_endings(h: pd.DataFrame, o: pd.DataFrame) -> None:
    """Ended pairs and leavers from the outcomes close their instances (earliest date wins)."""
    if not len(h) or not len(o):
        return

    def text(series: pd.Series) -> np.ndarray:
        values = series.to_numpy(dtype=object)
        return np.where(pd.isna(values), "", values).astype(object)

    ended = text(h["instance"].map(dict(zip(o["instance"], o["ended"]))))
    lefts = o[o["left"] != ""].groupby("mentee_id")["left"].min()
    left = text(h["mentee_id"].map(lefts))
    left = np.where(left >= h["start"].to_numpy(dtype=object), left, "")
    end = h["end"].to_numpy(dtype=object)
    for date, why in ((ended, "ended"), (left, "mentee_left")):
        hit = (date != "") & ((end == "") | (date < end))
        h.loc[hit, "end"] = date[hit]
        h.loc[hit, "end_reason"] = why
        end = h["end"].to_numpy(dtype=object)
