"""The org chart: managers named by the tables, cycles in the management chain, the graph of
who manages whom, and pruning references to people who have left."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .cells import _as_text


def _managers(frame: pd.DataFrame) -> pd.Series:
    """manager id by row (text, NaN where none)."""
    if "manager_id" not in frame.columns:
        return pd.Series(np.full(len(frame), np.nan, dtype=object), dtype="str")
    return _as_text(frame["manager_id"])



def _row_of(ids: pd.Series, value: str) -> int:
    return int(np.flatnonzero((ids == value).to_numpy())[0])


def _chain_text(cycle: list[str]) -> list[str]:
    """['A', 'B'] (A's manager is B, B's is A) -> B manages A manages B, read top-down."""
    down = cycle[::-1]
    return [*down, down[0]]


def _manager_cycles(mentors: pd.DataFrame, mentees: pd.DataFrame, everyone: pd.Index,
                    managers: dict[str, pd.Series]) -> list[list[str]]:
    """Each cycle of the management chain as [person, their manager, ...], smallest id first.

    Pointer doubling over the parent array finds, in log(depth) vectorised steps, the people
    whose chain never reaches a top; networkx then only sees those few.
    """
    n = len(everyone)
    parent = np.full(n, -1, dtype=np.int64)
    for frame, table in ((mentors, "mentors"), (mentees, "mentees")):
        who = everyone.get_indexer(frame["id"].to_numpy(dtype=object))
        boss = everyone.get_indexer(managers[table].fillna("").to_numpy(dtype=object))
        keep = (who >= 0) & (boss >= 0)
        parent[who[keep]] = boss[keep]
    jump = parent.copy()
    for _ in range(max(1, int(math.ceil(math.log2(n + 1)))) + 1):
        jump = np.where(jump >= 0, jump[np.maximum(jump, 0)], -1)
    stuck = np.flatnonzero(jump >= 0)
    if not len(stuck):
        return []
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_edges_from(zip(stuck.tolist(), parent[stuck].tolist()))  # person -> manager
    cycles = []
    for component in nx.strongly_connected_components(graph):
        start = min(component, key=lambda i: everyone[i])
        if len(component) == 1 and parent[start] != start:
            continue
        cycle, node = [], start
        while True:
            cycle.append(str(everyone[node]))
            node = int(parent[node])
            if node == start:
                break
        cycles.append(cycle)
    return sorted(cycles)



def manager_edges(mentors: pd.DataFrame, mentees: pd.DataFrame):
    """The org chart: a directed graph with an edge manager -> report for each manager_id.

    Parameters
    ----------
    mentors, mentees : pandas.DataFrame
        Validated tables (``id``; optional ``manager_id``). A person in both tables is one
        node (same id, same person).

    Returns
    -------
    networkx.DiGraph
        Nodes: every id of either table (mentees first, then mentors, in row order), plus any
        manager id not in the tables (there is none after validation). Edges: manager -> report.
        A mentor is in a mentee's management line when the mentor is an ancestor of the mentee
        (``networkx.ancestors(graph, mentee_id)``).

    Examples
    --------
    >>> import pandas as pd
    >>> g = manager_edges(pd.DataFrame({"id": ["B"], "manager_id": [None]}),
    ...                   pd.DataFrame({"id": ["A"], "manager_id": ["B"]}))
    >>> sorted(g.edges())
    [('B', 'A')]
    """
    import networkx as nx

    graph = nx.DiGraph()
    for frame in (mentees, mentors):
        ids = _as_text(frame["id"]).to_numpy(dtype=object)
        graph.add_nodes_from(i for i in ids if isinstance(i, str))
    for frame in (mentees, mentors):
        ids, boss = _as_text(frame["id"]), _managers(frame)
        keep = (ids.notna() & boss.notna()).to_numpy()
        graph.add_edges_from(zip(boss[keep].tolist(), ids[keep].tolist()))
    return graph



def prune_references(mentors: pd.DataFrame, mentees: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Remove references to people who are not in either table, and say which were removed.

    Between pairing rounds people join and leave, so a manager id or a stated preference can
    name someone who has gone. :func:`validate_tables` rejects such references (an unknown id
    is usually a typo); this function is the explicit way to drop them, for tables that are
    known to be a subset of the organisation. Works on canonical column names.

    Parameters
    ----------
    mentors, mentees : DataFrame
        Tables with canonical columns; never modified.

    Returns
    -------
    (mentors, mentees, removed)
        Copies with ``manager_id`` cleared where it names an absent person and absent ids taken
        out of ``preferences`` (mentors' name mentees, mentees' name mentors) and
        ``manager_suggestions``; ``removed`` lists each dropped reference: ``table``, ``id``,
        ``column``, ``value``.
    """
    mentors, mentees = mentors.copy(), mentees.copy()
    ids = {"mentors": set(mentors["id"].astype(str)), "mentees": set(mentees["id"].astype(str))}
    everyone = ids["mentors"] | ids["mentees"]
    removed = []
    for table, frame, other in (("mentors", mentors, "mentees"), ("mentees", mentees, "mentors")):
        if "manager_id" in frame.columns:
            mgr = frame["manager_id"]
            text = mgr.where(mgr.notna(), "").astype(str).str.strip()
            gone = (text != "") & ~text.isin(everyone)
            removed += [(table, str(i), "manager_id", v) for i, v in zip(frame["id"][gone], text[gone])]
            frame.loc[gone, "manager_id"] = ""
        for col in ("preferences", "manager_suggestions"):
            if col not in frame.columns:
                continue
            kept_lists = []
            for pid, value in zip(frame["id"], frame[col]):
                if isinstance(value, str):
                    items = [x.strip() for x in value.split(";") if x.strip()]
                elif isinstance(value, (list, tuple)):
                    items = [str(x) for x in value]
                else:
                    kept_lists.append(value)
                    continue
                keep = [x for x in items if x in ids[other]]
                removed += [(table, str(pid), col, x) for x in items if x not in ids[other]]
                kept_lists.append(";".join(keep) if isinstance(value, str) else tuple(keep))
            frame[col] = kept_lists
    return mentors, mentees, pd.DataFrame(removed, columns=["table", "id", "column", "value"])
