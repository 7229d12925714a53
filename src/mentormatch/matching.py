"""The result of a pairing: pairs, unmatched mentees with reasons, the solver's status and
certificate, and the record the reports need (:class:`~mentormatch.record.SolveRecord`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .report.audit import audit as _audit
from .report.explain import explain as _explain
from .report.explain import explain_all as _explain_all
from .report.export import write_csv
from .report.html import repr_html as _repr_html
from .report.html import to_html as _to_html
from .report.plans import plans as _plans
from .record import SolveRecord


def _with_names(frame: pd.DataFrame, data: Mapping) -> pd.DataFrame:
    """``frame`` with mentee_name / mentor_name after the id columns, where the tables have names."""
    out = frame
    for side, table in (("mentee", "mentees"), ("mentor", "mentors")):
        people = data.get(table)
        col = f"{side}_id"
        if people is None or "name" not in people.columns or col not in out.columns:
            continue
        names = pd.Series(people["name"].to_numpy(), index=people["id"].astype(str).to_numpy())
        names = names[~names.index.duplicated()]
        if f"{side}_name" not in out.columns:
            out = out.copy() if out is frame else out
            out.insert(out.columns.get_loc(col) + 1, f"{side}_name",
                       names.reindex(out[col].astype(str).to_numpy()).to_numpy())
    return out


class Deferred:
    """Some of a result's tables until first read: ``build()`` returns them by name (``"pairs"``,
    ``"unmatched"``, ``"contributions"``), the same DataFrames a path would otherwise build at
    once. The fields of a :class:`Matching` that one ``Deferred`` builds hold it; the first read
    of any of them builds them all, once, and stores them in its place (``assign()`` on 200 x
    50: the tables are about an eighth of the call, and a caller who reads only ``status`` or
    ``objective`` never pays for them). :func:`mentormatch.pipeline.wrap._wrap` builds the
    unmatched with their reasons (which may re-solve) apart from the pairs. Whatever ``build``
    reads must not change after the result is returned (the solver's arrays, settings read at
    call time)."""

    __slots__ = ("_build", "_tables")

    def __init__(self, build):
        self._build, self._tables = build, None

    def table(self, name: str) -> pd.DataFrame:
        if self._tables is None:
            self._tables, self._build = self._build(), None
        return self._tables[name]


class _Table:
    """A :class:`Matching` table field that may hold a :class:`Deferred` until it is read."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name]
        if isinstance(value, Deferred):
            for name in _TABLES:  # every field that waits on it, so that it can be dropped
                if obj.__dict__.get(name) is value:
                    obj.__dict__[name] = value.table(name)
            value = obj.__dict__[self.name]
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


@dataclass
class Matching:
    """What :func:`mentormatch.pair` and :func:`mentormatch.assign` return.

    Attributes
    ----------
    pairs : DataFrame
        One row per pair: ``mentee_id``, ``mentor_id``, ``score`` (and, from ``pair``,
        ``rank`` = the mentor's rank among the mentee's eligible mentors by score, 1 = best).
    unmatched : DataFrame
        ``mentee_id``, ``reason_code``, ``reason`` (plain words with numbers): every mentee
        not in ``pairs`` is here, so the two together account for every input mentee.
    status : {'optimal', 'feasible', 'infeasible'}
        'optimal' only when proven (see ``certificate``).
    objective : float
        Total score of the pairs, recomputed from them.
    bound, gap : float or None
        An upper bound on the optimum where the solver has one, and the relative gap.
    contributions : DataFrame
        Aligned with ``pairs``: one column per feature (weight x value); rows sum to ``score``.
        Empty (no columns) when scores were supplied by the caller (``assign``).
    record : SolveRecord
        What the reports, explanations, baselines and re-solves need (the problem solved, the
        solver's answer, the ids, the validated tables and rules, the scores): one typed,
        documented field each, the same fields on every path, None where a path has nothing
        (see :class:`~mentormatch.record.SolveRecord`).
    data : SolveRecord
        The same record, read as a mapping of its set fields (``data["problem"]``,
        ``data.get("scores")``), as the code written when it was a dictionary reads it.
    """

    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    status: str
    objective: float
    bound: float | None
    gap: float | None
    solver: str
    wall_time: float
    certificate: dict | None
    contributions: pd.DataFrame
    record: SolveRecord = field(default_factory=SolveRecord, repr=False)

    def __post_init__(self):
        if not isinstance(self.record, SolveRecord):  # a mapping of field names, as ``data`` was
            if not isinstance(self.record, Mapping):
                raise TypeError(f"record must be a SolveRecord or a mapping of its field names, "
                                f"not {type(self.record).__name__}")
            self.record = SolveRecord.from_mapping(self.record)

    @property
    def data(self) -> SolveRecord:
        """:attr:`record` read as a mapping: its keys are the fields this path set (not None)."""
        return self.record

    @property
    def notes(self) -> list[str]:
        """What reading the inputs decided that the user should know: the encoding a file was
        read in, managers taken as the top of their chain, the org chart used."""
        mentees = self.record.mentees
        return list(getattr(mentees, "attrs", {}).get("notes", []) or [])

    @property
    def n_mentees(self) -> int:
        n = self.record.n_mentees
        return int(n if n is not None else len(set(self.pairs["mentee_id"])) + len(self.unmatched))

    @property
    def partial(self) -> pd.DataFrame:
        """Mentees who need several mentors (``mentors_needed``) and got some, but fewer:
        mentee_id, mentors_needed, mentors_got, reason_code, reason. Those with none are in
        ``unmatched``."""
        from .report.partial import PARTIAL_COLUMNS, partial_reasons

        rec = self.record
        if rec.problem is None or rec.solution is None:
            return pd.DataFrame(columns=PARTIAL_COLUMNS)
        return partial_reasons(rec.problem, rec.solution.chosen, rec.mentee_ids.ids,
                               rec.mentor_ids.ids)

    def summary(self) -> dict[str, Any]:
        """The headline figures as a dict (what ``mentormatch demo`` prints)."""
        out = {
            "mentees": self.n_mentees,
            "mentors": int(self.record.n_mentors if self.record.n_mentors is not None
                           else self.pairs["mentor_id"].nunique()),
            "pairs": len(self.pairs),
            "matched_mentees": int(self.pairs["mentee_id"].nunique()),
            "unmatched": len(self.unmatched),
            "unmatched_by_reason": self.unmatched["reason_code"].value_counts().sort_index().to_dict()
            if len(self.unmatched) else {},
            "mean_score": float(self.pairs["score"].mean()) if len(self.pairs) else 0.0,
            "objective": self.objective,
            "status": self.status,
            "solver": self.solver,
            "wall_time_s": self.wall_time,
        }
        return out

    def provenance(self):
        """The provenance record: programme, inputs (name, SHA-256, rows), notes, versions, date
        (see :mod:`mentormatch.provenance`)."""
        from .provenance import record

        return record(self.record, self.notes)

    def to_csv(self, directory: str | Path) -> dict[str, Path]:
        """Write ``pairs.csv`` (with mentee_name, mentor_name and the explanation in the
        report's words when the tables have names and features), ``unmatched.csv``, when there
        is a career framework ``plans.csv`` (cells escaped against spreadsheet formulas), and
        ``provenance.json`` beside them."""
        directory = Path(directory)
        pairs = self.pairs
        if len(self.contributions.columns):
            pairs = pd.concat([pairs, self.contributions.add_prefix("contrib_")], axis=1)
        pairs = _with_names(pairs, self.record)
        if len(self.contributions.columns) and len(pairs) and self.record.scores is not None:
            pairs = pairs.assign(explanation=_explain_all(self.record, self.pairs, known_only=True).to_numpy())
        out = {
            "pairs": write_csv(pairs, directory / "pairs.csv"),
            "unmatched": write_csv(_with_names(self.unmatched, self.record), directory / "unmatched.csv"),
            "provenance": self.provenance().write(directory),
        }
        partial = self.partial
        if len(partial):
            out["partial"] = write_csv(_with_names(partial, self.record), directory / "partial.csv")
        plans = self.plans
        if len(plans):
            out["plans"] = write_csv(plans, directory / "plans.csv")
        return out

    def explain(self, mentee_id: str, mentor: str | None = None, alternatives: int = 3):
        """Why this mentee got this mentor (or none): contributions in words, rank, the next-best
        alternatives with the exact cost of forcing each, and the constraints that bind; a
        mentee with several mentors gets each explained. ``mentor``: one of the mentee's
        mentors, or any other to ask "why not this mentor"."""
        return _explain(self.record, self.pairs, self.unmatched, self.objective, self.status,
                        self.solver, mentee_id, alternatives, mentor_id=mentor)

    def plan(self, mentee_id: str, start=None, cadence_weeks: int | None = None,
             horizon_weeks: int | None = None) -> pd.DataFrame:
        """The mentee's starter development plan, one row per competency of the target role
        where the mentee is below the required mastery (one block per mentor when it has
        several); see :func:`mentormatch.report.plans.plans` for the columns. Empty when the
        mentee is unmatched or already meets the target role. ``start`` (a date; default the
        programme's ``plans.start_date``, else today), ``cadence_weeks`` and ``horizon_weeks``
        (default the programme's ``plans`` settings, 6 and 24) place the dated milestones."""
        mine = self.pairs[self.pairs["mentee_id"].astype(str) == str(mentee_id)]
        if not len(mine) and not (self.unmatched["mentee_id"].astype(str) == str(mentee_id)).any():
            from .errors import UnknownNameError

            raise UnknownNameError("mentee id", str(mentee_id),
                                   [str(x) for x in self.pairs["mentee_id"].head(20)])
        return _plans(self.record, mine, start, cadence_weeks, horizon_weeks)

    @property
    def plans(self) -> pd.DataFrame:
        """Every matched mentee's starter development plan (see :meth:`plan`), in the order
        of ``pairs``."""
        return _plans(self.record, self.pairs)

    def revise(self, decisions) -> "Matching":
        """Re-pair after decisions on these pairs: ``decisions`` (a DataFrame or CSV path) has
        ``mentee_id, mentor_id, decision`` in {accept, decline}; every other pair is pending.
        Accepted pairs are locked, declined ones forbidden, and the rest re-paired with first
        the fewest changed pending pairs, then the best total score (see
        :func:`mentormatch.decisions.revise`; the counts are in ``record.revision``)."""
        from .decisions import revise

        if self.record.rules is None or self.record.mentees is None:
            raise ValueError("revise needs a result of mentormatch.pair (this one has no input "
                             "tables: scores supplied to assign?)")
        return revise(self.record, self.pairs, decisions)

    def audit(self, seeds: int = 20):
        """Programme audit: score distribution, lift over random/greedy/stable, fairness by group,
        mentor load, budget, blocking pairs (DataFrames; see ``mentormatch.report.audit``)."""
        return _audit(self.record, self.pairs, self.unmatched, self.objective, seeds=seeds)

    def to_html(self, path: str | Path | None = None, seeds: int = 3,
                outcomes: pd.DataFrame | None = None,
                sensitivity: "bool | pd.DataFrame" = False) -> str:
        """A standalone HTML report for the programme lead (plots inline, nothing loaded from
        the network; see :func:`mentormatch.report.html.to_html`); written to ``path`` when
        given. Returns the HTML text. ``seeds``: random pairings compared with; ``outcomes``:
        a programme's ``metrics()`` to show (promotion, time to promotion, retention).
        ``sensitivity``: True runs :meth:`sensitivity` (two re-solves per weighted feature,
        so off by default) and shows its table and chart; a table it returned (for example
        with another step, or run on an executor) is shown as given. The report ends with
        "About this run": the inputs with their SHA-256, row counts, versions, date and the
        programme's settings (:meth:`provenance`)."""
        import json

        from .errors import Problem, ValidationError

        need = ["weight", "weight_down", "weight_up", "changed_down", "changed_up"]
        if isinstance(sensitivity, pd.DataFrame):
            missing = [c for c in need if c not in sensitivity.columns]
            if missing:
                raise ValidationError(Problem("sensitivity", missing[0], None, None,
                                              list(sensitivity.columns),
                                              f"a table from result.sensitivity() with {need}"))
            sens = sensitivity
        elif sensitivity is True:
            sens = self.sensitivity()
        elif sensitivity is False:
            sens = None
        else:
            raise ValidationError(Problem("to_html", "sensitivity", None, None, sensitivity,
                                          "True, False or a table from result.sensitivity()"))
        if outcomes is not None and not isinstance(outcomes, pd.DataFrame):
            raise ValidationError(Problem("to_html", "outcomes", None, None, type(outcomes).__name__,
                                          "None or a table from Programme.metrics()"))
        return _to_html(self.record, self.pairs, self.unmatched, self.contributions, self.summary(),
                        self.objective, path, seeds=seeds, outcomes=outcomes, sensitivity=sens,
                        provenance=json.loads(self.provenance().to_json()))

    def _repr_html_(self) -> str:
        return _repr_html(self.summary(), self.pairs, self.unmatched)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Matching(status={s['status']!r}, pairs={s['pairs']}, unmatched={s['unmatched']}, "
                f"objective={s['objective']:.4f}, solver={s['solver']!r})")

    # -- what-if and sensitivity (mentormatch.whatif) --------------------------------------
    def what_if(self, weights=None, remove_mentors=(), add_mentors=None, capacity=None, *,
                executor=None, warm_start: bool = True):
        """Re-solve with changed weights, mentors or capacities: the changed pairs and score
        deltas (a :class:`mentormatch.whatif.WhatIf`). See :func:`mentormatch.whatif.what_if`."""
        from .whatif import what_if

        return what_if(self, weights, remove_mentors, add_mentors, capacity, executor=executor,
                       warm_start=warm_start)

    def sensitivity(self, step: float = 0.25, executor=None, *, relative: bool = True,
                    progress: bool = False) -> pd.DataFrame:
        """Mentees whose mentor changes when each weight moves by +/- ``step``, one row per
        feature. See :func:`mentormatch.whatif.sensitivity`."""
        from .whatif import sensitivity

        return sensitivity(self, step, executor=executor, relative=relative, progress=progress)

    def __getstate__(self):
        # pickled (e.g. sent back from a worker process by pair_many): the tables built, and
        # without the fields of ``record`` that cannot be pickled, named in record.not_transferred
        from .portable import portable_data

        tables = {name: getattr(self, name) for name in _TABLES}
        return {**self.__dict__, **tables, "record": portable_data(self.record)}


#: The table fields that may be built on first read (:class:`Deferred`); a data descriptor each,
#: set after the dataclass is made, so that its ``__init__`` stores through it.
_TABLES = ("pairs", "unmatched", "contributions")
for _name in _TABLES:
    _field_table = _Table()
    _field_table.__set_name__(Matching, _name)
    setattr(Matching, _name, _field_table)
del _name, _field_table
