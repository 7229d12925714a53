"""The levels of CP-SAT's max-min and leximin (:mod:`mentormatch.solvers.fair`,
:mod:`mentormatch.solvers.leximin_cp`): the integers of the objective's scale
(:func:`~mentormatch.solvers.cpsat_model.objective_scale`), a level split where its values lie
further apart than the 1e-6 gap of its least one (scores of mixed magnitudes), so that a proof
on the levels is one on the scores to the gap.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .cpsat_model import CpsatModel, open_pairs

__all__ = ["Levels", "levels", "fine_round", "within_gap", "FINE_BITS"]


#: Significant bits of a refined level (:func:`levels`): a relative width of ``2**-30``, about
#: 1e-9, far inside the 1e-6 gap.
FINE_BITS = 30


def fine_round(value: np.ndarray) -> np.ndarray:
    """``value`` rounded to :data:`FINE_BITS` significant bits: monotone (``a <= b`` gives
    ``fine_round(a) <= fine_round(b)``), 0 stays 0, and the width of the values that share a
    result is ``2**(e - FINE_BITS)`` for ``value`` in ``[2**(e-1), 2**e)``.

    >>> r = fine_round(np.array([0.0, 6.2e-9, 6.2e-9 * (1 + 2.0 ** -40), 6.2e-9 * (1 + 1e-8), 0.5]))
    >>> float(r[0]), bool(r[1] == r[2] < r[3]), float(r[4])
    (0.0, True, 0.5)
    """
    m, e = np.frexp(np.asarray(value, np.float64))
    return np.ldexp(np.round(np.ldexp(m, FINE_BITS)), e - FINE_BITS)


def within_gap(value: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Whether ``value + width`` proves ``value`` to the relative gap (elementwise), with no
    absolute slack: :func:`~mentormatch.solvers.base.proven`'s 1e-9 would merge every score
    below it (geography's 1.2e-14 and 3.2e-15 far apart, session 21's merge: max-min and leximin
    called a worst pair of 3.2e-15 optimal where 1.2e-14 was possible)."""
    from .base import OPTIMAL_GAP

    return width <= OPTIMAL_GAP * np.abs(value + width)


@dataclasses.dataclass(frozen=True)
class Levels:
    """The fairness solvers' levels (max-min's worst pair, leximin's counts) of the pairs of a
    :class:`CpsatModel`: ``key`` (int64, one per pair) is monotone in the objective's value,
    ``width`` (one per pair) how far apart the values of its key are, ``label`` its key's value
    in score units (for the certificate). ``refined``: whether some level was split (else
    ``key`` is the model's ``sc``)."""

    key: np.ndarray
    width: np.ndarray
    label: np.ndarray
    refined: bool

    def within(self, chosen: np.ndarray, value: np.ndarray) -> bool:
        """Whether every chosen pair's level is within the 1e-6 gap of its value: then a
        lexicographic proof on the levels is one on the values (rounding is monotone)."""
        return bool(np.all(within_gap(np.abs(value[chosen]), self.width[chosen])))


def _spread(key: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``key``s, and the least and largest ``value`` of each."""
    keys, inv = np.unique(key, return_inverse=True)
    lo, hi = np.full(len(keys), np.inf), np.full(len(keys), -np.inf)
    np.minimum.at(lo, inv, value)
    np.maximum.at(hi, inv, value)
    return inv, lo, hi


def levels(built: CpsatModel) -> Levels:
    """The levels of the fairness solvers: the integers ``sc`` of the objective (its scale
    ``S``), except that a level whose values lie further apart than the 1e-6 gap of its least
    value (scores of mixed magnitudes: 6.2e-9 and 1e-9 beside a best score of 0.5 share the level
    0 of a scale of 2e7) is split at :func:`fine_round` of the values, so that every level is
    within the gap of the values it holds (its ``width``: its largest value less its least).
    The keys are the ranks of (``sc``, fine value): monotone in the value, so max-min's best
    worst key holds the best worst value ``t*`` (a value of some pair), and leximin's sorted
    keys are the sorted values' (each entry within its level's width). A pair of a mentor with
    no place (never chosen, ``sc`` 0) is left out of the widths and never split.

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.base import AssignmentProblem
    >>> b = CpsatModel(AssignmentProblem(Candidates.complete(3, 1), np.array([0.5, 6.2e-9, 1e-9]),
    ...                                  np.array([3.0])))
    >>> b.sc.tolist(), levels(b).key.tolist(), levels(b).refined
    ([10000000, 0, 0], [2, 1, 0], True)
    """
    v, sc, scale = built.objective, built.sc, float(built.scale)
    room = open_pairs(built.problem)
    width = np.zeros(len(sc))
    if not np.any(room):
        return Levels(sc, width, sc / scale, False)
    inv, lo, hi = _spread(sc[room], v[room])
    split = ~within_gap(np.abs(lo), hi - lo)
    refined = bool(np.any(split))
    key, label = sc, sc / scale
    if refined:
        fine = np.zeros(len(sc), bool)
        fine[np.flatnonzero(room)[split[inv]]] = True
        sub = np.where(fine, fine_round(v), 0.0)
        _, key = np.unique(np.stack([sc.astype(np.float64), sub], axis=1), axis=0, return_inverse=True)
        key = key.reshape(-1).astype(np.int64)
        label = np.where(fine, sub, label)
        inv, lo, hi = _spread(key[room], v[room])
    width[room] = (hi - lo)[inv]
    return Levels(key, width, label, refined)
