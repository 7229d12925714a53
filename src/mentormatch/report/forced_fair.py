""""Why not X" under the fairness objectives (``fairness.objective`` ``"maxmin"`` or
``"leximin"``): what forcing another pair does to the objective the programme optimises, not
to its plain total.

Both objectives rank an assignment first by its number of pairs, then by its ascending sorted
scores: max-min by the lowest (the worst pair), then by the total; leximin by the lowest, then
the second lowest, and so on (which fixes the total). A :class:`Standing` holds those figures.
The forced pair is priced by one re-solve with the round's own solver and the pair locked
(:func:`forced_standing`), against the answer's standing when it is proven optimal, else a
re-solve without the pair (:func:`reference_standing`). The verdict names the first figure
that changes (:func:`fair_verdict`), with the total as a secondary figure.

Without an exact re-solve (a round too large to re-solve once per alternative, the time limit
past or a re-solve it stopped), :func:`fair_bounds` gives bounds on the forced optimum's worst
pair, stated as bounds: at most the pair's own score (every assignment that holds the pair has
it among its scores), and at least the worst pair of an assignment that holds it with as many
pairs as the proven answer (a swap of the answer, or the stopped re-solve's own assignment),
since the forced optimum then has those many pairs too and a worst pair at least as good.

Works on the pieces of a result (the solved problem, its solution); never imports the result
class.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import forced
from .forced import FAIR_OBJECTIVES, _swap
from .words import ordinal

__all__ = ["FAIR_OBJECTIVES", "Standing", "standing", "reference_standing", "forced_standing",
           "fair_verdict", "fair_bounds", "FairPrice", "price_fair"]

_NAMES = {"maxmin": "max-min", "leximin": "leximin"}
#: Two scores within this relative distance are one level (the solvers' 1e-6 optimality gap).
_SAME = 1e-6


@dataclasses.dataclass(frozen=True)
class Standing:
    """An assignment as max-min and leximin rank it: ``pairs`` (the number of pairs, ranked
    first), ``scores`` (its pair scores, ascending: max-min reads the first, leximin each in
    turn) and ``total`` (their sum: max-min's last step)."""

    pairs: int
    scores: np.ndarray

    @property
    def worst(self) -> float | None:
        return float(self.scores[0]) if self.pairs else None

    @property
    def total(self) -> float:
        return float(self.scores.sum())


@dataclasses.dataclass(frozen=True)
class FairPrice:
    """One alternative priced under a fairness objective: ``verdict`` (the words after the
    mentor's state), ``cost`` (the exact drop in the total score, None unless exact: under these
    objectives a feasible answer bounds no total), ``worst_low``/``worst_high`` (bounds on the
    worst pair score of the optimum with the pair forced; equal when exact; None: not bounded)."""

    verdict: str
    cost: float | None = None
    worst_low: float | None = None
    worst_high: float | None = None


def standing(problem, chosen, bonus=None) -> Standing:
    """The :class:`Standing` of the assignment ``chosen`` (positions in ``problem.pairs``), on
    the scores plus ``bonus`` (one number per pair: the round's objective bonus) when given."""
    chosen = np.asarray(chosen, dtype=np.int64)
    goal = np.asarray(problem.score, float) + (0.0 if bonus is None else np.asarray(bonus, float))
    return Standing(len(chosen), np.sort(goal[chosen]))


def _solve(problem, solver: str, options, ids=None, bonus=None):
    """``(solution, None)`` of ``problem`` by ``solver`` (with the objective ``bonus``, as
    :mod:`mentormatch.pipeline.bonus` runs it), or ``(None, why)`` when infeasible (``why``
    naming people by id when ``ids``, mentee and mentor ids, are given)."""
    from ..errors import InfeasibleError, MentormatchError
    from ..solvers import SolverOptions, get_solver
    from ..solvers.blame import named

    options = options or SolverOptions()
    try:
        if bonus is None:
            sol = get_solver(solver)(problem, options)
        else:
            from ..solvers.fair import solve_maxmin
            from ..solvers.leximin import solve_leximin

            sol = {"maxmin": solve_maxmin, "leximin": solve_leximin}[solver](problem, options, bonus)
    except (MentormatchError, ValueError) as exc:
        if ids is not None and isinstance(exc, InfeasibleError):
            exc = named(problem, *ids, exc)
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if sol.status == "infeasible":
        return None, sol.message or "infeasible"
    return sol, None


def reference_standing(problem, solution, status: str, solver: str, options=None,
                       bonus=None) -> Standing | None:
    """The optimum's :class:`Standing` that forced pairs are compared with: the answer's when
    it is proven optimal, else one re-solve's when that one is; None when neither is (the
    time limit past or the re-solve stopped: bounds instead)."""
    if status == "optimal":
        return standing(problem, solution.chosen, bonus)
    if forced.past_limit(options):
        return None
    sol, _ = _solve(problem, solver, options, bonus=bonus)
    return standing(problem, sol.chosen, bonus) if sol is not None and sol.status == "optimal" else None


def forced_standing(problem, position: int, solver: str, options=None, ids=None, bonus=None):
    """``(standing, status, why)`` of the round re-solved by ``solver`` (the answer's own) with
    pair ``position`` locked besides its locks: ``standing`` of its assignment (the optimum's
    when ``status`` is ``"optimal"``, else a feasible assignment that holds the pair);
    ``(None, None, why)`` when forcing it is infeasible."""
    locked = np.asarray(problem.locked, bool).copy()
    locked[position] = True
    sol, why = _solve(dataclasses.replace(problem, locked=locked), solver, options, ids, bonus)
    if sol is None:
        return None, None, why
    return standing(problem, sol.chosen, bonus), sol.status, None


def _first_change(ref: Standing, new: Standing, solver: str) -> int | None:
    """The first sorted position where ``new`` differs from ``ref`` by more than the gap (the
    worst pair only, for max-min); None when they agree there."""
    depth = min(1 if solver == "maxmin" else ref.pairs, ref.pairs, new.pairs)
    a = np.asarray(ref.scores[:depth], float)
    apart = np.abs(a - np.asarray(new.scores[:depth], float)) > _SAME * np.maximum(1.0, np.abs(a))
    return int(np.argmax(apart)) if apart.any() else None


def fair_verdict(ref: Standing, new: Standing, solver: str) -> FairPrice:
    """The exact change in ``solver``'s objective when the pair (``score``) is forced: the
    first figure it ranks that changes (the number of pairs, the worst pair, for leximin the
    first sorted score that differs; for max-min then the total), and the total besides."""
    name = _NAMES[solver]
    drop = ref.total - new.total
    total = ("the total score is unchanged" if abs(drop) < 1e-9 else
             f"the total score {'falls' if drop > 0 else 'rises'} by {abs(drop):.4f}, to {new.total:.4f}")
    worst = new.worst
    if new.pairs < ref.pairs:
        head = (f"forcing it leaves {ref.pairs - new.pairs} fewer pair{'s' * (ref.pairs - new.pairs > 1)} "
                f"({new.pairs} instead of {ref.pairs}), which {name} counts first")
        return FairPrice(f"{head}; {total}", drop, worst, worst)
    k = _first_change(ref, new, solver)
    if k is not None and new.scores[k] < ref.scores[k]:
        a, b = float(ref.scores[k]), float(new.scores[k])
        if k == 0:
            head = f"forcing it lowers the worst pair score, which {name} raises first, from {a:.4f} to {b:.4f}"
        else:
            head = (f"forcing it lowers the {ordinal(k + 1)} lowest pair score from {a:.4f} to {b:.4f} "
                    f"(the {k} below it unchanged; {name} raises the lowest first)")
        return FairPrice(f"{head}; {total}", drop, worst, worst)
    if k is None and solver == "maxmin" and drop > 1e-9:
        return FairPrice(f"the worst pair score stays {ref.worst:.4f}; forcing it lowers the programme's "
                         f"total score by {drop:.4f}", drop, worst, worst)
    # the same figures (or, beyond the gap, better: the reference within its gap)
    return FairPrice(f"an equally good alternative under {name}: forcing it keeps {new.pairs} pairs and "
                     f"the worst pair at {'-' if worst is None else f'{worst:.4f}'}; {total}",
                     drop, worst, worst)


def fair_bounds(problem, solution, position: int | None, solver: str, reference: Standing | None,
                witness: tuple[Standing, str] | None = None, score: float | None = None,
                bonus=None) -> FairPrice:
    """Bounds on the forced optimum's worst pair without an exact re-solve (module docstring):
    at most the pair's own score; at least the worst pair of ``witness`` (a feasible
    assignment holding the pair, and how it was found), or else of the swap of
    :func:`mentormatch.report.forced.forced_cost_bounds`, when it has as many pairs as the
    proven optimum ``reference`` (None: not proven, no lower bound). Below the optimum's worst
    pair, forcing the pair lowers the objective whatever the rest, and the words say so."""
    name = _NAMES[solver]
    # (the pair, of score ``score`` when outside ``problem``, is among the forced assignment's)
    high = float(problem.score[position] + (0.0 if bonus is None else bonus[position])
                 if score is None else score)
    if witness is None and position is not None:
        swapped = _swap(problem, np.asarray(solution.chosen, np.int64), position)
        witness = None if swapped is None else (standing(problem, swapped, bonus), "a swap that holds it")
    low = how = None
    if witness is not None and reference is not None and witness[0].pairs == reference.pairs > 0:
        low, how = min(witness[0].worst, high), witness[1]
    text = f"with it forced, the worst pair score is at most {high:.4f} (the pair's own score)"
    if low is not None and high - low <= 1e-12:
        text = (f"with it forced, the worst pair score is {high:.4f} (at most the pair's own score, "
                f"reached by {how} with {reference.pairs} pairs)")
    elif low is not None:
        text += f" and at least {low:.4f} ({how}, {reference.pairs} pairs)"
    best = None if reference is None else reference.worst
    if best is not None and high < best - _SAME * max(1.0, abs(best)):
        text = (f"forcing it lowers {name}'s objective: {text}, below the optimum's {best:.4f}"
                + (" (or it leaves fewer pairs)" if low is None else ""))
    return FairPrice(text, None, low, high)


def price_fair(problem, solution, position: int, i: int, j: int, score: float, solver: str,
               status: str, cache: dict, options, ids, bounds: str | None, held: bool,
               bonus=None) -> FairPrice:
    """One alternative (mentee ``i``, mentor ``j``, of ``score``; ``position`` in
    ``problem.pairs``, -1 outside them: the scale path's solver pairs) priced under ``solver``'s
    objective. ``bounds`` None: exact, by :func:`forced_standing` against
    :func:`reference_standing` (kept in ``cache`` for the other alternatives), bounds where
    either stops with a gap; else (the reason, said after the bounds) :func:`fair_bounds`,
    with ``held``: a re-solve on ``problem``'s pairs with the pair joined and held as the
    witness (an assignment of the round, as the scale path's solver pairs are its pairs).
    ``bonus``: the round's objective bonus per pair of ``problem`` (priority, continuity): the
    objective reads score + bonus, and so do the figures, which say so."""
    price = _price_fair(problem, solution, position, i, j, score, solver, status, cache, options,
                        ids, bounds, held, bonus)
    if bonus is None or price.cost is None and price.worst_high is None:
        return price
    return dataclasses.replace(price, verdict=f"{price.verdict} (scores plus the round's bonus)")


def _price_fair(problem, solution, position, i, j, score, solver, status, cache, options, ids,
                bounds, held, bonus) -> FairPrice:
    if bounds is not None:  # no exact re-solve: bounds on the objective
        reference = standing(problem, solution.chosen, bonus) if status == "optimal" else None
        witness = None
        if held and not forced.past_limit(options):
            witness = _held_witness(problem, i, j, score, solver, options)
        price = fair_bounds(problem, solution, position if position >= 0 else None, solver,
                            reference, witness, None if bonus is not None else score, bonus)
        return dataclasses.replace(price, verdict=f"{price.verdict} ({bounds})")
    if "reference" not in cache:
        cache["reference"] = reference_standing(problem, solution, status, solver, options, bonus)
    reference = cache["reference"]
    new, how, why = forced_standing(problem, position, solver, options, ids, bonus)
    if new is None:
        return FairPrice(f"cannot be forced: {why}")
    if reference is not None and how == "optimal":
        return fair_verdict(reference, new, solver)
    price = fair_bounds(problem, solution, position, solver, reference,
                        (new, f"the re-solve's answer, status {how}"), bonus=bonus)
    stopped = "the re-solve" if how != "optimal" else "the re-solve without the pair"
    return dataclasses.replace(price, verdict=f"{price.verdict} (bounds: {stopped} stopped with a gap)")


def _held_witness(problem, i: int, j: int, score: float, solver: str, options):
    """``(standing, how)`` of ``solver``'s re-solve on ``problem``'s pairs with (``i``, ``j``)
    joined and held, or None when that is infeasible."""
    from ..solvers.base import grow

    p = int(problem.pairs.locate(np.array([i]), np.array([j]))[0])
    if p < 0:
        problem, _ = grow(problem, np.array([i]), np.array([j]), np.array([score]))
        p = int(problem.pairs.locate(np.array([i]), np.array([j]))[0])
    new, how, _ = forced_standing(problem, p, solver, options)
    return None if new is None else (new, f"a re-solve on the solver pairs with it held, status {how}")
