"""The library's exceptions. Each carries its findings as attributes, so that callers
(the CLI, an HR tool) can show or act on them without parsing the message."""
from __future__ import annotations

from dataclasses import dataclass


class MentormatchError(Exception):
    """Base class of every error raised on purpose by mentormatch."""


@dataclass
class Problem:
    """One finding of validation: where, what was received, what was expected."""

    table: str  # "mentors", "mentees", "programme", "scores", ...
    column: str | None
    row_id: str | None  # the person's id, when known
    line: int | None  # 1-based data line in the file (header is line 1, first row line 2)
    value: object
    expected: str
    header: str | None = None  # the file's own header of ``column``, when columns= renamed it

    def __str__(self) -> str:
        where = [self.table]
        if self.row_id is not None:
            where.append(f"row id {self.row_id!r}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}"
                         + (f" (header {self.header!r})" if self.header is not None else ""))
        return f"{', '.join(where)}: got {self.value!r}, expected {self.expected}"


class ValidationError(MentormatchError, ValueError):
    """Bad input tables or settings. ``problems`` lists every finding (not only the first)."""

    def __init__(self, problems: list[Problem] | Problem, *, limit: int = 10):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        groups = _grouped(self.problems)
        shown = "; ".join(_group_text(g, extra) for g, extra in groups[:limit])
        more = sum(len(g) for g, _ in groups[limit:])
        if more > 0:
            shown += f"; and {more} more problem(s)"
        super().__init__(shown)
        self._limit = limit

    def __reduce__(self):
        # rebuilt from its findings (Exception's default pickling passes the message back in as
        # ``problems``): errors cross process boundaries (pair_many on an executor)
        return (self.__class__, (self.problems,), {"_limit": self._limit})


#: rows named in the message of one finding shared by many rows (the rest are counted)
ROWS_SHOWN = 5
#: ``expected`` of the summary a check adds after its first rows ("N more rows"; its value)
SAME_AS_ABOVE = "the same as the rows above"


def _grouped(problems: list[Problem]) -> list[tuple[list[Problem], int]]:
    """The findings in their order, those that differ only in the row (one unknown manager on
    every row of an export) together, so that the message says the finding once; with each
    group, the rows a check's summary (:data:`SAME_AS_ABOVE`) counted beyond it."""
    groups: dict[tuple, list] = {}
    last: dict[tuple, tuple] = {}  # (table, column) -> key of its latest group
    for p in problems:
        if p.expected == SAME_AS_ABOVE and (p.table, p.column) in last and isinstance(p.value, str):
            count = p.value.split(" ", 1)[0]
            if count.isdigit():
                groups[last[p.table, p.column]][1] += int(count)
                continue
        key = (p.table, p.column, p.header, repr(p.value), p.expected,
               id(p) if p.row_id is None and p.line is None else None)
        groups.setdefault(key, [[], 0])[0].append(p)
        last[p.table, p.column] = key
    return [(g, extra) for g, extra in groups.values()]


def _group_text(group: list[Problem], extra: int = 0) -> str:
    if len(group) == 1 and not extra:
        return str(group[0])
    first = group[0]
    rows = []
    for p in group[:ROWS_SHOWN]:
        row = [f"id {p.row_id!r}"] if p.row_id is not None else []
        row += [f"line {p.line}"] if p.line is not None else []
        rows.append(" ".join(row))
    hidden = max(len(group) - ROWS_SHOWN, 0) + extra
    rows_text = ", ".join(rows) + (f" and {hidden} more" if hidden else "")
    where = [first.table, f"{len(group) + extra} rows ({rows_text})"]
    if first.column is not None:
        where.append(f"column {first.column!r}"
                     + (f" (header {first.header!r})" if first.header is not None else ""))
    return f"{', '.join(where)}: got {first.value!r}, expected {first.expected}"


class UnknownNameError(MentormatchError, ValueError):
    """An unknown option name (solver, feature, setting); lists the known ones."""

    def __init__(self, kind: str, name: str, known: list[str]):
        import difflib

        self.kind, self.name, self.known = kind, name, sorted(known)
        close = difflib.get_close_matches(str(name), self.known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known)}.{hint}")

    def __reduce__(self):
        return (self.__class__, (self.kind, self.name, self.known))


class UnknownFieldError(UnknownNameError, KeyError):
    """A key that is no field of a record (:class:`mentormatch.record.SolveRecord`): a
    ``KeyError``, as a mapping raises, that lists the fields."""

    def __str__(self) -> str:  # the message, not KeyError's quoted repr of it
        return str(self.args[0])


@dataclass
class Conflict:
    """One reason a constraint set cannot hold, with its numbers and a relaxation that helps."""

    constraint: str
    detail: str
    relaxation: str | None = None

    def __str__(self) -> str:
        return self.detail + (f" (to fix: {self.relaxation})" if self.relaxation else "")


class InfeasibleError(MentormatchError):
    """The hard constraints cannot all hold. ``conflicts`` names them, with numbers."""

    def __init__(self, conflicts: list[Conflict] | Conflict):
        if isinstance(conflicts, Conflict):
            conflicts = [conflicts]
        self.conflicts: list[Conflict] = list(conflicts)
        super().__init__("the constraints cannot all hold: " + "; ".join(map(str, self.conflicts)))

    def __reduce__(self):
        return (self.__class__, (self.conflicts,))


class StoreError(ValidationError):
    """A programme store that cannot be read or written as asked: damaged or incomplete files
    (a checksum, row count or manifest value that does not match), a store locked by another
    save, a path that is not a store. ``problems`` name the file (as ``table``), the value found
    and what was expected, as for :class:`ValidationError` (of which this is a kind)."""


class TooLargeError(MentormatchError):
    """A request that needs many eligible pairs in memory at once (``what``: every one, or
    those where its optimum is proven to lie), on a round whose pairs do not fit: raised before any allocation, with the estimate and what to do instead.
    ``pairs``: the eligible pairs it needs; ``needed`` and ``available``: bytes."""

    def __init__(self, what: str, pairs: int, needed: float, available: float, instead: str):
        self.what, self.pairs, self.needed, self.available, self.instead = (
            what, int(pairs), float(needed), float(available), instead)
        super().__init__(
            f"{what} needs {self.pairs:,} eligible pairs in memory at once, about "
            f"{_size(self.needed)}, and this machine has {_size(self.available)} available; "
            f"{instead}")

    def __reduce__(self):
        return (self.__class__, (self.what, self.pairs, self.needed, self.available, self.instead))


def _size(n_bytes: float) -> str:
    gib = n_bytes / 1024.0 ** 3
    return f"{gib:,.1f} GiB" if gib >= 1 else f"{n_bytes / 1024.0 ** 2:,.0f} MiB"


class TimeLimitError(MentormatchError):
    """No assignment meeting the constraints was found and none was proven impossible within
    the search's budget: not a proof of infeasibility. ``seconds``: the time limit; ``stage``:
    what was running; ``advice``: what to try; ``reason``: what ended the search: ``"time"``
    (the time limit passed) or ``"search"`` (the search ended with time left: on a source too
    large for the exact MIP over every eligible pair, the candidates' search found nothing and
    proved nothing, so more time alone will not help).

    >>> print(TimeLimitError(5, "score", "relax the side constraints", reason="time"))
    the time limit of 5 s passed before any assignment meeting the constraints was found (score); none was proven impossible: relax the side constraints
    """

    REASONS = ("time", "search")

    def __init__(self, seconds: float | None, stage: str, advice: str, reason: str):
        if reason not in self.REASONS:
            raise ValueError(f"TimeLimitError reason {reason!r}: expected one of {self.REASONS}")
        self.seconds, self.stage, self.advice, self.reason = seconds, stage, advice, reason
        limit = "the time limit" if seconds is None else f"the time limit of {seconds:g} s"
        if reason == "time":
            text = (f"{limit} passed before any assignment meeting the constraints was found "
                    f"({stage}); none was proven impossible: {advice}")
        else:
            text = (f"the search ({stage}) ended with time left, before {limit}, without an "
                    "assignment meeting the constraints, and none was proven impossible: more "
                    f"time alone will not help; {advice}")
        super().__init__(text)

    def __reduce__(self):
        return (self.__class__, (self.seconds, self.stage, self.advice, self.reason))
