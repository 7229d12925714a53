"""The problem of every eligible pair is refused up front, with the estimate and what works
instead, when the pairs do not fit: never a MemoryError from deep inside numpy; max-min and
leximin under side constraints answer there (solvers/fair_source.py). Stable,
max-min, leximin and the baselines run on the same round, reading the pairs on demand."""
from __future__ import annotations

import pickle

import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.errors import MentormatchError, TooLargeError
from mentormatch.pipeline import large, memory


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(memory, "available_memory", lambda: 20 * 1024.0 ** 2)  # 20 MiB: 120,000 pairs need 26 MiB


def test_leximin_under_side_constraints_answers_where_its_pairs_do_not_fit(monkeypatch):
    """Leximin under side constraints where even the pairs above a proven threshold do not fit
    (here room for 400 pairs): refused before (s21: ``TooLargeError`` naming the threshold);
    now the engine's plan and the flow leximin at its loads answer (solvers/fair_source.py),
    meeting the constraint, "feasible" with a bound; the problem of every pair is still
    refused, with the estimate."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(memory, "available_memory", lambda: 400 * memory.BYTES_PER_CPSAT_PAIR / 0.8)
    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    r = pl.pair(mentors, mentees, {"fairness": {"objective": "leximin", "groups": ["gender"]},
                                   "constraints": {"balanced_load": True}})
    loads = r.pairs.groupby("mentor_id").size()
    assert len(r.pairs) > 0 and loads.max() - loads.min() <= 1
    assert r.status == "feasible" and r.bound >= r.objective
    assert "held" not in r.certificate and r.certificate["count_bound"] >= len(r.pairs)
    with pytest.raises(TooLargeError) as info:
        r.record.full_problem()
    err = info.value
    assert isinstance(err, MentormatchError) and err.pairs > 400
    assert "available" in str(err)
    assert pickle.loads(pickle.dumps(err)).pairs == err.pairs


def test_stable_max_min_and_the_baselines_run_where_every_pair_would_not_fit(small_machine):
    """On a machine where every pair would not fit (20 MiB available for 120,000 pairs),
    stable, max-min and the baselines still run: none of them holds every pair."""
    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    result = pl.pair(mentors, mentees)
    assert result.status == "optimal"
    maxmin = pl.pair(mentors, mentees, {"fairness": {"objective": "maxmin"}})
    assert maxmin.status == "optimal"
    stable = pl.pair(mentors, mentees, {"solver": "stable"})
    assert stable.certificate["blocking_pairs"] == 0
    assert stable.certificate["pairs_read"] < 600 * 200 / 4  # each mentee's next candidates only
    for name in ("random", "greedy", "stable"):
        base = pl.baseline(result, name, seed=1)
        assert base.objective <= result.objective + 1e-9
        assert len(base.pairs) + len(base.unmatched) == 600
    with pytest.raises(TooLargeError):  # the problem of every pair itself is still refused
        result.record.full_problem()


def test_leximin_runs_where_every_pair_would_not_fit(monkeypatch):
    """Leximin with unit loads and no side constraint holds no pair list on the scale path
    (solvers/leximin_source.py): it runs where every pair would not fit (here 12,000 pairs on a
    machine said to have room for 9,000), and it is proven."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(memory, "available_memory", lambda: 9000 * memory.BYTES_PER_HELD_PAIR / 0.8)
    mentors, mentees = synthetic.organisation(n_mentees=120, n_mentors=100, seed=3)
    result = pl.pair(mentors, mentees, {"fairness": {"objective": "leximin", "groups": ["gender"]}})
    assert result.status == "optimal" and result.certificate["holds"]
    assert result.certificate["pairs_held"] < 9000
    with pytest.raises(TooLargeError):  # the problem of every pair itself is refused
        result.record.full_problem()


def test_what_fits_runs(monkeypatch):
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=20, seed=3)
    result = pl.pair(mentors, mentees, {"solver": "stable"})
    assert result.certificate["blocking_pairs"] == 0


def test_the_audit_and_the_command_line_have_their_baselines(small_machine):
    import io

    from mentormatch.cli import _print_summary, _random_baseline

    mentors, mentees = synthetic.organisation(n_mentees=600, n_mentors=200, seed=3)
    result = pl.pair(mentors, mentees)
    audit = result.audit(seeds=3)
    assert list(audit.lift["method"]) == ["result", "random", "greedy", "stable"]
    assert not any("baseline" in n for n in audit.notes)
    rnd = _random_baseline(result, 0)
    assert not isinstance(rnd, str) and rnd.objective < result.objective
    out = io.StringIO()
    _print_summary(result, rnd, stream=out)
    assert "not computed" not in out.getvalue()


def test_a_time_out_is_not_called_infeasible(monkeypatch):
    """When the engine's time runs out before any assignment meeting the constraints is found
    (forced here: no candidate assignment counts as feasible) and none was proven impossible,
    the error is a TimeLimitError that says so, never an InfeasibleError (which claims a proof)."""
    import pickle

    from mentormatch.errors import InfeasibleError, TimeLimitError
    from mentormatch.solvers import relax

    monkeypatch.setattr(relax.Run, "feasible", lambda self, cand, on: False)
    mentors, mentees = synthetic.organisation(n_mentees=120, n_mentors=40, seed=3)
    prog = {"fairness": {"share_floor": 0.6, "floor_group": "region"}, "time_limit": 5}
    with pytest.raises(MentormatchError) as info:
        pl.pair(mentors, mentees, prog)
    assert not isinstance(info.value, InfeasibleError)
    assert isinstance(info.value, TimeLimitError) and "none was proven impossible" in str(info.value)
    assert "time limit of 5 s" in str(info.value)
    assert pickle.loads(pickle.dumps(info.value)).stage == info.value.stage
