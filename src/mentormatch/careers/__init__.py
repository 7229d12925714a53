"""Career framework: roles, competencies, mastery levels and the pathway graph.

A career framework says, for each role, which competencies it requires and at what mastery
(0..5; 0 = not required), how much each competency weighs for that role (importance >= 0),
the role's career level (0 = most junior) and which moves lead from one role to another.
The same competencies recur up the levels with higher mastery, and there are several ways to
reach a role: "a staircase, not a ladder".

The pathway graph (``CareerFramework.graph``, a ``networkx.DiGraph``) has an edge per move,
with the attribute ``kind``:

- ``"up"``: to a role of a strictly higher level;
- ``"lateral"``: to another role of the same level. A lateral move may be declared in both
  directions (``customer_success <-> ae``), so the graph may contain 2-cycles made of two
  lateral edges; it has no other cycle (levels never decrease along an edge, and the lateral
  edges of a level, reciprocal pairs aside, form no cycle).

TOML shape (``CareerFramework.from_toml``; the bundled ``data/sales_framework.toml`` follows
it)::

    competencies = ["prospecting", "negotiation", ...]   # optional: column order

    [roles.ae]
    title = "Account Executive"
    level = 1
    requires = { prospecting = 3, negotiation = 2, ... }  # mastery 0..5, at least one of them > 0
    importance = { negotiation = 1.5 }                    # optional; default 1.0 if required

    [[pathways]]
    from = "sdr"
    to = "ae"
    kind = "up"                                           # "up" or "lateral"
    primary = true                                        # optional: the role's main move
    share = 0.6                                           # optional: how common the move is

    [activities]                                          # optional: a suggested activity per competency
    negotiation = "prepare a live negotiation with the mentor; debrief after"

A mentee's default target is their role's first move in :meth:`CareerFramework.next_roles`:
up before lateral, then the ``primary`` move, then the most common (``share``), then by id.

CSV shape (``CareerFramework.from_csv``; ``to_frame`` writes the first one):

- requirements: columns ``role, title, level, competency, required, importance``, one row per
  role x competency (a missing pair means required 0, importance 0);
- pathways: columns ``from_role, to_role, kind``, and optionally ``primary`` (true/false) and
  ``share`` (a number >= 0).

The CSV shape has no activities; the TOML shape keeps every field.

Without a ``competencies`` list, competencies are ordered by first appearance; roles are
always in the order of the file.

Modules: :mod:`.framework` (the :class:`CareerFramework` record and its queries), :mod:`.read`
(TOML and CSV parsed), :mod:`.validate` (every finding, then the fields), :mod:`.write` (the
same shapes written back), :mod:`.shape` (the columns, ranges and kinds they share).
"""
from __future__ import annotations

from .framework import CareerFramework
# the file columns too, as `mentormatch.careers.PATHWAY_COLUMNS` etc. were before the split
from .shape import (COMPETENCIES_PER_ROLE, KINDS, MASTERY_RANGE, PATHWAY_COLUMNS, PATHWAY_OPTIONAL,
                    REQUIREMENT_COLUMNS)

__all__ = ["CareerFramework", "MASTERY_RANGE", "COMPETENCIES_PER_ROLE", "KINDS"]
