"""Every eligible pair on demand, never all at once: what the stable, greedy and random solvers
read at any size (:mod:`~mentormatch.solvers.stable_rows`, :mod:`~mentormatch.solvers.baselines_rows`).

A *pair reader* answers four questions about the eligible (mentee, mentor) pairs of a round,
scores exact:

* ``best(k)``: each mentee's ``k`` best pairs, as arrays ``(mentee, mentor, score)`` sorted by
  mentee, ties of score by mentor index (the order of :func:`~mentormatch.solvers.topk.top_k`);
* ``rows(mentees, screen=None)``: the scores of whole rows, ``(len(mentees), n_mentors)``,
  ``-inf`` where a rule removes the pair (one row is one vectorised pass over the mentors);
  given a screen (as for ``blocks``), a reader with bounds may leave the eligible pairs the
  screen rejects unscored: they read NaN;
* ``at(mentee, mentor)``: the scores of given pairs, ``-inf`` where ineligible;
* ``blocks(screen)``: every eligible pair a block at a time, as a pair source's ``blocks``
  (with a screen, a bounded source scores only the pairs the screen keeps).

:class:`ProblemRows` reads a problem whose pairs are in memory; the scale path reads its block
or bounded scorer the same way (``pipeline.large._ScorerRows``).
"""
from __future__ import annotations

from typing import Iterator, Protocol

import numpy as np

from ..pairs import run_positions
from .base import AssignmentProblem
from .sources import Pairs, Screen
from .topk import top_k


class BestKept:
    """A pair reader whose ``best(k)`` is read once for each ``k`` and kept (a baseline on a
    reader and its bound, :func:`~mentormatch.solvers.fair_bounds.best_pairs_bound`, share the
    pass); everything else is the reader's."""

    def __init__(self, reader: PairReader):
        self.reader, self.kept = reader, {}
        self.n_mentees, self.n_mentors = reader.n_mentees, reader.n_mentors

    def best(self, k: int):
        if k not in self.kept:
            self.kept[k] = self.reader.best(k)
        return self.kept[k]

    def __getattr__(self, name):
        return getattr(self.reader, name)


class PairReader(Protocol):
    n_mentees: int
    n_mentors: int

    def best(self, k: int) -> Pairs: ...

    def rows(self, mentees: np.ndarray, screen: Screen | None = None) -> np.ndarray: ...

    def at(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray: ...

    def blocks(self, screen: Screen | None = None) -> Iterator[Pairs]: ...


class ProblemRows:
    """A :class:`PairReader` over the pairs of an :class:`AssignmentProblem` (held in memory).

    Examples
    --------
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates(np.array([0, 0, 1]), np.array([0, 1, 1]), 2, 2),
    ...                       np.array([0.5, 0.9, 0.2]), np.ones(2))
    >>> r = ProblemRows(p)
    >>> r.best(1)[1].tolist(), r.rows(np.array([1])).tolist(), r.at(np.array([1]), np.array([0])).tolist()
    ([1, 1], [[-inf, 0.2]], [-inf])
    """

    def __init__(self, problem: AssignmentProblem):
        self.pairs, self.score = problem.pairs, np.asarray(problem.score, np.float64)
        self.n_mentees, self.n_mentors = problem.n_mentees, problem.n_mentors
        self.starts = self.pairs.starts()

    def best(self, k: int) -> Pairs:
        keep = top_k(self.pairs.mentee, self.score, k)
        return self.pairs.mentee[keep], self.pairs.mentor[keep], self.score[keep]

    def rows(self, mentees: np.ndarray, screen: Screen | None = None) -> np.ndarray:
        mentees = np.asarray(mentees, np.int64)
        out = np.full((len(mentees), self.n_mentors), -np.inf)
        a, b = self.starts[mentees], self.starts[mentees + 1]
        lengths = b - a
        row = np.repeat(np.arange(len(mentees)), lengths)
        pos = run_positions(a, lengths)
        out[row, self.pairs.mentor[pos]] = self.score[pos]
        return out

    def at(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        if not len(self.score):
            return np.full(len(mentee), -np.inf)
        pos = self.pairs.locate(mentee, mentor)
        return np.where(pos >= 0, self.score[np.maximum(pos, 0)], -np.inf)

    def blocks(self, screen: Screen | None = None) -> Iterator[Pairs]:
        yield self.pairs.mentee, self.pairs.mentor, self.score


def read_problem(reader: PairReader, mentee: np.ndarray, mentor: np.ndarray, score: np.ndarray,
                 capacity, demand=None, load=None, locked: tuple | None = None,
                 chosen: tuple | None = None) -> tuple[AssignmentProblem, np.ndarray]:
    """The problem of the pairs a solver read (deduplicated, sorted), and the positions in it
    of the ``chosen`` pairs ``(mentee, mentor)``; ``locked`` pairs are marked."""
    from ..pairs import Candidates

    n, m = reader.n_mentees, reader.n_mentors
    code = np.asarray(mentee, np.int64) * m + np.asarray(mentor, np.int64)
    code, first = np.unique(code, return_index=True)
    cand = Candidates(code // m, code % m, n, m)
    lock = np.zeros(len(cand), bool)
    if locked is not None and len(locked[0]):
        pos = cand.locate(*locked)
        lock[pos[pos >= 0]] = True
    problem = AssignmentProblem(cand, np.asarray(score, np.float64)[first], capacity, demand=demand,
                                load=load, locked=lock)
    pos = cand.locate(*chosen) if chosen is not None else np.zeros(0, np.int64)
    return problem, np.sort(pos)
