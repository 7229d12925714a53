"""The warm repair (``solvers.warm``) on coverage_first's split network (issue 23, s18h5): each
mentee's source arc is a first unit weighted by ``cover[i]`` and the rest unweighted, and the
repair reads a mentee's flow as the first unit filled first. From the optimum of a subset of
the pairs and its potentials, the repair must reach the optimum over every pair (the most
mentees, then the largest total), prove it with its own potentials, and give the pairs a cold
solve gives after the tie rule; the certified rounds that use it must end where cold rounds do.
Every case is checked against brute force: demands 1-3, locks (a locked mentee is matched
already: weight 0)."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.pairs import Candidates
from mentormatch.solvers import AssignmentProblem, SolverOptions, warm
from mentormatch.solvers.bounded import solve_bounded
from mentormatch.solvers.duals import potentials, prices
from mentormatch.solvers.flow import apply_locks, network, solve_arrays
from mentormatch.solvers.quantize import coverage_weights
from mentormatch.solvers.rounds import certified_rounds
from mentormatch.solvers.sparse import _merge, _Sparse, empty
from mentormatch.solvers.ties import canonical
from mentormatch.testing import feasible_assignments

from test_solvers_rounds import DenseChecker


@pytest.fixture
def unlimited(monkeypatch):
    monkeypatch.setattr(warm, "MAX_VIOLATORS", 10 ** 9)
    monkeypatch.setattr(warm, "MAX_PHASES", 10 ** 9)


def _problem(seed: int) -> AssignmentProblem:
    """3-5 mentees, 2-4 mentors, capacities 1-2, demands 1-3, ties, zero and negative scores,
    and with odd seeds up to two locks (on distinct mentees and mentors)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    m = int(rng.integers(2, 5 if n <= 4 else 4))  # (at most about 50,000 assignments)
    mask = rng.random((n, m)) > rng.choice([0.0, 0.3])
    mask[0, :] = True
    pairs = Candidates.from_mask(mask)
    if rng.random() < 0.5:
        score = rng.choice([-0.5, 0.0, 0.5, 1.0, 1.0, 2.0], size=len(pairs))
    else:
        score = np.round(rng.normal(0.6, 0.8, size=len(pairs)), 3)
    cap = rng.integers(1, 3, size=m).astype(float)
    dem = rng.integers(1, 4, size=n)
    locked = np.zeros(len(pairs), bool)
    if seed % 2:
        for k in rng.permutation(len(pairs))[:2]:
            if not np.any(locked & ((pairs.mentor == pairs.mentor[k]) | (pairs.mentee == pairs.mentee[k]))):
                locked[k] = True
    return AssignmentProblem(pairs, score, cap, demand=dem, locked=locked, coverage_first=True)


def _brute(p: AssignmentProblem) -> tuple[int, float]:
    """(the most mentees matched, the largest total among those), locks included."""
    bf = feasible_assignments(p)
    ok = bf.feasible
    most = int(bf.matched[ok].max())
    return most, float(bf.total[ok & (bf.matched == most)].max())


def _held(p: AssignmentProblem, free_idx: np.ndarray, chosen: np.ndarray) -> tuple[int, float]:
    """(mentees matched, total) of the locks plus the free pairs ``chosen``."""
    pos = np.concatenate([np.flatnonzero(p.locked), free_idx[chosen]])
    return len(np.unique(p.pairs.mentee[pos])), float(p.score[pos].sum())


def _flow_cost(cost, chosen, mentee, cover) -> int:
    """The split network's integer cost of a flow: its pairs, less each matched mentee's weight."""
    matched = np.unique(mentee[chosen])
    return int(cost[chosen].sum()) - int(cover[matched].sum())


def _free(p: AssignmentProblem):
    lock_pos, cap, dem = apply_locks(p)
    free_idx = np.flatnonzero(~p.locked)
    i, j, s = p.pairs.mentee[free_idx], p.pairs.mentor[free_idx], p.score[free_idx]
    return free_idx, i, j, s, cap, dem, coverage_weights(cap, dem, p.pairs.mentee[lock_pos])


@pytest.mark.parametrize("seed", range(80))
def test_a_repair_on_the_split_network_is_the_cold_optimum(unlimited, seed):
    """The optimum of a random half of the free pairs (the network's largest |score| among
    them, so the scale holds), its potentials, then every free pair added: the repair's flow has the cold
    solve's integer cost, brute force's mentees and total, potentials that prove it (a warm
    Bellman-Ford from them moves nothing), and the tie rule picks the same pairs from it as
    from the cold optimum."""
    p = _problem(seed)
    free_idx, i, j, s, cap, dem, cover = _free(p)
    rng = np.random.default_rng(1000 + seed)
    old = rng.random(len(i)) < 0.5
    in_net = network(i, j, s, cap, dem, cover)[0]  # (the largest |score| of the network sets the scale)
    old[np.argmax(np.where(in_net, np.abs(s), -1.0))] = True
    before = solve_arrays(i[old], j[old], s[old], cap, dem, cover)
    assert before.optimal
    *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale, cover=cover)
    was = np.zeros(len(i), bool)
    was[np.flatnonzero(old)[before.chosen]] = True
    out = warm.resolve(i, j, s, cap, dem, was, pot, before.scale, cover)
    assert out is not None
    res, rep = out
    cold = solve_arrays(i, j, s, cap, dem, cover)
    assert res.scale == cold.scale and (res.used == cold.used).all() and (res.cost == cold.cost).all()
    assert (res.cover == cover).all()
    assert _flow_cost(res.cost, res.chosen, i, cover) == _flow_cost(cold.cost, cold.chosen, i, cover)
    most, best = _brute(p)
    held = _held(p, free_idx, res.chosen)
    assert held[0] == most and held[1] == pytest.approx(best, abs=1e-9)
    assert (np.bincount(j[res.chosen], minlength=len(cap)) <= cap).all()
    assert (np.bincount(i[res.chosen], minlength=len(dem)) <= dem).all()
    # the repair's potentials prove its flow optimal on the split network
    u = res.used
    di, dj, ds, dt, sweeps = potentials(i[u], j[u], res.cost[u], res.chosen[u], dem, cap, rep.pot, cover)
    assert sweeps == 1 and (di == rep.pot[0]).all() and (dj == rep.pot[1]).all()
    assert (ds, dt) == (rep.pot[2], rep.pot[3])
    # the same pairs as cold after the tie rule
    cold_pot = prices(i, j, cold.cost, cold.chosen, s, dem, cap, cold.scale, cover=cover)[4]
    a, _ = canonical(i, j, s, res.chosen, cap, dem, rep.pot, res.scale, cover=cover)
    b, _ = canonical(i, j, s, cold.chosen, cap, dem, cold_pot, cold.scale, cover=cover)
    assert (a == b).all()


def test_the_weight_changes_the_repair():
    """Mentee 0 (demand 2) holds mentor 0 at 1.0; then (0, 1) at 0.2 and (1, 0) at 0.1 are
    added. The plain repair gives mentee 0 both mentors (1.2); the split network's matches
    both mentees, (0, 1) and (1, 0) (two mentees before any total)."""
    i, j = np.array([0, 0, 1]), np.array([0, 1, 0])
    s = np.array([1.0, 0.2, 0.1])
    cap, dem = np.array([1, 1]), np.array([2, 1])
    old = np.array([True, False, False])
    for weights, picked in ((None, [0, 1]), (coverage_weights(cap, dem), [1, 2])):
        before = solve_arrays(i[old], j[old], s[old], cap, dem, weights)
        assert before.chosen.tolist() == [True]
        *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale, cover=weights)
        res, rep = warm.resolve(i, j, s, cap, dem, old.copy(), pot, before.scale, weights)
        assert np.flatnonzero(res.chosen).tolist() == picked and rep.violators >= 1


def test_a_wrong_weight_is_refused():
    """``cover`` is one weight per mentee within what coverage_weights gives for the places."""
    i, j, s = np.array([0]), np.array([0]), np.array([1.0])
    cap, dem = np.array([1]), np.array([1])
    wq = int(coverage_weights(cap, dem)[0])
    for bad in (np.array([wq, wq]), np.array([2 * wq]), np.array([-1])):
        with pytest.raises(ValueError, match="cover must hold 1 integer weights"):
            network(i, j, s, cap, dem, bad)


def _dense(p: AssignmentProblem):
    """The free part of ``p`` as a dense matrix (-inf: ineligible or locked), with the places
    the locks leave and the weights."""
    free_idx, i, j, s, cap, dem, cover = _free(p)
    mat = np.full((p.pairs.n_mentees, p.pairs.n_mentors), -np.inf)
    mat[i, j] = s
    return free_idx, mat, cap, dem, cover


def _first(mat, cap, dem) -> _Sparse:
    """Each mentee's one best pair with room, whatever its score (coverage_first's start)."""
    ok = np.isfinite(mat) & (cap[None, :] > 0) & (dem[:, None] > 0)
    i = np.flatnonzero(ok.any(axis=1))
    j = np.argmax(np.where(ok, mat, -np.inf), axis=1)[i]
    return _merge(_Sparse(i, j, j, mat[i, j]), empty(), mat.shape[1])


def _rounds(mat, cap, dem, cover, repair):
    calls = []

    def counted(*args):  # (the weights passed on; whether the repair applied)
        out = warm.resolve(*args)
        calls.append((args[-1] is cover, out is not None))
        return out

    out = certified_rounds(_first(mat, cap, dem), cap, dem, DenseChecker(mat), SolverOptions(), 1,
                           repair=None if repair is None else counted, cover=cover)
    return out, calls


@pytest.mark.parametrize("seed", range(80))
def test_certified_rounds_repaired_under_cover_end_where_cold_ones_do(unlimited, seed):
    """The certified rounds with coverage_first on tiny problems (one pair a mentee to start,
    one violator a mentee a round: several rounds), with and without the warm repair: the same
    pairs and objective, brute force's mentees and total; every round after the first asks for
    a repair with the weights, and the certificate lists those it made (a round whose new pairs
    change the scale, a larger |score| than any before, is solved cold)."""
    p = _problem(seed)
    free_idx, mat, cap, dem, cover = _dense(p)
    cold, _ = _rounds(mat, cap, dem, cover, None)
    hot, calls = _rounds(mat, cap, dem, cover, warm.resolve)
    key = [sorted(zip(o.sparse.i[o.chosen].tolist(), o.sparse.j[o.chosen].tolist())) for o in (cold, hot)]
    assert cold.optimal and hot.optimal and key[0] == key[1]
    assert hot.sparse.s[hot.chosen].sum() == pytest.approx(cold.sparse.s[cold.chosen].sum(), abs=1e-12)
    assert cold.certificate["warm_repairs"] == []
    rounds = hot.certificate["rounds"]
    assert len(calls) == rounds - 1 and all(passed for passed, _ in calls)
    made = [k + 2 for k, (_, applied) in enumerate(calls) if applied]
    assert [r["round"] for r in hot.certificate["warm_repairs"]] == made
    # brute force over the whole problem, the locks included
    lock = np.flatnonzero(p.locked)
    pos = np.searchsorted(p.pairs.mentee * p.pairs.n_mentors + p.pairs.mentor,
                          hot.sparse.i[hot.chosen] * p.pairs.n_mentors + hot.sparse.j[hot.chosen])
    both = np.concatenate([lock, pos])
    most, best = _brute(p)
    assert len(np.unique(p.pairs.mentee[both])) == most
    assert float(p.score[both].sum()) == pytest.approx(best, abs=1e-9)


def test_some_seeds_take_several_repaired_rounds(unlimited):
    """The cases above are not all one round: most seeds repair at least once."""
    repaired = 0
    for seed in range(80):
        free_idx, mat, cap, dem, cover = _dense(_problem(seed))
        hot, _ = _rounds(mat, cap, dem, cover, warm.resolve)
        repaired += bool(hot.certificate["warm_repairs"])
    assert repaired >= 40


@pytest.mark.parametrize("seed", [3, 8, 11])
def test_forty_mentees_demand_up_to_three_warm_equals_cold(unlimited, seed):
    """40 x 8, capacities 2, demands 1-3, negative scores and a few ineligible pairs: more
    mentees than places, so the weight decides who is matched; repaired rounds end at the cold
    rounds' pairs."""
    rng = np.random.default_rng(seed)
    mat = rng.random((40, 8)) - 0.3
    mat[rng.random(mat.shape) < 0.1] = -np.inf
    cap, dem = np.full(8, 2, np.int64), rng.integers(1, 4, 40).astype(np.int64)
    cover = coverage_weights(cap, dem)
    cold, _ = _rounds(mat, cap, dem, cover, None)
    hot, calls = _rounds(mat, cap, dem, cover, warm.resolve)
    key = [sorted(zip(o.sparse.i[o.chosen].tolist(), o.sparse.j[o.chosen].tolist())) for o in (cold, hot)]
    assert cold.optimal and hot.optimal and key[0] == key[1] and calls
    assert hot.bound == pytest.approx(cold.bound, abs=1e-9)
    assert len(np.unique(hot.sparse.i[hot.chosen])) == 16  # every place, one mentee each


def test_the_bounds_source_repairs_under_coverage(monkeypatch):
    """``solve_bounded(cover=True)`` (the scale path of coverage_first) now repairs its rounds
    warm, and gives the pairs of the cold rounds (the repair hook taken away)."""
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    mentors, mentees = synthetic.organisation(n_mentees=300, n_mentors=40, seed=5)
    scorer = pl.prepare(mentors, mentees).scorer
    cap = np.full(scorer.m, 2.0)
    dem = 1 + np.arange(scorer.n) % 3
    opts = SolverOptions(top_k=1)
    problem, hot = solve_bounded(scorer, cap, demand=dem, options=opts, cover=True)
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "resolve", lambda *args: None)  # every round cold
    problem_cold, cold = solve_bounded(scorer, cap, demand=dem, options=opts, cover=True)
    assert hot.status == cold.status == "optimal"
    assert hot.certificate["warm_repairs"] and cold.certificate["warm_repairs"] == []
    key = lambda pr, sol: sorted(zip(pr.pairs.mentee[sol.chosen].tolist(), pr.pairs.mentor[sol.chosen].tolist()))
    assert key(problem, hot) == key(problem_cold, cold)
    assert hot.objective == pytest.approx(cold.objective, abs=1e-9)


MEDIUM = [(seed, *shape) for seed in range(6) for shape in
          [(14, 6, 0.5, 1, 3, False), (16, 7, 0.4, 2, 2, True), (20, 5, 0.8, 3, 6, True),
           (30, 12, 0.3, 3, 4, False)]]


@pytest.mark.parametrize("case", MEDIUM)
@pytest.mark.parametrize("share", [0.0, 0.3, 0.8])
def test_medium_repairs_under_cover_reach_the_cold_cost(unlimited, case, share):
    """test_potentials' random instances (up to 30 x 12, demands up to 3, scores shifted so
    some are negative, a mentee in four counted as locked: weight 0): from the optimum of a
    share of the pairs (0: the empty flow and its potentials, a whole solve), the repair
    reaches the cold solve's integer cost on the split network, and its potentials prove it."""
    from test_potentials import _instance as _random_instance

    i, j, s, cap, dem = _random_instance(*case)
    s = s - 2.0
    s[0] = 10.0  # the largest |score|, in every subset (one scale)
    cap[j[0]] = max(cap[j[0]], 1)
    cover = coverage_weights(cap, dem, np.arange(0, len(dem), 4))
    cold = solve_arrays(i, j, s, cap, dem, cover)
    if share == 0.0:
        was = np.zeros(len(i), bool)
        # (zero potentials prove nothing here: the source's arc to each mentee costs -cover[i])
        pot = potentials(i[:0], j[:0], cold.cost[:0], was[:0], dem, cap, None, cover)[:4]
        rep = warm.repair(i, j, cold.cost, cold.used, was, dem, cap, pot, cover)
        res_chosen, res_pot = rep.chosen, rep.pot
    else:
        rng = np.random.default_rng(case[0] + 300)
        old = rng.random(len(i)) < share
        old[0] = True
        before = solve_arrays(i[old], j[old], s[old], cap, dem, cover)
        *_, pot = prices(i[old], j[old], before.cost, before.chosen, s[old], dem, cap, before.scale, cover=cover)
        was = np.zeros(len(i), bool)
        was[np.flatnonzero(old)[before.chosen]] = True
        res, rep = warm.resolve(i, j, s, cap, dem, was, pot, before.scale, cover)
        assert res.scale == cold.scale and (res.cost == cold.cost).all()
        res_chosen, res_pot = res.chosen, rep.pot
    assert not (res_chosen & ~cold.used).any()
    assert (np.bincount(j[res_chosen], minlength=len(cap)) <= cap).all()
    assert (np.bincount(i[res_chosen], minlength=len(dem)) <= dem).all()
    assert _flow_cost(cold.cost, res_chosen, i, cover) == _flow_cost(cold.cost, cold.chosen, i, cover)
    u = cold.used
    di, dj, ds, dt, sweeps = potentials(i[u], j[u], cold.cost[u], res_chosen[u], dem, cap, res_pot, cover)
    assert sweeps == 1 and (di == res_pot[0]).all() and (dj == res_pot[1]).all()
