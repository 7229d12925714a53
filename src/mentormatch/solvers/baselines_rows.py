"""The greedy and random baselines on a pair reader: every eligible pair, never held at once.

* :func:`greedy_rows` takes the same pairs as :func:`~mentormatch.solvers.baselines.solve_greedy`
  on the problem of every eligible pair. The scan (score descending, ties by mentee then
  mentor) runs in bands of score: before the pairs of score ``>= t`` are scanned, every mentee
  still needing a mentor holds all its pairs of score ``>= t`` (its best pairs first, then its
  row scored again from its cursor), so each band is scanned in the global order by
  :func:`~mentormatch.solvers.baselines._greedy_take`.
* :func:`~mentormatch.solvers.random_rows.random_rows` (re-exported here) is the random
  baseline itself.
* Every baseline on a reader carries :func:`~mentormatch.solvers.fair_bounds.best_pairs_bound`
  over each mentee's best pairs (:class:`~mentormatch.solvers.rows.BestKept`: the pass the
  baseline makes for them anyway).
"""
from __future__ import annotations

import numpy as np

from .baselines import _TOL, _greedy_take
from .random_rows import place_locks, random_rows
from .rows import BestKept, PairReader

__all__ = ["greedy_rows", "random_rows", "place_locks", "solve_on_reader"]

#: Pairs each mentee holds beyond those the current band needs.
BATCH = 16
#: Share of the mentees still needing a mentor whose row is scored again per band.
BAND_SHARE = 0.25


def greedy_rows(reader: PairReader, capacity, demand=None, load=None, locked=None,
                coverage_first: bool = False, batch: int = BATCH) -> tuple[tuple, tuple]:
    """The greedy baseline on a reader. Returns ``(read, chosen)``: the pairs read and the pairs
    taken, each as ``(mentee, mentor, score)`` arrays (the locked pairs among those taken)."""
    n, m = reader.n_mentees, reader.n_mentors
    load = np.ones(n) if load is None else np.asarray(load, np.float64)
    li, lj, ls, cap, dem = place_locks(reader, capacity, demand, load, locked)
    lock_code = np.sort(li * m + lj)
    thr = load - _TOL
    shrinking = not np.any(load < 0)  # capacities never grow: a mentor without room stays so

    bi, bj, bs = (np.asarray(a) for a in reader.best(batch))
    pending = (bi.astype(np.int64), bj.astype(np.int64), bs.astype(np.float64))
    read = [pending]
    more = np.bincount(pending[0], minlength=n) >= batch
    last_s, last_j = np.full(n, -np.inf), np.full(n, m, np.int64)
    _cursor(pending, last_s, last_j)
    n_read = np.bincount(pending[0], minlength=n)  # pairs each mentee has read
    taken: list[tuple] = []
    top = first = float(pending[2].max()) if len(pending[2]) else 0.0  # the band above
    positive = -np.inf if coverage_first else 0.0  # pairs of score <= 0 cannot raise the total
    while True:
        cand = np.flatnonzero((dem > 0) & more & (last_s > positive))
        if len(cand):  # the next band: most mentees already hold all their pairs in it
            t = max(float(np.quantile(last_s[cand], 1.0 - BAND_SHARE, method="lower")), positive)
        else:
            t = positive
        strict = not coverage_first and t == 0.0  # the last band without coverage_first: > 0
        final = not len(cand) or strict
        grow = cand[(last_s[cand] > t) | ((last_s[cand] == t) & (not strict))]
        if len(grow):
            low = t if strict else t - max(2 * (top - t), (first - t) / 8, 1e-9 * max(1.0, abs(t)))
            part = _rescore(reader, grow, t, strict, low, last_s, last_j, more, cap, thr,
                            shrinking, n_read, 4 * batch)
            read.append(part)
            pending = tuple(np.concatenate([a, b]) for a, b in zip(pending, part))
        top = t
        i, j, s = pending
        band = (s > t) | ((s == t) & (not strict))
        if final and coverage_first:
            band[:] = True
        keep = band.copy()
        if len(lock_code):
            keep &= ~np.isin(i * m + j, lock_code)
        got = _greedy_take(keep, i, j, s, load, cap, dem)
        taken.append((i[got], j[got], s[got]))
        pending = (i[~band], j[~band], s[~band])
        if final or not np.any(dem > 0):
            break
    read_i, read_j, read_s = (np.concatenate([p[k] for p in read] + [x]) for k, x in
                              enumerate((li, lj, ls)))
    chosen = tuple(np.concatenate([x] + [p[k] for p in taken]) for k, x in enumerate((li, lj, ls)))
    return (read_i, read_j, read_s), chosen


def _cursor(part, last_s, last_j) -> None:
    """Each mentee's last pair of ``part`` in (score desc, mentor asc) order."""
    i, j, s = part
    if not len(i):
        return
    o = np.lexsort((j, -s, i))
    tail = o[np.r_[i[o][1:] != i[o][:-1], True]]
    last_s[i[tail]], last_j[i[tail]] = s[tail], j[tail]


def _rescore(reader, who, t, strict, low, last_s, last_j, more, cap, thr, shrinking, n_read,
             extra):
    """Rows ``who`` scored again from each cursor down to a floor of at most ``t``: the pairs
    of score above ``t`` (``>= t`` unless ``strict``), and besides those of score ``>= low``,
    but only about ``extra`` more than the row has read (``n_read``): each row's floor is the
    largest of ``low`` and its ``n_read + extra``-th best bound (or exact score), capped at
    ``t``. Only mentors with room for the mentee. A bounded reader scores exactly only the
    pairs whose bound reaches the floor. Each cursor then stands at its row's floor."""
    n, m = len(last_s), len(cap)
    floors = {}

    def floor_of(mentees, values, room):
        """Each row's floor from its values (bounds, or exact scores; -inf where unusable)."""
        v = np.where(room, values, -np.inf)
        k = np.minimum(n_read[mentees] + extra, m)
        kth = np.take_along_axis(-np.sort(-v, axis=1), (k - 1)[:, None], axis=1)[:, 0]
        f = np.minimum(np.maximum(kth, low), t)
        return f

    def screen(mentees, up):
        room = cap[None, :] >= thr[mentees][:, None] if shrinking else np.ones(up.shape, bool)
        f = floor_of(mentees, up, room)
        floors.update(zip(mentees.tolist(), f.tolist()))
        return (up >= f[:, None]) & room

    out = []
    for a in range(0, len(who), 256):
        w = who[a:a + 256]
        S = reader.rows(w, screen)
        room = cap[None, :] >= thr[w][:, None] if shrinking else np.ones(S.shape, bool)
        if floors:
            f = np.array([floors[i] for i in w.tolist()])
        else:  # an exact reader: the floor from the exact scores
            f = floor_of(w, np.where(np.isnan(S), -np.inf, S), room)
        floors.clear()
        f = np.where(strict, t, f)
        row_floor = np.full(n, -np.inf)
        row_floor[w] = f
        unread = np.isnan(S) & room  # eligible with room, bound below the floor: unread
        r, j = np.nonzero(S > -np.inf)
        i, s = w[r], S[r, j]
        ok = (s < last_s[i]) | ((s == last_s[i]) & (j > last_j[i]))
        if shrinking:
            ok &= cap[j] >= thr[i]
        i, j, s = i[ok], j[ok], s[ok]
        take = s > t if strict else s >= row_floor[i]
        later = np.bincount(i[~take], minlength=n)[w] + unread.sum(axis=1)
        more[w] = later > 0
        last_s[w], last_j[w] = f, (-1 if strict else m)  # every pair >= the floor is read
        n_read += np.bincount(i[take], minlength=n)
        out.append((i[take], j[take], s[take]))
    return tuple(np.concatenate([p[k] for p in out]) for k in range(3))


def solve_on_reader(name: str, reader: PairReader, capacity, *, demand=None, load=None,
                    locked=None, coverage_first: bool = False, seed: int = 0):
    """A baseline (``"random"``, ``"greedy"`` or ``"stable"``) over every eligible pair of
    ``reader``, without holding them; side constraints are not imposed (as on a problem's
    ``without_side()``). Returns ``(problem, solution)``: the problem of the pairs read (each
    mentee's ``BATCH`` best pairs, the chosen ones among them: a chosen pair among the best has
    its exact rank in a result, one below them counts as ``BATCH + 1``) and the solution on it,
    status ``"feasible"``, with :func:`~mentormatch.solvers.fair_bounds.best_pairs_bound` over
    every pair of ``reader`` (from each mentee's ``BEST_PAIRS`` best).

    Raises
    ------
    ValueError
        For another name. The solvers' own errors (``stable``'s scope, locks that overfill).
    """
    import time

    from .base import finish
    from .rows import read_problem

    started = time.perf_counter()
    reader = reader if isinstance(reader, BestKept) else BestKept(reader)
    if name == "stable":
        from .stable_rows import solve_stable_rows

        return solve_stable_rows(reader, capacity, demand=demand, load=load, locked=locked,
                                 coverage_first=coverage_first)
    if name == "greedy":
        read, chosen = greedy_rows(reader, capacity, demand, load, locked, coverage_first)
        cert = {"method": "greedy"}
    elif name == "random":
        chosen = random_rows(reader, capacity, demand, load, locked, seed=seed)
        best = reader.best(BATCH)  # so that a chosen pair among them has its exact rank
        read = tuple(np.r_[np.asarray(b), c] for b, c in zip(best, chosen))
        cert = {"method": "random", "seed": seed}
    else:
        raise ValueError(f"baseline {name!r} is not one of ['random', 'greedy', 'stable']")
    problem, pos = read_problem(reader, *read, capacity, demand=demand, load=load, locked=locked,
                                chosen=chosen[:2])
    from .fair_bounds import best_pairs_bound
    from .figures import BEST_PAIRS

    bound = best_pairs_bound(reader.best(BEST_PAIRS), reader.n_mentees, reader.n_mentors, capacity,
                             demand, load)
    return problem, finish(problem, pos, "feasible", started, name, bound, cert)

