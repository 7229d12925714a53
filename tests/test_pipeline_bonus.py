"""An objective bonus on every pair source (:mod:`mentormatch.pipeline.bonus`): the mentees'
``priority`` column is in the objective only, every constraint reads the plain scores, and the
complete set, blocks and bounds give the same pairs, objective and certificate keys.

Each case is a seeded 6 x 3 organisation solved by brute force (every assignment enumerated,
the constraints checked on the plain scores). The cases with a side constraint were picked
where counting the bonus as score in that constraint (what the complete set did before) gives
another optimum, which each test asserts, so that the check tells the two meanings apart.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import constraints as C
from mentormatch import pipeline as pl
from mentormatch.errors import InfeasibleError
from mentormatch.testing import feasible_assignments

from _support import SOURCES, best_rows, on_source, result_positions, table_violations


def _case(seed: int, side: str, objective: str = "total", solver: str = "flow"):
    """(mentors, mentees, programme): 6 mentees with priorities 0, 1 or 2 (weight 0.5), 3
    mentors of capacity at most 2, and the side constraint ``side``."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=3, seed=seed)
    rng = np.random.default_rng(seed)
    mentees = mentees.assign(priority=rng.choice([0.0, 1.0, 2.0], len(mentees)))
    mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
    programme = {"constraints": {"management_line": False, "priority_weight": 0.5},
                 "time_limit": 60, "solver": solver}
    if side == "incentives":  # reservation values that bind: half to 1.1 x the bonus
        programme["constraints"]["incentives"] = True
        mentors = mentors.assign(stipend_fixed=0.0, stipend_per_mentee=0.0,
                                 reservation_value=mentors["bonus"] * rng.choice([0.5, 0.8, 1.1], 3))
    elif side == "score_floor":
        programme["fairness"] = {"score_floor": 0.9, "floor_group": "region"}
    elif side == "budget":
        programme["constraints"]["budget"] = 150.0
    if objective != "total":
        programme.setdefault("fairness", {})["objective"] = objective
    return mentors, mentees, programme


def _solve_everywhere(mentors, mentees, programme) -> dict:
    out = {}
    for kind in SOURCES:
        with on_source(kind):
            out[kind] = mm.pair(mentors, mentees, programme)
        assert (out[kind].data.get("pair_source") or "complete") == kind
    return out


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


def _the_bonus(complete) -> np.ndarray:
    p = complete.problem
    return C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)


def _unique_best(bf, value) -> int:
    rows = np.flatnonzero(bf.feasible & (value >= value[bf.feasible].max() - 1e-9))
    assert len(rows) == 1, "the case was picked with a unique optimum"
    return int(rows[0])


def _check_reported(r, complete, extra, adjusted_best: float):
    """What every source reports with a bonus: plain scores and objective, no bound, the
    certificate's adjusted objective and bonus total."""
    p = complete.problem
    pos = result_positions(complete, r)
    assert np.all(pos >= 0)
    assert r.pairs["score"].to_numpy() == pytest.approx(p.score[pos], abs=1e-9)
    assert r.objective == pytest.approx(float(p.score[pos].sum()), abs=1e-9)
    assert r.bound is None and r.gap is None
    cert = r.certificate
    assert cert["objective"] == "score + bonus"
    assert cert["adjusted_objective"] == pytest.approx(adjusted_best, abs=1e-6)
    assert cert["bonus_total"] == pytest.approx(float(extra[pos].sum()), abs=1e-9)
    assert "adjusted_bound" in cert


@pytest.mark.parametrize("side,seed", [("incentives", 24), ("incentives", 30), ("incentives", 38),
                                       ("score_floor", 0), ("score_floor", 5), ("score_floor", 30)])
def test_the_sources_agree_with_a_bonus_and_a_constraint_that_reads_scores(side, seed):
    mentors, mentees, programme = _case(seed, side)
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _the_bonus(complete)
    bf = feasible_assignments(p)
    value = bf.x.astype(float) @ (p.score + extra)
    best = _unique_best(bf, value)
    # the bonus counted as score in the constraint would give another optimum (the same
    # enumeration: the same pairs, so the same rows)
    folded = feasible_assignments(dataclasses.replace(p, score=p.score + extra))
    fv = folded.x.astype(float) @ (p.score + extra)
    assert best not in np.flatnonzero(folded.feasible & (fv >= fv[folded.feasible].max() - 1e-9))
    results = _solve_everywhere(mentors, mentees, programme)
    for kind, r in results.items():
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        assert sorted(result_positions(complete, r).tolist()) == np.flatnonzero(bf.x[best]).tolist(), kind
        _check_reported(r, complete, extra, value[best])
        assert _key(r) == _key(results["complete"]), kind
        assert r.objective == pytest.approx(results["complete"].objective, abs=1e-9), kind


@pytest.mark.parametrize("seed", [1, 6, 10])
def test_maxmin_with_a_bonus_maximises_the_worst_score_plus_bonus_on_every_source(seed):
    """Max-min with a bonus: the most pairs, then the worst ``score + bonus``, then the total
    ``score + bonus`` (the complete set's meaning before, which blocks and bounds ignored)."""
    mentors, mentees, programme = _case(seed, "none", objective="maxmin")
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _the_bonus(complete)
    bf = feasible_assignments(p)
    adjusted = p.score + extra
    ok = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
    worst = np.array([adjusted[row].min(initial=np.inf) for row in bf.x])
    ok &= worst >= worst[ok].max() - 1e-9
    value = bf.x.astype(float) @ adjusted
    best = _unique_best(dataclasses.replace(bf, feasible=ok), value)
    plain_worst = np.array([p.score[row].min(initial=np.inf) for row in bf.x])
    most = bf.feasible & (bf.matched == bf.matched[bf.feasible].max())
    plain_ok = most & (plain_worst >= plain_worst[most].max() - 1e-9)
    plain_best = np.flatnonzero(plain_ok & (bf.x.astype(float) @ p.score
                                            >= (bf.x.astype(float) @ p.score)[plain_ok].max() - 1e-9))
    assert best not in plain_best  # the bonus moves max-min's pairs in this case
    results = _solve_everywhere(mentors, mentees, programme)
    for kind, r in results.items():
        assert sorted(result_positions(complete, r).tolist()) == np.flatnonzero(bf.x[best]).tolist(), kind
        _check_reported(r, complete, extra, value[best])
        assert _key(r) == _key(results["complete"]), kind


@pytest.mark.parametrize("solver", ["hungarian", "cpsat", "leximin", "greedy", "stable"])
def test_every_solver_takes_the_bonus_on_every_source(solver):
    """Blocks and bounds hold every pair for these solvers; they dropped the bonus before
    (and said ``"score + bonus"`` in the certificate). The exact ones reach the brute-force
    optimum of ``score + bonus``; all give the complete set's pairs."""
    seed = 5
    objective = "leximin" if solver == "leximin" else "total"
    mentors, mentees, programme = _case(seed, "none", objective=objective,
                                        solver="flow" if solver == "leximin" else solver)
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _the_bonus(complete)
    results = _solve_everywhere(mentors, mentees, programme)
    bf = feasible_assignments(p)
    value = bf.x.astype(float) @ (p.score + extra)
    if solver in ("hungarian", "cpsat"):
        best = _unique_best(bf, value)
        plain = bf.x.astype(float) @ p.score
        assert plain[best] < plain[bf.feasible].max() - 1e-9  # the bonus moves the pairs
        for kind, r in results.items():
            assert sorted(result_positions(complete, r).tolist()) == np.flatnonzero(bf.x[best]).tolist(), kind
    ref = results["complete"]
    for kind, r in results.items():
        assert _key(r) == _key(ref), kind
        assert r.objective == pytest.approx(ref.objective, abs=1e-9), kind
        assert r.certificate["objective"] == "score + bonus", kind
        # the same report on every source (before s19h2, "stable" on blocks and bounds had no
        # bonus keys)
        assert r.bound is None and r.gap is None, kind
        for name in ("bonus_total", "adjusted_objective"):
            assert r.certificate[name] == pytest.approx(ref.certificate[name], abs=1e-9), (kind, name)
        # the adjusted bound: the same on every source (s26: a baseline's too, from each
        # mentee's 16 best pairs on every source; until then one pass on the complete set),
        # and a baseline's at least the brute-force optimum of score + bonus
        bound = r.certificate["adjusted_bound"]
        assert bound == pytest.approx(ref.certificate["adjusted_bound"], abs=1e-9), kind
        if solver in ("greedy", "stable"):  # (a bound over every assignment)
            assert bound >= value[bf.feasible].max() - 1e-9, kind


def _lex_best(bf, value, objective: str) -> np.ndarray:
    return best_rows(bf.x, bf.feasible, value, objective)


#: (solver or fairness objective, side constraint, seed): cases where the bonus read as score
#: in the constraint gives another optimum, and the plain scores (no bonus) another still
MODEL_CASES = [("cpsat", "incentives", 24), ("cpsat", "score_floor", 0),
               ("maxmin", "score_floor", 0), ("maxmin", "score_floor", 5),
               ("maxmin", "incentives", 9), ("leximin", "score_floor", 0),
               ("leximin", "incentives", 9)]


@pytest.mark.parametrize("solver,side,seed", MODEL_CASES)
def test_cpsat_maxmin_and_leximin_take_the_bonus_apart_on_every_source(solver, side, seed):
    """CP-SAT's model (and max-min's and leximin's steps under side constraints) read the
    plain scores in the constraint and ``score + bonus`` in the objective: brute force's
    unique optimum on ``score + bonus`` (max-min: the worst, then the total; leximin: the
    sorted vector) among the assignments that meet the constraint on the plain scores, on
    every source, checked from the tables. Before, the request was refused (a
    ValidationError naming the settings)."""
    objective = "total" if solver == "cpsat" else solver
    mentors, mentees, programme = _case(seed, side, objective=objective,
                                        solver="cpsat" if solver == "cpsat" else "flow")
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _the_bonus(complete)
    value = p.score + extra
    bf = feasible_assignments(p)
    [best] = _lex_best(bf, value, objective)
    folded = feasible_assignments(dataclasses.replace(p, score=value))
    assert not folded.any_feasible or best not in _lex_best(folded, value, objective)
    assert best not in _lex_best(bf, p.score, objective)  # the bonus moves the pairs
    results = _solve_everywhere(mentors, mentees, programme)
    for kind, r in results.items():
        assert r.solver == solver and r.status == "optimal", kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        assert sorted(result_positions(complete, r).tolist()) == np.flatnonzero(bf.x[best]).tolist(), kind
        _check_reported(r, complete, extra, float(bf.x[best] @ value))
    # the same pairs whatever the order of the rows
    r = mm.pair(mentors.iloc[::-1], mentees.sample(frac=1.0, random_state=seed), programme)
    assert _key(r) == _key(results["complete"])


def test_a_bonus_with_a_side_constraint_reading_no_score_keeps_the_mip_and_the_flows_apart():
    """A budget reads no score: the engine with the bonus apart and the pairs of brute force on
    ``score + bonus``, on every source; an infeasible budget still raises the diagnosed error."""
    mentors, mentees, programme = _case(5, "budget")
    complete = pl.prepare(mentors, mentees, programme)
    p, extra = complete.problem, _the_bonus(complete)
    bf = feasible_assignments(p)
    value = bf.x.astype(float) @ (p.score + extra)
    best = _unique_best(bf, value)
    results = _solve_everywhere(mentors, mentees, programme)
    for kind, r in results.items():
        assert r.solver == "mip", kind
        assert table_violations(mentors, mentees, programme, r, complete) == [], kind
        assert sorted(result_positions(complete, r).tolist()) == np.flatnonzero(bf.x[best]).tolist(), kind
        _check_reported(r, complete, extra, value[best])
    # a locked pair whose mentor's fixed stipend is above the budget: the error of the round
    # without a bonus, on every source
    mentors = mentors.assign(stipend_fixed=np.where(np.arange(len(mentors)) == 0, 200.0, 0.0))
    lock = {**programme, "constraints": {**programme["constraints"],
                                         "locked": [[str(mentees["id"].iloc[0]), str(mentors["id"].iloc[0])]]}}
    for kind in SOURCES:
        found = []
        for table in (mentees, mentees.assign(priority=0.0)):
            with on_source(kind), pytest.raises(InfeasibleError) as e:
                mm.pair(mentors, table, lock)
            found.append(sorted(c.constraint for c in e.value.conflicts))
        assert found[0] == found[1] and found[0], kind
