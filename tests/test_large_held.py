"""CP-SAT's max-min and leximin under side constraints on the scale path (forced small with
``_support.on_source``), on a machine where every eligible pair would not fit (forced with
``memory.available_memory``): they hold only the pairs scoring at least a threshold when the
proof of ``pipeline/held.py`` holds (their answer reaches the score-free bounds on the count),
with the same answer as the complete set's model of every pair; else the engine's plan and the
fairness flows answer (solvers/fair_source.py; refused in s21); where every pair fits, every
pair is held; and no search log the user did not ask for."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pipeline import held, large, memory
from mentormatch.solvers.figures import Figures

from _support import on_source, result_positions, table_violations

FLOORS = {"groups": ["gender"], "floor_group": "gender", "share_floor": 0.4}


def _tables(seed: int, n: int = 40, m: int = 14):
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(mentees))  # rows shuffled: the same answer whatever the order
    return mentors, mentees.iloc[order].reset_index(drop=True)


def _programme(objective: str, kind: str) -> dict:
    if kind == "share":
        return {"fairness": {"objective": objective, **FLOORS}}
    if kind == "fractional":  # fractional loads: CP-SAT without any side row
        return {"fairness": {"objective": objective, "groups": ["gender"]}}
    return {"fairness": {"objective": objective, "groups": ["gender"]},
            "constraints": {"budget": 10_000.0}}  # loose: the count is not limited by it


def _short_of_every_pair(monkeypatch, eligible: int) -> None:
    """Memory for one pair fewer than every eligible pair (CP-SAT's bytes a pair)."""
    monkeypatch.setattr(memory, "available_memory",
                        lambda: (eligible - 1) * memory.BYTES_PER_CPSAT_PAIR / 0.8)


def _prepared(mentors, mentees, kind):
    if kind == "fractional":
        mentees = mentees.assign(load=np.where(np.arange(len(mentees)) % 3 == 0, 0.5, 1.0))
    if kind == "budget":
        mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=10.0)
    return mentors, mentees


@pytest.mark.parametrize("source", ["blocks", "bounds"])
@pytest.mark.parametrize("kind", ["share", "budget"])
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_held_pairs_give_the_full_models_answer(monkeypatch, source, kind, objective):
    """Fewer pairs held than eligible, exactly those scoring at least the threshold (counted on
    the complete set), and the complete set's answer: status, the most pairs, the worst pair,
    the total (max-min) or the sorted scores (leximin). Old code: every pair held, no
    ``held`` in the certificate."""
    # the unmatched reasons (not read here) without their exact CP-SAT re-solves: up to 200 a
    # table read, 93 % of this test's CPU; test_forced_fair and test_report_explain pin them
    monkeypatch.setattr(pl, "REASON_SOLVE_BUDGET", 0)
    mentors, mentees = _prepared(*_tables(3), kind)
    programme = _programme(objective, kind)
    complete = pl.prepare(mentors, mentees, programme)
    full = pl.pair(mentors, mentees, programme)
    p = complete.problem
    with on_source(source):
        assert "held" not in pl.pair(mentors, mentees, programme).certificate  # every pair fits
        _short_of_every_pair(monkeypatch, len(p.pairs))
        r = pl.pair(mentors, mentees, programme)
    info = r.certificate["held"]
    assert info["eligible_pairs"] == len(p.pairs)
    assert info["pairs"] == int(np.sum(p.score >= info["threshold"])) < len(p.pairs)
    assert r.status == full.status == "optimal"
    assert table_violations(mentors, mentees, programme, r, complete) == []
    pos = result_positions(complete, r)
    assert len(pos) == len(full.pairs) == info["most_pairs"]
    got, want = np.sort(p.score[pos]), np.sort(p.score[result_positions(complete, full)])
    assert got[0] == pytest.approx(want[0], rel=1e-9)
    if objective == "maxmin":
        assert r.objective == pytest.approx(full.objective, rel=1e-6)
    else:
        assert np.allclose(got, want, rtol=1e-6)


def test_a_count_below_the_bound_answers_where_every_pair_does_not_fit(monkeypatch):
    """A budget that keeps the most pairs below the score-free bound: nothing is proven by a
    threshold, so every eligible pair is held where they fit (the complete set's answer); where
    they do not, no threshold is tried (the budget's knapsack of places is below ``U``) and the
    engine's plan with the flows answers (refused before, s21), meeting every constraint, with
    bounds that hold against the complete set's optimum."""
    mentors, mentees = _tables(4, n=24, m=10)
    mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=10.0)
    programme = {"fairness": {"objective": "maxmin"}, "constraints": {"budget": 300.0}}
    full = pl.pair(mentors, mentees, programme)
    complete = pl.prepare(mentors, mentees, programme)
    eligible = len(complete.problem.pairs)
    with on_source("blocks"):
        r = pl.pair(mentors, mentees, programme)
        _short_of_every_pair(monkeypatch, eligible)
        short = pl.pair(mentors, mentees, programme)
    assert "held" not in r.certificate
    assert r.status == full.status == "optimal"
    assert len(r.pairs) == len(full.pairs) < 24
    assert r.objective == pytest.approx(full.objective, rel=1e-6)
    c = short.certificate
    assert "held" not in c and table_violations(mentors, mentees, programme, short, complete) == []
    assert len(short.pairs) <= len(full.pairs) <= c["count_bound"]
    assert float(full.pairs["score"].min()) <= c["threshold_bound"] + 1e-9
    assert full.objective <= short.bound + 1e-9


def test_fractional_loads_held_give_the_full_models_answer(monkeypatch):
    """Fractional loads (the bound counts the lightest loads at every mentor, so the proof
    holds only where the count reaches it, as here): exactly the pairs scoring at least the
    threshold, and the complete set's answer."""
    mentors, mentees = _prepared(*_tables(4, n=24, m=10), "fractional")
    programme = _programme("maxmin", "fractional")
    complete = pl.prepare(mentors, mentees, programme)
    full = pl.pair(mentors, mentees, programme)
    with on_source("bounds"):
        _short_of_every_pair(monkeypatch, len(complete.problem.pairs))
        r = pl.pair(mentors, mentees, programme)
    tau = r.certificate["held"]["threshold"]
    assert r.certificate["held"]["pairs"] == int(np.sum(complete.problem.score >= tau))
    assert r.status == full.status == "optimal"
    assert len(r.pairs) == len(full.pairs)
    assert r.objective == pytest.approx(full.objective, rel=1e-6)


def test_held_by_the_pairs_above_the_threshold_else_answered_by_the_flows(monkeypatch):
    """Memory is judged by the pairs above the threshold (from the histogram), not every pair:
    a machine with room for the held pairs but not for every pair holds them (proven optimal);
    one with room for neither answers by the engine's plan and the flows (refused before,
    s21), meeting every constraint, with bounds that hold against the held optimum."""
    mentors, mentees = _tables(3)
    programme = _programme("maxmin", "share")
    complete = pl.prepare(mentors, mentees, programme)
    with on_source("bounds"):
        monkeypatch.setattr(memory, "available_memory", lambda: 400 * memory.BYTES_PER_CPSAT_PAIR / 0.8)
        r = pl.pair(mentors, mentees, programme)
        assert r.status == "optimal" and r.certificate["held"]["pairs"] <= 400
        monkeypatch.setattr(memory, "available_memory", lambda: 50 * memory.BYTES_PER_CPSAT_PAIR / 0.8)
        short = pl.pair(mentors, mentees, programme)
    c = short.certificate
    assert "held" not in c and table_violations(mentors, mentees, programme, short, complete) == []
    assert len(short.pairs) <= len(r.pairs) <= c["count_bound"]
    assert float(r.pairs["score"].min()) <= c["threshold_bound"] + 1e-9
    assert r.objective <= short.bound + 1e-9


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_no_search_log_on_the_scale_path(capfd, objective):
    """The complete set writes no CP-SAT log; the scale path (whose own progress bars are on)
    wrote CP-SAT's whole search log to stderr (old code)."""
    mentors, mentees = synthetic.organisation(n_mentees=12, n_mentors=6, seed=2)
    programme = {"fairness": {"objective": objective, **FLOORS}}
    small = pl.pair(mentors, mentees, programme)
    capfd.readouterr()
    with on_source("blocks"):
        large_ = pl.pair(mentors, mentees, programme)
    err = capfd.readouterr().err
    assert "CP-SAT" not in err and "#Bound" not in err and "#Done" not in err, err[:400]
    assert large_.status == small.status == "optimal"
    assert sorted(map(tuple, large_.pairs[["mentee_id", "mentor_id"]].to_numpy())) == \
        sorted(map(tuple, small.pairs[["mentee_id", "mentor_id"]].to_numpy()))


def test_count_bounds_read_no_score():
    """U: each mentee at most its demand and eligible pairs, each mentor at most its eligible
    pairs and the lightest loads that fit; C: the mentees with a demand and an eligible pair."""
    s = held.Survey(np.zeros(1), np.zeros(1, np.int64),
                    Figures(np.array([3, 0, 1, 2]), np.zeros(4), np.array([2, 4]), np.zeros(2)))
    assert held.count_bounds(s, np.array([2, 1, 1, 0]), None, np.array([5.0, 1.0])) == (3, 2)
    assert held.count_bounds(s, None, np.array([0.5, 1.0, 0.5, 1.0]), np.array([1.0, 1.0])) == (3, 3)


def _stopped_after_the_first_try(monkeypatch, mentors, mentees, programme, eligible: int,
                                 source: str = "blocks"):
    """``pair()`` on ``source`` with memory for one pair fewer than every eligible pair, the fake
    clock jumping past the limit as the first try's proof is judged: the time-out answer."""
    from _support import jumping_clock

    clock = jumping_clock(monkeypatch, 0.0)
    real = held.proves

    def then_late(*args):
        out = real(*args)
        clock.jump(10_000.0)
        return out

    monkeypatch.setattr(held, "proves", then_late)
    # the held tries, not the engine's route (solvers/fair_source.py, which answers at once
    # where a budget's knapsack proves the tries cannot reach U): this stop is the tries'
    from mentormatch.solvers import fair_bounds

    monkeypatch.setattr(fair_bounds, "count_bound", lambda *a: np.inf)
    with on_source(source):
        _short_of_every_pair(monkeypatch, eligible)
        return pl.pair(mentors, mentees, programme)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_a_stop_before_the_proof_has_bounds_over_every_assignment(monkeypatch, seed, objective):
    """A budget keeps the most pairs below ``U`` (no try proves), the limit passes after the
    first try: the answer is "feasible", stopped, within every constraint (recomputed from the
    tables), and its bounds hold over brute force's every feasible assignment of the complete
    set: ``bound`` (= ``total_bound``) at least the largest total, ``threshold_bound`` at least
    the best worst pair among the assignments with the most pairs (max-min's ``t*``, leximin's
    first entry). Old code: ``bound`` None, no gap."""
    from mentormatch.testing.brute import feasible_assignments

    mentors, mentees = _tables(seed, n=7, m=4)
    mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=10.0)
    programme = {"fairness": {"objective": objective}, "constraints": {"budget": 130.0},
                 "time_limit": 60.0}
    complete = pl.prepare(mentors, mentees, programme)
    brute = feasible_assignments(complete.problem)
    ok = brute.feasible
    most = int(brute.matched[ok].max())
    t_star = float(brute.worst[ok & (brute.matched == most)].max())
    r = _stopped_after_the_first_try(monkeypatch, mentors, mentees, programme,
                                     len(complete.problem.pairs))
    cert = r.certificate
    assert r.status == "feasible" and cert["timed_out"] is True and "held" in cert
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound is not None and r.gap is not None and r.bound == cert["total_bound"]
    assert r.bound >= float(brute.total[ok].max()) - 1e-9 and r.bound >= r.objective - 1e-9
    assert cert["threshold_bound"] >= t_star - 1e-9
    assert len(r.pairs) <= cert["held"]["most_pairs"] and most <= cert["held"]["most_pairs"]
    assert "stopped at the time limit (60 s)" in r.certificate["message"]


@pytest.mark.parametrize("source", ["blocks", "bounds"])
def test_a_stop_before_the_proof_bounds_the_complete_sets_optimum(monkeypatch, source):
    """The same stop at 40 x 14 (a budget that binds) on blocks and bounds (whose survey reads
    the bounds): ``bound`` at least the complete set's max-min total (CP-SAT's proven
    optimum), ``threshold_bound`` at least its worst pair."""
    mentors, mentees = _tables(3)
    mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=10.0)
    programme = {"fairness": {"objective": "maxmin"}, "constraints": {"budget": 600.0},
                 "time_limit": 60.0}
    full = pl.pair(mentors, mentees, programme)
    complete = pl.prepare(mentors, mentees, programme)
    assert full.status == "optimal"
    r = _stopped_after_the_first_try(monkeypatch, mentors, mentees, programme,
                                     len(complete.problem.pairs), source)
    assert r.status == "feasible" and r.certificate["timed_out"] is True
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound >= full.objective - 1e-9 and r.bound >= r.objective - 1e-9
    assert r.certificate["threshold_bound"] >= full.certificate["threshold"] - 1e-9
    assert 0 <= r.gap < 1


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_stop_before_the_proof_under_coverage_first_with_demands(monkeypatch, seed):
    """``coverage_first`` with mentees needing two mentors: the optimum first matches the most
    mentees, so its pair count is known only to reach the try's matched mentees (not its
    pairs); the stopped answer's bounds hold over brute force's every feasible assignment:
    ``threshold_bound`` at least the best worst pair among those with the most mentees, then the
    most pairs; ``bound`` at least every total."""
    from mentormatch.testing.brute import feasible_assignments

    mentors, mentees = _tables(seed, n=5, m=4)
    mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=10.0)
    mentees = mentees.assign(mentors_needed=[2, 2, 1, 1, 1])
    programme = {"fairness": {"objective": "maxmin"}, "time_limit": 60.0,
                 "constraints": {"budget": 130.0, "coverage_first": True}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    brute = feasible_assignments(p)
    ok = brute.feasible
    onehot = np.zeros((len(p.pairs), p.n_mentees))
    onehot[np.arange(len(p.pairs)), p.pairs.mentee] = 1
    mentees_matched = (brute.x.astype(float) @ onehot > 0).sum(axis=1)
    top = ok & (mentees_matched == mentees_matched[ok].max())
    top &= brute.matched == brute.matched[top].max()
    t_star = float(brute.worst[top].max())
    r = _stopped_after_the_first_try(monkeypatch, mentors, mentees, programme, len(p.pairs))
    cert = r.certificate
    assert r.status == "feasible" and cert["timed_out"] is True and "held" in cert
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound >= float(brute.total[ok].max()) - 1e-9 and r.bound >= r.objective - 1e-9
    assert cert["threshold_bound"] >= t_star - 1e-9
