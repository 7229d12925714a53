"""The flows' integer costs: one quantization of the scores for every source, and
``coverage_first``'s weight per mentee (moved out of :mod:`mentormatch.solvers.flow`, which
builds and solves the network on them).

**Integer costs: one quantization for every source.** A score ``s`` becomes the integer
cost ``-round(s * scale)`` with ``scale`` the largest power of two that keeps
``2**ceil(log2 max|s|) * scale`` within :data:`COST_LIMIT` and what int64 allows (OR-Tools'
cost scaling multiplies costs by the number of nodes; totals over ``n_max`` pairs):
:func:`choose_scale`. The quantum is ``2**-36`` for scores below 8 at any size up to about two
million people. It depends on the scores only through the power of two of the largest, which
every source holds (each mentee's best pair is in every candidate set), so the complete set,
the cached blocks, the bounds and ``assign()``'s dense path all agree on which scores are
equal (the tie rule of :mod:`mentormatch.solvers.ties` starts from this); and scaling every
score by a power of two leaves the integer costs, hence the pairs, unchanged. Each pair's
rounding error is at most ``0.5 / scale``, so the float optimum exceeds the reported (float,
recomputed) objective by at most ``n_max / scale`` where ``n_max = min(sum d, sum c)`` bounds
the number of pairs in any solution. ``Solution.bound = objective + n_max / scale`` and
``Solution.certificate`` records the scale and that bound.

**coverage_first counts mentees, in the network** (:func:`coverage_scale`). Each mentee's arc
from the source is split in two::

    source --(cap 1,       cost -Wq)--> mentee i      the first mentor: the coverage weight
    source --(cap d_i - 1, cost 0)----> mentee i      the others: the plain scores only

so a flow's cost is ``-(sum_k round(s_k * scale) x_k + Wq * #{mentees with a pair})``: the
weight counts each matched mentee once, whatever its demand (a flow on ``s + W`` per pair
counts pairs). ``Wq = 2**(T + 1 + ceil(log2(P + 1)))`` with ``2**T`` the largest integer pair
cost and ``P = min(sum d, sum c)`` the most pairs of any assignment: two assignments' pair
costs differ by at most ``2 P 2**T < Wq``, so one more matched mentee outweighs any change of
the total, and the min-cost flow is the most mentees first, then the largest total, exactly
(in the quantized integers, which every source shares).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["SCALE_BITS", "COST_LIMIT", "COVER_BITS", "choose_scale", "coverage_scale",
           "network_size", "coverage_weights", "integer_costs"]

#: The scale when there is no positive score (see the module docstring); every
#: source goes through :func:`choose_scale`.
SCALE_BITS = 30
#: The largest integer cost the quantization allows: ``2**39`` leaves room for OR-Tools' cost
#: scaling (costs times the number of nodes) and for totals over a million pairs in int64.
COST_LIMIT = 2.0 ** 39
_INT64_SAFE = 2.0 ** 62
#: ``coverage_first``'s weight times the nodes (OR-Tools' cost scaling) and times the mentees
#: (the flow's total) stays within this (:func:`coverage_scale`).
COVER_BITS = 61


def choose_scale(max_abs: float, n_nodes: int, n_max: int) -> float:
    """The factor turning float scores into integer costs: the largest power of two such that
    ``2**ceil(log2(max_abs))`` times it stays within :data:`COST_LIMIT` and what int64 allows
    with ``n_nodes`` nodes (OR-Tools' cost scaling) and ``n_max`` pairs.

    It depends on ``max_abs`` only through its power of two, so every source (which all hold
    each mentee's best pair) finds the same one; and scaling every score by a power of two
    scales it inversely, so the integer costs, hence the pairs, do not change.

    >>> choose_scale(6.0, 1000, 500) == 2.0 ** 36  # 6 < 2**3; 2**3 * 2**36 = 2**39
    True
    >>> choose_scale(5000.0, 1000, 500) == 2.0 ** 26  # 5000 < 2**13; 2**13 * 2**26 = 2**39
    True
    """
    if max_abs <= 0 or not np.isfinite(max_abs):
        return float(2.0 ** SCALE_BITS)
    top = min(COST_LIMIT, _INT64_SAFE / (4.0 * (n_nodes + 1)), _INT64_SAFE / (4.0 * (n_max + 1)))
    magnitude = math.ceil(math.log2(max_abs))
    return float(2.0 ** (math.floor(math.log2(top)) - magnitude))


def coverage_scale(max_abs: float, n_nodes: int, places: int) -> tuple[float, int]:
    """``coverage_first``'s scale and integer weight ``Wq`` (module docstring, "coverage_first
    counts mentees"): pair costs up to ``2**T`` and ``Wq = 2**(T + 1 + ceil(log2(places + 1)))``,
    with ``T`` the largest exponent, at most ``log2(COST_LIMIT)``, for which ``Wq * (n_nodes + 1)
    <= 2**COVER_BITS``.

    Why that is safe in int64: OR-Tools' cost scaling multiplies each arc's cost by the number
    of nodes plus one (``<= Wq (n_nodes + 1) <= 2**61``); a flow's cost is at most ``n_mentees
    Wq + places 2**T <= 2**62``; the potentials (shortest residual distances) of a simple path
    cross the source at most once (two weighted arcs) and at most ``n_nodes`` pair arcs: ``2 Wq +
    n_nodes 2**T``. At 200,000 x 40,000 with demands up to 5 (``places <= 10**6``: 20 bits;
    240,002 nodes: 18 bits), ``T = 22``: scores up to 1 are quantized to ``2**-22``, and ``Wq =
    2**43``, ``Wq * (n_nodes + 1) <= 2**61``.

    Like :func:`choose_scale` it depends on the scores only through the power of two of the
    largest magnitude, so every source that holds it finds the same one.

    >>> scale, wq = coverage_scale(0.9, 240_002, 1_000_000)
    >>> scale == 2.0 ** 22, wq == 2 ** 43
    (True, True)
    >>> scale, wq = coverage_scale(3.0, 10, 6)   # small: T = 39, the plain limit
    >>> scale == 2.0 ** 37, wq == 2 ** (39 + 1 + 3)
    (True, True)
    """
    p_bits = max(0, math.ceil(math.log2(places + 1)))
    n_bits = math.ceil(math.log2(n_nodes + 1))
    t = min(int(math.log2(COST_LIMIT)), COVER_BITS - 1 - p_bits - n_bits)
    if t < 8:
        raise ValueError(f"coverage_first on {n_nodes:,} nodes and {places:,} places leaves "
                         f"{t} bits for the scores in int64; split the round into smaller ones")
    magnitude = math.ceil(math.log2(max_abs)) if max_abs > 0 and np.isfinite(max_abs) else 0
    return float(2.0 ** (t - magnitude)), int(2 ** (t + 1 + p_bits))


def network_size(cap: np.ndarray, dem: np.ndarray) -> tuple[int, int]:
    """The flow network's node count (mentees, mentors, source, sink) and its places
    ``min(sum d, sum c)``: what the scale is chosen from, so that every source finds the same."""
    return len(dem) + len(cap) + 2, int(min(int(dem.sum()), int(cap.sum())))


def coverage_weights(cap: np.ndarray, dem: np.ndarray, locked_mentees: np.ndarray | None = None) -> np.ndarray:
    """``cover`` (module docstring): ``coverage_first``'s integer weight per mentee, ``Wq`` of
    :func:`coverage_scale` for the places ``cap``, ``dem`` (those the locks leave), 0 for the
    mentees in ``locked_mentees`` (a lock matched them already). ``Wq`` depends on the node
    count and the places only, not on the scores, so one array serves every round of a solve.

    >>> w = coverage_weights(np.array([2, 1]), np.array([1, 1, 1]), np.array([1]))
    >>> w.tolist() == [2 ** 42, 0, 2 ** 42]  # 7 nodes, 3 places: T = 39, Wq = 2**(39 + 1 + 2)
    True
    """
    n_nodes, places = network_size(cap, dem)
    wq = coverage_scale(1.0, n_nodes, places)[1]
    n = len(dem)
    locked = np.zeros(0, np.int64) if locked_mentees is None else np.asarray(locked_mentees, np.int64)
    return np.where(np.bincount(locked, minlength=n)[:n] == 0, wq, 0).astype(np.int64)


def integer_costs(score: np.ndarray, used: np.ndarray, scale: float) -> np.ndarray:
    """``-round(score * scale)`` on the pairs ``used``, 0 elsewhere (int64)."""
    cost = np.zeros(len(score), dtype=np.int64)
    cost[used] = -np.round(score[used] * scale).astype(np.int64)
    return cost
