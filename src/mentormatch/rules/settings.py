"""The table of known settings of a programme's rules, with their defaults (the TOML shape is in
``mentormatch.rules``), and the settings once accepted and now gone."""
from __future__ import annotations

import math
from typing import Any

DEFAULT_WEIGHTS: dict[str, float] = {
    "geography": 1.0,
    "experience": 1.0,
    "personality": 0.5,
    "competency": 2.0,
    "preference": 1.0,
    "readiness": 0.5,
}

_DEFAULTS: dict[str, Any] = {
    "solver": "flow",
    "seed": 0,
    # seconds for the whole solve, the plain flow included; None (not set): plain problems run to
    # their proof, searches under side constraints stop at solvers.base.SEARCH_TIME_LIMIT (README)
    "time_limit": None,
    "framework": "",
    "columns": {},
    "weights": dict(DEFAULT_WEIGHTS),
    "features": {},
    "constraints": {
        "management_line": True,
        "same_team": False,
        "mentor_level_above": False,
        "forbidden": [],
        "locked": [],
        "coverage_first": False,
        "min_score": math.nan,
        "budget": math.nan,
        "incentives": False,
        "balanced_load": False,
        "priority_weight": 1.0,
    },
    "fairness": {
        "groups": [],
        "floor_group": "",
        "score_floor": math.nan,
        "share_floor": math.nan,
        "objective": "total",
    },
    "input": {
        "encoding": "",
        "decimal": ".",
        "trim_ids": False,
        "case_sensitive_ids": False,
        "unknown_managers": "error",
        "capacity": math.nan,
        "org": "",
    },
    # development plans: milestones every cadence_weeks from start_date (ISO date; empty = the
    # day the plan is made) until horizon_weeks
    "plans": {"start_date": "", "cadence_weeks": 6, "horizon_weeks": 24},
}

# Settings that were once accepted and are now gone: a clear message instead of "unknown key".
_REMOVED = {"candidates": "the candidate list is decided by the engine (no setting reads it)"}

#: the values of fairness.objective
_FAIRNESS_OBJECTIVES = ("total", "maxmin", "leximin")
