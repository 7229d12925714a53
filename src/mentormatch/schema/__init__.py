"""Column schemas of the mentor and mentee tables, reading, and validation.

Both tables share most columns; ``Column.tables`` says which table a column belongs to.
Canonical column names are in ``COLUMNS`` (``describe_columns()`` shows them as a table); an
HR export with other headers is mapped with ``columns=`` (``{"Employee Number": "id", ...}``:
export header -> canonical name).

Competency levels are columns named ``comp_<competency>`` (mastery level, a number 0..5;
whole numbers are not required, so an averaged rating such as 3.5 is accepted), one per
competency of the career framework; they are optional, and a person without them is neutral
on the competency feature.

What validation returns (``validate_tables``):

- canonical column names, in the input's order, on a fresh ``RangeIndex``;
- ``id`` as text (pandas ``str`` dtype), exactly as written: leading zeros and unicode kept;
- every numeric column (kinds ``"float"`` and ``"int"``, and ``comp_*``) as ``float64``, with
  ``NaN`` where the cell is empty; ``"int"`` columns hold whole numbers (one numeric dtype
  downstream, and ``NaN`` rather than ``pd.NA`` for missing);
- ``"str"`` and ``"tz"`` columns as text, missing as ``NaN``;
- ``"idlist"`` columns as a ``tuple[str, ...]`` per row (the empty tuple when missing);
- every other column (a group attribute such as gender or region, or a column that belongs to
  the other table) passed through as text, not validated;
- ``attrs["lines"]``: the file line of each row (header = line 1, first data row = line 2) as an
  int64 numpy array, or ``None`` for a DataFrame not read from a file; ``attrs["source"]``: the
  file path or ``"<DataFrame>"``; ``attrs["table"]``: ``"mentors"`` or ``"mentees"``.

``lines`` is an array, not a list, because pandas deep-copies ``attrs`` on every derived frame.

Big Five traits: both tables are on the 1-5 scale or both on the 0-1 scale; validation checks
the range 0..5 and flags a fractional value below 1 in a table whose other trait values exceed
1, or beside a table whose values do (the scales are mixed). When every trait value of both
tables is <= 1 the personality feature reads them on the 0-1 scale.

Reading options (``validate_tables``; a programme's ``[input]`` section): ``encoding``,
``decimal``, ``trim_ids``, ``case_sensitive_ids``, ``unknown_managers``, ``capacity``, and the
org chart ``org``. What reading decided is in ``attrs["notes"]``; ``attrs["encoding"]`` and ``attrs["sha256"]`` describe
the file.

The package: ``columns`` (the canonical columns), ``cells`` (cell conversion), ``read``
(files and DataFrames, the header mapping), ``csvfile`` (a CSV's encoding, delimiter and
quoting), ``orgchart`` (managers, cycles, the management graph), ``table`` (one table on
its own), ``ids`` (ids one to a reader: two Unicode forms or cases), ``across`` (the checks between the tables) and ``validate`` (both tables:
``validate_tables``).
"""
from __future__ import annotations

from .cells import _as_text, _idlist, _numeric
from .columns import (BIG_FIVE, BOTH, COLUMN_BY_NAME, COLUMNS, COMPETENCY_PREFIX, COMPETENCY_RANGE,
                      MAX_PROBLEMS, TABLES, Column, describe_columns)
from .orgchart import manager_edges, prune_references
from .read import read_table
from .validate import validate_tables

__all__ = ["BIG_FIVE", "BOTH", "COLUMN_BY_NAME", "COLUMNS", "COMPETENCY_PREFIX", "COMPETENCY_RANGE",
           "MAX_PROBLEMS", "TABLES", "Column", "describe_columns", "manager_edges", "prune_references",
           "read_table", "validate_tables"]
