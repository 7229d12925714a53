"""Properties of ``mm.assign`` (bring your own scores), for every solver it can run: every
mentee accounted for exactly once, capacities and forbidden pairs respected, locks kept, the
objective unchanged by shuffling rows and columns, and equal to the sum of the pairs' scores."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch.solvers import SOLVERS, _load_builtin

from strategies import EXACT, SCOPE, assignment_problems, problem_to_frames

_load_builtin()
TOL = 1e-6
ASSIGNABLE = list(SCOPE)  # demand 1, no side constraints: what assign() can express


def skip_missing(name):
    if name not in SOLVERS:
        pytest.skip(f"solver {name!r} has not landed yet")


def frames_for(name):
    locks = SCOPE[name]["locks"]
    return assignment_problems(5, 4, with_locks=locks).map(problem_to_frames)


def forbidden_frame(scores: pd.DataFrame, draw) -> pd.DataFrame:
    bits = draw(st.lists(st.booleans(), min_size=scores.size, max_size=scores.size))
    return pd.DataFrame(np.array(bits).reshape(scores.shape), index=scores.index,
                        columns=scores.columns)


@pytest.mark.parametrize("name", ASSIGNABLE)
@given(data=st.data())
def test_every_mentee_accounted_for_and_constraints_hold(name, data):
    skip_missing(name)
    scores, capacity, locked = data.draw(frames_for(name))
    forbidden = forbidden_frame(scores, data.draw)
    # a lock on a forbidden pair is an error of its own (tested elsewhere): keep locks allowed
    for e, m in locked:
        forbidden.loc[e, m] = False
    result = mm.assign(scores, capacity, forbidden=forbidden, solver=name, locked=locked)
    pairs, unmatched = result.pairs, result.unmatched
    seen = list(pairs["mentee_id"]) + list(unmatched["mentee_id"])
    assert sorted(seen) == sorted(scores.index), "every mentee exactly once"
    assert unmatched["reason"].astype(str).str.len().gt(0).all(), "every unmatched has a reason"
    load = pairs["mentor_id"].value_counts()
    assert (load <= capacity.reindex(load.index)).all()
    for e, m, s in pairs[["mentee_id", "mentor_id", "score"]].itertuples(index=False):
        assert not forbidden.loc[e, m], (e, m)
        assert np.isfinite(scores.loc[e, m]), (e, m)
        assert s == scores.loc[e, m]
    made = set(map(tuple, pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))
    assert set(locked) <= made
    assert result.objective == pytest.approx(float(pairs["score"].sum()), abs=TOL)


@pytest.mark.parametrize("name", EXACT)
@given(data=st.data())
def test_shuffled_rows_and_columns_leave_the_objective_unchanged(name, data):
    scores, capacity, locked = data.draw(frames_for(name))
    rows = data.draw(st.permutations(list(scores.index)))
    cols = data.draw(st.permutations(list(scores.columns)))
    a = mm.assign(scores, capacity, solver=name, locked=locked)
    b = mm.assign(scores.loc[rows, cols], capacity.loc[cols].sample(frac=1, random_state=0),
                  solver=name, locked=locked)
    assert b.objective == pytest.approx(a.objective, abs=TOL)


@pytest.mark.parametrize("name", EXACT)
@given(data=st.data())
def test_renaming_ids_leaves_the_optimum_unchanged(name, data):
    """Ids live only at the edges: relabelling does not change the optimum, and the relabelled
    pairs meet the constraints. Which of several equal optima is chosen follows the seeded
    order of the ids, so where optima of equal score differ in size (0.15 alone against 0.10 +
    0.05) the number matched may differ too."""
    scores, capacity, locked = data.draw(frames_for(name))
    ren_e = {e: f"x{e}" for e in scores.index}
    ren_m = {m: f"y{m}" for m in scores.columns}
    a = mm.assign(scores, capacity, solver=name, locked=locked)
    b = mm.assign(scores.rename(index=ren_e, columns=ren_m), capacity.rename(ren_m), solver=name,
                  locked=[(ren_e[e], ren_m[m]) for e, m in locked])
    assert b.objective == pytest.approx(a.objective, abs=1e-9)
    back_e = {v: k for k, v in ren_e.items()}
    back_m = {v: k for k, v in ren_m.items()}
    e = b.pairs["mentee_id"].map(back_e)
    j = b.pairs["mentor_id"].map(back_m)
    got = np.array([scores.loc[x, y] for x, y in zip(e, j)], dtype=float)
    assert got.sum() == pytest.approx(a.objective, abs=1e-9)  # an optimum of the same problem
    assert e.is_unique and (j.value_counts() <= capacity.reindex(j.value_counts().index)).all()
    assert {(ren_e[x], ren_m[y]) for x, y in locked} <= set(zip(b.pairs["mentee_id"], b.pairs["mentor_id"]))


@pytest.mark.parametrize("name", EXACT)
@given(data=st.data(), rnd=st.randoms(use_true_random=False))
def test_shuffled_rows_and_columns_give_the_same_pairs(name, data, rnd):
    """Ties are decided by a seeded order of the ids, never by row order: shuffling the score
    matrix's rows and columns gives the same pairs, reported in the caller's row order."""
    scores, capacity, locked = data.draw(frames_for(name))
    rows, cols = list(range(len(scores.index))), list(range(len(scores.columns)))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    shuffled = scores.iloc[rows, cols]
    a = mm.assign(scores, capacity, solver=name, locked=locked)
    b = mm.assign(shuffled, capacity, solver=name, locked=locked)
    pairs = lambda r: sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].to_numpy().tolist()))  # noqa: E731
    assert pairs(b) == pairs(a)
    position = {e: k for k, e in enumerate(shuffled.index)}
    got = [position[e] for e in b.pairs["mentee_id"]]
    assert got == sorted(got)


@given(data=st.data(), seed=st.integers(0, 10**6))
def test_random_baseline_is_reproducible_through_assign(data, seed):
    scores, capacity, locked = data.draw(frames_for("random"))
    a = mm.assign(scores, capacity, solver="random", locked=locked, seed=seed)
    b = mm.assign(scores, capacity, solver="random", locked=locked, seed=seed)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)


@given(data=st.data(), seeds=st.lists(st.integers(0, 10**6), min_size=2, max_size=4, unique=True))
def test_baseline_never_beats_the_optimum(data, seeds):
    scores, capacity, locked = data.draw(frames_for("flow"))
    result = mm.assign(scores, capacity, solver="flow", locked=locked)
    for s in seeds:
        assert mm.baseline(result, "random", seed=s).objective <= result.objective + TOL
    assert mm.baseline(result, "greedy").objective <= result.objective + TOL


@given(data=st.data())
def test_the_unknown_solver_name_raises(data):
    scores, capacity, _ = data.draw(frames_for("flow"))
    name = data.draw(st.text(min_size=1, max_size=8))
    assume(name not in SOLVERS)
    with pytest.raises(mm.UnknownNameError):
        mm.assign(scores, capacity, solver=name)


@pytest.mark.parametrize("name", EXACT)
@given(problem=assignment_problems(5, 3, with_locks=True))
def test_coverage_first_matches_as_many_as_possible(name, problem):
    from strategies import feasible_assignments

    scores, capacity, locked = problem_to_frames(problem)
    result = mm.assign(scores, capacity, solver=name, locked=locked, coverage_first=True)
    bf = feasible_assignments(problem)
    most = int(bf.matched[bf.feasible].max())
    assert result.pairs["mentee_id"].nunique() == most
    best = bf.best_total_among(bf.matched == most)
    assert result.objective == pytest.approx(best, abs=TOL)
