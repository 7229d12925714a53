""""Never InfeasibleError on a feasible instance" (issue 23) at every scale of the scores, on
the three pair sources.

The bounds source (:class:`~mentormatch.solvers.sources.BoundedSource`) reads each pair through
a float32 bound plus a margin, and scores exactly only the pairs whose bound could matter. Its
margin was a fixed 1e-4: at weights x 1e4 (scores near 3.4e4) the float32 bound of the one pair
fell 0.0013 under its score, ``best()`` returned no pair, and the relaxation over "every
eligible pair" (none) was called infeasible. The margin is now the scorer's own, relative to the
scores' size (``BoundedScorer.margin``, per term so that it scales with the weights); and an
infeasible relaxation counts as a proof only once every eligible pair of the source, read
without its bounds, is a candidate (``relax._missing_join``)."""
from __future__ import annotations

import numpy as np
import pytest

import mentormatch as mm
from mentormatch import pipeline as pl
from mentormatch.errors import InfeasibleError
from mentormatch.rules.settings import DEFAULT_WEIGHTS
from mentormatch.scale import BIG
from mentormatch.solvers import sources
from mentormatch.testing import feasible_assignments

from _support import on_source, scorer_of

SOURCES = ["complete", "blocks", "bounds"]


def _weights(factor: float) -> dict:
    return {k: v * factor for k, v in DEFAULT_WEIGHTS.items()}


def _one_and_one(factor: float):
    """1 mentee and 1 mentor of capacity 2 (synthetic seed 49), a share floor of 0.25 by region
    that only the one pair meets, every feature weight times ``factor``."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=1, n_mentors=1, seed=49)
    mentors = mentors.assign(capacity=2, min_capacity=0)
    programme = {"weights": _weights(factor), "constraints": {"management_line": False},
                 "fairness": {"floor_group": "region", "share_floor": 0.25}}
    return mentors, mentees, programme


def _against_brute_force(mentors, mentees, programme, kind: str):
    """``pair()`` on ``kind`` against brute force on the complete set: InfeasibleError exactly
    when brute force finds no assignment; else a bound at least its optimum, and "optimal"
    only at it (relative 1e-6)."""
    bf = feasible_assignments(pl.prepare(mentors, mentees, programme).problem)
    with on_source(kind):
        if not bf.any_feasible:
            with pytest.raises(InfeasibleError):
                mm.pair(mentors, mentees, programme)
            return None
        r = mm.pair(mentors, mentees, programme)
    best = bf.best_total
    assert r.bound >= best - 1e-9 * abs(best)
    assert r.status != "optimal" or r.objective == pytest.approx(best, rel=1e-6)
    return r, best


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("k", range(-8, 7))
def test_the_pair_a_share_floor_needs_at_weights_times_ten_to_the_k(kind, k):
    """Weights x 10**k, k in -8..6: the one pair (brute force: the only assignment meeting the
    floor), optimal at brute force's score. Fails at 5cec041 on bounds at k = 4."""
    mentors, mentees, programme = _one_and_one(10.0 ** k)
    r, best = _against_brute_force(mentors, mentees, programme, kind)
    assert best > 0 and len(r.pairs) == 1 and r.status == "optimal"


@pytest.mark.parametrize("k", range(-8, 7))
def test_bounds_plus_margin_reach_every_exact_score(k):
    """The scorer's float32 bound plus its margin is at least each eligible pair's exact score
    (the margin's promise, which the bounds source's screens rely on), and the margin is a small
    share of the scores (relative at every scale: 1e-4 of the largest bound at most)."""
    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=12, seed=7)
    programme = {"weights": _weights(10.0 ** k)}
    prep = pl.prepare(mentors, mentees, programme)
    sc = scorer_of(prep, programme)
    up = sc.upper(0, sc.n).astype(np.float64)
    rows, cols = np.nonzero(up > -BIG / 4)  # eligible
    exact = sc.exact_scores(rows, cols)
    assert len(rows) and np.all(up[rows, cols] + sc.margin >= exact)
    assert sc.margin <= 1e-4 * float(np.abs(up[rows, cols]).max())


def _random_case(seed: int):
    """2-4 mentees and 1-3 mentors (synthetic), random capacities and minimum loads, a share
    floor by region and/or a budget, weights x 10**k for a random k in -8..6."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    mentors, mentees = mm.synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    cap = rng.integers(0, 3, m)
    mentors = mentors.assign(capacity=cap, min_capacity=np.minimum(rng.choice([0, 0, 2], m), cap),
                             stipend_fixed=rng.choice([0.0, 50.0], m),
                             stipend_per_mentee=rng.choice([10.0, 25.0], m))
    programme = {"weights": _weights(10.0 ** int(rng.integers(-8, 7))),
                 "constraints": {"management_line": False}}
    what = rng.integers(1, 4)  # 1: share floor, 2: budget, 3: both
    if what & 1:
        programme["fairness"] = {"floor_group": "region",
                                 "share_floor": float(rng.choice([0.25, 0.5, 1.0]))}
    if what & 2:
        programme["constraints"]["budget"] = float(rng.choice([60.0, 100.0, 200.0]))
    return mentors, mentees, programme


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("seed", range(12))
def test_random_tiny_side_constraints_against_brute_force(kind, seed):
    """Random tiny problems with share floors and budgets at random score scales: infeasible
    exactly where brute force finds no assignment, else a valid bound and "optimal" only at
    brute force's optimum."""
    _against_brute_force(*_random_case(seed), kind)


def test_the_random_cases_hold_both_answers():
    """The random family is not one-sided: some cases have no assignment, most have one."""
    found = [feasible_assignments(pl.prepare(*_random_case(s)).problem).any_feasible
             for s in range(12)]
    assert any(found) and not all(found)


def test_an_infeasible_relaxation_is_rechecked_over_every_eligible_pair(monkeypatch):
    """A bounds source whose ``best()`` misses every pair (as bounds under the scores did): the
    relaxation on no candidate is infeasible, which is no proof; every eligible pair of the
    source joins first, and the answer is brute force's. Fails at 5cec041 (InfeasibleError)."""
    monkeypatch.setattr(sources.BoundedSource, "best",
                        lambda self, k, *deadline: (np.zeros(0, np.int64), np.zeros(0, np.int64),
                                                    np.zeros(0)))
    r, best = _against_brute_force(*_one_and_one(1.0), "bounds")
    assert len(r.pairs) == 1 and r.status == "optimal"
