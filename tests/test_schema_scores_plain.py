"""``schema.scores.plain_inputs``: ``assign()``'s usual inputs read in a few compiled passes
(``_native/assign_glue.pxi``). Whenever it answers, the full checks accept the same inputs and
read the same ids, scores, capacities and forbidden mask; whenever they refuse, it does not
answer, so every message is theirs. And ``assign()`` gives the same result, or the same error,
with and without it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentormatch as mm
from mentormatch.errors import ValidationError
from mentormatch.pipeline import matrix
from mentormatch.schema import scores as checks
from mentormatch.testing.arrays import assign_frames

from _kernels import native_kernel

native = native_kernel("assign")

pytestmark = pytest.mark.skipif(native is None or not hasattr(native, "label_scan"),
                                reason="mentormatch._native.assign was not built")


def _full(scores, capacity, forbidden, case_sensitive, fused=False):
    try:
        return matrix._checked_inputs(scores, capacity, forbidden, "flow", case_sensitive, fused)
    except ValidationError as e:
        return e


@settings(max_examples=400, deadline=None)
@given(assign_frames(), st.booleans(), st.booleans())
def test_the_compiled_read_is_the_full_checks_read(frames, case_sensitive, fused):
    scores, capacity, forbidden = frames
    plain = checks.plain_inputs(scores, capacity, forbidden, case_sensitive, not fused)
    full = _full(scores, capacity, forbidden, case_sensitive, fused)
    if plain is None:
        return
    assert not isinstance(full, Exception), full  # it answered where the checks refuse
    mentees, mentors, values, has_neginf, cap, forbid = plain
    assert mentees.dtype == object and mentees.tolist() == full[0].ids.tolist()
    assert mentors.dtype == object and mentors.tolist() == full[1].ids.tolist()
    assert values.dtype == full[2].dtype and np.array_equal(values, full[2], equal_nan=True)
    assert has_neginf == full[3]
    assert cap.dtype == full[4].dtype and np.array_equal(cap, full[4])
    assert (forbid is None) == (full[5] is None)
    if forbid is not None:
        assert forbid.dtype == full[5].dtype and np.array_equal(forbid, full[5])


def _outcome(scores, capacity, forbidden, case_sensitive):
    try:
        r = mm.assign(scores, capacity, forbidden=forbidden, case_sensitive_ids=case_sensitive)
    except ValidationError as e:
        return ("refused", [tuple(map(str, (p.table, p.column, p.row_id, p.line, p.value, p.expected)))
                            for p in e.problems])
    return (r.pairs.to_csv(), r.unmatched.to_csv(), r.status, r.objective, r.bound, r.gap,
            {k: v for k, v in r.certificate.items() if k != "solver_wall_time"})


@settings(max_examples=300, deadline=None)
@given(assign_frames(), st.booleans())
def test_assign_answers_alike_with_and_without_the_compiled_read(frames, case_sensitive):
    """The whole call, both ways: the same pairs, unmatched, status, objective, bound, gap and
    certificate, or the same problems (table, column, row id, line, value, expected)."""
    scores, capacity, forbidden = frames
    fast = _outcome(scores, capacity, forbidden, case_sensitive)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checks, "assign_kernel", lambda: None)
        full = _outcome(scores, capacity, forbidden, case_sensitive)
    assert repr(fast) == repr(full)


def test_the_usual_inputs_take_the_compiled_read():
    """The usual frames (the ladder's: str ids, float scores, a float capacity and a bool
    forbidden matrix labelled alike) are read by it, not only refused to the full checks."""
    s = pd.DataFrame(np.eye(3), index=["e1", "e2", "e3"], columns=["m1", "m2", "m3"])
    f = pd.DataFrame(np.zeros((3, 3), bool), index=list(s.index), columns=list(s.columns))
    got = checks.plain_inputs(s, pd.Series(1.0, index=["m1", "m2", "m3"]), f, False)
    assert got is not None and got[3] is False


@pytest.mark.parametrize("labels, bits", [
    (["e1", "e2"], native.LABELS_LOWER | native.LABELS_UNIQUE if native else 0),
    (["E1", "e1"], native.LABELS_LOWER | native.LABELS_UPPER | native.LABELS_UNIQUE if native else 0),
    (["A1", "A1"], native.LABELS_UPPER if native else 0),
    (["12", "12"], 0),
    (["a", 1], -1),
    (["Zoë"], -1),
    ([], native.LABELS_UNIQUE if native else 0),
])
def test_label_scan(labels, bits):
    assert native.label_scan(np.array(labels, dtype=object)) == bits


def test_label_scan_finds_a_repeat_among_many():
    rng = np.random.default_rng(0)
    for n in (1, 2, 15, 16, 17, 500):
        ids = [f"x{k}" for k in rng.permutation(10 * n)[:n]]
        assert native.label_scan(np.array(ids, dtype=object)) & native.LABELS_UNIQUE
        if n > 1:
            twice = ids + [ids[int(rng.integers(n))]]
            assert not native.label_scan(np.array(twice, dtype=object)) & native.LABELS_UNIQUE


def test_score_scan_is_the_checks_answer():
    rng = np.random.default_rng(1)
    pool = np.array([0.0, -0.0, 1.0, -1e308, 1e308, 5e-324, np.nan, -np.nan, np.inf, -np.inf])
    for _ in range(3000):
        v = rng.choice(pool, size=int(rng.integers(0, 40)))
        want = 2 if (np.isnan(v) | (v == np.inf)).any() else int((v == -np.inf).any())
        assert native.score_scan(v) == want, v
