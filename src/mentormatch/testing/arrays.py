"""Hypothesis strategies for array-level problems (``solvers.base.AssignmentProblem``): scores,
side constraints, whole problems, and their DataFrame form for ``mm.assign`` (see
:mod:`mentormatch.testing`)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from ..pairs import Candidates
from ..solvers.base import AssignmentProblem, SideConstraints


def score_values(min_value: float = -0.5, max_value: float = 1.0, step: float = 0.05):
    """Scores on a grid of ``step`` (so ties are frequent and CP-SAT's integer scaling is
    exact), from ``min_value`` to ``max_value``."""
    lo, hi = int(round(min_value / step)), int(round(max_value / step))
    return st.integers(lo, hi).map(lambda k: round(k * step, 10))


@st.composite
def side_constraints(draw, n_mentees: int, n_mentors: int, kinds=("min_load", "budget",
                     "reservation", "balanced_load", "score_floor", "share_floor")):
    """A :class:`~mentormatch.solvers.base.SideConstraints` with one or more of ``kinds``
    switched on (values chosen so that they bind sometimes and conflict sometimes)."""
    on = draw(st.lists(st.sampled_from(list(kinds)), min_size=1, max_size=3, unique=True))
    side = SideConstraints()
    small = st.integers(0, 3)
    if "min_load" in on:
        side.min_load = np.array(draw(st.lists(small, min_size=n_mentors, max_size=n_mentors)), float)
    if "budget" in on:
        side.stipend_fixed = np.array(draw(st.lists(st.sampled_from([0.0, 50.0, 100.0]),
                                                    min_size=n_mentors, max_size=n_mentors)))
        side.stipend_per_mentee = np.array(draw(st.lists(st.sampled_from([0.0, 10.0, 25.0]),
                                                         min_size=n_mentors, max_size=n_mentors)))
        side.budget = float(draw(st.sampled_from([0, 40, 100, 150, 250, 1000])))
    if "reservation" in on:
        side.bonus = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0]),
                                            min_size=n_mentors, max_size=n_mentors)))
        side.reservation = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]),
                                                  min_size=n_mentors, max_size=n_mentors)))
    if "balanced_load" in on:
        side.balanced_load = True
    if "score_floor" in on or "share_floor" in on:
        side.group = np.array(draw(st.lists(st.integers(-1, 2), min_size=n_mentees,
                                            max_size=n_mentees)), dtype=np.int64)
        side.group_names = ["g0", "g1", "g2"]
        if "score_floor" in on:
            side.score_floor = draw(st.sampled_from([0.5, 0.8, 0.9, 1.0]))
        if "share_floor" in on:
            side.share_floor = draw(st.sampled_from([0.25, 0.5, 1.0]))
    return side


@st.composite
def assignment_problems(draw, max_mentees: int = 6, max_mentors: int = 4, *,
                        min_mentees: int = 1, min_mentors: int = 1, with_locks: bool = False,
                        with_side: bool = False, max_demand: int = 1, max_capacity: int = 3,
                        positive: bool = False, density: float | None = None,
                        coverage_first: bool | None = False, scores=None,
                        fractional: bool = False):
    """:class:`~mentormatch.solvers.base.AssignmentProblem` instances.

    Eligibility is a random mask (``Candidates.from_mask``: a mentee may have no eligible
    mentor, a mentor may have none either); scores on a grid (:func:`score_values`, ties
    frequent, ``positive=True`` keeps them > 0); capacities whole numbers ``0..max_capacity``
    (zero included); demand ``1..max_demand``. ``with_locks``: a few locked pairs that fit
    the capacities and demands together. ``with_side``: :func:`side_constraints`.
    ``coverage_first``: a bool, or None to draw it. ``fractional``: mentee loads in
    {0.5, 1, 1.5} and capacities in halves (only CP-SAT models them).
    """
    n = draw(st.integers(min_mentees, max_mentees))
    m = draw(st.integers(min_mentors, max_mentors))
    if density is None:
        mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)),
                        dtype=bool).reshape(n, m)
    else:
        mask = np.array(draw(st.lists(st.floats(0, 1), min_size=n * m, max_size=n * m))) < density
        mask = mask.reshape(n, m)
    pairs = Candidates.from_mask(mask)
    if scores is None:
        scores = score_values(0.05 if positive else -0.5, 1.0)
    score = np.array(draw(st.lists(scores, min_size=len(pairs), max_size=len(pairs))), dtype=float)
    capacity = np.array(draw(st.lists(st.integers(0, max_capacity), min_size=m, max_size=m)), float)
    demand = np.array(draw(st.lists(st.integers(1, max_demand), min_size=n, max_size=n)), np.int64)
    load = np.ones(n)
    if fractional:
        load = np.array(draw(st.lists(st.sampled_from([0.5, 1.0, 1.5]), min_size=n, max_size=n)))
        capacity = capacity + np.array(draw(st.lists(st.sampled_from([0.0, 0.5]), min_size=m,
                                                     max_size=m)))
    locked = np.zeros(len(pairs), dtype=bool)
    if with_locks and len(pairs):
        room, need = capacity.copy(), demand.copy()
        for k in draw(st.lists(st.integers(0, len(pairs) - 1), max_size=3, unique=True)):
            i, j = pairs.mentee[k], pairs.mentor[k]
            if room[j] >= load[i] and need[i] >= 1:
                locked[k] = True
                room[j] -= load[i]
                need[i] -= 1
    side = draw(side_constraints(n, m)) if with_side else SideConstraints()
    cf = draw(st.booleans()) if coverage_first is None else coverage_first
    return AssignmentProblem(pairs, score, capacity, demand=demand, load=load, locked=locked,
                             coverage_first=cf, side=side)


def problem_to_frames(problem: AssignmentProblem, mentee_ids=None, mentor_ids=None):
    """``(scores, capacity, locked)`` for :func:`mentormatch.assign`: a mentees x mentors
    DataFrame with ``-inf`` on ineligible pairs, a capacity Series, and the locked id pairs.
    Default ids: ``"e0", "e1", ...`` and ``"m0", "m1", ...``."""
    P = problem.pairs
    mentee_ids = [f"e{i}" for i in range(P.n_mentees)] if mentee_ids is None else list(mentee_ids)
    mentor_ids = [f"m{j}" for j in range(P.n_mentors)] if mentor_ids is None else list(mentor_ids)
    dense = np.full((P.n_mentees, P.n_mentors), -np.inf)
    dense[P.mentee, P.mentor] = problem.score
    scores = pd.DataFrame(dense, index=mentee_ids, columns=mentor_ids)
    capacity = pd.Series(problem.capacity, index=mentor_ids)
    locked = [(mentee_ids[P.mentee[k]], mentor_ids[P.mentor[k]]) for k in np.flatnonzero(problem.locked)]
    return scores, capacity, locked


#: labels for :func:`assign_frames`: ASCII in one case and in both, repeats that differ only in
#: case, non-ASCII ones (two Unicode forms of one), and labels that are not str
AWKWARD_LABELS = ["e1", "e2", "E1", "m1", "M2", "Ann", "ann", "Zoë", "Zoe\u0308", "x\0y", 7, None,
                  float("nan")]


@st.composite
def assign_frames(draw, max_mentees: int = 5, max_mentors: int = 4):
    """``mm.assign``'s inputs, usual and not: ``(scores, capacity, forbidden or None)``, mostly
    well formed, sometimes with a label repeated or differing only in case, a label that is no
    str, NaN or ``+inf`` scores, int or object columns, a capacity that is fractional, negative,
    huge, of another dtype or indexed otherwise (another order, a label missing or extra), and
    forbidden cells that are not bool or labels in another order. For the checks' paths."""
    n = draw(st.integers(1, max_mentees))
    m = draw(st.integers(1, max_mentors))
    odd = not draw(st.integers(0, 2))  # labels from the awkward pool, else plain distinct ids

    def labels(prefix, k):
        if not odd:
            return [f"{prefix}{q}" for q in range(k)]
        return draw(st.lists(st.sampled_from(AWKWARD_LABELS + [f"{prefix}{q}" for q in range(k)]),
                             min_size=k, max_size=k))

    rows, cols = labels("e", n), labels("m", m)
    cells = st.one_of(score_values(), st.just(-np.inf), st.sampled_from([np.nan, np.inf, 0.0]))
    values = np.array(draw(st.lists(cells, min_size=n * m, max_size=n * m)), float).reshape(n, m)
    if draw(st.integers(0, 3)):  # mostly no NaN or +inf
        values[~(values < np.inf) & ~(values < 0)] = 1.0  # (NaN and +inf)
    scores = pd.DataFrame(values, index=rows, columns=cols)
    kind = draw(st.sampled_from(["float", "float", "int", "object", "F"]))
    if kind == "int":
        scores = pd.DataFrame(np.nan_to_num(values, posinf=1, neginf=-1).astype(int), index=rows, columns=cols)
    elif kind == "object":
        scores = scores.astype(object)
    elif kind == "F":
        scores = pd.DataFrame(np.asfortranarray(values), index=rows, columns=cols)
    caps = draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 4.0, 1.5, -1.0, np.nan, np.inf, 2.0**40]),
                         min_size=m, max_size=m))
    if draw(st.integers(0, 2)):
        caps = [c if c in (0.0, 1.0, 2.0, 4.0) else 1.0 for c in caps]
    index = list(cols)
    shuffle = draw(st.sampled_from(["same"] * 4 + ["reversed", "missing", "extra"]))
    if shuffle == "reversed":
        index, caps = index[::-1], caps[::-1]
    elif shuffle == "missing":
        index, caps = index[1:], caps[1:]
    elif shuffle == "extra":
        index, caps = index + ["m_extra"], caps + [1.0]
    capacity = pd.Series(caps, index=index)
    ctype = draw(st.sampled_from(["float", "float", "int", "object"]))
    if ctype == "int" and np.isfinite(np.asarray(caps, float)).all():
        capacity = capacity.astype(np.int64)
    elif ctype == "object":
        capacity = capacity.astype(object)
    forbidden = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
        forbidden = pd.DataFrame(mask, index=rows, columns=cols)
        how = draw(st.sampled_from(["bool"] * 4 + ["int", "object", "reversed", "shape"]))
        if how == "int":
            forbidden = forbidden.astype(int)
        elif how == "object":
            forbidden = forbidden.astype(object)
            forbidden.iat[0, 0] = draw(st.sampled_from([True, "yes", None]))
        elif how == "reversed":
            forbidden = forbidden.iloc[::-1]
        elif how == "shape":
            forbidden = forbidden.iloc[:, :-1]
    return scores, capacity, forbidden
