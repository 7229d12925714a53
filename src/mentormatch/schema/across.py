"""The checks between the two validated tables: ids in preference lists, one id in both tables
as one person, one Big Five scale, and the managers (from the tables, or the org chart)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .cells import InputOptions, _Report, _exploded, _isin, _shown
from .columns import _IDLIST_TARGET, BIG_FIVE, COLUMN_BY_NAME, MAX_PROBLEMS, TABLES, _close
from .orgchart import apply_org, check_managers, read_org


def _check_id_lists(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """The ids in preference and suggestion lists name people of the other table."""
    # (each table's Index of its ids from ``table._check_ids``: hashed once)
    index = {t: reps[t].index if reps[t].index is not None else pd.Index(frames[t]["id"].dropna())
             for t in TABLES}
    for (table, column), target in _IDLIST_TARGET.items():
        frame, rep = frames[table], reps[table]
        if column not in frame.columns:
            continue
        flat = _exploded(frame[column])
        unknown = ~_isin(flat.to_numpy(), index[target])
        if not unknown.any():
            continue
        person = target[:-1]
        small = len(index[target]) <= 5000  # a did-you-mean over a huge table costs too much
        for k, value in list(zip(flat.index[unknown], flat.to_numpy()[unknown]))[:MAX_PROBLEMS]:
            hint = _close(value, index[target], 0.8) if small else None
            rep.add(column, int(k), value, f"a {person} id (no {person} has id {value!r})"
                    + (f"; did you mean {hint!r}?" if hint else ""))


#: columns whose meaning differs by table, so a person in both tables may differ there
_PER_ROLE = {"preferences", "manager_suggestions"}


def _check_case_across(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """A mentee id that differs only in case from a mentor id ("e00001" beside the mentor
    "E00001"): one person to a reader, two to the tables (an id in both tables is one person).
    Refused on the mentee's row unless ``input.case_sensitive_ids`` (the rule of
    :func:`.ids.case_only`, applied across the tables; within one table ``table._check_alike``)."""
    from .ids import CASE_WORDS, case_only

    em, rm = reps["mentees"], reps["mentors"]
    if em.options.case_sensitive_ids:
        return
    mentor_ids = frames["mentors"]["id"].dropna().drop_duplicates()
    mentee_ids = frames["mentees"]["id"]
    joined = pd.Series(np.concatenate([mentor_ids.to_numpy(dtype=object),  # (no frames' attrs)
                                       mentee_ids.to_numpy(dtype=object)]), dtype=object)
    found = case_only(joined)
    k0 = len(mentor_ids)
    for pos, others in list(found.items()):
        if pos < k0:
            continue
        mine = [o for o in others if o < k0]  # the mentors it differs from only in case
        if not mine:
            continue
        r = pos - k0
        k = int(mentor_ids.index[mine[0]])
        em.add("id", r, mentee_ids.iloc[r],
               f"the id of the mentor on mentors {rm.where(k)} ({mentor_ids.iloc[mine[0]]!r}) "
               f"written alike, or another person's id: the two {CASE_WORDS}")


#: columns whose mentor value a same-person finding states (the rest are counted)
_DIFFERS_SHOWN = 5


def _check_same_person(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """An id in both tables is one person: the attributes both tables give must agree."""
    mentors, mentees = frames["mentors"], frames["mentees"]
    known = reps["mentors"].index
    if known is not None and len(known) == len(mentors) and known.is_unique:
        # every mentor's id, once each: their Index (``table._check_ids``) is by row
        at_mentor = known.get_indexer(mentees["id"].to_numpy(dtype=object))
    else:
        first = mentors["id"].dropna().drop_duplicates()  # a repeated id is reported on its own
        if not len(first):  # no mentor has an id (each reported on its own): nobody is in both
            return
        at = pd.Index(first.to_numpy(dtype=object)).get_indexer(mentees["id"].to_numpy(dtype=object))
        at_mentor = np.where(at >= 0, first.index.to_numpy()[np.maximum(at, 0)], -1)
    # a mentee id repeated within the mentees is reported as such: its rows are not compared
    # as well (in one export read as both tables, each repeat would be said twice more)
    at_mentor[mentees["id"].duplicated(keep=False).to_numpy()] = -1
    rows = np.flatnonzero(at_mentor >= 0)
    if not len(rows):
        return
    cols = [c for c in mentees.columns if c in mentors.columns and c != "id" and c not in _PER_ROLE
            and (c not in COLUMN_BY_NAME or set(TABLES) <= set(COLUMN_BY_NAME[c].tables))]
    rm, em = reps["mentors"], reps["mentees"]
    differs: dict[int, list[str]] = {}
    for c in cols:  # a few columns, each compared over the people in both tables at once
        e = mentees[c].to_numpy()[rows]
        m = mentors[c].to_numpy()[at_mentor[rows]]
        present = ~pd.isna(e) & ~pd.isna(m)
        if e.dtype.kind == "f" and m.dtype.kind == "f":
            bad = present & ~np.isclose(np.nan_to_num(e), np.nan_to_num(m))
        else:
            bad = present & (pd.Series(e, dtype=object).astype(str).str.strip().to_numpy()
                             != pd.Series(m, dtype=object).astype(str).str.strip().to_numpy())
        for r in rows[bad]:
            differs.setdefault(int(r), []).append(c)
    for r, names in list(differs.items())[:MAX_PROBLEMS]:
        k = int(at_mentor[r])
        # (the first few columns only, so that a row differing everywhere reads as one finding)
        shown = "; ".join(f"{c}: {_shown(mentees[c].iloc[r])!r} here, {_shown(mentors[c].iloc[k])!r} "
                          f"in mentors" for c in names[:_DIFFERS_SHOWN])
        if len(names) > _DIFFERS_SHOWN:
            shown += f"; and {len(names) - _DIFFERS_SHOWN} more columns"
        em.add(", ".join(names), r, {c: _shown(mentees[c].iloc[r]) for c in names[:_DIFFERS_SHOWN]},
               f"the same attributes as the mentor with this id on mentors {rm.where(k)} (one id is "
               f"one person; it differs in {shown}): give two people two ids, or correct the row")


def _check_trait_scales(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """Both tables are read on one Big Five scale: a table on the 0-1 scale (fractions, none
    above 1) beside one on the 1-5 scale is refused, rather than read as its bottom."""
    traits = {t: [c for c in BIG_FIVE if c in frames[t].columns] for t in TABLES}
    tops = {t: max((np.nanmax(frames[t][c].to_numpy(dtype=float), initial=-np.inf)
                    for c in traits[t]), default=-np.inf) for t in TABLES}
    for t, other in (("mentors", "mentees"), ("mentees", "mentors")):
        if not (tops[t] <= 1 < tops[other]):
            continue
        for c in traits[t]:
            v = frames[t][c].to_numpy(dtype=float)
            frac = np.isfinite(v) & (v > 0) & (v < 1)
            reps[t].rows(c, frac, frames[t][c],
                         f"a value on the 1-5 scale, as the {other} table's are (values above 1): "
                         f"both tables are read on one scale; rescale this table (1 + 4 x value)")


def _check_across(frames: dict[str, pd.DataFrame], reps: dict[str, _Report],
                  org=None, columns=None, options: InputOptions | None = None) -> list[str]:
    """Checks between the two tables (and the org chart); returns notes for the result."""
    _check_id_lists(frames, reps)
    _check_case_across(frames, reps)
    _check_same_person(frames, reps)
    _check_trait_scales(frames, reps)
    if org is None:
        return check_managers(frames, reps)
    try:
        chart, org_rep = read_org(org, columns, options)
    except ValidationError as exc:
        reps["mentees"].problems += exc.problems
        return []
    if org_rep.problems:
        reps["mentees"].problems += org_rep.problems
        return []
    apply_org(frames, reps, chart, org_rep)
    for frame in frames.values():
        frame.attrs["org"] = {"source": org_rep.source, "sha256": chart.attrs.get("sha256"),
                              "rows": len(chart)}
    return [f"org chart: {len(chart)} people from {org_rep.source}; the management line runs "
            "through it"]
