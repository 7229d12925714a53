""""Why not X" under ``fairness.objective`` maxmin and leximin (``report/forced_fair.py``): the
forced pair is priced by the programme's own objective, re-solved with the pair locked.

References: brute force over every assignment on tiny rounds (the most pairs, then the worst
pair and the total for max-min, the ascending sorted scores for leximin), and three HiGHS MILPs
(``test_hunt_s23.lex_milp``) with a budget or minimum loads. Each stated figure (the forced
optimum's worst pair, the total's drop, the first sorted score that changes) is recomputed
from the inputs; bounds (no re-solve: the round above the re-solve limit, the time limit
past) must hold the forced optimum's worst pair. Every source (complete set, blocks, bounds,
forced small) gives the same words and figures.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.report import forced, pricing

from _support import SOURCES, on_source
from test_checks_matrix_small import _organisation
from test_hunt_s23 import lex_milp


def brute(p, force=None):
    """Every assignment of ``p`` (unit loads, capacities, demands, locks; ``force`` a position
    held too) as (pairs, ascending scores); None when none is feasible."""
    P, s = p.pairs, np.asarray(p.score, float)
    starts = P.starts()
    held = np.asarray(p.locked, bool).copy()
    if force is not None:
        held[force] = True
    options = []
    for i in range(P.n_mentees):
        own = list(range(starts[i], starts[i + 1]))
        must = [q for q in own if held[q]]
        rows = [c for r in range(int(p.demand[i]) + 1) for c in itertools.combinations(own, r)
                if all(q in c for q in must)]
        options.append(rows)
    out = []
    for combo in itertools.product(*options):
        chosen = np.array([q for c in combo for q in c], np.int64)
        if np.any(np.bincount(P.mentor[chosen], minlength=P.n_mentors) > p.capacity + 1e-9):
            continue
        out.append((len(chosen), np.sort(s[chosen])))
    return out or None


def best(found, objective):
    """The optimum among ``brute``'s assignments: max-min's (pairs, worst, total), leximin's
    (pairs, sorted scores)."""
    if objective == "maxmin":
        key = lambda a: (a[0], a[1][0] if a[0] else np.inf, a[1].sum())  # noqa: E731
    else:
        key = lambda a: (a[0], tuple(a[1]))  # noqa: E731
    return max(found, key=key)


def first_change(ref, new, objective):
    depth = 1 if objective == "maxmin" else min(len(ref), len(new))
    for k in range(depth):
        if abs(ref[k] - new[k]) > 1e-6 * max(1.0, abs(ref[k])):
            return k
    return None


def check_row(a, ref, new, objective):
    """The alternative's row against the reference's and the forced optimum's (pairs, sorted
    scores): the worst pair, the total's drop, and the figure the words name."""
    text = a["text"]
    assert a["worst_low"] == pytest.approx(new[1][0], abs=1e-9) == a["worst_high"], text
    assert a["cost"] == pytest.approx(ref[1].sum() - new[1].sum(), abs=1e-6), text
    if new[0] < ref[0]:
        assert f"({new[0]} instead of {ref[0]})" in text
        return
    k = first_change(ref[1], new[1], objective)
    if k is not None:
        assert f"from {ref[1][k]:.4f} to {new[1][k]:.4f}" in text, text
        assert ("worst pair score" in text) == (k == 0), text
    elif objective == "maxmin" and ref[1].sum() - new[1].sum() > 1e-9:
        assert f"lowers the programme's total score by {ref[1].sum() - new[1].sum():.4f}" in text
    else:
        assert "equally good" in text, text
    assert "bounds" not in text


def _round(seed, objective, n=None, m=None):
    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(
        n_mentees=n or int(rng.integers(5, 8)), n_mentors=m or int(rng.integers(2, 4)), seed=seed)
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], int(rng.integers(1, 3))))
    return mentors, mentees, {"fairness": {"objective": objective}}


def _questions(r, complete):
    """Every (mentee, mentor) of an eligible pair the answer does not hold, with its position."""
    p = complete.problem
    have = set(zip(r.pairs["mentee_id"].astype(str), r.pairs["mentor_id"].astype(str)))
    out = []
    for q in range(len(p.pairs)):
        e = str(complete.mentee_ids.ids[p.pairs.mentee[q]])
        j = str(complete.mentor_ids.ids[p.pairs.mentor[q]])
        if (e, j) not in have:
            out.append((e, j, q))
    return out


def _asked(r, prepared, p, objective):
    """For each of :func:`_questions`: the "why not" row and the brute-force optimum of ``p``
    with the pair forced (None: infeasible)."""
    for e, j, q in _questions(r, prepared):
        a = r.explain(e, mentor=j).alternatives.iloc[0]
        found = brute(p, force=q)
        yield a, (None if found is None else best(found, objective))


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2400, 2401, 2402, 2404, 2406, 2407, 2411, 2414])
def test_why_not_states_the_change_in_the_programmes_objective_against_brute_force(seed, objective):
    """Tiny rounds (5-7 mentees, 2-3 mentors, capacity 1-2): every eligible pair the answer
    does not hold, asked "why not": its worst pair, total and first changed figure are the
    brute-force optimum's with the pair forced, on every source with the same words."""
    mentors, mentees, programme = _round(seed, objective)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    ref = best(brute(p), objective)
    texts = {}
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
            assert r.status == "optimal" and r.objective == pytest.approx(ref[1].sum(), abs=1e-6)
            for e, j, q in _questions(r, complete):
                a = r.explain(e, mentor=j).alternatives.iloc[0]
                found = brute(p, force=q)
                if found is None:
                    assert "cannot be forced" in a["text"]
                else:
                    check_row(a, ref, best(found, objective), objective)
                texts.setdefault((e, j), []).append((a["text"], a["cost"], a["worst_low"]))
    assert texts
    for key, seen in texts.items():
        assert len(seen) == len(SOURCES) and len(set(map(str, seen))) == 1, (key, seen)


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("seed", [2410, 2411, 2412, 2413])
def test_why_not_under_maxmin_with_side_constraints_against_milp(seed, kind):
    """Max-min with a budget or minimum loads (8-12 mentees): each listed alternative's forced
    worst pair and total drop are three MILPs' with the pair forced (``lex_milp``)."""
    rng = np.random.default_rng(seed)
    mentors, mentees = _organisation(seed, n=int(rng.integers(8, 13)), m=int(rng.integers(3, 6)))
    mentors = mentors.assign(min_capacity=0)
    rules = [{"budget": float(rng.integers(400, 1500))}, {}][seed % 2]
    if seed % 2:
        mentors = mentors.assign(min_capacity=np.minimum(1, mentors["capacity"]))
    programme = {"constraints": rules, "fairness": {"objective": "maxmin"}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    M, t, T = lex_milp(p)
    checked = 0
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
        assert r.status == "optimal" and r.objective == pytest.approx(T, abs=1e-6)
        for e, j, q in _questions(r, complete)[:: max(1, len(p.pairs) // 12)]:
            a = r.explain(e, mentor=j).alternatives.iloc[0]
            out = lex_milp(p, force=[q])
            if out is None:
                assert "cannot be forced" in a["text"], a["text"]
                continue
            m2, t2, T2 = out
            assert a["worst_low"] == pytest.approx(t2, abs=1e-6) == a["worst_high"], a["text"]
            assert a["cost"] == pytest.approx(T - T2, abs=1e-6), a["text"]
            if m2 == M and t2 < t - 1e-6:
                assert f"from {t:.4f} to {t2:.4f}" in a["text"], a["text"]
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("how", ["too_large", "past_limit"])
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2420, 2421, 2422])
def test_bounds_without_a_re_solve_hold_the_forced_optimums_worst_pair(monkeypatch, seed,
                                                                         objective, how):
    """No exact re-solve (the round above the re-solve limit, or the time limit past): the
    stated bounds hold the brute-force forced optimum's worst pair, are said to be bounds, and
    claim no total; below the optimum's worst pair the words say the objective falls."""
    mentors, mentees, programme = _round(seed, objective, n=6, m=3)
    if how == "past_limit":  # (a limit the user set: with none, max-min's flows have none)
        programme["time_limit"] = 60.0
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    ref = best(brute(p), objective)
    r = mm.pair(mentors, mentees, programme)
    if how == "too_large":
        monkeypatch.setattr(pricing, "ALTERNATIVE_SOLVE_PAIRS", 0)
    else:
        monkeypatch.setattr(forced, "past_limit", lambda options: True)
    checked = 0
    for e, j, q in _questions(r, complete):
        a = r.explain(e, mentor=j).alternatives.iloc[0]
        if "cannot be forced" in a["text"]:
            continue
        assert "(bounds:" in a["text"] and np.isnan(a["cost"]), a["text"]
        found = brute(p, force=q)
        assert found is not None
        new = best(found, objective)
        assert new[1][0] <= a["worst_high"] + 1e-9, a["text"]
        assert a["worst_high"] == pytest.approx(p.score[q])
        if not np.isnan(a["worst_low"]):
            assert a["worst_low"] <= new[1][0] + 1e-9, a["text"]
        if p.score[q] < ref[1][0] - 1e-6:
            assert "lowers" in a["text"], a["text"]
        checked += 1
    assert checked > 0


# ---------------------------------------------------------------------------------------------
# "why is this mentee unmatched" under max-min and leximin, and under side constraints
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2350, 2400, 2404, 2411, 2430, 2431])
def test_unmatched_reasons_price_the_closest_call_in_the_programmes_objective(seed, objective):
    """A mentee left out because its mentors are full: the reason names, among its three
    best-scoring mentors, the one whose forcing leaves the best objective (brute force with
    each forced), and states that objective's change (pairs, worst pair, first sorted score
    that changes; the total's) as the brute force finds it; never the plain flow's "needed"
    score (s23's text priced it on the total). Every source gives the same reasons."""
    if seed == 2350:
        mentors, mentees = mm.synthetic.organisation(n_mentees=9, n_mentors=4, seed=seed)
        mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
        programme = {"fairness": {"objective": objective}}
    else:
        mentors, mentees, programme = _round(seed, objective, n=7, m=3)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    ref = best(brute(p), objective)
    seen, checked = [], 0
    for kind in SOURCES:
        with on_source(kind):
            r = mm.pair(mentors, mentees, programme)
            seen.append(sorted(map(tuple, r.unmatched.to_numpy().tolist())))
            for u in r.unmatched.itertuples():
                if u.reason_code != "capacity_taken":
                    continue
                assert "would have needed a score" not in u.reason, u.reason
                assert "the closest call, mentor " in u.reason, u.reason
                name = u.reason.split("the closest call, mentor ", 1)[1].split(" ", 1)[0]
                i = complete.mentee_ids.encode([u.mentee_id])[0]
                own = np.flatnonzero(p.pairs.mentee == i)
                top = own[np.argsort(-p.score[own], kind="stable")[:3]]
                priced = {}
                for q in top:
                    found = brute(p, force=int(q))
                    if found is not None:
                        priced[str(complete.mentor_ids.ids[p.pairs.mentor[q]])] = best(found, objective)
                key = (lambda a: (a[0], a[1][0], a[1].sum())) if objective == "maxmin" else \
                    (lambda a: (a[0], *a[1]))
                least = max(key(v) for v in priced.values())
                assert np.allclose(key(priced[name]), least, atol=1e-9), (u.reason, priced)
                new = priced[name]
                k = first_change(ref[1], new[1], objective)
                if new[0] < ref[0]:
                    assert f"({new[0]} instead of {ref[0]})" in u.reason
                elif k is not None:
                    assert f"from {ref[1][k]:.4f} to {new[1][k]:.4f}" in u.reason, u.reason
                drop = ref[1].sum() - new[1].sum()
                assert (f"{abs(drop):.4f}" in u.reason) or abs(drop) < 1e-9, u.reason
                checked += 1
    assert checked > 0
    assert all(s == seen[0] for s in seen), seen


@pytest.mark.parametrize("seed", [2440, 2441, 2442, 2443, 2444, 2445])
def test_full_with_better_scoring_pairs_is_said_only_when_true(seed):
    """Under a budget or minimum loads (and under max-min), "all eligible mentors
    are full with better-scoring pairs" holds when said: every eligible mentor of the mentee
    is full and its weakest pair in the answer scores at least the mentee's with it
    (recomputed from the answer and the eligible pairs)."""
    rng = np.random.default_rng(seed)
    mentors, mentees = _organisation(seed, n=int(rng.integers(14, 22)), m=int(rng.integers(3, 6)))
    mentors = mentors.assign(min_capacity=0)
    programme = [{"constraints": {"budget": float(rng.integers(600, 1500))}},
                 {"fairness": {"objective": "maxmin"}},
                 {}][seed % 3]
    if seed % 3 == 2:  # minimum loads
        mentors = mentors.assign(min_capacity=np.minimum(2, mentors["capacity"]))
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    r = mm.pair(mentors, mentees, programme)
    pos = p.pairs.locate(np.asarray(complete.mentee_ids.encode(list(r.pairs["mentee_id"])), np.int64),
                         np.asarray(complete.mentor_ids.encode(list(r.pairs["mentor_id"])), np.int64))
    weakest = np.full(p.pairs.n_mentors, np.inf)
    np.minimum.at(weakest, p.pairs.mentor[pos], p.score[pos])
    said = 0
    for u in r.unmatched.itertuples():
        if "full with better-scoring pairs" not in u.reason:
            continue
        i = complete.mentee_ids.encode([u.mentee_id])[0]
        own = np.flatnonzero(p.pairs.mentee == i)
        assert np.all(weakest[p.pairs.mentor[own]] >= p.score[own] - 1e-12), u.reason
        said += 1
    assert len(r.unmatched) > 0


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2400, 2404])
def test_a_stopped_re_solve_gives_bounds_stated_as_bounds(monkeypatch, seed, objective):
    """The forced re-solve stops with a gap (its status "feasible", its assignment kept): the
    text says so, claims no total, and its bounds hold the brute-force forced worst pair."""
    from mentormatch.solvers import SOLVERS, get_solver

    mentors, mentees, programme = _round(seed, objective, n=7, m=3)
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    r = mm.pair(mentors, mentees, programme)
    solve = get_solver(objective)

    def stopped(problem, options=None):
        import dataclasses

        return dataclasses.replace(solve(problem, options), status="feasible")

    monkeypatch.setitem(SOLVERS, objective, stopped)
    checked = 0
    for a, new in _asked(r, complete, p, objective):
        if new is None:
            continue
        assert "(bounds: the re-solve stopped with a gap)" in a["text"] and np.isnan(a["cost"]), a["text"]
        assert a["worst_low"] - 1e-9 <= new[1][0] <= a["worst_high"] + 1e-9, a["text"]
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2400, 2404, 2411])
def test_why_not_with_an_objective_bonus_reads_score_plus_bonus(seed, objective):
    """A round solved with an objective bonus (``pipeline.solve(prepared, bonus)``, as priority
    and continuity do): the objective is on score + bonus, and so is the forced re-solve's
    worst pair (brute force on score + bonus with the pair forced); the text says so."""
    import dataclasses

    mentors, mentees, programme = _round(seed, objective, n=7, m=3)
    prepared = pl.prepare(mentors, mentees, programme)
    p = prepared.problem
    bonus = np.round(np.random.default_rng(seed).uniform(0, 1.5, len(p.score)), 3)
    r = pl.solve(prepared, bonus)
    goal = dataclasses.replace(p, score=p.score + bonus)
    ref = best(brute(goal), objective)
    checked = 0
    for a, new in _asked(r, prepared, goal, objective):
        if new is None:
            continue
        assert "(scores plus the round's bonus)" in a["text"], a["text"]
        assert a["worst_low"] == pytest.approx(new[1][0], abs=1e-9) == a["worst_high"], a["text"]
        assert a["cost"] == pytest.approx(ref[1].sum() - new[1].sum(), abs=1e-6), a["text"]
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("seed", [2470, 2472, 2474])
def test_unmatched_closest_call_under_maxmin_with_minimum_loads_against_milp(seed):
    """Max-min with minimum loads (CP-SAT's three steps): each "capacity_taken" mentee's
    closest call states the figures of three MILPs with that pair forced (``lex_milp``):
    fewer pairs, or the worst pair it falls to, or the worst pair kept."""
    rng = np.random.default_rng(seed)
    mentors, mentees = _organisation(seed, n=int(rng.integers(10, 16)), m=int(rng.integers(3, 5)))
    mentors = mentors.assign(min_capacity=np.minimum(1, mentors["capacity"]))
    programme = {"fairness": {"objective": "maxmin"}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    M, t, T = lex_milp(p)
    r = mm.pair(mentors, mentees, programme)
    assert r.status == "optimal" and r.objective == pytest.approx(T, abs=1e-6)
    checked = 0
    for u in r.unmatched.itertuples():
        assert "would have needed a score" not in u.reason, u.reason
        if "the closest call, mentor " not in u.reason:
            continue
        j = u.reason.split("the closest call, mentor ", 1)[1].split(" ", 1)[0]
        i = complete.mentee_ids.encode([u.mentee_id])[0]
        q = int(p.pairs.locate(np.array([i]), complete.mentor_ids.encode([j]))[0])
        m2, t2, T2 = lex_milp(p, force=[q])
        if m2 < M:
            assert f"({m2} instead of {M})" in u.reason, u.reason
        elif t2 < t - 1e-6:
            assert f"from {t:.4f} to {t2:.4f}" in u.reason and f"{abs(T - T2):.4f}" in u.reason, u.reason
        else:
            assert f"stays {t:.4f}" in u.reason and f"by {T - T2:.4f}" in u.reason, u.reason
        checked += 1
    assert checked > 0
