"""The engine's unit of score: every score of a problem times a power of two fixed by the
problem, so that the largest of the mentees' best scores, in size, lies in ``[1, 2)``; the
answer divided by it on the way out.

Why: HiGHS's tolerances are absolute (dual feasibility 1e-7, the MIP's absolute gap 1e-9), and
so are a few of the engine's own (:func:`~mentormatch.solvers.base.proven`'s 1e-9, the pricing's
1e-9). With every score near 1e-8, HiGHS called the empty assignment optimal with the bound
-0.0, under an optimum of 4.6e-8 (``tests/test_hunt_s18.py``). A power of two multiplies
exactly (no rounding, short of overflow or underflow), and a problem whose scores are all
multiplied by ``2**k`` gets the factor divided by ``2**k``: the engine then sees the same
numbers, bit for bit, so multiplying every score by a power of two changes neither the pairs nor
the status, and the objective and bound exactly by that factor (``tests/test_unit.py``).

The factor comes from each mentee's best score (as the score floors' scales do,
:func:`~mentormatch.solvers.linear_rows.floor_scales`), the same on every source: from the pairs
in memory, else from one pass (on bounds, each row's largest bound and the exact score of its
pair, and only where those leave the binade open, the exact best of the rows that could reach
it: ``_largest_best_on_bounds``; on blocks without a cache the same over bounds of the same
tables without the rules that only remove pairs, ``_largest_best_on_block_bounds``; else each
row's largest, block by block). A source in blocks or through
bounds is scaled by folding the factor into its scorer (``PairBonus.scale_mentee``,
:mod:`mentormatch.solvers.bonus`), so the Lagrangians still see a source of their kind.

What the scores' unit reaches, and so what is scaled with them: the pair scores, the objective
bonus (priority, continuity), and ``SideConstraints.success_scale`` (a pair's success
probability is ``score / success_scale``, a share: unchanged). Score floors compare shares of
scores (unchanged); budgets, stipends, loads and counts are in other units.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["score_unit", "source_unit", "scale_inputs", "unscale_answer", "SCORE_FIGURES"]

#: The certificate entries in the scores' unit (at any depth), divided by the factor on the way
#: out; every other entry is a count, a time, a share, a status or a name, and so is every
#: figure of the ``coverage`` stage (its objective counts mentees).
SCORE_FIGURES = frozenset({
    "bound", "lagrangian_bound", "mip_bound", "max_reduced_cost_outside", "adjusted_objective",
    "adjusted_bound", "value", "D", "level_bounds", "lambda", "lambda_primal", "multipliers",
    "price_curve", "bonus_total"})


def score_unit(score: np.ndarray) -> float:
    """The power of two that brings the largest ``|score|`` into ``[1, 2)`` (1 when every
    score is 0 or one is not finite).

    >>> score_unit(np.array([3e-8, 1e-8])), score_unit(np.array([0.5, 1.9])), score_unit(np.zeros(2))
    (33554432.0, 1.0, 1.0)
    """
    top = float(np.max(np.abs(np.asarray(score, float)), initial=0.0))
    if not (top > 0 and math.isfinite(top)):
        return 1.0
    return math.ldexp(1.0, min(1 - math.frexp(top)[1], 1000))  # finite below 1e-300


def source_unit(source) -> float:
    """:func:`score_unit` of each mentee's best score over every pair of ``source``."""
    from .linear_rows import mentee_best
    from .sources import ArraySource, BlockSource

    if isinstance(source, ArraySource):
        best = mentee_best(source.i, source.s, source.n_mentees)
    elif isinstance(source, BlockSource):
        top = _largest_best_on_block_bounds(source)
        if top is not None:
            return score_unit(np.array([top]))
        # each row's largest (-inf: no eligible pair)
        best = np.concatenate([np.max(source.scorer(slice(a, b)), axis=1, initial=-np.inf)
                               for a, b in source._rows()] or [np.zeros(0)])
    else:
        return score_unit(np.array([_largest_best_on_bounds(source)]))
    return score_unit(best[np.isfinite(best)])


def _largest_best_on_bounds(source) -> float:
    """A number in the same binade as the largest ``|best score|`` of a mentee of a
    BoundedSource (:func:`score_unit` reads only that binade), 0 when every best is 0 or no
    mentee has a pair; exact scores only where the bounds leave the binade open.

    Each row's best lies in ``[low, high]`` (``BoundedSource.best_within``), so its size in
    ``[a, b]``. With ``A`` the largest ``a`` and ``T`` the power of two just above it, a row with
    ``b < T`` cannot lift the largest size out of ``[A, T)``; only the rows with ``b >= T`` (and
    ``b > 0``) are scored exactly (``BoundedSource.best_of_rows``), and the largest of ``A`` and
    their sizes is in the binade of the largest size. The same unit as ``best(1)``'s pairs give (``tests/test_unit.py``), without
    scoring every pair whose bound reaches a row's first exact score (3.1 of best(1)'s 5.5 s
    at 20,000 x 5,000)."""
    low, high = source.best_within()
    return _largest_best(low, high, source.best_of_rows)


def _largest_best_on_block_bounds(source) -> float | None:
    """:func:`_largest_best_on_bounds` for a BlockSource whose scorer offers bounds of its
    scores (``_BlockScorer.unit_bounds``: the same tables without the rules that only remove
    pairs), None otherwise (a cache, a bonus folded in, a rule the bounds cannot carry: one
    pass over the blocks then). A rule beyond the bounds may remove a row's best-bound pair:
    that row's ``low`` is ``-inf`` (it may even have no eligible pair), so it lifts nothing
    and is scored exactly, by the block scorer, wherever its bound could leave the binade."""
    from .sources import BoundedSource

    scorer = source.scorer
    bounds = scorer.unit_bounds() if hasattr(scorer, "unit_bounds") else None
    if bounds is None:
        return None
    on = BoundedSource(bounds, source.n_mentees, source.n_mentors)
    col, high = on.top_bounds()
    rows = np.flatnonzero(high > -np.inf)
    order = np.asarray(bounds.order, np.int64)
    low = np.full(len(high), -np.inf)
    low[rows] = scorer.judged_scores(order[rows], col[rows])

    def exact(r, c):
        return scorer.judged_scores(order[r], c)

    return _largest_best(low, high, lambda r, lo: on.best_of_rows(r, lo, exact))


def _largest_best(low: np.ndarray, high: np.ndarray, best_of_rows) -> float:
    """The rule of :func:`_largest_best_on_bounds`: per row ``high`` bounds its best score and
    ``low`` is an exact score of an eligible pair of it (``-inf``: none known, when ``high``
    is ``-inf`` no eligible pair); ``best_of_rows(rows, low)`` the exact best of those rows
    (``-inf``: none)."""
    has = np.isfinite(high)
    known = has & np.isfinite(low)
    size_low = np.where(~known, 0.0, np.where(low >= 0, low, np.where(high <= 0, -high, 0.0)))
    size_high = np.where(has, np.maximum(np.abs(low), np.abs(high)), 0.0)  # inf: low unknown
    A = float(np.max(size_low, initial=0.0))
    T = math.ldexp(1.0, math.frexp(A)[1]) if A > 0 else 0.0  # A in [T / 2, T)
    rows = np.flatnonzero(has & (size_high >= T) & (size_high > 0))
    if not len(rows):
        return A
    exact = best_of_rows(rows, low[rows])
    exact = np.abs(exact[np.isfinite(exact)])
    return max(A, float(np.max(exact, initial=0.0)))


def scale_inputs(source, side, bonus, factor: float):
    """``(source, side, bonus)`` in the engine's unit: the scores and the bonus times
    ``factor``, ``success_scale`` too. ``source``: an ArraySource, BlockSource or
    BoundedSource (:mod:`mentormatch.solvers.sources`); ``bonus`` None or ``(mentee, mentor) ->
    extra objective``."""
    from .base import PairBonus
    from .bonus import BonusBlocks, BonusBounds
    from .sources import ArraySource, BlockSource, BoundedSource

    if factor == 1.0:
        return source, side, bonus
    n, m = source.n_mentees, source.n_mentors
    by_factor = PairBonus(scale_mentee=np.full(n, factor), n_mentors=m)
    if isinstance(source, ArraySource):
        scaled = ArraySource(source.i, source.j, source.s * factor, n, m)
    elif isinstance(source, BlockSource):
        scaled = BlockSource(BonusBlocks(source.scorer, by_factor, m), n, m)
    elif isinstance(source, BoundedSource):
        scaled = BoundedSource(BonusBounds(source.scorer, by_factor), n, m)
    else:
        raise TypeError(f"unknown pair source {type(source).__name__}")
    if side is not None:
        side = dataclasses.replace(side, success_scale=float(side.success_scale) * factor)
    owner = getattr(bonus, "__self__", None)
    if isinstance(owner, PairBonus) and getattr(bonus, "__func__", None) is PairBonus.on_pairs:
        # a PairBonus stays one (scorefloors.fold_bonus folds it into the flows on any source)
        def times(a):
            return None if a is None else np.asarray(a, float) * factor

        bonus = dataclasses.replace(owner, per_mentee=times(owner.per_mentee),
                                    value=times(owner.value),
                                    per_mentor=times(owner.per_mentor)).on_pairs
    elif bonus is not None:
        plain = bonus

        def bonus(mentee, mentor):
            return np.asarray(plain(mentee, mentor), float) * factor
    return scaled, side, bonus


def unscale_answer(problem, sol, factor: float, side):
    """The engine's ``(problem, solution)`` back in the scores' unit: scores, objective, bound,
    prices and the certificate's :data:`SCORE_FIGURES` divided by ``factor``, ``side`` the
    caller's; ``certificate["score_unit"]`` records the factor."""
    if sol.certificate is not None:
        sol.certificate["score_unit"] = factor
    if factor == 1.0:
        return problem, sol
    problem = dataclasses.replace(problem, score=problem.score / factor,
                                  side=problem.side if side is None else side)
    prices = (None if sol.prices is None
              else tuple(np.asarray(p, float) / factor for p in sol.prices))
    sol = dataclasses.replace(
        sol, objective=sol.objective / factor,
        bound=None if sol.bound is None else sol.bound / factor, prices=prices,
        certificate=None if sol.certificate is None else _unscaled(sol.certificate, factor))
    return problem, sol


def _unscaled(cert, factor: float, figure: bool = False):
    """A copy of ``cert`` with the figures under :data:`SCORE_FIGURES` keys divided."""
    if isinstance(cert, dict):
        # the score floors' multipliers weigh scores (shares); the share floors' are scores
        shares = "score floors" in str(cert.get("method", ""))
        return {k: v if k == "coverage" else
                _unscaled(v, factor, figure or (k in SCORE_FIGURES
                                                and not (shares and k == "multipliers")))
                for k, v in cert.items()}
    if isinstance(cert, (list, tuple)):
        return type(cert)(_unscaled(v, factor, figure) for v in cert)
    if figure and isinstance(cert, (float, int, np.floating)) and not isinstance(cert, bool):
        return float(cert) / factor
    if figure and isinstance(cert, np.ndarray) and cert.dtype.kind == "f":
        return cert / factor
    return cert
