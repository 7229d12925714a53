"""Scorers with a bonus folded in (:mod:`mentormatch.solvers.bonus`: a programme round's priority
and continuity, the Lagrangian's per-mentor shifts; :mod:`mentormatch.solvers.bottleneck`:
max-min's threshold; the score floors' scale per mentee) run their block passes and exact scores on an executor, with the bonus:
the same pairs, objective and status as on this process's threads, on a spawned process pool
and a real Dask LocalCluster.

Before, a task got the base scorer's rows and lookup tables without the bonus (``BonusBounds``
forwarded ``bounds_rows`` and ``exact_kit`` to its base), so the passes on an executor ranked
and checked the plain bounds and could certify a wrong optimum."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.scale import BIG
from mentormatch.solvers import route
from mentormatch.solvers.base import PairBonus
from mentormatch.solvers.bonus import BonusBounds, BonusRows
from mentormatch.solvers.threshold import ThresholdBounds, ThresholdRows
from mentormatch.solvers.bounded import remote

from _support import Recording, assert_same_result, local_cluster, many_tasks, scorer_of

MAXMIN = {"fairness": {"objective": "maxmin", "groups": ["gender"]},
          "time_limit": 300}  # (as below: a loaded machine cut the default 30 s: 'feasible')
BUDGET = {"constraints": {"budget": 4000.0}}
SCORE_FLOOR = {"fairness": {"score_floor": 0.98, "floor_group": "region"},
               "time_limit": 300}  # (about 1 s; a generous limit keeps a loaded machine from changing the answer)


def _scale_small(monkeypatch):
    """The scale path (bounds) at a few thousand pairs, cut into many blocks and tasks."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "USE_BOUNDS", True)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 0)
    monkeypatch.setattr(route, "LAGRANGE_PAIRS", 0)
    monkeypatch.setattr(route, "LAGRANGE_AFTER_GAP", float("inf"))  # the Lagrangian's passes alone
    many_tasks(monkeypatch)


def _round_bonus(prep) -> PairBonus:
    """A programme round's bonus with all three terms: priority per mentee, continuity on listed
    pairs, and a price per mentor (the Lagrangian's kind)."""
    rng = np.random.default_rng(7)
    n, m = len(prep.mentee_ids), len(prep.mentor_ids)
    per = np.where(rng.random(n) < 0.3, 0.4, 0.0)
    k = 25
    return PairBonus(per_mentee=per, mentee=rng.choice(n, k, replace=False), mentor=rng.integers(0, m, k),
                     value=rng.uniform(0.1, 0.6, k), n_mentors=m, per_mentor=-rng.uniform(0, 0.3, m))


def _case(name: str, executor):
    """The result of one kind of bonus-folded solve."""
    if name == "round_bonus":
        mentors, mentees = mm.synthetic.organisation(n_mentees=150, n_mentors=40, seed=3)
        mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 3))
        prep = pl.prepare(mentors, mentees)
        with remote.executing(executor):
            r = pl.solve(prep, _round_bonus(prep))
    elif name == "maxmin":
        mentors, mentees = mm.synthetic.organisation(n_mentees=150, n_mentors=40, seed=4)
        mentors = mentors.assign(capacity=np.minimum(mentors["capacity"], 2))
        r = pl.pair(mentors, mentees, MAXMIN, executor=executor)
        assert r.certificate["method"].startswith("max-min by certified flows")
    elif name == "score_floor":  # the score floors' Lagrangian: scores scaled per group
        mentors, mentees = mm.synthetic.organisation(n_mentees=80, n_mentors=24, seed=7)
        r = pl.pair(mentors, mentees, SCORE_FLOOR, executor=executor)
        assert r.certificate["method"] == "lagrangian score floors + certified flow"
        assert r.certificate["source"] == "BoundedSource" and r.certificate["flows"] >= 2
    else:  # the Lagrangian of a budget, on bounds
        mentors, mentees = mm.synthetic.organisation(n_mentees=70, n_mentors=22, seed=5)
        mentors = mentors.assign(min_capacity=np.minimum(
            np.random.default_rng(5).integers(0, 3, len(mentors)), mentors["capacity"]))
        r = pl.pair(mentors, mentees, BUDGET, executor=executor)
        assert r.certificate["method"] == "lagrangian budget + certified flow"
        assert r.certificate["source"] == "BoundedSource"
    return r


#: The task part each kind's bound passes carry.
PART = {"round_bonus": "BonusRows", "maxmin": "ThresholdRows", "budget": "BonusRows",
        "score_floor": "BonusRows"}


@pytest.mark.parametrize("name", list(PART))
def test_a_bonus_folded_scorer_on_a_process_pool_gives_the_local_result(monkeypatch, process_pool, name):
    _scale_small(monkeypatch)
    here = _case(name, None)
    counting = Recording(process_pool)
    assert_same_result(here, _case(name, counting))
    kinds = {c.kinds[0] for c in counting.calls if c.name == "scan_task"}
    assert kinds == {PART[name]}  # every bound pass went there, with the bonus
    assert "exact_task" in counting.names


def test_bonus_folded_scorers_on_a_dask_local_cluster_give_the_local_results(monkeypatch):
    pytest.importorskip("distributed")
    _scale_small(monkeypatch)
    here = {name: _case(name, None) for name in PART}
    with local_cluster() as client:
        for name, want in here.items():
            executor = Recording(client.get_executor())
            assert_same_result(want, _case(name, executor))
            assert "scan_task" in executor.names, name
            assert "exact_task" in executor.names, name


def _scorer(seed=2, n=60, m=25):
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    prog = {"constraints": {"forbidden": [[mentees.loc[k, "id"], mentors.loc[k % m, "id"]]
                                          for k in range(0, 40, 3)]}}
    return scorer_of(pl.prepare(mentors, mentees, prog), prog)


def _views(scorer):
    rng = np.random.default_rng(1)
    n, m = scorer.n, scorer.m
    k = 12
    bonus = PairBonus(per_mentee=rng.uniform(0, 0.5, n), mentee=rng.choice(n, k, replace=False),
                      mentor=rng.integers(0, m, k), value=rng.uniform(0.1, 0.9, k), n_mentors=m,
                      per_mentor=-rng.uniform(0, 0.4, m))
    top = float(scorer.upper(0, n).max())
    return {"bonus": BonusBounds(scorer, bonus), "per_mentee_only": BonusBounds(scorer, PairBonus(per_mentee=bonus.per_mentee)),
            "threshold": ThresholdBounds(scorer, 0.6 * top, 100.0)}


@pytest.mark.parametrize("kind", ["bonus", "per_mentee_only", "threshold"])
def test_a_task_part_and_kit_compute_what_the_view_computes_after_pickling(kind):
    scorer = _scorer()
    view = _views(scorer)[kind]
    cols = np.array([0, 3, 4, 9, 17, 24])
    rows = np.arange(0, scorer.n, 2)
    for v in (view, view.subset(cols=cols), view.subset(rows=rows)):
        for a, b in [(0, 7), (7, 20), (20, v.n), (5, 6)]:
            part = pickle.loads(pickle.dumps(v.bounds_rows(a, b)))  # as a worker gets it
            assert type(part).__name__ == ("ThresholdRows" if kind == "threshold" else "BonusRows")
            assert part.right_t is None  # the mentors' factors travel once per pass, not here
            part.right_t = v.right_t
            np.testing.assert_array_equal(part.upper(0, b - a), v.upper(a, b))
            # a part of all rows cut again (what a worker cuts from rows sent once)
            cut = pickle.loads(pickle.dumps(v.bounds_rows(0, v.n))).bounds_rows(a, b)
            cut.right_t = v.right_t
            np.testing.assert_array_equal(cut.upper(0, b - a), v.upper(a, b))
        kit = pickle.loads(pickle.dumps(v.exact_kit()))
        up = v.upper(0, v.n)
        i, j = np.nonzero(up > -BIG / 2)
        np.testing.assert_array_equal(kit.exact_scores(i, j), v.exact_scores(i, j))
        assert not hasattr(kit.base, "left") and kit.base.mentees is None  # no bounds, no tables
    assert isinstance(view.bounds_rows(0, 3), BonusRows)
    assert isinstance(_views(scorer)["threshold"].bounds_rows(0, 3), ThresholdRows)
