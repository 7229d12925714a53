"""Peak resident memory, as the benchmarks report it: a process's own peak (``ru_maxrss``), its
children's, and the process tree's at one instant (:class:`TreeRss`, sampled).

A worker's three peaks are read when its measurement ends (:meth:`TreeRss.peaks`): by
``harness.worker_main`` after the worker returns, or earlier by a worker that does more after
the call it measures (``scale.py``: the cost of a block, a second ``prepare``, after ``pair()``),
from the one sampler running in the process (:meth:`TreeRss.current`)."""
from __future__ import annotations

import os
import resource
from typing import ClassVar

#: the size of a memory page, in KiB (``statm`` counts pages)
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child_peak_rss_mb() -> float:
    """The largest ``ru_maxrss`` of the measurement's own child processes (the scale path forks
    its sub-market beside the first pass), 0 when it had none."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


class TreeRss:
    """The peak of the process tree's resident memory *at one instant*: a thread sums VmRSS of
    this process and all its descendants every ``interval`` seconds. Adding the parent's and a
    child's own peaks (ru_maxrss) overstated it by about 70 %: the two peaks come at different
    times, and a forked child shares its parent's pages until they are written.

    The thread runs in the measured process, so its CPU is in that process's CPU time: a sample
    reads each process's ``statm`` and its threads' ``children`` with bare ``os.read`` calls
    (about 30 us a sample for a process of two threads, against 90 us when it parsed
    ``/proc/PID/status`` line by line), and the 20 ms wake-ups cost about as much again: in all
    about 1 % of a core on the shared machine, measured against a sleeping main thread."""

    #: the sampler entered in this process and not yet left (``harness.worker_main``'s), if any
    running: ClassVar["TreeRss | None"] = None

    def __init__(self, interval: float = 0.02):
        import threading

        self.peak_kb = 0
        self._started = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    @staticmethod
    def _read(path: str) -> bytes:
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, 1 << 16)
        finally:
            os.close(fd)

    @staticmethod
    def _rss_kb(pid: int) -> int:
        """``pid``'s resident memory (``statm``'s second field, the pages ``VmRSS`` counts)."""
        try:
            return int(TreeRss._read(f"/proc/{pid}/statm").split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                out += [int(c) for c in TreeRss._read(f"/proc/{pid}/task/{tid}/children").split()]
        except OSError:
            pass
        return out

    def _run(self, interval: float):
        me = os.getpid()
        while not self._stop.is_set():
            todo, total = [me], 0
            while todo:
                pid = todo.pop()
                total += self._rss_kb(pid)
                todo += self._children(pid)
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(interval)

    @classmethod
    def current(cls) -> "TreeRss":
        """The sampler running in this process (``harness.worker_main``'s), else a new one (a
        worker called in the caller's process, as the tests do): a worker that reads its peaks
        early reads them from the sampler that measures it, not from a second one beside it."""
        return cls.running or cls()

    def __enter__(self):
        if not self._started and not self._stop.is_set() and os.path.exists("/proc/self/status"):
            self._started = True
            self._thread.start()
        if TreeRss.running is None:
            TreeRss.running = self
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop sampling: :attr:`peak_mb` keeps what it had read until now."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if TreeRss.running is self:
            TreeRss.running = None

    def peaks(self) -> dict:
        """The three peaks a result keeps, in MB, read at this instant (the sampler stopped
        first): the process's own (``ru_maxrss``), its children's, and the tree's."""
        self.stop()
        return {"peak_rss_mb": peak_rss_mb(), "child_peak_rss_mb": child_peak_rss_mb(),
                "tree_peak_rss_mb": self.peak_mb}

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024.0
