"""Hypothesis strategies for the test suite: re-exported from :mod:`mentormatch.testing`
(shipped to users) and composed here for the properties' needs."""
from __future__ import annotations

from hypothesis import strategies as st

from mentormatch.testing import (  # noqa: F401  (re-exported)
    BruteForce, CITIES, GENDERS, REGIONS, TIMEZONES, assignment_problems, career_frameworks,
    feasible_assignments, ids, pairing_problems, people_tables, problem_to_frames, programmes,
    score_values, side_constraints, violations)

#: What each solver models. Problems drawn for a solver stay inside its scope.
SCOPE = {
    "flow": dict(locks=True, demand=2, coverage=True, side=False, exact=True),
    "hungarian": dict(locks=True, demand=1, coverage=True, side=False, exact=True),
    "cpsat": dict(locks=True, demand=2, coverage=True, side=True, exact=True),
    "greedy": dict(locks=True, demand=2, coverage=True, side=False, exact=False),
    "random": dict(locks=True, demand=2, coverage=True, side=False, exact=False),
    "stable": dict(locks=False, demand=1, coverage=False, side=False, exact=False),
    "maxmin": dict(locks=True, demand=1, coverage=False, side=True, exact=False),
    "leximin": dict(locks=True, demand=1, coverage=False, side=True, exact=False),
}
EXACT = [name for name, s in SCOPE.items() if s["exact"]]


def problems_for(solver: str, max_mentees: int = 5, max_mentors: int = 3, side: bool = False):
    """Small problems inside ``solver``'s scope (brute force stays cheap: at most a few
    thousand assignments)."""
    s = SCOPE[solver]
    return assignment_problems(max_mentees, max_mentors, with_locks=s["locks"],
                               with_side=side and s["side"], max_demand=s["demand"],
                               coverage_first=None if s["coverage"] else False)


def small_problems(max_mentees: int = 5, max_mentors: int = 3):
    """Demand 1, locks, no side constraints, no coverage_first: in every exact solver's scope."""
    return assignment_problems(max_mentees, max_mentors, with_locks=True)


def any_problem():
    return st.one_of(small_problems(), problems_for("flow"))


#: Cells of an HR export as text: names with commas, quotes, line breaks and accents, ids.
csv_cells = st.text(alphabet=st.sampled_from(list('abcXYZ é,;"\n0123456789-')), max_size=12)


@st.composite
def csv_tables(draw, max_rows: int = 12, width: int = 3):
    """(header, rows) of a small table whose first column is a unique, plain id."""
    n = draw(st.integers(1, max_rows))
    ids_ = [f"E{k}" for k in range(n)]
    rows = [[i] + [draw(csv_cells) for _ in range(width - 1)] for i in ids_]
    return ["id"] + [f"c{k}" for k in range(1, width)], rows
