"""Competency: a gap worked by hand on a small inline framework; coverage extremes."""
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.careers import CareerFramework
from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.competency import Competency

COMPS = ["a", "b", "c"]


def small_framework() -> CareerFramework:
    roles = ["junior", "senior", "specialist"]
    required = pd.DataFrame([[1, 1, 1], [3, 4, 2], [1, 1, 5]], index=roles, columns=COMPS, dtype=float)
    importance = pd.DataFrame([[1, 1, 1], [1, 3, 1], [1, 1, 1]], index=roles, columns=COMPS, dtype=float)
    graph = nx.DiGraph()
    graph.add_edge("junior", "senior", kind="up")
    graph.add_edge("junior", "specialist", kind="lateral")
    return CareerFramework(roles=roles, competencies=COMPS, required=required, importance=importance,
                           level={"junior": 0, "senior": 1, "specialist": 1}, graph=graph,
                           titles={r: r.title() for r in roles})


FW = small_framework()
MENTEE = pd.DataFrame({"id": ["E"], "role": ["junior"], "comp_a": [1.0], "comp_b": [3.0], "comp_c": [2.0]})
MENTORS = pd.DataFrame({"id": ["only_a", "only_b", "both", "none", "c_expert"],
                        "comp_a": [3.0, 0.0, 5.0, 0.0, 0.0], "comp_b": [0.0, 4.0, 5.0, 0.0, 0.0],
                        "comp_c": [0.0, 0.0, 0.0, 0.0, 5.0]})
I = np.zeros(5, dtype=np.int64)
J = np.arange(5)


def test_gap_worked_by_hand():
    # target: the up move, senior (requires a=3, b=4, c=2; importance 1, 3, 1).
    # mentee a=1, b=3, c=2 -> gaps a=2, b=1, c=0; weights importance x gap: a=2, b=3.
    # covers a only: 2/5; b only: 3/5; both: 1; none: 0; c_expert covers no gap: 0.
    p = Competency().prepare(MENTEE, MENTORS, Context(framework=FW))
    np.testing.assert_allclose(p.values(I, J), [0.4, 0.6, 1.0, 0.0, 0.0])
    d = p.details(I, J)
    assert d["target_role"].tolist() == ["senior"] * 5
    assert d["covered"].tolist() == [0b001, 0b010, 0b011, 0, 0]
    np.testing.assert_allclose(d["gap"][0], [2.0, 1.0, 0.0])


def test_best_next_takes_the_better_next_role():
    # specialist requires c=5: gap 3 on c only; c_expert covers it -> 1.0
    p = Competency(target="best_next").prepare(MENTEE, MENTORS, Context(framework=FW))
    v = p.values(I, J)
    assert v[4] == 1.0 and v[2] == 1.0
    assert p.details(I[4:], J[4:])["target_role"].tolist() == ["specialist"]


def test_explicit_target_role_wins_and_no_framework_is_nan():
    e = MENTEE.assign(target_role=["specialist"])
    assert Competency().prepare(e, MENTORS, Context(framework=FW)).values(I, J).tolist() == [0, 0, 0, 0, 1]
    assert np.isnan(Competency().prepare(MENTEE, MENTORS, Context()).values(I, J)).all()
    with pytest.raises(ValidationError) as err:
        Competency(target="someday")
    assert "target" in str(err.value)


levels = st.lists(st.floats(0, 5), min_size=3, max_size=3)


@given(levels, levels)
def test_full_coverage_is_one_no_coverage_is_zero(mentee_levels, mentor_levels):
    e = pd.DataFrame({"id": ["E"], "role": ["junior"], **{f"comp_{c}": [x] for c, x in zip(COMPS, mentee_levels)}})
    m = pd.DataFrame({"id": ["M", "top", "zero"],
                      **{f"comp_{c}": [x, 5.0, 0.0] for c, x in zip(COMPS, mentor_levels)}})
    v = Competency().prepare(e, m, Context(framework=FW)).values(np.zeros(3, np.int64), np.arange(3))
    has_gap = any(lv < r for lv, r in zip(mentee_levels, FW.required.loc["senior"]))
    if has_gap:
        assert v[1] == 1.0 and v[2] == 0.0 and 0.0 <= v[0] <= 1.0
    else:
        assert np.isnan(v).all()  # no gap: nothing to measure, neutral
