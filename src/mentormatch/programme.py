"""A mentor programme over time: its rules plus its pairing rounds, with history, locks,
joiners and leavers, priority for those left out, rematches, outcomes and metrics.

A *pair instance* is one (mentee, mentor) pair from the round (or rematch) that made it until it
ends. The programme keeps them in a ledger (:attr:`Programme.history`):

``instance``   1, 2, ... in order of creation
``mentee_id``, ``mentor_id``
``round``      the round that made it (a rematch belongs to the latest round)
``start``      ISO date it started (the round's or the rematch's date)
``score``      its score when it was made
``source``     ``"round"`` or ``"rematch"``
``last_round`` the latest round in which it was in force
``end``        ISO date it ended, or empty while it is in force
``end_reason`` ``ended`` (recorded outcome), ``mentee_left``, ``mentor_left``, ``capacity``
               (the mentor's capacity went down), ``ineligible`` (the rules now exclude it),
               ``rematch`` (ended by :meth:`Programme.rematch`) or ``displaced`` (moved by a rematch
               that could not avoid it)

Rules of a round (:meth:`Programme.run_round`)
----------------------------------------------
* A pair is *in force* on a date when it has no end or ends after that date. Pairs in force whose
  mentee and mentor both take part in the round are **locked**: the mentee keeps that mentor and the
  pair uses the mentor's capacity inside the solver. Only new or freed mentees get new mentors.
* Someone absent from the round's tables has left: their pairs end on the round's date and a
  departing mentor's mentees are free to be paired again.
* A mentor whose capacity went down keeps the mentees that still fit, **longest-standing first**
  (earliest start; ties: higher score, then mentee id), and the others are freed; nobody else is
  moved.
* History: with ``allow_repeats=False`` a (mentee, mentor) pair that existed before is forbidden.
  With ``allow_repeats=True`` it may be made again, but only once ``cooldown_rounds`` rounds have
  passed since the last round it was in force (``cooldown_rounds=None`` means 0: the next round).
* Priority: mentees who were left unmatched in the previous round and take part again come first.
  ``priority="weight"`` adds ``priority_weight`` to the score of each of their eligible pairs (in
  the objective only: reported scores stay the feature scores). ``priority="hard"`` adds an offset
  ``B = 1 + n_max * span`` (``n_max``: most pairs any solution can have; ``span``: the largest score
  minus ``min(0, smallest score)``) so that one more priority mentee matched is always worth more
  than any change in the other pairs' total: the solver maximises the number of priority mentees
  matched first, and the total score second (the lexicographic optimum).
* Continuity (``continuity=True``, needs ``allow_repeats=True``): a mentee whose pair ended and who
  is paired again gets ``continuity_weight`` added to the score of their most recent mentor.

Rematch (:meth:`Programme.rematch`)
-----------------------------------
When a pair ends early, ``rematch`` finds the mentee a new mentor with the fewest changes to the
pairs in force, solving lexicographically (with offsets, as for ``priority="hard"``): (1) match the
mentee if at all possible, (2) keep as many pairs in force as possible, (3) maximise the score.
Mentees who are not in a pair in force stay as they are. The number of other mentees whose pair
changed is returned; it is zero whenever an eligible mentor has free capacity.

Outcomes and metrics
--------------------
See :meth:`Programme.record_outcomes` and :meth:`Programme.metrics`.

Saving
------
:meth:`Programme.save` writes a directory of plain files: ``manifest.json`` (format and version,
parameters, the rules as a dict, the rounds), ``history.csv`` (the ledger), ``outcomes.csv`` and
per round ``rounds/round-NNN-pairs.csv`` and ``rounds/round-NNN-unmatched.csv``. It writes to a
temporary directory first and swaps it in, so an existing save survives a failure. Saving what was
loaded gives byte-identical files. The people tables are not saved (personal data): after
:meth:`Programme.load`, :meth:`Programme.rematch` needs them passed in.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import InfeasibleError, Problem, ValidationError
from .matching import Matching
from .rules import Rules

FORMAT = "mentormatch-programme"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

PRIORITIES = ("weight", "hard", None)

HISTORY_COLUMNS = ("instance", "mentee_id", "mentor_id", "round", "start", "score", "source",
                   "last_round", "end", "end_reason")
OUTCOME_COLUMNS = ("mentee_id", "mentor_id", "instance", "ended", "promoted", "satisfaction", "left")
ROUND_PAIR_COLUMNS = ("mentee_id", "mentor_id", "score", "rank", "carried", "priority")
ROUND_UNMATCHED_COLUMNS = ("mentee_id", "reason_code", "reason", "priority")
METRIC_COLUMNS = ("n", "n_reported", "promotion_rate", "median_days_to_promotion", "retention",
                  "mean_satisfaction")

# column kinds for the CSV files: how to write and read them back exactly
_KINDS: dict[str, str] = {
    "instance": "int", "round": "int", "last_round": "int", "rank": "int",
    "score": "float", "satisfaction": "float",
    "carried": "bool", "priority": "bool",
    "start": "date", "end": "date", "ended": "date", "promoted": "date", "left": "date",
}


# --------------------------------------------------------------------------------------------
# small helpers: dates, CSV files written and read back exactly
# --------------------------------------------------------------------------------------------
def _as_date(value, what: str, *, table: str = "arguments", row_id=None, line=None,
             optional: bool = False) -> str:
    """An ISO date string (``YYYY-MM-DD``) from a date, datetime, Timestamp or ISO text;
    ``""`` for an empty value when ``optional``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT \
            or (isinstance(value, str) and value.strip() == ""):
        if optional:
            return ""
        raise ValidationError(Problem(table, what, row_id, line, value, "a date such as '2026-01-15'"))
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise ValidationError(Problem(table, what, row_id, line, value, "a date such as '2026-01-15'"))
    return ts.date().isoformat()


def _days(a: str, b: str) -> int:
    return (_dt.date.fromisoformat(b) - _dt.date.fromisoformat(a)).days


def _cell(value, kind: str) -> str:
    if kind == "float":
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return "true" if bool(value) else "false"
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _write_csv(frame: pd.DataFrame, columns, path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    kinds = [_KINDS.get(c, "str") for c in columns]
    for row in zip(*(frame[c].tolist() for c in columns)) if len(frame) else ():
        w.writerow([_cell(v, k) for v, k in zip(row, kinds)])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _read_csv(path: Path, columns) -> pd.DataFrame:
    """Read one of our CSV files back, naming the file (and line, column) on any problem."""
    name = str(path)
    if not path.is_file():
        raise ValidationError(Problem(name, None, None, None, "missing",
                                      "this file, written by Programme.save (the save is incomplete)"))
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(Problem(name, None, None, None, str(exc), "a readable UTF-8 CSV file")) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != list(columns):
        raise ValidationError(Problem(name, None, None, 1, rows[0] if rows else "empty file",
                                      f"the header {','.join(columns)}"))
    problems: list[Problem] = []
    data: dict[str, list] = {c: [] for c in columns}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns):
            problems.append(Problem(name, None, None, n, row, f"{len(columns)} fields"))
            continue
        for c, v in zip(columns, row):
            kind = _KINDS.get(c, "str")
            try:
                if kind == "int":
                    out: Any = int(v)
                elif kind == "float":
                    out = float(v) if v != "" else math.nan
                elif kind == "bool":
                    if v not in ("true", "false"):
                        raise ValueError(v)
                    out = v == "true"
                elif kind == "date":
                    if v and _as_date(v, c) != v:
                        raise ValueError(v)
                    out = v
                else:
                    out = v
            except (ValueError, ValidationError):
                problems.append(Problem(name, c, row[0] if row else None, n, v,
                                        {"int": "a whole number", "float": "a number or empty",
                                         "bool": "true or false",
                                         "date": "an ISO date YYYY-MM-DD or empty"}[kind]))
                out = None
            data[c].append(out)
    if problems:
        raise ValidationError(problems)
    return _typed(pd.DataFrame(data, columns=list(columns)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Fixed dtypes per column kind, so that frames built in memory and read back compare equal."""
    out = frame.copy()
    for c in out.columns:
        kind = _KINDS.get(c, "str")
        if kind == "int":
            out[c] = out[c].astype(np.int64)
        elif kind == "float":
            out[c] = out[c].astype(np.float64)
        elif kind == "bool":
            out[c] = out[c].astype(bool)
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str).astype(object)
    return out.reset_index(drop=True)


def _empty(columns) -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in columns}, columns=list(columns)))


def _json_safe(obj):
    """Non-finite floats as tagged strings (JSON has no NaN); everything else as is."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"$float": repr(obj)}
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _json_restore(obj):
    if isinstance(obj, dict):
        if set(obj) == {"$float"}:
            return float(obj["$float"])
        return {k: _json_restore(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_restore(v) for v in obj]
    return obj


# --------------------------------------------------------------------------------------------
# the programme
# --------------------------------------------------------------------------------------------
@dataclass
class Round:
    """One pairing round as recorded by the programme.

    ``pairs``: mentee_id, mentor_id, score, rank, carried (a pair in force from an earlier round,
    locked), priority (the mentee had priority). ``unmatched``: mentee_id, reason_code, reason,
    priority. ``matching`` is the full result of the round (None after :meth:`Programme.load`).
    """

    number: int
    date: str
    pairs: pd.DataFrame
    unmatched: pd.DataFrame
    status: str
    objective: float
    solver: str
    matching: Matching | None = field(default=None, repr=False)


class Programme:
    """A mentor programme run round after round.

    Parameters
    ----------
    rules : None, dict, path to TOML or Rules
        The programme's rules for every round (see :class:`mentormatch.rules.Rules`).
        ``constraints.forbidden`` and ``constraints.locked`` given here apply in every round, on top
        of the history.
    framework : CareerFramework, path, "sales" or None
        As for :func:`mentormatch.pair`.
    allow_repeats : bool
        Whether a (mentee, mentor) pair that existed before may be made again.
    cooldown_rounds : int or None
        With ``allow_repeats``, the number of rounds a pair must skip after the last round it was
        in force before it may be made again (None = 0).
    priority : {"weight", "hard", None}
        How mentees left unmatched in the previous round come first (see the module docstring).
    priority_weight : float
        The score bonus for ``priority="weight"`` (scores are weighted sums of features in [0, 1]).
    continuity : bool
        Prefer a mentee's most recent mentor when they are paired again (needs ``allow_repeats``).
    continuity_weight : float
        The score bonus for the most recent mentor.

    Examples
    --------
    >>> import mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=10, seed=1)
    >>> prog = mm.Programme()
    >>> r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    >>> len(prog.rounds)
    1
    """

    def __init__(self, rules=None, framework=None, *, allow_repeats: bool = False,
                 cooldown_rounds: int | None = None,
                 priority: Literal["weight", "hard"] | None = "weight",
                 priority_weight: float = 1.0, continuity: bool = False,
                 continuity_weight: float = 0.5):
        self.rules: Rules = Rules.coerce(rules)
        self.framework = framework
        self.allow_repeats = allow_repeats
        self.cooldown_rounds = cooldown_rounds
        self.priority = priority
        self.priority_weight = priority_weight
        self.continuity = continuity
        self.continuity_weight = continuity_weight
        self._check_parameters()
        self._rounds: list[Round] = []
        self._history = _empty(HISTORY_COLUMNS)
        self._outcomes = _empty(OUTCOME_COLUMNS)
        self._tables: tuple[Any, Any] | None = None  # the latest round's inputs, for rematch

    # -- parameters ----------------------------------------------------------------------
    def parameters(self) -> dict[str, Any]:
        """The constructor's settings (other than rules), as saved in the manifest."""
        fw = self.framework
        return {"allow_repeats": self.allow_repeats, "cooldown_rounds": self.cooldown_rounds,
                "priority": self.priority, "priority_weight": self.priority_weight,
                "continuity": self.continuity, "continuity_weight": self.continuity_weight,
                "framework": str(fw) if isinstance(fw, (str, Path)) else None}

    def _check_parameters(self, source: str = "Programme") -> None:
        problems = []

        def bad(name, expected):
            problems.append(Problem(source, name, None, None, getattr(self, name), expected))

        if not isinstance(self.allow_repeats, bool):
            bad("allow_repeats", "True or False")
        if self.cooldown_rounds is not None:
            if not isinstance(self.cooldown_rounds, int) or isinstance(self.cooldown_rounds, bool) \
                    or self.cooldown_rounds < 0:
                bad("cooldown_rounds", "None or a whole number >= 0")
            elif self.allow_repeats is False:
                bad("cooldown_rounds", "None, because allow_repeats=False never repeats a pair "
                                       "(set allow_repeats=True to repeat after a cooldown)")
        if self.priority not in PRIORITIES:
            bad("priority", "one of 'weight', 'hard', None")
        for name in ("priority_weight", "continuity_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                bad(name, "a finite number >= 0")
        if not isinstance(self.continuity, bool):
            bad("continuity", "True or False")
        elif self.continuity and self.allow_repeats is False:
            bad("continuity", "False, or allow_repeats=True (continuity prefers the previous mentor, "
                              "a repeated pair)")
        if self.framework is not None and not isinstance(self.framework, (str, Path)) \
                and not hasattr(self.framework, "roles"):
            bad("framework", "None, 'sales', a path or a CareerFramework")
        if problems:
            raise ValidationError(problems)

    # -- state -----------------------------------------------------------------------------
    @property
    def rounds(self) -> list[Round]:
        """The rounds run so far, in order."""
        return list(self._rounds)

    @property
    def history(self) -> pd.DataFrame:
        """The ledger of pair instances (columns in the module docstring); a copy."""
        return self._history.copy()

    @property
    def outcomes(self) -> pd.DataFrame:
        """Recorded outcomes: mentee_id, mentor_id ('' for a mentee who was not paired),
        instance (0 for those), ended, promoted, satisfaction, left; a copy."""
        return self._outcomes.copy()

    def in_force(self, date=None) -> pd.DataFrame:
        """The pairs in force on ``date`` (default: the latest round's date), as ledger rows."""
        if date is None:
            if not self._rounds:
                return self._history.iloc[0:0].copy()
            date = self._rounds[-1].date
        return self._history[self._active_mask(_as_date(date, "date"))].copy()

    def _active_mask(self, date: str) -> np.ndarray:
        h = self._history
        end = h["end"].to_numpy(dtype=object)
        return ((end == "") | (end > date)) & (h["start"].to_numpy(dtype=object) <= date)

    def _close(self, mask: np.ndarray, date: str, reason: str) -> None:
        h = self._history
        if mask.any():
            h.loc[mask, "end"] = date
            h.loc[mask, "end_reason"] = reason

    def _add_instances(self, pairs: pd.DataFrame, number: int, date: str, source: str) -> None:
        if not len(pairs):
            return
        start = int(self._history["instance"].max()) + 1 if len(self._history) else 1
        new = pd.DataFrame({
            "instance": np.arange(start, start + len(pairs)),
            "mentee_id": pairs["mentee_id"].astype(str).to_numpy(),
            "mentor_id": pairs["mentor_id"].astype(str).to_numpy(),
            "round": number, "start": date, "score": pairs["score"].to_numpy(dtype=float),
            "source": source, "last_round": number, "end": "", "end_reason": ""})
        self._history = _typed(pd.concat([self._history, new], ignore_index=True)[list(HISTORY_COLUMNS)])

    # -- a round -----------------------------------------------------------------------------
    def run_round(self, mentors, mentees, date) -> Matching:
        """Pair the mentees of this round, given the history, and record the round.

        Parameters
        ----------
        mentors, mentees : DataFrame or path to CSV
            This round's tables (as for :func:`mentormatch.pair`). Someone absent has left.
        date : str, date or Timestamp
            The round's date; not before the previous round's.

        Returns
        -------
        Matching
            All pairs in force after the round: those carried from earlier rounds (locked,
            ``pairs["locked"]`` True) and the new ones; every mentee of the round appears once,
            in ``pairs`` or in ``unmatched``. When anything fails, the programme is left as it
            was before the call.
        """
        with self._transaction():
            return self._run_round(mentors, mentees, date)

    def _transaction(self):
        """Restore the history if the body raises (a failed round or rematch changes nothing)."""
        import contextlib

        @contextlib.contextmanager
        def guard():
            saved = (self._history.copy(), list(self._rounds), self._tables)
            try:
                yield
            except BaseException:
                self._history, self._rounds, self._tables = saved
                raise

        return guard()

    def _run_round(self, mentors, mentees, date) -> Matching:
        from .pipeline import prepare, solve
        from .schema import validate_tables

        date = _as_date(date, "date")
        latest = max([r.date for r in self._rounds[-1:]] + self._history["start"].tolist(), default="")
        if date < latest:
            raise ValidationError(Problem("arguments", "date", None, None, date,
                                          f"a date on or after the previous round or rematch "
                                          f"({latest})"))
        number = len(self._rounds) + 1
        mcols, ecols = self.rules.column_maps()
        v_mentors, v_mentees = validate_tables(mentors, mentees, mentor_columns=mcols or None,
                                               mentee_columns=ecols or None)
        mentee_set = set(v_mentees["id"].astype(str))
        mentor_set = set(v_mentors["id"].astype(str))

        # leavers and lowered capacities end pairs in force
        h = self._history
        active = self._active_mask(date)
        self._close(active & ~h["mentee_id"].isin(mentee_set).to_numpy(), date, "mentee_left")
        active = self._active_mask(date)
        self._close(active & ~h["mentor_id"].isin(mentor_set).to_numpy(), date, "mentor_left")
        self._trim_to_capacity(v_mentors, v_mentees, date)

        rules = self._round_rules(date, number, mentee_set, mentor_set)
        try:
            prepared = prepare(mentors, mentees, rules, framework=self.framework)
        except InfeasibleError as exc:  # a pair in force the rules now exclude: end it, retry
            if not any(c.constraint == "locked" for c in exc.conflicts):
                raise
            self._end_ineligible(mentors, mentees, date, number, mentee_set, mentor_set)
            rules = self._round_rules(date, number, mentee_set, mentor_set)
            prepared = prepare(mentors, mentees, rules, framework=self.framework)

        active_rows = self._history[self._active_mask(date)]
        carried = set(zip(active_rows["mentee_id"], active_rows["mentor_id"]))
        priority_ids = self._priority_mentees(mentee_set, set(active_rows["mentee_id"]))
        # one solve: the priority/continuity bonus enters the objective, the scores stay plain
        result = solve(prepared, self._bonus(prepared, priority_ids, carried, date, number))

        self._record_round(result, number, date, carried, priority_ids)
        self._tables = (_copy_table(mentors), _copy_table(mentees))
        return result

    def _trim_to_capacity(self, v_mentors: pd.DataFrame, v_mentees: pd.DataFrame, date: str) -> None:
        """Mentors keep the pairs in force that fit their (maybe lowered) capacity, longest-standing
        first (then higher score, then mentee id); mentees keep at most ``mentors_needed``."""
        h = self._history
        idx = np.flatnonzero(self._active_mask(date))
        if not len(idx):
            return
        cap = dict(zip(v_mentors["id"].astype(str), v_mentors["capacity"].to_numpy(dtype=float)))
        load = (dict(zip(v_mentees["id"].astype(str),
                         np.nan_to_num(v_mentees["load"].to_numpy(dtype=float), nan=1.0)))
                if "load" in v_mentees.columns else {})
        need = (dict(zip(v_mentees["id"].astype(str),
                         np.nan_to_num(v_mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0)))
                if "mentors_needed" in v_mentees.columns else {})
        rows = h.iloc[idx].assign(_pos=idx, _neg=-h["score"].iloc[idx])
        rows = rows.sort_values(["start", "_neg", "mentee_id", "mentor_id"], kind="mergesort")
        used_m: dict[str, float] = {}
        used_e: dict[str, int] = {}
        drop = np.zeros(len(h), dtype=bool)
        for pos, e, m in zip(rows["_pos"], rows["mentee_id"], rows["mentor_id"]):
            w = load.get(e, 1.0)
            if used_e.get(e, 0) + 1 > need.get(e, 1.0) or used_m.get(m, 0.0) + w > cap.get(m, 0.0) + 1e-9:
                drop[pos] = True
                continue
            used_e[e] = used_e.get(e, 0) + 1
            used_m[m] = used_m.get(m, 0.0) + w
        self._close(drop, date, "capacity")

    def _round_rules(self, date: str, number: int, mentee_set: set, mentor_set: set,
                     lock: bool = True) -> Rules:
        h = self._history
        present = (h["mentee_id"].isin(mentee_set) & h["mentor_id"].isin(mentor_set)).to_numpy()
        active = self._active_mask(date) & present
        active_pairs = set(zip(h["mentee_id"][active], h["mentor_id"][active]))
        past = h[present & ~active]
        if self.allow_repeats:
            wait = self.cooldown_rounds or 0
            past = past[number - past["last_round"] <= wait]
        forbidden = sorted(set(zip(past["mentee_id"], past["mentor_id"])) - active_pairs)
        cons = self.rules.constraints
        extra_forbidden = [list(p) for p in forbidden]
        locks = [list(p) for p in sorted(active_pairs)] if lock else []
        user_locks = [list(map(str, p)) for p in cons["locked"]]
        # a forbidden pair naming someone absent from this round is moot (pair() would reject it)
        user_forbidden = [[str(a), str(b)] for a, b in cons["forbidden"]
                          if str(a) in mentee_set and str(b) in mentor_set]
        return self.rules.replace(constraints={
            "forbidden": user_forbidden + extra_forbidden,
            "locked": user_locks + [p for p in locks if p not in user_locks]})

    def _end_ineligible(self, mentors, mentees, date, number, mentee_set, mentor_set) -> None:
        from .pipeline import prepare

        probe = prepare(mentors, mentees, self._round_rules(date, number, mentee_set, mentor_set, lock=False),
                     framework=self.framework)
        p = probe.data["problem"]
        e_index, m_index = probe.data["mentee_ids"].index, probe.data["mentor_ids"].index
        h = self._history
        active = np.flatnonzero(self._active_mask(date))
        drop = np.zeros(len(h), dtype=bool)
        for pos in active:
            e, m = h.at[pos, "mentee_id"], h.at[pos, "mentor_id"]
            if e in e_index and m in m_index and p.pairs.locate([e_index[e]], [m_index[m]])[0] < 0:
                drop[pos] = True
        self._close(drop, date, "ineligible")

    def _priority_mentees(self, mentee_set: set, in_pairs: set) -> set:
        if self.priority is None or not self._rounds:
            return set()
        last = set(self._rounds[-1].unmatched["mentee_id"])
        return (last & mentee_set) - in_pairs

    def _bonus(self, result, priority_ids: set, carried: set, date: str,
               number: int) -> np.ndarray | None:
        """Per eligible pair of the round's problem: the objective bonus (None when all zero)."""
        p = result.data["problem"]
        e_ids = result.data["mentee_ids"].ids
        bonus = np.zeros(len(p.pairs))
        if priority_ids:
            prio = np.isin(e_ids.astype(str), list(priority_ids))[p.pairs.mentee]
            if self.priority == "weight":
                bonus[prio] += float(self.priority_weight)
            else:
                bonus[prio] += _dominating_offset(p)
        if self.continuity:
            h = self._history
            ended = h[~self._active_mask(date)].sort_values(["start", "instance"], kind="mergesort")
            latest = ended.groupby("mentee_id", sort=False).tail(1)
            paired_now = {e for e, _ in carried}
            e_index, m_index = result.data["mentee_ids"].index, result.data["mentor_ids"].index
            a, b = [], []
            for e, m in zip(latest["mentee_id"], latest["mentor_id"]):
                if e in e_index and m in m_index and e not in paired_now:
                    a.append(e_index[e]); b.append(m_index[m])
            if a:
                pos = p.pairs.locate(a, b)
                bonus[pos[pos >= 0]] += float(self.continuity_weight)
        return bonus if bonus.any() else None

    def _record_round(self, result: Matching, number: int, date: str, carried: set,
                      priority_ids: set) -> None:
        pairs = result.pairs
        keys = list(zip(pairs["mentee_id"].astype(str), pairs["mentor_id"].astype(str)))
        is_carried = np.array([k in carried for k in keys], dtype=bool)
        h = self._history
        active = self._active_mask(date)
        still = active & pd.Series(list(zip(h["mentee_id"], h["mentor_id"]))).isin(set(keys)).to_numpy() \
            if len(h) else np.zeros(0, dtype=bool)
        if still.any():
            h.loc[still, "last_round"] = number
        self._add_instances(pairs[~is_carried], number, date, "round")
        round_pairs = _typed(pd.DataFrame({
            "mentee_id": pairs["mentee_id"].astype(str), "mentor_id": pairs["mentor_id"].astype(str),
            "score": pairs["score"].astype(float),
            "rank": pairs["rank"].astype(np.int64) if "rank" in pairs else 0,
            "carried": is_carried,
            "priority": pairs["mentee_id"].astype(str).isin(priority_ids).to_numpy()}))
        un = result.unmatched
        round_unmatched = _typed(pd.DataFrame({
            "mentee_id": un["mentee_id"].astype(str), "reason_code": un["reason_code"].astype(str),
            "reason": un["reason"].astype(str),
            "priority": un["mentee_id"].astype(str).isin(priority_ids).to_numpy()},
            columns=list(ROUND_UNMATCHED_COLUMNS)))
        self._rounds.append(Round(number, date, round_pairs, round_unmatched, result.status,
                                  float(result.objective), str(result.solver), result))

    # -- rematch -------------------------------------------------------------------------------
    def rematch(self, mentee_id, date, mentors=None, mentees=None, *,
                allow_changes: bool = True) -> tuple[Matching, int]:
        """Find a new mentor for ``mentee_id`` whose pair ended early, changing as few other
        pairs as possible.

        The mentee's pair in force (if any) ends on ``date`` (reason ``rematch``). Then, in this
        order: the mentee is matched if any eligible mentor can take them, as many pairs in force as
        possible are kept, the total score is maximised. Earlier pairs stay forbidden as in a round.

        Parameters
        ----------
        mentee_id : str
        date : str, date or Timestamp
            Not before the latest round's date.
        mentors, mentees : DataFrame or path, optional
            The tables to use; default: the latest round's (required after :meth:`load`).
        allow_changes : bool
            False: every other pair in force is locked, so nobody else changes (the mentee stays
            unmatched when no eligible mentor has a free place). True (default): another mentee may
            lose their mentor to this one when that is the only way to match them; the fewest such
            changes are made, and a displaced mentee gets another mentor if one is free.

        Returns
        -------
        (Matching, int)
            The pairs in force after the rematch (other mentees without a pair are listed in
            ``unmatched`` with reason_code ``not_considered``), and the number of other mentees
            whose pair changed (0 whenever an eligible mentor had free capacity). When anything
            fails, the programme is left as it was before the call.
        """
        with self._transaction():
            return self._rematch(mentee_id, date, mentors, mentees, allow_changes)

    def _rematch(self, mentee_id, date, mentors, mentees, allow_changes: bool) -> tuple[Matching, int]:
        from .pipeline import prepare

        if not self._rounds:
            raise ValidationError(Problem("arguments", "mentee_id", str(mentee_id), None, mentee_id,
                                          "a mentee of a round already run (no round has been run)"))
        date = _as_date(date, "date")
        if date < self._rounds[-1].date:
            raise ValidationError(Problem("arguments", "date", None, None, date,
                                          f"a date on or after the latest round's ({self._rounds[-1].date})"))
        if mentors is None or mentees is None:
            if self._tables is None:
                raise ValidationError(Problem("arguments", "mentors", None, None, None,
                                              "the mentors and mentees tables: a loaded programme "
                                              "does not keep people's data"))
            mentors, mentees = self._tables if mentors is None and mentees is None else (
                mentors if mentors is not None else self._tables[0],
                mentees if mentees is not None else self._tables[1])
        mentee_id = str(mentee_id)
        number = self._rounds[-1].number
        h = self._history
        mine = self._active_mask(date) & (h["mentee_id"] == mentee_id).to_numpy()
        self._close(mine, date, "rematch")

        # the eligible pairs and scores, with the history forbidden and nothing locked
        from .schema import validate_tables

        mcols, ecols = self.rules.column_maps()
        v_mentors, v_mentees = validate_tables(mentors, mentees, mentor_columns=mcols or None,
                                               mentee_columns=ecols or None)
        probe_rules = self._round_rules(date, number, set(v_mentees["id"].astype(str)),
                                        set(v_mentors["id"].astype(str)), lock=False)
        base = prepare(mentors, mentees, probe_rules, framework=self.framework)
        p = base.data["problem"]
        e_enc, m_enc = base.data["mentee_ids"], base.data["mentor_ids"]
        if mentee_id not in e_enc.index:
            raise ValidationError(Problem("mentees", "id", mentee_id, None, mentee_id,
                                          "a mentee in the mentees table"))
        target = e_enc.index[mentee_id]
        h = self._history
        act = np.flatnonzero(self._active_mask(date))
        in_force = [(h.at[k, "mentee_id"], h.at[k, "mentor_id"]) for k in act]
        known = [(e, m) for e, m in in_force if e in e_enc.index and m in m_enc.index]
        a = np.array([e_enc.index[e] for e, _ in known], dtype=np.int64)
        b = np.array([m_enc.index[m] for _, m in known], dtype=np.int64)
        keep_pos = p.pairs.locate(a, b) if len(a) else np.zeros(0, dtype=np.int64)
        keep_pos = keep_pos[keep_pos >= 0]
        in_play = np.zeros(p.n_mentees, dtype=bool)
        in_play[target] = True
        in_play[p.pairs.mentee[keep_pos]] = True
        in_play[p.pairs.mentee[p.locked]] = True
        sel = in_play[p.pairs.mentee]

        keep = np.zeros(len(p.pairs), dtype=bool)
        keep[keep_pos] = True
        if not allow_changes:
            p.locked = p.locked | keep
        score = p.score
        span = float(score.max() - min(0.0, score.min())) if len(score) else 1.0
        n_max = int(min(p.demand[in_play].sum(), max(p.capacity.sum(), 1)))
        k_off = 1.0 + n_max * max(span, 1e-9)
        t_off = (n_max + 1) * (k_off + span) + 1.0
        bonus = k_off * keep + t_off * (p.pairs.mentee == target)
        result = _resolve_with_bonus(base, bonus, subset=sel)

        # what changed, and the ledger
        chosen = set(zip(result.pairs["mentee_id"].astype(str), result.pairs["mentor_id"].astype(str)))
        others = {e for e, _ in in_force if e != mentee_id}
        changed = {e for e, m in in_force if e != mentee_id and (e, m) not in chosen}
        displaced = self._active_mask(date) & np.array(
            [(e, m) not in chosen for e, m in zip(h["mentee_id"], h["mentor_id"])], dtype=bool)
        self._close(displaced, date, "displaced")
        before = set(in_force)
        new_pairs = result.pairs[[(str(e), str(m)) not in before for e, m in
                                  zip(result.pairs["mentee_id"], result.pairs["mentor_id"])]]
        self._add_instances(new_pairs, number, date, "rematch")
        un = result.unmatched.copy()
        out_of_play = ~un["mentee_id"].astype(str).isin(others | {mentee_id})
        un.loc[out_of_play, "reason_code"] = "not_considered"
        un.loc[out_of_play, "reason"] = (f"not part of this rematch, which only finds a mentor for "
                                         f"{mentee_id!r} and keeps the pairs in force")
        result.unmatched = un.reset_index(drop=True)
        self._tables = (mentors, mentees)
        return result, len(changed)

    # -- outcomes and metrics ------------------------------------------------------------------
    def record_decisions(self, decisions, date=None) -> pd.DataFrame:
        """Record accept/decline decisions on the pairs: declined pairs end and are forbidden
        in later rounds; accepted ones stay in force (see
        :func:`mentormatch.decisions.record_decisions`)."""
        from .decisions import record_decisions

        return record_decisions(self, decisions, date)

    def record_outcomes(self, outcomes) -> None:
        """Record what happened to pairs (and to mentees who were not paired).

        Parameters
        ----------
        outcomes : DataFrame or path to CSV
            Columns ``mentee_id`` and ``mentor_id`` (required; an empty mentor_id = a mentee who
            was left unmatched, for the comparison group), and any of ``ended`` (the date the pair
            ended), ``promoted`` (date), ``satisfaction`` (1-5), ``left`` (date the mentee left
            the company). Empty cells mean "not (yet) known". A row refers to the most recent
            instance of that pair. Recording again updates: a non-empty value replaces the earlier
            one.

        An ``ended`` or ``left`` date ends the pair in force from that date (so the next round
        pairs the mentee again and frees the mentor's slot).
        """
        frame = _outcome_table(outcomes)
        problems: list[Problem] = []
        h = self._history
        seen_mentees = set(h["mentee_id"])
        for r in self._rounds:
            seen_mentees |= set(r.unmatched["mentee_id"])
        latest = (h.sort_values(["start", "instance"], kind="mergesort")
                  .groupby(["mentee_id", "mentor_id"], sort=False).tail(1))
        inst = {(e, m): (int(i), s) for e, m, i, s in
                zip(latest["mentee_id"], latest["mentor_id"], latest["instance"], latest["start"])}
        rows = []
        keys = set()
        for n, r in enumerate(frame.itertuples(index=False), start=2):
            e, m = r.mentee_id, r.mentor_id
            if m:
                if (e, m) not in inst:
                    problems.append(Problem("outcomes", "mentor_id", e, n, m,
                                            "a mentor this mentee was paired with in a round"))
                    continue
                i, start = inst[(e, m)]
            else:
                if e not in seen_mentees:
                    problems.append(Problem("outcomes", "mentee_id", e, n, e,
                                            "a mentee who took part in a round"))
                    continue
                i, start = 0, ""
            if (e, m) in keys:
                problems.append(Problem("outcomes", "mentee_id", e, n, f"{e}, {m}",
                                        "one row per pair (this pair appears twice)"))
                continue
            keys.add((e, m))
            for col in ("ended", "promoted"):
                v = getattr(r, col)
                if v and start and v < start:
                    problems.append(Problem("outcomes", col, e, n, v,
                                            f"a date on or after the pair's start ({start})"))
            rows.append({"mentee_id": e, "mentor_id": m, "instance": i, "ended": r.ended,
                         "promoted": r.promoted, "satisfaction": r.satisfaction, "left": r.left})
        if problems:
            raise ValidationError(problems)
        new = _typed(pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)))
        merged = pd.concat([self._outcomes, new], ignore_index=True)
        out = []
        for (_e, _m, _i), g in merged.groupby(["mentee_id", "mentor_id", "instance"], sort=True):
            row = g.iloc[0].to_dict()
            for _, later in g.iloc[1:].iterrows():
                for c in ("ended", "promoted", "left"):
                    if later[c]:
                        row[c] = later[c]
                if not math.isnan(later["satisfaction"]):
                    row["satisfaction"] = later["satisfaction"]
            out.append(row)
        self._outcomes = _typed(pd.DataFrame(out, columns=list(OUTCOME_COLUMNS)))
        self._apply_endings()

    def _apply_endings(self) -> None:
        """Ended pairs and leavers from the outcomes close their instances (earliest date wins)."""
        h, o = self._history, self._outcomes
        if not len(h) or not len(o):
            return
        def text(series: pd.Series) -> np.ndarray:
            values = series.to_numpy(dtype=object)
            return np.where(pd.isna(values), "", values).astype(object)

        ended = text(h["instance"].map(dict(zip(o["instance"], o["ended"]))))
        lefts = o[o["left"] != ""].groupby("mentee_id")["left"].min()
        left = text(h["mentee_id"].map(lefts))
        left = np.where(left >= h["start"].to_numpy(dtype=object), left, "")
        end = h["end"].to_numpy(dtype=object)
        for date, why in ((ended, "ended"), (left, "mentee_left")):
            hit = (date != "") & ((end == "") | (date < end))
            h.loc[hit, "end"] = date[hit]
            h.loc[hit, "end_reason"] = why
            end = h["end"].to_numpy(dtype=object)

    def metrics(self, by: Literal["cohort", "mentor"] = "cohort") -> pd.DataFrame:
        """Programme outcomes per cohort (round) or per mentor.

        A pair instance belongs to the cohort of the round that made it (a rematch to the latest
        round then). Rates are over the instances with an outcome row (``n_reported``), not over
        all: a missing row is unknown, not "not promoted".

        Returns
        -------
        DataFrame
            ``by="cohort"``: columns ``round``, ``date``, ``group`` (``"paired"``: the new pairs
            of that round; ``"unpaired"``: the mentees left unmatched in it, from outcome rows with
            an empty mentor_id, counting only promotions on or after the round's date), then
            ``n``, ``n_reported``, ``promotion_rate`` (share promoted), ``median_days_to_promotion``
            (from the pair's start, or the round's date, to the promotion), ``retention`` (share
            who have not left), ``mean_satisfaction`` (1-5). An unpaired row appears only when the
            round left someone unmatched.
            ``by="mentor"``: ``mentor_id`` then the same measures over the mentor's instances.
            Measures with no data are NaN.
        """
        if by not in ("cohort", "mentor"):
            raise ValidationError(Problem("arguments", "by", None, None, by, "'cohort' or 'mentor'"))
        h, o = self._history, self._outcomes
        paired = h.merge(o[o["instance"] > 0][["instance", "promoted", "satisfaction", "left"]],
                         on="instance", how="left", indicator=True)
        paired["reported"] = paired["_merge"] == "both"
        paired = paired.drop(columns="_merge")
        for c in ("promoted", "left"):
            paired[c] = paired[c].fillna("")
        if by == "mentor":
            rows = []
            for mentor, g in paired.groupby("mentor_id", sort=True):
                rows.append({"mentor_id": mentor, **_measures(g)})
            return pd.DataFrame(rows, columns=["mentor_id", *METRIC_COLUMNS])
        solo = o[o["instance"] == 0].set_index("mentee_id")
        rows = []
        for r in self._rounds:
            g = paired[paired["round"] == r.number]
            rows.append({"round": r.number, "date": r.date, "group": "paired", **_measures(g)})
            un = r.unmatched["mentee_id"]
            if len(un):
                u = pd.DataFrame({"mentee_id": un.to_numpy(), "start": r.date})
                u["reported"] = u["mentee_id"].isin(solo.index)
                get = lambda c: [solo.at[e, c] if e in solo.index else "" for e in u["mentee_id"]]
                u["promoted"] = [d if d and d >= r.date else "" for d in get("promoted")]
                u["left"] = get("left")
                u["satisfaction"] = [solo.at[e, "satisfaction"] if e in solo.index else math.nan
                                     for e in u["mentee_id"]]
                rows.append({"round": r.number, "date": r.date, "group": "unpaired", **_measures(u)})
        return pd.DataFrame(rows, columns=["round", "date", "group", *METRIC_COLUMNS])

    # -- save and load -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the whole state to ``directory`` (see the module docstring for the files).

        The files are written to a temporary directory beside it and swapped in at the end, so an
        existing save is left untouched if anything fails. A directory that exists and is not an
        earlier save (no ``manifest.json``) is refused rather than replaced.
        """
        target = Path(directory)
        if target.exists() and (not target.is_dir() or (any(target.iterdir())
                                                         and not (target / MANIFEST).is_file())):
            raise ValidationError(Problem(str(target), None, None, None, str(target),
                                          "a new directory or an earlier programme save (it exists "
                                          "and has no manifest.json; refusing to replace it)"))
        if self.framework is not None and not isinstance(self.framework, (str, Path)):
            raise ValidationError(Problem("Programme", "framework", None, None,
                                          type(self.framework).__name__,
                                          "a path or 'sales' to save the programme (a framework "
                                          "object cannot be written to the manifest)"))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.saving-", dir=target.parent))
        try:
            self._write(tmp)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.replace(target, old / "save")
                try:
                    os.replace(tmp, target)
                except BaseException:
                    os.replace(old / "save", target)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target

    def _write(self, d: Path) -> None:
        (d / "rounds").mkdir()
        rounds = []
        for r in self._rounds:
            stem = f"rounds/round-{r.number:03d}"
            _write_csv(r.pairs, ROUND_PAIR_COLUMNS, d / f"{stem}-pairs.csv")
            _write_csv(r.unmatched, ROUND_UNMATCHED_COLUMNS, d / f"{stem}-unmatched.csv")
            rounds.append({"number": r.number, "date": r.date, "status": r.status,
                           "objective": r.objective, "solver": r.solver,
                           "pairs": f"{stem}-pairs.csv", "unmatched": f"{stem}-unmatched.csv"})
        _write_csv(self._history, HISTORY_COLUMNS, d / "history.csv")
        _write_csv(self._outcomes, OUTCOME_COLUMNS, d / "outcomes.csv")
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "parameters": self.parameters(), "rules": self.rules.to_dict(),
                    "history": "history.csv", "outcomes": "outcomes.csv", "rounds": rounds}
        text = json.dumps(_json_safe(manifest), indent=2, sort_keys=True, allow_nan=False) + "\n"
        (d / MANIFEST).write_bytes(text.encode("utf-8"))

    @classmethod
    def load(cls, directory: str | Path) -> "Programme":
        """Read a programme written by :meth:`save`.

        Raises
        ------
        ValidationError
            Naming the file: a missing directory, manifest or CSV file, a manifest that is not
            JSON or lacks a key, another format or format version, bad rules, a CSV file with
            another header or a bad cell (with its line).
        """
        d = Path(directory)
        mpath = d / MANIFEST
        name = str(mpath)
        if not d.is_dir():
            raise ValidationError(Problem(str(d), None, None, None, str(d),
                                          "a directory written by Programme.save"))
        if not mpath.is_file():
            raise ValidationError(Problem(name, None, None, None, "missing",
                                          "the manifest of a programme save"))
        try:
            manifest = _json_restore(json.loads(mpath.read_bytes().decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(Problem(name, None, None, None, str(exc), "valid JSON")) from None
        if not isinstance(manifest, dict):
            raise ValidationError(Problem(name, None, None, None, type(manifest).__name__, "a JSON object"))
        if manifest.get("format") != FORMAT:
            raise ValidationError(Problem(name, "format", None, None, manifest.get("format"), repr(FORMAT)))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ValidationError(Problem(name, "format_version", None, None,
                                          manifest.get("format_version"),
                                          f"{FORMAT_VERSION} (this version of mentormatch reads "
                                          f"format version {FORMAT_VERSION} only)"))
        for key, kind in (("parameters", dict), ("rules", dict), ("history", str),
                          ("outcomes", str), ("rounds", list)):
            if not isinstance(manifest.get(key), kind):
                raise ValidationError(Problem(name, key, None, None, manifest.get(key),
                                              f"a {kind.__name__} under key {key!r}"))
        params = dict(manifest["parameters"])
        known = set(cls(None).parameters())
        if set(params) != known:
            raise ValidationError(Problem(name, "parameters", None, None, sorted(params),
                                          f"exactly the keys {sorted(known)}"))
        rules = Rules.from_dict(manifest["rules"], source=f"{name} (rules)")
        try:
            prog = cls(rules, params.pop("framework"), **params)
        except ValidationError as exc:
            raise ValidationError([Problem(name, f"parameters.{p.column}", None, None, p.value, p.expected)
                                   for p in exc.problems]) from None
        prog._history = _read_csv(d / manifest["history"], HISTORY_COLUMNS)
        prog._outcomes = _read_csv(d / manifest["outcomes"], OUTCOME_COLUMNS)
        for n, r in enumerate(manifest["rounds"], start=1):
            need = ("number", "date", "status", "objective", "solver", "pairs", "unmatched")
            if not isinstance(r, dict) or any(k not in r for k in need) or r.get("number") != n:
                raise ValidationError(Problem(name, f"rounds[{n - 1}]", None, None, r,
                                              f"round {n} with keys {', '.join(need)}"))
            prog._rounds.append(Round(
                n, _as_date(r["date"], f"rounds[{n - 1}].date", table=name), 
                _read_csv(d / r["pairs"], ROUND_PAIR_COLUMNS),
                _read_csv(d / r["unmatched"], ROUND_UNMATCHED_COLUMNS),
                str(r["status"]), float(r["objective"]), str(r["solver"])))
        return prog

    def __repr__(self) -> str:
        return (f"Programme(rounds={len(self._rounds)}, pairs_in_force={len(self.in_force())}, "
                f"allow_repeats={self.allow_repeats}, priority={self.priority!r})")


# --------------------------------------------------------------------------------------------
# helpers for the solver and the tables
# --------------------------------------------------------------------------------------------
def _copy_table(table):
    return table.copy() if isinstance(table, pd.DataFrame) else table


def _dominating_offset(problem) -> float:
    """An offset B with B > n_max * span: one more pair carrying B beats any change in the rest."""
    s = problem.score
    span = float(s.max() - min(0.0, float(s.min()))) if len(s) else 1.0
    n_max = int(min(np.asarray(problem.demand).sum(), max(float(np.sum(problem.capacity)), 1.0)))
    return 1.0 + n_max * max(span, 1e-9)


def _resolve_with_bonus(prepared, bonus: np.ndarray, subset: np.ndarray | None = None) -> Matching:
    """Solve a prepared round with ``score + bonus`` as the objective, optionally on a subset of
    its pairs; the pairs are reported with their own scores (see :func:`pipeline.solve`)."""
    import dataclasses

    from .pipeline import solve

    if subset is not None:
        p = prepared.problem
        ranks = {k: getattr(p, k)[subset] for k in ("mentee_rank", "mentor_rank")
                 if getattr(p, k) is not None}
        sub = dataclasses.replace(p, pairs=p.pairs.subset(subset), score=p.score[subset],
                                  locked=p.locked[subset], **ranks)
        contributions = prepared.contributions.iloc[np.flatnonzero(subset)].reset_index(drop=True)
        prepared = dataclasses.replace(prepared, problem=sub, contributions=contributions,
                                       data={**prepared.data, "problem": sub,
                                             "all_contributions": contributions})
        bonus = bonus[subset]
    return solve(prepared, bonus)


def _outcome_table(outcomes) -> pd.DataFrame:
    """Validate an outcomes table: text ids, ISO dates or '', satisfaction 1-5 or NaN."""
    if isinstance(outcomes, (str, Path)):
        path = Path(outcomes)
        if not path.is_file():
            raise ValidationError(Problem("outcomes", None, None, None, str(path), "an existing CSV file"))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif isinstance(outcomes, pd.DataFrame):
        frame = outcomes.copy()
    else:
        raise ValidationError(Problem("outcomes", None, None, None, type(outcomes).__name__,
                                      "a DataFrame or a CSV path"))
    allowed = ("mentee_id", "mentor_id", "ended", "promoted", "satisfaction", "left")
    problems = [Problem("outcomes", c, None, 1, None, "this column (required)")
                for c in ("mentee_id", "mentor_id") if c not in frame.columns]
    problems += [Problem("outcomes", str(c), None, 1, c, f"one of {', '.join(allowed)}")
                 for c in frame.columns if c not in allowed]
    if problems:
        raise ValidationError(problems)

    def text(v) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT else str(v).strip()

    out: dict[str, list] = {c: [] for c in allowed}
    for n, row in enumerate(frame.to_dict("records"), start=2):
        e = text(row["mentee_id"])
        if not e:
            problems.append(Problem("outcomes", "mentee_id", None, n, row["mentee_id"], "a mentee id"))
        out["mentee_id"].append(e)
        out["mentor_id"].append(text(row["mentor_id"]))
        for c in ("ended", "promoted", "left"):
            try:
                out[c].append(_as_date(row.get(c), c, table="outcomes", row_id=e, line=n, optional=True))
            except ValidationError as exc:
                problems += exc.problems
                out[c].append("")
        s = row.get("satisfaction")
        s = text(s)
        try:
            v = float(s) if s else math.nan
            if s and not 1 <= v <= 5:
                raise ValueError
        except ValueError:
            problems.append(Problem("outcomes", "satisfaction", e, n, row.get("satisfaction"),
                                    "a number from 1 to 5, or empty"))
            v = math.nan
        out["satisfaction"].append(v)
    if problems:
        raise ValidationError(problems)
    return pd.DataFrame(out)


def _measures(g: pd.DataFrame) -> dict[str, Any]:
    """The metric columns over one group of instances (columns reported, start, promoted, left,
    satisfaction)."""
    rep = g[g["reported"]] if len(g) else g
    n, k = len(g), len(rep)
    promoted = rep["promoted"] != "" if k else pd.Series(dtype=bool)
    days = [_days(s, p) for s, p in zip(rep["start"][promoted], rep["promoted"][promoted])] if k else []
    sat = rep["satisfaction"].dropna() if k else pd.Series(dtype=float)
    return {
        "n": n, "n_reported": k,
        "promotion_rate": float(promoted.mean()) if k else math.nan,
        "median_days_to_promotion": float(np.median(days)) if days else math.nan,
        "retention": float((rep["left"] == "").mean()) if k else math.nan,
        "mean_satisfaction": float(sat.mean()) if len(sat) else math.nan,
    }


__all__ = ["Programme", "Round", "FORMAT_VERSION"]
