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
    unknown_managers = "error" # "chain_end": a manager in neither table ends the chain (noted)
    capacity = nan             # every mentor's capacity when the table has no capacity column
    org = ""                   # org chart file: id, manager_id for everyone (or pair(org=...))
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

#: the type each plain setting must have, as (check, what is expected)
_NUMBER = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number")
_BOOL = (lambda v: isinstance(v, bool), "true or false")
_TEXT = (lambda v: isinstance(v, str), "text")

_FAIRNESS_OBJECTIVES = ("total", "maxmin", "leximin")


def _suggest_column(name: str, known) -> str:
    """A did-you-mean for a column: by spelling, else a canonical name containing the word."""
    hint = _suggest(name, known)
    if hint:
        return hint
    words = [w for w in str(name).lower().replace("-", "_").split("_") if len(w) > 3]
    near = [k for k in known if any(w in k for w in words)]
    return f"; did you mean {near[0]!r}?" if near else ""


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
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
        if not isinstance(data, Mapping):
            raise ValidationError(Problem(source, None, None, None, data, "a table of settings"))
        for key, value in dict(data).items():
            if key in _REMOVED:
                problems.append(Problem(source, key, None, None, value,
                                        f"no {key!r} section: {_REMOVED[key]}; remove it"))
                continue
            if key not in _DEFAULTS:
                problems.append(Problem(source, key, None, None, value,
                                        f"one of {sorted(_DEFAULTS)}{_suggest(key, _DEFAULTS)}"))
                continue
            default = _DEFAULTS[key]
            if key in ("weights", "columns", "features"):
                if not isinstance(value, Mapping):
                    problems.append(Problem(source, key, None, None, value, {
                        "weights": "a table of feature = weight, e.g. {geography = 1.0}",
                        "columns": "a table of \"export header\" = \"canonical column\"",
                        "features": "a table of feature = {setting = value}"}[key]))
                    continue
                merged[key] = copy.deepcopy(dict(value))
            elif isinstance(default, dict):
                if not isinstance(value, Mapping):
                    problems.append(Problem(source, key, None, None, value, "a table of settings"))
                    continue
                for sub, subvalue in value.items():
                    if sub not in default:
                        problems.append(Problem(source, f"{key}.{sub}", None, None, subvalue,
                                                f"a setting of [{key}], one of {sorted(default)}"
                                                f"{_suggest(sub, default)}"))
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
        fw = data.get("framework") if isinstance(data, dict) else None
        if isinstance(fw, str) and fw and fw != "sales":  # relative to the programme file
            data = {**data, "framework": str(path.parent / fw)}
        elif isinstance(fw, dict):
            data = {**data, "framework": {k: str(path.parent / v) if isinstance(v, str) else v
                                          for k, v in fw.items()}}
        inp = data.get("input") if isinstance(data, dict) else None
        if isinstance(inp, dict) and isinstance(inp.get("org"), str) and inp["org"]:
            data = {**data, "input": {**inp, "org": str(path.parent / inp["org"])}}
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
        raise ValidationError(Problem("arguments", "programme", None, None, type(programme).__name__,
                                      "None, a dict, a TOML path, Rules or a Programme"))

    # -- validation ----------------------------------------------------------------------
    def _check(self, source: str) -> list[Problem]:
        from .features import FEATURES  # the registry of known feature names
        from .features.base import build_feature

        s = self.settings
        problems: list[Problem] = []

        def bad(key: str, value, expected: str) -> None:
            problems.append(Problem(source, key, None, None, value, expected))

        def number(key: str, value, *, low=None, high=None, nan_ok=False) -> None:
            ok = _NUMBER[0](value) and (math.isfinite(value) or (nan_ok and math.isnan(value)))
            if ok and not math.isnan(value):
                ok = (low is None or value >= low) and (high is None or value <= high)
            if not ok:
                span = (f" in [{low:g}, {high:g}]" if low is not None and high is not None
                        else f" >= {low:g}" if low is not None else "")
                bad(key, value, f"a number{span}" + (" (or nan: off)" if nan_ok else "")
                    + (f", not text: write {key.rsplit('.', 1)[-1]} = 0.5 without quotes"
                       if isinstance(value, str) else ""))

        for name, w in s["weights"].items():
            if name not in FEATURES:
                bad(f"weights.{name}", w, f"a known feature name, one of {sorted(FEATURES)}"
                                          f"{_suggest(name, FEATURES)}")
            else:
                number(f"weights.{name}", w, low=0)
        for name, settings in s["features"].items():
            if name not in FEATURES:
                bad(f"features.{name}", settings, f"a known feature name, one of {sorted(FEATURES)}"
                                                  f"{_suggest(name, FEATURES)}")
            elif not isinstance(settings, Mapping):
                bad(f"features.{name}", settings, f"a table of settings, e.g. [features.{name}] "
                                                  "with one setting = value per line")
            else:
                try:  # the extractor checks its own settings (names, types, ranges)
                    build_feature(FEATURES[name], settings)
                except ValidationError as exc:
                    problems.extend(exc.problems)
        from .solvers import BUILTIN, SOLVERS

        known = set(SOLVERS) | set(BUILTIN)
        if not isinstance(s["solver"], str) or s["solver"] not in known:
            bad("solver", s["solver"], f"one of {sorted(known)}{_suggest(s['solver'], known)}")
        if not isinstance(s["seed"], int) or isinstance(s["seed"], bool):
            bad("seed", s["seed"], "an integer")
        t = s["time_limit"]
        if not (_NUMBER[0](t) and t > 0 and not math.isnan(t)):
            bad("time_limit", t, "a number of seconds > 0 (e.g. time_limit = 30)")
        problems += self._check_columns(source)
        fw = s["framework"]
        if isinstance(fw, Mapping):
            for key in sorted(set(fw) | {"requirements", "pathways"}):
                if key not in ("requirements", "pathways"):
                    bad(f"framework.{key}", fw[key], "'requirements' or 'pathways'"
                                                     f"{_suggest(key, ['requirements', 'pathways'])}")
                elif not isinstance(fw.get(key), str) or not fw.get(key):
                    bad(f"framework.{key}", fw.get(key), f"the path of the {key} CSV file")
        elif not isinstance(fw, str):
            bad("framework", fw, "a framework TOML path, 'sales', or {requirements = \"reqs.csv\", "
                                 "pathways = \"paths.csv\"}")
        fair = s["fairness"]
        if fair["objective"] not in _FAIRNESS_OBJECTIVES:
            bad("fairness.objective", fair["objective"], f"one of {list(_FAIRNESS_OBJECTIVES)}"
                                                         f"{_suggest(fair['objective'], _FAIRNESS_OBJECTIVES)}")
        groups = fair["groups"]
        if isinstance(groups, str):
            bad("fairness.groups", groups, f"a list of column names, e.g. groups = [{groups!r}]")
        elif not isinstance(groups, (list, tuple)) or not all(isinstance(g, str) and g for g in groups):
            bad("fairness.groups", groups, "a list of column names (text), e.g. ['gender', 'region']")
        if not isinstance(fair["floor_group"], str):
            bad("fairness.floor_group", fair["floor_group"], "a column name (text)")
        floors = False
        for key in ("score_floor", "share_floor"):
            number(f"fairness.{key}", fair[key], low=0, high=1, nan_ok=True)
            floors |= _NUMBER[0](fair[key]) and not math.isnan(fair[key])
        if floors and not fair["floor_group"]:
            bad("fairness.floor_group", fair["floor_group"], "the group column the floors apply to")
        cons = s["constraints"]
        for key in ("management_line", "same_team", "mentor_level_above", "coverage_first",
                    "incentives", "balanced_load"):
            if not isinstance(cons[key], bool):
                bad(f"constraints.{key}", cons[key], "true or false")
        for key in ("forbidden", "locked"):
            if not isinstance(cons[key], (list, tuple)):
                bad(f"constraints.{key}", cons[key], "a list of [mentee_id, mentor_id] pairs")
                continue
            for n, pair in enumerate(cons[key]):
                if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
                    bad(f"constraints.{key}[{n}]", pair, "a [mentee_id, mentor_id] pair")
        number("constraints.min_score", cons["min_score"], nan_ok=True)
        number("constraints.budget", cons["budget"], low=0, nan_ok=True)
        number("constraints.priority_weight", cons["priority_weight"], low=0)
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
        problems += self._check_input(source)
        return problems

    def _check_columns(self, source: str) -> list[Problem]:
        """``columns``: export header = canonical column, shared or per table."""
        from .schema import COLUMN_BY_NAME, COMPETENCY_PREFIX

        problems: list[Problem] = []

        def entries(key: str, mapping) -> None:
            for header, target in mapping.items():
                where = f"{key}.{header}"
                if not isinstance(target, str):
                    problems.append(Problem(source, where, None, None, target,
                                            "a canonical column name (text)"))
                elif target not in COLUMN_BY_NAME and not (
                        target.startswith(COMPETENCY_PREFIX) and len(target) > len(COMPETENCY_PREFIX)):
                    problems.append(Problem(
                        source, where, None, None, target,
                        "a canonical column name (see mentormatch.schema.describe_columns()) or "
                        f"'comp_<competency>'{_suggest_column(target, COLUMN_BY_NAME)}; a group "
                        "column such as 'department' needs no mapping"))

        for header, target in self.settings["columns"].items():
            if header in ("mentors", "mentees"):  # per-table sections, never a header's name
                if isinstance(target, Mapping):
                    entries(f"columns.{header}", target)
                else:
                    problems.append(Problem(source, f"columns.{header}", None, None, target,
                                            f"a table [columns.{header}] of \"export header\" = "
                                            "\"canonical column\""))
            else:
                entries("columns", {header: target})
        return problems

    def _check_input(self, source: str) -> list[Problem]:
        from .schema.cells import UNKNOWN_MANAGERS

        problems: list[Problem] = []
        inp = self.settings["input"]
        enc = inp["encoding"]
        if not isinstance(enc, str):
            problems.append(Problem(source, "input.encoding", None, None, enc, "an encoding name (text)"))
        elif enc:
            import codecs

            try:
                codecs.lookup(enc)
            except LookupError:
                problems.append(Problem(source, "input.encoding", None, None, enc,
                                        "a text encoding such as 'utf-8', 'utf-16' or 'cp1252'"
                                        f"{_suggest(enc, ['utf-8', 'utf-16', 'cp1252', 'latin-1'])}"))
        if inp["decimal"] not in (".", ","):
            problems.append(Problem(source, "input.decimal", None, None, inp["decimal"], "'.' or ','"))
        if not isinstance(inp["trim_ids"], bool):
            problems.append(Problem(source, "input.trim_ids", None, None, inp["trim_ids"], "true or false"))
        if inp["unknown_managers"] not in UNKNOWN_MANAGERS:
            problems.append(Problem(source, "input.unknown_managers", None, None, inp["unknown_managers"],
                                    f"one of {list(UNKNOWN_MANAGERS)}"
                                    f"{_suggest(inp['unknown_managers'], UNKNOWN_MANAGERS)}"))
        cap = inp["capacity"]
        if not (_NUMBER[0](cap) and (math.isnan(cap) or 0 <= cap < math.inf)):
            problems.append(Problem(source, "input.capacity", None, None, cap,
                                    "a number >= 0 (every mentor's capacity), or nan: from the table"))
        if not isinstance(inp["org"], str):
            problems.append(Problem(source, "input.org", None, None, inp["org"],
                                    "the path of the org chart file (text)"))
        return problems

    def framework_source(self):
        """The career framework the programme names: None (decided from the tables' roles), a
        path, "sales" or {"requirements": path, "pathways": path}."""
        fw = self.settings["framework"]
        return dict(fw) if isinstance(fw, Mapping) else (fw or None)

    def input_options(self, org=None) -> dict[str, Any]:
        """The keyword arguments of :func:`mentormatch.schema.validate_tables` that the rules
        set: ``[input]``, the org chart (``org`` wins over ``input.org``) and the group columns
        the fairness settings name."""
        inp = self.settings["input"]
        fair = self.settings["fairness"]
        groups = list(fair["groups"]) + ([fair["floor_group"]] if fair["floor_group"] else [])
        return {"org": org if org is not None else (inp["org"] or None),
                "encoding": inp["encoding"] or None, "decimal": inp["decimal"],
                "trim_ids": inp["trim_ids"], "unknown_managers": inp["unknown_managers"],
                "capacity": None if math.isnan(inp["capacity"]) else inp["capacity"],
                "groups": tuple(dict.fromkeys(groups))}

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
