"""File operations of the folder store, each durable (fsync) and each passing through one hook,
and the store's lock file.

``fault_hook`` exists for tests: when set, it is called as ``fault_hook(op, path)`` before every
file operation (``op`` one of ``mkdir``, ``write``, ``write-half`` (half of the bytes are
written), ``fsync``, ``replace``, ``fsync-dir``, ``remove``, ``rmdir``), so that a test can end
the process at any of them and check that the store still loads as a whole state.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ...errors import Problem, StoreError

try:  # POSIX; elsewhere saves are not locked against each other (see lock())
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Test hook, see the module docstring. None in normal use.
fault_hook: Callable[[str, str], None] | None = None

#: Seconds a save (or load) waits for another process's save before giving up.
LOCK_TIMEOUT = 30.0
LOCK_NAME = ".lock"


def _op(op: str, path: Path) -> None:
    if fault_hook is not None:
        fault_hook(op, str(path))


def mkdir(path: Path) -> None:
    _op("mkdir", path)
    os.mkdir(path)


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` and fsync it."""
    _op("write", path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        half = len(data) // 2
        for part, after in ((view[:half], "write-half"), (view[half:], None)):
            while len(part):
                part = part[os.write(fd, part):]
            if after:
                _op(after, path)
        _op("fsync", path)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(src: Path, dst: Path) -> None:
    """Atomically put ``src`` in the place of ``dst`` (the caller fsyncs the directory)."""
    _op("replace", dst)
    os.replace(src, dst)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (created, renamed, removed files) durable."""
    _op("fsync-dir", path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that do not sync directories
        pass
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    _op("remove", path)
    os.unlink(path)


def rmtree(path: Path) -> None:
    """Remove a directory tree, one operation at a time (each through the hook)."""
    for root, dirs, names in os.walk(path, topdown=False):
        for name in names:
            remove(Path(root) / name)
        for name in dirs:
            _op("rmdir", Path(root) / name)
            os.rmdir(Path(root) / name)
    _op("rmdir", path)
    os.rmdir(path)


@contextlib.contextmanager
def lock(directory: Path, *, exclusive: bool, timeout: float | None = None) -> Iterator[bool]:
    """Hold the store's lock file ``directory/.lock`` (``fcntl.flock``): exclusive for a save,
    shared for a load. Yields True when the lock is held, False when it could not be taken
    because the lock file cannot be opened (a read-only store, or no ``fcntl``): a load then
    still reads a whole state, since every save switches states atomically.

    Raises
    ------
    StoreError
        When another process holds the lock for longer than ``timeout`` seconds.
    """
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    path = directory / LOCK_NAME
    fd = None
    if fcntl is not None:
        for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
            try:
                fd = os.open(path, flags, 0o644)
                break
            except OSError:
                continue
    if fd is None:
        yield False
        return
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(Problem(
                        str(directory), None, None, None, f"locked by another process ({path})",
                        f"a store no other process is saving to; waited {timeout:g} s for the "
                        f"other save to finish (try again once it has)")) from None
                time.sleep(0.02)
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def try_exclusive(directory: Path) -> int | None:
    """The lock file's descriptor holding an exclusive lock, or None at once when another
    process holds the lock (or it cannot be opened). The caller closes it."""
    if fcntl is None:
        return None
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
