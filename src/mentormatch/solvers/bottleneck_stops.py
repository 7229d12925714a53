"""Where max-min's certified flows (:mod:`mentormatch.solvers.bottleneck`) and coverage_first's
flow (:mod:`mentormatch.solvers.bottleneck_cover`) stop, and what an answer then states.

**The time limit** (s23). Every flow gets the caller's deadline (``options``: from ``pair()``'s
call when set), the first, the probes and the last (until s23 a flow once begun ran to its end:
at 100,000 x 20,000 under a budget the first flow at the plan's loads ran 45+ minutes past a
600 s limit). A flow stopped by it answers "feasible" with an assignment that meets the
capacities and demands and proves only what it holds: a probe that holds ``M`` pairs at least
its threshold (matching as many mentees under ``coverage_first``) still witnesses it and raises
the lower end; one that falls short proves nothing (the upper end moves down only on a proven
flow: a stopped flow's shortfall is the clock's, not the pairs'); a stopped first flow proves no
count (``certificate["count_proven"]`` False: no bisection, no bracket); a stopped last flow
leaves the best witness (not the tie rule's pick, so "feasible"). coverage_first's one flow
(s24) follows the same rules: stopped, it is "feasible", its assignment meets the capacities
and demands, and its bound is the stopped rounds' (:func:`mentormatch.solvers.rounds.
stopped_bound`: over every assignment matching at least as many mentees, the lexicographic
optimum's included), or none. No probe or last flow starts past the deadline (:func:`late`),
and a flow on blocks reads no block past it (:func:`mentormatch.solvers.certify._certified`,
s24: its first pass scored every block before it looked). What a probe proves is
:func:`probe_proves`; the message says where it stopped and what holds (:func:`maxmin_message`).
"""
from __future__ import annotations

import time

import numpy as np

from .base import OPTIMAL_GAP, AssignmentProblem, Solution

__all__ = ["late", "maxmin_message", "mentees", "probe_proves", "stopped"]


def stopped(sol: Solution) -> bool:
    """Whether a flow was stopped by the deadline (its answer feasible, not proven)."""
    return bool((sol.certificate or {}).get("timed_out"))


def probe_proves(sol: Solution, witness: bool) -> tuple[bool, bool]:
    """What a probe's flow at threshold ``mid`` proves (the module docstring's rules):
    ``(lower, ends)``, whether the bracket's upper end falls to ``mid`` (only a proven flow
    that holds no witness: no assignment of ``M`` pairs reaches ``mid``) and whether the
    bisection ends (a flow not proven: stopped by the deadline, or not certified). A witness
    raises the lower end whether proven or not (the caller's step).

    >>> import dataclasses
    >>> short = Solution(np.zeros(0, np.int64), "feasible", 0.0, None, 0.0, "flow", {"timed_out": True})
    >>> probe_proves(short, witness=False)  # a stopped flow's shortfall is the clock's
    (False, True)
    >>> probe_proves(dataclasses.replace(short, status="optimal", certificate={}), witness=False)
    (True, False)
    """
    proven = sol.status == "optimal"
    return proven and not witness, not proven


def late(deadline: float | None, ahead: float = 0.0) -> bool:
    """Whether a step lasting ``ahead`` seconds, begun now, would end past ``deadline`` (a
    ``time.perf_counter`` reading; None: no limit)."""
    return deadline is not None and time.perf_counter() + ahead >= deadline


def mentees(problem: AssignmentProblem, sol: Solution) -> int:
    """The mentees a flow's pick matches."""
    return int(len(np.unique(problem.pairs.mentee[sol.chosen])))


def maxmin_message(*, certified: bool, counted: bool, timed_out: bool, bracket, most: int,
                   max_flows: int, coarse: bool, rounding: float) -> str:
    """What a max-min answer proves, in words ("" when it is proven optimal): where it stopped
    (the time limit, or the work limit of ``max_flows`` flows) and what holds then; or, when
    ``coarse``, that the total is proven only to within ``rounding``.

    >>> maxmin_message(certified=False, counted=False, timed_out=True, bracket=None, most=3,
    ...                max_flows=64, coarse=False, rounding=0.0)  # doctest: +NORMALIZE_WHITESPACE
    'stopped at the time limit in the first flow: 3 pairs meeting the capacities, neither the
     most pairs nor the best worst pair proven'
    """
    stop = ("stopped at the time limit" if timed_out
            else f"stopped at its work limit ({max_flows} flows) before the time limit")
    if coarse:
        return (f"the matched count and the worst pair are proven; the total is proven only to "
                f"within {rounding:.3g} of the best among the assignments that tie on them (the "
                "flow's integer step under coverage_first's weights at this size), more than "
                f"{OPTIMAL_GAP:g} of it")
    if certified:
        return ""
    if not counted:
        return (f"{stop} in the first flow: {most:,} pairs meeting the capacities, neither the "
                "most pairs nor the best worst pair proven" if timed_out
                else "a flow was not certified")
    if bracket is not None and bracket[1] > np.nextafter(bracket[0], np.inf):
        return (f"{stop}: the most pairs ({most:,}) is proven, the worst pair is at least the "
                "threshold, and no assignment's worst pair reaches the bracket's upper end")
    return (f"{stop} before the final flow: the most pairs and the worst pair are proven, "
            "the total is a witness's, not proven the best" if timed_out
            else "a flow was not certified")
