"""Career framework: roles, competencies, mastery levels and the pathway graph.

A career framework says, for each role, which competencies it requires and at what mastery
(0..5; 0 = not required), how much each competency weighs for that role (importance >= 0),
the role's career level (0 = most junior) and which moves lead from one role to another.
The same competencies recur up the levels with higher mastery, and there are several ways to
reach a role: "a staircase, not a ladder".

The pathway graph (``CareerFramework.graph``, a ``networkx.DiGraph``) has an edge per move,
with the attribute ``kind``:

- ``"up"``: to a role of a strictly higher level;
- ``"lateral"``: to another role of the same level. A lateral move may be declared in both
  directions (``customer_success <-> ae``), so the graph may contain 2-cycles made of two
  lateral edges; it has no other cycle (levels never decrease along an edge, and the lateral
  edges of a level, reciprocal pairs aside, form no cycle).

TOML shape (``CareerFramework.from_toml``; the bundled ``data/sales_framework.toml`` follows
it)::

    competencies = ["prospecting", "negotiation", ...]   # optional: column order

    [roles.ae]
    title = "Account Executive"
    level = 1
    requires = { prospecting = 3, negotiation = 2, ... }  # mastery 0..5, at least one of them > 0
    importance = { negotiation = 1.5 }                    # optional; default 1.0 if required

    [[pathways]]
    from = "sdr"
    to = "ae"
    kind = "up"                                           # "up" or "lateral"
    primary = true                                        # optional: the role's main move
    share = 0.6                                           # optional: how common the move is

A mentee's default target is their role's first move in :meth:`CareerFramework.next_roles`:
up before lateral, then the ``primary`` move, then the most common (``share``), then by id.

CSV shape (``CareerFramework.from_csv``; ``to_frame`` writes the first one):

- requirements: columns ``role, title, level, competency, required, importance``, one row per
  role x competency (a missing pair means required 0, importance 0);
- pathways: columns ``from_role, to_role, kind``, and optionally ``primary`` (true/false) and
  ``share`` (a number >= 0).

Without a ``competencies`` list, competencies are ordered by first appearance; roles are
always in the order of the file.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Mapping
import networkx as nx
import numpy as np
import pandas as pd

from .errors import Problem, ValidationError

__all__ = ["CareerFramework", "MASTERY_RANGE", "COMPETENCIES_PER_ROLE", "KINDS"]

MASTERY_RANGE = (0, 5)
#: competencies a role requires (> 0): at least one; the bundled sales framework has 5 to 8,
#: as the pathway literature suggests, but an organisation's own framework may have any number
COMPETENCIES_PER_ROLE = (1, None)
KINDS = ("up", "lateral")
REQUIREMENT_COLUMNS = ["role", "title", "level", "competency", "required", "importance"]
PATHWAY_COLUMNS = ["from_role", "to_role", "kind"]
#: optional pathway columns: ``primary`` (true on a role's main move) and ``share`` (how common
#: the move is, e.g. the share of people who made it); they order :meth:`CareerFramework.next_roles`
PATHWAY_OPTIONAL = ["primary", "share"]
_TABLE = "framework"


@dataclass(eq=False)
class CareerFramework:
    """Roles, their required competency mastery, and the moves between roles.

    Build one with :meth:`sales`, :meth:`from_toml` or :meth:`from_csv` (these validate);
    the constructor only stores what it is given.

    Attributes
    ----------
    roles : list of str
        Role ids, in file order.
    competencies : list of str
        Competency ids, in the order of the columns of ``required`` and ``importance``.
    required : pandas.DataFrame
        Index ``roles``, columns ``competencies``; required mastery 0..5 (0 = not required).
    importance : pandas.DataFrame
        Same shape; weights >= 0.
    level : dict of str to int
        Career level of each role (0 = most junior).
    graph : networkx.DiGraph
        Role -> role edges with attribute ``kind`` (``"up"`` or ``"lateral"``).
    titles : dict of str to str
        Display title of each role.
    activities : dict of str to str
        Optional: a suggested development activity per competency (TOML ``[activities]``),
        used by the development plans; empty when the framework has none.

    Examples
    --------
    >>> fw = CareerFramework.sales()
    >>> fw.next_roles("ae")
    ['senior_ae', 'customer_success']
    >>> fw.titles["ae"]
    'Account Executive'
    """

    roles: list[str]
    competencies: list[str]
    required: pd.DataFrame
    importance: pd.DataFrame
    level: dict[str, int]
    graph: nx.DiGraph
    titles: dict[str, str]
    activities: dict[str, str] = field(default_factory=dict)

    # ---------------------------------------------------------------------------------------
    # queries

    @property
    def columns(self) -> list[str]:
        """The competency columns of the mentor and mentee tables: ``comp_<competency>``."""
        return ["comp_" + c for c in self.competencies]

    def next_roles(self, role: str) -> list[str]:
        """The roles one move away from ``role``: "up" moves first, then lateral; within each,
        the move the framework marks ``primary`` first, then by ``share`` (how common the move
        is), largest first, then by id. The first is the default target of a mentee in ``role``.

        Raises
        ------
        ValidationError
            When ``role`` is not a role of the framework.
        """
        self._check_role(role)
        succ = self.graph.succ[role]

        def order(kind: str) -> list[str]:  # primary first, then the most common, then by id
            moves = [(not a.get("primary", False), -a.get("share", 0.0), r)
                     for r, a in succ.items() if a["kind"] == kind]
            return [r for *_, r in sorted(moves)]

        return order("up") + order("lateral")

    def paths(self, source: str, target: str) -> list[list[str]]:
        """Every simple path from ``source`` to ``target`` on the pathway graph.

        Returns
        -------
        list of list of str
            Each path lists its roles from ``source`` to ``target``; shortest first, then by
            the ids along the path. Empty when ``target`` cannot be reached; ``[[source]]``
            when ``source == target``.
        """
        self._check_role(source)
        self._check_role(target)
        if source == target:
            return [[source]]
        found = [list(p) for p in nx.all_simple_paths(self.graph, source, target)]
        return sorted(found, key=lambda p: (len(p), p))

    def gap(self, current: np.ndarray, target_roles: list[str] | np.ndarray | str) -> np.ndarray:
        """Mastery each person still lacks for their target role.

        ``gap[i, c] = max(required[target_roles[i], c] - current[i, c], 0)``.

        Parameters
        ----------
        current : array_like, shape (n, n_competencies)
            Mastery levels, columns in the order of ``competencies``; NaN = unknown.
        target_roles : sequence of str, shape (n,), or str
            Target role of each row (one role id applies to every row). A missing target
            (None, NaN or "") gives a row of NaN.

        Returns
        -------
        numpy.ndarray, shape (n, n_competencies), float64
            The gap, >= 0; NaN where ``current`` is NaN or the row has no target.

        Raises
        ------
        ValidationError
            On a shape mismatch or a target that is not a role of the framework.

        Examples
        --------
        >>> fw = CareerFramework.sales()
        >>> now = fw.required.loc[["sdr"]].to_numpy(dtype=float)
        >>> g = fw.gap(now, ["ae"])
        >>> float(dict(zip(fw.competencies, g[0]))["negotiation"])
        2.0
        """
        cur = np.asarray(current, dtype=np.float64)
        k = len(self.competencies)
        if cur.ndim != 2 or cur.shape[1] != k:
            raise ValidationError(Problem("arguments", "current", None, None, cur.shape,
                                          f"an array of shape (n, {k}) (one column per competency)"))
        n = cur.shape[0]
        if isinstance(target_roles, str):
            target_roles = [target_roles] * n
        targets = pd.Series(np.asarray(target_roles, dtype=object).reshape(-1))
        if len(targets) != n:
            raise ValidationError(Problem("arguments", "target_roles", None, None, len(targets),
                                          f"{n} target roles, one per row of current"))
        missing = targets.isna().to_numpy() | (targets.astype(str) == "").to_numpy()
        idx = pd.Index(self.roles).get_indexer(targets.where(~missing, None))
        unknown = (idx < 0) & ~missing
        if unknown.any():
            bad = np.flatnonzero(unknown)
            raise ValidationError([Problem("arguments", "target_roles", None, None, targets[b],
                                           f"a role of the framework ({', '.join(self.roles)})")
                                   for b in bad[:10]])
        req = self.required.to_numpy(dtype=np.float64)[np.maximum(idx, 0)]
        req[missing] = np.nan
        return np.maximum(req - cur, 0.0)  # NaN propagates

    # ---------------------------------------------------------------------------------------
    # loading

    @classmethod
    def sales(cls) -> "CareerFramework":
        """The bundled sales framework (``mentormatch/data/sales_framework.toml``).

        SDR -> Account Executive -> Senior AE -> Sales Manager -> Director, with lateral
        moves through sales support, customer success and sales operations; 11 competencies.
        """
        text = resources.files("mentormatch").joinpath("data/sales_framework.toml").read_text("utf-8")
        return cls._from_toml_text(text, "sales_framework.toml")

    @classmethod
    def load(cls, source) -> "CareerFramework":
        """A framework from what a user names: a CareerFramework (as is), ``"sales"`` (the
        bundled one), a ``.toml`` path, or the two CSV files as a mapping
        ``{"requirements": path, "pathways": path}`` (a programme's ``[framework]`` table, the
        command line's ``--framework reqs.csv --pathways paths.csv``).

        Examples
        --------
        >>> CareerFramework.load("sales").level["senior_ae"]
        2
        """
        if isinstance(source, CareerFramework):
            return source
        if isinstance(source, str) and source == "sales":
            return cls.sales()
        if isinstance(source, Mapping):
            unknown = sorted(set(source) - {"requirements", "pathways"})
            missing = [k for k in ("requirements", "pathways") if not source.get(k)]
            if unknown or missing:
                raise ValidationError(Problem(
                    _TABLE, ", ".join(unknown or missing), None, None, dict(source),
                    "a table with 'requirements' and 'pathways', the paths of the two CSV files"))
            return cls.from_csv(source["requirements"], source["pathways"])
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if path.lower().endswith(".csv"):
                raise ValidationError(Problem(
                    _TABLE, "pathways", None, None, path,
                    "the pathways CSV beside the requirements CSV: {requirements = ..., pathways = "
                    "...} in a programme, or --pathways on the command line"))
            return cls.from_toml(path)
        raise ValidationError(Problem(_TABLE, None, None, None, type(source).__name__,
                                      "a CareerFramework, 'sales', a TOML path or "
                                      "{'requirements': csv, 'pathways': csv}"))

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "CareerFramework":
        """Read a framework from a TOML file (shape in the module docstring).

        Raises
        ------
        ValidationError
            Unreadable file or bad TOML; any finding listed under :meth:`from_csv`.
        """
        try:
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(Problem(_TABLE, None, None, None, str(path),
                                          f"a readable UTF-8 TOML file ({exc})")) from exc
        return cls._from_toml_text(text, str(path))

    @classmethod
    def _from_toml_text(cls, text: str, source: str) -> "CareerFramework":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(Problem(_TABLE, None, None, None, source,
                                          f"valid TOML ({exc})")) from exc
        problems: list[Problem] = []
        roles_t = data.get("roles")
        if not isinstance(roles_t, dict) or not roles_t:
            raise ValidationError(Problem(_TABLE, "roles", None, None, roles_t,
                                          "a [roles.<id>] table for each role"))
        roles, titles, levels, entries = [], {}, {}, []
        for role, spec in roles_t.items():
            if not isinstance(spec, dict):
                problems.append(Problem(_TABLE, None, role, None, spec, "a table [roles.<id>]"))
                continue
            roles.append(role)
            titles[role] = spec.get("title", role)
            levels[role] = spec.get("level")
            req = spec.get("requires", {})
            imp = spec.get("importance", {})
            for column, value, what in (("requires", req, "required"), ("importance", imp, "importance")):
                if not isinstance(value, dict):
                    problems.append(Problem(_TABLE, column, role, None, value,
                                            f"an inline table {{competency = {what}, ...}}"))
            if not isinstance(req, dict) or not isinstance(imp, dict):
                continue
            for comp in imp:
                if comp not in req:
                    req = {**req, comp: 0}
            for comp, value in req.items():
                entries.append((role, comp, value, imp.get(comp), None))
        pathways = []
        for k, p in enumerate(data.get("pathways", [])):
            if not isinstance(p, dict):
                problems.append(Problem(_TABLE, "pathways", None, None, p,
                                        "a [[pathways]] table with from, to and kind"))
                continue
            pathways.append((p.get("from"), p.get("to"), p.get("kind"), None,
                             p.get("primary", False), p.get("share", 0.0)))
        order = data.get("competencies")
        if order is not None and not (isinstance(order, list) and all(isinstance(c, str) for c in order)):
            problems.append(Problem(_TABLE, "competencies", None, None, order, "a list of competency ids"))
            order = None
        acts = data.get("activities", {})
        if not isinstance(acts, dict) or not all(isinstance(v, str) for v in acts.values()):
            problems.append(Problem(_TABLE, "activities", None, None, acts,
                                    "a table {competency = \"activity\", ...}"))
            acts = {}
        fw = cls._build(roles, titles, levels, entries, pathways, order, problems)
        unknown = sorted(set(acts) - set(fw.competencies))
        if unknown:
            raise ValidationError(Problem(_TABLE, "activities", unknown[0], None, unknown[0],
                                          f"one of the competencies {fw.competencies}"))
        return replace(fw, activities=dict(acts)) if acts else fw

    @classmethod
    def from_csv(cls, requirements_csv: str | os.PathLike | pd.DataFrame,
                 pathways_csv: str | os.PathLike | pd.DataFrame) -> "CareerFramework":
        """Read a framework from two CSV files (or DataFrames with the same columns).

        Parameters
        ----------
        requirements_csv : path or pandas.DataFrame
            Columns ``role, title, level, competency, required, importance``; one row per
            role x competency (empty cells allowed: a missing importance is 1 where the mastery is
            required, a missing title is the role id). A role's title and level are taken from
            its first row.
        pathways_csv : path or pandas.DataFrame
            Columns ``from_role, to_role, kind``.

        Raises
        ------
        ValidationError
            Every finding, each naming the role (``row_id``), column, file line (header =
            line 1), value and what was expected: a missing column; a level that is not a
            whole number >= 0; required mastery outside 0..5; a negative importance; a role
            with no required competency; a repeated role x
            competency; a pathway naming an unknown role or kind; an "up" move that does not
            climb a level; a lateral move between levels; a cycle other than a lateral 2-cycle.
        """
        req = _read(requirements_csv, REQUIREMENT_COLUMNS)
        paths = _read(pathways_csv, PATHWAY_COLUMNS)
        roles: list[str] = []
        titles: dict[str, str] = {}
        levels: dict[str, object] = {}
        entries = []
        for k, row in enumerate(req.itertuples(index=False)):
            line = k + 2
            role = row.role
            if role not in titles:
                roles.append(role)
                titles[role] = row.title if isinstance(row.title, str) and row.title else role
                levels[role] = _number(row.level)
            entries.append((role, row.competency, _number(row.required),
                            _number(row.importance), line))
        extra = _read(pathways_csv, [c for c in PATHWAY_OPTIONAL if c in _columns_of(pathways_csv)])
        primary = (extra["primary"].map(_flag) if "primary" in extra.columns
                   else pd.Series(False, index=paths.index))
        share = (extra["share"].map(lambda v: 0.0 if v is None or v != v else _number(v))
                 if "share" in extra.columns else pd.Series(0.0, index=paths.index))
        primary, share = primary.tolist(), share.tolist()  # plain Python values
        pathways = [(r.from_role, r.to_role, r.kind, k + 2, primary[k], share[k])
                    for k, r in enumerate(paths.itertuples(index=False))]
        return cls._build(roles, titles, levels, entries, pathways, None, [])

    @classmethod
    def _build(cls, roles: list[str], titles: dict, levels: dict, entries: list, pathways: list,
               order: list[str] | None, problems: list[Problem]) -> "CareerFramework":
        """Validate the parsed pieces; build the framework or raise with every problem."""
        for role in roles:
            lv = levels.get(role)
            if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not math.isfinite(lv) \
                    or lv < 0 or lv != int(lv):
                problems.append(Problem(_TABLE, "level", role, None, lv, "a whole number >= 0"))
                levels[role] = 0
            else:
                levels[role] = int(lv)
            if not isinstance(titles.get(role), str):
                problems.append(Problem(_TABLE, "title", role, None, titles.get(role), "text"))
                titles[role] = str(role)
        comps = list(order) if order is not None else []
        seen_c = set(comps)
        cells: dict[tuple[str, str], tuple[float, float]] = {}
        lo, hi = MASTERY_RANGE
        for role, comp, required, importance, line in entries:
            if not isinstance(comp, str) or not comp:
                problems.append(Problem(_TABLE, "competency", role, line, comp, "a competency id"))
                continue
            if comp not in seen_c:
                if order is not None:
                    problems.append(Problem(_TABLE, "competency", role, line, comp,
                                            f"a competency of the list ({', '.join(order)})"))
                    continue
                seen_c.add(comp)
                comps.append(comp)
            if (role, comp) in cells:
                problems.append(Problem(_TABLE, "competency", role, line, comp,
                                        "each competency once per role"))
                continue
            ok = True
            if not _is_number(required) or not lo <= required <= hi:
                problems.append(Problem(_TABLE, "required", role, line, required,
                                        f"a mastery level {lo}..{hi} for {comp!r}"))
                ok = False
            if importance is None or (isinstance(importance, float) and math.isnan(importance)):
                importance = 1.0 if ok and required > 0 else 0.0
            elif not _is_number(importance) or importance < 0:
                problems.append(Problem(_TABLE, "importance", role, line, importance,
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
                problems.append(Problem(_TABLE, "required", role, None, int(count),
                                        f"at least {a} competency required (> 0) per role"
                                        if b is None else f"{a} to {b} competencies required (> 0) per role"))
        graph = nx.DiGraph()
        graph.add_nodes_from(roles)
        known = set(roles)
        for src, dst, kind, line, primary, share in pathways:
            bad = False
            if not isinstance(primary, bool):
                problems.append(Problem(_TABLE, "primary", src if isinstance(src, str) else None, line,
                                        primary, "true or false (the role's main move)"))
                bad = True
            if not _is_number(share) or share < 0:
                problems.append(Problem(_TABLE, "share", src if isinstance(src, str) else None, line,
                                        share, "a number >= 0 (how common the move is)"))
                bad = True
            for column, value in (("from_role", src), ("to_role", dst)):
                if value not in known:
                    problems.append(Problem(_TABLE, column, src if isinstance(src, str) else None,
                                            line, value, f"a role of the framework ({', '.join(roles)})"))
                    bad = True
            if kind not in KINDS:
                problems.append(Problem(_TABLE, "kind", src if isinstance(src, str) else None, line,
                                        kind, "'up' or 'lateral'"))
                bad = True
            if bad:
                continue
            ls, ld = levels[src], levels[dst]
            if src == dst:
                problems.append(Problem(_TABLE, "to_role", src, line, dst, "a role other than the source"))
            elif kind == "up" and ld <= ls:
                problems.append(Problem(_TABLE, "kind", src, line, kind,
                                        f"'lateral' or a target above level {ls} ({dst!r} is at level {ld})"))
            elif kind == "lateral" and ld != ls:
                problems.append(Problem(_TABLE, "kind", src, line, kind,
                                        f"'up' or a target at level {ls} ({dst!r} is at level {ld})"))
            elif graph.has_edge(src, dst):
                problems.append(Problem(_TABLE, "to_role", src, line, dst, "each pathway once"))
            else:
                graph.add_edge(src, dst, kind=kind, primary=primary, share=float(share))
        one_way = nx.DiGraph((u, v) for u, v, kd in graph.edges(data="kind")
                             if kd == "lateral" and not (graph.has_edge(v, u) and u > v))
        if not problems and not nx.is_directed_acyclic_graph(one_way):
            cycle = [u for u, _ in nx.find_cycle(one_way)]
            problems.append(Problem(_TABLE, "to_role", cycle[0], None, " -> ".join(cycle + cycle[:1]),
                                    "lateral moves without a cycle (only a move declared both ways)"))
        if problems:
            raise ValidationError(problems)
        return cls(roles=list(roles), competencies=comps, required=req, importance=imp,
                   level={r: levels[r] for r in roles}, graph=graph,
                   titles={r: titles[r] for r in roles})

    # ---------------------------------------------------------------------------------------
    # writing

    def to_frame(self) -> pd.DataFrame:
        """The requirements in long form, the shape :meth:`from_csv` reads.

        Returns
        -------
        pandas.DataFrame
            Columns ``role, title, level, competency, required, importance``; one row per
            role x competency, roles then competencies in framework order.
        """
        n_r, n_c = len(self.roles), len(self.competencies)
        roles = np.repeat(np.asarray(self.roles, dtype=object), n_c)
        return pd.DataFrame({
            "role": roles,
            "title": [self.titles[r] for r in roles],
            "level": np.repeat([self.level[r] for r in self.roles], n_c).astype(np.int64),
            "competency": np.tile(np.asarray(self.competencies, dtype=object), n_r),
            "required": self.required.loc[self.roles, self.competencies].to_numpy(np.float64).reshape(-1),
            "importance": self.importance.loc[self.roles, self.competencies].to_numpy(np.float64).reshape(-1),
        }, columns=REQUIREMENT_COLUMNS)

    def pathways_frame(self) -> pd.DataFrame:
        """The pathways, the shape :meth:`from_csv` reads: ``from_role, to_role, kind``.

        Rows in role order of the source, then as :meth:`next_roles` orders them.
        """
        edges = self.graph.edges
        rows = [(r, s, edges[r, s]["kind"], edges[r, s].get("primary", False), edges[r, s].get("share", 0.0))
                for r in self.roles for s in self.next_roles(r)]
        frame = pd.DataFrame(rows, columns=PATHWAY_COLUMNS + PATHWAY_OPTIONAL)
        keep = [c for c in PATHWAY_OPTIONAL if frame[c].astype(bool).any()]  # only when used
        return frame[PATHWAY_COLUMNS + keep]

    def to_csv(self, requirements_csv: str | os.PathLike, pathways_csv: str | os.PathLike) -> None:
        """Write the two CSV files :meth:`from_csv` reads."""
        self.to_frame().to_csv(requirements_csv, index=False)
        self.pathways_frame().to_csv(pathways_csv, index=False)

    def to_toml(self) -> str:
        """The framework as TOML text, the shape :meth:`from_toml` reads."""
        q, key = _toml_str, _toml_key  # values are always quoted; keys only when needed
        lines = ["competencies = [" + ", ".join(q(c) for c in self.competencies) + "]", ""]
        for role in self.roles:
            req = self.required.loc[role]
            imp = self.importance.loc[role]
            listed = [c for c in self.competencies if req[c] > 0 or imp[c] > 0]
            lines += [f"[roles.{key(role)}]", f"title = {q(self.titles[role])}",
                      f"level = {self.level[role]}",
                      "requires = {" + ", ".join(f"{key(c)} = {_toml_num(req[c])}" for c in listed) + "}",
                      "importance = {" + ", ".join(f"{key(c)} = {_toml_num(imp[c])}" for c in listed) + "}",
                      ""]
        for r in self.pathways_frame().to_dict("records"):
            lines += ["[[pathways]]", f"from = {q(r['from_role'])}", f"to = {q(r['to_role'])}",
                      f"kind = {q(r['kind'])}"]
            lines += ["primary = true"] if r.get("primary") else []
            lines += [f"share = {_toml_num(r['share'])}"] if r.get("share") else []
            lines += [""]
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CareerFramework):
            return NotImplemented
        return (self.roles == other.roles and self.competencies == other.competencies
                and self.to_frame().equals(other.to_frame())
                and self.pathways_frame().equals(other.pathways_frame()))

    __hash__ = None  # mutable, compared by value

    def _check_role(self, role: str) -> None:
        if role not in self.level:
            raise ValidationError(Problem("arguments", "role", None, None, role,
                                          f"a role of the framework ({', '.join(self.roles)})"))


def _read(source, columns: list[str]) -> pd.DataFrame:
    """A CSV file or DataFrame with ``columns`` (extra columns ignored), cells as text."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        where = "<DataFrame>"
    else:
        where = str(source)
        try:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValidationError(Problem(_TABLE, None, None, None, where,
                                          f"a readable CSV file with columns {', '.join(columns)} ({exc})")) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError([Problem(_TABLE, c, None, 1, list(frame.columns), f"a {c!r} column in {where}")
                               for c in missing])
    frame = frame[columns].astype(object)
    # an empty cell (NaN, None or blank text) is None; text is stripped; numbers stay numbers
    return frame.map(lambda v: (v.strip() or None) if isinstance(v, str)
                     else None if v is None or (isinstance(v, float) and math.isnan(v)) else v)


def _columns_of(source) -> list[str]:
    """The header of a CSV file or the columns of a DataFrame (stripped)."""
    if isinstance(source, pd.DataFrame):
        return [str(c).strip() for c in source.columns]
    try:
        return [str(c).strip() for c in pd.read_csv(source, nrows=0).columns]
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return []


def _flag(value):
    """A CSV cell as a bool: empty -> False; true/false/yes/no/1/0; else unchanged (an error)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    return {"true": True, "yes": True, "1": True, "1.0": True, "false": False, "no": False,
            "0": False, "0.0": False, "": False}.get(text, value)


def _number(value):
    """A float from a cell, or the cell unchanged when it is not a number (for the message)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _is_number(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))


def _toml_key(text: str) -> str:
    """A bare TOML key when allowed, else a quoted one."""
    bare = text.replace("_", "").replace("-", "")
    return text if text and bare.isascii() and bare.isalnum() else _toml_str(text)


def _toml_str(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value == int(value) else repr(value)
