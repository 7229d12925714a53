"""A pricing pass over every pair (``relax.Run.price``) starts no block of pairs past the
caller's deadline: at 3,000 x 1,500 with a budget, one pass started with 0.3 s left ran 3.8 s
(under load), and the engine returned 4-10 s past limits of 3-10 s. The round whose pass the
deadline cut gives no bound: the relaxation returned is the best round priced before it, or,
with none, the stage's answer without a relaxation (test_no_highs_after_the_limit).

Nothing is timed: the clock is ``time.perf_counter`` plus an offset that jumps past the deadline
after a chosen block of a chosen pass, the source's blocks made small (``sources._CHUNK``) so a
pass has many; the blocks priced after the jump are counted, as are HiGHS's runs."""
from __future__ import annotations

import time

import highspy
import numpy as np
import pytest

from mentormatch.solvers import SolverOptions, relax, sources
from mentormatch.solvers.engine import solve_mip
from mentormatch.solvers.linear import LinearModel

from test_no_highs_after_the_limit import LIMIT, _assert_stopped_at_the_limit, _budgeted


@pytest.fixture
def jumping(monkeypatch):
    """``at = [pass, block]``: the clock jumps past any deadline once that block (counted from
    0) of that pricing pass (counted from 1) is handed out. Returns (at, record), the record
    holding the blocks priced after the jump and the HiGHS runs started after it."""
    monkeypatch.setattr(sources, "_CHUNK", 64)
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)  # several pricing rounds
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    real_clock, real_price = time.perf_counter, relax.Run.price
    real_blocks, real_run = sources.ArraySource.blocks, highspy.Highs.run
    real_rc = LinearModel.pair_reduced_costs
    offset, at, passes = [0.0], [None, None], [0]
    record = {"blocks_after": 0, "runs_after": 0}
    in_price = [False]

    def price(self, *args, **kw):
        passes[0] += 1
        in_price[0] = True
        try:
            return real_price(self, *args, **kw)
        finally:
            in_price[0] = False

    def blocks(self, screen=None):
        for k, b in enumerate(real_blocks(self, screen)):
            yield b
            if in_price[0] and [passes[0], k] == at and not offset[0]:
                offset[0] = 1e4

    def reduced_costs(self, *args, **kw):  # a block priced
        record["blocks_after"] += bool(offset[0]) and in_price[0]
        return real_rc(self, *args, **kw)

    def run(self, *args, **kw):
        record["runs_after"] += bool(offset[0])
        return real_run(self, *args, **kw)

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    monkeypatch.setattr(relax.Run, "price", price)
    monkeypatch.setattr(sources.ArraySource, "blocks", blocks)
    monkeypatch.setattr(highspy.Highs, "run", run)
    monkeypatch.setattr(LinearModel, "pair_reduced_costs", reduced_costs)
    return at, record, passes


@pytest.mark.parametrize("pass_, block", [(1, 0), (1, 3), (2, 1)])
def test_no_block_of_a_pricing_pass_starts_past_the_limit(jumping, pass_, block):
    """The clock passes the limit after a block of the first or the second pass: no block
    after it is priced, no HiGHS run starts; the answer meets the budget and says the time
    limit stopped it, with a bound still at least the optimum (the engine's, untimed)."""
    at, record, passes = jumping
    p = _budgeted(3, n=60, m=16)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal" and passes[0] >= 3
    assert untimed.certificate["score"]["pricing_rounds"] > pass_
    passes[0] = 0
    at[:] = [pass_, block]
    sol = solve_mip(p, SolverOptions(time_limit=LIMIT))
    assert passes[0] == pass_ and record == {"blocks_after": 0, "runs_after": 0}
    _assert_stopped_at_the_limit(sol, untimed.objective)
    used = np.bincount(p.pairs.mentor[sol.chosen], minlength=p.pairs.n_mentors)
    assert np.all(used <= p.capacity)
    spent = float(np.sum(2.0 * (used > 0) + used))
    assert spent <= p.side.budget + 1e-9
    assert sol.certificate["score"]["pricing_rounds"] == pass_


def test_no_pricing_pass_starts_when_the_last_one_says_it_would_end_past_the_limit(monkeypatch):
    """Each pass takes 12 s on the clock (the pricing's own reserve of the limit off): after the
    second, 6 s of the 30 s are left, so the third does not start (before, it started and ended
    6 s past the limit); the answer is from the best round priced, its bound still a bound."""
    monkeypatch.setattr(relax, "PRICING_TIME_SHARE", 1.0)  # no reserve kept from pricing
    monkeypatch.setattr(sources, "_CHUNK", 64)
    monkeypatch.setattr(relax, "FIRST_CANDIDATES", 1)  # several pricing rounds
    monkeypatch.setattr(relax, "ADD_PER_MENTEE", 1)
    p = _budgeted(3, n=60, m=16)
    real_clock, real_price = time.perf_counter, relax.Run.price
    offset, passes, cost = [0.0], [], [0.0]

    def slow_price(self, *args, **kw):
        passes.append(time.perf_counter())
        out = real_price(self, *args, **kw)
        offset[0] += cost[0]
        return out

    monkeypatch.setattr(time, "perf_counter", lambda: real_clock() + offset[0])
    monkeypatch.setattr(relax.Run, "price", slow_price)
    untimed = solve_mip(p, SolverOptions(time_limit=1e5))
    assert untimed.status == "optimal" and len(passes) >= 3
    passes.clear()
    cost[0] = 12.0
    sol = solve_mip(p, SolverOptions(time_limit=LIMIT))
    assert len(passes) == 2
    assert sol.certificate["score"]["timed_out"] is True  # the time limit stopped the pricing
    assert sol.bound is not None and sol.bound >= untimed.objective - 1e-9  # still a bound
    assert sol.objective <= sol.bound + 1e-9
    if sol.status != "optimal":  # (the MIP on the candidates may still prove it)
        assert sol.message.startswith(f"stopped at the time limit ({LIMIT:g} s)")
    used = np.bincount(p.pairs.mentor[sol.chosen], minlength=p.pairs.n_mentors)
    assert np.all(used <= p.capacity)
    assert float(np.sum(2.0 * (used > 0) + used)) <= p.side.budget + 1e-9
