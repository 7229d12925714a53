"""Hypothesis strategies for the tables a user hands to ``mm.pair``: ids, people tables,
career frameworks, programme rules, and whole pairing problems (see :mod:`mentormatch.testing`)."""
from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from ..schema import BIG_FIVE

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
    from ..careers import CareerFramework

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
