"""Memory for the pairs a scale-path round holds at once: the bytes a pair costs each solver
that holds them, the memory available now, and the refusal (:class:`~mentormatch.errors.
TooLargeError`) when they would not fit (:mod:`mentormatch.pipeline.large` and
:mod:`mentormatch.pipeline.held` ask it)."""
from __future__ import annotations


#: Peak bytes per eligible pair of a solver that holds every pair (CP-SAT's max-min and leximin,
#: under side constraints or fractional loads), as measured when stable and max-min held them:
#: 228 and 199 at 6,000 x 1,000, scoring included.
BYTES_PER_HELD_PAIR = 230
#: Peak bytes per pair of CP-SAT's max-min and leximin on the pairs they hold: 763 to build the
#: model (one variable and one threshold row a pair), 4,292 at the peak of its first solve
#: (100,000 pairs, 1,000 x 100 with a share floor; s21h5).
BYTES_PER_CPSAT_PAIR = 4300


def available_memory() -> float:
    """Bytes this process may still allocate: Linux's MemAvailable, else the physical memory."""
    import os

    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_fits(what: str, pairs: int, instead: str, per_pair: float | None = None) -> None:
    """Raise :class:`~mentormatch.errors.TooLargeError` when holding ``pairs`` eligible pairs
    (``per_pair`` bytes each, default :data:`BYTES_PER_HELD_PAIR`) would not fit in the memory
    available now."""
    from ..errors import TooLargeError

    per_pair = BYTES_PER_HELD_PAIR if per_pair is None else per_pair
    needed, available = float(pairs) * per_pair, available_memory()
    if not fits(pairs, per_pair):
        raise TooLargeError(what, pairs, needed, available, instead)


def fits(pairs: int, per_pair: float) -> bool:
    """Whether ``pairs`` pairs of ``per_pair`` bytes fit in 80 % of the memory available now."""
    return float(pairs) * per_pair <= 0.8 * available_memory()


#: What works instead when every eligible pair would not fit (the refusal's advice).
REFUSAL_INSTEAD = ("solvers 'flow' and 'mip' (with any side constraint, floor or bonus), 'maxmin' and "
                   "'leximin' (unit loads, no side constraint), 'stable' and the random and greedy "
                   "baselines work on this round without holding every pair, and so do max-min and "
                   "leximin under side constraints without an objective bonus; for those with one, "
                   "pair smaller groups (mentormatch.pair_many with a group column)")
