"""The bounds source's checker for the certified rounds (:mod:`mentormatch.solvers.rounds`) of
:mod:`mentormatch.solvers.bounded`: pools, guards, and re-checks of the rows and mentors they
miss; exact scores only where the bound does not clear a pair."""
from __future__ import annotations

import logging
import time

import numpy as np

from ..sparse import _Sparse, empty
from . import cells as cellmod
from .cells import Cells, by_cell, failing, mask_pairs, on_threads, shifted, starts
from . import passes
from .passes import _Exact, _Pool, _scan
from .rank import _first_k, _member, _nonzero, _rank_in_group

log = logging.getLogger(__name__)


#: A cell's bound costs about this many times a pair of a pass, and a hot mentor's (a pass
#: on a narrow subset of mentors) this many: measured at 20,000 x 20,000 on one core, 4.9-5.3 ns
#: a pair of a cell, 11.4-12.6 ns of a hot mentor re-check (500 mentors), 5.1-5.2 ns of a row
#: scanned in full.
CELL_COST = 1.0
HOT_COST = 2.3
#: A row whose failing cells hold more than this share of its mentors is scanned in full: as
#: cheap a pair, and it takes the row's pool and floors afresh under the new prices and ranks
#: a crowded row's suspects in the pass (computed cells, a row with bounds above its limit
#: nearly everywhere sent tens of millions of suspects to be ranked: 137 s of checks at the
#: 4,000-mentee sub-market of 100,000 x 20,000, against 14 s).
FULL_SHARE = 0.5


def _full(n_fail, m: int):
    """Whether a row with ``n_fail`` failing cells is scanned in full."""
    return n_fail * cellmod.GROUP_WIDTH > FULL_SHARE * m
#: Rows of a generation (evenly spaced) on which the cost of a cut is estimated.
_SAMPLE_ROWS = 2048


def _cut(delta: np.ndarray, cells: np.ndarray, limit: np.ndarray, m: int) -> float:
    """The cut ``D`` that makes the re-check of rows cheapest (``cells``, ``limit``: a sample
    of a generation's rows, their floors and limits): the mentors whose price fell by more than
    ``D`` since (``delta > D``, the hot ones) are checked on every row, and the cells whose floor
    plus the largest fall of their other mentors exceeds the row's ``limit`` are computed (the
    whole row, past ``FULL_SHARE`` of it). Tried: the top 0, 1, 2, 4, ... of the falls."""
    d = np.sort(delta[np.isfinite(delta)])[::-1]
    counts = sorted({0, len(d), *(1 << k for k in range(max(len(d), 1).bit_length()) if 1 << k < len(d))})
    cs, ls = cells.astype(np.float64), limit
    edges = starts(m)
    best, best_cost = -np.inf, np.inf
    for h in counts:
        cut = float(d[h]) if h < len(d) else -np.inf
        rest = np.maximum.reduceat(np.where(delta > cut, -np.inf, delta), edges)
        n_fail = (cs + rest[None, :] > ls[:, None]).sum(axis=1)
        rows = np.where(_full(n_fail, m), m, n_fail * (CELL_COST * cellmod.GROUP_WIDTH))
        cost = HOT_COST * np.count_nonzero(d > cut) + rows.mean()  # a row's (ties: fewer than h hot)
        if cost < best_cost:
            best, best_cost = cut, cost
    return best


class _Certifier:
    """The check of every unchosen pair against the prices ``u``, ``p`` of a round, without a
    pass over all pairs once the pools fit the prices. Each row ``i`` has a generation, whose
    prices ``p_gen``, and for each cell ``G`` (:mod:`.cells`: ``GROUP_WIDTH`` consecutive
    mentors) a floor ``c_iG``: every pair outside the row's pool has ``b_ij - p_gen[j] <=
    c_iG`` (``b``: the bound, ``j`` in ``G``). Then, with ``delta_j = p_gen[j] - p_j``:

    - a pair in its row's pool: checked from the pool (bound, then the exact score);
    - a pair outside the pool, ``j`` in ``G`` and not hot (below)::

          b_ij - p_j - u_i = (b_ij - p_gen[j]) + delta_j - u_i
                          <= c_iG + max_{k in G, k not hot} delta_k - u_i

      so it is cleared when ``c_iG + max_{k in G, k not hot} delta_k <= u_i + threshold``
      (the cell's guard); the cells the guard misses are computed (bounds under ``p``), and
      a row whose failing cells would cost more than the row is scanned in full, which takes
      its pool and floors afresh under ``p``;
    - the hot mentors (``delta_j > D``) are checked by their bounds on every row of the
      generation (but the pool's pairs, checked from the pool).

    ``D`` is chosen per generation to make the re-check cheapest (:func:`_cut`). After the
    check the floors still hold, under new generations:

    - a row with computed cells moves to the prices ``p``: a computed cell's floor is its
      largest entry outside the pool under ``p``; another cell's is ``c_iG + max_{k in G, k
      not hot} delta_k`` (rounded up to float32), which bounds ``b_ij - p_j`` by the inequality
      above; the pool's values move by ``delta``;
    - another row moves to ``p_gen`` with the hot mentors' prices set to ``p``;
    - in both, a cell with hot mentors takes the larger of its floor and the hot mentors'
      largest entry outside the pool under ``p`` (the hot re-check's), so that the next round
      re-checks only the mentors whose price fell since.

    As the rounds' checker (:class:`mentormatch.solvers.rounds.Checker`): violators within
    ``near`` of violating join them (1 % of a chosen pair's typical score); ``settle`` (a
    sub-market's :class:`~.market.Settling`, None at the top) stops the rounds early and then
    the tie rule does not run; ``record`` adds ``facts`` (the pool size, the first prices, the
    work record), the counts and the seconds since ``started``.
    """

    method = "sparse_min_cost_flow+dual_check_on_bounds"

    def __init__(self, scorer, exact: _Exact, pool: _Pool, li, lj, progress: bool, *, settle=None,
                 facts: dict | None = None, started: float | None = None):
        self.scorer, self.exact, self.pool, self.progress = scorer, exact, pool, progress
        self.li, self.lj = li, lj
        self.rows_rescanned = 0
        self.pairs_rechecked = 0  # pairs of the mentor re-checks
        self.pairs_in_cells = 0  # pairs of the cells computed
        self.bound_pairs = 0  # pairs whose bound the re-checks computed
        self.cells = Cells(scorer)
        self.width, self.settle, self.ties = scorer.m, settle, settle is None
        self.ranks = (scorer.order, np.arange(scorer.m)) if settle is None else None
        self.facts = facts or {}
        self.started = time.perf_counter() if started is None else started
        self._before_tight = (0, 0)

    def check(self, u, p, chosen: _Sparse, tol: float, per_row: int):
        ex_i, ex_j = np.concatenate([self.li, chosen.i]), np.concatenate([self.lj, chosen.j])
        near = 0.01 * float(np.median(np.abs(chosen.s))) if len(chosen.s) else 0.0
        viol, eps = self(u, p, ex_i, ex_j, tol, per_row, near)
        work = self.facts.get("work")
        if work is not None:
            work["check_bound_pairs"], work["exact_scores"] = self.bound_pairs, self.exact.seconds
        return viol, eps

    def tight(self, u, p, chosen: _Sparse, gain: float) -> _Sparse:
        self._before_tight = (self.rows_rescanned, self.pairs_rechecked)
        ex_i, ex_j = np.concatenate([self.li, chosen.i]), np.concatenate([self.lj, chosen.j])
        return self(u, p, ex_i, ex_j, gain, self.scorer.m, 0.0)[0]

    def tied(self, ties: dict | None) -> None:
        """The gather's own rows and re-checks go to the tie rule's record, not the rounds'."""
        if ties is not None:
            rows, pairs = self._before_tight
            ties.update(rows_scanned=self.rows_rescanned - rows, pairs_rechecked=self.pairs_rechecked - pairs)
            self.rows_rescanned, self.pairs_rechecked = rows, pairs

    def stop(self, new: int | None, size: int) -> bool:
        return self.settle is not None and self.settle(new, size)

    def record(self, cert: dict, stage: str) -> None:
        seconds = round(time.perf_counter() - self.started, 3)
        if stage == "round":
            cert.update(self.facts, bound_margin=self.scorer.margin, bounds_exact=self.scorer.exact)
        elif stage == "stopped":
            cert.update(seconds=seconds)
        else:
            counts = self.scorer.eligible_counts
            cert.update(pairs_checked=None if counts is None else int(counts.sum()),
                        pairs_scored_exactly=self.exact.computed, rows_scanned_again=self.rows_rescanned,
                        pairs_rechecked_by_mentor=self.pairs_rechecked,
                        pairs_rechecked_in_cells=self.pairs_in_cells, seconds=seconds)

    def note(self) -> str:
        return (f"{self.rows_rescanned} rows scanned in full so far, {self.exact.computed} pairs scored exactly "
                "so far")

    def _hot(self, rows, hot, p, u, threshold, ex_i, ex_j):
        """The hot mentors ``hot`` (ascending) on ``rows`` (but each row's pool pairs): the
        suspects (rows, mentors, crowded rows) and, per row, the largest entry of each cell
        with hot mentors (in cell order)."""
        m, pool = self.scorer.m, self.pool
        in_cols = np.zeros(m, bool)
        in_cols[hot] = True
        pc = pool.cols[rows]
        pr, pk = _nonzero(in_cols[pc])
        cell = hot // cellmod.GROUP_WIDTH
        f = _scan(self.scorer.subset(rows=rows, cols=hot), rows, hot, p[hot],
                  excl_i=np.concatenate([self.li, rows[pr]]), excl_j=np.concatenate([self.lj, pc[pr, pk]]),
                  chosen_i=ex_i, chosen_j=ex_j, u=u[rows], threshold=threshold, progress=self.progress,
                  what="certificate: mentors whose price fell",
                  cell_edges=np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]))
        self.pairs_rechecked += len(rows) * len(hot)
        self.bound_pairs += len(rows) * len(hot)
        return f.i, f.j, f.crowded, f.cells

    def _cells(self, rows, over, hot, p, u, threshold, ex_i, ex_j):
        """The cells ``over`` (rows x cells, bool) of ``rows`` computed under ``p``, but the
        pool pairs, the locks and the ``hot`` mentors: the suspects (rows, mentors; a row with
        more than ``SUSPECTS_PER_ROW`` keeps its largest and is crowded) and each computed
        cell's largest entry (rows x cells, float32; the others unset)."""
        from ...scale import BIG

        m, pool = self.scorer.m, self.pool
        p32 = p.astype(np.float32)
        limit = (u + threshold).astype(np.float32)
        is_hot = np.zeros(m, bool)
        is_hot[hot] = True
        locks, chosen = by_cell(self.li, self.lj, m), by_cell(ex_i, ex_j, m)
        size = pool.cols.shape[1]
        pools = by_cell(np.repeat(rows, size), pool.cols[rows].reshape(-1), m)
        out = np.full(over.shape, -np.float32(BIG), np.float32)
        width = cellmod.GROUP_WIDTH

        def cell(g: int):
            at = np.flatnonzero(over[:, g])
            r = rows[at]
            a, b = g * width, min(g * width + width, m)
            s = self.cells.bounds(r, a, b, p32)
            s[:, is_hot[a:b]] = -np.inf
            mask_pairs(s, r, pools, g, a)
            mask_pairs(s, r, locks, g, a)
            top = np.maximum(s.max(axis=1), -np.float32(BIG))
            mask_pairs(s, r, chosen, g, a)
            sr, sc = _nonzero(s > limit[r][:, None])
            sv = s[sr, sc]
            if len(sr) > passes.SUSPECTS_PER_ROW * len(r) // 4 and len(sr):
                # each row's SUSPECTS_PER_ROW + 1 largest of the cell: a row cut here has more
                # than SUSPECTS_PER_ROW and is crowded below (all of its suspects, if need be)
                order = np.lexsort((sc, -sv, sr))
                keep = order[_rank_in_group(sr[order]) <= passes.SUSPECTS_PER_ROW]
                sr, sc, sv = sr[keep], sc[keep], sv[keep]
            return at, g, top, r[sr], sc + a, sv, len(r) * (b - a)

        si, sj, sv = [], [], []
        for at, g, top, ri, rj, rv, pairs in on_threads(cell, np.flatnonzero(over.any(axis=0)).tolist()):
            out[at, g] = top
            si.append(ri), sj.append(rj), sv.append(rv)
            self.pairs_in_cells += pairs
            self.bound_pairs += pairs
        if not si:
            e = np.zeros(0, np.int64)
            return e, e, e, out
        gi, gj, gv = np.concatenate(si), np.concatenate(sj), np.concatenate(sv)
        order = np.lexsort((gj, -gv, gi))
        gi, gj = gi[order], gj[order]
        rank = _rank_in_group(gi)
        keep = rank < passes.SUSPECTS_PER_ROW
        return gi[keep], gj[keep], np.unique(gi[~keep]), out

    def __call__(self, u, p, ex_i, ex_j, tol: float, per_row: int, near: float):
        from ...scale import BIG

        sc, pool = self.scorer, self.pool
        n, m = sc.n, sc.m
        largest = lambda x: float(np.abs(x[np.isfinite(x)]).max(initial=0.0))  # noqa: E731
        slack = sc.margin + 4 * 2.0 ** -24 * (sc.largest + largest(p) + largest(u)
                                              + max(largest(g) for g in pool.prices))
        threshold = tol - slack
        ex_code = np.sort(ex_i * m + ex_j)
        edges = starts(m)
        p0 = np.where(np.isfinite(p), p, 0.0)
        # the guard, per generation of pools: the hot mentors, the cells that fail, the rows
        # scanned in full
        fail, gens = [], []
        live = np.isfinite(u)
        for g in np.unique(pool.gen[live]).tolist():
            rows = np.flatnonzero((pool.gen == g) & live)
            delta = np.where(np.isfinite(p), pool.prices[g] - p0, -np.inf)
            limit = u[rows] + threshold
            step = max(1, len(rows) // _SAMPLE_ROWS)
            cut = _cut(delta, pool.cells[rows[::step]], limit[::step], m)
            rest = np.maximum.reduceat(np.where(delta > cut, -np.inf, delta), edges)
            over = failing(pool.cells, rows, rest, limit)
            full = _full(over.sum(axis=1), m)
            fail.append(rows[full])
            gens.append((g, rows[~full], over[~full], np.flatnonzero(delta > cut), rest))
        fail = np.sort(np.concatenate(fail)) if fail else np.zeros(0, np.int64)
        found_i, found_j, crowded = [], [], []
        at_p = None  # the generation of the prices p (made on first use)
        # rows scanned in full (their pools and cells taken afresh under p)
        if len(fail):
            view = sc.subset(rows=fail)
            f = _scan(view, fail, None, p, excl_i=self.li, excl_j=self.lj, chosen_i=ex_i, chosen_j=ex_j,
                      pool_size=pool.cols.shape[1], u=u[fail], threshold=threshold, progress=self.progress,
                      what="certificate: rows the pools miss", cell_edges=edges)
            c, v, _ = f.pool
            pool.cols[fail], pool.vals[fail], pool.cells[fail] = c, v, f.cells
            at_p = len(pool.prices)
            pool.gen[fail] = at_p
            pool.prices.append(p.copy())
            found_i.append(f.i), found_j.append(f.j), crowded.append(f.crowded)
            self.rows_rescanned += len(fail)
            self.bound_pairs += len(fail) * m
        for g, rows, over, hot, rest in gens:
            if not len(rows) or not (len(hot) or over.any()):
                continue
            cells = pool.cells[rows]
            q = pool.prices[g]
            if len(hot):  # the hot mentors on every row: their cells' largest entries under p
                fi, fj, fc, hot_cells = self._hot(rows, hot, p, u, threshold, ex_i, ex_j)
                found_i.append(fi), found_j.append(fj), crowded.append(fc)
                q = q.copy()
                q[hot] = p[hot]
            moved = over.any(axis=1)  # to the prices p: the failing cells computed, the others moved
            if moved.any():
                fi, fj, fc, computed = self._cells(rows[moved], over[moved], hot, p, u, threshold, ex_i, ex_j)
                found_i.append(fi), found_j.append(fj), crowded.append(fc)
                cells[moved] = np.where(over[moved], computed, shifted(cells[moved], rest))
            if len(hot):
                at = np.unique(hot // cellmod.GROUP_WIDTH)
                cells[:, at] = np.maximum(cells[:, at], hot_cells)
            pc = pool.cols[rows]
            shift = np.where(moved[:, None], (pool.prices[g] - p0)[pc], (pool.prices[g] - q)[pc])
            with np.errstate(invalid="ignore"):
                pool.vals[rows] = np.where(np.isfinite(shift), pool.vals[rows] + shift, pool.vals[rows])
            pool.cells[rows] = cells
            if moved.any():
                if at_p is None:
                    at_p = len(pool.prices)
                    pool.prices.append(p.copy())
                pool.gen[rows[moved]] = at_p
            if len(hot) and not moved.all():
                pool.gen[rows[~moved]] = len(pool.prices)
                pool.prices.append(q)
        # the pools of the other rows
        keep = np.ones(n, bool)
        keep[fail] = False
        keep &= live
        rows = np.flatnonzero(keep)
        pc, pv = pool.cols[rows], pool.vals[rows]
        with np.errstate(invalid="ignore"):
            drop = np.vstack(pool.prices) - p[None, :]  # per generation and mentor: p_gen - p
            ub = pv + drop[pool.gen[rows][:, None], pc] - u[rows, None]
            over = (pv > -BIG / 2) & (ub > threshold)
        rr, cc = _nonzero(over)
        found_i.append(rows[rr]), found_j.append(pc[rr, cc])
        gi, gj = np.concatenate(found_i), np.concatenate(found_j)
        code, first = np.unique(gi * m + gj, return_index=True)
        chosen = _member(code, ex_code)
        gi, gj = gi[first][~chosen], gj[first][~chosen]
        gain = self.exact(gi, gj) - u[gi] - p[gj]
        # a crowded row without a violator among its most promising suspects: all of them
        crowded = np.concatenate(crowded) if crowded else np.zeros(0, np.int64)
        rescan = np.setdiff1d(crowded, gi[gain > tol])
        if len(rescan):
            f = _scan(sc.subset(rows=rescan), rescan, None, p, excl_i=ex_i, excl_j=ex_j, u=u[rescan],
                      threshold=threshold, keep_all=True)
            self.bound_pairs += len(rescan) * m
            ri, rj = f.i, f.j
            code_r = ri * m + rj
            new = ~(_member(code_r, code) | _member(code_r, ex_code))
            ri, rj = ri[new], rj[new]
            if len(ri):
                gi, gj = np.concatenate([gi, ri]), np.concatenate([gj, rj])
                gain = np.concatenate([gain, self.exact(ri, rj) - u[ri] - p[rj]])
        log.debug("check: %d suspects scored, %d rows scanned in full, %d pairs in cells, %d crowded",
                  len(gi), len(fail), self.pairs_in_cells, len(rescan))
        eps = max(tol, float(gain.max(initial=-np.inf)))
        if not (gain > tol).any():
            return empty(), max(eps, 0.0)
        add = gain > tol - near
        vi, vj, vg = gi[add], gj[add], gain[add]
        many = np.bincount(vi, minlength=n)[vi] > per_row  # rows with more: their per_row best
        if many.any():
            order = np.lexsort((vj[many], -vg[many], vi[many]))
            mi, mj = vi[many][order], vj[many][order]
            first = _first_k(mi, per_row)
            vi, vj = np.concatenate([vi[~many], mi[first]]), np.concatenate([vj[~many], mj[first]])
        return _Sparse(vi, vj, vj, self.exact(vi, vj)), max(eps, 0.0)
