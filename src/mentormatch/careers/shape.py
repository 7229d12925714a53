"""The facts a career framework's files and values share: the value ranges, the kinds of move
and the columns of the two CSV files. Reading (:mod:`.read`), validating (:mod:`.validate`) and
writing (:mod:`.write`) all take them from here."""
from __future__ import annotations

MASTERY_RANGE = (0, 5)
#: competencies a role requires (> 0): at least one; the bundled sales framework has 5 to 8,
#: as the pathway literature suggests, but an organisation's own framework may have any number
COMPETENCIES_PER_ROLE = (1, None)
KINDS = ("up", "lateral")
REQUIREMENT_COLUMNS = ["role", "title", "level", "competency", "required", "importance"]
PATHWAY_COLUMNS = ["from_role", "to_role", "kind"]
#: optional pathway columns: ``primary`` (true on a role's main move) and ``share`` (how common
#: the move is, e.g. the share of people who made it); they order :meth:`CareerFramework.next_roles`
PATHWAY_OPTIONAL = ["primary", "share"]
#: the table name every framework finding carries
TABLE = "framework"
