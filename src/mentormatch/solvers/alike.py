"""The tie rule for answers under side constraints: among assignments that differ only by an
exchange of interchangeable people, one picked by the seeded ranks (:mod:`mentormatch.solvers.ties`
states the whole rule; this module is its part for the side-constraint engine, CP-SAT and
max-min with side constraints).

**Interchangeable people.** Two mentees are *alike* when they have the same eligible mentors at
exactly the same scores, demand 1, the same load and the same floor group, and neither is
locked. Two mentors are alike when they have the same eligible mentees at exactly the same
scores, the same capacity, minimum load, stipends, bonus and reservation value, and neither is
locked. If ``i ~ i'`` and ``j ~ j'`` then ``s[i, j] = s[i', j']``, so exchanging alike people
maps an assignment to one of the same total score that meets every constraint the first met
(budget, loads, incentives, group floors, balance, coverage): the two are *equal optima*, and
which one a MIP or CP-SAT returns depends on its search, on the pair set it was given and on
the order of its rows.

**Regrouping.** Among alike mentors whose mentees all have demand 1 and one same load (1, or
any other load all of them share), which mentees share a mentor changes nothing either: every
score, every mentor's load (so capacities, minimum loads, balance, stipends and budget) and
every mentee's group stay the same. One constraint can change: with incentives, a mentor's
payoff (stipends + bonus x the sum of its pairs' success probabilities) reads the scores of
*its* pairs, so a regrouping may leave a mentor below its reservation value. It is recomputed
per mentor on the regrouped pairs (step 2), exactly, not assumed.

**The rule.** The answer is put in a canonical form of its class under these moves:

1. in each class of alike mentors, the mentors' lists of mentees (as classes of mentees) are
   dealt in a fixed order (most mentees first, then a hash of the list) to the mentors in
   seeded-rank order;
2. in a class of alike mentors that may regroup, only the loads are kept: they are dealt to the
   mentors in seeded-rank order, largest first, and the class's mentees (ordered by class, then
   rank) fill them in that order; with incentives, only if every mentor's payoff on the
   regrouped pairs still reaches its reservation value (to 1e-9, a sum's rounding); otherwise
   the class keeps step 1's form (``unregrouped`` counts its mentors). The regrouping is one
   function of the class (its loads and its mentees' classes), so every answer of the class
   gets the same verdict;
3. in each class of alike mentees, the places the class holds (their mentors, in seeded-rank
   order) go to the class's lowest seeded ranks, in order; the others stay unmatched.

Ranks are positions in :func:`mentormatch.pipeline.seeded_order` of the ids (a keyed hash), so
the form depends on the ids, the seed and the class of the answer, never on row order nor on
which pair source or solver found it. The moves exchange alike people, so score,
status, bound and every constraint are unchanged; it is checked pair by pair before it is
returned (each new pair exists and scores exactly what the pair it replaces scored; otherwise
the answer is returned as found, with ``checked: False``). People are compared through a 64-bit
sum of mixes of their entries (:mod:`.alike_classes`), computed in one pass over the pairs: on
the complete set over its arrays, on the scale path over the source's blocks (the new pairs
alone are then scored exactly; nothing of the size of every pair is held), up to
:data:`SOURCE_PAIRS`.

Not covered: distinct optima that are not such exchanges (sums that happen to be equal, or
people alike in scores but not in settings, such as two copies with different minimum loads),
regroupings of a class whose canonical regrouping would leave a mentor below its reservation
value (another grouping may meet every payoff, but finding one is a bin-packing search, so the
answers of such a class keep their mentors' lists as the search chose them), and answers that
depend on time (a time limit, or the engine's budgets measured in seconds:
another run may stop at another assignment).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .alike_classes import classes, classes_of, mix, ranks_of
from .base import AssignmentProblem, Solution, grow

#: The solvers whose answers follow this rule in ``pair()`` and ``assign()``; max-min only when
#: its problem is not plain (side constraints or fractional loads: its plain case follows the
#: flow's tie rule). Leximin is not covered.
SOLVERS = ("mip", "cpsat")
MAXMIN_SOLVERS = ("maxmin",)


def _form(people: AssignmentProblem, a, b, ci, cj, cs, ri, rj):
    """The canonical pairs (mentees, mentors) of the assignment ``(ci, cj)`` of plain scores
    ``cs`` (module docstring, steps 1 to 3), and the number of mentors whose class did not
    regroup because the regrouping would leave one below its reservation value."""
    n, m = len(a), len(b)
    size_b = np.bincount(b, minlength=m)
    count = np.bincount(cj, minlength=m)
    # 1. mentors: each one's list of mentee classes, dealt within the class by rank
    sig = np.zeros(m, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(sig, cj, mix(a[ci].astype(np.uint64), np.zeros(len(ci), np.uint64)))
    by_rank = np.lexsort((rj, b))
    by_list = np.lexsort((rj, sig, -count, b))
    to = np.empty(m, np.int64)
    to[by_list] = by_rank
    nj = to[cj]
    # 2. a class of mentors whose mentees all have demand 1 and one same load: only its counts
    # matter, dealt by rank (most first); its mentees fill them. Where a reservation value reads
    # the scores (a bonus per success), the class regroups only if every mentor's payoff,
    # recomputed on the regrouped pairs, still reaches its reservation value
    fixed = np.zeros(m, bool)
    fixed[cj[np.asarray(people.demand)[ci] != 1]] = True
    stuck = np.zeros(m, bool)  # per class label: some mentor of the class cannot regroup
    np.logical_or.at(stuck, b, fixed)
    load_of = np.asarray(people.load, float)[ci]
    lo, hi = np.full(m, np.inf), np.full(m, -np.inf)  # per class label: its mentees' loads
    np.minimum.at(lo, b[cj], load_of)
    np.maximum.at(hi, b[cj], load_of)
    stuck |= lo < hi
    loose = (size_b[b] > 1) & ~stuck[b]
    refused = 0
    if loose.any():
        mr = np.flatnonzero(loose)
        ranked = mr[np.lexsort((rj[mr], b[mr]))]
        most = mr[np.lexsort((rj[mr], -count[mr], b[mr]))]
        load = np.zeros(m, np.int64)
        load[ranked] = count[most]
        e = np.flatnonzero(loose[cj])
        e = e[np.lexsort((ri[ci[e]], a[ci[e]], b[cj[e]]))]
        regrouped = nj.copy()
        regrouped[e] = np.repeat(ranked, load[ranked])
        short = _short(people.side, ci, regrouped, cs, m) & loose
        if short.any():  # such a class keeps step 1's form: its mentors' lists as found
            bad = np.zeros(m, bool)
            bad[b[short]] = True
            refused = int(np.count_nonzero(loose & bad[b]))
            regrouped = np.where(bad[b[nj]], nj, regrouped)
        nj = regrouped
    # 3. mentees (demand 1 where a class has several): the class's places to its lowest ranks,
    # in mentor rank order (a mentee's "set" is its one mentor, or none: those come last)
    held = np.bincount(ci, minlength=n)
    low = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(low, ci, rj[nj])
    sets = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        np.add.at(sets, ci, mix(rj[nj].astype(np.uint64), np.ones(len(ci), np.uint64)))
    member_rank = np.lexsort((ri, a))
    member_set = np.lexsort((ri, sets, low, -held, a))
    give = np.empty(n, np.int64)
    give[member_set] = member_rank
    ni = give[ci]
    return ni, nj, refused


def _short(side, ci, cj, cs, m: int) -> np.ndarray:
    """Per mentor: active in the pairs ``(ci, cj)`` of plain scores ``cs`` and paid less than
    its reservation value (:func:`~mentormatch.solvers.linear_rows.mentor_payoffs`) beyond 1e-9
    (the rounding of a sum taken in another order); none without incentives."""
    if "reservation" not in side.active() or side.bonus is None:
        return np.zeros(m, bool)  # the payoff reads no score: the counts, kept, decide it
    from .linear_rows import mentor_payoffs

    earn = mentor_payoffs(side, cj, cs, m)
    return (np.bincount(cj, minlength=m) > 0) & (np.asarray(side.reservation, float) - earn > 1e-9)


def _info(a, b):
    size_a, size_b = np.bincount(a), np.bincount(b)
    return {"alike_mentees": int((size_a[a] > 1).sum()), "alike_mentors": int((size_b[b] > 1).sum()),
            "moved": 0, "unregrouped": 0, "checked": True}


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
        (pairs that changed), ``unregrouped`` (mentors of classes that did not regroup: the
        regrouping would leave one below its reservation value), ``checked`` (every new pair
        exists with the score of the pair it replaces; when False the answer is returned
        unchanged).

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
    ri, rj = ranks_of(ranks, n, m)
    a, b = classes(problem, score, (ri, rj))
    info = _info(a, b)
    if not len(chosen) or (not info["alike_mentees"] and not info["alike_mentors"]):
        return chosen, info
    ni, nj, info["unregrouped"] = _form(problem, a, b, P.mentee[chosen], P.mentor[chosen],
                                        problem.score[chosen], ri, rj)
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


#: Above this many eligible pairs the scale path's answers are left as the engine found them:
#: the rule reads every pair once for its classes, which on bounds means scoring each one
#: exactly; ``certificate["ties"]`` says so. The engine's own column generation stops at the
#: same size (``route.LAGRANGE_PAIRS``).
SOURCE_PAIRS = 20_000_000


def canonical_on_source(reader, people: AssignmentProblem, chosen: tuple, ranks: tuple | None = None,
                        bonus=None) -> tuple[tuple, dict]:
    """:func:`canonical_alike` for an answer on a pair source (the scale path): nothing of
    the size of every pair is held.

    Parameters
    ----------
    reader : PairReader
        :class:`~mentormatch.solvers.rows.PairReader` of the round's eligible pairs, exact
        scores: its ``blocks()`` are read once (the classes), its ``at(mentee, mentor)`` scores
        the canonical pairs (``-inf`` where ineligible), to check them.
    people : AssignmentProblem
        Any problem over the same people (the engine's candidates): capacities, demands,
        loads, side constraints and locked pairs.
    chosen : (mentee, mentor, score)
        The answer's pairs and their plain scores.
    bonus : callable, optional
        ``bonus(mentee, mentor)``: what the solver added to the score.

    Returns
    -------
    (mentee, mentor, score) : the canonical pairs and their exact plain scores
    info : dict, as :func:`canonical_alike`'s

    Examples
    --------
    Two alike mentees, one place: the lower rank gets it.

    >>> from mentormatch.pairs import Candidates
    >>> from mentormatch.solvers.rows import ProblemRows
    >>> p = AssignmentProblem(Candidates.complete(2, 1), np.array([1.0, 1.0]), np.ones(1))
    >>> (i, j, s), info = canonical_on_source(ProblemRows(p), p, (np.array([1]), np.array([0]),
    ...                                                           np.array([1.0])))
    >>> i.tolist(), j.tolist(), s.tolist(), info["moved"], info["checked"]
    ([0], [0], [1.0], 1, True)
    """
    ci, cj, cs = (np.asarray(x) for x in chosen)
    n, m = people.n_mentees, people.n_mentors
    ri, rj = ranks_of(ranks, n, m)

    def seen():  # what the solver maximised
        for i, j, s in reader.blocks():
            yield i, j, (s if bonus is None else s + bonus(i, j))

    a, b = classes_of(seen(), people, ri, rj)
    info = _info(a, b)
    if not len(ci) or (not info["alike_mentees"] and not info["alike_mentors"]):
        return (ci, cj, cs), info
    ni, nj, info["unregrouped"] = _form(people, a, b, ci, cj, cs, ri, rj)
    want = ni * m + nj
    got = np.asarray(reader.at(ni, nj), np.float64)  # the new pairs' exact scores
    ok = len(np.unique(want)) == len(want) and bool(np.array_equal(got, cs))
    if ok and bonus is not None:
        ok = bool(np.array_equal(got + bonus(ni, nj), cs + bonus(ci, cj)))
    if not ok:
        info["checked"] = False
        return (ci, cj, cs), info
    info["moved"] = int(np.count_nonzero(~np.isin(want, ci * m + cj)))
    return (ni, nj, got), info


def on_candidates(problem: AssignmentProblem, solution: Solution, pairs: tuple, info: dict):
    """``solution`` (on ``problem``, a subset of the pairs) replaced by the assignment ``pairs``
    (mentee, mentor, exact score); pairs that ``problem`` lacks join it, unchosen pairs
    unchanged; ``certificate["ties"]`` records ``info``."""
    P = problem.pairs
    ni, nj, ns = pairs
    at = P.locate(ni, nj)
    lack = at < 0
    if lack.any():
        problem, _ = grow(problem, ni[lack], nj[lack], ns[lack])
        at = problem.pairs.locate(ni, nj)
    chosen = np.sort(at)
    objective = float(problem.score[chosen].sum()) if len(chosen) else 0.0
    cert = {**(solution.certificate or {}), "ties": {"rule": "alike people", **info}}
    return problem, dataclasses.replace(solution, chosen=chosen, objective=objective, certificate=cert)
