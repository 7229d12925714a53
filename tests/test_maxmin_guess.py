"""Max-min by certified flows (solvers/bottleneck.py) guesses each threshold from the pairs its
flows have held: the guess itself against brute force, and the answer against enumeration
whatever the guesses are (good, too low every time, or none: the bisection)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, bottleneck
from mentormatch.solvers.seen import Seen

from test_solvers_fair import instance, reference


def _brute_maxmin(i, j, s, supply, cap, M):
    """The largest ``v`` such that some ``M`` pairs, each scoring ``>= v``, fit the places."""
    best = -np.inf
    for rows in itertools.combinations(range(len(i)), M):
        rows = list(rows)
        if (np.bincount(i[rows], minlength=len(supply)) <= supply).all() and \
                (np.bincount(j[rows], minlength=len(cap)) <= cap).all():
            best = max(best, s[rows].min())
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_guess_is_the_max_min_of_the_pairs_seen(seed):
    rng = np.random.default_rng(seed)
    n, m = 5, 3
    P = Candidates.from_mask(rng.random((n, m)) < 0.8)
    score = np.round(rng.uniform(0, 1, len(P)), 1)  # coarse: ties
    p = AssignmentProblem(P, score, rng.integers(1, 3, m).astype(float))
    seen = Seen(p, p.capacity, np.ones(n, np.int64), m)
    half = rng.random(len(P)) < 0.5  # seen in two flows' problems, overlapping
    seen.add(AssignmentProblem(Candidates(P.mentee[half], P.mentor[half], n, m), score[half], p.capacity),
             score[half])
    seen.add(p, score)
    assert len(seen.code) == len(P)  # each pair once
    supply, cap = np.ones(n, np.int64), p.capacity.astype(np.int64)
    M = max((k for k in range(1, min(n, int(cap.sum())) + 1)
             if _brute_maxmin(P.mentee, P.mentor, score, supply, cap, k) > -np.inf), default=0)
    assert M > 0  # (every seed draws a mentee with an eligible pair)
    want = _brute_maxmin(P.mentee, P.mentor, score, supply, cap, M)
    lo = float(score.min())  # any witnessed lower end: the guess climbs from it
    assert seen.maxmin(M, lo, np.inf) == want
    # the upper end limits the guesses (every score below the max-min is reached), not the
    # pairs that hold them
    assert seen.maxmin(M, lo, want) == max([lo, *score[score < want]])


def _solve(p, monkeypatch, how):
    with monkeypatch.context() as mp:
        if how == "bisection":
            mp.setattr(bottleneck, "MAX_MISSES", 0)
        elif how == "too low":  # every guess at the witness: each probe finds the pairs itself
            mp.setattr(Seen, "maxmin", lambda self, M, lo, hi: lo)
        return bottleneck.solve_held(p, SolverOptions())


@pytest.mark.parametrize("seed", range(16))
def test_same_answer_whatever_the_guesses(seed, monkeypatch):
    # demands of 2 on every fourth: the worst pair runs over pairs, not mentees
    p = _seeded(seed)
    count, best_min, best_total, _ = reference(p)  # (every seed's locks leave one)
    answers = {how: _solve(p, monkeypatch, how) for how in ("guess", "bisection", "too low")}
    for how, sol in answers.items():
        assert sol.status == "optimal", how
        assert len(sol.chosen) == count
        if count:
            assert p.score[sol.chosen].min() == pytest.approx(best_min)
        assert sol.objective == pytest.approx(best_total)
        assert sorted(sol.chosen.tolist()) == sorted(answers["guess"].chosen.tolist())
    assert answers["guess"].certificate["flows"] <= 3 + _lock_flow(answers["guess"])
    assert answers["guess"].certificate["flows"] <= answers["bisection"].certificate["flows"]


def _lock_flow(sol) -> int:
    """1 when a locked pair scores below the max-min of the free pairs: the answer is then the
    flow at the lock's score (step 3 of bottleneck's docstring), one flow after the proof."""
    c = sol.certificate
    lo = c["threshold_bracket"][0] if c["threshold_bracket"] is not None else None
    return int(lo is not None and c["threshold"] is not None and c["threshold"] < lo)


@pytest.mark.parametrize("seed", [588, 777])
def test_a_lock_below_the_max_min_costs_one_flow_more(seed, monkeypatch):
    """Found by a longer hunt over test_same_answer_whatever_the_guesses's seeds (12 of 3,000,
    each with a lock): a locked pair below the free pairs' max-min takes one more flow (at the
    lock's score), which that test's bound of 3 did not allow; the answers are still
    enumeration's whatever the guesses. (Seed 777 takes 3 in all since s18: its first flow,
    weighted as the later ones, picks a witness of the max-min already, so no guess is flowed.)"""
    test_same_answer_whatever_the_guesses(seed, monkeypatch)
    sol = _solve(_seeded(seed), monkeypatch, "guess")
    assert _lock_flow(sol) == 1 and sol.certificate["flows"] == {588: 4, 777: 3}[seed]


def _seeded(seed):
    """The instance of test_same_answer_whatever_the_guesses's ``seed``."""
    p = instance(seed, n=7 if seed % 4 else 5, m=3, **({} if seed % 4 else {"demand": np.full(5, 2.0)}))
    if seed % 3 == 0:  # a few locks
        p.locked = np.random.default_rng(seed).random(len(p.pairs)) < 0.1
    return p


def test_guesses_that_miss_hand_over_to_the_bisection(monkeypatch):
    rng = np.random.default_rng(4)
    n, m = 40, 8
    p = AssignmentProblem(Candidates.complete(n, m), rng.uniform(0, 1, n * m), np.full(m, 3.0))
    good = _solve(p, monkeypatch, "guess")
    low = _solve(p, monkeypatch, "too low")
    assert low.certificate["guesses_missed"] == bottleneck.MAX_MISSES
    assert low.certificate["flows"] > good.certificate["flows"]
    assert low.status == good.status == "optimal"
    assert sorted(low.chosen.tolist()) == sorted(good.chosen.tolist())
    assert low.certificate["threshold"] == good.certificate["threshold"]


@pytest.mark.parametrize("seed", range(10))
def test_under_coverage_first_the_guess_counts_mentees(seed):
    """With mentees needing several mentors (coverage_first), the guess is the largest score at
    which the pairs seen match as many mentees as the first flow and hold ``M`` pairs, by brute
    force over subsets. Until s19 it ignored the mentees and guessed too high: on bounds, 60 x 20
    with demands of 2 ran into the 64-flow work limit and answered "feasible"
    (test_maxmin_cover_total)."""
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    P = Candidates.from_mask(rng.random((n, m)) < 0.8)
    score = np.round(rng.uniform(0, 1, len(P)), 1)
    cap = rng.integers(1, 3, m)
    dem = rng.integers(1, 4, n)
    p = AssignmentProblem(P, score, cap.astype(float), dem.astype(float), coverage_first=True)
    sol = bottleneck.solve_held(p)
    chosen = np.asarray(sol.chosen, np.int64)
    seen = Seen(p, p.capacity, dem, m, chosen)
    seen.add(p, score)
    M, C = len(chosen), len(np.unique(P.mentee[chosen]))
    assert seen.covered == C
    best = -np.inf
    for rows in itertools.combinations(range(len(P)), M):
        rows = list(rows)
        if ((np.bincount(P.mentee[rows], minlength=n) <= dem).all()
                and (np.bincount(P.mentor[rows], minlength=m) <= cap).all()
                and len(np.unique(P.mentee[rows])) == C):
            best = max(best, score[rows].min())
    assert M > 0
    assert seen.maxmin(M, float(score[chosen].min()), np.inf) == best
    assert sol.certificate["threshold"] == best
