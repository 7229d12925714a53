"""A computation in a forked child process, for :mod:`mentormatch.solvers.bounded`: the
sub-market that prices a level runs beside that level's first pass.

Threads cannot do this: OR-Tools' ``min_cost_flow.solve`` holds the GIL for its whole run (a
numpy loop in another thread waited the whole 1.9 s of a flow), and the flows are about a third
of a large solve, each on one core. A forked child shares the scorer copy-on-write and sends
back only its result (a price per mentor). Where fork is not available (not Linux, one core),
the same computation runs in this process first, so the result is the same either way.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading

#: False keeps every computation in this process (for hosts where forking is unwelcome).
ENABLED = True


def can_fork() -> bool:
    """Whether :class:`Child` runs its computation beside the caller (Linux, two cores,
    ``ENABLED``)."""
    return (ENABLED and sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2
            and "fork" in multiprocessing.get_all_start_methods())


def _main(send, fn, args) -> None:
    try:
        out = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - sent back and raised in the parent
        out = ("error", exc)
    try:
        send.send(out)
    except Exception as exc:  # an unpicklable result or exception
        send.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    send.close()


class Child:
    """``fn(*args)`` in a forked child process (in this process when :func:`can_fork` is
    false); :meth:`result` waits for it and returns its value or raises its exception."""

    def __init__(self, fn, *args, fork: bool | None = None):
        self.proc = None
        if not (can_fork() if fork is None else fork):
            try:
                self.out = ("ok", fn(*args))
            except Exception as exc:  # raised by result(), as from a child
                self.out = ("error", exc)
            return
        ctx = multiprocessing.get_context("fork")
        self.recv, send = ctx.Pipe(duplex=False)
        # not a daemon, so that a child may fork its own (a daemon may not); cancel() and
        # __del__ end one that is no longer waited for
        self.proc = ctx.Process(target=_main, args=(send, fn, args))
        self.proc.start()
        send.close()

    @classmethod
    def done(cls, value) -> "Child":
        """A Child whose result is ``value``."""
        out = cls.__new__(cls)
        out.proc, out.out = None, ("ok", value)
        return out

    def cancel(self) -> None:
        """End the child without its result (when the caller fails before waiting for it)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.recv.close()
            self.proc = None
            self.out = ("error", RuntimeError("cancelled"))

    def __del__(self):
        if getattr(self, "proc", None) is not None:
            self.cancel()

    @property
    def running(self) -> bool:
        """Whether the computation runs in a child process (until :meth:`result`)."""
        return self.proc is not None

    def result(self):
        if self.proc is not None:
            try:
                self.out = self.recv.recv()
            except EOFError:
                self.proc.join()
                self.out = ("error", RuntimeError(
                    f"the child process of the sub-market ended without a result (exit code "
                    f"{self.proc.exitcode})"))
            finally:
                self.recv.close()
                self.proc.join()
                self.proc = None
        status, value = self.out
        if status == "error":
            raise value
        return value


class OnExecutor:
    """``fn(*args)`` as one task of a ``concurrent.futures.Executor`` (a worker process of a Dask
    cluster), with :class:`Child`'s interface: the sub-market beside a first pass whose tasks
    run on the same executor. Unlike :class:`InThread`, its flows hold another process's GIL
    and its memory is the worker's, not the caller's."""

    def __init__(self, executor, fn, *args):
        self.future = executor.submit(fn, *args)

    @property
    def running(self) -> bool:
        return self.future is not None

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()
        self.future = None

    def result(self):
        if self.future is None:
            raise RuntimeError("cancelled")
        return self.future.result()


class InThread:
    """``fn(*args)`` on a thread of this process beside the caller, with :class:`Child`'s
    interface: for a solve whose block passes run on an executor, where a fork would copy the
    executor's connections. The caller's thread then mostly waits for the workers while this
    one runs the sub-market's flows. :meth:`cancel` cannot stop it: it is left to finish,
    unwaited (a daemon thread)."""

    def __init__(self, fn, *args):
        self.out = ("error", RuntimeError("the sub-market's thread ended without a result"))

        def run():
            try:
                self.out = ("ok", fn(*args))
            except BaseException as exc:  # noqa: BLE001 - raised by result(), as from a child
                self.out = ("error", exc)

        self.thread = threading.Thread(target=run, name="mentormatch sub-market", daemon=True)
        self.thread.start()

    @property
    def running(self) -> bool:
        """Whether the computation runs beside the caller (until :meth:`result`)."""
        return self.thread is not None

    def cancel(self) -> None:
        self.thread = None
        self.out = ("error", RuntimeError("cancelled"))

    def result(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        status, value = self.out
        if status == "error":
            raise value
        return value
