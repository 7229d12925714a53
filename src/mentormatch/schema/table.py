"""Validation of one input table on its own: its headers, ids, numbers, time zones and id
lists, and the checks between columns of one row. ``validate.validate_tables`` runs it on each
table, then the checks between the tables (``across``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .cells import InputOptions, _Report, _as_text, _idlist, _isin, _joined, _numeric, _spaceless
from .columns import (_NUMERIC, BIG_FIVE, COLUMN_BY_NAME, COMPETENCY_PREFIX, COMPETENCY_RANGE,
                      MAX_CAPACITY, Column, _close, _table_columns, _time_zones)
from .ids import CASE_WORDS, FORMS_WORDS, case_only, unicode_forms


def _check_headers(rep: _Report, headers: list[str], mine: dict[str, Column]) -> None:
    free = [h for h in headers if h not in COLUMN_BY_NAME and not h.startswith(COMPETENCY_PREFIX)]
    told: set[str] = set()
    unmapped = []  # required, and no header close to it: said once, with the headers once
    for name, col in mine.items():
        if col.required and name not in headers:
            hint = _close(name, free, 0.6)
            if not hint:
                unmapped.append(name)
                continue
            told.add(hint)
            rep.add(name, None, headers, f"a {name!r} column; did you mean {hint!r}? map it with "
                                         f"columns={{{hint!r}: {name!r}}}", line=rep.header_line)
    if unmapped:
        words = " and ".join(repr(n) for n in unmapped)
        maps = ", ".join(f"'<header>': {n!r}" for n in unmapped)
        rep.add(", ".join(unmapped), None, headers,
                f"{'a column' if len(unmapped) == 1 else 'columns'} {words}; map the export's "
                f"{'header' if len(unmapped) == 1 else 'headers'} with columns={{{maps}}}",
                line=rep.header_line)
    absent = [n for n in mine if n not in headers]
    for h in free:
        if h in told:
            continue
        if h.lower().startswith(COMPETENCY_PREFIX):
            fixed = COMPETENCY_PREFIX + h[len(COMPETENCY_PREFIX):]
            rep.add(h, None, h, f"competency columns named 'comp_<name>' in lower case; map it with "
                                f"columns={{{h!r}: {fixed!r}}}", line=rep.header_line)
            continue
        hint = _close(h, absent, 0.8)
        if hint:
            rep.add(h, None, h, f"the canonical name {hint!r}; map it with columns={{{h!r}: {hint!r}}} "
                                f"(a header close to a canonical name is taken for a typo)",
                    line=rep.header_line)


def _check_ids(rep: _Report, raw: pd.Series) -> pd.Series:
    """The ids as text, each present, without spaces around it, unique and unlike another
    (:func:`_check_alike`); ``rep.ids`` and ``rep.index`` set. The ids are joined once, which
    tells the usual table (no whitespace, ASCII, one case) in C-level passes: 126-130 ms CPU
    for 100,000 ids in separate passes, 34-35 so."""
    ids = _as_text(raw)
    joined = _joined(ids.to_numpy(dtype=object))
    if _spaceless(joined):  # (the usual ids: no cell to strip)
        padded = np.zeros(len(ids), dtype=bool)
    else:
        padded = (ids.notna() & (ids != ids.str.strip())).to_numpy(dtype=bool)
    if padded.any():
        if rep.options.trim_ids:
            ids = ids.str.strip()
        else:  # "E001" and "E001 " would be two people
            rep.ids = ids.to_numpy(dtype=object)
            rep.rows("id", padded, raw, "an id without spaces around it (trim them in the export, "
                                        "or set input.trim_ids = true to strip them)")
            ids = ids.str.strip()
        joined = None  # (other ids now)
    rep.ids = ids.to_numpy(dtype=object)
    missing = ids.isna().to_numpy()
    rep.rows("id", missing, raw, "a non-empty id")
    # one hash of the ids: whether they repeat, and the lookups of the checks between the
    # tables (``across``), where each built its own (``duplicated`` took 25 ms at 100,000 ids)
    rep.index = pd.Index(rep.ids[~missing] if missing.any() else rep.ids, dtype=object)
    if not rep.index.is_unique:
        later = ids.duplicated(keep="first").to_numpy() & ~missing
        dup = ids.duplicated(keep=False).to_numpy() & ~missing
        positions = np.flatnonzero(dup)
        groups = pd.Series(positions).groupby(ids.to_numpy(dtype=object)[dup], sort=False).indices

        def expected(k: int) -> str:
            others = [int(positions[p]) for p in groups[rep.ids[k]] if positions[p] != k]
            return (f"a unique id within {rep.table}; it is also on "
                    + ", ".join(rep.where(o) for o in others[:5]))

        rep.rows("id", later, raw, expected)
    _check_alike(rep, ids, raw, joined)
    return ids


def _check_alike(rep: _Report, ids: pd.Series, raw: pd.Series, joined: str | None = None) -> None:
    """Ids that are one id to a reader (:mod:`.ids`): in two Unicode forms, always refused;
    differing only in case, refused unless ``input.case_sensitive_ids`` says they are two
    people on purpose. Each row is named with the other rows of its id. ``joined``: the ids
    joined (:func:`.cells._joined`), which answers the usual case (ASCII, in one case) as the
    two functions' own first tests do, without their copies of the ids (18-21 ms CPU for
    100,000 ids; 0.5 ms so)."""
    cells = ids.to_numpy(dtype=object)
    plain = joined is not None and joined.isascii()
    clashes = [] if plain else [(unicode_forms(ids), FORMS_WORDS)]
    if not rep.options.case_sensitive_ids and not (
            plain and (joined == joined.upper() or joined == joined.lower())):
        clashes.append((case_only(ids), CASE_WORDS))
    for found, words in clashes:
        if not found:
            continue
        mask = np.zeros(len(cells), dtype=bool)
        mask[list(found)] = True

        def expected(k: int, found=found, words=words) -> str:
            return (f"a unique id within {rep.table}; {cells[k]!r} and the id on "
                    + ", ".join(f"{rep.where(o)} ({cells[o]!r})" for o in found[k][:5])
                    + f" {words}")

        rep.rows("id", mask, raw, expected)


def _check_numeric(rep: _Report, name: str, raw: pd.Series, kind: str, low, high,
                   required: bool) -> np.ndarray:
    decimal = rep.options.decimal
    values, missing = _numeric(raw, decimal)
    if required:
        rep.rows(name, missing, raw, "a number (required)")
    bad = ~missing & ~np.isfinite(values)
    if bad.any():
        what = "a number" if kind == "float" else "a whole number"
        cells = _as_text(raw).to_numpy(dtype=object)
        other = "," if decimal == "." else "."
        rep.rows(name, bad, raw, lambda k: what + (
            f" (written with a decimal {'comma' if other == ',' else 'point'}? set "
            f"input.decimal = {other!r})" if isinstance(cells[k], str) and other in cells[k] else ""))
    ok = np.isfinite(values)
    if kind == "int":
        frac = ok & (values != np.floor(values))
        rep.rows(name, frac, raw, "a whole number")
    if low is not None or high is not None:
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        out = ok & ((values < lo) | (values > hi))
        text = (f"a value between {lo:g} and {hi:g}" if low is not None and high is not None
                else f"a value >= {lo:g}" if low is not None else f"a value <= {hi:g}")
        rep.rows(name, out, raw, text)
    return values


def _check_timezones(rep: _Report, name: str, raw: pd.Series) -> pd.Series:
    text = _as_text(raw)
    zones = _time_zones()
    if not zones:  # no tz database on this system: nothing to check against
        return text
    present = text.notna().to_numpy()
    known = _isin(text.to_numpy(dtype=object), pd.Index(sorted(zones)))
    cells = text.to_numpy(dtype=object)

    def expected(k: int) -> str:
        hint = _close(cells[k], sorted(zones), 0.6)
        return "an IANA time zone such as 'Europe/London'" + (f"; did you mean {hint!r}?" if hint else "")

    rep.rows(name, present & ~known, raw, expected)
    return text


def _check_idlist(rep: _Report, name: str, raw: pd.Series) -> pd.Series:
    lists = _idlist(raw)
    cells = lists.to_numpy(dtype=object)
    # a repeat needs two ids: only the lists of several are read, each by a set (the lists
    # exploded and de-duplicated as a frame: 0.06 s CPU the column of 100,000 mentees, 0.035
    # so, most of it now splitting the cells)
    several = np.flatnonzero(np.fromiter(map(len, cells), dtype=np.int64, count=len(cells)) > 1)
    first: dict[int, str] = {}  # each row's first id that repeats one before it
    for k in several:
        ids = cells[k]
        if len(set(ids)) < len(ids):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    first[int(k)] = i
                    break
                seen.add(i)
    if first:
        mask = np.zeros(len(lists), dtype=bool)
        mask[list(first)] = True
        rep.rows(name, mask, raw, lambda k: f"each id at most once in the list ({first[k]!r} is repeated)")
    return lists


def _validate_one(frame: pd.DataFrame, table: str,
                  options: InputOptions | None = None) -> tuple[pd.DataFrame, _Report]:
    """Check one read table; return its canonical frame and the problems found."""
    rep = _Report(table, frame, options)
    mine = _table_columns(table)
    headers = [str(h) for h in frame.columns]
    if table == "mentors" and "capacity" not in headers and rep.options.capacity is not None:
        frame = frame.assign(capacity=rep.options.capacity)  # input.capacity: one for everyone
        headers.append("capacity")
    _check_headers(rep, headers, mine)
    if len(frame) == 0:
        rep.add(None, None, "0 rows", f"at least one row in {rep.source}")
        return frame, rep
    out: dict[str, pd.Series | np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    # the ids first, wherever their column is, so that every problem names its row's id
    first = [h for h in headers if getattr(mine.get(h), "kind", None) == "id"]
    for name in first + [h for h in headers if h not in first]:
        raw = frame[name].reset_index(drop=True)
        col = mine.get(name)
        if name.startswith(COMPETENCY_PREFIX) and len(name) > len(COMPETENCY_PREFIX):
            out[name] = numbers[name] = _check_numeric(rep, name, raw, "float", *COMPETENCY_RANGE, False)
        elif col is None:
            out[name] = _as_text(raw)  # a group attribute, or a column of the other table
        elif col.kind == "id":
            out[name] = _check_ids(rep, raw)
        elif col.kind in _NUMERIC:
            out[name] = numbers[name] = _check_numeric(rep, name, raw, col.kind, col.low, col.high,
                                                       col.required)
        elif col.kind == "tz":
            out[name] = _check_timezones(rep, name, raw)
        elif col.kind == "idlist":
            out[name] = _check_idlist(rep, name, raw)
        else:
            out[name] = _as_text(raw)
    _check_rows(rep, frame, numbers)
    result = pd.DataFrame({k: (v if isinstance(v, pd.Series) else pd.Series(v, dtype=np.float64))
                           for k, v in ((h, out[h]) for h in headers)})
    result.index = pd.RangeIndex(len(result))
    result.attrs = {"lines": rep.lines, "source": rep.source, "table": table,
                    "encoding": frame.attrs.get("encoding"), "header_line": rep.header_line,
                    "sha256": frame.attrs.get("sha256"), "headers": rep.headers}
    return result, rep


def _check_rows(rep: _Report, frame: pd.DataFrame, numbers: dict[str, np.ndarray]) -> None:
    """Checks that involve several columns of one row, or a whole column."""
    traits = [numbers[t] for t in BIG_FIVE if t in numbers]
    if traits:
        stacked = np.column_stack(traits)
        with np.errstate(invalid="ignore"):
            if np.nanmax(np.where(np.isfinite(stacked), stacked, np.nan), initial=-np.inf) > 1:
                for t in BIG_FIVE:
                    if t in numbers:
                        v = numbers[t]
                        mixed = np.isfinite(v) & (v >= 0) & (v < 1) & (v != np.floor(v))
                        rep.rows(t, mixed, frame[t], "a value on the 1-5 scale, as the table's other Big "
                                                     "Five values above 1 are (the two scales are mixed)")
    has_lat, has_lon = "latitude" in numbers, "longitude" in numbers
    if has_lat != has_lon:
        given, lacking = ("latitude", "longitude") if has_lat else ("longitude", "latitude")
        rep.add(lacking, None, None, f"a {lacking!r} column alongside {given!r}", line=rep.header_line)
    elif has_lat:
        lat, lon = ~np.isnan(numbers["latitude"]), ~np.isnan(numbers["longitude"])
        rep.rows("longitude", lat & ~lon, frame["longitude"], "a longitude, as the row has a latitude")
        rep.rows("latitude", lon & ~lat, frame["latitude"], "a latitude, as the row has a longitude")
    if "capacity" in numbers:
        with np.errstate(invalid="ignore"):
            absurd = numbers["capacity"] > MAX_CAPACITY  # (an infinite one is reported on its own)
        rep.rows("capacity", absurd & np.isfinite(numbers["capacity"]), frame["capacity"],
                 f"at most {MAX_CAPACITY:,}; a capacity of the number of mentees already means "
                 "'no limit'")
    if "min_capacity" in numbers and "capacity" in numbers:
        low, cap = numbers["min_capacity"], numbers["capacity"]
        with np.errstate(invalid="ignore"):
            over = (low > cap) & (cap >= 0)  # a negative capacity is reported on its own
        rep.rows("min_capacity", over, frame["min_capacity"],
                 lambda k: f"a minimum no greater than the capacity {cap[k]:g}")
