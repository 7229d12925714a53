"""``solvers.dense.small``: ``assign()``'s small-problem path (one compiled flow over every pair).
Exact against scipy on the capacity-expanded matrix and brute force, the same pairs whatever the
row and column order, the same answer as ``solve_dense`` (tied scores: the tie rule's pick) on
hundreds of small problems, and the inputs refused with the messages of the other path. No
timings (the speed is in benchmarks/ladder.py)."""
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from _exact import feasible_picks

import mentormatch as mm
from mentormatch._native import assign_kernel
from mentormatch.errors import ValidationError
from mentormatch.pairs import Candidates, Encoder
from mentormatch.pipeline import matrix

pytestmark = pytest.mark.skipif(assign_kernel() is None, reason="the compiled kernels are not built")


def _frames(s, f=None, cap=None):
    n, m = s.shape
    scores = pd.DataFrame(s, index=[f"e{i}" for i in range(n)], columns=[f"m{j}" for j in range(m)])
    forbidden = None if f is None else pd.DataFrame(f, index=scores.index, columns=scores.columns)
    capacity = pd.Series(np.asarray(cap, float), index=scores.columns)
    return scores, capacity, forbidden


def _instance(seed, n, m, levels=0):
    rng = np.random.default_rng(seed)
    s = rng.random((n, m)) * 2 - 0.3  # some scores <= 0 too
    if levels:
        s = np.floor(s * levels) / levels
    s[rng.random((n, m)) < 0.08] = -np.inf
    f = rng.random((n, m)) < 0.05
    cap = rng.integers(0, 4, m)  # capacity 0 mentors too
    return s, f, cap


def _solve(scores, capacity, forbidden, small: bool, monkeypatch, seed=0):
    monkeypatch.setattr(matrix, "small_applies", lambda cells: small)
    return mm.assign(scores, capacity, forbidden=forbidden, seed=seed)


def _pairs(r):
    return sorted(map(tuple, r.pairs[["mentee_id", "mentor_id"]].values.tolist()))


def _recomputed(r, s, f, cap):
    """The objective from the pairs, the constraints checked on the inputs."""
    i = r.pairs["mentee_id"].str[1:].astype(int).to_numpy()
    j = r.pairs["mentor_id"].str[1:].astype(int).to_numpy()
    assert len(np.unique(i)) == len(i)
    assert (np.bincount(j, minlength=len(cap)) <= cap).all()
    assert np.isfinite(s[i, j]).all() and not f[i, j].any()
    return float(s[i, j].sum())


def _expanded_optimum(s, f, cap):
    n, m = s.shape
    w = np.where(f | ~np.isfinite(s), -1e6, s)[:, np.repeat(np.arange(m), cap)]
    w = np.hstack([w, np.zeros((n, n))])  # staying unmatched
    r, c = linear_sum_assignment(w, maximize=True)
    return float(w[r, c].sum())


def test_the_small_path_is_taken_and_certified():
    s, f, cap = _instance(0, 30, 8)
    r = mm.assign(*_frames(s, f, cap)[:2], forbidden=_frames(s, f, cap)[2])
    assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert r.status == "optimal" and r.certificate["holds"]
    assert r.bound >= r.objective - 1e-9 and r.bound - r.objective <= 1e-6


@pytest.mark.parametrize("seed", range(40))
def test_the_optimum_of_scipy_on_the_expanded_matrix(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    s, f, cap = _instance(seed, int(rng.integers(1, 60)), int(rng.integers(1, 15)),
                          levels=[0, 2, 4, 0][seed % 4])
    r = _solve(*_frames(s, f, cap), True, monkeypatch)
    got = _recomputed(r, s, f, cap)
    assert abs(got - r.objective) <= 1e-9
    assert abs(got - _expanded_optimum(s, f, cap)) <= 1e-9
    assert r.status == "optimal" and r.bound >= got - 1e-9


@pytest.mark.parametrize("seed", range(20))
def test_brute_force_on_tiny_instances(seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    s, f, cap = _instance(100 + seed, n, m, levels=2 if seed % 2 else 0)
    best = 0.0
    for pick in itertools.product(range(-1, m), repeat=n):
        pick = np.array(pick)
        on = pick >= 0
        rows, cols = np.flatnonzero(on), pick[on]
        if (np.bincount(cols, minlength=m) > cap).any() or f[rows, cols].any():
            continue
        if not np.isfinite(s[rows, cols]).all():
            continue
        best = max(best, float(s[rows, cols].sum()))
    r = _solve(*_frames(s, f, cap), True, monkeypatch)
    assert abs(_recomputed(r, s, f, cap) - best) <= 1e-9


def test_the_same_answer_as_solve_dense_on_hundreds_of_tied_problems(monkeypatch):
    """The pick of the tie rule, the tables and the status equal those of the other path."""
    rng = np.random.default_rng(7)
    picked_by_rule = 0
    for trial in range(300):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        s, f, cap = _instance(1000 + trial, n, m, levels=[2, 3, 4, 0][trial % 4])
        scores, capacity, forbidden = _frames(s, f if trial % 2 else None, cap)
        seed = int(rng.integers(0, 5))
        a = _solve(scores, capacity, forbidden, True, monkeypatch, seed)
        b = _solve(scores, capacity, forbidden, False, monkeypatch, seed)
        assert a.certificate["method"] == "dense_min_cost_flow_every_pair"
        assert b.certificate["method"] != "dense_min_cost_flow_every_pair"
        assert _pairs(a) == _pairs(b), trial
        assert a.status == b.status and abs(a.objective - b.objective) <= 1e-9
        pa = a.pairs.sort_values("mentee_id").reset_index(drop=True)
        pb = b.pairs.sort_values("mentee_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(pa, pb)
        ua = a.unmatched.sort_values("mentee_id").reset_index(drop=True)
        ub = b.unmatched.sort_values("mentee_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(ua, ub)
        picked_by_rule += not a.certificate["ties"]["movable_pairs"] == 0
    assert picked_by_rule > 50  # the tie rule had something to pick in many of them


@pytest.mark.parametrize("seed", range(10))
def test_row_and_column_permutations_give_the_same_pairs(seed):
    rng = np.random.default_rng(seed)
    s, f, cap = _instance(200 + seed, 30, 9, levels=2 if seed % 2 else 0)
    scores, capacity, forbidden = _frames(s, f, cap)
    base = _pairs(mm.assign(scores, capacity, forbidden=forbidden))
    for _ in range(3):
        rows, cols = rng.permutation(scores.index), rng.permutation(scores.columns)
        r = mm.assign(scores.loc[rows, cols], capacity[cols].sample(frac=1, random_state=seed),
                      forbidden=forbidden.loc[rows, cols])
        assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
        assert _pairs(r) == base


def test_negative_scores_capacity_zero_and_nothing_eligible():
    s = np.array([[-1.0, -0.5], [0.7, -np.inf], [-np.inf, -np.inf], [0.2, 0.9]])
    scores, capacity, _ = _frames(s, None, [1, 0])
    r = mm.assign(scores, capacity)
    assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert _pairs(r) == [("e1", "m0")]  # m1 has no place; scores <= 0 are never made
    assert set(r.unmatched["mentee_id"]) == {"e0", "e2", "e3"}
    assert r.objective == pytest.approx(0.7)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_refused_with_the_messages_of_the_other_path(bad, monkeypatch):
    s, f, cap = _instance(5, 10, 4)
    s[3, 2] = bad
    messages = []
    for small in (True, False):
        monkeypatch.setattr(matrix, "small_applies", lambda cells, small=small: small)
        with pytest.raises(ValidationError) as err:
            mm.assign(*_frames(s, f, cap)[:2], forbidden=_frames(s, f, cap)[2])
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "e3" in messages[0] and "m2" in messages[0]


def test_the_compiled_ranks_of_chosen_pairs_are_wraps_count():
    """``chosen_ranks`` (the small path's pairs table's ``rank``) equals
    ``wrap._rank_of_chosen`` on pairs sorted by mentee: tied scores (the best rank of their
    run), several chosen pairs of one mentee, mentees with no pair."""
    from mentormatch.pipeline.wrap import _rank_of_chosen
    from mentormatch.solvers.base import AssignmentProblem

    kernel = assign_kernel()
    rng = np.random.default_rng(11)
    for trial in range(300):
        n, m = int(rng.integers(1, 20)), int(rng.integers(1, 8))
        keep = rng.random((n, m)) < 0.7
        i, j = np.nonzero(keep)  # row-major: sorted by mentee, then mentor
        score = np.floor(rng.random(len(i)) * int(rng.integers(1, 5))) / 4  # many ties
        chosen = np.flatnonzero(rng.random(len(i)) < 0.3)
        problem = AssignmentProblem(Candidates(i.astype(np.int64), j.astype(np.int64), n, m),
                                    score, np.ones(m), np.ones(n, np.int64))
        assert np.array_equal(kernel.chosen_ranks(i.astype(np.int64), score, chosen),
                              _rank_of_chosen(problem, chosen)), trial


@pytest.mark.parametrize("missing", ["mate_cells", "version 2"])
def test_a_build_before_the_paths_entry_points_takes_the_other_path(missing, monkeypatch):
    """A kernel module built before ``DENSE_FLOW_VERSION`` 3 or ``mate_cells``: the other path
    (``solve_dense``), whose result still holds every eligible pair at this size: the same
    problem, pairs and tables."""
    from mentormatch.solvers.dense import small

    kernel = assign_kernel()

    class Older:  # the module as an older build has it
        DENSE_FLOW_VERSION = 2 if missing == "version 2" else kernel.DENSE_FLOW_VERSION

        def __getattr__(self, name):
            if name == missing:
                raise AttributeError(name)
            return getattr(kernel, name)

    s, f, cap = _instance(9, 40, 10, levels=3)
    frames = _frames(s, f, cap)
    new = mm.assign(*frames[:2], forbidden=frames[2])
    monkeypatch.setattr(small, "assign_kernel", lambda: Older())
    old = mm.assign(*frames[:2], forbidden=frames[2])
    assert new.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert old.certificate["method"] != "dense_min_cost_flow_every_pair"
    pd.testing.assert_frame_equal(old.pairs, new.pairs)
    pd.testing.assert_frame_equal(old.unmatched, new.unmatched)
    assert new.pairs["rank"].max() > 1
    a, b = new.record.problem, old.record.problem
    assert len(a.pairs) == len(b.pairs) == int((np.isfinite(s) & ~f).sum())
    assert (a.pairs.mentee == b.pairs.mentee).all() and (a.pairs.mentor == b.pairs.mentor).all()


@pytest.mark.parametrize("levels", [0, 4])
def test_past_the_old_threshold_both_paths_hold_every_pair_and_agree(levels, monkeypatch):
    """Between ``flow.SPARSE_THRESHOLD`` (20,000 cells) and :data:`small.SMALL_CELLS` the
    small path is taken; forced off, ``solve_dense`` answers on the same problem (every
    eligible pair): the same pairs, tables, status, objective and bound."""
    from mentormatch.solvers import flow
    from mentormatch.solvers.dense import small

    n, m = 240, 100
    assert flow.SPARSE_THRESHOLD < n * m <= small.SMALL_CELLS
    rng = np.random.default_rng(40 + levels)
    s = rng.random((n, m))
    if levels:
        s = np.floor(s * levels) / levels
    s[rng.random((n, m)) < 0.02] = -np.inf
    f = rng.random((n, m)) < 0.02
    scores, capacity, forbidden = _frames(s, f, rng.integers(0, 4, m))
    a = mm.assign(scores, capacity, forbidden=forbidden)
    monkeypatch.setattr(matrix, "small_applies", lambda cells: False)
    b = mm.assign(scores, capacity, forbidden=forbidden)
    assert a.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert b.certificate["method"] != "dense_min_cost_flow_every_pair"
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, abs=1e-9)
    assert a.bound >= a.objective - 1e-9 and b.bound >= b.objective - 1e-9
    assert len(a.record.problem.pairs) == len(b.record.problem.pairs) == int((np.isfinite(s) & ~f).sum())
    assert abs(_recomputed(a, s, f, capacity.to_numpy().astype(int)) - a.objective) <= 1e-9


def test_above_its_reach_the_other_path_keeps_the_solvers_pairs(monkeypatch):
    """Past :data:`small.SMALL_CELLS` (forced low here) ``assign()`` takes ``solve_dense`` and
    the result keeps the solver's pairs (each mentee's best few and the violators), with the
    same pairs as the small path."""
    from mentormatch.solvers.dense import small

    s, f, cap = _instance(21, 60, 12)
    frames = _frames(s, f, cap)
    every = mm.assign(*frames[:2], forbidden=frames[2])
    monkeypatch.setattr(small, "SMALL_CELLS", 60 * 12 - 1)
    fewer = mm.assign(*frames[:2], forbidden=frames[2])
    assert every.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert fewer.certificate["method"] == "dense_min_cost_flow+dual_check"
    assert _pairs(every) == _pairs(fewer) and every.objective == pytest.approx(fewer.objective, abs=1e-9)
    assert len(fewer.record.problem.pairs) < len(every.record.problem.pairs)


def test_locks_and_time_limits_take_the_other_path():
    s, f, cap = _instance(6, 10, 4)
    scores, capacity, forbidden = _frames(s, f, np.maximum(cap, 1))
    i, j = np.argwhere(np.isfinite(s) & ~f & (s > 0))[0]
    locked = mm.assign(scores, capacity, forbidden=forbidden, locked=[(f"e{i}", f"m{j}")])
    limited = mm.assign(scores, capacity, forbidden=forbidden, time_limit=60)
    assert locked.certificate["method"] != "dense_min_cost_flow_every_pair"
    assert limited.certificate["method"] != "dense_min_cost_flow_every_pair"


def _tight_instance(seed):
    """Shapes up to the path's size, mentors outnumbering mentees too, and capacities whose
    sum is about the mentees (long chains of mentees moving from mentor to mentor), or at
    least the mentees each (no limit), or with zeros; in floats or in 2 or 4 levels."""
    rng = np.random.default_rng(3000 + seed)
    n = int(rng.integers(1, 160))
    m = int(rng.integers(1, min(120, 20_000 // n) + 1))
    s = rng.random((n, m)) * 2 - 0.2
    if seed % 3:
        s = np.floor(s * (2 if seed % 3 == 1 else 4)) / (2 if seed % 3 == 1 else 4)
    s[rng.random((n, m)) < 0.03] = -np.inf
    f = rng.random((n, m)) < 0.02
    kind = seed % 4
    if kind == 0:  # the places about the mentees
        cap = rng.multinomial(n, np.ones(m) / m)
    elif kind == 1:
        cap = np.full(m, n + int(rng.integers(0, 3)))
    elif kind == 2:
        cap = rng.integers(0, 3, m) * (rng.random(m) < 0.7)
    else:
        cap = rng.integers(1, 9, m)
    return s, f, cap


@pytest.mark.parametrize("seed", range(40))
def test_tight_capacities_and_wide_shapes_against_scipy(seed, monkeypatch):
    s, f, cap = _tight_instance(seed)
    r = _solve(*_frames(s, f, cap), True, monkeypatch)
    assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
    got = _recomputed(r, s, f, cap)
    assert abs(got - r.objective) <= 1e-9
    assert abs(got - _expanded_optimum(s, f, cap)) <= 1e-9
    assert r.status == "optimal" and r.certificate["holds"] and r.bound >= got - 1e-9


def test_tight_capacities_the_same_answer_as_solve_dense(monkeypatch):
    """The tie rule's pick, the tables and the status equal the other path's where many
    mentees move along chains (capacities summing to about the mentees)."""
    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(2, 50))
        m = int(rng.integers(1, 15))
        s = np.floor(rng.random((n, m)) * [2, 3, 4, 1000][trial % 4]) / [2, 3, 4, 1000][trial % 4]
        cap = rng.multinomial(n, np.ones(m) / m)
        scores, capacity, _ = _frames(s, None, cap)
        seed = int(rng.integers(0, 3))
        a = _solve(scores, capacity, None, True, monkeypatch, seed)
        b = _solve(scores, capacity, None, False, monkeypatch, seed)
        assert _pairs(a) == _pairs(b), trial
        assert a.status == b.status and abs(a.objective - b.objective) <= 1e-9
        pd.testing.assert_frame_equal(a.pairs.sort_values("mentee_id").reset_index(drop=True),
                                      b.pairs.sort_values("mentee_id").reset_index(drop=True))
        pd.testing.assert_frame_equal(a.unmatched.sort_values("mentee_id").reset_index(drop=True),
                                      b.unmatched.sort_values("mentee_id").reset_index(drop=True))


@pytest.mark.parametrize("seed", range(30))
def test_the_kernel_says_unique_exactly_when_brute_force_finds_one_optimum(seed):
    """``dense_flow``'s ``movable`` is 0 iff one assignment of the network reaches the optimum
    (scores in halves: exact, many tied), counted by brute force over every assignment."""
    rng = np.random.default_rng(500 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    s = np.floor(rng.random((n, m)) * 4) / 2 - 0.5  # -0.5 .. 1.5 in halves
    cap = rng.integers(0, 3, m)
    arc = (s > 0) & (cap > 0)
    totals = []
    for pick in itertools.product(range(-1, m), repeat=n):
        pick = np.array(pick)
        on = pick >= 0
        if (np.bincount(pick[on], minlength=m) > cap).any() or not arc[np.flatnonzero(on), pick[on]].all():
            continue
        totals.append(float(s[np.flatnonzero(on), pick[on]].sum()))
    best = max(totals)
    kernel = assign_kernel()
    c = cap.astype(np.int64)
    mate, _, _, _, movable, *_ = kernel.dense_flow(s, np.zeros((1, 1), np.uint8), False,
                                                   rng.permutation(n).astype(np.int64), c, 64.0)
    on = mate >= 0
    assert float(s[np.flatnonzero(on), mate[on]].sum()) == best
    assert (movable == 0) == (sum(t == best for t in totals) == 1)


@pytest.mark.parametrize("seed", range(6))
def test_a_mentee_displaced_from_a_mentor_numbered_past_the_mentees(seed):
    """A later mentee takes the only place, of a mentor whose index is past the last mentee's,
    and the one there leaves for nothing (the search's bypass through a full mentor)."""
    s = np.full((2, 6), -np.inf)
    s[0, 5], s[1, 5] = 0.3, 0.9
    scores, capacity, _ = _frames(s, None, [0, 0, 0, 0, 0, 1])
    r = mm.assign(scores, capacity, seed=seed)
    assert r.certificate["method"] == "dense_min_cost_flow_every_pair"
    assert _pairs(r) == [("e1", "m5")] and r.objective == pytest.approx(0.9)


@pytest.mark.parametrize("seed", range(12))
def test_the_keyed_flow_picks_the_least_key_sum_among_the_optima_by_brute_force(seed):
    """``dense_flow`` with the seeded ranks and short keys (3-6 bits: key sums often tie): its
    flow is the only one of its 128-bit cost (``movable`` 0) exactly when one assignment of
    least sum of :func:`mentormatch.solvers.ties.stage_keys` (stage 1) among the optima is
    found by enumeration, and then it is that one; its potentials prove the flow optimal for
    the integer costs alone. Without the face and with it (a plain run's potentials)."""
    from mentormatch.solvers.ties import stage_keys

    rng = np.random.default_rng(900 + seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    s = np.floor(rng.random((n, m)) * 3) / 2  # 0, 0.5, 1: many optima
    cap = rng.integers(0, 3, m).astype(np.int64)
    ri, rj = rng.permutation(n).astype(np.int64), rng.permutation(m).astype(np.int64)
    bits = int(rng.integers(3, 7))
    key = stage_keys(np.repeat(ri, m), np.tile(rj, n), 1, bits).reshape(n, m)
    arc = (s > 0) & (cap > 0)
    found = []
    for pick, on in feasible_picks(arc, cap):
        found.append((round(float(s[on, pick[on]].sum()) * 2), -int(key[on, pick[on]].sum()), tuple(pick)))
    best = max(f[:2] for f in found)
    least = [f[2] for f in found if f[:2] == best]
    kernel = assign_kernel()
    order, none = np.argsort(ri).astype(np.int64), np.zeros((1, 1), np.uint8)
    _, face_i, face_j, *_ = kernel.dense_flow(s, none, False, order, cap, 64.0)
    for face in ((), (face_i, face_j)):
        mate, pi_i, pi_j, pi_t, movable, _, _ = kernel.dense_flow(s, none, False, order, cap, 64.0,
                                                                  ri, rj, bits, *face)
        assert (movable == 0) == (len(least) == 1)
        if movable == 0:
            assert tuple(mate.tolist()) == least[0]
        on = mate >= 0
        assert round(float(s[np.flatnonzero(on), mate[on]].sum()) * 2) == best[0]
        if not face:  # the integer costs' certificate, over every arc
            gain = np.rint(s * 64) - pi_i[:, None] + pi_j[None, :]
            assert (gain[arc & (np.arange(m)[None, :] != mate[:, None])] <= 0).all()
            assert (gain[np.flatnonzero(on), mate[on]] == 0).all()


def _pairs_by_path(scores, capacity, forbidden, monkeypatch, seed=0):
    return (_pairs(_solve(scores, capacity, forbidden, True, monkeypatch, seed)),
            _pairs(_solve(scores, capacity, forbidden, False, monkeypatch, seed)))


@pytest.mark.parametrize("seed", range(4))
def test_the_keyed_flow_is_the_rules_pick_at_the_ladders_size(seed, monkeypatch):
    """200 x 50 and 120 x 30 with scores in 2-4 levels (thousands of pairs that can move): the
    small path's keyed flow and the rule's second flows (``solve_dense``) give the same pairs."""
    n, m = [(200, 50), (120, 30)][seed % 2]
    s, f, cap = _instance(1300 + seed, n, m, levels=[4, 2, 3, 4][seed])
    cap = np.maximum(cap, 1) + seed % 2 * 3
    scores, capacity, forbidden = _frames(s, f, cap)
    small, rule = _pairs_by_path(scores, capacity, forbidden, monkeypatch, seed)
    assert small == rule
    r = _solve(scores, capacity, forbidden, True, monkeypatch, seed)
    assert r.certificate["ties"]["movable_pairs"] > 100 and r.certificate["ties"]["unique"]


def test_two_optima_of_one_key_sum_go_to_the_rule(monkeypatch):
    """A keyed flow that reports its least key sum reached twice hands its optimum to the rule
    (:func:`mentormatch.solvers.ties.canonical`): the same pairs as the other path, the record
    the rule's."""
    from mentormatch.solvers.dense import small

    kernel = assign_kernel()

    class NotUnique:
        def __getattr__(self, name):
            fn = getattr(kernel, name)
            if name != "dense_flow":
                return fn
            return lambda *a: (*fn(*a)[:4], 1, *fn(*a)[5:]) if len(a) > 6 else fn(*a)

    monkeypatch.setattr(small, "assign_kernel", lambda: NotUnique())
    called = []
    monkeypatch.setattr(small, "canonical", lambda *a, **k: called.append(1) or ties_canonical(*a, **k))
    for trial in range(20):
        s, f, cap = _instance(1500 + trial, 25, 7, levels=[2, 3, 4, 2][trial % 4])
        scores, capacity, forbidden = _frames(s, f, cap)
        a, b = _pairs_by_path(scores, capacity, forbidden, monkeypatch, trial % 3)
        assert a == b, trial
    assert len(called) > 5


def ties_canonical(*a, **k):
    from mentormatch.solvers.ties import canonical

    return canonical(*a, **k)


def test_the_removed_counts_are_built_on_first_read_and_equal_the_other_paths(monkeypatch):
    """The small path's ``record.removed`` waits (:class:`mentormatch.record.Built`) until read:
    then, and through the unmatched's reasons, a baseline and a pickled copy, it is the frame
    of the other path."""
    import pickle

    from mentormatch.pipeline.wrap import baseline
    from mentormatch.record import Built

    s, f, cap = _instance(77, 30, 8)
    scores, capacity, forbidden = _frames(s, f, cap)
    other = _solve(scores, capacity, forbidden, False, monkeypatch)
    fresh = _solve(scores, capacity, forbidden, True, monkeypatch)
    assert isinstance(fresh.record.__dict__["removed"], Built)
    pd.testing.assert_frame_equal(fresh.unmatched, other.unmatched)
    pd.testing.assert_frame_equal(fresh.record.removed, other.record.removed)
    again = _solve(scores, capacity, forbidden, True, monkeypatch)
    copy = pickle.loads(pickle.dumps(again))
    pd.testing.assert_frame_equal(copy.record.removed, other.record.removed)
    assert _pairs(baseline(_solve(scores, capacity, forbidden, True, monkeypatch), "greedy")) == \
        _pairs(baseline(other, "greedy"))


@pytest.mark.parametrize("seed", range(12))
def test_the_movable_pairs_counted_after_a_keyed_flow_are_the_plain_flows(seed):
    """``dense_moving`` on a keyed flow (every arc) and its rounded potentials counts the pairs
    that move between the optima as the plain ``dense_flow`` counts them, and so on the plain
    flow's own answer and potentials: the count is the optimal face's, whichever potentials."""
    from mentormatch.solvers.ties import key_bits
    from mentormatch.solvers.quantize import choose_scale, network_size

    kernel = assign_kernel()
    rng = np.random.default_rng(seed)
    for trial in range(25):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 9))
        s, f, cap = _instance(seed * 100 + trial, n, m, levels=[2, 3, 4, 0, 8][trial % 5])
        fb, has = (f.view(np.uint8), True) if trial % 2 else (np.zeros((1, 1), np.uint8), False)
        cap = cap.astype(np.int64)
        order = rng.permutation(n).astype(np.int64)
        n_nodes, places = network_size(cap, np.ones(n, np.int64))
        scale = choose_scale(kernel.dense_top(s, fb, has, cap), n_nodes, places)
        mate, pi_i, pi_j, _, _, n_arcs, moving = kernel.dense_flow(s, fb, has, order, cap, scale)
        assert kernel.dense_moving(s, fb, has, mate, cap, scale, pi_i, pi_j) == moving
        rank_i, rank_j = rng.permutation(n).astype(np.int64), rng.permutation(m).astype(np.int64)
        k_mate, k_i, k_j, _, _, k_arcs, _ = kernel.dense_flow(
            s, fb, has, order, cap, scale, rank_i, rank_j, key_bits(n_nodes, places))
        assert k_arcs == n_arcs
        assert kernel.dense_moving(s, fb, has, k_mate, cap, scale, k_i, k_j) == moving, trial


def test_the_look_for_tied_scores_is_numpys():
    """``dense_tied``: some of the first rows' first columns holds one score (> 0, finite)
    twice, as numpy finds it (decides which flow runs first, never the answer)."""
    kernel = assign_kernel()
    rng = np.random.default_rng(3)
    for trial in range(300):
        n, m = int(rng.integers(0, 8)), int(rng.integers(0, 9))
        s = rng.choice([-np.inf, -0.5, 0.0, 0.25, 0.5, 0.75, np.inf], size=(n, m)) if trial % 3 else rng.random((n, m))
        rows, cols = int(rng.integers(1, 6)), int(rng.integers(1, 10))
        head = s[:rows, :cols]
        want = any(len(set(r[(r > 0) & (r < np.inf)])) < int(((r > 0) & (r < np.inf)).sum()) for r in head)
        assert kernel.dense_tied(np.asfortranarray(s) if trial % 2 else s, rows, cols) == want, trial


def test_the_scales_top_is_numpys_on_every_layout():
    """``dense_top``: the largest score of an arc (not forbidden, > 0, its mentor with a
    place), 0.0 when none, as numpy finds it, whatever the memory layout of the scores and
    the mask (column-major: read a column at a time; any other: cell by cell)."""
    kernel = assign_kernel()
    rng = np.random.default_rng(5)
    for trial in range(400):
        n, m = int(rng.integers(0, 9)), int(rng.integers(0, 9))
        s = rng.choice([-np.inf, -0.5, 0.0, 0.25, 0.5, 0.75], size=(n, m)) if trial % 3 else rng.random((n, m)) - 0.2
        f = rng.random((n, m)) < 0.3
        cap = rng.integers(0, 3, m).astype(np.int64)
        has = bool(trial % 2)
        arc = (s > 0) & (cap > 0)[None, :] & (~f if has else True)
        want = float(s[arc].max()) if arc.any() else 0.0
        layouts = [(s, f), (np.asfortranarray(s), np.asfortranarray(f)), (np.asfortranarray(s), f),
                   (s, np.asfortranarray(f)), (np.asfortranarray(np.repeat(s, 2, axis=0))[::2], f)]
        for a, b in layouts:
            fb = b.view(np.uint8) if has else np.zeros((1, 1), np.uint8)
            assert kernel.dense_top(a, fb, has, cap) == want, trial


@pytest.mark.parametrize("first", [True, False])
def test_the_keyed_flow_first_or_the_plain_flow_first_the_same_result(first, monkeypatch):
    """Which flow runs first (``likely_tied``'s guess) changes nothing: the pairs, the
    unmatched, the status, objective, bound and the tie record (``movable_pairs``, stages)
    are those of the other order, on tied and untied problems, forced either way."""
    from mentormatch.solvers.dense import small

    rng = np.random.default_rng(11)
    for trial in range(120):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        s, f, cap = _instance(4000 + trial, n, m, levels=[2, 3, 4, 0][trial % 4])
        scores, capacity, forbidden = _frames(s, f if trial % 2 else None, cap)
        seed = int(rng.integers(0, 5))
        monkeypatch.setattr(small, "likely_tied", lambda kernel, values: first)
        a = _solve(scores, capacity, forbidden, True, monkeypatch, seed)
        monkeypatch.setattr(small, "likely_tied", lambda kernel, values: not first)
        b = _solve(scores, capacity, forbidden, True, monkeypatch, seed)
        assert _pairs(a) == _pairs(b), trial
        assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound), trial
        assert a.certificate["ties"] == b.certificate["ties"], trial
        pd.testing.assert_frame_equal(a.pairs, b.pairs)
        pd.testing.assert_frame_equal(a.unmatched, b.unmatched)


def _extreme_duals(w, cap):
    """The least mentor prices and the greatest mentee values among the optimal duals of
    ``max sum w x`` (each mentee at most once, mentor ``j`` at most ``cap[j]`` times, a pair
    only where ``w > 0``), by HiGHS: the dual optimum, then min ``sum p`` and max ``sum u`` at
    that objective (both extremes exist: the optimal duals form a lattice)."""
    from scipy.optimize import linprog

    n, m = w.shape
    arcs = [(i, j) for i in range(n) for j in range(m) if w[i, j] > 0 and cap[j] > 0]
    a = np.zeros((len(arcs), n + m))
    for k, (i, j) in enumerate(arcs):
        a[k, i] = a[k, n + j] = -1.0
    b = -np.array([w[i, j] for i, j in arcs])
    objective = np.concatenate([np.ones(n), cap])
    bounds = [(0, None)] * n + [(0, None) if c > 0 else (0, 0) for c in cap]
    first = linprog(objective, A_ub=a if arcs else None, b_ub=b if arcs else None, bounds=bounds,
                    method="highs")
    a2, b2 = np.vstack([a, objective]), np.concatenate([b, [first.fun + 1e-9]])
    least_p = linprog(np.concatenate([np.zeros(n), np.ones(m)]), A_ub=a2, b_ub=b2, bounds=bounds,
                      method="highs").x[n:]
    most_u = linprog(np.concatenate([-np.ones(n), np.zeros(m)]), A_ub=a2, b_ub=b2, bounds=bounds,
                     method="highs").x[:n]
    return most_u, least_p


def test_the_prices_are_the_least_optimal_mentor_prices_whichever_flow_runs_first(monkeypatch):
    """The prices of the certificate are one point of the optimal duals, the same whichever
    flow computed them: the least mentor prices (and the greatest mentee values) among all
    optimal duals of the rounded scores, as HiGHS finds them, with the keyed flow first or
    the plain flow first. So any exact solve that returns these extreme duals keeps the
    certificate (the dual objective, the float check and the prices read by the explanations
    and what-ifs), tied scores or not: what a faster tie path may rely on (s33h3)."""
    from mentormatch.solvers.dense import small

    rng = np.random.default_rng(17)
    for trial in range(60):
        n, m = int(rng.integers(1, 14)), int(rng.integers(1, 7))
        s, f, cap = _instance(7000 + trial, n, m, levels=[2, 3, 4, 0][trial % 4])
        with_f = bool(trial % 2)
        scores, capacity, forbidden = _frames(s, f if with_f else None, cap)
        found = []
        for first in (True, False):
            monkeypatch.setattr(small, "likely_tied", lambda kernel, values, first=first: first)
            r = mm.assign(scores, capacity, forbidden=forbidden)
            found.append((r, r.record.solution.prices))
        (r, prices), (_, other) = found
        if prices is None:
            assert other is None, trial
            continue
        assert all(np.array_equal(x, y) for x, y in zip(prices, other)), trial
        scale = r.certificate["scale"]
        ok = np.isfinite(s) & (s > 0) & (~f if with_f else True)
        w = np.where(ok, np.rint(np.where(ok, s, 0.0) * scale) / scale, 0.0)
        most_u, least_p = _extreme_duals(w, cap.astype(float))
        u, p = prices
        assert np.allclose(u, most_u, atol=1e-7), trial
        assert np.allclose(np.where(cap > 0, p, 0.0), least_p, atol=1e-7), trial
