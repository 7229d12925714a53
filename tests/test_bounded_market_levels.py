"""The order of a level's sub-markets (:func:`market._guides`) when the inner one is itself
guided (three levels and more): the innermost sub-market is solved first, the outer one starts
from its prices (beside the inner one, which the innermost guides too), and the inner one's
prices rank the level's first pass. Whatever the order, the certified answer is the optimum of
every pair, recomputed here by scipy on the capacity-expanded matrix."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mentormatch import synthetic
from mentormatch.solvers.bounded import child, market, solve_bounded

from _support import exact_round, scorer_of


def _optimum(scores: np.ndarray, cap: np.ndarray) -> float:
    """The best total score of pairs (each mentee at most once, mentor ``j`` at most ``cap[j]``
    times), by scipy's assignment on the capacity-expanded matrix with one empty seat a mentee."""
    n = scores.shape[0]
    cols = np.repeat(np.arange(len(cap)), cap.astype(int))
    gain = np.where(np.isfinite(scores[:, cols]), scores[:, cols], -1e9)
    gain = np.hstack([gain, np.zeros((n, n))])  # (unmatched: 0)
    r, c = linear_sum_assignment(gain, maximize=True)
    return float(gain[r, c].sum())


@pytest.mark.parametrize("forked", [False, True])
def test_the_outer_sub_market_starts_from_the_innermost_prices_before_the_inner_one(monkeypatch, forked):
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)  # sub-markets from any size: four levels below the top here
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(child, "ENABLED", forked)  # (not forked: every level in this process, seen)
    mentors, mentees = synthetic.organisation(n_mentees=150, n_mentors=40, seed=7)
    mentors["capacity"] = 4
    prep, _, scores = exact_round(mentors, mentees)
    sc, cap = scorer_of(prep), prep.data["mentors"]["capacity"].to_numpy(float)
    calls = []  # (the sub-market's mentees, its guide's prices), in the order they were started
    guide = market._guide

    def recorded(solve, sub, depth, given=None, deadline=None):
        calls.append((sub.scorer.n, None if given is None else given[0]))
        out = guide(solve, sub, depth, given, deadline)
        calls.append((sub.scorer.n, "prices", out[0]))
        return out

    monkeypatch.setattr(market, "_guide", recorded)
    _, solution = solve_bounded(sc, cap)
    assert solution.status == "optimal" and solution.certificate["holds"]
    assert solution.objective == pytest.approx(_optimum(scores, cap), rel=1e-9)

    outer = market._market(sc, cap, np.ones(sc.n, np.int64))
    inner = market._market(outer.scorer, outer.cap, outer.dem, divide_places=True)
    innermost = market._market(inner.scorer, inner.cap, inner.dem)
    assert innermost is not None
    started = [c[0] for c in calls if len(c) == 2]
    assert started.index(innermost.scorer.n) < started.index(inner.scorer.n)
    if forked:  # the outer one ran in a child: this process saw its own levels only
        assert outer.scorer.n not in started
        return
    assert started.index(outer.scorer.n) < started.index(inner.scorer.n)
    # the outer one and the inner one both guided by the innermost one's prices, as it ended
    first = next(c[2] for c in calls if c[0] == innermost.scorer.n and len(c) == 3)
    for n in (outer.scorer.n, inner.scorer.n):
        given = next(c[1] for c in calls if c[0] == n and len(c) == 2)
        assert given is not None and np.array_equal(given, first)
