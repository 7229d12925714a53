"""Two edges of the pipeline that s19h7's hunt found wanting (tests/test_hunt_s19.py):

* a solver whose CP-SAT model would read an objective bonus as score in a constraint (max-min
  or leximin with a score floor, CP-SAT with incentives or a score floor) is refused with a
  ``ValidationError`` naming the settings on every source, and the command line exits 2 with
  one paragraph (before: a bare ``ValueError``, pipeline/bonus.py);
* an infeasibility names people by id on every source (before: "mentor #1" on blocks and
  bounds, where pipeline/large.py did not relabel the engine's diagnosis).
"""
from __future__ import annotations

import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.cli import main
from mentormatch.errors import InfeasibleError, ValidationError

from _support import on_source
from test_hunt_s19 import _maxmin_bonus_floor, _min_load_against_a_share_floor

SOURCES = ["complete", "blocks", "bounds"]


def _refusal(kind: str, programme_change: dict | None = None, mentors_change=None):
    """The ValidationError of ``pair()`` on the hunt's case (max-min, a priority bonus, a score
    floor) with ``programme_change`` merged in (a section's dict, or a top-level value)."""
    mentors, mentees, programme = _maxmin_bonus_floor()
    if mentors_change is not None:
        mentors = mentors_change(mentors)
    for key, value in (programme_change or {}).items():
        programme = {**programme, key: ({**programme.get(key, {}), **value}
                                        if isinstance(value, dict) else value)}
    with on_source(kind), pytest.raises(ValidationError) as err:
        mm.pair(mentors, mentees, programme)
    return err.value


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("kind", SOURCES)
def test_maxmin_or_leximin_with_a_bonus_and_a_score_floor_names_the_settings(kind, objective):
    """Fails on the old code (a bare ValueError)."""
    e = _refusal(kind, {"fairness": {"objective": objective}})
    [problem] = e.problems
    assert (problem.table, problem.column, problem.value) == ("programme", "fairness.score_floor", 0.5)
    for words in (f"fairness.objective {objective!r}", "constraints.priority_weight = 0",
                  "drop the bonus"):
        assert words in problem.expected, problem.expected


@pytest.mark.parametrize("kind", SOURCES)
def test_cpsat_with_a_bonus_and_incentives_names_the_setting_and_the_engine(kind):
    """``solver = "cpsat"`` with a bonus, a score floor and incentives that read the scores:
    one finding per constraint, each pointing to solver 'mip'."""
    e = _refusal(kind, {"fairness": {"objective": "total"}, "solver": "cpsat",
                        "constraints": {"incentives": True}},
                 mentors_change=lambda m: m.assign(stipend_fixed=0.0, stipend_per_mentee=0.0,
                                                   reservation_value=m["bonus"] * 0.5))
    assert [p.column for p in e.problems] == ["constraints.incentives", "fairness.score_floor"]
    for p in e.problems:
        assert "solver 'cpsat'" in p.expected and "use solver 'mip'" in p.expected


def test_the_command_line_exits_2_with_one_paragraph(tmp_path, capsys):
    """Fails on the old code's kind of error ("error:", not "invalid input:")."""
    mentors, mentees, _ = _maxmin_bonus_floor()
    mentors.to_csv(tmp_path / "mentors.csv", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    (tmp_path / "p.toml").write_text(
        '[constraints]\nmanagement_line = false\npriority_weight = 1.0\n'
        '[fairness]\nobjective = "maxmin"\nfloor_group = "region"\nscore_floor = 0.5\n')
    code = main(["pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees",
                 str(tmp_path / "mentees.csv"), "--out", str(tmp_path / "out"),
                 "--programme", str(tmp_path / "p.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("mentormatch: invalid input: programme, column 'fairness.score_floor'")
    assert "Traceback" not in err and "\n\n" not in err.strip()


@pytest.mark.parametrize("kind", SOURCES)
def test_an_infeasible_round_names_people_by_id_on_every_source(kind):
    """The same finding, by id, whatever the source: mentor 'E00003''s minimum load, with
    its fix; no index. Fails on the old code on blocks and bounds."""
    mentors, mentees, programme = _min_load_against_a_share_floor()
    with on_source(kind), pytest.raises(InfeasibleError) as err:
        mm.pair(mentors, mentees, programme)
    e = err.value
    assert "#" not in str(e)
    [load] = [c for c in e.conflicts if c.constraint == "min_load"]
    assert "mentor 'E00003' needs at least 2 mentees" in load.detail
    assert load.relaxation == "lower mentor 'E00003''s minimum to 1"
    assert isinstance(e, InfeasibleError) and not hasattr(e, "problem")  # the ids' error, plain


def test_a_pickled_diagnosis_keeps_its_conflicts():
    """A Diagnosed error crossing a process boundary (pair_many on an executor) keeps its
    conflicts and drops the problem."""
    import pickle

    from mentormatch.errors import Conflict
    from mentormatch.solvers.blame import Diagnosed

    e = pickle.loads(pickle.dumps(Diagnosed([Conflict("min_load", "mentor #1 ...", "fix")], object)))
    assert isinstance(e, Diagnosed) and e.problem is None and e.conflicts[0].detail == "mentor #1 ..."
