"""Reading a career framework: the TOML file and the two CSV files (or DataFrames) parsed into
pieces, which :func:`.validate.fields` checks and turns into the framework's fields.

The shapes are in :mod:`mentormatch.careers`' docstring; :mod:`.write` writes them back.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .shape import PATHWAY_COLUMNS, PATHWAY_OPTIONAL, REQUIREMENT_COLUMNS, TABLE
from .validate import fields


def toml_file_fields(path: str | os.PathLike) -> dict:
    """The framework's fields from a TOML file (see :func:`toml_fields`).

    Raises
    ------
    ValidationError
        Unreadable file, or any finding of :func:`toml_fields`.
    """
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(Problem(TABLE, None, None, None, str(path),
                                      f"a readable UTF-8 TOML file ({exc})")) from exc
    return toml_fields(text, str(path))


def toml_fields(text: str, source: str) -> dict:
    """The framework's fields (with ``activities``) from TOML text; ``source`` names it in errors.

    Raises
    ------
    ValidationError
        Bad TOML, a missing ``[roles]`` table, a malformed role or pathway, an activity of an
        unknown competency, or any finding of :func:`.validate.fields`.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(Problem(TABLE, None, None, None, source,
                                      f"valid TOML ({exc})")) from exc
    problems: list[Problem] = []
    roles_t = data.get("roles")
    if not isinstance(roles_t, dict) or not roles_t:
        raise ValidationError(Problem(TABLE, "roles", None, None, roles_t,
                                      "a [roles.<id>] table for each role"))
    roles, titles, levels, entries = [], {}, {}, []
    for role, spec in roles_t.items():
        if not isinstance(spec, dict):
            problems.append(Problem(TABLE, None, role, None, spec, "a table [roles.<id>]"))
            continue
        roles.append(role)
        titles[role] = spec.get("title", role)
        levels[role] = spec.get("level")
        req = spec.get("requires", {})
        imp = spec.get("importance", {})
        for column, value, what in (("requires", req, "required"), ("importance", imp, "importance")):
            if not isinstance(value, dict):
                problems.append(Problem(TABLE, column, role, None, value,
                                        f"an inline table {{competency = {what}, ...}}"))
        if not isinstance(req, dict) or not isinstance(imp, dict):
            continue
        for comp in imp:
            if comp not in req:
                req = {**req, comp: 0}
        for comp, value in req.items():
            entries.append((role, comp, value, imp.get(comp), None))
    pathways = []
    for k, p in enumerate(data.get("pathways", [])):
        if not isinstance(p, dict):
            problems.append(Problem(TABLE, "pathways", None, None, p,
                                    "a [[pathways]] table with from, to and kind"))
            continue
        pathways.append((p.get("from"), p.get("to"), p.get("kind"), None,
                         p.get("primary", False), p.get("share", 0.0)))
    order = data.get("competencies")
    if order is not None and not (isinstance(order, list) and all(isinstance(c, str) for c in order)):
        problems.append(Problem(TABLE, "competencies", None, None, order, "a list of competency ids"))
        order = None
    acts = data.get("activities", {})
    if not isinstance(acts, dict) or not all(isinstance(v, str) for v in acts.values()):
        problems.append(Problem(TABLE, "activities", None, None, acts,
                                "a table {competency = \"activity\", ...}"))
        acts = {}
    found = fields(roles, titles, levels, entries, pathways, order, problems)
    unknown = sorted(set(acts) - set(found["competencies"]))
    if unknown:
        raise ValidationError(Problem(TABLE, "activities", unknown[0], None, unknown[0],
                                      f"one of the competencies {found['competencies']}"))
    return {**found, "activities": dict(acts)} if acts else found


def csv_fields(requirements_csv: str | os.PathLike | pd.DataFrame,
               pathways_csv: str | os.PathLike | pd.DataFrame) -> dict:
    """The framework's fields from the two CSV files (or DataFrames with the same columns), as
    :meth:`CareerFramework.from_csv <mentormatch.careers.CareerFramework.from_csv>` describes them.
    """
    req = _read(requirements_csv, REQUIREMENT_COLUMNS)
    paths = _read(pathways_csv, PATHWAY_COLUMNS)
    roles: list[str] = []
    titles: dict[str, str] = {}
    levels: dict[str, object] = {}
    entries = []
    for k, row in enumerate(req.itertuples(index=False)):
        line = k + 2
        role = row.role
        if role not in titles:
            roles.append(role)
            titles[role] = row.title if isinstance(row.title, str) and row.title else role
            levels[role] = _number(row.level)
        entries.append((role, row.competency, _number(row.required),
                        _number(row.importance), line))
    extra = _read(pathways_csv, [c for c in PATHWAY_OPTIONAL if c in _columns_of(pathways_csv)])
    primary = (extra["primary"].map(_flag) if "primary" in extra.columns
               else pd.Series(False, index=paths.index))
    share = (extra["share"].map(lambda v: 0.0 if v is None or v != v else _number(v))
             if "share" in extra.columns else pd.Series(0.0, index=paths.index))
    primary, share = primary.tolist(), share.tolist()  # plain Python values
    pathways = [(r.from_role, r.to_role, r.kind, k + 2, primary[k], share[k])
                for k, r in enumerate(paths.itertuples(index=False))]
    return fields(roles, titles, levels, entries, pathways, None, [])


def _read(source, columns: list[str]) -> pd.DataFrame:
    """A CSV file or DataFrame with ``columns`` (extra columns ignored), cells as text."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        where = "<DataFrame>"
    else:
        where = str(source)
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValidationError(Problem(TABLE, None, None, None, where,
                                          f"a readable CSV file with columns {', '.join(columns)} ({exc})")) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError([Problem(TABLE, c, None, 1, list(frame.columns), f"a {c!r} column in {where}")
                               for c in missing])
    frame = frame[columns].astype(object)
    # an empty cell (NaN, None or blank text) is None; text is stripped; numbers stay numbers
    return frame.map(lambda v: (v.strip() or None) if isinstance(v, str)
                     else None if v is None or (isinstance(v, float) and math.isnan(v)) else v)


def _columns_of(source) -> list[str]:
    """The header of a CSV file or the columns of a DataFrame (stripped)."""
    if isinstance(source, pd.DataFrame):
        return [str(c).strip() for c in source.columns]
    try:
        return [str(c).strip() for c in pd.read_csv(source, nrows=0).columns]
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return []


def _flag(value):
    """A CSV cell as a bool: empty -> False; true/false/yes/no/1/0; else unchanged (an error)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    return {"true": True, "yes": True, "1": True, "1.0": True, "false": False, "no": False,
            "0": False, "0.0": False, "": False}.get(text, value)


def _number(value):
    """A float from a cell, or the cell unchanged when it is not a number (for the message)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
