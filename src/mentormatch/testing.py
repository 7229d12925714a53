"""Hypothesis strategies for mentormatch, and brute-force references for small problems.

The strategies build on each other the way the domain objects do::

    ids  ->  people_tables (mentors, mentees)  ->  career_frameworks  ->  programmes
         ->  pairing_problems (tables + programme)
    score_values  ->  assignment_problems (solvers.base.AssignmentProblem, arrays only)

Use them to test code that calls mentormatch, or mentormatch itself::

    from hypothesis import given
    from mentormatch.testing import assignment_problems, feasible_assignments

    @given(assignment_problems(max_mentees=5, max_mentors=3))
    def test_never_over_capacity(problem):
        ...

``hypothesis`` is a test extra (``pip install "mentormatch-pairing[test]"``); importing this
module without it raises an :class:`ImportError` that says so.

Brute force: :func:`feasible_assignments` enumerates every assignment of a small
:class:`~mentormatch.solvers.base.AssignmentProblem` (each mentee takes none, or up to its
demand of its eligible mentors) and says which meet every hard and side constraint, with the
same conventions as the CP-SAT model (:mod:`mentormatch.solvers.cpsat`). It is the reference
that "optimal" and "infeasible" claims are checked against.
"""
from __future__ import annotations

try:
    from hypothesis import assume  # noqa: F401  (re-exported for convenience)
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised only without the test extra
    raise ImportError(
        "mentormatch.testing needs the 'hypothesis' package, which is a test extra of "
        "mentormatch: install it with  pip install \"mentormatch-pairing[test]\"  "
        "(or  pip install hypothesis)") from exc

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .pairs import Candidates
from .schema import BIG_FIVE
from .solvers.base import AssignmentProblem, SideConstraints

__all__ = [
    "TIMEZONES", "REGIONS", "GENDERS", "CITIES",
    "ids", "score_values", "people_tables", "career_frameworks", "programmes",
    "pairing_problems", "assignment_problems", "side_constraints",
    "feasible_assignments", "violations", "BruteForce", "problem_to_frames",
]

#: A small list of IANA time zones with their (latitude, longitude) of a typical city.
CITIES: dict[str, tuple[float, float]] = {
    "Europe/London": (51.5074, -0.1278),
    "Europe/Berlin": (52.5200, 13.4050),
    "America/New_York": (40.7128, -74.0060),
    "America/Chicago": (41.8781, -87.6298),
    "America/Los_Angeles": (34.0522, -118.2437),
    "Asia/Singapore": (1.3521, 103.8198),
    "Asia/Tokyo": (35.6762, 139.6503),
    "Australia/Sydney": (-33.8688, 151.2093),
}
TIMEZONES: tuple[str, ...] = tuple(CITIES)
REGIONS: dict[str, str] = {
    "Europe/London": "EMEA", "Europe/Berlin": "EMEA", "America/New_York": "AMER",
    "America/Chicago": "AMER", "America/Los_Angeles": "AMER", "Asia/Singapore": "APAC",
    "Asia/Tokyo": "APAC", "Australia/Sydney": "APAC",
}
GENDERS: tuple[str, ...] = ("female", "male", "nonbinary")


# ---------------------------------------------------------------------------------------------
# ids -> people tables


def ids(prefix: str, min_size: int = 1, max_size: int = 6):
    """Lists of unique string ids ``prefix + number``; numbers drawn sparsely, so ids are not
    always in row order (and leading zeros appear: ``"E007"``)."""
    return st.lists(st.integers(0, 999), min_size=min_size, max_size=max_size, unique=True).map(
        lambda nums: [f"{prefix}{n:03d}" for n in nums])


def score_values(min_value: float = -0.5, max_value: float = 1.0, step: float = 0.05):
    """Scores on a grid of ``step`` (so ties are frequent and CP-SAT's integer scaling is
    exact), from ``min_value`` to ``max_value``."""
    lo, hi = int(round(min_value / step)), int(round(max_value / step))
    return st.integers(lo, hi).map(lambda k: round(k * step, 10))


@st.composite
def _person_rows(draw, person_ids: list[str], mentor: bool, frac_level: bool = False):
    rows = []
    for pid in person_ids:
        tz = draw(st.sampled_from(TIMEZONES))
        lat, lon = CITIES[tz]
        jitter = draw(st.tuples(st.floats(-1, 1), st.floats(-1, 1)))
        years = draw(st.floats(0, 40, allow_nan=False).map(lambda x: round(x, 1)))
        row = {
            "id": pid,
            "years_experience": years,
            "level": draw(st.integers(0, 5)),
            "timezone": tz,
            "latitude": round(lat + jitter[0], 4),
            "longitude": round(lon + jitter[1], 4),
            "gender": draw(st.sampled_from(GENDERS)),
            "region": REGIONS[tz],
        }
        for trait in BIG_FIVE:
            row[trait] = draw(st.integers(1, 5)) * 1.0
        if mentor:
            row["capacity"] = float(draw(st.integers(0, 3)))
        rows.append(row)
    return rows


@st.composite
def people_tables(draw, min_mentees: int = 1, max_mentees: int = 6, min_mentors: int = 1,
                  max_mentors: int = 4, managers: bool = True, framework=None):
    """``(mentors, mentees)`` DataFrames in the documented schema (``mentormatch.schema``):
    ``id, capacity (mentors), years_experience, level, timezone, latitude, longitude``, the Big
    Five on the 1-5 scale, ``gender`` and ``region`` group columns, and (``managers=True``)
    ``manager_id`` forming a forest over both tables (each person's manager, if any, comes
    earlier in one shared order, so there is never a cycle). With a ``framework``
    (a :class:`~mentormatch.careers.CareerFramework`), each person also gets a ``role`` of it
    and a ``comp_<competency>`` mastery column per competency."""
    mentee_ids = draw(ids("E", min_mentees, max_mentees))
    mentor_ids = draw(ids("M", min_mentors, max_mentors))
    mentors = pd.DataFrame(draw(_person_rows(mentor_ids, True)))
    mentees = pd.DataFrame(draw(_person_rows(mentee_ids, False)))
    if managers:
        order = draw(st.permutations(mentor_ids + mentee_ids))
        boss = {}
        for n, pid in enumerate(order):
            has = n > 0 and draw(st.booleans())
            boss[pid] = order[draw(st.integers(0, n - 1))] if has else ""
        mentors["manager_id"] = [boss[p] for p in mentor_ids]
        mentees["manager_id"] = [boss[p] for p in mentee_ids]
    if framework is not None:
        for df in (mentors, mentees):
            df["role"] = draw(st.lists(st.sampled_from(list(framework.roles)), min_size=len(df),
                                       max_size=len(df)))
            for c in framework.competencies:
                df[f"comp_{c}"] = draw(st.lists(st.integers(0, 5), min_size=len(df),
                                                max_size=len(df)))
                df[f"comp_{c}"] = df[f"comp_{c}"].astype(float)
    return mentors, mentees


# ---------------------------------------------------------------------------------------------
# career frameworks


@st.composite
def career_frameworks(draw, max_roles: int = 4, n_competencies: int = 8):
    """Small valid :class:`~mentormatch.careers.CareerFramework` objects: a staircase of roles
    over levels 0.., each requiring 5 to 8 of ``n_competencies`` competencies, mastery rising
    with the level, and "up" pathways from each role to one or more roles a level higher."""
    from .careers import CareerFramework

    comps = [f"c{k}" for k in range(n_competencies)]
    n_roles = draw(st.integers(2, max_roles))
    levels = sorted(draw(st.lists(st.integers(0, 3), min_size=n_roles, max_size=n_roles)))
    levels = [levels[0]] + [max(a, b) for a, b in zip(levels, levels[1:])]
    if levels[-1] == levels[0]:
        levels[-1] = levels[0] + 1  # at least one move up
    roles = [f"r{k}" for k in range(n_roles)]
    req_rows = []
    for role, level in zip(roles, levels):
        needed = draw(st.lists(st.sampled_from(comps), min_size=5, max_size=min(8, n_competencies),
                               unique=True))
        for c in needed:
            req_rows.append({"role": role, "title": role.upper(), "level": level, "competency": c,
                             "required": min(5, 1 + level + draw(st.integers(0, 1))),
                             "importance": draw(st.sampled_from([0.5, 1.0, 1.5, 2.0]))})
    path_rows = []
    for a, la in zip(roles, levels):
        higher = [b for b, lb in zip(roles, levels) if lb > la]
        if higher:
            for b in draw(st.lists(st.sampled_from(higher), min_size=1, max_size=2, unique=True)):
                path_rows.append({"from_role": a, "to_role": b, "kind": "up"})
    paths = pd.DataFrame(path_rows, columns=["from_role", "to_role", "kind"])
    return CareerFramework.from_csv(pd.DataFrame(req_rows), paths)


# ---------------------------------------------------------------------------------------------
# programmes and whole pairing problems

#: Features whose extractors every mentormatch ships; programmes weigh a subset of them.
FEATURE_NAMES = ("geography", "experience", "personality", "competency", "preference", "readiness")


@st.composite
def programmes(draw, mentee_ids: list[str] | None = None, mentor_ids: list[str] | None = None,
               features=FEATURE_NAMES, constraints: bool = True, fairness: bool = False,
               solver: str | None = None):
    """Programme rules as a dict (what ``mm.pair(programme=...)`` takes): weights on a subset
    of ``features`` (at least one positive), and optionally constraints (forbidden pairs among
    the given ids, ``coverage_first``, ``mentor_level_above``, ``min_score``) and a fairness floor on
    ``region``. Locks are left out: whether a lock is feasible depends on the scores."""
    chosen = draw(st.lists(st.sampled_from(list(features)), min_size=1, max_size=len(features),
                           unique=True))
    weights = {f: draw(st.sampled_from([0.25, 0.5, 1.0, 2.0])) for f in chosen}
    prog: dict = {"weights": weights, "seed": draw(st.integers(0, 3))}
    if solver:
        prog["solver"] = solver
    if constraints:
        cons: dict = {"management_line": draw(st.booleans())}
        if mentee_ids and mentor_ids and draw(st.booleans()):
            cons["forbidden"] = draw(st.lists(
                st.tuples(st.sampled_from(mentee_ids), st.sampled_from(mentor_ids)).map(list),
                max_size=3))
        cons["coverage_first"] = draw(st.booleans())
        cons["mentor_level_above"] = draw(st.booleans())
        if draw(st.booleans()):
            cons["min_score"] = draw(st.sampled_from([0.1, 0.3, 0.5]))
        prog["constraints"] = cons
    if fairness:
        prog["fairness"] = {"floor_group": "region",
                            "score_floor": draw(st.sampled_from([0.5, 0.8, 0.9]))}
    return prog


@st.composite
def pairing_problems(draw, max_mentees: int = 6, max_mentors: int = 4,
                     with_framework: bool = False, **programme_options):
    """``(mentors, mentees, programme)``: :func:`people_tables` and a :func:`programmes` dict
    over their ids. ``with_framework=True`` returns ``(mentors, mentees, programme,
    framework)`` with roles and competency columns from :func:`career_frameworks`."""
    framework = draw(career_frameworks()) if with_framework else None
    mentors, mentees = draw(people_tables(max_mentees=max_mentees, max_mentors=max_mentors,
                                          framework=framework))
    prog = draw(programmes(list(mentees["id"]), list(mentors["id"]), **programme_options))
    return (mentors, mentees, prog, framework) if with_framework else (mentors, mentees, prog)


# ---------------------------------------------------------------------------------------------
# array-level problems


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


# ---------------------------------------------------------------------------------------------
# brute force


@dataclass
class BruteForce:
    """Every assignment of a small problem. ``x`` is a bool matrix (assignments x pairs);
    ``feasible`` marks those meeting every constraint; ``total``, ``matched`` and ``worst``
    (lowest score among chosen pairs, +inf when none) are per assignment."""

    x: np.ndarray
    feasible: np.ndarray
    total: np.ndarray
    matched: np.ndarray
    worst: np.ndarray

    @property
    def any_feasible(self) -> bool:
        return bool(self.feasible.any())

    @property
    def best_total(self) -> float:
        return float(self.total[self.feasible].max())

    def best_total_among(self, mask: np.ndarray) -> float:
        return float(self.total[self.feasible & mask].max())


def feasible_assignments(problem: AssignmentProblem, limit: int = 200_000) -> BruteForce:
    """Enumerate every assignment of ``problem`` (each mentee takes a subset of its eligible
    pairs of size at most its demand) and check each against capacities (with loads),
    locks and every side constraint, with the conventions of :mod:`mentormatch.solvers.cpsat`.

    Raises ``ValueError`` when there are more than ``limit`` assignments.
    """
    P = problem.pairs
    n, npairs = P.n_mentees, len(P)
    starts = P.starts()
    options = []
    total_count = 1
    for i in range(n):
        mine = list(range(int(starts[i]), int(starts[i + 1])))
        d = int(problem.demand[i])
        opts = [c for r in range(0, min(d, len(mine)) + 1) for c in itertools.combinations(mine, r)]
        options.append(opts)
        total_count *= len(opts)
        if total_count > limit:
            raise ValueError(f"{total_count}+ assignments: too many to enumerate")
    x = np.zeros((total_count, npairs), dtype=bool)
    for row, combo in enumerate(itertools.product(*options)):
        for chosen in combo:
            x[row, list(chosen)] = True
    return _evaluate(problem, x)


def violations(problem: AssignmentProblem, chosen) -> list[str]:
    """The constraints (``"pairs"``, ``"demand"``, ``"capacity"``, ``"locked"`` or a side
    constraint family) that the assignment ``chosen`` (positions into ``problem.pairs``)
    breaks; empty when it meets them all."""
    chosen = np.asarray(chosen, dtype=np.int64)
    P = problem.pairs
    out = []
    if len(chosen) and (chosen.min() < 0 or chosen.max() >= len(P) or len(np.unique(chosen)) != len(chosen)):
        return ["pairs"]
    if np.any(np.bincount(P.mentee[chosen], minlength=P.n_mentees) > problem.demand):
        out.append("demand")
    x = np.zeros((1, len(P)), dtype=bool)
    x[0, chosen] = True
    for family in _evaluate(problem, x, by_family=True):
        out.append(family)
    return out


def _evaluate(problem: AssignmentProblem, x: np.ndarray, by_family: bool = False):
    P = problem.pairs
    n, m, npairs = P.n_mentees, P.n_mentors, len(P)
    total_count = len(x)
    xf = x.astype(np.float64)
    score = problem.score
    load = problem.load[P.mentee]
    onehot_m = np.zeros((npairs, m))
    onehot_m[np.arange(npairs), P.mentor] = 1.0
    onehot_e = np.zeros((npairs, n))
    onehot_e[np.arange(npairs), P.mentee] = 1.0
    used = (xf * load) @ onehot_m  # capacity used per mentor
    count = xf @ onehot_m  # mentees per mentor
    active = count > 0
    per_mentee = xf @ onehot_e
    matched_e = per_mentee > 0
    broken: dict[str, np.ndarray] = {}

    def require(family: str, holds: np.ndarray) -> None:
        broken[family] = broken.get(family, np.zeros(total_count, bool)) | ~holds

    require("capacity", np.all(used <= problem.capacity + 1e-9, axis=1))
    require("locked", np.all(x[:, problem.locked], axis=1))
    side = problem.side
    if side.min_load is not None:
        need = np.ceil(side.min_load - 1e-9)
        require("min_load", np.all(~active | (count >= need), axis=1))
    if side.budget is not None:
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        spend = active.astype(float) @ fixed + count @ per
        require("budget", spend <= side.budget + 1e-9)
    if side.reservation is not None:
        # the expected payoff: stipends + bonus x the pairs' success probabilities
        bonus = side.bonus if side.bonus is not None else np.zeros(m)
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        prob = np.clip(score / side.success_scale, 0.0, 1.0)
        earned = fixed + count * per + (xf * prob) @ onehot_m * bonus
        require("reservation", np.all(~active | (side.reservation <= 0) | (earned >= side.reservation - 1e-9), axis=1))
    if side.balanced_load:
        big = np.where(active, count, -np.inf).max(axis=1)
        small = np.where(active, count, np.inf).min(axis=1)
        require("balanced_load", ~active.any(axis=1) | (big - small <= 1))
    total = xf @ score
    groups = np.asarray(side.group) if side.group is not None else None
    if side.score_floor is not None and groups is not None:
        for g in np.unique(groups[groups >= 0]):
            in_g = groups[P.mentee] == g
            g_total = (xf * score * in_g) @ np.ones(npairs)
            size = int(np.sum(groups == g))
            require("score_floor", n * g_total >= side.score_floor * size * total - 1e-7)
    if side.share_floor is not None and groups is not None:
        for g in np.unique(groups[groups >= 0]):
            members = groups == g
            need = math.ceil(side.share_floor * members.sum() - 1e-9)
            require("share_floor", matched_e[:, members].sum(axis=1) >= need)
    worst = np.where(x, score, np.inf).min(axis=1) if npairs else np.full(total_count, np.inf)
    if by_family:
        return [f for f, bad in broken.items() if bad[0]]
    ok = ~np.any(np.array(list(broken.values())), axis=0)
    return BruteForce(x, ok, total, matched_e.sum(axis=1), worst)
