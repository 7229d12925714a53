"""The certified rounds (:func:`mentormatch.solvers.rounds.certified_rounds`) kept to a caller's
deadline, for any pair source: :class:`Timed` wraps the source's checker, and its ``stop`` ends
the rounds before a step that would end past the deadline, judged by the last step of its kind
(the check of every pair by the last check; the next flow by the last flow and its prices; the
first check only by the clock). The rounds then return the last flow's assignment, a feasible
one with no certificate but a bound where the checker gives one
(:func:`mentormatch.solvers.rounds.stopped_bound`), and ``certificate["timed_out"]`` says why.

This is the one deadline of the certified rounds on every source: the complete set and the
blocks (:func:`mentormatch.solvers.certify._certified`) and the bounds
(:mod:`mentormatch.solvers.bounded`, whose first pass and sub-markets read the same
deadline) wrap their checkers in it."""
from __future__ import annotations

import time

__all__ = ["Timed"]


class Timed:
    """A :class:`~mentormatch.solvers.rounds.Checker` that stops the rounds at ``deadline`` (a
    ``time.perf_counter`` reading), otherwise the wrapped ``checker``'s.

    >>> class Never:
    ...     width, method, ties, ranks = 1, "m", True, None
    ...     def check(self, *a): return None, 0.0
    ...     def stop(self, new, size): return False
    ...     def record(self, cert, stage): pass
    ...     def ceiling(self, u, p): return None
    >>> t = Timed(Never(), time.perf_counter() - 1.0)
    >>> t.stop(None, 10), t.timed_out
    (True, True)
    >>> cert = {}; t.record(cert, "stopped"); cert
    {'timed_out': True}
    >>> Timed(Never(), time.perf_counter() + 1e6).stop(None, 10)
    False
    """

    def __init__(self, checker, deadline: float):
        self.inner, self.deadline, self.timed_out = checker, deadline, False
        self.width, self.method, self.ties, self.ranks = (checker.width, checker.method,
                                                          checker.ties, checker.ranks)
        self.mark = time.perf_counter()  # when the round's flow began (roughly: the last stop)
        self.check_seconds = 0.0  # the last check's
        self.flow_seconds = 0.0  # the last flow's and its prices'

    def check(self, u, p, chosen, tol: float, per_row: int):
        t = time.perf_counter()
        out = self.inner.check(u, p, chosen, tol, per_row)
        self.check_seconds = time.perf_counter() - t
        return out

    def late(self) -> bool:
        """Whether the deadline has passed (then recorded: ``timed_out``); for the steps before
        the rounds (the first flow starts only when this is False)."""
        if time.perf_counter() >= self.deadline:
            self.timed_out = True
        return self.timed_out

    def ceiling(self, u, p):
        return self.inner.ceiling(u, p)

    def tight(self, u, p, chosen, gain: float):
        return self.inner.tight(u, p, chosen, gain)

    def tied(self, ties) -> None:
        self.inner.tied(ties)

    def stop(self, new: int | None, size: int) -> bool:
        now = time.perf_counter()
        if new is None:  # before the check: the flow and its prices just ended
            self.flow_seconds = now - self.mark
            next_step = self.check_seconds
        else:  # before the next flow
            next_step = self.flow_seconds
        if now + next_step >= self.deadline:
            self.timed_out = True
            return True
        self.mark = now
        return self.inner.stop(new, size)

    def record(self, cert: dict, stage: str) -> None:
        self.inner.record(cert, stage)
        if stage == "stopped":
            cert["timed_out"] = self.timed_out

    def note(self) -> str:
        return self.inner.note()
