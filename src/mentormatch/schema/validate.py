"""Validation of the two input tables: the reading options, each table on its own (``table``),
then the checks between them (``across``) and the programme's group columns."""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from ..errors import Problem, ValidationError
from .across import _check_across
from .cells import UNKNOWN_MANAGERS, InputOptions, _Report
from .columns import TABLES, _close
from .read import read_table
from .table import _validate_one


def validate_tables(mentors, mentees, columns: Mapping[str, str] | None = None, *,
                    mentor_columns: Mapping[str, str] | None = None,
                    mentee_columns: Mapping[str, str] | None = None,
                    org=None, encoding: str | None = None, decimal: str = ".",
                    trim_ids: bool = False, unknown_managers: str = "error",
                    capacity: float | None = None, case_sensitive_ids: bool = False,
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
    case_sensitive_ids : bool
        Take ids that differ only in case ("E001" and "e001") as two people. By default two
        such ids in one table are an error naming both rows: an export may mean one person.
    groups : sequence of str
        Group columns the programme audits or puts floors on (``fairness.groups``,
        ``fairness.floor_group``): each must be a column of the mentees table, by its name after
        ``columns=``.

    Returns
    -------
    (mentors, mentees) : tuple of pandas.DataFrame
        New frames in the canonical form described in ``mentormatch.schema``: canonical names,
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
        with spaces around it; two ids that differ only in case or Unicode form; one id in both tables with attributes that differ; an org chart
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
    options = _options(encoding, decimal, trim_ids, unknown_managers, capacity, case_sensitive_ids)
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
        if table == "mentors" and options.capacity is not None and "capacity" in raw.columns:
            # input.capacity fills a missing column only: said, never silently unused
            notes.append(f"mentors: input.capacity ({options.capacity:g}) was not used: "
                         f"the mentors table ({raw.attrs.get('source', 'a DataFrame')}) has a capacity column")
        used = raw.attrs.get("encoding")
        if used == "xlsx":  # a workbook has no text encoding: a note only when one was set
            if encoding:
                notes.append(f"{table}: {raw.attrs['source']} is a workbook: input.encoding "
                             f"({encoding}) applies to CSV files only and was not used")
        elif used not in (None, "utf-8", "utf-8-sig"):
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


def _options(encoding, decimal, trim_ids, unknown_managers, capacity,
             case_sensitive_ids=False) -> InputOptions:
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
    if not isinstance(case_sensitive_ids, bool):
        problems.append(Problem("arguments", "case_sensitive_ids", None, None, case_sensitive_ids,
                                "true or false"))
    if unknown_managers not in UNKNOWN_MANAGERS:
        problems.append(Problem("arguments", "unknown_managers", None, None, unknown_managers,
                                f"one of {list(UNKNOWN_MANAGERS)}"))
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, (int, float))
                                 or not capacity >= 0 or capacity == float("inf")):
        problems.append(Problem("arguments", "capacity", None, None, capacity, "a finite number >= 0"))
    if problems:
        raise ValidationError(problems)
    return InputOptions(encoding, decimal, trim_ids, unknown_managers,
                        None if capacity is None else float(capacity), case_sensitive_ids)
