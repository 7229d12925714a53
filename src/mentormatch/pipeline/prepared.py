"""A pairing round ready to solve (:class:`Prepared`), and what its rules ask of the solver:
the side constraints (budget, incentives, minimum loads, group floors) and the solver's name."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..pairs import Encoder
from ..rules import Rules
from ..solvers import AssignmentProblem, SideConstraints, SolverOptions


def _side_constraints(rules: Rules, mentees: pd.DataFrame, mentors: pd.DataFrame) -> SideConstraints:
    cons, fair = rules.constraints, rules.fairness
    side = SideConstraints()

    def col(df, name):
        return df[name].to_numpy(dtype=np.float64) if name in df.columns else None

    if "min_capacity" in mentors.columns:
        mins = np.nan_to_num(col(mentors, "min_capacity"), nan=0.0)
        if (mins > 0).any():
            side.min_load = mins
    if not math.isnan(cons["budget"]):
        side.budget = float(cons["budget"])
        side.stipend_fixed = np.nan_to_num(col(mentors, "stipend_fixed"), nan=0.0) \
            if "stipend_fixed" in mentors.columns else np.zeros(len(mentors))
        side.stipend_per_mentee = np.nan_to_num(col(mentors, "stipend_per_mentee"), nan=0.0) \
            if "stipend_per_mentee" in mentors.columns else np.zeros(len(mentors))
    if cons["incentives"]:
        for name in ("bonus", "reservation_value"):
            if name not in mentors.columns:
                raise ValidationError(Problem("mentors", name, None, None, None,
                                              "this column, because constraints.incentives is on"))
        side.bonus = np.nan_to_num(col(mentors, "bonus"), nan=0.0)
        side.reservation = np.nan_to_num(col(mentors, "reservation_value"), nan=0.0)
        for name in ("stipend_fixed", "stipend_per_mentee"):  # stipends count toward the payoff
            if name in mentors.columns:
                setattr(side, name, np.nan_to_num(col(mentors, name), nan=0.0))
        # a pair's success probability is its score as a share of the best possible score
        side.success_scale = rules.score_span or 1.0
    side.balanced_load = bool(cons["balanced_load"])
    if not math.isnan(fair["score_floor"]) or not math.isnan(fair["share_floor"]):
        g = fair["floor_group"]
        if g not in mentees.columns:
            raise ValidationError(Problem("mentees", g, None, None, None,
                                          "the group column named by fairness.floor_group"))
        values = mentees[g].fillna("").astype(str)
        codes, names = pd.factorize(values.where(values != "", None), sort=True)
        side.group = codes.astype(np.int64)
        side.group_names = [str(n) for n in names]
        side.score_floor = None if math.isnan(fair["score_floor"]) else float(fair["score_floor"])
        side.share_floor = None if math.isnan(fair["share_floor"]) else float(fair["share_floor"])
    return side


def demand_and_load(mentees: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each mentee's demand (``mentors_needed``, whole, 1 where empty) and ``load`` (1 where
    empty), None where the table has no such column."""
    demand = (np.nan_to_num(mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0).astype(np.int64)
              if "mentors_needed" in mentees.columns else None)
    load = (np.nan_to_num(mentees["load"].to_numpy(dtype=float), nan=1.0)
            if "load" in mentees.columns else None)
    return demand, load


def _choose_solver(rules: Rules, side: SideConstraints, problem: AssignmentProblem) -> str:
    """The rules' solver, except that the default ``flow`` hands over to the solver that the
    rules need (documented in the README: nothing is silently ignored)."""
    name = rules.solver
    objective = rules.fairness["objective"]
    if objective != "total":
        return objective
    if name == "flow" and (side.active() or not problem.integral):
        return "mip"
    needs = list(side.active()) + ([] if problem.integral or name in ("random", "greedy")
                                   else ["fractional loads or capacities"])
    if name in UNCONSTRAINED_SOLVERS and needs:
        # refused here, naming the programme's setting, as one ValidationError whichever
        # solver (each refused on its own terms, ValueError or "problem, column 'side'")
        raise ValidationError(Problem(
            "programme", "solver", None, None, name,
            f"a solver that imposes {', '.join(needs)}: 'flow' (the default, which hands over to "
            f"'mip', the engine for side constraints at every size), 'mip' or 'cpsat'; solver "
            f"{name!r} cannot"))
    return name


#: The solvers of a plain assignment (capacities, eligibility, locks): no side constraint, and
#: whole loads for the exact ones (``random`` and ``greedy`` take fractional loads).
UNCONSTRAINED_SOLVERS = ("hungarian", "stable", "random", "greedy")


@dataclass
class Prepared:
    """A pairing round ready to solve: see :func:`prepare` and :func:`solve`.

    ``data`` is a dict of the round's :class:`~mentormatch.record.SolveRecord` fields so far
    (which ones depends on the path); :func:`solve` adds the solver's and makes it the
    result's ``record``. ``problem`` is None on the scale path (``scorer`` is set instead)."""

    problem: AssignmentProblem
    mentee_ids: Encoder
    mentor_ids: Encoder
    removed: pd.DataFrame
    contributions: pd.DataFrame
    data: dict[str, Any]
    solver: str
    options: SolverOptions
    scorer: Any = None  # the scale path: a _BlockScorer or a scale.BoundedScorer
    #: ``(solution, eligible counts)`` when the time limit passed before the pairs were
    #: scored (:mod:`mentormatch.pipeline.stopped`): the locks alone, "feasible" with a bound
    stopped: Any = None
