"""The solve record: everything a result keeps besides its tables, one typed field each.

:class:`SolveRecord` has the same fields on every path (``assign()``, ``pair()`` on the complete
candidate set, ``pair()`` on the scale path with cached blocks or bounds); a field a path has
nothing for is None, and its description says which paths set it. A result holds it as
``Matching.record``; ``Matching.data`` is the same object read as a mapping, for the code written
when it was a dictionary: ``data["problem"]``, ``data.get("scores")``, ``"full_problem" in data``.
"""
from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import UnknownFieldError

if TYPE_CHECKING:  # annotations only: this module imports nothing of the pipeline at run time
    import numpy as np
    import pandas as pd

    from .careers import CareerFramework
    from .pairs import Candidates, Encoder
    from .rules import Rules
    from .scoring import Scores
    from .solvers import AssignmentProblem, SideConstraints, Solution
    from .solvers.base import PairBonus


class Built:
    """A record field's value to be built on its first read (``build()`` returns it): what the
    field descriptor :class:`_OnFirstRead` stores in its place. ``assign()``'s small path gives
    ``removed`` so, a frame that costs about 30 us of a 0.6 ms call at 200 x 50 and that only
    the unmatched mentees' reasons and baselines read. ``build`` must read nothing that changes
    after the call returns."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], Any]):
        self.build = build


class _OnFirstRead:
    """A :class:`SolveRecord` field that may hold a :class:`Built` until first read (a data
    descriptor set after the dataclass is made, so that its ``__init__`` stores through it, as
    :class:`mentormatch.matching.Matching`'s tables)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return None  # (the field's default)
        value = obj.__dict__.get(self.name)
        if isinstance(value, Built):
            value = obj.__dict__[self.name] = value.build()
        return value

    def __set__(self, obj, value):
        obj.__dict__[self.name] = value


def _field(doc: str, default: Any = None) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True, eq=False, repr=False)
class SolveRecord(Mapping):
    """What a pairing keeps for its reports, explanations, baselines and re-solves.

    Frozen: a changed copy is made with ``dataclasses.replace(record, field=value)``. As a
    mapping (``Matching.data``) its keys are the fields that are set (not None): ``record[k]``
    raises ``KeyError`` for a field this path left unset, and
    :class:`~mentormatch.errors.UnknownFieldError` (a ``KeyError`` naming the fields) for a name
    that is no field, as ``record.get(k)`` does (``k in record`` is then False). ``dict(record)``
    gives the set fields as a plain dictionary.

    The fields, with their types and meanings, are listed under Attributes (generated from the
    fields' own descriptions, so that the list cannot drift from them).

    Examples
    --------
    >>> import pandas as pd, mentormatch as mm
    >>> s = pd.DataFrame([[0.9, 0.1], [0.8, 0.7]], index=["e1", "e2"], columns=["m1", "m2"])
    >>> r = mm.assign(s, pd.Series({"m1": 1, "m2": 1}))
    >>> r.record.n_mentees, r.record.scale_path, r.record.rules is None
    (2, False, True)
    >>> r.data["n_mentees"], "rules" in r.data, r.data.get("rules", "unset")
    (2, False, 'unset')
    >>> r.data["n_mentess"]  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mentormatch.errors.UnknownFieldError: unknown SolveRecord field 'n_mentess'; known: ... Did you mean 'n_mentees'?
    """

    # -- every path ---------------------------------------------------------------------------
    problem: AssignmentProblem | None = _field(
        "The problem the solver saw: candidate pairs (mentee, mentor indices in the order solved), "
        "their scores, capacities, locks and side constraints. On the scale path only each "
        "mentee's best pairs and those the certificate added.")
    solution: Solution | None = _field(
        "The solver's answer on ``problem``: positions of the chosen pairs, status, objective, "
        "bound, gap and certificate.")
    mentee_ids: Encoder | None = _field("Mentee ids <-> indices, in the order solved.")
    mentor_ids: Encoder | None = _field("Mentor ids <-> indices, in the order solved.")
    n_mentees: int | None = _field("Number of mentees in the input.")
    n_mentors: int | None = _field("Number of mentors in the input.")
    removed: pd.DataFrame | None = _field(
        "Per mentee (in the order solved), how many candidate mentors each eligibility rule "
        "removed: one column per rule (``assign()``: forbidden, ineligible_score). A path may "
        "give it as :class:`Built` (``assign()``'s small path): built on its first read.")
    input_rows: tuple[np.ndarray, np.ndarray] | None = _field(
        "(mentee rows, mentor rows): the caller's row of each person in the order solved (the "
        "seeded tie rule, :func:`mentormatch.pipeline.seeded_order`); pairs are reported in the "
        "caller's order.")
    scores: Scores | pd.DataFrame | None = _field(
        "``pair()``: the scoring result (total, values, contributions, missing, the prepared "
        "features), on the complete candidate set, or on the scale path on the pairs of "
        "``problem``, scored at the first read of its arrays (:class:`~mentormatch.scoring_totals."
        "ScoresOnRead`). ``assign()``: the caller's score DataFrame (mentees x mentors).")
    time_limit: float | None = _field(
        "The call's time limit in seconds, which the result's explanations and unmatched reasons "
        "give their own re-solves (each counted from its own call): ``pair()``: the rules' "
        "``time_limit``; ``assign()``: its ``time_limit`` argument (None: each solver's default).")

    # -- pair(): people tables, rules ----------------------------------------------------------
    mentees: pd.DataFrame | None = _field(
        "``pair()``: the validated mentee table, in the order solved. None from ``assign()``.")
    mentors: pd.DataFrame | None = _field(
        "``pair()``: the validated mentor table, in the order solved. None from ``assign()``.")
    rules: Rules | None = _field("``pair()``: the programme's rules. None from ``assign()``.")
    framework: CareerFramework | None = _field(
        "``pair()``: the career framework the competency feature used; None when none was used "
        "and from ``assign()``.")
    requested_solver: str | None = _field(
        "``pair()``: the solver the rules named, before their needs chose the one that ran "
        "(the result's ``solver``). None from ``assign()``.")
    rule_names: list[str] | None = _field(
        "``pair()``: the names of the eligibility rules, in the order they are applied (the first "
        "that removes a pair is counted for it); ``which_rule`` indexes it.")
    all_contributions: pd.DataFrame | None = _field(
        "``pair()`` on the complete candidate set: per pair of ``problem`` (chosen or not), one "
        "column per feature (weight x value). None on the scale path (``scores.contributions``, "
        "scored when first read) and from ``assign()``.")
    missing: np.ndarray | None = _field(
        "``pair()`` on the complete candidate set: bool, pairs of ``problem`` x features: the "
        "feature's value was missing and its neutral value was used. None on the scale path "
        "(``scores.missing``, scored when first read).")
    bonus: np.ndarray | PairBonus | None = _field(
        "``pair()``, when ``solve()`` was given an objective bonus: on the complete candidate set "
        "the bonus per pair of ``problem``; on the scale path the round's ``PairBonus`` (per "
        "mentee and listed pair: any pair's by ``on_pairs``). None otherwise.")
    # -- pair() on the complete candidate set (at most pipeline.LARGE_PAIRS pairs) -------------
    complete: Candidates | None = _field(
        "Complete candidate set only: every (mentee, mentor) pair. None on the scale path and "
        "from ``assign()``.")
    eligible: np.ndarray | None = _field(
        "Complete candidate set only: bool per pair of ``complete``, True where no rule removed "
        "it.")
    which_rule: np.ndarray | None = _field(
        "Complete candidate set only: per pair of ``complete``, the index in ``rule_names`` of "
        "the first rule that removed it, -1 where eligible.")
    # -- pair() on the scale path (above pipeline.LARGE_PAIRS pairs) ---------------------------
    scale_path: bool = _field(
        "True when ``pair()`` took the scale path (no complete candidate set); False otherwise.",
        default=False)
    pair_source: str | None = _field(
        "Scale path only: where the pairs came from, ``'blocks'`` (block scores, cached up to "
        "``pipeline.SCORE_CACHE_PAIRS``) or ``'bounds'`` (the features' bounds).")
    full_problem: Callable[[], AssignmentProblem] | None = _field(
        "Scale path only: builds (on first call, then cached) the problem of every eligible "
        "pair, for checks on rounds that fit in memory (the baselines read ``pair_reader``).")
    pair_reader: Callable[[], Any] | None = _field(
        "Scale path only: gives (then cached) every eligible pair on demand, never held at "
        "once (a :class:`~mentormatch.solvers.rows.PairReader`), which the random, greedy and "
        "stable baselines and the audit read.")
    capacity: np.ndarray | None = _field("Scale path only: capacity per mentor.")
    demand: np.ndarray | None = _field(
        "Scale path only: mentors needed per mentee; None also when every mentee needs one.")
    load: np.ndarray | None = _field(
        "Scale path only: load per mentee; None also when every load is 1.")
    locked: tuple[np.ndarray, np.ndarray] | None = _field(
        "Scale path only: the locked pairs as (mentee indices, mentor indices); None also when "
        "there are none.")
    side: SideConstraints | None = _field(
        "Scale path only: the side constraints (budget, incentives, minimum loads, floors); on "
        "the complete set they are ``problem.side``.")
    coverage_first: bool | None = _field(
        "Scale path only: the rules' ``constraints.coverage_first``; on the complete set it is "
        "``problem.coverage_first``.")
    # -- set after the solve -------------------------------------------------------------------
    revision: dict | None = _field(
        "After ``Matching.revise``: accepted, declined, pending, kept, changed, M, proven and the "
        "changes table.")
    baseline_seed: int | None = _field(
        "On a baseline made by the command line: the seed of its random assignment.")
    not_transferred: list[str] | None = _field(
        "After pickling (a result sent back from a worker process): the fields left out because "
        "they cannot be pickled (the scale path's ``full_problem`` and ``pair_reader``).")

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "SolveRecord":
        """A record from a mapping of field names (the pipeline's working dictionary). A key
        that is no field raises :class:`~mentormatch.errors.UnknownFieldError`: a new key is
        declared here first, with its type and meaning."""
        if not data.keys() <= _FIELDS.keys():
            for key in data:
                if key not in _FIELDS:
                    raise UnknownFieldError("SolveRecord field", str(key), list(_FIELDS))
        if cls is not SolveRecord:
            return cls(**data)
        # what ``__init__`` stores, stored at once: every field in the instance's dict, the
        # given value or its default (no field has a factory; ``removed``'s descriptor stores
        # there too). The frozen ``__init__`` sets its 35 fields one ``object.__setattr__`` at
        # a time: 8 us of ``assign()``'s call at 200 x 50, this 1 (s31h2)
        record = object.__new__(cls)
        record.__dict__.update(_DEFAULTS)
        record.__dict__.update(data)
        return record

    # -- the mapping view ------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key not in _FIELDS:
            raise UnknownFieldError("SolveRecord field", str(key), list(_FIELDS))
        value = getattr(self, key)
        if value is None:
            raise KeyError(f"{key!r} is not set on this path (SolveRecord.{key} is None): "
                           f"{_FIELDS[key]}")
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in _FIELDS and getattr(self, key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        """The field's value, or ``default`` when it is None; a name that is no field raises
        (a misspelt key would otherwise read as "not set" for ever)."""
        if key not in _FIELDS:
            raise UnknownFieldError("SolveRecord field", str(key), list(_FIELDS))
        value = getattr(self, key)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return (name for name in _FIELDS if getattr(self, name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    # identity, not field-by-field (arrays and DataFrames do not compare to one bool)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        def short(v):
            return repr(v) if isinstance(v, (bool, int, float, str)) else type(v).__name__
        return f"SolveRecord({', '.join(f'{k}={short(v)}' for k, v in self.items())})"


#: Field name -> its description, in declaration order.
_FIELDS: dict[str, str] = {f.name: f.metadata["doc"] for f in dataclasses.fields(SolveRecord)}
#: Field name -> its default (:meth:`SolveRecord.from_mapping`; no field has a factory).
_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(SolveRecord)}
assert all(f.default_factory is dataclasses.MISSING for f in dataclasses.fields(SolveRecord))
# the numpydoc Attributes section, before Examples, from the fields themselves
_ATTRIBUTES = "".join(
    f"    {f.name} : {f.type}\n{textwrap.indent(textwrap.fill(f.metadata['doc'], 88), ' ' * 8)}\n"
    for f in dataclasses.fields(SolveRecord))
SolveRecord.__doc__ = (SolveRecord.__doc__ or "").replace(
    "    Examples\n", f"    Attributes\n    ----------\n{_ATTRIBUTES}\n    Examples\n", 1)

#: The fields a path may give as :class:`Built` (built on their first read).
_ON_FIRST_READ = ("removed",)
for _name in _ON_FIRST_READ:
    _descriptor = _OnFirstRead()
    _descriptor.__set_name__(SolveRecord, _name)
    setattr(SolveRecord, _name, _descriptor)
del _name, _descriptor
