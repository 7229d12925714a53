"""The levels of the flow leximin (:mod:`mentormatch.solvers.leximin_flow`, and over a pair
source :mod:`mentormatch.solvers.leximin_source`): each pair's score as an integer key, monotone
in the score, such that every level (the scores of one key) lies within the 1e-6 gap of its
least score, so that a lexicographic proof on the keys is one on the scores to the gap.

A level is the score times the levels' ``scale`` rounded (:func:`level_scale`, six significant
digits of the largest score) where that level is within the gap of its least score
(:func:`~mentormatch.solvers.cpsat_levels.within_gap`: ``|round(score * scale)|`` of at least
``10**6``); below, where such a level would be coarse, the level is split at
:func:`~mentormatch.solvers.cpsat_levels.fine_round` of the score (30 significant bits), as
CP-SAT's levels are split (:mod:`mentormatch.solvers.cpsat_levels`). So 5.8e-9 and 6.2e-9 beside
a largest score of 0.5 are two levels (at the scale ``2e6`` alone both were the level 0: the
leximin merged them and still said "optimal"). The keys are a function of the score and the
scale only, never of the set of pairs, so that pairs outside a run (the pair sources' rounds)
are judged in the same keys: fine keys are the rounded score's float64 bits (sign mirrored),
the coarse levels ``round(score * scale)`` moved beyond them by ``2**41``.
"""
from __future__ import annotations

import numpy as np

from .cpsat_levels import FINE_BITS, fine_round, within_gap
from .cpsat_model import _power_scale

__all__ = ["level_scale", "levels_scale", "level_keys", "key_labels", "key_floor"]

#: float64 mantissa bits that :func:`fine_round` leaves 0 (30 significant bits, 29 stored):
#: dropped from a fine key, whose magnitude is then below ``2**40``
_DROP = 52 - (FINE_BITS - 1)
#: the coarse levels' keys start beyond every fine key
_OFFSET = 2 ** 41
#: a key below every score's (an ineligible pair: ``-inf``)
_NONE = np.iinfo(np.int64).min + 1
_MAGNITUDE = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def level_scale(largest: float) -> int:
    """The levels' integer scale for scores whose largest magnitude is ``largest``: ``10**6``
    times the power of two ``2**k`` (``k >= 0``) that brings ``largest`` into ``[1, 2)`` when it
    is below 1, so that scores of 1e-7 keep six significant digits instead of all rounding to
    the levels 0 and 1e-6 (session 21's hunt: a false "optimal"); then fewer powers of ten while
    ``largest * scale`` exceeds ``2**40``. Scores of magnitude 1 and above keep ``10**6``.

    >>> level_scale(6.0), level_scale(5e6), level_scale(4.7e-7)
    (1000000, 100000, 4194304000000)
    """
    largest = abs(float(largest))
    s = 10 ** 6
    if 0.0 < largest < 1.0:
        s *= 2 ** int(-np.floor(np.log2(largest)))
    while s > 1 and largest * s > 2.0 ** 40:
        s //= 10
    return s


def levels_scale(score: np.ndarray) -> tuple[int, bool]:
    """The default levels' scale of a held problem's scores, and whether it is exact: the
    smallest power of ten up to ``10**6`` that makes every score whole (ratings keep small
    integers: every level is one score, the keys are ``round(score * scale)``), else
    :func:`level_scale` of the largest magnitude (the keys :func:`level_keys`).

    >>> levels_scale(np.array([1.0, 3.0])), levels_scale(np.array([2.6e-7, 4.7e-7]))
    ((1, True), (4194304000000, False))
    >>> levels_scale(np.array([1.0, 1e-9, 0.0]))
    (1000000, False)
    """
    s, exact = _power_scale(score, 6)
    big = float(np.max(np.abs(score))) if len(score) else 0.0
    # (whole to within 1e-9 of a unit: a level k != 0 is within 1e-9 of k, far inside the
    # gap, but a score under 1e-9 of a unit is "whole" as 0, the level of 0 itself)
    if not exact or np.any((np.round(score * s) == 0) & (score != 0)):
        return level_scale(big), False
    while s > 1 and big * s > 2.0 ** 40:
        s //= 10
    return s, True


def level_keys(score: np.ndarray, scale: int) -> np.ndarray:
    """The levels' keys (int64) of ``score`` at ``scale`` (the module docstring): monotone in
    the score, and every key's scores within the 1e-6 gap of its least one; ``-inf`` (an
    ineligible pair) below every score.

    >>> k = level_keys(np.array([0.5, 5.8e-9, 6.2e-9, 0.0, 0.4999, 0.50000004]), 2 * 10 ** 6)
    >>> bool(k[3] < k[1] < k[2] < k[4] < k[0]), bool(k[0] == k[5])
    (True, True)
    """
    score = np.asarray(score, np.float64)
    top = 2.0 ** 52 / scale
    x = np.clip(score, -top, top)
    sc = np.round(x * scale).astype(np.int64)
    a = np.abs(sc)
    split = ~within_gap((a - 0.5) / scale, np.full(len(a), 1.0 / scale))  # a coarse level
    keys = np.where(sc >= 0, sc + _OFFSET, sc - _OFFSET)
    if split.any():
        bits = fine_round(x[split]).view(np.int64)
        keys[split] = np.where(bits < 0, -(bits & _MAGNITUDE), bits) >> _DROP
    keys[score == -np.inf] = _NONE
    return keys


def key_labels(keys: np.ndarray, scale: int) -> np.ndarray:
    """The score each key stands for (its coarse level ``round(score * scale) / scale``, or
    the fine-rounded score): the certificate's labels of the levels.

    >>> s = np.array([0.5, 5.8e-9, 0.0, -0.25, 3.0])
    >>> key_labels(level_keys(s, 2 * 10 ** 6), 2 * 10 ** 6).tolist() == fine_round(s).tolist()
    True
    """
    keys = np.asarray(keys, np.int64)
    out = np.empty(len(keys))
    scaled = np.abs(keys) >= _OFFSET
    out[scaled] = (keys[scaled] - np.sign(keys[scaled]) * _OFFSET) / scale
    fine = keys[~scaled]
    out[~scaled] = np.sign(fine) * (np.abs(fine) << _DROP).view(np.float64)
    return out


def key_floor(key: int, scale: int) -> float:
    """A score below every score whose key is at least ``key`` (a screen on upper bounds of
    scores: a bound under it cannot reach ``key``).

    >>> s = np.array([6.2e-9, 0.5, -3.0])
    >>> all(key_floor(k, 10 ** 6) < v for k, v in zip(level_keys(s, 10 ** 6), s))
    True
    """
    key = int(key)
    if abs(key) >= _OFFSET:  # round(s * scale) >= sc needs s * scale >= sc - 1/2
        return (key - _OFFSET if key > 0 else key + _OFFSET) / scale - 1.0 / scale
    v = float(key_labels(np.array([key]), scale)[0])
    return v - abs(v) * 2.0 ** -27 - 1e-300
