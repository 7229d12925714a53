"""Why a set of hard constraints cannot hold: findings with numbers and a relaxation each.

:func:`diagnose` never answers an opaque "no solution". It runs a list of necessary conditions,
each cheap and each checked exactly (counts, sums, max-flows), and returns one
:class:`~mentormatch.errors.Conflict` per violated condition. A condition that does not make
the problem infeasible on its own but leaves people out (a mentee with no eligible mentor, a
mentor whose minimum load can never be met) is reported too, because it is usually why the
remaining constraints bite.

Counting conventions (shared with :mod:`mentormatch.solvers.cpsat_model`): a mentor's *load* for
``min_load``, ``balanced_load`` and the per-mentee stipend is the number of its mentees; its
*capacity* is measured in the mentees' ``load`` units (a mentee with ``load = 0.5`` takes half
a slot).
"""
from __future__ import annotations

import math

import numpy as np
from ortools.graph.python import max_flow

from ..errors import Conflict
from .base import AssignmentProblem

__all__ = ["diagnose", "lock_conflicts", "locks_alone", "bipartite_max_flow", "max_count"]

_SHOW = 5  # names listed in one message before "and N more"


def _who(labels, idx: int, kind: str) -> str:
    """``"mentor 'M7'"`` with labels, ``"mentor #7"`` without."""
    if labels is None:
        return f"{kind} #{int(idx)}"
    return f"{kind} {str(labels[int(idx)])!r}"


def _listing(labels, idx, kind: str) -> str:
    names = [(f"#{int(i)}" if labels is None else repr(str(labels[int(i)]))) for i in idx[:_SHOW]]
    more = len(idx) - _SHOW
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _money(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def bipartite_max_flow(mentee: np.ndarray, mentor: np.ndarray, supply: np.ndarray,
                       capacity: np.ndarray) -> tuple[int, np.ndarray]:
    """Maximum number of pairs in a b-matching, by OR-Tools max-flow.

    Solves ``max sum_k x[k]`` subject to ``sum_{k: mentee[k]=i} x[k] <= supply[i]``,
    ``sum_{k: mentor[k]=j} x[k] <= capacity[j]``, ``x[k] in {0, 1}``. The network is built
    with array calls (no Python loop over pairs).

    Parameters
    ----------
    mentee, mentor : int arrays, one entry per pair
    supply : int array (n_mentees,), capacity : int array (n_mentors,)

    Returns
    -------
    (value, flow) : the maximum and the 0/1 flow on each pair.
    """
    n, m = len(supply), len(capacity)
    if len(mentee) == 0:
        return 0, np.zeros(0, dtype=np.int64)
    src, snk = n + m, n + m + 1
    tails = np.concatenate([np.full(n, src), n + np.arange(m), np.asarray(mentee)]).astype(np.int32)
    heads = np.concatenate([np.arange(n), np.full(m, snk), n + np.asarray(mentor)]).astype(np.int32)
    caps = np.concatenate([np.maximum(np.asarray(supply, np.int64), 0),
                           np.maximum(np.asarray(capacity, np.int64), 0),
                           np.ones(len(mentee), np.int64)])
    smf = max_flow.SimpleMaxFlow()
    smf.add_arcs_with_capacity(tails, heads, caps)
    status = smf.solve(src, snk)
    if status != smf.OPTIMAL:  # pragma: no cover - only on malformed input
        raise RuntimeError(f"max-flow failed with status {status}")
    flows = smf.flows(np.arange(n + m, n + m + len(mentee), dtype=np.int32))
    return int(smf.optimal_flow()), np.asarray(flows, dtype=np.int64)


def max_count(problem: AssignmentProblem, pairs_mask: np.ndarray | None = None) -> np.ndarray:
    """For each mentor, the most mentees it can take: the largest ``c`` such that its ``c``
    lightest eligible mentees (within ``pairs_mask``) fit in its capacity."""
    mentor = problem.pairs.mentor
    load = problem.load[problem.pairs.mentee]
    keep = np.ones(len(mentor), bool) if pairs_mask is None else pairs_mask
    order = np.lexsort((load[keep], mentor[keep]))
    mj, lj = mentor[keep][order], load[keep][order]
    out = np.zeros(problem.n_mentors, dtype=np.int64)
    if len(mj) == 0:
        return out
    starts = np.searchsorted(mj, np.arange(problem.n_mentors + 1))
    csum = np.cumsum(lj)
    before = np.concatenate([[0.0], csum])[starts[:-1]]
    # cumulative load within each mentor's block, lightest first
    within = csum - np.repeat(before, np.diff(starts))
    fits = within <= np.repeat(problem.capacity, np.diff(starts)) + 1e-9
    np.add.at(out, mj[fits], 1)
    return out


def lock_conflicts(problem: AssignmentProblem, mentee_labels=None,
                   mentor_labels=None, asked: int | None = None) -> list[Conflict]:
    """The ``locked`` findings of :func:`diagnose`: each mentor whose locked pairs' loads exceed
    its capacity, each mentee locked to more mentors than its demand (what every solver's lock
    check raises, :func:`mentormatch.solvers.flow.apply_locks`, so that the edge holding the ids
    names the people: :func:`mentormatch.solvers.blame.named`).

    ``asked``: the position in ``problem.pairs`` of a pair that a question forces ("why not
    X": locked in ``problem`` beside the user's locks). A finding it takes part in is worded
    from the question, not as a lock the user set: its mentor has no place (capacity 0), or
    no place left beside the user's locks; its mentee's locks already give it every mentor it
    needs. Every caller of "why not X" gets these words, on every source.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 2), np.ones(4), np.array([0.0, 1.0]),
    ...                       locked=np.array([True, False, False, True]))
    >>> [str(c) for c in lock_conflicts(p, ["e1", "e2"], ["m1", "m2"], asked=0)]
    ["mentor 'm1' has no place (capacity 0) (to fix: raise the capacity of mentor 'm1')"]
    >>> [c.detail for c in lock_conflicts(p, ["e1", "e2"], ["m1", "m2"])]
    ["mentor 'm1' has 1 locked pairs (load 1) but capacity 0"]
    """
    out: list[Conflict] = []
    P = problem.pairs
    locked = np.asarray(problem.locked, bool)
    load_pair = problem.load[P.mentee]
    lock_load = np.bincount(P.mentor[locked], weights=load_pair[locked], minlength=P.n_mentors)
    lock_count = np.bincount(P.mentor[locked], minlength=P.n_mentors)
    ai, aj = (-1, -1) if asked is None else (int(P.mentee[asked]), int(P.mentor[asked]))
    for j in np.flatnonzero(lock_load > problem.capacity + 1e-9):
        who = _who(mentor_labels, j, "mentor")
        cap = problem.capacity[j]
        over = math.ceil(lock_load[j] - cap - 1e-9)
        fix = f"drop {over} lock(s) on {who} or raise its capacity to {lock_load[j]:g}"
        if j == aj and cap <= 1e-9:
            out.append(Conflict("locked", f"{who} has no place (capacity {max(cap, 0.0):g})",
                                f"raise the capacity of {who}"))
        elif j == aj:
            out.append(Conflict(
                "locked", f"{who} has no place left: its {lock_count[j] - 1} locked pairs (load "
                f"{lock_load[j] - load_pair[asked]:g}) fill its capacity {cap:g}", fix))
        else:
            out.append(Conflict("locked", f"{who} has {lock_count[j]} locked pairs (load "
                                          f"{lock_load[j]:g}) but capacity {cap:g}", fix))
    lock_per_mentee = np.bincount(P.mentee[locked], minlength=P.n_mentees)
    for i in np.flatnonzero(lock_per_mentee > problem.demand):
        who = _who(mentee_labels, i, "mentee")
        fix = f"drop {lock_per_mentee[i] - problem.demand[i]} lock(s) on {who}"
        if i == ai:
            out.append(Conflict("locked", f"{who} is locked to {lock_per_mentee[i] - 1} mentors, "
                                          f"all it needs ({problem.demand[i]})", fix))
        else:
            out.append(Conflict("locked", f"{who} is locked to {lock_per_mentee[i]} mentors but "
                                          f"needs only {problem.demand[i]}", fix))
    return out


def locks_alone(mentee, mentor, n_mentees: int, capacity, demand=None, load=None) -> AssignmentProblem:
    """The problem of the locked pairs (``mentee``, ``mentor`` index arrays; repeats counted
    once) alone, each locked: its :func:`lock_conflicts` are the round's, without a candidate
    set (the scale path, and "why not X" for a pair the solver was not given)."""
    from ..pairs import Candidates

    pairs = Candidates.from_arrays(mentee, mentor, n_mentees, len(capacity))
    return AssignmentProblem(pairs, np.zeros(len(pairs)), np.asarray(capacity, np.float64),
                             demand, load, np.ones(len(pairs), bool))


def diagnose(problem: AssignmentProblem, mentee_labels=None, mentor_labels=None) -> list[Conflict]:
    """Explain, with numbers, why the hard constraints of ``problem`` cannot all hold.

    Each check is a necessary condition for a feasible assignment; a violated one yields a
    :class:`~mentormatch.errors.Conflict` ``(constraint, detail, relaxation)``:

    ``no_candidate``
        mentees with no eligible pair at all (they stay unmatched whatever the solver does).
    ``locked``
        a mentor whose locked pairs' loads exceed its capacity; a mentee locked to more mentors
        than its demand.
    ``min_load``
        a mentor whose minimum number of mentees exceeds the number it can take (eligible
        mentees that fit in its capacity); infeasible when locks force the mentor to take part.
    ``budget``
        ``sum_j stipend_fixed[j] + stipend_per_mentee[j] * max(min_load[j], locked[j])`` over
        the mentors the locks force into the programme exceeds the budget.
    ``share_floor``
        group ``g`` needs ``ceil(beta * |g|)`` matched mentees; the maximum, a max-flow over
        the group's eligible pairs with mentor capacities (minus other groups' locked loads),
        offers fewer. Also checked for all groups at once.
    ``reservation``
        ``bonus[j] * (sum of the best scores mentor j could get) < reservation[j]``: the mentor
        can never take part; infeasible when locks force it to.

    Parameters
    ----------
    problem : AssignmentProblem
    mentee_labels, mentor_labels : array-like of str, optional
        Ids used in the messages; default ``"mentee #i"`` / ``"mentor #j"``.

    Returns
    -------
    list of Conflict
        Empty when none of the checks finds a cause (the cause is then a combination of
        constraints; :mod:`mentormatch.solvers.cpsat` names it by removing constraints one by
        one).

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 1), np.ones(3), np.array([2.0]),
    ...                       locked=np.array([True, True, True]))
    >>> print(diagnose(p, mentor_labels=["M7"])[0].detail)
    mentor 'M7' has 3 locked pairs (load 3) but capacity 2
    """
    out: list[Conflict] = []
    P = problem.pairs
    n, m = problem.n_mentees, problem.n_mentors
    side = problem.side
    locked = np.asarray(problem.locked, bool)
    load_pair = problem.load[P.mentee]
    deg_mentee = np.bincount(P.mentee, minlength=n)

    # mentees with no eligible mentor
    none = np.flatnonzero((deg_mentee == 0) & (problem.demand > 0))
    if len(none):
        out.append(Conflict(
            "no_candidate",
            f"{len(none)} mentee(s) have no eligible mentor at all: "
            f"{_listing(mentee_labels, none, 'mentee')}",
            "relax the eligibility rules that remove their pairs"))

    out += lock_conflicts(problem, mentee_labels, mentor_labels)
    lock_count = np.bincount(P.mentor[locked], minlength=m)
    forced = lock_count > 0
    reach = max_count(problem)

    # minimum loads
    min_load = side.min_load if side.min_load is not None else np.zeros(m)
    for j in np.flatnonzero(min_load > reach):
        who = _who(mentor_labels, j, "mentor")
        eligible = int(np.sum(P.mentor == j))
        why = (f"only {eligible} eligible mentees" if reach[j] == eligible
               else f"only {reach[j]} of its {eligible} eligible mentees fit in capacity "
                    f"{problem.capacity[j]:g}")
        detail = f"{who} needs at least {min_load[j]:g} mentees but {why}"
        if forced[j]:
            out.append(Conflict("min_load", detail + ", and its locked pairs require it to take part",
                                f"lower {who}'s minimum to {reach[j]} or drop its locks"))
        else:
            out.append(Conflict("min_load", detail + ", so it cannot take part",
                                f"lower {who}'s minimum to {reach[j]}"))

    # budget against the mentors the locks force in
    if side.budget is not None:
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        need = np.maximum(min_load, lock_count)
        cost = float(np.sum((fixed + per * need)[forced]))
        if cost > side.budget + 1e-9:
            out.append(Conflict(
                "budget",
                f"budget {_money(side.budget)} cannot pay the minimum loads of the "
                f"{int(forced.sum())} mentors that the locked pairs require ({_money(cost)})",
                f"raise the budget to {_money(cost)} or drop locks"))
        elif side.budget < 0:
            out.append(Conflict("budget", f"budget {_money(side.budget)} is negative",
                                "raise the budget to 0 or more"))

    # incentives: the best a mentor could earn
    if side.reservation is not None:
        bonus = side.bonus if side.bonus is not None else np.zeros(m)
        order = np.lexsort((-problem.score, P.mentor))
        mj, sj = P.mentor[order], problem.score[order]
        starts = np.searchsorted(mj, np.arange(m + 1))
        rank = np.arange(len(mj)) - np.repeat(starts[:-1], np.diff(starts))
        # an upper bound on the expected successes: the best `reach[j]` positive scores
        take = (rank < np.repeat(reach, np.diff(starts))) & (sj > 0)
        fixed = side.stipend_fixed if side.stipend_fixed is not None else np.zeros(m)
        per = side.stipend_per_mentee if side.stipend_per_mentee is not None else np.zeros(m)
        from .linear import success_probability

        # the success probability is monotone in the score: the best scores give the most
        best_p = np.bincount(mj[take], weights=success_probability(sj[take], side), minlength=m)
        earn = fixed + per * np.asarray(reach, float) + bonus * best_p
        for j in np.flatnonzero(earn < side.reservation - 1e-9):
            who = _who(mentor_labels, j, "mentor")
            detail = (f"{who} can expect at most {earn[j]:.4g} (stipends {fixed[j]:g} + "
                      f"{per[j]:g} x {int(reach[j])} mentees, bonus {bonus[j]:g} x at most "
                      f"{best_p[j]:.4g} expected successes) but its reservation value is "
                      f"{side.reservation[j]:g}")
            fix = f"lower {who}'s reservation value to {earn[j]:.4g}"
            if best_p[j] > 0:
                fix += (f" or raise its bonus to "
                        f"{(side.reservation[j] - fixed[j] - per[j] * reach[j]) / best_p[j]:.4g}")
            if forced[j]:
                out.append(Conflict("reservation", detail + ", yet its locked pairs require it",
                                    fix + ", or drop its locks"))
            else:
                out.append(Conflict("reservation", detail + ", so it cannot take part", fix))

    # group share floors, by max-flow
    if side.share_floor is not None and side.group is not None:
        out.extend(_share_floor_conflicts(problem, mentee_labels, mentor_labels))
    return out


def _share_floor_conflicts(problem: AssignmentProblem, mentee_labels, mentor_labels) -> list[Conflict]:
    side, P = problem.side, problem.pairs
    beta = float(side.share_floor)
    group = np.asarray(side.group)
    names = side.group_names
    locked = np.asarray(problem.locked, bool)
    load_pair = problem.load[P.mentee]
    out: list[Conflict] = []
    groups = np.unique(group[group >= 0])
    total_need, grouped = 0, np.zeros(problem.n_mentees, bool)
    supply = np.ones(problem.n_mentees, dtype=np.int64)  # a mentee counts once as matched
    for g in groups:
        members = group == g
        size = int(members.sum())
        need = math.ceil(beta * size - 1e-9)
        total_need += need
        grouped |= members
        in_g = members[P.mentee]
        # capacity left after the locked loads of mentees outside the group, counted in
        # mentees of this group (lightest first), an upper bound for fractional loads
        other = np.bincount(P.mentor[locked & ~in_g], weights=load_pair[locked & ~in_g],
                            minlength=problem.n_mentors)
        cap = _count_capacity(problem, in_g, problem.capacity - other)
        offer, _ = bipartite_max_flow(P.mentee[in_g], P.mentor[in_g], supply * members, cap)
        if offer < need:
            gname = names[g] if names is not None and g < len(names) else f"group #{g}"
            lower = math.floor(offer / size * 100) / 100 if size else 0.0
            out.append(Conflict(
                "share_floor",
                f"group {gname!r} needs {need} places (share_floor {beta:g} x {size} mentees), "
                f"its eligible mentors offer {offer}",
                f"lower share_floor to {lower:.2f}"))
    if len(groups) > 1 and not out:
        in_any = grouped[P.mentee]
        cap = _count_capacity(problem, in_any, problem.capacity)
        offer, _ = bipartite_max_flow(P.mentee[in_any], P.mentor[in_any], supply * grouped, cap)
        if offer < total_need:
            out.append(Conflict(
                "share_floor",
                f"the {len(groups)} groups together need {total_need} places (share_floor "
                f"{beta:g}), the eligible mentors offer {offer}",
                f"lower share_floor or raise capacities by {total_need - offer} places"))
    return out


def _count_capacity(problem: AssignmentProblem, pairs_mask: np.ndarray, capacity: np.ndarray):
    """Per mentor, how many of the masked pairs' mentees fit in ``capacity`` (lightest first)."""
    sub = AssignmentProblem(problem.pairs, problem.score, np.maximum(capacity, 0.0),
                            demand=problem.demand, load=problem.load)
    return max_count(sub, pairs_mask)
