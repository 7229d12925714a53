"""The first pass and the first sparse set of a level of :mod:`mentormatch.solvers.bounded`: each
mentee's pool (its best pairs by ``bound - price``, one pass over all pairs) and each mentor's
best rows (:func:`_first_pass`); the pairs of the first sparse set chosen from them
(:func:`_candidates`) and scored exactly (:func:`_first_sparse`); and those pairs by the pass's
own ranking scored while the level waits for the prices that rank the set (:class:`_ScoredEarly`)."""
from __future__ import annotations

import threading
import time

import numpy as np

from ...pairs import unique_sorted
from ..sparse import _Sparse
from ..threshold import lift_weight
from .child import Child
from .exact import _Exact
from .groups import mentor_groups
from .passes import PassStopped, _Pool, _scan, _yield_cpu
from .remote import current, executing, here


def _first_pass(scorer, pass_price, later: Child | None, size: int, mentor_k: int, cap, dem, li, lj,
                progress: bool, deadline: float | None = None, grouped: bool = False):
    """The pools (each row's ``size`` best pairs by ``bound - pass_price``), each mentor's
    ``mentor_k`` best rows (rows, mentors) and its ceiling (:func:`.ceiling.mentor_ceilings`), in
    one pass over all pairs; at a lower priority
    while ``later`` runs in a child beside it, which is ended if the pass fails or stops at
    ``deadline`` (:class:`.passes.PassStopped`). ``grouped``: with floors per mentor group
    (:mod:`.groups`) where the scorer has groups; the top level only (at 100,000 x 20,000 the
    sub-markets' checks took about 1 s CPU more each with them, the top level's 0.7 s less)."""
    n, m = scorer.n, scorer.m
    # no prices: 0, or a threshold's lift w (its pools then hold plain-sized numbers, not w's)
    price = np.full(m, lift_weight(scorer)) if pass_price is None else np.asarray(pass_price, np.float64)
    price = np.where(cap > 0, price, np.inf)
    groups = mentor_groups(scorer) if grouped else None  # (the checker's floors per group; None: one)
    try:
        f = _scan(scorer, np.arange(n), None, price, excl_i=li, excl_j=lj, pool_size=size,
                  dead=dem <= 0, mentor_k=mentor_k, progress=progress, what="best pairs per mentee (bounds)",
                  background=later is not None and later.running, deadline=deadline, groups=groups)
    except BaseException as err:  # the child is no longer waited for
        if later is not None:
            later.cancel()
        if isinstance(err, PassStopped) and err.found is not None and err.found.pool is not None:
            cols, vals, floor = err.found.pool  # the pools of the rows scanned
            err.pool = _Pool(cols, vals.astype(np.float64), floor, np.zeros(len(floor), np.int64), [price],
                             *_floors(groups, err.found.group_floor))
        raise
    cols, vals, floor = f.pool
    return (_Pool(cols, vals.astype(np.float64), floor, np.zeros(n, np.int64), [price], *_floors(groups, f.group_floor)),
            f.mentor_best, f.mentor_ceiling)


def _floors(groups, group_floor) -> tuple:
    """A pool's (groups, floors per group: groups x rows, float64) from a pass (none without
    groups)."""
    if groups is None or group_floor is None:
        return None, None
    return groups, np.ascontiguousarray(group_floor.T, dtype=np.float64)


def _with_ceilings(out, scorer, ceiling, depth: int):
    """``out`` (a level's :class:`~mentormatch.solvers.rounds.Outcome`) with its first pass's
    mentor ceilings in its certificate (``"mentor_ceilings"``, every pair's but the locks') on
    max-min's first flow (the top level of a lift at ``t = -inf``), whose stop's bounds read
    them (:mod:`mentormatch.solvers.fair_claims`); no other certificate holds the array."""
    lift = getattr(scorer, "lift", None)
    if depth == 0 and ceiling is not None and lift is not None and lift[0] == -np.inf:
        out.certificate["mentor_ceilings"] = ceiling
    return out


#: :func:`_candidates` takes the rows in this many parts on as many threads (numpy's partition,
#: sort and gathers release the GIL) when there are at least :data:`CANDIDATE_ROWS` rows a part.
CANDIDATE_PARTS = 2
CANDIDATE_ROWS = 20_000


def _candidates(pool: _Pool, mentor_best, guide, k: int, cap, m: int) -> np.ndarray:
    """The codes (``row * m + mentor``, sorted) of the first sparse set's pairs before their
    exact scores (:func:`_first_sparse`): each row's ``k`` best of its pool by ``bound - guide``
    (the pool's own ranking when ``guide`` is None or the pass's prices) and each mentor's
    best rows. Parts of the rows on threads (each row's choice is its own: the same codes);
    at 200,000 x 40,000, 0.48 s CPU on one thread."""
    from concurrent.futures import ThreadPoolExecutor

    from ...scale import BIG

    n = len(pool.cols)  # (the rows of the pool: the first rows of a pass cut short)
    size = pool.cols.shape[1]
    # (by the later prices: the same ranking when they are the pass's)
    shift = None if guide is None else np.where(cap > 0, pool.prices[0] - guide, 0.0)
    kk = min(k, size)
    mi, mj = mentor_best if mentor_best is not None else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    parts = max(1, min(CANDIDATE_PARTS, n // CANDIDATE_ROWS))
    edges = [n * q // parts for q in range(parts + 1)]

    def part(q: int) -> np.ndarray:  # rows edges[q]:edges[q + 1], with the mentors' best rows among them
        a, b = edges[q], edges[q + 1]
        cols, vals = pool.cols[a:b], pool.vals[a:b]
        rank = vals if shift is None else vals + shift[cols]
        top = np.argpartition(rank, size - kk, axis=1)[:, size - kk:]
        ok = np.take_along_axis(vals, top, axis=1) > -BIG / 2
        ri = np.broadcast_to(np.arange(a, b)[:, None], top.shape)[ok]
        rj = np.take_along_axis(cols, top, axis=1)[ok]
        mine = ((mi >= a) | (q == 0)) & ((mi < b) | (q == parts - 1))
        return unique_sorted(np.concatenate([ri * m + rj, mi[mine] * m + mj[mine]]))

    if parts == 1:
        return part(0)
    with ThreadPoolExecutor(parts) as threads:  # (each part's codes below the next's)
        return np.concatenate(list(threads.map(part, range(parts))))


def _first_sparse(scorer, exact: _Exact, pool: _Pool, mentor_best, guide, k: int, cap,
                  cover: bool = False) -> _Sparse:
    """The first sparse set: the pairs of :func:`_candidates` with exact scores (positive ones
    kept: only those can raise the total; every one with ``cover``, ``coverage_first``, where a
    pair of score <= 0 may match a mentee).

    The mentors' lists give every mentor rivals in the sparse set: ranked by ``bound -
    price``, the mentees' lists leave out the mentors the guide prices high, and ranked by the
    bound alone, when mentees outnumber the places, the mentors nobody ranks high; either way
    such a mentor would be priced at nothing in the first round."""
    m = scorer.m
    code = _candidates(pool, mentor_best, guide, k, cap, m)
    i, j = code // m, code % m
    s = exact(i, j)
    keep = s > (-np.inf if cover else 0)
    return _Sparse(i[keep], j[keep], j[keep], s[keep])


#: The early scores (:class:`_ScoredEarly`) in batches of this many pairs: their temporaries
#: then stay small while the sub-market's child is alive beside them (at 100,000 x 20,000, 1.4
#: million pairs at once raised the process tree's peak by 60-100 MB, 1.49 to 1.55-1.58 GiB),
#: and each batch is scored on one thread (the child keeps the other core).
EARLY_PAIRS = 150_000


class _ScoredEarly:
    """The exact scores of the first sparse set's likely pairs, computed on a thread at a lower
    priority while a level waits for the sub-market whose prices rank that set
    (:func:`mentormatch.solvers.bounded._solve`): the pairs of :func:`_candidates` by the
    pass's own ranking (by the inner sub-market's prices). The sparse set is then ranked by the
    outer sub-market's prices, and most of its pairs are already in ``exact``'s cache; the rest
    are scored then. The same pairs are scored whether or not the sub-market runs beside (a
    forked child or in this process), so that the certificate's counts do not depend on it;
    on the caller's executor, as the first sparse set would score them (:mod:`.remote`).
    :meth:`join` waits for the thread and raises its error."""

    def __init__(self, exact: _Exact, code: np.ndarray):
        self.error = None
        self.seconds = 0.0
        executor = current()  # (the caller's: a thread starts with the module default)

        def run():
            t = time.perf_counter()
            try:
                _yield_cpu()  # (the sub-market beside it is on the critical path)
                with executing(executor) if executor is not None else here():
                    for a in range(0, len(code), EARLY_PAIRS):
                        part = code[a:a + EARLY_PAIRS]
                        exact(part // exact.m, part % exact.m)
            except BaseException as exc:  # noqa: BLE001 - raised by join()
                self.error = exc
            self.seconds = time.perf_counter() - t

        self.thread = threading.Thread(target=run, name="mentormatch early exact scores", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise self.error
