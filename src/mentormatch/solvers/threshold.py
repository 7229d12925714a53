"""The scorers of max-min's flows on ``s + W [s >= t]`` (:mod:`mentormatch.solvers.bottleneck`)
and their weight ``W``: a held candidate set as a block scorer, the threshold on blocks, on
bounds and on a task's rows of bounds."""
from __future__ import annotations

import math

import numpy as np

from .base import PairBonus
from .bonus import BonusBounds, BonusRows

__all__ = ["HeldRows", "ThresholdBlocks", "ThresholdBounds", "ThresholdRows", "score_power", "threshold_weight"]


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


class ThresholdBounds(BonusBounds):
    """A bounded scorer with ``s + weight [s >= threshold]``: the bound ``u`` (with the base's
    margin) becomes ``u + weight [u + margin >= threshold]``, still a bound."""

    def __init__(self, base, threshold: float, weight: float):
        super().__init__(base, PairBonus())
        self.t, self.w = threshold, weight

    @property
    def _bonus_max(self) -> float:
        return float(self.w)

    def subset(self, rows=None, cols=None) -> "ThresholdBounds":
        return ThresholdBounds(self.base.subset(rows=rows, cols=cols), self.t, self.w)

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        return _raise(self.base.upper(a, b, out), self.base.margin, self.t, self.w)

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


def _raise(up: np.ndarray, margin: float, t: float, w: float) -> np.ndarray:
    """``u + w [u + margin >= t]`` on the eligible bounds ``up`` (``> -BIG / 2``), in place.
    (Two passes and one temporary: a boolean index's gather and scatter cost several times
    more, 16 % of the max-min's CPU at 20,000 x 5,000. The same arithmetic, so the same
    values.)"""
    from ..scale import BIG

    mask = np.add(up, margin) >= t
    if not t - margin > -BIG / 4:  # else u + margin >= t already means u > -BIG / 2
        mask &= up > -BIG / 2
    np.add(up, w, out=up, where=mask)
    return up


class ThresholdRows(BonusRows):
    """Some rows' bounds with the threshold (:meth:`ThresholdBounds.bounds_rows`): what a task
    of a bound pass carries, the base's rows and ``(t, w)``."""

    def __init__(self, base, threshold: float, weight: float):
        self.base, self.t, self.w = base, threshold, weight

    def upper(self, a: int, b: int, out=None) -> np.ndarray:
        return _raise(self.base.upper(a, b, out), self.base.margin, self.t, self.w)

    def bounds_rows(self, a: int, b: int) -> "ThresholdRows":
        return ThresholdRows(self.base.bounds_rows(a, b), self.t, self.w)
