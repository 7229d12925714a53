"""The canonical columns of the mentor and mentee tables: names, kinds, ranges, which
table each belongs to (``describe_columns()`` shows them as a table)."""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

import pandas as pd

from ..errors import Problem, ValidationError


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
    Column("manager_id", "str", BOTH, doc="id of the person's manager: a known id, or empty; a manager in neither table needs the org chart (org=)"),
    Column("team", "str", BOTH, doc="team name (for an optional same-team conflict rule)"),
    Column("capacity", "float", ("mentors",), required=True, low=0, doc="mentee slots (a fractional capacity such as 2.5 is kept: `flow` then hands over to `mip`)"),
    Column("min_capacity", "int", ("mentors",), low=0, doc="a mentor who takes part gets at least this many mentees"),
    Column("mentors_needed", "int", ("mentees",), low=0, high=10, doc="number of distinct mentors the mentee needs (default 1)"),
    Column("load", "float", ("mentees",), low=0, high=10, doc="slots of a mentor's time this mentee takes (default 1)"),
    Column("priority", "float", ("mentees",), low=0, high=100, doc="priority within the round: each of the mentee's pairs gains priority x constraints.priority_weight in the objective (default 0)"),
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
TABLES = ("mentors", "mentees")
MAX_PROBLEMS = 50  # per table and per check: keeps messages readable and the loops short
#: the largest capacity taken at face value (``assign()``'s and the mentors table's): any
#: capacity >= the number of mentees already means "no limit", and beyond 2**31 a capacity is a
#: unit error, not a programme (the solvers count places in int64)
MAX_CAPACITY = 2**31 - 1
COMPETENCY_RANGE = (0.0, 5.0)
_NUMERIC = ("float", "int")
_DATAFRAME_SOURCE = "<DataFrame>"
# the other side whose ids an id list names: (table, column) -> table of the ids
_IDLIST_TARGET = {
    ("mentees", "preferences"): "mentors",
    ("mentors", "preferences"): "mentees",
    ("mentees", "manager_suggestions"): "mentors",
}


def _table_columns(table: str) -> dict[str, Column]:
    return {c.name: c for c in COLUMNS if table in c.tables}


def _check_table_name(table: str) -> None:
    if table not in TABLES:
        raise ValidationError(Problem("arguments", "table", None, None, table,
                                      "'mentors' or 'mentees'"))


@functools.lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _close(word: str, options, cutoff: float) -> str | None:
    """The option closest to ``word``, compared case-insensitively, or None."""
    options = list(options)
    lowered: dict[str, str] = {}
    for o in options:
        lowered.setdefault(str(o).lower(), o)
    hit = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[hit[0]] if hit else None



def describe_columns() -> pd.DataFrame:
    """The canonical columns of both input tables, one row each, for documentation.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``kind``, ``tables`` (``"mentors, mentees"``, ...), ``required``,
        ``range`` (e.g. ``"0..5"``, ``">= 0"``, ``""``) and ``doc``; the last row describes the
        ``comp_<name>`` competency columns.

    Examples
    --------
    >>> describe_columns().set_index("name").loc["capacity", "range"]
    '>= 0'
    """
    def span(low, high) -> str:
        if low is not None and high is not None:
            return f"{low:g}..{high:g}"
        if low is not None:
            return f">= {low:g}"
        return f"<= {high:g}" if high is not None else ""

    rows = [{"name": c.name, "kind": c.kind, "tables": ", ".join(c.tables), "required": c.required,
             "range": span(c.low, c.high), "doc": c.doc} for c in COLUMNS]
    rows.append({"name": COMPETENCY_PREFIX + "<competency>", "kind": "float", "tables": ", ".join(BOTH),
                 "required": False, "range": span(*COMPETENCY_RANGE),
                 "doc": "mastery level of a competency of the career framework (fractions allowed)"})
    return pd.DataFrame(rows, columns=["name", "kind", "tables", "required", "range", "doc"])

