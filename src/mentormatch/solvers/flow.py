"""Exact assignment by min-cost flow (OR-Tools), the default solver ``"flow"``.

The problem (see :mod:`mentormatch.solvers.base`), for unit loads and whole capacities::

    maximise    sum_k s_k x_k
    subject to  sum_{k: mentor[k]=j} x_k <= c_j      (mentor capacity)
                sum_{k: mentee[k]=i} x_k <= d_i      (mentee demand: d_i distinct mentors)
                x_k = 1 for locked pairs,  x_k in {0, 1}

is a min-cost flow on the network::

    source --(cap d_i, cost 0)--> mentee i --(cap 1, cost -round(s_k * SCALE))--> mentor j
           --(cap c_j, cost 0)--> sink,        source --(cap D, cost 0)--> sink  (bypass)

with supply ``D = sum_i d_i`` at the source. The bypass carries the flow of every unmatched slot at
no cost, so the solver maximises the total score over *any* number of matched pairs. The
constraint matrix is totally unimodular, so the integral optimum is the LP optimum.

Conventions
-----------
* **Non-positive scores.** Without ``coverage_first`` a pair with ``s_k <= 0`` cannot raise the
  total, so it is left out of the network: pairs of score exactly 0 are never chosen (the
  documented tie rule: "adds nothing, not used"). With ``coverage_first`` every eligible pair is
  kept (a pair of score <= 0 may be the one that matches a mentee).
* **coverage_first counts mentees, in the network**: each mentee's arc from the source is
  split in two, the first unit weighted by ``Wq`` (the weight and why it is exact:
  :mod:`mentormatch.solvers.quantize`). The bypass stays: a pair that lowers the total and
  matches no new mentee is not taken.

  **The type ``cover``, everywhere below the entry points** (this function, the potentials
  and prices of :mod:`mentormatch.solvers.duals`, the tie rule, the certified rounds, the warm
  repair of :mod:`mentormatch.solvers.warm`): ``None`` without ``coverage_first``, else an int64
  array with one integer weight per mentee, ``Wq`` for a mentee the weight applies to and 0 for
  one a lock matched already (it counts as matched; its free pairs add to the total only).
  :func:`coverage_weights` builds it, once per solve, from the places left after the locks; a
  ``cover`` array, even all 0, means every eligible pair is in the network. The entry points
  (``solve_scored``, ``solve_bounded``: ``cover=True``; ``AssignmentProblem.coverage_first``)
  take the user's switch and convert it there.
* **Ties.** This function returns whichever optimum OR-Tools reaches (deterministic for a
  given input). The ``"flow"`` solver and every pair source then apply the tie rule of
  :mod:`mentormatch.solvers.ties`: among the optima of the quantized problem, the one of least
  seeded key sum over ids, the same whatever the source or the rows' order.
* **Integer costs: one quantization for every source**, a power of two from the largest
  score's (:mod:`mentormatch.solvers.quantize`): every source agrees on which scores are equal,
  and scaling every score by a power of two leaves the pairs unchanged. ``Solution.bound =
  objective + n_max / scale`` and ``Solution.certificate`` records the scale and that bound.
* **Locks** are taken out first (capacity and demand reduced), then added back. A lock beyond a
  mentor's capacity or a mentee's demand raises :class:`~mentormatch.errors.InfeasibleError`.
* **Scale.** On large candidate sets (more than :data:`SPARSE_THRESHOLD` pairs, or whenever
  ``SolverOptions.top_k`` is set) the solver works on each mentee's ``k`` best pairs and proves
  the result optimal for the full set with dual prices (:mod:`mentormatch.solvers.certify`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow


from .base import AssignmentProblem, Solution, SolverOptions, finish
from .blame import Diagnosed
from .diagnose import lock_conflicts
from .quantize import choose_scale, coverage_scale, coverage_weights, integer_costs, network_size

log = logging.getLogger(__name__)

#: Candidate sets larger than this use the sparse, certified path.
#: Chosen by measured cost, not by what may be asked (both are exact): at 2,000 x 500 with
#: capacity 4 (1M pairs) the sparse path takes 0.04 s against 0.43 s for the flow on every pair,
#: and lap.lapjv 0.12 s on the capacity-expanded matrix; at 1,000 x 250, 0.016 s against 0.08 s.
SPARSE_THRESHOLD = 20_000


def check_supported(problem: AssignmentProblem, solver: str) -> None:
    """Raise ``ValueError`` when ``problem`` needs more than a plain flow/assignment model.

    Side constraints are never silently ignored, and fractional loads or capacities need the
    CP-SAT model.
    """
    active = problem.side.active()
    if active:
        raise ValueError(
            f"solver {solver!r} cannot impose the side constraints {', '.join(active)}; "
            "use solver='cpsat'")
    if not problem.integral:
        raise ValueError(
            f"solver {solver!r} needs every mentee load equal to 1 and whole-number mentor "
            "capacities (got fractional loads or capacities); use solver='cpsat'")
    if np.any(problem.capacity < 0):
        j = int(np.flatnonzero(problem.capacity < 0)[0])
        raise ValueError(f"capacity of mentor {j} is {problem.capacity[j]}, expected >= 0")
    demand = np.asarray(problem.demand)
    if np.any(demand < 0) or np.any(demand != np.round(demand)):
        i = int(np.flatnonzero((demand < 0) | (demand != np.round(demand)))[0])
        raise ValueError(f"demand of mentee {i} is {demand[i]}, expected a whole number >= 0")
    if not np.all(np.isfinite(problem.score)):
        k = int(np.flatnonzero(~np.isfinite(problem.score))[0])
        raise ValueError(
            f"score of pair {k} (mentee {problem.pairs.mentee[k]}, mentor "
            f"{problem.pairs.mentor[k]}) is {problem.score[k]}; ineligible pairs must be absent "
            "from the candidate set, not scored -inf or nan")


def apply_locks(problem: AssignmentProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the locked pairs, and the capacity and demand they leave (int64).

    Raises
    ------
    InfeasibleError
        When the locks give a mentor more mentees than their capacity, or a mentee more mentors
        than their demand: a :class:`~mentormatch.solvers.blame.Diagnosed` error holding the
        diagnosis's ``locked`` findings (every such person, by index, with the numbers).
    """
    pairs = problem.pairs
    lock_pos = np.flatnonzero(problem.locked)
    cap = np.round(problem.capacity).astype(np.int64)
    dem = np.round(np.asarray(problem.demand)).astype(np.int64)
    by_mentor = np.bincount(pairs.mentor[lock_pos], minlength=pairs.n_mentors)
    by_mentee = np.bincount(pairs.mentee[lock_pos], minlength=pairs.n_mentees)
    if np.any(by_mentor > cap) or np.any(by_mentee > dem):
        # the diagnosis's own findings, by index in ``problem``: the edge holding the ids names
        # the people (blame.named), on every source and in "why not X" alike
        raise Diagnosed(lock_conflicts(problem), problem)
    return lock_pos, cap - by_mentor, dem - by_mentee


@dataclass
class FlowResult:
    """The optimum of one flow network over explicit pair arrays."""

    chosen: np.ndarray  # bool per input pair
    optimal: bool
    status: str
    scale: float
    cost: np.ndarray  # int64 cost per input pair (-round(score * scale)); 0 for dropped pairs
    used: np.ndarray  # bool per input pair: in the network at all
    n_max: int
    cover: np.ndarray | None = None  # coverage_first's weight per mentee (module docstring)


def network(mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray, cap: np.ndarray, dem: np.ndarray,
            cover: np.ndarray | None = None) -> tuple[np.ndarray, float, int]:
    """The pairs in the network of :func:`solve_arrays` (bool per pair), the scale of its
    integer costs and ``n_max``, the most pairs any solution can hold. ``cover``: the weight
    per mentee or None (module docstring); a weight above what :func:`coverage_weights` gives
    for these places is refused (it could overflow int64)."""
    used = np.ones(len(score), dtype=bool) if cover is not None else score > 0
    used &= (dem[mentee] > 0) & (cap[mentor] > 0)
    n_used = int(used.sum())
    n_max = int(min(int(dem.sum()), int(cap.sum()), n_used))
    max_abs = float(np.abs(score[used]).max()) if n_used else 0.0
    # the scale from the places (not the pairs held), so that every source finds the same one
    n_nodes, places = network_size(cap, dem)
    if cover is None:
        return used, choose_scale(max_abs, n_nodes, places), n_max
    scale, wq = coverage_scale(max_abs, n_nodes, places)
    if len(cover) != len(dem) or int(np.max(cover, initial=0)) > wq or int(np.min(cover, initial=0)) < 0:
        raise ValueError(f"cover must hold {len(dem)} integer weights in 0..{wq} (coverage_weights), got "
                         f"{len(cover)} in {np.min(cover, initial=0)}..{np.max(cover, initial=0)}")
    return used, scale, n_max


def coverage_weight(res: FlowResult) -> float:
    """The certificate's ``coverage_weight``: the largest weight of ``res.cover`` in score units."""
    return float(np.max(res.cover, initial=0)) / res.scale


def solve_arrays(mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray, cap: np.ndarray,
                 dem: np.ndarray, cover: np.ndarray | None = None, *,
                 common_factor: bool = False) -> FlowResult:
    """Solve ``max sum s x`` s.t. mentor loads ``<= cap``, mentee degrees ``<= dem``, ``x`` in {0,1}.

    Parameters
    ----------
    mentee, mentor : ndarray of int64
        Pair endpoints (``n_mentees = len(dem)``, ``n_mentors = len(cap)``), distinct pairs.
    score : ndarray of float64
        Score per pair, finite.
    cap, dem : ndarray of int64
        Remaining capacity per mentor and demand per mentee (>= 0).
    cover : ndarray of int64, optional
        ``coverage_first``: the weight per mentee (module docstring; :func:`coverage_weights`).
        Maximise the number of matched mentees first (each mentee's source arc split in two,
        the first unit carrying its weight), then the score. None: the score alone.
    common_factor : bool
        Give OR-Tools the arc costs divided by their greatest common divisor: the same optimal
        assignments, and fewer cost-scaling phases when the scores sit on a few levels (ratings,
        quarters: 200 x 50 with 4 levels, 2,742 arcs, 2.7 ms of CPU to 0.6 ms; 500 x 125,
        9.5 ms to 2.4 ms). Which of several optima OR-Tools returns may differ, so only a
        caller that applies the tie rule (:mod:`mentormatch.solvers.ties`) to the result asks
        for it. ``FlowResult.cost`` stays the undivided costs.
    """
    n, m = len(dem), len(cap)
    used, scale, n_max = network(mentee, mentor, score, cap, dem, cover)
    weights = None if cover is None else np.asarray(cover, np.int64)
    idx = np.flatnonzero(used)
    total_dem = int(dem.sum())
    source, sink = n + m, n + m + 1
    n_nodes = n + m + 2
    for _attempt in range(6):
        cost = integer_costs(score, used, scale)
        smcf = min_cost_flow.SimpleMinCostFlow()
        ii = np.arange(n, dtype=np.int64)
        jj = np.arange(m, dtype=np.int64)
        tails = np.concatenate([np.full(n, source), mentee[idx], n + jj, [source]])
        heads = np.concatenate([ii, n + mentor[idx], np.full(m, sink), [sink]])
        # coverage_first: the first unit of a weighted mentee carries the weight
        first = dem if weights is None else np.where(weights > 0, np.minimum(dem, 1), dem)
        caps = np.concatenate([first, np.ones(len(idx), dtype=np.int64), cap, [total_dem]])
        costs = np.concatenate([np.zeros(n, np.int64) if weights is None else -weights, cost[idx],
                                np.zeros(m + 1, np.int64)])
        if common_factor:
            g = int(np.gcd.reduce(costs)) if len(costs) else 0
            if g > 1:
                costs = costs // g  # (exact: every cost is a multiple of g)
        if weights is not None:  # the other units, without the weight
            more = np.flatnonzero(dem > first)
            tails = np.concatenate([tails, np.full(len(more), source)])
            heads = np.concatenate([heads, more])
            caps = np.concatenate([caps, dem[more] - first[more]])
            costs = np.concatenate([costs, np.zeros(len(more), np.int64)])
        smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        supplies = np.zeros(n_nodes, dtype=np.int64)
        supplies[source], supplies[sink] = total_dem, -total_dem
        smcf.set_nodes_supplies(np.arange(n_nodes), supplies)
        status = smcf.solve()
        if status != smcf.BAD_COST_RANGE or weights is not None:
            break
        scale /= 64.0  # cannot happen with choose_scale's margins; kept as a safety net
    chosen = np.zeros(len(score), dtype=bool)
    optimal = status == smcf.OPTIMAL
    if optimal and len(idx):
        flows = smcf.flows(np.arange(n, n + len(idx)))
        chosen[idx[flows > 0]] = True
    return FlowResult(chosen, optimal, str(getattr(status, "name", status)), scale, cost, used,
                      n_max, weights)


def solve_flow(problem: AssignmentProblem, options: SolverOptions) -> Solution:
    """Maximise the total score of an assignment exactly by min-cost flow on every pair.

    The solver registered as ``"flow"`` (:mod:`mentormatch.solvers.flowsolver`) calls
    :func:`mentormatch.solvers.certify.solve_flow_any`, which calls this below
    ``SPARSE_THRESHOLD`` pairs and the sparse certified path above it. ``coverage_first`` (any
    demand) is the network that counts mentees (module docstring); the ``"flow"`` solver sends
    it through :func:`mentormatch.solvers.bottleneck.solve_held`, the scale path's flows.

    Parameters
    ----------
    problem : AssignmentProblem
        Unit loads, whole capacities, no side constraints (else ``ValueError`` pointing to
        ``solver="cpsat"``).
    options : SolverOptions
        ``top_k`` and ``certify`` steer the sparse path; ``progress`` logs its rounds.

    Returns
    -------
    Solution
        Status ``"optimal"`` only when OR-Tools reports OPTIMAL (and, on the sparse path, the
        dual certificate holds); ``bound`` is the objective plus the rounding-loss bound.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 2.0]), np.array([1.0]))
    >>> solve_flow(p, SolverOptions()).chosen
    array([1])
    """
    started = time.perf_counter()
    check_supported(problem, "flow")
    lock_pos, cap, dem = apply_locks(problem)
    pairs = problem.pairs
    free = ~problem.locked
    free_idx = np.flatnonzero(free)
    cover = coverage_weights(cap, dem, pairs.mentee[lock_pos]) if problem.coverage_first else None
    res = solve_arrays(pairs.mentee[free_idx], pairs.mentor[free_idx], problem.score[free_idx],
                       cap, dem, cover)
    chosen = np.concatenate([lock_pos, free_idx[res.chosen]])
    rounding = res.n_max / res.scale
    certificate = {"method": "min_cost_flow" + ("_coverage_first" if problem.coverage_first else ""),
                   "or_tools_status": res.status, "scale": res.scale,
                   "rounding_bound": rounding, "n_max": res.n_max,
                   "pairs_in_network": int(res.used.sum()), "locked": len(lock_pos),
                   "holds": res.optimal}
    if res.cover is not None:
        certificate["coverage_weight"] = coverage_weight(res)
    if not res.optimal:
        # cannot happen for this always-feasible network (x = locks only is feasible)
        return finish(problem, lock_pos, "feasible", started, "flow", None, certificate,
                      f"OR-Tools returned {res.status}; only the locked pairs are returned")
    sol = finish(problem, chosen, "optimal", started, "flow", None, certificate)
    sol.bound = sol.objective + rounding
    return sol

