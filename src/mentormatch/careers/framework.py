"""The career framework record: roles, their required competency mastery, the moves between
roles, and the queries the features and reports ask of it (next roles, paths, gaps).

Reading and validating live in :mod:`.read` and :mod:`.validate`, writing in :mod:`.write`;
the file shapes are described in :mod:`mentormatch.careers`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from .read import csv_fields, toml_fields, toml_file_fields
from .write import pathways_table, requirements_table, toml_text
from .shape import TABLE


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
        used by the development plans; empty when the framework has none (a framework read
        from CSV has none). Frameworks are equal when every field, this one included, is.

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
                    TABLE, ", ".join(unknown or missing), None, None, dict(source),
                    "a table with 'requirements' and 'pathways', the paths of the two CSV files"))
            return cls.from_csv(source["requirements"], source["pathways"])
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if path.lower().endswith(".csv"):
                raise ValidationError(Problem(
                    TABLE, "pathways", None, None, path,
                    "the pathways CSV beside the requirements CSV: {requirements = ..., pathways = "
                    "...} in a programme, or --pathways on the command line"))
            return cls.from_toml(path)
        raise ValidationError(Problem(TABLE, None, None, None, type(source).__name__,
                                      "a CareerFramework, 'sales', a TOML path or "
                                      "{'requirements': csv, 'pathways': csv}"))

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "CareerFramework":
        """Read a framework from a TOML file (shape in :mod:`mentormatch.careers`' docstring).

        Raises
        ------
        ValidationError
            Unreadable file or bad TOML; any finding listed under :meth:`from_csv`.
        """
        return cls(**toml_file_fields(path))

    @classmethod
    def _from_toml_text(cls, text: str, source: str) -> "CareerFramework":
        """A framework from TOML text; ``source`` names it in the errors."""
        return cls(**toml_fields(text, source))

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
            Columns ``from_role, to_role, kind``, and optionally ``primary`` and ``share``.

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
        return cls(**csv_fields(requirements_csv, pathways_csv))

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
        return requirements_table(self)

    def pathways_frame(self) -> pd.DataFrame:
        """The pathways, the shape :meth:`from_csv` reads: ``from_role, to_role, kind``.

        Rows in role order of the source, then as :meth:`next_roles` orders them.
        """
        return pathways_table(self)

    def to_csv(self, requirements_csv: str | os.PathLike, pathways_csv: str | os.PathLike) -> None:
        """Write the two CSV files :meth:`from_csv` reads. The CSV shape has no place for
        ``activities``: :meth:`to_toml` keeps them."""
        self.to_frame().to_csv(requirements_csv, index=False)
        self.pathways_frame().to_csv(pathways_csv, index=False)

    def to_toml(self) -> str:
        """The framework as TOML text, the shape :meth:`from_toml` reads, ``[activities]``
        included: reading it back gives an equal framework.

        Examples
        --------
        >>> fw = CareerFramework.sales()
        >>> CareerFramework._from_toml_text(fw.to_toml(), "copy") == fw
        True
        """
        return toml_text(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CareerFramework):
            return NotImplemented
        return (self.roles == other.roles and self.competencies == other.competencies
                and self.to_frame().equals(other.to_frame())
                and self.pathways_frame().equals(other.pathways_frame())
                and self.activities == other.activities)

    __hash__ = None  # mutable, compared by value

    def _check_role(self, role: str) -> None:
        if role not in self.level:
            raise ValidationError(Problem("arguments", "role", None, None, role,
                                          f"a role of the framework ({', '.join(self.roles)})"))

