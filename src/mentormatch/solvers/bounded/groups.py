"""The mentor groups of the bounds checker's floors (:mod:`.groupcheck`): each row of a pool keeps,
beside its one floor, the largest ``bound - price`` outside its pool for each group of mentors,
so that a check after prices moved by one shift per group clears a row group by group.

Why: a flow's prices move away from the sub-market's that ranked the pools mostly by one shift
per city (s27h4, 100,000 x 20,000, round 1: ``p - g`` has std 0.071, 0.037 within a city; city
means from -0.13 to +0.25), which one floor a row cannot absorb: 27,605 rows scanned in full,
683 M bound pairs. Measured offline, a floor per (row, city) needed 15.8 M.

**The rule** (generic: no column is named). The scorer's keyed terms (the bound's terms that
depend on a key of the mentee and on the mentor: geography's locations, experience's classes)
each group the mentors by their column of the term's table (``BoundedScorer.keyed_mentors``).
The groups are the patterns of all such terms together when they are at most :data:`MAX_GROUPS`,
else those of the term with the largest spread (largest less smallest entry) among the terms
with 2 to :data:`MAX_GROUPS` patterns (at 100,000 x 20,000: geography's 51 cities; with
experience's classes, 6,293 patterns together), else a seeded k-means of the mentors' columns of
the scorer's combined keyed table into at most :data:`MAX_GROUPS` (Lloyd's, on a random projection
to :data:`PROJECTION` dimensions, weighted by the patterns' mentors, the first centres the largest
patterns). Any partition is correct (each group's floor bounds its mentors' pairs outside the
pool); a good one only makes the check cheaper. A scorer without keyed terms, or with a single
pattern, has one group: the checker's single-floor path (:mod:`.check`).

**The pass's order** (:class:`GroupOrder`). A pass with floors per group takes each row's
largest entry outside its pool per group; in the mentors' own order that is a scatter of every
entry to its group's maximum (``mm_group_max``, 0.40 ns an entry on one core here, about 0.5
ns a pair of a 2.2 ns block at 100,000 x 20,000: 1 s CPU of the top level's first pass). Where
a bound's entry does not depend on its column's place (:func:`group_order`), the pass computes
its blocks with the mentors sorted by group instead, and each group's floor is the maximum of a
contiguous range (``mm_range_max``, 0.05 ns an entry); the kernel keeps the pools by mentor
(ties to the lower mentor), so the pools, floors and mentors' best rows are the same arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: At most this many mentor groups: an (n x G) float32 table of floors (100,000 x 64: 26 MB).
MAX_GROUPS = 64
#: The keyed table's columns are clustered on this many random projections.
PROJECTION = 32
#: Lloyd iterations of the clustering.
ITERATIONS = 8
#: A group's floor is at least the row's floor less this share of the bounds' ``largest`` (the
#: pass then reads one by one only the chunks of a row with an entry above it); ``inf``: exact.
DEPTH = np.inf


@dataclass(frozen=True)
class Groups:
    """Each mentor's group (``of``, int32, one a mentor of the scorer or view) among ``count``,
    and the pass's ``depth`` (a group's floor is at least the row's floor less it)."""

    of: np.ndarray
    count: int
    depth: float = float(DEPTH)

    def subset(self, cols: np.ndarray | None) -> "Groups":
        """The groups of the mentors ``cols`` of a view (None: all)."""
        return self if cols is None else Groups(self.of[cols], self.count, self.depth)


@dataclass(frozen=True)
class GroupOrder:
    """A pass's columns in mentor group order: column ``t`` of ``view`` is mentor ``perm[t]``
    (by group, then mentor), mentor ``j`` is column ``inv[j]``, group ``g`` the columns
    ``starts[g]:starts[g + 1]``; ``p32``, the pass's prices in that order."""

    perm: np.ndarray
    inv: np.ndarray
    starts: np.ndarray
    view: object
    p32: np.ndarray


#: A pass takes its columns in group order from this many rows: the reordered scorer (a copy of
#: its mentors' factors, codes and sparse pairs) took 15 ms CPU at 100,000 x 20,000, what the
#: order saves on 2,000 rows (0.4 ns a pair).
ORDER_ROWS = 2_000


def group_order(view, groups: Groups | None, p32: np.ndarray) -> GroupOrder | None:
    """The group order of a pass over ``view`` with ``groups`` (None: none), where it gives the
    same bounds: a :class:`~mentormatch.scale.BoundedScorer` whose product is its coded groups
    and at most one other column (an element-wise product: each entry's floats do not depend
    on its column's place, as a BLAS product's might); else None."""
    from ...scale import BoundedScorer

    if (groups is None or type(view) is not BoundedScorer or view.codes is None or len(view.rest_cols) > 1
            or view.n < ORDER_ROWS):
        return None
    perm = np.argsort(groups.of, kind="stable")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    starts = np.searchsorted(groups.of[perm], np.arange(groups.count + 1)).astype(np.int64)
    return GroupOrder(perm, inv, starts, view.subset(cols=perm), np.ascontiguousarray(p32[perm]))


def mentor_groups(scorer, most: int = MAX_GROUPS) -> Groups | None:
    """The groups of ``scorer``'s mentors by the rule of the module docstring; None where there
    is one group (no keyed term, a single pattern, or ``most`` below 2)."""
    if most < 2 or scorer.m < 2:
        return None
    index = getattr(scorer, "mentor_index", None)  # (a view of some mentors)
    terms = [(ids if index is None else ids[index], spread)
             for ids, count, spread in getattr(scorer, "keyed_mentors", [])
             if 2 <= count]
    of = None
    if terms:
        _, both = np.unique(np.column_stack([ids for ids, _ in terms]), axis=0, return_inverse=True)
        if both.max() + 1 <= most:
            of = both.reshape(-1)
        else:
            few = [(spread, ids) for ids, spread in terms if len(np.unique(ids)) <= most]
            if few:
                of = max(few, key=lambda t: t[0])[1]
    if of is None:
        of = _clustered(scorer, most)
    if of is None:
        return None
    used, of = np.unique(of, return_inverse=True)
    return None if len(used) < 2 else Groups(of.reshape(-1).astype(np.int32), int(len(used)))


def _clustered(scorer, most: int) -> np.ndarray | None:
    """The mentors' k-means clusters (at most ``most``) by their columns of the scorer's keyed
    table (the rule's last resort), or None without a table of two keys."""
    table = getattr(scorer, "table", None)
    if table is None or table.shape[0] < 2:
        return None
    rng = np.random.default_rng(0)
    proj = rng.standard_normal((PROJECTION, table.shape[0]))
    x = (proj @ np.where(table > -1e19, table, 0.0).astype(np.float64)).T  # (mentors, PROJECTION)
    cols = getattr(scorer, "table_cols", None)
    if cols is not None:
        x = x[cols]
    pat, inv, weight = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    if len(pat) < 2:
        return None
    k = min(most, len(pat))
    centres = pat[np.argsort(-weight, kind="stable")[:k]].copy()
    label = np.zeros(len(pat), np.int64)
    for _ in range(ITERATIONS):
        d = (pat ** 2).sum(1)[:, None] - 2 * pat @ centres.T + (centres ** 2).sum(1)[None, :]
        label = np.argmin(d, axis=1)
        w = np.bincount(label, weights=weight, minlength=k)
        for c in range(pat.shape[1]):
            s = np.bincount(label, weights=weight * pat[:, c], minlength=k)
            centres[:, c] = np.where(w > 0, s / np.maximum(w, 1), centres[:, c])
    return label[inv.reshape(-1)]
