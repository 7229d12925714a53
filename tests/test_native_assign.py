"""The compiled assignment kernels (:mod:`mentormatch._native.assign`): the flow of
``assign()``'s rounds against scipy's ``linear_sum_assignment`` on the capacity-expanded matrix
and against brute force on tiny instances, its potentials checked to prove the optimum; the
strong components against scipy's; the residual distances against Bellman-Ford's sweeps; and
``assign()`` giving the same pairs, status and objective with ``MENTORMATCH_NATIVE=0`` and ``1``
over scores in 2, 4 and 10 levels and continuous, capacities 1 and 3, forbidden pairs, ``-inf``,
locks and shuffled rows.

Where the kernels were not built (no C compiler) the comparisons are skipped, except under
``CI``, where the build is part of the install and its absence fails."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

import mentormatch as mm
from mentormatch import _native

from _kernels import native_kernel

native = native_kernel("assign")

pytestmark = pytest.mark.skipif(native is None, reason="mentormatch._native.assign was not built")

SCALE = 2.0 ** 36


def _instance(rng, n: int, m: int, levels: int):
    """Random scores (continuous, or ``levels`` levels: many ties), about a third of the pairs
    ineligible, capacities 0-3, a tenth of the mentees with demand 0; the eligible pairs by
    mentee as the kernel takes them."""
    s = rng.random((n, m))
    if levels:
        s = np.ceil(s * levels) / levels
    eligible = rng.random((n, m)) < 0.7
    cap = rng.integers(0, 4, m).astype(np.int64)
    dem = (rng.random(n) < 0.9).astype(np.int64)
    i, j = np.nonzero(eligible)
    cost = -np.round(s[i, j] * SCALE).astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=ptr[1:])
    return s, eligible, cap, dem, i, j.astype(np.int64), cost, ptr


def _check_proof(i, j, cost, cap, dem, chosen, pu, pv, pt):
    """Every residual arc of the network (mentee -> mentor unchosen, mentor -> mentee chosen,
    mentor -> sink with room, sink -> mentor used, mentee -> sink when matched or not) has a
    reduced cost >= 0 under the potentials: the flow is a min-cost flow (an optimum)."""
    live = dem[i] > 0
    rc = cost + pu[i] - pv[j]
    assert (rc[~chosen & live] >= 0).all()
    assert (rc[chosen] <= 0).all()
    load = np.bincount(j[chosen], minlength=len(cap))
    assert (pv[load < cap] >= pt).all() and (pv[load > 0] <= pt).all()
    matched = np.bincount(i[chosen], minlength=len(dem)) > 0
    assert (pu[matched] >= pt).all() and (pu[~matched & (dem > 0)] <= pt).all()


@pytest.mark.parametrize("levels", [0, 2, 4])
def test_flow_matches_scipy_on_expanded_places_and_its_potentials_prove_it(levels):
    rng = np.random.default_rng(levels)
    for _ in range(60):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        s, eligible, cap, dem, i, j, cost, ptr = _instance(rng, n, m, levels)
        chosen, pu, pv, pt = native.flow_assign(ptr, j, cost, cap, dem)
        assert np.bincount(i[chosen], minlength=n).max(initial=0) <= 1
        assert (np.bincount(j[chosen], minlength=m) <= cap).all()
        assert (dem[i[chosen]] > 0).all()
        # scipy: each mentor's places as columns, and one "unmatched" column per mentee
        gain = np.where(eligible, np.round(s * SCALE), 0.0) * dem[:, None]
        places = np.repeat(np.arange(m), cap)
        matrix = np.zeros((n, len(places) + n))
        matrix[:, :len(places)] = -gain[:, places]
        r, c = linear_sum_assignment(matrix)
        assert -cost[chosen].sum() == -matrix[r, c].sum()
        _check_proof(i, j, cost, cap, dem, chosen, pu, pv, pt)


def test_flow_matches_brute_force_on_tiny_instances():
    rng = np.random.default_rng(7)
    for _ in range(150):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        s, eligible, cap, dem, i, j, cost, ptr = _instance(rng, n, m, int(rng.choice([0, 2])))
        best = 0
        for pick in itertools.product(range(-1, m), repeat=n):  # each mentee: a mentor or none
            p = np.array(pick)
            on = p >= 0
            if (on & ~(dem > 0)).any() or not eligible[np.flatnonzero(on), p[on]].all():
                continue
            if (np.bincount(p[on], minlength=m) > cap).any():
                continue
            best = max(best, int(np.round(s[np.flatnonzero(on), p[on]] * SCALE).sum()))
        chosen = native.flow_assign(ptr, j, cost, cap, dem)[0]
        assert -cost[chosen].sum() == best


def test_flow_refuses_offsets_that_do_not_match_the_pairs():
    with pytest.raises(ValueError, match="ptr"):
        native.flow_assign(np.array([0, 2], np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64),
                           np.ones(1, np.int64), np.ones(1, np.int64))


def _csr(tail, head, n):
    order = np.argsort(tail, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=ptr[1:])
    return ptr, order


def _graphs(rng, low: int, high: int, least_arcs: int):
    """200 random directed graphs of ``low`` to ``high - 1`` nodes and ``least_arcs`` to 4 a
    node (repeats and loops too): ``(n, tail, head, ptr, order)``, ``ptr`` and ``order`` the
    arcs by tail (:func:`_csr`)."""
    for _ in range(200):
        n = int(rng.integers(low, high))
        e = int(rng.integers(least_arcs, 4 * n))
        tail, head = rng.integers(0, n, e), rng.integers(0, n, e)
        yield (n, tail, head, *_csr(tail, head, n))


def test_strong_components_group_the_nodes_as_scipy_does():
    for n, tail, head, ptr, order in _graphs(np.random.default_rng(11), 1, 50, 0):
        got = native.strong_components(ptr, head[order].astype(np.int64))
        g = csr_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n))
        g.sum_duplicates()
        want = connected_components(g, directed=True, connection="strong")[1]
        assert ((got[:, None] == got[None, :]) == (want[:, None] == want[None, :])).all()


def test_distances_are_bellman_fords_and_a_negative_cycle_is_found():
    rng = np.random.default_rng(12)
    for n, tail, head, ptr, order in _graphs(rng, 2, 40, 1):
        pot = rng.integers(-50, 50, n)
        cost = rng.integers(0, 20, len(tail)) + pot[tail] - pot[head]  # no negative cycle
        got = native.shortest_from_root(ptr, head[order].astype(np.int64), cost[order].astype(np.int64))
        want = np.zeros(n, np.int64)
        for _sweep in range(n + 1):  # every arc each sweep, from 0 (the virtual root)
            new = want.copy()
            np.minimum.at(new, head, want[tail] + cost)
            if (new == want).all():
                break
            want = new
        assert (got == want).all()
    # a two-node cycle of cost -1
    ptr, order = _csr(np.array([0, 1]), np.array([1, 0]), 2)
    assert native.shortest_from_root(ptr, np.array([1, 0], np.int64), np.array([2, -3], np.int64)) is None


def _assign_kinds():
    for n, m in [(3, 2), (12, 5), (60, 20)]:
        for levels in (0, 2, 4, 10):
            for c in (1, 3):
                for extra in ("plain", "forbidden", "neginf", "locks", "shuffled"):
                    yield n, m, levels, c, extra
    for extra in ("plain", "shuffled"):  # larger, in 4 levels: a face of thousands of pairs
        yield 200, 50, 4, 3, extra


def _assign(n, m, levels, c, extra):
    rng = np.random.default_rng([n, m, levels, c, len(extra)])
    s = rng.random((n, m))
    if levels:
        s = np.ceil(s * levels) / levels
    if extra == "neginf":
        s[rng.random((n, m)) < 0.2] = -np.inf
    mentees, mentors = [f"e{i}" for i in range(n)], [f"m{j}" for j in range(m)]
    scores = pd.DataFrame(s, index=mentees, columns=mentors)
    forbidden = pd.DataFrame(rng.random((n, m)) < 0.2, index=mentees, columns=mentors) \
        if extra == "forbidden" else None
    locked = [(mentees[0], mentors[0]), (mentees[-1], mentors[-1])] if extra == "locks" else ()
    if extra == "shuffled":
        scores = scores.sample(frac=1, random_state=1)
    result = mm.assign(scores, pd.Series(c, index=mentors), forbidden=forbidden, locked=locked)
    pairs = sorted(map(tuple, result.pairs[["mentee_id", "mentor_id"]].values.tolist()))
    return pairs, result.status, result.objective, result.certificate.get("flow")


def test_assign_gives_the_same_pairs_with_and_without_the_kernels(monkeypatch):
    """Ties included (scores in 2, 4 and 10 levels): the flows may reach different optima, and
    the tie rule picks the same one."""
    got = {}
    for value in ("0", "1"):
        monkeypatch.setattr(_native, "_chosen", {})
        monkeypatch.setenv(_native.SWITCH, value)
        got[value] = {kind: _assign(*kind) for kind in _assign_kinds()}
    flows = {v[3] for v in got["1"].values()}
    assert "compiled" in flows and "compiled" not in {v[3] for v in got["0"].values()}
    for kind in got["0"]:
        assert got["0"][kind][:2] == got["1"][kind][:2], kind
        assert got["0"][kind][2] == pytest.approx(got["1"][kind][2], abs=1e-9), kind


def _dense_instance(rng, n: int, m: int):
    """A dense matrix as ``assign()``'s small path gives it: scores continuous or in 2-4 levels
    (ties), some <= 0 and some -inf, 5 % forbidden, capacities 0-4, either memory order."""
    s = rng.random((n, m)) * 1.3 - 0.2
    levels = int(rng.integers(0, 5))
    if levels:
        s = np.floor(s * levels) / levels
    s[rng.random((n, m)) < 0.05] = -np.inf
    f = rng.random((n, m)) < 0.05
    cap = rng.integers(0, 5, m).astype(np.int64)
    return (np.asfortranarray(s) if rng.random() < 0.5 else s), f, cap


def _zero_cycles(c, arc, mate, pi, pj, cap):
    """``dense_flow``'s ``(movable, moving)`` recomputed with scipy: the residual arcs of
    reduced cost 0 (mentees, mentors, the sink; :func:`_check_proof`'s network), their strong
    components, and the pairs whose two ends share one (unchosen, then all)."""
    n, m = c.shape
    t = n + m
    matched = mate >= 0
    load = np.bincount(mate[matched], minlength=m)
    ii, jj = np.nonzero(arc)
    chosen = mate[ii] == jj
    zero = -c[ii, jj] - pi[ii] + pj[jj] == 0
    tails = [ii[zero & ~chosen], n + jj[chosen]]  # i -> j unchosen, j -> i chosen
    heads = [n + jj[zero & ~chosen], ii[chosen]]
    for tail, head, keep in ((np.arange(n), t, matched & (pi == 0)),  # leave a pair
                             (n + np.arange(m), t, (load < cap) & (pj == 0)),  # a place left
                             (t, n + np.arange(m), (load > 0) & (pj == 0)),  # a place freed
                             (t, np.arange(n), ~matched & (pi == 0))):  # a mentee placed
        tails.append(np.broadcast_to(tail, keep.shape)[keep])
        heads.append(np.broadcast_to(head, keep.shape)[keep])
    tail, head = np.concatenate(tails), np.concatenate(heads)
    g = csr_matrix((np.ones(len(tail)), (tail, head)), shape=(t + 1, t + 1))
    label = connected_components(g, directed=True, connection="strong")[1]
    moves = zero & (label[ii] == label[n + jj])
    return int((moves & ~chosen).sum()), int(moves.sum())


def test_dense_flow_is_scipys_optimum_its_potentials_prove_it_and_its_counts_are_scipys():
    """The small path's flow (:func:`dense_flow`) on 400 random matrices up to 200 x 50 (ties,
    -inf, forbidden, capacity 0, places fewer, as many as and more than the mentees; the
    ladder's 200 x 50 with capacity 4, whose last searches settle most mentors): its pairs reach
    scipy's optimum on the capacity-expanded matrix (integer costs), its potentials prove it
    over every arc in integers (:func:`_check_proof`'s conditions, the sink's potential 0), and
    the pairs that can move between optima (``movable``, ``moving``) are those scipy's strong
    components find on the arcs of reduced cost 0 (the kernel lists them in its check)."""
    rng = np.random.default_rng(31)
    for trial in range(400):
        n, m = (200, 50) if trial % 40 == 0 else (int(rng.integers(1, 60)), int(rng.integers(1, 25)))
        s, f, cap = _dense_instance(rng, n, m)
        if trial % 40 == 20:  # as many places as mentees: the searches' long tail
            n, m, s, cap = 200, 50, rng.random((200, 50)), np.full(50, 4, np.int64)
            f = rng.random((n, m)) < 0.01
        mate, pi, pj, pt, movable, n_arcs, moving = native.dense_flow(
            s, f.view(np.uint8), True, rng.permutation(n).astype(np.int64), cap, SCALE)
        arc = (s > 0) & ~f & (cap > 0)[None, :]
        c = np.where(arc, -np.rint(np.where(arc, s, 0) * SCALE), 0).astype(np.int64)
        matched = mate >= 0
        load = np.bincount(mate[matched], minlength=m)
        assert pt == 0 and n_arcs == arc.sum() and (load <= cap).all()
        assert arc[np.flatnonzero(matched), mate[matched]].all()
        gain = np.where(arc, -c - pi[:, None] + pj[None, :], -1)
        assert (gain <= 0).all() and (gain[np.flatnonzero(matched), mate[matched]] == 0).all()
        assert (pj[load < cap] >= 0).all() and (pj[load > 0] <= 0).all()
        assert (pi[matched] >= 0).all() and (pi[~matched] <= 0).all()
        places = np.repeat(np.arange(m), cap)
        expanded = np.hstack([np.where(arc, c, 0)[:, places], np.zeros((n, n))])  # or unmatched
        r, col = linear_sum_assignment(expanded)
        assert c[np.flatnonzero(matched), mate[matched]].sum() == expanded[r, col].sum()
        assert (movable, moving) == _zero_cycles(c, arc, mate, pi, pj, cap)
