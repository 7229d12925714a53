"""A programme's rules: feature weights and settings, constraints, solver choice and column
mapping, from Python or TOML, validated against one table of known settings.

TOML shape (every section and key optional; defaults shown by ``Rules().to_dict()``)::

    solver = "flow"            # flow | hungarian | cpsat | stable | maxmin | leximin | greedy | random
    seed = 0
    framework = ""             # "": the bundled sales framework when the roles fit; a TOML path;
                               # or {requirements = "reqs.csv", pathways = "paths.csv"}
                               # (paths relative to this file)

    [columns]                  # export header -> canonical column, for both tables
    "Employee Number" = "id"
    [columns.mentors]          # ... or per table
    "Slots" = "capacity"

    [weights]                  # feature name -> weight >= 0
    geography = 1.0
    competency = 2.0

    [features.geography]       # settings handed to that feature's extractor
    mode = "hybrid"

    [constraints]
    management_line = true     # a mentor may not be in the mentee's management line
    same_team = false          # ... nor (optionally) in the same team
    mentor_level_above = false # the mentor's level must be above the mentee's
    forbidden = [["E001", "M017"]]   # [mentee_id, mentor_id]
    locked = [["E002", "M003"]]
    coverage_first = false     # match as many mentees as possible before maximising score
    min_score = nan            # pairs scoring below this are ineligible (off by default)
    budget = 50000.0           # stipends of active mentors (mentor columns stipend_fixed, stipend_per_mentee)
    incentives = false         # expected incentive bonus x score must reach reservation_value
    balanced_load = false
    priority_weight = 1.0      # objective bonus per unit of a mentee's `priority` column

    [fairness]
    groups = ["gender", "region"]   # group attribute columns audited in reports
    floor_group = "region"          # the attribute the floors apply to
    score_floor = 0.9               # each group's mean score >= 0.9 x overall mean
    share_floor = 0.8               # each group's matched share >= 0.8
    objective = "total"             # total | maxmin | leximin

    [input]                    # how the files are read
    encoding = ""              # "" recognises UTF-8, UTF-16 (BOM) and cp1252; or e.g. "cp1252"
    decimal = "."              # "," for numbers written with a decimal comma
    trim_ids = false           # strip spaces around ids instead of refusing them
    case_sensitive_ids = false # true: "E001" and "e001" are two people (else refused as one id)
    unknown_managers = "error" # "chain_end": a manager in neither table ends the chain (noted)
    capacity = nan             # every mentor's capacity when the table has no capacity column
    org = ""                   # org chart file: id, manager_id for everyone (or pair(org=...))

The package: ``settings`` (the table of known settings and their defaults), ``check`` (the
validation of a merged settings table) and ``core`` (:class:`Rules`: construction and access).
"""
from __future__ import annotations

from .core import Rules
from .settings import DEFAULT_WEIGHTS

__all__ = ["DEFAULT_WEIGHTS", "Rules"]
