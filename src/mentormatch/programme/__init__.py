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
* A pair in force that the rules now exclude (a manager who rejoins puts it on the management
  line, a new forbidden pair, a threshold) ends (``ineligible``), with a note naming the pair and
  the rule. Only the pairs in force are checked (:mod:`.locks`), so this holds at every size; a
  pair the programme's own ``constraints.locked`` holds is an error naming it instead.
* A mentor whose capacity went down keeps the mentees that still fit, **longest-standing first**
  (earliest start; ties: higher score, then mentee id), and the others are freed; nobody else is
  moved.
* History: with ``allow_repeats=False`` a (mentee, mentor) pair that existed before is forbidden.
  With ``allow_repeats=True`` it may be made again, but only once ``cooldown_rounds`` rounds have
  passed since the last round it was in force (``cooldown_rounds=None`` means 0: the next round).
* Priority: mentees who were left unmatched in the previous round and take part again come first.
  ``priority="weight"`` adds ``priority_weight`` to the score of each of their eligible pairs (in
  the objective only: reported scores stay the feature scores). ``priority="hard"`` adds an offset
  ``B = 1 + n_max * span`` (``n_max``: most pairs any solution can have; ``span``: the sum of the
  weights, which bounds every score, widened by the range of the round's other bonus terms, the
  priority column and continuity; :mod:`.offsets`) so that one more priority pair is always
  worth more than any change in the other pairs' total: the solver maximises the number of
  priority pairs first, and the total score (with the other bonuses) second (the lexicographic
  optimum). ``B`` comes from the rules and tables, never the scores, so every pair source
  (the complete set, blocks, bounds) reports the same ``bonus_total``.
* Continuity (``continuity=True``, needs ``allow_repeats=True``): a mentee whose pair ended and who
  is paired again gets ``continuity_weight`` added to the score of their most recent mentor.

Rematch (:meth:`Programme.rematch`)
-----------------------------------
When a pair ends early, ``rematch`` finds the mentee a new mentor with the fewest changes to the
pairs in force, solving lexicographically (with offsets, as for ``priority="hard"``): (1) match the
mentee if at all possible, (2) keep as many pairs in force as possible, (3) maximise the score.
Mentees who are not in a pair in force stay as they are. The number of other mentees whose pair
changed is returned; it is zero whenever an eligible mentor has free capacity. Above
``pipeline.LARGE_PAIRS`` pairs the same objective goes to the engine as a ``PairBonus`` (mentees
out of play get a penalty larger than any score instead of being left out of the pairs); an
answer the engine returns short of its optimum (time limit) is refused, with nothing recorded,
when it changes another pair or leaves the mentee out although an eligible mentor has room.

Outcomes and metrics
--------------------
See :meth:`Programme.record_outcomes` and :meth:`Programme.metrics`.

Leavers
-------
At each round, references to people absent from it are dropped for that round, never an error:
the pairs in force of a leaver end (``mentee_left``/``mentor_left``), and the programme's own
``constraints.forbidden``/``constraints.locked`` pairs naming someone absent are left out. Each is
listed in the round's :attr:`Round.notes`.

Solver ``stable``
-----------------
Deferred acceptance takes no locked pairs, so over several rounds the pairs in force are put first
in both sides' preferences instead: they are kept, and the matching is stable for the others on
what is left. The priority and continuity bonuses order the other pairs.

Saving
------
:meth:`Programme.save` writes a store: a folder of plain files (:mod:`.store.folder`:
``manifest.json`` with format, version, parameters, rules, rounds and each file's SHA-256 and row
count; ``history.csv``, ``outcomes.csv``, per round ``rounds/round-NNN-pairs.csv`` and
``-unmatched.csv``), or an SQLite database (:mod:`.store.sqlite`) for a path ending in ``.sqlite``
or ``.db`` or a ``sqlite:///`` URL. A save switches from the old state to the new atomically and
durably; a load verifies every file. Saving what was loaded gives byte-identical files;
:func:`convert` copies a store into the other kind. The people tables are not saved (personal
data): after :meth:`Programme.load`, :meth:`Programme.rematch` needs them passed in.

Modules: :mod:`.ledger` (history, locks), :mod:`.offsets` (the lexicographic offsets),
:mod:`.rounds`, :mod:`.rematch`, :mod:`.outcomes`,
:mod:`.locks` (locked pairs against the rules), :mod:`.store`, :mod:`.core` (the
:class:`Programme` facade), :mod:`.tables` (records, columns).
"""
from __future__ import annotations

from pathlib import Path

from .core import PRIORITIES, Programme
from .store import FORMAT, FORMAT_VERSION, Snapshot
from .tables import Round


def convert(src: str | Path, dst: str | Path) -> Path:
    """Copy the programme store ``src`` into ``dst``, of either kind (folder or SQLite):
    ``Programme.load(src).save(dst)``, verified on the way.

    >>> import tempfile, pathlib
    >>> import mentormatch as mm
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = mm.Programme().save(d / "prog")
    >>> convert(d / "prog", d / "prog.sqlite").name
    'prog.sqlite'
    >>> mm.Programme.load(d / "prog.sqlite").rounds
    []
    """
    return Programme.load(src).save(dst)


__all__ = ["Programme", "Round", "Snapshot", "convert", "FORMAT", "FORMAT_VERSION", "PRIORITIES"]
