"""What can travel between processes: a check that an object pickles, the copy of a solve
record without what cannot be pickled, and :class:`JobError`, which stands in for an exception
that cannot be sent back from a worker.

Used by :class:`~mentormatch.Matching` (what it keeps when pickled), :mod:`mentormatch.batch`
(jobs on any executor) and :mod:`mentormatch.whatif` (re-solves on workers). It sits below all
three and imports none of them, so that none of them imports another for these.
"""
from __future__ import annotations

import dataclasses
import pickle

from .errors import MentormatchError
from .record import SolveRecord

__all__ = ["JobError", "portable_data"]


class JobError(MentormatchError):
    """A job failed with an exception that could not be sent back from the worker as it was
    (it does not pickle): its type name, message and the worker's traceback text instead.

    Examples
    --------
    >>> err = JobError("OSError", "disk full", "Traceback ...")
    >>> copy = pickle.loads(pickle.dumps(err))
    >>> (copy.type_name, copy.message, str(copy))
    ('OSError', 'disk full', 'OSError: disk full')
    """

    def __init__(self, type_name: str, message: str, traceback: str = ""):
        self.type_name, self.message, self.traceback = type_name, message, traceback
        super().__init__(f"{type_name}: {message}")

    def __reduce__(self):
        return (self.__class__, (self.type_name, self.message, self.traceback))


def _picklable(obj) -> bool:
    """True when ``obj`` survives a pickle round trip."""
    try:
        pickle.loads(pickle.dumps(obj))
    except Exception:  # noqa: BLE001 - any failure means "cannot travel"
        return False
    return True


def portable_data(data):
    """``data`` without its entries that cannot be pickled (on the scale path, a cached builder
    of every eligible pair: a closure over the block scores), their keys listed in
    ``"not_transferred"``; ``data`` itself when every entry pickles. What a
    :class:`~mentormatch.Matching` keeps when it is pickled (sent back from a worker process).
    A :class:`~mentormatch.record.SolveRecord` gives a copy with those fields None; a dict, a
    dict.

    Examples
    --------
    >>> portable_data({"a": 1, "f": lambda: 0})
    {'a': 1, 'not_transferred': ['f']}
    >>> portable_data({"a": 1})
    {'a': 1}
    """
    dropped = [k for k, v in data.items() if callable(v) and not _picklable(v)]
    if not dropped:
        return data
    if isinstance(data, SolveRecord):
        return dataclasses.replace(data, **dict.fromkeys(dropped), not_transferred=dropped)
    out = {k: v for k, v in data.items() if k not in dropped}
    out["not_transferred"] = dropped
    return out
