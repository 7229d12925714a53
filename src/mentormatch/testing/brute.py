"""Brute force for small problems: every assignment of an ``AssignmentProblem``, checked against
every hard and side constraint with the conventions of the exact CP-SAT model
(:mod:`mentormatch.solvers.cpsat_model`): the reference that "optimal" and "infeasible" claims are
checked against (see :mod:`mentormatch.testing`)."""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..solvers.base import AssignmentProblem
from ..solvers.linear_rows import ROW_TOL, floor_scales, mentee_best


@dataclass
class BruteForce:
    """Every assignment of a small problem. ``x`` is a bool matrix (assignments x pairs);
    ``feasible`` marks those meeting every constraint; ``total``, ``matched`` and ``worst``
    (lowest score among chosen pairs, +inf when none) are per assignment."""

    x: np.ndarray
    feasible: np.ndarray
    total: np.ndarray
    matched: np.ndarray
    worst: np.ndarray

    @property
    def any_feasible(self) -> bool:
        return bool(self.feasible.any())

    @property
    def best_total(self) -> float:
        return float(self.total[self.feasible].max())

    def best_total_among(self, mask: np.ndarray) -> float:
        return float(self.total[self.feasible & mask].max())


def feasible_assignments(problem: AssignmentProblem, limit: int = 200_000) -> BruteForce:
    """Enumerate every assignment of ``problem`` (each mentee takes a subset of its eligible
    pairs of size at most its demand) and check each against capacities (with loads),
    locks and every side constraint, with the conventions of :mod:`mentormatch.solvers.cpsat_model`.

    Raises ``ValueError`` when there are more than ``limit`` assignments.
    """
    P = problem.pairs
    n, npairs = P.n_mentees, len(P)
    starts = P.starts()
    options = []
    total_count = 1
    for i in range(n):
        mine = list(range(int(starts[i]), int(starts[i + 1])))
        d = int(problem.demand[i])
        opts = [c for r in range(0, min(d, len(mine)) + 1) for c in itertools.combinations(mine, r)]
        options.append(opts)
        total_count *= len(opts)
        if total_count > limit:
            raise ValueError(f"{total_count}+ assignments: too many to enumerate")
    x = np.zeros((total_count, npairs), dtype=bool)
    for row, combo in enumerate(itertools.product(*options)):
        for chosen in combo:
            x[row, list(chosen)] = True
    return _evaluate(problem, x)


def violations(problem: AssignmentProblem, chosen) -> list[str]:
    """The constraints (``"pairs"``, ``"demand"``, ``"capacity"``, ``"locked"`` or a side
    constraint family) that the assignment ``chosen`` (positions into ``problem.pairs``)
    breaks; empty when it meets them all."""
    chosen = np.asarray(chosen, dtype=np.int64)
    P = problem.pairs
    out = []
    if len(chosen) and (chosen.min() < 0 or chosen.max() >= len(P) or len(np.unique(chosen)) != len(chosen)):
        return ["pairs"]
    if np.any(np.bincount(P.mentee[chosen], minlength=P.n_mentees) > problem.demand):
        out.append("demand")
    x = np.zeros((1, len(P)), dtype=bool)
    x[0, chosen] = True
    for family in _evaluate(problem, x, by_family=True):
        out.append(family)
    return out


def _evaluate(problem: AssignmentProblem, x: np.ndarray, by_family: bool = False):
    P = problem.pairs
    n, m, npairs = P.n_mentees, P.n_mentors, len(P)
    total_count = len(x)
    xf = x.astype(np.float64)
    score = problem.score
    load = problem.load[P.mentee]
    onehot_m = np.zeros((npairs, m))
    onehot_m[np.arange(npairs), P.mentor] = 1.0
    onehot_e = np.zeros((npairs, n))
    onehot_e[np.arange(npairs), P.mentee] = 1.0
    used = (xf * load) @ onehot_m  # capacity used per mentor
    count = xf @ onehot_m  # mentees per mentor
    active = count > 0
    per_mentee = xf @ onehot_e
    matched_e = per_mentee > 0
    broken: dict[str, np.ndarray] = {}

    def require(family: str, holds: np.ndarray) -> None:
        broken[family] = broken.get(family, np.zeros(total_count, bool)) | ~holds

    require("capacity", np.all(used <= problem.capacity + 1e-9, axis=1))
    require("locked", np.all(x[:, problem.locked], axis=1))
    side = problem.side
    if side.min_load is not None:
        need = np.ceil(side.min_load - 1e-9)
        require("min_load", np.all(~active | (count >= need), axis=1))
    if side.budget is not None:
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        spend = active.astype(float) @ fixed + count @ per
        require("budget", spend <= side.budget + 1e-9)
    if side.reservation is not None:
        # the expected payoff: stipends + bonus x the pairs' success probabilities
        bonus = side.bonus if side.bonus is not None else np.zeros(m)
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        prob = np.clip(score / side.success_scale, 0.0, 1.0)
        earned = fixed + count * per + (xf * prob) @ onehot_m * bonus
        require("reservation", np.all(~active | (side.reservation <= 0) | (earned >= side.reservation - 1e-9), axis=1))
    if side.balanced_load:
        big = np.where(active, count, -np.inf).max(axis=1)
        small = np.where(active, count, np.inf).min(axis=1)
        require("balanced_load", ~active.any(axis=1) | (big - small <= 1))
    total = xf @ score
    groups = np.asarray(side.group) if side.group is not None else None
    if side.score_floor is not None and groups is not None:
        labels = np.unique(groups[groups >= 0])
        sizes = np.array([int(np.sum(groups == g)) for g in labels])
        own = np.searchsorted(labels, groups)
        own = np.where((groups >= 0) & (own < len(labels)), own, -1)
        # the model's row, sum_k (alpha |g| - n [k in g]) s_k x_k <= 0, held to ROW_TOL x its
        # scale (the largest term it can have over every pair): linear_rows.floor_scales, the
        # check's and HiGHS's rule
        scales = floor_scales(mentee_best(P.mentee, score, n), own, sizes, float(side.score_floor))
        for q, g in enumerate(labels):
            in_g = groups[P.mentee] == g
            g_total = (xf * score * in_g) @ np.ones(npairs)
            size = int(sizes[q])
            require("score_floor",
                    (side.score_floor * size * total - n * g_total) / scales[q] <= ROW_TOL)
    if side.share_floor is not None and groups is not None:
        for g in np.unique(groups[groups >= 0]):
            members = groups == g
            need = math.ceil(side.share_floor * members.sum() - 1e-9)
            require("share_floor", matched_e[:, members].sum(axis=1) >= need)
    worst = np.where(x, score, np.inf).min(axis=1) if npairs else np.full(total_count, np.inf)
    if by_family:
        return [f for f, bad in broken.items() if bad[0]]
    ok = ~np.any(np.array(list(broken.values())), axis=0)
    return BruteForce(x, ok, total, matched_e.sum(axis=1), worst)
