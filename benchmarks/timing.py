"""How the benchmarks time a call: both clocks, warm, repeated, the minimum and the median.

The one place that says how a call is timed, for ``run.py`` (the speed section and the
headline) and ``ladder.py`` (no cliffs), so that the two sections of BENCHMARKS.md time
``assign()`` and its peers the same way and cannot contradict each other. Until session 32
run.py timed one cold call by the wall clock: at 200 x 50 that gave assign() 8.32 ms against
the ladder's 0.4 ms, because the first call in a process pays one-time costs (importing the
compiled kernels, pandas' first-use caches: about 3.9 ms of CPU against 1.0 ms for the second
call, measured) and a 2-core machine shared by other work adds milliseconds of wall time to any
short call.

- *Warm*: the caller makes one untimed call first (on a tiny instance, so that a 12-second peer
  does not run twice for nothing): imports and first-call costs stay out of the figures.
- *Both clocks*: wall time (``perf_counter``) and the process's CPU time (``process_time``,
  user + system of all its threads). On a shared machine the wall clock also counts the time
  other processes held the cores; the CPU time moves much less with the load, so ratios are
  compared on CPU time first.
- *A steady allocator*: :func:`steady_allocator` before the timed calls. glibc serves blocks
  above its mmap threshold (128 KiB at first) with fresh pages, and raises that threshold only
  on some histories: the same lap.lapjv call at 200 x 50 (a new 320 KB matrix each call) took
  0.32 ms CPU in one process and 0.62-0.65 ms in another that had imported other modules first,
  with 163 page faults a call against none (session 32). With the thresholds fixed, every
  peer's calls reuse the heap and the figures no longer depend on what the process did before.
- *Repeated*: :func:`runs` calls below :data:`FEW_RUNS_CELLS` pairs, fewer above; a peer whose
  calls take long stops once :data:`BUDGET` seconds are spent (at least one timed call), so a
  20-second peer is timed once. The minimum is the figure (the call with the least
  interference); the median is beside it, to show the spread.
- *A second call in the same loop* (``repeat(..., then=...)``): timed right after each of the
  first's, alternately, so that both figures see the same moments of a shared machine; the
  ladder times ``assign()`` alone and, as ``then``, ``assign()`` with its result's tables read
  (they are built on their first read), and states the two as "CPU" and "CPU, tables read".
  The ladder passes no budget (``math.inf``): its tables state the number of calls.

``run.py``'s speed section (``speed_workers.timed``) warms each peer on a tiny instance of its
kind, then calls :func:`repeat`; ``ladder.py`` warms ``assign()`` on a 5 x 3 slice and calls it
for ``assign()`` and for lap alike.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

#: Below this many cells (mentees x mentors) a call is timed :data:`MANY_RUNS` times (a few
#: milliseconds each: the minimum of three was mostly noise), above it :data:`FEW_RUNS` times.
FEW_RUNS_CELLS = 1_000_000
MANY_RUNS, FEW_RUNS = 20, 3
#: A measurement stops repeating once its timed calls have taken this many wall seconds.
BUDGET = 10.0


def runs(n: int, m: int) -> int:
    """How many times a call on ``n`` x ``m`` cells is timed (before :data:`BUDGET` applies)."""
    return MANY_RUNS if n * m < FEW_RUNS_CELLS else FEW_RUNS


def clocks(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """``call()``'s wall and CPU seconds, and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = call()
    return time.perf_counter() - wall, time.process_time() - cpu, out


@dataclass
class Timing:
    """The wall and CPU seconds of each timed call, and the last call's output; ``then``: the
    second call's own :class:`Timing` (:func:`repeat`'s ``then``), None without one."""

    walls: list[float]
    cpus: list[float]
    out: Any = None
    then: "Timing | None" = None

    def summary(self) -> dict:
        """The figures a report keeps: min and median of both clocks, and the number of calls."""
        return {"time": min(self.walls), "time_median": statistics.median(self.walls),
                "cpu": min(self.cpus), "cpu_median": statistics.median(self.cpus),
                "runs": len(self.walls)}


#: glibc's ``mallopt`` parameters (malloc.h): blocks up to 32 MiB (the largest mmap threshold
#: glibc takes on 64 bits) from the heap, and the heap's top kept up to 256 MiB.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 256 << 20


def steady_allocator() -> bool:
    """Fix glibc's mmap and trim thresholds for this process (see the module text), so that
    repeated calls do not fault in fresh pages on some process histories and not on others;
    False where the C library is not glibc (nothing changed)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def repeat(call: Callable[[], Any], times: int, budget: float = BUDGET,
           then: Callable[[], Any] | None = None) -> Timing:
    """Time ``call()`` ``times`` times, or fewer once ``budget`` wall seconds of it are spent
    (at least once), with :func:`steady_allocator`; with ``then``, time ``then()`` right after
    each ``call()`` too (its figures in ``Timing.then``; its output is not kept). Warm the calls
    up before: this times every call it makes."""
    steady_allocator()
    t = Timing([], [], then=None if then is None else Timing([], []))
    while len(t.walls) < times and (not t.walls or sum(t.walls) < budget):
        t.out = None  # the last output freed first: a call's peak memory is its own
        wall, cpu, t.out = clocks(call)
        t.walls.append(wall)
        t.cpus.append(cpu)
        if then is not None:
            wall, cpu, _ = clocks(then)
            t.then.walls.append(wall)
            t.then.cpus.append(cpu)
    return t


def method(budget: float = BUDGET) -> str:
    """The method in one sentence, for the sections that use it."""
    return (f"each call warmed up once on a tiny instance in the same fresh process, then timed "
            f"{MANY_RUNS} times below {FEW_RUNS_CELLS:,} pairs and {FEW_RUNS} times above "
            "(glibc's mmap and trim thresholds fixed, so that no call faults in fresh pages "
            "because of what the process did before), "
            f"stopping once {budget:.0f} s are spent (at least once); the minimum is given, "
            "the median beside it, by the wall clock and by the process's CPU time")
