"""The random baseline on a pair reader (every eligible pair, never held at once), and the
locked pairs a baseline places first. ``solve_random`` runs :func:`random_rows` on a problem's
pairs, so a round gets the same pairs for the same seed at every size.

The rule: mentees in a seeded random order, each drawing mentors uniformly among those with
room, a draw kept when the pair is eligible (asked of the reader, a few pairs at a time); a
mentee whose draws all fail takes from its whole row. Each mentee gets a uniformly random set of
its eligible mentors that still have room: the distribution of drawing its eligible mentors in a
random order (the rule before, which needed a random number per eligible pair).
"""
from __future__ import annotations

import numpy as np

from .rows import PairReader

__all__ = ["random_rows", "place_locks"]

#: The capacity tolerance of the baselines: a mentor has room when remaining >= load - TOL.
TOL = 1e-12
#: Mentees that draw their mentors together (one reader call for their draws).
RANDOM_CHUNK = 2048
#: Draws per place a mentee needs, before it takes from its whole row.
DRAWS = 4


def place_locks(reader: PairReader, capacity, demand, load, locked) -> tuple:
    """The locked pairs that are eligible, placed first: ``(lock_i, lock_j, lock_s, cap, dem)``
    with the capacity and demand left. Raises :class:`~mentormatch.errors.InfeasibleError` when
    the locks overfill a mentor or a mentee: the diagnosis's ``locked`` findings
    (:func:`~mentormatch.solvers.diagnose.lock_conflicts`, the rule every solver states), by
    index until an edge holding the ids names the people. (The callers check the locks first:
    ``pair()`` before a scale-path baseline, ``baselines._start`` on a problem.)"""
    from .blame import Diagnosed
    from .diagnose import lock_conflicts, locks_alone

    n, m = reader.n_mentees, reader.n_mentors
    cap0 = np.asarray(capacity, np.float64)
    dem = np.ones(n, np.int64) if demand is None else np.round(np.asarray(demand)).astype(np.int64)
    load = np.ones(n) if load is None else np.asarray(load, np.float64)
    li = lj = np.zeros(0, np.int64)
    ls = np.zeros(0)
    if locked is not None and len(locked[0]):
        code = np.unique(np.asarray(locked[0], np.int64) * m + np.asarray(locked[1], np.int64))
        li, lj = code // m, code % m
        ls = reader.at(li, lj)
        ok = ls > -np.inf  # as on the problem of every eligible pair: only eligible pairs
        li, lj, ls = li[ok], lj[ok], ls[ok]
    alone = locks_alone(li, lj, n, cap0, dem, load)
    if found := lock_conflicts(alone):
        raise Diagnosed(found, alone)
    cap = cap0 - np.bincount(lj, weights=load[li], minlength=m)
    dem = dem - np.bincount(li, minlength=n)
    return li, lj, ls, cap, dem


def random_rows(reader: PairReader, capacity, demand=None, load=None, locked=None,
                seed: int = 0) -> tuple:
    """The random baseline on a reader: ``(mentee, mentor, score)`` of the pairs taken, the
    locked ones first.

    The rule: ``rng = numpy.random.default_rng(seed)``; locked pairs are placed first; mentees
    are visited in the order ``rng.permutation(n_mentees)``, in chunks of ``RANDOM_CHUNK``. At a
    chunk's start, ``room`` is the mentors with room for the chunk's smallest load; each mentee
    of the chunk gets ``DRAWS`` x its demand draws ``rng.integers(len(room))``, and takes a drawn
    mentor when the pair is eligible, the mentor still has room for its load and it does not
    hold that mentor already, until its demand is met. A mentee whose draws run out takes the
    rest uniformly (``numpy.random.default_rng([seed, 1]).permutation``) from its eligible
    mentors with room (its whole row, asked of the reader).
    """
    n, m = reader.n_mentees, reader.n_mentors
    load = np.ones(n) if load is None else np.asarray(load, np.float64)
    li, lj, ls, cap, dem = place_locks(reader, capacity, demand, load, locked)
    rng = np.random.default_rng(seed)
    spare = np.random.default_rng([seed, 1])
    thr = load - TOL
    shrinking = not np.any(load < 0)
    holds = set((li * m + lj).tolist())
    mine: dict[int, list] = {}  # the mentors each mentee holds (locked or drawn)
    for i, j in zip(li.tolist(), lj.tolist()):
        mine.setdefault(i, []).append(j)
    out_i, out_j, out_s = [li], [lj], [ls]
    order = rng.permutation(n)
    order = order[dem[order] > 0]
    for a in range(0, len(order), RANDOM_CHUNK):
        chunk = order[a:a + RANDOM_CHUNK]
        room = np.flatnonzero(cap >= thr[chunk].min()) if shrinking else np.arange(m)
        if not len(room):
            continue  # no mentor has room for any of them
        draws_per = DRAWS * dem[chunk]
        offsets = np.r_[0, np.cumsum(draws_per)]
        drawn = room[rng.integers(0, len(room), int(offsets[-1]))]
        who = np.repeat(chunk, draws_per)
        score = reader.at(who, drawn)
        got_i, got_j, got_s = [], [], []
        for t, i in enumerate(chunk.tolist()):
            need, ti = int(dem[i]), thr[i]
            for k in range(int(offsets[t]), int(offsets[t + 1])):
                j = int(drawn[k])
                if score[k] == -np.inf or cap[j] < ti or i * m + j in holds:
                    continue
                cap[j] -= load[i]
                holds.add(i * m + j)
                mine.setdefault(i, []).append(j)
                got_i.append(i), got_j.append(j), got_s.append(score[k])
                need -= 1
                if not need:
                    break
            if need:  # the draws ran out: the rest uniformly from the whole row
                row = reader.rows(np.array([i]))[0]
                ok = np.flatnonzero((row > -np.inf) & (cap >= ti))
                ok = ok[~np.isin(ok, mine.get(i, []))]
                for j in ok[spare.permutation(len(ok))[:need]].tolist():
                    cap[j] -= load[i]
                    holds.add(i * m + j)
                    mine.setdefault(i, []).append(j)
                    got_i.append(i), got_j.append(j), got_s.append(row[j])
        out_i.append(np.asarray(got_i, np.int64)), out_j.append(np.asarray(got_j, np.int64))
        out_s.append(np.asarray(got_s, np.float64))
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)
