"""The SQLite store (standard library ``sqlite3``, no server): the same content as the folder
store, in one database file, each save one transaction.

Schema (format ``mentormatch-programme``, version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
        format           'mentormatch-programme'
        format_version   '1'
        parameters       JSON: the Programme's settings (Programme.parameters())
        rules            JSON: the rules (Rules.to_dict(); non-finite floats as {"$float": ...})
        counts           JSON: rows per table below, checked on load
    rounds(number INTEGER PRIMARY KEY, date TEXT, status TEXT, objective REAL, solver TEXT,
           notes TEXT)                                       -- notes: JSON list of text
    round_pairs(round INTEGER, position INTEGER, mentee_id TEXT, mentor_id TEXT, score REAL,
                rank INTEGER, carried INTEGER, priority INTEGER,
                PRIMARY KEY (round, position))
    round_unmatched(round INTEGER, position INTEGER, mentee_id TEXT, reason_code TEXT,
                    reason TEXT, priority INTEGER, PRIMARY KEY (round, position))
    history(position INTEGER PRIMARY KEY, instance INTEGER, mentee_id TEXT, mentor_id TEXT,
            round INTEGER, start TEXT, score REAL, source TEXT, last_round INTEGER, "end" TEXT,
            end_reason TEXT)
    outcomes(position INTEGER PRIMARY KEY, mentee_id TEXT, mentor_id TEXT, instance INTEGER,
             ended TEXT, promoted TEXT, satisfaction REAL, "left" TEXT)

``position`` keeps each table's row order. Dates are ISO text, ``''`` when empty; booleans 0/1;
a missing number (NaN) is NULL. Columns mean what they mean in the folder store's CSV files
(:mod:`mentormatch.programme`). A save deletes and rewrites every row inside one
``BEGIN IMMEDIATE`` transaction (``synchronous=FULL``), so a reader sees the old state or the new
one and a killed save rolls back; concurrent saves wait for each other (up to
``files.LOCK_TIMEOUT`` seconds, then StoreError). A load checks the database
(``PRAGMA quick_check``), the format, every value's type and the row counts.
"""
from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pandas as pd

from ...errors import Problem, StoreError, ValidationError
from ..tables import (EXPECTED, HISTORY_COLUMNS, KINDS, OUTCOME_COLUMNS, ROUND_PAIR_COLUMNS,
                      ROUND_UNMATCHED_COLUMNS, Round, as_date, json_restore, json_safe, typed)
from . import FORMAT, FORMAT_VERSION, Snapshot, files

_SQL_TYPE = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER", "date": "TEXT", "str": "TEXT"}
_TABLES = {  # table -> (key columns, data columns)
    "round_pairs": (("round", "position"), ROUND_PAIR_COLUMNS),
    "round_unmatched": (("round", "position"), ROUND_UNMATCHED_COLUMNS),
    "history": (("position",), HISTORY_COLUMNS),
    "outcomes": (("position",), OUTCOME_COLUMNS),
}


def _q(name: str) -> str:
    return '"' + name + '"'


def schema() -> list[str]:
    """The CREATE TABLE statements of the store."""
    out = ["CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS rounds (number INTEGER PRIMARY KEY, date TEXT NOT NULL, "
           "status TEXT NOT NULL, objective REAL, solver TEXT NOT NULL, notes TEXT NOT NULL)"]
    for table, (keys, columns) in _TABLES.items():
        cols = [f"{_q(k)} INTEGER NOT NULL" for k in keys]
        cols += [f"{_q(c)} {_SQL_TYPE[KINDS.get(c, 'str')]}" for c in columns]
        out.append(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}, "
                   f"PRIMARY KEY ({', '.join(map(_q, keys))}))")
    return out


def _connect(path: Path, name: str, *, read_only: bool) -> sqlite3.Connection:
    try:
        if read_only:
            con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                  timeout=files.LOCK_TIMEOUT, isolation_level=None)
        else:
            con = sqlite3.connect(path, timeout=files.LOCK_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(Problem(name, None, None, None, str(exc), "an SQLite database file")) from None
    return con


def _fail(name: str, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(Problem(name, None, None, None, "locked by another connection",
                                  f"a database no other process is writing to; waited "
                                  f"{files.LOCK_TIMEOUT:g} s (try again once it has finished)"))
    return StoreError(Problem(name, None, None, None, text,
                              "an SQLite database written by Programme.save"))


def _cell(value, kind: str):
    if kind == "float":
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    if kind in ("int", "bool"):
        return int(value)
    return "" if value is None else str(value)


def _rows(frame: pd.DataFrame, columns, prefix: tuple = ()):
    kinds = [KINDS.get(c, "str") for c in columns]
    for k, row in enumerate(zip(*(frame[c].tolist() for c in columns)) if len(frame) else ()):
        yield (*prefix, k, *(_cell(v, kd) for v, kd in zip(row, kinds)))


def save(snap: Snapshot, path: Path) -> Path:
    """Write ``snap`` into the database ``path`` in one transaction (see the module docstring)."""
    name = str(path)
    if path.exists() and not path.is_file():
        raise StoreError(Problem(name, None, None, None, "a directory", "an SQLite database file "
                                 "(or a new path): a folder store cannot be replaced by SQLite"))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, name, read_only=False)
    try:
        con.execute("PRAGMA synchronous=FULL")
        con.execute("BEGIN IMMEDIATE")
        try:
            _check_ours(con, name)
            for stmt in schema():
                con.execute(stmt)
            for table in ("meta", "rounds", *_TABLES):
                con.execute(f"DELETE FROM {table}")
            counts = {"rounds": len(snap.rounds)}
            meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                    "parameters": json.dumps(json_safe(snap.parameters), sort_keys=True, allow_nan=False),
                    "rules": json.dumps(json_safe(snap.rules), sort_keys=True, allow_nan=False)}
            con.executemany("INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?)",
                            [(r.number, r.date, r.status, _cell(r.objective, "float"), r.solver,
                              json.dumps(list(r.notes))) for r in snap.rounds])
            for table, (keys, columns) in _TABLES.items():
                marks = ", ".join("?" * (len(keys) + len(columns)))
                sql = f"INSERT INTO {table} VALUES ({marks})"
                if table.startswith("round_"):
                    n = 0
                    for r in snap.rounds:
                        frame = r.pairs if table == "round_pairs" else r.unmatched
                        con.executemany(sql, _rows(frame, columns, (r.number,)))
                        n += len(frame)
                else:
                    frame = snap.history if table == "history" else snap.outcomes
                    con.executemany(sql, _rows(frame, columns))
                    n = len(frame)
                counts[table] = n
            meta["counts"] = json.dumps(counts, sort_keys=True)
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise _fail(name, exc) from None
    finally:
        con.close()
    return path


def _check_ours(con: sqlite3.Connection, name: str) -> None:
    """Refuse a database that holds other tables than a programme store's."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    fmt = None
    if "meta" in tables:
        row = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        fmt = row[0] if row else None
    if fmt != FORMAT or not tables <= {"meta", "rounds", *_TABLES}:
        raise StoreError(Problem(name, None, None, None, sorted(tables),
                                 "a new file or an earlier programme save (this database holds "
                                 "other tables; refusing to replace them)"))


def load(path: Path) -> Snapshot:
    """Read and verify the database ``path``."""
    name = str(path)
    if not path.is_file():
        raise StoreError(Problem(name, None, None, None, "missing",
                                 "an SQLite database written by Programme.save"))
    con = _connect(path, name, read_only=True)
    try:
        con.execute("BEGIN")  # one read transaction: a consistent state
        return _read(con, name)
    except sqlite3.Error as exc:
        raise _fail(name, exc) from None
    finally:
        con.close()


def _read(con: sqlite3.Connection, name: str) -> Snapshot:
    check = con.execute("PRAGMA quick_check").fetchall()
    if check != [("ok",)]:
        raise StoreError(Problem(name, None, None, None, "; ".join(r[0] for r in check[:5]),
                                 "an intact database (PRAGMA quick_check)"))
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = sorted({"meta", "rounds", *_TABLES} - tables)
    if missing:
        raise StoreError(Problem(name, None, None, None, f"no table(s) {', '.join(missing)}",
                                 "the tables of a programme store"))
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    where = f"{name} (meta)"

    def bad(key, value, expected):
        return StoreError(Problem(where, key, None, None, value, expected))

    if meta.get("format") != FORMAT:
        raise bad("format", meta.get("format"), repr(FORMAT))
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise bad("format_version", meta.get("format_version"),
                  f"{FORMAT_VERSION} (this version of mentormatch reads format version "
                  f"{FORMAT_VERSION} only)")
    parsed = {}
    for key in ("parameters", "rules", "counts"):
        try:
            parsed[key] = json_restore(json.loads(meta.get(key, "")))
        except (TypeError, json.JSONDecodeError) as exc:
            raise bad(key, meta.get(key), f"JSON ({exc})") from None
        if not isinstance(parsed[key], dict):
            raise bad(key, meta.get(key), "a JSON object")
    counts = parsed["counts"]

    rounds = []
    rows = con.execute("SELECT number, date, status, objective, solver, notes FROM rounds "
                       "ORDER BY number").fetchall()
    for n, (number, date, status, objective, solver, notes) in enumerate(rows, start=1):
        rw = f"{name} (rounds)"
        if number != n:
            raise StoreError(Problem(rw, "number", None, n, number, f"round {n} (rounds 1, 2, ... in order)"))
        try:
            ok = isinstance(date, str) and as_date(date, "date") == date
        except ValidationError:
            ok = False
        if not ok:
            raise StoreError(Problem(rw, "date", str(n), n, date, "an ISO date YYYY-MM-DD"))
        if not isinstance(status, str) or not isinstance(solver, str):
            raise StoreError(Problem(rw, "status", str(n), n, (status, solver), "text"))
        if objective is not None and not isinstance(objective, (int, float)):
            raise StoreError(Problem(rw, "objective", str(n), n, objective, "a number"))
        try:
            notes = json.loads(notes)
        except (TypeError, json.JSONDecodeError):
            notes = None
        if not isinstance(notes, list) or not all(isinstance(x, str) for x in notes):
            raise StoreError(Problem(rw, "notes", str(n), n, notes, "a JSON list of text"))
        pairs = _frame(con, name, "round_pairs", ROUND_PAIR_COLUMNS, n)
        unmatched = _frame(con, name, "round_unmatched", ROUND_UNMATCHED_COLUMNS, n)
        rounds.append(Round(n, date, pairs, unmatched, status,
                            math.nan if objective is None else float(objective), solver, None,
                            tuple(notes)))
    history = _frame(con, name, "history", HISTORY_COLUMNS)
    outcomes = _frame(con, name, "outcomes", OUTCOME_COLUMNS)
    found = {"rounds": len(rounds), "history": len(history), "outcomes": len(outcomes),
             "round_pairs": sum(len(r.pairs) for r in rounds),
             "round_unmatched": sum(len(r.unmatched) for r in rounds)}
    for table, n in found.items():
        if counts.get(table) != n:
            raise StoreError(Problem(f"{name} ({table})", "rows", None, None, n,
                                     f"{counts.get(table)} rows as recorded in meta.counts"))
    orphans = con.execute("SELECT COUNT(*) FROM round_pairs WHERE round NOT IN (SELECT number FROM "
                          "rounds)").fetchone()[0] + con.execute(
        "SELECT COUNT(*) FROM round_unmatched WHERE round NOT IN (SELECT number FROM rounds)").fetchone()[0]
    if orphans:
        raise StoreError(Problem(f"{name} (round_pairs, round_unmatched)", "round", None, None,
                                 orphans, "rows only for rounds listed in the rounds table"))
    return Snapshot(parsed["parameters"], parsed["rules"], history, outcomes, rounds, where)


def _frame(con: sqlite3.Connection, name: str, table: str, columns, number: int | None = None):
    """One table (or one round's rows) as a typed frame, every value's type checked."""
    cols = ", ".join(map(_q, columns))
    if number is None:
        rows = con.execute(f"SELECT {cols} FROM {table} ORDER BY position").fetchall()
    else:
        rows = con.execute(f"SELECT {cols} FROM {table} WHERE round = ? ORDER BY position",
                           (number,)).fetchall()
    where = f"{name} ({table})"
    data: dict[str, list] = {c: [] for c in columns}
    for k, c in enumerate(columns):
        kind = KINDS.get(c, "str")
        values = [r[k] for r in rows]
        if kind == "int":
            ok = [type(v) is int for v in values]
        elif kind == "bool":
            ok = [v in (0, 1) and type(v) is int for v in values]
        elif kind == "float":
            ok = [v is None or type(v) in (int, float) for v in values]
        else:
            ok = [type(v) is str for v in values]
        if not all(ok):
            i = ok.index(False)
            raise StoreError(Problem(where, c, str(rows[i][0]), i + 1, rows[i][k], EXPECTED[kind]))
        if kind == "date":
            for i, v in enumerate(values):
                try:
                    good = not v or as_date(v, c) == v
                except ValidationError:
                    good = False
                if not good:
                    raise StoreError(Problem(where, c, str(rows[i][0]), i + 1, v, EXPECTED[kind]))
        if kind == "float":
            values = [math.nan if v is None else float(v) for v in values]
        data[c] = values
    return typed(pd.DataFrame(data, columns=list(columns)))
