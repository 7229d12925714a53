"""The solve record (mentormatch.record.SolveRecord): one typed record with the same fields on
every path, read by attribute (result.record) or as a mapping (result.data), unknown keys refused."""
import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch import pipeline
from mentormatch.errors import UnknownFieldError
from mentormatch.record import SolveRecord

FIELDS = [f.name for f in dataclasses.fields(SolveRecord)]
#: set by every path
EVERY_PATH = {"problem", "solution", "mentee_ids", "mentor_ids", "n_mentees", "n_mentors",
              "removed", "input_rows", "scores", "scale_path"}
#: pair(), whatever its source
PAIR = {"mentees", "mentors", "rules", "framework", "requested_solver", "rule_names",
        "time_limit"}  # (assign(): time_limit only when given)
#: the scale path's scores are read from ``scores`` (ScoresOnRead), scored at first read
COMPLETE = {"complete", "eligible", "which_rule", "all_contributions", "missing"}
SCALE = {"pair_source", "full_problem", "pair_reader", "capacity", "side", "coverage_first"}


@pytest.fixture(scope="module")
def org():
    return mm.synthetic.organisation(n_mentees=60, n_mentors=20, seed=3)


def _pair(org, source, monkeypatch, programme=None):
    """pair() on the complete set, or above LARGE_PAIRS (lowered) on cached blocks or bounds."""
    mentors, mentees = org
    if source != "complete":
        monkeypatch.setattr(pipeline, "LARGE_PAIRS", 100)
        monkeypatch.setattr(pipeline, "USE_BOUNDS", source == "bounds")
        monkeypatch.setattr(pipeline, "SCORE_CACHE_PAIRS", 10**9 if source == "blocks" else 0)
    return mm.pair(mentors, mentees, programme=programme)


def _check_views_agree(rec: SolveRecord):
    """The mapping view is the attributes: keys = the fields set, values the same objects."""
    assert isinstance(rec, SolveRecord)
    assert list(rec) == [k for k in FIELDS if getattr(rec, k) is not None]
    assert len(rec) == len(list(rec))
    for k in FIELDS:
        value = getattr(rec, k)
        assert (k in rec) == (value is not None)
        assert rec.get(k, "unset") is (value if value is not None else "unset")
        if value is None:
            with pytest.raises(KeyError, match=f"{k}.*is not set on this path"):
                rec[k]
        else:
            assert rec[k] is value
    assert dict(rec).keys() == set(rec)


@pytest.mark.parametrize("source", ["complete", "blocks", "bounds"])
@pytest.mark.parametrize("programme", [None, {"constraints": {"coverage_first": True}}],
                         ids=["plain", "engine"])
def test_pair_keeps_the_same_fields_on_every_source(org, monkeypatch, source, programme):
    mentors, mentees = org
    result = _pair(org, source, monkeypatch, programme)
    rec = result.record
    assert result.data is rec  # the compatibility view is the record itself
    _check_views_agree(rec)
    expected = EVERY_PATH | PAIR | (COMPLETE if source == "complete" else SCALE)
    # None where not used (time_limit: where the rules set none, the default)
    optional = {"framework", "bonus", "demand", "load", "locked", "time_limit"}
    assert expected - optional <= set(rec) <= expected | optional
    # the fields mean what they say on every source
    assert rec.scale_path == (source != "complete")
    assert rec.pair_source == (None if source == "complete" else source)
    assert (rec.n_mentees, rec.n_mentors) == (len(mentees), len(mentors))
    assert (rec.problem.pairs.n_mentees, rec.problem.pairs.n_mentors) == (len(mentees), len(mentors))
    assert len(rec.solution.chosen) == len(result.pairs)
    assert sorted(rec.mentee_ids.ids.astype(str)) == sorted(mentees["id"].astype(str))
    contributions = rec.all_contributions if source == "complete" else rec.scores.contributions
    missing = rec.missing if source == "complete" else rec.scores.missing
    assert len(contributions) == len(rec.problem.pairs)
    assert missing.shape[0] == len(rec.problem.pairs)
    assert len(rec.removed) == len(mentees)
    rows_e, rows_m = rec.input_rows  # the caller's row of each id, in the order solved
    assert (mentees["id"].astype(str).to_numpy()[rows_e] == rec.mentee_ids.ids.astype(str)).all()
    assert (mentors["id"].astype(str).to_numpy()[rows_m] == rec.mentor_ids.ids.astype(str)).all()
    if source == "complete":
        assert rec.eligible.sum() == len(rec.problem.pairs) and len(rec.which_rule) == len(rec.complete)
    else:
        np.testing.assert_array_equal(rec.capacity, rec.full_problem().capacity)


def test_the_record_does_not_change_what_the_sources_find(org, monkeypatch):
    """The same pairs on every source: the record is bookkeeping, not a change of the solve."""
    got = {}
    for source in ("complete", "blocks", "bounds"):
        with monkeypatch.context() as mp:
            r = _pair(org, source, mp)
        got[source] = (r.objective, sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"])))
    assert got["blocks"][1] == got["complete"][1] == got["bounds"][1]
    assert got["blocks"][0] == pytest.approx(got["complete"][0], rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["small", "large"])
def test_assign_keeps_the_same_fields(monkeypatch, sparse):
    from mentormatch.solvers.dense import small

    if sparse:  # a large matrix: the result keeps the solver's pairs, not every eligible one
        monkeypatch.setattr(small, "SMALL_CELLS", 10)
    rng = np.random.default_rng(5)
    scores = pd.DataFrame(rng.random((12, 5)), index=[f"e{i}" for i in range(12)],
                          columns=[f"m{j}" for j in range(5)])
    scores.iloc[0, :] = -np.inf  # e0 has no eligible mentor
    result = mm.assign(scores, pd.Series(2, index=scores.columns))
    rec = result.record
    _check_views_agree(rec)
    assert set(rec) == EVERY_PATH
    assert rec.scores is scores and rec.rules is None and rec.mentees is None
    assert str(result.certificate.get("method")).startswith("dense_min_cost_flow")  # one path
    if not sparse:
        assert len(rec.problem.pairs) == 11 * 5  # the eligible pairs (all kept at this size)
    else:
        assert len(rec.problem.pairs) <= 11 * 5
    assert rec.removed["ineligible_score"].sum() == 5
    with pytest.raises(ValueError, match="assign"):  # a what-if needs pair()'s tables and rules
        result.what_if(weights={"experience": 1.0})


def test_baseline_and_pickle_keep_a_record(org):
    mentors, mentees = org
    result = mm.pair(mentors, mentees)
    base = mm.baseline(result, "random", seed=1)
    assert isinstance(base.record, SolveRecord) and base.record is not result.record
    assert base.record.rules is result.record.rules and base.record.problem is not None
    back = pickle.loads(pickle.dumps(result))
    assert isinstance(back.record, SolveRecord) and back.record.not_transferred is None
    assert back.pairs.equals(result.pairs) and back.record.n_mentees == len(mentees)


def test_unknown_keys_and_new_fields_are_refused_clearly():
    s = pd.DataFrame([[0.9, 0.1], [0.8, 0.7]], index=["e1", "e2"], columns=["m1", "m2"])
    result = mm.assign(s, pd.Series({"m1": 1, "m2": 1}))
    for read in (lambda d: d["n_mentess"], lambda d: d.get("n_mentess")):
        with pytest.raises(KeyError) as info:  # a KeyError, as a mapping raises
            read(result.data)
        err = info.value
        assert isinstance(err, UnknownFieldError) and err.name == "n_mentess"
        text = str(err)
        assert "Did you mean 'n_mentees'" in text
        assert all(name in text for name in FIELDS)  # every valid field is named
    assert "n_mentess" not in result.data  # containment answers, as a mapping does
    # fields are not assigned: a changed copy is made with dataclasses.replace
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.record.revision = {}
    with pytest.raises(TypeError):
        result.data["revision"] = {}
    copy = dataclasses.replace(result.record, baseline_seed=4)
    assert copy.baseline_seed == 4 and result.record.baseline_seed is None
    # a key a path adds must be declared as a field first
    with pytest.raises(UnknownFieldError, match="'builder'"):
        SolveRecord.from_mapping({"problem": None, "builder": 1})
    with pytest.raises(UnknownFieldError, match="'builder'"):
        dataclasses.replace(result, record={"builder": 1})  # a dict still becomes a record


def test_every_field_is_documented():
    doc = SolveRecord.__doc__
    for f in dataclasses.fields(SolveRecord):
        assert len(f.metadata.get("doc", "")) > 20, f.name
        assert f"    {f.name} : " in doc  # in the generated Attributes section
    assert doc.index("Attributes") < doc.index("Examples")
