"""Which people are alike (:mod:`mentormatch.solvers.alike` states the rule this serves): two
mentees with the same eligible mentors at exactly the same scores, demand 1, the same load and
floor group, neither locked; two mentors with the same eligible mentees at exactly the same
scores and the same settings, neither locked. People are compared through a 64-bit sum of
mixes of their entries, computed in one pass over every eligible pair (any blocks of them), so
the classes never depend on the order of the entries or of the rows."""
from __future__ import annotations

import numpy as np

from .base import AssignmentProblem
from .ties import pair_key

__all__ = ["classes", "classes_of", "mix", "ranks_of"]


def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return pair_key(a, b, 7)


def _sums(blocks, ri: np.ndarray, rj: np.ndarray):
    """One pass over ``(mentee, mentor, score)`` blocks of every eligible pair: per mentee and
    per mentor, a sum of mixes of their entries (the other side's rank and the exact score's
    bits), the same whatever the order of the entries and of the rows, and their count."""
    n, m = len(ri), len(rj)
    hi, hj = np.zeros(n, np.uint64), np.zeros(m, np.uint64)
    ci, cj = np.zeros(n, np.int64), np.zeros(m, np.int64)
    for i, j, s in blocks:
        s = np.asarray(s, np.float64)
        keep = np.isfinite(s)  # an ineligible pair is no entry, whichever source holds it
        i, j, s = np.asarray(i, np.int64)[keep], np.asarray(j, np.int64)[keep], s[keep]
        bits = (s + 0.0).view(np.uint64)  # -0.0 as 0.0
        with np.errstate(over="ignore"):
            np.add.at(hi, i, mix(rj[j].astype(np.uint64), bits))
            np.add.at(hj, j, mix(ri[i].astype(np.uint64), bits))
        ci += np.bincount(i, minlength=n)
        cj += np.bincount(j, minlength=m)
    return (hi, ci), (hj, cj)


def _labels(h: np.ndarray, count: np.ndarray, attrs: list, alone: np.ndarray,
            rank: np.ndarray) -> np.ndarray:
    """Class labels 0..k-1: the same sum, count and ``attrs``; ``alone`` people on their own.
    Numbered in the order of those keys, then (people alone) of their ranks: never of rows."""
    size = len(h)
    keys = [h, count, *[np.asarray(a) for a in attrs]]
    order = np.lexsort(keys[::-1])
    new = np.ones(size, bool)
    if size:
        new[1:] = np.any([k[order][1:] != k[order][:-1] for k in keys], axis=0)
    label = np.empty(size, np.int64)
    label[order] = np.cumsum(new) - 1
    label = np.where(alone, size + rank, label)
    return np.unique(label, return_inverse=True)[1].astype(np.int64).reshape(-1)


def classes_of(blocks, people: AssignmentProblem, ri, rj) -> tuple[np.ndarray, np.ndarray]:
    """Mentee and mentor classes from a pass over every eligible pair (``blocks``), the
    people's settings and locks read from ``people`` (any problem over the same people);
    labels numbered in an order of the classes' data and ranks, never of the rows."""
    P = people.pairs
    n, m = P.n_mentees, P.n_mentors
    side = people.side
    locked = np.asarray(people.locked, bool)
    lock_i, lock_j = np.zeros(n, bool), np.zeros(m, bool)
    lock_i[P.mentee[locked]] = True
    lock_j[P.mentor[locked]] = True
    (hi, ci), (hj, cj) = _sums(blocks, ri, rj)
    group = np.asarray(side.group) if side.group is not None else np.zeros(n, np.int64)
    # a mentee of demand 2 or more stays alone: which mentees share its mentors would make the
    # canonical form a graph's (no cheap canonical form exists in general)
    a = _labels(hi, ci, [np.asarray(people.load, float), group], lock_i | (np.asarray(people.demand) != 1), ri)

    def per_mentor(x):
        return np.zeros(m) if x is None else np.nan_to_num(np.asarray(x, float), nan=-1.0)

    attrs = [np.asarray(people.capacity, float)] + [
        per_mentor(getattr(side, f)) for f in ("min_load", "stipend_fixed", "stipend_per_mentee",
                                               "bonus", "reservation")]
    return a, _labels(hj, cj, attrs, lock_j, rj)


def classes(problem: AssignmentProblem, score: np.ndarray | None = None,
            ranks: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mentee and mentor class labels of alike people (module docstring); ``score`` defaults to
    the problem's (pass score + bonus when the solver saw that). People are compared by a
    64-bit sum of mixes of their entries: two people whose entries differ share a class only if
    those sums collide (about 2**-64 a pair), and even then every answer the rule returns is
    checked pair by pair, so it stays a valid answer of the same score.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 2), np.array([1., 2, 1, 2, 3, 3]), np.ones(2))
    >>> a, b = classes(p)
    >>> bool(a[0] == a[1]), bool(a[0] == a[2]), bool(b[0] == b[1])
    (True, False, False)
    """
    P = problem.pairs
    s = problem.score if score is None else np.asarray(score, np.float64)
    ri, rj = ranks_of(ranks, P.n_mentees, P.n_mentors)
    return classes_of([(P.mentee, P.mentor, s)], problem, ri, rj)


def ranks_of(ranks, n: int, m: int):
    ri, rj = ranks if ranks is not None else (np.arange(n), np.arange(m))
    return np.asarray(ri, np.int64), np.asarray(rj, np.int64)
