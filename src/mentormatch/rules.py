"""A programme's rules: feature weights and settings, constraints, solver choice and column
mapping, from Python or TOML, validated against one table of known settings.

TOML shape (every section and key optional; defaults shown by ``Rules().to_dict()``)::

    solver = "flow"            # flow | hungarian | cpsat | stable | maxmin | leximin | greedy | random
    seed = 0

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

    [fairness]
    groups = ["gender", "region"]   # group attribute columns audited in reports
    floor_group = "region"          # the attribute the floors apply to
    score_floor = 0.9               # each group's mean score >= 0.9 x overall mean
    share_floor = 0.8               # each group's matched share >= 0.8
    objective = "total"             # total | maxmin | leximin

    [candidates]
    top_k = 0                  # 0: decided by the solver
"""
from __future__ import annotations

import copy
import datetime as _dt
import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import Problem, ValidationError

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
    "time_limit": 30.0,
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
    },
    "fairness": {
        "groups": [],
        "floor_group": "",
        "score_floor": math.nan,
        "share_floor": math.nan,
        "objective": "total",
    },
    "candidates": {"top_k": 0},
    # development plans: milestones every cadence_weeks from start_date (ISO date; empty = the
    # day the plan is made) until horizon_weeks
    "plans": {"start_date": "", "cadence_weeks": 6, "horizon_weeks": 24},
}

_FAIRNESS_OBJECTIVES = ("total", "maxmin", "leximin")


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass
class Rules:
    """Validated programme rules. Build with :meth:`from_dict`, :meth:`from_toml` or
    :meth:`coerce`; ``settings`` holds the merged, validated dictionary."""

    settings: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(_DEFAULTS))

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "programme") -> "Rules":
        """Merge ``data`` over the defaults and validate. ``weights`` replaces the default
        weights as a whole when given (features left out get weight 0)."""
        problems: list[Problem] = []
        merged = copy.deepcopy(_DEFAULTS)
        for key, value in dict(data).items():
            if key not in _DEFAULTS:
                problems.append(Problem(source, key, None, None, value,
                                        f"one of {sorted(_DEFAULTS)}{_suggest(key, _DEFAULTS)}"))
                continue
            default = _DEFAULTS[key]
            if key in ("weights", "columns", "features"):
                if not isinstance(value, Mapping):
                    problems.append(Problem(source, key, None, None, value, "a table of name = value"))
                    continue
                merged[key] = copy.deepcopy(dict(value))
            elif isinstance(default, dict):
                if not isinstance(value, Mapping):
                    problems.append(Problem(source, key, None, None, value, "a table of settings"))
                    continue
                for sub, subvalue in value.items():
                    if sub not in default:
                        problems.append(Problem(source, f"{key}.{sub}", None, None, subvalue,
                                                f"one of {sorted(default)}{_suggest(sub, default)}"))
                    else:
                        merged[key][sub] = subvalue
            else:
                merged[key] = value
        rules = cls(merged)
        problems += rules._check(source)
        if problems:
            raise ValidationError(problems)
        return rules

    @classmethod
    def from_toml(cls, path: str | Path) -> "Rules":
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ValidationError(Problem(str(path), None, None, None, str(path),
                                          "an existing programme TOML file")) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, IsADirectoryError) as exc:
            raise ValidationError(Problem(str(path), None, None, None, str(exc),
                                          "a readable TOML file")) from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def coerce(cls, programme) -> "Rules":
        """Accept None (defaults), a Rules, a mapping, a TOML path, or an object with ``rules``."""
        if programme is None:
            return cls()
        if isinstance(programme, Rules):
            return programme
        if isinstance(programme, Mapping):
            return cls.from_dict(programme)
        if isinstance(programme, (str, Path)):
            return cls.from_toml(programme)
        rules = getattr(programme, "rules", None)
        if isinstance(rules, Rules):
            return rules
        raise TypeError(f"programme must be None, a dict, a TOML path, Rules or Programme; "
                        f"got {type(programme).__name__}")

    # -- validation ----------------------------------------------------------------------
    def _check(self, source: str) -> list[Problem]:
        from .features import FEATURES  # the registry of known feature names

        s = self.settings
        problems: list[Problem] = []
        for name, w in s["weights"].items():
            if name not in FEATURES:
                problems.append(Problem(source, f"weights.{name}", None, None, w,
                                        f"a known feature name, one of {sorted(FEATURES)}"
                                        f"{_suggest(name, FEATURES)}"))
            elif not isinstance(w, (int, float)) or isinstance(w, bool) or not math.isfinite(w) or w < 0:
                problems.append(Problem(source, f"weights.{name}", None, None, w,
                                        "a finite number >= 0"))
        for name in s["features"]:
            if name not in FEATURES:
                problems.append(Problem(source, f"features.{name}", None, None, s["features"][name],
                                        f"a known feature name{_suggest(name, FEATURES)}"))
        from .solvers import BUILTIN, SOLVERS

        known = set(SOLVERS) | set(BUILTIN)
        if s["solver"] not in known:
            problems.append(Problem(source, "solver", None, None, s["solver"],
                                    f"one of {sorted(known)}{_suggest(s['solver'], known)}"))
        if not isinstance(s["seed"], int) or isinstance(s["seed"], bool):
            problems.append(Problem(source, "seed", None, None, s["seed"], "an integer"))
        fair = s["fairness"]
        if fair["objective"] not in _FAIRNESS_OBJECTIVES:
            problems.append(Problem(source, "fairness.objective", None, None, fair["objective"],
                                    f"one of {list(_FAIRNESS_OBJECTIVES)}"))
        for key in ("score_floor", "share_floor"):
            v = fair[key]
            if not isinstance(v, (int, float)) or (not math.isnan(v) and not 0 <= v <= 1):
                problems.append(Problem(source, f"fairness.{key}", None, None, v, "a number in [0, 1]"))
        if (not math.isnan(fair["score_floor"]) or not math.isnan(fair["share_floor"])) and not fair["floor_group"]:
            problems.append(Problem(source, "fairness.floor_group", None, None, fair["floor_group"],
                                    "the group column the floors apply to"))
        cons = s["constraints"]
        for key in ("management_line", "same_team", "mentor_level_above", "coverage_first",
                    "incentives", "balanced_load"):
            if not isinstance(cons[key], bool):
                problems.append(Problem(source, f"constraints.{key}", None, None, cons[key], "true or false"))
        for key in ("forbidden", "locked"):
            for n, pair in enumerate(cons[key]):
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                    problems.append(Problem(source, f"constraints.{key}[{n}]", None, None, pair,
                                            "a [mentee_id, mentor_id] pair"))
        plans = s["plans"]
        for key in ("cadence_weeks", "horizon_weeks"):
            v = plans[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                problems.append(Problem(source, f"plans.{key}", None, None, v, "a whole number of weeks >= 1"))
        if not isinstance(plans["start_date"], (str, _dt.date)):
            problems.append(Problem(source, "plans.start_date", None, None, plans["start_date"],
                                    "an ISO date such as 2027-01-11"))
        elif isinstance(plans["start_date"], str) and plans["start_date"]:
            try:
                _dt.date.fromisoformat(plans["start_date"])
            except ValueError:
                problems.append(Problem(source, "plans.start_date", None, None, plans["start_date"],
                                        "an ISO date such as 2027-01-11"))
        b = cons["budget"]
        if not isinstance(b, (int, float)) or (not math.isnan(b) and b < 0):
            problems.append(Problem(source, "constraints.budget", None, None, b, "a number >= 0"))
        return problems

    # -- access ---------------------------------------------------------------------------
    @property
    def weights(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.settings["weights"].items()}

    def feature_settings(self, name: str) -> dict[str, Any]:
        return dict(self.settings["features"].get(name, {}))

    @property
    def constraints(self) -> dict[str, Any]:
        return self.settings["constraints"]

    @property
    def fairness(self) -> dict[str, Any]:
        return self.settings["fairness"]

    @property
    def solver(self) -> str:
        return self.settings["solver"]

    @property
    def seed(self) -> int:
        return self.settings["seed"]

    def column_maps(self) -> tuple[dict[str, str], dict[str, str]]:
        """(mentor mapping, mentee mapping): shared entries plus per-table ones."""
        cols = self.settings["columns"]
        shared = {k: v for k, v in cols.items() if isinstance(v, str)}
        return ({**shared, **cols.get("mentors", {})}, {**shared, **cols.get("mentees", {})})

    def replace(self, **changes) -> "Rules":
        """A new Rules with top-level settings (or whole sections) replaced, re-validated."""
        data = copy.deepcopy(self.settings)
        for key, value in changes.items():
            if isinstance(data.get(key), dict) and isinstance(value, Mapping) and key not in ("weights", "columns", "features"):
                data[key].update(value)
            else:
                data[key] = value
        return Rules.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.settings)
