"""Session 24's hunt with fresh seeds (s24h7), through the public API and a shell: the time
limit reached at every clock read of ``pair()`` under each programme kind on each pair source,
the documented tie rule under renamed ids, saves that fail part-way, the command line on the
public HR table, and the HTML report; each against brute force, scipy's ``milp`` or figures
recomputed from the caller's tables.

Fixed (fails at 673effe, where it was found):

* A priority bonus (the mentees' ``priority`` column, or a round's priority and continuity)
  with a budget or incentives, stopped by the time limit before the score stage's relaxation:
  "optimal", no pairs, every mentee "excluded by the budget trade-off". With a bonus the stage's
  bound needing no pass is infinite, and ``solvers.base.proven`` read ``inf - v <= 1e-6 x inf``
  as a proof. An infinite bound now proves nothing: "feasible", stopped at the time limit.
* ``Solution.gap`` with an infinite bound was 0.0 (``max(0, inf / inf)`` is ``max(0, nan)``):
  a gap that reads as a proof. It is infinite now (``solvers/base.py``).
* ``python -m mentormatch`` said "No module named mentormatch.__main__"; it is the installed
  command now (``src/mentormatch/__main__.py``).

Found and fixed at the merge by s24h8's fallback (``solvers/fallback.py``): max-min under a
budget raised ``TimeLimitError`` at a short limit though the empty assignment meets the budget;
locked pairs under a budget (a programme's round 2, whose pairs in force are locks) stopped
before the score stage's first LP raised ``TimeLimitError`` though the locks alone meet it.
Found, fixed in session 25 (s25h6's ``fair_claims.source_claims``): max-min and leximin
stopped inside their flows on blocks and bounds answered "feasible" with no bound (the complete
set's had one). A leximin answer's bound is on the leximin optimum's total, which can lie below
max-min's ``T*`` (s25h8): leximin's stops are judged against the unlimited run's proven total.

Guards (pass at 673effe too): the clock jumping past the limit at each sampled read under ten
programme kinds on three sources; renames that keep or reverse every person's seeded rank on
tables of copied people, rules' seeds 0 and 7; a folder save failing with ``OSError`` at each
file operation; hard priority over rounds with joiners and leavers on every source; the
command line from a shell on the HR export with typos, missing columns, ids that differ in
whitespace and managers outside the programme; the report under each programme kind (every
person, headline and group figures, each pair's score and rank recomputed).
"""
from __future__ import annotations

import dataclasses
import errno
import html
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.pipeline.order import seeded_order
from mentormatch.rules import Rules

from _support import SOURCES, on_source, result_positions, table_violations
from test_checks_matrix_small import _organisation, _programmes, full_model_optimum
from test_hunt_s23 import HR, HR_PROGRAMME, _accounted, _hr_tables, lex_milp

SRC = str(Path(mm.__file__).resolve().parents[1])


# ---------------------------------------------------------------------------------------------
# the clock: past the limit from its k-th read by the library
# ---------------------------------------------------------------------------------------------
class ReadClock:
    """``time.perf_counter`` that counts the reads made by mentormatch's own code and, from
    the ``at``-th (None: never), reads 10**6 s later: the time limit passes exactly there.
    Read 1 is ``pair()``'s start, so ``at=1`` moves the start with the rest (no jump)."""

    def __init__(self, monkeypatch, at: int | None):
        self.at, self.reads, self.offset, real = at, 0, 0.0, time.perf_counter

        def read():
            if sys._getframe(1).f_globals.get("__name__", "").startswith("mentormatch"):
                self.reads += 1
                if self.reads == self.at:
                    self.offset = 1e6
            return real() + self.offset

        monkeypatch.setattr(time, "perf_counter", read)


def _pair_jumping(mentors, mentees, programme, kind, at):
    """``pair()`` on source ``kind`` with the clock jumping at read ``at``: (result or the
    exception raised, the reads made)."""
    with pytest.MonkeyPatch.context() as mp, on_source(kind):
        clock = ReadClock(mp, at)
        try:
            return mm.pair(mentors, mentees, programme), clock.reads
        except Exception as e:  # (judged by the caller)
            return e, clock.reads


def _reads_to_try(n: int, points: int = 5) -> list[int]:
    """Reads 2, 3, the last two and ``points`` more spread between them."""
    return sorted({k for k in [2, 3, n - 1, n, *np.linspace(2, n, points).round().astype(int)] if 2 <= k <= n})


def _kinds(seed: int) -> dict:
    """Ten programme kinds on ``_organisation(seed)`` (12-29 mentees, 4-9 mentors): the side
    constraints of ``_programmes``, max-min, leximin, and a priority column with and without a
    budget."""
    rng = np.random.default_rng(seed)
    mentors, mentees = _organisation(seed, n=int(rng.integers(12, 30)), m=int(rng.integers(4, 10)))
    out = dict(_programmes(mentors, mentees))
    plain = mentors.assign(min_capacity=0)
    out["maxmin"] = (plain, mentees, {"fairness": {"objective": "maxmin"}})
    out["leximin"] = (plain, mentees, {"fairness": {"objective": "leximin"}})
    first = mentees.assign(priority=(np.arange(len(mentees)) % 3 == 0).astype(float))
    out["priority"] = (plain, first, {})
    out["priority_budget"] = (plain, first, out["budget"][2])
    return out


def _bonus_optimum(complete) -> float:
    """``milp``'s optimum of score + the priority column's bonus (budget and capacities only)."""
    from mentormatch.constraints import priority_bonus

    bonus = priority_bonus(complete)
    p = complete.problem
    extra = 0.0 if bonus is None else bonus.on_pairs(p.pairs.mentee, p.pairs.mentor)
    return full_model_optimum(dataclasses.replace(p, score=p.score + extra))


def _leximin_total(name, reference, full):
    """``reference`` (``lex_milp``'s (M, t, T)) with, under leximin, T the total of ``full`` (the
    unlimited run, proven optimal): a leximin bound is on the leximin optimum's total, which can
    lie below max-min's T (max-min's 108.15, a leximin bound 107.24, with a share floor: s25h8)."""
    if name != "leximin":
        return reference
    assert full.status == "optimal"
    return (*reference[:2], float(full.objective))


def _judge_stop(r, mentors, mentees, programme, complete, reference):
    """What a stop at any read must hold (issue 23's checks), ``reference`` the whole model's
    optimum (``lex_milp``'s triple under max-min and leximin): every mentee once with a
    reason, every constraint recomputed from the tables, "optimal" only when proven (gap at
    most 1e-6) and at the optimum, a finite bound at least the optimum."""
    assert _accounted(r, mentees), "a mentee lost or counted twice"
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert r.status in ("optimal", "feasible")
    fair = programme.get("fairness", {}).get("objective")
    bonus = (r.certificate or {}).get("objective") == "score + bonus"
    if fair:
        M, t, T = reference
        got = np.sort(complete.problem.score[result_positions(complete, r)])
        assert len(got) <= M
        if r.status == "optimal":
            assert len(got) == M and (M == 0 or got[0] == pytest.approx(t, rel=1e-6))
        if r.bound is not None:
            assert r.bound >= T - 1e-6
    elif bonus:  # bound and gap None by design (pipeline/bonus.py): the adjusted figures
        adjusted, bound = r.certificate["adjusted_objective"], r.certificate.get("adjusted_bound")
        assert adjusted <= reference + 1e-6
        if r.status == "optimal":
            assert adjusted == pytest.approx(reference, abs=1e-6)
        if bound is not None:
            assert bound >= reference - 1e-6
    else:
        assert r.objective <= reference + 1e-6
        assert r.bound is not None and math.isfinite(r.bound) and r.bound >= reference - 1e-6
        if r.status == "optimal":
            assert r.gap is not None and r.gap <= 1e-6 and r.objective == pytest.approx(reference, abs=1e-6)
        else:
            assert r.gap is not None


CLOCK_SEED = 2417  # 24 mentees x 5 mentors
CLOCK_KINDS = _kinds(CLOCK_SEED)
_REFERENCES: dict = {}


def _reference(name):
    if name not in _REFERENCES:
        mentors, mentees, programme = CLOCK_KINDS[name]
        complete = pl.prepare(mentors, mentees, programme)
        scale = sum(w for w in Rules.coerce(programme).weights.values() if w > 0)
        ref = (lex_milp(complete.problem) if programme.get("fairness", {}).get("objective") else
               _bonus_optimum(complete) if "priority" in mentees else
               full_model_optimum(complete.problem, scale))
        _REFERENCES[name] = complete, ref
    return _REFERENCES[name]


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("name", ["budget", "budget_min_load", "min_load", "incentives", "balanced_load",
                                  "score_floor", "fractional", "coverage_first_budget", "maxmin", "leximin",
                                  "priority", "priority_budget"])
def test_the_time_limit_reached_at_any_clock_read(name, kind):
    """``_organisation(2417)`` (24 x 5) under each kind, ``time_limit`` 30 s and the clock
    jumping 10**6 s at sampled reads of the whole call (preparation, stages, flows, checks,
    ranks): never an exception (the empty assignment meets every one of these kinds), and
    :func:`_judge_stop`. ``priority_budget`` fails at 673effe: "optimal" with no pairs."""
    mentors, mentees, programme = CLOCK_KINDS[name]
    programme = {**programme, "time_limit": 30.0}
    complete, reference = _reference(name)
    full, n = _pair_jumping(mentors, mentees, programme, kind, None)
    assert not isinstance(full, Exception), full
    reference = _leximin_total(name, reference, full)
    _judge_stop(full, mentors, mentees, programme, complete, reference)
    for k in _reads_to_try(n):
        r, _ = _pair_jumping(mentors, mentees, programme, kind, k)
        assert not isinstance(r, Exception), f"read {k}: {type(r).__name__}: {r}"
        _judge_stop(r, mentors, mentees, programme, complete, reference)


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("rule", [{"budget": 2240.0}, {"incentives": True}])
def test_a_priority_bonus_stopped_before_its_relaxation_is_not_called_optimal(rule, kind):
    """20 mentees x 7 mentors (``_organisation(2401)``), a priority column on every third
    mentee, a budget or incentives, ``time_limit`` 1e-9 s. At 673effe: "optimal", objective
    0.0, no pairs, each mentee "excluded by the budget trade-off" (the score stage's bound
    with a bonus is infinite, and ``inf - 0 <= 1e-6 x inf`` passed as a proof). Now
    "feasible", timed out, each mentee left for the time limit, milp's optimum above it."""
    mentors, mentees = _organisation(2401, n=20, m=7)
    mentors = mentors.assign(min_capacity=0)
    mentees = mentees.assign(priority=(np.arange(20) % 3 == 0).astype(float))
    programme = {"constraints": rule}
    complete = pl.prepare(mentors, mentees, programme)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 1e-9})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    best = _bonus_optimum(complete) if "budget" in rule else None
    assert r.status == "feasible" and r.certificate["timed_out"], (r.status, r.objective)
    if best is not None:
        assert best > r.certificate["adjusted_objective"] + 1.0
    if len(r.pairs) == 0:
        assert r.unmatched["reason"].str.contains("time limit").all()


def test_an_infinite_bound_proves_nothing_and_leaves_an_infinite_gap():
    """``proven(inf, v)`` was True (``inf - v <= 1e-6 x inf``) and ``Solution.gap`` with an
    infinite bound was 0.0 (``max(0, inf / inf)`` is ``max(0, nan)``, 0): both read as a proof
    of optimality. Both fail at 673effe."""
    from mentormatch.solvers.base import Solution, proven

    assert not proven(math.inf, 0.0) and not proven(math.inf, 1e300)
    assert proven(5.0, 5.0 - 1e-7) and not proven(5.0, 4.0)
    assert Solution(np.zeros(0, np.int64), "feasible", 0.0, bound=math.inf).gap == math.inf
    assert Solution(np.zeros(0, np.int64), "feasible", 3.0, bound=4.0).gap == pytest.approx(0.25)


@pytest.mark.parametrize("kind", SOURCES)
def test_maxmin_under_a_budget_stopped_early_still_answers(kind):
    """``_organisation(2401)`` (20 x 7), max-min with a budget of 80 % of the plain optimum's
    stipends (2,240), ``time_limit`` 1e-6 s: "the time limit of 1e-06 s passed before any
    assignment meeting the constraints was found (CP-SAT)" on every source. The empty
    assignment meets the budget, so a stop answers with it (as the total's engine does)."""
    mentors, mentees = _organisation(2401, n=20, m=7)
    mentors = mentors.assign(min_capacity=0)
    programme = {"fairness": {"objective": "maxmin"}, "constraints": {"budget": 2240.0}}
    complete = pl.prepare(mentors, mentees, programme)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 1e-6})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []


@pytest.mark.parametrize("kind", SOURCES)
def test_locked_pairs_under_a_budget_stopped_early_answer_with_the_locks(kind):
    """``_organisation(2470)`` (18 x 6), a budget of 1,500 (the optimum: 5 pairs), every other
    pair of that optimum locked (3 pairs), ``time_limit`` 0.01 s: "the time limit of 0.01 s
    passed before any assignment meeting the constraints was found (score)" on every source.
    A programme's round 2 (pairs in force are its locks) stopped early raises the same. The
    locks alone meet the budget (recomputed below), so a stop answers with them."""
    mentors, mentees = _organisation(2470, n=18, m=6)
    mentors = mentors.assign(min_capacity=0)
    best = mm.pair(mentors, mentees, {"constraints": {"budget": 1500.0}})
    locks = best.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()[::2]
    programme = {"constraints": {"budget": 1500.0, "locked": locks}}
    mt = mentors.set_index("id")
    used = pd.Series([j for _, j in locks]).value_counts()
    assert float((mt.loc[used.index, "stipend_fixed"] + mt.loc[used.index, "stipend_per_mentee"] * used).sum()) <= 1500.0
    complete = pl.prepare(mentors, mentees, programme)
    with on_source(kind):
        r = mm.pair(mentors, mentees, {**programme, "time_limit": 0.01})
    assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
    assert set(map(tuple, locks)) <= set(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
def test_maxmin_and_leximin_stopped_inside_a_flow_have_a_bound(objective, kind):
    """``_organisation(2417)`` (24 x 5), plain tables, the clock jumping at each sampled read:
    every stop has a bound of at least ``lex_milp``'s T* (max-min; leximin: the total of the
    unlimited run's proven answer). Before session 25, every stop after the preparation on
    blocks and bounds had bound None."""
    mentors, mentees, programme = CLOCK_KINDS[objective]
    programme = {**programme, "time_limit": 30.0}
    complete, reference = _reference(objective)
    full, n = _pair_jumping(mentors, mentees, programme, kind, None)
    M, t, T = _leximin_total(objective, reference, full)
    for k in _reads_to_try(n):
        r, _ = _pair_jumping(mentors, mentees, programme, kind, k)
        assert r.bound is not None and r.bound >= T - 1e-6, (k, r.status, len(r.pairs))


# ---------------------------------------------------------------------------------------------
# the tie rule over ids: renames that keep or reverse every person's seeded rank
# ---------------------------------------------------------------------------------------------
def _copied_people(seed: int):
    """Mentees and mentors copied from three profiles each (ties everywhere), ids E000...,
    M000..., no id lists (preferences, managers), stipends that make a budget bind."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 20)), int(rng.integers(3, 7))
    mentors, mentees = mm.synthetic.organisation(n_mentees=3, n_mentors=3, seed=seed)
    me = mentees.iloc[rng.integers(0, 3, n)].reset_index(drop=True).assign(
        id=[f"E{k:03d}" for k in range(n)], manager_id="", preferences="", manager_suggestions="")
    mt = mentors.iloc[rng.integers(0, 3, m)].reset_index(drop=True).assign(
        id=[f"M{k:03d}" for k in range(m)], manager_id="", preferences="", stipend_fixed=100.0,
        stipend_per_mentee=50.0, bonus=300.0, reservation_value=0.0, min_capacity=0)
    return mt.assign(capacity=np.minimum(mt["capacity"], 2)), me


def _rank_rename(ids, prefix: str, reverse: bool, seed: int = 0) -> dict:
    """New ids whose seeded ranks (``seeded_order`` with the rules' ``seed``) are the old ones'
    (or reversed)."""
    ids = list(ids)
    rank = np.empty(len(ids), np.int64)
    rank[seeded_order(ids, seed)] = np.arange(len(ids))
    pool = [f"{prefix}{k:05d}" for k in range(len(ids))]
    by_rank = [pool[k] for k in seeded_order(pool, seed)]
    return {a: by_rank[len(ids) - 1 - r if reverse else r] for a, r in zip(ids, rank)}


TIE_PROGRAMMES = {"plain": {}, "plain_seed_7": {"seed": 7}, "budget_seed_7": {"seed": 7, "constraints": {"budget": 500.0}},
                  "budget": {"constraints": {"budget": 500.0}},
                  "balanced_load": {"constraints": {"balanced_load": True}},
                  "incentives": {"constraints": {"incentives": True}},
                  "coverage_first": {"constraints": {"coverage_first": True, "budget": 500.0}},
                  "maxmin": {"fairness": {"objective": "maxmin"}},
                  "leximin": {"fairness": {"objective": "leximin"}}, "priority": "column"}


@pytest.mark.parametrize("seed", [2433, 2436])
@pytest.mark.parametrize("name", sorted(TIE_PROGRAMMES))
def test_ties_follow_the_seeded_ranks_of_the_ids_not_rows_or_names(seed, name):
    """People copied from three profiles: renaming everyone so that each keeps their seeded
    rank gives the same pairs (mapped back), on every source, rows of both tables shuffled;
    renaming so that ranks reverse gives one answer on every source and row order, with the
    same status and objective."""
    mentors, mentees = _copied_people(seed)
    programme = TIE_PROGRAMMES[name]
    if programme == "column":
        mentees, programme = mentees.assign(priority=(np.arange(len(mentees)) % 2).astype(float)), {}
    rng = np.random.default_rng(seed)
    answers = {}
    for how in ("same", "keep", "reverse"):
        seeded = programme.get("seed", 0)
        a = {} if how == "same" else _rank_rename(mentors["id"], "Q", how == "reverse", seeded)
        b = {} if how == "same" else _rank_rename(mentees["id"], "R", how == "reverse", seeded)
        back = {v: k for k, v in {**a, **b}.items()}
        mt = mentors.assign(id=mentors["id"].map(a)) if a else mentors
        me = mentees.assign(id=mentees["id"].map(b)) if b else mentees
        for kind in SOURCES if how != "same" else ("complete",):
            if how != "same":
                mt = mt.iloc[rng.permutation(len(mt))].reset_index(drop=True)
                me = me.iloc[rng.permutation(len(me))].reset_index(drop=True)
            with on_source(kind):
                r = mm.pair(mt, me, programme)
            pairs = sorted((back.get(e, e), back.get(j, j)) for e, j in zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
            answers[how, kind] = (r.status, round(r.objective, 9), tuple(pairs))
    same = answers["same", "complete"]
    assert all(answers["keep", k] == same for k in SOURCES), answers
    reverse = {answers["reverse", k] for k in SOURCES}
    assert len(reverse) == 1 and next(iter(reverse))[:2] == same[:2]


# ---------------------------------------------------------------------------------------------
# rounds: a save failing part-way; hard priority on every source
# ---------------------------------------------------------------------------------------------
def _state(prog):
    return (prog.history.to_csv(), prog.outcomes.to_csv(),
            tuple((r.number, r.date, r.pairs.to_csv(), r.unmatched.to_csv()) for r in prog.rounds))


def test_a_save_failing_at_any_file_operation_leaves_a_whole_store(tmp_path):
    """A folder store after round 1; round 2 saved with ``OSError(ENOSPC)`` raised at each of
    the save's file operations in turn (``store.files.fault_hook``): the error reaches the
    caller, the store loads as round 1's state or round 2's, whole; the same programme then
    saves again, and a round 3 from the loaded store is the live programme's."""
    from mentormatch.programme import Programme
    from mentormatch.programme.store import files as F

    mentors, mentees = mm.synthetic.organisation(n_mentees=18, n_mentors=6, seed=2450)
    prog = Programme({"constraints": {"budget": 2500.0}}, allow_repeats=True, cooldown_rounds=1,
                     continuity=True, priority="weight")
    prog.run_round(mentors, mentees, date="2027-01-15")
    store = tmp_path / "store"
    prog.save(store)
    old = _state(Programme.load(store))
    prog.run_round(mentors, mentees.iloc[:15], date="2027-04-15")
    new = _state(prog)
    ops = []
    F.fault_hook = lambda op, path: ops.append(op)
    try:
        prog.save(tmp_path / "probe")  # (a first save: more operations than a second)
    finally:
        F.fault_hook = None
    assert len(ops) > 10
    for k in range(1, len(ops) + 1):
        count = [0]

        def fail(op, path):
            count[0] += 1
            if count[0] == k:
                raise OSError(errno.ENOSPC, "No space left on device", path)

        F.fault_hook = fail
        try:
            prog.save(store)
            failed = False
        except OSError:
            failed = True
        finally:
            F.fault_hook = None
        assert _state(Programme.load(store)) in (old, new), k
        if not failed:
            break
        Programme.load(store)  # (a load finishes or clears the failed save)
    prog.save(store)
    loaded = Programme.load(store)
    assert _state(loaded) == new
    live = prog.run_round(mentors, mentees.iloc[2:], date="2027-07-15")
    again = loaded.run_round(mentors, mentees.iloc[2:], date="2027-07-15")
    assert sorted(map(tuple, live.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist())) == \
        sorted(map(tuple, again.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))


@pytest.mark.parametrize("seed", [2461, 2462])
def test_hard_priority_rounds_with_joiners_and_leavers_on_every_source(seed):
    """Round 1 on few places; round 2 with a third of the mentors gone, new mentees and the
    pairs of round 1 in force: the same pairs on every source, every mentee of the round once,
    and at least as many of round 1's unmatched mentees matched as without priority (hard
    priority maximises that count first)."""
    from mentormatch.programme import Programme

    rng = np.random.default_rng(seed)
    mentors, mentees = mm.synthetic.organisation(n_mentees=int(rng.integers(16, 26)), n_mentors=7, seed=seed)
    mentors = mentors.assign(capacity=1, manager_id="", preferences="")  # (no ids of leavers)
    mentees = mentees.assign(manager_id="", preferences="", manager_suggestions="")
    n = len(mentees)
    first, joiners = mentees.iloc[: n - 5], mentees.iloc[n - 5:]
    out = {}
    for priority in ("hard", None):
        for kind in SOURCES:
            prog = Programme({}, allow_repeats=False, priority=priority)
            with on_source(kind):
                r1 = prog.run_round(mentors, first, date="2027-01-15")
                stay = mentors.iloc[[k for k in range(len(mentors)) if k % 3 != 1]]
                r2 = prog.run_round(stay.assign(capacity=2), pd.concat([first, joiners]), date="2027-04-15")
            assert _accounted(r2, pd.concat([first, joiners]))
            waiting = set(r1.unmatched["mentee_id"])
            out[priority, kind] = (sorted(map(tuple, r2.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist())),
                                   len(waiting & set(r2.pairs["mentee_id"])))
    for priority in ("hard", None):
        assert len({str(out[priority, k]) for k in SOURCES}) == 1
    assert out["hard", "complete"][1] >= out[None, "complete"][1] and out["hard", "complete"][1] > 0


# ---------------------------------------------------------------------------------------------
# the command line from a shell, on the public HR table
# ---------------------------------------------------------------------------------------------
def _shell(tmp: Path, *args: str, module: bool = False):
    """The command in a child process, this checkout's source first: (exit status, output)."""
    head = [sys.executable, "-m", "mentormatch"] if module else [sys.executable, "-c",
                                                              "import sys; from mentormatch.cli import main; sys.exit(main())"]
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("MENTORMATCH_DEBUG", None)
    p = subprocess.run([*head, *args], capture_output=True, text=True, env=env, cwd=tmp, timeout=300)
    return p.returncode, p.stdout + p.stderr


def _pair_args(tmp: Path, mentors="mentors.csv", mentees="mentees.csv", programme="prog.toml"):
    return ["pair", "--mentors", str(tmp / mentors), "--mentees", str(tmp / mentees),
            "--programme", str(tmp / programme), "--out", str(tmp / "out")]


def _edit(tmp: Path, name: str, change) -> None:
    encoding = "cp1252" if name == "mentees.csv" else "utf-8"
    table = pd.read_csv(tmp / name, dtype=str, keep_default_na=False, encoding=encoding)
    change(table).to_csv(tmp / name, index=False)


def _cell(column: str, row: int, value: str):
    return lambda t: t.assign(**{column: [value if k == row else v for k, v in enumerate(t[column])]})


BAD_EXPORTS = {  # name: (file, change, words the paragraph must hold)
    "column_typo": ("prog.toml", ("TotalWorkingYears", "TotalWorkingYear"), ["'TotalWorkingYear'", "line 1", "did you mean 'TotalWorkingYears'"]),
    "missing_column": ("mentors.csv", lambda t: t.drop(columns=["Slots"]), ["mentors", "line 1", "'Slots'", "capacity"]),
    "id_with_a_space": ("mentors.csv", lambda t: pd.concat([t, t.iloc[[1]].assign(EmployeeNumber=" " + t.EmployeeNumber.iloc[1])]),
                        ["mentors", "line 32", "spaces around it", "also on line 3", "trim_ids"]),
    "id_with_a_tab": ("mentees.csv", lambda t: pd.concat([t, t.iloc[[2]].assign(EmployeeNumber=t.EmployeeNumber.iloc[2] + "\t")]),
                      ["mentees", "line 52", "also on line 4"]),
    "manager_outside": ("mentees.csv", _cell("Manager", 3, "e77777"), ["mentees", "line 5", "'manager_id'", "'e77777'", "--org"]),
    "level_typo": ("mentors.csv", _cell("JobLevel", 4, "3a"), ["mentors", "line 6", "'level'", "'3a'", "whole number"]),
    "age_as_a_word": ("mentees.csv", _cell("Age", 5, "forty"), ["mentees", "line 7", "'age'", "'forty'", "a number"]),
    "negative_slots": ("mentors.csv", _cell("Slots", 2, "-1"), ["mentors", "line 4", "'capacity'", "'-1'", ">= 0"]),
    "blank_id": ("mentees.csv", _cell("EmployeeNumber", 6, ""), ["mentees", "line 8", "'id'", "non-empty"]),
    "weight_typo": ("prog.toml", ("experience =", "experiance ="), ["weights.experiance", "did you mean 'experience'"]),
    "group_typo": ("prog.toml", ('"Gender"', '"Gendr"'), ["'Gendr'", "did you mean 'Gender'"]),
}


@pytest.mark.skipif(not HR.exists(), reason="the public HR table is not on this machine")
def test_the_command_from_a_shell_on_the_hr_export(tmp_path):
    """``python -m mentormatch pair`` (fails at 673effe: no ``__main__``) on the cp1252 export:
    exit 0, every mentee row once in pairs.csv or unmatched.csv. Then each bad export of
    :data:`BAD_EXPORTS` through the command: exit 2, no traceback, one paragraph holding the
    table, line, column and value it names."""
    import shutil

    mentors, mentees = _hr_tables(tmp_path)
    code, said = _shell(tmp_path, *_pair_args(tmp_path), module=True)
    assert code == 0, said
    pairs = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype=str)
    left = pd.read_csv(tmp_path / "out" / "unmatched.csv", dtype=str)
    assert sorted(pairs["mentee_id"].tolist() + left["mentee_id"].tolist()) == sorted(mentees["EmployeeNumber"])
    for name, (file, change, words) in BAD_EXPORTS.items():
        tmp = tmp_path / name
        tmp.mkdir()
        for f in ("mentors.csv", "mentees.csv", "prog.toml"):
            shutil.copy(tmp_path / f, tmp / f)
        if file == "prog.toml":
            (tmp / file).write_text(HR_PROGRAMME.replace(*change))
        else:
            _edit(tmp, file, change)
        code, said = _shell(tmp, *_pair_args(tmp))
        assert code == 2 and "Traceback" not in said, (name, said)
        text = " ".join(said.split())
        assert text.startswith("mentormatch: invalid input:") and "\n\n" not in said.strip(), (name, said)
        for w in words:
            assert w in text, (name, w, text)


# ---------------------------------------------------------------------------------------------
# the report under each programme kind
# ---------------------------------------------------------------------------------------------
def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("name", ["budget", "min_load", "incentives", "balanced_load", "share_floor",
                                  "fractional", "coverage_first_budget", "maxmin", "leximin", "priority_budget"])
def test_the_report_states_every_person_and_recomputed_figures(name, tmp_path):
    """``_organisation(2405)`` under each kind, on bounds: the page names every pair (both ids)
    and every unmatched mentee; its headline counts, mean score and per-group rows (mentees,
    matched, share, mean score by region and gender) are the ones recomputed from the tables
    and the pairs; "proven best" only for an optimal answer."""
    mentors, mentees, programme = _kinds(2405)[name]
    with on_source("bounds"):
        r = mm.pair(mentors, mentees, programme)
        r.to_html(tmp_path / "r.html")
    text = _visible_text((tmp_path / "r.html").read_text())
    for x in [*r.pairs["mentee_id"], *r.pairs["mentor_id"], *r.unmatched["mentee_id"]]:
        assert str(x) in text
    matched = r.pairs["mentee_id"].nunique()
    assert f"{len(mentees)} mentees and {len(mentors)} mentors" in text
    assert f"{matched} mentees have a mentor and {len(mentees) - matched} do not" in text
    assert f"{r.pairs['score'].mean():.3f} mean match score" in text
    assert ("proven best" in text) == (r.status == "optimal")
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    for (e, j, s), q in zip(r.pairs[["mentee_id", "mentor_id", "score"]].to_numpy().tolist(),
                            result_positions(complete, r)):
        own = p.pairs.mentee == p.pairs.mentee[q]  # the mentee's eligible mentors, every one
        said = re.search(rf"\({e} · [^)]*\) → [^(]*\({j} · [^)]*\) match score ([0-9.]+) · "
                         rf"this mentor ranks (\d+) of (\d+)", text)
        assert said is not None, (e, j)
        assert float(said[1]) == pytest.approx(s, abs=6e-4) == pytest.approx(p.score[q], abs=6e-4)
        assert (int(said[2]), int(said[3])) == (1 + int(np.sum(p.score[own] > p.score[q] + 1e-12)), int(own.sum()))
    score = r.pairs.groupby("mentee_id")["score"].mean()
    for column in ("region", "gender"):
        for g, members in mentees.groupby(column)["id"]:
            got = score.reindex(members).dropna()
            share = f"{len(got) / len(members):.0%}"
            row = f"{column} {g} {len(members)} {len(got)} {share} "
            assert row in text, (row, name)
            shown = text[text.index(row) + len(row):].split(" ")[0]  # (to 4 significant digits)
            assert shown == "–" if not len(got) else float(shown) == pytest.approx(got.mean(), abs=6e-4)
