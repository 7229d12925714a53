"""The folder store: plain files, switched from the old state to the new one atomically.

Layout of a store directory ``P``::

    P/manifest.json                  format, version, parameters, rules, rounds, and per file
                                     its SHA-256 and row count ("files")
    P/history.csv, P/outcomes.csv    the ledger and the outcomes
    P/rounds/round-NNN-pairs.csv     per round, its pairs and unmatched mentees
    P/rounds/round-NNN-unmatched.csv
    P/.lock                          the lock file (fcntl.flock): saves exclusive, loads shared
    P/.staging/                      only while a save is under way, or after one was killed

A save is a small redo log. (1) Under the exclusive lock, every file that changes is written
into ``.staging/`` and fsynced, then ``.staging/manifest.json`` is written to a temporary name,
fsynced and renamed into place: that rename is the commit. (2) The staged files are renamed over
the old ones, the manifest last, then files no longer named are removed and ``.staging/`` goes;
every directory is fsynced after its entries change. Before (1) completes, ``P`` holds the old
state, whole; from the commit on, the new state is read: the committed staging manifest, each
file from ``.staging/`` if it is still there, else from ``P``. A load or save that finds a
committed ``.staging/`` finishes step (2); one that finds an uncommitted one removes it. Both
also clear what saves of the earlier code left beside the store (``.P.saving-*``, ``.P.old-*``,
see :mod:`~mentormatch.programme.store.legacy`).

Every file is verified on load against the manifest's SHA-256 and row count; the manifest's
values are checked one by one. Any mismatch raises :class:`~mentormatch.errors.StoreError`
naming the file.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pandas as pd

from ...errors import Problem, StoreError, ValidationError
from ..tables import (HISTORY_COLUMNS, OUTCOME_COLUMNS, ROUND_PAIR_COLUMNS, ROUND_UNMATCHED_COLUMNS,
                      Round, as_date, csv_bytes, json_restore, json_safe, parse_csv)
from . import FORMAT, FORMAT_VERSION, Snapshot, files, legacy

MANIFEST = "manifest.json"
STAGING = ".staging"
_SAFE = re.compile(r"^(history\.csv|outcomes\.csv|rounds/round-[0-9]{3,}-(pairs|unmatched)\.csv)$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_OURS = {MANIFEST, STAGING, files.LOCK_NAME, "history.csv", "outcomes.csv", "rounds"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_csv(frame: pd.DataFrame, columns, path: Path, data: bytes | None = None) -> None:
    """Write one CSV file durably (its bytes may be given, already rendered)."""
    files.write(path, csv_bytes(frame, columns) if data is None else data)


# --------------------------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------------------------
def save(snap: Snapshot, target: Path) -> Path:
    """Write ``snap`` to the folder ``target`` (see the module docstring)."""
    legacy.restore(target)  # a save of the earlier code killed between its renames
    if target.exists() and (not target.is_dir() or not _is_ours(target)):
        raise StoreError(Problem(str(target), None, None, None, str(target),
                                 "a new directory or an earlier programme save (it exists and "
                                 "holds other files; refusing to replace it)"))
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            files.mkdir(target)
        except FileExistsError:  # another save made it meanwhile: fine, the lock decides
            pass
        files.fsync_dir(target.parent)
    with files.lock(target, exclusive=True):
        recover(target)
        legacy.clear(target)
        tables, manifest = _render(snap)
        staging = target / STAGING
        try:
            _stage(staging, target, tables, manifest)
        except BaseException:
            if staging.exists() and not (staging / MANIFEST).exists():  # not committed
                files.rmtree(staging)
            raise
        recover(target)
    return target


def _stage(staging: Path, target: Path, tables: dict, manifest: dict) -> None:
    """Step (1): the changed files and the manifest into ``staging``, the manifest's rename
    last (the commit)."""
    files.mkdir(staging)
    files.mkdir(staging / "rounds")
    for rel, (frame, columns, data) in tables.items():
        old = target / rel
        if old.is_file() and _sha(old.read_bytes()) == manifest["files"][rel]["sha256"]:
            continue  # unchanged (a round never changes): the new state reads it in place
        _write_csv(frame, columns, staging / rel, data)
    files.fsync_dir(staging / "rounds")
    text = json.dumps(json_safe(manifest), indent=2, sort_keys=True, allow_nan=False) + "\n"
    files.write(staging / (MANIFEST + ".tmp"), text.encode("utf-8"))
    files.fsync_dir(staging)
    files.replace(staging / (MANIFEST + ".tmp"), staging / MANIFEST)  # the commit
    files.fsync_dir(staging)


def _is_ours(target: Path) -> bool:
    """An empty directory, or one holding only what a save writes."""
    names = {p.name for p in target.iterdir()}
    return not names or MANIFEST in names or names <= _OURS


def _render(snap: Snapshot):
    """The CSV files (rel path -> frame, columns, bytes) and the manifest naming them."""
    tables: dict[str, tuple] = {}
    rounds = []
    for r in snap.rounds:
        stem = f"rounds/round-{r.number:03d}"
        tables[f"{stem}-pairs.csv"] = (r.pairs, ROUND_PAIR_COLUMNS)
        tables[f"{stem}-unmatched.csv"] = (r.unmatched, ROUND_UNMATCHED_COLUMNS)
        rounds.append({"number": r.number, "date": r.date, "status": r.status,
                       "objective": r.objective, "solver": r.solver, "notes": list(r.notes),
                       "pairs": f"{stem}-pairs.csv", "unmatched": f"{stem}-unmatched.csv"})
    tables["history.csv"] = (snap.history, HISTORY_COLUMNS)
    tables["outcomes.csv"] = (snap.outcomes, OUTCOME_COLUMNS)
    out, listed = {}, {}
    for rel, (frame, columns) in tables.items():
        data = csv_bytes(frame, columns)
        out[rel] = (frame, columns, data)
        listed[rel] = {"sha256": _sha(data), "rows": len(frame)}
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "parameters": snap.parameters, "rules": snap.rules,
                "history": "history.csv", "outcomes": "outcomes.csv", "rounds": rounds,
                "files": listed}
    return out, manifest


def recover(target: Path) -> None:
    """Under the exclusive lock: finish a committed save (step 2 of the module docstring) or
    remove an uncommitted one, then remove files the manifest does not name."""
    staging = target / STAGING
    committed = staging / MANIFEST
    if committed.is_file():
        manifest = _parse_manifest(committed)
        for rel in manifest["files"]:
            src = staging / rel
            if src.is_file():
                if not (target / rel).parent.is_dir():
                    files.mkdir((target / rel).parent)
                    files.fsync_dir(target)
                files.replace(src, target / rel)
        if (target / "rounds").is_dir():
            files.fsync_dir(target / "rounds")
        files.fsync_dir(target)
        files.replace(committed, target / MANIFEST)
        files.fsync_dir(target)
    if staging.exists():
        files.rmtree(staging)
        files.fsync_dir(target)
    mpath = target / MANIFEST
    if not mpath.is_file():
        return
    try:
        named = set(_parse_manifest(mpath)["files"])
    except StoreError:
        return  # damaged: leave everything as it is for the user to see
    stale = [p for p in [target / "history.csv", target / "outcomes.csv",
                         *sorted((target / "rounds").glob("*"))] if p.is_file()
             and p.relative_to(target).as_posix() not in named]
    for p in stale:
        files.remove(p)
    if stale:
        files.fsync_dir(target / "rounds")


# --------------------------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------------------------
def load(target: Path) -> Snapshot:
    """Read and verify the folder store ``target``: the committed state, old or new."""
    legacy.restore(target)  # a save of the earlier code killed between its renames
    if not target.is_dir():
        raise StoreError(Problem(str(target), None, None, None, str(target),
                                 "a directory written by Programme.save"))
    fd = files.try_exclusive(target)
    if fd is not None:  # nobody is saving: finish or clear what a killed save left
        try:
            recover(target)
            legacy.clear(target)
            return _read(target)
        finally:
            os.close(fd)
    with files.lock(target, exclusive=False):
        return _read(target)


def _read(target: Path) -> Snapshot:
    staging = target / STAGING
    mpath = staging / MANIFEST if (staging / MANIFEST).is_file() else target / MANIFEST
    if not mpath.is_file():
        raise StoreError(Problem(str(target / MANIFEST), None, None, None, "missing",
                                 "the manifest of a programme save"))
    manifest = _parse_manifest(mpath)
    name = str(mpath)

    def read(rel: str, columns) -> pd.DataFrame:
        path = target / rel
        data = None
        for where in (staging / rel, path):
            try:
                data = where.read_bytes()
                path = where
                break
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StoreError(Problem(str(where), None, None, None, str(exc), "a readable file")) from None
        if data is None:
            raise StoreError(Problem(str(path), None, None, None, "missing",
                                     f"this file, named in {name} (the save is incomplete)"))
        want = manifest["files"][rel]
        got = _sha(data)
        if got != want["sha256"]:
            raise StoreError(Problem(str(path), None, None, None, f"SHA-256 {got}",
                                     f"SHA-256 {want['sha256']} as recorded in {name} (the file "
                                     f"was damaged or changed after the save)"))
        try:
            frame = parse_csv(data, str(path), columns)
        except ValidationError as exc:
            raise StoreError(exc.problems) from None
        if len(frame) != want["rows"]:
            raise StoreError(Problem(str(path), "rows", None, None, len(frame),
                                     f"{want['rows']} data rows as recorded in {name}"))
        return frame

    rounds = []
    for n, r in enumerate(manifest["rounds"], start=1):
        rounds.append(Round(n, r["date"], read(r["pairs"], ROUND_PAIR_COLUMNS),
                            read(r["unmatched"], ROUND_UNMATCHED_COLUMNS), r["status"],
                            r["objective"], r["solver"], None, tuple(r["notes"])))
    return Snapshot(dict(manifest["parameters"]), manifest["rules"],
                    read(manifest["history"], HISTORY_COLUMNS),
                    read(manifest["outcomes"], OUTCOME_COLUMNS), rounds, name)


def _parse_manifest(mpath: Path) -> dict:
    """The manifest, every value checked (StoreError naming the file and the key otherwise)."""
    name = str(mpath)

    def bad(key, value, expected):
        return StoreError(Problem(name, key, None, None, value, expected))

    try:
        manifest = json_restore(json.loads(mpath.read_bytes().decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(None, str(exc), "valid JSON") from None
    except OSError as exc:
        raise bad(None, str(exc), "a readable file") from None
    if not isinstance(manifest, dict):
        raise bad(None, type(manifest).__name__, "a JSON object")
    if manifest.get("format") != FORMAT:
        raise bad("format", manifest.get("format"), repr(FORMAT))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise bad("format_version", manifest.get("format_version"),
                  f"{FORMAT_VERSION} (this version of mentormatch reads format version "
                  f"{FORMAT_VERSION} only)")
    for key, kind in (("parameters", dict), ("rules", dict), ("history", str),
                      ("outcomes", str), ("rounds", list), ("files", dict)):
        if not isinstance(manifest.get(key), kind):
            hint = (" (each file's sha256 and rows, which every save records; a save written "
                    "before checksums were added lacks them and is refused rather than read "
                    "unverified)") if key == "files" else ""
            raise bad(key, manifest.get(key), f"a {kind.__name__} under key {key!r}{hint}")
    listed = manifest["files"]
    for rel, entry in listed.items():
        if not _SAFE.match(rel):
            raise bad(f"files[{rel!r}]", rel, "history.csv, outcomes.csv or rounds/round-NNN-"
                                              "pairs.csv / -unmatched.csv")
        if not isinstance(entry, dict) or set(entry) != {"sha256", "rows"}:
            raise bad(f"files[{rel!r}]", entry, "an object with the keys sha256 and rows")
        if not isinstance(entry["sha256"], str) or not _HEX.match(entry["sha256"]):
            raise bad(f"files[{rel!r}].sha256", entry["sha256"], "64 lowercase hex digits")
        if not _whole(entry["rows"]) or entry["rows"] < 0:
            raise bad(f"files[{rel!r}].rows", entry["rows"], "a whole number >= 0")

    def named(key, value):
        if value not in listed:
            raise bad(key, value, f"a file listed under 'files' ({', '.join(sorted(listed))})")

    named("history", manifest["history"])
    named("outcomes", manifest["outcomes"])
    need = ("number", "date", "status", "objective", "solver", "pairs", "unmatched")
    for n, r in enumerate(manifest["rounds"], start=1):
        key = f"rounds[{n - 1}]"
        if not isinstance(r, dict) or any(k not in r for k in need):
            raise bad(key, r, f"round {n} with keys {', '.join(need)}")
        if r["number"] != n or not _whole(r["number"]):
            raise bad(f"{key}.number", r["number"], f"{n} (rounds 1, 2, ... in order)")
        try:
            ok = isinstance(r["date"], str) and as_date(r["date"], "date") == r["date"]
        except ValidationError:
            ok = False
        if not ok:
            raise bad(f"{key}.date", r["date"], "an ISO date YYYY-MM-DD")
        for k in ("status", "solver"):
            if not isinstance(r[k], str):
                raise bad(f"{key}.{k}", r[k], "text")
        if not isinstance(r["objective"], (int, float)) or isinstance(r["objective"], bool):
            raise bad(f"{key}.objective", r["objective"], "a number")
        r["objective"] = float(r["objective"])
        notes = r.setdefault("notes", [])
        if not isinstance(notes, list) or not all(isinstance(x, str) for x in notes):
            raise bad(f"{key}.notes", notes, "a list of text")
        named(f"{key}.pairs", r["pairs"])
        named(f"{key}.unmatched", r["unmatched"])
    return manifest


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
