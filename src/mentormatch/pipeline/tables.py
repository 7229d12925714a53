"""``pair()``, ``prepare()`` and ``solve()``: the whole pipeline on people tables.

validate -> the seeded order of the ids -> candidates -> score -> eligibility rules -> solve. At
most ``LARGE_PAIRS`` pairs the complete candidate set is built here; above it the round goes to
the scale path (:mod:`mentormatch.pipeline.large`).
"""
from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd

from .. import constraints as C
from .. import pipeline as knobs  # LARGE_PAIRS, read at call time (tests patch it there)
from ..features import Context
from ..matching import Matching
from ..pairs import Candidates, Encoder
from ..rules import Rules
from ..solvers import AssignmentProblem, SolverOptions
from ..solvers.base import PairBonus
from .bonus import solve_with_bonus
from .large import _prepare_large, _solve_large
from .notes import city_notes, setting_notes
from .order import seeded_order
from .prepared import Prepared, _choose_solver, _side_constraints, demand_and_load
from .reader import refuse_ineligible_locks
from .stopped import past, stopped_round
from .stopped import with_bonus as stopped_with_bonus
from .wrap import _solve, _timed, _wrap


def resolve_framework(framework, mentees: pd.DataFrame, mentors: pd.DataFrame):
    """None -> the bundled sales framework when every role in the tables is one of its roles,
    else no framework (the competency feature is then neutral, and the report says so).
    A path -> loaded from TOML or (requirements CSV) ; a CareerFramework -> as is."""
    from ..careers import CareerFramework

    if isinstance(framework, CareerFramework):
        return framework
    if framework in (None, "", "sales"):
        sales = CareerFramework.sales()
        roles = set()
        for df in (mentees, mentors):
            if "role" in df.columns:
                roles |= _roles(df)
        if framework == "sales" or (roles and roles <= set(sales.roles)):
            return sales
        return None
    return CareerFramework.load(framework)  # issue 20: TOML, or {requirements, pathways} CSVs


def _roles(df: pd.DataFrame) -> set[str]:
    """The roles of a table's ``role`` column, as text (empty left out); read from an object
    array, as iterating a text Series boxes each cell in Python (18 ms at 100,000 rows)."""
    return set(df["role"].dropna().astype(str).to_numpy(dtype=object)) - {""}


def framework_note(framework, fw, mentees: pd.DataFrame, mentors: pd.DataFrame) -> str | None:
    """The note when :func:`resolve_framework` left the bundled framework out (``framework``
    not given, ``fw`` None) although the tables have roles: competency is then neutral for every
    pair, which one misspelt role among the sales roles would otherwise do silently."""
    if framework not in (None, "") or fw is not None:
        return None
    from ..careers import CareerFramework

    known = set(CareerFramework.sales().roles)
    roles = {t: sorted(_roles(df)) for t, df in (("mentees", mentees), ("mentors", mentors))
             if "role" in df.columns}
    if not any(roles.values()):
        return None
    unknown = "; ".join(f"{t}: {', '.join(repr(r) for r in rs if r not in known)}"
                        for t, rs in roles.items() if set(rs) - known)
    return (f"competency is neutral (0.5) for every pair: no career framework, as the bundled "
            f"sales framework's roles ({', '.join(sorted(known))}) do not include every role of "
            f"the tables ({unknown}); correct the roles or name a framework (framework=...)")


def pair(mentors, mentees, programme=None, *, framework=None, org=None,
         executor=None) -> Matching:
    """Pair mentees with mentors: validate, score every eligible pair, solve exactly.

    Parameters
    ----------
    mentors, mentees : DataFrame or path to CSV
        Tables in the documented schema (``mentormatch.schema.describe_columns()``); other
        headers are mapped with the programme's ``columns`` setting.
    programme : None, dict, path to TOML, Rules or Programme
        Weights, constraints, fairness and solver settings; None = the defaults.
    framework : CareerFramework, path, "sales" or None
        The career framework for the competency feature (default: the bundled sales framework
        when every role in the tables belongs to it).
    org : DataFrame or path, optional
        The org chart (``id``, ``manager_id`` for everyone, people in neither table included)
        for the management-line and team rules; see ``mentormatch.schema.validate_tables``.
    executor : concurrent.futures.Executor, optional
        Where the block passes of a large round run (a Dask ``Client.get_executor()``
        included): the same pairs as on this machine's threads (None: the default of
        :mod:`mentormatch.solvers.bounded.remote`, this machine unless set there).

    Returns
    -------
    Matching
        ``pairs`` (mentee_id, mentor_id, score, rank, ...), ``unmatched`` (mentee_id,
        reason_code, reason), ``status``, ``objective``, ``bound``, ``gap``, ``contributions``.
    """
    from ..solvers.bounded import remote

    started = time.perf_counter()
    # the time limit counts from this call: reading, validating and scoring count too (the
    # limit itself stays the user's: messages quote it); past it before the pairs are scored,
    # they are not (pipeline/stopped.py)
    prepared = _prepare(mentors, mentees, programme, framework, org, started)
    prepared = dataclasses.replace(prepared, options=dataclasses.replace(prepared.options,
                                                                         started=started))
    # the mentees' priority column, as a bonus that works at every size
    with remote.executing(executor):
        return _timed(solve(prepared, C.priority_bonus(prepared)), started)


def prepare(mentors, mentees, programme=None, *, framework=None, org=None) -> Prepared:
    """Validate the tables, score every pair and apply the eligibility rules, without solving.

    Takes the same parameters as :func:`pair`.

    Returns
    -------
    Prepared
        The eligible pairs and their scores as an :class:`AssignmentProblem`, the solver the
        rules call for, and what the result needs; :func:`solve` turns it into a Matching.
    """
    return _prepare(mentors, mentees, programme, framework, org)


def _prepare(mentors, mentees, programme, framework, org, started: float | None = None) -> Prepared:
    """:func:`prepare`; with ``started`` (``pair()``'s call), the pairs are not scored (on
    the complete set or the scale path) once the rules' time limit from it has passed: the
    locks alone answer (:mod:`.stopped`)."""
    from ..schema import validate_tables

    rules = Rules.coerce(programme)
    mentor_cols, mentee_cols = rules.column_maps()
    mentors, mentees = validate_tables(mentors, mentees, mentor_columns=mentor_cols or None,
                                       mentee_columns=mentee_cols or None,
                                       **rules.input_options(org))  # [input] settings, org chart
    # settings the tables leave without effect, said (rows named by their file lines, so here,
    # before the rows are reordered)
    extra = city_notes(mentors, mentees, rules) + setting_notes(mentees, rules)
    if extra:
        mentees.attrs["notes"] = [*mentees.attrs.get("notes", []), *extra]
    # the tie rule: solve in a seeded order of the ids, so row order never decides a tie
    # (the ids as object arrays: iterating a text Series boxes each cell in Python; validated
    # ids are str already, so ``texts``: their copy by str() took 0.015 s CPU of 100,000)
    mentee_rows = seeded_order(mentees["id"].to_numpy(dtype=object), rules.seed, texts=True)
    mentor_rows = seeded_order(mentors["id"].to_numpy(dtype=object), rules.seed, texts=True)
    mentees = mentees.iloc[mentee_rows].reset_index(drop=True)
    mentors = mentors.iloc[mentor_rows].reset_index(drop=True)
    limit = rules.settings["time_limit"]  # None: no limit on the preparation (solvers.base)
    deadline = (started + float(limit) if started is not None and limit is not None
                and math.isfinite(limit) else None)
    prepared = _prepare_ordered(mentors, mentees, rules, framework, deadline)
    prepared.data["input_rows"] = (mentee_rows, mentor_rows)
    prepared.data["time_limit"] = rules.settings["time_limit"]  # the round's, for its re-solves
    return prepared


def _prepare_ordered(mentors, mentees, rules: Rules, framework, deadline=None) -> Prepared:
    from ..scoring import score_pairs

    mentee_ids = Encoder.from_ids(mentees["id"].to_numpy(dtype=object))
    mentor_ids = Encoder.from_ids(mentors["id"].to_numpy(dtype=object))
    asked = framework if framework is not None else rules.framework_source()
    fw = resolve_framework(asked, mentees, mentors)  # issue 20: the programme may name the framework
    note = framework_note(asked, fw, mentees, mentors) if rules.weights.get("competency", 0) > 0 else None
    if note is not None:  # (the result's notes are the mentees table's)
        mentees.attrs["notes"] = [*mentees.attrs.get("notes", []), note]
    context = Context(framework=fw)
    demand, load = demand_and_load(mentees)

    def stop():  # past the limit before the pairs are scored: they are not (None: go on)
        return (stopped_round(mentors, mentees, rules, context, fw, mentee_ids, mentor_ids,
                              demand, load) if past(deadline) else None)

    if (stopped := stop()) is not None:  # (reading and validating took the limit)
        return stopped
    if len(mentees) * len(mentors) > knobs.LARGE_PAIRS:
        return _prepare_large(mentors, mentees, rules, fw, context, mentee_ids, mentor_ids)
    complete = Candidates.complete(len(mentees), len(mentors))
    masks = C.rule_masks(mentees, mentors, complete, rules.constraints, mentee_ids, mentor_ids)
    if (stopped := stop()) is not None:  # (... and the rules' masks)
        return stopped
    scores = score_pairs(mentees, mentors, complete, rules, context)
    masks.update(scores.ineligible)
    min_score = rules.constraints["min_score"]
    if not math.isnan(min_score):
        masks["min_score"] = scores.total < min_score
    which, names = C.first_rule(masks, len(complete))
    removed = C.removal_counts(which, names, complete)
    eligible = which < 0
    cand = complete.subset(eligible)

    lock_mask = np.zeros(len(cand), dtype=bool)
    if rules.constraints["locked"]:
        a, b = C.id_pairs(rules.constraints["locked"], mentee_ids, mentor_ids, "constraints.locked")
        refuse_ineligible_locks(a, b, which[complete.locate(a, b)], names, mentee_ids, mentor_ids)
        lock_mask[cand.locate(a, b)] = True

    side = _side_constraints(rules, mentees, mentors)
    problem = AssignmentProblem(cand, scores.total[eligible], mentors["capacity"].to_numpy(dtype=float),
                                demand=demand, load=load, locked=lock_mask,
                                coverage_first=bool(rules.constraints["coverage_first"]), side=side)
    contributions = pd.DataFrame(scores.contributions[eligible], columns=scores.features)
    data = {"mentees": mentees, "mentors": mentors, "rules": rules, "framework": fw,
            "scores": scores, "eligible": eligible, "complete": complete, "which_rule": which,
            "rule_names": names, "all_contributions": contributions,
            "missing": scores.missing[eligible], "requested_solver": rules.solver}
    data.update(problem=problem, mentee_ids=mentee_ids, mentor_ids=mentor_ids, removed=removed)
    return Prepared(problem, mentee_ids, mentor_ids, removed, contributions, data,
                    _choose_solver(rules, side, problem),
                    SolverOptions(seed=rules.seed, time_limit=rules.settings["time_limit"]))


def solve(prepared: Prepared, bonus: "np.ndarray | PairBonus | None" = None) -> Matching:
    """Solve a prepared pairing round.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    bonus : ndarray or PairBonus, optional
        Added to the objective only (for example a priority for mentees left unmatched last
        round, or continuity with a previous mentor): one number per eligible pair of
        ``prepared.problem``, or a :class:`PairBonus`, which works at every size. Every
        constraint reads the plain scores (reservation values, score floors); max-min
        maximises the worst score + bonus, then the total. The same on every source
        (:mod:`mentormatch.pipeline.bonus`): the reported scores and ``objective`` stay the
        plain scores (``objective`` is the plain total of the chosen pairs); ``status`` refers
        to the adjusted objective, whose value and bound are
        ``certificate["adjusted_objective"]`` and ``certificate["adjusted_bound"]`` (with
        ``certificate["objective"] == "score + bonus"`` and ``certificate["bonus_total"]``);
        ``bound`` and ``gap`` are left empty, since a bound on the adjusted objective says
        nothing about the plain one. Solvers other than ``"mip"`` with a constraint that
        reads the scores raise ``ValueError``.
    """
    if isinstance(bonus, PairBonus) and bonus.scale_mentee is not None:
        raise ValueError("PairBonus.scale_mentee scales the engine's inner problems (score "
                         "floors); an objective bonus adds to the score: use per_mentee, "
                         "per_mentor or listed pairs")
    if prepared.stopped is not None:  # the limit passed before the pairs were scored
        solution, counts = prepared.stopped
        data = dict(prepared.data) if bonus is None else {**prepared.data, "bonus": bonus}
        return _wrap(prepared.problem, stopped_with_bonus(prepared, solution, bonus), prepared.mentee_ids, prepared.mentor_ids,
                     prepared.removed, prepared.contributions, data, eligible_counts=counts)
    if prepared.scorer is not None:
        if bonus is not None and not isinstance(bonus, PairBonus):
            raise ValueError("at this size a bonus must be a PairBonus (per mentee and per listed "
                             "pair): the round has no array of every eligible pair")
        return _solve_large(prepared, bonus if bonus is not None and bonus.any() else None)
    p = prepared.problem
    if isinstance(bonus, PairBonus):
        bonus = bonus.on_pairs(p.pairs.mentee, p.pairs.mentor) if bonus.any() else None
    if bonus is None or not np.any(bonus):
        solution = _solve(p, prepared.solver, prepared.options, prepared)
    else:
        bonus = np.asarray(bonus, dtype=np.float64)
        if bonus.shape != p.score.shape or not np.isfinite(bonus).all():
            raise ValueError(f"bonus must hold one finite number per eligible pair ({len(p.score)})")
        # the objective is score + bonus, every constraint reads the plain scores, as on
        # blocks and bounds (pipeline/bonus.py)
        solution = solve_with_bonus(p, bonus, prepared.solver, prepared.options, prepared)
    data = dict(prepared.data)
    if bonus is not None:
        data["bonus"] = bonus
    return _wrap(p, solution, prepared.mentee_ids, prepared.mentor_ids, prepared.removed,
                 prepared.contributions, data)
