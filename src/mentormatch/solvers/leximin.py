"""Leximin fairness (``"leximin"``): the most pairs, as for max-min
(:mod:`mentormatch.solvers.fair`), then the best sorted vector of scores.

**leximin** maximises the ascending sorted vector of the chosen pairs' scores
lexicographically among the assignments with ``M`` pairs: the worst pair as good as possible,
then the second worst, and so on. Equivalently (same length ``M``), with ``v_1 < v_2 < ...`` the
distinct scores and ``c_r`` the number of chosen pairs of score ``v_r``, it minimises
``(c_1, c_2, ...)`` lexicographically (the flows compare levels: integer keys of the scores,
:mod:`mentormatch.solvers.leximin_keys`, exact for scores with at most six decimals, and each
level within the 1e-6 gap of its least score otherwise, so that "optimal" holds to the gap).

On plain problems (unit loads, no side constraints) leximin is exact with network flows only,
on the free pairs (locked pairs add the same counts to every assignment):

1. ``M`` by a max-flow, then the max-min level ``t`` by a binary search over the distinct levels
   with a max-flow each; the pairs below ``t`` leave the network, and the last max-flow is the
   current flow ``x`` (``M`` units: source -> mentee -> mentor -> sink).
2. The levels are settled in ascending order. Invariant: every feasible flow of the current
   network has the leximin-optimal counts on the settled levels, and ``x`` is one of them.
   A pair at its bound in every such flow leaves the network (at 0: dropped; at 1: *forced*,
   moved into the node supplies). Let ``r`` be the lowest open level ``x`` uses; the open
   levels below it have minimum 0 (``x`` proves it) and are dropped.
3. Path search: drop the pairs of level ``r`` and re-route each unit ``x`` has on them along a
   residual path mentee -> mentor (breadth-first from both ends). If all go through, the
   minimum at ``r`` is 0. If the level has a single pair and its unit cannot be re-routed, no
   flow avoids it (a flow without it would differ from ``x`` by a circulation containing such
   a path): the minimum is 1 and the pair is forced.
4. Otherwise the units left on the level are usually its least count: Bellman-Ford with cost
   1 on the level proves it (optimal potentials: no negative cycle), or finds a negative cycle,
   which is cancelled (one unit fewer) before trying again (unrecorded runs stop at the first
   unit that cannot go round, and cancel no cycle, on levels of many units). Past ``_CANCEL``
   cycles (or with path searches off) a min-cost flow (OR-Tools) minimises the counts of a
   window of levels from ``r`` at once, lexicographically, with mixed-radix weights (level
   ``k`` weighs
   ``prod_{k' > k} (N_k' + 1)``, ``N`` bounding its count, as many levels as int64 costs
   allow). Optimal potentials (Bellman-Ford on the residual network) give reduced costs; by
   complementary slackness every optimal flow has the pairs of reduced cost ``> 0`` at 0 and
   those ``< 0`` at 1, and every flow respecting that is optimal, so fixing them keeps the
   invariant with the window settled.

5. When no open level is used, the network's flows are exactly the leximin-optimal assignments
   (each step keeps every optimal one and only those). The tie rule
   (:func:`mentormatch.solvers.ties.canonical`, keys over the ids' seeded ranks) picks one of
   them, a choice that depends on that set only, so the pair sources pick the same pairs.

With ``record=True`` the steps are kept as a lexicographic dual certificate
(:mod:`mentormatch.solvers.leximin_steps`), against which pairs the run did not hold are
judged: that is how :mod:`mentormatch.solvers.leximin_source` proves leximin over every pair of
the scale path's sources without holding them.

Typical cost (one core; uniform scores, capacity ``5 = n / m``, complete eligibility): 1,000
mentees x 200 mentors in about 1 s with six-decimal scores (every level distinct: mostly path
searches), 0.2-0.3 s with two decimals; 2,000 x 400 with six decimals in about 3 s (CPU).

**coverage_first** with a mentee needing several mentors: the most matched mentees first,
then the most pairs, then the leximin order (then the total, which these fix). The source is
split in two nodes: ``F``, supply ``C`` (the most mentees, a max-flow with each mentee's supply
cut to 1), with an arc of capacity 1 to each mentee no lock matched, and ``R``, supply ``M - C``,
with arcs for each mentee's other places. A flow of this network is an assignment matching
``C`` mentees with ``M`` pairs, and every such assignment is one (a mentee with an ``R`` unit
and no ``F`` unit would make ``C + 1``). ``M`` stays the most pairs: augmenting paths from a
flow matching ``C`` mentees never empty a source arc, so some assignment has both maxima. The
max-min level is searched with the max-flows of this network
(:func:`~mentormatch.solvers.leximin_graph.cover_max_flow`); the steps below then run on it
unchanged (a reroute may pass through ``F`` or ``R``: another mentee takes the first unit), and
the tie rule's network counts mentees (:class:`~mentormatch.solvers.leximin_steps._Final`).

With fractional loads or side constraints leximin runs on CP-SAT, one minimisation per used
level (:mod:`mentormatch.solvers.leximin_cp`): meant for small instances.

With demands above one, the vectors run over pairs, not mentees. The status is ``"optimal"``
when every step was proven optimal.

**Where it is** (split in s20, one concern a module, no behaviour change): this module is the
solver ``"leximin"`` (flows on plain problems, CP-SAT otherwise) and the statement of the
method; :mod:`~mentormatch.solvers.leximin_flow` runs the flow leximin on a held problem (step 1,
the network, step 5 and the answer); :mod:`~mentormatch.solvers.leximin_levels` settles the
levels (steps 2-4) and holds the tuning switches (``_WINDOW_LIMIT``, ``_REROUTE``,
``_RECORD_WINDOW``, ``_CANCEL``, ``_FEW_UNITS``); :mod:`~mentormatch.solvers.leximin_graph`
the max-flows and residual searches; :mod:`~mentormatch.solvers.leximin_keys` the levels'
integer keys; :mod:`~mentormatch.solvers.leximin_steps` the recorded
certificate and the final network; :mod:`~mentormatch.solvers.leximin_source` leximin over
every pair of a pair source; :mod:`~mentormatch.solvers.leximin_cp` the CP-SAT steps.
"""
from __future__ import annotations

import numpy as np

from . import register
from .base import AssignmentProblem, Solution, SolverOptions
from .fair import answered
from .leximin_cp import _cp_leximin
from .leximin_flow import _flow_leximin

__all__ = ["solve_leximin"]


def solve_leximin(problem: AssignmentProblem, options: SolverOptions | None = None,
                  bonus: np.ndarray | None = None) -> Solution:
    """Solver ``"leximin"``: most pairs, then the lexicographically best sorted score vector.

    See the module docstring for the problem, the method and its cost. Works with every side
    constraint that :mod:`~mentormatch.solvers.cpsat` models. ``bonus`` (one number per pair,
    :mod:`mentormatch.pipeline.bonus`): in the objective only, the sorted vector of
    ``score + bonus``; on a plain problem no constraint reads the scores, so the flows run on
    ``score + bonus``, else the CP-SAT levels read ``score + bonus`` and the side constraints
    the plain scores. The returned ``objective`` is then on ``score + bonus``.

    Returns
    -------
    Solution
        ``status`` ``"optimal"`` when every step was proven, ``"feasible"`` when the time limit
        stopped it (``options.time_limit``; default ``SEARCH_TIME_LIMIT``, 60 s, for the whole
        CP-SAT sequence, none for the flows of plain problems); the certificate holds
        ``levels`` (score -> number of chosen pairs, ascending), ``solves`` (CP-SAT solves,
        or min-cost flows on plain problems, which also report ``max_flows`` and
        ``path_searches``), ``matched`` and ``proven_below`` (when stopped early: the
        counts of the levels below this score are proven optimal).

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 3), np.array(
    ...     [0.9, 0.6, 0.1, 0.8, 0.5, 0.2, 0.7, 0.1, 0.3]), np.ones(3))
    >>> sorted(solve_leximin(p).chosen.tolist())
    [1, 3, 8]
    """
    options = options or SolverOptions()
    return answered(problem, options, bonus, "leximin",
                    lambda goal, started: _flow_leximin(goal, started, options.time_limit,
                                                        deadline=options.deadline(started)),
                    lambda started: _cp_leximin(problem, options, started, bonus))


register("leximin", solve_leximin)
