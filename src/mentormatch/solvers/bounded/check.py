"""The bounds source's checker for the certified rounds (:mod:`mentormatch.solvers.rounds`) of
:mod:`mentormatch.solvers.bounded`: pools, guards, and re-checks of the rows and mentors they
miss; exact scores only where the bound does not clear a pair."""
from __future__ import annotations

import logging
import time

import numpy as np

from ...pairs import unique_sorted
from ..keys import member
from ..sparse import _Sparse, empty
from ..threshold import lift_weight
from ..ties import TIGHT_GAIN
from .exact import _Exact
from .floorcheck import floor_check
from .groupcheck import group_check
from .passes import _Pool, _scan
from .poolcheck import largest as pool_largest, over as pool_pairs_over, top as pool_tops
from .rank import _lookup
from .recheck import _kept

log = logging.getLogger(__name__)


#: The crowded rows without a violator are scanned again for every suspect (keeping those
#: within ``near`` of violating) by chunks of at most this many bound pairs.
RESCAN_PAIRS = 1 << 22
#: The violators a check returns are joined by the pairs within this share of a chosen pair's
#: typical score of violating. In a sub-market too, though most of a late round's pairs are
#: near ones there (the 20,000-mentee sub-market at 100,000 x 20,000: of 206,000 pairs its 4th
#: check returned, the median gain -0.009 against prices near 3.3): without them that level
#: took 4 rounds, not 5, and about 5 s less CPU, but it settled a round sooner
#: (:class:`~.market.Settling` counts the pairs added) and the full market then took 5 rounds,
#: not 3: 67.5 s CPU against 63.9 s, the same pairs (s22h4, load 11-16).
NEAR_SHARE = 0.01
#: A check gathers the tie rule's maybe-tight pairs in its own passes (:meth:`_Certifier.tight`)
#: when the round before added at most this share of the sparse set: such a round is likely the
#: last (at 100,000 x 20,000 the top level's second check added 1.1 %, and the third found no
#: violator). A gather that turns out unneeded cost its passes only pairs within ``1.75 tol`` of
#: the threshold; a last check that did not gather is followed by a check at ``TIGHT_GAIN * tol``.
GATHER_AFTER = 0.02


class _Certifier:
    """The check of every unchosen pair against the prices ``u``, ``p`` of a round, without a
    pass over all pairs once the pools fit the prices:

    - a pair in its row's pool: checked from the pool (bound, then the exact score);
    - a pair outside the pool has ``bound - p_gen[j] <= floor_i`` (the prices ``p_gen`` of
      the pool's generation, which ranked it): cleared by the guard on that floor where the
      prices fell little since, else re-checked, its mentor's column or its row in full
      (:func:`.floorcheck.floor_check`). **With mentor groups** (the pool's ``groups``, from
      the first pass: :mod:`.groups`), a floor per (row, group) and the guard per group
      instead (:func:`.groupcheck.group_check`): the top level's checks read 92 M bound pairs,
      not 942 M, at 100,000 x 20,000 (3 rounds), 0.59e9 not 6.97e9 and 10.0 s CPU not 20.4 at
      200,000 x 40,000.

    **A shifted frame** (``coverage_first``): its prices are of the size of the weight ``W``
    (an unmatched mentee's ``u_i`` near ``-W``, a full mentor's ``p_j`` near ``W + s``), and the
    passes compare ``bound - p_j`` with ``u_i + threshold`` in float32, whose error of about
    ``W 2**-24`` would leave every row to a full scan and every near pair a suspect. The
    checker fixes a constant ``c`` at its first check (about ``-median(u)``, 0 when that is
    below 1) and works on ``u' = u + c``, ``p' = p - c`` (the pools' prices, values and floors
    moved once, in float64): ``s_ij - u_i - p_j = s_ij - u'_i - p'_j``, so the statement
    checked is the same. The float32 error is bounded per row, not by the largest price (a
    mentor at price 0 sits at ``-c`` in the frame): the passes' threshold is lowered by
    ``margin + 8 * 2**-24 (max bound + |u'_i| + |tol| + margin)`` and each pool's values and
    floor carry their own error ``4 * 2**-24 (max |value| + max bound)`` (:meth:`_pool_err`),
    so a pair outside the pools is cleared only when ``floor_i + err_i + D <= u'_i - rs_i +
    threshold``. The gains of the suspects are computed from the exact scores and the
    unshifted ``u``, ``p`` in float64.

    **A lift** (max-min's flows on ``s + w [s >= t]``,
    :class:`mentormatch.solvers.threshold.ThresholdBounds`): the stored bounds are the plain
    scores' and the passes take ``w`` off the price of the pairs whose bound reaches ``t``
    (``bound - (p_j - w)``); the optimal prices hold the same ``w``, so with the frame above
    every float32 number stays of the size of the plain scores, and the bounds' ``margin`` and
    ``largest`` are the plain ones (until s22 ``w`` was in the bounds: a margin of about ``w
    2**-22``, most pairs of a row suspects at 100,000 x 20,000).

    As the rounds' checker (:class:`mentormatch.solvers.rounds.Checker`): violators within
    ``near`` of violating join them (:data:`NEAR_SHARE` of a chosen pair's typical score);
    each row's ``per_row`` most violating are kept, and each mentor's ``per_mentor`` while a
    mentor priced 0 has a taker (:func:`.recheck._kept`, :data:`.market.SUB_MARKET_MENTOR_ROWS`);
    ``settle`` (a sub-market's :class:`~.market.Settling`, None at the top) stops the rounds
    early and then the tie rule does not run; ``record`` adds ``facts`` (the pool size, the
    first prices, the work record), the counts and the seconds since ``started``.
    """

    method = "sparse_min_cost_flow+dual_check_on_bounds"

    def __init__(self, scorer, exact: _Exact, pool: _Pool, li, lj, progress: bool, *, settle=None,
                 facts: dict | None = None, started: float | None = None, per_mentor: int = 0):
        self.scorer, self.exact, self.pool, self.progress = scorer, exact, pool, progress
        self.per_mentor = per_mentor
        self.li, self.lj = li, lj
        self.rows_rescanned = 0
        self.pairs_rechecked = 0  # pairs of the mentor re-checks
        self.bound_pairs = 0  # pairs whose bound the re-checks computed
        self.width, self.settle, self.ties = scorer.m, settle, settle is None
        self.ranks = (scorer.order, np.arange(scorer.m)) if settle is None else None
        self.facts = facts or {}
        self.started = time.perf_counter() if started is None else started
        self._before_tight = (0, 0)
        self.shift = None  # the frame's constant c (set at the first check)
        self.near = None  # the last check's maybe-tight pairs, with its (u, p, chosen) (see tight)
        self.gathered = None  # (set by each call: __call__)
        self.added = None  # the share of the sparse set the last check added (see stop)
        self.err = None  # per row: its pool's float32 error (values and floor; set at the first check)

    def _frame(self, u, p):
        """``u + c``, ``p - c`` in the checker's frame (class docstring), the pools moved to it
        at the first call."""
        if self.shift is None:
            pool = self.pool
            fu = u[np.isfinite(u)]
            c = float(np.round(-np.median(fu))) if len(fu) else 0.0
            self.shift = c if abs(c) >= 1.0 else 0.0
            self.err = self._pool_err(pool.vals, pool.floor, pool.group_floor) + 2.0 ** -48 * abs(self.shift)
            if self.shift:
                pool.prices = [g - self.shift for g in pool.prices]
                pool.vals = pool.vals + self.shift
                pool.floor = pool.floor.astype(np.float64) + self.shift
                if pool.group_floor is not None:
                    pool.group_floor = pool.group_floor + self.shift
        if not self.shift:
            return u, p
        return u + self.shift, p - self.shift

    def check(self, u, p, chosen: _Sparse, tol: float, per_row: int):
        ex_i, ex_j = np.concatenate([self.li, chosen.i]), np.concatenate([self.lj, chosen.j])
        # (of the plain scores: a threshold flow's ``s + W`` made it 1 % of ``W``, every suspect
        # scored "near", 18.6 million of them at 40,000 x 8,000, held and sorted at once)
        plain = getattr(self.scorer, "plain_scores", None)
        s = chosen.s if plain is None else plain(np.asarray(chosen.s, np.float64))
        near = NEAR_SHARE * float(np.median(np.abs(s))) if len(s) else 0.0
        # the tie rule's maybe-tight pairs in the same passes, when it runs (a check without
        # violators is followed by :meth:`tight` at these prices) and the round is likely the last
        gather = (TIGHT_GAIN * tol if self.ties and self.added is not None and self.added <= GATHER_AFTER
                  else None)
        viol, eps = self(u, p, ex_i, ex_j, tol, per_row, near, gather)
        self.near = None if self.gathered is None else (u, p, chosen, gather, self.gathered)
        work = self.facts.get("work")
        if work is not None:
            work["check_bound_pairs"], work["exact_scores"] = self.bound_pairs, self.exact.seconds
        return viol, eps

    def tight(self, u, p, chosen: _Sparse, gain: float) -> _Sparse:
        self._before_tight = (self.rows_rescanned, self.pairs_rechecked)
        last = self.near
        if last is not None and last[0] is u and last[1] is p and last[2] is chosen and last[3] == gain:
            return last[4]  # (gathered by the check of these prices: :meth:`__call__`'s ``gather``)
        ex_i, ex_j = np.concatenate([self.li, chosen.i]), np.concatenate([self.lj, chosen.j])
        return self(u, p, ex_i, ex_j, gain, self.scorer.m, 0.0, gain)[0]

    def tied(self, ties: dict | None) -> None:
        """The gather's own rows and re-checks go to the tie rule's record, not the rounds'."""
        if ties is not None:
            rows, pairs = self._before_tight
            ties.update(rows_scanned=self.rows_rescanned - rows, pairs_rechecked=self.pairs_rechecked - pairs)
            self.rows_rescanned, self.pairs_rechecked = rows, pairs

    def stop(self, new: int | None, size: int) -> bool:
        if new is not None:
            self.added = new / max(size, 1)
        return self.settle is not None and self.settle(new, size)

    def ceiling(self, u, p) -> np.ndarray:
        """Per row, at least ``s_ij - u_i - p_j`` on every pair outside the locks (mentors with
        a finite price ``p_j``, the others having no places), from the pools alone (no pass):
        a row's pair in its pool has ``b_ij - p_j = val + (q_j - p_j)`` (``q``: the pool's
        generation's prices, ``val = b_ij - q_j``); one outside it has ``b_ij - q_j <=
        floor_i``, so ``b_ij - p_j <= floor_i + max_j (q_j - p_j)``; the float32 error of the
        values and the floor (:meth:`_pool_err`) and the bound's ``margin`` (``s_ij <= b_ij +
        margin``) are added. In the checker's frame (class docstring) when it has one:
        ``s - u - p = s - u' - p'``. Rows with no pair: ``-inf``."""
        from ...scale import BIG

        pool = self.pool
        c = self.shift or 0.0
        err = self._pool_err(pool.vals, pool.floor, pool.group_floor) if self.err is None else self.err
        pf = np.where(np.isfinite(p), p - c, np.nan)  # (the frame's; mentors with no places: nan)
        gens = np.vstack(pool.prices)
        with np.errstate(invalid="ignore"):
            drop = gens - pf[None, :]  # per generation and mentor: q_j - p_j
            most = np.where(np.isfinite(gens) & np.isfinite(pf)[None, :], drop, -np.inf).max(axis=1)
        floor = pool.floor.astype(np.float64)
        outside = np.where(floor > -BIG / 2, floor + most[pool.gen], -np.inf)
        top = np.maximum(pool_tops(pool.cols, pool.vals, pool.gen, pool.prices, pf, -BIG / 2), outside)
        return top + err + self.scorer.margin - (u + c)

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
                        pairs_rechecked_by_mentor=self.pairs_rechecked, seconds=seconds)

    def note(self) -> str:
        return (f"{self.rows_rescanned} rows scanned in full so far, {self.exact.computed} pairs scored exactly "
                "so far")

    def _pool_err(self, vals, floor, group_floor=None) -> np.ndarray:
        """Per row, the float32 error of pool values and floors (the row's, its groups')
        computed as ``bound - price``: ``|t - fl(b - fl(q))| <= 2**-24 (|q| + |t|)(1 + 2**-24)``
        with ``|q| <= |t| + |b|``, so ``4 * 2**-24 (|t| + max |b|)`` for the row's largest
        ``|t|`` (no price's size enters)."""
        from ...scale import BIG

        v = pool_largest(vals, -BIG / 2, 1)
        f = np.where(np.isfinite(floor) & (floor > -BIG / 2), np.abs(floor), 0.0)
        if group_floor is not None:
            f = np.maximum(f, pool_largest(group_floor, -BIG / 2, 0))  # (groups x rows)
        return 4 * 2.0 ** -24 * (np.maximum(v, f) + self.scorer.largest)

    def __call__(self, u, p, ex_i, ex_j, tol: float, per_row: int, near: float, gather: float | None = None):
        """The violators (``s - u - p > tol``, joined by those within ``near``; at most
        ``per_row`` a row) and ``eps``. ``gather`` (at most ``tol``; None: none): the passes look
        for pairs of gain above it too, every crowded row is read whole, and when no pair
        violates, :attr:`gathered` is every unchosen pair with ``s - u - p > gather`` (the tie
        rule's), else None. (With ``tol = gather``, ``near = 0`` and ``per_row`` every mentor,
        the violators are that set.)"""
        from ...scale import BIG

        self.gathered = None
        low = tol if gather is None else min(tol, gather)  # (what the passes must not miss)
        sc, pool = self.scorer, self.pool
        n, m = sc.n, sc.m
        u0, p0 = u, p  # (the gains: unshifted, float64)
        u, p = self._frame(u, p)
        largest = lambda x: float(np.abs(x[np.isfinite(x)]).max(initial=0.0))  # noqa: E731
        # the float32 passes' error on ``fl(b - fl(p_j)) > fl(u_i + threshold)``: at most
        # 2**-24 (|p_j| + |b - p_j| + |u_i + threshold|)(1 + 2**-24), and |p_j| <= |g| + |b| + |u_i|
        # with g = b - p_j - u_i, so a pair with g > tol - margin passes when the threshold is
        # lower by 8 * 2**-24 (max |b| + |u_i| + |tol| + margin) (the |g| terms: g (1 - 3 2**-24));
        # per row (``u`` less ``rs``), so that no price's size enters
        rs = 8 * 2.0 ** -24 * np.abs(np.where(np.isfinite(u), u, 0.0))
        # (a lift, threshold.ThresholdBounds: the prices less w in float64 first)
        slack = (sc.margin + 8 * 2.0 ** -24 * (sc.largest + abs(tol) + sc.margin)
                 + 2.0 ** -48 * (largest(p) + abs(lift_weight(sc))))
        threshold = low - slack
        u = u - rs
        live = np.isfinite(u)
        ex_code = np.sort(ex_i * m + ex_j, kind="stable")  # (the chosen come sorted: 1 ms, not 30, at 1.3 M)
        if pool.groups is not None:  # floors per (row, mentor group): .groupcheck
            fail, found_i, found_j, crowded = group_check(self, u, p, threshold, ex_i, ex_j)
        else:
            fail, found_i, found_j, crowded = floor_check(self, u, p, threshold, ex_i, ex_j, ex_code)
        # the pools of the other rows
        keep = np.ones(n, bool)
        keep[fail] = False
        keep &= live
        rows = np.flatnonzero(keep)
        oi, oj = pool_pairs_over(rows, pool.cols, pool.vals, pool.gen, pool.prices, p, u, self.err, threshold,
                                -BIG / 2)  # (bound <= val + (p_gen - p) + err)
        found_i.append(oi), found_j.append(oj)
        gi, gj = np.concatenate(found_i), np.concatenate(found_j)
        # each suspect once, by code (the groups' re-checks and the pools give ascending runs)
        code = unique_sorted(gi * m + gj, kind="stable")
        code = code[~_lookup(ex_code, code)[1]]  # (not chosen; a walk, both sorted)
        gi, gj = np.divmod(code, m)
        gain = self.exact(gi, gj) - u0[gi] - p0[gj]
        # a crowded row without a violator among its most promising suspects: all of them
        crowded = np.concatenate(crowded) if crowded else np.zeros(0, np.int64)
        # (gathering: every crowded row, whose tight pairs may lie past the suspects kept)
        rescan = np.unique(crowded) if gather is not None else np.setdiff1d(crowded, gi[gain > tol])
        keep_above = tol - near if gather is None else min(tol - near, gather)
        # their suspects a chunk of rows at a time, keeping the pairs within ``near`` of
        # violating (the only ones the rest reads, beside the largest gain): a crowded row's
        # suspects can be most of the row, so all of them at once grow like rows x m (max-min's
        # first flow, s + W on every pair: 12 GiB and rising at 60,000 x 12,000, killed at 19 GB
        # at 100,000 x 20,000)
        top, scored = -np.inf, len(gi)
        step = max(1, RESCAN_PAIRS // max(m, 1))
        for k in range(0, len(rescan), step):
            part = rescan[k:k + step]
            f = _scan(sc.subset(rows=part), part, None, p, excl_i=ex_i, excl_j=ex_j, u=u[part],
                      threshold=threshold, keep_all=True)
            self.bound_pairs += len(part) * m
            ri, rj = f.i, f.j
            code_r = ri * m + rj
            new = ~(member(code_r, code) | member(code_r, ex_code))
            ri, rj = ri[new], rj[new]
            if len(ri):
                g = self.exact(ri, rj) - u0[ri] - p0[rj]
                top, scored = max(top, float(g.max())), scored + len(ri)
                near_ = g > keep_above
                gi, gj = np.concatenate([gi, ri[near_]]), np.concatenate([gj, rj[near_]])
                gain = np.concatenate([gain, g[near_]])
        log.debug("check: %d suspects scored, %d rows scanned in full, %d pairs re-checked so far, %d crowded",
                  scored, len(fail), self.pairs_rechecked, len(rescan))
        eps = max(tol, float(gain.max(initial=-np.inf)), top)
        if not (gain > tol).any():
            if gather is not None:
                tight = gain > gather
                self.gathered = _Sparse(gi[tight], gj[tight], gj[tight], self.exact(gi[tight], gj[tight]))
            return empty(), max(eps, 0.0)
        add = gain > tol - near
        vi, vj = gi[add], gj[add]
        # each mentor's rows while a mentor priced 0 has a taker (:func:`.recheck._kept`)
        per_mentor = self.per_mentor if self.per_mentor and (p0[vj] <= 0).any() else 0
        vi, vj = _kept(vi, vj, gain[add], n, m, per_row, per_mentor)
        return _Sparse(vi, vj, vj, self.exact(vi, vj)), max(eps, 0.0)
