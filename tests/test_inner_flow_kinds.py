"""Which models the Lagrangians take (their ``handles``), stated once in ``inner``: the inner
problem must be a plain certified flow (:func:`~mentormatch.solvers.inner.plain_inner`: whole
capacities, loads of 1, no ``coverage_first``, no objective bonus, no locks); the floors' and
balanced loads' also need one mentor per mentee
(:func:`~mentormatch.solvers.inner.one_each`), the budget's does not; the engine's
coverage_first shortcut needs only a flow that carries the places exactly
(:func:`~mentormatch.solvers.inner.unit_flow`).

Every combination of the six properties below, for each of the four Lagrangians, against that
statement (the decision the ``one_each=`` flag took before; the answers are the same)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from mentormatch.solvers import balanced, floors, inner, lagrange, scorefloors
from mentormatch.solvers.base import SideConstraints

N, M = 4, 3
GROUP = np.array([0, 1, 0, -1])
SIDES = {
    "budget": SideConstraints(budget=10.0, stipend_fixed=np.ones(M), stipend_per_mentee=np.ones(M)),
    "share_floor": SideConstraints(share_floor=0.5, group=GROUP),
    "score_floor": SideConstraints(score_floor=0.9, group=GROUP),
    "balanced_load": SideConstraints(balanced_load=True),
}


def _handles(kind, side, capacity, demand, load, cover, bonus, locked) -> bool:
    if kind == "budget":  # (no demand argument: any demand)
        return lagrange.handles(side, capacity, load, cover, bonus, locked)
    module = {"share_floor": floors, "score_floor": scorefloors, "balanced_load": balanced}[kind]
    return module.handles(side, capacity, demand, load, cover, bonus, locked)


@pytest.mark.parametrize("kind", sorted(SIDES))
def test_each_lagrangian_takes_exactly_the_plain_flows_it_can_price(kind):
    side = SIDES[kind]
    seen = set()
    for two, frac, half, cover, bonus, lock in itertools.product([False, True], repeat=6):
        demand = np.array([1, 2, 1, 1]) if two else np.ones(N, np.int64)
        capacity = np.array([2.0, 1.5, 1.0]) if frac else np.array([2.0, 1.0, 1.0])
        load = np.array([1.0, 0.5, 1.0]) if half else None
        locked = (np.array([0]), np.array([1])) if lock else (None, None)
        got = _handles(kind, side, capacity, demand, load, cover, (lambda i, j: 0 * i) if bonus
                       else None, locked)
        # score floors fold the bonus into their flows (fold_bonus decides, with the source)
        bonus_blocks = bonus and kind != "score_floor"
        want = not (frac or half or cover or bonus_blocks or lock or (two and kind != "budget"))
        assert got == want, (kind, two, frac, half, cover, bonus, lock)
        seen.add(got)
    assert seen == {True, False}


def test_the_engine_shortcut_needs_only_whole_places_and_unit_loads():
    assert inner.unit_flow(np.array([2.0, 1.0]), None)
    assert inner.unit_flow(np.array([2.0, 1.0]), np.ones(5))
    assert not inner.unit_flow(np.array([2.0, 1.5]), None)
    assert not inner.unit_flow(np.array([2.0, 1.0]), np.array([1.0, 0.5]))
    assert inner.one_each(None) and inner.one_each(np.array([1, 0, 1]))
    assert not inner.one_each(np.array([1, 2]))
