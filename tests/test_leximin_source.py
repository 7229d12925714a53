"""Leximin over every pair of a source (solvers/leximin_source.py: the flow leximin on a set of
pairs, proven over every pair by its lexicographic certificate, solvers/leximin_steps.py)
against the flow leximin on the complete set (solvers/leximin.py) and brute force: the same
sorted scores and, under the tie rule, the same pairs."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, leximin_levels, leximin_source
from mentormatch.solvers.leximin import solve_leximin
from mentormatch.solvers.leximin_source import solve_leximin_source
from mentormatch.solvers.leximin_steps import LexSteps
from mentormatch.solvers.sources import BlockSource
from _support import locked_at_random
from strategies import feasible_assignments, violations

LEXIMIN = {"fairness": {"objective": "leximin", "groups": ["gender"]}, "time_limit": 300}


def levels(p: AssignmentProblem, chosen) -> list[int]:
    return sorted(np.round(p.score[np.asarray(chosen, np.int64)] * 10 ** 6).astype(np.int64).tolist())


def brute(p: AssignmentProblem) -> list[int]:
    bf = feasible_assignments(p)
    rows = bf.x[bf.feasible]
    count = rows.sum(1)
    return max(levels(p, np.flatnonzero(r)) for r in rows[count == count.max()])


def problem(seed: int, n: int, m: int, values=None, density: float = 0.6, demand: int = 1,
            locks: int = 0, cap: int = 4) -> AssignmentProblem:
    """A random problem; ``values``: the scores drawn from these (heavy ties), else six decimals."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n, m)) < density
    mask[np.arange(n), rng.integers(0, m, n)] = True
    pairs = Candidates.from_mask(mask)
    score = (rng.choice(values, len(pairs)) if values is not None
             else np.round(rng.uniform(0.01, 1.0, len(pairs)), 6))
    cap = rng.integers(1, cap, m).astype(float)
    locked = locked_at_random(pairs, cap, demand, locks, rng)
    return AssignmentProblem(pairs, score, cap, demand=np.full(n, demand), locked=locked)


@pytest.fixture(autouse=True)
def from_the_chosen_pairs(monkeypatch):
    """The rounds start from the max-min's chosen pairs alone, so that they must find the
    violators."""
    monkeypatch.setattr(leximin_source, "FIRST", "chosen")


#: How the flow leximin settles levels: (window limit, path searches on, levels per window when
#: recording, negative cycles cancelled per level). Path searches make forced steps (and single
#: levels proven by potentials, after cancelling cycles or by a min-cost flow); no path
#: searches make window steps, of one level or of several.
MODES = [(2 ** 62, True, 1, 16), (1, False, 1, 16), (2 ** 62, False, 4, 16), (2 ** 62, True, 1, 0)]


def on_source(p: AssignmentProblem, top_k: int | None = 1, mode=MODES[0]):
    """Leximin over ``p``'s pairs given as a block scorer and a source (rows of a dense matrix,
    ``-inf`` off the pairs), the max-min's flows on each mentee's ``top_k`` best pairs:
    (solution, positions of its pairs in ``p.pairs``), its pairs rechecked."""
    with mock.patch.object(leximin_levels, "_WINDOW_LIMIT", mode[0]), \
            mock.patch.object(leximin_levels, "_REROUTE", mode[1]), \
            mock.patch.object(leximin_levels, "_RECORD_WINDOW", mode[2]), \
            mock.patch.object(leximin_levels, "_CANCEL", mode[3]):
        return _on_source(p, top_k)


def _on_source(p: AssignmentProblem, top_k: int | None):
    n, m = p.n_mentees, p.n_mentors
    dense = np.full((n, m), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    lk = np.flatnonzero(p.locked)
    locked = (p.pairs.mentee[lk], p.pairs.mentor[lk]) if len(lk) else None
    blocks = lambda rows: dense[rows]
    out, sol = solve_leximin_source(blocks, BlockSource(blocks, n, m), p.capacity, n_mentees=n,
                                    n_mentors=m, demand=p.demand, locked=locked,
                                    options=SolverOptions(top_k=top_k), cover=bool(p.coverage_first))
    pos = p.pairs.locate(out.pairs.mentee[sol.chosen], out.pairs.mentor[sol.chosen])
    assert np.all(pos >= 0) and violations(p, pos) == []  # every constraint, recomputed
    assert np.all(p.locked[pos].sum() == p.locked.sum())  # the locks kept
    assert sol.objective == pytest.approx(float(p.score[pos].sum()))
    return sol, np.sort(pos)


CASES = [(seed, values) for seed in range(10) for values in (None, [0.2, 0.5, 0.7, 0.9])]


@pytest.mark.parametrize("seed,values", CASES)
def test_tiny_problems_equal_brute_force_and_the_complete_set(seed, values):
    p = problem(seed, 6, 3, values, locks=seed % 3)
    sol, pos = on_source(p)
    held = solve_leximin(p)
    assert sol.status == held.status == "optimal" and sol.certificate["holds"]
    assert levels(p, pos) == levels(p, held.chosen) == brute(p)
    assert pos.tolist() == np.sort(held.chosen).tolist()  # the same pairs (the tie rule)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("values", [None, [0.3, 0.6, 0.9], [0.25, 0.5, 0.55, 0.75, 1.0]])
def test_medium_problems_equal_the_complete_set(seed, values):
    """Ties in scores make window steps and tight pairs outside; continuous scores make forced
    steps; demands of two, locks, scarce and ample places; each way of settling levels."""
    p = problem(seed, 30 + 10 * (seed % 2), 9, values, density=0.5, demand=1 + seed % 2,
                locks=seed % 4, cap=(4, 9)[seed % 3 == 0])
    sol, pos = on_source(p, mode=MODES[seed % len(MODES)])
    held = solve_leximin(p)
    assert sol.status == held.status == "optimal"
    assert levels(p, pos) == levels(p, held.chosen)
    assert pos.tolist() == np.sort(held.chosen).tolist()
    assert sol.certificate["rounds"] >= 1 and sol.certificate["matched"] == len(pos)


def test_the_rounds_add_violators_and_see_tight_pairs():
    """With heavy ties and one pair per mentee to start from, the proof needs pairs the max-min
    did not hold (violators) and sees pairs of other optima outside the set (tight pairs)."""
    seen = {"violators": 0, "tight": 0}
    for seed in range(6):
        for values in (None, [0.3, 0.6, 0.9]):
            p = problem(seed, 30, 9, values, density=0.5, cap=9)
            sol, _ = on_source(p)
            seen["violators"] += sol.certificate["violators_added"]
            seen["tight"] += sol.certificate["tight_pairs_outside"]
    assert seen["violators"] > 0 and seen["tight"] > 0


def test_a_time_out_in_the_rounds_is_feasible_with_the_max_min_proven(monkeypatch):
    """The limit passing as the first round's flow leximin starts (the max-min's flows done):
    "feasible", the most pairs and the best worst pair those of the complete set's leximin."""
    import time

    from mentormatch.solvers import leximin_flow

    p = problem(3, 60, 12, None, density=0.6)
    n, m = p.n_mentees, p.n_mentors
    dense = np.full((n, m), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    blocks = lambda rows: dense[rows]
    real, inner, late = time.perf_counter, leximin_flow._flow_leximin, [0.0]

    def first_round(*args, **kwargs):
        late[0] = 1e7  # the clock jumps past the limit
        return inner(*args, **kwargs)

    monkeypatch.setattr(time, "perf_counter", lambda: real() + late[0])
    monkeypatch.setattr(leximin_flow, "_flow_leximin", first_round)
    out, sol = solve_leximin_source(blocks, BlockSource(blocks, n, m), p.capacity, n_mentees=n,
                                    n_mentors=m, options=SolverOptions(time_limit=1000))
    held = solve_leximin(p)
    assert late[0] and sol.status == "feasible" and sol.certificate["timed_out"] and sol.message
    assert len(sol.chosen) == len(held.chosen)  # the most pairs
    assert out.score[sol.chosen].min() == pytest.approx(p.score[held.chosen].min())  # max-min


def test_a_time_out_before_the_max_min_proves_nothing_it_did_not_reach():
    """At 1e-9 s the limit has passed before the max-min's first flow (s23: every flow has the
    deadline; until then the max-min ran to its end past it): "feasible", stopped at the time
    limit, at most the most pairs, within the capacities."""
    p = problem(3, 60, 12, None, density=0.6)
    n, m = p.n_mentees, p.n_mentors
    dense = np.full((n, m), -np.inf)
    dense[p.pairs.mentee, p.pairs.mentor] = p.score
    blocks = lambda rows: dense[rows]
    out, sol = solve_leximin_source(blocks, BlockSource(blocks, n, m), p.capacity, n_mentees=n,
                                    n_mentors=m, options=SolverOptions(time_limit=1e-9))
    held = solve_leximin(p)
    assert sol.status == "feasible" and sol.certificate["timed_out"] and "time limit" in sol.message
    mm = sol.certificate["maxmin"]  # its first flow was cut too (ab53104: it ran to its end)
    assert not mm["holds"] and mm.get("count_proven") is False and mm["threshold_bracket"] is None
    assert len(sol.chosen) <= len(held.chosen)
    Q = out.pairs
    assert np.all(np.bincount(Q.mentor[sol.chosen], minlength=m) <= p.capacity)
    assert np.all(dense[Q.mentee[sol.chosen], Q.mentor[sol.chosen]] == out.score[sol.chosen])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("bounds", [False, True])
def test_pair_on_the_scale_path_equals_the_complete_set(monkeypatch, seed, bounds):
    """``pair()`` forced onto the scale path (cached blocks, or feature bounds with exact
    scores only where the bound does not clear a pair): the complete set's leximin pairs,
    with a lock kept."""
    # the pairs are read, not the unmatched reasons: no exact re-solves for them (74 % of the time)
    monkeypatch.setattr(pl, "REASON_SOLVE_BUDGET", 0)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=seed)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))  # a real trade-off
    prep = pl.prepare(mentors, mentees)
    p = prep.problem
    k = np.flatnonzero(p.pairs.mentee == 3)
    worst = k[np.argmin(p.score[k])]
    lock = [[prep.mentee_ids.decode([3])[0], prep.mentor_ids.decode([int(p.pairs.mentor[worst])])[0]]]
    prog = {**LEXIMIN, "constraints": {"locked": lock}}
    whole = pl.pair(mentors, mentees, prog)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 100)
    monkeypatch.setattr(pl, "USE_BOUNDS", bounds)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0 if bounds else 10 ** 9)
    r = pl.pair(mentors, mentees, prog)
    assert r.certificate["method"].startswith("the flow leximin on a set of pairs")
    assert r.status == whole.status == "optimal"
    key = lambda x: sorted(map(tuple, x.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))
    assert key(r) == key(whole)
    assert tuple(lock[0]) in key(r)
    if bounds:  # exact scores only where the bound does not clear the pair
        assert r.certificate["pairs_scored"] < r.certificate["rounds"] * 150 * 40
    cap = mentors.set_index("id")["capacity"]
    load = r.pairs.groupby("mentor_id").size()
    assert (load <= cap.reindex(load.index)).all() and r.pairs["mentee_id"].is_unique


def replay(steps: LexSteps, i: int, j: int, lv: int) -> str:
    """A pair judged step by step, as the certificate states it: ``"violator"``, ``"tight"``
    or ``"out"`` (its first non-zero reduced cost is positive)."""
    n = steps.n
    k = int(np.searchsorted(steps.hi, lv, side="left"))
    pos = steps.pos[k]
    for q, row in enumerate(steps.rows):
        if pos == q - 0.5:
            return "out"  # closed by a zero step: cost 1, potentials 0
        if row[0] == "F":
            d = np.unpackbits(row[1])[:n + steps.m].astype(np.int64)
        else:
            d = np.asarray(row[1], np.int64)
        rc = int(d[i] - d[n + j])
        if pos == q:
            if row[0] == "F":
                return "violator" if rc + 1 <= 0 else "out"
            if lv not in row[2].tolist():
                return "violator"
            rc += int(row[3][row[2].tolist().index(lv)])
        if rc:
            return "violator" if rc < 0 else "out"
    return "tight" if pos == int(pos) else "out"  # (else closed by the last zero step)


@pytest.mark.parametrize("seed", range(20))
def test_the_certificate_judges_each_pair_as_its_steps_do(seed):
    """The O(1) judgement (nodes sorted by their potential vectors, the first difference as a
    range minimum) against a step-by-step replay, on random steps of every kind."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 12)), int(rng.integers(1, 9))
    level = 10
    steps = LexSteps(n, m, level)
    for _ in range(int(rng.integers(0, 9))):
        level += int(rng.integers(1, 4))
        kind = rng.integers(3)
        if kind == 0:
            steps.zero(level)
        elif kind == 1:
            steps.forced(level, rng.random(n + m + 2) < 0.5)
        else:
            top = level + int(rng.integers(0, 4))
            lv = np.unique(np.concatenate([[level], rng.integers(level, top + 1, 2)]))
            steps.window(level, top, lv, rng.integers(1, 4, len(lv)), rng.integers(-2, 3, n + m + 2))
            level = top
    lex = steps.finish()
    i = rng.integers(0, n, 300)
    j = rng.integers(0, m, 300)
    lv = rng.integers(10, level + 3, 300)
    viol, tight = lex.judge(i, j, lv)
    got = np.where(viol, "violator", np.where(tight, "tight", "out"))
    want = [replay(steps, int(a), int(b), int(c)) for a, b, c in zip(i, j, lv)]
    assert got.tolist() == want
    need = lex.needs_score(i, j, lv + rng.integers(0, 3, 300))  # a bound at or above the level
    assert not np.any((got != "out") & ~need)  # never clears a pair that matters


def test_the_same_pairs_whatever_the_order_of_the_rows(monkeypatch):
    """Synthetic people share features, so scores tie and several assignments are leximin-
    optimal (the 3,000 x 1,500 run had 18 pairs that could move): the tie rule picks one by
    the ids, not by the rows' order."""
    mentors, mentees = synthetic.organisation(n_mentees=120, n_mentors=40, seed=4)
    _same_pairs_any_row_order(monkeypatch, mentors.assign(capacity=np.minimum(mentors["capacity"], 2)),
                              mentees, LEXIMIN)


def _same_pairs_any_row_order(monkeypatch, mentors, mentees, programme):
    """``pair()`` on bounds from 100 pairs, the rows in order and shuffled: optimal, the same
    pairs; the first result."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 100)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    r = pl.pair(mentors, mentees, programme)
    s = pl.pair(mentors.sample(frac=1.0, random_state=2), mentees.sample(frac=1.0, random_state=3), programme)
    key = lambda x: sorted(map(tuple, x.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))  # noqa: E731
    assert r.status == s.status == "optimal" and key(r) == key(s)
    return r


# ---------------------------------------------------------------------------------------------
# coverage_first with mentees needing several mentors (s19h3): the most matched mentees first
# ---------------------------------------------------------------------------------------------
def covering(seed: int, n: int, m: int, values=None, density: float = 0.6, locks: int = 0,
             cap: int = 4) -> AssignmentProblem:
    """A random problem with demands of 1 to 3 and coverage_first (locks on mentees of any
    demand)."""
    p = problem(seed, n, m, values, density=density, demand=1, cap=cap)
    rng = np.random.default_rng(500 + seed)
    demand = rng.integers(1, 4, n).astype(float)
    locked = locked_at_random(p.pairs, p.capacity, 1, locks, rng)
    return AssignmentProblem(p.pairs, p.score, p.capacity, demand=demand, locked=locked,
                             coverage_first=True)


def brute_cover(p: AssignmentProblem) -> tuple[int, list[int]]:
    """Brute force: the most matched mentees, then the most pairs, then the sorted levels."""
    bf = feasible_assignments(p)
    rows = bf.x[bf.feasible]
    mentees = np.array([len(np.unique(p.pairs.mentee[r])) for r in rows])
    rows = rows[mentees == mentees.max()]
    count = rows.sum(1)
    return int(mentees.max()), max(levels(p, np.flatnonzero(r)) for r in rows[count == count.max()])


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("values", [None, [0.2, 0.5, 0.7, 0.9]])
def test_coverage_first_tiny_problems_equal_brute_force_on_the_complete_set_and_a_source(seed, values):
    """s18 refused these (a ValidationError); the flow leximin's source split in F (the most
    mentees) and R now solves them, held and over every pair of a source (the rounds starting
    from the max-min's chosen pairs alone), with the same pairs."""
    p = covering(seed, 6, 3, values, locks=seed % 3)
    held = solve_leximin(p)
    sol, pos = on_source(p, mode=MODES[seed % len(MODES)])
    mentees, best = brute_cover(p)
    for chosen in (held.chosen, pos):
        assert len(np.unique(p.pairs.mentee[np.asarray(chosen, np.int64)])) == mentees
        assert levels(p, chosen) == best
    assert sol.status == held.status == "optimal"
    assert pos.tolist() == np.sort(held.chosen).tolist()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("values", [None, [0.3, 0.6, 0.9]])
def test_coverage_first_medium_problems_equal_cpsat_and_the_complete_set(seed, values):
    """30-40 x 9 with demands 1-3, locks, each way of settling levels: the flow leximin (held
    and on a source) against CP-SAT's lexicographic steps after its solve maximising the
    matched mentees, an independent method."""
    import time

    from mentormatch.solvers.leximin_cp import _cp_leximin

    p = covering(seed, 30 + 10 * (seed % 2), 9, values, density=0.5, locks=seed % 4,
                 cap=(4, 9)[seed % 3 == 0])
    mode = MODES[seed % len(MODES)]
    with mock.patch.object(leximin_levels, "_WINDOW_LIMIT", mode[0]), \
            mock.patch.object(leximin_levels, "_REROUTE", mode[1]), mock.patch.object(leximin_levels, "_CANCEL", mode[3]):
        held = solve_leximin(p)
    sol, pos = on_source(p, mode=mode)
    cp = _cp_leximin(p, SolverOptions(seed=0, time_limit=600), time.perf_counter())  # a reference, not a timing: room for a loaded machine
    assert cp.status == held.status == sol.status == "optimal"
    count = lambda c: len(np.unique(p.pairs.mentee[np.asarray(c, np.int64)]))  # noqa: E731
    assert count(held.chosen) == count(pos) == count(cp.chosen)
    assert levels(p, held.chosen) == levels(p, pos) == levels(p, cp.chosen)
    assert pos.tolist() == np.sort(held.chosen).tolist()


def test_coverage_first_same_pairs_whatever_the_order_of_the_rows(monkeypatch):
    """Mentees needing 2 mentors, coverage_first, on bounds: the tie rule on the network that
    counts mentees picks by the ids, not by the rows' order; as many mentees as coverage-first's
    total flow, more than leximin without coverage_first."""
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    mentees = mentees.assign(mentors_needed=2)
    r = _same_pairs_any_row_order(monkeypatch, mentors, mentees,
                                  {**LEXIMIN, "constraints": {"coverage_first": True}})
    cover = pl.pair(mentors, mentees, {"constraints": {"coverage_first": True}})
    plain = pl.pair(mentors, mentees, LEXIMIN)
    assert r.pairs["mentee_id"].nunique() == cover.pairs["mentee_id"].nunique()
    assert r.pairs["mentee_id"].nunique() > plain.pairs["mentee_id"].nunique()
