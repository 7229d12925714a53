"""Validation of the two input tables: each on its own, then the checks between them."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .cells import UNKNOWN_MANAGERS, InputOptions, _Report, _as_text, _exploded, _idlist, _isin, _numeric, _shown
from .columns import (_IDLIST_TARGET, _NUMERIC, BIG_FIVE, COLUMN_BY_NAME, COMPETENCY_PREFIX,
                      COMPETENCY_RANGE, MAX_PROBLEMS, TABLES, Column, _close, _table_columns, _time_zones)
from .orgchart import apply_org, check_managers, read_org
from .read import read_table


def _check_headers(rep: _Report, headers: list[str], mine: dict[str, Column]) -> None:
    free = [h for h in headers if h not in COLUMN_BY_NAME and not h.startswith(COMPETENCY_PREFIX)]
    told: set[str] = set()
    for name, col in mine.items():
        if col.required and name not in headers:
            hint = _close(name, free, 0.6)
            text = (f"a {name!r} column; did you mean {hint!r}? map it with columns={{{hint!r}: {name!r}}}"
                    if hint else f"a {name!r} column; map the export's header with columns={{'<header>': {name!r}}}")
            told.add(hint)
            rep.add(name, None, headers, text, line=rep.header_line)
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
    ids = _as_text(raw)
    padded = (ids.notna() & (ids != ids.str.strip())).to_numpy(dtype=bool)
    if padded.any():
        if rep.options.trim_ids:
            ids = ids.str.strip()
        else:  # "E001" and "E001 " would be two people
            rep.ids = ids.to_numpy(dtype=object)
            rep.rows("id", padded, raw, "an id without spaces around it (trim them in the export, "
                                        "or set input.trim_ids = true to strip them)")
            ids = ids.str.strip()
    rep.ids = ids.to_numpy(dtype=object)
    missing = ids.isna().to_numpy()
    rep.rows("id", missing, raw, "a non-empty id")
    later = ids.duplicated(keep="first").to_numpy() & ~missing
    if later.any():
        dup = ids.duplicated(keep=False).to_numpy() & ~missing
        positions = np.flatnonzero(dup)
        groups = pd.Series(positions).groupby(ids.to_numpy(dtype=object)[dup], sort=False).indices

        def expected(k: int) -> str:
            others = [int(positions[p]) for p in groups[rep.ids[k]] if positions[p] != k]
            return (f"a unique id within {rep.table}; it is also on "
                    + ", ".join(rep.where(o) for o in others[:5]))

        rep.rows("id", later, raw, expected)
    return ids


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
    flat = _exploded(lists)
    if len(flat):
        twice = pd.DataFrame({"row": flat.index, "id": flat.to_numpy()}).duplicated().to_numpy()
        if twice.any():
            rows = flat.index.to_numpy()[twice]
            ids = flat.to_numpy()[twice]
            first: dict[int, str] = {}
            for r, i in zip(rows, ids):
                first.setdefault(int(r), i)
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
    for name in headers:
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
                           for k, v in out.items()})
    result.index = pd.RangeIndex(len(result))
    result.attrs = {"lines": rep.lines, "source": rep.source, "table": table,
                    "encoding": frame.attrs.get("encoding"), "header_line": rep.header_line,
                    "sha256": frame.attrs.get("sha256")}
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
    if "min_capacity" in numbers and "capacity" in numbers:
        low, cap = numbers["min_capacity"], numbers["capacity"]
        with np.errstate(invalid="ignore"):
            over = (low > cap) & (cap >= 0)  # a negative capacity is reported on its own
        rep.rows("min_capacity", over, frame["min_capacity"],
                 lambda k: f"a minimum no greater than the capacity {cap[k]:g}")



def _check_id_lists(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """The ids in preference and suggestion lists name people of the other table."""
    ids = {t: frames[t]["id"] for t in TABLES}
    index = {t: pd.Index(ids[t].dropna()) for t in TABLES}
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


def _check_same_person(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> None:
    """An id in both tables is one person: the attributes both tables give must agree."""
    mentors, mentees = frames["mentors"], frames["mentees"]
    first = mentors["id"].dropna().drop_duplicates()  # a repeated id is reported on its own
    at = pd.Index(first.to_numpy(dtype=object)).get_indexer(mentees["id"].to_numpy(dtype=object))
    at_mentor = np.where(at >= 0, first.index.to_numpy()[np.maximum(at, 0)], -1)
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
        shown = "; ".join(f"{c}: {_shown(mentees[c].iloc[r])!r} here, {_shown(mentors[c].iloc[k])!r} "
                          f"in mentors" for c in names)
        em.add(", ".join(names), r, {c: _shown(mentees[c].iloc[r]) for c in names},
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


def validate_tables(mentors, mentees, columns: Mapping[str, str] | None = None, *,
                    mentor_columns: Mapping[str, str] | None = None,
                    mentee_columns: Mapping[str, str] | None = None,
                    org=None, encoding: str | None = None, decimal: str = ".",
                    trim_ids: bool = False, unknown_managers: str = "error",
                    capacity: float | None = None,
                    groups: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate the mentors and mentees tables; return canonical copies.

    Parameters
    ----------
    mentors, mentees : pandas.DataFrame or path
        The two tables, as accepted by :func:`read_table`. The inputs are never modified.
    columns : mapping of str to str, optional
        Export header -> canonical name, for both tables.
    mentor_columns, mentee_columns : mapping of str to str, optional
        Per-table mappings; their entries override those of ``columns``.
    org : pandas.DataFrame or path, optional
        The org chart: ``id`` and ``manager_id`` (empty at the top) for everyone, including
        people in neither table; optional ``team``. Checked for unknown ids and cycles; every
        mentor and mentee must be in it, and a ``manager_id``/``team`` the tables give must
        agree with it. The returned ``manager_id`` is then each person's nearest manager who is
        in either table, so the management line keeps running through people in neither.
    encoding : str, optional
        The files' text encoding; None recognises UTF-8, UTF-16 (byte-order mark) and cp1252
        (Excel's defaults). ``attrs["encoding"]`` and ``attrs["notes"]`` say which was used.
    decimal : {".", ","}
        The decimal mark of numbers written as text ("3,5" with ``","``).
    trim_ids : bool
        Strip spaces around ids (and manager ids) instead of refusing them.
    unknown_managers : {"error", "chain_end"}
        Without ``org``: a manager id that is in neither table is an error, or (``"chain_end"``)
        taken as the top of that person's chain, cleared and listed in ``attrs["notes"]``.
    capacity : float, optional
        Every mentor's capacity when the mentors table has no ``capacity`` column.
    groups : sequence of str
        Group columns the programme audits or puts floors on (``fairness.groups``,
        ``fairness.floor_group``): each must be a column of the mentees table, by its name after
        ``columns=``.

    Returns
    -------
    (mentors, mentees) : tuple of pandas.DataFrame
        New frames in the canonical form described in the module docstring: canonical names,
        ``RangeIndex``, ``id`` as text, numeric columns as float64 (``"int"`` columns hold whole
        numbers), id lists as tuples, other columns passed through as text,
        ``attrs["lines"]`` kept.

    Raises
    ------
    ValidationError
        With every problem found in both tables (up to ``MAX_PROBLEMS`` per check and table),
        each naming the table, row id, file line, column, value received and what was
        expected: unreadable file; missing required column (``id``; ``capacity`` for
        mentors) or a header close to a canonical name; duplicate header or a bad mapping; an
        empty table; empty or duplicate ids; a missing capacity; text in a numeric column; a
        fraction in an integer column; a value out of range (see ``describe_columns()``);
        latitude without longitude; mixed Big Five scales; an unknown time zone; an unknown or
        repeated id in a preference list; a manager that is nobody; a person with two different
        managers; a management chain with a cycle; ``min_capacity`` above ``capacity``; an id
        with spaces around it; one id in both tables with attributes that differ; an org chart
        that misses a person, names an unknown manager or has a cycle.

    Examples
    --------
    >>> import pandas as pd
    >>> mentors = pd.DataFrame({"id": ["007"], "capacity": [2]})
    >>> mentees = pd.DataFrame({"id": ["E1"], "preferences": ["007"]})
    >>> m, e = validate_tables(mentors, mentees)
    >>> m["capacity"].dtype, e.loc[0, "preferences"]
    (dtype('float64'), ('007',))
    """
    options = _options(encoding, decimal, trim_ids, unknown_managers, capacity)
    maps = {"mentors": {**(columns or {}), **(mentor_columns or {})} or None,
            "mentees": {**(columns or {}), **(mentee_columns or {})} or None}
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    reps: dict[str, _Report] = {}
    notes: list[str] = []
    for table, source in (("mentors", mentors), ("mentees", mentees)):
        try:
            raw = read_table(source, table, maps[table], encoding=encoding)
        except ValidationError as exc:
            problems += exc.problems
            continue
        frames[table], reps[table] = _validate_one(raw, table, options)
        used = raw.attrs.get("encoding")
        if used not in (None, "utf-8", "utf-8-sig"):
            notes.append(f"{table}: {raw.attrs['source']} read as {used}"
                         + ("" if encoding else " (not UTF-8; set input.encoding to choose)"))
    if len(frames) == 2 and all("id" in f.columns and len(f) for f in frames.values()):
        notes += _check_across(frames, reps, org, columns, options)
    if "mentees" in frames:
        _check_groups(reps["mentees"], list(frames["mentees"].columns), groups, maps["mentees"] or {})
    for table in TABLES:
        if table in reps:
            problems += reps[table].problems
    if problems:
        raise ValidationError(problems)
    for frame in frames.values():
        frame.attrs["notes"] = list(notes)
    return frames["mentors"], frames["mentees"]


def _check_groups(rep: _Report, headers: list[str], groups: Sequence[str],
                  mapping: Mapping[str, str]) -> None:
    """Each group column the programme names is a column of the mentees table."""
    for g in groups:
        if g in headers:
            continue
        if g in mapping:
            hint = f"; columns= renames {g!r} to {mapping[g]!r}: name the group {mapping[g]!r}"
        else:
            near = _close(g, headers, 0.6)
            hint = f"; did you mean {near!r}?" if near else f"; the columns are {headers}"
        rep.add(g, None, g, "a group column of the mentees table, as fairness.groups or "
                            f"fairness.floor_group name it{hint}", line=rep.header_line)


def _options(encoding, decimal, trim_ids, unknown_managers, capacity) -> InputOptions:
    """The reading options, each checked: a wrong one names its value and the choices."""
    problems = []
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(str(encoding))
        except LookupError:
            problems.append(Problem("arguments", "encoding", None, None, encoding,
                                    "a text encoding Python knows, such as 'utf-8', 'utf-16' or 'cp1252'"))
    if decimal not in (".", ","):
        problems.append(Problem("arguments", "decimal", None, None, decimal, "'.' or ','"))
    if not isinstance(trim_ids, bool):
        problems.append(Problem("arguments", "trim_ids", None, None, trim_ids, "true or false"))
    if unknown_managers not in UNKNOWN_MANAGERS:
        problems.append(Problem("arguments", "unknown_managers", None, None, unknown_managers,
                                f"one of {list(UNKNOWN_MANAGERS)}"))
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, (int, float))
                                 or not capacity >= 0 or capacity == float("inf")):
        problems.append(Problem("arguments", "capacity", None, None, capacity, "a finite number >= 0"))
    if problems:
        raise ValidationError(problems)
    return InputOptions(encoding, decimal, trim_ids, unknown_managers,
                        None if capacity is None else float(capacity))

