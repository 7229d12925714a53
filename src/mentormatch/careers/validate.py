"""Validation of a career framework's parsed pieces: every finding collected, then the
framework's fields, or one :class:`~mentormatch.errors.ValidationError` listing them all.

:mod:`.read` parses TOML and CSV into the pieces; :func:`fields` checks levels, titles, mastery
and importance cells, the number of competencies per role and the pathway graph (kinds, levels,
no cycle but a lateral move declared both ways), the rules listed under
:meth:`CareerFramework.from_csv <mentormatch.careers.CareerFramework.from_csv>`.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .shape import COMPETENCIES_PER_ROLE, KINDS, MASTERY_RANGE, TABLE


def fields(roles: list[str], titles: dict, levels: dict, entries: list, pathways: list,
           order: list[str] | None, problems: list[Problem]) -> dict:
    """Validate the parsed pieces; the framework's fields, or raise with every problem.

    Parameters
    ----------
    roles : list of str
        Role ids in file order.
    titles, levels : dict
        Per role, as read (checked here).
    entries : list of tuple
        ``(role, competency, required, importance, line)``; importance None = the default
        (1 where required, else 0); line None for TOML.
    pathways : list of tuple
        ``(from, to, kind, line, primary, share)``.
    order : list of str or None
        The declared competency order, or None (order of first appearance).
    problems : list of Problem
        Findings of the parsing, to which these are added.

    Returns
    -------
    dict
        ``roles, competencies, required, importance, level, graph, titles``: the keyword
        arguments of :class:`~mentormatch.careers.CareerFramework`.
    """
    for role in roles:
        lv = levels.get(role)
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not math.isfinite(lv) \
                or lv < 0 or lv != int(lv):
            problems.append(Problem(TABLE, "level", role, None, lv, "a whole number >= 0"))
            levels[role] = 0
        else:
            levels[role] = int(lv)
        if not isinstance(titles.get(role), str):
            problems.append(Problem(TABLE, "title", role, None, titles.get(role), "text"))
            titles[role] = str(role)
    comps = list(order) if order is not None else []
    seen_c = set(comps)
    cells: dict[tuple[str, str], tuple[float, float]] = {}
    lo, hi = MASTERY_RANGE
    for role, comp, required, importance, line in entries:
        if not isinstance(comp, str) or not comp:
            problems.append(Problem(TABLE, "competency", role, line, comp, "a competency id"))
            continue
        if comp not in seen_c:
            if order is not None:
                problems.append(Problem(TABLE, "competency", role, line, comp,
                                        f"a competency of the list ({', '.join(order)})"))
                continue
            seen_c.add(comp)
            comps.append(comp)
        if (role, comp) in cells:
            problems.append(Problem(TABLE, "competency", role, line, comp,
                                    "each competency once per role"))
            continue
        ok = True
        if not is_number(required) or not lo <= required <= hi:
            problems.append(Problem(TABLE, "required", role, line, required,
                                    f"a mastery level {lo}..{hi} for {comp!r}"))
            ok = False
        if importance is None or (isinstance(importance, float) and math.isnan(importance)):
            importance = 1.0 if ok and required > 0 else 0.0
        elif not is_number(importance) or importance < 0:
            problems.append(Problem(TABLE, "importance", role, line, importance,
                                    f"a weight >= 0 for {comp!r}"))
            ok = False
        if ok:
            cells[(role, comp)] = (float(required), float(importance))
    req = pd.DataFrame(0.0, index=pd.Index(roles, name="role"),
                       columns=pd.Index(comps, name="competency"))
    imp = req.copy()
    for (role, comp), (r, w) in cells.items():
        req.at[role, comp] = r
        imp.at[role, comp] = w
    counts = (req > 0).sum(axis=1)
    a, b = COMPETENCIES_PER_ROLE
    for role, count in counts.items():
        if count < a or (b is not None and count > b):
            problems.append(Problem(TABLE, "required", role, None, int(count),
                                    f"at least {a} competency required (> 0) per role"
                                    if b is None else f"{a} to {b} competencies required (> 0) per role"))
    graph = nx.DiGraph()
    graph.add_nodes_from(roles)
    known = set(roles)
    for src, dst, kind, line, primary, share in pathways:
        bad = False
        if not isinstance(primary, bool):
            problems.append(Problem(TABLE, "primary", src if isinstance(src, str) else None, line,
                                    primary, "true or false (the role's main move)"))
            bad = True
        if not is_number(share) or share < 0:
            problems.append(Problem(TABLE, "share", src if isinstance(src, str) else None, line,
                                    share, "a number >= 0 (how common the move is)"))
            bad = True
        for column, value in (("from_role", src), ("to_role", dst)):
            if value not in known:
                problems.append(Problem(TABLE, column, src if isinstance(src, str) else None,
                                        line, value, f"a role of the framework ({', '.join(roles)})"))
                bad = True
        if kind not in KINDS:
            problems.append(Problem(TABLE, "kind", src if isinstance(src, str) else None, line,
                                    kind, "'up' or 'lateral'"))
            bad = True
        if bad:
            continue
        ls, ld = levels[src], levels[dst]
        if src == dst:
            problems.append(Problem(TABLE, "to_role", src, line, dst, "a role other than the source"))
        elif kind == "up" and ld <= ls:
            problems.append(Problem(TABLE, "kind", src, line, kind,
                                    f"'lateral' or a target above level {ls} ({dst!r} is at level {ld})"))
        elif kind == "lateral" and ld != ls:
            problems.append(Problem(TABLE, "kind", src, line, kind,
                                    f"'up' or a target at level {ls} ({dst!r} is at level {ld})"))
        elif graph.has_edge(src, dst):
            problems.append(Problem(TABLE, "to_role", src, line, dst, "each pathway once"))
        else:
            graph.add_edge(src, dst, kind=kind, primary=primary, share=float(share))
    one_way = nx.DiGraph((u, v) for u, v, kd in graph.edges(data="kind")
                         if kd == "lateral" and not (graph.has_edge(v, u) and u > v))
    if not problems and not nx.is_directed_acyclic_graph(one_way):
        cycle = [u for u, _ in nx.find_cycle(one_way)]
        problems.append(Problem(TABLE, "to_role", cycle[0], None, " -> ".join(cycle + cycle[:1]),
                                "lateral moves without a cycle (only a move declared both ways)"))
    if problems:
        raise ValidationError(problems)
    return dict(roles=list(roles), competencies=comps, required=req, importance=imp,
                level={r: levels[r] for r in roles}, graph=graph,
                titles={r: titles[r] for r in roles})


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))
