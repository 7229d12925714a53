"""Leftovers of the folder saves of mentormatch before the redo log (December 2026), found and
cleared by today's saves and loads.

That code wrote a save of ``P`` into a new directory ``.P.saving-XXXXXXXX`` beside it, then
moved ``P`` into ``.P.old-XXXXXXXX/save``, the new directory to ``P``, and removed the old one
(``XXXXXXXX``: eight characters of :func:`tempfile.mkdtemp`). A save that failed, lost a race or
was killed left these directories behind, and one killed between its two renames left no ``P``
at all. Now:

* when ``P`` is missing, :func:`restore` puts back the newest whole state among the leftovers: a
  ``.P.saving-*`` holding a manifest (the old code wrote the manifest last, so that save had
  finished writing), else a ``.P.old-*/save`` holding one; the latest manifest wins, ties by name;
* :func:`clear` removes every leftover of ``P`` (the caller holds the store's exclusive lock).

Only directories named exactly so and holding only what a save writes are touched: anything
else beside the store is left alone.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import files

MANIFEST = "manifest.json"
_SAVE_NAMES = {MANIFEST, "history.csv", "outcomes.csv", "rounds", files.LOCK_NAME, ".staging"}


def _pattern(target: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(target.name)}\.(saving|old)-[a-z0-9_]{{8}}$")


def _looks_saved(d: Path) -> bool:
    """A directory holding only what a save writes (maybe nothing)."""
    return d.is_dir() and not d.is_symlink() and {p.name for p in d.iterdir()} <= _SAVE_NAMES


def leftovers(target: Path) -> list[tuple[str, Path]]:
    """``(kind, directory)`` of the old-style leftovers of the store ``target``: kind ``saving``
    or ``old``, sorted by name; only those holding what a save writes (an ``old`` one: nothing
    or a ``save`` directory that does)."""
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = _pattern(target)
    out = []
    for d in sorted(parent.iterdir()):
        hit = pattern.match(d.name)
        if not hit or not d.is_dir() or d.is_symlink():
            continue
        kind = hit.group(1)
        if kind == "saving" and not _looks_saved(d):
            continue
        if kind == "old" and not ({p.name for p in d.iterdir()} <= {"save"}
                                  and (not (d / "save").exists() or _looks_saved(d / "save"))):
            continue
        out.append((kind, d))
    return out


def restore(target: Path) -> Path | None:
    """When ``target`` does not exist, move the newest whole state among its leftovers to it
    (one atomic rename) and return where it came from; None when there was none."""
    if target.exists() or target.is_symlink():
        return None
    found = []
    for kind, d in leftovers(target):
        state = d if kind == "saving" else d / "save"
        manifest = state / MANIFEST
        if manifest.is_file():
            found.append((kind == "saving", manifest.stat().st_mtime_ns, d.name, state))
    if not found:
        return None
    state = max(found)[3]
    try:
        files.replace(state, target)
    except OSError:  # another process restored or saved it meanwhile: its state stands
        return None
    files.fsync_dir(target.parent)
    return state


def clear(target: Path) -> int:
    """Remove the old-style leftovers of ``target``; how many were removed."""
    gone = leftovers(target)
    for _, d in gone:
        files.rmtree(d)
    if gone:
        files.fsync_dir(target.parent)
    return len(gone)

