"""pair_many: the same results on every executor, failures kept in their slot, groups paired
apart with every mentee accounted for and the management line kept across groups."""
from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import batch
from mentormatch.errors import ValidationError


def same(a: mm.Matching, b: mm.Matching) -> None:
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    pd.testing.assert_frame_equal(a.contributions, b.contributions)
    for name in ("status", "objective", "bound", "gap", "solver"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.fixture(scope="module")
def jobs():
    out = []
    for seed, (n, m) in enumerate([(40, 12), (30, 9), (25, 10)]):
        mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
        out.append((mentors, mentees, {"weights": {"geography": 1.0 + seed, "competency": 2.0}}))
    return out


def test_every_executor_gives_the_sequential_results(jobs):
    sequential = mm.pair_many(jobs, progress=False)
    direct = [mm.pair(m, e, p) for m, e, p in jobs]
    with ThreadPoolExecutor(2) as threads:
        threaded = mm.pair_many(jobs, threads, progress=False)
    with ProcessPoolExecutor(2) as procs:
        processed = mm.pair_many(list(reversed(jobs)), procs, progress=False)[::-1]
    for s, d, t, p in zip(sequential, direct, threaded, processed):
        assert s.ok and t.ok and p.ok
        same(s.matching, d)
        same(s.matching, t.matching)
        same(s.matching, p.matching)
    assert [r.key for r in sequential] == [0, 1, 2]


def test_a_failing_job_keeps_its_error_in_its_slot(jobs):
    mentors, mentees, _ = jobs[0]
    bad = {"ok": jobs[0], "typo": (mentors, mentees, {"weights": {"geografy": 1.0}}),
           "empty": (mentors.iloc[:0], mentees, None), "ok2": jobs[1]}
    with ProcessPoolExecutor(2) as procs:
        results = mm.pair_many(bad, procs, progress=False)
    assert [r.key for r in results] == ["ok", "typo", "empty", "ok2"]
    assert [r.ok for r in results] == [True, False, False, True]
    typo = results[1]
    # the error crossed the process boundary with its findings intact
    assert isinstance(typo.error, ValidationError)
    assert [p.column for p in typo.error.problems] == ["weights.geografy"]
    assert "geography" in str(typo.error) and "ValidationError" in typo.traceback
    assert results[2].error.problems[0].table == "mentors"
    assert results[1].matching is None and results[1].n_mentees == len(mentees)
    with pytest.raises(ValidationError):
        results[1].unwrap()
    same(results[3].unwrap(), mm.pair(*jobs[1]))


def test_errors_survive_pickling():
    from mentormatch.errors import Conflict, InfeasibleError, Problem, UnknownNameError

    for exc in (ValidationError([Problem("mentors", "capacity", "M1", 3, -1, "a number >= 0")]),
                InfeasibleError(Conflict("budget", "budget 10 below the cheapest mentor (20)", "raise it")),
                UnknownNameError("solver", "flw", ["flow", "greedy"])):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)
        assert back.__dict__ == exc.__dict__


def test_an_unpicklable_exception_comes_back_as_job_error(monkeypatch, jobs):
    import mentormatch.pipeline as pipeline

    class Local(Exception):
        def __init__(self, a, b):  # pickles as Local(message): unpickling fails
            super().__init__(f"{a}/{b}")

    def broken(*args, **kwargs):
        raise Local("x", "y")

    monkeypatch.setattr(pipeline, "pair", broken)
    [result] = mm.pair_many(jobs[:1], progress=False)
    assert isinstance(result.error, batch.JobError)
    assert result.error.type_name == "Local" and result.error.message == "x/y"
    assert "broken" in result.traceback


def test_bad_jobs_and_executors_are_refused(jobs):
    mentors, mentees, _ = jobs[0]
    with pytest.raises(TypeError, match="job 0: expected a \\(mentors, mentees, programme\\)"):
        mm.pair_many([(mentors, mentees)], progress=False)
    with pytest.raises(TypeError, match="programme=... applies only with group"):
        mm.pair_many(jobs, programme={}, progress=False)
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        mm.pair_many(jobs, executor=object(), progress=False)


# --------------------------------------------------------------------------------------------
# one pair of tables, split by a group column
# --------------------------------------------------------------------------------------------
def test_groups_account_for_every_mentee_and_match_pairing_each_group():
    mentors, mentees = mm.synthetic.organisation(n_mentees=60, n_mentors=20, seed=4)
    mentees = mentees.assign(unit=np.where(np.arange(len(mentees)) % 3 == 0, "sales", "ops"))
    mentors = mentors.assign(unit=np.where(np.arange(len(mentors)) % 2 == 0, "sales", "ops"))
    mentees.loc[5, "unit"] = "legal"  # a group without mentors
    results = mm.pair_many((mentors, mentees), group="unit", programme={"seed": 3}, progress=False)
    assert [r.key for r in results] == ["legal", "ops", "sales"]
    legal, ops, sales = results
    assert not legal.ok and legal.n_mentees == 1
    problem = legal.error.problems[0]
    assert (problem.table, problem.column, problem.value) == ("mentors", "unit", "legal")
    assert "at least one mentor in group 'legal'" in str(legal.error)
    seen = []
    for r in (ops, sales):
        seen += r.matching.pairs["mentee_id"].tolist() + r.matching.unmatched["mentee_id"].tolist()
        # each group's mentors only
        unit = dict(zip(mentors["id"], mentors["unit"]))
        assert {unit[m] for m in r.matching.pairs["mentor_id"]} <= {r.key}
    assert sorted(seen + [mentees.loc[5, "id"]]) == sorted(mentees["id"])
    assert sum(r.n_mentees for r in results) == len(mentees)
    # each group's job is pair() on the group's rows (the split keeps nothing from other groups)
    for key, (m, e, rules) in batch.split_by_group(mentors, mentees, "unit", {"seed": 3}).items():
        if key != "legal":
            same(dict(zip([r.key for r in results], results))[key].matching, mm.pair(m, e, rules))


def test_groups_paired_apart_equal_the_whole_tables_with_cross_group_pairs_forbidden():
    # the problem decomposes by group: pairing each group apart is pairing the whole tables
    # with every cross-group pair forbidden (preference weight 0: preferences naming other
    # groups are dropped by the split, which would change that feature's values)
    mentors, mentees = mm.synthetic.organisation(n_mentees=60, n_mentors=20, seed=5)
    weights = {"geography": 1, "experience": 1, "competency": 2, "personality": 0.5, "readiness": 0.5}
    results = mm.pair_many((mentors, mentees), group="region", programme={"weights": weights},
                           progress=False)
    assert len(results) == 3 and all(r.ok for r in results)
    region_of = dict(zip(mentors["id"], mentors["region"]))
    forbid = [[e, m] for e, g in zip(mentees["id"], mentees["region"]) for m in mentors["id"]
              if region_of[m] != g]
    whole = mm.pair(mentors, mentees, {"weights": weights, "constraints": {"forbidden": forbid}})
    assert sum(r.matching.objective for r in results) == pytest.approx(whole.objective, rel=1e-12)
    apart = sorted(p for r in results
                   for p in zip(r.matching.pairs["mentee_id"], r.matching.pairs["mentor_id"]))
    assert apart == sorted(zip(whole.pairs["mentee_id"], whole.pairs["mentor_id"]))


def test_the_management_line_holds_across_groups():
    # A (mentee, east) is managed by X (mentee, west), who is managed by M (mentor, east):
    # M is in A's management line although the chain passes through another group.
    mentors = pd.DataFrame({"id": ["M", "N"], "capacity": [1, 1], "unit": ["east", "west"],
                            "manager_id": ["", ""]})
    mentees = pd.DataFrame({"id": ["A", "X"], "unit": ["east", "west"], "manager_id": ["X", "M"]})
    jobs = batch.split_by_group(mentors, mentees, "unit")
    assert jobs["east"][1]["manager_id"].tolist() == ["M"]
    assert jobs["west"][1]["manager_id"].tolist() == [""]
    east, west = mm.pair_many((mentors, mentees), group="unit", progress=False)
    assert east.ok and len(east.matching.pairs) == 0
    assert east.matching.unmatched["reason_code"].tolist() == ["no_eligible_mentor"]
    assert "management" in east.matching.unmatched["reason"].iloc[0]
    # X is the manager of A only; in west X may be paired with N
    assert west.matching.pairs[["mentee_id", "mentor_id"]].values.tolist() == [["X", "N"]]


def test_a_row_without_a_group_is_named():
    mentors, mentees = mm.synthetic.organisation(n_mentees=10, n_mentors=4, seed=1)
    mentees.loc[3, "region"] = None
    with pytest.raises(ValidationError) as info:
        mm.pair_many((mentors, mentees), group="region", progress=False)
    [problem] = info.value.problems
    assert (problem.table, problem.column, problem.row_id) == ("mentees", "region", mentees.loc[3, "id"])
    with pytest.raises(ValidationError, match="group column 'unit'"):
        mm.pair_many((mentors, mentees), group="unit", progress=False)


# --------------------------------------------------------------------------------------------
# a real Dask cluster (worker processes)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_a_dask_cluster_gives_the_sequential_results(jobs, dask_client):
    mentors, mentees, _ = jobs[0]
    work = jobs + [(mentors, mentees, {"solver": "no-such-solver"})]
    sequential = mm.pair_many(work, progress=False)
    on_dask = mm.pair_many(work, dask_client.get_executor(), progress=False)
    client_itself = mm.pair_many(work, dask_client, progress=False)
    for s, d, c in zip(sequential[:-1], on_dask[:-1], client_itself[:-1]):
        same(s.matching, d.matching)
        same(s.matching, c.matching)
    assert not on_dask[-1].ok and on_dask[-1].error.problems[0].column == "solver"


def test_the_batch_benchmark_runs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("distributed")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / "batch.py"), "--programmes", "2",
                           "--mentees", "30", "--mentors", "10", "--quiet", "--write", "B.md"],
                          capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "results identical: True" in proc.stdout
    section = (tmp_path / "B.md").read_text()
    assert section.count("<!-- batch: begin -->") == 1 and "**identical**" in section
    assert "| sequential |" in section and "| cluster (2 workers) |" in section


def test_a_pickled_result_leaves_out_what_cannot_travel(jobs):
    import dataclasses
    import functools

    result = mm.pair(*jobs[0])
    # a cached builder of every eligible pair, as the scale path keeps one
    result = dataclasses.replace(result, record=dataclasses.replace(
        result.record, full_problem=functools.cache(lambda: 1)))
    back = pickle.loads(pickle.dumps(result))
    assert "full_problem" not in back.data and back.data["not_transferred"] == ["full_problem"]
    assert back.record.full_problem is None and back.record.not_transferred == ["full_problem"]
    assert "full_problem" in result.data  # the original keeps it
    same(back, result)
    plain = pickle.loads(pickle.dumps(mm.pair(*jobs[1])))
    assert "not_transferred" not in plain.data
