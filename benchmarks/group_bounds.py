"""Would group bounds shrink the bounded first pass? An oracle measurement, no solver change.

The first pass of the bounded solve (:mod:`mentormatch.solvers.bounded.passes`) computes
``b_ij - p_j`` for every pair and keeps each mentee's 64 best (its pool) and ``floor_i``, the
64th best. A bound per (mentee, group of mentors) ``B_iG >= max_{j in G} b_ij - p_j`` would let
it skip every group with ``B_iG < floor_i``: the pool and the floor are unchanged, since every
skipped pair is below the floor. This script measures the share of pairs that would still be
computed with the best possible threshold, the row's exact ``floor_i`` (a real pass knows less),
on the first pass of one ``pair()`` call (its scorer and prices, captured)::

    B_iG = max(L_i, 0) @ max_G R + min(L_i, 0) @ min_G R + max_{j in G} (table[key_i, j] - p_j)
           + max(0, the row's largest stated term) + 1e-4

(float64 interval arithmetic over the mentors' factors; checked >= every ``b_ij - p_j`` of the
sample). Groups: k-means (scipy ``kmeans2``) of the mentors' factors weighted by the mean mentee
factor, with the groups table's largest entry and ``col - price``.

    python benchmarks/group_bounds.py 100000x20000:5 --rows 300 --groups 4 8 16

Session 21 (s21h1), 100,000 x 20,000, the pass's prices: 48 % of the pairs at groups of 4,
73 % at 8, 95 % at 16; the mentors' factors are 65 one-hot columns (personality bins,
competencies) and no two mentors of the 20,000 share them all, so a group's bound takes the
union of its members' columns. Not a lever on this data.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def first_pass_inputs(n: int, m: int, c: int, seed: int = 1):
    """The bounded scorer and the first pass's prices (+inf for a mentor with no room) of one
    ``pair()`` call on the synthetic organisation, captured from the solve at the top."""
    import mentormatch as mm
    from mentormatch import synthetic
    from mentormatch.solvers import bounded

    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    mentors["capacity"] = c
    seen = {}
    first_pass = bounded._first_pass

    def capture(scorer, pass_price, later, size, mentor_k, cap, *args, **kw):
        if scorer.n == n and "scorer" not in seen:
            price = np.zeros(scorer.m) if pass_price is None else np.asarray(pass_price, float)
            seen.update(scorer=scorer, price=np.where(cap > 0, price, np.inf), size=size)
        return first_pass(scorer, pass_price, later, size, mentor_k, cap, *args, **kw)

    bounded._first_pass = capture
    try:
        mm.pair(mentors, mentees, {"time_limit": 7200.0})
    finally:
        bounded._first_pass = first_pass
    return seen["scorer"], seen["price"], seen["size"]


def computed_share(scorer, price, rows: np.ndarray, group_size: int, pool: int = 64, seed: int = 1) -> float:
    """The share of the pairs of ``rows`` in a group whose bound reaches the row's ``pool``-th
    best ``b - p`` (those a pass with group bounds would still compute)."""
    from scipy.cluster.vq import kmeans2

    s = np.vstack([scorer.subset(rows=rows[a:a + 200]).upper(0, len(rows[a:a + 200]))
                   for a in range(0, len(rows), 200)]).astype(np.float64) - price
    floor = np.sort(s, axis=1)[:, -pool]
    right = scorer.right_t.astype(np.float64)
    left = scorer.left[rows].astype(np.float64)
    table = scorer.table.astype(np.float64)
    finite = np.where(np.isfinite(price), price, np.nanmax(np.where(np.isfinite(price), price, np.nan)))
    x = np.hstack([right[:-2].T * left[:, :-2].mean(axis=0), (table.max(axis=0) - table.max(axis=0).mean())[:, None] / 3,
                   3 * (right[-1] - finite)[:, None]])
    _, label = kmeans2(x, scorer.m // group_size, iter=4, seed=seed, minit="points")
    groups = [g for g in (np.flatnonzero(label == k) for k in range(label.max() + 1)) if len(g)]
    r_max = np.stack([right[:, g].max(axis=1) for g in groups], axis=1)
    r_min = np.stack([right[:, g].min(axis=1) for g in groups], axis=1)
    t_max = np.stack([(table[:, g] - np.where(np.isinf(price[g]), 1e30, price[g])).max(axis=1) for g in groups], axis=1)
    stated = scorer.stated[rows]
    s_max = np.maximum(stated.max(axis=1).toarray().ravel(), 0) if stated.nnz else np.zeros(len(rows))
    bound = (np.maximum(left, 0) @ r_max + np.minimum(left, 0) @ r_min + t_max[scorer.key_sorted[rows]]
             + s_max[:, None] + 1e-4)
    for k, g in enumerate(groups):  # the bound holds on every pair of the sample
        assert (s[:, g].max(axis=1) <= bound[:, k] + 1e-9).all()
    sizes = np.array([len(g) for g in groups])
    return float(((bound >= floor[:, None]) * sizes).sum() / (len(rows) * scorer.m))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", help="NxM:C (mentees x mentors : capacity)")
    ap.add_argument("--rows", type=int, default=300, help="mentees sampled")
    ap.add_argument("--groups", type=int, nargs="+", default=[4, 8, 16], help="mentors a group")
    args = ap.parse_args(argv)
    nm, c = args.size.split(":")
    n, m = (int(v) for v in nm.split("x"))
    scorer, price, size = first_pass_inputs(n, m, int(c))
    rows = np.sort(np.random.default_rng(0).choice(scorer.n, min(args.rows, scorer.n), replace=False))
    for g in args.groups:
        print(f"{n}x{m}: groups of {g}: {computed_share(scorer, price, rows, g, size):.3f} of the pairs computed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
