"""The bounds a max-min or leximin answer carries, stated once for every route: the held
problem (:mod:`mentormatch.solvers.fair`, :mod:`mentormatch.solvers.leximin`: the complete set
and ``assign()``) and the pair source under side constraints
(:mod:`mentormatch.solvers.fair_source`).

Three figures, each holding over every assignment that meets the constraints, whatever stopped
the search (:mod:`mentormatch.solvers.fair_bounds` proves the first two from one pass's
figures):

* ``count_bound``: at least the most pairs ``M*``; the answer's count where a solve proved it;
* ``threshold_bound``: at least the best worst pair ``t*`` of any assignment with at least the
  answer's pairs; the answer's worst pair where a solve proved it, the top of a proven bracket;
* ``total_bound``: at least the total of the optimum (an assignment that meets every
  constraint): the plain total's bound, the answer's total where a solve proved the optimum.

Under ``coverage_first`` the count and the worst pair are not bounded (None): the optimum's
count is the most pairs among the assignments that match the most mentees, not of every one.
The record's ``bound`` is ``total_bound`` (so ``gap`` is the total's), as on every route: before
s24 the held problem's answers carried none, optimal or stopped.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import AssignmentProblem, Solution, proven
from .figures import ceiling_figures, first_pass_ceilings

__all__ = ["Claims", "NOT_THE_PICK", "at_best", "at_bound_note", "claimed", "claims", "lifted_total", "meets", "source_claims",
           "with_claims"]


@dataclasses.dataclass(frozen=True)
class Claims:
    """Bounds over every assignment that meets the constraints (module docstring); None: not
    bounded."""

    count_bound: int | None
    threshold_bound: float | None
    total_bound: float | None


#: What a stopped answer proven optimal by :func:`at_best` or :func:`meets` says of its pairs
#: (``certificate["ties"]``): an optimum, not the tie rule's pick, which only the unlimited
#: solve applies (its last flow, or leximin's final network), so an unlimited run may hold other
#: pairs of the same value (s26: until then nothing said so).
NOT_THE_PICK = {"rule": "the tie rule's pick among the optima", "applied": False,
                "why": "proven optimal after the search stopped: an optimum, not necessarily the "
                       "pairs an unlimited run picks among optima of the same value"}


def _least(*xs):
    xs = [x for x in xs if x is not None]
    return min(xs) if xs else None


def claims(fig, capacity, demand, load, side, matched: int, coverage_first: bool, *,
           total_bound: float | None, proven_count: int | None = None,
           proven_threshold: float | None = None) -> Claims:
    """The bounds of an answer with ``matched`` pairs: the figures' (``fig``,
    :func:`~mentormatch.solvers.fair_bounds.source_figures`), lowered to what a solve proved
    (``proven_count``, ``proven_threshold``); ``total_bound``, the caller's bound on the total
    of every assignment meeting the constraints.

    >>> from mentormatch.solvers.fair_bounds import Figures
    >>> f = Figures(np.ones(3, np.int64), np.array([0.9, 0.5, 0.7]), np.array([3, 3]),
    ...             np.array([0.9, 0.6]))
    >>> claims(f, np.array([1.0, 1.0]), None, None, None, 2, False, total_bound=1.6)
    Claims(count_bound=2, threshold_bound=0.6, total_bound=1.6)
    >>> claims(f, np.array([1.0, 1.0]), None, None, None, 2, True, total_bound=1.6)
    Claims(count_bound=None, threshold_bound=None, total_bound=1.6)
    """
    from .fair_bounds import count_bound, threshold_bound

    if coverage_first:
        return Claims(None, None, total_bound)
    count = _least(count_bound(fig, capacity, demand, load, side), proven_count)
    # the optimum holds at least the answer's pairs, and at least one when any (its worst pair)
    t = _least(threshold_bound(fig, max(matched, 1), capacity, demand, load, side), proven_threshold)
    return Claims(None if count is None else int(count), t, total_bound)


def with_claims(problem: AssignmentProblem, goal: AssignmentProblem, sol: Solution,
                objective: str) -> Solution:
    """``sol``, a max-min or leximin answer on the held ``problem`` (``goal``: the same pairs
    scored as the objective reads them, ``score + bonus`` with a bonus), with :func:`claims`'s
    bounds in its certificate and ``total_bound`` as its ``bound`` (:func:`claimed`, from one
    pass's figures of ``goal``).

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.fair import solve_maxmin
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.array([1.0, 0.3, 0.6, 0.05]), np.ones(2))
    >>> sol = solve_maxmin(p)
    >>> sol.status, sol.bound, sol.certificate["count_bound"], sol.certificate["threshold_bound"]
    ('optimal', 0.8999999999999999, 2, 0.3)
    """
    from .fair_bounds import per_mentee, per_mentor, source_figures
    from .sources import ArraySource

    P = goal.pairs
    fig = source_figures(ArraySource(P.mentee, P.mentor, goal.score, P.n_mentees, P.n_mentors),
                         per_mentor(problem.capacity), per_mentee(problem.demand))
    return claimed(fig, problem, goal, sol, objective)


def _proven(cert: dict, optimal: bool) -> tuple[bool, float | None]:
    """What a max-min or leximin solve proved, from its certificate (leximin's: its max-min's,
    ``cert["maxmin"]``): whether its count is the most, and a bound on the worst pair (a
    proven max-min's threshold, or the top of a proven bracket)."""
    inner = cert.get("maxmin") if isinstance(cert.get("maxmin"), dict) else {}
    if inner.get("holds") and inner.get("threshold") is not None:
        return True, float(inner["threshold"])  # (leximin's max-min proven: M and t*)
    for c in (cert, inner):
        if c.get("count_proven"):
            bracket = c.get("threshold_bracket")
            return True, None if bracket is None else float(bracket[1])
    return optimal, None


def at_best(fig, goal: AssignmentProblem, chosen: np.ndarray) -> str | None:
    """Which side proves the answer ``chosen`` (positions of ``goal``'s pairs) optimal in both
    objectives, with no search: ``"mentee"`` when every mentee holds its most pairs
    ``min(d_i, e_i)``, each scoring its best ``best_i``; ``"mentor"`` (not under
    ``coverage_first``) when every mentor holds its most mentees ``k_j``
    (:func:`~mentormatch.solvers.fair_bounds.mentor_places`), each scoring its best; else
    None. ``fig``: exact figures of every pair (on bounds, upper bounds, which this rarely
    meets: then nothing is claimed).

    Proof (the mentee side; the mentor side is the same by mentor): any assignment gives mentee
    ``i`` at most ``min(d_i, e_i)`` pairs, each at most ``best_i``: it holds at most as many
    pairs (and matches at most as many mentees), and with as many, as many as this answer for
    each mentee, so its sorted scores are below this answer's one by one. So this answer is
    first in leximin's order (the most pairs, then the sorted scores), and in max-min's (the
    most pairs, the worst pair, the total). A leximin answer "feasible" at gap 0 (its total at
    the bound of every assignment's, s24's finding: every pair at 5 of 5) is optimal so.

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.fair_bounds import source_figures
    >>> from mentormatch.solvers.sources import ArraySource
    >>> p = AssignmentProblem(Candidates.complete(3, 1), np.array([5.0, 5.0, 2.0]), np.ones(1) * 2)
    >>> fig = source_figures(ArraySource(p.pairs.mentee, p.pairs.mentor, p.score, 3, 1))
    >>> at_best(fig, p, np.array([0, 1])), at_best(fig, p, np.array([0, 2]))
    ('mentor', None)
    """
    from .fair_bounds import mentor_places

    P = goal.pairs
    chosen = np.asarray(chosen, np.int64)
    i, j, s = P.mentee[chosen], P.mentor[chosen], goal.score[chosen]
    dem = np.maximum(np.round(np.asarray(goal.demand, float)), 0).astype(np.int64)
    most_i = np.minimum(dem, fig.eligible)
    if (np.array_equal(np.bincount(i, minlength=P.n_mentees), most_i)
            and np.all(s >= fig.best[i])):
        return "mentee"
    if goal.coverage_first:
        return None
    most_j = mentor_places(fig, goal.capacity, goal.demand, goal.load)
    if np.array_equal(np.bincount(j, minlength=P.n_mentors), most_j) and np.all(s >= fig.best_by_mentor[j]):
        return "mentor"
    return None


def claimed(fig, problem: AssignmentProblem, goal: AssignmentProblem, sol: Solution,
            objective: str) -> Solution:
    """``sol`` (max-min or leximin, ``objective``) with :func:`claims`'s bounds from the
    figures ``fig`` of every pair of ``goal`` (``problem``'s pairs scored as the objective
    reads them) in its certificate and ``total_bound`` as its ``bound``. Proven by the solve:
    an ``"optimal"`` answer's count, worst pair and total (its certificate's ``total_bound``
    where the scores were rounded); a bracket (max-min's flows) tops the worst pair; CP-SAT's
    ``threshold_bound`` and ``total_bound`` where it proved them. An answer is ``"optimal"``
    (in either objective) when :func:`at_best` proves it, and a max-min answer when it reaches
    all three bounds (:func:`meets`), as on the source's route. The total's bound otherwise:
    the least of :func:`mentormatch.solvers.fallback.figures_bound` (no solve) from the figures
    of the count and the worst pair, and :func:`lifted_total` (the first flow's bound). A
    leximin answer left "feasible" whose total reaches its bound says why (the bound is the
    total's; the sorted scores are not proven). An answer proven here after a stop is an
    optimum, not the tie rule's pick: ``certificate["ties"]`` is :data:`NOT_THE_PICK`."""
    from .fair_bounds import count_bound
    from .fallback import figures_bound

    cert = dict(sol.certificate or {})
    chosen = np.asarray(sol.chosen, np.int64)
    status, message = sol.status, sol.message
    if status == "feasible" and (side := at_best(fig, goal, chosen)) is not None:
        status, message = "optimal", ""  # (its total is the optimum's: the bound)
        cert.update(proven_by=f"every {side} holds its most pairs, each at its best score",
                    timed_out=False, message="", total_bound=float(sol.objective),
                    ties=NOT_THE_PICK)
    optimal = status == "optimal"
    worst = float(goal.score[chosen].min()) if len(chosen) else None
    counted, bracket_top = _proven(cert, optimal)
    proven_t = _least(worst if optimal else None, bracket_top, cert.get("threshold_bound"))
    # (inf: rows at no known ceiling, no bound); an assignment holds at most count_bound pairs,
    # whatever coverage_first ranks first: only that many of the figures' places count
    most = count_bound(fig, problem.capacity, problem.demand, problem.load, problem.side)
    by_figures = figures_bound(fig, goal, most)
    total = _least(by_figures if np.isfinite(by_figures) else None,
                   cert.get("total_bound") if cert.get("total_bound") is not None else
                   (sol.objective if optimal else None),
                   None if optimal else lifted_total(cert, len(chosen)))
    if total is not None:
        total = max(total, sol.objective)  # (the answer is one assignment: never below it)
    c = claims(fig, problem.capacity, problem.demand, problem.load, problem.side, len(chosen),
               bool(problem.coverage_first), total_bound=total,
               proven_count=len(chosen) if optimal or counted else None,
               proven_threshold=proven_t)
    cert.update(count_bound=c.count_bound, threshold_bound=c.threshold_bound,
                total_bound=c.total_bound)
    if objective == "maxmin" and status != "optimal" and meets(c, len(chosen), worst, sol.objective):
        # the three bounds prove it (as on the source's route); leximin's cannot (fair_source)
        status, message = "optimal", ""
        cert.update(proven_by="count, worst pair and total at their bounds", timed_out=False,
                    message="", ties=NOT_THE_PICK)
    if status != "optimal" and c.total_bound is not None and proven(c.total_bound, sol.objective):
        why = at_bound_note(objective)  # (gap 0, "feasible": why)
        message = f"{message}; {why}" if message else why
        cert["message"] = message
    return dataclasses.replace(sol, status=status, message=message, bound=c.total_bound,
                               certificate=cert)


def lifted_total(cert: dict, matched: int) -> float | None:
    """A bound on the total of the max-min and the leximin optimum from the first flow of
    :func:`~mentormatch.solvers.bottleneck.solve_maxmin_scorer` (``cert["first_flow_bound"]``,
    or its max-min's, ``cert["maxmin"]``: ``[B, W]``, the flow's bound ``B`` on ``s + W`` over
    every assignment, certified or stopped) and the answer's ``matched`` pairs; None without
    one. No pass: at 100,000 x 20,000 on bounds the figures' pass after a stop cost ~31 s CPU.

    Why it holds: at ``t = -inf`` every eligible pair scores ``s + W`` in that flow, so every
    assignment ``x`` meeting the capacities, demands and locks has ``T(x) + W |x| <= B``. Both
    optima hold the most pairs ``M*`` (the first key of either order), at least the answer's
    ``matched`` (one assignment): ``T* <= B - W M* <= B - W matched``. ``B`` and ``W matched``
    are about ``W M`` in size: four units of its float64 rounding are added.

    >>> lifted_total({"maxmin": {"first_flow_bound": [1003.5, 100.0]}}, 10)
    3.5000000000004547
    >>> lifted_total({}, 10) is None
    True
    """
    inner = cert.get("maxmin") if isinstance(cert.get("maxmin"), dict) else {}
    kept = cert.get("first_flow_bound") or inner.get("first_flow_bound")
    if kept is None:
        return None
    B, W = (float(x) for x in kept)
    if not (np.isfinite(B) and np.isfinite(W)):
        return None
    return float(B - W * matched + 4 * np.spacing(max(abs(B), abs(W * matched), 1.0)))


def at_bound_note(objective: str) -> str:
    """Why an answer whose total reaches its bound (gap 0) is still "feasible": the bound is the
    total's; leximin's sorted scores, or max-min's count and worst pair, are not proven by it
    (:mod:`mentormatch.solvers.fair_source`: ``(1, 2, 4)`` and ``(1, 3, 3)`` tie on the total)."""
    if objective == "leximin":
        return ("the total is at its bound (the best of every assignment's), but the bound is the "
                "total's: the sorted scores beyond the worst pair are not proven leximin-optimal")
    return "the total is at its bound, but the most pairs or the best worst pair is not proven"


def meets(c: Claims, matched: int, worst: float | None, total: float) -> bool:
    """Whether an answer with ``matched`` pairs, worst pair ``worst`` and total ``total``
    reaches the bounds ``c`` (the worst pair and the total within the 1e-6 gap): then it is a
    max-min optimum (the most pairs, the best worst pair, the best total). Leximin's order is
    finer: these three do not prove it (:mod:`mentormatch.solvers.fair_source`).

    >>> meets(Claims(2, 0.5, 1.5), 2, 0.5, 1.5), meets(Claims(3, 0.5, 1.5), 2, 0.5, 1.5)
    (True, False)
    """
    from .base import OPTIMAL_GAP, proven

    if c.count_bound is None or c.total_bound is None or matched != c.count_bound:
        return False
    worst_ok = worst is None or (c.threshold_bound is not None and c.threshold_bound - worst
                                 <= OPTIMAL_GAP * max(abs(c.threshold_bound), 1e-12))
    return worst_ok and proven(c.total_bound, total)


def source_claims(problem: AssignmentProblem, sol: Solution, source, objective: str, *,
                  unread: np.ndarray | None = None, ceiling: float = np.inf) -> Solution:
    """``sol``, a plain max-min or leximin answer on a pair source (the scale path's flows:
    :func:`mentormatch.solvers.bottleneck.solve_maxmin_scorer`,
    :func:`mentormatch.solvers.leximin_source.solve_leximin_source`; ``problem`` its final
    sparse problem, scored as the flows read them), with the bounds :func:`with_claims` gives
    the same answer on the complete set. An ``"optimal"`` answer's count, worst pair and total
    need no pass over the source. Any other (a stop inside a flow, a work limit) gets them
    from figures of every pair, then :func:`claimed`, as on the complete set: a finite bound
    on every source (until s25, None on blocks and bounds). On blocks one pass's figures
    (:func:`source_figures_read`: the cached rows); on bounds none after the limit (s26: the
    bounds' pass cost 1.6-1.8 s CPU at 20,000 x 5,000 and ~31 s at 100,000 x 20,000 past the
    limit): the figures the scorer states up front (:func:`~mentormatch.solvers.figures.
    ceiling_figures`) and the first flow's bound on the total (:func:`lifted_total`).

    ``unread``: the mentees whose rows no pass read (a first pass cut by the time limit), none
    scored now: bounded by ``ceiling`` (no pair scores more; ``inf``: no bound on the total).

    On bounds, each mentor's best score is bounded by its ceiling from the first flow's pass
    (``certificate["mentor_ceilings"]``, or its max-min's; :func:`.bounded.ceiling.mentor_ceilings`)
    and its locked pairs, where the pass ran whole: the mentors' side of the total's bound
    (s26: from the largest row ceiling alone, a gap of 44 % at 20,000 x 5,000 stopped in the
    first flow). Where that pass was cut short, the rows it scanned are bounded by their best
    pairs (``certificate["row_ceilings"]``, :func:`.bounded.late.scanned_ceilings`) instead of
    their factor ceilings, and the total by the count (:func:`claimed`). The arrays are taken
    out of the certificate."""
    cert, mentor_best, mentee_best = first_pass_ceilings(sol.certificate, problem, getattr(source, "scorer", None))
    sol = dataclasses.replace(sol, certificate=cert)
    if sol.status == "optimal":
        chosen = np.asarray(sol.chosen, np.int64)
        s = problem.score[chosen]
        cert = dict(sol.certificate or {})
        cert.update(count_bound=None if problem.coverage_first else int(len(chosen)),
                    threshold_bound=(None if problem.coverage_first or not len(s) else
                                     float(cert.get("threshold") if cert.get("threshold") is not None
                                           else s.min())),
                    total_bound=float(sol.objective))
        return dataclasses.replace(sol, bound=float(sol.objective), certificate=cert)
    from .fair_bounds import per_mentee, per_mentor
    from .sources import BoundedSource

    fig = None
    if isinstance(source, BoundedSource):
        fig = ceiling_figures(source.scorer, mentor_best, mentee_best)
    if fig is None:
        fig = source_figures_read(source, per_mentor(problem.capacity), unread, ceiling,
                                  per_mentee(problem.demand))
    return claimed(fig, problem, problem, sol, objective)


def source_figures_read(source, per_mentor: int = 1, unread: np.ndarray | None = None,
                        ceiling: float = np.inf, per_mentee: int = 1):
    """:func:`~mentormatch.solvers.fair_bounds.source_figures` of ``source`` where the mentees
    ``unread`` (a mask; ``source`` then a
    :class:`~mentormatch.solvers.sources.BlockSource`, whose blocks of rows
    (:func:`~mentormatch.solvers.certify.row_blocks`) holding one are not read) are not read: each counted eligible with every mentor, at ``ceiling``. Upper
    bounds of the figures of every pair, so every bound of :mod:`fair_bounds` from them holds.

    >>> from mentormatch.solvers.sources import BlockSource
    >>> dense = np.array([[2.0, -np.inf], [1.0, -np.inf]])
    >>> src = BlockSource(lambda rows: dense[rows], 2, 2)
    >>> f = source_figures_read(src, 1, np.array([False, False]))  # every row: source_figures
    >>> f.eligible.tolist(), f.best.tolist(), f.by_mentor.tolist(), f.best_by_mentor.tolist()
    ([1, 1], [2.0, 1.0], [2, 0], [2.0, -inf])
    """
    from .fair_bounds import Figures, FigureSums, source_figures

    if unread is None or not np.any(unread):
        return source_figures(source, per_mentor, per_mentee)
    from .certify import row_blocks

    n, m = source.n_mentees, source.n_mentors
    sums = FigureSums(n, m, per_mentor, per_mentee)
    for a, b in row_blocks(n, m):
        if not np.any(unread[a:b]):
            block = source.scorer(slice(a, b))  # (cached where the pass read it)
            r, c = np.nonzero(block > -np.inf)
            sums.add_pairs((r + a).astype(np.int64), c.astype(np.int64), block[r, c].astype(np.float64))
    fig = sums.figures()
    u = int(np.count_nonzero(unread))
    eligible, best = fig.eligible.copy(), fig.best.copy()
    eligible[unread], best[unread] = m, ceiling
    top = fig.mentor_top()
    k = min(u, top.shape[1])  # the first k of each mentor's kept scores: the unread rows'
    top = np.concatenate([np.full((m, k), ceiling), top[:, :top.shape[1] - k]], axis=1)
    top_i = None if fig.top_by_mentee is None else fig.top_by_mentee.copy()
    if top_i is not None:
        top_i[unread] = ceiling
    return Figures(eligible, best, fig.by_mentor + u, np.maximum(fig.best_by_mentor, ceiling),
                   None if fig.top_by_mentor is None else top, top_i)
