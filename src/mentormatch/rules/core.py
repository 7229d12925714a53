"""Rules: a programme's validated settings, built from a mapping, a TOML file or a Programme,
with the accessors the pipeline reads. The table of settings is ``settings``; their validation
is ``check``."""
from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import Problem, ValidationError
from .check import _suggest, check_settings
from .settings import _DEFAULTS, _REMOVED, DEFAULT_WEIGHTS


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
        problems += check_settings(rules.settings, source)
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

    # -- access ---------------------------------------------------------------------------
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
                "case_sensitive_ids": inp["case_sensitive_ids"],
                "capacity": None if math.isnan(inp["capacity"]) else inp["capacity"],
                "groups": tuple(dict.fromkeys(groups))}

    @property
    def weights(self) -> dict[str, float]:
        """Feature -> weight, the built-in features in :data:`DEFAULT_WEIGHTS`' order, then the
        others (registered features) in name order, whatever the order written: a score is
        summed in this order, so a programme saved (its tables sorted by name) and loaded, or
        written in another order, scores every pair to the same bit, and ties fall alike."""
        given = self.settings["weights"]
        order = [k for k in DEFAULT_WEIGHTS if k in given] + sorted(k for k in given if k not in DEFAULT_WEIGHTS)
        return {k: float(given[k]) for k in order}

    @property
    def score_span(self) -> float:
        """The sum of the positive weights: every pair's score (a weighted sum of features in
        [0, 1], :func:`mentormatch.scoring.score_pairs`) lies in ``[0, score_span]``, a fact
        known before any pair is scored."""
        return float(sum(w for w in self.weights.values() if w > 0))

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
