"""Writing a career framework in the shapes :mod:`.read` reads: the requirements in long form,
the pathways, and TOML text. Each function takes the framework (a
:class:`~mentormatch.careers.CareerFramework`, not imported here: its module imports this one);
its methods ``to_frame``, ``pathways_frame``, ``to_csv`` and ``to_toml`` call them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .shape import PATHWAY_COLUMNS, PATHWAY_OPTIONAL, REQUIREMENT_COLUMNS


def requirements_table(fw) -> pd.DataFrame:
    """The requirements in long form: columns ``role, title, level, competency, required,
    importance``; one row per role x competency, roles then competencies in framework order."""
    n_r, n_c = len(fw.roles), len(fw.competencies)
    roles = np.repeat(np.asarray(fw.roles, dtype=object), n_c)
    return pd.DataFrame({
        "role": roles,
        "title": [fw.titles[r] for r in roles],
        "level": np.repeat([fw.level[r] for r in fw.roles], n_c).astype(np.int64),
        "competency": np.tile(np.asarray(fw.competencies, dtype=object), n_r),
        "required": fw.required.loc[fw.roles, fw.competencies].to_numpy(np.float64).reshape(-1),
        "importance": fw.importance.loc[fw.roles, fw.competencies].to_numpy(np.float64).reshape(-1),
    }, columns=REQUIREMENT_COLUMNS)


def pathways_table(fw) -> pd.DataFrame:
    """The pathways: ``from_role, to_role, kind``, and ``primary`` and ``share`` when some move
    uses them; rows in role order of the source, then as ``fw.next_roles`` orders them."""
    edges = fw.graph.edges
    rows = [(r, s, edges[r, s]["kind"], edges[r, s].get("primary", False), edges[r, s].get("share", 0.0))
            for r in fw.roles for s in fw.next_roles(r)]
    frame = pd.DataFrame(rows, columns=PATHWAY_COLUMNS + PATHWAY_OPTIONAL)
    keep = [c for c in PATHWAY_OPTIONAL if frame[c].astype(bool).any()]  # only when used
    return frame[PATHWAY_COLUMNS + keep]


def toml_text(fw) -> str:
    """The framework as TOML text, the shape :func:`.read.toml_fields` reads."""
    q, key = _toml_str, _toml_key  # values are always quoted; keys only when needed
    lines = ["competencies = [" + ", ".join(q(c) for c in fw.competencies) + "]", ""]
    for role in fw.roles:
        req = fw.required.loc[role]
        imp = fw.importance.loc[role]
        listed = [c for c in fw.competencies if req[c] > 0 or imp[c] > 0]
        lines += [f"[roles.{key(role)}]", f"title = {q(fw.titles[role])}",
                  f"level = {fw.level[role]}",
                  "requires = {" + ", ".join(f"{key(c)} = {_toml_num(req[c])}" for c in listed) + "}",
                  "importance = {" + ", ".join(f"{key(c)} = {_toml_num(imp[c])}" for c in listed) + "}",
                  ""]
    for r in pathways_table(fw).to_dict("records"):
        lines += ["[[pathways]]", f"from = {q(r['from_role'])}", f"to = {q(r['to_role'])}",
                  f"kind = {q(r['kind'])}"]
        lines += ["primary = true"] if r.get("primary") else []
        lines += [f"share = {_toml_num(r['share'])}"] if r.get("share") else []
        lines += [""]
    if fw.activities:  # in competency order (any other key after them, as given)
        rank = {c: k for k, c in enumerate(fw.competencies)}
        keys = sorted(fw.activities, key=lambda c: rank.get(c, len(rank)))
        lines += ["[activities]"] + [f"{key(c)} = {q(fw.activities[c])}" for c in keys] + [""]
    return "\n".join(lines)


def _toml_key(text: str) -> str:
    """A bare TOML key when allowed, else a quoted one."""
    bare = text.replace("_", "").replace("-", "")
    return text if text and bare.isascii() and bare.isalnum() else _toml_str(text)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
                         for ch in str(text)) + '"'


def _toml_num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else repr(value)
