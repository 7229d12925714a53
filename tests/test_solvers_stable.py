"""Deferred acceptance against brute force: every matching of tiny instances enumerated, the
stable ones found with a plain-Python blocking test, mentee-optimality checked."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mentormatch.errors import ValidationError
from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints, get_solver
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.stable import blocking_pairs, solve_stable, stable_match


def instance(seed, n=5, m=3, density=0.75, ranks=False):
    rng = np.random.default_rng(seed)
    pairs = Candidates.from_mask(rng.random((n, m)) < density)
    score = np.round(rng.uniform(0, 1, len(pairs)), 1)  # coarse: ties happen
    cap = rng.integers(0, 3, m).astype(float)
    p = AssignmentProblem(pairs, score, cap)
    if ranks:
        er = rng.integers(1, 4, len(pairs)).astype(float)
        er[rng.random(len(pairs)) < 0.3] = np.nan
        mr = rng.integers(1, 4, len(pairs)).astype(float)
        mr[rng.random(len(pairs)) < 0.3] = np.inf
        p.mentee_rank, p.mentor_rank = er, mr
    return p


def lists(p):
    """Independent preference lists, as explicit dicts, from the documented tie-breaking."""
    P = p.pairs
    er = p.mentee_rank if p.mentee_rank is not None else np.full(len(P), np.nan)
    mr = p.mentor_rank if p.mentor_rank is not None else np.full(len(P), np.nan)

    def key(rank, k, other):
        r = rank[k]
        return (0, r) if np.isfinite(r) else (1, 0.0), -p.score[k], other

    mentee_pref = {i: sorted((int(P.mentor[k]) for k in range(len(P)) if P.mentee[k] == i),
                             key=lambda j: key(er, int(p.pairs.locate([i], [j])[0]), j))
                   for i in range(P.n_mentees)}
    mentor_pref = {j: sorted((int(P.mentee[k]) for k in range(len(P)) if P.mentor[k] == j),
                             key=lambda i: key(mr, int(p.pairs.locate([i], [j])[0]), i))
                   for j in range(P.n_mentors)}
    return mentee_pref, mentor_pref


def stable_matchings(p):
    """All stable matchings as dicts mentee -> mentor (or None), by enumeration."""
    mp, jp = lists(p)
    cap = np.floor(p.capacity).astype(int)
    out = []
    for combo in itertools.product(*[[None] + mp[i] for i in range(p.n_mentees)]):
        load = np.bincount([j for j in combo if j is not None], minlength=p.n_mentors)
        if np.any(load > cap):
            continue
        stable = True
        for i, j in ((i, j) for i in range(p.n_mentees) for j in mp[i]):
            cur = combo[i]
            if cur == j:
                continue
            if cur is not None and mp[i].index(cur) < mp[i].index(j):
                continue
            mine = [a for a in range(p.n_mentees) if combo[a] == j]
            if load[j] < cap[j] or any(jp[j].index(i) < jp[j].index(a) for a in mine):
                stable = False
                break
        if stable:
            out.append(dict(enumerate(combo)))
    return out


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("ranks", [False, True])
def test_mentee_optimal_against_enumeration(seed, ranks):
    p = instance(seed, ranks=ranks)
    sol = solve_stable(p)
    ours = {i: None for i in range(p.n_mentees)}
    for k in sol.chosen:
        ours[int(p.pairs.mentee[k])] = int(p.pairs.mentor[k])
    every = stable_matchings(p)
    assert ours in every
    mp, _ = lists(p)

    def rank(i, j):
        return len(mp[i]) if j is None else mp[i].index(j)

    for other in every:
        for i in range(p.n_mentees):
            assert rank(i, ours[i]) <= rank(i, other[i])
    assert sol.certificate["blocking_pairs"] == 0 and sol.status == "feasible"
    assert sol.objective == pytest.approx(p.score[sol.chosen].sum())


@pytest.mark.parametrize("seed", range(10))
def test_blocking_pairs_matches_enumeration_on_any_matching(seed):
    p = instance(seed, ranks=seed % 2 == 1)
    mp, jp = lists(p)
    cap = np.floor(p.capacity).astype(int)
    rng = np.random.default_rng(seed)
    # a random capacity-feasible matching
    combo, load = {}, np.zeros(p.n_mentors, int)
    for i in range(p.n_mentees):
        options = [j for j in mp[i] if load[j] < cap[j]] + [None]
        j = options[rng.integers(len(options))]
        combo[i] = j
        if j is not None:
            load[j] += 1
    chosen = np.array([p.pairs.locate([i], [j])[0] for i, j in combo.items() if j is not None], int)
    expected = []
    for k in range(len(p.pairs)):
        i, j = int(p.pairs.mentee[k]), int(p.pairs.mentor[k])
        if combo[i] == j:
            continue
        if combo[i] is not None and mp[i].index(combo[i]) < mp[i].index(j):
            continue
        mine = [a for a in combo if combo[a] == j]
        if load[j] < cap[j] or any(jp[j].index(i) < jp[j].index(a) for a in mine):
            expected.append(k)
    assert blocking_pairs(p, chosen).tolist() == expected


def test_zero_blocking_pairs_random_medium():
    rng = np.random.default_rng(3)
    mask = rng.random((300, 60)) < 0.5
    pairs = Candidates.from_mask(mask)
    p = AssignmentProblem(pairs, rng.random(len(pairs)), rng.integers(1, 5, 60).astype(float))
    chosen, _ = stable_match(p)
    assert len(blocking_pairs(p, chosen)) == 0
    assert np.all(np.bincount(p.pairs.mentor[chosen], minlength=60) <= p.capacity)
    assert np.all(np.bincount(p.pairs.mentee[chosen], minlength=300) <= 1)


def test_full_lists_1000_by_250_stable_by_an_independent_check():
    """Complete lists (strict scores, both sides rank by them): every mentee placed, no mentor
    over capacity, and no blocking pair, recomputed on the score matrix (a mentee preferring a
    mentor who has room or whose least-scored mentee scores below it). Speed is in benchmarks."""
    rng = np.random.default_rng(0)
    n, m = 1000, 250
    pairs = Candidates.complete(n, m)
    p = AssignmentProblem(pairs, rng.random(len(pairs)), np.full(m, 4.0))
    sol = get_solver("stable")(p, None)
    i, j = pairs.mentee[sol.chosen], pairs.mentor[sol.chosen]
    s = np.zeros((n, m))
    s[pairs.mentee, pairs.mentor] = p.score
    assert np.array_equal(np.sort(i), np.arange(n)) and np.bincount(j, minlength=m).max() <= 4
    own = np.empty(n)
    own[i] = s[i, j]
    worst = np.full(m, np.inf)
    np.minimum.at(worst, j, s[i, j])
    worst[np.bincount(j, minlength=m) < 4] = -np.inf
    assert not np.any((s > own[:, None]) & (s > worst[None, :]))
    assert sol.certificate["blocking_pairs"] == 0


def test_refuses_what_it_does_not_model():
    p = instance(0)
    p.side = SideConstraints(balanced_load=True)
    with pytest.raises(ValidationError, match="side constraints"):
        solve_stable(p)
    p = instance(0)
    p.demand = np.full(p.n_mentees, 2)
    with pytest.raises(ValidationError, match="demand"):
        solve_stable(p)
