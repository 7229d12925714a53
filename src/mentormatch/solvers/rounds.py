"""The certified rounds of the plain flow, written once for every pair source.

Solve on a sparse set of pairs, price every pair against the dual prices, add the violators,
repeat (DESIGN.md, "The engine")::

    sparse set  ->  flow (or a repair of the last round's optimum)  ->  prices (Bellman-Ford,
    warm)  ->  the checker prices every pair: violators?  --yes-->  merge them, next round
                                                           --no--->  the tie rule's maybe-tight
    pairs (violators again if one has a positive integer gain)  ->  bound
    ``dual_obj + eps * n_max``  ->  certificate

Why the bound holds for every pair is stated in :mod:`mentormatch.solvers.certify`. What
differs between sources is only how "price every pair" is done, and that is the **checker**
(:class:`Checker`):

- the complete candidate set or a block scorer (:class:`mentormatch.solvers.certify.RowsChecker`):
  a pass over every block of mentee rows (:func:`mentormatch.solvers.sparse._check`);
- the bounds (:class:`mentormatch.solvers.bounded.check._Certifier`): pools and guards, exact
  scores only where the bound does not clear a pair, and a sub-market's early exits.

Each source seeds the rounds itself (each mentee's top ``k``; or a first pass ranked by a
sub-market's prices, which also give the first potentials) and may pass a ``repair`` (the warm
re-solve of :mod:`mentormatch.solvers.warm`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from ..pairs import Candidates
from .base import AssignmentProblem, Solution, finish
from .duals import prices, start_from_prices
from .flow import check_supported, coverage_weight, solve_arrays
from .sparse import _merge, _Sparse, _subset
from .ties import TIGHT_GAIN, canonical, integer_gain

log = logging.getLogger(__name__)


class Checker(Protocol):
    """What the rounds ask of a pair source: price every pair against ``(u, p)``.

    ``width``: a pair's code in the sparse set is ``mentee * width + col``. ``method``: the
    certificate's ``"method"``. ``ties``: whether the tie rule runs (False: prices that only
    guide, as a sub-market's). ``ranks``: the tie rule's ranks of mentees and mentors (None:
    their indices)."""

    width: int
    method: str
    ties: bool
    ranks: tuple | None

    def check(self, u: np.ndarray, p: np.ndarray, chosen: _Sparse, tol: float, per_row: int
              ) -> tuple[_Sparse, float]:
        """The pairs outside ``chosen`` (and the locks) with ``s - u - p > tol``, at most
        ``per_row`` a mentee (the most violating), and ``eps``, the largest ``s - u - p`` over
        every unchosen pair (``>= 0``)."""

    def tight(self, u: np.ndarray, p: np.ndarray, chosen: _Sparse, gain: float) -> _Sparse:
        """Every pair outside ``chosen`` with ``s - u - p > gain`` (called when none exceeds
        ``tol``: the pairs that may be tight in integers, for the tie rule)."""

    def tied(self, ties: dict | None) -> None:
        """The tie rule's record (None: it found violators), to add the gather's own counts to."""

    def ceiling(self, u: np.ndarray, p: np.ndarray) -> np.ndarray | None:
        """Per mentee ``i``, a number at least ``s_ij - u_i - p_j`` for every free pair ``(i, j)``
        not chosen by the flow that priced ``(u, p)`` (mentors with no places left excluded), found
        without another pass over every pair; None when the checker has none (then a stop
        reports no bound). Used only when the rounds stop uncertified
        (:func:`stopped_bound`)."""

    def stop(self, new: int | None, size: int) -> bool:
        """Whether to stop with the round's prices and no certificate: before the check
        (``new`` None) or after a check that added ``new`` pairs to ``size``."""

    def record(self, cert: dict, stage: str) -> None:
        """Add the source's own keys to ``cert`` at ``stage``: ``"round"`` (every round),
        ``"stopped"`` (:meth:`stop` said so) or ``"holds"`` (certified)."""

    def note(self) -> str:
        """The checks' work so far, in a few words for the log."""


#: A solution's message when the rounds stopped at a caller's deadline.
STOPPED = "stopped at the caller's deadline before the certificate held"


@dataclass
class Outcome:
    """The rounds' answer: the final sparse set and its chosen pairs (bool), whether the
    certificate holds, the certificate, the bound over the free part (the certificate's when
    it holds; when the rounds stopped uncertified, :func:`stopped_bound`'s or None) and the
    prices ``(u, p)`` of the last round (None when the flow was not priced)."""

    sparse: _Sparse
    chosen: np.ndarray
    optimal: bool
    certificate: dict
    bound: float | None
    prices: tuple | None = None


def stopped_bound(e: np.ndarray | None, dual_obj: float, dem: np.ndarray, n_max: int) -> float | None:
    """A bound over the free part for rounds that stop uncertified (a deadline): the round's
    dual objective (:func:`mentormatch.solvers.duals.prices`) plus the most ``sum_i f_i
    max(0, e_i)`` can be with ``0 <= f_i <= d_i`` and ``sum f_i <= n_max`` (``e``:
    :meth:`Checker.ceiling` of the round's prices ``u``, ``p``; the rows by ``e`` descending,
    each filled in turn: at most both ``sum_i d_i max(0, e_i)`` and ``n_max max_i max(0, e_i)``).
    With no flow yet, ``u = 0``, any prices ``p >= 0`` and the
    dual objective ``sum_j c_j p_j`` (no chosen pair), the same statement: a Lagrangian bound.

    Why it holds: ``e_i >= s_ij - u_i - p_j`` on every unchosen pair of row ``i`` and ``w_ij =
    max(0, s_ij - u_i - p_j)`` on the chosen ones, so for any assignment ``x`` (row sums
    ``f_i <= d_i``, column sums ``<= c_j``)::

        sum s x  <=  sum_ij x_ij (u_i + p_j) + sum_chosen w + sum_unchosen x_ij e_i
                 <=  [sum_i d_i u_i + sum_j c_j p_j + sum_chosen w] + sum_i f_i e_i

    with ``u, p >= 0``; the bracket is the dual objective, and ``f_i <= d_i``, ``sum_i f_i <=
    n_max`` (no assignment holds more pairs). Under ``coverage_first`` the bracket is the dual objective of
    :func:`~mentormatch.solvers.duals.prices` (``u_i`` may be negative there; its derivation
    bounds ``sum_{x=1} r`` by the chosen pairs' ``w`` and the unchosen pairs' ``r``, here at
    most ``e_i`` each), so the sum bounds the total of any assignment matching as many mentees
    as the flow, the lexicographic optimum's included. None when ``e`` is None.

    >>> stopped_bound(np.array([0.5, -1.0, 2.0]), 10.0, np.array([1, 1, 0]), 5)
    10.5
    >>> stopped_bound(np.array([0.5, 0.25]), 10.0, np.array([3, 3]), 2)
    11.0
    >>> stopped_bound(np.array([0.5, 0.25, 0.125]), 10.0, np.array([1, 2, 2]), 2)  # 0.5 + 0.25
    10.75
    """
    if e is None:
        return None
    live = dem > 0
    e = np.maximum(0.0, np.asarray(e, np.float64)[live])
    if not np.all(np.isfinite(e)):
        return None
    order = np.argsort(-e, kind="stable")
    d = np.asarray(dem, np.float64)[live][order]
    before = np.concatenate([[0.0], np.cumsum(d)[:-1]])
    f = np.clip(float(n_max) - before, 0.0, d)  # the largest e_i filled first
    return float(dual_obj + f @ e[order])


def ceiling_from_best(best: np.ndarray, u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per row ``i``, ``b_i - u_i - min_j p_j`` over the mentors with a finite price (those with
    places): at least ``s_ij - u_i - p_j`` on every pair of the row with such a mentor whose
    score is at most ``b_i`` (``best``: each row's best usable score, or a number above it;
    ``-inf``, a row with no usable pair, stays ``-inf``). The :meth:`Checker.ceiling` of a
    per-row best, stated once for the sources that know one without a pass: the first sparse
    set's exact bests (:class:`mentormatch.solvers.certify.RowsChecker`) and the bound
    factors' ceilings (:func:`mentormatch.solvers.bounded.ceiling.row_ceilings`, the rows a
    first pass did not scan).

    >>> ceiling_from_best(np.array([3.0, -np.inf]), np.array([1.0, 0.0]),
    ...                   np.array([0.5, np.inf, 2.0])).tolist()
    [1.5, -inf]
    """
    fin = np.asarray(p, np.float64)[np.isfinite(p)]
    low = float(fin.min()) if len(fin) else 0.0
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(best), best - np.asarray(u, np.float64) - low, -np.inf)


def least_stopped_bound(ceiling: Callable, tries, dem: np.ndarray) -> float | None:
    """The least :func:`stopped_bound` over ``tries``, each ``(u, p, dual_obj, n_max)`` with
    ``e = ceiling(u, p)``: a stop's bounds under several prices (the current round's and the
    last checked round's; before the first flow, the pass's and the guide's) each hold, so the
    least does. None when no try gives one.

    >>> least_stopped_bound(lambda u, p: u + 1, [(np.ones(2), None, 5.0, 2),
    ...                                           (np.zeros(2), None, 6.0, 2)], np.ones(2, int))
    8.0
    """
    found = [b for b in (stopped_bound(ceiling(u, p), obj, dem, n) for u, p, obj, n in tries)
             if b is not None]
    return min(found) if found else None


def with_ties(sp: _Sparse, chosen: np.ndarray, near: _Sparse, width: int, cap, dem, pot, scale,
              ranks=None, cover: np.ndarray | None = None) -> tuple[_Sparse, np.ndarray, _Sparse, dict | None]:
    """The tie rule (:mod:`mentormatch.solvers.ties`) on a certified sparse optimum: the pairs
    ``near`` (gathered by the check as maybe tight) with a positive integer gain are returned as
    violators (the optimum is then not yet the integer optimum over every pair: another round);
    otherwise the tight ones join the sparse set and the rule picks the optimum. Returns the
    sparse set, its chosen pairs, the violators and the rule's record (None with violators)."""
    gain = integer_gain(near.s, near.i, near.j, pot, scale)
    if np.any(gain > 0):
        return sp, chosen, _subset(near, gain > 0), None
    codes = (sp.i * width + sp.col)[chosen]
    grown = _merge(sp, _subset(near, gain == 0), width)
    was = np.isin(grown.i * width + grown.col, codes)
    picked, info = canonical(grown.i, grown.j, grown.s, was, cap, dem, pot, scale, ranks, cover)
    info["tight_pairs_outside"] = int(len(grown.i) - len(sp.i))
    return grown, picked, _subset(near, gain > 0), info


def certified_rounds(sp: _Sparse, cap: np.ndarray, dem: np.ndarray, checker: Checker, options, k: int, *,
                     warm: tuple | None = None, repair: Callable | None = None, work: dict | None = None,
                     say: Callable = log.debug, indent: str = "", cover=None, guide: bool = False) -> Outcome:
    """Grow the sparse set ``sp`` (sorted by code, as :func:`_merge` leaves it) until the
    prices of its optimum certify it for every pair ``checker`` prices.

    ``cap``, ``dem``: the places left after the locks (the checker excludes the locks' pairs).
    ``options``: ``certify`` (False: the first flow, unproven). ``k``: violators kept per mentee
    and round. ``warm``: prices ``(u, p)`` the first potentials start from (None: from zero;
    later rounds start from the last round's). ``repair(i, j, s, cap, dem, was, pot, scale,
    cover)``: a re-solve of the last optimum with the new pairs, returning ``(FlowResult, repair
    record)`` or None (then the flow is solved cold). ``work``: a dict to add the seconds of
    the flows, prices, checks and the tie rule to (wall time; and under ``work["cpu"]`` this
    process's CPU time, :func:`time.process_time`, every thread's). ``cover``: ``coverage_first``'s
    weight per mentee, or None (the type is stated in :mod:`mentormatch.solvers.flow`): the flows
    and repairs count mentees (:func:`mentormatch.solvers.flow.solve_arrays`) and the bound is on
    the total of any assignment matching as many (:func:`mentormatch.solvers.duals.prices`).

    ``guide``: the rounds give prices only (a sub-market's, :mod:`mentormatch.solvers.bounded.market`).
    After a repair, the prices then start from the last round's potentials, as after a cold flow,
    not from the repair's own: from a given start they are the greatest dual optimum below it
    (:func:`~mentormatch.solvers.duals.potentials`), the same whichever optimum the flow
    reached, so a guide does not depend on how its flow was solved. From the repair's
    potentials instead, the 8,000-row level's last round at 200,000 x 40,000 (a repair since
    :data:`~mentormatch.solvers.warm.NATIVE_SHARE` 0.017) gave prices that made the top level
    take 4 rounds, not 3 (the same pairs; s31h4, one run)."""
    work = {} if work is None else work
    cpu = work.setdefault("cpu", {})
    for key in ("flows", "prices", "checks"):
        work.setdefault(key, 0.0)
        cpu.setdefault(key, 0.0)
    width = checker.width
    rounds = added = sweeps_total = 0
    pot, pot_scale = None, 0.0  # the last round's potentials, and their scale
    last = None  # the last round's chosen pair codes (for a repair)
    repairs = []  # the rounds whose flow was a repair of the round before's
    held = None  # the prices (u, p), dual objective and n_max of the last round checked
    # the most pairs any assignment over the checker's pairs holds: the tails ``eps * most`` and
    # the stopped bounds' sum range over every pair priced, not the sparse network's (whose
    # ``n_max`` may be lower: it counts the pairs in the network)
    most = int(min(np.sum(dem), np.sum(cap)))

    def stopped(cert, chosen, u, p, dual_obj, n_max):  # uncertified: the least bound found
        checker.record(cert, "stopped")
        tries = [(u, p, dual_obj, n_max)] + ([held] if held is not None else [])
        return Outcome(sp, chosen, False, cert, least_stopped_bound(checker.ceiling, tries, dem), (u, p))

    while True:
        rounds += 1
        t1, c1 = time.perf_counter(), time.process_time()
        res = rep = None
        if repair is not None and last is not None and pot is not None:
            code = sp.i * width + sp.col
            was = np.zeros(len(code), bool)
            was[np.searchsorted(code, last)] = True  # (code is sorted: a merge)
            fixed = repair(sp.i, sp.j, sp.s, cap, dem, was, pot, pot_scale, cover)
            if fixed is not None:
                res, rep = fixed
                # (at pot_scale): they prove the repaired flow optimal; a guide's prices start
                # from the last round's, as a cold flow's would (below)
                prior, pot = pot, rep.pot
                repairs.append({"round": rounds, "violators": rep.violators, "phases": rep.phases})
        if res is None:
            # the costs divided by their common factor: any optimum will do when the tie rule
            # follows (certified, and the checker applies it; a stop at the time limit returns
            # the flow's own optimum, as the rule's docstring says)
            res = solve_arrays(sp.i, sp.j, sp.s, cap, dem, cover,
                               common_factor=bool(options.certify and checker.ties))
        if repair is not None:
            last = (sp.i * width + sp.col)[res.chosen]
        cert = {"method": checker.method, "scale": res.scale, "rounding_bound": res.n_max / res.scale,
                "n_max": res.n_max, "top_k": k, "pairs_in_sparse": len(sp.i), "rounds": rounds,
                "violations_added": added, "warm_repairs": repairs,
                "or_tools_status": res.status if rep is None else "not run: the last optimum repaired",
                "holds": False}
        if res.cover is not None:  # coverage_first's weight per matched mentee, in score units
            cert["coverage_weight"] = coverage_weight(res)
        checker.record(cert, "round")
        if not res.optimal or not options.certify:
            return Outcome(sp, res.chosen, False, cert, None)
        t2, c2 = time.perf_counter(), time.process_time()
        if warm is None:
            start = None
        elif guide and rep is not None:  # the prices a cold flow's would be (docstring)
            start = prior
        elif pot is not None and pot_scale == res.scale:
            start = pot
        else:
            start = start_from_prices(*warm, res.scale)
        u, p, dual_obj, sweeps, pot = prices(sp.i, sp.j, res.cost, res.chosen, sp.s, dem, cap, res.scale, start,
                                             res.cover)
        pot_scale, warm = res.scale, (u, p)
        sweeps_total += sweeps
        tol = 1.0 / res.scale
        t3, c3 = time.perf_counter(), time.process_time()
        work["flows"] += t2 - t1
        work["prices"] += t3 - t2
        cpu["flows"] += c2 - c1
        cpu["prices"] += c3 - c2
        say("%sround %d: flow on %d pairs in %.2fs (%s), prices in %.2fs (%d sweeps)", indent, rounds, len(sp.i),
            t2 - t1, cert["or_tools_status"] if rep is None else
            "the last round's repaired: %d violators, %d phases" % (rep.violators, rep.phases), t3 - t2, sweeps)
        if checker.stop(None, len(sp.i)):
            return stopped(cert, res.chosen, u, p, dual_obj, most)
        chosen = _subset(sp, res.chosen)
        viol, eps = checker.check(u, p, chosen, tol, k)
        work["checks"] += time.perf_counter() - t3
        cpu["checks"] += time.process_time() - c3
        grown = _merge(sp, viol, width)
        new = len(grown.i) - len(sp.i)
        say("%sround %d: check in %.2fs (%s), %d pairs added", indent, rounds, time.perf_counter() - t3,
            checker.note(), new)
        picked, ties = res.chosen, None
        if len(viol.i) == 0 and checker.ties:  # the tie rule (solvers/ties.py): the maybe-tight pairs
            t4, c4 = time.perf_counter(), time.process_time()
            near = checker.tight(u, p, chosen, TIGHT_GAIN * tol)
            sp, picked, viol, ties = with_ties(sp, res.chosen, near, width, cap, dem, pot, res.scale,
                                               checker.ranks, res.cover)
            grown = _merge(sp, viol, width)
            checker.tied(ties)
            if ties is not None:
                work["ties"] = round(time.perf_counter() - t4, 3)
                cpu["ties"] = round(time.process_time() - c4, 3)
        if len(viol.i) == 0:
            cert.update(holds=True, bellman_ford_sweeps=sweeps_total, dual_objective=dual_obj,
                        max_reduced_gain=eps, tolerance=tol, ties=ties)
            checker.record(cert, "holds")
            return Outcome(sp, picked, True, cert, dual_obj + eps * most, (u, p))
        if checker.stop(new, len(sp.i)):
            return stopped(cert, res.chosen, u, p, dual_obj, most)
        held = (u, p, dual_obj, most)
        added += len(viol.i)
        sp = grown


def with_locks(out: Outcome, li: np.ndarray, lj: np.ndarray, ls: np.ndarray, cap: np.ndarray, dem: np.ndarray,
               started: float, order: np.ndarray | None = None) -> tuple[AssignmentProblem, Solution]:
    """The rounds' answer as the final sparse problem (the locked pairs ``li``, ``lj`` with scores
    ``ls``, and the rounds' sparse set, in pair order; capacities ``cap``, demands ``dem``) and its
    solution: ``"optimal"`` when the certificate holds, the bound with the locks' scores, the
    prices; :data:`STOPPED` as its message when they stopped at a deadline. ``order``: the caller's mentee of each of the rounds' rows (None: the same)."""
    sp = out.sparse
    n, m = len(dem), len(cap)
    rows = np.concatenate([li, sp.i])
    all_i = rows if order is None else order[rows]
    all_j = np.concatenate([lj, sp.j])
    all_s = np.concatenate([ls, sp.s])
    is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(sp.i), bool)])
    is_chosen = np.concatenate([np.ones(len(li), bool), out.chosen])
    by_pair = np.argsort(all_i * m + all_j, kind="stable")
    pairs = Candidates(all_i[by_pair], all_j[by_pair], n, m)
    problem = AssignmentProblem(pairs, all_s[by_pair], cap, dem, locked=is_lock[by_pair])
    check_supported(problem, "flow")
    sol = finish(problem, np.flatnonzero(is_chosen[by_pair]), "optimal" if out.optimal else "feasible", started,
                 "flow", None, out.certificate, STOPPED if out.certificate.get("timed_out") else "")
    if out.bound is not None:
        sol.bound = float(ls.sum()) + out.bound
    if out.optimal and out.prices is not None:
        u = out.prices[0]
        if order is not None:  # (in the caller's mentee order)
            u = np.empty(n)
            u[order] = out.prices[0]
        sol.prices = (u, out.prices[1])
    return problem, sol
