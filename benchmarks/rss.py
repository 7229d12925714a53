"""Peak resident memory, as the benchmarks report it: a process's own peak (``ru_maxrss``), its
children's, and the process tree's at one instant (:class:`TreeRss`, sampled)."""
from __future__ import annotations

import os
import resource


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
    times, and a forked child shares its parent's pages until they are written."""

    def __init__(self, interval: float = 0.02):
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    @staticmethod
    def _rss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        out = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(c) for c in f.read().split()]
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

    def __enter__(self):
        if os.path.exists("/proc/self/status"):
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024.0
