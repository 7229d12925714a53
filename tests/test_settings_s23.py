"""Nothing silent, limits that hold (session 23): settings the tables leave without effect are
noted (naming the setting, the value, the rows), a contradiction of settings is refused (also
on the command line, exit 2 and one paragraph), and time limits count from the call."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import ValidationError
from mentormatch.report.export import write_csv


def _tables(n_mentees=12, n_mentors=5, seed=1):
    return mm.synthetic.organisation(n_mentees=n_mentees, n_mentors=n_mentors, seed=seed)


def _notes_with(result, word):
    return [n for n in result.notes if word in n]


# -- a city nobody knows ------------------------------------------------------------------

def test_an_unresolvable_city_is_noted_naming_the_column_value_row_and_line(tmp_path):
    mentors, mentees = _tables()
    mentees = mentees.copy()
    mentees.loc[[2, 5], ["latitude", "longitude"]] = np.nan
    mentees.loc[[2, 5], "city"] = "Atlantisville"
    mentees.loc[[2, 5], "country"] = "GB"
    path = write_csv(mentees, tmp_path / "mentees.csv")
    result = mm.pair(mentors, path, {"weights": {"geography": 1.0, "experience": 1.0}})
    notes = _notes_with(result, "Atlantisville")
    assert len(notes) == 1, result.notes
    note = notes[0]
    for word in ("mentees", "'city'", "(GB)", "2 row(s)", "latitude"):
        assert word in note
    # rows by id and file line (header = line 1)
    for r in (2, 5):
        assert f"id {mentees.loc[r, 'id']!r} (line {r + 2})" in note
    # the rows are still paired or unmatched with a reason: a note, not a refusal
    out = set(result.pairs["mentee_id"]) | set(result.unmatched["mentee_id"])
    assert out == set(mentees["id"])


def test_a_known_city_a_city_with_coordinates_or_a_remote_geography_gives_no_city_note():
    mentors, mentees = _tables()
    mentees = mentees.copy()
    mentees.loc[1, "city"] = "Atlantisville"  # latitude/longitude still given: not needed
    mentees.loc[3, ["latitude", "longitude"]] = np.nan  # London, resolved
    result = mm.pair(mentors, mentees, {"weights": {"geography": 1.0}})
    assert not _notes_with(result, "city"), result.notes
    mentees.loc[1, ["latitude", "longitude"]] = np.nan
    remote = mm.pair(mentors, mentees, {"weights": {"geography": 1.0},
                                        "features": {"geography": {"mode": "remote"}}})
    assert not _notes_with(remote, "city"), remote.notes
    hybrid = mm.pair(mentors, mentees, {"weights": {"geography": 1.0}})
    assert len(_notes_with(hybrid, "Atlantisville")) == 1
    off = mm.pair(mentors, mentees, {"weights": {"experience": 1.0}})
    assert not _notes_with(off, "Atlantisville")


# -- settings the tables leave without effect -------------------------------------------

def test_floor_group_without_a_floor_is_noted_and_the_pairs_are_the_unconstrained_ones():
    mentors, mentees = _tables(20, 6)
    plain = mm.pair(mentors, mentees)
    grouped = mm.pair(mentors, mentees, {"fairness": {"floor_group": "region"}})
    notes = _notes_with(grouped, "floor_group")
    assert len(notes) == 1 and "'region'" in notes[0] and "score_floor" in notes[0]
    assert not _notes_with(plain, "floor_group")
    assert grouped.pairs[["mentee_id", "mentor_id"]].equals(plain.pairs[["mentee_id", "mentor_id"]])
    floored = mm.pair(mentors, mentees, {"fairness": {"floor_group": "region", "share_floor": 0.5}})
    assert not _notes_with(floored, "floor_group")


@pytest.mark.parametrize("priority", [None, 0.0])
def test_priority_weight_without_a_priority_is_noted_with_its_value(priority):
    mentors, mentees = _tables()
    if priority is not None:
        mentees = mentees.assign(priority=priority)
    result = mm.pair(mentors, mentees, {"constraints": {"priority_weight": 2.5}})
    notes = _notes_with(result, "priority_weight")
    assert len(notes) == 1 and "(2.5)" in notes[0]
    assert ("no priority column" if priority is None else "above 0") in notes[0]
    used = mm.pair(mentors, mentees.assign(priority=[1.0] + [0.0] * (len(mentees) - 1)),
                   {"constraints": {"priority_weight": 2.5}})
    assert not _notes_with(used, "priority_weight")


# -- a solver the fairness objective would leave unused ---------------------------------

@pytest.mark.parametrize("solver,objective", [("stable", "leximin"), ("hungarian", "maxmin"),
                                              ("maxmin", "leximin"), ("cpsat", "maxmin")])
def test_a_solver_beside_a_fairness_objective_is_refused_naming_both(solver, objective):
    mentors, mentees = _tables()
    with pytest.raises(ValidationError) as info:
        mm.pair(mentors, mentees, {"solver": solver, "fairness": {"objective": objective}})
    (problem,) = info.value.problems
    assert problem.column == "solver" and problem.value == solver
    assert f"fairness.objective = {objective!r}" in problem.expected


@pytest.mark.parametrize("solver,objective", [("flow", "leximin"), ("maxmin", "maxmin"),
                                              ("leximin", "total"), ("stable", "total")])
def test_a_solver_the_objective_agrees_with_is_accepted(solver, objective):
    mentors, mentees = _tables()
    result = mm.pair(mentors, mentees, {"solver": solver, "fairness": {"objective": objective}})
    expected = solver if objective == "total" else objective
    assert result.solver == expected


def test_the_command_line_refuses_the_solver_beside_leximin_with_exit_2_and_one_paragraph(tmp_path):
    mentors, mentees = _tables()
    m = write_csv(mentors, tmp_path / "mentors.csv")
    e = write_csv(mentees, tmp_path / "mentees.csv")
    toml = tmp_path / "p.toml"
    toml.write_text('solver = "stable"\n[fairness]\nobjective = "leximin"\n')
    p = subprocess.run([sys.executable, "-m", "mentormatch.cli", "pair", "--mentors", str(m),
                        "--mentees", str(e), "--out", str(tmp_path / "out"), "--programme", str(toml)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    text = p.stderr.strip()
    assert "\n\n" not in text and text.startswith("mentormatch: invalid input")
    assert "'stable'" in text and "leximin" in text and "solver" in text


# -- assign(): the limit counts from the call and the result carries it -----------------

def _scores(n=40, m=10, seed=0):
    rng = np.random.default_rng(seed)
    s = pd.DataFrame(rng.random((n, m)), index=[f"e{i}" for i in range(n)],
                     columns=[f"m{j}" for j in range(m)])
    return s, pd.Series(3, index=s.columns)


def _optimum(s, cap):
    from scipy.optimize import linear_sum_assignment

    expanded = np.repeat(s.to_numpy(), cap.to_numpy(), axis=1)
    r, c = linear_sum_assignment(expanded, maximize=True)
    return float(expanded[r, c].sum())


def test_assign_gives_the_solver_its_limit_counted_from_the_call(monkeypatch):
    import time

    from mentormatch import solvers
    from mentormatch.solvers import get_solver

    seen = []
    flow = get_solver("hungarian")

    def spy(problem, options):
        seen.append((options, time.perf_counter()))
        return flow(problem, options)

    monkeypatch.setitem(solvers.SOLVERS, "spy_s23", spy)
    s, cap = _scores()
    before = time.perf_counter()
    mm.assign(s, cap, solver="spy_s23", time_limit=5.0)
    ((options, at),) = seen
    assert options.time_limit == 5.0
    assert options.started is not None and before <= options.started <= at


@pytest.mark.parametrize("solver", ["flow", "mip", "cpsat", "hungarian"])
def test_assign_records_its_limit_and_explanations_share_it(solver):
    from mentormatch.report.forced import resolve_options

    s, cap = _scores(12, 4)
    result = mm.assign(s, cap, solver=solver, time_limit=0.75)
    assert result.record.time_limit == 0.75
    assert resolve_options(result.data).time_limit == 0.75
    assert mm.assign(s, cap, solver=solver).record.time_limit is None


def test_an_assign_explanation_stops_its_re_solves_at_the_calls_limit():
    s, cap = _scores(12, 4)
    result = mm.assign(s, cap, time_limit=1e-6)  # one flow over every pair: runs whole
    assert result.status == "optimal"
    text = str(result.explain(result.pairs["mentee_id"].iloc[0]))
    assert "the time limit (1e-06 s) passed before its re-solve" in text


def test_assign_mip_stopped_at_its_limit_answers_feasible_with_a_bound_and_every_row():
    s, cap = _scores(40, 10)
    result = mm.assign(s, cap, solver="mip", time_limit=1e-6)
    best = _optimum(s, cap)
    assert result.status == "feasible" and result.bound is not None
    assert result.bound >= best - 1e-9 and result.objective <= best + 1e-9
    got = sum(s.loc[a, b] for a, b in zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    assert result.objective == pytest.approx(got)
    out = list(result.pairs["mentee_id"]) + list(result.unmatched["mentee_id"])
    assert sorted(out) == sorted(s.index)
    left = set(result.unmatched["mentee_id"]) - set(result.pairs["mentee_id"])
    codes = result.unmatched.set_index("mentee_id").loc[sorted(left), "reason_code"]
    # s24: the plain flow's assignment (solvers/fallback.py), which fills every place here; a
    # mentee left out is "capacity_taken" only when every mentor is full, else "time_limit"
    full = (result.pairs["mentor_id"].value_counts().reindex(cap.index, fill_value=0) >= cap).all()
    assert (codes == "time_limit").all() or (full and (codes == "capacity_taken").all())


# -- the audit's fairness figures, as documented ------------------------------------------

def test_the_audits_group_scores_count_each_matched_mentee_once_by_their_best_pair():
    mentors, mentees = _tables(30, 10, seed=2)
    mentees = mentees.assign(mentors_needed=2)
    result = mm.pair(mentors, mentees, {"fairness": {"groups": ["region"]}})
    assert result.pairs.groupby("mentee_id").size().max() == 2  # some mentee has two mentors
    best = result.pairs.groupby("mentee_id")["score"].max()
    region = mentees.set_index("id")["region"]
    table = result.audit(seeds=2).fairness
    for g, row in table[table["attribute"] == "region"].set_index("group").iterrows():
        members = region.index[region == g]
        got = best.reindex(members).dropna()
        assert row["mentees"] == len(members) and row["matched"] == len(got)
        assert row["mean_score"] == pytest.approx(got.mean())
        assert row["min_score"] == pytest.approx(got.min())


# -- pair(): preparation stops at the limit -----------------------------------------------

def _spy_scoring(monkeypatch):
    """The pairs score_pairs is asked to score, call by call."""
    from mentormatch import scoring

    asked = []
    real = scoring.score_pairs

    def spy(mentees, mentors, candidates, rules, context):
        asked.append(len(candidates))
        return real(mentees, mentors, candidates, rules, context)

    monkeypatch.setattr(scoring, "score_pairs", spy)
    return asked


@pytest.mark.parametrize("seed", [1, 2])
def test_a_limit_passed_before_scoring_scores_only_the_locked_rows_and_accounts_for_every_row(
        monkeypatch, seed):
    mentors, mentees = _tables(40, 12, seed=seed)
    full = mm.pair(mentors, mentees)
    (lock,) = full.pairs[["mentee_id", "mentor_id"]].head(1).to_numpy().tolist()
    programme = {"constraints": {"locked": [lock]}}
    reference = mm.pair(mentors, mentees, programme)
    assert reference.status == "optimal"
    asked = _spy_scoring(monkeypatch)
    stopped = mm.pair(mentors, mentees, {**programme, "time_limit": 1e-6})
    assert asked == [len(mentors)]  # the locked mentee's row alone, never every pair
    assert stopped.status == "feasible" and "before the pairs were scored" in stopped.certificate["message"]
    assert stopped.certificate["timed_out"] is True
    # the locks alone, every other mentee "time_limit"; every row accounted for once
    assert stopped.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist() == [lock]
    assert sorted(stopped.unmatched["mentee_id"]) == sorted(set(mentees["id"]) - {lock[0]})
    assert (stopped.unmatched["reason_code"] == "time_limit").all()
    # a bound over every assignment: at least the proven optimum, and the objective recomputed
    assert stopped.bound >= reference.objective - 1e-9
    row = reference.pairs.set_index(["mentee_id", "mentor_id"]).loc[tuple(lock)]
    got = stopped.pairs.iloc[0]
    assert stopped.objective == pytest.approx(row["score"]) == pytest.approx(got["score"])
    # the locked mentee's row is read whole: its rank and eligible count are the full round's
    assert (got["rank"], got["eligible_mentors"]) == (row["rank"], row["eligible_mentors"])
    # row order decides nothing
    shuffled = mm.pair(mentors.sample(frac=1, random_state=seed), mentees.sample(frac=1, random_state=seed),
                       {**programme, "time_limit": 1e-6})
    assert shuffled.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist() == [lock]
    assert shuffled.bound == pytest.approx(stopped.bound)


def test_a_stopped_preparation_still_refuses_an_ineligible_lock():
    mentors, mentees = _tables(20, 6)
    full = mm.pair(mentors, mentees)
    (lock,) = full.pairs[["mentee_id", "mentor_id"]].head(1).to_numpy().tolist()
    with pytest.raises(mm.errors.InfeasibleError, match="forbidden"):
        mm.pair(mentors, mentees, {"time_limit": 1e-6,
                                   "constraints": {"locked": [lock], "forbidden": [lock]}})


def test_side_constraints_are_prepared_whole_at_a_passed_limit(monkeypatch):
    """The locks alone may break a floor or a minimum load: such a round is scored whole and
    the solver answers meeting every constraint, or says that the limit passed first."""
    from mentormatch.errors import TimeLimitError

    mentors, mentees = _tables(30, 8)
    asked = _spy_scoring(monkeypatch)
    try:
        result = mm.pair(mentors, mentees, {"time_limit": 1e-6, "fairness": {
            "floor_group": "region", "share_floor": 0.5}})
    except TimeLimitError as exc:  # (today's engine: no assignment found in the time)
        result = None
        assert "1e-06 s" in str(exc)
    assert asked == [len(mentors) * len(mentees)]
    if result is not None:
        assert "before the pairs were scored" not in (result.certificate or {}).get("message", "")
        out = list(result.pairs["mentee_id"]) + list(result.unmatched["mentee_id"])
        assert sorted(set(out)) == sorted(mentees["id"])


def test_assign_cpsat_stopped_at_its_limit_gives_time_limit_reasons_not_no_gain():
    """CP-SAT (and its flow start) stopped before any pair: the unmatched were not shown to
    gain nothing, so their reason is the time limit (was "no_gain": "scores 0.935 (not above
    0)")."""
    s, cap = _scores(60, 15)
    result = mm.assign(s, cap, solver="cpsat", time_limit=1e-6)
    assert result.status == "feasible" and result.certificate["timed_out"] is True
    assert result.bound >= _optimum(s, cap) - 1e-9
    left = result.unmatched.set_index("mentee_id")
    unpaired = sorted(set(s.index) - set(result.pairs["mentee_id"]))
    codes = left.loc[unpaired, "reason_code"]
    # s24: the plain flow's assignment (cpsat._flow_start, fallback.plain_flow), which fills
    # every place here: "capacity_taken" then, never "no_gain"
    full = (result.pairs["mentor_id"].value_counts().reindex(cap.index, fill_value=0) >= cap).all()
    assert len(unpaired) and ((codes == "time_limit").all() or (full and (codes == "capacity_taken").all()))


# -- the count bound: one fact, one coding (fair_bounds.most_pairs; held.count_bounds reads it) --

def test_the_count_bound_is_valid_and_held_and_fair_bounds_give_the_same():
    """Brute force (scipy milp) on 150 tiny rounds: the most pairs of any assignment <= held's
    U == count_bound's U with no side constraint (s24: one function, held's tighter mentor
    term; until then count_bound was looser, below)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from mentormatch.pipeline import held
    from mentormatch.solvers.fair_bounds import count_bound
    from mentormatch.solvers.figures import Figures

    rng = np.random.default_rng(23)
    for _ in range(150):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        ok = rng.random((n, m)) < 0.6
        demand = rng.integers(0, 3, n)
        load = np.ones(n) if rng.random() < 0.4 else rng.choice([0.5, 1.0, 1.5], n)
        cap = rng.choice([0.0, 1.0, 1.5, 2.0, 3.0], m)
        i, j = np.nonzero(ok)
        most = 0
        if len(i):
            rows = [np.eye(n)[i].T, (np.eye(m)[j] * load[i][:, None]).T]
            res = milp(-np.ones(len(i)), integrality=np.ones(len(i)), bounds=Bounds(0, 1),
                       constraints=[LinearConstraint(rows[0], 0, demand),
                                    LinearConstraint(rows[1], 0, cap)])
            most = int(round(-res.fun))
        sv = held.Survey(np.zeros(1), np.zeros(1, np.int64),
                         Figures(ok.sum(axis=1), np.zeros(n), ok.sum(axis=0), np.zeros(m)))
        u_held, _ = held.count_bounds(sv, demand, load, cap)
        u_fair = count_bound(sv.figures, cap, demand, load, None)
        assert most <= u_held == u_fair
    # the mentor term counts the lightest loads of the mentees who can be matched, even with
    # whole loads: a mentee needing 2, one mentor of capacity 2 and one of 0: the true most is
    # 1 (673effe: count_bound 2)
    sv = held.Survey(np.zeros(1), np.zeros(1, np.int64),
                     Figures(np.array([2, 2]), np.zeros(2), np.array([2, 2]), np.zeros(2)))
    demand, cap = np.array([2, 0]), np.array([2.0, 0.0])
    assert held.count_bounds(sv, demand, None, cap) == (1, 1)
    assert count_bound(sv.figures, cap, demand, None, None) == 1


def test_the_scale_path_stops_before_its_scorer_as_the_complete_set_does(monkeypatch):
    from mentormatch import pipeline

    mentors, mentees = _tables(40, 12, seed=4)
    full = mm.pair(mentors, mentees)
    (lock,) = full.pairs[["mentee_id", "mentor_id"]].head(1).to_numpy().tolist()
    programme = {"constraints": {"locked": [lock]}, "time_limit": 1e-6}
    complete = mm.pair(mentors, mentees, programme)
    monkeypatch.setattr(pipeline, "LARGE_PAIRS", 100)
    asked = _spy_scoring(monkeypatch)
    large = mm.pair(mentors, mentees, programme)
    assert asked == [len(mentors)]
    assert large.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist() == [lock]
    assert (large.status, large.objective, large.bound) == (complete.status, complete.objective, complete.bound)
    assert sorted(large.unmatched["mentee_id"]) == sorted(complete.unmatched["mentee_id"])
