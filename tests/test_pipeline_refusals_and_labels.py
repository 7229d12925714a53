"""Two edges of the pipeline that s19h7's hunt found wanting (tests/test_hunt_s19.py):

* a solver whose CP-SAT model reads the scores in a constraint (max-min or leximin with a score
  floor, CP-SAT with incentives or a score floor) beside an objective bonus: refused in
  session 19 (a ``ValidationError``), solved since s20h3 on every source and from the command
  line, the constraints on the plain scores and the bonus in the objective only
  (pipeline/bonus.py);
* an infeasibility names people by id on every source (before: "mentor #1" on blocks and
  bounds, where pipeline/large.py did not relabel the engine's diagnosis).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import constraints as C
from mentormatch import pipeline as pl
from mentormatch.cli import main
from mentormatch.errors import InfeasibleError
from mentormatch.testing import feasible_assignments

from _support import best_rows, on_source, result_positions, table_violations
from test_hunt_s19 import _maxmin_bonus_floor, _min_load_against_a_share_floor

SOURCES = ["complete", "blocks", "bounds"]


def _hunt_case(programme_change: dict | None = None, mentors_change=None):
    """The hunt's case (max-min, a priority bonus, a score floor) with ``programme_change``
    merged in (a section's dict, or a top-level value)."""
    mentors, mentees, programme = _maxmin_bonus_floor()
    if mentors_change is not None:
        mentors = mentors_change(mentors)
    for key, value in (programme_change or {}).items():
        programme = {**programme, key: ({**programme.get(key, {}), **value}
                                        if isinstance(value, dict) else value)}
    return mentors, mentees, programme


def _brute_best(mentors, mentees, programme, objective: str) -> list:
    """Brute force's optimal assignments (as sorted positions in the complete set) on
    ``score + bonus``, the constraints on the plain scores (max-min: most pairs, worst, total;
    leximin: most pairs, sorted vector; else the total)."""
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    value = p.score + C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    bf = feasible_assignments(p)
    return [np.flatnonzero(bf.x[r]).tolist() for r in best_rows(bf.x, bf.feasible, value, objective)]


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("kind", SOURCES)
def test_maxmin_or_leximin_with_a_bonus_and_a_score_floor_is_solved(kind, objective):
    """Brute force's optimum on ``score + bonus`` with the floor on the plain scores, checked
    from the tables, on every source. Fails on the old code (a ValidationError)."""
    mentors, mentees, programme = _hunt_case({"fairness": {"objective": objective}})
    best = _brute_best(mentors, mentees, programme, objective)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    complete = pl.prepare(mentors, mentees, programme)
    assert r.status == "optimal" and r.certificate["objective"] == "score + bonus"
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert sorted(result_positions(complete, r).tolist()) in best


@pytest.mark.parametrize("kind", SOURCES)
def test_cpsat_with_a_bonus_incentives_and_a_score_floor_is_solved(kind):
    """``solver = "cpsat"`` with a bonus, a score floor and incentives that read the scores:
    brute force's optimum of ``score + bonus``, both constraints on the plain scores. Fails on
    the old code (a ValidationError naming both settings)."""
    mentors, mentees, programme = _hunt_case(
        {"fairness": {"objective": "total"}, "solver": "cpsat", "constraints": {"incentives": True}},
        mentors_change=lambda m: m.assign(stipend_fixed=0.0, stipend_per_mentee=0.0,
                                          reservation_value=m["bonus"] * 0.5))
    best = _brute_best(mentors, mentees, programme, "total")
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    complete = pl.prepare(mentors, mentees, programme)
    assert r.solver == "cpsat" and r.status == "optimal"
    assert table_violations(mentors, mentees, programme, r, complete) == []
    assert sorted(result_positions(complete, r).tolist()) in best


def test_the_command_line_solves_it_and_writes_the_pairs_of_pair(tmp_path, capsys):
    """The command line on the hunt's case exits 0 and writes ``pair()``'s pairs. Fails on the
    old code (exit 2, "invalid input: programme, column 'fairness.score_floor'")."""
    mentors, mentees, programme = _maxmin_bonus_floor()
    mentors.to_csv(tmp_path / "mentors.csv", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    (tmp_path / "p.toml").write_text(
        '[constraints]\nmanagement_line = false\npriority_weight = 1.0\n'
        '[fairness]\nobjective = "maxmin"\nfloor_group = "region"\nscore_floor = 0.5\n')
    code = main(["pair", "--mentors", str(tmp_path / "mentors.csv"), "--mentees",
                 str(tmp_path / "mentees.csv"), "--out", str(tmp_path / "out"),
                 "--programme", str(tmp_path / "p.toml")])
    assert code == 0, capsys.readouterr().err
    written = pd.read_csv(tmp_path / "out" / "pairs.csv", dtype=str)
    r = mm.pair(mentors, mentees, programme)
    key = lambda t: sorted(zip(t["mentee_id"].astype(str), t["mentor_id"].astype(str)))
    assert key(written) == key(r.pairs) and len(written) > 0


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
