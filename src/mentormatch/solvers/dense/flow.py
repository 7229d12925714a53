"""The flow of one round of :func:`mentormatch.solvers.dense.solve_dense`: the compiled
assignment flow (:mod:`mentormatch._native.assign`) where it was built, every demand is at
most 1 and the pairs are at most :data:`NATIVE_PAIRS`, else OR-Tools'
(:func:`mentormatch.solvers.flow.solve_arrays`). Both solve the same network with the same integer costs and return an optimum of it; which optimum, the tie rule
decides after (:mod:`mentormatch.solvers.ties`), so the pairs returned are the same. OR-Tools'
solve alone took 0.49 ms of CPU on ``assign()``'s 200 x 50 candidates (s22h8), more than
lap's whole call."""
from __future__ import annotations

import numpy as np

from ..._native import assign_kernel
from ..flow import FlowResult, network, solve_arrays
from ..quantize import integer_costs

#: Up to this many pairs the compiled flow runs; above, OR-Tools' (its cost scaling grows more
#: slowly than one shortest path per mentee). CPU time on ``assign()``'s first-round
#: candidates (uniform scores, capacity 4, 1 % forbidden; load 15-20): 500 x 125, 4,414 pairs,
#: 1.5 ms against 2.2; 2,000 x 500, 17,946 pairs, 10.8 against 12.6; 5,000 x 1,250, 45,121
#: pairs, 43.6 against 45.5; 10,000 x 2,500, 90,448 pairs, 228 against 138. The same pairs
#: either way (the tie rule): a choice of speed only.
NATIVE_PAIRS = 50_000
#: ``FlowResult.status`` and the certificate's ``flow`` of the compiled flow's answer (always
#: an optimum: the network is feasible with no pair chosen)
NATIVE_STATUS = "OPTIMAL"


def rounds_kernel():
    """The compiled module the rounds' flows run on, or None: read here at each call (tests
    patch ``assign_kernel`` on this module, and :mod:`.keyed` reads it through this)."""
    return assign_kernel()


def round_flow(mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray, cap: np.ndarray,
               dem: np.ndarray, *, common_factor: bool = False) -> tuple[FlowResult, str, tuple | None]:
    """An optimum of :func:`mentormatch.solvers.flow.solve_arrays`'s network (no
    ``coverage_first``), which flow found it (``"compiled"`` or ``"or-tools"``) and, from the
    compiled flow, the integer potentials that prove it (mentees', mentors', source's, sink's,
    as :func:`mentormatch.solvers.duals.potentials` gives them; None from OR-Tools, which
    exposes none). ``common_factor`` is OR-Tools' (its docstring); the compiled flow needs none.

    The compiled flow's network has no source: a mentee stays unmatched by an arc to the sink
    at cost 0. Giving the source the sink's potential makes its arcs' reduced costs those of
    the mentees' arcs to the sink, and the bypass's 0: every residual arc of the full network
    has a reduced cost >= 0 (an unmatched mentee's ``pi_t - pi_i >= 0``, a matched one's
    ``pi_i - pi_t >= 0``). Only the arcs of the network are covered: a pair of score <= 0 (or
    of a person with no place) is no arc, and the prices that :func:`~mentormatch.solvers.duals.prices_at`
    makes (``u, p >= 0``) give it no gain."""
    kernel = assign_kernel()
    if kernel is None or len(score) > NATIVE_PAIRS or int(np.max(dem, initial=0)) > 1:
        return (solve_arrays(mentee, mentor, score, cap, dem, common_factor=common_factor),
                "or-tools", None)
    used, scale, n_max = network(mentee, mentor, score, cap, dem)
    cost = integer_costs(score, used, scale)
    idx = np.flatnonzero(used)
    tails = mentee[idx]
    if len(tails) > 1 and not bool(np.all(tails[1:] >= tails[:-1])):
        idx = idx[np.argsort(tails, kind="stable")]  # the kernel takes the pairs by mentee
        tails = mentee[idx]
    n = len(dem)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=ptr[1:])
    got, pi_i, pi_j, pi_t = kernel.flow_assign(ptr, np.ascontiguousarray(mentor[idx], np.int64), cost[idx],
                                               np.ascontiguousarray(cap, np.int64),
                                               np.ascontiguousarray(dem, np.int64))
    chosen = np.zeros(len(score), dtype=bool)
    chosen[idx[got]] = True
    return (FlowResult(chosen, True, NATIVE_STATUS, scale, cost, used, n_max), "compiled",
            (pi_i, pi_j, pi_t, pi_t))
