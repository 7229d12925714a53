"""The org chart: managers named by the tables, cycles in the management chain, the graph of
who manages whom, and pruning references to people who have left."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import ValidationError
from .cells import InputOptions, _as_text, _isin, _Report
from .columns import MAX_PROBLEMS


ORG_TABLE = "org"


def _managers(frame: pd.DataFrame, trim: bool = False, text: bool = False) -> pd.Series:
    """manager id by row (text, NaN where none); spaces around it stripped when ``trim``.
    ``text``: the column is a validated table's (text, blanks missing) and is taken as it is."""
    if "manager_id" not in frame.columns:
        return pd.Series(np.full(len(frame), np.nan, dtype=object), dtype="str")
    cells = frame["manager_id"] if text else _as_text(frame["manager_id"])
    return cells.str.strip() if trim else cells



def _row_of(ids: pd.Series, value: str) -> int:
    return int(np.flatnonzero((ids == value).to_numpy())[0])


def _chain_text(cycle: list[str]) -> list[str]:
    """['A', 'B'] (A's manager is B, B's is A) -> B manages A manages B, read top-down."""
    down = cycle[::-1]
    return [*down, down[0]]


def _manager_cycles(everyone: pd.Index, people) -> list[list[str]]:
    """Each cycle of the management chain as [person, their manager, ...], smallest id first.

    ``people``: (ids, manager ids) array pairs, together naming each person's manager once.
    Pointer doubling over the parent array finds, in log(depth) vectorised steps, the people
    whose chain never reaches a top; networkx then only sees those few.
    """
    return _cycles(everyone, _parents(everyone, people))


def _cycles(everyone, parent: np.ndarray) -> list[list[str]]:
    """:func:`_manager_cycles` of the parent array (position of each person's manager in
    ``everyone``, -1 for none)."""
    n = len(everyone)
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


def _parents(everyone: pd.Index, people) -> np.ndarray:
    """Position in ``everyone`` of each person's manager, -1 for none (or a manager not in it)."""
    parent = np.full(len(everyone), -1, dtype=np.int64)
    for ids, managers in people:
        who = everyone.get_indexer(np.asarray(ids, dtype=object))
        boss = everyone.get_indexer(pd.Series(managers, dtype=object).fillna("").to_numpy(dtype=object))
        keep = (who >= 0) & (boss >= 0)
        parent[who[keep]] = boss[keep]
    return parent


def _report_cycles(cycles, where) -> None:
    """One problem per cycle, on the row of its smallest id; ``where(id)`` -> (report, row)."""
    for cycle in cycles[:MAX_PROBLEMS]:
        rep, k = where(cycle[0])
        chain = " manages ".join(repr(i) for i in _chain_text(cycle))
        rep.add("manager_id", k, None if rep.managers is None else rep.managers[k],
                f"a management chain without a cycle; found {chain}")


# ---------------------------------------------------------------------------------------------
# the checks validate_tables runs


def check_managers(frames: dict[str, pd.DataFrame], reps: dict[str, _Report]) -> list[str]:
    """Without an org chart: each manager id names a person of either table, and the chain has
    no cycle. ``input.unknown_managers = "chain_end"`` takes an unknown manager as the top of
    that person's chain instead (cleared in the frame, listed in the returned notes).

    One factorisation of every id and manager id of both tables (mentees' ids first, then the
    mentors', then the managers) answers who is known and who manages whom: the people, an
    index of them, the unknown managers' lookups and the parents' four lookups were five
    hashes of the same text (0.09 s CPU at 100,000 x 20,000, 0.05 so)."""
    tables = ("mentors", "mentees")
    ids = {t: frames[t]["id"].to_numpy(dtype=object) for t in tables}
    # (the validated column is text already: no second pass over its cells)
    managers = {t: _managers(frames[t], reps[t].options.trim_ids, text=True) for t in tables}
    people = np.concatenate([ids["mentees"], ids["mentors"]])
    codes, uniques = pd.factorize(np.concatenate(
        [people, managers["mentors"].to_numpy(dtype=object), managers["mentees"].to_numpy(dtype=object)]))
    # the ids come first, so theirs are the codes 0..k-1 (-1 for a missing one); a manager id
    # that is nobody's is >= k, a missing one -1
    k = int(codes[:len(people)].max(initial=-1)) + 1
    everyone = np.asarray(uniques[:k], dtype=object)
    n_e, n_m = len(ids["mentees"]), len(ids["mentors"])
    node = {"mentees": codes[:n_e], "mentors": codes[n_e:n_e + n_m]}
    start = {"mentors": len(people), "mentees": len(people) + n_m}
    boss: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for t in tables:
        m = managers[t]
        b = codes[start[t]:start[t] + len(m)]
        unknown = b >= k
        if not unknown.any():
            pass
        elif reps[t].options.unknown_managers == "chain_end":
            named = [f"{v!r} ({reps[t].where(int(r))})" for r, v in
                     zip(np.flatnonzero(unknown)[:10], m.to_numpy(dtype=object)[unknown][:10])]
            notes.append(f"{t}: {int(unknown.sum())} manager id(s) in neither table taken as the top "
                         f"of their chain (input.unknown_managers = 'chain_end'): " + ", ".join(named)
                         + (", ..." if unknown.sum() > 10 else ""))
            m = m.mask(unknown)
            managers[t] = m
        else:
            reps[t].rows("manager_id", unknown, m,
                         "the id of a person in the mentors or mentees table, or empty; for a manager "
                         "in neither table give the org chart (org= with id and manager_id for "
                         "everyone; --org on the command line), or set input.unknown_managers = "
                         "'chain_end' to end the chain there")
        if "manager_id" in frames[t].columns:
            frames[t]["manager_id"] = m  # trimmed (input.trim_ids), unknown ones cleared
        reps[t].managers = m.to_numpy(dtype=object)
        boss[t] = np.where(unknown, -1, b)
    # a person in both tables takes the manager of their mentees row (the later assignment)
    parent = np.full(k, -1, dtype=np.int64)
    for t in tables:
        keep = (node[t] >= 0) & (boss[t] >= 0)
        parent[node[t][keep]] = boss[t][keep]
    cycles = _cycles(everyone, parent)
    if cycles:
        index = pd.Index(frames["mentees"]["id"])

        def where(person):
            t = "mentees" if person in index else "mentors"
            return reps[t], _row_of(frames[t]["id"], person)

        _report_cycles(cycles, where)
    return notes


def read_org(source, columns=None, options: InputOptions | None = None) -> tuple[pd.DataFrame, _Report]:
    """Read and check the org chart on its own: ``id`` (unique, non-empty) and ``manager_id``
    (empty at the top, else an id of the chart) for everyone; an optional ``team``."""
    from .read import read_table

    options = options or InputOptions()
    frame = read_table(source, ORG_TABLE, columns, encoding=options.encoding)
    rep = _Report(ORG_TABLE, frame, options)
    headers = [str(h) for h in frame.columns]
    for need in ("id", "manager_id"):
        if need not in headers:
            rep.add(need, None, headers, f"an {need!r} column in the org chart (one row per person: "
                                         "id, manager_id; empty manager_id at the top)",
                    line=rep.header_line)
    if rep.problems:
        raise ValidationError(rep.problems)
    from .table import _check_ids

    ids = _check_ids(rep, frame["id"])
    managers = _managers(frame, options.trim_ids)
    known = pd.Index(ids.dropna()).unique()
    unknown = managers.notna().to_numpy() & ~_isin(managers.to_numpy(dtype=object), known)
    rep.rows("manager_id", unknown, managers, "the id of a person in the org chart, or empty at the top")
    rep.managers = managers.to_numpy(dtype=object)
    if not rep.problems:
        cycles = _manager_cycles(known, [(ids.to_numpy(dtype=object), managers)])
        _report_cycles(cycles, lambda person: (rep, _row_of(ids, person)))
    out = pd.DataFrame({"id": ids, "manager_id": managers})
    if "team" in headers:
        out["team"] = _as_text(frame["team"])
    out.attrs = {"lines": rep.lines, "source": rep.source, "table": ORG_TABLE,
                 "sha256": frame.attrs.get("sha256")}
    return out, rep


def apply_org(frames: dict[str, pd.DataFrame], reps: dict[str, _Report], org: pd.DataFrame,
              org_rep: _Report) -> None:
    """Check the tables against a valid org chart, then give each person as ``manager_id`` their
    nearest manager who is in either table (so the management line between two people of the
    tables runs through people in neither, unchanged), and ``team`` from the chart where empty."""
    everyone = pd.Index(org["id"])
    parent = _parents(everyone, [(org["id"].to_numpy(dtype=object), org["manager_id"])])
    in_tables = np.zeros(len(everyone), dtype=bool)
    for t, frame in frames.items():
        rep = reps[t]
        node = everyone.get_indexer(frame["id"].to_numpy(dtype=object))
        absent = (node < 0) & frame["id"].notna().to_numpy()
        rep.rows("id", absent, frame["id"], f"a person of the org chart ({org_rep.source}): every "
                                            "mentor and mentee needs a row there")
        in_tables[node[node >= 0]] = True
        for column in ("manager_id", "team"):
            if column not in frame.columns or column not in org.columns:
                continue
            given = (_managers(frame, rep.options.trim_ids) if column == "manager_id"
                     else _as_text(frame[column])).to_numpy(dtype=object)
            chart = np.where(node >= 0, org[column].to_numpy(dtype=object)[np.maximum(node, 0)], None)
            both = (node >= 0) & ~pd.isna(given) & ~pd.isna(chart)
            differ = both & (given.astype(str) != chart.astype(str))
            rep.rows(column, differ, frame[column],
                     lambda k, c=column, ch=chart, nd=node: f"the {c} the org chart gives ({ch[k]!r} on "
                     f"{org_rep.where(int(nd[k]))}): one person, one {c}")
    if any(r.problems for r in reps.values()):
        return
    # nearest ancestor in the tables: climb while the ancestor is someone outside them
    near = parent.copy()
    for _ in range(len(everyone)):
        outside = (near >= 0) & ~in_tables[np.maximum(near, 0)]
        if not outside.any():
            break
        near = np.where(outside, parent[np.maximum(near, 0)], near)
    for t, frame in frames.items():
        node = everyone.get_indexer(frame["id"].to_numpy(dtype=object))
        boss = near[node]
        frame["manager_id"] = pd.Series(np.where(boss >= 0, everyone.to_numpy(dtype=object)[np.maximum(boss, 0)],
                                                 np.nan), dtype="str")
        if "team" in org.columns:
            team = pd.Series(org["team"].to_numpy(dtype=object)[node], dtype="str")
            frame["team"] = _as_text(frame["team"]).fillna(team) if "team" in frame.columns else team


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

    Clearing a manager who is in neither table breaks the chain at that person: a mentor two
    levels up becomes eligible for them. To keep the chain through people who are in neither
    table, give the org chart instead (``org=`` of :func:`mentormatch.pair`).

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
