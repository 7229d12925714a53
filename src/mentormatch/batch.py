"""Many pairings at once: ``pair_many`` runs :func:`mentormatch.pair` on any executor.

A multi-tenant platform pairs many programmes a night; a company pairs each region or business
unit separately. Each job is one call of :func:`mentormatch.pair` on its own tables and
programme; the jobs are independent, so any :class:`concurrent.futures.Executor` can run them (a
process pool, or a Dask cluster through ``distributed.Client(...).get_executor()``). What is
shipped to a worker is the job's inputs (two DataFrames and a programme) and a module-level
function, never a closure, so every executor that pickles its tasks can run them.

Every job gets one :class:`JobResult` in its slot, in the order of the jobs: the
:class:`~mentormatch.Matching`, or the error that stopped that job (the other jobs still run).
"""
from __future__ import annotations

import concurrent.futures as cf
import traceback as _traceback
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .matching import Matching
# below this module and the result object, so that neither imports the other for them; still
# importable from here
from .portable import JobError, _picklable, portable_data

__all__ = ["JobResult", "JobError", "pair_many", "split_by_group", "portable_data"]


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job of :func:`pair_many`.

    Attributes
    ----------
    key : hashable
        The job's label: its position in a list of jobs, its key in a dict of jobs, or its group
        value when the tables were split by a group column.
    matching : Matching or None
        The result of :func:`mentormatch.pair` when the job succeeded.
    error : Exception or None
        What stopped the job: the library's own error (:class:`~mentormatch.ValidationError`,
        :class:`~mentormatch.InfeasibleError`, ...) with its findings as attributes, or the
        executor's error when the worker itself failed, or a :class:`JobError` standing in for
        an exception that cannot be pickled.
    traceback : str
        Where the error was raised (text; empty when the job succeeded).
    n_mentees : int or None
        Mentee rows the job was given (None when given as a file path, which the job reads):
        with ``ok`` False these are the mentees left unpaired because of ``error``.
    """

    key: Hashable
    matching: Matching | None
    error: BaseException | None
    traceback: str
    n_mentees: int | None

    @property
    def ok(self) -> bool:
        """True when the job produced a Matching."""
        return self.error is None

    def unwrap(self) -> Matching:
        """The Matching, or raise the job's error."""
        if self.error is not None:
            raise self.error
        return self.matching

    def __repr__(self) -> str:
        what = repr(self.matching) if self.ok else f"error={type(self.error).__name__}: {self.error}"
        return f"JobResult(key={self.key!r}, {what})"


# --------------------------------------------------------------------------------------------
# what runs on a worker: module-level, inputs in, a picklable outcome out
# --------------------------------------------------------------------------------------------
def _run_job(mentors, mentees, programme, framework) -> tuple:
    """One job: ``("ok", Matching)`` or ``("error", exception, traceback text)``; never raises,
    so that one bad job cannot take the batch (or a worker) down."""
    from .pipeline import pair

    try:
        return ("ok", pair(mentors, mentees, programme, framework=framework))
    except Exception as exc:  # noqa: BLE001 - reported in the job's slot
        text = _traceback.format_exc()
        if not _picklable(exc):
            exc = JobError(type(exc).__name__, str(exc), text)
        return ("error", exc, text)


def _outcome(key, n_mentees: int | None, out: tuple) -> JobResult:
    if out[0] == "ok":
        return JobResult(key, out[1], None, "", n_mentees)
    return JobResult(key, None, out[1], out[2], n_mentees)


# --------------------------------------------------------------------------------------------
# jobs in: triples, a dict of triples, or two tables split by a group column
# --------------------------------------------------------------------------------------------
def _check_group(table: pd.DataFrame, column: str, name: str) -> None:
    if column not in table.columns:
        raise ValidationError(Problem(name, column, None, 1, list(map(str, table.columns))[:12],
                                      f"a group column {column!r} in the {name} table"))
    missing = table[column].isna().to_numpy() | (table[column].astype(str).str.strip() == "").to_numpy()
    if missing.any():
        lines = table.attrs.get("lines")
        raise ValidationError([
            Problem(name, column, str(table["id"].iloc[k]),
                    int(lines[k]) if lines is not None and len(lines) > k else None, None,
                    "a group value (every row must belong to a group to be paired)")
            for k in missing.nonzero()[0]])


def _nearest_in_group_managers(mentors: pd.DataFrame, mentees: pd.DataFrame,
                               column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row of each table, its nearest manager up the whole organisation's chain who is in
    the row's own group ('' if none): a group's own chart, in which one person manages another
    exactly when they do in the whole chart. Whole-array steps, one per level of the chart."""
    def text(frame, col):
        if col not in frame.columns:
            return np.full(len(frame), "", dtype=object)
        v = frame[col]
        return v.where(v.notna(), "").astype(str).str.strip().to_numpy(dtype=object)

    e_ids, m_ids = text(mentees, "id"), text(mentors, "id")
    ids = pd.Index(pd.unique(np.concatenate([e_ids, m_ids])))
    managers = pd.concat([pd.Series(text(mentees, "manager_id"), index=e_ids),
                          pd.Series(text(mentors, "manager_id"), index=m_ids)])
    managers = managers[~managers.index.duplicated()]  # a person in both tables: one person
    parent = ids.get_indexer(managers.reindex(ids).fillna("").to_numpy())  # -1: no manager
    row_groups = np.concatenate([text(mentees, column), text(mentors, column)])
    groups = pd.Index(pd.unique(row_groups))
    n_groups = len(groups)
    node = np.concatenate([ids.get_indexer(e_ids), ids.get_indexer(m_ids)]).astype(np.int64)
    gidx = groups.get_indexer(row_groups).astype(np.int64)
    members = np.unique(node * n_groups + gidx)  # (person, group) memberships
    anc = parent[node].astype(np.int64)
    found = np.full(len(node), -1, dtype=np.int64)
    alive = anc >= 0
    for _ in range(len(ids) + 1):  # validated acyclic: at most one step per person
        if not alive.any():
            break
        hit = alive & np.isin(np.where(alive, anc, 0) * n_groups + gidx, members)
        found[hit] = anc[hit]
        alive &= ~hit
        anc = np.where(alive, parent[np.where(alive, anc, 0)], -1)
        alive &= anc >= 0
    out = np.where(found >= 0, np.asarray(ids, dtype=object)[np.maximum(found, 0)], "")
    return out[len(e_ids):], out[:len(e_ids)]


def _rows(table: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The rows of ``mask``, with the file lines of those rows (for error messages)."""
    out = table.loc[mask].reset_index(drop=True)
    lines = table.attrs.get("lines")
    out.attrs = dict(table.attrs)
    if lines is not None and len(lines) == len(table):
        out.attrs["lines"] = np.asarray(lines)[mask]
    return out


def split_by_group(mentors: pd.DataFrame, mentees: pd.DataFrame, group: str,
                   programme=None) -> dict[Any, tuple]:
    """Split two tables by a group column into one job per group (as :func:`pair_many` does).

    The tables are validated once, whole (so an unknown id is still caught), under the
    programme's column mapping. Each group then keeps:

    * its own rows; every mentee row lands in exactly one job. A group with mentees but no
      mentors still gets a job, with an empty mentors table (:func:`pair_many` answers it with
      the error naming the group).
      Mentors of a group without mentees take part in no job.
    * its management line: each person's ``manager_id`` becomes their nearest manager up the
      whole organisation's chain who is in the same group, so that the ``management_line`` rule
      forbids exactly the pairs it forbids on the whole tables;
    * the preferences and manager suggestions that name people of the same group (the others
      cannot be met inside it), as :func:`mentormatch.schema.prune_references` does.

    Groups are ordered by their value (as text).

    Parameters
    ----------
    mentors, mentees : DataFrame or path
        The whole tables; never modified.
    group : str
        The group column, present in both tables (its canonical name, after the programme's
        column mapping); every row needs a value.
    programme : optional
        As for :func:`mentormatch.pair`; its column mapping is applied here, once.

    Returns
    -------
    dict
        Group value -> ``(mentors, mentees, rules)``: canonical tables and the programme's
        :class:`~mentormatch.Rules` (column mapping already applied, so left empty).

    Examples
    --------
    >>> import mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=10, seed=1)
    >>> jobs = mm.batch.split_by_group(mentors, mentees, "region")
    >>> sum(len(e) for _, e, _ in jobs.values()) == len(mentees)
    True
    """
    from .rules import Rules
    from .schema import prune_references, validate_tables

    rules = Rules.coerce(programme)
    mentor_cols, mentee_cols = rules.column_maps()
    # the programme's reading settings ([input]: trim_ids, case_sensitive_ids, ...) hold at the
    # split as in each group's pair(); the org chart and group columns are each group's
    reading = {k: v for k, v in rules.input_options().items() if k not in ("org", "groups")}
    mentors, mentees = validate_tables(mentors, mentees, mentor_columns=mentor_cols or None,
                                       mentee_columns=mentee_cols or None, **reading)
    _check_group(mentors, group, "mentors")
    _check_group(mentees, group, "mentees")
    rules = rules.replace(columns={})
    m_manager, e_manager = _nearest_in_group_managers(mentors, mentees, group)
    if "manager_id" in mentors.columns or "manager_id" in mentees.columns:
        mentors, mentees = mentors.assign(manager_id=m_manager), mentees.assign(manager_id=e_manager)
    g_mentors = mentors[group].astype(str).str.strip()
    g_mentees = mentees[group].astype(str).str.strip()
    jobs: dict[Any, tuple] = {}
    for key in sorted(set(g_mentees.tolist())):
        sub_m = _rows(mentors, (g_mentors == key).to_numpy())
        sub_e = _rows(mentees, (g_mentees == key).to_numpy())
        if len(sub_m):
            sub_m, sub_e, _ = prune_references(sub_m, sub_e)
        jobs[key] = (sub_m, sub_e, rules)
    return jobs


def _as_jobs(jobs, group, programme) -> list[tuple[Hashable, tuple]]:
    if group is not None:
        if not (isinstance(jobs, (tuple, list)) and len(jobs) == 2):
            raise TypeError("with group=..., jobs must be one (mentors, mentees) pair of tables; "
                            f"got {type(jobs).__name__}")
        return list(split_by_group(jobs[0], jobs[1], group, programme).items())
    if programme is not None:
        raise TypeError("programme=... applies only with group=...; give each job its own "
                        "(mentors, mentees, programme) triple")
    items: Iterable = jobs.items() if isinstance(jobs, Mapping) else enumerate(jobs)
    out = []
    for key, job in items:
        if not (isinstance(job, (tuple, list)) and len(job) == 3):
            raise TypeError(f"job {key!r}: expected a (mentors, mentees, programme) triple "
                            f"(programme may be None); got {type(job).__name__}"
                            + (f" of length {len(job)}" if hasattr(job, "__len__") else ""))
        out.append((key, tuple(job)))
    return out


def _n_rows(table) -> int | None:
    return len(table) if isinstance(table, pd.DataFrame) else None  # a path: not read here


# --------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------
def pair_many(jobs: Sequence[tuple] | Mapping[Hashable, tuple] | tuple, executor=None, *,
              group: str | None = None, programme=None, framework=None,
              progress: bool = True) -> list[JobResult]:
    """Pair many programmes (or the groups of one pair of tables), on any executor.

    Each job is ``mentormatch.pair(mentors, mentees, programme)``; the jobs are independent and
    their results are the same whatever runs them, in whatever order.

    Parameters
    ----------
    jobs : list or dict of (mentors, mentees, programme) triples, or (mentors, mentees)
        A list of triples (keys 0, 1, ...), a dict of triples (its keys label the results), or,
        with ``group``, one pair of tables to split by the group column.
    executor : concurrent.futures.Executor, optional
        Runs the jobs: a ``ProcessPoolExecutor``, a ``ThreadPoolExecutor``, or a Dask cluster's
        ``distributed.Client(...).get_executor()`` (a ``distributed.Client`` itself is accepted
        and its ``get_executor()`` used). None runs them here, one after the other.
    group : str, optional
        A column of both tables: each group's mentees are paired with the same group's mentors
        (by region, business unit, ...). Every mentee row must have a group value (an empty one
        is a ValidationError naming the rows); see :func:`split_by_group`.
    programme : optional
        With ``group``: the programme every group is paired under (without ``group``, each
        triple carries its own; giving both is an error).
    framework : CareerFramework, optional
        Passed to every ``pair`` call.
    progress : bool
        Show a tqdm progress bar of finished jobs (on stderr).

    Returns
    -------
    list of JobResult
        One per job, in the order of the jobs. ``result.ok`` tells whether the job produced a
        Matching (``result.matching``) or failed (``result.error``, ``result.traceback``); a
        failing job does not stop the others. A result that crossed a process boundary lacks
        the entries of ``Matching.data`` that cannot be pickled (see :func:`portable_data`).

    Examples
    --------
    >>> import mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=3)
    >>> results = mm.pair_many((mentors, mentees), group="region", progress=False)
    >>> all(r.ok for r in results)
    True
    >>> sum(len(r.matching.pairs) + len(r.matching.unmatched) for r in results) == len(mentees)
    True
    """
    items = _as_jobs(jobs, group, programme)
    if executor is not None and not isinstance(executor, cf.Executor):
        if callable(getattr(executor, "get_executor", None)):  # a distributed.Client
            executor = executor.get_executor()
        else:
            raise TypeError("executor must be a concurrent.futures.Executor (e.g. "
                            "ProcessPoolExecutor, or distributed.Client(...).get_executor()); "
                            f"got {type(executor).__name__}")
    from tqdm import tqdm

    results: list[JobResult | None] = [None] * len(items)
    sizes = [_n_rows(job[1]) for _, job in items]
    todo = list(range(len(items)))
    if group is not None:  # a group without mentors: its error names it, no job to run
        for n, (key, (mentors, _, _)) in enumerate(items):
            if len(mentors) == 0:
                results[n] = JobResult(key, None, ValidationError(Problem(
                    "mentors", group, None, None, key,
                    f"at least one mentor in group {key!r} (its {sizes[n]} mentee(s) have none)")),
                    "", sizes[n])
        todo = [n for n in todo if results[n] is None]
    with tqdm(total=len(items), initial=len(items) - len(todo), desc="pair_many", unit="job",
              disable=not progress) as bar:
        if executor is None:
            for n in todo:
                key, job = items[n]
                results[n] = _outcome(key, sizes[n], _run_job(*job, framework))
                bar.update(1)
            return results
        futures = {executor.submit(_run_job, *items[n][1], framework): n for n in todo}
        for future in cf.as_completed(futures):
            n = futures[future]
            key = items[n][0]
            try:
                results[n] = _outcome(key, sizes[n], future.result())
            except Exception as exc:  # noqa: BLE001 - the worker or executor failed, not the job
                results[n] = JobResult(key, None, exc, "".join(_traceback.format_exception(exc)),
                                       sizes[n])
            bar.update(1)
    return results
