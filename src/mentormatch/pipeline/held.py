"""The pairs that CP-SAT's max-min and leximin hold on the scale path (side constraints or
fractional loads) when every eligible pair would not fit: those scoring at least a threshold
``tau`` (and the locked pairs), when a proof allows it. Where every pair fits they are all held
(:mod:`mentormatch.pipeline.large`): CP-SAT's choice among equal optima depends on the pairs of
its model, so only the complete set's model gives the complete set's pairs.

**The proof.** Let ``U`` bound the pairs of any assignment, read from the demands, the
eligible counts and the capacities (no score: :func:`count_bounds`), and under
``coverage_first`` let ``C`` be the number of mentees with an eligible pair and a demand. Solve
max-min (or leximin) on ``H = {pairs scoring >= tau} + locked``. When its answer ``A`` has ``U``
pairs (and, under coverage_first, ``C`` mentees), ``A`` meets every constraint of the whole
problem (a constraint is a property of the chosen pairs) and has its most pairs (mentees). Every
optimal assignment of the whole problem has as many, and its worst pair ``t*`` is at least
``A``'s worst, at least ``tau`` (``A`` is one of the assignments step 2 compares; leximin's
first entry is that same ``t*``): every pair of it scores at least ``tau``, so it lies in
``H``. So ``H`` and the whole problem have the same optima (count, ``t*``, total; leximin's
sorted vector), and a bound proven on ``H`` holds for the whole problem, even when the time
limit stopped the solve. When ``A`` falls short of ``U`` (or ``C``), or ``H`` admits no
assignment, nothing is proven: ``tau`` is lowered so that about four times as many pairs are
held, up to every eligible pair (then :func:`~mentormatch.pipeline.memory.check_fits` may
refuse, as before). Cases that end there: a budget, minimum loads, balanced loads or an
infeasibility that keep the most pairs below ``U``.

**Counting before scoring.** One pass over the pairs records a histogram of their scores (on the
bounds source: of their upper bounds, never below the exact scores) on ``[0, score_span]``, each
mentee's best and eligible count. The pairs above a threshold are counted from it (an upper
bound) before any is held, and that count is what ``check_fits`` judges.

Not reduced (every eligible pair held, as before): a round with an objective bonus held in the
model (the levels read ``score + bonus``, the threshold here reads the scores).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InfeasibleError
from ..solvers import AssignmentProblem, Solution
from ..solvers.figures import Figures

#: Bins of the score histogram on ``[0, score_span]``.
BINS = 4096
#: The first threshold holds about this many pairs per pair of ``U`` (then four times more a step).
FIRST_PER_PAIR = 8


@dataclasses.dataclass(frozen=True)
class Survey:
    """One pass over a round's eligible pairs: ``tail[b]`` bounds the pairs scoring at least
    ``edges[b]`` (a suffix sum of the histogram); ``figures`` the same pass's counts and best
    scores per mentee and per mentor (:class:`mentormatch.solvers.figures.Figures`: each
    mentee's eligible pairs and best score (or bound), each mentor's, and their best few), the
    inputs of the bounds of :mod:`mentormatch.solvers.fair_bounds`."""

    edges: np.ndarray
    tail: np.ndarray
    figures: Figures

    def at_least(self, tau: float) -> int:
        """An upper bound on the pairs scoring at least ``tau``."""
        b = int(np.searchsorted(self.edges, tau, side="right")) - 1
        return int(self.tail[max(b, 0)])


def survey(scorer, source, n: int, span: float, per_mentor: int = 1, per_mentee: int = 1) -> Survey:
    """The histogram, best scores and eligible counts of every eligible pair (one pass). The
    bins by one multiply and ``bincount`` (``np.histogram`` with a clip cost 142 s CPU over the
    2e9 bounds of 100,000 x 20,000), nudged up by 1e-12 of the value so that one on a bin's
    edge is never counted below it: ``tail`` stays a bound on the pairs above each edge."""
    from ..solvers.fair_bounds import FigureSums
    from .blocks import _BlockScorer

    edges = np.linspace(0.0, max(float(span), 1e-300), BINS + 1)
    hist = np.zeros(BINS, np.int64)
    m = source.n_mentors
    sums = FigureSums(n, m, per_mentor, per_mentee)  # each mentee's and mentor's eligible pairs
    # and best (each mentor's ``per_mentor`` best, each mentee's ``per_mentee``), beside
    per_bin = BINS / edges[-1] * (1.0 + 1e-12)

    def count(values):
        b = np.multiply(values, per_bin, dtype=np.float64)
        np.clip(b, 0, BINS - 1, out=b)
        hist[:] += np.bincount(b.astype(np.int64), minlength=BINS)

    margin = 0.0
    if isinstance(scorer, _BlockScorer):
        for i, j, s in source.blocks():
            count(s)
            sums.add_pairs(i, j, s)
    else:  # the bounds (with the source's margin), in the scorer's row order, in float32 and
        # in place (a value within 1e-6 below an edge counts above it: float32's rounding of
        # the sum and the product is far less)
        from ..scale import BIG
        from ..solvers.certify import row_blocks

        margin = float(scorer.margin)
        add, times = np.float32(margin), np.float32(BINS / edges[-1] * (1.0 + 1e-6))
        for a, b in row_blocks(n, m):
            up = scorer.upper(a, b)
            rows = scorer.order[a:b]
            sums.add_bounds(rows, up, up > -BIG / 4)  # (up is -inf where not eligible now)
            np.add(up, add, out=up)
            np.multiply(up, times, out=up)
            np.clip(up, 0, BINS - 1, out=up)  # -inf (not eligible) to bin 0, taken off below
            hist[:] += np.bincount(up.astype(np.int32).ravel(), minlength=BINS)
            hist[0] -= up.size - int(sums.eligible[rows].sum())
    tail = np.cumsum(hist[::-1])[::-1]
    return Survey(edges[:-1], tail, sums.figures(margin))


def count_bounds(survey_: Survey, demand, load, capacity) -> tuple[int, int]:
    """``(U, C)``: at most ``U`` pairs in any assignment
    (:func:`mentormatch.solvers.fair_bounds.most_pairs`: each mentee at most its demand and its
    eligible pairs; each mentor at most its eligible mentees and as many of the lightest loads of
    the mentees who can be matched as fit its capacity; the one count, which ``count_bound``
    tightens under a budget), and ``C`` the mentees with a demand and an eligible pair (no
    score read).

    >>> fig = Figures(np.array([2, 0, 5]), np.zeros(3), np.array([1, 2]), np.zeros(2))
    >>> s = Survey(np.zeros(1), np.zeros(1, np.int64), fig)
    >>> count_bounds(s, np.array([1, 1, 2]), None, np.array([2.0, 1.5]))
    (2, 2)
    """
    from ..solvers.fair_bounds import most_pairs

    n = len(survey_.figures.eligible)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    can = (dem > 0) & (survey_.figures.eligible > 0)
    return most_pairs(survey_.figures, capacity, demand, load), int(can.sum())


def _lower(survey_: Survey, target: int, ceiling: float) -> float:
    """The largest bin edge at most ``ceiling`` above which about ``target`` pairs score
    (``-inf``: every pair)."""
    b = int(np.searchsorted(-survey_.tail, -target, side="right")) - 1  # tail is non-increasing
    if b <= 0:
        return -np.inf
    return min(float(survey_.edges[b]), ceiling)


def proves(problem: AssignmentProblem, solution: Solution, most: int, mentees: int,
           cover: bool) -> bool:
    """Whether ``solution`` reaches the score-free bounds (the module docstring's proof)."""
    chosen = solution.chosen
    if len(chosen) != most:
        return False
    return not cover or len(np.unique(problem.pairs.mentee[chosen])) == mentees


def solve_above_threshold(scorer, data: dict, solve, options, what: str, *, source, problem_of,
                          every, beyond=None) -> tuple[AssignmentProblem, Solution]:
    """Max-min or leximin (``solve(problem, time_left) -> Solution``) on the pairs scoring at
    least a threshold, lowered until the module docstring's proof holds, else on every eligible
    pair (``every()``, which refuses when they do not fit). The tries share the deadline of
    ``options`` (:class:`~mentormatch.solvers.SolverOptions`: its ``time_limit``, default
    ``SEARCH_TIME_LIMIT``, as CP-SAT's tries are a search; from its ``started``, ``pair()``'s
    call); when it passes before a proof, the last try's answer (it meets every constraint) is
    returned "feasible", with the survey's bounds over every pair (:func:`stopped_bounds`). The
    certificate's ``held`` records the threshold, the pairs held, ``U`` and the eligible pairs.

    ``beyond(survey)``, when given, answers instead of a refusal: where the next try's pairs (or
    every pair) would not fit, and at once where the side constraints alone keep every
    assignment below ``U`` (a budget's knapsack of places:
    :func:`mentormatch.solvers.fair_bounds.count_bound`), so that no try could prove anything.

    The caller (:mod:`mentormatch.pipeline.large`) gives the round's pair ``source`` and
    ``problem_of(tau)`` (the pairs scoring at least ``tau`` and the locks), so this module
    imports nothing of it; memory is :mod:`mentormatch.pipeline.memory`'s."""
    import time

    from ..solvers.base import SEARCH_TIME_LIMIT
    from ..solvers.fair_bounds import per_mentee, per_mentor
    from .memory import BYTES_PER_CPSAT_PAIR, REFUSAL_INSTEAD, available_memory, check_fits, fits

    limit = SEARCH_TIME_LIMIT if options.time_limit is None else float(options.time_limit)
    deadline = options.deadline(time.perf_counter(), SEARCH_TIME_LIMIT)
    left = lambda: deadline - time.perf_counter()  # noqa: E731
    n = len(data["mentees"])
    sv = survey(scorer, source, n, data["rules"].score_span, per_mentor(data["capacity"]),
                per_mentee(data["demand"]))
    fig = sv.figures
    most, mentees = count_bounds(sv, data["demand"], data["load"], data["capacity"])
    if beyond is not None and not data["coverage_first"]:
        from ..solvers.fair_bounds import count_bound

        if count_bound(fig, data["capacity"], data["demand"], data["load"],
                       data["side"]) < most:
            return beyond(sv)  # no answer on held pairs reaches U: nothing to prove there
    open_ = (fig.eligible > 0) & ((np.ones(n) if data["demand"] is None else data["demand"]) > 0)
    ceiling = float(fig.best[open_].min()) if np.any(open_) else -np.inf
    # no more pairs than fit (then every pair, where they fit, is tried last)
    room = int(0.8 * available_memory() / BYTES_PER_CPSAT_PAIR)
    target = min(FIRST_PER_PAIR * max(most, 1), room)
    tau, tried, last = _lower(sv, target, ceiling), -1, None
    eligible = int(fig.eligible.sum())
    while np.isfinite(tau):
        count = sv.at_least(tau)
        if count != tried:
            tried = count
            if beyond is not None and not fits(count, BYTES_PER_CPSAT_PAIR):
                return beyond(sv)
            check_fits(f"{what} (the pairs scoring at least {tau:.6g}, where its optimum is "
                       f"proven to lie, of {eligible:,})", count, REFUSAL_INSTEAD, BYTES_PER_CPSAT_PAIR)
            problem = problem_of(tau)
            try:
                solution = solve(problem, left())
            except InfeasibleError:  # maybe for want of the pairs left out: nothing proven
                solution = None
            held = {"threshold": tau, "pairs": len(problem.pairs), "most_pairs": most,
                    "eligible_pairs": eligible}
            if solution is not None and proves(problem, solution, most, mentees, data["coverage_first"]):
                return problem, _with(solution, held=held)
            if solution is not None:
                last = problem, solution, held
            if left() <= 0 and last is not None:
                return last[0], _unproven(last[0], last[1], last[2], limit, sv, data["demand"],
                                          data["coverage_first"])
        target = min(4 * max(count, target), room)
        lower = _lower(sv, target, ceiling)
        tau = lower if lower < tau else -np.inf  # no lower threshold fits: every pair, below
    if beyond is not None and not fits(eligible, BYTES_PER_CPSAT_PAIR):
        return beyond(sv)
    problem = every()
    return problem, solve(problem, left())


def _with(solution: Solution, **entries) -> Solution:
    return dataclasses.replace(solution, certificate={**(solution.certificate or {}), **entries})


def stopped_bounds(survey_: Survey, demand, matched: int, most: int) -> tuple[float, float]:
    """``(threshold_bound, total_bound)`` for every assignment of the whole problem, read from
    the survey alone, when the optimum is known to hold at least ``matched`` pairs (a try's
    count, ``M >= matched``; under ``coverage_first`` its matched mentees, which the optimum
    reaches first) and ``most`` is ``U``:

    - **the worst pair.** Max-min's (and leximin's first entry) ``t*`` is the worst of an
      assignment of ``M`` pairs, each scoring at least ``t*``: the histogram's bins from
      ``t*``'s on hold at least ``M >= matched`` pairs. So ``t*``'s bin is at most the last bin
      ``B`` whose tail holds ``matched`` pairs, and ``t*`` is below that bin's upper edge (one
      bin more for the histogram's rounding at the edges; the largest best score when ``B`` is
      the last bin, into which scores above the span are clipped).
    - **the total.** Each pair of mentee ``i`` scores at most ``best_i``, mentee ``i`` holds at
      most ``min(d_i, eligible_i)`` pairs and any assignment at most ``U``: the rows filled
      highest first (:func:`mentormatch.solvers.rounds.stopped_bound` with no prices).

    >>> fig = Figures(np.array([3, 2, 1]), np.array([3.5, 2.0, 1.5]), np.array([3, 3]), np.zeros(2))
    >>> s = Survey(np.array([0.0, 1.0, 2.0, 3.0]), np.array([6, 4, 2, 1]), fig)
    >>> stopped_bounds(s, None, 2, 3)  # bins from 2.0 hold 2 pairs: t* < 2.0 + two bins
    (3.5, 7.0)
    >>> stopped_bounds(s, np.array([2, 1, 1]), 4, 4)  # t* < 1.0 + two bins; 2 x 3.5 + 2.0 + 1.5
    (3.0, 10.5)
    """
    from ..solvers.rounds import stopped_bound

    fig = survey_.figures
    finite = fig.best[np.isfinite(fig.best)]
    top = float(finite.max()) if len(finite) else 0.0
    last = int(np.flatnonzero(survey_.tail >= max(matched, 1))[-1]) if survey_.tail[0] >= max(matched, 1) else 0
    width = float(survey_.edges[1] - survey_.edges[0]) if len(survey_.edges) > 1 else np.inf
    worst = top if last + 1 >= len(survey_.edges) else min(top, float(survey_.edges[last]) + 2 * width)
    n = len(fig.best)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    total = stopped_bound(fig.best, 0.0, np.minimum(dem, fig.eligible), most)
    return worst, float(total)


def _unproven(problem: AssignmentProblem, solution: Solution, held: dict, limit: float,
              survey_: Survey, demand, cover: bool) -> Solution:
    """A try's answer when the time limit passed before the proof: it meets every constraint,
    but its count was not shown to be the most, so no bound of the try holds for every pair.
    The survey's bounds do (:func:`stopped_bounds`): the worst pair's (``threshold_bound``) and
    the total's (``total_bound``, also ``bound``: the gap is the total's), with ``U`` on the count."""
    chosen = solution.chosen
    matched = len(np.unique(problem.pairs.mentee[chosen])) if cover else len(chosen)
    worst, total = stopped_bounds(survey_, demand, matched, held["most_pairs"])
    total = max(total, solution.objective)  # (the same sum, rounded otherwise)
    message = (f"stopped at the time limit ({limit:g} s) while holding the pairs scoring at least "
               f"{held['threshold']:.6g}: the answer meets every constraint, but with "
               f"{len(solution.chosen)} pairs of at most {held['most_pairs']} it is not proven "
               f"to have the most; over every pair the worst pair is at most {worst:.6g} and the "
               f"total at most {total:.6g}")
    return dataclasses.replace(
        _with(solution, held=held, timed_out=True, threshold_bound=worst, total_bound=total,
              message=message),
        status="feasible", bound=total, message=message)
