"""A Lagrangian bound and primal for score floors by group at any size: the inner problem is the
certified min-cost flow on scores scaled by a factor per mentee of each group, so demand and
capacity stay exact and the bound holds over EVERY pair of the source.

Why it is valid
---------------
A score floor asks each group ``g`` for a mean score per member of at least ``alpha`` times the
mean over all ``N`` mentees: ``N G_g >= alpha |g| T``, with ``G_g`` the total score of the pairs
of ``g``'s mentees and ``T`` the total score (the row of :mod:`mentormatch.solvers.linear`:
``sum_k (alpha |g| - N [mentee of k in g]) s_k x_k <= 0``). Dualising it with ``lambda_g / N``
(``lambda_g >= 0``), for every assignment that meets the floors::

    score(x) <= score(x) + sum_g (lambda_g / N) (N G_g(x) - alpha |g| T(x))
              = sum_ij f_i s_ij x_ij,    f_i = 1 + lambda_g(i) - alpha sum_g lambda_g |g| / N

so ``U(lambda) = max { sum_ij max(f_i, eps) s_ij x_ij : x a capacity flow }`` bounds the optimum
for every ``lambda >= 0`` (raising a factor to ``eps > 0`` only raises the max; scores are at
least 0, so ``f s <= max(f, eps) s``). An assignment that meets a floor only within the rows'
tolerance (``N G_g - alpha |g| T >= - tol_g``, ``tol_g = ROW_TOL x`` the row's scale,
:func:`~mentormatch.solvers.linear_rows.floor_scales`, as the check holds it) is worth at most
``U(lambda) + sum_g lambda_g tol_g / N``: the bound kept. The max is the plain certified flow
on scaled scores (a :class:`~mentormatch.solvers.base.PairBonus` with ``scale_mentee`` folded
into the source's scorer, :mod:`mentormatch.solvers.bonus`: a factor ``f >= 0`` times an upper
bound of ``s`` bounds ``f s``); its certified ``bound`` (over every pair) is used, and the
least one seen kept.

The primal: the flow at ``lambda`` is itself an assignment; it meets the floors once the groups
that fall short weigh enough. As for share floors (:mod:`mentormatch.solvers.floors`), the
multipliers of the groups short of their floor are raised (doubling), then bisected between the
last value where the group fell short and the last one where every floor held; the best
assignment that meets them (its plain scores recomputed, the floors checked) and the least bound
are kept.

**An objective bonus** (priority, continuity: :mod:`mentormatch.pipeline.bonus`) counts in the
objective only; the floors read the plain scores. The objective is then ``score(x) + b(x)`` and
the same dualisation gives ``score(x) + b(x) <= sum_ij (f_i s_ij + b_ij) x_ij``: the inner
problem is the certified flow on ``max(f_i, eps) s_ij + b_ij`` (the bonus folded in after the
scale, :class:`~mentormatch.solvers.base.PairBonus`), whose bound holds over every pair for the
objective with the bonus; the floors of each flow are checked on the plain scores
(``(flow score - b) / f``), and the best assignment is the one with the largest
``score + bonus``. :func:`fold_bonus` turns the engine's bonus into such a ``PairBonus``.

**The gap left** by the flows (the floors' model has an integrality gap: 600 x 200 with a
priority bonus, LP bound 2747.574, optimum 2747.463) is closed by
:mod:`mentormatch.solvers.scorefloors_mip`: every pair priced at the least bound's flow prices,
the pairs that cannot be in a better assignment fixed out, HiGHS's exact MIP on the rest within
the time left; its bound, with the best value, is a bound over every pair.

Handled: score floors alone (:func:`handles`): one mentor per mentee, unit loads, whole
capacities, no locks, no ``coverage_first``; an objective bonus when :func:`fold_bonus` can fold
it; other models stay on the engine's column generation. Scores must be at least 0: ``pair()``'s are (non-negative weights on
features in [0, 1]); a complete set is checked up front, and a negative score among the flows'
candidates voids the answer (the engine then keeps its column generation).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time

import numpy as np

from .base import PairBonus, SideConstraints, SolverOptions, proven
from .floors import group_positions, raise_then_bisect
from .inner import FlowClock, InnerFlow, LagrangeResult, one_each, plain_inner
from .linear_rows import ROW_TOL, floor_scales, mentee_best
from .sources import ArraySource

log = logging.getLogger(__name__)

__all__ = ["best_scores", "fold_bonus", "handles", "solve_score_floors"]

#: At most this many inner flows.
MAX_FLOWS = 16
#: The least factor a mentee's scores are scaled by (see the module docstring).
EPS = 1e-6
#: The first multiplier of a short group: a 2 % weight on its mentees' scores.
FIRST_STEP = 0.02


def handles(side: SideConstraints, capacity, demand, load, coverage_first: bool, bonus,
            locked) -> bool:
    """True when the only side rows are score floors and the inner problem is a plain flow with
    one mentor per mentee, up to the objective bonus (``bonus``: whether it folds is
    :func:`fold_bonus`'s answer, which needs the source)."""
    if set(side.active()) != {"score_floor"} or side.group is None:
        return False
    if not np.any(np.asarray(side.group) >= 0):
        return False
    return plain_inner(capacity, load, coverage_first, None, locked) and one_each(demand)


def fold_bonus(source, bonus) -> PairBonus | None:
    """The engine's objective bonus (a function ``(mentee, mentor) -> extra``) as a
    :class:`~mentormatch.solvers.base.PairBonus` the inner flows fold into ``source``: the
    ``PairBonus`` itself when ``bonus`` is its ``on_pairs`` (the scale path passes that), else,
    on a source that holds its pairs (the complete set), every pair's value listed; None when
    neither (no bonus, or a function on blocks or bounds: the Lagrangian then stays out).

    >>> import numpy as np
    >>> from mentormatch.solvers.sources import ArraySource
    >>> src = ArraySource(np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([.5, .2, .9]), 2, 2)
    >>> fold_bonus(src, lambda i, j: 0.1 * i).apply(src.s, src.i, src.j).round(3).tolist()
    [0.5, 0.2, 1.0]
    """
    from .sources import ArraySource

    if bonus is None:
        return None
    owner = getattr(bonus, "__self__", None)
    if (isinstance(owner, PairBonus) and getattr(bonus, "__func__", None) is PairBonus.on_pairs
            and owner.scale_mentee is None):
        return owner
    if isinstance(source, ArraySource):
        i, j = np.asarray(source.i, np.int64), np.asarray(source.j, np.int64)
        return PairBonus(mentee=i, mentor=j, value=np.asarray(bonus(i, j), float),
                         n_mentors=source.n_mentors)
    return None


def best_scores(source) -> np.ndarray:
    """Each mentee's best score over every pair of ``source`` (``-inf``: none), which fixes the
    scale of the floors' rows (:func:`~mentormatch.solvers.linear_rows.floor_scales`): from the
    pairs in memory, else from one ``best(1)`` pass.

    >>> from mentormatch.solvers.sources import ArraySource
    >>> best_scores(ArraySource(np.array([0, 0, 2]), np.array([0, 1, 0]), np.array([.5, .9, .2]),
    ...                         3, 2)).tolist()
    [0.9, -inf, 0.2]
    """
    if isinstance(source, ArraySource):
        return mentee_best(source.i, source.s, source.n_mentees)
    i, _, s = source.best(1)
    return mentee_best(i, s, source.n_mentees)


def floor_slack(mentee: np.ndarray, score: np.ndarray, pos: np.ndarray, size: np.ndarray,
                alpha: float, n: int) -> np.ndarray:
    """Each group's ``N G_g - alpha |g| T`` for the pairs ``(mentee, score)`` (>= 0: the floor
    holds), ``pos`` each mentee's group position (-1: none)."""
    g = pos[mentee]
    G = np.bincount(g[g >= 0], weights=score[g >= 0], minlength=len(size))
    return n * G - alpha * size * float(score.sum())


def solve_score_floors(source, capacity, demand, side: SideConstraints, options: SolverOptions,
                       deadline: float, bonus: PairBonus | None = None) -> LagrangeResult | None:
    """Best bound and best assignment meeting the score floors (see the module docstring); None
    when no flow met the floors in the time (``deadline``: as in
    :func:`mentormatch.solvers.floors.solve_floors`; the bound is None when no flow was
    certified). With ``bonus`` (an objective
    bonus, :func:`fold_bonus`), ``value`` and ``bound`` are of ``score + bonus`` and ``s`` the
    plain scores."""
    say = log.info if options.progress else log.debug
    n = source.n_mentees
    alpha = float(side.score_floor)
    groups, size, pos = group_positions(side.group)
    cap = np.asarray(capacity, float)
    dem = np.ones(n) if demand is None else np.asarray(demand, float)
    if hasattr(source, "s") and np.any(np.asarray(source.s) < 0):
        return None  # the scaled bound needs scores >= 0 (see the module docstring)
    inner = InnerFlow(source, cap, demand, options, deadline)  # (none cut past the deadline)
    # the one rule of a row (linear_rows.ROW_TOL): each floor's row, - slack, held to ROW_TOL x
    # its scale, fixed by each mentee's best score over every pair (linear_rows.floor_scales).
    # Without a bonus, from the first flow (factors 1), whose candidates start from each
    # mentee's best pairs: by score on blocks (certify.solve_scored), by the bound on bounds
    # (a mentee's k best bounds hold its best exact pair unless k others' bounds exceed its
    # score; the scale is then at most the problem's, and the rule at most stricter). A
    # pass of best(1) to find them cost 2.0 s of CPU at 3,000 x 1,500 on blocks (the whole
    # call 2.1 s) and 4.9 s at 20,000 x 5,000 on bounds (17.5 s)
    from_first_flow = bonus is None and not isinstance(source, ArraySource)
    best_of = None if from_first_flow else best_scores(source)
    tol = None if from_first_flow else ROW_TOL * floor_scales(best_of, pos, size, alpha)
    seconds: list[float] = []
    seen = {"negative": False}  # a negative score among a flow's candidates
    best_U, best = math.inf, None  # best: (value, i, j, s, chosen); value: score + bonus
    m = source.n_mentors
    at_best_U: list = []  # the least bound's optimal flow: scale and bonus, (prices, problem), allowance, U
    union: list = []  # every flow's chosen pairs (mentee, mentor, plain score)

    clock = FlowClock(deadline, MAX_FLOWS)

    def time_for_another() -> bool:
        return not seen["negative"] and clock.another(len(seconds), seconds[-1] if seconds else 0.0)

    def flow_at(lam: np.ndarray) -> np.ndarray:
        """Solve at ``lam``; returns each group's slack (and keeps bound and primal)."""
        nonlocal best_U, best, best_of, tol
        t = time.perf_counter()
        common = 1.0 - alpha * float(lam @ size) / n
        factor = np.maximum(common + np.where(pos >= 0, lam[np.maximum(pos, 0)], 0.0), EPS)
        scaled = (PairBonus(scale_mentee=factor, n_mentors=m) if bonus is None else
                  dataclasses.replace(bonus, scale_mentee=factor, n_mentors=m))
        problem, sol = inner.solve(scaled, cap)
        P = problem.pairs
        extra = 0.0 if bonus is None else bonus.on_pairs(P.mentee, P.mentor)
        plain = (problem.score - extra) / factor[P.mentee]
        # (a score of 0 comes back as 0 exactly; the bonus's rounding is far below 1e-9)
        seen["negative"] |= bool(np.any(plain < (0 if bonus is None else -1e-9)))
        if tol is None:  # the first flow, at factors 1: plain is the scores themselves
            best_of = mentee_best(P.mentee, plain, n)
            tol = ROW_TOL * floor_scales(best_of, pos, size, alpha)
        mt = P.mentee[sol.chosen]
        slack = floor_slack(mt, plain[sol.chosen], pos, size, alpha, n)
        clock.timed_out |= bool((sol.certificate or {}).get("timed_out"))
        if sol.bound is not None and math.isfinite(sol.bound):
            # an assignment the floors' rule passes falls short of a floor by up to its tol:
            # worth at most the flow's bound plus sum_g lambda_g tol_g / N (module docstring).
            # A flow stopped at the time limit still bounds its scaled problem over every pair
            # (so the answer keeps a bound); only an optimal flow's prices close the gap
            allowance = float(lam @ tol) / n
            U = float(sol.bound) + allowance
            if sol.status == "optimal" and (not at_best_U or U < at_best_U[3]):
                at_best_U[:] = [scaled, (sol.prices, problem), allowance, U]
            best_U = min(best_U, U)
        union.append((mt, P.mentor[sol.chosen], plain[sol.chosen]))
        meets = bool(np.all(slack >= -tol)) and bool(np.all(np.bincount(mt, minlength=n) <= dem))
        value = float(plain[sol.chosen].sum())
        if bonus is not None:
            value += float(np.sum(extra[sol.chosen]))
        if meets and (best is None or value > best[0] + 1e-12):
            on = np.zeros(len(P), bool)
            on[sol.chosen] = True
            best = (value, P.mentee, P.mentor, plain, on)
        seconds.append(time.perf_counter() - t)
        say("score floors: %d flows, short groups %d, U %.6g, best %.6g, %.2fs", len(seconds),
            int(np.sum(slack < -tol)), best_U, -math.inf if best is None else best[0], seconds[-1])
        return slack < -tol

    lam = raise_then_bisect(flow_at, len(groups), lambda: FIRST_STEP, time_for_another,
                            lambda: best is not None)
    if best is None or seen["negative"]:
        return None
    value, i, j, s, on = best
    cert = {"method": "lagrangian score floors + certified flow", "flows": len(seconds),
            "timed_out": clock.timed_out,
            **({} if bonus is None else {"objective": "score + bonus"}),
            "lagrangian_bound": best_U,
            "multipliers": {str(g): float(x) for g, x in zip(groups, lam)},
            "flow_seconds": [round(x, 3) for x in seconds]}
    bound = None if best_U == math.inf else max(best_U, value)  # (none certified in the time)
    if at_best_U and not proven(bound, value) and time.perf_counter() < deadline:
        # the gap left: every pair priced at the best flow's prices, the exact MIP on the pairs
        # that can still beat the best assignment (scorefloors_mip)
        from .scorefloors_mip import close_gap

        def meets(mentee, plain) -> bool:
            return bool(np.all(floor_slack(mentee, plain, pos, size, alpha, n) >= -tol))

        union_pairs = tuple(np.concatenate([u[t] for u in union]) for t in range(3))
        scaled_at, prices_at, allowance_at, _ = at_best_U
        closing = close_gap(source, cap, demand, side, options, deadline, scaled_at, prices_at,
                            best, union_pairs, bonus, best_U, meets, best_of, allowance_at)
        if closing is not None:
            cert["closing"] = closing.certificate
            cert["timed_out"] = cert["timed_out"] or bool(closing.certificate.get("timed_out"))
            if closing.value >= value - 1e-12:
                i, j, s, on, value = closing.i, closing.j, closing.s, closing.chosen, closing.value
            bound = min(bound, max(closing.bound, value))
    return LagrangeResult(i, j, s, on, value, bound, cert)
