"""Session 19's hunt with random seeds (s19h7): the defects it found, each pinned here and
fixed in the same session (each was found also at 5cec041).

* ``assign(solver="cpsat")`` on scores below CP-SAT's integer step (``10**-6``): no pair,
  objective 0, "optimal" beside its own gap of 1.0 (fixed: the step from the scores' unit and
  "optimal" only within the gap, ``solvers/cpsat_model.objective_scale``).
* ``pair()`` with max-min, a priority bonus and a score floor: a bare ``ValueError`` (fixed: a
  ``ValidationError`` naming the settings, ``pipeline/bonus.py``; since s20h3 it is solved,
  the floor on the plain scores and the bonus in the objective).
* An infeasible round (a minimum load against a share floor): the error named only the mentor,
  not the share floor (fixed: ``pipeline/wrap.labelled`` keeps the engine's conflicts), and on
  cached blocks and bounds named the mentor "mentor #1" (fixed: ``wrap.relabelled``).
* Side constraints with every feature weight times 1e-8: "optimal" below brute force, with no
  pair under a budget (fixed: HiGHS's absolute tolerances against costs near 1e-8; the engine's
  unit of score, ``solvers/unit.py``).
* A share floor that the one pair meets, weights x 1e4, on the bounds source: a false
  ``InfeasibleError`` (fixed: the bounds' margin scaled with the weights,
  ``scale.BoundedScorer.margin``, and an infeasible relaxation re-checked over every eligible
  pair, ``solvers/relax.py``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm


def _one_pair(score: float, n: int = 1):
    """``n`` mentees, one mentor of capacity ``n``, every score ``score``."""
    scores = pd.DataFrame([[score]] * n, index=[f"e{i}" for i in range(n)], columns=["m1"])
    return scores, pd.Series({"m1": n})


@pytest.mark.parametrize("score", [0.25, 1e-5])
def test_cpsat_on_scores_cpsat_can_hold_is_brute_forces_optimum(score):
    """Scores CP-SAT's integer scale holds: every mentee paired, "optimal", no gap."""
    scores, capacity = _one_pair(score, 3)
    r = mm.assign(scores, capacity, solver="cpsat")
    assert len(r.pairs) == 3 and r.objective == pytest.approx(3 * score, rel=1e-9)
    assert r.status == "optimal" and r.gap <= 1e-6


@pytest.mark.parametrize("score", [1.4e-9, 1e-8, 4e-7])
@pytest.mark.parametrize("n", [1, 3])
def test_cpsat_says_optimal_only_within_its_gap(score, n):
    scores, capacity = _one_pair(score, n)
    r = mm.assign(scores, capacity, solver="cpsat")
    assert r.bound >= n * score - 1e-15  # (holds today) the bound is above brute force's optimum
    assert r.status != "optimal" or r.gap <= 1e-6


def _maxmin_bonus_floor():
    mentors, mentees = mm.synthetic.organisation(n_mentees=4, n_mentors=2, seed=17)
    mentees = mentees.assign(priority=[0.0, 1.0, 0.0, 2.0])
    programme = {"constraints": {"management_line": False, "priority_weight": 1.0},
                 "fairness": {"objective": "maxmin", "floor_group": "region", "score_floor": 0.5}}
    return mentors, mentees, programme


def test_maxmin_with_a_bonus_and_a_score_floor_is_solved_with_the_floor_on_the_plain_scores():
    """Refused since session 19 (a ValidationError), solved since s20h3: the floor holds on the
    plain scores (recomputed from the result's pairs), the worst ``score + bonus`` is brute
    force's, and the status is "optimal"."""
    from mentormatch import constraints as C
    from mentormatch import pipeline as pl
    from mentormatch.testing import feasible_assignments

    mentors, mentees, programme = _maxmin_bonus_floor()
    complete = pl.prepare(mentors, mentees, programme)
    p = complete.problem
    value = p.score + C.priority_bonus(complete).on_pairs(p.pairs.mentee, p.pairs.mentor)
    bf = feasible_assignments(p)
    most = bf.feasible & (bf.x.sum(1) == bf.x.sum(1)[bf.feasible].max())
    worst = np.where(bf.x, value, np.inf).min(1)
    r = mm.pair(mentors, mentees, programme)
    pos = complete.problem.pairs.locate(
        np.asarray(complete.mentee_ids.encode(list(r.pairs["mentee_id"]))),
        np.asarray(complete.mentor_ids.encode(list(r.pairs["mentor_id"]))))
    assert r.status == "optimal" and len(pos) == bf.x.sum(1)[most].max()
    assert value[pos].min() == pytest.approx(worst[most].max(), abs=1e-9)
    region = mentees.set_index("id")["region"]
    per = pd.Series(r.pairs["score"].to_numpy(), index=r.pairs["mentee_id"]).groupby(level=0).sum()
    per = per.reindex(mentees["id"], fill_value=0.0)
    for g in region.unique():
        members = (region == g).to_numpy()
        assert per[members].mean() >= 0.5 * per.mean() - 1e-9, g


def _two_mentees_one_mentor(factor: float):
    """2 mentees and 1 mentor of capacity 3 (synthetic seed 16), every feature weight times
    ``factor``, balanced loads and the pair E00001-E00002 locked: both pairs fit, so the optimum
    holds both (at ``factor`` 1: 4.21 + 3.41 = 7.62)."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=2, n_mentors=1, seed=16)
    mentors = mentors.assign(capacity=3, min_capacity=0)
    from mentormatch.rules.settings import DEFAULT_WEIGHTS

    programme = {"weights": {k: v * factor for k, v in DEFAULT_WEIGHTS.items()},
                 "constraints": {"management_line": False, "balanced_load": True,
                                 "locked": [["E00001", "E00002"]]}}
    return mentors, mentees, programme


def _against_brute_force(mentors, mentees, programme, expect) -> None:
    """``pair()`` on a tiny case: its bound at least brute force's optimum, and "optimal" only
    at that optimum; ``expect(problem, brute)`` first checks what the case is built to hold."""
    from mentormatch import pipeline as pl
    from mentormatch.testing import feasible_assignments

    p = pl.prepare(mentors, mentees, programme).problem
    bf = feasible_assignments(p)
    best = bf.best_total
    expect(p, bf)
    r = mm.pair(mentors, mentees, programme)
    assert r.bound >= best * (1 - 1e-9)  # no proof below the optimum
    assert r.status != "optimal" or r.objective == pytest.approx(best, rel=1e-6)


def _min_load_against_a_share_floor():
    """1 mentee (region NA), whose one eligible mentor E00003 must take 2 mentees or none, and
    a share floor of 1.0 by region: the floor needs the mentee matched, the minimum load
    forbids it. Neither constraint alone is infeasible (hunt6 seed 33, a programme's round 2,
    reduced to pair())."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=1, n_mentors=2, seed=33)
    mentors = mentors.assign(capacity=[3, 2], min_capacity=[0, 2])
    programme = {"constraints": {"management_line": False,
                                 "forbidden": [[mentees["id"][0], mentors["id"][0]]]},
                 "fairness": {"floor_group": "region", "share_floor": 1.0}}
    return mentors, mentees, programme


def _infeasible_on(kind: str):
    from mentormatch.errors import InfeasibleError

    from _support import on_source

    mentors, mentees, programme = _min_load_against_a_share_floor()
    alone = mm.pair(mentors, mentees, {**programme, "fairness": {}})  # the minimum load alone
    assert len(alone.pairs) == 0 and alone.status == "optimal"
    alone = mm.pair(mentors.assign(min_capacity=0), mentees, programme)  # the floor alone
    assert len(alone.pairs) == 1 and alone.status == "optimal"
    with on_source(kind), pytest.raises(InfeasibleError) as err:
        mm.pair(mentors, mentees, programme)
    return err.value


def test_an_infeasible_round_names_both_conflicting_constraints_and_the_mentor_by_id():
    """The complete set: the error names the minimum load of mentor 'E00003' and the floor it
    conflicts with. Before (5cec041), pipeline/wrap.labelled replaced the engine's conflicts
    by the diagnosis re-run with ids, which dropped the families to blame: the error said only
    that E00003 "cannot take part" (true, and no conflict by itself)."""
    e = _infeasible_on("complete")
    text = str(e)
    assert "'E00003'" in text and "#1" not in text
    assert any("share_floor" in c.constraint for c in e.conflicts), text
    assert any(c.constraint.startswith("min_load") for c in e.conflicts), text


@pytest.mark.parametrize("kind", ["blocks", "bounds"])
def test_an_infeasible_round_names_the_mentor_by_id_on_the_scale_path(kind):
    """Cached blocks and bounds name the mentor by id and the same conflicting constraints as
    the complete set: the engine diagnoses the problem over every pair of the source with the
    families to blame (before, the scale path said only that the linear relaxation has no
    solution, beside "mentor 'E00003' cannot take part")."""
    e = _infeasible_on(kind)
    assert "'E00003'" in str(e) and "#1" not in str(e)
    whole = _infeasible_on("complete")
    assert sorted(c.constraint for c in e.conflicts) == sorted(c.constraint for c in whole.conflicts)
    assert any("share_floor" in c.constraint for c in e.conflicts), str(e)
    assert any(c.constraint.startswith("min_load") for c in e.conflicts), str(e)


def _budget_case(factor: float):
    """5 mentees, 2 mentors (synthetic seed 93): E00001 of capacity 1 (stipends 50 + 25 per
    mentee), E00004 of capacity 0; a budget of 150 (one pair costs 75); every feature weight
    times ``factor``."""
    from mentormatch.rules.settings import DEFAULT_WEIGHTS

    mentors, mentees = mm.synthetic.organisation(n_mentees=5, n_mentors=2, seed=93)
    mentors = mentors.assign(capacity=[1, 0], min_capacity=0, stipend_fixed=[50.0, 0.0],
                             stipend_per_mentee=[25.0, 10.0])
    programme = {"weights": {k: v * factor for k, v in DEFAULT_WEIGHTS.items()},
                 "constraints": {"management_line": False, "budget": 150.0}}
    return mentors, mentees, programme


def _both_fit(p, bf):
    assert len(p.pairs) == 2 and bf.feasible[bf.x.all(axis=1)].all()
    assert bf.best_total == pytest.approx(float(p.score.sum()), rel=1e-12)


def _one_pair_fits(p, bf):
    assert bf.best_total > 0 and bf.matched[bf.feasible].max() == 1


#: name -> (the case at a weight factor, what brute force must find there)
SMALL_WEIGHTS = {"balanced_lock": (_two_mentees_one_mentor, _both_fit),
                 "budget": (_budget_case, _one_pair_fits)}
@pytest.mark.parametrize("name, factor", [
    ("balanced_lock", 1.0), ("balanced_lock", 1e-6),
    ("balanced_lock", 1e-8),
    ("budget", 1.0), ("budget", 1e-6),
    ("budget", 1e-8)])
def test_side_constraints_on_small_weights_are_brute_forces_optimum(name, factor):
    """Every feature weight times ``factor``: the bound is at least brute force's optimum and
    "optimal" is said only there."""
    case, expect = SMALL_WEIGHTS[name]
    _against_brute_force(*case(factor), expect)


def _one_and_one_share_floor(factor: float):
    """1 mentee (region NA) and 1 mentor of capacity 2 (synthetic seed 49), a share floor of
    0.25 by region (the mentee must be matched), every feature weight times ``factor``."""
    from mentormatch.rules.settings import DEFAULT_WEIGHTS

    mentors, mentees = mm.synthetic.organisation(n_mentees=1, n_mentors=1, seed=49)
    mentors = mentors.assign(capacity=2, min_capacity=0)
    programme = {"weights": {k: v * factor for k, v in DEFAULT_WEIGHTS.items()},
                 "constraints": {"management_line": False},
                 "fairness": {"floor_group": "region", "share_floor": 0.25}}
    return mentors, mentees, programme


@pytest.mark.parametrize("kind, factor", [
    ("complete", 1e4), ("blocks", 1e4), ("bounds", 1.0), ("bounds", 3e3), ("bounds", 3e4),
    ("bounds", 1e4)])
def test_a_share_floor_the_one_pair_meets_is_never_infeasible(kind, factor):
    from _support import on_source

    mentors, mentees, programme = _one_and_one_share_floor(factor)
    with on_source(kind):
        r = mm.pair(mentors, mentees, programme)
    assert len(r.pairs) == 1 and r.status == "optimal"
