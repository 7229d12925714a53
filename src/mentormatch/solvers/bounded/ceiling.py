"""Each row's ceiling without a pass over its pairs: a number at least every eligible exact score
of a row of a :class:`mentormatch.scale.BoundedScorer` against a set of mentors, from the
scorer's factors alone (``O(n d + groups x m)``, no bound of any pair computed). For the rows a
first pass cut short never scanned (:func:`mentormatch.solvers.bounded.late.stopped_early`), which
otherwise count every pair at the bounds' largest value.

Why it holds. The scorer's bound of pair ``(i, j)`` is ``b_ij = sum_t L_it R_tj + T_k(i)j +
S_ij`` (the row and mentor factors, the row's group's entry of the table, the stated pairs;
``-BIG`` where a rule removes the pair), and every eligible exact score is ``s_ij <= B_ij +
margin``, ``B_ij`` that sum in exact arithmetic on the stored float32 factors (the scorer's
``margin`` covers rounding the factors to float32 and the float32 sums; only the first part is
used here). For any set ``J`` of mentors the largest of a sum is at most the sum of the largest::

    max_{j in J} B_ij <= sum_t L_it (max_J R_tj if L_it >= 0 else min_J R_tj)
                         + max_J T_k(i)j + max(0, max_J S_ij)

(``S_ij`` is 0 off the stated pairs, so ``max(0, .)`` of the stated entries bounds it). The
float64 sum of the ``d + 3`` terms (products of float32 numbers) is off by at most about
``(d + 3) 2**-53`` times the sum of their sizes, each at most ``|L_it| max(|max_J R_tj|, |min_J
R_tj|)``: :func:`row_ceilings` adds four times that. So ``s_ij <= row_ceilings(...)[i]`` for every eligible pair with ``j in J``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["row_ceilings"]

#: Rows of the factors copied to float64 at a time.
ROWS = 8192


def row_ceilings(scorer, cols: np.ndarray | None = None) -> np.ndarray | None:
    """Per internal row of ``scorer``, a number at least the exact score of each of its eligible
    pairs with the mentors ``cols`` (bool per mentor of the view; None: all): see the module
    docstring; with a bonus folded in (:class:`~mentormatch.solvers.bonus.BonusBounds`), that
    ceiling with the row's bonus (:func:`_with_bonus`). None for another view (a threshold
    folded in): the caller then keeps the bounds' largest value.

    >>> from mentormatch import synthetic
    >>> from mentormatch.features import Context
    >>> from mentormatch.pipeline import prepare
    >>> from mentormatch.scale import BIG, bounded_scorer
    >>> mentors, mentees = synthetic.organisation(n_mentees=40, n_mentors=12, seed=1)
    >>> p = prepare(mentors, mentees)
    >>> sc = bounded_scorer(p.data["mentees"], p.data["mentors"], p.data["rules"],
    ...                     Context(framework=p.data["framework"]), p.mentee_ids, p.mentor_ids)
    >>> up = sc.upper(0, sc.n).astype(float)
    >>> best = np.where(up > -BIG / 2, up, -np.inf).max(axis=1) + sc.margin  # a whole pass
    >>> ceil = row_ceilings(sc)  # no pass
    >>> bool(np.all(ceil >= best)), bool(np.all(ceil < sc.largest + sc.margin))
    (True, True)
    """
    from ...scale import BoundedScorer
    from ..bonus import BonusBounds

    view = getattr(scorer, "view", scorer)  # (a remote.SentOnce: the view it sends)
    if type(view) is BonusBounds:
        return _with_bonus(view, cols)
    if type(view) is not BoundedScorer:
        return None
    keep = np.ones(view.m, bool) if cols is None else np.asarray(cols, bool)
    if not keep.any():
        return np.full(view.n, -np.inf)
    right = np.asarray(view.right_t, np.float64)[:, keep]
    hi, lo = right.max(axis=1), right.min(axis=1)
    size = np.maximum(np.abs(hi), np.abs(lo))
    terms, sizes = np.empty(view.n), np.empty(view.n)
    for a in range(0, view.n, ROWS):  # (float64 copies of a few rows at a time)
        left = np.asarray(view.left[a:a + ROWS], np.float64)
        up = np.maximum(left, 0.0)
        terms[a:a + ROWS] = up @ hi + (left - up) @ lo
        sizes[a:a + ROWS] = np.abs(left) @ size
    cols_ = np.flatnonzero(keep) if view.table_cols is None else np.asarray(view.table_cols)[keep]
    step = max(1, (1 << 22) // max(len(cols_), 1))  # (a few groups at a time: max is exact in float32)
    group = np.concatenate([view.table[g:g + step][:, cols_].max(axis=1)
                            for g in range(0, len(view.table), step)]).astype(np.float64)[view.key_sorted]
    stated = np.zeros(view.n)
    if view.stated.nnz:
        st = view.stated if keep.all() else view.stated.tocsc()[:, np.flatnonzero(keep)].tocsr()
        rows = np.flatnonzero(np.diff(st.indptr) > 0)
        if len(rows):
            stated[rows] = np.maximum.reduceat(np.asarray(st.data, np.float64), st.indptr[rows])
        stated = np.maximum(stated, 0.0)
    guard = 4 * (view.left.shape[1] + 3) * 2.0 ** -53 * (sizes + np.abs(group) + stated)
    return terms + group + stated + guard + view.margin


def _with_bonus(view, cols: np.ndarray | None) -> np.ndarray | None:
    """:func:`row_ceilings` of a :class:`~mentormatch.solvers.bonus.BonusBounds` (a bonus
    folded in): a pair scores ``a_i s_ij + per_i + pm_j + v_ij`` (``a_i >= 0`` the row's scale,
    1 without one; ``v`` the listed pairs' values, 0 elsewhere), so the base's ceiling ``c_i``
    gives ``a_i c_i + per_i + max_J pm_j + max(0, max_J v_ij)`` (float64 sums of four terms,
    four times their rounding added)."""
    base = row_ceilings(view.base, cols)
    if base is None:
        return None
    keep = np.ones(view.m, bool) if cols is None else np.asarray(cols, bool)
    mentee = np.asarray(view.base.order, np.int64)
    scaled = base if view.scale is None else view.scale[mentee] * base
    shift = view._shift()
    top = 0.0 if shift is None or not keep.any() else float(np.max(shift[keep]))
    listed = np.zeros(view.n)
    on = (view.lc >= 0) & (view.lr >= 0)
    on[on] &= keep[view.lc[on]]
    np.maximum.at(listed, view.lr[on], view.lv[on])
    per = view.per[mentee]
    guard = 4 * 4 * 2.0 ** -53 * (np.abs(scaled) + np.abs(per) + abs(top) + listed)
    return scaled + per + top + listed + guard


def mentor_ceilings(view, q, mm: np.ndarray, vv: np.ndarray) -> np.ndarray:
    """Each mentor's ceiling over the rows a pass scanned (``-inf``: none eligible there), from
    its best value ``vv`` (mentors ``mm``, each's first the largest; ``q`` the pass's
    :class:`.passes._ScanSpec`): at least the exact score of each of its pairs there that the
    pass did not set to ``-inf`` (the locks, dead rows). For a stop's bounds on bounds with no
    pass after it (:func:`mentormatch.solvers.fair_claims.source_claims`); beside the row
    ceilings above, the mentors' side from what a pass saw.

    Why it holds: every pair's value is its float32 bound ``U`` less the price taken off
    (``L_j``: the price, or at a lift's ``t = -inf`` the lifted one), within ``delta = 8 *
    2**-24 (largest + |L_j|)`` (a few float32 roundings of numbers of those sizes, whichever
    route the block took), at most the mentor's best value; and a score is at most ``U +
    margin``. Not the ``k``-th best's bound: a block gives each mentor only its best row."""
    lift = getattr(view, "lift", None)
    taken = q.lifted if lift is not None and lift[0] == -np.inf else q.p32  # (else p >= p - w)
    first = np.r_[True, mm[1:] != mm[:-1]] if len(mm) else np.zeros(0, bool)
    out = np.full(view.m, -np.inf)
    j, L = mm[first], taken[mm[first]].astype(np.float64)
    out[j] = vv[first].astype(np.float64) + L + 8 * 2.0 ** -24 * (float(view.largest) + np.abs(L)) + view.margin
    return out
