"""Provenance of a pairing: what went in, under which programme, with which software, when.

A result's record holds the validated programme (every setting, defaults included), each input
table's name (path, or ``<DataFrame>``), the SHA-256 of its file's bytes and its row count, the
org chart likewise when one was given, the notes of reading (encodings, managers taken as chain
ends), the versions of Python, mentormatch and the libraries that decide the result, and the
date. :meth:`mentormatch.Matching.to_csv` writes it as ``provenance.json`` beside the pairs, so
that a pairing can be traced to its inputs and re-run.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: distributions whose versions can change a result (the solver stack and the table readers)
DEPENDENCIES = ("numpy", "pandas", "scipy", "ortools", "networkx", "highspy", "openpyxl", "pyarrow")
DISTRIBUTION = "mentormatch-pairing"


@dataclass
class Provenance:
    """The provenance record of one result (see the module docstring).

    Attributes
    ----------
    programme : dict
        The validated settings (``Rules.to_dict()``), NaN written as null.
    inputs : list of dict
        One per input table: ``table`` ("mentors", "mentees", "org"), ``name``, ``sha256``
        (None for a DataFrame), ``rows``, ``encoding``.
    notes : list of str
        What reading decided (``Matching.notes``).
    versions : dict
        ``python``, ``platform``, ``mentormatch`` and each installed dependency.
    created : str
        UTC date and time, ISO 8601, to the second.
    """

    programme: dict[str, Any]
    inputs: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""

    def to_json(self) -> str:
        return json.dumps(_plain(asdict(self)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, directory: str | Path) -> Path:
        """Write ``provenance.json`` into ``directory`` (created if needed); return its path."""
        path = Path(directory) / "provenance.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def versions() -> dict[str, str]:
    """Python, the platform, mentormatch and each installed dependency of :data:`DEPENDENCIES`."""
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in (DISTRIBUTION, *DEPENDENCIES):
        try:
            out["mentormatch" if name == DISTRIBUTION else name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == DISTRIBUTION:
                out["mentormatch"] = "not installed (source tree)"
    return out


def record(data: dict[str, Any], notes: list[str] | None = None) -> Provenance:
    """The provenance of a result, from its ``data`` (what :func:`mentormatch.pair` keeps:
    the validated ``mentors``/``mentees`` and ``rules``). A result of ``assign`` has no tables:
    its inputs are the scores' shape.

    Examples
    --------
    >>> import pandas as pd, mentormatch as mm
    >>> r = mm.pair(pd.DataFrame({"id": ["M1"], "capacity": [1]}), pd.DataFrame({"id": ["E1"]}))
    >>> [(i["table"], i["name"], i["rows"]) for i in record(r.data).inputs]
    [('mentors', '<DataFrame>', 1), ('mentees', '<DataFrame>', 1)]
    """
    inputs = []
    for table in ("mentors", "mentees"):
        frame = data.get(table)
        if frame is None:
            continue
        attrs = frame.attrs
        inputs.append({"table": table, "name": str(attrs.get("source", "<DataFrame>")),
                       "sha256": attrs.get("sha256"), "rows": int(len(frame)),
                       "encoding": attrs.get("encoding")})
    org = data["mentees"].attrs.get("org") if data.get("mentees") is not None else None
    if org:
        inputs.append({"table": "org", "name": str(org["source"]), "sha256": org.get("sha256"),
                       "rows": int(org["rows"]), "encoding": None})
    scores = data.get("scores")
    if not inputs and hasattr(scores, "shape") and len(getattr(scores, "shape", ())) == 2:
        inputs.append({"table": "scores", "name": "<DataFrame>", "sha256": None,
                       "rows": int(scores.shape[0]), "columns": int(scores.shape[1]), "encoding": None})
    rules = data.get("rules")
    programme = rules.to_dict() if hasattr(rules, "to_dict") else {}
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    return Provenance(programme, inputs, list(notes or []), versions(), created)


def _plain(value):
    """JSON-ready: NaN and infinities as null, tuples as lists, numpy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
