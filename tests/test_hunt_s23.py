"""Session 23's hunt with fresh random seeds (s23h7), through the public API: ``pair()`` on the
three pair sources (the size paths forced small), its time limits, explanations and ranks, the
compiled block scan, programme rounds and the command line on the public HR table, against
brute force or scipy's ``milp`` with the constraints recomputed from the caller's tables.

Fixed (fails at ab53104, where it was found):

* Balanced loads stopped by the time limit answered "feasible" with **no bound and no gap** on
  every source (``solvers/balanced.py`` gives no bound when a level's flow was cut, and the
  engine returned that answer at once past the deadline), where every other side constraint's
  stop has one. Now the engine goes on to the column generation's stop, which has a bound, and
  keeps the better of the two (``solvers/route.py``).
* ``coverage_first`` stopped by the time limit: "feasible", bound None (routed; the lead):
  ``solvers/route.py`` dropped the score stage's bound when the count was not proven, though
  that stage's model only asks for the count of an assignment found, so its bound holds over
  the lexicographic optimum's total. The bound is kept now.
* Max-min and leximin stopped by the time limit: "feasible", bound None and gap None on every
  source. At 0.01 s ``pair()`` now stops in its preparation (s23h6, ``pipeline/stopped.py``),
  whose answer has a bound (the locks plus the score span times the demand left).

Found, not fixed (strict xfails, each naming the defect):

* Under max-min, "why not X" prices the forced pair on the plain total: "forcing it lowers the
  programme's total score by 0.6733" where the programme re-solved with the pair forced has a
  total 0.216 *higher* (its worst pair falls from 3.588 to 3.061) (``report/forced.py``,
  ``report/pricing.py``: the reference and the re-solve are the plain flow's).

Guards (pass at ab53104 too): max-min and leximin under a budget, minimum loads or a share
floor on blocks and bounds (``fair_source``) against a ``milp`` lexicographic reference
(:func:`lex_milp`); tiny time limits on every total-objective family; ranks and the costs of
"why not X" under side constraints against ``milp`` with the pair forced; the compiled block
scan against the numpy code on odd shapes; rounds with decisions, save/load and shuffled rows;
the command line on the public HR table (cp1252, blank lines, ids that differ in case, a
manager outside the programme).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix, vstack

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.errors import InfeasibleError
from mentormatch.pipeline import memory
from mentormatch.rules import Rules

from _support import SOURCES, on_source, result_positions, table_violations
from test_checks_matrix_small import _organisation, _programmes, full_model_optimum


# ---------------------------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------------------------
def lex_milp(p, force=None):
    """``(M*, t*, T*)`` of problem ``p`` over every pair by three HiGHS MILPs: the most pairs,
    then the best worst pair among assignments of ``M*`` pairs, then the best total among those
    whose pairs all score at least ``t*`` (unit loads; capacities, demands, minimum loads, a
    budget, share floors); ``force``: positions held at 1. None when nothing is feasible;
    ``t*`` None when ``M* = 0``. (The worst pair ``z`` is bounded by the scores themselves:
    a bound of ``max - min + 1`` caps it below the best worst pair when the scores are far
    from 0, as ``test_fair_source._lexicographic_milp``'s does.)"""
    P, s, side = p.pairs, np.asarray(p.score, float), p.side
    K, n, m = len(P), P.n_mentees, P.n_mentors
    N = K + m + 1  # x per pair, y per mentor (active), z (the worst pair)
    k, js = np.arange(K), np.arange(m)
    parts, lo, hi = [], [], []

    def rows(r, c, v, count, a, b):
        parts.append(coo_matrix((v, (r, c)), shape=(count, N)))
        lo.append(np.broadcast_to(np.asarray(a, float), count))
        hi.append(np.broadcast_to(np.asarray(b, float), count))

    rows(np.r_[k, k], np.r_[k, K + P.mentor], np.r_[np.ones(K), -np.ones(K)], K, -np.inf, 0.0)
    rows(np.r_[P.mentor, js], np.r_[k, K + js], np.r_[np.ones(K), -np.asarray(p.capacity, float)], m,
         -np.inf, 0.0)
    if side.min_load is not None:
        rows(np.r_[P.mentor, js], np.r_[k, K + js], np.r_[np.ones(K), -np.asarray(side.min_load, float)],
             m, 0.0, np.inf)
    rows(P.mentee, k, np.ones(K), n, -np.inf, np.asarray(p.demand, float))
    if side.budget is not None:
        rows(np.zeros(K + m, int), np.r_[k, K + js],
             np.r_[side.stipend_per_mentee[P.mentor], side.stipend_fixed], 1, -np.inf, side.budget)
    if side.share_floor is not None:
        for g in np.unique(side.group[side.group >= 0]):
            members = side.group == g
            on = np.flatnonzero(members[P.mentee])
            rows(np.zeros(len(on), int), on, np.ones(len(on)), 1,
                 np.ceil(side.share_floor * members.sum() - 1e-9), np.inf)
    if force is not None:
        f = np.atleast_1d(force)
        rows(np.arange(len(f)), f, np.ones(len(f)), len(f), 1.0, 1.0)
    base, base_lo, base_hi = vstack(parts).tocsr(), np.concatenate(lo), np.concatenate(hi)
    box = Bounds(np.r_[np.zeros(K + m), s.min() - 1], np.r_[np.ones(K + m), s.max() + 1])

    def solve(c, extra=None, a=(), b=()):
        A = base if extra is None else vstack([base, extra]).tocsr()
        res = milp(-c, constraints=LinearConstraint(A, np.r_[base_lo, a], np.r_[base_hi, b]),
                   integrality=np.r_[np.ones(K + m), 0], bounds=box, options={"mip_rel_gap": 1e-9})
        assert res.status in (0, 2), res.message
        return None if res.status == 2 else -res.fun

    count = np.r_[np.ones(K), np.zeros(m + 1)]
    M = solve(count)
    if M is None:
        return None
    M = int(round(M))
    if M == 0:
        return 0, None, 0.0
    big = float(s.max() - s.min() + 1.0)
    fix = csr_matrix(count[None, :])
    z = coo_matrix((np.r_[np.ones(K), np.full(K, big)], (np.r_[k, k], np.r_[np.full(K, N - 1), k])),
                   shape=(K, N))  # z <= s_k + big (1 - x_k)
    t = solve(np.r_[np.zeros(K + m), 1.0], vstack([fix, z]), np.r_[M - 0.5, np.full(K, -np.inf)],
              np.r_[M + 0.5, s + big])
    below = csr_matrix((s < t - 1e-9).astype(float)[None, :], shape=(1, N))
    T = solve(np.r_[s, np.zeros(m + 1)], vstack([fix, below]), [M - 0.5, 0.0], [M + 0.5, 0.0])
    return M, t, T


def _accounted(r, mentees) -> bool:
    """Every input mentee exactly once: in the pairs or in unmatched with a reason."""
    ids = set(mentees["id"].astype(str))
    paired, left = set(r.pairs["mentee_id"].astype(str)), list(r.unmatched["mentee_id"].astype(str))
    reasons = r.unmatched["reason"].astype(str)
    return (paired | set(left)) == ids and not (paired & set(left)) and len(left) == len(set(left)) \
        and bool((reasons.str.len() > 0).all())


def _key(r) -> list:
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].astype(str).to_numpy().tolist()))


# ---------------------------------------------------------------------------------------------
# time limits: every stop has a bound (balanced loads fixed: solvers/route.py)
# ---------------------------------------------------------------------------------------------
STOP_CASES = _programmes(*_organisation(2301, n=24, m=8))


@pytest.mark.parametrize("kind", SOURCES)
def test_balanced_loads_stopped_by_the_time_limit_have_a_bound(kind):
    """24 mentees, 8 mentors (``_organisation(2301)``), balanced loads, ``time_limit`` 0.01 s
    (past before the solve starts): at ab53104 "feasible", 0 pairs, bound None and gap None
    on every source (the budget, incentives and minimum loads stopped the same way have one).
    Now a bound at least ``milp``'s optimum of the whole model; with 60 s it is optimal."""
    mentors, mentees, programme = STOP_CASES["balanced_load"]
    complete = pl.prepare(mentors, mentees, programme)
    best = full_model_optimum(complete.problem)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 0.01})
        full = mm.pair(mentors, mentees, programme)
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound is not None and r.gap is not None and r.bound >= best - 1e-6
    assert r.objective <= best + 1e-6 and (r.status == "feasible" or r.objective == pytest.approx(best))
    assert full.status == "optimal" and full.objective == pytest.approx(best, abs=1e-6)


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("name", ["budget", "budget_min_load", "incentives", "score_floor", "fractional",
                                  "min_load"])
def test_a_tiny_time_limit_answers_honestly_on_every_family(name, kind):
    """``time_limit`` 0.01 s (guard): every mentee accounted for with a reason, every
    constraint held (recomputed from the tables), a bound at least ``milp``'s optimum of the
    whole model, "optimal" only at that optimum."""
    mentors, mentees, programme = STOP_CASES[name]
    complete = pl.prepare(mentors, mentees, programme)
    scale = sum(w for w in Rules.coerce(programme).weights.values() if w > 0)
    best = full_model_optimum(complete.problem, scale)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 0.01})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound is not None and r.bound >= best - 1e-6 and r.objective <= best + 1e-6
    if r.status == "optimal":
        assert r.objective == pytest.approx(best, abs=1e-6)
    else:
        assert r.status == "feasible" and r.gap is not None


@pytest.mark.parametrize("kind", SOURCES)
def test_coverage_first_stopped_by_the_time_limit_has_a_bound(kind):
    """``_organisation(2301)``, a budget and ``coverage_first``, 0.01 s: "feasible", 0 pairs,
    bound None on every source (60 s: optimal, bound 72.383)."""
    mentors, mentees, programme = STOP_CASES["coverage_first_budget"]
    complete = pl.prepare(mentors, mentees, programme)
    best = full_model_optimum(complete.problem)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 0.01})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    assert r.bound is not None and r.bound >= best - 1e-6


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_maxmin_and_leximin_stopped_by_the_time_limit_have_a_bound(objective, kind):
    """``_organisation(2301)``'s plain tables, 0.01 s: "feasible", 22 pairs, bound None. The
    bound asked for: at least the lexicographic optimum's total (``lex_milp``)."""
    mentors, mentees, _ = STOP_CASES["budget"]
    programme = {"fairness": {"objective": objective}}
    complete = pl.prepare(mentors, mentees, programme)
    M, t, T = lex_milp(complete.problem)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 0.01})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    assert r.status == "feasible" and len(r.pairs) <= M
    assert r.bound is not None and r.bound >= T - 1e-6


# ---------------------------------------------------------------------------------------------
# max-min / leximin under side constraints on blocks and bounds (fair_source): guards
# ---------------------------------------------------------------------------------------------
def _fair_tables(seed: int, kind: str):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 30)), int(rng.integers(3, 12))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    mentees = mentees.iloc[rng.permutation(n)].reset_index(drop=True)
    mentors = mentors.assign(stipend_fixed=50.0, stipend_per_mentee=np.where(np.arange(m) % 3 == 0, 20.0, 10.0))
    if kind == "min_load":
        mentors = mentors.assign(min_capacity=np.where(np.arange(m) % 2 == 0, 2, 0),
                                 capacity=np.maximum(mentors["capacity"], 2))
    if kind == "share":
        return mentors, mentees, {"floor_group": "gender", "share_floor": float(rng.choice([0.2, 0.5]))}
    return mentors, mentees, {"budget": float(rng.integers(40, 400))}


@pytest.mark.parametrize("source", ["blocks", "bounds"])
@pytest.mark.parametrize("seed, kind, objective", [(103, "min_load", "maxmin"), (105, "budget", "leximin"),
                                                    (2352, "share", "maxmin"), (2357, "budget", "maxmin")])
def test_fairness_under_side_constraints_against_the_lexicographic_milp(monkeypatch, seed, kind, objective,
                                                                         source):
    """Where CP-SAT's pairs do not fit (memory forced short): the answer meets every
    constraint, has no more pairs than ``M*``, a bound at least ``T*``, and "optimal" only
    with ``M*`` pairs, the worst pair ``t*`` and (max-min) the total ``T*``. Seed 103: ``t*``
    is 4.314, above the scores' spread + 1 (the bound ``test_fair_source``'s reference puts on
    its worst-pair variable, which there reads 3.665)."""
    mentors, mentees, extra = _fair_tables(seed, kind)
    fair = {"objective": objective, "groups": ["gender"]}
    programme = ({"fairness": {**fair, **extra}} if kind == "share" else
                 {"fairness": fair, "constraints": extra})
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    ref = lex_milp(p)
    with on_source(source):
        monkeypatch.setattr(memory, "available_memory",
                            lambda: (len(p.pairs) // 3) * memory.BYTES_PER_CPSAT_PAIR / 0.8)
        if ref is None:
            with pytest.raises(InfeasibleError):
                mm.pair(mentors, mentees, programme)
            return
        r = mm.pair(mentors, mentees, programme)
    M, t, T = ref
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    got = np.sort(p.score[result_positions(complete, r)])
    assert len(got) <= M and r.bound is not None and T <= r.bound + 1e-6 * max(1.0, abs(T))
    if r.status == "optimal":
        assert len(got) == M and (M == 0 or got[0] == pytest.approx(t, rel=1e-6))
        if objective == "maxmin":
            assert r.objective == pytest.approx(T, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# ranks and "why not X" under side constraints: guards; under max-min: xfail
# ---------------------------------------------------------------------------------------------
def _forced_optimum(p, scale, q):
    """The whole model's optimum with pair position ``q`` held (``full_model_optimum`` with a
    row x_q = 1); None when infeasible."""
    import inspect

    import test_checks_matrix_small as cms

    src = inspect.getsource(cms.full_model_optimum).replace("exclude=None,", "exclude=None, force=None,")
    src = src.replace("    if exclude is not None:",
                      "    if force is not None:\n        r = np.zeros(N); r[force] = 1.0; add(r, 1, 1)\n"
                      "    if exclude is not None:")
    space = dict(cms.__dict__)
    exec(src, space)
    return space["full_model_optimum"](p, scale, force=q)


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("seed", [2312, 2313, 2314])
def test_ranks_and_why_not_costs_under_side_constraints(seed, kind):
    """A budget, incentives or minimum loads (``_organisation(seed)``, 8-15 mentees): each
    pair's rank is one more than the mentee's eligible mentors scoring higher, over the
    complete set; each alternative's stated cost (exact, or the bounds it states) holds
    against ``milp``'s optimum with the pair forced."""
    rng = np.random.default_rng(seed)
    mentors, mentees = _organisation(seed, n=int(rng.integers(8, 16)), m=int(rng.integers(3, 7)))
    mentors = mentors.assign(min_capacity=0)
    programme = [{"constraints": {"budget": float(rng.integers(300, 2500))}},
                 {"constraints": {"incentives": True}}, {}][seed % 3]
    if seed % 3 == 2:
        mentors = mentors.assign(min_capacity=np.minimum(2, mentors["capacity"]))
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    scale = sum(w for w in Rules.coerce(programme).weights.values() if w > 0)
    best = full_model_optimum(p, scale)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
        assert r.status == "optimal" and r.objective == pytest.approx(best, abs=1e-6)
        pos = result_positions(complete, r)
        for k, q in enumerate(pos):
            own = p.pairs.mentee == p.pairs.mentee[q]
            assert r.pairs["rank"].iloc[k] == 1 + int(np.sum(p.score[own] > p.score[q] + 1e-12))
            assert r.pairs["eligible_mentors"].iloc[k] == int(own.sum())
        checked = 0
        for mid in list(r.pairs["mentee_id"])[:3] + list(r.unmatched["mentee_id"])[:2]:
            alts = r.explain(mid, alternatives=3).alternatives
            assert np.all(np.diff(alts["score"].to_numpy(float)) <= 1e-12)  # best first
            i = complete.mentee_ids.encode([mid])[0]
            for _, a in alts[alts["eligible"] & alts["cost_high"].notna()].iterrows():
                j = complete.mentor_ids.encode([a["mentor_id"]])[0]
                q = int(p.pairs.locate(np.array([i]), np.array([j]))[0])
                forced = _forced_optimum(p, scale, q)
                true = np.inf if forced is None else best - forced
                assert a["cost_low"] <= true + 1e-6 and true <= a["cost_high"] + 1e-6, (mid, a["text"])
                checked += 1
    assert checked > 0


def test_why_not_under_maxmin_speaks_of_the_programmes_own_re_solve():
    """14 mentees, 5 mentors (synthetic seed 2350), max-min: E00001 is paired with E00009; the
    explanation lists E00019 (score 3.061, below the worst pair 3.5875) with "forcing it lowers
    the programme's total score by 0.6733" (the plain flow's optimum 39.562 less its optimum
    with the pair forced, 38.888). The programme's own re-solve with the pair forced
    (``lex_milp``): 10 pairs, worst 3.061, total 38.888, 0.216 above the answer's 38.672. A
    drop stated in the programme's total must be that re-solve's, and the change stated is in
    max-min's own objective: the worst pair, 3.5875 to 3.061 (fixed in s24h4: the re-solve is
    the programme's own solver with the pair locked, ``report/forced_fair.py``)."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=14, n_mentors=5, seed=2350)
    programme = {"fairness": {"objective": "maxmin"}}
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    r = mm.pair(mentors, mentees, programme)
    M, t, T = lex_milp(p)
    assert r.status == "optimal" and r.objective == pytest.approx(T, abs=1e-6)
    alts = r.explain("E00001").alternatives
    a = alts[alts["mentor_id"] == "E00019"].iloc[0]
    i, j = complete.mentee_ids.encode(["E00001"])[0], complete.mentor_ids.encode(["E00019"])[0]
    forced = lex_milp(p, force=[int(p.pairs.locate(np.array([i]), np.array([j]))[0])])
    assert forced[0] == M and forced[1] < t - 0.5
    if "lowers the programme's total score by" in a["text"]:
        assert a["cost_high"] == pytest.approx(r.objective - forced[2], abs=1e-6), a["text"]
    assert f"worst pair score, which max-min raises first, from {t:.4f} to {forced[1]:.4f}" in a["text"]
    assert a["worst_low"] == pytest.approx(forced[1], abs=1e-9) == a["worst_high"]
    assert a["cost"] == pytest.approx(r.objective - forced[2], abs=1e-6)  # (the total rises)


# ---------------------------------------------------------------------------------------------
# the compiled block scan against the numpy code on odd shapes: guard
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["1x1", "1x7", "9x1", "cap0", "forbidden", "maxmin", "cap1"])
def test_the_compiled_scan_gives_the_numpy_answers_on_odd_shapes(monkeypatch, case):
    """``pair()`` on the bounds source with the kernel and with the numpy code (skipped where
    the kernel was not built): the same status, pairs, objective, bound and unmatched
    reasons, on one mentor, one mentee, capacity 0 everywhere, every pair forbidden."""
    from mentormatch import _native

    native = pytest.importorskip("mentormatch._native.scan")
    n, m = {"1x1": (1, 1), "1x7": (1, 7), "9x1": (9, 1)}.get(case, (30, 10))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=2360 + len(case))
    programme = {}
    if case == "cap0":
        mentors = mentors.assign(capacity=0)
    if case == "cap1":
        mentors = mentors.assign(capacity=1)
    if case == "forbidden":
        programme = {"constraints": {"forbidden": [[a, b] for a in mentees["id"] for b in mentors["id"]]}}
    if case == "maxmin":
        programme = {"fairness": {"objective": "maxmin"}}
    out = []
    for kernel in (native, None):
        monkeypatch.setitem(_native._chosen, "scan", kernel)
        with on_source("bounds"):
            r = mm.pair(mentors, mentees, programme)
        assert _accounted(r, mentees)
        out.append((r.status, _key(r), r.objective, r.bound, sorted(map(tuple, r.unmatched.to_numpy().tolist()))))
    assert out[0] == out[1]
    if case in ("cap0", "forbidden"):
        assert out[0][1] == []


# ---------------------------------------------------------------------------------------------
# rounds, decisions, save/load, shuffled rows: guard
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("seed", [2341, 2343])
def test_a_saved_programme_runs_the_next_round_as_the_live_one_whatever_the_row_order(tmp_path, seed, kind):
    """Round 1, decisions (every third declined), save and load, round 2 on the live and the
    loaded programme, the loaded one given both tables with their rows shuffled: the same
    pairs, every mentee accounted for."""
    from mentormatch.programme import Programme

    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(n_mentees=int(rng.integers(10, 30)),
                                                 n_mentors=int(rng.integers(3, 9)), seed=seed)
    rules = [{"constraints": {"budget": 3000.0}}, {"constraints": {"balanced_load": True}}][seed % 2]
    prog = Programme(rules, allow_repeats=True, cooldown_rounds=1, continuity=True, priority="weight")
    with on_source(kind):
        r1 = prog.run_round(mentors, mentees, date="2027-01-15")
        d = r1.pairs[["mentee_id", "mentor_id"]].assign(
            decision=np.where(np.arange(len(r1.pairs)) % 3 == 0, "decline", "accept"))
        prog.record_decisions(d, date="2027-01-20")
        prog.save(tmp_path / "p")
        loaded = Programme.load(tmp_path / "p")
        live = prog.run_round(mentors, mentees, date="2027-04-15")
        again = loaded.run_round(mentors.iloc[rng.permutation(len(mentors))].reset_index(drop=True),
                                 mentees.iloc[rng.permutation(len(mentees))].reset_index(drop=True),
                                 date="2027-04-15")
    assert _accounted(r1, mentees) and _accounted(live, mentees)
    assert _key(live) == _key(again) and live.status == again.status


# ---------------------------------------------------------------------------------------------
# the command line on the public HR table: guard
# ---------------------------------------------------------------------------------------------
HR = Path("/work/shared/data/ibm_hr_attrition.csv")
HR_PROGRAMME = """
[columns]
EmployeeNumber = "id"
TotalWorkingYears = "years_experience"
JobLevel = "level"
YearsAtCompany = "tenure_years"
Slots = "capacity"
Age = "age"
Name = "name"
Manager = "manager_id"
[weights]
experience = 1.0
[fairness]
groups = ["Gender", "Department"]
"""


def _hr_tables(tmp: Path):
    """Mentors (job level >= 3, performance 4, 2 slots) and mentees (under two years, not
    mentors) from the HR table as exported (repeated rows dropped, a reused number renamed,
    ids lower-case 'e...'); the mentees written in cp1252 with accented names, an Excel date
    serial column and blank lines."""
    hr = pd.read_csv(HR, dtype=str).drop_duplicates()
    again = hr.groupby("EmployeeNumber").cumcount()
    hr["EmployeeNumber"] = "e" + hr["EmployeeNumber"].where(again == 0, hr["EmployeeNumber"] + "-" + again.astype(str))
    mentors = hr[(hr.JobLevel.astype(int) >= 3) & (hr.PerformanceRating.astype(int) >= 4)].head(30)
    mentors = mentors.assign(Slots="2", Name=[f"Mentor {k}" for k in range(len(mentors))], Manager="")
    mentees = hr[(hr.YearsAtCompany.astype(int) < 2) & ~hr.EmployeeNumber.isin(mentors.EmployeeNumber)].head(50)
    mentees = mentees.assign(Name=["Zoë Ångström" if k % 7 == 0 else f"Person {k}" for k in range(len(mentees))],
                             Hired=["44927" if k % 2 else "2023-01-15" for k in range(len(mentees))], Manager="")
    (tmp / "prog.toml").write_text(HR_PROGRAMME)
    mentors.to_csv(tmp / "mentors.csv", index=False)
    text = mentees.to_csv(index=False, lineterminator="\n")
    (tmp / "mentees.csv").write_bytes(text.replace("\n", "\n\n", 3).encode("cp1252"))
    return mentors, mentees


def _cli(capfd, tmp: Path, mentors: str, *extra: str):
    """``mentormatch pair`` on ``tmp``'s files, in this process: (exit status, stdout + stderr)."""
    from mentormatch.cli import main

    code = main(["pair", "--mentors", str(tmp / mentors), "--mentees", str(tmp / "mentees.csv"),
                 "--programme", str(tmp / "prog.toml"), "--out", str(tmp / "out"), *extra])
    out = capfd.readouterr()
    return code, out.out + out.err


@pytest.mark.skipif(not HR.exists(), reason="the public HR table is not on this machine")
def test_the_command_line_on_a_real_hr_export(tmp_path, capfd):
    """Exit 0 on the cp1252 export with blank lines (a note says how it was read; every mentee
    once in pairs.csv or unmatched.csv, 2 slots a mentor kept); exit 2 and one paragraph
    naming both lines for two mentor ids that differ only in case and, in the same
    paragraph, the row and the fixes for a manager in neither table."""
    mentors, mentees = _hr_tables(tmp_path)
    code, said = _cli(capfd, tmp_path, "mentors.csv", "--report")
    assert code == 0, said
    assert "read as cp1252" in said
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype=str)
    left = pd.read_csv(tmp_path / "out" / "unmatched.csv", dtype=str)
    assert sorted(pairs["mentee_id"].tolist() + left["mentee_id"].tolist()) == sorted(mentees["EmployeeNumber"])
    assert pairs["mentor_id"].value_counts().max() <= 2 and (tmp_path / "out" / "report.html").exists()
    twin = pd.concat([mentors, mentors.iloc[[0]].assign(EmployeeNumber=mentors.EmployeeNumber.iloc[0].upper())])
    twin.loc[twin.index[1], "Manager"] = "e99999"
    twin.to_csv(tmp_path / "twin.csv", index=False)
    code, said = _cli(capfd, tmp_path, "twin.csv")
    assert code == 2
    assert "differ only in case" in said and f"line {len(twin) + 1}" in said
    assert "'e99999'" in said and "unknown_managers" in said and "--org" in said
