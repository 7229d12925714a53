"""Each row's ceiling without a pass over its pairs: a number at least every eligible exact score
of a row of a :class:`mentormatch.scale.BoundedScorer` against a set of mentors, from the
scorer's factors alone (``O(n d + groups x m)``, no bound of any pair computed). For the rows a
first pass cut short never scanned (:func:`mentormatch.solvers.bounded._stopped_early`), which
otherwise count every pair at the bounds' largest value.

Why it holds. The scorer's bound of pair ``(i, j)`` is ``b_ij = sum_t L_it R_tj + T_k(i)j +
S_ij`` (the row and mentor factors, the row's group's entry of the table, the stated pairs;
``-BIG`` where a rule removes the pair), and every eligible exact score is ``s_ij <= B_ij +
margin``, ``B_ij`` that sum in exact arithmetic on the stored float32 factors (the scorer's
``margin`` covers rounding the factors to float32 and the float32 sums; only the first part is
used here). For any set ``J`` of mentors the largest of a sum is at most the sum of the largest::

    max_{j in J} B_ij <= sum_t L_it (max_J R_tj if L_it >= 0 else min_J R_tj)
                         + max_J T_k(i)j + max(0, max_J S_ij)

(``S_ij`` is 0 off the stated pairs, so ``max(0, .)`` of the stated entries bounds it). Each
product of two float32 numbers is exact in float64, and the float64 sum of the ``d + 3`` terms
is off by at most ``(d + 3) 2**-53`` times their sizes' sum: :func:`row_ceilings` adds four
times that. So ``s_ij <= row_ceilings(...)[i]`` for every eligible pair with ``j in J``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["row_ceilings"]


def row_ceilings(scorer, cols: np.ndarray | None = None) -> np.ndarray | None:
    """Per internal row of ``scorer``, a number at least the exact score of each of its eligible
    pairs with the mentors ``cols`` (bool per mentor of the view; None: all): see the module
    docstring. None for a view whose bounds are not the scorer's own sum (a bonus or a
    threshold folded in): the caller then keeps the bounds' largest value.

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

    view = getattr(scorer, "view", scorer)  # (a remote.SentOnce: the view it sends)
    if type(view) is not BoundedScorer:
        return None
    keep = np.ones(view.m, bool) if cols is None else np.asarray(cols, bool)
    if not keep.any():
        return np.full(view.n, -np.inf)
    left = np.asarray(view.left, np.float64)
    right = np.asarray(view.right_t, np.float64)[:, keep]
    terms = np.where(left >= 0, left * right.max(axis=1), left * right.min(axis=1))
    table = view.table if view.table_cols is None else view.table[:, view.table_cols]
    group = np.asarray(table[:, keep], np.float64).max(axis=1)[view.key_sorted]
    stated = np.zeros(view.n)
    if view.stated.nnz:
        st = view.stated.tocsc()[:, np.flatnonzero(keep)].tocsr()
        rows = np.flatnonzero(np.diff(st.indptr) > 0)
        if len(rows):
            stated[rows] = np.maximum.reduceat(np.asarray(st.data, np.float64), st.indptr[rows])
        stated = np.maximum(stated, 0.0)
    sizes = np.abs(terms).sum(axis=1) + np.abs(group) + stated
    guard = 4 * (left.shape[1] + 3) * 2.0 ** -53 * sizes
    return terms.sum(axis=1) + group + stated + guard + view.margin
