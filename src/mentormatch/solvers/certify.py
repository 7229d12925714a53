"""The ``"flow"`` solver, and its certified sparse path on the complete candidate set: solve on
each mentee's best pairs, then prove the result optimal for *every* candidate pair with LP dual
prices.

One loop, two checkers
----------------------
The rounds (flow, prices, check every pair, add the violators, repeat; then the tie rule and
the bound) are written once, in :func:`mentormatch.solvers.rounds.certified_rounds`. A pair
source brings its seeding and its **checker**, the one step that differs:

- here, the complete candidate set or a dense matrix or a block scorer (:class:`RowsChecker`):
  seeded with each mentee's ``k`` best pairs (:func:`mentormatch.solvers.sparse._top_k`),
  checked by a pass over every block of mentee rows (:func:`mentormatch.solvers.sparse._check`);
- the bounds (:mod:`mentormatch.solvers.bounded`): seeded by a first pass ranked by a
  sub-market's prices, checked on an upper bound with exact scores only where it does not
  clear a pair, with warm repairs of the flow.

Why it is exact
---------------
After the locks are taken out (capacities ``c_j`` and demands ``d_i`` reduced), the LP
relaxation of the assignment problem and its dual are::

    max  sum_ij s_ij x_ij                    min  sum_i d_i u_i + sum_j c_j p_j + sum_ij w_ij
    s.t. sum_j x_ij <= d_i   (u_i >= 0)      s.t. u_i + p_j + w_ij >= s_ij   for every pair (i, j)
         sum_i x_ij <= c_j   (p_j >= 0)           u, p, w >= 0
         0 <= x_ij <= 1      (w_ij >= 0)

The sparse set ``E'`` (each mentee's ``k`` best pairs, plus pairs added in later rounds) is
solved exactly by min-cost flow (:func:`mentormatch.solvers.flow.solve_arrays`). Its node
potentials ``pi`` (shortest distances in the residual network, integer costs, so exact) give
prices ``u_i = max(0, pi_i - K)`` and ``p_j = max(0, K - pi_j)`` with ``u_i + p_j >= s_ij`` on
every unchosen pair of ``E'`` (up to the rounding of the integer costs) and ``w_ij =
max(0, s_ij - u_i - p_j)`` on the chosen pairs. Then every candidate pair outside ``E'`` is
checked for ``s_ij - p_j - u_i <= tol``. Pairs that violate it are added to ``E'`` and the
sparse problem is solved again; when none does, weak duality gives for *any* feasible
assignment ``x``::

    sum s x  <=  sum_i d_i u_i + sum_j c_j p_j + sum_chosen w_ij + eps * n_max

with ``eps`` the largest ``s_ij - u_i - p_j`` over unchosen pairs (``<= tol``) and ``n_max``
the most pairs any assignment can hold. That right-hand side (plus the locked pairs' scores) is
``Solution.bound``; the objective equals it up to the integer-cost rounding, and
``certificate["holds"]`` is True. The potentials are computed by a vectorised Bellman-Ford on
the small residual network only, in alternating mentor/mentee sweeps (no loop over pairs;
:mod:`mentormatch.solvers.duals`).

**coverage_first.** The network then splits each mentee's source arc in two, the first unit
weighted by ``W`` (:func:`mentormatch.solvers.flow.solve_arrays`); the LP gains ``y_i <= 1``
(the first unit, worth ``W``) and ``z_i <= d_i - 1`` with ``sum_j x_ij = y_i + z_i``, whose dual
leaves the mentee's price ``u_i`` free (one price for the node, the two arcs' own duals
``max(0, W + u_i)`` and ``max(0, u_i)``). The check of every pair is the same ``s_ij - u_i - p_j
<= tol``; only the dual objective changes, derived in :func:`mentormatch.solvers.duals.prices`
(each mentee's term maximised over its number of mentors), and the bound reported is that
objective less ``W`` per matched mentee: a bound on the total of any assignment that matches
as many mentees, which the certificate proves is the most.

The same path serves a dense score matrix or a scorer called block by block of mentee rows
(:func:`solve_scored`), so that 100,000 x 20,000 candidates never need to exist at once.
"""
from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from ..errors import Conflict, InfeasibleError
from ..pairs import Candidates
from .base import AssignmentProblem, Solution, SolverOptions, finish, gap_message
from .flow import SPARSE_THRESHOLD, apply_locks, check_supported, network, solve_flow
from .quantize import coverage_weights, integer_costs
from .rounds import STOPPED, Outcome, ceiling_from_best, certified_rounds, stopped_bound, with_locks
from .sparse import (BlockScorer, _check, _PairRows, _ScoredRows, _Sparse, _top_k, default_top_k,
                     row_blocks)
from .ties import TIGHT_GAIN, canonical
from .timed import Timed
from .duals import potentials, prices, start_from_prices  # noqa: F401  (also imported from here)

log = logging.getLogger(__name__)


class RowsChecker:
    """The complete candidate set's (or a block scorer's) checker for the rounds
    (:class:`mentormatch.solvers.rounds.Checker`): every pair, block by block of mentee rows
    (:func:`mentormatch.solvers.sparse._check`), the locks excluded; the tie rule's
    maybe-tight pairs are gathered in the same pass."""

    method = "sparse_min_cost_flow+dual_check"
    ties = True
    ranks = None

    def __init__(self, src, excl_i: np.ndarray, excl_col: np.ndarray, progress: bool):
        self.src, self.excl_i, self.excl_col, self.progress = src, excl_i, excl_col, progress
        self.width = src.width
        self.blocks = row_blocks(src.n_mentees, src.width)
        self.checked = 0
        self.near = None  # the last check's maybe-tight pairs
        self.last = None  # the last check's prices (u, p) and its largest s - u - p
        self.best = None  # each row's best usable score (the first sparse set's), once known

    def check(self, u, p, chosen: _Sparse, tol: float, per_row: int):
        ex_i = np.concatenate([self.excl_i, chosen.i])
        ex_c = np.concatenate([self.excl_col, chosen.col])
        viol, eps, self.checked, self.near = _check(self.src, self.blocks, u, p, ex_i, ex_c, tol, self.progress,
                                                    per_row=per_row, tight=TIGHT_GAIN * tol)
        self.last = (u, p, eps)
        return viol, eps

    def ceiling(self, u, p):
        """Per row, at least ``s - u - p`` on every unchosen usable pair: the last check's
        largest violation when ``(u, p)`` are the prices it checked (the same arrays); and,
        once the first sparse set gave each row's best usable score ``b_i`` (:attr:`best`),
        ``b_i - u_i - min_j p_j`` over the mentors with places (``s_ij <= b_i``, ``p_j >= min
        p``), which needs no check: a flow stopped before its first check still has a bound.
        None when neither is known."""
        out = None if self.best is None else ceiling_from_best(self.best, u, p)
        if self.last is not None and self.last[0] is u and self.last[1] is p:
            eps = np.full(self.src.n_mentees, self.last[2])
            out = eps if out is None else np.minimum(out, eps)
        return out

    def tight(self, u, p, chosen: _Sparse, gain: float) -> _Sparse:
        return self.near  # (gathered by the check just before, at ``TIGHT_GAIN * tol``)

    def tied(self, ties) -> None:
        pass

    def stop(self, new, size: int) -> bool:
        return False  # (a caller's deadline: :class:`~mentormatch.solvers.timed.Timed` around it)

    def record(self, cert: dict, stage: str) -> None:
        if stage == "holds":
            cert["pairs_checked"] = self.checked

    def note(self) -> str:
        return f"{self.checked} candidate pairs checked"


def _certified(src, cap: np.ndarray, dem: np.ndarray, excl_i: np.ndarray, excl_col: np.ndarray,
               options: SolverOptions, cover: bool = False, deadline: float | None = None) -> Outcome:
    """Solve the free part exactly on a sparse set, growing it until the duals certify it:
    each mentee's ``k`` best pairs, then :func:`mentormatch.solvers.rounds.certified_rounds`
    with a :class:`RowsChecker`. ``cover``: the switch ``coverage_first`` (the most mentees,
    then the largest total), turned here into the flows' weight per mentee
    (:func:`mentormatch.solvers.quantize.coverage_weights`).
    ``deadline`` (``time.perf_counter``; None: none): no flow and no check starts that would
    end past it, judged by the last of its kind (:class:`~mentormatch.solvers.timed.Timed`);
    the rounds then stop uncertified with ``certificate["timed_out"]`` and, once a check has
    run, a bound (:func:`mentormatch.solvers.rounds.stopped_bound`: the check's largest
    violation on every row); with no flow at all, no pair chosen and the bound of each row's
    best pair. A block scorer's first pass (each mentee's best pairs) reads no block past the
    deadline: the rows it did not read are bounded by the scorer's ``score_ceiling`` (no pair
    scores more; :class:`mentormatch.pipeline.blocks._BlockScorer`'s is the sum of the positive
    weights, as for a stopped preparation, :mod:`mentormatch.pipeline.stopped`), else no bound."""
    say = log.info if options.progress else log.debug
    k = options.top_k if options.top_k is not None else default_top_k(cap, dem)
    if k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")
    rows = RowsChecker(src, excl_i, excl_col, options.progress)
    checker = rows if deadline is None else Timed(rows, deadline)
    t0 = time.perf_counter()
    # a block scorer's pass scores its pairs: none is read past the deadline (_Until)
    reading = _Until(rows.blocks, deadline) if deadline is not None and callable(
        getattr(src, "score", None)) else None
    sp = _top_k(src, rows.blocks if reading is None else reading, k, cap, dem, excl_i, excl_col,
                options.progress, cover)
    say("sparse set: %d pairs (top %d per mentee) in %.2fs", len(sp.i), k, time.perf_counter() - t0)
    # each row's best usable pair is in ``sp`` (``_top_k``): the ceiling of a stop before a check
    best = np.full(len(dem), -np.inf)
    np.maximum.at(best, sp.i, sp.s)
    if reading is not None and reading.cut is not None:  # rows not read: the scorer's ceiling
        best[reading.cut:] = getattr(src.score, "score_ceiling", np.inf)  # (inf: no bound)
    rows.best = best
    if deadline is not None and checker.late():  # before the first flow (the rounds look after it)
        # with u = p = 0, a bound
        bound = stopped_bound(best, 0.0, dem, int(min(dem.sum(), cap.sum())))
        return Outcome(sp, np.zeros(len(sp.i), bool), False,
                       {"method": checker.method, "top_k": k, "pairs_in_sparse": len(sp.i),
                        "rounds": 0, "holds": False, "timed_out": True,
                        "rows_read": len(dem) if reading is None or reading.cut is None
                        else int(reading.cut)}, bound)
    weights = coverage_weights(cap, dem, excl_i) if cover else None  # (locked mentees: matched)
    return certified_rounds(sp, cap, dem, checker, options, k, say=say, cover=weights)


class _Until:
    """The blocks ``(a, b)`` of a pass, none begun at or past ``deadline`` (a
    ``time.perf_counter`` reading); ``cut``: the first row not read (None: every row was)."""

    def __init__(self, blocks, deadline: float):
        self.blocks, self.deadline, self.cut = blocks, deadline, None

    def __iter__(self):
        for a, b in self.blocks:
            if time.perf_counter() >= self.deadline:
                self.cut = a
                return
            yield a, b


def solve_sparse_certified(problem: AssignmentProblem, options: SolverOptions,
                           started: float, deadline: float | None = None) -> Solution:
    """The ``"flow"`` solver on a large candidate set: see the module docstring.

    Returns status ``"optimal"`` only when the certificate holds; with
    ``options.certify=False`` the sparse optimum comes back as ``"feasible"`` with no bound.
    ``coverage_first`` counts mentees (:func:`mentormatch.solvers.flow.solve_arrays`): the
    bound is then on the total of any assignment matching as many mentees.
    ``deadline`` (a ``time.perf_counter`` reading; None: none): a caller's time limit, the
    outer stop. No flow (and no check of every pair) starts that would end past it: the answer
    is then ``"feasible"``, the last flow's assignment (the locks alone when no flow ran), with
    ``certificate["timed_out"]`` and a bound once a check of every pair has run (:func:`_certified`).
    """
    lock_pos, cap, dem = apply_locks(problem)
    src = _PairRows(problem.pairs, problem.score)
    li = problem.pairs.mentee[lock_pos]
    lcol = lock_pos - src.starts[li]
    out = _certified(src, cap, dem, li, lcol, options, problem.coverage_first, deadline)
    free_chosen = src.position(out.sparse.i[out.chosen], out.sparse.col[out.chosen])
    chosen = np.concatenate([lock_pos, free_chosen])
    status = "optimal" if out.optimal else "feasible"
    note = ""
    if out.certificate.get("timed_out"):  # the user's limit quoted where there is one
        note = (STOPPED if options.time_limit is None else
                gap_message(False, True, float(options.time_limit), STOPPED))
        out.certificate["message"] = note
    sol = finish(problem, chosen, status, started, "flow", None, out.certificate, note)
    sol.prices = out.prices
    if out.bound is not None:
        sol.bound = float(problem.score[lock_pos].sum()) + out.bound
    return sol


def places_left(li, lj, ls, cap_f, dem, n: int, m: int, ineligible: str):
    """The capacities and demands that the locked pairs (mentees ``li``, mentors ``lj``,
    scores ``ls``) leave, through the same checks as the pair path: a lock scoring ``-inf`` is
    infeasible (``ineligible`` says why, in words), a repeated one is an error."""
    if not len(li):  # no locks: what apply_locks would return, without building a problem
        return np.round(cap_f).astype(np.int64), np.round(np.asarray(dem)).astype(np.int64)
    if np.any(~np.isfinite(ls)):
        bad = int(np.flatnonzero(~np.isfinite(ls))[0])
        raise InfeasibleError(Conflict("eligibility", f"locked pair (mentee {li[bad]}, mentor "
                                       f"{lj[bad]}) {ineligible}", "unlock it"))
    lock_pairs = Candidates.from_arrays(li, lj, n, m)
    if len(lock_pairs) != len(li):
        raise ValueError("locked pairs must be distinct")
    order = np.argsort(li * m + lj)
    _, cap_left, dem_left = apply_locks(AssignmentProblem(lock_pairs, np.asarray(ls)[order], cap_f,
                                                          dem, locked=np.ones(len(li), dtype=bool)))
    return cap_left, dem_left


def solve_scored(score: np.ndarray | BlockScorer, capacity, *, n_mentees: int | None = None,
                 n_mentors: int | None = None, demand=None, locked=None,
                 options: SolverOptions | None = None, cover: bool = False,
                 deadline: float | None = None) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment from a dense score matrix or a block scorer, without materialising the
    full candidate set.

    Solves ``max sum s_ij x_ij`` subject to ``sum_i x_ij <= capacity[j]``, ``sum_j x_ij <=
    demand[i]``, ``x_ij = 1`` on locked pairs, ``x_ij in {0, 1}``, ``x_ij = 0`` where
    ``s_ij = -inf`` (ineligible), by the sparse certified path of ``"flow"``.

    Parameters
    ----------
    score : ndarray (n_mentees x n_mentors) or callable
        Scores, mentees x mentors, ``-inf`` where ineligible; or ``score(rows: slice)`` returning
        that block of rows (then ``n_mentees`` and ``n_mentors`` are required). Never modified.
    capacity : array of whole numbers, one per mentor.
    demand : array of whole numbers, one per mentee, default 1.
    locked : (mentee_index, mentor_index) arrays, optional; pairs forced into the assignment.
    options : SolverOptions, optional
        ``top_k``, ``certify`` and ``progress`` apply.
    cover : bool
        The switch ``coverage_first``: the most matched mentees first (each counted once,
        whatever its demand), then the largest total; ``solution.bound`` bounds the total of
        any assignment that matches as many.
    deadline : float, optional
        A caller's ``time.perf_counter`` deadline: no flow and no check starts that would end
        past it (``"feasible"``, ``certificate["timed_out"]``, a bound once a check has run;
        :func:`solve_sparse_certified`).

    Returns
    -------
    problem : AssignmentProblem
        The final sparse candidate set (the locks, each mentee's best pairs and the pairs the
        certificate added), to which ``solution.chosen`` refers.
    solution : Solution
        ``status="optimal"`` when ``solution.certificate["holds"]``: optimal for the full set.
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    if not callable(score):
        score = np.asarray(score)
        n_mentees, n_mentors = score.shape
    if n_mentees is None or n_mentors is None:
        raise ValueError("a block scorer needs n_mentees and n_mentors")
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (n_mentors,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {n_mentors} whole numbers >= 0")
    dem = (np.ones(n_mentees, np.int64) if demand is None
           else np.asarray(demand, dtype=np.int64))
    src = _ScoredRows(score, n_mentees, n_mentors)
    if locked is not None:
        li, lj = (np.asarray(x, dtype=np.int64) for x in locked)
    else:
        li = lj = np.zeros(0, np.int64)
    ls = np.zeros(len(li))
    for r in np.unique(li):  # a few rows: the locks' scores
        row = src.block(int(r), int(r) + 1)[0][0]
        ls[li == r] = row[lj[li == r]]
    cap_left, dem_left = places_left(li, lj, ls, cap_f, dem, n_mentees, n_mentors,
                                     "is ineligible (score -inf)")
    out = _certified(src, cap_left, dem_left, li, lj, options, cover, deadline)
    return with_locks(out, li, lj, ls, cap_f, dem, started)


def solve_flow_any(problem: AssignmentProblem, options: SolverOptions,
                   deadline: float | None = None) -> Solution:
    """The ``"flow"`` solver: exact by min-cost flow, on every pair up to ``SPARSE_THRESHOLD``
    pairs, above it on each mentee's best pairs with the dual certificate over every pair
    (:func:`solve_sparse_certified`). Both are exact; the threshold is chosen by measured cost.
    ``coverage_first`` (any demand) is the flow that counts mentees
    (:func:`mentormatch.solvers.flow.solve_arrays`) on either path, with the same tie rule.
    ``deadline``: a caller's (:func:`solve_sparse_certified`); past it no flow starts on
    either path.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 2.0]), np.array([1.0]))
    >>> solve_flow_any(p, SolverOptions()).chosen
    array([1])
    """
    big = len(problem.pairs) > SPARSE_THRESHOLD
    late = deadline is not None and time.perf_counter() >= deadline
    if options.top_k is not None or big or late:  # (late: no flow, the locks alone)
        check_supported(problem, "flow")
        return solve_sparse_certified(problem, options, time.perf_counter(), deadline)
    sol = solve_flow(problem, options)
    if sol.status != "optimal":
        return sol
    return _with_tie_rule(problem, sol)


def _with_tie_rule(problem: AssignmentProblem, sol: Solution) -> Solution:
    """The optimum on every pair, replaced by the one the tie rule picks
    (:mod:`mentormatch.solvers.ties`; the potentials from :func:`prices`)."""
    lock_pos, cap, dem = apply_locks(problem)
    free_idx = np.flatnonzero(~problem.locked)
    pairs = problem.pairs
    i, j, s = pairs.mentee[free_idx], pairs.mentor[free_idx], problem.score[free_idx]
    # (none for a mentee a lock matched)
    cover = coverage_weights(cap, dem, pairs.mentee[lock_pos]) if problem.coverage_first else None
    used, scale, _ = network(i, j, s, cap, dem, cover)
    net = free_idx[used]
    i, j, s = i[used], j[used], s[used]
    was = np.isin(net, sol.chosen)
    cost = integer_costs(s, np.ones(len(s), bool), scale)
    pot = prices(i, j, cost, was, s, dem, cap, scale, cover=cover)[4]
    picked, info = canonical(i, j, s, was, cap, dem, pot, scale, cover=cover)
    chosen = np.sort(np.concatenate([lock_pos, net[picked]]))
    cert = {**(sol.certificate or {}), "ties": info}
    return dataclasses.replace(sol, chosen=chosen, objective=float(problem.score[chosen].sum()),
                               certificate=cert)

