"""A warm start of the bounded solve from an earlier solution's mentor prices
(:func:`starting_from`), for :func:`mentormatch.whatif.what_if`: the solve at the top takes them
(:func:`take_start`) in place of a sub-market's prices."""
from __future__ import annotations

import contextlib
import threading

import numpy as np


class WarmStart:
    """A warm start given to :func:`starting_from`: the prices, and whether a solve took them."""

    def __init__(self, prices):
        self.prices = None if prices is None else np.asarray(prices, np.float64)
        self.used = False


_START = threading.local()


@contextlib.contextmanager
def starting_from(prices):
    """Inside the ``with``, the first :func:`~mentormatch.solvers.bounded.solve_bounded` on as many mentors as ``prices``
    (an earlier solution's mentor prices, score units; None: none) starts from them, as from a
    sub-market's prices: the first pass ranks each mentee's pairs by ``bound - price``, the
    first sparse set is each mentee's best by that and the potentials start from them; no
    sub-market is solved. Any prices are a valid start (the certificate is computed afresh);
    good ones save rounds. Yields a :class:`WarmStart`, whose ``used`` says whether a solve
    took them. For :func:`mentormatch.whatif.what_if`, which re-solves from the last solution."""
    before = getattr(_START, "start", None)
    _START.start = WarmStart(prices)
    try:
        yield _START.start
    finally:
        _START.start = before


def take_start(m: int):
    """The warm start of :func:`starting_from` when it fits ``m`` mentors and is not taken."""
    start = getattr(_START, "start", None)
    if start is None or start.prices is None or start.used or len(start.prices) != m:
        return None
    start.used = True
    return np.where(np.isfinite(start.prices), start.prices, 0.0)


class PriceChain:
    """A sequence of certified flows on bounds (max-min's thresholds, a Lagrangian's
    multipliers), each started from the last certified one's mentor prices instead of a
    sub-market's. ``shift``: the flow's price per mentor added to every score (None: none); a
    mentor's price moves with its change of shift. Any prices are a valid start (the
    certificate is computed afresh), so the answers are those of cold flows. ``taken`` counts
    the flows that started warm."""

    def __init__(self):
        self.prices = self.shift = None
        self.taken = 0

    def solve(self, run, shift=None):
        """``run()`` (a ``solve_bounded`` call returning (problem, solution)) from the chain's
        prices; the solution's prices, when certified, become the next start."""
        start = self.prices
        if start is not None and shift is not None and self.shift is not None:
            start = start + (np.asarray(shift, float) - self.shift)
        with starting_from(start) as warm:
            problem, sol = run()
        self.taken += int(warm.used)
        if sol.prices is not None:
            self.prices = np.asarray(sol.prices[1], float)
            self.shift = None if shift is None else np.asarray(shift, float)
        return problem, sol
