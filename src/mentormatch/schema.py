"""Column schemas of the mentor and mentee tables, reading, and validation.

Both tables share most columns; ``role`` says which table a column belongs to. Canonical
column names are below; an HR export with other headers is mapped with ``columns=``
(``{"Employee Number": "id", ...}``: export header -> canonical name).

Competency levels are columns named ``comp_<competency>`` (integers 0..5, mastery level),
one per competency of the career framework; they are optional, and a person without them
is neutral on the competency feature.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id", "str", "float", "int", "tz", "idlist"
    tables: tuple[str, ...]  # which of ("mentors", "mentees") may carry it
    required: bool = False
    low: float | None = None
    high: float | None = None
    doc: str = ""


BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
BOTH = ("mentors", "mentees")

COLUMNS: tuple[Column, ...] = (
    Column("id", "id", BOTH, required=True, doc="string id, kept exactly (leading zeros, unicode); unique within a table"),
    Column("name", "str", BOTH, doc="display name"),
    Column("city", "str", BOTH, doc="city name, resolved offline (with country) when coordinates are absent"),
    Column("country", "str", BOTH, doc="ISO 3166 alpha-2 country code, or country name"),
    Column("latitude", "float", BOTH, low=-90, high=90, doc="degrees"),
    Column("longitude", "float", BOTH, low=-180, high=180, doc="degrees"),
    Column("timezone", "tz", BOTH, doc="IANA time zone, e.g. Europe/London"),
    Column("years_experience", "float", BOTH, low=0, high=70, doc="years of professional experience"),
    Column("role", "str", BOTH, doc="role id on the career framework"),
    Column("level", "int", BOTH, low=0, high=20, doc="career level (0 = most junior)"),
    Column("target_role", "str", ("mentees",), doc="the role the mentee is growing toward; default: next roles on the pathway"),
    *(Column(t, "float", BOTH, low=0, high=5, doc="Big Five trait, on a 1-5 scale or 0-1 scale (whole table on one scale)") for t in BIG_FIVE),
    Column("manager_id", "str", BOTH, doc="id of the person's manager (must be a known id, or empty)"),
    Column("team", "str", BOTH, doc="team name (for an optional same-team conflict rule)"),
    Column("capacity", "float", ("mentors",), required=True, low=0, doc="mentee slots (whole numbers unless loads are fractional)"),
    Column("min_capacity", "int", ("mentors",), low=0, doc="a mentor who takes part gets at least this many mentees"),
    Column("mentors_needed", "int", ("mentees",), low=0, high=10, doc="number of distinct mentors the mentee needs (default 1)"),
    Column("load", "float", ("mentees",), low=0, high=10, doc="slots of a mentor's time this mentee takes (default 1)"),
    Column("preferences", "idlist", BOTH, doc="ranked ids of the other side, separated by ';', best first"),
    Column("manager_suggestions", "idlist", ("mentees",), doc="mentor ids the mentee's manager suggests, ';'-separated"),
    Column("performance", "float", ("mentors",), low=1, high=5, doc="latest performance rating, 1-5"),
    Column("leadership_feedback", "float", ("mentors",), low=1, high=5, doc="360/leadership feedback, 1-5"),
    Column("tenure_years", "float", BOTH, low=0, high=70, doc="years at the company"),
    Column("stipend_fixed", "float", ("mentors",), low=0, doc="paid when the mentor is active"),
    Column("stipend_per_mentee", "float", ("mentors",), low=0, doc="paid per mentee"),
    Column("bonus", "float", ("mentors",), low=0, doc="bonus per successful mentee"),
    Column("reservation_value", "float", ("mentors",), low=0, doc="expected incentive below which the mentor will not take part"),
    Column("age", "float", BOTH, low=14, high=100, doc="protected attribute: not a default feature"),
)

COLUMN_BY_NAME = {c.name: c for c in COLUMNS}
COMPETENCY_PREFIX = "comp_"
