"""The :class:`Programme` facade: its parameters and state, each operation delegated to the
module of its concern (rounds, rematch, outcomes, store)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..errors import Problem, ValidationError
from ..matching import Matching
from ..rules import Rules
from . import ledger, rematch, rounds, store
from .outcomes import metrics as _metrics
from .outcomes import record_outcomes as _record_outcomes
from .tables import HISTORY_COLUMNS, OUTCOME_COLUMNS, Round, as_date, empty

PRIORITIES = ("weight", "hard", None)


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
        self._history = empty(HISTORY_COLUMNS)
        self._outcomes = empty(OUTCOME_COLUMNS)
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
        return self._history[ledger.active_mask(self._history, as_date(date, "date"))].copy()

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
            return rounds.run_round(self, mentors, mentees, date)

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
            return rematch.rematch(self, mentee_id, date, mentors, mentees, allow_changes)

    # -- outcomes and metrics ------------------------------------------------------------------
    def record_decisions(self, decisions, date=None) -> pd.DataFrame:
        """Record accept/decline decisions on the pairs: declined pairs end and are forbidden
        in later rounds; accepted ones stay in force (see
        :func:`mentormatch.decisions.record_decisions`)."""
        from ..decisions import record_decisions

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
        _record_outcomes(self, outcomes)

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
        return _metrics(self, by)

    # -- save and load -----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the whole state to a store: a folder, or an SQLite database when ``directory``
        ends in ``.sqlite``, ``.sqlite3`` or ``.db`` or is a ``sqlite:///PATH`` URL (see
        :mod:`mentormatch.programme.store`).

        At every instant the store reads as the earlier save or as this one, whole: a save that
        fails or is killed leaves the earlier one (a folder switches with one atomic rename and
        finishes or clears a killed save on the next save or load; SQLite saves in one
        transaction). Concurrent saves to one store take turns; one that waits longer than
        ``store.files.LOCK_TIMEOUT`` seconds raises a StoreError. A folder that exists and is not
        an earlier save (no ``manifest.json``) is refused rather than replaced.

        Returns
        -------
        Path
            The folder or the database file.
        """
        if self.framework is not None and not isinstance(self.framework, (str, Path)):
            raise ValidationError(Problem("Programme", "framework", None, None,
                                          type(self.framework).__name__,
                                          "a path or 'sales' to save the programme (a framework "
                                          "object cannot be written to the manifest)"))
        snap = store.Snapshot(self.parameters(), self.rules.to_dict(), self._history,
                              self._outcomes, list(self._rounds))
        return store.save(snap, directory)

    @classmethod
    def load(cls, directory: str | Path) -> "Programme":
        """Read a programme written by :meth:`save` (a folder, an SQLite file or URL).

        Raises
        ------
        StoreError
            (a ValidationError) naming the file: a missing directory, manifest or file; a file
            whose SHA-256 or row count differs from the manifest's (damaged or changed after the
            save); a manifest that is not JSON, lacks a key or holds a malformed value; another
            format or format version; a CSV file with another header or a bad cell (with its
            line); a ledger naming a round the store does not list.
        ValidationError
            Bad rules or parameters, naming the manifest.
        """
        snap = store.load(directory)
        name = snap.source
        params = dict(snap.parameters)
        known = set(cls(None).parameters())
        if set(params) != known:
            raise ValidationError(Problem(name, "parameters", None, None, sorted(params),
                                          f"exactly the keys {sorted(known)}"))
        rules = Rules.from_dict(snap.rules, source=f"{name} (rules)")
        try:
            prog = cls(rules, params.pop("framework"), **params)
        except ValidationError as exc:
            raise ValidationError([Problem(name, f"parameters.{p.column}", None, None, p.value, p.expected)
                                   for p in exc.problems]) from None
        prog._history = snap.history
        prog._outcomes = snap.outcomes
        prog._rounds = list(snap.rounds)
        return prog

    def __repr__(self) -> str:
        return (f"Programme(rounds={len(self._rounds)}, pairs_in_force={len(self.in_force())}, "
                f"allow_repeats={self.allow_repeats}, priority={self.priority!r})")
