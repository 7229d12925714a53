"""An explanation's re-solves (the cost of forcing each alternative, "why not X") share the
round's time limit, counted from the explanation's call: none starts past it, and an
alternative not re-solved in time is priced by bounds that need no re-solve, stated as bounds
with the reason; never an exact claim it did not prove.

A fake clock (``_support.jumping_clock``) jumps past the limit when the first re-solve returns;
every cost is checked against scipy's ``milp`` (the pair forced: its score plus the optimum of
the others with one place fewer at its mentor)."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import synthetic
from mentormatch.report import forced, pricing

from _support import exact_round, jumping_clock
from test_stopped_bounds import milp_optimum


def _forced_cost(scores: np.ndarray, cap: np.ndarray, i: int, j: int, best: float) -> float:
    rest = np.delete(scores, i, axis=0)
    c = cap.copy()
    c[j] -= 1
    return best - (scores[i, j] + milp_optimum(rest, c, np.ones(len(rest), np.int64)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alternatives_past_the_limit_are_bounds_that_hold(monkeypatch, seed):
    """Eight alternatives listed; the limit (60 s, the programme's) passes as the first
    re-solve returns: the first is exact (``milp``'s cost), the others are bounds around
    ``milp``'s cost, said to be bounds because the time limit passed (old code: every one
    re-solved past the limit and stated exactly)."""
    mentors, mentees = synthetic.organisation(n_mentees=30, n_mentors=10, seed=seed)
    programme = {"time_limit": 60.0}
    small, _, scores = exact_round(mentors, mentees, programme)
    cap = small.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    r = mm.pair(mentors, mentees, programme)
    assert r.status == "optimal" and r.objective == pytest.approx(best, abs=1e-6)
    mentee = str(r.pairs["mentee_id"].iloc[0])
    clock = jumping_clock(monkeypatch, 1000.0)
    real, calls = forced.solve_outcome, []

    def then_late(*args, **kw):
        out = real(*args, **kw)
        calls.append(1)
        clock.jump()
        return out

    monkeypatch.setattr(forced, "solve_outcome", then_late)
    alt = r.explain(mentee, alternatives=8).alternatives
    priced = alt[alt["eligible"].astype(bool) & ~alt["text"].str.contains("cannot be forced")]
    assert len(priced) >= 2 and len(calls) == 1
    e_ids = small.mentee_ids
    i = int(e_ids.encode([mentee])[0])
    for k, row in enumerate(priced.itertuples()):
        j = int(small.mentor_ids.encode([row.mentor_id])[0])
        cost = _forced_cost(scores, cap, i, j, best)
        if k == 0:
            assert row.cost == pytest.approx(cost, abs=1e-6) and "bounds" not in row.text
            continue
        assert np.isnan(row.cost) and "the time limit (60 s) passed before its re-solve" in row.text
        assert np.isnan(row.cost_low) or row.cost_low <= cost + 1e-6
        assert np.isnan(row.cost_high) or row.cost_high >= cost - 1e-6
        assert not (np.isnan(row.cost_low) and np.isnan(row.cost_high))


def test_why_not_past_the_limit_says_bounds(monkeypatch):
    """"Why not X" asked, the limit passing before its re-solve (the clock jumps as the
    explanation picks its solver): no re-solve, the verdict in bounds around ``milp``'s cost (old code: a re-solve
    and an exact verdict)."""
    mentors, mentees = synthetic.organisation(n_mentees=30, n_mentors=10, seed=4)
    programme = {"time_limit": 60.0}
    small, _, scores = exact_round(mentors, mentees, programme)
    cap = small.data["mentors"]["capacity"].to_numpy(float)
    best = milp_optimum(scores, cap, np.ones(len(scores), np.int64))
    r = mm.pair(mentors, mentees, programme)
    mentee = str(r.pairs["mentee_id"].iloc[0])
    i = int(small.mentee_ids.encode([mentee])[0])
    own = str(r.pairs["mentor_id"].iloc[0])
    row = np.where(np.isfinite(scores[i]), scores[i], -np.inf)
    order = [int(j) for j in np.argsort(-row) if np.isfinite(row[j])
             and str(small.mentor_ids.ids[j]) != own]
    j = order[0]
    cost = _forced_cost(scores, cap, i, j, best)
    clock = jumping_clock(monkeypatch, 1000.0)
    real_solver, calls = pricing.exact_solver, []

    def late_solver(*args):  # (read once the limit counts: just before the first re-solve)
        clock.jump()
        return real_solver(*args)

    monkeypatch.setattr(pricing, "exact_solver", late_solver)
    real = forced.solve_outcome
    monkeypatch.setattr(forced, "solve_outcome", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = r.explain(mentee, mentor=str(small.mentor_ids.ids[j]))
    assert calls == []
    priced = x.alternatives.iloc[0]
    assert "the time limit (60 s) passed before its re-solve" in priced.text
    assert np.isnan(priced.cost_low) or priced.cost_low <= cost + 1e-6
    assert np.isnan(priced.cost_high) or priced.cost_high >= cost - 1e-6


@pytest.mark.parametrize("jump_at", [0, 1])
def test_unmatched_reasons_past_the_limit_say_the_check_stopped(monkeypatch, jump_at):
    """More mentees than places: the "capacity_taken" reasons' exact re-solves share the
    round's limit (60 s) from the tables' build; the clock passes it before the first
    mentor's re-solve, or as it returns (s24h4: the round's proven optimum is the answer's,
    no re-solve of it): no re-solve starts after it; a figure given is the
    exact one (``needed_scores`` with no limit) and the text says the check stopped; the
    mentees none of whose mentors was checked say so, with no figure (old code: every
    re-solve ran past the limit, all stated as complete)."""
    import re

    from mentormatch.report import reasons
    from mentormatch.solvers import SOLVERS, get_solver

    mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=6, seed=5)
    r = mm.pair(mentors, mentees, {"time_limit": 60.0})
    problem = r.data["problem"]
    m_ids = r.data["mentor_ids"]
    n_m = problem.n_mentors
    exact = dict(zip(range(n_m), reasons.needed_scores(problem, np.arange(n_m))))
    clock = jumping_clock(monkeypatch, 1000.0)
    flow, solves = get_solver("flow"), []

    def counted(problem, options=None):
        out = flow(problem, options)
        solves.append(1)
        if len(solves) == jump_at:
            clock.jump()
        return out

    monkeypatch.setitem(SOLVERS, "flow", counted)
    if jump_at == 0:  # the clock passes the limit before the first mentor's re-solve
        needed = reasons.needed_scores

        def late(*args, **kwargs):
            clock.jump()
            return needed(*args, **kwargs)

        monkeypatch.setattr(reasons, "needed_scores", late)
    got = r.unmatched.set_index("mentee_id")["reason"]
    assert len(solves) == jump_at  # none past the limit
    assert got.str.contains(r"exact check stopped at the time limit \(60 s\)").all()
    figures = got[got.str.contains("would have needed|a tie")]
    assert len(figures) == (0 if jump_at == 0 else len(got))  # (every mentee: that mentor)
    for text in figures:
        need = re.search(r"(?:at least ([0-9.]+) with mentor (\S+) )|(?:mentor (\S+) \(score ([0-9.]+)\))", text)
        if need.group(1) is not None:
            j = int(m_ids.encode([need.group(2)])[0])
            assert float(need.group(1)) == pytest.approx(exact[j], abs=1e-3)
    assert got[~got.index.isin(figures.index)].str.contains("before this mentee's mentors").all()
