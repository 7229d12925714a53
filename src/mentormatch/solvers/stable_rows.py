"""Deferred acceptance without holding every pair: the solver ``stable`` at any size.

The preferences and the result are those of :func:`~mentormatch.solvers.stable.stable_match` on
the problem of every eligible pair (the mentee-optimal stable matching is unique once the
preferences are strict, and the tie rule makes them strict):

* a mentee's list: its ranked pairs (``mentee_rank``, sparse) by rank, then score descending,
  then mentor index; then the other eligible pairs by score descending, then mentor index;
* a mentor compares two mentees by its own rank of the pair (``mentor_rank``, sparse; ranked
  before unranked), then score descending, then mentee index. A mentor needs no list.

Mentees hold only their next candidates: first their ranked pairs and their ``batch`` best
pairs (``reader.best``); a mentee that runs out has its whole row scored again
(``reader.rows``, one vectorised pass over the mentors) for its next ``batch``. Proposals go in
rounds (every free mentee at once, McVitie and Wilson 1971), which gives the same matching as
one at a time. A mentor that is full and prefers each of its mentees to ``i`` rejects ``i`` now
and for ever (its worst mentee only improves), so such candidates are skipped without a
proposal, and a row scored again keeps only the mentors that would accept the mentee now.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import Problem, ValidationError
from .base import AssignmentProblem, Solution, SolverOptions, finish
from .rows import PairReader, read_problem

__all__ = ["stable_rows", "solve_stable_rows", "count_blocking"]

#: Candidates a mentee holds at a time, beyond its ranked pairs.
BATCH = 16
#: Mentees whose candidates ran out are scored again together, this many rows at a time.
RESCORE_ROWS = 256


class _Ranks:
    """A sparse rank of pairs: ``(mentee, mentor, rank)``, lower preferred; absent = unranked."""

    def __init__(self, ranks, m: int, side: str):
        if ranks is None:
            self.code, self.rank = np.zeros(0, np.int64), np.zeros(0)
            return
        i, j, r = (np.asarray(a) for a in ranks)
        code = i.astype(np.int64) * m + j.astype(np.int64)
        order = np.argsort(code, kind="stable")
        code, r = code[order], np.asarray(r, np.float64)[order]
        if len(code) > 1 and np.any(code[1:] == code[:-1]):
            k = int(np.flatnonzero(code[1:] == code[:-1])[0])
            raise ValidationError(Problem("problem", side, None, None,
                                          (int(code[k] // m), int(code[k] % m)),
                                          "one rank per pair"))
        keep = np.isfinite(r)
        self.code, self.rank, self.m = code[keep], r[keep], m

    def of(self, code: np.ndarray) -> np.ndarray:
        """The ranks of pairs given by code ``mentee * m + mentor`` (inf where unranked)."""
        if not len(self.code):
            return np.full(np.shape(code), np.inf)
        pos = np.minimum(np.searchsorted(self.code, code), len(self.code) - 1)
        return np.where(self.code[pos] == code, self.rank[pos], np.inf)


def _less(a: tuple, b: tuple) -> np.ndarray:
    """Lexicographic ``a < b`` of keys given as tuples of equal-shaped arrays."""
    out = np.zeros(np.broadcast(*a, *b).shape, bool)
    equal = np.ones_like(out)
    for x, y in zip(a, b):
        out |= equal & (x < y)
        equal &= x == y
    return out


def _mentor_key(rank: np.ndarray, score: np.ndarray, mentee: np.ndarray) -> tuple:
    unranked = ~np.isfinite(rank)
    return unranked.astype(np.int8), np.where(unranked, 0.0, rank), -score, mentee


def stable_rows(reader: PairReader, capacity, demand=None, mentee_rank=None, mentor_rank=None,
                batch: int = BATCH) -> tuple[tuple, np.ndarray, int]:
    """The mentee-optimal stable matching read lazily from ``reader`` (see the module text).

    Parameters
    ----------
    reader : PairReader
    capacity : float array per mentor (whole mentees: ``floor(capacity)``)
    demand : int array per mentee (0 or 1), default 1
    mentee_rank, mentor_rank : (mentee, mentor, rank) arrays, optional
        Stated ranks of some pairs (lower preferred); ranks of ineligible pairs are ignored.

    Returns
    -------
    (read, chosen, proposals)
        ``read``: the pairs read ``(mentee, mentor, score)`` (the chosen ones among them);
        ``chosen``: positions in ``read`` of the matching's pairs; ``proposals``: proposals made.
    """
    n, m = reader.n_mentees, reader.n_mentors
    cap = np.floor(np.asarray(capacity, np.float64) + 1e-9).astype(np.int64)
    dem = np.ones(n, np.int64) if demand is None else np.asarray(demand, np.int64)
    e_rank, m_rank = _Ranks(mentee_rank, m, "mentee_rank"), _Ranks(mentor_rank, m, "mentor_rank")

    # ---- the lists: flat arrays of (mentor, score, mentor's rank), a segment per mentee
    Lj, Ls, Lr = [], [], []
    size = 0
    ptr = np.zeros(n, np.int64)
    end = np.zeros(n, np.int64)
    read_i, read_j, read_s = [], [], []

    def append(i, j, s):  # i grouped, in list order: each mentee's new segment
        nonlocal size
        if not len(i):
            return
        first = np.r_[True, i[1:] != i[:-1]]
        starts = np.flatnonzero(first)
        who = i[starts]
        ptr[who] = size + starts
        end[who] = size + np.r_[starts[1:], len(i)]
        Lj.append(j), Ls.append(s), Lr.append(m_rank.of(i * m + j))
        read_i.append(i), read_j.append(j), read_s.append(s)
        size += len(i)

    # ranked pairs first (eligible ones), then each mentee's best unranked pairs
    ri, rj = e_rank.code // m, e_rank.code % m
    rs = reader.at(ri, rj) if len(ri) else np.zeros(0)
    ok = rs > -np.inf
    ri, rj, rs, rr = ri[ok], rj[ok], rs[ok], e_rank.rank[ok]
    bi, bj, bs = (np.asarray(a) for a in reader.best(batch))
    bi, bj = bi.astype(np.int64), bj.astype(np.int64)
    counts = np.bincount(bi, minlength=n)
    more = counts >= batch  # there may be pairs beyond the batch
    last_s = np.full(n, -np.inf)
    last_j = np.full(n, m, np.int64)
    if len(bi):  # the cursor: the last pair of each batch in (score desc, mentor asc) order
        o = np.lexsort((bj, -bs, bi))
        tail = o[np.r_[bi[o][1:] != bi[o][:-1], True]]
        last_s[bi[tail]], last_j[bi[tail]] = bs[tail], bj[tail]
    unr = e_rank.of(bi * m + bj) == np.inf
    ui, uj, us = bi[unr], bj[unr], bs[unr]
    li = np.concatenate([ri, ui])
    o = np.lexsort((np.r_[rj, uj], -np.r_[rs, us], np.r_[rr, np.zeros(len(ui))],
                    np.r_[np.zeros(len(ri)), np.ones(len(ui))], li))
    append(li[o], np.r_[rj, uj][o], np.r_[rs, us][o])
    flat = [np.zeros(0, np.int64), np.zeros(0), np.zeros(0)]

    def flatten():
        flat[:] = [np.concatenate(L) if L else np.zeros(0) for L in (Lj, Ls, Lr)]
        flat[0] = flat[0].astype(np.int64)
        Lj[:], Ls[:], Lr[:] = [flat[0]], [flat[1]], [flat[2]]

    flatten()

    # ---- the mentors: held mentees (mentee, mentor, key) and each full mentor's worst key
    h = {"i": np.zeros(0, np.int64), "j": np.zeros(0, np.int64), "u": np.zeros(0, np.int8),
         "r": np.zeros(0), "ns": np.zeros(0)}
    count = np.zeros(m, np.int64)
    worst = (np.zeros(m, np.int8), np.full(m, -np.inf), np.full(m, -np.inf), np.full(m, -1, np.int64))
    free = dem > 0
    proposals = 0

    def accepts(i, j, key):
        return (count[j] < cap[j]) | _less(key, tuple(w[j] for w in worst))

    def screen(mentees, up):
        """The pairs that may be acceptable now: at a full mentor whose worst mentee is
        unranked, only a score reaching the worst one's (its ranked worst: none unranked)."""
        need = np.where(count < cap, -np.inf, np.where(worst[0] == 1, -worst[2], np.inf))
        return up >= need[None, :]

    def rescore(who):
        """The next batch of each mentee in ``who`` from its whole row, after its cursor, only
        mentors that would accept it now and that it did not rank (those came first)."""
        for a in range(0, len(who), RESCORE_ROWS):
            w = who[a:a + RESCORE_ROWS]
            s = reader.rows(w, None if len(m_rank.code) else screen)
            r, j = np.nonzero(s > -np.inf)
            i, sc = w[r], s[r, j]
            after = (sc < last_s[i]) | ((sc == last_s[i]) & (j > last_j[i]))
            i, j, sc, r = i[after], j[after], sc[after], r[after]
            code = i * m + j
            keep = (e_rank.of(code) == np.inf) & accepts(i, j, _mentor_key(m_rank.of(code), sc, i))
            i, j, sc = i[keep], j[keep], sc[keep]
            o = np.lexsort((j, -sc, i))
            i, j, sc = i[o], j[o], sc[o]
            first = np.r_[True, i[1:] != i[:-1]] if len(i) else np.zeros(0, bool)
            start = np.maximum.accumulate(np.where(first, np.arange(len(i)), 0)) if len(i) else first
            nth = np.arange(len(i)) - start
            total = np.bincount(i, minlength=n)
            more[w] = total[w] > batch
            take = nth < batch
            i, j, sc = i[take], j[take], sc[take]
            last = np.r_[i[1:] != i[:-1], True] if len(i) else np.zeros(0, bool)
            last_s[w], last_j[w] = -np.inf, m  # an empty row ends the list
            last_s[i[last]], last_j[i[last]] = sc[last], j[last]
            ptr[w] = end[w] = 0
            append(i, j, sc)
        flatten()

    while True:
        waiting = np.flatnonzero(free & (ptr >= end) & more)
        act = np.flatnonzero(free & (ptr < end))
        if len(waiting) >= RESCORE_ROWS or (len(waiting) and not len(act)):
            more[waiting] = False  # rescore() sets it again where rows go on
            rescore(waiting)
            continue
        if not len(act):
            break
        fj, fs, fr = flat
        # each active mentee's first candidate that would accept it now
        F, p = act, ptr[act].copy()
        prop_i, prop_p = [], []
        while len(F):
            j = fj[p]
            ok = accepts(F, j, _mentor_key(fr[p], fs[p], F))
            prop_i.append(F[ok]), prop_p.append(p[ok])
            F, p = F[~ok], p[~ok] + 1
            alive = p < end[F]
            ptr[F[~alive]] = end[F[~alive]]
            F, p = F[alive], p[alive]
        pi, pp = np.concatenate(prop_i), np.concatenate(prop_p)
        if not len(pi):
            continue
        ptr[pi] = pp + 1
        proposals += len(pi)
        # each mentor keeps its best cap[j] of its held and new mentees
        pj = fj[pp]
        touched = np.zeros(m, bool)
        touched[pj] = True
        mine = touched[h["j"]]
        ku, kr, kns, _ = _mentor_key(fr[pp], fs[pp], pi)
        cand = {"i": np.r_[h["i"][mine], pi], "j": np.r_[h["j"][mine], pj],
                "u": np.r_[h["u"][mine], ku], "r": np.r_[h["r"][mine], kr],
                "ns": np.r_[h["ns"][mine], kns]}
        o = np.lexsort((cand["i"], cand["ns"], cand["r"], cand["u"], cand["j"]))
        cand = {k: v[o] for k, v in cand.items()}
        cj = cand["j"]
        first = np.r_[True, cj[1:] != cj[:-1]]
        nth = np.arange(len(cj)) - np.maximum.accumulate(np.where(first, np.arange(len(cj)), 0))
        kept = nth < cap[cj]
        free[cand["i"][~kept]] = True
        free[cand["i"][kept]] = False
        h = {k: np.r_[h[k][~mine], v[kept]] for k, v in cand.items()}
        tj = np.flatnonzero(touched)
        count[tj] = 0
        np.add.at(count, cand["j"][kept], 1)
        full_last = kept & (nth == cap[cj] - 1)  # the worst mentee of a mentor now full
        fjw = cj[full_last]
        for w, key in zip(worst, ("u", "r", "ns", "i")):
            w[fjw] = cand[key][full_last]

    read = tuple(np.concatenate(x) if x else np.zeros(0) for x in (read_i, read_j, read_s))
    read = (read[0].astype(np.int64), read[1].astype(np.int64), read[2].astype(np.float64))
    code = read[0] * m + read[1]
    return read, np.sort(_positions(code, h["i"] * m + h["j"])), proposals


def _positions(code: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each wanted code, a position in ``code`` holding it (each one is there)."""
    order = np.argsort(code, kind="stable")
    return order[np.searchsorted(code[order], wanted)]


def count_blocking(reader: PairReader, matching: tuple, capacity, mentee_rank=None,
                   mentor_rank=None) -> int:
    """The eligible pairs that block ``matching`` ``(mentee, mentor, score)`` (one mentor per
    mentee), counted over every pair the reader has, a block at a time: with a bounded reader,
    only the pairs whose bound could block are scored (the rest cannot block). Preferences as
    in :func:`stable_rows`."""
    n, m = reader.n_mentees, reader.n_mentors
    e_rank, m_rank = _Ranks(mentee_rank, m, "mentee_rank"), _Ranks(mentor_rank, m, "mentor_rank")
    mi, mj, ms = (np.asarray(a) for a in matching)
    mi, mj = mi.astype(np.int64), mj.astype(np.int64)
    cap = np.floor(np.asarray(capacity, np.float64) + 1e-9).astype(np.int64)
    # mentee i's current pair as a key of its list: (unranked, rank, -score, mentor)
    cur = (np.ones(n, np.int8) * 2, np.zeros(n), np.zeros(n), np.zeros(n, np.int64))
    er = e_rank.of(mi * m + mj)
    for c, v in zip(cur, (~np.isfinite(er), np.where(np.isfinite(er), er, 0.0), -ms, mj)):
        c[mi] = v
    count = np.bincount(mj, minlength=m)
    worst = [np.zeros(m, np.int8), np.full(m, -np.inf), np.full(m, -np.inf), np.full(m, -1, np.int64)]
    if len(mi):
        key = _mentor_key(m_rank.of(mi * m + mj), ms, mi)
        o = np.lexsort((key[3], key[2], key[1], key[0], mj))
        last = o[np.r_[mj[o][1:] != mj[o][:-1], True]]
        for w, k in zip(worst, key):
            w[mj[last]] = k[last]
    full = count >= cap
    # a screen for bounded readers: an unranked pair blocks only if its score reaches the
    # mentee's current unranked score and, at a full mentor, its worst unranked score
    need_e = np.where(cur[0] == 2, -np.inf, np.where(cur[0] == 1, -cur[2], np.inf))
    need_m = np.where(~full, -np.inf, np.where(worst[0] == 1, -worst[2], np.inf))
    held = np.sort(mi * m + mj)

    def screen(mentees, up):
        return (up >= need_e[mentees][:, None]) & (up >= need_m[None, :])

    def blocking(i, j, s):
        code = i * m + j
        er, mr = e_rank.of(code), m_rank.of(code)
        ekey = (np.where(np.isfinite(er), 0, 1).astype(np.int8), np.where(np.isfinite(er), er, 0.0), -s, j)
        prefers = _less(ekey, tuple(c[i] for c in cur))
        wants = (count[j] < cap[j]) | _less(_mentor_key(mr, s, i), tuple(w[j] for w in worst))
        pos = np.minimum(np.searchsorted(held, code), max(len(held) - 1, 0))
        on = (held[pos] == code) if len(held) else np.zeros(len(code), bool)
        return int(np.count_nonzero(prefers & wants & ~on))

    total = 0
    for i, j, s in reader.blocks(screen):
        i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
        s = np.asarray(s, np.float64)
        ranked = (e_rank.of(i * m + j) < np.inf) | (m_rank.of(i * m + j) < np.inf)
        total += blocking(i[~ranked], j[~ranked], s[~ranked])  # ranked pairs counted below
    codes = np.union1d(e_rank.code, m_rank.code)
    if len(codes):
        ri, rj = codes // m, codes % m
        rs = reader.at(ri, rj)
        ok = rs > -np.inf
        total += blocking(ri[ok], rj[ok], rs[ok])
    return total


def check_scope(demand, load, locked_count: int, coverage_first: bool, side_active) -> None:
    """What deferred acceptance models: one mentor per mentee, unit loads, no locks, no
    ``coverage_first``, no side constraints; anything else raises rather than being ignored."""
    def refuse(column, value, expected):
        raise ValidationError(Problem("problem", column, None, None, value,
                                      expected + " (solver 'stable'; use 'cpsat' otherwise)"))

    if demand is not None and np.any(np.asarray(demand) > 1):
        refuse("demand", int(np.max(demand)), "at most one mentor per mentee")
    if load is not None and np.any(np.asarray(load) != 1):
        load = np.asarray(load)
        refuse("load", float(load[load != 1][0]), "unit loads")
    if locked_count:
        refuse("locked", int(locked_count), "no locked pairs")
    if coverage_first:
        refuse("coverage_first", True, "False")
    if side_active:
        refuse("side", side_active, "no side constraints")


def solve_stable_rows(reader: PairReader, capacity, *, demand=None, load=None, locked=None,
                      coverage_first: bool = False, side=None, mentee_rank=None, mentor_rank=None,
                      options: SolverOptions | None = None
                      ) -> tuple[AssignmentProblem, Solution]:
    """Solver ``"stable"`` on a pair reader: the same matching as
    :func:`~mentormatch.solvers.stable.solve_stable` on the problem of every eligible pair,
    without holding them. Returns the problem of the pairs read (the matching's among them) and
    the solution, whose certificate holds ``blocking_pairs`` (recounted over every eligible
    pair, :func:`count_blocking`) and ``proposals``; its bound is
    :func:`~mentormatch.solvers.fair_bounds.best_pairs_bound` over every pair (from each
    mentee's ``BEST_PAIRS`` best).

    Raises
    ------
    ValidationError
        As :func:`~mentormatch.solvers.stable.solve_stable`: demands above one, fractional
        loads, locks, ``coverage_first`` or side constraints.
    """
    started = time.perf_counter()
    check_scope(demand, load, 0 if locked is None else len(locked[0]), coverage_first,
                side.active() if side is not None else [])
    from .fair_bounds import best_pairs_bound
    from .figures import BEST_PAIRS
    from .rows import BestKept

    reader = reader if isinstance(reader, BestKept) else BestKept(reader)
    read, chosen, proposals = stable_rows(reader, capacity, demand, mentee_rank, mentor_rank)
    match = tuple(a[chosen] for a in read)
    blocking = count_blocking(reader, match, capacity, mentee_rank, mentor_rank)
    problem, pos = read_problem(reader, *read, capacity, demand=demand, load=load,
                                chosen=match[:2])
    solution = finish(problem, pos, "feasible", started, "stable",
                      best_pairs_bound(reader.best(BEST_PAIRS), reader.n_mentees, reader.n_mentors,
                                       capacity, demand, load),
                      certificate={"method": "deferred acceptance (mentee-proposing), read lazily",
                                   "blocking_pairs": blocking, "proposals": proposals,
                                   "optimal_for": "mentees", "pairs_read": len(problem.pairs)},
                      message="stable and mentee-optimal; not optimal for the total score")
    return problem, solution
