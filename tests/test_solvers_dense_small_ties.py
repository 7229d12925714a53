"""``solvers.dense.small`` on tied scores: the keyed flow over every arc counts the pairs that move
between the plain optima in its own check (``dense_flow``'s last value, DENSE_FLOW_VERSION 3),
where a separate pass (``dense_moving``) counted them. Against ``dense_moving`` and the plain
flow's own count (hypothesis: forbidden cells, capacity 0, ``-inf``, both memory orders), against
the plain-flow-first path (main's order of the flows) on whole ``assign()`` results, and against
brute force on tiny problems: the optima enumerated, the pairs that differ between them counted,
and the tie rule's pick (least sum of stage-1 keys) found among them."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _exact import feasible_picks

import mentormatch as mm
from mentormatch._native import assign_kernel
from mentormatch.pipeline import matrix
from mentormatch.solvers.dense import small
from mentormatch.solvers.quantize import choose_scale, network_size
from mentormatch.solvers.ties import key_bits, stage_keys

pytestmark = pytest.mark.skipif(assign_kernel() is None, reason="the compiled kernels are not built")


def _tied(seed, n, m):
    """Scores in 2-4 levels (some <= 0), ``-inf`` and forbidden cells, capacities 0-3."""
    rng = np.random.default_rng(seed)
    levels = int(rng.integers(2, 5))
    s = np.floor((rng.random((n, m)) * 1.3 - 0.2) * levels) / levels
    s[rng.random((n, m)) < 0.08] = -np.inf
    f = rng.random((n, m)) < 0.08
    cap = rng.integers(0, 4, m).astype(np.int64)
    return (np.asfortranarray(s) if rng.random() < 0.5 else s), f, cap, rng


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 12), st.booleans())
def test_the_keyed_flows_own_count_is_dense_movings_and_the_plain_flows(seed, n, m, has):
    """The keyed flow over every arc returns, as its last value, the pairs that move between
    the plain optima: ``dense_moving``'s count on its answer and rounded potentials, and the
    plain flow's own count (any proving potentials give it). Its other values are those it
    returned before (its flow, potentials and keyed ``movable`` do not depend on the count):
    the keyed flow on the plain flow's face finds the same pairs when the least is unique."""
    kernel = assign_kernel()
    s, f, cap, rng = _tied(seed, n, m)
    fb = f.view(np.uint8) if has else np.zeros((1, 1), np.uint8)
    order = rng.permutation(n).astype(np.int64)
    n_nodes, places = network_size(cap, np.ones(n, np.int64))
    scale = choose_scale(kernel.dense_top(s, fb, has, cap), n_nodes, places)
    rank_i, rank_j = rng.permutation(n).astype(np.int64), rng.permutation(m).astype(np.int64)
    bits = key_bits(n_nodes, places)
    mate, pi_i, pi_j, _, _, n_arcs, moving = kernel.dense_flow(s, fb, has, order, cap, scale)
    k_mate, k_i, k_j, k_t, twice, k_arcs, k_moving = kernel.dense_flow(
        s, fb, has, order, cap, scale, rank_i, rank_j, bits)
    assert k_t == 0 and k_arcs == n_arcs
    assert k_moving == moving == kernel.dense_moving(s, fb, has, k_mate, cap, scale, k_i, k_j)
    face = kernel.dense_flow(s, fb, has, order, cap, scale, rank_i, rank_j, bits, pi_i, pi_j)
    if not twice:
        assert (face[0] == k_mate).all() and face[4] == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 16), st.integers(0, 3))
def test_the_keyed_flow_first_gives_the_plain_flow_firsts_whole_result(seed, n, m, tie_seed):
    """The small path on tied scores (the keyed flow first, its own count) against the plain
    flow first (the keyed flow on its face, the plain flow's count: main's path for scores
    in floating point): the pairs and unmatched tables, status, objective, bound, gap and the
    whole certificate (the tie record, dual objective, largest reduced gain) are the same."""
    s, f, cap, rng = _tied(seed, n, m)
    ids = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    scores = pd.DataFrame(s, index=ids[0], columns=ids[1])
    forbidden = pd.DataFrame(f, index=ids[0], columns=ids[1]) if rng.random() < 0.7 else None
    capacity = pd.Series(cap.astype(float), index=ids[1])
    got = []
    for first in (True, False):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(small, "likely_tied", lambda kernel, values, first=first: first)
            got.append(mm.assign(scores, capacity, forbidden=forbidden, seed=tie_seed))
    a, b = got
    assert a.certificate["method"] == "dense_min_cost_flow_every_pair"
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    assert (a.status, a.objective, a.bound, a.gap) == (b.status, b.objective, b.bound, b.gap)
    skip = ("wall_time", "solver_wall_time")
    assert ({k: v for k, v in a.certificate.items() if k not in skip}
            == {k: v for k, v in b.certificate.items() if k not in skip})


@pytest.mark.parametrize("seed", range(40))
def test_the_movable_pairs_and_the_rules_pick_by_brute_force(seed, monkeypatch):
    """Tiny tied problems through ``assign()``: every assignment enumerated, the optima (integer
    scores at the call's scale), the pairs chosen in some optimum but not all (the record's
    ``movable_pairs``), and, when one optimum has the least sum of stage-1 keys of the call's
    seeded ranks, that one is the pairs returned (the tie rule's pick)."""
    rng = np.random.default_rng(7000 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    s, f, cap, _ = _tied(7000 + seed, n, m)
    seen = {}
    real = small.solve_small

    def spy(values, forbid, capacity, mentee_rank, mentor_rank, mentee_order):
        seen["ranks"] = mentee_rank.copy(), mentor_rank.copy()
        return real(values, forbid, capacity, mentee_rank, mentor_rank, mentee_order)

    monkeypatch.setattr(matrix, "solve_small", spy)  # (assign() calls the name it imported)
    monkeypatch.setattr(small, "likely_tied", lambda kernel, values: True)
    ids = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    r = mm.assign(pd.DataFrame(s, index=ids[0], columns=ids[1]), pd.Series(cap.astype(float), index=ids[1]),
                  forbidden=pd.DataFrame(f, index=ids[0], columns=ids[1]), seed=seed % 3)
    assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
    scale = r.certificate["scale"]
    rank_i, rank_j = seen["ranks"]
    n_nodes, places = network_size(cap, np.ones(n, np.int64))
    bits = key_bits(n_nodes, places)
    key = stage_keys(np.repeat(rank_i, m), np.tile(rank_j, n), 1, bits).reshape(n, m)
    arc = (s > 0) & ~f & (cap > 0)[None, :]
    score = np.where(arc, np.rint(np.where(arc, s, 0) * scale), 0).astype(np.int64)
    found = []
    for pick, on in feasible_picks(arc, cap):
        found.append((int(score[on, pick[on]].sum()), -int(key[on, pick[on]].sum()), tuple(pick)))
    best = max(x[0] for x in found)
    optima = [x for x in found if x[0] == best]
    chosen = [{(i, j) for i, j in enumerate(x[2]) if j >= 0} for x in optima]
    moving = set.union(*chosen) - set.intersection(*chosen)
    assert r.certificate["ties"]["movable_pairs"] == len(moving)
    least = max(x[1] for x in optima)
    picks = [x[2] for x in optima if x[1] == least]
    if len(picks) == 1:
        got = sorted((int(a[1:]), int(b[1:])) for a, b in r.pairs[["mentee_id", "mentor_id"]].values)
        assert got == sorted((i, j) for i, j in enumerate(picks[0]) if j >= 0)


def test_a_build_before_the_keyed_flows_own_count_takes_the_other_path(monkeypatch):
    """A module built before ``DENSE_FLOW_VERSION`` 3 (whose keyed flow returned the keyed
    count last) is not used by the small path: ``solve_dense`` answers, with the same pairs,
    objective and status on tied problems."""
    kernel = assign_kernel()

    class Before:
        DENSE_FLOW_VERSION = 2

        def __getattr__(self, name):
            return getattr(kernel, name)

    for trial in range(30):
        s, f, cap, rng = _tied(5000 + trial, int(5 + trial * 3), 2 + trial % 9)
        n, m = s.shape
        ids = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
        args = (pd.DataFrame(s, index=ids[0], columns=ids[1]), pd.Series(cap.astype(float), index=ids[1]))
        now = mm.assign(*args, seed=trial % 3)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(small, "assign_kernel", lambda: Before())
            before = mm.assign(*args, seed=trial % 3)
        assert now.certificate["method"] == "dense_min_cost_flow_every_pair"
        assert before.certificate["method"] != "dense_min_cost_flow_every_pair"
        pd.testing.assert_frame_equal(now.pairs, before.pairs)
        assert now.status == before.status and now.objective == pytest.approx(before.objective, abs=1e-9)
