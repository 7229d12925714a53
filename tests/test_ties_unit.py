"""The tie rule's compiled pick for unit demands (:mod:`mentormatch.solvers.ties_unit`) and the
compiled unit potentials (:func:`mentormatch._native.assign.unit_potentials`): the same pairs,
status, objective and tie record (but ``second_flow_solves``) as the rule's own second flows
on OR-Tools, over scores in 1-10 levels, ``-inf``, zero scores, forbidden pairs and
capacities 0-3; with keys of 1-3 bits (forced: many stages) wherever the rule isolates one
optimum; the overflow guard falling back; the pick against brute force on tiny instances; and
the potentials equal to the numpy sweeps' (distances and sweeps)."""
from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

import mentormatch as mm
from mentormatch._native import assign_kernel
from mentormatch.pipeline import matrix
from mentormatch.solvers import duals, ties, ties_unit
from mentormatch.solvers.flow import solve_arrays

native = assign_kernel()  # None: not built (no compiler), or MENTORMATCH_NATIVE=0
if native is None and os.environ.get("CI") and os.environ.get("MENTORMATCH_NATIVE") != "0":
    raise ImportError("mentormatch._native.assign was not built")

pytestmark = pytest.mark.skipif(native is None, reason="the compiled kernels are not in use")


def _case(rng):
    """A small assign() input with many exact ties."""
    n, m = int(rng.integers(2, 50)), int(rng.integers(1, 16))
    levels = int(rng.choice([1, 2, 3, 4, 10]))
    s = np.ceil(rng.random((n, m)) * levels) / levels
    if rng.random() < 0.3:
        s[rng.random((n, m)) < 0.2] = -np.inf
    if rng.random() < 0.2:
        s[rng.random((n, m)) < 0.2] = 0.0
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    cap = pd.Series(rng.integers(0, 4, m), index=scores.columns)
    forbidden = (pd.DataFrame(rng.random((n, m)) < 0.1, index=scores.index, columns=scores.columns)
                 if rng.random() < 0.3 else None)
    return scores, cap, forbidden


def _rule_path(monkeypatch):
    """assign() on the path that runs the rule's pick (:func:`mentormatch.solvers.ties.canonical`)
    whenever the optimum is not unique: the small path's keyed flow picks alone, and calls it
    only when two optima share the least key sum (tests/test_solvers_dense_small.py)."""
    monkeypatch.setattr(matrix, "small_applies", lambda cells: False)


def _answer(scores, cap, forbidden):
    r = mm.assign(scores, cap, forbidden=forbidden)
    record = dict(r.certificate.get("ties") or {})
    record.pop("second_flow_solves", None)
    pairs = sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].values.tolist()))
    return pairs, r.status, r.objective, record


@pytest.mark.parametrize("bits", [None, 1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_compiled_pick_is_the_rules_pick(monkeypatch, seed, bits):
    """Compiled pick against the rule's OR-Tools second flows, on the same certified optimum;
    ``bits`` forces short keys, so that many key sums tie and the rule runs several stages
    (where even the sixth stage leaves several optima, ``unique`` is False and either flow's
    optimum is the rule's: only the record is compared there)."""
    if bits is not None:
        monkeypatch.setattr(ties, "key_bits", lambda *a: bits)
    applies = ties_unit.applies
    rng = np.random.default_rng(seed)
    moved, stages = 0, set()
    for _ in range(25):
        case = _case(rng)
        monkeypatch.setattr(ties_unit, "applies", applies)
        new = _answer(*case)
        monkeypatch.setattr(ties_unit, "applies", lambda *a: False)
        old = _answer(*case)
        assert new[3] == old[3]
        assert new[1:3] == old[1:3]
        if new[3].get("unique", True):
            assert new[0] == old[0]
        moved += new[3].get("movable_pairs", 0) > 0
        stages.add(new[3].get("stages"))
    assert moved >= 12  # the ties are real
    if bits is not None:
        assert max(stages) >= 3


def test_compiled_pick_falls_back_when_its_bonus_could_overflow(monkeypatch):
    """``LABEL_ROOM`` tiny: :func:`ties_unit.pick` declines and the rule's own flows pick."""
    rng = np.random.default_rng(11)
    _rule_path(monkeypatch)
    monkeypatch.setattr(ties_unit, "LABEL_ROOM", 1)
    calls = []
    second = ties.second_flow
    monkeypatch.setattr(ties, "second_flow", lambda *a: calls.append(1) or second(*a))
    got = [_answer(*_case(rng)) for _ in range(10)]
    monkeypatch.setattr(ties_unit, "LABEL_ROOM", 1 << 62)
    rng = np.random.default_rng(11)
    want = [_answer(*_case(rng)) for _ in range(10)]
    assert got == want and calls


def _key_sum_brute_force(s, cap, levels_key):
    """The optima of the assignment (each mentee one mentor at most) by enumeration, and among
    them the least sum of ``levels_key`` over the pairs."""
    n, m = s.shape
    best, picks = None, []
    for choice in itertools.product(range(-1, m), repeat=n):
        load = np.bincount([c for c in choice if c >= 0], minlength=m)
        if (load > cap).any() or any(c >= 0 and not s[i, c] > 0 for i, c in enumerate(choice)):
            continue
        total = round(sum(s[i, c] for i, c in enumerate(choice) if c >= 0), 9)
        key = sum(int(levels_key[i, c]) for i, c in enumerate(choice) if c >= 0)
        if best is None or (total, -key) > best:
            best, picks = (total, -key), [choice]
        elif (total, -key) == best:
            picks.append(choice)
    return best, picks


@pytest.mark.parametrize("seed", range(25))
def test_pick_is_the_least_key_sum_among_the_optima_by_brute_force(seed):
    """On tiny tied instances, ``canonical`` (compiled pick) returns an optimum of least stage-1
    key sum, the brute force's when that least sum is reached once."""
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(2, 6)), int(rng.integers(1, 4))
    s = np.ceil(rng.random((n, m)) * 2) / 2
    cap = rng.integers(0, 3, m).astype(np.int64)
    dem = np.ones(n, np.int64)
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(m), indexing="ij"))
    res = solve_arrays(i, j, s[i, j], cap, dem)
    pot = duals.prices(i, j, res.cost, res.chosen, s[i, j], dem, cap, res.scale)[4]
    chosen, info = ties.canonical(i, j, s[i, j], res.chosen, cap, dem, pot, res.scale)
    bits = ties.key_bits(n + m + 2, int(min(dem.sum(), cap.sum())))
    key = (ties.pair_key(i, j, 1) >> np.uint64(64 - bits)).astype(np.int64).reshape(n, m)
    (total, neg_key), picks = _key_sum_brute_force(s, cap, key)
    assert round(float(s[i, j][chosen].sum()), 9) == total
    assert int(key[i[chosen], j[chosen]].sum()) == -neg_key
    if len(picks) == 1:
        want = sorted((a, c) for a, c in enumerate(picks[0]) if c >= 0)
        assert sorted(zip(i[chosen].tolist(), j[chosen].tolist())) == want


@pytest.mark.parametrize("levels", [0, 2, 5])
def test_unit_potentials_are_the_numpy_sweeps(monkeypatch, levels):
    """Distances of the mentees, mentors, source and sink, and the sweeps, equal the numpy
    sweeps' on optimal flows (OR-Tools') of random networks, from a few mentors (the dense
    sweeps) to more than 126 (the sparse ones); the flow is checked optimal first by scipy on
    the capacity-expanded matrix."""
    rng = np.random.default_rng(levels)
    kernel_on = duals.assign_kernel
    for t in range(60):
        n, m = (int(rng.integers(1, 40)), int(rng.integers(1, 15))) if t % 4 else (
            int(rng.integers(100, 300)), int(rng.integers(127, 150)))
        ii, jj = np.nonzero(rng.random((n, m)) < rng.uniform(0.2, 1))
        s = rng.random(len(ii))
        if levels:
            s = np.ceil(s * levels) / levels
        cap = rng.integers(0, 4, m).astype(np.int64)
        dem = rng.integers(0, 2, n).astype(np.int64)
        res = solve_arrays(ii, jj, s, cap, dem)
        if t < 10 and len(ii):  # the flow is an optimum: scipy on the expanded places
            gain = np.zeros((n, m))
            gain[ii, jj] = np.where(res.used, -res.cost, 0) * dem[ii]
            cols = np.repeat(np.arange(m), cap)
            full = np.concatenate([gain[:, cols], np.zeros((n, n))], axis=1)
            r, c = linear_sum_assignment(-full)
            assert int(full[r, c].sum()) == int(-res.cost[res.chosen].sum())
        got = duals._unit_potentials(ii, jj, res.cost, res.chosen, dem, cap)
        monkeypatch.setattr(duals, "assign_kernel", lambda: None)
        want = duals._unit_potentials(ii, jj, res.cost, res.chosen, dem, cap)
        monkeypatch.setattr(duals, "assign_kernel", kernel_on)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
        assert got[2:] == want[2:]


def test_unit_potentials_find_a_flow_that_is_not_optimal():
    """A chosen pair worth less than an unchosen one of the same mentee and an empty mentor:
    a cycle of negative cost, so the labels keep falling: None from the kernel, and the
    caller's RuntimeError."""
    i, j = np.array([0, 0]), np.array([0, 1])
    cost = np.array([-1, -5], np.int64)
    chosen = np.array([True, False])
    dem, cap = np.ones(1, np.int64), np.ones(2, np.int64)
    assert native.unit_potentials(i, j, cost, chosen.view(np.uint8), dem, cap) is None
    with pytest.raises(RuntimeError, match="not optimal"):
        duals._unit_potentials(i, j, cost, chosen, dem, cap)


def _network(rng, demand_max=1):
    """An optimum of a random tied network (1-3 score levels, -inf, zero scores, people of no
    room), its certificate's potentials, and shuffled seeded ranks: ``canonical``'s inputs."""
    n, m = int(rng.integers(2, 40)), int(rng.integers(1, 14))
    levels = int(rng.integers(1, 4))
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(m), indexing="ij"))
    keep = rng.random(len(i)) < rng.uniform(0.5, 1)
    i, j = i[keep], j[keep]
    s = np.ceil(rng.random(len(i)) * levels) / levels
    s[rng.random(len(i)) < 0.1] = 0.0
    cap = rng.integers(0, 4, m).astype(np.int64)
    dem = rng.integers(0, demand_max + 1, n).astype(np.int64)
    res = solve_arrays(i, j, s, cap, dem)
    pot = duals.prices(i, j, res.cost, res.chosen, s, dem, cap, res.scale)[4]
    s[~res.used & (rng.random(len(i)) < 0.5)] = -np.inf  # pairs the flow never had
    ranks = (rng.permutation(n), rng.permutation(m))
    return (i, j, s, res.chosen, cap, dem, pot, res.scale), ranks


@pytest.mark.parametrize("seed", range(6))
def test_face_pairs_are_the_numpy_gathering_in_the_seeded_order(seed):
    """The compiled gathering (:func:`mentormatch._native.assign.face_pairs`): the same pairs
    in the same order, ranks and integer costs as the numpy path of ``canonical``
    (integer gain >= 0 or chosen, sorted by (mentee rank, mentor rank))."""
    rng = np.random.default_rng(200 + seed)
    for _ in range(20):
        (i, j, s, chosen, cap, dem, pot, scale), (ri, rj) = _network(rng, 4)
        used = (s > 0) & (dem[i] > 0) & (cap[j] > 0)
        with np.errstate(invalid="ignore"):
            used &= ties.integer_gain(s, i, j, pot, scale) >= 0
        used |= chosen
        want = np.flatnonzero(used)
        want = want[np.lexsort((rj[j[want]], ri[i[want]]))]
        idx, a, b, cost = native.face_pairs(i, j, s, chosen.view(np.uint8), dem, cap,
                                            pot[0].astype(np.int64), pot[1].astype(np.int64),
                                            scale, ri, rj)
        assert idx.tolist() == want.tolist()
        assert a.tolist() == ri[i[want]].tolist() and b.tolist() == rj[j[want]].tolist()
        assert cost.tolist() == (-np.round(s[want] * scale).astype(np.int64)).tolist()


def test_pair_keys_are_pair_key_s_top_bits():
    """The compiled keys equal :func:`ties.pair_key`'s top ``bits`` bits, for every width."""
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 1 << 40, 500), rng.integers(0, 1 << 40, 500)
    for stage in (0, 1, 6, 1 << 40):
        for bits in (1, 2, 3, 8, 33, 40, 63):
            want = (ties.pair_key(a, b, stage) >> np.uint64(64 - bits)).astype(np.int64)
            assert native.pair_keys(a, b, stage, bits).tolist() == want.tolist()
            assert ties.stage_keys(a, b, stage, bits).tolist() == want.tolist()


@pytest.mark.parametrize("bits", [None, 1, 2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_canonical_is_the_same_with_the_numpy_gathering(monkeypatch, seed, bits):
    """``canonical`` with the compiled gathering and keys against the numpy ones (the kernel
    hidden from :mod:`ties` alone): the same pairs and record, every field, on demands 0-4
    (demand > 1: the rule's own second flows), shuffled ranks, 1-3-bit keys."""
    if bits is not None:
        monkeypatch.setattr(ties, "key_bits", lambda *a: bits)
    rng = np.random.default_rng(300 + seed)
    stages = set()
    for t in range(25):
        args, ranks = _network(rng, 1 if t % 2 else 4)
        got = ties.canonical(*args, ranks=ranks)
        monkeypatch.setattr(ties, "assign_kernel", lambda: None)
        with np.errstate(invalid="ignore"):  # (numpy's gains of the -inf pairs, then left out)
            want = ties.canonical(*args, ranks=ranks)
        monkeypatch.undo()
        if bits is not None:
            monkeypatch.setattr(ties, "key_bits", lambda *a: bits)
        assert got[0].tolist() == want[0].tolist() and got[1] == want[1]
        stages.add(got[1]["stages"])
    assert max(stages) >= (3 if bits is not None else 1)


def test_compiled_pick_runs_where_the_old_label_guard_declined(monkeypatch):
    """Keys of 50 bits on small networks: ``8 (M + 2**bits)`` fits in int64 while the guard
    before (``6 * nodes * (M + 2**bits) < 2**62``) declined, so the compiled pick now runs (no
    OR-Tools second flow), and its pairs and record are the rule's own flows'."""
    monkeypatch.setattr(ties, "key_bits", lambda *a: 50)
    calls = []
    second = ties.second_flow
    monkeypatch.setattr(ties, "second_flow", lambda *a: calls.append(1) or second(*a))
    rng = np.random.default_rng(21)
    applies = ties_unit.applies
    moved = 0
    for _ in range(15):
        case = _case(rng)
        calls.clear()
        new = _answer(*case)
        assert not calls
        monkeypatch.setattr(ties_unit, "applies", lambda *a: False)
        old = _answer(*case)
        monkeypatch.setattr(ties_unit, "applies", applies)
        assert new[1:] == old[1:]
        if new[3].get("unique", True):
            assert new[0] == old[0]
        moved += new[3].get("movable_pairs", 0) > 0
    assert moved >= 5


class _Skewed:
    """The kernel with ``flow_assign``'s mentee potentials raised by one: they no longer prove
    its flow optimal (a mentee's arcs to the sink and pairs are off by one)."""

    def __init__(self, kernel):
        self.kernel = kernel

    def __getattr__(self, name):
        return getattr(self.kernel, name)

    def flow_assign(self, *args):
        chosen, p_i, p_j, p_t = self.kernel.flow_assign(*args)
        return chosen, p_i + 7, p_j, p_t


def test_a_stage_flow_its_potentials_do_not_prove_falls_back(monkeypatch):
    """:func:`ties_unit.pick` checks the stage's potentials: potentials that do not prove the
    flow make it decline, and the rule's own flows give the pairs (the same as without the
    fault)."""
    rng = np.random.default_rng(31)
    _rule_path(monkeypatch)
    cases = [_case(rng) for _ in range(12)]
    want = [_answer(*case) for case in cases]
    monkeypatch.setattr(ties_unit, "assign_kernel", lambda: _Skewed(native))
    calls = []
    second = ties.second_flow
    monkeypatch.setattr(ties, "second_flow", lambda *a: calls.append(1) or second(*a))
    got = [_answer(*case) for case in cases]
    assert got == want and calls
