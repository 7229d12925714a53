"""Exact assignment on a dense in-memory score matrix, proven optimal for every pair, read in
the matrix's own memory order and never copied whole: the path of :func:`mentormatch.assign`.

The problem (mentees x mentors, ``-inf`` or forbidden = ineligible)::

    max sum_ij s_ij x_ij   s.t.  sum_i x_ij <= c_j,  sum_j x_ij <= d_i,  x_ij in {0, 1},
                                 x_ij = 1 on locked pairs

is solved as in :mod:`mentormatch.solvers.certify`: min-cost flow on a few pairs per mentee,
then dual prices ``u_i``, ``p_j`` from the flow's potentials, and a check that every pair has
``s_ij - u_i - p_j <= tol``; pairs that fail are added and the flow solved again. When none
fails, weak duality bounds every feasible assignment (``Solution.bound``), and the status is
``"optimal"`` only then.

What this module adds is how the matrix is read. A DataFrame's ``to_numpy()`` is usually a
column-major view, so every pass walks the matrix in its memory order (a block of mentor
columns at a time when columns are contiguous, of mentee rows otherwise), in cache-sized
blocks, with no transposed or reordered copy, and there are two passes, not three:

1. **Thresholds.** The open mentors are split into ``G`` groups by their seeded rank; one pass
   takes each mentee's best score in each group. The ``k``-th largest of those ``G`` maxima,
   ``L_i``, has at least ``k`` eligible pairs of mentee ``i`` at or above it (a group whose
   best is forbidden is left out, so that stays true).
2. **Candidates.** A second pass keeps every eligible pair with ``s_ij >= L_i`` and
   ``s_ij > 0``: each mentee's ``k`` best pairs at least, a few more with ties (long runs of
   equal scores are thinned by :func:`tie_key`).
3. **Flow and prices** on the candidates, in the seeded order (below); the flow is the compiled
   one of :mod:`mentormatch._native.assign` where built (:func:`.flow.round_flow`), else
   OR-Tools'; the tie rule makes the pairs the same either way. The prices come from the
   compiled flow's own potentials (no Bellman-Ford sweep: ``bellman_ford_sweeps`` counts only
   the rounds that needed one, OR-Tools' and the warm repairs'); they may differ from the
   shortest distances', but any potentials that prove the flow optimal give the same optimal
   face (the tie rule's pick) and, rounding aside, the same dual objective.
4. **Check** without a pass: a pair outside the candidates scores at most its mentee's
   threshold, so its reduced gain is at most ``L_i - u_i - p_j``; only the cells where that
   is positive are read (a few thousand at 10,000 x 2,500), and the pass over every pair
   remains for when they are many. Violators join the candidates (the most violating: ``k``
   per mentee with a violator in the first round, doubling each round); when a round's pairs
   and violators exceed an eighth of the matrix, the next flow takes every pair with a gain.
   A round with few violators repairs the last optimum from its potentials instead of solving
   cold (:func:`mentormatch.solvers.warm.resolve`, as the scale path's rounds do).

Ties
----
The documented rule (:func:`mentormatch.pipeline.seeded_order`) is that ties are decided by a
seeded order of the ids, never by row order. The caller passes each mentee's and mentor's
position in that order (``mentee_rank``, ``mentor_rank``). The candidate set depends only on
scores and ranks (groups are made by rank, thresholds are values), the flow network numbers
its nodes by rank and takes its arcs in (mentee rank, mentor rank) order, and where a list
of candidates or violators is cut inside a run of equal values, the pairs kept are those with
the smallest :func:`tie_key` (a mix of the two ranks). Once certified, the check's pairs that
may be tight (reduced gain above ``TIGHT_GAIN`` quanta) are read in integers: a positive gain
is a violator after all (another round), the tight ones join, and the tie rule
(:mod:`mentormatch.solvers.ties`) picks among the optima the one of least key sum over the
ranks: the pair() sources pick the same (the rule works on the pairs that can be in an
optimum: :data:`mentormatch.solvers.ties.FACE_ONLY`). So permuting the matrix's rows and
columns (with the ranks) gives the same pairs. Indices in and out are the caller's. On scores
in few levels every top-level cell is tight, so the check's pass, its filter, the integer
gains and the tight pairs' join are one compiled pass where built
(:func:`.check.check_face`; 5,000 x 1,250 in 4 levels, 1.5 million tight pairs: 26-33 ms
against 78-81 for the numpy steps, the same pairs to the bit).

On scores in few levels (:func:`.small.likely_tied`'s guess, the first round's pairs at most
:data:`.keyed.KEYED_PAIRS`, demands at most 1) the rule's first stage runs inside the rounds
instead (:mod:`.keyed`): the candidates' runs of ties thinned by the rule's stage-1 keys, each
round's flow keyed (the score, then that key), and after the check a keyed check of the pairs
that can be optimal; when it holds and the keyed optimum is unique, that is the rule's pick
with no second flow (2,000 x 500 in 4 levels: 78.6 -> 44.0 ms of CPU for the whole call, s34h1);
else the rule runs as above. The pairs, prices and objective are the same either way.

Small matrices
--------------
``assign()`` takes :mod:`.small` instead where the result holds every pair anyway (no locks,
no time limit, the compiled kernel built): one compiled flow over the whole matrix, the same
pairs, a fraction of the time at 200 x 50 (that module's docstring).

Exactness
---------
Scores are compared in float64, the matrix's own values (no float32 shortcut); the flow works
on integer costs ``round(s * scale)`` and the certificate's tolerance is ``1 / scale``, as in
:mod:`mentormatch.solvers.certify`.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from ...pairs import Candidates, DenseRows, unique_sorted
from ..base import AssignmentProblem, Solution, SolverOptions, finish
from ..warm import resolve
from ..certify import places_left
from ..duals import prices, prices_at
from ..keys import member
from ..ties import TIGHT_GAIN, canonical, integer_gain
from .check import check_above_low, check_face, check_pass
from .flow import round_flow
from .held import among_chosen, complete_rows, every_eligible_pair, with_tight
from .candidates import above, all_pairs, tie_key
from .keyed import KEY_BITS, KEYED_RECORD, KEYED_ROUNDS, keyed_bits, keyed_round, keyed_verdict, thinning_ranks
from .keyed import wanted as keyed_wanted
from .passes import GROUPS_PER_SLOT, Walk, thresholds

log = logging.getLogger(__name__)

#: When the pairs worked on and the violators of a round exceed this share of the matrix, the
#: next flow takes every pair with a gain instead (matrices up to ``ALL_PAIRS_CELLS`` cells).
ALL_PAIRS_SHARE = 1 / 8
ALL_PAIRS_CELLS = 16_000_000


def dense_top_k(capacity: np.ndarray, demand: np.ndarray) -> int:
    """``max(8, 16 - 2 * max capacity) + max demand - 1``: the pairs per mentee the first flow
    starts from. Fewer arcs make the flow faster; too few cost more rounds (a check pass and a
    flow each). Measured on uniform scores with 1 % forbidden, supply about equal to demand:
    capacity 4 (10,000 x 2,500) and 10 (4,000 x 400): 8 pairs, one round, the fastest (13:
    25 % slower; 5: two rounds); capacity 1 (2,000 x 2,000): 13 pairs one round, 8 three
    rounds and twice the time; capacity 2: 13 one round, 8 two rounds."""
    cmax = int(np.max(capacity, initial=0))
    dmax = int(np.max(demand, initial=1))
    return max(8, 16 - 2 * cmax) + dmax - 1


def _ranks(rank: np.ndarray | None, size: int) -> np.ndarray:
    if rank is None:
        return np.arange(size, dtype=np.int64)
    rank = np.asarray(rank, dtype=np.int64)
    if (rank.shape != (size,) or (size and (rank.min() < 0 or rank.max() >= size))
            or np.bincount(rank, minlength=size).max(initial=1) != 1):  # a permutation, no sort
        raise ValueError(f"ranks must be a permutation of 0..{size - 1}")
    return rank


def _most_violating(i: np.ndarray, j: np.ndarray, gain: np.ndarray, per_mentee: int, ranks):
    """The violators to add: the ``per_mentee`` x (mentees with a violator) largest gains,
    ties at the cut by :func:`tie_key` (so by no row order). When the prices are far off,
    adding every violator would grow the set towards the whole matrix; the allowance doubles
    each round (``per_mentee`` = k, 2k, 4k, ...), as a fixed k a round took dozens of rounds
    where everyone wants the same few mentors. Partitions, no sort: millions of violators
    cost milliseconds."""
    want = per_mentee * len(unique_sorted(i))
    if len(gain) <= want:
        return i, j
    cut = np.partition(gain, len(gain) - want)[len(gain) - want]
    above = gain > cut
    tied = np.flatnonzero(gain == cut)
    room = want - int(above.sum())
    if room < len(tied):
        key = tie_key(ranks[0][i[tied]], ranks[1][j[tied]])
        tied = tied[np.argpartition(key, room - 1)[:room]] if room > 0 else tied[:0]
    above[tied] = True
    return i[above], j[above]


def solve_dense(rows: DenseRows, capacity, *, demand=None, locked=None, mentee_rank=None,
                mentor_rank=None, options: SolverOptions | None = None, check_scores=None,
                every_pair: bool = False) -> tuple[AssignmentProblem, Solution]:
    """Exact assignment on a dense score matrix, certified against every pair.

    Solves ``max sum s_ij x_ij`` subject to ``sum_i x_ij <= capacity[j]``, ``sum_j x_ij <=
    demand[i]``, ``x_ij = 1`` on locked pairs, ``x_ij = 0`` where forbidden or ``s_ij = -inf``,
    ``x_ij`` in {0, 1}. See the module docstring for the method and the tie rule.

    Parameters
    ----------
    rows : DenseRows
        The (n_mentees x n_mentors) float64 matrix, mentees x mentors, ``-inf`` = ineligible,
        with its forbidden mask. Any memory layout; never modified or copied whole. No NaN or
        ``+inf`` (the caller validates).
    capacity : array of whole numbers >= 0, one per mentor.
    demand : array of whole numbers >= 0, one per mentee; default 1.
    locked : (mentee_index, mentor_index) arrays, optional.
    mentee_rank, mentor_rank : permutations, optional
        Each person's position in the tie order (default: the index itself).
    options : SolverOptions, optional
        ``top_k`` (pairs per mentee to start from) and ``certify`` apply.
    check_scores : callable, optional
        The caller's check of the scores, fused into the first pass (see :func:`thresholds`):
        called once, before anything else reads them, with a (2, n_mentees) array of each
        mentee's lowest and highest score over the whole matrix (NaN where a row holds a NaN,
        or everywhere when the pass read no cells); it raises to stop the solve. Then
        ``rows`` may hold NaN and ``+inf`` until it has been called. Not with ``locked``
        (the locked cells are read first).
    every_pair : bool
        Return every eligible pair of the matrix as the problem (small matrices: the reasons
        for the unmatched and the explanations then see every option) instead of the pairs
        worked on; the same solution.

    Returns
    -------
    problem : AssignmentProblem
        The pairs worked on (locks, candidates, pairs the certificate added, and the pairs
        that make each mentee's list complete above its chosen pair), in the caller's indices;
        with ``every_pair``, every eligible pair (each row's, in row-major order).
    solution : Solution
        ``status="optimal"`` when ``certificate["holds"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mentormatch.pairs import DenseRows
    >>> s = np.array([[0.9, 0.1], [0.8, 0.7], [0.5, 0.6]])
    >>> problem, sol = solve_dense(DenseRows(s), np.array([1, 1]))
    >>> problem.pairs.mentee[sol.chosen].tolist(), problem.pairs.mentor[sol.chosen].tolist()
    ([0, 1], [0, 1])
    >>> sol.status, round(sol.objective, 6)
    ('optimal', 1.6)
    """
    options = options or SolverOptions()
    started = time.perf_counter()
    walk = Walk(rows)
    n, m = walk.n, walk.m
    cap_f = np.asarray(capacity, dtype=np.float64)
    if cap_f.shape != (m,) or np.any(cap_f < 0) or np.any(cap_f != np.round(cap_f)):
        raise ValueError(f"capacity must be {m} whole numbers >= 0")
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, dtype=np.int64)
    if dem.shape != (n,) or np.any(dem < 0):
        raise ValueError(f"demand must be {n} whole numbers >= 0")
    rank_i, rank_j = _ranks(mentee_rank, n), _ranks(mentor_rank, m)
    if locked is not None:
        li, lj = (np.asarray(x, dtype=np.int64) for x in locked)
    else:
        li = lj = np.zeros(0, np.int64)
    ls = rows.at(li, lj) if len(li) else np.zeros(0)
    cap, dem_left = places_left(li, lj, ls, cap_f, dem, n, m, "is forbidden or has score -inf")
    lock_order = np.argsort(li * m + lj)
    li, lj, ls = li[lock_order], lj[lock_order], ls[lock_order]
    lock_key = li * m + lj
    k = options.top_k if options.top_k is not None else dense_top_k(cap, dem_left)
    if k < 1:
        raise ValueError(f"SolverOptions.top_k must be >= 1 or None, got {k}")

    t0 = time.perf_counter()
    if check_scores is not None and len(li):
        raise ValueError("check_scores is not for locked pairs: check the scores first")
    screen = np.array([np.full(n, np.inf), np.full(n, -np.inf)]) if check_scores else None
    low = thresholds(walk, k, cap, dem_left, rank_j, screen)
    if check_scores is not None:
        check_scores(screen)
    # on tied scores, the keyed flow (.keyed: the rule's first stage in the round's flow), its
    # candidates' runs of ties thinned by the same keys
    keyed = keyed_wanted(walk, dem_left, k)
    i, j, s, low = above(walk, low, cap, (rank_i, thinning_ranks(rank_j, keyed)),
                         GROUPS_PER_SLOT * k, k)
    if len(lock_key):
        keep = ~member(i * m + j, lock_key)
        i, j, s = i[keep], j[keep], s[keep]
    log.debug("dense: %d candidate pairs (k=%d) in %.3fs", len(i), k, time.perf_counter() - t0)

    # the flow in the seeded order: nodes numbered by rank, arcs by (mentee rank, mentor rank)
    cap_r = np.empty(m, np.int64)
    cap_r[rank_j] = cap
    dem_r = np.empty(n, np.int64)
    dem_r[rank_i] = dem_left
    rounds, added, sweeps_total, pot, pot_scale = 0, 0, 0, None, 0.0
    everything = False  # every pair with a gain is in the flow
    held = None  # the prices under which the check holds (none from the all-pairs flow)
    last = None  # the last round's chosen pairs, as rank codes, for a warm repair
    repairs = []  # the rounds whose flow was the last round's optimum repaired
    bits = keyed_bits(cap_r, dem_r) if keyed else 0
    keyed = keyed and bits <= KEY_BITS  # (wider keys, as tests force: the rule's own flows)
    low_parts, keyed_rounds = None, 0
    while True:
        rounds += 1
        ri, rj = rank_i[i], rank_j[j]
        code = ri * m + rj
        order = np.argsort(code)
        # the pairs in the flow's order, gathered once for the flow, its prices and the rule
        o_i, o_j, o_s, o_code = ri[order], rj[order], s[order], code[order]
        warm, flow_by, proven = None, "the last optimum repaired", None
        if last is not None and not everything and not keyed:  # few violators: repair it
            was = member(o_code, last)
            warm = resolve(o_i, o_j, o_s, cap_r, dem_r, was, pot, pot_scale)
        if keyed and warm is None:  # (a keyed round is solved cold: the repair is not keyed)
            got_keyed = keyed_round(o_i, o_j, o_s, cap_r, dem_r, bits)
            if got_keyed is None:
                keyed = False
            else:
                res, proven, low_parts, _ = got_keyed
                flow_by = "compiled"
                keyed_rounds += 1
        if warm is None and not keyed:
            # (the tie rule follows a certified optimum: any optimum of the flow will do)
            res, flow_by, proven = round_flow(o_i, o_j, o_s, cap_r, dem_r, common_factor=options.certify)
        elif warm is not None:
            res, rep = warm
            pot = rep.pot  # (at pot_scale): they prove the repaired flow optimal
            repairs.append({"round": rounds, "violators": rep.violators, "phases": rep.phases})
        last = o_code[res.chosen]
        chosen = np.zeros(len(i), dtype=bool)
        chosen[order[res.chosen]] = True
        cert = {"method": "dense_min_cost_flow+dual_check", "scale": res.scale,
                "rounding_bound": res.n_max / res.scale, "n_max": res.n_max, "top_k": k,
                "pairs_in_sparse": len(i), "rounds": rounds, "violations_added": added,
                "warm_repairs": repairs, "holds": False,
                "flow": flow_by,
                "or_tools_status": res.status if flow_by == "or-tools" else (
                    "not run: the last optimum repaired" if warm else "not run: the compiled flow")}
        if everything:  # OR-Tools' optimum over every pair that can raise the total
            cert.update(method="dense_min_cost_flow_all_pairs", holds=res.optimal)
            bound = float(s[chosen].sum()) + res.n_max / res.scale if res.optimal else None
            if res.optimal:  # the tie rule, every pair that can be chosen being here
                pot = proven or prices(o_i, o_j, res.cost, res.chosen, o_s, dem_r, cap_r, res.scale)[4]
                chosen, cert["ties"] = canonical(ri, rj, s, chosen, cap_r, dem_r, pot, res.scale)
            break
        if not res.optimal or not options.certify:
            bound = None
            break
        if proven is not None:  # the compiled flow's own potentials prove it: no sweep
            pot, sweeps = proven, 0
            u_r, p_r, dual_obj = prices_at(pot, o_i, o_j, res.chosen, o_s, dem_r, cap_r, res.scale)
        else:
            start = pot if pot_scale == res.scale else None
            u_r, p_r, dual_obj, sweeps, pot = prices(o_i, o_j, res.cost, res.chosen, o_s, dem_r,
                                                     cap_r, res.scale, start)
        pot_scale = res.scale
        sweeps_total += sweeps
        tol = 1.0 / res.scale
        u, p = u_r[rank_i], p_r[rank_j]
        floor = TIGHT_GAIN * tol  # the pairs that may be tight come too, for the tie rule
        got = check_above_low(walk, u, p, low, i, j, s, chosen, cap, floor)
        cert["check"] = "cells above the thresholds" if got is not None else "pass over every pair"
        d = (pot[0][rank_i], pot[1][rank_j])  # integer potentials per index
        fused = joined_by = None
        if got is None and not len(lock_key):  # the pass, the filter, the gains, the join fused
            fused = check_face(walk, u, p, low, cap, floor, tol, (i, j, s, chosen), d, res.scale)
        if fused is not None:
            eps, (ci, cj, r), joined_by = fused  # (ci, cj, r: the violators)
            bad = np.ones(len(ci), bool)
        else:
            ci, cj, r, cs = got if got is not None else check_pass(walk, u, p, floor)
            keep = walk.allowed(ci, cj) & ~among_chosen(ci, cj, i[chosen], j[chosen], n, m)
            if len(lock_key):
                keep &= ~member(ci * m + cj, lock_key)
            ci, cj, r, cs = ci[keep], cj[keep], r[keep], cs[keep]
            eps = float(r.max(initial=0.0))
            bad = r > tol
            if not bad.any():
                # the tie rule: pairs of positive integer gain are violators after all; else the
                # tight ones outside join and the rule picks the optimum (solvers/ties.py)
                gain = integer_gain(cs, ci, cj, d, res.scale)
                bad = gain > 0
        if not bad.any():
            if joined_by is None:  # (the pairs worked on are kept sorted by (mentee, mentor))
                tight = gain == 0
                joined_by = with_tight(walk, i, j, s, chosen, ci[tight], cj[tight])
            ties = None
            if keyed:  # the keyed optimum over every pair, or keyed violators (.keyed)
                ki, kj, ks, kc, _ = joined_by
                worse, twice = keyed_verdict(ki, kj, ks, kc, (rank_i, rank_j), cap_r, dem_r, pot,
                                             low_parts, res.scale, bits)
                log.debug("dense: keyed round %d, %d keyed violators", keyed_rounds, len(worse))
                if len(worse) and keyed_rounds < KEYED_ROUNDS:
                    added += len(worse)
                    i, j, s = _joined(i, j, s, ki[worse], kj[worse], ks[worse], m)
                    continue
                if not len(worse) and not twice:  # the rule's pick (.keyed: its record)
                    ties = dict(KEYED_RECORD, keyed_rounds=keyed_rounds)
            i, j, s, chosen, joined = joined_by
            if ties is None:
                chosen, ties = canonical(rank_i[i], rank_j[j], s, chosen, cap_r, dem_r, pot, res.scale)
            ties["tight_pairs_outside"] = joined
            bound = dual_obj + eps * int(min(dem_r.sum(), cap_r.sum()))  # (every pair: not the network's n_max)
            cert.update(holds=True, pairs_checked=n * m, bellman_ford_sweeps=sweeps_total,
                        dual_objective=dual_obj, max_reduced_gain=eps, tolerance=tol, ties=ties)
            held = (u, p)
            break
        if len(i) + int(bad.sum()) > ALL_PAIRS_SHARE * n * m and n * m <= ALL_PAIRS_CELLS:
            # the prices are far off (everyone wants the same few mentors): one flow on every
            # pair with a gain costs less than the rounds to come (2,000 x 2,000, capacity 1,
            # scores = mentee + mentor quality + noise: 9 rounds and 7-9 s; this, about 4 s)
            i, j, s = all_pairs(walk, cap, dem_left, lock_key)
            low = np.where(dem_left > 0, np.nextafter(0.0, 1.0), np.inf)
            added += len(i) - int(chosen.sum())
            everything = True
            continue
        vi, vj = _most_violating(ci[bad], cj[bad], r[bad], k << min(rounds, 20), (rank_i, rank_j))
        new = ~member(vi * m + vj, i * m + j)
        vi, vj = vi[new], vj[new]
        added += len(vi)
        log.debug("dense: round %d, %d violations added", rounds, len(vi))
        i, j, s = _joined(i, j, s, vi, vj, walk.at(vi, vj), m)

    if every_pair:
        pairs, all_s, is_chosen, is_lock = every_eligible_pair(rows, li, lj, i[chosen], j[chosen])
        return _finish(AssignmentProblem(pairs, all_s, cap_f, dem, locked=is_lock), is_chosen,
                       bound, ls, held, started, cert)
    if len(li):
        all_i = np.concatenate([li, i])
        all_j = np.concatenate([lj, j])
        order = np.argsort(all_i * m + all_j, kind="stable")
        all_i, all_j = all_i[order], all_j[order]
        all_s = np.concatenate([ls, s])[order]
        is_lock = np.concatenate([np.ones(len(li), bool), np.zeros(len(i), bool)])[order]
        is_chosen = np.concatenate([np.ones(len(li), bool), chosen])[order]
    else:  # no locks: the pairs worked on, already sorted by (mentee, mentor)
        all_i, all_j, all_s, is_chosen = i, j, s, chosen
        is_lock = np.zeros(len(i), bool)
    all_i, all_j, all_s, is_chosen, is_lock = complete_rows(walk, all_i, all_j, all_s, is_chosen,
                                                             is_lock, low, cap)
    problem = AssignmentProblem(Candidates(all_i, all_j, n, m), all_s, cap_f, dem, locked=is_lock)
    return _finish(problem, is_chosen, bound, ls, held, started, cert)


def _joined(i, j, s, vi, vj, vs, m):
    """The pairs worked on with ``(vi, vj, vs)`` added (none of them already there), sorted
    by (mentee, mentor)."""
    i = np.concatenate([i, vi])
    j = np.concatenate([j, vj])
    s = np.concatenate([s, vs])
    order = np.argsort(i * m + j, kind="stable")
    return i[order], j[order], s[order]


def _finish(problem: AssignmentProblem, is_chosen: np.ndarray, bound, ls: np.ndarray, held,
            started: float, cert: dict) -> tuple[AssignmentProblem, Solution]:
    """The problem and its solution: when the check held (``bound`` not None), "optimal" with
    the bound (the locks' scores added to the flow's) and the prices it held under; else
    "feasible" without a bound."""
    status = "optimal" if bound is not None else "feasible"
    sol = finish(problem, np.flatnonzero(is_chosen), status, started, "flow", None, cert)
    if bound is not None:
        sol.bound = float(ls.sum()) + bound
        sol.prices = held
    return problem, sol
