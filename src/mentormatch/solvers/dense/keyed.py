"""The tie rule's first stage inside the rounds of :func:`mentormatch.solvers.dense.solve_dense`,
on scores in a few levels: one keyed flow a round (:func:`keyed_round`) and a keyed check
after the plain one (:func:`keyed_verdict`), so that the rule's second flow
(:func:`mentormatch.solvers.ties.canonical`) runs only when the keyed optimum is not unique.

The flow (:func:`mentormatch._native.assign.keyed_flow`) solves the round's network with the
128-bit costs ``c * 2**64 + key``, ``c`` the integer cost and ``key`` the rule's stage-1 key
of the pair (:func:`mentormatch.solvers.ties.stage_keys` at stage 1 and the rule's
:func:`~mentormatch.solvers.ties.key_bits`): among the optima of the candidates, one of least
key sum. Its potentials rounded to multiples of ``2**64`` prove it optimal for the integer
costs, so the plain check of the round runs on them unchanged. Once it holds, the pairs that
can be in an optimum over every pair are the pairs worked on and the tight ones joined (a pair
of negative integer gain is in none); among them, an unchosen pair of integer gain 0 whose
keyed reduced cost ``key + low_i - low_j`` (the potentials' remainders) is negative is a keyed
violator: the candidates' least key sum is not every pair's. Those join the candidates and the
round is solved again. When none is left and no pair of keyed reduced cost 0 lies on a cycle
of such arcs (:func:`mentormatch.solvers.ties_unit.movable`; a cycle of zero reduced cost
uses an unchosen pair of 0: :func:`mentormatch._native.assign.dense_flow`'s docstring), the
flow is the only optimum of least key sum over every pair: the pairs
the rule's stage 1 finds and proves unique (:mod:`mentormatch.solvers.ties`, steps 3-4), so
the rule's pick with no second flow. Otherwise the rule runs from that optimum, which is an
optimum like any other.

A module built before the keyed flow, demands above 1, or the guess that the scores are not
tied (:func:`mentormatch.solvers.dense.small.likely_tied`, the small path's): the plain flow
and the rule, as before. The pairs are the same either way.
"""
from __future__ import annotations

import numpy as np

from ..flow import FlowResult, network
from ..quantize import integer_costs
from .. import ties as _ties
from ..ties_unit import movable
from .flow import NATIVE_STATUS, rounds_kernel
from .small import KEY_BITS, likely_tied  # (the keyed flows' widest keys: the small path's)

#: Keyed rounds at most; past them the rule runs from the plain optimum (its answer is the
#: same: a choice of speed only)
KEYED_ROUNDS = 4
#: The keyed flow's pairs at most. Its searches settle a plateau of equal scores in key order,
#: where the plain flow stops at the first mentor with room: on the ladder's tied 2,000 x 500,
#: 16,000 pairs, 21 ms against 3.6, paid back by the rule it saves. At 10,000 x 2,500 (80,000
#: first-round pairs, one keyed violator, two rounds) the whole call took 1,815 ms of CPU
#: against 1,890 with the rule (2 runs each, load 13): no gain, so the rule's path above.
KEYED_PAIRS = 50_000
#: ``certificate["ties"]`` when the keyed flow proved the rule's pick (with ``keyed_rounds``,
#: the keyed flows run): one stage, unique, no second flow; the pairs that can move between
#: the optima are not counted (None: that count is the second flow's face, what this path saves)
KEYED_RECORD = {"movable_pairs": None, "stages": 1, "unique": True, "second_flow_solves": 0}


#: :func:`mentormatch.solvers.ties.pair_key`'s stage step: the key of stage 1 of ranks ``(a, b)``
#: is stage 0's of ``(a, b + STAGE_STEP)`` (the mix adds them), as int64
STAGE_STEP = int(np.uint64(0xD1B54A32D192ED03).astype(np.int64))


def thinning_ranks(rank_j: np.ndarray, keyed: bool) -> np.ndarray:
    """The mentor ranks whose :func:`~mentormatch.solvers.dense.candidates.tie_key` thins the
    candidates' runs of equal scores: the ranks themselves, or keyed, the ranks plus
    :data:`STAGE_STEP` (wrapping), whose stage-0 keys are the rule's stage-1 keys. Each mentee
    then keeps its tied pairs of least stage-1 key, those the keyed flow prefers: at 2,000 x
    500 in 4 levels, none after the first round, where thinned by the stage-0 keys 32,889
    came, and four more keyed rounds."""
    if not keyed:
        return rank_j
    with np.errstate(over="ignore"):
        return rank_j + np.int64(STAGE_STEP)


def keyed_bits(cap_r: np.ndarray, dem_r: np.ndarray) -> int:
    """The rule's key width for this network (:func:`mentormatch.solvers.ties.canonical`'s,
    read at the call: tests patch it there)."""
    return _ties.key_bits(len(dem_r) + len(cap_r) + 2, int(min(int(dem_r.sum()), int(cap_r.sum()))))


def wanted(walk, dem_r: np.ndarray, k: int, guess=None) -> bool:
    """Whether the rounds run the keyed flow: the kernel has it, every demand is at most 1,
    the first round's pairs (about ``k`` a mentee on tied scores) are at most
    :data:`KEYED_PAIRS`, and the scores look tied (``guess``: the small path's :func:`likely_tied` on the matrix
    by default; a guess decides speed, never the pairs)."""
    kernel = rounds_kernel()  # (the rounds' kernel: tests patch it on .flow)
    if kernel is None or getattr(kernel, "KEYED_FLOW_VERSION", 0) < 1:
        return False
    if int(np.max(dem_r, initial=0)) > 1 or walk.values.ndim != 2 or walk.n * k > KEYED_PAIRS:
        return False
    return bool((guess or likely_tied)(kernel, walk.values))


def keyed_round(o_i: np.ndarray, o_j: np.ndarray, o_s: np.ndarray, cap_r: np.ndarray,
                dem_r: np.ndarray, bits: int):
    """The round's flow on the pairs ``o_i, o_j`` (people numbered by rank, pairs sorted by
    (mentee, mentor)) with the keyed costs: ``(res, proven, low, tight)`` as
    :func:`~mentormatch.solvers.dense.flow.round_flow` gives its result and potentials, with
    the potentials' remainders ``(low_i, low_j)`` and the unchosen pairs of keyed reduced cost
    0; None when the pairs are too many or the kernel gave up (then the plain flow runs)."""
    kernel = rounds_kernel()  # (the rounds' kernel: tests patch it on .flow)
    if len(o_s) > KEYED_PAIRS:
        return None
    used, scale, n_max = network(o_i, o_j, o_s, cap_r, dem_r)
    cost = integer_costs(o_s, used, scale)
    idx = np.flatnonzero(used)
    tails, heads = o_i[idx], o_j[idx]
    n = len(dem_r)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=ptr[1:])
    c64 = np.ascontiguousarray
    key = kernel.pair_keys(c64(tails, np.int64), c64(heads, np.int64), 1, int(bits))
    got = kernel.keyed_flow(ptr, c64(heads, np.int64), c64(cost[idx], np.int64), key,
                            c64(cap_r, np.int64), c64(dem_r, np.int64))
    if got is None:
        return None
    flag, pi_i, pi_j, pi_t, low_i, low_j, low_t, tight = got
    chosen = np.zeros(len(o_s), dtype=bool)
    chosen[idx[flag]] = True
    res = FlowResult(chosen, True, NATIVE_STATUS, scale, cost, used, n_max)
    return res, (pi_i, pi_j, pi_t, pi_t), (low_i, low_j, low_t), tight


def keyed_verdict(i: np.ndarray, j: np.ndarray, s: np.ndarray, chosen: np.ndarray,
                  ranks: tuple, cap_r: np.ndarray, dem_r: np.ndarray, pot: tuple, low: tuple,
                  scale: float, bits: int) -> tuple[np.ndarray, bool]:
    """After the plain check held, on the pairs ``(i, j)`` (indices, ``ranks`` theirs; the
    pairs worked on and the tight ones joined, ``chosen`` the flow's), in one compiled pass
    (:func:`mentormatch._native.assign.keyed_face`): the keyed reduced costs ``key + low_i -
    low_j`` of the pairs of the network with integer gain 0 under ``pot`` (the others' have
    the sign of their integer reduced cost). Returns the positions of the unchosen ones below
    0 (keyed violators) and, when there are none, whether the keyed optimum may not be unique:
    a pair of keyed reduced cost 0 on a cycle of them (:func:`mentormatch.solvers.ties_unit.movable`
    on those pairs, the chosen ones and the potentials' equalities with the sink's)."""
    kernel = rounds_kernel()  # (the rounds' kernel: tests patch it on .flow)
    c64 = np.ascontiguousarray
    rank_i, rank_j = ranks
    worse, near, rc = kernel.keyed_face(
        c64(i, np.int64), c64(j, np.int64), c64(s, np.float64), c64(chosen).view(np.uint8),
        c64(rank_i, np.int64), c64(rank_j, np.int64), c64(cap_r, np.int64), c64(dem_r, np.int64),
        *(c64(x, np.int64) for x in (pot[0], pot[1], low[0], low[1])), float(scale), int(bits))
    x = chosen[near]
    if len(worse) or not ((rc == 0) & ~x).any():
        return worse, False
    a, b = rank_i[i[near]], rank_j[j[near]]
    # a node's arc to or from the sink has keyed reduced cost 0 iff its potential is the
    # sink's, in both parts: movable_pairs reads only those equalities
    pi_t, low_t = pot[2], low[2]
    at_i = ((pot[0] == pi_t) & (low[0] == low_t)).astype(np.int64) - 1
    at_j = ((pot[1] == pi_t) & (low[1] == low_t)).astype(np.int64) - 1
    move = movable(a, b, x, (rc != 0).astype(np.int64), at_i, at_j, 0, dem_r, cap_r)
    return worse, bool(move.any())
