"""Where a programme is kept: a folder of plain files (:mod:`.folder`) or an SQLite database
(:mod:`.sqlite`), chosen by the path. Both hold the same :class:`Snapshot`, both switch from the
old state to the new one atomically, both verify what they read.

>>> [(how, path.as_posix()) for how, path in map(kind, ["a/p.sqlite", "sqlite:///a/p", "a/p"])]
[('sqlite', 'a/p.sqlite'), ('sqlite', 'a/p'), ('folder', 'a/p')]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ...errors import Problem, StoreError
from ..tables import Round

FORMAT = "mentormatch-programme"
FORMAT_VERSION = 1
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_URL = "sqlite:///"


@dataclass
class Snapshot:
    """The whole saved state of a programme: what either store writes and reads back.

    ``parameters`` and ``rules`` as plain dicts (``Programme.parameters()``,
    ``Rules.to_dict()``); ``history`` and ``outcomes`` with the columns of
    :mod:`..tables`; ``rounds`` in order (their ``matching`` is not saved). ``source`` names
    where it was read from, for error messages.
    """

    parameters: dict[str, Any]
    rules: dict[str, Any]
    history: pd.DataFrame
    outcomes: pd.DataFrame
    rounds: list[Round] = field(default_factory=list)
    source: str = ""


def kind(target: str | Path) -> tuple[str, Path]:
    """``("sqlite", path)`` for a path ending in .sqlite, .sqlite3 or .db or a ``sqlite:///``
    URL (``sqlite:///rel/x.db``, ``sqlite:////abs/x.db``); ``("folder", path)`` otherwise."""
    text = str(target)
    if text.startswith(SQLITE_URL):
        rest = text[len(SQLITE_URL):]
        if not rest:
            raise StoreError(Problem("arguments", "directory", None, None, text,
                                     "sqlite:///PATH with a file path after the three slashes"))
        return "sqlite", Path(rest)
    if "://" in text:
        raise StoreError(Problem("arguments", "directory", None, None, text,
                                 "a folder path, a path ending in .sqlite or .db, or sqlite:///PATH"))
    path = Path(target)
    return ("sqlite" if path.suffix.lower() in SQLITE_SUFFIXES else "folder"), path


def save(snapshot: Snapshot, target: str | Path) -> Path:
    """Write ``snapshot`` to the store at ``target`` (see :func:`kind`); returns its path."""
    how, path = kind(target)
    if how == "sqlite":
        from . import sqlite
        return sqlite.save(snapshot, path)
    from . import folder
    return folder.save(snapshot, path)


def load(target: str | Path) -> Snapshot:
    """Read the store at ``target`` (see :func:`kind`), verified."""
    how, path = kind(target)
    if how == "sqlite":
        from . import sqlite
        snap = sqlite.load(path)
    else:
        from . import folder
        snap = folder.load(path)
    check(snap)
    return snap


def check(snap: Snapshot) -> None:
    """Cross-checks between the tables of a snapshot read back: every round a ledger row names
    exists, instances are unique, every outcome names a ledger instance (or 0)."""
    problems = []
    n = len(snap.rounds)
    h, o = snap.history, snap.outcomes
    name = f"{snap.source} (history)"
    for col in ("round", "last_round"):
        bad = h[(h[col] < 1) | (h[col] > n)]
        if len(bad):
            problems.append(Problem(name, col, str(bad["instance"].iloc[0]), None,
                                    int(bad[col].iloc[0]),
                                    f"a round from 1 to {n} (the store lists {n} round(s))"))
    if h["instance"].duplicated().any():
        problems.append(Problem(name, "instance", None, None,
                                int(h["instance"][h["instance"].duplicated()].iloc[0]),
                                "each instance once"))
    bad = o[(o["instance"] != 0) & ~o["instance"].isin(h["instance"])]
    if len(bad):
        problems.append(Problem(f"{snap.source} (outcomes)", "instance", str(bad["mentee_id"].iloc[0]),
                                None, int(bad["instance"].iloc[0]), "an instance of the history, or 0"))
    if problems:
        raise StoreError(problems)
