"""The CP-SAT model of an assignment problem with side constraints (solved by
:mod:`mentormatch.solvers.cpsat`; the fairness solvers build on it).

The model (maximisation; ``k`` runs over the candidate pairs, ``j`` over mentors, ``i`` over
mentees, ``n_j = sum_{k: mentor[k]=j} x[k]`` is mentor ``j``'s number of mentees)::

    maximise    sum_k round(S * (score[k] + bonus[k])) * x[k]       (bonus: 0 unless given)
    subject to  sum_{k: mentor[k]=j} L(load[mentee[k]]) * x[k] <= C(capacity[j]) * active[j]
                active[j] <= n_j                                  (active  <=>  n_j >= 1)
                sum_{k: mentee[k]=i} x[k] <= demand[i]
                x[k] = 1 where locked[k]
      min_load      n_j >= min_load[j] * active[j]
      budget        sum_j fixed[j] * active[j] + per_mentee[j] * n_j <= budget
      reservation   active[j]  =>  fixed[j] + per_mentee[j] n_j + bonus[j] sum_{k: mentor[k]=j} p[k] x[k]
                    >= reservation[j], p = success_probability(score) (solvers.linear)
      balanced_load active[j]  =>  n_j in {L, L + 1} for one integer L (shared)
      score_floor   for each group g:  N * G_g >= alpha * N_g * T
                    where G_g = sum of the scores of g's pairs, T = sum of all chosen scores,
                    N_g = |g|, N = number of mentees. That is: the group's mean score over ALL
                    its mentees (an unmatched mentee counts 0) is at least alpha times the mean
                    over all mentees; cross-multiplied, so it stays linear.
      share_floor   for each group g:  #{i in g matched} >= ceil(beta * N_g)
      x[k], active[j] in {0, 1}

An objective bonus (priority, continuity: :mod:`mentormatch.pipeline.bonus`) is in the
objective only: the fairness solvers' levels and the total read ``score + bonus``, every
constraint above (the reservation values' success probabilities, the score floor's group
totals) the plain ``score``.

Group codes come from ``side.group`` (``-1``: in no group; such mentees count in ``N`` and ``T``
but have no floor of their own). A mentee is *matched* when it has at least one pair.

Integer scaling. CP-SAT works on integers:

* scores in the reservation rows: :func:`score_scale`, the smallest power of ten up to
  ``10**6`` that makes every score whole (else ``10**6``); in the score floor's rows,
  :func:`objective_scale` to at most ``10**6`` in the engine's unit.
* the objective's values (``score + bonus``) in the total that
  :func:`~mentormatch.solvers.cpsat.solve_cpsat` maximises and in the fairness solvers' levels
  (max-min's worst pair, leximin's levels): :func:`objective_scale`. The scores as given when a power of ten up to ``10**6`` makes them
  whole; else the scores in the engine's unit (times the power of two ``u`` of
  :func:`~mentormatch.solvers.unit.score_unit` that brings the largest mentee's best into
  ``[1, 2)``), then times the smallest power of ten up to ``10**7`` that makes them whole (else
  ``10**7``): ``S = u 10**p``. So scores of 1e-9 are solved, not rounded to 0, and scores times
  ``2**k`` give CP-SAT the same integers (or, both exact, proportional ones). The returned
  objective is recomputed from the chosen pairs in score units. With ``n_max`` the most pairs
  any assignment can hold, the true optimum exceeds the returned assignment's value by at most
  ``rounding_bound = n_max / S`` (0 when the scores are exact at scale ``S``), and
  ``bound = best_objective_bound / S + n_max / (2 S)``.
* loads and capacities (fractional: half a slot, 2.5 slots): scaled by the smallest power of ten
  up to ``10**4`` that makes them whole; beyond that, loads are rounded up and capacities down,
  so the scaled constraint never allows more than the real one.
* stipends (rounded up) and the budget (rounded down), the same way, up to ``10**2``.
* ``alpha`` as a fraction with denominator at most ``10**4``.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from ortools.sat.python import cp_model

from .base import AssignmentProblem
from .diagnose import max_count


def _power_scale(values: np.ndarray, max_power: int) -> tuple[int, bool]:
    """Smallest ``10**p`` (``p <= max_power``) making ``values`` whole; (scale, exact)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    for p in range(max_power + 1):
        s = 10 ** p
        v = values * s
        if np.all(np.abs(v - np.round(v)) <= 1e-9 * np.maximum(1.0, np.abs(v))):
            return s, True
    return 10 ** max_power, False


def score_scale(score: np.ndarray) -> int:
    """The integer scale ``S`` applied to scores (see the module docstring)."""
    s, _ = _power_scale(score, 6)
    big = float(np.max(np.abs(score))) if len(score) else 0.0
    while s > 1 and big * s > 2.0 ** 40:  # keep sums of many pairs far from int64 overflow
        s //= 10
    return s


#: The finest power of ten of :func:`objective_scale` on scores in the engine's unit (below 2):
#: a pair's rounding is then at most 5e-8 of the largest best score, so the rounding bound of a
#: total stays under the 1e-6 gap unless the chosen pairs average under 5 % of it.
OBJECTIVE_DIGITS = 7


def exact_at(score: np.ndarray, scale: float) -> bool:
    """Whether ``score * scale`` is whole, to 1e-9 (relative below 1: a score of 1e-12 is not 0).

    >>> exact_at(np.array([0.25, 0.5]), 100), exact_at(np.array([2.5e-10, 1.5e9]), 1)
    (True, False)
    """
    v = np.abs(np.asarray(score, np.float64) * scale)
    v = v[np.isfinite(v)]
    return bool(np.all(np.abs(v - np.round(v)) <= 1e-9 * np.minimum(v, 1.0)))


def open_pairs(problem: AssignmentProblem) -> np.ndarray:
    """The pairs whose mentor has a place (capacity above 0): the others are never chosen."""
    return np.asarray(problem.capacity, float)[problem.pairs.mentor] > 0


def objective_scale(problem: AssignmentProblem, digits: int | None = None,
                    score: np.ndarray | None = None) -> float:
    """The integer scale ``S`` of the scores in the total (see the module docstring);
    ``digits``: the most powers of ten in the engine's unit (default :data:`OBJECTIVE_DIGITS`;
    the score floor's rows take 6, to keep their integers as small as they were); ``score``:
    the values to scale, one per pair (default ``problem.score``; the objective's
    ``score + bonus`` under an objective bonus).

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([0.25, 0.5]), np.array([2.0]))
    >>> tiny = AssignmentProblem(p.pairs, p.score * 2.0 ** -40, p.capacity)
    >>> objective_scale(p), objective_scale(tiny)
    (100, 21990232555520.0)
    >>> shut = AssignmentProblem(Candidates.complete(1, 2), np.array([0.5, 6.2e-9]), np.array([0.0, 1.0]))
    >>> bool(objective_scale(shut) * 6.2e-9 > 1e6)  # the closed mentor's 0.5 coarsens nothing
    True
    """
    from .linear_rows import mentee_best
    from .unit import score_unit

    score = problem.score if score is None else np.asarray(score, np.float64)
    unit = 1.0
    whole = next((p for p in range(7) if exact_at(score, 10 ** p)), None)
    # a pair of a mentor of capacity 0 is never chosen: its score must not coarsen the others'
    # (:class:`CpsatModel` gives it no weight)
    room = open_pairs(problem)
    if whole is None:  # in the engine's unit
        best = mentee_best(problem.pairs.mentee[room], score[room], problem.n_mentees)
        unit = score_unit(best[np.isfinite(best)])
        most = OBJECTIVE_DIGITS if digits is None else int(digits)
        whole = next((p for p in range(most + 1)
                      if exact_at(score * unit, 10 ** p)), most)
    s = 10 ** whole
    big = float(np.max(np.abs(score[room]), initial=0.0))
    while s > 1 and big * unit * s > 2.0 ** 40:  # keep sums far from int64 overflow
        s //= 10
    return s if unit == 1.0 else unit * s


class CpsatModel:
    """The CP-SAT model of an :class:`AssignmentProblem`, reused by the fairness solvers.

    Attributes
    ----------
    model : cp_model.CpModel
    x : list of BoolVar, one per pair;  active : list of BoolVar, one per mentor
    objective : float array, the objective's value of each pair: ``score``, or ``score + bonus``
        when ``bonus`` (one number per pair, in the objective only) is given
    sc : int64 array, the scaled objective ``round(S * objective)``;  scale : ``S``
        (:func:`objective_scale` of ``objective`` unless ``scale`` is given)
    n_max : int, an upper bound on the number of pairs in any assignment
    """

    FAMILIES = ("locked", "min_load", "budget", "reservation", "balanced_load", "score_floor",
                "share_floor")

    def __init__(self, problem: AssignmentProblem, allowed: np.ndarray | None = None,
                 skip: frozenset[str] = frozenset(), scale: float | None = None,
                 bonus: np.ndarray | None = None):
        self.problem = problem
        P, side = problem.pairs, problem.side
        n, m, npairs = problem.n_mentees, problem.n_mentors, len(P)
        model = self.model = cp_model.CpModel()
        # the reservation rows keep score_scale (money, to that precision); the score floor's
        # rows the scores in the engine's unit to 6 digits, so that scores of 1e-9 are not 0;
        # both read the plain scores, the objective score + bonus
        level_scale = score_scale(problem.score)
        self.objective = (problem.score if bonus is None
                          else problem.score + np.asarray(bonus, np.float64))
        self.scale = objective_scale(problem, score=self.objective) if scale is None else scale
        # (no weight on a pair of a mentor with no place: never chosen, and its score may be
        # far above the scale's range, :func:`objective_scale`)
        self.sc = np.where(open_pairs(problem), np.round(self.objective * self.scale), 0).astype(np.int64)
        x = self.x = [model.new_bool_var(f"x{k}") for k in range(npairs)]
        active = self.active = [model.new_bool_var(f"active{j}") for j in range(m)]
        self.n_max = int(min(npairs, int(np.sum(problem.demand)), int(max_count(problem).sum())))

        if allowed is not None:
            for k in np.flatnonzero(~np.asarray(allowed, bool)):
                model.add(x[k] == 0)
        if "locked" not in skip:
            for k in np.flatnonzero(problem.locked):
                model.add(x[k] == 1)

        # capacity in scaled load units, rounded so that it never over-admits
        lscale, _ = _power_scale(np.concatenate([problem.load, problem.capacity]), 4)
        self.load_scale = lscale
        lint = np.ceil(problem.load * lscale - 1e-9).astype(np.int64)
        cint = np.floor(problem.capacity * lscale + 1e-9).astype(np.int64)

        order = np.argsort(P.mentor, kind="stable")
        bounds = np.searchsorted(P.mentor[order], np.arange(m + 1))
        self.by_mentor = [order[bounds[j]:bounds[j + 1]] for j in range(m)]
        self.count = []  # n_j as a linear expression
        for j, idx in enumerate(self.by_mentor):
            xs = [x[k] for k in idx]
            if not xs:
                model.add(active[j] == 0)
                self.count.append(0)
                continue
            model.add(cp_model.LinearExpr.weighted_sum(xs, lint[P.mentee[idx]].tolist())
                      <= int(cint[j]) * active[j])
            nj = cp_model.LinearExpr.sum(xs)
            model.add(active[j] <= nj)
            self.count.append(nj)

        starts = P.starts()
        self.by_mentee = [np.arange(starts[i], starts[i + 1]) for i in range(n)]
        for i, idx in enumerate(self.by_mentee):
            if len(idx) > problem.demand[i]:
                model.add(cp_model.LinearExpr.sum([x[k] for k in idx]) <= int(problem.demand[i]))
        self._matched = None

        if side.min_load is not None and "min_load" not in skip:
            for j in np.flatnonzero(side.min_load > 0):
                if len(self.by_mentor[j]):
                    model.add(self.count[j] >= int(math.ceil(side.min_load[j] - 1e-9)) * active[j])

        if side.budget is not None and "budget" not in skip:
            fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
            per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
            mscale, _ = _power_scale(np.concatenate([fixed, per, [side.budget]]), 2)
            self.money_scale = mscale
            fint = np.ceil(np.asarray(fixed) * mscale - 1e-9).astype(np.int64)
            pint = np.ceil(np.asarray(per) * mscale - 1e-9).astype(np.int64)
            terms, coefs = list(active), fint.tolist()
            terms += x
            coefs += pint[P.mentor].tolist()
            model.add(cp_model.LinearExpr.weighted_sum(terms, coefs)
                      <= int(math.floor(side.budget * mscale + 1e-9)))

        if side.reservation is not None and "reservation" not in skip:
            # payoff = fixed + per_mentee x n_j + bonus x sum of success probabilities (see
            # solvers.linear), each pair's share rounded down so that it never over-credits
            from .linear import success_probability

            bonus = side.bonus if side.bonus is not None else np.zeros(m)
            fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
            per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
            prob = success_probability(problem.score, side)
            for j in np.flatnonzero(side.reservation - fixed > 1e-12):
                idx = self.by_mentor[j]
                if bonus[j] <= 0 and per[j] <= 0:
                    model.add(active[j] == 0)
                    continue
                coef = np.floor(level_scale * (per[j] + bonus[j] * prob[idx]) + 1e-9).astype(np.int64)
                need = int(math.ceil(level_scale * (side.reservation[j] - fixed[j]) - 1e-6))
                model.add(cp_model.LinearExpr.weighted_sum([x[k] for k in idx], coef.tolist())
                          >= need).only_enforce_if(active[j])

        self.level = None
        if side.balanced_load and "balanced_load" not in skip:
            # one shared level L: an active mentor has L or L + 1 mentees, n_j = z_j + e_j with
            # z_j = L when active (else 0) and e_j <= active_j. With K active mentors the total
            # lies in [L K, L K + K]: redundant, but it tightens the search
            top = int(max(1, np.max(np.bincount(P.mentor, minlength=m)) if npairs else 1))
            level = self.level = model.new_int_var(0, top, "level")
            k_active = model.new_int_var(0, m, "n_active")
            model.add(k_active == cp_model.LinearExpr.sum(active))
            lk = model.new_int_var(0, top * m, "level_x_active")
            model.add_multiplication_equality(lk, [level, k_active])
            total = cp_model.LinearExpr.sum(x)
            model.add(total >= lk)
            model.add(total <= lk + k_active)
            for j in range(m):
                if len(self.by_mentor[j]):
                    base = model.new_int_var(0, top, f"base{j}")
                    extra = model.new_bool_var(f"extra{j}")
                    model.add(base == level).only_enforce_if(active[j])
                    model.add(base == 0).only_enforce_if(~active[j])
                    model.add(extra <= active[j])
                    model.add(self.count[j] == base + extra)

        groups = np.asarray(side.group) if side.group is not None else None
        if side.score_floor is not None and groups is not None and "score_floor" not in skip:
            frac = Fraction(float(side.score_floor)).limit_denominator(10_000)
            p, q = frac.numerator, frac.denominator
            gk = groups[P.mentee]
            floor_sc = np.where(open_pairs(problem), np.round(problem.score * objective_scale(problem, 6)),
                                0).astype(np.int64)  # (a closed mentor's pair is never chosen)
            for g in np.unique(groups[groups >= 0]):
                size = int(np.sum(groups == g))
                coef = q * n * (gk == g) * floor_sc - p * size * floor_sc
                nz = np.flatnonzero(coef)
                if len(nz):
                    model.add(cp_model.LinearExpr.weighted_sum([x[k] for k in nz],
                                                                coef[nz].tolist()) >= 0)

        if side.share_floor is not None and groups is not None and "share_floor" not in skip:
            matched = self.matched()
            for g in np.unique(groups[groups >= 0]):
                members = np.flatnonzero(groups == g)
                need = int(math.ceil(float(side.share_floor) * len(members) - 1e-9))
                model.add(cp_model.LinearExpr.sum([matched[i] for i in members]) >= need)

    def matched(self) -> list:
        """Per mentee, a 0/1 expression that is 1 only if the mentee has a pair (and can be 1
        whenever it has one)."""
        if self._matched is None:
            out = []
            for i, idx in enumerate(self.by_mentee):
                xs = [self.x[k] for k in idx]
                if not xs:
                    out.append(0)
                elif self.problem.demand[i] <= 1:
                    out.append(cp_model.LinearExpr.sum(xs))
                else:
                    y = self.model.new_bool_var(f"matched{i}")
                    self.model.add(y <= cp_model.LinearExpr.sum(xs))
                    out.append(y)
            self._matched = out
        return self._matched

    def score_expr(self):
        return cp_model.LinearExpr.weighted_sum(self.x, self.sc.tolist())

    def chosen(self, solver: cp_model.CpSolver) -> np.ndarray:
        vals = np.fromiter((solver.boolean_value(v) for v in self.x), dtype=bool, count=len(self.x))
        return np.flatnonzero(vals)

    def hint(self, chosen: np.ndarray) -> None:
        self.model.clear_hints()
        on = np.zeros(len(self.x), bool)
        on[chosen] = True
        for k, v in enumerate(self.x):
            self.model.add_hint(v, bool(on[k]))
