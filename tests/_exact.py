"""Exact answers the tests compare the library with, from an independent solver, stated once.

* :func:`expanded_optimum`: the capacitated assignment's optimum by scipy's
  ``linear_sum_assignment`` on the capacity-expanded matrix (each mentor's column repeated
  once a place, an "unmatched" column per mentee), with locks and a place taken out.
* :func:`feasible_picks`: every assignment of a tiny problem, for brute force.
"""
from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment


def expanded_optimum(s, cap, forbidden=None, *, locked=None, place_out=None) -> float:
    """The best total of ``s`` (mentees x mentors) with each mentor ``j`` taking at most
    ``cap[j]`` mentees and each mentee at most one mentor (unmatched at 0); forbidden and
    non-finite pairs are never taken (-1e6 against the unmatched column's 0).

    ``locked``, ``(mentees, mentors)`` of pairs held: their scores, plus the optimum of the
    rest (those mentees out, a place fewer for each of those mentors). ``place_out``: a mentor
    with one place fewer (the others' optimum when a mentee outside ``s`` is forced onto it).

    >>> expanded_optimum(np.array([[0.9, 0.5], [0.8, 0.1]]), np.array([1, 1]))
    1.3
    >>> expanded_optimum(np.array([[0.9, 0.5], [0.8, 0.1]]), np.array([1, 1]), place_out=0)
    0.5
    """
    s = np.asarray(s, float)
    cap = np.asarray(cap).astype(int)
    keep = np.ones(len(s), bool)
    held = None
    if locked is not None:
        li, lj = (np.atleast_1d(np.asarray(x)) for x in locked)
        held = s[li, lj].sum()
        keep[li] = False
        cap = cap - np.bincount(lj, minlength=len(cap))
    if place_out is not None:
        cap = cap.copy()
        cap[place_out] -= 1
    bad = ~np.isfinite(s) if forbidden is None else np.asarray(forbidden, bool) | ~np.isfinite(s)
    w = np.where(bad, -1e6, s)[keep][:, np.repeat(np.arange(s.shape[1]), cap)]
    w = np.hstack([w, np.zeros((len(w), len(w)))])
    r, c = linear_sum_assignment(w, maximize=True)
    total = w[r, c].sum()
    return float(total if held is None else held + total)


def feasible_picks(arc, cap):
    """Every assignment of a tiny problem, by brute force: ``(pick, on)`` for each choice of a
    mentor or none (-1) per mentee (``pick``, one entry a mentee) that uses only pairs of the
    mask ``arc`` (mentees x mentors) and at most ``cap[j]`` places of mentor ``j``; ``on``:
    the matched mentees.

    >>> [p.tolist() for p, _ in feasible_picks(np.array([[True, True]]), np.array([1, 0]))]
    [[-1], [0]]
    """
    arc = np.asarray(arc, bool)
    n, m = arc.shape
    for pick in itertools.product(range(-1, m), repeat=n):
        pick = np.array(pick, dtype=np.int64)
        on = np.flatnonzero(pick >= 0)
        if (np.bincount(pick[on], minlength=m) > cap).any() or not arc[on, pick[on]].all():
            continue
        yield pick, on
