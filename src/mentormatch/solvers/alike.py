"""The tie rule for answers under side constraints: among assignments that differ only by an
exchange of interchangeable people, one picked by the seeded ranks (:mod:`mentormatch.solvers.ties`
states the whole rule; this module is its part for the side-constraint engine, CP-SAT and
max-min with side constraints).

**Interchangeable people.** Two mentees are *alike* when they have the same eligible mentors at
exactly the same scores, the same demand 1, the same load and the same floor group, and neither
is locked. Two mentors are alike when they have the same eligible mentees at exactly the same
scores, the same capacity, minimum load, stipends, bonus and reservation value, and neither is
locked. If ``i ~ i'`` and ``j ~ j'`` then ``s[i, j] = s[i', j']``, so exchanging alike people
maps an assignment to one of the same total score that meets every constraint the first met
(budget, loads, incentives, group floors, balance, coverage): the two are *equal optima*, and
which one a MIP or CP-SAT returns depends on its search, on the pair set it was given and on
the order of its rows.

**The rule.** The answer is put in a canonical form of its class under these exchanges:

1. in each class of alike mentors, the mentors' lists of mentees (as classes of mentees) are
   dealt in a fixed order (most mentees first, then a hash of the list) to the mentors in
   seeded-rank order;
2. in each class of alike mentees, the places the class holds (their mentors, in seeded-rank
   order) go to the class's lowest seeded ranks, in order; the others stay unmatched.

Ranks are positions in :func:`mentormatch.pipeline.seeded_order` of the ids (a keyed hash), so
the form depends on the ids, the seed and the class of the answer, never on row order nor on
which pair source or solver found it. The form is a permutation of alike people, so score,
status, bound and every constraint are unchanged; it is checked pair by pair before it is
returned. Not covered: distinct optima that are not such exchanges (sums that happen to be
equal), and answers found under a time limit that are not optimal (another run may stop
elsewhere).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .base import AssignmentProblem, Solution
from .ties import pair_key

#: The solvers whose answers follow this rule in ``pair()`` and ``assign()``; max-min only when
#: its problem is not plain (side constraints or fractional loads: its plain case follows the
#: flow's tie rule). Leximin is not covered.
SOLVERS = ("mip", "cpsat")
MAXMIN_SOLVERS = ("maxmin",)


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return pair_key(a, b, 7)


def _alike(lead: np.ndarray, other: np.ndarray, score: np.ndarray, size: int,
           attrs: list[np.ndarray], alone: np.ndarray) -> np.ndarray:
    """Class labels (int64, ``size`` of them): people with the same ``other`` entries at exactly
    the same scores and the same ``attrs``; ``alone`` people are classes of their own.
    ``lead`` must be sorted ascending and ``other`` ascending within each lead."""
    bits = (np.asarray(score, np.float64) + 0.0).view(np.uint64)  # -0.0 as 0.0
    count = np.bincount(lead, minlength=size)
    h = np.zeros(size, np.uint64)
    has = np.flatnonzero(count)
    if len(has):  # a sum of mixes per person: the same whatever the order of their entries
        with np.errstate(over="ignore"):
            h[has] = np.add.reduceat(_mix(other.astype(np.uint64), bits), np.cumsum(count)[has] - count[has])
    keys = [h, count, *[np.asarray(a) for a in attrs]]
    order = np.lexsort(keys[::-1])
    sk = [k[order] for k in keys]
    new = np.ones(size, bool)
    if size:
        new[1:] = np.any([k[1:] != k[:-1] for k in sk], axis=0)
    label = np.empty(size, np.int64)
    label[order] = np.cumsum(new) - 1
    label = np.where(alone, size + np.arange(size), label)
    # exact check: each one's entries equal their class representative's (the first member)
    _, rep_pos, inv = np.unique(label, return_index=True, return_inverse=True)
    rep = rep_pos[inv]
    start = np.searchsorted(lead, np.arange(size))
    off = np.arange(len(lead)) - start[lead]
    partner = start[rep[lead]] + off
    ok = count[rep[lead]] == count[lead]
    partner = np.where(ok, partner, 0)
    bad = ~ok | (other[partner] != other) | (score[partner] != score)
    wrong = np.unique(lead[bad])
    label[wrong] = 2 * size + wrong  # a hash that collided: alone, not merged
    return np.unique(label, return_inverse=True)[1].astype(np.int64)


def classes(problem: AssignmentProblem, score: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mentee and mentor class labels of alike people (module docstring); ``score`` defaults to
    the problem's (pass score + bonus when the solver saw that).

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(3, 2), np.array([1., 2, 1, 2, 3, 3]), np.ones(2))
    >>> a, b = classes(p)
    >>> bool(a[0] == a[1]), bool(a[0] == a[2]), bool(b[0] == b[1])
    (True, False, False)
    """
    P = problem.pairs
    n, m = P.n_mentees, P.n_mentors
    s = problem.score if score is None else np.asarray(score, np.float64)
    side = problem.side
    locked = np.asarray(problem.locked, bool)
    lock_i = np.zeros(n, bool)
    lock_i[P.mentee[locked]] = True
    lock_j = np.zeros(m, bool)
    lock_j[P.mentor[locked]] = True
    demand = np.asarray(problem.demand)
    group = np.asarray(side.group) if side.group is not None else np.zeros(n, np.int64)
    a = _alike(P.mentee, P.mentor, s, n, [np.asarray(problem.load, float), group],
               lock_i | (demand != 1))

    def per_mentor(x):
        return np.zeros(m) if x is None else np.nan_to_num(np.asarray(x, float), nan=-1.0)

    by_mentor = np.argsort(P.mentor, kind="stable")  # pairs are sorted by mentee already
    attrs = [np.asarray(problem.capacity, float)] + [
        per_mentor(getattr(side, f)) for f in ("min_load", "stipend_fixed", "stipend_per_mentee",
                                               "bonus", "reservation")]
    b = _alike(P.mentor[by_mentor], P.mentee[by_mentor], s[by_mentor], m, attrs, lock_j)
    return a, b


def canonical_alike(problem: AssignmentProblem, chosen: np.ndarray, ranks: tuple | None = None,
                    score: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """The canonical form of ``chosen`` (positions in ``problem.pairs``) under exchanges of
    alike people: see the module docstring.

    Parameters
    ----------
    problem : AssignmentProblem
        Every eligible pair (the form looks at people's whole rows and columns).
    chosen : ndarray of int
        An assignment, positions into ``problem.pairs``.
    ranks : (mentee ranks, mentor ranks), optional
        Each index's position in the seeded order of the ids; default the index itself (the
        pipelines solve in that order).
    score : ndarray, optional
        The scores the solver maximised (score + bonus), default the problem's.

    Returns
    -------
    chosen : ndarray of int, ascending
    info : dict
        ``alike_mentees``, ``alike_mentors`` (people in a class of two or more), ``moved``
        (pairs that changed), ``checked`` (every new pair exists with the score of the pair it
        replaces; when False the answer is returned unchanged).

    Examples
    --------
    Two alike mentees, one place: the lower rank gets it, whichever the solver picked.

    >>> from mentormatch.pairs import Candidates
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 1.0]), np.ones(1))
    >>> canonical_alike(p, np.array([1]))[0].tolist(), canonical_alike(p, np.array([0]))[0].tolist()
    ([0], [0])
    >>> canonical_alike(p, np.array([0]), ranks=(np.array([1, 0]), np.array([0])))[0].tolist()
    [1]
    """
    P = problem.pairs
    n, m = P.n_mentees, P.n_mentors
    chosen = np.sort(np.asarray(chosen, np.int64))
    ri, rj = ranks if ranks is not None else (np.arange(n), np.arange(m))
    ri, rj = np.asarray(ri, np.int64), np.asarray(rj, np.int64)
    a, b = classes(problem, score)
    size_a, size_b = np.bincount(a, minlength=n), np.bincount(b, minlength=m)
    info = {"alike_mentees": int((size_a[a] > 1).sum()), "alike_mentors": int((size_b[b] > 1).sum()),
            "moved": 0, "checked": True}
    if not len(chosen) or (not info["alike_mentees"] and not info["alike_mentors"]):
        return chosen, info
    ci, cj = P.mentee[chosen], P.mentor[chosen]
    # 1. mentors: each one's list of mentee classes, dealt within the class by rank
    sig = np.zeros(m, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(sig, cj, _mix(a[ci].astype(np.uint64), np.zeros(len(ci), np.uint64)))
    count = np.bincount(cj, minlength=m)
    by_rank = np.lexsort((rj, b))
    by_list = np.lexsort((rj, sig, -count, b))
    to = np.empty(m, np.int64)
    to[by_list] = by_rank
    nj = to[cj]
    # 2. mentees of a class of several (demand 1): the class's places to its lowest ranks
    ni = ci.copy()
    many = np.flatnonzero(size_a[a[ci]] > 1)
    if len(many):
        slots = many[np.lexsort((rj[nj[many]], a[ci[many]]))]
        slot_class = a[ci[slots]]
        first = np.searchsorted(slot_class, slot_class)
        members = np.flatnonzero(size_a[a] > 1)
        members = members[np.lexsort((ri[members], a[members]))]
        start = np.searchsorted(a[members], slot_class)
        ni[slots] = members[start + np.arange(len(slots)) - first]
    pos = P.locate(ni, nj)
    ok = bool(np.all(pos >= 0)) and len(np.unique(pos)) == len(pos)
    s = problem.score if score is None else np.asarray(score, np.float64)
    if ok:  # each new pair scores exactly what the pair it replaces scored
        ok = bool(np.array_equal(s[pos], s[chosen]) and np.array_equal(problem.score[pos], problem.score[chosen]))
    if not ok:
        info["checked"] = False
        return chosen, info
    out = np.sort(pos)
    info["moved"] = int(len(np.setdiff1d(out, chosen)))
    return out, info


def applies(solver: str, problem: AssignmentProblem) -> bool:
    """Whether ``solver``'s answers on ``problem`` follow this rule (:data:`SOLVERS`; max-min
    when its problem is not plain)."""
    if solver in SOLVERS:
        return True
    plain = not problem.side.active() and bool(np.all(problem.load == 1))
    return solver in MAXMIN_SOLVERS and not plain


def apply(problem: AssignmentProblem, solution: Solution, score: np.ndarray | None = None) -> Solution:
    """``solution`` in canonical form (:func:`canonical_alike`, ranks = indices), its objective
    recomputed and ``certificate["ties"]`` recording what the rule did."""
    chosen, info = canonical_alike(problem, solution.chosen, score=score)
    objective = float(problem.score[chosen].sum()) if len(chosen) else 0.0
    cert = {**(solution.certificate or {}), "ties": {"rule": "alike people", **info}}
    return dataclasses.replace(solution, chosen=chosen, objective=objective, certificate=cert)


#: Above this many eligible pairs the scale path's answers are left as the engine found them
#: (the classes need every pair in memory, 24 bytes each); ``certificate["ties"]`` says so.
FULL_PAIRS = 8_000_000


def apply_on_candidates(problem: AssignmentProblem, solution: Solution, full: AssignmentProblem,
                        score: np.ndarray | None = None) -> tuple[AssignmentProblem, Solution]:
    """:func:`apply` for an answer on a subset of the pairs (``problem``, the engine's
    candidates on the scale path): the form is computed on ``full`` (every eligible pair;
    ``score``: what the solver maximised on them) and the pairs it uses that ``problem`` lacks
    join it, unchosen pairs unchanged."""
    P, F = problem.pairs, full.pairs
    pos = F.locate(P.mentee[solution.chosen], P.mentor[solution.chosen])
    if np.any(pos < 0):  # cannot happen: the candidates are eligible pairs
        raise ValueError("the answer uses a pair that is not eligible")
    new, info = canonical_alike(full, pos, score=score)
    ni, nj = F.mentee[new], F.mentor[new]
    at = P.locate(ni, nj)
    lack = at < 0
    if lack.any():
        from ..pairs import Candidates

        mentee = np.concatenate([P.mentee, ni[lack]])
        mentor = np.concatenate([P.mentor, nj[lack]])
        order = np.lexsort((mentor, mentee))
        pairs = Candidates(mentee[order], mentor[order], P.n_mentees, P.n_mentors)
        scores = np.concatenate([problem.score, full.score[new[lack]]])[order]
        locked = np.concatenate([problem.locked, np.zeros(int(lack.sum()), bool)])[order]
        problem = dataclasses.replace(problem, pairs=pairs, score=scores, locked=locked)
        at = pairs.locate(ni, nj)
    chosen = np.sort(at)
    objective = float(problem.score[chosen].sum()) if len(chosen) else 0.0
    cert = {**(solution.certificate or {}), "ties": {"rule": "alike people", **info}}
    return problem, dataclasses.replace(solution, chosen=chosen, objective=objective, certificate=cert)
