"""Max-min's final flow (``solvers/maxmin_total.py``'s :func:`solve_total`) keeps a caller's
deadline inside its pricing pass: no block of the pass starts past it, and the flow then says
it stopped (``holds`` False, no pairs chosen: the caller keeps its nested answer, "feasible").
Before, the deadline was read between rounds only: a pass begun before it ran every block, and
one that found no violator proved the total past the deadline. Fake clock (``jumping_clock``),
no sleep; blocks of 5 rows."""
from __future__ import annotations

import time

import numpy as np
import pytest

from mentormatch.solvers import AssignmentProblem, SolverOptions, get_solver, sparse
from mentormatch.solvers.maxmin_total import FixedCounts, solve_total
from mentormatch.solvers.sources import BlockSource
from mentormatch.solvers.threshold import HeldRows

from _support import jumping_clock
from test_maxmin_cover_total import _problem


def _setup(seed: int):
    p = _problem(seed, 40, 12)
    P = p.pairs
    sol = get_solver("maxmin")(p, SolverOptions(seed=0))
    x = np.asarray(sol.chosen, np.int64)
    dem = p.demand.astype(np.int64)
    fc = FixedCounts(cap=p.capacity.astype(np.int64), supply=dem, first=(dem > 0).astype(np.int64),
                     C=len(np.unique(P.mentee[x])), M=len(x), t=float(p.score[x].min()),
                     top=float(p.score.max()), locks=np.zeros(0, np.int64))
    return p, x, fc


class _Counted(BlockSource):
    """A block source counting the blocks it yields; ``then`` runs once the first is made."""

    def __init__(self, *args, then=None):
        super().__init__(*args)
        self.yielded, self.then = 0, then

    def blocks(self, screen=None):
        for out in super().blocks(screen):
            self.yielded += 1
            if self.yielded == 1 and self.then is not None:
                self.then()  # once the first block is scored, before the pass reads it
            yield out


@pytest.mark.parametrize("start", ["witness", "every pair"])
@pytest.mark.parametrize("seed", range(3))
def test_the_pricing_pass_stops_at_the_deadline(monkeypatch, seed, start):
    p, x, fc = _setup(seed)
    P, n, m = p.pairs, p.n_mentees, p.n_mentors
    monkeypatch.setattr(sparse, "_BLOCK_ELEMENTS", 5 * m)  # blocks of 5 rows: 8 blocks
    # untimed: proven, and the pass has 8 blocks a round
    whole = _Counted(HeldRows(P, p.score), n, m)
    first = (P.mentee[x], P.mentor[x], p.score[x]) if start == "witness" else (P.mentee, P.mentor, p.score)
    ok = solve_total(whole, fc, first, n_mentees=n, n_mentors=m, bounded=False)
    assert ok.holds and whole.yielded == 8 * ok.record["rounds"]
    clock = jumping_clock(monkeypatch, 1000.0)
    src = _Counted(HeldRows(P, p.score), n, m, then=clock.jump)  # the limit passes after block 1
    res = solve_total(src, fc, first, n_mentees=n, n_mentors=m, bounded=False,
                      deadline=time.perf_counter() + 60.0)
    assert src.yielded == 1  # no block after the deadline (before: all 8, then a proof or a stop)
    assert not res.holds and not res.chosen.any()
    assert res.record["stopped"] == "the time limit (inside a pricing pass)"
    assert res.record["rounds"] == 1 and len(res.record["pricing_seconds"]) == 1


def test_no_flow_starts_past_the_deadline(monkeypatch):
    p, x, fc = _setup(0)
    P, n, m = p.pairs, p.n_mentees, p.n_mentors
    src = _Counted(HeldRows(P, p.score), n, m)
    res = solve_total(src, fc, (P.mentee[x], P.mentor[x], p.score[x]), n_mentees=n, n_mentors=m,
                      bounded=False, deadline=time.perf_counter() - 1.0)
    assert not res.holds and res.record["rounds"] == 0 and src.yielded == 0
    assert res.record["stopped"] == "the time limit"


def _bounds_case(seed: int):
    """A round (90 x 30, demands 1-2) as a dense matrix and as the scale path's bounds, and
    the counts max-min fixes on it (from the held solver on the complete set)."""
    from mentormatch import synthetic
    from mentormatch.pairs import Candidates

    from _support import exact_round, scorer_of

    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=30, seed=seed)
    prep, eligible, scores = exact_round(mentors, mentees)
    n, m = scores.shape
    dem = np.where(np.arange(n) % 3 == 0, 2, 1)
    cap = prep.data["mentors"]["capacity"].to_numpy(float)
    P = Candidates.from_mask(eligible)
    p = AssignmentProblem(P, scores[eligible], cap, dem.astype(float), coverage_first=True)
    x = np.asarray(get_solver("maxmin")(p, SolverOptions(seed=0)).chosen, np.int64)
    fc = FixedCounts(cap=cap.astype(np.int64), supply=dem.astype(np.int64), first=np.ones(n, np.int64),
                     C=len(np.unique(P.mentee[x])), M=len(x), t=float(p.score[x].min()),
                     top=float(p.score.max()), locks=np.zeros(0, np.int64))
    return p, x, fc, scorer_of(prep)


@pytest.mark.parametrize("seed", range(4))
def test_on_bounds_the_same_pairs_as_on_the_complete_matrix(seed):
    """solve_total from the witness's pairs on the scale path's bounds (exact scores only where
    a bound passes the screen) and on the complete matrix (blocks): proven, the same pairs
    (the tie rule on the optimal face), the witness's total (the held max-min's, the best
    among the assignments with its counts)."""
    from mentormatch.solvers.sources import BoundedSource

    p, x, fc, scorer = _bounds_case(seed)
    P, n, m = p.pairs, p.n_mentees, p.n_mentors
    start = (P.mentee[x], P.mentor[x], p.score[x])
    on_bounds = solve_total(BoundedSource(scorer, n, m), fc, start, n_mentees=n, n_mentors=m, bounded=True)
    every = solve_total(BlockSource(HeldRows(P, p.score), n, m), fc, start, n_mentees=n, n_mentors=m,
                        bounded=False)
    assert on_bounds.holds and every.holds
    pick = lambda r: sorted(zip(r.i[r.chosen].tolist(), r.j[r.chosen].tolist()))  # noqa: E731
    assert pick(on_bounds) == pick(every)
    chosen = P.locate(on_bounds.i[on_bounds.chosen], on_bounds.j[on_bounds.chosen])
    assert np.all(chosen >= 0)
    assert p.score[chosen].sum() == pytest.approx(p.score[x].sum(), abs=1e-9)

