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
same conventions as the CP-SAT model (:mod:`mentormatch.solvers.cpsat_model`). It is the reference
that "optimal" and "infeasible" claims are checked against.

The package: ``tables`` (people tables, career frameworks, programmes, pairing problems),
``arrays`` (array-level problems and side constraints) and ``brute`` (the brute-force
reference).
"""
from __future__ import annotations

try:
    from hypothesis import assume  # noqa: F401  (re-exported for convenience)
except ImportError as exc:  # pragma: no cover - exercised only without the test extra
    raise ImportError(
        "mentormatch.testing needs the 'hypothesis' package, which is a test extra of "
        "mentormatch: install it with  pip install \"mentormatch-pairing[test]\"  "
        "(or  pip install hypothesis)") from exc

from .arrays import assignment_problems, problem_to_frames, score_values, side_constraints
from .brute import BruteForce, feasible_assignments, violations
from .tables import FEATURE_NAMES  # noqa: F401  (the features programmes() weighs)
from .tables import (CITIES, GENDERS, REGIONS, TIMEZONES, career_frameworks, ids, pairing_problems,
                     people_tables, programmes)

__all__ = [
    "TIMEZONES", "REGIONS", "GENDERS", "CITIES",
    "ids", "score_values", "people_tables", "career_frameworks", "programmes",
    "pairing_problems", "assignment_problems", "side_constraints",
    "feasible_assignments", "violations", "BruteForce", "problem_to_frames",
]
