"""Validation of a programme's merged settings (``settings._DEFAULTS`` with the user's values
over them): every wrong setting is a Problem naming the key, the value and what is expected.
The feature, solver and column names are checked against their own registries."""
from __future__ import annotations

import datetime as _dt
import difflib
import math
from typing import Any, Mapping

from ..errors import Problem, ValidationError
from .settings import _DEFAULTS, _FAIRNESS_OBJECTIVES

#: a plain number setting: (check, what is expected)
_NUMBER = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number")
#: What a ``time_limit`` must be, in the rules and in ``assign()``.
TIME_LIMIT_EXPECTED = "a number of seconds > 0 (e.g. time_limit = 30)"


def is_time_limit(t) -> bool:
    """Whether ``t`` is a valid ``time_limit``: a number of seconds above 0 (not NaN, not a
    bool). ``inf`` is allowed: no limit."""
    return _NUMBER[0](t) and t > 0 and not math.isnan(t)


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


def check_settings(s: Mapping[str, Any], source: str) -> list[Problem]:
    """The problems of a merged settings table ``s`` (empty when it is valid); ``source`` names
    the programme in each Problem."""
    from ..features import FEATURES  # the registry of known feature names
    from ..features.base import build_feature

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
    from ..solvers import BUILTIN, SOLVERS

    known = set(SOLVERS) | set(BUILTIN)
    if not isinstance(s["solver"], str) or s["solver"] not in known:
        bad("solver", s["solver"], f"one of {sorted(known)}{_suggest(s['solver'], known)}")
    if not isinstance(s["seed"], int) or isinstance(s["seed"], bool):
        bad("seed", s["seed"], "an integer")
    t = s["time_limit"]
    if t is not None and not is_time_limit(t):  # None: not set (solvers.base.SEARCH_TIME_LIMIT)
        bad("time_limit", t, TIME_LIMIT_EXPECTED)
    problems += _check_columns(s, source)
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
    if (fair["objective"] in _FAIRNESS_OBJECTIVES[1:] and isinstance(s["solver"], str)
            and s["solver"] in known and s["solver"] not in ("flow", fair["objective"])):
        # the fairness objective decides the solver; another named solver would go unused
        bad("solver", s["solver"],
            f"'flow' (the default) or {fair['objective']!r}: fairness.objective = "
            f"{fair['objective']!r} is solved by the {fair['objective']!r} solver (CP-SAT or the "
            f"engine's flows under side constraints), so solver {s['solver']!r} would not be "
            f"used; or set fairness.objective = 'total' to solve with {s['solver']!r}")
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
    problems += _check_input(s, source)
    return problems


def _check_columns(s: Mapping[str, Any], source: str) -> list[Problem]:
    """``columns``: export header = canonical column, shared or per table."""
    from ..schema import COLUMN_BY_NAME, COMPETENCY_PREFIX

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
                    "column such as 'department' needs no mapping"
                    + (f"; a setting '{header}' written below the [columns] header belongs to "
                       "that table in TOML: move it above the first [section]"
                       if key == "columns" and header in _DEFAULTS else "")))

    for header, target in s["columns"].items():
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


def _check_input(s: Mapping[str, Any], source: str) -> list[Problem]:
    from ..schema.cells import UNKNOWN_MANAGERS

    problems: list[Problem] = []
    inp = s["input"]
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
    if not isinstance(inp["case_sensitive_ids"], bool):
        problems.append(Problem(source, "input.case_sensitive_ids", None, None,
                                inp["case_sensitive_ids"], "true or false"))
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
