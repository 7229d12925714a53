"""What-if and sensitivity: re-solves equal fresh pairings and brute-force optima."""
from __future__ import annotations

import base64
import itertools

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.errors import ValidationError
from mentormatch.pipeline import prepare
from mentormatch.whatif import changes, sensitivity_plot


@pytest.fixture(scope="module")
def tiny():
    mentors, mentees = mm.synthetic.organisation(n_mentees=6, n_mentors=3, seed=10)
    mentors = mentors.assign(capacity=[1, 2, 1], min_capacity=0)
    return mentors, mentees


def brute_force(values: np.ndarray, eligible: np.ndarray, weights: np.ndarray, capacity) -> dict:
    """The best assignment by enumeration: mentee index -> mentor index; checks it is unique."""
    n, m = eligible.shape
    score = values @ weights  # (n, m)
    options = [[None] + [j for j in range(m) if eligible[i, j]] for i in range(n)]
    totals = []
    for choice in itertools.product(*options):
        load = np.bincount([j for j in choice if j is not None], minlength=m)
        if np.all(load <= capacity):
            totals.append((sum(score[i, j] for i, j in enumerate(choice) if j is not None), choice))
    totals.sort(key=lambda t: -t[0])
    assert totals[0][0] - totals[1][0] > 1e-9, "tied optimum: pick another seed"
    return {i: j for i, j in enumerate(totals[0][1]) if j is not None}, totals[0][0]


def test_sensitivity_equals_brute_force_re_solves(tiny):
    mentors, mentees = tiny
    result = mm.pair(mentors, mentees)
    table = result.sensitivity(step=0.5)
    prep = prepare(mentors, mentees)
    scores = prep.data["scores"]
    n, m = len(mentees), len(mentors)
    values = scores.values.reshape(n, m, len(scores.features))  # complete set, row-major
    eligible = prep.data["eligible"].reshape(n, m)
    e_ids, m_ids = prep.mentee_ids.ids, prep.mentor_ids.ids
    # in the solver's (seeded) order of the mentors, as the score arrays are
    capacity = mentors.set_index("id").loc[list(m_ids), "capacity"].to_numpy()
    base_w = np.array([result.data["rules"].weights[f] for f in scores.features])

    def as_ids(assignment):
        return {(str(e_ids[i]), str(m_ids[j])) for i, j in assignment.items()}

    base, best = brute_force(values, eligible, base_w, capacity)
    assert as_ids(base) == set(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    assert result.objective == pytest.approx(best)
    base_mentor = {str(e_ids[i]): str(m_ids[j]) for i, j in base.items()}
    for k, feature in enumerate(scores.features):
        for side, factor in (("down", 0.5), ("up", 1.5)):
            w = base_w.copy()
            w[k] *= factor
            got, total = brute_force(values, eligible, w, capacity)
            mentor = {str(e_ids[i]): str(m_ids[j]) for i, j in got.items()}
            moved = sum(base_mentor.get(e) != mentor.get(e) for e in map(str, e_ids))
            assert table.loc[feature, f"changed_{side}"] == moved, (feature, side)
            assert table.loc[feature, f"objective_{side}"] == pytest.approx(total)
            assert table.loc[feature, f"weight_{side}"] == pytest.approx(w[k])
    assert table["changed_max"].max() > 0  # the instance does react to some weights


def test_absolute_steps_and_bad_steps(tiny):
    mentors, mentees = tiny
    result = mm.pair(mentors, mentees, {"weights": {"geography": 1.0, "competency": 0.0}})
    table = result.sensitivity(step=0.25, relative=False)
    assert pd.isna(table.loc["competency", "changed_down"])  # a weight of 0 cannot go down
    assert table.loc["competency", "weight_up"] == 0.25
    assert table.loc["geography", ["weight_down", "weight_up"]].tolist() == [0.75, 1.25]
    relative = result.sensitivity(step=0.25)
    assert list(relative.index) == ["geography"]  # relative moves of a zero weight are no moves
    for bad in (0, -0.1, 1.5, float("nan"), True):
        with pytest.raises(ValidationError, match="step"):
            result.sensitivity(step=bad)


def test_what_if_weights_equals_a_fresh_pairing():
    mentors, mentees = mm.synthetic.organisation(n_mentees=50, n_mentors=15, seed=5)
    result = mm.pair(mentors, mentees, {"seed": 2})
    answer = result.what_if(weights={"geography": 4.0})
    weights = {**result.data["rules"].weights, "geography": 4.0}
    fresh = mm.pair(mentors, mentees, {"seed": 2, "weights": weights})
    pd.testing.assert_frame_equal(answer.after.pairs, fresh.pairs)
    assert answer.objective_delta == pytest.approx(fresh.objective - result.objective)
    # the changes are exactly the mentees whose mentor differs, with their scores
    before = dict(zip(result.pairs["mentee_id"], result.pairs["mentor_id"]))
    after = dict(zip(fresh.pairs["mentee_id"], fresh.pairs["mentor_id"]))
    moved = sorted(e for e in mentees["id"] if before.get(e) != after.get(e))
    assert answer.changes["mentee_id"].tolist() == moved and answer.n_changed == len(moved) > 0
    row = answer.changes.iloc[0]
    score_after = dict(zip(fresh.pairs["mentee_id"], fresh.pairs["score"])).get(row["mentee_id"], 0.0)
    assert row["score_after"] == pytest.approx(score_after)
    assert row["delta"] == pytest.approx(row["score_after"] - row["score_before"])


def test_what_if_mentors_leave_join_and_change_capacity():
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=6)
    busiest = mm.pair(mentors, mentees).pairs["mentor_id"].value_counts().index[0]
    other = mentors["id"].iloc[-1] if mentors["id"].iloc[-1] != busiest else mentors["id"].iloc[0]
    result = mm.pair(mentors, mentees, {"constraints": {"locked": []}})
    locked_mentee = result.pairs.loc[result.pairs["mentor_id"] == busiest, "mentee_id"].iloc[0]
    result = mm.pair(mentors, mentees, {"constraints": {"locked": [[locked_mentee, busiest]]}})
    answer = result.what_if(remove_mentors=[busiest])
    assert busiest not in set(answer.after.pairs["mentor_id"])
    pd.testing.assert_frame_equal(result.what_if(remove_mentors=busiest).changes, answer.changes)
    assert answer.notes == (f"locked pair ({locked_mentee}, {busiest}) dropped: mentor {busiest} removed",)
    theirs = result.pairs.loc[result.pairs["mentor_id"] == busiest, "mentee_id"]
    assert set(theirs) <= set(answer.changes["mentee_id"])
    # every mentee is still accounted for
    assert len(answer.after.pairs) + len(answer.after.unmatched) == len(mentees)

    newcomer = mentors.iloc[[0]].assign(id="NEW1", capacity=3, manager_id="", preferences="")
    joined = result.what_if(add_mentors=newcomer, capacity={other: 0})
    changed = mentors.assign(capacity=np.where(mentors["id"] == other, 0, mentors["capacity"]))
    fresh = mm.pair(pd.concat([changed, newcomer], ignore_index=True), mentees, result.data["rules"])
    pd.testing.assert_frame_equal(joined.after.pairs, fresh.pairs)
    assert other not in set(joined.after.pairs["mentor_id"])

    with pytest.raises(ValidationError) as info:
        result.what_if(remove_mentors=["nobody"])
    assert info.value.problems[0].row_id == "nobody"
    with pytest.raises(ValidationError, match="the id of a mentor of this what-if"):
        result.what_if(capacity={"nobody": 2})
    with pytest.raises(ValidationError, match="weights.geografy"):
        result.what_if(weights={"geografy": 2})


def test_changes_of_a_result_with_itself_is_empty(tiny):
    result = mm.pair(*tiny)
    assert changes(result, result).empty


def test_sensitivity_plot_is_a_png(tiny):
    result = mm.pair(*tiny)
    uri = sensitivity_plot(result.sensitivity(step=0.5), n_mentees=6)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_sensitivity_on_a_dask_cluster_equals_sequential(tiny):
    distributed = pytest.importorskip("distributed")
    result = mm.pair(*tiny)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = result.sensitivity(step=0.5, executor=client.get_executor())
        what_if = result.what_if(weights={"competency": 0.1}, executor=client.get_executor())
    pd.testing.assert_frame_equal(on_dask, result.sensitivity(step=0.5))
    pd.testing.assert_frame_equal(what_if.changes, result.what_if(weights={"competency": 0.1}).changes)


def test_a_round_solved_with_a_bonus_is_refused():
    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=8, seed=3)
    prog = mm.Programme(priority="weight")
    first = prog.run_round(mentors, mentees, date="2026-01-15")
    assert len(first.unmatched) > 0  # so that the next round has priority mentees
    second = prog.run_round(mentors, mentees, date="2026-07-15")
    assert np.any(second.data["bonus"])
    with pytest.raises(ValueError, match="bonus"):
        second.what_if(weights={"geography": 2.0})
    with pytest.raises(ValueError, match="bonus"):
        second.sensitivity()
