"""Each kind of conflict gives a message whose numbers are recomputed here independently."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mentormatch.errors import InfeasibleError
from mentormatch.pairs import Candidates
from mentormatch.solvers import SideConstraints
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.cpsat import solve_cpsat
from mentormatch.solvers.diagnose import bipartite_max_flow, diagnose

MENTORS = ["M0", "M1", "M2", "M3"]


def kinds(conflicts):
    return [c.constraint for c in conflicts]


def test_mentees_without_candidates():
    mask = np.ones((5, 2), bool)
    mask[[1, 3]] = False
    p = AssignmentProblem(Candidates.from_mask(mask), np.ones(6), np.array([3.0, 3.0]))
    (c,) = diagnose(p, mentee_labels=["a", "b", "c", "d", "e"])
    assert c.constraint == "no_candidate"
    assert c.detail.startswith("2 mentee(s)") and "'b', 'd'" in c.detail


def test_locks_over_capacity_and_demand():
    pairs = Candidates.complete(4, 2)
    locked = np.zeros(8, bool)
    locked[[0, 2, 4]] = True      # mentees 0, 1, 2 locked to mentor 0 (capacity 2)
    locked[[6, 7]] = True         # mentee 3 locked to both mentors, demand 1
    p = AssignmentProblem(pairs, np.ones(8), np.array([2.0, 2.0]), locked=locked)
    found = diagnose(p, mentee_labels=list("wxyz"), mentor_labels=MENTORS[:2])
    assert kinds(found) == ["locked", "locked"]
    # mentor 0 holds locks of mentees 0, 1, 2 and 3
    n_locks = int(np.sum(locked & (pairs.mentor == 0)))
    assert f"mentor 'M0' has {n_locks} locked pairs (load {n_locks}) but capacity 2" in found[0].detail
    assert f"drop {n_locks - 2} lock(s)" in found[0].relaxation
    assert "mentee 'z' is locked to 2 mentors but needs only 1" in found[1].detail


def test_min_load_unreachable_when_forced():
    mask = np.array([[1, 1], [1, 1], [0, 1], [0, 1]], bool)
    pairs = Candidates.from_mask(mask)
    locked = np.zeros(len(pairs), bool)
    locked[pairs.locate([0], [0])] = True
    p = AssignmentProblem(pairs, np.ones(len(pairs)), np.array([5.0, 5.0]), locked=locked,
                          side=SideConstraints(min_load=np.array([3.0, 0.0])))
    (c,) = diagnose(p, mentor_labels=MENTORS[:2])
    eligible = int(mask[:, 0].sum())
    assert c.constraint == "min_load"
    assert f"mentor 'M0' needs at least 3 mentees but only {eligible} eligible mentees" in c.detail
    assert "locked" in c.detail and f"minimum to {eligible}" in c.relaxation
    with pytest.raises(InfeasibleError) as info:
        solve_cpsat(p)
    assert kinds(info.value.conflicts) == ["min_load"]


def test_min_load_limited_by_capacity_with_loads():
    pairs = Candidates.complete(4, 1)
    p = AssignmentProblem(pairs, np.ones(4), np.array([2.0]), load=np.array([1.0, 0.5, 1.5, 1.0]),
                          side=SideConstraints(min_load=np.array([4.0])))
    (c,) = diagnose(p)
    # lightest first: 0.5 + 1.0 = 1.5 fits, + 1.0 = 2.5 does not: two mentees
    assert "only 2 of its 4 eligible mentees fit in capacity 2" in c.detail
    assert "cannot take part" in c.detail


def test_budget_below_forced_mentors():
    rng = np.random.default_rng(0)
    pairs = Candidates.complete(12, 4)
    locked = np.zeros(len(pairs), bool)
    for i, j in [(0, 0), (1, 1), (2, 2), (3, 2)]:
        locked[pairs.locate([i], [j])] = True
    fixed = np.array([10_000.0, 12_000.0, 9_000.0, 20_000.0])
    per = np.array([1_000.0, 2_000.0, 1_500.0, 500.0])
    mins = np.array([2.0, 1.0, 1.0, 0.0])
    p = AssignmentProblem(pairs, rng.random(len(pairs)), np.full(4, 3.0), locked=locked,
                          side=SideConstraints(budget=30_000.0, stipend_fixed=fixed,
                                               stipend_per_mentee=per, min_load=mins))
    # forced: mentors 0, 1, 2; loads max(min, locks) = 2, 1, 2
    cost = 10_000 + 2 * 1_000 + 12_000 + 1 * 2_000 + 9_000 + 2 * 1_500
    (c,) = diagnose(p)
    assert c.constraint == "budget"
    assert c.detail == (f"budget 30,000 cannot pay the minimum loads of the 3 mentors that the "
                        f"locked pairs require ({cost:,})")
    assert c.relaxation.startswith(f"raise the budget to {cost:,}")


def brute_group_places(mask_rows, capacity):
    """Most mentees of the group matched, by trying every assignment."""
    best = 0
    options = [[None] + list(np.flatnonzero(r)) for r in mask_rows]
    for combo in itertools.product(*options):
        load = np.bincount([j for j in combo if j is not None], minlength=len(capacity))
        if np.all(load <= capacity):
            best = max(best, sum(j is not None for j in combo))
    return best


def test_share_floor_by_max_flow_not_by_sum():
    # group 0: five mentees who can all reach only mentors 0 and 1 (capacity 1 each) even
    # though the sum of capacities of all mentors they see is large
    mask = np.zeros((8, 3), bool)
    mask[:5, 0] = mask[:5, 1] = True
    mask[0, 2] = True
    mask[5:, 2] = True
    capacity = np.array([1.0, 1.0, 4.0])
    group = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    p = AssignmentProblem(Candidates.from_mask(mask), np.ones(int(mask.sum())), capacity,
                          side=SideConstraints(group=group, group_names=["EMEA", "APAC"],
                                               share_floor=0.8))
    offer = brute_group_places(mask[:5], capacity)
    need = math.ceil(0.8 * 5)
    found = diagnose(p)
    assert offer == 3 and kinds(found) == ["share_floor"]
    assert found[0].detail == (f"group 'EMEA' needs {need} places (share_floor 0.8 x 5 mentees), "
                               f"its eligible mentors offer {offer}")
    assert found[0].relaxation == "lower share_floor to 0.60"
    with pytest.raises(InfeasibleError) as info:
        solve_cpsat(p)
    assert kinds(info.value.conflicts) == ["share_floor"]


def test_share_floor_groups_together():
    mask = np.ones((4, 1), bool)
    p = AssignmentProblem(Candidates.from_mask(mask), np.ones(4), np.array([2.0]),
                          side=SideConstraints(group=np.array([0, 0, 1, 1]), share_floor=1.0))
    (c,) = diagnose(p)
    assert "the 2 groups together need 4 places" in c.detail and "offer 2" in c.detail


def test_reservation_unreachable():
    pairs = Candidates.complete(3, 2)
    score = np.array([0.5, 0.9, 0.4, 0.8, 0.3, 0.7])
    p = AssignmentProblem(pairs, score, np.array([2.0, 2.0]),
                          side=SideConstraints(bonus=np.array([100.0, 10.0]),
                                               reservation=np.array([80.0, 20.0])))
    (c,) = diagnose(p, mentor_labels=["A", "B"])
    best_b = sorted(score[pairs.mentor == 1])[-2:]  # capacity 2: its two best
    earn = 10 * sum(best_b)
    assert c.constraint == "reservation"
    assert f"mentor 'B' can expect at most {earn:.4g}" in c.detail
    assert f"at most {sum(best_b):.4g} expected successes" in c.detail
    assert f"raise its bonus to {20 / sum(best_b):.4g}" in c.relaxation


def test_bipartite_max_flow_against_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(20):
        mask = rng.random((5, 3)) < 0.5
        cap = rng.integers(0, 3, 3)
        pairs = Candidates.from_mask(mask)
        value, flow = bipartite_max_flow(pairs.mentee, pairs.mentor, np.ones(5, np.int64), cap)
        assert value == brute_group_places(mask, cap) == flow.sum()


def test_default_labels():
    p = AssignmentProblem(Candidates.complete(3, 1), np.ones(3), np.array([1.0]),
                          locked=np.array([True, True, False]))
    (c,) = diagnose(p)
    assert c.detail == "mentor #0 has 2 locked pairs (load 2) but capacity 1"
