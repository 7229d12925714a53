"""The scorers of max-min's flows on ``s + W [s >= t]`` (:mod:`mentormatch.solvers.bottleneck`)
and their weight ``W``: a held candidate set as a block scorer, the threshold on blocks, on
bounds (``W`` kept out of the float32 bounds: taken off the prices, :class:`ThresholdBounds`)
and on a task's rows of bounds."""
from __future__ import annotations

import math

import numpy as np

from .base import PairBonus
from .bonus import BonusBounds, BonusRows

__all__ = ["HeldRows", "ThresholdBlocks", "ThresholdBounds", "ThresholdRows", "lift_weight", "score_power",
           "threshold_weight"]


def threshold_weight(n_max: float, largest: float) -> float:
    """The weight ``W`` of ``s + W [s >= t]``: the least power of two at least ``2 (n_max + 1)
    (2**e + 1)``, ``2**e`` the least power of two at least ``max(1, largest)``.

    Why it is enough: ``largest`` bounds ``|s|`` over the pairs the flow chose and ``-t``, so two
    assignments of at most ``n_max`` pairs of the flow's network (pairs at least ``t``, positive
    pairs) differ in total by at most ``2 n_max 2**e``, and by ``n_max`` quanta more once
    rounded; ``W`` exceeds that by at least ``2 (n_max + 1)``, so one more pair at least ``t``
    outweighs any change of the total. It depends on ``largest`` only through its power of two,
    and adding it to a score below it keeps the flow's integer scale
    (:func:`mentormatch.solvers.quantize.choose_scale` of ``W + s``) at ``2**-(k + 1)`` of the cost
    limit for ``W = 2**k``: every source that sees the same power of two solves the same integer
    problem.

    >>> threshold_weight(88, 5.2), threshold_weight(88, 7.9), threshold_weight(88, 54.0)
    (2048.0, 2048.0, 16384.0)
    >>> threshold_weight(0, 0.0)
    4.0
    """
    top = score_power(largest)
    return float(2.0 ** math.ceil(math.log2(2.0 * (float(n_max) + 1.0) * (top + 1.0))))


def score_power(largest: float) -> float:
    """``2**e``, the least power of two at least ``max(1, largest)``: what a source's weights
    read from the scores (every source holding the best pair reads the same).

    >>> score_power(5.2), score_power(0.3), score_power(8.0)
    (8.0, 1.0, 8.0)
    """
    e = max(0, math.ceil(math.log2(largest))) if largest > 0 and math.isfinite(largest) else 0
    return float(2.0 ** e)


class HeldRows:
    """A held candidate set as a block scorer: rows ``a:b`` as a dense ``(b - a) x m`` block,
    ``-inf`` where a pair is not a candidate. What lets
    :func:`mentormatch.solvers.bottleneck.solve_held` run the complete set
    through the same certified flows as the scale path's scorers."""

    def __init__(self, pairs, score: np.ndarray):
        self.pairs, self.score = pairs, np.asarray(score, np.float64)
        self.starts = pairs.starts()
        self.largest = float(np.abs(self.score).max(initial=0.0))

    def __call__(self, rows: slice) -> np.ndarray:
        a, b = rows.start, rows.stop
        lo, hi = int(self.starts[a]), int(self.starts[b])
        block = np.full((b - a, self.pairs.n_mentors), -np.inf)
        block[self.pairs.mentee[lo:hi] - a, self.pairs.mentor[lo:hi]] = self.score[lo:hi]
        return block


class ThresholdBlocks:
    """``s + weight`` where ``s >= threshold``, else ``s`` (a block scorer: mentee rows)."""

    def __init__(self, scorer, threshold: float, weight: float):
        self.scorer, self.t, self.w = scorer, threshold, weight

    def __call__(self, rows: slice) -> np.ndarray:
        block = np.array(self.scorer(rows), dtype=np.float64, copy=True)
        block[block >= self.t] += self.w  # -inf stays -inf
        return block


def lift_weight(scorer) -> float:
    """The weight ``w`` a bounded scorer's lift (:class:`ThresholdBounds`) adds to the pairs
    whose bound reaches its threshold, above their stored bound; 0 for a scorer without one."""
    lift = getattr(scorer, "lift", None)
    return 0.0 if lift is None else float(lift[1])


class ThresholdBounds(BonusBounds):
    """A bounded scorer for the flow on ``s + weight [s >= threshold]`` whose float32 bounds are
    the base's plain ones: the weight is taken off the price instead (the **lift**).

    The checks of :mod:`mentormatch.solvers.bounded` compare ``bound - p_j`` with ``u_i +
    tol``. Folding ``w`` into the float32 bound (``u + w [u + margin >= t]``, until s22) made
    every bound as large as ``w`` (about ``2 n_max`` times the largest score: 2**21 at 100,000
    x 20,000), so its rounding, about ``w 2**-22``, entered the margin and the checks' slack
    (0.18 at 20,000 x 5,000, about 1 at 100,000 x 20,000, against scores of 0-9): most of a
    row became a suspect, and max-min at 100,000 x 20,000 ran out of memory. The optimal
    prices of these flows hold the same ``w`` (a mentor every unmatched mentee wants is priced
    near ``w + s``), so in ``s + w [s >= t] - p_j`` it cancels: a pass computes ``bound -
    (p_j - w)`` on the pairs whose bound reaches ``t`` (``bound + margin >= t``) and ``bound -
    p_j`` on the others (:meth:`less`), the price less ``w`` taken in float64 and rounded once.
    Every number of the float32 arithmetic is then of the size of the plain scores and prices;
    the check's statement is the same (``s + w [s >= t] - p_j <= bound + margin - (p_j - w [bound
    + margin >= t])``), and so is the flow.

    So :meth:`upper`, :attr:`largest` and :attr:`margin` are the base's (the stored bounds);
    a score of the flow (:meth:`exact_scores`) is at most ``upper + margin + w`` where the
    bound reaches ``t``, and :attr:`lift` tells a pass ``(t, w)``."""

    def __init__(self, base, threshold: float, weight: float):
        super().__init__(base, PairBonus())
        self.t, self.w = threshold, weight

    @property
    def lift(self) -> tuple[float, float]:
        """``(t, w)``: the pairs whose bound reaches ``t`` score ``w`` more (class docstring)."""
        return self.t, self.w

    @property
    def largest(self) -> float:
        """No eligible pair's stored bound is larger in size (the base's: plain scores)."""
        return self.base.largest

    @property
    def margin(self) -> float:
        """The base's: the stored bounds are the base's, unchanged."""
        return self.base.margin

    def subset(self, rows=None, cols=None) -> "ThresholdBounds":
        return ThresholdBounds(self.base.subset(rows=rows, cols=cols), self.t, self.w)

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        return self.base.upper(a, b, out)

    def less(self, a: int, b: int, out, price: np.ndarray, lifted: np.ndarray) -> np.ndarray:
        """``bound - price`` of rows ``a:b`` (float32, in ``out``), with the lifted price
        ``lifted`` (``price - w`` in float64, rounded to float32) on the pairs whose bound
        reaches the threshold: what a pass compares (class docstring)."""
        return _less(self.base, a, b, out, self.t, price, lifted)

    def bounds_rows(self, a: int, b: int) -> "ThresholdRows":
        """Rows ``a:b`` with the threshold, for a task of a pass on an executor (see
        :meth:`mentormatch.solvers.bonus.BonusBounds.bounds_rows`)."""
        return ThresholdRows(self.base.bounds_rows(a, b), self.t, self.w)

    def exact_scores(self, row: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        s = self.base.exact_scores(row, mentor)
        return np.where(s >= self.t, s + self.w, s)

    def plain_scores(self, values: np.ndarray) -> np.ndarray:
        """The plain scores (to within a rounding) of the flow's values ``s + w [s >= t]``: what
        the certificate sizes its "near a violation" from (:meth:`.bounded.check._Certifier.check`)."""
        return np.where(values >= self.t + 0.5 * self.w, values - self.w, values)


def _less(base, a: int, b: int, out, t: float, price: np.ndarray, lifted: np.ndarray) -> np.ndarray:
    """``base``'s bounds of rows ``a:b`` less ``lifted`` where ``bound + margin >= t`` (every
    eligible pair at ``t = -inf``), less ``price`` elsewhere, in place (float32). Removed pairs
    stay below ``-BIG / 2`` whichever price they get (``|price| <= BIG / 4``)."""
    from ..scale import BIG, BoundedScorer

    margin = base.margin
    if not t - margin > -BIG / 4:  # every eligible pair reaches t: one price for all
        if type(base) is BoundedScorer:  # (taken off with the groups' table: one pass less)
            return base.upper(a, b, out, less=lifted)
        up = base.upper(a, b, out)
        return np.subtract(up, lifted[None, :], out=up)
    up = base.upper(a, b, out)
    # (float32 comparisons: rounding is monotone, so a pair with bound + margin >= t in the
    # reals is in the mask; two passes and one temporary, as the bound with w added took)
    mask = np.add(up, margin) >= t
    np.subtract(up, lifted[None, :], out=up, where=mask)
    np.logical_not(mask, out=mask)
    np.subtract(up, price[None, :], out=up, where=mask)
    return up


class ThresholdRows(BonusRows):
    """Some rows' bounds with the threshold (:meth:`ThresholdBounds.bounds_rows`): what a task
    of a bound pass carries, the base's rows and ``(t, w)``; its bounds are the base's and its
    :meth:`less` is :meth:`ThresholdBounds.less` on these rows."""

    def __init__(self, base, threshold: float, weight: float):
        self.base, self.t, self.w = base, threshold, weight

    @property
    def lift(self) -> tuple[float, float]:
        return self.t, self.w

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        return self.base.upper(a, b, out)

    def less(self, a: int, b: int, out, price: np.ndarray, lifted: np.ndarray) -> np.ndarray:
        return _less(self.base, a, b, out, self.t, price, lifted)

    def bounds_rows(self, a: int, b: int) -> "ThresholdRows":
        return ThresholdRows(self.base.bounds_rows(a, b), self.t, self.w)
